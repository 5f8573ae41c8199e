/*
 * test_sigv4.c - SigV4 signing against the aws-c-auth suite, and unit tests.
 *
 *   test_sigv4 <casedir>  one suite case (tests/fixtures/sigv4/v4/<case>):
 *                         signs request.txt with headers and as a presigned
 *                         URL and compares canonical request, string to sign,
 *                         signature and the signed request with the case's
 *                         header-*.txt and query-*.txt files. Folded header
 *                         lines are unfolded first: the signer refuses CR/LF.
 *   test_sigv4 --unit     the key cache, input errors (header injection
 *                         among them), Host with a port, flags, and that the
 *                         secret never leaks.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acmpca.h"
#include "internal.h"
#include "check.h"


#define MAX_HEADERS 32

/* ------------------------------------------------------------------------ */
/* Helpers */

static int ascii_caseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    REQUIRE(p != NULL);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* The whole file, NUL-terminated; exits when it cannot be read. */
static char *read_file(const char *dir, const char *name, size_t *len_out)
{
    char path[4096];
    FILE *f;
    char *data = NULL;
    size_t len = 0, cap = 0, n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            data = realloc(data, cap + 1);
            REQUIRE(data != NULL);
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    REQUIRE(!ferror(f));
    fclose(f);
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}

/* An expected-value file without its final line break, if it has one. */
static char *read_expected(const char *dir, const char *name)
{
    size_t len;
    char *s = read_file(dir, name, &len);

    if (len && s[len - 1] == '\n')
        s[--len] = '\0';
    if (len && s[len - 1] == '\r')
        s[--len] = '\0';
    return s;
}

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *find_header(const acmpca_signed *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->header_count; i++)
        if (ascii_caseeq(s->headers[i].name, name))
            return s->headers[i].value;
    return NULL;
}

/* Seconds since the epoch for "YYYY-MM-DDTHH:MM:SSZ" (days_from_civil). */
static int64_t parse_iso8601(const char *s)
{
    int y, m, d, hh, mm, ss;
    int64_t era, yoe, doy, doe, days;

    REQUIRE(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &m, &d, &hh, &mm, &ss) == 6);
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* ------------------------------------------------------------------------ */
/* request.txt and *-signed-request.txt */

typedef struct http_request {
    char *method;
    char *target;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS]; /* folded lines unfolded: joined with " " */
    acmpca_header headers[MAX_HEADERS];
    size_t header_count;
    char *body;
    size_t body_len;
} http_request;

static void request_free(http_request *r)
{
    size_t i;

    free(r->method);
    free(r->target);
    for (i = 0; i < r->header_count; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/*
 * "METHOD target HTTP/1.1", header lines (a line starting with whitespace
 * continues the previous value), a blank line, the body. The target may hold
 * spaces ("/example space/"), so it ends at the last " HTTP/".
 */
static void parse_request(http_request *r, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *eol, *http, *sp;
    size_t line_len;

    memset(r, 0, sizeof(*r));
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    line_len = (size_t)(eol - p);
    if (line_len && p[line_len - 1] == '\r')
        line_len--;
    sp = memchr(p, ' ', line_len);
    REQUIRE(sp != NULL);
    for (http = p + line_len - 1; http > sp && strncmp(http, " HTTP/", 6) != 0; http--)
        ;
    REQUIRE(http > sp);
    r->method = xstrndup(p, (size_t)(sp - p));
    r->target = xstrndup(sp + 1, (size_t)(http - sp - 1));
    p = eol < end ? eol + 1 : end;

    while (p < end) {
        const char *colon;
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        line_len = (size_t)(eol - p);
        if (line_len && p[line_len - 1] == '\r')
            line_len--;
        if (line_len == 0) {
            p = eol < end ? eol + 1 : end;
            break;
        }
        if ((*p == ' ' || *p == '\t') && r->header_count) {
            char **v = &r->values[r->header_count - 1];
            size_t old = strlen(*v);
            *v = realloc(*v, old + 1 + line_len + 1);
            REQUIRE(*v != NULL);
            (*v)[old] = ' '; /* the signer refuses line breaks in a value */
            memcpy(*v + old + 1, p, line_len);
            (*v)[old + 1 + line_len] = '\0';
        } else {
            colon = memchr(p, ':', line_len);
            REQUIRE(colon != NULL && r->header_count < MAX_HEADERS);
            r->names[r->header_count] = xstrndup(p, (size_t)(colon - p));
            r->values[r->header_count] = xstrndup(colon + 1, line_len - (size_t)(colon + 1 - p));
            r->header_count++;
        }
        p = eol < end ? eol + 1 : end;
    }
    r->body_len = (size_t)(end - p);
    r->body = xstrndup(p, r->body_len);
    for (line_len = 0; line_len < r->header_count; line_len++) {
        r->headers[line_len].name = r->names[line_len];
        r->headers[line_len].value = r->values[line_len];
    }
}

/*
 * What a user would send: the request's headers plus those the signer
 * returned must be exactly the signed request's headers (in any order).
 */
static void check_header_set(const char *what, const http_request *expected,
                             const acmpca_header *req, size_t req_count, const acmpca_signed *s)
{
    const acmpca_header *have[2 * MAX_HEADERS];
    int used[2 * MAX_HEADERS] = {0};
    size_t n = 0, i, j;

    for (i = 0; i < req_count; i++)
        have[n++] = &req[i];
    for (i = 0; i < s->header_count; i++)
        have[n++] = &s->headers[i];
    if (n != expected->header_count) {
        fprintf(stderr, "%s: %zu headers, expected %zu\n", what, n, expected->header_count);
        check_failures++;
    }
    for (i = 0; i < expected->header_count; i++) {
        for (j = 0; j < n; j++)
            if (!used[j] && ascii_caseeq(have[j]->name, expected->names[i]) &&
                strcmp(have[j]->value, expected->values[i]) == 0)
                break;
        if (j == n) {
            fprintf(stderr, "%s: missing header \"%s:%s\"\n", what, expected->names[i],
                    expected->values[i]);
            check_failures++;
        } else {
            used[j] = 1;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* One suite case */

typedef struct suite_case {
    const char *dir;
    cJSON *context;
    http_request req;
    char *url;
    acmpca_sign_input in;
    unsigned base_flags;
    int sign_body;
    const char *host;
} suite_case;

static const char *json_string(const cJSON *obj, const char *key, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (required)
        REQUIRE(cJSON_IsString(v));
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int json_bool(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static void case_load(suite_case *c, const char *dir)
{
    size_t len, i;
    char *text = read_file(dir, "context.json", &len);
    const char *parse_end = NULL;
    const cJSON *creds, *expires;

    memset(c, 0, sizeof(*c));
    c->dir = dir;
    c->context = cJSON_ParseWithLengthOpts(text, len, &parse_end, 0);
    if (!c->context)
        fprintf(stderr, "context.json: parse error at offset %ld\n",
                parse_end ? (long)(parse_end - text) : -1L);
    free(text);
    REQUIRE(c->context != NULL);
    creds = cJSON_GetObjectItemCaseSensitive(c->context, "credentials");
    REQUIRE(cJSON_IsObject(creds));

    text = read_file(dir, "request.txt", &len);
    parse_request(&c->req, text, len);
    free(text);
    for (i = 0; i < c->req.header_count; i++)
        if (ascii_caseeq(c->req.names[i], "Host"))
            c->host = c->req.values[i];
    REQUIRE(c->host != NULL);
    c->url = malloc(strlen("https://") + strlen(c->host) + strlen(c->req.target) + 1);
    REQUIRE(c->url != NULL);
    sprintf(c->url, "https://%s%s", c->host, c->req.target);

    c->in.method = c->req.method;
    c->in.url = c->url;
    c->in.headers = c->req.headers;
    c->in.header_count = c->req.header_count;
    c->in.body = c->req.body;
    c->in.body_len = c->req.body_len;
    c->in.region = json_string(c->context, "region", 1);
    c->in.service = json_string(c->context, "service", 1);
    c->in.access_key_id = json_string(creds, "access_key_id", 1);
    c->in.secret_access_key = json_string(creds, "secret_access_key", 1);
    c->in.session_token = json_string(creds, "token", 0);
    c->in.timestamp = parse_iso8601(json_string(c->context, "timestamp", 1));
    expires = cJSON_GetObjectItemCaseSensitive(c->context, "expiration_in_seconds");
    c->in.expires_s = cJSON_IsNumber(expires) ? (unsigned)expires->valueint : 0;
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c->context, "normalize")))
        c->base_flags |= ACMPCA_SIGN_NO_PATH_NORMALIZE;
    if (json_bool(c->context, "omit_session_token"))
        c->base_flags |= ACMPCA_SIGN_UNSIGNED_TOKEN;
    c->sign_body = json_bool(c->context, "sign_body");
}

static void case_free(suite_case *c)
{
    cJSON_Delete(c->context);
    request_free(&c->req);
    free(c->url);
}

/* Compare a signing result with <prefix>-*.txt. */
static void check_against_files(const suite_case *c, const char *prefix,
                                const acmpca_sign_input *in, const acmpca_signed *s)
{
    char name[64], what[96];
    char *want;
    size_t len;
    http_request expected;

    snprintf(name, sizeof(name), "%s-canonical-request.txt", prefix);
    want = read_expected(c->dir, name);
    CHECK_STR(s->canonical_request, want);
    free(want);

    snprintf(name, sizeof(name), "%s-string-to-sign.txt", prefix);
    want = read_expected(c->dir, name);
    CHECK_STR(s->string_to_sign, want);
    free(want);

    snprintf(name, sizeof(name), "%s-signature.txt", prefix);
    want = read_expected(c->dir, name);
    CHECK_STR(s->signature, want);
    free(want);

    snprintf(name, sizeof(name), "%s-signed-request.txt", prefix);
    want = read_file(c->dir, name, &len);
    parse_request(&expected, want, len);
    free(want);
    CHECK_STR(in->method, expected.method);
    CHECK(in->body_len == expected.body_len &&
          memcmp(in->body, expected.body, expected.body_len) == 0);
    /* The URL to send: the input's for headers, the presigned one for query. */
    want = malloc(strlen("https://") + strlen(c->host) + strlen(expected.target) + 1);
    REQUIRE(want != NULL);
    sprintf(want, "https://%s%s", c->host, expected.target);
    CHECK_STR(s->url, want);
    free(want);
    snprintf(what, sizeof(what), "%s (%s Host)", name, in->header_count == c->req.header_count ?
             "given" : "from the URL");
    check_header_set(what, &expected, in->headers, in->header_count, s);
    request_free(&expected);
}

static int run_case(const char *dir)
{
    suite_case c;
    acmpca_sign_input in;
    acmpca_sign_cache *cache = NULL;
    acmpca_header no_host[MAX_HEADERS];
    size_t i, n = 0;
    int mode;

    case_load(&c, dir);
    for (i = 0; i < c.req.header_count; i++)
        if (!ascii_caseeq(c.req.names[i], "Host"))
            no_host[n++] = c.req.headers[i];
    REQUIRE(acmpca_sign_cache_new(&cache) == 0);

    for (mode = 0; mode < 2; mode++) {
        const char *prefix = mode ? "query" : "header";
        acmpca_signed *s = NULL, *s2 = NULL;
        unsigned long hits;
        int rc;

        in = c.in;
        in.flags = c.base_flags | (mode ? ACMPCA_SIGN_QUERY : 0) |
                   (!mode && c.sign_body ? ACMPCA_SIGN_CONTENT_SHA256 : 0);

        /* As the request is, without a cache. */
        rc = acmpca_sign(&s, &in, NULL);
        if (rc)
            fprintf(stderr, "%s: %s\n", prefix, acmpca_error_last()->message);
        REQUIRE(rc == 0 && s != NULL);
        check_against_files(&c, prefix, &in, s);
        CHECK(find_header(s, "Host") == NULL);

        /* Host left for the signer to take from the URL; through the cache. */
        in.headers = no_host;
        in.header_count = n;
        hits = acmpca__sign_cache_hits(cache);
        REQUIRE(acmpca_sign(&s2, &in, cache) == 0);
        check_against_files(&c, prefix, &in, s2);
        CHECK_STR(find_header(s2, "Host"), c.host);
        CHECK_INT(acmpca__sign_cache_hits(cache), hits + (mode ? 1 : 0));
        acmpca_signed_free(s2);

        /* The same body given as its hash instead. */
        if (c.req.body_len) {
            char hex[65];
            const char *h = strrchr(s->canonical_request, '\n') + 1;
            snprintf(hex, sizeof(hex), "%s", h);
            in.body = NULL;
            in.body_len = 0;
            in.body_sha256_hex = hex;
            REQUIRE(acmpca_sign(&s2, &in, cache) == 0);
            CHECK_STR(s2->signature, s->signature);
            acmpca_signed_free(s2);
        }
        acmpca_signed_free(s);
    }
    acmpca_sign_cache_free(cache);
    case_free(&c);
    return CHECK_DONE();
}

/* ------------------------------------------------------------------------ */
/* Unit tests */

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKW"
#define T_2015_08_30 INT64_C(1440938160) /* 2015-08-30T12:36:00Z */
#define VANILLA_SIG "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

static acmpca_sign_input vanilla(void)
{
    acmpca_sign_input in;

    memset(&in, 0, sizeof(in));
    in.method = "GET";
    in.url = "https://example.amazonaws.com/";
    in.region = "us-east-1";
    in.service = "service";
    in.access_key_id = "AKIDEXAMPLE";
    in.secret_access_key = SECRET;
    in.timestamp = T_2015_08_30;
    return in;
}

/* Sign, requiring success. */
static acmpca_signed *sign_ok(const acmpca_sign_input *in, acmpca_sign_cache *cache)
{
    acmpca_signed *s = NULL;
    int rc = acmpca_sign(&s, in, cache);

    if (rc)
        fprintf(stderr, "acmpca_sign: %d %s\n", rc, acmpca_error_last()->message);
    REQUIRE(rc == 0 && s != NULL);
    return s;
}

static void sig_of(char out[65], const acmpca_sign_input *in, acmpca_sign_cache *cache)
{
    acmpca_signed *s = sign_ok(in, cache);
    memcpy(out, s->signature, 65);
    acmpca_signed_free(s);
}

static void test_known_answer(void)
{
    acmpca_sign_input in = vanilla();
    acmpca_signed *s = sign_ok(&in, NULL);

    CHECK_STR(s->signature, VANILLA_SIG);
    CHECK_INT(s->header_count, 3);
    CHECK_STR(find_header(s, "Host"), "example.amazonaws.com");
    CHECK_STR(find_header(s, "X-Amz-Date"), "20150830T123600Z");
    CHECK_STR(find_header(s, "Authorization"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
              "aws4_request, SignedHeaders=host;x-amz-date, Signature=" VANILLA_SIG);
    CHECK_STR(s->url, in.url);
    acmpca_signed_free(s);
    acmpca_signed_free(NULL);
}

static void test_cache(void)
{
    acmpca_sign_cache *cache = NULL;
    acmpca_sign_input in = vanilla();
    char a[65], b[65], c[65], d[65], e[65];
    char regions[9][16];
    int i;

    CHECK_INT(acmpca_sign_cache_new(NULL), ACMPCA_EINVAL);
    acmpca_sign_cache_free(NULL);
    REQUIRE(acmpca_sign_cache_new(&cache) == 0 && cache != NULL);

    /* Same scope: the second signature reuses the key, and equals no-cache. */
    sig_of(a, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 0);
    sig_of(b, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 1);
    CHECK_STR(a, b);
    CHECK_STR(a, VANILLA_SIG);

    /* Next day: a different key, so a miss and a different signature. */
    in.timestamp += 86400;
    sig_of(c, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 1);
    CHECK(strcmp(c, a) != 0);
    sig_of(d, &in, NULL);
    CHECK_STR(c, d);
    /* Later the same day: same key, still a different signature (time). */
    in.timestamp += 60;
    sig_of(d, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 2);
    CHECK(strcmp(c, d) != 0);

    /* Another secret, same scope: never served the first secret's key. */
    in.timestamp = T_2015_08_30;
    in.secret_access_key = "another-secret";
    sig_of(e, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 2);
    CHECK(strcmp(e, a) != 0);
    sig_of(d, &in, NULL);
    CHECK_STR(e, d);
    acmpca_sign_cache_free(cache);

    /* Least recently used eviction with more scopes than slots (8). */
    REQUIRE(acmpca_sign_cache_new(&cache) == 0);
    in = vanilla();
    for (i = 0; i < 9; i++)
        snprintf(regions[i], sizeof(regions[i]), "region-%d", i);
    for (i = 0; i < 8; i++) {
        in.region = regions[i];
        sig_of(a, &in, cache);
        sig_of(b, &in, NULL);
        CHECK_STR(a, b);
    }
    CHECK_INT(acmpca__sign_cache_hits(cache), 0);
    in.region = regions[0];
    sig_of(a, &in, cache); /* hit: region-0 becomes the most recent */
    CHECK_INT(acmpca__sign_cache_hits(cache), 1);
    in.region = regions[8];
    sig_of(a, &in, cache); /* miss: evicts region-1 */
    CHECK_INT(acmpca__sign_cache_hits(cache), 1);
    in.region = regions[0];
    sig_of(a, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 2);
    in.region = regions[1];
    sig_of(a, &in, cache);
    CHECK_INT(acmpca__sign_cache_hits(cache), 2);
    sig_of(b, &in, NULL);
    CHECK_STR(a, b);
    acmpca_sign_cache_free(cache);
}

typedef struct thread_arg {
    acmpca_sign_cache *cache;
    const char (*want)[65];
    int id;
    int mismatches;
} thread_arg;

static void *sign_thread(void *p)
{
    thread_arg *t = p;
    acmpca_sign_input in = vanilla();
    int i;

    for (i = 0; i < 200; i++) {
        acmpca_signed *s = NULL;
        int day = (i + t->id) % 4;
        in.timestamp = T_2015_08_30 + day * 86400;
        if (acmpca_sign(&s, &in, t->cache) != 0 || strcmp(s->signature, t->want[day]) != 0)
            t->mismatches++;
        acmpca_signed_free(s);
    }
    return NULL;
}

/* The cache shared by threads (run under TSan in the sanitizer builds). */
static void test_cache_threads(void)
{
    acmpca_sign_cache *cache = NULL;
    acmpca_sign_input in = vanilla();
    char want[4][65];
    pthread_t th[4];
    thread_arg args[4];
    int i;

    for (i = 0; i < 4; i++) {
        in.timestamp = T_2015_08_30 + i * 86400;
        sig_of(want[i], &in, NULL);
    }
    REQUIRE(acmpca_sign_cache_new(&cache) == 0);
    for (i = 0; i < 4; i++) {
        args[i].cache = cache;
        args[i].want = (const char (*)[65])want;
        args[i].id = i;
        args[i].mismatches = 0;
        REQUIRE(pthread_create(&th[i], NULL, sign_thread, &args[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        REQUIRE(pthread_join(th[i], NULL) == 0);
        CHECK_INT(args[i].mismatches, 0);
    }
    CHECK(acmpca__sign_cache_hits(cache) >= 800 - 4 * 4);
    acmpca_sign_cache_free(cache);
}

/* Each entry breaks one field of vanilla(); the message must name it. */
typedef struct error_case {
    const char *label;
    int code;
    const char *message; /* a substring of the expected message */
} error_case;

static void mutate(int which, acmpca_sign_input *in, acmpca_header *h, acmpca_header *many)
{
    switch (which) {
    case 0: in->method = NULL; break;
    case 1: in->method = "GE T"; break;
    case 2: in->url = NULL; break;
    case 3: in->url = "ftp://example.amazonaws.com/"; break;
    case 4: in->url = "example.amazonaws.com/"; break;
    case 5: in->url = "https:///path"; break;
    case 6: in->url = "https://example.amazonaws.com:0/"; break;
    case 7: in->url = "https://example.amazonaws.com:99999/"; break;
    case 8: in->url = "https://example.amazonaws.com:8x/"; break;
    case 9: in->url = "https://user:pw@example.amazonaws.com/"; break;
    case 10: in->url = "https://example.amazonaws.com/\r\nX-Evil: 1"; break;
    case 11: in->headers = NULL; in->header_count = 1; break;
    case 12: h[0].name = NULL; break;
    case 13: h[0].name = "Bad Name"; break;
    case 14: h[1].value = NULL; break;
    case 15: h[0].value = "a\001b"; break;
    case 16: h[1].name = "authorization"; break;
    case 17: h[1].name = "X-Amz-Date"; break;
    case 18: in->body = NULL; in->body_len = 5; break;
    case 19: in->body_sha256_hex = "not a hash"; break;
    case 20: in->region = NULL; break;
    case 21: in->region = ""; break;
    case 22: in->region = "us-east-1/../x"; break;
    case 23: in->service = NULL; break;
    case 24: in->access_key_id = NULL; break;
    case 25: in->access_key_id = "AKID/EXAMPLE"; break;
    case 26: in->secret_access_key = NULL; break;
    case 27: in->secret_access_key = ""; break;
    case 28: in->session_token = ""; break;
    case 29: in->timestamp = 0; break;
    case 30: in->timestamp = -1; break;
    case 31: in->flags = 0x100; break;
    case 32: in->flags = ACMPCA_SIGN_QUERY; in->expires_s = 604801; break;
    case 33: in->headers = many; in->header_count = 1000; break;
    case 34: in->session_token = TOKEN; h[1].name = "x-amz-security-token"; break;
    case 35: in->flags = ACMPCA_SIGN_CONTENT_SHA256; h[1].name = "X-Amz-Content-SHA256"; break;
    /* Header injection: a line break would start a header nobody signed. */
    case 36: h[1].value = "v\r\nX-Injected: 1"; break;
    case 37: h[1].value = "v\nX-Injected: 1"; break;
    case 38: h[1].value = "v\rX-Injected: 1"; break;
    case 39: h[1].value = "folded\r\n continuation"; break;
    case 40: h[0].name = "X-Foo:"; break;
    case 41: h[0].name = "X-Foo\r\nX-Injected"; break;
    case 42: in->session_token = "token\r\nX-Injected: 1"; break;
    case 43: in->session_token = "token\n"; break;
    case 44: h[1].name = "X-Amz-Security-Token"; h[1].value = TOKEN "\r\nX-Injected: 1"; break;
    default: break;
    }
}

static void test_errors(void)
{
    static const error_case cases[] = {
        {"method NULL", ACMPCA_EINVAL, "method: required"},
        {"method with space", ACMPCA_EINVAL, "method: "},
        {"url NULL", ACMPCA_EINVAL, "url: required"},
        {"url ftp", ACMPCA_EINVAL, "url: expected an absolute http(s) URL"},
        {"url relative", ACMPCA_EINVAL, "url: expected an absolute http(s) URL"},
        {"url no host", ACMPCA_EINVAL, "url: no host"},
        {"url port 0", ACMPCA_EINVAL, "url: port"},
        {"url port too big", ACMPCA_EINVAL, "url: port"},
        {"url port not a number", ACMPCA_EINVAL, "url: bad port"},
        {"url userinfo", ACMPCA_EINVAL, "url: user information"},
        {"url CRLF", ACMPCA_EINVAL, "url: contains a control character"},
        {"headers NULL", ACMPCA_EINVAL, "headers: NULL"},
        {"header name NULL", ACMPCA_EINVAL, "headers[0].name: required"},
        {"header name invalid", ACMPCA_EINVAL, "headers[0].name: not a valid"},
        {"header value NULL", ACMPCA_EINVAL, "headers[1].value: required"},
        {"header value control", ACMPCA_EINVAL,
         "headers[0] \"My-Header1\": value contains a control character"},
        {"Authorization given", ACMPCA_EINVAL, "headers[1].name: authorization is added"},
        {"X-Amz-Date given", ACMPCA_EINVAL, "headers[1].name: X-Amz-Date is added"},
        {"body NULL", ACMPCA_EINVAL, "body: NULL"},
        {"body hash", ACMPCA_EINVAL, "body_sha256_hex: "},
        {"region NULL", ACMPCA_EINVAL, "region: required"},
        {"region empty", ACMPCA_EINVAL, "region: required"},
        {"region slash", ACMPCA_EINVAL, "region: may contain only"},
        {"service NULL", ACMPCA_EINVAL, "service: required"},
        {"access key NULL", ACMPCA_EINVAL, "access_key_id: required"},
        {"access key slash", ACMPCA_EINVAL, "access_key_id: contains"},
        {"secret NULL", ACMPCA_EINVAL, "secret_access_key: required"},
        {"secret empty", ACMPCA_EINVAL, "secret_access_key: required"},
        {"token empty", ACMPCA_EINVAL, "session_token: empty"},
        {"timestamp 0", ACMPCA_EINVAL, "timestamp: required"},
        {"timestamp negative", ACMPCA_EINVAL, "timestamp: -1 is outside"},
        {"flags unknown", ACMPCA_EINVAL, "flags: unknown bits 0x100"},
        {"expires too long", ACMPCA_EINVAL, "expires_s: 604801"},
        {"too many headers", ACMPCA_ELIMIT, "headers: more than"},
        {"token header given", ACMPCA_EINVAL, "headers[1].name: x-amz-security-token is added"},
        {"content sha given", ACMPCA_EINVAL, "headers[1].name: X-Amz-Content-SHA256 is added"},
        {"value CRLF", ACMPCA_EINVAL, "headers[1] \"My-Header2\": value contains a control"},
        {"value LF", ACMPCA_EINVAL, "headers[1] \"My-Header2\": value contains a control"},
        {"value CR", ACMPCA_EINVAL, "headers[1] \"My-Header2\": value contains a control"},
        {"value folded", ACMPCA_EINVAL, "headers[1] \"My-Header2\": value contains a control"},
        {"name with colon", ACMPCA_EINVAL, "headers[0].name: not a valid HTTP header name"},
        {"name CRLF", ACMPCA_EINVAL, "headers[0].name: not a valid HTTP header name"},
        {"token CRLF", ACMPCA_EINVAL, "session_token: contains a control character"},
        {"token LF", ACMPCA_EINVAL, "session_token: contains a control character"},
        {"token header CRLF", ACMPCA_EINVAL,
         "headers[1] \"X-Amz-Security-Token\": value contains a control"},
    };
    static acmpca_header many[1000];
    acmpca_signed dummy, *s;
    size_t i;
    int rc;

    for (i = 0; i < 1000; i++) {
        many[i].name = "X-Many";
        many[i].value = "1";
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acmpca_sign_input in = vanilla();
        acmpca_header h[2] = {{"My-Header1", "value1"}, {"My-Header2", "value2"}};
        const acmpca_error *err;

        in.headers = h;
        in.header_count = 2;
        mutate((int)i, &in, h, many);
        s = &dummy;
        acmpca_error_clear();
        rc = acmpca_sign(&s, &in, NULL);
        err = acmpca_error_last();
        if (rc != cases[i].code)
            fprintf(stderr, "case \"%s\": rc %d (%s)\n", cases[i].label, rc, err->message);
        CHECK_INT(rc, cases[i].code);
        CHECK(s == NULL);
        CHECK_INT(err->code, cases[i].code);
        CHECK_CONTAINS(err->message, cases[i].message);
        CHECK(strstr(err->message, SECRET) == NULL);
        /* Neither a value nor the token is ever quoted. */
        CHECK(strstr(err->message, "X-Injected") == NULL);
        CHECK(strstr(err->message, "value2") == NULL);
        CHECK(strstr(err->message, "AQoDYXdz") == NULL);
    }

    /* Arguments themselves. */
    {
        acmpca_sign_input in = vanilla();
        rc = acmpca_sign(NULL, &in, NULL);
        CHECK_INT(rc, ACMPCA_EINVAL);
        CHECK_CONTAINS(acmpca_error_last()->message, "out: required");
        s = &dummy;
        rc = acmpca_sign(&s, NULL, NULL);
        CHECK_INT(rc, ACMPCA_EINVAL);
        CHECK(s == NULL);
        CHECK_CONTAINS(acmpca_error_last()->message, "in: required");
    }
}

/* Host comes from the URL, with ":port" only when not the scheme's default. */
static void test_host(void)
{
    static const struct {
        const char *url, *host, *uri;
    } cases[] = {
        {"https://example.amazonaws.com:8443/", "example.amazonaws.com:8443", "/"},
        {"https://example.amazonaws.com:443/", "example.amazonaws.com", "/"},
        {"http://example.amazonaws.com:80/x", "example.amazonaws.com", "/x"},
        {"http://example.amazonaws.com:443/", "example.amazonaws.com:443", "/"},
        {"http://example.amazonaws.com/", "example.amazonaws.com", "/"},
        {"http://127.0.0.1:5000", "127.0.0.1:5000", "/"},
        {"https://[::1]:8443/a/b", "[::1]:8443", "/a/b"},
        {"https://[::1]/", "[::1]", "/"},
        {"HTTPS://example.amazonaws.com:8443?a=b", "example.amazonaws.com:8443", "/"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acmpca_sign_input in = vanilla();
        acmpca_signed *s;
        char want[256];
        int query;

        in.url = cases[i].url;
        for (query = 0; query < 2; query++) {
            in.flags = query ? ACMPCA_SIGN_QUERY : 0;
            s = sign_ok(&in, NULL);
            CHECK_STR(find_header(s, "Host"), cases[i].host);
            CHECK_INT(s->header_count, query ? 1 : 3);
            snprintf(want, sizeof(want), "GET\n%s\n", cases[i].uri);
            CHECK(has_prefix(s->canonical_request, want));
            snprintf(want, sizeof(want), "\nhost:%s\n", cases[i].host);
            CHECK_CONTAINS(s->canonical_request, want);
            acmpca_signed_free(s);
        }
    }
}

/* Nothing the signer returns holds the secret key (the token is expected). */
static void test_secret_never_leaks(void)
{
    static const unsigned flag_sets[] = {
        0, ACMPCA_SIGN_QUERY, ACMPCA_SIGN_CONTENT_SHA256, ACMPCA_SIGN_UNSIGNED_TOKEN,
        ACMPCA_SIGN_QUERY | ACMPCA_SIGN_UNSIGNED_TOKEN,
    };
    acmpca_sign_cache *cache = NULL;
    size_t i, j;

    REQUIRE(acmpca_sign_cache_new(&cache) == 0);
    for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        acmpca_sign_input in = vanilla();
        acmpca_header h[1] = {{"Content-Type", "application/x-amz-json-1.1"}};
        acmpca_signed *s;

        in.method = "POST";
        in.url = "https://acm-pca.us-east-1.amazonaws.com/";
        in.headers = h;
        in.header_count = 1;
        in.body = "{}";
        in.body_len = 2;
        in.session_token = TOKEN;
        in.flags = flag_sets[i];
        s = sign_ok(&in, cache);
        CHECK(strstr(s->canonical_request, SECRET) == NULL);
        CHECK(strstr(s->string_to_sign, SECRET) == NULL);
        CHECK(strstr(s->url, SECRET) == NULL);
        CHECK(strstr(s->signature, SECRET) == NULL);
        CHECK(strstr(s->canonical_request, "EXAMPLEKEY") == NULL);
        for (j = 0; j < s->header_count; j++) {
            CHECK(strstr(s->headers[j].name, SECRET) == NULL);
            CHECK(strstr(s->headers[j].value, SECRET) == NULL);
            CHECK(strstr(s->headers[j].value, "EXAMPLEKEY") == NULL);
        }
        acmpca_signed_free(s);
    }
    acmpca_sign_cache_free(cache);
}

static void test_header_flags(void)
{
    acmpca_sign_input in = vanilla();
    acmpca_signed *s;

    /* A signed session token. */
    in.session_token = TOKEN;
    s = sign_ok(&in, NULL);
    CHECK_STR(find_header(s, "X-Amz-Security-Token"), TOKEN);
    CHECK_CONTAINS(s->canonical_request, "\nx-amz-security-token:" TOKEN "\n");
    CHECK_CONTAINS(find_header(s, "Authorization"),
                   "SignedHeaders=host;x-amz-date;x-amz-security-token,");
    acmpca_signed_free(s);

    /* Added after signing. */
    in.flags = ACMPCA_SIGN_UNSIGNED_TOKEN;
    s = sign_ok(&in, NULL);
    CHECK_STR(find_header(s, "X-Amz-Security-Token"), TOKEN);
    CHECK(strstr(s->canonical_request, "security-token") == NULL);
    CHECK_STR(s->signature, VANILLA_SIG);
    acmpca_signed_free(s);

    /* X-Amz-Content-Sha256 with a given payload hash. */
    in = vanilla();
    in.flags = ACMPCA_SIGN_CONTENT_SHA256;
    in.body_sha256_hex = "UNSIGNED-PAYLOAD";
    s = sign_ok(&in, NULL);
    CHECK_STR(find_header(s, "X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
    CHECK_CONTAINS(s->canonical_request, "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n");
    CHECK_CONTAINS(s->canonical_request, "x-amz-date\nUNSIGNED-PAYLOAD");
    acmpca_signed_free(s);

    /* ... and computed from the body. */
    in.body_sha256_hex = NULL;
    in.body = "Param1=value1";
    in.body_len = 13;
    s = sign_ok(&in, NULL);
    CHECK_STR(find_header(s, "X-Amz-Content-Sha256"),
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    acmpca_signed_free(s);
}

static void test_query_flags(void)
{
    acmpca_sign_input in = vanilla();
    acmpca_signed *s;
    const char *p;

    in.flags = ACMPCA_SIGN_QUERY;
    in.expires_s = 60;
    in.url = "https://example.amazonaws.com/path?b=2&a=1#fragment";
    s = sign_ok(&in, NULL);
    CHECK_CONTAINS(s->url, "&X-Amz-Expires=60&");
    CHECK_CONTAINS(s->canonical_request, "&X-Amz-Expires=60&");
    /* The caller's parameters stay first and as given; the fragment goes. */
    CHECK(has_prefix(s->url, "https://example.amazonaws.com/path?b=2&a=1&X-Amz-Algorithm="));
    CHECK(strstr(s->url, "#") == NULL);
    /* Byte order: "X-Amz-..." sorts before "a". */
    CHECK_CONTAINS(s->canonical_request, "&X-Amz-SignedHeaders=host&a=1&b=2\n");
    p = strstr(s->url, "X-Amz-Signature=");
    CHECK(p != NULL && strcmp(p + 16, s->signature) == 0);
    CHECK_INT(s->header_count, 1);
    acmpca_signed_free(s);

    /* Content hash header is a header-signing feature only. */
    in.flags = ACMPCA_SIGN_QUERY | ACMPCA_SIGN_CONTENT_SHA256;
    in.url = "https://example.amazonaws.com/?";
    s = sign_ok(&in, NULL);
    CHECK(strstr(s->canonical_request, "content-sha256") == NULL);
    CHECK(has_prefix(s->url, "https://example.amazonaws.com/?X-Amz-Algorithm="));
    acmpca_signed_free(s);

    /* The session token: signed, or only in the URL. */
    in.flags = ACMPCA_SIGN_QUERY;
    in.session_token = "tok/en+=";
    s = sign_ok(&in, NULL);
    CHECK_CONTAINS(s->canonical_request, "X-Amz-Security-Token=tok%2Fen%2B%3D&");
    CHECK_CONTAINS(s->url, "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-Signature=");
    CHECK(find_header(s, "X-Amz-Security-Token") == NULL);
    acmpca_signed_free(s);
    in.flags = ACMPCA_SIGN_QUERY | ACMPCA_SIGN_UNSIGNED_TOKEN;
    s = sign_ok(&in, NULL);
    CHECK(strstr(s->canonical_request, "Security-Token") == NULL);
    CHECK_CONTAINS(s->url, "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-Signature=");
    acmpca_signed_free(s);
}

/* Encoding rules beyond the suite's cases. */
static void test_encoding(void)
{
    static const struct {
        const char *url, *uri, *query;
        unsigned flags;
    } cases[] = {
        /* The path is the wire form, encoded once more (as SDKs do but for S3). */
        {"https://h/a%20b", "/a%2520b", "", 0},
        {"https://h/a+b/c:d", "/a%2Bb/c%3Ad", "", 0},
        {"https://h/a/b/..", "/a/", "", 0},
        {"https://h/a/./b/../../c", "/c", "", 0},
        {"https://h/a/b/..", "/a/b/..", "", ACMPCA_SIGN_NO_PATH_NORMALIZE},
        {"https://h", "/", "", ACMPCA_SIGN_NO_PATH_NORMALIZE},
        /* Query parameters are decoded, then encoded. */
        {"https://h/?k=%41%2f", "/", "k=A%2F", 0},
        {"https://h/?b&a=1&&c=", "/", "a=1&b=&c=", 0},
        {"https://h/?a=2&a=1&a=10", "/", "a=1&a=10&a=2", 0},
        {"https://h/?k=a+b%20c%zz", "/", "k=a%2Bb%20c%25zz", 0},
        {"https://h/?=v", "/", "=v", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acmpca_sign_input in = vanilla();
        acmpca_signed *s;
        char want[256];

        in.url = cases[i].url;
        in.flags = cases[i].flags;
        s = sign_ok(&in, NULL);
        snprintf(want, sizeof(want), "GET\n%s\n%s\nhost:h\n", cases[i].uri, cases[i].query);
        if (!has_prefix(s->canonical_request, want)) {
            fprintf(stderr, "encoding of %s:\n%s\n", cases[i].url, s->canonical_request);
            check_failures++;
        }
        acmpca_signed_free(s);
    }
}

static void test_header_values(void)
{
    acmpca_sign_input in = vanilla();
    acmpca_header h[4] = {
        {"X-B", "  two\t\t folded \t lines  "},
        {"x-a", ""},
        {"X-B", "second"},
        {"HOST", "Example.amazonaws.com"},
    };
    acmpca_signed *s;

    in.headers = h;
    in.header_count = 4;
    s = sign_ok(&in, NULL);
    CHECK_CONTAINS(s->canonical_request,
                   "\nhost:Example.amazonaws.com\nx-a:\nx-amz-date:20150830T123600Z\n"
                   "x-b:two folded lines,second\n\nhost;x-a;x-amz-date;x-b\n");
    CHECK(find_header(s, "Host") == NULL);
    acmpca_signed_free(s);
}

/*
 * The signer's texts start in stack storage sized for a usual request: one
 * whose headers and token outgrow it must sign whole (the texts move to the
 * heap with everything written so far).
 */
static void test_long_request(void)
{
    acmpca_sign_input in = vanilla();
    char *big = malloc(3001), *token = malloc(2001), *expected = malloc(7000);
    char path[512], query[512], url[1100];
    acmpca_header h[1];
    acmpca_signed *s;
    size_t pn = 0, qn = 0;
    int i;

    REQUIRE(big && token && expected);
    /* A path and a query that outgrow their storage while being written. */
    for (i = 0; i < 60; i++) {
        pn += (size_t)snprintf(path + pn, sizeof(path) - pn, "/seg%02d", i);
        qn += (size_t)snprintf(query + qn, sizeof(query) - qn, "%sa%02d=v", i ? "&" : "", i);
    }
    snprintf(url, sizeof(url), "https://example.amazonaws.com%s?%s", path, query);
    in.url = url;
    memset(big, 'v', 3000);
    big[3000] = '\0';
    memset(token, 't', 2000);
    token[2000] = '\0';
    h[0].name = "X-Long";
    h[0].value = big;
    in.headers = h;
    in.header_count = 1;
    in.session_token = token;
    s = sign_ok(&in, NULL);
    snprintf(expected, 7000,
             "GET\n%s\n%s\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
             "x-amz-security-token:%s\nx-long:%s\n\n"
             "host;x-amz-date;x-amz-security-token;x-long\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", path, query,
             token, big);
    CHECK_STR(s->canonical_request, expected);
    CHECK_STR(find_header(s, "X-Amz-Security-Token"), token);
    CHECK_CONTAINS(find_header(s, "Authorization"),
                   "SignedHeaders=host;x-amz-date;x-amz-security-token;x-long, Signature=");
    acmpca_signed_free(s);
    free(big);
    free(token);
    free(expected);
}

static int run_unit(void)
{
    test_long_request();
    test_known_answer();
    test_cache();
    test_cache_threads();
    test_errors();
    test_host();
    test_secret_never_leaks();
    test_header_flags();
    test_query_flags();
    test_encoding();
    test_header_values();
    return CHECK_DONE();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <sigv4 case dir> | --unit\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--unit") == 0)
        return run_unit();
    return run_case(argv[1]);
}
