/* smtpcore through its public C API, for every scenario of the suite.
 *
 *   sc_bench send     --port P --count N --message FILE [--compose] [--chunking 0] [--batch B]   S1, S6 (+ delayed)
 *                     (--batch B: B messages per smtpcore_session_send_batch/_send_messages call, pipelined
 *                     across messages; without it one smtpcore_session_send_bytes/_send_message call each)
 *   sc_bench rcpts    --port P --rcpts 500 --message FILE                             S2
 *   sc_bench compose  --count N --attach FILE                                         S3 (no network)
 *   sc_bench big      --port P --attach FILE                                          S4
 *   sc_bench pool     --port P --count N --threads 8 --connections 4 --message FILE   S5
 *   sc_bench web      --port P --count N --ca-file F --user U --password W --message FILE   S7
 *
 * --max-seconds T stops starting new messages after T seconds (the rate is
 * then taken over the messages done). Prints one JSON line (see common.h). */
#include "common.h"

#include <pthread.h>
#include <smtpcore.h>

static const char FROM[] = "sender@example.com";
static const char TO[] = "rcpt@example.org";
static const char TEXT[] =
    "Hello,\n\nthis is the plain-text part of a benchmark message. It is long enough to look like a real\n"
    "notification: a few sentences, a link to https://example.com/account and a signature.\n\n"
    "Regards,\nThe benchmark\n";
static const char HTML[] =
    "<!DOCTYPE html><html><body><p>Hello,</p><p>this is the <b>HTML</b> part of a benchmark message. It is long "
    "enough to look like a real notification: a few sentences, a <a href=\"https://example.com/account\">link</a> "
    "and a signature.</p><p>Regards,<br>The benchmark</p></body></html>\n";

static void die(const char *what, smtpcore_error *err)
{
    fprintf(stderr, "sc_bench: %s: %s (%s %d %s)\n", what, err->message ? err->message : "?",
            smtpcore_category_name(err->category), err->code, err->enhanced);
    exit(1);
}

static smtpcore_config *make_config(const bench_opts *o, const char *security)
{
    smtpcore_error err = {0};
    smtpcore_config *cfg = smtpcore_config_new();
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    if (smtpcore_config_set(cfg, "host", o->host, &err) < 0 || smtpcore_config_set(cfg, "port", port, &err) < 0 ||
        smtpcore_config_set(cfg, "security", security, &err) < 0 ||
        smtpcore_config_set(cfg, "ehlo_name", "client.bench.example", &err) < 0)
        die("config", &err);
    if (o->chunking == 0 && smtpcore_config_set(cfg, "chunking", "0", &err) < 0)
        die("config", &err);
    if (o->ca_file && smtpcore_config_set(cfg, "ca_file", o->ca_file, &err) < 0)
        die("config", &err);
    if (o->user && (smtpcore_config_set(cfg, "username", o->user, &err) < 0 ||
                    smtpcore_config_set(cfg, "password", o->password, &err) < 0))
        die("config", &err);
    return cfg;
}

static smtpcore_message *small_message(void)
{
    smtpcore_error err = {0};
    smtpcore_message *m = smtpcore_message_new();
    if (smtpcore_message_set_from(m, FROM, &err) < 0 || smtpcore_message_add_to(m, TO, &err) < 0 ||
        smtpcore_message_set_subject(m, "Benchmark message", &err) < 0 ||
        smtpcore_message_set_text(m, TEXT, strlen(TEXT), &err) < 0)
        die("message", &err);
    return m;
}

/* One batch call of up to o->batch messages; returns how many were sent. */
static long send_one_batch(smtpcore_session *s, const bench_opts *o, const smtpcore_envelope *env, const char *msg,
                           size_t len, long want)
{
    size_t n = (size_t)want;
    smtpcore_send_outcome *out = calloc(n, sizeof *out);
    if (o->compose) {
        smtpcore_message **ms = calloc(n, sizeof *ms);
        for (size_t i = 0; i < n; i++)
            ms[i] = small_message();
        smtpcore_session_send_messages(s, ms, n, out);
        for (size_t i = 0; i < n; i++)
            smtpcore_message_free(ms[i]);
        free(ms);
    } else {
        smtpcore_envelope *envs = calloc(n, sizeof *envs);
        smtpcore_source *srcs = calloc(n, sizeof *srcs);
        smtpcore_memory_source *mm = calloc(n, sizeof *mm);
        for (size_t i = 0; i < n; i++) {
            envs[i] = *env;
            srcs[i] = smtpcore_source_from_memory(&mm[i], msg, len, 0);
        }
        smtpcore_session_send_batch(s, envs, srcs, n, out);
        free(envs);
        free(srcs);
        free(mm);
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].status < 0)
            die("send", &out[i].error);
        smtpcore_send_outcome_clear(&out[i]);
    }
    free(out);
    return want;
}

static int cmd_send(const bench_opts *o)
{
    size_t len = 0;
    char *msg = o->compose ? NULL : read_file(o->message, &len);
    smtpcore_error err = {0};
    smtpcore_config *cfg = make_config(o, "none");
    double rss0 = proc_status_mb("VmRSS");
    smtpcore_session *s = smtpcore_session_open(cfg, &err);
    if (!s)
        die("open", &err);
    smtpcore_recipient to[] = {{.address = TO}};
    smtpcore_envelope env = {.sender = FROM, .recipients = to, .n_recipients = 1, .all_or_nothing = -1};
    long done = 0;
    double t0 = mono(), t1 = t0;
    while (o->batch > 0 && done < o->count && t1 - t0 < o->max_seconds) {
        long want = o->count - done < o->batch ? o->count - done : o->batch;
        done += send_one_batch(s, o, &env, msg, len, want);
        t1 = mono();
    }
    while (o->batch <= 0 && done < o->count && t1 - t0 < o->max_seconds) {
        smtpcore_result *res = NULL;
        int rc;
        if (o->compose) {
            smtpcore_message *m = small_message();
            rc = smtpcore_session_send_message(s, m, &res, &err);
            smtpcore_message_free(m);
        } else {
            rc = smtpcore_session_send_bytes(s, &env, msg, len, &res, &err);
        }
        if (rc < 0)
            die("send", &err);
        smtpcore_result_free(res);
        done++;
        t1 = mono();
    }
    char extra[64];
    snprintf(extra, sizeof extra, "\"caps\":%u", smtpcore_session_get_info(s)->capabilities);
    smtpcore_session_close(s);
    smtpcore_config_free(cfg);
    free(msg);
    print_result(done, t0, t1, rss0, extra);
    return 0;
}

static int cmd_rcpts(const bench_opts *o)
{
    size_t len = 0;
    char *msg = read_file(o->message, &len);
    smtpcore_error err = {0};
    smtpcore_config *cfg = make_config(o, "none");
    double rss0 = proc_status_mb("VmRSS");
    smtpcore_session *s = smtpcore_session_open(cfg, &err);
    if (!s)
        die("open", &err);
    smtpcore_recipient *to = calloc((size_t)o->rcpts, sizeof *to);
    char (*names)[64] = calloc((size_t)o->rcpts, 64);
    for (long i = 0; i < o->rcpts; i++) {
        snprintf(names[i], 64, "rcpt%ld@example.org", i);
        to[i].address = names[i];
    }
    smtpcore_envelope env = {.sender = FROM, .recipients = to, .n_recipients = (size_t)o->rcpts, .all_or_nothing = -1};
    smtpcore_result *res = NULL;
    double t0 = mono();
    if (smtpcore_session_send_bytes(s, &env, msg, len, &res, &err) < 0)
        die("send", &err);
    double t1 = mono();
    char extra[64];
    snprintf(extra, sizeof extra, "\"accepted\":%zu", smtpcore_result_accepted(res));
    smtpcore_result_free(res);
    smtpcore_session_close(s);
    smtpcore_config_free(cfg);
    free(to);
    free(names);
    free(msg);
    print_result(1, t0, t1, rss0, extra);
    return 0;
}

/* One S3 message: text + HTML + a 20 KB attachment, rendered to bytes.
 * Not inlined so callgrind can count it alone (--toggle-collect=compose_one). */
__attribute__((noinline)) size_t compose_one(const char *att, size_t att_len)
{
    smtpcore_error err = {0};
    smtpcore_message *m = smtpcore_message_new();
    if (smtpcore_message_set_from(m, "Sender Name <sender@example.com>", &err) < 0 ||
        smtpcore_message_add_to(m, "Recipient Name <rcpt@example.org>", &err) < 0 ||
        smtpcore_message_set_subject(m, "Your monthly report", &err) < 0 ||
        smtpcore_message_set_text(m, TEXT, strlen(TEXT), &err) < 0 ||
        smtpcore_message_set_html(m, HTML, strlen(HTML), &err) < 0 ||
        smtpcore_message_attach_data(m, att, att_len, "report.pdf", "application/pdf", &err) < 0)
        die("compose", &err);
    char *out = NULL;
    size_t len = 0;
    if (smtpcore_message_to_bytes(m, 0, &out, &len, &err) < 0)
        die("render", &err);
    free(out);
    smtpcore_message_free(m);
    return len;
}

static int cmd_compose(const bench_opts *o)
{
    size_t att_len = 0;
    char *att = read_file(o->attach, &att_len);
    double rss0 = proc_status_mb("VmRSS");
    long done = 0;
    size_t bytes = 0;
    double t0 = mono(), t1 = t0;
    while (done < o->count && t1 - t0 < o->max_seconds) {
        bytes = compose_one(att, att_len);
        done++;
        if ((done & 63) == 0)
            t1 = mono();
    }
    t1 = mono();
    char extra[64];
    snprintf(extra, sizeof extra, "\"message_bytes\":%zu", bytes);
    print_result(done, t0, t1, rss0, extra);
    free(att);
    return 0;
}

static int cmd_big(const bench_opts *o)
{
    smtpcore_error err = {0};
    smtpcore_config *cfg = make_config(o, "none");
    double rss0 = proc_status_mb("VmRSS");
    smtpcore_session *s = smtpcore_session_open(cfg, &err);
    if (!s)
        die("open", &err);
    double t0 = mono();
    smtpcore_message *m = small_message();
    if (smtpcore_message_attach_file(m, o->attach, "big.bin", "application/octet-stream", &err) < 0)
        die("attach", &err);
    smtpcore_result *res = NULL;
    if (smtpcore_session_send_message(s, m, &res, &err) < 0)
        die("send", &err);
    double t1 = mono();
    smtpcore_result_free(res);
    smtpcore_message_free(m);
    smtpcore_session_close(s);
    smtpcore_config_free(cfg);
    print_result(1, t0, t1, rss0, NULL);
    return 0;
}

/* S5: threads share a pool. */
struct pool_job {
    smtpcore_pool *pool;
    const char *msg;
    size_t len;
    long count;          /* messages in all */
    double t0, max_seconds;
    pthread_mutex_t lock;
    long taken, done;
};

static void *pool_worker(void *arg)
{
    struct pool_job *j = arg;
    smtpcore_recipient to[] = {{.address = TO}};
    smtpcore_envelope env = {.sender = FROM, .recipients = to, .n_recipients = 1, .all_or_nothing = -1};
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int go = j->taken < j->count && mono() - j->t0 < j->max_seconds;
        if (go)
            j->taken++;
        pthread_mutex_unlock(&j->lock);
        if (!go)
            break;
        smtpcore_memory_source m;
        smtpcore_source src = smtpcore_source_from_memory(&m, j->msg, j->len, 0);
        smtpcore_error err = {0};
        smtpcore_result *res = NULL;
        if (smtpcore_pool_send(j->pool, &env, &src, &res, &err) < 0)
            die("pool send", &err);
        smtpcore_result_free(res);
        pthread_mutex_lock(&j->lock);
        j->done++;
        pthread_mutex_unlock(&j->lock);
    }
    return NULL;
}

static int cmd_pool(const bench_opts *o)
{
    size_t len = 0;
    char *msg = read_file(o->message, &len);
    smtpcore_error err = {0};
    smtpcore_config *cfg = make_config(o, "none");
    smtpcore_pool_options po = {.max_connections = (size_t)o->connections};
    double rss0 = proc_status_mb("VmRSS");
    smtpcore_pool *pool = smtpcore_pool_new(cfg, &po, &err);
    if (!pool)
        die("pool", &err);
    struct pool_job j = {.pool = pool, .msg = msg, .len = len, .count = o->count, .max_seconds = o->max_seconds};
    pthread_mutex_init(&j.lock, NULL);
    pthread_t *t = calloc((size_t)o->threads, sizeof *t);
    j.t0 = mono();
    for (int i = 0; i < o->threads; i++)
        pthread_create(&t[i], NULL, pool_worker, &j);
    for (int i = 0; i < o->threads; i++)
        pthread_join(t[i], NULL);
    double t1 = mono();
    smtpcore_pool_free(pool);
    smtpcore_config_free(cfg);
    free(t);
    free(msg);
    print_result(j.done, j.t0, t1, rss0, NULL);
    return 0;
}

/* S7: one message per new connection, STARTTLS and AUTH each time. */
static int cmd_web(const bench_opts *o)
{
    size_t len = 0;
    char *msg = read_file(o->message, &len);
    smtpcore_error err = {0};
    smtpcore_config *cfg = make_config(o, "starttls");
    double rss0 = proc_status_mb("VmRSS");
    smtpcore_recipient to[] = {{.address = TO}};
    smtpcore_envelope env = {.sender = FROM, .recipients = to, .n_recipients = 1, .all_or_nothing = -1};
    long done = 0;
    double t0 = mono(), t1 = t0;
    while (done < o->count && t1 - t0 < o->max_seconds) {
        smtpcore_session *s = smtpcore_session_open(cfg, &err);
        if (!s)
            die("open", &err);
        smtpcore_result *res = NULL;
        if (smtpcore_session_send_bytes(s, &env, msg, len, &res, &err) < 0)
            die("send", &err);
        smtpcore_result_free(res);
        smtpcore_session_close(s);
        done++;
        t1 = mono();
    }
    smtpcore_config_free(cfg);
    free(msg);
    print_result(done, t0, t1, rss0, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_opts(argc, argv, &o);
    if (!strcmp(o.scenario, "send"))
        return cmd_send(&o);
    if (!strcmp(o.scenario, "rcpts"))
        return cmd_rcpts(&o);
    if (!strcmp(o.scenario, "compose"))
        return cmd_compose(&o);
    if (!strcmp(o.scenario, "big"))
        return cmd_big(&o);
    if (!strcmp(o.scenario, "pool"))
        return cmd_pool(&o);
    if (!strcmp(o.scenario, "web"))
        return cmd_web(&o);
    fprintf(stderr, "sc_bench: unknown scenario %s\n", o.scenario);
    return 2;
}
