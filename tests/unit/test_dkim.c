/* DKIM: canonicalisation vectors (RFC 6376 3.4.5), streaming body
 * canonicalisation that does not depend on chunking, the empty-body rules,
 * h= selection from the bottom up, the signature field, and signatures
 * checked here with EVP_DigestVerify by an independent reading of the field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim/canon.h"
#include "dkim/dkim.h"
#include "testlib.h"
#include "util/base64.h"

/* ------------------------------------------------------------------ helpers */

static int buf_sink(void *arg, const char *p, size_t n) { return sc_buf_append((sc_buf *)arg, p, n); }

/* Canonicalise body in chunks ending at the given cut points (ascending). */
static void canon_cuts(dkim_canon mode, const char *body, size_t n, const size_t *cuts, size_t n_cuts, sc_buf *out)
{
    dkim_body_canon c;
    dkim_body_canon_init(&c, mode, buf_sink, out);
    size_t at = 0;
    for (size_t i = 0; i < n_cuts; i++) {
        REQUIRE(cuts[i] >= at && cuts[i] <= n);
        REQUIRE(dkim_body_canon_feed(&c, body + at, cuts[i] - at) == 0);
        at = cuts[i];
    }
    REQUIRE(dkim_body_canon_feed(&c, body + at, n - at) == 0);
    REQUIRE(dkim_body_canon_finish(&c) == 0);
}

static void canon_once(dkim_canon mode, const char *body, size_t n, sc_buf *out)
{
    canon_cuts(mode, body, n, NULL, 0, out);
}

/* The RFC read literally over the whole body, as a reference: lines split at
 * CRLF (an unterminated last segment is a line if not empty), per-line WSP
 * rules, trailing empty lines dropped. */
static void reference_canon(dkim_canon mode, const char *in, size_t n, sc_buf *out)
{
    sc_buf_reset(out);
    if (mode == DKIM_CANON_SIMPLE) {
        REQUIRE(sc_buf_append(out, in, n) == 0);
        while (sc_buf_size(out) >= 4 && memcmp(sc_buf_ptr(out) + sc_buf_size(out) - 4, "\r\n\r\n", 4) == 0)
            out->len -= 2;
        if (sc_buf_size(out) < 2 || memcmp(sc_buf_ptr(out) + sc_buf_size(out) - 2, "\r\n", 2) != 0)
            REQUIRE(sc_buf_append(out, "\r\n", 2) == 0);
        return;
    }
    size_t keep = 0; /* output length up to the last non-empty line */
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(in[j] == '\r' && j + 1 < n && in[j + 1] == '\n'))
            j++;
        /* line [i, j): collapse WSP runs, drop trailing WSP */
        int pend = 0;
        size_t line_start = sc_buf_size(out);
        for (size_t k = i; k < j; k++) {
            if (in[k] == ' ' || in[k] == '\t') {
                pend = 1;
                continue;
            }
            if (pend)
                REQUIRE(sc_buf_append(out, " ", 1) == 0);
            pend = 0;
            REQUIRE(sc_buf_append(out, &in[k], 1) == 0);
        }
        int empty = sc_buf_size(out) == line_start;
        REQUIRE(sc_buf_append(out, "\r\n", 2) == 0);
        if (!empty)
            keep = sc_buf_size(out);
        i = j < n ? j + 2 : n;
    }
    out->len = out->start + keep;
}

static void check_canon(dkim_canon mode, const char *in, size_t n, const char *want, size_t want_len)
{
    sc_buf got;
    sc_buf_init(&got);
    canon_once(mode, in, n, &got);
    CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), want, want_len);
    /* every two-chunk split, and byte by byte */
    for (size_t cut = 0; cut <= n; cut++) {
        sc_buf_reset(&got);
        canon_cuts(mode, in, n, &cut, 1, &got);
        CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), want, want_len);
    }
    size_t *all = malloc((n + 1) * sizeof *all);
    for (size_t k = 0; k < n; k++)
        all[k] = k;
    sc_buf_reset(&got);
    canon_cuts(mode, in, n, all, n, &got);
    CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), want, want_len);
    free(all);
    sc_buf_free(&got);
}

static void sha256_b64(const void *p, size_t n, char out[45])
{
    unsigned char h[32];
    REQUIRE(EVP_Digest(p, n, h, NULL, EVP_sha256(), NULL) == 1);
    sc_b64_encode(h, 32, out);
}

/* Tiny deterministic PRNG for the tests. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* ------------------------------------------------------------------ keys */

static char *pem_of(EVP_PKEY *k, const EVP_CIPHER *enc, const char *pass)
{
    BIO *b = BIO_new(BIO_s_mem());
    REQUIRE(b);
    REQUIRE(PEM_write_bio_PrivateKey(b, k, enc, (unsigned char *)(uintptr_t)pass, pass ? (int)strlen(pass) : 0,
                                     NULL, NULL) == 1);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static EVP_PKEY *rsa2048, *ed25519;
static char *rsa2048_pem, *ed25519_pem;

static void keys(void)
{
    if (!rsa2048) {
        rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        REQUIRE(rsa2048);
        rsa2048_pem = pem_of(rsa2048, NULL, NULL);
    }
    if (!ed25519) {
        ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        REQUIRE(ed25519);
        ed25519_pem = pem_of(ed25519, NULL, NULL);
    }
}

/* ------------------------------------------------------------------ signing helpers */

static dkim_options base_opts(const char *pem)
{
    dkim_options o = {.domain = "example.com", .selector = "sel", .key_pem = pem, .key_len = strlen(pem)};
    return o;
}

/* Sign body (fed in chunks of at most chunk bytes; 0: one piece) and headers;
 * returns the field (malloc'd) or NULL, with err filled. */
static char *sign(const dkim_options *o, const char *hdr, const char *body, size_t blen, size_t chunk,
                  smtpcore_error *err)
{
    dkim_signer *s = dkim_signer_new(o, err);
    if (!s)
        return NULL;
    for (size_t at = 0; at < blen;) {
        size_t k = chunk && blen - at > chunk ? chunk : blen - at;
        REQUIRE(dkim_signer_body(s, body + at, k) == 0);
        at += k;
    }
    sc_buf out;
    sc_buf_init(&out);
    char *r = NULL;
    if (dkim_signer_finish(s, hdr, strlen(hdr), &out, err) == 0)
        r = sc_buf_strdup(&out);
    sc_buf_free(&out);
    dkim_signer_free(s);
    return r;
}

/* The value of tag name in the field (unfolded, trimmed), in buf; NULL if absent. */
static const char *tag(const char *field, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(field), o = 0;
    char *u = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (field[i] != '\r' && field[i] != '\n')
            u[o++] = field[i] == '\t' ? ' ' : field[i];
    u[o] = '\0';
    const char *colon = strchr(u, ':');
    const char *p = colon ? colon + 1 : u;
    const char *found = NULL;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        while (*p == ' ')
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            const char *ke = eq;
            while (ke > p && ke[-1] == ' ')
                ke--;
            if ((size_t)(ke - p) == strlen(name) && memcmp(p, name, strlen(name)) == 0) {
                const char *v = eq + 1;
                size_t k = 0;
                for (; v < end && k + 1 < cap; v++)
                    if (*v != ' ')
                        buf[k++] = *v;
                buf[k] = '\0';
                found = buf;
                break;
            }
        }
        p = *end ? end + 1 : end;
    }
    free(u);
    return found;
}

/* Verify the signature independently: parse the field, select the headers it
 * names (bottom-up, "used" flags rather than cursors), rebuild the signed data
 * and check it with EVP_DigestVerify. Returns 1 if valid, 0 if not. */
static int verify(const char *field, const char *hdr, const char *body, size_t blen, EVP_PKEY *pub)
{
    char v[4096], c[64], a[64], bh[64];
    size_t flen = strlen(field);
    if (flen < 2 || strcmp(field + flen - 2, "\r\n") != 0 || strncmp(field, "DKIM-Signature:", 15) != 0)
        return 0;
    if (!tag(field, "c", c, sizeof c) || !tag(field, "a", a, sizeof a) || !tag(field, "bh", bh, sizeof bh) ||
        !tag(field, "h", v, sizeof v))
        return 0;
    dkim_canon hc = strncmp(c, "simple/", 7) == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
    dkim_canon bc = strcmp(strchr(c, '/') + 1, "simple") == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;

    /* body hash */
    sc_buf cb;
    sc_buf_init(&cb);
    canon_once(bc, body, blen, &cb);
    char want_bh[45];
    sha256_b64(sc_buf_ptr(&cb), sc_buf_size(&cb), want_bh);
    sc_buf_free(&cb);
    if (strcmp(want_bh, bh) != 0)
        return 0;

    /* headers named by h= */
    dkim_field *fs = NULL;
    size_t nf = 0, bad = 0;
    if (dkim_header_parse(hdr, strlen(hdr), &fs, &nf, &bad) != DKIM_HDR_OK)
        return 0;
    char *used = calloc(nf + 1, 1);
    sc_buf data;
    sc_buf_init(&data);
    for (char *save = NULL, *name = strtok_r(v, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
        for (size_t i = nf; i-- > 0;)
            if (!used[i] && dkim_field_is(hdr, &fs[i], name, strlen(name))) {
                used[i] = 1;
                REQUIRE(dkim_header_canon(hc, hdr + fs[i].start, fs[i].len, &data) == 0);
                sc_buf_append(&data, "\r\n", 2);
                break;
            }
    }
    free(used);
    free(fs);

    /* the field itself with an empty b= */
    const char *bhp = strstr(field, "bh=");
    const char *b = bhp ? strstr(bhp + 3, "b=") : NULL;
    while (b && b[-1] != ' ')
        b = strstr(b + 2, "b=");
    if (!b) {
        sc_buf_free(&data);
        return 0;
    }
    size_t prefix = (size_t)(b + 2 - field);
    REQUIRE(dkim_header_canon(hc, field, prefix, &data) == 0);
    char sig64[1024];
    size_t k = 0;
    for (const char *p = b + 2; *p && k + 1 < sizeof sig64; p++)
        if (*p != '\r' && *p != '\n' && *p != ' ' && *p != '\t')
            sig64[k++] = *p;
    sig64[k] = '\0';
    unsigned char sig[1024];
    long sl = sc_b64_decode(sig64, k, sig);

    int ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (sl > 0 && strcmp(a, "rsa-sha256") == 0 && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig, (size_t)sl, (const unsigned char *)sc_buf_ptr(&data), sc_buf_size(&data)) ==
                 1;
    } else if (sl > 0 && strcmp(a, "ed25519-sha256") == 0 && EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519) {
        unsigned char h[32];
        ok = EVP_Digest(sc_buf_ptr(&data), sc_buf_size(&data), h, NULL, EVP_sha256(), NULL) == 1 &&
             EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig, (size_t)sl, h, 32) == 1;
    }
    EVP_MD_CTX_free(ctx);
    sc_buf_free(&data);
    return ok;
}

static void check_lines_fit(const char *field)
{
    for (const char *p = field; *p;) {
        const char *e = strstr(p, "\r\n");
        REQUIRE(e);
        if (e - p > 78)
            tl_fail(__FILE__, __LINE__, "line of %d octets: %.*s", (int)(e - p), (int)(e - p), p);
        if (p != field)
            CHECK(*p == ' ');
        p = e + 2;
    }
}

static const char HDR[] = "From: Alice <alice@example.com>\r\n"
                          "To: Bob <bob@example.net>\r\n"
                          "Subject: Hello\r\n"
                          "  world\r\n"
                          "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                          "Message-ID: <1@example.com>\r\n"
                          "X-Unsigned: yes\r\n";
static const char BODY[] = "Hi Bob,  \r\n\r\nthis is\ta test.\r\n\r\n\r\n";

/* ------------------------------------------------------------------ canonicalisation vectors */

/* RFC 6376 3.4.5, the example. */
static void test_rfc_example_headers(void)
{
    static const char hdr[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
    dkim_field *fs = NULL;
    size_t n = 0, bad = 0;
    REQUIRE(dkim_header_parse(hdr, strlen(hdr), &fs, &n, &bad) == DKIM_HDR_OK);
    REQUIRE(n == 2);
    CHECK_INT_EQ(fs[0].name_len, 1);
    CHECK_INT_EQ(fs[1].name_len, 1);
    CHECK(dkim_field_is(hdr, &fs[1], "b", 1));
    sc_buf r, s;
    sc_buf_init(&r);
    sc_buf_init(&s);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(dkim_header_canon(DKIM_CANON_RELAXED, hdr + fs[i].start, fs[i].len, &r) == 0);
        sc_buf_append(&r, "\r\n", 2);
        REQUIRE(dkim_header_canon(DKIM_CANON_SIMPLE, hdr + fs[i].start, fs[i].len, &s) == 0);
        sc_buf_append(&s, "\r\n", 2);
    }
    static const char relaxed[] = "a:X\r\nb:Y Z\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&r), sc_buf_size(&r), relaxed, strlen(relaxed));
    CHECK_MEM_EQ(sc_buf_ptr(&s), sc_buf_size(&s), hdr, strlen(hdr));
    sc_buf_free(&r);
    sc_buf_free(&s);
    free(fs);
}

static void test_rfc_example_body(void)
{
    static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";
    check_canon(DKIM_CANON_RELAXED, body, strlen(body), " C\r\nD E\r\n", 9);
    check_canon(DKIM_CANON_SIMPLE, body, strlen(body), " C \r\nD \t E\r\n", 12);
}

static void test_empty_body(void)
{
    check_canon(DKIM_CANON_SIMPLE, "", 0, "\r\n", 2);
    check_canon(DKIM_CANON_RELAXED, "", 0, "", 0);
    /* The well-known constants: SHA-256 of CRLF and of nothing. */
    char h[45];
    sha256_b64("\r\n", 2, h);
    CHECK_STR_EQ(h, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    sha256_b64("", 0, h);
    CHECK_STR_EQ(h, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");

    keys();
    smtpcore_error err = {0};
    char bh[64];
    for (int m = 0; m < 2; m++) {
        dkim_options o = base_opts(ed25519_pem);
        o.body_canon = m ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
        const char *want = m ? "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="  /* SHA-256("\r\n") */
                             : "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; /* SHA-256("") */
        static const char *const empties[] = {"", "\r\n", "\r\n\r\n\r\n"};
        for (size_t e = 0; e < 3; e++) {
            char *f = sign(&o, HDR, empties[e], strlen(empties[e]), 0, &err);
            REQUIRE(f);
            CHECK_STR_EQ(tag(f, "bh", bh, sizeof bh), want);
            CHECK(verify(f, HDR, empties[e], strlen(empties[e]), ed25519));
            free(f);
        }
    }
    /* Relaxed: blank lines of whitespace are an empty body too; simple keeps them. */
    check_canon(DKIM_CANON_RELAXED, " \r\n\t\r\n  ", 8, "", 0);
    check_canon(DKIM_CANON_SIMPLE, " \r\n\t\r\n", 6, " \r\n\t\r\n", 6);
}

static void test_trailing_whitespace_and_lines(void)
{
    static const struct { const char *in, *simple, *relaxed; } v[] = {
        {"abc\r\n", "abc\r\n", "abc\r\n"},
        {"abc", "abc\r\n", "abc\r\n"},              /* a CRLF is added */
        {"abc  \t\r\n", "abc  \t\r\n", "abc\r\n"},
        {"abc \t ", "abc \t \r\n", "abc\r\n"},      /* unterminated last line: as SMTP would end it */
        {"abc\r\n\r\n\r\n", "abc\r\n", "abc\r\n"},
        {"abc\r\n \r\n\t\r\n", "abc\r\n \r\n\t\r\n", "abc\r\n"},
        {"\r\n", "\r\n", ""},
        {"\r\n\r\n", "\r\n", ""},
        {"\r\n\r\nabc\r\n", "\r\n\r\nabc\r\n", "\r\n\r\nabc\r\n"}, /* leading blank lines stay */
        {"a\r\n \r\nb\r\n", "a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n"},
        {"a  b\t\tc \t d\r\n", "a  b\t\tc \t d\r\n", "a b c d\r\n"},
        {" \t x\r\n", " \t x\r\n", " x\r\n"},
        {"abc\r", "abc\r\r\n", "abc\r\r\n"},        /* a bare CR is content */
        {"a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
        {"a\nb\r\n\n", "a\nb\r\n\n\r\n", "a\nb\r\n\n\r\n"}, /* so is a bare LF */
        {"a \r\r\n", "a \r\r\n", "a \r\r\n"},
        {"x\r\n\r\n \r\n", "x\r\n\r\n \r\n", "x\r\n"},
        {"\xc3\xa9t\xc3\xa9 \r\n", "\xc3\xa9t\xc3\xa9 \r\n", "\xc3\xa9t\xc3\xa9\r\n"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        check_canon(DKIM_CANON_SIMPLE, v[i].in, strlen(v[i].in), v[i].simple, strlen(v[i].simple));
        check_canon(DKIM_CANON_RELAXED, v[i].in, strlen(v[i].in), v[i].relaxed, strlen(v[i].relaxed));
    }
}

/* Every body up to 7 bytes over {a, SP, HT, CR, LF}, every split into up to
 * three chunks, against one shot and the whole-body reference. */
static void test_chunk_invariance_small(void)
{
    static const char alpha[] = "a \t\r\n";
    char body[8];
    sc_buf once, cut, ref;
    sc_buf_init(&once);
    sc_buf_init(&cut);
    sc_buf_init(&ref);
    size_t total = 0;
    for (size_t len = 0; len <= 7; len++) {
        size_t combos = 1;
        for (size_t i = 0; i < len; i++)
            combos *= 5;
        for (size_t code = 0; code < combos; code++) {
            size_t x = code;
            for (size_t i = 0; i < len; i++, x /= 5)
                body[i] = alpha[x % 5];
            for (int m = 0; m < 2; m++) {
                dkim_canon mode = m ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
                sc_buf_reset(&once);
                canon_once(mode, body, len, &once);
                reference_canon(mode, body, len, &ref);
                CHECK_MEM_EQ(sc_buf_ptr(&once), sc_buf_size(&once), sc_buf_ptr(&ref), sc_buf_size(&ref));
                for (size_t c1 = 0; c1 <= len; c1++)
                    for (size_t c2 = c1; c2 <= len; c2++) {
                        size_t cuts[2] = {c1, c2};
                        sc_buf_reset(&cut);
                        canon_cuts(mode, body, len, cuts, 2, &cut);
                        if (sc_buf_size(&cut) != sc_buf_size(&once) ||
                            memcmp(sc_buf_ptr(&cut), sc_buf_ptr(&once), sc_buf_size(&once)) != 0) {
                            tl_fail(__FILE__, __LINE__, "mode %d cuts %zu,%zu differ", m, c1, c2);
                            tl_dump_bytes("  body", body, len);
                            REQUIRE(0);
                        }
                        total++;
                    }
            }
        }
    }
    CHECK(total > 1000000);
    sc_buf_free(&once);
    sc_buf_free(&cut);
    sc_buf_free(&ref);
}

/* Big bodies (well over the canonicaliser's output batch, long runs of blank
 * lines and whitespace) in random chunks. */
static void test_chunk_invariance_big(void)
{
    size_t n = 300000;
    char *body = malloc(n);
    REQUIRE(body);
    sc_buf once, cut, ref;
    sc_buf_init(&once);
    sc_buf_init(&cut);
    sc_buf_init(&ref);
    for (int round = 0; round < 6; round++) {
        for (size_t i = 0; i < n;) {
            uint32_t r = rnd() % 100;
            size_t run = 1 + rnd() % (round & 1 ? 5000 : 40);
            for (size_t k = 0; k < run && i < n; k++, i++) {
                if (r < 40)
                    body[i] = (char)('a' + rnd() % 26);
                else if (r < 60)
                    body[i] = " \t"[rnd() % 2];
                else if (r < 90)
                    body[i] = (k & 1) ? '\n' : '\r';
                else
                    body[i] = (char)rnd();
            }
        }
        if (round >= 4) /* end in a long tail of blank and whitespace lines */
            for (size_t i = n - 20000; i < n; i++)
                body[i] = (i & 1) ? '\n' : (round == 5 && i % 7 == 0 ? ' ' : '\r');
        for (int m = 0; m < 2; m++) {
            dkim_canon mode = m ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
            sc_buf_reset(&once);
            canon_once(mode, body, n, &once);
            reference_canon(mode, body, n, &ref);
            CHECK_MEM_EQ(sc_buf_ptr(&once), sc_buf_size(&once), sc_buf_ptr(&ref), sc_buf_size(&ref));
            for (int t = 0; t < 20; t++) {
                size_t cuts[64], nc = 1 + rnd() % 64, at = 0;
                for (size_t k = 0; k < nc; k++) {
                    at += rnd() % (t < 10 ? 9000 : 16);
                    cuts[k] = at < n ? at : n;
                }
                sc_buf_reset(&cut);
                canon_cuts(mode, body, n, cuts, nc, &cut);
                CHECK(sc_buf_size(&cut) == sc_buf_size(&once) &&
                      memcmp(sc_buf_ptr(&cut), sc_buf_ptr(&once), sc_buf_size(&once)) == 0);
            }
        }
    }
    free(body);
    sc_buf_free(&once);
    sc_buf_free(&cut);
    sc_buf_free(&ref);
}

/* Memory stays bounded: a million blank lines are a counter, not data. */
static void test_blank_lines_are_counted(void)
{
    sc_buf out;
    sc_buf_init(&out);
    dkim_body_canon c;
    dkim_body_canon_init(&c, DKIM_CANON_SIMPLE, buf_sink, &out);
    REQUIRE(dkim_body_canon_feed(&c, "x", 1) == 0);
    for (int i = 0; i < 1000000; i++)
        REQUIRE(dkim_body_canon_feed(&c, "\r\n", 2) == 0);
    CHECK_INT_EQ(sc_buf_size(&out), 0); /* "x" still batched, the CRLFs held */
    CHECK(c.pending_crlf == 1000000);
    REQUIRE(dkim_body_canon_finish(&c) == 0);
    CHECK_MEM_EQ(sc_buf_ptr(&out), sc_buf_size(&out), "x\r\n", 3);
    CHECK_INT_EQ(dkim_body_canon_feed(&c, "y", 1), -1); /* fed after finish */
    sc_buf_free(&out);
}

/* ------------------------------------------------------------------ header parsing and selection */

static void test_header_parse(void)
{
    static const char ok[] = "From: a\r\nSubject: one\r\n two\r\n\tthree\r\nX-8bit: \xc3\xa9\r\nEmpty:\r\n";
    dkim_field *fs = NULL;
    size_t n = 0, bad = 0;
    REQUIRE(dkim_header_parse(ok, strlen(ok), &fs, &n, &bad) == DKIM_HDR_OK);
    REQUIRE(n == 4);
    CHECK_MEM_EQ(ok + fs[1].start, fs[1].len, "Subject: one\r\n two\r\n\tthree", 26);
    sc_buf r;
    sc_buf_init(&r);
    REQUIRE(dkim_header_canon(DKIM_CANON_RELAXED, ok + fs[1].start, fs[1].len, &r) == 0);
    CHECK_MEM_EQ(sc_buf_ptr(&r), sc_buf_size(&r), "subject:one two three", 21);
    sc_buf_reset(&r);
    REQUIRE(dkim_header_canon(DKIM_CANON_RELAXED, ok + fs[3].start, fs[3].len, &r) == 0);
    CHECK_MEM_EQ(sc_buf_ptr(&r), sc_buf_size(&r), "empty:", 6);
    sc_buf_free(&r);
    free(fs);

    REQUIRE(dkim_header_parse("", 0, &fs, &n, &bad) == DKIM_HDR_OK);
    CHECK(n == 0 && fs == NULL);

    static const struct { const char *block; size_t len, bad; } badv[] = {
        {"From: a", 7, 7},                       /* no final CRLF */
        {"From: a\r\nTo: b", 14, 14},
        {"From: a\nTo: b\r\n", 15, 7},           /* bare LF */
        {"From: a\rTo: b\r\n", 15, 7},           /* bare CR */
        {"From: a\r\n\r\n", 11, 9},              /* empty line */
        {" cont\r\nFrom: a\r\n", 16, 0},         /* continuation first */
        {"From: a\r\nno colon\r\n", 19, 9},
        {"From: a\r\n: x\r\n", 14, 9},           /* empty name */
        {"Fr om: a\r\n", 10, 2},                 /* space inside a name */
        {"Fr\xc3\xb6m: a\r\n", 11, 2},           /* 8-bit name */
        {"From: a\0b\r\n", 11, 7},               /* NUL */
        {"From: a\r", 8, 7},
    };
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        bad = 999;
        fs = NULL;
        CHECK_INT_EQ(dkim_header_parse(badv[i].block, badv[i].len, &fs, &n, &bad), DKIM_HDR_MALFORMED);
        CHECK_INT_EQ(bad, badv[i].bad);
        CHECK(fs == NULL);
    }
}

/* RFC 6376 5.4.2: instances are taken from the bottom up; a name listed more
 * often than it occurs selects nothing for the extra entries. */
static void test_select_bottom_up(void)
{
    static const char hdr[] = "From: a\r\nX: 1\r\nTo: b\r\nx: 2\r\nX : 3\r\n";
    dkim_field *fs = NULL;
    size_t n = 0, bad = 0;
    REQUIRE(dkim_header_parse(hdr, strlen(hdr), &fs, &n, &bad) == DKIM_HDR_OK);
    REQUIRE(n == 5);
    static const char *const names[] = {"X", "From", "X", "Y", "x", "X", "from", "TO"};
    size_t sel[8];
    REQUIRE(dkim_header_select(hdr, fs, n, names, 8, sel) == 0);
    static const size_t want[] = {4, 0, 3, (size_t)-1, 1, (size_t)-1, (size_t)-1, 2};
    for (size_t i = 0; i < 8; i++)
        CHECK_INT_EQ(sel[i], want[i]);
    CHECK_INT_EQ(dkim_header_count(hdr, fs, n, "x", 1), 3);
    free(fs);
}

/* ------------------------------------------------------------------ signatures */

static void test_sign_verify_all_modes(void)
{
    keys();
    EVP_PKEY *k[2] = {rsa2048, ed25519};
    const char *pem[2] = {rsa2048_pem, ed25519_pem};
    const char *alg[2] = {"rsa-sha256", "ed25519-sha256"};
    static const char *const cv[4] = {"relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"};
    for (int ki = 0; ki < 2; ki++)
        for (int m = 0; m < 4; m++) {
            dkim_options o = base_opts(pem[ki]);
            o.header_canon = m >= 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
            o.body_canon = (m & 1) ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
            o.timestamp = 1700000000;
            o.expire_after = 86400;
            smtpcore_error err = {0};
            char *f = sign(&o, HDR, BODY, strlen(BODY), 7, &err);
            if (!f)
                tl_fail(__FILE__, __LINE__, "sign: %s", err.message ? err.message : "?");
            REQUIRE(f);
            char t[512];
            CHECK_STR_EQ(tag(f, "v", t, sizeof t), "1");
            CHECK_STR_EQ(tag(f, "a", t, sizeof t), alg[ki]);
            CHECK_STR_EQ(tag(f, "c", t, sizeof t), cv[m]);
            CHECK_STR_EQ(tag(f, "d", t, sizeof t), "example.com");
            CHECK_STR_EQ(tag(f, "s", t, sizeof t), "sel");
            CHECK_STR_EQ(tag(f, "t", t, sizeof t), "1700000000");
            CHECK_STR_EQ(tag(f, "x", t, sizeof t), "1700086400");
            CHECK(tag(f, "l", t, sizeof t) == NULL);
            CHECK(tag(f, "i", t, sizeof t) == NULL);
            CHECK_STR_EQ(tag(f, "h", t, sizeof t),
                         "From:From:Subject:Date:To:Cc:Reply-To:Message-ID:MIME-Version:Content-Type:"
                         "Content-Transfer-Encoding:In-Reply-To:References:List-Unsubscribe:List-Unsubscribe-Post");
            check_lines_fit(f);
            CHECK(verify(f, HDR, BODY, strlen(BODY), k[ki]));

            /* One byte changed in the body, in a signed header, or a second From. */
            char *body2 = strdup(BODY);
            body2[3] = 'b';
            CHECK(!verify(f, HDR, body2, strlen(body2), k[ki]));
            free(body2);
            char *hdr2 = strdup(HDR);
            strstr(hdr2, "Hello")[0] = 'J';
            CHECK(!verify(f, hdr2, BODY, strlen(BODY), k[ki]));
            free(hdr2);
            sc_buf h3;
            sc_buf_init(&h3);
            sc_buf_printf(&h3, "%sFrom: mallory@example.org\r\n", HDR);
            CHECK(!verify(f, sc_buf_ptr(&h3), BODY, strlen(BODY), k[ki]));
            sc_buf_reset(&h3);
            sc_buf_printf(&h3, "Reply-To: mallory@example.org\r\n%s", HDR); /* oversigned: absent when signed */
            CHECK(!verify(f, sc_buf_ptr(&h3), BODY, strlen(BODY), k[ki]));
            sc_buf_reset(&h3);
            sc_buf_printf(&h3, "%sX-Added: fine\r\n", HDR); /* unsigned fields may be added */
            CHECK(verify(f, sc_buf_ptr(&h3), BODY, strlen(BODY), k[ki]));
            sc_buf_free(&h3);
            if (m == 0) { /* relaxed survives refolding and whitespace changes */
                static const char refolded[] = "From:  Alice <alice@example.com>\r\n"
                                               "To: Bob <bob@example.net>\r\n"
                                               "Subject: Hello world\r\n"
                                               "Date: Tue, 14 Nov 2023\r\n 22:13:20 +0000\r\n"
                                               "Message-ID: <1@example.com>\r\n"
                                               "X-Unsigned: yes\r\n";
                static const char rebody[] = "Hi Bob,\r\n\r\nthis is a test.\r\n";
                CHECK(verify(f, refolded, rebody, strlen(rebody), k[ki]));
            }
            free(f);
        }
}

/* The whole field, signature included, does not depend on how the body is
 * chunked (RSA PKCS#1 v1.5 and Ed25519 are deterministic). */
static void test_signer_chunk_invariance(void)
{
    keys();
    static const char body[] = "line one  \r\n\tline two\r\n \r\n\r\n";
    size_t n = strlen(body);
    for (int m = 0; m < 2; m++) {
        dkim_options o = base_opts(ed25519_pem);
        o.body_canon = m ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
        smtpcore_error err = {0};
        char *ref = sign(&o, HDR, body, n, 0, &err);
        REQUIRE(ref);
        for (size_t chunk = 1; chunk <= n; chunk++) {
            char *f = sign(&o, HDR, body, n, chunk, &err);
            REQUIRE(f);
            CHECK_STR_EQ(f, ref);
            free(f);
        }
        free(ref);
    }
}

static void test_h_list_choices(void)
{
    keys();
    smtpcore_error err = {0};
    char t[1024];
    dkim_options o = base_opts(ed25519_pem);

    /* Repeated and absent fields in the default list. */
    static const char rep[] = "From: a@example.com\r\nTo: b@example.net\r\nTo: c@example.net\r\n";
    char *f = sign(&o, rep, "x\r\n", 3, 0, &err);
    REQUIRE(f);
    CHECK_STR_EQ(tag(f, "h", t, sizeof t),
                 "From:From:Subject:Date:To:To:Cc:Reply-To:Message-ID:MIME-Version:Content-Type:"
                 "Content-Transfer-Encoding:In-Reply-To:References:List-Unsubscribe:List-Unsubscribe-Post");
    CHECK(verify(f, rep, "x\r\n", 3, ed25519));
    free(f);

    /* The caller's list, with From listed once: it is oversigned anyway. */
    static const char *const mine[] = {"Subject", "from", "To"};
    o.headers = mine;
    o.n_headers = 3;
    f = sign(&o, HDR, BODY, strlen(BODY), 0, &err);
    REQUIRE(f);
    CHECK_STR_EQ(tag(f, "h", t, sizeof t), "Subject:from:From:To");
    CHECK(verify(f, HDR, BODY, strlen(BODY), ed25519));
    free(f);

    /* Listed twice already: left alone. */
    static const char *const twice[] = {"From", "Subject", "From"};
    o.headers = twice;
    f = sign(&o, HDR, BODY, strlen(BODY), 0, &err);
    REQUIRE(f);
    CHECK_STR_EQ(tag(f, "h", t, sizeof t), "From:Subject:From");
    free(f);

    /* No From in the list, bad names, an empty list. */
    static const char *const nofrom[] = {"Subject", "To"};
    static const char *const badname[] = {"From", "Sub ject"};
    static const char *const semi[] = {"From", "X;y"};
    static const char *const colon[] = {"From", "X:y"};
    static const char *const empty[] = {"From", ""};
    static const char *const null[] = {"From", NULL};
    static const char *const itself[] = {"From", "dkim-signature"};
    const char *const *lists[] = {nofrom, badname, semi, colon, empty, null, itself};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        o.headers = lists[i];
        o.n_headers = 2;
        CHECK(dkim_signer_new(&o, &err) == NULL);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
    }
    o.n_headers = 0;
    o.headers = mine;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    CHECK(err.message && strstr(err.message, "From"));
    smtpcore_error_clear(&err);

    /* Many repeated fields: the h= list folds at colons, lines stay short. */
    sc_buf big;
    sc_buf_init(&big);
    sc_buf_append_str(&big, "From: a@example.com\r\n");
    for (int i = 0; i < 30; i++)
        sc_buf_printf(&big, "References: <%d@example.com>\r\n", i);
    o.headers = NULL;
    f = sign(&o, sc_buf_ptr(&big), "", 0, 0, &err);
    REQUIRE(f);
    check_lines_fit(f);
    CHECK(verify(f, sc_buf_ptr(&big), "", 0, ed25519));
    free(f);
    sc_buf_free(&big);
}

static void test_identity_and_times(void)
{
    keys();
    smtpcore_error err = {0};
    char t[256];
    dkim_options o = base_opts(ed25519_pem);
    static const struct { const char *id, *tag; } good[] = {
        {"user@example.com", "user@example.com"},
        {"@mail.example.com", "@mail.example.com"},
        {"a=b.c@EXAMPLE.com", "a=3Db.c@EXAMPLE.com"},
        {"j\xc3\xb6rg@example.com", "j=C3=B6rg@example.com"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        o.identity = good[i].id;
        char *f = sign(&o, HDR, BODY, strlen(BODY), 0, &err);
        REQUIRE(f);
        CHECK_STR_EQ(tag(f, "i", t, sizeof t), good[i].tag);
        CHECK(verify(f, HDR, BODY, strlen(BODY), ed25519));
        free(f);
    }
    static const char *const bad[] = {"user@other.com", "user@notexample.com", "user", "a b@example.com",
                                      "a;b@example.com", ".a@example.com", "a..b@example.com", "u@example.com\r\nX: y",
                                      "u@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.identity = bad[i];
        CHECK(dkim_signer_new(&o, &err) == NULL);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
    }
    o.identity = NULL;

    o.timestamp = 0;
    o.expire_after = 3600; /* x= needs t= */
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
    o.timestamp = 1000000000000ull; /* 13 digits */
    o.expire_after = 0;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
    o.timestamp = 999999999000ull;
    o.expire_after = 1000;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
    o.expire_after = 999;
    dkim_signer *s = dkim_signer_new(&o, &err);
    CHECK(s != NULL);
    dkim_signer_free(s);
    o.timestamp = 0;
    o.expire_after = 0;
    char *f = sign(&o, HDR, BODY, strlen(BODY), 0, &err);
    REQUIRE(f);
    CHECK(tag(f, "t", t, sizeof t) == NULL && tag(f, "x", t, sizeof t) == NULL);
    free(f);
}

static void test_bad_domains_and_selectors(void)
{
    keys();
    smtpcore_error err = {0};
    char l63[64], l64[65], long_name[300];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    memset(l64, 'a', 64);
    l64[64] = '\0';
    snprintf(long_name, sizeof long_name, "%s.%s.%s.%s.com", l63, l63, l63, l63); /* 259 */
    const char *bad_d[] = {"", "com", "exa mple.com", "-a.com", "a-.com", "a..com", ".com", "example.com.",
                           "a_b.com", "b\xc3\xbc" "cher.de", "a.com\r\nX: y", "a.com;", l64, long_name};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++) {
        dkim_options o = base_opts(ed25519_pem);
        o.domain = bad_d[i];
        CHECK(dkim_signer_new(&o, &err) == NULL);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
    }
    const char *bad_s[] = {"", "s_1", "s 1", "s1.", "-s", "s;t", "s=t", l64};
    for (size_t i = 0; i < sizeof bad_s / sizeof bad_s[0]; i++) {
        dkim_options o = base_opts(ed25519_pem);
        o.selector = bad_s[i];
        CHECK(dkim_signer_new(&o, &err) == NULL);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
    }
    const char *good_d[] = {"example.com", "mail.EXAMPLE.co.uk", "xn--bcher-kva.de", "1-2.example"};
    const char *good_s[] = {"s1", "2024-01.mail", l63};
    for (size_t i = 0; i < 4; i++) {
        dkim_options o = base_opts(ed25519_pem);
        o.domain = good_d[i];
        o.selector = good_s[i % 3];
        dkim_signer *s = dkim_signer_new(&o, &err);
        CHECK(s != NULL);
        dkim_signer_free(s);
    }
    /* selector._domainkey.domain must fit in a DNS name */
    char d[200];
    snprintf(d, sizeof d, "%s.%s.%s.com", l63, l63, l63); /* 195: a valid d= alone */
    dkim_options o = base_opts(ed25519_pem);
    o.domain = d;
    o.selector = "s1";
    dkim_signer *s = dkim_signer_new(&o, &err);
    CHECK(s != NULL);
    dkim_signer_free(s);
    o.selector = l63; /* 63 + 12 + 195 > 253 */
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
    o.domain = NULL;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
    CHECK(dkim_signer_new(NULL, &err) == NULL);
    smtpcore_error_clear(&err);
    o = base_opts(ed25519_pem);
    o.body_canon = (dkim_canon)7;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);
}

static void test_bad_keys(void)
{
    keys();
    smtpcore_error err = {0};
    EVP_PKEY *rsa512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    REQUIRE(rsa512 && rsa1024 && ec && x25519);
    char *p512 = pem_of(rsa512, NULL, NULL), *p1024 = pem_of(rsa1024, NULL, NULL);
    char *pec = pem_of(ec, NULL, NULL), *px = pem_of(x25519, NULL, NULL);
    char *penc = pem_of(rsa1024, EVP_aes_128_cbc(), "secret");
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, rsa2048);
    char *pubp = NULL;
    long publen = BIO_get_mem_data(b, &pubp);
    char *ppub = strndup(pubp, (size_t)publen);
    BIO_free(b);

    const struct { const char *pem; const char *why; } bad[] = {
        {p512, "512 bits"},  {pec, "RSA or Ed25519"}, {px, "RSA or Ed25519"}, {penc, "unencrypted"},
        {ppub, "PEM private key"}, {"garbage", "PEM private key"}, {"", "empty"},
        {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PEM private key"},
    };
    ERR_clear_error();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dkim_options o = base_opts(bad[i].pem);
        CHECK(dkim_signer_new(&o, &err) == NULL);
        CHECK(ERR_peek_error() == 0); /* nothing left in the thread's OpenSSL error queue */
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        if (!err.message || !strstr(err.message, bad[i].why))
            tl_fail(__FILE__, __LINE__, "key %zu: message \"%s\"", i, err.message ? err.message : "(null)");
        smtpcore_error_clear(&err);
    }
    /* An error queued before us (someone else's) is left in place. */
    ERR_raise(ERR_LIB_USER, 42);
    dkim_options g = base_opts("garbage");
    CHECK(dkim_signer_new(&g, &err) == NULL);
    smtpcore_error_clear(&err);
    CHECK(ERR_GET_REASON(ERR_peek_last_error()) == 42);
    ERR_clear_error();

    /* 1024 bits is the minimum; key_len 0 means a NUL-terminated PEM. */
    dkim_options o = base_opts(p1024);
    o.key_len = 0;
    char *f = sign(&o, HDR, BODY, strlen(BODY), 0, &err);
    CHECK(f != NULL);
    CHECK(f && verify(f, HDR, BODY, strlen(BODY), rsa1024));
    CHECK(f && !verify(f, HDR, BODY, strlen(BODY), rsa2048)); /* the wrong key */
    free(f);
    /* key_len shorter than the PEM text cuts it. */
    o = base_opts(rsa2048_pem);
    o.key_len = strlen(rsa2048_pem) / 2;
    CHECK(dkim_signer_new(&o, &err) == NULL);
    smtpcore_error_clear(&err);

    EVP_PKEY_free(rsa512);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(x25519);
    free(p512);
    free(p1024);
    free(pec);
    free(px);
    free(penc);
    free(ppub);
}

static void test_finish_errors(void)
{
    keys();
    smtpcore_error err = {0};
    dkim_options o = base_opts(ed25519_pem);
    sc_buf out;
    sc_buf_init(&out);
    static const char *const bad_blocks[] = {
        "To: b@example.net\r\n",                    /* no From */
        "",                                         /* nothing at all */
        "From: a@example.com\r\nTo: b",             /* no final CRLF */
        "From: a@example.com\nTo: b\r\n",           /* bare LF */
        "From: a@example.com\r\n\r\nbody\r\n",      /* the body slipped in */
    };
    for (size_t i = 0; i < sizeof bad_blocks / sizeof bad_blocks[0]; i++) {
        dkim_signer *s = dkim_signer_new(&o, &err);
        REQUIRE(s);
        CHECK_INT_EQ(dkim_signer_finish(s, bad_blocks[i], strlen(bad_blocks[i]), &out, &err), -1);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        CHECK_INT_EQ(sc_buf_size(&out), 0); /* nothing half-written */
        smtpcore_error_clear(&err);
        dkim_signer_free(s);
    }
    /* One use only; body after finish fails. */
    dkim_signer *s = dkim_signer_new(&o, &err);
    REQUIRE(s);
    CHECK_INT_EQ(dkim_signer_body(s, "x", 1), 0);
    CHECK_INT_EQ(dkim_signer_body(s, NULL, 0), 0);
    CHECK_INT_EQ(dkim_signer_finish(s, HDR, strlen(HDR), &out, &err), 0);
    CHECK(sc_buf_size(&out) > 0);
    CHECK_INT_EQ(dkim_signer_body(s, "x", 1), -1);
    CHECK_INT_EQ(dkim_signer_finish(s, HDR, strlen(HDR), &out, &err), -1);
    smtpcore_error_clear(&err);
    dkim_signer_free(s);
    /* A NULL chunk with a length is refused and remembered. */
    s = dkim_signer_new(&o, &err);
    REQUIRE(s);
    CHECK_INT_EQ(dkim_signer_body(s, NULL, 3), -1);
    CHECK_INT_EQ(dkim_signer_body(s, "x", 1), -1);
    CHECK_INT_EQ(dkim_signer_finish(s, HDR, strlen(HDR), &out, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_LOCAL);
    smtpcore_error_clear(&err);
    dkim_signer_free(s);
    dkim_signer_free(NULL);
    CHECK_INT_EQ(dkim_signer_body(NULL, "x", 1), -1);
    sc_buf_free(&out);
}

/* Last: release the keys so leak checkers see a clean exit. */
static void test_zz_cleanup(void)
{
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(ed25519);
    free(rsa2048_pem);
    free(ed25519_pem);
    rsa2048 = ed25519 = NULL;
    rsa2048_pem = ed25519_pem = NULL;
}

TEST_MAIN({"rfc_example_headers", test_rfc_example_headers}, {"rfc_example_body", test_rfc_example_body},
          {"empty_body", test_empty_body}, {"trailing_whitespace_and_lines", test_trailing_whitespace_and_lines},
          {"chunk_invariance_small", test_chunk_invariance_small},
          {"chunk_invariance_big", test_chunk_invariance_big},
          {"blank_lines_are_counted", test_blank_lines_are_counted}, {"header_parse", test_header_parse},
          {"select_bottom_up", test_select_bottom_up}, {"sign_verify_all_modes", test_sign_verify_all_modes},
          {"signer_chunk_invariance", test_signer_chunk_invariance}, {"h_list_choices", test_h_list_choices},
          {"identity_and_times", test_identity_and_times},
          {"bad_domains_and_selectors", test_bad_domains_and_selectors}, {"bad_keys", test_bad_keys},
          {"finish_errors", test_finish_errors}, {"zz_cleanup", test_zz_cleanup})
