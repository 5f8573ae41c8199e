/*
 * acmpca/endpoint.h - endpoint resolution for the acm-pca service: region to
 * URL across the AWS partitions, FIPS, dual-stack and custom endpoints.
 */
#ifndef ACMPCA_ENDPOINT_H
#define ACMPCA_ENDPOINT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_endpoint_params {
    const char *region;     /* may be NULL when endpoint is set */
    int use_fips;           /* 0 or 1 */
    int use_dualstack;      /* 0 or 1 */
    const char *endpoint;   /* custom endpoint URL, or NULL */
} acmpca_endpoint_params;

/*
 * Resolve the endpoint URL. On success *out is a caller-owned string
 * (free()). On failure returns ACMPCA_EENDPOINT with the rule's message, e.g.
 * "Invalid Configuration: FIPS and custom endpoint are not supported";
 * ACMPCA_ENOREGION when neither a region nor an endpoint is given, and
 * ACMPCA_EREGION for a region that is not a valid host label.
 */
ACMPCA_API int acmpca_endpoint_resolve(char **out, const acmpca_endpoint_params *params);

/*
 * The AWS partitions the endpoint rules know ("aws", "aws-cn", ...), in the
 * order of the SDKs' partitions.json: the i-th name, NULL past the last.
 */
ACMPCA_API const char *acmpca_endpoint_partition(size_t i);

/* Where acm-pca is offered (the SDKs' endpoints.json, vendored in core/model). */
typedef struct acmpca_region_info {
    const char *partition;  /* one of acmpca_endpoint_partition()'s names */
    const char *region;     /* "eu-west-1"; or an endpoint name, e.g. "fips-us-east-1" */
    int non_regional;       /* 1: not a region of the partition (botocore's non-regional) */
} acmpca_region_info;

/* Every endpoint name of acm-pca, by partition, sorted within each (a static table). */
ACMPCA_API const acmpca_region_info *acmpca_endpoint_regions(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
