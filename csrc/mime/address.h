/* RFC 5322 address parsing, strict, with international domains.
 *
 * What we accept is exactly what we send: the envelope address is derived
 * from the parsed mailbox, never from the raw header text (Python
 * CVE-2023-27043, nodemailer CVE-2025-13033 were parser differentials). */
#ifndef MIME_ADDRESS_H
#define MIME_ADDRESS_H

#include <stddef.h>

#include "smtpcore.h"
#include "util/buf.h"

typedef struct mime_mailbox {
    char *display_name;  /* UTF-8 with quoting/escapes and RFC 2047 words decoded; NULL if none */
    char *local;         /* local part as it goes on the wire: dot-atom, or quoted-string with its quotes */
    char *domain;        /* domain in U-labels (UTS 46, NFC), lowercased; or an address literal "[...]" */
    char *domain_ascii;  /* the domain in A-labels (UTS 46 / IDNA2008 via libidn2); same as domain if ASCII */
    int local_utf8;      /* 1 if the local part has non-ASCII characters (needs SMTPUTF8) */
} mime_mailbox;

typedef struct mime_mailbox_list {
    mime_mailbox *items;
    size_t n;
} mime_mailbox_list;

/* Parse one mailbox: "addr@example.com", "Name <addr@example.com>",
 * "\"Last, First\" <addr@example.com>", "=?UTF-8?B?...?= <a@b>", comments in
 * CFWS ("a@b (Work)") are dropped. Obsolete syntax (routes, obs-local-part
 * with CFWS between dots) is refused. Leading/trailing whitespace allowed.
 * On failure: -1 with a usage error that says what is wrong and where. */
int mime_address_parse_mailbox(const char *in, size_t len, mime_mailbox *out, smtpcore_error *err);

/* Parse a comma-separated address list. Groups ("Friends: a@b, c@d;") are
 * flattened into their members; an empty group ("undisclosed-recipients:;")
 * adds none. Empty list elements (",,") are refused. */
int mime_address_parse_list(const char *in, size_t len, mime_mailbox_list *out, smtpcore_error *err);

void mime_mailbox_free(mime_mailbox *m);
void mime_mailbox_list_free(mime_mailbox_list *l);
int mime_mailbox_copy(mime_mailbox *dst, const mime_mailbox *src);

/* The addr-spec for the envelope or a header: local@domain_ascii, or with
 * smtputf8 local@domain (U-labels). Appends to out; -1 on OOM or when the
 * address needs SMTPUTF8 (non-ASCII local part) and smtputf8 is 0 (usage error). */
int mime_mailbox_addr_spec(const mime_mailbox *m, int smtputf8, sc_buf *out, smtpcore_error *err);

#endif
