/* Signs a message with DKIM for the dkimpy cross-check
 * (tests/integration/test_dkim_verify.py).
 *
 *   dkim_probe KEYFILE DOMAIN SELECTOR CANON MESSAGEFILE
 *              [--seed N] [--headers From:To:...] [--identity ID] [--timestamp T] [--expire S]
 *
 * CANON is header/body ("relaxed/simple"). The message is a header block, an
 * empty line and the body; the body goes to the signer in random-sized chunks
 * (from --seed) so the cross-check also covers chunking. Prints the
 * DKIM-Signature field followed by the unchanged message. On failure prints
 * "error <category>: <message>" to stderr and exits with 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *q = realloc(p, cap *= 2);
            if (!q)
                free(p);
            p = q;
        }
    }
    fclose(f);
    *len = n;
    return p;
}

static int parse_canon(const char *s, dkim_canon *c)
{
    if (strcmp(s, "relaxed") == 0)
        *c = DKIM_CANON_RELAXED;
    else if (strcmp(s, "simple") == 0)
        *c = DKIM_CANON_SIMPLE;
    else
        return -1;
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "error %s\n", what);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        return fail("usage: dkim_probe KEYFILE DOMAIN SELECTOR CANON MESSAGEFILE [options]");
    unsigned long seed = 1;
    char *hlist = NULL;
    const char *names[64];
    dkim_options o = {.domain = argv[2], .selector = argv[3]};
    for (int i = 6; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seed") == 0) {
            seed = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--headers") == 0) {
            hlist = argv[i + 1];
            for (char *save = NULL, *t = strtok_r(hlist, ":", &save); t && o.n_headers < 64;
                 t = strtok_r(NULL, ":", &save))
                names[o.n_headers++] = t;
            o.headers = names;
        } else if (strcmp(argv[i], "--identity") == 0) {
            o.identity = argv[i + 1];
        } else if (strcmp(argv[i], "--timestamp") == 0) {
            o.timestamp = strtoull(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--expire") == 0) {
            o.expire_after = strtoull(argv[i + 1], NULL, 10);
        } else {
            return fail("unknown option");
        }
    }
    char canon[32];
    snprintf(canon, sizeof canon, "%s", argv[4]);
    char *slash = strchr(canon, '/');
    if (!slash)
        return fail("CANON is header/body");
    *slash = '\0';
    if (parse_canon(canon, &o.header_canon) < 0 || parse_canon(slash + 1, &o.body_canon) < 0)
        return fail("CANON is relaxed or simple");

    size_t key_len = 0, msg_len = 0;
    char *key = slurp(argv[1], &key_len);
    char *msg = slurp(argv[5], &msg_len);
    int rc = 2;
    smtpcore_error err = {0};
    dkim_signer *s = NULL;
    sc_buf out;
    sc_buf_init(&out);
    if (!key || !msg) {
        fail("cannot read the key or the message");
        goto done;
    }
    o.key_pem = key;
    o.key_len = key_len;

    /* header block (with its final CRLF) | CRLF | body */
    size_t hdr_len = 0, body_at = 2;
    if (msg_len < 2 || memcmp(msg, "\r\n", 2) != 0) {
        const char *sep = NULL;
        for (size_t i = 0; i + 4 <= msg_len && !sep; i++)
            if (memcmp(msg + i, "\r\n\r\n", 4) == 0)
                sep = msg + i;
        if (!sep) {
            fail("the message has no empty line after the header");
            goto done;
        }
        hdr_len = (size_t)(sep - msg) + 2;
        body_at = hdr_len + 2;
    }

    if (!(s = dkim_signer_new(&o, &err)))
        goto failed;
    srand((unsigned)seed);
    for (size_t at = body_at; at < msg_len;) {
        int r = rand();
        size_t k = r % 4 == 0 ? 1 : r % 4 == 1 ? (size_t)(r >> 4) % 7 : (size_t)(r >> 4) % 5000;
        if (k > msg_len - at)
            k = msg_len - at;
        if (dkim_signer_body(s, msg + at, k) < 0)
            break; /* reported by dkim_signer_finish */
        at += k;
    }
    if (dkim_signer_finish(s, msg, hdr_len, &out, &err) < 0)
        goto failed;
    fwrite(sc_buf_ptr(&out), 1, sc_buf_size(&out), stdout);
    fwrite(msg, 1, msg_len, stdout);
    rc = 0;
    goto done;
failed:
    fprintf(stderr, "error %s: %s\n", smtpcore_category_name(err.category), err.message ? err.message : "");
done:
    smtpcore_error_clear(&err);
    sc_buf_free(&out);
    dkim_signer_free(s);
    free(key);
    free(msg);
    return rc;
}
