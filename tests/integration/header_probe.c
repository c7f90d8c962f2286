/* Encodes header fields for tests/integration/test_header_encode_python.py,
 * which parses them back with Python's email package.
 *
 * One case per line on stdin, fields separated by single spaces; values are
 * "x" followed by hex (so any bytes, "x" alone is the empty string), or "-"
 * for NULL:
 *   S <utf8> <value>                         Subject (unstructured)
 *   U <utf8> <name> <value>                  any unstructured field
 *   R <name> <value>                         structured field (mime_header_raw)
 *   A <utf8> <name> <display> <addr> ...     address list, pairs of display name and addr-spec
 *   P <utf8> <filename>                      Content-Type: application/octet-stream; name=...
 *                                            and Content-Disposition: attachment; filename=...
 * One line per case on stdout: "OK <hex of the field bytes>" or
 * "ERR <category> <message>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/header_encode.h"

#define MAX_FIELDS 64

typedef struct field {
    char *p; /* NUL-terminated (NULs inside are kept; len says how long) */
    size_t len;
    int null;
} field;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode "x<hex>" or "-" in place. */
static int parse_field(char *tok, field *f)
{
    f->null = 0;
    f->p = tok;
    f->len = 0;
    if (!strcmp(tok, "-")) {
        f->null = 1;
        f->p = NULL;
        return 0;
    }
    if (tok[0] != 'x')
        return -1;
    size_t n = strlen(tok + 1);
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int h = hexval(tok[1 + i]), l = hexval(tok[2 + i]);
        if (h < 0 || l < 0)
            return -1;
        tok[i / 2] = (char)(h << 4 | l);
    }
    tok[n / 2] = '\0';
    f->len = n / 2;
    return 0;
}

static void report(int rc, const sc_buf *b, const smtpcore_error *err)
{
    if (rc == 0) {
        fputs("OK ", stdout);
        const unsigned char *p = (const unsigned char *)sc_buf_ptr(b);
        for (size_t i = 0; i < sc_buf_size(b); i++)
            printf("%02x", p[i]);
        putchar('\n');
    } else
        printf("ERR %s %s\n", smtpcore_category_name(err->category), err->message ? err->message : "");
}

static int run_case(char *line)
{
    char *tok[MAX_FIELDS + 4];
    size_t nt = 0;
    for (char *save = NULL, *t = strtok_r(line, " \n", &save); t && nt < MAX_FIELDS + 4;
         t = strtok_r(NULL, " \n", &save))
        tok[nt++] = t;
    if (nt < 2)
        return -1;
    sc_buf b;
    sc_buf_init(&b);
    smtpcore_error err = {0};
    int rc = -1;
    field f[MAX_FIELDS];
    char kind = tok[0][0];
    size_t first = kind == 'R' ? 1 : 2;
    int utf8 = kind == 'R' ? 0 : atoi(tok[1]);
    for (size_t i = first; i < nt; i++)
        if (parse_field(tok[i], &f[i - first]) < 0)
            return -1;
    size_t nf = nt - first;
    switch (kind) {
    case 'S':
        if (nf != 1)
            return -1;
        rc = mime_header_unstructured(&b, "Subject", f[0].p, f[0].len, utf8, &err);
        break;
    case 'U':
        if (nf != 2)
            return -1;
        rc = mime_header_unstructured(&b, f[0].p, f[1].p, f[1].len, utf8, &err);
        break;
    case 'R':
        if (nf != 2)
            return -1;
        rc = mime_header_raw(&b, f[0].p, f[1].p, &err);
        break;
    case 'A': {
        if (nf < 3 || nf % 2 != 1)
            return -1;
        mime_addr_item items[MAX_FIELDS / 2];
        size_t n = 0;
        for (size_t i = 1; i + 1 < nf; i += 2, n++) {
            items[n].display_name = f[i].p;
            items[n].addr_spec = f[i + 1].p;
        }
        rc = mime_header_address_list(&b, f[0].p, items, n, utf8, &err);
        break;
    }
    case 'P': {
        if (nf != 1)
            return -1;
        mime_param ct = {"name", f[0].p}, cd = {"filename", f[0].p};
        rc = mime_header_with_params(&b, "Content-Type", "application/octet-stream", &ct, 1, utf8, &err);
        if (rc == 0)
            rc = mime_header_with_params(&b, "Content-Disposition", "attachment", &cd, 1, utf8, &err);
        break;
    }
    default:
        return -1;
    }
    report(rc, &b, &err);
    sc_buf_free(&b);
    smtpcore_error_clear(&err);
    return 0;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        if (run_case(line) < 0) {
            printf("BAD input line\n");
            free(line);
            return 2;
        }
        fflush(stdout);
    }
    free(line);
    return 0;
}
