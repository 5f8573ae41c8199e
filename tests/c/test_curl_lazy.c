/*
 * test_curl_lazy.c - the Python extension's lazily loaded libcurl
 * (bindings/python/curl_lazy.c), built into this program with the core as
 * the extension builds it (ACMPCA_LAZY_CURL, libcurl not linked; the table
 * module _curl_lazytest next to this _acmpca_lazytest), so that the C suite
 * and its TSan build check the first load: global init and a client map no
 * libcurl; threads making the process's first calls at once all succeed
 * through one load; acmpca_global_cleanup after it releases libcurl.
 * Runs under tests/fixtures/with_server.py fault.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acmpca.h"
#include "check.h"

#define THREADS 8

static pthread_barrier_t start;

static int libcurl_mapped(void)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    REQUIRE(f != NULL);
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "/libcurl"))
            found = 1;
    fclose(f);
    return found;
}

static void *first_call(void *client)
{
    cJSON *out = NULL;
    int rc;

    pthread_barrier_wait(&start);
    rc = acmpca_call(client, "ListCertificateAuthorities", NULL, &out);
    if (rc)
        fprintf(stderr, "call: %d %s\n", rc, acmpca_error_last()->message);
    else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(out, "CertificateAuthorities")))
        rc = -1;
    cJSON_Delete(out);
    return rc ? "failed" : NULL;
}

static void test_curl_lazy__first_calls_from_threads_load_libcurl_once(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    pthread_t t[THREADS];
    void *failed;
    int i;

    o.endpoint_url = getenv("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDCURLLAZY";
    o.secret_access_key = "curl-lazy-secret";
    o.pool_size = THREADS;
    REQUIRE(o.endpoint_url != NULL);
    REQUIRE(acmpca_global_init() == 0);
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    CHECK(!libcurl_mapped());
    REQUIRE(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, first_call, c) == 0);
    for (i = 0; i < THREADS; i++) {
        REQUIRE(pthread_join(t[i], &failed) == 0);
        CHECK(failed == NULL);
    }
    pthread_barrier_destroy(&start);
    CHECK(libcurl_mapped());
    acmpca_client_free(c);
    acmpca_global_cleanup();
}

int main(void)
{
    test_curl_lazy__first_calls_from_threads_load_libcurl_once();
    return CHECK_DONE();
}
