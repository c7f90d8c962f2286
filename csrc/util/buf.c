#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_buf_init(sc_buf *b) { memset(b, 0, sizeof *b); }

void sc_buf_free(sc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void sc_buf_reset(sc_buf *b) { b->start = b->len = 0; }

char *sc_buf_reserve(sc_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return b->data + b->len;
    /* Slide unread data to the front before growing: consumers eat from the
     * front, so the buffer stays the size of what is in flight. */
    if (b->start > 0) {
        memmove(b->data, b->data + b->start, b->len - b->start);
        b->len -= b->start;
        b->start = 0;
        if (b->cap - b->len >= n)
            return b->data + b->len;
    }
    size_t need = b->len + n;
    if (need < b->len)
        return NULL;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2)
            return NULL;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return NULL;
    b->data = p;
    b->cap = cap;
    return b->data + b->len;
}

void sc_buf_commit(sc_buf *b, size_t n) { b->len += n; }

int sc_buf_append(sc_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    char *dst = sc_buf_reserve(b, n);
    if (!dst)
        return -1;
    memcpy(dst, p, n);
    b->len += n;
    return 0;
}

int sc_buf_append_str(sc_buf *b, const char *s) { return sc_buf_append(b, s, strlen(s)); }

int sc_buf_printf(sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char *dst = sc_buf_reserve(b, (size_t)n + 1);
    if (!dst)
        return -1;
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void sc_buf_consume(sc_buf *b, size_t n)
{
    if (n >= b->len - b->start) {
        b->start = b->len = 0;
        return;
    }
    b->start += n;
}

char *sc_buf_strdup(const sc_buf *b)
{
    size_t n = sc_buf_size(b);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, sc_buf_ptr(b), n);
    s[n] = '\0';
    return s;
}
