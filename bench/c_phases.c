/*
 * c_phases.c - where the C client's CPU per GetCertificate goes, outside
 * libcurl: the call machine (acmpca/machine.h) given the canned server's
 * answer, with no I/O, in four loops that each do one phase more than the
 * one before, so that their differences price each phase:
 *
 *   make    acmpca_machine_new_call + acmpca_machine_free: the input checked
 *           against the model and serialized, the request's URL and headers
 *   sign    + the first acmpca_machine_next: the credentials, SigV4
 *   answer  + acmpca_machine_response and the next step: status, headers and
 *           the body read into the result
 *   result  + acmpca_machine_result, with meta as c_get_certificate asks,
 *           and both freed
 *
 * Measured natively on purpose: under valgrind OpenSSL cannot use the SHA
 * extensions, and signing looks several times dearer than it is. What the
 * C face costs beyond these four is the transport's: the request written,
 * the answer read, the connection kept.
 *
 *   c_phases   (protocol: face.h; no endpoint is contacted) prints the line
 *              with cpu_us_per_call the whole and "phases": {make, sign,
 *              answer, result} in CPU µs per call, each the least of 3 rounds
 */
#define _POSIX_C_SOURCE 200809L
#include "acmpca.h"
#include "acmpca/machine.h"
#include "face.h"

enum { MAKE, SIGN, ANSWER, RESULT, PHASES };
static const char *const phase_names[PHASES] = {"make", "sign", "answer", "result"};

static const char answer_body[] =
    "{\"Certificate\":\"-----BEGIN CERTIFICATE-----\\nMIIBcanned\\n-----END CERTIFICATE-----\","
    "\"CertificateChain\":\"-----BEGIN CERTIFICATE-----\\nMIIBchain\\n-----END "
    "CERTIFICATE-----\"}";
static const acmpca_header answer_headers[] = {
    {"content-type", "application/x-amz-json-1.1"},
    {"x-amzn-requestid", "canned-0000"},
    {"content-length", "171"},
    {"connection", "keep-alive"},
};

/* One call made as far as `last`; 0, or -1 with the error printed. */
static int one_call(acmpca_client *c, const cJSON *in, int last)
{
    acmpca_machine *m = NULL;
    acmpca_response_meta *meta = NULL;
    acmpca_step s;
    cJSON *out = NULL;
    int rc = -1;

    if (acmpca_machine_new_call(&m, c, "GetCertificate", in) != 0)
        goto done;
    if (last >= SIGN && acmpca_machine_next(m, &s) != ACMPCA_STEP_SEND)
        goto done;
    if (last >= ANSWER &&
        (acmpca_machine_response(m, 200, answer_headers,
                                 sizeof(answer_headers) / sizeof(answer_headers[0]),
                                 answer_body, sizeof(answer_body) - 1) != 0 ||
         acmpca_machine_next(m, &s) != ACMPCA_STEP_DONE))
        goto done;
    if (last >= RESULT && (acmpca_machine_result(m, &out, &meta) != 0 ||
                           !cJSON_GetObjectItemCaseSensitive(out, "Certificate")))
        goto done;
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "c_phases: %s\n", acmpca_error_last()->message);
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    acmpca_machine_free(m);
    return rc;
}

int main(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *in = NULL;
    face_times t;
    double best[PHASES], cpu, t1;
    char extra[256];
    long i, calls, warmup;
    int round, p, n, rc = 1;

    face_start(&t);
    calls = face_env_count("BENCH_CALLS", 1000, 1);
    warmup = face_env_count("BENCH_WARMUP", 100, 0);
    /* The client c_get_certificate makes (credentials and region from the
     * environment the harness gives both), for the same URL: never contacted. */
    o.endpoint_url = face_env("BENCH_ENDPOINT", "http://127.0.0.1:9");
    if (acmpca_global_init() != 0 || acmpca_client_new(&c, &o) != 0 || !(in = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(in, "CertificateAuthorityArn",
                                 face_env("BENCH_CA_ARN", FACE_CA_ARN)) ||
        !cJSON_AddStringToObject(in, "CertificateArn", face_env("BENCH_CERT_ARN", FACE_CERT_ARN))) {
        fprintf(stderr, "c_phases: %s\n", acmpca_error_last()->message);
        goto fail;
    }
    t1 = face_realtime();
    t.import_client_ms = (t1 - t.main_s) * 1e3;
    if (one_call(c, in, RESULT) != 0)
        goto fail;
    t.first_call_ms = (face_realtime() - t1) * 1e3;
    for (i = 1; i < warmup; i++)
        if (one_call(c, in, RESULT) != 0)
            goto fail;
    for (p = 0; p < PHASES; p++)
        best[p] = -1;
    for (round = 0; round < 3; round++)
        for (p = 0; p < PHASES; p++) {
            face_loop_begin(&t);
            for (i = 0; i < calls; i++)
                if (one_call(c, in, p) != 0)
                    goto fail;
            face_loop_end(&t);
            if (best[p] < 0 || t.cpu < best[p])
                best[p] = t.cpu;
        }
    /* The line's CPU is the whole call's (the last loop); its phases the differences. */
    t.cpu = best[RESULT];
    n = snprintf(extra, sizeof(extra), ",\"phases\":{");
    for (p = 0; p < PHASES; p++) {
        cpu = (best[p] - (p > 0 ? best[p - 1] : 0)) * 1e6 / (double)calls;
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, "%s\"%s\":%.3f", p ? "," : "",
                      phase_names[p], cpu);
    }
    snprintf(extra + n, sizeof(extra) - (size_t)n, "}");
    face_print(&t, "acmpca C phases", acmpca_version(), calls, extra);
    rc = 0;
fail:
    cJSON_Delete(in);
    acmpca_client_free(c);
    return rc;
}
