/*
 * test_faults.c - the fault matrix: one row per fault a network or the
 * service can produce, against tests/fixtures/fault_server.py on loopback
 * (started by with_server.py fault). Each row scripts what the server
 * answers, makes calls the way a user would, and checks what the user sees
 * (return code, acmpca_error_last(), the result) and what the server saw
 * (how many attempts, which headers and bodies).
 *
 *   test_faults ROW      one row (faults/<row> in ctest)
 *   test_faults all      every row, in order
 *   test_faults --list   the row names
 *   test_faults --check-rows ROW...   fails unless ROW... is exactly the row list
 *                        (keeps faults.cmake in step with this file)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "acmpca.h"
#include "check.h"
#include "socket_driver.h"

/* 1: every call goes through the plain-socket driver of the call machine
 * (socket_driver.c) instead of the library's libcurl driver. */
static int use_socket_driver;

#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
#define DESCRIBE_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\"}"
#define CSR_PEM "-----BEGIN CERTIFICATE REQUEST-----\\nMIIBfaultcsr\\n" \
                "-----END CERTIFICATE REQUEST-----\\n"
#define ISSUE_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"Csr\":\"" CSR_PEM "\"," \
                 "\"SigningAlgorithm\":\"SHA256WITHECDSA\"," \
                 "\"Validity\":{\"Value\":30,\"Type\":\"DAYS\"}}"
#define ISSUE_IN_WITH_TOKEN(tok) \
    "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"Csr\":\"" CSR_PEM "\"," \
    "\"SigningAlgorithm\":\"SHA256WITHECDSA\",\"Validity\":{\"Value\":30,\"Type\":\"DAYS\"}," \
    "\"IdempotencyToken\":\"" tok "\"}"
#define CREATE_CA_IN "{\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"EC_prime256v1\"," \
                     "\"SigningAlgorithm\":\"SHA256WITHECDSA\",\"Subject\":{\"CommonName\":\"x\"}}," \
                     "\"CertificateAuthorityType\":\"ROOT\"}"

static const char *control_base;   /* the fault server (plain HTTP) */

/* ---- helpers: the environment and the control API ------------------------ */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run under tests/fixtures/with_server.py fault\n", name);
        exit(2);
    }
    return v;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct sink {
    char *p;
    size_t n;
} sink;

static size_t sink_write(char *data, size_t size, size_t n, void *userp)
{
    sink *s = userp;
    char *grown = realloc(s->p, s->n + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + s->n, data, size * n);
    s->p = grown;
    s->n += size * n;
    s->p[s->n] = '\0';
    return size * n;
}

/* A request to the control API; the body of a 200 answer (caller frees). */
static char *control(const char *method, const char *path, const char *body)
{
    CURL *h = curl_easy_init();
    char url[512];
    sink s = {NULL, 0};
    long status = 0;
    CURLcode rc;

    REQUIRE(h != NULL);
    snprintf(url, sizeof(url), "%s%s", control_base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "control %s %s failed: %s, HTTP %ld: %s\n", method, path,
                curl_easy_strerror(rc), status, s.p ? s.p : "");
        exit(1);
    }
    return s.p ? s.p : calloc(1, 1);
}

/* Forget everything, then script the next answers (a JSON list of actions). */
static void script(const char *actions_json)
{
    free(control("POST", "/_fault/reset", ""));
    free(control("POST", "/_fault/script", actions_json));
}

static cJSON *control_json(const char *path)
{
    char *text = control("GET", path, NULL);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    REQUIRE(doc != NULL);
    return doc;
}

/* What the server received: the "requests" array of a document the caller frees. */
static cJSON *received(cJSON **doc)
{
    cJSON *list;
    *doc = control_json("/_fault/requests");
    list = cJSON_GetObjectItemCaseSensitive(*doc, "requests");
    REQUIRE(cJSON_IsArray(list));
    return list;
}

static int received_count(void)
{
    cJSON *doc;
    int n = cJSON_GetArraySize(received(&doc));
    cJSON_Delete(doc);
    return n;
}

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A header (lowercase name) of request number i as the server received it. */
static const char *req_header(const cJSON *list, int i, const char *name)
{
    return jstr(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "headers"), name);
}

/* A member of the JSON body of request number i. */
static const cJSON *req_body(const cJSON *list, int i, const char *name)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "body");
    return cJSON_GetObjectItemCaseSensitive(body, name);
}

/* "20150830T123600Z" in seconds since the epoch, or -1. */
static int64_t parse_amz_date(const char *v)
{
    int y, mo, d, h, mi, s;
    int64_t era, yoe, doy, days;
    if (!v || sscanf(v, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
        return -1;
    y -= mo <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

static int64_t llabs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* ---- helpers: clients and calls ------------------------------------------ */

/* A client for `endpoint` (NULL: the fault server) with the options in *o. */
static acmpca_client *client_with(acmpca_client_options *o, const char *endpoint)
{
    acmpca_client *c = NULL;
    o->endpoint_url = endpoint ? endpoint : env("ACMPCA_TEST_ENDPOINT");
    o->region = "us-east-1";
    o->access_key_id = "AKIDFAULTTEST";
    o->secret_access_key = "fault-test-secret";
    if (acmpca_client_new(&c, o) != 0) {
        fprintf(stderr, "client: %s\n", acmpca_error_last()->message);
        exit(1);
    }
    return c;
}

static acmpca_client *simple_client(int max_attempts)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    o.max_attempts = max_attempts;
    return client_with(&o, NULL);
}

/*
 * Call `op` with JSON input; on success *out (may be NULL to drop it) and
 * *retries (attempts beyond the first). On failure *retries is -1.
 */
static int call(acmpca_client *c, const char *op, const char *json, cJSON **out, int *retries)
{
    cJSON *in = json ? cJSON_Parse(json) : NULL, *res = NULL;
    acmpca_response_meta *meta = NULL;
    const acmpca_operation_info *info = acmpca_model_operation_find(op);
    int rc;

    REQUIRE(info != NULL);
    if (json)
        REQUIRE(in != NULL);
    rc = use_socket_driver ? socket_driver_call(c, op, in, &res, &meta)
                           : acmpca_call_ex(c, info->id, in, &res, &meta);
    cJSON_Delete(in);
    if (retries)
        *retries = rc == 0 && meta ? meta->retry_attempts : -1;
    if (rc == 0) {
        CHECK(res != NULL && meta != NULL);
        if (meta)
            CHECK_INT(meta->http_status, 200);
    } else {
        /* A failure describes the last response, if one arrived. */
        const acmpca_error *e = acmpca_error_last();
        CHECK(res == NULL);
        CHECK((meta != NULL) == (e->http_status != 0 && e->code != ACMPCA_ETOOLARGE &&
                                 e->code != ACMPCA_ENETWORK && e->code != ACMPCA_EREAD_TIMEOUT));
        if (meta) {
            CHECK_INT(meta->http_status, e->http_status);
            CHECK_INT(meta->retry_attempts, e->attempts - 1);
            CHECK_STR(meta->request_id, e->request_id);
        }
    }
    acmpca_response_meta_free(meta);
    if (out)
        *out = res;
    else
        cJSON_Delete(res);
    return rc;
}

static void show_error(const char *row)
{
    const acmpca_error *e = acmpca_error_last();
    printf("  %s: code %d (%s) aws_code \"%s\" http %d request_id \"%s\" attempts %d "
           "retryable %d\n    message: %s\n", row, e->code, acmpca_strerror(e->code),
           e->aws_code, e->http_status, e->request_id, e->attempts, e->retryable, e->message);
}

/* The common checks of a failed call. */
static void check_failure(int rc, int code, int attempts, int retryable, int http_status)
{
    const acmpca_error *e = acmpca_error_last();
    CHECK_INT(rc, code);
    CHECK_INT(e->code, code);
    CHECK_INT(e->attempts, attempts);
    CHECK_INT(e->retryable, retryable);
    CHECK_INT(e->http_status, http_status);
    /* The attempt count is data, never text in the message. */
    CHECK(strstr(e->message, "gave up") == NULL);
}

static void check_request_id(const char *expected)
{
    CHECK_STR(acmpca_error_last()->request_id, expected);
}

/* ---- the rows -------------------------------------------------------------- */

/* HTTP 500 every time: retried up to max_attempts, then a service error. */
static void row_http_500(void)
{
    acmpca_client *c = simple_client(3);
    int rc;

    script("[{\"action\":\"server_error\",\"repeat\":3}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("http-500");
    check_failure(rc, ACMPCA_ESERVICE, 3, 1, 500);
    CHECK_STR(acmpca_error_last()->aws_code, "InternalFailure");
    CHECK_STR(acmpca_error_last()->operation, "DescribeCertificateAuthority");
    CHECK_CONTAINS(acmpca_error_last()->message, "scripted internal failure");
    check_request_id("fault-req-3");
    CHECK_INT(received_count(), 3);
    acmpca_client_free(c);
}

/* 503 then 200: one retry, then the result. */
static void row_503_then_200(void)
{
    acmpca_client *c = simple_client(3);
    cJSON *out = NULL;
    int retries = -1;

    script("[{\"action\":\"service_unavailable\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, &out, &retries), 0);
    CHECK_INT(retries, 1);
    CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(out, "CertificateAuthority"), "Status"),
              "ACTIVE");
    CHECK_INT(received_count(), 2);
    cJSON_Delete(out);
    acmpca_client_free(c);
}

/* ThrottlingException twice, then 200: two retries. */
static void row_throttling(void)
{
    acmpca_client *c = simple_client(3);
    cJSON *out = NULL;
    int retries = -1;

    script("[{\"action\":\"throttle\",\"repeat\":2},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "GetCertificate",
                   "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"CertificateArn\":\"" CA_ARN
                   "/certificate/abc\"}", &out, &retries), 0);
    CHECK_INT(retries, 2);
    CHECK_CONTAINS(jstr(out, "Certificate"), "BEGIN CERTIFICATE");
    CHECK_INT(received_count(), 3);
    cJSON_Delete(out);
    acmpca_client_free(c);
}

/* LimitExceededException is a quota in ACM PCA: never retried, in either mode. */
static void row_limit_exceeded(void)
{
    static const char *const modes[] = {"standard", "adaptive"};
    size_t i;

    for (i = 0; i < 2; i++) {
        acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
        acmpca_client *c;
        int rc;
        o.max_attempts = 5;
        o.retry_mode = modes[i];
        c = client_with(&o, NULL);
        script("[{\"action\":\"limit_exceeded\"},{\"action\":\"ok\"}]");
        rc = call(c, "IssueCertificate", ISSUE_IN, NULL, NULL);
        show_error(modes[i]);
        check_failure(rc, ACMPCA_E_LIMIT_EXCEEDED, 1, 0, 400);
        CHECK_STR(acmpca_error_last()->aws_code, "LimitExceededException");
        CHECK_CONTAINS(acmpca_error_last()->message, "scripted quota reached");
        check_request_id("fault-req-1");
        CHECK_INT(received_count(), 1);
        acmpca_client_free(c);
    }
}

/* Nothing listens: ECONNECT after every attempt. */
static void row_connection_refused(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    int rc;

    o.max_attempts = 3;
    c = client_with(&o, env("ACMPCA_TEST_FAULT_REFUSED_ENDPOINT"));
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("connection-refused");
    check_failure(rc, ACMPCA_ECONNECT, 3, 1, 0);
    CHECK_CONTAINS(acmpca_error_last()->message, "could not connect");
    CHECK_STR(acmpca_error_last()->aws_code, "");
    check_request_id("");
    acmpca_client_free(c);
}

/* The server resets the connection before sending a byte. */
static void row_reset_before_any_byte(void)
{
    acmpca_client *c = simple_client(2);
    int rc, retries = -1;

    script("[{\"action\":\"reset_before\",\"repeat\":2}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("reset-before-any-byte");
    check_failure(rc, ACMPCA_ENETWORK, 2, 1, 0);
    CHECK_INT(received_count(), 2);

    script("[{\"action\":\"reset_before\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    CHECK_INT(received_count(), 2);
    acmpca_client_free(c);
}

/* Headers and half the body, then a reset. */
static void row_reset_mid_body(void)
{
    acmpca_client *c = simple_client(2);
    int rc, retries = -1;

    script("[{\"action\":\"reset_mid_body\",\"repeat\":2}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("reset-mid-body");
    check_failure(rc, ACMPCA_ENETWORK, 2, 1, 200); /* the status line had arrived */
    CHECK_INT(received_count(), 2);

    script("[{\"action\":\"reset_mid_body\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    acmpca_client_free(c);
}

/*
 * Silence longer than read_timeout_ms, before the head and after it. The
 * server would hang up after 20 s (an ENETWORK): EREAD_TIMEOUT shows the
 * client gave up first.
 */
static void row_stall(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    double t0;
    int rc;

    o.max_attempts = 2;
    o.read_timeout_ms = 300;
    c = client_with(&o, NULL);

    script("[{\"action\":\"stall\",\"seconds\":20,\"repeat\":2}]");
    t0 = now_s();
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    printf("  stall before the head: %.2f s\n", now_s() - t0);
    show_error("stall");
    check_failure(rc, ACMPCA_EREAD_TIMEOUT, 2, 1, 0);
    CHECK_CONTAINS(acmpca_error_last()->message, "read timeout");
    CHECK_INT(received_count(), 2);

    script("[{\"action\":\"stall\",\"seconds\":20,\"after_headers\":true,\"repeat\":2}]");
    t0 = now_s();
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    printf("  stall after the head: %.2f s\n", now_s() - t0);
    show_error("stall-after-headers");
    check_failure(rc, ACMPCA_EREAD_TIMEOUT, 2, 1, 200);
    CHECK_INT(received_count(), 2);
    acmpca_client_free(c);
}

/*
 * Bytes keep coming, each gap inside the read timeout, the whole answer
 * longer than `longer_than` seconds: one attempt that succeeds.
 */
static void check_trickle(const char *name, const char *what, const char *json,
                          long read_timeout_ms, double longer_than)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    cJSON *out = NULL;
    double t0, took;
    int retries = -1, rc;

    o.max_attempts = 1;
    o.read_timeout_ms = read_timeout_ms;
    c = client_with(&o, NULL);
    script(json);
    t0 = now_s();
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, &out, &retries);
    took = now_s() - t0;
    printf("  %s: %.2f s\n", what, took);
    if (rc)
        show_error(name);
    CHECK_INT(rc, 0);
    CHECK_INT(retries, 0);
    CHECK(took > longer_than);
    CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(out, "CertificateAuthority"), "Arn"), CA_ARN);
    CHECK_INT(received_count(), 1);
    cJSON_Delete(out);
    acmpca_client_free(c);
}

/* The body in 8-byte pieces every 100 ms: about 2 s for ~150 bytes, read timeout 500 ms. */
static void row_slow_trickle(void)
{
    check_trickle("slow-trickle", "body trickle",
                  "[{\"action\":\"trickle\",\"chunk\":8,\"interval_ms\":100}]", 500, 1.0);
}

/*
 * The head trickles too (16 bytes every 100 ms, every header line complete
 * well inside the 1 s read timeout, the head as a whole longer): header bytes
 * are bytes moving, so this must succeed as well.
 */
static void row_slow_trickle_head(void)
{
    check_trickle("slow-trickle-head", "head and body trickle",
                  "[{\"action\":\"trickle\",\"chunk\":16,\"interval_ms\":100,"
                  "\"headers_too\":true}]", 1000, 1.5);
}

/* 200 with a JSON body cut short (Content-Length matches): not retried. */
static void row_truncated_json(void)
{
    acmpca_client *c = simple_client(3);
    int rc;

    script("[{\"action\":\"truncated_json\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("truncated-json");
    check_failure(rc, ACMPCA_EBADRESPONSE, 1, 0, 200);
    CHECK_CONTAINS(acmpca_error_last()->message, "not valid JSON");
    CHECK_STR(acmpca_error_last()->operation, "DescribeCertificateAuthority");
    CHECK_INT(received_count(), 1);
    acmpca_client_free(c);
}

/* A proxy's HTML 502 page: retried, then a service error keeping status and excerpt. */
static void row_html_502(void)
{
    acmpca_client *c = simple_client(2);
    int rc, retries = -1;

    script("[{\"action\":\"html_502\",\"repeat\":2}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("html-502");
    check_failure(rc, ACMPCA_ESERVICE, 2, 1, 502);
    CHECK_STR(acmpca_error_last()->aws_code, "502");
    CHECK_CONTAINS(acmpca_error_last()->message, "HTTP 502 with no error code");
    CHECK_CONTAINS(acmpca_error_last()->message, "502 Bad Gateway");
    check_request_id("fault-req-2");
    CHECK_INT(received_count(), 2);

    script("[{\"action\":\"html_502\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    acmpca_client_free(c);
}

/* 200 whose body is not JSON at all. */
static void row_invalid_json(void)
{
    acmpca_client *c = simple_client(3);
    int rc;

    script("[{\"action\":\"invalid_json\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("invalid-json");
    check_failure(rc, ACMPCA_EBADRESPONSE, 1, 0, 200);
    CHECK_CONTAINS(acmpca_error_last()->message, "not valid JSON");
    CHECK_INT(received_count(), 1);
    acmpca_client_free(c);
}

/* A body over max_response_bytes, announced by Content-Length or chunked. */
static void row_body_over_cap(void)
{
    static const char *const scripts[] = {
        "[{\"action\":\"big_body\",\"size\":4096},{\"action\":\"ok\"}]",
        "[{\"action\":\"big_body\",\"size\":4096,\"chunked\":true},{\"action\":\"ok\"}]",
    };
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    size_t i;
    int rc;

    o.max_attempts = 3;
    o.max_response_bytes = 1024;
    c = client_with(&o, NULL);
    for (i = 0; i < 2; i++) {
        script(scripts[i]);
        rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
        show_error(i ? "body-over-cap (chunked)" : "body-over-cap");
        check_failure(rc, ACMPCA_ETOOLARGE, 1, 0, 200);
        CHECK_CONTAINS(acmpca_error_last()->message, "1024-byte limit");
        CHECK_INT(received_count(), 1);
    }
    /* Under the cap is fine. */
    script("[{\"action\":\"big_body\",\"size\":1000}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL), 0);
    acmpca_client_free(c);
}

/*
 * One ~200 KB response header, over libcurl's 100 KB line limit: the answer
 * is too large (ETOOLARGE), not the machine out of memory, and not retried.
 */
static void row_header_over_limit(void)
{
    acmpca_client *c = simple_client(3);
    char limit[64];
    int rc;

    script("[{\"action\":\"big_header\",\"size\":204800},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("header-over-limit");
    check_failure(rc, ACMPCA_ETOOLARGE, 1, 0, 200);
    snprintf(limit, sizeof(limit), "header line over the %d-byte limit", CURL_MAX_HTTP_HEADER);
    CHECK_CONTAINS(acmpca_error_last()->message, limit);
    CHECK_INT(received_count(), 1);

    /* A long header under the limit is fine. */
    script("[{\"action\":\"big_header\",\"size\":60000}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL), 0);
    acmpca_client_free(c);
}

/* Content-Length promises more than arrives before the close: cut short, retried. */
static void row_wrong_content_length(void)
{
    acmpca_client *c = simple_client(2);
    int rc, retries = -1;

    script("[{\"action\":\"wrong_length\",\"extra\":100,\"repeat\":2}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("wrong-content-length");
    check_failure(rc, ACMPCA_ENETWORK, 2, 1, 200);
    CHECK_INT(received_count(), 2);

    script("[{\"action\":\"wrong_length\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    acmpca_client_free(c);
}

/* The error code only in X-Amzn-ErrorType (the body has no __type). */
static void row_error_type_header_only(void)
{
    acmpca_client *c = simple_client(3);
    int rc, retries = -1;

    script("[{\"action\":\"header_only_error\",\"code\":\"ResourceNotFoundException\","
           "\"message\":\"no such CA\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("error-type-header-only");
    check_failure(rc, ACMPCA_E_RESOURCE_NOT_FOUND, 1, 0, 400);
    CHECK_STR(acmpca_error_last()->aws_code, "ResourceNotFoundException");
    CHECK_STR(acmpca_error_last()->message, "no such CA");
    check_request_id("fault-req-1");
    CHECK_INT(received_count(), 1);

    /* The header alone decides retries too: a header-only throttle is retried. */
    script("[{\"action\":\"header_only_error\",\"code\":\"ThrottlingException\"},"
           "{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);

    /* And with no body at all. */
    script("[{\"action\":\"respond\",\"status\":400,\"body\":\"\","
           "\"headers\":{\"X-Amzn-ErrorType\":\"InvalidArnException:http://internal/\"}}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    check_failure(rc, ACMPCA_E_INVALID_ARN, 1, 0, 400);
    CHECK_STR(acmpca_error_last()->aws_code, "InvalidArnException");
    acmpca_client_free(c);
}

/* The value of response header `name` in meta, or NULL. */
static const char *meta_header(const acmpca_response_meta *meta, const char *name)
{
    size_t i;
    for (i = 0; i < meta->header_count; i++)
        if (strcmp(meta->headers[i].name, name) == 0)
            return meta->headers[i].value;
    return NULL;
}

/*
 * Response header names reach the caller lowercased by ASCII rules only (the
 * bytes next to 'A'..'Z', and Latin-1 letters, as they came), whatever their
 * length; values without the spaces and tabs around them.
 */
static void row_response_header_names(void)
{
    acmpca_client *c = simple_client(1);
    const acmpca_operation_info *info = acmpca_model_operation_find("DescribeCertificateAuthority");
    acmpca_response_meta *meta = NULL;
    cJSON *in = cJSON_Parse(DESCRIBE_IN), *res = NULL;
    int rc;

    REQUIRE(in != NULL && info != NULL);
    script("[{\"action\":\"ok\",\"headers\":{"
           "\"X-@[`{Zz-AbCdEfGhIjKlMnOpQrStUvWxYz\":\" \\t spaced\\tvalue \\t \","
           "\"\u00c1\u00daX-Latin\\u00e9\":\"latin\","
           "\"ABCDEFGH\":\"eight\",\"Q\":\"one\",\"X-Empty\":\"   \"}}]");
    rc = use_socket_driver ? socket_driver_call(c, "DescribeCertificateAuthority", in, &res, &meta)
                           : acmpca_call_ex(c, info->id, in, &res, &meta);
    CHECK_INT(rc, 0);
    REQUIRE(meta != NULL);
    CHECK(meta_header(meta, "x-@[`{zz-abcdefghijklmnopqrstuvwxyz") != NULL);
    CHECK(meta_header(meta, "\xc1\xdax-latin\xe9") != NULL);
    CHECK(meta_header(meta, "abcdefgh") != NULL);
    CHECK(meta_header(meta, "q") != NULL);
    CHECK(meta_header(meta, "x-empty") != NULL);
    CHECK(meta_header(meta, "content-type") != NULL);
    CHECK_STR(meta->request_id, "fault-req-1");
    if (!use_socket_driver) { /* the test driver trims only before a value */
        CHECK_STR(meta_header(meta, "x-@[`{zz-abcdefghijklmnopqrstuvwxyz"), "spaced\tvalue");
        CHECK_STR(meta_header(meta, "\xc1\xdax-latin\xe9"), "latin");
        CHECK_STR(meta_header(meta, "abcdefgh"), "eight");
        CHECK_STR(meta_header(meta, "q"), "one");
        CHECK_STR(meta_header(meta, "x-empty"), "");
        CHECK_STR(meta_header(meta, "content-type"), "application/x-amz-json-1.1");
    }
    acmpca_response_meta_free(meta);
    cJSON_Delete(res);
    cJSON_Delete(in);
    acmpca_client_free(c);
}

/* The X-Amz-Date of request i, minus our clock now. */
static int64_t sent_offset(const cJSON *list, int i)
{
    int64_t t = parse_amz_date(req_header(list, i, "x-amz-date"));
    CHECK(t > 0);
    return t - (int64_t)time(NULL);
}

/* The service's clock is an hour ahead: one retry with its time, kept for later calls. */
static void row_skewed_date(void)
{
    acmpca_client *c = simple_client(3);
    cJSON *doc = NULL, *list;
    int retries = -1, rc;

    script("[{\"action\":\"skew\",\"offset_s\":3600,\"code\":\"RequestTimeTooSkewed\"},"
           "{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries);
    if (rc)
        show_error("skewed-date");
    CHECK_INT(rc, 0);
    CHECK_INT(retries, 1);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 2);
    printf("  X-Amz-Date offsets: first %lld s, retry %lld s\n", (long long)sent_offset(list, 0),
           (long long)sent_offset(list, 1));
    CHECK(llabs64(sent_offset(list, 0)) <= 60);
    CHECK(llabs64(sent_offset(list, 1) - 3600) <= 60);
    cJSON_Delete(doc);

    /* Later calls on the same client start from the server's time. */
    script("[{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 0);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 1);
    CHECK(llabs64(sent_offset(list, 0) - 3600) <= 60);
    cJSON_Delete(doc);

    /* A skew error that repeats after the correction is not retried again. */
    script("[{\"action\":\"skew\",\"offset_s\":7200},{\"action\":\"skew\",\"offset_s\":10800},"
           "{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("skewed-date (repeated)");
    check_failure(rc, ACMPCA_ESERVICE, 2, 0, 400);
    CHECK_STR(acmpca_error_last()->aws_code, "RequestTimeTooSkewed");
    CHECK_INT(received_count(), 2);
    acmpca_client_free(c);

    /* InvalidSignatureException with a Date an hour behind; retried even at max_attempts 1. */
    c = simple_client(1);
    script("[{\"action\":\"skew\",\"status\":403,\"offset_s\":-3600,"
           "\"code\":\"InvalidSignatureException\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries);
    if (rc)
        show_error("skewed-date (behind)");
    CHECK_INT(rc, 0);
    CHECK_INT(retries, 1);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 2);
    CHECK(llabs64(sent_offset(list, 1) + 3600) <= 60);
    cJSON_Delete(doc);
    acmpca_client_free(c);

    /* A signature error while the clocks agree is just an error: no retry. */
    c = simple_client(3);
    script("[{\"action\":\"skew\",\"status\":403,\"offset_s\":0,"
           "\"code\":\"InvalidSignatureException\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("signature error, clocks agree");
    check_failure(rc, ACMPCA_ESERVICE, 1, 0, 403);
    CHECK_STR(acmpca_error_last()->aws_code, "InvalidSignatureException");
    CHECK_INT(received_count(), 1);
    acmpca_client_free(c);
}

/* HTTPS with a self-signed certificate: refused by default, accepted with ca_bundle. */
static void row_tls_self_signed(void)
{
    const char *tls = env("ACMPCA_TEST_FAULT_TLS_ENDPOINT");
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    cJSON *doc, *out = NULL;
    int rc, retries = -1, failures = 0, i;

    o.max_attempts = 3;
    c = client_with(&o, tls);
    script("[]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("tls-self-signed");
    check_failure(rc, ACMPCA_ETLS, 1, 0, 0);
    CHECK_CONTAINS(acmpca_error_last()->message, "TLS error");
    CHECK_CONTAINS(acmpca_error_last()->message, tls);
    /* The server notes the failed handshake on its own thread, maybe after the
     * client has given up: ask for up to 5 s. */
    for (i = 0; i < 50; i++) {
        doc = control_json("/_fault/requests");
        CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "requests")), 0);
        failures = cJSON_GetObjectItemCaseSensitive(doc, "tls_failures")->valueint;
        cJSON_Delete(doc);
        if (failures >= 1)
            break;
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
    }
    CHECK(failures >= 1);
    acmpca_client_free(c);

    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.ca_bundle = env("ACMPCA_TEST_FAULT_CA");
    c = client_with(&o, tls);
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, &out, &retries);
    if (rc)
        show_error("tls with ca_bundle");
    CHECK_INT(rc, 0);
    CHECK_INT(retries, 0);
    CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(out, "CertificateAuthority"), "Arn"), CA_ARN);
    cJSON_Delete(out);
    CHECK_INT(received_count(), 1);
    acmpca_client_free(c);

    /* A bundle that does not hold the server's certificate still refuses. */
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.ca_bundle = "/nonexistent/ca.pem";
    c = client_with(&o, tls);
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    CHECK_INT(rc, ACMPCA_ETLS);
    acmpca_client_free(c);
}

/*
 * total_timeout_ms (500 ms) cuts an attempt that the read and connect
 * timeouts (10 s) would let run: the answer comes after 2 s, or (HTTPS to
 * the plain port) the TLS handshake never gets one.
 */
static void deadline_case(const char *name, const char *endpoint, const char *actions,
                          int received)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    double t0, took;
    int rc;

    o.max_attempts = 3;
    o.connect_timeout_ms = 10000;
    o.read_timeout_ms = 10000;
    o.total_timeout_ms = 500;
    c = client_with(&o, endpoint);
    script(actions);
    t0 = now_s();
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    took = now_s() - t0;
    printf("  gave up after %.2f s\n", took);
    show_error(name);
    check_failure(rc, ACMPCA_EREAD_TIMEOUT, 1, 1, 0);
    CHECK_CONTAINS(acmpca_error_last()->message, "total_timeout_ms");
    CHECK(took >= 0.45 && took < 1.5);
    CHECK_INT(received_count(), received);
    acmpca_client_free(c);
}

static void row_total_timeout_slow_answer(void)
{
    deadline_case("total-timeout-slow-answer", NULL,
                  "[{\"action\":\"ok\",\"delay_ms\":2000,\"repeat\":3}]", 1);
}

static void row_total_timeout_slow_handshake(void)
{
    char url[256];
    snprintf(url, sizeof(url), "https://%s", env("ACMPCA_TEST_ENDPOINT") + strlen("http://"));
    deadline_case("total-timeout-slow-handshake", url, "[]", 0);
}

/*
 * Throttled every time, max_attempts 10: without a deadline the back-off
 * alone would take minutes; total_timeout_ms (2 s) ends the call early,
 * with fewer attempts, reporting the last answer or the deadline.
 */
static void row_total_timeout_stops_retries(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    const acmpca_error *e = acmpca_error_last();
    acmpca_client *c;
    double t0, took;
    int rc;

    o.max_attempts = 10;
    o.total_timeout_ms = 2000;
    c = client_with(&o, NULL);
    script("[{\"action\":\"throttle\",\"repeat\":10}]");
    t0 = now_s();
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    took = now_s() - t0;
    printf("  %d attempts in %.2f s\n", e->attempts, took);
    show_error("total-timeout-stops-retries");
    CHECK(rc == ACMPCA_E_THROTTLING || rc == ACMPCA_EREAD_TIMEOUT);
    CHECK_INT(e->code, rc);
    CHECK(e->attempts >= 1 && e->attempts < 10);
    CHECK_INT(received_count(), e->attempts);
    CHECK(took < 3.5);
    acmpca_client_free(c);
}

static void sha256_hex(char out[65], const char *s)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t i;
    SHA256((const unsigned char *)s, strlen(s), md);
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

/* The token of request i (NULL when the body has none). */
static const char *token_of(const cJSON *list, int i)
{
    const cJSON *t = req_body(list, i, "IdempotencyToken");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static int issuance_count(void)
{
    cJSON *doc = control_json("/_fault/issuances");
    int n = cJSON_GetObjectItemCaseSensitive(doc, "count")->valueint;
    cJSON_Delete(doc);
    return n;
}

/* The server issues, then drops the connection twice: one token, one issuance. */
static void row_never_issue_twice(void)
{
    acmpca_client *c = simple_client(3);
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    cJSON *doc, *list, *out = NULL;
    char first[64] = "", hash[65], expected[256];
    int retries = -1, rc, i;

    script("[{\"action\":\"issue_then_drop\",\"repeat\":2},{\"action\":\"ok\"}]");
    rc = call(c, "IssueCertificate", ISSUE_IN, &out, &retries);
    if (rc)
        show_error("never-issue-twice");
    CHECK_INT(rc, 0);
    CHECK_INT(retries, 2);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 3);
    REQUIRE(token_of(list, 0) != NULL);
    snprintf(first, sizeof(first), "%s", token_of(list, 0));
    printf("  token on all 3 attempts: %s\n", first);
    CHECK(strlen(first) >= 1 && strlen(first) <= 36);
    for (i = 1; i < 3; i++)
        CHECK_STR(token_of(list, i), first);
    cJSON_Delete(doc);
    CHECK_INT(issuance_count(), 1);
    sha256_hex(hash, first);
    snprintf(expected, sizeof(expected), CA_ARN "/certificate/%.32s", hash);
    CHECK_STR(jstr(out, "CertificateArn"), expected);
    cJSON_Delete(out);

    /* A new logical call gets a new token. */
    script("[{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "IssueCertificate", ISSUE_IN, NULL, NULL), 0);
    list = received(&doc);
    CHECK(token_of(list, 0) && strcmp(token_of(list, 0), first) != 0);
    cJSON_Delete(doc);

    /* A token the user passes wins, on every attempt. */
    script("[{\"action\":\"issue_then_drop\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "IssueCertificate", ISSUE_IN_WITH_TOKEN("user-token-1"), NULL, &retries),
              0);
    CHECK_INT(retries, 1);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 2);
    CHECK_STR(token_of(list, 0), "user-token-1");
    CHECK_STR(token_of(list, 1), "user-token-1");
    cJSON_Delete(doc);
    CHECK_INT(issuance_count(), 1);

    /* CreateCertificateAuthority is covered too. */
    script("[{\"action\":\"drop\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "CreateCertificateAuthority", CREATE_CA_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 2);
    CHECK(token_of(list, 0) != NULL);
    CHECK_STR(token_of(list, 1), token_of(list, 0));
    cJSON_Delete(doc);
    acmpca_client_free(c);

    /* Turned off: no token is added, and a dropped answer means a second issuance. */
    o.max_attempts = 3;
    o.disable_idempotency_tokens = 1;
    c = client_with(&o, NULL);
    script("[{\"action\":\"issue_then_drop\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "IssueCertificate", ISSUE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    list = received(&doc);
    REQUIRE(cJSON_GetArraySize(list) == 2);
    CHECK(token_of(list, 0) == NULL);
    CHECK(token_of(list, 1) == NULL);
    CHECK(req_body(list, 0, "CertificateAuthorityArn") != NULL);
    cJSON_Delete(doc);
    CHECK_INT(issuance_count(), 2);
    acmpca_client_free(c);
}

#define QUOTA_THREADS 60

typedef struct quota_job {
    acmpca_client *c;
    int rc;
    int attempts;
} quota_job;

static void *quota_worker(void *arg)
{
    quota_job *j = arg;
    cJSON *in = cJSON_Parse(DESCRIBE_IN), *out = NULL;
    j->rc = use_socket_driver
                ? socket_driver_call(j->c, "DescribeCertificateAuthority", in, &out, NULL)
                : acmpca_call(j->c, "DescribeCertificateAuthority", in, &out);
    j->attempts = acmpca_error_last()->attempts;
    cJSON_Delete(in);
    cJSON_Delete(out);
    return NULL;
}

/*
 * The retry quota (500 tokens; 10 per retry after a connection error): 60
 * failing calls at once get exactly 50 retries, then calls stop retrying
 * until successes refill it.
 */
static void row_retry_quota(void)
{
    acmpca_client *c = simple_client(2);
    static quota_job jobs[QUOTA_THREADS];
    pthread_t th[QUOTA_THREADS];
    int i, total = 0, retried = 0, rc, retries = -1;

    script("[{\"action\":\"reset_before\",\"repeat\":200}]");
    for (i = 0; i < QUOTA_THREADS; i++) {
        jobs[i].c = c;
        REQUIRE(pthread_create(&th[i], NULL, quota_worker, &jobs[i]) == 0);
    }
    for (i = 0; i < QUOTA_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(jobs[i].rc, ACMPCA_ENETWORK);
        total += jobs[i].attempts;
        retried += jobs[i].attempts == 2;
    }
    printf("  %d calls, %d attempts, %d retried\n", QUOTA_THREADS, total, retried);
    CHECK_INT(retried, 50);
    CHECK_INT(total, QUOTA_THREADS + 50);
    CHECK_INT(received_count(), QUOTA_THREADS + 50);

    /* The quota is empty: a retryable 500 is no longer retried. */
    script("[{\"action\":\"server_error\"},{\"action\":\"ok\"}]");
    rc = call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL);
    show_error("retry-quota (drained)");
    check_failure(rc, ACMPCA_ESERVICE, 1, 1, 500);
    CHECK_INT(received_count(), 1);

    /* Each success without retries gives one token back; five pay for one retry. */
    script("[]");
    for (i = 0; i < 5; i++)
        CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, NULL), 0);
    script("[{\"action\":\"server_error\"},{\"action\":\"ok\"}]");
    CHECK_INT(call(c, "DescribeCertificateAuthority", DESCRIBE_IN, NULL, &retries), 0);
    CHECK_INT(retries, 1);
    acmpca_client_free(c);
}

/* ---- driver ---------------------------------------------------------------- */

typedef struct row {
    const char *name;
    void (*fn)(void);
} row;

static const row rows[] = {
    {"http-500", row_http_500},
    {"503-then-200", row_503_then_200},
    {"throttling-then-200", row_throttling},
    {"limit-exceeded", row_limit_exceeded},
    {"connection-refused", row_connection_refused},
    {"reset-before-any-byte", row_reset_before_any_byte},
    {"reset-mid-body", row_reset_mid_body},
    {"stall", row_stall},
    {"slow-trickle", row_slow_trickle},
    {"slow-trickle-head", row_slow_trickle_head},
    {"truncated-json", row_truncated_json},
    {"html-502", row_html_502},
    {"invalid-json", row_invalid_json},
    {"body-over-cap", row_body_over_cap},
    {"wrong-content-length", row_wrong_content_length},
    {"header-over-limit", row_header_over_limit},
    {"error-type-header-only", row_error_type_header_only},
    {"skewed-date", row_skewed_date},
    {"tls-self-signed", row_tls_self_signed},
    {"never-issue-twice", row_never_issue_twice},
    {"retry-quota", row_retry_quota},
    {"total-timeout-slow-answer", row_total_timeout_slow_answer},
    {"total-timeout-slow-handshake", row_total_timeout_slow_handshake},
    {"total-timeout-stops-retries", row_total_timeout_stops_retries},
};

#define ROW_COUNT (sizeof(rows) / sizeof(rows[0]))

/* Rows of the C core's libcurl transport alone, not of the matrix the other
 * clients follow (transport/<row> in faults.cmake). */
static const row transport_rows[] = {
    {"response-header-names", row_response_header_names},
};

int main(int argc, char **argv)
{
    const char *which;
    size_t i;
    int ran = 0;

    if (argc > 1 && strcmp(argv[1], "--socket-driver") == 0) {
        use_socket_driver = 1;
        argc--;
        argv++;
    }
    which = argc > 1 ? argv[1] : "all";

    if (strcmp(which, "--list") == 0) {
        for (i = 0; i < ROW_COUNT; i++)
            printf("%s\n", rows[i].name);
        return 0;
    }
    if (strcmp(which, "--check-rows") == 0) {
        CHECK_INT(argc - 2, ROW_COUNT);
        for (i = 0; i < ROW_COUNT && (int)i + 2 < argc; i++)
            CHECK_STR(argv[i + 2], rows[i].name);
        return CHECK_DONE();
    }
    REQUIRE(acmpca_global_init() == 0);
    control_base = env("ACMPCA_TEST_FAULT_CONTROL");
    for (i = 0; i < ROW_COUNT + sizeof(transport_rows) / sizeof(transport_rows[0]); i++) {
        const row *r = i < ROW_COUNT ? &rows[i] : &transport_rows[i - ROW_COUNT];
        if (strcmp(which, "all") == 0 || strcmp(which, r->name) == 0) {
            double t0 = now_s();
            int before = check_failures;
            printf("row %s\n", r->name);
            fflush(stdout);
            r->fn();
            printf("row %s: %s in %.2f s\n", r->name,
                   check_failures == before ? "ok" : "FAILED", now_s() - t0);
            fflush(stdout);
            ran++;
        }
    }
    acmpca_global_cleanup();
    if (!ran) {
        fprintf(stderr, "no row named %s (see --list)\n", which);
        return 2;
    }
    return CHECK_DONE();
}
