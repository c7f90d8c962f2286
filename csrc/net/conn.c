/* Sockets and TLS (see conn.h for the contract).
 *
 * The socket is non-blocking from birth; every wait is a poll() against a
 * deadline on the monotonic clock, so a timeout is one number for a whole
 * operation however many partial reads, writes or handshake rounds it takes.
 *
 * OpenSSL reaches the socket only through a small BIO of our own that calls
 * send(..., MSG_NOSIGNAL) and recv(): the stock socket BIO uses write(), which
 * raises SIGPIPE on a closed peer and would kill a host process (PHP, Python
 * embedders) that has not ignored it. The BIO also records the errno of the
 * last failed call and whether the peer closed, so errors are reported from
 * what happened on this connection rather than from a global errno. */
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/error.h"

/* BIO type of our socket BIO. A fixed number in the application range rather
 * than BIO_get_new_index(), which hands out a fresh one per call from a
 * process-wide counter and would run out if called per context. The
 * DESCRIPTOR bit makes SSL_get_fd() work. */
#define NET_BIO_TYPE (0xfe | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR)

struct net_tls_ctx {
    atomic_int refs;
    int verify;
    SSL_CTX *ssl_ctx;
    /* Owned per context rather than a process-wide static: no global state,
     * and it lives as long as any connection that holds a reference. */
    BIO_METHOD *bio_method;
};

struct net_conn {
    int fd;
    char *host;        /* as given, without IPv6 brackets */
    char *where;       /* "host:port" / "[v6]:port" for messages */
    SSL *ssl;          /* NULL until start_tls succeeds */
    net_tls_ctx *tls;  /* reference held while ssl exists (its BIO method) */
    int io_errno;      /* errno of the last failed send/recv inside the BIO */
    int peer_eof;      /* the peer's end of the stream was seen (TLS) */
    int tls_fatal;     /* OpenSSL reported a fatal error: no close_notify */
    int dead;          /* a TLS handshake failed midway: the byte stream is unusable */
};

/* ------------------------------------------------------------------ time */

long long net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* timeout_ms < 0 means no limit (deadline -1). */
static long long deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
}

static int ms_left(long long deadline)
{
    if (deadline < 0)
        return -1;
    long long left = deadline - net_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until fd is ready for events or the deadline passes.
 * 1 ready (including error/hangup: the next I/O call reports it), 0 timed out,
 * -1 poll failed (errno set). */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        int ms = ms_left(deadline);
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1;
        if (r == 0) {
            if (ms_left(deadline) == 0)
                return 0;
            continue; /* woke a little early; wait out the rest */
        }
        if (errno != EINTR)
            return -1;
    }
}

/* ------------------------------------------------------------------ strings */

static const char *errno_str(int e, char *buf, size_t n)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, n);
#else
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
#endif
}

/* Drain OpenSSL's error queue into out as "reason; reason" (deduplicated), so
 * nothing is left behind for the next connection or thread. */
static void ssl_errors(char *out, size_t cap)
{
    size_t used = 0;
    unsigned long e;
    out[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        char one[256], sys[128];
        const char *reason = ERR_reason_error_string(e);
#ifdef ERR_SYSTEM_ERROR
        if (ERR_SYSTEM_ERROR(e)) /* OpenSSL 3 packs an errno as the reason */
            reason = errno_str(ERR_GET_REASON(e), sys, sizeof sys);
#endif
        if (reason)
            snprintf(one, sizeof one, "%s", reason);
        else
            ERR_error_string_n(e, one, sizeof one);
        if (strstr(out, one))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "; " : "", one);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    ERR_clear_error();
}

static int is_ip_literal(const char *s)
{
    unsigned char a[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Copy of host without the brackets of "[v6]" and, for names, without one
 * trailing dot (neither SNI nor certificates carry it). NULL on OOM. */
static char *bare_host(const char *host, int strip_dot)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, host, n);
    s[n] = '\0';
    if (strip_dot && n > 1 && s[n - 1] == '.' && !is_ip_literal(s))
        s[n - 1] = '\0';
    return s;
}

static char *format_where(const char *host, int port)
{
    size_t n = strlen(host) + 16;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return s;
}

/* RFC 6761 section 6.4: names under .invalid never resolve, and resolver
 * libraries should say so at once instead of asking a DNS server. */
static int is_invalid_tld(const char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    if (n == 7)
        return strncasecmp(host, "invalid", 7) == 0;
    return n > 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0;
}

/* ------------------------------------------------------------------ socket BIO */

static int bio_sock_write(BIO *b, const char *buf, int len)
{
    net_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    for (;;) {
        ssize_t n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_write(b);
            return -1;
        }
        c->io_errno = errno;
        return -1;
    }
}

static int bio_sock_read(BIO *b, char *buf, int len)
{
    net_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!buf || len <= 0)
        return 0;
    for (;;) {
        ssize_t n = recv(c->fd, buf, (size_t)len, 0);
        if (n >= 0) {
            if (n == 0)
                c->peer_eof = 1; /* OpenSSL decides whether that was clean */
            return (int)n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_read(b);
            return -1;
        }
        c->io_errno = errno;
        return -1;
    }
}

static long bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* nothing is buffered here */
    case BIO_C_GET_FD: {
        net_conn *c = BIO_get_data(b);
        if (!c)
            return -1;
        if (ptr)
            *(int *)ptr = c->fd;
        return c->fd;
    }
    default:
        return 0; /* as the stock socket BIO does for what it does not know */
    }
}

static int bio_sock_create(BIO *b)
{
    BIO_set_data(b, NULL);
    BIO_set_init(b, 0);
    return 1;
}

static int bio_sock_destroy(BIO *b)
{
    /* The fd belongs to the net_conn, which closes it. */
    BIO_set_data(b, NULL);
    BIO_set_init(b, 0);
    return 1;
}

/* ------------------------------------------------------------------ TLS context */

/* Never let OpenSSL prompt on the terminal for a key passphrase (its default
 * for encrypted PEM keys): an encrypted key without a passphrase just fails. */
/* OpenSSL's pem_password_cb type fixes the signature. NOLINTNEXTLINE(readability-non-const-parameter) */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf, (void)size, (void)rwflag, (void)userdata;
    return -1;
}

static void tls_ctx_free(net_tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ssl_ctx);
    if (t->bio_method)
        BIO_meth_free(t->bio_method);
    free(t);
}

net_tls_ctx *net_tls_ctx_new(const net_tls_opts *opts, smtpcore_error *err)
{
    static const net_tls_opts defaults = {0};
    char why[512];
    if (!opts)
        opts = &defaults;
    if (opts->client_key && !opts->client_cert) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "a TLS client key was given without a client certificate");
        return NULL;
    }

    ERR_clear_error();
    net_tls_ctx *t = calloc(1, sizeof *t);
    if (!t) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->verify = opts->insecure_no_verify ? 0 : 1;

    t->ssl_ctx = SSL_CTX_new(TLS_client_method());
    t->bio_method = BIO_meth_new(NET_BIO_TYPE, "smtpcore socket");
    if (!t->ssl_ctx || !t->bio_method || !BIO_meth_set_write(t->bio_method, bio_sock_write) ||
        !BIO_meth_set_read(t->bio_method, bio_sock_read) || !BIO_meth_set_ctrl(t->bio_method, bio_sock_ctrl) ||
        !BIO_meth_set_create(t->bio_method, bio_sock_create) ||
        !BIO_meth_set_destroy(t->bio_method, bio_sock_destroy)) {
        ssl_errors(why, sizeof why);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "could not create a TLS context: %s",
                   why[0] ? why : "out of memory");
        goto fail;
    }
    if (!SSL_CTX_set_min_proto_version(t->ssl_ctx, TLS1_2_VERSION)) {
        ssl_errors(why, sizeof why);
        sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "could not set TLS 1.2 as the minimum version: %s", why);
        goto fail;
    }
    /* Partial writes let write_all advance through a large buffer a record
     * at a time instead of OpenSSL holding all of it. */
    SSL_CTX_set_mode(t->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(t->ssl_ctx, no_passphrase);

    if (opts->ca_file || opts->ca_dir) {
        if (!SSL_CTX_load_verify_locations(t->ssl_ctx, opts->ca_file, opts->ca_dir)) {
            ssl_errors(why, sizeof why);
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "could not load CA certificates from %s%s%s: %s",
                       opts->ca_file ? opts->ca_file : "", opts->ca_file && opts->ca_dir ? " and " : "",
                       opts->ca_dir ? opts->ca_dir : "", why[0] ? why : "no certificates found");
            goto fail;
        }
    } else if (t->verify) {
        if (!SSL_CTX_set_default_verify_paths(t->ssl_ctx)) {
            ssl_errors(why, sizeof why);
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL,
                       "could not load the system's trusted CA certificates: %s", why);
            goto fail;
        }
    }
    SSL_CTX_set_verify(t->ssl_ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);

    if (opts->client_cert) {
        const char *key = opts->client_key ? opts->client_key : opts->client_cert;
        if (SSL_CTX_use_certificate_chain_file(t->ssl_ctx, opts->client_cert) != 1) {
            ssl_errors(why, sizeof why);
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "could not load the TLS client certificate %s: %s",
                       opts->client_cert, why);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(t->ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
            ssl_errors(why, sizeof why);
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "could not load the TLS client key %s: %s", key, why);
            goto fail;
        }
        if (SSL_CTX_check_private_key(t->ssl_ctx) != 1) {
            ssl_errors(why, sizeof why);
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL,
                       "the TLS client key %s does not match the certificate %s: %s", key, opts->client_cert, why);
            goto fail;
        }
    }
    ERR_clear_error();
    return t;

fail:
    ERR_clear_error();
    tls_ctx_free(t);
    return NULL;
}

net_tls_ctx *net_tls_ctx_ref(net_tls_ctx *ctx)
{
    if (ctx)
        atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void net_tls_ctx_unref(net_tls_ctx *ctx)
{
    if (ctx && atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1)
        tls_ctx_free(ctx);
}

/* ------------------------------------------------------------------ connect */

static int set_dns_error(smtpcore_error *err, const char *host, int rc, int sys_errno)
{
    char eb[128];
    if (rc == EAI_MEMORY)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory resolving %s", host);
    if (rc == EAI_SYSTEM)
        return sc_err_set(err, SMTPCORE_ERR_DNS, 0, NULL, NULL, "could not resolve host %s: %s", host,
                          errno_str(sys_errno, eb, sizeof eb));
    return sc_err_set(err, SMTPCORE_ERR_DNS, 0, NULL, NULL, "could not resolve host %s: %s", host, gai_strerror(rc));
}

/* One non-blocking connect attempt. Returns the fd, or -1 with *e set to the
 * errno (0 if the attempt ran out of time). */
static int connect_one(const struct addrinfo *ai, long long deadline, int *e)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *e = errno;
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    /* EINTR: a non-blocking connect carries on in the background. */
    if (errno != EINPROGRESS && errno != EINTR) {
        *e = errno;
        close(fd);
        return -1;
    }
    int w = wait_fd(fd, POLLOUT, deadline);
    if (w <= 0) {
        *e = w == 0 ? 0 : errno;
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr) {
        *e = soerr;
        close(fd);
        return -1;
    }
    return fd;
}

static void addr_text(const struct addrinfo *ai, char *out, size_t n)
{
    const void *a = ai->ai_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                              : (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
    if (!inet_ntop(ai->ai_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}

net_conn *net_conn_open(const char *host, int port, int timeout_ms, smtpcore_error *err)
{
    if (!host || !*host || strpbrk(host, "\r\n")) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no valid host name to connect to");
        return NULL;
    }
    if (port <= 0 || port > 65535) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "port %d is out of range (1-65535)", port);
        return NULL;
    }
    long long deadline = deadline_after(timeout_ms);

    net_conn *c = calloc(1, sizeof *c);
    if (c) {
        c->fd = -1;
        c->host = bare_host(host, 0);
        c->where = c->host ? format_where(c->host, port) : NULL;
    }
    if (!c || !c->host || !c->where) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        net_conn_close(c);
        return NULL;
    }

    if (is_invalid_tld(c->host)) {
        sc_err_set(err, SMTPCORE_ERR_DNS, 0, NULL, NULL,
                   "could not resolve host %s: names under .invalid never resolve (RFC 6761)", c->host);
        net_conn_close(c);
        return NULL;
    }

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    errno = 0;
    int rc = getaddrinfo(c->host, service, &hints, &res);
    if (rc != 0 || !res) {
        set_dns_error(err, c->host, rc ? rc : EAI_NONAME, errno);
        if (res)
            freeaddrinfo(res);
        net_conn_close(c);
        return NULL;
    }

    size_t n_addrs = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n_addrs++;

    int last_errno = 0, tried = 0;
    char last_addr[INET6_ADDRSTRLEN] = "";
    size_t i = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next, i++) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        int left = ms_left(deadline);
        if (deadline >= 0 && left == 0)
            break;
        /* Share the time left among the addresses left, so one black-holed
         * address (typically IPv6 without a route) cannot use up the whole
         * budget; the last address gets all that remains. */
        long long attempt_deadline = deadline;
        if (deadline >= 0 && n_addrs - i > 1)
            attempt_deadline = net_now_ms() + left / (long long)(n_addrs - i);
        int e = 0;
        int fd = connect_one(ai, attempt_deadline, &e);
        if (fd >= 0) {
            c->fd = fd;
            break;
        }
        if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT)
            continue; /* this machine has no IPv6 (or IPv4) at all */
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            char eb[128];
            sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "could not create a socket to connect to %s: %s",
                       c->where, errno_str(e, eb, sizeof eb));
            freeaddrinfo(res);
            net_conn_close(c);
            return NULL;
        }
        tried++;
        last_errno = e;
        addr_text(ai, last_addr, sizeof last_addr);
    }
    freeaddrinfo(res);
    if (c->fd >= 0)
        return c;

    if (deadline >= 0 && (ms_left(deadline) == 0 || (tried && last_errno == 0))) {
        sc_err_set(err, SMTPCORE_ERR_TIMEOUT, 0, NULL, NULL, "connect to %s timed out after %d ms", c->where,
                   timeout_ms);
    } else if (!tried) {
        sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL,
                   "connect to %s failed: no usable IPv4 or IPv6 address", c->where);
    } else {
        char eb[128];
        int same = strcmp(last_addr, c->host) == 0;
        smtpcore_category cat = last_errno == ETIMEDOUT ? SMTPCORE_ERR_TIMEOUT : SMTPCORE_ERR_CONNECT;
        char extra[64] = "";
        if (tried > 1)
            snprintf(extra, sizeof extra, " (tried %d addresses)", tried);
        sc_err_set(err, cat, 0, NULL, NULL, "connect to %s%s%s%s failed: %s%s", c->where, same ? "" : " (",
                   same ? "" : last_addr, same ? "" : ")", errno_str(last_errno, eb, sizeof eb), extra);
    }
    net_conn_close(c);
    return NULL;
}

/* ------------------------------------------------------------------ TLS handshake */

static int has_peer_cert(const SSL *ssl)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get0_peer_certificate(ssl) != NULL;
#else
    X509 *x = SSL_get_peer_certificate(ssl);
    X509_free(x);
    return x != NULL;
#endif
}

int net_conn_start_tls(net_conn *c, net_tls_ctx *ctx, const char *server_name, int timeout_ms,
                       smtpcore_error *err)
{
    if (!c || !ctx)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "start_tls needs a connection and a TLS context");
    if (c->ssl || c->dead)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "TLS was already started on the connection to %s",
                          c->where);
    if (server_name && strpbrk(server_name, "\r\n"))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the TLS server name contains a line break");
    long long deadline = deadline_after(timeout_ms);

    char *name = bare_host(server_name && *server_name ? server_name : c->host, 1);
    if (!name)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    int ip = is_ip_literal(name);
    char why[512];

    ERR_clear_error();
    SSL *ssl = SSL_new(ctx->ssl_ctx);
    BIO *bio = ssl ? BIO_new(ctx->bio_method) : NULL;
    if (!bio) {
        ssl_errors(why, sizeof why);
        SSL_free(ssl);
        free(name);
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "could not create a TLS session: %s",
                          why[0] ? why : "out of memory");
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio); /* ssl owns bio now */

    /* SNI is for names only (RFC 6066 forbids IP literals). */
    int ok = ip || SSL_set_tlsext_host_name(ssl, name) == 1;
    if (ok && ctx->verify) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
        } else {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(ssl, name) == 1;
        }
    }
    if (!ok) {
        ssl_errors(why, sizeof why);
        SSL_free(ssl);
        sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "cannot use \"%s\" as the TLS server name: %s", name,
                   why[0] ? why : "invalid name");
        free(name);
        return -1;
    }
    SSL_set_connect_state(ssl);

    /* From here on bytes go out, so a failure leaves the stream unusable. */
    c->io_errno = 0;
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
            char eb[128];
            if (w == 0)
                sc_err_set(err, SMTPCORE_ERR_TIMEOUT, 0, NULL, NULL, "TLS handshake with %s timed out after %d ms",
                           c->where, timeout_ms);
            else
                sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "waiting for %s failed: %s", c->where,
                           errno_str(errno, eb, sizeof eb));
            goto fail;
        }
        long vr = SSL_get_verify_result(ssl);
        ssl_errors(why, sizeof why);
        if (ctx->verify && vr != X509_V_OK) {
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS certificate verification failed for %s: %s%s%s%s",
                       name, X509_verify_cert_error_string(vr), why[0] ? " (" : "", why, why[0] ? ")" : "");
        } else if (e == SSL_ERROR_SYSCALL && !why[0]) {
            char eb[128];
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS handshake with %s failed: %s", c->where,
                       c->io_errno ? errno_str(c->io_errno, eb, sizeof eb) : "connection closed by server");
        } else {
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS handshake with %s failed: %s", c->where,
                       why[0] ? why : "unknown error");
        }
        goto fail;
    }
    /* Belt and braces: with SSL_VERIFY_PEER a failed check already ends the
     * handshake, but a missing certificate also verifies as X509_V_OK. */
    if (ctx->verify) {
        long vr = SSL_get_verify_result(ssl);
        if (vr != X509_V_OK || !has_peer_cert(ssl)) {
            sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS certificate verification failed for %s: %s", name,
                       vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "the server sent no certificate");
            goto fail;
        }
    }
    ERR_clear_error();
    free(name);
    c->ssl = ssl;
    c->tls = net_tls_ctx_ref(ctx);
    return 0;

fail:
    ERR_clear_error();
    SSL_free(ssl);
    ERR_clear_error();
    free(name);
    c->dead = 1;
    return -1;
}

/* ------------------------------------------------------------------ I/O */

static int dead_error(net_conn *c, smtpcore_error *err)
{
    return sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL,
                      "the connection to %s is unusable after a failed TLS handshake", c->where);
}

static int wait_error(net_conn *c, int w, int timeout_ms, const char *doing, smtpcore_error *err)
{
    char eb[128];
    if (w == 0)
        return sc_err_set(err, SMTPCORE_ERR_TIMEOUT, 0, NULL, NULL, "timed out after %d ms %s %s", timeout_ms, doing,
                          c->where);
    return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "waiting for %s failed: %s", c->where,
                      errno_str(errno, eb, sizeof eb));
}

static int read_errno_error(net_conn *c, int e, smtpcore_error *err)
{
    char eb[128];
    if (e == ECONNRESET)
        return sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "connection reset by server while reading from %s",
                          c->where);
    return sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "read from %s failed: %s", c->where,
                      errno_str(e, eb, sizeof eb));
}

static int write_errno_error(net_conn *c, int e, smtpcore_error *err)
{
    char eb[128];
    if (e == EPIPE || e == ECONNRESET || e == 0)
        return sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL,
                          "connection closed by server while writing to %s (%s)", c->where,
                          e ? errno_str(e, eb, sizeof eb) : "end of stream");
    return sc_err_set(err, SMTPCORE_ERR_CONNECT, 0, NULL, NULL, "write to %s failed: %s", c->where,
                      errno_str(e, eb, sizeof eb));
}

static int tls_unexpected_eof(unsigned long e)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    return ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
    (void)e;
    return 0;
#endif
}

long net_conn_read(net_conn *c, char *buf, size_t n, int timeout_ms, smtpcore_error *err)
{
    if (!c || !buf || n == 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "net_conn_read needs a connection and a buffer");
    if (c->dead)
        return dead_error(c, err);
    long long deadline = deadline_after(timeout_ms);
    if (n > INT_MAX)
        n = INT_MAX;

    for (;;) {
        short want = POLLIN;
        if (!c->ssl) {
            ssize_t r = recv(c->fd, buf, n, 0);
            if (r >= 0)
                return (long)r;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return read_errno_error(c, errno, err);
        } else {
            ERR_clear_error();
            c->io_errno = 0;
            int r = SSL_read(c->ssl, buf, (int)n);
            if (r > 0)
                return r;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN) {
                ERR_clear_error();
                c->peer_eof = 1;
                return 0; /* close_notify */
            }
            if (e == SSL_ERROR_WANT_WRITE) {
                want = POLLOUT; /* e.g. answering a key update */
            } else if (e != SSL_ERROR_WANT_READ) {
                c->tls_fatal = 1;
                unsigned long first = ERR_peek_error();
                /* A close without close_notify is still the end of the
                 * stream: SMTP frames its own data, and many servers do it.
                 * OpenSSL 3 reports it as an SSL error, 1.1 as SYSCALL with
                 * nothing queued and no errno. */
                if ((e == SSL_ERROR_SYSCALL && first == 0 && c->io_errno == 0) ||
                    (e == SSL_ERROR_SSL && tls_unexpected_eof(first))) {
                    ERR_clear_error();
                    return 0;
                }
                if (e == SSL_ERROR_SYSCALL && c->io_errno) {
                    ERR_clear_error();
                    return read_errno_error(c, c->io_errno, err);
                }
                char why[512];
                ssl_errors(why, sizeof why);
                return sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS error reading from %s: %s", c->where,
                                  why[0] ? why : "unknown error");
            }
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w <= 0)
            return wait_error(c, w, timeout_ms, "waiting for data from", err);
    }
}

int net_conn_write_all(net_conn *c, const char *buf, size_t n, int timeout_ms, smtpcore_error *err)
{
    if (!c || (!buf && n))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "net_conn_write_all needs a connection and a buffer");
    if (c->dead)
        return dead_error(c, err);
    long long deadline = deadline_after(timeout_ms);

    while (n > 0) {
        short want = POLLOUT;
        if (!c->ssl) {
            ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
            if (r >= 0) {
                buf += r;
                n -= (size_t)r;
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return write_errno_error(c, errno, err);
        } else {
            /* After WANT_*, the retry repeats the same (buf, len): n only
             * changes when bytes were accepted. */
            int chunk = n > INT_MAX ? INT_MAX : (int)n;
            ERR_clear_error();
            c->io_errno = 0;
            int r = SSL_write(c->ssl, buf, chunk);
            if (r > 0) {
                buf += r;
                n -= (size_t)r;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                want = POLLIN;
            } else if (e != SSL_ERROR_WANT_WRITE) {
                c->tls_fatal = 1;
                /* Once the peer has gone, any failure to write is "closed",
                 * whatever state that left OpenSSL in. */
                if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN || c->peer_eof) {
                    ERR_clear_error();
                    return write_errno_error(c, c->io_errno, err);
                }
                char why[512];
                ssl_errors(why, sizeof why);
                return sc_err_set(err, SMTPCORE_ERR_TLS, 0, NULL, NULL, "TLS error writing to %s: %s", c->where,
                                  why[0] ? why : "unknown error");
            }
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w <= 0)
            return wait_error(c, w, timeout_ms, "writing to", err);
    }
    return 0;
}

int net_conn_readable_now(net_conn *c)
{
    if (!c || c->fd < 0 || c->dead)
        return 0;
    if (c->ssl && SSL_pending(c->ssl) > 0)
        return 1;
    struct pollfd p = { .fd = c->fd, .events = POLLIN, .revents = 0 };
    int r;
    do
        r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    /* Hang-up and error count too: a read returns (0 or the error) at once. */
    return r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

/* ------------------------------------------------------------------ accessors, close */

int net_conn_is_tls(const net_conn *c) { return c && c->ssl ? 1 : 0; }

const char *net_conn_tls_version(const net_conn *c) { return c && c->ssl ? SSL_get_version(c->ssl) : NULL; }

const char *net_conn_tls_cipher(const net_conn *c)
{
    return c && c->ssl ? SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)) : NULL;
}

int net_conn_fd(const net_conn *c) { return c ? c->fd : -1; }

void net_conn_close(net_conn *c)
{
    if (!c)
        return;
    if (c->ssl) {
        /* One close_notify, no waiting for the peer's (the socket is
         * non-blocking, so this never blocks); never after a fatal error,
         * which OpenSSL forbids. */
        if (!c->tls_fatal && SSL_is_init_finished(c->ssl)) {
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl);
        }
        ERR_clear_error();
        SSL_free(c->ssl);
    }
    net_tls_ctx_unref(c->tls);
    if (c->fd >= 0)
        close(c->fd);
    free(c->host);
    free(c->where);
    free(c);
}
