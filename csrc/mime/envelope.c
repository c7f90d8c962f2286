/* The envelope a message implies: who it is from and everyone it goes to,
 * taken from the parsed addresses, so envelope and headers can never
 * disagree about an address. */
#include <stdlib.h>
#include <string.h>

#include "mime/message.h"
#include "util/error.h"

static int add_unique(smtpcore_message *m, const mime_mailbox *mb, unsigned flags, smtpcore_error *err)
{
    sc_buf b;
    sc_buf_init(&b);
    if (mime_mailbox_addr_spec(mb, (flags & SMTPCORE_RENDER_SMTPUTF8) != 0, &b, err) < 0) {
        sc_buf_free(&b);
        return -1;
    }
    char *addr = sc_buf_strdup(&b);
    sc_buf_free(&b);
    if (!addr)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    for (size_t i = 0; i < m->n_env_rcpts; i++)
        if (!strcmp(m->env_rcpts[i], addr)) {
            free(addr);
            return 0;
        }
    char **r = realloc(m->env_rcpts, (m->n_env_rcpts + 1) * sizeof *r);
    if (!r) {
        free(addr);
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    }
    m->env_rcpts = r;
    m->env_rcpts[m->n_env_rcpts++] = addr;
    return 0;
}

void mime_message_envelope_clear(smtpcore_message *m)
{
    free(m->env_sender);
    for (size_t i = 0; i < m->n_env_rcpts; i++)
        free(m->env_rcpts[i]);
    free(m->env_rcpts);
    m->env_sender = NULL;
    m->env_rcpts = NULL;
    m->n_env_rcpts = 0;
}

int smtpcore_message_envelope(smtpcore_message *m, unsigned flags, const char **sender,
                              const char *const **recipients, size_t *n, smtpcore_error *err)
{
    if (!m)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no message");
    mime_message_envelope_clear(m);
    if (m->null_envelope_sender) {
        m->env_sender = strdup("");
    } else {
        const mime_mailbox *mb = m->has_envelope_sender ? &m->envelope_sender
                                 : m->has_sender        ? &m->sender
                                 : m->has_from          ? &m->from
                                                        : NULL;
        if (!mb)
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the message has no From address");
        sc_buf b;
        sc_buf_init(&b);
        if (mime_mailbox_addr_spec(mb, (flags & SMTPCORE_RENDER_SMTPUTF8) != 0, &b, err) < 0) {
            sc_buf_free(&b);
            return -1;
        }
        m->env_sender = sc_buf_strdup(&b);
        sc_buf_free(&b);
    }
    if (!m->env_sender)
        return sc_err_set(err, SMTPCORE_ERR_LOCAL, 0, NULL, NULL, "out of memory");
    const mime_mailbox_list *lists[] = {&m->to, &m->cc, &m->bcc};
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (add_unique(m, &lists[l]->items[i], flags, err) < 0)
                return -1;
    if (m->n_env_rcpts == 0)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "the message has no recipients (To, Cc or Bcc)");
    *sender = m->env_sender;
    *recipients = (const char *const *)m->env_rcpts;
    *n = m->n_env_rcpts;
    return 0;
}

int mime_message_needs_smtputf8(const smtpcore_message *m)
{
    if ((m->has_from && m->from.local_utf8) || (m->has_sender && m->sender.local_utf8))
        return 1;
    const mime_mailbox_list *lists[] = {&m->to, &m->cc, &m->bcc, &m->reply_to};
    for (size_t l = 0; l < 4; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (lists[l]->items[i].local_utf8)
                return 1;
    return m->has_envelope_sender && !m->null_envelope_sender && m->envelope_sender.local_utf8;
}
