/* A small SMTP sink for the benchmarks, for what Postfix's smtp-sink cannot
 * offer: CHUNKING (BDAT, RFC 3030), and STARTTLS with AUTH for the
 * web-request scenario. It accepts every message and throws it away.
 *
 *   sink [-c] [-p] [-t CERT KEY] [-a] PORT
 *     -c   offer CHUNKING          -p  do not offer PIPELINING
 *     -t   offer STARTTLS with this certificate and key
 *     -a   offer AUTH PLAIN LOGIN (after STARTTLS when -t is given); any
 *          user name and password are accepted
 *
 * PORT 0 picks a free port; "port N" is printed once listening. One thread
 * per connection with blocking I/O. Replies are collected while the client's
 * input holds further complete commands and written when the input runs dry,
 * as Postfix's smtpd does, so a pipelining client gets one reply segment per
 * group of commands. Listens on 127.0.0.1 only. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int opt_chunking, opt_no_pipelining, opt_auth;
static SSL_CTX *tls_ctx;

typedef struct client {
    int fd;
    SSL *ssl;
    char *in;
    size_t in_len, in_cap;
    char out[16384];
    size_t out_len;
    int tls;
} client;

static long io_read(client *c, char *buf, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, (int)n);
        return r > 0 ? r : -1;
    }
    for (;;) {
        ssize_t r = recv(c->fd, buf, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        return r > 0 ? (long)r : -1;
    }
}

static int flush_out(client *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        long n;
        if (c->ssl) {
            int r = SSL_write(c->ssl, c->out + off, (int)(c->out_len - off));
            n = r > 0 ? r : -1;
        } else {
            n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    c->out_len = 0;
    return 0;
}

static int reply(client *c, const char *s)
{
    size_t n = strlen(s);
    if (c->out_len + n > sizeof c->out && flush_out(c) < 0)
        return -1;
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    return 0;
}

/* Read more input; replies collected so far go out first. */
static int fill(client *c)
{
    if (flush_out(c) < 0)
        return -1;
    if (c->in_cap - c->in_len < 65536) {
        c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
        c->in = realloc(c->in, c->in_cap);
        if (!c->in)
            return -1;
    }
    long n = io_read(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (n <= 0)
        return -1;
    c->in_len += (size_t)n;
    return 0;
}

static void consume(client *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* Next command line (without CRLF) into line; 0 ok, -1 connection gone. */
static int next_line(client *c, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->in_len);
        if (nl) {
            size_t n = (size_t)(nl - c->in) + 1;
            size_t k = n - 1;
            if (k && c->in[k - 1] == '\r')
                k--;
            if (k >= cap)
                k = cap - 1;
            memcpy(line, c->in, k);
            line[k] = '\0';
            consume(c, n);
            return 0;
        }
        if (fill(c) < 0)
            return -1;
    }
}

/* Skip DATA content up to and including CRLF.CRLF. The data starts right
 * after the DATA command's line, so the terminator may be the first line. */
static int skip_data(client *c)
{
    int at_line_start = 1;
    for (;;) {
        size_t i = 0;
        for (;;) {
            size_t left = c->in_len - i;
            if (at_line_start) {
                if (left == 0 || (left < 3 && c->in[i] == '.'))
                    break; /* cannot tell yet whether this line is "." */
                if (left >= 3 && !memcmp(c->in + i, ".\r\n", 3)) {
                    consume(c, i + 3);
                    return 0;
                }
            }
            char *nl = memchr(c->in + i, '\n', left);
            if (!nl) {
                i = c->in_len;
                at_line_start = 0;
                break;
            }
            i = (size_t)(nl - c->in) + 1;
            at_line_start = 1;
        }
        consume(c, i); /* drop what was scanned, keep an undecided tail */
        if (fill(c) < 0)
            return -1;
    }
}

static int skip_bytes(client *c, size_t n)
{
    while (n) {
        if (!c->in_len && fill(c) < 0)
            return -1;
        size_t k = c->in_len < n ? c->in_len : n;
        consume(c, k);
        n -= k;
    }
    return 0;
}

static int ehlo(client *c, const char *arg)
{
    char buf[512];
    snprintf(buf, sizeof buf, "250-sink.bench Hello %.100s\r\n", arg);
    reply(c, buf);
    if (!opt_no_pipelining)
        reply(c, "250-PIPELINING\r\n");
    reply(c, "250-SIZE 200000000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n");
    if (tls_ctx && !c->tls)
        reply(c, "250-STARTTLS\r\n");
    if (opt_auth && (!tls_ctx || c->tls))
        reply(c, "250-AUTH PLAIN LOGIN\r\n");
    if (opt_chunking)
        reply(c, "250-CHUNKING\r\n");
    return reply(c, "250 SMTPUTF8\r\n");
}

static void *serve(void *arg)
{
    client *c = arg;
    char line[4096];
    unsigned long queue_id = 0;
    int in_txn = 0;
    reply(c, "220 sink.bench ESMTP\r\n");
    for (;;) {
        if (next_line(c, line, sizeof line) < 0)
            break;
        if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
            ehlo(c, line[4] ? line + 5 : "");
        } else if (!strncasecmp(line, "MAIL", 4)) {
            in_txn = 1;
            reply(c, "250 2.1.0 Ok\r\n");
        } else if (!strncasecmp(line, "RCPT", 4)) {
            reply(c, in_txn ? "250 2.1.5 Ok\r\n" : "503 5.5.1 Error: need MAIL command\r\n");
        } else if (!strncasecmp(line, "DATA", 4)) {
            reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
            if (skip_data(c) < 0)
                break;
            char buf[64];
            snprintf(buf, sizeof buf, "250 2.0.0 Ok: queued as S%lu\r\n", ++queue_id);
            reply(c, buf);
            in_txn = 0;
        } else if (!strncasecmp(line, "BDAT ", 5) && opt_chunking) {
            char *end;
            unsigned long long n = strtoull(line + 5, &end, 10);
            int last = strcasestr(end, "LAST") != NULL;
            if (skip_bytes(c, (size_t)n) < 0)
                break;
            if (last) {
                char buf[64];
                snprintf(buf, sizeof buf, "250 2.0.0 Ok: queued as S%lu\r\n", ++queue_id);
                reply(c, buf);
                in_txn = 0;
            } else {
                reply(c, "250 2.0.0 Ok\r\n");
            }
        } else if (!strncasecmp(line, "STARTTLS", 8) && tls_ctx && !c->tls) {
            reply(c, "220 2.0.0 Ready to start TLS\r\n");
            if (flush_out(c) < 0)
                break;
            c->in_len = 0; /* nothing sent before the handshake counts */
            c->ssl = SSL_new(tls_ctx);
            SSL_set_fd(c->ssl, c->fd);
            if (SSL_accept(c->ssl) != 1)
                break;
            c->tls = 1;
        } else if (!strncasecmp(line, "AUTH", 4) && opt_auth) {
            char *sp = strchr(line + 5, ' ');
            if (!strncasecmp(line + 5, "PLAIN", 5)) {
                if (!sp) {
                    reply(c, "334 \r\n");
                    if (next_line(c, line, sizeof line) < 0)
                        break;
                }
                reply(c, "235 2.7.0 Authentication successful\r\n");
            } else if (!strncasecmp(line + 5, "LOGIN", 5)) {
                if (!sp) {
                    reply(c, "334 VXNlcm5hbWU6\r\n");
                    if (next_line(c, line, sizeof line) < 0)
                        break;
                }
                reply(c, "334 UGFzc3dvcmQ6\r\n");
                if (next_line(c, line, sizeof line) < 0)
                    break;
                reply(c, "235 2.7.0 Authentication successful\r\n");
            } else {
                reply(c, "504 5.5.4 Unsupported mechanism\r\n");
            }
        } else if (!strncasecmp(line, "RSET", 4)) {
            in_txn = 0;
            reply(c, "250 2.0.0 Ok\r\n");
        } else if (!strncasecmp(line, "NOOP", 4)) {
            reply(c, "250 2.0.0 Ok\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            reply(c, "221 2.0.0 Bye\r\n");
            flush_out(c);
            break;
        } else {
            reply(c, "502 5.5.2 Error: command not recognized\r\n");
        }
    }
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(c->in);
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-c"))
            opt_chunking = 1;
        else if (!strcmp(argv[i], "-p"))
            opt_no_pipelining = 1;
        else if (!strcmp(argv[i], "-a"))
            opt_auth = 1;
        else if (!strcmp(argv[i], "-t") && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else {
            fprintf(stderr, "sink: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: sink [-c] [-p] [-t CERT KEY] [-a] PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (cert) {
        tls_ctx = SSL_CTX_new(TLS_server_method());
        if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[i]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 512) < 0) {
        perror("sink: listen");
        return 1;
    }
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client *c = calloc(1, sizeof *c);
        c->fd = fd;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve, c) != 0) {
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
    return 0;
}
