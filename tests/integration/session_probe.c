/* Drives the public C API through whole sessions for the integration tests:
 * several messages on one connection, a refused one in between, DSN options,
 * NOOP/RSET, a message source that fails half way, and batches (several
 * messages pipelined, smtpcore_session_send_batch / _send_messages).
 *
 *   session_probe SCENARIO --host H --port P [--security S] [--ca-file F] [--user U]
 *
 * The password comes from $SMTPCORE_PASSWORD. One line per step on stdout:
 * "<step> ok <code> <text>" or "<step> fail <category> <code> <enhanced>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpcore.h"

static void report(const char *step, int rc, const smtpcore_result *res, const smtpcore_error *err)
{
    if (rc == 0)
        printf("%s ok %d %s\n", step, res ? smtpcore_result_code(res) : 250, res ? smtpcore_result_text(res) : "");
    else
        printf("%s fail %s %d %s\n", step, smtpcore_category_name(err->category), err->code,
               err->enhanced[0] ? err->enhanced : "-");
    fflush(stdout);
}

static int send_one(smtpcore_session *s, const char *step, const char *from, const char *to, const char *tag,
                    const smtpcore_recipient *rcpt_opts, smtpcore_dsn_ret ret, const char *envid)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\nbody of %s\r\n",
                     from, to, tag, tag, tag);
    smtpcore_recipient r = rcpt_opts ? *rcpt_opts : (smtpcore_recipient){0};
    r.address = to;
    smtpcore_envelope env = {.sender = from, .recipients = &r, .n_recipients = 1, .dsn_ret = ret,
                             .dsn_envid = envid, .all_or_nothing = -1};
    smtpcore_result *res = NULL;
    smtpcore_error err = {0};
    int rc = smtpcore_session_send_bytes(s, &env, msg, (size_t)n, &res, &err);
    report(step, rc, res, &err);
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    return rc;
}

struct failing_source {
    int calls;
};

/* Gives one block of a message, then fails: the message must not be delivered. */
static long long failing_read(void *ctx, char *buf, size_t n)
{
    struct failing_source *f = ctx;
    if (f->calls++ > 0)
        return -1;
    const char *head = "Subject: must never arrive\r\n\r\nfirst part\r\n";
    size_t len = strlen(head);
    if (len > n)
        len = n;
    memcpy(buf, head, len);
    return (long long)len;
}

/* The batch scenario's message i: a leading dot and a long line, so the
 * test can compare the delivered bytes exactly. */
static int batch_message(char *buf, size_t size, const char *from, const char *to, int i)
{
    return snprintf(buf, size,
                    "From: <%s>\r\nTo: <%s>\r\nSubject: batch-%d\r\nMessage-ID: <batch-%d@example.test>\r\n\r\n"
                    "body of batch-%d\r\n.leading dot\r\n%0900d\r\n",
                    from, to, i, i, i, i);
}

struct batch_msg {
    char text[1200];
    size_t len, pos;
};

static long long batch_read(void *ctx, char *buf, size_t n)
{
    struct batch_msg *m = ctx;
    size_t left = m->len - m->pos;
    if (n > left)
        n = left;
    memcpy(buf, m->text + m->pos, n);
    m->pos += n;
    return (long long)n;
}

/* 30 messages in one batch: 10 to an unknown user, 20 from a source that
 * fails; then 5 composed messages to carol through send_messages. */
static void run_batch(smtpcore_session *s, const char *from)
{
    enum { N = 30 };
    static struct batch_msg msgs[N];
    smtpcore_recipient rcpts[N];
    smtpcore_envelope envs[N];
    smtpcore_source srcs[N];
    struct failing_source failing = {0};
    for (int i = 0; i < N; i++) {
        const char *to = i == 10 ? "nosuchuser@example.test" : "bob@example.test";
        msgs[i].len = (size_t)batch_message(msgs[i].text, sizeof msgs[i].text, from, to, i);
        rcpts[i] = (smtpcore_recipient){.address = to};
        envs[i] = (smtpcore_envelope){.sender = from, .recipients = &rcpts[i], .n_recipients = 1,
                                      .all_or_nothing = -1};
        srcs[i] = (smtpcore_source){.read = batch_read, .ctx = &msgs[i], .size_hint = msgs[i].len};
    }
    srcs[20] = (smtpcore_source){.read = failing_read, .ctx = &failing};
    smtpcore_send_outcome out[N];
    size_t accepted = smtpcore_session_send_batch(s, envs, srcs, N, out);
    for (int i = 0; i < N; i++) {
        char step[32];
        snprintf(step, sizeof step, "batch%d", i);
        report(step, out[i].status, out[i].result, &out[i].error);
        smtpcore_send_outcome_clear(&out[i]);
    }
    printf("batch_accepted ok %zu\n", accepted);

    enum { M = 5 };
    smtpcore_message *m[M];
    smtpcore_send_outcome mout[M];
    smtpcore_error err = {0};
    for (int i = 0; i < M; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "composed-%d", i);
        m[i] = smtpcore_message_new();
        if (smtpcore_message_set_from(m[i], from, &err) < 0 ||
            smtpcore_message_add_to(m[i], i == 2 ? "nosuchuser@example.test" : "carol@example.test", &err) < 0 ||
            smtpcore_message_set_subject(m[i], subject, &err) < 0 ||
            smtpcore_message_set_text(m[i], subject, strlen(subject), &err) < 0) {
            fprintf(stderr, "compose: %s\n", err.message);
            exit(2);
        }
    }
    accepted = smtpcore_session_send_messages(s, m, M, mout);
    for (int i = 0; i < M; i++) {
        char step[32];
        snprintf(step, sizeof step, "composed%d", i);
        report(step, mout[i].status, mout[i].result, &mout[i].error);
        smtpcore_send_outcome_clear(&mout[i]);
        smtpcore_message_free(m[i]);
    }
    printf("composed_accepted ok %zu\n", accepted);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *scenario = argv[1];
    const char *user = NULL;
    smtpcore_error err = {0};
    smtpcore_config *cfg = smtpcore_config_new();
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i] + 2, *v = argv[i + 1];
        if (!strcmp(k, "user")) {
            user = v;
            k = "username";
        } else if (!strcmp(k, "ca-file")) {
            k = "ca_file";
        }
        if (smtpcore_config_set(cfg, k, v, &err) < 0) {
            fprintf(stderr, "%s\n", err.message);
            return 2;
        }
    }
    if (user && getenv("SMTPCORE_PASSWORD"))
        smtpcore_config_set(cfg, "password", getenv("SMTPCORE_PASSWORD"), &err);
    smtpcore_session *s = smtpcore_session_open(cfg, &err);
    report("open", s ? 0 : -1, NULL, &err);
    smtpcore_error_clear(&err);
    if (!s)
        return 1;
    const char *from = user ? user : "probe@elsewhere.test";

    if (!strcmp(scenario, "multi")) {
        send_one(s, "send1", from, "bob@example.test", "multi-1", NULL, SMTPCORE_DSN_RET_DEFAULT, NULL);
        send_one(s, "send2", from, "nosuchuser@example.test", "multi-2", NULL, SMTPCORE_DSN_RET_DEFAULT, NULL);
        smtpcore_recipient dsn = {.notify = SMTPCORE_NOTIFY_SUCCESS | SMTPCORE_NOTIFY_FAILURE,
                                  .orcpt = "carol+orig@example.test"};
        send_one(s, "send3", from, "carol@example.test", "multi-3", &dsn, SMTPCORE_DSN_RET_HDRS, "probe-envid-1");
        int rc = smtpcore_session_noop(s, &err);
        report("noop", rc, NULL, &err);
        smtpcore_error_clear(&err);
        rc = smtpcore_session_rset(s, &err);
        report("rset", rc, NULL, &err);
        smtpcore_error_clear(&err);
        send_one(s, "send4", from, "dave@example.test", "multi-4", NULL, SMTPCORE_DSN_RET_DEFAULT, NULL);
    } else if (!strcmp(scenario, "source_fail")) {
        struct failing_source f = {0};
        smtpcore_recipient r = {.address = "erin@example.test"};
        smtpcore_envelope env = {.sender = from, .recipients = &r, .n_recipients = 1, .all_or_nothing = -1};
        smtpcore_source src = {.read = failing_read, .ctx = &f, .eight_bit = 0};
        smtpcore_result *res = NULL;
        int rc = smtpcore_session_send(s, &env, &src, &res, &err);
        report("failing", rc, res, &err);
        smtpcore_result_free(res);
        smtpcore_error_clear(&err);
        /* With BDAT the session survives (RSET); with DATA it had to be dropped. */
        send_one(s, "after", from, "erin@example.test", "after-failure", NULL, SMTPCORE_DSN_RET_DEFAULT, NULL);
    } else if (!strcmp(scenario, "batch")) {
        run_batch(s, from);
    } else {
        fprintf(stderr, "unknown scenario %s\n", scenario);
    }
    smtpcore_session_close(s);
    smtpcore_config_free(cfg);
    return 0;
}
