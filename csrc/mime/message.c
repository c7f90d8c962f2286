/* Building a message description: every setter validates its input at once,
 * so errors surface where the caller made them, not at send time. */
#include "mime/message.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mime/encoders.h"
#include "mime/header_encode.h"
#include "util/error.h"
#include "util/utf8.h"

smtpcore_message *smtpcore_message_new(void) { return calloc(1, sizeof(smtpcore_message)); }

static void content_free(mime_content *c)
{
    free(c->path);
    free(c->data);
    memset(c, 0, sizeof *c);
}

void smtpcore_message_free(smtpcore_message *m)
{
    if (!m)
        return;
    mime_mailbox_free(&m->from);
    mime_mailbox_free(&m->sender);
    mime_mailbox_list_free(&m->to);
    mime_mailbox_list_free(&m->cc);
    mime_mailbox_list_free(&m->bcc);
    mime_mailbox_list_free(&m->reply_to);
    mime_mailbox_free(&m->envelope_sender);
    free(m->subject);
    content_free(&m->text);
    content_free(&m->html);
    content_free(&m->calendar);
    free(m->calendar_method);
    for (size_t i = 0; i < m->n_atts; i++) {
        content_free(&m->atts[i].content);
        free(m->atts[i].filename);
        free(m->atts[i].content_type);
        free(m->atts[i].content_id);
    }
    free(m->atts);
    for (size_t i = 0; i < m->n_headers; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    for (size_t i = 0; i < m->n_dkim; i++) {
        mime_dkim_entry *d = &m->dkim[i];
        free(d->domain);
        free(d->selector);
        free(d->headers);
        if (d->key_pem) {
            memset(d->key_pem, 0, d->key_len);
            free(d->key_pem);
        }
    }
    free(m->dkim);
    mime_message_envelope_clear(m);
    free(m);
}

static int oom(smtpcore_error *err) { return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory"); }

static int no_message(smtpcore_error *err) { return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message"); }

static int set_mailbox(smtpcore_message *m, mime_mailbox *slot, int *has, const char *text, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!text)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no address given");
    mime_mailbox mb;
    memset(&mb, 0, sizeof mb);
    if (mime_address_parse_mailbox(text, strlen(text), &mb, err) < 0)
        return -1;
    mime_mailbox_free(slot);
    *slot = mb;
    *has = 1;
    mime_message_envelope_clear(m);
    return 0;
}

int smtpcore_message_set_from(smtpcore_message *m, const char *mailbox, smtpcore_error *err)
{
    return set_mailbox(m, m ? &m->from : NULL, m ? &m->has_from : NULL, mailbox, err);
}

int smtpcore_message_set_sender(smtpcore_message *m, const char *mailbox, smtpcore_error *err)
{
    return set_mailbox(m, m ? &m->sender : NULL, m ? &m->has_sender : NULL, mailbox, err);
}

static int add_list(smtpcore_message *m, mime_mailbox_list *list, const char *text, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!text)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no address given");
    mime_mailbox_list more = {0};
    if (mime_address_parse_list(text, strlen(text), &more, err) < 0)
        return -1;
    mime_mailbox *items = realloc(list->items, (list->n + more.n + 1) * sizeof *items);
    if (!items) {
        mime_mailbox_list_free(&more);
        return oom(err);
    }
    if (more.n) /* an empty group adds none, and more.items is NULL */
        memcpy(items + list->n, more.items, more.n * sizeof *items);
    list->items = items;
    list->n += more.n;
    free(more.items);
    mime_message_envelope_clear(m);
    return 0;
}

int smtpcore_message_add_to(smtpcore_message *m, const char *l, smtpcore_error *e) { return add_list(m, m ? &m->to : NULL, l, e); }
int smtpcore_message_add_cc(smtpcore_message *m, const char *l, smtpcore_error *e) { return add_list(m, m ? &m->cc : NULL, l, e); }
int smtpcore_message_add_bcc(smtpcore_message *m, const char *l, smtpcore_error *e) { return add_list(m, m ? &m->bcc : NULL, l, e); }
int smtpcore_message_add_reply_to(smtpcore_message *m, const char *l, smtpcore_error *e)
{
    return add_list(m, m ? &m->reply_to : NULL, l, e);
}

int smtpcore_message_set_envelope_sender(smtpcore_message *m, const char *address, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!address)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no address given");
    mime_mailbox mb;
    memset(&mb, 0, sizeof mb);
    if (*address) {
        /* Must be a bare addr-spec: parse it as a mailbox without a name. */
        if (mime_address_parse_mailbox(address, strlen(address), &mb, err) < 0)
            return -1;
        if (mb.display_name) {
            mime_mailbox_free(&mb);
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "the envelope sender is a bare address, without a display name");
        }
    }
    mime_mailbox_free(&m->envelope_sender);
    m->envelope_sender = mb;
    m->has_envelope_sender = 1;
    m->null_envelope_sender = !*address;
    mime_message_envelope_clear(m);
    return 0;
}

/* Text must be valid UTF-8 without NUL; header text also without CR/LF. */
static int check_text(const char *what, const char *s, size_t n, int header, smtpcore_error *err)
{
    if (memchr(s, '\0', n))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s contains a NUL byte", what);
    if (header && (memchr(s, '\r', n) || memchr(s, '\n', n)))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s must not contain CR or LF", what);
    if (!sc_utf8_valid(s, n))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s is not valid UTF-8", what);
    return 0;
}

int smtpcore_message_set_subject(smtpcore_message *m, const char *utf8, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!utf8)
        utf8 = "";
    if (check_text("the subject", utf8, strlen(utf8), 1, err) < 0)
        return -1;
    char *copy = strdup(utf8);
    if (!copy)
        return oom(err);
    free(m->subject);
    m->subject = copy;
    return 0;
}

static int set_content_data(mime_content *c, const void *data, size_t len, smtpcore_error *err)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return oom(err);
    if (len)
        memcpy(copy, data, len);
    content_free(c);
    c->data = copy;
    c->len = len;
    return 0;
}

static int set_body_text(smtpcore_message *m, mime_content *c, int *has, const char *what, const char *utf8,
                         size_t len, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!utf8 && len)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no %s given", what);
    if (len && check_text(what, utf8, len, 0, err) < 0)
        return -1;
    /* Text is kept in canonical form (RFC 2046 4.1.1): CRLF line ends and a
     * final one. The 7bit and quoted-printable encoders would produce that
     * anyway; base64, which text with much non-ASCII gets, encodes the bytes
     * as they are, so it must be given the canonical form. */
    sc_buf canon;
    sc_buf_init(&canon);
    mime_text_enc enc;
    mime_text_enc_init(&enc);
    if (mime_text_enc_update(&enc, utf8, len, &canon) < 0 || mime_text_enc_finish(&enc, &canon) < 0) {
        sc_buf_free(&canon);
        return oom(err);
    }
    int rc = set_content_data(c, sc_buf_ptr(&canon), sc_buf_size(&canon), err);
    sc_buf_free(&canon);
    if (rc < 0)
        return -1;
    *has = 1;
    return 0;
}

int smtpcore_message_set_text(smtpcore_message *m, const char *utf8, size_t len, smtpcore_error *err)
{
    return set_body_text(m, m ? &m->text : NULL, m ? &m->has_text : NULL, "the text", utf8, len, err);
}

int smtpcore_message_set_html(smtpcore_message *m, const char *utf8, size_t len, smtpcore_error *err)
{
    return set_body_text(m, m ? &m->html : NULL, m ? &m->has_html : NULL, "the HTML", utf8, len, err);
}

static int token_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

int smtpcore_message_set_calendar(smtpcore_message *m, const char *ics, size_t len, const char *method,
                                  smtpcore_error *err)
{
    if (!method || !*method)
        method = "REQUEST";
    if (!token_ok(method))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid calendar method");
    if (set_body_text(m, m ? &m->calendar : NULL, m ? &m->has_calendar : NULL, "the calendar", ics, len, err) < 0)
        return -1;
    char *copy = strdup(method);
    if (!copy)
        return oom(err);
    for (char *p = copy; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    /* m is not NULL here: set_body_text fails for NULL through sc_err_set (always -1, in another file).
     * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    free(m->calendar_method);
    m->calendar_method = copy;
    return 0;
}

/* "type/subtype" with token characters only. */
static int content_type_ok(const char *t)
{
    const char *slash = strchr(t, '/');
    if (!slash || slash == t || !slash[1] || strchr(slash + 1, '/') || strlen(t) > 127)
        return 0;
    for (const char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"[]?=", c))
            return 0;
    }
    return 1;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Only plain files: no URLs, stream wrappers ("phar://", PHPMailer
 * CVE-2018-19296) or devices. */
static int check_plain_file(const char *path, smtpcore_error *err)
{
    if (!path || !*path)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no file name given");
    if (strstr(path, "://"))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "attachments are read from plain files, not URLs");
    struct stat st;
    if (stat(path, &st) < 0)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "cannot read attachment file '%s'", path);
    if (!S_ISREG(st.st_mode))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "'%s' is not a regular file", path);
    return 0;
}

static int add_attachment(smtpcore_message *m, const char *path, const void *data, size_t len, const char *filename,
                          const char *content_type, const char *content_id, int is_inline, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (path && check_plain_file(path, err) < 0)
        return -1;
    if (!path && !data && len)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no attachment data");
    if (!filename && path)
        filename = base_name(path);
    if (filename && (!*filename || check_text("the attachment file name", filename, strlen(filename), 1, err) < 0))
        return filename && !*filename ? sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "empty file name") : -1;
    if (!content_type)
        content_type = filename ? mime_type_for_filename(filename) : "application/octet-stream";
    if (!content_type_ok(content_type))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid content type (expected type/subtype)");
    if (is_inline) {
        /* Content-ID is an id-left "@" id-right or a plain dot-atom: keep it to atext. */
        if (!content_id || !*content_id || strlen(content_id) > 200)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "an inline part needs a content id");
        for (const char *p = content_id; *p; p++)
            if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 || strchr("<>()[]\\,;:\"", *p))
                return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid content id");
    }
    mime_attachment *atts = realloc(m->atts, (m->n_atts + 1) * sizeof *atts);
    if (!atts)
        return oom(err);
    m->atts = atts;
    mime_attachment *a = &m->atts[m->n_atts];
    memset(a, 0, sizeof *a);
    a->is_inline = is_inline;
    int bad = 0;
    if (path)
        bad |= !(a->content.path = strdup(path));
    else
        bad |= set_content_data(&a->content, data, len, err) < 0;
    if (filename)
        bad |= !(a->filename = strdup(filename));
    bad |= !(a->content_type = strdup(content_type));
    if (content_id)
        bad |= !(a->content_id = strdup(content_id));
    if (bad) {
        content_free(&a->content);
        free(a->filename);
        free(a->content_type);
        free(a->content_id);
        return oom(err);
    }
    m->n_atts++;
    return 0;
}

int smtpcore_message_attach_file(smtpcore_message *m, const char *path, const char *filename,
                                 const char *content_type, smtpcore_error *err)
{
    if (!path)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no file name given");
    return add_attachment(m, path, NULL, 0, filename, content_type, NULL, 0, err);
}

int smtpcore_message_attach_data(smtpcore_message *m, const void *data, size_t len, const char *filename,
                                 const char *content_type, smtpcore_error *err)
{
    return add_attachment(m, NULL, data ? data : "", len, filename, content_type, NULL, 0, err);
}

int smtpcore_message_embed_file(smtpcore_message *m, const char *path, const char *content_id,
                                const char *content_type, smtpcore_error *err)
{
    if (!path)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no file name given");
    return add_attachment(m, path, NULL, 0, NULL, content_type, content_id, 1, err);
}

int smtpcore_message_embed_data(smtpcore_message *m, const void *data, size_t len, const char *content_id,
                                const char *filename, const char *content_type, smtpcore_error *err)
{
    return add_attachment(m, NULL, data ? data : "", len, filename, content_type, content_id, 1, err);
}

/* Header fields the message builds itself. */
static const char *const managed_headers[] = {
    "From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding", "Content-Disposition", "Content-ID", "DKIM-Signature", "Return-Path",
};

/* Structured fields that go as given (after validation). */
static const char *const structured_headers[] = {
    "Message-ID", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post", "Date",
    "List-Id", "Auto-Submitted", "Precedence",
};

static int replaces_earlier(const char *name) { return !strcasecmp(name, "Message-ID") || !strcasecmp(name, "Date"); }

int smtpcore_message_add_header(smtpcore_message *m, const char *name, const char *value, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!name || !mime_header_name_ok(name))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid header name");
    for (size_t i = 0; i < sizeof managed_headers / sizeof managed_headers[0]; i++)
        if (!strcasecmp(name, managed_headers[i]))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "%s is set through its own function, not as a custom header", managed_headers[i]);
    if (!value)
        value = "";
    if (check_text("the header value", value, strlen(value), 1, err) < 0)
        return -1;
    int structured = 0;
    for (size_t i = 0; i < sizeof structured_headers / sizeof structured_headers[0]; i++)
        if (!strcasecmp(name, structured_headers[i]))
            structured = 1;
    if (structured) {
        for (const char *p = value; *p; p++)
            if ((unsigned char)*p >= 127 || ((unsigned char)*p < 32 && *p != '\t'))
                return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s must be printable ASCII", name);
        if (!strcasecmp(name, "Message-ID") || !strcasecmp(name, "In-Reply-To")) {
            size_t n = strlen(value);
            if (n < 3 || value[0] != '<' || value[n - 1] != '>' || !strchr(value, '@'))
                return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s must look like <id@domain>", name);
        }
        /* Structured values are only folded, never encoded: one that cannot
         * be folded within 998 octets is refused here, not by every send. */
        sc_buf trial;
        sc_buf_init(&trial);
        int rc = mime_header_raw(&trial, name, value, err);
        sc_buf_free(&trial);
        if (rc < 0)
            return -1;
    }
    if (replaces_earlier(name)) {
        for (size_t i = 0; i < m->n_headers; i++)
            if (!strcasecmp(m->headers[i].name, name)) {
                char *v = strdup(value);
                if (!v)
                    return oom(err);
                free(m->headers[i].value);
                m->headers[i].value = v;
                return 0;
            }
    }
    mime_extra_header *h = realloc(m->headers, (m->n_headers + 1) * sizeof *h);
    if (!h)
        return oom(err);
    m->headers = h;
    h = &m->headers[m->n_headers];
    h->name = strdup(name);
    h->value = strdup(value);
    h->structured = structured;
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return oom(err);
    }
    m->n_headers++;
    return 0;
}

void smtpcore_message_set_seed(smtpcore_message *m, uint64_t seed)
{
    if (!m)
        return;
    m->seed = seed;
    m->has_seed = 1;
}

int smtpcore_message_set_date(smtpcore_message *m, long long unix_time, int utc_offset_minutes, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (utc_offset_minutes <= -24 * 60 || utc_offset_minutes >= 24 * 60 || unix_time < 0 ||
        unix_time > 253402300799LL)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "date out of range");
    m->date = unix_time;
    m->date_offset = utc_offset_minutes;
    m->has_date = 1;
    return 0;
}

static int parse_canon(const char *s, dkim_canon *h, dkim_canon *b)
{
    if (!s || !*s || !strcasecmp(s, "relaxed/relaxed") || !strcasecmp(s, "relaxed")) {
        *h = *b = DKIM_CANON_RELAXED;
    } else if (!strcasecmp(s, "simple/simple") || !strcasecmp(s, "simple")) {
        *h = *b = DKIM_CANON_SIMPLE;
    } else if (!strcasecmp(s, "relaxed/simple")) {
        *h = DKIM_CANON_RELAXED;
        *b = DKIM_CANON_SIMPLE;
    } else if (!strcasecmp(s, "simple/relaxed")) {
        *h = DKIM_CANON_SIMPLE;
        *b = DKIM_CANON_RELAXED;
    } else {
        return -1;
    }
    return 0;
}

/* Shared with the renderer, so that add_dkim checks exactly the names the
 * signature will use. */
const char **mime_dkim_header_names(const char *list, size_t *n, char **copy)
{
    *n = 0;
    *copy = NULL;
    if (!list)
        return NULL;
    *copy = strdup(list);
    size_t cap = 2;
    for (const char *c = list; *c; c++)
        cap += *c == ':';
    const char **names = calloc(cap, sizeof *names);
    if (!*copy || !names) {
        free(*copy);
        free(names);
        *copy = NULL;
        return NULL;
    }
    int has_from = 0;
    char *save = NULL;
    for (char *t = strtok_r(*copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        while (*t == ' ')
            t++;
        if (*t) {
            has_from |= !strcasecmp(t, "From");
            names[(*n)++] = t;
        }
    }
    if (!has_from)
        names[(*n)++] = "From";
    return names;
}

int smtpcore_message_add_dkim(smtpcore_message *m, const smtpcore_dkim *d, smtpcore_error *err)
{
    if (!m)
        return no_message(err);
    if (!d || !d->domain || !d->selector || !d->private_key_pem)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM needs a domain, a selector and a private key");
    mime_dkim_entry e;
    memset(&e, 0, sizeof e);
    if (parse_canon(d->canonicalization, &e.header_canon, &e.body_canon) < 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "invalid DKIM canonicalization (relaxed/relaxed, simple/simple, relaxed/simple, simple/relaxed)");
    e.key_len = d->private_key_len ? d->private_key_len : strlen(d->private_key_pem);
    e.timestamp = d->timestamp;
    e.domain = strdup(d->domain);
    e.selector = strdup(d->selector);
    e.headers = d->headers ? strdup(d->headers) : NULL;
    e.key_pem = malloc(e.key_len + 1);
    if (e.key_pem) {
        memcpy(e.key_pem, d->private_key_pem, e.key_len);
        e.key_pem[e.key_len] = '\0';
    }
    mime_dkim_entry *arr = realloc(m->dkim, (m->n_dkim + 1) * sizeof *arr);
    if (!e.domain || !e.selector || !e.key_pem || (d->headers && !e.headers) || !arr) {
        free(e.domain);
        free(e.selector);
        free(e.headers);
        free(e.key_pem);
        if (arr)
            m->dkim = arr;
        return oom(err);
    }
    m->dkim = arr;
    /* Load the key, and check the names and timestamp, now: a bad one is
     * reported here, not by every send. */
    size_t nh = 0;
    char *names_copy = NULL;
    const char **names = mime_dkim_header_names(e.headers, &nh, &names_copy);
    if (e.headers && !names) {
        free(e.domain);
        free(e.selector);
        free(e.headers);
        memset(e.key_pem, 0, e.key_len);
        free(e.key_pem);
        return oom(err);
    }
    dkim_options o = {.domain = e.domain, .selector = e.selector, .key_pem = e.key_pem, .key_len = e.key_len,
                      .header_canon = e.header_canon, .body_canon = e.body_canon, .headers = names,
                      .n_headers = nh, .timestamp = e.timestamp > 0 ? (uint64_t)e.timestamp : 0};
    dkim_signer *probe = dkim_signer_new(&o, err);
    free(names);
    free(names_copy);
    if (!probe) {
        free(e.domain);
        free(e.selector);
        free(e.headers);
        memset(e.key_pem, 0, e.key_len);
        free(e.key_pem);
        return -1;
    }
    dkim_signer_free(probe);
    m->dkim[m->n_dkim++] = e;
    return 0;
}
