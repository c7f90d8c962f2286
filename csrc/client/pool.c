/* A pool of sessions shared by threads: a mutex guards the slots, a
 * condition variable wakes threads waiting for a free connection. Network
 * I/O (connect, send, QUIT) always happens outside the lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "client/config.h"
#include "client/session_internal.h"
#include "net/conn.h"
#include "util/error.h"

typedef enum slot_state { SLOT_EMPTY, SLOT_OPENING, SLOT_IDLE, SLOT_BUSY } slot_state;

typedef struct slot {
    slot_state state;
    smtpcore_session *session;
    size_t sent;
    long long last_used;
} slot;

struct smtpcore_pool {
    smtpcore_config *cfg;
    net_tls_ctx *tls;      /* one trust store for every connection (NULL without TLS) */
    smtpcore_pool_options opts;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    slot *slots;
};

smtpcore_pool *smtpcore_pool_new(const smtpcore_config *cfg, const smtpcore_pool_options *opts, smtpcore_error *err)
{
    if (!cfg) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no configuration");
        return NULL;
    }
    smtpcore_pool *p = calloc(1, sizeof *p);
    if (!p) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    if (opts)
        p->opts = *opts;
    if (!p->opts.max_connections)
        p->opts.max_connections = 4;
    if (!p->opts.max_messages_per_connection)
        p->opts.max_messages_per_connection = 100;
    if (p->opts.idle_timeout_ms <= 0)
        p->opts.idle_timeout_ms = 30000;
    if (p->opts.max_connections > 1024) {
        free(p);
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "max_connections must be at most 1024");
        return NULL;
    }
    p->cfg = smtpcore_config_copy(cfg);
    p->slots = calloc(p->opts.max_connections, sizeof *p->slots);
    if (!p->cfg || !p->slots || pthread_mutex_init(&p->lock, NULL) != 0) {
        smtpcore_config_free(p->cfg);
        free(p->slots);
        free(p);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    if (p->cfg->security != SMTPCORE_SECURITY_NONE && !(p->tls = sc_config_tls_ctx(p->cfg, err))) {
        /* A bad CA file or client certificate is reported now, not at the first send. */
        pthread_mutex_destroy(&p->lock);
        smtpcore_config_free(p->cfg);
        free(p->slots);
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->freed, NULL) != 0) {
        net_tls_ctx_unref(p->tls);
        pthread_mutex_destroy(&p->lock);
        smtpcore_config_free(p->cfg);
        free(p->slots);
        free(p);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "cannot create a condition variable");
        return NULL;
    }
    return p;
}

/* Take a connection: an idle one, else a new one if there is room, else wait.
 * Returns the slot index, or -1 with err. *reused tells whether the session
 * had already been used (so the server may have dropped it meanwhile). */
static long acquire(smtpcore_pool *p, int *reused, smtpcore_error *err)
{
    pthread_mutex_lock(&p->lock);
    for (;;) {
        long long now = net_now_ms();
        long empty = -1;
        for (size_t i = 0; i < p->opts.max_connections; i++) {
            slot *s = &p->slots[i];
            if (s->state == SLOT_IDLE && now - s->last_used > p->opts.idle_timeout_ms) {
                smtpcore_session *old = s->session;
                s->session = NULL;
                s->state = SLOT_EMPTY;
                pthread_mutex_unlock(&p->lock);
                smtpcore_session_close(old);
                pthread_mutex_lock(&p->lock);
                i = (size_t)-1; /* the slots may have changed while unlocked: look again */
                continue;
            }
            if (s->state == SLOT_IDLE) {
                s->state = SLOT_BUSY;
                *reused = 1;
                pthread_mutex_unlock(&p->lock);
                return (long)i;
            }
            if (s->state == SLOT_EMPTY && empty < 0)
                empty = (long)i;
        }
        if (empty >= 0) {
            slot *s = &p->slots[empty];
            s->state = SLOT_OPENING;
            pthread_mutex_unlock(&p->lock);
            smtpcore_session *session = sc_session_open_shared(p->cfg, p->tls, err);
            pthread_mutex_lock(&p->lock);
            if (!session) {
                s->state = SLOT_EMPTY;
                pthread_cond_signal(&p->freed);
                pthread_mutex_unlock(&p->lock);
                return -1;
            }
            s->session = session;
            s->state = SLOT_BUSY;
            s->sent = 0;
            *reused = 0;
            pthread_mutex_unlock(&p->lock);
            return empty;
        }
        pthread_cond_wait(&p->freed, &p->lock);
    }
}

/* Give slot i back after `messages` sends on it. */
static void release(smtpcore_pool *p, long i, size_t messages)
{
    slot *s = &p->slots[i];
    smtpcore_session *to_close = NULL;
    pthread_mutex_lock(&p->lock);
    s->sent += messages;
    if (sc_session_is_dead(s->session) || s->sent >= p->opts.max_messages_per_connection) {
        to_close = s->session;
        s->session = NULL;
        s->state = SLOT_EMPTY;
    } else {
        s->state = SLOT_IDLE;
        s->last_used = net_now_ms();
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
    smtpcore_session_close(to_close);
}

/* Counts what the message source gave, so a retry is known to be safe. */
struct counting_source {
    const smtpcore_source *inner;
    unsigned long long bytes;
};

static long long counting_read(void *ctx, char *buf, size_t n)
{
    struct counting_source *c = ctx;
    long long got = c->inner->read(c->inner->ctx, buf, n);
    if (got > 0)
        c->bytes += (unsigned long long)got;
    return got;
}

static int nothing_accepted(const smtpcore_result *r)
{
    for (size_t i = 0; r && i < smtpcore_result_count(r); i++)
        if (smtpcore_result_get(r, i)->code != 0)
            return 0;
    return 1;
}

typedef int (*send_fn)(smtpcore_session *s, void *arg, smtpcore_result **out, smtpcore_error *err, int *retry_safe);

static int pool_run(smtpcore_pool *p, send_fn fn, void *arg, smtpcore_result **out, smtpcore_error *err)
{
    if (!p)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no pool");
    for (int attempt = 0;; attempt++) {
        int reused = 0;
        long i = acquire(p, &reused, err);
        if (i < 0)
            return -1;
        int retry_safe = 0;
        smtpcore_result *res = NULL;
        int rc = fn(p->slots[i].session, arg, &res, err, &retry_safe);
        int dead = sc_session_is_dead(p->slots[i].session);
        release(p, i, 1);
        /* A reused connection the server had closed meanwhile fails before
         * anything is accepted: one more try on a fresh connection. */
        if (rc < 0 && attempt == 0 && reused && dead && retry_safe && nothing_accepted(res)) {
            smtpcore_result_free(res);
            smtpcore_error_clear(err);
            continue;
        }
        if (out)
            *out = res;
        else
            smtpcore_result_free(res);
        return rc;
    }
}

struct raw_args {
    const smtpcore_envelope *env;
    const smtpcore_source *src;
};

static int send_raw_message(smtpcore_session *s, void *arg, smtpcore_result **out, smtpcore_error *err,
                            int *retry_safe)
{
    struct raw_args *a = arg;
    struct counting_source c = {a->src, 0};
    smtpcore_source src = *a->src;
    src.read = counting_read;
    src.ctx = &c;
    int rc = smtpcore_session_send(s, a->env, &src, out, err);
    *retry_safe = c.bytes == 0; /* the source cannot be rewound */
    return rc;
}

static int send_described(smtpcore_session *s, void *arg, smtpcore_result **out, smtpcore_error *err,
                          int *retry_safe)
{
    *retry_safe = 1; /* the message is rendered afresh on each try */
    return smtpcore_session_send_message(s, arg, out, err);
}

int smtpcore_pool_send(smtpcore_pool *p, const smtpcore_envelope *env, const smtpcore_source *src,
                       smtpcore_result **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!src || !src->read)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message source");
    if (smtpcore_envelope_check(env, err) < 0)
        return -1;
    struct raw_args a = {env, src};
    return pool_run(p, send_raw_message, &a, out, err);
}

int smtpcore_pool_send_message(smtpcore_pool *p, smtpcore_message *m, smtpcore_result **out, smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!m)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message");
    /* A message without From or recipients fails here, before connecting. */
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(m, SMTPCORE_RENDER_SMTPUTF8, &sender, &rcpts, &n, err) < 0)
        return -1;
    return pool_run(p, send_described, m, out, err);
}

size_t smtpcore_pool_send_messages(smtpcore_pool *p, smtpcore_message *const *msgs, size_t n,
                                   smtpcore_send_outcome *out)
{
    if (!out)
        return 0;
    smtpcore_error err = {0};
    for (int attempt = 0; p; attempt++) {
        int reused = 0;
        long i = acquire(p, &reused, &err);
        if (i < 0)
            break;
        size_t accepted = smtpcore_session_send_messages(p->slots[i].session, msgs, n, out);
        int dead = sc_session_is_dead(p->slots[i].session);
        release(p, i, n);
        /* As for one message: a reused connection the server had closed
         * meanwhile fails before anything is accepted (every message is
         * rendered afresh, so trying again on a fresh connection is safe). */
        int untouched = accepted == 0;
        for (size_t k = 0; untouched && k < n; k++)
            untouched = nothing_accepted(out[k].result);
        if (!(attempt == 0 && reused && dead && untouched && n))
            return accepted;
        for (size_t k = 0; k < n; k++)
            smtpcore_send_outcome_clear(&out[k]);
    }
    /* No pool or no connection: every message fails with why. */
    if (!p)
        sc_err_set(&err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no pool");
    for (size_t k = 0; k < n; k++) {
        out[k] = (smtpcore_send_outcome){.status = -1};
        sc_err_copy(&out[k].error, &err);
    }
    smtpcore_error_clear(&err);
    return 0;
}

size_t smtpcore_pool_connections(smtpcore_pool *p)
{
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->opts.max_connections; i++)
        n += p->slots[i].state == SLOT_IDLE || p->slots[i].state == SLOT_BUSY;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void smtpcore_pool_free(smtpcore_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->opts.max_connections; i++)
        smtpcore_session_close(p->slots[i].session);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    net_tls_ctx_unref(p->tls);
    smtpcore_config_free(p->cfg);
    free(p->slots);
    free(p);
}
