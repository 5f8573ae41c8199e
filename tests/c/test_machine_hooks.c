/*
 * test_machine_hooks.c - what a binding that runs hooks between a call's steps
 * relies on (the Python binding's client.meta.events): headers added to a
 * call machine are sent and signed, refused when the signer owns them or
 * they could split a header; acmpca_machine_perform sends with the library's
 * transport, acmpca_machine_perform_parsing lets the binding make the result
 * from the body; acmpca_client_settings_get shows what the client resolved.
 * Requests go to tests/fixtures/fault_server.py (run under with_server.py).
 */
#define _POSIX_C_SOURCE 200809L
#include <strings.h>

#include "acmpca.h"
#include "fault_control.h"

#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/hooks-ca"
#define GET_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"CertificateArn\":\"" CA_ARN \
               "/certificate/0123\"}"

static acmpca_client *new_client(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDHOOKSTEST";
    o.secret_access_key = "hooks-test-secret";
    o.max_attempts = 2;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    return c;
}

static acmpca_machine *new_call(acmpca_client *c)
{
    cJSON *in = cJSON_Parse(GET_IN);
    acmpca_machine *m = NULL;
    REQUIRE(in);
    REQUIRE(acmpca_machine_new_call(&m, c, "GetCertificate", in) == 0);
    cJSON_Delete(in);
    return m;
}

static const char *header(const acmpca_http_request *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static size_t count(const acmpca_http_request *r, const char *name)
{
    size_t i, n = 0;
    for (i = 0; i < r->header_count; i++)
        n += strcasecmp(r->headers[i].name, name) == 0;
    return n;
}

/* An added header goes out signed, on every attempt; a second value replaces the first. */
static void test_machine__added_header_is_sent_and_signed(void)
{
    acmpca_client *c = new_client();
    acmpca_machine *m = new_call(c);
    acmpca_step s;
    cJSON *doc, *list, *got;
    int sends = 0;

    CHECK(acmpca_machine_request(m) != NULL);
    CHECK(header(acmpca_machine_request(m), "Authorization") == NULL); /* not signed yet */
    CHECK_INT(acmpca_machine_use_blocking_io(m), 0);
    CHECK_INT(acmpca_machine_set_header(m, "X-Trace-Id", "first"), 0);
    CHECK_INT(acmpca_machine_set_header(m, "x-trace-id", "trace-1"), 0);
    fault_script("[{\"action\":\"throttle\"},{\"action\":\"ok\"}]");
    for (;;) {
        acmpca_step_kind k = acmpca_machine_next(m, &s);
        if (k == ACMPCA_STEP_DONE || k == ACMPCA_STEP_FAILED)
            break;
        if (k == ACMPCA_STEP_SEND) {
            sends++;
            CHECK_STR(header(s.request, "X-Trace-Id"), "trace-1");
            CHECK_INT((int)count(s.request, "X-Trace-Id"), 1);
            CHECK_INT((int)count(s.request, "Authorization"), 1);
            CHECK_CONTAINS(header(s.request, "Authorization"), "x-trace-id");
        }
        CHECK_INT(acmpca_machine_perform(m, &s), 0);
    }
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE);
    CHECK_INT(sends, 2);
    list = fault_received(&doc);
    CHECK_INT(cJSON_GetArraySize(list), 2);
    got = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 1), "headers"), "x-trace-id");
    CHECK(cJSON_IsString(got) && strcmp(got->valuestring, "trace-1") == 0);
    cJSON_Delete(doc);
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* What the signer or the protocol sets, and what could split a header, is refused. */
static void test_machine__added_header_refusals(void)
{
    acmpca_client *c = new_client();
    acmpca_machine *m = new_call(c), *w = NULL;
    cJSON *in = cJSON_Parse(GET_IN);
    const char *owned[] = {"Authorization", "host", "X-Amz-Date", "x-amz-security-token",
                           "Content-Type", "X-Amz-Target", "X-Amz-Content-Sha256"};
    char name[16];
    size_t i;

    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        CHECK_INT(acmpca_machine_set_header(m, owned[i], "x"), ACMPCA_EINVAL);
        CHECK_CONTAINS(acmpca_error_last()->message, owned[i]);
    }
    CHECK_INT(acmpca_machine_set_header(m, "X-Bad", "a\r\nInjected: 1"), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "CR or LF");
    CHECK_INT(acmpca_machine_set_header(m, "Bad Name", "x"), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "header name");
    CHECK_INT(acmpca_machine_set_header(m, "", "x"), ACMPCA_EINVAL);
    CHECK_INT(acmpca_machine_set_header(m, NULL, "x"), ACMPCA_EINVAL);
    for (i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "X-H%zu", i);
        CHECK_INT(acmpca_machine_set_header(m, name, "v"), 0);
    }
    CHECK_INT(acmpca_machine_set_header(m, "X-One-Too-Many", "v"), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "more than 64");
    REQUIRE(acmpca_machine_new_waiter(&w, c, "certificate_issued", in, 0, 0) == 0);
    CHECK_INT(acmpca_machine_set_header(w, "X-Trace", "x"), ACMPCA_EINVAL);
    CHECK(acmpca_machine_request(w) == NULL);
    CHECK_INT(acmpca_machine_perform(NULL, NULL), ACMPCA_EINVAL);
    CHECK_INT(acmpca_machine_use_blocking_io(NULL), ACMPCA_EINVAL);
    cJSON_Delete(in);
    acmpca_machine_free(w);
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/*
 * After acmpca_machine_stop_before_signing, a SIGN step comes before every
 * signature: each attempt, and the retry a clock-skew correction makes (which
 * no back-off sleep announces). What is added at that step is signed.
 */
static void test_machine__sign_step_before_every_signature(void)
{
    acmpca_client *c = new_client();
    acmpca_machine *m = new_call(c), *w = NULL;
    cJSON *in = cJSON_Parse(GET_IN);
    acmpca_step s;
    char value[32];
    const char *body;
    size_t len = 1;
    int signs = 0, sends = 0;

    CHECK(acmpca_machine_response_body(m, &len) == NULL && len == 0); /* no answer yet */
    CHECK_INT(acmpca_machine_use_blocking_io(m), 0);
    CHECK_INT(acmpca_machine_stop_before_signing(m), 0);
    fault_script("[{\"action\":\"skew\",\"status\":403,\"offset_s\":-3600,"
                 "\"code\":\"InvalidSignatureException\"},{\"action\":\"ok\"}]");
    for (;;) {
        acmpca_step_kind k = acmpca_machine_next(m, &s);
        if (k == ACMPCA_STEP_DONE || k == ACMPCA_STEP_FAILED)
            break;
        if (k == ACMPCA_STEP_SIGN) {
            signs++;
            CHECK_INT(s.attempt, signs);
            CHECK_INT(sends, signs - 1);
            snprintf(value, sizeof(value), "sign-%d", signs);
            CHECK_INT(acmpca_machine_set_header(m, "X-Attempt", value), 0);
            continue;
        }
        if (k == ACMPCA_STEP_SEND) {
            sends++;
            CHECK_STR(header(s.request, "X-Attempt"), sends == 1 ? "sign-1" : "sign-2");
            CHECK_CONTAINS(header(s.request, "Authorization"), "x-attempt");
        }
        CHECK_INT(acmpca_machine_perform(m, &s), 0);
    }
    CHECK_INT(acmpca_machine_next(m, &s), ACMPCA_STEP_DONE);
    CHECK_INT(signs, 2);
    CHECK_INT(sends, 2);
    body = acmpca_machine_response_body(m, &len);
    CHECK(body != NULL && len > 0 && body[0] == '{'); /* the last answer's bytes */
    REQUIRE(acmpca_machine_new_waiter(&w, c, "certificate_issued", in, 0, 0) == 0);
    CHECK_INT(acmpca_machine_stop_before_signing(w), ACMPCA_EINVAL);
    CHECK(acmpca_machine_response_body(w, NULL) == NULL);
    cJSON_Delete(in);
    acmpca_machine_free(w);
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

typedef struct parsing {
    int calls, made;    /* made: what read_body answers (1: the driver made the result) */
    char first[16];
} parsing;

static int read_body(void *userdata, const char *body, size_t len)
{
    parsing *p = userdata;
    p->calls++;
    snprintf(p->first, sizeof(p->first), "%.*s", (int)(len < 15 ? len : 15), body);
    return p->made;
}

/* Send a GetCertificate by acmpca_machine_perform_parsing to the end: its result code. */
static int run_parsing(acmpca_machine *m, parsing *p)
{
    acmpca_step s;
    acmpca_step_kind k;
    CHECK_INT(acmpca_machine_use_blocking_io(m), 0);
    while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP)
        CHECK_INT(acmpca_machine_perform_parsing(m, &s, read_body, p), 0);
    return k;
}

/*
 * A driver that makes the result from the body itself sees each 2xx body
 * (not the errors before it); when it made the result, the machine parses
 * nothing (DONE's result is NULL), else the result is the machine's parse.
 * acmpca_machine_meta is the last answer's metadata, as acmpca_machine_result
 * gives it, without a copy.
 */
static void test_machine__driver_parses_the_answer(void)
{
    acmpca_client *c = new_client();
    acmpca_machine *m = new_call(c);
    acmpca_response_meta *copy = NULL;
    const acmpca_response_meta *meta;
    parsing p = {0, 1, ""};
    cJSON *out = NULL;
    size_t i;

    CHECK(acmpca_machine_meta(m) == NULL); /* no answer yet */
    CHECK(acmpca_machine_meta(NULL) == NULL);
    fault_script("[{\"action\":\"throttle\"},{\"action\":\"ok\",\"request_id\":\"rid-parsed\","
                 "\"headers\":{\"X-Extra\":\"extra\"}}]");
    CHECK_INT(run_parsing(m, &p), ACMPCA_STEP_DONE);
    CHECK_INT(p.calls, 1);
    CHECK_STR(p.first, "{\"Certificate\":");
    CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
    CHECK(out == NULL);
    meta = acmpca_machine_meta(m);
    REQUIRE(meta != NULL);
    CHECK_INT(meta->http_status, 200);
    CHECK_STR(meta->request_id, "rid-parsed");
    CHECK_INT(meta->retry_attempts, 1);
    for (i = 0; i < meta->header_count && strcmp(meta->headers[i].name, "x-extra"); i++)
        ;
    CHECK(i < meta->header_count && strcmp(meta->headers[i].value, "extra") == 0);
    acmpca_machine_free(m);

    /* Not made by the driver: the machine's own parse, and the same metadata as a copy. */
    m = new_call(c);
    p.calls = p.made = 0;
    fault_script("[{\"action\":\"ok\",\"request_id\":\"rid-core\"}]");
    CHECK_INT(run_parsing(m, &p), ACMPCA_STEP_DONE);
    CHECK_INT(p.calls, 1);
    meta = acmpca_machine_meta(m);
    REQUIRE(meta != NULL);
    CHECK_STR(meta->request_id, "rid-core");
    CHECK_INT(meta->retry_attempts, 0);
    CHECK_INT(acmpca_machine_result(m, &out, &copy), 0);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(out, "Certificate")));
    REQUIRE(copy != NULL);
    CHECK_STR(copy->request_id, "rid-core");
    cJSON_Delete(out);
    acmpca_response_meta_free(copy);
    acmpca_machine_free(m);

    /* A failure: never given to the driver; its metadata says what came back. */
    m = new_call(c);
    p.calls = 0;
    p.made = 1;
    fault_script("[{\"action\":\"error\",\"status\":400,\"code\":\"RequestFailedException\","
                 "\"request_id\":\"rid-failed\"}]");
    CHECK_INT(run_parsing(m, &p), ACMPCA_STEP_FAILED);
    CHECK_INT(p.calls, 0);
    CHECK_INT(acmpca_machine_result(m, &out, NULL), ACMPCA_E_REQUEST_FAILED);
    meta = acmpca_machine_meta(m);
    REQUIRE(meta != NULL);
    CHECK_INT(meta->http_status, 400);
    CHECK_STR(meta->request_id, "rid-failed");
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/* The settings a client resolved, with the defaults filled in. */
static void test_client__settings_show_the_resolved_values(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client_settings s;
    acmpca_client *c = NULL;

    o.endpoint_url = "http://127.0.0.1:1";
    o.region = "us-east-1";
    o.access_key_id = "AKIDHOOKSTEST";
    o.secret_access_key = "hooks-test-secret";
    o.read_timeout_ms = 2500;
    o.retry_mode = "adaptive";
    o.max_attempts = 7;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    CHECK_INT(acmpca_client_settings_get(c, &s), 0);
    CHECK_STR(s.retry_mode, "adaptive");
    CHECK_INT(s.max_attempts, 7);
    CHECK_INT(s.connect_timeout_ms, 10000);
    CHECK_INT(s.read_timeout_ms, 2500);
    CHECK_INT(s.total_timeout_ms, 0);
    CHECK_INT(s.pool_size, 4);
    CHECK(s.max_response_bytes == (size_t)16 << 20);
    CHECK(s.profile != NULL);
    CHECK_INT(acmpca_client_settings_get(NULL, &s), ACMPCA_EINVAL);
    acmpca_client_free(c);
}

int main(void)
{
    acmpca_global_init();
    test_machine__added_header_is_sent_and_signed();
    test_machine__added_header_refusals();
    test_machine__sign_step_before_every_signature();
    test_machine__driver_parses_the_answer();
    test_client__settings_show_the_resolved_values();
    acmpca_global_cleanup();
    return CHECK_DONE();
}
