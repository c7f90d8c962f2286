#include "smtp/reply.h"

#include <stdio.h>
#include <string.h>

void smtp_reply_init(smtp_reply *r)
{
    r->code = 0;
    r->enhanced[0] = '\0';
    r->n_lines = 0;
    sc_buf_init(&r->text);
}

void smtp_reply_free(smtp_reply *r) { sc_buf_free(&r->text); }

const char *smtp_reply_text(const smtp_reply *r) { return sc_buf_size(&r->text) ? sc_buf_ptr(&r->text) : ""; }

void smtp_reply_parser_init(smtp_reply_parser *p)
{
    memset(p, 0, sizeof *p);
    sc_buf_init(&p->in);
    smtp_reply_init(&p->cur);
}

void smtp_reply_parser_free(smtp_reply_parser *p)
{
    sc_buf_free(&p->in);
    smtp_reply_free(&p->cur);
}

static int parser_fail(smtp_reply_parser *p, const char *msg)
{
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, "%s", msg);
    return -1;
}

/* Bytes on the current (unfinished) line: from the start of `in` to its end. */
int smtp_reply_parser_feed(smtp_reply_parser *p, const char *data, size_t len)
{
    if (p->err[0])
        return -1;
    if (sc_buf_append(&p->in, data, len) < 0)
        return parser_fail(p, "out of memory");
    /* Enforce the line limit on input as it arrives: if no line end lies
     * within the first MAX_LINE + 2 bytes of the unconsumed input, the line
     * is too long whatever follows. */
    size_t size = sc_buf_size(&p->in);
    if (size > SMTP_REPLY_MAX_LINE + 2) {
        const char *b = sc_buf_ptr(&p->in);
        size_t limit = SMTP_REPLY_MAX_LINE + 2;
        size_t from = p->scanned < limit ? p->scanned : limit;
        if (!memchr(b + from, '\n', limit - from))
            return parser_fail(p, "reply line too long");
        p->scanned = 0;
    }
    return 0;
}

size_t smtp_reply_parser_pending(const smtp_reply_parser *p) { return sc_buf_size(&p->in); }

void smtp_reply_parser_discard(smtp_reply_parser *p)
{
    sc_buf_reset(&p->in);
    p->scanned = 0;
    p->have_cur = 0;
    p->cur.code = 0;
    p->cur.n_lines = 0;
    p->cur.enhanced[0] = '\0';
    sc_buf_reset(&p->cur.text);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "X.Y.Z" at the start of text, X the reply's class (RFC 3463: 1-3 digits for
 * subject and detail), followed by a space or the end. Returns its length or 0. */
static size_t parse_enhanced(const char *t, size_t n, int code)
{
    /* RFC 3463 defines classes 2, 4 and 5 only (no enhanced code on 3xx). */
    int cls = code / 100;
    if (n < 5 || (cls != 2 && cls != 4 && cls != 5) || t[0] != (char)('0' + cls) || t[1] != '.')
        return 0;
    size_t i = 2, d = 0;
    while (i < n && is_digit(t[i]) && d < 3) i++, d++;
    if (d == 0 || i >= n || t[i] != '.')
        return 0;
    i++;
    d = 0;
    while (i < n && is_digit(t[i]) && d < 3) i++, d++;
    if (d == 0 || (i < n && t[i] != ' '))
        return 0;
    return i;
}

/* Handle one line (without its line end). Returns 1 when the line completed a
 * reply, 0 when more lines follow, -1 on error. */
static int parser_line(smtp_reply_parser *p, const char *line, size_t n)
{
    if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
        return parser_fail(p, "malformed reply line (no 3-digit code)");
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line[0] < '2' || line[0] > '5' || line[1] > '5')
        return parser_fail(p, "reply code out of range");
    int last;
    if (n == 3 || line[3] == ' ')
        last = 1;
    else if (line[3] == '-')
        last = 0;
    else
        return parser_fail(p, "malformed reply line (bad separator)");
    const char *text = n > 4 ? line + 4 : "";
    size_t tlen = n > 4 ? n - 4 : 0;

    smtp_reply *r = &p->cur;
    if (!p->have_cur) {
        p->have_cur = 1;
        r->code = code;
        r->n_lines = 0;
        r->enhanced[0] = '\0';
        sc_buf_reset(&r->text);
        size_t el = parse_enhanced(text, tlen, code);
        if (el && el < sizeof r->enhanced) {
            memcpy(r->enhanced, text, el);
            r->enhanced[el] = '\0';
        }
    } else if (code != r->code) {
        return parser_fail(p, "multi-line reply changes its code");
    }
    if (r->n_lines >= SMTP_REPLY_MAX_LINES)
        return parser_fail(p, "reply has too many lines");
    if ((r->n_lines && sc_buf_append(&r->text, "\n", 1) < 0) || sc_buf_append(&r->text, text, tlen) < 0)
        return parser_fail(p, "out of memory");
    r->n_lines++;
    return last;
}

int smtp_reply_parser_next(smtp_reply_parser *p, smtp_reply *out)
{
    if (p->err[0])
        return -1;
    for (;;) {
        const char *b = sc_buf_ptr(&p->in);
        size_t size = sc_buf_size(&p->in);
        const char *nl = size ? memchr(b, '\n', size) : NULL;
        if (!nl) {
            p->scanned = size;
            return 0;
        }
        size_t n = (size_t)(nl - b);
        size_t consumed = n + 1;
        /* Servers end lines with CRLF; a bare LF is accepted as a courtesy,
         * it cannot change the meaning of a reply. */
        if (n && b[n - 1] == '\r')
            n--;
        if (n > SMTP_REPLY_MAX_LINE)
            return parser_fail(p, "reply line too long");
        if (memchr(b, '\0', n) || memchr(b, '\r', n))
            return parser_fail(p, "reply line contains NUL or bare CR");
        int rc = parser_line(p, b, n);
        sc_buf_consume(&p->in, consumed);
        p->scanned = 0;
        if (rc < 0)
            return -1;
        if (rc == 1) {
            /* Hand the finished reply over by swapping buffers (no copy). */
            smtp_reply tmp = *out;
            *out = p->cur;
            p->cur = tmp;
            p->have_cur = 0;
            if (sc_buf_append(&out->text, "", 1) < 0) /* NUL-terminate */
                return parser_fail(p, "out of memory");
            out->text.len--;
            return 1;
        }
    }
}
