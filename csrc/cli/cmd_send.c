/* smtpcore send: send a message read from a file or standard input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static long long file_read(void *ctx, char *buf, size_t n)
{
    FILE *f = ctx;
    size_t got = fread(buf, 1, n, f);
    if (got == 0 && ferror(f))
        return -1;
    return (long long)got;
}

static void usage(FILE *out)
{
    fputs("usage: smtpcore send --from ADDR --to ADDR [--to ADDR ...] [options] [FILE]\n\n"
          "Sends the message in FILE (or standard input) as it is; line endings are normalised\n"
          "to CRLF and lines starting with '.' are escaped on the wire.\n\n"
          "  --from ADDR              envelope sender (\"\" for a null sender)\n"
          "  --to ADDR                envelope recipient (repeat for more)\n",
          out);
    cli_connection_usage(out);
}

int cli_cmd_send(int argc, char **argv)
{
    cli_ctx c;
    cli_ctx_init(&c, "smtpcore send");
    if (!c.cfg)
        return CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_LOCAL;
    const char *from = NULL, *path = NULL;
    smtpcore_recipient *rcpts = calloc((size_t)argc + 1, sizeof *rcpts);
    size_t n_rcpts = 0;
    int code = CLI_EXIT_BAD_ARGS;
    FILE *in = NULL;
    smtpcore_session *s = NULL;
    smtpcore_result *res = NULL;
    smtpcore_error err = {0};
    if (!rcpts)
        goto out;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            code = 0;
            goto out;
        }
        if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && i + 1 < argc) {
            if (a[2] == 'f')
                from = argv[++i];
            else
                rcpts[n_rcpts++].address = argv[++i];
            continue;
        }
        int r = cli_connection_option(&c, argc, argv, &i);
        if (r < 0)
            goto out;
        if (r == 1)
            continue;
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "smtpcore send: unknown option %s (see --help)\n", a);
            goto out;
        }
        if (path) {
            fprintf(stderr, "smtpcore send: only one message file\n");
            goto out;
        }
        path = a;
    }
    if (!from || !n_rcpts) {
        fprintf(stderr, "smtpcore send: --from and at least one --to are required\n");
        goto out;
    }
    if (cli_finish_config(&c) < 0)
        goto out;
    in = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "smtpcore send: cannot open %s: %s\n", path, strerror(errno));
        code = CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_LOCAL;
        goto out;
    }
    long long size = 0;
    if (in != stdin && fseek(in, 0, SEEK_END) == 0) {
        size = ftell(in);
        rewind(in);
    }
    smtpcore_envelope env = {.sender = from, .recipients = rcpts, .n_recipients = n_rcpts, .all_or_nothing = -1};
    smtpcore_source src = {.read = file_read, .ctx = in, .size_hint = size > 0 ? (uint64_t)size : 0, .eight_bit = -1};
    /* Refuse a bad envelope before connecting: nothing reaches the server. */
    if (smtpcore_envelope_check(&env, &err) < 0) {
        code = cli_report_error(&c, "send", &err);
        goto out;
    }
    s = smtpcore_session_open(c.cfg, &err);
    if (!s) {
        code = cli_report_error(&c, "connection", &err);
        goto out;
    }
    int rc = smtpcore_session_send(s, &env, &src, &res, &err);
    for (size_t i = 0; res && i < smtpcore_result_count(res); i++) {
        const smtpcore_rcpt_status *st = smtpcore_result_get(res, i);
        printf("%s <%s> %d %s\n", st->accepted ? "accepted" : "refused ", st->address, st->code,
               st->text ? st->text : "");
    }
    if (rc < 0) {
        code = cli_report_error(&c, "send", &err);
        goto out;
    }
    printf("sent: %d %s\n", smtpcore_result_code(res), smtpcore_result_text(res));
    if (c.verbose)
        cli_print_transcript(&c, stdout);
    code = smtpcore_result_accepted(res) < n_rcpts ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    smtpcore_result_free(res);
    smtpcore_session_close(s);
    if (in && in != stdin)
        fclose(in);
    smtpcore_error_clear(&err);
    free(rcpts);
    cli_ctx_free(&c);
    return code;
}
