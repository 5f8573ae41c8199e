/*
 * acmpca/common.h - export macro, version, library initialisation and the
 * error model shared by every area of the API.
 *
 * Every fallible function returns an int: 0 on success, a negative ACMPCA_E*
 * code on failure. The detail of the last failure on the calling thread is
 * available from acmpca_error_last(), which never returns NULL.
 */
#ifndef ACMPCA_COMMON_H
#define ACMPCA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(ACMPCA_BUILDING)
#  define ACMPCA_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define ACMPCA_API __attribute__((visibility("default")))
#else
#  define ACMPCA_API
#endif

#define ACMPCA_VERSION_MAJOR 0
#define ACMPCA_VERSION_MINOR 1
#define ACMPCA_VERSION_PATCH 0
#define ACMPCA_VERSION "0.1.0"
/* 0xMMmmpp: compare with acmpca_version_number() to detect a mismatch. */
#define ACMPCA_VERSION_NUMBER \
    ((ACMPCA_VERSION_MAJOR << 16) | (ACMPCA_VERSION_MINOR << 8) | ACMPCA_VERSION_PATCH)

/* Free a string or buffer the library returned as caller-owned. NULL is a no-op. */
ACMPCA_API void acmpca_free(void *ptr);

/* The version string of the library actually loaded, e.g. "0.1.0". */
ACMPCA_API const char *acmpca_version(void);
/* ACMPCA_VERSION_NUMBER of the library actually loaded. */
ACMPCA_API int acmpca_version_number(void);

/*
 * Process-wide state (libcurl's, the signer's), reference-counted like
 * curl_global_init: each user of the library (a program, a lua_State, the
 * Python module) calls acmpca_global_init() once before creating clients and
 * acmpca_global_cleanup() once when done. Only the first init sets things up
 * and only the cleanup matching the last outstanding init releases them, so
 * one user leaving never disturbs another; a cleanup without an outstanding
 * init does nothing. Both are thread-safe, but the last cleanup must not run
 * while a client or a signer call is in use on another thread.
 *
 * The first init also gives libcurl allocators that wipe every block before
 * freeing it (glibc only), so its copies of the Authorization and
 * X-Amz-Security-Token headers do not outlive a request. They are installed
 * only if libcurl was not initialised already: a program that initialises
 * libcurl itself first keeps its own allocators.
 */
ACMPCA_API int acmpca_global_init(void);
ACMPCA_API void acmpca_global_cleanup(void);

/*
 * Error codes. Client-side kinds first, then one code per error the service
 * can return (the 19 exceptions of the ACM PCA model plus the common
 * AccessDenied, Throttling and Validation), then ACMPCA_ESERVICE for any other
 * service error code, whose name is kept in acmpca_error.aws_code.
 */
typedef enum acmpca_error_code {
    ACMPCA_OK = 0,
    ACMPCA_EINVAL = -1,            /* bad argument to a library function */
    ACMPCA_ENOMEM = -2,            /* out of memory */
    ACMPCA_EPARAM = -3,            /* input does not match the API model */
    ACMPCA_ENOCREDENTIALS = -4,    /* no provider found credentials */
    ACMPCA_ECREDENTIALS = -5,      /* a provider failed while fetching */
    ACMPCA_EENDPOINT = -6,         /* no endpoint for this configuration */
    ACMPCA_ECONFIG = -7,           /* bad configuration value or file */
    ACMPCA_ECONNECT = -8,          /* could not connect (refused, DNS, ...) */
    ACMPCA_ECONNECT_TIMEOUT = -9,  /* connecting took too long */
    ACMPCA_EREAD_TIMEOUT = -10,    /* the response took too long */
    ACMPCA_ETLS = -11,             /* TLS handshake or verification failed */
    ACMPCA_ENETWORK = -12,         /* connection reset, response cut short */
    ACMPCA_ETOOLARGE = -13,        /* response body over the size cap */
    ACMPCA_EBADRESPONSE = -14,     /* a success response that is not valid */
    ACMPCA_EWAITER = -15,          /* a waiter failed or gave up */
    ACMPCA_ELIMIT = -16,           /* a local limit (file size, depth) */
    ACMPCA_ECANCELLED = -17,       /* the caller stopped it (a waiter's progress callback) */
    ACMPCA_ECRYPTO = -18,          /* OpenSSL failed (key generation, signing a CSR) */
    ACMPCA_ENOREGION = -19,        /* no region configured (and no endpoint URL) */
    ACMPCA_EREGION = -20,          /* the region is not a valid host label */
    ACMPCA_EPROFILE = -21,         /* a named profile in neither the config nor credentials file */

    /* Service errors. */
    ACMPCA_ESERVICE = -100,                       /* any other AWS code */
    ACMPCA_E_CERTIFICATE_MISMATCH = -101,         /* CertificateMismatchException */
    ACMPCA_E_CONCURRENT_MODIFICATION = -102,      /* ConcurrentModificationException */
    ACMPCA_E_INVALID_ARGS = -103,                 /* InvalidArgsException */
    ACMPCA_E_INVALID_ARN = -104,                  /* InvalidArnException */
    ACMPCA_E_INVALID_NEXT_TOKEN = -105,           /* InvalidNextTokenException */
    ACMPCA_E_INVALID_POLICY = -106,               /* InvalidPolicyException */
    ACMPCA_E_INVALID_REQUEST = -107,              /* InvalidRequestException */
    ACMPCA_E_INVALID_STATE = -108,                /* InvalidStateException */
    ACMPCA_E_INVALID_TAG = -109,                  /* InvalidTagException */
    ACMPCA_E_LIMIT_EXCEEDED = -110,               /* LimitExceededException */
    ACMPCA_E_LOCKOUT_PREVENTED = -111,            /* LockoutPreventedException */
    ACMPCA_E_MALFORMED_CSR = -112,                /* MalformedCSRException */
    ACMPCA_E_MALFORMED_CERTIFICATE = -113,        /* MalformedCertificateException */
    ACMPCA_E_PERMISSION_ALREADY_EXISTS = -114,    /* PermissionAlreadyExistsException */
    ACMPCA_E_REQUEST_ALREADY_PROCESSED = -115,    /* RequestAlreadyProcessedException */
    ACMPCA_E_REQUEST_FAILED = -116,               /* RequestFailedException */
    ACMPCA_E_REQUEST_IN_PROGRESS = -117,          /* RequestInProgressException */
    ACMPCA_E_RESOURCE_NOT_FOUND = -118,           /* ResourceNotFoundException */
    ACMPCA_E_TOO_MANY_TAGS = -119,                /* TooManyTagsException */
    ACMPCA_E_ACCESS_DENIED = -120,                /* AccessDeniedException */
    ACMPCA_E_THROTTLING = -121,                   /* ThrottlingException */
    ACMPCA_E_VALIDATION = -122                    /* ValidationException */
} acmpca_error_code;

#define ACMPCA_ESERVICE_FIRST ACMPCA_E_CERTIFICATE_MISMATCH
#define ACMPCA_ESERVICE_LAST ACMPCA_E_VALIDATION

/* True for codes that carry an answer from the service. */
#define ACMPCA_IS_SERVICE_ERROR(code) \
    ((code) <= ACMPCA_ESERVICE && (code) >= ACMPCA_ESERVICE_LAST)

/*
 * The detail of a failure. All strings are NUL-terminated and never NULL
 * (empty when unknown). Owned by the library, valid until the next call into
 * the library on the same thread.
 */
typedef struct acmpca_error {
    int code;                /* an acmpca_error_code */
    const char *aws_code;    /* AWS error name, e.g. "ResourceNotFoundException" */
    const char *message;     /* human-readable; names the field for ACMPCA_EPARAM */
    int http_status;         /* 0 when no response was received */
    const char *request_id;  /* x-amzn-RequestId of the failing response */
    const char *operation;   /* e.g. "IssueCertificate" */
    int retryable;           /* 1 when a retry could succeed */
    int attempts;            /* how many attempts were made */
    const char *waiter;      /* ACMPCA_EWAITER / ACMPCA_ECANCELLED: the waiter's name */
    const char *waiter_state; /* what ended it: the matched failure ("AuditReportStatus=FAILED",
                                 "AccessDeniedException"), "max_attempts" or "cancelled" */
    const char *stage;       /* where a call failed: "validate" (the input), "credentials",
                                "sign", "send" (no complete answer), "response" (the
                                service's error or a bad answer), "waiter"; "" otherwise */
    const char *subject;     /* the value a configuration error is about: the region
                                (ACMPCA_EREGION), the profile name (ACMPCA_EPROFILE), up to 255
                                bytes; "" otherwise */
} acmpca_error;

/* The last failure on this thread; code ACMPCA_OK if none. Never NULL. */
ACMPCA_API const acmpca_error *acmpca_error_last(void);
/* Forget the last failure on this thread. */
ACMPCA_API void acmpca_error_clear(void);
/* A static, short description of any code (never NULL). */
ACMPCA_API const char *acmpca_strerror(int code);
/*
 * The class of error a binding raises for `code`, the same in every binding
 * (botocore's names): "ParamValidationError", "EndpointConnectionError",
 * "ReadTimeoutError", "WaiterError", ... "ClientError" for any service error
 * (whose own name is acmpca_error_name / acmpca_error.aws_code), "NoRegionError",
 * "InvalidRegionError" and "ProfileNotFound" for the three configuration
 * errors botocore names apart, "" for ACMPCA_OK, "GeneralError" for anything
 * else. Never NULL.
 */
ACMPCA_API const char *acmpca_error_class(int code);
/* "ResourceNotFoundException" for a service code, "" otherwise. */
ACMPCA_API const char *acmpca_error_name(int code);
/*
 * The code for an AWS error name ("ResourceNotFoundException"), or
 * ACMPCA_ESERVICE when the name is not one we model.
 */
ACMPCA_API int acmpca_error_code_from_name(const char *aws_code);

#ifdef __cplusplus
}
#endif
#endif
