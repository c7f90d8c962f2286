/* DKIM canonicalisation (RFC 6376 section 3.4), private to csrc/dkim.
 *
 * The body canonicaliser is a byte-at-a-time state machine, so its output
 * does not depend on how the body is split into chunks, and its memory is
 * bounded: trailing empty lines and trailing whitespace are held back as
 * counters (they may turn out to be at the end of the body, where they are
 * dropped), never as data. Output goes to a sink in batches.
 *
 * The header side parses a header block into fields, picks the fields an h=
 * list names (bottom-up for repeated names, RFC 6376 5.4.2) and
 * canonicalises one field at a time. */
#ifndef DKIM_CANON_H
#define DKIM_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "dkim/dkim.h"
#include "util/buf.h"

/* Receives canonical bytes; returns 0, or -1 to make the canonicaliser fail (sticky). */
typedef int (*dkim_sink_fn)(void *arg, const char *p, size_t n);

typedef struct dkim_body_canon {
    dkim_canon mode;
    dkim_sink_fn sink;
    void *arg;
    uint64_t pending_crlf;  /* line ends held back: dropped if only empty lines follow */
    unsigned char pending_cr;   /* the last byte seen was CR; the next decides whether it ends a line */
    unsigned char pending_ws;   /* relaxed: WSP seen in this line since its last output byte */
    unsigned char emitted;      /* relaxed: some line had content (an all-blank body is empty) */
    unsigned char failed;       /* the sink failed, or feed after finish */
    unsigned char finished;
    size_t out_len;
    char out[2048];             /* batches bytes for the sink */
} dkim_body_canon;

void dkim_body_canon_init(dkim_body_canon *c, dkim_canon mode, dkim_sink_fn sink, void *arg);
/* Feed the next n bytes of the body; 0, or -1 once the sink has failed. */
int dkim_body_canon_feed(dkim_body_canon *c, const char *p, size_t n);
/* Apply the end-of-body rules and flush everything to the sink; 0 or -1. */
int dkim_body_canon_finish(dkim_body_canon *c);

/* One header field inside a header block: [start, start + len) is the whole
 * field, continuation lines included, without its final CRLF. */
typedef struct dkim_field {
    size_t start;
    size_t len;
    size_t name_len;        /* the name, without any WSP before the colon */
} dkim_field;

typedef enum dkim_hdr_status {
    DKIM_HDR_OK = 0,
    DKIM_HDR_NOMEM = -1,
    DKIM_HDR_MALFORMED = -2 /* *bad_off is the offset of the offending byte or line */
} dkim_hdr_status;

/* Split a header block (CRLF lines, without the empty line that ends it) into
 * fields. Refused as malformed: NUL, CR or LF other than in CRLF, a missing
 * final CRLF, a continuation line first, an empty line, a line that is not
 * "name:" with a printable name. *fields is malloc'd (NULL when there are none). */
dkim_hdr_status dkim_header_parse(const char *block, size_t len, dkim_field **fields, size_t *n, size_t *bad_off);

/* 1 if the field's name equals name (ASCII case-insensitive). */
int dkim_field_is(const char *block, const dkim_field *f, const char *name, size_t name_len);

/* How many fields are named name. */
size_t dkim_header_count(const char *block, const dkim_field *fields, size_t n, const char *name, size_t name_len);

/* For each of the n_names names in order, the index of the field it selects
 * (from the bottom up, each instance once), or (size_t)-1 when no unused
 * instance is left. sel has room for n_names entries. 0 or -1 (out of memory). */
int dkim_header_select(const char *block, const dkim_field *fields, size_t n, const char *const *names,
                       size_t n_names, size_t *sel);

/* Append the canonical form of one field (text as in the block: name, colon,
 * value, interior CRLFs; no final CRLF) to out, without a final CRLF.
 * 0, or -1 on out of memory. */
int dkim_header_canon(dkim_canon mode, const char *field, size_t len, sc_buf *out);

#endif
