#include "smtp/result.h"

#include <stdlib.h>
#include <string.h>

smtpcore_result *smtp_result_new(size_t n)
{
    smtpcore_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rcpts = calloc(n ? n : 1, sizeof *r->rcpts);
    if (!r->rcpts) {
        free(r);
        return NULL;
    }
    r->n = n;
    return r;
}

static int replace_str(const char **slot, const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy)
        return -1;
    free((char *)*slot);
    *slot = copy;
    return 0;
}

int smtp_result_set_rcpt(smtpcore_result *r, size_t i, const char *address)
{
    return replace_str(&r->rcpts[i].address, address);
}

int smtp_result_set_reply(smtpcore_rcpt_status *st, int code, const char *enhanced, const char *text)
{
    st->code = code;
    strncpy(st->enhanced, enhanced ? enhanced : "", sizeof st->enhanced - 1);
    st->enhanced[sizeof st->enhanced - 1] = '\0';
    return replace_str(&st->text, text);
}

int smtp_result_set_final(smtpcore_result *r, int code, const char *enhanced, const char *text)
{
    r->code = code;
    strncpy(r->enhanced, enhanced ? enhanced : "", sizeof r->enhanced - 1);
    r->enhanced[sizeof r->enhanced - 1] = '\0';
    char *copy = strdup(text ? text : "");
    if (!copy)
        return -1;
    free(r->text);
    r->text = copy;
    return 0;
}

void smtpcore_result_free(smtpcore_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->rcpts[i].address);
        free((char *)r->rcpts[i].text);
    }
    free(r->rcpts);
    free(r->text);
    free(r);
}

size_t smtpcore_result_count(const smtpcore_result *r) { return r ? r->n : 0; }

const smtpcore_rcpt_status *smtpcore_result_get(const smtpcore_result *r, size_t i)
{
    return r && i < r->n ? &r->rcpts[i] : NULL;
}

size_t smtpcore_result_accepted(const smtpcore_result *r)
{
    size_t k = 0;
    for (size_t i = 0; r && i < r->n; i++)
        k += r->rcpts[i].accepted ? 1 : 0;
    return k;
}

int smtpcore_result_code(const smtpcore_result *r) { return r ? r->code : 0; }
const char *smtpcore_result_enhanced(const smtpcore_result *r) { return r ? r->enhanced : ""; }
const char *smtpcore_result_text(const smtpcore_result *r) { return r && r->text ? r->text : ""; }
