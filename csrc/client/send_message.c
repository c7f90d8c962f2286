/* Sending a message description through a session: the server's EHLO
 * decides 8BITMIME and SMTPUTF8, the renderer gives the exact size, and the
 * body streams from the reader. */
#include <stdlib.h>

#include "mime/message.h"
#include "util/error.h"

struct reader_source {
    smtpcore_message_reader *r;
    smtpcore_error err;
};

static long long read_message(void *ctx, char *buf, size_t n)
{
    struct reader_source *rs = ctx;
    return smtpcore_message_reader_read(rs->r, buf, n, &rs->err);
}

int smtpcore_session_send_message(smtpcore_session *s, smtpcore_message *m, smtpcore_result **out,
                                  smtpcore_error *err)
{
    if (out)
        *out = NULL;
    if (!s || !m)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no session or no message");
    unsigned caps = smtpcore_session_get_info(s)->capabilities;
    unsigned flags = (caps & SMTPCORE_CAP_8BITMIME) ? SMTPCORE_RENDER_8BIT : 0;
    if (mime_message_needs_smtputf8(m)) {
        if (!(caps & SMTPCORE_CAP_SMTPUTF8))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "an address has non-ASCII characters before the @, which needs SMTPUTF8 "
                              "(RFC 6531), and the server does not offer it");
        flags |= SMTPCORE_RENDER_SMTPUTF8;
    }
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(m, flags, &sender, &rcpts, &n, err) < 0)
        return -1;
    smtpcore_recipient *r = calloc(n, sizeof *r);
    if (!r)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    for (size_t i = 0; i < n; i++)
        r[i].address = rcpts[i];
    smtpcore_envelope env = {.sender = sender, .recipients = r, .n_recipients = n, .all_or_nothing = -1};
    struct reader_source rs = {0};
    rs.r = smtpcore_message_reader_new(m, flags, err);
    if (!rs.r) {
        free(r);
        return -1;
    }
    smtpcore_source src = {.read = read_message, .ctx = &rs, .size_hint = smtpcore_message_reader_size(rs.r),
                           .eight_bit = mime_reader_eight_bit(rs.r)};
    int rc = smtpcore_session_send(s, &env, &src, out, err);
    /* A failure inside the renderer (a file that changed) is the real cause. */
    if (rc < 0 && rs.err.category != SMTPCORE_OK && err && err->category == SMTPCORE_ERR_LOCAL)
        sc_err_copy(err, &rs.err);
    smtpcore_error_clear(&rs.err);
    smtpcore_message_reader_free(rs.r);
    free(r);
    return rc;
}
