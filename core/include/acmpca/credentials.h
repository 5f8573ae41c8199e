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
/* Wipes the access key id, the secret and the token, then frees. NULL is a no-op. */
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
/*
 * The default chain, in botocore's order: environment, assume-role profile,
 * web identity, SSO, shared credentials file, credential_process, config
 * file, container, EC2 instance metadata (IMDSv2). Same as
 * acmpca_credentials_provider_default_ex() with only `profile` set.
 */
ACMPCA_API int acmpca_credentials_provider_default(acmpca_credentials_provider **out,
                                                   const char *profile);

/*
 * Options of the providers below. Initialise with
 * ACMPCA_CREDENTIALS_OPTIONS_INIT; fields are only ever appended. Strings are
 * copied; a NULL options pointer means all defaults.
 */
typedef struct acmpca_credentials_options {
    unsigned version;                /* ACMPCA_CREDENTIALS_OPTIONS_VERSION */
    const char *profile;             /* NULL: AWS_PROFILE, else "default" (read at creation) */
    const char *region;              /* STS region. NULL: AWS_REGION, AWS_DEFAULT_REGION, the
                                        profile's region; none: the global STS endpoint */
    int64_t (*now)(void *userdata);  /* the clock (seconds since the epoch) for expiry
                                        decisions; NULL: the system clock. For tests. */
    void *now_userdata;
    long metadata_timeout_ms;        /* IMDS and container, connect and read. 0:
                                        AWS_METADATA_SERVICE_TIMEOUT (seconds), the profile's
                                        metadata_service_timeout, else 1000 (IMDS: a laptop
                                        is not stalled) or 2000 (container) */
    int metadata_attempts;           /* IMDS and container. 0: AWS_METADATA_SERVICE_NUM_ATTEMPTS,
                                        the profile's metadata_service_num_attempts, else 1
                                        (IMDS) or 3 (container) */
    long process_timeout_ms;         /* credential_process is killed after this; 0: 60000 */
    const char *ca_bundle;           /* PEM file for STS and SSO. NULL: AWS_CA_BUNDLE, the
                                        profile's ca_bundle, else the system store */
} acmpca_credentials_options;

#define ACMPCA_CREDENTIALS_OPTIONS_VERSION 1
#define ACMPCA_CREDENTIALS_OPTIONS_INIT \
    { ACMPCA_CREDENTIALS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, NULL }

/*
 * The providers each report a name, both as acmpca_credentials_provider_name()
 * and in acmpca_credentials.provider: "environment", "assume-role",
 * "web-identity", "sso", "shared-credentials-file", "credential-process",
 * "config-file", "container", "imds". A provider whose source is not
 * configured has no credentials (ACMPCA_ENOCREDENTIALS, so a chain moves
 * on); one that is configured but fails stops the chain with an error whose
 * message starts with its name. Secrets never appear in messages.
 */

/* The default chain (see acmpca_credentials_provider_default) with options. */
ACMPCA_API int acmpca_credentials_provider_default_ex(acmpca_credentials_provider **out,
                                                      const acmpca_credentials_options *opts);

/*
 * credential_process: runs `command` (NULL: the profile's credential_process)
 * without a shell, the command line split as a POSIX shell would (quotes and
 * backslashes), and reads {"Version": 1, "AccessKeyId", "SecretAccessKey",
 * "SessionToken", "Expiration"} from its stdout. A non-zero exit fails with
 * the exit status and the start of stderr.
 */
ACMPCA_API int acmpca_credentials_provider_process(acmpca_credentials_provider **out,
                                                   const char *command,
                                                   const acmpca_credentials_options *opts);
/*
 * ECS / EKS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * (against http://169.254.170.2), else AWS_CONTAINER_CREDENTIALS_FULL_URI,
 * which must point at a loopback address, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23. The Authorization header comes from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN.
 */
ACMPCA_API int acmpca_credentials_provider_container(acmpca_credentials_provider **out,
                                                     const acmpca_credentials_options *opts);
/*
 * EC2 instance metadata, IMDSv2 only (a session token is always used).
 * Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, the profile's
 * ec2_metadata_service_endpoint, else http://169.254.169.254 (or
 * http://[fd00:ec2::254] with endpoint mode IPv6). Off when
 * AWS_EC2_METADATA_DISABLED is "true". Not reachable = no credentials.
 */
ACMPCA_API int acmpca_credentials_provider_imds(acmpca_credentials_provider **out,
                                                const acmpca_credentials_options *opts);
/*
 * STS AssumeRoleWithWebIdentity (unsigned): AWS_WEB_IDENTITY_TOKEN_FILE,
 * AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME, each else the profile's
 * web_identity_token_file, role_arn and role_session_name. The token file
 * is read again on every refresh.
 */
ACMPCA_API int acmpca_credentials_provider_web_identity(acmpca_credentials_provider **out,
                                                        const acmpca_credentials_options *opts);
/*
 * An assume-role profile: role_arn with source_profile (which may itself
 * assume a role, use web identity, SSO, credential_process or keys) or
 * credential_source (Environment, EcsContainer, Ec2InstanceMetadata);
 * role_session_name, external_id and duration_seconds are honoured; a profile
 * with mfa_serial is refused (no prompting). STS AssumeRole is signed with the
 * source credentials. STS endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
 * the profile's services section or endpoint_url, else the regional
 * https://sts.<region>.amazonaws.com.
 */
ACMPCA_API int acmpca_credentials_provider_assume_role(acmpca_credentials_provider **out,
                                                       const acmpca_credentials_options *opts);

/* What to assume, for acmpca_credentials_provider_assume_role_with_source(). */
typedef struct acmpca_assume_role_params {
    const char *role_arn;            /* required */
    const char *role_session_name;   /* NULL: "acmpca-session-<seconds since the epoch>" */
    const char *external_id;         /* NULL: none */
    int duration_seconds;            /* 0: the STS default (one hour); else 900..43200 */
} acmpca_assume_role_params;

/*
 * STS AssumeRole signed with the credentials of `source` (referenced, not
 * taken). Region and endpoint resolve as for the assume-role profile.
 */
ACMPCA_API int acmpca_credentials_provider_assume_role_with_source(
    acmpca_credentials_provider **out, acmpca_credentials_provider *source,
    const acmpca_assume_role_params *params, const acmpca_credentials_options *opts);
/*
 * IAM Identity Center (SSO): the profile's sso_session (an [sso-session x]
 * section with sso_start_url and sso_region) or the legacy sso_start_url and
 * sso_region keys, with sso_account_id and sso_role_name. Uses the token that
 * `aws sso login` cached in ~/.aws/sso/cache (never refreshes it: an expired
 * token fails with a hint to log in again) and calls the portal's
 * GetRoleCredentials: AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL, else
 * https://portal.sso.<sso_region>.amazonaws.com.
 */
ACMPCA_API int acmpca_credentials_provider_sso(acmpca_credentials_provider **out,
                                               const acmpca_credentials_options *opts);

/* Reference counting; unref of NULL is a no-op. */
ACMPCA_API acmpca_credentials_provider *acmpca_credentials_provider_ref(acmpca_credentials_provider *p);
ACMPCA_API void acmpca_credentials_provider_unref(acmpca_credentials_provider *p);
ACMPCA_API const char *acmpca_credentials_provider_name(const acmpca_credentials_provider *p);

/*
 * Current credentials (a caller-owned copy). Served from the cache unless
 * they expire within 15 minutes of `now` (seconds since the epoch; 0 = the
 * provider's clock, see acmpca_credentials_options.now, else the system
 * clock), in which case they are fetched again: one thread fetches while the
 * others keep using the cached credentials if they have more than 10 minutes
 * left, or wait. A failed refresh keeps the old credentials while they have
 * more than 10 minutes left; after that it fails. Credentials that a source
 * returns already expired are an error.
 */
ACMPCA_API int acmpca_credentials_get(acmpca_credentials_provider *p, int64_t now,
                                      acmpca_credentials **out);

/*
 * For caches shared between processes (OpenResty's lua_shared_dict): a copy
 * of the cached credentials if they need no refresh at `now`, without ever
 * fetching (ACMPCA_ENOCREDENTIALS when there are none) ...
 */
ACMPCA_API int acmpca_credentials_provider_cached(acmpca_credentials_provider *p, int64_t now,
                                                  acmpca_credentials **out);
/*
 * ... and credentials found elsewhere put into the cache, when they expire
 * (expiration != 0), need no refresh at `now` and outlive what is cached;
 * ACMPCA_ENOCREDENTIALS when they were not taken.
 */
ACMPCA_API int acmpca_credentials_provider_prime(acmpca_credentials_provider *p, int64_t now,
                                                 const acmpca_credentials *c);

#ifdef __cplusplus
}
#endif
#endif
