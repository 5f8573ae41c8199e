/*
 * credentials_internal.h - what credentials.c (the provider object, the cache,
 * the local providers and the default chain) shares with credentials_remote.c
 * (the HTTP-based providers: container, IMDS, STS, SSO): resolved provider
 * options, one view of a profile across the two shared files, time parsing
 * and JSON helpers. Never installed.
 */
#ifndef ACMPCA_CREDENTIALS_INTERNAL_H
#define ACMPCA_CREDENTIALS_INTERNAL_H

#include <cjson/cJSON.h>

#include "config.h"

/* The options a provider keeps: a private copy, the profile resolved. */
typedef struct acmpca__cred_opts {
    char *profile;                  /* never NULL once initialised */
    char *region;                   /* NULL: resolved at fetch time */
    int64_t (*now)(void *userdata); /* NULL: the system clock */
    void *now_userdata;
    long metadata_timeout_ms;       /* 0: resolved at fetch time */
    int metadata_attempts;          /* 0: resolved at fetch time */
    long process_timeout_ms;        /* 0: 60000 */
    char *ca_bundle;                /* NULL: resolved at fetch time */
} acmpca__cred_opts;

/*
 * Copy public options (NULL: defaults); `profile`, when not NULL, replaces
 * the profile (used for source profiles). `who` names the caller in errors.
 */
int acmpca__cred_opts_init(acmpca__cred_opts *o, const acmpca_credentials_options *opts,
                           const char *profile, const char *who);
/* A copy of `src` for another profile (NULL: the same one). */
int acmpca__cred_opts_copy(acmpca__cred_opts *dst, const acmpca__cred_opts *src,
                           const char *profile);
/* Back to public options (borrowing the strings of `o`). */
void acmpca__cred_opts_public(const acmpca__cred_opts *o, acmpca_credentials_options *out);
void acmpca__cred_opts_clear(acmpca__cred_opts *o);
int64_t acmpca__cred_now(const acmpca__cred_opts *o);

/* A provider whose cache uses the clock of `o` when asked with now == 0. */
int acmpca__provider_new(acmpca_credentials_provider **out, const char *name,
                         acmpca_credentials_fetch_fn fetch, void (*destroy)(void *ctx),
                         void *ctx, const acmpca__cred_opts *o);

/*
 * The shared files, loaded together. A profile's key is looked up in the
 * credentials file, then the config file (as botocore merges them).
 */
typedef struct acmpca__profiles {
    char *config_path;
    char *credentials_path;
    acmpca_ini *config;
    acmpca_ini *credentials;
} acmpca__profiles;

/* Fails with ACMPCA_ECONFIG (naming the file) when a file exists but is unreadable. */
int acmpca__profiles_load(acmpca__profiles *pf);
void acmpca__profiles_clear(acmpca__profiles *pf);
/* A non-empty value, or NULL. */
const char *acmpca__profiles_get(const acmpca__profiles *pf, const char *profile,
                                 const char *key);
/* A section of the config file only ("sso-session x", "services x"). */
const char *acmpca__profiles_section_get(const acmpca__profiles *pf, const char *section,
                                         const char *key);
int acmpca__profiles_has(const acmpca__profiles *pf, const char *profile);

/* "2024-05-01T12:00:00Z", fractions and offsets allowed; -1 when invalid. */
int acmpca__parse_iso8601(const char *s, int64_t *out);
/* The string member `name` of `obj`, or NULL. */
const char *acmpca__json_string(const cJSON *obj, const char *name);
/*
 * Credentials from a JSON object with AccessKeyId, SecretAccessKey, the
 * session token under `token_key` and an optional ISO 8601 Expiration.
 * Errors are ACMPCA_ECREDENTIALS "<provider>: <what> has no AccessKeyId", ...
 */
int acmpca__credentials_from_json(const cJSON *json, const char *provider, const char *what,
                                  const char *token_key, acmpca_credentials **out);
/* Wipe every string of a parsed document (it held secrets), then delete it. */
void acmpca__json_delete_secret(cJSON *json);
/* Copy of text safe to quote in a message: control characters become spaces, at most max bytes. */
void acmpca__printable(char *dst, size_t dst_len, const char *src, size_t src_len);

/* The shared credentials file (is_config 0) or config file (1) provider for `profile`. */
int acmpca__file_provider_new(acmpca_credentials_provider **out, const char *profile,
                              int is_config);
/* Split a command line as Python's shlex.split; *out is a NULL-terminated argv. */
int acmpca__split_command(const char *line, char ***out);
void acmpca__free_argv(char **argv);

/* Pure helpers of credentials_remote.c, exposed for unit tests. */
/* The STS endpoint for a region (NULL or "aws-global": the global one). */
int acmpca__sts_url(char **out, const char *region, int use_fips);
/* The SSO portal endpoint for a region. */
int acmpca__sso_portal_url(char **out, const char *region);
/* 1 when a container FULL_URI may be used (loopback, ECS or EKS pod identity hosts). */
int acmpca__container_url_allowed(const char *url);
/* Entity-decoded text of the first <tag> after the first <scope> (NULL: anywhere); NULL if none. */
char *acmpca__xml_text(const char *xml, const char *scope, const char *tag);
/* Lowercase hex SHA-1 of a string, as the SSO token cache names its files. */
int acmpca__sha1_hex(char out[41], const char *text);

#endif
