/* The per-recipient result of one transaction (public type smtpcore_result). */
#ifndef SMTP_RESULT_H
#define SMTP_RESULT_H

#include "smtpcore.h"

struct smtpcore_result {
    smtpcore_rcpt_status *rcpts;   /* strings owned here */
    size_t n;
    int code;                      /* final reply */
    char enhanced[16];
    char *text;
};

smtpcore_result *smtp_result_new(size_t n_recipients);
/* Set recipient i; copies the strings. Returns 0 or -1 (out of memory). */
int smtp_result_set_rcpt(smtpcore_result *r, size_t i, const char *address);
int smtp_result_set_reply(smtpcore_rcpt_status *st, int code, const char *enhanced, const char *text);
int smtp_result_set_final(smtpcore_result *r, int code, const char *enhanced, const char *text);

#endif
