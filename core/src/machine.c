/*
 * machine.c - the call machine (see acmpca/machine.h): one logical call, a
 * waiter run or a paginator page as a state machine. It decides everything
 * (what to send, whether and when to retry, when to give up) and does no I/O;
 * the driver reports what happened to each SEND step.
 *
 * A call runs   START -> [SLEEP rate limit] -> [SLEEP adaptive]
 *               -> [SEND / SLEEP credential exchanges] -> SEND -> answer
 *               -> DONE | FAILED | [SLEEP back-off] -> START ...
 * A waiter runs one inner call per poll and sleeps between polls; a page is
 * a call whose result the paginator trims and remembers. request_certificate
 * runs its sub-machines one after the other: [DescribeCertificateAuthority]
 * -> IssueCertificate -> the CertificateIssued waiter, passing their steps on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "credentials_internal.h"

typedef enum machine_kind { KIND_CALL, KIND_WAITER, KIND_PAGE, KIND_CERT } machine_kind;

/* request_certificate's sub-machines, in order. */
typedef enum cert_phase { CERT_DESCRIBE, CERT_ISSUE, CERT_WAIT, CERT_DONE } cert_phase;

typedef enum machine_state {
    ST_START,      /* a new attempt: the per-operation rate limiter */
    ST_ADAPTIVE,   /* adaptive mode's send rate */
    ST_SIGN,       /* credentials (fetched by steps when needed), sign, send */
    ST_FETCH_SENT, /* waiting for the report on a credentials exchange */
    ST_SENT,       /* waiting for the driver's report */
    ST_ANSWERED,   /* the report is in: decide */
    ST_DONE,
    ST_FAILED
} machine_state;

struct acmpca_machine {
    machine_kind kind;
    machine_state state;
    acmpca_client *client;
    const acmpca_operation_info *op;
    acmpca_http_request *req;     /* prepared once: one IdempotencyToken per call */
    int attempt, cost, skew_fixed;
    int64_t deadline_ms;          /* 0: none */
    acmpca_http_response resp;    /* the last answer */
    acmpca_response_meta meta;    /* a view of it for acmpca_machine_meta (borrows) */
    int answer;                   /* ST_ANSWERED: 0 or the attempt's error code */
    cJSON *result;
    acmpca_error_state *error;    /* the last failure (allocated on the first one):
                                     restored on every later look */
    acmpca__fetch_log fetch;      /* a credentials refresh by steps */
    int blocking_credentials;     /* the blocking driver: providers do their own I/O */
    size_t extra_headers;         /* added by acmpca_machine_set_header, after the
                                     protocol's two: kept when re-signing */
    acmpca_url_parts *fetch_url;  /* of its pending exchange (allocated when needed) */
    const char *proxy;            /* the last SEND step's explicit proxy (the client's) */
    int stop_before_sign;         /* acmpca_machine_stop_before_signing was called */
    int output_parsed;            /* acmpca_machine_output_parsed: for the next answer */
    int sign_stopped;             /* ACMPCA_STEP_SIGN was returned for this signature */
    /* KIND_WAITER */
    const acmpca_waiter_info *waiter;
    cJSON *input;
    double delay_s;
    int max_polls, poll;
    acmpca_machine *inner;        /* the current poll */
    /* KIND_PAGE */
    acmpca_paginator *pager;
    /* KIND_CERT (its inner: the current sub-machine; delay_s, max_polls: the waiter's) */
    cert_phase phase;
    char *ca_arn, *algorithm, *template_arn, *cert_arn, *csr_pem;
    char *key_pem;                /* a secret: wiped when freed */
    int validity_days;
};

static int new_machine(acmpca_machine **out, machine_kind kind, acmpca_client *client,
                       const acmpca_operation_info *op, const cJSON *input)
{
    acmpca_machine *m;
    int err;

    *out = NULL;
    if (!(m = calloc(1, sizeof(*m))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    m->kind = kind;
    m->client = client;
    acmpca__client_hold(client);
    m->op = op;
    if (kind != KIND_WAITER) {
        if ((err = acmpca__prepare_request(client, op, input, &m->req)) != 0) {
            acmpca__error_annotate(op->name, 0, 0);
            acmpca__error_set_stage("validate");
            acmpca_machine_free(m);
            return err;
        }
        if (client->total_timeout_ms)
            m->deadline_ms = acmpca__now_ms() + client->total_timeout_ms;
    }
    *out = m;
    return 0;
}

int acmpca__machine_new_call_op(acmpca_machine **out, acmpca_client *client,
                                const acmpca_operation_info *op, const cJSON *input)
{
    return new_machine(out, KIND_CALL, client, op, input);
}

int acmpca_machine_new_call(acmpca_machine **out, acmpca_client *client, const char *operation,
                            const cJSON *input)
{
    const acmpca_operation_info *op;
    if (!out || !client)
        return acmpca__error_set(ACMPCA_EINVAL, "out and client: must not be NULL");
    *out = NULL;
    if (!(op = acmpca__find_operation(operation)))
        return ACMPCA_EINVAL;
    return new_machine(out, KIND_CALL, client, op, input);
}

int acmpca_machine_new_waiter(acmpca_machine **out, acmpca_client *client, const char *waiter,
                              const cJSON *input, double delay_s, int max_attempts)
{
    const acmpca_waiter_info *w = acmpca_waiter_find(waiter);
    acmpca_machine *m = NULL;
    int err;

    if (!out || !client)
        return acmpca__error_set(ACMPCA_EINVAL, "out and client: must not be NULL");
    *out = NULL;
    if (!w) {
        char names[256] = "";
        size_t i, n = 0;
        for (i = 0; acmpca_waiter_at(i) && n < sizeof(names); i++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
                                  acmpca_waiter_at(i)->snake_name);
        return acmpca__error_set(ACMPCA_EINVAL, "waiter: unknown waiter \"%s\"; expected one "
                                 "of: %s", waiter ? waiter : "(null)", names);
    }
    if ((err = new_machine(&m, KIND_WAITER, client, acmpca_model_operation_find(w->operation),
                           NULL)) != 0)
        return err;
    m->waiter = w;
    m->delay_s = delay_s > 0 ? delay_s : w->delay_s;
    m->max_polls = max_attempts > 0 ? max_attempts : w->max_attempts;
    m->input = input ? cJSON_Duplicate(input, 1) : NULL;
    /* The first poll now, so a bad input fails before any step. */
    if ((input && !m->input && (err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory"))) ||
        (err = new_machine(&m->inner, KIND_CALL, client, m->op, m->input)) != 0) {
        acmpca_machine_free(m);
        return err;
    }
    m->poll = 1;
    *out = m;
    return 0;
}

int acmpca_machine_new_page(acmpca_machine **out, acmpca_paginator *p)
{
    acmpca_machine *m = NULL;
    const cJSON *input;
    int err, done;

    if (!out || !p)
        return acmpca__error_set(ACMPCA_EINVAL, "out and paginator: must not be NULL");
    *out = NULL;
    if ((err = acmpca__paginator_request(p, &input, &done)) != 0)
        return err;
    if (done) { /* nothing left: DONE at once, with no page */
        if (!(m = calloc(1, sizeof(*m))))
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        m->kind = KIND_PAGE;
        m->state = ST_DONE;
        m->client = acmpca__paginator_client(p);
        acmpca__client_hold(m->client);
        *out = m;
        return 0;
    }
    if ((err = new_machine(&m, KIND_PAGE, acmpca__paginator_client(p),
                           acmpca__paginator_operation(p), input)) != 0)
        return err;
    m->pager = p;
    acmpca__paginator_hold(p);
    *out = m;
    return 0;
}

/* ---- request_certificate ----------------------------------------------------- */

/* The input of request_certificate's sub-call for `phase` (caller-owned), NULL when out of
 * memory (recorded). */
static cJSON *cert_input(const acmpca_machine *m, cert_phase phase, const char *algorithm)
{
    cJSON *in = cJSON_CreateObject(), *validity;
    int ok = in && cJSON_AddStringToObject(in, "CertificateAuthorityArn", m->ca_arn);

    if (ok && phase == CERT_ISSUE)
        ok = cJSON_AddStringToObject(in, "Csr", m->csr_pem) &&
             cJSON_AddStringToObject(in, "SigningAlgorithm", algorithm) &&
             (!m->template_arn || cJSON_AddStringToObject(in, "TemplateArn", m->template_arn)) &&
             (validity = cJSON_AddObjectToObject(in, "Validity")) != NULL &&
             cJSON_AddNumberToObject(validity, "Value", m->validity_days) &&
             cJSON_AddStringToObject(validity, "Type", "DAYS");
    else if (ok && phase == CERT_WAIT)
        ok = cJSON_AddStringToObject(in, "CertificateArn", m->cert_arn) != NULL;
    if (!ok) {
        cJSON_Delete(in);
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return NULL;
    }
    return in;
}

/* The sub-machine of the current phase, as m->inner (its input validated). */
static int cert_start_phase(acmpca_machine *m)
{
    cJSON *in = cert_input(m, m->phase, m->algorithm);
    int err;

    if (!in)
        return ACMPCA_ENOMEM;
    if (m->phase == CERT_WAIT)
        err = acmpca_machine_new_waiter(&m->inner, m->client, "CertificateIssued", in, m->delay_s,
                                        m->max_polls);
    else
        err = new_machine(&m->inner, KIND_CALL, m->client,
                          m->phase == CERT_DESCRIBE
                              ? acmpca_model_operation_find("DescribeCertificateAuthority")
                              : m->op,
                          in);
    cJSON_Delete(in);
    if (!err && m->blocking_credentials)
        acmpca__machine_block_on_credentials(m->inner);
    return err;
}

int acmpca_machine_new_request_certificate(acmpca_machine **out, acmpca_client *client,
                                           const acmpca_certificate_request *r)
{
    acmpca_http_request *probe = NULL;
    acmpca_machine *m;
    cJSON *in;
    int err;

    if (!out || !client || !r)
        return acmpca__error_set(ACMPCA_EINVAL, "out, client and request: must not be NULL");
    *out = NULL;
    if (!r->certificate_authority_arn || !*r->certificate_authority_arn)
        err = acmpca__error_set(ACMPCA_EPARAM, "certificate_authority_arn: required (the ARN of "
                                "the CA that issues the certificate)");
    else if (r->validity_days < 0 || r->validity_days > 36500)
        err = acmpca__error_set(ACMPCA_EPARAM, "validity_days: expected 1 to 36500 days (0: "
                                "365), got %d", r->validity_days);
    else if (!(r->wait_delay_s >= 0 && r->wait_delay_s <= 86400))
        err = acmpca__error_set(ACMPCA_EPARAM, "wait_delay_s: expected 0 to 86400 seconds (0: "
                                "the waiter's), got %g", r->wait_delay_s);
    else if (r->wait_max_attempts < 0)
        err = acmpca__error_set(ACMPCA_EPARAM, "wait_max_attempts: expected a positive number "
                                "(0: the waiter's), got %d", r->wait_max_attempts);
    else
        err = 0;
    if (err) {
        acmpca__error_annotate("IssueCertificate", 0, 0);
        acmpca__error_set_stage("validate");
        return err;
    }
    if (!(m = calloc(1, sizeof(*m))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    m->kind = KIND_CERT;
    m->client = client;
    acmpca__client_hold(client);
    m->op = acmpca_model_operation_find("IssueCertificate");
    m->validity_days = r->validity_days ? r->validity_days : 365;
    m->delay_s = r->wait_delay_s;
    m->max_polls = r->wait_max_attempts;
    if (!(m->ca_arn = acmpca__strdup(r->certificate_authority_arn)) ||
        (r->signing_algorithm && !(m->algorithm = acmpca__strdup(r->signing_algorithm))) ||
        (r->template_arn && !(m->template_arn = acmpca__strdup(r->template_arn)))) {
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    if ((err = acmpca__certificate_csr(r, &m->key_pem, &m->csr_pem)) != 0) {
        acmpca__error_annotate("IssueCertificate", 0, 0);
        acmpca__error_set_stage("validate");
        goto fail;
    }
    /* Every sub-call's input checked now, before any step: IssueCertificate's with a
     * stand-in algorithm when the CA's is to be asked for first. */
    m->phase = m->algorithm ? CERT_ISSUE : CERT_DESCRIBE;
    if (m->phase == CERT_DESCRIBE) {
        if (!(in = cert_input(m, CERT_ISSUE, "SHA256WITHRSA"))) {
            err = ACMPCA_ENOMEM;
            goto fail;
        }
        err = acmpca__prepare_request(client, m->op, in, &probe);
        cJSON_Delete(in);
        acmpca_http_request_free(probe);
        if (err) {
            acmpca__error_annotate("IssueCertificate", 0, 0);
            acmpca__error_set_stage("validate");
            goto fail;
        }
    }
    if ((err = cert_start_phase(m)) != 0)
        goto fail;
    *out = m;
    return 0;
fail:
    acmpca_machine_free(m);
    return err;
}

void acmpca_machine_free(acmpca_machine *m)
{
    if (!m)
        return;
    if (m->kind == KIND_CERT) {
        acmpca__certificate_result_free(m->result);
        m->result = NULL;
        acmpca__free_secret(m->key_pem);
        free(m->ca_arn);
        free(m->algorithm);
        free(m->template_arn);
        free(m->cert_arn);
        free(m->csr_pem);
    }
    acmpca_machine_free(m->inner);
    acmpca_http_request_free(m->req);
    acmpca__fetch_log_clear(&m->fetch);
    acmpca__http_response_clear(&m->resp);
    cJSON_Delete(m->result);
    cJSON_Delete(m->input);
    free(m->fetch_url);
    free(m->error);
    acmpca_paginator_free(m->pager);
    acmpca_client_free(m->client);
    free(m);
}

acmpca_client *acmpca__machine_client(const acmpca_machine *m)
{
    return m->client;
}

void acmpca__machine_block_on_credentials(acmpca_machine *m)
{
    m->blocking_credentials = 1;
    if (m->inner)
        acmpca__machine_block_on_credentials(m->inner);
}

int acmpca_machine_use_blocking_io(acmpca_machine *m)
{
    if (!m)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_use_blocking_io: machine must "
                                 "not be NULL");
    acmpca__machine_block_on_credentials(m);
    return 0;
}

#define MAX_EXTRA_HEADERS 64

/* Names the protocol and the signer set: a hook must not replace them. */
static int owned_header(const char *name)
{
    static const char *const owned[] = {"authorization", "content-type", "host", "x-amz-target",
                                        "x-amz-date", "x-amz-security-token",
                                        "x-amz-content-sha256"};
    size_t i;
    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        if (acmpca__strcaseeq(name, owned[i]))
            return 1;
    return 0;
}

int acmpca_machine_set_header(acmpca_machine *m, const char *name, const char *value)
{
    acmpca_http_request *req;
    acmpca_header *h;
    char *n = NULL, *v = NULL;
    size_t i, at;
    const char *p;

    if (!m || !name || !value)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_set_header: machine, name and "
                                 "value must not be NULL");
    if (m->kind == KIND_WAITER || !m->req)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_set_header: only a call or "
                                 "page machine sends headers of its own");
    for (p = name; *p; p++) /* RFC 9110 token characters */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *p)))
            break;
    if (!*name || *p)
        return acmpca__error_set(ACMPCA_EINVAL, "header name: expected a non-empty token "
                                 "(letters, digits, !#$%%&'*+-.^_`|~), got \"%.64s\"", name);
    if (strpbrk(value, "\r\n"))
        return acmpca__error_set(ACMPCA_EINVAL, "header %s: the value must not contain CR or "
                                 "LF", name);
    if (owned_header(name))
        return acmpca__error_set(ACMPCA_EINVAL, "header %s: set by the library (protocol or "
                                 "signature), not by a hook", name);
    req = m->req;
    for (i = 2; i < 2 + m->extra_headers; i++)
        if (acmpca__strcaseeq(req->headers[i].name, name)) {
            if (!(v = acmpca__strdup(value)))
                return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
            acmpca__request_release(req, (char *)req->headers[i].value, 1);
            req->headers[i].value = v;
            return 0;
        }
    if (m->extra_headers >= MAX_EXTRA_HEADERS)
        return acmpca__error_set(ACMPCA_EINVAL, "header %s: more than %d added headers", name,
                                 MAX_EXTRA_HEADERS);
    if (!(h = realloc(req->headers, (req->header_count + 1) * sizeof(*h))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    req->headers = h;
    n = acmpca__strdup(name);
    v = acmpca__strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    /* Before the last signature's headers, which the next signing replaces. */
    at = 2 + m->extra_headers;
    memmove(&req->headers[at + 1], &req->headers[at],
            (req->header_count - at) * sizeof(*req->headers));
    req->headers[at].name = n;
    req->headers[at].value = v;
    req->header_count++;
    m->extra_headers++;
    return 0;
}

const acmpca_http_request *acmpca_machine_request(const acmpca_machine *m)
{
    return m && m->kind != KIND_WAITER && m->kind != KIND_CERT ? m->req : NULL;
}

const char *acmpca_machine_proxy(const acmpca_machine *m)
{
    while (m && (m->kind == KIND_WAITER || m->kind == KIND_CERT))
        m = m->inner;
    return m ? m->proxy : NULL;
}

int acmpca_machine_stop_before_signing(acmpca_machine *m)
{
    if (!m || m->kind == KIND_WAITER || m->kind == KIND_CERT)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_stop_before_signing: only a "
                                 "call or page machine signs requests of its own");
    m->stop_before_sign = 1;
    return 0;
}

int acmpca__machine_is_call(const acmpca_machine *m)
{
    return m->kind == KIND_CALL;
}

int acmpca_machine_output_parsed(acmpca_machine *m)
{
    if (!m || m->kind != KIND_CALL)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_output_parsed: only a call "
                                 "machine's result can come from its driver");
    m->output_parsed = 1;
    return 0;
}

const char *acmpca_machine_response_body(const acmpca_machine *m, size_t *len)
{
    const char *body = NULL;
    if (m && m->kind != KIND_WAITER && m->kind != KIND_CERT && m->resp.status)
        body = m->resp.body.ptr ? m->resp.body.ptr : "";
    if (len)
        *len = body && m->resp.body.ptr ? m->resp.body.len : 0;
    return body;
}

/* ---- steps ----------------------------------------------------------------- */

/* Keep this thread's last error in the machine (the driver may call from
 * another thread, or into the library in between). */
static void save_error(acmpca_machine *m)
{
    if (m->error || (m->error = malloc(sizeof(*m->error))) != NULL)
        acmpca__error_save(m->error);
}

static void restore_error(acmpca_machine *m)
{
    if (m->error)
        acmpca__error_restore(m->error);
}

static acmpca_step_kind fail(acmpca_machine *m, acmpca_step *s)
{
    if (m->state != ST_FAILED) {
        const acmpca_error *e = acmpca_error_last();
        /* The attempt count is data (acmpca_error.attempts), not text in the message. */
        acmpca__error_annotate(m->op->name, m->attempt,
                               acmpca__is_retryable(e->code, e->http_status, e->aws_code));
        save_error(m);
        m->state = ST_FAILED;
    } else {
        restore_error(m);
    }
    s->kind = ACMPCA_STEP_FAILED;
    return s->kind;
}

static acmpca_step_kind sleep_step(acmpca_step *s, double seconds, acmpca_sleep_reason why,
                                   int attempt)
{
    s->kind = ACMPCA_STEP_SLEEP;
    s->sleep_ms = (long)(seconds * 1000 + 0.5);
    if (s->sleep_ms < 1)
        s->sleep_ms = 1;
    s->sleep_reason = why;
    s->attempt = attempt;
    return s->kind;
}

/* A SEND step: the request, where it goes and what bounds it. */
static acmpca_step_kind send_to(acmpca_machine *m, acmpca_step *s, const acmpca_http_request *req,
                                const acmpca_url_parts *u, const acmpca_transport_options *t,
                                int64_t left)
{
    s->kind = ACMPCA_STEP_SEND;
    s->request = req;
    s->scheme = u->scheme;
    s->host = u->host;
    s->port = u->port;
    s->path = u->path;
    s->connect_timeout_ms = t->connect_timeout_ms;
    s->read_timeout_ms = t->read_timeout_ms;
    s->deadline_ms = (long)left;
    s->max_response_bytes = t->max_response_bytes;
    s->insecure_skip_tls_verify = !t->verify_tls;
    s->ca_bundle = t->ca_bundle;
    s->no_proxy = t->no_proxy;
    m->proxy = t->no_proxy ? NULL : t->proxy;
    s->attempt = m->attempt;
    return s->kind;
}

/* The credentials refresh waits for an exchange: send it, or pause. */
static acmpca_step_kind fetch_step(acmpca_machine *m, acmpca_step *s, int64_t left)
{
    const acmpca_transport_options *t;
    const acmpca_http_request *req;
    long pause_ms;

    req = acmpca__fetch_log_pending(&m->fetch, &t, &pause_ms);
    if (!req) {
        acmpca__fetch_log_paused(&m->fetch);
        return sleep_step(s, (double)pause_ms / 1000.0, ACMPCA_SLEEP_CREDENTIALS, m->attempt);
    }
    if ((!m->fetch_url && !(m->fetch_url = malloc(sizeof(*m->fetch_url)))) ||
        acmpca__split_url(m->fetch_url, req->url) != 0) {
        if (!m->fetch_url)
            acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return fail(m, s);
    }
    send_to(m, s, req, m->fetch_url, t, left);
    s->credentials = 1;
    m->state = ST_FETCH_SENT;
    return s->kind;
}

static acmpca_step_kind send_step(acmpca_machine *m, acmpca_step *s)
{
    const acmpca_credentials *creds = NULL;
    int64_t left = 0;
    int err;

    if (m->deadline_ms && (left = m->deadline_ms - acmpca__now_ms()) <= 0) {
        acmpca__error_set(ACMPCA_EREAD_TIMEOUT, "total_timeout_ms (%ld ms) passed before "
                          "attempt %d", m->client->total_timeout_ms, m->attempt);
        acmpca__error_set_stage("send");
        return fail(m, s);
    }
    if (m->blocking_credentials)
        err = acmpca__credentials_get_shared(m->client->credentials, &creds);
    else
        err = acmpca__credentials_get_logged(m->client->credentials, &m->fetch, &creds);
    if (err == ACMPCA__EPENDING)
        return fetch_step(m, s, left);
    if (err == ACMPCA__EWAIT) /* another machine fetches them: ask again shortly */
        return sleep_step(s, (double)m->fetch.wait_ms / 1000.0, ACMPCA_SLEEP_CREDENTIALS,
                          m->attempt);
    acmpca__fetch_log_clear(&m->fetch);
    if (err) {
        acmpca__error_set_stage("credentials");
        return fail(m, s);
    }
    err = acmpca__sign_request_shared(m->client, m->req, creds, 2 + m->extra_headers);
    acmpca__credentials_release(creds);
    m->sign_stopped = 0;
    if (err) {
        acmpca__error_set_stage("sign");
        return fail(m, s);
    }
    acmpca__log_request(m->client, m->op, m->req, m->attempt);
    send_to(m, s, m->req, &m->client->url_parts, &m->client->transport_options, left);
    m->state = ST_SENT;
    return s->kind;
}

/* The attempt failed (m->answer): retry, learn the clock, or give up. */
static acmpca_step_kind after_failure(acmpca_machine *m, acmpca_step *s)
{
    const acmpca_error *e = acmpca_error_last();
    acmpca_client *c = m->client;
    double delay;

    acmpca__retry_record(c->retry, acmpca__is_throttling(e->aws_code));
    if (!m->skew_fixed && acmpca__is_skew_error(e) && acmpca__learn_skew(c, &m->resp)) {
        m->skew_fixed = 1; /* one more try with the server's time, outside the budget */
        acmpca__http_response_clear(&m->resp);
        m->state = ST_START;
        return acmpca_machine_next(m, s);
    }
    if (!acmpca__retry_decide(c->retry, m->attempt - m->skew_fixed, e, &m->cost, &delay))
        return fail(m, s);
    if (m->deadline_ms && acmpca__now_ms() + (int64_t)(delay * 1000) >= m->deadline_ms)
        return fail(m, s); /* the back-off alone would pass the deadline: the last error */
    acmpca__http_response_clear(&m->resp);
    m->state = ST_START;
    return sleep_step(s, delay, ACMPCA_SLEEP_BACKOFF, m->attempt);
}

static acmpca_step_kind call_next(acmpca_machine *m, acmpca_step *s)
{
    double wait;

    switch (m->state) {
    case ST_START:
        m->attempt++;
        m->state = ST_ADAPTIVE;
        if ((wait = acmpca__rate_limiter_reserve(m->client->rate_limiter, m->op->id)) > 0)
            return sleep_step(s, wait, ACMPCA_SLEEP_RATE_LIMIT, m->attempt);
        /* fall through */
    case ST_ADAPTIVE:
        m->state = ST_SIGN;
        if ((wait = acmpca__retry_reserve_send(m->client->retry)) > 0)
            return sleep_step(s, wait, ACMPCA_SLEEP_ADAPTIVE, m->attempt);
        /* fall through */
    case ST_SIGN:
        /* Once per signature, not again after a credentials exchange of the same attempt. */
        if (m->stop_before_sign && !m->sign_stopped) {
            m->sign_stopped = 1;
            s->kind = ACMPCA_STEP_SIGN;
            s->request = m->req;
            s->attempt = m->attempt;
            return s->kind;
        }
        return send_step(m, s);
    case ST_SENT:
    case ST_FETCH_SENT:
        acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_next: the answer to the last SEND "
                          "step was not reported");
        return fail(m, s);
    case ST_ANSWERED:
        if (m->answer) {
            restore_error(m);
            return after_failure(m, s);
        }
        acmpca__retry_record(m->client->retry, 0);
        acmpca__retry_succeeded(m->client->retry, m->cost);
        m->state = ST_DONE;
        /* fall through */
    case ST_DONE:
        s->kind = ACMPCA_STEP_DONE;
        return s->kind;
    case ST_FAILED:
    default:
        return fail(m, s);
    }
}

static acmpca_step_kind waiter_next(acmpca_machine *m, acmpca_step *s)
{
    acmpca_step_kind k;
    cJSON *out = NULL;
    int err;

    if (m->state == ST_DONE) {
        s->kind = ACMPCA_STEP_DONE;
        return s->kind;
    }
    if (m->state == ST_FAILED)
        return fail(m, s);
    if (!m->inner) { /* the delay is over: the next poll */
        if (new_machine(&m->inner, KIND_CALL, m->client, m->op, m->input) != 0)
            return fail(m, s);
        m->inner->blocking_credentials = m->blocking_credentials;
        m->poll++;
    }
    k = call_next(m->inner, s);
    if (k == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP)
        return k;
    err = acmpca_machine_result(m->inner, &out, NULL);
    m->attempt = m->poll;
    switch (acmpca__waiter_evaluate(m->waiter, err, out)) {
    case ACMPCA_WAITER_SUCCESS:
        m->result = out;
        m->state = ST_DONE;
        s->kind = ACMPCA_STEP_DONE;
        return s->kind;
    case ACMPCA_WAITER_FAILURE:
        acmpca__error_set_stage("waiter");
        /* fall through */
    case ACMPCA_WAITER_UNEXPECTED:
        cJSON_Delete(out);
        save_error(m); /* as it is: the inner call annotated it */
        m->state = ST_FAILED;
        return fail(m, s);
    case ACMPCA_WAITER_RETRY:
    default:
        cJSON_Delete(out);
        break;
    }
    acmpca_machine_free(m->inner);
    m->inner = NULL;
    if (m->poll >= m->max_polls) {
        acmpca__error_set(ACMPCA_EWAITER, "waiter %s gave up after %d attempts", m->waiter->name,
                          m->poll);
        acmpca__error_annotate(m->waiter->operation, m->poll, 0);
        acmpca__error_set_waiter(m->waiter->name, "max_attempts");
        acmpca__error_set_stage("waiter");
        save_error(m);
        m->state = ST_FAILED;
        return fail(m, s);
    }
    sleep_step(s, m->delay_s, ACMPCA_SLEEP_WAITER, m->poll);
    s->waiter = m->waiter->name;
    return s->kind;
}

/* A sub-machine failed, or what it gave is unusable: its error, as it is. */
static acmpca_step_kind cert_fail(acmpca_machine *m, acmpca_step *s)
{
    save_error(m);
    m->state = ST_FAILED;
    return fail(m, s);
}

static const char *json_path(const cJSON *v, const char *a, const char *b, const char *c)
{
    v = cJSON_GetObjectItemCaseSensitive(v, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What the phase's sub-machine gave (`out`, kept): what the next phase needs, or the result. */
static int cert_take(acmpca_machine *m, const cJSON *out)
{
    static const char *const what[] = {
        "DescribeCertificateAuthority returned no SigningAlgorithm",
        "IssueCertificate returned no ARN", "GetCertificate returned no Certificate"};
    const char *v, *chain;
    char **into = m->phase == CERT_DESCRIBE ? &m->algorithm : &m->cert_arn;
    cJSON *res;

    if (m->phase == CERT_DESCRIBE)
        v = json_path(out, "CertificateAuthority", "CertificateAuthorityConfiguration",
                      "SigningAlgorithm");
    else
        v = json_path(out, m->phase == CERT_ISSUE ? "CertificateArn" : "Certificate", NULL, NULL);
    if (!v) {
        acmpca__error_set(ACMPCA_EBADRESPONSE, "%s", what[m->phase]);
        acmpca__error_annotate(m->phase == CERT_DESCRIBE ? "DescribeCertificateAuthority"
                               : m->phase == CERT_ISSUE ? "IssueCertificate" : "GetCertificate",
                               m->inner->attempt, 0);
        acmpca__error_set_stage("response");
        return ACMPCA_EBADRESPONSE;
    }
    if (m->phase != CERT_WAIT)
        return (*into = acmpca__strdup(v)) != NULL
                   ? 0 : acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    chain = json_path(out, "CertificateChain", NULL, NULL);
    if (!(res = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(res, "CertificateArn", m->cert_arn) ||
        !cJSON_AddStringToObject(res, "Certificate", v) ||
        !cJSON_AddStringToObject(res, "CertificateChain", chain ? chain : "") ||
        (m->key_pem && !cJSON_AddStringToObject(res, "PrivateKey", m->key_pem)) ||
        !cJSON_AddStringToObject(res, "Csr", m->csr_pem)) {
        acmpca__certificate_result_free(res);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    m->result = res;
    return 0;
}

/* The current sub-machine's steps, passed on; at its end, the next phase's. */
static acmpca_step_kind cert_next(acmpca_machine *m, acmpca_step *s)
{
    acmpca_step_kind k;
    cJSON *out = NULL;
    int err;

    if (m->state == ST_FAILED)
        return fail(m, s);
    while (m->state != ST_DONE) {
        if (!m->inner && cert_start_phase(m) != 0)
            return cert_fail(m, s);
        k = acmpca_machine_next(m->inner, s);
        if (k == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP || k == ACMPCA_STEP_SIGN)
            return k;
        if (k != ACMPCA_STEP_DONE || acmpca_machine_result(m->inner, &out, NULL) != 0)
            return cert_fail(m, s);
        err = cert_take(m, out);
        cJSON_Delete(out);
        if (err)
            return cert_fail(m, s);
        if (m->phase == CERT_WAIT) {
            m->phase = CERT_DONE;
            m->state = ST_DONE; /* the waiter stays: its last answer is the metadata */
        } else {
            acmpca_machine_free(m->inner);
            m->inner = NULL;
            m->phase = (cert_phase)(m->phase + 1);
        }
    }
    memset(s, 0, sizeof(*s));
    s->kind = ACMPCA_STEP_DONE;
    return s->kind;
}

acmpca_step_kind acmpca_machine_next(acmpca_machine *m, acmpca_step *s)
{
    acmpca_step ignored;
    if (!s)
        s = &ignored;
    memset(s, 0, sizeof(*s));
    if (!m) {
        acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_next: machine must not be NULL");
        s->kind = ACMPCA_STEP_FAILED;
        return s->kind;
    }
    if (m->kind == KIND_WAITER)
        return waiter_next(m, s);
    if (m->kind == KIND_CERT)
        return cert_next(m, s);
    return call_next(m, s);
}

/* ---- reports ---------------------------------------------------------------- */

/* The machine that sent the last request (a waiter's current poll, request_certificate's
 * current sub-call). */
static acmpca_machine *sender(acmpca_machine *m)
{
    while (m->inner && (m->kind == KIND_WAITER || m->kind == KIND_CERT))
        m = m->inner;
    return m;
}

int acmpca__machine_take_response(acmpca_machine *m, acmpca_http_response *resp)
{
    int parsed;

    m = m ? sender(m) : NULL;
    parsed = m && m->output_parsed;
    if (m)
        m->output_parsed = 0;
    if (m && m->state == ST_FETCH_SENT) {
        m->state = ST_SIGN;
        return acmpca__fetch_log_answer(&m->fetch, resp);
    }
    if (!m || m->state != ST_SENT) {
        acmpca__http_response_clear(resp);
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_response: no SEND step is "
                                 "waiting for an answer");
    }
    acmpca__http_response_clear(&m->resp);
    m->resp = *resp;
    memset(resp, 0, sizeof(*resp));
    acmpca__log_response(m->client, m->op, &m->resp);
    cJSON_Delete(m->result);
    m->result = NULL;
    if (parsed && m->resp.status >= 200 && m->resp.status <= 299)
        m->answer = 0;  /* the driver made the result from the body itself */
    else
        m->answer = acmpca__parse_response(m->op, m->resp.status, m->resp.headers,
                                           m->resp.header_count, m->resp.body.ptr,
                                           m->resp.body.len, &m->result);
    if (m->answer) {
        acmpca__error_set_stage("response");
        save_error(m);
    }
    m->state = ST_ANSWERED;
    return 0;
}

int acmpca_machine_response(acmpca_machine *m, int status, const acmpca_header *headers,
                            size_t header_count, const char *body, size_t body_len)
{
    acmpca_http_response r;

    memset(&r, 0, sizeof(r));
    if ((!headers && header_count) || (!body && body_len))
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_response: headers and body "
                                 "must not be NULL when their counts are not 0");
    if (status < 100 || status > 999)
        return acmpca__error_set(ACMPCA_EINVAL, "status: expected an HTTP status (100 to 999), "
                                 "got %d", status);
    r.status = status;
    r.packed = 1; /* as the transport's: one block, names in lowercase */
    if (acmpca__http_headers_pack(&r.headers, headers, header_count) != 0)
        goto nomem;
    r.header_count = header_count;
    if (acmpca__buf_append(&r.body, body ? body : "", body_len) != 0)
        goto nomem;
    return acmpca__machine_take_response(m, &r);
nomem:
    acmpca__http_response_clear(&r);
    return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
}

int acmpca__machine_take_failure(acmpca_machine *m)
{
    m = m ? sender(m) : NULL;
    if (m)
        m->output_parsed = 0;
    if (m && m->state == ST_FETCH_SENT) {
        m->state = ST_SIGN;
        return acmpca__fetch_log_failure(&m->fetch);
    }
    if (!m || m->state != ST_SENT)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_transport_error: no SEND step "
                                 "is waiting for an answer");
    acmpca__http_response_clear(&m->resp);
    acmpca__error_set_stage("send");
    save_error(m);
    m->answer = acmpca_error_last()->code;
    m->state = ST_ANSWERED;
    return 0;
}

int acmpca_machine_transport_error(acmpca_machine *m, int code, int http_status,
                                   const char *detail)
{
    switch (code) {
    case ACMPCA_ECONNECT:
    case ACMPCA_ECONNECT_TIMEOUT:
    case ACMPCA_EREAD_TIMEOUT:
    case ACMPCA_ETLS:
    case ACMPCA_ENETWORK:
    case ACMPCA_ETOOLARGE:
        break;
    default:
        code = ACMPCA_ENETWORK;
    }
    acmpca__error_set(code, "%s%s%s", acmpca_strerror(code), detail ? ": " : "",
                      detail ? detail : "");
    acmpca__error_set_http_status(http_status > 0 && http_status < 1000 ? http_status : 0);
    return acmpca__machine_take_failure(m);
}

const acmpca_response_meta *acmpca_machine_meta(acmpca_machine *m)
{
    acmpca_machine *last = m ? sender(m) : NULL;
    const char *rid;

    if (!last || !last->resp.status)
        return NULL;
    rid = acmpca__http_response_header(&last->resp, "x-amzn-requestid");
    m->meta.http_status = last->resp.status;
    m->meta.request_id = (char *)(rid ? rid : "");
    m->meta.retry_attempts = last->attempt - 1;
    m->meta.headers = last->resp.headers;
    m->meta.header_count = last->resp.header_count;
    return &m->meta;
}

int acmpca_machine_result(acmpca_machine *m, cJSON **out, acmpca_response_meta **meta)
{
    acmpca_machine *last;
    cJSON *result = NULL;
    int err = 0;

    if (out)
        *out = NULL;
    if (meta)
        *meta = NULL;
    if (!m)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_result: machine must not be NULL");
    if (m->state == ST_FAILED) {
        restore_error(m);
        err = acmpca_error_last()->code;
    } else if (m->state != ST_DONE) {
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_result: the machine is not "
                                 "done");
    } else {
        result = m->result;
        m->result = NULL;
        if (m->kind == KIND_PAGE && m->pager && result &&
            (err = acmpca__paginator_accept(m->pager, result, &result)) != 0)
            result = NULL;
    }
    last = sender(m);
    if (meta && last->resp.status && acmpca__make_meta(&last->resp, last->attempt, meta) != 0)
        *meta = NULL;
    if (out)
        *out = result;
    else
        cJSON_Delete(result);
    return err;
}
