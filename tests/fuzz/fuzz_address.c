/* libFuzzer target for the address parser (security notes, "Messages":
 * parser differentials like Python CVE-2023-27043 and nodemailer
 * CVE-2025-13033; header injection through addresses).
 *
 * The input is parsed as one mailbox and as a list. Whatever is accepted
 * must hold:
 *   - every field is valid UTF-8 (strictly) with no control character but
 *     TAB in a display name, and no CR, LF or NUL anywhere;
 *   - local is 1..64 octets, local_utf8 says whether it has non-ASCII;
 *     domain_ascii is ASCII; an address literal is the same in both fields;
 *   - the addr-spec (with SMTPUTF8, and without when local is ASCII)
 *     re-parses to the same local part and domains, without a display name,
 *     and without SMTPUTF8 it is refused exactly when local_utf8 is set;
 *   - a mailbox accepted alone is the one item of the list parse.
 * Refusals must leave the outputs empty and say "invalid address: " in a
 * message with no control character. A violation traps. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mime/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_address: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                               \
        }                                                                                   \
    } while (0)

/* Strict UTF-8 (no overlongs, surrogates, or past U+10FFFF), written again
 * here so the check does not share code with what it checks. Controls: none
 * at all, or TAB only if tab_ok. */
static int clean_utf8(const char *str, int tab_ok)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7F)
                return 0;
            i++;
            continue;
        }
        size_t need;
        unsigned long cp;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, cp = c & 0x07;
        else
            return 0;
        if (n - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F))
            return 0;
        i += need + 1;
    }
    return 1;
}

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

static void check_reparse(const mime_mailbox *m, int smtputf8)
{
    sc_buf b;
    sc_buf_init(&b);
    int rc = mime_mailbox_addr_spec(m, smtputf8, &b, NULL);
    if (!smtputf8 && m->local_utf8) {
        CHECK(rc == -1 && sc_buf_size(&b) == 0);
        sc_buf_free(&b);
        return;
    }
    CHECK(rc == 0);
    mime_mailbox again;
    CHECK(mime_address_parse_mailbox(sc_buf_ptr(&b), sc_buf_size(&b), &again, NULL) == 0);
    CHECK(again.display_name == NULL);
    CHECK(strcmp(again.local, m->local) == 0);
    CHECK(strcmp(again.domain, m->domain) == 0);
    CHECK(strcmp(again.domain_ascii, m->domain_ascii) == 0);
    CHECK(again.local_utf8 == m->local_utf8);
    mime_mailbox_free(&again);
    sc_buf_free(&b);
}

static void check_mailbox(const mime_mailbox *m)
{
    CHECK(m->local && m->domain && m->domain_ascii);
    CHECK(clean_utf8(m->local, 0) && clean_utf8(m->domain, 0) && clean_utf8(m->domain_ascii, 0));
    if (m->display_name)
        CHECK(m->display_name[0] && clean_utf8(m->display_name, 1));
    size_t ln = strlen(m->local);
    CHECK(ln >= 1 && ln <= 64);
    CHECK(m->local_utf8 == has_non_ascii(m->local));
    CHECK(!has_non_ascii(m->domain_ascii));
    CHECK(strlen(m->domain_ascii) >= 1 && strlen(m->domain_ascii) <= 253);
    if (m->domain[0] == '[' || m->domain_ascii[0] == '[')
        CHECK(strcmp(m->domain, m->domain_ascii) == 0);
    check_reparse(m, 1);
    check_reparse(m, 0);
}

static void check_error(const smtpcore_error *err)
{
    CHECK(err->category == SMTPCORE_ERR_USAGE || err->category == SMTPCORE_ERR_LOCAL);
    CHECK(err->message != NULL);
    if (err->category == SMTPCORE_ERR_USAGE)
        CHECK(strncmp(err->message, "invalid address: ", 17) == 0);
    CHECK(clean_utf8(err->message, 0));
}

static int same(const mime_mailbox *a, const mime_mailbox *b)
{
    if ((a->display_name == NULL) != (b->display_name == NULL))
        return 0;
    if (a->display_name && strcmp(a->display_name, b->display_name) != 0)
        return 0;
    return strcmp(a->local, b->local) == 0 && strcmp(a->domain, b->domain) == 0 &&
           strcmp(a->domain_ascii, b->domain_ascii) == 0 && a->local_utf8 == b->local_utf8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    smtpcore_error err = {0};
    mime_mailbox m;
    mime_mailbox_list l;

    int mrc = mime_address_parse_mailbox(in, size, &m, &err);
    if (mrc == 0) {
        check_mailbox(&m);
        /* Nothing that can break a header line got through. */
        CHECK(!memchr(in, '\r', size) && !memchr(in, '\n', size) && !memchr(in, '\0', size));
    } else {
        CHECK(mrc == -1);
        check_error(&err);
        CHECK(!m.display_name && !m.local && !m.domain && !m.domain_ascii);
    }
    smtpcore_error_clear(&err);

    int lrc = mime_address_parse_list(in, size, &l, &err);
    if (lrc == 0) {
        for (size_t k = 0; k < l.n; k++)
            check_mailbox(&l.items[k]);
        CHECK((l.n == 0) == (l.items == NULL));
    } else {
        CHECK(lrc == -1);
        check_error(&err);
        CHECK(l.n == 0 && l.items == NULL);
    }
    smtpcore_error_clear(&err);

    if (mrc == 0) {
        CHECK(lrc == 0 && l.n == 1 && same(&m, &l.items[0]));
        mime_mailbox_free(&m);
    }
    if (lrc == 0)
        mime_mailbox_list_free(&l);
    return 0;
}
