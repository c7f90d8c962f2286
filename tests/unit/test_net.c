/* net/conn: sockets, timeouts and TLS against servers run in threads of this
 * process, on 127.0.0.1 and ::1 only. The certificates (a CA, a second CA the
 * client does not trust, server and client certificates) are made at run time
 * with OpenSSL's C API, so the test needs no files and no openssl command.
 *
 * No test sends anything off the machine: host names that must fail to
 * resolve are either under .invalid (which conn.c answers itself, RFC 6761)
 * or have a label too long for DNS, which the resolver refuses before
 * building a query. */
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "testlib.h"

#define SKIP(why) \
    do { fprintf(stderr, "    skipped: %s\n", why); return; } while (0)

#define CHECK_CONTAINS(hay, needle) \
    do { const char *tl_h = (hay), *tl_n = (needle); \
         if (!tl_h || !strstr(tl_h, tl_n)) \
             tl_fail(__FILE__, __LINE__, "%s == \"%s\" lacks \"%s\"", #hay, tl_h ? tl_h : "(null)", tl_n); } while (0)

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ certificates */

static struct pki {
    int ready;
    char dir[64];
    char ca_path[128], other_ca_path[128], client_cert_path[128], client_key_path[128];
    EVP_PKEY *ca_key, *other_ca_key, *srv_key, *client_key;
    X509 *ca, *other_ca;
    X509 *srv;        /* by ca: DNS:localhost, IP:127.0.0.1, IP:::1 */
    X509 *srv_dnsip;  /* by ca: DNS:127.0.0.1 only (an IP written as a name) */
    X509 *client;     /* by ca: CN "smtpcore test client" */
} pki;

static EVP_PKEY *gen_key(void)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (pc && EVP_PKEY_keygen_init(pc) > 0 && EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pc, NID_X9_62_prime256v1) > 0)
        EVP_PKEY_keygen(pc, &k);
    EVP_PKEY_CTX_free(pc);
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v;
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    if (!ex)
        return 0;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok;
}

/* issuer NULL: self-signed. san may be NULL. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509 *iss = issuer ? issuer : x;
    X509_NAME *name = X509_get_subject_name(x);
    int ok = X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) && X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
             X509_set_pubkey(x, key) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
             X509_set_issuer_name(x, X509_get_subject_name(iss)) &&
             add_ext(x, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
             add_ext(x, iss, NID_subject_key_identifier, "hash") &&
             (ca || add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth")) &&
             (!issuer || add_ext(x, iss, NID_authority_key_identifier, "keyid:always")) &&
             (!san || add_ext(x, iss, NID_subject_alt_name, san)) &&
             X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok;
}

static void pki_cleanup(void)
{
    if (!pki.ready)
        return;
    unlink(pki.ca_path);
    unlink(pki.other_ca_path);
    unlink(pki.client_cert_path);
    unlink(pki.client_key_path);
    rmdir(pki.dir);
    X509_free(pki.ca);
    X509_free(pki.other_ca);
    X509_free(pki.srv);
    X509_free(pki.srv_dnsip);
    X509_free(pki.client);
    EVP_PKEY_free(pki.ca_key);
    EVP_PKEY_free(pki.other_ca_key);
    EVP_PKEY_free(pki.srv_key);
    EVP_PKEY_free(pki.client_key);
    memset(&pki, 0, sizeof pki);
}

static void pki_setup(void)
{
    if (pki.ready)
        return;
    snprintf(pki.dir, sizeof pki.dir, "/tmp/smtpcore-test-net-XXXXXX");
    REQUIRE(mkdtemp(pki.dir) != NULL);
    snprintf(pki.ca_path, sizeof pki.ca_path, "%s/ca.pem", pki.dir);
    snprintf(pki.other_ca_path, sizeof pki.other_ca_path, "%s/other-ca.pem", pki.dir);
    snprintf(pki.client_cert_path, sizeof pki.client_cert_path, "%s/client.pem", pki.dir);
    snprintf(pki.client_key_path, sizeof pki.client_key_path, "%s/client-key.pem", pki.dir);
    pki.ready = 1;
    atexit(pki_cleanup); /* registered after OpenSSL's own, so it runs first */

    pki.ca_key = gen_key();
    pki.other_ca_key = gen_key();
    pki.srv_key = gen_key();
    pki.client_key = gen_key();
    REQUIRE(pki.ca_key && pki.other_ca_key && pki.srv_key && pki.client_key);
    pki.ca = make_cert("smtpcore test CA", pki.ca_key, NULL, NULL, 1, NULL);
    pki.other_ca = make_cert("smtpcore untrusted CA", pki.other_ca_key, NULL, NULL, 1, NULL);
    REQUIRE(pki.ca && pki.other_ca);
    pki.srv = make_cert("localhost", pki.srv_key, pki.ca, pki.ca_key, 0, "DNS:localhost,IP:127.0.0.1,IP:::1");
    pki.srv_dnsip = make_cert("127.0.0.1", pki.srv_key, pki.ca, pki.ca_key, 0, "DNS:127.0.0.1");
    pki.client = make_cert("smtpcore test client", pki.client_key, pki.ca, pki.ca_key, 0, NULL);
    REQUIRE(pki.srv && pki.srv_dnsip && pki.client);
    REQUIRE(write_pem(pki.ca_path, pki.ca, NULL));
    REQUIRE(write_pem(pki.other_ca_path, pki.other_ca, NULL));
    REQUIRE(write_pem(pki.client_cert_path, pki.client, NULL));
    REQUIRE(write_pem(pki.client_key_path, NULL, pki.client_key));
}

static SSL_CTX *server_ctx(X509 *cert)
{
    SSL_CTX *s = SSL_CTX_new(TLS_server_method());
    if (s && (SSL_CTX_use_certificate(s, cert) != 1 || SSL_CTX_use_PrivateKey(s, pki.srv_key) != 1)) {
        SSL_CTX_free(s);
        s = NULL;
    }
    return s;
}

static net_tls_ctx *client_ctx(int verify, const char *ca_file)
{
    net_tls_opts o = { .insecure_no_verify = !verify, .ca_file = ca_file };
    smtpcore_error err = { 0 };
    net_tls_ctx *t = net_tls_ctx_new(&o, &err);
    if (!t)
        fprintf(stderr, "    net_tls_ctx_new: %s\n", err.message ? err.message : "?");
    smtpcore_error_clear(&err);
    return t;
}

/* ------------------------------------------------------------------ servers */

enum srv_mode {
    M_ECHO,         /* echo until the client closes */
    M_SILENT,       /* read and discard, never answer */
    M_STALL,        /* never read, never answer, until told to stop */
    M_CLOSE,        /* close at once (after the handshake if TLS), no close_notify */
    M_CLOSE_NOTIFY, /* TLS: send close_notify, then close */
    M_GARBAGE,      /* answer a ClientHello with plain text */
    M_SINK,         /* read SINK_BYTES bytes, answer "OK <count> <sum>\n" */
    M_PEERCERT,     /* TLS: answer with the client certificate's CN */
    M_STARTTLS      /* plain "220 ready\r\n", then the TLS handshake, then echo */
};

#define SINK_BYTES (2u << 20)

struct srv {
    int lfd, port, wake[2];
    pthread_t th;
    SSL_CTX *ctx; /* NULL: plain TCP */
    enum srv_mode mode;
    /* results, read after srv_stop() */
    int accepted, handshake_ok, had_sni;
    char sni[256];
};

static int s_read(SSL *ssl, int fd, char *b, int n) { return ssl ? SSL_read(ssl, b, n) : (int)recv(fd, b, (size_t)n, 0); }

static int s_write_all(SSL *ssl, int fd, const char *b, int n)
{
    while (n > 0) {
        int r = ssl ? SSL_write(ssl, b, n) : (int)send(fd, b, (size_t)n, MSG_NOSIGNAL);
        if (r <= 0)
            return -1;
        b += r;
        n -= r;
    }
    return 0;
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    /* A SIGPIPE raised by the server side is not what is under test: keep it
     * pending on this thread (dropped when the thread ends). The main thread,
     * where conn.c runs, keeps the default action, so one from there kills. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct pollfd p = { .fd = s->lfd, .events = POLLIN, .revents = 0 };
    if (poll(&p, 1, 3000) != 1)
        return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    s->accepted = 1;
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    SSL *ssl = NULL;
    static const char ready[] = "220 ready\r\n";
    char buf[16384];
    if (s->mode == M_GARBAGE) {
        static const char junk[] = "220 smtp.example ESMTP this is not TLS\r\n";
        (void)recv(fd, buf, sizeof buf, 0);
        (void)send(fd, junk, sizeof junk - 1, MSG_NOSIGNAL);
        while (recv(fd, buf, sizeof buf, 0) > 0) {
        }
        goto out;
    }
    if (s->mode == M_STARTTLS)
        (void)send(fd, ready, sizeof ready - 1, MSG_NOSIGNAL);
    if (s->ctx) {
        ssl = SSL_new(s->ctx);
        if (!ssl)
            goto out;
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto out;
        s->handshake_ok = 1;
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        if (sni) {
            s->had_sni = 1;
            snprintf(s->sni, sizeof s->sni, "%s", sni);
        }
    }

    int n;
    switch (s->mode) {
    case M_ECHO:
    case M_STARTTLS:
        while ((n = s_read(ssl, fd, buf, sizeof buf)) > 0)
            if (s_write_all(ssl, fd, buf, n) < 0)
                break;
        break;
    case M_SILENT:
        while (s_read(ssl, fd, buf, sizeof buf) > 0) {
        }
        break;
    case M_STALL: {
        struct pollfd w = { .fd = s->wake[0], .events = POLLIN, .revents = 0 };
        (void)poll(&w, 1, 5000);
        break;
    }
    case M_CLOSE:
        break;
    case M_CLOSE_NOTIFY:
        (void)SSL_shutdown(ssl);
        break;
    case M_SINK: {
        size_t got = 0;
        unsigned long sum = 0;
        sleep_ms(50); /* let the client's buffers fill so its writes must wait */
        while (got < SINK_BYTES && (n = s_read(ssl, fd, buf, sizeof buf)) > 0) {
            for (int i = 0; i < n; i++)
                sum += (unsigned char)buf[i];
            got += (size_t)n;
        }
        n = snprintf(buf, sizeof buf, "OK %zu %lu\n", got, sum);
        if (s_write_all(ssl, fd, buf, n) == 0)
            while (s_read(ssl, fd, buf, sizeof buf) > 0) {
            }
        break;
    }
    case M_PEERCERT: {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        X509 *pc = SSL_get1_peer_certificate(ssl);
#else
        X509 *pc = SSL_get_peer_certificate(ssl);
#endif
        char cn[128] = "none";
        if (pc)
            X509_NAME_get_text_by_NID(X509_get_subject_name(pc), NID_commonName, cn, sizeof cn);
        X509_free(pc);
        n = snprintf(buf, sizeof buf, "cert:%s\n", cn);
        if (s_write_all(ssl, fd, buf, n) == 0)
            while (s_read(ssl, fd, buf, sizeof buf) > 0) {
            }
        break;
    }
    case M_GARBAGE:
        break;
    }
out:
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return NULL;
}

/* Listen on the loopback address of family and serve one connection in a
 * thread. Returns 0, or -1 if the family is not available here. */
static int srv_start(struct srv *s, int family, SSL_CTX *ctx, enum srv_mode mode)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->mode = mode;
    s->lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (bind(s->lfd, (struct sockaddr *)&ss, len) != 0 || listen(s->lfd, 4) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&ss, &len) != 0 || pipe(s->wake) != 0) {
        close(s->lfd);
        return -1;
    }
    s->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    if (pthread_create(&s->th, NULL, srv_main, s) != 0) {
        close(s->lfd);
        close(s->wake[0]);
        close(s->wake[1]);
        return -1;
    }
    return 0;
}

static void srv_stop(struct srv *s)
{
    (void)!write(s->wake[1], "x", 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
}

/* A TCP port on 127.0.0.1 that refuses connections: bound (so nobody else
 * takes it) but not listening. Returns the socket; *port gets the port. */
static int refusing_port(int family, int *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
        len = sizeof(struct sockaddr_in6);
    } else {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(struct sockaddr_in);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Read until a '\n' (or n-1 bytes), NUL-terminate; returns the length or -1. */
static long read_line(net_conn *c, char *buf, size_t n, smtpcore_error *err)
{
    size_t got = 0;
    while (got + 1 < n) {
        long r = net_conn_read(c, buf + got, n - 1 - got, 2000, err);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        if (memchr(buf, '\n', got))
            break;
    }
    buf[got] = '\0';
    return (long)got;
}

static void echo_roundtrip(net_conn *c, const char *msg)
{
    smtpcore_error err = { 0 };
    size_t n = strlen(msg);
    char buf[256];
    CHECK_INT_EQ(net_conn_write_all(c, msg, n, 2000, &err), 0);
    size_t got = 0;
    while (got < n) {
        long r = net_conn_read(c, buf + got, sizeof buf - got, 2000, &err);
        if (r <= 0) {
            tl_fail(__FILE__, __LINE__, "echo read returned %ld: %s", r, err.message ? err.message : "");
            break;
        }
        got += (size_t)r;
    }
    CHECK_MEM_EQ(buf, got, msg, n);
    smtpcore_error_clear(&err);
}

/* Connect to 127.0.0.1:port, TLS with ctx and server_name; returns the
 * connection or NULL with err filled. */
static net_conn *tls_connect(int port, net_tls_ctx *ctx, const char *server_name, smtpcore_error *err)
{
    net_conn *c = net_conn_open("127.0.0.1", port, 2000, err);
    if (c && net_conn_start_tls(c, ctx, server_name, 2000, err) != 0) {
        net_conn_close(c);
        c = NULL;
    }
    return c;
}

/* ------------------------------------------------------------------ plain TCP */

static void test_plain_echo(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    REQUIRE(srv_start(&s, AF_INET, NULL, M_ECHO) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    CHECK(net_conn_fd(c) >= 0);
    CHECK_INT_EQ(net_conn_is_tls(c), 0);
    CHECK(net_conn_tls_version(c) == NULL);
    CHECK(net_conn_tls_cipher(c) == NULL);
    echo_roundtrip(c, "EHLO client.example\r\n");
    echo_roundtrip(c, "QUIT\r\n");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(s.accepted);
    smtpcore_error_clear(&err);
}

static void test_plain_readable_now(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[16];
    REQUIRE(srv_start(&s, AF_INET, NULL, M_ECHO) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    CHECK_INT_EQ(net_conn_readable_now(c), 0);
    CHECK_INT_EQ(net_conn_write_all(c, "hello", 5, 2000, &err), 0);
    CHECK_INT_EQ(net_conn_read(c, buf, 1, 2000, &err), 1);
    CHECK_INT_EQ(net_conn_readable_now(c), 1);
    CHECK_INT_EQ(net_conn_read(c, buf + 1, 4, 2000, &err), 4);
    CHECK_MEM_EQ(buf, 5, "hello", 5);
    CHECK_INT_EQ(net_conn_readable_now(c), 0);
    net_conn_close(c);
    srv_stop(&s);
    smtpcore_error_clear(&err);
}

static void test_connection_refused(void)
{
    smtpcore_error err = { 0 };
    int port = 0;
    int fd = refusing_port(AF_INET, &port);
    REQUIRE(fd >= 0);
    long long t0 = net_now_ms();
    net_conn *c = net_conn_open("127.0.0.1", port, 2000, &err);
    CHECK(c == NULL);
    CHECK(net_now_ms() - t0 < 1000);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_CONNECT);
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    CHECK_CONTAINS(err.message, where);
    CHECK_CONTAINS(err.message, "refused");
    net_conn_close(c);
    close(fd);
    smtpcore_error_clear(&err);
}

static void test_dns_failure(void)
{
    smtpcore_error err = { 0 };
    long long t0 = net_now_ms();
    net_conn *c = net_conn_open("nonexistent.invalid", 25, 2000, &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_DNS);
    CHECK_CONTAINS(err.message, "nonexistent.invalid");
    CHECK(net_now_ms() - t0 < 500);

    /* A 64-octet label cannot be put in a DNS query: getaddrinfo itself fails
     * (EAI_NONAME) without asking a server. This is the getaddrinfo path. */
    char name[128];
    memset(name, 'a', 64);
    snprintf(name + 64, sizeof name - 64, ".test");
    c = net_conn_open(name, 25, 2000, &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_DNS);
    CHECK_CONTAINS(err.message, name);
    CHECK(net_now_ms() - t0 < 1000);
    smtpcore_error_clear(&err);
}

static void test_usage_errors(void)
{
    smtpcore_error err = { 0 };
    CHECK(net_conn_open(NULL, 25, 1000, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(net_conn_open("", 25, 1000, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(net_conn_open("127.0.0.1", 0, 1000, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(net_conn_open("127.0.0.1", 65536, 1000, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(net_conn_open("mx.example\r\nRCPT", 25, 1000, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    net_conn_close(NULL);
    smtpcore_error_clear(&err);
}

static void test_read_timeout(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[64];
    REQUIRE(srv_start(&s, AF_INET, NULL, M_SILENT) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    long long t0 = net_now_ms();
    long r = net_conn_read(c, buf, sizeof buf, 300, &err);
    long long dt = net_now_ms() - t0;
    CHECK_INT_EQ(r, -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "300 ms");
    if (dt < 270 || dt > 330 + tl_slack_ms())
        tl_fail(__FILE__, __LINE__, "read timeout took %lld ms, expected 300 +- 10%%", dt);
    net_conn_close(c);
    srv_stop(&s);
    smtpcore_error_clear(&err);
}

static void test_write_timeout(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    REQUIRE(srv_start(&s, AF_INET, NULL, M_STALL) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    int small = 4096;
    setsockopt(net_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    size_t n = 16u << 20; /* far more than the socket buffers on both sides hold */
    char *big = calloc(1, n);
    REQUIRE(big != NULL);
    long long t0 = net_now_ms();
    int rc = net_conn_write_all(c, big, n, 200, &err);
    long long dt = net_now_ms() - t0;
    CHECK_INT_EQ(rc, -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "writing to 127.0.0.1:");
    if (dt < 180 || dt > 400 + tl_slack_ms())
        tl_fail(__FILE__, __LINE__, "write timeout took %lld ms, expected about 200", dt);
    free(big);
    net_conn_close(c);
    srv_stop(&s);
    smtpcore_error_clear(&err);
}

static void test_connect_timeout(void)
{
    /* A listener whose accept queue is full drops new SYNs: a local
     * black hole. Fill it, then connect with a short timeout. */
    smtpcore_error err = { 0 };
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(lfd >= 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(lfd, (struct sockaddr *)&a, len) == 0 && listen(lfd, 0) == 0 &&
            getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
    int fill[8], nfill = 0, stalled = 0;
    while (nfill < 8 && !stalled) {
        int f = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(f >= 0);
        fill[nfill++] = f;
        if (connect(f, (struct sockaddr *)&a, len) == 0)
            continue;
        struct pollfd p = { .fd = f, .events = POLLOUT, .revents = 0 };
        if (poll(&p, 1, 100) == 0)
            stalled = 1;
    }
    if (stalled) {
        long long t0 = net_now_ms();
        net_conn *c = net_conn_open("127.0.0.1", ntohs(a.sin_port), 200, &err);
        long long dt = net_now_ms() - t0;
        CHECK(c == NULL);
        net_conn_close(c);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_TIMEOUT);
        char want[80];
        snprintf(want, sizeof want, "connect to 127.0.0.1:%d timed out after 200 ms", ntohs(a.sin_port));
        CHECK_STR_EQ(err.message, want);
        if (dt < 180 || dt > 400 + tl_slack_ms())
            tl_fail(__FILE__, __LINE__, "connect timeout took %lld ms, expected about 200", dt);
    }
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(lfd);
    smtpcore_error_clear(&err);
    if (!stalled)
        SKIP("this kernel did not drop SYNs to a full accept queue");
}

static void test_peer_close_plain(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[64];
    REQUIRE(srv_start(&s, AF_INET, NULL, M_CLOSE) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 2000, &err), 0);
    CHECK_INT_EQ(net_conn_readable_now(c), 1); /* EOF is readable without blocking */
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 2000, &err), 0);
    net_conn_close(c);
    srv_stop(&s);
    smtpcore_error_clear(&err);
}

/* Keep writing to a connection whose peer has closed until a write fails:
 * the first may still be accepted by the kernel; the peer's RST makes the
 * next fail with EPIPE/ECONNRESET, which would raise SIGPIPE without
 * MSG_NOSIGNAL. SIGPIPE has its default action here, so it would end the run. */
static void write_until_failure(net_conn *c, smtpcore_error *err)
{
    char data[1024];
    memset(data, 'x', sizeof data);
    int rc = 0;
    for (int i = 0; i < 200 && rc == 0; i++) {
        rc = net_conn_write_all(c, data, sizeof data, 1000, err);
        if (rc == 0)
            sleep_ms(1);
    }
    CHECK_INT_EQ(rc, -1);
    CHECK_INT_EQ(err->category, SMTPCORE_ERR_CONNECT);
    CHECK_CONTAINS(err->message, "connection closed by server while writing");
}

static void test_write_to_closed_peer_plain(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[16];
    signal(SIGPIPE, SIG_DFL);
    REQUIRE(srv_start(&s, AF_INET, NULL, M_CLOSE) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 2000, &err), 0);
    srv_stop(&s);
    write_until_failure(c, &err);
    net_conn_close(c);
    smtpcore_error_clear(&err);
}

static void test_ipv6_loopback(void)
{
    struct srv s;
    smtpcore_error err = { 0 };
    if (srv_start(&s, AF_INET6, NULL, M_ECHO) != 0)
        SKIP("no IPv6 loopback (::1) on this machine");
    net_conn *c = net_conn_open("::1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    echo_roundtrip(c, "hello over IPv6\r\n");
    net_conn_close(c);
    srv_stop(&s);

    /* The bracketed form is accepted too; the message brackets the address. */
    int port = 0;
    int fd = refusing_port(AF_INET6, &port);
    REQUIRE(fd >= 0);
    c = net_conn_open("[::1]", port, 2000, &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_CONNECT);
    char where[64];
    snprintf(where, sizeof where, "[::1]:%d", port);
    CHECK_CONTAINS(err.message, where);
    close(fd);
    smtpcore_error_clear(&err);
}

/* ------------------------------------------------------------------ TLS */

static void test_tls_ok(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    if (!c)
        tl_fail(__FILE__, __LINE__, "TLS connect failed: %s", err.message ? err.message : "?");
    if (c) {
        CHECK_INT_EQ(net_conn_is_tls(c), 1);
        CHECK_STR_EQ(net_conn_tls_version(c), "TLSv1.3");
        CHECK(net_conn_tls_cipher(c) != NULL);
        echo_roundtrip(c, "EHLO client.example\r\n");
        /* a second handshake on the same connection is a caller bug */
        CHECK_INT_EQ(net_conn_start_tls(c, t, "localhost", 1000, &err), -1);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
        echo_roundtrip(c, "still fine\r\n");
    }
    net_conn_close(c);
    srv_stop(&s);
    CHECK(s.handshake_ok);
    CHECK(s.had_sni);
    CHECK_STR_EQ(s.sni, "localhost");
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_trailing_dot_name(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost.", &err);
    CHECK(c != NULL);
    net_conn_close(c);
    srv_stop(&s);
    CHECK_STR_EQ(s.sni, "localhost");
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_readable_now_counts_ssl_pending(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[16];
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    CHECK_INT_EQ(net_conn_write_all(c, "hello", 5, 2000, &err), 0);
    CHECK_INT_EQ(net_conn_read(c, buf, 1, 2000, &err), 1);
    /* The rest of the record is decrypted inside OpenSSL, not in the socket. */
    struct pollfd p = { .fd = net_conn_fd(c), .events = POLLIN, .revents = 0 };
    CHECK_INT_EQ(poll(&p, 1, 0), 0);
    CHECK_INT_EQ(net_conn_readable_now(c), 1);
    CHECK_INT_EQ(net_conn_read(c, buf + 1, 4, 2000, &err), 4);
    CHECK_MEM_EQ(buf, 5, "hello", 5);
    CHECK_INT_EQ(net_conn_readable_now(c), 0);
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_large_write(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_SINK) == 0);
    size_t n = SINK_BYTES;
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    int small = 4096;
    setsockopt(net_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    REQUIRE(net_conn_start_tls(c, t, "localhost", 2000, &err) == 0);
    char *big = malloc(n);
    REQUIRE(big != NULL);
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        big[i] = (char)(i * 7 + (i >> 11));
        sum += (unsigned char)big[i];
    }
    CHECK_INT_EQ(net_conn_write_all(c, big, n, 3000, &err), 0);
    char line[64], want[64];
    CHECK(read_line(c, line, sizeof line, &err) > 0);
    snprintf(want, sizeof want, "OK %zu %lu\n", n, sum);
    CHECK_STR_EQ(line, want);
    free(big);
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_starttls_upgrade(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_STARTTLS) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    char line[64];
    CHECK(read_line(c, line, sizeof line, &err) > 0);
    CHECK_STR_EQ(line, "220 ready\r\n");
    CHECK_INT_EQ(net_conn_start_tls(c, t, "localhost", 2000, &err), 0);
    CHECK_INT_EQ(net_conn_is_tls(c), 1);
    echo_roundtrip(c, "EHLO again\r\n");
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_hostname_mismatch(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "mail.example.com", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "TLS certificate verification failed for mail.example.com: hostname mismatch");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(!s.handshake_ok);
    CHECK(ERR_peek_error() == 0); /* nothing left behind in this thread's queue */
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_unknown_ca(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.other_ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "TLS certificate verification failed for localhost: ");
    CHECK_CONTAINS(err.message, "issuer");
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);

    /* The system trust store does not know our CA either. */
    t = client_ctx(1, NULL);
    REQUIRE(t != NULL);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    c = tls_connect(s.port, t, "localhost", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "TLS certificate verification failed for localhost: ");
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_no_verify_accepts_anything(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(0, pki.other_ca_path); /* wrong CA and wrong name below */
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "mail.example.com", &err);
    if (!c)
        tl_fail(__FILE__, __LINE__, "verify=0 connect failed: %s", err.message ? err.message : "?");
    if (c)
        echo_roundtrip(c, "hi\r\n");
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_ip_literal(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);

    /* No server_name: the host, 127.0.0.1, is checked against the IP SAN,
     * and no SNI is sent for an address. */
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, NULL, &err);
    if (!c)
        tl_fail(__FILE__, __LINE__, "IP literal connect failed: %s", err.message ? err.message : "?");
    if (c)
        echo_roundtrip(c, "hi\r\n");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(s.handshake_ok);
    CHECK(!s.had_sni);

    /* A different address does not match. */
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    c = tls_connect(s.port, t, "127.0.0.2", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "TLS certificate verification failed for 127.0.0.2: IP address mismatch");
    net_conn_close(c);
    srv_stop(&s);
    SSL_CTX_free(sctx);

    /* An address must match an IP SAN: a DNS SAN spelling the address does not count. */
    sctx = server_ctx(pki.srv_dnsip);
    REQUIRE(sctx != NULL);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    c = tls_connect(s.port, t, "127.0.0.1", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "IP address mismatch");
    net_conn_close(c);
    srv_stop(&s);
    SSL_CTX_free(sctx);
    net_tls_ctx_unref(t);
    smtpcore_error_clear(&err);
}

static void test_tls_ipv6_literal(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    if (srv_start(&s, AF_INET6, sctx, M_ECHO) != 0) {
        net_tls_ctx_unref(t);
        SSL_CTX_free(sctx);
        SKIP("no IPv6 loopback (::1) on this machine");
    }
    net_conn *c = net_conn_open("[::1]", s.port, 2000, &err);
    REQUIRE(c != NULL);
    if (net_conn_start_tls(c, t, NULL, 2000, &err) != 0)
        tl_fail(__FILE__, __LINE__, "TLS to [::1] failed: %s", err.message ? err.message : "?");
    else
        echo_roundtrip(c, "hi\r\n");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(!s.had_sni);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_garbage_server(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[16];
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(t != NULL);
    REQUIRE(srv_start(&s, AF_INET, NULL, M_GARBAGE) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    long long t0 = net_now_ms();
    CHECK_INT_EQ(net_conn_start_tls(c, t, "localhost", 2000, &err), -1);
    CHECK(net_now_ms() - t0 < 1000);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "TLS handshake with 127.0.0.1:");
    /* Nothing is ever read in clear text from a failed TLS stream. */
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 100, &err), -1);
    CHECK_INT_EQ(net_conn_is_tls(c), 0);
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    smtpcore_error_clear(&err);
}

static void test_tls_handshake_timeout(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(t != NULL);
    REQUIRE(srv_start(&s, AF_INET, NULL, M_SILENT) == 0);
    net_conn *c = net_conn_open("127.0.0.1", s.port, 2000, &err);
    REQUIRE(c != NULL);
    long long t0 = net_now_ms();
    CHECK_INT_EQ(net_conn_start_tls(c, t, "localhost", 200, &err), -1);
    long long dt = net_now_ms() - t0;
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "TLS handshake with 127.0.0.1:");
    CHECK_CONTAINS(err.message, "timed out after 200 ms");
    if (dt < 180 || dt > 400 + tl_slack_ms())
        tl_fail(__FILE__, __LINE__, "handshake timeout took %lld ms, expected about 200", dt);
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    smtpcore_error_clear(&err);
}

/* Can this OpenSSL still negotiate TLS 1.1 at all (security level 0)? Tried
 * in memory with a BIO pair, client and server both limited to 1.1. */
static int tls11_possible(SSL_CTX *sctx)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    int ok = 0;
    if (cctx && SSL_CTX_set_min_proto_version(cctx, TLS1_1_VERSION) &&
        SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION)) {
        SSL_CTX_set_security_level(cctx, 0);
        SSL_CTX_set_cipher_list(cctx, "DEFAULT:@SECLEVEL=0");
        SSL *cl = SSL_new(cctx), *sv = SSL_new(sctx);
        BIO *b1 = NULL, *b2 = NULL;
        if (cl && sv && BIO_new_bio_pair(&b1, 0, &b2, 0)) {
            SSL_set_bio(cl, b1, b1);
            SSL_set_bio(sv, b2, b2);
            SSL_set_connect_state(cl);
            SSL_set_accept_state(sv);
            int cdone = 0, sdone = 0, broken = 0;
            for (int i = 0; i < 20 && !(cdone && sdone) && !broken; i++) {
                int r;
                if (!cdone && (r = SSL_do_handshake(cl)) != 1) {
                    int e = SSL_get_error(cl, r);
                    broken = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
                } else {
                    cdone = 1;
                }
                if (!sdone && (r = SSL_do_handshake(sv)) != 1) {
                    int e = SSL_get_error(sv, r);
                    broken |= e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
                } else {
                    sdone = 1;
                }
            }
            ok = cdone && sdone && SSL_version(cl) == TLS1_1_VERSION;
        }
        SSL_free(cl);
        SSL_free(sv);
    }
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return ok;
}

static void test_tls11_server_refused(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    REQUIRE(sctx != NULL);
    SSL_CTX_set_security_level(sctx, 0);
    SSL_CTX_set_cipher_list(sctx, "DEFAULT:@SECLEVEL=0");
    if (!SSL_CTX_set_min_proto_version(sctx, TLS1_1_VERSION) || !SSL_CTX_set_max_proto_version(sctx, TLS1_1_VERSION) ||
        !tls11_possible(sctx)) {
        SSL_CTX_free(sctx);
        ERR_clear_error();
        SKIP("this OpenSSL cannot negotiate TLS 1.1 even at security level 0");
    }
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(t != NULL);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_ECHO) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    CHECK(c == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "protocol");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(!s.handshake_ok);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_peer_close(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[64];
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);

    /* With close_notify. */
    REQUIRE(srv_start(&s, AF_INET, sctx, M_CLOSE_NOTIFY) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 2000, &err), 0);
    net_conn_close(c);
    srv_stop(&s);

    /* Without: still the end of the stream, not an error. */
    REQUIRE(srv_start(&s, AF_INET, sctx, M_CLOSE) == 0);
    c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    long r = net_conn_read(c, buf, sizeof buf, 2000, &err);
    CHECK_INT_EQ(r, 0);
    if (r < 0)
        fprintf(stderr, "    read: %s\n", err.message ? err.message : "?");
    CHECK(ERR_peek_error() == 0);
    /* ... and writing after it is "closed by server", not a TLS error. */
    signal(SIGPIPE, SIG_DFL);
    write_until_failure(c, &err);
    net_conn_close(c);
    srv_stop(&s);

    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_write_to_closed_peer(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    signal(SIGPIPE, SIG_DFL);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_CLOSE) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    srv_stop(&s); /* the server has closed; the client has not read anything */
    write_until_failure(c, &err);
    net_conn_close(c);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_read_timeout(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    char buf[16];
    SSL_CTX *sctx = server_ctx(pki.srv);
    net_tls_ctx *t = client_ctx(1, pki.ca_path);
    REQUIRE(sctx && t);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_SILENT) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    long long t0 = net_now_ms();
    CHECK_INT_EQ(net_conn_read(c, buf, sizeof buf, 150, &err), -1);
    long long dt = net_now_ms() - t0;
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TIMEOUT);
    if (dt < 135 || dt > 250 + tl_slack_ms())
        tl_fail(__FILE__, __LINE__, "TLS read timeout took %lld ms, expected about 150", dt);
    net_conn_close(c);
    srv_stop(&s);
    net_tls_ctx_unref(t);
    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_client_certificate(void)
{
    pki_setup();
    struct srv s;
    smtpcore_error err = { 0 };
    SSL_CTX *sctx = server_ctx(pki.srv);
    REQUIRE(sctx != NULL);
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), pki.ca) == 1);
    net_tls_opts o = { .ca_file = pki.ca_path, .client_cert = pki.client_cert_path,
                       .client_key = pki.client_key_path };
    net_tls_ctx *t = net_tls_ctx_new(&o, &err);
    REQUIRE(t != NULL);
    REQUIRE(srv_start(&s, AF_INET, sctx, M_PEERCERT) == 0);
    net_conn *c = tls_connect(s.port, t, "localhost", &err);
    REQUIRE(c != NULL);
    char line[128];
    CHECK(read_line(c, line, sizeof line, &err) > 0);
    CHECK_STR_EQ(line, "cert:smtpcore test client\n");
    net_conn_close(c);
    srv_stop(&s);
    CHECK(s.handshake_ok);
    net_tls_ctx_unref(t);

    /* The key file defaults to the certificate file, which lacks it here. */
    o.client_key = NULL;
    CHECK(net_tls_ctx_new(&o, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, pki.client_cert_path);

    SSL_CTX_free(sctx);
    smtpcore_error_clear(&err);
}

static void test_tls_ctx_errors(void)
{
    smtpcore_error err = { 0 };
    net_tls_opts o = { .ca_file = "/nonexistent/smtpcore/ca.pem" };
    CHECK(net_tls_ctx_new(&o, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
    CHECK_CONTAINS(err.message, "/nonexistent/smtpcore/ca.pem");
    CHECK(ERR_peek_error() == 0);

    net_tls_opts k = { .client_key = "/tmp/key.pem" };
    CHECK(net_tls_ctx_new(&k, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);

    net_tls_ctx *t = net_tls_ctx_new(NULL, &err); /* defaults: verify with the system store */
    CHECK(t != NULL);
    net_tls_ctx_unref(t);
    net_tls_ctx_unref(NULL);
    smtpcore_error_clear(&err);
}

static void *ref_churn(void *arg)
{
    net_tls_ctx *t = arg;
    for (int i = 0; i < 20000; i++)
        net_tls_ctx_unref(net_tls_ctx_ref(t));
    return NULL;
}

static void test_tls_ctx_refcount_threads(void)
{
    net_tls_opts o = { .insecure_no_verify = 1 };
    net_tls_ctx *t = net_tls_ctx_new(&o, NULL);
    REQUIRE(t != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, ref_churn, t) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* Still alive with exactly one reference: ref + unref leaves it, the last unref frees. */
    CHECK(net_tls_ctx_ref(t) == t);
    net_tls_ctx_unref(t);
    net_tls_ctx_unref(t);
}

TEST_MAIN({"plain_echo", test_plain_echo},
          {"plain_readable_now", test_plain_readable_now},
          {"connection_refused", test_connection_refused},
          {"dns_failure", test_dns_failure},
          {"usage_errors", test_usage_errors},
          {"read_timeout", test_read_timeout},
          {"write_timeout", test_write_timeout},
          {"connect_timeout", test_connect_timeout},
          {"peer_close_plain", test_peer_close_plain},
          {"write_to_closed_peer_plain", test_write_to_closed_peer_plain},
          {"ipv6_loopback", test_ipv6_loopback},
          {"tls_ok", test_tls_ok},
          {"tls_trailing_dot_name", test_tls_trailing_dot_name},
          {"tls_readable_now_counts_ssl_pending", test_tls_readable_now_counts_ssl_pending},
          {"tls_large_write", test_tls_large_write},
          {"tls_starttls_upgrade", test_tls_starttls_upgrade},
          {"tls_hostname_mismatch", test_tls_hostname_mismatch},
          {"tls_unknown_ca", test_tls_unknown_ca},
          {"tls_no_verify_accepts_anything", test_tls_no_verify_accepts_anything},
          {"tls_ip_literal", test_tls_ip_literal},
          {"tls_ipv6_literal", test_tls_ipv6_literal},
          {"tls_garbage_server", test_tls_garbage_server},
          {"tls_handshake_timeout", test_tls_handshake_timeout},
          {"tls11_server_refused", test_tls11_server_refused},
          {"tls_peer_close", test_tls_peer_close},
          {"tls_write_to_closed_peer", test_tls_write_to_closed_peer},
          {"tls_read_timeout", test_tls_read_timeout},
          {"tls_client_certificate", test_tls_client_certificate},
          {"tls_ctx_errors", test_tls_ctx_errors},
          {"tls_ctx_refcount_threads", test_tls_ctx_refcount_threads})
