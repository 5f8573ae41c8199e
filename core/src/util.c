/*
 * util.c - small shared helpers: growable buffer, strings, secrets, base64,
 * hex, and library-wide init/version.
 */
#define _DEFAULT_SOURCE /* explicit_bzero (glibc) */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#  include <malloc.h>
#endif

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "internal.h"

#define MAX_CLEANUPS 8 /* more than the subsystems that register one */

const char *acmpca_version(void) { return ACMPCA_VERSION; }
int acmpca_version_number(void) { return ACMPCA_VERSION_NUMBER; }
void acmpca_free(void *ptr) { free(ptr); }

/* ---- process-wide state --------------------------------------------------- */

/*
 * Reference-counted as curl_global_init is: the Lua module calls init and
 * cleanup once per lua_State, the Python module once per process, and a
 * program may use both; only the first init and the last cleanup act.
 */
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long global_users;
static void (*cleanups[MAX_CLEANUPS])(void);
static int cleanup_count;

void acmpca__global_on_cleanup(void (*fn)(void))
{
    int i;

    pthread_mutex_lock(&global_lock);
    for (i = 0; i < cleanup_count && cleanups[i] != fn; i++)
        ;
    if (i == cleanup_count && cleanup_count < MAX_CLEANUPS)
        cleanups[cleanup_count++] = fn;
    pthread_mutex_unlock(&global_lock);
}

/*
 * How many leading bytes of each block libcurl frees on this thread are
 * wiped; 0 (the default, and outside transfers): all of them. See
 * acmpca__curl_wipe_limit in internal.h for when a transfer may bound it.
 */
static _Thread_local size_t curl_wipe_limit;

void acmpca__curl_wipe_limit(size_t n)
{
    curl_wipe_limit = n;
}

#ifdef __GLIBC__
/*
 * libcurl copies the request headers, Authorization and X-Amz-Security-Token
 * among them, into buffers of its own (the header list, the request it
 * builds, the send buffer) and frees them as they are. These allocators wipe
 * every block libcurl frees or outgrows. glibc tells a block's size
 * (malloc_usable_size), which free() needs; elsewhere curl keeps its own.
 *
 * Blocks are wiped whole, except during a transfer that set a limit: then
 * only their first curl_wipe_limit bytes are, which is where such a
 * transfer's secrets can be (its request head; its response holds none). What
 * that saves is the wipe of libcurl's 16 KB download buffer, allocated and
 * freed by every transfer, which then holds only the service's answer.
 */
static void wiping_free(void *p)
{
    size_t n;

    if (p) {
        n = malloc_usable_size(p);
        if (curl_wipe_limit && n > curl_wipe_limit)
            n = curl_wipe_limit;
        /* explicit_bzero is memset that is never optimised away: on every free of
         * libcurl's it costs a fraction of OPENSSL_cleanse's byte loop. */
        explicit_bzero(p, n);
        free(p);
    }
}

/*
 * A block that outgrows its room moves to one of at least GROWN_ROOM bytes:
 * libcurl's buffers start at 32 bytes and double, and the request head it
 * builds on every transfer (~1 KB with the signature) would otherwise move
 * five times, each move a copy, a wipe and a free. Every block is still wiped
 * whole when it is freed or moves.
 */
#define GROWN_ROOM 1024

static void *wiping_realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (!p)
        return malloc(n);
    old = malloc_usable_size(p);
    if (n && n <= old)
        return p; /* it fits where it is: nothing is left behind */
    if (!(q = malloc(!n ? 1 : n > GROWN_ROOM ? n : GROWN_ROOM)))
        return NULL;
    memcpy(q, p, old < n ? old : n);
    wiping_free(p);
    return q;
}
#endif

/*
 * The allocators take effect only when this is libcurl's first
 * initialisation in the process: if something else already initialised it,
 * curl_global_init_mem just counts one more user and keeps the allocators in
 * place (then libcurl's copies of the headers are not wiped). Conversely,
 * once installed they stay in libcurl until its last curl_global_cleanup, so
 * a copy of this library that is unloaded (a Lua module at lua_close) while
 * another libcurl user initialised after it is still active would leave
 * libcurl pointing at unmapped code.
 */
static int curl_init(void)
{
#ifdef __GLIBC__
    return curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free, wiping_realloc, strdup,
                                calloc) == CURLE_OK;
#else
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
#endif
}

int acmpca_global_init(void)
{
    int rc = 0;

    pthread_mutex_lock(&global_lock);
    if (global_users == 0 && !curl_init())
        rc = acmpca__error_set(ACMPCA_ENOMEM, "curl_global_init failed");
    else
        global_users++;
    pthread_mutex_unlock(&global_lock);
    return rc;
}

void acmpca_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_users > 0 && --global_users == 0) {
        while (cleanup_count > 0)
            cleanups[--cleanup_count]();
        curl_global_cleanup();
    }
    pthread_mutex_unlock(&global_lock);
}

/* ---- growable buffer ------------------------------------------------------ */

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
    /* realloc would leave a secret behind in the block it moves away from. */
    p = b->secret || b->borrowed ? malloc(cap) : realloc(b->ptr, cap);
    if (!p)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if ((b->secret || b->borrowed) && b->ptr) {
        memcpy(p, b->ptr, b->len + 1);
        if (b->secret)
            acmpca__wipe(b->ptr, b->cap);
        if (!b->borrowed)
            free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    b->borrowed = 0;
    return 0;
}

void acmpca__buf_on(acmpca_buf *b, char *store, size_t size, int secret)
{
    b->ptr = store;
    b->ptr[0] = '\0';
    b->len = 0;
    b->cap = size;
    b->secret = secret;
    b->borrowed = 1;
}

int acmpca__buf_reserve(acmpca_buf *b, size_t extra)
{
    return buf_grow(b, extra);
}

int acmpca__buf_append_slow(acmpca_buf *b, const void *data, size_t len)
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


/*
 * glibc's vsnprintf sends what does not fit through a 64-byte buffer in its
 * own stack frame and leaves it there. After formatting a secret that did
 * not fit, wipe the stack the call used (as libsodium's sodium_stackzero).
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void wipe_stack_below(void)
{
    unsigned char pad[4096];
    OPENSSL_cleanse(pad, sizeof(pad));
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
        if (b->secret)
            wipe_stack_below();
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
    if (b->borrowed) { /* the caller's storage: a copy on the heap */
        if ((p = acmpca__strndup(b->ptr, b->len)) != NULL)
            acmpca__buf_free(b);
        return p;
    }
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

void acmpca__wipe(void *p, size_t n)
{
    if (!p || !n)
        return;
#ifdef __GLIBC__
    explicit_bzero(p, n);
#else
    OPENSSL_cleanse(p, n);
#endif
}

static void buf_release(acmpca_buf *b, int wipe)
{
    if (wipe && b->ptr)
        acmpca__wipe(b->ptr, b->cap);
    if (!b->borrowed)
        free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->borrowed = 0;
}

void acmpca__buf_free(acmpca_buf *b)
{
    buf_release(b, b->secret);
}

void acmpca__buf_free_secret(acmpca_buf *b)
{
    buf_release(b, 1);
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
        acmpca__wipe(s, strlen(s));
        free(s);
    }
}

/* 'A'..'Z' to 'a'..'z', every other byte as it is: the locale's tolower
 * would fold 'I' to a dotless i in a Turkish one, and Latin-1 letters. */
static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

int acmpca__strcaseeq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca != cb && ascii_lower(ca) != ascii_lower(cb))
            return 0;
        if (!ca)
            return 1;
    }
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
    /* Both digits of a byte at once: three digests a signature. */
#define HEX_ROW(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" \
                   h "c" h "d" h "e" h "f"
    static const char pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3")
        HEX_ROW("4") HEX_ROW("5") HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9")
        HEX_ROW("a") HEX_ROW("b") HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");
#undef HEX_ROW
    size_t i;
    for (i = 0; i < len; i++)
        memcpy(out + 2 * i, pairs + 2 * data[i], 2);
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

/* ---- text formats ------------------------------------------------------------ */

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *acmpca__xml_text(const char *xml, const char *scope, const char *tag)
{
    char open_tag[80], close_tag[80];
    const char *b, *e, *p;
    acmpca_buf out = {0};

    out.secret = 1;     /* it may be the secret key or the session token */
    if (scope) {
        snprintf(open_tag, sizeof(open_tag), "<%s>", scope);
        if (!(xml = strstr(xml, open_tag)))
            return NULL;
    }
    snprintf(open_tag, sizeof(open_tag), "<%s>", tag);
    snprintf(close_tag, sizeof(close_tag), "</%s>", tag);
    if (!(b = strstr(xml, open_tag)))
        return NULL;
    b += strlen(open_tag);
    if (!(e = strstr(b, close_tag)))
        return NULL;
    for (p = b; p < e; p++) {
        char c = *p;
        if (c == '&') {
            const char *semi = memchr(p, ';', (size_t)(e - p));
            size_t n = semi ? (size_t)(semi - p - 1) : 0;
            unsigned long cp = 0;
            if (n == 3 && memcmp(p + 1, "amp", 3) == 0) c = '&';
            else if (n == 2 && memcmp(p + 1, "lt", 2) == 0) c = '<';
            else if (n == 2 && memcmp(p + 1, "gt", 2) == 0) c = '>';
            else if (n == 4 && memcmp(p + 1, "quot", 4) == 0) c = '"';
            else if (n == 4 && memcmp(p + 1, "apos", 4) == 0) c = '\'';
            else if (n >= 2 && p[1] == '#') {
                size_t i = 2;
                int base = 10, d;
                if (p[2] == 'x' || p[2] == 'X') {
                    base = 16;
                    i = 3;
                }
                for (; i <= n && (d = hex_digit(p[i])) >= 0 && d < base && cp < 0x110000; i++)
                    cp = cp * (unsigned long)base + (unsigned long)d;
                if (i <= n || cp == 0 || cp >= 0x80)
                    cp = '?';   /* only ASCII is expected in these fields */
                c = (char)cp;
            } else {
                semi = NULL;  /* not an entity: keep the '&' */
            }
            if (semi)
                p = semi;
        }
        if (acmpca__buf_append(&out, &c, 1) != 0) {
            acmpca__buf_free_secret(&out);
            return NULL;
        }
    }
    return acmpca__buf_detach(&out);
}

void acmpca__civil_from_days(int64_t days, int *year, int *month, int *day)
{
    /* Howard Hinnant's civil_from_days, the inverse of acmpca__days_from_civil. */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (*month <= 2));
}
