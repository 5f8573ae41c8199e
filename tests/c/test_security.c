/*
 * test_security.c - security regressions of the client, one group per
 * argument: "options" (a zero field never switches a protection off,
 * whichever way the struct was initialised, and version-1 structs keep their
 * old meaning), "hostile-date" (a Date header from the network cannot
 * overflow the clock-skew arithmetic). Runs under
 * tests/fixtures/with_server.py fault (a plain and a self-signed HTTPS port).
 */
#include "fault_control.h"

#include <stddef.h>

#include "acmpca.h"

#define DESCRIBE_IN "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:us-east-1:" \
                    "123456789012:certificate-authority/fault-ca\"}"
#define ISSUE_IN "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:us-east-1:123456789012:" \
                 "certificate-authority/fault-ca\",\"Csr\":\"-----BEGIN CERTIFICATE " \
                 "REQUEST-----\\nMIIB\\n-----END CERTIFICATE REQUEST-----\\n\"," \
                 "\"SigningAlgorithm\":\"SHA256WITHECDSA\"," \
                 "\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}"


static void reset_server(void)
{
    free(fault_control("POST", "/_fault/reset", ""));
}

/* Make a client from `o` (keys and region filled in) and call DescribeCertificateAuthority. */
static int describe_with(acmpca_client_options *o)
{
    acmpca_client *c = NULL;
    cJSON *in = cJSON_Parse(DESCRIBE_IN), *out = NULL;
    int rc;

    o->region = "us-east-1";
    o->access_key_id = "AKIDOPTIONSTEST";
    o->secret_access_key = "options-test-secret";
    rc = acmpca_client_new(&c, o);
    if (rc == 0)
        rc = acmpca_call(c, "DescribeCertificateAuthority", in, &out);
    cJSON_Delete(in);
    cJSON_Delete(out);
    acmpca_client_free(c);
    return rc;
}

/* Every way of getting "all defaults" verifies the server's certificate. */
static void test_options__zero_fields_verify_tls(void)
{
    const char *tls = fault_env("ACMPCA_TEST_FAULT_TLS_ENDPOINT");
    acmpca_client_options o = {.version = ACMPCA_CLIENT_OPTIONS_VERSION, .endpoint_url = tls};
    acmpca_client_options m;

    CHECK_INT(describe_with(&o), ACMPCA_ETLS);
    CHECK_CONTAINS(acmpca_error_last()->message, "TLS error");

    memset(&m, 0, sizeof(m));
    m.version = ACMPCA_CLIENT_OPTIONS_VERSION;
    m.endpoint_url = tls;
    CHECK_INT(describe_with(&m), ACMPCA_ETLS);

    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.endpoint_url = tls;
    CHECK_INT(describe_with(&o), ACMPCA_ETLS);

    CHECK_INT(acmpca_client_options_init(&o, ACMPCA_CLIENT_OPTIONS_VERSION), 0);
    o.endpoint_url = tls;
    CHECK_INT(describe_with(&o), ACMPCA_ETLS);

    /* Only the field that says so turns verification off. */
    o.insecure_skip_tls_verify = 1;
    CHECK_INT(describe_with(&o), 0);

    /* The server's own certificate as the bundle: verified and accepted. */
    o.insecure_skip_tls_verify = 0;
    o.ca_bundle = fault_env("ACMPCA_TEST_FAULT_CA");
    CHECK_INT(describe_with(&o), 0);
}

/* A version-1 struct: verify_tls (the slot of insecure_skip_tls_verify) meant 1 = verify. */
static void test_options__version_1_keeps_its_meaning(void)
{
    const char *tls = fault_env("ACMPCA_TEST_FAULT_TLS_ENDPOINT");
    acmpca_client_options o;

    CHECK_INT(acmpca_client_options_init(&o, 1), 0);
    CHECK_INT(o.version, 1);
    CHECK_INT(o.use_fips, -1);
    o.endpoint_url = tls;
    CHECK_INT(describe_with(&o), ACMPCA_ETLS); /* v1 default: verify_tls = 1 */

    o.insecure_skip_tls_verify = 0; /* v1: verify_tls = 0, verification off */
    CHECK_INT(describe_with(&o), 0);

    /* Fields past version 1's end are never read from a version-1 struct. */
    o.insecure_skip_tls_verify = 1;
    o.total_timeout_ms = -5;
    CHECK_INT(describe_with(&o), ACMPCA_ETLS);
}

/* Did the last IssueCertificate the server received carry an IdempotencyToken? */
static int sent_token(void)
{
    char *text = fault_control("GET", "/_fault/requests", NULL);
    cJSON *doc = cJSON_Parse(text), *list, *last, *body;
    int found;

    free(text);
    list = cJSON_GetObjectItemCaseSensitive(doc, "requests");
    REQUIRE(cJSON_GetArraySize(list) >= 1);
    last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    body = cJSON_GetObjectItemCaseSensitive(last, "body");
    found = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "IdempotencyToken"));
    cJSON_Delete(doc);
    return found;
}

static int issue_with(acmpca_client_options *o)
{
    acmpca_client *c = NULL;
    cJSON *in = cJSON_Parse(ISSUE_IN), *out = NULL;
    int rc;

    reset_server();
    o->endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o->region = "us-east-1";
    o->access_key_id = "AKIDOPTIONSTEST";
    o->secret_access_key = "options-test-secret";
    REQUIRE(acmpca_client_new(&c, o) == 0);
    rc = acmpca_call(c, "IssueCertificate", in, &out);
    cJSON_Delete(in);
    cJSON_Delete(out);
    acmpca_client_free(c);
    return rc;
}

static void test_options__zero_fields_send_idempotency_tokens(void)
{
    acmpca_client_options o = {.version = ACMPCA_CLIENT_OPTIONS_VERSION};

    CHECK_INT(issue_with(&o), 0);
    CHECK(sent_token());
    o.disable_idempotency_tokens = 1;
    CHECK_INT(issue_with(&o), 0);
    CHECK(!sent_token());

    /* Version 1: idempotency_tokens (the same slot) meant 1 = on. */
    CHECK_INT(acmpca_client_options_init(&o, 1), 0);
    CHECK_INT(issue_with(&o), 0);
    CHECK(sent_token());
    o.disable_idempotency_tokens = 0;
    CHECK_INT(issue_with(&o), 0);
    CHECK(!sent_token());
}

/* The endpoint a client resolves for us-east-1 with these options. */
static int fips_endpoint(acmpca_client_options *o)
{
    acmpca_client *c = NULL;
    int fips;
    o->region = "us-east-1";
    o->access_key_id = "AKIDOPTIONSTEST";
    o->secret_access_key = "options-test-secret";
    REQUIRE(acmpca_client_new(&c, o) == 0);
    fips = strstr(acmpca_client_endpoint(c), "acm-pca-fips.") != NULL;
    acmpca_client_free(c);
    return fips;
}

/* Zero means "from the environment and the profile", not "off". */
static void test_options__zero_fips_comes_from_the_environment(void)
{
    acmpca_client_options o = {.version = ACMPCA_CLIENT_OPTIONS_VERSION};

    unsetenv("AWS_ENDPOINT_URL");
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    CHECK(fips_endpoint(&o));
    o.use_fips = ACMPCA_DISABLED;
    CHECK(!fips_endpoint(&o));
    unsetenv("AWS_USE_FIPS_ENDPOINT");
    o.use_fips = ACMPCA_ENABLED;
    CHECK(fips_endpoint(&o));
    o.use_fips = ACMPCA_DEFAULT;
    CHECK(!fips_endpoint(&o));

    /* Version 1: -1 was "from the environment", 0 "off". */
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    CHECK_INT(acmpca_client_options_init(&o, 1), 0);
    CHECK(fips_endpoint(&o));
    o.use_fips = 0;
    CHECK(!fips_endpoint(&o));
    unsetenv("AWS_USE_FIPS_ENDPOINT");
}

/* Bad values are refused before anything else happens, naming the field. */
static void test_options__bad_values_name_the_field(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;

    o.use_dualstack = 2;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.use_dualstack");
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.total_timeout_ms = -1;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.total_timeout_ms");
    /* One range per numeric option, checked by the core for every binding. */
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.max_attempts = 101;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.max_attempts: expected 0 (the "
                                                 "default) or 1 to 100");
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.connect_timeout_ms = -1;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.connect_timeout_ms");
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.pool_size = 1001;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.pool_size");
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.retry_mode = "fast";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "\"standard\", \"adaptive\" or \"legacy\"");
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.user_agent_suffix = "app/1\r\nX-Injected: 1";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.user_agent_suffix");
    o.user_agent_suffix = "app/1\nHost: evil";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    o.version = 0;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.version");
    o.version = ACMPCA_CLIENT_OPTIONS_VERSION + 1;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_INT(acmpca_client_options_init(&o, 0), ACMPCA_EINVAL);
    CHECK_INT(acmpca_client_options_init(&o, ACMPCA_CLIENT_OPTIONS_VERSION + 1), ACMPCA_EINVAL);
    CHECK(c == NULL);
}

/* Error answers whose Date header is hostile; the error is reported, never "learnt". */
static void test_skew__hostile_date_headers_are_ignored(void)
{
    static const char *const dates[] = {
        "Sun, 06 Nov 2026 99999999999:49:37 GMT", "Sun, 99999999999 Nov 2026 08:49:37 GMT",
        "Sun, 06 Nov 99999999999 08:49:37 GMT", "Sun, 06 Nov -2147483648 08:49:37 GMT",
        "Sun, 06 Nov 2026 08:49:37", "Sun, 06 Nov 2026 24:00:00 GMT", "Sun, 6 Nov 2026 08:49",
        "",
    };
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *in = cJSON_Parse(DESCRIBE_IN), *out = NULL;
    char script[512];
    size_t i;

    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDOPTIONSTEST";
    o.secret_access_key = "options-test-secret";
    o.max_attempts = 1;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        reset_server();
        snprintf(script, sizeof(script),
                 "[{\"action\":\"error\",\"status\":400,\"code\":\"RequestTimeTooSkewed\","
                 "\"headers\":{\"Date\":\"%s\"}},{\"action\":\"ok\"}]", dates[i]);
        free(fault_control("POST", "/_fault/script", script));
        CHECK_INT(acmpca_call(c, "DescribeCertificateAuthority", in, &out), ACMPCA_ESERVICE);
        CHECK_STR(acmpca_error_last()->aws_code, "RequestTimeTooSkewed");
        CHECK_INT(fault_received_count(), 1); /* no retry with a "learnt" time */
    }
    /* A well-formed date an hour ahead is learnt: one more attempt succeeds. */
    reset_server();
    free(fault_control("POST", "/_fault/script", "[{\"action\":\"skew\",\"offset_s\":3600},"
                                             "{\"action\":\"ok\"}]"));
    CHECK_INT(acmpca_call(c, "DescribeCertificateAuthority", in, &out), 0);
    CHECK_INT(fault_received_count(), 2);
    cJSON_Delete(out);
    cJSON_Delete(in);
    acmpca_client_free(c);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "";
    acmpca_global_init();
    if (strcmp(group, "options") == 0) {
        test_options__zero_fields_verify_tls();
        test_options__version_1_keeps_its_meaning();
        test_options__zero_fields_send_idempotency_tokens();
        test_options__zero_fips_comes_from_the_environment();
        test_options__bad_values_name_the_field();
    } else if (strcmp(group, "hostile-date") == 0) {
        test_skew__hostile_date_headers_are_ignored();
    } else {
        fprintf(stderr, "usage: test_security options|hostile-date\n");
        return 2;
    }
    acmpca_global_cleanup();
    return CHECK_DONE();
}
