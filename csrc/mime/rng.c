/* Values for boundaries and Message-IDs: splitmix64, seeded by the message's
 * seed for reproducible output, otherwise from the OS's random source. */
#include <openssl/rand.h>

#include "mime/message.h"

void mime_rng_init(mime_rng *r, const smtpcore_message *m)
{
    r->seeded = m->has_seed;
    r->state = m->seed;
    if (!r->seeded && RAND_bytes((unsigned char *)&r->state, sizeof r->state) != 1)
        r->state ^= (uint64_t)(uintptr_t)r * 0x9E3779B97F4A7C15ULL; /* never reached in practice */
}

uint64_t mime_rng_next(mime_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
