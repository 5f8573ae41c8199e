/*
 * module.c - the acmpca._acmpca module: multi-phase init, the module state,
 * the exception classes and the mapping of the core's errors onto them, and
 * the glue from the core's debug log to logging.getLogger("acmpca").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* ---- exception classes ---------------------------------------------------- */

/*
 * ClientError(error_response, operation_name), as botocore's: the message is
 * "An error occurred (Code) when calling the Op operation: Message".
 */
static PyObject *dict_get_path(PyObject *d, const char *a, const char *b)
{
    PyObject *v = PyDict_Check(d) ? PyDict_GetItemString(d, a) : NULL;
    if (v && b)
        v = PyDict_Check(v) ? PyDict_GetItemString(v, b) : NULL;
    return v; /* borrowed */
}

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    int rc;
    if (!value)
        return -1;
    rc = PyObject_SetAttrString(obj, name, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *client_error_init(PyObject *unused, PyObject *args)
{
    PyObject *self, *response, *operation, *code, *message, *status, *rid, *retries, *maxed;
    PyObject *msg = NULL, *margs = NULL;
    long attempts = 0;
    int reached = 0;

    (void)unused;
    if (!PyArg_ParseTuple(args, "OOO:ClientError", &self, &response, &operation))
        return NULL;
    code = dict_get_path(response, "Error", "Code");
    message = dict_get_path(response, "Error", "Message");
    status = dict_get_path(response, "ResponseMetadata", "HTTPStatusCode");
    rid = dict_get_path(response, "ResponseMetadata", "RequestId");
    retries = dict_get_path(response, "ResponseMetadata", "RetryAttempts");
    maxed = dict_get_path(response, "ResponseMetadata", "MaxAttemptsReached");
    /* botocore names the retries only when MaxAttemptsReached says it gave up. */
    if (maxed && (reached = PyObject_IsTrue(maxed)) < 0)
        return NULL;
    if (reached && retries && PyLong_Check(retries)) {
        attempts = PyLong_AsLong(retries);
        if (attempts == -1 && PyErr_Occurred())
            return NULL;
    }
    if (reached && retries)
        msg = PyUnicode_FromFormat(
            "An error occurred (%S) when calling the %S operation (reached max retries: %ld): %S",
            code ? code : Py_None, operation, attempts, message ? message : Py_None);
    else
        msg = PyUnicode_FromFormat("An error occurred (%S) when calling the %S operation: %S",
                                   code ? code : Py_None, operation,
                                   message ? message : Py_None);
    if (!msg || !(margs = PyTuple_Pack(1, msg)))
        goto fail;
    if (PyObject_SetAttrString(self, "args", margs) < 0 ||
        PyObject_SetAttrString(self, "response", response) < 0 ||
        PyObject_SetAttrString(self, "operation_name", operation) < 0 ||
        PyObject_SetAttrString(self, "code", code ? code : Py_None) < 0 ||
        PyObject_SetAttrString(self, "message", message ? message : Py_None) < 0 ||
        PyObject_SetAttrString(self, "http_status", status ? status : Py_None) < 0 ||
        PyObject_SetAttrString(self, "request_id", rid ? rid : Py_None) < 0)
        goto fail;
    Py_DECREF(msg);
    Py_DECREF(margs);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(msg);
    Py_XDECREF(margs);
    return NULL;
}

/* Pickles as ClientError(response, operation_name), like botocore's. */
static PyObject *client_error_reduce(PyObject *unused, PyObject *self)
{
    PyObject *response, *operation, *out;
    (void)unused;
    response = PyObject_GetAttrString(self, "response");
    operation = response ? PyObject_GetAttrString(self, "operation_name") : NULL;
    out = operation ? Py_BuildValue("O(OO)", (PyObject *)Py_TYPE(self), response, operation)
                    : NULL;
    Py_XDECREF(response);
    Py_XDECREF(operation);
    return out;
}

static PyMethodDef client_error_init_def = {
    "__init__", client_error_init, METH_VARARGS,
    "ClientError(error_response, operation_name): as botocore.exceptions.ClientError."};
static PyMethodDef client_error_reduce_def = {"__reduce__", client_error_reduce, METH_O, NULL};

/* A method for a class dict: a builtin function wrapped to bind like a Python one. */
static int add_method(PyObject *dict, PyMethodDef *def)
{
    PyObject *fn = PyCFunction_New(def, NULL), *m;
    int rc;
    if (!fn)
        return -1;
    m = PyInstanceMethod_New(fn);
    Py_DECREF(fn);
    if (!m)
        return -1;
    rc = PyDict_SetItemString(dict, def->ml_name, m);
    Py_DECREF(m);
    return rc;
}

static PyObject *new_exception(PyObject *module, const char *name, const char *doc,
                               PyObject *base1, PyObject *base2, PyObject *dict)
{
    char qualified[128];
    PyObject *bases, *cls;

    snprintf(qualified, sizeof(qualified), "acmpca.%s", name);
    bases = base2 ? PyTuple_Pack(2, base1, base2) : PyTuple_Pack(1, base1);
    if (!bases)
        return NULL;
    cls = PyErr_NewExceptionWithDoc(qualified, doc, bases, dict);
    Py_DECREF(bases);
    if (cls && PyModule_AddObjectRef(module, name, cls) < 0)
        Py_CLEAR(cls);
    return cls;
}

static const char service_doc_fmt[] =
    "The service answered %s. A subclass of ClientError: see its attributes.";

static int make_exceptions(PyObject *module, acmpy_state *st)
{
    PyObject *dict = NULL, *ns_kwargs = NULL, *empty = NULL;
    size_t i;
    int rc = -1;

    /* Defaults so every attribute exists even on an instance a user made. */
    if (!(dict = Py_BuildValue("{sOsOsOsOsOsOsi}", "message", Py_None, "code", Py_None,
                               "operation_name", Py_None, "http_status", Py_None,
                               "request_id", Py_None, "retryable", Py_False, "attempts", 0)))
        return -1;
    st->Error = new_exception(
        module, "Error",
        "Root of every acmpca exception. Attributes: message, code (the AWS error code, or\n"
        "None for client-side errors), operation_name, http_status (None when no response\n"
        "came back), request_id, retryable and attempts.",
        PyExc_Exception, NULL, dict);
    Py_CLEAR(dict);
    if (!st->Error)
        goto fail;

    if (!(dict = PyDict_New()) || PyDict_SetItemString(dict, "response", Py_None) < 0 ||
        add_method(dict, &client_error_init_def) < 0 ||
        add_method(dict, &client_error_reduce_def) < 0)
        goto fail;
    st->ClientError = new_exception(
        module, "ClientError",
        "An error answered by the service. Constructed as botocore's:\n"
        "ClientError(error_response, operation_name). `response` is\n"
        "{\"Error\": {\"Code\", \"Message\"}, \"ResponseMetadata\": {\"RequestId\",\n"
        "\"HTTPStatusCode\", \"HTTPHeaders\", \"RetryAttempts\"}}; `code`, `message`,\n"
        "`http_status` and `request_id` repeat it.",
        st->Error, NULL, dict);
    Py_CLEAR(dict);
    if (!st->ClientError)
        goto fail;

#define EXC(field, name, base1, base2, doc)                                      \
    if (!(st->field = new_exception(module, name, doc, base1, base2, NULL)))      \
        goto fail;
    EXC(ParamValidationError, "ParamValidationError", st->Error, PyExc_ValueError,
        "The input does not match the API model (a missing, unknown or mistyped member,\n"
        "a value out of range). Raised before any I/O; the message names the member.")
    EXC(NoCredentialsError, "NoCredentialsError", st->Error, NULL,
        "No credentials were found. Pass aws_access_key_id and aws_secret_access_key,\n"
        "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or configure a profile.\n"
        "The message lists every source tried.")
    EXC(CredentialRetrievalError, "CredentialRetrievalError", st->Error, NULL,
        "A configured credentials source failed (a credential_process, SSO token,\n"
        "role assumption, container or instance metadata endpoint).")
    EXC(InvalidConfigError, "InvalidConfigError", st->Error, PyExc_ValueError,
        "The client's configuration is unusable: no region, a bad endpoint URL, FIPS\n"
        "with a custom endpoint, a bad value in Config or in the shared config file.")
    EXC(EndpointConnectionError, "EndpointConnectionError", st->Error,
        PyExc_ConnectionError,
        "Could not connect to the endpoint (refused, DNS failure, unreachable).\n"
        "`endpoint_url` names it.")
    EXC(ConnectTimeoutError, "ConnectTimeoutError", st->EndpointConnectionError,
        PyExc_TimeoutError,
        "Connecting to the endpoint took longer than Config(connect_timeout=...).")
    EXC(ReadTimeoutError, "ReadTimeoutError", st->Error, PyExc_TimeoutError,
        "The endpoint did not answer within Config(read_timeout=...).")
    EXC(SSLError, "SSLError", st->EndpointConnectionError, NULL,
        "The TLS handshake or the server certificate check failed. Pass verify=<CA\n"
        "bundle path> for a private CA, or verify=False to skip the check.")
    EXC(ConnectionClosedError, "ConnectionClosedError", st->EndpointConnectionError, NULL,
        "The connection broke during the exchange (reset, response cut short).")
    EXC(ResponseParserError, "ResponseParserError", st->Error, NULL,
        "A success response could not be read: not JSON, not the expected shape, or\n"
        "larger than the response size cap.")
    EXC(CryptoError, "CryptoError", st->Error, NULL,
        "OpenSSL failed to make a key or to sign a CSR (an unsupported key type in this\n"
        "OpenSSL build, a FIPS provider refusing the algorithm). The message has\n"
        "OpenSSL's reason.")
    EXC(GeneralError, "GeneralError", st->Error, NULL,
        "Any other client-side failure: a closed client, a local limit, a bad argument\n"
        "to a library function.")
#undef EXC
    if (!(dict = Py_BuildValue("{sOsOsO}", "name", Py_None, "reason", Py_None,
                               "last_response", Py_None)))
        goto fail;
    st->WaiterError = new_exception(
        module, "WaiterError",
        "A waiter reached a failure state or gave up after its attempts. Attributes:\n"
        "name (the waiter), reason, last_response (the error answer that stopped it,\n"
        "or None).",
        st->Error, NULL, dict);
    Py_CLEAR(dict);
    if (!st->WaiterError)
        goto fail;

    /* client.exceptions: every service class and ClientError. */
    if (!(ns_kwargs = PyDict_New()) ||
        PyDict_SetItemString(ns_kwargs, "ClientError", st->ClientError) < 0)
        goto fail;
    for (i = 0; i < ACMPY_SERVICE_ERROR_COUNT; i++) {
        const char *name = acmpca_error_name(ACMPCA_ESERVICE_FIRST - (int)i);
        char doc[256];
        snprintf(doc, sizeof(doc), service_doc_fmt, name);
        if (!(st->service_errors[i] =
                  new_exception(module, name, doc, st->ClientError, NULL, NULL)) ||
            PyDict_SetItemString(ns_kwargs, name, st->service_errors[i]) < 0)
            goto fail;
    }
    if (!(empty = PyTuple_New(0)))
        goto fail;
    st->exceptions = PyObject_Call(st->simple_namespace, empty, ns_kwargs);
    if (!st->exceptions)
        goto fail;
    rc = 0;
fail:
    Py_XDECREF(dict);
    Py_XDECREF(ns_kwargs);
    Py_XDECREF(empty);
    return rc;
}

/* ---- raising ------------------------------------------------------------------ */

/* The class for a client-side code: the core names it, the same in every binding. */
static PyObject *class_for(acmpy_state *st, int code)
{
    const struct { const char *name; PyObject *cls; } classes[] = {
        {"ParamValidationError", st->ParamValidationError},
        {"NoCredentialsError", st->NoCredentialsError},
        {"CredentialRetrievalError", st->CredentialRetrievalError},
        {"InvalidConfigError", st->InvalidConfigError},
        {"EndpointConnectionError", st->EndpointConnectionError},
        {"ConnectTimeoutError", st->ConnectTimeoutError},
        {"ReadTimeoutError", st->ReadTimeoutError},
        {"SSLError", st->SSLError},
        {"ConnectionClosedError", st->ConnectionClosedError},
        {"ResponseParserError", st->ResponseParserError},
        {"WaiterError", st->WaiterError},
        {"CryptoError", st->CryptoError},
        {"MemoryError", PyExc_MemoryError},
    };
    const char *name = acmpca_error_class(code);
    size_t i;
    for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strcmp(name, classes[i].name) == 0)
            return classes[i].cls;
    return st->GeneralError;
}

static PyObject *text(const char *s)
{
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)strlen(s) : 0, "replace");
}

static PyObject *str_or_none(const char *s)
{
    if (!s || !*s)
        Py_RETURN_NONE;
    return text(s);
}

/*
 * botocore's ResponseMetadata of an error: from the answer's metadata when
 * the core handed it over, else from the error alone (no headers). Like
 * botocore, MaxAttemptsReached when retrying gave up on a retryable error.
 */
static PyObject *error_metadata(acmpy_state *st, const acmpca_error *e,
                                const acmpca_response_meta *meta)
{
    int retries = e->attempts > 1 ? e->attempts - 1 : 0;
    PyObject *md;

    if (meta)
        md = acmpy_response_metadata(st, meta);
    else
        md = Py_BuildValue("{sNsisNsi}", "RequestId", text(e->request_id), "HTTPStatusCode",
                           e->http_status, "HTTPHeaders", PyDict_New(), "RetryAttempts",
                           retries);
    if (md && retries > 0 && e->retryable &&
        PyDict_SetItemString(md, "MaxAttemptsReached", Py_True) < 0)
        Py_CLEAR(md);
    return md;
}

static PyObject *raise_service(acmpy_state *st, const acmpca_error *e, const char *operation,
                               const acmpca_response_meta *meta)
{
    PyObject *cls, *response = NULL, *exc = NULL, *op = NULL, *message;
    int code = e->code;

    cls = code == ACMPCA_ESERVICE ? st->ClientError
                                  : st->service_errors[ACMPCA_ESERVICE_FIRST - code];
    message = text(e->message);
    response = Py_BuildValue("{s{sNsN}sN}", "Error", "Code", text(e->aws_code), "Message",
                             message, "ResponseMetadata", error_metadata(st, e, meta));
    /* botocore also puts a modelled exception's members at the top: its "message". */
    if (response && code != ACMPCA_ESERVICE &&
        PyDict_SetItemString(response, "message", dict_get_path(response, "Error", "Message")) < 0)
        Py_CLEAR(response);
    op = PyUnicode_FromString(operation ? operation : "");
    if (response && op)
        exc = PyObject_CallFunctionObjArgs(cls, response, op, NULL);
    if (exc && (set_attr(exc, "retryable", PyBool_FromLong(e->retryable)) < 0 ||
                set_attr(exc, "attempts", PyLong_FromLong(e->attempts)) < 0))
        Py_CLEAR(exc);
    if (exc)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(exc);
    Py_XDECREF(response);
    Py_XDECREF(op);
    return NULL;
}

/* last_response of a WaiterError: the error answer that stopped the waiter, if any. */
static PyObject *waiter_last_response(acmpy_state *st, const acmpca_error *e)
{
    if (!e->aws_code[0])
        Py_RETURN_NONE;
    return Py_BuildValue("{s{sNsN}sN}", "Error", "Code", text(e->aws_code), "Message",
                         text(e->message), "ResponseMetadata", error_metadata(st, e, NULL));
}

PyObject *acmpy_raise_last(acmpy_state *st, const char *operation, const char *endpoint)
{
    return acmpy_raise_last_meta(st, operation, endpoint, NULL);
}

PyObject *acmpy_raise_last_meta(acmpy_state *st, const char *operation, const char *endpoint,
                                const acmpca_response_meta *meta)
{
    const acmpca_error *e = acmpca_error_last();
    PyObject *cls, *exc = NULL, *msg, *shown;
    const char *op = e->operation[0] ? e->operation : operation;
    int code = e->code;

    /*
     * A waiter stopped by its progress hook (pager.c) because a signal
     * handler raised (Ctrl-C): that exception is still pending, and is the
     * one to see.
     */
    if (code == ACMPCA_ECANCELLED && PyErr_Occurred())
        return NULL;
    if (code == ACMPCA_ENOMEM) {
        PyErr_SetString(PyExc_MemoryError, e->message[0] ? e->message : "out of memory");
        return NULL;
    }
    if (code == ACMPCA_OK) {
        PyErr_SetString(st->GeneralError, "the call failed without an error detail");
        return NULL;
    }
    if (ACMPCA_IS_SERVICE_ERROR(code))
        return raise_service(st, e, op, meta);
    cls = class_for(st, code);
    msg = text(e->message[0] ? e->message : acmpca_strerror(code));
    /* str(exc) says how many attempts a retried call made; .message is the detail. */
    shown = !msg ? NULL
            : e->attempts > 1 && !e->waiter[0]  /* a waiter's message counts its own */
                ? PyUnicode_FromFormat("%U (gave up after %d attempts)", msg, e->attempts)
                : Py_NewRef(msg);
    if (!shown) {
        Py_XDECREF(msg);
        return NULL;
    }
    exc = PyObject_CallOneArg(cls, shown);
    Py_DECREF(shown);
    if (exc && (PyObject_SetAttrString(exc, "message", msg) < 0 ||
                set_attr(exc, "code", str_or_none(e->aws_code)) < 0 ||
                set_attr(exc, "operation_name", str_or_none(op)) < 0 ||
                (e->http_status &&
                 set_attr(exc, "http_status", PyLong_FromLong(e->http_status)) < 0) ||
                set_attr(exc, "request_id", str_or_none(e->request_id)) < 0 ||
                set_attr(exc, "retryable", PyBool_FromLong(e->retryable)) < 0 ||
                set_attr(exc, "attempts", PyLong_FromLong(e->attempts)) < 0))
        Py_CLEAR(exc);
    if (exc && endpoint && PyObject_IsSubclass(cls, st->EndpointConnectionError) == 1 &&
        set_attr(exc, "endpoint_url", PyUnicode_FromString(endpoint)) < 0)
        Py_CLEAR(exc);
    if (exc && (code == ACMPCA_EWAITER || code == ACMPCA_ECANCELLED)) {
        if (set_attr(exc, "name", str_or_none(e->waiter)) < 0 ||
            set_attr(exc, "state", str_or_none(e->waiter_state)) < 0 ||
            PyObject_SetAttrString(exc, "reason", msg) < 0 ||
            set_attr(exc, "last_response", waiter_last_response(st, e)) < 0)
            Py_CLEAR(exc);
    }
    if (exc)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(exc);
    Py_DECREF(msg);
    return NULL;
}

static PyObject *raise_with_message(PyObject *cls, const char *fmt, va_list ap)
{
    PyObject *msg, *exc;

    msg = PyUnicode_FromFormatV(fmt, ap);
    if (!msg)
        return NULL;
    exc = PyObject_CallOneArg(cls, msg);
    if (exc && PyObject_SetAttrString(exc, "message", msg) == 0)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(exc);
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

void acmpy_log_prepare(acmpy_state *st)
{
    PyObject *r;

    tls_logger = NULL;
    if (!st->logger) {
        /* Nobody can have configured logging before importing it: skip it until then. */
        PyObject *name = PyUnicode_FromString("logging"), *logging;
        if (!name) {
            PyErr_Clear();
            return;
        }
        logging = PyImport_GetModule(name);
        Py_DECREF(name);
        if (!logging) {
            PyErr_Clear();
            return;
        }
        st->logger = PyObject_CallMethod(logging, "getLogger", "s", "acmpca");
        Py_DECREF(logging);
        if (!st->logger) {
            PyErr_Clear();
            return;
        }
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
    return tls_logger != NULL;
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

/* ---- _model(): the core's model as Python data (for tools/gen_pyi.py and tests) ---- */

static int describe_shape(PyObject *shapes, const acmpca_shape *shape);

static int describe_members(PyObject *d, const acmpca_shape *shape, PyObject *shapes)
{
    PyObject *members = PyList_New(0);
    size_t i;
    int rc = members ? 0 : -1;

    for (i = 0; rc == 0 && i < shape->member_count; i++) {
        const acmpca_member *m = &shape->members[i];
        PyObject *md = Py_BuildValue("{sssssOsO}", "name", m->name, "shape", m->shape->name,
                                     "required", m->required ? Py_True : Py_False,
                                     "idempotency_token",
                                     m->idempotency_token ? Py_True : Py_False);
        rc = md ? PyList_Append(members, md) : -1;
        Py_XDECREF(md);
        if (rc == 0)
            rc = describe_shape(shapes, m->shape);
    }
    if (rc == 0)
        rc = PyDict_SetItemString(d, "members", members);
    Py_XDECREF(members);
    return rc;
}

static int describe_shape(PyObject *shapes, const acmpca_shape *shape)
{
    PyObject *d, *v;
    size_t i;
    int rc = 0;

    if (!shape || PyDict_GetItemString(shapes, shape->name))
        return 0;
    d = Py_BuildValue("{ss}", "type", acmpca_model_type_name(shape->type));
    if (!d || PyDict_SetItemString(shapes, shape->name, d) < 0)
        goto fail;
    if (shape->has_min) {
        v = PyLong_FromLongLong(shape->min);
        if (!v || PyDict_SetItemString(d, "min", v) < 0)
            goto fail_v;
        Py_DECREF(v);
    }
    if (shape->has_max) {
        v = PyLong_FromLongLong(shape->max);
        if (!v || PyDict_SetItemString(d, "max", v) < 0)
            goto fail_v;
        Py_DECREF(v);
    }
    if (shape->enum_count) {
        if (!(v = PyList_New((Py_ssize_t)shape->enum_count)))
            goto fail;
        for (i = 0; i < shape->enum_count; i++) {
            PyObject *s = PyUnicode_FromString(shape->enum_values[i]);
            if (!s)
                goto fail_v;
            PyList_SET_ITEM(v, (Py_ssize_t)i, s);
        }
        if (PyDict_SetItemString(d, "enum", v) < 0)
            goto fail_v;
        Py_DECREF(v);
    }
    if (shape->type == ACMPCA_SHAPE_STRUCTURE)
        rc = describe_members(d, shape, shapes);
    if (rc == 0 && shape->element) {
        v = PyUnicode_FromString(shape->element->name);
        if (!v || PyDict_SetItemString(d, "element", v) < 0)
            goto fail_v;
        Py_DECREF(v);
        rc = describe_shape(shapes, shape->element);
    }
    if (rc == 0 && shape->key) {
        v = PyUnicode_FromString(shape->key->name);
        if (!v || PyDict_SetItemString(d, "key", v) < 0)
            goto fail_v;
        Py_DECREF(v);
        rc = describe_shape(shapes, shape->key);
    }
    Py_DECREF(d);
    return rc;
fail_v:
    Py_XDECREF(v);
fail:
    Py_XDECREF(d);
    return -1;
}

static PyObject *module_model(PyObject *module, PyObject *unused)
{
    PyObject *ops = NULL, *shapes = NULL, *waiters = NULL, *paginators = NULL, *out = NULL;
    size_t i, j;

    (void)module;
    (void)unused;
    if (!(ops = PyList_New(0)) || !(shapes = PyDict_New()) || !(waiters = PyList_New(0)) ||
        !(paginators = PyDict_New()))
        goto fail;
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        const acmpca_operation_info *op = acmpca_model_operation(i);
        const acmpca_paginator_info *pg = acmpca_paginator_find(op->name);
        PyObject *errors = PyList_New((Py_ssize_t)op->error_count), *d;
        if (!errors)
            goto fail;
        for (j = 0; j < op->error_count; j++) {
            PyObject *s = PyUnicode_FromString(acmpca_error_name(op->errors[j]));
            if (!s) {
                Py_DECREF(errors);
                goto fail;
            }
            PyList_SET_ITEM(errors, (Py_ssize_t)j, s);
        }
        d = Py_BuildValue("{sssssssNsN}", "name", op->name, "snake_name", op->snake_name,
                          "input", op->input->name, "output",
                          op->output ? PyUnicode_FromString(op->output->name) : Py_NewRef(Py_None),
                          "errors", errors);
        if (!d || PyList_Append(ops, d) < 0 || describe_shape(shapes, op->input) < 0 ||
            describe_shape(shapes, op->output) < 0) {
            Py_XDECREF(d);
            goto fail;
        }
        Py_DECREF(d);
        if (pg) {
            d = Py_BuildValue("{sssssssssssN}", "operation", pg->operation, "input_token",
                              pg->input_token, "output_token", pg->output_token, "limit_key",
                              pg->limit_key, "result_key", pg->result_key, "snake_name",
                              PyUnicode_FromString(op->snake_name));
            if (!d || PyDict_SetItemString(paginators, op->snake_name, d) < 0) {
                Py_XDECREF(d);
                goto fail;
            }
            Py_DECREF(d);
        }
    }
    for (i = 0; acmpca_waiter_at(i); i++) {
        const acmpca_waiter_info *w = acmpca_waiter_at(i);
        PyObject *d = Py_BuildValue("{sssssssdsi}", "name", w->name, "snake_name",
                                    w->snake_name, "operation", w->operation, "delay",
                                    w->delay_s, "max_attempts", w->max_attempts);
        if (!d || PyList_Append(waiters, d) < 0) {
            Py_XDECREF(d);
            goto fail;
        }
        Py_DECREF(d);
    }
    out = Py_BuildValue("{sOsOsOsO}", "operations", ops, "shapes", shapes, "waiters", waiters,
                        "paginators", paginators);
fail:
    Py_XDECREF(ops);
    Py_XDECREF(shapes);
    Py_XDECREF(waiters);
    Py_XDECREF(paginators);
    return out;
}

/* ---- module ---------------------------------------------------------------------- */

static PyMethodDef module_functions[] = {
    {"_model", module_model, METH_NOARGS,
     "_model() -> dict\n--\n\nThe core's API model as Python data: operations, shapes, waiters and "
     "paginators. For tools and tests; not a stable API."},
    {NULL, NULL, 0, NULL}};

static PyObject *intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

static int module_exec(PyObject *module)
{
    acmpy_state *st = acmpy_state_from_module(module);
    PyObject *types;
    size_t i;

    if (acmpca_version_number() != ACMPCA_VERSION_NUMBER) {
        PyErr_Format(PyExc_ImportError,
                     "acmpca: built against libacmpca %s but runs with %s; rebuild the extension",
                     ACMPCA_VERSION, acmpca_version());
        return -1;
    }
    /* curl's global init is not thread-safe: do it here, under the import lock and GIL. */
    if (acmpca_global_init() != 0) {
        PyErr_SetString(PyExc_ImportError, acmpca_error_last()->message);
        return -1;
    }
    if (acmpy_convert_init() < 0)
        return -1;
    if (!(st->str_isEnabledFor = intern("isEnabledFor")) || !(st->str_debug = intern("debug")) ||
        !(st->str_timestamp = intern("timestamp")) || !(st->str_replace = intern("replace")) ||
        !(st->str_tzinfo = intern("tzinfo")) || !(st->str_read = intern("read")) ||
        !(st->str_fromisoformat = intern("fromisoformat")) ||
        !(st->str_ResponseMetadata = intern("ResponseMetadata")) ||
        !(st->str_RequestId = intern("RequestId")) ||
        !(st->str_HTTPStatusCode = intern("HTTPStatusCode")) ||
        !(st->str_HTTPHeaders = intern("HTTPHeaders")) ||
        !(st->str_RetryAttempts = intern("RetryAttempts")) ||
        !(st->debug_level = PyLong_FromLong(10)) || !(st->empty_tuple = PyTuple_New(0)))
        return -1;
    for (i = 0; i < ACMPY_HEADER_NAME_COUNT; i++)
        if (!(st->header_names[i] = intern(acmpy_header_names[i])))
            return -1;
    if (!(types = PyImport_ImportModule("types")))
        return -1;
    st->simple_namespace = PyObject_GetAttrString(types, "SimpleNamespace");
    Py_DECREF(types);
    if (!st->simple_namespace)
        return -1;
    if (acmpy_member_names_init(st) < 0)
        return -1;
    if (make_exceptions(module, st) < 0 || acmpy_client_setup(module, st) < 0 ||
        acmpy_pager_setup(module, st) < 0 || acmpy_machine_setup(module, st) < 0)
        return -1;
    if (PyModule_AddFunctions(module, acmpy_pki_functions) < 0 ||
        PyModule_AddFunctions(module, acmpy_sign_functions) < 0)
        return -1;
    if (PyModule_AddStringConstant(module, "__version__", acmpca_version()) < 0 ||
        PyModule_AddIntConstant(module, "VERSION_NUMBER", acmpca_version_number()) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    acmpy_state *st = acmpy_state_from_module(module);
    size_t i;
    if (!st)
        return 0;
    Py_VISIT(st->client_type);
    Py_VISIT(st->operation_type);
    Py_VISIT(st->waiter_type);
    Py_VISIT(st->paginator_type);
    Py_VISIT(st->page_iterator_type);
    Py_VISIT(st->machine_type);
    Py_VISIT(st->step_type);
    Py_VISIT(st->Error);
    Py_VISIT(st->ClientError);
    Py_VISIT(st->ParamValidationError);
    Py_VISIT(st->NoCredentialsError);
    Py_VISIT(st->CredentialRetrievalError);
    Py_VISIT(st->InvalidConfigError);
    Py_VISIT(st->EndpointConnectionError);
    Py_VISIT(st->ConnectTimeoutError);
    Py_VISIT(st->ReadTimeoutError);
    Py_VISIT(st->SSLError);
    Py_VISIT(st->ConnectionClosedError);
    Py_VISIT(st->ResponseParserError);
    Py_VISIT(st->WaiterError);
    Py_VISIT(st->CryptoError);
    Py_VISIT(st->GeneralError);
    for (i = 0; i < ACMPY_SERVICE_ERROR_COUNT; i++)
        Py_VISIT(st->service_errors[i]);
    Py_VISIT(st->exceptions);
    Py_VISIT(st->logger);
    Py_VISIT(st->simple_namespace);
    return 0;
}

static int module_clear(PyObject *module)
{
    acmpy_state *st = acmpy_state_from_module(module);
    size_t i;
    if (!st)
        return 0;
    Py_CLEAR(st->client_type);
    Py_CLEAR(st->operation_type);
    Py_CLEAR(st->waiter_type);
    Py_CLEAR(st->paginator_type);
    Py_CLEAR(st->page_iterator_type);
    Py_CLEAR(st->machine_type);
    Py_CLEAR(st->step_type);
    for (i = 0; i < ACMPY_STEP_STRING_COUNT; i++)
        Py_CLEAR(st->step_strings[i]);
    Py_CLEAR(st->Error);
    Py_CLEAR(st->ClientError);
    Py_CLEAR(st->ParamValidationError);
    Py_CLEAR(st->NoCredentialsError);
    Py_CLEAR(st->CredentialRetrievalError);
    Py_CLEAR(st->InvalidConfigError);
    Py_CLEAR(st->EndpointConnectionError);
    Py_CLEAR(st->ConnectTimeoutError);
    Py_CLEAR(st->ReadTimeoutError);
    Py_CLEAR(st->SSLError);
    Py_CLEAR(st->ConnectionClosedError);
    Py_CLEAR(st->ResponseParserError);
    Py_CLEAR(st->WaiterError);
    Py_CLEAR(st->CryptoError);
    Py_CLEAR(st->GeneralError);
    for (i = 0; i < ACMPY_SERVICE_ERROR_COUNT; i++)
        Py_CLEAR(st->service_errors[i]);
    Py_CLEAR(st->exceptions);
    Py_CLEAR(st->logger);
    Py_CLEAR(st->simple_namespace);
    Py_CLEAR(st->debug_level);
    Py_CLEAR(st->str_isEnabledFor);
    Py_CLEAR(st->str_debug);
    Py_CLEAR(st->str_timestamp);
    Py_CLEAR(st->str_replace);
    Py_CLEAR(st->str_tzinfo);
    Py_CLEAR(st->str_read);
    Py_CLEAR(st->str_fromisoformat);
    Py_CLEAR(st->str_ResponseMetadata);
    Py_CLEAR(st->str_RequestId);
    Py_CLEAR(st->str_HTTPStatusCode);
    Py_CLEAR(st->str_HTTPHeaders);
    Py_CLEAR(st->str_RetryAttempts);
    for (i = 0; i < ACMPY_HEADER_NAME_COUNT; i++)
        Py_CLEAR(st->header_names[i]);
    acmpy_member_names_free(st);
    Py_CLEAR(st->empty_tuple);
    return 0;
}

static void module_free(void *module)
{
    /*
     * curl's global state is left initialised: a Client kept alive past the
     * module (interpreter shutdown) may still clean up its handles.
     */
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL}};

PyModuleDef acmpy_module_def = {
    PyModuleDef_HEAD_INIT,
    "acmpca._acmpca",
    "The C extension behind the acmpca package: an AWS Private CA client on the acmpca C\n"
    "core. Import `acmpca`, not this module.",
    sizeof(acmpy_state),
    module_functions,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

PyMODINIT_FUNC PyInit__acmpca(void)
{
    return PyModuleDef_Init(&acmpy_module_def);
}
