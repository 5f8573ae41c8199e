/*
 * test_machine.c - the call machine's step API as a driver sees it: which
 * steps come in which order, what SEND steps carry, how reports move the
 * machine, for calls, waiters and paginator pages. Requests go through the
 * plain-socket driver (tests/c/socket_driver.c, no libcurl) to
 * tests/fixtures/fault_server.py (run under with_server.py fault).
 */
#include "fault_control.h"
#include "socket_driver.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
#define GET_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"CertificateArn\":\"" CA_ARN \
               "/certificate/0123\"}"
#define ISSUE_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"Csr\":\"-----BEGIN CERTIFICATE " \
                 "REQUEST-----\\nMIIB\\n-----END CERTIFICATE REQUEST-----\\n\"," \
                 "\"SigningAlgorithm\":\"SHA256WITHECDSA\"," \
                 "\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}"

static acmpca_client *new_client(int max_attempts, const acmpca_rate_limit *limits, size_t n)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDMACHINETEST";
    o.secret_access_key = "machine-test-secret";
    o.max_attempts = max_attempts;
    o.rate_limits = limits;
    o.rate_limit_count = n;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    return c;
}

static acmpca_machine *new_call(acmpca_client *c, const char *op, const char *json)
{
    cJSON *in = json ? cJSON_Parse(json) : NULL;
    acmpca_machine *m = NULL;
    REQUIRE(!json || in);
    REQUIRE(acmpca_machine_new_call(&m, c, op, in) == 0);
    cJSON_Delete(in); /* the machine keeps what it needs */
    return m;
}

/* Answer a SEND step with a canned 200 (no network). */
static void answer_ok(acmpca_machine *m, const char *body)
{
    acmpca_header h[] = {{"Content-Type", "application/x-amz-json-1.1"},
                         {"X-Amzn-RequestId", "req-canned"}};
    CHECK_INT(acmpca_machine_response(m, 200, h, 2, body, strlen(body)), 0);
}

/* Bad input: the error names the field, no machine, nothing sent. */
static void test_machine__bad_input_fails_before_any_step(void)
{
    acmpca_client *c = new_client(3, NULL, 0);
    cJSON *in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA_ARN "\"}");
    acmpca_machine *m = (acmpca_machine *)1;

    fault_script("[]");
    CHECK_INT(acmpca_machine_new_call(&m, c, "GetCertificate", in), ACMPCA_EPARAM);
    CHECK(m == NULL);
    CHECK_CONTAINS(acmpca_error_last()->message, "CertificateArn");
    CHECK_STR(acmpca_error_last()->operation, "GetCertificate");
    CHECK_STR(acmpca_error_last()->stage, "validate");
    CHECK_INT(acmpca_machine_new_call(&m, c, "NoSuchOperation", in), ACMPCA_EINVAL);
    CHECK_INT(acmpca_machine_new_waiter(&m, c, "no_such_waiter", in, 0, 0), ACMPCA_EINVAL);
    CHECK_INT(acmpca_machine_new_waiter(&m, c, "certificate_issued", in, 0, 0), ACMPCA_EPARAM);
    CHECK_INT(fault_received_count(), 0);
    cJSON_Delete(in);
    acmpca_client_free(c);
}

/* A SEND step says everything a driver needs; a report moves the machine on. */
static void test_machine__send_step_carries_the_signed_request(void)
{
    acmpca_client *c = new_client(3, NULL, 0);
    acmpca_machine *m = new_call(c, "GetCertificate", GET_IN);
    acmpca_response_meta *meta = NULL;
    acmpca_step s;
    cJSON *out = NULL;
    size_t i;
    int signed_ = 0;

    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    CHECK_STR(s.request->method, "POST");
    CHECK_STR(s.scheme, "http");
    CHECK_STR(s.host, "127.0.0.1");
    CHECK(s.port > 0);
    CHECK_STR(s.path, "/");
    CHECK_INT(s.attempt, 1);
    CHECK_INT(s.connect_timeout_ms, 10000);
    CHECK_INT(s.read_timeout_ms, 60000);
    CHECK_INT(s.deadline_ms, 0);
    CHECK_INT(s.insecure_skip_tls_verify, 0);
    CHECK(s.max_response_bytes == (size_t)16 << 20);
    for (i = 0; i < s.request->header_count; i++)
        if (strcmp(s.request->headers[i].name, "Authorization") == 0)
            signed_ = strstr(s.request->headers[i].value, "AWS4-HMAC-SHA256") != NULL;
    CHECK(signed_);
    CHECK_CONTAINS(s.request->body, "\"CertificateArn\"");

    /* A report with nothing waiting is refused; the result is not ready yet. */
    CHECK_INT(acmpca_machine_result(m, &out, NULL), ACMPCA_EINVAL);
    answer_ok(m, "{\"Certificate\":\"PEM\",\"CertificateChain\":\"CHAIN\"}");
    CHECK_INT(acmpca_machine_response(m, 200, NULL, 0, "{}", 2), ACMPCA_EINVAL);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE); /* stays done */
    CHECK_INT(acmpca_machine_result(m, &out, &meta), 0);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "Certificate")->valuestring, "PEM");
    CHECK_INT(meta->http_status, 200);
    CHECK_STR(meta->request_id, "req-canned");
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* Retries are SLEEP steps; the IdempotencyToken is the same on every attempt. */
static void test_machine__retries_sleep_and_reuse_the_token(void)
{
    acmpca_client *c = new_client(3, NULL, 0);
    acmpca_machine *m = new_call(c, "IssueCertificate", ISSUE_IN);
    acmpca_step s;
    char first[64] = "";
    cJSON *doc, *list, *out = NULL;
    int i, sleeps = 0, sends = 0;

    fault_script("[{\"action\":\"throttle\"},{\"action\":\"reset_before\"},{\"action\":\"ok\"}]");
    for (;;) {
        acmpca_step_kind k = acmpca_machine_next(m, &s);
        if (k == ACMPCA_STEP_SEND) {
            CHECK_INT(s.attempt, ++sends);
            socket_driver_send(m, &s);
        } else if (k == ACMPCA_STEP_SLEEP) {
            CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_BACKOFF);
            CHECK_INT(s.attempt, sends);
            sleeps++;
        } else {
            REQUIRE(k == ACMPCA_STEP_DONE);
            break;
        }
    }
    CHECK_INT(sends, 3);
    CHECK_INT(sleeps, 2);
    CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
    CHECK_CONTAINS(cJSON_GetObjectItemCaseSensitive(out, "CertificateArn")->valuestring,
                   "/certificate/");
    cJSON_Delete(out);
    acmpca_machine_free(m);

    list = fault_received(&doc);
    CHECK_INT(cJSON_GetArraySize(list), 3);
    for (i = 0; i < cJSON_GetArraySize(list); i++) {
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "body");
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(body, "IdempotencyToken");
        REQUIRE(cJSON_IsString(tok));
        if (i == 0)
            snprintf(first, sizeof(first), "%s", tok->valuestring);
        CHECK_STR(tok->valuestring, first);
    }
    cJSON_Delete(doc);

    /* Step by step: a transport failure is followed by a back-off SLEEP, then a new SEND. */
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    CHECK_INT(acmpca_machine_transport_error(m, ACMPCA_ECONNECT, 0, "refused"), 0);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SLEEP);
    CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_BACKOFF);
    CHECK(s.sleep_ms >= 1 && s.sleep_ms <= 1000);
    CHECK_INT(s.attempt, 1);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    CHECK_INT(s.attempt, 2);
    CHECK_INT(acmpca_machine_transport_error(m, ACMPCA_ENETWORK, 200, "reset"), 0);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SLEEP);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    CHECK_INT(acmpca_machine_transport_error(m, ACMPCA_EREAD_TIMEOUT, 0, "silence"), 0);
    /* Three attempts: the machine gives up with the last failure, typed. */
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_FAILED);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EREAD_TIMEOUT);
    CHECK_INT(acmpca_error_last()->attempts, 3);
    CHECK_CONTAINS(acmpca_error_last()->message, "silence");
    CHECK_STR(acmpca_error_last()->stage, "send");
    acmpca_error_clear();
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_FAILED); /* and stays so */
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EREAD_TIMEOUT);
    CHECK_INT(acmpca_machine_result(m, &out, NULL), ACMPCA_EREAD_TIMEOUT);
    CHECK(out == NULL);
    acmpca_machine_free(m);

    /* LimitExceeded is a quota, not throttling: no retry, no SLEEP. */
    m = new_call(c, "IssueCertificate", ISSUE_IN);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    {
        const char *body = "{\"__type\":\"LimitExceededException\",\"message\":\"quota\"}";
        CHECK_INT(acmpca_machine_response(m, 400, NULL, 0, body, strlen(body)), 0);
    }
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_FAILED);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_E_LIMIT_EXCEEDED);
    CHECK_STR(acmpca_error_last()->stage, "response");
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* The per-operation rate limiter paces with SLEEP steps, not by blocking. */
static void test_machine__rate_limit_is_a_sleep_step(void)
{
    acmpca_rate_limit two_per_s = {"GetCertificate", 2};
    acmpca_client *c = new_client(1, &two_per_s, 1);
    acmpca_machine *m = new_call(c, "GetCertificate", GET_IN);
    acmpca_step s;

    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND); /* the first one is free */
    answer_ok(m, "{}");
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE);
    acmpca_machine_free(m);
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SLEEP);
    CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_RATE_LIMIT);
    CHECK(s.sleep_ms >= 400 && s.sleep_ms <= 500);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    acmpca_machine_free(m); /* freed mid-call: nothing leaks, nothing is sent */
    acmpca_client_free(c);
}

/* A waiter polls with inner calls and SLEEP(WAITER) steps between them. */
static void test_machine__waiter_polls_with_sleep_steps(void)
{
    acmpca_client *c = new_client(1, NULL, 0);
    acmpca_machine *m = NULL;
    cJSON *in = cJSON_Parse(GET_IN), *out = NULL;
    acmpca_step s;
    int sends = 0, sleeps = 0;
    acmpca_step_kind k;

    fault_script("[{\"action\":\"error\",\"code\":\"RequestInProgressException\"},"
                 "{\"action\":\"error\",\"code\":\"RequestInProgressException\"},"
                 "{\"action\":\"ok\"}]");
    REQUIRE(acmpca_machine_new_waiter(&m, c, "certificate_issued", in, 0.05, 5) == 0);
    while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        if (k == ACMPCA_STEP_SEND) {
            sends++;
            socket_driver_send(m, &s);
            continue;
        }
        sleeps++;
        CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_WAITER);
        CHECK_STR(s.waiter, "CertificateIssued");
        CHECK_INT(s.sleep_ms, 50);
        CHECK_INT(s.attempt, sleeps);
    }
    CHECK_INT(k, ACMPCA_STEP_DONE);
    CHECK_INT(sleeps, 2);
    CHECK_INT(sends, 3);
    CHECK_INT(fault_received_count(), 3);
    CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(out, "Certificate") != NULL);
    cJSON_Delete(out);
    acmpca_machine_free(m);

    /* Out of polls: EWAITER with the waiter's name and why, as data. */
    fault_script("[{\"action\":\"error\",\"code\":\"RequestInProgressException\",\"repeat\":3}]");
    REQUIRE(acmpca_machine_new_waiter(&m, c, "CertificateIssued", in, 0.01, 2) == 0);
    CHECK_INT(socket_driver_run(m), ACMPCA_EWAITER);
    CHECK_STR(acmpca_error_last()->waiter, "CertificateIssued");
    CHECK_STR(acmpca_error_last()->waiter_state, "max_attempts");
    CHECK_STR(acmpca_error_last()->stage, "waiter");
    CHECK_INT(acmpca_error_last()->attempts, 2);
    CHECK_INT(fault_received_count(), 2);
    acmpca_machine_free(m);

    /* An error no acceptor expects ends the run as it is. */
    fault_script("[{\"action\":\"error\",\"code\":\"ResourceNotFoundException\"}]");
    REQUIRE(acmpca_machine_new_waiter(&m, c, "CertificateIssued", in, 0.01, 5) == 0);
    CHECK_INT(socket_driver_run(m), ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_STR(acmpca_error_last()->waiter, "");
    acmpca_machine_free(m);
    cJSON_Delete(in);
    acmpca_client_free(c);
}

/* Each page is a machine; the paginator moves on when a page is taken. */
static void test_machine__pages_move_the_paginator(void)
{
    acmpca_client *c = new_client(1, NULL, 0);
    acmpca_paginator *p = NULL;
    acmpca_machine *m = NULL;
    cJSON *page = NULL, *doc, *list, *in;
    acmpca_step s;

    fault_script("[{\"action\":\"ok\",\"body\":{\"Tags\":[{\"Key\":\"a\"}],\"NextToken\":\"t2\"}},"
                 "{\"action\":\"ok\",\"body\":{\"Tags\":[{\"Key\":\"b\"}]}}]");
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA_ARN "\"}");
    REQUIRE(acmpca_paginator_new(&p, c, "ListTags", in, 0, 0, NULL) == 0);
    cJSON_Delete(in); /* the paginator keeps a copy */
    REQUIRE(acmpca_machine_new_page(&m, p) == 0);
    CHECK_INT(socket_driver_run(m), 0);
    CHECK_INT(acmpca_machine_result(m, &page, NULL), 0);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "Tags"), 0)->child->valuestring, "a");
    cJSON_Delete(page);
    acmpca_machine_free(m);
    REQUIRE(acmpca_machine_new_page(&m, p) == 0);
    CHECK_INT(socket_driver_run(m), 0);
    CHECK_INT(acmpca_machine_result(m, &page, NULL), 0);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "Tags"), 0)->child->valuestring, "b");
    cJSON_Delete(page);
    acmpca_machine_free(m);
    /* No page left: DONE at once, no step sent. */
    REQUIRE(acmpca_machine_new_page(&m, p) == 0);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE);
    CHECK_INT(acmpca_machine_result(m, &page, NULL), 0);
    CHECK(page == NULL);
    acmpca_machine_free(m);

    list = fault_received(&doc);
    CHECK_INT(cJSON_GetArraySize(list), 2);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "body"),
                                  "NextToken")->valuestring, "t2");
    cJSON_Delete(doc);
    acmpca_paginator_free(p);
    acmpca_client_free(c);
}

/*
 * Machines and paginators hold their client, and a page machine its
 * paginator: freed first, they live on until the last holder is freed (ctest
 * runs this with MALLOC_PERTURB_, so memory freed too early is overwritten,
 * and under ASan).
 */
static void test_machine__machines_outlive_their_client_and_paginator(void)
{
    acmpca_client *c = new_client(1, NULL, 0);
    acmpca_machine *m = new_call(c, "GetCertificate", GET_IN), *page_m = NULL;
    acmpca_paginator *p = NULL;
    cJSON *out = NULL, *in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA_ARN "\"}");

    REQUIRE(acmpca_paginator_new(&p, c, "ListTags", in, 0, 0, NULL) == 0);
    cJSON_Delete(in);
    acmpca_client_free(c);
    fault_script("[{\"action\":\"ok\",\"body\":{\"Certificate\":\"PEM\"}},"
                 "{\"action\":\"ok\",\"body\":{\"Tags\":[{\"Key\":\"kept\"}]}}]");
    CHECK_INT(socket_driver_run(m), 0);
    CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
    CHECK_STR(cJSON_GetObjectItem(out, "Certificate")->valuestring, "PEM");
    cJSON_Delete(out);
    acmpca_machine_free(m);
    REQUIRE(acmpca_machine_new_page(&page_m, p) == 0);
    acmpca_paginator_free(p); /* the page machine holds it, and the client */
    CHECK_INT(socket_driver_run(page_m), 0);
    CHECK_INT(acmpca_machine_result(page_m, &out, NULL), 0);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "Tags"), 0)->child->valuestring,
              "kept");
    cJSON_Delete(out);
    acmpca_machine_free(page_m); /* the last holder: the client goes now */
}

/* total_timeout_ms: SEND steps carry what is left; past it the machine fails. */
static void test_machine__deadline_is_carried_and_enforced(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    acmpca_machine *m;
    acmpca_step s;

    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDMACHINETEST";
    o.secret_access_key = "machine-test-secret";
    o.total_timeout_ms = 300;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_SEND);
    CHECK(s.deadline_ms > 0 && s.deadline_ms <= 300);
    /* The server stalls: the socket driver stops at the deadline, not the read timeout. */
    acmpca_machine_free(m);
    fault_script("[{\"action\":\"stall\",\"seconds\":5}]");
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(socket_driver_run(m), ACMPCA_EREAD_TIMEOUT);
    CHECK_CONTAINS(acmpca_error_last()->message, "total_timeout_ms");
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* A client on the default chain with one credential source set up: `env` = `url`. */
static acmpca_client *chain_client(const char *env, const char *url)
{
    static const char *const unset[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    };
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    size_t i;

    for (i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
        unsetenv(unset[i]);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
    setenv("AWS_EC2_METADATA_DISABLED", strcmp(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") == 0
                                            ? "false" : "true", 1);
    setenv(env, url, 1);
    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    return c;
}

/* Drive one call by hand; count the credential exchanges and pauses on the way. */
static int run_counting(acmpca_machine *m, int *fetches, int *pauses, char *auth, size_t len)
{
    acmpca_step_kind k;
    acmpca_step s;
    size_t i;

    *fetches = *pauses = 0;
    while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        if (k == ACMPCA_STEP_SLEEP) {
            *pauses += s.sleep_reason == ACMPCA_SLEEP_CREDENTIALS;
            continue;
        }
        if (s.credentials) {
            (*fetches)++;
            CHECK_INT(s.no_proxy, 1); /* metadata endpoints never go through a proxy */
            CHECK_STR(s.host, "127.0.0.1");
        } else {
            for (i = 0; i < s.request->header_count; i++)
                if (strcmp(s.request->headers[i].name, "Authorization") == 0)
                    snprintf(auth, len, "%s", s.request->headers[i].value);
        }
        socket_driver_send(m, &s);
    }
    return k == ACMPCA_STEP_DONE ? 0 : acmpca_error_last()->code;
}

/* IMDSv2 and container credentials are fetched as SEND steps, not by blocking I/O. */
static void test_machine__credentials_are_fetched_by_steps(void)
{
    const char *meta = fault_env("ACMPCA_TEST_METADATA");
    char url[512], auth[512] = "";
    acmpca_client *c;
    acmpca_machine *m;
    int fetches, pauses;

    fault_script("[]");
    snprintf(url, sizeof(url), "%s/imds/steps", meta);
    c = chain_client("AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(run_counting(m, &fetches, &pauses, auth, sizeof(auth)), 0);
    CHECK_INT(fetches, 3); /* token, role name, credentials */
    CHECK_INT(pauses, 0);
    CHECK_CONTAINS(auth, "Credential=ASIAIMDS");
    acmpca_machine_free(m);
    /* Cached now: the next call sends only its own request. */
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(run_counting(m, &fetches, &pauses, auth, sizeof(auth)), 0);
    CHECK_INT(fetches, 0);
    acmpca_machine_free(m);
    acmpca_client_free(c);

    snprintf(url, sizeof(url), "%s/container/steps", meta);
    c = chain_client("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(run_counting(m, &fetches, &pauses, auth, sizeof(auth)), 0);
    CHECK_INT(fetches, 1);
    CHECK_CONTAINS(auth, "Credential=ASIACONTAINER");
    acmpca_machine_free(m);
    acmpca_client_free(c);

    /* A failing container endpoint: retried after SLEEP steps, then a typed error. */
    snprintf(url, sizeof(url), "%s/container/status=500,steps", meta);
    c = chain_client("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK(run_counting(m, &fetches, &pauses, auth, sizeof(auth)) != 0);
    CHECK_INT(fetches, 3);  /* the container provider's 3 attempts */
    CHECK_INT(pauses, 2);
    CHECK_CONTAINS(acmpca_error_last()->message, "container");
    CHECK_STR(acmpca_error_last()->stage, "credentials");
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* ---- one refresh for many machines --------------------------------------------- */

/* A counter of the metadata fixture for one (kind, spec): "calls" or "token_calls". */
static int metadata_count(const char *kind_spec, const char *field)
{
    CURL *h = curl_easy_init();
    char url[512], *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cJSON *doc;
    int n;

    REQUIRE(h != NULL && out != NULL);
    snprintf(url, sizeof(url), "%s/_stats/%s", fault_env("ACMPCA_TEST_METADATA"), kind_spec);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fault_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    REQUIRE(curl_easy_perform(h) == CURLE_OK);
    curl_easy_cleanup(h);
    fclose(out);
    doc = cJSON_Parse(text);
    REQUIRE(cJSON_IsNumber(cJSON_GetObjectItem(doc, field)));
    n = cJSON_GetObjectItem(doc, field)->valueint;
    cJSON_Delete(doc);
    free(text);
    return n;
}

#define MANY 6

/*
 * Drive `n` machines of one client as an event loop would: each takes one
 * step in turn (sleeps cost nothing here: the machines are only asked again).
 * Returns how many credentials SEND steps and credentials SLEEP steps they
 * took; codes[i] is machine i's outcome.
 */
static void run_interleaved(acmpca_machine **ms, int n, int *codes, int *fetches, int *waits)
{
    acmpca_step s;
    int i, left = n, done[MANY] = {0};

    *fetches = *waits = 0;
    while (left > 0) {
        for (i = 0; i < n; i++) {
            acmpca_step_kind k;
            if (done[i])
                continue;
            k = acmpca_machine_next(ms[i], &s);
            if (k == ACMPCA_STEP_SEND) {
                *fetches += s.credentials;
                socket_driver_send(ms[i], &s);
            } else if (k == ACMPCA_STEP_SLEEP) {
                *waits += s.sleep_reason == ACMPCA_SLEEP_CREDENTIALS;
                CHECK(s.sleep_ms >= 1 && s.sleep_ms <= 1000); /* short, bounded */
            } else {
                codes[i] = k == ACMPCA_STEP_DONE ? 0 : acmpca_error_last()->code;
                done[i] = 1;
                left--;
            }
        }
    }
}

static acmpca_client *imds_client(const char *spec)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/imds/%s", fault_env("ACMPCA_TEST_METADATA"), spec);
    return chain_client("AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
}

/* Many machines on one cold client: one token, role and credentials exchange in all. */
static void test_machine__concurrent_refreshes_are_one_fetch(void)
{
    acmpca_client *c;
    acmpca_machine *ms[MANY];
    int codes[MANY], i, fetches, waits;

    fault_script("[]");
    c = imds_client("coalesce");
    for (i = 0; i < MANY; i++)
        ms[i] = new_call(c, "GetCertificate", GET_IN);
    run_interleaved(ms, MANY, codes, &fetches, &waits);
    for (i = 0; i < MANY; i++) {
        CHECK_INT(codes[i], 0);
        acmpca_machine_free(ms[i]);
    }
    CHECK_INT(fetches, 3);  /* token, role name, credentials: by the first machine only */
    CHECK(waits >= MANY - 1); /* the others slept while it fetched */
    CHECK_INT(metadata_count("imds/coalesce", "token_calls"), 1);
    CHECK_INT(metadata_count("imds/coalesce", "calls"), 1);
    CHECK_INT(fault_received_count(), MANY); /* and every call was sent, signed */
    acmpca_client_free(c);
}

/* The machine fetching is freed mid-refresh (a cancelled task): another one takes over. */
static void test_machine__freed_owner_hands_the_refresh_over(void)
{
    acmpca_client *c;
    acmpca_machine *owner, *other;
    acmpca_step s;
    int fetches, pauses;
    char auth[512] = "";

    fault_script("[]");
    c = imds_client("handover");
    owner = new_call(c, "GetCertificate", GET_IN);
    other = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(owner, &s), ACMPCA_STEP_SEND);
    CHECK_INT(s.credentials, 1);
    socket_driver_send(owner, &s);                  /* the token */
    CHECK_INT(acmpca_machine_next(owner, &s), ACMPCA_STEP_SEND); /* the role: never answered */
    CHECK_INT(acmpca_machine_next(other, &s), ACMPCA_STEP_SLEEP);
    CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_CREDENTIALS);
    acmpca_machine_free(owner);
    /* At once, not when the lease runs out: freeing gave the refresh up. */
    CHECK_INT(acmpca_machine_next(other, &s), ACMPCA_STEP_SEND);
    CHECK_INT(s.credentials, 1);
    socket_driver_send(other, &s);
    CHECK_INT(run_counting(other, &fetches, &pauses, auth, sizeof(auth)), 0);
    CHECK_INT(fetches, 2); /* the refresh from its start: token (above), role, credentials */
    CHECK_CONTAINS(auth, "Credential=ASIAIMDS1/");
    CHECK_INT(metadata_count("imds/handover", "token_calls"), 2);
    CHECK_INT(metadata_count("imds/handover", "calls"), 1);
    acmpca_machine_free(other);
    acmpca_client_free(c);
}

/*
 * The machine fetching is abandoned, never freed (a killed request whose
 * machine waits for the GC): once its exchange's timeouts and a grace second
 * have passed, the next machine takes over. Bounded: a machine still sleeping
 * after 400 sleep steps (20 s or more) counts as hung.
 */
static void test_machine__abandoned_owner_loses_its_lease(void)
{
    acmpca_client *c;
    acmpca_machine *owner, *other;
    acmpca_step s;
    acmpca_step_kind k;
    int sleeps = 0, fetches = 0;

    fault_script("[]");
    c = imds_client("abandoned");
    owner = new_call(c, "GetCertificate", GET_IN);
    other = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(owner, &s), ACMPCA_STEP_SEND); /* never sent, never freed */
    while ((k = acmpca_machine_next(other, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        if (k == ACMPCA_STEP_SEND) {
            fetches += s.credentials;
            socket_driver_send(other, &s);
        } else if (++sleeps > 400) {
            break;
        } else {
            struct timespec ts = {0, s.sleep_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    CHECK_INT(k, ACMPCA_STEP_DONE);
    CHECK(sleeps > 0 && sleeps <= 400);
    CHECK_INT(fetches, 3);
    CHECK_INT(metadata_count("imds/abandoned", "calls"), 1);
    acmpca_machine_free(other);
    acmpca_machine_free(owner);
    acmpca_client_free(c);
}

/* The refresh fails: the machines that waited for it fail with the same error, no hang. */
static void test_machine__waiters_share_the_failed_refresh(void)
{
    char url[512], first[1024];
    acmpca_client *c;
    acmpca_machine *ms[MANY];
    int codes[MANY], i, fetches, waits;

    fault_script("[]");
    snprintf(url, sizeof(url), "%s/container/status=500,coalesce", fault_env("ACMPCA_TEST_METADATA"));
    c = chain_client("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    for (i = 0; i < MANY; i++)
        ms[i] = new_call(c, "GetCertificate", GET_IN);
    run_interleaved(ms, MANY, codes, &fetches, &waits);
    CHECK_INT(fetches, 3); /* the first machine's 3 attempts; nobody else's */
    CHECK_INT(metadata_count("container/status=500,coalesce", "calls"), 3);
    acmpca_machine_result(ms[0], NULL, NULL);
    snprintf(first, sizeof(first), "%s", acmpca_error_last()->message);
    CHECK_CONTAINS(first, "container");
    for (i = 0; i < MANY; i++) {
        CHECK_INT(codes[i], codes[0]);
        CHECK(codes[i] != 0);
        CHECK_INT(acmpca_machine_result(ms[i], NULL, NULL), codes[0]);
        CHECK_STR(acmpca_error_last()->message, first);
        CHECK_STR(acmpca_error_last()->stage, "credentials");
        acmpca_machine_free(ms[i]);
    }
    CHECK_INT(fault_received_count(), 0);
    acmpca_client_free(c);
}

/* Credentials due for refresh but still good: one machine refreshes, the others send at once. */
static void test_machine__advisory_refresh_does_not_hold_others(void)
{
    acmpca_client *c;
    acmpca_machine *m, *refresher, *other;
    acmpca_step s;
    int fetches, pauses;
    char auth[512] = "";

    fault_script("[]");
    c = imds_client("ttl=700,advisory"); /* inside the 15-minute refresh window, > 10 left */
    m = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(run_counting(m, &fetches, &pauses, auth, sizeof(auth)), 0);
    acmpca_machine_free(m);
    refresher = new_call(c, "GetCertificate", GET_IN);
    other = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(refresher, &s), ACMPCA_STEP_SEND);
    CHECK_INT(s.credentials, 1); /* it refreshes... */
    CHECK_INT(acmpca_machine_next(other, &s), ACMPCA_STEP_SEND);
    CHECK_INT(s.credentials, 0); /* ...the other signs with the cached ones, no sleep */
    socket_driver_send(other, &s);
    CHECK_INT(acmpca_machine_next(other, &s), ACMPCA_STEP_DONE);
    acmpca_machine_free(other);
    acmpca_machine_free(refresher);
    acmpca_client_free(c);
}

/* A child forked while a machine of the parent fetches: its own machines do not wait for it. */
static void test_machine__fork_child_does_not_wait_for_the_parents_refresh(void)
{
    acmpca_client *c;
    acmpca_machine *owner;
    acmpca_step s;
    pid_t child;
    int status = 0;

    fault_script("[]");
    c = imds_client("fork");
    owner = new_call(c, "GetCertificate", GET_IN);
    CHECK_INT(acmpca_machine_next(owner, &s), ACMPCA_STEP_SEND); /* the token, unanswered */
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        acmpca_machine *m = new_call(c, "GetCertificate", GET_IN);
        int first = acmpca_machine_next(m, &s), fetches, pauses;
        char auth[512] = "";
        alarm(20);
        _exit(first == ACMPCA_STEP_SEND && s.credentials &&
              (socket_driver_send(m, &s), run_counting(m, &fetches, &pauses, auth,
                                                       sizeof(auth))) == 0 ? 0 : 3);
    }
    while (waitpid(child, &status, 0) < 0)
        ;
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    acmpca_machine_free(owner);
    acmpca_client_free(c);
}

typedef struct thread_call {
    acmpca_client *client;
    int code;
} thread_call;

static void *run_one(void *arg)
{
    thread_call *t = arg;
    acmpca_machine *m = new_call(t->client, "GetCertificate", GET_IN);
    t->code = socket_driver_run(m);
    acmpca_machine_free(m);
    return NULL;
}

/* The same from several threads, one machine each (the TSan build runs this). */
static void test_machine__refreshes_from_threads_are_one_fetch(void)
{
    pthread_t th[4];
    thread_call tc[4];
    acmpca_client *c;
    int i;

    fault_script("[]");
    c = imds_client("delay=50,threads");
    for (i = 0; i < 4; i++) {
        tc[i].client = c;
        tc[i].code = -1;
        REQUIRE(pthread_create(&th[i], NULL, run_one, &tc[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(tc[i].code, 0);
    }
    CHECK_INT(metadata_count("imds/delay=50,threads", "token_calls"), 1);
    CHECK_INT(metadata_count("imds/delay=50,threads", "calls"), 1);
    acmpca_client_free(c);
}

/* ---- request_certificate as one machine ---------------------------------------- */

#define DESCRIBED(alg) "{\"action\":\"ok\",\"body\":{\"CertificateAuthority\":{" \
    "\"CertificateAuthorityConfiguration\":{\"SigningAlgorithm\":\"" alg "\"}}}}"

static acmpca_certificate_request cert_request(void)
{
    acmpca_certificate_request r;
    memset(&r, 0, sizeof(r));
    r.certificate_authority_arn = CA_ARN;
    r.subject.common_name = "svc.example.test";
    r.wait_delay_s = 0.01;
    return r;
}

static const char *received_operation(const cJSON *list, int i)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "operation")->valuestring;
}

static const char *received_member(const cJSON *list, int i, const char *name)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "body");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, name));
}

/* Describe -> Issue (retried with its one token) -> the waiter's polls, as steps of one
 * machine; the result holds the certificate, the key and the CSR. */
static void test_machine__request_certificate_chains_its_calls(void)
{
    acmpca_client *c = new_client(3, NULL, 0);
    acmpca_certificate_request r = cert_request();
    acmpca_response_meta *meta = NULL;
    acmpca_machine *m = NULL;
    acmpca_step_kind k;
    acmpca_step s;
    cJSON *doc, *list, *out = NULL;
    int backoffs = 0, polls = 0;

    fault_script("[" DESCRIBED("SHA384WITHECDSA") ",{\"action\":\"throttle\"},{\"action\":\"ok\"},"
                 "{\"action\":\"error\",\"code\":\"RequestInProgressException\"},"
                 "{\"action\":\"ok\"}]");
    REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
    CHECK_INT(fault_received_count(), 0); /* the key and CSR exist, nothing was sent */
    CHECK(acmpca_machine_request(m) == NULL);
    CHECK_INT(acmpca_machine_set_header(m, "X-Test", "1"), ACMPCA_EINVAL);
    while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        if (k == ACMPCA_STEP_SEND) {
            socket_driver_send(m, &s);
        } else if (s.sleep_reason == ACMPCA_SLEEP_BACKOFF) {
            backoffs++;
        } else {
            CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_WAITER);
            CHECK_STR(s.waiter, "CertificateIssued");
            CHECK_INT(s.sleep_ms, 10);
            polls++;
        }
    }
    CHECK_INT(k, ACMPCA_STEP_DONE);
    CHECK_INT(backoffs, 1);
    CHECK_INT(polls, 1);
    CHECK_INT(acmpca_machine_result(m, &out, &meta), 0);
    REQUIRE(out != NULL);
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "CertificateArn")),
                   "/certificate/");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "Certificate")),
                   "BEGIN CERTIFICATE");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "CertificateChain")),
                   "BEGIN CERTIFICATE");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "PrivateKey")),
                   "BEGIN PRIVATE KEY");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "Csr")),
                   "BEGIN CERTIFICATE REQUEST");
    REQUIRE(meta != NULL);
    CHECK_INT(meta->http_status, 200); /* the last poll's */

    list = fault_received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 5);
    CHECK_STR(received_operation(list, 0), "DescribeCertificateAuthority");
    CHECK_STR(received_operation(list, 1), "IssueCertificate");
    CHECK_STR(received_operation(list, 2), "IssueCertificate");
    CHECK_STR(received_operation(list, 3), "GetCertificate");
    CHECK_STR(received_operation(list, 4), "GetCertificate");
    /* The CA's own algorithm; the retry carries the first attempt's token. */
    CHECK_STR(received_member(list, 1, "SigningAlgorithm"), "SHA384WITHECDSA");
    REQUIRE(received_member(list, 1, "IdempotencyToken") != NULL);
    CHECK_STR(received_member(list, 2, "IdempotencyToken"),
              received_member(list, 1, "IdempotencyToken"));
    /* The CSR goes as base64 (a blob): "-----BEGIN CERTIFICATE REQUEST" */
    CHECK_CONTAINS(received_member(list, 1, "Csr"), "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNU");
    CHECK_STR(received_member(list, 3, "CertificateArn"),
              cJSON_GetStringValue(cJSON_GetObjectItem(out, "CertificateArn")));
    cJSON_Delete(doc);
    acmpca_response_meta_free(meta);
    cJSON_Delete(out);
    acmpca_machine_free(m);

    /* A signing algorithm given: no DescribeCertificateAuthority; a CSR given: no key. */
    {
        char *key = NULL, *csr = NULL;
        acmpca_csr_options o;
        memset(&o, 0, sizeof(o));
        REQUIRE(acmpca_pki_generate_key(&key, "p256") == 0);
        o.private_key_pem = key;
        o.common_name = "given.example.test";
        REQUIRE(acmpca_pki_make_csr(&csr, &o) == 0);
        r.signing_algorithm = "SHA256WITHECDSA";
        r.csr_pem = csr;
        fault_script("[]");
        REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
        CHECK_INT(socket_driver_run(m), 0);
        CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
        CHECK(cJSON_GetObjectItem(out, "PrivateKey") == NULL);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(out, "Csr")), csr);
        list = fault_received(&doc);
        CHECK_INT(cJSON_GetArraySize(list), 2);
        CHECK_STR(received_operation(list, 0), "IssueCertificate");
        CHECK_STR(received_member(list, 0, "SigningAlgorithm"), "SHA256WITHECDSA");
        cJSON_Delete(doc);
        cJSON_Delete(out);
        acmpca_machine_free(m);
        acmpca_free(key);
        acmpca_free(csr);
    }
    acmpca_client_free(c);
}

/* Bad input: refused at creation, naming the field, before any request. */
static void test_machine__request_certificate_refuses_bad_input(void)
{
    static const struct {
        const char *field;
        int days, attempts;
        double delay;
        const char *ca, *key_type, *csr, *country, *template_arn;
    } cases[] = {
        {"certificate_authority_arn", 0, 0, 0, "", NULL, NULL, NULL, NULL},
        {"validity_days", 36501, 0, 0, CA_ARN, NULL, NULL, NULL, NULL},
        {"validity_days", -1, 0, 0, CA_ARN, NULL, NULL, NULL, NULL},
        {"wait_delay_s", 0, 0, -1, CA_ARN, NULL, NULL, NULL, NULL},
        {"wait_max_attempts", 0, -2, 0, CA_ARN, NULL, NULL, NULL, NULL},
        {"key_type", 0, 0, 0, CA_ARN, "DSA_1024", NULL, NULL, NULL},
        {"Csr", 0, 0, 0, CA_ARN, NULL, "not a csr", NULL, NULL},
        {"country", 0, 0, 0, CA_ARN, NULL, NULL, "Germany", NULL},
        {"TemplateArn", 0, 0, 0, CA_ARN, NULL, NULL, NULL, "bad"},
        {"CertificateAuthorityArn", 0, 0, 0, "abc", NULL, NULL, NULL, NULL},
    };
    acmpca_client *c = new_client(3, NULL, 0);
    acmpca_machine *m;
    size_t i;

    fault_script("[]");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acmpca_certificate_request r = cert_request();
        r.certificate_authority_arn = cases[i].ca;
        r.validity_days = cases[i].days;
        r.wait_max_attempts = cases[i].attempts;
        r.wait_delay_s = cases[i].delay;
        r.key_type = cases[i].key_type;
        r.csr_pem = cases[i].csr;
        r.subject.country = cases[i].country;
        r.template_arn = cases[i].template_arn;
        m = (acmpca_machine *)1;
        CHECK_INT(acmpca_machine_new_request_certificate(&m, c, &r), ACMPCA_EPARAM);
        CHECK(m == NULL);
        CHECK_CONTAINS(acmpca_error_last()->message, cases[i].field);
        CHECK_STR(acmpca_error_last()->stage, "validate");
    }
    CHECK_INT(acmpca_machine_new_request_certificate(&m, c, NULL), ACMPCA_EINVAL);
    CHECK_INT(fault_received_count(), 0);
    acmpca_client_free(c);
}

/* A failing sub-call ends the run with its own typed error. */
static void test_machine__request_certificate_fails_as_its_sub_call(void)
{
    acmpca_client *c = new_client(2, NULL, 0);
    acmpca_certificate_request r = cert_request();
    acmpca_response_meta *meta = NULL;
    acmpca_machine *m = NULL;
    cJSON *doc, *list, *out = NULL;

    /* DescribeCertificateAuthority refused: that error, nothing issued. */
    fault_script("[{\"action\":\"error\",\"code\":\"AccessDeniedException\",\"status\":400}]");
    REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
    CHECK_INT(socket_driver_run(m), ACMPCA_E_ACCESS_DENIED);
    CHECK_STR(acmpca_error_last()->aws_code, "AccessDeniedException");
    CHECK_STR(acmpca_error_last()->operation, "DescribeCertificateAuthority");
    CHECK_INT(acmpca_error_last()->http_status, 400);
    CHECK_INT(acmpca_machine_result(m, &out, &meta), ACMPCA_E_ACCESS_DENIED);
    CHECK(out == NULL);
    CHECK(meta != NULL && meta->http_status == 400);
    acmpca_response_meta_free(meta);
    CHECK_INT(fault_received_count(), 1);
    acmpca_machine_free(m);

    /* No SigningAlgorithm in the answer: a bad response, nothing issued. */
    fault_script("[{\"action\":\"ok\"}]");
    REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
    CHECK_INT(socket_driver_run(m), ACMPCA_EBADRESPONSE);
    CHECK_CONTAINS(acmpca_error_last()->message, "SigningAlgorithm");
    CHECK_INT(fault_received_count(), 1);
    acmpca_machine_free(m);

    /* The certificate never comes: the waiter's error, after its attempts. */
    fault_script("[" DESCRIBED("SHA256WITHECDSA") ",{\"action\":\"ok\"},{\"action\":\"error\","
                 "\"code\":\"RequestInProgressException\",\"repeat\":3}]");
    r.wait_max_attempts = 3;
    REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
    CHECK_INT(socket_driver_run(m), ACMPCA_EWAITER);
    CHECK_STR(acmpca_error_last()->waiter, "CertificateIssued");
    CHECK_STR(acmpca_error_last()->waiter_state, "max_attempts");
    CHECK_STR(acmpca_error_last()->operation, "GetCertificate");
    CHECK_INT(acmpca_error_last()->attempts, 3);
    acmpca_error_clear();
    CHECK_INT(acmpca_machine_next(m, NULL), ACMPCA_STEP_FAILED); /* and stays so */
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EWAITER);
    list = fault_received(&doc);
    CHECK_INT(cJSON_GetArraySize(list), 5);
    cJSON_Delete(doc);
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

int main(int argc, char **argv)
{
    acmpca_global_init();
    if (argc > 1 && strcmp(argv[1], "--credentials") == 0) {
        test_machine__credentials_are_fetched_by_steps();
        acmpca_global_cleanup();
        return CHECK_DONE();
    }
    if (argc > 1 && strcmp(argv[1], "--coalescing") == 0) {
        test_machine__concurrent_refreshes_are_one_fetch();
        test_machine__freed_owner_hands_the_refresh_over();
        test_machine__abandoned_owner_loses_its_lease();
        test_machine__waiters_share_the_failed_refresh();
        test_machine__advisory_refresh_does_not_hold_others();
        test_machine__fork_child_does_not_wait_for_the_parents_refresh();
        test_machine__refreshes_from_threads_are_one_fetch();
        acmpca_global_cleanup();
        return CHECK_DONE();
    }
    test_machine__bad_input_fails_before_any_step();
    test_machine__send_step_carries_the_signed_request();
    test_machine__retries_sleep_and_reuse_the_token();
    test_machine__rate_limit_is_a_sleep_step();
    test_machine__waiter_polls_with_sleep_steps();
    test_machine__pages_move_the_paginator();
    test_machine__machines_outlive_their_client_and_paginator();
    test_machine__deadline_is_carried_and_enforced();
    test_machine__request_certificate_chains_its_calls();
    test_machine__request_certificate_refuses_bad_input();
    test_machine__request_certificate_fails_as_its_sub_call();
    acmpca_global_cleanup();
    return CHECK_DONE();
}
