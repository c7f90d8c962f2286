/* Header fields as bytes: exact output for typical values, and for hard ones
 * (CJK, emoji, long filenames) the properties a reader relies on, checked by
 * decoding the output with a small independent decoder: CRLF only as folding
 * before whitespace, lines within 78 (998 at most), encoded-words within 75
 * octets that each hold whole characters, and the decoded text exactly the
 * input. Values that could inject a header are refused and append nothing. */
#include <stdlib.h>

#include "mime/header_encode.h"
#include "testlib.h"

/* ---------------------------------------------------------- a small reader */

static int utf8_ok_bytes(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) || (c == 0xf0 && s[i + 1] < 0x90) ||
            (c == 0xf4 && s[i + 1] > 0x8f))
            return 0;
        i += len;
    }
    return 1;
}

typedef struct wire_stats {
    size_t lines, longest, longest_ew, ews;
} wire_stats;

/* The field is well formed on the wire: ends in CRLF, CR and LF only as a
 * CRLF followed by whitespace (folding), no NUL, lines <= 998, ASCII unless
 * allowed; no line is only whitespace. */
static int wire_ok(const char *p, size_t n, int allow_8bit, wire_stats *st)
{
    memset(st, 0, sizeof *st);
    if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
        return 0;
    size_t line_start = 0;
    int only_ws = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\0' || (c >= 0x80 && !allow_8bit))
            return 0;
        if (c == '\n' && (i == 0 || p[i - 1] != '\r'))
            return 0;
        if (c == '\r') {
            if (i + 1 >= n || p[i + 1] != '\n')
                return 0;
            if (i + 2 < n && p[i + 2] != ' ' && p[i + 2] != '\t')
                return 0;
            size_t len = i - line_start;
            if (len > 998 || only_ws)
                return 0;
            st->lines++;
            if (len > st->longest)
                st->longest = len;
            line_start = i + 2;
            only_ws = 1;
            i++;
            continue;
        }
        if (c != ' ' && c != '\t')
            only_ws = 0;
    }
    /* encoded-word sizes: every "=?" in our output starts one */
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '=' && p[i + 1] == '?') {
            size_t q = 0, j = i + 2;
            while (j + 1 < n && !(q >= 2 && p[j] == '?' && p[j + 1] == '=')) {
                if (p[j] == '?')
                    q++;
                j++;
            }
            size_t len = j + 2 - i;
            st->ews++;
            if (len > st->longest_ew)
                st->longest_ew = len;
            i = j + 1;
        }
    return 1;
}

/* The value after "Name:" with the folding removed, NUL-terminated. */
static char *unfold_value(const char *p, size_t n, const char *name)
{
    size_t nl = strlen(name);
    if (n < nl + 3 || memcmp(p, name, nl) != 0 || p[nl] != ':')
        return NULL;
    char *v = malloc(n);
    size_t o = 0;
    for (size_t i = nl + 1; i < n - 2; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            i++;
            continue;
        }
        v[o++] = p[i];
    }
    v[o] = '\0';
    return v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* we only ever write upper case */
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* 1 and the decoded bytes if w is a well-formed UTF-8 encoded-word of at
 * most 75 octets holding whole characters; 0 if w does not look like one;
 * -1 if it looks like one but is broken. */
static int ew_decode(const char *w, size_t n, sc_buf *out)
{
    if (n < 2 || w[0] != '=' || w[1] != '?')
        return 0;
    if (n > 75 || n < 12 || memcmp(w, "=?UTF-8?", 8) != 0 || w[9] != '?' || w[n - 2] != '?' || w[n - 1] != '=')
        return -1;
    char enc = w[8];
    const char *t = w + 10;
    size_t tn = n - 12;
    unsigned char dec[64];
    size_t dn = 0;
    if (enc == 'B') {
        if (tn % 4)
            return -1;
        for (size_t i = 0; i < tn; i += 4) {
            int v[4];
            for (int k = 0; k < 4; k++)
                v[k] = t[i + k] == '=' ? 0 : b64val(t[i + k]);
            if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
                return -1;
            unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
            dec[dn++] = (unsigned char)(x >> 16);
            if (t[i + 2] != '=')
                dec[dn++] = (unsigned char)(x >> 8);
            if (t[i + 3] != '=')
                dec[dn++] = (unsigned char)x;
        }
    } else if (enc == 'Q') {
        for (size_t i = 0; i < tn; i++) {
            char c = t[i];
            if (c == '_')
                dec[dn++] = ' ';
            else if (c == '=') {
                if (i + 2 >= tn)
                    return -1;
                int h = hexval(t[i + 1]), l = hexval(t[i + 2]);
                if (h < 0 || l < 0)
                    return -1;
                dec[dn++] = (unsigned char)(h << 4 | l);
                i += 2;
            } else if (c > 0x20 && c < 0x7f && c != '?')
                dec[dn++] = (unsigned char)c;
            else
                return -1;
        }
    } else
        return -1;
    if (dn == 0 || !utf8_ok_bytes(dec, dn)) /* no split characters */
        return -1;
    sc_buf_append(out, dec, dn);
    return 1;
}

/* RFC 2047 reading of unstructured text (or a phrase of words): encoded-words
 * decoded, whitespace between two of them dropped, the rest kept. Plain
 * words must not contain "=?" (lenient readers would decode them). */
static int decode_words(const char *v, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    int last_ew = 0;
    size_t ws_start = i, ws_len = 0;
    while (i < n) {
        ws_start = i;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        ws_len = i - ws_start;
        size_t w = i;
        while (i < n && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i == w)
            break; /* trailing whitespace */
        sc_buf word;
        sc_buf_init(&word);
        int r = ew_decode(v + w, i - w, &word);
        if (r < 0) {
            sc_buf_free(&word);
            return -1;
        }
        if (!(r == 1 && last_ew))
            sc_buf_append(out, v + ws_start, ws_len);
        if (r == 1)
            sc_buf_append(out, sc_buf_ptr(&word), sc_buf_size(&word));
        else {
            for (size_t k = w; k + 1 < i; k++)
                if (v[k] == '=' && v[k + 1] == '?') {
                    sc_buf_free(&word);
                    return -1;
                }
            sc_buf_append(out, v + w, i - w);
        }
        last_ew = r == 1;
        sc_buf_free(&word);
    }
    return 0;
}

/* A display name: a quoted-string, or words (atoms or encoded-words). */
static int decode_phrase(const char *v, size_t n, sc_buf *out)
{
    while (n && v[0] == ' ') {
        v++;
        n--;
    }
    if (n && v[0] == '"') {
        size_t i = 1;
        for (; i < n && v[i] != '"'; i++) {
            if (v[i] == '\\')
                i++;
            if (i < n)
                sc_buf_append(out, v + i, 1);
        }
        return i + 1 == n ? 0 : -1;
    }
    return decode_words(v, n, out);
}

/* A whole unstructured field decoded; NULL if anything is off. */
static char *read_unstructured(const sc_buf *field, const char *name, int allow_8bit, wire_stats *st)
{
    if (!wire_ok(sc_buf_ptr(field), sc_buf_size(field), allow_8bit, st))
        return NULL;
    char *v = unfold_value(sc_buf_ptr(field), sc_buf_size(field), name);
    if (!v)
        return NULL;
    sc_buf out;
    sc_buf_init(&out);
    int rc = decode_words(v, strlen(v), &out);
    free(v);
    char *s = rc == 0 ? sc_buf_strdup(&out) : NULL;
    sc_buf_free(&out);
    return s;
}

static int hex2(const char *p)
{
    int h = hexval(p[0]), l = hexval(p[1]);
    return h < 0 || l < 0 ? -1 : h << 4 | l;
}

/* Parameter pname from an unfolded "type; a=b; c*0*=..." value: the plain
 * form (quoted-string unescaped, then any encoded-words decoded) into plain,
 * the RFC 2231 form (continuations joined, percent-decoded) into ext.
 * Returns a bitmask: 1 plain seen, 2 extended seen; -1 if malformed. */
static int read_param(const char *v, const char *pname, sc_buf *plain, sc_buf *ext)
{
    int seen = 0;
    unsigned next_seg = 0;
    size_t pl = strlen(pname);
    const char *p = strchr(v, ';');
    while (p) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            return -1;
        const char *val = eq + 1, *end;
        sc_buf raw;
        sc_buf_init(&raw);
        if (*val == '"') {
            end = val + 1;
            while (*end && *end != '"') {
                if (*end == '\\')
                    end++;
                sc_buf_append(&raw, end, 1);
                end++;
            }
            if (*end != '"') {
                sc_buf_free(&raw);
                return -1;
            }
            end++;
        } else {
            end = val;
            while (*end && *end != ';' && *end != ' ')
                end++;
            sc_buf_append(&raw, val, (size_t)(end - val));
        }
        char *rv = sc_buf_strdup(&raw);
        sc_buf_free(&raw);
        size_t nl = (size_t)(eq - p);
        int rc = 0;
        if (nl == pl && !strncasecmp(p, pname, pl)) {
            if (decode_words(rv, strlen(rv), plain) < 0)
                rc = -1;
            seen |= 1;
        } else if (nl > pl && !strncasecmp(p, pname, pl) && p[pl] == '*') {
            const char *q = rv;
            unsigned seg = 0;
            int extended;
            if (nl == pl + 1) {
                extended = 1;
                seg = next_seg;
            } else {
                char *e2;
                seg = (unsigned)strtoul(p + pl + 1, &e2, 10);
                extended = *e2 == '*';
            }
            if (seg != next_seg)
                rc = -1;
            next_seg = seg + 1;
            if (seg == 0 && extended) {
                if (strncmp(q, "UTF-8''", 7) != 0)
                    rc = -1;
                q += 7;
            }
            for (; rc == 0 && *q; q++) {
                if (extended && *q == '%') {
                    int c = hex2(q + 1);
                    if (c < 0)
                        rc = -1;
                    unsigned char b = (unsigned char)c;
                    sc_buf_append(ext, &b, 1);
                    q += 2;
                } else
                    sc_buf_append(ext, q, 1);
            }
            seen |= 2;
        }
        free(rv);
        if (rc < 0)
            return -1;
        p = strchr(end, ';');
    }
    return seen;
}

/* ---------------------------------------------------------------- helpers */

static void expect_unstructured(const char *value, int utf8_ok, const char *expected)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    int rc = mime_header_unstructured(&b, "Subject", value, strlen(value), utf8_ok, &err);
    CHECK_INT_EQ(rc, 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), expected, strlen(expected));
    sc_buf_free(&b);
    smtpcore_error_clear(&err);
}

/* Encode, decode, compare; return the stats for more checks. */
static wire_stats roundtrip_unstructured(const char *name, const char *value, size_t len, const char *expect_decoded,
                                         int utf8_ok)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    wire_stats st = {0};
    CHECK_INT_EQ(mime_header_unstructured(&b, name, value, len, utf8_ok, &err), 0);
    char *dec = read_unstructured(&b, name, utf8_ok, &st);
    if (!dec)
        tl_dump_bytes("  malformed", sc_buf_ptr(&b), sc_buf_size(&b));
    CHECK(dec != NULL);
    if (dec)
        CHECK_STR_EQ(dec, expect_decoded);
    CHECK(st.longest_ew <= 75);
    free(dec);
    sc_buf_free(&b);
    smtpcore_error_clear(&err);
    return st;
}

static void expect_mailbox(const char *display, const char *addr, int utf8_ok, const char *expected)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_format_mailbox(&b, display, addr, utf8_ok, &err), 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), expected, strlen(expected));
    /* and it reads back as the display name */
    if (strchr(expected, '<')) {
        const char *p = sc_buf_ptr(&b);
        size_t n = sc_buf_size(&b);
        REQUIRE(n > strlen(addr) + 3);
        sc_buf dn;
        sc_buf_init(&dn);
        CHECK_INT_EQ(decode_phrase(p, n - strlen(addr) - 3, &dn), 0);
        char *s = sc_buf_strdup(&dn);
        const char *t = display;
        size_t tn = strlen(t);
        while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t'))
            tn--;
        while (tn && (*t == ' ' || *t == '\t')) {
            t++;
            tn--;
        }
        CHECK(strlen(s) == tn && memcmp(s, t, tn) == 0); /* leading and trailing whitespace are dropped */
        free(s);
        sc_buf_free(&dn);
    }
    sc_buf_free(&b);
    smtpcore_error_clear(&err);
}

static void expect_params(const char *name, const char *value, const mime_param *p, size_t n, int utf8_ok,
                          const char *expected)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_with_params(&b, name, value, p, n, utf8_ok, &err), 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), expected, strlen(expected));
    sc_buf_free(&b);
    smtpcore_error_clear(&err);
}

/* A refused value: usage error, a message that names the field and does not
 * carry the offending bytes, and nothing appended. */
static void check_refused(int rc, sc_buf *b, size_t before, smtpcore_error *err, const char *must_name)
{
    CHECK_INT_EQ(rc, -1);
    CHECK_INT_EQ(err->category, SMTPCORE_ERR_USAGE);
    CHECK_INT_EQ(sc_buf_size(b), before);
    REQUIRE(err->message != NULL);
    CHECK(strpbrk(err->message, "\r\n") == NULL);
    CHECK(strstr(err->message, "Bcc") == NULL);
    if (must_name)
        CHECK(strstr(err->message, must_name) != NULL);
    smtpcore_error_clear(err);
}

/* ----------------------------------------------------------- unstructured */

static void test_ascii_subject(void)
{
    expect_unstructured("Hello world", 0, "Subject: Hello world\r\n");
    expect_unstructured("  Hello   world \t", 0, "Subject: Hello   world\r\n");
    expect_unstructured("", 0, "Subject:\r\n");
    expect_unstructured("a\tb (c) \"d\" <e>", 0, "Subject: a\tb (c) \"d\" <e>\r\n");
}

static void test_long_ascii_subject_folded(void)
{
    expect_unstructured(
        "This is a fairly long ASCII subject line that will certainly need to be folded somewhere around here", 0,
        "Subject: This is a fairly long ASCII subject line that will certainly need to\r\n"
        " be folded somewhere around here\r\n");
    /* folding keeps the whitespace it folds at, tabs and runs included */
    const char *v = "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff gggggggggg\t\thhhhhhhhhh";
    expect_unstructured(v, 0,
                        "Subject: aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff\r\n"
                        " gggggggggg\t\thhhhhhhhhh\r\n");
    wire_stats st = roundtrip_unstructured("Subject", v, strlen(v), v, 0);
    CHECK(st.longest <= 78);
    CHECK_INT_EQ(st.ews, 0);
}

static void test_latin1_subject(void)
{
    expect_unstructured("Grüße aus Köln", 0, "Subject: =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=\r\n");
    /* Q when it is shorter; B otherwise */
    expect_unstructured("Abflug Zürich-Flughafen", 0, "Subject: Abflug =?UTF-8?Q?Z=C3=BCrich-Flughafen?=\r\n");
    /* the spaces of a run of non-ASCII words go inside the encoded-word */
    expect_unstructured("a ü b ü ü c", 0, "Subject: a =?UTF-8?B?w7w=?= b =?UTF-8?B?w7wgw7w=?= c\r\n");
    expect_unstructured("Äpfel,  Öl", 0, "Subject: =?UTF-8?B?w4RwZmVsLCAgw5Zs?=\r\n");
    roundtrip_unstructured("Subject", "Äpfel,  Öl", strlen("Äpfel,  Öl"), "Äpfel,  Öl", 0);
    /* raw with SMTPUTF8 */
    expect_unstructured("Grüße aus Köln", 1, "Subject: Grüße aus Köln\r\n");
}

static const char cjk[] = "日本語の件名がとても長い場合にはどうなるのでしょうか、試験、試験、試験、試験、試験、試験";
static const char emoji[] = "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗😚😙 party 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉";

static void test_cjk_and_emoji_subjects(void)
{
    expect_unstructured(cjk, 0,
                        "Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN44GM44Go44Gm44KC6ZW344GE5aC05ZCI?=\r\n"
                        " =?UTF-8?B?44Gr44Gv44Gp44GG44Gq44KL44Gu44Gn44GX44KH44GG44GL44CB6Kmm6aiT?=\r\n"
                        " =?UTF-8?B?44CB6Kmm6aiT44CB6Kmm6aiT44CB6Kmm6aiT44CB6Kmm6aiT44CB6Kmm6aiT?=\r\n");
    wire_stats st = roundtrip_unstructured("Subject", cjk, strlen(cjk), cjk, 0);
    CHECK(st.ews >= 3);
    CHECK(st.longest <= 78);
    st = roundtrip_unstructured("Subject", emoji, strlen(emoji), emoji, 0);
    CHECK(st.ews >= 3);
    CHECK(st.longest <= 78);
    /* three times as long, with a space in the middle of the run, under a long field name */
    char big[1024];
    snprintf(big, sizeof big, "%s %s %s", cjk, emoji, cjk);
    const char *longname = "X-A-Very-Long-Header-Field-Name-That-Leaves-Little-Room-On-The-First-Line";
    st = roundtrip_unstructured(longname, big, strlen(big), big, 0);
    CHECK(st.longest <= 78);
    CHECK(st.ews >= 10);
    /* raw UTF-8 words cannot be broken: a line as long as the longest word */
    st = roundtrip_unstructured(longname, big, strlen(big), big, 1);
    CHECK(st.longest > 78 && st.longest <= 998);
    CHECK_INT_EQ(st.ews, 0);
}

static void test_fake_encoded_words(void)
{
    expect_unstructured("Re: =?fake?= and =?UTF-8?Q?x?=", 0,
                        "Subject: Re: =?UTF-8?B?PT9mYWtlPz0=?= and =?UTF-8?B?PT9VVEYtOD9RP3g/PQ==?=\r\n");
    roundtrip_unstructured("Subject", "x=?y =?z", 8, "x=?y =?z", 0);
    /* still encoded with SMTPUTF8: it is about the reader, not the transport */
    expect_unstructured("=?fake?=", 1, "Subject: =?UTF-8?B?PT9mYWtlPz0=?=\r\n");
    /* ?= alone cannot start an encoded-word */
    expect_unstructured("what?= ok", 0, "Subject: what?= ok\r\n");
}

static void test_controls_are_encoded(void)
{
    expect_unstructured("bell\a here", 0, "Subject: =?UTF-8?Q?bell=07?= here\r\n");
    expect_unstructured("del\x7f", 1, "Subject: =?UTF-8?Q?del=7F?=\r\n");
}

static void test_overlong_words(void)
{
    /* up to 900 octets a word stays plain on a line of its own */
    char w[2100];
    memset(w, 'x', 900);
    memcpy(w, "see ", 4);
    w[900] = '\0';
    wire_stats st = roundtrip_unstructured("Subject", w, 900, w, 0);
    CHECK_INT_EQ(st.ews, 0);
    CHECK_INT_EQ(st.longest, 897);
    /* longer, it becomes encoded-words (Q: plain letters stay readable) */
    memset(w, 'y', 2000);
    memcpy(w, "see ", 4);
    w[2000] = '\0';
    st = roundtrip_unstructured("Subject", w, 2000, w, 0);
    CHECK(st.ews > 20);
    CHECK(st.longest <= 78);
    /* a long run of whitespace between words cannot be folded either */
    memset(w, ' ', 1500);
    w[0] = 'a';
    w[1499] = 'b';
    w[1500] = '\0';
    st = roundtrip_unstructured("Subject", w, 1500, w, 0);
    CHECK(st.longest <= 78);
    CHECK(st.ews > 10);
}

static void test_first_line_folding(void)
{
    /* a 76-character name leaves no room: fold after the colon */
    const char *name = "X-Seventy-Six-Characters-Long-Field-Name-01234567890123456789012345678901234";
    REQUIRE(strlen(name) == 76);
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_unstructured(&b, name, "short", 5, 0, &err), 0);
    sc_buf exp;
    sc_buf_init(&exp);
    sc_buf_printf(&exp, "%s:\r\n short\r\n", name);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), sc_buf_ptr(&exp), sc_buf_size(&exp));
    sc_buf_reset(&b);
    sc_buf_reset(&exp);
    CHECK_INT_EQ(mime_header_unstructured(&b, name, "ü", 2, 0, &err), 0);
    sc_buf_printf(&exp, "%s:\r\n =?UTF-8?B?w7w=?=\r\n", name);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), sc_buf_ptr(&exp), sc_buf_size(&exp));
    sc_buf_free(&b);
    sc_buf_free(&exp);
}

static void test_appends(void)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    sc_buf_append_str(&b, "From: a@b\r\n");
    sc_buf_consume(&b, 6); /* a buffer that has been read from */
    CHECK_INT_EQ(mime_header_unstructured(&b, "Subject", "x", 1, 0, &err), 0);
    CHECK_INT_EQ(mime_header_raw(&b, "MIME-Version", "1.0", &err), 0);
    const char *exp = "a@b\r\nSubject: x\r\nMIME-Version: 1.0\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));
    sc_buf_free(&b);
}

/* ------------------------------------------------------------------- raw */

static void test_raw(void)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_raw(&b, "References",
                                 "<aaaaaaaaaaaaaaaaaaaa@example.com> <bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@example.com> "
                                 "<ccccccccccccccccccccccccccc@example.com>",
                                 &err),
                 0);
    const char *exp = "References: <aaaaaaaaaaaaaaaaaaaa@example.com>\r\n"
                      " <bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@example.com>\r\n"
                      " <ccccccccccccccccccccccccccc@example.com>\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));
    sc_buf_reset(&b);
    CHECK_INT_EQ(mime_header_raw(&b, "Date", "Sat, 28 Nov 2026 19:07:40 +0100", &err), 0);
    exp = "Date: Sat, 28 Nov 2026 19:07:40 +0100\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));

    /* one unbreakable token: up to the 998 limit it goes (after a fold if
     * that makes room), past it the caller is told */
    char *big = malloc(1200);
    big[0] = '<';
    memset(big + 1, 'm', 993);
    memcpy(big + 994, "@x>", 4);
    sc_buf_reset(&b);
    CHECK_INT_EQ(mime_header_raw(&b, "Message-ID", big, &err), 0);
    wire_stats st;
    CHECK(wire_ok(sc_buf_ptr(&b), sc_buf_size(&b), 0, &st));
    CHECK_INT_EQ(st.lines, 2);
    CHECK_INT_EQ(st.longest, 998);
    memset(big + 1, 'm', 1100);
    memcpy(big + 1101, "@x>", 4);
    sc_buf_reset(&b);
    check_refused(mime_header_raw(&b, "Message-ID", big, &err), &b, 0, &err, "Message-ID");
    free(big);

    check_refused(mime_header_raw(&b, "List-Id", "Liste <ü.example>", &err), &b, 0, &err, "List-Id");
    check_refused(mime_header_raw(&b, "List-Id", "a\x01z", &err), &b, 0, &err, "List-Id");
    check_refused(mime_header_raw(&b, "In-Reply-To", "<a@b>\r\nBcc: victim@example.com", &err), &b, 0, &err,
                  "In-Reply-To");
    sc_buf_free(&b);
}

/* ----------------------------------------------------------------- phrases */

static void test_phrases(void)
{
    expect_mailbox("John Smith", "js@example.com", 0, "John Smith <js@example.com>");
    expect_mailbox("Last, First", "a@example.com", 0, "\"Last, First\" <a@example.com>");
    expect_mailbox("John Q. Public", "a@example.com", 0, "\"John Q. Public\" <a@example.com>");
    expect_mailbox("say \"hi\" \\o/", "a@example.com", 0, "\"say \\\"hi\\\" \\\\o/\" <a@example.com>");
    expect_mailbox("two  spaces", "a@example.com", 0, "\"two  spaces\" <a@example.com>");
    expect_mailbox("a@b.c", "x@example.com", 0, "\"a@b.c\" <x@example.com>");
    expect_mailbox("Jürgen Müller", "j@example.de", 0, "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.de>");
    expect_mailbox("Zürich-Flughafen AG", "a@example.ch", 0, "=?UTF-8?Q?Z=C3=BCrich-Flughafen_AG?= <a@example.ch>");
    /* 5(3): a comma inside a Q phrase word is encoded */
    expect_mailbox("Müller, Jürgen Alexander", "j@example.de", 0,
                   "=?UTF-8?Q?M=C3=BCller=2C_J=C3=BCrgen_Alexander?= <j@example.de>");
    expect_mailbox("=?fake?=", "a@example.com", 0, "=?UTF-8?B?PT9mYWtlPz0=?= <a@example.com>");
    expect_mailbox("Jürgen Müller", "j@example.de", 1, "Jürgen Müller <j@example.de>");
    expect_mailbox("Müller, Jürgen", "j@example.de", 1, "\"Müller, Jürgen\" <j@example.de>");
    expect_mailbox(NULL, "a@example.com", 0, "a@example.com");
    expect_mailbox("   ", "a@example.com", 0, "a@example.com");
    expect_mailbox(" padded ", "a@example.com", 0, "padded <a@example.com>");
    expect_mailbox("\"quoted local\"", "\"a b\"@example.com", 0, "\"\\\"quoted local\\\"\" <\"a b\"@example.com>");
    expect_mailbox("IP", "a@[192.0.2.1]", 0, "IP <a@[192.0.2.1]>");
    expect_mailbox("Jö", "jö@bücher.example", 1, "Jö <jö@bücher.example>");
    /* Unicode spaces are quoted, not left for a reader to split atoms at */
    expect_mailbox("Jö\u00a0Ö\u3000", "j@example.com", 1, "\"Jö\u00a0Ö\u3000\" <j@example.com>");
}

static void test_address_list(void)
{
    mime_addr_item it[] = {
        {"Last, First", "a@example.com"},
        {NULL, "b@example.org"},
        {"Jürgen Müller", "j@example.de"},
        {"John Smith", "js@example.com"},
        {"日本語の名前がとても長い場合にはどうなるのでしょうか 試験 試験", "long@example.jp"},
        {"a\"b\\c", "q@x.y"},
    };
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_address_list(&b, "To", it, 6, 0, &err), 0);
    const char *exp = "To: \"Last, First\" <a@example.com>, b@example.org,\r\n"
                      " =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.de>, John Smith <js@example.com>,\r\n"
                      " =?UTF-8?B?5pel5pys6Kqe44Gu5ZCN5YmN44GM44Go44Gm44KC6ZW344GE5aC05ZCI44Gr?=\r\n"
                      " =?UTF-8?B?44Gv44Gp44GG44Gq44KL44Gu44Gn44GX44KH44GG44GLIOippumokyDoqaY=?=\r\n"
                      " =?UTF-8?B?6aiT?= <long@example.jp>, \"a\\\"b\\\\c\" <q@x.y>\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));
    wire_stats st;
    CHECK(wire_ok(sc_buf_ptr(&b), sc_buf_size(&b), 0, &st));
    CHECK(st.longest <= 78);
    sc_buf_reset(&b);
    mime_addr_item two[] = {{"A", "a@x"}, {NULL, "b@y"}};
    CHECK_INT_EQ(mime_header_address_list(&b, "To", two, 2, 0, &err), 0);
    exp = "To: A <a@x>, b@y\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));
    /* a long quoted display name folds inside the quotes, at its spaces */
    sc_buf_reset(&b);
    mime_addr_item q[] = {{"Department of Redundancy Department, Office of the Deputy Assistant to the Head",
                           "d@example.gov"}};
    CHECK_INT_EQ(mime_header_address_list(&b, "From", q, 1, 0, &err), 0);
    exp = "From: \"Department of Redundancy Department, Office of the Deputy Assistant to\r\n"
          " the Head\" <d@example.gov>\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), exp, strlen(exp));
    sc_buf_free(&b);
}

static void test_address_refusals(void)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    sc_buf_append_str(&b, "X");
    mime_addr_item bad_name[] = {{"Evil\r\nBcc: victim@example.com", "a@example.com"}};
    check_refused(mime_header_address_list(&b, "To", bad_name, 1, 0, &err), &b, 1, &err, "To");
    mime_addr_item bad_addr[] = {{"Ok", "a@example.com>\r\nBcc: victim@example.com"}};
    check_refused(mime_header_address_list(&b, "To", bad_addr, 1, 0, &err), &b, 1, &err, "To");
    const char *not_addrs[] = {"a@example.com>, <b@evil.example", "a b@example.com", "a@exa mple.com", "@x", "a@",
                               "noat", "a@b,c@d", "a@[1.2.3.4", "\"unterminated@x", "jö@example.com", ""};
    for (size_t i = 0; i < sizeof not_addrs / sizeof not_addrs[0]; i++) {
        mime_addr_item it = {"Name", not_addrs[i]};
        check_refused(mime_header_address_list(&b, "Cc", &it, 1, 0, &err), &b, 1, &err, "Cc");
    }
    mime_addr_item bad_utf8[] = {{"\xc3\x28", "a@example.com"}};
    check_refused(mime_header_address_list(&b, "From", bad_utf8, 1, 1, &err), &b, 1, &err, "From");
    check_refused(mime_header_address_list(&b, "From", bad_utf8, 0, 1, &err), &b, 1, &err, "From");
    check_refused(mime_format_mailbox(&b, "a\nb", "a@example.com", 0, &err), &b, 1, &err, NULL);
    sc_buf_free(&b);
}

/* -------------------------------------------------------------- parameters */

static void test_params_ascii(void)
{
    mime_param cs[] = {{"charset", "utf-8"}};
    expect_params("Content-Type", "text/plain", cs, 1, 0, "Content-Type: text/plain; charset=utf-8\r\n");
    mime_param bd[] = {{"boundary", "=_sc_0123456789abcdef"}};
    expect_params("Content-Type", "multipart/mixed", bd, 1, 0,
                  "Content-Type: multipart/mixed; boundary=\"=_sc_0123456789abcdef\"\r\n");
    mime_param fq[] = {{"filename", "my report \"final\".pdf"}};
    expect_params("Content-Disposition", "attachment", fq, 1, 0,
                  "Content-Disposition: attachment; filename=\"my report \\\"final\\\".pdf\"\r\n");
    mime_param fb[] = {{"filename", "C:\\temp\\a;b.txt"}};
    expect_params("Content-Disposition", "attachment", fb, 1, 0,
                  "Content-Disposition: attachment; filename=\"C:\\\\temp\\\\a;b.txt\"\r\n");
    mime_param two[] = {{"charset", "utf-8"}, {"method", "REQUEST"}};
    expect_params("Content-Type", "text/calendar", two, 2, 0,
                  "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n");
    mime_param empty[] = {{"filename", ""}};
    expect_params("Content-Disposition", "attachment", empty, 1, 0, "Content-Disposition: attachment; filename=\"\"\r\n");
    expect_params("Content-Disposition", "inline", NULL, 0, 0, "Content-Disposition: inline\r\n");
    /* a name that reads as an encoded-word goes the RFC 2231 way */
    mime_param fake[] = {{"filename", "=?UTF-8?Q?evil.exe?="}};
    expect_params("Content-Disposition", "attachment", fake, 1, 0,
                  "Content-Disposition: attachment;\r\n"
                  " filename=\"=?UTF-8?B?PT9VVEYtOD9RP2V2aWwuZXhlPz0=?=\";\r\n"
                  " filename*=UTF-8''%3D%3FUTF-8%3FQ%3Fevil.exe%3F%3D\r\n");
    /* long ASCII names stay one quoted-string (every reader understands it) */
    char longname[300];
    memset(longname, 'n', 200);
    memcpy(longname + 200, ".txt", 5);
    mime_param ln[] = {{"filename", longname}};
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_with_params(&b, "Content-Disposition", "attachment", ln, 1, 0, &err), 0);
    wire_stats st;
    CHECK(wire_ok(sc_buf_ptr(&b), sc_buf_size(&b), 0, &st));
    CHECK_INT_EQ(st.lines, 2);
    CHECK_INT_EQ(st.longest, 1 + 9 + 204); /* " filename=nnn...txt", a token */
    sc_buf_free(&b);
}

static void check_filename_reads_back(const char *fname, int utf8_ok, size_t max_line)
{
    mime_param p[] = {{"filename", fname}};
    sc_buf b, plain, ext;
    sc_buf_init(&b);
    sc_buf_init(&plain);
    sc_buf_init(&ext);
    smtpcore_error err = {0};
    CHECK_INT_EQ(mime_header_with_params(&b, "Content-Disposition", "attachment", p, 1, utf8_ok, &err), 0);
    wire_stats st;
    REQUIRE(wire_ok(sc_buf_ptr(&b), sc_buf_size(&b), utf8_ok, &st));
    CHECK(st.longest <= max_line);
    CHECK(st.longest_ew <= 75);
    char *v = unfold_value(sc_buf_ptr(&b), sc_buf_size(&b), "Content-Disposition");
    REQUIRE(v != NULL);
    int seen = read_param(v, "filename", &plain, &ext);
    CHECK(seen > 0);
    char *ps = sc_buf_strdup(&plain), *es = sc_buf_strdup(&ext);
    if (seen & 1)
        CHECK_STR_EQ(ps, fname);
    if (seen & 2)
        CHECK_STR_EQ(es, fname);
    if (!utf8_ok)
        CHECK_INT_EQ(seen, 3); /* the fallback and the RFC 2231 form */
    free(ps);
    free(es);
    free(v);
    sc_buf_free(&b);
    sc_buf_free(&plain);
    sc_buf_free(&ext);
}

static void test_params_non_ascii(void)
{
    mime_param p[] = {{"filename", "Grüße \"quoted\" back\\slash.pdf"}};
    expect_params("Content-Disposition", "attachment", p, 1, 0,
                  "Content-Disposition: attachment;\r\n"
                  " filename=\"=?UTF-8?B?R3LDvMOfZSAicXVvdGVkIiBiYWNrXHNsYXNoLnBkZg==?=\";\r\n"
                  " filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22quoted%22%20back%5Cslash.pdf\r\n");
    check_filename_reads_back(p[0].value, 0, 78);
    mime_param cs[] = {{"charset", "utf-8"}, {"name", "Übersicht.pdf"}};
    expect_params("Content-Type", "application/pdf", cs, 2, 0,
                  "Content-Type: application/pdf; charset=utf-8;\r\n"
                  " name=\"=?UTF-8?Q?=C3=9Cbersicht=2Epdf?=\"; name*=UTF-8''%C3%9Cbersicht.pdf\r\n");
    /* other parameters get no fallback */
    mime_param other[] = {{"title", "Übersicht"}};
    expect_params("Content-Type", "text/plain", other, 1, 0, "Content-Type: text/plain; title*=UTF-8''%C3%9Cbersicht\r\n");
    /* SMTPUTF8: raw, quoted */
    mime_param raw[] = {{"filename", "Grüße \"x\".pdf"}};
    expect_params("Content-Disposition", "attachment", raw, 1, 1,
                  "Content-Disposition: attachment; filename=\"Grüße \\\"x\\\".pdf\"\r\n");
    check_filename_reads_back(raw[0].value, 1, 78);
    /* a tab is not left raw in a parameter */
    check_filename_reads_back("a\tb.txt", 0, 78);
}

static void test_params_continuations(void)
{
    const char *fname = "日本語のとても長いファイル名がここにありますのでご注意ください_報告書_2026年度版_最終.pdf";
    mime_param p[] = {{"charset", "utf-8"}, {"name", fname}};
    expect_params("Content-Type", "application/pdf", p, 2, 0,
                  "Content-Type: application/pdf; charset=utf-8; name=\"=?UTF-8?B?5pel5pys6Kqe?=\r\n"
                  " =?UTF-8?B?44Gu44Go44Gm44KC6ZW344GE44OV44Kh44Kk44Or5ZCN44GM44GT44GT44Gr?=\r\n"
                  " =?UTF-8?B?44GC44KK44G+44GZ44Gu44Gn44GU5rOo5oSP44GP44Gg44GV44GEX+WgsQ==?=\r\n"
                  " =?UTF-8?B?5ZGK5pu4XzIwMjblubTluqbniYhf5pyA57WCLnBkZg==?=\";\r\n"
                  " name*0*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E3%81%A8%E3%81%A6;\r\n"
                  " name*1*=%E3%82%82%E9%95%B7%E3%81%84%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB;\r\n"
                  " name*2*=%E5%90%8D%E3%81%8C%E3%81%93%E3%81%93%E3%81%AB%E3%81%82%E3%82%8A;\r\n"
                  " name*3*=%E3%81%BE%E3%81%99%E3%81%AE%E3%81%A7%E3%81%94%E6%B3%A8%E6%84%8F;\r\n"
                  " name*4*=%E3%81%8F%E3%81%A0%E3%81%95%E3%81%84_%E5%A0%B1%E5%91%8A%E6%9B%B8_202;\r\n"
                  " name*5*=6%E5%B9%B4%E5%BA%A6%E7%89%88_%E6%9C%80%E7%B5%82.pdf\r\n");
    check_filename_reads_back(fname, 0, 78);
    /* very long: emoji (4-byte characters never split across segments or words) */
    char big[4096];
    big[0] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(big, i % 7 ? "😀" : "résumé 📎 ");
    strcat(big, ".txt");
    check_filename_reads_back(big, 0, 78);
    check_filename_reads_back(big, 1, 998);
    /* ASCII too long for one line goes to continuations as well */
    char *huge = malloc(3001);
    for (int i = 0; i < 3000; i++)
        huge[i] = (char)('a' + i % 26);
    huge[3000] = '\0';
    check_filename_reads_back(huge, 0, 78);
    free(huge);
}

static void test_param_refusals(void)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    mime_param crlf[] = {{"filename", "a.txt\"\r\nBcc: victim@example.com"}};
    check_refused(mime_header_with_params(&b, "Content-Disposition", "attachment", crlf, 1, 0, &err), &b, 0, &err,
                  "Content-Disposition");
    mime_param lf[] = {{"filename", "a\nb"}};
    check_refused(mime_header_with_params(&b, "Content-Disposition", "attachment", lf, 1, 1, &err), &b, 0, &err,
                  "filename");
    mime_param badname[] = {{"file name", "x"}};
    check_refused(mime_header_with_params(&b, "Content-Disposition", "attachment", badname, 1, 0, &err), &b, 0, &err,
                  "Content-Disposition");
    mime_param star[] = {{"filename*", "x"}};
    check_refused(mime_header_with_params(&b, "Content-Disposition", "attachment", star, 1, 0, &err), &b, 0, &err,
                  NULL);
    mime_param utf[] = {{"filename", "\xed\xa0\x80.txt"}};
    check_refused(mime_header_with_params(&b, "Content-Disposition", "attachment", utf, 1, 0, &err), &b, 0, &err,
                  NULL);
    check_refused(mime_header_with_params(&b, "Content-Type", "text/plain\r\nBcc: x", NULL, 0, 0, &err), &b, 0,
                  &err, "Content-Type");
    check_refused(mime_header_with_params(&b, "Content-Type", "text/plain; x=y", NULL, 0, 0, &err), &b, 0, &err,
                  "Content-Type");
    check_refused(mime_header_with_params(&b, "Content-Type", "", NULL, 0, 0, &err), &b, 0, &err, NULL);
    sc_buf_free(&b);
}

/* --------------------------------------------------------------- injection */

static void test_injection_refused(void)
{
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    sc_buf_append_str(&b, "Keep: me\r\n");
    size_t before = sc_buf_size(&b);
    const char *v = "Subject\r\nBcc: victim@example.com";
    check_refused(mime_header_unstructured(&b, "Subject", v, strlen(v), 0, &err), &b, before, &err, "Subject");
    check_refused(mime_header_unstructured(&b, "Subject", "a\nb", 3, 1, &err), &b, before, &err, "Subject");
    check_refused(mime_header_unstructured(&b, "Subject", "a\rb", 3, 0, &err), &b, before, &err, "Subject");
    check_refused(mime_header_unstructured(&b, "Subject", "a\0Bcc", 5, 0, &err), &b, before, &err, "Subject");
    /* invalid UTF-8: stray continuation, overlong, surrogate, past U+10FFFF, truncated */
    const char *bad[] = {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                         "ok \xe6\x97"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_refused(mime_header_unstructured(&b, "Subject", bad[i], strlen(bad[i]), 0, &err), &b, before, &err,
                      "UTF-8");
    /* header names */
    const char *names[] = {"", "Sub ject", "Subject:", "X-Evil\r\nBcc", "Bcc:victim", "X\x7f", "Tab\tName",
                           "X-Seventy-Seven-Characters-Long-Field-Name-0123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(!mime_header_name_ok(names[i]));
        check_refused(mime_header_unstructured(&b, names[i], "x", 1, 0, &err), &b, before, &err, NULL);
        check_refused(mime_header_raw(&b, names[i], "x", &err), &b, before, &err, NULL);
    }
    CHECK(!mime_header_name_ok(NULL));
    CHECK(mime_header_name_ok("X-Mailer"));
    CHECK(mime_header_name_ok("!#$%&'*+-.^_`|~"));
    const char *keep = "Keep: me\r\n";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), keep, strlen(keep));
    sc_buf_free(&b);
}

TEST_MAIN({"ascii_subject", test_ascii_subject}, {"long_ascii_subject_folded", test_long_ascii_subject_folded},
          {"latin1_subject", test_latin1_subject}, {"cjk_and_emoji_subjects", test_cjk_and_emoji_subjects},
          {"fake_encoded_words", test_fake_encoded_words}, {"controls_are_encoded", test_controls_are_encoded},
          {"overlong_words", test_overlong_words}, {"first_line_folding", test_first_line_folding},
          {"appends", test_appends}, {"raw", test_raw}, {"phrases", test_phrases},
          {"address_list", test_address_list}, {"address_refusals", test_address_refusals},
          {"params_ascii", test_params_ascii}, {"params_non_ascii", test_params_non_ascii},
          {"params_continuations", test_params_continuations}, {"param_refusals", test_param_refusals},
          {"injection_refused", test_injection_refused})
