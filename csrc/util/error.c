#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const category_names[] = {
    [SMTPCORE_OK] = "ok",
    [SMTPCORE_ERR_CONNECT] = "connect",
    [SMTPCORE_ERR_DNS] = "dns",
    [SMTPCORE_ERR_TLS] = "tls",
    [SMTPCORE_ERR_AUTH] = "auth",
    [SMTPCORE_ERR_SENDER] = "sender",
    [SMTPCORE_ERR_RECIPIENT] = "recipient",
    [SMTPCORE_ERR_SIZE] = "size",
    [SMTPCORE_ERR_RELAY] = "relay",
    [SMTPCORE_ERR_TIMEOUT] = "timeout",
    [SMTPCORE_ERR_PROTOCOL] = "protocol",
    [SMTPCORE_ERR_LOCAL] = "local",
    [SMTPCORE_ERR_USAGE] = "usage",
};

const char *smtpcore_category_name(smtpcore_category c)
{
    if ((unsigned)c < sizeof category_names / sizeof category_names[0] && category_names[c])
        return category_names[c];
    return "unknown";
}

void smtpcore_error_clear(smtpcore_error *err)
{
    if (!err)
        return;
    free(err->server_text);
    free(err->message);
    memset(err, 0, sizeof *err);
}

int sc_err_set(smtpcore_error *err, smtpcore_category cat, int code, const char *enhanced,
               const char *server_text, const char *fmt, ...)
{
    if (!err)
        return -1;
    smtpcore_error_clear(err);
    err->category = cat;
    err->code = code;
    if (enhanced) {
        strncpy(err->enhanced, enhanced, sizeof err->enhanced - 1);
        err->enhanced[sizeof err->enhanced - 1] = '\0';
    }
    if (server_text)
        err->server_text = strdup(server_text);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        err->message = malloc((size_t)n + 1);
        if (err->message) {
            va_start(ap, fmt);
            vsnprintf(err->message, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    err->hint = smtpcore_hint_for(cat, code, err->enhanced);
    return -1;
}

void sc_err_copy(smtpcore_error *dst, const smtpcore_error *src)
{
    if (!dst || dst == src)
        return;
    smtpcore_error_clear(dst);
    *dst = *src;
    dst->server_text = src->server_text ? strdup(src->server_text) : NULL;
    dst->message = src->message ? strdup(src->message) : NULL;
}

int sc_has_ctl_breaks(const char *s)
{
    /* NUL cannot be inside a C string; callers with lengths check it themselves. */
    return s && strpbrk(s, "\r\n") != NULL;
}
