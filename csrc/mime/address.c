/* RFC 5322 section 3.4 addresses with RFC 6532 UTF-8, strictly.
 *
 * What is accepted is unambiguous: every input we take means the same
 * mailbox to any conforming parser, so the envelope we derive from it is the
 * address a reader of the header sees (Python CVE-2023-27043 and nodemailer
 * CVE-2025-13033 were parsers that disagreed with the RFC on inputs like
 * "a@b)<c@d>" or "\"x@y z\"@w"). So besides the grammar we refuse:
 *   - CR, LF, NUL, other controls, U+2028/U+2029 and invalid UTF-8 anywhere
 *     (folded input, CRLF followed by WSP, is refused too: callers give us
 *     values, not header lines);
 *   - obsolete syntax: source routes, obs-local-part (CFWS or quoted strings
 *     between dots), CFWS next to the '@', nested groups;
 *   - anything after a complete address but ',' (lists), ';' (groups) or CFWS;
 *   - local parts that look like RFC 2047 encoded-words ("Splitting the
 *     email atom": some parsers decode them, RFC 2047 section 5 forbids them);
 *   - domains whose UTS 46 mapping changes the number of labels or leaves
 *     anything but letters, digits and hyphens in the A-label form.
 *
 * Outputs are canonical: the local part with the minimum quoting (RFC 5321
 * 4.1.2), the domain lowercased, domain_ascii in A-labels and domain in
 * U-labels (NFC), the display name decoded. */
#include "mime/address.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/error.h"

#define LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define LABEL_MAX 63   /* RFC 1035 2.3.4 */
#define DOMAIN_MAX 253 /* RFC 1035 without the root's dot */
#define ADDR_MAX 254   /* RFC 5321 4.5.3.1.3: a path is 256 octets with its brackets */
#define ECHO_MAX 60    /* input quoted in an error message */
#define WORD_BUF (4 * ECHO_MAX + 8) /* room for an echo_word() */
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

/* ------------------------------------------------------------ characters */

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext (RFC 5322 3.2.3), or any byte of a UTF-8 sequence (RFC 6532 3.2). */
static int is_atext(unsigned char c)
{
    if (c >= 0x80 || is_alnum(c))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

/* Length of the UTF-8 sequence that starts with c; only used on text that
 * text_check() has passed, so c is a lead byte of a complete sequence. */
static size_t char_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/* One strictly valid UTF-8 character (no overlongs, surrogates or code
 * points past U+10FFFF): its length, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    unsigned long v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        need = 1, v = c & 0x1F;
    else if (c == 0xE0)
        need = 2, v = c & 0x0F, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        need = 2, v = c & 0x0F;
    else if (c == 0xED)
        need = 2, v = c & 0x0F, hi = 0x9F;
    else if (c == 0xF0)
        need = 3, v = c & 0x07, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        need = 3, v = c & 0x07;
    else if (c == 0xF4)
        need = 3, v = c & 0x07, hi = 0x8F;
    else
        return 0;
    if (n <= need || s[1] < lo || s[1] > hi)
        return 0;
    v = v << 6 | (s[1] & 0x3Fu);
    for (size_t k = 2; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3Fu);
    }
    *cp = v;
    return need + 1;
}

enum text_problem { TEXT_OK, TEXT_NUL, TEXT_CR, TEXT_LF, TEXT_CTL, TEXT_LINESEP, TEXT_UTF8 };

/* The first character of s[0..n) that may not be in an address or a display
 * name: NUL, CR, LF, other C0 controls (TAB only if tab_ok), DEL, C1
 * controls, U+2028/U+2029 (line breaks to some header code), bad UTF-8. */
static enum text_problem text_check(const char *s, size_t n, int tab_ok, size_t *at, unsigned long *cp)
{
    size_t i = 0;
    while (i < n) {
        unsigned long c;
        size_t l = utf8_decode((const unsigned char *)s + i, n - i, &c);
        *at = i;
        *cp = l ? c : (unsigned char)s[i];
        if (!l)
            return TEXT_UTF8;
        if (c == 0)
            return TEXT_NUL;
        if (c == '\r')
            return TEXT_CR;
        if (c == '\n')
            return TEXT_LF;
        if ((c < 0x20 && !(c == '\t' && tab_ok)) || (c >= 0x7F && c <= 0x9F))
            return TEXT_CTL;
        if (c == 0x2028 || c == 0x2029)
            return TEXT_LINESEP;
        i += l;
    }
    return TEXT_OK;
}

static const char *text_problem_name(enum text_problem p)
{
    switch (p) {
    case TEXT_NUL: return "a NUL byte";
    case TEXT_CR: return "a line break (CR)";
    case TEXT_LF: return "a line break (LF)";
    case TEXT_CTL: return "a control character";
    case TEXT_LINESEP: return "a line or paragraph separator";
    case TEXT_UTF8: return "invalid UTF-8";
    default: return "nothing wrong";
    }
}

/* ------------------------------------------------------------ messages */

/* Longest prefix (keep_tail 0) or suffix of s[0..n) of at most ECHO_MAX
 * bytes that starts and ends on character boundaries. */
static void echo_window(const char *s, size_t n, int keep_tail, size_t *from, size_t *to, int *cut)
{
    *from = 0;
    *to = n;
    *cut = n > ECHO_MAX;
    if (!*cut)
        return;
    if (keep_tail) {
        *from = n - ECHO_MAX;
        while (*from < n && ((unsigned char)s[*from] & 0xC0) == 0x80)
            (*from)++;
    } else {
        *to = ECHO_MAX;
        while (*to > 0 && ((unsigned char)s[*to] & 0xC0) == 0x80)
            (*to)--;
    }
}

/* Quote input for a message: shortened, and any control character left
 * (only TAB passes text_check) written as \xHH so messages never carry one. */
static int echo(sc_buf *b, const char *s, size_t n, int keep_tail)
{
    size_t from, to;
    int cut;
    echo_window(s, n, keep_tail, &from, &to, &cut);
    if (cut && keep_tail && sc_buf_append_str(b, "...") < 0)
        return -1;
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)s[i];
        int r = (c < 0x20 || c == 0x7F) ? sc_buf_printf(b, "\\x%02X", c) : sc_buf_append(b, &c, 1);
        if (r < 0)
            return -1;
    }
    if (cut && !keep_tail && sc_buf_append_str(b, "...") < 0)
        return -1;
    return 0;
}

/* echo() into a fixed buffer, for a word inside a message. */
static const char *echo_word(char *dst, size_t cap, const char *s, size_t n)
{
    sc_buf b;
    sc_buf_init(&b);
    if (echo(&b, s, n, 0) < 0 || sc_buf_append(&b, "", 1) < 0)
        snprintf(dst, cap, "?");
    else
        snprintf(dst, cap, "%s", sc_buf_ptr(&b));
    sc_buf_free(&b);
    return dst;
}

typedef struct parser {
    const char *s;
    size_t n;
    size_t i;
    size_t elem; /* start of the address being parsed, quoted in messages */
    smtpcore_error *err;
} parser;

enum { SHOW_ELEMENT, SHOW_BEFORE };

/* "invalid address: <what> in '<the address>'" (SHOW_ELEMENT), or
 * "... after '<the address up to pos>'" (SHOW_BEFORE). Returns -1. */
static int fail_at(parser *P, int show, size_t pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_at(parser *P, int show, size_t pos, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    sc_buf b;
    sc_buf_init(&b);
    int r = sc_buf_printf(&b, "invalid address: %s", what);
    if (show == SHOW_BEFORE && pos > P->elem) {
        if (r == 0)
            r = sc_buf_append_str(&b, " after '");
        if (r == 0)
            r = echo(&b, P->s + P->elem, pos - P->elem, 1);
        if (r == 0)
            r = sc_buf_append_str(&b, "'");
    } else if (show == SHOW_BEFORE) {
        if (r == 0)
            r = sc_buf_append_str(&b, " at the start");
    } else if (P->n > P->elem) {
        if (r == 0)
            r = sc_buf_append_str(&b, " in '");
        if (r == 0)
            r = echo(&b, P->s + P->elem, P->n - P->elem, 0);
        if (r == 0)
            r = sc_buf_append_str(&b, "'");
    }
    if (r == 0)
        r = sc_buf_append(&b, "", 1);
    sc_err_set(P->err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "%s", r == 0 ? sc_buf_ptr(&b) : what);
    sc_buf_free(&b);
    return -1;
}

#define fail(P, ...) fail_at((P), SHOW_ELEMENT, 0, __VA_ARGS__)

static int oom(smtpcore_error *err) { return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory"); }

/* ------------------------------------------------------------ lexing */

static unsigned char cur(const parser *P) { return P->i < P->n ? (unsigned char)P->s[P->i] : 0; }

enum { CFWS_WS = 1, CFWS_COMMENT = 2 };

/* Skip whitespace and (nested) comments; *seen gets CFWS_* bits. */
static int skip_cfws(parser *P, int *seen)
{
    int f = 0;
    while (P->i < P->n) {
        unsigned char c = (unsigned char)P->s[P->i];
        if (is_wsp(c)) {
            f |= CFWS_WS;
            P->i++;
            continue;
        }
        if (c != '(')
            break;
        size_t depth = 0; /* a counter, not recursion: nesting depth costs nothing */
        do {
            if (P->i >= P->n)
                return fail_at(P, SHOW_BEFORE, P->n, "unbalanced '(': comment not closed");
            c = (unsigned char)P->s[P->i];
            if (c == '\\') {
                if (++P->i >= P->n)
                    return fail_at(P, SHOW_BEFORE, P->n, "unbalanced '(': comment not closed");
                c = (unsigned char)P->s[P->i];
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
            P->i += char_len(c);
        } while (depth > 0);
        f |= CFWS_COMMENT;
    }
    if (seen)
        *seen = f;
    return 0;
}

/* P->s[P->i] is '"': set *end just past the closing quote. */
static int scan_qstring(parser *P, size_t *end)
{
    size_t j = P->i + 1;
    while (j < P->n) {
        unsigned char c = (unsigned char)P->s[j];
        if (c == '"') {
            *end = j + 1;
            return 0;
        }
        if (c == '\\' && ++j >= P->n)
            break;
        j += char_len((unsigned char)P->s[j]);
    }
    return fail_at(P, SHOW_BEFORE, P->n, "unterminated quoted string (missing '\"')");
}

/* The content of the quoted string s[a..b) (quotes included), unescaped. */
static int unquote(const char *s, size_t a, size_t b, sc_buf *out)
{
    for (size_t j = a + 1; j + 1 < b;) {
        if (s[j] == '\\')
            j++;
        size_t l = char_len((unsigned char)s[j]);
        if (sc_buf_append(out, s + j, l) < 0)
            return -1;
        j += l;
    }
    return 0;
}

static int is_dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !is_atext(c))
            return 0;
    }
    return 1;
}

enum word_type { W_ATOM, W_QSTR, W_DOT };

typedef struct word {
    size_t a, b;     /* s[a..b) */
    int type;
    int cfws_before; /* CFWS_* bits between this word and the previous one */
} word;

typedef struct words {
    word *v;
    size_t n, cap;
} words;

static int words_push(words *W, size_t a, size_t b, int type, int cfws)
{
    if (W->n == W->cap) {
        size_t cap = W->cap ? W->cap * 2 : 8;
        word *v = realloc(W->v, cap * sizeof *v);
        if (!v)
            return -1;
        W->v = v;
        W->cap = cap;
    }
    W->v[W->n++] = (word){a, b, type, cfws};
    return 0;
}

/* The words of a phrase (atoms, quoted strings and the obs-phrase '.'), up
 * to the first character that cannot be in one; *trail gets the CFWS bits
 * after the last word. The caller has skipped leading CFWS. */
static int lex_phrase(parser *P, words *W, int *trail)
{
    int f = 0;
    for (;;) {
        unsigned char c = cur(P);
        size_t a = P->i, b;
        int type;
        if (c == '"') {
            if (scan_qstring(P, &b) < 0)
                return -1;
            type = W_QSTR;
        } else if (c == '.') {
            b = a + 1;
            type = W_DOT;
        } else if (c && is_atext(c)) {
            for (b = a; b < P->n && is_atext((unsigned char)P->s[b]); b++)
                ;
            type = W_ATOM;
        } else {
            break;
        }
        /* b is set whenever scan_qstring returns 0; the analyzer does not inline the variadic fail_at(), which always
         * returns -1. NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
        if (words_push(W, a, b, type, f) < 0)
            return oom(P->err);
        P->i = b;
        if (skip_cfws(P, &f) < 0)
            return -1;
    }
    *trail = f;
    return 0;
}

/* ------------------------------------------------------------ RFC 2047 */

enum charset { CS_UNKNOWN, CS_UTF8, CS_ASCII, CS_LATIN1 };

static enum charset charset_of(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum charset cs;
    } names[] = {
        {"utf-8", CS_UTF8},          {"utf8", CS_UTF8},           {"us-ascii", CS_ASCII},
        {"ascii", CS_ASCII},         {"iso-8859-1", CS_LATIN1},   {"iso8859-1", CS_LATIN1},
        {"iso_8859-1", CS_LATIN1},   {"latin1", CS_LATIN1},       {"latin-1", CS_LATIN1},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k].name) == n && strncasecmp(names[k].name, s, n) == 0)
            return names[k].cs;
    return CS_UNKNOWN;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* If t[0..L) is an encoded-word "=?charset[*lang]?B|Q?text?=" in a charset
 * we know, append its text as UTF-8 and return 1. Return 0 if it is not an
 * encoded-word, 2 if it is one in a charset we don't know (kept as written),
 * -1 with the error set if it is one but broken (bad base64 or hex, bytes
 * invalid in the charset, controls). */
static int ew_decode(parser *P, const char *t, size_t L, sc_buf *out)
{
    char shown[WORD_BUF];
    if (L < 9 || t[0] != '=' || t[1] != '?' || t[L - 2] != '?' || t[L - 1] != '=')
        return 0;
    const char *q1 = memchr(t + 2, '?', L - 4);
    if (!q1 || q1 == t + 2)
        return 0;
    const char *end = t + L - 2; /* the final '?' */
    if (end - q1 < 4 || q1[2] != '?')
        return 0;
    char enc = q1[1];
    const char *text = q1 + 3;
    size_t text_len = (size_t)(end - text);
    if (memchr(text, '?', text_len) || !enc || !strchr("BbQq", enc))
        return 0;
    const char *star = memchr(t + 2, '*', (size_t)(q1 - (t + 2))); /* RFC 2231 language */
    enum charset cs = charset_of(t + 2, (size_t)((star ? star : q1) - (t + 2)));
    if (cs == CS_UNKNOWN)
        return 2;

    unsigned char *raw = malloc(text_len + 3);
    if (!raw)
        return oom(P->err);
    size_t n = 0;
    const char *bad = NULL;
    if (enc == 'B' || enc == 'b') {
        long r = sc_b64_decode(text, text_len, raw);
        if (r < 0)
            bad = "is not valid base64";
        else
            n = (size_t)r;
    } else {
        for (size_t k = 0; k < text_len && !bad; k++) {
            unsigned char c = (unsigned char)text[k];
            if (c == '_') {
                raw[n++] = ' ';
            } else if (c == '=') {
                int hi = k + 2 < text_len ? hex_value((unsigned char)text[k + 1]) : -1;
                int lo = hi >= 0 ? hex_value((unsigned char)text[k + 2]) : -1;
                if (lo < 0)
                    bad = "has a bad '=XX' escape";
                raw[n++] = (unsigned char)(hi * 16 + lo);
                k += 2;
            } else if (c >= 0x80) {
                bad = "has a non-ASCII character";
            } else {
                raw[n++] = c;
            }
        }
    }
    if (!bad && cs == CS_ASCII) {
        for (size_t k = 0; k < n; k++)
            if (raw[k] >= 0x80)
                bad = "has 8-bit bytes in US-ASCII";
    }
    if (bad) {
        free(raw);
        return fail(P, "encoded-word '%s' in the display name %s", echo_word(shown, sizeof shown, t, L), bad);
    }

    size_t start = sc_buf_size(out);
    int r = 0;
    if (cs == CS_LATIN1) {
        for (size_t k = 0; k < n && r == 0; k++) {
            unsigned char u[2] = {(unsigned char)(0xC0 | raw[k] >> 6), (unsigned char)(0x80 | (raw[k] & 0x3F))};
            r = raw[k] < 0x80 ? sc_buf_append(out, raw + k, 1) : sc_buf_append(out, u, 2);
        }
    } else {
        r = sc_buf_append(out, raw, n);
    }
    free(raw);
    if (r < 0)
        return oom(P->err);
    size_t at;
    unsigned long cp;
    enum text_problem p = text_check(sc_buf_ptr(out) + start, sc_buf_size(out) - start, 0, &at, &cp);
    if (p != TEXT_OK) {
        if (p == TEXT_UTF8)
            return fail(P, "encoded-word '%s' in the display name decodes to invalid UTF-8",
                        echo_word(shown, sizeof shown, t, L));
        return fail(P, "encoded-word '%s' in the display name decodes to %s (U+%04lX)",
                    echo_word(shown, sizeof shown, t, L), text_problem_name(p), cp);
    }
    return 1;
}

/* The display name from words[0..n): words joined by one space where CFWS
 * separated them (RFC 5322 3.2.2), quoted strings unescaped, encoded-words
 * decoded, whitespace between two encoded-words dropped (RFC 2047 6.2).
 *
 * Decoding works on runs: words with no CFWS between them. A run that is
 * exactly an encoded-word is decoded, dots included ("=?UTF-8?Q?J._Smith?="
 * is "J. Smith" to Python and mail readers, though RFC 2047 5(3) has no '.'
 * there). A run with "=?" anywhere else outside quotes ("x=?..?=",
 * "=?..?=.b", "=?..?=\"q\"") is refused: RFC 2047 5(3) says such a word is
 * not an encoded-word, Python decodes it, so readers would disagree.
 * Encoded-words inside quoted strings stay as written (RFC 2047 5(3)). */
static int build_display_name(parser *P, const words *W, char **out)
{
    sc_buf b, dec;
    sc_buf_init(&b);
    sc_buf_init(&dec);
    int prev_ew = 0, r = 0;
    for (size_t k = 0; k < W->n && r == 0;) {
        size_t last = k, quoted = 0;
        while (last + 1 < W->n && !W->v[last + 1].cfws_before)
            last++;
        for (size_t j = k; j <= last; j++)
            quoted += W->v[j].type == W_QSTR;
        const char *run = P->s + W->v[k].a;
        size_t run_len = W->v[last].b - W->v[k].a;
        int ew = 0;
        if (!quoted && (ew = ew_decode(P, run, run_len, &dec)) < 0)
            goto fail;
        if (ew != 1) {
            for (size_t j = k; j <= last; j++) {
                const word *w = &W->v[j];
                for (size_t i = w->a; w->type != W_QSTR && !ew && i + 1 < w->b; i++)
                    if (P->s[i] == '=' && P->s[i + 1] == '?') {
                        char shown[WORD_BUF];
                        fail(P, "'=?' in the display name outside an encoded-word of its own: '%s' "
                                "(separate encoded-words with spaces, or quote the text)",
                             echo_word(shown, sizeof shown, run, run_len));
                        goto fail;
                    }
            }
        }
        if (k > 0 && !(ew == 1 && prev_ew && W->v[k].cfws_before == CFWS_WS))
            r = sc_buf_append(&b, " ", 1);
        if (ew == 1) {
            if (r == 0)
                r = sc_buf_append(&b, sc_buf_ptr(&dec), sc_buf_size(&dec));
        } else {
            for (size_t j = k; j <= last && r == 0; j++) {
                const word *w = &W->v[j];
                r = w->type == W_QSTR ? unquote(P->s, w->a, w->b, &b) : sc_buf_append(&b, P->s + w->a, w->b - w->a);
            }
        }
        sc_buf_reset(&dec);
        prev_ew = ew == 1;
        k = last + 1;
    }
    sc_buf_free(&dec);
    *out = NULL;
    if (r == 0 && sc_buf_size(&b) > 0 && !(*out = sc_buf_strdup(&b)))
        r = -1;
    sc_buf_free(&b);
    return r < 0 ? oom(P->err) : 0;
fail:
    sc_buf_free(&dec);
    sc_buf_free(&b);
    return -1;
}

/* ------------------------------------------------------------ addr-spec */

/* The local part at P->i, canonical in *local: the dot-atom form when the
 * content is one, else a quoted string escaping only '"' and '\' (the
 * minimum quoting RFC 5321 4.1.2 asks senders for). */
static int parse_local(parser *P, sc_buf *local)
{
    unsigned char c = cur(P);
    size_t a = P->i;
    int quoted = c == '"';
    if (quoted) {
        size_t b;
        sc_buf content;
        sc_buf_init(&content);
        if (scan_qstring(P, &b) < 0)
            return -1;
        /* b is set whenever scan_qstring returns 0; the analyzer does not inline the variadic fail_at(), which always
         * returns -1. NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
        if (unquote(P->s, a, b, &content) < 0) {
            sc_buf_free(&content);
            return oom(P->err);
        }
        const char *p = sc_buf_ptr(&content);
        size_t n = sc_buf_size(&content);
        if (n == 0) {
            sc_buf_free(&content);
            return fail(P, "empty local part");
        }
        if (memchr(p, '\t', n)) {
            sc_buf_free(&content);
            return fail(P, "tab in a quoted local part (SMTP allows only printable characters and spaces)");
        }
        int r;
        if (is_dot_atom(p, n)) {
            r = sc_buf_append(local, p, n);
        } else {
            r = sc_buf_append(local, "\"", 1);
            for (size_t k = 0; k < n && r == 0; k++) {
                if (p[k] == '"' || p[k] == '\\')
                    r = sc_buf_append(local, "\\", 1);
                if (r == 0)
                    r = sc_buf_append(local, p + k, 1);
            }
            if (r == 0)
                r = sc_buf_append(local, "\"", 1);
        }
        sc_buf_free(&content);
        if (r < 0)
            return oom(P->err);
        P->i = b;
    } else if (c == '.' || (c && is_atext(c))) {
        size_t b = a;
        while (b < P->n && (is_atext((unsigned char)P->s[b]) || P->s[b] == '.'))
            b++;
        const char *p = P->s + a;
        size_t n = b - a;
        if (p[0] == '.')
            return fail(P, "local part starts with '.'");
        if (p[n - 1] == '.')
            return fail(P, "local part ends with '.'");
        for (size_t k = 0; k + 1 < n; k++)
            if (p[k] == '.' && p[k + 1] == '.')
                return fail(P, "local part contains '..'");
        if (sc_buf_append(local, p, n) < 0)
            return oom(P->err);
        P->i = b;
    } else if (c == '@') {
        return fail(P, "empty local part");
    } else {
        return fail_at(P, SHOW_BEFORE, P->i, "missing local part");
    }

    c = cur(P);
    if (c != '@') {
        if (is_wsp(c) || c == '(')
            return fail(P, "whitespace or comment before '@'");
        if (c == '"')
            return fail(P, "quoted string mixed into a dot-atom local part");
        if (quoted && (c == '.' || is_atext(c)))
            return fail(P, "quoted local part followed by more text");
        return fail_at(P, SHOW_BEFORE, P->i, "missing '@' and domain");
    }
    const char *p = sc_buf_ptr(local);
    size_t n = sc_buf_size(local);
    if (n > LOCAL_MAX)
        return fail(P, "local part longer than %d octets (%zu)", LOCAL_MAX, n);
    /* "=?charset?q?...?=" in a local part: some parsers decode it. */
    for (size_t k = 0; k + 1 < n; k++) {
        if (p[k] != '=' || p[k + 1] != '?')
            continue;
        for (size_t j = k + 2; j + 1 < n; j++)
            if (p[j] == '?' && p[j + 1] == '=')
                return fail(P, "local part looks like an RFC 2047 encoded-word (not allowed in addresses)");
        break;
    }
    return 0;
}

/* Letters, digits, hyphens; 1..63 octets; no hyphen at either end. */
static int check_ldh_label(const char *s, size_t n)
{
    if (n == 0 || n > LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t k = 0; k < n; k++)
        if (!is_alnum((unsigned char)s[k]) && s[k] != '-')
            return 0;
    return 1;
}

static size_t count_labels(const char *s, size_t n)
{
    size_t labels = 1;
    for (size_t k = 0; k < n; k++)
        labels += s[k] == '.';
    return labels;
}

/* An A-label domain as DNS takes it: 1..253 octets of LDH labels. */
static int check_ascii_domain(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > DOMAIN_MAX)
        return 0;
    for (size_t start = 0;;) {
        const char *dot = memchr(d + start, '.', n - start);
        size_t end = dot ? (size_t)(dot - d) : n;
        if (!check_ldh_label(d + start, end - start))
            return 0;
        if (!dot)
            return 1;
        start = end + 1;
    }
}

/* An international domain through UTS 46 (libidn2). domain_ascii is the
 * A-label form; domain the U-label form it converts back to, so A-labels
 * from the caller come out as U-labels too. We don't pass
 * IDN2_USE_STD3_ASCII_RULES: libidn2 2.3 then silently drops disallowed
 * characters ("a＠b" became "ab"); the LDH check on the A-labels refuses
 * them instead. */
static int idn_domain(parser *P, const char *d, size_t n, size_t labels, mime_mailbox *mb)
{
    char shown[WORD_BUF], shown2[WORD_BUF];
    char *in = malloc(n + 1), *a = NULL, *u = NULL, *a2 = NULL;
    int rc = -1, r;
    if (!in)
        return oom(P->err);
    for (size_t k = 0; k < n; k++)
        in[k] = (d[k] >= 'A' && d[k] <= 'Z') ? (char)(d[k] - 'A' + 'a') : d[k];
    in[n] = '\0';
    echo_word(shown, sizeof shown, d, n);
    if ((r = idn2_to_ascii_8z(in, &a, IDN_FLAGS)) != IDN2_OK) {
        fail(P, "domain '%s' is not a valid international domain name (%s)", shown, idn2_strerror(r));
        goto done;
    }
    if (count_labels(a, strlen(a)) != labels) {
        fail(P, "domain '%s' has a character that IDNA maps to '.'", shown);
        goto done;
    }
    if (!check_ascii_domain(a)) {
        if (strlen(a) > DOMAIN_MAX)
            fail(P, "domain '%s' is longer than %d octets in A-labels (%zu)", shown, DOMAIN_MAX, strlen(a));
        else
            fail(P, "domain '%s' maps to '%s', which is not a valid host name", shown,
                 echo_word(shown2, sizeof shown2, a, strlen(a)));
        goto done;
    }
    if ((r = idn2_to_unicode_8z8z(a, &u, 0)) != IDN2_OK) {
        fail(P, "domain '%s' is not a valid international domain name (%s)", shown, idn2_strerror(r));
        goto done;
    }
    size_t at;
    unsigned long cp;
    if (text_check(u, strlen(u), 0, &at, &cp) != TEXT_OK || idn2_to_ascii_8z(u, &a2, IDN_FLAGS) != IDN2_OK ||
        strcmp(a, a2) != 0) {
        fail(P, "domain '%s' does not convert to A-labels and back consistently", shown);
        goto done;
    }
    mb->domain_ascii = strdup(a);
    mb->domain = strdup(u);
    if (!mb->domain_ascii || !mb->domain) {
        oom(P->err);
        goto done;
    }
    rc = 0;
done:
    free(in);
    idn2_free(a);
    idn2_free(u);
    idn2_free(a2);
    return rc;
}

/* A dot-atom domain d[0..n): labels checked, lowercased, IDN converted. */
static int set_domain(parser *P, const char *d, size_t n, mime_mailbox *mb)
{
    char shown[WORD_BUF];
    int non_ascii = 0, alabel = 0;
    size_t labels = 0;
    for (size_t start = 0;;) {
        const char *dot = memchr(d + start, '.', n - start);
        size_t end = dot ? (size_t)(dot - d) : n;
        const char *l = d + start;
        size_t ln = end - start, ascii = 0;
        if (ln == 0) {
            if (start == 0)
                return fail(P, "domain starts with '.'");
            if (!dot)
                return fail(P, "domain ends with '.'");
            return fail(P, "domain contains '..'");
        }
        for (size_t k = 0; k < ln; k++) {
            unsigned char c = (unsigned char)l[k];
            if (c >= 0x80) {
                non_ascii = 1;
                continue;
            }
            ascii++;
            if (!is_alnum(c) && c != '-')
                return fail(P, "illegal character '%c' in domain label '%s'", c, echo_word(shown, sizeof shown, l, ln));
        }
        if (l[0] == '-' || l[ln - 1] == '-')
            return fail(P, "domain label '%s' %s with '-'", echo_word(shown, sizeof shown, l, ln),
                        l[0] == '-' ? "starts" : "ends");
        if (ascii == ln && ln > LABEL_MAX)
            return fail(P, "domain label longer than %d octets (%zu)", LABEL_MAX, ln);
        if (ln >= 4 && strncasecmp(l, "xn--", 4) == 0)
            alabel = 1;
        labels++;
        if (!dot)
            break;
        start = end + 1;
    }
    if (non_ascii || alabel)
        return idn_domain(P, d, n, labels, mb);
    if (n > DOMAIN_MAX)
        return fail(P, "domain longer than %d octets (%zu)", DOMAIN_MAX, n);
    mb->domain = malloc(n + 1);
    mb->domain_ascii = malloc(n + 1);
    if (!mb->domain || !mb->domain_ascii)
        return oom(P->err);
    for (size_t k = 0; k < n; k++)
        mb->domain[k] = (d[k] >= 'A' && d[k] <= 'Z') ? (char)(d[k] - 'A' + 'a') : d[k];
    mb->domain[n] = '\0';
    memcpy(mb->domain_ascii, mb->domain, n + 1);
    return 0;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3), kept as written. */
static int parse_literal(parser *P, mime_mailbox *mb)
{
    char shown[WORD_BUF];
    size_t a = P->i, j = a + 1;
    for (; j < P->n && P->s[j] != ']'; j++) {
        unsigned char c = (unsigned char)P->s[j];
        if (is_wsp(c))
            return fail(P, "whitespace in an address literal");
        if (c == '[' || c == '\\' || c >= 0x7F)
            return fail(P, "illegal character in an address literal");
    }
    if (j >= P->n)
        return fail_at(P, SHOW_BEFORE, P->n, "unterminated address literal (missing ']')");
    const char *lit = P->s + a + 1;
    size_t n = j - a - 1;
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned char addr[sizeof(struct in6_addr)];
    echo_word(shown, sizeof shown, P->s + a, j + 1 - a);
    if (n > 5 && strncasecmp(lit, "IPv6:", 5) == 0) {
        if (n - 5 >= sizeof buf || (memcpy(buf, lit + 5, n - 5), buf[n - 5] = '\0', inet_pton(AF_INET6, buf, addr) != 1))
            return fail(P, "invalid IPv6 address literal '%s'", shown);
    } else if (memchr(lit, ':', n)) {
        return fail(P, "unsupported address literal '%s' (only IPv4 and \"IPv6:\" literals)", shown);
    } else {
        if (n == 0 || n >= sizeof buf || (memcpy(buf, lit, n), buf[n] = '\0', inet_pton(AF_INET, buf, addr) != 1))
            return fail(P, "invalid IPv4 address literal '%s'", shown);
    }
    mb->domain = strndup(P->s + a, j + 1 - a);
    mb->domain_ascii = strndup(P->s + a, j + 1 - a);
    if (!mb->domain || !mb->domain_ascii)
        return oom(P->err);
    P->i = j + 1;
    return 0;
}

static int parse_domain(parser *P, mime_mailbox *mb)
{
    unsigned char c = cur(P);
    if (is_wsp(c) || c == '(')
        return fail(P, "whitespace or comment after '@'");
    if (c == '@')
        return fail(P, "more than one '@' outside quotes");
    if (c == '[') {
        if (parse_literal(P, mb) < 0)
            return -1;
    } else if (c == '.' || (c && is_atext(c))) {
        size_t a = P->i, b = a;
        while (b < P->n && (is_atext((unsigned char)P->s[b]) || P->s[b] == '.'))
            b++;
        if (set_domain(P, P->s + a, b - a, mb) < 0)
            return -1;
        P->i = b;
    } else {
        return fail_at(P, SHOW_BEFORE, P->i, "missing domain after '@'");
    }
    c = cur(P);
    if (c == '@')
        return fail(P, "more than one '@' outside quotes");
    if (c == '[' || c == '"')
        return fail(P, "unexpected '%c' after the domain", c);
    return 0;
}

/* local-part "@" domain at P->i, no CFWS inside. */
static int parse_addr_spec(parser *P, mime_mailbox *mb)
{
    sc_buf local;
    sc_buf_init(&local);
    if (parse_local(P, &local) < 0) {
        sc_buf_free(&local);
        return -1;
    }
    P->i++; /* '@' */
    mb->local = sc_buf_strdup(&local);
    mb->local_utf8 = 0;
    for (size_t k = 0; k < sc_buf_size(&local); k++)
        if ((unsigned char)sc_buf_ptr(&local)[k] >= 0x80)
            mb->local_utf8 = 1;
    sc_buf_free(&local);
    if (!mb->local)
        return oom(P->err);
    if (parse_domain(P, mb) < 0)
        return -1;
    /* parse_domain sets mb->domain whenever it returns 0; the analyzer does not inline the variadic fail(), which
     * always returns -1. NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    size_t ln = strlen(mb->local), dn = strlen(mb->domain), an = strlen(mb->domain_ascii);
    size_t longest = ln + 1 + (dn > an ? dn : an);
    if (longest > ADDR_MAX)
        return fail(P, "address longer than %d octets (%zu)", ADDR_MAX, longest);
    return 0;
}

/* "<" addr-spec ">" at P->i. */
static int parse_angle(parser *P, mime_mailbox *mb)
{
    P->i++;
    if (skip_cfws(P, NULL) < 0)
        return -1;
    unsigned char c = cur(P);
    if (c == '\0')
        return fail_at(P, SHOW_BEFORE, P->n, "missing '>'");
    if (c == '@')
        return fail(P, "source routes ('<@host,@host:user@domain>') are not supported");
    if (c == '>')
        return fail(P, "empty address '<>'");
    if (parse_addr_spec(P, mb) < 0 || skip_cfws(P, NULL) < 0)
        return -1;
    c = cur(P);
    if (c == '\0')
        return fail_at(P, SHOW_BEFORE, P->n, "missing '>'");
    if (c != '>') {
        char shown[WORD_BUF];
        return fail(P, "unexpected '%s' before '>'", echo_word(shown, sizeof shown, P->s + P->i, char_len(c)));
    }
    P->i++;
    return 0;
}

/* ------------------------------------------------------------ mailboxes */

enum ctx { CTX_MAILBOX, CTX_LIST, CTX_GROUP };

/* What may not follow a complete address. */
static int after_address_error(parser *P, enum ctx ctx)
{
    unsigned char c = cur(P);
    switch (c) {
    case '<': return fail(P, "unexpected '<' after a complete address");
    case '>': return fail(P, "unexpected '>' after the address");
    case ')': return fail(P, "unbalanced ')'");
    case '[': case ']': return fail(P, "unexpected '%c' after the address", c);
    case '@': return fail(P, "more than one '@' outside quotes");
    case '"': return fail(P, "unexpected quoted string after the address");
    case ':': return fail(P, "unexpected ':' after the address");
    case ',':
        if (ctx == CTX_MAILBOX)
            return fail(P, "more than one address (',' outside quotes)");
        break;
    case ';':
        if (ctx != CTX_GROUP)
            return fail(P, "';' outside a group");
        break;
    default: break;
    }
    return fail(P, "unexpected text after the address");
}

/* One mailbox (or, in a list, the "name:" that opens a group: *group is
 * set and P->i left at the ':'). Leading and trailing CFWS are consumed. */
static int parse_mailbox_at(parser *P, mime_mailbox *mb, enum ctx ctx, int *group)
{
    words W = {0};
    int trail = 0, rc = -1;
    *group = 0;
    if (skip_cfws(P, NULL) < 0)
        return -1;
    P->elem = P->i;
    if (cur(P) == '<') {
        rc = parse_angle(P, mb);
        goto done;
    }
    if (lex_phrase(P, &W, &trail) < 0)
        goto done;
    unsigned char c = cur(P);
    switch (c) {
    case '<':
        /* W.n > 0 here: lex_phrase stops without a word only at a character that is not '<' (a leading '<' was
         * handled above). NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        if (W.v[0].type == W_DOT) {
            fail(P, "display name starts with '.'");
            goto done;
        }
        if (build_display_name(P, &W, &mb->display_name) < 0)
            goto done;
        rc = parse_angle(P, mb);
        break;
    case '@': {
        if (W.n == 0) {
            fail(P, "empty local part");
            goto done;
        }
        int gap = 0, quoted = 0;
        for (size_t k = 0; k < W.n; k++) {
            gap |= k > 0 && W.v[k].cfws_before;
            quoted |= W.v[k].type == W_QSTR;
        }
        if (gap) {
            fail(P, "unquoted '@' in a display name, or a space in a local part");
            goto done;
        }
        if (trail) {
            fail(P, "whitespace or comment before '@'");
            goto done;
        }
        if (quoted && W.n > 1) {
            fail(P, W.v[0].type == W_QSTR ? "quoted local part followed by more text"
                                           : "quoted string mixed into a dot-atom local part");
            goto done;
        }
        P->i = W.v[0].a;
        if (parse_addr_spec(P, mb) < 0 || skip_cfws(P, NULL) < 0)
            goto done;
        if (cur(P) == '<') {
            fail(P, "unquoted '@' in a display name (a name with '@' must be in quotes)");
            goto done;
        }
        rc = 0;
        break;
    }
    case ':':
        if (ctx != CTX_LIST) {
            fail(P, ctx == CTX_GROUP ? "groups cannot be nested" : "a group ('name: ...;') is not a single mailbox");
        } else if (W.n == 0) {
            fail(P, "group without a name before ':'");
        } else if (W.v[0].type == W_DOT) {
            fail(P, "group name starts with '.'");
        } else {
            *group = 1;
            rc = 0;
        }
        goto done;
    case '\0':
    case ',':
    case ';':
        if (W.n > 0)
            fail(P, "missing '@' (not an address)");
        else if (c == ',')
            fail_at(P, SHOW_BEFORE, P->i, "empty list element before ','");
        else if (c == ';')
            fail_at(P, SHOW_BEFORE, P->i, "unexpected ';'");
        else
            fail_at(P, SHOW_BEFORE, P->i, "empty address");
        goto done;
    case '>': fail(P, "'>' without a matching '<'"); goto done;
    case ')': fail(P, "unbalanced ')'"); goto done;
    case '[': case ']': fail(P, "'%c' outside an address literal", c); goto done;
    case '\\': fail(P, "backslash outside a quoted string"); goto done;
    default: fail(P, "unexpected character '%c'", c); goto done;
    }
    if (rc == 0 && skip_cfws(P, NULL) < 0)
        rc = -1;
done:
    free(W.v);
    if (rc < 0)
        mime_mailbox_free(mb);
    return rc;
}

static int precheck(parser *P)
{
    size_t at;
    unsigned long cp;
    enum text_problem p = text_check(P->s, P->n, 1, &at, &cp);
    P->elem = 0;
    switch (p) {
    case TEXT_OK: return 0;
    case TEXT_UTF8: return fail_at(P, SHOW_BEFORE, at, "invalid UTF-8 (byte 0x%02lX)", cp);
    case TEXT_CTL:
    case TEXT_LINESEP: return fail_at(P, SHOW_BEFORE, at, "%s (U+%04lX)", text_problem_name(p), cp);
    default: return fail_at(P, SHOW_BEFORE, at, "%s", text_problem_name(p));
    }
}

int mime_address_parse_mailbox(const char *in, size_t len, mime_mailbox *out, smtpcore_error *err)
{
    parser P = {in, len, 0, 0, err};
    mime_mailbox mb = {0};
    int group;
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || (!in && len))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid address: no address given");
    if (precheck(&P) < 0 || parse_mailbox_at(&P, &mb, CTX_MAILBOX, &group) < 0)
        return -1;
    if (P.i < P.n) {
        after_address_error(&P, CTX_MAILBOX);
        mime_mailbox_free(&mb);
        return -1;
    }
    *out = mb;
    return 0;
}

static int list_push(mime_mailbox_list *l, size_t *cap, mime_mailbox *mb)
{
    if (l->n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        mime_mailbox *v = realloc(l->items, c * sizeof *v);
        if (!v)
            return -1;
        l->items = v;
        *cap = c;
    }
    l->items[l->n++] = *mb;
    memset(mb, 0, sizeof *mb);
    return 0;
}

/* After a ',' in a list or group: nothing, or another ',', is an error. */
static int after_comma(parser *P, enum ctx ctx)
{
    size_t comma = P->i++;
    if (skip_cfws(P, NULL) < 0)
        return -1;
    unsigned char c = cur(P);
    if (c == '\0' || (ctx == CTX_GROUP && c == ';'))
        return fail_at(P, SHOW_BEFORE, comma + 1, "trailing ','");
    if (c == ',')
        return fail_at(P, SHOW_BEFORE, P->i + 1, "empty list element (',,')");
    return 0;
}

/* group = display-name ":" [mailbox-list / CFWS] ";" [CFWS]; P->i at ':'. */
static int parse_group_members(parser *P, mime_mailbox_list *out, size_t *cap)
{
    size_t start = P->elem;
    P->i++;
    if (skip_cfws(P, NULL) < 0)
        return -1;
    while (cur(P) != ';') {
        mime_mailbox mb = {0};
        int group;
        if (cur(P) == '\0') {
            P->elem = start;
            return fail_at(P, SHOW_BEFORE, P->n, "missing ';' at the end of the group");
        }
        if (parse_mailbox_at(P, &mb, CTX_GROUP, &group) < 0)
            return -1;
        if (list_push(out, cap, &mb) < 0) {
            mime_mailbox_free(&mb);
            return oom(P->err);
        }
        unsigned char c = cur(P);
        if (c == ',') {
            if (after_comma(P, CTX_GROUP) < 0)
                return -1;
        } else if (c == '\0') {
            P->elem = start;
            return fail_at(P, SHOW_BEFORE, P->n, "missing ';' at the end of the group");
        } else if (c != ';') {
            return after_address_error(P, CTX_GROUP);
        }
    }
    P->i++;
    return skip_cfws(P, NULL);
}

int mime_address_parse_list(const char *in, size_t len, mime_mailbox_list *out, smtpcore_error *err)
{
    parser P = {in, len, 0, 0, err};
    mime_mailbox_list l = {0};
    size_t cap = 0;
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || (!in && len))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid address: no address list given");
    if (precheck(&P) < 0 || skip_cfws(&P, NULL) < 0)
        return -1;
    if (P.i >= P.n)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid address: empty address list");
    for (;;) {
        mime_mailbox mb = {0};
        int group;
        if (parse_mailbox_at(&P, &mb, CTX_LIST, &group) < 0)
            goto fail;
        if (group) {
            if (parse_group_members(&P, &l, &cap) < 0)
                goto fail;
        } else if (list_push(&l, &cap, &mb) < 0) {
            mime_mailbox_free(&mb);
            oom(err);
            goto fail;
        }
        unsigned char c = cur(&P);
        if (c == '\0')
            break;
        if (c != ',') {
            after_address_error(&P, CTX_LIST);
            goto fail;
        }
        if (after_comma(&P, CTX_LIST) < 0)
            goto fail;
    }
    *out = l;
    return 0;
fail:
    mime_mailbox_list_free(&l);
    return -1;
}

/* ------------------------------------------------------------ the rest */

void mime_mailbox_free(mime_mailbox *m)
{
    if (!m)
        return;
    free(m->display_name);
    free(m->local);
    free(m->domain);
    free(m->domain_ascii);
    memset(m, 0, sizeof *m);
}

void mime_mailbox_list_free(mime_mailbox_list *l)
{
    if (!l)
        return;
    for (size_t k = 0; k < l->n; k++)
        mime_mailbox_free(&l->items[k]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int mime_mailbox_copy(mime_mailbox *dst, const mime_mailbox *src)
{
    memset(dst, 0, sizeof *dst);
    if (!src)
        return -1;
    dst->local_utf8 = src->local_utf8;
    if ((src->display_name && !(dst->display_name = strdup(src->display_name))) ||
        (src->local && !(dst->local = strdup(src->local))) || (src->domain && !(dst->domain = strdup(src->domain))) ||
        (src->domain_ascii && !(dst->domain_ascii = strdup(src->domain_ascii)))) {
        mime_mailbox_free(dst);
        return -1;
    }
    return 0;
}

int mime_mailbox_addr_spec(const mime_mailbox *m, int smtputf8, sc_buf *out, smtpcore_error *err)
{
    if (!m || !m->local || !m->domain || !m->domain_ascii)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no address");
    if (m->local_utf8 && !smtputf8)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "the address %s@%s has a non-ASCII local part: it needs a server with SMTPUTF8",
                          m->local, m->domain);
    size_t len = out->len;
    if (sc_buf_append_str(out, m->local) < 0 || sc_buf_append(out, "@", 1) < 0 ||
        sc_buf_append_str(out, smtputf8 ? m->domain : m->domain_ascii) < 0) {
        out->len = len;
        return oom(err);
    }
    return 0;
}
