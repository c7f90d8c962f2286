/* libFuzzer target for the content transfer encoders and the scan.
 *
 * Input layout:
 *   bytes 0-1  seed for the chunking: the rest is cut into chunks of 1 to
 *              (byte 0 & 63) + 1 bytes, or at random points (byte 0 bit 7)
 *   rest       the content
 * For base64, quoted-printable and 7bit text, the chunked output must equal
 * the one-shot output and the size function; base64 lines are exactly 76
 * characters but the last; quoted-printable lines at most 76, no trailing
 * whitespace, no leading '.' or "From ", '=' always "=XX" or a soft break;
 * decoding gives back the content (line ends normalised to CRLF). The scan
 * must not depend on the chunking, and the choice must respect its rules.
 * The content as a file name must get a type, the same in any letter case. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/encoders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

typedef enum { ENC_B64, ENC_QP, ENC_TEXT } enc_kind;

static void encode(enc_kind k, const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts, sc_buf *out)
{
    mime_b64_enc b;
    mime_qp_enc q;
    mime_text_enc t;
    mime_b64_enc_init(&b);
    mime_qp_enc_init(&q);
    mime_text_enc_init(&t);
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        int rc = k == ENC_B64 ? mime_b64_enc_update(&b, in + pos, end - pos, out)
                 : k == ENC_QP ? mime_qp_enc_update(&q, in + pos, end - pos, out)
                               : mime_text_enc_update(&t, in + pos, end - pos, out);
        CHECK(rc == 0);
        pos = end;
    }
    CHECK((k == ENC_B64 ? mime_b64_enc_finish(&b, out) : k == ENC_QP ? mime_qp_enc_finish(&q, out)
                                                                     : mime_text_enc_finish(&t, out)) == 0);
}

static void normalise_crlf(const uint8_t *p, size_t n, sc_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                i++;
            CHECK(sc_buf_append(out, "\r\n", 2) == 0);
        } else {
            CHECK(sc_buf_append(out, p + i, 1) == 0);
        }
    }
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Check the line form and decode; abort on any deviation. */
static void b64_check_decode(const char *p, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *eol = memchr(p + i, '\r', n - i);
        CHECK(eol && (size_t)(eol - p) + 1 < n && eol[1] == '\n');
        size_t len = (size_t)(eol - (p + i));
        int last = (size_t)(eol - p) + 2 == n;
        CHECK(len > 0 && len % 4 == 0 && (last ? len <= 76 : len == 76));
        for (size_t g = 0; g < len; g += 4) {
            const unsigned char *q = (const unsigned char *)p + i + g;
            int final_group = last && g + 4 == len;
            int pad = final_group ? (q[3] == '=') + (q[2] == '=') : 0;
            CHECK(pad == 0 || q[3] == '=');
            int v[4];
            for (int j = 0; j < 4 - pad; j++)
                CHECK((v[j] = b64_val(q[j])) >= 0);
            for (int j = 4 - pad; j < 4; j++)
                v[j] = 0;
            unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
            unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w};
            CHECK(sc_buf_append(out, bytes, (size_t)(3 - pad)) == 0);
        }
        i += len + 2;
    }
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void qp_check_decode(const char *p, size_t n, sc_buf *out)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        int end = i == n;
        CHECK(end || p[i] != '\n');
        if (!end && p[i] != '\r')
            continue;
        CHECK(end || (i + 1 < n && p[i + 1] == '\n'));
        const char *l = p + start;
        size_t len = i - start;
        CHECK(len <= 76);
        CHECK(len == 0 || (l[len - 1] != ' ' && l[len - 1] != '\t'));
        CHECK(len == 0 || l[0] != '.');
        CHECK(len < 5 || memcmp(l, "From ", 5) != 0);
        int soft = 0;
        for (size_t j = 0; j < len; j++) {
            unsigned char c = (unsigned char)l[j];
            if (c == '=') {
                if (j + 1 == len && !end) {
                    soft = 1;
                    break;
                }
                CHECK(j + 2 < len);
                int hi = hex_val((unsigned char)l[j + 1]), lo = hex_val((unsigned char)l[j + 2]);
                CHECK(hi >= 0 && lo >= 0);
                unsigned char b = (unsigned char)(hi << 4 | lo);
                CHECK(sc_buf_append(out, &b, 1) == 0);
                j += 2;
            } else {
                CHECK((c >= 33 && c <= 126) || c == ' ' || c == '\t');
                CHECK(sc_buf_append(out, &c, 1) == 0);
            }
        }
        if (end)
            break;
        if (!soft)
            CHECK(sc_buf_append(out, "\r\n", 2) == 0);
        i++;
        start = i + 1;
    }
}

static void same_bytes(const sc_buf *a, const sc_buf *b)
{
    CHECK(sc_buf_size(a) == sc_buf_size(b));
    CHECK(sc_buf_size(a) == 0 || memcmp(sc_buf_ptr(a), sc_buf_ptr(b), sc_buf_size(a)) == 0);
}

static void check_encoder(enc_kind k, const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts)
{
    sc_buf one, chunked, dec, want;
    sc_buf_init(&one);
    sc_buf_init(&chunked);
    sc_buf_init(&dec);
    sc_buf_init(&want);
    encode(k, in, len, NULL, 0, &one);
    encode(k, in, len, cuts, ncuts, &chunked);
    same_bytes(&one, &chunked);
    uint64_t size = k == ENC_B64 ? mime_b64_encoded_size(len) : k == ENC_QP ? mime_qp_encoded_size(in, len)
                                                                            : mime_text_encoded_size(in, len);
    CHECK(size == sc_buf_size(&one));
    const char *e = sc_buf_ptr(&one);
    size_t en = sc_buf_size(&one);
    if (k == ENC_B64) {
        b64_check_decode(e, en, &dec);
        CHECK(sc_buf_size(&dec) == len && (len == 0 || memcmp(sc_buf_ptr(&dec), in, len) == 0));
    } else if (k == ENC_QP) {
        qp_check_decode(e, en, &dec);
        normalise_crlf(in, len, &want);
        same_bytes(&dec, &want);
    } else {
        normalise_crlf(in, len, &want);
        size_t wn = sc_buf_size(&want);
        if (wn > 0 && (wn < 2 || memcmp(sc_buf_ptr(&want) + wn - 2, "\r\n", 2) != 0))
            CHECK(sc_buf_append(&want, "\r\n", 2) == 0);
        same_bytes(&one, &want);
    }
    sc_buf_free(&one);
    sc_buf_free(&chunked);
    sc_buf_free(&dec);
    sc_buf_free(&want);
}

static void check_scan(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts)
{
    mime_scan a, b;
    mime_scan_init(&a);
    mime_scan_init(&b);
    mime_scan_update(&a, in, len);
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        mime_scan_update(&b, in + pos, end - pos);
        pos = end;
    }
    mime_scan_finish(&a);
    mime_scan_finish(&b);
    CHECK(a.bytes == len && b.bytes == len);
    CHECK(a.non_ascii == b.non_ascii && a.controls == b.controls && a.lines == b.lines &&
          a.longest_line == b.longest_line && a.bare_cr_or_lf == b.bare_cr_or_lf && a.valid_utf8 == b.valid_utf8);
    CHECK(a.longest_line <= len && a.lines <= len && a.non_ascii + a.controls <= len);
    for (int text = 0; text < 2; text++)
        for (int eight = 0; eight < 2; eight++) {
            mime_cte c = mime_choose_cte(&a, text, eight);
            if (c == MIME_CTE_7BIT)
                CHECK(a.non_ascii == 0 && a.controls == 0 && a.longest_line <= 998);
            if (c == MIME_CTE_8BIT)
                CHECK(text && eight && a.valid_utf8 && a.controls == 0 && a.longest_line <= 998);
            if (c == MIME_CTE_QUOTED_PRINTABLE)
                CHECK(text);
            if (c == MIME_CTE_7BIT && !text) {
                /* 7bit for non-text must send the bytes unchanged. */
                CHECK(mime_text_encoded_size(in, len) == len);
            }
        }
}

static void check_type(const uint8_t *in, size_t len)
{
    char *name = malloc(len + 1), *upper = malloc(len + 1);
    CHECK(name && upper);
    memcpy(name, in, len);
    name[len] = '\0';
    for (size_t i = 0; i <= len; i++)
        upper[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32) : name[i];
    const char *t = mime_type_for_filename(name);
    CHECK(t && strchr(t, '/'));
    CHECK(strcmp(t, mime_type_for_filename(upper)) == 0);
    free(name);
    free(upper);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 << 16)
        return 0;
    uint32_t seed = (uint32_t)data[0] << 8 | data[1];
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    size_t cuts[256], ncuts = 0, pos = 0;
    size_t maxstep = (size_t)(data[0] & 63) + 1;
    while (ncuts < sizeof cuts / sizeof cuts[0]) {
        seed = seed * 1103515245u + 12345u;
        size_t step = (data[0] & 0x80) ? (seed >> 16) % (len + 1) : 1 + (seed >> 16) % maxstep;
        pos = (data[0] & 0x80) ? step : pos + step;
        if (pos >= len)
            break;
        if (ncuts > 0 && pos < cuts[ncuts - 1])
            break;   /* random points: keep the increasing prefix */
        cuts[ncuts++] = pos;
    }
    check_encoder(ENC_B64, in, len, cuts, ncuts);
    check_encoder(ENC_QP, in, len, cuts, ncuts);
    check_encoder(ENC_TEXT, in, len, cuts, ncuts);
    check_scan(in, len, cuts, ncuts);
    check_type(in, len);
    return 0;
}
