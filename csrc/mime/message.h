/* The message description behind smtpcore_message, shared by the setters
 * (message.c), the renderer (render.c) and the envelope (envelope.c). */
#ifndef MIME_MESSAGE_H
#define MIME_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "dkim/dkim.h"
#include "mime/address.h"
#include "smtpcore.h"

/* Content held in memory or read from a file at render time. */
typedef struct mime_content {
    char *path;      /* a plain file, or NULL */
    char *data;      /* in-memory bytes when path is NULL */
    size_t len;
} mime_content;

typedef struct mime_attachment {
    mime_content content;
    char *filename;      /* UTF-8, may be NULL for inline parts */
    char *content_type;  /* "type/subtype" */
    char *content_id;    /* inline parts only */
    int is_inline;
} mime_attachment;

typedef struct mime_extra_header {
    char *name;
    char *value;
    int structured;      /* goes as is (validated ASCII) */
} mime_extra_header;

typedef struct mime_dkim_entry {
    char *domain, *selector, *key_pem, *headers;
    size_t key_len;
    dkim_canon header_canon, body_canon;
    long long timestamp;
} mime_dkim_entry;

struct smtpcore_message {
    mime_mailbox from, sender;
    int has_from, has_sender;
    mime_mailbox_list to, cc, bcc, reply_to;
    /* Parsed like every address, so MAIL FROM gets the addr-spec, never
     * the caller's text (angle brackets, comments, whitespace, U-labels). */
    mime_mailbox envelope_sender;
    int has_envelope_sender;
    int null_envelope_sender;    /* set to "": MAIL FROM:<> */
    char *subject;
    mime_content text, html, calendar;
    int has_text, has_html, has_calendar;
    char *calendar_method;
    mime_attachment *atts;
    size_t n_atts;
    mime_extra_header *headers;
    size_t n_headers;
    uint64_t seed;
    int has_seed;
    long long date;
    int date_offset;
    int has_date;
    mime_dkim_entry *dkim;
    size_t n_dkim;
    /* Envelope cache for smtpcore_message_envelope. */
    char *env_sender;
    char **env_rcpts;
    size_t n_env_rcpts;
};

/* Deterministic or random 64-bit values for boundaries and Message-IDs. */
typedef struct mime_rng {
    uint64_t state;
    int seeded;
} mime_rng;
void mime_rng_init(mime_rng *r, const smtpcore_message *m);
uint64_t mime_rng_next(mime_rng *r);

/* The names of a colon-separated DKIM header list ("From:To:Subject"),
 * pointers into *copy; From is added when the list leaves it out, since a
 * DKIM signature must cover it. Free the array and *copy. NULL with *copy
 * NULL for no list (or out of memory). */
const char **mime_dkim_header_names(const char *list, size_t *n, char **copy);

/* Forget the envelope smtpcore_message_envelope built (the addresses changed). */
void mime_message_envelope_clear(smtpcore_message *m);

/* 1 if any address has a non-ASCII local part (the message needs SMTPUTF8). */
int mime_message_needs_smtputf8(const smtpcore_message *m);

/* 1 if the rendered message has 8-bit bytes (8bit parts or raw UTF-8 headers). */
int mime_reader_eight_bit(const smtpcore_message_reader *r);

#endif
