/* smtpcore send: send a message read from a file or standard input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/compose.h"

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
    fputs("usage: smtpcore send --from ADDR --to ADDR [--to ADDR ...] [options] [FILE]\n"
          "       smtpcore send --from ADDR --to ADDR --subject S --text T [--attach F ...] [options]\n\n"
          "Without composition options, sends the message in FILE (or standard input) as it is\n"
          "(line endings are normalised to CRLF and lines starting with '.' are escaped on the wire);\n"
          "--from and --to are then the envelope only. With them, builds the message.\n\n"
          "  --from ADDR              sender (\"\" for a null envelope sender)\n"
          "  --to ADDR                recipient (repeat for more)\n",
          out);
    cli_compose_usage(out);
    cli_connection_usage(out);
}

/* Compose mode: the message carries From and To; send or print it. */
static int send_composed(cli_ctx *c, cli_compose *comp, const char *from, const char **to, size_t n_to)
{
    smtpcore_error *err = &comp->err;
    if (from && smtpcore_message_set_from(comp->msg, from, err) < 0) {
        fprintf(stderr, "smtpcore send: --from: %s\n", err->message);
        return CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_USAGE;
    }
    for (size_t i = 0; i < n_to; i++)
        if (smtpcore_message_add_to(comp->msg, to[i], err) < 0) {
            fprintf(stderr, "smtpcore send: --to: %s\n", err->message);
            return CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_USAGE;
        }
    if (cli_compose_finish(comp) < 0)
        return CLI_EXIT_CATEGORY_BASE + (comp->err.category ? (int)comp->err.category : SMTPCORE_ERR_USAGE);
    if (comp->print) {
        smtpcore_message_reader *r = smtpcore_message_reader_new(comp->msg, comp->print_flags, err);
        if (!r)
            return cli_report_error(c, "composing", err);
        char buf[65536];
        long long got = 0;
        int write_failed = 0; /* e.g. a full disk: never exit 0 with the message cut short */
        while (!write_failed && (got = smtpcore_message_reader_read(r, buf, sizeof buf, err)) > 0)
            write_failed = fwrite(buf, 1, (size_t)got, stdout) != (size_t)got;
        smtpcore_message_reader_free(r);
        if (got < 0)
            return cli_report_error(c, "composing", err);
        return !write_failed && fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_LOCAL;
    }
    smtpcore_session *s = smtpcore_session_open(c->cfg, err);
    if (!s)
        return cli_report_error(c, "connection", err);
    smtpcore_result *res = NULL;
    int rc = smtpcore_session_send_message(s, comp->msg, &res, err);
    size_t total = smtpcore_result_count(res);
    for (size_t i = 0; i < total; i++) {
        const smtpcore_rcpt_status *st = smtpcore_result_get(res, i);
        printf("%s <%s> %d %s\n", st->accepted ? "accepted" : "refused ", st->address, st->code,
               st->text ? st->text : "");
    }
    int code;
    if (rc < 0) {
        code = cli_report_error(c, "send", err);
    } else {
        printf("sent: %d %s\n", smtpcore_result_code(res), smtpcore_result_text(res));
        if (c->verbose)
            cli_print_transcript(c, stdout);
        code = smtpcore_result_accepted(res) < total ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
    }
    smtpcore_result_free(res);
    smtpcore_session_close(s);
    return code;
}

int cli_cmd_send(int argc, char **argv)
{
    long long started = cli_now_ms();
    cli_ctx c;
    cli_ctx_init(&c, "smtpcore send");
    if (!c.cfg)
        return CLI_EXIT_CATEGORY_BASE + SMTPCORE_ERR_LOCAL;
    const char *from = NULL, *path = NULL;
    cli_compose comp;
    cli_compose_init(&comp);
    const char **to_text = calloc((size_t)argc + 1, sizeof *to_text);
    smtpcore_recipient *rcpts = calloc((size_t)argc + 1, sizeof *rcpts);
    size_t n_rcpts = 0;
    int code = CLI_EXIT_BAD_ARGS;
    FILE *in = NULL;
    smtpcore_session *s = NULL;
    smtpcore_result *res = NULL;
    smtpcore_error err = {0};
    if (!rcpts || !to_text || !comp.msg)
        goto out;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            code = 0;
            goto out;
        }
        if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && i + 1 < argc) {
            if (a[2] == 'f') {
                from = argv[++i];
            } else {
                to_text[n_rcpts] = argv[++i];
                rcpts[n_rcpts++].address = argv[i];
            }
            continue;
        }
        int r = cli_compose_option(&comp, argc, argv, &i);
        if (r < 0)
            goto out;
        if (r == 1)
            continue;
        r = cli_connection_option(&c, argc, argv, &i);
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
    if (cli_finish_config(&c) < 0)
        goto out;
    if (comp.used) {
        if (path) {
            fprintf(stderr, "smtpcore send: a message file cannot be combined with composition options\n");
            goto out;
        }
        code = send_composed(&c, &comp, from, to_text, n_rcpts);
        goto out;
    }
    if (!from || !n_rcpts) {
        fprintf(stderr, "smtpcore send: --from and at least one --to are required\n");
        goto out;
    }
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
    cli_report_stats(&c, started);
    smtpcore_result_free(res);
    smtpcore_session_close(s);
    if (in && in != stdin)
        fclose(in);
    smtpcore_error_clear(&err);
    free(rcpts);
    free(to_text);
    cli_compose_free(&comp);
    cli_ctx_free(&c);
    return code;
}
