/*
 * pager.c - waiters (client.get_waiter(name).wait(...)) and paginators
 * (client.get_paginator(name).paginate(...)), thin objects over the core's
 * acmpca_wait_ex() and acmpca_paginator_*, with boto3's names: WaiterConfig
 * {"Delay", "MaxAttempts"}, PaginationConfig {"MaxItems", "PageSize",
 * "StartingToken"}, PageIterator.build_full_result() and .resume_token.
 * Pages carry their answer's ResponseMetadata; resume tokens are botocore's
 * own format (the core reads and writes it), so they pass between the two.
 *
 * wait() runs botocore's Waiter.wait loop (acmpca._compat.wait) over the
 * client's own operation method, so that it ends as botocore's does: a
 * WaiterError with botocore's reasons and last_response, on a failure
 * acceptor, on an error no acceptor expects and after MaxAttempts. The
 * acceptors are the core's generated table (model_data.h, compiled into this
 * extension), shown as waiter.config.acceptors. PageIterator.search() and
 * result_keys are botocore's, over jmespath when it is installed.
 */
#include <string.h>

#include "acmpca_py.h"
#include "client_internal.h" /* the paginator's request / accept steps, for hooked pages */
#include "model_data.h"

#include <structmember.h>

typedef struct acmpy_waiter {
    PyObject_HEAD
    acmpy_client *client;
    const acmpca_waiter_info *info;
    const acmpca_operation_info *op;
} acmpy_waiter;

typedef struct acmpy_paginator {
    PyObject_HEAD
    acmpy_client *client;
    const acmpca_paginator_info *info;
    const acmpca_operation_info *op;
} acmpy_paginator;

typedef struct acmpy_pages {
    PyObject_HEAD
    acmpy_client *client;
    const acmpca_paginator_info *info;
    const acmpca_operation_info *op;
    cJSON *input;
    int page_size;
    int max_items;
    char *starting_token;
    acmpca_paginator *p;        /* the current run; NULL before the first page */
    int busy;                   /* a page is being fetched (GIL released) */
    PyObject *resume_token;
} acmpy_pages;

/* ---- shared ------------------------------------------------------------------ */

static int config_int(acmpy_state *st, PyObject *v, const char *what, long min, int *out)
{
    long long n;
    if (acmpy_int_arg(st->ParamValidationError, v, what, min, INT_MAX, &n) < 0)
        return -1;
    *out = (int)n;
    return 0;
}

/*
 * Waiters, paginators and page iterators hold a counted reference to their
 * Client (the core client lives as long as it, and close() is checked by
 * acmpy_client_begin before each use). They are GC types, as the Client is,
 * so a cycle through one of them (a page iterator kept on the client's
 * config) is collected.
 */
static int holder_traverse(PyObject *op, acmpy_client *client, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(client);
    return 0;
}

static void generic_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* A str key equal to `name` as a whole (an embedded NUL makes it another key). */
static int is_key(PyObject *key, const char *name)
{
    return PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, name) == 0;
}

/* The client of a holder whose reference the GC may have cleared; NULL with an error set. */
static acmpca_client *holder_begin(PyObject *op, acmpy_client *client)
{
    if (!client) {
        acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
        PyErr_SetString(st->GeneralError, "the client is closed");
        return NULL;
    }
    return acmpy_client_begin(client);
}

/* ---- waiters ------------------------------------------------------------------- */

PyObject *acmpy_waiter_names(void)
{
    PyObject *list = PyList_New(0);
    size_t i;
    for (i = 0; list && acmpca_waiter_at(i); i++) {
        PyObject *s = PyUnicode_FromString(acmpca_waiter_at(i)->snake_name);
        if (!s || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    return list;
}

PyObject *acmpy_client_get_waiter(acmpy_client *self, PyObject *name)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
    const acmpca_waiter_info *info;
    acmpy_waiter *w;
    const char *s;

    if (!st || !(s = acmpy_utf8(st, name, "waiter_name")))
        return NULL;
    if (!(info = acmpca_waiter_find(s))) {
        PyErr_Format(PyExc_ValueError, "Waiter does not exist: %s", s);
        return NULL;
    }
    if (!(w = PyObject_GC_New(acmpy_waiter, st->waiter_type)))
        return NULL;
    w->client = (acmpy_client *)Py_NewRef(self);
    w->info = info;
    w->op = acmpca_model_operation_find(info->operation);
    PyObject_GC_Track(w);
    return (PyObject *)w;
}

static int waiter_traverse(PyObject *op, visitproc visit, void *arg)
{
    return holder_traverse(op, ((acmpy_waiter *)op)->client, visit, arg);
}

static int waiter_clear(PyObject *op)
{
    Py_CLEAR(((acmpy_waiter *)op)->client);
    return 0;
}

static void waiter_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    waiter_clear(op);
    generic_dealloc(op);
}

static int read_waiter_config(acmpy_state *st, PyObject *cfg, double *delay, int *attempts)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (!cfg)
        return 0;
    if (!PyDict_Check(cfg)) {
        acmpy_raise_param(st, "WaiterConfig: expected dict, got %s", Py_TYPE(cfg)->tp_name);
        return -1;
    }
    while (PyDict_Next(cfg, &pos, &key, &value)) {
        /* Keys compared whole: "Delay\0x" is an unknown key, not Delay. */
        if (is_key(key, "Delay")) {
            /* botocore: 0 means no pause. */
            if (acmpy_number_arg(st->ParamValidationError, value, "WaiterConfig.Delay",
                                 "a number of seconds", 0, 0, ACMPY_MAX_WAIT_DELAY_S, delay) < 0)
                return -1;
        } else if (is_key(key, "MaxAttempts")) {
            if (config_int(st, value, "WaiterConfig.MaxAttempts", 1, attempts) < 0)
                return -1;
        } else {
            acmpy_raise_param(st, "WaiterConfig[%R]: unknown key; expected Delay or "
                                  "MaxAttempts", key);
            return -1;
        }
    }
    return 0;
}

/* wait()'s arguments: the input and WaiterConfig (delay -1: the model's). */
static int waiter_args(acmpy_state *st, const char *method,
                       PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, cJSON **in,
                       double *delay, int *attempts)
{
    static const char *const skip[] = {"WaiterConfig", NULL};
    PyObject *skipped[1];

    *in = NULL;
    *delay = -1;
    *attempts = 0;
    if (nargs) {
        PyErr_Format(PyExc_TypeError, "%s() only accepts keyword arguments.", method);
        return -1;
    }
    if (acmpy_kwargs_to_json(st, args, kwnames, skip, skipped, in) < 0)
        return -1;
    if (read_waiter_config(st, skipped[0], delay, attempts) < 0) {
        cJSON_Delete(*in);
        *in = NULL;
        return -1;
    }
    return 0;
}

/*
 * _prepare(**kwargs) -> (kwargs, delay, max_attempts): wait()'s arguments
 * checked (WaiterConfig here; the input by the first poll, before any I/O)
 * and the model's values filled in.
 */
static PyObject *waiter_prepare(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    acmpy_waiter *w = (acmpy_waiter *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *kwargs, *cfg = NULL, *out = NULL;
    double delay = -1;
    int attempts = 0;
    Py_ssize_t i;

    if (nargs) {
        PyErr_SetString(PyExc_TypeError, "wait() only accepts keyword arguments.");
        return NULL;
    }
    if (!w->client) {
        PyErr_SetString(st->GeneralError, "the client is closed");
        return NULL;
    }
    if (!(kwargs = PyDict_New()))
        return NULL;
    for (i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (is_key(key, "WaiterConfig"))
            cfg = args[i];
        else if (PyDict_SetItem(kwargs, key, args[i]) < 0)
            goto fail;
    }
    if (read_waiter_config(st, cfg, &delay, &attempts) < 0)
        goto fail;
    out = Py_BuildValue("(Odi)", kwargs, delay >= 0 ? delay : w->info->delay_s,
                        attempts > 0 ? attempts : w->info->max_attempts);
fail:
    Py_DECREF(kwargs);
    return out;
}

/* A function of acmpca._compat (new reference). */
static PyObject *compat_function(const char *name)
{
    PyObject *compat = PyImport_ImportModule("acmpca._compat"), *fn;
    fn = compat ? PyObject_GetAttrString(compat, name) : NULL;
    Py_XDECREF(compat);
    return fn;
}

static PyObject *waiter_wait(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    acmpy_waiter *w = (acmpy_waiter *)op;
    PyObject *prepared, *method = NULL, *run = NULL, *out = NULL;

    if (!(prepared = waiter_prepare(op, args, nargs, kwnames)))
        return NULL;
    /* The client's own method: a poll is a call, as botocore's waiters make them. */
    if ((method = PyObject_GetAttrString((PyObject *)w->client, w->op->snake_name)) &&
        (run = compat_function("wait")))
        out = PyObject_CallFunction(run, "OOO", op, method, prepared);
    Py_XDECREF(method);
    Py_XDECREF(run);
    Py_DECREF(prepared);
    return out;
}

/* _machine(**kwargs): wait()'s run as a call machine (see machine.c). */
static PyObject *waiter_machine(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    acmpy_waiter *w = (acmpy_waiter *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    acmpy_machine *m;
    acmpca_client *c;
    cJSON *in = NULL;
    double delay;
    int attempts;

    if (waiter_args(st, "wait", args, nargs, kwnames, &in, &delay, &attempts) < 0)
        return NULL;
    if ((m = acmpy_machine_new(st, w->client, NULL, NULL, w->op, ACMPY_MACHINE_WAITER, &c))) {
        /* The core takes 0 for the model's delay; WaiterConfig Delay 0 means no pause. */
        if (acmpca_machine_new_waiter(&m->m, c, w->info->name, in,
                                      delay < 0 ? 0 : delay == 0 ? ACMPY_CORE_PAUSE : delay,
                                      attempts) != 0) {
            acmpy_raise_last(st, w->op->name, acmpca_client_endpoint(c));
            Py_CLEAR(m);
        }
    }
    cJSON_Delete(in);
    return (PyObject *)m;
}

/*
 * _match(response): the index in config.acceptors of the first acceptor that
 * matches a poll's response (a service error's included), or -1. The core
 * decides, as for every other waiter: acmpca._compat only words the outcome.
 */
static PyObject *waiter_match(PyObject *op, PyObject *response)
{
    acmpy_waiter *w = (acmpy_waiter *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *error, *code, *answer;
    const char *error_code = NULL;
    cJSON *out = NULL;
    int i;

    if (!PyDict_Check(response))
        return PyErr_Format(PyExc_TypeError, "response: expected a dict, got %s",
                            Py_TYPE(response)->tp_name);
    error = PyDict_GetItemString(response, "Error");
    code = error && PyDict_Check(error) ? PyDict_GetItemString(error, "Code") : NULL;
    if (code) {
        if (!(error_code = PyUnicode_AsUTF8(code)))
            return NULL;
    } else {
        if (!(answer = PyDict_Copy(response)))
            return NULL;
        if (PyDict_DelItem(answer, st->str_ResponseMetadata) < 0)
            PyErr_Clear();
        i = acmpy_to_json(st, answer, &out);
        Py_DECREF(answer);
        if (i < 0)
            return NULL;
    }
    i = acmpca__waiter_match(w->info, error_code, out);
    cJSON_Delete(out);
    return PyLong_FromLong(i);
}

static PyObject *waiter_get_name(PyObject *op, void *unused)
{
    (void)unused;
    return PyUnicode_FromString(((acmpy_waiter *)op)->info->name);
}

/* The model's acceptors, as botocore's AcceptorConfig attributes (state, matcher, ...). */
static PyObject *waiter_acceptors(acmpy_state *st, const acmpca_waiter_info *info)
{
    static const char *const states[] = {"success", "retry", "failure"};
    const acmpca__waiter *w = NULL;
    PyObject *list;
    size_t i;

    for (i = 0; i < acmpca__waiter_count && !w; i++)
        if (strcmp(acmpca__waiters[i].info.name, info->name) == 0)
            w = &acmpca__waiters[i];
    if (!(list = PyList_New(0)))
        return NULL;
    for (i = 0; w && i < w->acceptor_count; i++) {
        const acmpca__acceptor *a = &w->acceptors[i];
        int path = a->matcher == ACMPCA__MATCH_PATH;
        /* botocore's error matcher with "expected": false is the core's NULL. */
        PyObject *kw = Py_BuildValue(
            "{sssssNsN}", "state", states[a->state], "matcher", path ? "path" : "error",
            "expected", a->expected ? PyUnicode_FromString(a->expected) : Py_NewRef(Py_False),
            "argument", a->argument ? PyUnicode_FromString(a->argument) : Py_NewRef(Py_None));
        PyObject *ns = kw ? PyObject_Call(st->simple_namespace, st->empty_tuple, kw) : NULL;
        Py_XDECREF(kw);
        if (!ns || PyList_Append(list, ns) < 0) {
            Py_XDECREF(ns);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(ns);
    }
    return list;
}

static PyObject *waiter_get_config(PyObject *op, void *unused)
{
    const acmpca_waiter_info *info = ((acmpy_waiter *)op)->info;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *kw = Py_BuildValue("{sdsisssN}", "delay", info->delay_s, "max_attempts",
                                 info->max_attempts, "operation", info->operation, "acceptors",
                                 waiter_acceptors(st, info));
    PyObject *out = kw ? PyObject_Call(st->simple_namespace, st->empty_tuple, kw) : NULL;
    (void)unused;
    Py_XDECREF(kw);
    return out;
}

static PyObject *waiter_get_method_name(PyObject *op, void *unused)
{
    (void)unused;
    return PyUnicode_FromString(((acmpy_waiter *)op)->op->snake_name);
}

static PyObject *waiter_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<acmpca.Waiter %s>", ((acmpy_waiter *)op)->info->snake_name);
}

static PyMethodDef waiter_methods[] = {
    {"wait", (PyCFunction)(void (*)(void))waiter_wait, METH_FASTCALL | METH_KEYWORDS,
     "wait(**kwargs, WaiterConfig={'Delay': s, 'MaxAttempts': n}) -> None\n\n"
     "Call the waiter's operation with the keyword arguments until it succeeds, as\n"
     "botocore's waiters do. Raises acmpca.WaiterError(name, reason, last_response)\n"
     "with botocore's reasons on a failure state, on a service error no acceptor\n"
     "expects (the error is its __cause__) and after MaxAttempts (\"Max attempts\n"
     "exceeded\"); errors that are not the service's (connection, validation)\n"
     "propagate as they are. Ctrl-C stops the wait at once: KeyboardInterrupt, or\n"
     "whatever another signal handler raised, propagates."},
    {"_match", waiter_match, METH_O,
     "_match(response): the index of the acceptor the core matches, or -1 (acmpca._compat)."},
    {"_prepare", (PyCFunction)(void (*)(void))waiter_prepare, METH_FASTCALL | METH_KEYWORDS,
     "_prepare(**kwargs) -> (kwargs, delay, max_attempts)\n\nwait()'s arguments checked, "
     "WaiterConfig taken out and the model's values filled in (for acmpca.aio)."},
    {"_machine", (PyCFunction)(void (*)(void))waiter_machine, METH_FASTCALL | METH_KEYWORDS,
     "_machine(**kwargs, WaiterConfig=...) -> _Machine\n\nwait() as a call machine, for a "
     "driver of your own (acmpca.aio is one)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef waiter_getset[] = {
    {"name", waiter_get_name, NULL, "The waiter's model name, e.g. 'CertificateIssued'.", NULL},
    {"config", waiter_get_config, NULL,
     "The model's delay, max_attempts, operation and acceptors (state, matcher, expected,\n"
     "argument: botocore's SingleWaiterConfig names).", NULL},
    {"_method_name", waiter_get_method_name, NULL,
     "The client method each poll calls, e.g. 'get_certificate'.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot waiter_slots[] = {
    {Py_tp_dealloc, waiter_dealloc},
    {Py_tp_traverse, waiter_traverse},
    {Py_tp_clear, waiter_clear},
    {Py_tp_repr, waiter_repr},
    {Py_tp_methods, waiter_methods},
    {Py_tp_getset, waiter_getset},
    {Py_tp_doc, (void *)"A waiter from client.get_waiter(name); call wait(**kwargs)."},
    {0, NULL}};

static PyType_Spec waiter_spec = {"acmpca.Waiter", sizeof(acmpy_waiter), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                                      Py_TPFLAGS_HAVE_GC,
                                  waiter_slots};

/* ---- paginators ------------------------------------------------------------------ */

static const acmpca_paginator_info *find_paginator(acmpy_state *st, PyObject *name)
{
    const char *s = acmpy_utf8(st, name, "operation_name");
    return s ? acmpca_paginator_find(s) : NULL;
}

PyObject *acmpy_client_can_paginate(acmpy_client *self, PyObject *name)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
    const acmpca_paginator_info *info;
    if (!st)
        return NULL;
    info = find_paginator(st, name);
    if (!info && PyErr_Occurred())
        return NULL;
    /* botocore's: False for an operation that does not page, KeyError for no operation. */
    if (!info && !acmpca_model_operation_find(PyUnicode_AsUTF8(name))) {
        PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    return PyBool_FromLong(info != NULL);
}

PyObject *acmpy_client_get_paginator(acmpy_client *self, PyObject *name)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
    const acmpca_paginator_info *info;
    acmpy_paginator *p;

    if (!st)
        return NULL;
    if (!(info = find_paginator(st, name))) {
        /* botocore's OperationNotPageableError(operation_name=...): also a ValueError. */
        PyObject *cls, *kw, *exc = NULL;
        if (PyErr_Occurred() || !(cls = acmpy_error_class(st->OperationNotPageableError)))
            return NULL;
        if ((kw = Py_BuildValue("{sO}", "operation_name", name)))
            exc = PyObject_Call(cls, st->empty_tuple, kw);
        if (exc)
            PyErr_SetObject(cls, exc);
        Py_XDECREF(exc);
        Py_XDECREF(kw);
        Py_DECREF(cls);
        return NULL;
    }
    if (!(p = PyObject_GC_New(acmpy_paginator, st->paginator_type)))
        return NULL;
    p->client = (acmpy_client *)Py_NewRef(self);
    p->info = info;
    p->op = acmpca_model_operation_find(info->operation);
    PyObject_GC_Track(p);
    return (PyObject *)p;
}

static int paginator_traverse(PyObject *op, visitproc visit, void *arg)
{
    return holder_traverse(op, ((acmpy_paginator *)op)->client, visit, arg);
}

static int paginator_clear(PyObject *op)
{
    Py_CLEAR(((acmpy_paginator *)op)->client);
    return 0;
}

static void paginator_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    paginator_clear(op);
    generic_dealloc(op);
}

static int read_pagination_config(acmpy_state *st, PyObject *cfg, acmpy_pages *pg)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (!cfg)
        return 0;
    if (!PyDict_Check(cfg)) {
        acmpy_raise_param(st, "PaginationConfig: expected dict, got %s", Py_TYPE(cfg)->tp_name);
        return -1;
    }
    while (PyDict_Next(cfg, &pos, &key, &value)) {
        if (is_key(key, "MaxItems")) {
            if (value == Py_None)
                continue;
            if (config_int(st, value, "PaginationConfig.MaxItems", 1, &pg->max_items) < 0)
                return -1;
        } else if (is_key(key, "PageSize")) {
            if (value == Py_None)
                continue;
            if (config_int(st, value, "PaginationConfig.PageSize", 1, &pg->page_size) < 0)
                return -1;
        } else if (is_key(key, "StartingToken")) {
            const char *tok;
            if (value == Py_None)
                continue;
            if (!PyUnicode_Check(value)) {
                acmpy_raise_param(st, "PaginationConfig.StartingToken: expected str, got %s",
                                  Py_TYPE(value)->tp_name);
                return -1;
            }
            /* botocore's token format, which the core reads and writes as it is. */
            if (!(tok = acmpy_utf8(st, value, "PaginationConfig.StartingToken")))
                return -1;
            PyMem_Free(pg->starting_token);
            if ((pg->starting_token = PyMem_Malloc(strlen(tok) + 1)))
                strcpy(pg->starting_token, tok);
            if (!pg->starting_token) {
                PyErr_NoMemory();
                return -1;
            }
        } else {
            acmpy_raise_param(st, "PaginationConfig[%R]: unknown key; expected MaxItems, "
                                  "PageSize or StartingToken", key);
            return -1;
        }
    }
    return 0;
}

static PyObject *paginator_paginate(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const skip[] = {"PaginationConfig", NULL};
    acmpy_paginator *p = (acmpy_paginator *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *skipped[1];
    acmpy_pages *pg;

    if (nargs) {
        PyErr_SetString(PyExc_TypeError, "paginate() only accepts keyword arguments.");
        return NULL;
    }
    if (!p->client) {
        PyErr_SetString(st->GeneralError, "the client is closed");
        return NULL;
    }
    if (!(pg = PyObject_GC_New(acmpy_pages, st->page_iterator_type)))
        return NULL;
    pg->client = (acmpy_client *)Py_NewRef(p->client);
    pg->info = p->info;
    pg->op = p->op;
    pg->input = NULL;
    pg->page_size = pg->max_items = 0;
    pg->starting_token = NULL;
    pg->p = NULL;
    pg->busy = 0;
    pg->resume_token = Py_NewRef(Py_None);
    PyObject_GC_Track(pg);
    if (acmpy_kwargs_to_json(st, args, kwnames, skip, skipped, &pg->input) < 0 ||
        read_pagination_config(st, skipped[0], pg) < 0) {
        Py_DECREF(pg);
        return NULL;
    }
    return (PyObject *)pg;
}

/* result_keys, as botocore's: [jmespath.compile(key)], or a key object without jmespath. */
static PyObject *result_keys(const acmpca_paginator_info *info)
{
    PyObject *fn = compat_function("result_keys"), *out;
    out = fn ? PyObject_CallFunction(fn, "s", info->result_key) : NULL;
    Py_XDECREF(fn);
    return out;
}

static PyObject *paginator_get_result_keys(PyObject *op, void *unused)
{
    (void)unused;
    return result_keys(((acmpy_paginator *)op)->info);
}

static PyGetSetDef paginator_getset[] = {
    {"result_keys", paginator_get_result_keys, NULL,
     "botocore's result_keys: the expressions of the members that hold each page's items.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyObject *paginator_repr(PyObject *op)
{
    const acmpca_operation_info *o = ((acmpy_paginator *)op)->op;
    return PyUnicode_FromFormat("<acmpca.Paginator %s>", o->snake_name);
}

static PyMethodDef paginator_methods[] = {
    {"paginate", (PyCFunction)(void (*)(void))paginator_paginate, METH_FASTCALL | METH_KEYWORDS,
     "paginate(**kwargs, PaginationConfig={'MaxItems': n, 'PageSize': n,\n"
     "         'StartingToken': token}) -> PageIterator\n\n"
     "An iterable of result pages (dicts) of the operation called with the keyword\n"
     "arguments; no I/O until iterated."},
    {NULL, NULL, 0, NULL}};

static PyType_Slot paginator_slots[] = {
    {Py_tp_dealloc, paginator_dealloc},
    {Py_tp_traverse, paginator_traverse},
    {Py_tp_clear, paginator_clear},
    {Py_tp_repr, paginator_repr},
    {Py_tp_methods, paginator_methods},
    {Py_tp_getset, paginator_getset},
    {Py_tp_doc, (void *)"A paginator from client.get_paginator(name); call paginate(**kwargs)."},
    {0, NULL}};

static PyType_Spec paginator_spec = {"acmpca.Paginator", sizeof(acmpy_paginator), 0,
                                     Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                                         Py_TPFLAGS_HAVE_GC,
                                     paginator_slots};

/* ---- page iterators ---------------------------------------------------------------- */

/* resume_token is a str or None: never part of a cycle, kept until the end. */
static int pages_traverse(PyObject *op, visitproc visit, void *arg)
{
    return holder_traverse(op, ((acmpy_pages *)op)->client, visit, arg);
}

static int pages_clear(PyObject *op)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    /* The core paginator points at the client's core client: it goes first. */
    acmpca_paginator_free(pg->p);
    pg->p = NULL;
    Py_CLEAR(pg->client);
    return 0;
}

static void pages_dealloc(PyObject *op)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    PyObject_GC_UnTrack(op);
    pages_clear(op);
    cJSON_Delete(pg->input);
    PyMem_Free(pg->starting_token);
    Py_XDECREF(pg->resume_token);
    generic_dealloc(op);
}

static int pages_busy(acmpy_pages *pg)
{
    if (pg->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this page iterator is in use by another thread or task");
        return 1;
    }
    return 0;
}

/* Each iteration starts again from the first page (or StartingToken), as boto3's. */
static PyObject *pages_iter(PyObject *op)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    if (pages_busy(pg))
        return NULL;
    acmpca_paginator_free(pg->p);
    pg->p = NULL;
    Py_SETREF(pg->resume_token, Py_NewRef(Py_None));
    return Py_NewRef(op);
}

static int update_resume_token(acmpy_pages *pg)
{
    const char *tok = acmpca_paginator_resume_token(pg->p);
    PyObject *v = tok ? PyUnicode_FromString(tok) : Py_NewRef(Py_None);
    if (!v)
        return -1;
    Py_SETREF(pg->resume_token, v);
    return 0;
}

/*
 * A page (caller-owned cJSON, not taken) as the PageIterator yields it, with
 * its ResponseMetadata, after moving the resume token on; None past the end.
 */
static PyObject *pages_page(PyObject *op, const cJSON *page, const acmpca_response_meta *meta)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));

    if (update_resume_token(pg) < 0)
        return NULL;
    if (!page)
        Py_RETURN_NONE;
    /* Each page carries its answer's ResponseMetadata, as boto3's do. */
    return acmpy_result_dict(st, page, meta);
}

/* A page machine ended: the PageIterator may be iterated again. */
static void pages_release(PyObject *op)
{
    ((acmpy_pages *)op)->busy = 0;
}

/* What a page machine (machine.c, a layer below) calls back: handed to it, not linked. */
static const acmpy_page_hooks page_hooks = {pages_page, pages_release};

/*
 * _machine(): the next page as a call machine (see machine.c). The iterator
 * is busy until the machine is closed: neither a second page nor a restart
 * can pull the core paginator from under it.
 */
static PyObject *pages_machine(PyObject *op, PyObject *unused)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    acmpy_machine *m;
    acmpca_client *c;

    (void)unused;
    if (pages_busy(pg) ||
        !(m = acmpy_machine_new(st, pg->client, op, &page_hooks, pg->op, ACMPY_MACHINE_PAGE, &c)))
        return NULL;
    if ((!pg->p && acmpca_paginator_new(&pg->p, c, pg->info->operation, pg->input, pg->page_size,
                                        pg->max_items, pg->starting_token) != 0) ||
        acmpca_machine_new_page(&m->m, pg->p) != 0) {
        acmpy_raise_last(st, pg->op->name, NULL);
        Py_DECREF(m);
        return NULL;
    }
    pg->busy = 1;
    return (PyObject *)m;
}

/*
 * A page when event handlers are registered: the core paginator says what
 * to ask, the page is fetched through the operation's method (so handlers
 * and a Stubber see it as a call, as botocore's paginators are calls), and
 * the answer, back in its wire form, goes to the paginator to be trimmed
 * and counted as any other. Two halves, so that acmpca.aio can await the
 * call in between.
 */

/* The keyword arguments of the page's call, or None past the last page. */
static PyObject *hooked_request(acmpy_state *st, acmpy_pages *pg, PyObject *op)
{
    const cJSON *input;
    int done;

    if (acmpca__paginator_request(pg->p, &input, &done) != 0) {
        acmpy_raise_last(st, pg->op->name, NULL);
        return NULL;
    }
    if (done)
        return pages_page(op, NULL, NULL);
    return acmpy_from_json(st, input);
}

/* The page from the call's result (`parsed`, a dict with ResponseMetadata). */
static PyObject *hooked_accept(acmpy_state *st, acmpy_pages *pg, PyObject *op, PyObject *parsed)
{
    cJSON *raw = NULL, *page = NULL;
    PyObject *wire = NULL, *out = NULL, *events = NULL, *md;
    const char *text;

    if (!(events = PyImport_ImportModule("acmpca._events")) ||
        !(wire = PyObject_CallMethod(events, "_wire_json", "O", parsed)) ||
        !(text = PyUnicode_AsUTF8(wire)))
        goto done;
    if (!(raw = cJSON_Parse(text))) {
        PyErr_NoMemory();
        goto done;
    }
    /* Tagged as a call's result is, so timestamps come back as datetimes. */
    if (acmpca_output_annotate(pg->op, raw) != 0) {
        cJSON_Delete(raw);
        acmpy_raise_last(st, pg->op->name, NULL);
        goto done;
    }
    if (acmpca__paginator_accept(pg->p, raw, &page) != 0) {
        acmpy_raise_last(st, pg->op->name, NULL);
        goto done;
    }
    /* The page carries the call's ResponseMetadata, or none when the call had none. */
    out = pages_page(op, page, NULL);
    md = PyDict_Check(parsed) ? PyDict_GetItem(parsed, st->str_ResponseMetadata) : NULL;
    if (out && out != Py_None &&
        (md ? PyDict_SetItem(out, st->str_ResponseMetadata, md)
            : PyDict_DelItem(out, st->str_ResponseMetadata)) < 0)
        Py_CLEAR(out);
done:
    cJSON_Delete(page);
    Py_XDECREF(events);
    Py_XDECREF(wire);
    return out;
}

static PyObject *hooked_page(acmpy_state *st, acmpy_pages *pg, PyObject *op)
{
    PyObject *kwargs, *method = NULL, *empty = NULL, *parsed = NULL, *out = NULL;

    if (!(kwargs = hooked_request(st, pg, op)) || kwargs == Py_None)
        return kwargs;
    if ((method = PyObject_GetAttrString((PyObject *)pg->client, pg->op->snake_name)) &&
        (empty = PyTuple_New(0)) && (parsed = PyObject_Call(method, empty, kwargs)))
        out = hooked_accept(st, pg, op, parsed);
    Py_DECREF(kwargs);
    Py_XDECREF(method);
    Py_XDECREF(empty);
    Py_XDECREF(parsed);
    return out;
}

/* Make the core paginator on first use: 0, or -1 with an error set. */
static int pages_ready(acmpy_state *st, acmpy_pages *pg, acmpca_client *c)
{
    if (!pg->p && acmpca_paginator_new(&pg->p, c, pg->info->operation, pg->input, pg->page_size,
                                       pg->max_items, pg->starting_token) != 0) {
        acmpy_raise_last(st, pg->op->name, NULL);
        return -1;
    }
    return 0;
}

/*
 * _hooked_request() / _hooked_accept(parsed): the two halves of a hooked page
 * for acmpca.aio, which awaits the call in between. The iterator is busy from
 * a request to its accept; _hooked_accept(None) lets it go after a failed call.
 */
static PyObject *pages_hooked_request(PyObject *op, PyObject *unused)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    acmpy_client *client;
    acmpca_client *c;
    PyObject *out = NULL;

    (void)unused;
    if (pages_busy(pg) || !(c = holder_begin(op, pg->client)))
        return NULL;
    client = (acmpy_client *)Py_NewRef(pg->client);
    if (pages_ready(st, pg, c) == 0 && (out = hooked_request(st, pg, op)) && out != Py_None)
        pg->busy = 1;
    acmpy_client_end(client);
    Py_DECREF(client);
    return out;
}

static PyObject *pages_hooked_accept(PyObject *op, PyObject *parsed)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));

    if (!pg->busy || !pg->p) {
        PyErr_SetString(st->GeneralError, "_hooked_accept: no page was requested");
        return NULL;
    }
    pg->busy = 0;
    if (parsed == Py_None)
        Py_RETURN_NONE;
    return hooked_accept(st, pg, op, parsed);
}

static PyObject *pages_next(PyObject *op)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    acmpy_client *client;
    acmpca_client *c;
    acmpca_response_meta *meta = NULL;
    cJSON *page = NULL;
    PyObject *out = NULL;
    int rc;

    /*
     * pg->p points at the core client, which stays the same for the
     * Client's life (it is never re-initialised) and is freed only by a
     * close() or the Client's end: the first fails acmpy_client_begin here,
     * the second cannot come before ours, as we hold the Client.
     */
    if (pages_busy(pg) || !(c = holder_begin(op, pg->client)))
        return NULL;
    client = (acmpy_client *)Py_NewRef(pg->client);
    if (pages_ready(st, pg, c) < 0)
        goto done;
    if (client->hooked) {
        pg->busy = 1;
        out = hooked_page(st, pg, op);
        pg->busy = 0;
        if (out == Py_None)
            Py_CLEAR(out);
        goto done;
    }
    acmpy_log_prepare(st);
    pg->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_paginator_next_ex(pg->p, &page, &meta);
    Py_END_ALLOW_THREADS
    pg->busy = 0;
    if (rc != 0) {
        acmpy_raise_last_meta(st, pg->op->name, acmpca_client_endpoint(c), meta);
        goto done;
    }
    out = pages_page(op, page, meta);
    if (out == Py_None)
        Py_CLEAR(out);  /* NULL without an error: the end of the iteration */
done:
    acmpy_client_end(client);
    Py_DECREF(client);
    cJSON_Delete(page);
    acmpca_response_meta_free(meta);
    return out;
}

static PyObject *pages_build_full_result(PyObject *op, PyObject *unused)
{
    acmpy_pages *pg = (acmpy_pages *)op;
    PyObject *result, *it, *page, *all = NULL;
    const char *key = pg->info->result_key;

    (void)unused;
    if (!(result = PyDict_New()))
        return NULL;
    if (!(it = pages_iter(op))) {
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(it);
    while ((page = pages_next(op))) {
        PyObject *items = PyDict_GetItemString(page, key);
        if (items && PyList_Check(items)) {
            if (!all) {
                if (!(all = PyList_New(0)) || PyDict_SetItemString(result, key, all) < 0)
                    goto fail;
            }
            if (PyList_SetSlice(all, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, items) < 0)
                goto fail;
        }
        Py_DECREF(page);
    }
    if (PyErr_Occurred())
        goto fail_nopage;
    if (pg->resume_token != Py_None &&
        PyDict_SetItemString(result, pg->info->output_token, pg->resume_token) < 0)
        goto fail_nopage;
    Py_XDECREF(all);
    return result;
fail:
    Py_DECREF(page);
fail_nopage:
    Py_XDECREF(all);
    Py_DECREF(result);
    return NULL;
}

/* search(expression): botocore's, a generator over the pages (acmpca._compat.search). */
static PyObject *pages_search(PyObject *op, PyObject *expression)
{
    PyObject *fn = compat_function("search"), *out;
    out = fn ? PyObject_CallFunctionObjArgs(fn, op, expression, NULL) : NULL;
    Py_XDECREF(fn);
    return out;
}

static PyObject *pages_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<acmpca.PageIterator %s>", ((acmpy_pages *)op)->op->snake_name);
}

static PyMethodDef pages_methods[] = {
    {"build_full_result", pages_build_full_result, METH_NOARGS,
     "build_full_result() -> dict\n\nEvery page's result items in one list under the result "
     "key, plus NextToken when MaxItems stopped early: as boto3's."},
    {"search", pages_search, METH_O,
     "search(expression) -> iterator\n\nApply a JMESPath expression to each page, as "
     "botocore's: a list result\nis yielded item by item, anything else as it is. Needs the "
     "jmespath package."},
    {"_machine", pages_machine, METH_NOARGS,
     "_machine() -> _Machine\n\nThe next page as a call machine, for a driver of your own "
     "(acmpca.aio is one);\nits result() is the page, or None past the last one."},
    {"_hooked_request", pages_hooked_request, METH_NOARGS,
     "_hooked_request() -> dict | None\n\nWith event handlers registered: the next page's "
     "call arguments (the iterator\nis busy until _hooked_accept), or None past the last page."},
    {"_hooked_accept", pages_hooked_accept, METH_O,
     "_hooked_accept(parsed) -> dict\n\nThe page from the result of the call "
     "_hooked_request() asked for; None after\nthe call failed (frees the iterator)."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef pages_members[] = {
    {"resume_token", T_OBJECT, offsetof(acmpy_pages, resume_token), READONLY,
     "The token to pass as PaginationConfig StartingToken to go on where MaxItems stopped "
     "(None when everything was read)."},
    {NULL, 0, 0, 0, NULL}};

static PyObject *pages_get_result_key(PyObject *op, void *unused)
{
    (void)unused;
    return PyUnicode_FromString(((acmpy_pages *)op)->info->result_key);
}

static PyObject *pages_get_result_keys(PyObject *op, void *unused)
{
    (void)unused;
    return result_keys(((acmpy_pages *)op)->info);
}

static PyObject *pages_get_non_aggregate_part(PyObject *op, void *unused)
{
    (void)op;
    (void)unused;
    return PyDict_New(); /* ACM PCA's paginators have no non_aggregate_keys */
}

static PyGetSetDef pages_getset[] = {
    {"result_key", pages_get_result_key, NULL, "The member holding each page's items.", NULL},
    {"result_keys", pages_get_result_keys, NULL,
     "botocore's result_keys: [jmespath.compile(result_key)] (a plain key object with\n"
     "the same `expression` and `search()` when jmespath is not installed).", NULL},
    {"non_aggregate_part", pages_get_non_aggregate_part, NULL,
     "botocore's non_aggregate_part: always {} for ACM PCA.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot pages_slots[] = {
    {Py_tp_dealloc, pages_dealloc},
    {Py_tp_traverse, pages_traverse},
    {Py_tp_clear, pages_clear},
    {Py_tp_repr, pages_repr},
    {Py_tp_iter, pages_iter},
    {Py_tp_iternext, pages_next},
    {Py_tp_methods, pages_methods},
    {Py_tp_members, pages_members},
    {Py_tp_getset, pages_getset},
    {Py_tp_doc, (void *)"The pages of a paginate() call: iterate it (each iteration starts "
                        "over), or call build_full_result()."},
    {0, NULL}};

static PyType_Spec pages_spec = {"acmpca.PageIterator", sizeof(acmpy_pages), 0,
                                 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                                     Py_TPFLAGS_HAVE_GC,
                                 pages_slots};

int acmpy_pager_setup(PyObject *module, acmpy_state *st)
{
    st->waiter_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &waiter_spec, NULL);
    st->paginator_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &paginator_spec, NULL);
    st->page_iterator_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &pages_spec, NULL);
    if (!st->waiter_type || !st->paginator_type || !st->page_iterator_type)
        return -1;
    ACMPY_DISALLOW_NEW(st->waiter_type);
    ACMPY_DISALLOW_NEW(st->paginator_type);
    ACMPY_DISALLOW_NEW(st->page_iterator_type);
    if (PyModule_AddObjectRef(module, "Waiter", (PyObject *)st->waiter_type) < 0 ||
        PyModule_AddObjectRef(module, "Paginator", (PyObject *)st->paginator_type) < 0 ||
        PyModule_AddObjectRef(module, "PageIterator", (PyObject *)st->page_iterator_type) < 0)
        return -1;
    return 0;
}
