/* SMTP reply parser (RFC 5321 section 4.2), without I/O.
 *
 * Feed it whatever bytes arrived; take complete replies out one at a time.
 * A reply is one or more lines "NNN-text" ending with "NNN text" (or a bare
 * "NNN"). Limits are hard: a line longer than SMTP_REPLY_MAX_LINE or a reply
 * with more than SMTP_REPLY_MAX_LINES lines is a protocol error, detected as
 * soon as the bytes arrive, so a hostile server cannot make us buffer more
 * than about one line. Errors are sticky, as in hiredis's reader. */
#ifndef SMTP_REPLY_H
#define SMTP_REPLY_H

#include <stddef.h>

#include "util/buf.h"

/* RFC 5321 allows 512 octets per reply line; real servers send longer
 * EHLO and error lines, so allow 8 times that. */
#define SMTP_REPLY_MAX_LINE 4096
#define SMTP_REPLY_MAX_LINES 512

typedef struct smtp_reply {
    int code;            /* 200..599 */
    char enhanced[16];   /* "5.1.1" if the first line starts with one, else "" */
    sc_buf text;         /* the lines after "NNN-"/"NNN ", joined by '\n', NUL-terminated */
    size_t n_lines;
} smtp_reply;

void smtp_reply_init(smtp_reply *r);
void smtp_reply_free(smtp_reply *r);
/* Text as a C string ("" when empty). */
const char *smtp_reply_text(const smtp_reply *r);

typedef struct smtp_reply_parser {
    sc_buf in;           /* unconsumed input */
    size_t scanned;      /* bytes of `in` already known to hold no line end */
    smtp_reply cur;      /* reply being assembled */
    int have_cur;
    char err[128];       /* non-empty after a protocol error (sticky) */
} smtp_reply_parser;

void smtp_reply_parser_init(smtp_reply_parser *p);
void smtp_reply_parser_free(smtp_reply_parser *p);

/* Add received bytes. Returns 0, or -1 on error (see p->err). */
int smtp_reply_parser_feed(smtp_reply_parser *p, const char *data, size_t len);

/* Take the next complete reply into *out (which must be initialised; its old
 * content is replaced). Returns 1 if a reply was produced, 0 if more bytes are
 * needed, -1 on a protocol error. */
int smtp_reply_parser_next(smtp_reply_parser *p, smtp_reply *out);

/* Bytes received but not yet part of a returned reply. */
size_t smtp_reply_parser_pending(const smtp_reply_parser *p);

/* Throw away buffered input (after STARTTLS: nothing sent before the
 * handshake may be trusted). */
void smtp_reply_parser_discard(smtp_reply_parser *p);

#endif
