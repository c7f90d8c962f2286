/* Content transfer encodings (RFC 2045) as streaming encoders, and the
 * choice between them.
 *
 * Each encoder takes input in chunks of any size and appends encoded bytes
 * to an sc_buf; the output is identical whatever the chunking. Each has an
 * exact size function so a message's size is known before it is sent. */
#ifndef MIME_ENCODERS_H
#define MIME_ENCODERS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum mime_cte {
    MIME_CTE_7BIT,
    MIME_CTE_8BIT,
    MIME_CTE_QUOTED_PRINTABLE,
    MIME_CTE_BASE64
} mime_cte;

const char *mime_cte_name(mime_cte c); /* "7bit", "8bit", "quoted-printable", "base64" */

/* What a piece of content looks like, from one pass over it (or chunk by chunk). */
typedef struct mime_scan {
    uint64_t bytes;
    uint64_t non_ascii;      /* bytes >= 0x80 */
    uint64_t controls;       /* NUL and control bytes other than CR, LF, TAB */
    uint64_t lines;
    uint64_t longest_line;   /* octets, without the line end */
    int bare_cr_or_lf;       /* line ends other than CRLF or LF */
    int valid_utf8;          /* so far */
    /* internal state for chunked scanning */
    uint64_t cur_line;
    int utf8_need;
    unsigned char last;
} mime_scan;

void mime_scan_init(mime_scan *s);
void mime_scan_update(mime_scan *s, const void *data, size_t n);
void mime_scan_finish(mime_scan *s);

/* The encoding to use. is_text: a text type whose line breaks may be
 * normalised to CRLF. allow_8bit: the transport has 8BITMIME.
 * Text: 7bit if ASCII with lines <= 998; else 8bit if allowed, valid UTF-8,
 * no controls and lines <= 998; else quoted-printable if mostly ASCII
 * (non-ASCII under ~17%), else base64. Non-text: base64, or 7bit when it is
 * short-lined ASCII text without controls. */
mime_cte mime_choose_cte(const mime_scan *s, int is_text, int allow_8bit);

/* Base64 with 76-character lines ending CRLF (the last line too). */
typedef struct mime_b64_enc {
    unsigned char pending[3];
    size_t npending;
    size_t col;
} mime_b64_enc;
void mime_b64_enc_init(mime_b64_enc *e);
int mime_b64_enc_update(mime_b64_enc *e, const void *data, size_t n, sc_buf *out);
int mime_b64_enc_finish(mime_b64_enc *e, sc_buf *out);
uint64_t mime_b64_encoded_size(uint64_t n);

/* Quoted-printable (RFC 2045 6.7) for text: line breaks (CRLF, LF or CR)
 * become CRLF, lines are soft-broken at 76, '=' and non-ASCII and controls
 * are =XX, trailing space/tab before a line break is encoded, and a line
 * starting with '.' or "From " has that first character encoded, so the body
 * survives dot-stuffing-unaware relays and mbox. */
typedef struct mime_qp_enc {
    size_t col;               /* characters on the current encoded line */
    unsigned char hold[8];    /* input bytes waiting for lookahead (at most 5) */
    size_t nhold;
    int pending_cr;           /* the last input byte was CR: a LF right after belongs to it */
} mime_qp_enc;
void mime_qp_enc_init(mime_qp_enc *e);
int mime_qp_enc_update(mime_qp_enc *e, const void *data, size_t n, sc_buf *out);
int mime_qp_enc_finish(mime_qp_enc *e, sc_buf *out);
/* Exact encoded size of data (same result as running the encoder). */
uint64_t mime_qp_encoded_size(const void *data, size_t n);

/* 7bit/8bit text: line breaks normalised to CRLF; a final CRLF added if missing. */
typedef struct mime_text_enc {
    int pending_cr;
    int at_line_start;
} mime_text_enc;
void mime_text_enc_init(mime_text_enc *e);
int mime_text_enc_update(mime_text_enc *e, const void *data, size_t n, sc_buf *out);
int mime_text_enc_finish(mime_text_enc *e, sc_buf *out);
uint64_t mime_text_encoded_size(const void *data, size_t n);

/* Content type for a file name by its extension ("report.PDF" ->
 * "application/pdf"); "application/octet-stream" when unknown. */
const char *mime_type_for_filename(const char *filename);

#endif
