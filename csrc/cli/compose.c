#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/compose.h"

void cli_compose_init(cli_compose *c)
{
    memset(c, 0, sizeof *c);
    c->msg = smtpcore_message_new();
}

void cli_compose_free(cli_compose *c)
{
    smtpcore_message_free(c->msg);
    smtpcore_error_clear(&c->err);
}

void cli_compose_usage(FILE *out)
{
    fputs("Composition options (build the message instead of reading one):\n"
          "  --from 'Name <addr>'     From (also the envelope sender)\n"
          "  --to, --cc, --bcc LIST   recipients (repeatable; Bcc never appears in the headers)\n"
          "  --reply-to LIST\n"
          "  --subject TEXT\n"
          "  --text TEXT | --text-file FILE      plain-text body (UTF-8)\n"
          "  --html HTML | --html-file FILE      HTML body (UTF-8)\n"
          "  --attach FILE            attachment (repeatable), sent as base64; may be followed by\n"
          "                           --attach-as NAME and --attach-type TYPE (default: from the extension)\n"
          "  --inline CID=FILE        inline image for the HTML, referenced as cid:CID (--attach-type too)\n"
          "  --calendar FILE          text/calendar invitation (method REQUEST)\n"
          "  --header 'Name: value'   any other header (repeatable)\n"
          "  --dkim-domain D --dkim-selector S --dkim-key KEY.pem [--dkim-canon relaxed/relaxed]\n"
          "  --dkim-headers 'From:To:Subject'\n"
          "  --print                  write the message to standard output instead of sending it\n"
          "  --print-8bit, --print-smtputf8     what --print may assume of the transport\n"
          "  --seed N                 reproducible boundaries, Message-ID and Date\n"
          "  --date UNIXTIME          the Date header\n",
          out);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int fail(cli_compose *c, const char *what)
{
    fprintf(stderr, "smtpcore send: %s: %s\n", what, c->err.message ? c->err.message : "invalid");
    c->failed = 1;
    return -1;
}

static int check(cli_compose *c, int rc, const char *what) { return rc < 0 ? fail(c, what) : 1; }

int cli_compose_option(cli_compose *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    static const char *const no_value[] = {"--print", "--print-8bit", "--print-smtputf8"};
    for (size_t k = 0; k < sizeof no_value / sizeof no_value[0]; k++)
        if (!strcmp(a, no_value[k])) {
            c->used = 1;
            if (k == 0)
                c->print = 1;
            else
                c->print_flags |= k == 1 ? SMTPCORE_RENDER_8BIT : SMTPCORE_RENDER_SMTPUTF8;
            return 1;
        }
    static const char *const with_value[] = {
        "--subject", "--text", "--text-file", "--html", "--html-file", "--attach", "--attach-as", "--attach-type", "--inline",
        "--calendar", "--header", "--cc", "--bcc", "--reply-to", "--dkim-domain", "--dkim-selector", "--dkim-key",
        "--dkim-canon", "--dkim-headers", "--seed", "--date"};
    int known = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
        known |= !strcmp(a, with_value[k]);
    if (!known)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "smtpcore send: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    c->used = 1;
    smtpcore_message *m = c->msg;
    smtpcore_error *e = &c->err;
    if (!strcmp(a, "--subject"))
        return check(c, smtpcore_message_set_subject(m, v, e), "--subject");
    if (!strcmp(a, "--text"))
        return check(c, smtpcore_message_set_text(m, v, strlen(v), e), "--text");
    if (!strcmp(a, "--html"))
        return check(c, smtpcore_message_set_html(m, v, strlen(v), e), "--html");
    if (!strcmp(a, "--text-file") || !strcmp(a, "--html-file") || !strcmp(a, "--calendar")) {
        size_t len;
        char *data = read_file(v, &len);
        if (!data) {
            fprintf(stderr, "smtpcore send: cannot read %s: %s\n", v, strerror(errno));
            return -1;
        }
        int rc = a[2] == 't' ? smtpcore_message_set_text(m, data, len, e)
               : a[2] == 'h' ? smtpcore_message_set_html(m, data, len, e)
                             : smtpcore_message_set_calendar(m, data, len, "REQUEST", e);
        free(data);
        return check(c, rc, a);
    }
    if (!strcmp(a, "--attach") || !strcmp(a, "--inline")) {
        /* Optional modifiers right after: --attach-as NAME, --attach-type TYPE. */
        const char *as = NULL, *type = NULL;
        while (*i + 2 < argc && (!strcmp(argv[*i + 1], "--attach-as") || !strcmp(argv[*i + 1], "--attach-type"))) {
            if (argv[*i + 1][9] == 'a')
                as = argv[*i + 2];
            else
                type = argv[*i + 2];
            *i += 2;
        }
        if (a[2] == 'a')
            return check(c, smtpcore_message_attach_file(m, v, as, type, e), "--attach");
        const char *eq = strchr(v, '=');
        if (!eq || eq == v || !eq[1] || as) {
            fprintf(stderr, "smtpcore send: --inline takes CID=FILE (the file's name is the part's name)\n");
            return -1;
        }
        char cid[256];
        snprintf(cid, sizeof cid, "%.*s", (int)(eq - v), v);
        return check(c, smtpcore_message_embed_file(m, eq + 1, cid, type, e), "--inline");
    }
    if (!strcmp(a, "--attach-as") || !strcmp(a, "--attach-type")) {
        fprintf(stderr, "smtpcore send: %s must directly follow --attach or --inline\n", a);
        return -1;
    }
    if (!strcmp(a, "--header")) {
        const char *colon = strchr(v, ':');
        if (!colon) {
            fprintf(stderr, "smtpcore send: --header takes 'Name: value'\n");
            return -1;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(colon - v), v);
        const char *val = colon + 1;
        while (*val == ' ')
            val++;
        return check(c, smtpcore_message_add_header(m, name, val, e), "--header");
    }
    if (!strcmp(a, "--cc"))
        return check(c, smtpcore_message_add_cc(m, v, e), "--cc");
    if (!strcmp(a, "--bcc"))
        return check(c, smtpcore_message_add_bcc(m, v, e), "--bcc");
    if (!strcmp(a, "--reply-to"))
        return check(c, smtpcore_message_add_reply_to(m, v, e), "--reply-to");
    if (!strcmp(a, "--seed")) {
        char *end;
        unsigned long long seed = strtoull(v, &end, 10);
        if (!*v || *end) {
            fprintf(stderr, "smtpcore send: --seed takes a number\n");
            return -1;
        }
        smtpcore_message_set_seed(m, seed);
        return 1;
    }
    if (!strcmp(a, "--date")) {
        char *end;
        long long t = strtoll(v, &end, 10);
        if (!*v || *end) {
            fprintf(stderr, "smtpcore send: --date takes a Unix time\n");
            return -1;
        }
        return check(c, smtpcore_message_set_date(m, t, 0, e), "--date");
    }
    const char **slot = !strcmp(a, "--dkim-domain") ? &c->dkim_domain
                      : !strcmp(a, "--dkim-selector") ? &c->dkim_selector
                      : !strcmp(a, "--dkim-key") ? &c->dkim_key
                      : !strcmp(a, "--dkim-canon") ? &c->dkim_canon
                                                   : &c->dkim_headers;
    *slot = v;
    return 1;
}

int cli_compose_finish(cli_compose *c)
{
    if (!c->dkim_domain && !c->dkim_selector && !c->dkim_key)
        return 0;
    if (!c->dkim_domain || !c->dkim_selector || !c->dkim_key) {
        fprintf(stderr, "smtpcore send: DKIM needs --dkim-domain, --dkim-selector and --dkim-key\n");
        return -1;
    }
    size_t len;
    char *key = read_file(c->dkim_key, &len);
    if (!key) {
        fprintf(stderr, "smtpcore send: cannot read %s: %s\n", c->dkim_key, strerror(errno));
        return -1;
    }
    smtpcore_dkim d = {.domain = c->dkim_domain, .selector = c->dkim_selector, .private_key_pem = key,
                       .private_key_len = len, .canonicalization = c->dkim_canon, .headers = c->dkim_headers};
    int rc = smtpcore_message_add_dkim(c->msg, &d, &c->err);
    memset(key, 0, len);
    free(key);
    return rc < 0 ? fail(c, "DKIM") : 0;
}
