/* Envelope validation and MAIL/RCPT command formatting.
 *
 * Everything that goes into a command line passes through here first, so
 * CR, LF, NUL, angle brackets or spaces in an address can never add a
 * command or a parameter (smtplib bpo-43124, PHPMailer CVE-2015-8476). */
#ifndef SMTP_ENVELOPE_CHECK_H
#define SMTP_ENVELOPE_CHECK_H

#include <stdint.h>

#include "smtpcore.h"
#include "util/buf.h"

/* Longest address allowed in a path (RFC 5321 4.5.3.1.3: 256 octets with the brackets). */
#define SMTP_MAX_ADDRESS 254

/* 1 if addr is a syntactically safe envelope address (dot-atom or quoted
 * local part, '@', domain or address literal; UTF-8 allowed). */
int smtp_check_address(const char *addr);
/* 1 if name is a usable EHLO argument (domain or address literal). */
int smtp_check_ehlo_name(const char *name);
/* Validate the whole envelope: 0, or -1 with a usage error naming the culprit. */
int smtp_check_envelope(const smtpcore_envelope *env, smtpcore_error *err);

/* "MAIL FROM:<...> [SIZE=] [BODY=8BITMIME] [SMTPUTF8] [RET=] [ENVID=]" (no CRLF). */
int smtp_format_mail(sc_buf *out, const smtpcore_envelope *env, uint64_t size, int body_8bit, int smtputf8, int dsn);
/* "RCPT TO:<...> [NOTIFY=] [ORCPT=]" (no CRLF). */
int smtp_format_rcpt(sc_buf *out, const smtpcore_recipient *r, int dsn);

#endif
