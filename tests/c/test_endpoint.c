/*
 * test_endpoint.c - runs one case of the service's endpoint-tests-1.json
 * against acmpca_endpoint_resolve(), or the extra unit checks.
 *
 *   test_endpoint FILE INDEX     case INDEX of FILE's testCases
 *   test_endpoint FILE --unit    checks the fixture cases do not cover
 *   test_endpoint --unit         the same, without a file
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acmpca.h"
#include "check.h"

#define MAX_FIXTURE_BYTES (4L * 1024 * 1024)

/* What *out holds before a call, to see that a failure resets it to NULL. */
static char unset_marker[] = "(unset)";

/* The whole file, NUL-terminated; NULL on any failure (reported). */
static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > MAX_FIXTURE_BYTES ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot size %s (or larger than %ld bytes)\n", path, MAX_FIXTURE_BYTES);
        goto done;
    }
    text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        free(text);
        text = NULL;
        goto done;
    }
    text[size] = '\0';
    *len_out = (size_t)size;
done:
    fclose(f);
    return text;
}

/* One resolution; `url` receives the result or NULL. */
static int resolve(char **url, const char *region, int fips, int dualstack,
                   const char *endpoint)
{
    acmpca_endpoint_params p;

    p.region = region;
    p.use_fips = fips;
    p.use_dualstack = dualstack;
    p.endpoint = endpoint;
    return acmpca_endpoint_resolve(url, &p);
}

#define EXPECT_URL(want, region, fips, dualstack, endpoint) do { \
    char *got_ = unset_marker; \
    int rc_ = resolve(&got_, (region), (fips), (dualstack), (endpoint)); \
    CHECK_INT(rc_, 0); \
    if (rc_ != 0) \
        fprintf(stderr, "  error: %s\n", acmpca_error_last()->message); \
    CHECK_STR(got_, (want)); \
    if (rc_ == 0) \
        free(got_); \
    } while (0)

#define EXPECT_ERROR(want_code, want_message, region, fips, dualstack, endpoint) do { \
    char *got_ = unset_marker; \
    int rc_ = resolve(&got_, (region), (fips), (dualstack), (endpoint)); \
    CHECK_INT(rc_, (want_code)); \
    CHECK(got_ == NULL); \
    if (rc_ == 0) \
        free(got_); \
    CHECK_INT(acmpca_error_last()->code, (want_code)); \
    CHECK_STR(acmpca_error_last()->message, (want_message)); \
    } while (0)

static int run_unit(void)
{
    static const char bad_region[] = "Invalid region: region was not a valid DNS name.";
    acmpca_endpoint_params p = { "us-east-1", 0, 0, NULL };
    char *url = unset_marker;
    char label[80];

    /* NULL arguments. */
    CHECK_INT(acmpca_endpoint_resolve(&url, NULL), ACMPCA_EINVAL);
    CHECK(url == NULL);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EINVAL);
    CHECK_INT(acmpca_endpoint_resolve(NULL, &p), ACMPCA_EINVAL);
    CHECK_INT(acmpca_endpoint_resolve(NULL, NULL), ACMPCA_EINVAL);

    /* A region that is not one host label cannot reach the URL. */
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "us-east-1/evil", 0, 0, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "evil.example.com#", 0, 0, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "us-east-1.", 1, 0, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "us east 1", 0, 1, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "-us-east-1", 0, 0, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "us_east_1", 0, 0, NULL);
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, "", 0, 0, NULL);
    memset(label, 'a', 64);
    label[64] = '\0';
    EXPECT_ERROR(ACMPCA_EREGION, bad_region, label, 0, 0, NULL);
    label[63] = '\0';
    {
        char want[128];
        snprintf(want, sizeof want, "https://acm-pca.%s.amazonaws.com", label);
        EXPECT_URL(want, label, 0, 0, NULL);
    }

    /* The custom endpoint is checked before the region, so it needs none,
     * and a bad region does not matter when it is set. */
    EXPECT_ERROR(ACMPCA_EENDPOINT,
                 "Invalid Configuration: FIPS and custom endpoint are not supported",
                 NULL, 1, 1, "https://example.com");
    EXPECT_URL("https://localhost:4566", "us-east-1/evil", 0, 0, "https://localhost:4566");
    /* Missing region wins over FIPS and dual-stack. */
    EXPECT_ERROR(ACMPCA_ENOREGION, "Invalid Configuration: Missing Region", NULL, 1, 1, NULL);
    /* A failure leaves *out NULL even when it held something. */
    url = unset_marker;
    CHECK_INT(resolve(&url, NULL, 0, 0, NULL), ACMPCA_ENOREGION);
    CHECK(url == NULL);

    /* Any non-zero flag counts as set. */
    EXPECT_URL("https://acm-pca-fips.us-east-1.api.aws", "us-east-1", 2, -1, NULL);

    /* Partitions the fixture does not reach. */
    EXPECT_URL("https://acm-pca.il-central-1.amazonaws.com", "il-central-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.mx-central-1.api.aws", "mx-central-1", 0, 1, NULL);
    EXPECT_URL("https://acm-pca.cn-northwest-1.api.amazonwebservices.com.cn",
               "cn-northwest-1", 0, 1, NULL);
    EXPECT_URL("https://acm-pca-fips.us-gov-west-1.api.aws", "us-gov-west-1", 1, 1, NULL);
    EXPECT_URL("https://acm-pca.us-iso-west-1.api.aws.ic.gov", "us-iso-west-1", 0, 1, NULL);
    EXPECT_URL("https://acm-pca-fips.us-isob-east-1.api.aws.scloud", "us-isob-east-1", 1, 1, NULL);
    EXPECT_URL("https://acm-pca.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca-fips.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", 1, 0, NULL);
    EXPECT_URL("https://acm-pca.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.us-isof-east-1.api.aws.hci.ic.gov", "us-isof-east-1", 0, 1, NULL);
    EXPECT_URL("https://acm-pca.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca-fips.eusc-de-east-1.api.amazonwebservices.eu",
               "eusc-de-east-1", 1, 1, NULL);

    /* Regions listed by name outside the regexes. */
    EXPECT_URL("https://acm-pca.aws-cn-global.amazonaws.com.cn", "aws-cn-global", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.aws-us-gov-global.amazonaws.com", "aws-us-gov-global", 1, 0, NULL);
    EXPECT_URL("https://acm-pca.aws-iso-b-global.sc2s.sgov.gov", "aws-iso-b-global", 0, 0, NULL);

    /* Unknown regions, and near misses of a regex, fall to aws: FIPS then
     * shows it is not the GovCloud rule that applied. */
    EXPECT_URL("https://acm-pca.xx-unknown-1.amazonaws.com", "xx-unknown-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca-fips.us-gov-west.amazonaws.com", "us-gov-west", 1, 0, NULL);
    EXPECT_URL("https://acm-pca-fips.us-gov-west-1a.amazonaws.com", "us-gov-west-1a", 1, 0, NULL);
    EXPECT_URL("https://acm-pca-fips.US-GOV-WEST-1.amazonaws.com", "US-GOV-WEST-1", 1, 0, NULL);
    EXPECT_URL("https://acm-pca.cn-north.amazonaws.com", "cn-north", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.cn--1.amazonaws.com", "cn--1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.us-isox-east-1.amazonaws.com", "us-isox-east-1", 0, 0, NULL);
    EXPECT_URL("https://acm-pca.eusc-fr-east-1.amazonaws.com", "eusc-fr-east-1", 0, 0, NULL);

    return CHECK_DONE();
}

/* Fill `p` from the case's params; 0 when every param is understood. */
static int map_params(acmpca_endpoint_params *p, const cJSON *params)
{
    const cJSON *item;

    memset(p, 0, sizeof *p);
    cJSON_ArrayForEach(item, params) {
        const char *key = item->string;
        if (strcmp(key, "Region") == 0 && cJSON_IsString(item)) {
            p->region = item->valuestring;
        } else if (strcmp(key, "Endpoint") == 0 && cJSON_IsString(item)) {
            p->endpoint = item->valuestring;
        } else if (strcmp(key, "UseFIPS") == 0 && cJSON_IsBool(item)) {
            p->use_fips = cJSON_IsTrue(item);
        } else if (strcmp(key, "UseDualStack") == 0 && cJSON_IsBool(item)) {
            p->use_dualstack = cJSON_IsTrue(item);
        } else {
            fprintf(stderr, "unsupported param \"%s\" (or wrong type)\n", key);
            return -1;
        }
    }
    return 0;
}

/* 0 when a cJSON object is absent or has no members. */
static int is_nonempty_object(const cJSON *obj)
{
    return cJSON_IsObject(obj) && obj->child != NULL;
}

static int run_case(const char *path, const char *index_arg)
{
    const cJSON *cases, *tc, *doc, *expect, *endpoint, *url, *error;
    acmpca_endpoint_params params;
    cJSON *root = NULL;
    char *text = NULL, *got = NULL, *endp;
    const char *parse_end = NULL;
    size_t len = 0;
    long index;
    int rc, failed = 1;

    index = strtol(index_arg, &endp, 10);
    if (endp == index_arg || *endp != '\0' || index < 0 || index > INT_MAX) {
        fprintf(stderr, "bad case index \"%s\"\n", index_arg);
        goto done;
    }
    text = read_file(path, &len);
    if (!text)
        goto done;
    root = cJSON_ParseWithLengthOpts(text, len, &parse_end, 0);
    if (!root) {
        fprintf(stderr, "%s: JSON error at byte %ld\n", path,
                parse_end ? (long)(parse_end - text) : -1L);
        goto done;
    }
    cases = cJSON_GetObjectItemCaseSensitive(root, "testCases");
    tc = cJSON_GetArrayItem(cases, (int)index);
    if (!cJSON_IsArray(cases) || !tc) {
        fprintf(stderr, "%s: no testCases[%ld]\n", path, index);
        goto done;
    }
    doc = cJSON_GetObjectItemCaseSensitive(tc, "documentation");
    expect = cJSON_GetObjectItemCaseSensitive(tc, "expect");
    endpoint = cJSON_GetObjectItemCaseSensitive(expect, "endpoint");
    url = cJSON_GetObjectItemCaseSensitive(endpoint, "url");
    error = cJSON_GetObjectItemCaseSensitive(expect, "error");

    /* Params absent means every parameter takes its default. */
    if (map_params(&params, cJSON_GetObjectItemCaseSensitive(tc, "params")) != 0) {
        fprintf(stderr, "case %ld: %s\n", index,
                cJSON_IsString(doc) ? doc->valuestring : "(no documentation)");
        goto done;
    }
    /* This resolver returns a URL only: a case that expects more cannot pass. */
    CHECK(!is_nonempty_object(cJSON_GetObjectItemCaseSensitive(endpoint, "headers")));
    CHECK(!is_nonempty_object(cJSON_GetObjectItemCaseSensitive(endpoint, "properties")));

    rc = acmpca_endpoint_resolve(&got, &params);
    if (cJSON_IsString(url)) {
        CHECK_INT(rc, 0);
        if (rc != 0)
            fprintf(stderr, "  error: %s\n", acmpca_error_last()->message);
        CHECK_STR(got, url->valuestring);
    } else if (cJSON_IsString(error)) {
        /* The rules' two region errors have codes of their own (botocore's classes). */
        int want = strcmp(error->valuestring, "Invalid Configuration: Missing Region") == 0
                       ? ACMPCA_ENOREGION
                   : strncmp(error->valuestring, "Invalid region", 14) == 0 ? ACMPCA_EREGION
                                                                            : ACMPCA_EENDPOINT;
        CHECK_INT(rc, want);
        CHECK(got == NULL);
        CHECK_INT(acmpca_error_last()->code, want);
        CHECK_STR(acmpca_error_last()->message, error->valuestring);
    } else {
        fprintf(stderr, "case %ld expects neither endpoint.url nor error\n", index);
        check_failures++;
    }
    failed = CHECK_DONE();
    if (failed)
        fprintf(stderr, "case %ld: %s\n  params: Region=%s UseFIPS=%d UseDualStack=%d "
                "Endpoint=%s\n", index, cJSON_IsString(doc) ? doc->valuestring : "(no documentation)",
                params.region ? params.region : "(unset)", params.use_fips,
                params.use_dualstack, params.endpoint ? params.endpoint : "(unset)");

done:
    free(got);
    cJSON_Delete(root);
    free(text);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--unit") == 0)
        return run_unit();
    if (argc == 3 && strcmp(argv[2], "--unit") == 0)
        return run_unit();
    if (argc == 3)
        return run_case(argv[1], argv[2]);
    fprintf(stderr, "usage: %s FILE INDEX | [FILE] --unit\n", argv[0]);
    return 2;
}
