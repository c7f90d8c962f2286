/* The SMTP client protocol engine, sans I/O.
 *
 * The engine never touches a socket. The driver loop is:
 *
 *     for (;;) {
 *         write out smtp_engine_output() and smtp_engine_consume_output();
 *         switch (smtp_engine_want(e)) {
 *         case SMTP_WANT_READ: read bytes, smtp_engine_feed(); break;
 *         case SMTP_WANT_TLS:  handshake, smtp_engine_tls_started(); break;
 *         case SMTP_WANT_BODY: smtp_engine_body() / smtp_engine_body_end(); break;
 *         case SMTP_WANT_NOTHING: the step is done (session ready, message done);
 *         case SMTP_WANT_CLOSE: fatal error or QUIT sent: close the connection.
 *         }
 *     }
 *
 * One state per phase and one handler per reply kind (as in curl's smtp.c);
 * commands awaiting replies wait in a FIFO so that pipelining (RFC 2920) is
 * just "queue several before reading". */
#ifndef SMTP_ENGINE_H
#define SMTP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp/sasl.h"
#include "smtpcore.h"

typedef struct smtp_engine_opts {
    smtpcore_security security;
    const char *ehlo_name;          /* required */
    const char *username;           /* NULL: no AUTH */
    const char *password;
    const char *oauth2_token;
    smtp_sasl_mech mechanism;       /* SMTP_SASL_NONE: strongest offered */
    int allow_plaintext_auth;
    int use_pipelining;             /* use PIPELINING when offered */
    int use_chunking;               /* use CHUNKING (BDAT) when offered */
    int all_or_nothing;
    size_t bdat_chunk_size;         /* 0: default (256 KiB) */
    unsigned pipeline_depth;        /* most messages unanswered at once with PIPELINING; 0: default (32) */
    int manual;                     /* step by step (smtplib style): after the greeting the engine
                                       waits for smtp_engine_ehlo/starttls/auth; failed steps are
                                       reported by smtp_engine_take_simple_result, not fatal */
    smtpcore_transcript_fn transcript;
    void *transcript_userdata;
} smtp_engine_opts;

typedef enum smtp_want {
    SMTP_WANT_READ = 1,
    SMTP_WANT_TLS,
    SMTP_WANT_BODY,
    SMTP_WANT_NOTHING,
    SMTP_WANT_CLOSE
} smtp_want;

typedef struct smtp_engine smtp_engine;

/* The most transactions begun and not yet taken (smtp_engine_can_begin
 * says no beyond it): a driver can keep their bookkeeping in an array. */
#define SMTP_ENGINE_MAX_TXNS 64

/* Copies the strings in opts. tls_active: 1 when the connection is already
 * encrypted (implicit TLS). NULL on out of memory or invalid options (err). */
smtp_engine *smtp_engine_new(const smtp_engine_opts *opts, int tls_active, smtpcore_error *err);
void smtp_engine_free(smtp_engine *e);

smtp_want smtp_engine_want(const smtp_engine *e);

/* Bytes to send now. */
const char *smtp_engine_output(const smtp_engine *e, size_t *len);
void smtp_engine_consume_output(smtp_engine *e, size_t n);

/* Server bytes. Processes every complete reply. Returns 0, or -1 once the
 * engine has failed (the error is in smtp_engine_error). */
int smtp_engine_feed(smtp_engine *e, const char *data, size_t len);

/* The connection closed (EOF) or broke; `what` is a short reason. Makes the
 * engine fail unless it was expecting the close (after QUIT). */
void smtp_engine_connection_lost(smtp_engine *e, const smtpcore_error *cause);

/* The TLS handshake that SMTP_WANT_TLS asked for has completed. Discards any
 * bytes received before it and sends EHLO again. */
void smtp_engine_tls_started(smtp_engine *e);
/* The handshake failed: the engine fails with this error. */
void smtp_engine_fail(smtp_engine *e, const smtpcore_error *cause);

/* The fatal error, or NULL while the engine is healthy. */
const smtpcore_error *smtp_engine_error(const smtp_engine *e);

/* ---- after the session is open (want == SMTP_WANT_NOTHING) ---- */

/* Capabilities and the EHLO reply. */
unsigned smtp_engine_caps(const smtp_engine *e);
uint64_t smtp_engine_max_size(const smtp_engine *e);
const char *smtp_engine_ehlo_text(const smtp_engine *e);            /* lines now in force */
const char *smtp_engine_ehlo_text_before_tls(const smtp_engine *e); /* NULL if no STARTTLS */
const char *smtp_engine_greeting(const smtp_engine *e);
const char *smtp_engine_auth_mechanism(const smtp_engine *e);       /* NULL if no AUTH */
int smtp_engine_tls_active(const smtp_engine *e);

/* Whether smtp_engine_begin_message may be called now: the session is idle,
 * or (PIPELINING) the newest message has sent all its data, did not fail,
 * and fewer than the pipeline depth are unanswered. A message begun while
 * others are in flight is pipelined behind them. */
int smtp_engine_can_begin(const smtp_engine *e);

/* Start a transaction. eight_bit: 1 yes, 0 no, -1 unknown. size_hint 0 if
 * unknown. Refuses (usage/size error, nothing queued) input that could
 * change the protocol or that the server cannot take. Returns 0 or -1. */
int smtp_engine_begin_message(smtp_engine *e, const smtpcore_envelope *env, int eight_bit, uint64_t size_hint,
                              smtpcore_error *err);

/* The newest message may still want body bytes (before DATA's 354 too);
 * 0 once its body ended or it failed. */
int smtp_engine_body_pending(const smtp_engine *e);

/* Body bytes (only while want == SMTP_WANT_BODY). Returns 0 or -1 (OOM). */
int smtp_engine_body(smtp_engine *e, const char *data, size_t n);
int smtp_engine_body_end(smtp_engine *e);
/* The body source failed: nothing may be claimed sent. With BDAT the
 * transaction is reset; with DATA the only safe way out is to drop the
 * connection, so the engine fails. */
void smtp_engine_body_abort(smtp_engine *e, const smtpcore_error *cause);

/* The oldest transaction not yet taken has finished (always true for every
 * one begun once want is SMTP_WANT_NOTHING or SMTP_WANT_CLOSE). */
int smtp_engine_result_ready(const smtp_engine *e);

/* Take the oldest finished transaction's per-recipient result (ownership
 * passes to the caller) and whether it succeeded. Returns 0 if the message
 * was accepted, -1 with err filled otherwise. Results come out in the order
 * the messages were begun. */
int smtp_engine_take_result(smtp_engine *e, smtpcore_result **out, smtpcore_error *err);

/* Simple commands while idle. */
int smtp_engine_noop(smtp_engine *e);
int smtp_engine_rset(smtp_engine *e);
/* The reply to the last NOOP/RSET: 0 if 2xx, else -1 with err. */
int smtp_engine_take_simple_result(smtp_engine *e, smtpcore_error *err);
/* Manual mode steps (each ends with SMTP_WANT_NOTHING, then
 * smtp_engine_take_simple_result). name NULL: the configured EHLO name. */
int smtp_engine_ehlo(smtp_engine *e, const char *name);
int smtp_engine_starttls(smtp_engine *e);
/* mechanism SMTP_SASL_NONE: the strongest offered. secret: the password, or the token for XOAUTH2. */
int smtp_engine_auth(smtp_engine *e, smtp_sasl_mech mechanism, const char *user, const char *secret);
/* The last reply the server sent (code 0 before any). */
int smtp_engine_last_code(const smtp_engine *e);
const char *smtp_engine_last_text(const smtp_engine *e);

/* Queue QUIT; afterwards the engine wants to close. */
void smtp_engine_quit(smtp_engine *e);

/* Counters for tests and benchmarks. */
typedef struct smtp_engine_stats {
    unsigned long commands;  /* commands queued */
    unsigned long replies;   /* replies handled */
} smtp_engine_stats;
const smtp_engine_stats *smtp_engine_get_stats(const smtp_engine *e);

#endif
