/*
 * c_get_certificate.c - the acmpca C face of the benchmark: GetCertificate in
 * a loop on one client, through the same entry point and outputs the Lua
 * binding uses (acmpca_call_ex: result + metadata).
 *
 *   BENCH_ENDPOINT=http://127.0.0.1:PORT c_get_certificate
 *       the protocol of bench/face.h; BENCH_THREADS (default 1) threads share
 *       the one client, each making BENCH_CALLS / BENCH_THREADS calls
 *   c_get_certificate CA_ARN CERT_ARN CALLS [WARMUP]
 *       for bench/lua_bench.lua: endpoint and credentials from the environment
 *       as any acmpca program reads them
 *
 * Prints one JSON line (bench/face.h), plus "threads" and "calls_per_s".
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "acmpca.h"
#include "face.h"

#define MAX_THREADS 64

typedef struct worker {
    pthread_t thread;
    acmpca_client *client;
    const cJSON *in;
    long calls;
    int rc;
} worker;

static int one_call(acmpca_client *c, const cJSON *in)
{
    cJSON *out = NULL;
    acmpca_response_meta *meta = NULL;
    int rc = acmpca_call_ex(c, ACMPCA_OP_GET_CERTIFICATE, in, &out, &meta);
    if (rc != 0)
        fprintf(stderr, "GetCertificate: %s: %s\n", acmpca_error_last()->aws_code,
                acmpca_error_last()->message);
    else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(out, "Certificate")))
        rc = -1, fprintf(stderr, "GetCertificate: no Certificate in the answer\n");
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    return rc;
}

static void *run(void *arg)
{
    worker *w = arg;
    long i;
    for (i = 0; i < w->calls && w->rc == 0; i++)
        w->rc = one_call(w->client, w->in);
    return NULL;
}

int main(int argc, char **argv)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *in = NULL;
    worker w[MAX_THREADS];
    face_times t;
    long i, started, calls, warmup, threads = 1;
    const char *ca, *cert;
    char extra[96];
    double t1;
    int rc = 1;

    face_start(&t);
    if (argc > 1) {
        if (argc < 4) {
            fprintf(stderr, "usage: %s [CA_ARN CERT_ARN CALLS [WARMUP]]\n", argv[0]);
            return 2;
        }
        ca = argv[1];
        cert = argv[2];
        calls = atol(argv[3]);
        warmup = argc > 4 ? atol(argv[4]) : 20;
    } else {
        if (!(o.endpoint_url = getenv("BENCH_ENDPOINT"))) {
            fprintf(stderr, "BENCH_ENDPOINT: expected http://127.0.0.1:PORT, got nothing\n");
            return 2;
        }
        ca = face_env("BENCH_CA_ARN", FACE_CA_ARN);
        cert = face_env("BENCH_CERT_ARN", FACE_CERT_ARN);
        calls = face_env_count("BENCH_CALLS", 1000, 1);
        warmup = face_env_count("BENCH_WARMUP", 100, 0);
        threads = face_env_count("BENCH_THREADS", 1, 1);
    }
    if (calls <= 0 || threads > MAX_THREADS) {
        fprintf(stderr, "CALLS: expected > 0, BENCH_THREADS: at most %d\n", MAX_THREADS);
        return 2;
    }

    if (acmpca_global_init() != 0 || acmpca_client_new(&c, &o) != 0) {
        fprintf(stderr, "setup failed: %s\n", acmpca_error_last()->message);
        goto fail;
    }
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca);
    cJSON_AddStringToObject(in, "CertificateArn", cert);
    t1 = face_realtime();
    t.import_client_ms = (t1 - t.main_s) * 1e3;
    if (one_call(c, in) != 0)
        goto fail;
    t.first_call_ms = (face_realtime() - t1) * 1e3;
    for (i = 1; i < warmup; i++)
        if (one_call(c, in) != 0)
            goto fail;

    memset(w, 0, sizeof(w));
    face_loop_begin(&t);
    if (threads == 1) {
        w[0].client = c;
        w[0].in = in;
        w[0].calls = calls;
        run(&w[0]);
    } else {
        for (started = 0; started < threads; started++) {
            w[started].client = c;
            w[started].in = in;
            w[started].calls = calls / threads + (started < calls % threads);
            if (pthread_create(&w[started].thread, NULL, run, &w[started]) != 0) {
                w[started].rc = -1;
                fprintf(stderr, "pthread_create failed\n");
                break;
            }
        }
        for (i = 0; i < started; i++)
            pthread_join(w[i].thread, NULL);
    }
    for (i = 0; i < threads; i++)
        if (w[i].rc != 0)
            goto fail;
    face_loop_end(&t);
    snprintf(extra, sizeof(extra), ",\"threads\":%ld,\"calls_per_s\":%.1f", threads,
             (double)calls / t.wall);
    face_print(&t, "acmpca C", acmpca_version(), calls, extra);
    rc = 0;
fail:
    cJSON_Delete(in);
    acmpca_client_free(c);
    acmpca_global_cleanup();
    return rc;
}
