/*
 * transport.h - HTTP over libcurl with a small pool of reusable easy handles
 * (keep-alive connections), timeouts, TLS settings and a response size cap.
 */
#ifndef ACMPCA_TRANSPORT_H
#define ACMPCA_TRANSPORT_H

#include "internal.h"

typedef struct acmpca_transport acmpca_transport;

typedef struct acmpca_transport_options {
    long connect_timeout_ms;
    long read_timeout_ms;       /* longest silence while waiting for the response */
    int verify_tls;
    const char *ca_bundle;      /* NULL: the system store */
    size_t max_response_bytes;
    int pool_size;
    const char *user_agent;
    int no_proxy;               /* never use a proxy (credential endpoints on
                                   loopback/link-local): ignores http_proxy & co */
    /* An explicit proxy (NULL: libcurl reads http_proxy & co) and its TLS
     * files; borrowed, not copied: the creator keeps them alive. */
    const char *proxy;
    const char *proxy_ca_bundle;
    const char *proxy_client_cert;
    const char *proxy_client_key;
} acmpca_transport_options;

typedef struct acmpca_http_response {
    int status;
    acmpca_buf body;
    acmpca_header *headers;     /* names lowercased; strings owned here */
    size_t header_count;
    int packed;                 /* 1: headers and their strings are one block
                                   (acmpca__http_headers_pack); 0: each string
                                   is a block of its own */
} acmpca_http_response;

int acmpca__transport_new(acmpca_transport **out, const acmpca_transport_options *opts);
void acmpca__transport_free(acmpca_transport *t);
/* The options the transport was made with (its own copies of the strings). */
const acmpca_transport_options *acmpca__transport_options(const acmpca_transport *t);
/*
 * Send `req` and fill `resp` (zero-initialised by the caller but for
 * resp->body.secret, which is kept; cleared with
 * acmpca__http_response_clear in every case). `limit_ms` > 0 bounds the
 * whole exchange (what is left of a call's total_timeout_ms); 0: no bound
 * beyond the connect and read timeouts. Fails with ECONNECT,
 * ECONNECT_TIMEOUT, EREAD_TIMEOUT, ETLS, ENETWORK or ETOOLARGE.
 */
int acmpca__transport_send(acmpca_transport *t, const acmpca_http_request *req,
                           acmpca_http_response *resp, long limit_ms);
/* The response is the service's, never credentials: only the request head
 * holds secrets (see acmpca__curl_wipe_limit). */
#define ACMPCA__SEND_PUBLIC_RESPONSE 1
/* acmpca__transport_send with ACMPCA__SEND_* flags (0: the safe default). A
 * response body the caller marked secret (resp->body.secret) stays secret. */
int acmpca__transport_send_ex(acmpca_transport *t, const acmpca_http_request *req,
                              acmpca_http_response *resp, long limit_ms, int flags);
void acmpca__http_response_clear(acmpca_http_response *resp);
/*
 * A request with `room` bytes for its strings in the same block
 * (acmpca__prepare_request's): method "POST", nothing else set. Its strings
 * come from acmpca__request_strdup; acmpca_http_request_free wipes the room
 * and frees the block in one go, and frees whatever was allocated apart.
 */
acmpca_http_request *acmpca__request_new(size_t room);
/* `size` bytes in the request's room, or malloc'd when the room is full (or
 * the request has none); NULL when out of memory. */
char *acmpca__request_alloc(acmpca_http_request *req, size_t size);
/* A copy of s[0..len) in the request's room, or malloc'd when the room is full
 * (or the request has none); NULL when out of memory. */
char *acmpca__request_strdup(acmpca_http_request *req, const char *s, size_t len);
/* Let go of a string of the request: freed (wiped first when `secret`) when
 * allocated apart; one in the room stays until the request is freed. */
void acmpca__request_release(acmpca_http_request *req, char *s, int secret);
/* The room used so far is kept; what acmpca__request_strdup adds after this
 * (the signature's strings) goes with acmpca__request_rewind. */
void acmpca__request_mark(acmpca_http_request *req);
/* Wipe the room after the mark for reuse: only once every string put there
 * since has been released. */
void acmpca__request_rewind(acmpca_http_request *req);
/* `n` headers with their strings in one block, names lowercased: freed with
 * one free(*out). *out is NULL when n is 0. */
int acmpca__http_headers_pack(acmpca_header **out, const acmpca_header *src, size_t n);
/* Value of a response header (name in lowercase), or NULL. */
const char *acmpca__http_response_header(const acmpca_http_response *resp, const char *name);

#endif
