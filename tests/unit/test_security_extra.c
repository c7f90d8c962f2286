/* Cases from the security notes (../shared/notes/security.md) that the other
 * unit tests did not cover yet; tests/SECURITY.md maps every note to its tests.
 * Same style as test_engine.c: scripted server bytes in, exact client bytes out. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smtp/engine.h"
#include "smtp/reply.h"
#include "smtpcore.h"
#include "testlib.h"
#include "util/buf.h"

static smtp_engine_opts base_opts(smtpcore_security sec)
{
    smtp_engine_opts o = {
        .security = sec,
        .ehlo_name = "client.test",
        .use_pipelining = 1,
        .use_chunking = 1,
    };
    return o;
}

static void srv(smtp_engine *e, const char *s) { smtp_engine_feed(e, s, strlen(s)); }

#define OUT_IS(e, expected) \
    do { size_t out_n_; const char *out_p_ = smtp_engine_output((e), &out_n_); \
         CHECK_MEM_EQ(out_p_, out_n_, (expected), strlen(expected)); smtp_engine_consume_output((e), out_n_); } while (0)

/* Greeting and EHLO (the server offers STARTTLS): the engine has just written
 * what `first` says (STARTTLS in the TLS modes). */
static smtp_engine *open_engine(smtp_engine_opts *o, const char *ehlo_reply, const char *first)
{
    smtpcore_error err = {0};
    smtp_engine *e = smtp_engine_new(o, 0, &err);
    smtpcore_error_clear(&err);
    if (!e)
        return NULL;
    srv(e, "220 server.test ESMTP\r\n");
    OUT_IS(e, "EHLO client.test\r\n");
    srv(e, ehlo_reply);
    OUT_IS(e, first);
    return e;
}

#define EHLO_STARTTLS "250-server.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"

/* ------------------------------------------------------- STARTTLS stripping */

/* smtplib CVE-2016-0772: a 501 (not only 454) to STARTTLS in required mode
 * ends the session before AUTH or MAIL. */
static void test_starttls_refused_501_in_required_mode(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_engine(&o, EHLO_STARTTLS, "STARTTLS\r\n");
    REQUIRE(e);
    srv(e, "501 5.5.4 Syntax error\r\n");
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    CHECK_INT_EQ(smtp_engine_error(e)->code, 501);
    smtp_engine_free(e);
}

/* Required TLS, STARTTLS missing, no credentials: still nothing but the end
 * (no MAIL later either: begin_message is refused). */
static void test_starttls_missing_without_credentials_sends_no_mail(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    smtp_engine *e = open_engine(&o, "250-server.test\r\n250 PIPELINING\r\n", "");
    REQUIRE(e);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    smtpcore_recipient r = {.address = "rcpt@example.test"};
    smtpcore_envelope env = {.sender = "sender@example.test", .recipients = &r, .n_recipients = 1,
                             .all_or_nothing = -1};
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtp_engine_begin_message(e, &env, 0, 0, &err), -1);
    smtpcore_error_clear(&err);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

/* Opportunistic mode with credentials: STARTTLS refused means no TLS, so the
 * password is not sent (AUTH in clear only when the caller allows it). */
static void test_starttls_opportunistic_refused_keeps_the_password(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_OPPORTUNISTIC);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_engine(&o, EHLO_STARTTLS, "STARTTLS\r\n");
    REQUIRE(e);
    srv(e, "454 4.7.0 TLS not available\r\n");
    OUT_IS(e, "");
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    smtp_engine_free(e);

    /* Allowed explicitly: then, and only then, AUTH goes in clear. */
    o.allow_plaintext_auth = 1;
    e = open_engine(&o, EHLO_STARTTLS, "STARTTLS\r\n");
    REQUIRE(e);
    srv(e, "454 4.7.0 TLS not available\r\n");
    OUT_IS(e, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    smtp_engine_free(e);
}

/* --------------------------------------------- STARTTLS response injection */

/* The injected bytes are only part of a line (no CRLF yet): still refused. */
static void test_starttls_injection_partial_line(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    smtp_engine *e = open_engine(&o, EHLO_STARTTLS, "STARTTLS\r\n");
    REQUIRE(e);
    srv(e, "220 Ready\r\n2");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    REQUIRE(smtp_engine_error(e));
    CHECK_INT_EQ(smtp_engine_error(e)->category, SMTPCORE_ERR_TLS);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

/* Bytes that arrive after the 220 but in a later read, before the handshake
 * completes, are thrown away: after TLS only the new EHLO reply counts. */
static void test_starttls_bytes_before_handshake_are_discarded(void)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_STARTTLS);
    o.username = "alice";
    o.password = "secret";
    smtp_engine *e = open_engine(&o, EHLO_STARTTLS, "STARTTLS\r\n");
    REQUIRE(e);
    srv(e, "220 Ready\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_TLS);
    /* A late plaintext segment, as if it had been read before the handshake:
     * held, never parsed in clear, and dropped when TLS starts. */
    srv(e, "250-evil.test\r\n250 AUTH PLAIN XFAKE\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_TLS);
    OUT_IS(e, "");
    smtp_engine_tls_started(e);
    OUT_IS(e, "EHLO client.test\r\n");
    /* The forged reply is not taken as the answer to the new EHLO. */
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_READ);
    CHECK_INT_EQ(smtp_engine_caps(e), 0);
    srv(e, "250-server.test\r\n250 AUTH LOGIN\r\n");
    OUT_IS(e, "AUTH LOGIN\r\n");
    smtp_engine_free(e);
}

/* ------------------------------------------------- CR/LF command injection */

static int begin_fails(const smtpcore_envelope *env)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    smtp_engine *e = open_engine(&o, "250-server.test\r\n250-PIPELINING\r\n250-DSN\r\n250 SMTPUTF8\r\n", "");
    if (!e)
        return 0;
    smtpcore_error err = {0};
    int failed = smtp_engine_begin_message(e, env, 0, 0, &err) == -1 && err.category == SMTPCORE_ERR_USAGE;
    size_t n;
    smtp_engine_output(e, &n);
    failed = failed && n == 0; /* nothing written */
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
    return failed;
}

/* DSN parameters (ENVID, ORCPT) and quoted local parts cannot carry a line
 * break, a space or a control character into MAIL or RCPT. */
static void test_dsn_parameters_and_quoted_parts_refuse_line_breaks(void)
{
    const char *bad_envid[] = {"id\r\nRSET", "id\nDATA", "id\r", "id x", "id\tx", ""};
    for (size_t i = 0; i < sizeof bad_envid / sizeof bad_envid[0]; i++) {
        smtpcore_recipient r = {.address = "rcpt@example.test"};
        smtpcore_envelope env = {.sender = "s@example.test", .recipients = &r, .n_recipients = 1,
                                 .all_or_nothing = -1, .dsn_envid = bad_envid[i]};
        CHECK(begin_fails(&env));
    }
    const char *bad_addr[] = {"orig@example.test\r\nRCPT TO:<evil@example.test>", "orig@example.test\n",
                              "\"a\r\nb\"@example.test", "\"a\nRCPT TO:<e@x.test>\"@example.test",
                              "\"a\\\r\\\nb\"@example.test", "\"a\x01\"@example.test", "a@exa\r\nmple.test"};
    for (size_t i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++) {
        smtpcore_recipient r = {.address = "rcpt@example.test", .orcpt = bad_addr[i]};
        smtpcore_envelope env = {.sender = "s@example.test", .recipients = &r, .n_recipients = 1,
                                 .all_or_nothing = -1};
        CHECK(begin_fails(&env));
        smtpcore_recipient r2 = {.address = bad_addr[i]};
        env.recipients = &r2;
        CHECK(begin_fails(&env));
        env.recipients = &r;
        r.orcpt = NULL;
        env.sender = bad_addr[i];
        CHECK(begin_fails(&env));
    }
}

/* The public API refuses the same before connecting. */
static void test_public_envelope_check_refuses_line_breaks(void)
{
    smtpcore_recipient r = {.address = "b@example.test\r\nDATA"};
    smtpcore_envelope env = {.sender = "a@example.test", .recipients = &r, .n_recipients = 1, .all_or_nothing = -1};
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_envelope_check(&env, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    r.address = "b@example.test";
    env.dsn_envid = "x\r\nQUIT";
    CHECK_INT_EQ(smtpcore_envelope_check(&env, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
}

/* ------------------------------------------------------ reply parser bounds */

/* curl CVE-2019-3823: replies shorter than "NNN" must not be read past their
 * end. Each input is fed from an exactly sized heap copy, whole and byte by
 * byte, so ASan and valgrind (scripts/test.sh) see any overread. */
static void test_short_replies_are_read_within_bounds(void)
{
    const char *in[] = {"\r\n", "\n", "2\r\n", "25\r\n", "2\n", "25\n", "250", "25", "2", "250-", "250-\r\n",
                        "250-\n", "250 \r\n", "250-\r\n2", "250-\r\n25\r\n", "\r", "\r\r\n", "2\r", "-\r\n",
                        " \r\n", "250\r\n", "250\n"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t n = strlen(in[i]);
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            smtp_reply_parser p;
            smtp_reply_parser_init(&p);
            smtp_reply r;
            smtp_reply_init(&r);
            size_t step = bytewise ? 1 : n;
            for (size_t k = 0; k < n; k += step) {
                char *copy = malloc(step);
                REQUIRE(copy);
                memcpy(copy, in[i] + k, step);
                int rc = smtp_reply_parser_feed(&p, copy, step);
                free(copy);
                if (rc < 0)
                    break;
                int got;
                while ((got = smtp_reply_parser_next(&p, &r)) == 1)
                    CHECK(r.code >= 200 && r.code <= 599);
                if (got < 0)
                    break;
            }
            smtp_reply_free(&r);
            smtp_reply_parser_free(&p);
        }
    }
}

/* ---------------------------------------------------- attachment file paths */

/* PHPMailer CVE-2018-19296 / CVE-2017-5223: only regular files are attached;
 * devices, FIFOs, directories and URLs are refused when they are added. */
static void test_attachments_only_from_regular_files(void)
{
    char dir[] = "/tmp/smtpcore-sec-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char fifo[64], file[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(file, sizeof file, "%s/ok.txt", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fputs("hello\n", f);
    REQUIRE(fclose(f) == 0);

    const char *bad[] = {"/dev/zero", "/dev/stdin", fifo, dir, "phar://x.phar/y", "file:///etc/passwd",
                         "http://example.test/x", ""};
    smtpcore_message *m = smtpcore_message_new();
    REQUIRE(m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smtpcore_error err = {0};
        CHECK_INT_EQ(smtpcore_message_attach_file(m, bad[i], NULL, NULL, &err), -1);
        CHECK(err.category == SMTPCORE_ERR_USAGE || err.category == SMTPCORE_ERR_LOCAL);
        smtpcore_error_clear(&err);
        CHECK_INT_EQ(smtpcore_message_embed_file(m, bad[i], "cid", NULL, &err), -1);
        smtpcore_error_clear(&err);
    }
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_message_attach_file(m, file, NULL, NULL, &err), 0);
    smtpcore_error_clear(&err);
    smtpcore_message_free(m);
    unlink(fifo);
    unlink(file);
    rmdir(dir);
}

TEST_MAIN({"starttls_refused_501_in_required_mode", test_starttls_refused_501_in_required_mode},
          {"starttls_missing_without_credentials_sends_no_mail",
           test_starttls_missing_without_credentials_sends_no_mail},
          {"starttls_opportunistic_refused_keeps_the_password",
           test_starttls_opportunistic_refused_keeps_the_password},
          {"starttls_injection_partial_line", test_starttls_injection_partial_line},
          {"starttls_bytes_before_handshake_are_discarded", test_starttls_bytes_before_handshake_are_discarded},
          {"dsn_parameters_and_quoted_parts_refuse_line_breaks",
           test_dsn_parameters_and_quoted_parts_refuse_line_breaks},
          {"public_envelope_check_refuses_line_breaks", test_public_envelope_check_refuses_line_breaks},
          {"short_replies_are_read_within_bounds", test_short_replies_are_read_within_bounds},
          {"attachments_only_from_regular_files", test_attachments_only_from_regular_files})
