/* DKIM signing (RFC 6376; Ed25519 per RFC 8463), streaming.
 *
 * The body is fed in chunks as it is produced (CRLF line endings, as it
 * will be on the wire before dot-stuffing); the body hash is computed while
 * streaming. Then the header block is signed and the DKIM-Signature field
 * returned, to be put in front of the message. */
#ifndef DKIM_DKIM_H
#define DKIM_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "smtpcore.h"
#include "util/buf.h"

typedef enum dkim_canon { DKIM_CANON_RELAXED = 0, DKIM_CANON_SIMPLE = 1 } dkim_canon;

typedef struct dkim_options {
    const char *domain;        /* d= */
    const char *selector;      /* s= */
    const char *key_pem;       /* private key, PEM (RSA >= 1024 bits, or Ed25519); algorithm follows the key */
    size_t key_len;
    dkim_canon header_canon;   /* default relaxed */
    dkim_canon body_canon;     /* default relaxed */
    const char *const *headers;/* field names to sign (h=); NULL: a sensible default list. From is always signed. */
    size_t n_headers;
    const char *identity;      /* i=, optional */
    uint64_t timestamp;        /* t=, 0 to omit */
    uint64_t expire_after;     /* x= = t + this, 0 to omit */
} dkim_options;

typedef struct dkim_signer dkim_signer;

/* Validates the options and loads the key; usage error on a bad key, domain or selector. */
dkim_signer *dkim_signer_new(const dkim_options *opts, smtpcore_error *err);
void dkim_signer_free(dkim_signer *s);

/* Feed the message body (everything after the blank line that ends the header). */
int dkim_signer_body(dkim_signer *s, const char *data, size_t n);

/* Sign: headers is the complete header block as it will be sent (CRLF lines,
 * without the empty line). Appends "DKIM-Signature: ..." folded, ending in CRLF. */
int dkim_signer_finish(dkim_signer *s, const char *headers, size_t len, sc_buf *out, smtpcore_error *err);

#endif
