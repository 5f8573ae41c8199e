/*
 * module.c - the acmpca._acmpca module, the top layer of the binding:
 * multi-phase init (the module state, the exception classes, every type set
 * up by its own file), and the module functions _model() and _endpoints().
 * Raising lives below: base.c (our messages) and errors.c (the core's errors).
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
#include <stdio.h>
#include <string.h>

#include "acmpca_py.h"

/* ---- exception classes ---------------------------------------------------- */

/*
 * ClientError(error_response, operation_name), as botocore's: the message is
 * "An error occurred (Code) when calling the Op operation: Message".
 */
static PyObject *client_error_init(PyObject *unused, PyObject *args)
{
    PyObject *self, *response, *operation, *code, *message, *status, *rid, *retries, *maxed;
    PyObject *msg = NULL, *margs = NULL;
    long attempts = 0;
    int reached = 0;

    (void)unused;
    if (!PyArg_ParseTuple(args, "OOO:ClientError", &self, &response, &operation))
        return NULL;
    code = acmpy_dict_get_path(response, "Error", "Code");
    message = acmpy_dict_get_path(response, "Error", "Message");
    status = acmpy_dict_get_path(response, "ResponseMetadata", "HTTPStatusCode");
    rid = acmpy_dict_get_path(response, "ResponseMetadata", "RequestId");
    retries = acmpy_dict_get_path(response, "ResponseMetadata", "RetryAttempts");
    maxed = acmpy_dict_get_path(response, "ResponseMetadata", "MaxAttemptsReached");
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

/* ---- _endpoints(): the partitions and where acm-pca is offered (acmpca.Session) ----- */

static PyObject *module_endpoints(PyObject *module, PyObject *unused)
{
    PyObject *partitions = PyList_New(0), *regions = NULL, *out = NULL, *v;
    const acmpca_region_info *r = acmpca_endpoint_regions(NULL);
    size_t i, n = 0;
    const char *name;

    (void)module;
    (void)unused;
    if (!partitions)
        return NULL;
    for (i = 0; (name = acmpca_endpoint_partition(i)) != NULL; i++) {
        if (!(v = PyUnicode_FromString(name)) || PyList_Append(partitions, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    r = acmpca_endpoint_regions(&n);
    if (!(regions = PyList_New((Py_ssize_t)n)))
        goto fail;
    for (i = 0; i < n; i++) {
        if (!(v = Py_BuildValue("(ssO)", r[i].partition, r[i].region,
                                r[i].non_regional ? Py_True : Py_False)))
            goto fail;
        PyList_SET_ITEM(regions, (Py_ssize_t)i, v);
    }
    out = PyTuple_Pack(2, partitions, regions);
fail:
    Py_DECREF(partitions);
    Py_XDECREF(regions);
    return out;
}

/* ---- module ---------------------------------------------------------------------- */

/*
 * _validate_output(operation, response): a result as a caller builds one (a
 * Stubber's response) checked against the operation's output shape by the
 * core, with its paths; ParamValidationError when it does not fit.
 */
static PyObject *module_validate_output(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    acmpy_state *st = acmpy_state_from_module(module);
    const acmpca_operation_info *op;
    const char *name;
    cJSON *json;
    int rc;

    if (nargs != 2)
        return PyErr_Format(PyExc_TypeError, "_validate_output(operation, response): "
                            "expected 2 arguments, got %zd", nargs);
    if (!(name = acmpy_utf8(st, args[0], "operation")))
        return NULL;
    if (!(op = acmpca_model_operation_find(name)))
        return acmpy_raise_param(st, "operation: unknown operation %R", args[0]);
    if (acmpy_to_json(st, args[1], &json) < 0)
        return NULL;
    rc = acmpca_output_validate(op, json);
    cJSON_Delete(json);
    if (rc != 0)
        return acmpy_raise_last(st, op->name, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef module_functions[] = {
    {"_model", module_model, METH_NOARGS,
     "_model() -> dict\n--\n\nThe core's API model as Python data: operations, shapes, waiters and "
     "paginators. For tools and tests; not a stable API."},
    {"_endpoints", module_endpoints, METH_NOARGS,
     "_endpoints() -> (partitions, [(partition, region, non_regional), ...])\n--\n\nThe "
     "core's partitions and where acm-pca is offered (acmpca.Session)."},
    {"_validate_output", (PyCFunction)(void (*)(void))module_validate_output, METH_FASTCALL,
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
    if (!(st->metadata_model = Py_BuildValue("{OsOiOOOi}", st->str_RequestId, "",
                                             st->str_HTTPStatusCode, 200, st->str_HTTPHeaders,
                                             Py_None, st->str_RetryAttempts, 0)))
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
    Py_CLEAR(st->metadata_model);
    Py_CLEAR(st->last_headers);
    PyMem_Free(st->last_header_text);
    st->last_header_text = NULL;
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

static const char module_doc[] =
    "The C extension behind the acmpca package: an AWS Private CA client on the acmpca C\n"
    "core. Import `acmpca`, not this module.";

PyMODINIT_FUNC PyInit__acmpca(void)
{
    /* The def itself lives in base.c, where the types look the module up by it. */
    acmpy_module_def.m_doc = module_doc;
    acmpy_module_def.m_methods = module_functions;
    acmpy_module_def.m_slots = module_slots;
    acmpy_module_def.m_traverse = module_traverse;
    acmpy_module_def.m_clear = module_clear;
    acmpy_module_def.m_free = module_free;
    return PyModuleDef_Init(&acmpy_module_def);
}
