/* libFuzzer target for the SASL challenge decoders (security notes: curl
 * CVE-2013-0249 was a SASL decoder overflow).
 *
 * Input layout:
 *   byte 0   bits 0-3: mechanism ((b & 15) % 5: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2)
 *            bit 6:    the challenges are raw payloads; the harness base64-encodes
 *                      them, so the fuzzer reaches the SCRAM/XOAUTH2 parsers directly
 *            bit 7:    skip smtp_sasl_initial() (the server sends an empty 334 first)
 *   rest     challenges separated by '\n', fed in order to smtp_sasl_step()
 *            until one fails; then smtp_sasl_finish().
 * The rest is also handed to smtp_sasl_choose() / smtp_sasl_offered() as an
 * AUTH list. SCRAM uses RFC 7677's user, password and client nonce, so the
 * seed corpus can replay that exchange to the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/sasl.h"
#include "util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const smtp_sasl_mech mechs[] = {SMTP_SASL_PLAIN, SMTP_SASL_LOGIN, SMTP_SASL_CRAM_MD5, SMTP_SASL_SCRAM_SHA_256,
                                       SMTP_SASL_XOAUTH2};

static void check_response(const char *out)
{
    /* Every response must be a NUL-terminated base64 line: never CR or LF. */
    if (!out)
        return;
    size_t n = strlen(out);
    if (memchr(out, '\r', n) || memchr(out, '\n', n))
        abort();
    if (n % 4 != 0)
        abort();
}

static void fuzz_choose(const uint8_t *data, size_t size)
{
    char *list = malloc(size + 1);
    if (!list)
        return;
    memcpy(list, data, size);
    list[size] = '\0';
    for (int pw = 0; pw < 2; pw++)
        for (int tok = 0; tok < 2; tok++) {
            smtp_sasl_mech m = smtp_sasl_choose(list, pw, tok);
            if (m != SMTP_SASL_NONE && !smtp_sasl_offered(list, m))
                abort(); /* chose something the server did not offer */
        }
    free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    smtp_sasl_mech mech = mechs[(sel & 15) % 5];
    int raw_mode = (sel & 0x40) != 0;
    int skip_initial = (sel & 0x80) != 0;
    data++;
    size--;

    fuzz_choose(data, size);

    smtpcore_error err = {0};
    const char *secret = mech == SMTP_SASL_XOAUTH2 ? "ya29.token" : "pencil";
    smtp_sasl *s = smtp_sasl_new(mech, "user", secret, &err);
    if (!s)
        abort();
    smtp_sasl_test_set_nonce(s, "rOprNGfwEbeRWgbNEkqO");

    int failed = 0;
    if (!skip_initial) {
        char *ir = NULL;
        if (smtp_sasl_initial(s, &ir, &err) < 0)
            abort();
        check_response(ir);
        free(ir);
    }

    size_t pos = 0;
    while (!failed) {
        const uint8_t *nl = size > pos ? memchr(data + pos, '\n', size - pos) : NULL;
        size_t end = nl ? (size_t)(nl - data) : size;
        const char *challenge = (const char *)data + pos;
        size_t len = end - pos;
        char *enc = NULL;
        if (raw_mode) {
            enc = malloc(sc_b64_encoded_len(len) + 1);
            if (!enc)
                break;
            len = sc_b64_encode(data + pos, len, enc);
            challenge = enc;
        }
        char *out = NULL;
        if (smtp_sasl_step(s, challenge, len, &out, &err) < 0) {
            if (out || !err.message || err.category == SMTPCORE_OK)
                abort(); /* failures must be reported, with nothing to send */
            failed = 1;
        } else {
            if (!out)
                abort();
            check_response(out);
        }
        free(out);
        free(enc);
        if (!nl)
            break;
        pos = end + 1;
    }

    int fin = smtp_sasl_finish(s, &err);
    (void)smtp_sasl_server_error(s);
    if (fin == 0 && failed)
        abort(); /* an exchange that failed must never finish successfully */
    smtp_sasl_free(s);
    smtpcore_error_clear(&err);
    return 0;
}
