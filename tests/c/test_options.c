/*
 * test_options.c - client options observed from outside, one case per run:
 *   user-agent-suffix  the User-Agent tests/fixtures/fault_server.py receives
 *                      ends with the suffix (and is the plain one without it)
 *   log-enabled        log_fn gets the request and response lines while
 *                      log_enabled says yes, none while it says no, and the
 *                      call is the same either way
 *   https-proxy        HTTPS_PROXY carries a call to the resolved endpoint:
 *                      tests/fixtures/recording_proxy.py (ACMPCA_TEST_PROXY)
 *                      sees a CONNECT to it; NO_PROXY naming a host bypasses the proxy
 *   explicit-proxy     options.http_proxy / https_proxy carry calls to the fault
 *                      server through recording_proxy.py --forward (absolute-form
 *                      for http, CONNECT for https), NO_PROXY still bypasses it,
 *                      bad proxy options are refused before any I/O, and a
 *                      version-2 struct is read without the proxy fields
 *   env-http-proxy     http_proxy in the environment carries calls to the http
 *                      fault server through recording_proxy.py --forward
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acmpca.h"
#include "check.h"
#include "internal.h"

#define CA "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/options"
#define LIST_TAGS "{\"CertificateAuthorityArn\":\"" CA "\"}"

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
    return acmpca__buf_append(userp, data, size * n) == 0 ? size * n : 0;
}

/* GET (or POST, with `post`) base + path on a loopback server, never through a proxy. */
static cJSON *control(const char *base, const char *path, int post)
{
    char url[256];
    acmpca_buf body = {0};
    CURL *h = curl_easy_init();
    cJSON *doc;
    REQUIRE(h && base);
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    REQUIRE(curl_easy_perform(h) == CURLE_OK);
    curl_easy_cleanup(h);
    doc = cJSON_Parse(body.ptr ? body.ptr : "{}");
    acmpca__buf_free(&body);
    REQUIRE(doc != NULL);
    return doc;
}

static acmpca_client *new_client(acmpca_client_options *o)
{
    acmpca_client *c = NULL;
    o->region = "us-east-1";
    o->access_key_id = "testing";
    o->secret_access_key = "testing";
    REQUIRE(acmpca_client_new(&c, o) == 0);
    return c;
}

static int list_tags(acmpca_client *c)
{
    cJSON *in = cJSON_Parse(LIST_TAGS), *out = NULL;
    int rc = acmpca_call(c, "ListTags", in, &out);
    cJSON_Delete(out);
    cJSON_Delete(in);
    return rc;
}

/* The User-Agent of the n-th request the fault server received (a copy). */
static char *received_user_agent(int n)
{
    cJSON *doc = control(getenv("ACMPCA_TEST_ENDPOINT"), "/_fault/requests", 0);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "requests"), n);
    const cJSON *ua = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "headers"), "user-agent");
    char *out = cJSON_IsString(ua) ? acmpca__strdup(ua->valuestring) : NULL;
    cJSON_Delete(doc);
    return out;
}

static void user_agent_suffix(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    char *with, *without;
    char expected[512];
    cJSON_Delete(control(getenv("ACMPCA_TEST_ENDPOINT"), "/_fault/reset", 1));
    o.user_agent_suffix = "inventory-app/2.1 (c test)";
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    o.user_agent_suffix = NULL;
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    with = received_user_agent(0);
    without = received_user_agent(1);
    REQUIRE(with && without);
    CHECK(strncmp(without, "acmpca", 6) == 0);
    snprintf(expected, sizeof(expected), "%s inventory-app/2.1 (c test)", without);
    CHECK_STR(with, expected);
    free(with);
    free(without);
}

typedef struct log_state {
    int enabled, asked, lines, request_lines, response_lines;
} log_state;

static void on_log(void *userdata, const char *line)
{
    log_state *s = userdata;
    s->lines++;
    if (strstr(line, "ListTags attempt 1: POST "))
        s->request_lines++;
    if (strstr(line, "ListTags response: HTTP 200"))
        s->response_lines++;
}

static int log_is_enabled(void *userdata)
{
    log_state *s = userdata;
    s->asked++;
    return s->enabled;
}

static void log_enabled(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    log_state s = {0};
    acmpca_client *c;
    o.log_fn = on_log;
    o.log_enabled = log_is_enabled;
    o.log_userdata = &s;
    c = new_client(&o);
    s.enabled = 0;
    CHECK_INT(list_tags(c), 0);
    CHECK(s.asked >= 1);
    CHECK_INT(s.lines, 0);
    s.enabled = 1;
    CHECK_INT(list_tags(c), 0);
    CHECK_INT(s.request_lines, 1);
    CHECK_INT(s.response_lines, 1);
    s.enabled = 0;
    s.lines = 0;
    CHECK_INT(list_tags(c), 0);
    CHECK_INT(s.lines, 0);
    acmpca_client_free(c);

    /* No log_enabled: log_fn alone logs every request. */
    memset(&s, 0, sizeof(s));
    o.log_enabled = NULL;
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    CHECK_INT(s.request_lines, 1);
    CHECK_INT(s.asked, 0);
    acmpca_client_free(c);
}

static int proxy_count(const char *proxy, const char **first_line)
{
    static char line[256];
    cJSON *doc = control(proxy, "/_requests", 0);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "requests"), 0);
    const cJSON *l = cJSON_GetObjectItem(r, "line");
    int n = cJSON_GetObjectItem(doc, "count") ? cJSON_GetObjectItem(doc, "count")->valueint : -1;
    snprintf(line, sizeof(line), "%s", cJSON_IsString(l) ? l->valuestring : "");
    *first_line = line;
    cJSON_Delete(doc);
    return n;
}

/* The proxy variable `name` set to `proxy`, and no NO_PROXY to bypass it. */
static void proxy_from_env(const char *name, const char *proxy)
{
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    setenv(name, proxy, 1);
}

static void https_proxy(void)
{
    const char *proxy = getenv("ACMPCA_TEST_PROXY"), *line = NULL;
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    REQUIRE(proxy);
    /* The service endpoint resolved from the region, through the proxy only. */
    unsetenv("AWS_ENDPOINT_URL");
    proxy_from_env("HTTPS_PROXY", proxy);
    o.use_fips = ACMPCA_ENABLED;
    o.max_attempts = 1;
    c = new_client(&o);
    /* The proxy answers the CONNECT and hangs up: the call fails after it saw it. */
    CHECK(list_tags(c) != 0);
    CHECK_INT(proxy_count(proxy, &line), 1);
    CHECK_STR(line, "CONNECT acm-pca-fips.us-east-1.amazonaws.com:443 HTTP/1.1");
    acmpca_client_free(c);

    /* NO_PROXY naming the host: no CONNECT, a direct (refused) connection instead. */
    setenv("NO_PROXY", "127.0.0.1", 1);
    o.use_fips = ACMPCA_DEFAULT;
    o.endpoint_url = "https://127.0.0.1:1";
    c = new_client(&o);
    CHECK_INT(list_tags(c), ACMPCA_ECONNECT);
    CHECK_INT(proxy_count(proxy, &line), 1);
    acmpca_client_free(c);
}

/* http_proxy from the environment carries a call to an http endpoint, as an
 * absolute-form request (the transport's own framing would send it origin-form:
 * such a call must take libcurl's proxy path). */
static void env_http_proxy(void)
{
    const char *proxy = getenv("ACMPCA_TEST_PROXY"), *endpoint = getenv("ACMPCA_TEST_ENDPOINT");
    const char *line = NULL;
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c;
    char want[256];

    REQUIRE(proxy && endpoint);
    proxy_from_env("http_proxy", proxy);
    o.endpoint_url = endpoint;
    o.max_attempts = 1;
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    CHECK_INT(proxy_count(proxy, &line), 2);
    snprintf(want, sizeof(want), "POST %s/ HTTP/1.1", endpoint);
    CHECK_STR(line, want);
}

/* The n-th request line the recording proxy saw, or "". */
static const char *proxy_line(const char *proxy, int n)
{
    static char line[256];
    cJSON *doc = control(proxy, "/_requests", 0);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "requests"), n);
    const cJSON *l = cJSON_GetObjectItem(r, "line");
    snprintf(line, sizeof(line), "%s", cJSON_IsString(l) ? l->valuestring : "");
    cJSON_Delete(doc);
    return line;
}

static void explicit_proxy(void)
{
    const char *proxy = getenv("ACMPCA_TEST_PROXY"), *endpoint = getenv("ACMPCA_TEST_ENDPOINT");
    const char *tls = getenv("ACMPCA_TEST_FAULT_TLS_ENDPOINT"), *line;
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                       "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT, v2;
    acmpca_client *c = NULL;
    char want[256];
    size_t i;

    REQUIRE(proxy && endpoint && tls && getenv("ACMPCA_TEST_FAULT_CA"));
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);

    /* http endpoint: http_proxy, as an absolute-form request the proxy forwards. */
    o.endpoint_url = endpoint;
    o.http_proxy = proxy;
    o.https_proxy = "http://127.0.0.1:1"; /* for https endpoints only */
    o.max_attempts = 1;
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    CHECK_INT(proxy_count(proxy, &line), 1);
    snprintf(want, sizeof(want), "POST %s/ HTTP/1.1", endpoint);
    CHECK_STR(line, want);

    /* https endpoint: https_proxy, a CONNECT the proxy tunnels; TLS still verified. */
    o.endpoint_url = tls;
    o.ca_bundle = getenv("ACMPCA_TEST_FAULT_CA");
    o.https_proxy = proxy;
    o.http_proxy = "http://127.0.0.1:1";
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    CHECK_INT(proxy_count(proxy, &line), 2);
    snprintf(want, sizeof(want), "CONNECT %s:443 HTTP/1.1", tls + 8);
    if (strchr(tls + 8, ':'))
        snprintf(want, sizeof(want), "CONNECT %s HTTP/1.1", tls + 8);
    CHECK_STR(proxy_line(proxy, 1), want);

    /* A non-blocking driver learns the proxy from the machine, not from the step. */
    {
        cJSON *in = cJSON_Parse(LIST_TAGS);
        acmpca_machine *m = NULL;
        acmpca_step step;
        c = new_client(&o);
        CHECK(acmpca_machine_proxy(NULL) == NULL);
        REQUIRE(acmpca_machine_new_call(&m, c, "ListTags", in) == 0);
        CHECK(acmpca_machine_proxy(m) == NULL); /* nothing sent yet */
        CHECK_INT(acmpca_machine_next(m, &step), ACMPCA_STEP_SEND);
        CHECK_STR(acmpca_machine_proxy(m), proxy);
        acmpca_machine_free(m);
        acmpca_client_free(c);
        cJSON_Delete(in);
    }

    /* NO_PROXY still applies to an explicit proxy. */
    setenv("NO_PROXY", "127.0.0.1", 1);
    c = new_client(&o);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    CHECK_INT(proxy_count(proxy, &line), 2);
    unsetenv("NO_PROXY");

    /* Bad proxy options: refused at creation, naming the field, never the URL. */
    o.https_proxy = "socks5://user:hunter2@127.0.0.1:1080";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_STR(acmpca_error_last()->message,
              "options.https_proxy: expected an http:// or https:// proxy URL");
    o.https_proxy = NULL;
    o.http_proxy = "http://user:hunter2@ 127.0.0.1:1";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "options.http_proxy: ");
    CHECK(strstr(acmpca_error_last()->message, "hunter2") == NULL);
    o.http_proxy = "http://";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    o.http_proxy = NULL;
    o.proxy_ca_bundle = "/nonexistent/proxy-ca.pem";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_STR(acmpca_error_last()->message,
              "options.proxy_ca_bundle: cannot read \"/nonexistent/proxy-ca.pem\"");
    CHECK(c == NULL);
    CHECK_INT(proxy_count(proxy, &line), 2);

    /* A version-2 struct ends before the proxy fields: what follows is not read. */
    memset(&v2, 0xA5, sizeof(v2));
    memset(&v2, 0, offsetof(acmpca_client_options, https_proxy));
    v2.version = 2;
    v2.endpoint_url = endpoint;
    v2.max_attempts = 1;
    c = new_client(&v2);
    CHECK_INT(list_tags(c), 0);
    acmpca_client_free(c);
    CHECK_INT(proxy_count(proxy, &line), 2);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    REQUIRE(acmpca_global_init() == 0);
    if (strcmp(which, "user-agent-suffix") == 0)
        user_agent_suffix();
    else if (strcmp(which, "log-enabled") == 0)
        log_enabled();
    else if (strcmp(which, "https-proxy") == 0)
        https_proxy();
    else if (strcmp(which, "explicit-proxy") == 0)
        explicit_proxy();
    else if (strcmp(which, "env-http-proxy") == 0)
        env_http_proxy();
    else {
        fprintf(stderr, "usage: test_options user-agent-suffix|log-enabled|https-proxy|"
                        "explicit-proxy|env-http-proxy\n");
        return 2;
    }
    acmpca_global_cleanup();
    return CHECK_DONE();
}
