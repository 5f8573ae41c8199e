/*
 * acmpca/model.h - the ACM PCA API model as read-only static data.
 *
 * The core's validator is the one walk of values against these tables: the
 * bindings convert native values by type and tag what JSON cannot tell apart
 * (below), so that no layer re-implements shape knowledge. The tables also
 * drive the bindings' method lists and docs. Everything here is static:
 * never free it.
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

/*
 * Host values in cJSON trees. A binding converts its native values to cJSON
 * without the model (dict -> object, list -> array, str, numbers, booleans)
 * and tags, in the spare bits of cJSON's `type` above cJSON_StringIsConst,
 * what JSON cannot tell apart; the core then checks every value against the
 * model with the member's full path, so no binding walks the model.
 *
 * Inputs (set by a binding):
 *   ACMPCA_TAG_BLOB       on a string: raw bytes (Python bytes). Only a blob
 *                         member takes it (a blob member also takes a plain
 *                         string); anywhere else it is refused as "bytes".
 *   ACMPCA_TAG_TIMESTAMP  on a number: seconds since the epoch from a host
 *                         date/time. Only a timestamp member takes it (which
 *                         also takes a plain number or ISO-8601 text).
 *   ACMPCA_TAG_INVALID    on a string: a host value with no JSON counterpart;
 *                         valuestring describes it ("set", "str with a NUL
 *                         character") and every member refuses it with
 *                         "<path>: expected <kind>, got <description>".
 *   ACMPCA_TAG_EMPTY      on an empty object: a host container that cannot
 *                         say whether it is a list or an object (Lua's {}):
 *                         taken as either.
 * Outputs (set by the core on parsed results, acmpca_parse_response and
 * every call): blob members (decoded) carry ACMPCA_TAG_BLOB and timestamp
 * members ACMPCA_TAG_TIMESTAMP, so a binding converts them without the model.
 *
 * cJSON's own functions ignore these bits (they test `type & 0xFF`);
 * cJSON_Duplicate keeps them.
 */
#define ACMPCA_TAG_BLOB      (1 << 10)
#define ACMPCA_TAG_TIMESTAMP (1 << 11)
#define ACMPCA_TAG_INVALID   (1 << 12)
#define ACMPCA_TAG_EMPTY     (1 << 13)

/* Containers (objects and lists) nested deeper than this are refused, in inputs and outputs. */
#define ACMPCA_MAX_DEPTH 32

struct cJSON;

/*
 * Check `output` (a result as a caller would build it, e.g. a stubbed
 * response, tagged as above) against the operation's output shape with the
 * same rules and messages as inputs: ACMPCA_EPARAM "<path>: <what is wrong>".
 * An operation without output takes only an empty object (or NULL).
 */
ACMPCA_API int acmpca_output_validate(const acmpca_operation_info *op, const struct cJSON *output);

/*
 * Bring a parsed success body of `op` (JSON as the service sends it) into
 * the documented output form in place, as every call's result already is:
 * blob members base64-decoded and tagged ACMPCA_TAG_BLOB, timestamp members
 * tagged ACMPCA_TAG_TIMESTAMP. Unknown members are kept untouched. 0, or
 * ACMPCA_EBADRESPONSE naming the path of a blob that is not base64 text.
 */
ACMPCA_API int acmpca_output_annotate(const acmpca_operation_info *op, struct cJSON *output);

/*
 * The usual success body read without a cJSON tree, for a binding that makes
 * its own values (the Python module's dict): an object of `op`'s output
 * members (none a blob: those the parse decodes), each a JSON string without
 * \u escapes or raw control bytes, with nothing after it. `member` gets each
 * member in the body's order: the model's member, the decoded value
 * (NUL-terminated, cut at a NUL as cJSON cuts it, allocated with cJSON_malloc
 * and the callee's to keep or to cJSON_free) and its length; it returns 0 to
 * go on, > 0 to give up, < 0 to stop with that error.
 * 1: the whole body was read, and what `member` made is what the core's
 * parse (acmpca_output_annotate included) would give. 0: the body is
 * anything else, or `member` gave up: discard what it made and let the core
 * parse the body, which decides. Negative: the error, ACMPCA_ENOMEM.
 */
typedef int (*acmpca_flat_member_fn)(void *userdata, const acmpca_member *member, char *value,
                                     size_t len);
ACMPCA_API int acmpca_output_read_flat(const acmpca_operation_info *op, const char *body,
                                       size_t len, acmpca_flat_member_fn member, void *userdata);

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
