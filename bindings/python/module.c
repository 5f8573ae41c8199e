/*
 * module.c - the acmpca._acmpca module: multi-phase init, the module state,
 * the exception classes and the mapping of the core's errors onto them, and
 * the glue from the core's debug log to logging.getLogger("acmpca").
 *
 * The exception classes carry botocore's names, constructors (keyword
 * arguments formatted through the class's `fmt`, `kwargs`) and messages
 * where botocore has a class of the same meaning. They do not start out
 * inheriting botocore's classes, since importing botocore costs more than the
 * whole of acmpca's cold start; instead, each raise looks whether
 * botocore.exceptions is already in sys.modules (any code that writes `except
 * botocore.exceptions.X` has imported it, as has `import acmpca.boto3`) and,
 * if so, has acmpca._compat.enable() add botocore's classes to their bases,
 * once and in place (see there why in place).
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

/* BaseException.__init__(self, *args): what every one of our classes ends in. */
static int base_init(PyObject *self, PyObject *args)
{
    return ((PyTypeObject *)PyExc_BaseException)->tp_init(self, args, NULL);
}

/*
 * Error.__init__: a message, as acmpca raises them (Error("text")), or
 * botocore's form, keywords only (EndpointConnectionError(endpoint_url=u)),
 * whose message is the class's `fmt` formatted with them, as botocore's
 * BotoCoreError. `kwargs` holds the keywords either way.
 */
static PyObject *error_init(PyObject *unused, PyObject *args, PyObject *kwargs)
{
    PyObject *self, *rest = NULL, *fmt = NULL, *msg = NULL, *kw = NULL, *empty = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    int has_kw = kwargs && PyDict_GET_SIZE(kwargs) > 0;
    PyObject *out = NULL;

    (void)unused;
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "__init__: expected self");
        return NULL;
    }
    self = PyTuple_GET_ITEM(args, 0);
    if (has_kw && n > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes a message or botocore's keyword arguments, "
                     "not both", Py_TYPE(self)->tp_name);
        return NULL;
    }
    if (!(kw = kwargs ? PyDict_Copy(kwargs) : PyDict_New()))
        return NULL;
    if (n == 1) {
        /* botocore's form: the message is fmt.format(**kwargs). */
        if (!(fmt = PyObject_GetAttrString(self, "fmt")) || !(empty = PyTuple_New(0)))
            goto fail;
        Py_SETREF(fmt, PyObject_GetAttrString(fmt, "format"));
        if (!fmt || !(msg = PyObject_Call(fmt, empty, kw)) || !(rest = PyTuple_Pack(1, msg)) ||
            PyObject_SetAttrString(self, "message", msg) < 0)
            goto fail;
    } else if (!(rest = PyTuple_GetSlice(args, 1, n))) {
        goto fail;
    }
    if (base_init(self, rest) < 0 || PyObject_SetAttrString(self, "kwargs", kw) < 0)
        goto fail;
    out = Py_NewRef(Py_None);
fail:
    Py_XDECREF(rest);
    Py_XDECREF(fmt);
    Py_XDECREF(msg);
    Py_XDECREF(kw);
    Py_XDECREF(empty);
    return out;
}

/*
 * WaiterError(name, reason, last_response), as botocore's: the message is
 * "Waiter <name> failed: <reason>", kwargs {"name", "reason"}. A lone
 * message is still taken as Error's.
 */
static PyObject *waiter_error_init(PyObject *unused, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"", "name", "reason", "last_response", NULL};
    PyObject *self, *name, *reason, *last = Py_None, *msg = NULL, *margs = NULL, *kw = NULL;
    PyObject *out = NULL;

    if (PyTuple_GET_SIZE(args) == 2 && !(kwargs && PyDict_GET_SIZE(kwargs)))
        return error_init(unused, args, kwargs);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|O:WaiterError", names, &self, &name,
                                     &reason, &last))
        return NULL;
    if (!(msg = PyUnicode_FromFormat("Waiter %S failed: %S", name, reason)) ||
        !(margs = PyTuple_Pack(1, msg)) ||
        !(kw = Py_BuildValue("{sOsO}", "name", name, "reason", reason)))
        goto fail;
    if (base_init(self, margs) < 0 || PyObject_SetAttrString(self, "kwargs", kw) < 0 ||
        PyObject_SetAttrString(self, "message", msg) < 0 ||
        PyObject_SetAttrString(self, "name", name) < 0 ||
        PyObject_SetAttrString(self, "reason", reason) < 0 ||
        PyObject_SetAttrString(self, "last_response", last) < 0)
        goto fail;
    out = Py_NewRef(Py_None);
fail:
    Py_XDECREF(msg);
    Py_XDECREF(margs);
    Py_XDECREF(kw);
    return out;
}

/*
 * Error.__reduce__: BaseException's, (class, args, __dict__), written out so
 * that botocore's own __reduce__ (from its keyword arguments) never takes
 * over once botocore's classes are bases of ours.
 */
static PyObject *error_reduce(PyObject *unused, PyObject *self)
{
    PyObject *args = PyObject_GetAttrString(self, "args"), *dict, *out = NULL;
    (void)unused;
    dict = args ? PyObject_GenericGetDict(self, NULL) : NULL;
    if (dict)
        out = PyTuple_Pack(3, (PyObject *)Py_TYPE(self), args, dict);
    Py_XDECREF(args);
    Py_XDECREF(dict);
    return out;
}

static PyMethodDef error_reduce_def = {"__reduce__", error_reduce, METH_O, NULL};
static PyMethodDef error_init_def = {
    "__init__", (PyCFunction)(void (*)(void))error_init, METH_VARARGS | METH_KEYWORDS,
    "Error(message) as acmpca raises it, or botocore's Error(**kwargs), formatting `fmt`."};
static PyMethodDef waiter_error_init_def = {
    "__init__", (PyCFunction)(void (*)(void))waiter_error_init, METH_VARARGS | METH_KEYWORDS,
    "WaiterError(name, reason, last_response): as botocore.exceptions.WaiterError."};

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

/* `fmt` (may be NULL): botocore's message template for the keyword form. */
static PyObject *new_exception_fmt(PyObject *module, const char *name, const char *doc,
                                   PyObject *base1, PyObject *base2, PyObject *dict,
                                   const char *fmt)
{
    char qualified[128];
    PyObject *bases, *cls, *own = NULL;

    snprintf(qualified, sizeof(qualified), "acmpca.%s", name);
    if (fmt && !dict && !(dict = own = PyDict_New()))
        return NULL;
    if (fmt) {
        PyObject *f = PyUnicode_FromString(fmt);
        if (!f || PyDict_SetItemString(dict, "fmt", f) < 0) {
            Py_XDECREF(f);
            Py_XDECREF(own);
            return NULL;
        }
        Py_DECREF(f);
    }
    bases = base2 ? PyTuple_Pack(2, base1, base2) : PyTuple_Pack(1, base1);
    if (!bases) {
        Py_XDECREF(own);
        return NULL;
    }
    cls = PyErr_NewExceptionWithDoc(qualified, doc, bases, dict);
    Py_DECREF(bases);
    Py_XDECREF(own);
    if (cls && PyModule_AddObjectRef(module, name, cls) < 0)
        Py_CLEAR(cls);
    return cls;
}

static PyObject *new_exception(PyObject *module, const char *name, const char *doc,
                               PyObject *base1, PyObject *base2, PyObject *dict)
{
    return new_exception_fmt(module, name, doc, base1, base2, dict, NULL);
}

static const char service_doc_fmt[] =
    "The service answered %s. A subclass of ClientError: see its attributes.";

/*
 * The service errors are made from a spec rather than by type(): PyType_Ready
 * inherits the slots where type() re-derives every one of them, a tenth of the
 * cost, and these classes add nothing to ClientError but a name and a doc.
 * Before Python 3.12 a spec's name must outlive the type: hence static storage
 * (the same text in every interpreter, so sharing it is harmless).
 */
static char service_qualnames[ACMPY_SERVICE_ERROR_COUNT][96];

/*
 * `qualified` ("acmpca.Name") must outlive the class. One base, one of this
 * module's classes: the layout, __dict__ and __weakref__ are then the base's,
 * exactly as type() would make them (with a builtin second base type() would
 * add a __weakref__ slot that a spec does not: those stay with type()).
 */
static PyObject *new_plain_exception(PyObject *module, const char *qualified, const char *doc,
                                     PyObject *base, const char *fmt)
{
    PyType_Slot slots[] = {{Py_tp_doc, (void *)doc}, {0, NULL}};
    PyType_Spec spec = {qualified, 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, slots};
    /* A tuple: Python 3.9 takes no single class here. */
    PyObject *bases = PyTuple_Pack(1, base), *f;
    PyObject *cls = bases ? PyType_FromSpecWithBases(&spec, bases) : NULL;

    Py_XDECREF(bases);

    if (cls && fmt) {
        f = PyUnicode_FromString(fmt);
        if (!f || PyObject_SetAttrString(cls, "fmt", f) < 0)
            Py_CLEAR(cls);
        Py_XDECREF(f);
    }
    if (cls && PyModule_AddObjectRef(module, strchr(qualified, '.') + 1, cls) < 0)
        Py_CLEAR(cls);
    return cls;
}

static PyObject *new_service_exception(PyObject *module, size_t i, const char *doc,
                                       PyObject *base)
{
    snprintf(service_qualnames[i], sizeof(service_qualnames[i]), "acmpca.%s",
             acmpca_error_name(ACMPCA_ESERVICE_FIRST - (int)i));
    return new_plain_exception(module, service_qualnames[i], doc, base, NULL);
}

static int make_exceptions(PyObject *module, acmpy_state *st)
{
    PyObject *dict = NULL, *ns_kwargs = NULL, *empty = NULL;
    size_t i;
    int rc = -1;

    /* Defaults so every attribute exists even on an instance a user made. */
    if (!(dict = Py_BuildValue("{sOsOsOsOsOsOsisO}", "message", Py_None, "code", Py_None,
                               "operation_name", Py_None, "http_status", Py_None,
                               "request_id", Py_None, "retryable", Py_False, "attempts", 0,
                               "kwargs", Py_None)) ||
        add_method(dict, &error_init_def) < 0 || add_method(dict, &error_reduce_def) < 0)
        goto fail;
    st->Error = new_exception_fmt(
        module, "Error",
        "Root of every acmpca exception. Attributes: message, code (the AWS error code, or\n"
        "None for client-side errors), operation_name, http_status (None when no response\n"
        "came back), request_id, retryable and attempts; and botocore's kwargs.\n"
        "Constructed as Error(message), or as botocore's with keywords only: the message\n"
        "is then the class's `fmt` formatted with them.",
        PyExc_Exception, NULL, dict, "An unspecified error occurred");
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

/* The `fmt` strings are botocore's, for its keyword form of the constructor. */
#define EXC(field, name, base1, base2, fmt, doc)                                          \
    if (!(st->field = (base2) ? new_exception_fmt(module, name, doc, base1, base2, NULL, fmt)  \
                              : new_plain_exception(module, "acmpca." name, doc, base1, fmt))) \
        goto fail;
    EXC(ParamValidationError, "ParamValidationError", st->Error, PyExc_ValueError,
        "Parameter validation failed:\n{report}",
        "The input does not match the API model (a missing, unknown or mistyped member,\n"
        "a value out of range). Raised before any I/O; the message names the member,\n"
        "and kwargs[\"report\"] repeats it, as botocore's report.")
    EXC(NoCredentialsError, "NoCredentialsError", st->Error, NULL,
        "Unable to locate credentials",
        "No credentials were found. Pass aws_access_key_id and aws_secret_access_key,\n"
        "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or configure a profile.\n"
        "The message lists every source tried.")
    EXC(CredentialRetrievalError, "CredentialRetrievalError", st->Error, NULL,
        "Error when retrieving credentials from {provider}: {error_msg}",
        "A configured credentials source failed (a credential_process, SSO token,\n"
        "role assumption, container or instance metadata endpoint).")
    EXC(InvalidConfigError, "InvalidConfigError", st->Error, PyExc_ValueError, "{error_msg}",
        "The client's configuration is unusable: no region, a bad endpoint URL, FIPS\n"
        "with a custom endpoint, a bad value in Config or in the shared config file.")
    EXC(NoRegionError, "NoRegionError", st->InvalidConfigError, NULL,
        "You must specify a region.",
        "No region was given (region_name, AWS_REGION, AWS_DEFAULT_REGION, the profile).\n"
        "An InvalidConfigError, named as botocore's.")
    EXC(InvalidRegionError, "InvalidRegionError", st->InvalidConfigError, NULL,
        "Provided region_name '{region_name}' doesn't match a supported format.",
        "The region is not a valid host label. An InvalidConfigError, named as botocore's.")
    EXC(ProfileNotFound, "ProfileNotFound", st->InvalidConfigError, NULL,
        "The config profile ({profile}) could not be found",
        "The named profile is in neither the config nor the credentials file. An\n"
        "InvalidConfigError, named as botocore's.")
    EXC(EndpointConnectionError, "EndpointConnectionError", st->Error,
        PyExc_ConnectionError, "Could not connect to the endpoint URL: \"{endpoint_url}\"",
        "Could not connect to the endpoint (refused, DNS failure, unreachable).\n"
        "`endpoint_url` names it.")
    EXC(ConnectTimeoutError, "ConnectTimeoutError", st->EndpointConnectionError,
        PyExc_TimeoutError, "Connect timeout on endpoint URL: \"{endpoint_url}\"",
        "Connecting to the endpoint took longer than Config(connect_timeout=...).")
    EXC(ReadTimeoutError, "ReadTimeoutError", st->Error, PyExc_TimeoutError,
        "Read timeout on endpoint URL: \"{endpoint_url}\"",
        "The endpoint did not answer within Config(read_timeout=...).")
    EXC(SSLError, "SSLError", st->EndpointConnectionError, NULL,
        "SSL validation failed for {endpoint_url} {error}",
        "The TLS handshake or the server certificate check failed. Pass verify=<CA\n"
        "bundle path> for a private CA, or verify=False to skip the check.")
    EXC(ConnectionClosedError, "ConnectionClosedError", st->EndpointConnectionError, NULL,
        "Connection was closed before we received a valid response from endpoint URL: "
        "\"{endpoint_url}\".",
        "The connection broke during the exchange (reset, response cut short).")
    EXC(ResponseParserError, "ResponseParserError", st->Error, NULL, "{error_msg}",
        "A success response could not be read: not JSON, not the expected shape, or\n"
        "larger than the response size cap.")
    EXC(CryptoError, "CryptoError", st->Error, NULL, "{error_msg}",
        "OpenSSL failed to make a key or to sign a CSR (an unsupported key type in this\n"
        "OpenSSL build, a FIPS provider refusing the algorithm). The message has\n"
        "OpenSSL's reason.")
    EXC(GeneralError, "GeneralError", st->Error, NULL, "{error_msg}",
        "Any other client-side failure: a closed client, a local limit, a bad argument\n"
        "to a library function.")
    EXC(OperationNotPageableError, "OperationNotPageableError", st->Error, PyExc_ValueError,
        "Operation cannot be paginated: {operation_name}",
        "get_paginator() of an operation that has no paginator, as botocore's (also a\n"
        "ValueError, what acmpca raised before).")
#undef EXC
    if (!(dict = Py_BuildValue("{sOsOsOsO}", "name", Py_None, "reason", Py_None,
                               "last_response", Py_None, "state", Py_None)) ||
        add_method(dict, &waiter_error_init_def) < 0)
        goto fail;
    st->WaiterError = new_exception_fmt(
        module, "WaiterError",
        "A waiter reached a failure state, met an error no acceptor expects, or gave up\n"
        "after its attempts: WaiterError(name, reason, last_response), as botocore's, with\n"
        "its message \"Waiter <name> failed: <reason>\" and reasons. last_response is the\n"
        "last poll's answer (its output, or the error's response); the error that ended\n"
        "the wait, if any, is __cause__.",
        st->Error, NULL, dict, "Waiter {name} failed: {reason}");
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
        if (!(st->service_errors[i] = new_service_exception(module, i, doc, st->ClientError)) ||
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

/*
 * botocore names three InvalidConfigError cases apart. The core reports them
 * with fixed texts of its own (the endpoint rules' errors, the profile
 * check), recognised here until acmpca_error carries a reason of its own.
 */
static PyObject *refine_config_class(acmpy_state *st, const acmpca_error *e, PyObject *cls)
{
    if (e->code == ACMPCA_EENDPOINT &&
        strcmp(e->message, "Invalid Configuration: Missing Region") == 0)
        return st->NoRegionError;
    if (e->code == ACMPCA_EENDPOINT && strncmp(e->message, "Invalid region:", 15) == 0)
        return st->InvalidRegionError;
    if (e->code == ACMPCA_ECONFIG && strncmp(e->message, "profile \"", 9) == 0 &&
        strstr(e->message, "\" not found in "))
        return st->ProfileNotFound;
    return cls;
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
static void set_raised(PyObject *exc)
{
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
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

/* Whether some operation of the model lists the error: botocore's service-wide error shapes. */
static int is_modelled_error(int code)
{
    size_t i;
    for (i = 0; i < acmpca_model_operation_count(); i++)
        if (acmpca_model_operation_has_error(acmpca_model_operation(i), code))
            return 1;
    return 0;
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
    /*
     * botocore also puts the members of an error shape of the service model at
     * the top: its "message". Common codes (AccessDenied, Throttling) have none.
     */
    if (response && code != ACMPCA_ESERVICE && is_modelled_error(code) &&
        PyDict_SetItemString(response, "message", dict_get_path(response, "Error", "Message")) < 0)
        Py_CLEAR(response);
    op = PyUnicode_FromString(operation ? operation : "");
    if (response && op && (cls = acmpy_error_class(cls))) {
        exc = PyObject_CallFunctionObjArgs(cls, response, op, NULL);
        Py_DECREF(cls);
    }
    if (exc && (set_attr(exc, "retryable", PyBool_FromLong(e->retryable)) < 0 ||
                set_attr(exc, "attempts", PyLong_FromLong(e->attempts)) < 0))
        Py_CLEAR(exc);
    if (exc)
        set_raised(exc);
    Py_XDECREF(exc);
    Py_XDECREF(response);
    Py_XDECREF(op);
    return NULL;
}

/*
 * botocore's reason for a waiter the core ran (request_certificate) and
 * stopped: its acceptor explanations, from the state the core names.
 */
static PyObject *waiter_reason(const acmpca_error *e, PyObject *msg)
{
    const char *state = e->waiter_state ? e->waiter_state : "", *eq = strchr(state, '=');

    if (strcmp(state, "max_attempts") == 0)
        return PyUnicode_FromString("Max attempts exceeded");
    if (eq)
        return PyUnicode_FromFormat("Waiter encountered a terminal failure state: For "
                                    "expression \"%.*s\" we matched expected path: \"%s\"",
                                    (int)(eq - state), state, eq + 1);
    if (*state && strcmp(state, "cancelled") != 0)
        return PyUnicode_FromFormat("Waiter encountered a terminal failure state: Matched "
                                    "expected service error code: %s", state);
    return Py_NewRef(msg);
}

/* last_response of a WaiterError: the error answer that stopped the waiter, if any. */
static PyObject *waiter_last_response(acmpy_state *st, const acmpca_error *e)
{
    if (!e->aws_code[0])
        Py_RETURN_NONE;
    return Py_BuildValue("{s{sNsN}sN}", "Error", "Code", text(e->aws_code), "Message",
                         text(e->message), "ResponseMetadata", error_metadata(st, e, NULL));
}

/* botocore's kwargs of a client-side error (a new dict). */
static PyObject *botocore_kwargs(acmpy_state *st, PyObject *cls, PyObject *msg,
                                 const char *endpoint)
{
    if (PyObject_IsSubclass(cls, st->ParamValidationError) == 1)
        return Py_BuildValue("{sO}", "report", msg);
    if (PyObject_IsSubclass(cls, st->EndpointConnectionError) == 1 ||
        PyObject_IsSubclass(cls, st->ReadTimeoutError) == 1)
        return Py_BuildValue("{sssO}", "endpoint_url", endpoint ? endpoint : "", "error", msg);
    if (PyObject_IsSubclass(cls, st->NoRegionError) == 1 ||
        PyObject_IsSubclass(cls, st->NoCredentialsError) == 1)
        return PyDict_New();
    return Py_BuildValue("{sO}", "error_msg", msg);
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
    int code = e->code, waiter;

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
    if (cls == st->InvalidConfigError)
        cls = refine_config_class(st, e, cls);
    if (!(cls = acmpy_error_class(cls)))
        return NULL;
    msg = text(e->message[0] ? e->message : acmpca_strerror(code));
    waiter = code == ACMPCA_EWAITER || code == ACMPCA_ECANCELLED;
    /* str(exc) says how many attempts a retried call made; .message is the detail. */
    shown = !msg ? NULL
            : e->attempts > 1 && !e->waiter[0]  /* a waiter's message counts its own */
                ? PyUnicode_FromFormat("%U (gave up after %d attempts)", msg, e->attempts)
                : Py_NewRef(msg);
    if (!shown) {
        Py_XDECREF(msg);
        Py_DECREF(cls);
        return NULL;
    }
    if (waiter) {
        /* botocore's WaiterError(name, reason, last_response). */
        PyObject *name = str_or_none(e->waiter), *reason = waiter_reason(e, msg);
        PyObject *last = waiter_last_response(st, e);
        exc = name && reason && last
                  ? PyObject_CallFunctionObjArgs(cls, name, reason, last, NULL) : NULL;
        Py_XDECREF(name);
        Py_XDECREF(reason);
        Py_XDECREF(last);
    } else {
        exc = PyObject_CallOneArg(cls, shown);
    }
    Py_DECREF(shown);
    if (exc && !waiter && set_attr(exc, "kwargs", botocore_kwargs(st, cls, msg, endpoint)) < 0)
        Py_CLEAR(exc);
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
    if (exc && waiter && set_attr(exc, "state", str_or_none(e->waiter_state)) < 0)
        Py_CLEAR(exc);
    if (exc)
        set_raised(exc);
    Py_XDECREF(exc);
    Py_DECREF(msg);
    Py_DECREF(cls);
    return NULL;
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
            set_attr(exc, "kwargs", message_kwargs(cls, msg)) < 0)
            Py_CLEAR(exc);
        Py_DECREF(cls);
        if (exc && PyObject_SetAttrString(exc, "message", msg) == 0)
            set_raised(exc);
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

void acmpy_log_prepare(acmpy_state *st)
{
    PyObject *r;

    tls_logger = NULL;
    if (!st->logger) {
        /*
         * Nobody can have configured logging before importing it: skip it until
         * then. A plain sys.modules lookup: this runs on every call until then.
         */
        PyObject *logging = PyDict_GetItemWithError(PyImport_GetModuleDict(), st->str_logging);
        if (!logging) {
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
    {"_validate_output", (PyCFunction)(void (*)(void))acmpy_validate_output, METH_FASTCALL,
     "_validate_output(operation, response) -> None\n--\n\nCheck a result against the "
     "operation's output model (the Stubber's responses); ParamValidationError if it does not "
     "fit."},
    {NULL, NULL, 0, NULL}};

static PyObject *intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

static int module_exec(PyObject *module)
{
    acmpy_state *st = acmpy_state_from_module(module);
    PyObject *impl;
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
    if (!(st->str_isEnabledFor = intern("isEnabledFor")) ||
        !(st->str_logging = intern("logging")) || !(st->str_debug = intern("debug")) ||
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
    /* types.SimpleNamespace is defined as this, and importing types costs more. */
    if (!(impl = PySys_GetObject("implementation"))) {
        PyErr_SetString(PyExc_ImportError, "acmpca: sys.implementation is missing");
        return -1;
    }
    st->simple_namespace = Py_NewRef((PyObject *)Py_TYPE(impl));
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
    Py_VISIT(st->NoRegionError);
    Py_VISIT(st->InvalidRegionError);
    Py_VISIT(st->ProfileNotFound);
    Py_VISIT(st->OperationNotPageableError);
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
    Py_CLEAR(st->NoRegionError);
    Py_CLEAR(st->InvalidRegionError);
    Py_CLEAR(st->ProfileNotFound);
    Py_CLEAR(st->OperationNotPageableError);
    for (i = 0; i < ACMPY_SERVICE_ERROR_COUNT; i++)
        Py_CLEAR(st->service_errors[i]);
    Py_CLEAR(st->exceptions);
    Py_CLEAR(st->logger);
    Py_CLEAR(st->simple_namespace);
    Py_CLEAR(st->debug_level);
    Py_CLEAR(st->str_isEnabledFor);
    Py_CLEAR(st->str_logging);
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
