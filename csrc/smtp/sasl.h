/* SASL client mechanisms for SMTP AUTH (RFC 4954), without I/O.
 *
 * The engine asks for the initial response, then hands every 334 challenge to
 * smtp_sasl_step() and sends back what it returns. Responses and challenges
 * are base64 text as they appear on the wire. Secrets are wiped on free. */
#ifndef SMTP_SASL_H
#define SMTP_SASL_H

#include <stddef.h>

#include "smtpcore.h"

typedef enum smtp_sasl_mech {
    SMTP_SASL_NONE = 0,
    SMTP_SASL_LOGIN,
    SMTP_SASL_PLAIN,
    SMTP_SASL_CRAM_MD5,
    SMTP_SASL_SCRAM_SHA_256,
    SMTP_SASL_XOAUTH2
} smtp_sasl_mech;

/* "PLAIN" -> SMTP_SASL_PLAIN (case-insensitive); SMTP_SASL_NONE if unknown. */
smtp_sasl_mech smtp_sasl_mech_from_name(const char *name);
const char *smtp_sasl_mech_name(smtp_sasl_mech m);

/* Pick the strongest mechanism from a server's AUTH list (space separated
 * names, as in "AUTH PLAIN LOGIN CRAM-MD5") that the credentials allow:
 * with a token only XOAUTH2; with a password SCRAM-SHA-256 > CRAM-MD5 > PLAIN > LOGIN
 * (PLAIN and LOGIN are equal in strength; PLAIN takes one round trip less).
 * SMTP_SASL_NONE if nothing fits. */
smtp_sasl_mech smtp_sasl_choose(const char *offered, int have_password, int have_token);

/* 1 if mechanism m is named in the offered list. */
int smtp_sasl_offered(const char *offered, smtp_sasl_mech m);

typedef struct smtp_sasl smtp_sasl;

/* secret is the password, or the bearer token for XOAUTH2. */
smtp_sasl *smtp_sasl_new(smtp_sasl_mech m, const char *user, const char *secret, smtpcore_error *err);
void smtp_sasl_free(smtp_sasl *s);

/* Initial response to send with "AUTH <MECH> <ir>": *out is a malloc'd
 * base64 string ("=" for an empty one), or NULL when the mechanism starts
 * without one (LOGIN, CRAM-MD5). Returns 0 or -1. */
int smtp_sasl_initial(smtp_sasl *s, char **out, smtpcore_error *err);

/* Answer a 334 challenge (the base64 text after "334 ", may be empty).
 * *out is a malloc'd base64 response ("" for an empty line). -1 with an AUTH
 * or PROTOCOL error when the challenge is malformed or the server's proof is
 * wrong (SCRAM server signature). */
int smtp_sasl_step(smtp_sasl *s, const char *challenge, size_t len, char **out, smtpcore_error *err);

/* Call on 235. For SCRAM, fails unless the server's signature was received
 * and verified (a server that skips it could be an impostor). */
int smtp_sasl_finish(smtp_sasl *s, smtpcore_error *err);

/* For XOAUTH2 failures: the decoded JSON error the server sent, or NULL. */
const char *smtp_sasl_server_error(const smtp_sasl *s);

/* For tests: use this SCRAM client nonce instead of a random one (so known
 * exchanges such as RFC 7677's can be replayed byte for byte). Call before
 * smtp_sasl_initial(). Ignored unless nonce is 1..128 printable ASCII
 * characters without ','. Never call it outside tests. */
void smtp_sasl_test_set_nonce(smtp_sasl *s, const char *nonce);

#endif
