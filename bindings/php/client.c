/* SmtpCore\Client: a configuration and a one-connection smtpcore_pool. The
 * pool does what a long-lived PHP client needs: it connects on the first send,
 * keeps the session for the next ones, replaces a connection the server
 * dropped while idle (retrying the message once when nothing of it was
 * accepted) and closes connections idle for more than 30 s. sendMany() runs
 * a pipelined batch over the same connection (smtpcore_pool_send_messages).
 *
 * Options come as an array, as named arguments, or both (named ones win);
 * either way they go through smtpcore_config_set(), so the core validates
 * them and a refused one becomes a ValueError naming it. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "php.h"
#include "zend_exceptions.h"

#include "php_smtpcore.h"

/* Enough for an envelope of a few thousand recipients; a flood is cut. */
#define TRANSCRIPT_MAX_LINES 20000

typedef struct client_object {
    smtpcore_config *cfg;
    smtpcore_pool *pool;  /* opened by the first send, closed by close() */
    bool keep;            /* keep the transcript of the last send */
    HashTable *lines;     /* that transcript ("C: ", "S: ", "*  " lines), or NULL */
    zval callback;        /* called with each line, or UNDEF */
    bool busy;            /* in send()/close(): re-entry from the callback would deadlock the pool */
    bool quiet;           /* being freed: record nothing, call nothing */
    zend_object std;
} client_object;

static zend_object_handlers client_handlers;

static client_object *client_from_obj(zend_object *obj)
{
    return (client_object *)((char *)obj - XtOffsetOf(client_object, std));
}

/* The core's transcript callback: runs on the PHP thread, inside send(). */
static void on_line(void *userdata, smtpcore_dir dir, const char *line, size_t len)
{
    client_object *c = userdata;
    if (c->quiet)
        return;
    const char *tag = dir == SMTPCORE_DIR_CLIENT ? "C: " : dir == SMTPCORE_DIR_SERVER ? "S: " : "*  ";
    zend_string *s = zend_string_concat2(tag, 3, line, len);
    if (c->keep) {
        if (!c->lines)
            c->lines = zend_new_array(0);
        uint32_t n = zend_hash_num_elements(c->lines);
        zval v;
        if (n < TRANSCRIPT_MAX_LINES) {
            ZVAL_STR_COPY(&v, s);
            zend_hash_next_index_insert_new(c->lines, &v);
        } else if (n == TRANSCRIPT_MAX_LINES) {
            ZVAL_STRING(&v, "*  (transcript cut short: too many lines)");
            zend_hash_next_index_insert_new(c->lines, &v);
        }
    }
    /* After an exception (from an earlier call) no more user code runs; it
     * surfaces when send() returns. */
    if (Z_TYPE(c->callback) != IS_UNDEF && !EG(exception)) {
        zval arg, ret;
        ZVAL_STR_COPY(&arg, s);
        ZVAL_UNDEF(&ret);
        call_user_function(NULL, NULL, &c->callback, &ret, 1, &arg);
        zval_ptr_dtor(&ret);
        zval_ptr_dtor(&arg);
    }
    zend_string_release(s);
}

static zend_object *client_create(zend_class_entry *ce)
{
    client_object *c = zend_object_alloc(sizeof *c, ce);
    zend_object_std_init(&c->std, ce);
    object_properties_init(&c->std, ce);
    c->cfg = smtpcore_config_new(); /* NULL only when out of memory: methods check */
    if (c->cfg)
        smtpcore_config_set_transcript(c->cfg, on_line, c);
    c->pool = NULL;
    c->keep = true;
    c->lines = NULL;
    ZVAL_UNDEF(&c->callback);
    c->busy = false;
    c->quiet = false;
    c->std.handlers = &client_handlers;
    return &c->std;
}

static void client_free(zend_object *obj)
{
    client_object *c = client_from_obj(obj);
    c->quiet = true; /* QUIT goes out while PHP is tearing things down: no user code */
    smtpcore_pool_free(c->pool);
    smtpcore_config_free(c->cfg);
    if (c->lines)
        zend_array_release(c->lines);
    zval_ptr_dtor(&c->callback);
    zend_object_std_dtor(obj);
}

/* The callback may refer back to the client: let the cycle collector see it. */
static HashTable *client_get_gc(zend_object *obj, zval **table, int *n)
{
    client_object *c = client_from_obj(obj);
    if (Z_TYPE(c->callback) != IS_UNDEF) {
        *table = &c->callback;
        *n = 1;
    } else {
        *table = NULL;
        *n = 0;
    }
    return zend_std_get_properties(obj);
}

void smtpcore_client_minit(zend_class_entry *ce)
{
    ce->create_object = client_create;
    memcpy(&client_handlers, zend_get_std_object_handlers(), sizeof client_handlers);
    client_handlers.offset = XtOffsetOf(client_object, std);
    client_handlers.free_obj = client_free;
    client_handlers.get_gc = client_get_gc;
    client_handlers.clone_obj = NULL; /* one connection has one owner */
}

static bool not_busy(client_object *c, const char *what)
{
    if (c->busy) {
        zend_throw_error(NULL, "SmtpCore\\Client::%s() cannot be called from the client's own transcript callback", what);
        return false;
    }
    return true;
}

/* A message a client is sending (a transcript callback runs meanwhile) may
 * not be sent again until that send returns. */
static bool not_being_sent(smtpcore_message_object *m)
{
    if (m->sending) {
        zend_throw_error(NULL, "SmtpCore\\Message cannot be sent again while it is being sent");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------- options */

typedef enum { OPT_STRING, OPT_PORT, OPT_COUNT, OPT_SECONDS, OPT_BOOL, OPT_TRANSCRIPT } opt_kind;

/* In parameter order: option i is argument i + 2. */
static const struct client_option {
    const char *name; /* parameter name and array key */
    const char *key;  /* smtpcore_config_set() key */
    opt_kind kind;
} options[] = {
    {"host", "host", OPT_STRING},
    {"port", "port", OPT_PORT},
    {"security", "security", OPT_STRING},
    {"username", "username", OPT_STRING},
    {"password", "password", OPT_STRING},
    {"preset", "preset", OPT_STRING},
    {"region", "region", OPT_STRING},
    {"timeout", "timeout", OPT_SECONDS},
    {"connectTimeout", "connect_timeout", OPT_SECONDS},
    {"caFile", "ca_file", OPT_STRING},
    {"verify", "tls_verify", OPT_BOOL},
    {"allowPlaintextAuth", "allow_plaintext_auth", OPT_BOOL},
    {"ehloName", "ehlo_name", OPT_STRING},
    {"authMechanism", "auth_mechanism", OPT_STRING},
    {"oauth2Token", "oauth2_token", OPT_STRING},
    {"transcript", NULL, OPT_TRANSCRIPT},
    {"caDir", "ca_dir", OPT_STRING},
    {"clientCert", "client_cert", OPT_STRING},
    {"clientKey", "client_key", OPT_STRING},
    {"tlsServerName", "tls_server_name", OPT_STRING},
    {"allOrNothing", "all_or_nothing", OPT_BOOL},
    {"pipelining", "pipelining", OPT_BOOL},
    {"chunking", "chunking", OPT_BOOL},
    {"pipelineDepth", "pipeline_depth", OPT_COUNT},
};
#define N_OPTIONS (sizeof options / sizeof options[0])
#define OPT_PORT_I 1
#define OPT_PRESET 5      /* applied first: a preset sets host, port and security */
#define OPT_TIMEOUT_I 7
#define OPT_CONNECT_TIMEOUT_I 8
#define OPT_TRANSCRIPT_I 15
#define OPT_PIPELINE_DEPTH_I 23

typedef struct option_values {
    zval v[N_OPTIONS];         /* UNDEF: not given */
    bool from_array[N_OPTIONS];
} option_values;

static void type_error(const option_values *ov, size_t i, const char *expected, zval *v)
{
    if (ov->from_array[i])
        zend_argument_type_error(1, "option \"%s\" must be of type %s, %s given", options[i].name, expected,
                                 zend_zval_type_name(v));
    else
        zend_argument_type_error((uint32_t)i + 2, "must be of type %s, %s given", expected, zend_zval_type_name(v));
}

static void value_error(const option_values *ov, size_t i, const char *fmt, const char *detail)
{
    if (ov->from_array[i])
        zend_argument_value_error(1, "option \"%s\" %s%s", options[i].name, fmt, detail ? detail : "");
    else
        zend_argument_value_error((uint32_t)i + 2, "%s%s", fmt, detail ? detail : "");
}

/* Option i as the string smtpcore_config_set() takes, in buf (or *out
 * pointing into the zval). Array values get PHP's usual weak conversions
 * (numeric strings for numbers); bools take only true/false, 0/1 and the
 * core's words ("yes", "off", ...), never "any non-empty string". */
static bool option_string(option_values *ov, size_t i, char *buf, size_t n, const char **out)
{
    zval *v = &ov->v[i];
    switch (options[i].kind) {
    case OPT_STRING:
        if (Z_TYPE_P(v) != IS_STRING) {
            zend_string *s;
            if (!zend_parse_arg_str_weak(v, &s, 1)) {
                type_error(ov, i, "string", v);
                return false;
            }
        }
        if (zend_str_has_nul_byte(Z_STR_P(v))) {
            value_error(ov, i, "must not contain any null bytes", NULL);
            return false;
        }
        *out = Z_STRVAL_P(v);
        return true;
    case OPT_PORT:
    case OPT_COUNT: {
        zend_long num;
        if (Z_TYPE_P(v) == IS_LONG)
            num = Z_LVAL_P(v);
        else if (!zend_parse_arg_long_weak(v, &num, 1)) {
            type_error(ov, i, "int", v);
            return false;
        }
        if (options[i].kind == OPT_PORT && (num < 0 || num > 65535)) {
            value_error(ov, i, "must be between 0 and 65535", NULL);
            return false;
        }
        snprintf(buf, n, ZEND_LONG_FMT, num); /* a count's range is the core's to check */
        *out = buf;
        return true;
    }
    case OPT_SECONDS: {
        double s;
        if (Z_TYPE_P(v) == IS_LONG)
            s = (double)Z_LVAL_P(v);
        else if (Z_TYPE_P(v) == IS_DOUBLE)
            s = Z_DVAL_P(v);
        else if (!zend_parse_arg_double_weak(v, &s, 1)) {
            type_error(ov, i, "int|float", v);
            return false;
        }
        if (!(s > 0 && s <= 86400)) { /* also NAN */
            value_error(ov, i, "must be a number of seconds greater than 0 and at most 86400", NULL);
            return false;
        }
        double ms = ceil(s * 1000);
        snprintf(buf, n, "%ld", (long)(ms < 1 ? 1 : ms));
        *out = buf;
        return true;
    }
    case OPT_BOOL:
        if (Z_TYPE_P(v) == IS_TRUE || Z_TYPE_P(v) == IS_FALSE)
            *out = Z_TYPE_P(v) == IS_TRUE ? "1" : "0";
        else if (Z_TYPE_P(v) == IS_LONG && (Z_LVAL_P(v) == 0 || Z_LVAL_P(v) == 1))
            *out = Z_LVAL_P(v) ? "1" : "0";
        else if (Z_TYPE_P(v) == IS_STRING && !zend_str_has_nul_byte(Z_STR_P(v)))
            *out = Z_STRVAL_P(v); /* the core knows "true", "off", ... and refuses the rest */
        else {
            type_error(ov, i, "bool", v);
            return false;
        }
        return true;
    case OPT_TRANSCRIPT:
        break;
    }
    return false;
}

static bool apply_option(smtpcore_config *cfg, option_values *ov, size_t i)
{
    if (Z_TYPE(ov->v[i]) == IS_UNDEF || options[i].kind == OPT_TRANSCRIPT)
        return true;
    char buf[32];
    const char *s = NULL;
    if (!option_string(ov, i, buf, sizeof buf, &s))
        return false;
    smtpcore_error err = {0};
    if (smtpcore_config_set(cfg, options[i].key, s, &err) < 0) {
        if (err.category == SMTPCORE_ERR_USAGE)
            value_error(ov, i, "is invalid: ", err.message);
        else
            smtpcore_throw(&err, NULL, NULL);
        smtpcore_error_clear(&err);
        return false;
    }
    return true;
}

/* The slot of a named argument, which wins over the array (ZPP has typed it). */
static zval *named_slot(option_values *ov, size_t i)
{
    zval_ptr_dtor(&ov->v[i]);
    ov->from_array[i] = false;
    return &ov->v[i];
}

PHP_METHOD(SmtpCore_Client, __construct)
{
    HashTable *array = NULL;
    zend_string *str[N_OPTIONS] = {0};
    zend_long port = 0, depth = 0;
    bool port_null = true, depth_null = true;
    zval *seconds[2] = {NULL, NULL};
    bool flag[N_OPTIONS] = {0}, flag_null[N_OPTIONS];
    zval *transcript = NULL;
    for (size_t i = 0; i < N_OPTIONS; i++)
        flag_null[i] = true;

    ZEND_PARSE_PARAMETERS_START(0, (uint32_t)N_OPTIONS + 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_ARRAY_HT(array)
        Z_PARAM_PATH_STR_OR_NULL(str[0])    /* host */
        Z_PARAM_LONG_OR_NULL(port, port_null)
        Z_PARAM_PATH_STR_OR_NULL(str[2])    /* security */
        Z_PARAM_PATH_STR_OR_NULL(str[3])    /* username */
        Z_PARAM_PATH_STR_OR_NULL(str[4])    /* password */
        Z_PARAM_PATH_STR_OR_NULL(str[5])    /* preset */
        Z_PARAM_PATH_STR_OR_NULL(str[6])    /* region */
        Z_PARAM_NUMBER_OR_NULL(seconds[0])  /* timeout */
        Z_PARAM_NUMBER_OR_NULL(seconds[1])  /* connectTimeout */
        Z_PARAM_PATH_STR_OR_NULL(str[9])    /* caFile */
        Z_PARAM_BOOL_OR_NULL(flag[10], flag_null[10]) /* verify */
        Z_PARAM_BOOL_OR_NULL(flag[11], flag_null[11]) /* allowPlaintextAuth */
        Z_PARAM_PATH_STR_OR_NULL(str[12])   /* ehloName */
        Z_PARAM_PATH_STR_OR_NULL(str[13])   /* authMechanism */
        Z_PARAM_PATH_STR_OR_NULL(str[14])   /* oauth2Token */
        Z_PARAM_ZVAL(transcript)
        Z_PARAM_PATH_STR_OR_NULL(str[16])   /* caDir */
        Z_PARAM_PATH_STR_OR_NULL(str[17])   /* clientCert */
        Z_PARAM_PATH_STR_OR_NULL(str[18])   /* clientKey */
        Z_PARAM_PATH_STR_OR_NULL(str[19])   /* tlsServerName */
        Z_PARAM_BOOL_OR_NULL(flag[20], flag_null[20]) /* allOrNothing */
        Z_PARAM_BOOL_OR_NULL(flag[21], flag_null[21]) /* pipelining */
        Z_PARAM_BOOL_OR_NULL(flag[22], flag_null[22]) /* chunking */
        Z_PARAM_LONG_OR_NULL(depth, depth_null)       /* pipelineDepth */
    ZEND_PARSE_PARAMETERS_END();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    if (!not_busy(c, "__construct"))
        RETURN_THROWS();

    option_values ov;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        ZVAL_UNDEF(&ov.v[i]);
        ov.from_array[i] = false;
    }
    smtpcore_config *cfg = NULL;

    if (array) {
        zend_string *key;
        zval *val;
        ZEND_HASH_FOREACH_STR_KEY_VAL(array, key, val) {
            size_t i = 0;
            if (!key) {
                zend_argument_value_error(1, "must have string keys (option names)");
                goto out;
            }
            while (i < N_OPTIONS && !zend_string_equals_cstr(key, options[i].name, strlen(options[i].name)))
                i++;
            if (i == N_OPTIONS) {
                zend_argument_value_error(1, "contains unknown option \"%s\"", ZSTR_VAL(key));
                goto out;
            }
            ZVAL_DEREF(val);
            if (Z_TYPE_P(val) == IS_NULL)
                continue; /* as if not given, like a null named argument */
            ZVAL_COPY(&ov.v[i], val);
            ov.from_array[i] = true;
        } ZEND_HASH_FOREACH_END();
    }

    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (str[i])
            ZVAL_STR_COPY(named_slot(&ov, i), str[i]);
        if (!flag_null[i])
            ZVAL_BOOL(named_slot(&ov, i), flag[i]);
    }
    if (!port_null)
        ZVAL_LONG(named_slot(&ov, OPT_PORT_I), port);
    if (!depth_null)
        ZVAL_LONG(named_slot(&ov, OPT_PIPELINE_DEPTH_I), depth);
    if (seconds[0])
        ZVAL_COPY(named_slot(&ov, OPT_TIMEOUT_I), seconds[0]);
    if (seconds[1])
        ZVAL_COPY(named_slot(&ov, OPT_CONNECT_TIMEOUT_I), seconds[1]);
    if (transcript && Z_TYPE_P(transcript) != IS_NULL)
        ZVAL_COPY(named_slot(&ov, OPT_TRANSCRIPT_I), transcript);

    zval *t = &ov.v[OPT_TRANSCRIPT_I];
    if (Z_TYPE_P(t) != IS_UNDEF && Z_TYPE_P(t) != IS_TRUE && Z_TYPE_P(t) != IS_FALSE && !zend_is_callable(t, 0, NULL)) {
        type_error(&ov, OPT_TRANSCRIPT_I, "callable|bool|null", t);
        goto out;
    }

    cfg = smtpcore_config_new();
    if (!cfg) {
        zend_throw_error(NULL, "out of memory");
        goto out;
    }
    if (!apply_option(cfg, &ov, OPT_PRESET))
        goto out;
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (i != OPT_PRESET && !apply_option(cfg, &ov, i))
            goto out;
    if (Z_TYPE_P(t) != IS_FALSE) /* true, a callable, or not given */
        smtpcore_config_set_transcript(cfg, on_line, c);

    /* Constructing again replaces everything, the connection included. */
    c->busy = true;
    smtpcore_pool_free(c->pool);
    c->busy = false;
    c->pool = NULL;
    smtpcore_config_free(c->cfg);
    c->cfg = cfg;
    cfg = NULL;
    c->keep = Z_TYPE_P(t) != IS_FALSE;
    if (c->lines)
        zend_hash_clean(c->lines);
    zval_ptr_dtor(&c->callback);
    ZVAL_UNDEF(&c->callback);
    if (Z_TYPE_P(t) != IS_UNDEF && Z_TYPE_P(t) != IS_TRUE && Z_TYPE_P(t) != IS_FALSE)
        ZVAL_COPY(&c->callback, t);

out:
    smtpcore_config_free(cfg);
    for (size_t i = 0; i < N_OPTIONS; i++)
        zval_ptr_dtor(&ov.v[i]);
}

/* --------------------------------------------------------------- sending */

/* The client's one-connection pool, made on first use; NULL with err. */
static smtpcore_pool *ensure_pool(client_object *c, smtpcore_error *err)
{
    if (!c->pool) {
        smtpcore_pool_options o = {.max_connections = 1};
        c->pool = smtpcore_pool_new(c->cfg, &o, err);
    }
    return c->pool;
}

/* Ready to send: the pool opened, the last transcript cleared, busy set. */
static smtpcore_pool *begin_send(client_object *c, const char *what)
{
    if (!not_busy(c, what))
        return NULL;
    if (!c->cfg) {
        zend_throw_error(NULL, "SmtpCore\\Client could not be allocated");
        return NULL;
    }
    smtpcore_error err = {0};
    if (!ensure_pool(c, &err)) {
        smtpcore_throw(&err, NULL, NULL);
        return NULL;
    }
    if (c->lines)
        zend_hash_clean(c->lines);
    c->busy = true;
    return c->pool;
}

static void end_send(client_object *c, int rc, smtpcore_result *res, smtpcore_error *err, zval *return_value)
{
    c->busy = false;
    if (EG(exception)) {
        /* Thrown by the transcript callback: it wins (the message may have gone). */
        smtpcore_error_clear(err);
    } else if (rc < 0) {
        smtpcore_throw(err, c->lines, res);
    } else {
        smtpcore_result_to_zval(return_value, res);
    }
    smtpcore_result_free(res);
}

PHP_METHOD(SmtpCore_Client, send)
{
    zval *zmsg;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(zmsg, smtpcore_message_ce)
    ZEND_PARSE_PARAMETERS_END();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    smtpcore_message_object *m = smtpcore_message_from_obj(Z_OBJ_P(zmsg));
    if (!m->msg) {
        zend_argument_value_error(1, "could not be allocated");
        RETURN_THROWS();
    }
    /* Before the envelope below: computing it again would free the one a
     * send in progress (the caller of a transcript callback) is using. */
    if (!not_busy(c, "send") || !not_being_sent(m))
        RETURN_THROWS();
    /* A message without From or recipients fails here, not after connecting. */
    smtpcore_error err = {0};
    const char *sender;
    const char *const *rcpts;
    size_t n;
    if (smtpcore_message_envelope(m->msg, SMTPCORE_RENDER_SMTPUTF8, &sender, &rcpts, &n, &err) < 0) {
        smtpcore_throw(&err, NULL, NULL);
        RETURN_THROWS();
    }
    smtpcore_pool *pool = begin_send(c, "send");
    if (!pool)
        RETURN_THROWS();
    smtpcore_result *res = NULL;
    m->sending++;
    int rc = smtpcore_pool_send_message(pool, m->msg, &res, &err);
    m->sending--;
    end_send(c, rc, res, &err, return_value);
}

PHP_METHOD(SmtpCore_Client, sendRaw)
{
    zend_string *bytes;
    char *from;
    size_t from_len;
    HashTable *to;
    ZEND_PARSE_PARAMETERS_START(3, 3)
        Z_PARAM_STR(bytes)
        Z_PARAM_PATH(from, from_len)
        Z_PARAM_ARRAY_HT(to)
    ZEND_PARSE_PARAMETERS_END();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    uint32_t n = zend_hash_num_elements(to);
    smtpcore_recipient *rcpts = safe_emalloc(n ? n : 1, sizeof *rcpts, 0);
    memset(rcpts, 0, (n ? n : 1) * sizeof *rcpts);
    uint32_t k = 0;
    zval *item;
    ZEND_HASH_FOREACH_VAL(to, item) {
        ZVAL_DEREF(item);
        if (Z_TYPE_P(item) != IS_STRING) {
            zend_argument_type_error(3, "must contain only strings, %s given", zend_zval_type_name(item));
            efree(rcpts);
            RETURN_THROWS();
        }
        if (zend_str_has_nul_byte(Z_STR_P(item))) {
            zend_argument_value_error(3, "must not contain any null bytes");
            efree(rcpts);
            RETURN_THROWS();
        }
        rcpts[k++].address = Z_STRVAL_P(item);
    } ZEND_HASH_FOREACH_END();

    smtpcore_envelope env = {.sender = from, .recipients = rcpts, .n_recipients = k, .all_or_nothing = -1};
    smtpcore_error err = {0};
    if (smtpcore_envelope_check(&env, &err) < 0) {
        /* The sender is checked first: if it passes with a recipient known
         * to be good, the recipients are the problem. */
        smtpcore_recipient good = {.address = "postmaster@example.com"};
        smtpcore_envelope probe = {.sender = from, .recipients = &good, .n_recipients = 1, .all_or_nothing = -1};
        smtpcore_error e = {0};
        uint32_t arg = smtpcore_envelope_check(&probe, &e) < 0 ? 2 : 3;
        smtpcore_error_clear(&e);
        efree(rcpts);
        smtpcore_throw_for_arg(arg, &err);
        RETURN_THROWS();
    }

    smtpcore_pool *pool = begin_send(c, "sendRaw");
    if (!pool) {
        efree(rcpts);
        RETURN_THROWS();
    }
    smtpcore_memory_source ms;
    smtpcore_source src = smtpcore_source_from_memory(&ms, ZSTR_VAL(bytes), ZSTR_LEN(bytes),
                                                      smtpcore_has_eight_bit(ZSTR_VAL(bytes), ZSTR_LEN(bytes)));
    smtpcore_result *res = NULL;
    int rc = smtpcore_pool_send(pool, &env, &src, &res, &err);
    efree(rcpts);
    end_send(c, rc, res, &err, return_value);
}

/* ------------------------------------------------------------ sendMany */

/* The outcome of one message of a batch as a Result or an exception object. */
static void outcome_to_zval(zval *out, const smtpcore_send_outcome *o, zval *transcript)
{
    if (o->status == 0 && o->result)
        smtpcore_result_to_zval(out, o->result);
    else
        smtpcore_exception_new(out, &o->error, transcript, o->result);
}

static void set_entry(zval *array, zend_ulong index, zend_string *key, zval *v)
{
    if (key)
        zend_hash_update(Z_ARRVAL_P(array), key, v);
    else
        zend_hash_index_update(Z_ARRVAL_P(array), index, v);
}

PHP_METHOD(SmtpCore_Client, sendMany)
{
    HashTable *messages;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(messages)
    ZEND_PARSE_PARAMETERS_END();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    if (!not_busy(c, "sendMany"))
        RETURN_THROWS();
    if (!c->cfg) {
        zend_throw_error(NULL, "SmtpCore\\Client could not be allocated");
        RETURN_THROWS();
    }
    /* Anything but a Message is a programming error: refused before anything is sent. */
    zval *v;
    ZEND_HASH_FOREACH_VAL(messages, v) {
        ZVAL_DEREF(v);
        if (Z_TYPE_P(v) != IS_OBJECT || !instanceof_function(Z_OBJCE_P(v), smtpcore_message_ce)) {
            zend_argument_type_error(1, "must contain only SmtpCore\\Message objects, %s given",
                                     zend_zval_type_name(v));
            RETURN_THROWS();
        }
        if (!smtpcore_message_from_obj(Z_OBJ_P(v))->msg) {
            zend_argument_value_error(1, "contains a message that could not be allocated");
            RETURN_THROWS();
        }
        if (!not_being_sent(smtpcore_message_from_obj(Z_OBJ_P(v))))
            RETURN_THROWS();
    } ZEND_HASH_FOREACH_END();

    uint32_t n = zend_hash_num_elements(messages), nb = 0;
    array_init_size(return_value, n);
    if (n == 0)
        return;
    smtpcore_message **batch = safe_emalloc(n, sizeof *batch, 0);
    bool *in_batch = ecalloc(n, sizeof *in_batch);
    smtpcore_send_outcome *out = ecalloc(n, sizeof *out);

    /* In input order, with the input's keys: a message without From or
     * recipients gets its exception now (as send() throws it before
     * connecting), the others a place in the batch. */
    zend_ulong index;
    zend_string *key;
    uint32_t i = 0;
    ZEND_HASH_FOREACH_KEY_VAL(messages, index, key, v) {
        ZVAL_DEREF(v);
        smtpcore_message_object *m = smtpcore_message_from_obj(Z_OBJ_P(v));
        smtpcore_error err = {0};
        const char *sender;
        const char *const *rcpts;
        size_t nr;
        zval entry;
        if (smtpcore_message_envelope(m->msg, SMTPCORE_RENDER_SMTPUTF8, &sender, &rcpts, &nr, &err) < 0) {
            smtpcore_exception_new(&entry, &err, NULL, NULL);
            smtpcore_error_clear(&err);
        } else {
            ZVAL_NULL(&entry);
            in_batch[i] = true;
            batch[nb++] = m->msg;
            m->sending++; /* locked: a transcript callback may not change it meanwhile */
        }
        set_entry(return_value, index, key, &entry);
        i++;
    } ZEND_HASH_FOREACH_END();

    if (nb > 0) {
        if (c->lines)
            zend_hash_clean(c->lines);
        c->busy = true;
        smtpcore_error err = {0};
        /* A bad configuration is every message's outcome, as send() would throw it for each (a
         * failure to connect comes back in each outcome). */
        bool opened = ensure_pool(c, &err) != NULL;
        if (opened)
            smtpcore_pool_send_messages(c->pool, batch, nb, out);
        c->busy = false;

        zval transcript;
        ZVAL_UNDEF(&transcript);
        if (c->lines)
            ZVAL_ARR(&transcript, zend_array_dup(c->lines)); /* one copy, shared by the exceptions */
        uint32_t k = 0;
        i = 0;
        ZEND_HASH_FOREACH_KEY_VAL(messages, index, key, v) {
            if (!in_batch[i++])
                continue;
            ZVAL_DEREF(v);
            smtpcore_message_from_obj(Z_OBJ_P(v))->sending--;
            /* After an exception thrown by the transcript callback no more objects are made: it wins. */
            if (!EG(exception)) {
                zval entry;
                if (opened)
                    outcome_to_zval(&entry, &out[k], Z_ISUNDEF(transcript) ? NULL : &transcript);
                else
                    smtpcore_exception_new(&entry, &err, Z_ISUNDEF(transcript) ? NULL : &transcript, NULL);
                set_entry(return_value, index, key, &entry);
            }
            k++;
        } ZEND_HASH_FOREACH_END();
        zval_ptr_dtor(&transcript);
        smtpcore_error_clear(&err);
    }
    for (uint32_t k = 0; k < nb; k++)
        smtpcore_send_outcome_clear(&out[k]);
    efree(out);
    efree(in_batch);
    efree(batch);
}

PHP_METHOD(SmtpCore_Client, close)
{
    ZEND_PARSE_PARAMETERS_NONE();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    if (!not_busy(c, "close"))
        RETURN_THROWS();
    c->busy = true;
    smtpcore_pool_free(c->pool);
    c->pool = NULL;
    c->busy = false;
}

PHP_METHOD(SmtpCore_Client, transcript)
{
    ZEND_PARSE_PARAMETERS_NONE();

    client_object *c = client_from_obj(Z_OBJ_P(ZEND_THIS));
    if (!c->lines)
        RETURN_EMPTY_ARRAY();
    RETURN_ARR(zend_array_dup(c->lines));
}
