/* Drives smtpcore_pool from several threads for the integration tests.
 *
 *   pool_probe THREADS MESSAGES_PER_THREAD MAX_CONNECTIONS --host H --port P [--batch B] [other config keys...]
 *
 * With --batch B each thread sends its messages B at a time through
 * smtpcore_pool_send_messages (pipelined on one connection).
 *
 * Each message goes from the configured username (or probe@example.test)
 * to "<to>" (option --to, default bob@example.test) with a subject
 * "pool T-N". Prints "sent N failed N max_connections_seen N" and the
 * first error. The password comes from $SMTPCORE_PASSWORD. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpcore.h"

static smtpcore_pool *pool;
static int per_thread, batch;
static const char *from = "probe@example.test", *to = "bob@example.test";
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sent, failed;
static size_t max_seen;
static char first_error[512];

static smtpcore_message *probe_message(long t, int i)
{
    smtpcore_error err = {0};
    smtpcore_message *m = smtpcore_message_new();
    char subject[64];
    snprintf(subject, sizeof subject, "pool %ld-%d", t, i);
    smtpcore_message_set_from(m, from, &err);
    smtpcore_message_add_to(m, to, &err);
    smtpcore_message_set_subject(m, subject, &err);
    smtpcore_message_set_text(m, subject, strlen(subject), &err);
    smtpcore_error_clear(&err);
    return m;
}

static void count(int rc, const smtpcore_error *err)
{
    size_t open = smtpcore_pool_connections(pool);
    pthread_mutex_lock(&lock);
    if (open > max_seen)
        max_seen = open;
    if (rc == 0) {
        sent++;
    } else {
        failed++;
        if (!first_error[0])
            snprintf(first_error, sizeof first_error, "%s: %s", smtpcore_category_name(err->category),
                     err->message ? err->message : "");
    }
    pthread_mutex_unlock(&lock);
}

static void *batch_worker(void *arg)
{
    long t = (long)arg;
    smtpcore_message **ms = calloc((size_t)batch, sizeof *ms);
    smtpcore_send_outcome *out = calloc((size_t)batch, sizeof *out);
    for (int i = 0; i < per_thread; i += batch) {
        int n = per_thread - i < batch ? per_thread - i : batch;
        for (int k = 0; k < n; k++)
            ms[k] = probe_message(t, i + k);
        smtpcore_pool_send_messages(pool, ms, (size_t)n, out);
        for (int k = 0; k < n; k++) {
            count(out[k].status, &out[k].error);
            smtpcore_send_outcome_clear(&out[k]);
            smtpcore_message_free(ms[k]);
        }
    }
    free(ms);
    free(out);
    return NULL;
}

static void *worker(void *arg)
{
    long t = (long)arg;
    if (batch > 0)
        return batch_worker(arg);
    for (int i = 0; i < per_thread; i++) {
        smtpcore_error err = {0};
        smtpcore_result *res = NULL;
        smtpcore_message *m = probe_message(t, i);
        count(smtpcore_pool_send_message(pool, m, &res, &err), &err);
        smtpcore_result_free(res);
        smtpcore_error_clear(&err);
        smtpcore_message_free(m);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int threads = atoi(argv[1]);
    per_thread = atoi(argv[2]);
    smtpcore_pool_options opts = {.max_connections = (size_t)atoi(argv[3])};
    smtpcore_config *cfg = smtpcore_config_new();
    smtpcore_error err = {0};
    for (int i = 4; i + 1 < argc; i += 2) {
        const char *k = argv[i] + 2, *v = argv[i + 1];
        if (!strcmp(k, "to")) {
            to = v;
            continue;
        }
        if (!strcmp(k, "from")) {
            from = v;
            continue;
        }
        if (!strcmp(k, "batch")) {
            batch = atoi(v);
            continue;
        }
        if (!strcmp(k, "max-messages")) {
            opts.max_messages_per_connection = (size_t)atoi(v);
            continue;
        }
        if (!strcmp(k, "user")) {
            from = v;
            k = "username";
        } else if (!strcmp(k, "ca-file")) {
            k = "ca_file";
        }
        if (smtpcore_config_set(cfg, k, v, &err) < 0) {
            fprintf(stderr, "%s\n", err.message);
            return 2;
        }
    }
    if (getenv("SMTPCORE_PASSWORD"))
        smtpcore_config_set(cfg, "password", getenv("SMTPCORE_PASSWORD"), &err);
    pool = smtpcore_pool_new(cfg, &opts, &err);
    if (!pool) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    for (long t = 0; t < threads; t++)
        pthread_create(&tids[t], NULL, worker, (void *)t);
    for (long t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    printf("sent %d failed %d max_connections_seen %zu\n", sent, failed, max_seen);
    if (first_error[0])
        printf("first_error %s\n", first_error);
    smtpcore_pool_free(pool);
    smtpcore_config_free(cfg);
    free(tids);
    return 0;
}
