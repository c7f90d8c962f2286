/* What the pool needs to know about a session beyond the public API. */
#ifndef CLIENT_SESSION_INTERNAL_H
#define CLIENT_SESSION_INTERNAL_H

#include "net/conn.h"
#include "smtp/engine.h"
#include "smtpcore.h"

/* Body bytes are read from a source this many at a time. */
#define SC_BODY_CHUNK 65536

/* 1 once the connection failed; every later call would fail. */
int sc_session_is_dead(const smtpcore_session *s);

/* The TLS context a configuration asks for (trust store, client certificate),
 * shared through a process-wide cache (client/tls_cache.c); unref when done. */
net_tls_ctx *sc_config_tls_ctx(const smtpcore_config *cfg, smtpcore_error *err);

/* smtpcore_session_open with a TLS context shared by many sessions (a pool):
 * the trust store is loaded once, not per connection. */
smtpcore_session *sc_session_open_shared(const smtpcore_config *cfg, net_tls_ctx *tls, smtpcore_error *err);

/* ---- for the send driver (client/send.c) ---- */
smtp_engine *sc_session_engine(smtpcore_session *s);
/* The buffer body bytes are read into (SC_BODY_CHUNK bytes), NULL if out of memory. */
char *sc_session_body_buf(smtpcore_session *s);
/* 0 if the session can be used, else -1 with the error that ended it. */
int sc_session_check_alive(smtpcore_session *s, smtpcore_error *err);
/* Run the engine until it wants body bytes (SMTP_WANT_BODY), is idle
 * (SMTP_WANT_NOTHING), must close (SMTP_WANT_CLOSE) or, when may_begin,
 * could begin another message (SMTP_WANT_NOTHING too): whatever is queued
 * then waits to share the next write. */
smtp_want sc_session_pump(smtpcore_session *s, int may_begin);
/* After a pump that returned SMTP_WANT_CLOSE: the session is dead. */
void sc_session_settle(smtpcore_session *s, smtp_want w);

/* One batch of messages through a session (client/send.c). The driver asks
 * for each message when it can begin it and reports each outcome in order. */
typedef struct sc_batch_ops {
    /* Item i is next: fill its envelope and source. -1 with err: it fails
     * and nothing of it is sent. */
    int (*prepare)(void *ctx, size_t i, const smtpcore_envelope **env, smtpcore_source *src, smtpcore_error *err);
    /* Item i's source is no longer read (its body ended, failed or was never begun). */
    void (*release)(void *ctx, size_t i);
    /* Item i's outcome: rc 0 accepted, -1 failed with err; result (may be
     * NULL) passes to the callee, err is cleared by the driver afterwards. */
    void (*done)(void *ctx, size_t i, int rc, smtpcore_result *result, smtpcore_error *err);
} sc_batch_ops;

/* Returns how many items were accepted. */
size_t sc_session_run_batch(smtpcore_session *s, size_t n, const sc_batch_ops *ops, void *ctx);

/* A one-message batch's outcome in the single-send form (result to *out,
 * error moved to *err); returns its status. */
int sc_outcome_unpack(smtpcore_send_outcome *o, smtpcore_result **out, smtpcore_error *err);

#endif
