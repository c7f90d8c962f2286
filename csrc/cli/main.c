/* smtpcore: check an SMTP server, or send a message through it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smtpcore <command> [options]\n\n"
            "Commands:\n"
            "  check     connect, show capabilities before and after STARTTLS, try AUTH\n"
            "  send      send a message from a file or standard input\n"
            "  version   print the version\n\n"
            "Exit codes: 0 ok; 2 bad command line; 3 sent but some recipients refused;\n"
            "  11 connect, 12 dns, 13 tls, 14 auth, 15 sender, 16 recipient, 17 size,\n"
            "  18 relay, 19 timeout, 20 protocol, 21 local, 22 usage.\n"
            "Run 'smtpcore <command> --help' for its options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_BAD_ARGS;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "check"))
        return cli_cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "send"))
        return cli_cmd_send(argc - 2, argv + 2);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("smtpcore %s\n", smtpcore_version());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "smtpcore: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_EXIT_BAD_ARGS;
}
