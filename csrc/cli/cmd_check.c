/* smtpcore check: connect, show what the server offers before and after
 * STARTTLS, try AUTH, and explain any failure. */
#include <string.h>

#include "cli/cli.h"

static void print_lines(const char *title, const char *text)
{
    printf("%s\n", title);
    /* Skip the first line: it is the server's name, not a capability. */
    const char *p = strchr(text, '\n');
    if (!p) {
        printf("  (no extensions)\n");
        return;
    }
    for (p++; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        printf("  %.*s\n", (int)n, p);
        p += n + (end ? 1 : 0);
    }
}

int cli_cmd_check(int argc, char **argv)
{
    cli_ctx c;
    cli_ctx_init(&c, "smtpcore check");
    if (!c.cfg)
        return CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_LOCAL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: smtpcore check [options]\n\nConnects, shows the server's capabilities before and after "
                   "STARTTLS, and tries AUTH when a user is given.\n\n");
            cli_connection_usage(stdout);
            cli_ctx_free(&c);
            return 0;
        }
        int r = cli_connection_option(&c, argc, argv, &i);
        if (r < 0 || r == 0) {
            if (r == 0)
                fprintf(stderr, "smtpcore check: unknown option %s (see --help)\n", argv[i]);
            cli_ctx_free(&c);
            return CLI_EXIT_BAD_ARGS;
        }
    }
    if (cli_finish_config(&c) < 0) {
        cli_ctx_free(&c);
        return CLI_EXIT_BAD_ARGS;
    }
    smtpcore_error err = {0};
    smtpcore_session *s = smtpcore_session_open(c.cfg, &err);
    if (!s) {
        int code = cli_report_error(&c, "check", &err);
        smtpcore_error_clear(&err);
        cli_ctx_free(&c);
        return code;
    }
    const smtpcore_session_info *info = smtpcore_session_get_info(s);
    printf("Greeting: %s\n", info->greeting ? info->greeting : "");
    if (info->ehlo_before_tls)
        print_lines("Capabilities before STARTTLS:", info->ehlo_before_tls);
    if (info->tls)
        printf("TLS: %s, %s (certificate checked)\n", info->tls_version ? info->tls_version : "?",
               info->tls_cipher ? info->tls_cipher : "?");
    else
        printf("TLS: none (the connection is not encrypted)\n");
    print_lines(info->ehlo_before_tls ? "Capabilities after STARTTLS:" : "Capabilities:", info->ehlo ? info->ehlo : "");
    if (info->auth_mechanism)
        printf("AUTH: %s succeeded\n", info->auth_mechanism);
    else
        printf("AUTH: not tried (no user given)\n");
    if (c.verbose)
        cli_print_transcript(&c, stdout);
    printf("OK\n");
    smtpcore_session_close(s);
    cli_ctx_free(&c);
    return CLI_EXIT_OK;
}
