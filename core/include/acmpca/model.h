/*
 * acmpca/model.h - the ACM PCA API model as read-only static data.
 *
 * The bindings walk these tables to convert native values (which member is a
 * list, a blob, a timestamp) so that no layer re-implements shape knowledge.
 * Everything here is static: never free it.
 */
#ifndef ACMPCA_MODEL_H
#define ACMPCA_MODEL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum acmpca_shape_type {
    ACMPCA_SHAPE_STRUCTURE,
    ACMPCA_SHAPE_LIST,
    ACMPCA_SHAPE_MAP,
    ACMPCA_SHAPE_STRING,
    ACMPCA_SHAPE_BLOB,       /* PEM text in; base64 on the wire */
    ACMPCA_SHAPE_INTEGER,
    ACMPCA_SHAPE_LONG,
    ACMPCA_SHAPE_BOOLEAN,
    ACMPCA_SHAPE_TIMESTAMP   /* seconds since the epoch (may be fractional) */
} acmpca_shape_type;

typedef struct acmpca_shape acmpca_shape;

typedef struct acmpca_member {
    const char *name;            /* wire name, e.g. "CertificateAuthorityArn" */
    const acmpca_shape *shape;
    unsigned required : 1;
    unsigned idempotency_token : 1;
} acmpca_member;

struct acmpca_shape {
    const char *name;            /* model name, e.g. "IssueCertificateRequest" */
    acmpca_shape_type type;
    unsigned has_min : 1;
    unsigned has_max : 1;
    int64_t min;                 /* length for strings, blobs and lists; value for numbers */
    int64_t max;
    const char *pattern;         /* informational; not enforced (NULL if none) */
    const char *const *enum_values;  /* known values; others are accepted */
    size_t enum_count;
    const acmpca_member *members;    /* structure members, in model order */
    size_t member_count;
    const acmpca_shape *element;     /* list element, map value */
    const acmpca_shape *key;         /* map key */
};

typedef struct acmpca_operation_info {
    int id;                      /* an acmpca_operation (see operations.h) */
    const char *name;            /* "IssueCertificate" */
    const char *snake_name;      /* "issue_certificate" */
    const acmpca_shape *input;   /* never NULL */
    const acmpca_shape *output;  /* NULL when the operation returns nothing */
    const int *errors;           /* modelled error codes (ACMPCA_E_*) */
    size_t error_count;
    unsigned idempotent : 1;
} acmpca_operation_info;

/* Number of operations (23). */
ACMPCA_API size_t acmpca_model_operation_count(void);
/* Operation by index 0..count-1 (also its acmpca_operation id), or NULL. */
ACMPCA_API const acmpca_operation_info *acmpca_model_operation(size_t index);
/* Operation by API name ("IssueCertificate") or snake name, or NULL. */
ACMPCA_API const acmpca_operation_info *acmpca_model_operation_find(const char *name);
/* A structure's member by wire name, or NULL. */
ACMPCA_API const acmpca_member *acmpca_model_member(const acmpca_shape *shape, const char *name);
/* 1 if `code` is in the operation's modelled error list. */
ACMPCA_API int acmpca_model_operation_has_error(const acmpca_operation_info *op, int code);
/* "structure", "list", ... for messages. */
ACMPCA_API const char *acmpca_model_type_name(acmpca_shape_type type);

#ifdef __cplusplus
}
#endif
#endif
