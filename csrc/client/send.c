/* The send driver: messages in, outcomes out, over one session.
 *
 * One message is a batch of one. In a longer batch the next message is
 * begun as soon as the engine allows (smtp_engine_can_begin: with
 * PIPELINING, once the previous one has sent all its data), before
 * waiting for any reply, so its envelope shares a write with the previous
 * message's end of data. Outcomes still come one per message, in order, and
 * a message counts as sent only when the server accepted it. */
#include <stdlib.h>

#include "client/session_internal.h"
#include "util/error.h"

typedef struct batch_run {
    smtpcore_session *s;
    smtp_engine *eng;
    const sc_batch_ops *ops;
    void *ctx;
    size_t n;
    size_t next;           /* the next item to begin */
    /* Items begun and not yet reported, oldest first: a ring no larger
     * than the engine's, so a send allocates nothing for it. */
    size_t begun[SMTP_ENGINE_MAX_TXNS];
    size_t b_head, b_tail; /* counts; positions are modulo the ring */
    int body_open;         /* the newest begun item's source is still in use */
    size_t body_item;
    smtpcore_source src;
    size_t accepted;
} batch_run;

static void report(batch_run *b, size_t i, int rc, smtpcore_result *result, smtpcore_error *err)
{
    if (rc == 0)
        b->accepted++;
    b->ops->done(b->ctx, i, rc, result, err);
    smtpcore_error_clear(err);
}

static void close_body(batch_run *b)
{
    if (b->body_open) {
        b->body_open = 0;
        b->ops->release(b->ctx, b->body_item);
    }
}

static void take_ready(batch_run *b)
{
    while (b->b_head < b->b_tail && smtp_engine_result_ready(b->eng)) {
        smtpcore_result *res = NULL;
        smtpcore_error err = {0};
        int rc = smtp_engine_take_result(b->eng, &res, &err);
        report(b, b->begun[b->b_head++ % SMTP_ENGINE_MAX_TXNS], rc, res, &err);
    }
}

/* Begin item b->next, or report why it cannot go. */
static void begin_next(batch_run *b)
{
    size_t i = b->next++;
    const smtpcore_envelope *env = NULL;
    smtpcore_error err = {0};
    b->src = (smtpcore_source){0};
    if (b->ops->prepare(b->ctx, i, &env, &b->src, &err) < 0) {
        b->ops->release(b->ctx, i);
        report(b, i, -1, NULL, &err);
        return;
    }
    if (!b->src.read || !env) {
        b->ops->release(b->ctx, i);
        sc_err_set(&err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message source");
        report(b, i, -1, NULL, &err);
        return;
    }
    if (smtp_engine_begin_message(b->eng, env, b->src.eight_bit, b->src.size_hint, &err) < 0) {
        b->ops->release(b->ctx, i);
        report(b, i, -1, NULL, &err);
        return;
    }
    b->begun[b->b_tail++ % SMTP_ENGINE_MAX_TXNS] = i;
    b->body_open = 1;
    b->body_item = i;
}

/* Feed the newest message's body from its source, one chunk. */
static void feed_body(batch_run *b, char *buf)
{
    /* begin_next refuses a source without read(); this keeps that visible here. */
    long long got = b->src.read ? b->src.read(b->src.ctx, buf, SC_BODY_CHUNK) : -1;
    if (got > 0) {
        smtp_engine_body(b->eng, buf, (size_t)got);
        return;
    }
    if (got == 0) {
        smtp_engine_body_end(b->eng);
    } else {
        smtpcore_error cause = {0};
        sc_err_set(&cause, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "reading the message failed; the message was not sent");
        smtp_engine_body_abort(b->eng, &cause);
        smtpcore_error_clear(&cause);
    }
    close_body(b);
}

size_t sc_session_run_batch(smtpcore_session *s, size_t n, const sc_batch_ops *ops, void *ctx)
{
    batch_run b = {.s = s, .ops = ops, .ctx = ctx, .n = n};
    smtpcore_error err = {0};
    if (sc_session_check_alive(s, &err) < 0)
        goto fail_rest;
    b.eng = sc_session_engine(s);
    char *buf = sc_session_body_buf(s);
    if (!buf) {
        sc_err_set(&err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        goto fail_rest;
    }
    for (;;) {
        take_ready(&b);
        /* A body the engine no longer wants (its transaction failed) is over. */
        if (b.body_open && !smtp_engine_body_pending(b.eng))
            close_body(&b);
        if (b.next < n && !b.body_open && smtp_engine_can_begin(b.eng)) {
            begin_next(&b);
            continue;
        }
        smtp_want w = sc_session_pump(s, b.next < n && !b.body_open);
        if (w == SMTP_WANT_BODY) {
            feed_body(&b, buf);
            continue;
        }
        if (w == SMTP_WANT_CLOSE) {
            sc_session_settle(s, w);
            break;
        }
        /* SMTP_WANT_NOTHING: idle, or the next message may begin. */
        if (b.next >= n && b.b_head == b.b_tail)
            break;
        if (b.next < n && !smtp_engine_can_begin(b.eng) && smtp_engine_want(b.eng) == SMTP_WANT_NOTHING) {
            /* Idle but refusing new messages: results not taken cannot be the
             * cause (take_ready ran), so the session is in a state we do not
             * know how to leave. */
            sc_err_set(&err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "the session is not ready for a new message");
            break;
        }
    }
    close_body(&b);
    /* The connection is gone: what was begun ends with its error, and what
     * was not begun fails with the error that closed the session. */
    take_ready(&b);
    while (b.b_head < b.b_tail) {
        smtpcore_error e2 = {0};
        sc_err_set(&e2, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "the transaction did not finish");
        report(&b, b.begun[b.b_head++ % SMTP_ENGINE_MAX_TXNS], -1, NULL, &e2);
    }
    if (b.next < n && err.category == SMTPCORE_OK) {
        /* Messages behind the one whose failure closed the connection were
         * never begun: say so, with the reason, as a connection error. */
        smtpcore_error cause = {0};
        sc_session_check_alive(s, &cause);
        sc_err_set(&err, SMTPCORE_ERR_CONNECT, cause.code, cause.enhanced, cause.server_text,
                   "not sent: the connection ended before this message's turn (%s)",
                   cause.message ? cause.message : "closed");
        smtpcore_error_clear(&cause);
    }
fail_rest:
    for (size_t i = b.next; i < n; i++) {
        smtpcore_error e2 = {0};
        sc_err_copy(&e2, &err);
        b.ops->release(ctx, i);
        report(&b, i, -1, NULL, &e2);
    }
    smtpcore_error_clear(&err);
    return b.accepted;
}

/* ---- the public entry points: caller-held envelopes and sources ---- */

struct given_items {
    const smtpcore_envelope *envs;
    const smtpcore_source *srcs;
    smtpcore_send_outcome *out;
};

static int given_prepare(void *ctx, size_t i, const smtpcore_envelope **env, smtpcore_source *src,
                         smtpcore_error *err)
{
    (void)err;
    struct given_items *g = ctx;
    *env = &g->envs[i];
    *src = g->srcs[i];
    return 0;
}

static void given_release(void *ctx, size_t i)
{
    (void)ctx;
    (void)i;
}

static void given_done(void *ctx, size_t i, int rc, smtpcore_result *result, smtpcore_error *err)
{
    struct given_items *g = ctx;
    g->out[i].status = rc;
    g->out[i].result = result;
    g->out[i].error = *err; /* moved: the driver's copy is left empty */
    *err = (smtpcore_error){0};
}

static const sc_batch_ops given_ops = {given_prepare, given_release, given_done};

size_t smtpcore_session_send_batch(smtpcore_session *s, const smtpcore_envelope *envs, const smtpcore_source *srcs,
                                   size_t n, smtpcore_send_outcome *out)
{
    if (!out)
        return 0;
    struct given_items g = {envs, srcs, out};
    if (n && (!envs || !srcs)) {
        for (size_t i = 0; i < n; i++) {
            out[i] = (smtpcore_send_outcome){.status = -1};
            sc_err_set(&out[i].error, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no envelopes or sources");
        }
        return 0;
    }
    if (!s) {
        for (size_t i = 0; i < n; i++) {
            out[i] = (smtpcore_send_outcome){.status = -1};
            sc_err_set(&out[i].error, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no session");
        }
        return 0;
    }
    return sc_session_run_batch(s, n, &given_ops, &g);
}

int sc_outcome_unpack(smtpcore_send_outcome *o, smtpcore_result **out, smtpcore_error *err)
{
    if (out)
        *out = o->result;
    else
        smtpcore_result_free(o->result);
    o->result = NULL;
    if (o->status < 0 && err) {
        smtpcore_error_clear(err);
        *err = o->error; /* moved */
        o->error = (smtpcore_error){0};
    } else {
        smtpcore_error_clear(&o->error);
    }
    return o->status;
}

int smtpcore_session_send(smtpcore_session *s, const smtpcore_envelope *env, const smtpcore_source *src,
                          smtpcore_result **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    if (!src || !src->read)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message source");
    if (!env)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no envelope");
    smtpcore_send_outcome o = {0};
    struct given_items g = {env, src, &o};
    sc_session_run_batch(s, 1, &given_ops, &g);
    return sc_outcome_unpack(&o, out, err);
}

void smtpcore_send_outcome_clear(smtpcore_send_outcome *o)
{
    if (!o)
        return;
    smtpcore_result_free(o->result);
    o->result = NULL;
    smtpcore_error_clear(&o->error);
    o->status = 0;
}
