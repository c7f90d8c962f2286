/* A tiny test framework: tests are functions registered in a table; the
 * runner prints one line per test and a closing "N passed, N failed" line.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_STR_EQ(a, "b"); }
 *   TEST_MAIN({"x", test_x}, ...)
 *
 * A failed CHECK records the failure and continues, so one run shows every
 * broken expectation; REQUIRE stops the current test. */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_case { const char *name; void (*fn)(void); };

extern int tl_failures_in_test;
extern jmp_buf tl_abort;

void tl_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tl_dump_bytes(const char *label, const char *p, size_t n);
int tl_run(const struct tl_case *cases, size_t n, int argc, char **argv);
/* Extra milliseconds allowed above a timing bound: 0 normally, more when the
 * tests run under valgrind or a sanitizer (SMTPCORE_TEST_SLOW=1), where time
 * measures the tool, not the code. */
long tl_slack_ms(void);

#define CHECK(cond) \
    do { if (!(cond)) tl_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)
#define REQUIRE(cond) \
    do { if (!(cond)) { tl_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond); longjmp(tl_abort, 1); } } while (0)
#define CHECK_INT_EQ(a, b) \
    do { long long tl_a = (long long)(a), tl_b = (long long)(b); \
         if (tl_a != tl_b) tl_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, tl_a, #b, tl_b); } while (0)
#define CHECK_STR_EQ(a, b) \
    do { const char *tl_a = (a), *tl_b = (b); \
         if (!tl_a || !tl_b || strcmp(tl_a, tl_b) != 0) \
             tl_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, tl_a ? tl_a : "(null)", tl_b ? tl_b : "(null)"); } while (0)
/* Compare bytes; on mismatch print both sides escaped. */
#define CHECK_MEM_EQ(p, n, q, m) \
    do { const char *tl_p = (const char *)(p), *tl_q = (const char *)(q); size_t tl_n = (n), tl_m = (m); \
         if (tl_n != tl_m || memcmp(tl_p, tl_q, tl_n) != 0) { \
             tl_fail(__FILE__, __LINE__, "bytes differ: %s vs %s", #p, #q); \
             tl_dump_bytes("  got     ", tl_p, tl_n); tl_dump_bytes("  expected", tl_q, tl_m); } } while (0)

#define TEST_MAIN(...) \
    int main(int argc, char **argv) { \
        static const struct tl_case tl_cases[] = { __VA_ARGS__ }; \
        return tl_run(tl_cases, sizeof tl_cases / sizeof tl_cases[0], argc, argv); }

#endif
