/* The configuration behind smtpcore_config (shared by the session code). */
#ifndef CLIENT_CONFIG_H
#define CLIENT_CONFIG_H

#include "smtp/sasl.h"
#include "smtpcore.h"

struct smtpcore_config {
    char *host;
    int port;                        /* 0: the security mode's default */
    smtpcore_security security;
    char *username;
    char *password;
    char *oauth2_token;
    smtp_sasl_mech mechanism;
    int allow_plaintext_auth;
    char *ehlo_name;
    int connect_timeout_ms;
    int timeout_ms;
    char *ca_file;
    char *ca_dir;
    char *client_cert;
    char *client_key;
    int tls_verify;
    char *tls_server_name;
    char *region;                    /* for presets whose host has "{region}" */
    int pipelining;
    int chunking;
    int pipeline_depth;              /* 0: the engine's default */
    int all_or_nothing;
    smtpcore_transcript_fn transcript;
    void *transcript_userdata;
};

/* The host to connect to, with "{region}" filled in; malloc'd, or NULL with err. */
char *sc_config_resolved_host(const smtpcore_config *cfg, smtpcore_error *err);
int sc_config_port(const smtpcore_config *cfg);

#endif
