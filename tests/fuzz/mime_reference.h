/* Reference readers for fuzz_message: what a strict, conforming reader makes
 * of the bytes the MIME builder writes, written from the RFCs (5322, 2045,
 * 2046, 2231) and independent of csrc/mime. Each parser returns 0 for input
 * that is well-formed by the rules the builder promises, -1 otherwise; the
 * target then traps. Static functions for one includer (fuzz_message.c). */
#ifndef FUZZ_MIME_REFERENCE_H
#define FUZZ_MIME_REFERENCE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

/* ------------------------------------------------------------ header fields */

typedef struct ref_field {
    char *name;     /* as written */
    char *value;    /* unfolded: each CRLF removed, the whitespace after it kept */
    size_t start;   /* the raw field, continuation lines included, without its final CRLF */
    size_t len;
} ref_field;

typedef struct ref_fields {
    ref_field *f;
    size_t n;
} ref_fields;

static void ref_fields_free(ref_fields *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->f[i].name);
        free(fs->f[i].value);
    }
    free(fs->f);
    fs->f = NULL;
    fs->n = 0;
}

static int ref_is_wsp(char c) { return c == ' ' || c == '\t'; }

/* Put a NUL after the bytes (not counted), so the value reads as a C string. */
static void ref_buf_terminate(sc_buf *b)
{
    if (sc_buf_append(b, "", 1) < 0)
        abort();
    b->len--;
}

/* A header block of CRLF lines (without the blank line that ends it): every
 * line is "Name:" with a name of printable ASCII but ':', or a continuation
 * of the field before it, starting with SP or HTAB and holding more than
 * whitespace (a blank-looking line ends the header for some readers). */
static int ref_parse_fields(const char *p, size_t n, ref_fields *out)
{
    out->f = NULL;
    out->n = 0;
    size_t cap = 0;
    for (size_t s = 0; s < n;) {
        const char *crlf = memmem(p + s, n - s, "\r\n", 2);
        if (!crlf)
            return -1;
        size_t e = (size_t)(crlf - p);
        if (e == s)
            return -1;
        if (ref_is_wsp(p[s])) {
            size_t k = s;
            while (k < e && ref_is_wsp(p[k]))
                k++;
            if (out->n == 0 || k == e)
                return -1;
            ref_field *f = &out->f[out->n - 1];
            size_t old = strlen(f->value);
            char *v = realloc(f->value, old + (e - s) + 1);
            if (!v)
                abort();
            memcpy(v + old, p + s, e - s);
            v[old + e - s] = '\0';
            f->value = v;
            f->len = e - f->start;
        } else {
            const char *colon = memchr(p + s, ':', e - s);
            if (!colon || colon == p + s)
                return -1;
            for (const char *c = p + s; c < colon; c++)
                if ((unsigned char)*c < 33 || (unsigned char)*c > 126)
                    return -1;
            if (out->n == cap) {
                cap = cap ? cap * 2 : 16;
                ref_field *nf = realloc(out->f, cap * sizeof *nf);
                if (!nf)
                    abort();
                out->f = nf;
            }
            ref_field *f = &out->f[out->n++];
            f->name = strndup(p + s, (size_t)(colon - (p + s)));
            f->value = strndup(colon + 1, (size_t)(p + e - (colon + 1)));
            if (!f->name || !f->value)
                abort();
            f->start = s;
            f->len = e - s;
        }
        s = e + 2;
    }
    return 0;
}

/* The value without leading and trailing whitespace, as a span. */
static void ref_trim(const char **s, size_t *n)
{
    while (*n && ref_is_wsp((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && ref_is_wsp((*s)[*n - 1]))
        (*n)--;
}

/* ------------------------------------------------------------ parameters */

#define REF_MAX_PARAMS 16

typedef struct ref_param {
    char *name;
    char *value;    /* quoted-strings unescaped */
    size_t len;
} ref_param;

typedef struct ref_params {
    char *head;     /* the media type or disposition, before the first ';' */
    ref_param p[REF_MAX_PARAMS];
    size_t n;
} ref_params;

static void ref_params_free(ref_params *ps)
{
    free(ps->head);
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->p[i].name);
        free(ps->p[i].value);
    }
    memset(ps, 0, sizeof *ps);
}

/* "head; a=token; b=\"quoted \\\" string\"; c*=UTF-8''%C3%A4" (unfolded). */
static int ref_parse_params(const char *v, ref_params *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0, n = strlen(v);
    while (i < n && ref_is_wsp(v[i]))
        i++;
    size_t h = i;
    while (i < n && v[i] != ';' && !ref_is_wsp(v[i]))
        i++;
    if (i == h || !(out->head = strndup(v + h, i - h)))
        return -1;
    for (;;) {
        while (i < n && ref_is_wsp(v[i]))
            i++;
        if (i == n)
            return 0;
        if (v[i] != ';' || out->n == REF_MAX_PARAMS)
            return -1;
        i++;
        while (i < n && ref_is_wsp(v[i]))
            i++;
        size_t a = i;
        while (i < n && v[i] != '=' && !ref_is_wsp(v[i]) && v[i] != ';' && v[i] != '"')
            i++;
        if (i == a || i == n || v[i] != '=')
            return -1;
        ref_param *p = &out->p[out->n++];
        if (!(p->name = strndup(v + a, i - a)) || !(p->value = malloc(n - i + 1)))
            abort();
        i++;
        if (i < n && v[i] == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                if (v[i] == '\\' && ++i == n)
                    return -1;
                p->value[p->len++] = v[i];
            }
            if (i == n)
                return -1;
            i++;
        } else {
            while (i < n && v[i] != ';' && !ref_is_wsp(v[i]) && v[i] != '"')
                p->value[p->len++] = v[i++];
            if (p->len == 0)
                return -1;
        }
        p->value[p->len] = '\0';
    }
}

static const ref_param *ref_param_named(const ref_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!strcasecmp(ps->p[i].name, name))
            return &ps->p[i];
    return NULL;
}

static int ref_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* %XX decoding of an RFC 2231 section; with_charset: it starts "UTF-8''". */
static int ref_pct_decode(const char *s, size_t n, int with_charset, sc_buf *out)
{
    if (with_charset) {
        if (n < 7 || strncasecmp(s, "UTF-8''", 7) != 0)
            return -1;
        s += 7;
        n -= 7;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            if (sc_buf_append(out, &s[i], 1) < 0)
                abort();
            continue;
        }
        if (i + 2 >= n || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0)
            return -1;
        char c = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
        if (sc_buf_append(out, &c, 1) < 0)
            abort();
        i += 2;
    }
    return 0;
}

/* A parameter's value as an RFC 2231 reader takes it: name*= or the
 * name*0*=, name*1*=... continuations when present, else name=. 1 and the
 * value in out, 0 if absent, -1 if malformed. */
static int ref_param_value_raw(const ref_params *ps, const char *name, sc_buf *out)
{
    char key[80];
    snprintf(key, sizeof key, "%s*", name);
    const ref_param *p = ref_param_named(ps, key);
    if (p)
        return ref_pct_decode(p->value, p->len, 1, out) < 0 ? -1 : 1;
    int found = 0;
    for (unsigned k = 0;; k++) {
        snprintf(key, sizeof key, "%s*%u*", name, k);
        if ((p = ref_param_named(ps, key))) {
            if (ref_pct_decode(p->value, p->len, k == 0, out) < 0)
                return -1;
        } else {
            snprintf(key, sizeof key, "%s*%u", name, k);
            if (!(p = ref_param_named(ps, key)))
                break;
            if (sc_buf_append(out, p->value, p->len) < 0)
                abort();
        }
        found = 1;
    }
    if (found)
        return 1;
    if (!(p = ref_param_named(ps, name)))
        return 0;
    if (sc_buf_append(out, p->value, p->len) < 0)
        abort();
    return 1;
}

/* The same, the value NUL-terminated. */
static int ref_param_value(const ref_params *ps, const char *name, sc_buf *out)
{
    int rc = ref_param_value_raw(ps, name, out);
    ref_buf_terminate(out);
    return rc;
}

/* ------------------------------------------------------- transfer encodings */

static int ref_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 as the encoder must write it: lines of exactly 76 characters but
 * the last, each ending in CRLF, '=' only as the padding of the last group. */
static int ref_b64_decode(const char *p, size_t n, sc_buf *out)
{
    size_t s = 0;
    while (s < n) {
        const char *crlf = memmem(p + s, n - s, "\r\n", 2);
        if (!crlf)
            return -1;
        size_t e = (size_t)(crlf - p), len = e - s;
        int last = e + 2 == n;
        if (len == 0 || len % 4 || len > 76 || (!last && len != 76))
            return -1;
        for (size_t q = s; q < e; q += 4) {
            int v[4], pad = 0;
            for (int k = 0; k < 4; k++) {
                v[k] = ref_b64_value(p[q + k]);
                if (p[q + k] == '=' && last && q + 4 == e && k >= 2) {
                    pad++;
                    v[k] = 0;
                } else if (v[k] < 0 || pad) {
                    return -1;
                }
            }
            unsigned char b[3] = {(unsigned char)(v[0] << 2 | v[1] >> 4), (unsigned char)(v[1] << 4 | v[2] >> 2),
                                  (unsigned char)(v[2] << 6 | v[3])};
            if (sc_buf_append(out, b, (size_t)(3 - pad)) < 0)
                abort();
        }
        s = e + 2;
    }
    return 0;
}

/* Quoted-printable as RFC 2045 6.7 allows and the encoder promises: lines of
 * at most 76 characters ending in CRLF; '=' only in "=XX" (uppercase hex) or
 * as the last character of a line (a soft break); no SP or HTAB at the end of
 * a line; only printable ASCII and HTAB; and no line that starts with '.' or
 * "From " (escaped for old MTAs). Hard line breaks decode to CRLF. */
static int ref_qp_decode(const char *p, size_t n, sc_buf *out)
{
    size_t s = 0;
    while (s < n) {
        const char *crlf = memmem(p + s, n - s, "\r\n", 2);
        if (!crlf)
            return -1;
        size_t e = (size_t)(crlf - p);
        if (e - s > 76 || (e > s && ref_is_wsp(p[e - 1])) || (e > s && p[s] == '.') ||
            (e - s >= 5 && memcmp(p + s, "From ", 5) == 0))
            return -1;
        int soft = 0;
        for (size_t i = s; i < e; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '=') {
                if (i + 1 == e) {
                    soft = 1;
                    break;
                }
                if (i + 2 >= e || ref_hex(p[i + 1]) < 0 || ref_hex(p[i + 2]) < 0 ||
                    (p[i + 1] >= 'a' && p[i + 1] <= 'f') || (p[i + 2] >= 'a' && p[i + 2] <= 'f'))
                    return -1;
                char b = (char)(ref_hex(p[i + 1]) * 16 + ref_hex(p[i + 2]));
                if (sc_buf_append(out, &b, 1) < 0)
                    abort();
                i += 2;
                continue;
            }
            if (!(c == '\t' || (c >= 32 && c < 127)))
                return -1;
            if (sc_buf_append(out, &p[i], 1) < 0)
                abort();
        }
        if (!soft && sc_buf_append(out, "\r\n", 2) < 0)
            abort();
        s = e + 2;
    }
    return 0;
}

/* Text with every line end (CRLF, bare CR, bare LF) made CRLF and the last
 * line terminated: what a text part's content must read back as. */
static void ref_normalise_lines(const char *in, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n')
            j++;
        if (sc_buf_append(out, in + i, j - i) < 0 || sc_buf_append(out, "\r\n", 2) < 0)
            abort();
        if (j < n && in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
            j++;
        i = j + 1;
    }
}

#endif
