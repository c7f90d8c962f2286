/* smtpcore send's composition options: building a message from flags. */
#ifndef CLI_COMPOSE_H
#define CLI_COMPOSE_H

#include "smtpcore.h"

typedef struct cli_compose {
    smtpcore_message *msg;
    int used;            /* some composition option was given */
    int print;           /* --print: write the message to stdout instead of sending */
    unsigned print_flags;
    const char *dkim_domain, *dkim_selector, *dkim_key, *dkim_canon, *dkim_headers;
    smtpcore_error err;  /* the first error */
    int failed;
} cli_compose;

void cli_compose_init(cli_compose *c);
void cli_compose_free(cli_compose *c);
/* Consume one composition option at argv[*i]: 1 consumed, 0 not ours, -1 error (printed). */
int cli_compose_option(cli_compose *c, int argc, char **argv, int *i);
/* Apply what needs all options (DKIM); -1 on error (printed). */
int cli_compose_finish(cli_compose *c);
void cli_compose_usage(FILE *out);

#endif
