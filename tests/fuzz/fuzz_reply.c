/* libFuzzer target for the SMTP reply parser (security notes: curl
 * CVE-2019-3823 was an out-of-bounds read on a short reply; a hostile server
 * must not make us buffer more than about one line).
 *
 * Input layout:
 *   byte 0   bits 0-2: largest chunk size, from {whole, 1, 2, 3, 7, 16, 64, 5000}
 *            bit 3:    third run that discards buffered input after every 220
 *                      reply (what the engine does after STARTTLS)
 *   byte 1   seed of the generator that picks each chunk size (1..largest)
 *   rest     server bytes
 *
 * The bytes are parsed three ways: in one feed (the reference), in the chunks
 * the first bytes choose, and (bit 3) in chunks with discards. After every
 * feed every complete reply is taken out and checked:
 *   - code 200..599; enhanced code "" or "C.D.D" (C the code's class, 1-3
 *     digits each) and the start of the text;
 *   - text NUL-terminated, no CR or NUL, n_lines lines joined by '\n',
 *     1 <= n_lines <= SMTP_REPLY_MAX_LINES, no line over SMTP_REPLY_MAX_LINE;
 *   - buffered input bounded: at most MAX_LINE + 2 + chunk after a feed, at
 *     most max(MAX_LINE + 2, chunk) once drained, and never a complete line
 *     left behind when next() says it needs more bytes;
 *   - errors are sticky: after the first -1, feed() and next() return -1;
 *   - chunking does not change the replies: the chunked run returns exactly
 *     the reference's replies, and fails exactly when it fails, except that a
 *     final unterminated line longer than the limit is caught only once it
 *     has grown past the limit (the reference never sees it grow).
 * A violation traps (__builtin_trap), which libFuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtp/reply.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "fuzz_reply: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                             \
        }                                                                                 \
    } while (0)

/* Bytes the parser may hold: one line of the maximum length and its CRLF. */
#define LINE_LIMIT (SMTP_REPLY_MAX_LINE + 2)

static const size_t chunk_table[8] = {0, 1, 2, 3, 7, 16, 64, 5000};

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "C.D.D" with C the code's class and 1-3 digits per part. */
static int valid_enhanced(const char *s, int code)
{
    if (s[0] != (char)('0' + code / 100) || s[1] != '.')
        return 0;
    size_t i = 2, d = 0;
    while (is_digit(s[i]) && d < 3) i++, d++;
    if (d == 0 || s[i] != '.')
        return 0;
    i++;
    d = 0;
    while (is_digit(s[i]) && d < 3) i++, d++;
    return d > 0 && s[i] == '\0';
}

static void check_reply(const smtp_reply *r)
{
    CHECK(r->code >= 200 && r->code <= 599);
    size_t el = strnlen(r->enhanced, sizeof r->enhanced);
    CHECK(el < sizeof r->enhanced);
    const char *text = smtp_reply_text(r);
    size_t tl = sc_buf_size(&r->text);
    /* NUL-terminated exactly at its length: no NUL inside, none missing. */
    CHECK(strlen(text) == tl);
    CHECK(!memchr(text, '\r', tl));
    if (el) {
        CHECK(valid_enhanced(r->enhanced, r->code));
        CHECK(tl >= el && memcmp(text, r->enhanced, el) == 0);
        CHECK(text[el] == ' ' || text[el] == '\n' || text[el] == '\0');
    }
    CHECK(r->n_lines >= 1 && r->n_lines <= SMTP_REPLY_MAX_LINES);
    size_t lines = 1, cur = 0;
    for (size_t i = 0; i < tl; i++) {
        if (text[i] == '\n') {
            lines++;
            cur = 0;
            continue;
        }
        /* The text of a line is what follows "NNN-". */
        CHECK(++cur <= SMTP_REPLY_MAX_LINE - 4);
    }
    CHECK(lines == r->n_lines);
}

/* Append a reply in a fixed form, to compare runs. */
static void serialize(sc_buf *out, const smtp_reply *r)
{
    char head[64];
    int k = snprintf(head, sizeof head, "%d|%s|%zu|%zu|", r->code, r->enhanced, r->n_lines, sc_buf_size(&r->text));
    CHECK(k > 0 && (size_t)k < sizeof head);
    CHECK(sc_buf_append(out, head, (size_t)k) == 0);
    CHECK(sc_buf_append(out, smtp_reply_text(r), sc_buf_size(&r->text)) == 0);
    CHECK(sc_buf_append(out, "\n", 1) == 0);
}

typedef struct run_result {
    sc_buf replies; /* serialized replies */
    int failed;
} run_result;

/* largest == 0: one feed. */
static void run_parser(const uint8_t *d, size_t n, size_t largest, uint32_t seed, int discard_on_220,
                       run_result *res)
{
    smtp_reply_parser p;
    smtp_reply_parser_init(&p);
    smtp_reply r;
    smtp_reply_init(&r);
    uint32_t s = 0x9E3779B9u ^ (seed * 0x01000193u);
    if (!s)
        s = 1;
    int failed = 0;
    size_t pos = 0;
    do {
        size_t c = n - pos;
        if (largest) {
            size_t want = 1 + rng_next(&s) % largest;
            if (want < c)
                c = want;
        }
        int rc = smtp_reply_parser_feed(&p, (const char *)d + pos, c);
        pos += c;
        if (failed) {
            CHECK(rc == -1);
            CHECK(p.err[0] != '\0');
            CHECK(smtp_reply_parser_next(&p, &r) == -1);
            continue;
        }
        if (rc < 0) {
            CHECK(rc == -1 && p.err[0] != '\0');
            CHECK(smtp_reply_parser_next(&p, &r) == -1);
            failed = 1;
            continue;
        }
        CHECK(rc == 0 && p.err[0] == '\0');
        CHECK(smtp_reply_parser_pending(&p) <= LINE_LIMIT + c);
        for (;;) {
            int k = smtp_reply_parser_next(&p, &r);
            if (k < 0) {
                CHECK(k == -1 && p.err[0] != '\0');
                failed = 1;
                break;
            }
            if (k == 0) {
                size_t pend = smtp_reply_parser_pending(&p);
                CHECK(pend == sc_buf_size(&p.in));
                CHECK(!pend || !memchr(sc_buf_ptr(&p.in), '\n', pend));
                CHECK(pend <= (c > LINE_LIMIT ? c : LINE_LIMIT));
                break;
            }
            CHECK(k == 1);
            check_reply(&r);
            serialize(&res->replies, &r);
            if (discard_on_220 && r.code == 220) {
                smtp_reply_parser_discard(&p);
                CHECK(smtp_reply_parser_pending(&p) == 0);
            }
        }
    } while (pos < n);
    if (failed) {
        /* Still failed, whatever comes next. */
        CHECK(smtp_reply_parser_feed(&p, "250 ok\r\n", 8) == -1);
        CHECK(smtp_reply_parser_next(&p, &r) == -1);
        CHECK(p.err[0] != '\0');
    }
    res->failed = failed;
    smtp_reply_free(&r);
    smtp_reply_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t largest = chunk_table[data[0] & 7];
    int discard = (data[0] & 8) != 0;
    uint32_t seed = data[1];
    const uint8_t *d = data + 2;
    size_t n = size - 2;

    run_result whole, chunked;
    sc_buf_init(&whole.replies);
    sc_buf_init(&chunked.replies);
    run_parser(d, n, 0, seed, 0, &whole);
    run_parser(d, n, largest, seed, 0, &chunked);

    CHECK(sc_buf_size(&whole.replies) == sc_buf_size(&chunked.replies));
    CHECK(memcmp(sc_buf_ptr(&whole.replies), sc_buf_ptr(&chunked.replies), sc_buf_size(&whole.replies)) == 0);
    if (whole.failed != chunked.failed) {
        /* Only an unterminated last line that is already too long. */
        const uint8_t *nl = NULL;
        for (size_t i = n; i > 0; i--)
            if (d[i - 1] == '\n') {
                nl = d + i - 1;
                break;
            }
        size_t tail = nl ? n - (size_t)(nl - d) - 1 : n;
        CHECK(!whole.failed && chunked.failed && tail > LINE_LIMIT);
    }
    sc_buf_free(&whole.replies);
    sc_buf_free(&chunked.replies);

    if (discard) {
        run_result third;
        sc_buf_init(&third.replies);
        run_parser(d, n, largest ? largest : 64, seed, 1, &third);
        sc_buf_free(&third.replies);
    }
    return 0;
}
