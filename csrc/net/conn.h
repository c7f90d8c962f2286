/* Sockets and TLS: the only place the core does I/O.
 *
 * A net_conn is a connected TCP socket (IPv6 or IPv4, non-blocking under the
 * hood, TCP_NODELAY set because SMTP is a request/response protocol and Nagle
 * plus delayed ACKs costs ~40 ms a round), optionally upgraded to TLS.
 * All waits take a timeout in milliseconds; a timeout is reported as
 * SMTPCORE_ERR_TIMEOUT. Nothing is buffered in plaintext by this layer, so a
 * STARTTLS upgrade can never consume bytes that arrived before the handshake
 * (the protocol engine decides what to do with those it already holds). */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stddef.h>

#include "smtpcore.h"

typedef struct net_tls_opts {
    int insecure_no_verify;     /* 0 (default): verify chain and host name; 1: accept any certificate */
    const char *ca_file;        /* NULL: system default store */
    const char *ca_dir;
    const char *client_cert;    /* PEM, optional */
    const char *client_key;     /* PEM, optional (defaults to client_cert) */
} net_tls_opts;

/* A TLS client context: trust store, protocol floor (TLS 1.2), client cert.
 * Expensive to build (it loads the trust store), cheap to share: reference counted,
 * safe to share between threads once built. */
typedef struct net_tls_ctx net_tls_ctx;
net_tls_ctx *net_tls_ctx_new(const net_tls_opts *opts, smtpcore_error *err);
net_tls_ctx *net_tls_ctx_ref(net_tls_ctx *ctx);
void net_tls_ctx_unref(net_tls_ctx *ctx);

typedef struct net_conn net_conn;

/* Resolve host (getaddrinfo, AF_UNSPEC) and connect to each address in turn
 * until one answers, all within timeout_ms. DNS failure -> SMTPCORE_ERR_DNS,
 * refused/unreachable -> SMTPCORE_ERR_CONNECT, out of time -> SMTPCORE_ERR_TIMEOUT. */
net_conn *net_conn_open(const char *host, int port, int timeout_ms, smtpcore_error *err);

/* TLS handshake over the connection, as client. server_name is sent as SNI
 * (unless it is an IP literal) and checked against the certificate
 * (SSL_set1_host / SSL_set1_ip) when ctx verifies. Failure -> SMTPCORE_ERR_TLS
 * with OpenSSL's reason in the message (e.g. "hostname mismatch"). */
int net_conn_start_tls(net_conn *c, net_tls_ctx *ctx, const char *server_name, int timeout_ms,
                       smtpcore_error *err);

/* Read up to n bytes: returns >0 bytes read, 0 on orderly close by the peer,
 * -1 on error or timeout (err filled). */
long net_conn_read(net_conn *c, char *buf, size_t n, int timeout_ms, smtpcore_error *err);

/* Write all n bytes or fail (-1, err filled; a peer reset/close is SMTPCORE_ERR_CONNECT). */
int net_conn_write_all(net_conn *c, const char *buf, size_t n, int timeout_ms, smtpcore_error *err);

/* 1 if bytes can be read without blocking right now (including bytes OpenSSL holds). */
int net_conn_readable_now(net_conn *c);

int net_conn_is_tls(const net_conn *c);
const char *net_conn_tls_version(const net_conn *c);  /* NULL when not TLS */
const char *net_conn_tls_cipher(const net_conn *c);
int net_conn_fd(const net_conn *c);

/* Close (TLS close_notify best effort, no waiting) and free. NULL is fine. */
void net_conn_close(net_conn *c);

/* Milliseconds on a monotonic clock, for deadlines. */
long long net_now_ms(void);

#endif
