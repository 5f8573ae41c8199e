/*
 * test_policy.c - the client's policies as a user meets them: how long it
 * waits between attempts (standard and adaptive retry modes), which TLS
 * servers it accepts, how fast the default quotas let it call, and where its
 * retry settings come from. Everything is observed from outside: the gaps
 * between requests as tests/fixtures/fault_server.py received them (its
 * monotonic "mono" time), what the server saw, the error a call returned,
 * and the SLEEP steps of the call machine.
 *
 *   test_policy CASE     one case (see --list); runs under
 *                        tests/fixtures/with_server.py fault
 *
 * Timing checks are one-sided where the other side is only noise: a floor
 * the policy guarantees (the rate limiter, adaptive mode) or that random
 * jitter misses only with a stated, negligible probability, and ceilings
 * with slack for a loaded machine.
 */
#include "fault_control.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

#include "acmpca.h"

#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
#define GET_CERT_IN "{\"CertificateAuthorityArn\":\"" CA_ARN "\",\"CertificateArn\":\"" \
                    CA_ARN "/certificate/0123456789abcdef\"}"
#define GET_POLICY_IN "{\"ResourceArn\":\"" CA_ARN "\"}"
#define THROTTLE_BODY "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"
#define MAX_REQUESTS 128

/* ---- helpers ---------------------------------------------------------------- */

/* A client for `endpoint` (NULL: the fault server's plain port) with *o. */
static acmpca_client *client_with(acmpca_client_options *o, const char *endpoint)
{
    acmpca_client *c = NULL;
    o->endpoint_url = endpoint ? endpoint : fault_env("ACMPCA_TEST_ENDPOINT");
    o->region = "us-east-1";
    o->access_key_id = "AKIDPOLICYTEST";
    o->secret_access_key = "policy-test-secret";
    if (acmpca_client_new(&c, o) != 0) {
        fprintf(stderr, "client: %s\n", acmpca_error_last()->message);
        exit(1);
    }
    return c;
}

static int call(acmpca_client *c, const char *op, const char *json)
{
    cJSON *in = cJSON_Parse(json), *out = NULL;
    int rc;
    REQUIRE(in != NULL);
    rc = acmpca_call(c, op, in, &out);
    cJSON_Delete(in);
    cJSON_Delete(out);
    return rc;
}

/* The server's receive times of the requests so far (seconds); their number. */
static int server_times(double *t, const char *operation)
{
    cJSON *doc, *list = fault_received(&doc), *r;
    int n = 0;
    cJSON_ArrayForEach(r, list) {
        cJSON *mono = cJSON_GetObjectItemCaseSensitive(r, "mono");
        REQUIRE(cJSON_IsNumber(mono) && n < MAX_REQUESTS);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "operation")),
                  operation);
        t[n++] = mono->valuedouble;
    }
    cJSON_Delete(doc);
    return n;
}

/* A JSON script: `head` (a list's items, may be "") then `ok` repeated n times. */
static void script_then_ok(const char *head, int n)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "[%s%s{\"action\":\"ok\",\"repeat\":%d}]", head, *head ? "," : "",
             n);
    fault_script(buf);
}

/* ---- retry back-off ------------------------------------------------------------- */

/*
 * The back-off a call asks for (its SLEEP steps) after attempt k is
 * random[0,1) * 2^(k-1) s, capped at 20 s. Driven through the step API with
 * throttling answers fed in, so a hundred back-offs cost no waiting; the
 * bounds hold for every sample, and 40 samples of each k miss the upper half
 * of the range with probability 2^-40.
 */
static void test_retry__backoff_is_jittered_exponential(void)
{
    static const acmpca_header hdr[] = {{"content-type", "application/x-amz-json-1.1"}};
    enum { CALLS = 40, ATTEMPTS = 6 };
    double ratio_max[ATTEMPTS] = {0}, ratio_min[ATTEMPTS], ratio_sum[ATTEMPTS] = {0};
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *in = cJSON_Parse(GET_CERT_IN);
    acmpca_step s;
    int i, k, capped = 0;

    REQUIRE(in != NULL);
    for (k = 0; k < ATTEMPTS; k++)
        ratio_min[k] = 1;
    for (i = 0; i < CALLS; i++) {
        acmpca_machine *m = NULL;
        int sends = 0;
        if (i % 10 == 0) { /* 10 calls x 5 retries x 5 tokens: within one retry quota */
            acmpca_client_free(c);
            o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
            o.max_attempts = ATTEMPTS;
            c = client_with(&o, NULL);
        }
        REQUIRE(acmpca_machine_new_call(&m, c, "GetCertificate", in) == 0);
        for (;;) {
            acmpca_step_kind kind = acmpca_machine_next(m, &s);
            if (kind == ACMPCA_STEP_SEND) {
                sends++;
                REQUIRE(acmpca_machine_response(m, 400, hdr, 1, THROTTLE_BODY,
                                                strlen(THROTTLE_BODY)) == 0);
            } else if (kind == ACMPCA_STEP_SLEEP) {
                double bound = 1000.0 * ldexp(1.0, s.attempt - 1), r;
                CHECK_INT(s.sleep_reason, ACMPCA_SLEEP_BACKOFF);
                REQUIRE(s.attempt >= 1 && s.attempt < ATTEMPTS);
                CHECK(s.sleep_ms >= 1 && s.sleep_ms <= (long)bound);
                r = s.sleep_ms / bound;
                k = s.attempt - 1;
                ratio_sum[k] += r;
                ratio_max[k] = r > ratio_max[k] ? r : ratio_max[k];
                ratio_min[k] = r < ratio_min[k] ? r : ratio_min[k];
            } else {
                break;
            }
        }
        CHECK_INT(s.kind, ACMPCA_STEP_FAILED);
        CHECK_INT(sends, ATTEMPTS);
        CHECK_INT(acmpca_error_last()->code, ACMPCA_E_THROTTLING);
        CHECK_INT(acmpca_error_last()->attempts, ATTEMPTS);
        acmpca_machine_free(m);
    }
    for (k = 0; k < ATTEMPTS - 1; k++) {
        printf("  back-off after attempt %d: %.2f..%.2f of 2^%d s, mean %.2f\n", k + 1,
               ratio_min[k], ratio_max[k], k, ratio_sum[k] / CALLS);
        CHECK(ratio_max[k] >= 0.5);
        CHECK(ratio_min[k] <= 0.5);
        CHECK(ratio_sum[k] / CALLS >= 0.25 && ratio_sum[k] / CALLS <= 0.75);
    }
    acmpca_client_free(c);

    /* Long runs of retries wait 20 s at most, and reach it (2^9 s * random >= 20 s
     * but for 4 % of draws: 20 of them all miss with probability 1e-28). */
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.max_attempts = 30;
    c = client_with(&o, NULL);
    {
        acmpca_machine *m = NULL;
        REQUIRE(acmpca_machine_new_call(&m, c, "GetCertificate", in) == 0);
        while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
            if (k == ACMPCA_STEP_SEND)
                REQUIRE(acmpca_machine_response(m, 400, hdr, 1, THROTTLE_BODY,
                                                strlen(THROTTLE_BODY)) == 0);
            else {
                CHECK(s.sleep_ms <= 20000);
                capped += s.attempt >= 10 && s.sleep_ms == 20000;
            }
        }
        CHECK_INT(acmpca_error_last()->attempts, 30);
        acmpca_machine_free(m);
    }
    CHECK(capped > 0);
    acmpca_client_free(c);
    cJSON_Delete(in);
}

/*
 * Standard mode on the wire: a throttled call is retried after a back-off of
 * random[0,1) s, so the server sees the retry later, but less than 1 s
 * later (plus slack for a loaded machine). Six retries' gaps add up to less
 * than 0.25 s with probability 0.25^6/6! < 4e-7; without any back-off they
 * add up to a few milliseconds.
 */
static void test_retry__standard_mode_waits_between_attempts(void)
{
    enum { CALLS = 6 };
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    double t[MAX_REQUESTS], sum = 0;
    char actions[512];
    size_t len = 0;
    int i;

    for (i = 0; i < CALLS; i++)
        len += (size_t)snprintf(actions + len, sizeof(actions) - len, "%s\"throttle\",\"ok\"",
                                i ? "," : "[");
    snprintf(actions + len, sizeof(actions) - len, "]");
    fault_script(actions);
    o.max_attempts = 2;
    o.retry_mode = "standard";
    c = client_with(&o, NULL);
    for (i = 0; i < CALLS; i++)
        CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), 0);
    REQUIRE(server_times(t, "GetCertificate") == 2 * CALLS);
    for (i = 0; i < CALLS; i++) {
        double gap = t[2 * i + 1] - t[2 * i];
        printf("  throttled -> retry: %.3f s\n", gap);
        CHECK(gap > 0 && gap < 1.0 + 0.5);
        sum += gap;
    }
    printf("  %d retries waited %.3f s in all\n", CALLS, sum);
    CHECK(sum >= 0.25);
    acmpca_client_free(c);
}

/*
 * Adaptive mode on the wire: a throttle turns on the client's send-rate
 * limiter, which starts at no more than 0.7 x the measured rate (at least
 * 0.5/s), so the next request waits for a token: the retry of a call
 * throttled on a fresh client comes at least 1/1.12 s later, whatever its
 * back-off, and the calls after it are spaced out as well. Without the
 * limiter the next call goes out at once.
 */
static void test_retry__adaptive_mode_delays_calls_after_throttling(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    double t[MAX_REQUESTS], later = 0;
    int i, n;

    /* A call that is not retried (max_attempts 1) still slows the next one down. */
    script_then_ok("\"throttle\"", 1);
    o.max_attempts = 1;
    o.retry_mode = "adaptive";
    c = client_with(&o, NULL);
    CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), ACMPCA_E_THROTTLING);
    CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), 0);
    REQUIRE(server_times(t, "GetCertificate") == 2);
    printf("  throttled, then the next call %.3f s later\n", t[1] - t[0]);
    CHECK(t[1] - t[0] >= 0.5 && t[1] - t[0] < 2.0 + 0.5);
    acmpca_client_free(c);

    /* A retried call: the retry and the next calls wait for the limiter. */
    script_then_ok("\"throttle\"", 4);
    o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    o.max_attempts = 3;
    o.retry_mode = "adaptive";
    c = client_with(&o, NULL);
    for (i = 0; i < 4; i++)
        CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), 0);
    REQUIRE((n = server_times(t, "GetCertificate")) == 5);
    printf("  throttled -> retry: %.3f s; then", t[1] - t[0]);
    for (i = 2; i < n; i++) {
        printf(" %.3f", t[i] - t[i - 1]);
        later += t[i] - t[i - 1];
    }
    printf(" s\n");
    /* back-off < 1 s, token wait <= 2 s: the retry comes within 3 s, not before the token */
    CHECK(t[1] - t[0] >= 0.5 && t[1] - t[0] < 3.0 + 0.5);
    CHECK(later >= 0.3);
    acmpca_client_free(c);
}

/* ---- TLS ------------------------------------------------------------------------ */

/* Make the fault server's HTTPS port present a certificate for `name` issued by
 * a fresh test CA; the CA's path into ca (cap bytes). */
static void serve_certificate_for(const char *name, char *ca, size_t cap)
{
    char body[256], *answer;
    cJSON *doc;
    snprintf(body, sizeof(body), "{\"names\":[\"%s\"]}", name);
    answer = fault_control("POST", "/_fault/tls", body);
    doc = cJSON_Parse(answer);
    free(answer);
    REQUIRE(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "ca")) != NULL);
    snprintf(ca, cap, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "ca")));
    cJSON_Delete(doc);
}

/* One DescribeCertificateAuthority over HTTPS with `ca_bundle` and `insecure`. */
static int describe_tls(const char *ca_bundle, int insecure)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    int rc;
    o.ca_bundle = ca_bundle;
    o.insecure_skip_tls_verify = insecure;
    o.max_attempts = 3;
    c = client_with(&o, fault_env("ACMPCA_TEST_FAULT_TLS_ENDPOINT"));
    rc = call(c, "DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA_ARN "\"}");
    acmpca_client_free(c);
    return rc;
}

/*
 * A certificate that chains to a trusted CA but names another host
 * ("wrong.example" for a client that connected to 127.0.0.1) is refused:
 * ACMPCA_ETLS on the first attempt, nothing retried, no request sent. The
 * same CA with a certificate for 127.0.0.1 is accepted, so the refusal is
 * the name's.
 */
static void test_tls__certificate_for_another_name_refused(void)
{
    char ca[1024];
    const acmpca_error *e;
    int rc;

    fault_script("[]");
    serve_certificate_for("127.0.0.1", ca, sizeof(ca));
    rc = describe_tls(ca, 0);
    if (rc)
        printf("  right name: %s\n", acmpca_error_last()->message);
    CHECK_INT(rc, 0);
    CHECK_INT(fault_received_count(), 1);

    fault_script("[]");
    serve_certificate_for("wrong.example", ca, sizeof(ca));
    rc = describe_tls(ca, 0);
    e = acmpca_error_last();
    printf("  wrong name: %s\n", e->message);
    CHECK_INT(rc, ACMPCA_ETLS);
    CHECK_INT(e->code, ACMPCA_ETLS);
    CHECK_INT(e->attempts, 1);
    CHECK_INT(e->retryable, 0);
    CHECK_CONTAINS(e->message, "TLS error");
    CHECK_INT(fault_received_count(), 0);
}

/*
 * insecure_skip_tls_verify accepts any server: a certificate for another
 * name from an untrusted CA, and a self-signed one; without it both are
 * refused.
 */
static void test_tls__insecure_skip_verify_accepts_any_server(void)
{
    char ca[1024];

    fault_script("[]");
    serve_certificate_for("wrong.example", ca, sizeof(ca));
    CHECK_INT(describe_tls(NULL, 0), ACMPCA_ETLS);
    CHECK_INT(describe_tls(NULL, 1), 0);
    CHECK_INT(fault_received_count(), 1);

    fault_script("[]"); /* resets to the self-signed certificate too */
    CHECK_INT(describe_tls(NULL, 0), ACMPCA_ETLS);
    CHECK_INT(describe_tls(NULL, 1), 0);
    CHECK_INT(fault_received_count(), 1);
}

/* ---- the rate limiter ------------------------------------------------------------- */

/* n calls of `op`; the span between the first and last request the server saw. */
static double paced_span(acmpca_client *c, const char *op, const char *json, int n)
{
    double t[MAX_REQUESTS];
    int i;
    fault_script("[]");
    for (i = 0; i < n; i++)
        CHECK_INT(call(c, op, json), 0);
    REQUIRE(server_times(t, op) == n);
    return t[n - 1] - t[0];
}

/*
 * rate_limit = 1 paces each operation to ACM PCA's published default quota
 * (GetCertificate 75/s, GetPolicy 5/s), one request at a time: n calls span
 * at least (n-1)/quota (less 50 ms for when each request reached the server),
 * each operation at its own rate.
 */
static void test_rate_limit__default_quotas_pace_each_operation(void)
{
    static const struct {
        const char *op, *in;
        double quota;
        int n;
    } ops[] = {{"GetCertificate", GET_CERT_IN, 75, 31}, {"GetPolicy", GET_POLICY_IN, 5, 4}};
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    size_t i;

    o.rate_limit = 1;
    c = client_with(&o, NULL);
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        double want = (ops[i].n - 1) / ops[i].quota;
        double span = paced_span(c, ops[i].op, ops[i].in, ops[i].n);
        printf("  %d x %s: %.3f s (quota %.0f/s: %.3f s)\n", ops[i].n, ops[i].op, span,
               ops[i].quota, want);
        CHECK(span >= want - 0.05);
        CHECK(span <= want + 0.5 + 0.02 * ops[i].n);
    }
    acmpca_client_free(c);
}

/* ---- retry settings from the environment and the profile -------------------------- */

static char config_path[256];

/* The shared config file holds `text` (its default profile); env vars as given
 * (NULL: unset). */
static void configure(const char *profile_text, const char *max_attempts_env,
                      const char *retry_mode_env)
{
    FILE *f = fopen(config_path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "[default]\n%s", profile_text);
    fclose(f);
    REQUIRE(setenv("AWS_CONFIG_FILE", config_path, 1) == 0);
    if (max_attempts_env)
        setenv("AWS_MAX_ATTEMPTS", max_attempts_env, 1);
    else
        unsetenv("AWS_MAX_ATTEMPTS");
    if (retry_mode_env)
        setenv("AWS_RETRY_MODE", retry_mode_env, 1);
    else
        unsetenv("AWS_RETRY_MODE");
}

/* The attempts a call made against a server that always throttles. */
static int attempts_made(int option)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    fault_script("{\"actions\":[],\"default\":\"throttle\"}");
    o.max_attempts = option;
    c = client_with(&o, NULL);
    CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), ACMPCA_E_THROTTLING);
    CHECK_INT(acmpca_error_last()->attempts, fault_received_count());
    acmpca_client_free(c);
    return fault_received_count();
}

/* A client that cannot be made: its error. */
static void check_config_error(const char *option_mode, const char *names)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    o.endpoint_url = fault_env("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDPOLICYTEST";
    o.secret_access_key = "policy-test-secret";
    o.retry_mode = option_mode;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ECONFIG);
    CHECK(c == NULL);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, names);
    acmpca_client_free(c);
}

/*
 * max_attempts: the option, else AWS_MAX_ATTEMPTS, else the profile's
 * max_attempts, else 3, counted as the requests the server received. A value
 * that is not a whole number from 1 to 100 fails client creation with
 * ACMPCA_ECONFIG naming where it came from.
 */
static void test_config__max_attempts_from_option_env_profile(void)
{
    static const struct {
        int option;
        const char *env, *profile;
        int attempts;
    } cases[] = {
        {0, "1", NULL, 1},  {0, NULL, "2", 2}, {0, "1", "2", 1},
        {0, "2", "1", 2},   {1, "2", NULL, 1}, {2, "1", "1", 2},
        {1, "abc", "x", 1}, /* the option wins; what it overrides is not read */
    };
    static const struct {
        const char *env, *profile, *names;
    } bad[] = {
        {"0", NULL, "AWS_MAX_ATTEMPTS"},   {"101", NULL, "AWS_MAX_ATTEMPTS"},
        {"abc", "2", "AWS_MAX_ATTEMPTS"},  {"2x", NULL, "AWS_MAX_ATTEMPTS"},
        {NULL, "many", "max_attempts"},    {NULL, "0", "max_attempts"},
    };
    char profile[64];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n;
        snprintf(profile, sizeof(profile), cases[i].profile ? "max_attempts = %s\n" : "%s",
                 cases[i].profile ? cases[i].profile : "");
        configure(profile, cases[i].env, NULL);
        n = attempts_made(cases[i].option);
        printf("  option %d, AWS_MAX_ATTEMPTS %s, profile %s: %d attempts\n", cases[i].option,
               cases[i].env ? cases[i].env : "-", cases[i].profile ? cases[i].profile : "-", n);
        CHECK_INT(n, cases[i].attempts);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(profile, sizeof(profile), bad[i].profile ? "max_attempts = %s\n" : "%s",
                 bad[i].profile ? bad[i].profile : "");
        configure(profile, bad[i].env, NULL);
        check_config_error(NULL, bad[i].names);
        printf("  AWS_MAX_ATTEMPTS %s, profile %s: %s\n", bad[i].env ? bad[i].env : "-",
               bad[i].profile ? bad[i].profile : "-", acmpca_error_last()->message);
    }
}

/*
 * 1 when the client behaves as adaptive mode: after a throttled call (not
 * retried), the next call waits for the send-rate limiter (>= 0.89 s on a
 * fresh client, see above), where standard mode sends it at once.
 */
static int behaves_adaptive(const char *option)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    double t[MAX_REQUESTS];
    script_then_ok("\"throttle\"", 1);
    o.max_attempts = 1;
    o.retry_mode = option;
    c = client_with(&o, NULL);
    CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), ACMPCA_E_THROTTLING);
    CHECK_INT(call(c, "GetCertificate", GET_CERT_IN), 0);
    acmpca_client_free(c);
    REQUIRE(server_times(t, "GetCertificate") == 2);
    printf("    next call after the throttle: %.3f s\n", t[1] - t[0]);
    return t[1] - t[0] >= 0.5;
}

/*
 * retry_mode: the option, else AWS_RETRY_MODE, else the profile's
 * retry_mode, else "standard" ("legacy" is served by standard), told apart
 * by adaptive mode's pause after throttling. Other values fail client
 * creation with ACMPCA_ECONFIG naming their source.
 */
static void test_config__retry_mode_from_option_env_profile(void)
{
    static const struct {
        const char *option, *env, *profile;
        int adaptive;
    } cases[] = {
        {NULL, "adaptive", "standard", 1},
        {NULL, NULL, "adaptive", 1},
        {NULL, "standard", "adaptive", 0},
        {"standard", "adaptive", "adaptive", 0},
        {NULL, "legacy", NULL, 0},
    };
    static const struct {
        const char *option, *env, *profile, *names;
    } bad[] = {
        {NULL, "fast", NULL, "AWS_RETRY_MODE"},
        {NULL, "Adaptive", "adaptive", "AWS_RETRY_MODE"},
        {NULL, NULL, "fast", "retry_mode"},
        {"fast", "adaptive", NULL, "retry_mode option"},
    };
    char profile[64];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(profile, sizeof(profile), cases[i].profile ? "retry_mode = %s\n" : "%s",
                 cases[i].profile ? cases[i].profile : "");
        configure(profile, NULL, cases[i].env);
        printf("  option %s, AWS_RETRY_MODE %s, profile %s: expect %s\n",
               cases[i].option ? cases[i].option : "-", cases[i].env ? cases[i].env : "-",
               cases[i].profile ? cases[i].profile : "-",
               cases[i].adaptive ? "adaptive" : "standard");
        CHECK_INT(behaves_adaptive(cases[i].option), cases[i].adaptive);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(profile, sizeof(profile), bad[i].profile ? "retry_mode = %s\n" : "%s",
                 bad[i].profile ? bad[i].profile : "");
        configure(profile, NULL, bad[i].env);
        check_config_error(bad[i].option, bad[i].names);
        printf("  %s\n", acmpca_error_last()->message);
    }
}

/* ---- main -------------------------------------------------------------------------- */

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

static const test_case cases[] = {
    {"backoff-is-jittered-exponential", test_retry__backoff_is_jittered_exponential},
    {"standard-mode-waits-between-attempts", test_retry__standard_mode_waits_between_attempts},
    {"adaptive-mode-delays-calls-after-throttling",
     test_retry__adaptive_mode_delays_calls_after_throttling},
    {"tls-certificate-for-another-name-refused", test_tls__certificate_for_another_name_refused},
    {"insecure-skip-tls-verify-accepts-any-server",
     test_tls__insecure_skip_verify_accepts_any_server},
    {"default-quotas-pace-each-operation", test_rate_limit__default_quotas_pace_each_operation},
    {"max-attempts-from-option-env-profile", test_config__max_attempts_from_option_env_profile},
    {"retry-mode-from-option-env-profile", test_config__retry_mode_from_option_env_profile},
};

int main(int argc, char **argv)
{
    size_t i;
    int ran = 0;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test_policy CASE (see --list)\n");
        return 2;
    }
    snprintf(config_path, sizeof(config_path), "/tmp/acmpca-policy-config-%ld", (long)getpid());
    REQUIRE(acmpca_global_init() == 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            printf("%s\n", cases[i].name);
            fflush(stdout);
            cases[i].fn();
            ran++;
        }
    }
    acmpca_global_cleanup();
    unlink(config_path);
    if (!ran) {
        fprintf(stderr, "no case named %s (see --list)\n", argv[1]);
        return 2;
    }
    return CHECK_DONE();
}
