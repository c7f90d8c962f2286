/* Several messages in flight on one connection (RFC 2920 across messages):
 * the exact bytes written, when the next message may begin, and that every
 * message keeps its own outcome, in order, whatever fails around it. */
#include <stdlib.h>

#include "engine_script.h"
#include "util/error.h"
#include "testlib.h"

#define CAPS_DATA "250-server.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
#define CAPS_BDAT "250-server.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 CHUNKING\r\n"

static void body(smtp_engine *e, const char *text)
{
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_BODY);
    smtp_engine_body(e, text, strlen(text));
    smtp_engine_body_end(e);
}

/* A session ready on a server with these capabilities (pipeline depth 0:
 * the default), and a one-recipient envelope. */
static smtp_engine *start(const char *caps, unsigned depth, env_fixture *f)
{
    smtp_engine_opts o = base_opts(SMTPCORE_SECURITY_NONE);
    o.pipeline_depth = depth;
    smtp_engine *e = open_plain(caps, &o);
    REQUIRE(e);
    make_env(f, 1);
    return e;
}

/* Begin a message and give it its whole body. */
static void send_one(smtp_engine *e, const env_fixture *f, const char *text)
{
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_begin_message(e, &f->env, 0, 0, &err) == 0);
    body(e, text);
}

/* Take the oldest result: rc as expected; returns its final code (0 if none). */
static int take(smtp_engine *e, int want_rc, smtpcore_category want_cat)
{
    smtpcore_result *res = NULL;
    smtpcore_error err = {0};
    REQUIRE(smtp_engine_result_ready(e));
    int rc = smtp_engine_take_result(e, &res, &err);
    CHECK_INT_EQ(rc, want_rc);
    CHECK_INT_EQ(err.category, want_cat);
    int code = res ? smtpcore_result_code(res) : 0;
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    return code;
}

static void test_data_next_envelope_follows_the_end_of_data(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_DATA, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    /* DATA needs its 354 before the body: nothing else may begin. */
    CHECK(!smtp_engine_can_begin(e));
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    body(e, "one\r\n");
    CHECK(smtp_engine_can_begin(e));
    CHECK(!smtp_engine_result_ready(e));
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    /* One write: the first message's end and the second's envelope. */
    OUT_IS(e, "one\r\n.\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    CHECK(!smtp_engine_can_begin(e));
    srv(e, "250 2.0.0 queued as ONE\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK(!smtp_engine_result_ready(e));
    body(e, "two\r\n");
    OUT_IS(e, "two\r\n.\r\n");
    srv(e, "250 2.0.0 queued as TWO\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK(!smtp_engine_result_ready(e));
    smtp_engine_free(e);
}

/* A refused end of data needs no RSET (RFC 5321 4.1.1.4 clears the
 * transaction), so the message behind it goes on. */
static void test_data_refused_message_does_not_disturb_the_next(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_DATA, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    body(e, "spam\r\n");
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n"
              "spam\r\n.\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "554 5.7.1 content rejected\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_PROTOCOL), 0);
    body(e, "ham\r\n");
    OUT_IS(e, "ham\r\n.\r\n");
    srv(e, "250 ok\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtp_engine_free(e);
}

/* With BDAT nothing needs an answer first: three messages, one write, each
 * after the first behind an RSET because the outcome before it is unknown. */
static void test_bdat_three_messages_one_write(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 0, &f);
    for (int i = 0; i < 3; i++) {
        REQUIRE(smtp_engine_can_begin(e));
        send_one(e, &f, "x\r\n");
    }
    const char *msg = "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nx\r\n";
    sc_buf want;
    sc_buf_init(&want);
    sc_buf_printf(&want, "%sRSET\r\n%sRSET\r\n%s", msg, msg, msg);
    size_t n;
    const char *p = smtp_engine_output(e, &n);
    CHECK_MEM_EQ(p, n, sc_buf_ptr(&want), sc_buf_size(&want));
    smtp_engine_consume_output(e, n);
    sc_buf_free(&want);
    /* Replies arrive bit by bit; results come out in order as they finish. */
    srv(e, "250 ok\r\n250 ok\r\n250 ok: ONE\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK(!smtp_engine_result_ready(e));
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_READ);
    srv(e, "250 reset\r\n250 ok\r\n250 ok\r\n251 ok: TWO\r\n250 reset\r\n250 ok\r\n250 ok\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 251);
    CHECK(!smtp_engine_result_ready(e));
    srv(e, "250 ok: THREE\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    /* Idle again: the next message needs no RSET in front. */
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    body(e, "x\r\n");
    OUT_IS(e, msg);
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    smtp_engine_free(e);
}

/* The first message's recipient is refused, so its BDAT is too; a server may
 * keep that transaction open, and the RSET in front of the second message
 * is what keeps the second's recipients out of it. No other RSET is sent. */
static void test_bdat_failure_before_a_pipelined_message(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    body(e, "a\r\n");
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    body(e, "b\r\n");
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\na\r\n"
              "RSET\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nb\r\n");
    srv(e, "250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n");
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_RECIPIENT), 0);
    OUT_IS(e, "");
    srv(e, "250 reset\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    OUT_IS(e, "");
    smtp_engine_free(e);
}

/* The newest message failed: its own RSET goes first, and nothing may begin
 * behind it until that is answered. */
static void test_failed_newest_message_resets_before_the_next(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\n");
    /* MAIL refused while the body is still being produced: the body stops. */
    srv(e, "550 5.7.1 sender refused\r\n");
    CHECK(!smtp_engine_body_pending(e));
    CHECK(smtp_engine_want(e) != SMTP_WANT_BODY);
    CHECK(!smtp_engine_can_begin(e));
    srv(e, "503 5.5.1 need MAIL\r\n");
    OUT_IS(e, "RSET\r\n");
    CHECK(!smtp_engine_can_begin(e));
    srv(e, "250 ok\r\n");
    CHECK(smtp_engine_can_begin(e));
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_SENDER), 0);
    smtp_engine_free(e);
}

static void test_pipeline_depth_limits_messages_in_flight(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 2, &f);
    send_one(e, &f, "x\r\n");
    send_one(e, &f, "x\r\n");
    CHECK(!smtp_engine_can_begin(e));
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n");
    /* One answered (even before its result is taken): one more may go. */
    CHECK(smtp_engine_can_begin(e));
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    smtp_engine_free(e);
}

/* Without PIPELINING each message waits for the one before. */
static void test_without_pipelining_no_message_overlaps(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start("250-server.test\r\n250 CHUNKING\r\n", 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\n");
    srv(e, "250 ok\r\n");
    OUT_IS(e, "RCPT TO:<rcpt0@example.test>\r\n");
    srv(e, "250 ok\r\n");
    body(e, "x\r\n");
    OUT_IS(e, "BDAT 3 LAST\r\nx\r\n");
    CHECK(!smtp_engine_can_begin(e));
    srv(e, "250 ok\r\n");
    CHECK(smtp_engine_can_begin(e));
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    smtp_engine_free(e);
}

/* The connection drops with three messages out and one answered: that one
 * is sent, the others are not, and none is lost from the results. */
static void test_connection_lost_with_messages_in_flight(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 0, &f);
    for (int i = 0; i < 3; i++) {
        send_one(e, &f, "x\r\n");
    }
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nx\r\n"
              "RSET\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nx\r\n"
              "RSET\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nx\r\n");
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n250 reset\r\n250 ok\r\n");
    smtpcore_error cause = {0};
    sc_err_set(&cause, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "connection reset");
    smtp_engine_connection_lost(e, &cause);
    smtpcore_error_clear(&cause);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_CONNECT), 0);
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_CONNECT), 0);
    CHECK(!smtp_engine_result_ready(e));
    CHECK_INT_EQ(smtp_engine_begin_message(e, &f.env, 0, 0, &err), -1);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* 421 in the middle: the answered message stays sent, the rest fail with
 * the server's reply. */
static void test_421_with_messages_in_flight(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_DATA, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    srv(e, "250 ok\r\n250 ok\r\n354 go\r\n");
    body(e, "one\r\n");
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    srv(e, "250 ok: ONE\r\n421 4.3.2 shutting down\r\n");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    smtpcore_result *res = NULL;
    CHECK_INT_EQ(smtp_engine_take_result(e, &res, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_CONNECT);
    CHECK_INT_EQ(err.code, 421);
    if (res)
        CHECK_INT_EQ(smtpcore_result_accepted(res), 0);
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
}

/* A message's source fails after others were pipelined ahead of it: only it
 * is abandoned (BDAT: RSET discards its chunks), the earlier ones stand. */
static void test_source_failure_behind_pipelined_messages(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_BDAT, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    body(e, "x\r\n");
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    smtpcore_error cause = {0};
    sc_err_set(&cause, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "read failed");
    smtp_engine_body_abort(e, &cause);
    smtpcore_error_clear(&cause);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nBDAT 3 LAST\r\nx\r\n"
              "RSET\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\n");
    srv(e, "250 ok\r\n250 ok\r\n250 ok\r\n250 reset\r\n250 ok\r\n250 ok\r\n");
    CHECK_INT_EQ(take(e, 0, SMTPCORE_OK), 250);
    OUT_IS(e, "RSET\r\n");
    srv(e, "250 reset\r\n");
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_LOCAL), 0);
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_NOTHING);
    smtp_engine_free(e);
}

/* A server that answers every command line written: 354 for DATA, 250 for
 * the rest and for each end of data (BDAT payloads are skipped by their
 * size). *in_data carries a DATA body across writes. */
static void answer_all(const char *p, size_t n, sc_buf *replies, int *in_data)
{
    const char *end = p + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        size_t skip = 0;
        if (*in_data) {
            if (eol - p == 2 && p[0] == '.') {
                sc_buf_append_str(replies, "250 queued\r\n");
                *in_data = 0;
            }
        } else if (!strncmp(p, "DATA", 4)) {
            sc_buf_append_str(replies, "354 go\r\n");
            *in_data = 1;
        } else {
            sc_buf_append_str(replies, "250 ok\r\n");
            if (!strncmp(p, "BDAT ", 5))
                skip = (size_t)strtoul(p + 5, NULL, 10);
        }
        p = eol + 1 + skip;
    }
}

/* Drive n messages like the batch driver does, against answer_all; count
 * the times the client had to wait for the server. */
static int waits_for_batch(const char *caps, int n, unsigned depth)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(caps, depth, &f);
    sc_buf replies;
    sc_buf_init(&replies);
    int begun = 0, taken = 0, waits = 0, data_open = 0, in_data = 0;
    for (int guard = 0; guard < 10000 && taken < n; guard++) {
        while (smtp_engine_result_ready(e)) {
            CHECK_INT_EQ(smtp_engine_take_result(e, NULL, &err), 0);
            taken++;
        }
        if (smtp_engine_want(e) == SMTP_WANT_BODY) {
            smtp_engine_body(e, "x\r\n", 3);
            smtp_engine_body_end(e);
            data_open = 0;
            continue;
        }
        if (begun < n && !data_open && smtp_engine_can_begin(e)) {
            REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
            begun++;
            data_open = 1;
            continue;
        }
        size_t len;
        const char *out = smtp_engine_output(e, &len);
        answer_all(out, len, &replies, &in_data);
        smtp_engine_consume_output(e, len);
        if (smtp_engine_want(e) != SMTP_WANT_READ)
            continue;
        waits++;
        smtp_engine_feed(e, sc_buf_ptr(&replies), sc_buf_size(&replies));
        sc_buf_reset(&replies);
    }
    CHECK_INT_EQ(taken, n);
    sc_buf_free(&replies);
    smtpcore_error_clear(&err);
    smtp_engine_free(e);
    return waits;
}

/* Fifty messages: with DATA one wait per message (for its 354, which comes
 * with the previous message's 250), plus one for the last 250; with BDAT
 * only the pipeline depth makes the client wait at all. */
static void test_fifty_messages_round_trips(void)
{
    CHECK_INT_EQ(waits_for_batch(CAPS_DATA, 50, 0), 51);
    CHECK_INT_EQ(waits_for_batch(CAPS_BDAT, 50, 0), 2);
    CHECK_INT_EQ(waits_for_batch(CAPS_BDAT, 50, 10), 5);
    CHECK_INT_EQ(waits_for_batch(CAPS_BDAT, 50, 1), 50);
    /* Without PIPELINING: MAIL, RCPT, DATA, end of data, each waited for. */
    CHECK_INT_EQ(waits_for_batch("250-server.test\r\n250 8BITMIME\r\n", 50, 0), 200);
}

/* A server that refuses MAIL yet accepts the recipient and opens DATA: an
 * empty end of data would deliver an empty message, so the connection is
 * dropped instead and nothing is claimed. */
static void test_354_for_a_failed_transaction_drops_the_connection(void)
{
    env_fixture f;
    smtpcore_error err = {0};
    smtp_engine *e = start(CAPS_DATA, 0, &f);
    REQUIRE(smtp_engine_begin_message(e, &f.env, 0, 0, &err) == 0);
    OUT_IS(e, "MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt0@example.test>\r\nDATA\r\n");
    srv(e, "550 5.7.1 sender refused\r\n250 ok\r\n354 go\r\n");
    OUT_IS(e, "");
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_CLOSE);
    CHECK_INT_EQ(take(e, -1, SMTPCORE_ERR_SENDER), 0);
    smtp_engine_free(e);
}

TEST_MAIN({"354_for_a_failed_transaction_drops_the_connection", test_354_for_a_failed_transaction_drops_the_connection},
          {"fifty_messages_round_trips", test_fifty_messages_round_trips},
          {"data_next_envelope_follows_the_end_of_data", test_data_next_envelope_follows_the_end_of_data},
          {"data_refused_message_does_not_disturb_the_next", test_data_refused_message_does_not_disturb_the_next},
          {"bdat_three_messages_one_write", test_bdat_three_messages_one_write},
          {"bdat_failure_before_a_pipelined_message", test_bdat_failure_before_a_pipelined_message},
          {"failed_newest_message_resets_before_the_next", test_failed_newest_message_resets_before_the_next},
          {"pipeline_depth_limits_messages_in_flight", test_pipeline_depth_limits_messages_in_flight},
          {"without_pipelining_no_message_overlaps", test_without_pipelining_no_message_overlaps},
          {"connection_lost_with_messages_in_flight", test_connection_lost_with_messages_in_flight},
          {"421_with_messages_in_flight", test_421_with_messages_in_flight},
          {"source_failure_behind_pipelined_messages", test_source_failure_behind_pipelined_messages})
