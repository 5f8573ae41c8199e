/*
 * acmpca/machine.h - the call machine: one logical call, one waiter run or
 * one paginator page as a state machine that says what to do next and never
 * does I/O itself ("sans-I/O", as h11 and hyper do for HTTP).
 *
 * All policy lives in the machine: input validation and serialization (at
 * creation, before any step), signing, retries with back-off and the retry
 * quota, one IdempotencyToken per logical call reused on every attempt,
 * clock-skew correction, the per-operation rate limiter and adaptive mode's
 * send rate (as sleep steps), the call's total deadline, waiter acceptors and
 * delays, paginator tokens. A driver only moves bytes and waits:
 *
 *     acmpca_machine *m;
 *     acmpca_step s;
 *     if (acmpca_machine_new_call(&m, client, "GetCertificate", input) != 0)
 *         return acmpca_error_last()->code;            // bad input: no I/O happened
 *     for (;;) {
 *         switch (acmpca_machine_next(m, &s)) {
 *         case ACMPCA_STEP_SEND:                       // send s.request, honour the timeouts
 *             if (my_http(&s, &status, &headers, &n, &body, &len) == 0)
 *                 acmpca_machine_response(m, status, headers, n, body, len);
 *             else
 *                 acmpca_machine_transport_error(m, ACMPCA_ECONNECT, 0, "refused");
 *             break;
 *         case ACMPCA_STEP_SLEEP:                      // back-off, rate limit, waiter delay
 *             my_sleep_ms(s.sleep_ms);
 *             break;
 *         case ACMPCA_STEP_DONE:                       // the result is ready
 *             acmpca_machine_result(m, &out, NULL);
 *             acmpca_machine_free(m);
 *             return 0;
 *         case ACMPCA_STEP_FAILED:                     // typed error in acmpca_error_last()
 *             acmpca_machine_free(m);
 *             return acmpca_error_last()->code;
 *         }
 *     }
 *
 * Thread rules: a machine is driven by one thread at a time (any thread);
 * many machines may share one client. Credentials come from the client's
 * provider when a request is signed. When the remote providers (IMDS,
 * container, STS, SSO) must refresh, their HTTP exchanges are SEND steps of
 * the machine too (step.credentials is 1), so a non-blocking driver never
 * blocks on them; only credential_process (a program to run) blocks.
 * Machines of one client share one refresh: the first that needs it sends
 * its exchanges, the others get SLEEP steps (ACMPCA_SLEEP_CREDENTIALS, 5 to
 * 50 ms) and then sign with its credentials, or fail with its error. Freeing
 * the fetching machine hands the refresh over to the next one; a machine
 * that stops being driven loses it once its exchange's timeouts (plus a
 * second) have passed. While the cached credentials are still good (the
 * advisory window) nobody waits.
 */
#ifndef ACMPCA_MACHINE_H
#define ACMPCA_MACHINE_H

#include <cjson/cJSON.h>

#include "client.h"
#include "pki.h"
#include "waiter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_machine acmpca_machine;

typedef enum acmpca_step_kind {
    ACMPCA_STEP_SEND = 1,    /* send step.request, then report what happened */
    ACMPCA_STEP_SLEEP = 2,   /* wait step.sleep_ms, then ask again */
    ACMPCA_STEP_DONE = 3,    /* success: take the result with acmpca_machine_result */
    ACMPCA_STEP_FAILED = 4,  /* failure: the typed error is acmpca_error_last() */
    ACMPCA_STEP_SIGN = 5     /* only after acmpca_machine_stop_before_signing: step.request
                                is about to be signed for step.attempt; add headers with
                                acmpca_machine_set_header, then ask again */
} acmpca_step_kind;

/* Why a SLEEP step waits. */
typedef enum acmpca_sleep_reason {
    ACMPCA_SLEEP_RATE_LIMIT = 1,  /* the client's per-operation rate limiter */
    ACMPCA_SLEEP_ADAPTIVE = 2,    /* adaptive retry mode's send rate */
    ACMPCA_SLEEP_BACKOFF = 3,     /* before retrying a failed attempt */
    ACMPCA_SLEEP_WAITER = 4,      /* a waiter's delay between two polls */
    ACMPCA_SLEEP_CREDENTIALS = 5  /* between two attempts to fetch credentials, or
                                     while another machine fetches them */
} acmpca_sleep_reason;

/* What to do next. Filled by acmpca_machine_next; pointers are borrowed until
 * the next call on the same machine. Fields are only ever appended. */
typedef struct acmpca_step {
    acmpca_step_kind kind;
    /* SEND */
    const acmpca_http_request *request; /* method, URL, every header (signed), body */
    const char *scheme;                 /* "https" or "http" */
    const char *host;                   /* for the connection and TLS SNI */
    int port;
    const char *path;                   /* path and query, as the request line wants it */
    long connect_timeout_ms;            /* to connect and finish the TLS handshake */
    long read_timeout_ms;               /* longest silence while waiting for the answer */
    long deadline_ms;                   /* what is left of total_timeout_ms; 0: none */
    size_t max_response_bytes;          /* report a bigger body as ACMPCA_ETOOLARGE */
    int insecure_skip_tls_verify;       /* 0: verify the server's certificate and name */
    const char *ca_bundle;              /* NULL: the system store */
    int attempt;                        /* SEND: 1 for the first attempt of this call;
                                           SLEEP: the attempt (or waiter poll) that ended */
    int credentials;                    /* SEND: 1 when the request fetches credentials
                                           (IMDS, container, STS, SSO), not ACM PCA */
    int no_proxy;                       /* SEND: never through a proxy (loopback and
                                           link-local credential endpoints) */
    /* SLEEP */
    long sleep_ms;
    acmpca_sleep_reason sleep_reason;
    const char *waiter;                 /* ACMPCA_SLEEP_WAITER: the waiter's name */
} acmpca_step;

/*
 * A machine for one call of `operation` ("IssueCertificate" or
 * "issue_certificate") with `input` (copied; NULL for none). The input is
 * validated and serialized here: ACMPCA_EPARAM before any step.
 */
ACMPCA_API int acmpca_machine_new_call(acmpca_machine **out, acmpca_client *client,
                                       const char *operation, const cJSON *input);
/*
 * A machine for a waiter run (see acmpca_wait): `delay_s` <= 0 and
 * `max_attempts` <= 0 take the model's values. DONE's result is the last
 * response; FAILED is ACMPCA_EWAITER (with acmpca_error.waiter and
 * waiter_state) or the service error no acceptor expects.
 */
ACMPCA_API int acmpca_machine_new_waiter(acmpca_machine **out, acmpca_client *client,
                                         const char *waiter, const cJSON *input, double delay_s,
                                         int max_attempts);
/*
 * A machine for the next page of `paginator` (see acmpca_paginator_new).
 * DONE's result is the page, as acmpca_paginator_next returns it, and the
 * paginator has moved on. When the paginator is already done, the machine is
 * DONE at once with a NULL result. The machine holds the paginator (and its
 * client): freeing them first is safe.
 */
ACMPCA_API int acmpca_machine_new_page(acmpca_machine **out, acmpca_paginator *paginator);

/*
 * A machine for acmpca_request_certificate's whole flow (acmpca/pki.h): the
 * key and CSR are made (or the given CSR normalised) and every sub-call's
 * input validated here, before any step: ACMPCA_EPARAM naming the field
 * (certificate_authority_arn, validity_days 0..36500, wait_delay_s 0..86400,
 * wait_max_attempts >= 0, key_type, the subject's fields, csr_pem,
 * TemplateArn ...). Its steps are, in order, those of
 * DescribeCertificateAuthority (only when no signing_algorithm is given: the
 * CA's own is used), IssueCertificate (one IdempotencyToken for all its
 * attempts) and the CertificateIssued waiter (wait_delay_s, wait_max_attempts;
 * its SLEEP steps name the waiter); each sub-call has its own attempts and
 * total_timeout_ms, as a call of its own. Reports go to the sub-call in
 * flight. r->wait_progress is not called (a driver sees the waiter's SLEEP
 * steps). DONE's result is {"CertificateArn", "Certificate",
 * "CertificateChain" ("" when the service sent none), "PrivateKey" (absent
 * when a CSR was given), "Csr"}, and its metadata the last poll's; FAILED is
 * the failing sub-call's typed error as it is (its operation, attempts,
 * waiter and stage), or ACMPCA_EBADRESPONSE when an answer lacks what the
 * next step needs. Headers cannot be added and acmpca_machine_request gives
 * NULL, as for a waiter.
 */
ACMPCA_API int acmpca_machine_new_request_certificate(acmpca_machine **out,
                                                      acmpca_client *client,
                                                      const acmpca_certificate_request *r);

/* What to do next (also stored in *step). */
ACMPCA_API acmpca_step_kind acmpca_machine_next(acmpca_machine *m, acmpca_step *step);

/*
 * Report the answer to the last SEND step: status, headers (names in any
 * case) and body, all copied. Returns 0, or ACMPCA_EINVAL when no SEND step
 * is waiting for an answer.
 */
ACMPCA_API int acmpca_machine_response(acmpca_machine *m, int status,
                                       const acmpca_header *headers, size_t header_count,
                                       const char *body, size_t body_len);
/*
 * Report that the last SEND step got no complete answer: `code` is one of
 * ACMPCA_ECONNECT, ACMPCA_ECONNECT_TIMEOUT, ACMPCA_EREAD_TIMEOUT, ACMPCA_ETLS,
 * ACMPCA_ENETWORK, ACMPCA_ETOOLARGE (others count as ACMPCA_ENETWORK);
 * `http_status` is the status line's code if one arrived, else 0; `detail`
 * (may be NULL) goes into the error message. Whether to retry is the
 * machine's decision.
 */
ACMPCA_API int acmpca_machine_transport_error(acmpca_machine *m, int code, int http_status,
                                              const char *detail);

/*
 * After DONE: the result (caller-owned, taken: a second call gives NULL) and,
 * when `meta` is not NULL, the metadata of the last response (caller-owned).
 * After FAILED: returns the error code and *meta describes the last response
 * if there was one.
 */
ACMPCA_API int acmpca_machine_result(acmpca_machine *m, cJSON **out,
                                     acmpca_response_meta **meta);

/*
 * What acmpca_machine_result gives as *meta, without a copy: a view of the
 * last response, borrowed until the next call on the machine (so take it
 * after acmpca_machine_result(m, out, NULL), never with a `meta` there,
 * which moves the headers out). NULL when there was no response.
 */
ACMPCA_API const acmpca_response_meta *acmpca_machine_meta(acmpca_machine *m);

/* Free a machine in any state (NULL is a no-op). Nothing is sent. */
ACMPCA_API void acmpca_machine_free(acmpca_machine *m);

/*
 * For a binding that runs hooks of its own between the steps of a call (the
 * Python binding's event handlers) yet sends with the library's transport,
 * as acmpca_call does.
 *
 * acmpca_machine_use_blocking_io(), before the first step: credential
 * providers fetch with their own blocking I/O (no credentials SEND steps).
 * acmpca_machine_perform(): send a SEND step with the client's libcurl
 * transport and report the answer (or the failure), or sleep a SLEEP step;
 * other steps are a no-op. Blocks: hold no lock a hook may need.
 */
ACMPCA_API int acmpca_machine_use_blocking_io(acmpca_machine *m);
ACMPCA_API int acmpca_machine_perform(acmpca_machine *m, const acmpca_step *step);
/*
 * acmpca_machine_perform, for such a binding that also makes a call's result
 * itself (the Python module's dict straight from the body): a 2xx answer to
 * a call machine's request is given to `parse` before it is reported; when
 * `parse` returns 1 the binding has made the result from the body, as with
 * acmpca_machine_output_parsed (the same rules), and the machine skips its
 * own parse. Any other return: the machine parses as always.
 */
typedef int (*acmpca_body_fn)(void *userdata, const char *body, size_t len);
ACMPCA_API int acmpca_machine_perform_parsing(acmpca_machine *m, const acmpca_step *step,
                                              acmpca_body_fn parse, void *userdata);

/*
 * Add a header to every request a call (or page) machine sends from now on,
 * signed with the others: the next attempt's signature covers it. A second
 * value for the same name (any case) replaces the first. Refused with
 * ACMPCA_EINVAL: a waiter machine, an empty name or one with characters a
 * header name cannot hold, a value with CR, LF or NUL, more than 64 added
 * headers, and the names the protocol and the signer own (Authorization,
 * Content-Type, Host, X-Amz-Target, X-Amz-Date, X-Amz-Security-Token,
 * X-Amz-Content-Sha256).
 */
ACMPCA_API int acmpca_machine_set_header(acmpca_machine *m, const char *name,
                                         const char *value);
/*
 * The request of a call (or page) machine (borrowed until the next call on
 * the machine): unsigned before the first step, then as the last SEND step
 * sent it. NULL for a waiter.
 */
ACMPCA_API const acmpca_http_request *acmpca_machine_request(const acmpca_machine *m);
/*
 * The proxy the last SEND step goes through: the client's explicit one for
 * the endpoint's scheme (acmpca_client_options https_proxy / http_proxy),
 * borrowed for the machine's life; it may hold a password, so never log it.
 * NULL when there is none (the driver may then read the proxy variables)
 * and always for a step with no_proxy. A driver still skips it for a host
 * that NO_PROXY lists, as libcurl does. A function rather than a field of
 * acmpca_step: acmpca_machine_next clears the whole step, so a new field
 * would overrun the step of a driver built against an older header.
 */
ACMPCA_API const char *acmpca_machine_proxy(const acmpca_machine *m);
/*
 * For hooks that run before each signature (botocore's before-sign, fired on
 * every attempt, a re-signing after clock-skew correction included): from now
 * on acmpca_machine_next returns ACMPCA_STEP_SIGN once before the machine
 * signs a request, then signs on the next call. A call or page machine only
 * (ACMPCA_EINVAL for a waiter). Drivers that never call it never see the step.
 */
ACMPCA_API int acmpca_machine_stop_before_signing(acmpca_machine *m);
/*
 * The body of the last answer reported to a call or page machine (borrowed
 * until the next call on the machine, *len its size), "" when it had none,
 * NULL before any answer, after a transport failure, and for a waiter.
 */
ACMPCA_API const char *acmpca_machine_response_body(const acmpca_machine *m, size_t *len);

/*
 * For a binding that builds its own values straight from the body's bytes
 * (the Lua module: JSON to a Lua table with no cJSON tree in between): call
 * it right before acmpca_machine_response to say that the driver has already
 * turned that answer's body into the call's result. A 2xx answer is then
 * not parsed and DONE's result is NULL; any other answer (and a transport
 * failure) is handled as always, and the flag holds for that one report
 * only. The driver must produce exactly what acmpca_machine_result would
 * have (acmpca_output_annotate's tags applied) and, when it cannot (bad
 * JSON, a blob member), not call this: the machine's own parse then gives
 * the typed error. A call machine only (ACMPCA_EINVAL otherwise).
 */
ACMPCA_API int acmpca_machine_output_parsed(acmpca_machine *m);

#ifdef __cplusplus
}
#endif
#endif
