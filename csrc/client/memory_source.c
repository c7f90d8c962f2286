/* A message source over bytes held in memory: what send_bytes, the bindings'
 * raw sends and a batch of pre-composed messages all need. */
#include <string.h>

#include "smtpcore.h"

static long long memory_read(void *ctx, char *buf, size_t n)
{
    smtpcore_memory_source *m = ctx;
    if (n > m->left)
        n = m->left;
    if (n)
        memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (long long)n;
}

int smtpcore_has_eight_bit(const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 0x80)
            return 1;
    return 0;
}

smtpcore_source smtpcore_source_from_memory(smtpcore_memory_source *m, const void *data, size_t len,
                                            int eight_bit)
{
    m->p = data;
    m->left = len;
    return (smtpcore_source){.read = memory_read, .ctx = m, .size_hint = len, .eight_bit = eight_bit};
}
