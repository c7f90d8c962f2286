/* libFuzzer target for the MIME builder (csrc/mime, and csrc/dkim through
 * it), driven by arbitrary message descriptions.
 *
 * Input layout:
 *   byte 0   bits 0-1: the render flags (SMTPCORE_RENDER_8BIT, _SMTPUTF8)
 *            bits 2-4: largest reader chunk, from {1, 2, 3, 7, 64, 1000, 4096, 65536}
 *   byte 1   seed of the generator that picks each reader chunk size
 *   rest     up to 32 operations: an op byte (mod OP_COUNT, see do_op) and
 *            its arguments, taken in order from the input (missing bytes read as 0):
 *              string  a length byte L and L bytes (fewer at the end; an
 *                      embedded NUL ends the C string early); L >= 0xE0
 *                      picks canned[L - 0xE0] instead, NULL included;
 *                      0xD0 <= L < 0xE0: a count byte C, a length byte and
 *                      the bytes, repeated C + 1 times (long header values)
 *              blob    length (2 bytes, little endian; a high byte of 0xFF
 *                      picks canned[low byte]), then a repeat count byte
 *                      (0 and 1: once), so long lines cost little input
 *              number  fixed-size little-endian bytes
 * The message is seeded (deterministic boundaries, Message-ID and Date).
 *
 * Checks:
 *   - every call either succeeds or fails with a usage error, and refused
 *     calls leave the message as it was: the accepted calls alone, replayed
 *     on a new message, give the same bytes (from to_bytes) and envelope;
 *   - setters validate at once: the message renders (with the flags byte 0
 *     picks) exactly when it has a From address and, without SMTPUTF8, no
 *     header address needs it;
 *   - smtpcore_message_size == reader_size == the total the reader gives in
 *     chunks of random sizes (short reads only at the end) == the length
 *     to_bytes gives, with the same bytes;
 *   - CRLF only, no NUL, no line over 998 octets; no 8-bit byte without a
 *     flag allowing it: headers (the message's and every part's) are ASCII
 *     without SMTPUTF8, 8-bit content only in 8bit parts and only with 8BIT;
 *     the reader reports 8-bit content (for BODY=8BITMIME) exactly when
 *     there is some, and mime_message_needs_smtputf8 is true exactly when
 *     some address, envelope ones included, cannot go without SMTPUTF8;
 *   - the header block ends at the first empty line and every line in it is
 *     "Name:" or a continuation (SP/HTAB, not blank); the field names are
 *     exactly the expected ones in order (DKIM-Signature..., Date, From,
 *     Sender, Reply-To, To, Cc, Subject, Message-ID, custom fields,
 *     MIME-Version, Content-*), so no value can add a field and Bcc never
 *     appears; plain values read back unfolded; addresses appear as the
 *     addr-specs the library makes of them;
 *   - the MIME tree is exactly the expected one (mixed > related >
 *     alternative, as far as the content needs); no line starts with
 *     "--boundary" but its delimiters and close delimiter (no content can
 *     end a part early), with no preamble or epilogue; each part has
 *     exactly its fields;
 *   - each leaf decodes (strict base64, quoted-printable, 7bit/8bit readers
 *     in mime_reference.h) to the data given: attachments exactly; text
 *     parts (base64 ones too: text is kept in canonical form, RFC 2046
 *     4.1.1) with line ends made CRLF and the last line terminated;
 *   - the envelope is the envelope sender (else Sender, else From) and the
 *     unique To, Cc and Bcc addr-specs in order;
 *   - each DKIM-Signature (Ed25519, key made once) has the tags asked for
 *     and verifies with a separate verifier (dkim_reference.h): the body
 *     hash and the signature over the fields h= names (never DKIM-Signature
 *     itself: add_dkim refuses that name).
 * A violation traps (__builtin_trap); FUZZ_MESSAGE_VERBOSE=1 prints each
 * rendering as it is checked. */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_reference.h"
#include "mime/encoders.h"
#include "mime/message.h"
#include "mime_reference.h"
#include "smtpcore.h"
#include "util/buf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_message: invariant failed at line %d: %s\n", __LINE__, #c); \
            __builtin_trap();                                                                  \
        }                                                                                      \
    } while (0)

#define MAX_OPS 32
#define MAX_DATA 32768 /* content bytes over all blobs: keeps each run fast */
#define MAX_BLOB 8192
#define MAX_STRING 2048
#define MAX_LIST 8     /* calls per address list */
#define MAX_ATTS 6
#define MAX_HDRS 8
#define MAX_DKIM 2
#define SEEDED_DATE 1767225600LL /* what the library dates a seeded message without a date */

/* Values a byte-level mutator would take long to find. */
static const char *const canned[32] = {
    NULL,
    "",
    "alice@example.com",
    "Alice Example <alice@example.com>",
    "\"Last, First\" <first.last@example.org>",
    "bob@example.net, Carol <carol@example.org>, bob@example.net",
    "Friends: dave@example.com, erin@example.com;",
    "undisclosed-recipients:;",
    "J\xc3\xb6rg M\xc3\xbcller <joerg@b\xc3\xbc" "cher.example>",
    "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
    "=?UTF-8?B?w6TDtsO8?= <x@example.com> (comment)",
    "<a@[192.0.2.1]>",
    "\"quoted local\"@example.com",
    "evil@example.com\r\nBcc: victim@example.com",
    "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, ein l\xc3\xa4ngerer Betreff mit \xf0\x9f\x98\x80 und =?UTF-8?Q?x?= darin",
    "line one\r\nline two\nline three\rfour =_sc0123456789abcdef0123456789abcdef\r\n.\r\nFrom me\r\n",
    "X-Custom",
    "Message-ID",
    "<id.1@example.com>",
    "Date",
    "Mon, 1 Jan 2024 00:00:00 +0000",
    "report.pdf",
    "say \"hi\" \\ back.txt",
    "na\xc3\xafve caf\xc3\xa9 r\xc3\xa9sum\xc3\xa9 with a long file name that needs RFC 2231 continuation lines.txt",
    "application/pdf",
    "text/plain",
    "image/png",
    "img1@example.com",
    "References",
    "example.com",
    "sel1",
    "From:To:Subject:Date",
};

static EVP_PKEY *dkim_key; /* one Ed25519 key for the whole run */
static char *key_pem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    dkim_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *b = BIO_new(BIO_s_mem());
    if (!dkim_key || !b || PEM_write_bio_PrivateKey(b, dkim_key, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (!(key_pem = strndup(p, (size_t)n)))
        abort();
    BIO_free(b);
    return 0;
}

/* ------------------------------------------------------------ the model */

/* What the program asked for and the library accepted; the checks compare
 * the rendering with this, never with the library's own state. */
typedef struct blob {
    const char *p;
    size_t n;
} blob;

typedef struct list_model {
    const char *items[MAX_LIST]; /* each accepted call's text */
    size_t n;
} list_model;

typedef struct att_model {
    blob data;
    const char *filename, *ctype, *cid;
    int is_inline;
} att_model;

typedef struct hdr_model {
    const char *name, *value;
    int structured;
} hdr_model;

typedef struct dkim_model {
    const char *domain, *selector, *headers;
    const char *canon; /* as c= must read */
    long long ts;
} dkim_model;

typedef struct model {
    const char *from, *sender, *env_sender, *subject; /* NULL: not set */
    list_model to, cc, bcc, reply_to;
    blob text, html, cal;
    int has_text, has_html, has_cal;
    char method[72];
    att_model atts[MAX_ATTS];
    size_t n_atts;
    hdr_model hdrs[MAX_HDRS];
    size_t n_hdrs;
    dkim_model dkim[MAX_DKIM];
    size_t n_dkim;
    long long date;
    int date_off, has_date;
} model;

typedef struct run {
    const uint8_t *p;
    size_t n, at;
    size_t budget;    /* content bytes left */
    char **owned;     /* strings the run made, freed at the end */
    size_t n_owned, cap_owned;
    model mo;
    smtpcore_message *m;
} run;

static unsigned in_byte(run *r) { return r->at < r->n ? r->p[r->at++] : 0; }

static uint64_t in_number(run *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)in_byte(r) << (8 * i);
    return v;
}

static char *own(run *r, char *s)
{
    CHECK(s != NULL);
    if (r->n_owned == r->cap_owned) {
        r->cap_owned = r->cap_owned ? r->cap_owned * 2 : 32;
        r->owned = realloc(r->owned, r->cap_owned * sizeof *r->owned);
        CHECK(r->owned != NULL);
    }
    return r->owned[r->n_owned++] = s;
}

static const char *in_string(run *r)
{
    unsigned l = in_byte(r), rep = 1;
    if (l >= 0xE0)
        return canned[l - 0xE0];
    if (l >= 0xD0) { /* repeated: a count byte, a length byte, the bytes */
        rep = in_byte(r) + 1;
        l = in_byte(r);
    }
    size_t k = l < r->n - r->at ? l : r->n - r->at, total = k * rep > MAX_STRING ? MAX_STRING : k * rep;
    char *s = own(r, malloc(total + 1));
    for (size_t i = 0; i < total; i++)
        s[i] = (char)r->p[r->at + i % k];
    s[total] = '\0';
    r->at += k;
    return s;
}

static blob in_blob(run *r)
{
    unsigned lo = in_byte(r), hi = in_byte(r), rep = in_byte(r);
    const char *base;
    size_t len;
    if (hi == 0xFF) {
        base = canned[lo % 32] ? canned[lo % 32] : "";
        len = strlen(base);
    } else {
        len = lo | hi << 8;
        if (len > r->n - r->at)
            len = r->n - r->at;
        base = (const char *)r->p + r->at;
        r->at += len;
    }
    size_t total = len * (rep > 1 ? rep : 1);
    if (total > MAX_BLOB)
        total = MAX_BLOB;
    if (total > r->budget)
        total = r->budget;
    r->budget -= total;
    char *d = own(r, malloc(total + 1));
    for (size_t i = 0; i < total; i++)
        d[i] = base[i % len];
    return (blob){d, total};
}

/* ---------------------------------------------------------- the program */

enum {
    OP_FROM, OP_SENDER, OP_TO, OP_CC, OP_BCC, OP_REPLY_TO, OP_ENV_SENDER, OP_SUBJECT, OP_TEXT, OP_HTML,
    OP_CALENDAR, OP_ATTACH, OP_EMBED, OP_HEADER, OP_DATE, OP_DKIM, OP_SEED, OP_COUNT
};

static const char *const canons[8] = {NULL, "relaxed/relaxed", "simple/simple", "relaxed/simple",
                                      "simple/relaxed", "relaxed", "Simple", "relaxed/bogus"};
static const char *const canon_tags[7] = {"relaxed/relaxed", "relaxed/relaxed", "simple/simple", "relaxed/simple",
                                          "simple/relaxed", "relaxed/relaxed", "simple/simple"};
static const long long timestamps[8] = {0, -1, 1700000000, 999999999999LL, 1000000000000LL, -5, 1, 42};

static int is_one_of(const char *name, const char *a, const char *b)
{
    return !strcasecmp(name, a) || (b && !strcasecmp(name, b));
}

static int list_op(run *r, list_model *l, int (*add)(smtpcore_message *, const char *, smtpcore_error *),
                   smtpcore_error *err)
{
    const char *s = in_string(r);
    if (l->n == MAX_LIST)
        return -1;
    if (add(r->m, s, err) < 0)
        return 0;
    l->items[l->n++] = s;
    return 1;
}

/* One operation: 1 done, 0 refused (err says why), -1 not attempted (the
 * model is full). */
static int do_op(run *r, unsigned op, smtpcore_error *err)
{
    model *mo = &r->mo;
    smtpcore_message *m = r->m;
    switch (op) {
    case OP_FROM:
    case OP_SENDER: {
        const char *s = in_string(r);
        int rc = op == OP_FROM ? smtpcore_message_set_from(m, s, err) : smtpcore_message_set_sender(m, s, err);
        if (rc < 0)
            return 0;
        *(op == OP_FROM ? &mo->from : &mo->sender) = s;
        return 1;
    }
    case OP_TO: return list_op(r, &mo->to, smtpcore_message_add_to, err);
    case OP_CC: return list_op(r, &mo->cc, smtpcore_message_add_cc, err);
    case OP_BCC: return list_op(r, &mo->bcc, smtpcore_message_add_bcc, err);
    case OP_REPLY_TO: return list_op(r, &mo->reply_to, smtpcore_message_add_reply_to, err);
    case OP_ENV_SENDER: {
        const char *s = in_string(r);
        if (smtpcore_message_set_envelope_sender(m, s, err) < 0)
            return 0;
        mo->env_sender = s;
        return 1;
    }
    case OP_SUBJECT: {
        const char *s = in_string(r);
        if (smtpcore_message_set_subject(m, s, err) < 0)
            return 0;
        mo->subject = s ? s : "";
        return 1;
    }
    case OP_TEXT:
    case OP_HTML: {
        blob b = in_blob(r);
        int rc = op == OP_TEXT ? smtpcore_message_set_text(m, b.p, b.n, err)
                               : smtpcore_message_set_html(m, b.p, b.n, err);
        if (rc < 0)
            return 0;
        *(op == OP_TEXT ? &mo->text : &mo->html) = b;
        *(op == OP_TEXT ? &mo->has_text : &mo->has_html) = 1;
        return 1;
    }
    case OP_CALENDAR: {
        blob b = in_blob(r);
        const char *method = in_string(r);
        if (smtpcore_message_set_calendar(m, b.p, b.n, method, err) < 0)
            return 0;
        mo->cal = b;
        mo->has_cal = 1;
        snprintf(mo->method, sizeof mo->method, "%s", method && *method ? method : "REQUEST");
        for (char *c = mo->method; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        return 1;
    }
    case OP_ATTACH:
    case OP_EMBED: {
        blob b = in_blob(r);
        const char *cid = op == OP_EMBED ? in_string(r) : NULL;
        const char *filename = in_string(r), *ctype = in_string(r);
        if (mo->n_atts == MAX_ATTS)
            return -1;
        int rc = op == OP_ATTACH ? smtpcore_message_attach_data(m, b.p, b.n, filename, ctype, err)
                                 : smtpcore_message_embed_data(m, b.p, b.n, cid, filename, ctype, err);
        if (rc < 0)
            return 0;
        mo->atts[mo->n_atts++] = (att_model){
            .data = b, .filename = filename, .cid = cid, .is_inline = op == OP_EMBED,
            .ctype = ctype ? ctype : filename ? mime_type_for_filename(filename) : "application/octet-stream"};
        return 1;
    }
    case OP_HEADER: {
        const char *name = in_string(r), *value = in_string(r);
        if (mo->n_hdrs == MAX_HDRS)
            return -1;
        if (smtpcore_message_add_header(m, name, value, err) < 0)
            return 0;
        value = value ? value : "";
        if (is_one_of(name, "Message-ID", "Date"))
            for (size_t i = 0; i < mo->n_hdrs; i++)
                if (!strcasecmp(mo->hdrs[i].name, name)) {
                    mo->hdrs[i].value = value;
                    return 1;
                }
        static const char *const structured[] = {"Message-ID", "In-Reply-To", "References", "List-Unsubscribe",
                                                 "List-Unsubscribe-Post", "Date", "List-Id", "Auto-Submitted",
                                                 "Precedence"};
        int st = 0;
        for (size_t i = 0; i < sizeof structured / sizeof structured[0]; i++)
            st |= !strcasecmp(name, structured[i]);
        mo->hdrs[mo->n_hdrs++] = (hdr_model){name, value, st};
        return 1;
    }
    case OP_DATE: {
        long long t = (long long)in_number(r, 5) - 1000;
        int off = (int16_t)in_number(r, 2);
        if (smtpcore_message_set_date(m, t, off, err) < 0)
            return 0;
        mo->date = t;
        mo->date_off = off;
        mo->has_date = 1;
        return 1;
    }
    case OP_DKIM: {
        const char *domain = in_string(r), *selector = in_string(r), *headers = in_string(r);
        unsigned how = in_byte(r);
        if (mo->n_dkim == MAX_DKIM)
            return -1;
        smtpcore_dkim d = {.domain = domain, .selector = selector, .private_key_pem = key_pem,
                           .canonicalization = canons[how & 7], .headers = headers, .timestamp = timestamps[how >> 5]};
        if (smtpcore_message_add_dkim(m, &d, err) < 0)
            return 0;
        CHECK((how & 7) != 7);
        mo->dkim[mo->n_dkim++] = (dkim_model){domain, selector, headers, canon_tags[how & 7], timestamps[how >> 5]};
        return 1;
    }
    case OP_SEED:
        smtpcore_message_set_seed(m, in_number(r, 8));
        return 1;
    }
    return -1;
}

/* ------------------------------------------------------ probes */

/* The addr-specs the library makes of an address list (or one mailbox) with
 * these flags, NUL-separated: the envelope of a separate message with just
 * that list. -1 if it cannot go with these flags (needs SMTPUTF8). */
static int probe_uncached(const char *list, unsigned flags, sc_buf *out, size_t *n)
{
    static const char *const last = "probe.rcpt@probe.invalid"; /* so an empty group still has an envelope */
    smtpcore_message *p = smtpcore_message_new();
    smtpcore_error e = {0};
    CHECK(p && smtpcore_message_set_from(p, "probe@example.com", &e) == 0);
    CHECK(smtpcore_message_add_to(p, list, &e) == 0 && smtpcore_message_add_bcc(p, last, &e) == 0);
    const char *sender;
    const char *const *rcpts;
    size_t k;
    int rc = -1;
    if (smtpcore_message_envelope(p, flags, &sender, &rcpts, &k, &e) == 0) {
        CHECK(k >= 1 && !strcmp(rcpts[k - 1], last));
        for (size_t i = 0; i + 1 < k; i++)
            CHECK(sc_buf_append(out, rcpts[i], strlen(rcpts[i]) + 1) == 0);
        *n += k - 1;
        rc = 0;
    } else {
        CHECK(e.category == SMTPCORE_ERR_USAGE && e.message);
    }
    smtpcore_error_clear(&e);
    smtpcore_message_free(p);
    return rc;
}

/* The same strings are probed many times per input: remember the answers
 * (by pointer; only the SMTPUTF8 flag matters). Cleared for each input. */
typedef struct probe_memo {
    const char *list;
    unsigned utf8;
    int rc;
    size_t n;
    sc_buf addrs;
} probe_memo;

static probe_memo memo[64];
static size_t n_memo;

static void probe_memo_clear(void)
{
    for (size_t i = 0; i < n_memo; i++)
        sc_buf_free(&memo[i].addrs);
    n_memo = 0;
}

static int probe(const char *list, unsigned flags, sc_buf *out, size_t *n)
{
    unsigned utf8 = flags & SMTPCORE_RENDER_SMTPUTF8;
    probe_memo *pm = NULL;
    for (size_t i = 0; i < n_memo && !pm; i++)
        if (memo[i].list == list && memo[i].utf8 == utf8)
            pm = &memo[i];
    if (!pm) {
        if (n_memo == sizeof memo / sizeof memo[0])
            return probe_uncached(list, flags, out, n);
        pm = &memo[n_memo++];
        *pm = (probe_memo){.list = list, .utf8 = utf8};
        sc_buf_init(&pm->addrs);
        pm->rc = probe_uncached(list, flags, &pm->addrs, &pm->n);
    }
    CHECK(sc_buf_append(out, sc_buf_ptr(&pm->addrs), sc_buf_size(&pm->addrs)) == 0);
    *n += pm->n;
    return pm->rc;
}

static int probe_lists(const list_model *l, unsigned flags, sc_buf *out, size_t *n)
{
    int rc = 0;
    for (size_t i = 0; i < l->n; i++)
        rc |= probe(l->items[i], flags, out, n);
    return rc;
}

/* A rendering as one string: "R" and the bytes, or "E" and the error. */
static void snap_render(int rc, const char *out, size_t len, const smtpcore_error *e, sc_buf *s)
{
    if (rc == 0)
        CHECK(sc_buf_append(s, "R", 1) == 0 && sc_buf_append(s, out, len) == 0);
    else
        CHECK(e->message && sc_buf_printf(s, "E%d %s", (int)e->category, e->message) == 0);
}

/* The envelope as one string, or its error. */
static void snap_envelope(smtpcore_message *m, unsigned flags, sc_buf *s)
{
    smtpcore_error e = {0};
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(m, flags, &sender, &rcpts, &n, &e) == 0) {
        CHECK(sc_buf_printf(s, "|S%s", sender) == 0);
        for (size_t i = 0; i < n; i++)
            CHECK(sc_buf_printf(s, "|R%s", rcpts[i]) == 0);
    } else {
        CHECK(e.message && sc_buf_printf(s, "|E%d %s", (int)e.category, e.message) == 0);
    }
    smtpcore_error_clear(&e);
}

/* ------------------------------------------------------------ the envelope */

static void check_envelope(run *r, unsigned flags)
{
    const model *mo = &r->mo;
    sc_buf want, got;
    sc_buf_init(&want);
    sc_buf_init(&got);
    size_t n_want = 0;
    int bad = 0;
    const char *who = mo->env_sender ? mo->env_sender : mo->sender ? mo->sender : mo->from;
    if (!who) {
        bad = 1;
    } else if (mo->env_sender && !*mo->env_sender) {
        CHECK(sc_buf_append(&want, "", 1) == 0); /* the null sender */
    } else {
        size_t one = 0;
        bad |= probe(who, flags, &want, &one);
        CHECK(bad || one == 1);
    }
    sc_buf rc;
    sc_buf_init(&rc);
    bad |= probe_lists(&mo->to, flags, &rc, &n_want) | probe_lists(&mo->cc, flags, &rc, &n_want) |
           probe_lists(&mo->bcc, flags, &rc, &n_want);
    /* unique, first occurrence kept */
    size_t n_unique = 0;
    for (const char *a = sc_buf_ptr(&rc); a < sc_buf_ptr(&rc) + sc_buf_size(&rc); a += strlen(a) + 1) {
        int seen = 0;
        for (const char *b = sc_buf_ptr(&rc); b < a; b += strlen(b) + 1)
            seen |= !strcmp(a, b);
        if (!seen) {
            CHECK(sc_buf_append(&want, a, strlen(a) + 1) == 0);
            n_unique++;
        }
    }
    bad |= n_unique == 0;

    smtpcore_error e = {0};
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(r->m, flags, &sender, &rcpts, &n, &e) == 0) {
        CHECK(!bad && n == n_unique);
        CHECK(sc_buf_append(&got, sender, strlen(sender) + 1) == 0);
        for (size_t i = 0; i < n; i++)
            CHECK(sc_buf_append(&got, rcpts[i], strlen(rcpts[i]) + 1) == 0);
        CHECK(sc_buf_size(&got) == sc_buf_size(&want) &&
              memcmp(sc_buf_ptr(&got), sc_buf_ptr(&want), sc_buf_size(&want)) == 0);
    } else {
        CHECK(bad && e.category == SMTPCORE_ERR_USAGE && e.message);
    }
    smtpcore_error_clear(&e);
    sc_buf_free(&want);
    sc_buf_free(&got);
    sc_buf_free(&rc);
}

/* ------------------------------------------------------ the MIME structure */

typedef struct exp_node {
    const char *multipart;  /* "mixed", "related", "alternative"; NULL for a leaf */
    struct exp_node *kids[MAX_ATTS + 4];
    size_t n;
    /* leaf */
    const char *type, *disposition, *filename, *cid, *method;
    int is_text;
    blob data;
} exp_node;

/* The tree the description calls for: text, HTML and calendar as
 * alternatives; inline parts with the HTML in a related part; the rest
 * (and inline parts without HTML) as attachments in a mixed part. */
static exp_node *expected_tree(const model *mo, exp_node *pool)
{
    size_t used = 0;
    exp_node *alt = &pool[used++];
    *alt = (exp_node){.multipart = "alternative"};
    static const char empty[1] = "";
    if (mo->has_text || (!mo->has_html && !mo->has_cal)) {
        exp_node *t = &pool[used++];
        *t = (exp_node){.type = "text/plain", .is_text = 1, .data = mo->has_text ? mo->text : (blob){empty, 0}};
        alt->kids[alt->n++] = t;
    }
    if (mo->has_html) {
        exp_node *h = &pool[used++];
        *h = (exp_node){.type = "text/html", .is_text = 1, .data = mo->html};
        alt->kids[alt->n++] = h;
    }
    if (mo->has_cal) {
        exp_node *c = &pool[used++];
        *c = (exp_node){.type = "text/calendar", .is_text = 1, .data = mo->cal, .method = mo->method};
        alt->kids[alt->n++] = c;
    }
    exp_node *core = alt->n > 1 ? alt : alt->kids[0];
    for (int pass = 0; pass < 2; pass++) {
        exp_node *wrap = &pool[used++];
        *wrap = (exp_node){.multipart = pass ? "mixed" : "related"};
        wrap->kids[wrap->n++] = core;
        for (size_t i = 0; i < mo->n_atts; i++) {
            const att_model *a = &mo->atts[i];
            int related = a->is_inline && mo->has_html;
            if (related == !pass) {
                exp_node *l = &pool[used++];
                *l = (exp_node){.type = a->ctype, .disposition = a->is_inline ? "inline" : "attachment",
                                .filename = a->filename, .cid = a->cid, .data = a->data};
                wrap->kids[wrap->n++] = l;
            }
        }
        if (wrap->n > 1)
            core = wrap;
    }
    return core;
}

static const ref_field *field_named(const ref_fields *fs, const char *name)
{
    const ref_field *found = NULL;
    for (size_t i = 0; i < fs->n; i++)
        if (!strcasecmp(fs->f[i].name, name)) {
            CHECK(!found); /* at most one of each Content-* field */
            found = &fs->f[i];
        }
    return found;
}

/* Header bytes: no controls but HTAB (CR only in CRLF), ASCII unless SMTPUTF8. */
static void check_header_bytes(const char *p, size_t n, unsigned flags)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r' || c == '\n')
            continue; /* CRLF pairing is checked over the whole message */
        CHECK(c >= 0x20 || c == '\t');
        CHECK(c != 0x7F);
        CHECK(c < 0x80 || (flags & SMTPCORE_RENDER_SMTPUTF8));
    }
}

static size_t count_occurrences(const char *hay, size_t n, const char *needle, size_t k)
{
    size_t c = 0;
    for (const char *p = hay; (p = memmem(p, (size_t)(hay + n - p), needle, k)); p += k)
        c++;
    return c;
}

static void check_entity(const exp_node *x, const ref_fields *fs, const char *body, size_t blen, const char *msg,
                         size_t msg_len, unsigned flags);

/* A part: its own header block, a blank line, its content. */
static void check_part(const exp_node *x, const char *p, size_t n, const char *msg, size_t msg_len, unsigned flags)
{
    const char *blank = memmem(p, n, "\r\n\r\n", 4);
    CHECK(blank != NULL);
    size_t hl = (size_t)(blank - p) + 2;
    check_header_bytes(p, hl, flags);
    ref_fields fs;
    CHECK(ref_parse_fields(p, hl, &fs) == 0);
    /* exactly its Content-* fields, in this order */
    const char *names[4] = {"Content-Type"};
    size_t k = 1;
    if (!x->multipart) {
        names[k++] = "Content-Transfer-Encoding";
        if (x->disposition)
            names[k++] = "Content-Disposition";
        if (x->cid)
            names[k++] = "Content-ID";
    }
    CHECK(fs.n == k);
    for (size_t i = 0; i < k; i++)
        CHECK(!strcmp(fs.f[i].name, names[i]));
    check_entity(x, &fs, blank + 4, n - hl - 2, msg, msg_len, flags);
    ref_fields_free(&fs);
}

static void check_leaf_params(const exp_node *x, const ref_params *ct, const ref_fields *fs)
{
    sc_buf v;
    sc_buf_init(&v);
    CHECK(!strcmp(ct->head, x->type));
    if (x->is_text) {
        CHECK(ref_param_value(ct, "charset", &v) == 1 && !strcmp(sc_buf_ptr(&v), "utf-8"));
        sc_buf_reset(&v);
    }
    if (x->method) {
        CHECK(ref_param_value(ct, "method", &v) == 1 && sc_buf_size(&v) == strlen(x->method) &&
              !memcmp(sc_buf_ptr(&v), x->method, sc_buf_size(&v)));
        sc_buf_reset(&v);
    }
    if (x->filename) {
        CHECK(ref_param_value(ct, "name", &v) == 1 && sc_buf_size(&v) == strlen(x->filename) &&
              !memcmp(sc_buf_ptr(&v), x->filename, sc_buf_size(&v)));
        sc_buf_reset(&v);
    }
    const ref_field *cd = field_named(fs, "Content-Disposition");
    CHECK(!cd == !x->disposition);
    if (cd) {
        ref_params dp;
        CHECK(ref_parse_params(cd->value, &dp) == 0 && !strcmp(dp.head, x->disposition));
        int has = ref_param_value(&dp, "filename", &v);
        CHECK(x->filename ? has == 1 && sc_buf_size(&v) == strlen(x->filename) &&
                                !memcmp(sc_buf_ptr(&v), x->filename, sc_buf_size(&v))
                          : has == 0);
        ref_params_free(&dp);
    }
    const ref_field *id = field_named(fs, "Content-ID");
    CHECK(!id == !x->cid);
    if (id) {
        const char *s = id->value;
        size_t n = strlen(s);
        ref_trim(&s, &n);
        CHECK(n == strlen(x->cid) + 2 && s[0] == '<' && !memcmp(s + 1, x->cid, n - 2) && s[n - 1] == '>');
    }
    sc_buf_free(&v);
}

static void check_leaf(const exp_node *x, const ref_fields *fs, const char *body, size_t blen, unsigned flags)
{
    const ref_field *te = field_named(fs, "Content-Transfer-Encoding");
    CHECK(te != NULL);
    const char *cte = te->value;
    size_t cl = strlen(cte);
    ref_trim(&cte, &cl);
    sc_buf got, want;
    sc_buf_init(&got);
    sc_buf_init(&want);
    int b64 = cl == 6 && !memcmp(cte, "base64", 6);
    if (b64) {
        CHECK(ref_b64_decode(body, blen, &got) == 0);
    } else if (cl == 16 && !memcmp(cte, "quoted-printable", 16)) {
        CHECK(blen >= 2 && ref_qp_decode(body, blen, &got) == 0);
    } else {
        int eight = cl == 4 && !memcmp(cte, "8bit", 4);
        CHECK(eight || (cl == 4 && !memcmp(cte, "7bit", 4)));
        CHECK(!eight || (x->is_text && (flags & SMTPCORE_RENDER_8BIT)));
        CHECK(blen == 0 || (blen >= 2 && !memcmp(body + blen - 2, "\r\n", 2)));
        for (size_t i = 0; i < blen; i++) {
            unsigned char c = (unsigned char)body[i];
            CHECK(c >= 0x20 || c == '\t' || c == '\r' || c == '\n');
            CHECK(c != 0x7F && (c < 0x80 || eight));
        }
        CHECK(sc_buf_append(&got, body, blen) == 0);
    }
    if (!x->is_text)
        CHECK(sc_buf_append(&want, x->data.p, x->data.n) == 0);
    else
        ref_normalise_lines(x->data.p, x->data.n, &want);
    CHECK(sc_buf_size(&got) == sc_buf_size(&want) && !memcmp(sc_buf_ptr(&got), sc_buf_ptr(&want), sc_buf_size(&got)));
    sc_buf_free(&got);
    sc_buf_free(&want);
}

/* the depth is the expected tree's, at most three multiparts. NOLINTNEXTLINE(misc-no-recursion) */
static void check_entity(const exp_node *x, const ref_fields *fs, const char *body, size_t blen, const char *msg,
                         size_t msg_len, unsigned flags)
{
    const ref_field *ct = field_named(fs, "Content-Type");
    CHECK(ct != NULL);
    ref_params ps;
    CHECK(ref_parse_params(ct->value, &ps) == 0);
    if (!x->multipart) {
        check_leaf_params(x, &ps, fs);
        check_leaf(x, fs, body, blen, flags);
        ref_params_free(&ps);
        return;
    }
    char type[32];
    snprintf(type, sizeof type, "multipart/%s", x->multipart);
    CHECK(!strcmp(ps.head, type) && !field_named(fs, "Content-Transfer-Encoding"));
    const ref_param *bp = ref_param_named(&ps, "boundary");
    CHECK(bp && bp->len == 36 && !memcmp(bp->value, "=_sc", 4));
    for (size_t i = 4; i < 36; i++)
        CHECK((bp->value[i] >= '0' && bp->value[i] <= '9') || (bp->value[i] >= 'a' && bp->value[i] <= 'f'));
    char delim[48];
    snprintf(delim, sizeof delim, "\r\n--%s", bp->value);
    size_t dl = strlen(delim);
    /* no preamble: the body starts with the first delimiter line */
    CHECK(blen >= dl && !memcmp(body, delim + 2, dl - 2) && !memcmp(body + dl - 2, "\r\n", 2));
    size_t start = dl, kids = 0;
    for (;;) {
        const char *d = memmem(body + start, blen - start, delim, dl);
        CHECK(d != NULL);
        size_t at = (size_t)(d - body), after = at + dl;
        CHECK(kids < x->n);
        check_part(x->kids[kids++], body + start, at - start, msg, msg_len, flags);
        CHECK(after + 2 <= blen);
        if (!memcmp(body + after, "\r\n", 2)) {
            start = after + 2;
            continue;
        }
        /* the close delimiter ends the body: no epilogue */
        CHECK(after + 4 == blen && !memcmp(body + after, "--\r\n", 4));
        break;
    }
    CHECK(kids == x->n);
    /* No line of the whole message starts "--boundary" but the delimiters
     * (text that only mentions the boundary elsewhere is harmless). */
    CHECK(count_occurrences(msg, msg_len, delim, dl) == x->n + 1);
    ref_params_free(&ps);
}

/* ------------------------------------------------------ the header block */

/* Plain text that the header encoder leaves as it is (no encoded-words). */
static int plain_ascii(const char *s, size_t n)
{
    size_t word = 0, ws = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '\t' || (c >= 0x20 && c < 0x7F)) || (c == '=' && i + 1 < n && s[i + 1] == '?'))
            return 0;
        if (ref_is_wsp((char)c)) {
            word = 0;
            if (++ws > 64)
                return 0;
        } else {
            ws = 0;
            if (++word > 900)
                return 0;
        }
    }
    return 1;
}

/* The field's unfolded value, trimmed, equals s trimmed. */
static void check_value(const ref_field *f, const char *s)
{
    const char *v = f->value;
    size_t vn = strlen(v), sn = strlen(s);
    ref_trim(&v, &vn);
    ref_trim(&s, &sn);
    CHECK(vn == sn && !memcmp(v, s, vn));
}

/* Each addr-spec the library makes of these lists appears in the field. */
static void check_addresses(const char *hdr, const ref_field *f, const char *const *lists, size_t n_lists,
                            unsigned flags)
{
    sc_buf a;
    sc_buf_init(&a);
    size_t n = 0;
    for (size_t i = 0; i < n_lists; i++)
        CHECK(probe(lists[i], flags, &a, &n) == 0);
    for (const char *s = sc_buf_ptr(&a); s < sc_buf_ptr(&a) + sc_buf_size(&a); s += strlen(s) + 1)
        CHECK(memmem(hdr + f->start, f->len, s, strlen(s)) != NULL);
    sc_buf_free(&a);
}

/* (The message rendered, so every header address probes well with these flags.) */
static int list_nonempty(const list_model *l, unsigned flags)
{
    sc_buf a;
    sc_buf_init(&a);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        CHECK(probe(l->items[i], flags, &a, &n) == 0);
    sc_buf_free(&a);
    return n > 0;
}

static const char *custom_value(const model *mo, const char *name)
{
    for (size_t i = 0; i < mo->n_hdrs; i++)
        if (!strcasecmp(mo->hdrs[i].name, name))
            return mo->hdrs[i].value;
    return NULL;
}

static void check_dkim(const model *mo, const char *hdr, const ref_fields *fs, const char *body, size_t blen)
{
    for (size_t k = 0; k < mo->n_dkim; k++) {
        const dkim_model *d = &mo->dkim[mo->n_dkim - 1 - k]; /* the last added is on top */
        const char *v = fs->f[k].value;
        sc_buf t;
        sc_buf_init(&t);
#define TAG_IS(tag, want) \
    (sc_buf_reset(&t), refdkim_tag(v, tag, &t) == 1 && !strcmp(sc_buf_ptr(&t), want))
        CHECK(TAG_IS("v", "1") && TAG_IS("a", "ed25519-sha256") && TAG_IS("c", d->canon));
        CHECK(TAG_IS("d", d->domain) && TAG_IS("s", d->selector));
        char ts[24];
        snprintf(ts, sizeof ts, "%lld", d->ts);
        sc_buf_reset(&t);
        CHECK(d->ts > 0 ? TAG_IS("t", ts) : refdkim_tag(v, "t", &t) == 0);
        sc_buf_reset(&t);
        CHECK(refdkim_tag(v, "h", &t) == 1);
        char *h = sc_buf_strdup(&t), *save = NULL;
        CHECK(h != NULL);
        int from = 0, self = 0;
        for (char *name = strtok_r(h, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
            from |= !strcasecmp(name, "From");
            self |= !strcasecmp(name, "DKIM-Signature");
        }
        free(h);
        CHECK(from && !self);
        CHECK(refdkim_verify(dkim_key, hdr, fs, k, body, blen));
        sc_buf_free(&t);
#undef TAG_IS
    }
}

static void check_header(const model *mo, const char *hdr, const ref_fields *fs, unsigned flags, int root_leaf)
{
    /* The names, in order. */
    const char *want[MAX_DKIM + MAX_HDRS + 16];
    size_t n = 0;
    for (size_t i = 0; i < mo->n_dkim; i++)
        want[n++] = "DKIM-Signature";
    if (!custom_value(mo, "Date"))
        want[n++] = "Date";
    want[n++] = "From";
    if (mo->sender)
        want[n++] = "Sender";
    if (list_nonempty(&mo->reply_to, flags))
        want[n++] = "Reply-To";
    if (list_nonempty(&mo->to, flags))
        want[n++] = "To";
    if (list_nonempty(&mo->cc, flags))
        want[n++] = "Cc";
    if (mo->subject)
        want[n++] = "Subject";
    if (!custom_value(mo, "Message-ID"))
        want[n++] = "Message-ID";
    for (size_t i = 0; i < mo->n_hdrs; i++)
        want[n++] = mo->hdrs[i].name;
    want[n++] = "MIME-Version";
    want[n++] = "Content-Type";
    if (root_leaf)
        want[n++] = "Content-Transfer-Encoding";
    CHECK(fs->n == n);
    for (size_t i = 0; i < n; i++)
        CHECK(!strcmp(fs->f[i].name, want[i]));

    /* The values that must read back. */
    size_t at = mo->n_dkim;
    if (!custom_value(mo, "Date")) {
        long long t = mo->has_date ? mo->date : SEEDED_DATE;
        int off = mo->has_date ? mo->date_off : 0, a = off < 0 ? -off : off;
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t local = (time_t)(t + off * 60LL);
        struct tm tm;
        CHECK(gmtime_r(&local, &tm) != NULL);
        char date[64];
        snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', a / 60,
                 a % 60);
        check_value(&fs->f[at++], date);
    }
    check_addresses(hdr, &fs->f[at++], &mo->from, 1, flags);
    if (mo->sender)
        check_addresses(hdr, &fs->f[at++], &mo->sender, 1, flags);
    const list_model *lists[3] = {&mo->reply_to, &mo->to, &mo->cc};
    for (int i = 0; i < 3; i++)
        if (list_nonempty(lists[i], flags))
            check_addresses(hdr, &fs->f[at++], lists[i]->items, lists[i]->n, flags);
    if (mo->subject) {
        if (plain_ascii(mo->subject, strlen(mo->subject)))
            check_value(&fs->f[at], mo->subject);
        at++;
    }
    if (!custom_value(mo, "Message-ID")) {
        const char *v = fs->f[at++].value;
        size_t vn = strlen(v);
        ref_trim(&v, &vn);
        CHECK(vn >= 36 && v[0] == '<' && v[33] == '@' && v[vn - 1] == '>');
        for (size_t i = 1; i < 33; i++)
            CHECK((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f'));
    }
    for (size_t i = 0; i < mo->n_hdrs; i++, at++)
        if (mo->hdrs[i].structured || plain_ascii(mo->hdrs[i].value, strlen(mo->hdrs[i].value)))
            check_value(&fs->f[at], mo->hdrs[i].value);
    check_value(&fs->f[at], "1.0");
}

/* ------------------------------------------------------ one rendering */

static const size_t chunk_table[8] = {1, 2, 3, 7, 64, 1000, 4096, 65536};

/* The message read through a reader in chunks of random sizes (1 to
 * max_chunk): reads are short only at the end, then give 0, and the total is
 * reader_size. NULL (error in *e) when the message cannot render. */
static char *read_in_chunks(smtpcore_message *m, unsigned flags, size_t max_chunk, uint32_t seed, size_t *len,
                            int *eight_bit, smtpcore_error *e)
{
    smtpcore_message_reader *rd = smtpcore_message_reader_new(m, flags, e);
    if (!rd)
        return NULL;
    static char chunk[65536]; /* the largest max_chunk */
    size_t size = (size_t)smtpcore_message_reader_size(rd);
    char *out = malloc(size + 1);
    CHECK(out != NULL);
    uint32_t x = seed * 2654435761u + 1;
    size_t at = 0;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t k = 1 + x % max_chunk;
        long long got = smtpcore_message_reader_read(rd, chunk, k, e);
        CHECK(got >= 0 && (size_t)got <= k);
        if (got == 0)
            break;
        CHECK(at + (size_t)got <= size && ((size_t)got == k || at + (size_t)got == size));
        memcpy(out + at, chunk, (size_t)got);
        at += (size_t)got;
    }
    CHECK(at == size && smtpcore_message_reader_read(rd, chunk, 1, e) == 0);
    *eight_bit = mime_reader_eight_bit(rd);
    smtpcore_message_reader_free(rd);
    *len = size;
    return out;
}

/* Any header address (with_envelope: or envelope address) that cannot go
 * without SMTPUTF8. */
static int needs_smtputf8(const model *mo, int with_envelope)
{
    sc_buf a;
    sc_buf_init(&a);
    size_t n = 0;
    int bad = (mo->from && probe(mo->from, 0, &a, &n)) || (mo->sender && probe(mo->sender, 0, &a, &n)) ||
              probe_lists(&mo->to, 0, &a, &n) || probe_lists(&mo->cc, 0, &a, &n) ||
              probe_lists(&mo->reply_to, 0, &a, &n) ||
              (with_envelope && (probe_lists(&mo->bcc, 0, &a, &n) ||
                                 (mo->env_sender && *mo->env_sender && probe(mo->env_sender, 0, &a, &n))));
    sc_buf_free(&a);
    return bad != 0;
}

/* Render (as a stream) and check everything; the rendering goes to seen. */
static void check_rendering(run *r, unsigned flags, size_t max_chunk, uint32_t seed, sc_buf *seen)
{
    const model *mo = &r->mo;
    smtpcore_error e = {0};
    size_t len = 0;
    int expect_ok = mo->from && ((flags & SMTPCORE_RENDER_SMTPUTF8) || !needs_smtputf8(mo, 0));
    CHECK(mime_message_needs_smtputf8(r->m) == needs_smtputf8(mo, 1));
    int eight_bit = 0;
    char *out = read_in_chunks(r->m, flags, max_chunk, seed, &len, &eight_bit, &e);
    CHECK(!out == !expect_ok);
    snap_render(out ? 0 : -1, out, len, &e, seen);
    uint64_t size = 0;
    if (!out) {
        CHECK(e.category == SMTPCORE_ERR_USAGE && e.message);
        CHECK(smtpcore_message_size(r->m, flags, &size, &e) < 0);
        smtpcore_error_clear(&e);
        return;
    }
    if (getenv("FUZZ_MESSAGE_VERBOSE"))
        fprintf(stderr, "---- flags %u, %zu bytes\n%.*s----\n", flags, len, (int)len, out);
    CHECK(smtpcore_message_size(r->m, flags, &size, &e) == 0 && size == len);

    /* Lines: CRLF only, no NUL, at most 998 octets; 8-bit only when allowed,
     * and then known to the transport (BODY=8BITMIME). */
    CHECK(len >= 2 && !memcmp(out + len - 2, "\r\n", 2));
    size_t line = 0;
    int high = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        high |= c >= 0x80;
        CHECK(c != 0);
        CHECK(c < 0x80 || (flags & (SMTPCORE_RENDER_8BIT | SMTPCORE_RENDER_SMTPUTF8)));
        if (c == '\r') {
            CHECK(i + 1 < len && out[i + 1] == '\n');
        } else if (c == '\n') {
            CHECK(i > 0 && out[i - 1] == '\r');
            line = 0;
        } else {
            CHECK(++line <= 998);
        }
    }

    CHECK(eight_bit == high);

    /* The header block ends at the first empty line. */
    const char *blank = memmem(out, len, "\r\n\r\n", 4);
    CHECK(blank != NULL);
    size_t hl = (size_t)(blank - out) + 2;
    check_header_bytes(out, hl, flags);
    ref_fields fs;
    CHECK(ref_parse_fields(out, hl, &fs) == 0);
    exp_node pool[MAX_ATTS + 8];
    const exp_node *tree = expected_tree(mo, pool);
    check_header(mo, out, &fs, flags, tree->multipart == NULL);
    check_dkim(mo, out, &fs, blank + 4, len - hl - 2);
    check_entity(tree, &fs, blank + 4, len - hl - 2, out, len, flags);
    ref_fields_free(&fs);
    free(out);
    smtpcore_error_clear(&e);
}

static void run_free(run *r)
{
    smtpcore_message_free(r->m);
    for (size_t i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    free(r->owned);
}

/* Where an accepted call starts in the input, and the content budget then. */
typedef struct accepted {
    size_t at, budget;
} accepted;

/* The same message again, from the accepted calls alone. */
static void replay(const run *r, const accepted *acc, size_t n_acc, run *again)
{
    *again = (run){.p = r->p, .n = r->n};
    CHECK((again->m = smtpcore_message_new()) != NULL);
    smtpcore_message_set_seed(again->m, 42);
    for (size_t i = 0; i < n_acc; i++) {
        again->at = acc[i].at;
        again->budget = acc[i].budget;
        smtpcore_error e = {0};
        CHECK(do_op(again, in_byte(again) % OP_COUNT, &e) == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    run r = {.p = data, .n = size, .at = 2, .budget = MAX_DATA};
    unsigned flags = data[0] & 3;
    size_t max_chunk = chunk_table[(data[0] >> 2) & 7];
    CHECK((r.m = smtpcore_message_new()) != NULL);
    smtpcore_message_set_seed(r.m, 42);

    accepted acc[MAX_OPS];
    size_t n_acc = 0, n_refused = 0;
    for (int ops = 0; ops < MAX_OPS && r.at < r.n; ops++) {
        accepted here = {r.at, r.budget};
        smtpcore_error e = {0};
        int rc = do_op(&r, in_byte(&r) % OP_COUNT, &e);
        if (rc == 1) {
            CHECK(e.message == NULL);
            acc[n_acc++] = here;
        } else if (rc == 0) {
            CHECK(e.category == SMTPCORE_ERR_USAGE && e.message);
            n_refused++;
        }
        smtpcore_error_clear(&e);
    }
    sc_buf seen, other;
    sc_buf_init(&seen);
    sc_buf_init(&other);
    check_rendering(&r, flags, max_chunk, data[1], &seen);
    check_envelope(&r, flags);
    snap_envelope(r.m, flags, &seen);

    /* to_bytes gives what the reader gave. And refused calls left the
     * message as it was: the accepted calls alone, replayed on a new
     * message, give the same bytes and envelope. */
    run again = {0};
    if (n_refused)
        replay(&r, acc, n_acc, &again);
    smtpcore_message *m = n_refused ? again.m : r.m;
    smtpcore_error e = {0};
    char *out = NULL;
    size_t len = 0;
    int rc = smtpcore_message_to_bytes(m, flags, &out, &len, &e);
    CHECK(rc == 0 || !out);
    snap_render(rc, out, len, &e, &other);
    snap_envelope(m, flags, &other);
    CHECK(sc_buf_size(&seen) == sc_buf_size(&other) &&
          !memcmp(sc_buf_ptr(&seen), sc_buf_ptr(&other), sc_buf_size(&seen)));
    free(out);
    smtpcore_error_clear(&e);
    sc_buf_free(&seen);
    sc_buf_free(&other);
    if (n_refused)
        run_free(&again);
    probe_memo_clear();
    run_free(&r);
    return 0;
}
