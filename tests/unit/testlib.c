#include "testlib.h"

#include <stdarg.h>

int tl_failures_in_test;
jmp_buf tl_abort;
static const char *tl_current;

void tl_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    %s:%d: [%s] ", file, line, tl_current ? tl_current : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    tl_failures_in_test++;
}

void tl_dump_bytes(const char *label, const char *p, size_t n)
{
    fprintf(stderr, "%s (%zu): \"", label, n);
    size_t shown = n > 2000 ? 2000 : n;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r') fputs("\\r", stderr);
        else if (c == '\n') fputs("\\n", stderr);
        else if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
        else if (c < 32 || c > 126) fprintf(stderr, "\\x%02x", c);
        else fputc(c, stderr);
    }
    fprintf(stderr, "\"%s\n", shown < n ? "..." : "");
}

/* Run all tests, or those whose names contain argv[1]. */
int tl_run(const struct tl_case *cases, size_t n, int argc, char **argv)
{
    volatile int passed = 0, failed = 0;
    const char *filter = argc > 1 ? argv[1] : NULL;
    for (volatile size_t i = 0; i < n; i++) {
        if (filter && !strstr(cases[i].name, filter))
            continue;
        tl_current = cases[i].name;
        tl_failures_in_test = 0;
        if (setjmp(tl_abort) == 0)
            cases[i].fn();
        if (tl_failures_in_test) {
            printf("FAIL %s\n", cases[i].name);
            failed++;
        } else {
            printf("ok   %s\n", cases[i].name);
            passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

long tl_slack_ms(void)
{
    const char *v = getenv("SMTPCORE_TEST_SLOW");
    return v && *v && strcmp(v, "0") != 0 ? 1000 : 0;
}
