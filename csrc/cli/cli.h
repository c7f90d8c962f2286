/* The smtpcore command-line tool: shared option handling and reporting. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "smtpcore.h"

/* Exit codes (documented in the README and in --help). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_BAD_ARGS = 2,       /* the command line itself is wrong */
    CLI_EXIT_PARTIAL = 3,        /* sent, but some recipients were refused */
    CLI_EXIT_CATEGORY_BASE = 10  /* failure: 10 + smtpcore_category (11 connect ... 22 usage) */
};

typedef struct cli_ctx {
    smtpcore_config *cfg;
    int verbose;
    int stats;                   /* --stats: report time and peak memory at exit */
    int have_password;                 /* print the transcript as it happens */
    char **transcript;           /* collected lines, shown on failure */
    size_t n_transcript, cap_transcript;
    const char *prog;
} cli_ctx;

/* Try to consume one connection option at argv[*i] (and its value).
 * Returns 1 if consumed, 0 if not a connection option, -1 on error (printed). */
int cli_connection_option(cli_ctx *c, int argc, char **argv, int *i);
/* Finish the configuration: password from the environment or a file. */
int cli_finish_config(cli_ctx *c);
void cli_ctx_init(cli_ctx *c, const char *prog);
void cli_ctx_free(cli_ctx *c);
/* Print an error with its category, codes, hint and the redacted transcript; returns the exit code. */
int cli_report_error(cli_ctx *c, const char *what, const smtpcore_error *err);
void cli_print_transcript(cli_ctx *c, FILE *out);
void cli_connection_usage(FILE *out);
/* With --stats, one line on stderr: elapsed time and the process's peak memory. */
void cli_report_stats(const cli_ctx *c, long long started_ms);
long long cli_now_ms(void);

int cli_cmd_check(int argc, char **argv);
int cli_cmd_send(int argc, char **argv);

#endif
