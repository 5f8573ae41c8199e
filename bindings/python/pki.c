/*
 * pki.c - acmpca.generate_key, make_csr, normalize_csr, normalize_serial,
 * parse_certificate (acmpca/pki.h) and client.request_certificate, the
 * key + CSR + IssueCertificate + waiter + GetCertificate round trip.
 */
#include <string.h>

#include "acmpca_py.h"

static acmpy_state *module_state(PyObject *module)
{
    return acmpy_state_from_module(module);
}

/* A str result from a caller-owned C string of the core (freed here). */
static PyObject *take_string(char *s)
{
    PyObject *out = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
    acmpca_free(s);
    return out;
}

/* str, bytes or bytes-like: a borrowed view of the data (release with PyBuffer_Release). */
static int data_view(PyObject *v, Py_buffer *view, const char *what)
{
    if (PyUnicode_Check(v)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(v, &len);
        if (!s)
            return -1;
        return PyBuffer_FillInfo(view, v, (void *)s, len, 1, PyBUF_SIMPLE);
    }
    if (PyObject_CheckBuffer(v))
        return PyObject_GetBuffer(v, view, PyBUF_SIMPLE);
    PyErr_Format(PyExc_TypeError, "%s: expected bytes or str, got %.100s", what,
                 Py_TYPE(v)->tp_name);
    return -1;
}

/* PEM text from str or bytes, NUL-free; a new bytes object (NULL with an error set). */
static PyObject *pem_text(acmpy_state *st, PyObject *v, const char *what)
{
    Py_buffer view;
    PyObject *out;
    if (data_view(v, &view, what) < 0)
        return NULL;
    if (memchr(view.buf, 0, (size_t)view.len)) {
        PyBuffer_Release(&view);
        acmpy_raise_param(st, "%s: expected PEM text, got data with NUL bytes", what);
        return NULL;
    }
    out = PyBytes_FromStringAndSize(view.buf, view.len);
    PyBuffer_Release(&view);
    return out;
}

/* A sequence of str as a PyMem array of borrowed UTF-8 pointers; *keep holds the sequence. */
static int string_list(acmpy_state *st, PyObject *v, const char *what, const char ***out,
                       size_t *count, PyObject **keep)
{
    PyObject *seq;
    Py_ssize_t i, n;
    *out = NULL;
    *count = 0;
    *keep = NULL;
    if (!v || v == Py_None)
        return 0;
    if (PyUnicode_Check(v) || PyBytes_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a list of str, got a single %.50s", what,
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    if (!(seq = PySequence_Fast(v, "expected a list of str")))
        return -1;
    /* The caller's own list is copied: another thread may change it while the core reads. */
    *keep = seq == v && PyList_Check(v) ? PyList_GetSlice(v, 0, PY_SSIZE_T_MAX) : Py_NewRef(seq);
    Py_DECREF(seq);
    if (!*keep)
        return -1;
    n = PySequence_Fast_GET_SIZE(*keep);
    if (n == 0)
        return 0;
    if (!(*out = PyMem_Calloc((size_t)n, sizeof(char *)))) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!((*out)[i] = acmpy_utf8(st, PySequence_Fast_GET_ITEM(*keep, i), what)))
            return -1;
    }
    *count = (size_t)n;
    return 0;
}

/* ---- subject fields shared by make_csr and request_certificate ------------------ */

typedef struct subject_args {
    PyObject *common_name, *organization, *organizational_unit, *country, *state, *locality;
    PyObject *dns_names, *ip_addresses, *emails, *uris;
    PyObject *keep[4];
    const char **lists[4];
} subject_args;

static void subject_release(subject_args *s)
{
    int i;
    for (i = 0; i < 4; i++) {
        Py_CLEAR(s->keep[i]);
        PyMem_Free((void *)s->lists[i]);
        s->lists[i] = NULL;
    }
}

static int subject_fill(acmpy_state *st, subject_args *s, acmpca_csr_options *o)
{
    if ((s->common_name && s->common_name != Py_None &&
         !(o->common_name = acmpy_utf8(st, s->common_name, "common_name"))) ||
        (s->organization && s->organization != Py_None &&
         !(o->organization = acmpy_utf8(st, s->organization, "organization"))) ||
        (s->organizational_unit && s->organizational_unit != Py_None &&
         !(o->organizational_unit = acmpy_utf8(st, s->organizational_unit,
                                               "organizational_unit"))) ||
        (s->country && s->country != Py_None &&
         !(o->country = acmpy_utf8(st, s->country, "country"))) ||
        (s->state && s->state != Py_None && !(o->state = acmpy_utf8(st, s->state, "state"))) ||
        (s->locality && s->locality != Py_None &&
         !(o->locality = acmpy_utf8(st, s->locality, "locality"))))
        return -1;
    if (string_list(st, s->dns_names, "dns_names", &s->lists[0], &o->dns_count, &s->keep[0]) ||
        string_list(st, s->ip_addresses, "ip_addresses", &s->lists[1], &o->ip_count,
                    &s->keep[1]) ||
        string_list(st, s->emails, "emails", &s->lists[2], &o->email_count, &s->keep[2]) ||
        string_list(st, s->uris, "uris", &s->lists[3], &o->uri_count, &s->keep[3]))
        return -1;
    o->dns_names = s->lists[0];
    o->ip_addresses = s->lists[1];
    o->emails = s->lists[2];
    o->uris = s->lists[3];
    return 0;
}

/* ---- module functions ------------------------------------------------------------ */

static PyObject *pki_generate_key(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"key_type", NULL};
    acmpy_state *st = module_state(module);
    PyObject *type_obj = NULL;
    const char *key_type = "EC_prime256v1";
    char *pem = NULL;
    int rc;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:generate_key", kwlist, &type_obj))
        return NULL;
    if (type_obj && type_obj != Py_None && !(key_type = acmpy_utf8(st, type_obj, "key_type")))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_pki_generate_key(&pem, key_type);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return acmpy_raise_last(st, NULL, NULL);
    return take_string(pem);
}

static PyObject *pki_make_csr(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"private_key", "common_name", "organization",
                             "organizational_unit", "country", "state", "locality",
                             "dns_names", "ip_addresses", "emails", "uris", NULL};
    acmpy_state *st = module_state(module);
    acmpca_csr_options o;
    subject_args s;
    PyObject *key_obj, *key = NULL, *out = NULL;
    char *pem = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&s, 0, sizeof(s));
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOOOOOOOO:make_csr", kwlist, &key_obj,
                                     &s.common_name, &s.organization, &s.organizational_unit,
                                     &s.country, &s.state, &s.locality, &s.dns_names,
                                     &s.ip_addresses, &s.emails, &s.uris))
        return NULL;
    if (!(key = pem_text(st, key_obj, "private_key")) || subject_fill(st, &s, &o) < 0)
        goto done;
    o.private_key_pem = PyBytes_AS_STRING(key);
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_pki_make_csr(&pem, &o);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        acmpy_raise_last(st, NULL, NULL);
    else
        out = take_string(pem);
done:
    subject_release(&s);
    Py_XDECREF(key);
    return out;
}

static PyObject *normalize_csr(acmpy_state *st, PyObject *data)
{
    Py_buffer view;
    char *pem = NULL;
    int rc;

    if (data_view(data, &view, "csr") < 0)
        return NULL;
    rc = acmpca_pki_normalize_csr(&pem, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (rc != 0)
        return acmpy_raise_last(st, NULL, NULL);
    return take_string(pem);
}

static PyObject *pki_normalize_csr(PyObject *module, PyObject *data)
{
    return normalize_csr(module_state(module), data);
}

static PyObject *pki_normalize_serial(PyObject *module, PyObject *value)
{
    acmpy_state *st = module_state(module);
    PyObject *text;
    char *out = NULL;
    int rc;

    if (!(text = pem_text(st, value, "serial")))
        return NULL;
    rc = acmpca_pki_normalize_serial(&out, PyBytes_AS_STRING(text));
    Py_DECREF(text);
    if (rc != 0)
        return acmpy_raise_last(st, NULL, NULL);
    return take_string(out);
}

static int epoch_to_datetime(PyObject *d, const char *key)
{
    PyObject *v = PyDict_GetItemString(d, key), *dt;
    int rc;
    if (!v || !(PyLong_Check(v) || PyFloat_Check(v)))
        return 0;
    if (!(dt = acmpy_datetime_from_epoch(PyFloat_AsDouble(v))))
        return -1;
    rc = PyDict_SetItemString(d, key, dt);
    Py_DECREF(dt);
    return rc;
}

static PyObject *pki_parse_certificate(PyObject *module, PyObject *pem_obj)
{
    acmpy_state *st = module_state(module);
    PyObject *pem, *out;
    cJSON *doc = NULL;
    int rc;

    if (!(pem = pem_text(st, pem_obj, "pem")))
        return NULL;
    rc = acmpca_pki_parse_certificate(&doc, PyBytes_AS_STRING(pem));
    Py_DECREF(pem);
    if (rc != 0)
        return acmpy_raise_last(st, NULL, NULL);
    out = acmpy_from_json(st, doc);
    cJSON_Delete(doc);
    if (out && (epoch_to_datetime(out, "NotBefore") < 0 || epoch_to_datetime(out, "NotAfter") < 0))
        Py_CLEAR(out);
    return out;
}

static PyObject *pki_request_plan(PyObject *module, PyObject *args, PyObject *kwargs);

PyMethodDef acmpy_pki_functions[] = {
    {"generate_key", (PyCFunction)(void (*)(void))pki_generate_key, METH_VARARGS | METH_KEYWORDS,
     "generate_key(key_type='EC_prime256v1') -> str\n\n"
     "A new private key as PKCS#8 PEM. key_type: RSA_2048, RSA_3072, RSA_4096,\n"
     "EC_prime256v1, EC_secp384r1, EC_secp521r1 or ED25519 (or rsa2048, p256, ed25519, ...)."},
    {"make_csr", (PyCFunction)(void (*)(void))pki_make_csr, METH_VARARGS | METH_KEYWORDS,
     "make_csr(private_key, *, common_name=None, organization=None,\n"
     "         organizational_unit=None, country=None, state=None, locality=None,\n"
     "         dns_names=(), ip_addresses=(), emails=(), uris=()) -> str\n\n"
     "A PEM certificate signing request signed with private_key (PEM), with the given\n"
     "subject and subjectAltName entries."},
    {"normalize_csr", pki_normalize_csr, METH_O,
     "normalize_csr(csr) -> str\n\n"
     "Any reasonable CSR (PEM, old 'NEW CERTIFICATE REQUEST' PEM, DER bytes, bare base64)\n"
     "as the PEM the service accepts. Raises ParamValidationError when it is not a CSR."},
    {"normalize_serial", pki_normalize_serial, METH_O,
     "normalize_serial(value) -> str\n\n"
     "A certificate serial as RevokeCertificate wants it ('79:3f:0d'), from a certificate\n"
     "ARN, hex with or without colons (or 0x), or a PEM certificate."},
    {"parse_certificate", pki_parse_certificate, METH_O,
     "parse_certificate(pem) -> dict\n\n"
     "Subject, Issuer, Serial, NotBefore and NotAfter (aware datetimes),\n"
     "SubjectAlternativeNames [{'Type', 'Value'}], IsCA and KeyAlgorithm of a PEM certificate."},
    {"_request_plan", (PyCFunction)(void (*)(void))pki_request_plan, METH_VARARGS | METH_KEYWORDS,
     "_request_plan(certificate_authority_arn, **kwargs) -> dict\n\nrequest_certificate()'s "
     "arguments checked and its key and CSR made, for acmpca.aio. Not a stable API."},
    {NULL, NULL, 0, NULL}};

/* ---- client.request_certificate ------------------------------------------------------ */

static PyObject *str_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/*
 * request_certificate()'s arguments, parsed and checked once for the blocking
 * client and for acmpca.aio (_request_plan): into `r`, borrowing from `s`
 * and *csr_pem (release both).
 */
static int request_args(acmpy_state *st, PyObject *args, PyObject *kwargs,
                        acmpca_certificate_request *r, subject_args *s, PyObject **csr_pem)
{
    static char *kwlist[] = {"certificate_authority_arn", "csr", "key_type", "common_name",
                             "organization", "organizational_unit", "country", "state",
                             "locality", "dns_names", "ip_addresses", "emails", "uris",
                             "signing_algorithm", "template_arn", "validity_days",
                             "wait_delay", "wait_max_attempts", NULL};
    PyObject *arn, *csr_obj = NULL, *key_type = NULL, *alg = NULL, *tmpl = NULL;
    PyObject *days = NULL, *delay = NULL, *attempts = NULL;
    long long n;

    memset(r, 0, sizeof(*r));
    memset(s, 0, sizeof(*s));
    *csr_pem = NULL;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "O|$OOOOOOOOOOOOOOOOO:request_certificate", kwlist, &arn, &csr_obj,
            &key_type, &s->common_name, &s->organization, &s->organizational_unit, &s->country,
            &s->state, &s->locality, &s->dns_names, &s->ip_addresses, &s->emails, &s->uris, &alg,
            &tmpl, &days, &delay, &attempts))
        return -1;
    if (!(r->certificate_authority_arn = acmpy_utf8(st, arn, "certificate_authority_arn")) ||
        (key_type && key_type != Py_None && !(r->key_type = acmpy_utf8(st, key_type, "key_type"))) ||
        (alg && alg != Py_None && !(r->signing_algorithm = acmpy_utf8(st, alg, "signing_algorithm"))) ||
        (tmpl && tmpl != Py_None && !(r->template_arn = acmpy_utf8(st, tmpl, "template_arn"))) ||
        subject_fill(st, s, &r->subject) < 0)
        return -1;
    if (csr_obj && csr_obj != Py_None) {
        /* Any CSR form (DER bytes too) becomes PEM before the core sees it. */
        if (!(*csr_pem = normalize_csr(st, csr_obj)))
            return -1;
        if (!(r->csr_pem = acmpy_utf8(st, *csr_pem, "csr")))
            return -1;
    }
    if (days && days != Py_None) {
        if (acmpy_int_arg(st->ParamValidationError, days, "validity_days", 1, 36500, &n) < 0)
            return -1;
        r->validity_days = (int)n;
    }
    if (delay && delay != Py_None &&
        acmpy_number_arg(st->ParamValidationError, delay, "wait_delay", "a number of seconds", 0,
                         1, ACMPY_MAX_WAIT_DELAY_S, &r->wait_delay_s) < 0)
        return -1;
    if (attempts && attempts != Py_None) {
        if (acmpy_int_arg(st->ParamValidationError, attempts, "wait_max_attempts", 1, 100000,
                          &n) < 0)
            return -1;
        r->wait_max_attempts = (int)n;
    }
    return 0;
}

/* acmpca._compat.request_certificate(client, *args, **kwargs). */
static PyObject *hooked_request_certificate(acmpy_client *self, PyObject *args,
                                            PyObject *kwargs)
{
    PyObject *compat = NULL, *fn = NULL, *head = NULL, *all = NULL, *out = NULL;

    if ((compat = PyImport_ImportModule("acmpca._compat")) &&
        (fn = PyObject_GetAttrString(compat, "request_certificate")) &&
        (head = PyTuple_Pack(1, (PyObject *)self)) && (all = PySequence_Concat(head, args)))
        out = PyObject_Call(fn, all, kwargs);
    Py_XDECREF(compat);
    Py_XDECREF(fn);
    Py_XDECREF(head);
    Py_XDECREF(all);
    return out;
}

PyObject *acmpy_client_request_certificate(acmpy_client *self, PyObject *args, PyObject *kwargs)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
    acmpca_certificate_request r;
    acmpca_issued_certificate *cert = NULL;
    acmpy_wait_ctx ctx;
    subject_args s;
    PyObject *csr_pem = NULL, *out = NULL;
    acmpca_client *c;
    int rc;

    if (!st)
        return NULL;
    /* With an event handler, the calls are made through the client's methods (acmpca._compat)
     * so that the handlers see each, as acmpca.aio's request_certificate makes them. */
    if (self->hooked)
        return hooked_request_certificate(self, args, kwargs);
    if (request_args(st, args, kwargs, &r, &s, &csr_pem) < 0)
        goto done;
    if (!(c = acmpy_client_begin(self)))
        goto done;
    /* The binding pauses between polls (see acmpy_wait_progress), so Ctrl-C works. */
    ctx.delay_s = r.wait_delay_s > 0 ? r.wait_delay_s
                                     : acmpca_waiter_find("CertificateIssued")->delay_s;
    r.wait_delay_s = ACMPY_CORE_PAUSE;
    r.wait_progress = acmpy_wait_progress;
    r.wait_progress_userdata = &ctx;
    acmpy_log_prepare(st);
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_request_certificate(c, &r, &cert);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        acmpy_raise_last(st, "IssueCertificate", acmpca_client_endpoint(c));
    else
        out = Py_BuildValue("{sNsNsNsNsN}", "CertificateArn", str_or_none(cert->certificate_arn),
                            "Certificate", str_or_none(cert->certificate_pem),
                            "CertificateChain", str_or_none(cert->certificate_chain_pem),
                            "PrivateKey", str_or_none(cert->private_key_pem), "Csr",
                            str_or_none(cert->csr_pem));
    acmpy_client_end(self);
done:
    acmpca_issued_certificate_free(cert);
    subject_release(&s);
    Py_XDECREF(csr_pem);
    return out;
}

/*
 * Client._request_machine(certificate_authority_arn, **request_certificate's
 * kwargs): the core's request_certificate machine for acmpca.aio, the
 * arguments checked as the blocking method checks them, the key and CSR made
 * before any step.
 */
PyObject *acmpy_client_request_machine(acmpy_client *self, PyObject *args, PyObject *kwargs)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(self));
    acmpca_certificate_request r;
    subject_args s;
    PyObject *csr_pem = NULL;
    acmpy_machine *m = NULL;
    acmpca_client *c;
    int rc;

    if (!st || request_args(st, args, kwargs, &r, &s, &csr_pem) < 0 ||
        !(m = acmpy_machine_new(st, self, NULL, NULL,
                                acmpca_model_operation_find("IssueCertificate"),
                                ACMPY_MACHINE_CERT, &c)))
        goto done;
    Py_BEGIN_ALLOW_THREADS /* an RSA key can take a while */
    rc = acmpca_machine_new_request_certificate(&m->m, c, &r);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        acmpy_raise_last(st, "IssueCertificate", acmpca_client_endpoint(c));
        Py_CLEAR(m);
    }
done:
    subject_release(&s);
    Py_XDECREF(csr_pem);
    return (PyObject *)m;
}

/*
 * _request_plan(certificate_authority_arn, **request_certificate's kwargs):
 * the local half of request_certificate for acmpca.aio, which makes the
 * calls itself: the arguments checked as the blocking method checks them, the
 * key and CSR made (or the CSR given, as PEM), the defaults filled in.
 */
static PyObject *pki_request_plan(PyObject *module, PyObject *args, PyObject *kwargs)
{
    acmpy_state *st = module_state(module);
    acmpca_certificate_request r;
    subject_args s;
    PyObject *csr_pem = NULL, *out = NULL;
    char *key = NULL, *csr = NULL;
    int rc = 0;

    if (request_args(st, args, kwargs, &r, &s, &csr_pem) < 0)
        goto done;
    if (!r.csr_pem) {
        acmpca_csr_options o = r.subject;
        Py_BEGIN_ALLOW_THREADS
        rc = acmpca_pki_generate_key(&key, r.key_type ? r.key_type : "EC_prime256v1");
        o.private_key_pem = key;
        if (rc == 0)
            rc = acmpca_pki_make_csr(&csr, &o);
        Py_END_ALLOW_THREADS
        if (rc != 0) {
            acmpy_raise_last(st, NULL, NULL);
            goto done;
        }
    }
    out = Py_BuildValue("{sssNsNsNsNsisNsN}", "CertificateAuthorityArn",
                        r.certificate_authority_arn, "Csr",
                        csr ? str_or_none(csr) : Py_NewRef(csr_pem), "PrivateKey",
                        str_or_none(key), "SigningAlgorithm", str_or_none(r.signing_algorithm),
                        "TemplateArn", str_or_none(r.template_arn), "ValidityDays",
                        r.validity_days ? r.validity_days : 365, "WaitDelay",
                        r.wait_delay_s > 0 ? PyFloat_FromDouble(r.wait_delay_s)
                                           : Py_NewRef(Py_None),
                        "WaitMaxAttempts",
                        r.wait_max_attempts ? PyLong_FromLong(r.wait_max_attempts)
                                            : Py_NewRef(Py_None));
done:
    if (key) { /* the private key's only other copy is the str handed out */
        volatile char *p = key;
        while (*p)
            *p++ = 0;
    }
    acmpca_free(key);
    acmpca_free(csr);
    subject_release(&s);
    Py_XDECREF(csr_pem);
    return out;
}
