/* smtpcore._core: the thin C layer of the Python binding.
 *
 * It converts values, releases the GIL around everything that blocks or
 * works hard (network I/O, rendering, sending) and maps smtpcore_error to
 * exceptions in one place (raise_error). Everything else -- argument sugar,
 * the exception classes, the smtplib drop-in -- lives in the pure-Python
 * package next to it. Written in the style of CPython's Modules/: PEP 489
 * multi-phase initialisation, heap types, module state, goto-error cleanup.
 *
 * Locking: a handle of the core may be used by one thread at a time, so
 * Message and Session objects carry a lock that is held for the whole call
 * (and taken with the GIL released when another thread holds it). Lock
 * order is session, then message; nothing takes them the other way round.
 * The pool is thread-safe in the core and needs no lock here.
 *
 * Python code runs only with the GIL held: transcript lines are collected in
 * C while the GIL is released and handed over afterwards, and a message body
 * read from a Python file object re-acquires the GIL inside the pull source.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "pythread.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpcore.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
Py_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#endif

#define BODY_CHUNK 65536
#define TX_MAX_LINES 100000

/* ------------------------------------------------------------------ module state */

typedef struct {
    PyTypeObject *message_type;
    PyTypeObject *reader_type;
    PyTypeObject *session_type;
    PyTypeObject *pool_type;
    PyObject *error_type;      /* _core.Error: used until the package installs its factory */
    PyObject *error_factory;   /* callable(**fields) -> exception instance, or NULL */
} core_state;

static inline core_state *
get_state(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

static inline core_state *
type_state(PyTypeObject *tp)
{
    return (core_state *)PyType_GetModuleState(tp);
}

/* ------------------------------------------------------------------ locks */

/* A lock that knows its owner, so a re-entrant call from the same thread
 * (a file object's read() calling back into the session) fails instead of
 * deadlocking. */
typedef struct {
    PyThread_type_lock lock;
    unsigned long owner;
} owned_lock;

static int
owned_lock_init(owned_lock *l)
{
    l->owner = 0;
    l->lock = PyThread_allocate_lock();
    if (!l->lock) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
owned_lock_fini(owned_lock *l)
{
    if (l->lock)
        PyThread_free_lock(l->lock);
    l->lock = NULL;
}

/* -1 (exception set) on a re-entrant call; otherwise 0 with the lock held. */
static int usage_error(core_state *st, const char *fmt, ...);

static int
owned_lock_acquire(core_state *st, owned_lock *l)
{
    unsigned long me = PyThread_get_thread_ident();
    if (l->owner == me)
        return usage_error(st, "re-entrant call: this object is already in use by this thread");
    if (!PyThread_acquire_lock(l->lock, 0)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(l->lock, 1);
        Py_END_ALLOW_THREADS
    }
    l->owner = me;
    return 0;
}

static void
owned_lock_release(owned_lock *l)
{
    l->owner = 0;
    PyThread_release_lock(l->lock);
}

/* ------------------------------------------------------------------ transcript buffer */

/* Lines the core reports while the GIL is released; turned into Python
 * strings afterwards. Only touched under the owning session's lock. */
typedef struct {
    char **lines;
    size_t n, cap;
    size_t dropped;
} tx_buf;

static void
tx_collect(void *userdata, smtpcore_dir dir, const char *line, size_t len)
{
    tx_buf *t = userdata;
    if (t->n >= TX_MAX_LINES) {
        t->dropped++;
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **lines = realloc(t->lines, cap * sizeof *lines);
        if (!lines) {
            t->dropped++;
            return;
        }
        t->lines = lines;
        t->cap = cap;
    }
    const char *tag = dir == SMTPCORE_DIR_CLIENT ? "C: " : dir == SMTPCORE_DIR_SERVER ? "S: " : "*  ";
    char *s = malloc(len + 4);
    if (!s) {
        t->dropped++;
        return;
    }
    memcpy(s, tag, 3);
    memcpy(s + 3, line, len);
    s[len + 3] = '\0';
    t->lines[t->n++] = s;
}

static void
tx_clear(tx_buf *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->lines[i]);
    t->n = 0;
    t->dropped = 0;
}

static void
tx_free(tx_buf *t)
{
    tx_clear(t);
    free(t->lines);
    t->lines = NULL;
    t->cap = 0;
}

static PyObject *
tx_to_list(const tx_buf *t)
{
    PyObject *list = PyList_New((Py_ssize_t)t->n);
    if (!list)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        PyObject *s = PyUnicode_DecodeUTF8(t->lines[i], (Py_ssize_t)strlen(t->lines[i]), "backslashreplace");
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    if (t->dropped) {
        PyObject *s = PyUnicode_FromFormat("*  (%zu more transcript lines dropped)", t->dropped);
        if (!s || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(s);
    }
    return list;
}

/* ------------------------------------------------------------------ conversions */

static PyObject *
text_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *
bytes_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize(s, (Py_ssize_t)strlen(s));
}

static PyObject *
enhanced_or_none(const char *enhanced)
{
    if (!enhanced || !enhanced[0])
        Py_RETURN_NONE;
    return PyUnicode_FromString(enhanced);
}

/* (code, enhanced, text, ((address, accepted, code, enhanced, text), ...)) */
static PyObject *
result_to_tuple(const smtpcore_result *r)
{
    size_t n = smtpcore_result_count(r);
    PyObject *rcpts = PyTuple_New((Py_ssize_t)n);
    if (!rcpts)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const smtpcore_rcpt_status *st = smtpcore_result_get(r, i);
        PyObject *item = Py_BuildValue("(NOiNN)", text_or_none(st->address), st->accepted ? Py_True : Py_False,
                                       st->code, enhanced_or_none(st->enhanced), text_or_none(st->text));
        if (!item) {
            Py_DECREF(rcpts);
            return NULL;
        }
        PyTuple_SET_ITEM(rcpts, (Py_ssize_t)i, item);
    }
    return Py_BuildValue("(iNNN)", smtpcore_result_code(r), enhanced_or_none(smtpcore_result_enhanced(r)),
                         text_or_none(smtpcore_result_text(r)), rcpts);
}

/* ------------------------------------------------------------------ errors */

/* The one place that turns a failure into an exception instance (a new
 * reference; NULL with an exception set). The package's factory picks the
 * class from the category (ConnectError, AuthError, ...); before it is
 * installed, _core.Error carries the same fields. */
static PyObject *
error_object(core_state *st, smtpcore_category category, const char *message, int code, const char *enhanced,
             const char *server_text, const char *hint, PyObject *transcript, PyObject *result)
{
    PyObject *kw = NULL, *exc = NULL;
    kw = Py_BuildValue("{s:s,s:N,s:i,s:N,s:N,s:N,s:N,s:O,s:O}",
                       "category", smtpcore_category_name(category),
                       "message", text_or_none(message ? message : "unknown error"),
                       "code", code,
                       "enhanced_code", enhanced_or_none(enhanced),
                       "server_message", text_or_none(server_text),
                       "server_bytes", bytes_or_none(server_text),
                       "hint", text_or_none(hint ? hint : smtpcore_hint_for(category, code, enhanced)),
                       "transcript", transcript ? transcript : Py_None,
                       "result", result ? result : Py_None);
    if (!kw)
        return NULL;
    if (st->error_factory) {
        PyObject *empty = PyTuple_New(0);
        if (empty) {
            exc = PyObject_Call(st->error_factory, empty, kw);
            Py_DECREF(empty);
        }
    } else {
        exc = PyObject_CallFunctionObjArgs(st->error_type, PyDict_GetItemString(kw, "message"), NULL);
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (exc && PyDict_Next(kw, &pos, &k, &v))
            if (PyObject_SetAttr(exc, k, v) < 0)
                Py_CLEAR(exc);
    }
    Py_DECREF(kw);
    return exc;
}

static void
raise_fields(core_state *st, smtpcore_category category, const char *message, int code, const char *enhanced,
             const char *server_text, const char *hint, PyObject *transcript, PyObject *result)
{
    PyObject *exc = error_object(st, category, message, code, enhanced, server_text, hint, transcript, result);
    if (!exc)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

/* The exception instance for err, with a transcript list (may be NULL) and
 * the per-recipient result (may be NULL). */
static PyObject *
error_from(core_state *st, const smtpcore_error *err, PyObject *transcript, const smtpcore_result *res)
{
    PyObject *result = NULL;
    if (res && !(result = result_to_tuple(res)))
        return NULL;
    smtpcore_category cat = err->category != SMTPCORE_OK ? err->category : SMTPCORE_ERR_LOCAL;
    PyObject *exc = error_object(st, cat, err->message, err->code, err->enhanced, err->server_text, err->hint,
                                 transcript, result);
    Py_XDECREF(result);
    return exc;
}

static void
raise_error(core_state *st, const smtpcore_error *err, const tx_buf *tx, const smtpcore_result *res)
{
    PyObject *transcript = NULL;
    if (tx && !(transcript = tx_to_list(tx)))
        return;
    PyObject *exc = error_from(st, err, transcript, res);
    Py_XDECREF(transcript);
    if (!exc)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

static int
usage_error(core_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (!msg)
        return -1;
    const char *text = PyUnicode_AsUTF8(msg);
    if (text)
        raise_fields(st, SMTPCORE_ERR_USAGE, text, 0, NULL, NULL, NULL, NULL, NULL);
    Py_DECREF(msg);
    return -1;
}

/* A str argument as UTF-8 (borrowed from o); None gives NULL when allowed.
 * NUL characters are usage errors, like CR and LF in the core. */
static int
get_str(core_state *st, PyObject *o, const char *what, int allow_none, const char **out)
{
    if (o == Py_None && allow_none) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str%s, not %.100s", what, allow_none ? " or None" : "",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s)
        return -1;
    if ((Py_ssize_t)strlen(s) != n)
        return usage_error(st, "%s must not contain NUL characters", what);
    *out = s;
    return 0;
}

/* Text given as str (encoded to UTF-8) or as bytes-like (must be UTF-8; the
 * core checks). On success view is filled and must be released. */
static int
get_text(PyObject *o, const char *what, Py_buffer *view)
{
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (!s)
            return -1;
        return PyBuffer_FillInfo(view, o, (void *)s, n, 1, PyBUF_SIMPLE);
    }
    if (PyObject_CheckBuffer(o))
        return PyObject_GetBuffer(o, view, PyBUF_SIMPLE);
    PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what, Py_TYPE(o)->tp_name);
    return -1;
}

/* Options dict -> a new config. Values: str, int, bool; None is skipped.
 * Keys go to smtpcore_config_set in dict order (a preset before overrides). */
static smtpcore_config *
config_from_options(core_state *st, PyObject *options, tx_buf *tx)
{
    if (!PyDict_Check(options)) {
        PyErr_Format(PyExc_TypeError, "options must be a dict, not %.100s", Py_TYPE(options)->tp_name);
        return NULL;
    }
    smtpcore_config *cfg = smtpcore_config_new();
    if (!cfg) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(options, &pos, &k, &v)) {
        const char *key, *value;
        char num[32];
        if (v == Py_None)
            continue;
        if (get_str(st, k, "option name", 0, &key) < 0)
            goto error;
        if (PyBool_Check(v)) {
            value = v == Py_True ? "1" : "0";
        } else if (PyLong_Check(v)) {
            long long n = PyLong_AsLongLong(v);
            if (n == -1 && PyErr_Occurred())
                goto error;
            snprintf(num, sizeof num, "%lld", n);
            value = num;
        } else if (get_str(st, v, key, 0, &value) < 0) {
            goto error;
        }
        smtpcore_error err = {0};
        if (smtpcore_config_set(cfg, key, value, &err) < 0) {
            raise_error(st, &err, NULL, NULL);
            smtpcore_error_clear(&err);
            goto error;
        }
    }
    if (tx)
        smtpcore_config_set_transcript(cfg, tx_collect, tx);
    return cfg;
error:
    smtpcore_config_free(cfg);
    return NULL;
}

/* ------------------------------------------------------------------ message sources */

/* The body from a Python binary file object. The send runs with the GIL
 * released; each read takes the GIL back for the call into Python. */
typedef struct {
    PyObject *file;
    PyThreadState *tstate;
    PyObject *exc_type, *exc_value, *exc_tb;  /* what read() raised */
    unsigned long long bytes;
} file_source;

static long long
file_read(void *ctx, char *buf, size_t n)
{
    file_source *f = ctx;
    long long got = -1;
    PyEval_RestoreThread(f->tstate);
    PyObject *data = PyObject_CallMethod(f->file, "read", "n", (Py_ssize_t)n);
    if (data) {
        Py_buffer view;
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) == 0) {
            if ((size_t)view.len <= n) {
                memcpy(buf, view.buf, (size_t)view.len);
                got = view.len;
                f->bytes += (unsigned long long)view.len;
            } else {
                PyErr_SetString(PyExc_ValueError, "read() returned more bytes than asked for");
            }
            PyBuffer_Release(&view);
        } else if (PyUnicode_Check(data)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "the message file must be opened in binary mode (read() returned str)");
        }
        Py_DECREF(data);
    }
    if (got < 0 && !f->exc_type)
        PyErr_Fetch(&f->exc_type, &f->exc_value, &f->exc_tb);
    PyErr_Clear();
    f->tstate = PyEval_SaveThread();
    return got;
}

/* Make what a file source's read() raised the cause of exc (an exception
 * instance, may be NULL), and forget it. */
static void
file_source_set_cause(file_source *f, PyObject *exc)
{
    if (f->exc_type && exc) {
        PyErr_NormalizeException(&f->exc_type, &f->exc_value, &f->exc_tb);
        if (f->exc_value) {
            if (f->exc_tb)
                PyException_SetTraceback(f->exc_value, f->exc_tb);
            PyException_SetCause(exc, Py_NewRef(f->exc_value)); /* steals the reference */
        }
    }
    Py_CLEAR(f->exc_type);
    Py_CLEAR(f->exc_value);
    Py_CLEAR(f->exc_tb);
}

/* After a failed send whose file source raised: chain the original
 * exception as the cause of the one being raised. */
static void
file_source_chain(file_source *f)
{
    if (!f->exc_type)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb); /* the mapped error being raised */
    if (t)
        PyErr_NormalizeException(&t, &v, &tb);
    file_source_set_cause(f, t ? v : NULL);
    PyErr_Restore(t, v, tb);
}

/* Everything smtpcore_session_send / smtpcore_pool_send need, built from
 * Python arguments while the GIL is held and freed after the call. */
typedef struct {
    PyObject *rcpt_tuple;       /* keeps the recipient strings alive */
    smtpcore_recipient *rcpts;
    smtpcore_envelope env;
    Py_buffer view;
    int have_view;
    smtpcore_memory_source mem; /* the body in memory (a buffer held for the whole send) */
    file_source file;
    smtpcore_source src;
} send_args;

static void
send_args_free(send_args *a)
{
    PyMem_Free(a->rcpts);
    a->rcpts = NULL;
    Py_CLEAR(a->rcpt_tuple);
    if (a->have_view)
        PyBuffer_Release(&a->view);
    a->have_view = 0;
    Py_CLEAR(a->file.file);
    Py_CLEAR(a->file.exc_type);
    Py_CLEAR(a->file.exc_value);
    Py_CLEAR(a->file.exc_tb);
}

/* recipients: str, or (address, notify_bits, orcpt_or_None) tuples. */
static int
parse_envelope(core_state *st, send_args *a, PyObject *sender, PyObject *recipients, PyObject *dsn_ret,
               PyObject *envid, PyObject *all_or_nothing)
{
    if (get_str(st, sender, "sender", 0, &a->env.sender) < 0)
        return -1;
    if (PyUnicode_Check(recipients) || PyBytes_Check(recipients)) {
        PyErr_SetString(PyExc_TypeError, "recipients must be a list of addresses, not a single string");
        return -1;
    }
    if (!(a->rcpt_tuple = PySequence_Tuple(recipients)))
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(a->rcpt_tuple);
    if (n == 0)
        return usage_error(st, "no recipients given");
    if (!(a->rcpts = PyMem_Calloc((size_t)n, sizeof *a->rcpts))) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(a->rcpt_tuple, i);
        smtpcore_recipient *r = &a->rcpts[i];
        if (PyTuple_Check(item)) {
            if (PyTuple_GET_SIZE(item) != 3) {
                PyErr_SetString(PyExc_TypeError, "a recipient tuple is (address, notify, orcpt)");
                return -1;
            }
            unsigned long notify = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(item, 1));
            if (notify == (unsigned long)-1 && PyErr_Occurred())
                return -1;
            r->notify = (unsigned)notify;
            if (get_str(st, PyTuple_GET_ITEM(item, 0), "recipient", 0, &r->address) < 0 ||
                get_str(st, PyTuple_GET_ITEM(item, 2), "orcpt", 1, &r->orcpt) < 0)
                return -1;
        } else if (get_str(st, item, "recipient", 0, &r->address) < 0) {
            return -1;
        }
    }
    a->env.recipients = a->rcpts;
    a->env.n_recipients = (size_t)n;
    a->env.all_or_nothing = -1;
    if (all_or_nothing && all_or_nothing != Py_None) {
        int b = PyObject_IsTrue(all_or_nothing);
        if (b < 0)
            return -1;
        a->env.all_or_nothing = b;
    }
    if (dsn_ret && dsn_ret != Py_None) {
        const char *ret;
        if (get_str(st, dsn_ret, "dsn_ret", 0, &ret) < 0)
            return -1;
        if (!strcmp(ret, "FULL"))
            a->env.dsn_ret = SMTPCORE_DSN_RET_FULL;
        else if (!strcmp(ret, "HDRS"))
            a->env.dsn_ret = SMTPCORE_DSN_RET_HDRS;
        else
            return usage_error(st, "dsn_ret must be 'FULL' or 'HDRS'");
    }
    if (envid && get_str(st, envid, "envid", 1, &a->env.dsn_envid) < 0)
        return -1;
    return 0;
}

/* data: a bytes-like object, or a binary file object with read(). */
static int
parse_body(send_args *a, PyObject *data, unsigned long long size_hint)
{
    if (PyObject_CheckBuffer(data)) {
        if (PyObject_GetBuffer(data, &a->view, PyBUF_SIMPLE) < 0)
            return -1;
        a->have_view = 1;
        /* eight_bit is scanned with the GIL released, see scan_eight_bit */
        a->src = smtpcore_source_from_memory(&a->mem, a->view.buf, (size_t)a->view.len, 0);
        return 0;
    }
    if (PyUnicode_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "the message must be bytes or a binary file, not str");
        return -1;
    }
    int has_read = PyObject_HasAttrString(data, "read");
    if (!has_read) {
        PyErr_Format(PyExc_TypeError, "the message must be bytes or a binary file object, not %.100s",
                     Py_TYPE(data)->tp_name);
        return -1;
    }
    Py_INCREF(data);
    a->file.file = data;
    a->src.read = file_read;
    a->src.ctx = &a->file;
    a->src.size_hint = size_hint;
    a->src.eight_bit = -1;
    return 0;
}

/* Whether an in-memory body has 8-bit bytes (runs without the GIL). */
static void
scan_eight_bit(send_args *a)
{
    if (a->have_view)
        a->src.eight_bit = smtpcore_has_eight_bit(a->view.buf, (size_t)a->view.len);
}

/* ------------------------------------------------------------------ Message */

typedef struct {
    PyObject_HEAD
    smtpcore_message *m;
    owned_lock lock;
    Py_ssize_t readers;   /* open MessageReaders: the description must not change */
} MessageObject;

static PyObject *
message_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) || (kwargs && PyDict_GET_SIZE(kwargs))) {
        PyErr_SetString(PyExc_TypeError, "Message() takes no arguments");
        return NULL;
    }
    MessageObject *self = (MessageObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (owned_lock_init(&self->lock) < 0)
        goto error;
    if (!(self->m = smtpcore_message_new())) {
        PyErr_NoMemory();
        goto error;
    }
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static void
message_dealloc(MessageObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    smtpcore_message_free(self->m);
    owned_lock_fini(&self->lock);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Take the message for a change: locked, and no reader open. */
static int
message_begin_change(core_state *st, MessageObject *self)
{
    if (owned_lock_acquire(st, &self->lock) < 0)
        return -1;
    if (self->readers) {
        owned_lock_release(&self->lock);
        return usage_error(st, "the message cannot change while a reader of it is open");
    }
    return 0;
}

/* Finish a setter: unlock and turn rc/err into None or an exception. */
static PyObject *
message_end(core_state *st, MessageObject *self, int rc, smtpcore_error *err)
{
    owned_lock_release(&self->lock);
    if (rc < 0) {
        raise_error(st, err, NULL, NULL);
        smtpcore_error_clear(err);
        return NULL;
    }
    smtpcore_error_clear(err);
    Py_RETURN_NONE;
}

typedef int (*message_str_fn)(smtpcore_message *, const char *, smtpcore_error *);

static PyObject *
message_str_setter(MessageObject *self, PyObject *arg, message_str_fn fn, const char *what)
{
    core_state *st = type_state(Py_TYPE(self));
    const char *s;
    if (get_str(st, arg, what, 0, &s) < 0)
        return NULL;
    if (message_begin_change(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc = fn(self->m, s, &err);
    return message_end(st, self, rc, &err);
}

#define STR_SETTER(pyname, cfn, what)                                          \
    static PyObject *message_##pyname(MessageObject *self, PyObject *arg)      \
    {                                                                          \
        return message_str_setter(self, arg, cfn, what);                       \
    }

STR_SETTER(set_from, smtpcore_message_set_from, "from")
STR_SETTER(set_sender, smtpcore_message_set_sender, "sender")
STR_SETTER(add_to, smtpcore_message_add_to, "to")
STR_SETTER(add_cc, smtpcore_message_add_cc, "cc")
STR_SETTER(add_bcc, smtpcore_message_add_bcc, "bcc")
STR_SETTER(add_reply_to, smtpcore_message_add_reply_to, "reply_to")
STR_SETTER(set_envelope_sender, smtpcore_message_set_envelope_sender, "envelope_sender")
STR_SETTER(set_subject, smtpcore_message_set_subject, "subject")

typedef int (*message_text_fn)(smtpcore_message *, const char *, size_t, smtpcore_error *);

static PyObject *
message_text_setter(MessageObject *self, PyObject *arg, message_text_fn fn, const char *what)
{
    core_state *st = type_state(Py_TYPE(self));
    Py_buffer view;
    if (get_text(arg, what, &view) < 0)
        return NULL;
    if (message_begin_change(st, self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fn(self->m, view.buf, (size_t)view.len, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_set_text(MessageObject *self, PyObject *arg)
{
    return message_text_setter(self, arg, smtpcore_message_set_text, "text");
}

static PyObject *
message_set_html(MessageObject *self, PyObject *arg)
{
    return message_text_setter(self, arg, smtpcore_message_set_html, "html");
}

static PyObject *
message_set_calendar(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    PyObject *ics, *method_obj = Py_None;
    const char *method;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O|O:set_calendar", &ics, &method_obj))
        return NULL;
    if (get_str(st, method_obj, "method", 1, &method) < 0 || get_text(ics, "calendar", &view) < 0)
        return NULL;
    if (message_begin_change(st, self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_set_calendar(self->m, view.buf, (size_t)view.len, method, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return message_end(st, self, rc, &err);
}

/* attach_file(path, filename=None, content_type=None) and
 * embed_file(path, content_id, content_type=None). path: str, bytes or PathLike. */
static PyObject *
message_attach_file(MessageObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "filename", "content_type", NULL};
    core_state *st = type_state(Py_TYPE(self));
    PyObject *path = NULL, *fn_obj = Py_None, *ct_obj = Py_None, *ret = NULL;
    const char *filename, *ctype;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|OO:attach_file", kwlist, PyUnicode_FSConverter, &path,
                                     &fn_obj, &ct_obj))
        return NULL;
    if (get_str(st, fn_obj, "filename", 1, &filename) < 0 || get_str(st, ct_obj, "content_type", 1, &ctype) < 0)
        goto done;
    if (message_begin_change(st, self) < 0)
        goto done;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_attach_file(self->m, PyBytes_AS_STRING(path), filename, ctype, &err);
    Py_END_ALLOW_THREADS
    ret = message_end(st, self, rc, &err);
done:
    Py_DECREF(path);
    return ret;
}

static PyObject *
message_embed_file(MessageObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "content_id", "content_type", NULL};
    core_state *st = type_state(Py_TYPE(self));
    PyObject *path = NULL, *cid_obj, *ct_obj = Py_None, *ret = NULL;
    const char *cid, *ctype;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O|O:embed_file", kwlist, PyUnicode_FSConverter, &path,
                                     &cid_obj, &ct_obj))
        return NULL;
    if (get_str(st, cid_obj, "content_id", 0, &cid) < 0 || get_str(st, ct_obj, "content_type", 1, &ctype) < 0)
        goto done;
    if (message_begin_change(st, self) < 0)
        goto done;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_embed_file(self->m, PyBytes_AS_STRING(path), cid, ctype, &err);
    Py_END_ALLOW_THREADS
    ret = message_end(st, self, rc, &err);
done:
    Py_DECREF(path);
    return ret;
}

/* attach_data(data, filename=None, content_type=None) and
 * embed_data(data, content_id, filename=None, content_type=None). */
static PyObject *
message_attach_data(MessageObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "filename", "content_type", NULL};
    core_state *st = type_state(Py_TYPE(self));
    Py_buffer view;
    PyObject *fn_obj = Py_None, *ct_obj = Py_None;
    const char *filename, *ctype;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|OO:attach_data", kwlist, &view, &fn_obj, &ct_obj))
        return NULL;
    if (get_str(st, fn_obj, "filename", 1, &filename) < 0 || get_str(st, ct_obj, "content_type", 1, &ctype) < 0 ||
        message_begin_change(st, self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_attach_data(self->m, view.buf, (size_t)view.len, filename, ctype, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_embed_data(MessageObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "content_id", "filename", "content_type", NULL};
    core_state *st = type_state(Py_TYPE(self));
    Py_buffer view;
    PyObject *cid_obj, *fn_obj = Py_None, *ct_obj = Py_None;
    const char *cid, *filename, *ctype;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*O|OO:embed_data", kwlist, &view, &cid_obj, &fn_obj, &ct_obj))
        return NULL;
    if (get_str(st, cid_obj, "content_id", 0, &cid) < 0 || get_str(st, fn_obj, "filename", 1, &filename) < 0 ||
        get_str(st, ct_obj, "content_type", 1, &ctype) < 0 || message_begin_change(st, self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_embed_data(self->m, view.buf, (size_t)view.len, cid, filename, ctype, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_add_header(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    PyObject *name_obj, *value_obj;
    const char *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_header", &name_obj, &value_obj))
        return NULL;
    if (get_str(st, name_obj, "header name", 0, &name) < 0 || get_str(st, value_obj, "header value", 0, &value) < 0)
        return NULL;
    if (message_begin_change(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc = smtpcore_message_add_header(self->m, name, value, &err);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_set_seed(MessageObject *self, PyObject *arg)
{
    core_state *st = type_state(Py_TYPE(self));
    unsigned long long seed = PyLong_AsUnsignedLongLong(arg);
    if (seed == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (message_begin_change(st, self) < 0)
        return NULL;
    smtpcore_message_set_seed(self->m, (uint64_t)seed);
    owned_lock_release(&self->lock);
    Py_RETURN_NONE;
}

static PyObject *
message_set_date(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    long long when;
    int offset = 0;
    if (!PyArg_ParseTuple(args, "L|i:set_date", &when, &offset))
        return NULL;
    if (message_begin_change(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc = smtpcore_message_set_date(self->m, when, offset, &err);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_add_dkim(MessageObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"domain", "selector", "private_key", "canonicalization", "headers", "timestamp", NULL};
    core_state *st = type_state(Py_TYPE(self));
    PyObject *dom_obj, *sel_obj, *key_obj, *canon_obj = Py_None, *hdr_obj = Py_None;
    long long timestamp = 0;
    smtpcore_dkim d = {0};
    Py_buffer key;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|OOL:add_dkim", kwlist, &dom_obj, &sel_obj, &key_obj,
                                     &canon_obj, &hdr_obj, &timestamp))
        return NULL;
    if (get_str(st, dom_obj, "domain", 0, &d.domain) < 0 || get_str(st, sel_obj, "selector", 0, &d.selector) < 0 ||
        get_str(st, canon_obj, "canonicalization", 1, &d.canonicalization) < 0 ||
        get_str(st, hdr_obj, "headers", 1, &d.headers) < 0 || get_text(key_obj, "private_key", &key) < 0)
        return NULL;
    if (key.len == 0) {
        PyBuffer_Release(&key);
        usage_error(st, "the DKIM private key is empty");
        return NULL;
    }
    d.private_key_pem = key.buf;
    d.private_key_len = (size_t)key.len;
    d.timestamp = timestamp;
    if (message_begin_change(st, self) < 0) {
        PyBuffer_Release(&key);
        return NULL;
    }
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_add_dkim(self->m, &d, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&key);
    return message_end(st, self, rc, &err);
}

static PyObject *
message_size(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    unsigned int flags = 0;
    if (!PyArg_ParseTuple(args, "|I:size", &flags))
        return NULL;
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    smtpcore_error err = {0};
    uint64_t size = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_size(self->m, flags, &size, &err);
    Py_END_ALLOW_THREADS
    owned_lock_release(&self->lock);
    if (rc < 0) {
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(size);
}

static PyObject *
message_to_bytes(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    unsigned int flags = 0;
    if (!PyArg_ParseTuple(args, "|I:to_bytes", &flags))
        return NULL;
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    smtpcore_error err = {0};
    char *out = NULL;
    size_t len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_message_to_bytes(self->m, flags, &out, &len, &err);
    Py_END_ALLOW_THREADS
    owned_lock_release(&self->lock);
    if (rc < 0) {
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        return NULL;
    }
    PyObject *ret = PyBytes_FromStringAndSize(out, (Py_ssize_t)len);
    free(out);
    return ret;
}

static PyObject *
message_envelope(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    unsigned int flags = 0;
    if (!PyArg_ParseTuple(args, "|I:envelope", &flags))
        return NULL;
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    smtpcore_error err = {0};
    const char *sender;
    const char *const *rcpts;
    size_t n;
    PyObject *list = NULL, *ret = NULL;
    if (smtpcore_message_envelope(self->m, flags, &sender, &rcpts, &n, &err) < 0) {
        owned_lock_release(&self->lock);
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        return NULL;
    }
    if (!(list = PyList_New((Py_ssize_t)n)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(rcpts[i]);
        if (!s)
            goto done;
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    ret = Py_BuildValue("(sO)", sender, list);
done:
    owned_lock_release(&self->lock);
    Py_XDECREF(list);
    return ret;
}

/* ------------------------------------------------------------------ MessageReader */

typedef struct {
    PyObject_HEAD
    MessageObject *msg;   /* strong reference; msg->readers counts us */
    smtpcore_message_reader *r;
    uint64_t size;
} ReaderObject;

static PyObject *
message_reader(MessageObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    unsigned int flags = 0;
    if (!PyArg_ParseTuple(args, "|I:reader", &flags))
        return NULL;
    ReaderObject *rd = (ReaderObject *)st->reader_type->tp_alloc(st->reader_type, 0);
    if (!rd)
        return NULL;
    if (owned_lock_acquire(st, &self->lock) < 0) {
        Py_DECREF(rd);
        return NULL;
    }
    smtpcore_error err = {0};
    smtpcore_message_reader *r;
    Py_BEGIN_ALLOW_THREADS
    r = smtpcore_message_reader_new(self->m, flags, &err);
    Py_END_ALLOW_THREADS
    if (r)
        self->readers++;
    owned_lock_release(&self->lock);
    if (!r) {
        Py_DECREF(rd);
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        return NULL;
    }
    Py_INCREF(self);
    rd->msg = self;
    rd->r = r;
    rd->size = smtpcore_message_reader_size(r);
    return (PyObject *)rd;
}

static void
reader_close_internal(ReaderObject *self)
{
    if (!self->r)
        return;
    smtpcore_message_reader_free(self->r);
    self->r = NULL;
    self->msg->readers--;
}

static void
reader_dealloc(ReaderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->msg) {
        /* No other thread can be inside read() (it holds a reference), and
         * the message lock only guards against concurrent users of m. */
        reader_close_internal(self);
        Py_DECREF(self->msg);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
reader_read(ReaderObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    Py_ssize_t n = -1;
    if (!PyArg_ParseTuple(args, "|n:read", &n))
        return NULL;
    if (!self->r)
        return PyBytes_FromStringAndSize(NULL, 0);
    size_t want = n < 0 ? SIZE_MAX : (size_t)n;
    size_t cap = want < BODY_CHUNK ? want : BODY_CHUNK;
    if (n < 0 && self->size > 0 && self->size < (uint64_t)PY_SSIZE_T_MAX)
        cap = (size_t)self->size + 1;
    PyObject *buf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (!buf)
        return NULL;
    if (owned_lock_acquire(st, &self->msg->lock) < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    if (!self->r) { /* closed by another thread meanwhile */
        owned_lock_release(&self->msg->lock);
        Py_DECREF(buf);
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    size_t have = 0;
    long long got = 0;
    smtpcore_error err = {0};
    while (have < want) {
        if (have == cap) {
            size_t ncap = cap * 2 > want ? want : cap * 2;
            if (_PyBytes_Resize(&buf, (Py_ssize_t)ncap) < 0) {
                owned_lock_release(&self->msg->lock);
                return NULL;
            }
            cap = ncap;
        }
        char *p = PyBytes_AS_STRING(buf) + have;
        size_t room = cap - have;
        Py_BEGIN_ALLOW_THREADS
        got = smtpcore_message_reader_read(self->r, p, room, &err);
        Py_END_ALLOW_THREADS
        if (got <= 0)
            break;
        have += (size_t)got;
        if (n >= 0)
            break; /* one chunk per read(n), like a raw file */
    }
    owned_lock_release(&self->msg->lock);
    if (got < 0) {
        Py_DECREF(buf);
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        return NULL;
    }
    if (have != cap && _PyBytes_Resize(&buf, (Py_ssize_t)have) < 0)
        return NULL;
    return buf;
}

static PyObject *
reader_close(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (owned_lock_acquire(st, &self->msg->lock) < 0)
        return NULL;
    reader_close_internal(self);
    owned_lock_release(&self->msg->lock);
    Py_RETURN_NONE;
}

static PyObject *
reader_get_size(ReaderObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLongLong(self->size);
}

static PyObject *
reader_get_closed(ReaderObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->r == NULL);
}

/* ------------------------------------------------------------------ Session */

typedef struct {
    PyObject_HEAD
    smtpcore_session *s;
    owned_lock lock;
    tx_buf tx;       /* the session's config points its transcript here */
    int keep;        /* keep transcript lines until take_transcript() */
} SessionObject;

static PyObject *
no_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    PyErr_Format(PyExc_TypeError, "cannot create '%.100s' instances directly", type->tp_name);
    return NULL;
}

static void
session_dealloc(SessionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->s) {
        smtpcore_session *s = self->s;
        self->s = NULL;
        Py_BEGIN_ALLOW_THREADS
        smtpcore_session_close(s);
        Py_END_ALLOW_THREADS
    }
    owned_lock_fini(&self->lock);
    tx_free(&self->tx);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* open_session(options, *, manual=False, keep_transcript=False) */
static PyObject *
core_open_session(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"options", "manual", "keep_transcript", NULL};
    core_state *st = get_state(module);
    PyObject *options;
    int manual = 0, keep = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$pp:open_session", kwlist, &options, &manual, &keep))
        return NULL;
    SessionObject *self = (SessionObject *)st->session_type->tp_alloc(st->session_type, 0);
    if (!self)
        return NULL;
    self->keep = keep;
    if (owned_lock_init(&self->lock) < 0)
        goto error;
    smtpcore_config *cfg = config_from_options(st, options, &self->tx);
    if (!cfg)
        goto error;
    smtpcore_error err = {0};
    smtpcore_session *s;
    Py_BEGIN_ALLOW_THREADS
    s = manual ? smtpcore_session_connect(cfg, &err) : smtpcore_session_open(cfg, &err);
    smtpcore_config_free(cfg);
    Py_END_ALLOW_THREADS
    if (!s) {
        raise_error(st, &err, &self->tx, NULL);
        smtpcore_error_clear(&err);
        goto error;
    }
    self->s = s;
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

/* Take the session for one call: open, locked, transcript reset unless kept. */
static int
session_begin(core_state *st, SessionObject *self)
{
    if (!self->s)
        return usage_error(st, "the session is closed");
    if (owned_lock_acquire(st, &self->lock) < 0)
        return -1;
    if (!self->s) {
        owned_lock_release(&self->lock);
        return usage_error(st, "the session is closed");
    }
    if (!self->keep)
        tx_clear(&self->tx);
    return 0;
}

static PyObject *
last_reply_tuple(smtpcore_session *s)
{
    const char *text = NULL;
    int code = smtpcore_session_last_reply(s, &text);
    return Py_BuildValue("(iy)", code, text ? text : "");
}

/* Finish a step: unlock; (code, text) of the last reply or the exception. */
static PyObject *
session_end_step(core_state *st, SessionObject *self, int rc, smtpcore_error *err)
{
    PyObject *ret = NULL;
    if (rc < 0)
        raise_error(st, err, &self->tx, NULL);
    else
        ret = last_reply_tuple(self->s);
    smtpcore_error_clear(err);
    owned_lock_release(&self->lock);
    return ret;
}

static PyObject *
session_ehlo(SessionObject *self, PyObject *args)
{
    core_state *st = type_state(Py_TYPE(self));
    PyObject *name_obj = Py_None;
    const char *name;
    if (!PyArg_ParseTuple(args, "|O:ehlo", &name_obj) || get_str(st, name_obj, "name", 1, &name) < 0)
        return NULL;
    if (name && !*name)
        name = NULL;
    if (session_begin(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_session_ehlo(self->s, name, &err);
    Py_END_ALLOW_THREADS
    return session_end_step(st, self, rc, &err);
}

static PyObject *
session_starttls(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (session_begin(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_session_starttls(self->s, &err);
    Py_END_ALLOW_THREADS
    return session_end_step(st, self, rc, &err);
}

static PyObject *
session_login(SessionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"user", "secret", "mechanism", NULL};
    core_state *st = type_state(Py_TYPE(self));
    PyObject *user_obj, *secret_obj, *mech_obj = Py_None;
    const char *user, *secret, *mech;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:login", kwlist, &user_obj, &secret_obj, &mech_obj))
        return NULL;
    if (get_str(st, user_obj, "user", 0, &user) < 0 || get_str(st, secret_obj, "password", 0, &secret) < 0 ||
        get_str(st, mech_obj, "mechanism", 1, &mech) < 0)
        return NULL;
    if (session_begin(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_session_login(self->s, user, secret, mech, &err);
    Py_END_ALLOW_THREADS
    return session_end_step(st, self, rc, &err);
}

static PyObject *
session_noop(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (session_begin(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_session_noop(self->s, &err);
    Py_END_ALLOW_THREADS
    return session_end_step(st, self, rc, &err);
}

static PyObject *
session_rset(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (session_begin(st, self) < 0)
        return NULL;
    smtpcore_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_session_rset(self->s, &err);
    Py_END_ALLOW_THREADS
    return session_end_step(st, self, rc, &err);
}

static PyObject *
session_last_reply(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (session_begin(st, self) < 0)
        return NULL;
    PyObject *ret = last_reply_tuple(self->s);
    owned_lock_release(&self->lock);
    return ret;
}

/* Finish a send: the result tuple, or the exception carrying it. */
static PyObject *
send_finish(core_state *st, int rc, smtpcore_error *err, smtpcore_result *res, const tx_buf *tx, file_source *f)
{
    PyObject *ret = NULL;
    if (rc < 0) {
        raise_error(st, err, tx, res);
        if (f)
            file_source_chain(f);
    } else {
        ret = result_to_tuple(res);
    }
    smtpcore_result_free(res);
    smtpcore_error_clear(err);
    return ret;
}

/* send(sender, recipients, data, *, dsn_ret=None, envid=None, all_or_nothing=None, size_hint=0) */
static int
parse_send(core_state *st, send_args *a, PyObject *args, PyObject *kwargs, const char *fname)
{
    static char *kwlist[] = {"sender", "recipients", "data", "dsn_ret", "envid", "all_or_nothing", "size_hint", NULL};
    PyObject *sender, *rcpts, *data, *dsn_ret = Py_None, *envid = Py_None, *aon = Py_None;
    unsigned long long size_hint = 0;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "OOO|$OOOK:%s", fname);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &sender, &rcpts, &data, &dsn_ret, &envid, &aon,
                                     &size_hint))
        return -1;
    if (parse_envelope(st, a, sender, rcpts, dsn_ret, envid, aon) < 0 || parse_body(a, data, size_hint) < 0)
        return -1;
    return 0;
}

static PyObject *
session_send(SessionObject *self, PyObject *args, PyObject *kwargs)
{
    core_state *st = type_state(Py_TYPE(self));
    send_args a;
    memset(&a, 0, sizeof a);
    PyObject *ret = NULL;
    if (parse_send(st, &a, args, kwargs, "send") < 0 || session_begin(st, self) < 0)
        goto done;
    smtpcore_error err = {0};
    smtpcore_result *res = NULL;
    int rc;
    a.file.tstate = PyEval_SaveThread();
    scan_eight_bit(&a);
    rc = smtpcore_session_send(self->s, &a.env, &a.src, &res, &err);
    PyEval_RestoreThread(a.file.tstate);
    ret = send_finish(st, rc, &err, res, &self->tx, a.file.file ? &a.file : NULL);
    owned_lock_release(&self->lock);
done:
    send_args_free(&a);
    return ret;
}

/* A message rendered for a session with an envelope of the caller's. */
typedef struct {
    smtpcore_message_reader *r;
    smtpcore_error err;
} reader_source;

static long long
reader_source_read(void *ctx, char *buf, size_t n)
{
    reader_source *rs = ctx;
    return smtpcore_message_reader_read(rs->r, buf, n, &rs->err);
}

/* Runs without the GIL, with the session and message locks held. */
static int
send_message_as(smtpcore_session *s, smtpcore_message *m, const char *sender, const char *const *rcpts, size_t n,
                smtpcore_result **out, smtpcore_error *err)
{
    unsigned caps = smtpcore_session_get_info(s)->capabilities;
    unsigned flags = (caps & SMTPCORE_CAP_8BITMIME) ? SMTPCORE_RENDER_8BIT : 0;
    int utf8 = 0;
    for (const char *p = sender; *p; p++)
        utf8 |= (unsigned char)*p >= 0x80;
    for (size_t i = 0; i < n; i++)
        for (const char *p = rcpts[i]; *p; p++)
            utf8 |= (unsigned char)*p >= 0x80;
    if (utf8 && (caps & SMTPCORE_CAP_SMTPUTF8))
        flags |= SMTPCORE_RENDER_SMTPUTF8;
    smtpcore_recipient *r = calloc(n ? n : 1, sizeof *r);
    if (!r) {
        err->category = SMTPCORE_ERR_LOCAL;
        err->message = strdup("out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        r[i].address = rcpts[i];
    smtpcore_envelope env = {.sender = sender, .recipients = r, .n_recipients = n, .all_or_nothing = -1};
    reader_source rs = {0};
    int rc = -1;
    if ((rs.r = smtpcore_message_reader_new(m, flags, err))) {
        smtpcore_source src = {.read = reader_source_read, .ctx = &rs,
                               .size_hint = smtpcore_message_reader_size(rs.r), .eight_bit = flags ? -1 : 0};
        rc = smtpcore_session_send(s, &env, &src, out, err);
        if (rc < 0 && rs.err.category != SMTPCORE_OK && err->category == SMTPCORE_ERR_LOCAL) {
            smtpcore_error_clear(err);
            *err = rs.err;
            memset(&rs.err, 0, sizeof rs.err);
        }
        smtpcore_error_clear(&rs.err);
        smtpcore_message_reader_free(rs.r);
    }
    free(r);
    return rc;
}

/* send_message(message, sender=None, recipients=None): the envelope comes
 * from the message unless given. */
static PyObject *
session_send_message(SessionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"message", "sender", "recipients", NULL};
    core_state *st = type_state(Py_TYPE(self));
    PyObject *msg_obj, *sender_obj = Py_None, *rcpts_obj = Py_None, *rcpt_tuple = NULL, *ret = NULL;
    const char *sender = NULL;
    const char **rcpts = NULL;
    size_t n_rcpts = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|OO:send_message", kwlist, st->message_type, &msg_obj,
                                     &sender_obj, &rcpts_obj))
        return NULL;
    MessageObject *msg = (MessageObject *)msg_obj;
    int custom = sender_obj != Py_None || rcpts_obj != Py_None;
    if (get_str(st, sender_obj, "sender", 1, &sender) < 0)
        return NULL;
    if (rcpts_obj != Py_None) {
        if (PyUnicode_Check(rcpts_obj)) {
            PyErr_SetString(PyExc_TypeError, "recipients must be a list of addresses, not a single string");
            return NULL;
        }
        if (!(rcpt_tuple = PySequence_Tuple(rcpts_obj)))
            return NULL;
        n_rcpts = (size_t)PyTuple_GET_SIZE(rcpt_tuple);
        if (n_rcpts == 0) {
            usage_error(st, "no recipients given");
            goto done;
        }
        if (!(rcpts = PyMem_Calloc(n_rcpts, sizeof *rcpts))) {
            PyErr_NoMemory();
            goto done;
        }
        for (size_t i = 0; i < n_rcpts; i++)
            if (get_str(st, PyTuple_GET_ITEM(rcpt_tuple, (Py_ssize_t)i), "recipient", 0, &rcpts[i]) < 0)
                goto done;
    }
    if (session_begin(st, self) < 0)
        goto done;
    if (owned_lock_acquire(st, &msg->lock) < 0) {
        owned_lock_release(&self->lock);
        goto done;
    }
    smtpcore_error err = {0};
    smtpcore_result *res = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    if (!custom) {
        rc = smtpcore_session_send_message(self->s, msg->m, &res, &err);
    } else {
        const char *env_sender = sender;
        const char *const *env_rcpts = rcpts;
        size_t n = n_rcpts;
        rc = 0;
        if (!sender || !rcpts) {
            const char *const *mr;
            size_t mn;
            const char *ms;
            /* ASCII forms (A-label domains) first; UTF-8 only if a local part needs it. */
            rc = smtpcore_message_envelope(msg->m, 0, &ms, &mr, &mn, &err);
            if (rc < 0) {
                smtpcore_error_clear(&err);
                rc = smtpcore_message_envelope(msg->m, SMTPCORE_RENDER_SMTPUTF8, &ms, &mr, &mn, &err);
            }
            if (rc == 0) {
                if (!sender)
                    env_sender = ms;
                if (!rcpts) {
                    env_rcpts = mr;
                    n = mn;
                }
            }
        }
        if (rc == 0)
            rc = send_message_as(self->s, msg->m, env_sender, env_rcpts, n, &res, &err);
    }
    Py_END_ALLOW_THREADS
    owned_lock_release(&msg->lock);
    ret = send_finish(st, rc, &err, res, &self->tx, NULL);
    owned_lock_release(&self->lock);
done:
    PyMem_Free(rcpts);
    Py_XDECREF(rcpt_tuple);
    return ret;
}

/* ---- batches: many messages over the session, pipelined (see smtpcore_session_send_batch) ---- */

/* The outcomes as a list: a result tuple for each message the server
 * accepted, an exception instance (not raised) for each that failed. The
 * failures share one list of the batch's transcript. args: the raw items
 * (their file sources' exceptions become causes), or NULL. */
static PyObject *
outcomes_to_list(core_state *st, smtpcore_send_outcome *out, size_t n, const tx_buf *tx, send_args *args)
{
    PyObject *list = PyList_New((Py_ssize_t)n), *transcript = NULL;
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *item;
        if (out[i].status == 0 && out[i].result) {
            item = result_to_tuple(out[i].result);
        } else {
            if (!transcript && !(transcript = tx_to_list(tx)))
                goto error;
            item = error_from(st, &out[i].error, transcript, out[i].result);
            if (item && args && args[i].file.file)
                file_source_set_cause(&args[i].file, item);
        }
        if (!item)
            goto error;
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    Py_XDECREF(transcript);
    return list;
error:
    Py_XDECREF(transcript);
    Py_DECREF(list);
    return NULL;
}

static int
compare_addresses(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* The messages of one batch: the C pointers, and the Python objects locked
 * for the whole call, each once (a message may appear twice) and in address
 * order, so two batches sharing messages cannot deadlock. */
typedef struct message_batch {
    PyObject *items;          /* a tuple keeps the messages alive while the GIL is released */
    size_t n, n_locks, taken;
    smtpcore_message **msgs;
    MessageObject **locks;
    smtpcore_send_outcome *out;
} message_batch;

static int
message_batch_init(core_state *st, message_batch *b, PyObject *arg, const char *fname)
{
    memset(b, 0, sizeof *b);
    if (!(b->items = PySequence_Tuple(arg)))
        return -1;
    b->n = (size_t)PyTuple_GET_SIZE(b->items);
    for (size_t i = 0; i < b->n; i++)
        if (!PyObject_TypeCheck(PyTuple_GET_ITEM(b->items, (Py_ssize_t)i), st->message_type)) {
            PyErr_Format(PyExc_TypeError, "%s(): item %zu is %.100s, not a Message", fname, i,
                         Py_TYPE(PyTuple_GET_ITEM(b->items, (Py_ssize_t)i))->tp_name);
            return -1;
        }
    b->msgs = PyMem_Calloc(b->n ? b->n : 1, sizeof *b->msgs);
    b->locks = PyMem_Calloc(b->n ? b->n : 1, sizeof *b->locks);
    b->out = PyMem_Calloc(b->n ? b->n : 1, sizeof *b->out);
    if (!b->msgs || !b->locks || !b->out) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        MessageObject *m = (MessageObject *)PyTuple_GET_ITEM(b->items, (Py_ssize_t)i);
        b->msgs[i] = m->m;
        b->locks[i] = m;
    }
    qsort(b->locks, b->n, sizeof *b->locks, compare_addresses);
    for (size_t i = 0; i < b->n; i++)
        if (b->n_locks == 0 || b->locks[b->n_locks - 1] != b->locks[i])
            b->locks[b->n_locks++] = b->locks[i];
    return 0;
}

/* 0 when every message is locked; -1 with an exception otherwise (the ones
 * taken stay recorded for message_batch_free). */
static int
message_batch_lock(core_state *st, message_batch *b)
{
    while (b->taken < b->n_locks && owned_lock_acquire(st, &b->locks[b->taken]->lock) == 0)
        b->taken++;
    return b->taken == b->n_locks ? 0 : -1;
}

static void
message_batch_free(message_batch *b)
{
    for (size_t k = 0; k < b->taken; k++)
        owned_lock_release(&b->locks[k]->lock);
    for (size_t i = 0; b->out && i < b->n; i++)
        smtpcore_send_outcome_clear(&b->out[i]);
    PyMem_Free(b->out);
    PyMem_Free(b->locks);
    PyMem_Free(b->msgs);
    Py_XDECREF(b->items);
}

/* send_messages(messages) -> [result tuple or exception, ...]: each message
 * rendered when its turn comes, with its own envelope (as send_message()
 * without sender and recipients). */
static PyObject *
session_send_messages(SessionObject *self, PyObject *arg)
{
    core_state *st = type_state(Py_TYPE(self));
    PyObject *ret = NULL;
    message_batch b;
    if (message_batch_init(st, &b, arg, "send_messages") < 0)
        goto done;
    if (session_begin(st, self) < 0)
        goto done;
    if (message_batch_lock(st, &b) == 0) {
        Py_BEGIN_ALLOW_THREADS
        smtpcore_session_send_messages(self->s, b.msgs, b.n, b.out);
        Py_END_ALLOW_THREADS
        ret = outcomes_to_list(st, b.out, b.n, &self->tx, NULL);
    }
    owned_lock_release(&self->lock);
done:
    message_batch_free(&b);
    return ret;
}

/* send_batch(items) -> [result tuple or exception, ...]; items are
 * (sender, recipients, data, size_hint) as for send(). Bodies from file
 * objects are read one at a time, in order, each read taking the GIL back. */
static PyObject *
session_send_batch(SessionObject *self, PyObject *arg)
{
    core_state *st = type_state(Py_TYPE(self));
    PyObject *items, *ret = NULL;
    send_args *args = NULL;
    smtpcore_envelope *envs = NULL;
    smtpcore_source *srcs = NULL;
    smtpcore_send_outcome *out = NULL;
    if (!(items = PySequence_Tuple(arg)))
        return NULL;
    size_t n = (size_t)PyTuple_GET_SIZE(items);
    args = PyMem_Calloc(n ? n : 1, sizeof *args);
    envs = PyMem_Calloc(n ? n : 1, sizeof *envs);
    srcs = PyMem_Calloc(n ? n : 1, sizeof *srcs);
    out = PyMem_Calloc(n ? n : 1, sizeof *out);
    if (!args || !envs || !srcs || !out) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(items, (Py_ssize_t)i), *sender, *rcpts, *data;
        unsigned long long size_hint = 0;
        if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "OOOK:send_batch", &sender, &rcpts, &data, &size_hint)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "send_batch(): item %zu is not a (sender, recipients, data, "
                             "size_hint) tuple", i);
            goto done;
        }
        if (parse_envelope(st, &args[i], sender, rcpts, NULL, NULL, NULL) < 0 ||
            parse_body(&args[i], data, size_hint) < 0)
            goto done;
    }
    if (session_begin(st, self) < 0)
        goto done;
    PyThreadState *tstate = PyEval_SaveThread();
    for (size_t i = 0; i < n; i++) {
        args[i].file.tstate = tstate; /* one thread: every file source takes the GIL back with it */
        scan_eight_bit(&args[i]);
        envs[i] = args[i].env;
        srcs[i] = args[i].src;
    }
    smtpcore_session_send_batch(self->s, envs, srcs, n, out);
    PyEval_RestoreThread(tstate);
    ret = outcomes_to_list(st, out, n, &self->tx, args);
    owned_lock_release(&self->lock);
done:
    for (size_t i = 0; out && i < n; i++)
        smtpcore_send_outcome_clear(&out[i]);
    for (size_t i = 0; args && i < n; i++)
        send_args_free(&args[i]);
    PyMem_Free(out);
    PyMem_Free(srcs);
    PyMem_Free(envs);
    PyMem_Free(args);
    Py_DECREF(items);
    return ret;
}

static int
add_lines(PyObject *dict, const char *key, const char *text)
{
    PyObject *v;
    if (!text) {
        v = Py_None;
        Py_INCREF(v);
    } else {
        PyObject *s = text_or_none(text);
        if (!s)
            return -1;
        v = PyUnicode_Splitlines(s, 0);
        Py_DECREF(s);
        if (!v)
            return -1;
    }
    int rc = PyDict_SetItemString(dict, key, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *
session_info(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    static const struct { unsigned bit; const char *name; } caps[] = {
        {SMTPCORE_CAP_PIPELINING, "PIPELINING"}, {SMTPCORE_CAP_SIZE, "SIZE"},
        {SMTPCORE_CAP_8BITMIME, "8BITMIME"},     {SMTPCORE_CAP_SMTPUTF8, "SMTPUTF8"},
        {SMTPCORE_CAP_CHUNKING, "CHUNKING"},     {SMTPCORE_CAP_DSN, "DSN"},
        {SMTPCORE_CAP_ENHANCED, "ENHANCEDSTATUSCODES"}, {SMTPCORE_CAP_STARTTLS, "STARTTLS"},
        {SMTPCORE_CAP_AUTH, "AUTH"},             {SMTPCORE_CAP_BINARYMIME, "BINARYMIME"},
    };
    core_state *st = type_state(Py_TYPE(self));
    if (session_begin(st, self) < 0)
        return NULL;
    const smtpcore_session_info *i = smtpcore_session_get_info(self->s);
    PyObject *d = NULL, *list = NULL;
    if (!(d = Py_BuildValue("{s:N,s:O,s:N,s:N,s:N,s:K}", "greeting", text_or_none(i->greeting), "tls",
                            i->tls ? Py_True : Py_False, "tls_version", text_or_none(i->tls_version), "tls_cipher",
                            text_or_none(i->tls_cipher), "auth_mechanism", text_or_none(i->auth_mechanism),
                            "max_size", (unsigned long long)i->max_size)))
        goto error;
    if (add_lines(d, "ehlo_before_tls", i->ehlo_before_tls) < 0 || add_lines(d, "ehlo", i->ehlo ? i->ehlo : "") < 0)
        goto error;
    if (!(list = PyList_New(0)))
        goto error;
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        if (!(i->capabilities & caps[k].bit))
            continue;
        PyObject *s = PyUnicode_FromString(caps[k].name);
        if (!s || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            goto error;
        }
        Py_DECREF(s);
    }
    if (PyDict_SetItemString(d, "capabilities", list) < 0)
        goto error;
    Py_DECREF(list);
    owned_lock_release(&self->lock);
    return d;
error:
    Py_XDECREF(list);
    Py_XDECREF(d);
    owned_lock_release(&self->lock);
    return NULL;
}

static PyObject *
session_take_transcript(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    PyObject *list = tx_to_list(&self->tx);
    if (list)
        tx_clear(&self->tx);
    owned_lock_release(&self->lock);
    return list;
}

/* QUIT (not waiting for the 221) and close. Idempotent. */
static PyObject *
session_close(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (!self->s)
        Py_RETURN_NONE;
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    smtpcore_session *s = self->s;
    self->s = NULL;
    if (s) {
        Py_BEGIN_ALLOW_THREADS
        smtpcore_session_close(s);
        Py_END_ALLOW_THREADS
    }
    owned_lock_release(&self->lock);
    Py_RETURN_NONE;
}

/* Whether the core can still use the session (it gives a session up after a
 * connection-level failure; a refused transaction leaves it open). */
static PyObject *
session_is_open(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    core_state *st = type_state(Py_TYPE(self));
    if (!self->s)
        Py_RETURN_FALSE;
    if (owned_lock_acquire(st, &self->lock) < 0)
        return NULL;
    int open = self->s && smtpcore_session_is_open(self->s);
    owned_lock_release(&self->lock);
    return PyBool_FromLong(open);
}

static PyObject *
session_get_closed(SessionObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->s == NULL);
}

/* ------------------------------------------------------------------ Pool */

typedef struct {
    PyObject_HEAD
    smtpcore_pool *p;
    Py_ssize_t active;  /* sends running (changed with the GIL held) */
    int closing;        /* close() was called while sends ran: the last one frees */
} PoolObject;

static void
pool_free_now(PoolObject *self)
{
    smtpcore_pool *p = self->p;
    self->p = NULL;
    if (p) {
        Py_BEGIN_ALLOW_THREADS
        smtpcore_pool_free(p);
        Py_END_ALLOW_THREADS
    }
}

/* Pool(options, max_connections=4, max_messages_per_connection=100, idle_timeout_ms=30000) */
static PyObject *
pool_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"options", "max_connections", "max_messages_per_connection", "idle_timeout_ms", NULL};
    core_state *st = type_state(type);
    PyObject *options;
    Py_ssize_t maxc = 4, maxm = 100;
    int idle = 30000;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|nni:Pool", kwlist, &options, &maxc, &maxm, &idle))
        return NULL;
    if (maxc < 1 || maxm < 1 || idle < 1) {
        usage_error(st, "pool sizes and the idle timeout must be positive");
        return NULL;
    }
    PoolObject *self = (PoolObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    smtpcore_config *cfg = config_from_options(st, options, NULL);
    if (!cfg)
        goto error;
    smtpcore_pool_options o = {.max_connections = (size_t)maxc, .max_messages_per_connection = (size_t)maxm,
                               .idle_timeout_ms = idle};
    smtpcore_error err = {0};
    self->p = smtpcore_pool_new(cfg, &o, &err);
    smtpcore_config_free(cfg);
    if (!self->p) {
        raise_error(st, &err, NULL, NULL);
        smtpcore_error_clear(&err);
        goto error;
    }
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static void
pool_dealloc(PoolObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    pool_free_now(self); /* no send can be running: each holds a reference */
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int
pool_begin(core_state *st, PoolObject *self)
{
    if (!self->p || self->closing)
        return usage_error(st, "the pool is closed");
    self->active++;
    return 0;
}

static void
pool_end(PoolObject *self)
{
    if (--self->active == 0 && self->closing)
        pool_free_now(self);
}

static PyObject *
pool_send(PoolObject *self, PyObject *args, PyObject *kwargs)
{
    core_state *st = type_state(Py_TYPE(self));
    send_args a;
    memset(&a, 0, sizeof a);
    PyObject *ret = NULL;
    if (parse_send(st, &a, args, kwargs, "send") < 0 || pool_begin(st, self) < 0)
        goto done;
    smtpcore_error err = {0};
    smtpcore_result *res = NULL;
    int rc;
    a.file.tstate = PyEval_SaveThread();
    scan_eight_bit(&a);
    rc = smtpcore_pool_send(self->p, &a.env, &a.src, &res, &err);
    PyEval_RestoreThread(a.file.tstate);
    ret = send_finish(st, rc, &err, res, NULL, a.file.file ? &a.file : NULL);
    pool_end(self);
done:
    send_args_free(&a);
    return ret;
}

static PyObject *
pool_send_message(PoolObject *self, PyObject *arg)
{
    core_state *st = type_state(Py_TYPE(self));
    if (!PyObject_TypeCheck(arg, st->message_type)) {
        PyErr_Format(PyExc_TypeError, "send_message() needs a _core.Message, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    MessageObject *msg = (MessageObject *)arg;
    if (pool_begin(st, self) < 0)
        return NULL;
    if (owned_lock_acquire(st, &msg->lock) < 0) {
        pool_end(self);
        return NULL;
    }
    smtpcore_error err = {0};
    smtpcore_result *res = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smtpcore_pool_send_message(self->p, msg->m, &res, &err);
    Py_END_ALLOW_THREADS
    owned_lock_release(&msg->lock);
    PyObject *ret = send_finish(st, rc, &err, res, NULL, NULL);
    pool_end(self);
    return ret;
}

/* send_messages(messages): as the session's, on one of the pool's
 * connections (smtpcore_pool_send_messages); the pool keeps no transcript. */
static PyObject *
pool_send_messages(PoolObject *self, PyObject *arg)
{
    static const tx_buf no_transcript;
    core_state *st = type_state(Py_TYPE(self));
    PyObject *ret = NULL;
    message_batch b;
    if (message_batch_init(st, &b, arg, "send_messages") < 0)
        goto done;
    if (pool_begin(st, self) < 0)
        goto done;
    if (message_batch_lock(st, &b) == 0) {
        Py_BEGIN_ALLOW_THREADS
        smtpcore_pool_send_messages(self->p, b.msgs, b.n, b.out);
        Py_END_ALLOW_THREADS
        ret = outcomes_to_list(st, b.out, b.n, &no_transcript, NULL);
    }
    pool_end(self);
done:
    message_batch_free(&b);
    return ret;
}

static PyObject *
pool_connections(PoolObject *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->p)
        return PyLong_FromLong(0);
    size_t n;
    Py_BEGIN_ALLOW_THREADS
    n = smtpcore_pool_connections(self->p);
    Py_END_ALLOW_THREADS
    return PyLong_FromSize_t(n);
}

static PyObject *
pool_close(PoolObject *self, PyObject *Py_UNUSED(ignored))
{
    self->closing = 1;
    if (self->active == 0)
        pool_free_now(self);
    Py_RETURN_NONE;
}

static PyObject *
pool_get_closed(PoolObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->p == NULL || self->closing);
}

/* ------------------------------------------------------------------ module functions */

static PyObject *
core_version(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(smtpcore_version());
}

static PyObject *
core_presets(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    static const char *const security[] = {"starttls", "tls", "opportunistic", "none"};
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    for (const smtpcore_preset *const *p = smtpcore_presets(); *p; p++) {
        const smtpcore_preset *pr = *p;
        unsigned sec = (unsigned)pr->security;
        PyObject *d = Py_BuildValue("{s:s,s:s,s:s,s:i,s:s,s:s}", "name", pr->name, "label", pr->label, "host",
                                    pr->host, "port", pr->port, "security", sec < 4 ? security[sec] : "starttls",
                                    "username_hint", pr->username_hint ? pr->username_hint : "");
        if (!d || PyList_Append(list, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(d);
    }
    return list;
}

static int
category_from_name(core_state *st, PyObject *o, smtpcore_category *out)
{
    if (PyLong_Check(o)) {
        long v = PyLong_AsLong(o);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (v < SMTPCORE_OK || v > SMTPCORE_ERR_USAGE)
            return usage_error(st, "unknown error category %ld", v);
        *out = (smtpcore_category)v;
        return 0;
    }
    const char *name;
    if (get_str(st, o, "category", 0, &name) < 0)
        return -1;
    for (int c = SMTPCORE_OK; c <= SMTPCORE_ERR_USAGE; c++)
        if (!strcmp(name, smtpcore_category_name((smtpcore_category)c))) {
            *out = (smtpcore_category)c;
            return 0;
        }
    return usage_error(st, "unknown error category '%s'", name);
}

static PyObject *
core_hint_for(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"category", "code", "enhanced", NULL};
    core_state *st = get_state(module);
    PyObject *cat_obj, *enh_obj = Py_None;
    int code = 0;
    const char *enhanced;
    smtpcore_category cat = SMTPCORE_OK;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|iO:hint_for", kwlist, &cat_obj, &code, &enh_obj))
        return NULL;
    if (category_from_name(st, cat_obj, &cat) < 0 || get_str(st, enh_obj, "enhanced", 1, &enhanced) < 0)
        return NULL;
    return text_or_none(smtpcore_hint_for(cat, code, enhanced ? enhanced : ""));
}

static PyObject *
core_categories(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    PyObject *t = PyTuple_New(SMTPCORE_ERR_USAGE + 1);
    if (!t)
        return NULL;
    for (int c = SMTPCORE_OK; c <= SMTPCORE_ERR_USAGE; c++) {
        PyObject *s = PyUnicode_FromString(smtpcore_category_name((smtpcore_category)c));
        if (!s) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, c, s);
    }
    return t;
}

/* check_options(options): build a config and throw it away (usage errors early). */
static PyObject *
core_check_options(PyObject *module, PyObject *options)
{
    smtpcore_config *cfg = config_from_options(get_state(module), options, NULL);
    if (!cfg)
        return NULL;
    smtpcore_config_free(cfg);
    Py_RETURN_NONE;
}

/* check_envelope(sender, recipients): refuse a bad envelope before connecting. */
static PyObject *
core_check_envelope(PyObject *module, PyObject *args)
{
    core_state *st = get_state(module);
    PyObject *sender, *rcpts, *ret = NULL;
    send_args a;
    memset(&a, 0, sizeof a);
    if (!PyArg_ParseTuple(args, "OO:check_envelope", &sender, &rcpts))
        return NULL;
    if (parse_envelope(st, &a, sender, rcpts, NULL, NULL, NULL) == 0) {
        smtpcore_error err = {0};
        if (smtpcore_envelope_check(&a.env, &err) < 0)
            raise_error(st, &err, NULL, NULL);
        else
            ret = Py_NewRef(Py_None);
        smtpcore_error_clear(&err);
    }
    send_args_free(&a);
    return ret;
}

static PyObject *
core_set_error_factory(PyObject *module, PyObject *factory)
{
    core_state *st = get_state(module);
    if (factory != Py_None && !PyCallable_Check(factory)) {
        PyErr_SetString(PyExc_TypeError, "the error factory must be callable or None");
        return NULL;
    }
    PyObject *old = st->error_factory;
    st->error_factory = factory == Py_None ? NULL : Py_NewRef(factory);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ type and module tables */

PyDoc_STRVAR(message_doc,
"Message()\n--\n\n"
"A message description in the C core (low level; use smtpcore.Message).");

static PyMethodDef message_methods[] = {
    {"set_from", (PyCFunction)message_set_from, METH_O, "set_from(mailbox)"},
    {"set_sender", (PyCFunction)message_set_sender, METH_O, "set_sender(mailbox)"},
    {"add_to", (PyCFunction)message_add_to, METH_O, "add_to(address_list)"},
    {"add_cc", (PyCFunction)message_add_cc, METH_O, "add_cc(address_list)"},
    {"add_bcc", (PyCFunction)message_add_bcc, METH_O, "add_bcc(address_list)"},
    {"add_reply_to", (PyCFunction)message_add_reply_to, METH_O, "add_reply_to(address_list)"},
    {"set_envelope_sender", (PyCFunction)message_set_envelope_sender, METH_O, "set_envelope_sender(address)"},
    {"set_subject", (PyCFunction)message_set_subject, METH_O, "set_subject(text)"},
    {"set_text", (PyCFunction)message_set_text, METH_O, "set_text(str_or_utf8_bytes)"},
    {"set_html", (PyCFunction)message_set_html, METH_O, "set_html(str_or_utf8_bytes)"},
    {"set_calendar", (PyCFunction)message_set_calendar, METH_VARARGS, "set_calendar(ics, method=None)"},
    {"attach_file", (PyCFunction)(void (*)(void))message_attach_file, METH_VARARGS | METH_KEYWORDS,
     "attach_file(path, filename=None, content_type=None)"},
    {"attach_data", (PyCFunction)(void (*)(void))message_attach_data, METH_VARARGS | METH_KEYWORDS,
     "attach_data(data, filename=None, content_type=None)"},
    {"embed_file", (PyCFunction)(void (*)(void))message_embed_file, METH_VARARGS | METH_KEYWORDS,
     "embed_file(path, content_id, content_type=None)"},
    {"embed_data", (PyCFunction)(void (*)(void))message_embed_data, METH_VARARGS | METH_KEYWORDS,
     "embed_data(data, content_id, filename=None, content_type=None)"},
    {"add_header", (PyCFunction)message_add_header, METH_VARARGS, "add_header(name, value)"},
    {"set_seed", (PyCFunction)message_set_seed, METH_O, "set_seed(seed)"},
    {"set_date", (PyCFunction)message_set_date, METH_VARARGS, "set_date(unix_time, utc_offset_minutes=0)"},
    {"add_dkim", (PyCFunction)(void (*)(void))message_add_dkim, METH_VARARGS | METH_KEYWORDS,
     "add_dkim(domain, selector, private_key, canonicalization=None, headers=None, timestamp=0)"},
    {"size", (PyCFunction)message_size, METH_VARARGS, "size(flags=0) -> int"},
    {"to_bytes", (PyCFunction)message_to_bytes, METH_VARARGS, "to_bytes(flags=0) -> bytes"},
    {"envelope", (PyCFunction)message_envelope, METH_VARARGS, "envelope(flags=0) -> (sender, [recipients])"},
    {"reader", (PyCFunction)message_reader, METH_VARARGS, "reader(flags=0) -> MessageReader"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot message_slots[] = {
    {Py_tp_new, message_new},
    {Py_tp_dealloc, message_dealloc},
    {Py_tp_methods, message_methods},
    {Py_tp_doc, (void *)message_doc},
    {0, NULL},
};

static PyType_Spec message_spec = {
    .name = "smtpcore._core.Message",
    .basicsize = sizeof(MessageObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = message_slots,
};

static PyMethodDef reader_methods[] = {
    {"read", (PyCFunction)reader_read, METH_VARARGS, "read(n=-1) -> bytes (b'' at the end)"},
    {"close", (PyCFunction)reader_close, METH_NOARGS, "close()"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef reader_getset[] = {
    {"size", (getter)reader_get_size, NULL, "exact size of the rendered message in bytes", NULL},
    {"closed", (getter)reader_get_closed, NULL, "whether the reader is closed", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot reader_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, reader_dealloc},
    {Py_tp_methods, reader_methods},
    {Py_tp_getset, reader_getset},
    {Py_tp_doc, (void *)"Streams a rendered message (Message.reader())."},
    {0, NULL},
};

static PyType_Spec reader_spec = {
    .name = "smtpcore._core.MessageReader",
    .basicsize = sizeof(ReaderObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = reader_slots,
};

static PyMethodDef session_methods[] = {
    {"ehlo", (PyCFunction)session_ehlo, METH_VARARGS, "ehlo(name=None) -> (code, text)"},
    {"starttls", (PyCFunction)session_starttls, METH_NOARGS, "starttls() -> (code, text) of the EHLO after TLS"},
    {"login", (PyCFunction)(void (*)(void))session_login, METH_VARARGS | METH_KEYWORDS,
     "login(user, secret, mechanism=None) -> (code, text)"},
    {"noop", (PyCFunction)session_noop, METH_NOARGS, "noop() -> (code, text)"},
    {"rset", (PyCFunction)session_rset, METH_NOARGS, "rset() -> (code, text)"},
    {"last_reply", (PyCFunction)session_last_reply, METH_NOARGS, "last_reply() -> (code, text)"},
    {"send", (PyCFunction)(void (*)(void))session_send, METH_VARARGS | METH_KEYWORDS,
     "send(sender, recipients, data, *, dsn_ret=None, envid=None, all_or_nothing=None, size_hint=0) -> result"},
    {"send_message", (PyCFunction)(void (*)(void))session_send_message, METH_VARARGS | METH_KEYWORDS,
     "send_message(message, sender=None, recipients=None) -> result"},
    {"send_messages", (PyCFunction)session_send_messages, METH_O,
     "send_messages([Message, ...]) -> [result or exception, ...] (pipelined)"},
    {"send_batch", (PyCFunction)session_send_batch, METH_O,
     "send_batch([(sender, recipients, data, size_hint), ...]) -> [result or exception, ...] (pipelined)"},
    {"info", (PyCFunction)session_info, METH_NOARGS, "info() -> dict"},
    {"is_open", (PyCFunction)session_is_open, METH_NOARGS, "is_open() -> whether the session is still usable"},
    {"take_transcript", (PyCFunction)session_take_transcript, METH_NOARGS, "take_transcript() -> [str]"},
    {"close", (PyCFunction)session_close, METH_NOARGS, "close(): QUIT (not waiting for 221) and close"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef session_getset[] = {
    {"closed", (getter)session_get_closed, NULL, "whether close() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot session_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, session_dealloc},
    {Py_tp_methods, session_methods},
    {Py_tp_getset, session_getset},
    {Py_tp_doc, (void *)"An SMTP session of the C core (low level; use smtpcore.Client or smtpcore.SMTP)."},
    {0, NULL},
};

static PyType_Spec session_spec = {
    .name = "smtpcore._core.Session",
    .basicsize = sizeof(SessionObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = session_slots,
};

static PyMethodDef pool_methods[] = {
    {"send", (PyCFunction)(void (*)(void))pool_send, METH_VARARGS | METH_KEYWORDS,
     "send(sender, recipients, data, *, dsn_ret=None, envid=None, all_or_nothing=None, size_hint=0) -> result"},
    {"send_message", (PyCFunction)pool_send_message, METH_O, "send_message(message) -> result"},
    {"send_messages", (PyCFunction)pool_send_messages, METH_O,
     "send_messages([Message, ...]) -> [result or exception, ...] (pipelined on one connection)"},
    {"connections", (PyCFunction)pool_connections, METH_NOARGS, "connections() -> int"},
    {"close", (PyCFunction)pool_close, METH_NOARGS, "close()"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pool_getset[] = {
    {"closed", (getter)pool_get_closed, NULL, "whether close() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot pool_slots[] = {
    {Py_tp_new, pool_new},
    {Py_tp_dealloc, pool_dealloc},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_doc, (void *)"Pool(options, max_connections=4, max_messages_per_connection=100, idle_timeout_ms=30000)\n"
                "A thread-safe pool of sessions of the C core (low level; use smtpcore.Pool)."},
    {0, NULL},
};

static PyType_Spec pool_spec = {
    .name = "smtpcore._core.Pool",
    .basicsize = sizeof(PoolObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = pool_slots,
};

static PyMethodDef core_methods[] = {
    {"version", core_version, METH_NOARGS, "version() -> the C library's version"},
    {"presets", core_presets, METH_NOARGS, "presets() -> [dict]"},
    {"hint_for", (PyCFunction)(void (*)(void))core_hint_for, METH_VARARGS | METH_KEYWORDS,
     "hint_for(category, code=0, enhanced=None) -> str or None"},
    {"categories", core_categories, METH_NOARGS, "categories() -> tuple of category names, by number"},
    {"check_options", core_check_options, METH_O, "check_options(options): raise on a bad option"},
    {"check_envelope", core_check_envelope, METH_VARARGS, "check_envelope(sender, recipients)"},
    {"open_session", (PyCFunction)(void (*)(void))core_open_session, METH_VARARGS | METH_KEYWORDS,
     "open_session(options, *, manual=False, keep_transcript=False) -> Session"},
    {"set_error_factory", core_set_error_factory, METH_O, "set_error_factory(callable)"},
    {NULL, NULL, 0, NULL},
};

static int
add_type(PyObject *module, PyType_Spec *spec, PyTypeObject **slot)
{
    *slot = (PyTypeObject *)PyType_FromModuleAndSpec(module, spec, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddType(module, *slot);
}

static int
core_exec(PyObject *module)
{
    core_state *st = get_state(module);
    if (add_type(module, &message_spec, &st->message_type) < 0 ||
        add_type(module, &reader_spec, &st->reader_type) < 0 ||
        add_type(module, &session_spec, &st->session_type) < 0 ||
        add_type(module, &pool_spec, &st->pool_type) < 0)
        return -1;
    st->error_type = PyErr_NewExceptionWithDoc("smtpcore._core.Error",
                                               "Raised by the C layer until smtpcore installs its classes.",
                                               NULL, NULL);
    if (!st->error_type)
        return -1;
    Py_INCREF(st->error_type);
    if (PyModule_AddObject(module, "Error", st->error_type) < 0) {
        Py_DECREF(st->error_type);
        return -1;
    }
    if (PyModule_AddStringConstant(module, "VERSION", SMTPCORE_VERSION) < 0 ||
        PyModule_AddIntConstant(module, "RENDER_8BIT", SMTPCORE_RENDER_8BIT) < 0 ||
        PyModule_AddIntConstant(module, "RENDER_SMTPUTF8", SMTPCORE_RENDER_SMTPUTF8) < 0 ||
        PyModule_AddIntConstant(module, "NOTIFY_NEVER", SMTPCORE_NOTIFY_NEVER) < 0 ||
        PyModule_AddIntConstant(module, "NOTIFY_SUCCESS", SMTPCORE_NOTIFY_SUCCESS) < 0 ||
        PyModule_AddIntConstant(module, "NOTIFY_FAILURE", SMTPCORE_NOTIFY_FAILURE) < 0 ||
        PyModule_AddIntConstant(module, "NOTIFY_DELAY", SMTPCORE_NOTIFY_DELAY) < 0)
        return -1;
    return 0;
}

static int
core_traverse(PyObject *module, visitproc visit, void *arg)
{
    core_state *st = get_state(module);
    Py_VISIT(st->message_type);
    Py_VISIT(st->reader_type);
    Py_VISIT(st->session_type);
    Py_VISIT(st->pool_type);
    Py_VISIT(st->error_type);
    Py_VISIT(st->error_factory);
    return 0;
}

static int
core_clear(PyObject *module)
{
    core_state *st = get_state(module);
    Py_CLEAR(st->message_type);
    Py_CLEAR(st->reader_type);
    Py_CLEAR(st->session_type);
    Py_CLEAR(st->pool_type);
    Py_CLEAR(st->error_type);
    Py_CLEAR(st->error_factory);
    return 0;
}

static void
core_free(void *module)
{
    core_clear((PyObject *)module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL},
};

PyDoc_STRVAR(core_doc,
"The C layer of smtpcore: values in, GIL released, errors mapped. Use the smtpcore package.");

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "smtpcore._core",
    .m_doc = core_doc,
    .m_size = sizeof(core_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
