/*
 * test_credentials.c - credentials, the provider cache and its refresh
 * windows, reference counting, thread safety, and the static, environment,
 * file and chain providers.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "temp_files.h"

#define T0 ((int64_t)1700000000)

static void clear_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    unsetenv("AWS_PROFILE");
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
}

/* Get once from a fresh reference; the provider is released. */
static int get_once(acmpca_credentials_provider *p, acmpca_credentials **out)
{
    int rc = acmpca_credentials_get(p, T0, out);
    acmpca_credentials_provider_unref(p);
    return rc;
}

static void test_credentials_object(void)
{
    acmpca_credentials *c = NULL;

    CHECK_INT(acmpca_credentials_new(&c, "AKID", "SECRET", "TOKEN", 42, "me"), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKID");
    CHECK_STR(c->secret_access_key, "SECRET");
    CHECK_STR(c->session_token, "TOKEN");
    CHECK_INT(c->expiration, 42);
    CHECK_STR(c->provider, "me");
    acmpca_credentials_free(c);

    CHECK_INT(acmpca_credentials_new(&c, "AKID", "SECRET", "", 0, NULL), 0);
    REQUIRE(c);
    CHECK(c->session_token == NULL);
    CHECK(c->provider == NULL);
    acmpca_credentials_free(c);

    CHECK_INT(acmpca_credentials_new(&c, "AKID", NULL, NULL, 0, NULL), ACMPCA_EINVAL);
    CHECK(c == NULL);
    CHECK_INT(acmpca_credentials_new(&c, "", "SECRET", NULL, 0, NULL), ACMPCA_EINVAL);
    acmpca_credentials_free(NULL);
}

static void test_static(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;

    CHECK_INT(acmpca_credentials_provider_static(&p, "AKIDSTATIC", "SECRETSTATIC", NULL), 0);
    REQUIRE(p);
    CHECK_STR(acmpca_credentials_provider_name(p), "static");
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDSTATIC");
    CHECK_STR(c->secret_access_key, "SECRETSTATIC");
    CHECK(c->session_token == NULL);
    CHECK_INT(c->expiration, 0);
    CHECK_STR(c->provider, "static");
    acmpca_credentials_free(c);

    p = NULL;
    CHECK_INT(acmpca_credentials_provider_static(&p, "AKID", "", NULL), ACMPCA_EINVAL);
    CHECK(p == NULL);
    CHECK(strstr(acmpca_error_last()->message, "AKID") == NULL);
}

static void test_environment(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;

    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_STR(acmpca_credentials_provider_name(p), "environment");
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDENV");
    CHECK_STR(c->secret_access_key, "SECRETENV");
    CHECK(c->session_token == NULL);
    CHECK_INT(c->expiration, 0);
    CHECK_STR(c->provider, "environment");
    acmpca_credentials_free(c);

    /* With a token and an expiry. */
    setenv("AWS_SESSION_TOKEN", "TOKENENV", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05Z", 1);
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->session_token, "TOKENENV");
    CHECK_INT(c->expiration, 1893553445);
    acmpca_credentials_free(c);

    /* Offsets and fractions. */
    setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-02T05:04:05.123+02:00", 1);
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_INT(c->expiration, 1893553445);
    acmpca_credentials_free(c);

    setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ECREDENTIALS);
    CHECK(c == NULL);
    CHECK_CONTAINS(acmpca_error_last()->message, "AWS_CREDENTIAL_EXPIRATION");
    CHECK(strstr(acmpca_error_last()->message, "SECRETENV") == NULL);
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    unsetenv("AWS_SESSION_TOKEN");

    /* Partial: the reason names what is missing; the secret is never shown. */
    unsetenv("AWS_ACCESS_KEY_ID");
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK(c == NULL);
    CHECK_STR(acmpca_error_last()->message,
              "environment: AWS_ACCESS_KEY_ID not set (AWS_SECRET_ACCESS_KEY is)");
    CHECK(strstr(acmpca_error_last()->message, "SECRETENV") == NULL);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK_STR(acmpca_error_last()->message,
              "environment: AWS_SECRET_ACCESS_KEY not set (AWS_ACCESS_KEY_ID is)");

    clear_env();
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK_STR(acmpca_error_last()->message, "environment: AWS_ACCESS_KEY_ID not set");
}

static const char *cred_path, *cfg_path;

static void use_files(void)
{
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
    setenv("AWS_CONFIG_FILE", cfg_path, 1);
}

static void test_profile(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    char expected[1024];

    use_files();
    /* The credentials file first. */
    CHECK_INT(acmpca_credentials_provider_profile(&p, NULL), 0);
    CHECK_STR(acmpca_credentials_provider_name(p), "profile");
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDCREDSDEFAULT");
    CHECK_STR(c->secret_access_key, "SECRETCREDSDEFAULT");
    CHECK_STR(c->session_token, "TOKENCREDSDEFAULT");
    CHECK_STR(c->provider, "shared-credentials-file");
    acmpca_credentials_free(c);

    /* Then the config file ("[profile x]"). */
    CHECK_INT(acmpca_credentials_provider_profile(&p, "cfgonly"), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDCFGONLY");
    CHECK(c->session_token == NULL);
    CHECK_STR(c->provider, "config-file");
    acmpca_credentials_free(c);

    /* AWS_PROFILE when no profile is given. */
    setenv("AWS_PROFILE", "both", 1);
    CHECK_INT(acmpca_credentials_provider_profile(&p, NULL), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDBOTHCREDS");
    acmpca_credentials_free(c);
    unsetenv("AWS_PROFILE");

    /* Partial keys: the reason says which key is missing, never the secret. */
    CHECK_INT(acmpca_credentials_provider_profile(&p, "partial"), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK(c == NULL);
    snprintf(expected, sizeof(expected),
             "no credentials found; tried: shared-credentials-file (%s: profile \"partial\" has "
             "aws_secret_access_key but no aws_access_key_id), config-file (%s: profile "
             "\"partial\" has aws_access_key_id but no aws_secret_access_key)",
             cred_path, cfg_path);
    CHECK_STR(acmpca_error_last()->message, expected);
    CHECK(strstr(acmpca_error_last()->message, "SECRETPARTIAL") == NULL);

    CHECK_INT(acmpca_credentials_provider_profile(&p, "missing"), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    snprintf(expected, sizeof(expected),
             "no credentials found; tried: shared-credentials-file (%s: profile \"missing\" not "
             "found), config-file (%s: profile \"missing\" not found)",
             cred_path, cfg_path);
    CHECK_STR(acmpca_error_last()->message, expected);

    /* A profile with settings but no keys. */
    CHECK_INT(acmpca_credentials_provider_profile(&p, "nokeys"), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK_CONTAINS(acmpca_error_last()->message, "profile \"nokeys\" has no aws_access_key_id");

    /* An unreadable file is a hard error that names the source. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/tmp", 1);
    CHECK_INT(acmpca_credentials_provider_profile(&p, NULL), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ECONFIG);
    CHECK_STR(acmpca_error_last()->message, "shared-credentials-file: /tmp: is a directory");
    clear_env();
}

static void test_default_chain(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    char expected[1024];

    /* Nothing anywhere: every source is listed with its reason. */
    clear_env();
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    CHECK_STR(acmpca_credentials_provider_name(p), "default-chain");
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    CHECK(c == NULL);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_ENOCREDENTIALS);
    CHECK_STR(acmpca_error_last()->message,
              "no credentials found; tried: environment (AWS_ACCESS_KEY_ID not set), "
              "assume-role (no role_arn in profile \"default\"), "
              "web-identity (no AWS_WEB_IDENTITY_TOKEN_FILE, no web_identity_token_file in "
              "profile \"default\"), "
              "sso (no sso_session or sso_start_url in profile \"default\"), "
              "shared-credentials-file (/nonexistent: no such file), "
              "credential-process (no credential_process in profile \"default\"), "
              "config-file (/nonexistent: no such file), "
              "container (no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI), "
              "imds (AWS_EC2_METADATA_DISABLED=true)");

    /* The files exist but lack the profile. */
    use_files();
    CHECK_INT(acmpca_credentials_provider_default(&p, "missing"), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
    snprintf(expected, sizeof(expected),
             "no credentials found; tried: environment (AWS_ACCESS_KEY_ID not set), "
             "assume-role (no role_arn in profile \"missing\"), "
             "web-identity (no AWS_WEB_IDENTITY_TOKEN_FILE, no web_identity_token_file in "
             "profile \"missing\"), "
             "sso (no sso_session or sso_start_url in profile \"missing\"), "
             "shared-credentials-file (%s: profile \"missing\" not found), "
             "credential-process (no credential_process in profile \"missing\"), "
             "config-file (%s: profile \"missing\" not found), "
             "container (no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI), "
             "imds (AWS_EC2_METADATA_DISABLED=true)", cred_path, cfg_path);
    CHECK_STR(acmpca_error_last()->message, expected);

    /* Files only. */
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDCREDSDEFAULT");
    CHECK_STR(c->provider, "shared-credentials-file");
    acmpca_credentials_free(c);

    /* The environment beats the files. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    CHECK_INT(get_once(p, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDENV");
    CHECK_STR(c->provider, "environment");
    acmpca_credentials_free(c);

    /* A user-built chain of chains lists the leaf sources once each. */
    clear_env();
    {
        acmpca_credentials_provider *list[2] = {NULL, NULL};
        CHECK_INT(acmpca_credentials_provider_environment(&list[0]), 0);
        CHECK_INT(acmpca_credentials_provider_profile(&list[1], NULL), 0);
        CHECK_INT(acmpca_credentials_provider_chain(&p, list, 2), 0);
        CHECK_STR(acmpca_credentials_provider_name(p), "chain");
        CHECK_INT(get_once(p, &c), ACMPCA_ENOCREDENTIALS);
        CHECK_STR(acmpca_error_last()->message,
                  "no credentials found; tried: environment (AWS_ACCESS_KEY_ID not set), "
                  "shared-credentials-file (/nonexistent: no such file), "
                  "config-file (/nonexistent: no such file)");
    }
}

/* ---- a custom provider with a controllable clock -------------------------- */

typedef struct fake_source {
    atomic_int calls;
    int fail;               /* 0 ok, else the code to return */
    int64_t expiration;     /* of the next credentials returned */
    int sleep_ms;
    atomic_int destroyed;
} fake_source;

static int fake_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    fake_source *f = ctx;
    char id[32];
    int n = atomic_fetch_add(&f->calls, 1) + 1;

    if (f->sleep_ms) {
        struct timespec ts = {0, (long)f->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (f->fail == ACMPCA_ENOCREDENTIALS) {
        snprintf(why, why_len, "fake has nothing");
        return f->fail;
    }
    if (f->fail) {
        /* The real fetch error; it must not mention the secret either. */
        return acmpca__error_set(f->fail, "endpoint unreachable");
    }
    snprintf(id, sizeof(id), "AKIDFAKE%d", n);
    return acmpca_credentials_new(out, id, "SECRETFAKE", "TOKENFAKE", f->expiration, NULL);
}

static void fake_destroy(void *ctx)
{
    fake_source *f = ctx;
    atomic_fetch_add(&f->destroyed, 1);
}

static void expect_key(acmpca_credentials_provider *p, int64_t now, const char *id)
{
    acmpca_credentials *c = NULL;
    int rc = acmpca_credentials_get(p, now, &c);
    CHECK_INT(rc, 0);
    if (rc == 0 && c) {
        CHECK_STR(c->access_key_id, id);
        CHECK_STR(c->provider, "fake");
    }
    acmpca_credentials_free(c);
}

static void test_cache_and_refresh(void)
{
    fake_source f;
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;

    memset(&f, 0, sizeof(f));
    f.expiration = T0 + 3600;
    CHECK_INT(acmpca_credentials_provider_new(&p, "fake", fake_fetch, fake_destroy, &f), 0);
    REQUIRE(p);
    CHECK_STR(acmpca_credentials_provider_name(p), "fake");

    /* First get fetches; later ones hit the cache up to 15 minutes before expiry. */
    expect_key(p, T0, "AKIDFAKE1");
    expect_key(p, T0 + 100, "AKIDFAKE1");
    expect_key(p, T0 + 3600 - 900, "AKIDFAKE1");
    CHECK_INT(atomic_load(&f.calls), 1);

    /* Inside 15 minutes: refreshed. */
    f.expiration = T0 + 7200;
    expect_key(p, T0 + 3600 - 899, "AKIDFAKE2");
    CHECK_INT(atomic_load(&f.calls), 2);
    expect_key(p, T0 + 3600, "AKIDFAKE2");
    CHECK_INT(atomic_load(&f.calls), 2);

    /* Advisory window (10-15 minutes left): a failed refresh keeps the old ones. */
    f.fail = ACMPCA_ECREDENTIALS;
    expect_key(p, T0 + 7200 - 700, "AKIDFAKE2");
    CHECK_INT(atomic_load(&f.calls), 3);
    expect_key(p, T0 + 7200 - 601, "AKIDFAKE2");
    CHECK_INT(atomic_load(&f.calls), 4);

    /* Mandatory window (10 minutes or less): the failure is returned. */
    CHECK_INT(acmpca_credentials_get(p, T0 + 7200 - 600, &c), ACMPCA_ECREDENTIALS);
    CHECK(c == NULL);
    CHECK_STR(acmpca_error_last()->message, "endpoint unreachable");
    CHECK_INT(acmpca_credentials_get(p, T0 + 7200 - 10, &c), ACMPCA_ECREDENTIALS);
    /* A source with nothing: the reason, prefixed with the provider name. */
    f.fail = ACMPCA_ENOCREDENTIALS;
    CHECK_INT(acmpca_credentials_get(p, T0 + 7200 + 5, &c), ACMPCA_ENOCREDENTIALS);
    CHECK_STR(acmpca_error_last()->message, "fake: fake has nothing");
    CHECK(c == NULL);
    CHECK_INT(atomic_load(&f.calls), 7);

    /* Recovery. */
    f.fail = 0;
    f.expiration = 0;
    expect_key(p, T0 + 7200 + 10, "AKIDFAKE8");
    /* Credentials that never expire are never fetched again. */
    expect_key(p, T0 + 1000000, "AKIDFAKE8");
    CHECK_INT(atomic_load(&f.calls), 8);

    acmpca_credentials_provider_unref(p);
    CHECK_INT(atomic_load(&f.destroyed), 1);
}

static int bad_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    (void)ctx;
    (void)why;
    (void)why_len;
    *out = calloc(1, sizeof(**out));   /* no keys */
    return *out ? 0 : ACMPCA_ENOMEM;
}

static void test_bad_provider(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;

    CHECK_INT(acmpca_credentials_provider_new(&p, "bad", bad_fetch, NULL, NULL), 0);
    CHECK_INT(acmpca_credentials_get(p, 0, &c), ACMPCA_ECREDENTIALS);
    CHECK_CONTAINS(acmpca_error_last()->message, "\"bad\"");
    CHECK(c == NULL);
    acmpca_credentials_provider_unref(p);

    CHECK_INT(acmpca_credentials_provider_new(&p, "x", NULL, NULL, NULL), ACMPCA_EINVAL);
    CHECK_INT(acmpca_credentials_get(NULL, 0, &c), ACMPCA_EINVAL);
}

static void test_hard_error_stops_chain(void)
{
    fake_source failing, after;
    acmpca_credentials_provider *list[3] = {NULL, NULL, NULL}, *chain = NULL;
    acmpca_credentials *c = NULL;

    clear_env();
    memset(&failing, 0, sizeof(failing));
    memset(&after, 0, sizeof(after));
    failing.fail = ACMPCA_ECREDENTIALS;
    CHECK_INT(acmpca_credentials_provider_environment(&list[0]), 0);
    CHECK_INT(acmpca_credentials_provider_new(&list[1], "broken", fake_fetch, fake_destroy,
                                              &failing), 0);
    CHECK_INT(acmpca_credentials_provider_new(&list[2], "after", fake_fetch, fake_destroy,
                                              &after), 0);
    CHECK_INT(acmpca_credentials_provider_chain(&chain, list, 3), 0);
    CHECK_INT(acmpca_credentials_get(chain, T0, &c), ACMPCA_ECREDENTIALS);
    CHECK(c == NULL);
    CHECK_STR(acmpca_error_last()->message, "broken: endpoint unreachable");
    CHECK_INT(atomic_load(&failing.calls), 1);
    CHECK_INT(atomic_load(&after.calls), 0);

    /* Once the broken source has nothing, the chain moves on. */
    failing.fail = ACMPCA_ENOCREDENTIALS;
    after.expiration = 0;
    CHECK_INT(acmpca_credentials_get(chain, T0, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDFAKE1");
    CHECK_STR(c->provider, "after");
    acmpca_credentials_free(c);

    acmpca_credentials_provider_unref(chain);
    CHECK_INT(atomic_load(&failing.destroyed), 1);
    CHECK_INT(atomic_load(&after.destroyed), 1);
}

static void test_refcount(void)
{
    fake_source f;
    acmpca_credentials_provider *p = NULL, *owner2, *chain = NULL, *list[1];
    acmpca_credentials *c = NULL;

    memset(&f, 0, sizeof(f));
    CHECK_INT(acmpca_credentials_provider_new(&p, "shared", fake_fetch, fake_destroy, &f), 0);
    owner2 = acmpca_credentials_provider_ref(p);
    CHECK(owner2 == p);

    /* First owner lets go: still alive for the second, cache intact. */
    CHECK_INT(acmpca_credentials_get(p, T0, &c), 0);
    acmpca_credentials_free(c);
    acmpca_credentials_provider_unref(p);
    CHECK_INT(atomic_load(&f.destroyed), 0);
    CHECK_INT(acmpca_credentials_get(owner2, T0, &c), 0);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDFAKE1");
    acmpca_credentials_free(c);
    CHECK_INT(atomic_load(&f.calls), 1);

    /* A chain takes over the reference it is given. */
    list[0] = acmpca_credentials_provider_ref(owner2);
    CHECK_INT(acmpca_credentials_provider_chain(&chain, list, 1), 0);
    acmpca_credentials_provider_unref(chain);
    CHECK_INT(atomic_load(&f.destroyed), 0);

    /* Last reference: destroyed exactly once. */
    acmpca_credentials_provider_unref(owner2);
    CHECK_INT(atomic_load(&f.destroyed), 1);

    CHECK(acmpca_credentials_provider_ref(NULL) == NULL);
    acmpca_credentials_provider_unref(NULL);
    CHECK_STR(acmpca_credentials_provider_name(NULL), "");

    /* Also on failure, the chain releases what it was given. */
    memset(&f, 0, sizeof(f));
    {
        acmpca_credentials_provider *two[2] = {NULL, NULL};
        CHECK_INT(acmpca_credentials_provider_new(&two[0], "f", fake_fetch, fake_destroy, &f), 0);
        CHECK_INT(acmpca_credentials_provider_chain(&chain, two, 2), ACMPCA_EINVAL);
        CHECK_INT(atomic_load(&f.destroyed), 1);
    }
}

/* ---- threads ---------------------------------------------------------------- */

#define THREADS 8

typedef struct thread_arg {
    acmpca_credentials_provider *p;
    pthread_barrier_t *start;
    int rc;
    int ok;
} thread_arg;

static void *thread_main(void *arg)
{
    thread_arg *a = arg;
    acmpca_credentials *c = NULL;
    int i;

    pthread_barrier_wait(a->start);
    a->ok = 1;
    for (i = 0; i < 50; i++) {
        a->rc = acmpca_credentials_get(a->p, T0, &c);
        if (a->rc != 0 || !c || strcmp(c->access_key_id, "AKIDFAKE1") != 0)
            a->ok = 0;
        acmpca_credentials_free(c);
        c = NULL;
    }
    return NULL;
}

static void test_threads(void)
{
    fake_source f;
    acmpca_credentials_provider *p = NULL;
    pthread_t threads[THREADS];
    thread_arg args[THREADS];
    pthread_barrier_t start;
    int i;

    memset(&f, 0, sizeof(f));
    f.expiration = T0 + 3600;
    f.sleep_ms = 50;    /* keep the first fetch in flight while the others arrive */
    CHECK_INT(acmpca_credentials_provider_new(&p, "fake", fake_fetch, fake_destroy, &f), 0);
    REQUIRE(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (i = 0; i < THREADS; i++) {
        args[i].p = acmpca_credentials_provider_ref(p);
        args[i].start = &start;
        REQUIRE(pthread_create(&threads[i], NULL, thread_main, &args[i]) == 0);
    }
    acmpca_credentials_provider_unref(p);   /* the threads hold the rest */
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT(args[i].rc, 0);
        CHECK(args[i].ok);
        acmpca_credentials_provider_unref(args[i].p);
    }
    pthread_barrier_destroy(&start);
    CHECK_INT(atomic_load(&f.calls), 1);
    CHECK_INT(atomic_load(&f.destroyed), 1);
}

/*
 * The access key id and the session token are sent as headers: a line break
 * in either would start headers of its own, so no provider may hand them out.
 */
static void test_credentials__control_characters_in_credentials_refused(void)
{
    static const char *const tokens[] = {"TOKEN\r\nX-Injected: 1", "TOKEN\nX", "TOKEN\x01X",
                                         "TOKEN\x7fX"};
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    size_t i;

    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        setenv("AWS_SESSION_TOKEN", tokens[i], 1);
        CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
        CHECK_INT(get_once(p, &c), ACMPCA_ECREDENTIALS);
        CHECK(c == NULL);
        CHECK_STR(acmpca_error_last()->message, "environment: the session token it returned "
                  "contains a control character, which a header cannot carry");
    }
    setenv("AWS_SESSION_TOKEN", "TOKEN\twith a tab", 1);   /* legal in a header */
    CHECK_INT(acmpca_credentials_provider_environment(&p), 0);
    CHECK_INT(get_once(p, &c), 0);
    acmpca_credentials_free(c);
    c = NULL;
    unsetenv("AWS_SESSION_TOKEN");

    CHECK_INT(acmpca_credentials_provider_static(&p, "AKID\r\nX-Injected: 1", "SECRET", NULL), 0);
    CHECK_INT(get_once(p, &c), ACMPCA_ECREDENTIALS);
    CHECK(c == NULL);
    CHECK_STR(acmpca_error_last()->message, "static: the access key id it returned contains a "
              "control character, which a header cannot carry");
    clear_env();
}

/* ---- fork while another thread refreshes ---------------------------------------- */

typedef struct blocking_source {
    pid_t parent;
    sem_t entered;      /* posted when the parent's fetch has started */
    sem_t release;      /* lets the parent's fetch finish */
} blocking_source;

static int blocking_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    blocking_source *b = ctx;

    (void)why;
    (void)why_len;
    if (getpid() == b->parent) {
        sem_post(&b->entered);
        while (sem_wait(&b->release) != 0)
            ;
        return acmpca_credentials_new(out, "AKIDPARENT", "SECRETPARENT", NULL, 0, NULL);
    }
    return acmpca_credentials_new(out, "AKIDCHILD", "SECRETCHILD", NULL, 0, NULL);
}

static void *blocking_get(void *arg)
{
    acmpca_credentials *c = NULL;
    int rc = acmpca_credentials_get(arg, T0, &c);

    acmpca_credentials_free(c);
    return rc == 0 ? arg : NULL;
}

/*
 * A child forked while another thread is fetching inherits "a fetch is in
 * progress" with no thread left to finish it: it must fetch for itself
 * instead of waiting forever.
 */
static void test_credentials__fork_while_refreshing(void)
{
    blocking_source b;
    acmpca_credentials_provider *p = NULL;
    pthread_t thread;
    void *result = NULL;
    pid_t child;
    int status = 0;

    b.parent = getpid();
    REQUIRE(sem_init(&b.entered, 0, 0) == 0 && sem_init(&b.release, 0, 0) == 0);
    CHECK_INT(acmpca_credentials_provider_new(&p, "blocking", blocking_fetch, NULL, &b), 0);
    REQUIRE(pthread_create(&thread, NULL, blocking_get, p) == 0);
    while (sem_wait(&b.entered) != 0)
        ;
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        acmpca_credentials *c = NULL;
        int rc;

        alarm(5);   /* a deadlock fails the test instead of hanging it */
        rc = acmpca_credentials_get(p, T0, &c);
        _exit(rc == 0 && c && strcmp(c->access_key_id, "AKIDCHILD") == 0 ? 0 : 3);
    }
    while (waitpid(child, &status, 0) < 0)
        ;
    CHECK(WIFEXITED(status));
    if (WIFSIGNALED(status))
        fprintf(stderr, "  the child was killed by signal %d (SIGALRM: it deadlocked)\n",
                WTERMSIG(status));
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    sem_post(&b.release);
    pthread_join(thread, &result);
    CHECK(result == p);
    acmpca_credentials_provider_unref(p);
    sem_destroy(&b.entered);
    sem_destroy(&b.release);
}

int main(int argc, char **argv)
{
    /* One behaviour by name (its own CTest entry), or everything. */
    if (argc > 1) {
        clear_env();
        if (strcmp(argv[1], "--control-characters") == 0)
            test_credentials__control_characters_in_credentials_refused();
        else if (strcmp(argv[1], "--fork-while-refreshing") == 0)
            test_credentials__fork_while_refreshing();
        else
            return fprintf(stderr, "unknown test %s\n", argv[1]), 2;
        return CHECK_DONE();
    }
    clear_env();
    cred_path = temp_file("[default]\n"
                          "aws_access_key_id = AKIDCREDSDEFAULT\n"
                          "aws_secret_access_key = SECRETCREDSDEFAULT\n"
                          "aws_session_token = TOKENCREDSDEFAULT\n"
                          "[both]\n"
                          "aws_access_key_id = AKIDBOTHCREDS\n"
                          "aws_secret_access_key = SECRETBOTHCREDS\n"
                          "[partial]\n"
                          "aws_secret_access_key = SECRETPARTIAL\n");
    cfg_path = temp_file("[default]\n"
                         "region = us-east-1\n"
                         "[profile cfgonly]\n"
                         "aws_access_key_id = AKIDCFGONLY\n"
                         "aws_secret_access_key = SECRETCFGONLY\n"
                         "[profile both]\n"
                         "aws_access_key_id = AKIDBOTHCFG\n"
                         "aws_secret_access_key = SECRETBOTHCFG\n"
                         "[profile partial]\n"
                         "aws_access_key_id = AKIDPARTIAL\n"
                         "[profile nokeys]\n"
                         "region = eu-west-1\n");

    test_credentials_object();
    test_static();
    test_environment();
    test_profile();
    test_default_chain();
    test_cache_and_refresh();
    test_bad_provider();
    test_hard_error_stops_chain();
    test_refcount();
    test_threads();
    test_credentials__control_characters_in_credentials_refused();
    test_credentials__fork_while_refreshing();

    remove_temp_files();
    return CHECK_DONE();
}
