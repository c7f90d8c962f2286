/* Header fields as bytes: RFC 5322 folding, RFC 2047 encoded-words, RFC 2231
 * parameters (security notes, "Messages": header injection, unescaped
 * filename quotes).
 *
 * Every function builds the whole field in a private buffer and appends it to
 * the caller's only when it is complete, so a refused value appends nothing.
 *
 * The shape of the output:
 * - A field is a list of tokens, each with the whitespace before it. The
 *   folder puts tokens on lines and folds (CRLF before that whitespace) when a
 *   line would pass 78 octets, so unfolding gives back exactly the unfolded
 *   text. A token is never split; limits on token sizes below keep every line
 *   within 998 octets.
 * - Leading and trailing whitespace of a value carries no meaning in a header
 *   field (readers strip it) and is dropped; whitespace inside is kept
 *   exactly, either as is or inside encoded-words.
 * - Encoded-words are always UTF-8, B or Q per run of text, whichever is
 *   shorter. A run of adjacent words that need encoding becomes one run of
 *   encoded-words with its inner whitespace encoded too, because readers drop
 *   the whitespace between two adjacent encoded-words (RFC 2047 6.2). */
#include "mime/header_encode.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/error.h"

#define LINE_SOFT 78        /* RFC 5322 2.1.1 SHOULD */
#define LINE_HARD 998       /* RFC 5322 2.1.1 MUST */
#define EW_MAX 75           /* RFC 2047 2 */
#define EW_OVERHEAD 12      /* "=?UTF-8?Q?" and "?=" */
#define EW_MIN_FRESH 40     /* below this much room on a fresh line, use whole 75-octet words */
/* A word longer than this, or whitespace longer than WS_MAX between words,
 * cannot be placed plain: it is encoded (text, phrases) or refused (raw).
 * "Name:" (<= 77) + " " + 900 and 64 + 900 both stay under 998. */
#define PLAIN_WORD_MAX 900
#define WS_MAX 64
#define VALUE_MAX 256       /* media type or disposition before the parameters */
#define PARAM_NAME_MAX 40
#define NAME_MAX_LEN 76

/* ------------------------------------------------------------ characters */

static int is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

/* Controls that cannot appear raw in a header: C0 except TAB, and DEL. */
static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

/* RFC 5322 atext. */
static int is_atext(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2045 token character: printable ASCII except SPACE and tspecials. */
static int is_tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 5987 attr-char (a subset of RFC 2231 attribute-char): what goes
 * unescaped in an extended parameter value. */
static int is_attr_char(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Step over one character of text already validated as UTF-8. */
static size_t char_len(const unsigned char *s, size_t n)
{
    size_t l = utf8_seq_len(s, n);
    return l ? l : 1;
}

/* Non-ASCII code points with the Unicode White_Space property: readers may
 * take them for separators in an atom, so a raw UTF-8 phrase with one is
 * quoted. s is a whole, valid sequence of len bytes. */
static int is_unicode_space(const unsigned char *s, size_t len)
{
    unsigned long cp;
    if (len == 2)
        cp = (unsigned long)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    else if (len == 3)
        cp = (unsigned long)(s[0] & 0x0f) << 12 | (unsigned long)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    else
        return 0;
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* What a value must not contain, checked before anything is built. what
 * names the value in the message; the bytes themselves are never echoed. */
static int check_text(const char *what, const unsigned char *s, size_t n, smtpcore_error *err)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '\r' || c == '\n')
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "%s contains a line break (CR or LF), which could start a new header field", what);
        if (c == '\0')
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s contains a NUL byte", what);
        size_t l = utf8_seq_len(s + i, n - i);
        if (!l)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "%s is not valid UTF-8 (at byte %zu)", what, i);
        i += l;
    }
    return 0;
}

static int has_non_ascii(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return 1;
    return 0;
}

static int has_ew_start(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '=' && s[i + 1] == '?')
            return 1;
    return 0;
}

/* Drop leading and trailing whitespace. */
static void trim(const unsigned char **s, size_t *n)
{
    while (*n && is_wsp((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_wsp((*s)[*n - 1]))
        (*n)--;
}

/* Words separated by whitespace in trimmed text: the whitespace before each
 * (empty for the first) and the word. */
typedef struct span {
    size_t ws, wslen, w, wlen;
} span;

static int next_word(const unsigned char *s, size_t n, size_t *pos, span *out)
{
    size_t i = *pos;
    if (i >= n)
        return 0;
    out->ws = i;
    while (i < n && is_wsp(s[i]))
        i++;
    out->wslen = i - out->ws;
    out->w = i;
    while (i < n && !is_wsp(s[i]))
        i++;
    out->wlen = i - out->w;
    *pos = i;
    return 1;
}

static size_t ws_after(const unsigned char *s, size_t n, size_t end)
{
    size_t i = end;
    while (i < n && is_wsp(s[i]))
        i++;
    return i - end;
}

int mime_header_name_ok(const char *name)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7e || c == ':')
            return 0;
    }
    return 1;
}

static int check_name(const char *name, smtpcore_error *err)
{
    if (!mime_header_name_ok(name))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "invalid header field name (1 to 76 printable ASCII characters, no ':' or space)");
    return 0;
}

/* ---------------------------------------------------------------- folder */

typedef struct folder {
    sc_buf *b;
    size_t col;     /* octets on the current line */
    int name_only;  /* the line holds just "Name:" */
    int fresh;      /* just folded: the line holds nothing yet */
    int nofold;     /* one line, no separator before the first token (mime_format_mailbox) */
    int first;
    int oom;
    int too_long;   /* some line passed 998 octets */
} folder;

static void folder_init(folder *f, sc_buf *b, const char *name)
{
    memset(f, 0, sizeof *f);
    f->b = b;
    if (name) {
        if (sc_buf_append_str(b, name) < 0 || sc_buf_append(b, ":", 1) < 0)
            f->oom = 1;
        f->col = strlen(name) + 1;
        f->name_only = 1;
    } else {
        f->nofold = 1;
        f->first = 1;
    }
}

static void put_bytes(folder *f, const void *p, size_t n)
{
    if (sc_buf_append(f->b, p, n) < 0)
        f->oom = 1;
    f->col += n;
}

static void fold_break(folder *f)
{
    if (f->nofold || f->fresh)
        return;
    if (sc_buf_append(f->b, "\r\n", 2) < 0)
        f->oom = 1;
    f->col = 0;
    f->name_only = 0;
    f->fresh = 1;
}

/* Append sep and tok on the current line. */
static void fold_append(folder *f, const char *sep, size_t seplen, const char *tok, size_t toklen)
{
    if (f->first) {
        seplen = 0;
        f->first = 0;
    }
    put_bytes(f, sep, seplen);
    put_bytes(f, tok, toklen);
    if (!f->nofold && f->col > LINE_HARD)
        f->too_long = 1;
    f->name_only = 0;
    f->fresh = 0;
}

/* Whether to fold before a token needing `fresh` octets on a new line (its
 * whitespace included) when it would take the line to `need`. After just the
 * field name, fold only if the token then fits, or if it has to. */
static int fold_wanted(const folder *f, size_t fresh, size_t need)
{
    if (f->nofold || f->fresh || need <= LINE_SOFT)
        return 0;
    if (!f->name_only)
        return 1;
    return fresh <= LINE_SOFT || need > LINE_HARD;
}

/* Place one token; sep is non-empty whitespace (folding goes before it). */
static void fold_put(folder *f, const char *sep, size_t seplen, const char *tok, size_t toklen)
{
    if (fold_wanted(f, seplen + toklen, f->col + seplen + toklen))
        fold_break(f);
    fold_append(f, sep, seplen, tok, toklen);
}

/* -------------------------------------------------------- encoded-words */

typedef enum qset {
    QSET_TEXT,   /* RFC 2047 5(1): unstructured text */
    QSET_PHRASE  /* RFC 2047 5(3): phrases (and the quoted filename fallback) */
} qset;

static int q_literal(unsigned char c, qset qs)
{
    if (qs == QSET_TEXT)
        return c > 0x20 && c < 0x7f && c != '=' && c != '?' && c != '_';
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!*+-/", c) != NULL);
}

static size_t q_cost(unsigned char c, qset qs) { return c == ' ' || q_literal(c, qs) ? 1 : 3; }

/* How many bytes of s (whole characters) one encoded-word of at most cap
 * octets can carry. */
static size_t ew_fit(const unsigned char *s, size_t n, size_t cap, int use_b, qset qs)
{
    if (cap > EW_MAX)
        cap = EW_MAX;
    if (cap <= EW_OVERHEAD)
        return 0;
    size_t room = cap - EW_OVERHEAD, used = 0, i = 0;
    while (i < n) {
        size_t cl = char_len(s + i, n - i);
        if (use_b) {
            if (sc_b64_encoded_len(i + cl) > room)
                break;
        } else {
            size_t cost = 0;
            for (size_t k = 0; k < cl; k++)
                cost += q_cost(s[i + k], qs);
            if (used + cost > room)
                break;
            used += cost;
        }
        i += cl;
    }
    return i;
}

/* Write one encoded-word for s[0..n) to dst (room for EW_MAX + 1); returns its length. */
static size_t ew_write(char *dst, const unsigned char *s, size_t n, int use_b, qset qs)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    memcpy(dst, use_b ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
    o = 10;
    if (use_b)
        o += sc_b64_encode(s, n, dst + o);
    else
        for (size_t i = 0; i < n; i++) {
            unsigned char c = s[i];
            if (c == ' ')
                dst[o++] = '_';
            else if (q_literal(c, qs))
                dst[o++] = (char)c;
            else {
                dst[o++] = '=';
                dst[o++] = hex[c >> 4];
                dst[o++] = hex[c & 15];
            }
        }
    dst[o++] = '?';
    dst[o++] = '=';
    return o;
}

/* Encode a run of text as encoded-words separated by single spaces (which
 * readers drop), starting after sep. prefix goes right before the first word
 * and suffix right after the last (the quoted fallback parameter). */
static void put_ew_run(folder *f, const char *sep, size_t seplen, const unsigned char *s, size_t n, qset qs,
                       const char *prefix, const char *suffix)
{
    size_t qlen = 0;
    for (size_t i = 0; i < n; i++)
        qlen += q_cost(s[i], qs);
    int use_b = sc_b64_encoded_len(n) < qlen;
    size_t plen = strlen(prefix), slen = strlen(suffix);
    char tok[EW_MAX + PARAM_NAME_MAX + 8];
    size_t i = 0;
    int first = 1;
    while (i < n) { /* callers never pass an empty run */
        const char *cur_sep = first ? sep : " ";
        size_t cur_seplen = first ? seplen : 1, cur_plen = first ? plen : 0;
        size_t fixed = cur_seplen + cur_plen + slen, cap, take;
        /* on a new line: what is left of 78, or a whole word if that is too little */
        size_t fresh_cap = fixed + EW_MIN_FRESH <= LINE_SOFT ? LINE_SOFT - fixed : EW_MAX;
        if (f->nofold)
            cap = EW_MAX;
        else if (f->fresh)
            cap = fresh_cap;
        else
            cap = f->col + fixed < LINE_SOFT ? LINE_SOFT - f->col - fixed : 0;
        take = ew_fit(s + i, n - i, cap, use_b, qs);
        if (take < n - i && !f->nofold && !f->fresh) {
            /* Fold when nothing fits here, or when the rest would fit in one
             * word on the next line (not after just the field name, which
             * would leave that line empty). */
            size_t fresh = ew_fit(s + i, n - i, fresh_cap, use_b, qs);
            if (take == 0 || (fresh == n - i && !f->name_only)) {
                fold_break(f);
                take = fresh;
            }
        }
        if (take == 0)
            take = char_len(s + i, n - i); /* unreachable: 75 octets hold any character */
        size_t o = 0;
        memcpy(tok, prefix + (first ? 0 : plen), cur_plen);
        o = cur_plen;
        o += ew_write(tok + o, s + i, take, use_b, qs);
        i += take;
        if (i >= n) {
            memcpy(tok + o, suffix, slen);
            o += slen;
        }
        fold_append(f, cur_sep, cur_seplen, tok, o);
        first = 0;
    }
}

/* ------------------------------------------------------ unstructured text */

/* A word of unstructured text that cannot go as is. */
static int text_word_needs_ew(const unsigned char *s, size_t n, const span *w, int utf8_ok)
{
    if (w->wlen > PLAIN_WORD_MAX || w->wslen > WS_MAX || ws_after(s, n, w->w + w->wlen) > WS_MAX)
        return 1;
    const unsigned char *p = s + w->w;
    for (size_t i = 0; i < w->wlen; i++)
        if (is_ctl(p[i]) || (p[i] >= 0x80 && !utf8_ok))
            return 1;
    return has_ew_start(p, w->wlen);
}

static void put_text(folder *f, const unsigned char *s, size_t n, int utf8_ok)
{
    size_t pos = 0;
    span w;
    int have = next_word(s, n, &pos, &w);
    while (have) {
        const char *sep = w.wslen ? (const char *)s + w.ws : " ";
        size_t seplen = w.wslen ? w.wslen : 1;
        if (!text_word_needs_ew(s, n, &w, utf8_ok)) {
            fold_put(f, sep, seplen, (const char *)s + w.w, w.wlen);
            have = next_word(s, n, &pos, &w);
            continue;
        }
        size_t start = w.w, end = w.w + w.wlen;
        while ((have = next_word(s, n, &pos, &w)) && text_word_needs_ew(s, n, &w, utf8_ok))
            end = w.w + w.wlen;
        put_ew_run(f, sep, seplen, s + start, end - start, QSET_TEXT, "", "");
    }
}

/* Move a finished field into out, or report why it cannot be sent. */
static int finish(folder *f, sc_buf *out, const char *name, smtpcore_error *err)
{
    if (!f->nofold && sc_buf_append(f->b, "\r\n", 2) < 0)
        f->oom = 1;
    if (f->oom)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory building the %s header", name);
    if (f->too_long)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "the %s header has a word too long to fold within 998 octets", name);
    if (sc_buf_append(out, sc_buf_ptr(f->b), sc_buf_size(f->b)) < 0)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory building the %s header", name);
    return 0;
}

int mime_header_unstructured(sc_buf *out, const char *name, const char *value, size_t len, int utf8_ok,
                             smtpcore_error *err)
{
    if (check_name(name, err) < 0)
        return -1;
    if (!value && len)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no value for the %s header", name);
    char what[NAME_MAX_LEN + 32];
    snprintf(what, sizeof what, "the %s header", name);
    const unsigned char *s = (const unsigned char *)(value ? value : "");
    if (check_text(what, s, len, err) < 0)
        return -1;
    trim(&s, &len);
    sc_buf tmp;
    sc_buf_init(&tmp);
    folder f;
    folder_init(&f, &tmp, name);
    put_text(&f, s, len, utf8_ok);
    int rc = finish(&f, out, name, err);
    sc_buf_free(&tmp);
    return rc;
}

/* ------------------------------------------------------------------- raw */

int mime_header_raw(sc_buf *out, const char *name, const char *value, smtpcore_error *err)
{
    if (check_name(name, err) < 0)
        return -1;
    if (!value)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no value for the %s header", name);
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "the %s header contains a line break (CR or LF), which could start a new header field",
                              name);
        if (is_ctl(s[i]))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the %s header contains a control character",
                              name);
        if (s[i] >= 0x80)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "the %s header is structured and must be ASCII", name);
    }
    trim(&s, &n);
    sc_buf tmp;
    sc_buf_init(&tmp);
    folder f;
    folder_init(&f, &tmp, name);
    size_t pos = 0;
    span w;
    while (next_word(s, n, &pos, &w))
        fold_put(&f, w.wslen ? (const char *)s + w.ws : " ", w.wslen ? w.wslen : 1, (const char *)s + w.w, w.wlen);
    int rc = finish(&f, out, name, err);
    sc_buf_free(&tmp);
    return rc;
}

/* -------------------------------------------------------------- mailboxes */

typedef enum phrase_kind { PHRASE_ATOMS, PHRASE_QUOTED, PHRASE_ENCODED } phrase_kind;

static size_t quoted_len(const unsigned char *s, size_t n)
{
    size_t l = n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\')
            l++;
    return l;
}

/* Atoms when the phrase is atext words separated by single spaces; a
 * quoted-string when it is printable (quoted-strings keep whitespace
 * exactly); otherwise, or when it would read as an encoded-word, the whole
 * phrase as encoded-words (RFC 2047 5(3): whole words, never inside quotes). */
static phrase_kind phrase_kind_of(const unsigned char *s, size_t n, int utf8_ok)
{
    int atoms = 1;
    for (size_t i = 0; i < n; i += char_len(s + i, n - i)) {
        unsigned char c = s[i];
        if (is_ctl(c) || (c >= 0x80 && !utf8_ok))
            return PHRASE_ENCODED;
        if (c == ' ') {
            if (i + 1 < n && is_wsp(s[i + 1]))
                atoms = 0;
        } else if (c < 0x80 ? !is_atext(c) : is_unicode_space(s + i, char_len(s + i, n - i)))
            atoms = 0;
    }
    if (has_ew_start(s, n))
        return PHRASE_ENCODED;
    size_t pos = 0;
    span w;
    while (next_word(s, n, &pos, &w))
        if (w.wslen > WS_MAX || quoted_len(s + w.w, w.wlen) + 3 > PLAIN_WORD_MAX)
            return PHRASE_ENCODED;
    return atoms ? PHRASE_ATOMS : PHRASE_QUOTED;
}

static void put_phrase(folder *f, const char *sep, size_t seplen, const unsigned char *s, size_t n, int utf8_ok,
                       sc_buf *scratch)
{
    phrase_kind k = phrase_kind_of(s, n, utf8_ok);
    if (k == PHRASE_ENCODED) {
        put_ew_run(f, sep, seplen, s, n, QSET_PHRASE, "", "");
        return;
    }
    size_t pos = 0;
    span w;
    int first = 1;
    while (next_word(s, n, &pos, &w)) {
        const char *cur_sep = first ? sep : (const char *)s + w.ws;
        size_t cur_seplen = first ? seplen : w.wslen;
        if (k == PHRASE_ATOMS) {
            fold_put(f, cur_sep, cur_seplen, (const char *)s + w.w, w.wlen);
        } else {
            /* A quoted-string may be folded at its inner whitespace
             * (RFC 5322 3.2.4: the CRLF is not part of it). */
            sc_buf_reset(scratch);
            if (first && sc_buf_append(scratch, "\"", 1) < 0)
                f->oom = 1;
            for (size_t i = 0; i < w.wlen; i++) {
                unsigned char c = s[w.w + i];
                if ((c == '"' || c == '\\') && sc_buf_append(scratch, "\\", 1) < 0)
                    f->oom = 1;
                if (sc_buf_append(scratch, &c, 1) < 0)
                    f->oom = 1;
            }
            if (w.w + w.wlen == n && sc_buf_append(scratch, "\"", 1) < 0)
                f->oom = 1;
            fold_put(f, cur_sep, cur_seplen, sc_buf_ptr(scratch), sc_buf_size(scratch));
        }
        first = 0;
    }
}

/* An addr-spec as the address code produces it: dot-atom or quoted local
 * part, '@', dot-atom domain or domain literal; UTF-8 only with SMTPUTF8.
 * Checked so that nothing in it can end the mailbox or the field early. */
static int addr_spec_ok(const unsigned char *a, size_t n, int utf8_ok)
{
    size_t i = 0;
    if (n == 0 || n > PLAIN_WORD_MAX - 3)
        return 0;
    for (size_t k = 0; k < n; k += char_len(a + k, n - k))
        if (!utf8_seq_len(a + k, n - k) || (a[k] >= 0x80 && !utf8_ok) || is_ctl(a[k]) || a[k] == '\t')
            return 0;
    if (a[0] == '"') {
        for (i = 1; i < n && a[i] != '"'; i++)
            if (a[i] == '\\' && ++i >= n)
                return 0;
        if (i >= n)
            return 0;
        i++;
    } else {
        while (i < n && (is_atext(a[i]) || a[i] == '.' || a[i] >= 0x80))
            i++;
        if (i == 0)
            return 0;
    }
    if (i >= n || a[i] != '@')
        return 0;
    i++;
    if (i < n && a[i] == '[') {
        for (i++; i < n && a[i] != ']'; i++)
            if (a[i] == '[' || a[i] == '\\' || a[i] == ' ')
                return 0;
        return i + 1 == n;
    }
    size_t start = i;
    while (i < n && (is_atext(a[i]) || a[i] == '.' || a[i] >= 0x80))
        i++;
    return i == n && i > start;
}

static int check_mailbox(const char *field, const char *display_name, const char *addr_spec, int utf8_ok,
                         smtpcore_error *err)
{
    if (!addr_spec)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s: a mailbox has no address", field);
    char what[NAME_MAX_LEN + 48];
    snprintf(what, sizeof what, "a display name in %s", field);
    if (display_name && check_text(what, (const unsigned char *)display_name, strlen(display_name), err) < 0)
        return -1;
    const unsigned char *a = (const unsigned char *)addr_spec;
    size_t n = strlen(addr_spec);
    snprintf(what, sizeof what, "an address in %s", field);
    if (check_text(what, a, n, err) < 0)
        return -1;
    if (!addr_spec_ok(a, n, utf8_ok))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          has_non_ascii(a, n) && !utf8_ok
                              ? "%s: an address has non-ASCII characters and the server lacks SMTPUTF8"
                              : "%s: an address is not a valid addr-spec",
                          field);
    return 0;
}

/* A mailbox as tokens: phrase then "<addr>", or the bare addr-spec; suffix
 * (",") closes the last token. */
static void put_mailbox(folder *f, const char *display_name, const char *addr_spec, int utf8_ok, const char *suffix,
                        sc_buf *scratch)
{
    const unsigned char *dn = (const unsigned char *)(display_name ? display_name : "");
    size_t dnlen = strlen((const char *)dn);
    trim(&dn, &dnlen);
    sc_buf_reset(scratch);
    if (dnlen) {
        put_phrase(f, " ", 1, dn, dnlen, utf8_ok, scratch);
        sc_buf_reset(scratch);
        if (sc_buf_append(scratch, "<", 1) < 0 || sc_buf_append_str(scratch, addr_spec) < 0 ||
            sc_buf_append(scratch, ">", 1) < 0)
            f->oom = 1;
    } else if (sc_buf_append_str(scratch, addr_spec) < 0)
        f->oom = 1;
    if (sc_buf_append_str(scratch, suffix) < 0)
        f->oom = 1;
    fold_put(f, " ", 1, sc_buf_ptr(scratch), sc_buf_size(scratch));
}

int mime_format_mailbox(sc_buf *out, const char *display_name, const char *addr_spec, int utf8_ok,
                        smtpcore_error *err)
{
    if (check_mailbox("the mailbox", display_name, addr_spec, utf8_ok, err) < 0)
        return -1;
    sc_buf tmp, scratch;
    sc_buf_init(&tmp);
    sc_buf_init(&scratch);
    folder f;
    folder_init(&f, &tmp, NULL);
    put_mailbox(&f, display_name, addr_spec, utf8_ok, "", &scratch);
    int rc = finish(&f, out, "mailbox", err);
    sc_buf_free(&tmp);
    sc_buf_free(&scratch);
    return rc;
}

int mime_header_address_list(sc_buf *out, const char *name, const mime_addr_item *items, size_t n, int utf8_ok,
                             smtpcore_error *err)
{
    if (check_name(name, err) < 0)
        return -1;
    if (n == 0 || !items)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the %s header needs at least one address", name);
    for (size_t i = 0; i < n; i++)
        if (check_mailbox(name, items[i].display_name, items[i].addr_spec, utf8_ok, err) < 0)
            return -1;
    sc_buf tmp, scratch, flat;
    sc_buf_init(&tmp);
    sc_buf_init(&scratch);
    sc_buf_init(&flat);
    folder f;
    folder_init(&f, &tmp, name);
    for (size_t i = 0; i < n; i++) {
        const char *suffix = i + 1 < n ? "," : "";
        if (i > 0) {
            /* Fold between mailboxes rather than inside one when the whole
             * mailbox fits on the next line. */
            folder g;
            sc_buf_reset(&flat);
            folder_init(&g, &flat, NULL);
            put_mailbox(&g, items[i].display_name, items[i].addr_spec, utf8_ok, suffix, &scratch);
            if (g.oom)
                f.oom = 1;
            if (fold_wanted(&f, 1 + sc_buf_size(&flat), f.col + 1 + sc_buf_size(&flat)))
                fold_break(&f);
        }
        put_mailbox(&f, items[i].display_name, items[i].addr_spec, utf8_ok, suffix, &scratch);
    }
    int rc = finish(&f, out, name, err);
    sc_buf_free(&tmp);
    sc_buf_free(&scratch);
    sc_buf_free(&flat);
    return rc;
}

/* ------------------------------------------------------------ parameters */

typedef enum param_kind { PARAM_TOKEN, PARAM_QUOTED, PARAM_EXTENDED } param_kind;

/* Token or quoted-string when the value can go that way on one line;
 * RFC 2231 extended otherwise: non-ASCII without SMTPUTF8, controls, a value
 * that would read as an encoded-word (readers decode those even inside
 * quotes), or one too long for a line. */
static param_kind param_kind_of(const char *pname, const unsigned char *v, size_t n, int utf8_ok)
{
    int token = n > 0;
    for (size_t i = 0; i < n; i++) {
        if (is_ctl(v[i]) || v[i] == '\t' || (v[i] >= 0x80 && !utf8_ok))
            return PARAM_EXTENDED;
        if (!is_tchar(v[i]))
            token = 0;
    }
    if (has_ew_start(v, n) || strlen(pname) + 4 + quoted_len(v, n) > PLAIN_WORD_MAX)
        return PARAM_EXTENDED;
    return token ? PARAM_TOKEN : PARAM_QUOTED;
}

static void put_extended(folder *f, const char *pname, const unsigned char *v, size_t n, const char *suffix,
                         sc_buf *scratch)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pct = 0;
    for (size_t i = 0; i < n; i++)
        pct += is_attr_char(v[i]) ? 1 : 3;
    size_t pnlen = strlen(pname);
    int single = 1 + pnlen + 2 + 7 + pct + strlen(suffix) <= LINE_SOFT; /* " name*=UTF-8''...;" */
    size_t i = 0;
    for (unsigned seg = 0; i < n || seg == 0; seg++) {
        char head[PARAM_NAME_MAX + 32];
        int hl = single ? snprintf(head, sizeof head, "%s*=UTF-8''", pname)
                        : snprintf(head, sizeof head, seg ? "%s*%u*=" : "%s*%u*=UTF-8''", pname, seg);
        /* room for at least one 4-byte character, however long the name */
        size_t fixed = 1 + (size_t)hl + 1, budget = fixed + 12 <= LINE_SOFT ? LINE_SOFT - fixed : 12;
        sc_buf_reset(scratch);
        if (sc_buf_append(scratch, head, (size_t)hl) < 0)
            f->oom = 1;
        size_t used = 0;
        while (i < n) {
            size_t cl = char_len(v + i, n - i), cost = 0;
            for (size_t k = 0; k < cl; k++)
                cost += is_attr_char(v[i + k]) ? 1 : 3;
            if (!single && used + cost > budget)
                break;
            for (size_t k = 0; k < cl; k++) {
                unsigned char c = v[i + k];
                char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                if (sc_buf_append(scratch, is_attr_char(c) ? (const char *)&c : e, is_attr_char(c) ? 1 : 3) < 0)
                    f->oom = 1;
            }
            used += cost;
            i += cl;
        }
        if (i >= n && sc_buf_append_str(scratch, suffix) < 0)
            f->oom = 1; /* two appends that fail the same way. NOLINT(bugprone-branch-clone) */
        else if (i < n && sc_buf_append(scratch, ";", 1) < 0)
            f->oom = 1;
        fold_put(f, " ", 1, sc_buf_ptr(scratch), sc_buf_size(scratch));
    }
}

static void put_param(folder *f, const mime_param *p, int utf8_ok, const char *suffix, sc_buf *scratch)
{
    const unsigned char *v = (const unsigned char *)p->value;
    size_t n = strlen(p->value);
    param_kind k = param_kind_of(p->name, v, n, utf8_ok);
    if (k == PARAM_EXTENDED) {
        /* Outlook-style fallback for readers without RFC 2231, first so that
         * readers that keep the first of two same-named parameters still get
         * the whole name (RFC 2231 readers prefer the extended one). */
        if (!strcasecmp(p->name, "filename") || !strcasecmp(p->name, "name")) {
            char prefix[PARAM_NAME_MAX + 3];
            snprintf(prefix, sizeof prefix, "%s=\"", p->name);
            put_ew_run(f, " ", 1, v, n, QSET_PHRASE, prefix, "\";");
        }
        put_extended(f, p->name, v, n, suffix, scratch);
        return;
    }
    sc_buf_reset(scratch);
    if (sc_buf_append_str(scratch, p->name) < 0 || sc_buf_append(scratch, "=", 1) < 0)
        f->oom = 1;
    if (k == PARAM_TOKEN) {
        if (sc_buf_append(scratch, v, n) < 0)
            f->oom = 1;
    } else {
        if (sc_buf_append(scratch, "\"", 1) < 0)
            f->oom = 1;
        for (size_t i = 0; i < n; i++) {
            if ((v[i] == '"' || v[i] == '\\') && sc_buf_append(scratch, "\\", 1) < 0)
                f->oom = 1;
            if (sc_buf_append(scratch, v + i, 1) < 0)
                f->oom = 1;
        }
        if (sc_buf_append(scratch, "\"", 1) < 0)
            f->oom = 1;
    }
    if (sc_buf_append_str(scratch, suffix) < 0)
        f->oom = 1;
    fold_put(f, " ", 1, sc_buf_ptr(scratch), sc_buf_size(scratch));
}

static int param_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PARAM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]) || s[i] == '*' || s[i] == '\'' || s[i] == '%')
            return 0;
    return 1;
}

int mime_header_with_params(sc_buf *out, const char *name, const char *value, const mime_param *params, size_t n,
                            int utf8_ok, smtpcore_error *err)
{
    if (check_name(name, err) < 0)
        return -1;
    size_t vlen = value ? strlen(value) : 0;
    int value_ok = vlen > 0 && vlen <= VALUE_MAX;
    for (size_t i = 0; value_ok && i < vlen; i++)
        if (!is_tchar((unsigned char)value[i]) && value[i] != '/')
            value_ok = 0;
    if (!value_ok)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "the %s value must be a MIME token or type/subtype", name);
    if (n && !params)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no parameters for the %s header", name);
    char what[NAME_MAX_LEN + PARAM_NAME_MAX + 48];
    for (size_t i = 0; i < n; i++) {
        if (!params[i].name || !param_name_ok(params[i].name))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the %s header has an invalid parameter name",
                              name);
        if (!params[i].value)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the %s parameter of the %s header has no value",
                              params[i].name, name);
        snprintf(what, sizeof what, "the %s parameter of the %s header", params[i].name, name);
        if (check_text(what, (const unsigned char *)params[i].value, strlen(params[i].value), err) < 0)
            return -1;
    }
    sc_buf tmp, scratch;
    sc_buf_init(&tmp);
    sc_buf_init(&scratch);
    folder f;
    folder_init(&f, &tmp, name);
    if (sc_buf_append_str(&scratch, value) < 0 || (n && sc_buf_append(&scratch, ";", 1) < 0))
        f.oom = 1;
    fold_put(&f, " ", 1, sc_buf_ptr(&scratch), sc_buf_size(&scratch));
    for (size_t i = 0; i < n; i++)
        put_param(&f, &params[i], utf8_ok, i + 1 < n ? ";" : "", &scratch);
    int rc = finish(&f, out, name, err);
    sc_buf_free(&tmp);
    sc_buf_free(&scratch);
    return rc;
}
