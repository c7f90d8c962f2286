/* Header fields as bytes: RFC 5322 folding, RFC 2047 encoded-words for
 * non-ASCII text, RFC 2231 parameters.
 *
 * Every function appends one complete header field ending in CRLF to out.
 * Lines are folded at whitespace to stay within 78 octets where possible and
 * never exceed 998. Values are UTF-8; CR, LF or NUL in any value or name is a
 * usage error (nothing is appended), so no value can start a new header.
 * utf8_ok: the transport has SMTPUTF8 (RFC 6532), so UTF-8 may appear raw
 * instead of encoded-words. */
#ifndef MIME_HEADER_ENCODE_H
#define MIME_HEADER_ENCODE_H

#include <stddef.h>

#include "smtpcore.h"
#include "util/buf.h"

/* 1 if name is a valid field name (printable ASCII except ':' and space, 1..76 chars). */
int mime_header_name_ok(const char *name);

/* "Name: value" for unstructured text (Subject, Comments, custom headers):
 * ASCII stays as is; non-ASCII words become encoded-words (UTF-8, B or Q
 * whichever is shorter, never splitting a character, each word at most 75
 * octets). Invalid UTF-8 is a usage error. */
int mime_header_unstructured(sc_buf *out, const char *name, const char *value, size_t len, int utf8_ok,
                             smtpcore_error *err);

/* A header whose value must go as is (already structured: Message-ID,
 * Date, MIME-Version, In-Reply-To, References, List-Unsubscribe); only folded.
 * Refuses non-ASCII unless utf8_ok. */
int mime_header_raw(sc_buf *out, const char *name, const char *value, smtpcore_error *err);

/* One mailbox in header form, appended to out (no CRLF): the display name as
 * atom(s), quoted-string or encoded-words as needed, then "<addr_spec>"; just
 * the addr_spec when there is no display name. */
int mime_format_mailbox(sc_buf *out, const char *display_name, const char *addr_spec, int utf8_ok,
                        smtpcore_error *err);

typedef struct mime_addr_item {
    const char *display_name; /* UTF-8 or NULL */
    const char *addr_spec;    /* local@domain, already in the form to send */
} mime_addr_item;

/* "To: A <a@x>, b@y, ..." folded between mailboxes. */
int mime_header_address_list(sc_buf *out, const char *name, const mime_addr_item *items, size_t n, int utf8_ok,
                             smtpcore_error *err);

typedef struct mime_param {
    const char *name;   /* "filename", "charset", "boundary", "method", ... (ASCII token) */
    const char *value;  /* UTF-8 */
} mime_param;

/* "Content-Disposition: attachment; filename=..." with each parameter as a
 * token or quoted-string (quotes and backslashes escaped) when ASCII, and as
 * RFC 2231 extended parameters (name*=UTF-8''%xx, with name*0*= continuations
 * for long values) when not, plus a plain name="..." fallback with an
 * RFC 2047 encoded-word for old clients when the parameter is filename or name. */
int mime_header_with_params(sc_buf *out, const char *name, const char *value, const mime_param *params, size_t n,
                            int utf8_ok, smtpcore_error *err);

#endif
