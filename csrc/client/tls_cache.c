/* TLS contexts shared by every session in the process that asks for the
 * same settings.
 *
 * Loading the trust store is most of what opening a TLS session costs (3.2M
 * of 9.1M instructions in the benchmark's one-message-per-connection case),
 * and the pattern it hurts is the common one: a web worker (PHP-FPM, a
 * Python app server) that opens a connection per request. The context is
 * built once and kept. It is rebuilt when the files behind it change (CA
 * file or directory, client certificate or key, the system bundle: their
 * size, mtime and inode are part of the key) and in any case after five
 * minutes, so a renewed certificate or CA bundle is picked up without a
 * restart. A context that failed to build is never cached: the error is
 * reported every time, at open. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "client/config.h"
#include "client/session_internal.h"
#include "net/conn.h"

#define CACHE_SLOTS 4
#define CACHE_TTL_MS (5 * 60 * 1000)

typedef struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int exists;
} file_id;

typedef struct cache_key {
    int verify;
    char *ca_file, *ca_dir, *client_cert, *client_key;
    /* Without a CA file or directory OpenSSL loads the system store, from
     * $SSL_CERT_FILE/$SSL_CERT_DIR when set: where it would look is part of
     * the key (a program may change those variables between sessions). */
    char *sys_file, *sys_dir;
    file_id files[6]; /* ca_file, ca_dir, client_cert, client_key, sys_file, sys_dir */
} cache_key;

typedef struct cache_slot {
    cache_key key;
    net_tls_ctx *ctx;
    long long built_ms;
    unsigned long last_use;
} cache_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];
static unsigned long use_counter;

static void identify(const char *path, file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (!path || stat(path, &st) != 0)
        return;
    id->exists = 1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int same_file(const file_id *a, const file_id *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The key's strings point into cfg and the environment until copied. */
static void key_of(const smtpcore_config *cfg, cache_key *k)
{
    memset(k, 0, sizeof *k);
    k->verify = cfg->tls_verify;
    k->ca_file = cfg->ca_file;
    k->ca_dir = cfg->ca_dir;
    k->client_cert = cfg->client_cert;
    k->client_key = cfg->client_key;
    if (!cfg->ca_file && !cfg->ca_dir) {
        const char *f = getenv(X509_get_default_cert_file_env());
        const char *d = getenv(X509_get_default_cert_dir_env());
        k->sys_file = (char *)(f ? f : X509_get_default_cert_file());
        k->sys_dir = (char *)(d ? d : X509_get_default_cert_dir());
    }
    const char *paths[6] = {k->ca_file, k->ca_dir, k->client_cert, k->client_key, k->sys_file, k->sys_dir};
    for (size_t i = 0; i < 6; i++)
        identify(paths[i], &k->files[i]);
}

static int key_matches(const cache_key *a, const cache_key *b)
{
    if (a->verify != b->verify || !same_str(a->ca_file, b->ca_file) || !same_str(a->ca_dir, b->ca_dir) ||
        !same_str(a->client_cert, b->client_cert) || !same_str(a->client_key, b->client_key) ||
        !same_str(a->sys_file, b->sys_file) || !same_str(a->sys_dir, b->sys_dir))
        return 0;
    for (size_t i = 0; i < sizeof a->files / sizeof a->files[0]; i++)
        if (!same_file(&a->files[i], &b->files[i]))
            return 0;
    return 1;
}

static void slot_clear(cache_slot *s)
{
    net_tls_ctx_unref(s->ctx);
    free(s->key.ca_file);
    free(s->key.ca_dir);
    free(s->key.client_cert);
    free(s->key.client_key);
    free(s->key.sys_file);
    free(s->key.sys_dir);
    memset(s, 0, sizeof *s);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static net_tls_ctx *build(const smtpcore_config *cfg, smtpcore_error *err)
{
    net_tls_opts o = {
        .insecure_no_verify = !cfg->tls_verify,
        .ca_file = cfg->ca_file,
        .ca_dir = cfg->ca_dir,
        .client_cert = cfg->client_cert,
        .client_key = cfg->client_key,
    };
    return net_tls_ctx_new(&o, err);
}

net_tls_ctx *sc_config_tls_ctx(const smtpcore_config *cfg, smtpcore_error *err)
{
    cache_key key;
    key_of(cfg, &key);
    long long now = net_now_ms();
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *s = &cache[i];
        if (!s->ctx || !key_matches(&s->key, &key))
            continue;
        if (now - s->built_ms > CACHE_TTL_MS) {
            slot_clear(s);
            continue;
        }
        s->last_use = ++use_counter;
        net_tls_ctx *ctx = net_tls_ctx_ref(s->ctx);
        pthread_mutex_unlock(&cache_lock);
        return ctx;
    }
    pthread_mutex_unlock(&cache_lock);

    /* Built outside the lock: loading a trust store takes milliseconds. */
    net_tls_ctx *ctx = build(cfg, err);
    if (!ctx)
        return NULL;
    cache_slot fresh = {.key = key, .ctx = net_tls_ctx_ref(ctx), .built_ms = now};
    fresh.key.ca_file = dup_or_null(cfg->ca_file);
    fresh.key.ca_dir = dup_or_null(cfg->ca_dir);
    fresh.key.client_cert = dup_or_null(cfg->client_cert);
    fresh.key.client_key = dup_or_null(cfg->client_key);
    fresh.key.sys_file = dup_or_null(key.sys_file);
    fresh.key.sys_dir = dup_or_null(key.sys_dir);
    if ((cfg->ca_file && !fresh.key.ca_file) || (cfg->ca_dir && !fresh.key.ca_dir) ||
        (cfg->client_cert && !fresh.key.client_cert) || (cfg->client_key && !fresh.key.client_key) ||
        (key.sys_file && !fresh.key.sys_file) || (key.sys_dir && !fresh.key.sys_dir)) {
        slot_clear(&fresh); /* out of memory: just don't cache */
        return ctx;
    }
    pthread_mutex_lock(&cache_lock);
    cache_slot *victim = &cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (!cache[i].ctx) {
            victim = &cache[i];
            break;
        }
        if (cache[i].last_use < victim->last_use)
            victim = &cache[i];
    }
    slot_clear(victim);
    fresh.last_use = ++use_counter;
    *victim = fresh;
    pthread_mutex_unlock(&cache_lock);
    return ctx;
}
