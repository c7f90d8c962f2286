/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: a68aeb2b9e57735c9c98edd2f7b48064b0a3500c */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SmtpCore_presets, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SmtpCore_version, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_from, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, address, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_SmtpCore_Message_sender arginfo_class_SmtpCore_Message_from

#define arginfo_class_SmtpCore_Message_envelopeSender arginfo_class_SmtpCore_Message_from

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_to, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_MASK(0, addresses, MAY_BE_STRING|MAY_BE_ARRAY, NULL)
ZEND_END_ARG_INFO()

#define arginfo_class_SmtpCore_Message_cc arginfo_class_SmtpCore_Message_to

#define arginfo_class_SmtpCore_Message_bcc arginfo_class_SmtpCore_Message_to

#define arginfo_class_SmtpCore_Message_replyTo arginfo_class_SmtpCore_Message_to

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_subject, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, subject, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_text, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, text, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_html, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, html, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_calendar, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, ics, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, method, IS_STRING, 0, "\"REQUEST\"")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_attach, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, name, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, type, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_attachData, 0, 2, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, bytes, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, type, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_embed, 0, 2, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, cid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, type, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_embedData, 0, 2, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, bytes, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, cid, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, name, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, type, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_header, 0, 2, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_seed, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, seed, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_date, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, timestamp, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, utcOffsetMinutes, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_dkim, 0, 1, IS_STATIC, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Message_toString, 0, 0, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, eightBit, _IS_BOOL, 0, "false")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, smtputf8, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_SmtpCore_Client___construct, 0, 0, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, host, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, port, IS_LONG, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, security, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, username, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, password, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preset, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, region, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_MASK(0, timeout, MAY_BE_LONG|MAY_BE_DOUBLE|MAY_BE_NULL, "null")
	ZEND_ARG_TYPE_MASK(0, connectTimeout, MAY_BE_LONG|MAY_BE_DOUBLE|MAY_BE_NULL, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, caFile, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, verify, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, allowPlaintextAuth, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, ehloName, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, authMechanism, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, oauth2Token, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_MASK(0, transcript, MAY_BE_CALLABLE|MAY_BE_BOOL|MAY_BE_NULL, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, caDir, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, clientCert, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, clientKey, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, tlsServerName, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, allOrNothing, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, pipelining, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, chunking, _IS_BOOL, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, pipelineDepth, IS_LONG, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_SmtpCore_Client_send, 0, 1, SmtpCore\\Result, 0)
	ZEND_ARG_OBJ_INFO(0, message, SmtpCore\\Message, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_SmtpCore_Client_sendRaw, 0, 3, SmtpCore\\Result, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, from, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, to, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Client_sendMany, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, messages, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Client_close, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_SmtpCore_Client_transcript arginfo_SmtpCore_presets

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_SmtpCore_Result___construct, 0, 0, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Result_ok, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_SmtpCore_Result_accepted arginfo_SmtpCore_presets

#define arginfo_class_SmtpCore_Result_refused arginfo_SmtpCore_presets

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Result_code, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_SmtpCore_Result_enhancedCode, 0, 0, IS_STRING, 1)
ZEND_END_ARG_INFO()

#define arginfo_class_SmtpCore_Result_message arginfo_SmtpCore_version

#define arginfo_class_SmtpCore_Exception_getCategory arginfo_SmtpCore_version

#define arginfo_class_SmtpCore_Exception_getSmtpCode arginfo_class_SmtpCore_Result_code

#define arginfo_class_SmtpCore_Exception_getEnhancedCode arginfo_class_SmtpCore_Result_enhancedCode

#define arginfo_class_SmtpCore_Exception_getServerMessage arginfo_class_SmtpCore_Result_enhancedCode

#define arginfo_class_SmtpCore_Exception_getHint arginfo_class_SmtpCore_Result_enhancedCode

#define arginfo_class_SmtpCore_Exception_getTranscript arginfo_SmtpCore_presets

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_SmtpCore_Exception_getResult, 0, 0, SmtpCore\\Result, 1)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(SmtpCore_presets);
ZEND_FUNCTION(SmtpCore_version);
ZEND_METHOD(SmtpCore_Message, from);
ZEND_METHOD(SmtpCore_Message, sender);
ZEND_METHOD(SmtpCore_Message, envelopeSender);
ZEND_METHOD(SmtpCore_Message, to);
ZEND_METHOD(SmtpCore_Message, cc);
ZEND_METHOD(SmtpCore_Message, bcc);
ZEND_METHOD(SmtpCore_Message, replyTo);
ZEND_METHOD(SmtpCore_Message, subject);
ZEND_METHOD(SmtpCore_Message, text);
ZEND_METHOD(SmtpCore_Message, html);
ZEND_METHOD(SmtpCore_Message, calendar);
ZEND_METHOD(SmtpCore_Message, attach);
ZEND_METHOD(SmtpCore_Message, attachData);
ZEND_METHOD(SmtpCore_Message, embed);
ZEND_METHOD(SmtpCore_Message, embedData);
ZEND_METHOD(SmtpCore_Message, header);
ZEND_METHOD(SmtpCore_Message, seed);
ZEND_METHOD(SmtpCore_Message, date);
ZEND_METHOD(SmtpCore_Message, dkim);
ZEND_METHOD(SmtpCore_Message, toString);
ZEND_METHOD(SmtpCore_Client, __construct);
ZEND_METHOD(SmtpCore_Client, send);
ZEND_METHOD(SmtpCore_Client, sendRaw);
ZEND_METHOD(SmtpCore_Client, sendMany);
ZEND_METHOD(SmtpCore_Client, close);
ZEND_METHOD(SmtpCore_Client, transcript);
ZEND_METHOD(SmtpCore_Result, __construct);
ZEND_METHOD(SmtpCore_Result, ok);
ZEND_METHOD(SmtpCore_Result, accepted);
ZEND_METHOD(SmtpCore_Result, refused);
ZEND_METHOD(SmtpCore_Result, code);
ZEND_METHOD(SmtpCore_Result, enhancedCode);
ZEND_METHOD(SmtpCore_Result, message);
ZEND_METHOD(SmtpCore_Exception, getCategory);
ZEND_METHOD(SmtpCore_Exception, getSmtpCode);
ZEND_METHOD(SmtpCore_Exception, getEnhancedCode);
ZEND_METHOD(SmtpCore_Exception, getServerMessage);
ZEND_METHOD(SmtpCore_Exception, getHint);
ZEND_METHOD(SmtpCore_Exception, getTranscript);
ZEND_METHOD(SmtpCore_Exception, getResult);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("SmtpCore", presets, SmtpCore_presets, arginfo_SmtpCore_presets)
	ZEND_NS_FALIAS("SmtpCore", version, SmtpCore_version, arginfo_SmtpCore_version)
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_Message_methods[] = {
	ZEND_ME(SmtpCore_Message, from, arginfo_class_SmtpCore_Message_from, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, sender, arginfo_class_SmtpCore_Message_sender, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, envelopeSender, arginfo_class_SmtpCore_Message_envelopeSender, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, to, arginfo_class_SmtpCore_Message_to, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, cc, arginfo_class_SmtpCore_Message_cc, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, bcc, arginfo_class_SmtpCore_Message_bcc, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, replyTo, arginfo_class_SmtpCore_Message_replyTo, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, subject, arginfo_class_SmtpCore_Message_subject, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, text, arginfo_class_SmtpCore_Message_text, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, html, arginfo_class_SmtpCore_Message_html, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, calendar, arginfo_class_SmtpCore_Message_calendar, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, attach, arginfo_class_SmtpCore_Message_attach, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, attachData, arginfo_class_SmtpCore_Message_attachData, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, embed, arginfo_class_SmtpCore_Message_embed, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, embedData, arginfo_class_SmtpCore_Message_embedData, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, header, arginfo_class_SmtpCore_Message_header, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, seed, arginfo_class_SmtpCore_Message_seed, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, date, arginfo_class_SmtpCore_Message_date, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, dkim, arginfo_class_SmtpCore_Message_dkim, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Message, toString, arginfo_class_SmtpCore_Message_toString, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_Client_methods[] = {
	ZEND_ME(SmtpCore_Client, __construct, arginfo_class_SmtpCore_Client___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Client, send, arginfo_class_SmtpCore_Client_send, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Client, sendRaw, arginfo_class_SmtpCore_Client_sendRaw, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Client, sendMany, arginfo_class_SmtpCore_Client_sendMany, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Client, close, arginfo_class_SmtpCore_Client_close, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Client, transcript, arginfo_class_SmtpCore_Client_transcript, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_Result_methods[] = {
	ZEND_ME(SmtpCore_Result, __construct, arginfo_class_SmtpCore_Result___construct, ZEND_ACC_PRIVATE)
	ZEND_ME(SmtpCore_Result, ok, arginfo_class_SmtpCore_Result_ok, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Result, accepted, arginfo_class_SmtpCore_Result_accepted, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Result, refused, arginfo_class_SmtpCore_Result_refused, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Result, code, arginfo_class_SmtpCore_Result_code, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Result, enhancedCode, arginfo_class_SmtpCore_Result_enhancedCode, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Result, message, arginfo_class_SmtpCore_Result_message, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_Exception_methods[] = {
	ZEND_ME(SmtpCore_Exception, getCategory, arginfo_class_SmtpCore_Exception_getCategory, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getSmtpCode, arginfo_class_SmtpCore_Exception_getSmtpCode, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getEnhancedCode, arginfo_class_SmtpCore_Exception_getEnhancedCode, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getServerMessage, arginfo_class_SmtpCore_Exception_getServerMessage, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getHint, arginfo_class_SmtpCore_Exception_getHint, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getTranscript, arginfo_class_SmtpCore_Exception_getTranscript, ZEND_ACC_PUBLIC)
	ZEND_ME(SmtpCore_Exception, getResult, arginfo_class_SmtpCore_Exception_getResult, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_ConnectException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_DnsException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_TlsException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_AuthException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_SenderRefusedException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_RecipientsRefusedException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_SizeException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_RelayException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_TimeoutException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_ProtocolException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_LocalException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SmtpCore_UsageException_methods[] = {
	ZEND_FE_END
};

static zend_class_entry *register_class_SmtpCore_Message(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "Message", class_SmtpCore_Message_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;


	zend_add_parameter_attribute(zend_hash_str_find_ptr(&class_entry->function_table, "dkim", sizeof("dkim") - 1), 0, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_Client(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "Client", class_SmtpCore_Client_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;


	zend_add_parameter_attribute(zend_hash_str_find_ptr(&class_entry->function_table, "__construct", sizeof("__construct") - 1), 0, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);

	zend_add_parameter_attribute(zend_hash_str_find_ptr(&class_entry->function_table, "__construct", sizeof("__construct") - 1), 5, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);

	zend_add_parameter_attribute(zend_hash_str_find_ptr(&class_entry->function_table, "__construct", sizeof("__construct") - 1), 15, ZSTR_KNOWN(ZEND_STR_SENSITIVEPARAMETER), 0);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_Result(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "Result", class_SmtpCore_Result_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES;

	zval property_ok_default_value;
	ZVAL_FALSE(&property_ok_default_value);
	zend_string *property_ok_name = zend_string_init("ok", sizeof("ok") - 1, 1);
	zend_declare_typed_property(class_entry, property_ok_name, &property_ok_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_BOOL));
	zend_string_release(property_ok_name);

	zval property_accepted_default_value;
	ZVAL_EMPTY_ARRAY(&property_accepted_default_value);
	zend_string *property_accepted_name = zend_string_init("accepted", sizeof("accepted") - 1, 1);
	zend_declare_typed_property(class_entry, property_accepted_name, &property_accepted_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_ARRAY));
	zend_string_release(property_accepted_name);

	zval property_refused_default_value;
	ZVAL_EMPTY_ARRAY(&property_refused_default_value);
	zend_string *property_refused_name = zend_string_init("refused", sizeof("refused") - 1, 1);
	zend_declare_typed_property(class_entry, property_refused_name, &property_refused_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_ARRAY));
	zend_string_release(property_refused_name);

	zval property_code_default_value;
	ZVAL_LONG(&property_code_default_value, 0);
	zend_string *property_code_name = zend_string_init("code", sizeof("code") - 1, 1);
	zend_declare_typed_property(class_entry, property_code_name, &property_code_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_LONG));
	zend_string_release(property_code_name);

	zval property_enhancedCode_default_value;
	ZVAL_NULL(&property_enhancedCode_default_value);
	zend_string *property_enhancedCode_name = zend_string_init("enhancedCode", sizeof("enhancedCode") - 1, 1);
	zend_declare_typed_property(class_entry, property_enhancedCode_name, &property_enhancedCode_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_enhancedCode_name);

	zval property_message_default_value;
	ZVAL_EMPTY_STRING(&property_message_default_value);
	zend_string *property_message_name = zend_string_init("message", sizeof("message") - 1, 1);
	zend_declare_typed_property(class_entry, property_message_name, &property_message_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_message_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_Exception(zend_class_entry *class_entry_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "Exception", class_SmtpCore_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_Exception);

	zval property_category_default_value;
	ZVAL_EMPTY_STRING(&property_category_default_value);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	zval property_smtpCode_default_value;
	ZVAL_LONG(&property_smtpCode_default_value, 0);
	zend_string *property_smtpCode_name = zend_string_init("smtpCode", sizeof("smtpCode") - 1, 1);
	zend_declare_typed_property(class_entry, property_smtpCode_name, &property_smtpCode_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_LONG));
	zend_string_release(property_smtpCode_name);

	zval property_enhancedCode_default_value;
	ZVAL_NULL(&property_enhancedCode_default_value);
	zend_string *property_enhancedCode_name = zend_string_init("enhancedCode", sizeof("enhancedCode") - 1, 1);
	zend_declare_typed_property(class_entry, property_enhancedCode_name, &property_enhancedCode_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_enhancedCode_name);

	zval property_serverMessage_default_value;
	ZVAL_NULL(&property_serverMessage_default_value);
	zend_string *property_serverMessage_name = zend_string_init("serverMessage", sizeof("serverMessage") - 1, 1);
	zend_declare_typed_property(class_entry, property_serverMessage_name, &property_serverMessage_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_serverMessage_name);

	zval property_hint_default_value;
	ZVAL_NULL(&property_hint_default_value);
	zend_string *property_hint_name = zend_string_init("hint", sizeof("hint") - 1, 1);
	zend_declare_typed_property(class_entry, property_hint_name, &property_hint_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_hint_name);

	zval property_transcript_default_value;
	ZVAL_EMPTY_ARRAY(&property_transcript_default_value);
	zend_string *property_transcript_name = zend_string_init("transcript", sizeof("transcript") - 1, 1);
	zend_declare_typed_property(class_entry, property_transcript_name, &property_transcript_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_ARRAY));
	zend_string_release(property_transcript_name);

	zend_string *property_result_class_SmtpCore_Result = zend_string_init("SmtpCore\\Result", sizeof("SmtpCore\\Result")-1, 1);
	zval property_result_default_value;
	ZVAL_NULL(&property_result_default_value);
	zend_string *property_result_name = zend_string_init("result", sizeof("result") - 1, 1);
	zend_declare_typed_property(class_entry, property_result_name, &property_result_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_CLASS(property_result_class_SmtpCore_Result, 0, MAY_BE_NULL));
	zend_string_release(property_result_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_ConnectException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "ConnectException", class_SmtpCore_ConnectException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("connect", strlen("connect"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_DnsException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "DnsException", class_SmtpCore_DnsException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("dns", strlen("dns"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_TlsException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "TlsException", class_SmtpCore_TlsException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("tls", strlen("tls"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_AuthException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "AuthException", class_SmtpCore_AuthException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("auth", strlen("auth"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_SenderRefusedException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "SenderRefusedException", class_SmtpCore_SenderRefusedException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("sender", strlen("sender"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_RecipientsRefusedException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "RecipientsRefusedException", class_SmtpCore_RecipientsRefusedException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("recipient", strlen("recipient"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_SizeException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "SizeException", class_SmtpCore_SizeException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("size", strlen("size"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_RelayException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "RelayException", class_SmtpCore_RelayException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("relay", strlen("relay"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_TimeoutException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "TimeoutException", class_SmtpCore_TimeoutException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("timeout", strlen("timeout"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_ProtocolException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "ProtocolException", class_SmtpCore_ProtocolException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("protocol", strlen("protocol"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_LocalException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "LocalException", class_SmtpCore_LocalException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("local", strlen("local"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}

static zend_class_entry *register_class_SmtpCore_UsageException(zend_class_entry *class_entry_SmtpCore_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SmtpCore", "UsageException", class_SmtpCore_UsageException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SmtpCore_Exception);

	zval property_category_default_value;
	zend_string *property_category_default_value_str = zend_string_init("usage", strlen("usage"), 1);
	ZVAL_STR(&property_category_default_value, property_category_default_value_str);
	zend_string *property_category_name = zend_string_init("category", sizeof("category") - 1, 1);
	zend_declare_typed_property(class_entry, property_category_name, &property_category_default_value, ZEND_ACC_PROTECTED, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_category_name);

	return class_entry;
}
