/* Sending message descriptions through a session: the server's EHLO
 * decides 8BITMIME and SMTPUTF8, the renderer gives the exact size, and the
 * body streams from the reader. In a batch each message is prepared only
 * when its turn comes, so one reader (and its open file) exists at a time. */
#include <stdlib.h>

#include "client/session_internal.h"
#include "mime/message.h"
#include "util/error.h"

typedef struct message_batch {
    smtpcore_message *const *msgs;
    unsigned caps;
    smtpcore_send_outcome *out;
    /* The message being sent now. */
    smtpcore_message_reader *reader;
    smtpcore_error read_err;    /* why its reader failed, if it did */
    smtpcore_recipient *rcpts;
    size_t rcpt_cap;
    smtpcore_envelope env;
    size_t reader_item;
} message_batch;

static long long read_message(void *ctx, char *buf, size_t n)
{
    message_batch *b = ctx;
    return smtpcore_message_reader_read(b->reader, buf, n, &b->read_err);
}

static int prepare_message(void *ctx, size_t i, const smtpcore_envelope **env, smtpcore_source *src,
                           smtpcore_error *err)
{
    message_batch *b = ctx;
    smtpcore_message *m = b->msgs[i];
    if (!m)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message");
    unsigned flags = (b->caps & SMTPCORE_CAP_8BITMIME) ? SMTPCORE_RENDER_8BIT : 0;
    if (mime_message_needs_smtputf8(m)) {
        if (!(b->caps & SMTPCORE_CAP_SMTPUTF8))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "an address has non-ASCII characters before the @, which needs SMTPUTF8 "
                              "(RFC 6531), and the server does not offer it");
        flags |= SMTPCORE_RENDER_SMTPUTF8;
    }
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(m, flags, &sender, &rcpts, &n, err) < 0)
        return -1;
    if (n > b->rcpt_cap) {
        smtpcore_recipient *r = realloc(b->rcpts, n * sizeof *r);
        if (!r)
            return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        b->rcpts = r;
        b->rcpt_cap = n;
    }
    for (size_t k = 0; k < n; k++)
        b->rcpts[k] = (smtpcore_recipient){.address = rcpts[k]};
    b->env = (smtpcore_envelope){.sender = sender, .recipients = b->rcpts, .n_recipients = n, .all_or_nothing = -1};
    smtpcore_error_clear(&b->read_err);
    b->reader = smtpcore_message_reader_new(m, flags, err);
    if (!b->reader)
        return -1;
    b->reader_item = i;
    *env = &b->env;
    *src = (smtpcore_source){.read = read_message, .ctx = b, .size_hint = smtpcore_message_reader_size(b->reader),
                             .eight_bit = mime_reader_eight_bit(b->reader)};
    return 0;
}

static void release_message(void *ctx, size_t i)
{
    message_batch *b = ctx;
    if (!b->reader || b->reader_item != i)
        return;
    smtpcore_message_reader_free(b->reader);
    b->reader = NULL;
    /* Kept in the item's outcome until message_done: a reader failure is the
     * real cause of the local error the send will report. */
    if (b->read_err.category != SMTPCORE_OK) {
        b->out[i].error = b->read_err;
        b->read_err = (smtpcore_error){0};
    }
}

static void message_done(void *ctx, size_t i, int rc, smtpcore_result *result, smtpcore_error *err)
{
    message_batch *b = ctx;
    smtpcore_send_outcome *o = &b->out[i];
    smtpcore_error read_err = o->error; /* stashed by release_message, if the reader failed */
    o->status = rc;
    o->result = result;
    /* A failure inside the renderer (a file that changed) is the real cause. */
    if (rc < 0 && read_err.category != SMTPCORE_OK && err->category == SMTPCORE_ERR_LOCAL) {
        o->error = read_err;
        smtpcore_error_clear(err);
    } else {
        o->error = *err;
        *err = (smtpcore_error){0};
        smtpcore_error_clear(&read_err);
    }
}

static const sc_batch_ops message_ops = {prepare_message, release_message, message_done};

size_t smtpcore_session_send_messages(smtpcore_session *s, smtpcore_message *const *msgs, size_t n,
                                      smtpcore_send_outcome *out)
{
    if (!out)
        return 0;
    if (!s || (n && !msgs)) {
        for (size_t i = 0; i < n; i++) {
            out[i] = (smtpcore_send_outcome){.status = -1};
            sc_err_set(&out[i].error, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no session or no messages");
        }
        return 0;
    }
    message_batch b = {.msgs = msgs, .out = out};
    b.caps = smtpcore_session_get_info(s)->capabilities;
    for (size_t i = 0; i < n; i++)
        out[i] = (smtpcore_send_outcome){0}; /* release_message may stash an error before message_done */
    size_t accepted = sc_session_run_batch(s, n, &message_ops, &b);
    free(b.rcpts);
    smtpcore_error_clear(&b.read_err);
    if (b.reader)
        smtpcore_message_reader_free(b.reader);
    return accepted;
}

int smtpcore_session_send_message(smtpcore_session *s, smtpcore_message *m, smtpcore_result **out,
                                  smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!s || !m)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no session or no message");
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    smtpcore_send_outcome o = {0};
    smtpcore_session_send_messages(s, &m, 1, &o);
    return sc_outcome_unpack(&o, out, err);
}
