/*
 * c_get_certificate.c - the C baseline of bench/lua_bench.lua: client CPU
 * time (user + system, getrusage) per GetCertificate call made through the
 * core, against the endpoint and credentials in the environment.
 *
 *   c_get_certificate CA_ARN CERT_ARN CALLS [WARMUP]
 *
 * Prints one line: "cpu_us_per_call <float> calls <n>".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "acmpca.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int one_call(acmpca_client *c, const cJSON *in)
{
    cJSON *out = NULL;
    acmpca_response_meta *meta = NULL;
    /* The same entry point and outputs the Lua binding uses (result + metadata). */
    int rc = acmpca_call_ex(c, ACMPCA_OP_GET_CERTIFICATE, in, &out, &meta);
    if (rc != 0)
        fprintf(stderr, "GetCertificate: %s: %s\n", acmpca_error_last()->aws_code,
                acmpca_error_last()->message);
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    return rc;
}

int main(int argc, char **argv)
{
    acmpca_client *c = NULL;
    cJSON *in;
    int i, calls, warmup;
    double t0, t1;

    if (argc < 4) {
        fprintf(stderr, "usage: %s CA_ARN CERT_ARN CALLS [WARMUP]\n", argv[0]);
        return 2;
    }
    calls = atoi(argv[3]);
    warmup = argc > 4 ? atoi(argv[4]) : 20;
    if (calls <= 0 || acmpca_global_init() != 0 || acmpca_client_new(&c, NULL) != 0) {
        fprintf(stderr, "setup failed: %s\n", acmpca_error_last()->message);
        return 1;
    }
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", argv[1]);
    cJSON_AddStringToObject(in, "CertificateArn", argv[2]);
    for (i = 0; i < warmup; i++)
        if (one_call(c, in) != 0)
            return 1;
    t0 = cpu_seconds();
    for (i = 0; i < calls; i++)
        if (one_call(c, in) != 0)
            return 1;
    t1 = cpu_seconds();
    printf("cpu_us_per_call %.3f calls %d\n", (t1 - t0) * 1e6 / calls, calls);
    cJSON_Delete(in);
    acmpca_client_free(c);
    acmpca_global_cleanup();
    return 0;
}
