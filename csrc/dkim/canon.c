/* DKIM canonicalisation: body (RFC 6376 3.4.3, 3.4.4) as a streaming state
 * machine, header fields (3.4.1, 3.4.2), and the h= selection (5.4.2). */
#include "dkim/canon.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ body */

void dkim_body_canon_init(dkim_body_canon *c, dkim_canon mode, dkim_sink_fn sink, void *arg)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->sink = sink;
    c->arg = arg;
}

static int flush(dkim_body_canon *c)
{
    if (c->out_len && !c->failed && c->sink(c->arg, c->out, c->out_len) < 0)
        c->failed = 1;
    c->out_len = 0;
    return c->failed ? -1 : 0;
}

static int put(dkim_body_canon *c, const char *p, size_t n)
{
    while (n) {
        if (c->out_len == sizeof c->out && flush(c) < 0)
            return -1;
        size_t k = sizeof c->out - c->out_len;
        if (k > n)
            k = n;
        memcpy(c->out + c->out_len, p, k);
        c->out_len += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* The held-back line ends turn out not to be trailing: write them out. */
static int release_lines(dkim_body_canon *c)
{
    static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
    const uint64_t per = (sizeof crlfs - 1) / 2;
    while (c->pending_crlf) {
        uint64_t k = c->pending_crlf < per ? c->pending_crlf : per;
        if (put(c, crlfs, (size_t)k * 2) < 0)
            return -1;
        c->pending_crlf -= k;
    }
    return 0;
}

/* A byte that is line content (not WSP in relaxed mode, not part of CRLF). */
static int content_byte(dkim_body_canon *c, char ch)
{
    if (c->pending_crlf && release_lines(c) < 0)
        return -1;
    if (c->pending_ws) {
        c->pending_ws = 0;
        if (put(c, " ", 1) < 0)
            return -1;
    }
    c->emitted = 1;
    if (c->out_len == sizeof c->out && flush(c) < 0)
        return -1;
    c->out[c->out_len++] = ch;
    return 0;
}

static int is_wsp(char ch) { return ch == ' ' || ch == '\t'; }

int dkim_body_canon_feed(dkim_body_canon *c, const char *p, size_t n)
{
    if (c->failed || c->finished) {
        c->failed = 1;
        return -1;
    }
    const int relaxed = c->mode == DKIM_CANON_RELAXED;
    size_t i = 0;
    while (i < n) {
        /* Fast path: nothing held back, copy a run of plain content bytes. */
        if (!c->pending_cr && !c->pending_crlf && !c->pending_ws) {
            size_t j = i;
            while (j < n && p[j] != '\r' && !(relaxed && is_wsp(p[j])))
                j++;
            if (j > i) {
                if (put(c, p + i, j - i) < 0)
                    return -1;
                c->emitted = 1;
                i = j;
                continue;
            }
        }
        char ch = p[i++];
        if (c->pending_cr) {
            c->pending_cr = 0;
            if (ch == '\n') {
                /* End of a line: its trailing WSP is dropped (relaxed), and the
                 * line end waits until we know whether content follows. */
                c->pending_ws = 0;
                c->pending_crlf++;
                continue;
            }
            if (content_byte(c, '\r') < 0) /* a bare CR is content */
                return -1;
        }
        if (ch == '\r')
            c->pending_cr = 1;
        else if (relaxed && is_wsp(ch))
            c->pending_ws = 1;
        else if (content_byte(c, ch) < 0)
            return -1;
    }
    return 0;
}

int dkim_body_canon_finish(dkim_body_canon *c)
{
    if (c->failed || c->finished) {
        c->failed = 1;
        return -1;
    }
    c->finished = 1;
    if (c->pending_cr) {
        c->pending_cr = 0;
        if (content_byte(c, '\r') < 0)
            return -1;
    }
    /* Trailing empty lines vanish; what is left ends in exactly one CRLF
     * (added if the last line had none, as SMTP would). The empty body is
     * "\r\n" for simple and stays empty for relaxed, where a body of blank
     * lines is empty too. Trailing WSP of an unterminated last line is
     * dropped in relaxed mode, as it would be once SMTP terminates the line. */
    c->pending_crlf = 0;
    c->pending_ws = 0;
    if ((c->mode == DKIM_CANON_SIMPLE || c->emitted) && put(c, "\r\n", 2) < 0)
        return -1;
    return flush(c);
}

/* ------------------------------------------------------------------ header */

static int lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch; }

static int name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

dkim_hdr_status dkim_header_parse(const char *block, size_t len, dkim_field **fields, size_t *n, size_t *bad_off)
{
    dkim_field *fs = NULL;
    size_t count = 0, cap = 0, pos = 0, bad = 0;
    *fields = NULL;
    *n = 0;
    while (pos < len) {
        size_t ls = pos, i = pos;
        while (i < len && block[i] != '\r' && block[i] != '\n' && block[i] != '\0')
            i++;
        if (i == len || block[i] != '\r' || i + 1 == len || block[i + 1] != '\n') {
            bad = i; /* no final CRLF, a NUL, or a bare CR or LF */
            goto malformed;
        }
        if (i == ls) {
            bad = ls; /* an empty line: the header block ends before it */
            goto malformed;
        }
        if (block[ls] == ' ' || block[ls] == '\t') {
            if (count == 0) {
                bad = ls;
                goto malformed;
            }
            fs[count - 1].len = i - fs[count - 1].start;
        } else {
            const char *colon = memchr(block + ls, ':', i - ls);
            if (!colon) {
                bad = ls;
                goto malformed;
            }
            size_t name_end = (size_t)(colon - block);
            while (name_end > ls && (block[name_end - 1] == ' ' || block[name_end - 1] == '\t'))
                name_end--; /* obsolete syntax allows WSP before the colon */
            if (name_end == ls) {
                bad = ls;
                goto malformed;
            }
            for (size_t k = ls; k < name_end; k++)
                if ((unsigned char)block[k] < 33 || (unsigned char)block[k] > 126) {
                    bad = k;
                    goto malformed;
                }
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                dkim_field *nf = realloc(fs, ncap * sizeof *nf);
                if (!nf) {
                    free(fs);
                    return DKIM_HDR_NOMEM;
                }
                fs = nf;
                cap = ncap;
            }
            fs[count].start = ls;
            fs[count].len = i - ls;
            fs[count].name_len = name_end - ls;
            count++;
        }
        pos = i + 2;
    }
    *fields = fs;
    *n = count;
    return DKIM_HDR_OK;
malformed:
    free(fs);
    if (bad_off)
        *bad_off = bad;
    return DKIM_HDR_MALFORMED;
}

int dkim_field_is(const char *block, const dkim_field *f, const char *name, size_t name_len)
{
    return name_eq(block + f->start, f->name_len, name, name_len);
}

size_t dkim_header_count(const char *block, const dkim_field *fields, size_t n, const char *name, size_t name_len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)dkim_field_is(block, &fields[i], name, name_len);
    return k;
}

int dkim_header_select(const char *block, const dkim_field *fields, size_t n, const char *const *names,
                       size_t n_names, size_t *sel)
{
    /* One cursor per distinct name: the next instance is searched for above
     * the one taken last, so each name costs one pass over the fields. */
    struct cursor { const char *name; size_t len; size_t next; } *cur = NULL;
    size_t n_cur = 0;
    if (n_names && !(cur = malloc(n_names * sizeof *cur)))
        return -1;
    for (size_t k = 0; k < n_names; k++) {
        size_t len = strlen(names[k]), c;
        for (c = 0; c < n_cur; c++)
            if (name_eq(cur[c].name, cur[c].len, names[k], len))
                break;
        if (c == n_cur) {
            cur[c] = (struct cursor){names[k], len, n};
            n_cur++;
        }
        size_t i = cur[c].next;
        sel[k] = (size_t)-1;
        while (i > 0) {
            i--;
            if (dkim_field_is(block, &fields[i], names[k], len)) {
                sel[k] = i;
                break;
            }
        }
        cur[c].next = i;
    }
    free(cur);
    return 0;
}

int dkim_header_canon(dkim_canon mode, const char *field, size_t len, sc_buf *out)
{
    if (mode == DKIM_CANON_SIMPLE)
        return sc_buf_append(out, field, len);

    /* Relaxed: lowercase name, no WSP around the colon, unfolded, WSP runs
     * as one SP, no WSP at the ends of the value. */
    char *w = sc_buf_reserve(out, len + 1);
    if (!w)
        return -1;
    size_t o = 0, i = 0;
    const char *colon = memchr(field, ':', len);
    if (colon) {
        size_t name_end = (size_t)(colon - field);
        while (name_end > 0 && (field[name_end - 1] == ' ' || field[name_end - 1] == '\t'))
            name_end--;
        for (; i < name_end; i++)
            w[o++] = (char)lower((unsigned char)field[i]);
        w[o++] = ':';
        i = (size_t)(colon - field) + 1;
    }
    int pend = 0, started = 0;
    for (; i < len; i++) {
        char ch = field[i];
        if (ch == '\r' && i + 1 < len && field[i + 1] == '\n') {
            i++; /* unfold */
            continue;
        }
        if (ch == ' ' || ch == '\t') {
            pend = 1;
            continue;
        }
        if (pend && started)
            w[o++] = ' ';
        pend = 0;
        started = 1;
        w[o++] = ch;
    }
    sc_buf_commit(out, o);
    return 0;
}
