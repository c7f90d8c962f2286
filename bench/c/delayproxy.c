/* A loopback TCP proxy that holds every chunk for a fixed delay in each
 * direction, preserving order, with bounded buffers. It stands in for
 * `tc qdisc ... netem delay`, which this kernel lacks: client -> proxy ->
 * server, +D one way, +D the other, so a round trip costs 2D more.
 *
 * It also counts round trips per connection: a "wait" is an answer from the
 * server (bytes delivered to the client after the client last sent something)
 * that the client reacted to (sent more bytes or closed afterwards). The
 * greeting is not a wait; a QUIT reply the client did not wait for is not
 * one either. One JSON line per connection goes to the stats file when it
 * closes, with the CLOCK_MONOTONIC time (seconds) at which each awaited
 * answer was delivered, so a benchmark can count the waits inside its timed
 * section.
 *
 *   delayproxy LISTEN_PORT UPSTREAM_PORT DELAY_US STATS_FILE
 *
 * LISTEN_PORT 0 picks a free port; "port N" is printed on stdout once
 * listening. Only 127.0.0.1 is used on both sides. SIGTERM ends it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define MAX_QUEUED (1u << 20) /* per direction: stop reading beyond this */
#define MAX_WAITS 200000

typedef struct chunk {
    struct chunk *next;
    int64_t due_ns;
    size_t len, off;
    int eof;
    char data[];
} chunk;

typedef struct dir {
    int from, to;        /* fds */
    chunk *head, *tail;
    size_t queued;
    int read_eof;        /* EOF read from `from` */
    int done;            /* EOF delivered to `to` */
    int blocked;         /* last write to `to` would block */
    unsigned long long bytes;
} dir;

typedef struct conn {
    struct conn *next;
    int id;
    int cfd, sfd;
    dir c2s, s2c;
    int dead;
    /* round-trip counting */
    int awaiting, answered;
    int64_t answered_at;
    double *waits;
    size_t n_waits;
    int64_t opened;
} conn;

static int64_t delay_ns;
static int epfd, tfd;
static conn *conns;
static FILE *stats;
static volatile sig_atomic_t stop;
static int trace; /* DELAYPROXY_TRACE=1: every chunk read and delivered, on stderr */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_term(int sig) { (void)sig; stop = 1; }

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Tags in epoll data: the fd's role is found by scanning (few connections). */
static void watch(conn *c)
{
    struct epoll_event ev;
    int fds[2] = {c->cfd, c->sfd};
    for (int i = 0; i < 2; i++) {
        int fd = fds[i];
        dir *in = fd == c->cfd ? &c->c2s : &c->s2c;   /* we read `in` from fd */
        dir *out = fd == c->cfd ? &c->s2c : &c->c2s;  /* we write `out` to fd */
        ev.events = 0;
        if (!in->read_eof && in->queued < MAX_QUEUED)
            ev.events |= EPOLLIN;
        if (out->blocked)
            ev.events |= EPOLLOUT;
        ev.data.ptr = c;
        /* Two fds share one pointer; the handler tries both directions. */
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
            epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

static void log_conn(conn *c)
{
    if (!stats)
        return;
    fprintf(stats, "{\"conn\":%d,\"open\":%.6f,\"close\":%.6f,\"c2s\":%llu,\"s2c\":%llu,\"waits\":[", c->id,
            c->opened / 1e9, now_ns() / 1e9, c->c2s.bytes, c->s2c.bytes);
    for (size_t i = 0; i < c->n_waits; i++)
        fprintf(stats, "%s%.6f", i ? "," : "", c->waits[i]);
    fprintf(stats, "]}\n");
    fflush(stats);
}

static void count_reaction(conn *c)
{
    if (c->answered) {
        c->answered = 0;
        if (c->n_waits < MAX_WAITS)
            c->waits[c->n_waits++] = c->answered_at / 1e9;
    }
}

static void free_dir(dir *d)
{
    chunk *k = d->head;
    while (k) {
        chunk *n = k->next;
        free(k);
        k = n;
    }
    d->head = d->tail = NULL;
}

static void kill_conn(conn *c)
{
    if (c->dead)
        return;
    c->dead = 1;
    log_conn(c);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->cfd, NULL);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->sfd, NULL);
    close(c->cfd);
    close(c->sfd);
    free_dir(&c->c2s);
    free_dir(&c->s2c);
    free(c->waits);
    c->waits = NULL;
}

static void do_read(conn *c, dir *d, int64_t now)
{
    while (!d->read_eof && d->queued < MAX_QUEUED) {
        chunk *k = malloc(sizeof *k + CHUNK);
        if (!k)
            abort();
        ssize_t n = recv(d->from, k->data, CHUNK, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            free(k);
            return;
        }
        if (n < 0 && errno == EINTR) {
            free(k);
            continue;
        }
        k->next = NULL;
        k->due_ns = now + delay_ns;
        k->off = 0;
        k->eof = n <= 0;
        k->len = n > 0 ? (size_t)n : 0;
        if (k->eof)
            d->read_eof = 1;
        if (!k->eof) {
            chunk *small = realloc(k, sizeof *k + k->len); /* keep memory near what is in flight */
            if (small)
                k = small;
        }
        if (d->tail)
            d->tail->next = k;
        else
            d->head = k;
        d->tail = k;
        d->queued += k->len;
        d->bytes += k->len;
        if (trace)
            fprintf(stderr, "%.6f conn %d read %s %zu%s\n", now_ns() / 1e9, c->id, d == &c->c2s ? "c2s" : "s2c",
                    k->len, k->eof ? " EOF" : "");
        if (d == &c->c2s) {
            count_reaction(c);
            if (!k->eof)
                c->awaiting = 1;
        }
    }
}

/* Deliver what is due. Returns -1 if the connection must die. */
static int do_write(conn *c, dir *d, int64_t now)
{
    while (d->head && d->head->due_ns <= now) {
        chunk *k = d->head;
        if (k->eof) {
            shutdown(d->to, SHUT_WR);
            d->done = 1;
        } else {
            while (k->off < k->len) {
                ssize_t n = send(d->to, k->data + k->off, k->len - k->off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    d->blocked = 1;
                    return 0;
                }
                if (n < 0)
                    return -1;
                k->off += (size_t)n;
            }
            d->queued -= k->len;
            if (trace)
                fprintf(stderr, "%.6f conn %d deliver %s %zu\n", now_ns() / 1e9, c->id,
                        d == &c->c2s ? "c2s" : "s2c", k->len);
            if (d == &c->s2c && (c->awaiting || c->answered)) {
                /* The answer may come in pieces: the client's reaction
                 * follows the last one delivered before it. */
                c->awaiting = 0;
                c->answered = 1;
                /* The time taken before the write: on a shared core the
                 * client may run (and stamp its own clock) before we are
                 * back from send(). */
                c->answered_at = now;
            }
        }
        d->head = k->next;
        if (!d->head)
            d->tail = NULL;
        free(k);
    }
    d->blocked = 0;
    return 0;
}

static void arm_timer(void)
{
    int64_t next = 0;
    for (conn *c = conns; c; c = c->next) {
        if (c->dead)
            continue;
        dir *ds[2] = {&c->c2s, &c->s2c};
        for (int i = 0; i < 2; i++)
            if (ds[i]->head && !ds[i]->blocked && (!next || ds[i]->head->due_ns < next))
                next = ds[i]->head->due_ns;
    }
    struct itimerspec its = {0};
    if (next) {
        its.it_value.tv_sec = next / 1000000000;
        its.it_value.tv_nsec = next % 1000000000;
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void service(conn *c)
{
    if (c->dead)
        return;
    int64_t now = now_ns();
    do_read(c, &c->c2s, now);
    do_read(c, &c->s2c, now);
    now = now_ns();
    if (do_write(c, &c->c2s, now) < 0 || do_write(c, &c->s2c, now) < 0) {
        kill_conn(c);
        return;
    }
    if (c->c2s.done && c->s2c.done) {
        /* The client's EOF after an answer it waited for counts as a reaction. */
        kill_conn(c);
        return;
    }
    watch(c);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: delayproxy LISTEN_PORT UPSTREAM_PORT DELAY_US STATS_FILE\n");
        return 2;
    }
    int lport = atoi(argv[1]), uport = atoi(argv[2]);
    delay_ns = atoll(argv[3]) * 1000;
    stats = fopen(argv[4], "a");
    trace = getenv("DELAYPROXY_TRACE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lport)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 512) < 0) {
        perror("delayproxy: listen");
        return 1;
    }
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    nonblock(lfd);

    epfd = epoll_create1(0);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &tfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
    int next_id = 1;

    while (!stop) {
        struct epoll_event evs[64];
        int n = epoll_wait(epfd, evs, 64, 1000);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &lfd) {
                for (;;) {
                    int cfd = accept(lfd, NULL, NULL);
                    if (cfd < 0)
                        break;
                    int sfd = socket(AF_INET, SOCK_STREAM, 0);
                    struct sockaddr_in u = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport)};
                    u.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                    if (connect(sfd, (struct sockaddr *)&u, sizeof u) < 0) {
                        close(sfd);
                        close(cfd);
                        continue;
                    }
                    conn *c = calloc(1, sizeof *c);
                    c->id = next_id++;
                    c->cfd = cfd;
                    c->sfd = sfd;
                    c->c2s = (dir){.from = cfd, .to = sfd};
                    c->s2c = (dir){.from = sfd, .to = cfd};
                    c->waits = malloc(MAX_WAITS * sizeof *c->waits);
                    c->opened = now_ns();
                    nonblock(cfd);
                    nonblock(sfd);
                    c->next = conns;
                    conns = c;
                    watch(c);
                }
            } else if (p == &tfd) {
                uint64_t x;
                (void)!read(tfd, &x, sizeof x);
                for (conn *c = conns; c; c = c->next)
                    service(c);
            } else {
                service((conn *)p);
            }
        }
        /* Reap dead connections. */
        for (conn **pp = &conns; *pp;) {
            if ((*pp)->dead) {
                conn *d = *pp;
                *pp = d->next;
                free(d);
            } else {
                pp = &(*pp)->next;
            }
        }
        arm_timer();
    }
    for (conn *c = conns; c; c = c->next)
        kill_conn(c);
    if (stats)
        fclose(stats);
    return 0;
}
