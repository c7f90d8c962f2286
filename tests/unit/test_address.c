/* The address parser (csrc/mime/address.c): tables of valid mailboxes with
 * the exact parse, invalid ones with what the error must say, lists and
 * groups, addr-spec output with and without SMTPUTF8.
 *
 * Every input of these tables is also a seed in tests/fuzz/corpus/address/
 * (valid_NNN, invalid_NNN, list_NNN, invalid_list_NNN: the raw bytes, NNN the
 * table index), and tests/integration/test_address_differential.py feeds the
 * seeds to Python's email parser: add a seed file with each new case. */
#include <stdlib.h>

#include "mime/address.h"
#include "smtp/envelope_check.h"
#include "testlib.h"

typedef struct valid_case {
    const char *in;
    const char *display_name; /* NULL: none */
    const char *local, *domain, *domain_ascii;
    int local_utf8;
} valid_case;

static const valid_case valid_cases[] = {
    /* the examples of the brief */
    {"Bob <bob@example.com>", "Bob", "bob", "example.com", "example.com", 0},
    {"\"Last, First\" <a@b.example>", "Last, First", "a", "b.example", "b.example", 0},
    {"a@b.example (Comment (nested))", NULL, "a", "b.example", "b.example", 0},
    {"=?UTF-8?B?w4lsb2TDqWU=?= <e@x.example>", "Élodée", "e", "x.example", "x.example", 0},
    {"Jörg <jörg@bücher.example>", "Jörg", "jörg", "bücher.example", "xn--bcher-kva.example", 1},
    {"user@XN--BCHER-KVA.EXAMPLE", NULL, "user", "bücher.example", "xn--bcher-kva.example", 0},
    {"a@[192.0.2.1]", NULL, "a", "[192.0.2.1]", "[192.0.2.1]", 0},
    {"a@[IPv6:2001:db8::1]", NULL, "a", "[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]", 0},
    {"a@[IPv6:::ffff:192.0.2.1]", NULL, "a", "[IPv6:::ffff:192.0.2.1]", "[IPv6:::ffff:192.0.2.1]", 0},
    /* nodemailer CVE-2025-13033: the '@' is inside the quoted local part */
    {"\"xclow3n@gmail.com x\"@internal.domain", NULL, "\"xclow3n@gmail.com x\"", "internal.domain",
     "internal.domain", 0},
    {"\"a@b\" <c@d.example>", "a@b", "c", "d.example", "d.example", 0},
    /* plain forms, whitespace and comments around */
    {"bob@example.com", NULL, "bob", "example.com", "example.com", 0},
    {"  bob@example.com\t ", NULL, "bob", "example.com", "example.com", 0},
    {"<bob@example.com>", NULL, "bob", "example.com", "example.com", 0},
    {"< bob@example.com >", NULL, "bob", "example.com", "example.com", 0},
    {"(Work) bob@example.com", NULL, "bob", "example.com", "example.com", 0},
    {"Bob<bob@example.com>", "Bob", "bob", "example.com", "example.com", 0},
    {"Bob\t<bob@example.com>", "Bob", "bob", "example.com", "example.com", 0},
    {"Bob Smith <bob@example.com>", "Bob Smith", "bob", "example.com", "example.com", 0},
    {"Bob   (x)  Smith <a@b.example>", "Bob Smith", "a", "b.example", "b.example", 0},
    {"Bob (the builder) <bob@x.example> (work)", "Bob", "bob", "x.example", "x.example", 0},
    {"J. Smith <j@x.example>", "J. Smith", "j", "x.example", "x.example", 0},
    {"\"quoted\" atom <a@x.example>", "quoted atom", "a", "x.example", "x.example", 0},
    {"\"Bob \\\"The Builder\\\"\" <b@x.example>", "Bob \"The Builder\"", "b", "x.example", "x.example", 0},
    {"\"\" <a@x.example>", NULL, "a", "x.example", "x.example", 0},
    /* local parts: case kept, atext, canonical quoting */
    {"Bob.Smith@Example.COM", NULL, "Bob.Smith", "example.com", "example.com", 0},
    {"a+tag@x.example", NULL, "a+tag", "x.example", "x.example", 0},
    {"!#$%&'*+-/=?^_`{|}~@x.example", NULL, "!#$%&'*+-/=?^_`{|}~", "x.example", "x.example", 0},
    {"a.b.c@x.example", NULL, "a.b.c", "x.example", "x.example", 0},
    {"\"john\"@x.example", NULL, "john", "x.example", "x.example", 0},
    {"\"j\\ohn\"@x.example", NULL, "john", "x.example", "x.example", 0},
    {"\"a b\"@x.example", NULL, "\"a b\"", "x.example", "x.example", 0},
    {"\"a\\\"b\"@x.example", NULL, "\"a\\\"b\"", "x.example", "x.example", 0},
    {"\".a\"@x.example", NULL, "\".a\"", "x.example", "x.example", 0},
    {"\"a..b\"@x.example", NULL, "\"a..b\"", "x.example", "x.example", 0},
    {"üser@example.com", NULL, "üser", "example.com", "example.com", 1},
    {"\"üser x\"@example.com", NULL, "\"üser x\"", "example.com", "example.com", 1},
    {"<\"a b\"@x.example>", NULL, "\"a b\"", "x.example", "x.example", 0},
    /* domains */
    {"bob@EXAMPLE.COM", NULL, "bob", "example.com", "example.com", 0},
    {"a@x-y.example", NULL, "a", "x-y.example", "x-y.example", 0},
    {"1@2.example", NULL, "1", "2.example", "2.example", 0},
    {"a@localhost", NULL, "a", "localhost", "localhost", 0},
    {"a@BÜCHER.example", NULL, "a", "bücher.example", "xn--bcher-kva.example", 0},
    {"Faß <f@faß.de>", "Faß", "f", "faß.de", "xn--fa-hia.de", 0},
    {"a@xn--fa-hia.de", NULL, "a", "faß.de", "xn--fa-hia.de", 0},
    {"a@ｅｘａｍｐｌｅ.com", NULL, "a", "example.com", "example.com", 0}, /* UTS 46 maps fullwidth letters */
    {"a@日本語.jp", NULL, "a", "日本語.jp", "xn--wgv71a119e.jp", 0},
    /* RFC 2047 display names */
    {"=?ISO-8859-1?Q?J=F6rg?= <j@x.example>", "Jörg", "j", "x.example", "x.example", 0},
    {"=?iso-8859-1?q?Andr=E9_Pirard?= <a@x.example>", "André Pirard", "a", "x.example", "x.example", 0},
    {"=?US-ASCII?Q?Keith_Moore?= <moore@cs.example>", "Keith Moore", "moore", "cs.example", "cs.example", 0},
    {"=?UTF-8?B?5pel5pys6Kqe?= <n@x.example>", "日本語", "n", "x.example", "x.example", 0},
    {"=?utf-8?b?w4lsb2TDqWU=?= Martin <e@x.example>", "Élodée Martin", "e", "x.example", "x.example", 0},
    {"=?UTF-8?Q?a?= =?UTF-8?Q?b?= <e@x.example>", "ab", "e", "x.example", "x.example", 0},
    {"=?UTF-8?Q?a?= x =?UTF-8?Q?b?= <e@x.example>", "a x b", "e", "x.example", "x.example", 0},
    {"=?UTF-8*en?Q?Hi?= <h@x.example>", "Hi", "h", "x.example", "x.example", 0},
    {"=?X-UNKNOWN?Q?abc?= <e@x.example>", "=?X-UNKNOWN?Q?abc?=", "e", "x.example", "x.example", 0},
    {"\"=?UTF-8?Q?a?=\" <e@x.example>", "=?UTF-8?Q?a?=", "e", "x.example", "x.example", 0},
    {"=?UTF-8?Q?J._Smith?= <j@x.example>", "J. Smith", "j", "x.example", "x.example", 0},
    {"=?X-UNKNOWN?Q?a?= =?X-UNKNOWN?Q?b?= <e@x.example>", "=?X-UNKNOWN?Q?a?= =?X-UNKNOWN?Q?b?=", "e", "x.example",
     "x.example", 0},
    {"a\"b\"c <e@x.example>", "abc", "e", "x.example", "x.example", 0},
    /* UTF-8 display names (RFC 6532) */
    {"\"Jörg Ü\" <j@x.example>", "Jörg Ü", "j", "x.example", "x.example", 0},
    {"Ünïcödé Nâme <u@x.example>", "Ünïcödé Nâme", "u", "x.example", "x.example", 0},
};

typedef struct invalid_case {
    const char *in;
    size_t len; /* 0: strlen */
    const char *says; /* a part of the message */
} invalid_case;

static const invalid_case invalid_cases[] = {
    /* Python CVE-2023-27043 */
    {"alice@example.org)<bob@example.org>", 0, "unbalanced ')'"},
    {"alice@example.org]<bob@example.org>", 0, "unexpected ']'"},
    {"alice@example.org<bob@example.org>", 0, "unquoted '@' in a display name"},
    /* '@' and quotes */
    {"a@b@c", 0, "more than one '@' outside quotes"},
    {"a@b (c) @d", 0, "more than one '@' outside quotes"},
    {"Bob@home <a@b.example>", 0, "unquoted '@' in a display name"},
    {"Bob Smith@x.example", 0, "unquoted '@' in a display name"},
    {"\"a\"b@x.example", 0, "quoted local part followed by more text"},
    {"\"a\".b@x.example", 0, "quoted local part followed by more text"},
    {"<\"a\"b@x.example>", 0, "quoted local part followed by more text"},
    {"a.\"b\"@x.example", 0, "quoted string mixed into a dot-atom local part"},
    {"\"unterminated@x", 0, "unterminated quoted string (missing '\"') after '\"unterminated@x'"},
    {"\"\"@x.example", 0, "empty local part"},
    {"@x.example", 0, "empty local part"},
    {"\\a@x.example", 0, "backslash outside a quoted string"},
    {"\"a\tb\"@x.example", 0, "tab in a quoted local part"},
    /* angle brackets */
    {"<a@b>>", 0, "unexpected '>'"},
    {"Bob <bob@example.com", 0, "missing '>' after 'Bob <bob@example.com'"},
    {"<a@b", 0, "missing '>'"},
    {"a>@b", 0, "'>' without a matching '<'"},
    {"A <a@b.example> <c@d.example>", 0, "unexpected '<' after a complete address"},
    {"<>", 0, "empty address '<>'"},
    {"<@a,@b:x@y>", 0, "source routes"},
    {"Bob <a b@x.example>", 0, "whitespace or comment before '@'"},
    {"Bob <a@x.example> c", 0, "unexpected text after the address"},
    {"<a@x.example ü>", 0, "unexpected 'ü' before '>'"}, /* a whole character, never half of one */
    {". Bob <a@x.example>", 0, "display name starts with '.'"},
    /* CFWS */
    {"a @x.example", 0, "whitespace or comment before '@'"},
    {"a(c)@x.example", 0, "whitespace or comment before '@'"},
    {"a@ x.example", 0, "whitespace or comment after '@'"},
    {"a@x.example (unclosed", 0, "comment not closed"},
    {"a@x.example (a (b)", 0, "comment not closed"},
    {"a@x.example)", 0, "unbalanced ')'"},
    /* dot-atoms */
    {"a..b@x", 0, "local part contains '..'"},
    {".a@x", 0, "local part starts with '.'"},
    {"a.@x", 0, "local part ends with '.'"},
    {"=?UTF-8?Q?a?=@x.example", 0, "encoded-word"},
    {"\"=?x?q?a=40b?=\"@x.example", 0, "encoded-word"},
    /* domains */
    {"a@", 0, "missing domain after '@'"},
    {"a@-x.example", 0, "domain label '-x' starts with '-'"},
    {"a@x-.example", 0, "domain label 'x-' ends with '-'"},
    {"a@x..example", 0, "domain contains '..'"},
    {"a@.x.example", 0, "domain starts with '.'"},
    {"a@x.example.", 0, "domain ends with '.'"},
    {"a@b_c.example", 0, "illegal character '_' in domain label 'b_c'"},
    {"a@b!c.example", 0, "illegal character '!'"},
    {"a@ａ＠b.example", 0, "not a valid host name"},   /* fullwidth '@' maps to '@' */
    {"a@bü＿cher.example", 0, "not a valid host name"}, /* fullwidth '_' maps to '_' */
    {"a@bücher。example", 0, "maps to '.'"},
    {"a@xn--abc.example", 0, "not a valid international domain name"},
    {"a@💩.example", 0, "not a valid international domain name"},
    {"a@[300.1.1.1]", 0, "invalid IPv4 address literal '[300.1.1.1]'"},
    {"a@[1.2.3]", 0, "invalid IPv4 address literal"},
    {"a@[IPv6:zz::1]", 0, "invalid IPv6 address literal"},
    {"a@[IPv6:fe80::1%eth0]", 0, "invalid IPv6 address literal"},
    {"a@[x:y]", 0, "unsupported address literal"},
    {"a@[]", 0, "invalid IPv4 address literal"},
    {"a@[1.2.3.4", 0, "missing ']'"},
    {"a@[1.2.3.4 ]", 0, "whitespace in an address literal"},
    {"a@[192.0.2.1]x", 0, "unexpected text after the address"},
    /* line breaks, controls, UTF-8 */
    {"a@b\r\nBcc: evil@x", 0, "a line break (CR) after 'a@b'"},
    {"a@b\nBcc: evil@x", 0, "a line break (LF) after 'a@b'"},
    {"a@b.example,\r\n c@d.example", 0, "a line break (CR)"}, /* folding is refused too */
    {"a\0b@x.example", 13, "a NUL byte after 'a'"},
    {"a\001@x.example", 0, "a control character (U+0001)"},
    {"a@x.example\177", 0, "a control character (U+007F)"},
    {"a\xC2\x85" "b@x.example", 0, "a control character (U+0085)"},
    {"Bob\xE2\x80\xA8 <a@x.example>", 0, "a line or paragraph separator (U+2028)"},
    {"\xC3\x28@x.example", 0, "invalid UTF-8 (byte 0xC3) at the start"},
    {"a\xC0\xAF@x.example", 0, "invalid UTF-8 (byte 0xC0)"},           /* overlong '/' */
    {"a\xED\xA0\x80@x.example", 0, "invalid UTF-8 (byte 0xED)"},       /* surrogate */
    {"a\xF4\x90\x80\x80@x.example", 0, "invalid UTF-8 (byte 0xF4)"},   /* past U+10FFFF */
    {"a\xE2\x82@x.example", 0, "invalid UTF-8"},                       /* truncated */
    {"Bob\t<bob@example.com", 0, "missing '>' after 'Bob\\x09<bob@example.com'"},
    /* RFC 2047 words that are broken */
    {"=?UTF-8?B?!!!!?= <a@x.example>", 0, "is not valid base64"},
    {"=?UTF-8?B?w4lsb2TDqWU?= <a@x.example>", 0, "is not valid base64"},
    {"=?UTF-8?Q?a=ZZ?= <a@x.example>", 0, "bad '=XX' escape"},
    {"=?UTF-8?Q?=0D=0ABcc=3A_x?= <a@x.example>", 0, "decodes to a line break (CR)"},
    {"=?UTF-8?B?AA==?= <a@x.example>", 0, "decodes to a NUL byte"},
    {"=?UTF-8?B?/w==?= <a@x.example>", 0, "decodes to invalid UTF-8"},
    {"=?UTF-8?Q?=E2=80=A8?= <a@x.example>", 0, "decodes to a line or paragraph separator"},
    {"=?ISO-8859-1?Q?=85?= <a@x.example>", 0, "decodes to a control character (U+0085)"},
    {"=?US-ASCII?Q?=E9?= <a@x.example>", 0, "8-bit bytes in US-ASCII"},
    /* encoded-words glued to other text: Python decodes these, RFC 2047 5(3) does not */
    {"x=?UTF-8?Q?a?= <e@x.example>", 0, "'=?' in the display name outside an encoded-word"},
    {"=?UTF-8?Q?a?=b <e@x.example>", 0, "'=?' in the display name outside an encoded-word"},
    {"=?UTF-8?Q?a?=.b <e@x.example>", 0, "'=?' in the display name outside an encoded-word"},
    {"b.=?UTF-8?Q?a?= <e@x.example>", 0, "'=?' in the display name outside an encoded-word"},
    {"=?UTF-8?Q?a?=\"b\" <e@x.example>", 0, "'=?' in the display name outside an encoded-word"},
    /* not one mailbox */
    {"", 0, "empty address"},
    {"   ", 0, "empty address"},
    {"Bob", 0, "missing '@' (not an address) in 'Bob'"},
    {"a@b.example, c@d.example", 0, "more than one address"},
    {"Friends: a@x.example;", 0, "not a single mailbox"},
    {"a@b.example;", 0, "';' outside a group"},
};

typedef struct list_case {
    const char *in;
    size_t n;
    const char *specs[4];
    const char *names[4];
} list_case;

static const list_case list_cases[] = {
    {"a@x.example, b@y.example", 2, {"a@x.example", "b@y.example"}, {NULL, NULL}},
    {"A <a@x.example>,B <b@y.example>", 2, {"a@x.example", "b@y.example"}, {"A", "B"}},
    {"\"Last, First\" <a@x.example>, b@y.example", 2, {"a@x.example", "b@y.example"}, {"Last, First", NULL}},
    {" (c) a@x.example (d) , (e) \"B\" <b@y.example> (f) ", 2, {"a@x.example", "b@y.example"}, {NULL, "B"}},
    {"Friends: a@x, \"B\" <b@y>;", 2, {"a@x", "b@y"}, {NULL, "B"}},
    {"undisclosed-recipients:;", 0, {NULL}, {NULL}},
    {"undisclosed-recipients: (none) ;", 0, {NULL}, {NULL}},
    {"a@x.example, Team: b@y.example, c@z.example;, d@w.example", 4,
     {"a@x.example", "b@y.example", "c@z.example", "d@w.example"}, {NULL}},
    {"Empty: ; , a@x.example", 1, {"a@x.example"}, {NULL}},
    {"a@x.example,\tb@y.example", 2, {"a@x.example", "b@y.example"}, {NULL}},
};

static const invalid_case invalid_list_cases[] = {
    {"a@x.example,", 0, "trailing ','"},
    {"a@x.example, ", 0, "trailing ','"},
    {"a@x.example,,b@y.example", 0, "empty list element (',,')"},
    {"a@x.example, ,b@y.example", 0, "empty list element (',,')"},
    {",a@x.example", 0, "empty list element before ','"},
    {"Friends: a@x.example", 0, "missing ';' at the end of the group after 'Friends: a@x.example'"},
    {"Friends: a@x.example,;", 0, "trailing ','"},
    {"Friends: , a@x.example;", 0, "empty list element before ','"},
    {"Friends: Inner: a@x.example;;", 0, "groups cannot be nested"},
    {": a@x.example;", 0, "group without a name"},
    {"a@x.example; b@y.example", 0, "';' outside a group"},
    {"Friends: a@x.example; junk", 0, "unexpected text after the address"},
    {"", 0, "empty address list"},
    {" (only a comment) ", 0, "empty address list"},
    {"a@x.example, b@y@z", 0, "more than one '@'"},
    {"a@x.example, b@y\r\n.example", 0, "a line break (CR)"},
};

/* Messages must be printable: no control characters at all. */
static int printable(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7F)
            return 0;
    return s != NULL;
}

static int mailbox_zeroed(const mime_mailbox *m)
{
    return !m->display_name && !m->local && !m->domain && !m->domain_ascii && !m->local_utf8;
}

static char *addr_spec(const mime_mailbox *m, int smtputf8)
{
    sc_buf b;
    sc_buf_init(&b);
    if (mime_mailbox_addr_spec(m, smtputf8, &b, NULL) < 0) {
        sc_buf_free(&b);
        return NULL;
    }
    char *s = sc_buf_strdup(&b);
    sc_buf_free(&b);
    return s;
}

static int same_mailbox(const mime_mailbox *a, const mime_mailbox *b)
{
    return strcmp(a->local, b->local) == 0 && strcmp(a->domain, b->domain) == 0 &&
           strcmp(a->domain_ascii, b->domain_ascii) == 0 && a->local_utf8 == b->local_utf8 &&
           ((!a->display_name && !b->display_name) ||
            (a->display_name && b->display_name && strcmp(a->display_name, b->display_name) == 0));
}

static void test_valid_mailboxes(void)
{
    for (size_t k = 0; k < sizeof valid_cases / sizeof valid_cases[0]; k++) {
        const valid_case *c = &valid_cases[k];
        smtpcore_error err = {0};
        mime_mailbox m;
        if (mime_address_parse_mailbox(c->in, strlen(c->in), &m, &err) != 0) {
            tl_fail(__FILE__, __LINE__, "refused \"%s\": %s", c->in, err.message);
            smtpcore_error_clear(&err);
            continue;
        }
        if (c->display_name)
            CHECK_STR_EQ(m.display_name, c->display_name);
        else if (m.display_name)
            tl_fail(__FILE__, __LINE__, "\"%s\": display name \"%s\", expected none", c->in, m.display_name);
        CHECK_STR_EQ(m.local, c->local);
        CHECK_STR_EQ(m.domain, c->domain);
        CHECK_STR_EQ(m.domain_ascii, c->domain_ascii);
        CHECK_INT_EQ(m.local_utf8, c->local_utf8);

        /* The same as a one-element list. */
        mime_mailbox_list l;
        REQUIRE(mime_address_parse_list(c->in, strlen(c->in), &l, &err) == 0);
        CHECK_INT_EQ(l.n, 1);
        if (l.n == 1 && !same_mailbox(&l.items[0], &m))
            tl_fail(__FILE__, __LINE__, "\"%s\": the list parse differs from the mailbox parse", c->in);
        mime_mailbox_list_free(&l);

        /* The addr-spec we would send re-parses to the same address and
         * passes the envelope check. */
        char *spec = addr_spec(&m, 1);
        REQUIRE(spec);
        mime_mailbox again;
        if (mime_address_parse_mailbox(spec, strlen(spec), &again, &err) != 0) {
            tl_fail(__FILE__, __LINE__, "addr-spec \"%s\" of \"%s\" is refused: %s", spec, c->in, err.message);
            smtpcore_error_clear(&err);
        } else {
            CHECK_STR_EQ(again.local, m.local);
            CHECK_STR_EQ(again.domain, m.domain);
            CHECK_STR_EQ(again.domain_ascii, m.domain_ascii);
            CHECK(again.display_name == NULL);
            mime_mailbox_free(&again);
        }
        if (!smtp_check_address(spec))
            tl_fail(__FILE__, __LINE__, "envelope check refuses \"%s\"", spec);
        free(spec);

        mime_mailbox copy;
        REQUIRE(mime_mailbox_copy(&copy, &m) == 0);
        CHECK(same_mailbox(&copy, &m));
        mime_mailbox_free(&copy);
        mime_mailbox_free(&m);
        CHECK(mailbox_zeroed(&m));
    }
}

static void check_refused(const invalid_case *c, int as_list)
{
    size_t len = c->len ? c->len : strlen(c->in);
    smtpcore_error err = {0};
    mime_mailbox m;
    mime_mailbox_list l;
    int rc = as_list ? mime_address_parse_list(c->in, len, &l, &err) : mime_address_parse_mailbox(c->in, len, &m, &err);
    if (rc == 0) {
        tl_fail(__FILE__, __LINE__, "accepted \"%s\" as a %s", c->in, as_list ? "list" : "mailbox");
        if (as_list)
            mime_mailbox_list_free(&l);
        else
            mime_mailbox_free(&m);
        return;
    }
    CHECK_INT_EQ(rc, -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    if (!err.message || strncmp(err.message, "invalid address: ", 17) != 0 || !strstr(err.message, c->says))
        tl_fail(__FILE__, __LINE__, "\"%s\": message \"%s\", expected it to say \"%s\"", c->in,
                err.message ? err.message : "(null)", c->says);
    if (!printable(err.message))
        tl_fail(__FILE__, __LINE__, "\"%s\": the message has a control character", c->in);
    if (as_list)
        CHECK(l.n == 0 && l.items == NULL);
    else
        CHECK(mailbox_zeroed(&m));
    smtpcore_error_clear(&err);
}

static void test_invalid_mailboxes(void)
{
    for (size_t k = 0; k < sizeof invalid_cases / sizeof invalid_cases[0]; k++) {
        check_refused(&invalid_cases[k], 0);
        /* A bad mailbox is a bad list too (except the ones only bad as a single mailbox). */
        const char *s = invalid_cases[k].says;
        if (!strstr(s, "more than one address") && !strstr(s, "not a single mailbox")) {
            invalid_case as_list = invalid_cases[k];
            if (strcmp(s, "empty address") == 0)
                as_list.says = "empty address list";
            check_refused(&as_list, 1);
        }
    }
}

static void test_lists(void)
{
    for (size_t k = 0; k < sizeof list_cases / sizeof list_cases[0]; k++) {
        const list_case *c = &list_cases[k];
        smtpcore_error err = {0};
        mime_mailbox_list l;
        if (mime_address_parse_list(c->in, strlen(c->in), &l, &err) != 0) {
            tl_fail(__FILE__, __LINE__, "refused list \"%s\": %s", c->in, err.message);
            smtpcore_error_clear(&err);
            continue;
        }
        CHECK_INT_EQ(l.n, c->n);
        for (size_t j = 0; j < l.n && j < c->n; j++) {
            char *spec = addr_spec(&l.items[j], 0);
            CHECK_STR_EQ(spec, c->specs[j]);
            free(spec);
            if (c->names[j])
                CHECK_STR_EQ(l.items[j].display_name, c->names[j]);
            else
                CHECK(l.items[j].display_name == NULL);
        }
        if (c->n == 0)
            CHECK(l.items == NULL);
        mime_mailbox_list_free(&l);
    }
}

static void test_invalid_lists(void)
{
    for (size_t k = 0; k < sizeof invalid_list_cases / sizeof invalid_list_cases[0]; k++)
        check_refused(&invalid_list_cases[k], 1);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    REQUIRE(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static int parses(const char *s, smtpcore_error *err)
{
    mime_mailbox m;
    int rc = mime_address_parse_mailbox(s, strlen(s), &m, err);
    mime_mailbox_free(&m);
    return rc;
}

static void test_lengths(void)
{
    smtpcore_error err = {0};
    char buf[600];
    char *l64 = repeat('l', 64), *l65 = repeat('l', 65), *d63 = repeat('d', 63), *d64 = repeat('d', 64);

    snprintf(buf, sizeof buf, "%s@x.example", l64);
    CHECK(parses(buf, &err) == 0);
    snprintf(buf, sizeof buf, "%s@x.example", l65);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "local part longer than 64 octets (65)"));
    /* 62 content bytes and the quotes: 64 on the wire. */
    snprintf(buf, sizeof buf, "\" %.61s\"@x.example", l64);
    CHECK(parses(buf, &err) == 0);
    snprintf(buf, sizeof buf, "\" %.62s\"@x.example", l64);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "local part longer than 64 octets (65)"));

    snprintf(buf, sizeof buf, "a@%s.example", d63);
    CHECK(parses(buf, &err) == 0);
    snprintf(buf, sizeof buf, "a@%s.example", d64);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "domain label longer than 63 octets (64)"));
    /* A U-label whose A-label is 64 octets. */
    snprintf(buf, sizeof buf, "a@ü%.58s.example", d63);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "not a valid"));

    /* Three labels of 63 and one of 61: 253 octets; with "a@" the address is 255. */
    snprintf(buf, sizeof buf, "a@%s.%s.%s.%.61s", d63, d63, d63, d63);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "address longer than 254 octets (255)"));
    snprintf(buf, sizeof buf, "a@%s.%s.%s.%.60s", d63, d63, d63, d63);
    CHECK(parses(buf, &err) == 0); /* 2 + 252 = 254 */
    snprintf(buf, sizeof buf, "a@%s.%s.%s.%.62s", d63, d63, d63, d63);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "domain longer than 253 octets (254)"));
    snprintf(buf, sizeof buf, "%s@%s.%s.%s", l64, d63, d63, d63);
    CHECK(parses(buf, &err) == -1 && strstr(err.message, "address longer than 254 octets"));
    /* Long input is shortened in the message. */
    CHECK(strstr(err.message, "...'") != NULL && strlen(err.message) < 200);

    smtpcore_error_clear(&err);
    free(l64);
    free(l65);
    free(d63);
    free(d64);
}

static void test_addr_spec(void)
{
    smtpcore_error err = {0};
    mime_mailbox m;
    sc_buf b;
    sc_buf_init(&b);

    REQUIRE(mime_address_parse_mailbox("Jörg <jörg@bücher.example>", strlen("Jörg <jörg@bücher.example>"), &m, &err) == 0);
    CHECK_INT_EQ(mime_mailbox_addr_spec(&m, 0, &b, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(err.message && strstr(err.message, "SMTPUTF8"));
    CHECK_INT_EQ(sc_buf_size(&b), 0);
    CHECK_INT_EQ(mime_mailbox_addr_spec(&m, 1, &b, &err), 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), "jörg@bücher.example", strlen("jörg@bücher.example"));
    mime_mailbox_free(&m);

    /* ASCII local part, IDN domain: A-labels without SMTPUTF8, U-labels with. */
    sc_buf_reset(&b);
    REQUIRE(mime_address_parse_mailbox("user@bücher.example", strlen("user@bücher.example"), &m, &err) == 0);
    CHECK_INT_EQ(mime_mailbox_addr_spec(&m, 0, &b, &err), 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), "user@xn--bcher-kva.example", strlen("user@xn--bcher-kva.example"));
    sc_buf_reset(&b);
    CHECK_INT_EQ(mime_mailbox_addr_spec(&m, 1, &b, &err), 0);
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), "user@bücher.example", strlen("user@bücher.example"));
    mime_mailbox_free(&m);

    /* Appends to what is there; quoted local parts keep their quotes. */
    sc_buf_reset(&b);
    sc_buf_append_str(&b, "RCPT TO:<");
    const char *q = "\"xclow3n@gmail.com x\"@internal.domain";
    REQUIRE(mime_address_parse_mailbox(q, strlen(q), &m, &err) == 0);
    CHECK_INT_EQ(mime_mailbox_addr_spec(&m, 0, &b, &err), 0);
    const char *want = "RCPT TO:<\"xclow3n@gmail.com x\"@internal.domain";
    CHECK_MEM_EQ(sc_buf_ptr(&b), sc_buf_size(&b), want, strlen(want));
    mime_mailbox_free(&m);

    /* No address at all. */
    mime_mailbox empty = {0};
    CHECK_INT_EQ(mime_mailbox_addr_spec(&empty, 1, &b, &err), -1);

    sc_buf_free(&b);
    smtpcore_error_clear(&err);
}

static void test_explicit_length(void)
{
    /* The length decides, not a NUL: "a@b.example" then more bytes. */
    smtpcore_error err = {0};
    mime_mailbox m;
    const char *s = "a@b.exampleXYZ";
    REQUIRE(mime_address_parse_mailbox(s, 11, &m, &err) == 0);
    CHECK_STR_EQ(m.domain, "b.example");
    mime_mailbox_free(&m);
    CHECK_INT_EQ(mime_address_parse_mailbox(NULL, 3, &m, &err), -1);
    CHECK_INT_EQ(mime_address_parse_mailbox(NULL, 0, &m, &err), -1); /* empty */
    mime_mailbox_list l;
    CHECK_INT_EQ(mime_address_parse_list(NULL, 0, &l, &err), -1);
    /* A NUL inside the given length is refused, even at the end. */
    CHECK_INT_EQ(mime_address_parse_mailbox("a@b.example", 12, &m, &err), -1);
    CHECK(err.message && strstr(err.message, "NUL"));
    /* NULL err is allowed. */
    CHECK_INT_EQ(mime_address_parse_mailbox("a@@b", 4, &m, NULL), -1);
    smtpcore_error_clear(&err);
}

static void test_deep_comments(void)
{
    /* Nesting is counted, not recursed into. */
    size_t depth = 100000;
    char *s = malloc(2 * depth + 32);
    REQUIRE(s);
    size_t n = (size_t)sprintf(s, "a@b.example ");
    memset(s + n, '(', depth);
    memset(s + n + depth, ')', depth);
    n += 2 * depth;
    smtpcore_error err = {0};
    mime_mailbox m;
    CHECK_INT_EQ(mime_address_parse_mailbox(s, n, &m, &err), 0);
    mime_mailbox_free(&m);
    CHECK_INT_EQ(mime_address_parse_mailbox(s, n - 1, &m, &err), -1);
    CHECK(err.message && strstr(err.message, "comment not closed"));
    smtpcore_error_clear(&err);
    free(s);
}

TEST_MAIN({"valid_mailboxes", test_valid_mailboxes}, {"invalid_mailboxes", test_invalid_mailboxes},
          {"lists", test_lists}, {"invalid_lists", test_invalid_lists}, {"lengths", test_lengths},
          {"addr_spec", test_addr_spec}, {"explicit_length", test_explicit_length},
          {"deep_comments", test_deep_comments})
