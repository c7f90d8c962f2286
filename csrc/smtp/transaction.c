/* Mail transactions: MAIL, RCPT, DATA or BDAT, and their replies.
 *
 * Several messages may be in flight on one connection. With PIPELINING
 * (RFC 2920) the next message's envelope may follow the end of the previous
 * message's data before its reply arrives ("the actual transfer of message
 * content is explicitly allowed to be the first command in a group"), so a
 * batch costs one round trip per message with DATA (the 354 must still be
 * awaited) and none with BDAT (RFC 3030), where only the pipeline depth
 * limits how many are unanswered.
 *
 * The end of DATA always clears the server's transaction (RFC 5321 4.1.1.4),
 * whatever its reply. After BDAT LAST that is not certain: a server may keep
 * a transaction open after refusing the envelope or the data, and the next
 * MAIL would then fail ("nested MAIL") or, worse, its recipients would join
 * the old transaction. So a message that follows a BDAT transaction whose
 * outcome is still unknown is preceded by RSET, which costs a reply line but
 * no round trip.
 *
 * Transactions live in a ring in the order they were begun: replies arrive
 * in that order, so they finish in that order, and the caller takes results
 * oldest first. Only the newest one ever takes body bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/engine_internal.h"
#include "smtp/envelope_check.h"
#include "smtp/result.h"
#include "util/error.h"

static txn *txn_newest(smtp_engine *e)
{
    return e->t_count ? &e->txns[(e->t_head + e->t_count - 1) % TXN_RING] : NULL;
}

static const txn *txn_newest_c(const smtp_engine *e)
{
    return e->t_count ? &e->txns[(e->t_head + e->t_count - 1) % TXN_RING] : NULL;
}

static unsigned slot_of(const smtp_engine *e, const txn *t) { return (unsigned)(t - e->txns); }

static void txn_clear(txn *t)
{
    smtpcore_result_free(t->result);
    free(t->rcpt_ok);
    if (t->rcpt_lines) {
        for (size_t i = 0; i < t->n_rcpt; i++)
            free(t->rcpt_lines[i]);
        free(t->rcpt_lines);
    }
    smtpcore_error_clear(&t->err);
    memset(t, 0, sizeof *t);
}

void txn_ring_free(smtp_engine *e)
{
    for (unsigned i = 0; i < TXN_RING; i++)
        txn_clear(&e->txns[i]);
    e->t_head = e->t_count = 0;
}

/* Replies come in order, so finished transactions are always the oldest
 * ones: the newest tells whether any is unfinished. */
int txn_any_unfinished(const smtp_engine *e)
{
    const txn *n = txn_newest_c(e);
    return n && !n->done;
}

int txn_wants_body(const smtp_engine *e)
{
    const txn *n = txn_newest_c(e);
    return n && !n->done && n->body_wanted && !n->body_ended;
}

int smtp_engine_body_pending(const smtp_engine *e)
{
    const txn *n = txn_newest_c(e);
    return n && !n->done && !n->failed && !n->body_ended;
}

static unsigned count_unfinished(const smtp_engine *e)
{
    unsigned n = 0;
    while (n < e->t_count && !e->txns[(e->t_head + e->t_count - 1 - n) % TXN_RING].done)
        n++;
    return n;
}

static void update_phase(smtp_engine *e)
{
    if (e->phase == PH_TXN && !txn_any_unfinished(e))
        e->phase = PH_IDLE;
}

static void txn_fail(smtp_engine *e, txn *t, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void txn_fail(smtp_engine *e, txn *t, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
{
    if (t->failed)
        return;
    t->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    eng_record_error(&t->err, cat, r, msg, sizeof msg, fmt, ap);
    va_end(ap);
    eng_info(e, "transaction failed: %s", msg);
    if (t->body == BODY_BDAT && t->body_wanted && !t->body_ended) {
        /* RFC 3030: no more chunks after a refusal; RSET discards the ones sent. */
        t->body_ended = 1;
        sc_buf_reset(&e->chunk);
    }
}

void txn_fail_in_flight(smtp_engine *e, smtpcore_category cat, const smtp_reply *r)
{
    for (unsigned i = 0; i < e->t_count; i++) {
        txn *t = &e->txns[(e->t_head + i) % TXN_RING];
        if (!t->done && !t->final_ok)
            txn_fail(e, t, cat, r, "the server closed the session: %d %s", r->code, smtp_reply_text(r));
    }
}

void txn_engine_failed(smtp_engine *e)
{
    for (unsigned i = 0; i < e->t_count; i++)
        e->txns[(e->t_head + i) % TXN_RING].done = 1;
}

/* Once every reply of a transaction is in: it is done, or, if it failed
 * and nothing was sent after it, RSET clears what the server kept. A failed
 * transaction with a later one behind it needs nothing: the later one
 * began after the end of data or after its own RSET. */
static void txn_maybe_finish(smtp_engine *e, txn *t)
{
    if (t->done || t->outstanding)
        return;
    if (t->failed) {
        if (t->rset_sent)
            return;
        if (t == txn_newest(e)) {
            t->rset_sent = 1;
            eng_send_cmd(e, CMD_RSET, slot_of(e, t), 0, "RSET", NULL);
            return;
        }
        t->done = 1;
    } else if (t->final_ok) {
        t->done = 1;
    } else {
        return;
    }
    update_phase(e);
}

static void start_body(smtp_engine *e, txn *t, body_mode mode)
{
    t->body = mode;
    t->body_wanted = 1;
    smtp_body_encoder_init(&e->enc, mode == BODY_DATA);
    sc_buf_reset(&e->chunk);
}

/* The first refused recipient: usually the one to fix. */
static const smtpcore_rcpt_status *first_refused(const txn *t)
{
    for (size_t i = 0; i < t->n_rcpt; i++)
        if (!t->rcpt_ok[i])
            return &t->result->rcpts[i];
    return NULL;
}

/* All RCPT replies are in: decide whether the message may go. */
static void decide_envelope(smtp_engine *e, txn *t)
{
    t->envelope_decided = 1;
    if (t->failed)
        return;
    if (t->accepted == 0) {
        const smtpcore_rcpt_status *first = first_refused(t);
        smtp_reply fake;
        smtp_reply_init(&fake);
        if (first) {
            fake.code = first->code;
            memcpy(fake.enhanced, first->enhanced, sizeof fake.enhanced);
            sc_buf_append_str(&fake.text, first->text ? first->text : "");
            sc_buf_append(&fake.text, "", 1);
            fake.text.len--;
        }
        txn_fail(e, t, first ? eng_classify(&fake, SMTPCORE_ERR_RECIPIENT) : SMTPCORE_ERR_RECIPIENT,
                 first ? &fake : NULL, "every recipient was refused (first: <%s> %d %s)",
                 first ? first->address : "", first ? first->code : 0, first && first->text ? first->text : "");
        smtp_reply_free(&fake);
        return;
    }
    if (t->all_or_nothing && t->accepted < t->n_rcpt) {
        const smtpcore_rcpt_status *first = first_refused(t);
        /* first is set: accepted < n_rcpt means some rcpt_ok[i] is 0 (on_rcpt sets both together).
         * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        sc_err_set(&t->err, SMTPCORE_ERR_RECIPIENT, first->code, first->enhanced, first->text,
                   "%zu of %zu recipients refused (first: <%s>); nothing sent (all-or-nothing)",
                   t->n_rcpt - t->accepted, t->n_rcpt, first->address);
        t->failed = 1;
        eng_info(e, "transaction failed: %s", t->err.message ? t->err.message : "");
        return;
    }
    if (!t->pipelined || t->all_or_nothing) {
        /* The DATA/BDAT step was held back until now. */
        if (t->chunking)
            start_body(e, t, BODY_BDAT);
        else
            eng_send_cmd(e, CMD_DATA, slot_of(e, t), 0, "DATA", NULL);
    }
}

static void on_mail(smtp_engine *e, txn *t, const smtp_reply *r)
{
    if (eng_is_2xx(r)) {
        if (!t->pipelined && t->n_rcpt)
            eng_send_cmd(e, CMD_RCPT, slot_of(e, t), 0, t->rcpt_lines[0], NULL);
        return;
    }
    txn_fail(e, t, eng_classify(r, SMTPCORE_ERR_SENDER), r, "sender refused: %d %s", r->code, smtp_reply_text(r));
}

static void on_rcpt(smtp_engine *e, txn *t, const smtp_reply *r, size_t i)
{
    if (i < t->n_rcpt) {
        if (smtp_result_set_reply(&t->result->rcpts[i], r->code, r->enhanced, smtp_reply_text(r)) < 0)
            eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        if (eng_is_2xx(r)) {
            t->rcpt_ok[i] = 1;
            t->accepted++;
        }
    }
    t->rcpt_replies++;
    if (t->failed)
        return; /* MAIL failed: these replies are only drained */
    if (!t->pipelined && t->rcpt_replies < t->n_rcpt) {
        eng_send_cmd(e, CMD_RCPT, slot_of(e, t), t->rcpt_replies, t->rcpt_lines[t->rcpt_replies], NULL);
        return;
    }
    if (t->rcpt_replies == t->n_rcpt)
        decide_envelope(e, t);
}

static void on_data(smtp_engine *e, txn *t, const smtp_reply *r)
{
    if (r->code == 354) {
        if (t->accepted == 0) {
            /* The server opened DATA although nobody can receive the message:
             * close it empty (no bytes of the message go out). */
            if (eng_send_raw(e, ".\r\n", 3) == 0 && eng_expect(e, CMD_DATA_END, slot_of(e, t), 0) == 0)
                eng_transcript(e, SMTPCORE_DIR_CLIENT, ".", 1);
            return;
        }
        if (t->failed) {
            /* Recipients were accepted, so even an empty end of data would
             * deliver something: only dropping the connection is safe. */
            eng_fail(e, t->err.category, NULL, "the server opened DATA for a transaction that had failed (%s); "
                     "the connection is closed so that nothing is delivered", t->err.message ? t->err.message : "");
            return;
        }
        start_body(e, t, BODY_DATA);
        return;
    }
    if (!t->failed)
        txn_fail(e, t, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "DATA refused: %d %s", r->code,
                 smtp_reply_text(r));
}

static void on_final(smtp_engine *e, txn *t, const smtp_reply *r, int last)
{
    if (t->failed)
        return;
    if (!eng_is_2xx(r)) {
        txn_fail(e, t, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "message refused: %d %s", r->code,
                 smtp_reply_text(r));
        return;
    }
    if (!last)
        return;
    if (smtp_result_set_final(t->result, r->code, r->enhanced, smtp_reply_text(r)) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < t->n_rcpt; i++)
        t->result->rcpts[i].accepted = t->rcpt_ok[i];
    t->final_ok = 1;
    eng_info(e, "message accepted for %zu of %zu recipients", t->accepted, t->n_rcpt);
}

static void on_rset(smtp_engine *e, txn *t, const smtp_reply *r, int separator)
{
    if (!eng_is_2xx(r)) {
        eng_fail(e, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "RSET refused: %d %s", r->code, smtp_reply_text(r));
        return;
    }
    if (!separator) {
        t->done = 1;
        update_phase(e);
    }
}

void txn_on_reply(smtp_engine *e, pending_cmd c, const smtp_reply *r)
{
    txn *t = &e->txns[c.slot];
    switch (c.kind) {
    case CMD_MAIL: on_mail(e, t, r); break;
    case CMD_RCPT: on_rcpt(e, t, r, c.index); break;
    case CMD_DATA: on_data(e, t, r); break;
    case CMD_DATA_END: on_final(e, t, r, 1); break;
    case CMD_BDAT: on_final(e, t, r, 0); break;
    case CMD_BDAT_LAST: on_final(e, t, r, 1); break;
    case CMD_RSET: on_rset(e, t, r, 0); break;
    case CMD_RSET_SEP: on_rset(e, t, r, 1); break;
    default: break;
    }
    if (e->phase == PH_TXN)
        txn_maybe_finish(e, t);
}

/* ---- begin ---- */

int smtp_engine_can_begin(const smtp_engine *e)
{
    if (e->t_count >= TXN_RING)
        return 0; /* results not taken */
    if (e->phase == PH_IDLE)
        return 1;
    if (e->phase != PH_TXN)
        return 0;
    const txn *n = txn_newest_c(e);
    /* Behind a message still sending its body, a failed one (its RSET comes
     * first), or without PIPELINING: wait. */
    if (!n || !n->pipelined || !n->body_ended || n->failed)
        return 0;
    unsigned depth = e->opts.pipeline_depth ? e->opts.pipeline_depth : DEFAULT_PIPELINE_DEPTH;
    return count_unfinished(e) < depth;
}

static int needs_utf8(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

int smtp_engine_begin_message(smtp_engine *e, const smtpcore_envelope *env, int eight_bit, uint64_t size_hint,
                              smtpcore_error *err)
{
    if (e->phase == PH_FAILED) {
        sc_err_copy(err, &e->err);
        return -1;
    }
    if (!smtp_engine_can_begin(e))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the session is not ready for a new message");
    if (smtp_check_envelope(env, err) < 0)
        return -1;
    int utf8 = needs_utf8(env->sender);
    for (size_t i = 0; i < env->n_recipients; i++)
        utf8 |= needs_utf8(env->recipients[i].address);
    if (utf8 && !(e->caps & SMTPCORE_CAP_SMTPUTF8))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "an address has non-ASCII characters, which needs SMTPUTF8 (RFC 6531), and the server "
                          "does not offer it");
    if (eight_bit == 1 && !utf8 && !(e->caps & SMTPCORE_CAP_8BITMIME))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "the message has 8-bit content and the server does not offer 8BITMIME; encode it "
                          "as quoted-printable or base64");
    if (e->max_size && size_hint > e->max_size)
        return sc_err_set(err, SMTPCORE_ERR_SIZE, 0, NULL, NULL,
                          "the message (%llu bytes) is larger than the server accepts (%llu bytes)",
                          (unsigned long long)size_hint, (unsigned long long)e->max_size);

    const txn *prev = txn_newest(e);
    int separator = prev && !prev->done && prev->chunking;
    unsigned slot = (e->t_head + e->t_count) % TXN_RING;
    txn *t = &e->txns[slot];
    txn_clear(t);
    e->t_count++;
    t->n_rcpt = env->n_recipients;
    t->pipelined = e->opts.use_pipelining && (e->caps & SMTPCORE_CAP_PIPELINING);
    t->chunking = e->opts.use_chunking && (e->caps & SMTPCORE_CAP_CHUNKING);
    t->all_or_nothing = env->all_or_nothing >= 0 ? env->all_or_nothing : e->opts.all_or_nothing;
    t->result = smtp_result_new(t->n_rcpt);
    t->rcpt_ok = calloc(t->n_rcpt ? t->n_rcpt : 1, 1);
    if (!t->pipelined)
        t->rcpt_lines = calloc(t->n_rcpt ? t->n_rcpt : 1, sizeof *t->rcpt_lines);
    if (!t->result || !t->rcpt_ok || (!t->pipelined && !t->rcpt_lines))
        goto oom;
    for (size_t i = 0; i < t->n_rcpt; i++)
        if (smtp_result_set_rcpt(t->result, i, env->recipients[i].address) < 0)
            goto oom;

    int dsn = (e->caps & SMTPCORE_CAP_DSN) != 0;
    /* Every line is formatted before the first transcript callback runs:
     * a callback may do anything to the caller's data (a binding's user code
     * could even rebuild the message the envelope points into), so nothing
     * in env is read after it. The lines go into scratch, NUL-separated. */
    sc_buf *lines = &e->scratch;
    sc_buf_reset(lines);
    if (smtp_format_mail(lines, env, e->caps & SMTPCORE_CAP_SIZE ? size_hint : 0,
                         eight_bit != 0 && (e->caps & SMTPCORE_CAP_8BITMIME), utf8, dsn) < 0 ||
        sc_buf_append(lines, "", 1) < 0)
        goto oom;
    for (size_t i = 0; i < t->n_rcpt; i++) {
        size_t start = sc_buf_size(lines);
        if (smtp_format_rcpt(lines, &env->recipients[i], dsn) < 0 || sc_buf_append(lines, "", 1) < 0)
            goto oom;
        /* Without PIPELINING they go one at a time, each after the previous reply. */
        if (!t->pipelined && !(t->rcpt_lines[i] = strdup(sc_buf_ptr(lines) + start)))
            goto oom;
    }
    int dsn_dropped = !dsn && (env->dsn_ret || env->dsn_envid);

    if (dsn_dropped)
        eng_info(e, "the server does not offer DSN; delivery status options left out");
    e->phase = PH_TXN;
    if (separator)
        eng_send_cmd(e, CMD_RSET_SEP, slot, 0, "RSET", NULL);
    const char *line = sc_buf_ptr(lines);
    eng_send_cmd(e, CMD_MAIL, slot, 0, line, NULL);
    for (size_t i = 0; t->pipelined && i < t->n_rcpt && e->phase != PH_FAILED; i++) {
        /* RFC 2920: the whole envelope in one write. */
        line += strlen(line) + 1;
        eng_send_cmd(e, CMD_RCPT, slot, i, line, NULL);
    }
    if (t->pipelined && !t->all_or_nothing && e->phase != PH_FAILED) {
        /* DATA goes with the envelope unless every RCPT reply must be seen first. */
        if (t->chunking)
            start_body(e, t, BODY_BDAT);
        else
            eng_send_cmd(e, CMD_DATA, slot, 0, "DATA", NULL);
    }
    if (e->phase == PH_FAILED) {
        sc_err_copy(err, &e->err);
        return -1;
    }
    return 0;
oom:
    txn_clear(t);
    e->t_count--;
    return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
}

/* ---- body ---- */

static int emit_bdat(smtp_engine *e, txn *t, int last)
{
    char head[64];
    size_t n = sc_buf_size(&e->chunk);
    snprintf(head, sizeof head, "BDAT %zu%s", n, last ? " LAST" : "");
    if (eng_send_cmd(e, last ? CMD_BDAT_LAST : CMD_BDAT, slot_of(e, t), 0, head, NULL) < 0)
        return -1;
    if (eng_send_raw(e, sc_buf_ptr(&e->chunk), n) < 0)
        return -1;
    sc_buf_reset(&e->chunk);
    return 0;
}

static txn *body_txn(smtp_engine *e)
{
    txn *t = txn_newest(e);
    if (e->phase != PH_TXN || !t || !t->body_wanted || t->body_ended)
        return NULL;
    return t;
}

int smtp_engine_body(smtp_engine *e, const char *data, size_t n)
{
    txn *t = body_txn(e);
    if (!t)
        return -1;
    if (t->body == BODY_DATA) {
        if (smtp_body_encoder_write(&e->enc, data, n, &e->out) < 0) {
            eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
            return -1;
        }
        return 0;
    }
    if (smtp_body_encoder_write(&e->enc, data, n, &e->chunk) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return -1;
    }
    if (sc_buf_size(&e->chunk) >= e->opts.bdat_chunk_size)
        return emit_bdat(e, t, 0);
    return 0;
}

int smtp_engine_body_end(smtp_engine *e)
{
    txn *t = body_txn(e);
    if (!t)
        return -1;
    t->body_ended = 1;
    sc_buf *dst = t->body == BODY_DATA ? &e->out : &e->chunk;
    if (smtp_body_encoder_finish(&e->enc, dst) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return -1;
    }
    eng_info(e, "<message body: %llu bytes>", (unsigned long long)e->enc.bytes_out);
    if (t->body == BODY_DATA) {
        eng_transcript(e, SMTPCORE_DIR_CLIENT, ".", 1);
        return eng_expect(e, CMD_DATA_END, slot_of(e, t), 0);
    }
    return emit_bdat(e, t, 1);
}

void smtp_engine_body_abort(smtp_engine *e, const smtpcore_error *cause)
{
    txn *t = txn_newest(e);
    if (e->phase != PH_TXN || !t || t->done)
        return;
    if (t->body == BODY_DATA) {
        /* After DATA's 354 any end of data would deliver a truncated
         * message: dropping the connection is the only safe abort. */
        eng_fail_with(e, cause);
        return;
    }
    /* BDAT without LAST: RSET makes the server discard the chunks so far
     * (RFC 3030 section 4). */
    t->body_ended = 1;
    sc_buf_reset(&e->chunk);
    if (!t->failed) {
        t->failed = 1;
        sc_err_copy(&t->err, cause);
    }
    txn_maybe_finish(e, t);
}

/* ---- results ---- */

int smtp_engine_result_ready(const smtp_engine *e)
{
    return e->t_count && e->txns[e->t_head].done;
}

int smtp_engine_take_result(smtp_engine *e, smtpcore_result **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!e->t_count)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no transaction");
    txn *t = &e->txns[e->t_head];
    int rc = 0;
    if (t->final_ok && !t->failed) {
        /* The server accepted the message; whatever went wrong afterwards
         * (a stray reply, a dropped connection) does not change that, and
         * reporting a failure would invite a duplicate resend. */
        rc = 0;
    } else if (e->phase == PH_FAILED) {
        sc_err_copy(err, t->failed ? &t->err : &e->err);
        rc = -1;
    } else if (!t->done) {
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the transaction has not finished");
    } else {
        sc_err_copy(err, &t->err);
        rc = -1;
    }
    if (out) {
        *out = t->result;
        t->result = NULL;
    }
    txn_clear(t);
    e->t_head = (e->t_head + 1) % TXN_RING;
    e->t_count--;
    return rc;
}
