/* SmtpCore\Result: what the server said about one message, copied out of the
 * C result when the send returns (so it holds no C handle). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"

#include "php_smtpcore.h"

void smtpcore_result_to_zval(zval *out, const smtpcore_result *r)
{
    zval accepted, refused;
    array_init(&accepted);
    array_init(&refused);
    size_t n = smtpcore_result_count(r);
    for (size_t i = 0; i < n; i++) {
        const smtpcore_rcpt_status *st = smtpcore_result_get(r, i);
        const char *addr = st->address ? st->address : "";
        if (st->accepted) {
            add_next_index_string(&accepted, addr);
            continue;
        }
        zval why;
        array_init(&why);
        add_assoc_long(&why, "code", st->code);
        if (st->enhanced[0])
            add_assoc_string(&why, "enhanced", st->enhanced);
        else
            add_assoc_null(&why, "enhanced");
        add_assoc_string(&why, "message", st->text ? st->text : "");
        /* symtable: an address that looks like a number still reads back as a string key. */
        zend_symtable_str_update(Z_ARRVAL(refused), addr, strlen(addr), &why);
    }

    object_init_ex(out, smtpcore_result_ce);
    zend_object *obj = Z_OBJ_P(out);
    zend_class_entry *ce = smtpcore_result_ce;
    int code = smtpcore_result_code(r);
    const char *enhanced = smtpcore_result_enhanced(r);
    bool ok = n > 0 && zend_hash_num_elements(Z_ARRVAL(refused)) == 0 && code >= 200 && code < 300;
    zend_update_property_bool(ce, obj, ZEND_STRL("ok"), ok);
    zend_update_property(ce, obj, ZEND_STRL("accepted"), &accepted);
    zend_update_property(ce, obj, ZEND_STRL("refused"), &refused);
    zend_update_property_long(ce, obj, ZEND_STRL("code"), code);
    if (enhanced && enhanced[0])
        zend_update_property_string(ce, obj, ZEND_STRL("enhancedCode"), enhanced);
    zend_update_property_string(ce, obj, ZEND_STRL("message"), smtpcore_result_text(r));
    zval_ptr_dtor(&accepted);
    zval_ptr_dtor(&refused);
}

#define RETURN_PROP(name)                                                                                              \
    do {                                                                                                               \
        ZEND_PARSE_PARAMETERS_NONE();                                                                                  \
        zval rv_;                                                                                                      \
        zval *v_ = zend_read_property(smtpcore_result_ce, Z_OBJ_P(ZEND_THIS), ZEND_STRL(name), 1, &rv_);               \
        RETURN_COPY_DEREF(v_);                                                                                         \
    } while (0)

/* Results come from Client::send(); the private constructor keeps `new` out. */
PHP_METHOD(SmtpCore_Result, __construct) { ZEND_PARSE_PARAMETERS_NONE(); }

PHP_METHOD(SmtpCore_Result, ok) { RETURN_PROP("ok"); }
PHP_METHOD(SmtpCore_Result, accepted) { RETURN_PROP("accepted"); }
PHP_METHOD(SmtpCore_Result, refused) { RETURN_PROP("refused"); }
PHP_METHOD(SmtpCore_Result, code) { RETURN_PROP("code"); }
PHP_METHOD(SmtpCore_Result, enhancedCode) { RETURN_PROP("enhancedCode"); }
PHP_METHOD(SmtpCore_Result, message) { RETURN_PROP("message"); }
