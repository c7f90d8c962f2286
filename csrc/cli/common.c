#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void collect(void *ud, smtpcore_dir dir, const char *line, size_t len)
{
    cli_ctx *c = ud;
    const char *tag = dir == SMTPCORE_DIR_CLIENT ? "C: " : dir == SMTPCORE_DIR_SERVER ? "S: " : "*  ";
    if (c->verbose)
        fprintf(stderr, "%s%.*s\n", tag, (int)len, line);
    if (c->n_transcript == c->cap_transcript) {
        size_t cap = c->cap_transcript ? c->cap_transcript * 2 : 64;
        char **t = realloc(c->transcript, cap * sizeof *t);
        if (!t)
            return;
        c->transcript = t;
        c->cap_transcript = cap;
    }
    char *s = malloc(len + 4);
    if (!s)
        return;
    memcpy(s, tag, 3);
    memcpy(s + 3, line, len);
    s[len + 3] = '\0';
    c->transcript[c->n_transcript++] = s;
}

void cli_ctx_init(cli_ctx *c, const char *prog)
{
    memset(c, 0, sizeof *c);
    c->prog = prog;
    c->cfg = smtpcore_config_new();
    if (c->cfg)
        smtpcore_config_set_transcript(c->cfg, collect, c);
}

void cli_ctx_free(cli_ctx *c)
{
    smtpcore_config_free(c->cfg);
    for (size_t i = 0; i < c->n_transcript; i++)
        free(c->transcript[i]);
    free(c->transcript);
}

void cli_print_transcript(cli_ctx *c, FILE *out)
{
    fprintf(out, "Transcript (passwords redacted):\n");
    for (size_t i = 0; i < c->n_transcript; i++)
        fprintf(out, "  %s\n", c->transcript[i]);
}

void cli_connection_usage(FILE *out)
{
    fputs("Connection options:\n"
          "  --host HOST              SMTP server\n"
          "  --port PORT              default: 587 (starttls), 465 (tls), 25 (none)\n"
          "  --security MODE          starttls (default, required) | tls | opportunistic | none\n"
          "  --preset NAME            provider preset: gmail, outlook, office365, yahoo, sendgrid, ...\n"
          "  --region REGION          region for presets that need one (amazon-ses)\n"
          "  --user NAME              user name for AUTH\n"
          "  --password-env VAR       read the password from environment variable VAR\n"
          "  --password-file FILE     read the password from the first line of FILE\n"
          "                           (default: $SMTPCORE_PASSWORD if set)\n"
          "  --oauth2-token-env VAR   bearer token for XOAUTH2 from environment variable VAR\n"
          "  --auth-mechanism MECH    PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2 (default: strongest offered)\n"
          "  --allow-plaintext-auth   allow AUTH without TLS (dangerous)\n"
          "  --ca-file FILE           trust these CA certificates instead of the system store\n"
          "  --ca-dir DIR\n"
          "  --client-cert FILE, --client-key FILE\n"
          "  --tls-server-name NAME   name to verify in the certificate (default: --host)\n"
          "  --insecure               do not verify the server certificate (tests only)\n"
          "  --ehlo-name NAME         name sent in EHLO (default: this host's FQDN or address literal)\n"
          "  --connect-timeout MS     default 30000\n"
          "  --timeout MS             per reply, default 60000\n"
          "  --no-pipelining, --no-chunking\n"
          "  -v, --verbose            print the (redacted) protocol transcript as it happens\n"
          "  --stats                  print elapsed time and peak memory when done\n",
          out);
}

static int set(cli_ctx *c, const char *key, const char *value)
{
    smtpcore_error err = {0};
    if (smtpcore_config_set(c->cfg, key, value, &err) < 0) {
        fprintf(stderr, "%s: %s\n", c->prog, err.message ? err.message : "invalid option");
        smtpcore_error_clear(&err);
        return -1;
    }
    return 1;
}

static char *read_first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[4096];
    char *r = fgets(buf, sizeof buf, f) ? strdup(buf) : strdup("");
    fclose(f);
    if (r)
        r[strcspn(r, "\r\n")] = '\0';
    return r;
}

int cli_connection_option(cli_ctx *c, int argc, char **argv, int *i)
{
    static const struct { const char *flag; const char *key; } with_value[] = {
        {"--host", "host"}, {"--port", "port"}, {"--security", "security"}, {"--preset", "preset"},
        {"--region", "region"}, {"--user", "username"}, {"--auth-mechanism", "auth_mechanism"},
        {"--ca-file", "ca_file"}, {"--ca-dir", "ca_dir"}, {"--client-cert", "client_cert"},
        {"--client-key", "client_key"}, {"--tls-server-name", "tls_server_name"}, {"--ehlo-name", "ehlo_name"},
        {"--connect-timeout", "connect_timeout"}, {"--timeout", "timeout"},
    };
    static const struct { const char *flag; const char *key; const char *value; } switches[] = {
        {"--allow-plaintext-auth", "allow_plaintext_auth", "1"}, {"--insecure", "tls_verify", "0"},
        {"--no-pipelining", "pipelining", "0"}, {"--no-chunking", "chunking", "0"},
        {"--all-or-nothing", "all_or_nothing", "1"},
    };
    const char *a = argv[*i];
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
        c->verbose = 1;
        return 1;
    }
    if (!strcmp(a, "--stats")) {
        c->stats = 1;
        return 1;
    }
    for (size_t k = 0; k < sizeof switches / sizeof switches[0]; k++)
        if (!strcmp(a, switches[k].flag))
            return set(c, switches[k].key, switches[k].value);
    int needs_value = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
        if (!strcmp(a, with_value[k].flag))
            needs_value = 1;
    if (!strcmp(a, "--password-env") || !strcmp(a, "--password-file") || !strcmp(a, "--oauth2-token-env"))
        needs_value = 1;
    if (!needs_value)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", c->prog, a);
        return -1;
    }
    const char *v = argv[++*i];
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
        if (!strcmp(a, with_value[k].flag))
            return set(c, with_value[k].key, v);
    if (!strcmp(a, "--password-env") || !strcmp(a, "--oauth2-token-env")) {
        const char *secret = getenv(v);
        if (!secret) {
            fprintf(stderr, "%s: environment variable %s is not set\n", c->prog, v);
            return -1;
        }
        if (a[2] == 'p')
            c->have_password = 1;
        return set(c, a[2] == 'p' ? "password" : "oauth2_token", secret);
    }
    char *pw = read_first_line(v);
    if (!pw) {
        fprintf(stderr, "%s: cannot read %s: %s\n", c->prog, v, strerror(errno));
        return -1;
    }
    int rc = set(c, "password", pw);
    c->have_password = 1;
    memset(pw, 0, strlen(pw));
    free(pw);
    return rc;
}

int cli_finish_config(cli_ctx *c)
{
    const char *pw = getenv("SMTPCORE_PASSWORD");
    if (pw && !c->have_password)
        return set(c, "password", pw) < 0 ? -1 : 0;
    return 0;
}

int cli_report_error(cli_ctx *c, const char *what, const smtpcore_error *err)
{
    fprintf(stderr, "%s: %s failed: %s\n", c->prog, what, err->message ? err->message : "unknown error");
    fprintf(stderr, "  category: %s\n", smtpcore_category_name(err->category));
    if (err->code)
        fprintf(stderr, "  reply code: %d\n", err->code);
    if (err->enhanced[0])
        fprintf(stderr, "  enhanced code: %s\n", err->enhanced);
    if (err->server_text)
        fprintf(stderr, "  server said: %s\n", err->server_text);
    if (err->hint)
        fprintf(stderr, "  hint: %s\n", err->hint);
    if (!c->verbose && c->n_transcript)
        cli_print_transcript(c, stderr);
    return CLI_EXIT_CATEGORY_BASE + (int)err->category;
}

long long cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Peak resident memory of this program since exec (VmHWM), in KiB; getrusage
 * would also count the memory of the process that started us before exec. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) { /* strtol, not sscanf: no undefined overflow */
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

void cli_report_stats(const cli_ctx *c, long long started_ms)
{
    if (c->stats)
        fprintf(stderr, "stats: elapsed_ms=%lld peak_rss_kib=%ld\n", cli_now_ms() - started_ms, peak_rss_kib());
}
