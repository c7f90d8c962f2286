/* Streaming body encoder for DATA and BDAT.
 *
 * Whatever the caller's line endings, the wire gets CRLF only: a bare LF or a
 * bare CR becomes CRLF, so no bare CR or LF can reach the server (the root of
 * SMTP smuggling). For DATA every line-initial '.' is doubled and exactly one
 * "\r\n.\r\n" ends the body. State carries across chunk boundaries, so any
 * split of the input gives the same bytes. */
#ifndef SMTP_BODY_ENCODER_H
#define SMTP_BODY_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct smtp_body_encoder {
    int dot_stuff;        /* 1 for DATA, 0 for BDAT */
    int at_line_start;    /* next byte begins a line */
    int pending_cr;       /* last input byte was CR; its LF may come in the next chunk */
    uint64_t bytes_in;    /* caller bytes consumed */
    uint64_t bytes_out;   /* bytes produced (without the DATA end marker) */
} smtp_body_encoder;

void smtp_body_encoder_init(smtp_body_encoder *e, int dot_stuff);

/* Encode a chunk, appending to out. Returns 0 or -1 on out of memory. */
int smtp_body_encoder_write(smtp_body_encoder *e, const char *data, size_t n, sc_buf *out);

/* Finish: end the last line with CRLF if it lacks one, and for DATA append
 * the ".\r\n" end marker. */
int smtp_body_encoder_finish(smtp_body_encoder *e, sc_buf *out);

#endif
