/*
 * util.c - small shared helpers: growable buffer, strings, secrets, base64,
 * hex, and library-wide init/version.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "internal.h"

const char *acmpca_version(void) { return ACMPCA_VERSION; }
int acmpca_version_number(void) { return ACMPCA_VERSION_NUMBER; }
void acmpca_free(void *ptr) { free(ptr); }

int acmpca_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return acmpca__error_set(ACMPCA_ENOMEM, "curl_global_init failed");
    return 0;
}

void acmpca_global_cleanup(void)
{
    acmpca__sign_global_cleanup();
    curl_global_cleanup();
}

static int buf_grow(acmpca_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1)
        return acmpca__error_set(ACMPCA_ENOMEM, "buffer size overflow");
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->ptr, cap);
    if (!p)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int acmpca__buf_append(acmpca_buf *b, const void *data, size_t len)
{
    int rc = buf_grow(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int acmpca__buf_puts(acmpca_buf *b, const char *s)
{
    return acmpca__buf_append(b, s, strlen(s));
}

int acmpca__buf_printf(acmpca_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t spare;
    int n, rc;

    /* Format straight into the spare room; measure and retry only when it does not fit. */
    if ((rc = buf_grow(b, 128)) != 0)
        return rc;
    spare = b->cap - b->len;
    va_start(ap, fmt);
    n = vsnprintf(b->ptr + b->len, spare, fmt, ap);
    va_end(ap);
    if (n < 0)
        return acmpca__error_set(ACMPCA_EINVAL, "bad format");
    if ((size_t)n >= spare) {
        if ((rc = buf_grow(b, (size_t)n)) != 0)
            return rc;
        va_start(ap, fmt);
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

char *acmpca__buf_detach(acmpca_buf *b)
{
    char *p;
    if (!b->ptr) {
        if (buf_grow(b, 0))
            return NULL;
        b->ptr[0] = '\0';
    }
    p = b->ptr;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void acmpca__buf_free(acmpca_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void acmpca__buf_free_secret(acmpca_buf *b)
{
    if (b->ptr)
        OPENSSL_cleanse(b->ptr, b->cap);
    acmpca__buf_free(b);
}

char *acmpca__strdup(const char *s)
{
    return s ? acmpca__strndup(s, strlen(s)) : NULL;
}

char *acmpca__strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void acmpca__free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

int acmpca__strcaseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int acmpca__has_ctl_char(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 1;
    return 0;
}

int64_t acmpca__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *acmpca__getenv(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *acmpca__base64_encode(const unsigned char *data, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    char *out;

    if (len > (SIZE_MAX - 1) / 4 * 3 - 3) {
        acmpca__error_set(ACMPCA_ENOMEM, "base64 input too large");
        return NULL;
    }
    out = malloc((len + 2) / 3 * 4 + 1);
    if (!out) {
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return NULL;
    }
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

unsigned char *acmpca__base64_decode(const char *text, size_t *out_len)
{
    size_t len = strlen(text), o = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    unsigned char *out = malloc(len / 4 * 3 + 3);

    if (!out) {
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return NULL;
    }
    for (; *text; text++) {
        int c = (unsigned char)*text, v;
        if (isspace(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            goto bad; /* data after padding */
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else goto bad;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits >= 6 || pad > 2)
        goto bad;
    *out_len = o;
    return out;
bad:
    free(out);
    return NULL;
}

void acmpca__hex(char *out, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t acmpca__days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}
