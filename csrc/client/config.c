#include "client/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/envelope_check.h"
#include "util/error.h"
#include "util/secret.h"

smtpcore_config *smtpcore_config_new(void)
{
    smtpcore_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->security = SMTPCORE_SECURITY_STARTTLS;
    c->connect_timeout_ms = 30000;
    c->timeout_ms = 60000;
    c->tls_verify = 1;
    c->pipelining = 1;
    c->chunking = 1;
    return c;
}

void smtpcore_config_free(smtpcore_config *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->username);
    sc_secret_free(c->password);
    sc_secret_free(c->oauth2_token);
    free(c->ehlo_name);
    free(c->ca_file);
    free(c->ca_dir);
    free(c->client_cert);
    free(c->client_key);
    free(c->tls_server_name);
    free(c->region);
    free(c);
}

smtpcore_config *smtpcore_config_copy(const smtpcore_config *src)
{
    smtpcore_config *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *src;
    char **fields[] = {&c->host, &c->username, &c->password, &c->oauth2_token, &c->ehlo_name, &c->ca_file,
                       &c->ca_dir, &c->client_cert, &c->client_key, &c->tls_server_name, &c->region};
    int ok = 1;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (*fields[i] && !(*fields[i] = strdup(*fields[i])))
            ok = 0;
    }
    if (!ok) {
        smtpcore_config_free(c);
        return NULL;
    }
    return c;
}

void smtpcore_config_set_transcript(smtpcore_config *cfg, smtpcore_transcript_fn fn, void *userdata)
{
    cfg->transcript = fn;
    cfg->transcript_userdata = userdata;
}

static int set_str(char **slot, const char *v, int secret, smtpcore_error *err)
{
    char *copy = NULL;
    if (v && *v && !(copy = strdup(v)))
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    if (secret)
        sc_secret_free(*slot);
    else
        free(*slot);
    *slot = copy;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int parse_int(const char *v, long lo, long hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

static int parse_security(const char *v, smtpcore_security *out)
{
    static const struct { const char *name; smtpcore_security s; } names[] = {
        {"starttls", SMTPCORE_SECURITY_STARTTLS}, {"tls", SMTPCORE_SECURITY_TLS},
        {"ssl", SMTPCORE_SECURITY_TLS},           {"opportunistic", SMTPCORE_SECURITY_OPPORTUNISTIC},
        {"none", SMTPCORE_SECURITY_NONE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(v, names[i].name)) {
            *out = names[i].s;
            return 0;
        }
    return -1;
}

int smtpcore_config_set(smtpcore_config *c, const char *key, const char *value, smtpcore_error *err)
{
    if (!c || !key)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no option name");
    if (!value)
        value = "";
    if (sc_has_ctl_breaks(value))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "option '%s' must not contain CR or LF", key);

    if (!strcmp(key, "host")) return set_str(&c->host, value, 0, err);
    if (!strcmp(key, "username")) return set_str(&c->username, value, 0, err);
    if (!strcmp(key, "password")) return set_str(&c->password, value, 1, err);
    if (!strcmp(key, "oauth2_token")) return set_str(&c->oauth2_token, value, 1, err);
    if (!strcmp(key, "ca_file")) return set_str(&c->ca_file, value, 0, err);
    if (!strcmp(key, "ca_dir")) return set_str(&c->ca_dir, value, 0, err);
    if (!strcmp(key, "client_cert")) return set_str(&c->client_cert, value, 0, err);
    if (!strcmp(key, "client_key")) return set_str(&c->client_key, value, 0, err);
    if (!strcmp(key, "tls_server_name")) return set_str(&c->tls_server_name, value, 0, err);
    if (!strcmp(key, "region")) return set_str(&c->region, value, 0, err);
    if (!strcmp(key, "ehlo_name")) {
        if (*value && !smtp_check_ehlo_name(value))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "invalid EHLO name '%s' (a domain name or an address literal)", value);
        return set_str(&c->ehlo_name, value, 0, err);
    }
    if (!strcmp(key, "port")) {
        if (parse_int(value, 0, 65535, &c->port) < 0)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid port '%s'", value);
        return 0;
    }
    if (!strcmp(key, "connect_timeout") || !strcmp(key, "timeout")) {
        int *slot = key[0] == 'c' ? &c->connect_timeout_ms : &c->timeout_ms;
        if (parse_int(value, 1, 24 * 3600 * 1000, slot) < 0)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid %s '%s' (milliseconds)", key, value);
        return 0;
    }
    if (!strcmp(key, "pipeline_depth")) {
        if (parse_int(value, 1, 64, &c->pipeline_depth) < 0)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "invalid pipeline_depth '%s' (1 to 64 messages)", value);
        return 0;
    }
    if (!strcmp(key, "security")) {
        if (parse_security(value, &c->security) < 0)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "invalid security '%s' (starttls, tls, opportunistic or none)", value);
        return 0;
    }
    if (!strcmp(key, "auth_mechanism")) {
        if (!*value) {
            c->mechanism = SMTP_SASL_NONE;
            return 0;
        }
        smtp_sasl_mech m = smtp_sasl_mech_from_name(value);
        if (m == SMTP_SASL_NONE)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "unknown AUTH mechanism '%s' (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2)", value);
        c->mechanism = m;
        return 0;
    }
    struct { const char *name; int *slot; } bools[] = {
        {"allow_plaintext_auth", &c->allow_plaintext_auth}, {"tls_verify", &c->tls_verify},
        {"pipelining", &c->pipelining}, {"chunking", &c->chunking}, {"all_or_nothing", &c->all_or_nothing},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (!strcmp(key, bools[i].name)) {
            if (parse_bool(value, bools[i].slot) < 0)
                return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "option '%s' takes 1 or 0, not '%s'", key,
                                  value);
            return 0;
        }
    }
    if (!strcmp(key, "preset")) {
        const smtpcore_preset *p = smtpcore_preset_find(value);
        if (!p)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown preset '%s'", value);
        if (set_str(&c->host, p->host, 0, err) < 0)
            return -1;
        c->port = p->port;
        c->security = p->security;
        return 0;
    }
    return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown option '%s'", key);
}

char *sc_config_resolved_host(const smtpcore_config *c, smtpcore_error *err)
{
    if (!c->host || !*c->host) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no host given");
        return NULL;
    }
    const char *ph = strstr(c->host, "{region}");
    if (!ph)
        return strdup(c->host);
    if (!c->region || !*c->region) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "this preset needs a region (option 'region', e.g. us-east-1)");
        return NULL;
    }
    for (const char *r = c->region; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-')) {
            sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid region '%s'", c->region);
            return NULL;
        }
    size_t pre = (size_t)(ph - c->host), rl = strlen(c->region), post = strlen(ph + 8);
    char *h = malloc(pre + rl + post + 1);
    if (!h) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    memcpy(h, c->host, pre);
    memcpy(h + pre, c->region, rl);
    memcpy(h + pre + rl, ph + 8, post + 1);
    return h;
}

int sc_config_port(const smtpcore_config *c)
{
    if (c->port)
        return c->port;
    switch (c->security) {
    case SMTPCORE_SECURITY_TLS: return 465;
    case SMTPCORE_SECURITY_STARTTLS: return 587;
    default: return 25;
    }
}
