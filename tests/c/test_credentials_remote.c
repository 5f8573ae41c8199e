/*
 * test_credentials_remote.c - the production credential providers:
 * credential_process, container (ECS/EKS), IMDSv2, web identity,
 * assume-role profiles, SSO, the default chain, refresh with an injected
 * clock and from many threads, and the message of every failure.
 *
 * One group per run (argv[1]):
 *   --unit       no I/O beyond local files: parsing, URLs, configuration errors
 *   --process    credential_process with the scripts in tests/fixtures
 *   --metadata   IMDS, container, SSO portal and STS errors against
 *                tests/fixtures/metadata_server.py (ACMPCA_TEST_METADATA)
 *   --refresh    expiry and refresh windows, against the same server
 *   --threads    8 threads refreshing one provider, against the same server
 *   --moto       STS AssumeRole / AssumeRoleWithWebIdentity against moto
 *                (ACMPCA_TEST_ENDPOINT), plus the metadata server
 *   --no-proxy   container and IMDS never go through http_proxy & co, inside
 *                tests/fixtures/recording_proxy.py (ACMPCA_TEST_PROXY)
 *   --header-injection  tokens with control characters are never sent
 *   --heap-scan  no secret left in memory once the provider is freed
 *   --process-group     a timed-out credential_process dies with its children
 * Only loopback is ever contacted: 169.254.x hosts are only checked, never used.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE     /* MAP_ANONYMOUS */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#  include <sys/prctl.h>
#endif

#include "check.h"
#include "credentials_internal.h"
#include "transport.h"

#ifndef ACMPCA_FIXTURES
#  error "ACMPCA_FIXTURES must name tests/fixtures"
#endif

extern char **environ;

#define CHECK_LACKS(hay, needle) do { \
    const char *check_h_ = (hay), *check_n_ = (needle); \
    if (check_h_ && strstr(check_h_, check_n_)) { \
        fprintf(stderr, "%s:%d: \"%s\" must not contain \"%s\"\n", __FILE__, __LINE__, \
                check_h_, check_n_); \
        check_failures++; \
    } } while (0)

static char root[64];           /* temporary directory, also $HOME */
static const char *metadata;    /* http://127.0.0.1:PORT of metadata_server.py */
static int64_t fake_clock;

static int64_t fake_now(void *userdata)
{
    return *(int64_t *)userdata;
}

static const char *fmt(const char *f, ...)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(bufs[0]), f, ap);
    va_end(ap);
    return b;
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = fmt("%s/%s", root, name);
    FILE *f;
    char dir[1024], *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0700);
        *slash = '/';
    }
    f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A clean AWS_* environment: nothing leaks in from the caller or the harness. */
static void reset_env(void)
{
    char **e;
    int again = 1;

    while (again) {
        again = 0;
        for (e = environ; e && *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                char name[256];
                size_t n = strcspn(*e, "=");
                if (n >= sizeof(name))
                    n = sizeof(name) - 1;
                memcpy(name, *e, n);
                name[n] = '\0';
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
    setenv("HOME", root, 1);
}

static void use_config(const char *text)
{
    setenv("AWS_CONFIG_FILE", write_file("config", text), 1);
}

/* Get at `now`; on failure print the error, so a failed check explains itself. */
static int get(acmpca_credentials_provider *p, int64_t now, acmpca_credentials **c)
{
    int rc;
    *c = NULL;
    rc = acmpca_credentials_get(p, now, c);
    if (rc != 0 && getenv("VERBOSE"))
        fprintf(stderr, "  (get: %d %s)\n", rc, acmpca_error_last()->message);
    return rc;
}

/* Fetch once from a new provider (released) and expect credentials. */
static acmpca_credentials *get_ok(acmpca_credentials_provider *p)
{
    acmpca_credentials *c = NULL;
    int rc = get(p, 0, &c);
    if (rc != 0)
        fprintf(stderr, "  unexpected failure %d: %s\n", rc, acmpca_error_last()->message);
    CHECK_INT(rc, 0);
    acmpca_credentials_provider_unref(p);
    return c;
}

/* Fetch once from a new provider (released) and expect failure `code`; the message. */
static const char *get_fail(acmpca_credentials_provider *p, int code)
{
    acmpca_credentials *c = NULL;
    int rc;

    REQUIRE(p);
    rc = get(p, 0, &c);
    CHECK_INT(rc, code);
    CHECK(c == NULL);
    acmpca_credentials_free(c);
    acmpca_credentials_provider_unref(p);
    return acmpca_error_last()->message;
}

static acmpca_credentials_options opts_with_clock(void)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    o.now = fake_now;
    o.now_userdata = &fake_clock;
    return o;
}

/* ---- the fixture server's counters -------------------------------------------- */

static cJSON *http_json(const char *method, const char *url)
{
    acmpca_transport_options to;
    acmpca_transport *t = NULL;
    acmpca_http_request req;
    acmpca_http_response resp;
    cJSON *json = NULL;

    memset(&to, 0, sizeof(to));
    to.connect_timeout_ms = 5000;
    to.read_timeout_ms = 10000;
    to.max_response_bytes = 16u << 20;
    to.no_proxy = 1;    /* straight to the fixture, whatever proxy a test has set */
    REQUIRE(acmpca__transport_new(&t, &to) == 0);
    memset(&req, 0, sizeof(req));
    req.method = (char *)method;
    req.url = (char *)url;
    memset(&resp, 0, sizeof(resp));
    if (acmpca__transport_send(t, &req, &resp, 0) == 0 && resp.status == 200)
        json = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
    acmpca__http_response_clear(&resp);
    acmpca__transport_free(t);
    REQUIRE(json);
    return json;
}

static cJSON *stats(const char *kind_spec)
{
    return http_json("GET", fmt("%s/_stats/%s", metadata, kind_spec));
}

static int calls(const char *kind_spec)
{
    cJSON *s = stats(kind_spec);
    int n = cJSON_GetObjectItem(s, "calls")->valueint;
    cJSON_Delete(s);
    return n;
}

/* A header or form parameter of the last request the server recorded ("" if none). */
static const char *last_field(const char *kind_spec, const char *group, const char *name)
{
    static char value[2048];
    cJSON *s = stats(kind_spec);
    const cJSON *obj = cJSON_GetObjectItem(s, "last");
    const char *v;

    if (group)
        obj = cJSON_GetObjectItem(obj, group);
    v = acmpca__json_string(obj, name);
    snprintf(value, sizeof(value), "%s", v ? v : "");
    cJSON_Delete(s);
    return value;
}

/* ---- unit: no servers ------------------------------------------------------------ */

static void check_split(const char *line, int n, ...)
{
    char **argv = NULL;
    va_list ap;
    int i;

    CHECK_INT(acmpca__split_command(line, &argv), 0);
    if (!argv)
        return;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        CHECK_STR(argv[i], va_arg(ap, const char *));
    va_end(ap);
    CHECK(argv[n] == NULL);
    acmpca__free_argv(argv);
}

static void test_split_command(void)
{
    char **argv = NULL;

    check_split("prog", 1, "prog");
    check_split("  prog   a  b\tc ", 4, "prog", "a", "b", "c");
    check_split("p 'a b' \"c d\" e\\ f", 4, "p", "a b", "c d", "e f");
    check_split("p \"x\\\"y\" 'it''s' \"a\\b\" \"a\\\\b\"", 5, "p", "x\"y", "its", "a\\b", "a\\b");
    check_split("p '' \"\" x", 4, "p", "", "", "x");
    check_split("p $HOME;echo `id` |cat >f", 5, "p", "$HOME;echo", "`id`", "|cat", ">f");
    check_split("p a'b'\"c\"d", 2, "p", "abcd");

    CHECK_INT(acmpca__split_command("p 'abc", &argv), ACMPCA_ECONFIG);
    CHECK_STR(acmpca_error_last()->message,
              "credential-process: the command line has no closing quotation (')");
    CHECK_INT(acmpca__split_command("p \"abc", &argv), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "no closing quotation (\")");
    CHECK_INT(acmpca__split_command("p abc\\", &argv), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "lone backslash");
    CHECK_INT(acmpca__split_command("   ", &argv), ACMPCA_ECONFIG);
    CHECK_STR(acmpca_error_last()->message, "credential-process: the command is empty");
    CHECK(argv == NULL);
}

static void check_url(const char *region, int fips, const char *expected)
{
    char *url = NULL;
    CHECK_INT(acmpca__sts_url(&url, region, fips), 0);
    CHECK_STR(url, expected);
    free(url);
}

static void test_urls(void)
{
    char *url = NULL, sha[41];

    check_url("us-west-2", 0, "https://sts.us-west-2.amazonaws.com");
    check_url("eu-central-1", 0, "https://sts.eu-central-1.amazonaws.com");
    check_url("cn-north-1", 0, "https://sts.cn-north-1.amazonaws.com.cn");
    check_url("us-gov-west-1", 1, "https://sts-fips.us-gov-west-1.amazonaws.com");
    check_url(NULL, 0, "https://sts.amazonaws.com");
    check_url("aws-global", 0, "https://sts.amazonaws.com");
    CHECK_INT(acmpca__sts_url(&url, "evil.com/x#", 0), ACMPCA_EREGION);
    CHECK(url == NULL);
    CHECK_STR(acmpca_error_last()->message, "region \"evil.com/x#\" is not valid");
    CHECK_STR(acmpca_error_last()->subject, "evil.com/x#");

    CHECK_INT(acmpca__sso_portal_url(&url, "eu-west-1"), 0);
    CHECK_STR(url, "https://portal.sso.eu-west-1.amazonaws.com");
    free(url);

    /* FULL_URI hosts: loopback and the ECS / EKS agents only. */
    CHECK(acmpca__container_url_allowed("http://127.0.0.1:8080/creds"));
    CHECK(acmpca__container_url_allowed("http://127.1.2.3/creds"));
    CHECK(acmpca__container_url_allowed("http://localhost:9/x"));
    CHECK(acmpca__container_url_allowed("http://[::1]:80/x"));
    CHECK(acmpca__container_url_allowed("http://169.254.170.2/v2/credentials"));
    CHECK(acmpca__container_url_allowed("http://169.254.170.23/v1/credentials"));
    CHECK(acmpca__container_url_allowed("http://[fd00:ec2::23]/v1/credentials"));
    CHECK(acmpca__container_url_allowed("https://127.0.0.1/x?y=1"));
    CHECK(!acmpca__container_url_allowed("http://169.254.169.254/latest"));
    CHECK(!acmpca__container_url_allowed("http://example.com/creds"));
    CHECK(!acmpca__container_url_allowed("http://127.0.0.1@example.com/creds"));
    CHECK(!acmpca__container_url_allowed("http://127.0.0.1.example.com/creds"));
    CHECK(!acmpca__container_url_allowed("http://[fd00:ec2::24]/x"));
    CHECK(!acmpca__container_url_allowed("ftp://127.0.0.1/x"));
    CHECK(!acmpca__container_url_allowed("127.0.0.1/x"));

    /* The SSO cache names files by the SHA-1 of the session name or start URL. */
    CHECK_INT(acmpca__sha1_hex(sha, "my-sso"), 0);
    CHECK_STR(sha, "0ad374308c5a4e22f723adf10145eafad7c4031c");
}

static void test_xml(void)
{
    const char *xml = "<R><Error><Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;"
                      " &#65;&#x42; &bogus;</Message></Error><Credentials><AccessKeyId>AKID"
                      "</AccessKeyId></Credentials><AccessKeyId>OTHER</AccessKeyId></R>";
    char *v;

    v = acmpca__xml_text(xml, "Error", "Message");
    CHECK_STR(v, "a <b> & \"c\" AB &bogus;");
    free(v);
    v = acmpca__xml_text(xml, "Credentials", "AccessKeyId");
    CHECK_STR(v, "AKID");
    free(v);
    v = acmpca__xml_text(xml, NULL, "Code");
    CHECK_STR(v, "AccessDenied");
    free(v);
    CHECK(acmpca__xml_text(xml, "Credentials", "SecretAccessKey") == NULL);
    CHECK(acmpca__xml_text(xml, "Missing", "Code") == NULL);
    CHECK(acmpca__xml_text("<Code>unterminated", NULL, "Code") == NULL);
}

static void test_names_and_options(void)
{
    static const struct {
        int (*make)(acmpca_credentials_provider **, const acmpca_credentials_options *);
        const char *name;
    } kinds[] = {
        {acmpca_credentials_provider_container, "container"},
        {acmpca_credentials_provider_imds, "imds"},
        {acmpca_credentials_provider_web_identity, "web-identity"},
        {acmpca_credentials_provider_assume_role, "assume-role"},
        {acmpca_credentials_provider_sso, "sso"},
        {acmpca_credentials_provider_default_ex, "default-chain"},
    };
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL, *src = NULL;
    acmpca_assume_role_params params;
    size_t i;

    CHECK_INT(acmpca_credentials_provider_process(&p, "true", NULL), 0);
    CHECK_STR(acmpca_credentials_provider_name(p), "credential-process");
    acmpca_credentials_provider_unref(p);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        p = NULL;
        CHECK_INT(kinds[i].make(&p, &o), 0);
        CHECK_STR(acmpca_credentials_provider_name(p), kinds[i].name);
        acmpca_credentials_provider_unref(p);
    }

    /* Options must be initialised; bad arguments are refused up front. */
    o.version = 0;
    p = NULL;
    CHECK_INT(acmpca_credentials_provider_imds(&p, &o), ACMPCA_EINVAL);
    CHECK(p == NULL);
    CHECK_CONTAINS(acmpca_error_last()->message, "ACMPCA_CREDENTIALS_OPTIONS_INIT");
    o.version = ACMPCA_CREDENTIALS_OPTIONS_VERSION;
    o.metadata_attempts = -1;
    CHECK_INT(acmpca_credentials_provider_container(&p, &o), ACMPCA_EINVAL);
    CHECK_INT(acmpca_credentials_provider_imds(NULL, NULL), ACMPCA_EINVAL);

    CHECK_INT(acmpca_credentials_provider_static(&src, "AKIDSRC", "SECRETSRC", NULL), 0);
    memset(&params, 0, sizeof(params));
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, NULL),
              ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "role ARN is required");
    params.role_arn = "arn:aws:iam::123456789012:role/r";
    params.duration_seconds = 60;
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, NULL),
              ACMPCA_EINVAL);
    CHECK_STR(acmpca_error_last()->message, "assume-role: duration_seconds 60 is outside 900..43200");
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, NULL, &params, NULL),
              ACMPCA_EINVAL);
    acmpca_credentials_provider_unref(src);   /* not taken by the failed calls */
}

static void test_default_chain_lists_everything(void)
{
    acmpca_credentials_provider *p = NULL;

    reset_env();
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ENOCREDENTIALS),
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

    /* Standalone, a source with nothing says so with its name. */
    CHECK_INT(acmpca_credentials_provider_imds(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ENOCREDENTIALS), "imds: AWS_EC2_METADATA_DISABLED=true");
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    CHECK_INT(acmpca_credentials_provider_imds(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ENOCREDENTIALS), "imds: AWS_EC2_METADATA_DISABLED=true");
    reset_env();
}

static void test_container_config_errors(void)
{
    acmpca_credentials_provider *p = NULL;
    const char *msg;

    reset_env();
    /* Checked before anything is contacted. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.169.254/latest/creds", 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECONFIG),
              "container: AWS_CONTAINER_CREDENTIALS_FULL_URI=\"http://169.254.169.254/latest/"
              "creds\" is not allowed: its host must be a loopback address, 169.254.170.2, "
              "169.254.170.23 or fd00:ec2::23");

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/never", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "SECRETTOKEN\r\nX-Injected: 1", 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);
    msg = get_fail(p, ACMPCA_ECONFIG);
    CHECK_STR(msg, "container: the authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN) "
              "contains a control character, which a header cannot carry");
    CHECK_LACKS(msg, "SECRETTOKEN");

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", fmt("%s/no-such-token", root), 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECREDENTIALS),
              fmt("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                  "%s/no-such-token: no such file", root));

    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "lots", 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECONFIG),
              "container: AWS_METADATA_SERVICE_NUM_ATTEMPTS = \"lots\" is not a whole number "
              "from 1 to 10");
    reset_env();
}

static const char role_config[] =
    "[profile base]\n"
    "aws_access_key_id = AKIDBASE\n"
    "aws_secret_access_key = SECRETBASE\n"
    "[profile mfa]\n"
    "role_arn = arn:aws:iam::123456789012:role/mfa\n"
    "source_profile = base\n"
    "mfa_serial = arn:aws:iam::123456789012:mfa/me\n"
    "[profile both]\n"
    "role_arn = arn:aws:iam::123456789012:role/both\n"
    "source_profile = base\n"
    "credential_source = Environment\n"
    "[profile neither]\n"
    "role_arn = arn:aws:iam::123456789012:role/neither\n"
    "[profile bogus]\n"
    "role_arn = arn:aws:iam::123456789012:role/bogus\n"
    "credential_source = Bogus\n"
    "[profile loop-a]\n"
    "role_arn = arn:aws:iam::123456789012:role/a\n"
    "source_profile = loop-b\n"
    "[profile loop-b]\n"
    "role_arn = arn:aws:iam::123456789012:role/b\n"
    "source_profile = loop-a\n"
    "[profile dangling]\n"
    "role_arn = arn:aws:iam::123456789012:role/d\n"
    "source_profile = nowhere\n"
    "[profile short]\n"
    "role_arn = arn:aws:iam::123456789012:role/s\n"
    "source_profile = base\n"
    "duration_seconds = 60\n"
    "[profile nocreds]\n"
    "region = eu-west-1\n"
    "[profile emptysource]\n"
    "role_arn = arn:aws:iam::123456789012:role/e\n"
    "source_profile = nocreds\n"
    "[profile fromenv]\n"
    "role_arn = arn:aws:iam::123456789012:role/env\n"
    "credential_source = Environment\n"
    "[profile fromimds]\n"
    "role_arn = arn:aws:iam::123456789012:role/imds\n"
    "credential_source = Ec2InstanceMetadata\n";

static const char *role_error(const char *profile, int code)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    o.profile = profile;
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    return get_fail(p, code);
}

static void test_assume_role_config_errors(void)
{
    const char *msg;

    reset_env();
    use_config(role_config);
    /* Everything here fails before STS would be called. */
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
    CHECK_STR(role_error("mfa", ACMPCA_ECONFIG),
              "assume-role: profile \"mfa\" sets mfa_serial, which needs an interactive MFA "
              "prompt; this library does not prompt: use a credential_process that handles "
              "MFA, or a profile without mfa_serial");
    CHECK_STR(role_error("both", ACMPCA_ECONFIG),
              "assume-role: profile \"both\" sets both source_profile and credential_source; "
              "keep one");
    CHECK_STR(role_error("neither", ACMPCA_ECONFIG),
              "assume-role: profile \"neither\" has role_arn but neither source_profile nor "
              "credential_source");
    CHECK_STR(role_error("bogus", ACMPCA_ECONFIG),
              "assume-role: credential_source \"Bogus\" in profile \"bogus\" is not valid: "
              "expected Environment, EcsContainer or Ec2InstanceMetadata");
    CHECK_STR(role_error("loop-a", ACMPCA_ECONFIG),
              "assume-role: source profiles form a loop: \"loop-a\" -> \"loop-b\" -> \"loop-a\"");
    CHECK_STR(role_error("dangling", ACMPCA_ECONFIG),
              fmt("assume-role: source_profile \"nowhere\" of profile \"dangling\" is in "
                  "neither /nonexistent nor %s/config", root));
    CHECK_STR(role_error("short", ACMPCA_ECONFIG),
              "assume-role: duration_seconds = \"60\" in profile \"short\" is not a whole "
              "number from 900 to 43200");
    CHECK_STR(role_error("nocreds", ACMPCA_ENOCREDENTIALS),
              "assume-role: no role_arn in profile \"nocreds\"");

    /* A source that has nothing is a hard error that lists what was tried. */
    msg = role_error("emptysource", ACMPCA_ECREDENTIALS);
    CHECK_CONTAINS(msg, "assume-role: profile \"emptysource\" source_profile \"nocreds\": "
                        "no credentials found; tried: web-identity (no web_identity_token_file "
                        "in profile \"nocreds\"), sso (");
    CHECK_STR(role_error("fromenv", ACMPCA_ECREDENTIALS),
              "assume-role: profile \"fromenv\" credential_source Environment: environment: "
              "AWS_ACCESS_KEY_ID not set");
    CHECK_STR(role_error("fromimds", ACMPCA_ECREDENTIALS),
              "assume-role: profile \"fromimds\" credential_source Ec2InstanceMetadata: imds: "
              "AWS_EC2_METADATA_DISABLED=true");

    /* In the default chain the hard error stops the chain and names the provider. */
    {
        acmpca_credentials_provider *p = NULL;
        setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
        CHECK_INT(acmpca_credentials_provider_default(&p, "mfa"), 0);
        /* ...but the environment comes first. */
        acmpca_credentials *c = get_ok(p);
        CHECK_STR(c ? c->provider : NULL, "environment");
        acmpca_credentials_free(c);
        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        CHECK_INT(acmpca_credentials_provider_default(&p, "mfa"), 0);
        CHECK_CONTAINS(get_fail(p, ACMPCA_ECONFIG), "assume-role: profile \"mfa\" sets mfa_serial");
    }
    reset_env();
}

static void test_web_identity_config_errors(void)
{
    acmpca_credentials_provider *p = NULL;

    reset_env();
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", fmt("%s/token", root), 1);
    CHECK_INT(acmpca_credentials_provider_web_identity(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECONFIG),
              "web-identity: a token file is set but no role: set AWS_ROLE_ARN or role_arn in "
              "profile \"default\"");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/wi", 1);
    CHECK_INT(acmpca_credentials_provider_web_identity(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECREDENTIALS),
              fmt("web-identity: cannot read the web identity token file %s/token: no such file",
                  root));
    write_file("token", "\n");
    CHECK_INT(acmpca_credentials_provider_web_identity(&p, NULL), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECREDENTIALS),
              fmt("web-identity: the web identity token file %s/token is empty", root));
    reset_env();
}

static const char sso_config[] =
    "[profile sso]\n"
    "sso_session = my-sso\n"
    "sso_account_id = 123456789012\n"
    "sso_role_name = ReadOnly\n"
    "[sso-session my-sso]\n"
    "sso_start_url = https://example.awsapps.com/start\n"
    "sso_region = eu-west-1\n"
    "[profile legacy]\n"
    "sso_start_url = https://legacy.awsapps.com/start\n"
    "sso_region = us-east-2\n"
    "sso_account_id = 210987654321\n"
    "sso_role_name = Admin\n"
    "[profile nosection]\n"
    "sso_session = ghost\n"
    "sso_account_id = 1\n"
    "sso_role_name = R\n"
    "[profile mismatch]\n"
    "sso_session = my-sso\n"
    "sso_region = us-west-1\n"
    "sso_account_id = 1\n"
    "sso_role_name = R\n"
    "[profile norole]\n"
    "sso_session = my-sso\n"
    "sso_account_id = 1\n"
    "[profile noregion]\n"
    "sso_start_url = https://legacy.awsapps.com/start\n"
    "sso_account_id = 1\n"
    "sso_role_name = R\n";

#define SSO_CACHE ".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json"
#define SSO_LEGACY_CACHE ".aws/sso/cache/79e435d7a515078e81c9dffc35f38d5687ebd3a7.json"

static const char *sso_error(const char *profile, int code)
{
    acmpca_credentials_options o = opts_with_clock();
    acmpca_credentials_provider *p = NULL;
    o.profile = profile;
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    return get_fail(p, code);
}

static void test_sso_config_errors(void)
{
    const char *msg;

    reset_env();
    use_config(sso_config);
    setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:1", 1);
    fake_clock = 1900000000;    /* 2030-03-17 */
    CHECK_STR(sso_error("nosection", ACMPCA_ECONFIG),
              fmt("sso: profile \"nosection\" uses sso_session \"ghost\", but %s/config has no "
                  "[sso-session ghost] section", root));
    CHECK_STR(sso_error("mismatch", ACMPCA_ECONFIG),
              "sso: profile \"mismatch\" sets sso_region, which differs from its sso-session "
              "\"my-sso\"");
    CHECK_STR(sso_error("norole", ACMPCA_ECONFIG), "sso: profile \"norole\" has no sso_role_name");
    CHECK_STR(sso_error("noregion", ACMPCA_ECONFIG),
              "sso: profile \"noregion\" has sso_start_url but no sso_region");
    CHECK_STR(sso_error("nothing", ACMPCA_ENOCREDENTIALS),
              "sso: no sso_session or sso_start_url in profile \"nothing\"");

    /* No login yet. */
    CHECK_STR(sso_error("sso", ACMPCA_ECREDENTIALS),
              fmt("sso: no cached SSO token (%s/" SSO_CACHE "); run `aws sso login "
                  "--sso-session my-sso`", root));
    CHECK_STR(sso_error("legacy", ACMPCA_ECREDENTIALS),
              fmt("sso: no cached SSO token (%s/" SSO_LEGACY_CACHE "); run `aws sso login "
                  "--profile legacy`", root));

    /* An expired token: by the injected clock. */
    write_file(SSO_CACHE, "{\"startUrl\": \"https://example.awsapps.com/start\", \"region\": "
               "\"eu-west-1\", \"accessToken\": \"SECRETSSOTOKEN\", "
               "\"expiresAt\": \"2030-03-17T00:00:00Z\"}");
    msg = sso_error("sso", ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "sso: the SSO token for sso-session \"my-sso\" expired at 2030-03-17T00:00:00Z; "
              "run `aws sso login --sso-session my-sso` to sign in again");
    CHECK_LACKS(msg, "SECRETSSOTOKEN");
    write_file(SSO_LEGACY_CACHE, "{\"accessToken\": \"SECRETSSOTOKEN\", "
               "\"expiresAt\": \"2019-11-14T04:05:45UTC\"}");
    CHECK_STR(sso_error("legacy", ACMPCA_ECREDENTIALS),
              "sso: the SSO token for https://legacy.awsapps.com/start expired at "
              "2019-11-14T04:05:45UTC; run `aws sso login --profile legacy` to sign in again");
    write_file(SSO_CACHE, "{\"accessToken\": \"SECRETSSOTOKEN\"");
    msg = sso_error("sso", ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, fmt("sso: the SSO token cache %s/" SSO_CACHE " has no valid JSON; run `aws "
                       "sso login --sso-session my-sso`", root));
    CHECK_LACKS(msg, "SECRETSSOTOKEN");
    reset_env();
}

/* ---- credential_process --------------------------------------------------------- */

static acmpca_credentials_provider *process(const char *command)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    o.process_timeout_ms = 1000;
    CHECK_INT(acmpca_credentials_provider_process(&p, command, &o), 0);
    return p;
}

static void test_process(void)
{
    const char *ok = ACMPCA_FIXTURES "/cred_process_ok.sh";
    const char *fails = ACMPCA_FIXTURES "/cred_process_fails.sh";
    acmpca_credentials *c;
    const char *msg;

    reset_env();
    /* Split like a shell, but never run by one: $HOME and ; stay literal. */
    c = get_ok(process(fmt("%s 'two words' \"dq \\\"x\\\"\" back\\ slash $HOME ';echo'", ok)));
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "AKIDPROC1");
    CHECK_STR(c->secret_access_key, "SECRETPROC");
    CHECK_STR(c->session_token, "two words|dq \"x\"|back slash|$HOME|;echo");
    CHECK_INT(c->expiration, 0);
    CHECK_STR(c->provider, "credential-process");
    acmpca_credentials_free(c);

    /* From the profile, in the default chain (after the credentials file). */
    use_config(fmt("[profile proc]\ncredential_process = %s from-profile\n", ok));
    {
        acmpca_credentials_provider *p = NULL;
        CHECK_INT(acmpca_credentials_provider_default(&p, "proc"), 0);
        c = get_ok(p);
        REQUIRE(c);
        CHECK_STR(c->provider, "credential-process");
        CHECK_STR(c->session_token, "from-profile");
        acmpca_credentials_free(c);
    }

    /* Expiration honoured. */
    setenv("CRED_PROCESS_EXPIRATION", "2031-01-01T00:00:00Z", 1);
    c = get_ok(process(ok));
    REQUIRE(c);
    CHECK_INT(c->expiration, 1924992000);
    acmpca_credentials_free(c);
    setenv("CRED_PROCESS_EXPIRATION", "next tuesday", 1);
    CHECK_STR(get_fail(process(ok), ACMPCA_ECREDENTIALS),
              fmt("credential-process: the output of \"%s\" has Expiration \"next tuesday\", "
                  "which is not an ISO 8601 time", ok));
    setenv("CRED_PROCESS_EXPIRATION", "2001-01-01T00:00:00Z", 1);
    CHECK_CONTAINS(get_fail(process(ok), ACMPCA_ECREDENTIALS),
                   "credential-process: the credentials it returned expired ");
    unsetenv("CRED_PROCESS_EXPIRATION");

    setenv("CRED_PROCESS_VERSION", "2", 1);
    CHECK_STR(get_fail(process(ok), ACMPCA_ECREDENTIALS),
              fmt("credential-process: the output of \"%s\" has an unsupported Version; only "
                  "Version 1 is supported", ok));
    setenv("CRED_PROCESS_VERSION", "\"1\"", 1);
    CHECK_CONTAINS(get_fail(process(ok), ACMPCA_ECREDENTIALS), "has no numeric Version");
    unsetenv("CRED_PROCESS_VERSION");

    /* Failures: exit status and the start of stderr. */
    msg = get_fail(process(fails), ACMPCA_ECREDENTIALS);
    CHECK_CONTAINS(msg, fmt("credential-process: \"%s\" exited with status 3; stderr: token "
                            "expired: please sign in again filler line 0", fails));
    CHECK(strlen(msg) < 800);
    CHECK_CONTAINS(msg, "...");
    CHECK_STR(get_fail(process(fmt("%s signal", fails)), ACMPCA_ECREDENTIALS),
              fmt("credential-process: \"%s\" was killed by signal 15", fails));
    CHECK_STR(get_fail(process(fmt("%s slow", fails)), ACMPCA_ECREDENTIALS),
              fmt("credential-process: \"%s\" did not finish within 1000 ms and was killed",
                  fails));
    CHECK_STR(get_fail(process(fmt("%s big", fails)), ACMPCA_ELIMIT),
              fmt("credential-process: the output of \"%s\" is larger than the 65536-byte limit",
                  fails));
    CHECK_STR(get_fail(process(fmt("%s missing", fails)), ACMPCA_ECREDENTIALS),
              fmt("credential-process: the output of \"%s\" has no SecretAccessKey", fails));
    msg = get_fail(process(ACMPCA_FIXTURES "/cred_process_bad_json.sh"), ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "credential-process: the output of \"" ACMPCA_FIXTURES
              "/cred_process_bad_json.sh\" is not a JSON object (79 bytes, invalid JSON)");
    CHECK_LACKS(msg, "SECRETBADJSON");
    CHECK_STR(get_fail(process("/nonexistent/helper --password hunter2"), ACMPCA_ECREDENTIALS),
              "credential-process: cannot run \"/nonexistent/helper\": no such file or not "
              "found in PATH");
    CHECK_STR(get_fail(process("'unterminated"), ACMPCA_ECONFIG),
              "credential-process: the command line has no closing quotation (')");
    CHECK_STR(get_fail(process(NULL), ACMPCA_ENOCREDENTIALS),
              "credential-process: no credential_process in profile \"default\"");

    /* Refresh by expiry, with the injected clock: run again only when due. */
    {
        acmpca_credentials_options o = opts_with_clock();
        acmpca_credentials_provider *p = NULL;
        const char *counter = write_file("counter", "");

        setenv("CRED_PROCESS_COUNTER", counter, 1);
        setenv("CRED_PROCESS_EXPIRATION", "2031-01-01T00:00:00Z", 1);
        CHECK_INT(acmpca_credentials_provider_process(&p, ok, &o), 0);
        fake_clock = 1924992000 - 3600;
        c = NULL;
        CHECK_INT(get(p, 0, &c), 0);
        CHECK_STR(c ? c->access_key_id : NULL, "AKIDPROC1");
        acmpca_credentials_free(c);
        fake_clock = 1924992000 - 901;      /* still 15 min + 1 s: cached */
        CHECK_INT(get(p, 0, &c), 0);
        CHECK_STR(c ? c->access_key_id : NULL, "AKIDPROC1");
        acmpca_credentials_free(c);
        fake_clock = 1924992000 - 899;      /* inside the advisory window: run again */
        CHECK_INT(get(p, 0, &c), 0);
        CHECK_STR(c ? c->access_key_id : NULL, "AKIDPROC2");
        acmpca_credentials_free(c);
        acmpca_credentials_provider_unref(p);
        unsetenv("CRED_PROCESS_COUNTER");
        unsetenv("CRED_PROCESS_EXPIRATION");
    }
    reset_env();
}

/* ---- IMDS, container, SSO and STS against the metadata server ------------------- */

static acmpca_credentials_provider *imds_at(const char *spec, int attempts)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    setenv("AWS_EC2_METADATA_DISABLED", "false", 1);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fmt("%s/imds/%s", metadata, spec), 1);
    o.metadata_attempts = attempts;
    CHECK_INT(acmpca_credentials_provider_imds(&p, &o), 0);
    return p;
}

static void test_imds(void)
{
    acmpca_credentials *c;
    acmpca_credentials_provider *p = NULL;
    const char *msg;
    time_t t0;
    int64_t now = time(NULL);

    reset_env();
    c = get_ok(imds_at("ok", 0));
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "ASIAIMDS1");
    CHECK_STR(c->secret_access_key, "SECRETASIAIMDS1");
    CHECK_STR(c->session_token, "TOKENASIAIMDS1");
    CHECK_STR(c->provider, "imds");
    CHECK(c->expiration >= now + 3590 && c->expiration <= now + 3610);
    acmpca_credentials_free(c);
    {
        cJSON *s = stats("imds/ok");
        CHECK_INT(cJSON_GetObjectItem(s, "token_calls")->valueint, 1);
        CHECK_INT(cJSON_GetObjectItem(s, "calls")->valueint, 1);
        cJSON_Delete(s);
    }
    CHECK_STR(last_field("imds/ok", "headers", "x-aws-ec2-metadata-token"), "imds-session-token");

    /* The endpoint from the profile; in the default chain, as its last source. */
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    use_config(fmt("[default]\nec2_metadata_service_endpoint = %s/imds/from-profile/\n",
                   metadata));
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->provider : NULL, "imds");
    acmpca_credentials_free(c);
    CHECK_INT(calls("imds/from-profile"), 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);

    /* Not EC2, or no role: no credentials, and the reason. */
    CHECK_STR(get_fail(imds_at("norole", 0), ACMPCA_ENOCREDENTIALS),
              fmt("imds: no IAM role is attached to this instance (GET %s/imds/norole/latest/"
                  "meta-data/iam/security-credentials/ answered HTTP 404)", metadata));
    CHECK_STR(get_fail(imds_at("notoken", 0), ACMPCA_ENOCREDENTIALS),
              fmt("imds: the token request (PUT %s/imds/notoken/latest/api/token) answered "
                  "HTTP 403", metadata));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    CHECK_INT(acmpca_credentials_provider_imds(&p, NULL), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ENOCREDENTIALS),
                   "imds: could not connect to the endpoint URL http://127.0.0.1:1/latest/api/"
                   "token");

    /* A short timeout: a stalled endpoint does not stall the caller. */
    t0 = time(NULL);
    msg = get_fail(imds_at("stalled,delay=6000", 0), ACMPCA_ENOCREDENTIALS);
    CHECK_CONTAINS(msg, "timeout");
    CHECK(time(NULL) - t0 < 5);

    /* EC2 answered but something is wrong: a hard error. */
    msg = get_fail(imds_at("failure", 0), ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "imds: the instance role's credentials has Code \"Failure\"");
    CHECK_LACKS(msg, "SECRET");
    CHECK_STR(get_fail(imds_at("badjson", 0), ACMPCA_ECREDENTIALS),
              "imds: the instance role's credentials is not a JSON object (35 bytes)");
    CHECK_STR(get_fail(imds_at("status=500", 0), ACMPCA_ECREDENTIALS),
              fmt("imds: GET %s/imds/status=500/latest/meta-data/iam/security-credentials/"
                  "test-role answered HTTP 500", metadata));
    CHECK_INT(acmpca_error_last()->http_status, 500);
    CHECK_INT(calls("imds/status=500"), 1);     /* one attempt by default */
    get_fail(imds_at("status=500,retried", 3), ACMPCA_ECREDENTIALS);
    CHECK_INT(calls("imds/status=500,retried"), 3);
    reset_env();
}

static acmpca_credentials_provider *container_at(const char *spec)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", fmt("%s/container/%s/v1/creds", metadata, spec),
           1);
    o.metadata_attempts = 1;
    CHECK_INT(acmpca_credentials_provider_container(&p, &o), 0);
    return p;
}

static void test_container(void)
{
    acmpca_credentials *c;
    acmpca_credentials_provider *p = NULL;
    const char *msg;

    reset_env();
    c = get_ok(container_at("ok"));
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "ASIACONTAINER1");
    CHECK_STR(c->session_token, "TOKENASIACONTAINER1");
    CHECK_STR(c->provider, "container");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("container/ok", "headers", "authorization"), "");

    /* The token, from the variable, then from the file (which wins). */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token", 1);
    c = get_ok(container_at("auth=env-token"));
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    acmpca_credentials_free(c);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write_file("eks-token", "file-token\n"), 1);
    c = get_ok(container_at("auth=file-token"));
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("container/auth=file-token", "headers", "authorization"), "file-token");
    write_file("eks-token", "SECRETROTATED");
    msg = get_fail(container_at("auth=file-token"), ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, fmt("container: %s/container/auth=file-token/v1/creds answered HTTP 401 "
                       "(Unauthorized: bad authorization token); check "
                       "AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)", metadata));
    CHECK_LACKS(msg, "SECRETROTATED");
    CHECK_INT(acmpca_error_last()->http_status, 401);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

    /* Server trouble, retried as configured. */
    CHECK_STR(get_fail(container_at("status=500"), ACMPCA_ECREDENTIALS),
              fmt("container: %s/container/status=500/v1/creds answered HTTP 500 "
                  "(InternalError: scripted failure)", metadata));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
           fmt("%s/container/status=503,three/v1/creds", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);   /* default: 3 attempts */
    get_fail(p, ACMPCA_ECREDENTIALS);
    CHECK_INT(calls("container/status=503,three"), 3);
    CHECK_STR(get_fail(container_at("badjson"), ACMPCA_ECREDENTIALS),
              "container: the container credentials response is not a JSON object (21 bytes)");
    msg = get_fail(container_at("nosecret"), ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "container: the container credentials response has no SecretAccessKey");
    CHECK_STR(get_fail(container_at("ttl=-30"), ACMPCA_ECREDENTIALS),
              "container: the credentials it returned expired 30 seconds ago");
    c = get_ok(container_at("noexp"));
    CHECK_INT(c ? c->expiration : -1, 0);
    acmpca_credentials_free(c);

    /* Hard errors stop the default chain, named. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds", 1);
    setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1", 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS),
                   "container: could not connect to the endpoint URL http://127.0.0.1:1/creds");
    reset_env();
}

static void sso_login(const char *expires)
{
    write_file(SSO_CACHE, fmt("{\"startUrl\": \"https://example.awsapps.com/start\", "
                              "\"region\": \"eu-west-1\", \"accessToken\": \"sso-access-token\", "
                              "\"expiresAt\": \"%s\"}", expires));
}

static void test_sso(void)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c;
    const char *msg;
    int64_t now = time(NULL);

    reset_env();
    use_config(sso_config);
    sso_login("2099-01-01T00:00:00Z");
    setenv("AWS_ENDPOINT_URL_SSO", fmt("%s/sso/ok", metadata), 1);
    o.profile = "sso";
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    c = get_ok(p);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "ASIASSO-123456789012-ReadOnly-1");
    CHECK_STR(c->secret_access_key, "SECRETASIASSO1");
    CHECK_STR(c->session_token, "TOKENASIASSO1");
    CHECK_STR(c->provider, "sso");
    CHECK(c->expiration >= now + 3590 && c->expiration <= now + 3610);
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sso/ok", "headers", "x-amz-sso_bearer_token"), "sso-access-token");
    CHECK_CONTAINS(last_field("sso/ok", NULL, "path"), "account_id=123456789012&role_name=ReadOnly");

    /* Legacy keys, in the default chain via AWS_PROFILE. */
    write_file(SSO_LEGACY_CACHE, "{\"accessToken\": \"sso-access-token\", "
               "\"expiresAt\": \"2099-01-01T00:00:00UTC\"}");
    setenv("AWS_PROFILE", "legacy", 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASSO-210987654321-Admin-2");
    CHECK_STR(c ? c->provider : NULL, "sso");
    acmpca_credentials_free(c);
    unsetenv("AWS_PROFILE");

    /* The portal refuses the token / the role. */
    setenv("AWS_ENDPOINT_URL_SSO", fmt("%s/sso/token=other", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    msg = get_fail(p, ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "sso: GetRoleCredentials for account 123456789012, role ReadOnly answered "
              "HTTP 401 (UnauthorizedException: Session token not found or invalid); the SSO "
              "token is no longer valid: run `aws sso login --sso-session my-sso`");
    CHECK_LACKS(msg, "sso-access-token");
    setenv("AWS_ENDPOINT_URL_SSO", fmt("%s/sso/status=403", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECREDENTIALS),
              "sso: GetRoleCredentials for account 123456789012, role ReadOnly answered HTTP 403 "
              "(ForbiddenException: No access)");
    setenv("AWS_ENDPOINT_URL_SSO", fmt("%s/sso/nosecret", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS),
                   "sso: the GetRoleCredentials response (HTTP 200, ");
    CHECK_CONTAINS(acmpca_error_last()->message, "bytes) has no secretAccessKey");

    /* Without an override: the regional portal (seen through a refusing local proxy). */
    unsetenv("AWS_ENDPOINT_URL_SSO");
    setenv("HTTPS_PROXY", metadata, 1);
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS),
                   "sso: connection to https://portal.sso.eu-west-1.amazonaws.com/federation/"
                   "credentials?account_id=123456789012&role_name=ReadOnly failed");
    CHECK_STR(last_field("proxy/connect", NULL, "target"), "portal.sso.eu-west-1.amazonaws.com:443");
    reset_env();
}

static void test_sts_fixture(void)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_assume_role_params params;
    acmpca_credentials_provider *src = NULL, *p = NULL;
    acmpca_credentials *c;
    const char *msg;

    reset_env();
    setenv("AWS_REGION", "us-west-2", 1);
    memset(&params, 0, sizeof(params));
    params.role_arn = "arn:aws:iam::123456789012:role/explicit";
    params.role_session_name = "s1";
    params.external_id = "ext id&1";
    params.duration_seconds = 1800;

    /* Explicit source: signed with it, for the region; the parameters all sent. */
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/explicit", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_static(&src, "AKIDSRC", "SECRETSRC", "TOKENSRC"), 0);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    c = get_ok(p);
    REQUIRE(c);
    CHECK_STR(c->access_key_id, "ASIASTS1");
    CHECK_STR(c->session_token, "TOKENASIASTS1&x");
    CHECK_STR(c->provider, "assume-role");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sts/explicit", "params", "Action"), "AssumeRole");
    CHECK_STR(last_field("sts/explicit", "params", "Version"), "2011-06-15");
    CHECK_STR(last_field("sts/explicit", "params", "RoleArn"), params.role_arn);
    CHECK_STR(last_field("sts/explicit", "params", "RoleSessionName"), "s1");
    CHECK_STR(last_field("sts/explicit", "params", "ExternalId"), "ext id&1");
    CHECK_STR(last_field("sts/explicit", "params", "DurationSeconds"), "1800");
    CHECK_CONTAINS(last_field("sts/explicit", "headers", "authorization"),
                   "Credential=AKIDSRC/");
    CHECK_CONTAINS(last_field("sts/explicit", "headers", "authorization"),
                   "/us-west-2/sts/aws4_request");
    CHECK_STR(last_field("sts/explicit", "headers", "x-amz-security-token"), "TOKENSRC");

    /* STS errors: code, message, status; never a secret. */
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/error=AccessDenied", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    msg = get_fail(p, ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "assume-role: STS AssumeRole for arn:aws:iam::123456789012:role/explicit "
              "failed: HTTP 403 AccessDenied: Not authorized to perform sts:AssumeRole & more");
    CHECK_LACKS(msg, "SECRETSRC");
    CHECK_INT(acmpca_error_last()->http_status, 403);
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/garbage", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    CHECK_STR(get_fail(p, ACMPCA_ECREDENTIALS),
              "assume-role: the STS AssumeRole response (HTTP 200, 18 bytes) has no <AccessKeyId>");
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/nosecret", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS), "has no <SecretAccessKey>");
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS),
                   "assume-role: could not connect to the endpoint URL http://127.0.0.1:1");
    acmpca_credentials_provider_unref(src);

    /* Regional endpoint without an override (seen through a refusing local proxy). */
    unsetenv("AWS_ENDPOINT_URL_STS");
    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("HTTPS_PROXY", metadata, 1);
    CHECK_INT(acmpca_credentials_provider_static(&src, "AKIDSRC", "SECRETSRC", NULL), 0);
    CHECK_INT(acmpca_credentials_provider_assume_role_with_source(&p, src, &params, &o), 0);
    CHECK_CONTAINS(get_fail(p, ACMPCA_ECREDENTIALS),
                   "assume-role: connection to https://sts.eu-central-1.amazonaws.com failed");
    CHECK_STR(last_field("proxy/connect", NULL, "target"), "sts.eu-central-1.amazonaws.com:443");
    acmpca_credentials_provider_unref(src);
    unsetenv("HTTPS_PROXY");
    setenv("AWS_REGION", "us-west-2", 1);

    /* A chain of profiles: each role signed with the one before. */
    use_config("[profile base]\n"
               "aws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = SECRETBASE\n"
               "[profile first]\n"
               "role_arn = arn:aws:iam::123456789012:role/first\n"
               "source_profile = base\n"
               "[profile second]\n"
               "role_arn = arn:aws:iam::123456789012:role/second\n"
               "source_profile = first\n"
               "role_session_name = chained\n"
               "[profile self]\n"
               "role_arn = arn:aws:iam::123456789012:role/self\n"
               "source_profile = self\n"
               "aws_access_key_id = AKIDSELF\n"
               "aws_secret_access_key = SECRETSELF\n"
               "[profile viaecs]\n"
               "role_arn = arn:aws:iam::123456789012:role/viaecs\n"
               "credential_source = EcsContainer\n"
               "[profile viaimds]\n"
               "role_arn = arn:aws:iam::123456789012:role/viaimds\n"
               "credential_source = Ec2InstanceMetadata\n"
               "[profile viaprocess]\n"
               "role_arn = arn:aws:iam::123456789012:role/viaprocess\n"
               "source_profile = proc\n"
               "[profile proc]\n"
               "credential_process = " ACMPCA_FIXTURES "/cred_process_ok.sh\n");
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/chain", metadata), 1);
    o.profile = "second";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS2");
    CHECK_STR(c ? c->provider : NULL, "assume-role");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sts/chain", "params", "RoleArn"), "arn:aws:iam::123456789012:role/second");
    CHECK_STR(last_field("sts/chain", "params", "RoleSessionName"), "chained");
    CHECK_CONTAINS(last_field("sts/chain", "headers", "authorization"), "Credential=ASIASTS1/");
    CHECK_STR(last_field("sts/chain", "headers", "x-amz-security-token"), "TOKENASIASTS1&x");

    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/self", metadata), 1);
    o.profile = "self";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS1");
    acmpca_credentials_free(c);
    CHECK_CONTAINS(last_field("sts/self", "headers", "authorization"), "Credential=AKIDSELF/");
    CHECK_CONTAINS(last_field("sts/self", "params", "RoleSessionName"), "acmpca-session-");

    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/viaecs", metadata), 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", fmt("%s/container/for-role/creds", metadata), 1);
    o.profile = "viaecs";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS1");
    acmpca_credentials_free(c);
    CHECK_CONTAINS(last_field("sts/viaecs", "headers", "authorization"),
                   "Credential=ASIACONTAINER1/");

    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/viaimds", metadata), 1);
    setenv("AWS_EC2_METADATA_DISABLED", "false", 1);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fmt("%s/imds/for-role", metadata), 1);
    o.profile = "viaimds";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS1");
    acmpca_credentials_free(c);
    CHECK_CONTAINS(last_field("sts/viaimds", "headers", "authorization"), "Credential=ASIAIMDS1/");

    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/viaprocess", metadata), 1);
    o.profile = "viaprocess";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS1");
    acmpca_credentials_free(c);
    CHECK_CONTAINS(last_field("sts/viaprocess", "headers", "authorization"),
                   "Credential=AKIDPROC1/");

    /* In the default chain, the role profile comes before the files' keys. */
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/default-chain", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, "self"), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->provider : NULL, "assume-role");
    acmpca_credentials_free(c);

    /* Web identity: unsigned, with the token from the file (read again on refresh). */
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/web", metadata), 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("jwt", "eyJhbGciOi.first\n"), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-session", 1);
    o = opts_with_clock();
    fake_clock = time(NULL);
    CHECK_INT(acmpca_credentials_provider_web_identity(&p, &o), 0);
    c = NULL;
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS1");
    CHECK_STR(c ? c->provider : NULL, "web-identity");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sts/web", "headers", "authorization"), "");
    CHECK_STR(last_field("sts/web", "params", "Action"), "AssumeRoleWithWebIdentity");
    CHECK_STR(last_field("sts/web", "params", "WebIdentityToken"), "eyJhbGciOi.first");
    CHECK_STR(last_field("sts/web", "params", "RoleSessionName"), "pod-session");
    CHECK_STR(last_field("sts/web", "params", "RoleArn"), "arn:aws:iam::123456789012:role/irsa");
    write_file("jwt", "eyJhbGciOi.second");
    fake_clock += 3000;                 /* 10 min left: refresh */
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIASTS2");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sts/web", "params", "WebIdentityToken"), "eyJhbGciOi.second");
    acmpca_credentials_provider_unref(p);

    /* The same from profile keys; in the default chain. */
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");
    unsetenv("AWS_ROLE_SESSION_NAME");
    use_config(fmt("[profile irsa]\nweb_identity_token_file = %s/jwt\n"
                   "role_arn = arn:aws:iam::123456789012:role/from-profile\n", root));
    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/web-profile", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, "irsa"), 0);
    c = get_ok(p);
    CHECK_STR(c ? c->provider : NULL, "web-identity");
    acmpca_credentials_free(c);
    CHECK_STR(last_field("sts/web-profile", "params", "RoleArn"),
              "arn:aws:iam::123456789012:role/from-profile");
    CHECK_CONTAINS(last_field("sts/web-profile", "params", "RoleSessionName"), "acmpca-session-");

    setenv("AWS_ENDPOINT_URL_STS", fmt("%s/sts/error=InvalidIdentityToken,status=400", metadata), 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, "irsa"), 0);
    msg = get_fail(p, ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, "web-identity: STS AssumeRoleWithWebIdentity for "
              "arn:aws:iam::123456789012:role/from-profile failed: HTTP 400 InvalidIdentityToken: "
              "Not authorized to perform sts:AssumeRoleWithWebIdentity & more");
    CHECK_LACKS(msg, "eyJhbGciOi");
    reset_env();
}

/* ---- refresh ------------------------------------------------------------------- */

static void test_refresh(void)
{
    acmpca_credentials_options o = opts_with_clock();
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    int64_t t0 = time(NULL);
    const char *ok = fmt("refresh,base=%lld,step=3600", (long long)t0);
    const char *ok_url = fmt("%s/container/%s/c", metadata, ok);
    const char *bad_url = fmt("%s/container/status=500,refresh/c", metadata);
    char key[200];

    reset_env();
    snprintf(key, sizeof(key), "container/%s", ok);
    o.metadata_attempts = 1;
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok_url, 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, &o), 0);

    fake_clock = t0;                           /* 1st: expires at t0 + 3600 */
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    CHECK_INT(c ? c->expiration : 0, t0 + 3600);
    acmpca_credentials_free(c);
    fake_clock = t0 + 3600 - 900;              /* exactly 15 min left: still cached */
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    acmpca_credentials_free(c);
    CHECK_INT(calls(key), 1);

    /* Advisory window: a failed refresh keeps the old credentials. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad_url, 1);
    fake_clock = t0 + 3600 - 800;
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    acmpca_credentials_free(c);
    CHECK_INT(calls("container/status=500,refresh"), 1);
    /* Mandatory window: it raises, naming the provider. */
    fake_clock = t0 + 3600 - 600;
    CHECK_INT(get(p, 0, &c), ACMPCA_ECREDENTIALS);
    CHECK(c == NULL);
    CHECK_CONTAINS(acmpca_error_last()->message, "container: ");
    CHECK_CONTAINS(acmpca_error_last()->message, "answered HTTP 500");
    /* Recovery: the 2nd credentials (expire at t0 + 7200) replace the 1st. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok_url, 1);
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER2");
    CHECK_INT(c ? c->expiration : 0, t0 + 7200);
    acmpca_credentials_free(c);
    /* An explicit `now` wins over the provider's clock. */
    CHECK_INT(get(p, t0 + 7200 - 100, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER3");
    acmpca_credentials_free(c);
    CHECK_INT(calls(key), 3);

    /* The default chain with options takes the clock too. */
    acmpca_credentials_provider_unref(p);
    CHECK_INT(acmpca_credentials_provider_default_ex(&p, &o), 0);
    fake_clock = t0;
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER4");
    acmpca_credentials_free(c);
    fake_clock = t0 + 4 * 3600 - 100;
    CHECK_INT(get(p, 0, &c), 0);
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER5");
    CHECK_STR(c ? c->provider : NULL, "container");
    acmpca_credentials_free(c);
    acmpca_credentials_provider_unref(p);
    reset_env();
}

/* ---- 8 threads --------------------------------------------------------------------- */

#define THREADS 8

typedef struct thread_arg {
    acmpca_credentials_provider *p;
    pthread_barrier_t *start;
    int64_t now;
    int rc;
    char key[64];
} thread_arg;

static void *thread_main(void *arg)
{
    thread_arg *a = arg;
    acmpca_credentials *c = NULL;

    pthread_barrier_wait(a->start);
    a->rc = acmpca_credentials_get(a->p, a->now, &c);
    snprintf(a->key, sizeof(a->key), "%s", c ? c->access_key_id : "");
    acmpca_credentials_free(c);
    return NULL;
}

static void run_threads(acmpca_credentials_provider *p, int64_t now, thread_arg *args)
{
    pthread_t threads[THREADS];
    pthread_barrier_t start;
    int i;

    REQUIRE(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (i = 0; i < THREADS; i++) {
        args[i].p = p;
        args[i].start = &start;
        args[i].now = now;
        REQUIRE(pthread_create(&threads[i], NULL, thread_main, &args[i]) == 0);
    }
    for (i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
}

static void test_threads(void)
{
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    thread_arg args[THREADS];
    int64_t t0 = time(NULL);
    const char *spec = fmt("threads,delay=300,base=%lld,step=3600", (long long)t0);
    char key[200];
    int i, old = 0;

    reset_env();
    snprintf(key, sizeof(key), "container/%s", spec);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", fmt("%s/container/%s/c", metadata, spec), 1);
    CHECK_INT(acmpca_credentials_provider_container(&p, NULL), 0);
    CHECK_INT(get(p, t0, &c), 0);
    acmpca_credentials_free(c);

    /* Advisory window: one thread refreshes, the others keep using the old ones. */
    memset(args, 0, sizeof(args));
    run_threads(p, t0 + 3600 - 800, args);
    for (i = 0; i < THREADS; i++) {
        CHECK_INT(args[i].rc, 0);
        CHECK(strcmp(args[i].key, "ASIACONTAINER1") == 0 ||
              strcmp(args[i].key, "ASIACONTAINER2") == 0);
        old += strcmp(args[i].key, "ASIACONTAINER1") == 0;
    }
    CHECK(old >= 1);    /* the fetch took 300 ms; nobody waited for it */
    CHECK_INT(calls(key), 2);

    /* Mandatory window: one thread refreshes, the others wait for its result. */
    memset(args, 0, sizeof(args));
    run_threads(p, t0 + 7200 - 300, args);
    for (i = 0; i < THREADS; i++) {
        CHECK_INT(args[i].rc, 0);
        CHECK_STR(args[i].key, "ASIACONTAINER3");
    }
    CHECK_INT(calls(key), 3);
    acmpca_credentials_provider_unref(p);
    reset_env();
}

/* ---- security: proxies, header injection, leftovers in memory, process groups ---------- */

static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"};

/* How many requests the recording proxy (recording_proxy.py) has seen. */
static int proxy_requests(const char *proxy)
{
    cJSON *seen = http_json("GET", fmt("%s/_requests", proxy));
    int n = cJSON_GetObjectItem(seen, "count")->valueint;
    cJSON_Delete(seen);
    return n;
}

/*
 * The metadata endpoints are link-local or loopback: a proxy would receive
 * the pod identity token and could answer with credentials of its choosing.
 * With every proxy variable set and no NO_PROXY, they are still asked directly.
 */
static void test_credentials__metadata_endpoints_bypass_proxies(void)
{
    const char *proxy = getenv("ACMPCA_TEST_PROXY");
    acmpca_credentials *c;
    size_t i;

    REQUIRE(proxy);
    reset_env();
    /* tests/run and metadata_server.py export NO_PROXY for loopback: it would hide the bug. */
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        setenv(proxy_vars[i], proxy, 1);

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-identity-token", 1);
    c = get_ok(container_at("auth=pod-identity-token,proxied"));
    CHECK_STR(c ? c->access_key_id : NULL, "ASIACONTAINER1");
    acmpca_credentials_free(c);
    CHECK_INT(calls("container/auth=pod-identity-token,proxied"), 1);

    c = get_ok(imds_at("proxied", 0));
    CHECK_STR(c ? c->access_key_id : NULL, "ASIAIMDS1");
    acmpca_credentials_free(c);
    CHECK_INT(calls("imds/proxied"), 1);
    CHECK_INT(proxy_requests(proxy), 0);

    /* The proxy is in effect for everything else: without it the test proves nothing. */
    {
        acmpca_transport_options to;
        acmpca_transport *t = NULL;
        acmpca_http_request req;
        acmpca_http_response resp;

        memset(&to, 0, sizeof(to));
        to.connect_timeout_ms = 5000;
        to.read_timeout_ms = 5000;
        to.max_response_bytes = 1u << 20;
        REQUIRE(acmpca__transport_new(&t, &to) == 0);
        memset(&req, 0, sizeof(req));
        req.method = "GET";
        req.url = (char *)fmt("%s/container/through-proxy/creds", metadata);
        memset(&resp, 0, sizeof(resp));
        CHECK_INT(acmpca__transport_send(t, &req, &resp, 0), 0);
        acmpca__http_response_clear(&resp);
        acmpca__transport_free(t);
        CHECK_INT(proxy_requests(proxy), 1);
    }
    for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        unsetenv(proxy_vars[i]);
    reset_env();
}

static int injected(const char *kind_spec)
{
    cJSON *s = stats(kind_spec);
    int n = cJSON_GetObjectItem(s, "injected")->valueint;
    cJSON_Delete(s);
    return n;
}

/*
 * Tokens that are sent back as header values (the IMDS session token, the
 * container authorization token, the SSO access token) are refused when they
 * hold a control character, naming where they came from and never quoting them.
 */
static void test_credentials__tokens_with_control_characters_refused(void)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    const char *msg;

    reset_env();
    /* IMDS: the token the PUT returns. */
    msg = get_fail(imds_at("injecttoken", 0), ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, fmt("imds: the session token from PUT %s/imds/injecttoken/latest/api/token "
                       "contains a control character, which a header cannot carry", metadata));
    CHECK_LACKS(msg, "imds-session-token");
    CHECK_INT(injected("imds/injecttoken"), 0);
    CHECK_INT(calls("imds/injecttoken"), 0);
    reset_env();

    /* Container: from the variable, from the file. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token\x01X", 1);
    msg = get_fail(container_at("auth=pod-token,ctl"), ACMPCA_ECONFIG);
    CHECK_STR(msg, "container: the authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN) "
              "contains a control character, which a header cannot carry");
    CHECK_LACKS(msg, "pod-token");
    CHECK_INT(calls("container/auth=pod-token,ctl"), 0);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
           write_file("eks-token", "pod-token\r\nX-Injected: 1\n"), 1);
    msg = get_fail(container_at("auth=pod-token,crlf"), ACMPCA_ECONFIG);
    CHECK_STR(msg, "container: the authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) "
              "contains a control character, which a header cannot carry");
    CHECK_LACKS(msg, "pod-token");
    CHECK_INT(injected("container/auth=pod-token,crlf"), 0);
    CHECK_INT(calls("container/auth=pod-token,crlf"), 0);
    reset_env();

    /* SSO: the accessToken in the cache `aws sso login` wrote. */
    use_config(sso_config);
    write_file(SSO_CACHE, "{\"accessToken\": \"sso-access-token\\r\\nX-Injected: 1\", "
               "\"expiresAt\": \"2099-01-01T00:00:00Z\"}");
    setenv("AWS_ENDPOINT_URL_SSO", fmt("%s/sso/injected", metadata), 1);
    o.profile = "sso";
    CHECK_INT(acmpca_credentials_provider_sso(&p, &o), 0);
    msg = get_fail(p, ACMPCA_ECREDENTIALS);
    CHECK_STR(msg, fmt("sso: the accessToken in the SSO token cache %s/" SSO_CACHE " contains a "
                       "control character, which a header cannot carry; run `aws sso login "
                       "--sso-session my-sso`", root));
    CHECK_LACKS(msg, "sso-access-token");
    CHECK_INT(injected("sso/injected"), 0);
    CHECK_INT(calls("sso/injected"), 0);
    reset_env();
}

/*
 * On a timeout the whole process group goes, not only the child: a script's
 * background job would otherwise run on (and hold the pipes) for ever.
 */
static void test_credentials__process_timeout_kills_process_group(void)
{
    const char *fails = ACMPCA_FIXTURES "/cred_process_fails.sh";
    const char *pid_file = fmt("%s/grandchild.pid", root);
    char text[32] = "";
    FILE *f;
    pid_t pid = 0;
    int i, gone = 0;

    reset_env();
#if defined(__linux__)
    /* Orphans come to us, so that we can reap them: a zombie would still answer kill(pid, 0). */
    REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
#endif
    CHECK_STR(get_fail(process(fmt("%s background %s", fails, pid_file)), ACMPCA_ECREDENTIALS),
              fmt("credential-process: \"%s\" did not finish within 1000 ms and was killed",
                  fails));
    REQUIRE((f = fopen(pid_file, "r")) != NULL);
    if (fgets(text, sizeof(text), f))
        pid = (pid_t)atol(text);
    fclose(f);
    REQUIRE(pid > 1);
    for (i = 0; i < 300 && !gone; i++) {       /* up to 3 s */
        struct timespec ts = {0, 10L * 1000000L};
        waitpid(pid, NULL, WNOHANG);
        gone = kill(pid, 0) != 0 && errno == ESRCH;
        if (!gone)
            nanosleep(&ts, NULL);
    }
    CHECK(gone);
    if (!gone) {
        fprintf(stderr, "  the background job %ld outlived the timeout\n", (long)pid);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    reset_env();
}

/*
 * What metadata_server.py hands out as the first container credentials of a
 * spec, XOR-encoded: "SECRETASIACONTAINER1" and "TOKENASIACONTAINER1". Memory
 * is compared against the encoded form, so the clear text never exists here.
 */
#define XOR_KEY 0xA5
static const unsigned char container_secret_enc[] = {
    0xf6, 0xe0, 0xe6, 0xf7, 0xe0, 0xf1, 0xe4, 0xf6, 0xec, 0xe4, 0xe6, 0xea, 0xeb, 0xf1, 0xe4,
    0xec, 0xeb, 0xe0, 0xf7, 0x94,
};
static const unsigned char container_token_enc[] = {
    0xf1, 0xea, 0xee, 0xe0, 0xeb, 0xe4, 0xf6, 0xec, 0xe4, 0xe6, 0xea, 0xeb, 0xf1, 0xe4, 0xec,
    0xeb, 0xe0, 0xf7, 0x94,
};

static int matches_encoded(const unsigned char *p, const unsigned char *enc, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if ((unsigned char)(p[i] ^ XOR_KEY) != enc[i])
            return 0;
    return 1;
}

/* Occurrences of `enc` (decoded) that start in the first `n` bytes of `buf` (`got` long). */
static int count_encoded(const unsigned char *buf, size_t n, size_t got,
                         const unsigned char *enc, size_t len)
{
    const unsigned char first = (unsigned char)(enc[0] ^ XOR_KEY);
    const unsigned char *p = buf, *end;
    int hits = 0;

    if (got < len)
        return 0;
    end = buf + (n < got - len + 1 ? n : got - len + 1);
    while (p < end && (p = memchr(p, first, (size_t)(end - p))) != NULL) {
        hits += matches_encoded(p, enc, len);
        p++;
    }
    return hits;
}

#define SCAN_CHUNK ((size_t)1 << 20)
#define SCAN_OVERLAP ((size_t)64)   /* longer than what is looked for */

/*
 * How many times either encoded string occurs in the private writable
 * mappings of this process (heap, anonymous memory, stacks, .data), freed
 * memory included. Read through /proc/self/mem into a shared mapping, which
 * the scan itself skips.
 */
static int scan_memory(void)
{
    unsigned char *buf;
    char line[512], perms[8];
    unsigned long lo, hi, addr;
    FILE *maps;
    int mem, hits = 0;

    buf = mmap(NULL, SCAN_CHUNK + SCAN_OVERLAP, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(buf != MAP_FAILED);
    REQUIRE((maps = fopen("/proc/self/maps", "r")) != NULL);
    REQUIRE((mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)) >= 0);
    while (fgets(line, sizeof(line), maps)) {
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || perms[3] != 'p' || hi - lo > ((unsigned long)1 << 32))
            continue;   /* larger mappings are sanitizer shadow memory */
        for (addr = lo; addr < hi; addr += SCAN_CHUNK) {
            size_t want = hi - addr < SCAN_CHUNK + SCAN_OVERLAP ? hi - addr
                                                                 : SCAN_CHUNK + SCAN_OVERLAP;
            ssize_t got = pread(mem, buf, want, (off_t)addr);

            if (got <= 0)
                continue;
            hits += count_encoded(buf, SCAN_CHUNK, (size_t)got, container_secret_enc,
                                  sizeof(container_secret_enc));
            hits += count_encoded(buf, SCAN_CHUNK, (size_t)got, container_token_enc,
                                  sizeof(container_token_enc));
        }
    }
    close(mem);
    fclose(maps);
    munmap(buf, SCAN_CHUNK + SCAN_OVERLAP);
    return hits;
}

/*
 * Once the credentials and the provider are freed, neither the secret key
 * nor the session token is left anywhere in the process: the response body
 * (and every block it outgrew), the parsed JSON, the cache and the copies
 * handed out are wiped before they are freed. Runs in a forked child, whose
 * memory holds nothing else of this test.
 */
static void test_credentials__secrets_wiped_from_heap(void)
{
    pid_t child;
    int status = 0;

    reset_env();
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        acmpca_credentials_provider *p = container_at("heap-scan");
        acmpca_credentials *c = NULL;
        int rc = acmpca_credentials_get(p, 0, &c), before, after;

        if (rc != 0 || !c || !c->secret_access_key || !c->session_token ||
            strlen(c->secret_access_key) != sizeof(container_secret_enc) ||
            !matches_encoded((const unsigned char *)c->secret_access_key, container_secret_enc,
                             sizeof(container_secret_enc)))
            _exit(2);
        before = scan_memory();     /* the scan sees them while they are in use */
        acmpca_credentials_free(c);
        acmpca_credentials_provider_unref(p);
        after = scan_memory();
        if (after)
            fprintf(stderr, "  %d copies of the secret key or the session token left in "
                            "memory\n", after);
        _exit(before < 2 ? 3 : after ? 1 : 0);
    }
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    CHECK(WIFEXITED(status));
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    reset_env();
}

/* ---- moto: the real STS protocol ----------------------------------------------------- */

/* The AssumedRole records moto keeps, as JSON. */
static cJSON *moto_roles(void)
{
    cJSON *all = http_json("GET", fmt("%s/moto-api/data.json", getenv("ACMPCA_TEST_ENDPOINT")));
    cJSON *roles = cJSON_DetachItemFromObject(cJSON_GetObjectItem(all, "sts"), "AssumedRole");
    cJSON_Delete(all);
    REQUIRE(roles);
    return roles;
}

static const cJSON *moto_role_by_key(const cJSON *roles, const char *access_key_id)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, roles) {
        const char *k = acmpca__json_string(r, "access_key_id");
        if (k && strcmp(k, access_key_id) == 0)
            return r;
    }
    return NULL;
}

static void test_moto(void)
{
    const char *moto = getenv("ACMPCA_TEST_ENDPOINT");
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c;
    const cJSON *r;
    cJSON *roles;
    int64_t now = time(NULL);

    REQUIRE(moto);
    reset_env();
    setenv("AWS_ENDPOINT_URL_STS", moto, 1);
    use_config("[profile base]\n"
               "aws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = SECRETBASE\n"
               "[profile first]\n"
               "role_arn = arn:aws:iam::123456789012:role/first\n"
               "source_profile = base\n"
               "role_session_name = sess-one\n"
               "external_id = ext-1\n"
               "duration_seconds = 1800\n"
               "region = eu-west-1\n"
               "[profile second]\n"
               "role_arn = arn:aws:iam::210987654321:role/second\n"
               "source_profile = first\n"
               "role_session_name = sess-two\n"
               "region = ap-southeast-2\n");

    /* AssumeRole: what moto recorded is what the profile said. */
    o.profile = "first";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    REQUIRE(c);
    CHECK_STR(c->provider, "assume-role");
    CHECK(c->session_token != NULL);
    CHECK(c->expiration >= now + 1800 - 60 && c->expiration <= now + 1800 + 60);
    roles = moto_roles();
    r = moto_role_by_key(roles, c->access_key_id);
    CHECK(r != NULL);
    CHECK_STR(acmpca__json_string(r, "role_arn"), "arn:aws:iam::123456789012:role/first");
    CHECK_STR(acmpca__json_string(r, "session_name"), "sess-one");
    CHECK_STR(acmpca__json_string(r, "external_id"), "ext-1");
    CHECK_STR(acmpca__json_string(r, "region_name"), "eu-west-1");    /* the signing region */
    CHECK_STR(acmpca__json_string(r, "secret_access_key"), c->secret_access_key);
    cJSON_Delete(roles);
    acmpca_credentials_free(c);

    /* A chain of two roles, across accounts. */
    o.profile = "second";
    CHECK_INT(acmpca_credentials_provider_assume_role(&p, &o), 0);
    c = get_ok(p);
    REQUIRE(c);
    roles = moto_roles();
    r = moto_role_by_key(roles, c->access_key_id);
    CHECK(r != NULL);
    CHECK_STR(acmpca__json_string(r, "arn"),
              "arn:aws:sts::210987654321:assumed-role/second/sess-two");
    CHECK_STR(acmpca__json_string(r, "region_name"), "ap-southeast-2");
    CHECK(cJSON_GetArraySize(roles) == 3);    /* first, first again (for second), second */
    cJSON_Delete(roles);
    acmpca_credentials_free(c);

    /* Web identity, unsigned. */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("moto-jwt", "eyJ.moto.token"), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
    CHECK_INT(acmpca_credentials_provider_default(&p, NULL), 0);
    c = get_ok(p);
    REQUIRE(c);
    CHECK_STR(c->provider, "web-identity");
    roles = moto_roles();
    r = moto_role_by_key(roles, c->access_key_id);
    CHECK(r != NULL);
    CHECK_STR(acmpca__json_string(r, "arn"), "arn:aws:sts::123456789012:assumed-role/irsa/pod-1");
    cJSON_Delete(roles);
    acmpca_credentials_free(c);

    /* A client uses the provider (through the public API) and moto accepts the calls. */
    {
        acmpca_client_options co = ACMPCA_CLIENT_OPTIONS_INIT;
        acmpca_client *client = NULL;
        cJSON *out = NULL;

        CHECK_INT(acmpca_credentials_provider_default(&p, "second"), 0);
        co.region = "us-east-1";
        co.endpoint_url = moto;
        co.credentials_provider = p;
        CHECK_INT(acmpca_client_new(&client, &co), 0);
        acmpca_credentials_provider_unref(p);   /* the client holds its own reference */
        CHECK_INT(acmpca_call(client, "ListCertificateAuthorities", NULL, &out), 0);
        CHECK(cJSON_IsObject(out));
        cJSON_Delete(out);
        CHECK_STR(acmpca_credentials_provider_name(acmpca_client_credentials_provider(client)),
                  "default-chain");
        acmpca_client_free(client);
    }
    reset_env();
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "--unit";
    int known = 1;

    snprintf(root, sizeof(root), "/tmp/acmpca-creds-XXXXXX");
    REQUIRE(mkdtemp(root));
    REQUIRE(acmpca_global_init() == 0);
    reset_env();
    metadata = getenv("ACMPCA_TEST_METADATA");
    if (strcmp(group, "--unit") == 0) {
        test_split_command();
        test_urls();
        test_xml();
        test_names_and_options();
        test_default_chain_lists_everything();
        test_container_config_errors();
        test_assume_role_config_errors();
        test_web_identity_config_errors();
        test_sso_config_errors();
    } else if (strcmp(group, "--process") == 0) {
        test_process();
    } else if (strcmp(group, "--metadata") == 0 && metadata) {
        test_imds();
        test_container();
        test_sso();
        test_sts_fixture();
    } else if (strcmp(group, "--refresh") == 0 && metadata) {
        test_refresh();
    } else if (strcmp(group, "--threads") == 0 && metadata) {
        test_threads();
    } else if (strcmp(group, "--moto") == 0 && metadata) {
        test_moto();
    } else if (strcmp(group, "--no-proxy") == 0 && metadata) {
        test_credentials__metadata_endpoints_bypass_proxies();
    } else if (strcmp(group, "--header-injection") == 0 && metadata) {
        test_credentials__tokens_with_control_characters_refused();
    } else if (strcmp(group, "--heap-scan") == 0 && metadata) {
        test_credentials__secrets_wiped_from_heap();
    } else if (strcmp(group, "--process-group") == 0) {
        test_credentials__process_timeout_kills_process_group();
    } else {
        known = 0;
    }
    nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    acmpca_global_cleanup();
    if (!known) {
        fprintf(stderr, "usage: %s --unit|--process|--process-group|--metadata|--refresh|"
                        "--threads|--moto|--no-proxy|--header-injection|--heap-scan (all from "
                        "--metadata on need ACMPCA_TEST_METADATA)\n", argv[0]);
        return 2;
    }
    return CHECK_DONE();
}
