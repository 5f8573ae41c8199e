/*
 * client.c - the Client type: configuration, close/context manager, and the
 * 23 operation methods, made at module init from the core's operation table
 * as descriptors of one small type (so `client.issue_certificate(...)`
 * is a vectorcall straight into the C code, with no bound-method object).
 *
 * Every blocking core call runs with the GIL released; the client counts
 * such calls so that close() from another thread defers freeing the core
 * client until the last one returns.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "acmpca_py.h"

#include <structmember.h>

/* ---- begin / end of a blocking call ------------------------------------------ */

static void client_free_core(acmpy_client *self)
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
        client_free_core(self);
}

/* ---- options ------------------------------------------------------------------ */

typedef struct opts_holder {
    acmpca_client_options o;
    acmpca_rate_limit *limits;
    PyObject *keep;          /* list keeping alive the objects whose UTF-8 we borrow */
} opts_holder;

static const char *keep_utf8(acmpy_state *st, opts_holder *h, PyObject *v, const char *what)
{
    const char *s;
    if (!v || v == Py_None)
        return NULL;
    if (!(s = acmpy_utf8(st, v, what)))
        return NULL;
    if (PyList_Append(h->keep, v) < 0)
        return NULL;
    return s;
}

/* An option from the keyword argument, else from config (duck-typed), else NULL. */
static PyObject *pick(PyObject *arg, PyObject *config, const char *name)
{
    PyObject *v;
    if (arg && arg != Py_None)
        return Py_NewRef(arg);
    if (!config || config == Py_None)
        return NULL;
    v = PyObject_GetAttrString(config, name);
    if (!v) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        return NULL;
    }
    if (v == Py_None) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

static int config_error(acmpy_state *st, const char *fmt, PyObject *v)
{
    acmpy_raise_as(st->InvalidConfigError, fmt, v);
    return -1;
}

/*
 * The numeric options are checked twice: here, that the Python value fits
 * the C field (a long of milliseconds, an int); then by the core, against
 * its limits for every binding. Its messages name its fields, so
 * raise_option_error() puts the Python names back.
 */

/* Seconds (int or float, more than 0: None is the default) to milliseconds in a long. */
static int seconds_ms(acmpy_state *st, PyObject *v, const char *name, long *out)
{
    double s, most = 1e9;
    if (!v)
        return 0;
    if (most > (double)(LONG_MAX / 1000 - 1))
        most = (double)(LONG_MAX / 1000 - 1); /* a 32-bit long */
    if (acmpy_number_arg(st->InvalidConfigError, v, name, "a number of seconds", 0, 1, most,
                         &s) < 0)
        return -1;
    *out = (long)ceil(s * 1000.0);
    return 0;
}

static int int_option(acmpy_state *st, PyObject *v, const char *name, int min, int max, int *out)
{
    long long n;
    if (acmpy_int_arg(st->InvalidConfigError, v, name, min, max, &n) < 0)
        return -1;
    *out = (int)n;
    return 0;
}

static int tristate(acmpy_state *st, PyObject *v, const char *name, int *out)
{
    if (!v)
        return 0;
    if (!PyBool_Check(v)) {
        PyErr_Format(st->InvalidConfigError, "%s: expected a bool, got %R", name, v);
        return -1;
    }
    *out = v == Py_True ? ACMPCA_ENABLED : ACMPCA_DISABLED;
    return 0;
}

/* botocore's retries dict: max_attempts counts retries, total_max_attempts all attempts. */
static int read_retries(acmpy_state *st, opts_holder *h, PyObject *v)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int n;

    if (!v)
        return 0;
    if (!PyDict_Check(v))
        return config_error(st, "retries: expected a dict, got %R", v);
    while (PyDict_Next(v, &pos, &key, &value)) {
        if (!PyUnicode_Check(key))
            return config_error(st, "retries: unknown key %R", key);
        /* Compared whole: "mode\0x" is an unknown key, not "mode". */
        if (PyUnicode_CompareWithASCIIString(key, "max_attempts") == 0) {
            /* Retries after the first attempt: n + 1 attempts in all. */
            if (int_option(st, value, "retries['max_attempts']", 0, INT_MAX - 1, &n) < 0)
                return -1;
            if (!PyDict_GetItemString(v, "total_max_attempts"))
                h->o.max_attempts = n + 1;
        } else if (PyUnicode_CompareWithASCIIString(key, "total_max_attempts") == 0) {
            if (int_option(st, value, "retries['total_max_attempts']", 1, INT_MAX, &n) < 0)
                return -1;
            h->o.max_attempts = n;
        } else if (PyUnicode_CompareWithASCIIString(key, "mode") == 0) {
            const char *mode = keep_utf8(st, h, value, "retries['mode']");
            if (!mode)
                return -1;
            if (strcmp(mode, "legacy") == 0)
                mode = "standard";
            else if (strcmp(mode, "standard") != 0 && strcmp(mode, "adaptive") != 0)
                return config_error(st, "retries['mode']: expected 'standard', 'adaptive' or "
                                        "'legacy', got %R", value);
            h->o.retry_mode = mode;
        } else {
            return config_error(st, "retries: unknown key %R; expected max_attempts, "
                                    "total_max_attempts or mode", key);
        }
    }
    return 0;
}

#define MIN_RATE 0.001
#define MIN_RATE_TEXT "0.001"
#define MAX_RATE 1e6
#define MAX_RATE_TEXT "1000000"

/* True for the built-in preset; {"IssueCertificate": 10.0, ...} for overrides. */
static int read_rate_limit(acmpy_state *st, opts_holder *h, PyObject *v)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0, i = 0;

    if (!v || v == Py_False)
        return 0;
    if (v == Py_True) {
        h->o.rate_limit = 1;
        return 0;
    }
    if (!PyDict_Check(v))
        return config_error(st, "rate_limit: expected a bool or a dict of requests per second "
                                "by operation, got %R", v);
    h->limits = PyMem_Calloc((size_t)PyDict_GET_SIZE(v) + 1, sizeof(*h->limits));
    if (!h->limits) {
        PyErr_NoMemory();
        return -1;
    }
    while (PyDict_Next(v, &pos, &key, &value)) {
        const char *op = keep_utf8(st, h, key, "rate_limit key");
        char what[96];
        double rps;
        if (!op)
            return -1;
        if (!acmpca_model_operation_find(op))
            return config_error(st, "rate_limit: unknown operation %R", key);
        snprintf(what, sizeof(what), "rate_limit['%s']", op);
        if (acmpy_number_arg(st->InvalidConfigError, value, what, "requests per second", 0, 0,
                             MAX_RATE, &rps) < 0)
            return -1;
        /* The pause before a call is 1/rate: a tiny rate would be an endless sleep. */
        if (rps > 0 && rps < MIN_RATE) {
            acmpy_raise_as(st->InvalidConfigError, "%s: expected 0 (no limit) or from %s to %s "
                           "requests per second, got %R", what, MIN_RATE_TEXT, MAX_RATE_TEXT,
                           value);
            return -1;
        }
        h->limits[i].operation = op;
        h->limits[i].requests_per_second = rps;
        i++;
    }
    h->o.rate_limit = 1;
    h->o.rate_limits = h->limits;
    h->o.rate_limit_count = (size_t)i;
    return 0;
}

/* ---- the Client type ----------------------------------------------------------------- */

/*
 * The core names its option ("options.user_agent_suffix: ..."); the user
 * set the Python one, so the message names that instead.
 */
static void raise_option_error(acmpy_state *st, const char *message)
{
    static const struct {
        const char *core, *python;
    } names[] = {{"options.user_agent_suffix", "user_agent_extra"},
                 {"options.connect_timeout_ms", "connect_timeout"},
                 {"options.read_timeout_ms", "read_timeout"},
                 {"options.total_timeout_ms", "total_timeout"},
                 {"options.max_attempts", "retries (attempts in all)"},
                 {"options.pool_size", "max_pool_connections"},
                 {"options.use_fips", "use_fips_endpoint"},
                 {"options.use_dualstack", "use_dualstack_endpoint"}};
    size_t i, n;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        n = strlen(names[i].core);
        if (strncmp(message, names[i].core, n) == 0 && message[n] == ':') {
            acmpy_raise_as(st->InvalidConfigError, "%s%s", names[i].python, message + n);
            return;
        }
    }
    acmpy_raise_as(st->InvalidConfigError, "%s", message);
}

static PyObject *make_meta(acmpy_state *st, acmpca_client *c, PyObject *config)
{
    const char *region = acmpca_client_region(c);
    PyObject *kw = Py_BuildValue("{sNsssssOss}", "region_name",
                                 region[0] ? PyUnicode_FromString(region) : Py_NewRef(Py_None),
                                 "endpoint_url", acmpca_client_endpoint(c), "service_name",
                                 "acm-pca", "config", config ? config : Py_None, "partition",
                                 "aws");
    PyObject *meta = kw ? PyObject_Call(st->simple_namespace, st->empty_tuple, kw) : NULL;
    Py_XDECREF(kw);
    return meta;
}

static int client_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"region_name", "endpoint_url", "aws_access_key_id",
                             "aws_secret_access_key", "aws_session_token", "profile_name",
                             "verify", "config", "connect_timeout", "read_timeout", "retries",
                             "max_pool_connections", "use_fips_endpoint",
                             "use_dualstack_endpoint", "rate_limit", "user_agent_extra",
                             "max_response_bytes", "total_timeout", NULL};
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    PyObject *a[18] = {NULL};
    PyObject *region = NULL, *connect = NULL, *read = NULL, *retries = NULL, *pool = NULL,
             *fips = NULL, *dual = NULL, *rate = NULL, *ua = NULL, *proxies = NULL,
             *maxbytes = NULL, *total = NULL;
    PyObject *config, *verify;
    opts_holder h;
    acmpca_client *c = NULL;
    int rc = -1, n;

    if (!st)
        return -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOOOOOO$OOOOOOOOOO:Client", kwlist, &a[0],
                                     &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8],
                                     &a[9], &a[10], &a[11], &a[12], &a[13], &a[14], &a[15],
                                     &a[16], &a[17]))
        return -1;
    /*
     * Waiters, paginators and page iterators reach the core client through
     * this object (and a page iterator keeps a core paginator pointing at
     * it): swapping the core client under them would leave them on freed
     * memory. A client is initialised once; closing it is final.
     */
    if (self->client || self->closed) {
        PyErr_SetString(st->GeneralError, "Client.__init__: this client is already initialised "
                                          "(or closed); make a new Client instead");
        return -1;
    }
    memset(&h, 0, sizeof(h));
    h.o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    if (!(h.keep = PyList_New(0)))
        return -1;
    verify = a[6];
    config = a[7] && a[7] != Py_None ? a[7] : NULL;

    region = pick(a[0], config, "region_name");
    connect = pick(a[8], config, "connect_timeout");
    read = pick(a[9], config, "read_timeout");
    retries = pick(a[10], config, "retries");
    pool = pick(a[11], config, "max_pool_connections");
    fips = pick(a[12], config, "use_fips_endpoint");
    dual = pick(a[13], config, "use_dualstack_endpoint");
    rate = pick(a[14], config, "rate_limit");
    ua = pick(a[15], config, "user_agent_extra");
    maxbytes = pick(a[16], config, "max_response_bytes");
    total = pick(a[17], config, "total_timeout");
    proxies = pick(NULL, config, "proxies");
    if (PyErr_Occurred())
        goto done;
    if (proxies && PyObject_IsTrue(proxies)) {
        PyErr_SetString(st->InvalidConfigError,
                        "proxies: not supported in Config; set HTTPS_PROXY / NO_PROXY instead");
        goto done;
    }
    if ((region && !(h.o.region = keep_utf8(st, &h, region, "region_name"))) ||
        (a[1] && a[1] != Py_None && !(h.o.endpoint_url = keep_utf8(st, &h, a[1], "endpoint_url"))) ||
        (a[2] && a[2] != Py_None &&
         !(h.o.access_key_id = keep_utf8(st, &h, a[2], "aws_access_key_id"))) ||
        (a[3] && a[3] != Py_None &&
         !(h.o.secret_access_key = keep_utf8(st, &h, a[3], "aws_secret_access_key"))) ||
        (a[4] && a[4] != Py_None &&
         !(h.o.session_token = keep_utf8(st, &h, a[4], "aws_session_token"))) ||
        (a[5] && a[5] != Py_None && !(h.o.profile = keep_utf8(st, &h, a[5], "profile_name"))) ||
        (ua && !(h.o.user_agent_suffix = keep_utf8(st, &h, ua, "user_agent_extra"))))
        goto done;
    if (verify && verify != Py_None) {
        if (PyBool_Check(verify)) {
            h.o.insecure_skip_tls_verify = verify == Py_False;
        } else {
            PyObject *path = PyOS_FSPath(verify);
            if (!path)
                goto done;
            h.o.ca_bundle = PyUnicode_Check(path) ? keep_utf8(st, &h, path, "verify") : NULL;
            if (!h.o.ca_bundle && !PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "verify: expected a bool or a CA bundle path");
            Py_DECREF(path);
            if (!h.o.ca_bundle)
                goto done;
        }
    }
    if (seconds_ms(st, connect, "connect_timeout", &h.o.connect_timeout_ms) < 0 ||
        seconds_ms(st, read, "read_timeout", &h.o.read_timeout_ms) < 0 ||
        seconds_ms(st, total, "total_timeout", &h.o.total_timeout_ms) < 0 ||
        read_retries(st, &h, retries) < 0 ||
        tristate(st, fips, "use_fips_endpoint", &h.o.use_fips) < 0 ||
        tristate(st, dual, "use_dualstack_endpoint", &h.o.use_dualstack) < 0 ||
        read_rate_limit(st, &h, rate) < 0)
        goto done;
    if (pool) {
        if (int_option(st, pool, "max_pool_connections", 1, INT_MAX, &n) < 0)
            goto done;
        h.o.pool_size = n;
    }
    if (maxbytes) {
        long long nb, most = (unsigned long long)SIZE_MAX / 2 > (unsigned long long)LLONG_MAX
                                 ? LLONG_MAX
                                 : (long long)(SIZE_MAX / 2);
        if (acmpy_int_arg(st->InvalidConfigError, maxbytes, "max_response_bytes", 1, most,
                          &nb) < 0)
            goto done;
        h.o.max_response_bytes = (size_t)nb;
    }
    h.o.log_fn = acmpy_log_line;
    h.o.log_enabled = acmpy_log_enabled;

    if (acmpca_client_new(&c, &h.o) != 0) {
        const acmpca_error *e = acmpca_error_last();
        if (e->code == ACMPCA_EINVAL)
            raise_option_error(st, e->message);
        else
            acmpy_raise_last(st, NULL, NULL);
        goto done;
    }
    self->client = c;
    self->closed = 0;
    Py_XSETREF(self->meta, make_meta(st, c, config));
    rc = self->meta ? 0 : -1;
done:
    Py_XDECREF(region);
    Py_XDECREF(connect);
    Py_XDECREF(read);
    Py_XDECREF(retries);
    Py_XDECREF(pool);
    Py_XDECREF(fips);
    Py_XDECREF(dual);
    Py_XDECREF(rate);
    Py_XDECREF(ua);
    Py_XDECREF(proxies);
    Py_XDECREF(maxbytes);
    Py_XDECREF(total);
    Py_XDECREF(h.keep);
    PyMem_Free(h.limits);
    return rc;
}

/*
 * A GC type: client.meta holds the config, and a config (or anything it
 * reaches: a waiter, a page iterator, a callback) may hold the client.
 */
static int client_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((acmpy_client *)op)->meta);
    return 0;
}

static int client_clear(PyObject *op)
{
    Py_CLEAR(((acmpy_client *)op)->meta);
    return 0;
}

static void client_dealloc(PyObject *op)
{
    acmpy_client *self = (acmpy_client *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    if (self->weakreflist)
        PyObject_ClearWeakRefs(op);
    /* A running call holds a reference, so none runs here. */
    if (self->client)
        client_free_core(self);
    Py_CLEAR(self->meta);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *client_repr(PyObject *op)
{
    acmpy_client *self = (acmpy_client *)op;
    PyObject *region, *endpoint, *out = NULL;
    if (!self->meta)
        return PyUnicode_FromString("<acmpca.Client uninitialised>");
    /* Region and endpoint only: never anything about credentials. */
    region = PyObject_GetAttrString(self->meta, "region_name");
    endpoint = region ? PyObject_GetAttrString(self->meta, "endpoint_url") : NULL;
    if (endpoint)
        out = PyUnicode_FromFormat("<acmpca.Client region=%R endpoint=%R%s>", region, endpoint,
                                   self->closed ? " closed" : "");
    Py_XDECREF(region);
    Py_XDECREF(endpoint);
    return out;
}

static PyObject *client_close(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    (void)unused;
    self->closed = 1;
    /* With calls running on other threads, the last of them frees the core client. */
    if (self->inflight == 0 && self->client)
        client_free_core(self);
    Py_RETURN_NONE;
}

static PyObject *client_enter(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    (void)unused;
    if (!acmpy_client_begin(self))
        return NULL;
    acmpy_client_end(self);
    return Py_NewRef(op);
}

static PyObject *client_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return client_close(op, NULL);
}

static PyObject *client_get_closed(PyObject *op, void *unused)
{
    (void)unused;
    return PyBool_FromLong(((acmpy_client *)op)->closed);
}

static PyObject *client_get_exceptions(PyObject *op, void *unused)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    (void)unused;
    return st ? Py_NewRef(st->exceptions) : NULL;
}

static PyObject *client_get_meta(PyObject *op, void *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    (void)unused;
    if (!self->meta)
        Py_RETURN_NONE;
    return Py_NewRef(self->meta);
}

static PyObject *client_get_waiter_names(PyObject *op, void *unused)
{
    (void)op;
    (void)unused;
    return acmpy_waiter_names();
}

static PyObject *m_get_waiter(PyObject *op, PyObject *name)
{
    return acmpy_client_get_waiter((acmpy_client *)op, name);
}

static PyObject *m_get_paginator(PyObject *op, PyObject *name)
{
    return acmpy_client_get_paginator((acmpy_client *)op, name);
}

static PyObject *m_can_paginate(PyObject *op, PyObject *name)
{
    return acmpy_client_can_paginate((acmpy_client *)op, name);
}

static PyObject *m_request_certificate(PyObject *op, PyObject *args, PyObject *kwargs)
{
    return acmpy_client_request_certificate((acmpy_client *)op, args, kwargs);
}

/*
 * Which provider supplied the client's credentials ("static", "environment",
 * "shared-credentials-file", "assume-role", "web-identity", "sso",
 * "credential-process", "config-file", "container", "imds"). Fetches them
 * when nothing is cached yet (with the GIL released); never shows a secret.
 */
static PyObject *client_credentials_source(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    acmpca_credentials_provider *p;
    acmpca_credentials *creds = NULL;
    acmpca_client *c;
    PyObject *out = NULL;
    const char *name;
    int rc;

    (void)unused;
    if (!st || !(c = acmpy_client_begin(self)))
        return NULL;
    p = acmpca_client_credentials_provider(c);
    if (!p) {
        acmpy_client_end(self);
        Py_RETURN_NONE;
    }
    acmpy_log_prepare(st);
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_credentials_get(p, 0, &creds);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        acmpy_raise_last(st, NULL, NULL);
    } else {
        name = creds && creds->provider && creds->provider[0] ? creds->provider
                                                              : acmpca_credentials_provider_name(p);
        out = PyUnicode_FromString(name ? name : "");
    }
    acmpca_credentials_free(creds);
    acmpy_client_end(self);
    return out;
}

/*
 * _machine(operation, **kwargs): the call as a machine for a driver of one's
 * own (acmpca.aio), converted and validated exactly as the method does.
 */
static PyObject *client_machine(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    const acmpca_operation_info *info;
    acmpy_machine *m;
    acmpca_client *c;
    cJSON *in = NULL;
    const char *name;

    if (!st)
        return NULL;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "_machine(operation_name, **kwargs): no operation");
        return NULL;
    }
    if (!(name = acmpy_utf8(st, args[0], "operation_name")))
        return NULL;
    if (!(info = acmpca_model_operation_find(name))) {
        PyErr_Format(PyExc_ValueError, "unknown operation %R", args[0]);
        return NULL;
    }
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() only accepts keyword arguments.", info->snake_name);
        return NULL;
    }
    if (!(m = acmpy_machine_new(st, self, NULL, info, ACMPY_MACHINE_CALL, &c)))
        return NULL;
    if (acmpy_kwargs_to_json(st, info->input, args + nargs, kwnames, NULL, NULL, &in) < 0)
        Py_CLEAR(m);
    else if (acmpca_machine_new_call(&m->m, c, info->name, in) != 0) {
        acmpy_raise_last(st, info->name, acmpca_client_endpoint(c));
        Py_CLEAR(m);
    }
    cJSON_Delete(in);
    return (PyObject *)m;
}

static PyMethodDef client_methods[] = {
    {"_machine", (PyCFunction)(void (*)(void))client_machine, METH_FASTCALL | METH_KEYWORDS,
     "_machine(operation_name, **kwargs) -> _Machine\n\nThe call as a call machine, for a "
     "driver of your own (acmpca.aio is one):\nthe arguments are converted and validated as "
     "the method does, before any step."},
    {"credentials_source", client_credentials_source, METH_NOARGS,
     "credentials_source() -> str\n\nThe name of the provider that supplies this client's "
     "credentials, for debugging: 'static' (keys passed to the client), 'environment',\n"
     "'shared-credentials-file', 'config-file', 'assume-role', 'web-identity', 'sso',\n"
     "'credential-process', 'container' or 'imds' (botocore's Credentials.method). Fetches\n"
     "the credentials first when none are cached, so it raises NoCredentialsError (the\n"
     "message lists every source tried) or CredentialRetrievalError (naming the failing\n"
     "provider) as a call would. Never reveals a key."},
    {"close", client_close, METH_NOARGS,
     "close() -> None\n\nFree the client's connections. Later calls raise acmpca.GeneralError; "
     "calls still running on other threads finish first. Closing twice is fine."},
    {"__enter__", client_enter, METH_NOARGS, "Return the client itself."},
    {"__exit__", (PyCFunction)(void (*)(void))client_exit, METH_FASTCALL,
     "Close the client."},
    {"get_waiter", m_get_waiter, METH_O,
     "get_waiter(waiter_name) -> Waiter\n\nA waiter by its boto3 name: 'certificate_issued', "
     "'certificate_authority_csr_created' or 'audit_report_created'."},
    {"get_paginator", m_get_paginator, METH_O,
     "get_paginator(operation_name) -> Paginator\n\nA paginator by operation name: "
     "'list_certificate_authorities', 'list_tags' or 'list_permissions'."},
    {"can_paginate", m_can_paginate, METH_O,
     "can_paginate(operation_name) -> bool\n\nWhether get_paginator(operation_name) works."},
    {"request_certificate", (PyCFunction)(void (*)(void))m_request_certificate,
     METH_VARARGS | METH_KEYWORDS,
     "request_certificate(certificate_authority_arn, *, csr=None, key_type=None,\n"
     "    common_name=None, organization=None, organizational_unit=None, country=None,\n"
     "    state=None, locality=None, dns_names=(), ip_addresses=(), emails=(), uris=(),\n"
     "    signing_algorithm=None, template_arn=None, validity_days=365,\n"
     "    wait_delay=None, wait_max_attempts=None) -> dict\n\n"
     "Issue a certificate and wait for it, in one call: make a private key and a CSR\n"
     "(unless `csr` is given), IssueCertificate (signing algorithm: the CA's own unless\n"
     "given), the certificate_issued waiter, GetCertificate. Returns {'CertificateArn',\n"
     "'Certificate', 'CertificateChain', 'PrivateKey' (None when a CSR was given), 'Csr'}."},
    {"issue_and_wait", (PyCFunction)(void (*)(void))m_request_certificate,
     METH_VARARGS | METH_KEYWORDS, "The same as request_certificate()."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef client_getset[] = {
    {"closed", client_get_closed, NULL, "True once close() was called.", NULL},
    {"exceptions", client_get_exceptions, NULL,
     "The service exception classes (client.exceptions.ResourceNotFoundException, ...) "
     "and ClientError, as boto3's client.exceptions.", NULL},
    {"meta", client_get_meta, NULL,
     "region_name, endpoint_url, service_name, config: as boto3's client.meta.", NULL},
    {"waiter_names", client_get_waiter_names, NULL, "The names get_waiter() accepts.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(acmpy_client, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}};

static const char client_doc[] =
    "Client(region_name=None, endpoint_url=None, aws_access_key_id=None,\n"
    "       aws_secret_access_key=None, aws_session_token=None, profile_name=None,\n"
    "       verify=None, config=None, *, connect_timeout=None, read_timeout=None,\n"
    "       retries=None, max_pool_connections=None, use_fips_endpoint=None,\n"
    "       use_dualstack_endpoint=None, rate_limit=None, user_agent_extra=None,\n"
    "       max_response_bytes=None, total_timeout=None)\n"
    "--\n\n"
    "An AWS Private CA client, a drop-in for boto3.client('acm-pca', ...).\n\n"
    "Anything not given resolves as boto3 does: AWS_REGION / AWS_DEFAULT_REGION, the\n"
    "AWS_ENDPOINT_URL* variables, the credential chain (environment, profile files,\n"
    "SSO, process, container, instance metadata). `verify` is a bool or a CA bundle\n"
    "path. `max_response_bytes` (acmpca only) caps a response body (default 16 MiB;\n"
    "larger answers raise ResponseParserError). `total_timeout` (acmpca only) bounds a\n"
    "whole call in seconds, retries and their pauses included (default None: no bound;\n"
    "past it, ReadTimeoutError). `config` is an acmpca.Config or a\n"
    "botocore.config.Config; the keyword-only\n"
    "arguments override it. No I/O happens here. One client may be shared by threads;\n"
    "close() it, or use it as a context manager. A client is initialised once: calling\n"
    "__init__ again raises GeneralError.\n\n"
    "Each API operation is a method named as in boto3 (issue_certificate, ...), taking\n"
    "the API member names as keyword arguments and returning a dict shaped like\n"
    "boto3's, with ResponseMetadata. credentials_source() names the provider that\n"
    "supplied the credentials.";

static PyType_Slot client_slots[] = {
    {Py_tp_init, client_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_repr, client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {Py_tp_members, client_members},
    {Py_tp_doc, (void *)client_doc},
    {0, NULL}};

static PyType_Spec client_spec = {
    "acmpca.Client", sizeof(acmpy_client), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, client_slots};

/* ---- the operation methods ---------------------------------------------------------------- */

typedef struct acmpy_operation {
    PyObject_HEAD
    const acmpca_operation_info *op;
    PyObject *name;          /* "issue_certificate" */
    PyObject *qualname;      /* "Client.issue_certificate" */
    PyObject *doc;
    PyObject *operation;     /* "IssueCertificate" */
    vectorcallfunc vectorcall;
} acmpy_operation;

static PyObject *call_operation(acmpy_state *st, acmpy_client *self,
                                const acmpca_operation_info *op, PyObject *const *kwvalues,
                                PyObject *kwnames)
{
    acmpca_client *c;
    acmpca_response_meta *meta = NULL;
    cJSON *in = NULL, *out = NULL;
    PyObject *result = NULL, *md;
    int rc;

    if (!(c = acmpy_client_begin(self)))
        return NULL;
    if (acmpy_kwargs_to_json(st, op->input, kwvalues, kwnames, NULL, NULL, &in) < 0)
        goto done;
    acmpy_log_prepare(st);
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_call_ex(c, op->id, in, &out, &meta);
    Py_END_ALLOW_THREADS
    /* The thread's last error is still this call's: nothing ran on this thread since. */
    if (rc != 0) {
        acmpy_raise_last_meta(st, op->name, acmpca_client_endpoint(c), meta);
        goto done;
    }
    if (!(result = acmpy_from_json(st, op->output, out)))
        goto done;
    if (!PyDict_Check(result)) {
        Py_SETREF(result, PyDict_New());
        if (!result)
            goto done;
    }
    md = acmpy_response_metadata(st, meta);
    if (!md || PyDict_SetItem(result, st->str_ResponseMetadata, md) < 0)
        Py_CLEAR(result);
    Py_XDECREF(md);
done:
    acmpy_client_end(self);
    cJSON_Delete(in);
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    return result;
}

static PyObject *operation_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                                      PyObject *kwnames)
{
    acmpy_operation *d = (acmpy_operation *)callable;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(callable));
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);

    if (nargs < 1 || !PyObject_TypeCheck(args[0], st->client_type)) {
        PyErr_Format(PyExc_TypeError, "%U() must be called on an acmpca.Client", d->qualname);
        return NULL;
    }
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%U() only accepts keyword arguments.", d->name);
        return NULL;
    }
    return call_operation(st, (acmpy_client *)args[0], d->op, args + nargs, kwnames);
}

static PyObject *operation_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (!obj || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/*
 * The descriptors sit in Client's dict and hold their own type, which holds
 * the module, which holds Client: a cycle only the GC can see. Their other
 * members are str, which never join a cycle, so there is nothing to clear.
 */
static int operation_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static void operation_dealloc(PyObject *op)
{
    acmpy_operation *d = (acmpy_operation *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_XDECREF(d->name);
    Py_XDECREF(d->qualname);
    Py_XDECREF(d->doc);
    Py_XDECREF(d->operation);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *operation_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<acmpca operation method %U>", ((acmpy_operation *)op)->qualname);
}

static PyObject *operation_get_doc(PyObject *op, void *unused)
{
    (void)unused;
    return Py_NewRef(((acmpy_operation *)op)->doc);
}

static PyMemberDef operation_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(acmpy_operation, vectorcall), READONLY, NULL},
    {"__name__", T_OBJECT, offsetof(acmpy_operation, name), READONLY, NULL},
    {"__qualname__", T_OBJECT, offsetof(acmpy_operation, qualname), READONLY, NULL},
    {"operation_name", T_OBJECT, offsetof(acmpy_operation, operation), READONLY,
     "The API name of the operation, e.g. 'IssueCertificate'."},
    {NULL, 0, 0, 0, NULL}};

static PyGetSetDef operation_getset[] = {
    {"__doc__", operation_get_doc, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot operation_slots[] = {
    {Py_tp_dealloc, operation_dealloc},
    {Py_tp_traverse, operation_traverse},
    {Py_tp_repr, operation_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, operation_get},
    {Py_tp_members, operation_members},
    {Py_tp_getset, operation_getset},
    {0, NULL}};

static PyType_Spec operation_spec = {
    "acmpca.OperationMethod", sizeof(acmpy_operation), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR |
        Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_GC,
    operation_slots};

static const char *py_type_name(const acmpca_shape *shape)
{
    switch (shape->type) {
    case ACMPCA_SHAPE_STRUCTURE:
    case ACMPCA_SHAPE_MAP: return "dict";
    case ACMPCA_SHAPE_LIST: return "list";
    case ACMPCA_SHAPE_STRING: return "str";
    case ACMPCA_SHAPE_BLOB: return "bytes | str";
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG: return "int";
    case ACMPCA_SHAPE_BOOLEAN: return "bool";
    case ACMPCA_SHAPE_TIMESTAMP: return "datetime";
    }
    return "object";
}

/* The method's docstring, from the model: arguments, result members, errors. */
static PyObject *operation_doc(const acmpca_operation_info *op)
{
    PyObject *parts = PyList_New(0), *sep = NULL, *out = NULL, *s;
    size_t i;

#define ADD(...)                                                   \
    do {                                                           \
        if (!(s = PyUnicode_FromFormat(__VA_ARGS__)) ||            \
            PyList_Append(parts, s) < 0) {                         \
            Py_XDECREF(s);                                         \
            goto done;                                             \
        }                                                          \
        Py_DECREF(s);                                              \
    } while (0)

    if (!parts)
        return NULL;
    ADD("%s(**kwargs) -> dict\n\nCall the %s operation of AWS Private CA, as boto3's "
        "client.%s().\n", op->snake_name, op->name, op->snake_name);
    if (op->input->member_count) {
        ADD("\nKeyword arguments (the API member names):\n");
        for (i = 0; i < op->input->member_count; i++) {
            const acmpca_member *m = &op->input->members[i];
            ADD("    %s: %s%s\n", m->name, py_type_name(m->shape),
                m->required ? " (required)"
                            : m->idempotency_token ? " (generated when absent)" : "");
        }
    } else {
        ADD("\nTakes no arguments.\n");
    }
    ADD("\nReturns a dict with ResponseMetadata");
    for (i = 0; op->output && i < op->output->member_count; i++)
        ADD("%s %s (%s)", i + 1 == op->output->member_count ? " and" : ",",
            op->output->members[i].name, py_type_name(op->output->members[i].shape));
    ADD(".\n\nRaises acmpca.ParamValidationError before any I/O when the arguments do not "
        "match the model;");
    if (op->error_count) {
        ADD(" the service's ");
        for (i = 0; i < op->error_count; i++)
            ADD("%s%s", i ? ", " : "", acmpca_error_name(op->errors[i]));
        ADD(" (all acmpca.ClientError subclasses, also on client.exceptions);");
    }
    ADD(" ClientError for any other service error; the connection errors otherwise.");
#undef ADD
    if ((sep = PyUnicode_FromString("")))
        out = PyUnicode_Join(sep, parts);
done:
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return out;
}

int acmpy_client_setup(PyObject *module, acmpy_state *st)
{
    size_t i;

    st->operation_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &operation_spec, NULL);
    if (!st->operation_type)
        return -1;
    ACMPY_DISALLOW_NEW(st->operation_type);
    st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (!st->client_type)
        return -1;
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        const acmpca_operation_info *op = acmpca_model_operation(i);
        acmpy_operation *d = PyObject_GC_New(acmpy_operation, st->operation_type);
        int rc;
        if (!d)
            return -1;
        d->name = d->qualname = d->doc = d->operation = NULL;
        PyObject_GC_Track(d);
        d->op = op;
        d->vectorcall = operation_vectorcall;
        d->name = PyUnicode_InternFromString(op->snake_name);
        d->qualname = PyUnicode_FromFormat("Client.%s", op->snake_name);
        d->operation = PyUnicode_FromString(op->name);
        d->doc = operation_doc(op);
        if (!d->name || !d->qualname || !d->operation || !d->doc) {
            Py_DECREF(d);
            return -1;
        }
        rc = PyObject_SetAttr((PyObject *)st->client_type, d->name, (PyObject *)d);
        Py_DECREF(d);
        if (rc < 0)
            return -1;
    }
    return PyModule_AddType(module, st->client_type);
}
