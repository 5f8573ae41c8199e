/*
 * acmpca/sign.h - AWS Signature Version 4, usable without a client.
 *
 * Signs any HTTP request, either with an Authorization header or as a
 * presigned URL (query signing). The Lua binding uses it to build requests
 * that OpenResty sends on its own non-blocking sockets.
 */
#ifndef ACMPCA_SIGN_H
#define ACMPCA_SIGN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_header {
    const char *name;
    const char *value;
} acmpca_header;

/* Flags for acmpca_sign_input.flags. */
#define ACMPCA_SIGN_QUERY               0x01u /* presigned URL instead of headers */
#define ACMPCA_SIGN_NO_PATH_NORMALIZE   0x02u /* keep "." and ".." segments, double slashes */
#define ACMPCA_SIGN_CONTENT_SHA256      0x04u /* add and sign X-Amz-Content-Sha256 */
#define ACMPCA_SIGN_UNSIGNED_TOKEN      0x08u /* add the session token after signing */

typedef struct acmpca_sign_input {
    const char *method;            /* "POST" */
    const char *url;               /* "https://host[:port]/path?query" */
    const acmpca_header *headers;  /* request headers (Host is taken from url if absent) */
    size_t header_count;
    const void *body;              /* may be NULL when body_sha256_hex is given */
    size_t body_len;
    const char *body_sha256_hex;   /* precomputed payload hash, or NULL */
    const char *region;            /* "us-east-1" */
    const char *service;           /* "acm-pca" */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;     /* NULL when none */
    int64_t timestamp;             /* seconds since the epoch (UTC) */
    unsigned expires_s;            /* query signing only; 0 means 3600 */
    unsigned flags;
} acmpca_sign_input;

/*
 * The result. Header signing: `headers` holds what to add to the request
 * (Host when it was absent, X-Amz-Date, X-Amz-Security-Token,
 * X-Amz-Content-Sha256 when asked, Authorization) and `url` is the input URL.
 * Query signing: `url` is the presigned URL and `headers` holds only Host when
 * it was absent. The intermediate strings are kept for debugging and tests.
 * The canonical request holds the session token when it is signed, and the
 * header values and URL may hold it or the signature: acmpca_signed_free()
 * wipes them all.
 */
typedef struct acmpca_signed {
    acmpca_header *headers;
    size_t header_count;
    char *url;
    char *canonical_request;
    char *string_to_sign;
    char signature[65];
} acmpca_signed;

/* A cache of derived signing keys, safe to share between threads. */
typedef struct acmpca_sign_cache acmpca_sign_cache;

ACMPCA_API int acmpca_sign_cache_new(acmpca_sign_cache **out);
/* Wipes the cached keys. NULL is a no-op. */
ACMPCA_API void acmpca_sign_cache_free(acmpca_sign_cache *cache);

/*
 * Sign `in`. `cache` may be NULL (the key is then derived every time).
 * On success *out is caller-owned: free it with acmpca_signed_free().
 * Fails with ACMPCA_EINVAL for a header name that is not an HTTP token, a
 * header value holding a control character other than TAB, or a session
 * token holding any: a CR or LF would start a header nobody signed, so
 * folded lines are refused too. The message names the header, never its
 * value.
 */
ACMPCA_API int acmpca_sign(acmpca_signed **out, const acmpca_sign_input *in,
                           acmpca_sign_cache *cache);
ACMPCA_API void acmpca_signed_free(acmpca_signed *s);

#ifdef __cplusplus
}
#endif
#endif
