/* The process-wide TLS context cache (csrc/client/tls_cache.c): one context
 * per set of TLS settings, rebuilt when a file behind it changes, never a
 * cached failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/config.h"
#include "client/session_internal.h"
#include "testlib.h"

static const char *copy_system_bundle(char *path, size_t n, const char *name)
{
    snprintf(path, n, "/tmp/smtpcore-tls-cache-%ld-%s.pem", (long)getpid(), name);
    FILE *in = fopen("/etc/ssl/certs/ca-certificates.crt", "rb");
    FILE *out = fopen(path, "wb");
    REQUIRE(in && out);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, k, out);
    fclose(in);
    fclose(out);
    return path;
}

static net_tls_ctx *get(smtpcore_config *c, smtpcore_error *err) { return sc_config_tls_ctx(c, err); }

static void test_same_settings_share_one_context(void)
{
    char a[256], b[256];
    copy_system_bundle(a, sizeof a, "a");
    copy_system_bundle(b, sizeof b, "b");
    smtpcore_config *c = smtpcore_config_new();
    smtpcore_error err = {0};
    REQUIRE(smtpcore_config_set(c, "ca_file", a, &err) == 0);
    net_tls_ctx *x = get(c, &err), *y = get(c, &err);
    REQUIRE(x && y);
    CHECK(x == y);
    /* Other settings, other context. */
    REQUIRE(smtpcore_config_set(c, "ca_file", b, &err) == 0);
    net_tls_ctx *z = get(c, &err);
    CHECK(z && z != x);
    REQUIRE(smtpcore_config_set(c, "tls_verify", "0", &err) == 0);
    net_tls_ctx *w = get(c, &err);
    CHECK(w && w != z);
    net_tls_ctx_unref(w);
    net_tls_ctx_unref(z);
    /* The CA file changes: the next session gets a fresh context. */
    REQUIRE(smtpcore_config_set(c, "tls_verify", "1", &err) == 0);
    REQUIRE(smtpcore_config_set(c, "ca_file", a, &err) == 0);
    FILE *f = fopen(a, "ab");
    REQUIRE(f);
    fputs("\n", f);
    fclose(f);
    net_tls_ctx *v = get(c, &err);
    CHECK(v && v != x);
    net_tls_ctx_unref(v);
    net_tls_ctx_unref(x);
    net_tls_ctx_unref(y);
    unlink(a);
    unlink(b);
    smtpcore_config_free(c);
}

static void test_a_bad_trust_store_fails_every_time(void)
{
    char bad[256];
    snprintf(bad, sizeof bad, "/tmp/smtpcore-tls-cache-%ld-bad.pem", (long)getpid());
    FILE *f = fopen(bad, "wb");
    REQUIRE(f);
    fputs("not a certificate\n", f);
    fclose(f);
    smtpcore_config *c = smtpcore_config_new();
    smtpcore_error err = {0};
    REQUIRE(smtpcore_config_set(c, "ca_file", bad, &err) == 0);
    for (int i = 0; i < 2; i++) {
        CHECK(get(c, &err) == NULL);
        CHECK_INT_EQ(err.category, SMTPCORE_ERR_TLS);
        smtpcore_error_clear(&err);
    }
    unlink(bad);
    smtpcore_config_free(c);
}

/* The system store comes from $SSL_CERT_FILE when it is set: a program (or a
 * test) that points it elsewhere gets a context built from there. */
static void test_system_store_follows_ssl_cert_file(void)
{
    char a[256], b[256];
    copy_system_bundle(a, sizeof a, "env-a");
    copy_system_bundle(b, sizeof b, "env-b");
    smtpcore_config *c = smtpcore_config_new();
    smtpcore_error err = {0};
    setenv("SSL_CERT_FILE", a, 1);
    net_tls_ctx *x = get(c, &err), *x2 = get(c, &err);
    setenv("SSL_CERT_FILE", b, 1);
    net_tls_ctx *y = get(c, &err);
    unsetenv("SSL_CERT_FILE");
    CHECK(x && x2 && y);
    CHECK(x == x2);
    CHECK(y != x);
    net_tls_ctx_unref(x);
    net_tls_ctx_unref(x2);
    net_tls_ctx_unref(y);
    unlink(a);
    unlink(b);
    smtpcore_config_free(c);
}

TEST_MAIN({"system_store_follows_ssl_cert_file", test_system_store_follows_ssl_cert_file},
          {"same_settings_share_one_context", test_same_settings_share_one_context},
          {"a_bad_trust_store_fails_every_time", test_a_bad_trust_store_fails_every_time})
