/* The protocol engine, driven by scripted server bytes; every test checks
 * the exact bytes the client writes (curl's transcript tests are the model). */
#include <stdlib.h>

#include "engine_script.h"
#include "testlib.h"

static void test_greeting_and_capabilities(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    unsigned caps = smtp_engine_caps(e);
    CHECK(caps & SMTPCORE_CAP_PIPELINING);
    CHECK(caps & SMTPCORE_CAP_8BITMIME);
    CHECK(caps & SMTPCORE_CAP_DSN);
    CHECK(caps & SMTPCORE_CAP_SMTPUTF8);
    CHECK(caps & SMTPCORE_CAP_ENHANCED);
    CHECK(!(caps & SMTPCORE_CAP_CHUNKING));
    CHECK_INT_EQ(smtp_engine_max_size(e), 1000000);
    smtp_engine_quit(e);
    OUT_IS(e, "QUIT\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    smtp_engine_free(e);
}

static void test_helo_fallback(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain("502 5.5.1 command not implemented\r\n", &o);
    REQUIRE(e);
    OUT_IS(e, "HELO client.test\r\n");
    srv(e, "250 server.test\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_INT_EQ(smtp_engine_caps(e), 0);
    smtp_engine_free(e);
}

static void test_greeting_421(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = new_engine(&o, 0);
    srv(e, "421 4.3.2 too busy, try later\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    const smtpcore_error *err = smtp_engine_error(e);
    REQUIRE(err);
    CHECK_INT_EQ(err->category, SMTPCORE_ERR_CONNECT);
    CHECK_INT_EQ(err->code, 421);
    CHECK_STR_EQ(err->enhanced, "4.3.2");
    CHECK(err->hint != NULL);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

static void test_greeting_554(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = new_engine(&o, 0);
    srv(e, "554 no service for you\r\n");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->code, 554);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

static void test_starttls_missing_in_required_mode(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    /* No AUTH, no MAIL: the session ends before anything else is sent. */
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    CHECK(strstr(smtp_engine_error(e)->message, "STARTTLS") != NULL);
    smtp_engine_free(e);
}

static void test_starttls_refused_454_in_required_mode(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_plain("250-server.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n", &o);
    REQUIRE(e);
    OUT_IS(e, "STARTTLS\r\n");
    srv(e, "454 4.7.0 TLS not available due to temporary reason\r\n");
    OUT_IS(e, "");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    CHECK_INT_EQ(smtp_engine_error(e)->code, 454);
    smtp_engine_free(e);
}

static void test_starttls_opportunistic_falls_back_without_auth(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_OPPORTUNISTIC);
    smtp_engine *e = open_plain("250-server.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n", &o);
    REQUIRE(e);
    OUT_IS(e, "STARTTLS\r\n");
    srv(e, "501 5.5.4 nope\r\n");
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtp_engine_free(e);
}

static void test_starttls_response_injection(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    smtp_engine *e = open_plain("250-server.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n", &o);
    REQUIRE(e);
    OUT_IS(e, "STARTTLS\r\n");
    srv(e, "220 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n");
    /* The engine refuses to continue: no handshake, nothing more written. */
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    CHECK(strstr(smtp_engine_error(e)->message, "injection") != NULL);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

static void test_starttls_then_ehlo_again_and_forget_old_caps(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    smtp_engine *e = open_plain("250-server.test\r\n250-STARTTLS\r\n250-CHUNKING\r\n250 XFAKE\r\n", &o);
    REQUIRE(e);
    OUT_IS(e, "STARTTLS\r\n");
    srv(e, "220 2.0.0 Ready to start TLS\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_TLS);
    smtp_engine_tls_started(e);
    OUT_IS(e, "EHLO client.test\r\n");
    CHECK_INT_EQ(smtp_engine_caps(e), 0);
    srv(e, "250-server.test\r\n250 PIPELINING\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_INT_EQ(smtp_engine_caps(e), SMTPCORE_CAP_PIPELINING);
    CHECK(smtp_engine_tls_active(e));
    CHECK(strstr(smtp_engine_ehlo_text_before_tls(e), "XFAKE") != NULL);
    CHECK(strstr(smtp_engine_ehlo_text(e), "XFAKE") == NULL);
    smtp_engine_free(e);
}

static void test_no_auth_over_plaintext(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    OUT_IS(e, "");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    smtp_engine_free(e);
}

static void test_auth_plain_redacted(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    o.username = "alice";
    o.password = "secret";
    o.allow_plaintext_auth = 1;
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    OUT_IS(e, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    srv(e, "235 2.7.0 Authentication successful\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_STR_EQ(smtp_engine_auth_mechanism(e), "PLAIN");
    const char *t = transcript_text();
    CHECK(strstr(t, "C: AUTH PLAIN <redacted>") != NULL);
    CHECK(strstr(t, "AGFsaWNl") == NULL);
    CHECK(strstr(t, "secret") == NULL);
    smtp_engine_free(e);
}

static void test_auth_login_and_wrong_password(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.username = "alice";
    o.password = "secret";
    o.mechanism = SMTP_SASL_LOGIN;
    smtp_engine *e = new_engine(&o, 1);
    srv(e, "220 server.test ESMTP\r\n");
    OUT_IS(e, "EHLO client.test\r\n");
    srv(e, EHLO_CAPS);
    OUT_IS(e, "AUTH LOGIN\r\n");
    srv(e, "334 VXNlcm5hbWU6\r\n");
    OUT_IS(e, "YWxpY2U=\r\n");
    srv(e, "334 UGFzc3dvcmQ6\r\n");
    OUT_IS(e, "c2VjcmV0\r\n");
    srv(e, "535 5.7.8 Error: authentication failed: authentication failure\r\n");
    REQUIRE(smtp_engine_error(e));
    const smtpcore_error *err = smtp_engine_error(e);
    CHECK_INT_EQ(err->category, SMTPCORE_ERR_AUTH);
    CHECK_INT_EQ(err->code, 535);
    CHECK_STR_EQ(err->enhanced, "5.7.8");
    CHECK(err->hint && strstr(err->hint, "password"));
    const char *t = transcript_text();
    CHECK(strstr(t, "YWxpY2U=") == NULL && strstr(t, "c2VjcmV0") == NULL && strstr(t, "secret") == NULL);
    smtp_engine_free(e);
}

static void test_auth_not_offered(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_TLS);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = new_engine(&o, 1);
    srv(e, "220 hi\r\n");
    OUT_IS(e, "EHLO client.test\r\n");
    srv(e, "250-server.test\r\n250 PIPELINING\r\n");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_AUTH);
    smtp_engine_free(e);
}

/* Build an envelope with n recipients rcpt0@example.test ... */
/* A simulated server that answers every command line the client wrote: 250
 * for MAIL and RCPT, 354 for DATA. Returns the replies for `written`. */
static void answer_commands(const char *written, size_t n, sc_buf *replies)
{
    const char *p = written, *end = written + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if (!strncmp(p, "DATA", 4))
            sc_buf_append_str(replies, "354 go ahead\r\n");
        else
            sc_buf_append_str(replies, "250 ok\r\n");
        p = eol + 1;
    }
}

/* Drive an engine like a real driver until it wants the body, counting
 * writes (output flushes) and waits (times it blocks for server bytes). */
static void count_round_trips(smtp_engine *e, int *writes, int *waits)
{
    *writes = *waits = 0;
    sc_buf pending;
    sc_buf_init(&pending);
    for (int guard = 0; guard < 1000; guard++) {
        size_t n;
        const char *out = smtp_engine_output(e, &n);
        if (n) {
            (*writes)++;
            answer_commands(out, n, &pending);
            smtp_engine_consume_output(e, n);
        }
        smtp_want w = smtp_engine_want(e);
        if (w != SMTP_WANT_READ)
            break;
        (*waits)++;
        smtp_engine_feed(e, sc_buf_ptr(&pending), sc_buf_size(&pending));
        sc_buf_reset(&pending);
    }
    sc_buf_free(&pending);
}

static void test_pipelined_envelope_100_recipients_one_round_trip(void)
{
    static env_fixture f;
    make_env(&f, 100);
    smtpcore_error err = {0};
    int writes, waits;

    /* With PIPELINING: MAIL, 100 RCPT and DATA in one write, one wait. */
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 500, &err) == 0);
    sc_buf want;
    sc_buf_init(&want);
    sc_buf_append_str(&want, "MAIL FROM:<sender@example.test> SIZE=500\r\n");
    for (int i = 0; i < 100; i++)
        sc_buf_printf(&want, "RCPT TO:<rcpt%d@example.test>\r\n", i);
    sc_buf_append_str(&want, "DATA\r\n");
    size_t n;
    const char *p = smtp_engine_output(e, &n);
    CHECK_MEM_EQ(p, n, sc_buf_ptr(&want), sc_buf_size(&want));
    sc_buf_free(&want);
    count_round_trips(e, &writes, &waits);
    CHECK_INT_EQ(writes, 1);
    CHECK_INT_EQ(waits, 1);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtp_engine_body(e, "Subject: hi\r\n\r\nbody\r\n", 21);
    smtp_engine_body_end(e);
    OUT_IS(e, "Subject: hi\r\n\r\nbody\r\n.\r\n");
    srv(e, "250 2.0.0 Ok: queued as ABC123\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), 0);
    REQUIRE(res);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 100);
    CHECK_INT_EQ(smtpcore_result_code(res), 250);
    CHECK(strstr(smtpcore_result_text(res), "ABC123") != NULL);
    smtpcore_result_free(res);
    smtp_engine_free(e);

    /* The same envelope without PIPELINING: one round trip per command. */
    o = base_opts(SMTPCORE_SECURITY_NONE);
    o.use_pipelining = 0;
    e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 500, &err) == 0);
    count_round_trips(e, &writes, &waits);
    CHECK_INT_EQ(writes, 102);
    CHECK_INT_EQ(waits, 102);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_without_pipelining_one_command_at_a_time(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain("250-server.test\r\n250 8BITMIME\r\n", &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 2);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\n");
    srv(e, "250 ok\r\n");
    OUT_IS(e, "RCPT TO:<rcpt0@example.test>\r\n");
    srv(e, "250 ok\r\n");
    OUT_IS(e, "RCPT TO:<rcpt1@example.test>\r\n");
    srv(e, "250 ok\r\n");
    OUT_IS(e, "DATA\r\n");
    srv(e, "354 go\r\n");
    smtp_engine_body(e, "x", 1);
    smtp_engine_body_end(e);
    OUT_IS(e, "x\r\n.\r\n");
    srv(e, "250 queued\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), 0);
    smtp_engine_free(e);
}

static void test_partial_recipient_failure(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 3);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n"
              "RCPT TO:<rcpt2@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n550 5.1.1 <rcpt1@example.test>: Recipient address rejected: User unknown\r\n"
           "450 4.2.0 greylisted\r\n354 go\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtp_engine_body_end(e);
    OUT_IS(e, ".\r\n");
    srv(e, "250 2.0.0 queued\r\n");
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), 0);
    REQUIRE(res);
    CHECK_INT_EQ(smtpcore_result_count(res), 3);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 1);
    CHECK(smtpcore_result_get(res, 0)->accepted);
    CHECK_INT_EQ(smtpcore_result_get(res, 1)->code, 550);
    CHECK_STR_EQ(smtpcore_result_get(res, 1)->enhanced, "5.1.1");
    CHECK(!smtpcore_result_get(res, 1)->accepted);
    CHECK_INT_EQ(smtpcore_result_get(res, 2)->code, 450);
    smtpcore_result_free(res);
    smtp_engine_free(e);
}

static void test_all_recipients_refused_then_rset(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 2);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n"
              "DATA\r\n");
    srv(e, "250 ok\r\n550 5.1.1 no such user\r\n550 5.1.1 no such user\r\n554 5.5.1 Error: no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 2.0.0 Ok\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RECIPIENT);
    CHECK_INT_EQ(err.code, 550);
    CHECK_STR_EQ(err.enhanced, "5.1.1");
    CHECK(err.hint != NULL);
    REQUIRE(res);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 0);
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    /* The session is usable again. */
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    smtp_engine_free(e);
}

static void test_data_354_with_no_recipient_sends_empty_end(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n550 no\r\n354 go ahead anyway\r\n");
    /* Not a byte of the message: just the end marker. */
    OUT_IS(e, ".\r\n");
    srv(e, "554 no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RECIPIENT);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_all_or_nothing_holds_data_back(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    o.all_or_nothing = 1;
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 2);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n");
    srv(e, "250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RECIPIENT);
    smtpcore_error_clear(&err);
    /* When all are accepted, DATA follows. */
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n");
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n");
    OUT_IS(e, "DATA\r\n");
    smtp_engine_free(e);
}

static void test_sender_refused_drains_and_resets(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "553 5.7.1 <sender@example.test>: Sender address rejected: not owned by user alice\r\n"
           "503 5.5.1 Error: need MAIL command\r\n");
    OUT_IS(e, "");
    srv(e, "503 5.5.1 Error: need RCPT command\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_SENDER);
    CHECK_INT_EQ(err.code, 553);
    CHECK(err.hint != NULL);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* Unauthenticated submission: Postfix's "Recipient address rejected: Access
 * denied" is a refusal of the client, so it gets the relay advice. */
static void test_access_denied_is_relay(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n554 5.7.1 <rcpt0@example.test>: Recipient address rejected: Access denied\r\n"
           "554 5.5.1 Error: no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RELAY);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* Postfix delays sender checks to RCPT time: the refusal names the sender. */
static void test_sender_refused_at_rcpt_time(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n553 5.7.1 <sender@example.test>: Sender address rejected: not owned by user alice\r\n"
           "554 5.5.1 Error: no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_SENDER);
    CHECK_INT_EQ(err.code, 553);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_relay_denied_category(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n554 5.7.1 <rcpt0@example.test>: Relay access denied\r\n554 5.5.1 no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RELAY);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_message_too_large_after_data(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    smtp_engine_body_end(e);
    OUT_IS(e, ".\r\n");
    srv(e, "552 5.3.4 Error: message file too big\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_SIZE);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 0);
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_size_over_announced_limit_refused_locally(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 2000000, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_SIZE);
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_injection_in_addresses_refused(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    const char *bad[] = {"a@b.test\r\nRCPT TO:<evil@x.test>", "a@b.test\nDATA", "a@b.test>", "<a@b.test",
                         "a b@c.test", "a@b.test SIZE=1", "a@", "@b.test", "a@b.test\r", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env_fixture f;
        make_env(&f, 1);
        f.r[0].address = bad[i];
        smtpcore_error err = {0};
        CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
        make_env(&f, 1);
        f.env.sender = bad[i][0] ? bad[i] : "x y@z.test";
        CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        smtpcore_error_clear(&err);
    }
    OUT_IS(e, "");
    smtpcore_error err = {0};
    smtp_engine_opts bad_ehlo = base_opts(SMTPCORE_SECURITY_NONE);
    bad_ehlo.ehlo_name = "client.test\r\nMAIL FROM:<x@y>";
    CHECK(smtp_engine_new(&bad_ehlo, 0, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_quoted_local_part_and_null_sender(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    f.env.sender = "";
    f.r[0].address = "\"john doe\"@example.test";
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<>\r\nRCPT TO:<\"john doe\"@example.test>\r\nDATA\r\n");
    smtp_engine_free(e);
}

static void test_smtputf8_and_8bitmime(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    f.r[0].address = "j\xc3\xb6rg@b\xc3\xbc" "cher.test";
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 1, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@b\xc3\xbc" "cher.test>\r\n"
              "DATA\r\n");
    smtp_engine_free(e);

    /* A server without SMTPUTF8 or 8BITMIME: clear errors, nothing sent. */
    o = base_opts(SMTPCORE_SECURITY_NONE);
    e = open_plain("250-server.test\r\n250 PIPELINING\r\n", &o);
    REQUIRE(e);
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(strstr(err.message, "SMTPUTF8") != NULL);
    smtpcore_error_clear(&err);
    make_env(&f, 1);
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 1, 0, &err), -1);
    CHECK(strstr(err.message, "8BITMIME") != NULL);
    smtpcore_error_clear(&err);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

static void test_dsn_parameters(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 2);
    f.env.dsn_ret = SMTPCORE_DSN_RET_HDRS;
    f.env.dsn_envid = "QQ314159+x=y";
    f.r[0].notify = SMTPCORE_NOTIFY_SUCCESS | SMTPCORE_NOTIFY_FAILURE;
    f.r[0].orcpt = "orig+tag@example.test";
    f.r[1].notify = SMTPCORE_NOTIFY_NEVER;
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test> RET=HDRS ENVID=QQ314159+2Bx+3Dy\r\n"
              "RCPT TO:<rcpt0@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Btag@example.test\r\n"
              "RCPT TO:<rcpt1@example.test> NOTIFY=NEVER\r\nDATA\r\n");
    smtp_engine_free(e);
    /* NEVER with others is refused. */
    o = base_opts(SMTPCORE_SECURITY_NONE);
    e = open_plain(EHLO_CAPS, &o);
    f.r[1].notify = SMTPCORE_NOTIFY_NEVER | SMTPCORE_NOTIFY_DELAY;
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_bdat_pipelined_single_write(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain("250-server.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n", &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 2);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtp_engine_body(e, "Subject: x\n\n.hi\n", 16);
    smtp_engine_body_end(e);
    /* Envelope and the whole message in one write, no dot-stuffing in BDAT. */
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n"
              "BDAT 19 LAST\r\nSubject: x\r\n\r\n.hi\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_READ);
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 Ok: 19 bytes queued as XYZ\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), 0);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 2);
    smtpcore_result_free(res);
    smtp_engine_free(e);
}

static void test_bdat_chunks_and_failure_reset(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    o.bdat_chunk_size = 10;
    smtp_engine *e = open_plain("250-server.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n", &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    smtp_engine_body(e, "0123456789abc", 13);
    smtp_engine_body(e, "def\n", 4);
    smtp_engine_body_end(e);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\n"
              "BDAT 13\r\n0123456789abc"
              "BDAT 5 LAST\r\ndef\r\n");
    srv(e, "250 ok\r\n550 5.1.1 unknown\r\n503 5.5.1 no valid recipients\r\n503 5.5.1 no valid recipients\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_RECIPIENT);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_bdat_source_failure_resets(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain("250-server.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n", &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    smtpcore_error cause = {0};
    cause.category = SMTPCORE_ERR_LOCAL;
    cause.message = (char *)"read failed";
    smtp_engine_body_abort(e, &cause);
    /* No BDAT LAST went out: the server holds no complete message. */
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\n");
    srv(e, "250 ok\r\n250 ok\r\n");
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_LOCAL);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_data_source_failure_kills_connection(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    smtp_engine_body(e, "partial", 7);
    OUT_IS(e, "partial");
    smtpcore_error cause = {0};
    cause.category = SMTPCORE_ERR_LOCAL;
    cause.message = (char *)"read failed";
    smtp_engine_body_abort(e, &cause);
    /* Never an end marker after a partial body. */
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_LOCAL);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_connection_lost_mid_data(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    smtp_engine_body_end(e);
    OUT_IS(e, ".\r\n");
    smtpcore_error lost = {0};
    lost.category = SMTPCORE_ERR_CONNECT;
    lost.message = (char *)"closed";
    smtp_engine_connection_lost(e, &lost);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_CONNECT);
    /* Never claimed sent without the server's 250. */
    CHECK_INT_EQ(smtpcore_result_accepted(res), 0);
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

static void test_unexpected_reply_while_idle(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    srv(e, "421 4.4.2 idle timeout\r\n");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_CONNECT);
    CHECK_INT_EQ(smtp_engine_error(e)->code, 421);
    smtp_engine_free(e);
}

static void test_421_mid_transaction(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n421 4.7.0 too many errors\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_CONNECT);
    CHECK_INT_EQ(err.code, 421);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* A stray reply right after the final 250 breaks the session, but the
 * message was accepted: report it sent, never invite a duplicate. */
static void test_accepted_then_stray_reply_is_still_sent(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    env_fixture f;
    make_env(&f, 1);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    smtp_engine_body_end(e);
    OUT_IS(e, ".\r\n");
    srv(e, "250 2.0.0 Ok: queued as 4ABC\r\n250 stray\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), 0);
    CHECK_INT_EQ(smtpcore_result_accepted(res), 1);
    smtpcore_result_free(res);
    smtp_engine_free(e);
}

static void test_noop_and_rset(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_plain(EHLO_CAPS, &o);
    REQUIRE(e);
    smtpcore_error err = {0};
    smtp_engine_noop(e);
    OUT_IS(e, "NOOP\r\n");
    srv(e, "250 2.0.0 Ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), 0);
    smtp_engine_rset(e);
    OUT_IS(e, "RSET\r\n");
    srv(e, "500 what\r\n");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), -1);
    CHECK_INT_EQ(err.code, 500);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* The whole session fed one byte at a time gives the same client bytes. */
static void test_byte_at_a_time(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = new_engine(&o, 0);
    const char *greet = "220-server.test ESMTP\r\n220 welcome\r\n";
    for (size_t i = 0; greet[i]; i++)
        smtp_engine_feed(e, greet + i, 1);
    OUT_IS(e, "EHLO client.test\r\n");
    const char *ehlo = EHLO_CAPS;
    for (size_t i = 0; ehlo[i]; i++) {
        CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_READ);
        smtp_engine_feed(e, ehlo + i, 1);
    }
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    env_fixture f;
    make_env(&f, 2);
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nRCPT TO:<rcpt1@example.test>\r\n"
              "DATA\r\n");
    const char *replies = "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n";
    for (size_t i = 0; replies[i]; i++)
        smtp_engine_feed(e, replies + i, 1);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtp_engine_body_end(e);
    OUT_IS(e, ".\r\n");
    const char *fin = "250 queued\r\n";
    for (size_t i = 0; fin[i]; i++)
        smtp_engine_feed(e, fin + i, 1);
    CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), 0);
    smtp_engine_free(e);
}

static void test_malformed_reply_is_protocol_error(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = new_engine(&o, 0);
    srv(e, "HTTP/1.1 400 Bad Request\r\n");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_PROTOCOL);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

/* smtplib-style steps: nothing happens until asked; a failed login can be retried. */
static void test_manual_steps(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.manual = 1;
    smtp_engine *e = new_engine(&o, 0);
    REQUIRE(e);
    srv(e, "220 server.test ESMTP\r\n");
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_INT_EQ(smtp_engine_last_code(e), 220);
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtp_engine_ehlo(e, "me.example.test"), 0);
    OUT_IS(e, "EHLO me.example.test\r\n");
    srv(e, "250-server.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), 0);
    CHECK_INT_EQ(smtp_engine_starttls(e), 0);
    OUT_IS(e, "STARTTLS\r\n");
    srv(e, "220 go ahead\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_TLS);
    smtp_engine_tls_started(e);
    OUT_IS(e, "EHLO me.example.test\r\n");
    srv(e, "250-server.test\r\n250 AUTH PLAIN LOGIN\r\n");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), 0);
    CHECK_INT_EQ(smtp_engine_auth(e, SMTP_SASL_NONE, "alice", "wrong"), 0);
    OUT_IS(e, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
    srv(e, "535 5.7.8 authentication failed\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_AUTH);
    CHECK_INT_EQ(err.code, 535);
    smtpcore_error_clear(&err);
    CHECK(smtp_engine_error(e) == NULL);
    CHECK_INT_EQ(smtp_engine_auth(e, SMTP_SASL_NONE, "alice", "secret"), 0);
    OUT_IS(e, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    srv(e, "235 ok\r\n");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), 0);
    smtp_engine_free(e);
}

static void test_manual_login_refused_in_clear_text(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.manual = 1;
    smtp_engine *e = new_engine(&o, 0);
    srv(e, "220 hi\r\n");
    smtp_engine_ehlo(e, NULL);
    OUT_IS(e, "EHLO client.test\r\n");
    srv(e, "250-server.test\r\n250 AUTH PLAIN\r\n");
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), 0);
    smtp_engine_auth(e, SMTP_SASL_NONE, "alice", "secret");
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_take_simple_result(e, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

TEST_MAIN({"greeting_and_capabilities", test_greeting_and_capabilities}, {"helo_fallback", test_helo_fallback},
          {"greeting_421", test_greeting_421}, {"greeting_554", test_greeting_554},
          {"starttls_missing_in_required_mode", test_starttls_missing_in_required_mode},
          {"starttls_refused_454_in_required_mode", test_starttls_refused_454_in_required_mode},
          {"starttls_opportunistic_falls_back_without_auth", test_starttls_opportunistic_falls_back_without_auth},
          {"starttls_response_injection", test_starttls_response_injection},
          {"starttls_then_ehlo_again_and_forget_old_caps", test_starttls_then_ehlo_again_and_forget_old_caps},
          {"no_auth_over_plaintext", test_no_auth_over_plaintext}, {"auth_plain_redacted", test_auth_plain_redacted},
          {"auth_login_and_wrong_password", test_auth_login_and_wrong_password},
          {"auth_not_offered", test_auth_not_offered},
          {"pipelined_envelope_100_recipients_one_round_trip", test_pipelined_envelope_100_recipients_one_round_trip},
          {"without_pipelining_one_command_at_a_time", test_without_pipelining_one_command_at_a_time},
          {"partial_recipient_failure", test_partial_recipient_failure},
          {"all_recipients_refused_then_rset", test_all_recipients_refused_then_rset},
          {"data_354_with_no_recipient_sends_empty_end", test_data_354_with_no_recipient_sends_empty_end},
          {"all_or_nothing_holds_data_back", test_all_or_nothing_holds_data_back},
          {"sender_refused_drains_and_resets", test_sender_refused_drains_and_resets},
          {"relay_denied_category", test_relay_denied_category},
          {"sender_refused_at_rcpt_time", test_sender_refused_at_rcpt_time},
          {"access_denied_is_relay", test_access_denied_is_relay},
          {"message_too_large_after_data", test_message_too_large_after_data},
          {"size_over_announced_limit_refused_locally", test_size_over_announced_limit_refused_locally},
          {"injection_in_addresses_refused", test_injection_in_addresses_refused},
          {"quoted_local_part_and_null_sender", test_quoted_local_part_and_null_sender},
          {"smtputf8_and_8bitmime", test_smtputf8_and_8bitmime}, {"dsn_parameters", test_dsn_parameters},
          {"bdat_pipelined_single_write", test_bdat_pipelined_single_write},
          {"bdat_chunks_and_failure_reset", test_bdat_chunks_and_failure_reset},
          {"bdat_source_failure_resets", test_bdat_source_failure_resets},
          {"data_source_failure_kills_connection", test_data_source_failure_kills_connection},
          {"connection_lost_mid_data", test_connection_lost_mid_data},
          {"unexpected_reply_while_idle", test_unexpected_reply_while_idle},
          {"421_mid_transaction", test_421_mid_transaction},
          {"accepted_then_stray_reply_is_still_sent", test_accepted_then_stray_reply_is_still_sent}, {"noop_and_rset", test_noop_and_rset},
          {"byte_at_a_time", test_byte_at_a_time},
          {"malformed_reply_is_protocol_error", test_malformed_reply_is_protocol_error},
          {"manual_steps", test_manual_steps},
          {"manual_login_refused_in_clear_text", test_manual_login_refused_in_clear_text})
