/*
 * internal.h - helpers shared by the files of core/src: error recording,
 * a growable byte buffer, string and secret helpers. Never installed.
 */
#ifndef ACMPCA_INTERNAL_H
#define ACMPCA_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "acmpca.h"

#if defined(__GNUC__)
#  define ACMPCA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define ACMPCA_PRINTF(a, b)
#endif

/* The thread-local error with its text, as error.c keeps it. */
typedef struct acmpca_error_state {
    acmpca_error pub;
    char aws_code[128];
    char message[1024];
    char request_id[128];
    char operation[64];
    char waiter[64];
    char waiter_state[64];
    char subject[256];
} acmpca_error_state;

/* Copy this thread's last error out, or back in (a call machine keeps its
 * failure across driver calls, possibly on another thread). */
void acmpca__error_save(acmpca_error_state *dst);
void acmpca__error_restore(const acmpca_error_state *src);

/* Record a client-side failure on this thread and return `code`. */
int acmpca__error_set(int code, const char *fmt, ...) ACMPCA_PRINTF(2, 3);
/* Record a failure answered by the service and return its code. */
int acmpca__error_set_service(int code, const char *aws_code, const char *message,
                              int http_status, const char *request_id);
/* Annotate the current failure (keeps code and message). */
void acmpca__error_annotate(const char *operation, int attempts, int retryable);
/* Name the waiter behind the current failure and what ended it. */
void acmpca__error_set_waiter(const char *waiter, const char *state);
/* The value the current failure is about (see acmpca_error.subject). */
void acmpca__error_set_subject(const char *subject);
/* Where the current failure happened (a static string; see acmpca_error.stage). */
void acmpca__error_set_stage(const char *stage);
/* Attach the HTTP status of the response behind the current failure. */
void acmpca__error_set_http_status(int http_status);
/* Attach the request id of the response behind the current failure (NULL: none). */
void acmpca__error_set_request_id(const char *request_id);
/* Change the code of the current failure, keeping its detail. */
void acmpca__error_recode(int code);
/* Append text to the current message. */
void acmpca__error_append(const char *suffix);
/* Prefix the current message with "prefix: " (keeps everything else). */
void acmpca__error_prefix(const char *prefix);

/* A growable, always NUL-terminated byte buffer. Zero-initialise to start. */
typedef struct acmpca_buf {
    char *ptr;
    size_t len;
    size_t cap;
    int secret;   /* set before the first append: growth copies and wipes the old
                     block instead of realloc, and acmpca__buf_free wipes */
    int borrowed; /* ptr is the caller's storage (acmpca__buf_on), never freed */
} acmpca_buf;

/* Start `b` in the caller's storage (a stack array): no allocation unless it
 * outgrows it, then it moves to the heap (wiping the storage if secret).
 * acmpca__buf_free and _detach work as usual. */
void acmpca__buf_on(acmpca_buf *b, char *store, size_t size, int secret);

/* Room for `extra` more bytes at once (a secret buffer then grows no more). */
int acmpca__buf_reserve(acmpca_buf *b, size_t extra);
int acmpca__buf_append_slow(acmpca_buf *b, const void *data, size_t len);
/* Inline while the text fits the room already there: the signer and the
 * serializer append dozens of short pieces per call. */
static inline int acmpca__buf_append(acmpca_buf *b, const void *data, size_t len)
{
    if (b->ptr && b->cap - b->len > len) {
        if (len)
            memcpy(b->ptr + b->len, data, len);
        b->len += len;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return acmpca__buf_append_slow(b, data, len);
}
static inline int acmpca__buf_puts(acmpca_buf *b, const char *s)
{
    return acmpca__buf_append(b, s, strlen(s));
}
/* On a secret buffer, a format that does not fit the spare room at once costs
 * a wipe of the stack below (see util.c); append long secrets instead. */
int acmpca__buf_printf(acmpca_buf *b, const char *fmt, ...) ACMPCA_PRINTF(2, 3);
/* Hand the bytes over to the caller (never NULL on success). */
char *acmpca__buf_detach(acmpca_buf *b);
void acmpca__buf_free(acmpca_buf *b);
/* Wipe, then free. For buffers that held secrets. */
void acmpca__buf_free_secret(acmpca_buf *b);

/* Wipe `n` bytes that held a secret, never optimised away: glibc's
 * explicit_bzero (a memset) where there is one, else OPENSSL_cleanse (a byte
 * loop, several times slower on the per-call buffers). */
void acmpca__wipe(void *p, size_t n);
char *acmpca__strdup(const char *s);             /* NULL in -> NULL out */
char *acmpca__strndup(const char *s, size_t n);
/* Wipe a NUL-terminated secret with OPENSSL_cleanse, then free it. */
void acmpca__free_secret(char *s);
/* Case-insensitive ASCII compare, as strcasecmp but locale-free. */
int acmpca__strcaseeq(const char *a, const char *b);
/* 1 if `s` holds a byte that must not reach an HTTP header: CR, LF or any
 * other control character but TAB. */
int acmpca__has_ctl_char(const char *s);
/* A monotonic clock in milliseconds. */
int64_t acmpca__now_ms(void);
/* Environment variable, or NULL when unset or empty. */
const char *acmpca__getenv(const char *name);

/* Standard base64 without line breaks. Caller frees the result. */
char *acmpca__base64_encode(const unsigned char *data, size_t len);
/* Decode standard base64 (whitespace ignored); NULL if invalid. Caller frees. */
unsigned char *acmpca__base64_decode(const char *text, size_t *out_len);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian calendar), and back. */
int64_t acmpca__days_from_civil(int64_t year, int month, int day);
void acmpca__civil_from_days(int64_t days, int *year, int *month, int *day);
/* Entity-decoded text of the first <tag> after the first <scope> (NULL:
 * anywhere) in NUL-terminated XML; NULL if none. Caller frees; built in a
 * secret buffer (it may be a secret key or a session token). */
char *acmpca__xml_text(const char *xml, const char *scope, const char *tag);
/*
 * Have `fn` run at the acmpca_global_cleanup() that ends the library's use
 * (the 1 -> 0 transition), once however often it is registered: a subsystem
 * registers its own cleanup when it first creates process-wide state. `fn`
 * runs under the library's global lock and must not call back into it.
 */
void acmpca__global_on_cleanup(void (*fn)(void));
/*
 * Bound the wipe of the blocks libcurl frees on this thread to their first
 * `n` bytes (0: wipe every byte, the default). Only for a transfer whose
 * secrets all lie within the first `n` bytes of any libcurl block: one whose
 * request head (the request line and headers, which libcurl writes at the
 * start of its buffers) is shorter than `n` and holds every secret, and whose
 * response holds none. Reset to 0 as soon as the transfer is over.
 */
void acmpca__curl_wipe_limit(size_t n);
/*
 * 0 when libcurl may be called. The Python extension (ACMPCA_LAZY_CURL)
 * loads libcurl at its first transfer, here, and fails with a typed error
 * naming what did not load (bindings/python/curl_lazy.c); elsewhere libcurl
 * is linked and this costs nothing.
 */
#ifdef ACMPCA_LAZY_CURL
int acmpca__curl_load(void);
#else
static inline int acmpca__curl_load(void) { return 0; }
#endif
/* Lookups the signing-key cache answered (for tests). */
unsigned long acmpca__sign_cache_hits(acmpca_sign_cache *cache);
/* acmpca_sign for a request about to be sent: the same headers and
 * signature, without the copies of the URL, canonical request and string to
 * sign (left NULL) that only a caller inspecting them needs. */
int acmpca__sign_headers(acmpca_signed **out, const acmpca_sign_input *in,
                         acmpca_sign_cache *cache);
/* Lowercase hex of `len` bytes into `out` (2*len+1 bytes). */
/*
 * The signature of the client's own requests, by a path of its own: a POST to
 * "/" of the endpoint, no query, Content-Type and X-Amz-Target its only
 * headers. The headers and Authorization value are byte for byte those
 * acmpca__sign_headers gives the same request (tests/c/test_sign_post.c).
 */
typedef struct acmpca__post_input {
    const char *host;           /* the Host value, from acmpca__sign_post_host */
    const char *content_type;   /* the request's two header values */
    const char *target;
    const char *body;
    size_t body_len;
    const char *region;         /* those given to acmpca__sign_post_host */
    const char *service;
    const char *access_key_id;
    const char *secret_access_key;
    /* acmpca__secret_id(secret_access_key), as a shared credentials entry
     * keeps it (acmpca__credentials_secret_id); NULL: computed here. */
    const unsigned char *secret_id;
    const char *session_token;  /* NULL when none */
    int64_t timestamp;
} acmpca__post_input;
/* The Host value to sign `url`'s requests with (*host, the caller frees), or
 * *host NULL when that URL, region or service needs the general signer: a
 * path other than "/", a query, anything acmpca_sign would refuse. */
int acmpca__sign_post_host(const char *url, const char *region, const char *service,
                           char **host);
/* The bytes (NUL included) of acmpca__sign_post's Authorization value for an
 * access key id of `akid_len` characters, with or without a session token. */
size_t acmpca__sign_post_auth_size(const char *region, const char *service, size_t akid_len,
                                   int session_token);
/* The X-Amz-Date value and the Authorization value (into `auth`, of
 * `auth_size` bytes: acmpca__sign_post_auth_size of `in`, or more) for `in`;
 * 1 (nothing done) when an input is not one this path signs as acmpca_sign
 * would (spaces or control characters in a value, an invalid key or time):
 * then acmpca__sign_headers signs it or says what is wrong. */
int acmpca__sign_post(const acmpca__post_input *in, acmpca_sign_cache *cache,
                      char amz_date[17], char *auth, size_t auth_size);
void acmpca__hex(char *out, const unsigned char *data, size_t len);
/* What the signing-key cache knows a secret by: its SHA-256 (32 bytes). */
#define ACMPCA__SECRET_ID_LEN 32
void acmpca__secret_id(unsigned char out[ACMPCA__SECRET_ID_LEN], const char *secret);

#endif
