/*
 * endpoint.c - endpoint resolution for acm-pca: a hand-written equivalent of
 * the service's endpoint rule set (endpoint-rule-set-1.json) together with
 * the aws.partition function and the partition table it consults.
 *
 * The rule set is small enough that a generic rules engine would be far more
 * code than the rules themselves; tests/c/test_endpoint.c runs every case of
 * endpoint-tests-1.json against this file to keep the two equivalent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * The AWS partitions, from the public partitions.json (version 1.1) of the
 * AWS SDKs. `prefixes` stands in for `regionRegex`: every regex there has the
 * form ^PREFIX\w+\-\d+$ with a few literal alternatives for PREFIX, so a
 * region matches when it starts with one of the prefixes and the rest is
 * region_tail_matches(). `global` is the one region listed by name that the
 * regex does not cover; every other listed region matches its own
 * partition's regex and no other's, so the list adds nothing beyond it.
 */
typedef struct partition {
    const char *name;
    const char *const *prefixes; /* NULL-terminated */
    const char *global;          /* NULL when none */
    const char *dns_suffix;
    const char *dualstack_dns_suffix;
    int supports_fips;
    int supports_dualstack;
} partition;

static const char *const aws_prefixes[] = {
    "us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-", NULL
};
static const char *const aws_cn_prefixes[] = { "cn-", NULL };
static const char *const aws_us_gov_prefixes[] = { "us-gov-", NULL };
static const char *const aws_iso_prefixes[] = { "us-iso-", NULL };
static const char *const aws_iso_b_prefixes[] = { "us-isob-", NULL };
static const char *const aws_iso_e_prefixes[] = { "eu-isoe-", NULL };
static const char *const aws_iso_f_prefixes[] = { "us-isof-", NULL };
static const char *const aws_eusc_prefixes[] = { "eusc-de-", NULL };

/* The first entry is the default for regions no partition claims. */
static const partition partitions[] = {
    { "aws", aws_prefixes, "aws-global",
      "amazonaws.com", "api.aws", 1, 1 },
    { "aws-cn", aws_cn_prefixes, "aws-cn-global",
      "amazonaws.com.cn", "api.amazonwebservices.com.cn", 1, 1 },
    { "aws-us-gov", aws_us_gov_prefixes, "aws-us-gov-global",
      "amazonaws.com", "api.aws", 1, 1 },
    { "aws-iso", aws_iso_prefixes, "aws-iso-global",
      "c2s.ic.gov", "api.aws.ic.gov", 1, 1 },
    { "aws-iso-b", aws_iso_b_prefixes, "aws-iso-b-global",
      "sc2s.sgov.gov", "api.aws.scloud", 1, 1 },
    { "aws-iso-e", aws_iso_e_prefixes, "aws-iso-e-global",
      "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", 1, 1 },
    { "aws-iso-f", aws_iso_f_prefixes, "aws-iso-f-global",
      "csp.hci.ic.gov", "api.aws.hci.ic.gov", 1, 1 },
    { "aws-eusc", aws_eusc_prefixes, NULL,
      "amazonaws.eu", "api.amazonwebservices.eu", 1, 1 },
};

#define PARTITION_COUNT (sizeof partitions / sizeof partitions[0])

const char *acmpca_endpoint_partition(size_t i)
{
    return i < PARTITION_COUNT ? partitions[i].name : NULL;
}

/* ASCII only: the <ctype.h> classes depend on the locale. */
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* \w as the partition regexes mean it (ECMAScript): [A-Za-z0-9_]. */
static int is_word(char c)
{
    return is_alnum(c) || c == '_';
}

/* The \w+\-\d+$ that ends every regionRegex. \w excludes '-', so the split
 * at the first '-' is the only one possible. */
static int region_tail_matches(const char *s)
{
    const char *p = s;

    while (is_word(*p))
        p++;
    if (p == s || *p != '-')
        return 0;
    s = ++p;
    while (is_digit(*p))
        p++;
    return p != s && *p == '\0';
}

static int partition_matches(const partition *part, const char *region)
{
    for (const char *const *pre = part->prefixes; *pre; pre++) {
        size_t n = strlen(*pre);
        if (strncmp(region, *pre, n) == 0 && region_tail_matches(region + n))
            return 1;
    }
    return 0;
}

/* aws.partition: a region listed by name, then the regexes, then aws. */
static const partition *partition_for(const char *region)
{
    size_t i;

    for (i = 0; i < PARTITION_COUNT; i++)
        if (partitions[i].global && strcmp(region, partitions[i].global) == 0)
            return &partitions[i];
    for (i = 0; i < PARTITION_COUNT; i++)
        if (partition_matches(&partitions[i], region))
            return &partitions[i];
    return &partitions[0];
}

/*
 * isValidHostLabel(Region, false) of the Smithy rules library:
 * [A-Za-z0-9][A-Za-z0-9-]{0,62}. The acm-pca rule set does not apply it, but
 * the region goes straight into the URL's host, so a region such as
 * "us-east-1/evil" or "x.example.com#" must not be able to redirect requests.
 */
static int is_valid_host_label(const char *s)
{
    size_t n = 0;

    if (!is_alnum(s[0]))
        return 0;
    for (; s[n]; n++)
        if (n >= 63 || !(is_alnum(s[n]) || s[n] == '-'))
            return 0;
    return 1;
}

/* "https://" service "." region "." suffix, malloc'd. */
static int build_url(char **out, const char *service, const char *region,
                     const char *suffix)
{
    static const char fmt[] = "https://%s.%s.%s";
    int len = snprintf(NULL, 0, fmt, service, region, suffix);
    char *url;

    if (len < 0)
        return acmpca__error_set(ACMPCA_EENDPOINT, "cannot format the endpoint URL");
    url = malloc((size_t)len + 1);
    if (!url)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory building the endpoint URL");
    snprintf(url, (size_t)len + 1, fmt, service, region, suffix);
    *out = url;
    return 0;
}

int acmpca_endpoint_resolve(char **out, const acmpca_endpoint_params *params)
{
    const partition *part;
    const char *service, *suffix;
    char *url = NULL;
    int fips, dualstack, rc = 0;

    if (out)
        *out = NULL;
    if (!out || !params) {
        rc = acmpca__error_set(ACMPCA_EINVAL, "acmpca_endpoint_resolve: %s is NULL",
                               out ? "params" : "out");
        goto done;
    }
    fips = params->use_fips != 0;
    dualstack = params->use_dualstack != 0;

    /* A custom endpoint wins over the region and is used as given. */
    if (params->endpoint) {
        if (fips)
            rc = acmpca__error_set(ACMPCA_EENDPOINT, "%s",
                                   "Invalid Configuration: FIPS and custom endpoint are not supported");
        else if (dualstack)
            rc = acmpca__error_set(ACMPCA_EENDPOINT, "%s",
                                   "Invalid Configuration: Dualstack and custom endpoint are not supported");
        else if (!(url = acmpca__strdup(params->endpoint)))
            rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory copying the endpoint URL");
        goto done;
    }

    if (!params->region) {
        rc = acmpca__error_set(ACMPCA_ENOREGION, "%s", "Invalid Configuration: Missing Region");
        goto done;
    }
    if (!is_valid_host_label(params->region)) {
        rc = acmpca__error_set(ACMPCA_EREGION, "%s",
                               "Invalid region: region was not a valid DNS name.");
        acmpca__error_set_subject(params->region);
        goto done;
    }

    part = partition_for(params->region);
    service = fips ? "acm-pca-fips" : "acm-pca";
    suffix = dualstack ? part->dualstack_dns_suffix : part->dns_suffix;
    if (fips && dualstack) {
        if (!part->supports_fips || !part->supports_dualstack) {
            rc = acmpca__error_set(ACMPCA_EENDPOINT, "%s",
                                   "FIPS and DualStack are enabled, but this partition does not support one or both");
            goto done;
        }
    } else if (fips) {
        if (!part->supports_fips) {
            rc = acmpca__error_set(ACMPCA_EENDPOINT, "%s",
                                   "FIPS is enabled but this partition does not support FIPS");
            goto done;
        }
        /* The rules send FIPS requests in GovCloud to the plain regional
         * host (its endpoints are FIPS-validated), not to acm-pca-fips. */
        if (strcmp(part->name, "aws-us-gov") == 0) {
            service = "acm-pca";
            suffix = "amazonaws.com";
        }
    } else if (dualstack && !part->supports_dualstack) {
        rc = acmpca__error_set(ACMPCA_EENDPOINT, "%s",
                               "DualStack is enabled but this partition does not support DualStack");
        goto done;
    }
    rc = build_url(&url, service, params->region, suffix);

done:
    if (rc == 0)
        *out = url;
    else
        free(url);
    return rc;
}
