/* Content transfer encodings: scanning, choice, and the three streaming
 * encoders. Every encoder's decisions depend only on the bytes themselves
 * (and on "end of data"), never on where a chunk ended, so the output is the
 * same for any split; the size functions run the same code without output. */
#include "mime/encoders.h"

#include <string.h>

#define MIME_MAX_LINE 998   /* RFC 5322 2.1.1, without CRLF */
#define B64_LINE_CHARS 76
#define B64_LINE_BYTES 57   /* input bytes per full line */
#define QP_MAX_LINE 76

const char *mime_cte_name(mime_cte c)
{
    switch (c) {
    case MIME_CTE_8BIT: return "8bit";
    case MIME_CTE_QUOTED_PRINTABLE: return "quoted-printable";
    case MIME_CTE_BASE64: return "base64";
    case MIME_CTE_7BIT: break;
    }
    return "7bit";
}

/* ---- scan ---- */

/* UTF-8 validation state kept in mime_scan.utf8_need: 0 between characters;
 * 1-3 that many continuation bytes (80-BF) still due; 4-7 the next byte has a
 * narrower range, which is how overlongs (E0, F0), surrogates (ED) and code
 * points above U+10FFFF (F4) are refused. */
enum { U8_E0 = 4, U8_ED, U8_F0, U8_F4 };

static int utf8_step(int st, unsigned char c)
{
    if (c < 0x80)
        return st == 0 ? 0 : -1;
    if (st == 0) {
        if (c < 0xC2) return -1;            /* stray continuation, or overlong C0/C1 */
        if (c < 0xE0) return 1;
        if (c == 0xE0) return U8_E0;
        if (c == 0xED) return U8_ED;
        if (c < 0xF0) return 2;
        if (c == 0xF0) return U8_F0;
        if (c < 0xF4) return 3;
        if (c == 0xF4) return U8_F4;
        return -1;
    }
    if (c > 0xBF)
        return -1;
    switch (st) {
    case 1: case 2: case 3: return st - 1;
    case U8_E0: return c >= 0xA0 ? 1 : -1;
    case U8_ED: return c <= 0x9F ? 1 : -1;
    case U8_F0: return c >= 0x90 ? 2 : -1;
    case U8_F4: return c <= 0x8F ? 2 : -1;
    default: return -1;
    }
}

void mime_scan_init(mime_scan *s)
{
    memset(s, 0, sizeof *s);
    s->valid_utf8 = 1;
}

void mime_scan_update(mime_scan *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (n == 0)
        return;
    uint64_t cur = s->cur_line, longest = s->longest_line, lines = s->lines;
    uint64_t non_ascii = s->non_ascii, controls = s->controls;
    int st = s->utf8_need, valid = s->valid_utf8, bare = s->bare_cr_or_lf;
    int prev_cr = s->last == '\r';
    size_t i = 0;
    while (i < n) {
        /* Printable ASCII is most of any text: skip runs of it in one go. */
        if (st == 0 && !prev_cr) {
            size_t j = i;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7F)
                j++;
            cur += j - i;
            i = j;
            if (i == n)
                break;
        }
        unsigned char c = p[i++];
        if (valid) {
            st = utf8_step(st, c);
            if (st < 0) {
                valid = 0;
                st = 0;
            }
        }
        if (c == '\n') {
            if (!prev_cr) { /* a lone LF ends a line; after CR it completes a CRLF */
                bare = 1;
                lines++;
                if (cur > longest)
                    longest = cur;
                cur = 0;
            }
            prev_cr = 0;
            continue;
        }
        if (prev_cr) {
            bare = 1;
            prev_cr = 0;
        }
        if (c == '\r') {
            lines++;
            if (cur > longest)
                longest = cur;
            cur = 0;
            prev_cr = 1;
            continue;
        }
        cur++;
        if (c >= 0x80)
            non_ascii++;
        else if ((c < 0x20 && c != '\t') || c == 0x7F)
            controls++;
    }
    if (cur > longest)
        longest = cur;
    s->bytes += n;
    s->cur_line = cur;
    s->longest_line = longest;
    s->lines = lines;
    s->non_ascii = non_ascii;
    s->controls = controls;
    s->utf8_need = st;
    s->valid_utf8 = valid;
    s->bare_cr_or_lf = bare;
    s->last = p[n - 1];
}

/* Idempotent; `last` keeps the final byte so the choice can tell whether the
 * data ended with a line break. */
void mime_scan_finish(mime_scan *s)
{
    if (s->last == '\r')
        s->bare_cr_or_lf = 1;
    if (s->utf8_need != 0) {
        s->valid_utf8 = 0;   /* truncated sequence at the end */
        s->utf8_need = 0;
    }
    if (s->cur_line > 0) {
        s->lines++;
        if (s->cur_line > s->longest_line)
            s->longest_line = s->cur_line;
        s->cur_line = 0;
    }
}

mime_cte mime_choose_cte(const mime_scan *s, int is_text, int allow_8bit)
{
    int short_lines = s->longest_line <= MIME_MAX_LINE;
    int ascii = s->non_ascii == 0 && s->controls == 0;
    if (!is_text) {
        /* The 7bit path normalises line ends and adds a final CRLF, so other
         * content takes it only when that changes nothing. */
        int crlf_only = !s->bare_cr_or_lf && (s->bytes == 0 || s->last == '\n');
        return ascii && short_lines && crlf_only ? MIME_CTE_7BIT : MIME_CTE_BASE64;
    }
    if (ascii && short_lines)
        return MIME_CTE_7BIT;
    if (allow_8bit && s->valid_utf8 && s->controls == 0 && short_lines)
        return MIME_CTE_8BIT;
    /* Quoted-printable triples each non-ASCII byte, base64 costs a third more
     * on everything: they break even near 1/6 non-ASCII. */
    if (s->non_ascii * 6 < s->bytes)
        return MIME_CTE_QUOTED_PRINTABLE;
    return MIME_CTE_BASE64;
}

/* ---- base64 ---- */

static const char b64_alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two output characters for each 12-bit value: one lookup per half group. */
#define B64C(v) ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v) - 26 : (v) < 62 ? '0' + (v) - 52 : (v) == 62 ? '+' : '/')
#define B64P(v) {(char)B64C((v) >> 6), (char)B64C((v) & 63)}
#define B64P4(v) B64P(v), B64P((v) + 1), B64P((v) + 2), B64P((v) + 3)
#define B64P16(v) B64P4(v), B64P4((v) + 4), B64P4((v) + 8), B64P4((v) + 12)
#define B64P64(v) B64P16(v), B64P16((v) + 16), B64P16((v) + 32), B64P16((v) + 48)
#define B64P256(v) B64P64(v), B64P64((v) + 64), B64P64((v) + 128), B64P64((v) + 192)
#define B64P1024(v) B64P256(v), B64P256((v) + 256), B64P256((v) + 512), B64P256((v) + 768)
static const char b64_pairs[4096][2] = {B64P1024(0), B64P1024(1024), B64P1024(2048), B64P1024(3072)};

static inline char *b64_group(char *o, const unsigned char *p)
{
    unsigned v = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
    memcpy(o, b64_pairs[v >> 12], 2);
    memcpy(o + 2, b64_pairs[v & 0xFFF], 2);
    return o + 4;
}

void mime_b64_enc_init(mime_b64_enc *e) { memset(e, 0, sizeof *e); }

int mime_b64_enc_update(mime_b64_enc *e, const void *data, size_t n, sc_buf *out)
{
    const unsigned char *p = data;
    if (n == 0)
        return 0;
    if (n > ((size_t)-1) / 2 - 64)
        return -1;
    /* Exactly what this call writes: every complete group, a CRLF each time
     * a line fills. */
    size_t groups = (e->npending + n) / 3;
    if (groups == 0) {   /* still short of a group: nothing to write */
        memcpy(e->pending + e->npending, p, n);
        e->npending += n;
        return 0;
    }
    size_t need = groups * 4 + 2 * ((e->col + groups * 4) / B64_LINE_CHARS);
    char *dst = sc_buf_reserve(out, need);
    if (!dst)
        return -1;
    char *o = dst;
    size_t col = e->col;
    if (e->npending) {
        while (e->npending < 3 && n) {
            e->pending[e->npending++] = *p++;
            n--;
        }
        if (e->npending < 3)
            return 0;
        o = b64_group(o, e->pending);
        e->npending = 0;
        col += 4;
        if (col == B64_LINE_CHARS) {
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
        }
    }
    while (col != 0 && n >= 3) {
        o = b64_group(o, p);
        p += 3;
        n -= 3;
        col += 4;
        if (col == B64_LINE_CHARS) {
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
        }
    }
    /* The hot loop: whole lines, 19 groups and a CRLF. */
    while (n >= B64_LINE_BYTES) {
        for (int g = 0; g < B64_LINE_BYTES / 3; g++)
            o = b64_group(o, p + 3 * g);
        o[0] = '\r';
        o[1] = '\n';
        o += 2;
        p += B64_LINE_BYTES;
        n -= B64_LINE_BYTES;
    }
    while (n >= 3) {
        o = b64_group(o, p);
        p += 3;
        n -= 3;
        col += 4;
    }
    memcpy(e->pending, p, n);
    e->npending = n;
    e->col = col;
    sc_buf_commit(out, (size_t)(o - dst));
    return 0;
}

int mime_b64_enc_finish(mime_b64_enc *e, sc_buf *out)
{
    char *o = sc_buf_reserve(out, 6);
    if (!o)
        return -1;
    size_t k = 0;
    if (e->npending) {
        unsigned v = (unsigned)e->pending[0] << 16;
        if (e->npending == 2)
            v |= (unsigned)e->pending[1] << 8;
        o[k++] = b64_alphabet[(v >> 18) & 63];
        o[k++] = b64_alphabet[(v >> 12) & 63];
        o[k++] = e->npending == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
        o[k++] = '=';
        e->col += 4;
    }
    if (e->col) {
        o[k++] = '\r';
        o[k++] = '\n';
    }
    sc_buf_commit(out, k);
    mime_b64_enc_init(e);
    return 0;
}

uint64_t mime_b64_encoded_size(uint64_t n)
{
    uint64_t chars = (n / 3 + (n % 3 != 0)) * 4;
    return chars + 2 * ((chars + B64_LINE_CHARS - 1) / B64_LINE_CHARS);
}

/* ---- quoted-printable ---- */

static const char hex_upper[16] = "0123456789ABCDEF";

/* 1 for bytes that are always =XX: controls but TAB (CR and LF are line
 * breaks, handled first), '=', and 0x7F and above. */
static const unsigned char qp_encode[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Does "From " start at p[i]? 1 yes, 0 no, -1 not enough input yet. */
static int qp_from_at(const unsigned char *p, size_t i, size_t n, int final)
{
    static const char rest[] = "rom ";
    for (size_t k = 0; k < 4; k++) {
        if (i + 1 + k >= n)
            return final ? 0 : -1;
        if (p[i + 1 + k] != (unsigned char)rest[k])
            return 0;
    }
    return 1;
}

#define QP_PUT(ch) do { if (o) o[k] = (char)(ch); k++; } while (0)

/* Encode p[0..n) as far as the lookahead allows and return how many bytes
 * were consumed (all of them when final). A byte waits when its encoding
 * depends on bytes not seen yet: a space or TAB (encoded before a line break
 * or the end), a character that fits only as the last on its line, an 'F'
 * that may start "From ". Output goes to o unless it is NULL; its length is
 * added to *produced either way. */
static size_t qp_run(mime_qp_enc *e, const unsigned char *p, size_t n, int final, char *o, uint64_t *produced)
{
    uint64_t k = 0;
    size_t col = e->col, i = 0;
    int pending_cr = e->pending_cr;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '\n') {
            if (!pending_cr) {
                QP_PUT('\r');
                QP_PUT('\n');
                col = 0;
            }
            pending_cr = 0;
            i++;
            continue;
        }
        pending_cr = 0;
        if (c == '\r') {
            QP_PUT('\r');
            QP_PUT('\n');
            col = 0;
            pending_cr = 1;
            i++;
            continue;
        }
        int enc = qp_encode[c];
        /* Is this the last character before a hard break or the end? -1: unknown yet. */
        int last = i + 1 < n ? (p[i + 1] == '\r' || p[i + 1] == '\n') : final ? 1 : -1;
        if (c == ' ' || c == '\t') {
            if (last < 0)
                break;
            if (last)
                enc = 1;
        }
        size_t w = enc ? 3 : 1;
        int soft = 0;
        if (col + w > QP_MAX_LINE - 1) {
            /* A soft-broken line needs room for its '='; the last one on a
             * line may use all 76. */
            if (col + w > QP_MAX_LINE) {
                soft = 1;
            } else {
                if (last < 0)
                    break;
                soft = !last;
            }
        }
        if ((soft || col == 0) && !enc) {
            if (c == '.') {
                enc = 1;
            } else if (c == 'F') {
                int r = qp_from_at(p, i, n, final);
                if (r < 0)
                    break;
                enc = r;
            }
        }
        if (soft) {
            QP_PUT('=');
            QP_PUT('\r');
            QP_PUT('\n');
            col = 0;
        }
        if (enc) {
            QP_PUT('=');
            QP_PUT(hex_upper[c >> 4]);
            QP_PUT(hex_upper[c & 15]);
            col += 3;
        } else {
            QP_PUT(c);
            col++;
        }
        i++;
    }
    e->col = col;
    e->pending_cr = pending_cr;
    *produced += k;
    return i;
}

void mime_qp_enc_init(mime_qp_enc *e) { memset(e, 0, sizeof *e); }

int mime_qp_enc_update(mime_qp_enc *e, const void *data, size_t n, sc_buf *out)
{
    const unsigned char *p = data;
    if (n == 0)
        return 0;
    if (n > ((size_t)-1) / 4 - 64)
        return -1;
    /* At most 3 characters per byte plus a soft break per 24 of them. */
    char *dst = sc_buf_reserve(out, 4 * (n + e->nhold) + 8);
    if (!dst)
        return -1;
    uint64_t produced = 0;
    /* Held bytes first, fed one new byte at a time until they are decided
     * (a few rounds at most), then the rest straight from the input. */
    while (e->nhold > 0 && n > 0) {
        e->hold[e->nhold++] = *p++;
        n--;
        size_t used = qp_run(e, e->hold, e->nhold, 0, dst + produced, &produced);
        memmove(e->hold, e->hold + used, e->nhold - used);
        e->nhold -= used;
    }
    if (n > 0) {
        size_t used = qp_run(e, p, n, 0, dst + produced, &produced);
        memcpy(e->hold, p + used, n - used);   /* at most 4 bytes */
        e->nhold = n - used;
    }
    sc_buf_commit(out, (size_t)produced);
    return 0;
}

int mime_qp_enc_finish(mime_qp_enc *e, sc_buf *out)
{
    /* Five held bytes encode to at most 5 * 3 plus a soft break. */
    char *dst = sc_buf_reserve(out, 4 * sizeof e->hold + 8);
    if (!dst)
        return -1;
    uint64_t produced = 0;
    qp_run(e, e->hold, e->nhold, 1, dst, &produced);
    sc_buf_commit(out, (size_t)produced);
    mime_qp_enc_init(e);
    return 0;
}

uint64_t mime_qp_encoded_size(const void *data, size_t n)
{
    mime_qp_enc e;
    mime_qp_enc_init(&e);
    uint64_t produced = 0;
    qp_run(&e, data, n, 1, NULL, &produced);
    return produced;
}

/* ---- 7bit / 8bit text ---- */

void mime_text_enc_init(mime_text_enc *e)
{
    memset(e, 0, sizeof *e);
    e->at_line_start = 1;
}

int mime_text_enc_update(mime_text_enc *e, const void *data, size_t n, sc_buf *out)
{
    const char *p = data;
    if (n == 0)
        return 0;
    if (n > ((size_t)-1) / 2 - 4)
        return -1;
    /* Worst case every byte is a lone CR or LF and becomes two. */
    char *dst = sc_buf_reserve(out, 2 * n);
    if (!dst)
        return -1;
    char *o = dst;
    size_t i = 0;
    if (e->pending_cr && p[0] == '\n')
        i = 1;   /* the LF of a CRLF whose CR ended the last chunk */
    e->pending_cr = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '\r' && p[j] != '\n')
            j++;
        if (j > i) {
            memcpy(o, p + i, j - i);
            o += j - i;
            e->at_line_start = 0;
        }
        if (j == n)
            break;
        *o++ = '\r';
        *o++ = '\n';
        e->at_line_start = 1;
        if (p[j] == '\r') {
            if (j + 1 == n) {
                e->pending_cr = 1;
                break;
            }
            i = p[j + 1] == '\n' ? j + 2 : j + 1;
        } else {
            i = j + 1;
        }
    }
    sc_buf_commit(out, (size_t)(o - dst));
    return 0;
}

int mime_text_enc_finish(mime_text_enc *e, sc_buf *out)
{
    if (!e->at_line_start && sc_buf_append(out, "\r\n", 2) < 0)
        return -1;
    mime_text_enc_init(e);
    return 0;
}

uint64_t mime_text_encoded_size(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t size = 0;
    int at_line_start = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                i++;
            size += 2;
            at_line_start = 1;
        } else {
            size++;
            at_line_start = 0;
        }
    }
    return size + (at_line_start ? 0 : 2);
}
