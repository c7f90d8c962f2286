#include "smtp/envelope_check.h"

#include <string.h>
#include <strings.h>

#include "util/error.h"

static int is_atext(unsigned char c)
{
    if (c >= 0x80)
        return 1; /* UTF-8 (RFC 6531); checked for SMTPUTF8 support elsewhere */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

static int check_domain(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253)
        return 0;
    if (d[0] == '[') {
        /* Address literal: printable ASCII, no brackets or backslash inside. */
        if (d[n - 1] != ']' || n < 3)
            return 0;
        for (size_t i = 1; i + 1 < n; i++) {
            unsigned char c = (unsigned char)d[i];
            if (c <= 32 || c >= 127 || c == '[' || c == ']' || c == '\\')
                return 0;
        }
        return 1;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            continue;
        }
        if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0;
}

int smtp_check_address(const char *addr)
{
    size_t n = strlen(addr);
    if (n == 0 || n > SMTP_MAX_ADDRESS)
        return 0;
    const char *p = addr;
    if (*p == '"') {
        /* Quoted local part: printable ASCII or UTF-8, backslash escapes, no
         * controls at all (not even escaped: they would reach the wire). */
        p++;
        for (;;) {
            unsigned char c = (unsigned char)*p;
            /* NUL is named on purpose: it ends the string. NOLINTNEXTLINE(misc-redundant-expression) */
            if (c == '\0' || c < 32 || c == 127)
                return 0;
            if (c == '"')
                break;
            if (c == '\\') {
                p++;
                c = (unsigned char)*p;
                /* NUL is named on purpose: it ends the string. NOLINTNEXTLINE(misc-redundant-expression) */
                if (c == '\0' || c < 32 || c == 127)
                    return 0;
            }
            p++;
        }
        p++;
        if (p - addr - 2 > 64 || *p != '@')
            return 0;
    } else {
        const char *start = p;
        int prev_dot = 1;
        for (; *p && *p != '@'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '.') {
                if (prev_dot)
                    return 0;
                prev_dot = 1;
                continue;
            }
            if (!is_atext(c))
                return 0;
            prev_dot = 0;
        }
        if (p == start || prev_dot || p - start > 64 || *p != '@')
            return 0;
    }
    return check_domain(p + 1);
}

int smtp_check_ehlo_name(const char *name)
{
    return name && check_domain(name);
}

static int check_envid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126)
            return 0;
    return 1;
}

int smtp_check_envelope(const smtpcore_envelope *env, smtpcore_error *err)
{
    if (!env || !env->sender)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no sender given (use \"\" for a null sender)");
    if (env->sender[0] && !smtp_check_address(env->sender))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid sender address");
    if (env->n_recipients == 0 || !env->recipients)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "no recipients given");
    for (size_t i = 0; i < env->n_recipients; i++) {
        const smtpcore_recipient *r = &env->recipients[i];
        if (!r->address || (!smtp_check_address(r->address) && strcasecmp(r->address, "postmaster") != 0))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid recipient address (number %zu)", i + 1);
        if ((r->notify & SMTPCORE_NOTIFY_NEVER) && (r->notify & ~SMTPCORE_NOTIFY_NEVER))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                              "NOTIFY=NEVER cannot be combined with other notifications (recipient %zu)", i + 1);
        if (r->notify & ~(unsigned)(SMTPCORE_NOTIFY_NEVER | SMTPCORE_NOTIFY_SUCCESS | SMTPCORE_NOTIFY_FAILURE |
                                     SMTPCORE_NOTIFY_DELAY))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "unknown NOTIFY bits (recipient %zu)", i + 1);
        if (r->orcpt && !smtp_check_address(r->orcpt))
            return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid ORCPT address (recipient %zu)", i + 1);
    }
    if (env->dsn_envid && !check_envid(env->dsn_envid))
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL,
                          "invalid DSN ENVID (1-100 printable ASCII characters)");
    if ((unsigned)env->dsn_ret > SMTPCORE_DSN_RET_HDRS)
        return sc_err_set(err, SMTPCORE_ERR_USAGE, 0, NULL, NULL, "invalid DSN RET value");
    return 0;
}

int smtpcore_envelope_check(const smtpcore_envelope *env, smtpcore_error *err)
{
    return smtp_check_envelope(env, err);
}

/* xtext (RFC 3461 4): '+', '=' and anything outside '!'..'~' as +HH. */
static int append_xtext(sc_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc = (c < 33 || c > 126 || c == '+' || c == '=') ? sc_buf_printf(out, "+%02X", c)
                                                             : sc_buf_append(out, s, 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* utf-8-addr-unitext (RFC 6533 3): UTF-8 as is, '+', '=', space and
 * controls as \x{HH}. */
static int append_unitext(sc_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc = (c <= 32 || c == 127 || c == '+' || c == '=' || c == '\\') ? sc_buf_printf(out, "\\x{%02X}", c)
                                                                           : sc_buf_append(out, s, 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int smtp_format_mail(sc_buf *out, const smtpcore_envelope *env, uint64_t size, int body_8bit, int smtputf8, int dsn)
{
    int rc = sc_buf_printf(out, "MAIL FROM:<%s>", env->sender);
    if (size)
        rc |= sc_buf_printf(out, " SIZE=%llu", (unsigned long long)size);
    if (body_8bit)
        rc |= sc_buf_append_str(out, " BODY=8BITMIME");
    if (smtputf8)
        rc |= sc_buf_append_str(out, " SMTPUTF8");
    if (dsn && env->dsn_ret)
        rc |= sc_buf_append_str(out, env->dsn_ret == SMTPCORE_DSN_RET_FULL ? " RET=FULL" : " RET=HDRS");
    if (dsn && env->dsn_envid) {
        rc |= sc_buf_append_str(out, " ENVID=");
        rc |= append_xtext(out, env->dsn_envid);
    }
    return rc ? -1 : 0;
}

int smtp_format_rcpt(sc_buf *out, const smtpcore_recipient *r, int dsn)
{
    int rc = sc_buf_printf(out, "RCPT TO:<%s>", r->address);
    if (dsn && r->notify) {
        if (r->notify & SMTPCORE_NOTIFY_NEVER) {
            rc |= sc_buf_append_str(out, " NOTIFY=NEVER");
        } else {
            const char *sep = " NOTIFY=";
            if (r->notify & SMTPCORE_NOTIFY_SUCCESS) rc |= sc_buf_printf(out, "%sSUCCESS", sep), sep = ",";
            if (r->notify & SMTPCORE_NOTIFY_FAILURE) rc |= sc_buf_printf(out, "%sFAILURE", sep), sep = ",";
            if (r->notify & SMTPCORE_NOTIFY_DELAY) rc |= sc_buf_printf(out, "%sDELAY", sep);
        }
    }
    if (dsn && r->orcpt) {
        int utf8 = 0;
        for (const char *p = r->orcpt; *p; p++)
            utf8 |= (unsigned char)*p >= 0x80;
        if (utf8) {
            rc |= sc_buf_append_str(out, " ORCPT=utf-8;");
            rc |= append_unitext(out, r->orcpt);
        } else {
            rc |= sc_buf_append_str(out, " ORCPT=rfc822;");
            rc |= append_xtext(out, r->orcpt);
        }
    }
    return rc ? -1 : 0;
}
