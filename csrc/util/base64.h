/* Base64 (RFC 4648, standard alphabet, padded) for SASL and MIME. */
#ifndef SC_BASE64_H
#define SC_BASE64_H

#include <stddef.h>

/* Encoded length for n input bytes (without NUL). */
static inline size_t sc_b64_encoded_len(size_t n) { return ((n + 2) / 3) * 4; }
/* Encode n bytes into out (room for sc_b64_encoded_len(n) + 1); NUL-terminates; returns length. */
size_t sc_b64_encode(const unsigned char *in, size_t n, char *out);
/* Decode strictly (no whitespace, correct padding). out needs room for n/4*3 bytes.
 * Returns decoded length, or -1 if the input is not valid base64. */
long sc_b64_decode(const char *in, size_t n, unsigned char *out);

#endif
