/* What engine.c (session set-up, replies, simple commands) and
 * transaction.c (MAIL/RCPT/DATA/BDAT, several messages in flight) share.
 * Nothing outside csrc/smtp/ includes this. */
#ifndef SMTP_ENGINE_INTERNAL_H
#define SMTP_ENGINE_INTERNAL_H

#include <stdarg.h>

#include "smtp/body_encoder.h"
#include "smtp/engine.h"
#include "smtp/reply.h"
#include "util/buf.h"

#define DEFAULT_BDAT_CHUNK (256 * 1024)
/* Transactions begun and not yet taken: the most messages in flight at once
 * (each costs a few reply lines in our receive buffer, so a deep pipeline
 * cannot fill it and deadlock against a server that waits for us to read). */
#define TXN_RING SMTP_ENGINE_MAX_TXNS
#define DEFAULT_PIPELINE_DEPTH 32
#define NO_TXN ((unsigned)-1)

typedef enum cmd_kind {
    CMD_GREETING,
    CMD_EHLO,
    CMD_HELO,
    CMD_STARTTLS,
    CMD_AUTH,
    CMD_MAIL,
    CMD_RCPT,
    CMD_DATA,
    CMD_DATA_END,
    CMD_BDAT,
    CMD_BDAT_LAST,
    CMD_RSET,       /* a caller's RSET, or a failed transaction's clean-up */
    CMD_RSET_SEP,   /* clears whatever state the message before left (pipelined after BDAT LAST) */
    CMD_NOOP,
    CMD_QUIT
} cmd_kind;

typedef struct pending_cmd {
    cmd_kind kind;
    unsigned slot; /* the transaction's ring slot, NO_TXN for session commands */
    size_t index;  /* recipient index for CMD_RCPT */
} pending_cmd;

typedef enum phase {
    PH_GREETING,
    PH_EHLO,
    PH_STARTTLS,
    PH_TLS,
    PH_AUTH,
    PH_IDLE,
    PH_TXN,    /* at least one transaction has not finished */
    PH_SIMPLE,
    PH_QUIT,
    PH_FAILED
} phase;

typedef enum body_mode { BODY_NONE, BODY_DATA, BODY_BDAT } body_mode;

typedef struct txn {
    int done;                /* every reply in; the result may be taken */
    int pipelined;
    int chunking;
    int all_or_nothing;
    size_t outstanding;      /* its commands still awaiting a reply */
    smtpcore_result *result;
    unsigned char *rcpt_ok;
    char **rcpt_lines;       /* RCPT commands, kept for the non-pipelined path */
    size_t n_rcpt;
    size_t rcpt_replies;
    size_t accepted;
    int envelope_decided;    /* all RCPT replies seen and judged */
    body_mode body;
    int body_wanted;
    int body_ended;
    int final_ok;
    int failed;
    smtpcore_error err;
    int rset_sent;
} txn;

struct smtp_engine {
    smtp_engine_opts opts;   /* strings below are owned copies */
    char *ehlo_name, *username, *password, *oauth2_token;

    phase phase;
    int tls_active;
    int tried_starttls;
    sc_buf out;
    smtp_reply_parser parser;
    smtp_reply reply;

    pending_cmd *queue;      /* FIFO of commands awaiting a reply */
    size_t q_head, q_len, q_cap;

    unsigned caps;
    uint64_t max_size;
    char *auth_offered;
    char *greeting;
    char *ehlo_text;
    char *ehlo_text_before_tls;
    const char *auth_used;
    smtp_sasl *sasl;

    /* Transactions in the order they were begun: t_head is the oldest (the
     * next result to take), the newest is the only one that takes body bytes. */
    txn txns[TXN_RING];
    unsigned t_head, t_count;
    smtp_body_encoder enc;   /* the newest transaction's body */
    sc_buf chunk;            /* BDAT data not yet framed */
    sc_buf scratch;          /* command lines being formatted */

    int simple_done;
    smtpcore_error simple_err;
    smtpcore_error auth_cancel;  /* manual mode: why an AUTH exchange was cancelled */
    int last_code;
    sc_buf last_text;        /* NUL-terminated once a reply came */

    smtpcore_error err;      /* fatal error; category != OK once failed */
    smtp_engine_stats stats;
};

/* ---- engine.c, for transaction.c ---- */
void eng_transcript(smtp_engine *e, smtpcore_dir dir, const char *line, size_t len);
void eng_info(smtp_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_record_error(smtpcore_error *dst, smtpcore_category cat, const smtp_reply *r, char *msg, size_t size,
                      const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
void eng_fail(smtp_engine *e, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void eng_fail_with(smtp_engine *e, const smtpcore_error *cause);
/* Queue a command line (without CRLF) that expects one reply; `shown` is what
 * the transcript gets instead of the line (secrets), or NULL. 0 or -1 (OOM,
 * the engine has failed). */
int eng_send_cmd(smtp_engine *e, cmd_kind kind, unsigned slot, size_t index, const char *line, const char *shown);
int eng_send_raw(smtp_engine *e, const char *p, size_t n);
int eng_expect(smtp_engine *e, cmd_kind kind, unsigned slot, size_t index); /* a reply with no line of its own */
int eng_is_2xx(const smtp_reply *r);
smtpcore_category eng_classify(const smtp_reply *r, smtpcore_category dflt);

/* ---- transaction.c, for engine.c ---- */
void txn_ring_free(smtp_engine *e);
/* A reply to one of a transaction's commands. */
void txn_on_reply(smtp_engine *e, pending_cmd c, const smtp_reply *r);
/* 421: every transaction not yet accepted fails with this reply. */
void txn_fail_in_flight(smtp_engine *e, smtpcore_category cat, const smtp_reply *r);
/* The engine failed: every transaction in flight is over. */
void txn_engine_failed(smtp_engine *e);
/* Transactions begun and not finished. */
int txn_any_unfinished(const smtp_engine *e);
/* The newest transaction wants body bytes now. */
int txn_wants_body(const smtp_engine *e);

#endif
