/*
 * sign.c - acmpca.sign_request(): the core's public SigV4 signer
 * (acmpca/sign.h), for signing requests the client does not send itself.
 */
#include <string.h>
#include <time.h>

#include "acmpca_py.h"

/* 9999-12-31T23:59:59Z, the last second X-Amz-Date can write. */
#define MAX_TIMESTAMP 253402300799.0

/*
 * A header name (`name` NULL) or the value of header `name`, as UTF-8 without
 * CR, LF or NUL: the signed headers go on the wire as they are, so one with a
 * line break would smuggle in a header the signature never covered.
 */
static int header_text(acmpy_state *st, PyObject *v, PyObject *name, const char **out)
{
    Py_ssize_t len;
    const char *s;

    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "headers: expected str names and values, got %.100s",
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    if (!(s = PyUnicode_AsUTF8AndSize(v, &len)))
        return -1;
    if (memchr(s, '\r', (size_t)len) || memchr(s, '\n', (size_t)len) ||
        memchr(s, '\0', (size_t)len)) {
        if (name)
            acmpy_raise_param(st, "headers[%R]: the value must not contain CR, LF or NUL", name);
        else
            acmpy_raise_param(st, "headers: the name %R must not contain CR, LF or NUL", v);
        return -1;
    }
    *out = s;
    return 0;
}

/* Headers from a mapping or an iterable of (name, value) pairs. */
static int read_headers(acmpy_state *st, PyObject *v, acmpca_header **out, size_t *count,
                        PyObject **keep)
{
    PyObject *items;
    Py_ssize_t i, n;

    *out = NULL;
    *count = 0;
    *keep = NULL;
    if (!v || v == Py_None)
        return 0;
    if (PyDict_Check(v))
        items = PyDict_Items(v);
    else if (PyMapping_Check(v) && PyObject_HasAttrString(v, "items"))
        items = PyMapping_Items(v);
    else
        items = PySequence_List(v);
    if (!items)
        return -1;
    *keep = items;
    n = PyList_GET_SIZE(items);
    if (n == 0)
        return 0;
    if (!(*out = PyMem_Calloc((size_t)n, sizeof(**out)))) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError,
                            "headers: expected a dict or a list of (name, value) pairs");
            return -1;
        }
        if (header_text(st, PyTuple_GET_ITEM(pair, 0), NULL, &(*out)[i].name) < 0 ||
            header_text(st, PyTuple_GET_ITEM(pair, 1), PyTuple_GET_ITEM(pair, 0),
                        &(*out)[i].value) < 0)
            return -1;
    }
    *count = (size_t)n;
    return 0;
}

static PyObject *sign_request(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"method", "url", "headers", "body", "region", "service",
                             "access_key", "secret_key", "session_token", "timestamp", NULL};
    acmpy_state *st = acmpy_state_from_module(module);
    PyObject *method, *url, *headers = NULL, *body = Py_None, *region = NULL, *service = NULL;
    PyObject *akid = NULL, *secret = NULL;
    PyObject *token = NULL, *ts = NULL, *keep = NULL, *out = NULL;
    acmpca_header *hdrs = NULL;
    acmpca_signed *sig = NULL;
    acmpca_sign_input in;
    Py_buffer view;
    int have_view = 0, rc;
    double when;
    size_t i;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO|$OOOOOO:sign_request", kwlist, &method,
                                     &url, &headers, &body, &region, &service, &akid, &secret,
                                     &token, &ts))
        return NULL;
    /* Required keyword-only arguments, which PyArg_Parse* cannot express. */
    for (i = 4; i < 8; i++) {
        PyObject *given[] = {region, service, akid, secret};
        if (!given[i - 4]) {
            PyErr_Format(PyExc_TypeError,
                         "sign_request() missing required keyword-only argument: '%s'", kwlist[i]);
            return NULL;
        }
    }
    memset(&in, 0, sizeof(in));
    if (!(in.method = acmpy_utf8(st, method, "method")) ||
        !(in.url = acmpy_utf8(st, url, "url")) ||
        !(in.region = acmpy_utf8(st, region, "region")) ||
        !(in.service = acmpy_utf8(st, service, "service")) ||
        !(in.access_key_id = acmpy_utf8(st, akid, "access_key")) ||
        !(in.secret_access_key = acmpy_utf8(st, secret, "secret_key")))
        return NULL;
    in.session_token = acmpy_utf8_or_none(st, token, "session_token");
    if (!in.session_token && PyErr_Occurred())
        return NULL;
    if (!ts || ts == Py_None) {
        in.timestamp = (int64_t)time(NULL);
    } else {
        if (acmpy_epoch_from_object(st, ts, "timestamp", &when) < 0)
            return NULL;
        /* X-Amz-Date has four year digits; past them (or NaN) the cast is undefined.
         * 0 is the core's "no timestamp". */
        if (!(when >= 1 && when < MAX_TIMESTAMP + 1)) {
            PyObject *got = acmpy_shown(ts);
            if (got)
                acmpy_raise_param(st, "timestamp: expected a time from 1970 to 9999 (seconds "
                                  "since the epoch from 1 to %lld), got %U",
                                  (long long)MAX_TIMESTAMP, got);
            Py_XDECREF(got);
            return NULL;
        }
        in.timestamp = (int64_t)when;
    }
    if (read_headers(st, headers, &hdrs, &in.header_count, &keep) < 0)
        goto done;
    in.headers = hdrs;
    if (body != Py_None) {
        if (PyUnicode_Check(body)) {
            Py_ssize_t len;
            const char *s = PyUnicode_AsUTF8AndSize(body, &len);
            if (!s || PyBuffer_FillInfo(&view, body, (void *)s, len, 1, PyBUF_SIMPLE) < 0)
                goto done;
        } else if (PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) {
            goto done;
        }
        have_view = 1;
        in.body = view.buf;
        in.body_len = (size_t)view.len;
    } else {
        in.body = "";
    }
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_sign(&sig, &in, NULL);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        acmpy_raise_last(st, NULL, NULL);
        goto done;
    }
    if (!(out = PyDict_New()))
        goto done;
    for (i = 0; i < sig->header_count; i++) {
        PyObject *v = PyUnicode_FromString(sig->headers[i].value);
        if (!v || PyDict_SetItemString(out, sig->headers[i].name, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(out);
            goto done;
        }
        Py_DECREF(v);
    }
done:
    acmpca_signed_free(sig);
    if (have_view)
        PyBuffer_Release(&view);
    PyMem_Free(hdrs);
    Py_XDECREF(keep);
    return out;
}

PyMethodDef acmpy_sign_functions[] = {
    {"sign_request", (PyCFunction)(void (*)(void))sign_request, METH_VARARGS | METH_KEYWORDS,
     "sign_request(method, url, headers, body, *, region, service, access_key,\n"
     "             secret_key, session_token=None, timestamp=None) -> dict\n\n"
     "Sign any HTTP request with AWS Signature Version 4 and return the headers to add\n"
     "(Host when absent, X-Amz-Date, X-Amz-Security-Token, Authorization). `headers` is a\n"
     "dict or a list of (name, value) pairs, `body` bytes, str or None, `timestamp` a\n"
     "datetime or seconds since the epoch (default: now)."},
    {NULL, NULL, 0, NULL}};
