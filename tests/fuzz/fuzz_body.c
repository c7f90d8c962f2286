/* libFuzzer target for the DATA/BDAT body encoder (security notes: SMTP
 * smuggling, and curl CVE-2018-0500, an overflow in dot-stuffing).
 *
 * Input layout:
 *   byte 0   bits 0-2: largest chunk size, from {1, 2, 3, 4, 7, 16, 64, 1000}
 *            bit 3:    allow empty writes between chunks
 *   byte 1   seed of the generator that picks each chunk size (0..largest)
 *   rest     the message body, any bytes
 *
 * For DATA (dot-stuffing) and for BDAT, the body is encoded in one write and
 * in the chunks the first bytes choose, and checked:
 *   - chunking does not matter: both give the same bytes;
 *   - no bare CR or LF: every CR is followed by LF, every LF preceded by CR;
 *   - DATA: every line that starts with '.' starts with "..", and the only
 *     "\r\n.\r\n" (counting the CRLF that ends the DATA command) is the end
 *     marker, at the very end;
 *   - the inverse: removing the end marker and one leading '.' of each
 *     stuffed line gives the input with every line end (CRLF, bare CR, bare
 *     LF) made CRLF and a CRLF added to an unterminated last line; for BDAT
 *     the output is that normalised input itself;
 *   - the counters: bytes_in is the input length, bytes_out the output
 *     without the end marker, and a write never produces more than 2n+2 bytes
 *     (the room the encoder reserves).
 * The expected bytes come from a separate, line-by-line implementation here,
 * not from the encoder. A violation traps (__builtin_trap). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtp/body_encoder.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "fuzz_body: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                            \
        }                                                                                \
    } while (0)

static const size_t chunk_table[8] = {1, 2, 3, 4, 7, 16, 64, 1000};

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int buf_eq(const sc_buf *a, const sc_buf *b)
{
    return sc_buf_size(a) == sc_buf_size(b) && memcmp(sc_buf_ptr(a), sc_buf_ptr(b), sc_buf_size(a)) == 0;
}

/* The input with every line end made CRLF and the last line terminated. */
static void normalise(const uint8_t *in, size_t n, sc_buf *out)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n')
            j++;
        CHECK(sc_buf_append(out, in + i, j - i) == 0);
        CHECK(sc_buf_append(out, "\r\n", 2) == 0);
        if (j < n && in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
            j++;
        i = j + 1;
    }
}

static void check_no_bare_cr_lf(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r')
            CHECK(i + 1 < n && p[i + 1] == '\n');
        if (p[i] == '\n')
            CHECK(i > 0 && p[i - 1] == '\r');
    }
}

typedef struct encoded {
    sc_buf out;
    uint64_t bytes_in, bytes_out;
} encoded;

static void encode(const uint8_t *in, size_t n, int dot_stuff, size_t largest, int allow_empty, uint32_t seed,
                   encoded *res)
{
    smtp_body_encoder e;
    smtp_body_encoder_init(&e, dot_stuff);
    uint32_t s = 0x9E3779B9u ^ (seed * 0x01000193u);
    if (!s)
        s = 1;
    size_t pos = 0;
    do {
        size_t c = n - pos;
        if (largest) {
            size_t want = rng_next(&s) % (largest + 1);
            if (want == 0 && !allow_empty)
                want = 1;
            if (want < c)
                c = want;
        }
        size_t before = sc_buf_size(&res->out);
        CHECK(smtp_body_encoder_write(&e, (const char *)in + pos, c, &res->out) == 0);
        CHECK(sc_buf_size(&res->out) - before <= 2 * c + 2);
        pos += c;
    } while (pos < n);
    CHECK(smtp_body_encoder_finish(&e, &res->out) == 0);
    res->bytes_in = e.bytes_in;
    res->bytes_out = e.bytes_out;
}

static void check_mode(const uint8_t *in, size_t n, int dot_stuff, size_t largest, int allow_empty, uint32_t seed)
{
    encoded whole = {0}, chunked = {0};
    sc_buf_init(&whole.out);
    sc_buf_init(&chunked.out);
    encode(in, n, dot_stuff, 0, 0, seed, &whole);
    encode(in, n, dot_stuff, largest, allow_empty, seed, &chunked);

    /* Chunking invariance. */
    CHECK(buf_eq(&whole.out, &chunked.out));
    CHECK(whole.bytes_in == n && chunked.bytes_in == n);
    CHECK(whole.bytes_out == chunked.bytes_out);

    const char *p = sc_buf_ptr(&whole.out);
    size_t len = sc_buf_size(&whole.out);
    check_no_bare_cr_lf(p, len);

    sc_buf norm;
    sc_buf_init(&norm);
    normalise(in, n, &norm);

    if (!dot_stuff) {
        CHECK(buf_eq(&whole.out, &norm));
        CHECK(whole.bytes_out == len);
    } else {
        /* Exactly one end marker, at the end (the DATA command's own CRLF
         * comes before the body). */
        CHECK(len >= 3 && memcmp(p + len - 3, ".\r\n", 3) == 0);
        CHECK(len == 3 || (len >= 5 && memcmp(p + len - 5, "\r\n.\r\n", 5) == 0));
        CHECK(whole.bytes_out == len - 3);
        size_t markers = 0;
        if (len >= 3 && memcmp(p, ".\r\n", 3) == 0)
            markers++;
        for (size_t i = 0; i + 5 <= len; i++)
            if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
                markers++;
        CHECK(markers == 1);
        /* Un-stuff line by line: every line-initial '.' must be doubled. */
        sc_buf unstuffed;
        sc_buf_init(&unstuffed);
        size_t body = len - 3, i = 0;
        while (i < body) {
            const char *crlf = NULL;
            for (size_t j = i; j < body; j++)
                if (p[j] == '\r') {
                    crlf = p + j;
                    break;
                }
            CHECK(crlf != NULL); /* every line of the body ends with CRLF */
            size_t end = (size_t)(crlf - p);
            size_t from = i;
            if (p[i] == '.') {
                CHECK(end - i >= 2 && p[i + 1] == '.');
                from = i + 1;
            }
            CHECK(sc_buf_append(&unstuffed, p + from, end + 2 - from) == 0);
            i = end + 2;
        }
        CHECK(i == body);
        CHECK(buf_eq(&unstuffed, &norm));
        sc_buf_free(&unstuffed);
    }
    sc_buf_free(&norm);
    sc_buf_free(&whole.out);
    sc_buf_free(&chunked.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t largest = chunk_table[data[0] & 7];
    int allow_empty = (data[0] & 8) != 0;
    uint32_t seed = data[1];
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    check_mode(in, n, 1, largest, allow_empty, seed);
    check_mode(in, n, 0, largest, allow_empty, seed);
    return 0;
}
