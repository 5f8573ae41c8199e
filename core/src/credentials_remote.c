/*
 * credentials_remote.c - the providers that fetch credentials over HTTP:
 * ECS/EKS container credentials, EC2 instance metadata (IMDSv2), STS
 * AssumeRole (assume-role profiles and explicit sources) and
 * AssumeRoleWithWebIdentity, and IAM Identity Center (SSO). Each fetch opens
 * a short-lived transport: fetches are rare (about once an hour).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "credentials_internal.h"
#include "transport.h"

#define CONTAINER_NAME "container"
#define IMDS_NAME "imds"
#define ROLE_NAME "assume-role"
#define WEB_IDENTITY_NAME "web-identity"
#define SSO_NAME "sso"

#define ECS_HOST "http://169.254.170.2"
#define IMDS_IPV4 "http://169.254.169.254"
#define IMDS_IPV6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL "21600"

#define METADATA_MAX_BYTES ((size_t)64 * 1024)
#define SERVICE_MAX_BYTES ((size_t)1024 * 1024)
#define TOKEN_FILE_MAX_BYTES ((size_t)64 * 1024)
#define SSO_CACHE_MAX_BYTES ((size_t)1024 * 1024)
#define SERVICE_CONNECT_TIMEOUT_MS 10000L
#define SERVICE_READ_TIMEOUT_MS 30000L
#define MAX_ROLE_DEPTH 16

#define WHY(...) snprintf(why, why_len, __VA_ARGS__)

/* ---- small helpers --------------------------------------------------------- */

/* Set a failure as "<provider>: <the current message>", with code `code`. */
static int fail_as(int code, const char *provider)
{
    acmpca__error_prefix(provider);
    acmpca__error_recode(code);
    return code;
}

static int is_true(const char *v)
{
    return v && acmpca__strcaseeq(v, "true");
}

static int url_encode(acmpca_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            rc = acmpca__buf_append(b, s, 1);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = acmpca__buf_append(b, enc, 3);
        }
    }
    return rc;
}

/* "base" + "/" + "path" without doubling the slash. */
static int join_url(acmpca_buf *b, const char *base, const char *path)
{
    size_t n = strlen(base);
    int rc;

    while (n && base[n - 1] == '/')
        n--;
    if ((rc = acmpca__buf_append(b, base, n)) != 0)
        return rc;
    if (*path != '/' && (rc = acmpca__buf_puts(b, "/")) != 0)
        return rc;
    return acmpca__buf_puts(b, path);
}

/* Wipe the body (it may hold credentials), then clear the response. */
static void response_clear(acmpca_http_response *resp)
{
    acmpca__buf_free_secret(&resp->body);
    acmpca__http_response_clear(resp);
}

static const char *errno_text(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR: return "no such file";
    case EACCES:
    case EPERM: return "permission denied";
    case EISDIR: return "is a directory";
    default: return "cannot read the file";
    }
}

/*
 * Read a whole small file into `out` (wiped by the caller: it may hold a
 * token). On failure the message is "<provider>: cannot read <what> <path>:
 * <reason>", with ACMPCA_ECREDENTIALS (ACMPCA_ELIMIT when too large).
 */
static int read_small_file(const char *provider, const char *what, const char *path,
                           size_t max, acmpca_buf *out)
{
    char chunk[4096];
    int fd, rc = 0;

    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: cannot read %s %s: %s", provider,
                                 what, path, errno_text(errno));
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: cannot read %s %s: %s", provider,
                                   what, path, errno_text(errno));
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > max) {
            rc = acmpca__error_set(ACMPCA_ELIMIT, "%s: %s %s is larger than the %zu-byte limit",
                                   provider, what, path, max);
            break;
        }
        if ((rc = acmpca__buf_append(out, chunk, (size_t)n)) != 0)
            break;
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    close(fd);
    if (!rc && !out->ptr)
        rc = acmpca__buf_append(out, "", 0);
    return rc;
}

/* Drop trailing whitespace (token files usually end with a newline). */
static void trim_end(acmpca_buf *b)
{
    while (b->len && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r' ||
                      b->ptr[b->len - 1] == ' ' || b->ptr[b->len - 1] == '\t'))
        b->ptr[--b->len] = '\0';
}

static int valid_region(const char *r)
{
    const char *p;
    if (!*r)
        return 0;
    for (p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

static const char *dns_suffix(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "amazonaws.com.cn";
    if (strncmp(region, "us-isob-", 8) == 0)
        return "sc2s.sgov.gov";
    if (strncmp(region, "us-iso-", 7) == 0)
        return "c2s.ic.gov";
    return "amazonaws.com";
}

int acmpca__sts_url(char **out, const char *region, int use_fips)
{
    acmpca_buf b = {0};
    int rc;

    *out = NULL;
    if (!region || !*region || strcmp(region, "aws-global") == 0)
        rc = acmpca__buf_puts(&b, use_fips ? "https://sts-fips.us-east-1.amazonaws.com"
                                           : "https://sts.amazonaws.com");
    else if (!valid_region(region)) {
        acmpca__error_set(ACMPCA_EREGION, "region \"%.64s\" is not valid", region);
        acmpca__error_set_subject(region);
        return ACMPCA_EREGION;
    } else
        rc = acmpca__buf_printf(&b, "https://sts%s.%s.%s", use_fips ? "-fips" : "", region,
                                dns_suffix(region));
    if (rc || !(*out = acmpca__buf_detach(&b))) {
        acmpca__buf_free(&b);
        return rc ? rc : ACMPCA_ENOMEM;
    }
    return 0;
}

int acmpca__sso_portal_url(char **out, const char *region)
{
    acmpca_buf b = {0};
    int rc;

    *out = NULL;
    if (!region || !valid_region(region)) {
        acmpca__error_set(ACMPCA_EREGION, "sso_region \"%.64s\" is not valid",
                          region ? region : "");
        acmpca__error_set_subject(region);
        return ACMPCA_EREGION;
    }
    if ((rc = acmpca__buf_printf(&b, "https://portal.sso.%s.%s", region, dns_suffix(region))) ||
        !(*out = acmpca__buf_detach(&b))) {
        acmpca__buf_free(&b);
        return rc ? rc : ACMPCA_ENOMEM;
    }
    return 0;
}

/* The region for STS: option, AWS_REGION, AWS_DEFAULT_REGION, the profile's. */
static const char *resolve_region(const acmpca__cred_opts *o, const acmpca__profiles *pf)
{
    const char *v;
    if (o->region)
        return o->region;
    if ((v = acmpca__getenv("AWS_REGION")) || (v = acmpca__getenv("AWS_DEFAULT_REGION")))
        return v;
    return acmpca__profiles_get(pf, o->profile, "region");
}

static const char *resolve_ca_bundle(const acmpca__cred_opts *o, const acmpca__profiles *pf)
{
    const char *v;
    if (o->ca_bundle)
        return o->ca_bundle;
    if ((v = acmpca__getenv("AWS_CA_BUNDLE")))
        return v;
    return acmpca__profiles_get(pf, o->profile, "ca_bundle");
}

/*
 * A service's configured endpoint, as botocore: AWS_ENDPOINT_URL_<ENV>,
 * AWS_ENDPOINT_URL, the profile's services section (<key>.endpoint_url), the
 * profile's endpoint_url; none when ignore_configured_endpoint_urls is true.
 */
static const char *configured_endpoint(const acmpca__profiles *pf, const char *profile,
                                       const char *env_name, const char *key)
{
    const char *v, *svc;
    char name[160];

    if ((v = acmpca__getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ? is_true(v)
        : is_true(acmpca__profiles_get(pf, profile, "ignore_configured_endpoint_urls")))
        return NULL;
    if ((v = acmpca__getenv(env_name)) || (v = acmpca__getenv("AWS_ENDPOINT_URL")))
        return v;
    if ((svc = acmpca__profiles_get(pf, profile, "services")) != NULL) {
        char section[160];
        snprintf(section, sizeof(section), "services %s", svc);
        snprintf(name, sizeof(name), "%s.endpoint_url", key);
        if ((v = acmpca__profiles_section_get(pf, section, name)) != NULL)
            return v;
    }
    return acmpca__profiles_get(pf, profile, "endpoint_url");
}

/* Seconds (decimals allowed) into milliseconds; -1 when not a sensible value. */
static long parse_seconds_ms(const char *v)
{
    char *end = NULL;
    double s = strtod(v, &end);
    if (end == v || *end || !(s > 0) || s > 3600)
        return -1;
    return (long)(s * 1000 + 0.5);
}

/* IMDS / container timeout and attempts: option, environment, profile, default. */
static int metadata_settings(const char *provider, const acmpca__cred_opts *o,
                             const acmpca__profiles *pf, long def_timeout_ms, int def_attempts,
                             long *timeout_ms, int *attempts)
{
    const char *v, *from;
    char *end = NULL;
    long n;

    *timeout_ms = def_timeout_ms;
    *attempts = def_attempts;
    if (o->metadata_timeout_ms > 0) {
        *timeout_ms = o->metadata_timeout_ms;
    } else {
        from = "AWS_METADATA_SERVICE_TIMEOUT";
        if (!(v = acmpca__getenv(from))) {
            from = "metadata_service_timeout";
            v = acmpca__profiles_get(pf, o->profile, from);
        }
        if (v && (*timeout_ms = parse_seconds_ms(v)) < 0)
            return acmpca__error_set(ACMPCA_ECONFIG, "%s: %s = \"%.32s\" is not a number of "
                                     "seconds (up to 3600)", provider, from, v);
    }
    if (o->metadata_attempts > 0) {
        *attempts = o->metadata_attempts;
    } else {
        from = "AWS_METADATA_SERVICE_NUM_ATTEMPTS";
        if (!(v = acmpca__getenv(from))) {
            from = "metadata_service_num_attempts";
            v = acmpca__profiles_get(pf, o->profile, from);
        }
        if (v) {
            n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 10)
                return acmpca__error_set(ACMPCA_ECONFIG, "%s: %s = \"%.32s\" is not a whole "
                                         "number from 1 to 10", provider, from, v);
            *attempts = (int)n;
        }
    }
    return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

/*
 * `no_proxy` for the metadata endpoints (link-local or loopback): a proxy
 * there would receive the authorization token and could answer with any
 * credentials it likes. STS and SSO are public endpoints and honour the
 * proxy variables, as botocore does.
 */
static int http_open(acmpca_transport **t, long connect_ms, long read_ms, size_t max_bytes,
                     const char *ca_bundle, int no_proxy)
{
    acmpca_transport_options to;

    memset(&to, 0, sizeof(to));
    to.no_proxy = no_proxy;
    to.connect_timeout_ms = connect_ms;
    to.read_timeout_ms = read_ms;
    to.verify_tls = 1;
    to.ca_bundle = ca_bundle;
    to.max_response_bytes = max_bytes;
    to.pool_size = 1;
    return acmpca__transport_new(t, &to);
}

/*
 * Send, retrying connection failures and 5xx answers up to `attempts` times
 * in all. 0 with any HTTP status in resp; else the transport's error.
 */
static int http_send(acmpca_transport *t, int attempts, const char *method, const char *url,
                     const acmpca_header *headers, size_t header_count, const char *body,
                     size_t body_len, acmpca_http_response *resp)
{
    acmpca_http_request req;
    int attempt, rc;

    memset(&req, 0, sizeof(req));
    req.method = (char *)method;
    req.url = (char *)url;
    req.headers = (acmpca_header *)headers;
    req.header_count = header_count;
    req.body = (char *)body;
    req.body_len = body_len;
    for (attempt = 1;; attempt++) {
        /* Credentials arrive in the body: growing it must not leave copies behind. */
        resp->body.secret = 1;
        if (acmpca__fetch_logging())
            rc = acmpca__fetch_exchange(acmpca__transport_options(t), &req, resp);
        else
            rc = acmpca__transport_send(t, &req, resp, 0);
        if (rc == ACMPCA__EPENDING)
            return rc;
        if (rc == 0 && (resp->status < 500 || attempt >= attempts))
            return 0;
        if (rc != 0 && (attempt >= attempts || rc == ACMPCA_ETOOLARGE || rc == ACMPCA_ENOMEM ||
                        rc == ACMPCA_ETLS))
            return rc;
        if (rc == 0)
            response_clear(resp);
        if (acmpca__fetch_logging()) {
            if ((rc = acmpca__fetch_pause(100L * attempt)) != 0)
                return rc;
        } else {
            struct timespec ts = {0, 100L * 1000000L * attempt};
            nanosleep(&ts, NULL);
        }
    }
}

/* "HTTP 403 (AccessDenied: the message)" from a JSON error body, never quoting anything else. */
static void describe_json_error(char *dst, size_t dst_len, const acmpca_http_response *resp)
{
    cJSON *json = cJSON_ParseWithLengthOpts(resp->body.ptr ? resp->body.ptr : "", resp->body.len,
                                            NULL, 0);
    const char *code = NULL, *msg = NULL, *type;
    char code_buf[96] = "", msg_buf[256] = "";

    if (cJSON_IsObject(json)) {
        code = acmpca__json_string(json, "Code");
        if (!code)
            code = acmpca__json_string(json, "__type");
        msg = acmpca__json_string(json, "Message");
        if (!msg)
            msg = acmpca__json_string(json, "message");
    }
    if (!code && (type = acmpca__http_response_header(resp, "x-amzn-errortype")) != NULL)
        code = type;
    if (code) {
        size_t n = strcspn(code, ":");
        acmpca__printable(code_buf, sizeof(code_buf), code, n);
    }
    if (msg)
        acmpca__printable(msg_buf, sizeof(msg_buf), msg, strlen(msg));
    snprintf(dst, dst_len, "HTTP %d%s%s%s%s%s", resp->status, code || msg ? " (" : "", code_buf,
             code && msg ? ": " : "", msg_buf, code || msg ? ")" : "");
    acmpca__json_delete_secret(json);
}

/*
 * Credentials from the JSON that both the container endpoint and IMDS
 * serve: AccessKeyId, SecretAccessKey, Token, Expiration (and Code on IMDS).
 */
static int parse_json_credentials(const char *provider, const char *what,
                                  const acmpca_http_response *resp, acmpca_credentials **out)
{
    cJSON *json;
    const char *code;
    int rc;

    json = cJSON_ParseWithLengthOpts(resp->body.ptr ? resp->body.ptr : "", resp->body.len, NULL,
                                     0);
    if (!cJSON_IsObject(json)) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: %s is not a JSON object (%zu bytes)",
                               provider, what, resp->body.len);
        goto done;
    }
    if ((code = acmpca__json_string(json, "Code")) != NULL && strcmp(code, "Success") != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: %s has Code \"%.64s\"%s%.200s", provider,
                               what, code, acmpca__json_string(json, "Message") ? ": " : "",
                               acmpca__json_string(json, "Message")
                                   ? acmpca__json_string(json, "Message") : "");
        goto done;
    }
    rc = acmpca__credentials_from_json(json, provider, what, "Token", out);
done:
    acmpca__json_delete_secret(json);
    return rc;
}

/* Providers whose whole context is their options. */
static void opts_ctx_destroy(void *ctx)
{
    if (ctx) {
        acmpca__cred_opts_clear(ctx);
        free(ctx);
    }
}

static int opts_provider_new(acmpca_credentials_provider **out, const char *name,
                             acmpca_credentials_fetch_fn fetch,
                             const acmpca_credentials_options *opts, const char *who)
{
    acmpca__cred_opts *o;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "%s: out is NULL", who);
    *out = NULL;
    if (!(o = calloc(1, sizeof(*o))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if ((rc = acmpca__cred_opts_init(o, opts, NULL, who)) != 0) {
        free(o);
        return rc;
    }
    if ((rc = acmpca__provider_new(out, name, fetch, opts_ctx_destroy, o, o)) != 0)
        opts_ctx_destroy(o);
    return rc;
}

/* ---- container (ECS, EKS pod identity) ------------------------------------- */

/*
 * Hosts allowed in AWS_CONTAINER_CREDENTIALS_FULL_URI: any loopback address,
 * the ECS agent and the EKS pod identity agent (IPv4 and IPv6).
 */
int acmpca__container_url_allowed(const char *url)
{
    const char *p, *end;
    char host[256];
    unsigned char addr[16];
    size_t n;

    if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else
        return 0;
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)))
        return 0;   /* user info: the real host would be hard to see */
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return 0;
        p++;
        n = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        n = (size_t)((colon ? colon : end) - p);
    }
    if (n == 0 || n >= sizeof(host))
        return 0;
    memcpy(host, p, n);
    host[n] = '\0';
    if (acmpca__strcaseeq(host, "localhost"))
        return 1;
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127 || strcmp(host, "169.254.170.2") == 0 ||
               strcmp(host, "169.254.170.23") == 0;
    if (inet_pton(AF_INET6, host, addr) == 1) {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char eks6[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0, 0, 0, 0x23};
        return memcmp(addr, loop6, 16) == 0 || memcmp(addr, eks6, 16) == 0;
    }
    return 0;
}

/* The Authorization value: the token file (read each time: it rotates), else the variable. */
static int container_token(acmpca_buf *token)
{
    const char *file = acmpca__getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *value = acmpca__getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    int rc;

    token->secret = 1;
    if (file) {
        if ((rc = read_small_file(CONTAINER_NAME, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file,
                                  TOKEN_FILE_MAX_BYTES, token)) != 0)
            return rc;
        trim_end(token);
    } else if (value && (rc = acmpca__buf_puts(token, value)) != 0) {
        return rc;
    }
    /* A line break would end the header and start one of the token's choosing. */
    if (token->ptr && (strlen(token->ptr) != token->len || acmpca__has_ctl_char(token->ptr)))
        return acmpca__error_set(ACMPCA_ECONFIG,
                                 CONTAINER_NAME ": the authorization token (%s) contains a "
                                 "control character, which a header cannot carry",
                                 file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                                      : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    return 0;
}

static int container_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    const acmpca__cred_opts *o = ctx;
    const char *rel = acmpca__getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = acmpca__getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    acmpca__profiles pf = {0};
    acmpca_transport *t = NULL;
    acmpca_http_response resp;
    acmpca_buf url = {0}, token = {0};
    acmpca_header auth;
    long timeout_ms;
    int attempts, rc;

    memset(&resp, 0, sizeof(resp));
    if (!rel && !full) {
        WHY("no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI");
        return ACMPCA_ENOCREDENTIALS;
    }
    if (rel) {
        rc = join_url(&url, ECS_HOST, rel);
    } else if (!acmpca__container_url_allowed(full)) {
        return acmpca__error_set(ACMPCA_ECONFIG,
                                 CONTAINER_NAME ": AWS_CONTAINER_CREDENTIALS_FULL_URI=\"%.200s\" "
                                 "is not allowed: its host must be a loopback address, "
                                 "169.254.170.2, 169.254.170.23 or fd00:ec2::23", full);
    } else {
        rc = acmpca__buf_puts(&url, full);
    }
    if (rc || (rc = acmpca__profiles_load(&pf)) != 0 ||
        (rc = metadata_settings(CONTAINER_NAME, o, &pf, 2000, 3, &timeout_ms, &attempts)) != 0 ||
        (rc = container_token(&token)) != 0 ||
        (rc = http_open(&t, timeout_ms, timeout_ms, METADATA_MAX_BYTES, NULL, 1)) != 0)
        goto done;
    auth.name = "Authorization";
    auth.value = token.ptr;
    if ((rc = http_send(t, attempts, "GET", url.ptr, &auth, token.ptr ? 1 : 0, NULL, 0,
                        &resp)) != 0) {
        rc = fail_as(ACMPCA_ECREDENTIALS, CONTAINER_NAME);
        goto done;
    }
    if (resp.status != 200) {
        char detail[400];
        describe_json_error(detail, sizeof(detail), &resp);
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, CONTAINER_NAME ": %s answered %s%s",
                               rel ? "the ECS credentials endpoint" : full, detail,
                               resp.status == 401 || resp.status == 403
                                   ? "; check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)" : "");
        acmpca__error_set_http_status(resp.status);
        goto done;
    }
    rc = parse_json_credentials(CONTAINER_NAME, "the container credentials response", &resp,
                                out);
done:
    response_clear(&resp);
    acmpca__transport_free(t);
    acmpca__buf_free(&url);
    acmpca__buf_free_secret(&token);
    acmpca__profiles_clear(&pf);
    return rc;
}

int acmpca_credentials_provider_container(acmpca_credentials_provider **out,
                                          const acmpca_credentials_options *opts)
{
    return opts_provider_new(out, CONTAINER_NAME, container_fetch, opts,
                             "acmpca_credentials_provider_container");
}

/* ---- EC2 instance metadata (IMDSv2) ----------------------------------------- */

static int imds_endpoint(const acmpca__cred_opts *o, const acmpca__profiles *pf,
                         const char **out)
{
    const char *mode;

    if ((*out = acmpca__getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")) ||
        (*out = acmpca__profiles_get(pf, o->profile, "ec2_metadata_service_endpoint")))
        return 0;
    if (!(mode = acmpca__getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")))
        mode = acmpca__profiles_get(pf, o->profile, "ec2_metadata_service_endpoint_mode");
    if (!mode || acmpca__strcaseeq(mode, "IPv4"))
        *out = IMDS_IPV4;
    else if (acmpca__strcaseeq(mode, "IPv6"))
        *out = IMDS_IPV6;
    else
        return acmpca__error_set(ACMPCA_ECONFIG, IMDS_NAME ": endpoint mode \"%.32s\" is not "
                                 "valid: expected IPv4 or IPv6", mode);
    return 0;
}

static int imds_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    const acmpca__cred_opts *o = ctx;
    acmpca__profiles pf = {0};
    acmpca_transport *t = NULL;
    acmpca_http_response resp;
    acmpca_buf url = {0}, token = {0}, role = {0};
    acmpca_header h;
    const char *base;
    long timeout_ms;
    int attempts, rc;

    memset(&resp, 0, sizeof(resp));
    if (is_true(acmpca__getenv("AWS_EC2_METADATA_DISABLED"))) {
        WHY("AWS_EC2_METADATA_DISABLED=true");
        return ACMPCA_ENOCREDENTIALS;
    }
    if ((rc = acmpca__profiles_load(&pf)) != 0 || (rc = imds_endpoint(o, &pf, &base)) != 0 ||
        (rc = metadata_settings(IMDS_NAME, o, &pf, 1000, 1, &timeout_ms, &attempts)) != 0 ||
        (rc = http_open(&t, timeout_ms, timeout_ms, METADATA_MAX_BYTES, NULL, 1)) != 0)
        goto done;

    /*
     * The session token. Not getting one means this is not EC2 (or IMDS is
     * off): no credentials here, the reason goes into the chain's list.
     */
    if ((rc = join_url(&url, base, "latest/api/token")) != 0)
        goto done;
    h.name = "X-aws-ec2-metadata-token-ttl-seconds";
    h.value = IMDS_TOKEN_TTL;
    if ((rc = http_send(t, attempts, "PUT", url.ptr, &h, 1, "", 0, &resp)) != 0) {
        WHY("%s", acmpca_error_last()->message);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    if (resp.status != 200 || !resp.body.len) {
        WHY("the token request (PUT %s) answered HTTP %d", url.ptr, resp.status);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    token.secret = 1;
    if ((rc = acmpca__buf_append(&token, resp.body.ptr, resp.body.len)) != 0)
        goto done;
    trim_end(&token);
    response_clear(&resp);
    /* It goes back as a header: a line break in it would add headers of its own. */
    if (strlen(token.ptr) != token.len || acmpca__has_ctl_char(token.ptr)) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, IMDS_NAME ": the session token from PUT %s "
                               "contains a control character, which a header cannot carry",
                               url.ptr);
        goto done;
    }

    /* The role attached to the instance. */
    url.len = 0;
    if ((rc = join_url(&url, base, "latest/meta-data/iam/security-credentials/")) != 0)
        goto done;
    h.name = "X-aws-ec2-metadata-token";
    h.value = token.ptr;
    if ((rc = http_send(t, attempts, "GET", url.ptr, &h, 1, NULL, 0, &resp)) != 0) {
        rc = fail_as(ACMPCA_ECREDENTIALS, IMDS_NAME);
        goto done;
    }
    if (resp.status == 404) {
        WHY("no IAM role is attached to this instance (GET %s answered HTTP 404)", url.ptr);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    if (resp.status != 200) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, IMDS_NAME ": GET %s answered HTTP %d",
                               url.ptr, resp.status);
        acmpca__error_set_http_status(resp.status);
        goto done;
    }
    if ((rc = acmpca__buf_append(&role, resp.body.ptr, strcspn(resp.body.ptr, "\r\n"))) != 0)
        goto done;
    trim_end(&role);
    response_clear(&resp);
    if (!role.len) {
        WHY("no IAM role is attached to this instance (%s is empty)", url.ptr);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }

    /* Its credentials. */
    if ((rc = url_encode(&url, role.ptr)) != 0 ||
        (rc = http_send(t, attempts, "GET", url.ptr, &h, 1, NULL, 0, &resp)) != 0) {
        if (rc != ACMPCA_ENOMEM)
            rc = fail_as(ACMPCA_ECREDENTIALS, IMDS_NAME);
        goto done;
    }
    if (resp.status != 200) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, IMDS_NAME ": GET %s answered HTTP %d",
                               url.ptr, resp.status);
        acmpca__error_set_http_status(resp.status);
        goto done;
    }
    rc = parse_json_credentials(IMDS_NAME, "the instance role's credentials", &resp, out);
done:
    response_clear(&resp);
    acmpca__transport_free(t);
    acmpca__buf_free(&url);
    acmpca__buf_free(&role);
    acmpca__buf_free_secret(&token);
    acmpca__profiles_clear(&pf);
    return rc;
}

int acmpca_credentials_provider_imds(acmpca_credentials_provider **out,
                                     const acmpca_credentials_options *opts)
{
    return opts_provider_new(out, IMDS_NAME, imds_fetch, opts, "acmpca_credentials_provider_imds");
}

/* ---- STS ------------------------------------------------------------------ */


/* Where STS is and how requests to it are signed. */
typedef struct sts_target {
    char *url;
    char *region;   /* signing region */
} sts_target;

static void sts_target_clear(sts_target *st)
{
    free(st->url);
    free(st->region);
}

static int sts_resolve(const char *provider, const acmpca__cred_opts *o,
                       const acmpca__profiles *pf, sts_target *st)
{
    const char *region = resolve_region(o, pf), *custom, *fips_text;
    int fips = 0, rc;

    memset(st, 0, sizeof(*st));
    if (!(fips_text = acmpca__getenv("AWS_USE_FIPS_ENDPOINT")))
        fips_text = acmpca__profiles_get(pf, o->profile, "use_fips_endpoint");
    fips = is_true(fips_text);
    if ((custom = configured_endpoint(pf, o->profile, "AWS_ENDPOINT_URL_STS", "sts")) != NULL)
        rc = (st->url = acmpca__strdup(custom)) ? 0 : ACMPCA_ENOMEM;
    else if ((rc = acmpca__sts_url(&st->url, region, fips)) != 0 && rc != ACMPCA_ENOMEM)
        rc = fail_as(rc, provider); /* ACMPCA_EREGION, as botocore's STS client raises */
    if (rc == 0 && !(st->region = acmpca__strdup(
                         region && strcmp(region, "aws-global") != 0 ? region : "us-east-1")))
        rc = ACMPCA_ENOMEM;
    if (rc)
        sts_target_clear(st);
    return rc;
}

/*
 * POST a query-protocol request (form body) to STS, signed with `signer`
 * unless it is NULL, and read <Credentials> from the answer.
 */
static int sts_call(const char *provider, const char *action, const char *role_arn,
                    const acmpca__cred_opts *o, const acmpca__profiles *pf, const char *form,
                    const acmpca_credentials *signer, acmpca_credentials **out)
{
    static const char content_type[] = "application/x-www-form-urlencoded; charset=utf-8";
    acmpca_header headers[8];
    size_t header_count = 0, i;
    acmpca_signed *sig = NULL;
    acmpca_transport *t = NULL;
    acmpca_http_response resp;
    sts_target st;
    char *id = NULL, *secret = NULL, *token = NULL, *exp_text = NULL;
    int64_t exp = 0;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if ((rc = sts_resolve(provider, o, pf, &st)) != 0)
        return rc;
    headers[header_count].name = "Content-Type";
    headers[header_count++].value = content_type;
    if (signer) {
        acmpca_sign_input in;
        memset(&in, 0, sizeof(in));
        in.method = "POST";
        in.url = st.url;
        in.headers = headers;
        in.header_count = header_count;
        in.body = form;
        in.body_len = strlen(form);
        in.region = st.region;
        in.service = "sts";
        in.access_key_id = signer->access_key_id;
        in.secret_access_key = signer->secret_access_key;
        in.session_token = signer->session_token;
        in.timestamp = (int64_t)time(NULL);    /* the real clock: STS checks it */
        if ((rc = acmpca_sign(&sig, &in, NULL)) != 0) {
            rc = fail_as(ACMPCA_ECREDENTIALS, provider);
            goto done;
        }
        for (i = 0; i < sig->header_count && header_count < 8; i++)
            headers[header_count++] = sig->headers[i];
    }
    if ((rc = http_open(&t, SERVICE_CONNECT_TIMEOUT_MS, SERVICE_READ_TIMEOUT_MS,
                        SERVICE_MAX_BYTES, resolve_ca_bundle(o, pf), 0)) != 0)
        goto done;
    if ((rc = http_send(t, 2, "POST", st.url, headers, header_count, form, strlen(form),
                        &resp)) != 0) {
        rc = fail_as(ACMPCA_ECREDENTIALS, provider);
        goto done;
    }
    if (resp.status != 200) {
        char *code = acmpca__xml_text(resp.body.ptr, "Error", "Code");
        char *msg = acmpca__xml_text(resp.body.ptr, "Error", "Message");
        char code_p[96] = "", msg_p[300] = "";
        if (code)
            acmpca__printable(code_p, sizeof(code_p), code, strlen(code));
        if (msg)
            acmpca__printable(msg_p, sizeof(msg_p), msg, strlen(msg));
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: STS %s for %.200s failed: HTTP %d%s%s%s%s",
                               provider, action, role_arn, resp.status, code ? " " : "", code_p,
                               msg ? ": " : "", msg_p);
        acmpca__error_set_http_status(resp.status);
        free(code);
        free(msg);
        goto done;
    }
    id = acmpca__xml_text(resp.body.ptr, "Credentials", "AccessKeyId");
    secret = acmpca__xml_text(resp.body.ptr, "Credentials", "SecretAccessKey");
    token = acmpca__xml_text(resp.body.ptr, "Credentials", "SessionToken");
    exp_text = acmpca__xml_text(resp.body.ptr, "Credentials", "Expiration");
    if (!id || !*id || !secret || !*secret || !token || !*token || !exp_text) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               "%s: the STS %s response (HTTP 200, %zu bytes) has no %s", provider,
                               action, resp.body.len,
                               !id || !*id ? "<AccessKeyId>" : !secret || !*secret
                               ? "<SecretAccessKey>" : !token || !*token ? "<SessionToken>"
                                                                        : "<Expiration>");
        goto done;
    }
    if (acmpca__parse_iso8601(exp_text, &exp) != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               "%s: the STS %s response has Expiration \"%.64s\", which is not "
                               "an ISO 8601 time", provider, action, exp_text);
        goto done;
    }
    rc = acmpca_credentials_new(out, id, secret, token, exp, provider);
done:
    free(id);
    acmpca__free_secret(secret);
    acmpca__free_secret(token);
    free(exp_text);
    response_clear(&resp);
    acmpca__transport_free(t);
    acmpca_signed_free(sig);
    sts_target_clear(&st);
    return rc;
}

/* "Action=...&Version=2011-06-15&RoleArn=...&RoleSessionName=..." */
static int sts_form_start(acmpca_buf *form, const char *action, const char *role_arn,
                          const char *session_name)
{
    int rc;
    if ((rc = acmpca__buf_printf(form, "Action=%s&Version=2011-06-15&RoleArn=", action)) ||
        (rc = url_encode(form, role_arn)) || (rc = acmpca__buf_puts(form, "&RoleSessionName=")))
        return rc;
    return url_encode(form, session_name);
}

/* ---- assume role ------------------------------------------------------------ */

typedef struct role_source {
    acmpca__cred_opts opts;     /* its profile's region / endpoint settings apply */
    int from_profile;           /* role and source come from opts.profile (first fetch) */
    acmpca_credentials_provider *source;
    char *source_label;         /* e.g. "profile \"a\" source_profile \"b\"" */
    char *role_arn;
    char *session_name;         /* NULL: generated */
    char *external_id;
    int duration_seconds;
} role_source;

static void role_params_clear(role_source *rs)
{
    acmpca_credentials_provider_unref(rs->source);
    free(rs->source_label);
    free(rs->role_arn);
    free(rs->session_name);
    free(rs->external_id);
    rs->source = NULL;
    rs->source_label = rs->role_arn = rs->session_name = rs->external_id = NULL;
    rs->duration_seconds = 0;
}

static void role_source_destroy(void *ctx)
{
    role_source *rs = ctx;
    if (rs) {
        role_params_clear(rs);
        acmpca__cred_opts_clear(&rs->opts);
        free(rs);
    }
}

static int role_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len);

static int role_set_params(role_source *rs, const acmpca_assume_role_params *params)
{
    if (!params || !params->role_arn || !*params->role_arn)
        return acmpca__error_set(ACMPCA_EINVAL, ROLE_NAME ": a role ARN is required");
    if (params->duration_seconds &&
        (params->duration_seconds < 900 || params->duration_seconds > 43200))
        return acmpca__error_set(ACMPCA_EINVAL,
                                 ROLE_NAME ": duration_seconds %d is outside 900..43200",
                                 params->duration_seconds);
    rs->duration_seconds = params->duration_seconds;
    if (!(rs->role_arn = acmpca__strdup(params->role_arn)) ||
        (params->role_session_name && *params->role_session_name &&
         !(rs->session_name = acmpca__strdup(params->role_session_name))) ||
        (params->external_id && *params->external_id &&
         !(rs->external_id = acmpca__strdup(params->external_id))))
        return ACMPCA_ENOMEM;
    return 0;
}

/* A role provider over `source` (taken, also on failure). */
static int role_new(acmpca_credentials_provider **out, acmpca_credentials_provider *source,
                    const char *source_label, const acmpca_assume_role_params *params,
                    const acmpca__cred_opts *o)
{
    role_source *rs;
    int rc;

    *out = NULL;
    if (!(rs = calloc(1, sizeof(*rs)))) {
        acmpca_credentials_provider_unref(source);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    rs->source = source;
    if ((rc = acmpca__cred_opts_copy(&rs->opts, o, NULL)) != 0 ||
        (rc = role_set_params(rs, params)) != 0 ||
        (rc = (rs->source_label = acmpca__strdup(source_label)) ? 0 : ACMPCA_ENOMEM) != 0 ||
        (rc = acmpca__provider_new(out, ROLE_NAME, role_fetch, role_source_destroy, rs,
                                   &rs->opts)) != 0)
        role_source_destroy(rs);
    return rc;
}

/* role_arn, role_session_name, external_id, duration_seconds of a profile; mfa_serial refused. */
static int profile_role_params(const acmpca__profiles *pf, const char *profile,
                               acmpca_assume_role_params *params)
{
    const char *d = acmpca__profiles_get(pf, profile, "duration_seconds");
    char *end = NULL;
    long n = 0;

    memset(params, 0, sizeof(*params));
    if (acmpca__profiles_get(pf, profile, "mfa_serial"))
        return acmpca__error_set(ACMPCA_ECONFIG,
                                 ROLE_NAME ": profile \"%s\" sets mfa_serial, which needs an "
                                 "interactive MFA prompt; this library does not prompt: use a "
                                 "credential_process that handles MFA, or a profile without "
                                 "mfa_serial", profile);
    if (d) {
        n = strtol(d, &end, 10);
        if (*end || n < 900 || n > 43200)
            return acmpca__error_set(ACMPCA_ECONFIG,
                                     ROLE_NAME ": duration_seconds = \"%.32s\" in profile \"%s\" "
                                     "is not a whole number from 900 to 43200", d, profile);
    }
    params->role_arn = acmpca__profiles_get(pf, profile, "role_arn");
    params->role_session_name = acmpca__profiles_get(pf, profile, "role_session_name");
    params->external_id = acmpca__profiles_get(pf, profile, "external_id");
    params->duration_seconds = (int)n;
    return 0;
}

static int web_identity_new(acmpca_credentials_provider **out, const acmpca__cred_opts *o,
                            int use_env);

static int has_static_keys(const acmpca__profiles *pf, const char *profile)
{
    return acmpca__profiles_get(pf, profile, "aws_access_key_id") &&
           acmpca__profiles_get(pf, profile, "aws_secret_access_key");
}

/*
 * What a source profile without a role of its own provides, as botocore's
 * profile providers: web identity (profile keys only), SSO, the credentials
 * file, credential_process, the config file.
 */
static int source_profile_chain(acmpca_credentials_provider **out, const acmpca__cred_opts *top,
                                const char *profile)
{
    acmpca_credentials_provider *list[5] = {NULL};
    acmpca_credentials_options pub;
    acmpca__cred_opts o;
    int rc;

    if ((rc = acmpca__cred_opts_copy(&o, top, profile)) != 0)
        return rc;
    acmpca__cred_opts_public(&o, &pub);
    if ((rc = web_identity_new(&list[0], &o, 0)) == 0 &&
        (rc = acmpca_credentials_provider_sso(&list[1], &pub)) == 0 &&
        (rc = acmpca__file_provider_new(&list[2], profile, 0)) == 0 &&
        (rc = acmpca_credentials_provider_process(&list[3], NULL, &pub)) == 0 &&
        (rc = acmpca__file_provider_new(&list[4], profile, 1)) == 0) {
        rc = acmpca_credentials_provider_chain(out, list, 5);
    } else {
        size_t i;
        for (i = 0; i < 5; i++)
            acmpca_credentials_provider_unref(list[i]);
    }
    acmpca__cred_opts_clear(&o);
    return rc;
}

/*
 * The source of `profile`'s role: its credential_source, or its
 * source_profile (which may assume a role in turn). `visited` holds the
 * profiles of the chain so far (depth of them), to refuse loops.
 */
static int role_source_for(acmpca_credentials_provider **out, acmpca_buf *label,
                           const acmpca__profiles *pf, const acmpca__cred_opts *top,
                           const char *profile, const char **visited, size_t depth)
{
    const char *cs = acmpca__profiles_get(pf, profile, "credential_source");
    const char *sp = acmpca__profiles_get(pf, profile, "source_profile");
    acmpca_credentials_options pub;
    size_t i;
    int rc;

    *out = NULL;
    label->len = 0;
    if (cs && sp)
        return acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": profile \"%s\" sets both "
                                 "source_profile and credential_source; keep one", profile);
    if (!cs && !sp)
        return acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": profile \"%s\" has role_arn but "
                                 "neither source_profile nor credential_source", profile);
    if (cs) {
        if ((rc = acmpca__buf_printf(label, "profile \"%s\" credential_source %s", profile, cs)))
            return rc;
        acmpca__cred_opts_public(top, &pub);
        if (strcmp(cs, "Environment") == 0)
            return acmpca_credentials_provider_environment(out);
        if (strcmp(cs, "EcsContainer") == 0)
            return acmpca_credentials_provider_container(out, &pub);
        if (strcmp(cs, "Ec2InstanceMetadata") == 0)
            return acmpca_credentials_provider_imds(out, &pub);
        return acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": credential_source \"%.64s\" in "
                                 "profile \"%s\" is not valid: expected Environment, "
                                 "EcsContainer or Ec2InstanceMetadata", cs, profile);
    }
    if ((rc = acmpca__buf_printf(label, "profile \"%s\" source_profile \"%s\"", profile, sp)))
        return rc;
    if (!acmpca__profiles_has(pf, sp))
        return acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": source_profile \"%s\" of profile "
                                 "\"%s\" is in neither %s nor %s", sp, profile,
                                 pf->credentials_path, pf->config_path);
    for (i = 0; i < depth; i++) {
        if (strcmp(visited[i], sp) != 0)
            continue;
        /* A profile may name itself when it has keys: they are the source. */
        if (strcmp(sp, profile) == 0 && has_static_keys(pf, sp))
            break;
        {
            acmpca_buf loop = {0};
            size_t j;
            for (j = i; j < depth; j++)
                acmpca__buf_printf(&loop, "\"%s\" -> ", visited[j]);
            acmpca__buf_printf(&loop, "\"%s\"", sp);
            rc = acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": source profiles form a loop: %s",
                                   loop.ptr ? loop.ptr : sp);
            acmpca__buf_free(&loop);
            return rc;
        }
    }
    /* As botocore: keys in the source profile win over its own role. */
    if (has_static_keys(pf, sp) || !acmpca__profiles_get(pf, sp, "role_arn") ||
        acmpca__profiles_get(pf, sp, "web_identity_token_file"))
        return source_profile_chain(out, top, sp);
    if (depth >= MAX_ROLE_DEPTH)
        return acmpca__error_set(ACMPCA_ECONFIG, ROLE_NAME ": more than %d chained roles from "
                                 "profile \"%s\"", MAX_ROLE_DEPTH, visited[0]);
    {
        acmpca_assume_role_params params;
        acmpca_credentials_provider *inner = NULL;
        acmpca_buf inner_label = {0};

        visited[depth] = sp;
        if ((rc = profile_role_params(pf, sp, &params)) != 0 ||
            (rc = role_source_for(&inner, &inner_label, pf, top, sp, visited, depth + 1)) != 0) {
            acmpca__buf_free(&inner_label);
            return rc;
        }
        rc = role_new(out, inner, inner_label.ptr, &params, top);
        acmpca__buf_free(&inner_label);
        return rc;
    }
}

/* First fetch of an assume-role profile: find its role and build its source. */
static int role_resolve(role_source *rs, const acmpca__profiles *pf, char *why, size_t why_len)
{
    const char *profile = rs->opts.profile;
    const char *visited[MAX_ROLE_DEPTH + 1];
    acmpca_assume_role_params params;
    acmpca_buf label = {0};
    int rc;

    if (!acmpca__profiles_get(pf, profile, "role_arn")) {
        WHY("no role_arn in profile \"%s\"", profile);
        return ACMPCA_ENOCREDENTIALS;
    }
    if (acmpca__profiles_get(pf, profile, "web_identity_token_file")) {
        WHY("profile \"%s\" uses web_identity_token_file", profile);
        return ACMPCA_ENOCREDENTIALS;
    }
    visited[0] = profile;
    if ((rc = profile_role_params(pf, profile, &params)) != 0 ||
        (rc = role_source_for(&rs->source, &label, pf, &rs->opts, profile, visited, 1)) != 0 ||
        (rc = role_set_params(rs, &params)) != 0 ||
        (rc = (rs->source_label = acmpca__buf_detach(&label)) ? 0 : ACMPCA_ENOMEM) != 0)
        role_params_clear(rs);
    acmpca__buf_free(&label);
    return rc;
}

static int role_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    role_source *rs = ctx;
    acmpca__profiles pf = {0};
    acmpca_credentials *src = NULL;
    acmpca_buf form = {0};
    char session[64];
    int64_t now = acmpca__cred_now(&rs->opts);
    int rc;

    if ((rc = acmpca__profiles_load(&pf)) != 0)
        return rc;
    if (rs->from_profile && !rs->source && (rc = role_resolve(rs, &pf, why, why_len)) != 0)
        goto done;
    if ((rc = acmpca_credentials_get(rs->source, now, &src)) != 0) {
        char prefix[400];
        if (rc == ACMPCA_ENOMEM)
            goto done;
        snprintf(prefix, sizeof(prefix), ROLE_NAME ": %s", rs->source_label);
        rc = fail_as(ACMPCA_ECREDENTIALS, prefix);
        goto done;
    }
    snprintf(session, sizeof(session), "acmpca-session-%lld", (long long)now);
    if ((rc = sts_form_start(&form, "AssumeRole", rs->role_arn,
                             rs->session_name ? rs->session_name : session)) != 0 ||
        (rs->duration_seconds &&
         (rc = acmpca__buf_printf(&form, "&DurationSeconds=%d", rs->duration_seconds)) != 0) ||
        (rs->external_id && ((rc = acmpca__buf_puts(&form, "&ExternalId=")) != 0 ||
                             (rc = url_encode(&form, rs->external_id)) != 0)))
        goto done;
    rc = sts_call(ROLE_NAME, "AssumeRole", rs->role_arn, &rs->opts, &pf, form.ptr, src, out);
done:
    acmpca_credentials_free(src);
    acmpca__buf_free(&form);
    acmpca__profiles_clear(&pf);
    return rc;
}

int acmpca_credentials_provider_assume_role(acmpca_credentials_provider **out,
                                            const acmpca_credentials_options *opts)
{
    role_source *rs;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "acmpca_credentials_provider_assume_role: out is NULL");
    *out = NULL;
    if (!(rs = calloc(1, sizeof(*rs))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    rs->from_profile = 1;
    if ((rc = acmpca__cred_opts_init(&rs->opts, opts, NULL,
                                     "acmpca_credentials_provider_assume_role")) != 0 ||
        (rc = acmpca__provider_new(out, ROLE_NAME, role_fetch, role_source_destroy, rs,
                                   &rs->opts)) != 0)
        role_source_destroy(rs);
    return rc;
}

int acmpca_credentials_provider_assume_role_with_source(
    acmpca_credentials_provider **out, acmpca_credentials_provider *source,
    const acmpca_assume_role_params *params, const acmpca_credentials_options *opts)
{
    acmpca__cred_opts o;
    char label[160];
    int rc;

    if (!out || !source)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_assume_role_with_"
                                 "source: out and source are required");
    *out = NULL;
    if ((rc = acmpca__cred_opts_init(&o, opts, NULL,
                                     "acmpca_credentials_provider_assume_role_with_source")) != 0)
        return rc;
    snprintf(label, sizeof(label), "source provider \"%.100s\"",
             acmpca_credentials_provider_name(source));
    rc = role_new(out, acmpca_credentials_provider_ref(source), label, params, &o);
    acmpca__cred_opts_clear(&o);
    return rc;
}

/* ---- web identity ------------------------------------------------------------ */

typedef struct web_identity_source {
    acmpca__cred_opts opts;
    int use_env;    /* 0 for a source profile: its keys only, as botocore */
} web_identity_source;

static void web_identity_destroy(void *ctx)
{
    web_identity_source *w = ctx;
    if (w) {
        acmpca__cred_opts_clear(&w->opts);
        free(w);
    }
}

static int web_identity_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    web_identity_source *w = ctx;
    const char *profile = w->opts.profile, *file, *role_arn, *session;
    acmpca__profiles pf = {0};
    acmpca_buf token = {0}, form = {0};
    char generated[64];
    int rc;

    token.secret = form.secret = 1;
    if ((rc = acmpca__profiles_load(&pf)) != 0)
        return rc;
    file = w->use_env ? acmpca__getenv("AWS_WEB_IDENTITY_TOKEN_FILE") : NULL;
    if (!file)
        file = acmpca__profiles_get(&pf, profile, "web_identity_token_file");
    role_arn = w->use_env ? acmpca__getenv("AWS_ROLE_ARN") : NULL;
    if (!role_arn)
        role_arn = acmpca__profiles_get(&pf, profile, "role_arn");
    session = w->use_env ? acmpca__getenv("AWS_ROLE_SESSION_NAME") : NULL;
    if (!session)
        session = acmpca__profiles_get(&pf, profile, "role_session_name");
    if (!file) {
        if (w->use_env)
            WHY("no AWS_WEB_IDENTITY_TOKEN_FILE, no web_identity_token_file in profile \"%s\"",
                profile);
        else
            WHY("no web_identity_token_file in profile \"%s\"", profile);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    if (!role_arn) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, WEB_IDENTITY_NAME ": a token file is set but no "
                               "role: set %srole_arn in profile \"%s\"",
                               w->use_env ? "AWS_ROLE_ARN or " : "", profile);
        goto done;
    }
    if (!session) {
        snprintf(generated, sizeof(generated), "acmpca-session-%lld",
                 (long long)acmpca__cred_now(&w->opts));
        session = generated;
    }
    /* Read on every fetch: Kubernetes rotates the token in place. */
    if ((rc = read_small_file(WEB_IDENTITY_NAME, "the web identity token file", file,
                              TOKEN_FILE_MAX_BYTES, &token)) != 0)
        goto done;
    trim_end(&token);
    if (!token.len) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               WEB_IDENTITY_NAME ": the web identity token file %s is empty", file);
        goto done;
    }
    if ((rc = sts_form_start(&form, "AssumeRoleWithWebIdentity", role_arn, session)) != 0 ||
        (rc = acmpca__buf_puts(&form, "&WebIdentityToken=")) != 0 ||
        (rc = url_encode(&form, token.ptr)) != 0)
        goto done;
    /* Unsigned: the token is the proof. */
    rc = sts_call(WEB_IDENTITY_NAME, "AssumeRoleWithWebIdentity", role_arn, &w->opts, &pf,
                  form.ptr, NULL, out);
done:
    acmpca__buf_free_secret(&token);
    acmpca__buf_free_secret(&form);
    acmpca__profiles_clear(&pf);
    return rc;
}

static int web_identity_new(acmpca_credentials_provider **out, const acmpca__cred_opts *o,
                            int use_env)
{
    web_identity_source *w;
    int rc;

    *out = NULL;
    if (!(w = calloc(1, sizeof(*w))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    w->use_env = use_env;
    if ((rc = acmpca__cred_opts_copy(&w->opts, o, NULL)) != 0 ||
        (rc = acmpca__provider_new(out, WEB_IDENTITY_NAME, web_identity_fetch,
                                   web_identity_destroy, w, &w->opts)) != 0)
        web_identity_destroy(w);
    return rc;
}

int acmpca_credentials_provider_web_identity(acmpca_credentials_provider **out,
                                             const acmpca_credentials_options *opts)
{
    acmpca__cred_opts o;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "acmpca_credentials_provider_web_identity: out is NULL");
    *out = NULL;
    if ((rc = acmpca__cred_opts_init(&o, opts, NULL,
                                     "acmpca_credentials_provider_web_identity")) != 0)
        return rc;
    rc = web_identity_new(out, &o, 1);
    acmpca__cred_opts_clear(&o);
    return rc;
}

/* ---- SSO (IAM Identity Center) ------------------------------------------------ */

int acmpca__sha1_hex(char out[41], const char *text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(text, strlen(text), md, &len, EVP_sha1(), NULL) != 1 || len != 20)
        return acmpca__error_set(ACMPCA_ENOMEM, "SHA-1 failed");
    acmpca__hex(out, md, 20);
    return 0;
}

/* What an SSO profile says, checked. */
typedef struct sso_config {
    const char *session;      /* NULL for the legacy keys */
    const char *start_url;
    const char *region;
    const char *account_id;
    const char *role_name;
    char login_hint[200];
} sso_config;

static int sso_read_config(const acmpca__profiles *pf, const char *profile, sso_config *c,
                           char *why, size_t why_len)
{
    const char *p_start = acmpca__profiles_get(pf, profile, "sso_start_url");
    const char *p_region = acmpca__profiles_get(pf, profile, "sso_region");
    char section[300];

    memset(c, 0, sizeof(*c));
    c->session = acmpca__profiles_get(pf, profile, "sso_session");
    c->account_id = acmpca__profiles_get(pf, profile, "sso_account_id");
    c->role_name = acmpca__profiles_get(pf, profile, "sso_role_name");
    if (!c->session && !p_start) {
        WHY("no sso_session or sso_start_url in profile \"%s\"", profile);
        return ACMPCA_ENOCREDENTIALS;
    }
    if (c->session) {
        snprintf(section, sizeof(section), "sso-session %s", c->session);
        if (!acmpca__ini_has_profile(pf->config, section))
            return acmpca__error_set(ACMPCA_ECONFIG, SSO_NAME ": profile \"%s\" uses sso_session "
                                     "\"%s\", but %s has no [sso-session %s] section", profile,
                                     c->session, pf->config_path, c->session);
        c->start_url = acmpca__profiles_section_get(pf, section, "sso_start_url");
        c->region = acmpca__profiles_section_get(pf, section, "sso_region");
        if (!c->start_url || !c->region)
            return acmpca__error_set(ACMPCA_ECONFIG, SSO_NAME ": [sso-session %s] in %s has no "
                                     "%s", c->session, pf->config_path,
                                     c->start_url ? "sso_region" : "sso_start_url");
        if ((p_start && strcmp(p_start, c->start_url) != 0) ||
            (p_region && strcmp(p_region, c->region) != 0))
            return acmpca__error_set(ACMPCA_ECONFIG, SSO_NAME ": profile \"%s\" sets %s, which "
                                     "differs from its sso-session \"%s\"", profile,
                                     p_start && strcmp(p_start, c->start_url) != 0
                                         ? "sso_start_url" : "sso_region", c->session);
        snprintf(c->login_hint, sizeof(c->login_hint), "aws sso login --sso-session %s",
                 c->session);
    } else {
        c->start_url = p_start;
        c->region = p_region;
        if (!c->region)
            return acmpca__error_set(ACMPCA_ECONFIG, SSO_NAME ": profile \"%s\" has "
                                     "sso_start_url but no sso_region", profile);
        snprintf(c->login_hint, sizeof(c->login_hint), "aws sso login --profile %s", profile);
    }
    if (!c->account_id || !c->role_name)
        return acmpca__error_set(ACMPCA_ECONFIG, SSO_NAME ": profile \"%s\" has no %s", profile,
                                 c->account_id ? "sso_role_name" : "sso_account_id");
    return 0;
}

/* The access token `aws sso login` cached, unexpired. */
static int sso_cached_token(const sso_config *c, int64_t now, acmpca_buf *token)
{
    acmpca_buf path = {0}, text = {0};
    cJSON *json = NULL;
    const char *access_token, *expires;
    char sha[41], stamp[64], *expanded = NULL;
    int64_t exp = 0;
    size_t n;
    int rc;

    text.secret = 1;
    if ((rc = acmpca__sha1_hex(sha, c->session ? c->session : c->start_url)) != 0 ||
        (rc = acmpca__buf_printf(&path, "~/.aws/sso/cache/%s.json", sha)) != 0)
        goto done;
    if (!(expanded = acmpca__expand_home(path.ptr))) {
        rc = ACMPCA_ENOMEM;
        goto done;
    }
    path.len = 0;
    if ((rc = acmpca__buf_puts(&path, expanded)) != 0)
        goto done;
    if (access(path.ptr, F_OK) != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": no cached SSO token (%s); run "
                               "`%s`", path.ptr, c->login_hint);
        goto done;
    }
    if ((rc = read_small_file(SSO_NAME, "the SSO token cache", path.ptr, SSO_CACHE_MAX_BYTES,
                              &text)) != 0)
        goto done;
    json = cJSON_ParseWithLengthOpts(text.ptr, text.len, NULL, 0);
    access_token = acmpca__json_string(json, "accessToken");
    expires = acmpca__json_string(json, "expiresAt");
    if (!access_token || !*access_token || !expires) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": the SSO token cache %s has no "
                               "%s; run `%s`", path.ptr, !json ? "valid JSON"
                               : !access_token || !*access_token ? "accessToken" : "expiresAt",
                               c->login_hint);
        goto done;
    }
    /* It is sent as a header: a line break in it would add headers of its own. */
    if (acmpca__has_ctl_char(access_token)) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": the accessToken in the SSO "
                               "token cache %s contains a control character, which a header "
                               "cannot carry; run `%s`", path.ptr, c->login_hint);
        goto done;
    }
    /* Old CLI versions wrote "2019-11-14T04:05:45UTC". */
    n = strlen(expires);
    if (n < sizeof(stamp)) {
        memcpy(stamp, expires, n + 1);
        if (n > 3 && strcmp(stamp + n - 3, "UTC") == 0)
            memcpy(stamp + n - 3, "Z", 2);
    }
    if (n >= sizeof(stamp) || acmpca__parse_iso8601(stamp, &exp) != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": the SSO token cache %s has "
                               "expiresAt \"%.64s\", which is not an ISO 8601 time; run `%s`",
                               path.ptr, expires, c->login_hint);
        goto done;
    }
    if (exp <= now) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": the SSO token for %s%s%s "
                               "expired at %.64s; run `%s` to sign in again",
                               c->session ? "sso-session \"" : "", c->session ? c->session
                               : c->start_url, c->session ? "\"" : "", expires, c->login_hint);
        goto done;
    }
    rc = acmpca__buf_puts(token, access_token);
done:
    acmpca__json_delete_secret(json);
    acmpca__buf_free_secret(&text);
    acmpca__buf_free(&path);
    free(expanded);
    return rc;
}

static int sso_parse(const acmpca_http_response *resp, acmpca_credentials **out)
{
    cJSON *json = cJSON_ParseWithLengthOpts(resp->body.ptr, resp->body.len, NULL, 0);
    const cJSON *rc_obj = cJSON_GetObjectItemCaseSensitive(json, "roleCredentials");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rc_obj, "expiration");
    const char *id = acmpca__json_string(rc_obj, "accessKeyId");
    const char *secret = acmpca__json_string(rc_obj, "secretAccessKey");
    int rc;

    if (!cJSON_IsObject(rc_obj) || !id || !*id || !secret || !*secret || !cJSON_IsNumber(exp))
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": the GetRoleCredentials response "
                               "(HTTP 200, %zu bytes) has no %s", resp->body.len,
                               !cJSON_IsObject(rc_obj) ? "roleCredentials"
                               : !id || !*id ? "accessKeyId"
                               : !secret || !*secret ? "secretAccessKey" : "expiration");
    else
        rc = acmpca_credentials_new(out, id, secret, acmpca__json_string(rc_obj, "sessionToken"),
                                    (int64_t)(exp->valuedouble / 1000), SSO_NAME);
    acmpca__json_delete_secret(json);
    return rc;
}

static int sso_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    const acmpca__cred_opts *o = ctx;
    acmpca__profiles pf = {0};
    acmpca_transport *t = NULL;
    acmpca_http_response resp;
    acmpca_buf token = {0}, url = {0};
    acmpca_header h;
    sso_config c;
    const char *custom;
    char *portal = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    token.secret = 1;
    if ((rc = acmpca__profiles_load(&pf)) != 0 ||
        (rc = sso_read_config(&pf, o->profile, &c, why, why_len)) != 0 ||
        (rc = sso_cached_token(&c, acmpca__cred_now(o), &token)) != 0)
        goto done;
    if ((custom = configured_endpoint(&pf, o->profile, "AWS_ENDPOINT_URL_SSO", "sso")) != NULL)
        rc = (portal = acmpca__strdup(custom)) ? 0 : ACMPCA_ENOMEM;
    else if ((rc = acmpca__sso_portal_url(&portal, c.region)) != 0 && rc != ACMPCA_ENOMEM)
        rc = fail_as(rc, SSO_NAME); /* ACMPCA_EREGION */
    if (rc || (rc = join_url(&url, portal, "federation/credentials?account_id=")) != 0 ||
        (rc = url_encode(&url, c.account_id)) != 0 ||
        (rc = acmpca__buf_puts(&url, "&role_name=")) != 0 ||
        (rc = url_encode(&url, c.role_name)) != 0 ||
        (rc = http_open(&t, SERVICE_CONNECT_TIMEOUT_MS, SERVICE_READ_TIMEOUT_MS,
                        SERVICE_MAX_BYTES, resolve_ca_bundle(o, &pf), 0)) != 0)
        goto done;
    h.name = "x-amz-sso_bearer_token";
    h.value = token.ptr;
    if ((rc = http_send(t, 2, "GET", url.ptr, &h, 1, NULL, 0, &resp)) != 0) {
        rc = fail_as(ACMPCA_ECREDENTIALS, SSO_NAME);
        goto done;
    }
    if (resp.status != 200) {
        char detail[400];
        describe_json_error(detail, sizeof(detail), &resp);
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, SSO_NAME ": GetRoleCredentials for account "
                               "%s, role %s answered %s%s%s%s", c.account_id, c.role_name, detail,
                               resp.status == 401 ? "; the SSO token is no longer valid: run `"
                                                  : "",
                               resp.status == 401 ? c.login_hint : "",
                               resp.status == 401 ? "`" : "");
        acmpca__error_set_http_status(resp.status);
        goto done;
    }
    rc = sso_parse(&resp, out);
done:
    response_clear(&resp);
    acmpca__transport_free(t);
    acmpca__buf_free_secret(&token);
    acmpca__buf_free(&url);
    free(portal);
    acmpca__profiles_clear(&pf);
    return rc;
}

int acmpca_credentials_provider_sso(acmpca_credentials_provider **out,
                                    const acmpca_credentials_options *opts)
{
    return opts_provider_new(out, SSO_NAME, sso_fetch, opts, "acmpca_credentials_provider_sso");
}
