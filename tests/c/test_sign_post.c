/*
 * test_sign_post.c - the signing path of the client's own requests
 * (acmpca__sign_post, client.c's sign_post) against the general signer
 * (acmpca_sign): for several operations and endpoints, with and without a
 * session token, with headers added by acmpca_machine_set_header and when
 * re-signed for a retry, the headers a request is sent with are byte for byte
 * those acmpca_sign gives the same request at the same time. Inputs the fast
 * path does not sign (a token with a space, a bad key) get the general
 * signer's result or error; credentials whose secret rotates are signed
 * with the new one. No I/O.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "acmpca.h"
#include "client_internal.h"
#include "credentials_internal.h"
#include "internal.h"
#include "check.h"

#define AKID "AKIDEXAMPLE"
#define AKID_32 "AKIA0123456789ABCDEF0123456789AB"
#define AKID_33 AKID_32 "C"
#define AKID_128 AKID_32 AKID_32 AKID_32 AKID_32
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="

static const char *const endpoints[] = {
    "http://127.0.0.1:8080",                    /* a port in Host */
    "https://acm-pca.eu-west-1.amazonaws.com",  /* the default port: none */
    "https://example.com:443",                  /* the default port given: none */
    "http://[::1]:9000",                        /* IPv6 keeps its brackets */
    "http://localhost:8080/prefix",             /* a path: the general signer */
};

typedef struct op_case {
    const char *name;
    const char *input;
} op_case;

static const op_case ops[] = {
    {"GetCertificate", "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:eu-west-1:123456789012:"
                       "certificate-authority/ca\",\"CertificateArn\":\"arn:aws:acm-pca:"
                       "eu-west-1:123456789012:certificate-authority/ca/certificate/c1\"}"},
    {"ListCertificateAuthorities", "{}"},
    {"DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:eu-west-1:"
                                     "123456789012:certificate-authority/ca\"}"},
    {"CreatePermission", "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:eu-west-1:123456789012:"
                         "certificate-authority/ca\",\"Principal\":\"acm.amazonaws.com\","
                         "\"Actions\":[\"IssueCertificate\",\"GetCertificate\"]}"},
    /* With an IdempotencyToken the client adds. */
    {"IssueCertificate", "{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:eu-west-1:123456789012:"
                         "certificate-authority/ca\",\"Csr\":\"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K\","
                         "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Validity\":{\"Value\":30,"
                         "\"Type\":\"DAYS\"}}"},
};

/* "20150830T123600Z" -> seconds since the epoch. */
static int64_t parse_amz_date(const char *v)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    REQUIRE(v && strlen(v) == 16 &&
            sscanf(v, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec) == 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static const char *header(const acmpca_http_request *req, size_t from, const char *name)
{
    size_t i;
    for (i = from; i < req->header_count; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* The general signer's headers for the request's first `keep` headers, at the
 * time the request was signed (its X-Amz-Date). */
static acmpca_signed *general(const acmpca_client *c, const acmpca_http_request *req, size_t keep,
                              const acmpca_credentials *creds)
{
    acmpca_sign_input in;
    acmpca_signed *s = NULL;

    memset(&in, 0, sizeof(in));
    in.method = req->method;
    in.url = req->url;
    in.headers = req->headers;
    in.header_count = keep;
    in.body = req->body;
    in.body_len = req->body_len;
    in.region = c->signing_region;
    in.service = "acm-pca";
    in.access_key_id = creds->access_key_id;
    in.secret_access_key = creds->secret_access_key;
    in.session_token = creds->session_token;
    in.timestamp = parse_amz_date(header(req, keep, "X-Amz-Date"));
    REQUIRE(acmpca_sign(&s, &in, NULL) == 0);
    return s;
}

/* The request's signature headers equal the general signer's, in order. */
static void check_same(const acmpca_client *c, const acmpca_http_request *req, size_t keep,
                       const acmpca_credentials *creds, const char *what)
{
    acmpca_signed *s = general(c, req, keep, creds);
    size_t i;

    if (req->header_count - keep != s->header_count)
        fprintf(stderr, "%s: %zu signature headers, the general signer %zu\n", what,
                req->header_count - keep, s->header_count);
    CHECK_INT(req->header_count - keep, s->header_count);
    for (i = 0; i < s->header_count && keep + i < req->header_count; i++) {
        CHECK_STR(req->headers[keep + i].name, s->headers[i].name);
        CHECK_STR(req->headers[keep + i].value, s->headers[i].value);
    }
    acmpca_signed_free(s);
}

/* acmpca__sign_post with the Authorization value in a block of exactly the
 * size acmpca__sign_post_auth_size says (ASan sees a byte written past it);
 * *auth NULL unless it returns 0. One byte less is refused. */
static int post_sign(const acmpca__post_input *in, acmpca_sign_cache *cache, char date[17],
                     char **auth)
{
    size_t size = acmpca__sign_post_auth_size(in->region, in->service,
                                              in->access_key_id ? strlen(in->access_key_id) : 0,
                                              in->session_token != NULL);
    char *small = malloc(size - 1);
    int rc;

    *auth = malloc(size);
    REQUIRE(*auth != NULL && small != NULL);
    rc = acmpca__sign_post(in, NULL, date, small, size - 1);
    free(small);
    CHECK(rc == ACMPCA_EINVAL || rc == 1);
    if ((rc = acmpca__sign_post(in, cache, date, *auth, size)) != 0) {
        free(*auth);
        *auth = NULL;
    }
    return rc;
}

/* acmpca__sign_post itself on the request: handled, and the same Authorization. */
static void check_fast_path(const acmpca_client *c, const acmpca_http_request *req,
                            const acmpca_credentials *creds)
{
    acmpca__post_input in;
    acmpca_signed *s;
    char date[17], *auth = NULL;
    size_t i;

    REQUIRE(c->sign_host != NULL);
    memset(&in, 0, sizeof(in));
    in.host = c->sign_host;
    in.content_type = req->headers[0].value;
    in.target = req->headers[1].value;
    in.body = req->body;
    in.body_len = req->body_len;
    in.region = c->signing_region;
    in.service = "acm-pca";
    in.access_key_id = creds->access_key_id;
    in.secret_access_key = creds->secret_access_key;
    in.session_token = creds->session_token;
    in.timestamp = parse_amz_date(header(req, 2, "X-Amz-Date"));
    CHECK_INT(post_sign(&in, NULL, date, &auth), 0);
    s = general(c, req, 2, creds);
    for (i = 0; i < s->header_count; i++) {
        if (strcmp(s->headers[i].name, "Authorization") == 0)
            CHECK_STR(auth, s->headers[i].value);
        if (strcmp(s->headers[i].name, "X-Amz-Date") == 0)
            CHECK_STR(date, s->headers[i].value);
        if (strcmp(s->headers[i].name, "Host") == 0)
            CHECK_STR(c->sign_host, s->headers[i].value);
    }
    free(auth);
    acmpca_signed_free(s);
}

static void one_case(const char *endpoint, const char *akid, const char *token, const op_case *op,
                     int extras)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_credentials creds = {(char *)akid, SECRET, NULL, 0, "test"};
    acmpca_client *c = NULL;
    acmpca_machine *m = NULL;
    acmpca_http_request *req;
    cJSON *input = cJSON_Parse(op->input);
    char what[256];
    size_t keep = 2;
    int round;

    creds.session_token = (char *)token;
    snprintf(what, sizeof(what), "%s %s akid=%zu token=%s extras=%d", endpoint, op->name,
             strlen(akid), token ? "yes" : "no", extras);
    o.endpoint_url = endpoint;
    o.region = "eu-west-1";
    o.access_key_id = AKID;
    o.secret_access_key = SECRET;
    REQUIRE(input != NULL);
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    /* Only an endpoint with a path needs the general signer for every request. */
    CHECK_INT(c->sign_host != NULL, strstr(endpoint, "/prefix") == NULL);
    if (acmpca_machine_new_call(&m, c, op->name, input) != 0) {
        fprintf(stderr, "%s: %s\n", what, acmpca_error_last()->message);
        REQUIRE(0);
    }
    if (extras) {
        /* Sorted before, between and after the protocol's and the signer's names. */
        REQUIRE(acmpca_machine_set_header(m, "Zz-Trace", "  a   b  ") == 0);
        REQUIRE(acmpca_machine_set_header(m, "Accept-Language", "en") == 0);
        REQUIRE(acmpca_machine_set_header(m, "x-amz-meta", "1") == 0);
        keep += 3;
    }
    req = (acmpca_http_request *)acmpca_machine_request(m);
    for (round = 0; round < 2; round++) { /* the first signature, then a retry's */
        if (acmpca__sign_request_keeping(c, req, &creds, keep) != 0) {
            fprintf(stderr, "%s: %s\n", what, acmpca_error_last()->message);
            REQUIRE(0);
        }
        check_same(c, req, keep, &creds, what);
        if (!extras && c->sign_host)
            check_fast_path(c, req, &creds);
    }
    acmpca_machine_free(m);
    acmpca_client_free(c);
    cJSON_Delete(input);
}

/* What the fast path leaves to the general signer gets its result or error. */
static void fallbacks(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_credentials spaced = {AKID, SECRET, "tok  en with spaces", 0, "test"};
    acmpca_credentials bad_key = {"AKID/EXAMPLE", SECRET, NULL, 0, "test"};
    acmpca_credentials empty_token = {AKID, SECRET, "", 0, "test"};
    acmpca__post_input in;
    acmpca_client *c = NULL;
    acmpca_machine *m = NULL;
    acmpca_http_request *req;
    char date[17], *auth = NULL;

    o.endpoint_url = endpoints[0];
    o.access_key_id = AKID;
    o.secret_access_key = SECRET;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    REQUIRE(acmpca_machine_new_call(&m, c, "ListCertificateAuthorities", NULL) == 0);
    req = (acmpca_http_request *)acmpca_machine_request(m);

    /* A token whose spaces the canonical form collapses: signed, the general way. */
    REQUIRE(acmpca__sign_request_keeping(c, req, &spaced, 2) == 0);
    check_same(c, req, 2, &spaced, "token with spaces");
    CHECK_STR(header(req, 2, "X-Amz-Security-Token"), "tok  en with spaces");
    memset(&in, 0, sizeof(in));
    in.host = c->sign_host;
    in.content_type = req->headers[0].value;
    in.target = req->headers[1].value;
    in.body = req->body;
    in.body_len = req->body_len;
    in.region = c->signing_region;
    in.service = "acm-pca";
    in.access_key_id = AKID;
    in.secret_access_key = SECRET;
    in.session_token = spaced.session_token;
    in.timestamp = 1440938160;
    CHECK_INT(post_sign(&in, NULL, date, &auth), 1);
    CHECK(auth == NULL);

    /* A byte the canonical form changes (space, tab, control, DEL), anywhere
     * in a token or content type of any length, sends the fast path away;
     * bytes past 0x7f do not. */
    {
        static const char bad[] = {' ', '\t', '\x01', '\x1f', '\x7f'};
        char text[41], type[41];
        size_t len, at, b;
        for (len = 1; len <= 40; len++) {
            for (at = 0; at < len; at++) {
                for (b = 0; b < sizeof(bad); b++) {
                    memset(text, 'a', len);
                    text[len] = '\0';
                    text[at] = bad[b];
                    in.session_token = text;
                    if (post_sign(&in, NULL, date, &auth) != 1)
                        fprintf(stderr, "token of %zu bytes, byte %d at %zu: signed fast\n", len,
                                bad[b], at);
                    CHECK(auth == NULL);
                    free(auth);
                    auth = NULL;
                    memcpy(type, text, len + 1);
                    in.session_token = NULL;
                    in.content_type = type;
                    CHECK_INT(post_sign(&in, NULL, date, &auth), 1);
                    free(auth);
                    auth = NULL;
                    in.content_type = req->headers[0].value;
                }
            }
            memset(text, 'a', len);
            text[len] = '\0';
            text[len - 1] = '\x80';
            text[0] = '\xff';
            in.session_token = text;
            CHECK_INT(post_sign(&in, NULL, date, &auth), 0);
            free(auth);
            auth = NULL;
        }
        in.session_token = spaced.session_token;
    }

    /* Refused as the general signer refuses them, with its messages. */
    CHECK_INT(acmpca__sign_request_keeping(c, req, &bad_key, 2), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "access_key_id");
    CHECK_INT(acmpca__sign_request_keeping(c, req, &empty_token, 2), ACMPCA_EINVAL);
    CHECK_CONTAINS(acmpca_error_last()->message, "session_token: empty");
    acmpca_machine_free(m);
    acmpca_client_free(c);
}

/*
 * One cache for requests to different hosts and of different content types,
 * one after the other and back: each is signed as without a cache (the
 * canonical request's start, whose hash state the cache keeps, is never
 * another request's), a start too long to keep included.
 */
static void cache_shared_by_hosts(void)
{
    /* 8080 then 8081: starts of the same length, one after the other. */
    static const char *const hosts[] = {"127.0.0.1:8080", "127.0.0.1:8081",
                                        "acm-pca.eu-west-1.amazonaws.com", NULL};
    static const char *const types[] = {"application/x-amz-json-1.1", "application/json"};
    char long_host[300], date[17], date2[17], *with = NULL, *without = NULL;
    acmpca_sign_cache *cache = NULL;
    acmpca__post_input in;
    size_t round, h, t;

    memset(long_host, 'h', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    REQUIRE(acmpca_sign_cache_new(&cache) == 0);
    memset(&in, 0, sizeof(in));
    in.target = "ACMPrivateCA.GetCertificate";
    in.body = "{}";
    in.body_len = 2;
    in.region = "eu-west-1";
    in.service = "acm-pca";
    in.access_key_id = AKID;
    in.secret_access_key = SECRET;
    in.timestamp = 1440938160;
    for (round = 0; round < 2; round++)
        for (t = 0; t < 2; t++)
            for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
                in.host = hosts[h] ? hosts[h] : long_host;
                in.content_type = types[t];
                CHECK_INT(post_sign(&in, cache, date, &with), 0);
                CHECK_INT(post_sign(&in, NULL, date2, &without), 0);
                if (with && without)
                    CHECK_STR(with, without);
                free(with);
                free(without);
                with = without = NULL;
            }
    acmpca_sign_cache_free(cache);
}

/*
 * One cache for requests of one second and the next, of another day, with
 * another secret or session token and another operation, interleaved: each is
 * signed as without a cache (the hash states the cache keeps for a second,
 * the canonical request's start and the string to sign's head, are never
 * those of another second, key or request).
 */
/* The X-Amz-Date and the scope's date in `auth` are those of `t`, by the C
 * library's calendar (the signer keeps the last second's text). */
static void check_dates(int64_t t, const char *date, const char *auth)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char want[17], scope[64];

    REQUIRE(gmtime_r(&tt, &tm) != NULL);
    strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", &tm);
    CHECK_STR(date, want);
    snprintf(scope, sizeof(scope), "Credential=" AKID "/%.8s/eu-west-1/acm-pca/", want);
    if (auth)
        CHECK_CONTAINS(auth, scope);
}

static void cache_across_seconds_and_keys(void)
{
    /* Seconds apart, a day apart at the same time of day, back again. */
    static const int64_t times[] = {1440938160, 1440938160, 1440938161, 1440938161,
                                    1440938160, 1441024561, 1440938161, 1441024560,
                                    1440938160, 1440979199, 1440979200};
    static const char *const secrets[] = {SECRET, "another/secret/key/EXAMPLEKEY00000000000"};
    static const char *const tokens[] = {NULL, TOKEN, "another-token"};
    static const char *const targets[] = {"ACMPrivateCA.GetCertificate",
                                          "ACMPrivateCA.IssueCertificate"};
    char date[17], date2[17], *with = NULL, *without = NULL;
    acmpca_sign_cache *cache = NULL;
    acmpca__post_input in;
    size_t round, t, k, tok, op;

    REQUIRE(acmpca_sign_cache_new(&cache) == 0);
    memset(&in, 0, sizeof(in));
    in.host = "127.0.0.1:8080";
    in.content_type = "application/x-amz-json-1.1";
    in.body = "{\"CertificateAuthorityArn\":\"arn\"}";
    in.body_len = strlen(in.body);
    in.region = "eu-west-1";
    in.service = "acm-pca";
    in.access_key_id = AKID;
    for (round = 0; round < 2; round++)
        for (t = 0; t < sizeof(times) / sizeof(times[0]); t++)
            for (k = 0; k < 2; k++)
                for (tok = 0; tok < 3; tok++)
                    for (op = 0; op < 2; op++) {
                        in.timestamp = times[t];
                        in.secret_access_key = secrets[k];
                        in.session_token = tokens[tok];
                        in.target = targets[op];
                        CHECK_INT(post_sign(&in, cache, date, &with), 0);
                        CHECK_INT(post_sign(&in, NULL, date2, &without), 0);
                        if (with && without)
                            CHECK_STR(with, without);
                        CHECK_STR(date, date2);
                        check_dates(times[t], date, with);
                        free(with);
                        free(without);
                        with = without = NULL;
                    }
    acmpca_sign_cache_free(cache);
}

/* Credentials that a provider fetches anew on every get (they expire within
 * the refresh window): the same access key id, another secret each time. */
static int rotating_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    int *n = ctx;
    char secret[64];
    (void)why;
    (void)why_len;
    snprintf(secret, sizeof(secret), "rotated/secret/%d/EXAMPLEKEY0000000000000", ++*n);
    return acmpca_credentials_new(out, AKID, secret, *n % 2 ? TOKEN : NULL,
                                  (int64_t)time(NULL) + 60, NULL);
}

/*
 * The machine's credentials (shared entries, whose secret's cache id is made
 * when they are fetched): after each rotation of the secret under the same
 * access key id, the client signs with the new secret, as the general signer
 * does with it, through the client's signing-key cache.
 */
static void shared_credentials_rotating_secret(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    const acmpca_credentials *creds = NULL;
    acmpca_client *c = NULL;
    acmpca_machine *m = NULL;
    acmpca_http_request *req;
    int n = 0, round;

    o.endpoint_url = endpoints[0];
    o.access_key_id = AKID;
    o.secret_access_key = SECRET;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    REQUIRE(acmpca_credentials_provider_new(&p, "rotating", rotating_fetch, NULL, &n) == 0);
    REQUIRE(acmpca_machine_new_call(&m, c, "ListCertificateAuthorities", NULL) == 0);
    req = (acmpca_http_request *)acmpca_machine_request(m);
    for (round = 0; round < 4; round++) {
        REQUIRE(acmpca__credentials_get_shared(p, &creds) == 0);
        REQUIRE(acmpca__sign_request_shared(c, req, creds, 2) == 0);
        check_same(c, req, 2, creds, "rotated secret");
        acmpca__credentials_release(creds);
    }
    CHECK_INT(n, 4);
    acmpca_machine_free(m);
    acmpca_credentials_provider_unref(p);
    acmpca_client_free(c);
}

/* Header names compare by ASCII case rules alone (acmpca__strcaseeq): the fast
 * path's shape check and the signer's reserved names among them. */
static void ascii_case_folding(void)
{
    CHECK_INT(acmpca__strcaseeq("Content-Type", "cONTENT-tYPE"), 1);
    CHECK_INT(acmpca__strcaseeq("AUTHORIZATION", "Authorization"), 1);
    CHECK_INT(acmpca__strcaseeq("", ""), 1);
    CHECK_INT(acmpca__strcaseeq("X-Amz-Date", "X-Amz-Dat"), 0);
    CHECK_INT(acmpca__strcaseeq("X-Amz-Dat", "X-Amz-Date"), 0);
    CHECK_INT(acmpca__strcaseeq("[", "{"), 0);   /* 0x5b, 0x7b: one bit apart */
    CHECK_INT(acmpca__strcaseeq("@", "`"), 0);
    CHECK_INT(acmpca__strcaseeq("\xc0", "\xe0"), 0); /* Latin-1 letters are not folded */
    CHECK_INT(acmpca__strcaseeq("\xc0", "\xc0"), 1);
}

int main(void)
{
    size_t e, i;
    int extras;

    if (acmpca_global_init() != 0)
        return 1;
    for (e = 0; e < sizeof(endpoints) / sizeof(endpoints[0]); e++)
        for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
            for (extras = 0; extras < 2; extras++) {
                one_case(endpoints[e], AKID, NULL, &ops[i], extras);
                one_case(endpoints[e], AKID, TOKEN, &ops[i], extras);
                /* The longest key id whose Authorization value fits in the
                 * request's own block, and longer ones: written apart. */
                one_case(endpoints[e], AKID_32, NULL, &ops[i], extras);
                one_case(endpoints[e], AKID_33, NULL, &ops[i], extras);
                one_case(endpoints[e], AKID_128, TOKEN, &ops[i], extras);
            }
    ascii_case_folding();
    fallbacks();
    cache_shared_by_hosts();
    cache_across_seconds_and_keys();
    shared_credentials_rotating_secret();
    acmpca_global_cleanup();
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
