/* Rendering a message description into RFC 5322/MIME bytes, as a stream.
 *
 * First a plan: the header block, then a flat list of segments, each either
 * bytes we already know (part headers, boundaries) or a content to encode
 * (text in memory, a file read chunk by chunk). The plan knows the exact
 * size before a byte is read. The reader walks the plan, so memory stays at
 * one read chunk and its encoding whatever the attachment sizes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "dkim/dkim.h"
#include "mime/encoders.h"
#include "mime/header_encode.h"
#include "mime/message.h"
#include "util/error.h"

#define READ_CHUNK 65536
#define BOUNDARY_PREFIX "=_sc"

typedef enum seg_kind { SEG_STATIC, SEG_CONTENT } seg_kind;

typedef struct seg {
    seg_kind kind;
    size_t off, len;               /* SEG_STATIC: bytes in plan.text */
    const mime_content *content;   /* SEG_CONTENT */
    mime_cte cte;
    uint64_t raw_size;             /* bytes the content must have */
    uint64_t encoded_size;
} seg;

typedef struct plan {
    sc_buf header;     /* the message's header block, CRLF lines, no blank line */
    sc_buf text;       /* static bytes of the body */
    seg *segs;
    size_t n, cap;
    uint64_t body_size;
    int eight_bit;     /* some part goes as 8bit, or headers carry raw UTF-8 */
} plan;

/* A MIME entity: a leaf with content, or a multipart with children. */
typedef struct leaf {
    const mime_content *content;
    const char *type;
    int is_text;
    const char *disposition;  /* NULL, "attachment" or "inline" */
    const char *filename;
    const char *content_id;
    const char *method;       /* text/calendar */
} leaf;

typedef struct node {
    const char *multipart;    /* "mixed", "related", "alternative", or NULL for a leaf */
    leaf leaf;
    struct node *kids;
    size_t n;
} node;

static void plan_free(plan *p)
{
    sc_buf_free(&p->header);
    sc_buf_free(&p->text);
    free(p->segs);
    memset(p, 0, sizeof *p);
}

static seg *plan_push(plan *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        seg *s = realloc(p->segs, cap * sizeof *s);
        if (!s)
            return NULL;
        p->segs = s;
        p->cap = cap;
    }
    seg *s = &p->segs[p->n++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Known bytes: extend the last static segment when they are contiguous. */
static int plan_static(plan *p, const char *bytes, size_t n)
{
    size_t off = sc_buf_size(&p->text);
    if (sc_buf_append(&p->text, bytes, n) < 0)
        return -1;
    p->body_size += n;
    if (p->n && p->segs[p->n - 1].kind == SEG_STATIC && p->segs[p->n - 1].off + p->segs[p->n - 1].len == off) {
        p->segs[p->n - 1].len += n;
        return 0;
    }
    seg *s = plan_push(p);
    if (!s)
        return -1;
    s->kind = SEG_STATIC;
    s->off = off;
    s->len = n;
    return 0;
}

static int plan_static_str(plan *p, const char *s) { return plan_static(p, s, strlen(s)); }

static int oom(smtpcore_error *err) { return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory"); }

/* Which encoding a leaf gets, and its exact encoded size. */
static int leaf_encoding(const leaf *l, unsigned flags, mime_cte *cte, uint64_t *raw, uint64_t *encoded,
                         smtpcore_error *err)
{
    const mime_content *c = l->content;
    if (c->path) {
        struct stat st;
        if (stat(c->path, &st) < 0 || !S_ISREG(st.st_mode))
            return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "cannot read attachment file '%s': %s",
                              c->path, strerror(errno));
        /* Files are attachments: base64 always, so the size follows from stat
         * and the file is read only once, while sending. */
        *cte = MIME_CTE_BASE64;
        *raw = (uint64_t)st.st_size;
        *encoded = mime_b64_encoded_size(*raw);
        return 0;
    }
    if (!l->is_text) {
        /* Non-text content goes as base64 as soon as one byte rules out 7bit
         * (mime_choose_cte): binary data shows one within a few bytes, so
         * the full scan below is only for content that may stay 7bit. */
        for (size_t i = 0; i < c->len; i++) {
            unsigned char b = (unsigned char)c->data[i];
            if (b >= 0x7F || (b < 0x20 && b != '\t' && b != '\r' && b != '\n')) {
                *cte = MIME_CTE_BASE64;
                *raw = c->len;
                *encoded = mime_b64_encoded_size(c->len);
                return 0;
            }
        }
    }
    mime_scan s;
    mime_scan_init(&s);
    mime_scan_update(&s, c->data, c->len);
    mime_scan_finish(&s);
    *cte = mime_choose_cte(&s, l->is_text, (flags & SMTPCORE_RENDER_8BIT) != 0);
    /* A text part that could contain our boundary prefix goes as
     * quoted-printable, which can never contain "=_". */
    if ((*cte == MIME_CTE_7BIT || *cte == MIME_CTE_8BIT) && c->len >= 4) {
        for (size_t i = 0; i + 4 <= c->len; i++)
            if (c->data[i] == '=' && c->data[i + 1] == '_') {
                *cte = MIME_CTE_QUOTED_PRINTABLE;
                break;
            }
    }
    *raw = c->len;
    switch (*cte) {
    case MIME_CTE_BASE64: *encoded = mime_b64_encoded_size(c->len); break;
    case MIME_CTE_QUOTED_PRINTABLE: *encoded = mime_qp_encoded_size(c->data, c->len); break;
    default: *encoded = mime_text_encoded_size(c->data, c->len); break;
    }
    return 0;
}

static int emit_entity(plan *p, mime_rng *rng, const node *n, sc_buf *hdr, unsigned flags, smtpcore_error *err);

static int emit_leaf(plan *p, const leaf *l, sc_buf *hdr, unsigned flags, smtpcore_error *err)
{
    int utf8_ok = (flags & SMTPCORE_RENDER_SMTPUTF8) != 0;
    mime_cte cte = MIME_CTE_BASE64;
    uint64_t raw = 0, encoded = 0;
    if (leaf_encoding(l, flags, &cte, &raw, &encoded, err) < 0)
        return -1;
    mime_param params[3];
    size_t np = 0;
    if (l->is_text)
        params[np++] = (mime_param){"charset", "utf-8"};
    if (l->method)
        params[np++] = (mime_param){"method", l->method};
    if (l->filename && l->disposition)
        params[np++] = (mime_param){"name", l->filename};
    if (mime_header_with_params(hdr, "Content-Type", l->type, params, np, utf8_ok, err) < 0)
        return -1;
    if (mime_header_raw(hdr, "Content-Transfer-Encoding", mime_cte_name(cte), err) < 0)
        return -1;
    if (l->disposition) {
        mime_param fp = {"filename", l->filename};
        if (mime_header_with_params(hdr, "Content-Disposition", l->disposition, &fp, l->filename ? 1 : 0, utf8_ok,
                                    err) < 0)
            return -1;
    }
    if (l->content_id) {
        char cid[256];
        snprintf(cid, sizeof cid, "<%s>", l->content_id);
        if (mime_header_raw(hdr, "Content-ID", cid, err) < 0)
            return -1;
    }
    if (cte == MIME_CTE_8BIT)
        p->eight_bit = 1;
    seg *s = NULL;
    if (hdr != &p->header && plan_static(p, sc_buf_ptr(hdr), sc_buf_size(hdr)) < 0)
        return oom(err);
    if (plan_static_str(p, "\r\n") < 0 || !(s = plan_push(p)))
        return oom(err);
    s->kind = SEG_CONTENT;
    s->content = l->content;
    s->cte = cte;
    s->raw_size = raw;
    s->encoded_size = encoded;
    p->body_size += encoded;
    /* Text parts end with a line break whatever their encoding (the 7bit and
     * 8bit encoder adds one), so every front end reads back the same text. */
    const mime_content *c = l->content;
    if (cte == MIME_CTE_QUOTED_PRINTABLE && c->len && c->data[c->len - 1] != '\n' && c->data[c->len - 1] != '\r' &&
        plan_static_str(p, "\r\n") < 0)
        return oom(err);
    return 0;
}

/* the depth is the plan's, at most mixed > related > alternative. NOLINTNEXTLINE(misc-no-recursion) */
static int emit_multipart(plan *p, mime_rng *rng, const node *n, sc_buf *hdr, unsigned flags, smtpcore_error *err)
{
    char boundary[64], type[32];
    snprintf(boundary, sizeof boundary, BOUNDARY_PREFIX "%016llx%016llx", (unsigned long long)mime_rng_next(rng),
             (unsigned long long)mime_rng_next(rng));
    snprintf(type, sizeof type, "multipart/%s", n->multipart);
    mime_param bp = {"boundary", boundary};
    if (mime_header_with_params(hdr, "Content-Type", type, &bp, 1, 0, err) < 0)
        return -1;
    if (hdr != &p->header && plan_static(p, sc_buf_ptr(hdr), sc_buf_size(hdr)) < 0)
        return oom(err);
    char delim[80];
    /* Before the first delimiter the CRLF is the blank line that ends the
     * headers; before the others it is the delimiter's own leading CRLF
     * (each part's content ends with a line break of its own). */
    snprintf(delim, sizeof delim, "\r\n--%s\r\n", boundary);
    for (size_t i = 0; i < n->n; i++) {
        if (plan_static_str(p, delim) < 0)
            return oom(err);
        sc_buf kid_hdr;
        sc_buf_init(&kid_hdr);
        int rc = emit_entity(p, rng, &n->kids[i], &kid_hdr, flags, err);
        sc_buf_free(&kid_hdr);
        if (rc < 0)
            return -1;
    }
    snprintf(delim, sizeof delim, "\r\n--%s--\r\n", boundary);
    return plan_static_str(p, delim) < 0 ? oom(err) : 0;
}

/* the depth is the plan's, at most mixed > related > alternative. NOLINTNEXTLINE(misc-no-recursion) */
static int emit_entity(plan *p, mime_rng *rng, const node *n, sc_buf *hdr, unsigned flags, smtpcore_error *err)
{
    return n->multipart ? emit_multipart(p, rng, n, hdr, flags, err) : emit_leaf(p, &n->leaf, hdr, flags, err);
}

/* ---- the message header block ---- */

static int address_items(const mime_mailbox *mbs, size_t n, unsigned flags, mime_addr_item *items, sc_buf *store,
                         size_t *offsets, smtpcore_error *err)
{
    /* addr-specs are built into one buffer; pointers are fixed up after. */
    for (size_t i = 0; i < n; i++) {
        offsets[i] = sc_buf_size(store);
        if (mime_mailbox_addr_spec(&mbs[i], (flags & SMTPCORE_RENDER_SMTPUTF8) != 0, store, err) < 0)
            return -1;
        if (sc_buf_append(store, "", 1) < 0)
            return oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        items[i].display_name = mbs[i].display_name;
        items[i].addr_spec = sc_buf_ptr(store) + offsets[i];
    }
    return 0;
}

static int address_header(sc_buf *out, const char *name, const mime_mailbox *mbs, size_t n, unsigned flags,
                          smtpcore_error *err)
{
    if (n == 0)
        return 0;
    mime_addr_item *items = calloc(n, sizeof *items);
    size_t *offsets = calloc(n, sizeof *offsets);
    sc_buf store;
    sc_buf_init(&store);
    int rc = -1;
    if (!items || !offsets)
        oom(err);
    else if (address_items(mbs, n, flags, items, &store, offsets, err) == 0)
        rc = mime_header_address_list(out, name, items, n, (flags & SMTPCORE_RENDER_SMTPUTF8) != 0, err);
    free(items);
    free(offsets);
    sc_buf_free(&store);
    return rc;
}

static const char *find_header(const smtpcore_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_headers; i++)
        if (!strcasecmp(m->headers[i].name, name))
            return m->headers[i].value;
    return NULL;
}

/* RFC 5322 3.3 date-time, e.g. "Sat, 28 Nov 2026 19:07:40 +0100". */
static void format_date(long long t, int offset_min, char *out, size_t n)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t local = (time_t)(t + (long long)offset_min * 60);
    struct tm tm;
    gmtime_r(&local, &tm);
    int off = offset_min < 0 ? -offset_min : offset_min;
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

/* 2026-01-01T00:00:00Z: the Date of seeded messages without one. */
#define SEEDED_DATE 1767225600LL

static int build_header(plan *p, const smtpcore_message *m, mime_rng *rng, unsigned flags, smtpcore_error *err)
{
    sc_buf *h = &p->header;
    int utf8_ok = (flags & SMTPCORE_RENDER_SMTPUTF8) != 0;
    char value[128];
    if (!find_header(m, "Date")) {
        long long t = m->has_date ? m->date : m->has_seed ? SEEDED_DATE : (long long)time(NULL);
        int off = m->has_date ? m->date_offset : 0;
        if (!m->has_date && !m->has_seed) {
            struct tm tm;
            time_t now = (time_t)t;
            if (localtime_r(&now, &tm))
                off = (int)(tm.tm_gmtoff / 60);
        }
        format_date(t, off, value, sizeof value);
        if (mime_header_raw(h, "Date", value, err) < 0)
            return -1;
    }
    if (address_header(h, "From", &m->from, 1, flags, err) < 0)
        return -1;
    if (m->has_sender && address_header(h, "Sender", &m->sender, 1, flags, err) < 0)
        return -1;
    if (address_header(h, "Reply-To", m->reply_to.items, m->reply_to.n, flags, err) < 0 ||
        address_header(h, "To", m->to.items, m->to.n, flags, err) < 0 ||
        address_header(h, "Cc", m->cc.items, m->cc.n, flags, err) < 0)
        return -1;
    if (m->subject && mime_header_unstructured(h, "Subject", m->subject, strlen(m->subject), utf8_ok, err) < 0)
        return -1;
    if (!find_header(m, "Message-ID")) {
        unsigned long long a = (unsigned long long)mime_rng_next(rng), b = (unsigned long long)mime_rng_next(rng);
        sc_buf id;
        sc_buf_init(&id);
        int rc = sc_buf_printf(&id, "<%016llx%016llx@%s>", a, b, m->from.domain_ascii);
        char *s = rc == 0 ? sc_buf_strdup(&id) : NULL;
        sc_buf_free(&id);
        if (!s)
            return oom(err);
        rc = mime_header_raw(h, "Message-ID", s, err);
        free(s);
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < m->n_headers; i++) {
        const mime_extra_header *x = &m->headers[i];
        int rc = x->structured ? mime_header_raw(h, x->name, x->value, err)
                               : mime_header_unstructured(h, x->name, x->value, strlen(x->value), utf8_ok, err);
        if (rc < 0)
            return -1;
    }
    if (mime_header_raw(h, "MIME-Version", "1.0", err) < 0)
        return -1;
    return 0;
}

/* ---- the entity tree ---- */

static int build_plan(plan *p, const smtpcore_message *m, unsigned flags, smtpcore_error *err)
{
    memset(p, 0, sizeof *p);
    sc_buf_init(&p->header);
    sc_buf_init(&p->text);
    if (!m->has_from)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the message has no From address");
    mime_rng rng;
    mime_rng_init(&rng, m);
    if (build_header(p, m, &rng, flags, err) < 0)
        return -1;

    size_t total = m->n_atts + 4;
    node *nodes = calloc(total * 2 + 4, sizeof *nodes);
    if (!nodes)
        return oom(err);
    size_t used = 0;
    node *alt = &nodes[used++];
    alt->kids = &nodes[used];
    static const mime_content empty = {0};
    if (m->has_text || (!m->has_html && !m->has_calendar))
        alt->kids[alt->n++].leaf = (leaf){.content = m->has_text ? &m->text : &empty, .type = "text/plain", .is_text = 1};
    if (m->has_html)
        alt->kids[alt->n++].leaf = (leaf){.content = &m->html, .type = "text/html", .is_text = 1};
    if (m->has_calendar)
        alt->kids[alt->n++].leaf = (leaf){.content = &m->calendar, .type = "text/calendar", .is_text = 1,
                                          .method = m->calendar_method};
    used += alt->n;
    node *core = alt;
    if (alt->n > 1)
        alt->multipart = "alternative";
    else
        core = &alt->kids[0];

    size_t n_inline = 0, n_att = 0;
    for (size_t i = 0; i < m->n_atts; i++)
        if (m->atts[i].is_inline && m->has_html)
            n_inline++;
        else
            n_att++;
    if (n_inline) {
        node *rel = &nodes[used++];
        rel->multipart = "related";
        rel->kids = &nodes[used];
        rel->kids[rel->n++] = *core;
        for (size_t i = 0; i < m->n_atts; i++) {
            const mime_attachment *a = &m->atts[i];
            if (!(a->is_inline && m->has_html))
                continue;
            rel->kids[rel->n++].leaf = (leaf){.content = &a->content, .type = a->content_type,
                                              .disposition = "inline", .filename = a->filename,
                                              .content_id = a->content_id};
        }
        used += rel->n;
        core = rel;
    }
    if (n_att) {
        node *mix = &nodes[used++];
        mix->multipart = "mixed";
        mix->kids = &nodes[used];
        mix->kids[mix->n++] = *core;
        for (size_t i = 0; i < m->n_atts; i++) {
            const mime_attachment *a = &m->atts[i];
            if (a->is_inline && m->has_html)
                continue;
            /* Inline images without HTML to show them in become attachments
             * shown inline by clients that can. */
            mix->kids[mix->n++].leaf = (leaf){.content = &a->content, .type = a->content_type,
                                              .disposition = a->is_inline ? "inline" : "attachment",
                                              .filename = a->filename, .content_id = a->content_id};
        }
        /* used stays the count of nodes taken, as after each block above.
         * NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
        used += mix->n;
        core = mix;
    }
    int rc = emit_entity(p, &rng, core, &p->header, flags, err);
    free(nodes);
    if (rc < 0)
        return -1;
    /* Raw UTF-8 in headers counts as 8-bit content for the transport: the
     * message's, and the parts' (a file name), which are in the static text. */
    const sc_buf *known[] = {&p->header, &p->text};
    for (size_t k = 0; k < 2 && !p->eight_bit; k++)
        for (size_t i = 0; i < sc_buf_size(known[k]); i++)
            if ((unsigned char)sc_buf_ptr(known[k])[i] >= 0x80) {
                p->eight_bit = 1;
                break;
            }
    return 0;
}

/* ---- the reader ---- */

struct smtpcore_message_reader {
    plan p;
    sc_buf prefix;          /* DKIM-Signature fields, header block */
    size_t prefix_off;
    int body_only;          /* for the DKIM pass: no prefix */
    int borrowed;           /* the plan belongs to someone else */
    size_t seg;             /* current segment */
    size_t seg_off;         /* bytes of a static segment already given */
    int open;               /* a content segment is being encoded */
    FILE *file;
    size_t mem_off;
    uint64_t raw_done;
    mime_b64_enc b64;
    mime_qp_enc qp;
    mime_text_enc text;
    sc_buf stage;           /* encoded bytes not yet given */
    char *chunk;
    uint64_t size;
    uint64_t produced;
    int failed;
};

static int content_start(smtpcore_message_reader *r, const seg *s, smtpcore_error *err)
{
    r->raw_done = 0;
    r->mem_off = 0;
    if (s->content->path) {
        r->file = fopen(s->content->path, "rb");
        if (!r->file)
            return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "cannot open attachment file '%s': %s",
                              s->content->path, strerror(errno));
    }
    switch (s->cte) {
    case MIME_CTE_BASE64: mime_b64_enc_init(&r->b64); break;
    case MIME_CTE_QUOTED_PRINTABLE: mime_qp_enc_init(&r->qp); break;
    default: mime_text_enc_init(&r->text); break;
    }
    r->open = 1;
    return 0;
}

static int encode(smtpcore_message_reader *r, const seg *s, const char *data, size_t n)
{
    switch (s->cte) {
    case MIME_CTE_BASE64: return mime_b64_enc_update(&r->b64, data, n, &r->stage);
    case MIME_CTE_QUOTED_PRINTABLE: return mime_qp_enc_update(&r->qp, data, n, &r->stage);
    default: return mime_text_enc_update(&r->text, data, n, &r->stage);
    }
}

static int encode_finish(smtpcore_message_reader *r, const seg *s)
{
    switch (s->cte) {
    case MIME_CTE_BASE64: return mime_b64_enc_finish(&r->b64, &r->stage);
    case MIME_CTE_QUOTED_PRINTABLE: return mime_qp_enc_finish(&r->qp, &r->stage);
    default: return mime_text_enc_finish(&r->text, &r->stage);
    }
}

/* Encode the next chunk of the current content segment into the stage. */
static int content_step(smtpcore_message_reader *r, const seg *s, smtpcore_error *err)
{
    if (!r->open && content_start(r, s, err) < 0)
        return -1;
    size_t got;
    const char *data;
    if (r->file) {
        if (!r->chunk && !(r->chunk = malloc(READ_CHUNK)))
            return oom(err);
        got = fread(r->chunk, 1, READ_CHUNK, r->file);
        if (got == 0 && ferror(r->file))
            return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "reading attachment file '%s' failed",
                              s->content->path);
        data = r->chunk;
    } else {
        got = s->content->len - r->mem_off;
        if (got > READ_CHUNK)
            got = READ_CHUNK;
        /* The implicit empty text part has no data at all (NULL + 0 is undefined). */
        data = s->content->data ? s->content->data + r->mem_off : "";
        r->mem_off += got;
    }
    r->raw_done += got;
    if (r->raw_done > s->raw_size)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL,
                          "attachment file '%s' grew while the message was being sent", s->content->path);
    if (got) {
        if (encode(r, s, data, got) < 0)
            return oom(err);
        return 0;
    }
    if (r->raw_done != s->raw_size)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL,
                          "attachment file '%s' shrank while the message was being sent", s->content->path);
    if (encode_finish(r, s) < 0)
        return oom(err);
    if (r->file)
        fclose(r->file);
    r->file = NULL;
    r->open = 0;
    r->seg++;
    return 0;
}

long long smtpcore_message_reader_read(smtpcore_message_reader *r, char *buf, size_t n, smtpcore_error *err)
{
    if (!r)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no reader");
    if (r->failed)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "the message could not be rendered");
    size_t got = 0;
    while (got < n) {
        size_t avail = sc_buf_size(&r->stage);
        if (avail) {
            size_t k = avail < n - got ? avail : n - got;
            memcpy(buf + got, sc_buf_ptr(&r->stage), k);
            sc_buf_consume(&r->stage, k);
            got += k;
            continue;
        }
        if (r->prefix_off < sc_buf_size(&r->prefix)) {
            size_t k = sc_buf_size(&r->prefix) - r->prefix_off;
            if (k > n - got)
                k = n - got;
            memcpy(buf + got, sc_buf_ptr(&r->prefix) + r->prefix_off, k);
            r->prefix_off += k;
            got += k;
            continue;
        }
        if (r->seg >= r->p.n)
            break;
        const seg *s = &r->p.segs[r->seg];
        if (s->kind == SEG_STATIC) {
            size_t k = s->len - r->seg_off;
            if (k > n - got)
                k = n - got;
            memcpy(buf + got, sc_buf_ptr(&r->p.text) + s->off + r->seg_off, k);
            r->seg_off += k;
            got += k;
            if (r->seg_off == s->len) {
                r->seg++;
                r->seg_off = 0;
            }
            continue;
        }
        if (content_step(r, s, err) < 0) {
            r->failed = 1;
            return -1;
        }
    }
    r->produced += got;
    if (got == 0 && r->produced != r->size) {
        r->failed = 1;
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL,
                          "internal error: rendered %llu bytes, planned %llu", (unsigned long long)r->produced,
                          (unsigned long long)r->size);
    }
    return (long long)got;
}

uint64_t smtpcore_message_reader_size(const smtpcore_message_reader *r) { return r ? r->size : 0; }

void smtpcore_message_reader_free(smtpcore_message_reader *r)
{
    if (!r)
        return;
    if (r->file)
        fclose(r->file);
    if (!r->borrowed)
        plan_free(&r->p);
    sc_buf_free(&r->prefix);
    sc_buf_free(&r->stage);
    free(r->chunk);
    free(r);
}

static smtpcore_message_reader *reader_from_plan(plan *p, int body_only, smtpcore_error *err)
{
    smtpcore_message_reader *r = calloc(1, sizeof *r);
    if (!r) {
        free(r);
        if (!body_only)
            plan_free(p);
        oom(err);
        return NULL;
    }
    r->p = *p;
    memset(p, 0, sizeof *p);
    sc_buf_init(&r->prefix);
    sc_buf_init(&r->stage);
    r->body_only = body_only;
    r->size = r->p.body_size;
    if (!body_only) {
        if (sc_buf_append(&r->prefix, sc_buf_ptr(&r->p.header), sc_buf_size(&r->p.header)) < 0) {
            smtpcore_message_reader_free(r);
            oom(err);
            return NULL;
        }
        r->size += sc_buf_size(&r->p.header);
    }
    return r;
}

/* Sign: read the body once through every signer, then sign the header block. */
static int dkim_sign(const smtpcore_message *m, const plan *p, sc_buf *sigs, smtpcore_error *err)
{
    /* an array of pointers: the size of one pointer is meant. NOLINTNEXTLINE(bugprone-sizeof-expression) */
    dkim_signer **signers = calloc(m->n_dkim, sizeof *signers);
    char **copies = calloc(m->n_dkim, sizeof *copies);
    const char ***names = calloc(m->n_dkim, sizeof *names);
    int rc = -1;
    if (!signers || !copies || !names) {
        oom(err);
        goto out;
    }
    for (size_t i = 0; i < m->n_dkim; i++) {
        const mime_dkim_entry *d = &m->dkim[i];
        size_t nh = 0;
        names[i] = mime_dkim_header_names(d->headers, &nh, &copies[i]);
        long long ts = d->timestamp;
        if (ts == 0)
            ts = m->has_seed ? -1 : (long long)time(NULL);
        dkim_options o = {.domain = d->domain, .selector = d->selector, .key_pem = d->key_pem, .key_len = d->key_len,
                          .header_canon = d->header_canon, .body_canon = d->body_canon,
                          .headers = names[i], .n_headers = nh, .timestamp = ts > 0 ? (uint64_t)ts : 0};
        if (!(signers[i] = dkim_signer_new(&o, err)))
            goto out;
    }
    /* The body pass: the same plan (same boundaries), no header block. */
    plan view = *p;
    smtpcore_message_reader *r = reader_from_plan(&view, 1, err);
    if (!r)
        goto out;
    r->borrowed = 1;
    /* Skip the blank line that ends the header block: the DKIM body starts after it. */
    char *buf = malloc(READ_CHUNK);
    long long got;
    int first = 1;
    while (buf && (got = smtpcore_message_reader_read(r, buf, READ_CHUNK, err)) > 0) {
        const char *b = buf;
        size_t len = (size_t)got;
        if (first) {
            b += 2;
            len -= 2;
            first = 0;
        }
        for (size_t i = 0; i < m->n_dkim; i++)
            dkim_signer_body(signers[i], b, len);
    }
    int failed = !buf || r->failed;
    free(buf);
    smtpcore_message_reader_free(r);
    if (failed) {
        if (!buf)
            oom(err);
        goto out;
    }
    for (size_t i = m->n_dkim; i-- > 0;)
        if (dkim_signer_finish(signers[i], sc_buf_ptr(&p->header), sc_buf_size(&p->header), sigs, err) < 0)
            goto out;
    rc = 0;
out:
    for (size_t i = 0; signers && i < m->n_dkim; i++)
        dkim_signer_free(signers[i]);
    for (size_t i = 0; copies && i < m->n_dkim; i++)
        free(copies[i]);
    for (size_t i = 0; names && i < m->n_dkim; i++)
        free(names[i]);
    free(signers);
    free(copies);
    free(names);
    return rc;
}

smtpcore_message_reader *smtpcore_message_reader_new(const smtpcore_message *m, unsigned flags, smtpcore_error *err)
{
    if (!m) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message");
        return NULL;
    }
    plan p;
    if (build_plan(&p, m, flags, err) < 0) {
        plan_free(&p);
        return NULL;
    }
    sc_buf sigs;
    sc_buf_init(&sigs);
    if (m->n_dkim && dkim_sign(m, &p, &sigs, err) < 0) {
        sc_buf_free(&sigs);
        plan_free(&p);
        return NULL;
    }
    smtpcore_message_reader *r = reader_from_plan(&p, 0, err);
    if (r && sc_buf_size(&sigs)) {
        /* The signatures go first, above the header block they sign. */
        sc_buf all;
        sc_buf_init(&all);
        if (sc_buf_append(&all, sc_buf_ptr(&sigs), sc_buf_size(&sigs)) < 0 ||
            sc_buf_append(&all, sc_buf_ptr(&r->prefix), sc_buf_size(&r->prefix)) < 0) {
            sc_buf_free(&all);
            sc_buf_free(&sigs);
            smtpcore_message_reader_free(r);
            oom(err);
            return NULL;
        }
        sc_buf_free(&r->prefix);
        r->prefix = all;
        r->size += sc_buf_size(&sigs);
    }
    sc_buf_free(&sigs);
    return r;
}

int smtpcore_message_size(const smtpcore_message *m, unsigned flags, uint64_t *size, smtpcore_error *err)
{
    smtpcore_message_reader *r = smtpcore_message_reader_new(m, flags, err);
    if (!r)
        return -1;
    *size = r->size;
    smtpcore_message_reader_free(r);
    return 0;
}

int smtpcore_message_to_bytes(const smtpcore_message *m, unsigned flags, char **out, size_t *len, smtpcore_error *err)
{
    *out = NULL;
    *len = 0;
    smtpcore_message_reader *r = smtpcore_message_reader_new(m, flags, err);
    if (!r)
        return -1;
    char *buf = malloc(r->size + 1);
    if (!buf) {
        smtpcore_message_reader_free(r);
        return oom(err);
    }
    size_t have = 0;
    long long got;
    while ((got = smtpcore_message_reader_read(r, buf + have, r->size - have, err)) > 0)
        have += (size_t)got;
    int failed = got < 0;
    smtpcore_message_reader_free(r);
    if (failed) {
        free(buf);
        return -1;
    }
    buf[have] = '\0';
    *out = buf;
    *len = have;
    return 0;
}

int mime_reader_eight_bit(const smtpcore_message_reader *r) { return r->p.eight_bit; }
