/* libFuzzer target for DKIM canonicalisation and signing.
 *
 * Input layout: byte 0 seeds the chunking; the rest is the payload.
 *   body    the payload as a body, both canonicalisations: one shot, random
 *           chunks and byte by byte must give the same bytes, equal to a
 *           whole-body reading of the RFC; the output obeys the rules
 *           (ends in one CRLF unless empty, relaxed: no WSP runs or tabs,
 *           no WSP before CRLF).
 *   header  the payload as a header block: parse, select fields by the names
 *           it contains, canonicalise each field both ways (relaxed output
 *           is one line, lowercase name, no WSP runs); then a full Ed25519
 *           signature over it, whose field must be well-formed. Nothing may
 *           crash or leak, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim/canon.h"
#include "dkim/dkim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *key_pem; /* one Ed25519 key for the whole run */
static size_t key_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *b = BIO_new(BIO_s_mem());
    if (!k || !b || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    key_pem = malloc((size_t)n);
    if (!key_pem)
        abort();
    memcpy(key_pem, p, (size_t)n);
    key_len = (size_t)n;
    BIO_free(b);
    EVP_PKEY_free(k);
    return 0;
}

static int buf_sink(void *arg, const char *p, size_t n) { return sc_buf_append((sc_buf *)arg, p, n); }

static void must(int ok)
{
    if (!ok)
        abort();
}

static void same(const sc_buf *a, const sc_buf *b)
{
    must(sc_buf_size(a) == sc_buf_size(b) && memcmp(sc_buf_ptr(a), sc_buf_ptr(b), sc_buf_size(a)) == 0);
}

/* The RFC read literally over the whole body. */
static void reference(dkim_canon mode, const char *in, size_t n, sc_buf *out)
{
    if (mode == DKIM_CANON_SIMPLE) {
        must(sc_buf_append(out, in, n) == 0);
        while (sc_buf_size(out) >= 4 && memcmp(sc_buf_ptr(out) + sc_buf_size(out) - 4, "\r\n\r\n", 4) == 0)
            out->len -= 2;
        if (sc_buf_size(out) < 2 || memcmp(sc_buf_ptr(out) + sc_buf_size(out) - 2, "\r\n", 2) != 0)
            must(sc_buf_append(out, "\r\n", 2) == 0);
        return;
    }
    size_t keep = 0, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(in[j] == '\r' && j + 1 < n && in[j + 1] == '\n'))
            j++;
        int pend = 0;
        size_t start = sc_buf_size(out);
        for (size_t k = i; k < j; k++) {
            if (in[k] == ' ' || in[k] == '\t') {
                pend = 1;
                continue;
            }
            if (pend)
                must(sc_buf_append(out, " ", 1) == 0);
            pend = 0;
            must(sc_buf_append(out, &in[k], 1) == 0);
        }
        int empty = sc_buf_size(out) == start;
        must(sc_buf_append(out, "\r\n", 2) == 0);
        if (!empty)
            keep = sc_buf_size(out);
        i = j < n ? j + 2 : n;
    }
    out->len = out->start + keep;
}

static void canon_chunks(dkim_canon mode, const char *p, size_t n, uint32_t seed, int bytewise, sc_buf *out)
{
    dkim_body_canon c;
    dkim_body_canon_init(&c, mode, buf_sink, out);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t at = 0; at < n;) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t k = bytewise ? 1 : x % 67;
        if (k > n - at)
            k = n - at;
        must(dkim_body_canon_feed(&c, p + at, k) == 0);
        at += k;
    }
    must(dkim_body_canon_finish(&c) == 0);
}

static void fuzz_body(const char *p, size_t n, uint8_t seed)
{
    sc_buf once, chunked, ref;
    sc_buf_init(&once);
    sc_buf_init(&chunked);
    sc_buf_init(&ref);
    for (int m = 0; m < 2; m++) {
        dkim_canon mode = m ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
        sc_buf_reset(&once);
        sc_buf_reset(&ref);
        dkim_body_canon c;
        dkim_body_canon_init(&c, mode, buf_sink, &once);
        must(dkim_body_canon_feed(&c, p, n) == 0 && dkim_body_canon_finish(&c) == 0);
        reference(mode, p, n, &ref);
        same(&once, &ref);
        sc_buf_reset(&chunked);
        canon_chunks(mode, p, n, seed, 0, &chunked);
        same(&once, &chunked);
        if (n < 1024) {
            sc_buf_reset(&chunked);
            canon_chunks(mode, p, n, seed, 1, &chunked);
            same(&once, &chunked);
        }
        const char *o = sc_buf_ptr(&once);
        size_t on = sc_buf_size(&once);
        if (mode == DKIM_CANON_SIMPLE)
            must(on >= 2);
        if (on) {
            must(on >= 2 && memcmp(o + on - 2, "\r\n", 2) == 0);
            must(on < 4 || memcmp(o + on - 4, "\r\n\r\n", 4) != 0 || (mode == DKIM_CANON_SIMPLE && on == 2));
        }
        if (mode == DKIM_CANON_RELAXED)
            for (size_t i = 0; i < on; i++) {
                must(o[i] != '\t');
                if (o[i] == ' ' && i + 1 < on) /* no WSP runs, no WSP before a line end */
                    must(o[i + 1] != ' ' && !(o[i + 1] == '\r' && i + 2 < on && o[i + 2] == '\n'));
            }
    }
    sc_buf_free(&once);
    sc_buf_free(&chunked);
    sc_buf_free(&ref);
}

static void fuzz_header(const char *p, size_t n)
{
    dkim_field *fs = NULL;
    size_t nf = 0, bad = 0;
    if (dkim_header_parse(p, n, &fs, &nf, &bad) == DKIM_HDR_OK) {
        sc_buf c;
        sc_buf_init(&c);
        for (size_t i = 0; i < nf; i++) {
            must(fs[i].start + fs[i].len + 2 <= n && fs[i].name_len > 0 && fs[i].name_len <= fs[i].len);
            sc_buf_reset(&c);
            must(dkim_header_canon(DKIM_CANON_SIMPLE, p + fs[i].start, fs[i].len, &c) == 0);
            must(sc_buf_size(&c) == fs[i].len);
            sc_buf_reset(&c);
            must(dkim_header_canon(DKIM_CANON_RELAXED, p + fs[i].start, fs[i].len, &c) == 0);
            const char *o = sc_buf_ptr(&c);
            size_t on = sc_buf_size(&c);
            must(on >= fs[i].name_len + 1 && o[fs[i].name_len] == ':');
            for (size_t k = 0; k < fs[i].name_len; k++)
                must(!(o[k] >= 'A' && o[k] <= 'Z'));
            for (size_t k = 0; k < on; k++) {
                must(o[k] != '\t' && !(o[k] == '\r' && k + 1 < on && o[k + 1] == '\n'));
                must(!(o[k] == ' ' && (k + 1 == on || o[k + 1] == ' ' || k == fs[i].name_len + 1)));
            }
        }
        sc_buf_free(&c);
        /* Select by the names present (each twice) plus a name that is absent. */
        size_t nn = nf * 2 + 1;
        char **names = calloc(nn, sizeof *names);
        size_t *sel = calloc(nn, sizeof *sel);
        must(names && sel);
        for (size_t i = 0; i < nf; i++) {
            names[2 * i] = names[2 * i + 1] = strndup(p + fs[i].start, fs[i].name_len);
            must(names[2 * i] != NULL);
        }
        names[nn - 1] = (char *)"X-Absent-Field";
        must(dkim_header_select(p, fs, nf, (const char *const *)names, nn, sel) == 0);
        char *taken = calloc(nf + 1, 1);
        must(taken != NULL);
        for (size_t i = 0; i < nn; i++)
            if (sel[i] != (size_t)-1) {
                must(sel[i] < nf && !taken[sel[i]]);
                must(dkim_field_is(p, &fs[sel[i]], names[i], strlen(names[i])));
                taken[sel[i]] = 1;
            }
        for (size_t i = 0; i < nf; i++)
            must(taken[i]); /* every field is named at least once */
        free(taken);
        for (size_t i = 0; i < nf; i++)
            free(names[2 * i]);
        free(names);
        free(sel);
        free(fs);
    }

    /* The whole signer over the block. */
    dkim_options o = {.domain = "example.com", .selector = "fuzz", .key_pem = key_pem, .key_len = key_len,
                      .header_canon = (n & 1) ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED, .timestamp = 1700000000};
    smtpcore_error err = {0};
    dkim_signer *s = dkim_signer_new(&o, &err);
    must(s != NULL);
    must(dkim_signer_body(s, p, n) == 0);
    sc_buf out;
    sc_buf_init(&out);
    if (dkim_signer_finish(s, p, n, &out, &err) == 0) {
        const char *f = sc_buf_ptr(&out);
        size_t fn = sc_buf_size(&out);
        must(fn > 17 && memcmp(f, "DKIM-Signature: ", 16) == 0 && memcmp(f + fn - 2, "\r\n", 2) == 0);
        for (size_t i = 0; i < fn; i++) {
            must(f[i] != '\0');
            if (f[i] == '\r')
                must(f[i + 1] == '\n' && (i + 2 == fn || f[i + 2] == ' '));
            if (f[i] == '\n')
                must(i > 0 && f[i - 1] == '\r');
        }
    } else {
        must(sc_buf_size(&out) == 0 && err.message != NULL);
    }
    smtpcore_error_clear(&err);
    sc_buf_free(&out);
    dkim_signer_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    fuzz_body(p, n, data[0]);
    fuzz_header(p, n);
    return 0;
}
