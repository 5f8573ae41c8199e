/*
 * credentials_internal.h - what credentials.c (the provider object, the cache,
 * the local providers, chains) shares with credentials_remote.c (the
 * HTTP-based providers: container, IMDS, STS, SSO) and credentials_chain.c
 * (the default chain): resolved provider
 * options, one view of a profile across the two shared files, time parsing
 * and JSON helpers. Never installed.
 */
#ifndef ACMPCA_CREDENTIALS_INTERNAL_H
#define ACMPCA_CREDENTIALS_INTERNAL_H

#include <cjson/cJSON.h>

#include "config.h"
#include "transport.h"

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

/* A chain (as acmpca_credentials_provider_chain) named `name` with its own clock. */
int acmpca__provider_chain_new(acmpca_credentials_provider **out, const char *name,
                               acmpca_credentials_provider **providers, size_t count,
                               int64_t (*now)(void *userdata), void *now_userdata);
/* The shared credentials file (is_config 0) or config file (1) provider for `profile`. */
int acmpca__file_provider_new(acmpca_credentials_provider **out, const char *profile,
                              int is_config);
/* Split a command line as Python's shlex.split; *out is a NULL-terminated argv. */
int acmpca__split_command(const char *line, char ***out);
void acmpca__free_argv(char **argv);

/*
 * Fetching credentials by steps, for the call machine: a log of the HTTP
 * exchanges (and pauses between retries) that a refresh needs. The refresh
 * runs from its start each time it is asked, replaying what the log already
 * holds; at the first exchange the log does not hold it stops, and that
 * exchange is pending until its outcome is recorded. A fetch is a short,
 * deterministic sequence (IMDSv2: token, role, credentials), so replaying is
 * cheap and needs no change to the providers beyond http_send.
 * Zero-initialise; nothing is allocated until an exchange is recorded.
 */
#define ACMPCA__EPENDING (-999)   /* private: the refresh waits for an exchange */
#define ACMPCA__EWAIT (-998)      /* private: another machine refreshes; sleep wait_ms */
#define ACMPCA__FETCH_OWNS_MAX 16 /* providers one refresh may own (a chain and its nesting) */

typedef struct acmpca__fetch_entry acmpca__fetch_entry;
typedef struct acmpca__fetch_log {
    acmpca__fetch_entry *entries;
    size_t count, cap;
    size_t cursor;    /* the exchange a replay asks for next */
    int pending;      /* the last entry waits for its outcome */
    /*
     * One refresh for many machines: the providers whose refresh this machine
     * owns (referenced; given up by acmpca__fetch_log_clear), and the one it
     * waits for while another machine refreshes it.
     */
    acmpca_credentials_provider *owns[ACMPCA__FETCH_OWNS_MAX];
    size_t owned;
    acmpca_credentials_provider *waiting_on;
    unsigned long wait_gen;  /* the refresh count of waiting_on when the wait began */
    int waits;
    long wait_ms;     /* ACMPCA__EWAIT: sleep this long, then ask again */
} acmpca__fetch_log;

/* Empties the log and gives up any refresh it owns (another machine takes over). */
void acmpca__fetch_log_clear(acmpca__fetch_log *log);
/*
 * Credentials without blocking on HTTP: 0 with *out (a shared entry, see
 * acmpca__credentials_release), ACMPCA__EPENDING with an exchange to carry
 * out (acmpca__fetch_log_pending), ACMPCA__EWAIT while another machine
 * refreshes them (sleep log->wait_ms), or the refresh's error (the same for
 * the machines that waited for it).
 */
int acmpca__credentials_get_logged(acmpca_credentials_provider *p, acmpca__fetch_log *log,
                                   const acmpca_credentials **out);
/* The same for a thread that may block: it waits while another fetches. */
int acmpca__credentials_get_shared(acmpca_credentials_provider *p,
                                   const acmpca_credentials **out);
/* Done signing with credentials of the two above (NULL: a no-op). */
void acmpca__credentials_release(const acmpca_credentials *c);
/* acmpca__secret_id of the secret of credentials of the two above, made when
 * they were fetched. */
const unsigned char *acmpca__credentials_secret_id(const acmpca_credentials *c);
/* The pending exchange: a request and the transport options it needs, or
 * NULL and *pause_ms > 0 for a pause between two attempts. */
const acmpca_http_request *acmpca__fetch_log_pending(const acmpca__fetch_log *log,
                                                     const acmpca_transport_options **opts,
                                                     long *pause_ms);
/* The outcome of the pending exchange: a response (taken), this thread's last
 * error, or the end of a pause. */
int acmpca__fetch_log_answer(acmpca__fetch_log *log, acmpca_http_response *resp);
int acmpca__fetch_log_failure(acmpca__fetch_log *log);
int acmpca__fetch_log_paused(acmpca__fetch_log *log);
/* For credentials_remote.c: 1 while a refresh runs by steps on this thread;
 * then every exchange and pause goes through these two instead of the network
 * and nanosleep (0, or an error that ends the refresh for now). */
int acmpca__fetch_logging(void);
int acmpca__fetch_exchange(const acmpca_transport_options *opts, const acmpca_http_request *req,
                           acmpca_http_response *resp);
int acmpca__fetch_pause(long ms);

/* Pure helpers of credentials_remote.c, exposed for unit tests. */
/* The STS endpoint for a region (NULL or "aws-global": the global one). */
int acmpca__sts_url(char **out, const char *region, int use_fips);
/* The SSO portal endpoint for a region. */
int acmpca__sso_portal_url(char **out, const char *region);
/* 1 when a container FULL_URI may be used (loopback, ECS or EKS pod identity hosts). */
int acmpca__container_url_allowed(const char *url);
/* Lowercase hex SHA-1 of a string, as the SSO token cache names its files. */
int acmpca__sha1_hex(char out[41], const char *text);

#endif
