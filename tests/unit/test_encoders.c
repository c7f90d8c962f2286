/* Content transfer encoders: known vectors, the same bytes for every way of
 * cutting the input into chunks, exact size functions, decoding back to the
 * input, the scan counters and the encoding choice, the extension table.
 *
 * Throughput (SMTPCORE_BENCH=1 ./test_encoders bench; -O2, 64 KiB chunks,
 * AMD EPYC, 2 vCPUs, idle): base64 about 3.2 GB/s of input with gcc 12 and
 * 3.9-4.3 GB/s with clang 14 (1.6-2.3 GB/s with both vCPUs busy elsewhere);
 * quoted-printable about 0.55 GB/s on mixed text; scan and 7bit text about
 * 3 GB/s. Without -O (CMake's default build type) base64 is ~0.45 GB/s. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "mime/encoders.h"
#include "testlib.h"

/* ---- helpers ---- */

typedef enum { ENC_B64, ENC_QP, ENC_TEXT } enc_kind;

static const char *kind_name(enc_kind k) { return k == ENC_B64 ? "base64" : k == ENC_QP ? "qp" : "text"; }

/* Encode `in` cut at cuts[0..ncuts) (increasing offsets). */
static void encode_cuts(enc_kind k, const void *in, size_t len, const size_t *cuts, size_t ncuts, sc_buf *out)
{
    mime_b64_enc b;
    mime_qp_enc q;
    mime_text_enc t;
    mime_b64_enc_init(&b);
    mime_qp_enc_init(&q);
    mime_text_enc_init(&t);
    const char *p = in;
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        int rc = k == ENC_B64 ? mime_b64_enc_update(&b, p + pos, end - pos, out)
                 : k == ENC_QP ? mime_qp_enc_update(&q, p + pos, end - pos, out)
                               : mime_text_enc_update(&t, p + pos, end - pos, out);
        REQUIRE(rc == 0);
        pos = end;
    }
    int rc = k == ENC_B64 ? mime_b64_enc_finish(&b, out) : k == ENC_QP ? mime_qp_enc_finish(&q, out)
                                                                       : mime_text_enc_finish(&t, out);
    REQUIRE(rc == 0);
}

static void encode_once(enc_kind k, const void *in, size_t len, sc_buf *out) { encode_cuts(k, in, len, NULL, 0, out); }

static uint64_t encoded_size(enc_kind k, const void *in, size_t len)
{
    return k == ENC_B64 ? mime_b64_encoded_size(len) : k == ENC_QP ? mime_qp_encoded_size(in, len)
                                                                   : mime_text_encoded_size(in, len);
}

static void check_encoding(enc_kind k, const char *in, size_t len, const char *expected)
{
    sc_buf out;
    sc_buf_init(&out);
    encode_once(k, in, len, &out);
    CHECK_MEM_EQ(sc_buf_ptr(&out), sc_buf_size(&out), expected, strlen(expected));
    CHECK_INT_EQ(encoded_size(k, in, len), strlen(expected));
    sc_buf_free(&out);
}
#define CHECK_ENC(k, in, expected) check_encoding(k, in, sizeof(in) - 1, expected)

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static uint32_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static size_t rng_below(size_t n) { return n ? rng_next() % n : 0; }

/* Random input in one of several styles: binary, bytes the encoders treat
 * specially, long plain lines, whitespace-heavy text. */
static void random_input(unsigned char *p, size_t n, int style)
{
    static const unsigned char special[] = {' ', '\t', '\r', '\n', '.', 'F', 'r', 'o', 'm', '=', 'a', 0x00,
                                            0xC3, 0xA9, 0xFF, 0x7F, 'x'};
    for (size_t i = 0; i < n; i++) {
        switch (style % 4) {
        case 0: p[i] = (unsigned char)rng_next(); break;
        case 1: p[i] = special[rng_below(sizeof special)]; break;
        case 2: p[i] = rng_below(90) == 0 ? '\n' : (unsigned char)('a' + rng_below(26)); break;
        default: {
            uint32_t r = rng_below(20);
            p[i] = r < 6 ? ' ' : r < 8 ? '\t' : r < 9 ? '\n' : r < 10 ? '\r' : r < 11 ? '=' : r < 12 ? '.' : 'b';
        }
        }
    }
    /* Now and then plant "From " at a line start. */
    if (n > 8 && style % 2)
        for (size_t k = rng_below(4); k > 0; k--) {
            size_t at = rng_below(n - 6);
            memcpy(p + at, "\nFrom ", 6);
        }
}

/* ---- decoders the encoders are held to ---- */

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode MIME base64: every line but the last exactly 76 characters, every
 * line ending CRLF, padding only at the very end. -1 if the form is wrong. */
static int b64_decode_lines(const char *p, size_t n, sc_buf *out)
{
    size_t i = 0;
    int ended = 0;
    while (i < n) {
        const char *eol = memchr(p + i, '\r', n - i);
        if (!eol || (size_t)(eol - p) + 1 >= n || eol[1] != '\n' || ended)
            return -1;
        size_t len = (size_t)(eol - (p + i));
        int last = (size_t)(eol - p) + 2 == n;
        if (len == 0 || len % 4 != 0 || len > 76 || (!last && len != 76))
            return -1;
        for (size_t g = 0; g < len; g += 4) {
            const unsigned char *q = (const unsigned char *)p + i + g;
            int v[4], pad = 0;
            for (int j = 0; j < 4; j++) {
                if (q[j] == '=' && j >= 2 && last && g + 4 == len) {
                    pad++;
                    v[j] = 0;
                } else {
                    if (pad || (v[j] = b64_val(q[j])) < 0)
                        return -1;
                }
            }
            if (pad == 2 && q[2] != '=')
                return -1;
            unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
            unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w};
            if (sc_buf_append(out, bytes, (size_t)(3 - pad)) < 0)
                return -1;
            if (pad)
                ended = 1;
        }
        i += len + 2;
    }
    return 0;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Check the QP form line by line and decode. The form: only CRLF line ends,
 * lines of at most 76 characters (the soft break's '=' included), no space or
 * TAB at the end of a line or of the data, '=' always starting "=XX" or a soft
 * break, nothing but printable ASCII, space and TAB, no line starting with '.'
 * or "From ". Returns -1 (and says why) when the form is wrong. */
static int qp_decode_lines(const char *p, size_t n, sc_buf *out, const char **why)
{
    size_t line_start = 0;
    for (size_t i = 0; i <= n; i++) {
        int end = i == n;
        if (!end && p[i] == '\n') {
            *why = "bare LF";
            return -1;
        }
        if (end || p[i] == '\r') {
            if (!end && (i + 1 >= n || p[i + 1] != '\n')) {
                *why = "bare CR";
                return -1;
            }
            size_t len = i - line_start;
            const char *l = p + line_start;
            if (len > 76) {
                *why = "line longer than 76";
                return -1;
            }
            if (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t')) {
                *why = "trailing whitespace";
                return -1;
            }
            if (len > 0 && l[0] == '.') {
                *why = "line starts with '.'";
                return -1;
            }
            if (len >= 5 && memcmp(l, "From ", 5) == 0) {
                *why = "line starts with \"From \"";
                return -1;
            }
            int soft = 0;
            for (size_t j = 0; j < len; j++) {
                unsigned char c = (unsigned char)l[j];
                if (c == '=') {
                    if (j + 1 == len && !end) {
                        soft = 1;
                        break;
                    }
                    int hi = j + 2 < len ? hex_val((unsigned char)l[j + 1]) : -1;
                    int lo = j + 2 < len ? hex_val((unsigned char)l[j + 2]) : -1;
                    if (hi < 0 || lo < 0) {
                        *why = "'=' not followed by two hex digits (split triplet?)";
                        return -1;
                    }
                    unsigned char b = (unsigned char)(hi << 4 | lo);
                    sc_buf_append(out, &b, 1);
                    j += 2;
                } else if ((c >= 33 && c <= 126) || c == ' ' || c == '\t') {
                    sc_buf_append(out, &c, 1);
                } else {
                    *why = "unencoded byte";
                    return -1;
                }
            }
            if (end)
                break;
            if (!soft)
                sc_buf_append(out, "\r\n", 2);
            i++;
            line_start = i + 1;
        }
    }
    return 0;
}

/* CR, LF and CRLF all become CRLF. */
static void normalise_crlf(const unsigned char *p, size_t n, sc_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                i++;
            sc_buf_append(out, "\r\n", 2);
        } else {
            sc_buf_append(out, p + i, 1);
        }
    }
}

/* Every property at once for one input: size, decode back, form. */
static void check_roundtrip(enc_kind k, const unsigned char *in, size_t len)
{
    sc_buf enc, dec, want;
    sc_buf_init(&enc);
    sc_buf_init(&dec);
    sc_buf_init(&want);
    encode_once(k, in, len, &enc);
    const char *e = sc_buf_ptr(&enc);
    size_t en = sc_buf_size(&enc);
    if (encoded_size(k, in, len) != en) {
        tl_fail(__FILE__, __LINE__, "%s: size function %llu, output %zu", kind_name(k),
                (unsigned long long)encoded_size(k, in, len), en);
        tl_dump_bytes("  input", (const char *)in, len);
    }
    if (k == ENC_B64) {
        CHECK(b64_decode_lines(e, en, &dec) == 0);
        CHECK_MEM_EQ(sc_buf_ptr(&dec), sc_buf_size(&dec), in, len);
    } else if (k == ENC_QP) {
        const char *why = "";
        if (qp_decode_lines(e, en, &dec, &why) < 0) {
            tl_fail(__FILE__, __LINE__, "qp form: %s", why);
            tl_dump_bytes("  input ", (const char *)in, len);
            tl_dump_bytes("  output", e, en);
        }
        normalise_crlf(in, len, &want);
        CHECK_MEM_EQ(sc_buf_ptr(&dec), sc_buf_size(&dec), sc_buf_ptr(&want), sc_buf_size(&want));
    } else {
        normalise_crlf(in, len, &want);
        size_t wn = sc_buf_size(&want);
        const char *w = sc_buf_ptr(&want);
        if (wn > 0 && (wn < 2 || w[wn - 2] != '\r' || w[wn - 1] != '\n'))
            sc_buf_append(&want, "\r\n", 2);
        CHECK_MEM_EQ(e, en, sc_buf_ptr(&want), sc_buf_size(&want));
    }
    sc_buf_free(&enc);
    sc_buf_free(&dec);
    sc_buf_free(&want);
}

/* ---- base64 ---- */

static void test_b64_rfc4648_vectors(void)
{
    CHECK_ENC(ENC_B64, "", "");
    CHECK_ENC(ENC_B64, "f", "Zg==\r\n");
    CHECK_ENC(ENC_B64, "fo", "Zm8=\r\n");
    CHECK_ENC(ENC_B64, "foo", "Zm9v\r\n");
    CHECK_ENC(ENC_B64, "foob", "Zm9vYg==\r\n");
    CHECK_ENC(ENC_B64, "fooba", "Zm9vYmE=\r\n");
    CHECK_ENC(ENC_B64, "foobar", "Zm9vYmFy\r\n");
    CHECK_ENC(ENC_B64, "\xfb\xff\xbf", "+/+/\r\n");
}

static void test_b64_line_wrapping(void)
{
    /* 57 bytes fill one 76-character line exactly; one more starts a second. */
    unsigned char z[120] = {0};
    char want[200];
    memset(want, 'A', 76);
    memcpy(want + 76, "\r\n", 3);
    check_encoding(ENC_B64, (const char *)z, 57, want);
    memcpy(want + 78, "AA==\r\n", 7);
    check_encoding(ENC_B64, (const char *)z, 58, want);
    memcpy(want + 78, "AAA=\r\n", 7);
    check_encoding(ENC_B64, (const char *)z, 59, want);
    memcpy(want + 78, "AAAA\r\n", 7);
    check_encoding(ENC_B64, (const char *)z, 60, want);
    memset(want + 78, 'A', 76);
    memcpy(want + 154, "\r\n", 3);
    check_encoding(ENC_B64, (const char *)z, 114, want);
    /* As Python's base64.encodebytes() gives it, with CRLF. */
    CHECK_ENC(ENC_B64,
              "Man is distinguished, not only by his reason, but by this singular passion from other animals, "
              "which is a lust of the mind.",
              "TWFuIGlzIGRpc3Rpbmd1aXNoZWQsIG5vdCBvbmx5IGJ5IGhpcyByZWFzb24sIGJ1dCBieSB0aGlz\r\n"
              "IHNpbmd1bGFyIHBhc3Npb24gZnJvbSBvdGhlciBhbmltYWxzLCB3aGljaCBpcyBhIGx1c3Qgb2Yg\r\n"
              "dGhlIG1pbmQu\r\n");
}

static void test_b64_size_function(void)
{
    CHECK_INT_EQ(mime_b64_encoded_size(0), 0);
    CHECK_INT_EQ(mime_b64_encoded_size(1), 6);
    CHECK_INT_EQ(mime_b64_encoded_size(57), 78);
    CHECK_INT_EQ(mime_b64_encoded_size(58), 84);
    /* 1 MiB: 1398104 characters in 18397 lines. */
    CHECK_INT_EQ(mime_b64_encoded_size(1048576), 1398104 + 2 * 18397);
    unsigned char buf[400];
    rng_seed(1);
    random_input(buf, sizeof buf, 0);
    for (size_t n = 0; n <= sizeof buf; n++)
        check_roundtrip(ENC_B64, buf, n);
}

/* ---- quoted-printable ---- */

static void test_qp_vectors(void)
{
    CHECK_ENC(ENC_QP, "", "");
    CHECK_ENC(ENC_QP, "hello world", "hello world");
    CHECK_ENC(ENC_QP, "a=b", "a=3Db");
    CHECK_ENC(ENC_QP, "caf\xc3\xa9", "caf=C3=A9");
    CHECK_ENC(ENC_QP, "\x00\x01\x7f\xff~", "=00=01=7F=FF~");
    CHECK_ENC(ENC_QP, "tab\there", "tab\there");
    /* Line breaks of all kinds become CRLF. */
    CHECK_ENC(ENC_QP, "a\rb\r\nc\nd\n\re", "a\r\nb\r\nc\r\nd\r\n\r\ne");
    CHECK_ENC(ENC_QP, "x\r\n", "x\r\n");
    CHECK_ENC(ENC_QP, "\r\r\n\n", "\r\n\r\n\r\n");
}

static void test_qp_trailing_whitespace(void)
{
    /* Only the space or TAB right before the break (or the end) is encoded:
     * then every other one is followed by a printable character. */
    CHECK_ENC(ENC_QP, "trailing \n", "trailing=20\r\n");
    CHECK_ENC(ENC_QP, "tab\t\r\nx", "tab=09\r\nx");
    CHECK_ENC(ENC_QP, "a  \r\n", "a =20\r\n");
    CHECK_ENC(ENC_QP, "end ", "end=20");
    CHECK_ENC(ENC_QP, " ", "=20");
    CHECK_ENC(ENC_QP, "  x", "  x");
    CHECK_ENC(ENC_QP, "a \rb", "a=20\r\nb");
}

static void test_qp_long_lines(void)
{
    char in[300], want[400];
    /* 100 letters: 75 and a soft break, then 25. */
    memset(in, 'a', 100);
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\n", 3);
    memset(want + 78, 'a', 25);
    want[103] = '\0';
    check_encoding(ENC_QP, in, 100, want);
    /* 76 letters fit on a line that ends with a hard break or the data. */
    memset(want, 'a', 76);
    memcpy(want + 76, "\r\n", 3);
    memcpy(in + 76, "\n", 1);
    check_encoding(ENC_QP, in, 77, want);
    want[76] = '\0';
    check_encoding(ENC_QP, in, 76, want);
    /* 77 do not. */
    memset(in, 'a', 77);
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\naa", 6);
    check_encoding(ENC_QP, in, 77, want);
    /* A triplet is never split: 74 letters then '=' moves "=3D" down. */
    memset(in, 'a', 74);
    memcpy(in + 74, "=b", 2);
    memset(want, 'a', 74);
    memcpy(want + 74, "=\r\n=3Db", 8);
    check_encoding(ENC_QP, in, 76, want);
    /* 73 letters and "=3D" make 76: fine as the last on the line... */
    memset(in, 'a', 73);
    memcpy(in + 73, "=\n", 2);
    memset(want, 'a', 73);
    memcpy(want + 73, "=3D\r\n", 6);
    check_encoding(ENC_QP, in, 75, want);
    /* ...but not when more follows. */
    memcpy(in + 73, "=b", 2);
    memcpy(want + 73, "=\r\n=3Db", 8);
    check_encoding(ENC_QP, in, 75, want);
    /* Trailing space at column 73 encodes to exactly 76. */
    memset(in, 'a', 73);
    memcpy(in + 73, " \r\n", 3);
    memcpy(want + 73, "=20\r\n", 6);
    check_encoding(ENC_QP, in, 76, want);
    /* ...at column 74 it has to go to the next line. */
    memset(in, 'a', 74);
    memcpy(in + 74, " \r\n", 3);
    memset(want, 'a', 74);
    memcpy(want + 74, "=\r\n=20\r\n", 9);
    check_encoding(ENC_QP, in, 77, want);
    /* All encoded: 25 triplets a line. */
    memset(in, 0xff, 30);
    want[0] = '\0';
    for (int i = 0; i < 25; i++)
        strcat(want, "=FF");
    strcat(want, "=\r\n=FF=FF=FF=FF=FF");
    check_encoding(ENC_QP, in, 30, want);
}

static void test_qp_dot_and_from(void)
{
    CHECK_ENC(ENC_QP, ".", "=2E");
    CHECK_ENC(ENC_QP, ".\r\n", "=2E\r\n");
    CHECK_ENC(ENC_QP, "a\n.b\n..", "a\r\n=2Eb\r\n=2E.");
    CHECK_ENC(ENC_QP, "a.b", "a.b");
    CHECK_ENC(ENC_QP, "From me\n", "=46rom me\r\n");
    CHECK_ENC(ENC_QP, "x\r\nFrom y", "x\r\n=46rom y");
    CHECK_ENC(ENC_QP, "From ", "=46rom=20");
    CHECK_ENC(ENC_QP, "From", "From");
    CHECK_ENC(ENC_QP, "Fromage", "Fromage");
    CHECK_ENC(ENC_QP, "Frm ", "Frm=20");
    CHECK_ENC(ENC_QP, "a From b", "a From b");
    /* A soft break can put a '.' or "From " at the start of a line too. */
    char in[100], want[120];
    memset(in, 'a', 75);
    memcpy(in + 75, ".b", 2);
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\n=2Eb", 8);
    check_encoding(ENC_QP, in, 77, want);
    memcpy(in + 75, "From x", 6);
    memcpy(want + 75, "=\r\n=46rom x", 12);
    check_encoding(ENC_QP, in, 81, want);
    /* ...but a '.' that is the last character of a 76-character line stays. */
    memcpy(in + 75, ".", 1);
    memset(want, 'a', 75);
    memcpy(want + 75, ".", 2);
    check_encoding(ENC_QP, in, 76, want);
}

static void test_qp_size_function_random(void)
{
    /* The size function must equal the output for every input: many
     * random ones of every style and length. */
    unsigned char buf[700];
    for (int iter = 0; iter < 4000; iter++) {
        rng_seed((uint64_t)iter + 100);
        size_t n = rng_below(iter < 2000 ? 40 : sizeof buf);
        random_input(buf, n, iter);
        check_roundtrip(ENC_QP, buf, n);
        if (tl_failures_in_test > 3)
            return;
    }
}

/* ---- 7bit / 8bit text ---- */

static void test_text_vectors(void)
{
    CHECK_ENC(ENC_TEXT, "", "");
    CHECK_ENC(ENC_TEXT, "a", "a\r\n");
    CHECK_ENC(ENC_TEXT, "a\nb", "a\r\nb\r\n");
    CHECK_ENC(ENC_TEXT, "a\r\n", "a\r\n");
    CHECK_ENC(ENC_TEXT, "\r", "\r\n");
    CHECK_ENC(ENC_TEXT, "a\r\rb", "a\r\n\r\nb\r\n");
    CHECK_ENC(ENC_TEXT, "\n\r", "\r\n\r\n");
    CHECK_ENC(ENC_TEXT, "caf\xc3\xa9 .x \t\n", "caf\xc3\xa9 .x \t\r\n");
    unsigned char buf[500];
    for (int iter = 0; iter < 500; iter++) {
        rng_seed((uint64_t)iter + 7);
        size_t n = rng_below(sizeof buf);
        random_input(buf, n, iter);
        check_roundtrip(ENC_TEXT, buf, n);
    }
}

/* ---- chunk invariance ---- */

static const char *const short_inputs[] = {
    "", "a", "foobar", "abcdefghijklm", "\r\n\r\n", "a\rb\nc\r", "\r\r\n\n\r", "From x\n", "x\nFrom y",
    "..\r\n.", "a \t \r\n", "tab\t", "= =\r\n", "\xc3\xa9\xff\x01 ", "F\nFrom", "From \r\n",
};

static void test_every_split_of_short_inputs(void)
{
    for (size_t s = 0; s < sizeof short_inputs / sizeof short_inputs[0]; s++) {
        const char *in = short_inputs[s];
        size_t len = strlen(in);
        REQUIRE(len <= 16);
        for (enc_kind k = ENC_B64; k <= ENC_TEXT; k++) {
            sc_buf ref;
            sc_buf_init(&ref);
            encode_once(k, in, len, &ref);
            check_roundtrip(k, (const unsigned char *)in, len);
            for (unsigned mask = 0; mask < (1u << (len ? len - 1 : 0)); mask++) {
                size_t cuts[16], n = 0;
                for (size_t b = 0; b + 1 < len; b++)
                    if (mask & (1u << b))
                        cuts[n++] = b + 1;
                sc_buf got;
                sc_buf_init(&got);
                encode_cuts(k, in, len, cuts, n, &got);
                if (sc_buf_size(&got) != sc_buf_size(&ref) || memcmp(sc_buf_ptr(&got), sc_buf_ptr(&ref), sc_buf_size(&ref))) {
                    tl_fail(__FILE__, __LINE__, "%s: input %zu differs with split mask %#x", kind_name(k), s, mask);
                    tl_dump_bytes("  got     ", sc_buf_ptr(&got), sc_buf_size(&got));
                    tl_dump_bytes("  one shot", sc_buf_ptr(&ref), sc_buf_size(&ref));
                }
                sc_buf_free(&got);
            }
            sc_buf_free(&ref);
        }
    }
}

/* Long lines near the QP limit with every single cut point: the lookahead
 * decisions at columns 73-76 happen right at a chunk boundary. */
static void test_qp_every_cut_near_line_end(void)
{
    static const char *const tails[] = {" \r\n", ".b", "From x", "=b", "=\n", "\t", " ", "ab", "F", "Fro"};
    char in[100];
    for (size_t lead = 70; lead <= 78; lead++)
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            memset(in, 'a', lead);
            size_t tl = strlen(tails[t]);
            memcpy(in + lead, tails[t], tl);
            size_t len = lead + tl;
            sc_buf ref;
            sc_buf_init(&ref);
            encode_once(ENC_QP, in, len, &ref);
            check_roundtrip(ENC_QP, (const unsigned char *)in, len);
            for (size_t c1 = 0; c1 <= len; c1++)
                for (size_t c2 = c1; c2 <= len; c2 += 1 + (c2 < 60 ? 19 : 0)) {
                    size_t cuts[2] = {c1, c2};
                    sc_buf got;
                    sc_buf_init(&got);
                    encode_cuts(ENC_QP, in, len, cuts, 2, &got);
                    CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), sc_buf_ptr(&ref), sc_buf_size(&ref));
                    sc_buf_free(&got);
                }
            sc_buf_free(&ref);
        }
}

static void test_random_splits_of_long_inputs(void)
{
    enum { MAXLEN = 20000 };
    unsigned char *buf = malloc(MAXLEN);
    REQUIRE(buf);
    for (int iter = 0; iter < 120; iter++) {
        rng_seed((uint64_t)iter + 5000);
        size_t len = 1 + rng_below(MAXLEN);
        random_input(buf, len, iter);
        for (enc_kind k = ENC_B64; k <= ENC_TEXT; k++) {
            sc_buf ref;
            sc_buf_init(&ref);
            encode_once(k, buf, len, &ref);
            check_roundtrip(k, buf, len);
            for (int split = 0; split < 4; split++) {
                size_t cuts[64], n = 0, pos = 0;
                /* Mostly tiny chunks in one round, mostly large in another. */
                size_t maxstep = split == 0 ? 4 : split == 1 ? 80 : split == 2 ? 3000 : len;
                while (n < 64) {
                    pos += rng_below(maxstep) + (split == 3 ? 0 : 1);
                    if (pos >= len)
                        break;
                    cuts[n++] = pos;
                }
                sc_buf got;
                sc_buf_init(&got);
                encode_cuts(k, buf, split == 0 ? (n ? cuts[n - 1] : 0) : len, cuts, n, &got);
                if (split == 0) { /* tiny steps cover only a prefix: compare with that prefix's one-shot */
                    sc_buf pre;
                    sc_buf_init(&pre);
                    encode_once(k, buf, n ? cuts[n - 1] : 0, &pre);
                    CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), sc_buf_ptr(&pre), sc_buf_size(&pre));
                    sc_buf_free(&pre);
                } else {
                    CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), sc_buf_ptr(&ref), sc_buf_size(&ref));
                }
                sc_buf_free(&got);
            }
            sc_buf_free(&ref);
        }
        if (tl_failures_in_test > 3)
            break;
    }
    free(buf);
}

static void test_byte_at_a_time(void)
{
    unsigned char buf[3000];
    for (int style = 0; style < 4; style++) {
        rng_seed((uint64_t)style + 77);
        random_input(buf, sizeof buf, style);
        size_t cuts[sizeof buf];
        for (size_t i = 0; i < sizeof buf - 1; i++)
            cuts[i] = i + 1;
        for (enc_kind k = ENC_B64; k <= ENC_TEXT; k++) {
            sc_buf ref, got;
            sc_buf_init(&ref);
            sc_buf_init(&got);
            encode_once(k, buf, sizeof buf, &ref);
            encode_cuts(k, buf, sizeof buf, cuts, sizeof buf - 1, &got);
            CHECK_MEM_EQ(sc_buf_ptr(&got), sc_buf_size(&got), sc_buf_ptr(&ref), sc_buf_size(&ref));
            sc_buf_free(&ref);
            sc_buf_free(&got);
        }
    }
}

/* ---- scan ---- */

static mime_scan scan_cuts(const void *in, size_t len, const size_t *cuts, size_t ncuts)
{
    mime_scan s;
    mime_scan_init(&s);
    const char *p = in;
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        mime_scan_update(&s, p + pos, end - pos);
        pos = end;
    }
    mime_scan_finish(&s);
    return s;
}

static mime_scan scan_str(const char *in, size_t len) { return scan_cuts(in, len, NULL, 0); }
#define SCAN(lit) scan_str(lit, sizeof(lit) - 1)

static int scan_equal(const mime_scan *a, const mime_scan *b)
{
    return a->bytes == b->bytes && a->non_ascii == b->non_ascii && a->controls == b->controls &&
           a->lines == b->lines && a->longest_line == b->longest_line && a->bare_cr_or_lf == b->bare_cr_or_lf &&
           a->valid_utf8 == b->valid_utf8;
}

static void test_scan_counters(void)
{
    mime_scan s = SCAN("");
    CHECK_INT_EQ(s.bytes, 0);
    CHECK_INT_EQ(s.lines, 0);
    CHECK_INT_EQ(s.longest_line, 0);
    CHECK(s.valid_utf8 && !s.bare_cr_or_lf);

    s = SCAN("Hello\r\nworld, longer line\r\n");
    CHECK_INT_EQ(s.bytes, 27);
    CHECK_INT_EQ(s.lines, 2);
    CHECK_INT_EQ(s.longest_line, 18);
    CHECK_INT_EQ(s.non_ascii, 0);
    CHECK_INT_EQ(s.controls, 0);
    CHECK(!s.bare_cr_or_lf);

    s = SCAN("unix\nlines\nno end");
    CHECK_INT_EQ(s.lines, 3);
    CHECK_INT_EQ(s.longest_line, 6);
    CHECK(s.bare_cr_or_lf);

    s = SCAN("old mac\rline");
    CHECK_INT_EQ(s.lines, 2);
    CHECK(s.bare_cr_or_lf);
    s = SCAN("ends in CR\r");
    CHECK_INT_EQ(s.lines, 1);
    CHECK(s.bare_cr_or_lf);
    s = SCAN("\n\n");
    CHECK_INT_EQ(s.lines, 2);
    CHECK_INT_EQ(s.longest_line, 0);

    s = SCAN("caf\xc3\xa9\tx\x01\x00\x7f\x1b");
    CHECK_INT_EQ(s.bytes, 11);
    CHECK_INT_EQ(s.non_ascii, 2);
    CHECK_INT_EQ(s.controls, 4); /* TAB is not one; DEL is */
    CHECK_INT_EQ(s.longest_line, 11);
    CHECK(s.valid_utf8);

    char big[2000];
    memset(big, 'x', sizeof big);
    big[999] = '\n';
    s = scan_str(big, sizeof big);
    CHECK_INT_EQ(s.lines, 2);
    CHECK_INT_EQ(s.longest_line, 1000);
}

static void test_scan_utf8_strict(void)
{
    static const struct { const char *in; int valid; } cases[] = {
        {"plain", 1},
        {"\xc3\xa9", 1},                    /* U+00E9 */
        {"\xe2\x82\xac", 1},                /* U+20AC */
        {"\xf0\x9f\x98\x80", 1},            /* U+1F600 */
        {"\xed\x9f\xbf", 1},                /* U+D7FF, just below the surrogates */
        {"\xee\x80\x80", 1},                /* U+E000, just above */
        {"\xef\xbf\xbf", 1},                /* U+FFFF */
        {"\xf4\x8f\xbf\xbf", 1},            /* U+10FFFF */
        {"\xc0\x80", 0},                    /* overlong NUL */
        {"\xc1\xbf", 0},                    /* overlong */
        {"\xe0\x80\xaf", 0},                /* overlong '/' */
        {"\xe0\x9f\xbf", 0},                /* overlong */
        {"\xf0\x8f\xbf\xbf", 0},            /* overlong */
        {"\xed\xa0\x80", 0},                /* U+D800 surrogate */
        {"\xed\xbf\xbf", 0},                /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 0},            /* U+110000 */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\x80", 0},                        /* stray continuation */
        {"a\xc3", 0},                       /* truncated at the end */
        {"\xe2\x82", 0},
        {"\xf0\x9f\x98", 0},
        {"\xc3x", 0},                       /* truncated in the middle */
        {"\xc3\n\xa9", 0},
        {"\xe2\x82\xac\xac", 0},            /* one continuation too many */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        size_t len = strlen(in);
        mime_scan ref = scan_str(in, len);
        if (ref.valid_utf8 != cases[i].valid)
            tl_fail(__FILE__, __LINE__, "case %zu: valid_utf8 %d, expected %d", i, ref.valid_utf8, cases[i].valid);
        for (unsigned mask = 0; mask < (1u << (len - 1)); mask++) {
            size_t cuts[8], n = 0;
            for (size_t b = 0; b + 1 < len; b++)
                if (mask & (1u << b))
                    cuts[n++] = b + 1;
            mime_scan got = scan_cuts(in, len, cuts, n);
            if (!scan_equal(&got, &ref))
                tl_fail(__FILE__, __LINE__, "case %zu: scan differs with split mask %#x", i, mask);
        }
    }
    /* "So far": a sequence cut by a chunk boundary is still valid until finish. */
    mime_scan s;
    mime_scan_init(&s);
    mime_scan_update(&s, "\xe2\x82", 2);
    CHECK(s.valid_utf8);
    mime_scan_finish(&s);
    CHECK(!s.valid_utf8);
    mime_scan_finish(&s); /* idempotent */
    CHECK_INT_EQ(s.lines, 1);
}

static void test_scan_chunk_invariance_random(void)
{
    unsigned char buf[5000];
    for (int iter = 0; iter < 200; iter++) {
        rng_seed((uint64_t)iter + 900);
        size_t len = rng_below(sizeof buf);
        random_input(buf, len, iter);
        if (iter % 5 == 4) /* mostly valid UTF-8 with a few multibyte characters */
            for (size_t i = 0; i + 4 < len; i += 1 + rng_below(30))
                memcpy(buf + i, "\xe2\x82\xac", 3);
        mime_scan ref = scan_cuts(buf, len, NULL, 0);
        CHECK_INT_EQ(ref.bytes, len);
        size_t cuts[40], n = 0, pos = 0;
        while (n < 40 && (pos += 1 + rng_below(200)) < len)
            cuts[n++] = pos;
        mime_scan got = scan_cuts(buf, len, cuts, n);
        CHECK(scan_equal(&got, &ref));
    }
}

/* ---- the choice ---- */

static mime_cte choose(const char *in, size_t len, int is_text, int allow_8bit)
{
    mime_scan s = scan_str(in, len);
    return mime_choose_cte(&s, is_text, allow_8bit);
}
#define CHOOSE(lit, t, e) choose(lit, sizeof(lit) - 1, t, e)

static void test_choose_cte(void)
{
    CHECK_STR_EQ(mime_cte_name(MIME_CTE_7BIT), "7bit");
    CHECK_STR_EQ(mime_cte_name(MIME_CTE_8BIT), "8bit");
    CHECK_STR_EQ(mime_cte_name(MIME_CTE_QUOTED_PRINTABLE), "quoted-printable");
    CHECK_STR_EQ(mime_cte_name(MIME_CTE_BASE64), "base64");

    /* Text. */
    CHECK_INT_EQ(CHOOSE("", 1, 0), MIME_CTE_7BIT);
    CHECK_INT_EQ(CHOOSE("Hello,\nplain ASCII.\n", 1, 0), MIME_CTE_7BIT);
    CHECK_INT_EQ(CHOOSE("Gr\xc3\xbc\xc3\x9f""e aus K\xc3\xb6ln, sch\xc3\xb6ne Stra\xc3\x9f""e\n", 1, 1), MIME_CTE_8BIT);
    CHECK_INT_EQ(CHOOSE("Gr\xc3\xbc\xc3\x9f""e aus K\xc3\xb6ln, sch\xc3\xb6ne Stra\xc3\x9f""e und viel mehr Text, der meist ASCII ist\n", 1, 0),
                 MIME_CTE_QUOTED_PRINTABLE);
    /* Japanese or Russian text is mostly non-ASCII: base64 without 8BITMIME. */
    CHECK_INT_EQ(CHOOSE("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\n", 1, 0),
                 MIME_CTE_BASE64);
    CHECK_INT_EQ(CHOOSE("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\n", 1, 1),
                 MIME_CTE_8BIT);
    /* Latin-1 is not UTF-8: never 8bit. */
    CHECK_INT_EQ(CHOOSE("caf\xe9 and a lot more plain ASCII text\n", 1, 1), MIME_CTE_QUOTED_PRINTABLE);
    /* Controls are never sent raw. */
    CHECK_INT_EQ(CHOOSE("bell\x07 and escape\x1b plus words\n", 1, 1), MIME_CTE_QUOTED_PRINTABLE);
    CHECK_INT_EQ(CHOOSE("nul\x00 byte in a text\n", 1, 0), MIME_CTE_QUOTED_PRINTABLE);
    /* Lines over 998 octets. */
    char longline[1200];
    memset(longline, 'a', sizeof longline);
    CHECK_INT_EQ(choose(longline, 998, 1, 0), MIME_CTE_7BIT);
    CHECK_INT_EQ(choose(longline, 999, 1, 0), MIME_CTE_QUOTED_PRINTABLE);
    CHECK_INT_EQ(choose(longline, 999, 1, 1), MIME_CTE_QUOTED_PRINTABLE);
    memcpy(longline + 500, "\xc3\xa9", 2);
    CHECK_INT_EQ(choose(longline, 997, 1, 1), MIME_CTE_8BIT);
    CHECK_INT_EQ(choose(longline, 1200, 1, 1), MIME_CTE_QUOTED_PRINTABLE);
    /* Line breaks of any kind are fine in text. */
    CHECK_INT_EQ(CHOOSE("mac\rline\rends", 1, 0), MIME_CTE_7BIT);

    /* Not text: 7bit only when sending it that way changes nothing. */
    CHECK_INT_EQ(CHOOSE("", 0, 1), MIME_CTE_7BIT);
    CHECK_INT_EQ(CHOOSE("{\"a\": 1}\r\n", 0, 1), MIME_CTE_7BIT);
    CHECK_INT_EQ(CHOOSE("{\"a\": 1}", 0, 1), MIME_CTE_BASE64);       /* would gain a CRLF */
    CHECK_INT_EQ(CHOOSE("{\"a\": 1}\n", 0, 1), MIME_CTE_BASE64);     /* LF would become CRLF */
    CHECK_INT_EQ(CHOOSE("x\r", 0, 1), MIME_CTE_BASE64);
    CHECK_INT_EQ(CHOOSE("caf\xc3\xa9\r\n", 0, 1), MIME_CTE_BASE64);
    CHECK_INT_EQ(CHOOSE("\x89PNG\r\n\x1a\n", 0, 1), MIME_CTE_BASE64);
    memcpy(longline + 1000, "\r\n", 2);
    CHECK_INT_EQ(choose(longline + 500, 502, 0, 1), MIME_CTE_BASE64); /* non-ASCII */
    memset(longline, 'a', 1000);
    CHECK_INT_EQ(choose(longline, 1002, 0, 1), MIME_CTE_BASE64);      /* 1000-octet line */
    CHECK_INT_EQ(choose(longline + 2, 1000, 0, 1), MIME_CTE_7BIT);    /* 998 */
}

/* ---- content types ---- */

static const struct { const char *ext, *type; } type_spec[] = {
    {"3gp", "video/3gpp"}, {"7z", "application/x-7z-compressed"}, {"aac", "audio/aac"},
    {"ai", "application/postscript"}, {"aif", "audio/aiff"}, {"aiff", "audio/aiff"},
    {"apk", "application/vnd.android.package-archive"}, {"apng", "image/apng"}, {"asc", "application/pgp-signature"},
    {"avi", "video/x-msvideo"}, {"avif", "image/avif"}, {"bmp", "image/bmp"}, {"bz2", "application/x-bzip2"},
    {"c", "text/x-c"}, {"cc", "text/x-c"}, {"cer", "application/pkix-cert"}, {"cpp", "text/x-c"},
    {"crt", "application/x-x509-ca-cert"}, {"css", "text/css"}, {"csv", "text/csv"},
    {"deb", "application/vnd.debian.binary-package"}, {"diff", "text/x-diff"},
    {"dmg", "application/x-apple-diskimage"}, {"doc", "application/msword"},
    {"docm", "application/vnd.ms-word.document.macroEnabled.12"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"dot", "application/msword"}, {"dotx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template"},
    {"eml", "message/rfc822"}, {"eot", "application/vnd.ms-fontobject"}, {"eps", "application/postscript"},
    {"epub", "application/epub+zip"}, {"exe", "application/vnd.microsoft.portable-executable"},
    {"flac", "audio/flac"}, {"flv", "video/x-flv"}, {"gif", "image/gif"}, {"go", "text/x-go"},
    {"gpx", "application/gpx+xml"}, {"gz", "application/gzip"}, {"h", "text/x-c"}, {"heic", "image/heic"},
    {"heif", "image/heif"}, {"hpp", "text/x-c"}, {"htm", "text/html"}, {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"}, {"ics", "text/calendar"}, {"iso", "application/x-iso9660-image"},
    {"jar", "application/java-archive"}, {"java", "text/x-java"}, {"jfif", "image/jpeg"}, {"jpe", "image/jpeg"},
    {"jpeg", "image/jpeg"}, {"jpg", "image/jpeg"}, {"js", "text/javascript"}, {"json", "application/json"},
    {"jsonld", "application/ld+json"}, {"jxl", "image/jxl"}, {"kml", "application/vnd.google-earth.kml+xml"},
    {"kmz", "application/vnd.google-earth.kmz"}, {"log", "text/plain"}, {"m4a", "audio/mp4"}, {"m4v", "video/mp4"},
    {"markdown", "text/markdown"}, {"mbox", "application/mbox"}, {"md", "text/markdown"}, {"mid", "audio/midi"},
    {"midi", "audio/midi"}, {"mjs", "text/javascript"}, {"mka", "audio/x-matroska"}, {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"}, {"mp3", "audio/mpeg"}, {"mp4", "video/mp4"}, {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"}, {"msg", "application/vnd.ms-outlook"}, {"msi", "application/x-msi"},
    {"numbers", "application/vnd.apple.numbers"}, {"odg", "application/vnd.oasis.opendocument.graphics"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"}, {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"}, {"ogg", "audio/ogg"}, {"ogv", "video/ogg"}, {"opus", "audio/ogg"}, {"otf", "font/otf"},
    {"p12", "application/x-pkcs12"}, {"p7m", "application/pkcs7-mime"}, {"p7s", "application/pkcs7-signature"},
    {"pages", "application/vnd.apple.pages"}, {"patch", "text/x-diff"}, {"pdf", "application/pdf"},
    {"pem", "application/x-pem-file"}, {"pfx", "application/x-pkcs12"}, {"php", "text/x-php"},
    {"pl", "text/x-perl"}, {"png", "image/png"},
    {"ppsx", "application/vnd.openxmlformats-officedocument.presentationml.slideshow"},
    {"ppt", "application/vnd.ms-powerpoint"}, {"pptm", "application/vnd.ms-powerpoint.presentation.macroEnabled.12"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"}, {"psd", "image/vnd.adobe.photoshop"}, {"py", "text/x-python"},
    {"rar", "application/vnd.rar"}, {"rb", "text/x-ruby"}, {"rs", "text/x-rust"}, {"rtf", "application/rtf"},
    {"sh", "application/x-sh"}, {"sql", "application/sql"}, {"srt", "application/x-subrip"},
    {"svg", "image/svg+xml"}, {"tar", "application/x-tar"}, {"tex", "application/x-tex"},
    {"tgz", "application/gzip"}, {"tif", "image/tiff"}, {"tiff", "image/tiff"}, {"toml", "application/toml"},
    {"tsv", "text/tab-separated-values"}, {"ttf", "font/ttf"}, {"txt", "text/plain"}, {"vcf", "text/vcard"},
    {"vtt", "text/vtt"}, {"wasm", "application/wasm"}, {"wav", "audio/wav"}, {"weba", "audio/webm"},
    {"webm", "video/webm"}, {"webp", "image/webp"}, {"wma", "audio/x-ms-wma"}, {"wmv", "video/x-ms-wmv"},
    {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"}, {"xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, {"xml", "application/xml"},
    {"xps", "application/vnd.ms-xpsdocument"}, {"xz", "application/x-xz"}, {"yaml", "application/yaml"},
    {"yml", "application/yaml"}, {"zip", "application/zip"}, {"zst", "application/zstd"},
};

static void test_type_table(void)
{
    /* Every entry, in three spellings: a table out of order would lose some
     * of them to the binary search. */
    size_t n = sizeof type_spec / sizeof type_spec[0];
    CHECK(n >= 80);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "file.%s", type_spec[i].ext);
        CHECK_STR_EQ(mime_type_for_filename(name), type_spec[i].type);
        for (char *q = name; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        CHECK_STR_EQ(mime_type_for_filename(name), type_spec[i].type);
        char first = type_spec[i].ext[0];
        snprintf(name, sizeof name, "dir.d/x.%c%s", first >= 'a' && first <= 'z' ? first - 32 : first,
                 type_spec[i].ext + 1);
        CHECK_STR_EQ(mime_type_for_filename(name), type_spec[i].type);
        if (i > 0)
            CHECK(strcmp(type_spec[i - 1].ext, type_spec[i].ext) < 0);
    }
}

static void test_type_for_filename_rules(void)
{
    CHECK_STR_EQ(mime_type_for_filename("report.PDF"), "application/pdf");
    CHECK_STR_EQ(mime_type_for_filename("a.tar.gz"), "application/gzip");   /* last extension wins */
    CHECK_STR_EQ(mime_type_for_filename("photo.pdf.jpg"), "image/jpeg");
    CHECK_STR_EQ(mime_type_for_filename("/home/u/docs/notes.txt"), "text/plain");
    CHECK_STR_EQ(mime_type_for_filename("C:\\Users\\u\\Desktop\\Budget.XLSX"),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    CHECK_STR_EQ(mime_type_for_filename("mixed\\dir.zip/inner"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("dir.pdf/README"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("README"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("archive.unknownext"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("trailing."), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename(".pdf"), "application/octet-stream");   /* a hidden file */
    CHECK_STR_EQ(mime_type_for_filename("dir/.bashrc"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("x.averyveryverylongextension"), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename(""), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename(NULL), "application/octet-stream");
    CHECK_STR_EQ(mime_type_for_filename("x.p\xc3\xa9" "f"), "application/octet-stream");
}

/* ---- throughput (only with SMTPCORE_BENCH set) ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_bench(void)
{
    if (!getenv("SMTPCORE_BENCH"))
        return;
    enum { CHUNK = 65536, TOTAL = 256 << 20 };
    unsigned char *in = malloc(CHUNK);
    REQUIRE(in);
    for (int style = 0; style < 3; style++) {
        rng_seed(3);
        random_input(in, CHUNK, style == 0 ? 0 : 2);
        enc_kind k = style == 0 ? ENC_B64 : style == 1 ? ENC_QP : ENC_TEXT;
        sc_buf out;
        sc_buf_init(&out);
        mime_b64_enc b;
        mime_qp_enc q;
        mime_text_enc t;
        mime_b64_enc_init(&b);
        mime_qp_enc_init(&q);
        mime_text_enc_init(&t);
        double t0 = now_s();
        for (size_t done = 0; done < TOTAL; done += CHUNK) {
            if (k == ENC_B64) mime_b64_enc_update(&b, in, CHUNK, &out);
            else if (k == ENC_QP) mime_qp_enc_update(&q, in, CHUNK, &out);
            else mime_text_enc_update(&t, in, CHUNK, &out);
            sc_buf_reset(&out);
        }
        double dt = now_s() - t0;
        printf("    bench %-6s %.0f MB/s of input\n", kind_name(k), TOTAL / dt / 1e6);
        sc_buf_free(&out);
    }
    free(in);
}

TEST_MAIN({"b64_rfc4648_vectors", test_b64_rfc4648_vectors},
          {"b64_line_wrapping", test_b64_line_wrapping},
          {"b64_size_function", test_b64_size_function},
          {"qp_vectors", test_qp_vectors},
          {"qp_trailing_whitespace", test_qp_trailing_whitespace},
          {"qp_long_lines", test_qp_long_lines},
          {"qp_dot_and_from", test_qp_dot_and_from},
          {"qp_size_function_random", test_qp_size_function_random},
          {"text_vectors", test_text_vectors},
          {"every_split_of_short_inputs", test_every_split_of_short_inputs},
          {"qp_every_cut_near_line_end", test_qp_every_cut_near_line_end},
          {"random_splits_of_long_inputs", test_random_splits_of_long_inputs},
          {"byte_at_a_time", test_byte_at_a_time},
          {"scan_counters", test_scan_counters},
          {"scan_utf8_strict", test_scan_utf8_strict},
          {"scan_chunk_invariance_random", test_scan_chunk_invariance_random},
          {"choose_cte", test_choose_cte},
          {"type_table", test_type_table},
          {"type_for_filename_rules", test_type_for_filename_rules},
          {"bench", test_bench})
