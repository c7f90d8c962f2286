#include "util/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void sc_secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
