/* SASL mechanisms: byte-exact initial responses and answers (RFC 4616,
 * RFC 2195, RFC 7677 examples), malformed and hostile challenges, input
 * checks, and the choice of mechanism from an AUTH list. */
#include <stdlib.h>
#include <string.h>

#include "smtp/sasl.h"
#include "testlib.h"
#include "util/base64.h"

/* ------------------------------------------------------------------ helpers */

/* Decode a base64 response into buf (NUL-terminated); returns its length or -1. */
static long unb64(const char *s, unsigned char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n / 4 * 3 + 1 > cap)
        return -1;
    long r = sc_b64_decode(s, n, buf);
    if (r >= 0)
        buf[r] = '\0';
    return r;
}

/* base64 of a C string, in a static buffer (tests only). */
static const char *b64(const char *s)
{
    static char out[4096];
    size_t n = strlen(s);
    REQUIRE(sc_b64_encoded_len(n) < sizeof out);
    sc_b64_encode((const unsigned char *)s, n, out);
    return out;
}

/* 1 if the error message contains part (0 if there is no message). */
static int msg_has(const smtpcore_error *err, const char *part)
{
    return err->message != NULL && strstr(err->message, part) != NULL;
}

/* Run one step and expect success; returns the malloc'd response. */
static char *step_ok(smtp_sasl *s, const char *challenge)
{
    smtpcore_error err = {0};
    char *out = (char *)"sentinel";
    int r = smtp_sasl_step(s, challenge, strlen(challenge), &out, &err);
    if (r != 0)
        tl_fail(__FILE__, __LINE__, "step failed: %s", err.message ? err.message : "(no message)");
    REQUIRE(r == 0);
    REQUIRE(out != NULL);
    smtpcore_error_clear(&err);
    return out;
}

/* Run one step and expect failure with the given category; err is left for the caller. */
static void step_fails(smtp_sasl *s, const char *challenge, smtpcore_category cat, smtpcore_error *err)
{
    char *out = (char *)"sentinel";
    int r = smtp_sasl_step(s, challenge, strlen(challenge), &out, err);
    CHECK_INT_EQ(r, -1);
    CHECK(out == NULL);
    CHECK_INT_EQ(err->category, cat);
    CHECK(err->message != NULL);
}

static smtp_sasl *new_ok(smtp_sasl_mech m, const char *user, const char *secret)
{
    smtpcore_error err = {0};
    smtp_sasl *s = smtp_sasl_new(m, user, secret, &err);
    if (!s)
        tl_fail(__FILE__, __LINE__, "smtp_sasl_new failed: %s", err.message ? err.message : "(no message)");
    REQUIRE(s != NULL);
    smtpcore_error_clear(&err);
    return s;
}

/* RFC 7677, section 3. */
#define R7677_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define R7677_SNONCE R7677_CNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define R7677_CLIENT_FIRST "n,,n=user,r=" R7677_CNONCE
#define R7677_SERVER_FIRST "r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define R7677_CLIENT_FINAL "c=biws,r=" R7677_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define R7677_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* A SCRAM session with the RFC 7677 nonce, client-first already produced. */
static smtp_sasl *scram_started(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_SCRAM_SHA_256, "user", "pencil");
    smtp_sasl_test_set_nonce(s, R7677_CNONCE);
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    REQUIRE(ir != NULL);
    CHECK_STR_EQ(ir, b64(R7677_CLIENT_FIRST));
    free(ir);
    return s;
}

/* ------------------------------------------------------------------ names and choice */

static void test_mech_names(void)
{
    CHECK_INT_EQ(smtp_sasl_mech_from_name("PLAIN"), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("plain"), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("Login"), SMTP_SASL_LOGIN);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("cram-md5"), SMTP_SASL_CRAM_MD5);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("SCRAM-SHA-256"), SMTP_SASL_SCRAM_SHA_256);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("xoauth2"), SMTP_SASL_XOAUTH2);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("SCRAM-SHA-256-PLUS"), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_mech_from_name("PLAI"), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_mech_from_name(""), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_mech_from_name(NULL), SMTP_SASL_NONE);
    CHECK_STR_EQ(smtp_sasl_mech_name(SMTP_SASL_CRAM_MD5), "CRAM-MD5");
    CHECK_STR_EQ(smtp_sasl_mech_name(SMTP_SASL_SCRAM_SHA_256), "SCRAM-SHA-256");
    CHECK_STR_EQ(smtp_sasl_mech_name(SMTP_SASL_XOAUTH2), "XOAUTH2");
    CHECK(smtp_sasl_mech_name(SMTP_SASL_NONE) == NULL);
}

static void test_choose(void)
{
    /* password: SCRAM-SHA-256 > CRAM-MD5 > PLAIN > LOGIN, whatever the server's order */
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN", 1, 0), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_choose("LOGIN PLAIN", 1, 0), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_choose("LOGIN", 1, 0), SMTP_SASL_LOGIN);
    CHECK_INT_EQ(smtp_sasl_choose("LOGIN PLAIN CRAM-MD5", 1, 0), SMTP_SASL_CRAM_MD5);
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN SCRAM-SHA-256 CRAM-MD5 LOGIN", 1, 0), SMTP_SASL_SCRAM_SHA_256);
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN XOAUTH2", 1, 0), SMTP_SASL_PLAIN);
    /* case-insensitive, extra and odd white space, unknown words */
    CHECK_INT_EQ(smtp_sasl_choose("   login    cram-md5  ", 1, 0), SMTP_SASL_CRAM_MD5);
    CHECK_INT_EQ(smtp_sasl_choose("GSSAPI\tNTLM \t plain", 1, 0), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_choose("GSSAPI NTLM DIGEST-MD5", 1, 0), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_choose("AUTH PLAIN LOGIN", 1, 0), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_choose("AUTH=LOGIN", 1, 0), SMTP_SASL_LOGIN);
    /* whole words only */
    CHECK_INT_EQ(smtp_sasl_choose("SCRAM-SHA-256-PLUS PLAIN", 1, 0), SMTP_SASL_PLAIN);
    CHECK_INT_EQ(smtp_sasl_choose("SCRAM-SHA-1 PLAINX XLOGIN", 1, 0), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_choose("", 1, 0), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_choose("    ", 1, 0), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_choose(NULL, 1, 0), SMTP_SASL_NONE);
    /* token: only XOAUTH2 */
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN XOAUTH2", 0, 1), SMTP_SASL_XOAUTH2);
    CHECK_INT_EQ(smtp_sasl_choose("xoauth2", 0, 1), SMTP_SASL_XOAUTH2);
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN SCRAM-SHA-256", 0, 1), SMTP_SASL_NONE);
    CHECK_INT_EQ(smtp_sasl_choose("XOAUTH", 0, 1), SMTP_SASL_NONE);
    /* both: the token first, the password as fallback */
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN XOAUTH2", 1, 1), SMTP_SASL_XOAUTH2);
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN", 1, 1), SMTP_SASL_PLAIN);
    /* no credentials */
    CHECK_INT_EQ(smtp_sasl_choose("PLAIN LOGIN XOAUTH2", 0, 0), SMTP_SASL_NONE);
}

static void test_offered(void)
{
    const char *list = " LOGIN  plain\tXOAUTH2 SCRAM-SHA-256-PLUS ";
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_LOGIN), 1);
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_PLAIN), 1);
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_XOAUTH2), 1);
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_SCRAM_SHA_256), 0);
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_CRAM_MD5), 0);
    CHECK_INT_EQ(smtp_sasl_offered(list, SMTP_SASL_NONE), 0);
    CHECK_INT_EQ(smtp_sasl_offered(NULL, SMTP_SASL_PLAIN), 0);
    CHECK_INT_EQ(smtp_sasl_offered("", SMTP_SASL_PLAIN), 0);
}

/* ------------------------------------------------------------------ PLAIN */

static void test_plain_bytes(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_PLAIN, "tim", "tanstaaftanstaaf");
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    REQUIRE(ir != NULL);
    CHECK_STR_EQ(ir, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    unsigned char raw[64];
    long n = unb64(ir, raw, sizeof raw);
    CHECK_MEM_EQ(raw, (size_t)n, "\0tim\0tanstaaftanstaaf", 21);
    free(ir);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
    smtp_sasl_free(s);

    /* UTF-8 passes through unchanged */
    s = new_ok(SMTP_SASL_PLAIN, "j\xc3\xb6rg@example.org", "p\xc3\xa4ss word");
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    n = unb64(ir, raw, sizeof raw);
    CHECK_MEM_EQ(raw, (size_t)n, "\0j\xc3\xb6rg@example.org\0p\xc3\xa4ss word", 29);
    free(ir);
    smtp_sasl_free(s);
}

static void test_plain_unexpected_challenge(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_PLAIN, "tim", "secret");
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    free(ir);
    step_fails(s, "", SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    /* a 235 after a failed exchange is not a success */
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_PROTOCOL);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_plain_without_initial_response(void)
{
    /* RFC 4954: AUTH PLAIN without a response gets "334 " and sends it then. */
    smtp_sasl *s = new_ok(SMTP_SASL_PLAIN, "tim", "tanstaaftanstaaf");
    char *out = step_ok(s, "");
    CHECK_STR_EQ(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    free(out);
    smtp_sasl_free(s);
}

/* ------------------------------------------------------------------ LOGIN */

static void test_login_order(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_LOGIN, "tim@example.com", "hunter2");
    smtpcore_error err = {0};
    char *ir = (char *)"sentinel";
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    CHECK(ir == NULL);

    char *out = step_ok(s, "VXNlcm5hbWU6"); /* Username: */
    CHECK_STR_EQ(out, b64("tim@example.com"));
    free(out);
    out = step_ok(s, "UGFzc3dvcmQ6"); /* Password: */
    CHECK_STR_EQ(out, b64("hunter2"));
    free(out);

    step_fails(s, "UGFzc3dvcmQ6", SMTPCORE_ERR_PROTOCOL, &err);
    CHECK(err.message && !msg_has(&err, "hunter2"));
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_login_other_prompts(void)
{
    /* Answer by position, whatever the prompt says (even "Password:" first,
     * lower case, empty, or not base64 at all). */
    const char *firsts[] = {"UGFzc3dvcmQ6", "dXNlcm5hbWU6", "", "Username:"};
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        smtp_sasl *s = new_ok(SMTP_SASL_LOGIN, "alice", "s3cret");
        char *out = step_ok(s, firsts[i]);
        CHECK_STR_EQ(out, b64("alice"));
        free(out);
        out = step_ok(s, "VXNlcm5hbWU6");
        CHECK_STR_EQ(out, b64("s3cret"));
        free(out);
        smtpcore_error err = {0};
        CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
        smtp_sasl_free(s);
    }
}

/* ------------------------------------------------------------------ CRAM-MD5 */

static void test_cram_md5_rfc2195(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
    smtpcore_error err = {0};
    char *ir = (char *)"sentinel";
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    CHECK(ir == NULL);
    const char *challenge = b64("<1896.697170952@postoffice.reston.mci.net>");
    CHECK_STR_EQ(challenge, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
    char *out = step_ok(s, challenge);
    CHECK_STR_EQ(out, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    unsigned char raw[64];
    long n = unb64(out, raw, sizeof raw);
    CHECK_MEM_EQ(raw, (size_t)n, "tim b913a602c7eda7a495b4e6e7334d3890", 36);
    free(out);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
    /* a second challenge is a protocol error, and the exchange cannot finish */
    step_fails(s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_cram_md5_malformed(void)
{
    const char *bad[] = {"", "abc", "!!!!", "QQ=A", "Q===", "PDE4OTYu NjK3", "=AAA", "QUJD\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smtp_sasl *s = new_ok(SMTP_SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
        smtpcore_error err = {0};
        step_fails(s, bad[i], SMTPCORE_ERR_PROTOCOL, &err);
        smtpcore_error_clear(&err);
        /* the exchange is over */
        step_fails(s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", SMTPCORE_ERR_USAGE, &err);
        smtpcore_error_clear(&err);
        smtp_sasl_free(s);
    }
}

static void test_challenge_size_limit(void)
{
    /* 16 KiB decoded is accepted, one byte more is not. */
    size_t ok_len = sc_b64_encoded_len(16384), big_len = sc_b64_encoded_len(16385);
    unsigned char *raw = malloc(16385);
    char *enc = malloc(big_len + 1);
    REQUIRE(raw && enc);
    memset(raw, 'x', 16385);

    sc_b64_encode(raw, 16384, enc);
    smtp_sasl *s = new_ok(SMTP_SASL_CRAM_MD5, "tim", "pw");
    smtpcore_error err = {0};
    char *out = NULL;
    CHECK_INT_EQ(smtp_sasl_step(s, enc, ok_len, &out, &err), 0);
    free(out);
    smtp_sasl_free(s);

    sc_b64_encode(raw, 16385, enc);
    s = new_ok(SMTP_SASL_CRAM_MD5, "tim", "pw");
    step_fails(s, enc, SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* LOGIN ignores the prompt's content but still bounds its size */
    free(enc);
    enc = malloc(30001);
    REQUIRE(enc);
    memset(enc, 'A', 30000);
    enc[30000] = '\0';
    s = new_ok(SMTP_SASL_LOGIN, "tim", "pw");
    step_fails(s, enc, SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
    free(raw);
    free(enc);
}

/* ------------------------------------------------------------------ SCRAM-SHA-256 */

static void test_scram_rfc7677(void)
{
    smtp_sasl *s = scram_started();
    char *out = step_ok(s, b64(R7677_SERVER_FIRST));
    unsigned char raw[256];
    long n = unb64(out, raw, sizeof raw);
    REQUIRE(n > 0);
    CHECK_STR_EQ((const char *)raw, R7677_CLIENT_FINAL);
    free(out);

    smtpcore_error err = {0};
    CHECK(smtp_sasl_finish(s, &err) == -1); /* not verified yet */
    smtpcore_error_clear(&err);

    out = step_ok(s, b64(R7677_SERVER_FINAL));
    CHECK_STR_EQ(out, "");
    free(out);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
    CHECK(err.message == NULL);

    /* nothing more is expected after the server's proof */
    step_fails(s, "", SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_scram_wrong_server_signature(void)
{
    smtp_sasl *s = scram_started();
    free(step_ok(s, b64(R7677_SERVER_FIRST)));
    smtpcore_error err = {0};
    /* first byte of the signature changed */
    step_fails(s, b64("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), SMTPCORE_ERR_AUTH, &err);
    CHECK(msg_has(&err, "could not prove it knows the password"));
    CHECK(err.message && !msg_has(&err, "pencil"));
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_AUTH);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* truncated, overlong and non-base64 signatures */
    const char *bad[] = {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9",
                         "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=AAAA", "v=", "v=!!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = scram_started();
        free(step_ok(s, b64(R7677_SERVER_FIRST)));
        step_fails(s, b64(bad[i]), SMTPCORE_ERR_AUTH, &err);
        smtpcore_error_clear(&err);
        CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
        smtpcore_error_clear(&err);
        smtp_sasl_free(s);
    }
}

/* Feed a server-first-message to a fresh RFC 7677 session; expect failure. */
static void scram_first_fails(const char *server_first, smtpcore_category cat, const char *msg_part)
{
    smtp_sasl *s = scram_started();
    smtpcore_error err = {0};
    step_fails(s, b64(server_first), cat, &err);
    if (msg_part && !msg_has(&err, msg_part))
        tl_fail(__FILE__, __LINE__, "for \"%s\": message \"%s\" lacks \"%s\"", server_first,
                err.message ? err.message : "(null)", msg_part);
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_scram_bad_nonce(void)
{
    scram_first_fails("r=XXprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                      SMTPCORE_ERR_PROTOCOL, "nonce");
    /* the server must add its own part */
    scram_first_fails("r=" R7677_CNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", SMTPCORE_ERR_PROTOCOL, "nonce");
    /* a prefix of ours */
    scram_first_fails("r=rOprNG,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", SMTPCORE_ERR_PROTOCOL, "nonce");
    /* non-printable characters in the server part */
    scram_first_fails("r=" R7677_CNONCE "ab\x01" "cd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", SMTPCORE_ERR_PROTOCOL,
                      "nonce");
    scram_first_fails("r=" R7677_CNONCE "ab cd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", SMTPCORE_ERR_PROTOCOL, "nonce");
    /* attributes out of order */
    scram_first_fails("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" R7677_SNONCE ",i=4096", SMTPCORE_ERR_PROTOCOL, NULL);
}

static void test_scram_bad_salt(void)
{
    scram_first_fails("r=" R7677_SNONCE ",i=4096", SMTPCORE_ERR_PROTOCOL, "salt");
    scram_first_fails("r=" R7677_SNONCE, SMTPCORE_ERR_PROTOCOL, "salt");
    scram_first_fails("r=" R7677_SNONCE ",", SMTPCORE_ERR_PROTOCOL, "salt");
    scram_first_fails("r=" R7677_SNONCE ",s=,i=4096", SMTPCORE_ERR_PROTOCOL, "salt");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", SMTPCORE_ERR_PROTOCOL, "salt");
    scram_first_fails("r=" R7677_SNONCE ",s=@@@@,i=4096", SMTPCORE_ERR_PROTOCOL, "salt");
}

static void test_scram_bad_iterations(void)
{
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095", SMTPCORE_ERR_PROTOCOL, "minimum");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1", SMTPCORE_ERR_PROTOCOL, "minimum");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", SMTPCORE_ERR_PROTOCOL, "minimum");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001", SMTPCORE_ERR_PROTOCOL, "more than");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999999", SMTPCORE_ERR_PROTOCOL,
                      "more than");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096", SMTPCORE_ERR_PROTOCOL, "iteration");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x", SMTPCORE_ERR_PROTOCOL, "iteration");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", SMTPCORE_ERR_PROTOCOL, "iteration");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==", SMTPCORE_ERR_PROTOCOL, "iteration");
    scram_first_fails("r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,", SMTPCORE_ERR_PROTOCOL, NULL);
}

static void test_scram_extensions(void)
{
    /* optional extensions after i= are ignored (and are part of AuthMessage,
     * so the proof differs from the RFC's; we only check the exchange goes on) */
    smtp_sasl *s = scram_started();
    char *out = step_ok(s, b64(R7677_SERVER_FIRST ",x=future"));
    unsigned char raw[256];
    CHECK(unb64(out, raw, sizeof raw) > 0);
    CHECK(strncmp((const char *)raw, "c=biws,r=" R7677_SNONCE ",p=", 9 + strlen(R7677_SNONCE) + 3) == 0);
    free(out);
    smtp_sasl_free(s);
    /* a mandatory extension we do not know ends the exchange */
    scram_first_fails("m=whatever," R7677_SERVER_FIRST, SMTPCORE_ERR_PROTOCOL, "extension");
    /* NUL inside the message */
    {
        s = scram_started();
        static const char first_nul[] = "r=" R7677_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0x";
        char enc[256];
        sc_b64_encode((const unsigned char *)first_nul, sizeof first_nul - 1, enc);
        smtpcore_error err = {0};
        step_fails(s, enc, SMTPCORE_ERR_PROTOCOL, &err);
        smtpcore_error_clear(&err);
        smtp_sasl_free(s);
    }
}

static void test_scram_server_error(void)
{
    smtp_sasl *s = scram_started();
    free(step_ok(s, b64(R7677_SERVER_FIRST)));
    smtpcore_error err = {0};
    step_fails(s, b64("e=invalid-proof"), SMTPCORE_ERR_AUTH, &err);
    CHECK_STR_EQ(err.server_text, "invalid-proof");
    CHECK(msg_has(&err, "invalid-proof"));
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_AUTH);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* control characters in the server's text are not passed on */
    s = scram_started();
    free(step_ok(s, b64(R7677_SERVER_FIRST)));
    step_fails(s, b64("e=unknown-user\r\n250 fake"), SMTPCORE_ERR_AUTH, &err);
    REQUIRE(err.server_text != NULL);
    CHECK(strpbrk(err.server_text, "\r\n") == NULL);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* e= in place of the server-first-message */
    scram_first_fails("e=other-error", SMTPCORE_ERR_AUTH, "other-error");
}

static void test_scram_finish_without_verifier(void)
{
    smtpcore_error err = {0};
    /* 235 right after the client-final: the server never proved itself */
    smtp_sasl *s = scram_started();
    free(step_ok(s, b64(R7677_SERVER_FIRST)));
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_AUTH);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* 235 right after the client-first */
    s = scram_started();
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* a server-final without v= */
    s = scram_started();
    free(step_ok(s, b64(R7677_SERVER_FIRST)));
    step_fails(s, b64("x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), -1);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_scram_malformed_base64(void)
{
    const char *bad[] = {"cj1y", "r=rOprNGfwEbeRWgbNEkqO", "%%%%", "cj1yT3By=mQ="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smtp_sasl *s = scram_started();
        smtpcore_error err = {0};
        /* "cj1y" is valid base64 ("r=r") but too short a nonce */
        step_fails(s, bad[i], SMTPCORE_ERR_PROTOCOL, &err);
        smtpcore_error_clear(&err);
        smtp_sasl_free(s);
    }
}

static void test_scram_username_escaping(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_SCRAM_SHA_256, "a=b,c", "pw");
    smtp_sasl_test_set_nonce(s, "abc");
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    CHECK_STR_EQ(ir, b64("n,,n=a=3Db=2Cc,r=abc"));
    free(ir);
    smtp_sasl_free(s);
}

static void test_scram_random_nonce(void)
{
    char nonces[2][128];
    for (int k = 0; k < 2; k++) {
        smtp_sasl *s = new_ok(SMTP_SASL_SCRAM_SHA_256, "user", "pencil");
        smtpcore_error err = {0};
        char *ir = NULL;
        REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
        unsigned char raw[256];
        long n = unb64(ir, raw, sizeof raw);
        free(ir);
        REQUIRE(n > 12);
        REQUIRE(memcmp(raw, "n,,n=user,r=", 12) == 0);
        const char *nonce = (const char *)raw + 12;
        size_t len = strlen(nonce);
        CHECK(len >= 32); /* 24 random bytes */
        REQUIRE(len < sizeof nonces[k]);
        for (size_t i = 0; i < len; i++)
            CHECK(nonce[i] > 0x20 && nonce[i] < 0x7f && nonce[i] != ',');
        memcpy(nonces[k], nonce, len + 1);
        smtp_sasl_free(s);
    }
    CHECK(strcmp(nonces[0], nonces[1]) != 0);
}

static void test_scram_without_initial_response(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_SCRAM_SHA_256, "user", "pencil");
    smtp_sasl_test_set_nonce(s, R7677_CNONCE);
    char *out = step_ok(s, "");
    CHECK_STR_EQ(out, b64(R7677_CLIENT_FIRST));
    free(out);
    out = step_ok(s, b64(R7677_SERVER_FIRST));
    unsigned char raw[256];
    CHECK(unb64(out, raw, sizeof raw) > 0);
    CHECK_STR_EQ((const char *)raw, R7677_CLIENT_FINAL);
    free(out);
    free(step_ok(s, b64(R7677_SERVER_FINAL)));
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
    smtp_sasl_free(s);
}

/* ------------------------------------------------------------------ XOAUTH2 */

static void test_xoauth2_bytes(void)
{
    /* Google's documented example. */
    smtp_sasl *s = new_ok(SMTP_SASL_XOAUTH2, "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    CHECK_STR_EQ(ir, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJo"
                     "ZG1semRHRXVZMjl0Q2cBAQ==");
    unsigned char raw[256];
    long n = unb64(ir, raw, sizeof raw);
    static const char want[] = "user=someuser@example.com\001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001";
    CHECK_MEM_EQ(raw, (size_t)n, want, sizeof want - 1);
    free(ir);
    CHECK(smtp_sasl_server_error(s) == NULL);
    CHECK_INT_EQ(smtp_sasl_finish(s, &err), 0);
    smtp_sasl_free(s);
}

static void test_xoauth2_json_error(void)
{
    smtp_sasl *s = new_ok(SMTP_SASL_XOAUTH2, "someuser@example.com", "expired-token");
    smtpcore_error err = {0};
    char *ir = NULL;
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    free(ir);
    const char *json = "{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.google.com/\"}";
    char *out = step_ok(s, b64(json));
    CHECK_STR_EQ(out, "");
    free(out);
    CHECK_STR_EQ(smtp_sasl_server_error(s), json);
    /* a second challenge is not expected: the server should now send 535 */
    step_fails(s, "", SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* Google's exact wire text (with a trailing newline inside the JSON) */
    s = new_ok(SMTP_SASL_XOAUTH2, "someuser@example.com", "expired-token");
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    free(ir);
    out = step_ok(s, "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K");
    CHECK_STR_EQ(out, "");
    free(out);
    REQUIRE(smtp_sasl_server_error(s) != NULL);
    CHECK(strncmp(smtp_sasl_server_error(s), json, strlen(json)) == 0);
    CHECK(strpbrk(smtp_sasl_server_error(s), "\r\n") == NULL);
    smtp_sasl_free(s);

    /* malformed base64 */
    s = new_ok(SMTP_SASL_XOAUTH2, "someuser@example.com", "expired-token");
    REQUIRE(smtp_sasl_initial(s, &ir, &err) == 0);
    free(ir);
    step_fails(s, "{\"status\":\"401\"}", SMTPCORE_ERR_PROTOCOL, &err);
    smtpcore_error_clear(&err);
    CHECK(smtp_sasl_server_error(s) == NULL);
    smtp_sasl_free(s);
}

/* ------------------------------------------------------------------ input checks */

static void new_fails(smtp_sasl_mech m, const char *user, const char *secret, const char *secret_shown)
{
    smtpcore_error err = {0};
    smtp_sasl *s = smtp_sasl_new(m, user, secret, &err);
    CHECK(s == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(err.message != NULL);
    if (secret_shown)
        CHECK(!msg_has(&err, secret_shown));
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);
}

static void test_input_refused(void)
{
    const smtp_sasl_mech all[] = {SMTP_SASL_PLAIN, SMTP_SASL_LOGIN, SMTP_SASL_CRAM_MD5, SMTP_SASL_SCRAM_SHA_256,
                                  SMTP_SASL_XOAUTH2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        new_fails(all[i], "tim\r\nMAIL FROM:<x@y>", "pw", NULL);
        new_fails(all[i], "tim\n", "pw", NULL);
        new_fails(all[i], "tim\r", "pw", NULL);
        new_fails(all[i], "tim", "Xyzzy\r\nQuux", "Xyzzy");
        new_fails(all[i], "tim", "Xyzzy\nQuux", "Quux");
        new_fails(all[i], "", "pw", NULL);
        new_fails(all[i], NULL, "pw", NULL);
        new_fails(all[i], "tim", NULL, NULL);
        new_fails(all[i], "tim", "", NULL);
    }
    new_fails(SMTP_SASL_NONE, "tim", "pw", NULL);
    new_fails((smtp_sasl_mech)99, "tim", "pw", NULL);
    /* XOAUTH2 fields are separated by \x01 */
    new_fails(SMTP_SASL_XOAUTH2, "tim\001auth=Bearer x", "tok", NULL);
    new_fails(SMTP_SASL_XOAUTH2, "tim", "tok\001\001", NULL);
    /* SCRAM: UTF-8 only, no control characters (SASLprep) */
    new_fails(SMTP_SASL_SCRAM_SHA_256, "tim", "p\xe4ss", NULL);
    new_fails(SMTP_SASL_SCRAM_SHA_256, "t\xc3", "pw", NULL);
    new_fails(SMTP_SASL_SCRAM_SHA_256, "tim", "pa\tss", NULL);
    /* overlong input */
    char *big = malloc(20000);
    REQUIRE(big);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    new_fails(SMTP_SASL_PLAIN, "tim", big, NULL);
    free(big);
    /* but non-ASCII UTF-8 is fine for SCRAM (passed through without SASLprep mapping) */
    smtp_sasl_free(new_ok(SMTP_SASL_SCRAM_SHA_256, "j\xc3\xb6rg", "p\xc3\xa4ss"));
}

static void test_misuse(void)
{
    smtpcore_error err = {0};
    char *out = NULL;
    CHECK_INT_EQ(smtp_sasl_initial(NULL, &out, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_step(NULL, "", 0, &out, &err), -1);
    smtpcore_error_clear(&err);
    CHECK_INT_EQ(smtp_sasl_finish(NULL, &err), -1);
    smtpcore_error_clear(&err);
    CHECK(smtp_sasl_server_error(NULL) == NULL);
    smtp_sasl_free(NULL);

    /* initial twice */
    smtp_sasl *s = new_ok(SMTP_SASL_PLAIN, "tim", "pw");
    REQUIRE(smtp_sasl_initial(s, &out, &err) == 0);
    free(out);
    CHECK_INT_EQ(smtp_sasl_initial(s, &out, &err), -1);
    CHECK(out == NULL);
    smtpcore_error_clear(&err);
    smtp_sasl_free(s);

    /* errors may be ignored (NULL err) */
    s = new_ok(SMTP_SASL_CRAM_MD5, "tim", "pw");
    CHECK_INT_EQ(smtp_sasl_step(s, "!!", 2, &out, NULL), -1);
    smtp_sasl_free(s);
    CHECK(smtp_sasl_new(SMTP_SASL_PLAIN, "a\nb", "pw", NULL) == NULL);
}

TEST_MAIN({"mech_names", test_mech_names}, {"choose", test_choose}, {"offered", test_offered},
          {"plain_bytes", test_plain_bytes}, {"plain_unexpected_challenge", test_plain_unexpected_challenge},
          {"plain_without_initial_response", test_plain_without_initial_response}, {"login_order", test_login_order},
          {"login_other_prompts", test_login_other_prompts}, {"cram_md5_rfc2195", test_cram_md5_rfc2195},
          {"cram_md5_malformed", test_cram_md5_malformed}, {"challenge_size_limit", test_challenge_size_limit},
          {"scram_rfc7677", test_scram_rfc7677}, {"scram_wrong_server_signature", test_scram_wrong_server_signature},
          {"scram_bad_nonce", test_scram_bad_nonce}, {"scram_bad_salt", test_scram_bad_salt},
          {"scram_bad_iterations", test_scram_bad_iterations}, {"scram_extensions", test_scram_extensions},
          {"scram_server_error", test_scram_server_error},
          {"scram_finish_without_verifier", test_scram_finish_without_verifier},
          {"scram_malformed_base64", test_scram_malformed_base64},
          {"scram_username_escaping", test_scram_username_escaping},
          {"scram_random_nonce", test_scram_random_nonce},
          {"scram_without_initial_response", test_scram_without_initial_response},
          {"xoauth2_bytes", test_xoauth2_bytes}, {"xoauth2_json_error", test_xoauth2_json_error},
          {"input_refused", test_input_refused}, {"misuse", test_misuse})
