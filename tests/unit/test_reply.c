/* The reply parser: multi-line replies, enhanced codes, limits, and the same
 * result whatever way the bytes are split. */
#include <stdlib.h>

#include "smtp/reply.h"
#include "testlib.h"

static int parse_all(const char *in, size_t len, size_t step, smtp_reply *out, int *count)
{
    smtp_reply_parser p;
    smtp_reply_parser_init(&p);
    int rc = 0;
    *count = 0;
    for (size_t i = 0; i < len && rc >= 0; i += step) {
        size_t n = len - i < step ? len - i : step;
        if (smtp_reply_parser_feed(&p, in + i, n) < 0) {
            rc = -1;
            break;
        }
        int r;
        while ((r = smtp_reply_parser_next(&p, out)) == 1)
            (*count)++;
        if (r < 0)
            rc = -1;
    }
    smtp_reply_parser_free(&p);
    return rc;
}

static void test_single_line(void)
{
    smtp_reply r;
    smtp_reply_init(&r);
    int count;
    const char *in = "250 2.1.0 Ok\r\n";
    REQUIRE(parse_all(in, strlen(in), 100, &r, &count) == 0);
    CHECK_INT_EQ(count, 1);
    CHECK_INT_EQ(r.code, 250);
    CHECK_STR_EQ(r.enhanced, "2.1.0");
    CHECK_STR_EQ(smtp_reply_text(&r), "2.1.0 Ok");
    smtp_reply_free(&r);
}

static void test_multi_line_any_split(void)
{
    const char *in = "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 CHUNKING\r\n";
    for (size_t step = 1; step <= strlen(in); step++) {
        smtp_reply r;
        smtp_reply_init(&r);
        int count;
        CHECK(parse_all(in, strlen(in), step, &r, &count) == 0);
        CHECK_INT_EQ(count, 1);
        CHECK_INT_EQ(r.n_lines, 4);
        CHECK_STR_EQ(smtp_reply_text(&r), "mail.example.test\nPIPELINING\nSIZE 10240000\nCHUNKING");
        smtp_reply_free(&r);
    }
}

static void test_bare_code_and_lf(void)
{
    smtp_reply r;
    smtp_reply_init(&r);
    int count;
    const char *in = "250\n354 go ahead\r\n";
    REQUIRE(parse_all(in, strlen(in), 3, &r, &count) == 0);
    CHECK_INT_EQ(count, 2);
    CHECK_INT_EQ(r.code, 354);
    CHECK_STR_EQ(r.enhanced, "");
    smtp_reply_free(&r);
}

static void test_enhanced_code_must_match_class(void)
{
    smtp_reply r;
    smtp_reply_init(&r);
    int count;
    const char *in = "550 2.1.1 odd\r\n";
    REQUIRE(parse_all(in, strlen(in), 64, &r, &count) == 0);
    CHECK_STR_EQ(r.enhanced, "");
    const char *in3 = "354 3.0.0 go ahead\r\n";
    REQUIRE(parse_all(in3, strlen(in3), 64, &r, &count) == 0);
    CHECK_STR_EQ(r.enhanced, "");
    const char *in2 = "550 5.1.10 unknown\r\n";
    REQUIRE(parse_all(in2, strlen(in2), 64, &r, &count) == 0);
    CHECK_STR_EQ(r.enhanced, "5.1.10");
    smtp_reply_free(&r);
}

static void test_malformed(void)
{
    const char *bad[] = {"25 ok\r\n", "abc ok\r\n", "250xok\r\n", "650 no\r\n", "199 no\r\n",
                         "250-a\r\n251 b\r\n", "250 a\0b\r\n", "250 a\rb\r\n"};
    size_t lens[] = {7, 8, 8, 8, 8, 14, 10, 10};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smtp_reply r;
        smtp_reply_init(&r);
        int count;
        CHECK(parse_all(bad[i], lens[i], 64, &r, &count) < 0);
        smtp_reply_free(&r);
    }
}

static void test_line_limit_detected_early(void)
{
    /* A 10 MB line is refused once the limit is passed, not buffered. */
    smtp_reply_parser p;
    smtp_reply_parser_init(&p);
    char chunk[1024];
    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk, "250 ", 4);
    int failed_at = -1;
    for (int i = 0; i < 10 * 1024; i++) {
        if (smtp_reply_parser_feed(&p, chunk, sizeof chunk) < 0) {
            failed_at = i;
            break;
        }
        smtp_reply r;
        smtp_reply_init(&r);
        if (smtp_reply_parser_next(&p, &r) < 0)
            failed_at = i;
        smtp_reply_free(&r);
        if (failed_at >= 0)
            break;
    }
    CHECK(failed_at >= 0 && failed_at <= (SMTP_REPLY_MAX_LINE / 1024) + 1);
    CHECK(p.in.cap <= 4 * 8192);
    smtp_reply_parser_free(&p);
}

static void test_line_count_limit(void)
{
    smtp_reply_parser p;
    smtp_reply_parser_init(&p);
    int rc = 0;
    smtp_reply r;
    smtp_reply_init(&r);
    for (int i = 0; i < 100000 && rc == 0; i++) {
        if (smtp_reply_parser_feed(&p, "250-x\r\n", 7) < 0 || smtp_reply_parser_next(&p, &r) < 0)
            rc = -1;
    }
    CHECK(rc < 0);
    CHECK(strstr(p.err, "too many lines") != NULL);
    smtp_reply_free(&r);
    smtp_reply_parser_free(&p);
}

static void test_pending_and_discard(void)
{
    smtp_reply_parser p;
    smtp_reply_parser_init(&p);
    const char *in = "220 Ready\r\n250-XFAKE\r\n";
    smtp_reply r;
    smtp_reply_init(&r);
    REQUIRE(smtp_reply_parser_feed(&p, in, strlen(in)) == 0);
    REQUIRE(smtp_reply_parser_next(&p, &r) == 1);
    CHECK_INT_EQ(r.code, 220);
    CHECK_INT_EQ(smtp_reply_parser_pending(&p), 11);
    smtp_reply_parser_discard(&p);
    CHECK_INT_EQ(smtp_reply_parser_pending(&p), 0);
    CHECK_INT_EQ(smtp_reply_parser_next(&p, &r), 0);
    smtp_reply_free(&r);
    smtp_reply_parser_free(&p);
}

TEST_MAIN({"single_line", test_single_line}, {"multi_line_any_split", test_multi_line_any_split},
          {"bare_code_and_lf", test_bare_code_and_lf},
          {"enhanced_code_must_match_class", test_enhanced_code_must_match_class}, {"malformed", test_malformed},
          {"line_limit_detected_early", test_line_limit_detected_early},
          {"line_count_limit", test_line_count_limit}, {"pending_and_discard", test_pending_and_discard})
