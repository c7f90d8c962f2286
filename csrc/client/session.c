/* The blocking driver: pumps the sans-I/O engine over a net_conn with
 * deadlines. Other drivers (a poll() pool, asyncio, PHP streams) can drive
 * the same engine. */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/config.h"
#include "client/session_internal.h"
#include "net/conn.h"
#include "smtp/engine.h"
#include "smtp/envelope_check.h"
#include "util/error.h"

#define READ_CHUNK 16384
/* Output held back while body bytes keep coming (one TCP send for a small message). */
#define COALESCE_LIMIT 65536

struct smtpcore_session {
    smtpcore_config *cfg;
    char *host;
    net_conn *conn;
    net_tls_ctx *tls;
    smtp_engine *eng;
    smtpcore_session_info info;
    int dead;
    smtpcore_error dead_err;
    char *body_buf;
};

const char *smtpcore_version(void) { return SMTPCORE_VERSION; }

static void info_line(smtpcore_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info_line(smtpcore_session *s, const char *fmt, ...)
{
    if (!s->cfg->transcript)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->cfg->transcript(s->cfg->transcript_userdata, SMTPCORE_DIR_INFO, line,
                           (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* RFC 5321 4.1.4: the EHLO argument is our FQDN or, lacking one, an address literal. */
static void default_ehlo_name(smtpcore_session *s, char *out, size_t n)
{
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        if (strchr(host, '.') && smtp_check_ehlo_name(host)) {
            snprintf(out, n, "%s", host);
            return;
        }
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "127.0.0.1";
    if (getsockname(net_conn_fd(s->conn), (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
            snprintf(out, n, "[IPv6:%s]", addr);
            return;
        }
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
    }
    snprintf(out, n, "[%s]", addr);
}

/* Built on first use, from the process-wide cache (client/tls_cache.c),
 * or shared from a pool. */
static net_tls_ctx *session_tls_ctx(smtpcore_session *s, smtpcore_error *err)
{
    if (!s->tls)
        s->tls = sc_config_tls_ctx(s->cfg, err);
    return s->tls;
}

static int do_handshake(smtpcore_session *s, smtpcore_error *err)
{
    net_tls_ctx *ctx = session_tls_ctx(s, err);
    if (!ctx)
        return -1;
    const char *name = s->cfg->tls_server_name ? s->cfg->tls_server_name : s->host;
    if (net_conn_start_tls(s->conn, ctx, name, s->cfg->timeout_ms, err) < 0)
        return -1;
    info_line(s, "TLS established: %s, %s", net_conn_tls_version(s->conn), net_conn_tls_cipher(s->conn));
    return 0;
}

/* The category hint for "connect" is about reaching the server; losing an
 * established session needs other advice. */
static const char lost_connection_hint[] =
    "The server closed the connection in the middle of the session. Servers do this when they reject a client "
    "(rate limits, block lists, policy) or crash; check the server's log, or try again later.";

/* Write out everything the engine has queued. */
static int flush_output(smtpcore_session *s, smtpcore_error *err)
{
    size_t len;
    const char *p = smtp_engine_output(s->eng, &len);
    if (!len)
        return 0;
    if (net_conn_write_all(s->conn, p, len, s->cfg->timeout_ms, err) < 0) {
        if (err && err->category == SMTPCORE_ERR_CONNECT)
            err->hint = lost_connection_hint;
        return -1;
    }
    smtp_engine_consume_output(s->eng, len);
    return 0;
}

static void make_dead(smtpcore_session *s, const smtpcore_error *e)
{
    if (s->dead)
        return;
    s->dead = 1;
    sc_err_copy(&s->dead_err, e);
    net_conn_close(s->conn);
    s->conn = NULL;
}

/* Run the engine until it wants body bytes, is idle, must close, or (when
 * may_begin) could take the next message of a batch, which then joins the
 * same write. Each reply gets the full reply timeout, counted from when we
 * start waiting for it, so a server that dribbles bytes cannot stretch it. */
smtp_want sc_session_pump(smtpcore_session *s, int may_begin)
{
    char buf[READ_CHUNK];
    long long deadline = 0;
    unsigned long replies_seen = smtp_engine_get_stats(s->eng)->replies;
    for (;;) {
        smtpcore_error err = {0};
        /* Write coalescing: while the engine wants body bytes, let small
         * output wait so envelope, BDAT header and body share one write. */
        size_t pending;
        smtp_engine_output(s->eng, &pending);
        if (pending < COALESCE_LIMIT) {
            if (smtp_engine_want(s->eng) == SMTP_WANT_BODY)
                return SMTP_WANT_BODY;
            if (may_begin && smtp_engine_can_begin(s->eng))
                return SMTP_WANT_NOTHING;
        }
        if (flush_output(s, &err) < 0) {
            smtp_engine_connection_lost(s->eng, &err);
            smtpcore_error_clear(&err);
        }
        smtp_want want = smtp_engine_want(s->eng);
        if (may_begin && want == SMTP_WANT_READ && smtp_engine_can_begin(s->eng))
            return SMTP_WANT_NOTHING;
        switch (want) {
        case SMTP_WANT_BODY:
        case SMTP_WANT_NOTHING:
        case SMTP_WANT_CLOSE:
            return want;
        case SMTP_WANT_TLS:
            if (do_handshake(s, &err) < 0) {
                smtp_engine_fail(s->eng, &err);
                smtpcore_error_clear(&err);
            } else {
                smtp_engine_tls_started(s->eng);
            }
            deadline = 0;
            continue;
        case SMTP_WANT_READ:
            break;
        }
        long long now = net_now_ms();
        unsigned long replies = smtp_engine_get_stats(s->eng)->replies;
        if (!deadline || replies != replies_seen) {
            deadline = now + s->cfg->timeout_ms;
            replies_seen = replies;
        }
        long long left = deadline - now;
        if (left <= 0) {
            sc_err_set(&err, SMTPCORE_ERR_TIMEOUT, 0, NULL, NULL, "no reply from the server within %d ms",
                       s->cfg->timeout_ms);
            smtp_engine_fail(s->eng, &err);
            smtpcore_error_clear(&err);
            continue;
        }
        long n = net_conn_read(s->conn, buf, sizeof buf, (int)left, &err);
        if (n > 0) {
            smtp_engine_feed(s->eng, buf, (size_t)n);
        } else {
            if (n == 0) {
                sc_err_set(&err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL,
                           "the server closed the connection unexpectedly");
                err.hint = lost_connection_hint;
            }
            else if (err.category == SMTPCORE_ERR_TIMEOUT)
                sc_err_set(&err, SMTPCORE_ERR_TIMEOUT, 0, NULL, NULL, "no reply from the server within %d ms",
                           s->cfg->timeout_ms);
            smtp_engine_connection_lost(s->eng, &err);
        }
        smtpcore_error_clear(&err);
    }
}

static smtpcore_session *session_start(const smtpcore_config *cfg, int manual, net_tls_ctx *tls,
                                       smtpcore_error *err);

smtpcore_session *smtpcore_session_open(const smtpcore_config *cfg, smtpcore_error *err)
{
    return session_start(cfg, 0, NULL, err);
}

smtpcore_session *smtpcore_session_connect(const smtpcore_config *cfg, smtpcore_error *err)
{
    return session_start(cfg, 1, NULL, err);
}

smtpcore_session *sc_session_open_shared(const smtpcore_config *cfg, net_tls_ctx *tls, smtpcore_error *err)
{
    return session_start(cfg, 0, tls, err);
}

static smtpcore_session *session_start(const smtpcore_config *cfg, int manual, net_tls_ctx *tls,
                                       smtpcore_error *err)
{
    if (!cfg) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no configuration");
        return NULL;
    }
    smtpcore_session *s = calloc(1, sizeof *s);
    if (!s || !(s->cfg = smtpcore_config_copy(cfg))) {
        free(s);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    if (cfg->password && !cfg->username) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "a password was given without a user name");
        goto fail;
    }
    if (!(s->host = sc_config_resolved_host(cfg, err)))
        goto fail;
    if (tls)
        s->tls = net_tls_ctx_ref(tls);
    int port = sc_config_port(cfg);
    if (s->cfg->security == SMTPCORE_SECURITY_TLS && !session_tls_ctx(s, err))
        goto fail;
    info_line(s, "connecting to %s port %d", s->host, port);
    s->conn = net_conn_open(s->host, port, cfg->connect_timeout_ms, err);
    if (!s->conn)
        goto fail;
    if (s->cfg->security == SMTPCORE_SECURITY_TLS && do_handshake(s, err) < 0)
        goto fail;

    char ehlo[300];
    if (cfg->ehlo_name)
        snprintf(ehlo, sizeof ehlo, "%s", cfg->ehlo_name);
    else
        default_ehlo_name(s, ehlo, sizeof ehlo);
    smtp_engine_opts o = {
        .security = cfg->security,
        .ehlo_name = ehlo,
        .username = cfg->username,
        .password = cfg->password,
        .oauth2_token = cfg->oauth2_token,
        .mechanism = cfg->mechanism,
        .allow_plaintext_auth = cfg->allow_plaintext_auth,
        .use_pipelining = cfg->pipelining,
        .use_chunking = cfg->chunking,
        .pipeline_depth = (unsigned)cfg->pipeline_depth,
        .all_or_nothing = cfg->all_or_nothing,
        .manual = manual,
        .transcript = cfg->transcript,
        .transcript_userdata = cfg->transcript_userdata,
    };
    s->eng = smtp_engine_new(&o, s->cfg->security == SMTPCORE_SECURITY_TLS, err);
    if (!s->eng)
        goto fail;
    smtp_want w = sc_session_pump(s, 0);
    if (w != SMTP_WANT_NOTHING) {
        const smtpcore_error *e = smtp_engine_error(s->eng);
        if (e)
            sc_err_copy(err, e);
        else
            sc_err_set(err, SMTPCORE_ERR_PROTOCOL, 0, NULL, NULL, "session set-up did not finish");
        goto fail;
    }
    return s;
fail:
    if (s->conn && s->eng && smtp_engine_want(s->eng) != SMTP_WANT_CLOSE) {
        smtp_engine_quit(s->eng);
        smtpcore_error ignore = {0};
        flush_output(s, &ignore);
        smtpcore_error_clear(&ignore);
    }
    s->dead = 1;
    smtpcore_session_close(s);
    return NULL;
}

void smtpcore_session_close(smtpcore_session *s)
{
    if (!s)
        return;
    if (!s->dead && s->conn && s->eng && smtp_engine_want(s->eng) == SMTP_WANT_NOTHING) {
        /* QUIT without waiting for 221: the server's reply tells us nothing
         * we could act on, and waiting costs a round trip. */
        smtp_engine_quit(s->eng);
        smtpcore_error ignore = {0};
        flush_output(s, &ignore);
        smtpcore_error_clear(&ignore);
    }
    net_conn_close(s->conn);
    net_tls_ctx_unref(s->tls);
    smtp_engine_free(s->eng);
    smtpcore_config_free(s->cfg);
    smtpcore_error_clear(&s->dead_err);
    free(s->host);
    free(s->body_buf);
    free(s);
}

const smtpcore_session_info *smtpcore_session_get_info(const smtpcore_session *cs)
{
    smtpcore_session *s = (smtpcore_session *)cs;
    smtpcore_session_info *i = &s->info;
    i->greeting = smtp_engine_greeting(s->eng);
    i->ehlo_before_tls = smtp_engine_ehlo_text_before_tls(s->eng);
    i->ehlo = smtp_engine_ehlo_text(s->eng);
    i->tls = s->conn ? net_conn_is_tls(s->conn) : 0;
    i->tls_version = s->conn ? net_conn_tls_version(s->conn) : NULL;
    i->tls_cipher = s->conn ? net_conn_tls_cipher(s->conn) : NULL;
    i->auth_mechanism = smtp_engine_auth_mechanism(s->eng);
    i->max_size = smtp_engine_max_size(s->eng);
    i->capabilities = smtp_engine_caps(s->eng);
    return i;
}

int sc_session_check_alive(smtpcore_session *s, smtpcore_error *err)
{
    if (!s)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no session");
    if (s->dead) {
        sc_err_copy(err, &s->dead_err);
        if (!err || !err->message)
            sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "the session is closed");
        return -1;
    }
    return 0;
}

/* After a pump: if the engine must close, the session is dead. */
void sc_session_settle(smtpcore_session *s, smtp_want w)
{
    if (w == SMTP_WANT_CLOSE) {
        const smtpcore_error *e = smtp_engine_error(s->eng);
        smtpcore_error tmp = {0};
        if (!e) {
            sc_err_set(&tmp, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "the session is closed");
            e = &tmp;
        }
        make_dead(s, e);
        smtpcore_error_clear(&tmp);
    }
}

smtp_engine *sc_session_engine(smtpcore_session *s) { return s->eng; }

char *sc_session_body_buf(smtpcore_session *s)
{
    if (!s->body_buf)
        s->body_buf = malloc(SC_BODY_CHUNK);
    return s->body_buf;
}

int smtpcore_session_send_bytes(smtpcore_session *s, const smtpcore_envelope *env, const char *msg, size_t len,
                                smtpcore_result **out, smtpcore_error *err)
{
    smtpcore_memory_source m;
    smtpcore_source src = smtpcore_source_from_memory(&m, msg, len, smtpcore_has_eight_bit(msg, len));
    return smtpcore_session_send(s, env, &src, out, err);
}

static int simple(smtpcore_session *s, int (*cmd)(smtp_engine *), smtpcore_error *err)
{
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    if (cmd(s->eng) < 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the session is busy");
    smtp_want w = sc_session_pump(s, 0);
    int rc = smtp_engine_take_simple_result(s->eng, err);
    sc_session_settle(s, w);
    return rc;
}

int smtpcore_session_noop(smtpcore_session *s, smtpcore_error *err) { return simple(s, smtp_engine_noop, err); }

/* Run one manual step that the engine has just begun (rc from the engine). */
static int finish_step(smtpcore_session *s, int rc, smtpcore_error *err)
{
    if (rc < 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the session is busy");
    smtp_want w = sc_session_pump(s, 0);
    rc = smtp_engine_take_simple_result(s->eng, err);
    sc_session_settle(s, w);
    return rc;
}

int smtpcore_session_ehlo(smtpcore_session *s, const char *name, smtpcore_error *err)
{
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    return finish_step(s, smtp_engine_ehlo(s->eng, name), err);
}

int smtpcore_session_starttls(smtpcore_session *s, smtpcore_error *err)
{
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    return finish_step(s, smtp_engine_starttls(s->eng), err);
}

int smtpcore_session_login(smtpcore_session *s, const char *user, const char *secret, const char *mechanism,
                           smtpcore_error *err)
{
    if (sc_session_check_alive(s, err) < 0)
        return -1;
    smtp_sasl_mech m = SMTP_SASL_NONE;
    if (mechanism && *mechanism && (m = smtp_sasl_mech_from_name(mechanism)) == SMTP_SASL_NONE)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown AUTH mechanism '%s'", mechanism);
    return finish_step(s, smtp_engine_auth(s->eng, m, user, secret), err);
}

int smtpcore_session_last_reply(const smtpcore_session *s, const char **text)
{
    if (text)
        *text = s && s->eng ? smtp_engine_last_text(s->eng) : "";
    return s && s->eng ? smtp_engine_last_code(s->eng) : 0;
}
int smtpcore_session_rset(smtpcore_session *s, smtpcore_error *err) { return simple(s, smtp_engine_rset, err); }

int sc_session_is_dead(const smtpcore_session *s) { return s->dead; }

int smtpcore_session_is_open(const smtpcore_session *s) { return s && !s->dead; }
