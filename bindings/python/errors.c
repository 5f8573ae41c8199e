/*
 * errors.c - the core's errors as Python exceptions: the class the core
 * names for each code (service errors by their AWS code), with botocore's
 * constructor arguments, response and attributes. Above convert.c (a
 * service error's ResponseMetadata), below every file that calls the core.
 */
#include <string.h>

#include "acmpca_py.h"

/* ---- raising ------------------------------------------------------------------ */

/* The class for a client-side code: the core names it, the same in every binding. */
static PyObject *class_for(acmpy_state *st, int code)
{
    const struct { const char *name; PyObject *cls; } classes[] = {
        {"ParamValidationError", st->ParamValidationError},
        {"NoCredentialsError", st->NoCredentialsError},
        {"CredentialRetrievalError", st->CredentialRetrievalError},
        {"InvalidConfigError", st->InvalidConfigError},
        {"NoRegionError", st->NoRegionError},
        {"InvalidRegionError", st->InvalidRegionError},
        {"ProfileNotFound", st->ProfileNotFound},
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
        PyDict_SetItemString(response, "message", acmpy_dict_get_path(response, "Error", "Message")) < 0)
        Py_CLEAR(response);
    op = PyUnicode_FromString(operation ? operation : "");
    if (response && op && (cls = acmpy_error_class(cls))) {
        exc = PyObject_CallFunctionObjArgs(cls, response, op, NULL);
        Py_DECREF(cls);
    }
    if (exc && (acmpy_set_attr(exc, "retryable", PyBool_FromLong(e->retryable)) < 0 ||
                acmpy_set_attr(exc, "attempts", PyLong_FromLong(e->attempts)) < 0))
        Py_CLEAR(exc);
    if (exc)
        acmpy_set_raised(exc);
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
static PyObject *botocore_kwargs(acmpy_state *st, const acmpca_error *e, PyObject *cls,
                                 PyObject *msg, const char *endpoint)
{
    /* The value these are about comes from the core as data, never from the message. */
    if (PyObject_IsSubclass(cls, st->InvalidRegionError) == 1)
        return Py_BuildValue("{sN}", "region_name", text(e->subject));
    if (PyObject_IsSubclass(cls, st->ProfileNotFound) == 1)
        return Py_BuildValue("{sN}", "profile", text(e->subject));
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
     * A waiter stopped by its progress hook (base.c) because a signal
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
    if (exc && !waiter && acmpy_set_attr(exc, "kwargs", botocore_kwargs(st, e, cls, msg, endpoint)) < 0)
        Py_CLEAR(exc);
    if (exc && (PyObject_SetAttrString(exc, "message", msg) < 0 ||
                acmpy_set_attr(exc, "code", str_or_none(e->aws_code)) < 0 ||
                acmpy_set_attr(exc, "operation_name", str_or_none(op)) < 0 ||
                (e->http_status &&
                 acmpy_set_attr(exc, "http_status", PyLong_FromLong(e->http_status)) < 0) ||
                acmpy_set_attr(exc, "request_id", str_or_none(e->request_id)) < 0 ||
                acmpy_set_attr(exc, "retryable", PyBool_FromLong(e->retryable)) < 0 ||
                acmpy_set_attr(exc, "attempts", PyLong_FromLong(e->attempts)) < 0))
        Py_CLEAR(exc);
    if (exc && endpoint && PyObject_IsSubclass(cls, st->EndpointConnectionError) == 1 &&
        acmpy_set_attr(exc, "endpoint_url", PyUnicode_FromString(endpoint)) < 0)
        Py_CLEAR(exc);
    if (exc && waiter && acmpy_set_attr(exc, "state", str_or_none(e->waiter_state)) < 0)
        Py_CLEAR(exc);
    if (exc)
        acmpy_set_raised(exc);
    Py_XDECREF(exc);
    Py_DECREF(msg);
    Py_DECREF(cls);
    return NULL;
}

PyObject *acmpy_error_taken(acmpy_state *st, const char *operation, const char *endpoint,
                           const acmpca_response_meta *meta)
{
    PyObject *type, *value, *tb;
    acmpy_raise_last_meta(st, operation, endpoint, meta);
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}
