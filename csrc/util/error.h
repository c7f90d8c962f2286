/* Filling the public smtpcore_error from inside the core. */
#ifndef SC_ERROR_H
#define SC_ERROR_H

#include "smtpcore.h"

/* Replace *err (if non-NULL) with a new error. enhanced and server_text may be
 * NULL. The hint is looked up from (cat, code, enhanced). Always returns -1
 * so callers can `return sc_err_set(...)`. */
int sc_err_set(smtpcore_error *err, smtpcore_category cat, int code, const char *enhanced,
               const char *server_text, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Deep copy src into dst (dst is cleared first). */
void sc_err_copy(smtpcore_error *dst, const smtpcore_error *src);

/* 1 if s contains CR, LF or NUL within its first n bytes (n = strlen if (size_t)-1). */
int sc_has_ctl_breaks(const char *s);

#endif
