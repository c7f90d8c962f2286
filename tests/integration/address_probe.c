/* The address parser from the command line, for the differential test
 * (tests/integration/test_address_differential.py).
 *
 * One input per line on stdin, with escapes so any byte can be given:
 * "\\r", "\\n", "\\t", "\\xHH" and "\\\\" (a backslash); any other
 * backslash is taken as is. For each line one JSON object on stdout:
 *
 *   {"mailbox": RESULT, "list": RESULT}
 *   RESULT = {"ok": false, "error": "..."}
 *          | {"ok": true, "items": [{"display_name": "..." or null, "local": "...",
 *             "domain": "...", "domain_ascii": "...", "local_utf8": 0|1,
 *             "addr_spec": "..." or null (needs SMTPUTF8), "addr_spec_utf8": "..."}]}
 *
 * "mailbox" is mime_address_parse_mailbox, "list" mime_address_parse_list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/address.h"
#include "smtpcore.h"

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

/* Decode the escapes in place; returns the length. */
static size_t unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == 'r' || c == 'n' || c == 't' || c == '\\') {
                s[o++] = c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : '\\';
                i++;
                continue;
            }
            if (c == 'x' && i + 3 < n && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
                s[o++] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
                i += 3;
                continue;
            }
        }
        s[o++] = s[i];
    }
    return o;
}

/* A JSON string; bytes >= 0x80 go as they are (the parser's outputs are
 * valid UTF-8, which the test checks by decoding the line strictly). */
static void json_str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_items(const mime_mailbox *items, size_t n)
{
    fputs("{\"ok\": true, \"items\": [", stdout);
    for (size_t k = 0; k < n; k++) {
        const mime_mailbox *m = &items[k];
        sc_buf a, u;
        sc_buf_init(&a);
        sc_buf_init(&u);
        int ra = mime_mailbox_addr_spec(m, 0, &a, NULL);
        int ru = mime_mailbox_addr_spec(m, 1, &u, NULL);
        sc_buf_append(&a, "", 1);
        sc_buf_append(&u, "", 1);
        fputs(k ? ", {\"display_name\": " : "{\"display_name\": ", stdout);
        json_str(m->display_name);
        fputs(", \"local\": ", stdout);
        json_str(m->local);
        fputs(", \"domain\": ", stdout);
        json_str(m->domain);
        fputs(", \"domain_ascii\": ", stdout);
        json_str(m->domain_ascii);
        printf(", \"local_utf8\": %d, \"addr_spec\": ", m->local_utf8);
        json_str(ra == 0 ? sc_buf_ptr(&a) : NULL);
        fputs(", \"addr_spec_utf8\": ", stdout);
        json_str(ru == 0 ? sc_buf_ptr(&u) : NULL);
        putchar('}');
        sc_buf_free(&a);
        sc_buf_free(&u);
    }
    fputs("]}", stdout);
}

static void print_error(const smtpcore_error *err)
{
    fputs("{\"ok\": false, \"error\": ", stdout);
    json_str(err->message ? err->message : "(no message)");
    putchar('}');
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n')
            n--;
        n = unescape(line, n);

        smtpcore_error err = {0};
        mime_mailbox mb;
        fputs("{\"mailbox\": ", stdout);
        if (mime_address_parse_mailbox(line, n, &mb, &err) == 0) {
            print_items(&mb, 1);
            mime_mailbox_free(&mb);
        } else {
            print_error(&err);
        }
        smtpcore_error_clear(&err);

        mime_mailbox_list list;
        fputs(", \"list\": ", stdout);
        if (mime_address_parse_list(line, n, &list, &err) == 0) {
            print_items(list.items, list.n);
            mime_mailbox_list_free(&list);
        } else {
            print_error(&err);
        }
        smtpcore_error_clear(&err);
        fputs("}\n", stdout);
        fflush(stdout);
    }
    free(line);
    return 0;
}
