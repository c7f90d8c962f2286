/* What the pool needs to know about a session beyond the public API. */
#ifndef CLIENT_SESSION_INTERNAL_H
#define CLIENT_SESSION_INTERNAL_H

#include "smtpcore.h"

/* 1 once the connection failed; every later call would fail. */
int sc_session_is_dead(const smtpcore_session *s);

#endif
