/* SASL client mechanisms for SMTP AUTH (RFC 4954), without I/O.
 *
 * PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
 * SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677) and XOAUTH2
 * (Google / Microsoft).
 *
 * Everything the server sends is untrusted: challenges are length-limited,
 * decoded strictly and parsed with explicit bounds. Secrets (the password or
 * token, and every key derived from it) are wiped before memory is released
 * and never appear in error messages. */
#include "smtp/sasl.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "util/base64.h"
#include "util/error.h"

/* Largest decoded challenge accepted from a server. */
#define SASL_MAX_CHALLENGE 16384
/* Largest user name or secret accepted from the caller. */
#define SASL_MAX_INPUT 16384
/* SCRAM iteration count bounds: RFC 7677 asks for at least 4096; the upper
 * cap keeps a hostile server from making us burn CPU (PBKDF2 runs client-side). */
#define SCRAM_MIN_ITERATIONS 4096
#define SCRAM_MAX_ITERATIONS 1000000
/* Random bytes in our SCRAM nonce (base64-encoded: 32 printable characters). */
#define SCRAM_NONCE_BYTES 24
#define SCRAM_NONCE_MAX 128
#define SHA256_LEN 32
#define MD5_LEN 16

/* "n,,": no channel binding, no authzid. c= carries its base64 ("biws"). */
static const char scram_gs2_header[] = "n,,";

enum scram_state {
    SCRAM_START = 0,       /* nothing sent */
    SCRAM_SENT_FIRST,      /* client-first sent, expecting server-first */
    SCRAM_SENT_FINAL,      /* client-final sent, expecting server-final */
    SCRAM_VERIFIED         /* server signature verified, expecting 235 */
};

struct smtp_sasl {
    smtp_sasl_mech mech;
    char *user;
    size_t user_len;
    char *secret;
    size_t secret_len;
    int initial_sent;      /* smtp_sasl_initial() was called (or the IR was sent on an empty 334) */
    unsigned steps;        /* 334 challenges answered */
    int failed;            /* an earlier step failed; the exchange is over */
    char *server_error;    /* XOAUTH2: decoded JSON error from the server */

    /* SCRAM-SHA-256 */
    enum scram_state scram;
    char nonce[SCRAM_NONCE_MAX + 1];
    size_t nonce_len;      /* 0 until chosen (randomly, or by the test hook) */
    char *client_first_bare;
    unsigned char server_signature[SHA256_LEN];
};

/* ------------------------------------------------------------------ names */

static const struct {
    smtp_sasl_mech mech;
    const char *name;
} mech_names[] = {
    {SMTP_SASL_LOGIN, "LOGIN"},
    {SMTP_SASL_PLAIN, "PLAIN"},
    {SMTP_SASL_CRAM_MD5, "CRAM-MD5"},
    {SMTP_SASL_SCRAM_SHA_256, "SCRAM-SHA-256"},
    {SMTP_SASL_XOAUTH2, "XOAUTH2"},
};
#define N_MECHS (sizeof mech_names / sizeof mech_names[0])

static int ascii_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Case-insensitive compare of p[0..n) with the NUL-terminated name. */
static int name_eq(const char *p, size_t n, const char *name)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (name[i] == '\0' || ascii_lower((unsigned char)p[i]) != ascii_lower((unsigned char)name[i]))
            return 0;
    }
    return name[i] == '\0';
}

static smtp_sasl_mech mech_from_word(const char *p, size_t n)
{
    for (size_t i = 0; i < N_MECHS; i++)
        if (name_eq(p, n, mech_names[i].name))
            return mech_names[i].mech;
    return SMTP_SASL_NONE;
}

smtp_sasl_mech smtp_sasl_mech_from_name(const char *name)
{
    if (!name)
        return SMTP_SASL_NONE;
    return mech_from_word(name, strlen(name));
}

const char *smtp_sasl_mech_name(smtp_sasl_mech m)
{
    for (size_t i = 0; i < N_MECHS; i++)
        if (mech_names[i].mech == m)
            return mech_names[i].name;
    return NULL;
}

static int is_list_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Bit (1 << mech) for every known mechanism named in the list. Words are
 * separated by runs of white space; unknown words (including a leading
 * "AUTH" keyword) are ignored; an old-style "AUTH=LOGIN" word counts. */
static unsigned offered_mask(const char *offered)
{
    unsigned mask = 0;
    if (!offered)
        return 0;
    const char *p = offered;
    for (;;) {
        while (*p && is_list_space(*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !is_list_space(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (n > 5 && name_eq(w, 5, "AUTH=")) {
            w += 5;
            n -= 5;
        }
        smtp_sasl_mech m = mech_from_word(w, n);
        if (m != SMTP_SASL_NONE)
            mask |= 1u << m;
    }
    return mask;
}

int smtp_sasl_offered(const char *offered, smtp_sasl_mech m)
{
    if (m == SMTP_SASL_NONE || !smtp_sasl_mech_name(m))
        return 0;
    return (offered_mask(offered) >> m) & 1u;
}

smtp_sasl_mech smtp_sasl_choose(const char *offered, int have_password, int have_token)
{
    /* A token only fits XOAUTH2. With both a token and a password, the token
     * is tried first and the password mechanisms are the fallback. */
    static const smtp_sasl_mech by_strength[] = {SMTP_SASL_SCRAM_SHA_256, SMTP_SASL_CRAM_MD5, SMTP_SASL_PLAIN,
                                                 SMTP_SASL_LOGIN};
    unsigned mask = offered_mask(offered);
    if (have_token && (mask & (1u << SMTP_SASL_XOAUTH2)))
        return SMTP_SASL_XOAUTH2;
    if (have_password) {
        for (size_t i = 0; i < sizeof by_strength / sizeof by_strength[0]; i++)
            if (mask & (1u << by_strength[i]))
                return by_strength[i];
    }
    return SMTP_SASL_NONE;
}

/* ------------------------------------------------------------------ helpers */

static int oom(smtpcore_error *err)
{
    return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
}

static int proto_err(smtp_sasl *s, smtpcore_error *err, const char *what)
{
    s->failed = 1;
    return sc_err_set(err, SMTPCORE_ERR_PROTOCOL, 0, NULL, NULL, "%s AUTH: %s", smtp_sasl_mech_name(s->mech), what);
}

static void free_secret(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

static char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Malloc'd base64 of n bytes. */
static char *b64_alloc(const void *p, size_t n)
{
    if (n > (SIZE_MAX / 4) * 3 - 3)
        return NULL;
    char *out = malloc(sc_b64_encoded_len(n) + 1);
    if (out)
        sc_b64_encode(p, n, out);
    return out;
}

/* Decode a challenge into a malloc'd, NUL-terminated buffer. Trailing white
 * space (which a lenient server may leave) is ignored; anything else that is
 * not strict base64, or decodes to more than SASL_MAX_CHALLENGE bytes, fails. */
static int decode_challenge(smtp_sasl *s, const char *challenge, size_t len, unsigned char **out, size_t *outlen,
                            smtpcore_error *err)
{
    *out = NULL;
    *outlen = 0;
    if (!challenge)
        len = 0;
    while (len > 0 && (challenge[len - 1] == ' ' || challenge[len - 1] == '\t' || challenge[len - 1] == '\r'))
        len--;
    if (len > sc_b64_encoded_len(SASL_MAX_CHALLENGE))
        return proto_err(s, err, "server challenge is too long");
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return oom(err);
    long n = sc_b64_decode(challenge ? challenge : "", len, buf);
    if (n < 0) {
        free(buf);
        return proto_err(s, err, "server challenge is not valid base64");
    }
    if ((size_t)n > SASL_MAX_CHALLENGE) {
        free(buf);
        return proto_err(s, err, "server challenge is too long");
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = (size_t)n;
    return 0;
}

/* HMAC with the named digest into out (room for outsize bytes). */
static int hmac(const char *digest, const void *key, size_t keylen, const void *data, size_t len, unsigned char *out,
                size_t outsize)
{
    int ok = 0;
    size_t outlen = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx) {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
        params[1] = OSSL_PARAM_construct_end();
        ok = EVP_MAC_init(ctx, key, keylen, params) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
             EVP_MAC_final(ctx, out, &outlen, outsize) == 1 && outlen == outsize;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

static int crypto_err(smtp_sasl *s, smtpcore_error *err, const char *what)
{
    s->failed = 1;
    return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "%s AUTH: %s failed in OpenSSL",
                      smtp_sasl_mech_name(s->mech), what);
}

/* 1 if p[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static int valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i - 1 < k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static int has_ascii_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7F)
            return 1;
    }
    return 0;
}

/* Check the caller's credentials for this mechanism. Messages name the field,
 * never its content. */
static int check_input(smtp_sasl_mech m, const char *what, const char *v, smtpcore_error *err)
{
    const char *mn = smtp_sasl_mech_name(m);
    if (!v)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH needs a %s", mn, what);
    size_t n = strlen(v);
    if (n == 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the %s is empty", mn, what);
    if (n > SASL_MAX_INPUT)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the %s is too long", mn, what);
    /* NUL cannot occur inside a C string; CR and LF could end the AUTH line. */
    if (sc_has_ctl_breaks(v))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "%s AUTH: the %s contains a line break (CR or LF)", mn, what);
    switch (m) {
    case SMTP_SASL_XOAUTH2:
        /* \x01 separates the fields; bearer tokens and addresses are printable. */
        if (has_ascii_ctl(v, n))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the %s contains control characters",
                              mn, what);
        break;
    case SMTP_SASL_SCRAM_SHA_256:
        /* SCRAM works on UTF-8; SASLprep (RFC 4013) prohibits ASCII control characters. */
        if (!valid_utf8((const unsigned char *)v, n))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the %s is not valid UTF-8", mn, what);
        if (has_ascii_ctl(v, n))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the %s contains control characters",
                              mn, what);
        break;
    default:
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------ life cycle */

smtp_sasl *smtp_sasl_new(smtp_sasl_mech m, const char *user, const char *secret, smtpcore_error *err)
{
    if (m == SMTP_SASL_NONE || !smtp_sasl_mech_name(m)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown SASL mechanism");
        return NULL;
    }
    if (check_input(m, "user name", user, err) < 0)
        return NULL;
    if (check_input(m, m == SMTP_SASL_XOAUTH2 ? "OAuth2 token" : "password", secret, err) < 0)
        return NULL;
    smtp_sasl *s = calloc(1, sizeof *s);
    if (!s) {
        oom(err);
        return NULL;
    }
    s->mech = m;
    s->user_len = strlen(user);
    s->secret_len = strlen(secret);
    s->user = dup_mem(user, s->user_len);
    s->secret = dup_mem(secret, s->secret_len);
    if (!s->user || !s->secret) {
        smtp_sasl_free(s);
        oom(err);
        return NULL;
    }
    return s;
}

void smtp_sasl_free(smtp_sasl *s)
{
    if (!s)
        return;
    free_secret(s->user, s->user_len);
    free_secret(s->secret, s->secret_len);
    if (s->client_first_bare)
        free_secret(s->client_first_bare, strlen(s->client_first_bare));
    free(s->server_error);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const char *smtp_sasl_server_error(const smtp_sasl *s)
{
    return s ? s->server_error : NULL;
}

/* printable = %x21-2B / %x2D-7E (RFC 5802): what a SCRAM nonce may hold. */
static int scram_printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7E || c == ',')
            return 0;
    }
    return 1;
}

void smtp_sasl_test_set_nonce(smtp_sasl *s, const char *nonce)
{
    if (!s || !nonce)
        return;
    size_t n = strlen(nonce);
    if (n == 0 || n > SCRAM_NONCE_MAX || !scram_printable(nonce, n))
        return;
    memcpy(s->nonce, nonce, n + 1);
    s->nonce_len = n;
}

/* ------------------------------------------------------------------ PLAIN, XOAUTH2 */

/* Build the raw bytes from pieces, base64 them, wipe the raw bytes. */
static int b64_of_pieces(const char *const *pieces, const size_t *lens, size_t count, char **out, smtpcore_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += lens[i]; /* each piece is at most SASL_MAX_INPUT: no overflow */
    char *raw = malloc(total ? total : 1);
    if (!raw)
        return oom(err);
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(raw + o, pieces[i], lens[i]);
        o += lens[i];
    }
    *out = b64_alloc(raw, total);
    free_secret(raw, total);
    return *out ? 0 : oom(err);
}

static int plain_initial(smtp_sasl *s, char **out, smtpcore_error *err)
{
    /* authzid (empty) NUL authcid NUL passwd */
    const char *pieces[] = {"\0", s->user, "\0", s->secret};
    const size_t lens[] = {1, s->user_len, 1, s->secret_len};
    return b64_of_pieces(pieces, lens, 4, out, err);
}

static int xoauth2_initial(smtp_sasl *s, char **out, smtpcore_error *err)
{
    const char *pieces[] = {"user=", s->user, "\001auth=Bearer ", s->secret, "\001\001"};
    const size_t lens[] = {5, s->user_len, 13, s->secret_len, 2};
    return b64_of_pieces(pieces, lens, 5, out, err);
}

/* ------------------------------------------------------------------ SCRAM-SHA-256 */

static int scram_client_first(smtp_sasl *s, char **out, smtpcore_error *err)
{
    if (s->nonce_len == 0) {
        unsigned char rnd[SCRAM_NONCE_BYTES];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return crypto_err(s, err, "random nonce generation");
        s->nonce_len = sc_b64_encode(rnd, sizeof rnd, s->nonce); /* 32 chars, no ',' */
        OPENSSL_cleanse(rnd, sizeof rnd);
    }
    /* client-first-message-bare = "n=" saslname ",r=" c-nonce; saslname escapes '=' and ','. */
    size_t escaped = 0;
    for (size_t i = 0; i < s->user_len; i++)
        escaped += (s->user[i] == '=' || s->user[i] == ',') ? 3 : 1;
    size_t bare_len = 2 + escaped + 3 + s->nonce_len;
    char *bare = malloc(bare_len + 1);
    if (!bare)
        return oom(err);
    size_t o = 0;
    bare[o++] = 'n';
    bare[o++] = '=';
    for (size_t i = 0; i < s->user_len; i++) {
        char c = s->user[i];
        if (c == '=') {
            memcpy(bare + o, "=3D", 3);
            o += 3;
        } else if (c == ',') {
            memcpy(bare + o, "=2C", 3);
            o += 3;
        } else {
            bare[o++] = c;
        }
    }
    memcpy(bare + o, ",r=", 3);
    o += 3;
    memcpy(bare + o, s->nonce, s->nonce_len);
    o += s->nonce_len;
    bare[o] = '\0';

    const char *pieces[] = {scram_gs2_header, bare};
    const size_t lens[] = {sizeof scram_gs2_header - 1, bare_len};
    if (b64_of_pieces(pieces, lens, 2, out, err) < 0) {
        free_secret(bare, bare_len);
        return -1;
    }
    if (s->client_first_bare)
        free_secret(s->client_first_bare, strlen(s->client_first_bare));
    s->client_first_bare = bare;
    s->scram = SCRAM_SENT_FIRST;
    return 0;
}

/* One "a=value" attribute of a SCRAM message, as a view into the message. */
typedef struct scram_attr {
    char name;
    const char *val;
    size_t len;
} scram_attr;

/* Split msg[0..n) at the next ',' starting at *pos. Returns 0 with the
 * attribute, or -1 if the piece is not "<letter>=...". */
static int scram_next_attr(const char *msg, size_t n, size_t *pos, scram_attr *a)
{
    size_t start = *pos;
    if (start >= n)
        return -1;
    const char *comma = memchr(msg + start, ',', n - start);
    size_t end = comma ? (size_t)(comma - msg) : n;
    if (end - start < 2)
        return -1;
    char c = msg[start];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) || msg[start + 1] != '=')
        return -1;
    a->name = c;
    a->val = msg + start + 2;
    a->len = end - start - 2;
    *pos = comma ? end + 1 : n;
    return 0;
}

/* Copy a server-supplied text for an error message: printable ASCII kept,
 * everything else (controls, bytes >= 0x7F) replaced, and length capped. */
static char *sanitize_text(const char *p, size_t n, size_t max)
{
    if (n > max)
        n = max;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        d[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    d[n] = '\0';
    return d;
}

static int scram_server_error(smtp_sasl *s, const char *val, size_t len, smtpcore_error *err)
{
    s->failed = 1;
    char *text = sanitize_text(val, len, 512);
    if (!text)
        return oom(err);
    sc_err_set(err, SMTPCORE_ERR_AUTH, 0, NULL, text, "SCRAM-SHA-256 AUTH: the server refused authentication: %s",
               text);
    free(text);
    return -1;
}

/* Parse "i=" value: decimal digits only, bounded. Returns the count or -1 if malformed. */
static long parse_iterations(const char *p, size_t n)
{
    if (n == 0)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        int d = p[i] - '0';
        if (v > (INT_MAX - d) / 10)
            return LONG_MAX; /* absurdly large: the caller's upper bound rejects it */
        v = v * 10 + d;
    }
    return v;
}

static int scram_server_first(smtp_sasl *s, const unsigned char *msgu, size_t n, char **out, smtpcore_error *err)
{
    const char *msg = (const char *)msgu;
    /* msg is set whenever decode_challenge returns 0; its failures return sc_err_set (always -1, in another file).
     * NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    if (memchr(msg, '\0', n))
        return proto_err(s, err, "server-first-message contains a NUL byte");

    size_t pos = 0;
    scram_attr a;
    if (scram_next_attr(msg, n, &pos, &a) < 0)
        return proto_err(s, err, "malformed server-first-message");
    if (a.name == 'e')
        return scram_server_error(s, a.val, a.len, err);
    if (a.name == 'm')
        return proto_err(s, err, "server requires an unsupported SCRAM extension (m=)");
    if (a.name != 'r')
        return proto_err(s, err, "server-first-message does not start with the nonce (r=)");
    const char *nonce = a.val;
    size_t nonce_len = a.len;
    if (nonce_len <= s->nonce_len || memcmp(nonce, s->nonce, s->nonce_len) != 0)
        return proto_err(s, err, "server nonce does not extend the client nonce");
    if (!scram_printable(nonce, nonce_len))
        return proto_err(s, err, "server nonce contains invalid characters");

    if (scram_next_attr(msg, n, &pos, &a) < 0 || a.name != 's' || a.len == 0)
        return proto_err(s, err, "server-first-message has no salt (s=)");
    const char *salt_b64 = a.val;
    size_t salt_b64_len = a.len;

    if (scram_next_attr(msg, n, &pos, &a) < 0 || a.name != 'i')
        return proto_err(s, err, "server-first-message has no iteration count (i=)");
    long iterations = parse_iterations(a.val, a.len);
    if (iterations < 0)
        return proto_err(s, err, "server-first-message has a malformed iteration count");
    if (iterations < SCRAM_MIN_ITERATIONS) {
        s->failed = 1;
        return sc_err_set(err, SMTPCORE_ERR_PROTOCOL, 0, NULL, NULL,
                          "SCRAM-SHA-256 AUTH: server asked for %ld iterations, below the minimum of %d", iterations,
                          SCRAM_MIN_ITERATIONS);
    }
    if (iterations > SCRAM_MAX_ITERATIONS) {
        s->failed = 1;
        return sc_err_set(err, SMTPCORE_ERR_PROTOCOL, 0, NULL, NULL,
                          "SCRAM-SHA-256 AUTH: server asked for more than %d iterations", SCRAM_MAX_ITERATIONS);
    }
    /* Anything after i= is an optional extension, which we ignore; each must
     * still be "<letter>=...", and a trailing empty piece ("i=4096,") is malformed. */
    while (pos < n) {
        if (scram_next_attr(msg, n, &pos, &a) < 0)
            return proto_err(s, err, "malformed extension in server-first-message");
    }
    if (msg[n - 1] == ',')
        return proto_err(s, err, "malformed server-first-message");

    unsigned char *salt = malloc(salt_b64_len / 4 * 3 + 1);
    if (!salt)
        return oom(err);
    long salt_len = sc_b64_decode(salt_b64, salt_b64_len, salt);
    if (salt_len <= 0) {
        free(salt);
        return proto_err(s, err, "server salt is not valid base64");
    }

    /* client-final-message-without-proof = "c=" base64(gs2-header) ",r=" nonce */
    static const char cbind[] = "c=biws,r=";
    size_t cfwp_len = sizeof cbind - 1 + nonce_len;
    size_t bare_len = strlen(s->client_first_bare);
    /* AuthMessage = client-first-message-bare "," server-first-message "," client-final-message-without-proof */
    size_t auth_len = bare_len + 1 + n + 1 + cfwp_len;
    char *auth = malloc(auth_len);
    /* client-final = cfwp ",p=" base64(ClientProof) */
    size_t final_len = cfwp_len + 3 + sc_b64_encoded_len(SHA256_LEN);
    char *final = malloc(final_len + 1);
    if (!auth || !final) {
        free(salt);
        free(auth);
        free(final);
        return oom(err);
    }
    size_t o = 0;
    memcpy(auth + o, s->client_first_bare, bare_len);
    o += bare_len;
    auth[o++] = ',';
    memcpy(auth + o, msg, n);
    o += n;
    auth[o++] = ',';
    memcpy(auth + o, cbind, sizeof cbind - 1);
    o += sizeof cbind - 1;
    memcpy(auth + o, nonce, nonce_len);
    /* o stays the count of bytes written, as after every copy above.
     * NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
    o += nonce_len;

    unsigned char salted[SHA256_LEN], client_key[SHA256_LEN], stored_key[SHA256_LEN], client_sig[SHA256_LEN];
    unsigned char proof[SHA256_LEN], server_key[SHA256_LEN];
    unsigned int stored_len = 0;
    int rc = -1;
    /* SaltedPassword = Hi(Normalize(password), salt, i). Normalize is SASLprep
     * (RFC 4013). We implement its common case: ASCII passes through unchanged
     * (control characters were refused in smtp_sasl_new); non-ASCII UTF-8 is
     * used as is, without the SASLprep mapping and normalisation tables. A
     * password that SASLprep would change (e.g. one with non-ASCII spaces or
     * unnormalised characters) may therefore not match the server's. */
    if (PKCS5_PBKDF2_HMAC(s->secret, (int)s->secret_len, salt, (int)salt_len, (int)iterations, EVP_sha256(),
                          SHA256_LEN, salted) != 1 ||
        hmac("SHA256", salted, SHA256_LEN, "Client Key", 10, client_key, SHA256_LEN) < 0 ||
        EVP_Digest(client_key, SHA256_LEN, stored_key, &stored_len, EVP_sha256(), NULL) != 1 ||
        stored_len != SHA256_LEN ||
        hmac("SHA256", stored_key, SHA256_LEN, auth, auth_len, client_sig, SHA256_LEN) < 0 ||
        hmac("SHA256", salted, SHA256_LEN, "Server Key", 10, server_key, SHA256_LEN) < 0 ||
        hmac("SHA256", server_key, SHA256_LEN, auth, auth_len, s->server_signature, SHA256_LEN) < 0) {
        crypto_err(s, err, "SCRAM key derivation");
        goto done;
    }
    for (size_t i = 0; i < SHA256_LEN; i++)
        proof[i] = client_key[i] ^ client_sig[i];

    memcpy(final, auth + bare_len + 1 + n + 1, cfwp_len);
    memcpy(final + cfwp_len, ",p=", 3);
    sc_b64_encode(proof, SHA256_LEN, final + cfwp_len + 3);
    *out = b64_alloc(final, final_len);
    if (!*out) {
        oom(err);
        goto done;
    }
    s->scram = SCRAM_SENT_FINAL;
    rc = 0;
done:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(stored_key, sizeof stored_key);
    OPENSSL_cleanse(client_sig, sizeof client_sig);
    OPENSSL_cleanse(proof, sizeof proof);
    OPENSSL_cleanse(server_key, sizeof server_key);
    free_secret(final, final_len + 1);
    free_secret(auth, auth_len);
    free(salt);
    return rc;
}

static int scram_server_final(smtp_sasl *s, const unsigned char *msgu, size_t n, char **out, smtpcore_error *err)
{
    const char *msg = (const char *)msgu;
    /* msg is set whenever decode_challenge returns 0; its failures return sc_err_set (always -1, in another file).
     * NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    if (memchr(msg, '\0', n))
        return proto_err(s, err, "server-final-message contains a NUL byte");
    size_t pos = 0;
    scram_attr a;
    if (scram_next_attr(msg, n, &pos, &a) < 0)
        return proto_err(s, err, "malformed server-final-message");
    if (a.name == 'e')
        return scram_server_error(s, a.val, a.len, err);
    if (a.name != 'v')
        return proto_err(s, err, "server-final-message has no verifier (v=)");
    unsigned char sig[SHA256_LEN + 2]; /* 44 base64 characters decode to at most 33 bytes */
    long sig_len = -1;
    if (a.len <= sc_b64_encoded_len(SHA256_LEN))
        sig_len = sc_b64_decode(a.val, a.len, sig);
    if (sig_len != SHA256_LEN || CRYPTO_memcmp(sig, s->server_signature, SHA256_LEN) != 0) {
        s->failed = 1;
        return sc_err_set(err, SMTPCORE_ERR_AUTH, 0, NULL, NULL,
                          "SCRAM-SHA-256 AUTH: the server could not prove it knows the password "
                          "(wrong server signature); it may be an impostor");
    }
    s->scram = SCRAM_VERIFIED;
    *out = strdup("");
    return *out ? 0 : oom(err);
}

/* ------------------------------------------------------------------ the exchange */

int smtp_sasl_initial(smtp_sasl *s, char **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!s || !out)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "smtp_sasl_initial: NULL argument");
    if (s->failed || s->initial_sent || s->steps)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the exchange has already started",
                          smtp_sasl_mech_name(s->mech));
    s->initial_sent = 1;
    switch (s->mech) {
    case SMTP_SASL_PLAIN:
        return plain_initial(s, out, err);
    case SMTP_SASL_XOAUTH2:
        return xoauth2_initial(s, out, err);
    case SMTP_SASL_SCRAM_SHA_256:
        return scram_client_first(s, out, err);
    default:
        return 0; /* LOGIN, CRAM-MD5: the server speaks first */
    }
}

static int has_initial_response(smtp_sasl_mech m)
{
    return m == SMTP_SASL_PLAIN || m == SMTP_SASL_XOAUTH2 || m == SMTP_SASL_SCRAM_SHA_256;
}

static int cram_md5_step(smtp_sasl *s, const char *challenge, size_t len, char **out, smtpcore_error *err)
{
    if (s->steps > 0)
        return proto_err(s, err, "unexpected second challenge");
    unsigned char *ch;
    size_t ch_len;
    if (decode_challenge(s, challenge, len, &ch, &ch_len, err) < 0)
        return -1;
    if (ch_len == 0) {
        free(ch);
        return proto_err(s, err, "empty challenge");
    }
    unsigned char mac[MD5_LEN];
    int r = hmac("MD5", s->secret, s->secret_len, ch, ch_len, mac, sizeof mac);
    free(ch);
    if (r < 0) {
        OPENSSL_cleanse(mac, sizeof mac);
        return crypto_err(s, err, "HMAC-MD5");
    }
    /* user SP 32 lowercase hex digits */
    static const char hex[] = "0123456789abcdef";
    size_t resp_len = s->user_len + 1 + 2 * MD5_LEN;
    char *resp = malloc(resp_len);
    if (!resp) {
        OPENSSL_cleanse(mac, sizeof mac);
        return oom(err);
    }
    memcpy(resp, s->user, s->user_len);
    resp[s->user_len] = ' ';
    for (size_t i = 0; i < MD5_LEN; i++) {
        resp[s->user_len + 1 + 2 * i] = hex[mac[i] >> 4];
        resp[s->user_len + 2 + 2 * i] = hex[mac[i] & 15];
    }
    OPENSSL_cleanse(mac, sizeof mac);
    *out = b64_alloc(resp, resp_len);
    free_secret(resp, resp_len);
    return *out ? 0 : oom(err);
}

static int xoauth2_step(smtp_sasl *s, const char *challenge, size_t len, char **out, smtpcore_error *err)
{
    if (s->steps > 0)
        return proto_err(s, err, "unexpected second challenge");
    unsigned char *ch;
    size_t ch_len;
    if (decode_challenge(s, challenge, len, &ch, &ch_len, err) < 0)
        return -1;
    /* The server's JSON error ({"status":"401",...}). Keep it for the caller,
     * with control characters (which JSON only allows as white space outside
     * strings) turned into spaces so it is safe to log. */
    free(s->server_error);
    s->server_error = NULL;
    if (ch_len > 0) {
        for (size_t i = 0; i < ch_len; i++)
            if (ch[i] < 0x20 || ch[i] == 0x7F)
                ch[i] = ' ';
        s->server_error = (char *)ch;
    } else {
        free(ch);
    }
    /* Answer with an empty line; the server then ends with 535. */
    *out = strdup("");
    return *out ? 0 : oom(err);
}

int smtp_sasl_step(smtp_sasl *s, const char *challenge, size_t len, char **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!s || !out)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "smtp_sasl_step: NULL argument");
    if (!challenge && len)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "smtp_sasl_step: NULL challenge");
    if (s->failed)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s AUTH: the exchange has already failed",
                          smtp_sasl_mech_name(s->mech));

    /* RFC 4954: a client that sent no initial response gets an empty 334 and
     * sends it then. */
    if (has_initial_response(s->mech) && !s->initial_sent) {
        size_t l = len;
        while (l > 0 && (challenge[l - 1] == ' ' || challenge[l - 1] == '\t' || challenge[l - 1] == '\r'))
            l--;
        if (l != 0)
            return proto_err(s, err, "expected an empty challenge before the initial response");
        int r = smtp_sasl_initial(s, out, err);
        if (r < 0)
            s->failed = 1;
        return r;
    }

    int r;
    switch (s->mech) {
    case SMTP_SASL_PLAIN:
        return proto_err(s, err, "unexpected challenge after the credentials");

    case SMTP_SASL_LOGIN:
        /* Prompts are usually "Username:" and "Password:", but servers vary;
         * answer by position and ignore the text (it is still bounded). */
        if (challenge && len > sc_b64_encoded_len(SASL_MAX_CHALLENGE))
            return proto_err(s, err, "server challenge is too long");
        if (s->steps >= 2)
            return proto_err(s, err, "unexpected third challenge");
        if (s->steps == 0)
            *out = b64_alloc(s->user, s->user_len);
        else
            *out = b64_alloc(s->secret, s->secret_len);
        if (!*out) {
            s->failed = 1;
            return oom(err);
        }
        s->steps++;
        return 0;

    case SMTP_SASL_CRAM_MD5:
        r = cram_md5_step(s, challenge, len, out, err);
        break;

    case SMTP_SASL_XOAUTH2:
        r = xoauth2_step(s, challenge, len, out, err);
        break;

    case SMTP_SASL_SCRAM_SHA_256: {
        if (s->scram != SCRAM_SENT_FIRST && s->scram != SCRAM_SENT_FINAL)
            return proto_err(s, err, "unexpected challenge after the server signature");
        unsigned char *msg;
        size_t msg_len;
        if (decode_challenge(s, challenge, len, &msg, &msg_len, err) < 0)
            return -1;
        if (s->scram == SCRAM_SENT_FIRST)
            r = scram_server_first(s, msg, msg_len, out, err);
        else
            r = scram_server_final(s, msg, msg_len, out, err);
        free(msg);
        break;
    }

    default:
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown SASL mechanism");
    }
    if (r < 0) {
        s->failed = 1;
        free(*out);
        *out = NULL;
        return -1;
    }
    s->steps++;
    return 0;
}

int smtp_sasl_finish(smtp_sasl *s, smtpcore_error *err)
{
    if (!s)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "smtp_sasl_finish: NULL argument");
    if (s->mech == SMTP_SASL_SCRAM_SHA_256 && s->scram != SCRAM_VERIFIED)
        return sc_err_set(err, SMTPCORE_ERR_AUTH, 0, NULL, NULL,
                          "SCRAM-SHA-256 AUTH: the server accepted us without proving it knows the password "
                          "(no valid server signature); it may be an impostor");
    if (s->failed)
        return sc_err_set(err, SMTPCORE_ERR_PROTOCOL, 0, NULL, NULL,
                          "%s AUTH: the server accepted an exchange that had already failed",
                          smtp_sasl_mech_name(s->mech));
    return 0;
}
