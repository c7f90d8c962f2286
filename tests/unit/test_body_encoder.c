/* Dot-stuffing and line endings: every SMTP smuggling pattern, split at
 * every possible chunk boundary, gives the same safe bytes. */
#include <stdlib.h>

#include "smtp/body_encoder.h"
#include "testlib.h"

/* Encode `in` cut at the given boundaries (a bitmask over positions when
 * len <= 20, else fixed steps). */
static void encode_split(const char *in, size_t len, int dot_stuff, const size_t *cuts, size_t ncuts, sc_buf *out)
{
    smtp_body_encoder e;
    smtp_body_encoder_init(&e, dot_stuff);
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        smtp_body_encoder_write(&e, in + pos, end - pos, out);
        pos = end;
    }
    smtp_body_encoder_finish(&e, out);
}

/* The wire form is safe: only CRLF line ends, no line starts with a single
 * '.', and the only "\r\n.\r\n" is the final end marker. */
static int wire_is_safe(const char *p, size_t n)
{
    if (n < 3 || memcmp(p + n - 3, ".\r\n", 3) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
            return 0;
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return 0;
    }
    size_t body = n - 3;
    for (size_t i = 0; i < body; i++) {
        int line_start = i == 0 || p[i - 1] == '\n';
        if (line_start && p[i] == '.' && (i + 1 >= body || p[i + 1] != '.'))
            return 0;
        if (line_start && p[i] == '.')
            i++; /* skip the stuffed pair */
    }
    return body == 0 || (body >= 2 && p[body - 2] == '\r' && p[body - 1] == '\n');
}

static void check_all_splits(const char *in, const char *expected)
{
    size_t len = strlen(in);
    sc_buf ref;
    sc_buf_init(&ref);
    encode_split(in, len, 1, NULL, 0, &ref);
    CHECK_MEM_EQ(sc_buf_ptr(&ref), sc_buf_size(&ref), expected, strlen(expected));
    CHECK(wire_is_safe(sc_buf_ptr(&ref), sc_buf_size(&ref)));
    /* Every subset of cut points for short inputs. */
    REQUIRE(len <= 16);
    for (unsigned mask = 0; mask < (1u << (len ? len - 1 : 0)); mask++) {
        size_t cuts[16], n = 0;
        for (size_t b = 0; b + 1 < len; b++)
            if (mask & (1u << b))
                cuts[n++] = b + 1;
        sc_buf out;
        sc_buf_init(&out);
        encode_split(in, len, 1, cuts, n, &out);
        if (sc_buf_size(&out) != sc_buf_size(&ref) || memcmp(sc_buf_ptr(&out), sc_buf_ptr(&ref), sc_buf_size(&ref))) {
            tl_fail(__FILE__, __LINE__, "split mask %u differs", mask);
            tl_dump_bytes("  got", sc_buf_ptr(&out), sc_buf_size(&out));
            sc_buf_free(&out);
            break;
        }
        sc_buf_free(&out);
    }
    sc_buf_free(&ref);
}

static void test_smuggling_lf_dot_lf(void) { check_all_splits("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"); }
static void test_smuggling_cr_dot_cr(void) { check_all_splits("a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"); }
static void test_smuggling_crlf_dot_lf(void) { check_all_splits("a\r\n.\nb", "a\r\n..\r\nb\r\n.\r\n"); }
static void test_smuggling_lf_dot_crlf(void) { check_all_splits("a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"); }
static void test_smuggling_crlf_dot_cr(void) { check_all_splits("a\r\n.\rb", "a\r\n..\r\nb\r\n.\r\n"); }
static void test_leading_dot(void) { check_all_splits(".x\r\n..y", "..x\r\n...y\r\n.\r\n"); }
static void test_last_line_without_crlf(void) { check_all_splits("abc", "abc\r\n.\r\n"); }
static void test_ends_with_cr(void) { check_all_splits("abc\r", "abc\r\n.\r\n"); }
static void test_empty_body(void) { check_all_splits("", ".\r\n"); }
static void test_only_dot(void) { check_all_splits(".", "..\r\n.\r\n"); }
static void test_crlf_dot_crlf_in_body(void) { check_all_splits("x\r\n.\r\nMAIL", "x\r\n..\r\nMAIL\r\n.\r\n"); }
static void test_blank_lines(void) { check_all_splits("\n\n\r\r\n", "\r\n\r\n\r\n\r\n.\r\n"); }

static void test_worst_case_every_line_a_dot(void)
{
    /* 64 KiB of ".\n": output is exactly twice the input plus the marker. */
    size_t n = 65536;
    char *in = malloc(n);
    REQUIRE(in);
    for (size_t i = 0; i < n; i += 2) {
        in[i] = '.';
        in[i + 1] = '\n';
    }
    sc_buf out;
    sc_buf_init(&out);
    size_t cuts[] = {1, 2, 3, 4095, 4096, 30001};
    encode_split(in, n, 1, cuts, sizeof cuts / sizeof cuts[0], &out);
    CHECK_INT_EQ(sc_buf_size(&out), (n / 2) * 4 + 3);
    CHECK(wire_is_safe(sc_buf_ptr(&out), sc_buf_size(&out)));
    sc_buf_free(&out);
    free(in);
}

static void test_bdat_no_stuffing(void)
{
    sc_buf out;
    sc_buf_init(&out);
    const char *in = ".a\n.\nb";
    encode_split(in, strlen(in), 0, NULL, 0, &out);
    CHECK_MEM_EQ(sc_buf_ptr(&out), sc_buf_size(&out), ".a\r\n.\r\nb\r\n", 10);
    sc_buf_free(&out);
}

static void test_random_inputs_are_safe(void)
{
    /* Random bytes from an alphabet rich in '.', CR and LF, random cuts. */
    unsigned seed = 12345;
    const char alphabet[] = ".\r\n.a\r\n";
    for (int round = 0; round < 2000; round++) {
        char in[64];
        size_t len = (size_t)(rand_r(&seed) % 64);
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        size_t cuts[8], n = 0;
        for (size_t k = 0; k < 8 && len; k++) {
            size_t c = (size_t)(rand_r(&seed) % (len + 1));
            if (n == 0 || c >= cuts[n - 1])
                cuts[n++] = c;
        }
        sc_buf a, b;
        sc_buf_init(&a);
        sc_buf_init(&b);
        encode_split(in, len, 1, NULL, 0, &a);
        encode_split(in, len, 1, cuts, n, &b);
        CHECK(wire_is_safe(sc_buf_ptr(&a), sc_buf_size(&a)));
        CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), sc_buf_ptr(&a), sc_buf_size(&a));
        sc_buf_free(&a);
        sc_buf_free(&b);
        if (tl_failures_in_test)
            break;
    }
}

TEST_MAIN({"smuggling_lf_dot_lf", test_smuggling_lf_dot_lf}, {"smuggling_cr_dot_cr", test_smuggling_cr_dot_cr},
          {"smuggling_crlf_dot_lf", test_smuggling_crlf_dot_lf}, {"smuggling_lf_dot_crlf", test_smuggling_lf_dot_crlf},
          {"smuggling_crlf_dot_cr", test_smuggling_crlf_dot_cr}, {"leading_dot", test_leading_dot},
          {"last_line_without_crlf", test_last_line_without_crlf}, {"ends_with_cr", test_ends_with_cr},
          {"empty_body", test_empty_body}, {"only_dot", test_only_dot},
          {"crlf_dot_crlf_in_body", test_crlf_dot_crlf_in_body}, {"blank_lines", test_blank_lines},
          {"worst_case_every_line_a_dot", test_worst_case_every_line_a_dot},
          {"bdat_no_stuffing", test_bdat_no_stuffing}, {"random_inputs_are_safe", test_random_inputs_are_safe})
