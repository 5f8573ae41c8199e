/*
 * acmpca/client.h - the ACM PCA client: configuration, calls, and request
 * building / response parsing for callers that do their own I/O.
 *
 * The data model is cJSON: inputs and outputs are cJSON objects shaped as the
 * API's JSON (member names as in the API reference). Blob members (Csr,
 * Certificate, CertificateChain) are given as PEM text; timestamps come back
 * as numbers (seconds since the epoch).
 */
#ifndef ACMPCA_CLIENT_H
#define ACMPCA_CLIENT_H

#include <cjson/cJSON.h>

#include "common.h"
#include "credentials.h"
#include "sign.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_client acmpca_client;

/*
 * Receives the client's debug log: one line per request sent and per
 * response received. Secrets never reach it: the Authorization and
 * X-Amz-Security-Token values are replaced by "<redacted>". Called on the
 * thread making the call; must not call back into the same client.
 */
typedef void (*acmpca_log_fn)(void *userdata, const char *line);
/* Asked once per request: 0 skips formatting the log lines altogether. */
typedef int (*acmpca_log_enabled_fn)(void *userdata);

/* A client-side rate limit for one operation (see acmpca_client_options.rate_limit). */
typedef struct acmpca_rate_limit {
    const char *operation;          /* "IssueCertificate" or "issue_certificate" */
    double requests_per_second;     /* 0: no limit for this operation */
} acmpca_rate_limit;

/* Values of the tri-state options (use_fips, use_dualstack). */
#define ACMPCA_DEFAULT 0    /* from the environment and the profile */
#define ACMPCA_ENABLED 1
#define ACMPCA_DISABLED (-1)

/*
 * Client options. Every field left zero / NULL means the safe default, so
 * `acmpca_client_options o = { .version = ACMPCA_CLIENT_OPTIONS_VERSION };`,
 * ACMPCA_CLIENT_OPTIONS_INIT, acmpca_client_options_init() and memset(0) all
 * give the same client: TLS verified, idempotency tokens on, and everything
 * else resolved through the environment and the shared config files (see
 * README, "Configuration"). A choice that weakens a protection has a name that
 * says so. New fields are only ever appended; structs of any version from 1
 * to ACMPCA_CLIENT_OPTIONS_VERSION are read correctly. Strings are copied.
 */
typedef struct acmpca_client_options {
    unsigned version;               /* ACMPCA_CLIENT_OPTIONS_VERSION */
    const char *region;             /* else AWS_REGION, AWS_DEFAULT_REGION, profile */
    const char *profile;            /* else AWS_PROFILE, "default" */
    const char *endpoint_url;       /* else AWS_ENDPOINT_URL_ACM_PCA, AWS_ENDPOINT_URL, profile */
    int use_fips;                   /* ACMPCA_DEFAULT: AWS_USE_FIPS_ENDPOINT, profile, off;
                                       ACMPCA_ENABLED / ACMPCA_DISABLED */
    int use_dualstack;              /* the same, AWS_USE_DUALSTACK_ENDPOINT */
    const char *access_key_id;      /* explicit keys win over every provider */
    const char *secret_access_key;
    const char *session_token;
    acmpca_credentials_provider *credentials_provider; /* referenced, not taken */
    int insecure_skip_tls_verify;   /* 0 (default): verify the server's certificate and
                                       name; non-zero: accept any server (tests only) */
    const char *ca_bundle;          /* PEM file; else AWS_CA_BUNDLE, profile ca_bundle */
    long connect_timeout_ms;        /* 0: 10000 */
    long read_timeout_ms;           /* longest silence while waiting; 0: 60000 */
    size_t max_response_bytes;      /* 0: 16 MiB */
    int pool_size;                  /* idle connections kept; 0: 4 */
    const char *user_agent_suffix;  /* appended to the User-Agent; no CR, LF or NUL */
    acmpca_log_fn log_fn;           /* NULL: no debug log */
    void *log_userdata;
    int max_attempts;               /* 0: AWS_MAX_ATTEMPTS, profile max_attempts, else 3 */
    const char *retry_mode;         /* "standard", "adaptive" or "legacy"; NULL:
                                       AWS_RETRY_MODE, profile retry_mode, else "standard" */
    int disable_idempotency_tokens; /* 0 (default): fill IdempotencyToken when absent, one
                                       token per logical call, reused on every retry */
    int rate_limit;                 /* 1: pace each operation to ACM PCA's default quotas
                                       (GetCertificate 75/s, IssueCertificate 25/s, ...),
                                       shared by all threads of the client */
    const acmpca_rate_limit *rate_limits; /* per-operation overrides (copied); they also
                                             turn the limiter on */
    size_t rate_limit_count;
    acmpca_log_enabled_fn log_enabled; /* NULL: log whenever log_fn is set */
    /* Version 2. */
    long total_timeout_ms;          /* deadline for a whole call, retries and back-off
                                       included; 0: none (each attempt still has the
                                       connect and read timeouts) */
    /* Version 3. */
    const char *https_proxy;        /* proxy for an https:// endpoint, "http://host:port" or
                                       "https://host:port" (user:password@ allowed, never
                                       logged); NULL: https_proxy / HTTPS_PROXY / ALL_PROXY
                                       as libcurl reads them. NO_PROXY still applies; the
                                       credential sources' own requests (IMDS, container,
                                       STS, SSO) never use it */
    const char *http_proxy;         /* the same for an http:// endpoint (http_proxy) */
    const char *proxy_ca_bundle;    /* PEM file to verify an https:// proxy; NULL: the
                                       system store */
    const char *proxy_client_cert;  /* PEM client certificate for an https:// proxy */
    const char *proxy_client_key;   /* its PEM key; NULL: in proxy_client_cert */
} acmpca_client_options;

/*
 * Version 1 had `verify_tls` (1 = verify) and `idempotency_tokens` (1 = on)
 * where version 2 has the insecure_/disable_ fields, and -1 for "from the
 * environment" in use_fips/use_dualstack; such structs are still read with
 * their old meaning.
 */
#define ACMPCA_CLIENT_OPTIONS_VERSION 3
#define ACMPCA_CLIENT_OPTIONS_INIT \
    { ACMPCA_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, \
      0, NULL, 0, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, \
      NULL, NULL, NULL, NULL, NULL }

/* Fill `opts` with the defaults of `version` (for FFI callers); EINVAL for an unknown one. */
ACMPCA_API int acmpca_client_options_init(acmpca_client_options *opts, unsigned version);

/*
 * Create a client. No network I/O happens here.
 *
 * A client may be used in a child made by fork() (pre-fork servers,
 * multiprocessing): on its first call, or when freed, the child drops the
 * keep-alive connections it inherited, without reading from or writing to
 * them, and opens its own. Connections are never shared between processes.
 */
ACMPCA_API int acmpca_client_new(acmpca_client **out, const acmpca_client_options *opts);
/*
 * Free a client (NULL is a no-op). Its machines and paginators hold it too:
 * what it owns (connections included) goes when the last of them is freed as
 * well. No blocking call may be running on it on another thread.
 */
ACMPCA_API void acmpca_client_free(acmpca_client *client);
/* The resolved region ("" when only a custom endpoint is set) and endpoint URL. */
ACMPCA_API const char *acmpca_client_region(const acmpca_client *client);
ACMPCA_API const char *acmpca_client_endpoint(const acmpca_client *client);
/* The client's credentials provider (borrowed). */
ACMPCA_API acmpca_credentials_provider *acmpca_client_credentials_provider(acmpca_client *client);

/*
 * What a client resolved from its options, the environment and the profile
 * (for display, as botocore's client.meta.config). Strings are borrowed from
 * the client. Fields are only ever appended.
 */
typedef struct acmpca_client_settings {
    const char *profile;
    const char *retry_mode;         /* "standard" or "adaptive" */
    int max_attempts;               /* every attempt, the first included */
    long connect_timeout_ms;
    long read_timeout_ms;
    long total_timeout_ms;          /* 0: none */
    int pool_size;
    size_t max_response_bytes;
} acmpca_client_settings;
ACMPCA_API int acmpca_client_settings_get(const acmpca_client *client,
                                          acmpca_client_settings *out);

/* What came back with a response, for callers that want more than the data. */
typedef struct acmpca_response_meta {
    int http_status;
    char *request_id;            /* "" when the service sent none */
    int retry_attempts;          /* attempts beyond the first */
    acmpca_header *headers;      /* response headers, names lowercased */
    size_t header_count;
} acmpca_response_meta;

ACMPCA_API void acmpca_response_meta_free(acmpca_response_meta *meta);

/*
 * Call an operation by name ("IssueCertificate" or "issue_certificate").
 * `input` may be NULL for an empty input. On success *out is a caller-owned
 * cJSON object (an empty object for operations that return nothing); free it
 * with cJSON_Delete. Its member names may be the library's own model strings,
 * flagged cJSON_StringIsConst: cJSON's functions (delete, replace, detach and
 * add, duplicate) handle them; they stay valid while the library is loaded.
 * The input is validated against the model before any I/O.
 */
ACMPCA_API int acmpca_call(acmpca_client *client, const char *operation,
                           const cJSON *input, cJSON **out);
/*
 * As acmpca_call, by operation id, also returning the response metadata
 * (`meta` may be NULL). On a failure after a response arrived (a service
 * error, a bad body) *meta describes that response too; free it either way.
 */
ACMPCA_API int acmpca_call_ex(acmpca_client *client, int operation, const cJSON *input,
                              cJSON **out, acmpca_response_meta **meta);
/* JSON text in and out, for FFI users. *out_json is freed with acmpca_free(). */
ACMPCA_API int acmpca_call_json(acmpca_client *client, const char *operation,
                                const char *input_json, char **out_json);

/* A request ready to send over any HTTP stack. */
typedef struct acmpca_http_request {
    char *method;
    char *url;
    acmpca_header *headers;      /* every header to send, signed */
    size_t header_count;
    char *body;
    size_t body_len;
} acmpca_http_request;

/*
 * Validate, serialize and sign a call without sending it: for non-blocking
 * stacks (OpenResty cosockets). Credentials come from the client's provider:
 * explicit keys, the environment and the shared files need no I/O, but the
 * remote providers (IMDS, container, STS, SSO) fetch over blocking HTTP when
 * their cached credentials are missing or near expiry. Inside an event loop,
 * give explicit keys or a provider of your own.
 */
ACMPCA_API int acmpca_client_build_request(acmpca_client *client, const char *operation,
                                           const cJSON *input, acmpca_http_request **out);
/* Frees a request of acmpca_client_build_request (its strings may share its
 * block: free them only through this), or one whose every string was
 * malloc'd on its own. Strings that can hold secrets are wiped first. */
ACMPCA_API void acmpca_http_request_free(acmpca_http_request *req);

/*
 * Turn a raw HTTP response into the operation's result (*out, caller-owned)
 * or a typed error, exactly as a call would. Header names are matched
 * case-insensitively.
 */
ACMPCA_API int acmpca_parse_response(const char *operation, int http_status,
                                     const acmpca_header *headers, size_t header_count,
                                     const char *body, size_t body_len, cJSON **out);

#ifdef __cplusplus
}
#endif
#endif
