/* A growable byte buffer with a read offset: the one container the core uses
 * for wire data, so append and consume are both O(1) amortised. */
#ifndef SC_BUF_H
#define SC_BUF_H

#include <stddef.h>

typedef struct sc_buf {
    char *data;
    size_t start;   /* first unread byte */
    size_t len;     /* end of data (data[start..len) is the content) */
    size_t cap;
} sc_buf;

void sc_buf_init(sc_buf *b);
void sc_buf_free(sc_buf *b);
/* Content pointer and size. */
static inline const char *sc_buf_ptr(const sc_buf *b) { return b->data ? b->data + b->start : ""; }
static inline size_t sc_buf_size(const sc_buf *b) { return b->len - b->start; }
/* Append; return 0 or -1 on out of memory. */
int sc_buf_append(sc_buf *b, const void *p, size_t n);
int sc_buf_append_str(sc_buf *b, const char *s);
int sc_buf_printf(sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes and return where to write them; commit with sc_buf_commit. */
char *sc_buf_reserve(sc_buf *b, size_t n);
void sc_buf_commit(sc_buf *b, size_t n);
/* Drop n bytes from the front. */
void sc_buf_consume(sc_buf *b, size_t n);
void sc_buf_reset(sc_buf *b);
/* NUL-terminated copy of the content (caller frees), or NULL on OOM. */
char *sc_buf_strdup(const sc_buf *b);

#endif
