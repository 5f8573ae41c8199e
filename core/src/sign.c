/*
 * sign.c - AWS Signature Version 4: header signing, presigned URLs (query
 * signing) and the cache of derived signing keys.
 *
 * The signature is built by small pure steps, each a function of its inputs
 * only (the clock is acmpca_sign_input.timestamp): URL parsing, canonical
 * URI, canonical query, canonical headers, canonical request, string to sign,
 * key derivation and signature. acmpca_sign() validates the input and strings
 * the steps together. The rules follow the aws-c-auth SigV4 test suite
 * (tests/fixtures/sigv4), which tests/c/test_sigv4.c runs case by case.
 *
 * Encoding choices, as the suite and the AWS SDKs do it for every service but
 * S3: the URL path is taken as sent on the wire and URI-encoded once more
 * ("%" becomes "%25"), segment by segment with "/" kept; query parameters are
 * percent-decoded, then encoded again, so "%E1%88%B4" and a raw "ሴ" both sign
 * as "%E1%88%B4".
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SHA256_Init/Update/Final: deprecated by OpenSSL 3 but cheaper (see sha256_2). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "internal.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define SIGV4_DEFAULT_EXPIRES 3600u
#define SIGV4_MAX_EXPIRES 604800u /* 7 days: AWS rejects longer presigned URLs */
#define SIGN_KNOWN_FLAGS (ACMPCA_SIGN_QUERY | ACMPCA_SIGN_NO_PATH_NORMALIZE | \
                          ACMPCA_SIGN_CONTENT_SHA256 | ACMPCA_SIGN_UNSIGNED_TOKEN)
#define SIGN_MAX_HEADERS 256
#define SIGN_MAX_SCOPE_PART 63     /* region and service length */
#define SIGN_MAX_SECRET 1024
#define SIGN_MAX_PAYLOAD_ID 127    /* "UNSIGNED-PAYLOAD" style payload hashes */
#define SIGN_KEY_LEN 32
#define SIGN_CACHE_SLOTS 8
/* 9999-12-31T23:59:59Z: the last second an 8-digit date can name. */
#define SIGN_MAX_TIMESTAMP INT64_C(253402300799)

/* ------------------------------------------------------------------------ */
/* Characters and encoding */

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 unreserved: never percent-encoded. */
static int is_unreserved(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: what header names and methods are made of. */
static int is_tchar(unsigned char c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whitespace trimmed and collapsed in header values (CR and LF are refused). */
static int is_fold_space(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

static int has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (ascii_lower(*s) != *prefix)
            return 0;
    return 1;
}

/* Append `n` bytes URI-encoded (unreserved kept, the rest as %XX). */
static int uri_encode(acmpca_buf *b, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t i, run = 0;
    int rc = 0;

    for (i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];
        if (is_unreserved(c)) {
            run++;
            continue;
        }
        if (run)
            rc = acmpca__buf_append(b, s + i - run, run);
        run = 0;
        esc[0] = '%';
        esc[1] = digits[c >> 4];
        esc[2] = digits[c & 15];
        if (!rc)
            rc = acmpca__buf_append(b, esc, 3);
    }
    if (!rc && run)
        rc = acmpca__buf_append(b, s + n - run, run);
    return rc;
}

/*
 * Percent-decode `n` bytes, then URI-encode the result. A "%" that does not
 * start a valid escape is taken literally (and so becomes "%25").
 */
static int uri_reencode(acmpca_buf *b, const char *s, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && !rc; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && hex_value((unsigned char)s[i + 1]) >= 0 &&
            hex_value((unsigned char)s[i + 2]) >= 0) {
            c = (char)(hex_value((unsigned char)s[i + 1]) << 4 |
                       hex_value((unsigned char)s[i + 2]));
            i += 2;
        }
        rc = uri_encode(b, &c, 1);
    }
    return rc;
}

static int uri_encode_str(acmpca_buf *b, const char *s)
{
    return uri_encode(b, s, strlen(s));
}

/* ------------------------------------------------------------------------ */
/* Crypto primitives */

/*
 * SHA-256 through OpenSSL's low-level calls (see OPENSSL_SUPPRESS_DEPRECATED
 * above): they run the same SHA-NI/AVX code as EVP with the state on our
 * stack, where OpenSSL 3's EVP_DigestInit allocates a provider context each
 * time (six per signature), which cost more than hashing these short inputs.
 * They cannot fail. Every state that saw a secret is wiped after use.
 */
static void sha256_2(unsigned char out[SHA256_DIGEST_LENGTH], const void *a, size_t a_len,
                     const void *b, size_t b_len)
{
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, a_len ? a : "", a_len);
    if (b_len)
        SHA256_Update(&c, b, b_len);
    SHA256_Final(out, &c);
    acmpca__wipe(&c, sizeof(c));
}

void acmpca__secret_id(unsigned char out[ACMPCA__SECRET_ID_LEN], const char *secret)
{
    sha256_2(out, secret, strlen(secret), NULL, 0);
}

static void sha256_hex(char out[2 * SHA256_DIGEST_LENGTH + 1], const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    sha256_2(md, data, len, NULL, 0);
    acmpca__hex(out, md, sizeof(md));
}

/*
 * An HMAC-SHA256 key (RFC 2104) as the two hash states after its padded
 * blocks: hashed once per key, copied for each MAC (the signing key's are
 * cached with it). As secret as the key itself.
 */
typedef struct hmac_key {
    SHA256_CTX inner, outer;
} hmac_key;

static void hmac_key_init(hmac_key *hk, const void *key, size_t key_len)
{
    enum { BLOCK = 64 };
    unsigned char k[BLOCK], pad[BLOCK];
    size_t i;

    memset(k, 0, sizeof(k));
    if (key_len > BLOCK)
        sha256_2(k, key, key_len, NULL, 0);
    else
        memcpy(k, key, key_len);
    for (i = 0; i < BLOCK; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    SHA256_Init(&hk->inner);
    SHA256_Update(&hk->inner, pad, BLOCK);
    for (i = 0; i < BLOCK; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    SHA256_Init(&hk->outer);
    SHA256_Update(&hk->outer, pad, BLOCK);
    acmpca__wipe(k, sizeof(k));
    acmpca__wipe(pad, sizeof(pad));
}

static void hmac_final(unsigned char out[SIGN_KEY_LEN], const hmac_key *hk, const void *data,
                       size_t data_len)
{
    unsigned char inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX c = hk->inner;

    SHA256_Update(&c, data, data_len);
    SHA256_Final(inner, &c);
    c = hk->outer;
    SHA256_Update(&c, inner, sizeof(inner));
    SHA256_Final(out, &c);
    acmpca__wipe(&c, sizeof(c));
    acmpca__wipe(inner, sizeof(inner));
}

static void hmac_sha256(unsigned char out[SIGN_KEY_LEN], const void *key, size_t key_len,
                        const void *data, size_t data_len)
{
    hmac_key hk;

    hmac_key_init(&hk, key, key_len);
    hmac_final(out, &hk, data, data_len);
    acmpca__wipe(&hk, sizeof(hk));
}

/* ------------------------------------------------------------------------ */
/* Step: the URL */

typedef struct sign_url {
    int https;
    const char *host;   /* without the port; IPv6 keeps its brackets */
    size_t host_len;
    long port;          /* -1 when the URL names none */
    const char *path;   /* "" or starting with "/" */
    size_t path_len;
    int has_query;      /* a "?" was present, maybe with nothing after it */
    const char *query;
    size_t query_len;
    size_t base_len;    /* length of the URL without its fragment */
} sign_url;

static int parse_url(sign_url *u, const char *url)
{
    const char *auth, *auth_end, *host_end, *p;
    size_t i;

    memset(u, 0, sizeof(*u));
    u->port = -1;
    for (i = 0; url[i]; i++)
        if (is_ctl((unsigned char)url[i]))
            return acmpca__error_set(ACMPCA_EINVAL, "url: contains a control character");
    if (has_prefix_nocase(url, "https://")) {
        u->https = 1;
        auth = url + 8;
    } else if (has_prefix_nocase(url, "http://")) {
        auth = url + 7;
    } else {
        return acmpca__error_set(ACMPCA_EINVAL, "url: expected an absolute http(s) URL");
    }
    auth_end = auth + strcspn(auth, "/?#");
    for (p = auth; p < auth_end; p++) {
        if (*p == '@')
            return acmpca__error_set(ACMPCA_EINVAL, "url: user information is not supported");
        if (*p == ' ')
            return acmpca__error_set(ACMPCA_EINVAL, "url: space in the host");
    }
    if (*auth == '[') {
        host_end = memchr(auth, ']', (size_t)(auth_end - auth));
        if (!host_end)
            return acmpca__error_set(ACMPCA_EINVAL, "url: unterminated IPv6 address");
        host_end++;
    } else {
        host_end = memchr(auth, ':', (size_t)(auth_end - auth));
        if (!host_end)
            host_end = auth_end;
    }
    if (host_end == auth || (*auth == '[' && host_end - auth < 3))
        return acmpca__error_set(ACMPCA_EINVAL, "url: no host");
    if (host_end < auth_end) {
        long port = 0;
        if (*host_end != ':' || host_end + 1 == auth_end || auth_end - host_end > 6)
            return acmpca__error_set(ACMPCA_EINVAL, "url: bad port");
        for (p = host_end + 1; p < auth_end; p++) {
            if (*p < '0' || *p > '9')
                return acmpca__error_set(ACMPCA_EINVAL, "url: bad port");
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return acmpca__error_set(ACMPCA_EINVAL, "url: port %ld out of range", port);
        u->port = port;
    }
    u->host = auth;
    u->host_len = (size_t)(host_end - auth);
    u->path = auth_end;
    u->path_len = strcspn(auth_end, "?#");
    p = u->path + u->path_len;
    if (*p == '?') {
        u->has_query = 1;
        u->query = p + 1;
        u->query_len = strcspn(u->query, "#");
        p = u->query + u->query_len;
    }
    u->base_len = (size_t)(p - url);
    return 0;
}

/* The Host header a client sends: the port only when not the scheme's default. */
static int host_value(acmpca_buf *b, const sign_url *u)
{
    char port[8], *p = port + sizeof(port);
    long v = u->port;   /* 1..65535 (parse_url) */
    int rc = acmpca__buf_append(b, u->host, u->host_len);

    if (!rc && u->port != -1 && u->port != (u->https ? 443 : 80)) {
        do
            *--p = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        *--p = ':';
        rc = acmpca__buf_append(b, p, (size_t)(port + sizeof(port) - p));
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Step: dates */

/* Copy `s` without its NUL to `p`; where the copy ends. */
static char *put_text(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n + 1);
    return p + n;
}

static char *put_digits(char *p, int v, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* The last format_dates of this thread: its time (-1: none) and X-Amz-Date. */
static _Thread_local int64_t dates_t = -1;
static _Thread_local char dates_amz[17];

/* "20150830T123600Z" and "20150830" for `t` seconds since the epoch (UTC):
 * the text of the thread's last `t` again when it is the same second. */
static void format_dates(int64_t t, char amz_date[17], char short_date[9])
{
    int64_t secs = t % 86400; /* t is validated to be in 0..9999 AD */
    int y, m, d;
    char *p = amz_date;

    if (t == dates_t) {
        memcpy(amz_date, dates_amz, 17);
        memcpy(short_date, dates_amz, 8);
        short_date[8] = '\0';
        return;
    }
    acmpca__civil_from_days(t / 86400, &y, &m, &d);

    p = put_digits(p, y, 4);
    p = put_digits(p, m, 2);
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (int)(secs / 3600), 2);
    p = put_digits(p, (int)(secs / 60 % 60), 2);
    p = put_digits(p, (int)(secs % 60), 2);
    *p++ = 'Z';
    *p = '\0';
    memcpy(short_date, amz_date, 8);
    short_date[8] = '\0';
    memcpy(dates_amz, amz_date, 17);
    dates_t = t;
}

/* ------------------------------------------------------------------------ */
/* Step: canonical URI */

/*
 * Normalising removes "." and ".." segments and empty ones (double slashes),
 * keeping a trailing slash. Each segment is encoded as it is appended, so a
 * ".." can drop the last one by cutting back to the previous "/".
 */
static int canonical_uri(acmpca_buf *out, const char *path, size_t len, int normalize)
{
    size_t i = 0;
    int rc = 0, trailing = 0;

    if (len == 0)
        return acmpca__buf_puts(out, "/");
    if (!normalize) {
        for (i = 0; i < len && !rc; i++)
            rc = path[i] == '/' ? acmpca__buf_puts(out, "/") : uri_encode(out, path + i, 1);
        return rc;
    }
    while (i < len && !rc) {
        size_t start, n;
        while (i < len && path[i] == '/')
            i++;
        start = i;
        while (i < len && path[i] != '/')
            i++;
        n = i - start;
        trailing = n == 0 || (n == 1 && path[start] == '.') ||
                   (n == 2 && path[start] == '.' && path[start + 1] == '.');
        if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
            while (out->len > 0 && out->ptr[out->len - 1] != '/')
                out->len--;
            if (out->len > 0)
                out->len--;
            if (out->ptr)
                out->ptr[out->len] = '\0';
        } else if (!trailing) {
            rc = acmpca__buf_puts(out, "/");
            if (!rc)
                rc = uri_encode(out, path + start, n);
        }
    }
    if (!rc && (out->len == 0 || trailing))
        rc = acmpca__buf_puts(out, "/");
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Step: canonical query */

typedef struct query_param {
    char *key;    /* encoded */
    char *value;  /* encoded; may hold the session token */
} query_param;

typedef struct query_params {
    query_param *v;
    size_t n, cap;
} query_params;

static void query_params_free(query_params *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        free(q->v[i].key);
        acmpca__free_secret(q->v[i].value);
    }
    free(q->v);
    memset(q, 0, sizeof(*q));
}

/* Takes ownership of both strings, also on failure. */
static int query_params_push(query_params *q, char *key, char *value)
{
    if (!key || !value)
        goto fail;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        query_param *v = realloc(q->v, cap * sizeof(*v));
        if (!v) {
            acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
            goto fail;
        }
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n].key = key;
    q->v[q->n].value = value;
    q->n++;
    return 0;
fail:
    free(key);
    acmpca__free_secret(value);
    return ACMPCA_ENOMEM;
}

/* The parameters of a URL's query string, decoded and re-encoded. */
static int query_params_parse(query_params *q, const char *s, size_t len)
{
    size_t i = 0;
    int rc = 0;

    while (i < len && !rc) {
        acmpca_buf key = {0}, value = {0};
        size_t start = i, eq;

        value.secret = 1; /* X-Amz-Security-Token=... */
        while (i < len && s[i] != '&')
            i++;
        if (i > start) {
            for (eq = start; eq < i && s[eq] != '='; eq++)
                ;
            rc = uri_reencode(&key, s + start, eq - start);
            if (!rc && eq < i)
                rc = uri_reencode(&value, s + eq + 1, i - eq - 1);
            if (!rc)
                rc = query_params_push(q, acmpca__buf_detach(&key), acmpca__buf_detach(&value));
            acmpca__buf_free(&key);
            acmpca__buf_free_secret(&value);
        }
        i++;
    }
    return rc;
}

/* Adds a parameter whose value is encoded here. */
static int query_params_add(query_params *q, const char *key, const char *raw_value)
{
    acmpca_buf value = {0};
    int rc;

    value.secret = 1; /* may be the session token */
    if (!(rc = uri_encode_str(&value, raw_value)))
        rc = query_params_push(q, acmpca__strdup(key), acmpca__buf_detach(&value));
    acmpca__buf_free_secret(&value);
    return rc;
}

static int query_param_cmp(const void *a, const void *b)
{
    const query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Sorted by encoded key, then encoded value; "k=v" joined with "&". */
static int canonical_query(acmpca_buf *out, query_params *q)
{
    size_t i;
    int rc = 0;

    if (q->n > 1)
        qsort(q->v, q->n, sizeof(*q->v), query_param_cmp);
    /* Appended, not formatted: a value may be the session token (see buf_printf). */
    for (i = 0; i < q->n && !rc; i++) {
        if ((i && (rc = acmpca__buf_puts(out, "&")) != 0) ||
            (rc = acmpca__buf_puts(out, q->v[i].key)) != 0 ||
            (rc = acmpca__buf_puts(out, "=")) != 0)
            break;
        rc = acmpca__buf_puts(out, q->v[i].value);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Step: canonical headers */

typedef struct sign_header {
    char *name;    /* lowercase, followed by the value (in text, or a block of its own) */
    char *value;   /* trimmed, whitespace runs collapsed; may hold the token */
    size_t size;   /* of both; 0 when they are in the list's text */
    size_t order;  /* position in the request: duplicates keep their order */
} sign_header;

#define SIGN_INLINE_HEADERS 8

/* What a request's headers need from the allocator: nothing for the usual
 * handful but `text`, reserved once for every name and value. */
typedef struct header_list {
    sign_header *v;
    size_t n, cap;
    sign_header inline_v[SIGN_INLINE_HEADERS];
    acmpca_buf text;   /* secret: may hold the token */
} header_list;

static void header_list_free(header_list *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (h->v[i].size) {
            acmpca__wipe(h->v[i].name, h->v[i].size);
            free(h->v[i].name);
        }
    }
    if (h->v != h->inline_v)
        free(h->v);
    acmpca__buf_free_secret(&h->text);
    memset(h, 0, sizeof(*h));
}

/* Trimmed, with every run of whitespace (folded lines too) as one space, into
 * `out` (room for strlen(v) + 1: it never grows). */
static void canonical_value(char *out, const char *v)
{
    int space = 0;

    while (is_fold_space((unsigned char)*v))
        v++;
    for (; *v; v++) {
        if (is_fold_space((unsigned char)*v)) {
            space = 1;
            continue;
        }
        if (space)
            *out++ = ' ';
        space = 0;
        *out++ = *v;
    }
    *out = '\0';
}

static int header_list_add(header_list *h, const char *name, const char *value)
{
    size_t nlen = strlen(name), size = nlen + strlen(value) + 2, i;
    char *block;

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : SIGN_INLINE_HEADERS;
        sign_header *nv = h->cap == 0 ? h->inline_v
                        : h->v == h->inline_v ? malloc(cap * sizeof(*nv))
                        : realloc(h->v, cap * sizeof(*nv));
        if (!nv)
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        if (h->v == h->inline_v && nv != h->inline_v)
            memcpy(nv, h->inline_v, h->n * sizeof(*nv));
        h->v = nv;
        h->cap = cap;
    }
    /* Name and value together: in the reserved text while it has room (it
     * never moves then), else in a block of their own. */
    if (h->text.ptr && h->text.cap - h->text.len > size) {
        block = h->text.ptr + h->text.len;
        h->text.len += size;
        h->v[h->n].size = 0;
    } else {
        if (!(block = malloc(size)))
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        h->v[h->n].size = size;
    }
    for (i = 0; i < nlen; i++)
        block[i] = ascii_lower(name[i]);
    block[nlen] = '\0';
    canonical_value(block + nlen + 1, value);
    h->v[h->n].name = block;
    h->v[h->n].value = block + nlen + 1;
    h->v[h->n].order = h->n;
    h->n++;
    return 0;
}

static int sign_header_cmp(const void *a, const void *b)
{
    const sign_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/*
 * "name:value\n" per distinct name, sorted, duplicate names joined with ","
 * in request order; and the signed header list "a;b;c".
 */
static int canonical_headers(acmpca_buf *out, acmpca_buf *signed_names, header_list *h)
{
    size_t i, need = 0;
    int rc = 0;

    if (h->n > SIGN_INLINE_HEADERS) {
        qsort(h->v, h->n, sizeof(*h->v), sign_header_cmp);
    } else {
        /* A request's handful: an insertion sort costs a fraction of qsort's calls. */
        for (i = 1; i < h->n; i++) {
            sign_header t = h->v[i];
            size_t j = i;
            for (; j > 0 && sign_header_cmp(&h->v[j - 1], &t) > 0; j--)
                h->v[j] = h->v[j - 1];
            h->v[j] = t;
        }
    }
    for (i = 0; i < h->n; i++)  /* grown once: every growth of a secret buffer is a copy */
        need += strlen(h->v[i].name) + strlen(h->v[i].value) + 3;
    if ((rc = acmpca__buf_reserve(out, need)) != 0 || (rc = acmpca__buf_reserve(signed_names, need)) != 0)
        return rc;
    for (i = 0; i < h->n && !rc; i++) {
        int first = i == 0 || strcmp(h->v[i - 1].name, h->v[i].name) != 0;
        int last = i + 1 == h->n || strcmp(h->v[i + 1].name, h->v[i].name) != 0;
        if (first) {
            if ((i && (rc = acmpca__buf_puts(signed_names, ";")) != 0) ||
                (rc = acmpca__buf_puts(signed_names, h->v[i].name)) != 0 ||
                (rc = acmpca__buf_puts(out, h->v[i].name)) != 0 ||
                (rc = acmpca__buf_puts(out, ":")) != 0)
                break;
        }
        if ((rc = acmpca__buf_puts(out, h->v[i].value)) != 0 ||
            (rc = acmpca__buf_puts(out, last ? "\n" : ",")) != 0)
            break;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Steps: canonical request, string to sign, key, signature */

/* Appended piece by piece: the headers may hold the session token (see buf_printf). */
static int canonical_request(acmpca_buf *out, const char *method, const char *uri,
                             const char *query, const char *headers, const char *signed_names,
                             const char *payload_hash)
{
    const char *part[6] = {method, uri, query, headers, signed_names, payload_hash};
    size_t i, need = 6;
    int rc;

    for (i = 0; i < 6; i++)
        need += strlen(part[i]);
    rc = acmpca__buf_reserve(out, need); /* a secret buffer: grown once */
    for (i = 0; i < 6 && !rc; i++)
        if (!(rc = acmpca__buf_puts(out, part[i])) && i < 5)
            rc = acmpca__buf_puts(out, "\n");
    return rc;
}

/* The string to sign from the canonical request's hash, in hex. */
static int string_to_sign_of(acmpca_buf *out, const char *amz_date, const char *scope,
                             const char *hash)
{
    int rc;

    if (!(rc = acmpca__buf_puts(out, SIGV4_ALGORITHM "\n")) &&
        !(rc = acmpca__buf_puts(out, amz_date)) && !(rc = acmpca__buf_puts(out, "\n")) &&
        !(rc = acmpca__buf_puts(out, scope)) && !(rc = acmpca__buf_puts(out, "\n")))
        rc = acmpca__buf_puts(out, hash);
    return rc;
}

static int string_to_sign(acmpca_buf *out, const char *amz_date, const char *scope,
                          const char *creq, size_t creq_len)
{
    char hash[2 * SHA256_DIGEST_LENGTH + 1];

    sha256_hex(hash, creq, creq_len);
    return string_to_sign_of(out, amz_date, scope, hash);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int derive_key(unsigned char key[SIGN_KEY_LEN], const char *secret, const char *date,
                      const char *region, const char *service)
{
    acmpca_buf k0 = {0};
    unsigned char a[SIGN_KEY_LEN], b[SIGN_KEY_LEN];
    int rc;

    k0.secret = 1;
    if ((rc = acmpca__buf_puts(&k0, "AWS4")) != 0 || (rc = acmpca__buf_puts(&k0, secret)) != 0)
        goto fail;
    hmac_sha256(a, k0.ptr, k0.len, date, strlen(date));
    hmac_sha256(b, a, sizeof(a), region, strlen(region));
    hmac_sha256(a, b, sizeof(b), service, strlen(service));
    hmac_sha256(key, a, sizeof(a), SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR));
fail:
    acmpca__wipe(a, sizeof(a));
    acmpca__wipe(b, sizeof(b));
    acmpca__buf_free_secret(&k0);
    return rc;
}

static void signature_hex(char out[2 * SIGN_KEY_LEN + 1], const hmac_key *key, const char *sts,
                          size_t sts_len)
{
    unsigned char mac[SIGN_KEY_LEN];

    hmac_final(mac, key, sts, sts_len);
    acmpca__hex(out, mac, sizeof(mac));
    acmpca__wipe(mac, sizeof(mac));
}

/* ------------------------------------------------------------------------ */
/* The signing-key cache */

typedef struct cache_slot {
    uint64_t last_use;                          /* 0: empty */
    unsigned char secret_id[SHA256_DIGEST_LENGTH];
    char date[9];
    char region[SIGN_MAX_SCOPE_PART + 1];
    char service[SIGN_MAX_SCOPE_PART + 1];
    hmac_key key;
    /* acmpca__sign_post: the key's inner hash state after the string to
     * sign's head for the X-Amz-Date sts_date ("" until the first), which is
     * the same for every request of that second (see sts_head). As secret as
     * the key. */
    char sts_date[17];
    SHA256_CTX sts_head;
} cache_slot;

/* The longest canonical-request start acmpca__sign_post keeps the state of:
 * room for everything but the payload hash with a session token of the
 * usual STS length. */
#define POST_PREFIX_MAX 2048

struct acmpca_sign_cache {
    pthread_mutex_t lock;
    uint64_t clock;
    unsigned long hits;
    cache_slot slot[SIGN_CACHE_SLOTS];
    /* acmpca__sign_post: the SHA-256 state after the start of the last
     * canonical request (all but its payload hash, the same for every request
     * of one operation in one second; or, when that is too long, the method,
     * path, Content-Type and Host), and that text; post_prefix_len 0 until the
     * first. The text may hold the session token: wiped with the cache. */
    SHA256_CTX post_prefix;
    char post_prefix_text[POST_PREFIX_MAX];
    size_t post_prefix_len;
};

int acmpca_sign_cache_new(acmpca_sign_cache **out)
{
    acmpca_sign_cache *c = NULL;
    int rc = 0;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "out: required");
    *out = NULL;
    if (!(c = calloc(1, sizeof(*c)))) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "sign cache: cannot create its mutex");
        goto fail;
    }
    *out = c;
    c = NULL;
fail:
    free(c);
    return rc;
}

void acmpca_sign_cache_free(acmpca_sign_cache *cache)
{
    if (!cache)
        return;
    pthread_mutex_destroy(&cache->lock);
    acmpca__wipe(cache, sizeof(*cache));
    free(cache);
}

unsigned long acmpca__sign_cache_hits(acmpca_sign_cache *cache)
{
    unsigned long hits = 0;

    if (cache && pthread_mutex_lock(&cache->lock) == 0) {
        hits = cache->hits;
        pthread_mutex_unlock(&cache->lock);
    }
    return hits;
}

static cache_slot *cache_find(acmpca_sign_cache *c, const unsigned char *id, const char *date,
                              const char *region, const char *service)
{
    size_t i;

    for (i = 0; i < SIGN_CACHE_SLOTS; i++) {
        cache_slot *s = &c->slot[i];
        if (s->last_use && memcmp(s->secret_id, id, sizeof(s->secret_id)) == 0 &&
            strcmp(s->date, date) == 0 && strcmp(s->region, region) == 0 &&
            strcmp(s->service, service) == 0)
            return s;
    }
    return NULL;
}

/*
 * The inner hash state of the key `hk` after the string to sign's head,
 * "AWS4-HMAC-SHA256\n" amz_date "\n" scope "\n": what precedes the
 * canonical request's hash, the same for every request of one second.
 */
static void sts_head(SHA256_CTX *out, const hmac_key *hk, const char *amz_date,
                     const char *scope)
{
    *out = hk->inner;
    SHA256_Update(out, SIGV4_ALGORITHM "\n", sizeof(SIGV4_ALGORITHM));
    SHA256_Update(out, amz_date, strlen(amz_date));
    SHA256_Update(out, "\n", 1);
    SHA256_Update(out, scope, strlen(scope));
    SHA256_Update(out, "\n", 1);
}

/*
 * The signing key for (secret, date, region, service), from the cache when it
 * has it. The derivation runs outside the lock so that threads signing with
 * different keys do not wait on each other; the least recently used slot is
 * wiped and replaced.
 *
 * secret_id: acmpca__secret_id(secret) when the caller has it, else NULL.
 * With `head` (acmpca__sign_post), also sts_head(head, key, amz_date, scope),
 * kept in the key's slot for the rest of that second; scope must be the one
 * of (date, region, service).
 */
static int signing_key(hmac_key *hk, acmpca_sign_cache *c, const char *secret,
                       const unsigned char *secret_id, const char *date, const char *region,
                       const char *service, SHA256_CTX *head, const char *amz_date,
                       const char *scope)
{
    unsigned char id[SHA256_DIGEST_LENGTH], key[SIGN_KEY_LEN];
    cache_slot *s = NULL;
    size_t i;
    int rc = 0, have_head = 0;

    memset(key, 0, sizeof(key));
    if (secret_id)
        memcpy(id, secret_id, sizeof(id));
    else
        acmpca__secret_id(id, secret);
    if (c && pthread_mutex_lock(&c->lock) == 0) {
        if ((s = cache_find(c, id, date, region, service)) != NULL) {
            *hk = s->key;
            if (head && strcmp(s->sts_date, amz_date) == 0) {
                *head = s->sts_head;
                have_head = 1;
            }
            s->last_use = ++c->clock;
            c->hits++;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (s && (!head || have_head))
        goto fail;
    if (!s) {
        if ((rc = derive_key(key, secret, date, region, service)) != 0)
            goto fail;
        hmac_key_init(hk, key, sizeof(key));
    }
    if (head)
        sts_head(head, hk, amz_date, scope);
    if (!c || pthread_mutex_lock(&c->lock) != 0)
        goto fail;
    if (!(s = cache_find(c, id, date, region, service))) {
        s = &c->slot[0];
        for (i = 1; i < SIGN_CACHE_SLOTS; i++)
            if (c->slot[i].last_use < s->last_use)
                s = &c->slot[i];
        acmpca__wipe(s, sizeof(*s));
        memcpy(s->secret_id, id, sizeof(id));
        memcpy(s->date, date, 8);
        s->date[8] = '\0';
        memcpy(s->region, region, strlen(region) + 1);
        memcpy(s->service, service, strlen(service) + 1);
        s->key = *hk;
    }
    if (head) {
        memcpy(s->sts_date, amz_date, sizeof(s->sts_date) - 1);
        s->sts_date[sizeof(s->sts_date) - 1] = '\0';
        s->sts_head = *head;
    }
    s->last_use = ++c->clock;
    pthread_mutex_unlock(&c->lock);
fail:
    acmpca__wipe(id, sizeof(id));
    acmpca__wipe(key, sizeof(key));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Input validation */

static int reserved_header(const char *name, const acmpca_sign_input *in)
{
    return acmpca__strcaseeq(name, "Authorization") || acmpca__strcaseeq(name, "X-Amz-Date") ||
           (in->session_token && acmpca__strcaseeq(name, "X-Amz-Security-Token")) ||
           ((in->flags & (ACMPCA_SIGN_CONTENT_SHA256 | ACMPCA_SIGN_QUERY)) ==
                ACMPCA_SIGN_CONTENT_SHA256 &&
            acmpca__strcaseeq(name, "X-Amz-Content-Sha256"));
}

/*
 * A CR or LF in a value would end the header line on the wire and start one
 * the caller never signed (header injection); obs-fold continuations are
 * refused with them. Messages name the header but never quote a value.
 */
static int check_headers(const acmpca_sign_input *in)
{
    size_t i;

    if (in->header_count && !in->headers)
        return acmpca__error_set(ACMPCA_EINVAL, "headers: NULL with header_count %zu",
                                 in->header_count);
    if (in->header_count > SIGN_MAX_HEADERS)
        return acmpca__error_set(ACMPCA_ELIMIT, "headers: more than %d", SIGN_MAX_HEADERS);
    for (i = 0; i < in->header_count; i++) {
        const acmpca_header *h = &in->headers[i];
        if (!h->name)
            return acmpca__error_set(ACMPCA_EINVAL, "headers[%zu].name: required", i);
        if (!is_token(h->name))
            return acmpca__error_set(ACMPCA_EINVAL,
                                     "headers[%zu].name: not a valid HTTP header name", i);
        if (reserved_header(h->name, in))
            return acmpca__error_set(ACMPCA_EINVAL, "headers[%zu].name: %s is added by the signer",
                                     i, h->name);
        if (!h->value)
            return acmpca__error_set(ACMPCA_EINVAL, "headers[%zu].value: required", i);
        if (acmpca__has_ctl_char(h->value))
            return acmpca__error_set(ACMPCA_EINVAL,
                                     "headers[%zu] \"%s\": value contains a control character "
                                     "(CR, LF and folded lines are refused)", i, h->name);
    }
    return 0;
}

/* Region and service go into the credential scope, between slashes. */
static int check_scope_part(const char *field, const char *v)
{
    size_t n;

    if (!v || !*v)
        return acmpca__error_set(ACMPCA_EINVAL, "%s: required", field);
    for (n = 0; v[n]; n++)
        if (!is_alnum((unsigned char)v[n]) && v[n] != '-' && v[n] != '_' && v[n] != '.')
            return acmpca__error_set(ACMPCA_EINVAL,
                                     "%s: may contain only letters, digits, '-', '_' and '.'",
                                     field);
    if (n > SIGN_MAX_SCOPE_PART)
        return acmpca__error_set(ACMPCA_EINVAL, "%s: longer than %d characters", field,
                                 SIGN_MAX_SCOPE_PART);
    return 0;
}

/* A lowercase SHA-256, or a keyword such as UNSIGNED-PAYLOAD. */
static int check_payload_hash(const char *h)
{
    size_t n, hex = 0, word = 0;

    for (n = 0; h[n]; n++) {
        hex += (h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f');
        word += (h[n] >= 'A' && h[n] <= 'Z') || (h[n] >= '0' && h[n] <= '9') || h[n] == '-';
    }
    if ((n == 2 * SHA256_DIGEST_LENGTH && hex == n) ||
        (n > 0 && n <= SIGN_MAX_PAYLOAD_ID && word == n))
        return 0;
    return acmpca__error_set(ACMPCA_EINVAL, "body_sha256_hex: expected 64 lowercase hex digits "
                             "or a keyword such as UNSIGNED-PAYLOAD");
}

static int validate_input(const acmpca_sign_input *in)
{
    const char *p;
    int rc;

    if (!in)
        return acmpca__error_set(ACMPCA_EINVAL, "in: required");
    if (in->flags & ~SIGN_KNOWN_FLAGS)
        return acmpca__error_set(ACMPCA_EINVAL, "flags: unknown bits 0x%x",
                                 in->flags & ~SIGN_KNOWN_FLAGS);
    if (!in->method || !*in->method)
        return acmpca__error_set(ACMPCA_EINVAL, "method: required");
    if (!is_token(in->method))
        return acmpca__error_set(ACMPCA_EINVAL, "method: not a valid HTTP method");
    if (!in->url || !*in->url)
        return acmpca__error_set(ACMPCA_EINVAL, "url: required");
    if ((rc = check_headers(in)) != 0)
        return rc;
    if (!in->body && in->body_len)
        return acmpca__error_set(ACMPCA_EINVAL, "body: NULL with body_len %zu", in->body_len);
    if (in->body_sha256_hex && (rc = check_payload_hash(in->body_sha256_hex)) != 0)
        return rc;
    if ((rc = check_scope_part("region", in->region)) != 0 ||
        (rc = check_scope_part("service", in->service)) != 0)
        return rc;
    if (!in->access_key_id || !*in->access_key_id)
        return acmpca__error_set(ACMPCA_EINVAL, "access_key_id: required");
    for (p = in->access_key_id; *p; p++)
        if (is_ctl((unsigned char)*p) || (unsigned char)*p >= 0x80 || strchr(" /,=", *p))
            return acmpca__error_set(ACMPCA_EINVAL, "access_key_id: contains a character not "
                                     "allowed in a credential (space, '/', ',', '=' or control)");
    if (!in->secret_access_key || !*in->secret_access_key)
        return acmpca__error_set(ACMPCA_EINVAL, "secret_access_key: required");
    if (strlen(in->secret_access_key) > SIGN_MAX_SECRET)
        return acmpca__error_set(ACMPCA_EINVAL, "secret_access_key: longer than %d bytes",
                                 SIGN_MAX_SECRET);
    if (in->session_token) {
        if (!*in->session_token)
            return acmpca__error_set(ACMPCA_EINVAL,
                                     "session_token: empty (use NULL when there is none)");
        for (p = in->session_token; *p; p++)
            if (is_ctl((unsigned char)*p))
                return acmpca__error_set(ACMPCA_EINVAL,
                                         "session_token: contains a control character");
    }
    if (in->timestamp == 0)
        return acmpca__error_set(ACMPCA_EINVAL, "timestamp: required (seconds since the epoch)");
    if (in->timestamp < 0 || in->timestamp > SIGN_MAX_TIMESTAMP)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "timestamp: %lld is outside 1970-01-01..9999-12-31",
                                 (long long)in->timestamp);
    if ((in->flags & ACMPCA_SIGN_QUERY) && in->expires_s > SIGV4_MAX_EXPIRES)
        return acmpca__error_set(ACMPCA_EINVAL, "expires_s: %u is over the SigV4 maximum of %u "
                                 "(7 days)", in->expires_s, SIGV4_MAX_EXPIRES);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The result */

static int add_out_header(acmpca_signed *s, const char *name, const char *value)
{
    char *n = acmpca__strdup(name), *v = acmpca__strdup(value);

    if (!n || !v) {
        free(n);
        acmpca__free_secret(v);
        return ACMPCA_ENOMEM;
    }
    s->headers[s->header_count].name = n;
    s->headers[s->header_count].value = v;
    s->header_count++;
    return 0;
}

void acmpca_signed_free(acmpca_signed *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; s->headers && i < s->header_count; i++) {
        free((void *)s->headers[i].name);
        acmpca__free_secret((char *)s->headers[i].value);
    }
    free(s->headers);
    acmpca__free_secret(s->url);
    acmpca__free_secret(s->canonical_request);
    acmpca__free_secret(s->string_to_sign);
    acmpca__wipe(s->signature, sizeof(s->signature));
    free(s);
}

/* The presigned URL: the input's parameters, then ours in the suite's order. */
static int presigned_url(acmpca_buf *out, const char *url, const sign_url *u,
                         const char *credential, const char *amz_date, const char *signed_names,
                         unsigned expires, const char *token, const char *signature)
{
    const char *sep = !u->has_query ? "?" :
                      u->query_len && u->query[u->query_len - 1] != '&' ? "&" : "";
    int rc = acmpca__buf_append(out, url, u->base_len);

    if (!rc)
        rc = acmpca__buf_printf(out, "%sX-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=",
                                sep);
    if (!rc)
        rc = uri_encode_str(out, credential);
    if (!rc)
        rc = acmpca__buf_printf(out, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", amz_date);
    if (!rc)
        rc = uri_encode_str(out, signed_names);
    if (!rc)
        rc = acmpca__buf_printf(out, "&X-Amz-Expires=%u", expires);
    if (!rc && token) {
        rc = acmpca__buf_puts(out, "&X-Amz-Security-Token=");
        if (!rc)
            rc = uri_encode_str(out, token);
    }
    if (!rc)
        rc = acmpca__buf_printf(out, "&X-Amz-Signature=%s", signature);
    return rc;
}

/* ------------------------------------------------------------------------ */

/*
 * The intermediate texts start in storage on the stack, sized for a usual
 * request (they move to the heap beyond it): a signature costs no allocation
 * but its result.
 */
#define SIGN_STACK_SMALL 256
#define SIGN_STACK_LARGE 1024

static int sign(acmpca_signed **out, const acmpca_sign_input *in, acmpca_sign_cache *cache,
                int headers_only)
{
    acmpca_signed *s = NULL;
    sign_url u;
    header_list hl = {0};
    query_params qp = {0};
    acmpca_buf host, credential, uri, query;
    char scope[2 * SIGN_MAX_SCOPE_PART + 32], *p;
    acmpca_buf headers, signed_names, creq, sts, auth, url = {0};
    char amz_date[17], short_date[9], payload[SIGN_MAX_PAYLOAD_ID + 1];
    char expires[16];
    char host_s[SIGN_STACK_SMALL], credential_s[SIGN_STACK_SMALL], uri_s[SIGN_STACK_SMALL];
    char query_s[SIGN_STACK_SMALL], signed_names_s[SIGN_STACK_SMALL], sts_s[SIGN_STACK_SMALL];
    char text_s[SIGN_STACK_LARGE], headers_s[SIGN_STACK_LARGE], creq_s[SIGN_STACK_LARGE];
    char auth_s[SIGN_STACK_LARGE];
    unsigned expires_s;
    hmac_key key;
    int rc, query_mode, sign_token, have_host = 0;
    size_t i, need;

    memset(&key, 0, sizeof(key));
    /* What holds the token, the key or the signature: wiped when grown and freed. */
    url.secret = 1;
    acmpca__buf_on(&host, host_s, sizeof(host_s), 0);
    acmpca__buf_on(&credential, credential_s, sizeof(credential_s), 0);
    acmpca__buf_on(&uri, uri_s, sizeof(uri_s), 0);
    acmpca__buf_on(&query, query_s, sizeof(query_s), 1);
    acmpca__buf_on(&signed_names, signed_names_s, sizeof(signed_names_s), 0);
    acmpca__buf_on(&sts, sts_s, sizeof(sts_s), 0);
    acmpca__buf_on(&hl.text, text_s, sizeof(text_s), 1);
    acmpca__buf_on(&headers, headers_s, sizeof(headers_s), 1);
    acmpca__buf_on(&creq, creq_s, sizeof(creq_s), 1);
    acmpca__buf_on(&auth, auth_s, sizeof(auth_s), 1);
    if (!out) {
        rc = acmpca__error_set(ACMPCA_EINVAL, "out: required");
        goto fail;
    }
    *out = NULL;
    if ((rc = validate_input(in)) != 0 || (rc = parse_url(&u, in->url)) != 0)
        goto fail;
    query_mode = (in->flags & ACMPCA_SIGN_QUERY) != 0;
    sign_token = in->session_token && !(in->flags & ACMPCA_SIGN_UNSIGNED_TOKEN);
    format_dates(in->timestamp, amz_date, short_date);
    expires_s = in->expires_s ? in->expires_s : SIGV4_DEFAULT_EXPIRES;
    if (query_mode)
        snprintf(expires, sizeof(expires), "%u", expires_s);
    if (in->body_sha256_hex)
        snprintf(payload, sizeof(payload), "%s", in->body_sha256_hex);
    else
        sha256_hex(payload, in->body, in->body_len);
    /* date/region/service/aws4_request: region and service are validated short. */
    p = put_text(scope, short_date);
    *p++ = '/';
    p = put_text(p, in->region);
    *p++ = '/';
    p = put_text(p, in->service);
    put_text(p, "/" SIGV4_TERMINATOR);
    if ((rc = acmpca__buf_puts(&credential, in->access_key_id)) != 0 ||
        (rc = acmpca__buf_puts(&credential, "/")) != 0 ||
        (rc = acmpca__buf_puts(&credential, scope)) != 0)
        goto fail;

    /* Headers: the request's, then those the signature covers that we add,
     * their text in one reserved block. */
    need = 128 + sizeof(amz_date) + sizeof(payload) + u.host_len +
           (in->session_token ? strlen(in->session_token) : 0);
    for (i = 0; i < in->header_count; i++)
        need += strlen(in->headers[i].name) + strlen(in->headers[i].value) + 2;
    if ((rc = acmpca__buf_reserve(&hl.text, need)) != 0)
        goto fail;
    for (i = 0; i < in->header_count; i++) {
        have_host |= acmpca__strcaseeq(in->headers[i].name, "Host");
        if ((rc = header_list_add(&hl, in->headers[i].name, in->headers[i].value)) != 0)
            goto fail;
    }
    if (!have_host && ((rc = host_value(&host, &u)) != 0 ||
                       (rc = header_list_add(&hl, "Host", host.ptr)) != 0))
        goto fail;
    /* A presigned URL carries these as parameters; X-Amz-Content-Sha256 is
     * a header-signing feature and is ignored there. */
    if (!query_mode) {
        if ((rc = header_list_add(&hl, "X-Amz-Date", amz_date)) != 0)
            goto fail;
        if (sign_token && (rc = header_list_add(&hl, "X-Amz-Security-Token",
                                                in->session_token)) != 0)
            goto fail;
        if ((in->flags & ACMPCA_SIGN_CONTENT_SHA256) &&
            (rc = header_list_add(&hl, "X-Amz-Content-Sha256", payload)) != 0)
            goto fail;
    }
    if ((rc = canonical_headers(&headers, &signed_names, &hl)) != 0)
        goto fail;

    /* Query: the URL's parameters, plus the signing ones for a presigned URL. */
    if ((rc = query_params_parse(&qp, u.query, u.query_len)) != 0)
        goto fail;
    if (query_mode &&
        ((rc = query_params_add(&qp, "X-Amz-Algorithm", SIGV4_ALGORITHM)) != 0 ||
         (rc = query_params_add(&qp, "X-Amz-Credential", credential.ptr)) != 0 ||
         (rc = query_params_add(&qp, "X-Amz-Date", amz_date)) != 0 ||
         (rc = query_params_add(&qp, "X-Amz-Expires", expires)) != 0 ||
         (rc = query_params_add(&qp, "X-Amz-SignedHeaders", signed_names.ptr)) != 0 ||
         (sign_token &&
          (rc = query_params_add(&qp, "X-Amz-Security-Token", in->session_token)) != 0)))
        goto fail;
    if ((rc = canonical_query(&query, &qp)) != 0 || (rc = acmpca__buf_append(&query, "", 0)) != 0)
        goto fail;

    if ((rc = canonical_uri(&uri, u.path, u.path_len,
                            !(in->flags & ACMPCA_SIGN_NO_PATH_NORMALIZE))) != 0 ||
        (rc = canonical_request(&creq, in->method, uri.ptr, query.ptr, headers.ptr,
                                signed_names.ptr, payload)) != 0 ||
        (rc = string_to_sign(&sts, amz_date, scope, creq.ptr, creq.len)) != 0 ||
        (rc = signing_key(&key, cache, in->secret_access_key, NULL, short_date, in->region,
                          in->service, NULL, NULL, NULL)) != 0)
        goto fail;

    if (!(s = calloc(1, sizeof(*s))) || !(s->headers = calloc(5, sizeof(*s->headers)))) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    signature_hex(s->signature, &key, sts.ptr, sts.len);
    if (!have_host && (rc = add_out_header(s, "Host", host.ptr)) != 0)
        goto fail;
    if (query_mode) {
        if ((rc = presigned_url(&url, in->url, &u, credential.ptr, amz_date, signed_names.ptr,
                                expires_s, in->session_token,
                                s->signature)) != 0)
            goto fail;
    } else {
        if ((rc = acmpca__buf_reserve(&auth, 64 + credential.len + signed_names.len)) != 0 ||
            (rc = acmpca__buf_puts(&auth, SIGV4_ALGORITHM " Credential=")) != 0 ||
            (rc = acmpca__buf_puts(&auth, credential.ptr)) != 0 ||
            (rc = acmpca__buf_puts(&auth, ", SignedHeaders=")) != 0 ||
            (rc = acmpca__buf_puts(&auth, signed_names.ptr)) != 0 ||
            (rc = acmpca__buf_puts(&auth, ", Signature=")) != 0 ||
            (rc = acmpca__buf_puts(&auth, s->signature)) != 0 ||
            (!headers_only && (rc = acmpca__buf_puts(&url, in->url)) != 0) ||
            (rc = add_out_header(s, "X-Amz-Date", amz_date)) != 0 ||
            (in->session_token &&
             (rc = add_out_header(s, "X-Amz-Security-Token", in->session_token)) != 0) ||
            ((in->flags & ACMPCA_SIGN_CONTENT_SHA256) &&
             (rc = add_out_header(s, "X-Amz-Content-Sha256", payload)) != 0) ||
            (rc = add_out_header(s, "Authorization", auth.ptr)) != 0)
            goto fail;
    }
    if (!headers_only) {
        s->url = acmpca__buf_detach(&url);
        s->canonical_request = acmpca__buf_detach(&creq);
        s->string_to_sign = acmpca__buf_detach(&sts);
        if (!s->url || !s->canonical_request || !s->string_to_sign) {
            rc = ACMPCA_ENOMEM;
            goto fail;
        }
    }
    *out = s;
    s = NULL;
fail:
    acmpca__wipe(&key, sizeof(key));
    header_list_free(&hl);
    query_params_free(&qp);
    acmpca__buf_free(&host);
    acmpca__buf_free(&credential);
    acmpca__buf_free(&uri);
    acmpca__buf_free(&query);
    acmpca__buf_free(&headers);
    acmpca__buf_free(&signed_names);
    acmpca__buf_free(&creq);
    acmpca__buf_free(&sts);
    acmpca__buf_free(&auth);
    acmpca__buf_free(&url);
    acmpca_signed_free(s);
    return rc;
}

int acmpca_sign(acmpca_signed **out, const acmpca_sign_input *in, acmpca_sign_cache *cache)
{
    return sign(out, in, cache, 0);
}

int acmpca__sign_headers(acmpca_signed **out, const acmpca_sign_input *in,
                         acmpca_sign_cache *cache)
{
    return sign(out, in, cache, 1);
}

/* ------------------------------------------------------------------------ */
/* The client's own requests */

int acmpca__sign_post_host(const char *url, const char *region, const char *service,
                           char **host)
{
    acmpca_error_state saved;
    acmpca_buf b = {0};
    sign_url u;
    int usable;

    *host = NULL;
    acmpca__error_save(&saved); /* a URL or scope that does not qualify is no error here */
    usable = parse_url(&u, url) == 0 && u.path_len == 1 && u.path[0] == '/' && !u.has_query &&
             url[u.base_len] == '\0' && check_scope_part("region", region) == 0 &&
             check_scope_part("service", service) == 0;
    acmpca__error_restore(&saved);
    if (!usable)
        return 0;
    if (host_value(&b, &u) != 0)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    *host = acmpca__buf_detach(&b);
    return *host ? 0 : ACMPCA_ENOMEM;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Non-empty, no control character, space or tab: canonical as it is. Runs of
 * 8 bytes none of which is below 0x21 or 0x7f are passed whole (each test
 * exact: a borrow only runs up from a byte that is one); the rest, and any
 * run where one may be, go through the byte loop. */
static int plain_value(const char *v)
{
    size_t n = strlen(v), i = 0;
    uint64_t x, d;

    if (!n)
        return 0;
    for (; n - i >= 8; i += 8) {
        memcpy(&x, v + i, 8);
        d = x ^ (ONES * 0x7f);
        if ((((x - ONES * 0x21) & ~x) | ((d - ONES) & ~d)) & HIGHS)
            break;
    }
    for (; i < n; i++)
        if (is_ctl((unsigned char)v[i]) || v[i] == ' ')
            return 0;
    return 1;
}

/* What validate_input would accept in the fields that vary from call to call. */
static int post_input_ok(const acmpca__post_input *in)
{
    const char *p;

    if (!in->access_key_id || !*in->access_key_id || !in->secret_access_key ||
        !*in->secret_access_key || strlen(in->secret_access_key) > SIGN_MAX_SECRET ||
        (in->session_token && !plain_value(in->session_token)) ||
        !plain_value(in->content_type) || !plain_value(in->target) ||
        in->timestamp <= 0 || in->timestamp > SIGN_MAX_TIMESTAMP || (!in->body && in->body_len))
        return 0;
    for (p = in->access_key_id; *p; p++)
        if (is_ctl((unsigned char)*p) || (unsigned char)*p >= 0x80 || *p == ' ' || *p == '/' ||
            *p == ',' || *p == '=')
            return 0;
    return 1;
}

#define POST_NAMES_HEAD "content-type;host;x-amz-date;"
#define POST_NAMES_TOKEN "x-amz-security-token;"
#define POST_NAMES_TAIL "x-amz-target"

/*
 * The same canonical request acmpca_sign makes for a POST to "/" with the
 * Content-Type and X-Amz-Target headers, written straight out: their names
 * are already in the canonical order (content-type, host, x-amz-date,
 * x-amz-security-token, x-amz-target) and every value is canonical as it is
 * (post_input_ok), so there is nothing to lowercase, trim or sort.
 */
/*
 * The hash of a canonical request whose first `prefix_len` bytes are the same
 * for every request of the client: SHA-256 resumes from the state the cache
 * kept after them (made on the first request, or again when they differ),
 * so that only the rest is hashed. The same hash as of the whole text.
 */
static void creq_hash_hex(char out[2 * SHA256_DIGEST_LENGTH + 1], acmpca_sign_cache *cache,
                          const char *creq, size_t creq_len, size_t prefix_len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    int kept = 0;

    if (!cache || prefix_len > POST_PREFIX_MAX || pthread_mutex_lock(&cache->lock) != 0) {
        sha256_hex(out, creq, creq_len);
        return;
    }
    if (cache->post_prefix_len == prefix_len &&
        memcmp(cache->post_prefix_text, creq, prefix_len) == 0) {
        c = cache->post_prefix;
        kept = 1;
    }
    pthread_mutex_unlock(&cache->lock);
    if (!kept) {
        SHA256_Init(&c);
        SHA256_Update(&c, creq, prefix_len);
        if (pthread_mutex_lock(&cache->lock) == 0) {
            cache->post_prefix = c;
            acmpca__wipe(cache->post_prefix_text, cache->post_prefix_len);
            memcpy(cache->post_prefix_text, creq, prefix_len);
            cache->post_prefix_len = prefix_len;
            pthread_mutex_unlock(&cache->lock);
        }
    }
    SHA256_Update(&c, creq + prefix_len, creq_len - prefix_len);
    SHA256_Final(md, &c);
    acmpca__hex(out, md, sizeof(md));
}

/* The signed header names of a request with or without a session token. */
static const char *post_names(int session_token)
{
    return session_token ? POST_NAMES_HEAD POST_NAMES_TOKEN POST_NAMES_TAIL
                         : POST_NAMES_HEAD POST_NAMES_TAIL;
}

/* "AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=names, Signature=hex" */
#define POST_AUTH_FIXED sizeof(SIGV4_ALGORITHM " Credential=/, SignedHeaders=, Signature=")

size_t acmpca__sign_post_auth_size(const char *region, const char *service, size_t akid_len,
                                   int session_token)
{
    /* scope: "YYYYMMDD/region/service/aws4_request" */
    return POST_AUTH_FIXED + akid_len + 8 + 3 + strlen(region) + strlen(service) +
           sizeof(SIGV4_TERMINATOR) - 1 + strlen(post_names(session_token)) +
           2 * SHA256_DIGEST_LENGTH;
}

int acmpca__sign_post(const acmpca__post_input *in, acmpca_sign_cache *cache,
                      char amz_date[17], char *auth, size_t auth_size)
{
    char short_date[9], payload[2 * SHA256_DIGEST_LENGTH + 1];
    char creq_hash[2 * SHA256_DIGEST_LENGTH + 1];
    char scope[2 * SIGN_MAX_SCOPE_PART + 32], signature[2 * SIGN_KEY_LEN + 1];
    char creq_s[SIGN_STACK_LARGE], *p;
    unsigned char mac[SIGN_KEY_LEN];
    const char *names = post_names(in->session_token != NULL);
    acmpca_buf creq;
    hmac_key key;
    SHA256_CTX head;
    size_t need, prefix_len = 0;
    int rc;

    memset(&key, 0, sizeof(key));
    memset(&head, 0, sizeof(head));
    if (!post_input_ok(in))
        return 1; /* not this shape: acmpca_sign's (and its error messages) */
    acmpca__buf_on(&creq, creq_s, sizeof(creq_s), 1);
    format_dates(in->timestamp, amz_date, short_date);
    sha256_hex(payload, in->body, in->body_len);
    p = put_text(scope, short_date);
    *p++ = '/';
    p = put_text(p, in->region);
    *p++ = '/';
    p = put_text(p, in->service);
    put_text(p, "/" SIGV4_TERMINATOR);

    need = 128 + strlen(in->content_type) + strlen(in->host) + strlen(in->target) +
           (in->session_token ? strlen(in->session_token) : 0) + strlen(names);
    if ((rc = acmpca__buf_reserve(&creq, need)) != 0 ||
        (rc = acmpca__buf_puts(&creq, "POST\n/\n\ncontent-type:")) != 0 ||
        (rc = acmpca__buf_puts(&creq, in->content_type)) != 0 ||
        (rc = acmpca__buf_puts(&creq, "\nhost:")) != 0 ||
        (rc = acmpca__buf_puts(&creq, in->host)) != 0 ||
        (rc = acmpca__buf_puts(&creq, "\nx-amz-date:")) != 0 ||
        ((prefix_len = creq.len), (rc = acmpca__buf_puts(&creq, amz_date)) != 0) ||
        (in->session_token &&
         ((rc = acmpca__buf_puts(&creq, "\nx-amz-security-token:")) != 0 ||
          (rc = acmpca__buf_puts(&creq, in->session_token)) != 0)) ||
        (rc = acmpca__buf_puts(&creq, "\nx-amz-target:")) != 0 ||
        (rc = acmpca__buf_puts(&creq, in->target)) != 0 ||
        (rc = acmpca__buf_puts(&creq, "\n\n")) != 0 ||
        (rc = acmpca__buf_puts(&creq, names)) != 0 ||
        (rc = acmpca__buf_puts(&creq, "\n")) != 0)
        goto done;
    /* All before the payload hash is the same for each request of this
     * operation in this second: the cache keeps its hash state. */
    if (creq.len <= POST_PREFIX_MAX)
        prefix_len = creq.len;
    if ((rc = acmpca__buf_puts(&creq, payload)) != 0)
        goto done;
    creq_hash_hex(creq_hash, cache, creq.ptr, creq.len, prefix_len);
    /* The string to sign's head is hashed into the key's inner state once a
     * second (signing_key keeps it): the canonical request's hash remains. */
    if ((rc = signing_key(&key, cache, in->secret_access_key, in->secret_id, short_date,
                          in->region, in->service, &head, amz_date, scope)) != 0)
        goto done;
    SHA256_Update(&head, creq_hash, 2 * SHA256_DIGEST_LENGTH);
    SHA256_Final(mac, &head);
    head = key.outer;
    SHA256_Update(&head, mac, sizeof(mac));
    SHA256_Final(mac, &head);
    acmpca__hex(signature, mac, sizeof(mac));
    need = POST_AUTH_FIXED + strlen(in->access_key_id) + strlen(scope) + strlen(names) +
           strlen(signature);
    if (need > auth_size) { /* the caller's acmpca__sign_post_auth_size was for another input */
        rc = acmpca__error_set(ACMPCA_EINVAL, "no room for the Authorization value");
        goto done;
    }
    p = put_text(auth, SIGV4_ALGORITHM " Credential=");
    p = put_text(p, in->access_key_id);
    *p++ = '/';
    p = put_text(p, scope);
    p = put_text(p, ", SignedHeaders=");
    p = put_text(p, names);
    p = put_text(p, ", Signature=");
    put_text(p, signature);
done:
    acmpca__wipe(&key, sizeof(key));
    acmpca__wipe(&head, sizeof(head));
    acmpca__wipe(mac, sizeof(mac));
    acmpca__wipe(signature, sizeof(signature));
    acmpca__buf_free(&creq);
    return rc;
}
