/* The smtpcore PHP extension: SmtpCore\Message, Client, Result and the
 * exceptions over the C core (csrc/include/smtpcore.h). The glue is thin: it
 * converts values, owns one C handle per object and maps smtpcore_error to
 * exceptions. Include after php.h. */
#ifndef PHP_SMTPCORE_H
#define PHP_SMTPCORE_H

#include "smtpcore.h"

extern zend_module_entry smtpcore_module_entry;
#define phpext_smtpcore_ptr &smtpcore_module_entry

#define PHP_SMTPCORE_VERSION SMTPCORE_VERSION

#if defined(ZTS) && defined(COMPILE_DL_SMTPCORE)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

/* ------------------------------------------------- between the glue files */

/* Set once in MINIT, read-only afterwards (so shared safely by ZTS threads). */
extern zend_class_entry *smtpcore_message_ce;
extern zend_class_entry *smtpcore_client_ce;
extern zend_class_entry *smtpcore_result_ce;
extern zend_class_entry *smtpcore_exception_ce;
/* The exception class for each smtpcore_category (SMTPCORE_OK: the base class). */
#define SMTPCORE_N_CATEGORIES (SMTPCORE_ERR_USAGE + 1)
extern zend_class_entry *smtpcore_exception_by_category[SMTPCORE_N_CATEGORIES];

/* A Message owns its C message. While a Client sends it the message is
 * locked: the renderer reads it, so changes from a transcript callback are
 * refused. */
typedef struct smtpcore_message_object {
    smtpcore_message *msg;
    uint32_t sending;
    zend_object std;
} smtpcore_message_object;

static inline smtpcore_message_object *smtpcore_message_from_obj(zend_object *obj)
{
    return (smtpcore_message_object *)((char *)obj - XtOffsetOf(smtpcore_message_object, std));
}

/* MINIT parts: object handlers for the classes registered in smtpcore.c. */
void smtpcore_message_minit(zend_class_entry *ce);
void smtpcore_client_minit(zend_class_entry *ce);

/* A Result object (in *out) from a C result; r may be NULL (nothing sent). */
void smtpcore_result_to_zval(zval *out, const smtpcore_result *r);

/* The exception object (in *out, not thrown) of err's category, with the
 * transcript (an array zval, shared; may be NULL) and the per-recipient
 * result (may be NULL) attached. err is left as it is. */
void smtpcore_exception_new(zval *out, const smtpcore_error *err, zval *transcript, const smtpcore_result *r);

/* Throw the exception class of err's category, with the transcript (may be
 * NULL) and the per-recipient result (may be NULL) attached. Clears err. */
void smtpcore_throw(smtpcore_error *err, HashTable *transcript, const smtpcore_result *r);

/* A usage error about argument arg_num becomes a ValueError naming it; any
 * other error is thrown as by smtpcore_throw. Clears err. */
void smtpcore_throw_for_arg(uint32_t arg_num, smtpcore_error *err);

#endif
