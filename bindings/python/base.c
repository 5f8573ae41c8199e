/*
 * base.c - the bottom layer of the CPython binding, shared by every file
 * above it and calling none of them: the module's identity and state lookup,
 * raising one of our exception classes with a message (botocore's bases
 * added once botocore is loaded), the glue from the core's debug log to
 * logging.getLogger("acmpca"), the waiters' interruptible pauses, and the
 * count of blocking calls in flight on a Client.
 *
 * The layers: base.c; convert.c (Python <-> cJSON); errors.c (the core's
 * errors as exceptions); machine.c, pki.c, sign.c; pager.c; client.c;
 * module.c (init) on top. tools/check_python_layers.py, run by ctest on the
 * objects built as setup.py builds them, fails on any call back up.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acmpca_py.h"

/* ---- state ---------------------------------------------------------------- */

acmpy_state *acmpy_state_from_module(PyObject *module)
{
    return (acmpy_state *)PyModule_GetState(module);
}

acmpy_state *acmpy_state_from_type(PyTypeObject *tp)
{
    PyObject *module;
#if PY_VERSION_HEX >= 0x030B0000
    module = PyType_GetModuleByDef(tp, &acmpy_module_def);
#else
    PyObject *mro = tp->tp_mro;
    Py_ssize_t i;
    module = NULL;
    for (i = 0; mro && i < PyTuple_GET_SIZE(mro) && !module; i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE))
            continue;
        module = PyType_GetModule(base);
        if (!module)
            PyErr_Clear();
        else if (PyModule_GetDef(module) != &acmpy_module_def)
            module = NULL;
    }
    if (!module)
        PyErr_SetString(PyExc_TypeError, "not an acmpca type");
#endif
    return module ? (acmpy_state *)PyModule_GetState(module) : NULL;
}

/*
 * The module's identity, by which every type finds its state. module.c fills
 * in what the module does (functions, init, GC) in PyInit__acmpca, so that
 * nothing here refers up to it.
 */
PyModuleDef acmpy_module_def = {
    PyModuleDef_HEAD_INIT,
    "acmpca._acmpca",
    NULL,
    sizeof(acmpy_state),
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* ---- raising one of our classes ------------------------------------------------ */

PyObject *acmpy_dict_get_path(PyObject *d, const char *a, const char *b)
{
    PyObject *v = PyDict_Check(d) ? PyDict_GetItemString(d, a) : NULL;
    if (v && b)
        v = PyDict_Check(v) ? PyDict_GetItemString(v, b) : NULL;
    return v; /* borrowed */
}

int acmpy_set_attr(PyObject *obj, const char *name, PyObject *value)
{
    int rc;
    if (!value)
        return -1;
    rc = PyObject_SetAttrString(obj, name, value);
    Py_DECREF(value);
    return rc;
}

PyObject *acmpy_error_class(PyObject *cls)
{
    PyObject *name = PyUnicode_InternFromString("botocore.exceptions"), *loaded, *compat, *r;

    /* Not imported: nothing can catch botocore's classes, and importing it costs ~30 ms. */
    loaded = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (!loaded) {
        PyErr_Clear();
        return Py_NewRef(cls);
    }
    Py_DECREF(loaded);
    compat = PyImport_ImportModule("acmpca._compat");
    r = compat ? PyObject_CallMethod(compat, "enable", NULL) : NULL;
    Py_XDECREF(compat);
    /* What interrupted it (a signal handler's exception, Ctrl-C) is raised instead. */
    if (!r)
        return NULL;
    Py_DECREF(r);
    return Py_NewRef(cls);
}

/* Raise `exc` (an instance), as its own type. */
void acmpy_set_raised(PyObject *exc)
{
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

/*
 * botocore's kwargs for a message raised by the binding itself: the one
 * field of the class's fmt ("report", "error_msg") holds it. A new dict.
 */
static PyObject *message_kwargs(PyObject *cls, PyObject *msg)
{
    PyObject *fmt = PyObject_GetAttrString(cls, "fmt"), *out = NULL;
    const char *f = fmt && PyUnicode_Check(fmt) ? PyUnicode_AsUTF8(fmt) : NULL;
    const char *open = f ? strchr(f, '{') : NULL, *close = open ? strchr(open, '}') : NULL;

    PyErr_Clear();
    if (close && !strchr(close, '{')) {
        PyObject *key = PyUnicode_FromStringAndSize(open + 1, close - open - 1);
        out = key ? Py_BuildValue("{OO}", key, msg) : NULL;
        Py_XDECREF(key);
    } else {
        out = PyDict_New();
    }
    Py_XDECREF(fmt);
    return out;
}

static PyObject *raise_with_message(PyObject *cls, const char *fmt, va_list ap)
{
    PyObject *msg, *exc;

    msg = PyUnicode_FromFormatV(fmt, ap);
    if (!msg)
        return NULL;
    if ((cls = acmpy_error_class(cls))) {
        exc = PyObject_CallOneArg(cls, msg);
        if (exc && PyObject_IsSubclass(cls, PyExc_Exception) == 1 &&
            PyObject_HasAttrString(cls, "fmt") &&
            acmpy_set_attr(exc, "kwargs", message_kwargs(cls, msg)) < 0)
            Py_CLEAR(exc);
        Py_DECREF(cls);
        if (exc && PyObject_SetAttrString(exc, "message", msg) == 0)
            acmpy_set_raised(exc);
        Py_XDECREF(exc);
    }
    Py_DECREF(msg);
    return NULL;
}

PyObject *acmpy_raise_param(acmpy_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    raise_with_message(st->ParamValidationError, fmt, ap);
    va_end(ap);
    return NULL;
}

PyObject *acmpy_raise_as(PyObject *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    raise_with_message(cls, fmt, ap);
    va_end(ap);
    return NULL;
}

/* ---- logging --------------------------------------------------------------------- */

/* The logger the blocking call on this thread logs to (borrowed), or NULL. */
static _Thread_local PyObject *tls_logger;
/* Whether any logger was found yet: until then a call need not read tls_logger, a
 * thread-local, which costs a function call in a shared object. */
static atomic_int logger_found;

void acmpy_log_prepare(acmpy_state *st)
{
    PyObject *r;

    if (atomic_load_explicit(&logger_found, memory_order_relaxed))
        tls_logger = NULL;
    if (!st->logger) {
        /*
         * Nobody can have configured logging before importing it: skip it until
         * then. A plain sys.modules lookup: this runs on every call until then.
         */
        PyObject *logging = PyDict_GetItemWithError(PyImport_GetModuleDict(), st->str_logging);
        if (!logging) {
            if (PyErr_Occurred())
                PyErr_Clear();
            return;
        }
        Py_INCREF(logging);
        st->logger = PyObject_CallMethod(logging, "getLogger", "s", "acmpca");
        Py_DECREF(logging);
        if (!st->logger) {
            PyErr_Clear();
            return;
        }
        atomic_store_explicit(&logger_found, 1, memory_order_relaxed);
    }
    r = PyObject_CallMethodOneArg(st->logger, st->str_isEnabledFor, st->debug_level);
    if (!r) {
        PyErr_Clear();
        return;
    }
    if (PyObject_IsTrue(r) == 1)
        tls_logger = st->logger;
    Py_DECREF(r);
}

static void log_text(const char *text)
{
    PyObject *logger = tls_logger, *s, *r = NULL;
    PyGILState_STATE g;

    if (!logger)
        return;
    g = PyGILState_Ensure();
    s = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "backslashreplace");
    if (s)
        r = PyObject_CallMethod(logger, "debug", "O", s);
    if (!r)
        PyErr_WriteUnraisable(logger);
    Py_XDECREF(r);
    Py_XDECREF(s);
    PyGILState_Release(g);
}

int acmpy_log_enabled(void *userdata)
{
    (void)userdata;
    return atomic_load_explicit(&logger_found, memory_order_relaxed) && tls_logger != NULL;
}

void acmpy_log_line(void *userdata, const char *line)
{
    (void)userdata;
    if (tls_logger)
        log_text(line);
}

void acmpy_log_wait(const char *waiter, int attempt, double delay_s)
{
    char line[160];
    if (!tls_logger)
        return;
    snprintf(line, sizeof(line), "waiter %s: attempt %d did not succeed, next in %.3g s",
             waiter, attempt, delay_s);
    log_text(line);
}

/* ---- a waiter's pause ------------------------------------------------------------ */

/*
 * The waiter's pauses happen here rather than in the core, so that Ctrl-C
 * stops them at once: the core is given a pause of a nanosecond, and this
 * hook, told before each pause, sleeps the real one in slices with the GIL
 * released, running Python's signal handlers (PyErr_CheckSignals) before and
 * after each slice. A handler that raises (KeyboardInterrupt) makes the hook
 * return 1: the core stops the waiter with ACMPCA_ECANCELLED, and the
 * exception, left pending on this thread, is what wait() raises. A signal
 * interrupts the main thread's nanosleep at once; slices bound the delay
 * when it lands on another thread. Signal handlers run on the main thread
 * only, so waiters on other threads just sleep.
 */
#define SLICE_S 0.05


static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Python's signal handlers, with the GIL taken for them: -1 when one raised. */
static int check_signals(void)
{
    PyGILState_STATE g = PyGILState_Ensure();
    int rc = PyErr_CheckSignals();
    PyGILState_Release(g);
    return rc;
}

int acmpy_wait_progress(void *userdata, const char *waiter, int attempt, double core_delay)
{
    const acmpy_wait_ctx *ctx = userdata;
    PyGILState_STATE g;
    double deadline;
    int rc;

    (void)core_delay;
    g = PyGILState_Ensure();
    acmpy_log_wait(waiter, attempt, ctx->delay_s);
    rc = PyErr_CheckSignals();
    PyGILState_Release(g);
    if (rc < 0)
        return 1;
    deadline = monotonic_s() + ctx->delay_s;
    for (;;) {
        double left = deadline - monotonic_s(), slice = left < SLICE_S ? left : SLICE_S;
        struct timespec ts;
        if (left <= 0)
            return 0;
        ts.tv_sec = (time_t)slice;
        ts.tv_nsec = (long)((slice - (double)ts.tv_sec) * 1e9);
        (void)nanosleep(&ts, NULL); /* EINTR: a signal, checked right below */
        if (check_signals() < 0)
            return 1;
    }
}

/* ---- begin / end of a blocking call ------------------------------------------ */

void acmpy_client_drop_core(acmpy_client *self)
{
    acmpca_client *c = self->client;
    self->client = NULL;
    acmpca_client_free(c);
}

acmpca_client *acmpy_client_begin(acmpy_client *self)
{
    if (self->closed || !self->client) {
        acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
        if (st)
            PyErr_SetString(st->GeneralError, self->closed ? "the client is closed"
                                                           : "the client is not initialised");
        return NULL;
    }
    self->inflight++;
    return self->client;
}

void acmpy_client_end(acmpy_client *self)
{
    if (--self->inflight == 0 && self->closed && self->client)
        acmpy_client_drop_core(self);
}
