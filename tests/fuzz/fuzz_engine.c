/* libFuzzer target: a whole SMTP session through the sans-I/O engine, driven
 * as a real driver would, against arbitrary server bytes (security notes:
 * reply parser memory bugs, SMTP smuggling, STARTTLS injection and stripping,
 * "nothing lost, nothing claimed").
 *
 * Input layout (tests/fuzz/make_engine_seeds.py writes seeds in this form):
 *   byte 0   bits 0-1: security: 0 none, 1 starttls (required), 2 implicit TLS
 *                      (TLS active from the start), 3 opportunistic
 *            bit 2: use_pipelining      bit 3: use_chunking
 *            bit 4: username and password   bit 5: allow_plaintext_auth
 *            bit 6: all_or_nothing (engine option)   bit 7: an OAuth2 token too
 *   byte 1   bits 0-2: mechanism: 0 strongest offered, 1 PLAIN, 2 LOGIN,
 *                      3 CRAM-MD5, 4 XOAUTH2, 5 SCRAM-SHA-256, 6-7 strongest
 *            bits 3-4: recipients - 1 (1..4)
 *            bit 5: DSN options (RET, ENVID, NOTIFY, ORCPT)
 *            bits 6-7: messages to send (0 and 1: one, 2, 3)
 *   byte 2   bits 0-1: eight_bit: 0 -> 0, 1 -> 1, 2 -> -1; 3 -> 0 with a UTF-8
 *                      address (last recipient, and ORCPT with DSN), for SMTPUTF8
 *            bit 2: size hint 5000 (else 0)
 *            bits 3-4: envelope all_or_nothing: 0 and 3 -> -1 (engine's), 1 -> 0, 2 -> 1
 *            bit 5: the TLS handshake fails (smtp_engine_fail)
 *            bit 6: the body source fails on the first message (body_abort)
 *            bit 7: NOOP and RSET after the messages
 *   byte 3   bits 0-2: largest piece a segment is fed in, from
 *                      {whole, 1, 2, 3, 7, 16, 64, 512}
 *            bits 3-7: seed of the generator that picks the piece sizes
 *   byte 4   bits 0-6: BDAT chunk size (0: the engine's default)
 *            bit 7: batch: begin the next message as soon as the engine
 *                   allows (smtp_engine_can_begin), before reading replies,
 *                   so several messages are in flight (PIPELINING)
 *   rest     segments separated by NUL bytes, taken in order by the driver:
 *            when the engine wants to read, the next segment is what the
 *            server sent (fed in pieces, see byte 3; bytes left over when the
 *            engine stops wanting to read are kept for the next read, or thrown
 *            away at a TLS handshake); when it wants the body, the next segment
 *            is the message body. No segment left to read is end of file.
 *
 * The driver: consume the output after every call; SMTP_WANT_TLS ->
 * smtp_engine_tls_started (or smtp_engine_fail); idle after set-up -> begin a
 * message; SMTP_WANT_BODY -> the body in pieces, then body_end (or
 * body_abort); idle after a transaction -> take the result; then NOOP/RSET
 * and QUIT.
 *
 * Invariants (a violation traps):
 *   - the output never has a bare CR or LF, and every output call ends on a
 *     line end; outside message bodies every line is a command we know
 *     (EHLO, HELO, STARTTLS, AUTH, SASL responses right after AUTH, MAIL,
 *     RCPT, DATA, "." straight after DATA, RSET, NOOP, QUIT) and nothing
 *     follows QUIT;
 *   - a DATA body is exactly the input with CRLF line ends, dot-stuffed, and
 *     the end marker: "\r\n.\r\n" occurs once, at its end (never after
 *     body_abort); BDAT frames are well formed, their payload is the
 *     normalised input, one LAST frame ends it (none after body_abort);
 *   - AUTH only over TLS or with allow_plaintext_auth; with security
 *     'starttls' no AUTH or MAIL before TLS; no STARTTLS in modes that never
 *     use it; after TLS starts, EHLO comes first; at the handshake every
 *     command has had its reply and no server byte is left over;
 *   - with credentials, MAIL only after AUTH got a 2xx;
 *   - a reply with no command waiting makes the engine fail;
 *   - in a batch, a MAIL behind a BDAT transaction whose final reply has not
 *     arrived follows an RSET; results come out oldest first;
 *   - smtp_engine_take_result succeeds (or marks a recipient accepted) only
 *     if, counting replies in order against the commands written, MAIL got a
 *     2xx, DATA a 354, every BDAT a 2xx and the final dot or BDAT LAST a 2xx;
 *     each recipient is accepted exactly when its RCPT got a 2xx (at least
 *     one; all with all-or-nothing), with that code;
 *   - the engine never stalls: idle after a transaction means the result is
 *     ready, idle after set-up means a message can begin, and the loop ends;
 *   - transcripts never hold the password or token, and AUTH lines are
 *     redacted;
 *   - no crash, no leak, no undefined behaviour (ASan, UBSan).
 * Replies are counted by a separate line splitter here, not by the engine's
 * parser.
 *
 * Two OpenSSL functions are replaced for determinism and speed: RAND_bytes
 * gives a fixed sequence (so the SCRAM client nonce is known and the seeds
 * can hold a full SCRAM exchange), and PKCS5_PBKDF2_HMAC runs one iteration
 * whatever the server asks (the seeds are computed the same way). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/engine.h"
#include "util/base64.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                           \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_engine: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                              \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------------------ OpenSSL stand-ins */

int RAND_bytes(unsigned char *buf, int num);
int PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt, int saltlen, int iter,
                      const void *digest, int keylen, unsigned char *out);

int RAND_bytes(unsigned char *buf, int num)
{
    for (int i = 0; i < num; i++)
        buf[i] = (unsigned char)(i * 7 + 1);
    return 1;
}

typedef int (*pbkdf2_fn)(const char *, int, const unsigned char *, int, int, const void *, int, unsigned char *);

int PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt, int saltlen, int iter,
                      const void *digest, int keylen, unsigned char *out)
{
    static pbkdf2_fn real;
    (void)iter;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "PKCS5_PBKDF2_HMAC");
    if (!real)
        return 0;
    return real(pass, passlen, salt, saltlen, 1, digest, keylen, out);
}

/* ------------------------------------------------------------ harness state */

#define USER "user"
#define PASSWORD "pencil"
#define TOKEN "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
#define MAX_RCPT 4

enum unit_kind {
    U_GREETING,
    U_EHLO,
    U_HELO,
    U_STARTTLS,
    U_AUTH,
    U_SASL,
    U_MAIL,
    U_RCPT,
    U_DATA,
    U_DATA_END,
    U_BDAT,
    U_BDAT_LAST,
    U_RSET,
    U_NOOP,
    U_QUIT
};

/* What one message's commands are, as unit indices (-1: not sent). */
typedef struct txn_rec {
    int active;
    size_t n_rcpt;
    int all_or_nothing;
    long mail_unit;
    long rcpt_unit[MAX_RCPT];
    long data_unit;
    long end_unit;
    long bdat_first;
    int empty_end; /* "." right after DATA, no body */
} txn_rec;

typedef struct harness {
    /* options */
    int security, creds, token, allow_plain, pipelining, chunking;
    int eight_bit, utf8, all_or_nothing_env, opt_all_or_nothing, dsn, tls_fail, abort_body, simple_cmds;
    uint64_t size_hint;
    size_t n_rcpt, msgs_wanted;
    size_t largest;
    uint32_t rng;

    /* the script */
    const uint8_t *rest;
    size_t rest_len, rest_pos;
    int segments_left;
    const uint8_t *seg;
    size_t seg_len, seg_off;

    /* client side */
    int tls;
    int expect_ehlo;
    int in_auth;
    int quit_sent;
    int prev_cr;
    sc_buf partial;       /* an unfinished command line (must stay empty) */
    sc_buf body_out;      /* output during the body phase */
    unsigned char *units; /* kind of every command that expects a reply, in order */
    size_t n_units, cap_units;
    long last_auth_unit;

    /* server side, counted here */
    int *replies; /* code of every reply, in order (-1 if not 3 digits) */
    size_t n_replies, cap_replies;
    size_t line_len;
    char line_head[4];

    /* driver: messages begun and not yet taken, oldest first */
    txn_rec txns[4];
    size_t t_head, t_count;
    int batch;
    size_t msgs_begun;
    int simple_pending, simples_done;
    long simple_unit;

    char plain_ir_b64[128];
    char pass_b64[32];
    char token_b64[128];
} harness;

static harness h;

static uint32_t rng_next(void)
{
    uint32_t x = h.rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return h.rng = x;
}

static int is_2xx(int code) { return code >= 200 && code <= 299; }

static int reply_of(long unit) { return unit >= 0 && (size_t)unit < h.n_replies ? h.replies[unit] : -1; }

static void push_unit(enum unit_kind k)
{
    if (h.n_units == h.cap_units) {
        h.cap_units = h.cap_units ? 2 * h.cap_units : 64;
        h.units = realloc(h.units, h.cap_units);
        CHECK(h.units != NULL);
    }
    h.units[h.n_units++] = (unsigned char)k;
}

static int last_unit_is(enum unit_kind k) { return h.n_units > 0 && h.units[h.n_units - 1] == k; }

/* The newest message begun (the one commands and body bytes belong to) and
 * the oldest (the next result); a zeroed record when there is none. */
static txn_rec *newest(void)
{
    static txn_rec none;
    if (!h.t_count) {
        memset(&none, 0, sizeof none);
        return &none;
    }
    return &h.txns[(h.t_head + h.t_count - 1) % 4];
}

static txn_rec *oldest(void) { return &h.txns[h.t_head % 4]; }

/* ------------------------------------------------------------ server bytes */

static void reply_line_done(void)
{
    /* A line whose fourth byte is '-' continues the reply; any other ends it. */
    if (h.line_len >= 4 && h.line_head[3] == '-')
        return;
    int code = -1;
    if (h.line_len >= 3 && h.line_head[0] >= '0' && h.line_head[0] <= '9' && h.line_head[1] >= '0' &&
        h.line_head[1] <= '9' && h.line_head[2] >= '0' && h.line_head[2] <= '9')
        code = (h.line_head[0] - '0') * 100 + (h.line_head[1] - '0') * 10 + (h.line_head[2] - '0');
    if (h.n_replies == h.cap_replies) {
        h.cap_replies = h.cap_replies ? 2 * h.cap_replies : 64;
        h.replies = realloc(h.replies, h.cap_replies * sizeof *h.replies);
        CHECK(h.replies != NULL);
    }
    h.replies[h.n_replies++] = code;
}

static void note_server_bytes(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            reply_line_done();
            h.line_len = 0;
            continue;
        }
        if (h.line_len < 4)
            h.line_head[h.line_len] = (char)p[i];
        h.line_len++;
    }
}

/* ------------------------------------------------------------ client bytes */

static int starts(const char *l, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(l, prefix, k) == 0;
}

static int equals(const char *l, size_t n, const char *s) { return n == strlen(s) && memcmp(l, s, n) == 0; }

static int is_b64(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '='))
            return 0;
    }
    return 1;
}

static void command_line(const char *l, size_t n)
{
    CHECK(!h.quit_sent); /* nothing after QUIT */
    CHECK(!memchr(l, '\0', n));
    if (h.expect_ehlo) {
        CHECK(starts(l, n, "EHLO "));
        h.expect_ehlo = 0;
    }
    int was_in_auth = h.in_auth;
    h.in_auth = 0;
    if (starts(l, n, "EHLO ")) {
        push_unit(U_EHLO);
    } else if (starts(l, n, "HELO ")) {
        push_unit(U_HELO);
    } else if (equals(l, n, "STARTTLS")) {
        CHECK(h.security == SMTPCORE_SECURITY_STARTTLS || h.security == SMTPCORE_SECURITY_OPPORTUNISTIC);
        CHECK(!h.tls);
        push_unit(U_STARTTLS);
    } else if (starts(l, n, "AUTH ")) {
        CHECK(h.creds || h.token);
        CHECK(h.tls || h.allow_plain);
        if (h.security == SMTPCORE_SECURITY_STARTTLS)
            CHECK(h.tls);
        push_unit(U_AUTH);
        h.last_auth_unit = (long)h.n_units - 1;
        h.in_auth = 1;
    } else if (starts(l, n, "MAIL FROM:<")) {
        txn_rec *t = newest();
        CHECK(t->active && t->mail_unit < 0);
        if (h.t_count > 1) {
            /* Behind a BDAT transaction still unanswered: RSET first. */
            txn_rec *prev = &h.txns[(h.t_head + h.t_count - 2) % 4];
            if (prev->bdat_first >= 0 && (prev->end_unit < 0 || reply_of(prev->end_unit) < 0))
                CHECK(last_unit_is(U_RSET));
        }
        if (h.security == SMTPCORE_SECURITY_STARTTLS)
            CHECK(h.tls);
        if (h.creds || h.token) {
            /* Only once AUTH succeeded. */
            CHECK(h.last_auth_unit >= 0);
            long last = h.last_auth_unit;
            for (size_t i = (size_t)last + 1; i < h.n_units && h.units[i] == U_SASL; i++)
                last = (long)i;
            CHECK(reply_of(last) == 235);
        }
        push_unit(U_MAIL);
        t->mail_unit = (long)h.n_units - 1;
    } else if (starts(l, n, "RCPT TO:<rcpt")) {
        txn_rec *t = newest();
        CHECK(t->active && t->mail_unit >= 0 && n > 13);
        size_t i = (size_t)(l[13] - '0');
        CHECK(i < t->n_rcpt && t->rcpt_unit[i] < 0);
        /* In order. */
        for (size_t k = 0; k < i; k++)
            CHECK(t->rcpt_unit[k] >= 0);
        push_unit(U_RCPT);
        t->rcpt_unit[i] = (long)h.n_units - 1;
    } else if (equals(l, n, "DATA")) {
        txn_rec *t = newest();
        CHECK(t->active && t->data_unit < 0 && t->bdat_first < 0);
        push_unit(U_DATA);
        t->data_unit = (long)h.n_units - 1;
    } else if (equals(l, n, ".")) {
        /* The empty end after a 354 nobody can use; never anywhere else. */
        txn_rec *t = newest();
        CHECK(last_unit_is(U_DATA));
        CHECK(t->active && t->end_unit < 0);
        push_unit(U_DATA_END);
        t->end_unit = (long)h.n_units - 1;
        t->empty_end = 1;
    } else if (equals(l, n, "RSET")) {
        push_unit(U_RSET);
        if (h.simple_pending)
            h.simple_unit = (long)h.n_units - 1;
    } else if (equals(l, n, "NOOP")) {
        CHECK(h.simple_pending);
        push_unit(U_NOOP);
        h.simple_unit = (long)h.n_units - 1;
    } else if (equals(l, n, "QUIT")) {
        push_unit(U_QUIT);
        h.quit_sent = 1;
    } else if (was_in_auth && (equals(l, n, "*") || is_b64(l, n))) {
        push_unit(U_SASL);
        h.in_auth = 1;
    } else {
        fprintf(stderr, "fuzz_engine: unexpected client line: %.*s\n", (int)(n > 200 ? 200 : n), l);
        CHECK(!"unexpected client line");
    }
}

/* Take everything the engine wants to send. In the body phase it is kept for
 * the checks at the end of the body; otherwise it must be whole command lines. */
static void drain(smtp_engine *e, int body_phase)
{
    size_t n;
    const char *p = smtp_engine_output(e, &n);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (h.prev_cr)
            CHECK(c == '\n');
        if (c == '\n')
            CHECK(h.prev_cr);
        h.prev_cr = c == '\r';
    }
    CHECK(!h.prev_cr); /* every write ends on a line end */
    if (body_phase) {
        CHECK(sc_buf_append(&h.body_out, p, n) == 0);
    } else if (n) {
        CHECK(sc_buf_append(&h.partial, p, n) == 0);
        for (;;) {
            const char *b = sc_buf_ptr(&h.partial);
            size_t len = sc_buf_size(&h.partial);
            const char *nl = len ? memchr(b, '\n', len) : NULL;
            if (!nl)
                break;
            size_t ll = (size_t)(nl - b);
            CHECK(ll >= 1 && b[ll - 1] == '\r');
            command_line(b, ll - 1);
            sc_buf_consume(&h.partial, ll + 1);
        }
        CHECK(sc_buf_size(&h.partial) == 0);
    }
    smtp_engine_consume_output(e, n);
    size_t left;
    smtp_engine_output(e, &left);
    CHECK(left == 0);
}

/* ------------------------------------------------------------ expected bodies */

/* The body as it must go out: CRLF line ends, '.'-stuffed for DATA, the last
 * line terminated and the end marker added when finished. */
static void expected_body(const uint8_t *in, size_t n, int dot_stuff, int finish, sc_buf *out)
{
    size_t i = 0;
    int partial = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n')
            j++;
        if (dot_stuff && j > i && in[i] == '.')
            CHECK(sc_buf_append(out, ".", 1) == 0);
        CHECK(sc_buf_append(out, in + i, j - i) == 0);
        if (j == n) {
            partial = j > i;
            break;
        }
        CHECK(sc_buf_append(out, "\r\n", 2) == 0);
        if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    if (finish) {
        if (partial)
            CHECK(sc_buf_append(out, "\r\n", 2) == 0);
        if (dot_stuff)
            CHECK(sc_buf_append(out, ".\r\n", 3) == 0);
    }
}

static size_t count_markers(const char *p, size_t n)
{
    /* The DATA command's CRLF precedes the body. */
    size_t k = 0;
    if (n >= 3 && memcmp(p, ".\r\n", 3) == 0)
        k++;
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
            k++;
    return k;
}

/* ------------------------------------------------------------ script */

/* The next NUL-separated segment; 0 when none is left. */
static int next_segment(const uint8_t **p, size_t *n)
{
    if (!h.segments_left)
        return 0;
    const uint8_t *start = h.rest + h.rest_pos;
    size_t avail = h.rest_len - h.rest_pos;
    const uint8_t *nul = avail ? memchr(start, '\0', avail) : NULL;
    if (nul) {
        *n = (size_t)(nul - start);
        h.rest_pos += *n + 1;
    } else {
        *n = avail;
        h.rest_pos = h.rest_len;
        h.segments_left = 0;
    }
    *p = start;
    return 1;
}

static size_t piece_size(size_t avail)
{
    if (!h.largest)
        return avail;
    size_t want = 1 + rng_next() % h.largest;
    return want < avail ? want : avail;
}

/* ------------------------------------------------------------ transcript */

static int contains(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (k == 0 || k > n)
        return 0;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

/* FUZZ_ENGINE_VERBOSE=1 prints each session's transcript and results, to
 * see how far an input gets. */
static int verbose(void)
{
    static int v = -1;
    if (v < 0)
        v = getenv("FUZZ_ENGINE_VERBOSE") != NULL;
    return v;
}

static void on_transcript(void *ud, smtpcore_dir dir, const char *line, size_t len)
{
    (void)ud;
    CHECK(line != NULL);
    if (verbose())
        fprintf(stderr, "%s %.*s\n", dir == SMTPCORE_DIR_CLIENT ? "C:" : dir == SMTPCORE_DIR_SERVER ? "S:" : "I:",
                (int)len, line);
    volatile char sink = 0;
    for (size_t i = 0; i < len; i++)
        sink ^= line[i]; /* the whole line must be readable (ASan) */
    (void)sink;
    if (dir == SMTPCORE_DIR_INFO)
        return;
    CHECK(!memchr(line, '\r', len) && !memchr(line, '\n', len));
    if (dir != SMTPCORE_DIR_CLIENT)
        return;
    CHECK(!contains(line, len, PASSWORD) && !contains(line, len, TOKEN));
    CHECK(!contains(line, len, h.plain_ir_b64) && !contains(line, len, h.pass_b64) &&
          !contains(line, len, h.token_b64));
    if (starts(line, len, "AUTH ")) {
        const char *sp = memchr(line + 5, ' ', len - 5);
        CHECK(!sp || equals(sp, len - (size_t)(sp - line), " <redacted>"));
    }
}

/* ------------------------------------------------------------ steps */

static const smtpcore_error lost = {SMTPCORE_ERR_CONNECT, 0, "", NULL, (char *)"connection closed by peer", NULL};
static const smtpcore_error tls_failed = {SMTPCORE_ERR_TLS, 0, "", NULL, (char *)"handshake failed", NULL};
static const smtpcore_error source_failed = {SMTPCORE_ERR_LOCAL, 0, "", NULL, (char *)"read failed", NULL};

static void check_accepted_claims(const smtpcore_result *res, int success)
{
    txn_rec *t = oldest();
    size_t claimed = 0;
    if (res) {
        CHECK(smtpcore_result_count(res) == t->n_rcpt);
        for (size_t i = 0; i < t->n_rcpt; i++)
            claimed += smtpcore_result_get(res, i)->accepted ? 1 : 0;
        CHECK(claimed == smtpcore_result_accepted(res));
    }
    if (!success && claimed == 0)
        return;
    /* Something was claimed delivered: the server must have said so, reply by
     * reply, in the order of the commands. */
    CHECK(res != NULL);
    CHECK(t->end_unit >= 0 && !t->empty_end);
    int final = reply_of(t->end_unit);
    CHECK(is_2xx(final));
    CHECK(h.units[t->end_unit] == U_DATA_END || h.units[t->end_unit] == U_BDAT_LAST);
    CHECK(is_2xx(reply_of(t->mail_unit)));
    if (h.units[t->end_unit] == U_DATA_END) {
        CHECK(reply_of(t->data_unit) == 354);
    } else {
        CHECK(t->bdat_first >= 0);
        for (long u = t->bdat_first; u <= t->end_unit; u++)
            CHECK(is_2xx(reply_of(u)));
    }
    size_t ok = 0;
    for (size_t i = 0; i < t->n_rcpt; i++) {
        int c = reply_of(t->rcpt_unit[i]);
        const smtpcore_rcpt_status *st = smtpcore_result_get(res, i);
        CHECK(t->rcpt_unit[i] >= 0);
        CHECK(st->code == c);
        CHECK(!!st->accepted == is_2xx(c));
        ok += is_2xx(c) ? 1 : 0;
    }
    CHECK(ok >= 1 && ok == claimed);
    if (t->all_or_nothing)
        CHECK(ok == t->n_rcpt);
    CHECK(smtpcore_result_code(res) == final);
}

static void take_result(smtp_engine *e, int closing)
{
    smtpcore_result *res = NULL;
    smtpcore_error err = {0};
    int rc = smtp_engine_take_result(e, &res, &err);
    if (verbose())
        fprintf(stderr, "== result: %s%s\n", rc == 0 ? "sent" : "failed: ", rc == 0 ? "" : err.message);
    if (rc == 0) {
        /* Success while closing is right only when the server had accepted
         * the message before the session broke (a stray reply after the final
         * 250): check_accepted_claims demands that final 2xx. */
        (void)closing;
        check_accepted_claims(res, 1);
    } else {
        CHECK(rc == -1);
        CHECK(err.category != SMTPCORE_OK && err.message != NULL);
        /* Usage errors mean "not finished": the engine said idle too early. */
        CHECK(err.category != SMTPCORE_ERR_USAGE);
        check_accepted_claims(res, 0);
    }
    smtpcore_result_free(res);
    smtpcore_error_clear(&err);
    memset(oldest(), 0, sizeof(txn_rec));
    h.t_head = (h.t_head + 1) % 4;
    h.t_count--;
    drain(e, 0);
}

static void begin_message(smtp_engine *e)
{
    static const char *const addrs[MAX_RCPT] = {"rcpt0@example.test", "rcpt1@example.test", "rcpt2@example.test",
                                                "rcpt3@example.test"};
    smtpcore_recipient r[MAX_RCPT];
    memset(r, 0, sizeof r);
    static const char *const utf8_addrs[MAX_RCPT] = {"rcpt0@b\xc3\xbc" "cher.test", "rcpt1@b\xc3\xbc" "cher.test",
                                                     "rcpt2@b\xc3\xbc" "cher.test", "rcpt3@b\xc3\xbc" "cher.test"};
    for (size_t i = 0; i < h.n_rcpt; i++)
        r[i].address = h.utf8 && i + 1 == h.n_rcpt ? utf8_addrs[i] : addrs[i];
    smtpcore_envelope env = {0};
    env.sender = h.msgs_begun == 1 ? "" : "sender@example.test";
    env.recipients = r;
    env.n_recipients = h.n_rcpt;
    env.all_or_nothing = h.all_or_nothing_env;
    if (h.dsn) {
        env.dsn_ret = h.msgs_begun ? SMTPCORE_DSN_RET_FULL : SMTPCORE_DSN_RET_HDRS;
        env.dsn_envid = "QQ314159+x=y";
        r[0].notify = SMTPCORE_NOTIFY_SUCCESS | SMTPCORE_NOTIFY_FAILURE;
        r[0].orcpt = h.utf8 ? "j\xc3\xb6rg+tag@example.test" : "orig+tag@example.test";
        if (h.n_rcpt > 1)
            r[1].notify = SMTPCORE_NOTIFY_NEVER;
        if (h.n_rcpt > 2)
            r[2].notify = SMTPCORE_NOTIFY_DELAY;
    }
    CHECK(h.t_count < 4);
    h.t_count++;
    txn_rec *t = newest();
    memset(t, 0, sizeof *t);
    t->active = 1;
    t->n_rcpt = h.n_rcpt;
    t->all_or_nothing = h.all_or_nothing_env >= 0 ? h.all_or_nothing_env : h.opt_all_or_nothing;
    t->mail_unit = t->data_unit = t->end_unit = t->bdat_first = -1;
    for (size_t i = 0; i < MAX_RCPT; i++)
        t->rcpt_unit[i] = -1;
    h.msgs_begun++;

    smtpcore_error err = {0};
    int rc = smtp_engine_begin_message(e, &env, h.eight_bit, h.size_hint, &err);
    if (rc < 0) {
        /* Only a local refusal (8-bit without 8BITMIME, UTF-8 without
         * SMTPUTF8, over SIZE), with nothing sent and the session still idle. */
        CHECK(err.category == SMTPCORE_ERR_USAGE || err.category == SMTPCORE_ERR_SIZE);
        CHECK(h.eight_bit == 1 || h.utf8 || h.size_hint > 0);
        CHECK(err.message && !strstr(err.message, "not ready"));
        size_t n;
        smtp_engine_output(e, &n);
        CHECK(n == 0);
        if (h.t_count == 1)
            CHECK(smtp_engine_want(e) == SMTP_WANT_NOTHING);
        memset(newest(), 0, sizeof(txn_rec));
        h.t_count--;
    }
    smtpcore_error_clear(&err);
    drain(e, 0);
}

/* Check the body-phase output once the body ended or was aborted. */
static void check_body(const uint8_t *body, size_t body_len, int data_mode, int aborted)
{
    const char *p = sc_buf_ptr(&h.body_out);
    size_t n = sc_buf_size(&h.body_out);
    sc_buf want;
    sc_buf_init(&want);
    expected_body(body, body_len, data_mode, !aborted, &want);
    if (data_mode) {
        CHECK(n == sc_buf_size(&want) && memcmp(p, sc_buf_ptr(&want), n) == 0);
        if (aborted) {
            CHECK(count_markers(p, n) == 0);
        } else {
            CHECK(count_markers(p, n) == 1);
            CHECK(n >= 3 && memcmp(p + n - 3, ".\r\n", 3) == 0);
            push_unit(U_DATA_END);
            newest()->end_unit = (long)h.n_units - 1;
        }
    } else {
        /* BDAT <size>[ LAST]\r\n<size bytes>, ... */
        sc_buf payload;
        sc_buf_init(&payload);
        size_t pos = 0;
        int last_seen = 0;
        while (pos < n) {
            CHECK(!last_seen);
            CHECK(n - pos > 5 && memcmp(p + pos, "BDAT ", 5) == 0);
            pos += 5;
            size_t sz = 0, digits = 0;
            while (pos < n && p[pos] >= '0' && p[pos] <= '9' && digits < 12) {
                sz = sz * 10 + (size_t)(p[pos] - '0');
                pos++;
                digits++;
            }
            CHECK(digits > 0);
            if (n - pos >= 5 && memcmp(p + pos, " LAST", 5) == 0) {
                last_seen = 1;
                pos += 5;
            }
            CHECK(n - pos >= 2 && p[pos] == '\r' && p[pos + 1] == '\n');
            pos += 2;
            CHECK(n - pos >= sz);
            CHECK(sc_buf_append(&payload, p + pos, sz) == 0);
            pos += sz;
            push_unit(last_seen ? U_BDAT_LAST : U_BDAT);
            if (newest()->bdat_first < 0)
                newest()->bdat_first = (long)h.n_units - 1;
            if (last_seen)
                newest()->end_unit = (long)h.n_units - 1;
        }
        CHECK(last_seen == !aborted);
        if (aborted) /* what went out is a prefix of the body */
            CHECK(sc_buf_size(&payload) <= sc_buf_size(&want) &&
                  memcmp(sc_buf_ptr(&payload), sc_buf_ptr(&want), sc_buf_size(&payload)) == 0);
        else
            CHECK(sc_buf_size(&payload) == sc_buf_size(&want) &&
                  memcmp(sc_buf_ptr(&payload), sc_buf_ptr(&want), sc_buf_size(&want)) == 0);
        sc_buf_free(&payload);
    }
    sc_buf_free(&want);
    sc_buf_reset(&h.body_out);
}

static void do_body(smtp_engine *e)
{
    CHECK(newest()->active && newest()->end_unit < 0);
    /* DATA if the engine's last command was a DATA (answered 354), else BDAT. */
    int data_mode = last_unit_is(U_DATA);
    if (!data_mode)
        CHECK(newest()->data_unit < 0);
    const uint8_t *body = (const uint8_t *)"";
    size_t body_len = 0;
    next_segment(&body, &body_len);
    sc_buf_reset(&h.body_out);
    size_t pos = 0;
    while (pos < body_len) {
        size_t k = piece_size(body_len - pos);
        CHECK(smtp_engine_body(e, (const char *)body + pos, k) == 0);
        pos += k;
        drain(e, 1);
        CHECK(smtp_engine_want(e) == SMTP_WANT_BODY);
    }
    int aborted = h.abort_body && h.msgs_begun == 1;
    if (aborted) {
        /* Aborting writes no body bytes; with BDAT it may send RSET at once,
         * which belongs after the frames already written. */
        check_body(body, body_len, data_mode, 1);
        smtp_engine_body_abort(e, &source_failed);
        drain(e, 0);
        if (data_mode)
            CHECK(smtp_engine_want(e) == SMTP_WANT_CLOSE && smtp_engine_error(e) != NULL);
    } else {
        CHECK(smtp_engine_body_end(e) == 0);
        drain(e, 1);
        check_body(body, body_len, data_mode, 0);
    }
    CHECK(smtp_engine_want(e) != SMTP_WANT_BODY);
}

static void do_read(smtp_engine *e)
{
    if (h.seg_off == h.seg_len) {
        if (!next_segment(&h.seg, &h.seg_len)) {
            smtp_engine_connection_lost(e, &lost);
            CHECK(smtp_engine_want(e) == SMTP_WANT_CLOSE);
            drain(e, 0);
            return;
        }
        h.seg_off = 0;
        if (h.seg_len == 0)
            return;
    }
    size_t k = piece_size(h.seg_len - h.seg_off);
    const uint8_t *p = h.seg + h.seg_off;
    h.seg_off += k;
    note_server_bytes(p, k);
    int rc = smtp_engine_feed(e, (const char *)p, k);
    const smtpcore_error *err = smtp_engine_error(e);
    CHECK((rc == 0) == (err == NULL));
    if (err)
        CHECK(err->category != SMTPCORE_OK && err->message != NULL);
    drain(e, 0);
    /* A reply nobody asked for makes the engine fail. */
    if (!smtp_engine_error(e))
        CHECK(h.n_replies <= h.n_units);
}

static void do_tls(smtp_engine *e)
{
    /* The handshake begins with nothing pending in either direction. */
    CHECK(last_unit_is(U_STARTTLS));
    CHECK(h.n_replies == h.n_units && h.line_len == 0);
    CHECK(reply_of((long)h.n_units - 1) == 220);
    CHECK(!h.tls);
    /* Bytes read before the handshake are thrown away, as net/ does. */
    h.seg_off = h.seg_len;
    if (h.tls_fail) {
        smtp_engine_fail(e, &tls_failed);
        CHECK(smtp_engine_want(e) == SMTP_WANT_CLOSE);
        drain(e, 0);
        return;
    }
    smtp_engine_tls_started(e);
    h.tls = 1;
    h.expect_ehlo = 1;
    CHECK(smtp_engine_tls_active(e));
    drain(e, 0);
}

static void do_idle(smtp_engine *e)
{
    CHECK(smtp_engine_error(e) == NULL);
    if (h.t_count) {
        /* Idle means every message begun has its result. */
        CHECK(smtp_engine_result_ready(e));
        take_result(e, 0);
        return;
    }
    if (h.simple_pending) {
        smtpcore_error err = {0};
        int rc = smtp_engine_take_simple_result(e, &err);
        CHECK(rc == 0 || (rc == -1 && err.category == SMTPCORE_ERR_PROTOCOL));
        if (rc == 0)
            CHECK(is_2xx(reply_of(h.simple_unit)));
        smtpcore_error_clear(&err);
        h.simple_pending = 0;
        h.simples_done++;
        return;
    }
    if (h.msgs_begun < h.msgs_wanted) {
        if (h.msgs_begun == 0) {
            /* What the session learnt must be readable strings (ASan). */
            const char *texts[] = {smtp_engine_ehlo_text(e), smtp_engine_ehlo_text_before_tls(e),
                                   smtp_engine_greeting(e), smtp_engine_auth_mechanism(e)};
            for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                if (texts[i])
                    (void)strlen(texts[i]);
            CHECK(smtp_engine_greeting(e) != NULL);
            CHECK(!!smtp_engine_tls_active(e) == !!h.tls);
            if (h.creds || h.token)
                CHECK(smtp_engine_auth_mechanism(e) != NULL);
            (void)smtp_engine_caps(e);
            (void)smtp_engine_max_size(e);
            CHECK(smtp_engine_get_stats(e)->replies == h.n_replies);
        }
        begin_message(e);
        return;
    }
    if (h.simple_cmds && h.simples_done < 2) {
        h.simple_pending = 1;
        h.simple_unit = -1;
        CHECK((h.simples_done == 0 ? smtp_engine_noop(e) : smtp_engine_rset(e)) == 0);
        drain(e, 0);
        CHECK(h.simple_unit >= 0);
        return;
    }
    smtp_engine_quit(e);
    drain(e, 0);
    CHECK(h.quit_sent && last_unit_is(U_QUIT));
    CHECK(smtp_engine_want(e) == SMTP_WANT_CLOSE);
}

/* ------------------------------------------------------------ entry */

static void set_up(const uint8_t *data, size_t size)
{
    sc_buf partial = h.partial, body_out = h.body_out;
    unsigned char *units = h.units;
    int *replies = h.replies;
    size_t cap_units = h.cap_units, cap_replies = h.cap_replies;
    memset(&h, 0, sizeof h);
    h.partial = partial;
    h.body_out = body_out;
    sc_buf_reset(&h.partial);
    sc_buf_reset(&h.body_out);
    h.units = units;
    h.cap_units = cap_units;
    h.replies = replies;
    h.cap_replies = cap_replies;

    uint8_t b0 = data[0], b1 = data[1], b2 = data[2], b3 = data[3];
    static const int secs[4] = {SMTPCORE_SECURITY_NONE, SMTPCORE_SECURITY_STARTTLS, SMTPCORE_SECURITY_TLS,
                                SMTPCORE_SECURITY_OPPORTUNISTIC};
    h.security = secs[b0 & 3];
    h.pipelining = (b0 >> 2) & 1;
    h.chunking = (b0 >> 3) & 1;
    h.creds = (b0 >> 4) & 1;
    h.allow_plain = (b0 >> 5) & 1;
    h.opt_all_or_nothing = (b0 >> 6) & 1;
    h.token = (b0 >> 7) & 1;
    h.n_rcpt = 1 + ((b1 >> 3) & 3);
    h.dsn = (b1 >> 5) & 1;
    h.msgs_wanted = (b1 >> 6) < 2 ? 1 : (size_t)(b1 >> 6);
    static const int eight[4] = {0, 1, -1, 0};
    h.eight_bit = eight[b2 & 3];
    h.utf8 = (b2 & 3) == 3;
    h.size_hint = (b2 & 4) ? 5000 : 0;
    static const int aon[4] = {-1, 0, 1, -1};
    h.all_or_nothing_env = aon[(b2 >> 3) & 3];
    h.tls_fail = (b2 >> 5) & 1;
    h.abort_body = (b2 >> 6) & 1;
    h.simple_cmds = (b2 >> 7) & 1;
    static const size_t pieces[8] = {0, 1, 2, 3, 7, 16, 64, 512};
    h.largest = pieces[b3 & 7];
    h.rng = 0x9E3779B9u ^ ((uint32_t)(b3 >> 3) * 0x01000193u);
    h.rest = data + 5;
    h.rest_len = size - 5;
    h.segments_left = h.rest_len > 0;
    h.last_auth_unit = -1;
    h.simple_unit = -1;
    h.tls = h.security == SMTPCORE_SECURITY_TLS;

    /* Secrets as the wire would carry them, to look for in transcripts. */
    static const char plain_ir[] = "\0" USER "\0" PASSWORD;
    sc_b64_encode((const unsigned char *)plain_ir, sizeof plain_ir - 1, h.plain_ir_b64);
    sc_b64_encode((const unsigned char *)PASSWORD, strlen(PASSWORD), h.pass_b64);
    sc_b64_encode((const unsigned char *)TOKEN, strlen(TOKEN), h.token_b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    set_up(data, size);

    static const smtp_sasl_mech mechs[8] = {SMTP_SASL_NONE,     SMTP_SASL_PLAIN,         SMTP_SASL_LOGIN,
                                            SMTP_SASL_CRAM_MD5, SMTP_SASL_XOAUTH2,       SMTP_SASL_SCRAM_SHA_256,
                                            SMTP_SASL_NONE,     SMTP_SASL_NONE};
    smtp_engine_opts o = {0};
    o.security = (smtpcore_security)h.security;
    o.ehlo_name = "client.test";
    o.username = h.creds || h.token ? USER : NULL;
    o.password = h.creds ? PASSWORD : NULL;
    o.oauth2_token = h.token ? TOKEN : NULL;
    o.mechanism = mechs[data[1] & 7];
    o.allow_plaintext_auth = h.allow_plain;
    o.use_pipelining = h.pipelining;
    o.use_chunking = h.chunking;
    o.all_or_nothing = h.opt_all_or_nothing;
    o.bdat_chunk_size = data[4] & 0x7f;
    h.batch = data[4] >> 7;
    o.transcript = on_transcript;

    smtpcore_error err = {0};
    smtp_engine *e = smtp_engine_new(&o, h.tls, &err);
    CHECK(e != NULL);
    smtpcore_error_clear(&err);
    push_unit(U_GREETING);
    drain(e, 0);

    /* Every step reads input or moves the session on; a bound well above
     * what an input allows catches a loop that does neither. */
    size_t budget = 4 * size + 64;
    for (;;) {
        CHECK(budget-- > 0);
        smtp_want w = smtp_engine_want(e);
        if (w == SMTP_WANT_CLOSE) {
            if (!h.quit_sent)
                CHECK(smtp_engine_error(e) != NULL);
            while (h.t_count) {
                CHECK(smtp_engine_result_ready(e));
                take_result(e, 1);
            }
            break;
        }
        /* A batch driver takes results as they come and begins the next
         * message as soon as the engine allows, before waiting for replies. */
        if (w == SMTP_WANT_READ && h.t_count && smtp_engine_result_ready(e)) {
            take_result(e, 0);
            continue;
        }
        if (w == SMTP_WANT_READ && h.batch && h.msgs_begun < h.msgs_wanted && !h.simple_pending &&
            smtp_engine_can_begin(e)) {
            CHECK(h.t_count > 0);
            begin_message(e);
            continue;
        }
        switch (w) {
        case SMTP_WANT_READ: do_read(e); break;
        case SMTP_WANT_TLS: do_tls(e); break;
        case SMTP_WANT_BODY: do_body(e); break;
        case SMTP_WANT_NOTHING: do_idle(e); break;
        default: CHECK(!"unknown want");
        }
    }
    smtp_engine_free(e);
    return 0;
}
