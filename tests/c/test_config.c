/*
 * test_config.c - the INI parser of the shared files and the resolution of
 * profile, region, endpoint URL, FIPS, dual-stack and CA bundle.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "temp_files.h"

#define MIB ((size_t)1 << 20)

static void clear_env(void)
{
    static const char *const vars[] = {
        "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ACM_PCA", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    };
    size_t i;
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
}

static acmpca_ini *parse(const char *text, int is_config)
{
    acmpca_ini *ini = NULL;
    int rc = acmpca__ini_parse(&ini, text, strlen(text), is_config);
    CHECK_INT(rc, 0);
    REQUIRE(ini);
    return ini;
}

/* ---- INI parsing ----------------------------------------------------------- */

static void test_comments(void)
{
    acmpca_ini *ini = parse("# a comment\n"
                            "; another\n"
                            "[default] # comment after a header\n"
                            "region = us-east-1 # inline comment\n"
                            "hash_inside = a#b\n"
                            "semi = x ; y\n"
                            "tight =#notcomment\n"
                            "only_comment = # nothing\n"
                            "  # indented comment\n"
                            "last = z\n", 1);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(acmpca__ini_get(ini, "default", "hash_inside"), "a#b");
    CHECK_STR(acmpca__ini_get(ini, "default", "semi"), "x");
    CHECK_STR(acmpca__ini_get(ini, "default", "tight"), "#notcomment");
    CHECK_STR(acmpca__ini_get(ini, "default", "only_comment"), "");
    CHECK_STR(acmpca__ini_get(ini, "default", "last"), "z");
    CHECK(acmpca__ini_get(ini, "default", "# a comment") == NULL);
    acmpca__ini_free(ini);
}

static void test_whitespace(void)
{
    acmpca_ini *ini = parse("\xEF\xBB\xBF[default]\r\n"
                            "\t region\t=\t eu-west-1  \r\n"
                            "[  profile   dev  ]\r\n"
                            "output=json", 1);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "eu-west-1");
    CHECK(acmpca__ini_has_profile(ini, "dev"));
    CHECK_STR(acmpca__ini_get(ini, "dev", "output"), "json");
    acmpca__ini_free(ini);

    ini = parse("", 1);
    CHECK(!acmpca__ini_has_profile(ini, "default"));
    CHECK(acmpca__ini_get(ini, "default", "region") == NULL);
    acmpca__ini_free(ini);
}

static void test_section_names(void)
{
    acmpca_ini *ini = parse("[plain]\nregion = a\n"
                            "[profile dev]\nregion = b\n"
                            "[profile \"with space\"]\nregion = c\n"
                            "[profile Case]\nregion = d\n"
                            "[sso-session my-sso]\nsso_region = us-east-1\n"
                            "[services local]\nacm_pca =\n  endpoint_url = http://127.0.0.1:1\n"
                            "[profile]\nregion = e\n"
                            "[profile a b]\nregion = f\n", 1);
    /* In a config file "[x]" is not a profile. */
    CHECK(!acmpca__ini_has_profile(ini, "plain"));
    CHECK_STR(acmpca__ini_get(ini, "dev", "region"), "b");
    CHECK(!acmpca__ini_has_profile(ini, "profile dev"));
    CHECK_STR(acmpca__ini_get(ini, "with space", "region"), "c");
    /* Section names are case-sensitive. */
    CHECK_STR(acmpca__ini_get(ini, "Case", "region"), "d");
    CHECK(!acmpca__ini_has_profile(ini, "case"));
    /* sso-session and services sections are kept under their full names. */
    CHECK_STR(acmpca__ini_get(ini, "sso-session my-sso", "sso_region"), "us-east-1");
    CHECK(!acmpca__ini_has_profile(ini, "my-sso"));
    CHECK_STR(acmpca__ini_get(ini, "services local", "acm_pca.endpoint_url"),
              "http://127.0.0.1:1");
    CHECK_STR(acmpca__ini_get(ini, "services local", "acm_pca"), "");
    /* Headers that name nothing are dropped with their keys. */
    CHECK(!acmpca__ini_has_profile(ini, "profile"));
    CHECK(!acmpca__ini_has_profile(ini, "a b"));
    CHECK(!acmpca__ini_has_profile(ini, "a"));
    CHECK(acmpca__ini_get(ini, "services local", "region") == NULL);
    acmpca__ini_free(ini);

    /* A credentials file names profiles directly. */
    ini = parse("[plain]\naws_access_key_id = a\n[profile dev]\nx = 1\n", 0);
    CHECK_STR(acmpca__ini_get(ini, "plain", "aws_access_key_id"), "a");
    CHECK(acmpca__ini_has_profile(ini, "profile dev"));
    CHECK(!acmpca__ini_has_profile(ini, "dev"));
    acmpca__ini_free(ini);
}

static void test_keys_case_insensitive(void)
{
    /* As botocore, whose configparser lowercases option names. */
    acmpca_ini *ini = parse("[default]\nAWS_Access_Key_ID = AKID\nRegion = r1\nregion = r2\n", 0);
    CHECK_STR(acmpca__ini_get(ini, "default", "aws_access_key_id"), "AKID");
    CHECK_STR(acmpca__ini_get(ini, "default", "AWS_ACCESS_KEY_ID"), "AKID");
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "r2");
    acmpca__ini_free(ini);
}

static void test_subsections(void)
{
    acmpca_ini *ini = parse("[default]\n"
                            "s3 =\n"
                            "  max_concurrent_requests = 10\n"
                            "\n"
                            "  region = not-this-one\n"
                            "  # a comment in the sub-section\n"
                            "\tno equals sign here\n"
                            "region = us-west-2\n"
                            "output = json\n"
                            "  continuation of output\n"
                            "  fake = key\n"
                            "[profile p]\n"
                            "  indented_first = yes\n", 1);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "us-west-2");
    CHECK_STR(acmpca__ini_get(ini, "default", "output"), "json");
    CHECK_STR(acmpca__ini_get(ini, "default", "s3"), "");
    CHECK(acmpca__ini_get(ini, "default", "max_concurrent_requests") == NULL);
    CHECK_STR(acmpca__ini_get(ini, "default", "s3.max_concurrent_requests"), "10");
    CHECK(acmpca__ini_get(ini, "default", "fake") == NULL);
    CHECK(acmpca__ini_get(ini, "default", "output.fake") == NULL);
    /* An indented key right after a header is an ordinary key. */
    CHECK_STR(acmpca__ini_get(ini, "p", "indented_first"), "yes");
    acmpca__ini_free(ini);
}

static void test_malformed(void)
{
    acmpca_ini *ini = parse("key_before_any_section = x\n"
                            "garbage\n"
                            "[default]\n"
                            "not a key value line\n"
                            "= no key\n"
                            "region = us-east-2\n"
                            "[broken header\n"
                            "region = leaked-1\n"
                            "[profile ok] trailing text\n"
                            "region = leaked-2\n"
                            "[]\n"
                            "region = leaked-3\n"
                            "[profile good]\n"
                            "region = fine\n", 1);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "us-east-2");
    CHECK(acmpca__ini_get(ini, "default", "key_before_any_section") == NULL);
    CHECK(!acmpca__ini_has_profile(ini, "ok"));
    CHECK_STR(acmpca__ini_get(ini, "good", "region"), "fine");
    acmpca__ini_free(ini);

    /* Embedded NUL bytes end a line's content and do not derail parsing. */
    {
        static const char text[] = "[default]\nregion = a\0junk\nother = b\n";
        acmpca_ini *ini2 = NULL;
        CHECK_INT(acmpca__ini_parse(&ini2, text, sizeof(text) - 1, 1), 0);
        CHECK_STR(acmpca__ini_get(ini2, "default", "region"), "a");
        CHECK_STR(acmpca__ini_get(ini2, "default", "other"), "b");
        acmpca__ini_free(ini2);
    }
}

static void test_duplicates(void)
{
    acmpca_ini *ini = parse("[default]\nregion = a\nregion = b\n"
                            "[profile p]\nregion = p1\n"
                            "[default]\nregion = c\noutput = text\n"
                            "[profile default]\noutput = json\n", 1);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "c");
    CHECK_STR(acmpca__ini_get(ini, "default", "output"), "json");
    CHECK_STR(acmpca__ini_get(ini, "p", "region"), "p1");
    acmpca__ini_free(ini);
}

static void test_limits(void)
{
    char *big = malloc(MIB + 1);
    acmpca_ini *ini = NULL;
    const char *path;
    int rc;

    REQUIRE(big);
    memset(big, '#', MIB + 1);
    memcpy(big, "[default]\nregion = r\n", 21);
    big[MIB - 1] = '\n';

    /* Exactly 1 MiB is accepted. */
    CHECK_INT(acmpca__ini_parse(&ini, big, MIB, 1), 0);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "r");
    acmpca__ini_free(ini);
    ini = NULL;

    rc = acmpca__ini_parse(&ini, big, MIB + 1, 1);
    CHECK_INT(rc, ACMPCA_ELIMIT);
    CHECK(ini == NULL);

    path = temp_file_n(big, MIB + 1);
    rc = acmpca__ini_load(&ini, path, 1);
    CHECK_INT(rc, ACMPCA_ELIMIT);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_ELIMIT);
    CHECK_CONTAINS(acmpca_error_last()->message, path);
    CHECK(ini == NULL);

    path = temp_file_n(big, MIB);
    CHECK_INT(acmpca__ini_load(&ini, path, 1), 0);
    CHECK_STR(acmpca__ini_get(ini, "default", "region"), "r");
    acmpca__ini_free(ini);
    free(big);
}

static void test_load(void)
{
    acmpca_ini *ini = NULL;

    /* A missing file is an empty one. */
    CHECK_INT(acmpca__ini_load(&ini, "/nonexistent/config", 1), 0);
    REQUIRE(ini);
    CHECK(!acmpca__ini_has_profile(ini, "default"));
    acmpca__ini_free(ini);
    ini = NULL;

    /* A directory is a configuration error that names it. */
    CHECK_INT(acmpca__ini_load(&ini, "/tmp", 1), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "/tmp");
    CHECK(ini == NULL);

    CHECK_INT(acmpca__ini_load(&ini, temp_file("[x]\naws_access_key_id = k\n"), 0), 0);
    CHECK_STR(acmpca__ini_get(ini, "x", "aws_access_key_id"), "k");
    acmpca__ini_free(ini);
    acmpca__ini_free(NULL);
}

static void test_paths(void)
{
    char *p;
    const char *old_home = getenv("HOME");
    char *saved = old_home ? strdup(old_home) : NULL;

    setenv("HOME", "/home/tester", 1);
    setenv("AWS_CONFIG_FILE", "~/custom/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/abs/credentials", 1);
    CHECK_STR(p = acmpca__config_file_path(), "/home/tester/custom/config");
    free(p);
    CHECK_STR(p = acmpca__credentials_file_path(), "/abs/credentials");
    free(p);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    CHECK_STR(p = acmpca__config_file_path(), "/home/tester/.aws/config");
    free(p);
    CHECK_STR(p = acmpca__credentials_file_path(), "/home/tester/.aws/credentials");
    free(p);
    /* "~user" is not ours to expand. */
    setenv("AWS_CONFIG_FILE", "~other/config", 1);
    CHECK_STR(p = acmpca__config_file_path(), "~other/config");
    free(p);

    if (saved) {
        setenv("HOME", saved, 1);
        free(saved);
    } else {
        unsetenv("HOME");
    }
    clear_env();
}

/* ---- resolution ------------------------------------------------------------ */

static const char *config_text =
    "[default]\n"
    "region = cfg-default-region\n"
    "endpoint_url = http://127.0.0.1:9001\n"
    "use_fips_endpoint = true\n"
    "use_dualstack_endpoint = TRUE\n"
    "ca_bundle = /cfg/ca.pem\n"
    "[profile dev]\n"
    "region = cfg-dev-region\n"
    "[profile svc]\n"
    "services = local\n"
    "endpoint_url = http://127.0.0.1:9002\n"
    "[profile svc-other]\n"
    "services = other\n"
    "endpoint_url = http://127.0.0.1:9003\n"
    "[profile svc-missing]\n"
    "services = nowhere\n"
    "[profile badbool]\n"
    "use_fips_endpoint = yes\n"
    "[profile ignore]\n"
    "endpoint_url = http://127.0.0.1:9004\n"
    "ignore_configured_endpoint_urls = true\n"
    "[services local]\n"
    "acm_pca =\n"
    "  endpoint_url = http://127.0.0.1:9005\n"
    "s3 =\n"
    "  endpoint_url = http://127.0.0.1:9006\n"
    "[services other]\n"
    "s3 =\n"
    "  endpoint_url = http://127.0.0.1:9007\n";

static const char *credentials_text =
    "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n"
    "[credsonly]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n";

static const char *cfg_path, *cred_path;

static void use_files(void)
{
    clear_env();
    setenv("AWS_CONFIG_FILE", cfg_path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
}

static int resolve(acmpca_config *cfg, const acmpca_client_options *o)
{
    int rc = acmpca__config_resolve(cfg, o);
    if (rc == 0) {
        REQUIRE(cfg->profile);
        REQUIRE(cfg->config_file && cfg->credentials_file);
    }
    return rc;
}

static void test_resolve_profile(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;

    use_files();
    CHECK_INT(resolve(&cfg, NULL), 0);
    CHECK_STR(cfg.profile, "default");
    CHECK_STR(cfg.config_path, cfg_path);
    CHECK_STR(cfg.credentials_path, cred_path);
    acmpca__config_clear(&cfg);
    acmpca__config_clear(&cfg); /* twice is harmless */

    setenv("AWS_PROFILE", "dev", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.profile, "dev");
    CHECK_STR(cfg.region, "cfg-dev-region");
    acmpca__config_clear(&cfg);

    o.profile = "svc";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.profile, "svc");
    acmpca__config_clear(&cfg);

    /* A profile only in the credentials file exists. */
    o.profile = "credsonly";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.profile, "credsonly");
    CHECK(cfg.region == NULL);
    acmpca__config_clear(&cfg);
}

static void test_resolve_missing_profile(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;
    char expected[512];

    use_files();
    o.profile = "nope";
    CHECK_INT(resolve(&cfg, &o), ACMPCA_EPROFILE);
    snprintf(expected, sizeof(expected), "profile \"nope\" not found in %s or %s", cfg_path,
             cred_path);
    CHECK_STR(acmpca_error_last()->message, expected);
    CHECK(cfg.profile == NULL);

    o.profile = NULL;
    setenv("AWS_PROFILE", "nope-env", 1);
    CHECK_INT(resolve(&cfg, &o), ACMPCA_EPROFILE);
    CHECK_CONTAINS(acmpca_error_last()->message, "profile \"nope-env\" not found in ");

    /* "[plain]" style sections are not profiles in the config file. */
    setenv("AWS_PROFILE", "local", 1);
    CHECK_INT(resolve(&cfg, &o), ACMPCA_EPROFILE);

    /* "default" may be missing, even when named. */
    clear_env();
    setenv("AWS_PROFILE", "default", 1);
    CHECK_INT(resolve(&cfg, NULL), 0);
    CHECK_STR(cfg.profile, "default");
    CHECK(cfg.region == NULL);
    acmpca__config_clear(&cfg);
}

static void test_resolve_region(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;

    use_files();
    o.region = "opt-region";
    setenv("AWS_REGION", "env-region", 1);
    setenv("AWS_DEFAULT_REGION", "env-default-region", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.region, "opt-region");
    acmpca__config_clear(&cfg);

    o.region = NULL;
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.region, "env-region");
    acmpca__config_clear(&cfg);

    unsetenv("AWS_REGION");
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.region, "env-default-region");
    acmpca__config_clear(&cfg);

    unsetenv("AWS_DEFAULT_REGION");
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.region, "cfg-default-region");
    acmpca__config_clear(&cfg);

    /* Empty values count as unset. */
    o.region = "";
    setenv("AWS_REGION", "", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.region, "cfg-default-region");
    acmpca__config_clear(&cfg);

    clear_env();
    CHECK_INT(resolve(&cfg, NULL), 0);
    CHECK(cfg.region == NULL);
    acmpca__config_clear(&cfg);
}

static void test_resolve_endpoint(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;

    use_files();
    o.endpoint_url = "http://127.0.0.1:1";
    setenv("AWS_ENDPOINT_URL_ACM_PCA", "http://127.0.0.1:2", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:1");
    acmpca__config_clear(&cfg);

    o.endpoint_url = NULL;
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:2");
    acmpca__config_clear(&cfg);

    unsetenv("AWS_ENDPOINT_URL_ACM_PCA");
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:3");
    acmpca__config_clear(&cfg);

    unsetenv("AWS_ENDPOINT_URL");
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:9001");
    acmpca__config_clear(&cfg);

    /* The profile's services section beats its endpoint_url... */
    o.profile = "svc";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:9005");
    acmpca__config_clear(&cfg);

    /* ...when it has an acm_pca entry. */
    o.profile = "svc-other";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:9003");
    acmpca__config_clear(&cfg);

    o.profile = "svc-missing";
    CHECK_INT(resolve(&cfg, &o), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "\"nowhere\"");

    /* ignore_configured_endpoint_urls drops env and file values, not the option. */
    o.profile = "ignore";
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK(cfg.endpoint_url == NULL);
    acmpca__config_clear(&cfg);
    o.endpoint_url = "http://127.0.0.1:1";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:1");
    acmpca__config_clear(&cfg);
    o.endpoint_url = NULL;
    o.profile = NULL;
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK(cfg.endpoint_url == NULL);
    acmpca__config_clear(&cfg);
}

/* The same precedence for use_fips / use_dualstack. */
static void check_bool_setting(const char *env, int is_fips)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;
    int *opt = is_fips ? &o.use_fips : &o.use_dualstack;
#define VALUE(c) (is_fips ? (c).use_fips : (c).use_dualstack)

    use_files();
    /* Option beats the environment, in both directions. */
    *opt = ACMPCA_ENABLED;
    setenv(env, "false", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 1);
    acmpca__config_clear(&cfg);
    *opt = ACMPCA_DISABLED;
    setenv(env, "true", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 0);
    acmpca__config_clear(&cfg);

    /* Environment (any case) beats the profile. */
    *opt = ACMPCA_DEFAULT;
    setenv(env, "False", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 0);
    acmpca__config_clear(&cfg);
    o.profile = "dev";
    setenv(env, "TRUE", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 1);
    acmpca__config_clear(&cfg);

    /* Profile value, then off. */
    unsetenv(env);
    o.profile = NULL;
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 1);
    acmpca__config_clear(&cfg);
    o.profile = "dev";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_INT(VALUE(cfg), 0);
    acmpca__config_clear(&cfg);

    /* A bad value names the variable and the expected values. */
    setenv(env, "yes", 1);
    CHECK_INT(resolve(&cfg, &o), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, env);
    CHECK_CONTAINS(acmpca_error_last()->message, "\"yes\"");
    CHECK_CONTAINS(acmpca_error_last()->message, "expected \"true\" or \"false\"");
    setenv(env, "1", 1);
    CHECK_INT(resolve(&cfg, &o), ACMPCA_ECONFIG);
    /* A valid option means the variable is never looked at. */
    *opt = ACMPCA_ENABLED;
    CHECK_INT(resolve(&cfg, &o), 0);
    acmpca__config_clear(&cfg);
#undef VALUE
}

static void test_resolve_booleans(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;

    check_bool_setting("AWS_USE_FIPS_ENDPOINT", 1);
    check_bool_setting("AWS_USE_DUALSTACK_ENDPOINT", 0);

    /* A bad value in the profile names the key, the profile and the file. */
    use_files();
    o.profile = "badbool";
    CHECK_INT(resolve(&cfg, &o), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "use_fips_endpoint");
    CHECK_CONTAINS(acmpca_error_last()->message, "\"badbool\"");
    CHECK_CONTAINS(acmpca_error_last()->message, cfg_path);
    CHECK_CONTAINS(acmpca_error_last()->message, "expected \"true\" or \"false\"");

    /* Nothing anywhere: off. */
    clear_env();
    CHECK_INT(resolve(&cfg, NULL), 0);
    CHECK_INT(cfg.use_fips, 0);
    CHECK_INT(cfg.use_dualstack, 0);
    acmpca__config_clear(&cfg);
}

static void test_resolve_ca_bundle(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_config cfg;

    use_files();
    o.ca_bundle = "/opt/ca.pem";
    setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.ca_bundle, "/opt/ca.pem");
    acmpca__config_clear(&cfg);
    o.ca_bundle = NULL;
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.ca_bundle, "/env/ca.pem");
    acmpca__config_clear(&cfg);
    unsetenv("AWS_CA_BUNDLE");
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK_STR(cfg.ca_bundle, "/cfg/ca.pem");
    CHECK_STR(acmpca__config_get(&cfg, "ca_bundle"), "/cfg/ca.pem");
    acmpca__config_clear(&cfg);
    o.profile = "dev";
    CHECK_INT(resolve(&cfg, &o), 0);
    CHECK(cfg.ca_bundle == NULL);
    acmpca__config_clear(&cfg);
}

static void test_resolve_file_errors(void)
{
    acmpca_config cfg;
    char *big = malloc(MIB + 10);
    const char *path;

    REQUIRE(big);
    clear_env();
    setenv("AWS_CONFIG_FILE", "/tmp", 1);
    CHECK_INT(resolve(&cfg, NULL), ACMPCA_ECONFIG);
    CHECK_CONTAINS(acmpca_error_last()->message, "/tmp");

    memset(big, '\n', MIB + 10);
    path = temp_file_n(big, MIB + 10);
    free(big);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    CHECK_INT(resolve(&cfg, NULL), ACMPCA_ELIMIT);
    CHECK_CONTAINS(acmpca_error_last()->message, path);
    clear_env();
}

int main(void)
{
    clear_env();
    test_comments();
    test_whitespace();
    test_section_names();
    test_keys_case_insensitive();
    test_subsections();
    test_malformed();
    test_duplicates();
    test_limits();
    test_load();
    test_paths();

    cfg_path = temp_file(config_text);
    cred_path = temp_file(credentials_text);
    test_resolve_profile();
    test_resolve_missing_profile();
    test_resolve_region();
    test_resolve_endpoint();
    test_resolve_booleans();
    test_resolve_ca_bundle();
    test_resolve_file_errors();

    remove_temp_files();
    return CHECK_DONE();
}
