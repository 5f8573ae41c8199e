/*
 * rate_limit.c - 4 threads issue certificates as fast as they can against a
 * server that throttles IssueCertificate above 25 requests per second (ACM
 * PCA's quota; tests/fixtures/fixture_server.py), once with the client-side
 * rate limiter off and once on, and print throughput, throttled responses
 * and attempts side by side.
 *
 *   python3 tests/fixtures/with_server.py fixture -- build/bench/rate_limit [calls-per-thread]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acmpca.h>

#define THREADS 4

typedef struct worker {
    pthread_t thread;
    acmpca_client *client;
    int calls, ok, failed, attempts;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    cJSON *in = cJSON_Parse(
        "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:us-east-1:123456789012:"
        "certificate-authority/bench\",\"Csr\":\"-----BEGIN CERTIFICATE REQUEST-----\","
        "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}");
    int i;
    for (i = 0; i < w->calls; i++) {
        cJSON *out = NULL;
        acmpca_response_meta *meta = NULL;
        if (acmpca_call_ex(w->client, ACMPCA_OP_ISSUE_CERTIFICATE, in, &out, &meta) == 0) {
            w->ok++;
            w->attempts += 1 + meta->retry_attempts;
        } else {
            w->failed++;
            w->attempts += acmpca_error_last()->attempts;
        }
        acmpca_response_meta_free(meta);
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(const char *label, int limiter, int calls)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    worker w[THREADS];
    int i, ok = 0, failed = 0, attempts = 0;
    double t0, elapsed;

    o.rate_limit = limiter;
    if (acmpca_client_new(&c, &o) != 0) {
        fprintf(stderr, "client: %s\n", acmpca_error_last()->message);
        exit(1);
    }
    t0 = now();
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].client = c;
        w[i].calls = calls;
        pthread_create(&w[i].thread, NULL, run, &w[i]);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(w[i].thread, NULL);
        ok += w[i].ok;
        failed += w[i].failed;
        attempts += w[i].attempts;
    }
    elapsed = now() - t0;
    printf("%-12s %8.1f %10d %8d %10d %14d\n", label, ok / elapsed, ok, failed, attempts,
           attempts - ok - failed);
    acmpca_client_free(c);
}

int main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 40;
    acmpca_global_init();
    printf("IssueCertificate, %d threads x %d calls, server quota 25/s\n", THREADS, calls);
    printf("%-12s %8s %10s %8s %10s %14s\n", "limiter", "issued/s", "issued", "failed",
           "attempts", "extra attempts");
    measure("off", 0, calls);
    measure("on (25/s)", 1, calls);
    acmpca_global_cleanup();
    return 0;
}
