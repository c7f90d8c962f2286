/* A reference DKIM verifier for fuzz_message (RFC 6376 with Ed25519-SHA256,
 * RFC 8463), written from the RFC and independent of csrc/dkim: it checks a
 * DKIM-Signature the way a receiving MTA would, against the rendered
 * message. Static functions for one includer (fuzz_message.c). */
#ifndef FUZZ_DKIM_REFERENCE_H
#define FUZZ_DKIM_REFERENCE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "mime_reference.h"
#include "util/buf.h"

/* Body canonicalisation (RFC 6376 3.4.3 and 3.4.4), over the whole body. */
static void refdkim_body(int relaxed, const char *b, size_t n, sc_buf *out)
{
    size_t keep = 0; /* output up to the last line that is not empty */
    for (size_t s = 0; s < n;) {
        const char *crlf = memmem(b + s, n - s, "\r\n", 2);
        size_t e = crlf ? (size_t)(crlf - b) : n;
        size_t before = sc_buf_size(out);
        if (!relaxed) {
            if (sc_buf_append(out, b + s, e - s) < 0)
                abort();
        } else {
            int ws = 0;
            for (size_t i = s; i < e; i++) {
                if (ref_is_wsp(b[i])) {
                    ws = 1;
                    continue;
                }
                if ((ws && sc_buf_append(out, " ", 1) < 0) || sc_buf_append(out, &b[i], 1) < 0)
                    abort();
                ws = 0;
            }
        }
        int empty = sc_buf_size(out) == before;
        if (sc_buf_append(out, "\r\n", 2) < 0)
            abort();
        if (!empty)
            keep = sc_buf_size(out);
        s = crlf ? e + 2 : n;
    }
    out->len = out->start + keep;
    if (!relaxed && keep == 0 && sc_buf_append(out, "\r\n", 2) < 0)
        abort(); /* simple: an empty body is one CRLF */
}

/* Header field canonicalisation (3.4.1, 3.4.2); raw is the field without its final CRLF. */
static void refdkim_field(int relaxed, const char *raw, size_t n, sc_buf *out)
{
    if (!relaxed) {
        if (sc_buf_append(out, raw, n) < 0)
            abort();
        return;
    }
    const char *colon = memchr(raw, ':', n);
    size_t nl = (size_t)(colon - raw);
    while (nl && ref_is_wsp(raw[nl - 1]))
        nl--;
    for (size_t i = 0; i < nl; i++) {
        char c = raw[i] >= 'A' && raw[i] <= 'Z' ? (char)(raw[i] - 'A' + 'a') : raw[i];
        if (sc_buf_append(out, &c, 1) < 0)
            abort();
    }
    if (sc_buf_append(out, ":", 1) < 0)
        abort();
    int ws = 0, started = 0;
    for (size_t i = (size_t)(colon - raw) + 1; i < n; i++) {
        if (raw[i] == '\r' || raw[i] == '\n')
            continue;
        if (ref_is_wsp(raw[i])) {
            ws = 1;
            continue;
        }
        if ((ws && started && sc_buf_append(out, " ", 1) < 0) || sc_buf_append(out, &raw[i], 1) < 0)
            abort();
        ws = 0;
        started = 1;
    }
}

/* One tag of a DKIM-Signature value, with all whitespace removed (FWS may
 * fold any tag value we look at). 1 found, 0 absent. */
static int refdkim_tag(const char *value, const char *tag, sc_buf *out)
{
    size_t n = strlen(value), tl = strlen(tag);
    for (size_t s = 0; s <= n;) {
        const char *semi = memchr(value + s, ';', n - s);
        size_t e = semi ? (size_t)(semi - value) : n;
        size_t i = s;
        while (i < e && ref_is_wsp(value[i]))
            i++;
        size_t k = i;
        while (k < e && value[k] != '=' && !ref_is_wsp(value[k]))
            k++;
        size_t eq = k;
        while (eq < e && ref_is_wsp(value[eq]))
            eq++;
        if (k - i == tl && !memcmp(value + i, tag, tl) && eq < e && value[eq] == '=') {
            for (size_t j = eq + 1; j < e; j++)
                if (!ref_is_wsp(value[j]) && sc_buf_append(out, &value[j], 1) < 0)
                    abort();
            ref_buf_terminate(out);
            return 1;
        }
        s = e + 1;
    }
    return 0;
}

/* Verify the signature in field sig of the header block hdr (its fields fs),
 * body the message body. h= names select fields bottom-up (5.4.2); the
 * signature field itself is signed last with an empty b= and no CRLF.
 * Returns 1 when it verifies. */
static int refdkim_verify(EVP_PKEY *key, const char *hdr, const ref_fields *fs, size_t sig, const char *body,
                          size_t body_len)
{
    const ref_field *sf = &fs->f[sig];
    sc_buf c, h, bh, b, data;
    sc_buf_init(&c);
    sc_buf_init(&h);
    sc_buf_init(&bh);
    sc_buf_init(&b);
    sc_buf_init(&data);
    int ok = 0;
    if (!refdkim_tag(sf->value, "c", &c) || !refdkim_tag(sf->value, "h", &h) ||
        !refdkim_tag(sf->value, "bh", &bh) || !refdkim_tag(sf->value, "b", &b))
        goto out;
    const char *cs = sc_buf_ptr(&c);
    int hrel = !strncmp(cs, "relaxed", 7), brel = strchr(cs, '/') && !strcmp(strchr(cs, '/') + 1, "relaxed");

    /* bh=: the hash of the canonical body. */
    sc_buf canon;
    sc_buf_init(&canon);
    refdkim_body(brel, body, body_len, &canon);
    unsigned char hash[32], sig_bytes[128];
    char hash_b64[64];
    int hashed = EVP_Digest(sc_buf_ptr(&canon), sc_buf_size(&canon), hash, NULL, EVP_sha256(), NULL) == 1;
    sc_buf_free(&canon);
    if (!hashed)
        abort();
    EVP_EncodeBlock((unsigned char *)hash_b64, hash, 32);
    if (strcmp(hash_b64, sc_buf_ptr(&bh)) != 0)
        goto out;

    /* The signed header fields, bottom-up per name. */
    char *names = sc_buf_strdup(&h), *save = NULL;
    char *used = calloc(fs->n + 1, 1);
    if (!names || !used)
        abort();
    for (char *name = strtok_r(names, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
        for (size_t i = fs->n; i-- > 0;) {
            if (used[i] || strcasecmp(fs->f[i].name, name) != 0)
                continue;
            used[i] = 1;
            refdkim_field(hrel, hdr + fs->f[i].start, fs->f[i].len, &data);
            if (sc_buf_append(&data, "\r\n", 2) < 0)
                abort();
            break;
        }
    }
    free(names);
    free(used);
    /* The signature field with the b= value left out: b= is its last tag. */
    const char *raw = hdr + sf->start;
    size_t cut = 0;
    for (size_t i = (size_t)((const char *)memchr(raw, ':', sf->len) - raw) + 1; i < sf->len;) {
        while (i < sf->len && (ref_is_wsp(raw[i]) || raw[i] == '\r' || raw[i] == '\n'))
            i++;
        size_t k = i + 1;
        while (k < sf->len && ref_is_wsp(raw[k]))
            k++;
        if (i < sf->len && raw[i] == 'b' && k < sf->len && raw[k] == '=')
            cut = k + 1;
        while (i < sf->len && raw[i] != ';')
            i++;
        i++;
    }
    if (cut == 0 || memchr(raw + cut, ';', sf->len - cut))
        goto out;
    refdkim_field(hrel, raw, cut, &data);

    /* Ed25519 over the SHA-256 of that data. */
    int sig_len = EVP_DecodeBlock(sig_bytes, (const unsigned char *)sc_buf_ptr(&b), (int)sc_buf_size(&b));
    if (sc_buf_size(&b) != 88 || sig_len != 66) /* 64 bytes: two '=' of padding decode as two zeros */
        goto out;
    if (EVP_Digest(sc_buf_ptr(&data), sc_buf_size(&data), hash, NULL, EVP_sha256(), NULL) != 1)
        abort();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        abort();
    ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 && EVP_DigestVerify(ctx, sig_bytes, 64, hash, 32) == 1;
    EVP_MD_CTX_free(ctx);
out:
    sc_buf_free(&c);
    sc_buf_free(&h);
    sc_buf_free(&bh);
    sc_buf_free(&b);
    sc_buf_free(&data);
    return ok;
}

#endif
