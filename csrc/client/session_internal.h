/* What the pool needs to know about a session beyond the public API. */
#ifndef CLIENT_SESSION_INTERNAL_H
#define CLIENT_SESSION_INTERNAL_H

#include "net/conn.h"
#include "smtpcore.h"

/* 1 once the connection failed; every later call would fail. */
int sc_session_is_dead(const smtpcore_session *s);

/* The TLS context a configuration asks for (trust store, client certificate). */
net_tls_ctx *sc_config_tls_ctx(const smtpcore_config *cfg, smtpcore_error *err);

/* smtpcore_session_open with a TLS context shared by many sessions (a pool):
 * the trust store is loaded once, not per connection. */
smtpcore_session *sc_session_open_shared(const smtpcore_config *cfg, net_tls_ctx *tls, smtpcore_error *err);

#endif
