/*
 * acmpca/credentials.h - AWS credentials and the providers that find them.
 *
 * A provider is a named fetch callback plus a cache: acmpca_credentials_get()
 * returns the cached credentials until they come within the refresh window of
 * their expiry, then fetches again. Providers are reference counted so that
 * several clients can share one cache, and are safe to use from many threads.
 */
#ifndef ACMPCA_CREDENTIALS_H
#define ACMPCA_CREDENTIALS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;     /* NULL when none */
    int64_t expiration;      /* seconds since the epoch; 0 = never expires */
    char *provider;          /* name of the provider that found them, e.g. "environment" */
} acmpca_credentials;

/* Copies every string. expiration 0 = never. provider may be NULL. */
ACMPCA_API int acmpca_credentials_new(acmpca_credentials **out, const char *access_key_id,
                                      const char *secret_access_key, const char *session_token,
                                      int64_t expiration, const char *provider);
/* Wipes the secret and the token, then frees. NULL is a no-op. */
ACMPCA_API void acmpca_credentials_free(acmpca_credentials *creds);

/*
 * A provider's fetch callback. Return 0 with *out set (caller-owned), or
 * ACMPCA_ENOCREDENTIALS when this source has nothing (a chain then tries the
 * next one; write a short reason into `why`, e.g. "AWS_ACCESS_KEY_ID not
 * set"), or any other negative code, with acmpca error detail set, for a
 * failure that must stop the chain.
 */
typedef int (*acmpca_credentials_fetch_fn)(void *ctx, acmpca_credentials **out,
                                           char *why, size_t why_len);

typedef struct acmpca_credentials_provider acmpca_credentials_provider;

/* A custom provider. `destroy` (may be NULL) is called with ctx on the last unref. */
ACMPCA_API int acmpca_credentials_provider_new(acmpca_credentials_provider **out,
                                               const char *name,
                                               acmpca_credentials_fetch_fn fetch,
                                               void (*destroy)(void *ctx), void *ctx);
/* Fixed keys. */
ACMPCA_API int acmpca_credentials_provider_static(acmpca_credentials_provider **out,
                                                  const char *access_key_id,
                                                  const char *secret_access_key,
                                                  const char *session_token);
/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
ACMPCA_API int acmpca_credentials_provider_environment(acmpca_credentials_provider **out);
/*
 * The shared credentials file, then the config file, for `profile` (NULL:
 * AWS_PROFILE, else "default"). Files: AWS_SHARED_CREDENTIALS_FILE /
 * AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config.
 */
ACMPCA_API int acmpca_credentials_provider_profile(acmpca_credentials_provider **out,
                                                   const char *profile);
/*
 * Tries `providers` in order. Takes over the caller's references, also on
 * failure. When none has credentials the error is ACMPCA_ENOCREDENTIALS and
 * its message lists every source tried with its reason.
 */
ACMPCA_API int acmpca_credentials_provider_chain(acmpca_credentials_provider **out,
                                                 acmpca_credentials_provider **providers,
                                                 size_t count);
/* The default chain: environment, then shared files for `profile`. */
ACMPCA_API int acmpca_credentials_provider_default(acmpca_credentials_provider **out,
                                                   const char *profile);

/* Reference counting; unref of NULL is a no-op. */
ACMPCA_API acmpca_credentials_provider *acmpca_credentials_provider_ref(acmpca_credentials_provider *p);
ACMPCA_API void acmpca_credentials_provider_unref(acmpca_credentials_provider *p);
ACMPCA_API const char *acmpca_credentials_provider_name(const acmpca_credentials_provider *p);

/*
 * Current credentials (a caller-owned copy). Served from the cache unless
 * they expire within 15 minutes of `now` (seconds since the epoch; 0 = the
 * system clock), in which case they are fetched again; one thread fetches
 * while others wait.
 */
ACMPCA_API int acmpca_credentials_get(acmpca_credentials_provider *p, int64_t now,
                                      acmpca_credentials **out);

#ifdef __cplusplus
}
#endif
#endif
