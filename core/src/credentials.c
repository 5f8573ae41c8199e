/*
 * credentials.c - credentials, the provider object (reference counted, with a
 * cache refreshed before expiry), and the built-in providers: static,
 * environment, the shared credentials and config files, and chains of
 * providers such as the default one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"

/* Refresh credentials that expire within this many seconds... */
#define REFRESH_BEFORE_S 900
/* ...but while a refresh fails, keep serving them until this close to expiry. */
#define KEEP_ON_FAILURE_S 600

#define WHY_LEN 512

struct acmpca_credentials_provider {
    char *name;
    acmpca_credentials_fetch_fn fetch;    /* NULL for a chain */
    void (*destroy)(void *ctx);
    void *ctx;
    atomic_long refs;

    /* A chain: its members, tried in order (fetch is NULL). */
    acmpca_credentials_provider **members;
    size_t member_count;

    pthread_mutex_t lock;                  /* guards the two fields below */
    pthread_cond_t fetched;                /* signalled when a fetch ends */
    int fetching;                          /* one thread fetches at a time */
    acmpca_credentials *cached;
};

/* ---- credentials ------------------------------------------------------- */

int acmpca_credentials_new(acmpca_credentials **out, const char *access_key_id,
                           const char *secret_access_key, const char *session_token,
                           int64_t expiration, const char *provider)
{
    acmpca_credentials *c;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_new: out is NULL");
    *out = NULL;
    if (!access_key_id || !*access_key_id || !secret_access_key || !*secret_access_key)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "credentials need an access key id and a secret access key");
    if (!(c = calloc(1, sizeof(*c))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    c->expiration = expiration;
    if (!(c->access_key_id = acmpca__strdup(access_key_id)) ||
        !(c->secret_access_key = acmpca__strdup(secret_access_key)) ||
        (session_token && *session_token && !(c->session_token = acmpca__strdup(session_token))) ||
        (provider && !(c->provider = acmpca__strdup(provider)))) {
        acmpca_credentials_free(c);
        return ACMPCA_ENOMEM;
    }
    *out = c;
    return 0;
}

void acmpca_credentials_free(acmpca_credentials *creds)
{
    if (!creds)
        return;
    free(creds->access_key_id);
    acmpca__free_secret(creds->secret_access_key);
    acmpca__free_secret(creds->session_token);
    free(creds->provider);
    free(creds);
}

static int credentials_copy(const acmpca_credentials *c, acmpca_credentials **out)
{
    return acmpca_credentials_new(out, c->access_key_id, c->secret_access_key,
                                  c->session_token, c->expiration, c->provider);
}

/* ---- the provider object ----------------------------------------------- */

static int provider_alloc(acmpca_credentials_provider **out, const char *name)
{
    acmpca_credentials_provider *p;

    *out = NULL;
    if (!(p = calloc(1, sizeof(*p))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if (!(p->name = acmpca__strdup(name))) {
        free(p);
        return ACMPCA_ENOMEM;
    }
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->name);
        free(p);
        return acmpca__error_set(ACMPCA_ENOMEM, "pthread_mutex_init failed");
    }
    if (pthread_cond_init(&p->fetched, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p->name);
        free(p);
        return acmpca__error_set(ACMPCA_ENOMEM, "pthread_cond_init failed");
    }
    atomic_init(&p->refs, 1);
    *out = p;
    return 0;
}

static void provider_destroy(acmpca_credentials_provider *p)
{
    size_t i;

    if (p->destroy)
        p->destroy(p->ctx);
    for (i = 0; i < p->member_count; i++)
        acmpca_credentials_provider_unref(p->members[i]);
    free(p->members);
    acmpca_credentials_free(p->cached);
    pthread_cond_destroy(&p->fetched);
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p);
}

int acmpca_credentials_provider_new(acmpca_credentials_provider **out, const char *name,
                                    acmpca_credentials_fetch_fn fetch,
                                    void (*destroy)(void *ctx), void *ctx)
{
    int rc;

    if (!out || !fetch)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "acmpca_credentials_provider_new: out and fetch are required");
    if ((rc = provider_alloc(out, name && *name ? name : "custom")) != 0)
        return rc;
    (*out)->fetch = fetch;
    (*out)->destroy = destroy;
    (*out)->ctx = ctx;
    return 0;
}

acmpca_credentials_provider *acmpca_credentials_provider_ref(acmpca_credentials_provider *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void acmpca_credentials_provider_unref(acmpca_credentials_provider *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        provider_destroy(p);
}

const char *acmpca_credentials_provider_name(const acmpca_credentials_provider *p)
{
    return p ? p->name : "";
}

static int64_t clock_now(int64_t now)
{
    return now ? now : (int64_t)time(NULL);
}

static int needs_refresh(const acmpca_credentials *c, int64_t now)
{
    return c->expiration != 0 && c->expiration - now < REFRESH_BEFORE_S;
}

static int still_usable(const acmpca_credentials *c, int64_t now)
{
    return c->expiration == 0 || c->expiration - now > KEEP_ON_FAILURE_S;
}

static int chain_fetch(acmpca_credentials_provider *chain, int64_t now,
                       acmpca_credentials **out, char *why, size_t why_len);

/*
 * Call the provider's source once and check what came back. On
 * ACMPCA_ENOCREDENTIALS, `why` holds the reason and the thread's error is set
 * (from `why` when the source did not set one itself).
 */
static int provider_fetch(acmpca_credentials_provider *p, int64_t now,
                          acmpca_credentials **out, char *why, size_t why_len)
{
    acmpca_credentials *fresh = NULL;
    int rc;

    why[0] = '\0';
    acmpca_error_clear();
    if (p->fetch)
        rc = p->fetch(p->ctx, &fresh, why, why_len);
    else
        rc = chain_fetch(p, now, &fresh, why, why_len);
    why[why_len - 1] = '\0';
    if (rc == 0 && (!fresh || !fresh->access_key_id || !*fresh->access_key_id ||
                    !fresh->secret_access_key || !*fresh->secret_access_key))
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               "provider \"%s\" returned incomplete credentials", p->name);
    else if (rc > 0)
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "provider \"%s\" failed (%d)", p->name, rc);
    else if (rc == ACMPCA_ENOCREDENTIALS && acmpca_error_last()->code != rc)
        acmpca__error_set(rc, "%s: %s", p->name, why[0] ? why : "no credentials");
    else if (rc < 0 && acmpca_error_last()->code == ACMPCA_OK)
        acmpca__error_set(rc, "provider \"%s\" failed", p->name);
    if (rc != 0) {
        acmpca_credentials_free(fresh);
        return rc;
    }
    if (!fresh->provider && !(fresh->provider = acmpca__strdup(p->name))) {
        acmpca_credentials_free(fresh);
        return ACMPCA_ENOMEM;
    }
    *out = fresh;
    return 0;
}

/*
 * The cache. Credentials are served while they have more than
 * REFRESH_BEFORE_S left; then one thread fetches while the others wait (or,
 * when the old credentials are still good for a while, use those). A failed
 * refresh keeps the old credentials while they have more than
 * KEEP_ON_FAILURE_S left.
 */
static int provider_get(acmpca_credentials_provider *p, int64_t now,
                        acmpca_credentials **out, char *why, size_t why_len)
{
    acmpca_credentials *fresh = NULL;
    int rc;

    why[0] = '\0';
    pthread_mutex_lock(&p->lock);
    for (;;) {
        acmpca_credentials *c = p->cached;
        if (c && (!needs_refresh(c, now) || (p->fetching && still_usable(c, now)))) {
            rc = credentials_copy(c, out);
            pthread_mutex_unlock(&p->lock);
            return rc;
        }
        if (!p->fetching)
            break;
        pthread_cond_wait(&p->fetched, &p->lock);
    }
    p->fetching = 1;
    pthread_mutex_unlock(&p->lock);

    rc = provider_fetch(p, now, &fresh, why, why_len);

    pthread_mutex_lock(&p->lock);
    p->fetching = 0;
    pthread_cond_broadcast(&p->fetched);
    if (rc == 0) {
        acmpca_credentials_free(p->cached);
        p->cached = fresh;
        rc = credentials_copy(fresh, out);
    } else if (p->cached && still_usable(p->cached, now)) {
        /* The failure stays readable in acmpca_error_last() for debugging. */
        rc = credentials_copy(p->cached, out);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int acmpca_credentials_get(acmpca_credentials_provider *p, int64_t now,
                           acmpca_credentials **out)
{
    char why[WHY_LEN];

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_get: out is NULL");
    *out = NULL;
    if (!p)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_get: provider is NULL");
    return provider_get(p, clock_now(now), out, why, sizeof(why));
}

/* ---- static ------------------------------------------------------------- */

static int static_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    return credentials_copy(ctx, out);
}

static void static_destroy(void *ctx)
{
    acmpca_credentials_free(ctx);
}

int acmpca_credentials_provider_static(acmpca_credentials_provider **out,
                                       const char *access_key_id,
                                       const char *secret_access_key,
                                       const char *session_token)
{
    acmpca_credentials *c = NULL;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_static: out is NULL");
    *out = NULL;
    if ((rc = acmpca_credentials_new(&c, access_key_id, secret_access_key, session_token, 0,
                                     "static")) != 0)
        return rc;
    if ((rc = acmpca_credentials_provider_new(out, "static", static_fetch, static_destroy, c)) != 0)
        acmpca_credentials_free(c);
    return rc;
}

/* ---- environment -------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar. */
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **s, int n, int *out)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9')
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

/*
 * "2024-05-01T12:00:00Z", optionally with fractional seconds and a "+hh:mm"
 * / "+hhmm" offset instead of Z; no offset means UTC.
 */
static int parse_iso8601(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
        digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
        return -1;
    s++;
    if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
        digits(&s, 2, &sec))
        return -1;
    if (*s == '.' || *s == ',') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '-' ? -1 : 1;
        if (digits(&s, 2, &oh))
            return -1;
        if (*s == ':')
            s++;
        if (digits(&s, 2, &om))
            return -1;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60 || oh > 23 || om > 59)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           sign * (oh * 3600 + om * 60);
    return 0;
}

static int environment_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    const char *id = acmpca__getenv("AWS_ACCESS_KEY_ID");
    const char *secret = acmpca__getenv("AWS_SECRET_ACCESS_KEY");
    const char *exp_text = acmpca__getenv("AWS_CREDENTIAL_EXPIRATION");
    int64_t exp = 0;

    (void)ctx;
    if (!id || !secret) {
        snprintf(why, why_len, "%s",
                 id ? "AWS_SECRET_ACCESS_KEY not set (AWS_ACCESS_KEY_ID is)"
                 : secret ? "AWS_ACCESS_KEY_ID not set (AWS_SECRET_ACCESS_KEY is)"
                          : "AWS_ACCESS_KEY_ID not set");
        return ACMPCA_ENOCREDENTIALS;
    }
    if (exp_text && parse_iso8601(exp_text, &exp) != 0)
        return acmpca__error_set(ACMPCA_ECREDENTIALS,
                                 "AWS_CREDENTIAL_EXPIRATION=\"%.64s\" is not an ISO 8601 time "
                                 "such as 2024-05-01T12:00:00Z", exp_text);
    return acmpca_credentials_new(out, id, secret, acmpca__getenv("AWS_SESSION_TOKEN"), exp,
                                  "environment");
}

int acmpca_credentials_provider_environment(acmpca_credentials_provider **out)
{
    return acmpca_credentials_provider_new(out, "environment", environment_fetch, NULL, NULL);
}

/* ---- shared credentials file and config file ----------------------------- */

typedef struct file_source {
    char *profile;
    int is_config;
} file_source;

static void file_source_destroy(void *ctx)
{
    file_source *f = ctx;
    if (f) {
        free(f->profile);
        free(f);
    }
}

static int file_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    const file_source *f = ctx;
    const char *name = f->is_config ? "config-file" : "shared-credentials-file";
    acmpca_ini *ini = NULL;
    char *path;
    const char *id, *secret;
    struct stat st;
    int rc;

    if (!(path = f->is_config ? acmpca__config_file_path() : acmpca__credentials_file_path()))
        return ACMPCA_ENOMEM;
    if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        snprintf(why, why_len, "%s: no such file", path);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    if ((rc = acmpca__ini_load(&ini, path, f->is_config)) != 0)
        goto done;
    if (!acmpca__ini_has_profile(ini, f->profile)) {
        snprintf(why, why_len, "%s: profile \"%s\" not found", path, f->profile);
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    id = acmpca__ini_get(ini, f->profile, "aws_access_key_id");
    secret = acmpca__ini_get(ini, f->profile, "aws_secret_access_key");
    id = id && *id ? id : NULL;
    secret = secret && *secret ? secret : NULL;
    if (!id || !secret) {
        snprintf(why, why_len, "%s: profile \"%s\" has %s", path, f->profile,
                 id ? "aws_access_key_id but no aws_secret_access_key"
                 : secret ? "aws_secret_access_key but no aws_access_key_id"
                          : "no aws_access_key_id");
        rc = ACMPCA_ENOCREDENTIALS;
        goto done;
    }
    rc = acmpca_credentials_new(out, id, secret,
                                acmpca__ini_get(ini, f->profile, "aws_session_token"), 0, name);
done:
    acmpca__ini_free(ini);
    free(path);
    return rc;
}

/* profile: the argument, else AWS_PROFILE, else "default" (fixed at creation). */
static int file_provider_new(acmpca_credentials_provider **out, const char *profile,
                             int is_config)
{
    file_source *f;
    int rc;

    *out = NULL;
    if (!profile || !*profile)
        profile = acmpca__getenv("AWS_PROFILE");
    if (!(f = calloc(1, sizeof(*f))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    f->is_config = is_config;
    if (!(f->profile = acmpca__strdup(profile ? profile : "default"))) {
        free(f);
        return ACMPCA_ENOMEM;
    }
    rc = acmpca_credentials_provider_new(out, is_config ? "config-file" : "shared-credentials-file",
                                         file_fetch, file_source_destroy, f);
    if (rc)
        file_source_destroy(f);
    return rc;
}

static int shared_credentials_file_new(acmpca_credentials_provider **out, const char *profile)
{
    return file_provider_new(out, profile, 0);
}

static int config_file_new(acmpca_credentials_provider **out, const char *profile)
{
    return file_provider_new(out, profile, 1);
}

/* ---- chains ------------------------------------------------------------- */

static int chain_fetch(acmpca_credentials_provider *chain, int64_t now,
                       acmpca_credentials **out, char *why, size_t why_len)
{
    acmpca_buf tried = {0};
    char member_why[WHY_LEN];
    size_t i;
    int rc;

    for (i = 0; i < chain->member_count; i++) {
        acmpca_credentials_provider *m = chain->members[i];
        rc = provider_get(m, now, out, member_why, sizeof(member_why));
        if (rc == 0)
            goto done;
        if (rc != ACMPCA_ENOCREDENTIALS) {
            acmpca__error_prefix(m->name);
            goto done;
        }
        if ((rc = acmpca__buf_printf(&tried, "%s%s (%s)", i ? ", " : "", m->name,
                                     member_why[0] ? member_why : "no credentials")) != 0)
            goto done;
    }
    snprintf(why, why_len, "tried: %s", tried.ptr ? tried.ptr : "no providers");
    rc = acmpca__error_set(ACMPCA_ENOCREDENTIALS, "no credentials found; tried: %s",
                           tried.ptr ? tried.ptr : "no providers");
done:
    acmpca__buf_free(&tried);
    return rc;
}

/* Members of nested chains are spliced in, so every source is listed once. */
static int chain_new(acmpca_credentials_provider **out, const char *name,
                     acmpca_credentials_provider **providers, size_t count)
{
    acmpca_credentials_provider *chain = NULL;
    size_t i, j, n = 0;
    int rc;

    if (!out || (!providers && count)) {
        rc = acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_chain: bad arguments");
        goto fail;
    }
    *out = NULL;
    for (i = 0; i < count; i++) {
        if (!providers[i]) {
            rc = acmpca__error_set(ACMPCA_EINVAL,
                                   "acmpca_credentials_provider_chain: provider %zu is NULL", i);
            goto fail;
        }
        n += providers[i]->fetch ? 1 : providers[i]->member_count;
    }
    if ((rc = provider_alloc(&chain, name)) != 0)
        goto fail;
    if (n && !(chain->members = calloc(n, sizeof(*chain->members)))) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < count; i++) {
        acmpca_credentials_provider *p = providers[i];
        if (p->fetch) {
            chain->members[chain->member_count++] = p;
        } else {
            for (j = 0; j < p->member_count; j++)
                chain->members[chain->member_count++] =
                    acmpca_credentials_provider_ref(p->members[j]);
            acmpca_credentials_provider_unref(p);
        }
        providers[i] = NULL;
    }
    *out = chain;
    return 0;
fail:
    /* The callers' references are ours, also on failure. */
    for (i = 0; providers && i < count; i++)
        acmpca_credentials_provider_unref(providers[i]);
    if (chain)
        provider_destroy(chain);
    return rc;
}

int acmpca_credentials_provider_chain(acmpca_credentials_provider **out,
                                      acmpca_credentials_provider **providers, size_t count)
{
    return chain_new(out, "chain", providers, count);
}

int acmpca_credentials_provider_profile(acmpca_credentials_provider **out, const char *profile)
{
    acmpca_credentials_provider *list[2] = {NULL, NULL};
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_profile: out is NULL");
    *out = NULL;
    if ((rc = shared_credentials_file_new(&list[0], profile)) != 0)
        return rc;
    if ((rc = config_file_new(&list[1], profile)) != 0) {
        acmpca_credentials_provider_unref(list[0]);
        return rc;
    }
    return chain_new(out, "profile", list, 2);
}

/*
 * The sources of the default chain, in botocore's order. New sources
 * (assume-role, web identity, SSO, process, container, IMDS) are added here
 * at their place; callers of acmpca_credentials_provider_default() do not
 * change.
 */
typedef int (*source_new_fn)(acmpca_credentials_provider **out, const char *profile);

static int environment_new(acmpca_credentials_provider **out, const char *profile)
{
    (void)profile;
    return acmpca_credentials_provider_environment(out);
}

static const source_new_fn default_sources[] = {
    environment_new,
    shared_credentials_file_new,
    config_file_new,
};

#define DEFAULT_SOURCE_COUNT (sizeof(default_sources) / sizeof(default_sources[0]))

int acmpca_credentials_provider_default(acmpca_credentials_provider **out, const char *profile)
{
    acmpca_credentials_provider *list[DEFAULT_SOURCE_COUNT] = {NULL};
    size_t i;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_default: out is NULL");
    *out = NULL;
    for (i = 0; i < DEFAULT_SOURCE_COUNT; i++) {
        if ((rc = default_sources[i](&list[i], profile)) != 0) {
            while (i-- > 0)
                acmpca_credentials_provider_unref(list[i]);
            return rc;
        }
    }
    return chain_new(out, "default-chain", list, DEFAULT_SOURCE_COUNT);
}
