/* The module: class registration (from the generated smtpcore_arginfo.h),
 * phpinfo(), and the functions SmtpCore\presets() and SmtpCore\version().
 * The extension keeps no per-request or per-thread state: every C handle
 * belongs to one PHP object and is freed with it, so it needs no module
 * globals and nothing carries over from one request to the next. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "ext/standard/info.h"
#include "zend_attributes.h"
#include "zend_exceptions.h"

#include "php_smtpcore.h"
#include "smtpcore_arginfo.h"

zend_class_entry *smtpcore_message_ce;
zend_class_entry *smtpcore_client_ce;
zend_class_entry *smtpcore_result_ce;
zend_class_entry *smtpcore_exception_ce;
zend_class_entry *smtpcore_exception_by_category[SMTPCORE_N_CATEGORIES];

static const char *security_name(smtpcore_security s)
{
    switch (s) {
    case SMTPCORE_SECURITY_STARTTLS: return "starttls";
    case SMTPCORE_SECURITY_TLS: return "tls";
    case SMTPCORE_SECURITY_OPPORTUNISTIC: return "opportunistic";
    case SMTPCORE_SECURITY_NONE: return "none";
    }
    return "starttls";
}

PHP_FUNCTION(SmtpCore_presets)
{
    ZEND_PARSE_PARAMETERS_NONE();

    array_init(return_value);
    for (const smtpcore_preset *const *p = smtpcore_presets(); *p; p++) {
        zval entry;
        array_init(&entry);
        add_assoc_string(&entry, "name", (*p)->name);
        add_assoc_string(&entry, "label", (*p)->label ? (*p)->label : (*p)->name);
        add_assoc_string(&entry, "host", (*p)->host);
        add_assoc_long(&entry, "port", (*p)->port);
        add_assoc_string(&entry, "security", security_name((*p)->security));
        if ((*p)->username_hint)
            add_assoc_string(&entry, "usernameHint", (*p)->username_hint);
        else
            add_assoc_null(&entry, "usernameHint");
        add_assoc_zval(return_value, (*p)->name, &entry);
    }
}

PHP_FUNCTION(SmtpCore_version)
{
    ZEND_PARSE_PARAMETERS_NONE();

    RETURN_STRING(smtpcore_version());
}

PHP_MINIT_FUNCTION(smtpcore)
{
#if defined(ZTS) && defined(COMPILE_DL_SMTPCORE)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    smtpcore_message_ce = register_class_SmtpCore_Message();
    smtpcore_message_minit(smtpcore_message_ce);
    smtpcore_client_ce = register_class_SmtpCore_Client();
    smtpcore_client_minit(smtpcore_client_ce);
    smtpcore_result_ce = register_class_SmtpCore_Result();

    zend_class_entry *base = register_class_SmtpCore_Exception(zend_ce_exception);
    smtpcore_exception_ce = base;
    zend_class_entry **by = smtpcore_exception_by_category;
    by[SMTPCORE_OK] = base;
    by[SMTPCORE_ERR_CONNECT] = register_class_SmtpCore_ConnectException(base);
    by[SMTPCORE_ERR_DNS] = register_class_SmtpCore_DnsException(base);
    by[SMTPCORE_ERR_TLS] = register_class_SmtpCore_TlsException(base);
    by[SMTPCORE_ERR_AUTH] = register_class_SmtpCore_AuthException(base);
    by[SMTPCORE_ERR_SENDER] = register_class_SmtpCore_SenderRefusedException(base);
    by[SMTPCORE_ERR_RECIPIENT] = register_class_SmtpCore_RecipientsRefusedException(base);
    by[SMTPCORE_ERR_SIZE] = register_class_SmtpCore_SizeException(base);
    by[SMTPCORE_ERR_RELAY] = register_class_SmtpCore_RelayException(base);
    by[SMTPCORE_ERR_TIMEOUT] = register_class_SmtpCore_TimeoutException(base);
    by[SMTPCORE_ERR_PROTOCOL] = register_class_SmtpCore_ProtocolException(base);
    by[SMTPCORE_ERR_LOCAL] = register_class_SmtpCore_LocalException(base);
    by[SMTPCORE_ERR_USAGE] = register_class_SmtpCore_UsageException(base);
    return SUCCESS;
}

PHP_MINFO_FUNCTION(smtpcore)
{
    php_info_print_table_start();
    php_info_print_table_row(2, "smtpcore support", "enabled");
    php_info_print_table_row(2, "smtpcore library version", smtpcore_version());
    php_info_print_table_end();
}

zend_module_entry smtpcore_module_entry = {
    STANDARD_MODULE_HEADER,
    "smtpcore",
    ext_functions,
    PHP_MINIT(smtpcore),
    NULL, /* MSHUTDOWN */
    NULL, /* RINIT */
    NULL, /* RSHUTDOWN */
    PHP_MINFO(smtpcore),
    PHP_SMTPCORE_VERSION,
    STANDARD_MODULE_PROPERTIES,
};

#ifdef COMPILE_DL_SMTPCORE
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(smtpcore)
#endif
