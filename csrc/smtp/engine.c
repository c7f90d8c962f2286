#include "smtp/engine.h"
#include "smtp/engine_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/body_encoder.h"
#include "smtp/envelope_check.h"
#include "smtp/reply.h"
#include "smtp/result.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/secret.h"


/* ------------------------------------------------------------ helpers */

void eng_transcript(smtp_engine *e, smtpcore_dir dir, const char *line, size_t len)
{
    if (e->opts.transcript)
        e->opts.transcript(e->opts.transcript_userdata, dir, line, len);
}

void eng_info(smtp_engine *e, const char *fmt, ...)
{
    if (!e->opts.transcript)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    eng_transcript(e, SMTPCORE_DIR_INFO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Record an error in dst, with the server's reply when there is one;
 * the message is formatted by the caller (fmt/ap). */
void eng_record_error(smtpcore_error *dst, smtpcore_category cat, const smtp_reply *r, char *msg, size_t size,
                      const char *fmt, va_list ap)
{
    vsnprintf(msg, size, fmt, ap);
    if (r)
        sc_err_set(dst, cat, r->code, r->enhanced, smtp_reply_text(r), "%s", msg);
    else
        sc_err_set(dst, cat, 0, NULL, NULL, "%s", msg);
}

static void enter_failed(smtp_engine *e)
{
    e->phase = PH_FAILED;
    e->q_len = 0;
    txn_engine_failed(e);
}

void eng_fail(smtp_engine *e, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
{
    if (e->phase == PH_FAILED)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    eng_record_error(&e->err, cat, r, msg, sizeof msg, fmt, ap);
    va_end(ap);
    eng_info(e, "error: %s", msg);
    enter_failed(e);
}

void eng_fail_with(smtp_engine *e, const smtpcore_error *cause)
{
    if (e->phase == PH_FAILED)
        return;
    sc_err_copy(&e->err, cause);
    if (!e->err.message)
        e->err.message = strdup("connection failed");
    eng_info(e, "error: %s", e->err.message ? e->err.message : "");
    enter_failed(e);
}

static int queue_push(smtp_engine *e, cmd_kind kind, unsigned slot, size_t index)
{
    if (e->q_len == e->q_cap) {
        size_t cap = e->q_cap ? e->q_cap * 2 : 16;
        pending_cmd *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < e->q_len; i++)
            q[i] = e->queue[(e->q_head + i) % e->q_cap];
        free(e->queue);
        e->queue = q;
        e->q_cap = cap;
        e->q_head = 0;
    }
    e->queue[(e->q_head + e->q_len) % e->q_cap] = (pending_cmd){kind, slot, index};
    e->q_len++;
    if (slot != NO_TXN)
        e->txns[slot].outstanding++;
    return 0;
}

static pending_cmd queue_pop(smtp_engine *e)
{
    pending_cmd c = e->queue[e->q_head];
    e->q_head = (e->q_head + 1) % e->q_cap;
    e->q_len--;
    if (c.slot != NO_TXN)
        e->txns[c.slot].outstanding--;
    return c;
}

int eng_expect(smtp_engine *e, cmd_kind kind, unsigned slot, size_t index)
{
    if (queue_push(e, kind, slot, index) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return -1;
    }
    return 0;
}

int eng_send_cmd(smtp_engine *e, cmd_kind kind, unsigned slot, size_t index, const char *line, const char *shown)
{
    size_t len = strlen(line);
    if (sc_buf_append(&e->out, line, len) < 0 || sc_buf_append(&e->out, "\r\n", 2) < 0 ||
        queue_push(e, kind, slot, index) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return -1;
    }
    e->stats.commands++;
    if (shown)
        eng_transcript(e, SMTPCORE_DIR_CLIENT, shown, strlen(shown));
    else
        eng_transcript(e, SMTPCORE_DIR_CLIENT, line, len);
    return 0;
}

/* Raw bytes that expect no reply of their own (SASL responses get one). */
int eng_send_raw(smtp_engine *e, const char *p, size_t n)
{
    if (sc_buf_append(&e->out, p, n) < 0) {
        eng_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
        return -1;
    }
    return 0;
}

int eng_is_2xx(const smtp_reply *r) { return r->code >= 200 && r->code < 300; }

/* Case-insensitive substring test (strcasestr is not standard C). */
static int contains_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (; *text; text++)
        if (strncasecmp(text, word, n) == 0)
            return 1;
    return 0;
}

/* Which category a refusal belongs to, from its codes and words. */
smtpcore_category eng_classify(const smtp_reply *r, smtpcore_category dflt)
{
    const char *enh = r->enhanced;
    const char *text = smtp_reply_text(r);
    if (r->code == 421)
        return SMTPCORE_ERR_CONNECT;
    /* X.3.4 message too big for system, X.2.3 message length exceeds limit. */
    if (enh[0] && (strcmp(enh + 1, ".3.4") == 0 || strcmp(enh + 1, ".2.3") == 0))
        return SMTPCORE_ERR_SIZE;
    if (r->code == 552 && !enh[0] && dflt != SMTPCORE_ERR_RECIPIENT)
        return SMTPCORE_ERR_SIZE;
    if (contains_word(text, "relay") && (r->code == 550 || r->code == 554 || r->code == 553 ||
                                      strcmp(enh + (enh[0] ? 1 : 0), ".7.1") == 0))
        return SMTPCORE_ERR_RELAY;
    if (r->code == 530 || (enh[0] && strcmp(enh + 1, ".7.0") == 0 && contains_word(text, "authentication")))
        return SMTPCORE_ERR_AUTH;
    /* Servers often judge the sender only at RCPT time (Postfix's
     * smtpd_delay_reject): X.1.7/X.1.8 (RFC 3463) and their words say so. */
    if (enh[0] && (strcmp(enh + 1, ".1.7") == 0 || strcmp(enh + 1, ".1.8") == 0))
        return SMTPCORE_ERR_SENDER;
    if (contains_word(text, "sender address rejected") || contains_word(text, "not owned by user"))
        return SMTPCORE_ERR_SENDER;
    /* A recipient refused with "access denied" under 5.7.1 is a policy
     * refusal of this client (unauthenticated submission), not a bad address. */
    if (dflt == SMTPCORE_ERR_RECIPIENT && enh[0] && strcmp(enh + 1, ".7.1") == 0 && contains_word(text, "access denied"))
        return SMTPCORE_ERR_RELAY;
    return dflt;
}

/* ------------------------------------------------------------ lifecycle */

static char *dup_opt(const char *s) { return s ? strdup(s) : NULL; }

smtp_engine *smtp_engine_new(const smtp_engine_opts *opts, int tls_active, smtpcore_error *err)
{
    if (!opts->ehlo_name || !opts->ehlo_name[0] || !smtp_check_ehlo_name(opts->ehlo_name)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid EHLO name");
        return NULL;
    }
    if ((opts->username && sc_has_ctl_breaks(opts->username)) || (opts->password && sc_has_ctl_breaks(opts->password)) ||
        (opts->oauth2_token && sc_has_ctl_breaks(opts->oauth2_token))) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "credentials must not contain CR or LF");
        return NULL;
    }
    smtp_engine *e = calloc(1, sizeof *e);
    if (!e) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    e->opts = *opts;
    e->ehlo_name = dup_opt(opts->ehlo_name);
    e->username = dup_opt(opts->username);
    e->password = dup_opt(opts->password);
    e->oauth2_token = dup_opt(opts->oauth2_token);
    e->opts.ehlo_name = e->ehlo_name;
    e->opts.username = e->username;
    e->opts.password = e->password;
    e->opts.oauth2_token = e->oauth2_token;
    if (!e->opts.bdat_chunk_size)
        e->opts.bdat_chunk_size = DEFAULT_BDAT_CHUNK;
    e->tls_active = tls_active;
    sc_buf_init(&e->out);
    smtp_reply_parser_init(&e->parser);
    smtp_reply_init(&e->reply);
    sc_buf_init(&e->chunk);
    sc_buf_init(&e->scratch);
    sc_buf_init(&e->last_text);
    e->phase = PH_GREETING;
    if (!e->ehlo_name || (opts->username && !e->username) || (opts->password && !e->password) ||
        (opts->oauth2_token && !e->oauth2_token) || queue_push(e, CMD_GREETING, NO_TXN, 0) < 0) {
        smtp_engine_free(e);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    return e;
}

void smtp_engine_free(smtp_engine *e)
{
    if (!e)
        return;
    txn_ring_free(e);
    sc_buf_free(&e->chunk);
    sc_buf_free(&e->scratch);
    free(e->ehlo_name);
    free(e->username);
    sc_secret_free(e->password);
    sc_secret_free(e->oauth2_token);
    sc_buf_free(&e->out);
    smtp_reply_parser_free(&e->parser);
    smtp_reply_free(&e->reply);
    free(e->queue);
    free(e->auth_offered);
    free(e->greeting);
    free(e->ehlo_text);
    free(e->ehlo_text_before_tls);
    smtp_sasl_free(e->sasl);
    smtpcore_error_clear(&e->simple_err);
    smtpcore_error_clear(&e->auth_cancel);
    smtpcore_error_clear(&e->err);
    sc_buf_free(&e->last_text);
    free(e);
}

smtp_want smtp_engine_want(const smtp_engine *e)
{
    switch (e->phase) {
    case PH_FAILED:
    case PH_QUIT:
        return SMTP_WANT_CLOSE;
    case PH_TLS:
        return SMTP_WANT_TLS;
    default:
        break;
    }
    if (e->phase == PH_TXN && txn_wants_body(e))
        return SMTP_WANT_BODY;
    if (e->q_len > 0)
        return SMTP_WANT_READ;
    return SMTP_WANT_NOTHING;
}

const char *smtp_engine_output(const smtp_engine *e, size_t *len)
{
    *len = sc_buf_size(&e->out);
    return sc_buf_ptr(&e->out);
}

void smtp_engine_consume_output(smtp_engine *e, size_t n) { sc_buf_consume(&e->out, n); }

const smtpcore_error *smtp_engine_error(const smtp_engine *e) { return e->phase == PH_FAILED ? &e->err : NULL; }

unsigned smtp_engine_caps(const smtp_engine *e) { return e->caps; }
uint64_t smtp_engine_max_size(const smtp_engine *e) { return e->max_size; }
const char *smtp_engine_ehlo_text(const smtp_engine *e) { return e->ehlo_text; }
const char *smtp_engine_ehlo_text_before_tls(const smtp_engine *e) { return e->ehlo_text_before_tls; }
const char *smtp_engine_greeting(const smtp_engine *e) { return e->greeting; }
const char *smtp_engine_auth_mechanism(const smtp_engine *e) { return e->auth_used; }
int smtp_engine_tls_active(const smtp_engine *e) { return e->tls_active; }
const smtp_engine_stats *smtp_engine_get_stats(const smtp_engine *e) { return &e->stats; }

/* ------------------------------------------------------------ session set-up */

static void send_ehlo(smtp_engine *e)
{
    char line[300];
    snprintf(line, sizeof line, "EHLO %s", e->ehlo_name);
    e->phase = PH_EHLO;
    eng_send_cmd(e, CMD_EHLO, NO_TXN, 0, line, NULL);
}

static void parse_capabilities(smtp_engine *e, const smtp_reply *r)
{
    e->caps = 0;
    e->max_size = 0;
    free(e->auth_offered);
    e->auth_offered = NULL;
    const char *text = smtp_reply_text(r);
    /* The first line is the server's name and greeting; keywords follow. */
    const char *line = strchr(text, '\n');
    while (line) {
        line++;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char kw[64];
        size_t k = 0;
        while (k < n && k < sizeof kw - 1 && line[k] != ' ' && line[k] != '=') {
            kw[k] = (char)toupper((unsigned char)line[k]);
            k++;
        }
        kw[k] = '\0';
        const char *params = line + k;
        size_t plen = n - k;
        if (plen && (*params == ' ' || *params == '='))
            params++, plen--;
        if (!strcmp(kw, "PIPELINING")) e->caps |= SMTPCORE_CAP_PIPELINING;
        else if (!strcmp(kw, "8BITMIME")) e->caps |= SMTPCORE_CAP_8BITMIME;
        else if (!strcmp(kw, "SMTPUTF8")) e->caps |= SMTPCORE_CAP_SMTPUTF8;
        else if (!strcmp(kw, "CHUNKING")) e->caps |= SMTPCORE_CAP_CHUNKING;
        else if (!strcmp(kw, "BINARYMIME")) e->caps |= SMTPCORE_CAP_BINARYMIME;
        else if (!strcmp(kw, "DSN")) e->caps |= SMTPCORE_CAP_DSN;
        else if (!strcmp(kw, "ENHANCEDSTATUSCODES")) e->caps |= SMTPCORE_CAP_ENHANCED;
        else if (!strcmp(kw, "STARTTLS")) e->caps |= SMTPCORE_CAP_STARTTLS;
        else if (!strcmp(kw, "SIZE")) {
            e->caps |= SMTPCORE_CAP_SIZE;
            uint64_t v = 0;
            for (size_t i = 0; i < plen && params[i] >= '0' && params[i] <= '9'; i++)
                v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(params[i] - '0');
            e->max_size = v;
        } else if (!strcmp(kw, "AUTH")) {
            /* "AUTH PLAIN LOGIN" and the pre-standard "AUTH=PLAIN LOGIN" both count;
             * lists from several lines are merged. */
            e->caps |= SMTPCORE_CAP_AUTH;
            size_t old = e->auth_offered ? strlen(e->auth_offered) : 0;
            char *merged = realloc(e->auth_offered, old + plen + 2);
            if (merged) {
                if (old)
                    merged[old++] = ' ';
                memcpy(merged + old, params, plen);
                merged[old + plen] = '\0';
                e->auth_offered = merged;
            }
        }
        line = end;
    }
}

static void start_auth(smtp_engine *e);

static void session_ready(smtp_engine *e)
{
    e->phase = PH_IDLE;
    e->simple_done = 1;
    eng_info(e, "session ready");
}

/* Manual mode: a step failed; the session goes on (smtplib raises and the
 * caller may try something else). */
static void step_fail(smtp_engine *e, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void step_fail(smtp_engine *e, smtpcore_category cat, const smtp_reply *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    eng_record_error(&e->simple_err, cat, r, msg, sizeof msg, fmt, ap);
    va_end(ap);
    eng_info(e, "error: %s", msg);
    e->simple_done = 1;
    e->phase = PH_IDLE;
}

/* After the EHLO (or HELO) that counts: STARTTLS, AUTH, or ready. */
static void after_ehlo(smtp_engine *e)
{
    smtpcore_security sec = e->opts.security;
    if (!e->tls_active && !e->tried_starttls &&
        (sec == SMTPCORE_SECURITY_STARTTLS || sec == SMTPCORE_SECURITY_OPPORTUNISTIC)) {
        if (e->caps & SMTPCORE_CAP_STARTTLS) {
            e->tried_starttls = 1;
            e->phase = PH_STARTTLS;
            eng_send_cmd(e, CMD_STARTTLS, NO_TXN, 0, "STARTTLS", NULL);
            return;
        }
        if (sec == SMTPCORE_SECURITY_STARTTLS) {
            eng_fail(e, SMTPCORE_ERR_TLS, NULL,
                        "the server does not offer STARTTLS, and security mode 'starttls' requires it");
            return;
        }
        eng_info(e, "server offers no STARTTLS; continuing without encryption (opportunistic)");
    }
    if (e->username || e->oauth2_token) {
        start_auth(e);
        return;
    }
    session_ready(e);
}

static void on_greeting(smtp_engine *e, const smtp_reply *r)
{
    free(e->greeting);
    e->greeting = strdup(smtp_reply_text(r));
    if (r->code != 220) {
        eng_fail(e, SMTPCORE_ERR_CONNECT, r, "the server refused the session: %d %s", r->code,
                    smtp_reply_text(r));
        return;
    }
    if (e->opts.manual) {
        session_ready(e);
        return;
    }
    send_ehlo(e);
}

static void on_ehlo(smtp_engine *e, const smtp_reply *r)
{
    if (r->code == 250) {
        parse_capabilities(e, r);
        free(e->ehlo_text);
        e->ehlo_text = strdup(smtp_reply_text(r));
        if (e->opts.manual)
            session_ready(e);
        else
            after_ehlo(e);
        return;
    }
    /* RFC 5321 4.1.4: an old server that does not know EHLO gets HELO. */
    if (r->code == 500 || r->code == 502 || r->code == 504 || r->code == 550) {
        char line[300];
        snprintf(line, sizeof line, "HELO %s", e->ehlo_name);
        eng_send_cmd(e, CMD_HELO, NO_TXN, 0, line, NULL);
        return;
    }
    if (e->opts.manual)
        step_fail(e, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "EHLO refused: %d %s", r->code, smtp_reply_text(r));
    else
        eng_fail(e, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "EHLO refused: %d %s", r->code, smtp_reply_text(r));
}

static void on_helo(smtp_engine *e, const smtp_reply *r)
{
    if (r->code != 250) {
        if (e->opts.manual)
            step_fail(e, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "HELO refused: %d %s", r->code, smtp_reply_text(r));
        else
            eng_fail(e, eng_classify(r, SMTPCORE_ERR_PROTOCOL), r, "HELO refused: %d %s", r->code,
                        smtp_reply_text(r));
        return;
    }
    e->caps = 0;
    e->max_size = 0;
    free(e->ehlo_text);
    e->ehlo_text = strdup(smtp_reply_text(r));
    if (e->opts.manual)
        session_ready(e);
    else
        after_ehlo(e);
}

static void on_starttls(smtp_engine *e, const smtp_reply *r)
{
    if (r->code == 220) {
        /* Anything the server sent after its 220 arrived before encryption and
         * could have been injected by an attacker (CVE-2021-22947, "NO
         * STARTTLS"): refuse to go on rather than guess. */
        if (smtp_reply_parser_pending(&e->parser) || e->q_len) {
            /* No reply code: the 220 was not a refusal, and callers must not
             * mistake this for "the server declined STARTTLS". */
            eng_fail(e, SMTPCORE_ERR_TLS, NULL,
                        "the server sent data after its STARTTLS reply, before encryption "
                        "(possible STARTTLS response injection); closing");
            return;
        }
        e->phase = PH_TLS;
        return;
    }
    if (e->opts.manual) {
        step_fail(e, SMTPCORE_ERR_TLS, r, "the server refused STARTTLS: %d %s", r->code, smtp_reply_text(r));
        return;
    }
    if (e->opts.security == SMTPCORE_SECURITY_OPPORTUNISTIC) {
        eng_info(e, "STARTTLS refused; continuing without encryption (opportunistic)");
        if (e->username || e->oauth2_token)
            start_auth(e);
        else
            session_ready(e);
        return;
    }
    eng_fail(e, SMTPCORE_ERR_TLS, r, "the server refused STARTTLS: %d %s", r->code, smtp_reply_text(r));
}

void smtp_engine_tls_started(smtp_engine *e)
{
    if (e->phase != PH_TLS)
        return;
    smtp_reply_parser_discard(&e->parser);
    e->tls_active = 1;
    eng_info(e, "TLS started");
    /* Capabilities learned in clear text may have been forged: forget them. */
    free(e->ehlo_text_before_tls);
    e->ehlo_text_before_tls = e->ehlo_text;
    e->ehlo_text = NULL;
    e->caps = 0;
    e->max_size = 0;
    free(e->auth_offered);
    e->auth_offered = NULL;
    send_ehlo(e);
}

void smtp_engine_fail(smtp_engine *e, const smtpcore_error *cause) { eng_fail_with(e, cause); }

/* Set-up failures end the session, except in manual mode where the caller
 * decides (smtplib lets a failed login be retried). */
#define setup_fail(e, ...) ((e)->opts.manual ? step_fail((e), __VA_ARGS__) : eng_fail((e), __VA_ARGS__))

static void setup_fail_with(smtp_engine *e, const smtpcore_error *err)
{
    if (!e->opts.manual) {
        eng_fail_with(e, err);
        return;
    }
    sc_err_copy(&e->simple_err, err);
    e->simple_done = 1;
    e->phase = PH_IDLE;
}

static void start_auth(smtp_engine *e)
{
    if (!e->tls_active && !e->opts.allow_plaintext_auth) {
        setup_fail(e, SMTPCORE_ERR_TLS, NULL,
                    "refusing to send the password over an unencrypted connection; use security 'starttls' "
                    "or 'tls', or allow plain-text authentication explicitly");
        return;
    }
    if (!(e->caps & SMTPCORE_CAP_AUTH) || !e->auth_offered) {
        setup_fail(e, SMTPCORE_ERR_AUTH, NULL,
                    "credentials were given but the server does not offer authentication (no AUTH in EHLO)");
        return;
    }
    smtp_sasl_mech m = e->opts.mechanism;
    if (m != SMTP_SASL_NONE) {
        if (!smtp_sasl_offered(e->auth_offered, m)) {
            setup_fail(e, SMTPCORE_ERR_AUTH, NULL, "the server does not offer AUTH %s (it offers: %s)",
                        smtp_sasl_mech_name(m), e->auth_offered);
            return;
        }
    } else {
        m = smtp_sasl_choose(e->auth_offered, e->password != NULL, e->oauth2_token != NULL);
        if (m == SMTP_SASL_NONE) {
            setup_fail(e, SMTPCORE_ERR_AUTH, NULL, "no authentication mechanism in common (the server offers: %s)",
                        e->auth_offered);
            return;
        }
    }
    const char *secret = m == SMTP_SASL_XOAUTH2 ? e->oauth2_token : e->password;
    smtpcore_error err = {0};
    smtp_sasl_free(e->sasl);
    e->sasl = smtp_sasl_new(m, e->username ? e->username : "", secret ? secret : "", &err);
    char *ir = NULL;
    if (!e->sasl || smtp_sasl_initial(e->sasl, &ir, &err) < 0) {
        setup_fail_with(e, &err);
        smtpcore_error_clear(&err);
        return;
    }
    e->auth_used = smtp_sasl_mech_name(m);
    e->phase = PH_AUTH;
    sc_buf line, shown;
    sc_buf_init(&line);
    sc_buf_init(&shown);
    int rc = sc_buf_printf(&line, "AUTH %s%s%s", e->auth_used, ir ? " " : "", ir ? ir : "");
    rc |= sc_buf_printf(&shown, "AUTH %s%s", e->auth_used, ir ? " <redacted>" : "");
    if (ir) {
        volatile char *p = ir;
        while (*p)
            *p++ = 0;
        free(ir);
    }
    char *l = rc == 0 ? sc_buf_strdup(&line) : NULL;
    char *s = rc == 0 ? sc_buf_strdup(&shown) : NULL;
    if (l && s)
        eng_send_cmd(e, CMD_AUTH, NO_TXN, 0, l, s);
    else
        setup_fail(e, SMTPCORE_ERR_LOCAL, NULL, "out of memory");
    if (l)
        sc_secret_free(l);
    free(s);
    /* The printf buffer held the secret too. */
    if (line.data)
        memset(line.data, 0, line.cap);
    sc_buf_free(&line);
    sc_buf_free(&shown);
}

static void on_auth(smtp_engine *e, const smtp_reply *r)
{
    if (r->code == 334) {
        const char *challenge = smtp_reply_text(r);
        eng_transcript(e, SMTPCORE_DIR_INFO, "(server challenge)", 18);
        char *resp = NULL;
        smtpcore_error err = {0};
        if (smtp_sasl_step(e->sasl, challenge, strlen(challenge), &resp, &err) < 0) {
            /* Cancel the exchange (RFC 4954: "*"). In manual mode the server's
             * answer to the cancel ends the step; otherwise the session ends. */
            eng_send_raw(e, "*\r\n", 3);
            eng_transcript(e, SMTPCORE_DIR_CLIENT, "*", 1);
            if (e->opts.manual) {
                sc_err_copy(&e->auth_cancel, &err);
                queue_push(e, CMD_AUTH, NO_TXN, 0);
            } else {
                eng_fail_with(e, &err);
            }
            smtpcore_error_clear(&err);
            return;
        }
        size_t n = strlen(resp);
        if (eng_send_raw(e, resp, n) == 0 && eng_send_raw(e, "\r\n", 2) == 0 && queue_push(e, CMD_AUTH, NO_TXN, 0) == 0)
            eng_transcript(e, SMTPCORE_DIR_CLIENT, "<redacted>", 10);
        sc_secret_free(resp);
        return;
    }
    if (r->code == 235) {
        smtpcore_error err = {0};
        if (smtp_sasl_finish(e->sasl, &err) < 0) {
            /* A server that cannot prove the password: never trust this session. */
            eng_fail_with(e, &err);
            smtpcore_error_clear(&err);
            return;
        }
        smtp_sasl_free(e->sasl);
        e->sasl = NULL;
        eng_info(e, "authenticated with %s", e->auth_used);
        session_ready(e);
        return;
    }
    if (e->auth_cancel.category != SMTPCORE_OK) {
        setup_fail_with(e, &e->auth_cancel);
        smtpcore_error_clear(&e->auth_cancel);
        return;
    }
    const char *detail = e->sasl ? smtp_sasl_server_error(e->sasl) : NULL;
    setup_fail(e, r->code == 421 ? SMTPCORE_ERR_CONNECT : SMTPCORE_ERR_AUTH, r, "authentication failed: %d %s%s%s",
                r->code, smtp_reply_text(r), detail ? " " : "", detail ? detail : "");
}

/* A caller's RSET (a transaction's own RSETs go to transaction.c). */
static void on_rset(smtp_engine *e, const smtp_reply *r)
{
    if (!eng_is_2xx(r))
        sc_err_set(&e->simple_err, SMTPCORE_ERR_PROTOCOL, r->code, r->enhanced, smtp_reply_text(r),
                   "RSET refused: %d %s", r->code, smtp_reply_text(r));
    e->simple_done = 1;
    e->phase = PH_IDLE;
}

static void on_noop(smtp_engine *e, const smtp_reply *r)
{
    if (!eng_is_2xx(r))
        sc_err_set(&e->simple_err, SMTPCORE_ERR_PROTOCOL, r->code, r->enhanced, smtp_reply_text(r),
                   "NOOP refused: %d %s", r->code, smtp_reply_text(r));
    e->simple_done = 1;
    e->phase = PH_IDLE;
}

static void handle_reply(smtp_engine *e, const smtp_reply *r)
{
    e->stats.replies++;
    e->last_code = r->code;
    /* Kept in one buffer: no allocation per reply once it has grown. */
    const char *text = smtp_reply_text(r);
    sc_buf_reset(&e->last_text);
    sc_buf_append(&e->last_text, text, strlen(text) + 1);
    if (e->opts.transcript) {
        /* One transcript line per reply line, as the server sent it. */
        size_t lines = r->n_lines ? r->n_lines : 1;
        for (size_t i = 0; i < lines; i++) {
            const char *end = strchr(text, '\n');
            size_t n = end ? (size_t)(end - text) : strlen(text);
            char line[SMTP_REPLY_MAX_LINE + 8];
            int k = snprintf(line, sizeof line, "%d%c%.*s", r->code, i + 1 < lines ? '-' : ' ', (int)n, text);
            if (k > 0)
                eng_transcript(e, SMTPCORE_DIR_SERVER, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
            text = end ? end + 1 : text + n;
        }
    }
    if (e->q_len == 0) {
        /* Nothing asked: a server announcing shutdown (421) or noise. */
        if (r->code == 421)
            eng_fail(e, SMTPCORE_ERR_CONNECT, r, "the server closed the session: %d %s", r->code,
                        smtp_reply_text(r));
        else
            eng_fail(e, SMTPCORE_ERR_PROTOCOL, r, "unexpected reply from the server: %d %s", r->code,
                        smtp_reply_text(r));
        return;
    }
    pending_cmd c = queue_pop(e);
    if (r->code == 421 && c.kind != CMD_QUIT) {
        /* RFC 5321 3.8: 421 means the server is closing the channel now. */
        txn_fail_in_flight(e, SMTPCORE_ERR_CONNECT, r);
        eng_fail(e, SMTPCORE_ERR_CONNECT, r, "the server closed the session: %d %s", r->code, smtp_reply_text(r));
        return;
    }
    if (c.slot != NO_TXN) {
        txn_on_reply(e, c, r);
        return;
    }
    switch (c.kind) {
    case CMD_GREETING: on_greeting(e, r); break;
    case CMD_EHLO: on_ehlo(e, r); break;
    case CMD_HELO: on_helo(e, r); break;
    case CMD_STARTTLS: on_starttls(e, r); break;
    case CMD_AUTH: on_auth(e, r); break;
    case CMD_RSET: on_rset(e, r); break;
    case CMD_NOOP: on_noop(e, r); break;
    default: break; /* QUIT; transaction commands carry a slot */
    }
}

int smtp_engine_feed(smtp_engine *e, const char *data, size_t len)
{
    if (e->phase == PH_FAILED)
        return -1;
    if (smtp_reply_parser_feed(&e->parser, data, len) < 0) {
        eng_fail(e, SMTPCORE_ERR_PROTOCOL, NULL, "malformed reply from the server: %s", e->parser.err);
        return -1;
    }
    for (;;) {
        if (e->phase == PH_FAILED || e->phase == PH_TLS)
            break; /* after STARTTLS's 220 nothing more may be read in clear */
        int rc = smtp_reply_parser_next(&e->parser, &e->reply);
        if (rc < 0) {
            eng_fail(e, SMTPCORE_ERR_PROTOCOL, NULL, "malformed reply from the server: %s", e->parser.err);
            break;
        }
        if (rc == 0)
            break;
        handle_reply(e, &e->reply);
    }
    return e->phase == PH_FAILED ? -1 : 0;
}

void smtp_engine_connection_lost(smtp_engine *e, const smtpcore_error *cause)
{
    if (e->phase == PH_QUIT || e->phase == PH_FAILED)
        return;
    eng_fail_with(e, cause);
}

/* ---- simple commands ---- */

static int simple_cmd(smtp_engine *e, cmd_kind kind, const char *line)
{
    if (e->phase != PH_IDLE)
        return -1;
    smtpcore_error_clear(&e->simple_err);
    e->simple_done = 0;
    e->phase = PH_SIMPLE;
    return eng_send_cmd(e, kind, NO_TXN, 0, line, NULL);
}

int smtp_engine_noop(smtp_engine *e) { return simple_cmd(e, CMD_NOOP, "NOOP"); }
int smtp_engine_rset(smtp_engine *e) { return simple_cmd(e, CMD_RSET, "RSET"); }

int smtp_engine_take_simple_result(smtp_engine *e, smtpcore_error *err)
{
    if (e->phase == PH_FAILED) {
        sc_err_copy(err, &e->err);
        return -1;
    }
    if (!e->simple_done)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no command finished");
    if (e->simple_err.category != SMTPCORE_OK) {
        sc_err_copy(err, &e->simple_err);
        return -1;
    }
    return 0;
}

int smtp_engine_last_code(const smtp_engine *e) { return e->last_code; }
const char *smtp_engine_last_text(const smtp_engine *e)
{
    return sc_buf_size(&e->last_text) ? sc_buf_ptr(&e->last_text) : "";
}

/* Begin a manual step from idle. */
static int step_begin(smtp_engine *e)
{
    if (e->phase != PH_IDLE)
        return -1;
    smtpcore_error_clear(&e->simple_err);
    e->simple_done = 0;
    return 0;
}

int smtp_engine_ehlo(smtp_engine *e, const char *name)
{
    if (step_begin(e) < 0)
        return -1;
    if (name && *name) {
        if (!smtp_check_ehlo_name(name)) {
            step_fail(e, SMTPCORE_ERR_USAGE, NULL, "invalid EHLO name");
            return 0;
        }
        char *copy = strdup(name);
        if (!copy)
            return -1;
        free(e->ehlo_name);
        e->ehlo_name = copy;
        e->opts.ehlo_name = copy;
    }
    send_ehlo(e);
    return 0;
}

int smtp_engine_starttls(smtp_engine *e)
{
    if (step_begin(e) < 0)
        return -1;
    if (e->tls_active) {
        step_fail(e, SMTPCORE_ERR_USAGE, NULL, "the connection is already encrypted");
        return 0;
    }
    if (!(e->caps & SMTPCORE_CAP_STARTTLS)) {
        step_fail(e, SMTPCORE_ERR_TLS, NULL, "the server does not offer STARTTLS (send EHLO first?)");
        return 0;
    }
    e->phase = PH_STARTTLS;
    e->tried_starttls = 1;
    return eng_send_cmd(e, CMD_STARTTLS, NO_TXN, 0, "STARTTLS", NULL);
}

int smtp_engine_auth(smtp_engine *e, smtp_sasl_mech mechanism, const char *user, const char *secret)
{
    if (step_begin(e) < 0)
        return -1;
    if (!user || !secret || sc_has_ctl_breaks(user) || sc_has_ctl_breaks(secret)) {
        step_fail(e, SMTPCORE_ERR_USAGE, NULL, "user name and password must be given, without CR or LF");
        return 0;
    }
    char *u = strdup(user), *p = strdup(secret);
    if (!u || !p) {
        free(u);
        sc_secret_free(p);
        return -1;
    }
    free(e->username);
    e->username = u;
    e->opts.username = u;
    if (mechanism == SMTP_SASL_XOAUTH2) {
        sc_secret_free(e->oauth2_token);
        e->oauth2_token = p;
        e->opts.oauth2_token = p;
    } else {
        sc_secret_free(e->password);
        e->password = p;
        e->opts.password = p;
    }
    e->opts.mechanism = mechanism;
    start_auth(e);
    return 0;
}

void smtp_engine_quit(smtp_engine *e)
{
    if (e->phase == PH_FAILED || e->phase == PH_QUIT)
        return;
    eng_send_cmd(e, CMD_QUIT, NO_TXN, 0, "QUIT", NULL);
    e->phase = PH_QUIT;
}
