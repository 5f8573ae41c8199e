/*
 * client.c - the client (options, configuration, credentials, transport) and
 * the codec of one call: validate and serialize the input, sign, and turn a
 * response into a result or a typed error. No I/O: the call machine
 * (machine.c) decides what to send, a driver (driver.c) sends it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "client_internal.h"
#include "credentials_internal.h"
#include "serialize.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_READ_TIMEOUT_MS 60000L
#define DEFAULT_MAX_RESPONSE_BYTES ((size_t)16 << 20)
#define SIGNING_NAME "acm-pca"
#define TARGET_PREFIX "ACMPrivateCA."
#define CONTENT_TYPE "application/x-amz-json-1.1"
#define ERROR_BODY_EXCERPT 200
#define LOG_BODY_EXCERPT 4096
#define SKEW_THRESHOLD_S 240
/* Ranges of the numeric options (the same as AWS_MAX_ATTEMPTS's). */
#define MAX_ATTEMPTS_LIMIT 100L
#define TIMEOUT_LIMIT_MS 86400000L  /* a day */
#define POOL_SIZE_LIMIT 1000L
/* Version 1 of acmpca_client_options ended before total_timeout_ms, 2 before https_proxy. */
#define OPTIONS_V1_SIZE offsetof(acmpca_client_options, total_timeout_ms)
#define OPTIONS_V2_SIZE offsetof(acmpca_client_options, https_proxy)
#define OPTIONS_SIZE(version)                               \
    ((version) == 1   ? OPTIONS_V1_SIZE                     \
     : (version) == 2 ? OPTIONS_V2_SIZE                     \
                      : sizeof(acmpca_client_options))


/* ---- creation ------------------------------------------------------------ */

static int make_credentials(acmpca_client *c, const acmpca_client_options *o)
{
    const acmpca_credentials_options defaults = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_options co = defaults;

    if (o && (o->access_key_id || o->secret_access_key)) {
        if (!o->access_key_id || !o->secret_access_key)
            return acmpca__error_set(ACMPCA_EINVAL,
                                     "%s: required when %s is given",
                                     o->access_key_id ? "secret_access_key" : "access_key_id",
                                     o->access_key_id ? "access_key_id" : "secret_access_key");
        return acmpca_credentials_provider_static(&c->credentials, o->access_key_id,
                                                  o->secret_access_key, o->session_token);
    }
    if (o && o->credentials_provider) {
        c->credentials = acmpca_credentials_provider_ref(o->credentials_provider);
        return 0;
    }
    co.profile = c->config.profile;
    co.region = c->config.region;
    co.ca_bundle = c->config.ca_bundle;
    return acmpca_credentials_provider_default_ex(&c->credentials, &co);
}

int acmpca__split_url(acmpca_url_parts *m, const char *url)
{
    const char *p = strstr(url, "://"), *host, *end, *colon;
    size_t n;

    if (!p || (size_t)(p - url) >= sizeof(m->scheme))
        return acmpca__error_set(ACMPCA_EENDPOINT, "endpoint URL %s has no scheme", url);
    memcpy(m->scheme, url, (size_t)(p - url));
    m->scheme[p - url] = '\0';
    host = p + 3;
    end = host + strcspn(host, "/?");
    if (*host == '[') { /* an IPv6 literal keeps its brackets out of the host name */
        colon = memchr(host, ']', (size_t)(end - host));
        if (!colon)
            return acmpca__error_set(ACMPCA_EENDPOINT, "endpoint URL %s: bad IPv6 host", url);
        n = (size_t)(colon - host - 1);
        host++;
        colon = colon[1] == ':' ? colon + 1 : NULL;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        n = (size_t)((colon ? colon : end) - host);
    }
    if (n == 0 || n >= sizeof(m->host) || strlen(end) + 2 > sizeof(m->path))
        return acmpca__error_set(ACMPCA_EENDPOINT, "endpoint URL %s: bad host or path", url);
    memcpy(m->host, host, n);
    m->host[n] = '\0';
    m->port = colon ? atoi(colon + 1) : strcmp(m->scheme, "https") == 0 ? 443 : 80;
    if (m->port <= 0 || m->port > 65535)
        return acmpca__error_set(ACMPCA_EENDPOINT, "endpoint URL %s: bad port", url);
    snprintf(m->path, sizeof(m->path), "%s%s", *end == '/' ? "" : "/", end);
    return 0;
}

int acmpca_client_options_init(acmpca_client_options *opts, unsigned version)
{
    if (!opts)
        return acmpca__error_set(ACMPCA_EINVAL, "opts: must not be NULL");
    if (version < 1 || version > ACMPCA_CLIENT_OPTIONS_VERSION)
        return acmpca__error_set(ACMPCA_EINVAL, "version: expected 1 to %d, got %u",
                                 ACMPCA_CLIENT_OPTIONS_VERSION, version);
    memset(opts, 0, OPTIONS_SIZE(version));
    opts->version = version;
    if (version == 1) { /* the old meanings: see read_options */
        opts->use_fips = opts->use_dualstack = -1;
        opts->insecure_skip_tls_verify = 1;
        opts->disable_idempotency_tokens = 1;
    }
    return 0;
}

/* 0 (the default) or 1..max: one range per numeric option, checked here
 * once for every binding. */
static int check_range(const char *field, long v, long max, const char *unit)
{
    if (v < 0 || v > max)
        return acmpca__error_set(ACMPCA_EINVAL, "options.%s: expected 0 (the default) or 1 to "
                                 "%ld%s, got %ld", field, max, unit, v);
    return 0;
}

/* One of ACMPCA_DEFAULT, ACMPCA_ENABLED, ACMPCA_DISABLED. */
static int tristate_ok(int v)
{
    return v == ACMPCA_DEFAULT || v == ACMPCA_ENABLED || v == ACMPCA_DISABLED;
}

/*
 * A proxy URL: http:// or https://, a host, nothing curl would read another
 * way. The URL itself is never quoted back: it may hold a password.
 */
static int check_proxy(const char *field, const char *url)
{
    const char *host, *at, *end;

    if (!url)
        return 0;
    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return acmpca__error_set(ACMPCA_EINVAL, "options.%s: expected an http:// or https:// "
                                 "proxy URL", field);
    /* The host follows any "user:password@" of the authority. */
    for (at = host, end = host + strcspn(host, "/?#"); at < end; at++)
        if (*at == '@')
            host = at + 1;
    if (!*host || strchr("/?#:", *host) || strpbrk(url, " \t") || acmpca__has_ctl_char(url))
        return acmpca__error_set(ACMPCA_EINVAL, "options.%s: expected an http:// or https:// "
                                 "proxy URL with a host and no spaces or control characters",
                                 field);
    return 0;
}

/* A file the proxy's TLS needs: unreadable is said now, not at the first call. */
static int check_readable(const char *field, const char *path)
{
    if (path && access(path, R_OK) != 0)
        return acmpca__error_set(ACMPCA_EINVAL, "options.%s: cannot read \"%s\"", field,
                                 path);
    return 0;
}

/*
 * Copy the caller's options (any version, NULL for all defaults) into the
 * current layout, translating version 1's meanings: verify_tls and
 * idempotency_tokens were "1 = on" in the slots that now say insecure_/disable_,
 * and use_fips/use_dualstack were -1 env, 0 off, 1 on.
 */
static int read_options(acmpca_client_options *o, const acmpca_client_options *in)
{
    int err;

    memset(o, 0, sizeof(*o));
    o->version = ACMPCA_CLIENT_OPTIONS_VERSION;
    if (!in)
        return 0;
    if (in->version < 1 || in->version > ACMPCA_CLIENT_OPTIONS_VERSION)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "options.version: expected 1 to %d, got %u (initialise "
                                 "with ACMPCA_CLIENT_OPTIONS_INIT)",
                                 ACMPCA_CLIENT_OPTIONS_VERSION, in->version);
    memcpy(o, in, OPTIONS_SIZE(in->version));
    if (in->version == 1) {
        o->insecure_skip_tls_verify = in->insecure_skip_tls_verify == 0;
        o->disable_idempotency_tokens = in->disable_idempotency_tokens == 0;
        o->use_fips = in->use_fips == -1 ? ACMPCA_DEFAULT
                      : in->use_fips ? ACMPCA_ENABLED : ACMPCA_DISABLED;
        o->use_dualstack = in->use_dualstack == -1 ? ACMPCA_DEFAULT
                           : in->use_dualstack ? ACMPCA_ENABLED : ACMPCA_DISABLED;
    }
    if (!tristate_ok(o->use_fips))
        return acmpca__error_set(ACMPCA_EINVAL, "options.use_fips: expected ACMPCA_DEFAULT, "
                                 "ACMPCA_ENABLED or ACMPCA_DISABLED, got %d", o->use_fips);
    if (!tristate_ok(o->use_dualstack))
        return acmpca__error_set(ACMPCA_EINVAL, "options.use_dualstack: expected "
                                 "ACMPCA_DEFAULT, ACMPCA_ENABLED or ACMPCA_DISABLED, got %d",
                                 o->use_dualstack);
    if ((err = check_range("max_attempts", o->max_attempts, MAX_ATTEMPTS_LIMIT, "")) != 0 ||
        (err = check_range("connect_timeout_ms", o->connect_timeout_ms, TIMEOUT_LIMIT_MS,
                           " milliseconds")) != 0 ||
        (err = check_range("read_timeout_ms", o->read_timeout_ms, TIMEOUT_LIMIT_MS,
                           " milliseconds")) != 0 ||
        (err = check_range("total_timeout_ms", o->total_timeout_ms, TIMEOUT_LIMIT_MS,
                           " milliseconds")) != 0 ||
        (err = check_range("pool_size", o->pool_size, POOL_SIZE_LIMIT, " connections")) != 0)
        return err;
    if (o->user_agent_suffix && acmpca__has_ctl_char(o->user_agent_suffix))
        return acmpca__error_set(ACMPCA_EINVAL, "options.user_agent_suffix: must not contain "
                                 "CR, LF or other control characters");
    if ((err = check_proxy("https_proxy", o->https_proxy)) != 0 ||
        (err = check_proxy("http_proxy", o->http_proxy)) != 0 ||
        (err = check_readable("proxy_ca_bundle", o->proxy_ca_bundle)) != 0 ||
        (err = check_readable("proxy_client_cert", o->proxy_client_cert)) != 0 ||
        (err = check_readable("proxy_client_key", o->proxy_client_key)) != 0)
        return err;
    o->version = ACMPCA_CLIENT_OPTIONS_VERSION;
    return 0;
}

/* The explicit proxy for the endpoint's scheme, kept by the client for its transport. */
static int copy_proxy(acmpca_client *c, const acmpca_client_options *o,
                      acmpca_transport_options *t)
{
    const char *proxy = strcmp(c->url_parts.scheme, "http") == 0 ? o->http_proxy
                                                                 : o->https_proxy;

    if ((proxy && !(c->proxy = acmpca__strdup(proxy))) ||
        (o->proxy_ca_bundle && !(c->proxy_ca_bundle = acmpca__strdup(o->proxy_ca_bundle))) ||
        (o->proxy_client_cert &&
         !(c->proxy_client_cert = acmpca__strdup(o->proxy_client_cert))) ||
        (o->proxy_client_key && !(c->proxy_client_key = acmpca__strdup(o->proxy_client_key))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory copying the proxy options");
    t->proxy = c->proxy;
    t->proxy_ca_bundle = c->proxy_ca_bundle;
    t->proxy_client_cert = c->proxy_client_cert;
    t->proxy_client_key = c->proxy_client_key;
    return 0;
}

int acmpca_client_new(acmpca_client **out, const acmpca_client_options *opts)
{
    acmpca_client *c = NULL;
    acmpca_endpoint_params ep;
    acmpca_transport_options t;
    acmpca_client_options o;
    acmpca_buf ua = {0};
    int err;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "out: must not be NULL");
    *out = NULL;
    if ((err = read_options(&o, opts)) != 0)
        return err;
    opts = &o;
    c = calloc(1, sizeof(*c));
    if (!c)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    atomic_init(&c->refs, 1);
    if ((err = acmpca__config_resolve(&c->config, opts)) != 0)
        goto fail;

    ep.region = c->config.region;
    ep.use_fips = c->config.use_fips;
    ep.use_dualstack = c->config.use_dualstack;
    ep.endpoint = c->config.endpoint_url;
    if ((err = acmpca_endpoint_resolve(&c->endpoint, &ep)) != 0)
        goto fail;
    {
        size_t n = strlen(c->endpoint);
        while (n > 0 && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = '\0';
    }
    if ((err = acmpca__buf_printf(&ua, "%s/", c->endpoint)) != 0)
        goto fail;
    c->url = acmpca__buf_detach(&ua);
    if (c->url && (err = acmpca__split_url(&c->url_parts, c->url)) != 0)
        goto fail;
    /* A custom endpoint without a region still needs one to sign with. */
    c->signing_region = acmpca__strdup(c->config.region ? c->config.region : "us-east-1");
    if (!c->url || !c->signing_region) {
        err = ACMPCA_ENOMEM;
        goto fail;
    }
    if ((err = acmpca__sign_post_host(c->url, c->signing_region, SIGNING_NAME,
                                      &c->sign_host)) != 0 ||
        (err = make_credentials(c, opts)) != 0)
        goto fail;
    if ((err = acmpca_sign_cache_new(&c->sign_cache)) != 0)
        goto fail;

    memset(&t, 0, sizeof(t));
    t.connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                        : DEFAULT_CONNECT_TIMEOUT_MS;
    t.read_timeout_ms = opts->read_timeout_ms > 0 ? opts->read_timeout_ms
                                                  : DEFAULT_READ_TIMEOUT_MS;
    t.verify_tls = !opts->insecure_skip_tls_verify;
    t.ca_bundle = c->config.ca_bundle;
    t.max_response_bytes = opts->max_response_bytes ? opts->max_response_bytes
                                                    : DEFAULT_MAX_RESPONSE_BYTES;
    t.pool_size = opts->pool_size;
    /* The transport puts "acmpca/VERSION libcurl/VERSION" before it. */
    t.user_agent = opts->user_agent_suffix;
    if ((err = copy_proxy(c, opts, &t)) != 0)
        goto fail;
    c->transport_options = t; /* what SEND steps tell other drivers */
    c->transport_options.user_agent = NULL;
    if ((err = acmpca__transport_new(&c->transport, &t)) != 0 ||
        (err = acmpca__retry_new(&c->retry, c->config.max_attempts,
                                 c->config.adaptive_retries)) != 0)
        goto fail;
    if ((opts->rate_limit || opts->rate_limit_count) &&
        (err = acmpca__rate_limiter_new(&c->rate_limiter, opts->rate_limits,
                                        opts->rate_limit_count)) != 0)
        goto fail;
    c->log_fn = opts->log_fn;
    c->log_enabled = opts->log_enabled;
    c->log_userdata = opts->log_userdata;
    c->idempotency_tokens = !opts->disable_idempotency_tokens;
    c->total_timeout_ms = opts->total_timeout_ms;
    acmpca__buf_free(&ua);
    *out = c;
    return 0;

fail:
    acmpca__buf_free(&ua);
    acmpca_client_free(c);
    return err;
}

void acmpca__client_hold(acmpca_client *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

/* Lets go of one hold: the owner's, or a machine's or paginator's when it is freed. */
void acmpca_client_free(acmpca_client *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) > 1)
        return;
    acmpca__transport_free(c->transport);
    acmpca__retry_free(c->retry);
    acmpca__rate_limiter_free(c->rate_limiter);
    acmpca_sign_cache_free(c->sign_cache);
    acmpca_credentials_provider_unref(c->credentials);
    acmpca__config_clear(&c->config);
    free(c->endpoint);
    free(c->url);
    free(c->signing_region);
    free(c->sign_host);
    acmpca__free_secret(c->proxy); /* may hold the proxy's password */
    free(c->proxy_ca_bundle);
    free(c->proxy_client_cert);
    free(c->proxy_client_key);
    free(c);
}

const char *acmpca_client_region(const acmpca_client *c)
{
    return c && c->config.region ? c->config.region : "";
}

const char *acmpca_client_endpoint(const acmpca_client *c)
{
    return c ? c->endpoint : "";
}

acmpca_credentials_provider *acmpca_client_credentials_provider(acmpca_client *c)
{
    return c ? c->credentials : NULL;
}

int acmpca_client_settings_get(const acmpca_client *c, acmpca_client_settings *out)
{
    if (!c || !out)
        return acmpca__error_set(ACMPCA_EINVAL, "client and out: must not be NULL");
    memset(out, 0, sizeof(*out));
    out->profile = c->config.profile;
    out->retry_mode = c->config.adaptive_retries ? "adaptive" : "standard";
    out->max_attempts = c->config.max_attempts;
    out->connect_timeout_ms = c->transport_options.connect_timeout_ms;
    out->read_timeout_ms = c->transport_options.read_timeout_ms;
    out->total_timeout_ms = c->total_timeout_ms;
    /* The transport's default for 0 (transport.c). */
    out->pool_size = c->transport_options.pool_size > 0 ? c->transport_options.pool_size : 4;
    out->max_response_bytes = c->transport_options.max_response_bytes;
    return 0;
}

/* ---- requests ------------------------------------------------------------ */

#define UNSIGNED_HEADERS 2 /* Content-Type, X-Amz-Target */

/* Room in a request for the fixed-shape signature's strings (sign_post): the
 * names, the host, the date and the Authorization value for an access key id
 * of up to AKID_ROOM characters. A session token (and the longer value that
 * goes with it) is allocated apart: room for one would take the block past
 * the sizes malloc serves fastest. */
#define SIGNATURE_ROOM (sizeof("Host") + sizeof("X-Amz-Date") + 17 + \
                        sizeof("X-Amz-Security-Token") + sizeof("Authorization"))
#define AKID_ROOM 32

/* Into the room prepare_request made for it, the strings in the request's own room. */
static int add_header(acmpca_http_request *req, const char *name, const char *value)
{
    char *n = acmpca__request_strdup(req, name, strlen(name));
    char *v = acmpca__request_strdup(req, value, strlen(value));
    if (!n || !v) {
        acmpca__request_release(req, n, 0);
        acmpca__request_release(req, v, 0);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    req->headers[req->header_count].name = n;
    req->headers[req->header_count].value = v;
    req->header_count++;
    return 0;
}

/* A random version-4 UUID: 36 characters, the IdempotencyToken limit. */
static int new_token(char out[37])
{
    unsigned char b[16];
    char hex[33];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return acmpca__error_set(ACMPCA_ENOMEM, "no randomness for an idempotency token");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    acmpca__hex(hex, b, sizeof(b));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return 0;
}

/*
 * The unsigned part of a request: body and protocol headers. Done once per
 * logical call, so an IdempotencyToken we generate is the same on every
 * retry and the service issues at most one certificate.
 */
int acmpca__prepare_request(acmpca_client *c, const acmpca_operation_info *op,
                            const cJSON *input, acmpca_http_request **out)
{
    acmpca_http_request *req = NULL;
    cJSON *with_token = NULL;
    char target[128], token[37];
    size_t n, url_len;
    int err;

    *out = NULL;
    /* Its strings in one block with it (acmpca__request_new): the URL, the
     * protocol's headers and the signature's. */
    url_len = strlen(c->url);
    req = acmpca__request_new(url_len + 1 + sizeof("Content-Type") + sizeof(CONTENT_TYPE) +
                              sizeof("X-Amz-Target") + sizeof(TARGET_PREFIX) +
                              strlen(op->name) + strlen(c->sign_host ? c->sign_host : "") + 1 +
                              SIGNATURE_ROOM +
                              (c->sign_host ? acmpca__sign_post_auth_size(
                                                  c->signing_region, SIGNING_NAME, AKID_ROOM, 0)
                                            : 0));
    if (!req)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if (c->idempotency_tokens && acmpca_model_member(op->input, "IdempotencyToken") &&
        (!input || cJSON_IsObject(input)) &&
        !cJSON_GetObjectItemCaseSensitive(input, "IdempotencyToken")) {
        if ((err = new_token(token)) != 0)
            goto fail;
        with_token = input ? cJSON_Duplicate(input, 1) : cJSON_CreateObject();
        if (!with_token || !cJSON_AddStringToObject(with_token, "IdempotencyToken", token)) {
            err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
            goto fail;
        }
        input = with_token;
    }
    if ((err = acmpca__serialize_input(op, input, &req->body)) != 0)
        goto fail;
    req->body_len = strlen(req->body);
    if (!(req->url = acmpca__request_strdup(req, c->url, url_len))) {
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    n = strlen(op->name); /* the model's names are short: cut only in theory */
    if (n > sizeof(target) - sizeof(TARGET_PREFIX))
        n = sizeof(target) - sizeof(TARGET_PREFIX);
    memcpy(target, TARGET_PREFIX, sizeof(TARGET_PREFIX) - 1);
    memcpy(target + sizeof(TARGET_PREFIX) - 1, op->name, n);
    target[sizeof(TARGET_PREFIX) - 1 + n] = '\0';
    /* Room for the signature's headers too (Host, X-Amz-Date, the token,
     * Authorization): signing then grows the array in place. */
    if (!(req->headers = malloc((UNSIGNED_HEADERS + 4) * sizeof(*req->headers)))) {
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    if ((err = add_header(req, "Content-Type", CONTENT_TYPE)) != 0 ||
        (err = add_header(req, "X-Amz-Target", target)) != 0)
        goto fail;
    acmpca__request_mark(req); /* the signature's strings come after */
    cJSON_Delete(with_token);
    *out = req;
    return 0;

fail:
    cJSON_Delete(with_token);
    acmpca_http_request_free(req);
    return err;
}

int acmpca__sign_request(acmpca_client *c, acmpca_http_request *req,
                         const acmpca_credentials *creds)
{
    return acmpca__sign_request_keeping(c, req, creds, UNSIGNED_HEADERS);
}

/* Append a header whose two strings the request takes. */
static void take_header(acmpca_http_request *req, const char *name, char *value)
{
    req->headers[req->header_count].name = name;
    req->headers[req->header_count].value = value;
    req->header_count++;
}

/*
 * The signature of a request with only the protocol's two headers, to the
 * client's own endpoint (acmpca__sign_post): the same headers, in the same
 * order, as acmpca__sign_headers adds. 1 when the request is not that shape.
 */
static int sign_post(acmpca_client *c, acmpca_http_request *req, const acmpca_credentials *creds,
                     const unsigned char *secret_id)
{
    static const char *const names[] = {"Host", "X-Amz-Date", "X-Amz-Security-Token",
                                        "Authorization"};
    static const size_t name_lens[] = {sizeof("Host") - 1, sizeof("X-Amz-Date") - 1,
                                       sizeof("X-Amz-Security-Token") - 1,
                                       sizeof("Authorization") - 1};
    acmpca__post_input in;
    char *v[4], *n[4];
    acmpca_header *h;
    size_t i, auth_size;
    int err = 0, ok;

    if (req->header_count != UNSIGNED_HEADERS || strcmp(req->method, "POST") != 0 ||
        strcmp(req->url, c->url) != 0 ||
        !acmpca__strcaseeq(req->headers[0].name, "Content-Type") ||
        !acmpca__strcaseeq(req->headers[1].name, "X-Amz-Target"))
        return 1;
    in.host = c->sign_host;
    in.content_type = req->headers[0].value;
    in.target = req->headers[1].value;
    in.body = req->body;
    in.body_len = req->body_len;
    in.region = c->signing_region;
    in.service = SIGNING_NAME;
    in.access_key_id = creds->access_key_id;
    in.secret_access_key = creds->secret_access_key;
    in.secret_id = secret_id;
    in.session_token = creds->session_token;
    in.timestamp = (int64_t)time(NULL) + atomic_load(&c->clock_offset_s);
    /* The same headers, in the same order, as acmpca__sign_headers adds; no
     * X-Amz-Security-Token without a token. The date and the Authorization
     * value are written where they stay, in the request's room. */
    auth_size = acmpca__sign_post_auth_size(c->signing_region, SIGNING_NAME,
                                            creds->access_key_id ? strlen(creds->access_key_id) : 0,
                                            creds->session_token != NULL);
    v[0] = acmpca__request_strdup(req, c->sign_host, strlen(c->sign_host));
    v[1] = acmpca__request_alloc(req, 17);
    v[2] = creds->session_token ? acmpca__request_strdup(req, creds->session_token,
                                                         strlen(creds->session_token)) : NULL;
    v[3] = acmpca__request_alloc(req, auth_size);
    for (i = 0; i < 4; i++)
        n[i] = i != 2 || creds->session_token
                   ? acmpca__request_strdup(req, names[i], name_lens[i]) : NULL;
    ok = (h = realloc(req->headers, (UNSIGNED_HEADERS + 4) * sizeof(*h))) != NULL;
    if (h)
        req->headers = h;
    for (i = 0; i < 4; i++)
        if ((i != 2 || creds->session_token) && (!n[i] || !v[i]))
            ok = 0;
    if (!ok)
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    else /* 1: not its shape; the strings go back, signed by the general path */
        err = acmpca__sign_post(&in, c->sign_cache, v[1], v[3], auth_size);
    if (err != 0) {
        for (i = 0; i < 4; i++) {
            acmpca__request_release(req, n[i], 0);
            acmpca__request_release(req, v[i], 1);
        }
        return err;
    }
    for (i = 0; i < 4; i++)
        if (n[i])
            take_header(req, n[i], v[i]);
    return 0;
}

/* (Re)sign a prepared request for this attempt, with fresh credentials and time:
 * the first `keep` headers are the request's own, the rest the last signature. */
static int sign_keeping(acmpca_client *c, acmpca_http_request *req,
                        const acmpca_credentials *creds, const unsigned char *secret_id,
                        size_t keep)
{
    acmpca_signed *sig = NULL;
    acmpca_sign_input in;
    acmpca_header *h;
    size_t i;
    int err;

    while (req->header_count > keep) {
        req->header_count--;
        acmpca__request_release(req, (char *)req->headers[req->header_count].name, 0);
        acmpca__request_release(req, (char *)req->headers[req->header_count].value, 1);
    }
    /* Every string after the mark was the last signature's, now let go. */
    acmpca__request_rewind(req);
    if (keep == UNSIGNED_HEADERS && c->sign_host &&
        (err = sign_post(c, req, creds, secret_id)) <= 0) /* 1: not its shape */
        return err;
    memset(&in, 0, sizeof(in));
    in.method = req->method;
    in.url = req->url;
    in.headers = req->headers;
    in.header_count = req->header_count;
    in.body = req->body;
    in.body_len = req->body_len;
    in.region = c->signing_region;
    in.service = SIGNING_NAME;
    in.access_key_id = creds->access_key_id;
    in.secret_access_key = creds->secret_access_key;
    in.session_token = creds->session_token;
    in.timestamp = (int64_t)time(NULL) + atomic_load(&c->clock_offset_s);
    if ((err = acmpca__sign_headers(&sig, &in, c->sign_cache)) != 0)
        goto fail;
    if (!(h = realloc(req->headers, (req->header_count + sig->header_count) * sizeof(*h)))) {
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    req->headers = h;
    /* Take the signer's strings rather than copy them: no more copies of secrets. */
    for (i = 0; i < sig->header_count; i++) {
        req->headers[req->header_count++] = sig->headers[i];
        sig->headers[i].name = sig->headers[i].value = NULL;
    }
fail:
    acmpca_signed_free(sig);
    return err;
}

int acmpca__sign_request_keeping(acmpca_client *c, acmpca_http_request *req,
                                 const acmpca_credentials *creds, size_t keep)
{
    return sign_keeping(c, req, creds, NULL, keep);
}

int acmpca__sign_request_shared(acmpca_client *c, acmpca_http_request *req,
                                const acmpca_credentials *shared, size_t keep)
{
    return sign_keeping(c, req, shared, acmpca__credentials_secret_id(shared), keep);
}

static int build_request(acmpca_client *c, const acmpca_operation_info *op, const cJSON *input,
                         acmpca_http_request **out)
{
    acmpca_credentials *creds = NULL;
    int err = acmpca__prepare_request(c, op, input, out);
    if (!err && (err = acmpca_credentials_get(c->credentials, 0, &creds)) == 0)
        err = acmpca__sign_request(c, *out, creds);
    acmpca_credentials_free(creds);
    if (err && *out) {
        acmpca_http_request_free(*out);
        *out = NULL;
    }
    return err;
}

const acmpca_operation_info *acmpca__find_operation(const char *name)
{
    const acmpca_operation_info *op = name ? acmpca_model_operation_find(name) : NULL;
    if (!op)
        acmpca__error_set(ACMPCA_EINVAL, "operation: unknown operation \"%s\"",
                          name ? name : "(null)");
    return op;
}

int acmpca_client_build_request(acmpca_client *c, const char *operation, const cJSON *input,
                                acmpca_http_request **out)
{
    const acmpca_operation_info *op;
    if (!c || !out)
        return acmpca__error_set(ACMPCA_EINVAL, "client and out: must not be NULL");
    if (!(op = acmpca__find_operation(operation)))
        return ACMPCA_EINVAL;
    return build_request(c, op, input, out);
}

/* ---- responses ----------------------------------------------------------- */

static const char *find_header(const acmpca_header *h, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (h[i].name && acmpca__strcaseeq(h[i].name, name))
            return h[i].value;
    return NULL;
}

/* "aws.protocol#Name:http://..." -> "Name" */
static void clean_error_code(char *dst, size_t cap, const char *src)
{
    const char *hash = strrchr(src, '#');
    size_t n;
    if (hash)
        src = hash + 1;
    n = strcspn(src, ":");
    while (n > 0 && isspace((unsigned char)src[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*src))
        src++, n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The text of <tag> in an XML error body into dst (cut to fit; "" if none). */
static void xml_field(char *dst, size_t cap, const char *xml, const char *tag)
{
    char *v = acmpca__xml_text(xml, NULL, tag);
    snprintf(dst, cap, "%s", v ? v : "");
    free(v);
}

static int parse_error(const acmpca_operation_info *op, int status, const acmpca_header *headers,
                       size_t header_count, const char *body, size_t len)
{
    char code[128] = "", message[512] = "", request_id[128] = "";
    const char *v;
    cJSON *doc = NULL;
    int err;

    if ((v = find_header(headers, header_count, "x-amzn-errortype")) != NULL)
        clean_error_code(code, sizeof(code), v);
    if ((v = find_header(headers, header_count, "x-amzn-requestid")) != NULL ||
        (v = find_header(headers, header_count, "x-amz-request-id")) != NULL)
        snprintf(request_id, sizeof(request_id), "%s", v);

    doc = len ? cJSON_ParseWithLengthOpts(body, len, NULL, 0) : NULL;
    if (cJSON_IsObject(doc)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "__type");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
        if (!cJSON_IsString(t))
            t = cJSON_GetObjectItemCaseSensitive(doc, "code");
        if (!cJSON_IsString(m))
            m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
        if (!code[0] && cJSON_IsString(t))
            clean_error_code(code, sizeof(code), t->valuestring);
        if (cJSON_IsString(m))
            snprintf(message, sizeof(message), "%s", m->valuestring);
    } else if (len && memchr(body, '<', len < 64 ? len : 64) && !code[0]) {
        /* Query-protocol style <ErrorResponse>, as some front ends answer. */
        char xml_code[128], *xml = acmpca__strndup(body, len);
        xml_field(xml_code, sizeof(xml_code), xml ? xml : "", "Code");
        if (xml_code[0]) {
            clean_error_code(code, sizeof(code), xml_code);
            xml_field(message, sizeof(message), xml, "Message");
            if (!request_id[0])
                xml_field(request_id, sizeof(request_id), xml, "RequestId");
        }
        free(xml);
    }
    cJSON_Delete(doc);

    if (!code[0]) {
        /* No error code anywhere (an HTML 500, a proxy page): keep the status and an excerpt. */
        size_t i, n = len < ERROR_BODY_EXCERPT ? len : ERROR_BODY_EXCERPT;
        int w = snprintf(message, sizeof(message), "HTTP %d with no error code; body: ", status);
        snprintf(code, sizeof(code), "%d", status);
        for (i = 0; i < n && (size_t)w + 1 < sizeof(message); i++, w++)
            message[w] = isprint((unsigned char)body[i]) ? body[i] : ' ';
        message[w] = '\0';
    }
    err = acmpca_error_code_from_name(code);
    /* An operation raises only the exceptions its model lists. */
    if (err != ACMPCA_ESERVICE && err != ACMPCA_E_ACCESS_DENIED && err != ACMPCA_E_THROTTLING &&
        err != ACMPCA_E_VALIDATION && op && !acmpca_model_operation_has_error(op, err))
        err = ACMPCA_ESERVICE;
    acmpca__error_set_service(err, code, message, status, request_id);
    acmpca__error_annotate(op ? op->name : NULL, 1, acmpca__is_retryable(err, status, code));
    return err;
}

/* botocore drops members whose value is JSON null (moto sends "NextToken": null). */
static void drop_nulls(cJSON *node)
{
    cJSON *child = node ? node->child : NULL;
    while (child) {
        cJSON *next = child->next;
        if (cJSON_IsNull(child) && cJSON_IsObject(node))
            cJSON_Delete(cJSON_DetachItemViaPointer(node, child));
        else
            drop_nulls(child);
        child = next;
    }
}

int acmpca__parse_response(const acmpca_operation_info *op, int status,
                          const acmpca_header *headers, size_t header_count, const char *body,
                          size_t len, cJSON **out)
{
    cJSON *doc = NULL;
    const char *end = NULL;
    size_t i = 0;
    int err;

    *out = NULL;
    if (status < 200 || status > 299)
        return parse_error(op, status, headers, header_count, body, len);
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i == len) {
        doc = cJSON_CreateObject();
        if (!doc)
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        *out = doc;
        return 0;
    }
    /* The usual answer (string members) without cJSON's parser; anything
     * else, or anything the reader is unsure of, is cJSON's to parse. */
    if ((err = acmpca__read_flat_output(op->output, body + i, len - i, &doc)) < 0)
        goto fail;
    if (!doc)
        doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!doc) {
        err = acmpca__error_set(ACMPCA_EBADRESPONSE,
                                "HTTP %d response body is not valid JSON (error at byte %ld of %zu)",
                                status, end ? (long)(end - body) : -1L, len);
        goto fail;
    }
    if (!cJSON_IsObject(doc)) {
        err = acmpca__error_set(ACMPCA_EBADRESPONSE,
                                "HTTP %d response body is JSON but not an object", status);
        goto fail;
    }
    drop_nulls(doc);
    if ((err = acmpca__deserialize_output(op, doc)) != 0)
        goto fail;
    *out = doc;
    return 0;
fail:
    cJSON_Delete(doc);
    acmpca__error_annotate(op->name, 1, 0);
    acmpca__error_set_http_status(status);
    acmpca__error_set_request_id(find_header(headers, header_count, "x-amzn-requestid"));
    return err;
}

int acmpca_parse_response(const char *operation, int http_status, const acmpca_header *headers,
                          size_t header_count, const char *body, size_t body_len, cJSON **out)
{
    const acmpca_operation_info *op;
    if (!out || (!body && body_len))
        return acmpca__error_set(ACMPCA_EINVAL, "out and body: must not be NULL");
    *out = NULL;
    if (!(op = acmpca__find_operation(operation)))
        return ACMPCA_EINVAL;
    return acmpca__parse_response(op, http_status, headers, header_count, body ? body : "", body_len,
                          out);
}

/* ---- calls --------------------------------------------------------------- */

void acmpca_response_meta_free(acmpca_response_meta *m)
{
    if (!m)
        return;
    free(m->headers); /* with their strings: acmpca__make_meta packs them */
    if (m->request_id != (char *)(m + 1)) /* acmpca__make_meta puts it after the struct */
        free(m->request_id);
    free(m);
}

/* Moves the response headers into a new meta (the response keeps none), as
 * one block (acmpca__http_headers_pack): a response of the transport's
 * already is one, any other is packed here. */
int acmpca__make_meta(acmpca_http_response *resp, int attempts, acmpca_response_meta **out)
{
    const char *rid = acmpca__http_response_header(resp, "x-amzn-requestid");
    size_t i, rid_len = strlen(rid ? rid : "");
    /* The struct and the request id in one block. */
    acmpca_response_meta *m = calloc(1, sizeof(*m) + rid_len + 1);
    acmpca_header *headers = resp->headers;

    if (!m || (!resp->packed && acmpca__http_headers_pack(&headers, resp->headers,
                                                          resp->header_count) != 0)) {
        free(m);
        return ACMPCA_ENOMEM; /* the caller decides whether that is the error to report */
    }
    m->request_id = (char *)(m + 1);
    memcpy(m->request_id, rid ? rid : "", rid_len + 1);
    m->http_status = resp->status;
    m->retry_attempts = attempts - 1;
    m->headers = headers;
    m->header_count = resp->header_count;
    if (!resp->packed) {
        for (i = 0; i < resp->header_count; i++) {
            free((char *)resp->headers[i].name);
            free((char *)resp->headers[i].value);
        }
        free(resp->headers);
    }
    resp->headers = NULL;
    resp->header_count = 0;
    *out = m;
    return 0;
}

/* ---- debug log (secrets redacted) ---------------------------------------- */

static int is_secret_header(const char *name)
{
    return acmpca__strcaseeq(name, "Authorization") ||
           acmpca__strcaseeq(name, "X-Amz-Security-Token");
}

static void log_message(acmpca_client *c, const char *what, int status, const acmpca_header *h,
                        size_t n, const char *body, size_t len)
{
    acmpca_buf line = {0};
    size_t i;
    int err = status ? acmpca__buf_printf(&line, "%s HTTP %d", what, status)
                     : acmpca__buf_puts(&line, what);
    for (i = 0; !err && i < n; i++)
        err = acmpca__buf_printf(&line, "\n  %s: %s", h[i].name,
                                 is_secret_header(h[i].name) ? "<redacted>" : h[i].value);
    if (!err && len)
        err = acmpca__buf_printf(&line, "\n  body (%zu bytes): %.*s%s", len,
                                 (int)(len < LOG_BODY_EXCERPT ? len : LOG_BODY_EXCERPT), body,
                                 len > LOG_BODY_EXCERPT ? "..." : "");
    if (!err)
        c->log_fn(c->log_userdata, line.ptr);
    acmpca__buf_free(&line);
}

static int logging(const acmpca_client *c)
{
    return c->log_fn && (!c->log_enabled || c->log_enabled(c->log_userdata));
}

void acmpca__log_request(acmpca_client *c, const acmpca_operation_info *op,
                         const acmpca_http_request *req, int attempt)
{
    char what[192];
    if (!logging(c))
        return;
    snprintf(what, sizeof(what), "%s attempt %d: %s %s", op->name, attempt, req->method,
             req->url);
    log_message(c, what, 0, req->headers, req->header_count, req->body, req->body_len);
}

void acmpca__log_response(acmpca_client *c, const acmpca_operation_info *op,
                          const acmpca_http_response *resp)
{
    char what[128];
    if (!logging(c))
        return;
    snprintf(what, sizeof(what), "%s response:", op->name);
    log_message(c, what, resp->status, resp->headers, resp->header_count, resp->body.ptr,
                resp->body.len);
}

/* ---- clock skew ------------------------------------------------------------ */

int acmpca__is_skew_error(const acmpca_error *e)
{
    return strcmp(e->aws_code, "RequestTimeTooSkewed") == 0 ||
           strcmp(e->aws_code, "RequestExpired") == 0 ||
           strcmp(e->aws_code, "RequestInTheFuture") == 0 ||
           strcmp(e->aws_code, "InvalidSignatureException") == 0 ||
           strcmp(e->aws_code, "SignatureDoesNotMatch") == 0;
}

/* `n` decimal digits at *p (advanced past them), or -1. Bounded: no overflow. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (; n > 0; n--, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/*
 * An HTTP Date ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110's IMF-fixdate) in
 * seconds since the epoch, or -1. The header comes from the network: every
 * field is read with a fixed width and range-checked, so no value can
 * overflow the arithmetic below.
 */
static int64_t parse_http_date(const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = v, *found;
    char mon[4];
    int d, y, hh, mm, ss;

    if (!v || strlen(v) < 29 || v[3] != ',' || v[4] != ' ')
        return -1;
    p = v + 5;
    d = digits(&p, 2);
    if (*p++ != ' ')
        return -1;
    memcpy(mon, p, 3);
    mon[3] = '\0';
    p += 3;
    if (!(found = strstr(months, mon)) || (found - months) % 3 || *p++ != ' ')
        return -1;
    y = digits(&p, 4);
    if (*p++ != ' ')
        return -1;
    hh = digits(&p, 2);
    if (*p++ != ':')
        return -1;
    mm = digits(&p, 2);
    if (*p++ != ':')
        return -1;
    ss = digits(&p, 2);
    if (strcmp(p, " GMT") != 0 || d < 1 || d > 31 || y < 1970 || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return -1;
    return acmpca__days_from_civil(y, (int)(found - months) / 3 + 1, d) * 86400 + hh * 3600 +
           mm * 60 + ss;
}

/* Learn the offset to the server's clock; 1 if it is large enough to explain the error. */
int acmpca__learn_skew(acmpca_client *c, const acmpca_http_response *resp)
{
    int64_t server = parse_http_date(acmpca__http_response_header(resp, "date"));
    int64_t ours = (int64_t)time(NULL), offset;
    if (server < 0)
        return 0;
    offset = server - ours;
    if (llabs(offset - atomic_load(&c->clock_offset_s)) < SKEW_THRESHOLD_S)
        return 0;
    atomic_store(&c->clock_offset_s, offset);
    return 1;
}
