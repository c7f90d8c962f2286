/* libFuzzer target for the header encoder (security notes, "Messages":
 * header injection, nodemailer CVE-2021-23400, Python CVE-2024-6923; unescaped
 * filename quotes, PHPMailer CVE-2020-13625).
 *
 * Input layout:
 *   byte 0   bit 0:    utf8_ok (SMTPUTF8)
 *            bits 1-3: the field name for the unstructured value, from names[]
 *                      (short to the 76-character maximum: first-line folding)
 *   rest     the value, any bytes
 *
 * The value is encoded as an unstructured field (all bytes, NULs included),
 * as a display name (mime_header_address_list and mime_format_mailbox) and as
 * a filename parameter (up to the first NUL for those C-string interfaces).
 * Checks:
 *   - accepted exactly when the value is valid UTF-8 without CR, LF or NUL;
 *     refused with a usage error and nothing appended otherwise;
 *   - the field ends with CRLF; CR and LF appear only as CRLF followed by a
 *     space or tab (folding); no NUL; no line over 998 octets and no line of
 *     only whitespace; nothing but ASCII unless utf8_ok;
 *   - every encoded-word ("=?" only ever starts one) is "=?UTF-8?B|Q?...?=",
 *     at most 75 octets, and decodes to whole UTF-8 characters;
 *   - unstructured: a line over 78 octets holds one word (folding was
 *     impossible), and decoding (unfold, RFC 2047 with the whitespace between
 *     adjacent encoded-words dropped) gives the value without its leading and
 *     trailing whitespace, with no plain word containing "=?";
 *   - the display name reads back (quoted-string unescaped, or words decoded)
 *     as the trimmed value, before "<a@example.com>";
 *   - the filename reads back exactly from the plain parameter (token,
 *     quoted-string, or the encoded-word fallback) and from the RFC 2231 form
 *     (continuations in order, percent-decoded) when there is one; without
 *     utf8_ok, non-ASCII always has both.
 * The reference decoders here are separate from the encoder. A violation
 * traps (__builtin_trap). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/header_encode.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_header_encode: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

static const char *const names[8] = {
    "Subject", "X", "Comments", "X-Twenty-Chars-Name-", "X-Forty-Characters-Long-Header-Name-0123",
    "X-Sixty-Characters-Long-Header-Field-Name-For-Folding-012345",
    "X-Seventy-Five-Characters-Long-Header-Field-Name-For-First-Line-Folding-012",
    "X-Seventy-Six-Characters-Long-Field-Name-01234567890123456789012345678901234",
};

/* ------------------------------------------------------- reference reader */

/* Strict UTF-8 (RFC 3629), written independently of the encoder's. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else
            return 0;
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static int acceptable(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return utf8_valid(s, n);
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* Wire form of one field; long_line_single: a line over 78 holds one word. */
static void check_wire(const char *p, size_t n, int utf8_ok, int long_line_single)
{
    CHECK(n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        CHECK(c != '\0');
        CHECK(utf8_ok || c < 0x80);
        CHECK(c != '\n' || (i > 0 && p[i - 1] == '\r'));
        if (c != '\r')
            continue;
        CHECK(i + 1 < n && p[i + 1] == '\n');
        CHECK(i + 2 == n || is_ws(p[i + 2]));
        size_t len = i - start;
        CHECK(len <= 998);
        size_t k = start;
        if (start == 0) {
            while (p[k] != ':')
                k++;
            k++;
        }
        while (k < i && is_ws(p[k]))
            k++;
        CHECK(start == 0 || k < i); /* not only whitespace */
        if (len > 78 && long_line_single)
            for (size_t j = k; j < i; j++)
                CHECK(!is_ws(p[j]));
        start = i + 2;
        i++;
    }
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '=' && p[i + 1] == '?') {
            size_t j = i + 2, q = 0;
            while (j + 1 < n && !(q >= 2 && p[j] == '?' && p[j + 1] == '=')) {
                CHECK(!is_ws(p[j]) && p[j] != '\r');
                q += p[j] == '?';
                j++;
            }
            CHECK(j + 1 < n);
            CHECK(j + 2 - i <= 75);
            i = j + 1;
        }
}

/* Unfolded value after "Name:" (the final CRLF dropped). */
static void unfold(const char *p, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (p[i] != ':')
        i++;
    for (i++; i < n - 2; i++) {
        if (p[i] == '\r') {
            i++;
            continue;
        }
        sc_buf_append(out, p + i, 1);
    }
}

static int hexv(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* 1: w is an encoded-word, decoded into out; 0: not one (no "=?" start). */
static int ew_decode(const char *w, size_t n, sc_buf *out)
{
    if (n < 2 || w[0] != '=' || w[1] != '?')
        return 0;
    CHECK(n >= 12 && n <= 75 && !memcmp(w, "=?UTF-8?", 8) && (w[8] == 'B' || w[8] == 'Q') && w[9] == '?' &&
          w[n - 2] == '?' && w[n - 1] == '=');
    const char *t = w + 10;
    size_t tn = n - 12;
    unsigned char dec[64];
    size_t dn = 0;
    if (w[8] == 'B') {
        CHECK(tn % 4 == 0);
        for (size_t i = 0; i < tn; i += 4) {
            int v[4];
            for (int k = 0; k < 4; k++) {
                v[k] = t[i + k] == '=' && k >= 2 && i + 4 == tn ? 0 : b64v(t[i + k]);
                CHECK(v[k] >= 0);
            }
            uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
            dec[dn++] = (unsigned char)(x >> 16);
            if (t[i + 2] != '=')
                dec[dn++] = (unsigned char)(x >> 8);
            if (t[i + 3] != '=')
                dec[dn++] = (unsigned char)x;
        }
    } else {
        for (size_t i = 0; i < tn; i++) {
            if (t[i] == '_')
                dec[dn++] = ' ';
            else if (t[i] == '=') {
                CHECK(i + 2 < tn);
                int h = hexv(t[i + 1]), l = hexv(t[i + 2]);
                CHECK(h >= 0 && l >= 0);
                dec[dn++] = (unsigned char)(h << 4 | l);
                i += 2;
            } else {
                CHECK(t[i] > 0x20 && t[i] < 0x7f && t[i] != '?');
                dec[dn++] = (unsigned char)t[i];
            }
        }
    }
    CHECK(dn > 0 && utf8_valid(dec, dn)); /* whole characters in every word */
    sc_buf_append(out, dec, dn);
    return 1;
}

/* RFC 2047 reading of words: encoded-words decoded, the whitespace between
 * two of them dropped, everything else kept; leading whitespace skipped. */
static void decode_words(const char *v, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (i < n && is_ws(v[i]))
        i++;
    int last_ew = 0;
    while (i < n) {
        size_t ws = i;
        while (i < n && is_ws(v[i]))
            i++;
        size_t w = i;
        while (i < n && !is_ws(v[i]))
            i++;
        CHECK(i > w); /* no trailing whitespace */
        sc_buf word;
        sc_buf_init(&word);
        int ew = ew_decode(v + w, i - w, &word);
        if (!(ew && last_ew))
            sc_buf_append(out, v + ws, w - ws);
        if (ew)
            sc_buf_append(out, sc_buf_ptr(&word), sc_buf_size(&word));
        else
            sc_buf_append(out, v + w, i - w);
        sc_buf_free(&word);
        last_ew = ew;
    }
}

static void trim(const unsigned char **s, size_t *n)
{
    while (*n && is_ws((char)(*s)[0]))
        (*s)++, (*n)--;
    while (*n && is_ws((char)(*s)[*n - 1]))
        (*n)--;
}

static void check_same(const sc_buf *got, const unsigned char *want, size_t n)
{
    CHECK(sc_buf_size(got) == n && (n == 0 || memcmp(sc_buf_ptr(got), want, n) == 0));
}

/* A mailbox "phrase <a@example.com>" or "a@example.com" (unfolded). */
static void check_mailbox(const char *v, size_t n, const unsigned char *want, size_t wn)
{
    static const char addr[] = "a@example.com";
    const size_t al = sizeof addr - 1;
    while (n && v[0] == ' ')
        v++, n--;
    if (wn == 0) {
        CHECK(n == al && !memcmp(v, addr, al));
        return;
    }
    CHECK(n > al + 3 && !memcmp(v + n - al - 3, " <a@example.com>", al + 3));
    n -= al + 3;
    sc_buf dn;
    sc_buf_init(&dn);
    if (v[0] == '"') {
        size_t i = 1;
        for (; i < n && v[i] != '"'; i++) {
            if (v[i] == '\\')
                i++;
            CHECK(i < n);
            sc_buf_append(&dn, v + i, 1);
        }
        CHECK(i + 1 == n);
    } else {
        for (size_t i = 0; i < n; i++)
            CHECK(v[i] != '"' && v[i] != '<' && v[i] != '>' && v[i] != ',');
        decode_words(v, n, &dn);
    }
    check_same(&dn, want, wn);
    sc_buf_free(&dn);
}

/* The filename from "attachment; ...": plain and RFC 2231 forms. */
static void check_filename(const char *v, size_t n, const unsigned char *want, size_t wn, int utf8_ok)
{
    sc_buf plain, ext;
    sc_buf_init(&plain);
    sc_buf_init(&ext);
    int seen_plain = 0, seen_ext = 0;
    unsigned next_seg = 0;
    const char *end = v + n;
    CHECK(n >= 11 && !memcmp(v, " attachment", 11));
    const char *p = v + 11;
    while (p < end) {
        CHECK(*p == ';');
        p++;
        while (p < end && is_ws(*p))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        CHECK(eq != NULL);
        size_t nl = (size_t)(eq - p);
        const char *q = eq + 1;
        sc_buf raw;
        sc_buf_init(&raw);
        if (q < end && *q == '"') {
            for (q++; q < end && *q != '"'; q++) {
                if (*q == '\\')
                    q++;
                CHECK(q < end);
                sc_buf_append(&raw, q, 1);
            }
            CHECK(q < end);
            q++;
        } else {
            const char *s = q;
            while (q < end && *q != ';')
                q++;
            CHECK(q > s);
            sc_buf_append(&raw, s, (size_t)(q - s));
        }
        if (nl == 8 && !memcmp(p, "filename", 8)) {
            CHECK(!seen_plain && !seen_ext);
            seen_plain = 1;
            /* the fallback is encoded-words; otherwise the value as is */
            if (sc_buf_size(&raw) >= 2 && !memcmp(sc_buf_ptr(&raw), "=?", 2))
                decode_words(sc_buf_ptr(&raw), sc_buf_size(&raw), &plain);
            else
                sc_buf_append(&plain, sc_buf_ptr(&raw), sc_buf_size(&raw));
        } else {
            CHECK(nl >= 9 && !memcmp(p, "filename*", 9));
            unsigned seg = 0;
            if (nl > 10) {
                char num[16] = {0};
                CHECK(p[nl - 1] == '*' && nl - 10 < sizeof num);
                memcpy(num, p + 9, nl - 10);
                seg = (unsigned)strtoul(num, NULL, 10);
            }
            CHECK(seg == next_seg);
            next_seg++;
            const char *r = sc_buf_ptr(&raw), *re = r + sc_buf_size(&raw);
            if (seg == 0) {
                CHECK(re - r >= 7 && !memcmp(r, "UTF-8''", 7));
                r += 7;
            }
            for (; r < re; r++) {
                if (*r == '%') {
                    CHECK(re - r >= 3 && hexv(r[1]) >= 0 && hexv(r[2]) >= 0);
                    unsigned char b = (unsigned char)(hexv(r[1]) << 4 | hexv(r[2]));
                    sc_buf_append(&ext, &b, 1);
                    r += 2;
                } else {
                    CHECK(strchr("!#$&+-.^_`|~", *r) || (*r >= '0' && *r <= '9') || (*r >= 'a' && *r <= 'z') ||
                          (*r >= 'A' && *r <= 'Z'));
                    sc_buf_append(&ext, r, 1);
                }
            }
            seen_ext = 1;
        }
        sc_buf_free(&raw);
        p = q;
    }
    CHECK(seen_plain || seen_ext);
    if (seen_plain)
        check_same(&plain, want, wn);
    if (seen_ext)
        check_same(&ext, want, wn);
    int non_ascii = 0;
    for (size_t i = 0; i < wn; i++)
        non_ascii |= want[i] >= 0x80;
    if (non_ascii && !utf8_ok)
        CHECK(seen_plain && seen_ext);
    sc_buf_free(&plain);
    sc_buf_free(&ext);
}

/* ----------------------------------------------------------------- target */

static void check_refused(int rc, const sc_buf *b, smtpcore_error *err)
{
    CHECK(rc == -1);
    CHECK(err->category == SMTPCORE_ERR_USAGE);
    CHECK(err->message && !strpbrk(err->message, "\r\n"));
    CHECK(sc_buf_size(b) == 1);
    smtpcore_error_clear(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int utf8_ok = data[0] & 1;
    const char *name = names[(data[0] >> 1) & 7];
    const unsigned char *v = data + 1;
    size_t n = size - 1;
    int ok = acceptable(v, n);
    sc_buf b, u;
    sc_buf_init(&b);
    sc_buf_init(&u);
    smtpcore_error err = {0};

    /* unstructured */
    sc_buf_append(&b, "X", 1);
    int rc = mime_header_unstructured(&b, name, (const char *)v, n, utf8_ok, &err);
    if (!ok)
        check_refused(rc, &b, &err);
    else {
        CHECK(rc == 0);
        const char *p = sc_buf_ptr(&b) + 1;
        size_t pn = sc_buf_size(&b) - 1;
        CHECK(pn > strlen(name) && !memcmp(p, name, strlen(name)) && p[strlen(name)] == ':');
        check_wire(p, pn, utf8_ok, 1);
        unfold(p, pn, &u);
        sc_buf dec;
        sc_buf_init(&dec);
        decode_words(sc_buf_ptr(&u), sc_buf_size(&u), &dec);
        const unsigned char *t = v;
        size_t tn = n;
        trim(&t, &tn);
        check_same(&dec, t, tn);
        sc_buf_free(&dec);
    }

    /* C-string interfaces: up to the first NUL */
    char *cs = malloc(n + 1);
    if (!cs)
        return 0;
    memcpy(cs, v, n);
    cs[n] = '\0';
    size_t cn = strlen(cs);
    ok = acceptable((const unsigned char *)cs, cn);
    const unsigned char *t = (const unsigned char *)cs;
    size_t tn = cn;
    trim(&t, &tn);

    /* display name, in a list and alone */
    mime_addr_item items[2] = {{cs, "a@example.com"}, {"Second", "b@example.org"}};
    for (size_t k = 1; k <= 2; k++) {
        sc_buf_reset(&b);
        sc_buf_reset(&u);
        sc_buf_append(&b, "X", 1);
        rc = mime_header_address_list(&b, "From", items, k, utf8_ok, &err);
        if (!ok) {
            check_refused(rc, &b, &err);
            continue;
        }
        CHECK(rc == 0);
        check_wire(sc_buf_ptr(&b) + 1, sc_buf_size(&b) - 1, utf8_ok, 0);
        unfold(sc_buf_ptr(&b) + 1, sc_buf_size(&b) - 1, &u);
        size_t un = sc_buf_size(&u);
        if (k == 2) {
            static const char tail[] = ", Second <b@example.org>";
            CHECK(un >= sizeof tail - 1 && !memcmp(sc_buf_ptr(&u) + un - (sizeof tail - 1), tail, sizeof tail - 1));
            un -= sizeof tail - 1;
        }
        check_mailbox(sc_buf_ptr(&u), un, t, tn);
    }
    sc_buf_reset(&b);
    sc_buf_append(&b, "X", 1);
    rc = mime_format_mailbox(&b, cs, "a@example.com", utf8_ok, &err);
    if (!ok)
        check_refused(rc, &b, &err);
    else {
        CHECK(rc == 0);
        for (size_t i = 1; i < sc_buf_size(&b); i++)
            CHECK(sc_buf_ptr(&b)[i] != '\r' && sc_buf_ptr(&b)[i] != '\n' && (utf8_ok || (unsigned char)sc_buf_ptr(&b)[i] < 0x80));
        check_mailbox(sc_buf_ptr(&b) + 1, sc_buf_size(&b) - 1, t, tn);
    }

    /* filename parameter */
    mime_param fp = {"filename", cs};
    sc_buf_reset(&b);
    sc_buf_reset(&u);
    sc_buf_append(&b, "X", 1);
    rc = mime_header_with_params(&b, "Content-Disposition", "attachment", &fp, 1, utf8_ok, &err);
    if (!ok)
        check_refused(rc, &b, &err);
    else {
        CHECK(rc == 0);
        check_wire(sc_buf_ptr(&b) + 1, sc_buf_size(&b) - 1, utf8_ok, 0);
        unfold(sc_buf_ptr(&b) + 1, sc_buf_size(&b) - 1, &u);
        check_filename(sc_buf_ptr(&u), sc_buf_size(&u), (const unsigned char *)cs, cn, utf8_ok);
    }

    free(cs);
    sc_buf_free(&b);
    sc_buf_free(&u);
    smtpcore_error_clear(&err);
    return 0;
}
