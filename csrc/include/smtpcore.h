/*
 * smtpcore — send email over SMTP, fast and safely.
 *
 * This is the only header front ends include. Handles are opaque; every
 * create/open function has a matching free/close. A handle may be used from one
 * thread at a time. Functions that can fail return 0 on success and -1 on
 * failure, and fill the smtpcore_error the caller passes (which may be NULL).
 */
#ifndef SMTPCORE_H
#define SMTPCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SMTPCORE_VERSION "0.1.0"

const char *smtpcore_version(void);

/* ------------------------------------------------------------------ errors */

/* What kind of failure: front ends map each to an exception class. */
typedef enum smtpcore_category {
    SMTPCORE_OK = 0,
    SMTPCORE_ERR_CONNECT,   /* TCP connection refused, unreachable, reset */
    SMTPCORE_ERR_DNS,       /* host name did not resolve */
    SMTPCORE_ERR_TLS,       /* handshake, certificate, host name, STARTTLS missing in required mode */
    SMTPCORE_ERR_AUTH,      /* authentication refused or impossible */
    SMTPCORE_ERR_SENDER,    /* MAIL FROM refused */
    SMTPCORE_ERR_RECIPIENT, /* recipients refused (see the per-recipient results) */
    SMTPCORE_ERR_SIZE,      /* message too large for the server */
    SMTPCORE_ERR_RELAY,     /* relaying denied */
    SMTPCORE_ERR_TIMEOUT,   /* connect or reply timeout */
    SMTPCORE_ERR_PROTOCOL,  /* the server broke the protocol, closed early, or refused a command */
    SMTPCORE_ERR_LOCAL,     /* local failure: memory, file, source callback */
    SMTPCORE_ERR_USAGE      /* bad input from the caller; nothing was sent */
} smtpcore_category;

/* One error type for everything. Strings are owned by the struct: release
 * them with smtpcore_error_clear(). A zero-initialised struct is "no error". */
typedef struct smtpcore_error {
    smtpcore_category category;
    int code;               /* SMTP reply code, 0 if none */
    char enhanced[16];      /* RFC 3463 enhanced status code ("5.1.1"), "" if none */
    char *server_text;      /* the server's reply text (lines joined by '\n'), or NULL */
    char *message;          /* what went wrong, in our words (never NULL after a failure) */
    const char *hint;       /* static plain-language advice, or NULL */
} smtpcore_error;

void smtpcore_error_clear(smtpcore_error *err);
const char *smtpcore_category_name(smtpcore_category c); /* "auth", "tls", ... */

/* ------------------------------------------------------------------ config */

typedef enum smtpcore_security {
    SMTPCORE_SECURITY_STARTTLS = 0,   /* STARTTLS required (default) */
    SMTPCORE_SECURITY_TLS,            /* implicit TLS from the first byte (port 465) */
    SMTPCORE_SECURITY_OPPORTUNISTIC,  /* STARTTLS if offered, else clear text */
    SMTPCORE_SECURITY_NONE            /* never TLS */
} smtpcore_security;

typedef struct smtpcore_config smtpcore_config;

/* Direction of a transcript line. */
typedef enum smtpcore_dir { SMTPCORE_DIR_CLIENT = 0, SMTPCORE_DIR_SERVER = 1, SMTPCORE_DIR_INFO = 2 } smtpcore_dir;

/* Called once per protocol line (without CRLF), with AUTH payloads replaced by
 * "<redacted>". Message bodies are not passed, only a summary line. */
typedef void (*smtpcore_transcript_fn)(void *userdata, smtpcore_dir dir, const char *line, size_t len);

smtpcore_config *smtpcore_config_new(void);
void smtpcore_config_free(smtpcore_config *cfg);
smtpcore_config *smtpcore_config_copy(const smtpcore_config *src);

/* Set one option by name; the single entry point front ends use. Keys:
 *   preset            provider preset name (sets host, port, security; see smtpcore_presets)
 *   region            for presets whose host has "{region}" (amazon-ses: "eu-west-1")
 *   host, port        server; port 0 = the security mode's default (587, 465, 25)
 *   security          "starttls" | "tls" | "opportunistic" | "none"
 *   username, password
 *   oauth2_token      bearer token for XOAUTH2
 *   auth_mechanism    "PLAIN" | "LOGIN" | "CRAM-MD5" | "XOAUTH2" | "SCRAM-SHA-256" | "" (strongest offered)
 *   allow_plaintext_auth  "1" to allow AUTH without TLS (off by default)
 *   ehlo_name         name sent in EHLO/HELO (default: this machine's host name, else "localhost")
 *   connect_timeout   milliseconds (default 30000)
 *   timeout           per-reply timeout in milliseconds (default 60000)
 *   ca_file, ca_dir   trust anchors (default: the system store)
 *   client_cert, client_key  PEM files for a TLS client certificate
 *   tls_verify        "0" disables certificate and host-name checks (dangerous, for tests only)
 *   tls_server_name   name to verify and send as SNI instead of host
 *   pipelining        "0" never pipeline even if offered
 *   chunking          "0" never use BDAT even if offered
 *   pipeline_depth    most messages of a batch unanswered at once with PIPELINING (1-64, default 32;
 *                     1 waits for each message's reply before the next)
 *   all_or_nothing    "1": refuse to send unless every recipient is accepted
 * Returns 0, or -1 with a usage error (unknown key, bad value, CR/LF/NUL). */
int smtpcore_config_set(smtpcore_config *cfg, const char *key, const char *value, smtpcore_error *err);

void smtpcore_config_set_transcript(smtpcore_config *cfg, smtpcore_transcript_fn fn, void *userdata);

/* ------------------------------------------------------------------ presets */

typedef struct smtpcore_preset {
    const char *name;        /* "gmail" */
    const char *label;       /* "Gmail / Google Workspace" */
    const char *host;        /* may contain "{region}" for amazon-ses */
    int port;
    smtpcore_security security;
    const char *username_hint; /* user-name convention, e.g. "your full Gmail address" */
} smtpcore_preset;

/* NULL-terminated table of presets. */
const smtpcore_preset *const *smtpcore_presets(void);
const smtpcore_preset *smtpcore_preset_find(const char *name);

/* ------------------------------------------------------------------ sending */

typedef struct smtpcore_session smtpcore_session;

/* Connect, read the greeting, EHLO, STARTTLS as the security mode says, EHLO
 * again, and AUTH if credentials are set. Returns NULL on failure. */
smtpcore_session *smtpcore_session_open(const smtpcore_config *cfg, smtpcore_error *err);

/* Step by step, as smtplib does it: connect (implicit TLS with security
 * "tls") and read the greeting only; then smtpcore_session_ehlo,
 * _starttls (handshake and EHLO again), _login. A failed step returns -1
 * and leaves the session usable, unless the connection itself failed.
 * Certificate checks and the plain-text AUTH refusal apply as always. */
smtpcore_session *smtpcore_session_connect(const smtpcore_config *cfg, smtpcore_error *err);
int smtpcore_session_ehlo(smtpcore_session *s, const char *name, smtpcore_error *err); /* name NULL: configured */
int smtpcore_session_starttls(smtpcore_session *s, smtpcore_error *err);
/* mechanism NULL: the strongest offered; "XOAUTH2" takes a bearer token as secret. */
int smtpcore_session_login(smtpcore_session *s, const char *user, const char *secret, const char *mechanism,
                           smtpcore_error *err);
/* The server's last reply: returns its code (0 before any) and sets *text (valid until the next call). */
int smtpcore_session_last_reply(const smtpcore_session *s, const char **text);

/* Send QUIT (best effort), close the connection and free the session. NULL is fine. */
void smtpcore_session_close(smtpcore_session *s);

/* What the server said about itself. */
typedef struct smtpcore_session_info {
    const char *greeting;          /* greeting text */
    const char *ehlo_before_tls;   /* EHLO reply lines before STARTTLS ('\n'-joined), NULL if no STARTTLS */
    const char *ehlo;              /* EHLO reply lines in force now */
    int tls;                       /* 1 if the connection is encrypted */
    const char *tls_version;       /* "TLSv1.3" or NULL */
    const char *tls_cipher;        /* cipher name or NULL */
    const char *auth_mechanism;    /* mechanism used, or NULL if no AUTH */
    uint64_t max_size;             /* SIZE limit the server announced, 0 if none */
    unsigned capabilities;         /* SMTPCORE_CAP_* bits */
} smtpcore_session_info;

#define SMTPCORE_CAP_PIPELINING  (1u << 0)
#define SMTPCORE_CAP_SIZE        (1u << 1)
#define SMTPCORE_CAP_8BITMIME    (1u << 2)
#define SMTPCORE_CAP_SMTPUTF8    (1u << 3)
#define SMTPCORE_CAP_CHUNKING    (1u << 4)
#define SMTPCORE_CAP_DSN         (1u << 5)
#define SMTPCORE_CAP_ENHANCED    (1u << 6)
#define SMTPCORE_CAP_STARTTLS    (1u << 7)
#define SMTPCORE_CAP_AUTH        (1u << 8)
#define SMTPCORE_CAP_BINARYMIME  (1u << 9)

/* 1 while the connection is usable; 0 once it failed (every call would fail). */
int smtpcore_session_is_open(const smtpcore_session *s);

/* Valid until the session is closed. */
const smtpcore_session_info *smtpcore_session_get_info(const smtpcore_session *s);

/* DSN options (RFC 3461). All optional. */
typedef enum smtpcore_dsn_ret { SMTPCORE_DSN_RET_DEFAULT = 0, SMTPCORE_DSN_RET_FULL, SMTPCORE_DSN_RET_HDRS } smtpcore_dsn_ret;
#define SMTPCORE_NOTIFY_NEVER   (1u << 0)
#define SMTPCORE_NOTIFY_SUCCESS (1u << 1)
#define SMTPCORE_NOTIFY_FAILURE (1u << 2)
#define SMTPCORE_NOTIFY_DELAY   (1u << 3)

typedef struct smtpcore_recipient {
    const char *address;     /* bare address, no angle brackets */
    unsigned notify;         /* SMTPCORE_NOTIFY_* bits, 0 = server default */
    const char *orcpt;       /* original recipient (address), or NULL */
} smtpcore_recipient;

typedef struct smtpcore_envelope {
    const char *sender;                 /* "" for the null reverse-path (bounces) */
    const smtpcore_recipient *recipients;
    size_t n_recipients;
    smtpcore_dsn_ret dsn_ret;
    const char *dsn_envid;              /* xtext-encoded for us; printable ASCII only */
    int all_or_nothing;                 /* -1: the config's setting; 0/1 override */
} smtpcore_envelope;

/* A message body the engine pulls from. read() fills up to n bytes and
 * returns how many (0 at the end), or -1 on failure (the transaction is
 * aborted and nothing is claimed sent). */
typedef struct smtpcore_source {
    long long (*read)(void *ctx, char *buf, size_t n);
    void *ctx;
    uint64_t size_hint;   /* expected size in bytes for SIZE=, 0 if unknown */
    int eight_bit;        /* 1 if the body has 8-bit bytes (BODY=8BITMIME), -1 unknown (assume yes) */
} smtpcore_source;

/* Per-recipient outcome. */
typedef struct smtpcore_rcpt_status {
    const char *address;
    int accepted;          /* 1 if the server accepted this recipient and the message */
    int code;
    char enhanced[16];
    const char *text;
} smtpcore_rcpt_status;

typedef struct smtpcore_result smtpcore_result;

size_t smtpcore_result_count(const smtpcore_result *r);
const smtpcore_rcpt_status *smtpcore_result_get(const smtpcore_result *r, size_t i);
size_t smtpcore_result_accepted(const smtpcore_result *r);  /* how many recipients accepted */
int smtpcore_result_code(const smtpcore_result *r);         /* final reply code (250) */
const char *smtpcore_result_enhanced(const smtpcore_result *r);
const char *smtpcore_result_text(const smtpcore_result *r);  /* final reply text, often with a queue id */
void smtpcore_result_free(smtpcore_result *r);

/* Send one message. On success (the server accepted the message for at least
 * one recipient, or for all with all_or_nothing) returns 0 and *out holds
 * the per-recipient result. On failure returns -1; *out is still set (when
 * out is non-NULL and the envelope got that far) so callers can see which
 * recipients were refused. The session stays usable after a transaction-level
 * failure (RSET is sent); after a connection-level failure it is dead and
 * every later call fails with the same error. */
int smtpcore_session_send(smtpcore_session *s, const smtpcore_envelope *env, const smtpcore_source *src,
                          smtpcore_result **out, smtpcore_error *err);

/* A source over bytes in memory, which must stay valid for the send; the
 * read position lives in *m. eight_bit: 1, 0, or -1 (unknown: assume yes);
 * smtpcore_has_eight_bit tells. */
typedef struct smtpcore_memory_source {
    const char *p;
    size_t left;
} smtpcore_memory_source;
smtpcore_source smtpcore_source_from_memory(smtpcore_memory_source *m, const void *data, size_t len,
                                            int eight_bit);
int smtpcore_has_eight_bit(const void *data, size_t len);

/* One message's outcome in a batch. */
typedef struct smtpcore_send_outcome {
    int status;               /* 0: the server accepted the message; -1: it was not sent (error says why) */
    smtpcore_result *result;  /* per-recipient result, or NULL if the envelope never got that far */
    smtpcore_error error;     /* set when status is -1 */
} smtpcore_send_outcome;
void smtpcore_send_outcome_clear(smtpcore_send_outcome *o); /* frees result and error */

/* Send n messages over the session, in order, each with its own outcome in
 * out[i] (exactly what smtpcore_session_send would report for it). With
 * PIPELINING the next message's envelope goes out right behind the previous
 * message's data, without waiting for its reply: one round trip per message
 * with DATA, and with CHUNKING (BDAT) up to the config's pipeline_depth
 * messages unanswered at once. One message failing does not stop the others;
 * if the connection is lost, the rest fail with that error and none of them
 * is reported sent unless the server accepted it. Returns how many were
 * accepted. Sources are read one at a time, in order. */
size_t smtpcore_session_send_batch(smtpcore_session *s, const smtpcore_envelope *envs, const smtpcore_source *srcs,
                                   size_t n, smtpcore_send_outcome *out);

/* Check an envelope without sending anything: addresses, DSN options, and
 * anything that could inject protocol. 0, or -1 with a usage error. */
int smtpcore_envelope_check(const smtpcore_envelope *env, smtpcore_error *err);

/* Convenience: send a message held in memory. 8-bit content is detected. */
int smtpcore_session_send_bytes(smtpcore_session *s, const smtpcore_envelope *env, const char *msg, size_t len,
                                smtpcore_result **out, smtpcore_error *err);

int smtpcore_session_noop(smtpcore_session *s, smtpcore_error *err);
int smtpcore_session_rset(smtpcore_session *s, smtpcore_error *err);

/* ------------------------------------------------------------------ messages */

/* A message description: addresses, subject, text, HTML, inline images,
 * attachments, headers. Rendering it gives RFC 5322/MIME bytes as a stream;
 * attachments are read from their files chunk by chunk while sending, so a
 * message is never held in memory whole. */
typedef struct smtpcore_message smtpcore_message;

smtpcore_message *smtpcore_message_new(void);
void smtpcore_message_free(smtpcore_message *m);

/* Addresses are RFC 5322 text: "Name <a@example.com>" or "a@example.com";
 * the add_* functions take comma-separated lists and may be called again to
 * add more. Invalid addresses are usage errors naming the problem. */
int smtpcore_message_set_from(smtpcore_message *m, const char *mailbox, smtpcore_error *err);
int smtpcore_message_set_sender(smtpcore_message *m, const char *mailbox, smtpcore_error *err);
int smtpcore_message_add_to(smtpcore_message *m, const char *list, smtpcore_error *err);
int smtpcore_message_add_cc(smtpcore_message *m, const char *list, smtpcore_error *err);
int smtpcore_message_add_bcc(smtpcore_message *m, const char *list, smtpcore_error *err);  /* envelope only */
int smtpcore_message_add_reply_to(smtpcore_message *m, const char *list, smtpcore_error *err);
/* The envelope sender (Return-Path) when it differs from Sender/From; "" for a null sender. */
int smtpcore_message_set_envelope_sender(smtpcore_message *m, const char *address, smtpcore_error *err);

int smtpcore_message_set_subject(smtpcore_message *m, const char *utf8, smtpcore_error *err);
int smtpcore_message_set_text(smtpcore_message *m, const char *utf8, size_t len, smtpcore_error *err);
int smtpcore_message_set_html(smtpcore_message *m, const char *utf8, size_t len, smtpcore_error *err);
/* An iCalendar invitation (text/calendar; method=REQUEST by default) shown by
 * mail clients as an invitation; also attached as invite.ics. */
int smtpcore_message_set_calendar(smtpcore_message *m, const char *ics, size_t len, const char *method,
                                  smtpcore_error *err);

/* Attachments. filename NULL: the file's base name; content_type NULL: from
 * the extension. Only plain files are read (no URLs or stream wrappers); the
 * file is opened when the message is rendered. */
int smtpcore_message_attach_file(smtpcore_message *m, const char *path, const char *filename,
                                 const char *content_type, smtpcore_error *err);
int smtpcore_message_attach_data(smtpcore_message *m, const void *data, size_t len, const char *filename,
                                 const char *content_type, smtpcore_error *err);
/* Inline images for the HTML part, referenced there as "cid:<content_id>". */
int smtpcore_message_embed_file(smtpcore_message *m, const char *path, const char *content_id,
                                const char *content_type, smtpcore_error *err);
int smtpcore_message_embed_data(smtpcore_message *m, const void *data, size_t len, const char *content_id,
                                const char *filename, const char *content_type, smtpcore_error *err);

/* Any other header. Message-ID, In-Reply-To, References, List-Unsubscribe,
 * List-Unsubscribe-Post and Date are structured and go as given (ASCII,
 * validated); other values are text and are encoded as needed. Fields the
 * message manages (From, To, Cc, Bcc, Subject, MIME-Version, Content-*) are
 * refused here. A later add of Message-ID or Date replaces the earlier one. */
int smtpcore_message_add_header(smtpcore_message *m, const char *name, const char *value, smtpcore_error *err);

/* Deterministic output: boundaries, Message-ID and (unless set) Date derive
 * from the seed, so the same description always gives the same bytes. */
void smtpcore_message_set_seed(smtpcore_message *m, uint64_t seed);
/* Date from a Unix time and a zone offset in minutes east of UTC. */
int smtpcore_message_set_date(smtpcore_message *m, long long unix_time, int utc_offset_minutes, smtpcore_error *err);

typedef struct smtpcore_dkim {
    const char *domain;          /* d= */
    const char *selector;        /* s= */
    const char *private_key_pem; /* RSA (>= 1024 bits) or Ed25519 */
    size_t private_key_len;      /* 0: strlen */
    const char *canonicalization;/* "relaxed/relaxed" (default), "simple/simple", "relaxed/simple", "simple/relaxed" */
    const char *headers;         /* colon-separated h= list, NULL for the default; From is always signed */
    long long timestamp;         /* t=; 0: now (or none with a seed); -1: omit */
} smtpcore_dkim;

/* Sign with DKIM when rendering; may be called twice (e.g. RSA and Ed25519). */
int smtpcore_message_add_dkim(smtpcore_message *m, const smtpcore_dkim *dkim, smtpcore_error *err);

/* What the transport allows; smtpcore_session_send_message fills these from
 * the server's EHLO. */
#define SMTPCORE_RENDER_8BIT     (1u << 0)  /* 8BITMIME: text may go as 8bit */
#define SMTPCORE_RENDER_SMTPUTF8 (1u << 1)  /* SMTPUTF8: raw UTF-8 in headers and addresses */

/* Exact size of the rendered message (files are stat'ed, not read; with
 * DKIM the body is read once to sign it). */
int smtpcore_message_size(const smtpcore_message *m, unsigned flags, uint64_t *size, smtpcore_error *err);

/* Render to memory (for small messages, tests, --print). *out is malloc'd; free with free(). */
int smtpcore_message_to_bytes(const smtpcore_message *m, unsigned flags, char **out, size_t *len,
                              smtpcore_error *err);

/* Render as a stream. */
typedef struct smtpcore_message_reader smtpcore_message_reader;
smtpcore_message_reader *smtpcore_message_reader_new(const smtpcore_message *m, unsigned flags, smtpcore_error *err);
/* Fill up to n bytes: returns the count, 0 at the end, -1 on failure (a file
 * went missing or changed size: nothing may be claimed sent). */
long long smtpcore_message_reader_read(smtpcore_message_reader *r, char *buf, size_t n, smtpcore_error *err);
uint64_t smtpcore_message_reader_size(const smtpcore_message_reader *r);
void smtpcore_message_reader_free(smtpcore_message_reader *r);

/* The envelope the message implies: sender (envelope sender, else Sender,
 * else From) and recipients (To, Cc, Bcc, without duplicates), as addr-specs
 * in the form the flags allow. Strings are owned by the message and valid
 * until it changes. */
int smtpcore_message_envelope(smtpcore_message *m, unsigned flags, const char **sender,
                              const char *const **recipients, size_t *n, smtpcore_error *err);

/* Send a message through an open session: envelope from the message,
 * 8BITMIME/SMTPUTF8 from the server, SIZE from the exact size, body streamed. */
int smtpcore_session_send_message(smtpcore_session *s, smtpcore_message *m, smtpcore_result **out,
                                  smtpcore_error *err);

/* smtpcore_session_send_batch for message descriptions: each message is
 * rendered (and its files opened) only when its turn comes. */
size_t smtpcore_session_send_messages(smtpcore_session *s, smtpcore_message *const *msgs, size_t n,
                                      smtpcore_send_outcome *out);

/* ------------------------------------------------------------------ pool */

/* A thread-safe pool of sessions to one server: many threads send at once
 * over up to max_connections connections, each reused for many messages. */
typedef struct smtpcore_pool smtpcore_pool;

typedef struct smtpcore_pool_options {
    size_t max_connections;             /* 0: 4 */
    size_t max_messages_per_connection; /* 0: 100; then the connection is closed and a new one opened */
    int idle_timeout_ms;                /* 0: 30000; idle connections older than this are closed */
} smtpcore_pool_options;

/* opts may be NULL. No connection is made until the first send. */
smtpcore_pool *smtpcore_pool_new(const smtpcore_config *cfg, const smtpcore_pool_options *opts, smtpcore_error *err);
/* Both block while every connection is busy. A connection the server closed
 * while idle is replaced and the message retried once when nothing of it had
 * been accepted. */
int smtpcore_pool_send(smtpcore_pool *p, const smtpcore_envelope *env, const smtpcore_source *src,
                       smtpcore_result **out, smtpcore_error *err);
int smtpcore_pool_send_message(smtpcore_pool *p, smtpcore_message *m, smtpcore_result **out, smtpcore_error *err);
/* smtpcore_session_send_messages over one of the pool's connections (the
 * whole batch on one connection, pipelined), with the same one retry when
 * a reused connection turns out closed before anything was accepted. */
size_t smtpcore_pool_send_messages(smtpcore_pool *p, smtpcore_message *const *msgs, size_t n,
                                   smtpcore_send_outcome *out);
/* Connections open right now (for tests and monitoring). */
size_t smtpcore_pool_connections(smtpcore_pool *p);
/* QUIT and close every connection and free the pool; no send may be running. */
void smtpcore_pool_free(smtpcore_pool *p);

/* ------------------------------------------------------------------ helpers */

/* The plain-language hint for a failure, or NULL. Also set in every error. */
const char *smtpcore_hint_for(smtpcore_category cat, int code, const char *enhanced);

#ifdef __cplusplus
}
#endif
#endif
