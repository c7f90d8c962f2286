/* Configuration by name: every key, bad values, presets, and values that
 * would inject protocol. */
#include <stdlib.h>

#include "client/config.h"
#include "testlib.h"

static int set(smtpcore_config *c, const char *k, const char *v, smtpcore_category *cat)
{
    smtpcore_error err = {0};
    int rc = smtpcore_config_set(c, k, v, &err);
    if (cat)
        *cat = err.category;
    smtpcore_error_clear(&err);
    return rc;
}

static void test_defaults_are_safe(void)
{
    smtpcore_config *c = smtpcore_config_new();
    REQUIRE(c);
    CHECK_INT_EQ(c->security, SMTPCORE_SECURITY_STARTTLS);
    CHECK_INT_EQ(c->tls_verify, 1);
    CHECK_INT_EQ(c->allow_plaintext_auth, 0);
    CHECK_INT_EQ(c->connect_timeout_ms, 30000);
    CHECK_INT_EQ(c->timeout_ms, 60000);
    CHECK_INT_EQ(sc_config_port(c), 587);
    smtpcore_config_free(c);
}

static void test_every_key(void)
{
    smtpcore_config *c = smtpcore_config_new();
    const char *kv[][2] = {
        {"host", "mail.example.test"}, {"port", "2525"}, {"security", "tls"}, {"username", "u@example.test"},
        {"password", "p"}, {"oauth2_token", "t"}, {"auth_mechanism", "scram-sha-256"},
        {"allow_plaintext_auth", "yes"}, {"ehlo_name", "client.example.test"}, {"connect_timeout", "1500"},
        {"timeout", "2500"}, {"ca_file", "/x/ca.pem"}, {"ca_dir", "/x"}, {"client_cert", "/x/c.pem"},
        {"client_key", "/x/k.pem"}, {"tls_verify", "0"}, {"tls_server_name", "other.example.test"},
        {"pipelining", "off"}, {"chunking", "false"}, {"all_or_nothing", "1"}, {"region", "eu-west-1"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(set(c, kv[i][0], kv[i][1], NULL), 0);
    CHECK_STR_EQ(c->host, "mail.example.test");
    CHECK_INT_EQ(c->port, 2525);
    CHECK_INT_EQ(c->security, SMTPCORE_SECURITY_TLS);
    CHECK_INT_EQ(c->mechanism, SMTP_SASL_SCRAM_SHA_256);
    CHECK_INT_EQ(c->allow_plaintext_auth, 1);
    CHECK_INT_EQ(c->connect_timeout_ms, 1500);
    CHECK_INT_EQ(c->timeout_ms, 2500);
    CHECK_INT_EQ(c->tls_verify, 0);
    CHECK_INT_EQ(c->pipelining, 0);
    CHECK_INT_EQ(c->chunking, 0);
    CHECK_INT_EQ(c->all_or_nothing, 1);
    smtpcore_config *copy = smtpcore_config_copy(c);
    REQUIRE(copy);
    CHECK_STR_EQ(copy->password, "p");
    CHECK(copy->password != c->password);
    smtpcore_config_free(copy);
    smtpcore_config_free(c);
}

static void test_bad_values_are_usage_errors(void)
{
    smtpcore_config *c = smtpcore_config_new();
    const char *kv[][2] = {
        {"port", "70000"}, {"port", "12x"}, {"port", ""}, {"security", "ssl3"}, {"timeout", "0"},
        {"timeout", "-5"}, {"auth_mechanism", "DIGEST-MD5"}, {"tls_verify", "maybe"}, {"no_such_key", "1"},
        {"preset", "no-such-provider"}, {"ehlo_name", "bad name"}, {"ehlo_name", "x\r\nMAIL FROM:<a@b>"},
        {"host", "mail.example.test\r\nQUIT"}, {"username", "u\nAUTH"}, {"password", "p\r\n"},
        {"pipeline_depth", "0"}, {"pipeline_depth", "65"}, {"pipeline_depth", "8x"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        smtpcore_category cat = SMTPCORE_OK;
        CHECK_INT_EQ(set(c, kv[i][0], kv[i][1], &cat), -1);
        CHECK_INT_EQ(cat, SMTPCORE_ERR_USAGE);
    }
    CHECK(c->host == NULL && c->username == NULL && c->password == NULL);
    CHECK_INT_EQ(c->pipeline_depth, 0);
    CHECK_INT_EQ(set(c, "pipeline_depth", "8", NULL), 0);
    CHECK_INT_EQ(c->pipeline_depth, 8);
    smtpcore_config_free(c);
}

static void test_presets(void)
{
    smtpcore_config *c = smtpcore_config_new();
    CHECK_INT_EQ(set(c, "preset", "Gmail", NULL), 0);
    CHECK_STR_EQ(c->host, "smtp.gmail.com");
    CHECK_INT_EQ(c->port, 587);
    CHECK_INT_EQ(c->security, SMTPCORE_SECURITY_STARTTLS);
    CHECK_INT_EQ(set(c, "preset", "yahoo", NULL), 0);
    CHECK_INT_EQ(c->security, SMTPCORE_SECURITY_TLS);
    CHECK_INT_EQ(sc_config_port(c), 465);
    /* A region placeholder needs a region, and a safe one. */
    CHECK_INT_EQ(set(c, "preset", "amazon-ses", NULL), 0);
    smtpcore_error err = {0};
    CHECK(sc_config_resolved_host(c, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    set(c, "region", "eu-west-1", NULL);
    char *h = sc_config_resolved_host(c, &err);
    CHECK_STR_EQ(h, "email-smtp.eu-west-1.amazonaws.com");
    free(h);
    set(c, "region", "x.evil.test/", NULL);
    CHECK(sc_config_resolved_host(c, &err) == NULL);
    smtpcore_error_clear(&err);
    smtpcore_config_free(c);
}

static void test_open_refuses_bad_config_without_connecting(void)
{
    smtpcore_config *c = smtpcore_config_new();
    smtpcore_error err = {0};
    CHECK(smtpcore_session_open(c, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    set(c, "host", "127.0.0.1", NULL);
    set(c, "password", "p", NULL);
    CHECK(smtpcore_session_open(c, &err) == NULL);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    CHECK(strstr(err.message, "user name") != NULL);
    smtpcore_error_clear(&err);
    smtpcore_config_free(c);
}

static void test_envelope_check(void)
{
    smtpcore_recipient r = {.address = "b@example.test"};
    smtpcore_envelope env = {.sender = "a@example.test", .recipients = &r, .n_recipients = 1};
    smtpcore_error err = {0};
    CHECK_INT_EQ(smtpcore_envelope_check(&env, &err), 0);
    r.address = "b@example.test>\r\nRCPT TO:<c@example.test";
    CHECK_INT_EQ(smtpcore_envelope_check(&env, &err), -1);
    CHECK_INT_EQ(err.category, SMTPCORE_ERR_USAGE);
    smtpcore_error_clear(&err);
    r.address = "b@example.test";
    env.n_recipients = 0;
    CHECK_INT_EQ(smtpcore_envelope_check(&env, &err), -1);
    smtpcore_error_clear(&err);
}

TEST_MAIN({"defaults_are_safe", test_defaults_are_safe}, {"every_key", test_every_key},
          {"bad_values_are_usage_errors", test_bad_values_are_usage_errors}, {"presets", test_presets},
          {"open_refuses_bad_config_without_connecting", test_open_refuses_bad_config_without_connecting},
          {"envelope_check", test_envelope_check})
