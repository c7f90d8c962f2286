/* The message builder's setters (csrc/mime/message.c, envelope.c, render.c):
 * regressions found by tests/fuzz/fuzz_message.c. Each setter checks its
 * input when it is called, so a message it accepted renders; the envelope
 * comes from parsed addresses, never from the caller's text. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mime/message.h"
#include "smtpcore.h"
#include "testlib.h"

static smtpcore_message *basic_message(void)
{
    smtpcore_error err = {0};
    smtpcore_message *m = smtpcore_message_new();
    if (!m || smtpcore_message_set_from(m, "alice@example.com", &err) < 0 ||
        smtpcore_message_add_to(m, "bob@example.com", &err) < 0) {
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
        return NULL;
    }
    smtpcore_message_set_seed(m, 42);
    return m;
}

static int renders(const smtpcore_message *m, unsigned flags, char **out, size_t *len)
{
    smtpcore_error err = {0};
    int rc = smtpcore_message_to_bytes(m, flags, out, len, &err);
    smtpcore_error_clear(&err);
    return rc == 0;
}

/* The envelope sender went to MAIL FROM as the caller wrote it: angle
 * brackets, comments and whitespace included, and an IDN domain in
 * U-labels without SMTPUTF8. */
static void test_envelope_sender_is_the_parsed_address(void)
{
    static const struct {
        const char *in;
        unsigned flags;
        const char *mail_from;
    } cases[] = {
        {"bounces@example.com", 0, "bounces@example.com"},
        {"<bounces@example.com>", 0, "bounces@example.com"},
        {"  bounces@example.com  ", 0, "bounces@example.com"},
        {"bounces@example.com (the bounce box)", 0, "bounces@example.com"},
        {"bounces@B\xc3\x9c" "CHER.example", 0, "bounces@xn--bcher-kva.example"},
        {"bounces@b\xc3\xbc" "cher.example", SMTPCORE_RENDER_SMTPUTF8, "bounces@b\xc3\xbc" "cher.example"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smtpcore_message *m = basic_message();
        REQUIRE(m);
        smtpcore_error err = {0};
        CHECK_INT_EQ(smtpcore_message_set_envelope_sender(m, cases[i].in, &err), 0);
        const char *sender = NULL;
        const char *const *rcpts = NULL;
        size_t n = 0;
        CHECK_INT_EQ(smtpcore_message_envelope(m, cases[i].flags, &sender, &rcpts, &n, &err), 0);
        CHECK_STR_EQ(sender, cases[i].mail_from);
        CHECK_INT_EQ(n, 1);
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
    }
}

/* A non-ASCII local part needs SMTPUTF8, as in every other address. */
static void test_envelope_sender_utf8_local_part_needs_smtputf8(void)
{
    smtpcore_message *m = basic_message();
    REQUIRE(m);
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_message_set_envelope_sender(m, "j\xc3\xb6rg@example.com", &err), 0);
    const char *sender = NULL;
    const char *const *rcpts = NULL;
    size_t n = 0;
    CHECK_INT_EQ(smtpcore_message_envelope(m, 0, &sender, &rcpts, &n, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK_INT_EQ(smtpcore_message_envelope(m, SMTPCORE_RENDER_SMTPUTF8, &sender, &rcpts, &n, &err), 0);
    CHECK_STR_EQ(sender, "j\xc3\xb6rg@example.com");
    smtpcore_error_clear(&err);
    smtpcore_message_free(m);
}

static char *ed25519_pem(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL, *p = NULL;
    if (k && b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(b, &p);
        pem = strndup(p, (size_t)n);
    }
    BIO_free(b);
    EVP_PKEY_free(k);
    return pem;
}

/* add_dkim loaded the key but not the h= names or t=: a list with a bad
 * name or an out-of-range timestamp was accepted, then every render failed. */
static void test_add_dkim_checks_names_and_timestamp(void)
{
    char *pem = ed25519_pem();
    REQUIRE(pem);
    static const struct {
        const char *headers;
        long long timestamp;
        int ok;
    } cases[] = {
        {"X;Y", 0, 0},
        {"From :To", 0, 0},
        {"From:To:Subject", 0, 1},
        {" From: To", 0, 1},
        {NULL, 1000000000000LL, 0},
        {NULL, 999999999999LL, 1},
        {NULL, -1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smtpcore_message *m = basic_message();
        REQUIRE(m);
        smtpcore_error err = {0};
        smtpcore_dkim d = {.domain = "example.com", .selector = "s1", .private_key_pem = pem,
                           .headers = cases[i].headers, .timestamp = cases[i].timestamp};
        int rc = smtpcore_message_add_dkim(m, &d, &err);
        if (cases[i].ok) {
            CHECK_INT_EQ(rc, 0);
        } else {
            CHECK_INT_EQ(rc, -1);
            CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        }
        char *out = NULL;
        size_t len = 0;
        CHECK(renders(m, 0, &out, &len)); /* with or without the refused signature */
        CHECK(!out || (strstr(out, "DKIM-Signature:") != NULL) == cases[i].ok);
        free(out);
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
    }
    free(pem);
}

/* h= folds between names only: a 1700-character name made a 1700-octet line
 * in the DKIM-Signature field. Names are at most 76 characters, like every
 * field name the builder writes. */
static void test_add_dkim_refuses_a_name_longer_than_a_line(void)
{
    char *pem = ed25519_pem();
    REQUIRE(pem);
    char names[2000];
    for (size_t len = 76; len <= 1700; len += 1700 - 76) {
        smtpcore_message *m = basic_message();
        REQUIRE(m);
        memcpy(names, "From:", 5);
        memset(names + 5, 'A', len);
        names[5 + len] = '\0';
        smtpcore_error err = {0};
        smtpcore_dkim d = {.domain = "example.com", .selector = "s1", .private_key_pem = pem, .headers = names};
        CHECK_INT_EQ(smtpcore_message_add_dkim(m, &d, &err), len == 76 ? 0 : -1);
        char *out = NULL;
        size_t n = 0;
        CHECK(renders(m, 0, &out, &n));
        size_t line = 0, longest = 0;
        for (size_t i = 0; out && i < n; i++) {
            line = out[i] == '\n' ? 0 : line + 1;
            longest = line > longest ? line : longest;
        }
        CHECK(longest <= 999); /* 998 and the CR */
        free(out);
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
    }
    free(pem);
}

/* A structured field (In-Reply-To, References, ...) is folded, never
 * encoded: a word too long for a 998-octet line used to be accepted by
 * add_header and refused by every render. */
static void test_structured_header_too_long_is_refused_at_once(void)
{
    char id[1200];
    for (size_t k = 900; k <= 1000; k += 100) {
        smtpcore_message *m = basic_message();
        REQUIRE(m);
        memset(id, 'x', k);
        id[0] = '<';
        memcpy(id + k - 13, "@example.com>", 13);
        id[k] = '\0';
        smtpcore_error err = {0};
        int rc = smtpcore_message_add_header(m, "In-Reply-To", id, &err);
        CHECK_INT_EQ(rc, k == 900 ? 0 : -1);
        if (rc < 0)
            CHECK(err.category == SMTPCORE_ERR_USAGE && strstr(err.message, "998"));
        char *out = NULL;
        size_t len = 0;
        CHECK(renders(m, 0, &out, &len));
        CHECK(!out || (strstr(out, "In-Reply-To:") != NULL) == (k == 900));
        free(out);
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
    }
}

/* Without text, HTML or calendar the message has an empty text part whose
 * content is NULL: the reader did NULL + 0 (undefined; UBSan reports it). */
static void test_message_without_body(void)
{
    smtpcore_message *m = basic_message();
    REQUIRE(m);
    char *out = NULL;
    size_t len = 0;
    REQUIRE(renders(m, 0, &out, &len));
    static const char tail[] = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    CHECK(len > sizeof tail && memcmp(out + len - (sizeof tail - 1), tail, sizeof tail - 1) == 0);
    free(out);
    smtpcore_message_free(m);
}

/* An empty group adds no address: memcpy from a NULL list of none
 * (undefined; UBSan reports it). The next addresses still count. */
static void test_empty_group_then_addresses(void)
{
    smtpcore_message *m = basic_message();
    REQUIRE(m);
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_message_add_cc(m, "undisclosed-recipients:;", &err), 0);
    CHECK_INT_EQ(smtpcore_message_add_cc(m, "carol@example.com", &err), 0);
    const char *sender = NULL;
    const char *const *rcpts = NULL;
    size_t n = 0;
    CHECK_INT_EQ(smtpcore_message_envelope(m, 0, &sender, &rcpts, &n, &err), 0);
    CHECK_INT_EQ(n, 2);
    if (n == 2)
        CHECK_STR_EQ(rcpts[1], "carol@example.com");
    smtpcore_error_clear(&err);
    smtpcore_message_free(m);
}

/* With SMTPUTF8 a part's file name goes as raw UTF-8; the reader must then
 * report 8-bit content (BODY=8BITMIME), as it did for the message's own
 * header block but not for the parts' headers. */
static void test_utf8_file_name_is_eight_bit(void)
{
    smtpcore_message *m = basic_message();
    REQUIRE(m);
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_message_set_text(m, "ascii\n", 6, &err), 0);
    CHECK_INT_EQ(smtpcore_message_attach_data(m, "x", 1, "\xc3\xbc" "bersicht.txt", "text/plain", &err), 0);
    for (unsigned flags = 0; flags < 4; flags++) {
        smtpcore_message_reader *r = smtpcore_message_reader_new(m, flags, &err);
        REQUIRE(r);
        CHECK_INT_EQ(mime_reader_eight_bit(r), (flags & SMTPCORE_RENDER_SMTPUTF8) != 0);
        smtpcore_message_reader_free(r);
    }
    smtpcore_error_clear(&err);
    smtpcore_message_free(m);
}

TEST_MAIN({"envelope_sender_is_the_parsed_address", test_envelope_sender_is_the_parsed_address},
          {"envelope_sender_utf8_local_part_needs_smtputf8", test_envelope_sender_utf8_local_part_needs_smtputf8},
          {"add_dkim_checks_names_and_timestamp", test_add_dkim_checks_names_and_timestamp},
          {"add_dkim_refuses_a_name_longer_than_a_line", test_add_dkim_refuses_a_name_longer_than_a_line},
          {"structured_header_too_long_is_refused_at_once", test_structured_header_too_long_is_refused_at_once},
          {"message_without_body", test_message_without_body},
          {"empty_group_then_addresses", test_empty_group_then_addresses},
          {"utf8_file_name_is_eight_bit", test_utf8_file_name_is_eight_bit})
