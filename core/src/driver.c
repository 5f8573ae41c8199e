/*
 * driver.c - the blocking driver of the call machine: libcurl (transport.c)
 * for SEND steps, nanosleep for SLEEP steps. Every blocking entry point of
 * the C API is here: calls, waiters, paginator pages, request_certificate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

/* Sleep, resuming after signals. */
static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One step carried out: libcurl for a SEND step, nanosleep for a SLEEP step;
 * a 2xx answer's body to `parse` first, when there is one (see machine.h). */
static int perform(acmpca_machine *m, const acmpca_step *step, acmpca_body_fn parse,
                   void *userdata)
{
    acmpca_http_response resp;

    if (!m || !step)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_machine_perform: machine and step must "
                                 "not be NULL");
    if (step->kind == ACMPCA_STEP_SEND) {
        memset(&resp, 0, sizeof(resp));
        /* A credentials exchange answers with secrets; the service never does. */
        resp.body.secret = step->credentials;
        if (acmpca__transport_send_ex(acmpca__machine_client(m)->transport, step->request, &resp,
                                      step->deadline_ms,
                                      step->credentials ? 0 : ACMPCA__SEND_PUBLIC_RESPONSE) != 0)
            return acmpca__machine_take_failure(m);
        if (parse && !step->credentials && resp.status >= 200 && resp.status <= 299 &&
            acmpca__machine_is_call(m) && parse(userdata, resp.body.ptr ? resp.body.ptr : "",
                                                resp.body.len) == 1)
            acmpca_machine_output_parsed(m);
        return acmpca__machine_take_response(m, &resp);
    }
    if (step->kind == ACMPCA_STEP_SLEEP && step->sleep_ms > 0)
        sleep_ms(step->sleep_ms);
    return 0;
}

int acmpca_machine_perform(acmpca_machine *m, const acmpca_step *step)
{
    return perform(m, step, NULL, NULL);
}

int acmpca_machine_perform_parsing(acmpca_machine *m, const acmpca_step *step,
                                   acmpca_body_fn parse, void *userdata)
{
    return perform(m, step, parse, userdata);
}

/* The blocking driver: every step performed until the machine is done or failed. */
int acmpca__machine_run(acmpca_machine *m, acmpca_wait_progress_fn progress, void *userdata)
{
    acmpca_step s;

    acmpca__machine_block_on_credentials(m);
    for (;;) {
        switch (acmpca_machine_next(m, &s)) {
        case ACMPCA_STEP_SEND:
            acmpca_machine_perform(m, &s);
            break;
        case ACMPCA_STEP_SLEEP:
            if (progress && s.sleep_reason == ACMPCA_SLEEP_WAITER &&
                progress(userdata, s.waiter, s.attempt, (double)s.sleep_ms / 1000.0) != 0) {
                acmpca__error_set(ACMPCA_ECANCELLED, "waiter %s cancelled after %d attempts",
                                  s.waiter, s.attempt);
                acmpca__error_annotate(acmpca_waiter_find(s.waiter)->operation, s.attempt, 0);
                acmpca__error_set_waiter(s.waiter, "cancelled");
                acmpca__error_set_stage("waiter");
                return ACMPCA_ECANCELLED;
            }
            acmpca_machine_perform(m, &s);
            break;
        case ACMPCA_STEP_DONE:
            return 0;
        case ACMPCA_STEP_FAILED:
        default:
            return acmpca_error_last()->code;
        }
    }
}

int acmpca_call_ex(acmpca_client *c, int operation, const cJSON *input, cJSON **out,
                   acmpca_response_meta **meta)
{
    const acmpca_operation_info *op;
    acmpca_machine *m = NULL;
    int err;

    if (meta)
        *meta = NULL;
    if (!c || !out)
        return acmpca__error_set(ACMPCA_EINVAL, "client and out: must not be NULL");
    *out = NULL;
    op = acmpca_model_operation((size_t)operation);
    if (operation < 0 || !op)
        return acmpca__error_set(ACMPCA_EINVAL, "operation: unknown operation id %d", operation);
    if ((err = acmpca__machine_new_call_op(&m, c, op, input)) != 0)
        return err;
    err = acmpca__machine_run(m, NULL, NULL);
    if (acmpca_machine_result(m, out, meta) == 0 && meta && !*meta) {
        acmpca_machine_free(m);
        cJSON_Delete(*out);
        *out = NULL;
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    acmpca_machine_free(m);
    return err;
}

int acmpca_call(acmpca_client *c, const char *operation, const cJSON *input, cJSON **out)
{
    const acmpca_operation_info *op = acmpca__find_operation(operation);
    if (out)
        *out = NULL;
    if (!op)
        return ACMPCA_EINVAL;
    return acmpca_call_ex(c, op->id, input, out, NULL);
}

int acmpca_call_json(acmpca_client *c, const char *operation, const char *input_json,
                     char **out_json)
{
    cJSON *in = NULL, *out = NULL;
    const char *end = NULL;
    int err;

    if (!out_json)
        return acmpca__error_set(ACMPCA_EINVAL, "out_json: must not be NULL");
    *out_json = NULL;
    if (input_json && *input_json) {
        in = cJSON_ParseWithOpts(input_json, &end, 0);
        if (!in)
            return acmpca__error_set(ACMPCA_EPARAM, "input: not valid JSON (error at byte %ld)",
                                     end ? (long)(end - input_json) : -1L);
    }
    err = acmpca_call(c, operation, in, &out);
    cJSON_Delete(in);
    if (err)
        return err;
    *out_json = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!*out_json)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    return 0;
}

int acmpca_wait(acmpca_client *client, const char *name, const cJSON *input, double delay_s,
                int max_attempts, cJSON **last)
{
    return acmpca_wait_ex(client, name, input, delay_s, max_attempts, last, NULL, NULL);
}

int acmpca_wait_ex(acmpca_client *client, const char *name, const cJSON *input, double delay_s,
                   int max_attempts, cJSON **last, acmpca_wait_progress_fn progress,
                   void *userdata)
{
    acmpca_machine *m = NULL;
    cJSON *out = NULL;
    int err;

    if (last)
        *last = NULL;
    if ((err = acmpca_machine_new_waiter(&m, client, name, input, delay_s, max_attempts)) != 0)
        return err;
    if ((err = acmpca__machine_run(m, progress, userdata)) == 0)
        acmpca_machine_result(m, &out, NULL);
    acmpca_machine_free(m);
    if (last)
        *last = out;
    else
        cJSON_Delete(out);
    return err;
}

int acmpca_paginator_next(acmpca_paginator *p, cJSON **page)
{
    return acmpca_paginator_next_ex(p, page, NULL);
}

int acmpca_paginator_next_ex(acmpca_paginator *p, cJSON **page, acmpca_response_meta **meta)
{
    acmpca_machine *m = NULL;
    int err;

    if (meta)
        *meta = NULL;
    if (!p || !page)
        return acmpca__error_set(ACMPCA_EINVAL, "paginator and page: must not be NULL");
    *page = NULL;
    if ((err = acmpca_machine_new_page(&m, p)) != 0)
        return err;
    err = acmpca__machine_run(m, NULL, NULL);
    acmpca_machine_result(m, page, meta);
    acmpca_machine_free(m);
    return err;
}

static char *result_text(const cJSON *res, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, key);
    return cJSON_IsString(v) ? acmpca__strdup(v->valuestring) : NULL;
}

/* request_certificate: its machine (machine.c), driven by this driver. */
int acmpca_request_certificate(acmpca_client *client, const acmpca_certificate_request *r,
                               acmpca_issued_certificate **out)
{
    acmpca_issued_certificate *res = NULL;
    acmpca_machine *m = NULL;
    cJSON *json = NULL;
    int err;

    if (out)
        *out = NULL;
    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "client, request and out: must not be NULL");
    if ((err = acmpca_machine_new_request_certificate(&m, client, r)) != 0)
        return err;
    if ((err = acmpca__machine_run(m, r->wait_progress, r->wait_progress_userdata)) == 0 &&
        (err = acmpca_machine_result(m, &json, NULL)) == 0) {
        if (!(res = calloc(1, sizeof(*res))) ||
            !(res->certificate_arn = result_text(json, "CertificateArn")) ||
            !(res->certificate_pem = result_text(json, "Certificate")) ||
            !(res->certificate_chain_pem = result_text(json, "CertificateChain")) ||
            !(res->csr_pem = result_text(json, "Csr")) ||
            (cJSON_GetObjectItemCaseSensitive(json, "PrivateKey") &&
             !(res->private_key_pem = result_text(json, "PrivateKey")))) {
            acmpca_issued_certificate_free(res);
            res = NULL;
            err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        }
    }
    acmpca__certificate_result_free(json);
    acmpca_machine_free(m);
    *out = res;
    return err;
}
