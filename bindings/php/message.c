/* SmtpCore\Message over smtpcore_message_*. Every setter returns $this.
 *
 * Strings handed to C as NUL-terminated are parsed with Z_PARAM_PATH*: it
 * refuses embedded NUL bytes (which would silently cut them short) with the
 * usual "must not contain any null bytes" ValueError. Bodies and attachment
 * data go with their length and are checked by the core.
 *
 * The core validates everything; when it refuses an argument (a usage error),
 * the argument is named in a ValueError. For methods with several string
 * arguments the culprit is found by trying them one at a time on a scratch
 * message (only on the error path). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"
#include "main/fopen_wrappers.h"

#include "php_smtpcore.h"

static zend_object_handlers message_handlers;

static zend_object *message_create(zend_class_entry *ce)
{
    smtpcore_message_object *m = zend_object_alloc(sizeof *m, ce);
    zend_object_std_init(&m->std, ce);
    object_properties_init(&m->std, ce);
    m->msg = smtpcore_message_new(); /* NULL only when out of memory: methods check */
    m->sending = 0;
    m->std.handlers = &message_handlers;
    return &m->std;
}

static void message_free(zend_object *obj)
{
    smtpcore_message_object *m = smtpcore_message_from_obj(obj);
    smtpcore_message_free(m->msg);
    m->msg = NULL;
    zend_object_std_dtor(obj);
}

void smtpcore_message_minit(zend_class_entry *ce)
{
    ce->create_object = message_create;
    memcpy(&message_handlers, zend_get_std_object_handlers(), sizeof message_handlers);
    message_handlers.offset = XtOffsetOf(smtpcore_message_object, std);
    message_handlers.free_obj = message_free;
    message_handlers.clone_obj = NULL; /* the C API has no message copy */
}

/* The C message of $this for a change, or NULL with an Error thrown. */
static smtpcore_message *writable(zval *this_zv)
{
    smtpcore_message_object *m = smtpcore_message_from_obj(Z_OBJ_P(this_zv));
    if (!m->msg) {
        zend_throw_error(NULL, "%s could not be allocated", ZSTR_VAL(Z_OBJCE_P(this_zv)->name));
        return NULL;
    }
    if (m->sending) {
        zend_throw_error(NULL, "%s cannot be changed while it is being sent", ZSTR_VAL(Z_OBJCE_P(this_zv)->name));
        return NULL;
    }
    return m->msg;
}

#define RETURN_THIS() RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS))

/* ------------------------------------------------------------- addresses */

typedef int (*set_fn)(smtpcore_message *, const char *, smtpcore_error *);

static void set_string(INTERNAL_FUNCTION_PARAMETERS, set_fn set)
{
    zend_string *value;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH_STR(value)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (set(msg, ZSTR_VAL(value), &err) < 0) {
        smtpcore_throw_for_arg(1, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

/* A list as one string, or an array of strings (each a mailbox or a list).
 * The array is checked whole before anything is added, so a bad element
 * leaves the message as it was. */
static void add_addresses(INTERNAL_FUNCTION_PARAMETERS, set_fn add)
{
    HashTable *list = NULL;
    zend_string *one = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT_OR_STR(list, one)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (one) {
        if (zend_str_has_nul_byte(one)) {
            zend_argument_value_error(1, "must not contain any null bytes");
            RETURN_THROWS();
        }
        if (add(msg, ZSTR_VAL(one), &err) < 0) {
            smtpcore_throw_for_arg(1, &err);
            RETURN_THROWS();
        }
        RETURN_THIS();
    }

    smtpcore_message *scratch = smtpcore_message_new();
    if (!scratch) {
        zend_throw_error(NULL, "out of memory");
        RETURN_THROWS();
    }
    zval *item;
    uint32_t i = 0;
    ZEND_HASH_FOREACH_VAL(list, item) {
        ZVAL_DEREF(item);
        i++;
        if (Z_TYPE_P(item) != IS_STRING) {
            zend_argument_type_error(1, "must contain only strings, %s given", zend_zval_type_name(item));
            break;
        }
        if (zend_str_has_nul_byte(Z_STR_P(item))) {
            zend_argument_value_error(1, "must not contain any null bytes");
            break;
        }
        if (add(scratch, Z_STRVAL_P(item), &err) < 0) {
            if (err.category == SMTPCORE_ERR_USAGE)
                zend_argument_value_error(1, "element %" PRIu32 " is invalid: %s", i,
                                          err.message ? err.message : "invalid address");
            else
                smtpcore_throw(&err, NULL, NULL);
            smtpcore_error_clear(&err);
            break;
        }
    } ZEND_HASH_FOREACH_END();
    smtpcore_message_free(scratch);
    if (EG(exception))
        RETURN_THROWS();

    ZEND_HASH_FOREACH_VAL(list, item) {
        ZVAL_DEREF(item);
        if (add(msg, Z_STRVAL_P(item), &err) < 0) { /* only out of memory after the check */
            smtpcore_throw(&err, NULL, NULL);
            RETURN_THROWS();
        }
    } ZEND_HASH_FOREACH_END();
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, from) { set_string(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_from); }
PHP_METHOD(SmtpCore_Message, sender) { set_string(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_sender); }
PHP_METHOD(SmtpCore_Message, envelopeSender)
{
    set_string(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_envelope_sender);
}
PHP_METHOD(SmtpCore_Message, to) { add_addresses(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_add_to); }
PHP_METHOD(SmtpCore_Message, cc) { add_addresses(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_add_cc); }
PHP_METHOD(SmtpCore_Message, bcc) { add_addresses(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_add_bcc); }
PHP_METHOD(SmtpCore_Message, replyTo) { add_addresses(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_add_reply_to); }

/* ------------------------------------------------------------ text parts */

PHP_METHOD(SmtpCore_Message, subject) { set_string(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_subject); }

typedef int (*body_fn)(smtpcore_message *, const char *, size_t, smtpcore_error *);

static void set_body(INTERNAL_FUNCTION_PARAMETERS, body_fn set)
{
    zend_string *body;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STR(body)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (set(msg, ZSTR_VAL(body), ZSTR_LEN(body), &err) < 0) {
        smtpcore_throw_for_arg(1, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, text) { set_body(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_text); }
PHP_METHOD(SmtpCore_Message, html) { set_body(INTERNAL_FUNCTION_PARAM_PASSTHRU, smtpcore_message_set_html); }

PHP_METHOD(SmtpCore_Message, calendar)
{
    zend_string *ics;
    char *method = "REQUEST";
    size_t method_len;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_STR(ics)
        Z_PARAM_OPTIONAL
        Z_PARAM_PATH(method, method_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (smtpcore_message_set_calendar(msg, ZSTR_VAL(ics), ZSTR_LEN(ics), method, &err) < 0) {
        uint32_t arg = 1;
        smtpcore_message *scratch = smtpcore_message_new();
        smtpcore_error ignore = {0};
        if (scratch && smtpcore_message_set_calendar(scratch, "", 0, method, &ignore) < 0)
            arg = 2;
        smtpcore_error_clear(&ignore);
        smtpcore_message_free(scratch);
        smtpcore_throw_for_arg(arg, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

/* ---------------------------------------------------- attachments, inline */

/* Which argument of an attachment call is wrong: the content type, the file
 * name, the content id, else the path (or data). Argument numbers 0 = absent. */
static uint32_t blame_part(const char *name, uint32_t name_arg, const char *type, uint32_t type_arg,
                           const char *cid, uint32_t cid_arg, uint32_t data_arg)
{
    uint32_t arg = data_arg;
    smtpcore_message *s = smtpcore_message_new();
    smtpcore_error e = {0};
    if (!s)
        return arg;
    if (type && smtpcore_message_attach_data(s, "", 0, "x", type, &e) < 0)
        arg = type_arg;
    else if (name && smtpcore_message_attach_data(s, "", 0, name, "application/octet-stream", &e) < 0)
        arg = name_arg;
    else if (cid && smtpcore_message_embed_data(s, "", 0, cid, "x", "application/octet-stream", &e) < 0)
        arg = cid_arg;
    smtpcore_error_clear(&e);
    smtpcore_message_free(s);
    return arg;
}

/* The path the core will open: made absolute against PHP's working
 * directory (which, under ZTS, is not the process's) and held to
 * open_basedir, which the core's own fopen() would not know about. */
static bool resolve_path(const char *path, char *out)
{
    const char *why = NULL;
    if (!expand_filepath(path, out))
        why = "the path could not be resolved";
    else if (php_check_open_basedir_ex(out, 0))
        why = "open_basedir restriction in effect (the file is not within the allowed paths)";
    if (!why)
        return true;
    zend_throw_exception_ex(smtpcore_exception_by_category[SMTPCORE_ERR_LOCAL], 0, "cannot attach '%s': %s", path, why);
    return false;
}

PHP_METHOD(SmtpCore_Message, attach)
{
    char *path, *name = NULL, *type = NULL;
    size_t path_len, name_len, type_len;
    ZEND_PARSE_PARAMETERS_START(1, 3)
        Z_PARAM_PATH(path, path_len)
        Z_PARAM_OPTIONAL
        Z_PARAM_PATH_OR_NULL(name, name_len)
        Z_PARAM_PATH_OR_NULL(type, type_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    char full[MAXPATHLEN];
    if (!path_len || strstr(path, "://")) {
        snprintf(full, sizeof full, "%s", path); /* refused by the core, which says why */
    } else if (!resolve_path(path, full)) {
        RETURN_THROWS();
    }
    smtpcore_error err = {0};
    if (smtpcore_message_attach_file(msg, full, name, type, &err) < 0) {
        smtpcore_throw_for_arg(blame_part(name, 2, type, 3, NULL, 0, 1), &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, attachData)
{
    zend_string *bytes;
    char *name, *type = NULL;
    size_t name_len, type_len;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(bytes)
        Z_PARAM_PATH(name, name_len)
        Z_PARAM_OPTIONAL
        Z_PARAM_PATH_OR_NULL(type, type_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (smtpcore_message_attach_data(msg, ZSTR_VAL(bytes), ZSTR_LEN(bytes), name, type, &err) < 0) {
        smtpcore_throw_for_arg(blame_part(name, 2, type, 3, NULL, 0, 1), &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, embed)
{
    char *path, *cid, *type = NULL;
    size_t path_len, cid_len, type_len;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_PATH(path, path_len)
        Z_PARAM_PATH(cid, cid_len)
        Z_PARAM_OPTIONAL
        Z_PARAM_PATH_OR_NULL(type, type_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    char full[MAXPATHLEN];
    if (!path_len || strstr(path, "://")) {
        snprintf(full, sizeof full, "%s", path);
    } else if (!resolve_path(path, full)) {
        RETURN_THROWS();
    }
    smtpcore_error err = {0};
    if (smtpcore_message_embed_file(msg, full, cid, type, &err) < 0) {
        smtpcore_throw_for_arg(blame_part(NULL, 0, type, 3, cid, 2, 1), &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, embedData)
{
    zend_string *bytes;
    char *cid, *name = NULL, *type = NULL;
    size_t cid_len, name_len, type_len;
    ZEND_PARSE_PARAMETERS_START(2, 4)
        Z_PARAM_STR(bytes)
        Z_PARAM_PATH(cid, cid_len)
        Z_PARAM_OPTIONAL
        Z_PARAM_PATH_OR_NULL(name, name_len)
        Z_PARAM_PATH_OR_NULL(type, type_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (smtpcore_message_embed_data(msg, ZSTR_VAL(bytes), ZSTR_LEN(bytes), cid, name, type, &err) < 0) {
        smtpcore_throw_for_arg(blame_part(name, 3, type, 4, cid, 2, 1), &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

/* ------------------------------------------------------- headers, dates */

PHP_METHOD(SmtpCore_Message, header)
{
    char *name, *value;
    size_t name_len, value_len;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_PATH(name, name_len)
        Z_PARAM_PATH(value, value_len)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (smtpcore_message_add_header(msg, name, value, &err) < 0) {
        /* A name the core refuses fails with a value every header takes;
         * otherwise the value is wrong. */
        uint32_t arg = 2;
        smtpcore_message *s = smtpcore_message_new();
        smtpcore_error e = {0};
        if (s && smtpcore_message_add_header(s, name, "<x@example.test>", &e) < 0)
            arg = 1;
        smtpcore_error_clear(&e);
        smtpcore_message_free(s);
        smtpcore_throw_for_arg(arg, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, seed)
{
    zend_long seed;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(seed)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_message_set_seed(msg, (uint64_t)seed);
    RETURN_THIS();
}

PHP_METHOD(SmtpCore_Message, date)
{
    zend_long when, offset = 0;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_LONG(when)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(offset)
    ZEND_PARSE_PARAMETERS_END();

    if (offset <= -24 * 60 || offset >= 24 * 60) {
        zend_argument_value_error(2, "must be between -1439 and 1439 (minutes east of UTC)");
        RETURN_THROWS();
    }
    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg)
        RETURN_THROWS();
    smtpcore_error err = {0};
    if (smtpcore_message_set_date(msg, (long long)when, (int)offset, &err) < 0) {
        smtpcore_throw_for_arg(1, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

/* ------------------------------------------------------------------ DKIM */

/* A string option of dkim(): NULL if absent, (char *)-1 after throwing. */
#define DKIM_BAD ((const char *)-1)

static const char *dkim_string(HashTable *opts, const char *key)
{
    zval *v = zend_hash_str_find_deref(opts, key, strlen(key));
    if (!v || Z_TYPE_P(v) == IS_NULL)
        return NULL;
    if (Z_TYPE_P(v) != IS_STRING) {
        zend_argument_type_error(1, "option \"%s\" must be of type string, %s given", key, zend_zval_type_name(v));
        return DKIM_BAD;
    }
    if (zend_str_has_nul_byte(Z_STR_P(v))) {
        zend_argument_value_error(1, "option \"%s\" must not contain any null bytes", key);
        return DKIM_BAD;
    }
    return Z_STRVAL_P(v);
}

PHP_METHOD(SmtpCore_Message, dkim)
{
    HashTable *opts;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(opts)
    ZEND_PARSE_PARAMETERS_END();

    static const char *const known[] = {"domain", "selector", "privateKey", "canonicalization", "headers",
                                        "timestamp"};
    zend_string *key;
    ZEND_HASH_FOREACH_STR_KEY(opts, key) {
        bool found = false;
        for (size_t i = 0; key && i < sizeof known / sizeof known[0]; i++)
            found |= zend_string_equals_cstr(key, known[i], strlen(known[i]));
        if (!found) {
            if (key)
                zend_argument_value_error(1, "contains unknown option \"%s\"", ZSTR_VAL(key));
            else
                zend_argument_value_error(1, "must have string keys");
            RETURN_THROWS();
        }
    } ZEND_HASH_FOREACH_END();

    smtpcore_dkim d = {0};
    const char *const req[] = {"domain", "selector", "privateKey"};
    const char **slots[] = {&d.domain, &d.selector, &d.private_key_pem};
    for (size_t i = 0; i < 3; i++) {
        const char *s = dkim_string(opts, req[i]);
        if (s == DKIM_BAD)
            RETURN_THROWS();
        if (!s) {
            zend_argument_value_error(1, "must contain the option \"%s\"", req[i]);
            RETURN_THROWS();
        }
        *slots[i] = s;
    }
    d.canonicalization = dkim_string(opts, "canonicalization");
    if (d.canonicalization == DKIM_BAD)
        RETURN_THROWS();

    /* headers: "From:To:Subject" or ["From", "To", "Subject"]. */
    smart_str joined = {0};
    zval *h = zend_hash_str_find_deref(opts, ZEND_STRL("headers"));
    if (h && Z_TYPE_P(h) == IS_ARRAY) {
        zval *name;
        ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(h), name) {
            ZVAL_DEREF(name);
            if (Z_TYPE_P(name) != IS_STRING || zend_str_has_nul_byte(Z_STR_P(name)) || strchr(Z_STRVAL_P(name), ':')) {
                zend_argument_value_error(1, "option \"headers\" must list header names as strings");
                smart_str_free(&joined);
                RETURN_THROWS();
            }
            if (joined.s)
                smart_str_appendc(&joined, ':');
            smart_str_append(&joined, Z_STR_P(name));
        } ZEND_HASH_FOREACH_END();
        smart_str_0(&joined);
        d.headers = joined.s ? ZSTR_VAL(joined.s) : "";
    } else if (h && Z_TYPE_P(h) != IS_NULL) {
        d.headers = dkim_string(opts, "headers");
        if (d.headers == DKIM_BAD)
            RETURN_THROWS();
    }

    zval *t = zend_hash_str_find_deref(opts, ZEND_STRL("timestamp"));
    if (t && Z_TYPE_P(t) != IS_NULL) {
        if (Z_TYPE_P(t) != IS_LONG) {
            zend_argument_type_error(1, "option \"timestamp\" must be of type int, %s given", zend_zval_type_name(t));
            smart_str_free(&joined);
            RETURN_THROWS();
        }
        d.timestamp = (long long)Z_LVAL_P(t);
    }

    smtpcore_message *msg = writable(ZEND_THIS);
    if (!msg) {
        smart_str_free(&joined);
        RETURN_THROWS();
    }
    smtpcore_error err = {0};
    int rc = smtpcore_message_add_dkim(msg, &d, &err);
    smart_str_free(&joined);
    if (rc < 0) {
        smtpcore_throw_for_arg(1, &err);
        RETURN_THROWS();
    }
    RETURN_THIS();
}

/* ------------------------------------------------------------- rendering */

PHP_METHOD(SmtpCore_Message, toString)
{
    bool eight_bit = false, smtputf8 = false;
    ZEND_PARSE_PARAMETERS_START(0, 2)
        Z_PARAM_OPTIONAL
        Z_PARAM_BOOL(eight_bit)
        Z_PARAM_BOOL(smtputf8)
    ZEND_PARSE_PARAMETERS_END();

    smtpcore_message_object *m = smtpcore_message_from_obj(Z_OBJ_P(ZEND_THIS));
    if (!m->msg) {
        zend_throw_error(NULL, "%s could not be allocated", ZSTR_VAL(Z_OBJCE_P(ZEND_THIS)->name));
        RETURN_THROWS();
    }
    unsigned flags = (eight_bit ? SMTPCORE_RENDER_8BIT : 0) | (smtputf8 ? SMTPCORE_RENDER_SMTPUTF8 : 0);
    char *out = NULL;
    size_t len = 0;
    smtpcore_error err = {0};
    if (smtpcore_message_to_bytes(m->msg, flags, &out, &len, &err) < 0) {
        smtpcore_throw(&err, NULL, NULL); /* no From, a file gone: not about the arguments */
        RETURN_THROWS();
    }
    RETVAL_STRINGL(out, len);
    free(out);
}
