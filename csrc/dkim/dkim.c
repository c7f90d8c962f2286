/* DKIM signing (RFC 6376; Ed25519-SHA256 per RFC 8463) with OpenSSL.
 *
 * The body hash runs while the body streams past (canon.c holds back only
 * counters); dkim_signer_finish then selects and canonicalises the header
 * fields, builds the folded DKIM-Signature field and signs. There is never an
 * l= tag: a body length limit lets anyone append content under the signature. */
#include "dkim/dkim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim/canon.h"
#include "util/base64.h"
#include "util/error.h"

#define DKIM_LINE_MAX 78              /* fold the signature field at this width where possible */
#define DKIM_TIME_MAX 999999999999ull /* t= and x= are at most 12 digits */
#define DKIM_NAME_MAX 76              /* longest h= field name (mime_header_name_ok's limit) */

enum { ST_OPEN, ST_FAILED, ST_DONE };

struct dkim_signer {
    char *domain;
    char *selector;
    char *identity;          /* i= value, already dkim-quoted-printable; NULL to omit */
    char **names;            /* the caller's h= list (copies); NULL: the default list */
    size_t n_names;
    dkim_canon header_canon;
    dkim_canon body_canon;
    uint64_t t, x;           /* 0: omit */
    EVP_PKEY *key;
    int ed25519;
    EVP_MD_CTX *body_md;
    int state;
    dkim_body_canon body;
};

/* Signed when present, and once when absent so they cannot be added later. */
static const char *const default_headers[] = {
    "From", "Subject", "Date", "To", "Cc", "Reply-To", "Message-ID", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post",
};

/* ------------------------------------------------------------------ option checks */

/* A DNS name in LDH syntax (RFC 6376 sub-domain *("." sub-domain)) with at
 * least min_labels labels. IDNs must come as A-labels. */
static int valid_dns_name(const char *s, int min_labels)
{
    size_t len = strlen(s), label = 0;
    int labels = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = s[i];
        if (ch == '.' || ch == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            labels++;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   (ch == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return labels >= min_labels;
}

static int ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z')
            y += 'a' - 'A';
        if (x != y)
            return 0;
    }
    return 1;
}

/* Case-insensitive "From" (the terminating NUL is compared too). */
static int is_from(const char *name) { return ascii_ieq(name, "From", sizeof "From"); }

static int is_atext(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* i= is [local-part] "@" domain, the domain d= or a subdomain of it. The
 * local part is a dot-atom (UTF-8 allowed) and goes out dkim-quoted-printable
 * (RFC 6376 2.11). Returns the tag value (malloc'd), or NULL with *why set. */
static char *identity_tag(const char *id, const char *domain, const char **why)
{
    const char *at = strrchr(id, '@');
    *why = "the identity (i=) must be local-part@domain";
    if (!at)
        return NULL;
    size_t local_len = (size_t)(at - id);
    const char *dom = at + 1;
    if (!valid_dns_name(dom, 2)) {
        *why = "the identity (i=) has an invalid domain";
        return NULL;
    }
    size_t dl = strlen(dom), dd = strlen(domain);
    if (!(dl == dd && ascii_ieq(dom, domain, dd)) &&
        !(dl > dd && dom[dl - dd - 1] == '.' && ascii_ieq(dom + dl - dd, domain, dd))) {
        *why = "the identity (i=) domain must be the signing domain (d=) or a subdomain of it";
        return NULL;
    }
    for (size_t i = 0; i < local_len; i++) {
        unsigned char ch = (unsigned char)id[i];
        int dot_ok = ch == '.' && i > 0 && i + 1 < local_len && id[i + 1] != '.';
        if (!(is_atext(ch) || ch >= 0x80 || dot_ok)) {
            *why = "the identity (i=) local part must be a dot-atom";
            return NULL;
        }
    }
    char *out = malloc(local_len * 3 + 1 + dl + 1);
    if (!out) {
        *why = NULL;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < local_len; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch == '=' || ch >= 0x80) {
            static const char hex[] = "0123456789ABCDEF";
            out[o++] = '=';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '@';
    memcpy(out + o, dom, dl + 1);
    return out;
}

/* A field name for h=: RFC 5322 ftext, and no ';' (it would end the tag).
 * h= folds between names, never inside one, so a name must also fit on a
 * line: at most DKIM_NAME_MAX, as every name the message builder writes. */
static int valid_field_name(const char *s)
{
    if (!s || !*s || strlen(s) > DKIM_NAME_MAX)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || *s == ':' || *s == ';')
            return 0;
    return 1;
}

/* OpenSSL's pem_password_cb type fixes the signature. NOLINTNEXTLINE(readability-non-const-parameter) */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1; /* never prompt on a terminal for an encrypted key */
}

static EVP_PKEY *load_key(const char *pem, size_t len, int *ed25519, smtpcore_error *err)
{
    if (len == 0)
        len = strlen(pem);
    if (len == 0 || len > INT_MAX) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: the private key is empty or too large");
        return NULL;
    }
    /* Our failures must not linger in this thread's OpenSSL error queue,
     * where the TLS code would find them; errors queued before us stay. */
    ERR_set_mark();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    ERR_pop_to_mark();
    if (!bio) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    if (!key) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                   "DKIM: the private key is not an unencrypted PEM private key");
        return NULL;
    }
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 1024) {
            EVP_PKEY_free(key);
            sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                       "DKIM: the RSA key has %d bits; at least 1024 are required (2048 recommended)", bits);
            return NULL;
        }
        *ed25519 = 0;
    } else if (id == EVP_PKEY_ED25519) {
        *ed25519 = 1;
    } else {
        EVP_PKEY_free(key);
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: the private key must be RSA or Ed25519");
        return NULL;
    }
    return key;
}

static int body_sink(void *arg, const char *p, size_t n)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)arg, p, n) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------ lifecycle */

dkim_signer *dkim_signer_new(const dkim_options *o, smtpcore_error *err)
{
    if (!o || !o->domain || !o->selector || !o->key_pem) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: domain, selector and private key are required");
        return NULL;
    }
    if (!valid_dns_name(o->domain, 2)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                   "DKIM: the domain (d=) is not a valid DNS name (letters, digits, hyphens; A-labels for IDNs)");
        return NULL;
    }
    if (!valid_dns_name(o->selector, 1)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                   "DKIM: the selector (s=) is not a valid DNS name (letters, digits, hyphens)");
        return NULL;
    }
    if (strlen(o->selector) + strlen("._domainkey.") + strlen(o->domain) > 253) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: selector._domainkey.domain is longer than 253");
        return NULL;
    }
    if ((o->header_canon != DKIM_CANON_RELAXED && o->header_canon != DKIM_CANON_SIMPLE) ||
        (o->body_canon != DKIM_CANON_RELAXED && o->body_canon != DKIM_CANON_SIMPLE)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: unknown canonicalization");
        return NULL;
    }
    if (o->timestamp > DKIM_TIME_MAX) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: the timestamp (t=) is out of range");
        return NULL;
    }
    if (o->expire_after && (!o->timestamp || o->expire_after > DKIM_TIME_MAX - o->timestamp)) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                   o->timestamp ? "DKIM: the expiry (x=) is out of range"
                                : "DKIM: an expiry (x=) needs a timestamp (t=)");
        return NULL;
    }
    if (o->headers) {
        int has_from = 0;
        for (size_t i = 0; i < o->n_headers; i++) {
            if (!valid_field_name(o->headers[i])) {
                sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                           "DKIM: \"%s\" is not a header field name", o->headers[i] ? o->headers[i] : "(null)");
                return NULL;
            }
            /* The signature field cannot sign itself (RFC 6376 3.5: it is
             * hashed last, with b= empty); listed, a verifier would look for
             * an earlier DKIM-Signature that is not there and fail. */
            if (!strcasecmp(o->headers[i], "DKIM-Signature")) {
                sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                           "DKIM: DKIM-Signature cannot be in the signed header list (h=)");
                return NULL;
            }
            has_from |= is_from(o->headers[i]);
        }
        if (!has_from) {
            sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                       "DKIM: the signed header list (h=) must include From (RFC 6376 5.4)");
            return NULL;
        }
    }

    dkim_signer *s = calloc(1, sizeof *s);
    if (!s) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    s->header_canon = o->header_canon;
    s->body_canon = o->body_canon;
    s->t = o->timestamp;
    s->x = o->expire_after ? o->timestamp + o->expire_after : 0;
    s->domain = strdup(o->domain);
    s->selector = strdup(o->selector);
    if (!s->domain || !s->selector)
        goto oom;
    if (o->identity) {
        const char *why = NULL;
        if (!(s->identity = identity_tag(o->identity, o->domain, &why))) {
            if (!why)
                goto oom;
            sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: %s", why);
            dkim_signer_free(s);
            return NULL;
        }
    }
    if (o->headers) {
        if (!(s->names = calloc(o->n_headers, sizeof *s->names)))
            goto oom;
        s->n_names = o->n_headers;
        for (size_t i = 0; i < o->n_headers; i++)
            if (!(s->names[i] = strdup(o->headers[i])))
                goto oom;
    }
    if (!(s->key = load_key(o->key_pem, o->key_len, &s->ed25519, err))) {
        dkim_signer_free(s);
        return NULL;
    }
    ERR_set_mark();
    int md_ok = (s->body_md = EVP_MD_CTX_new()) != NULL && EVP_DigestInit_ex(s->body_md, EVP_sha256(), NULL) == 1;
    ERR_pop_to_mark();
    if (!md_ok) {
        dkim_signer_free(s);
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "DKIM: SHA-256 is not available");
        return NULL;
    }
    dkim_body_canon_init(&s->body, s->body_canon, body_sink, s->body_md);
    s->state = ST_OPEN;
    return s;
oom:
    dkim_signer_free(s);
    sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    return NULL;
}

void dkim_signer_free(dkim_signer *s)
{
    if (!s)
        return;
    free(s->domain);
    free(s->selector);
    free(s->identity);
    for (size_t i = 0; s->names && i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
    EVP_PKEY_free(s->key);
    EVP_MD_CTX_free(s->body_md);
    free(s);
}

int dkim_signer_body(dkim_signer *s, const char *data, size_t n)
{
    if (!s || s->state != ST_OPEN)
        return -1;
    if (n == 0)
        return 0;
    ERR_set_mark();
    int rc = data ? dkim_body_canon_feed(&s->body, data, n) : -1;
    ERR_pop_to_mark();
    if (rc < 0)
        s->state = ST_FAILED; /* sticky; dkim_signer_finish reports it */
    return rc;
}

/* ------------------------------------------------------------------ the signature field */

/* Writes the field with folding: tokens are separated by a space, or by
 * CRLF SP when the line would pass DKIM_LINE_MAX. */
typedef struct folder {
    sc_buf *b;
    size_t col;
    int oom;
} folder;

static void fold_put(folder *f, const char *s, size_t n, int space)
{
    if (f->col + (space ? 1 : 0) + n > DKIM_LINE_MAX && f->col > 1) {
        f->oom |= sc_buf_append(f->b, "\r\n ", 3) < 0;
        f->col = 1;
    } else if (space) {
        f->oom |= sc_buf_append(f->b, " ", 1) < 0;
        f->col++;
    }
    f->oom |= sc_buf_append(f->b, s, n) < 0;
    f->col += n;
}

static void fold_tag(folder *f, const char *tag, const char *value)
{
    sc_buf t;
    sc_buf_init(&t);
    if (sc_buf_printf(&t, "%s=%s;", tag, value) < 0)
        f->oom = 1;
    else
        fold_put(f, sc_buf_ptr(&t), sc_buf_size(&t), 1);
    sc_buf_free(&t);
}

/* The h= list for this header block: the caller's list, or the default list
 * with each name as often as it occurs (once if absent). From is listed
 * once more than it occurs either way, so a second From cannot be added. */
static const char **build_h_list(const dkim_signer *s, const char *block, const dkim_field *fields, size_t nf,
                                 size_t *n_out)
{
    size_t from_count = dkim_header_count(block, fields, nf, "From", 4);
    size_t total = 0;
    const char **list;
    if (!s->names) {
        size_t nd = sizeof default_headers / sizeof default_headers[0];
        size_t counts[sizeof default_headers / sizeof default_headers[0]];
        for (size_t i = 0; i < nd; i++) {
            size_t c = dkim_header_count(block, fields, nf, default_headers[i], strlen(default_headers[i]));
            counts[i] = i == 0 ? c + 1 : (c ? c : 1);
            total += counts[i];
        }
        if (!(list = malloc(total * sizeof *list)))
            return NULL;
        size_t k = 0;
        for (size_t i = 0; i < nd; i++)
            for (size_t j = 0; j < counts[i]; j++)
                list[k++] = default_headers[i];
    } else {
        size_t listed = 0, last_from = 0;
        for (size_t i = 0; i < s->n_names; i++)
            if (is_from(s->names[i])) {
                listed++;
                last_from = i;
            }
        size_t extra = listed < from_count + 1 ? from_count + 1 - listed : 0;
        total = s->n_names + extra;
        /* total >= 1: a list without From gets extra = from_count + 1.
         * NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
        if (!(list = malloc(total * sizeof *list)))
            return NULL;
        size_t k = 0;
        for (size_t i = 0; i < s->n_names; i++) {
            list[k++] = s->names[i];
            if (i == last_from)
                for (size_t j = 0; j < extra; j++)
                    list[k++] = "From";
        }
    }
    *n_out = total;
    return list;
}

static int sign_data(const dkim_signer *s, const sc_buf *data, unsigned char **sig, size_t *sig_len)
{
    ERR_set_mark();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char hash[32];
    const unsigned char *msg = (const unsigned char *)sc_buf_ptr(data);
    size_t msg_len = sc_buf_size(data);
    int ok = ctx != NULL;
    *sig = NULL;
    if (ok && s->ed25519) {
        /* RFC 8463: pure Ed25519 over the SHA-256 hash of the data. */
        ok = EVP_Digest(msg, msg_len, hash, NULL, EVP_sha256(), NULL) == 1 &&
             EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1;
        msg = hash;
        msg_len = sizeof hash;
    } else if (ok) {
        ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->key) == 1;
    }
    ok = ok && EVP_DigestSign(ctx, NULL, sig_len, msg, msg_len) == 1 && (*sig = malloc(*sig_len)) != NULL &&
         EVP_DigestSign(ctx, *sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    if (!ok) {
        free(*sig);
        *sig = NULL;
        return -1;
    }
    return 0;
}

int dkim_signer_finish(dkim_signer *s, const char *headers, size_t len, sc_buf *out, smtpcore_error *err)
{
    if (!s || !out || (!headers && len))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: no signer, header block or output");
    if (s->state == ST_DONE)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: this signer has already signed");
    if (s->state == ST_FAILED) {
        s->state = ST_DONE;
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "DKIM: hashing the body failed");
    }
    s->state = ST_DONE;

    int rc = -1;
    dkim_field *fields = NULL;
    size_t nf = 0, bad = 0, n_h = 0;
    const char **h = NULL;
    size_t *sel = NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    char *sig_b64 = NULL;
    sc_buf data, field;
    sc_buf_init(&data);
    sc_buf_init(&field);

    /* The body hash. */
    unsigned char bh[EVP_MAX_MD_SIZE];
    unsigned int bh_len = 0;
    char bh_b64[((EVP_MAX_MD_SIZE + 2) / 3) * 4 + 1];
    ERR_set_mark();
    int bh_ok = dkim_body_canon_finish(&s->body) == 0 && EVP_DigestFinal_ex(s->body_md, bh, &bh_len) == 1;
    ERR_pop_to_mark();
    if (!bh_ok) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "DKIM: hashing the body failed");
        goto out;
    }
    sc_b64_encode(bh, bh_len, bh_b64);

    /* The header fields, selected by h=. */
    dkim_hdr_status st = dkim_header_parse(headers ? headers : "", len, &fields, &nf, &bad);
    if (st == DKIM_HDR_NOMEM)
        goto oom;
    if (st == DKIM_HDR_MALFORMED) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                   "DKIM: the header block is malformed at byte %zu (every line must be a field or a "
                   "continuation, ending in CRLF)",
                   bad);
        goto out;
    }
    if (dkim_header_count(headers, fields, nf, "From", 4) == 0) {
        sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "DKIM: the message has no From header field");
        goto out;
    }
    if (!(h = build_h_list(s, headers, fields, nf, &n_h)) || !(sel = malloc(n_h * sizeof *sel)) ||
        dkim_header_select(headers, fields, nf, h, n_h, sel) < 0)
        goto oom;
    for (size_t i = 0; i < n_h; i++) {
        if (sel[i] == (size_t)-1)
            continue; /* absent: contributes nothing, but stays in h= */
        const dkim_field *f = &fields[sel[i]];
        if (dkim_header_canon(s->header_canon, headers + f->start, f->len, &data) < 0 ||
            sc_buf_append(&data, "\r\n", 2) < 0)
            goto oom;
    }

    /* The signature field up to "b=", which is also what gets signed. */
    folder fo = {.b = &field, .col = 0, .oom = 0};
    fo.oom |= sc_buf_append_str(&field, "DKIM-Signature:") < 0;
    fo.col = strlen("DKIM-Signature:");
    fold_tag(&fo, "v", "1");
    fold_tag(&fo, "a", s->ed25519 ? "ed25519-sha256" : "rsa-sha256");
    fold_tag(&fo, "c", s->header_canon == DKIM_CANON_SIMPLE
                           ? (s->body_canon == DKIM_CANON_SIMPLE ? "simple/simple" : "simple/relaxed")
                           : (s->body_canon == DKIM_CANON_SIMPLE ? "relaxed/simple" : "relaxed/relaxed"));
    fold_tag(&fo, "d", s->domain);
    fold_tag(&fo, "s", s->selector);
    if (s->identity)
        fold_tag(&fo, "i", s->identity);
    char num[24];
    if (s->t) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)s->t);
        fold_tag(&fo, "t", num);
    }
    if (s->x) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)s->x);
        fold_tag(&fo, "x", num);
    }
    /* h= folds after a colon (FWS is allowed around each ':'). */
    for (size_t i = 0; i < n_h; i++) {
        sc_buf piece;
        sc_buf_init(&piece);
        fo.oom |= sc_buf_printf(&piece, "%s%s%s", i == 0 ? "h=" : "", h[i], i + 1 == n_h ? ";" : ":") < 0;
        fold_put(&fo, sc_buf_ptr(&piece), sc_buf_size(&piece), i == 0);
        sc_buf_free(&piece);
    }
    fold_tag(&fo, "bh", bh_b64);
    fold_put(&fo, "b=", 2, 1);
    if (fo.oom)
        goto oom;
    if (dkim_header_canon(s->header_canon, sc_buf_ptr(&field), sc_buf_size(&field), &data) < 0)
        goto oom;

    if (sign_data(s, &data, &sig, &sig_len) < 0) {
        sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "DKIM: signing failed");
        goto out;
    }
    if (!(sig_b64 = malloc(sc_b64_encoded_len(sig_len) + 1)))
        goto oom;
    size_t b64_len = sc_b64_encode(sig, sig_len, sig_b64);

    /* b= value: fill each line, continuing with CRLF SP (FWS inside base64 is ignored). */
    for (size_t off = 0; off < b64_len;) {
        if (fo.col >= DKIM_LINE_MAX) {
            fo.oom |= sc_buf_append(&field, "\r\n ", 3) < 0;
            fo.col = 1;
        }
        size_t k = DKIM_LINE_MAX - fo.col;
        if (k > b64_len - off)
            k = b64_len - off;
        fo.oom |= sc_buf_append(&field, sig_b64 + off, k) < 0;
        fo.col += k;
        off += k;
    }
    fo.oom |= sc_buf_append(&field, "\r\n", 2) < 0;
    if (fo.oom || sc_buf_append(out, sc_buf_ptr(&field), sc_buf_size(&field)) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
out:
    free(fields);
    free(h);
    free(sel);
    free(sig);
    free(sig_b64);
    sc_buf_free(&data);
    sc_buf_free(&field);
    return rc;
}
