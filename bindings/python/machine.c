/*
 * machine.c - acmpca._Machine: the core's call machine (acmpca/machine.h) for
 * drivers written in Python, such as acmpca.aio's asyncio driver.
 *
 * A machine is made by Client._machine(operation, **kwargs),
 * Waiter._machine(**kwargs), PageIterator._machine() or
 * Client._request_machine(ca_arn, **kwargs) (request_certificate's whole flow),
 * which convert and validate exactly as the blocking methods do (the same
 * ParamValidationError, before any step). next() says what to do as an acmpca._Step; response() and
 * transport_error() report what happened to a "send" step; result() gives
 * what the blocking method returns, or raises the exception it raises. The
 * machine decides retries, back-off, waiter delays and credential refreshes;
 * the driver only moves bytes and sleeps.
 *
 * A machine holds its Client (a page machine also its PageIterator, busy
 * meanwhile) and counts as a call in flight on it: Client.close() frees the
 * core client only once the machine is closed. Python drives a machine with
 * the GIL held and none of its calls blocks, except a credential_process run
 * when credentials come from a program.
 */
#include <stdio.h>
#include <string.h>

#include "acmpca_py.h"

enum {
    STR_SEND, STR_SLEEP, STR_DONE, STR_FAILED,
    STR_RATE_LIMIT, STR_ADAPTIVE, STR_BACKOFF, STR_WAITER, STR_CREDENTIALS, STR_SIGN
};
static const char *const step_strings[ACMPY_STEP_STRING_COUNT] = {
    "send", "sleep", "done", "failed",
    "rate_limit", "adaptive", "backoff", "waiter", "credentials", "sign"};

/* ---- acmpca._Step ------------------------------------------------------------ */

enum {
    F_KIND, F_METHOD, F_URL, F_SCHEME, F_HOST, F_PORT, F_PATH, F_HEADERS, F_BODY, F_HEAD,
    F_CONNECT_TIMEOUT, F_READ_TIMEOUT, F_DEADLINE, F_MAX_RESPONSE_BYTES, F_VERIFY, F_CA_BUNDLE,
    F_CREDENTIALS, F_NO_PROXY, F_ATTEMPT, F_SLEEP, F_REASON, F_WAITER, F_COUNT
};

static PyStructSequence_Field step_fields[] = {
    {"kind", "'send', 'sleep', 'done' or 'failed'; 'sign' after _stop_before_signing()"},
    {"method", "send, sign: the HTTP method"},
    {"url", "send, sign: the whole URL"},
    {"scheme", "send: 'https' or 'http'"},
    {"host", "send: the host to connect to and to name in TLS (SNI)"},
    {"port", "send: the port"},
    {"path", "send: path and query, as the request line wants them"},
    {"headers", "send: every header to send (signed), a list of (name, value); sign: the "
                "headers so far (with the last attempt's signature)"},
    {"body", "send, sign: the body, bytes"},
    {"head", "send: the HTTP/1.1 request line and headers (Host and Content-Length "
             "included), each line ending in CRLF; add any header of the driver's own, "
             "a blank line and the body"},
    {"connect_timeout", "send: seconds to connect and finish the TLS handshake"},
    {"read_timeout", "send: the longest silence, in seconds, while waiting for the answer"},
    {"deadline", "send: seconds left of the call's total_timeout, or None"},
    {"max_response_bytes", "send: report a bigger body as transport_error('too_large')"},
    {"verify", "send: False only when TLS verification is switched off"},
    {"ca_bundle", "send: the CA bundle path, or None for the system store"},
    {"credentials", "send: True when the request fetches credentials, not ACM PCA"},
    {"no_proxy", "send: True when the request must never go through a proxy"},
    {"attempt", "send, sign: the attempt (1 first); sleep: the attempt or poll that ended"},
    {"sleep", "sleep: seconds to wait before calling next() again"},
    {"reason", "sleep: 'rate_limit', 'adaptive', 'backoff', 'waiter' or 'credentials'"},
    {"waiter", "sleep: the waiter's name when reason is 'waiter'"},
    {NULL, NULL}};

static PyStructSequence_Desc step_desc = {
    "acmpca._Step",
    "What a call machine wants done next (see _Machine.next). Fields that do not apply "
    "to the kind are None.",
    step_fields, F_COUNT};

static PyObject *str_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *seconds(long ms)
{
    return PyFloat_FromDouble((double)ms / 1000.0);
}

/* The header block holds the signature and a session token: wiped before it is freed. */
static void wipe_free(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
    PyMem_Free(p);
}

/*
 * The request line and headers as HTTP/1.1 wants them: the signed headers,
 * Host when the request has none (credential endpoints are not signed), and
 * Content-Length. Header values never hold CR or LF: the core refuses them.
 */
static PyObject *request_head(const acmpca_step *s)
{
    const acmpca_http_request *r = s->request;
    const char *host_fmt = strchr(s->host, ':') ? "Host: [%s]" : "Host: %s";
    size_t cap = strlen(r->method) + strlen(s->path) + strlen(s->host) + 128, n, i;
    int have_host = 0, default_port;
    PyObject *out;
    char *buf;

    for (i = 0; i < r->header_count; i++) {
        cap += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 4;
        have_host |= PyOS_stricmp(r->headers[i].name, "Host") == 0;
    }
    if (!(buf = PyMem_Malloc(cap)))
        return PyErr_NoMemory();
    n = (size_t)snprintf(buf, cap, "%s %s HTTP/1.1\r\n", r->method, s->path);
    for (i = 0; i < r->header_count; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s: %s\r\n", r->headers[i].name,
                              r->headers[i].value);
    if (!have_host) {
        default_port = (strcmp(s->scheme, "https") == 0 && s->port == 443) ||
                       (strcmp(s->scheme, "http") == 0 && s->port == 80);
        n += (size_t)snprintf(buf + n, cap - n, host_fmt, s->host);
        if (!default_port)
            n += (size_t)snprintf(buf + n, cap - n, ":%d", s->port);
        n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf(buf + n, cap - n, "Content-Length: %zu\r\n", r->body_len);
    out = PyBytes_FromStringAndSize(buf, (Py_ssize_t)(n < cap ? n : cap - 1));
    wipe_free(buf, cap);
    return out;
}

static PyObject *request_headers(const acmpca_http_request *r)
{
    PyObject *list = PyList_New((Py_ssize_t)r->header_count);
    size_t i;
    for (i = 0; list && i < r->header_count; i++) {
        const char *name = r->headers[i].name, *value = r->headers[i].value;
        PyObject *pair = Py_BuildValue("(NN)",
                                       PyUnicode_DecodeLatin1(name, (Py_ssize_t)strlen(name), NULL),
                                       PyUnicode_DecodeLatin1(value, (Py_ssize_t)strlen(value),
                                                              NULL));
        if (!pair)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
    }
    return list;
}

/* ---- acmpca._Machine ------------------------------------------------------------ */

/* As the core decides which calls get a token: by the member's name. */
static int operation_has_token(const acmpca_operation_info *op)
{
    return op && op->input && acmpca_model_member(op->input, "IdempotencyToken") != NULL;
}

/*
 * The IdempotencyToken of the first request sent (the same on every attempt
 * of the call): what a caller needs to retry a cancelled issuance safely.
 */
static int capture_token(acmpy_machine *self, const acmpca_step *s)
{
    cJSON *doc;
    const cJSON *token;
    int rc = 0;

    if (self->token_seen || s->credentials)
        return 0;
    /* request_certificate's: its IssueCertificate's, after DescribeCertificateAuthority. */
    self->token_seen = self->kind != ACMPY_MACHINE_CERT;
    if (!operation_has_token(self->op) || !s->request->body)
        return 0;
    doc = cJSON_ParseWithLength(s->request->body, s->request->body_len);
    token = doc ? cJSON_GetObjectItemCaseSensitive(doc, "IdempotencyToken") : NULL;
    if (cJSON_IsString(token) && token->valuestring) {
        self->token_seen = 1;
        Py_XSETREF(self->token, PyUnicode_FromString(token->valuestring));
        rc = self->token ? 0 : -1;
    }
    cJSON_Delete(doc);
    return rc;
}

acmpy_machine *acmpy_machine_new(acmpy_state *st, acmpy_client *client, PyObject *pages,
                                 const acmpy_page_hooks *page_hooks,
                                 const acmpca_operation_info *op, int kind, acmpca_client **core)
{
    acmpy_machine *self;
    acmpca_client *c;

    if (!client) {
        PyErr_SetString(st->GeneralError, "the client is closed");
        return NULL;
    }
    if (!(c = acmpy_client_begin(client)))
        return NULL;
    if (!(self = PyObject_GC_New(acmpy_machine, st->machine_type))) {
        acmpy_client_end(client);
        return NULL;
    }
    self->m = NULL;
    self->client = (acmpy_client *)Py_NewRef(client);
    Py_XINCREF(pages);
    self->pages = pages;
    self->page_hooks = page_hooks;
    self->op = op;
    self->kind = kind;
    self->begun = 1;
    self->token_seen = 0;
    self->token = NULL;
    PyObject_GC_Track(self);
    *core = c;
    return self;
}

/* Free the core machine and stop counting as a call on the client; idempotent. */
static void machine_close_core(acmpy_machine *self)
{
    acmpca_machine_free(self->m);
    self->m = NULL;
    if (self->pages) {
        self->page_hooks->release(self->pages);
        Py_CLEAR(self->pages);
    }
    if (self->begun) {
        self->begun = 0;
        acmpy_client_end(self->client);
    }
}

static acmpca_machine *live(acmpy_machine *self)
{
    if (!self->m) {
        acmpy_state *st = PyType_GetModuleState(Py_TYPE(self));
        PyErr_SetString(st->GeneralError, "the machine is closed");
    }
    return self->m;
}

static PyObject *machine_next(PyObject *op, PyObject *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *step, *v;
    acmpca_step s;
    int i;

    (void)unused;
    if (!live(self))
        return NULL;
    acmpy_log_prepare(st);
    acmpca_machine_next(self->m, &s);
    if (!(step = PyStructSequence_New(st->step_type)))
        return NULL;
    for (i = 0; i < F_COUNT; i++)
        PyStructSequence_SET_ITEM(step, i, Py_NewRef(Py_None));

#define SET(field, expr)                                  \
    do {                                                  \
        if (!(v = (expr)))                                \
            goto fail;                                    \
        Py_DECREF(PyStructSequence_GetItem(step, field)); \
        PyStructSequence_SetItem(step, field, v);         \
    } while (0)

    switch (s.kind) {
    case ACMPCA_STEP_SEND:
        if (capture_token(self, &s) < 0)
            goto fail;
        SET(F_KIND, Py_NewRef(st->step_strings[STR_SEND]));
        SET(F_METHOD, str_or_none(s.request->method));
        SET(F_URL, str_or_none(s.request->url));
        SET(F_SCHEME, str_or_none(s.scheme));
        SET(F_HOST, str_or_none(s.host));
        SET(F_PORT, PyLong_FromLong(s.port));
        SET(F_PATH, str_or_none(s.path));
        SET(F_HEADERS, request_headers(s.request));
        SET(F_BODY, PyBytes_FromStringAndSize(s.request->body ? s.request->body : "",
                                              (Py_ssize_t)s.request->body_len));
        SET(F_HEAD, request_head(&s));
        SET(F_CONNECT_TIMEOUT, seconds(s.connect_timeout_ms));
        SET(F_READ_TIMEOUT, seconds(s.read_timeout_ms));
        if (s.deadline_ms > 0)
            SET(F_DEADLINE, seconds(s.deadline_ms));
        SET(F_MAX_RESPONSE_BYTES, PyLong_FromSize_t(s.max_response_bytes));
        SET(F_VERIFY, PyBool_FromLong(!s.insecure_skip_tls_verify));
        SET(F_CA_BUNDLE, str_or_none(s.ca_bundle));
        SET(F_CREDENTIALS, PyBool_FromLong(s.credentials));
        SET(F_NO_PROXY, PyBool_FromLong(s.no_proxy));
        SET(F_ATTEMPT, PyLong_FromLong(s.attempt));
        break;
    case ACMPCA_STEP_SLEEP:
        SET(F_KIND, Py_NewRef(st->step_strings[STR_SLEEP]));
        SET(F_ATTEMPT, PyLong_FromLong(s.attempt));
        SET(F_SLEEP, seconds(s.sleep_ms));
        if (s.sleep_reason >= ACMPCA_SLEEP_RATE_LIMIT && s.sleep_reason <= ACMPCA_SLEEP_CREDENTIALS)
            SET(F_REASON, Py_NewRef(st->step_strings[STR_RATE_LIMIT + s.sleep_reason -
                                                     ACMPCA_SLEEP_RATE_LIMIT]));
        if (s.sleep_reason == ACMPCA_SLEEP_WAITER) {
            SET(F_WAITER, str_or_none(s.waiter));
            acmpy_log_wait(s.waiter ? s.waiter : "", s.attempt, (double)s.sleep_ms / 1000.0);
        }
        break;
    case ACMPCA_STEP_SIGN:
        SET(F_KIND, Py_NewRef(st->step_strings[STR_SIGN]));
        SET(F_METHOD, str_or_none(s.request->method));
        SET(F_URL, str_or_none(s.request->url));
        SET(F_HEADERS, request_headers(s.request));
        SET(F_BODY, PyBytes_FromStringAndSize(s.request->body ? s.request->body : "",
                                              (Py_ssize_t)s.request->body_len));
        SET(F_ATTEMPT, PyLong_FromLong(s.attempt));
        break;
    case ACMPCA_STEP_DONE:
        SET(F_KIND, Py_NewRef(st->step_strings[STR_DONE]));
        break;
    case ACMPCA_STEP_FAILED:
    default:
        SET(F_KIND, Py_NewRef(st->step_strings[STR_FAILED]));
        break;
    }
#undef SET
    return step;
fail:
    Py_DECREF(step);
    return NULL;
}

/* A header name or value: str (as UTF-8) or bytes; borrowed, NUL-terminated. */
static const char *header_text(PyObject *v)
{
    if (PyUnicode_Check(v))
        return PyUnicode_AsUTF8(v);
    if (PyBytes_Check(v))
        return PyBytes_AS_STRING(v);
    PyErr_Format(PyExc_TypeError, "response headers: expected str or bytes, got %.100s",
                 Py_TYPE(v)->tp_name);
    return NULL;
}

static PyObject *machine_response(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *seq = NULL, *out = NULL;
    acmpca_header *headers = NULL;
    Py_buffer body = {0};
    Py_ssize_t i, n = 0;
    long long status;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "response(status, headers, body): 3 arguments");
        return NULL;
    }
    if (!live(self) ||
        acmpy_int_arg(PyExc_ValueError, args[0], "status", 100, 999, &status) < 0 ||
        !(seq = PySequence_Fast(args[1], "response headers: expected a list of (name, value)")) ||
        PyObject_GetBuffer(args[2], &body, PyBUF_SIMPLE) < 0)
        goto done;
    n = PySequence_Fast_GET_SIZE(seq);
    if (n > 0 && !(headers = PyMem_Calloc((size_t)n, sizeof(*headers)))) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "response headers: expected (name, value) tuples");
            goto done;
        }
        if (!(headers[i].name = header_text(PyTuple_GET_ITEM(pair, 0))) ||
            !(headers[i].value = header_text(PyTuple_GET_ITEM(pair, 1))))
            goto done;
    }
    /* Again: reading the headers may have run code that closed it. */
    if (!live(self))
        goto done;
    if (acmpca_machine_response(self->m, (int)status, headers, (size_t)n, body.buf,
                                (size_t)body.len) != 0) {
        acmpy_raise_last(st, NULL, NULL);
        goto done;
    }
    out = Py_NewRef(Py_None);
done:
    if (body.obj)
        PyBuffer_Release(&body);
    PyMem_Free(headers);
    Py_XDECREF(seq);
    return out;
}

static PyObject *machine_transport_error(PyObject *op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"kind", "status", "detail", NULL};
    static const struct {
        const char *name;
        int code;
    } kinds[] = {{"connect", ACMPCA_ECONNECT},           {"connect_timeout", ACMPCA_ECONNECT_TIMEOUT},
                 {"read_timeout", ACMPCA_EREAD_TIMEOUT}, {"tls", ACMPCA_ETLS},
                 {"network", ACMPCA_ENETWORK},           {"too_large", ACMPCA_ETOOLARGE}};
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *kind_obj, *status_obj = NULL, *detail_obj = NULL;
    const char *kind, *detail = NULL;
    long long status = 0;
    size_t i;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:transport_error", kwlist, &kind_obj,
                                     &status_obj, &detail_obj))
        return NULL;
    if (!live(self) || !(kind = acmpy_utf8(st, kind_obj, "kind")))
        return NULL;
    if (status_obj && status_obj != Py_None &&
        acmpy_int_arg(PyExc_ValueError, status_obj, "status", 0, 999, &status) < 0)
        return NULL;
    if (detail_obj && !(detail = acmpy_utf8_or_none(st, detail_obj, "detail")) &&
        PyErr_Occurred())
        return NULL;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kind, kinds[i].name) == 0)
            break;
    if (i == sizeof(kinds) / sizeof(kinds[0])) {
        PyErr_Format(PyExc_ValueError, "transport_error: unknown kind %R; expected 'connect', "
                     "'connect_timeout', 'read_timeout', 'tls', 'network' or 'too_large'",
                     kind_obj);
        return NULL;
    }
    if (acmpca_machine_transport_error(self->m, kinds[i].code, (int)status, detail) != 0)
        return acmpy_raise_last(st, NULL, NULL);
    Py_RETURN_NONE;
}

/* request_certificate's result as the blocking method returns it (PrivateKey None for a
 * given CSR); the key's copy in `out` wiped. */
static PyObject *certificate_result(acmpy_state *st, cJSON *out)
{
    PyObject *result = acmpy_from_json(st, out);
    cJSON *key = cJSON_GetObjectItemCaseSensitive(out, "PrivateKey");
    volatile char *p = cJSON_IsString(key) ? key->valuestring : NULL;

    while (p && *p)
        *p++ = 0;
    if (result && (!PyDict_Check(result) ||
                   (!PyDict_GetItemString(result, "PrivateKey") &&
                    PyDict_SetItemString(result, "PrivateKey", Py_None) < 0)))
        Py_CLEAR(result);
    return result;
}

static PyObject *machine_result(PyObject *op, PyObject *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    acmpca_response_meta *meta = NULL;
    const char *endpoint;
    cJSON *out = NULL;
    PyObject *result = NULL;

    (void)unused;
    if (!live(self))
        return NULL;
    /* The client is alive: this machine counts as a call on it. */
    endpoint = acmpca_client_endpoint(self->client->client);
    if (acmpca_machine_result(self->m, &out, &meta) != 0) {
        /* The machine restored its error on this thread, whatever ran in between. */
        if (self->kind == ACMPY_MACHINE_WAITER)
            acmpy_raise_last(st, self->op->name, endpoint);
        else
            acmpy_raise_last_meta(st, self->op->name, endpoint, meta);
    } else if (self->kind == ACMPY_MACHINE_PAGE) {
        result = self->page_hooks->page(self->pages, out, meta);
    } else if (self->kind == ACMPY_MACHINE_CERT) {
        result = certificate_result(st, out);
    } else {
        /* A waiter's: its last response (request_certificate wants the certificate). */
        result = acmpy_result_dict(st, out, meta);
    }
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    return result;
}

/*
 * A method, not a _Step field: a step's repr shows every field, and the URL
 * may hold the proxy's password.
 */
static PyObject *machine_proxy(PyObject *op, PyObject *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    const char *proxy = self->m ? acmpca_machine_proxy(self->m) : NULL;
    (void)unused;
    if (!proxy)
        Py_RETURN_NONE;
    return PyUnicode_FromString(proxy);
}

/* ---- for event hooks (acmpca._events through acmpca.aio) ---------------------------- */

static PyObject *machine_stop_before_signing(PyObject *op, PyObject *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    (void)unused;
    if (!live(self))
        return NULL;
    if (acmpca_machine_stop_before_signing(self->m) != 0)
        return acmpy_raise_last(st, self->op->name, NULL);
    Py_RETURN_NONE;
}

static PyObject *machine_set_header(PyObject *op, PyObject *args)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    PyObject *name_obj, *value_obj;
    const char *name, *value;

    if (!PyArg_ParseTuple(args, "OO:_set_header", &name_obj, &value_obj) || !live(self) ||
        !(name = acmpy_utf8(st, name_obj, "header name")) ||
        !(value = acmpy_utf8(st, value_obj, "header value")))
        return NULL;
    if (acmpca_machine_set_header(self->m, name, value) != 0)
        return acmpy_raise_as(st->ParamValidationError, "%s", acmpca_error_last()->message);
    Py_RETURN_NONE;
}

/* Valid right after next() returned a back-off sleep: the thread's last error is still the
 * failed attempt's (nothing called into the library in between). */
static PyObject *machine_attempt_error(PyObject *op, PyObject *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    acmpy_state *st = PyType_GetModuleState(Py_TYPE(op));
    (void)unused;
    if (!live(self))
        return NULL;
    return acmpy_error_taken(st, self->op->name, acmpca_client_endpoint(self->client->client),
                             NULL);
}

static PyObject *machine_close(PyObject *op, PyObject *unused)
{
    (void)unused;
    machine_close_core((acmpy_machine *)op);
    Py_RETURN_NONE;
}

static PyObject *machine_get_closed(PyObject *op, void *unused)
{
    (void)unused;
    return PyBool_FromLong(((acmpy_machine *)op)->m == NULL);
}

static PyObject *machine_get_token(PyObject *op, void *unused)
{
    acmpy_machine *self = (acmpy_machine *)op;
    (void)unused;
    return Py_NewRef(self->token ? self->token : Py_None);
}

static PyObject *machine_get_operation(PyObject *op, void *unused)
{
    (void)unused;
    return PyUnicode_FromString(((acmpy_machine *)op)->op->name);
}

static int machine_traverse(PyObject *op, visitproc visit, void *arg)
{
    acmpy_machine *self = (acmpy_machine *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->client);
    Py_VISIT(self->pages);
    return 0;
}

static int machine_clear(PyObject *op)
{
    acmpy_machine *self = (acmpy_machine *)op;
    machine_close_core(self);
    Py_CLEAR(self->client);
    return 0;
}

static void machine_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    machine_clear(op);
    Py_CLEAR(((acmpy_machine *)op)->token);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *machine_repr(PyObject *op)
{
    acmpy_machine *self = (acmpy_machine *)op;
    static const char *const kinds[] = {"call", "waiter", "page", "request_certificate"};
    return PyUnicode_FromFormat("<acmpca._Machine %s %s%s>", kinds[self->kind],
                                self->op->name, self->m ? "" : " closed");
}

static PyMethodDef machine_methods[] = {
    {"next", machine_next, METH_NOARGS,
     "next() -> _Step\n\nWhat to do next: 'send' the step's request and report the answer "
     "with\nresponse() or the failure with transport_error(); 'sleep' step.sleep seconds; "
     "'done' or\n'failed': call result()."},
    {"response", (PyCFunction)(void (*)(void))machine_response, METH_FASTCALL,
     "response(status, headers, body) -> None\n\nThe answer to the last 'send' step: the "
     "status code, a list of (name, value)\n(str or bytes, names in any case) and the body "
     "(bytes-like)."},
    {"transport_error", (PyCFunction)(void (*)(void))machine_transport_error,
     METH_VARARGS | METH_KEYWORDS,
     "transport_error(kind, status=0, detail=None) -> None\n\nThe last 'send' step got no "
     "complete answer. kind: 'connect', 'connect_timeout',\n'read_timeout', 'tls', "
     "'network' or 'too_large'; status: the status line's code if\none arrived; detail: "
     "text for the error message. The machine decides whether to retry."},
    {"result", machine_result, METH_NOARGS,
     "result() -> dict | None\n\nAfter 'done': what the blocking method returns (a call's "
     "dict with\nResponseMetadata; a waiter's last response; a page, or None past the last "
     "one).\nAfter 'failed': raises what the blocking method raises."},
    {"proxy", machine_proxy, METH_NOARGS,
     "proxy() -> str | None\n\nThe client's explicit proxy (Config(proxies=...)) for the last "
     "'send' step,\nNone when it has none or the step must not use one (step.no_proxy); "
     "NO_PROXY\nstill applies. The URL may hold a password: never show it."},
    {"close", machine_close, METH_NOARGS,
     "close() -> None\n\nFree the machine (nothing is sent); idempotent."},
    {"_stop_before_signing", machine_stop_before_signing, METH_NOARGS,
     "_stop_before_signing() -> None\n\nFrom now on next() returns a 'sign' step before each "
     "signature (every\nattempt, a clock-skew retry too): add headers with _set_header(), then "
     "call next()."},
    {"_set_header", machine_set_header, METH_VARARGS,
     "_set_header(name, value) -> None\n\nAdd a header to this request and the later attempts "
     "(signed from the next\nsignature on). ParamValidationError for a header the signer "
     "owns or a value with CR or LF."},
    {"_attempt_error", machine_attempt_error, METH_NOARGS,
     "_attempt_error() -> exception\n\nRight after next() returned a 'backoff' sleep: the "
     "exception of the attempt\nthat failed (not raised)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef machine_getset[] = {
    {"closed", machine_get_closed, NULL, "True once close() was called.", NULL},
    {"idempotency_token", machine_get_token, NULL,
     "The IdempotencyToken of the request sent (the same on every attempt), or None before "
     "the first 'send' step and for operations without one.", NULL},
    {"operation_name", machine_get_operation, NULL, "The API operation, e.g. 'GetCertificate'.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot machine_slots[] = {
    {Py_tp_dealloc, machine_dealloc},
    {Py_tp_traverse, machine_traverse},
    {Py_tp_clear, machine_clear},
    {Py_tp_repr, machine_repr},
    {Py_tp_methods, machine_methods},
    {Py_tp_getset, machine_getset},
    {Py_tp_doc, (void *)"A call machine: one call, waiter run or page, for a driver of your "
                        "own (acmpca.aio is one).\nMade by Client._machine(operation, "
                        "**kwargs), Waiter._machine(**kwargs) or\nPageIterator._machine()."},
    {0, NULL}};

static PyType_Spec machine_spec = {"acmpca._Machine", sizeof(acmpy_machine), 0,
                                   Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                                       Py_TPFLAGS_HAVE_GC,
                                   machine_slots};

int acmpy_machine_setup(PyObject *module, acmpy_state *st)
{
    size_t i;

    for (i = 0; i < ACMPY_STEP_STRING_COUNT; i++)
        if (!(st->step_strings[i] = PyUnicode_InternFromString(step_strings[i])))
            return -1;
    st->machine_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &machine_spec, NULL);
    if (!st->machine_type)
        return -1;
    ACMPY_DISALLOW_NEW(st->machine_type);
    if (!(st->step_type = PyStructSequence_NewType(&step_desc)))
        return -1;
    if (PyModule_AddObjectRef(module, "_Machine", (PyObject *)st->machine_type) < 0 ||
        PyModule_AddObjectRef(module, "_Step", (PyObject *)st->step_type) < 0)
        return -1;
    return 0;
}
