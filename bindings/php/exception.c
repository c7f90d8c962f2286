/* smtpcore_error -> SmtpCore\*Exception. The error's fields live in declared
 * (protected) properties, so the exceptions print and serialize like any
 * other, and user code may construct and subclass them. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "zend_exceptions.h"

#include "php_smtpcore.h"

void smtpcore_exception_new(zval *out, const smtpcore_error *err, zval *transcript, const smtpcore_result *r)
{
    unsigned cat = (unsigned)err->category;
    zend_class_entry *ce = cat < SMTPCORE_N_CATEGORIES ? smtpcore_exception_by_category[cat] : smtpcore_exception_ce;
    object_init_ex(out, ce);
    zend_object *ex = Z_OBJ_P(out);
    zend_class_entry *scope = smtpcore_exception_ce;

    /* What zend_throw_exception() sets, without throwing. */
    zend_update_property_string(ce, ex, ZEND_STRL("message"), err->message ? err->message : "smtpcore failed");
    if (err->code)
        zend_update_property_long(ce, ex, ZEND_STRL("code"), err->code);
    zend_update_property_string(scope, ex, ZEND_STRL("category"), smtpcore_category_name(err->category));
    zend_update_property_long(scope, ex, ZEND_STRL("smtpCode"), err->code);
    if (err->enhanced[0])
        zend_update_property_string(scope, ex, ZEND_STRL("enhancedCode"), err->enhanced);
    if (err->server_text)
        zend_update_property_string(scope, ex, ZEND_STRL("serverMessage"), err->server_text);
    if (err->hint)
        zend_update_property_string(scope, ex, ZEND_STRL("hint"), err->hint);
    if (transcript)
        zend_update_property(scope, ex, ZEND_STRL("transcript"), transcript);
    if (r) {
        zval result;
        smtpcore_result_to_zval(&result, r);
        zend_update_property(scope, ex, ZEND_STRL("result"), &result);
        zval_ptr_dtor(&result);
    }
}

void smtpcore_throw(smtpcore_error *err, HashTable *transcript, const smtpcore_result *r)
{
    zval ex, lines;
    if (transcript)
        ZVAL_ARR(&lines, zend_array_dup(transcript)); /* a copy: the client keeps adding to its own */
    smtpcore_exception_new(&ex, err, transcript ? &lines : NULL, r);
    if (transcript)
        zval_ptr_dtor(&lines);
    zend_throw_exception_object(&ex);
    smtpcore_error_clear(err);
}

void smtpcore_throw_for_arg(uint32_t arg_num, smtpcore_error *err)
{
    if (err->category != SMTPCORE_ERR_USAGE) {
        smtpcore_throw(err, NULL, NULL);
        return;
    }
    zend_argument_value_error(arg_num, "is invalid: %s", err->message ? err->message : "invalid value");
    smtpcore_error_clear(err);
}

/* The getters read the declared properties (a subclass may have changed them). */
#define RETURN_PROP(name)                                                                                              \
    do {                                                                                                               \
        ZEND_PARSE_PARAMETERS_NONE();                                                                                  \
        zval rv_;                                                                                                      \
        zval *v_ = zend_read_property(smtpcore_exception_ce, Z_OBJ_P(ZEND_THIS), ZEND_STRL(name), 1, &rv_);            \
        RETURN_COPY_DEREF(v_);                                                                                         \
    } while (0)

PHP_METHOD(SmtpCore_Exception, getCategory) { RETURN_PROP("category"); }
PHP_METHOD(SmtpCore_Exception, getSmtpCode) { RETURN_PROP("smtpCode"); }
PHP_METHOD(SmtpCore_Exception, getEnhancedCode) { RETURN_PROP("enhancedCode"); }
PHP_METHOD(SmtpCore_Exception, getServerMessage) { RETURN_PROP("serverMessage"); }
PHP_METHOD(SmtpCore_Exception, getHint) { RETURN_PROP("hint"); }
PHP_METHOD(SmtpCore_Exception, getTranscript) { RETURN_PROP("transcript"); }
PHP_METHOD(SmtpCore_Exception, getResult) { RETURN_PROP("result"); }
