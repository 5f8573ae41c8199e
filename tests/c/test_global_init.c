/*
 * test_global_init.c - acmpca_global_init/cleanup are reference-counted:
 * only the first init and the last cleanup act, and cleanups beyond the
 * inits do nothing. One user finishing (a lua_State closing, a plugin
 * unloading) never tears down what another user of the library, or of
 * libcurl, still relies on. Runs under tests/fixtures/with_server.py fault.
 *
 *   test_global_init   every case, in order (the first needs libcurl
 *                      untouched, so the cases share one process)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acmpca.h"
#include "check.h"

#define THREADS 4
#define ROUNDS 200

/* ---- the program's own use of libcurl, with allocators that count -------- */

static atomic_long curl_allocs;

static void *count_malloc(size_t n)
{
    atomic_fetch_add(&curl_allocs, 1);
    return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    atomic_fetch_add(&curl_allocs, 1);
    return realloc(p, n);
}

static char *count_strdup(const char *s)
{
    atomic_fetch_add(&curl_allocs, 1);
    return strdup(s);
}

static void *count_calloc(size_t n, size_t size)
{
    atomic_fetch_add(&curl_allocs, 1);
    return calloc(n, size);
}

/* ---- helpers --------------------------------------------------------------- */

/* One call through a fresh client: signs, sends to the fault server, parses. */
static int call_once(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *out = NULL;
    int rc;

    o.endpoint_url = getenv("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDGLOBALINIT";
    o.secret_access_key = "global-init-secret";
    o.session_token = "global-init-token";
    REQUIRE(o.endpoint_url != NULL);
    if ((rc = acmpca_client_new(&c, &o)) == 0)
        rc = acmpca_call(c, "ListCertificateAuthorities", NULL, &out);
    if (rc)
        fprintf(stderr, "call: %d %s\n", rc, acmpca_error_last()->message);
    else
        CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(out, "CertificateAuthorities")));
    cJSON_Delete(out);
    acmpca_client_free(c);
    return rc;
}

static int sign_once(void)
{
    acmpca_sign_input in;
    acmpca_signed *s = NULL;
    int rc;

    memset(&in, 0, sizeof(in));
    in.method = "GET";
    in.url = "https://example.amazonaws.com/";
    in.region = "us-east-1";
    in.service = "service";
    in.access_key_id = "AKIDEXAMPLE";
    in.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    in.timestamp = 1440938160;
    rc = acmpca_sign(&s, &in, NULL);
    if (!rc)
        CHECK_STR(s->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    acmpca_signed_free(s);
    return rc;
}

/* ---- cases ----------------------------------------------------------------- */

/*
 * The program initialised libcurl itself, before the library. However many
 * times the library's users call acmpca_global_cleanup, libcurl stays
 * initialised for the program: its allocators are still the program's.
 */
static void test_global_init__extra_cleanups_leave_libcurl_to_the_program(void)
{
    CURL *h;
    long before;

    REQUIRE(curl_global_init_mem(CURL_GLOBAL_DEFAULT, count_malloc, free, count_realloc,
                                 count_strdup, count_calloc) == CURLE_OK);
    REQUIRE(acmpca_global_init() == 0);
    CHECK_INT(call_once(), 0);
    acmpca_global_cleanup();
    acmpca_global_cleanup(); /* more cleanups than inits: no-ops */
    acmpca_global_cleanup();

    /* A libcurl that was torn down re-initialises itself with malloc & co. */
    before = atomic_load(&curl_allocs);
    h = curl_easy_init();
    REQUIRE(h != NULL);
    CHECK(atomic_load(&curl_allocs) > before);
    curl_easy_cleanup(h);
    curl_global_cleanup();
}

/* Two users: the first one leaving does not stop the second. */
static void test_global_init__nested_users_keep_working(void)
{
    REQUIRE(acmpca_global_init() == 0);
    REQUIRE(acmpca_global_init() == 0);
    CHECK_INT(sign_once(), 0);
    CHECK_INT(call_once(), 0);
    acmpca_global_cleanup(); /* the first user leaves */
    CHECK_INT(sign_once(), 0);
    CHECK_INT(call_once(), 0);
    acmpca_global_cleanup(); /* the last one: everything is released */
    acmpca_global_cleanup(); /* extra: nothing happens */

    /* And the library starts again. */
    REQUIRE(acmpca_global_init() == 0);
    CHECK_INT(sign_once(), 0);
    CHECK_INT(call_once(), 0);
    acmpca_global_cleanup();
}

static void *init_cleanup_loop(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < ROUNDS; i++) {
        if (acmpca_global_init() != 0)
            return (void *)1;
        if (sign_once() != 0)
            return (void *)1;
        acmpca_global_cleanup();
    }
    return NULL;
}

/* Users come and go on several threads while one stays: it keeps working. */
static void test_global_init__threads_come_and_go(void)
{
    pthread_t t[THREADS];
    void *failed;
    int i;

    REQUIRE(acmpca_global_init() == 0);
    for (i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, init_cleanup_loop, NULL) == 0);
    CHECK_INT(call_once(), 0);
    for (i = 0; i < THREADS; i++) {
        REQUIRE(pthread_join(t[i], &failed) == 0);
        CHECK(failed == NULL);
    }
    CHECK_INT(call_once(), 0);
    acmpca_global_cleanup();
}

int main(void)
{
    test_global_init__extra_cleanups_leave_libcurl_to_the_program();
    test_global_init__nested_users_keep_working();
    test_global_init__threads_come_and_go();
    return CHECK_DONE();
}
