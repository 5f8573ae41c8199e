/*
 * error.c - the thread-local last error, error names and descriptions.
 *
 * The detail lives in fixed-size thread-local buffers, so recording an error
 * never allocates and acmpca_error_last() never fails or leaks.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef acmpca_error_state error_state;

static _Thread_local error_state tls_error;

static const char *const service_names[] = {
    /* index = ACMPCA_E_CERTIFICATE_MISMATCH - code */
    "CertificateMismatchException", "ConcurrentModificationException",
    "InvalidArgsException", "InvalidArnException", "InvalidNextTokenException",
    "InvalidPolicyException", "InvalidRequestException", "InvalidStateException",
    "InvalidTagException", "LimitExceededException", "LockoutPreventedException",
    "MalformedCSRException", "MalformedCertificateException",
    "PermissionAlreadyExistsException", "RequestAlreadyProcessedException",
    "RequestFailedException", "RequestInProgressException", "ResourceNotFoundException",
    "TooManyTagsException", "AccessDeniedException", "ThrottlingException",
    "ValidationException",
};

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static error_state *state(void)
{
    error_state *e = &tls_error;
    e->pub.aws_code = e->aws_code;
    e->pub.message = e->message;
    e->pub.request_id = e->request_id;
    e->pub.operation = e->operation;
    e->pub.waiter = e->waiter;
    e->pub.waiter_state = e->waiter_state;
    e->pub.subject = e->subject;
    if (!e->pub.stage)
        e->pub.stage = "";
    return e;
}

const acmpca_error *acmpca_error_last(void)
{
    return &state()->pub;
}

void acmpca_error_clear(void)
{
    error_state *e = state();
    e->pub.code = ACMPCA_OK;
    e->pub.http_status = 0;
    e->pub.retryable = 0;
    e->pub.attempts = 0;
    e->aws_code[0] = e->message[0] = e->request_id[0] = e->operation[0] = '\0';
    e->waiter[0] = e->waiter_state[0] = e->subject[0] = '\0';
    e->pub.stage = "";
}

int acmpca__error_set(int code, const char *fmt, ...)
{
    error_state *e;
    va_list ap;

    acmpca_error_clear();
    e = state();
    e->pub.code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return code;
}

int acmpca__error_set_service(int code, const char *aws_code, const char *message,
                              int http_status, const char *request_id)
{
    error_state *e;

    acmpca_error_clear();
    e = state();
    e->pub.code = code;
    e->pub.http_status = http_status;
    copy_field(e->aws_code, sizeof(e->aws_code), aws_code);
    copy_field(e->message, sizeof(e->message), message);
    copy_field(e->request_id, sizeof(e->request_id), request_id);
    return code;
}

void acmpca__error_annotate(const char *operation, int attempts, int retryable)
{
    error_state *e = state();
    if (operation)
        copy_field(e->operation, sizeof(e->operation), operation);
    e->pub.attempts = attempts;
    e->pub.retryable = retryable;
}

void acmpca__error_set_waiter(const char *waiter, const char *waiter_state)
{
    error_state *e = state();
    copy_field(e->waiter, sizeof(e->waiter), waiter);
    copy_field(e->waiter_state, sizeof(e->waiter_state), waiter_state);
}

void acmpca__error_set_subject(const char *subject)
{
    error_state *e = state();
    copy_field(e->subject, sizeof(e->subject), subject);
}

void acmpca__error_set_stage(const char *stage)
{
    state()->pub.stage = stage;
}

void acmpca__error_set_http_status(int http_status)
{
    state()->pub.http_status = http_status;
}

void acmpca__error_set_request_id(const char *request_id)
{
    error_state *e = state();
    copy_field(e->request_id, sizeof(e->request_id), request_id);
}

void acmpca__error_recode(int code)
{
    state()->pub.code = code;
}

void acmpca__error_append(const char *suffix)
{
    error_state *e = state();
    size_t n = strlen(e->message);
    snprintf(e->message + n, sizeof(e->message) - n, "%s", suffix);
}

void acmpca__error_prefix(const char *prefix)
{
    error_state *e = state();
    size_t plen = strlen(prefix), mlen = strlen(e->message);

    if (plen + 2 >= sizeof(e->message))
        plen = sizeof(e->message) - 3;
    if (plen + 2 + mlen >= sizeof(e->message))
        mlen = sizeof(e->message) - plen - 3;
    memmove(e->message + plen + 2, e->message, mlen);
    memcpy(e->message, prefix, plen);
    memcpy(e->message + plen, ": ", 2);
    e->message[plen + 2 + mlen] = '\0';
}

void acmpca__error_save(acmpca_error_state *dst)
{
    *dst = *state();
}

void acmpca__error_restore(const acmpca_error_state *src)
{
    error_state *e = state();
    memcpy(e, src, sizeof(*e));
    state(); /* the pointers must point into this thread's copy */
}

const char *acmpca_error_name(int code)
{
    if (code <= ACMPCA_ESERVICE_FIRST && code >= ACMPCA_ESERVICE_LAST)
        return service_names[ACMPCA_ESERVICE_FIRST - code];
    return "";
}

int acmpca_error_code_from_name(const char *aws_code)
{
    size_t i;
    if (!aws_code)
        return ACMPCA_ESERVICE;
    for (i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
        if (strcmp(service_names[i], aws_code) == 0)
            return ACMPCA_ESERVICE_FIRST - (int)i;
    return ACMPCA_ESERVICE;
}

const char *acmpca_error_class(int code)
{
    switch (code) {
    case ACMPCA_OK: return "";
    case ACMPCA_EINVAL:
    case ACMPCA_EPARAM: return "ParamValidationError";
    case ACMPCA_ENOMEM: return "MemoryError";
    case ACMPCA_ENOCREDENTIALS: return "NoCredentialsError";
    case ACMPCA_ECREDENTIALS: return "CredentialRetrievalError";
    case ACMPCA_EENDPOINT:
    case ACMPCA_ECONFIG: return "InvalidConfigError";
    case ACMPCA_ENOREGION: return "NoRegionError";
    case ACMPCA_EREGION: return "InvalidRegionError";
    case ACMPCA_EPROFILE: return "ProfileNotFound";
    case ACMPCA_ECONNECT: return "EndpointConnectionError";
    case ACMPCA_ECONNECT_TIMEOUT: return "ConnectTimeoutError";
    case ACMPCA_EREAD_TIMEOUT: return "ReadTimeoutError";
    case ACMPCA_ETLS: return "SSLError";
    case ACMPCA_ENETWORK: return "ConnectionClosedError";
    case ACMPCA_ETOOLARGE:
    case ACMPCA_EBADRESPONSE: return "ResponseParserError";
    case ACMPCA_EWAITER:
    case ACMPCA_ECANCELLED: return "WaiterError";
    case ACMPCA_ECRYPTO: return "CryptoError";
    default:
        if (code <= ACMPCA_ESERVICE && code >= ACMPCA_ESERVICE_LAST)
            return "ClientError";
        return "GeneralError"; /* ACMPCA_ELIMIT and any code newer than the binding */
    }
}

const char *acmpca_strerror(int code)
{
    switch (code) {
    case ACMPCA_OK: return "no error";
    case ACMPCA_EINVAL: return "invalid argument";
    case ACMPCA_ENOMEM: return "out of memory";
    case ACMPCA_EPARAM: return "parameter validation failed";
    case ACMPCA_ENOCREDENTIALS: return "no credentials found";
    case ACMPCA_ECREDENTIALS: return "credentials provider failed";
    case ACMPCA_EENDPOINT: return "no endpoint for this configuration";
    case ACMPCA_ECONFIG: return "invalid configuration";
    case ACMPCA_ECONNECT: return "could not connect to the endpoint";
    case ACMPCA_ECONNECT_TIMEOUT: return "connect timed out";
    case ACMPCA_EREAD_TIMEOUT: return "read timed out";
    case ACMPCA_ETLS: return "TLS error";
    case ACMPCA_ENETWORK: return "network error";
    case ACMPCA_ETOOLARGE: return "response too large";
    case ACMPCA_EBADRESPONSE: return "invalid response from the service";
    case ACMPCA_EWAITER: return "waiter failed";
    case ACMPCA_ELIMIT: return "local limit exceeded";
    case ACMPCA_ECANCELLED: return "cancelled by the caller";
    case ACMPCA_ECRYPTO: return "cryptographic operation failed";
    case ACMPCA_ENOREGION: return "no region configured";
    case ACMPCA_EREGION: return "invalid region";
    case ACMPCA_EPROFILE: return "profile not found";
    case ACMPCA_ESERVICE: return "service error";
    default:
        if (code < ACMPCA_ESERVICE && code >= ACMPCA_ESERVICE_LAST)
            return acmpca_error_name(code);
        return "unknown error";
    }
}
