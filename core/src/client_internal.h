/*
 * client_internal.h - what client.c (the client, the request and response
 * codec, the blocking driver), machine.c (the call machine) and waiter.c
 * (waiters and paginators) share. Never installed.
 */
#ifndef ACMPCA_CLIENT_INTERNAL_H
#define ACMPCA_CLIENT_INTERNAL_H

#include <stdatomic.h>

#include "config.h"
#include "retry.h"
#include "transport.h"

/* The parts of a URL a socket driver needs. */
typedef struct acmpca_url_parts {
    char scheme[8];
    char host[256];
    char path[1024];
    int port;
} acmpca_url_parts;

/* Split "scheme://host[:port]/path?query"; ACMPCA_EENDPOINT when it cannot be. */
int acmpca__split_url(acmpca_url_parts *out, const char *url);

struct acmpca_client {
    acmpca_config config;
    char *endpoint;          /* base URL without a trailing slash */
    char *url;               /* endpoint + "/" */
    acmpca_url_parts url_parts;  /* of url, for SEND steps */
    char *signing_region;
    char *sign_host;         /* Host value for acmpca__sign_post; NULL: the general signer */
    acmpca_credentials_provider *credentials;
    acmpca_sign_cache *sign_cache;
    acmpca_transport *transport;
    acmpca_transport_options transport_options;  /* also what SEND steps say */
    acmpca_retry *retry;
    acmpca_rate_limiter *rate_limiter;  /* NULL when off */
    acmpca_log_fn log_fn;
    acmpca_log_enabled_fn log_enabled;
    void *log_userdata;
    int idempotency_tokens;
    long total_timeout_ms;           /* 0: no deadline for a whole call */
    _Atomic int64_t clock_offset_s;  /* server time - our time, learnt from skew errors */
    char *proxy;                     /* the explicit proxy for the endpoint's scheme, or NULL */
    char *proxy_ca_bundle;           /* these four outlive the transport that borrows them */
    char *proxy_client_cert;
    char *proxy_client_key;
    atomic_long refs;                /* the owner's, and one per machine and paginator */
};

/* Another hold on `c` (a machine's, a paginator's), let go by acmpca_client_free. */
void acmpca__client_hold(acmpca_client *c);

/* The operation by either name, or NULL with ACMPCA_EINVAL recorded. */
const acmpca_operation_info *acmpca__find_operation(const char *name);

/* The unsigned part of a request (body, protocol headers, IdempotencyToken):
 * once per logical call. Validates the input. */
int acmpca__prepare_request(acmpca_client *c, const acmpca_operation_info *op,
                            const cJSON *input, acmpca_http_request **out);
/* acmpca_machine_new_call for an operation already looked up (the blocking calls). */
int acmpca__machine_new_call_op(acmpca_machine **out, acmpca_client *client,
                                const acmpca_operation_info *op, const cJSON *input);
/* (Re)sign a prepared request for this attempt with `creds` and the current time. */
int acmpca__sign_request(acmpca_client *c, acmpca_http_request *req,
                         const acmpca_credentials *creds);
/* The same, keeping the first `keep` headers (the protocol's two and any added
 * with acmpca_machine_set_header) and replacing the rest. */
int acmpca__sign_request_keeping(acmpca_client *c, acmpca_http_request *req,
                                 const acmpca_credentials *creds, size_t keep);
/* The same with credentials of acmpca__credentials_get_shared/_logged, whose
 * secret's cache id is already made (acmpca__credentials_secret_id). */
int acmpca__sign_request_shared(acmpca_client *c, acmpca_http_request *req,
                                const acmpca_credentials *shared, size_t keep);
/* A raw response -> result (caller-owned) or the typed error. */
int acmpca__parse_response(const acmpca_operation_info *op, int status,
                           const acmpca_header *headers, size_t header_count, const char *body,
                           size_t len, cJSON **out);
/* Response metadata; moves the headers out of `resp`. */
int acmpca__make_meta(acmpca_http_response *resp, int attempts, acmpca_response_meta **out);

void acmpca__log_request(acmpca_client *c, const acmpca_operation_info *op,
                         const acmpca_http_request *req, int attempt);
void acmpca__log_response(acmpca_client *c, const acmpca_operation_info *op,
                          const acmpca_http_response *resp);

/* 1 for the errors a wrong clock causes. */
int acmpca__is_skew_error(const acmpca_error *e);
/* Learn the offset to the server's clock from the response's Date; 1 if it
 * changed enough to explain the error. */
int acmpca__learn_skew(acmpca_client *c, const acmpca_http_response *resp);

/* machine.c: hand the transport's response to the machine (no copy), or the
 * transport's failure (this thread's last error) as the answer to a SEND. */
int acmpca__machine_take_response(acmpca_machine *m, acmpca_http_response *resp);
int acmpca__machine_take_failure(acmpca_machine *m);
acmpca_client *acmpca__machine_client(const acmpca_machine *m);
int acmpca__machine_is_call(const acmpca_machine *m);
/* The blocking driver lets providers fetch credentials themselves (blocking)
 * instead of as SEND steps: the same exchanges, without replaying them. */
void acmpca__machine_block_on_credentials(acmpca_machine *m);

/* pki.c: request_certificate's key (NULL for a given CSR; a secret) and CSR
 * (acmpca_machine_new_request_certificate makes them before any step). */
int acmpca__certificate_csr(const acmpca_certificate_request *r, char **key_pem, char **csr_pem);
/* cJSON_Delete for a request_certificate result: its PrivateKey wiped first. */
void acmpca__certificate_result_free(cJSON *res);

/* client.c: the blocking driver (libcurl, nanosleep) of any machine. `progress`
 * (may be NULL) is told before each waiter pause and may cancel. */
int acmpca__machine_run(acmpca_machine *m, acmpca_wait_progress_fn progress, void *userdata);

/* waiter.c: what a waiter's acceptors make of one poll. */
typedef enum acmpca_waiter_outcome {
    ACMPCA_WAITER_SUCCESS,
    ACMPCA_WAITER_RETRY,
    ACMPCA_WAITER_FAILURE,     /* a failure acceptor matched; error recorded */
    ACMPCA_WAITER_UNEXPECTED   /* an error no acceptor expects: report it as it is */
} acmpca_waiter_outcome;
acmpca_waiter_outcome acmpca__waiter_evaluate(const acmpca_waiter_info *w, int err,
                                              const cJSON *out);
/* waiter.c: the index of the first acceptor matching a poll, or -1 (error_code: the
 * service's error name, "" for another failure, NULL for an answer `out`). */
int acmpca__waiter_match(const acmpca_waiter_info *w, const char *error_code, const cJSON *out);
/* waiter.c: the input of the paginator's next request (borrowed), or NULL
 * with the error recorded; *done is 1 when there is no next page. */
int acmpca__paginator_request(acmpca_paginator *p, const cJSON **input, int *done);
/* waiter.c: a page's raw result -> the page (trimmed, counted; taken) and the
 * paginator moved on. */
int acmpca__paginator_accept(acmpca_paginator *p, cJSON *out, cJSON **page);
acmpca_client *acmpca__paginator_client(const acmpca_paginator *p);
/* waiter.c: another hold on p (a page machine's), let go by acmpca_paginator_free. */
void acmpca__paginator_hold(acmpca_paginator *p);
const acmpca_operation_info *acmpca__paginator_operation(const acmpca_paginator *p);

#endif
