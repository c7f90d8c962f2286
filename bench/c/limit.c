/* The reference "limit" client: raw sockets, pre-composed bytes, no library.
 * It shows the ceiling a client could reach against the same server on the
 * same run.
 *
 *   limit send --port P --count N --message FILE --mode rfc|next|all [--window W] [--chunking 1]
 *
 * --mode rfc (RFC 2920 pipelining, one message at a time):
 *     DATA: MAIL+RCPT+DATA in one write, wait for the 354, body and "." in one
 *           write, wait for the 250;
 *     BDAT: MAIL+RCPT+"BDAT n LAST"+body in one write, wait for the 3 replies.
 * --mode next (DATA; RFC 2920 across messages: "the actual transfer of message
 *     content is explicitly allowed to be the first command in a group"): the
 *     body, "." and the next message's MAIL+RCPT+DATA in one write, then wait
 *     for the 250 and the next 250, 250, 354: one round trip per message.
 * --mode all: every command and body of all N messages written as fast as the
 *     socket takes them while the replies are read (DATA bodies go before
 *     their 354, which RFC 2920 does not allow; BDAT makes it legal).
 *     --window W keeps at most W messages without their final reply.
 * The message file must be dot-stuffed CRLF text. */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static char rbuf[1 << 16];
static size_t rlen;
static int line_start = 1;
static long replies_seen; /* complete replies (final lines) */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Count final reply lines ("250 ..." not "250-...") in what was read. */
static void scan(const char *p, size_t n)
{
    static int col;
    static char fourth;
    for (size_t i = 0; i < n; i++) {
        if (line_start) {
            col = 0;
            line_start = 0;
        }
        if (col == 3)
            fourth = p[i];
        col++;
        if (p[i] == '\n') {
            if (fourth == ' ' || col <= 5)
                replies_seen++;
            fourth = 0;
            line_start = 1;
        }
    }
}

static void read_some(void)
{
    ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
    if (n == 0) {
        fprintf(stderr, "limit: server closed\n");
        exit(1);
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        die("recv");
    }
    scan(rbuf, (size_t)n);
    rlen = (size_t)n;
}

static void wait_replies(long total)
{
    while (replies_seen < total)
        read_some();
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("send");
        }
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_opts(argc, argv, &o);
    size_t mlen;
    char *msg = read_file(o.message, &mlen);
    int bdat = o.chunking == 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o.port)};
    inet_pton(AF_INET, o.host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double rss0 = proc_status_mb("VmRSS");
    long expect = 1;
    wait_replies(expect); /* greeting */
    write_all("EHLO limit.bench.example\r\n", 26);
    wait_replies(++expect);

    char env[512];
    int elen;
    if (bdat)
        elen = snprintf(env, sizeof env, "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.org>\r\nBDAT %zu LAST\r\n",
                        mlen);
    else
        elen = snprintf(env, sizeof env, "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.org>\r\nDATA\r\n");
    /* One message's bytes: for BDAT envelope+body, for DATA body+"." apart. */
    size_t one_len = (size_t)elen + mlen + (bdat ? 0 : 3);
    char *one_msg = malloc(one_len);
    memcpy(one_msg, env, (size_t)elen);
    memcpy(one_msg + elen, msg, mlen);
    if (!bdat)
        memcpy(one_msg + elen + mlen, ".\r\n", 3);
    long per_msg = bdat ? 3 : 4;

    long done = 0;
    double t0 = mono(), t1 = t0;
    long window = 0; /* --window W */
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--window"))
            window = atol(argv[i + 1]);
    if (!strcmp(o.mode, "next") && !bdat) {
        write_all(one_msg, (size_t)elen);
        expect += 3;
        wait_replies(expect);
        while (done < o.count) {
            int more = done + 1 < o.count && mono() - t0 < o.max_seconds;
            /* body + "." of this message, and the next envelope with it */
            size_t n = mlen + 3 + (more ? (size_t)elen : 0);
            char *buf = malloc(n);
            memcpy(buf, one_msg + elen, mlen + 3);
            if (more)
                memcpy(buf + mlen + 3, env, (size_t)elen);
            write_all(buf, n);
            free(buf);
            expect += 1 + (more ? 3 : 0);
            wait_replies(expect);
            done++;
            t1 = mono();
            if (!more)
                break;
        }
    } else if (!strcmp(o.mode, "all") && window > 0 && window < o.count) {
        long base = expect, started = 0;
        while (done < o.count) {
            while (started < o.count && started - done < window && mono() - t0 < o.max_seconds) {
                write_all(one_msg, one_len);
                started++;
            }
            if (started == done)
                break;
            read_some();
            done = (replies_seen - base) / per_msg;
        }
        t1 = mono();
    } else if (!strcmp(o.mode, "all")) {
        size_t total = one_len * (size_t)o.count;
        char *all = malloc(total);
        for (long i = 0; i < o.count; i++)
            memcpy(all + (size_t)i * one_len, one_msg, one_len);
        long want = expect + per_msg * o.count;
        size_t off = 0;
        struct pollfd p = {.fd = fd};
        while (replies_seen < want) {
            p.events = POLLIN | (off < total ? POLLOUT : 0);
            if (poll(&p, 1, 10000) <= 0)
                die("poll");
            if (p.revents & POLLOUT) {
                ssize_t w = send(fd, all + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0)
                    off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    die("send");
            }
            if (p.revents & POLLIN) {
                ssize_t n = recv(fd, rbuf, sizeof rbuf, MSG_DONTWAIT);
                if (n == 0) {
                    fprintf(stderr, "limit: server closed\n");
                    exit(1);
                }
                if (n > 0)
                    scan(rbuf, (size_t)n);
            }
        }
        done = o.count;
        t1 = mono();
        free(all);
    } else {
        while (done < o.count && t1 - t0 < o.max_seconds) {
            if (bdat) {
                write_all(one_msg, one_len);
                expect += 3;
                wait_replies(expect);
            } else {
                write_all(one_msg, (size_t)elen);
                expect += 3;
                wait_replies(expect);
                write_all(one_msg + elen, mlen + 3);
                expect += 1;
                wait_replies(expect);
            }
            done++;
            t1 = mono();
        }
    }
    write_all("QUIT\r\n", 6);
    close(fd);
    free(one_msg);
    free(msg);
    print_result(done, t0, t1, rss0, NULL);
    return 0;
}
