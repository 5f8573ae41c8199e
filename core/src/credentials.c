/*
 * credentials.c - credentials, the provider object (reference counted, with a
 * cache refreshed before expiry), the local providers (static, environment,
 * the shared credentials and config files, credential_process) and chains of
 * providers. The HTTP-based providers live in credentials_remote.c, the
 * default chain (which uses both) in credentials_chain.c.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE   /* pipe2(): pipes that are close-on-exec from the start */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "credentials_internal.h"

extern char **environ;

/* Refresh credentials that expire within this many seconds... */
#define REFRESH_BEFORE_S 900
/* ...but while a refresh fails, keep serving them until this close to expiry. */
#define KEEP_ON_FAILURE_S 600

#define WHY_LEN 512

/* One exchange (or pause) of a refresh by steps. */
struct acmpca__fetch_entry {
    acmpca_http_request *req;          /* NULL: a pause */
    acmpca_transport_options opts;     /* ca_bundle owned */
    long pause_ms;
    int answered;
    acmpca_http_response resp;         /* the answer, when answered and err == 0 */
    int err;
    acmpca_error_state *error;         /* the failure, when err != 0 */
};

static int pending(void);

/* The log of the refresh running by steps on this thread, if any. */
static _Thread_local acmpca__fetch_log *tls_fetch_log;

struct acmpca_credentials_provider {
    char *name;
    acmpca_credentials_fetch_fn fetch;    /* NULL for a chain */
    void (*destroy)(void *ctx);
    void *ctx;
    atomic_long refs;

    /* A chain: its members, tried in order (fetch is NULL). */
    acmpca_credentials_provider **members;
    size_t member_count;

    int64_t (*now)(void *userdata);        /* the clock when asked with now == 0 */
    void *now_userdata;

    pthread_mutex_t lock;                  /* guards the fields below */
    pthread_cond_t fetched;                /* signalled when a fetch ends */
    int fetching;                          /* one thread fetches at a time */
    acmpca_credentials *cached;            /* a shared entry (see share()) */
    /*
     * A refresh by steps (a call machine's, see acmpca__credentials_get_logged)
     * lasts over many calls from its driver; other machines wait for it with
     * SLEEP steps instead of fetching too. The owner renews its lease at every
     * step: one that stops coming back (a cancelled task, a killed request)
     * loses it, and the next machine takes over.
     */
    acmpca__fetch_log *step_owner;
    int64_t step_lease_ms;                 /* acmpca__now_ms() time the lease ends */
    unsigned long generation;              /* counts the refreshes that ended... */
    int last_rc;                           /* ...how the last one ended... */
    acmpca_error_state *last_error;        /* ...its error (allocated on the first failure) */
    char last_why[WHY_LEN];
    /*
     * The fork generation (see fork_gen) the lock and `fetching` belong to
     * (with RESETTING while being reset). A child forked while another thread
     * held the lock or was fetching inherits them in that state, with no
     * thread left to release them.
     */
    atomic_ulong owner_gen;
};

/*
 * Bumped in the child of every fork(), so that a provider notices a fork with
 * one load instead of a getpid() system call per call (glibc no longer caches
 * the pid).
 */
static atomic_ulong fork_gen;
static pthread_once_t fork_gen_once = PTHREAD_ONCE_INIT;
#define RESETTING (~(~0UL >> 1))

static void fork_gen_child(void)
{
    atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void fork_gen_register(void)
{
    pthread_atfork(NULL, NULL, fork_gen_child);
}

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
    acmpca__free_secret(creds->access_key_id);
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

/*
 * A cache entry is shared, not copied, by the calls that sign with it: the
 * credentials and a count of their users. The last user wipes and frees it
 * (acmpca_credentials_free wipes the strings; the entry starts with them).
 */
typedef struct shared_credentials {
    acmpca_credentials c;
    atomic_long users;
    /* acmpca__secret_id of c.secret_access_key, made once: the signing-key
     * cache's name for the secret (acmpca__credentials_secret_id). */
    unsigned char secret_id[ACMPCA__SECRET_ID_LEN];
} shared_credentials;

/* Move `fresh` into a shared entry (one user: the cache). */
static int share(acmpca_credentials **fresh)
{
    shared_credentials *s = malloc(sizeof(*s));
    if (!s) {
        acmpca_credentials_free(*fresh);
        *fresh = NULL;
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    s->c = **fresh;
    free(*fresh); /* the strings now belong to the entry */
    atomic_init(&s->users, 1);
    acmpca__secret_id(s->secret_id, s->c.secret_access_key);
    *fresh = &s->c;
    return 0;
}

static acmpca_credentials *share_ref(acmpca_credentials *c)
{
    atomic_fetch_add_explicit(&((shared_credentials *)c)->users, 1, memory_order_relaxed);
    return c;
}

void acmpca__credentials_release(const acmpca_credentials *c)
{
    shared_credentials *s = (shared_credentials *)c;
    if (s && atomic_fetch_sub_explicit(&s->users, 1, memory_order_acq_rel) == 1) {
        acmpca__wipe(s->secret_id, sizeof(s->secret_id));
        acmpca_credentials_free(&s->c);
    }
}

const unsigned char *acmpca__credentials_secret_id(const acmpca_credentials *c)
{
    return ((const shared_credentials *)c)->secret_id;
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
    pthread_once(&fork_gen_once, fork_gen_register);
    atomic_init(&p->owner_gen, atomic_load_explicit(&fork_gen, memory_order_relaxed));
    *out = p;
    return 0;
}

/* In a forked child, start the lock and the refresh state afresh (once: the first thread does). */
static void provider_after_fork(acmpca_credentials_provider *p)
{
    unsigned long me = atomic_load_explicit(&fork_gen, memory_order_relaxed);
    unsigned long owner = atomic_load_explicit(&p->owner_gen, memory_order_acquire);

    while (owner != me) {
        if (owner != (me | RESETTING) &&
            atomic_compare_exchange_weak(&p->owner_gen, &owner, me | RESETTING)) {
            /* The inherited lock may be held by a thread that does not exist here. */
            pthread_mutex_init(&p->lock, NULL);
            pthread_cond_init(&p->fetched, NULL);
            p->fetching = 0;
            p->step_owner = NULL; /* a machine of the parent: none here drives it */
            atomic_store(&p->owner_gen, me);
            return;
        }
        if (owner == (me | RESETTING)) {
            sched_yield();
            owner = atomic_load(&p->owner_gen);
        }
    }
}

static void provider_destroy(acmpca_credentials_provider *p)
{
    size_t i;

    if (p->destroy)
        p->destroy(p->ctx);
    for (i = 0; i < p->member_count; i++)
        acmpca_credentials_provider_unref(p->members[i]);
    free(p->members);
    acmpca__credentials_release(p->cached);
    if (p->last_error) /* as a fetch log's errors: a provider's message may quote its source */
        OPENSSL_cleanse(p->last_error, sizeof(*p->last_error));
    free(p->last_error);
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

int acmpca__provider_new(acmpca_credentials_provider **out, const char *name,
                         acmpca_credentials_fetch_fn fetch, void (*destroy)(void *ctx),
                         void *ctx, const acmpca__cred_opts *o)
{
    int rc = acmpca_credentials_provider_new(out, name, fetch, destroy, ctx);
    if (rc == 0 && o) {
        (*out)->now = o->now;
        (*out)->now_userdata = o->now_userdata;
    }
    return rc;
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

static int64_t clock_now(const acmpca_credentials_provider *p, int64_t now)
{
    if (now)
        return now;
    return p->now ? p->now(p->now_userdata) : (int64_t)time(NULL);
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
    else if (rc == 0 && (acmpca__has_ctl_char(fresh->access_key_id) ||
                         (fresh->session_token && acmpca__has_ctl_char(fresh->session_token))))
        /* Both are sent as headers, where a line break would start headers of its own. */
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: the %s it returned contains a control "
                               "character, which a header cannot carry", p->name,
                               acmpca__has_ctl_char(fresh->access_key_id) ? "access key id"
                                                                          : "session token");
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
    /* Serving them would only move the failure to the service, less clearly. */
    if (fresh->expiration != 0 && fresh->expiration <= now) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               "%s: the credentials it returned expired %lld seconds ago",
                               fresh->provider, (long long)(now - fresh->expiration));
        acmpca_credentials_free(fresh);
        return rc;
    }
    *out = fresh;
    return 0;
}

/* How long the machine refreshing by steps may stay away before another takes over. */
#define LEASE_GRACE_MS 1000

static int64_t lease_ms(const acmpca__fetch_log *log)
{
    const acmpca__fetch_entry *e;
    int64_t ms = 10000;
    if (log->wait_ms)
        return log->wait_ms + LEASE_GRACE_MS;
    if (log->pending && log->count) {
        e = &log->entries[log->count - 1];
        ms = e->req ? e->opts.connect_timeout_ms + e->opts.read_timeout_ms : e->pause_ms;
        if (ms <= 0)
            ms = 10000;
    }
    return ms + LEASE_GRACE_MS;
}

/* Another machine refreshes `p` by steps and has not lost its lease. */
static int stepping_other(const acmpca_credentials_provider *p, const acmpca__fetch_log *log)
{
    return p->step_owner && p->step_owner != log && acmpca__now_ms() < p->step_lease_ms;
}

/* A refresh by steps is in flight: `log` waits for an exchange, or for another machine. */
static int in_flight(const acmpca__fetch_log *log)
{
    return log && (log->pending || log->wait_ms);
}

/*
 * `log` (a machine refreshing by steps) owns the refresh of `p` until it ends
 * or the machine lets go (acmpca__fetch_log_clear). Without room to remember
 * it, only the lease ends it.
 */
static void claim(acmpca_credentials_provider *p, acmpca__fetch_log *log)
{
    size_t i;
    for (i = 0; i < log->owned && log->owns[i] != p; i++)
        ;
    if (i == log->owned && log->owned < ACMPCA__FETCH_OWNS_MAX)
        log->owns[log->owned++] = acmpca_credentials_provider_ref(p);
    p->step_owner = log;
    p->step_lease_ms = acmpca__now_ms() + lease_ms(log);
}

/* A machine's turn to wait: a short SLEEP step, growing to 50 ms. */
static int wait_for_other(acmpca_credentials_provider *p, acmpca__fetch_log *log)
{
    if (log->waiting_on != p) {
        log->waiting_on = p;
        log->wait_gen = p->generation;
        log->waits = 0;
    }
    log->wait_ms = log->waits < 4 ? 5L << log->waits : 50;
    log->waits++;
    return acmpca__error_set(ACMPCA__EWAIT, "fetching credentials: another call is fetching "
                             "them");
}

/*
 * The cache. Credentials are served while they have more than
 * REFRESH_BEFORE_S left; then one caller fetches while the others wait (or,
 * when the old credentials are still good for a while, use those). A failed
 * refresh keeps the old credentials while they have more than
 * KEEP_ON_FAILURE_S left. *out is a shared entry (acmpca__credentials_release).
 *
 * Callers are threads (which block while another fetches) and call machines
 * refreshing by steps (tls_fetch_log; they never block: they are told to
 * sleep and ask again). A machine waiting for another's refresh by steps
 * gets its outcome: the new credentials, or the same error.
 */
static int provider_get(acmpca_credentials_provider *p, int64_t now,
                        acmpca_credentials **out, char *why, size_t why_len)
{
    acmpca__fetch_log *log = tls_fetch_log;
    acmpca_credentials *fresh = NULL;
    int rc, busy;

    why[0] = '\0';
    *out = NULL;
    provider_after_fork(p);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        acmpca_credentials *c = p->cached;
        busy = p->fetching || stepping_other(p, log);
        if (c && (!needs_refresh(c, now) || (busy && still_usable(c, now)))) {
            *out = share_ref(c);
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
        if (log && log->waiting_on == p && log->wait_gen != p->generation) {
            /* The refresh this machine waited for has ended. */
            log->waiting_on = NULL;
            if (c && (p->last_rc == 0 || still_usable(c, now))) {
                *out = share_ref(c);
                pthread_mutex_unlock(&p->lock);
                return 0;
            }
            if (p->last_rc != 0 && p->last_error) {
                acmpca__error_restore(p->last_error);
                snprintf(why, why_len, "%s", p->last_why);
                rc = p->last_rc;
                pthread_mutex_unlock(&p->lock);
                return rc;
            }
        }
        if (!busy)
            break;
        if (log) {
            rc = wait_for_other(p, log);
            pthread_mutex_unlock(&p->lock);
            return rc;
        }
        if (p->fetching) {
            pthread_cond_wait(&p->fetched, &p->lock);
        } else {
            /* A machine's refresh: its end is signalled too, but its lease
             * runs out without a signal. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 20 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->fetched, &p->lock, &until);
        }
    }
    /* While it runs, `fetching` holds the others; a machine's refresh that
     * goes on over more steps is then held by its ownership (claim()). */
    p->fetching = 1;
    if (log)
        log->waiting_on = NULL;
    if (p->step_owner != log)
        p->step_owner = NULL; /* a machine's refresh whose lease ran out */
    pthread_mutex_unlock(&p->lock);

    rc = provider_fetch(p, now, &fresh, why, why_len);

    pthread_mutex_lock(&p->lock);
    p->fetching = 0;
    pthread_cond_broadcast(&p->fetched);
    if (in_flight(log)) {
        /* Not over: the machine comes back with the answer (or after its sleep). */
        claim(p, log);
        pthread_mutex_unlock(&p->lock);
        acmpca_credentials_free(fresh);
        return rc ? rc : pending();
    }
    if (log && p->step_owner == log)
        p->step_owner = NULL;
    p->generation++;
    if (rc == 0)
        rc = share(&fresh);
    p->last_rc = rc;
    if (rc == 0) {
        acmpca__credentials_release(p->cached);
        p->cached = fresh;
        *out = share_ref(fresh);
    } else {
        if (p->last_error || (p->last_error = malloc(sizeof(*p->last_error))) != NULL)
            acmpca__error_save(p->last_error);
        snprintf(p->last_why, sizeof(p->last_why), "%s", why);
        if (p->cached && still_usable(p->cached, now)) {
            /* The failure stays readable in acmpca_error_last() for debugging. */
            *out = share_ref(p->cached);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int acmpca__credentials_get_shared(acmpca_credentials_provider *p,
                                   const acmpca_credentials **out)
{
    char why[WHY_LEN];
    acmpca_credentials *c = NULL;
    int rc = provider_get(p, clock_now(p, 0), &c, why, sizeof(why));
    *out = c;
    return rc;
}

int acmpca_credentials_get(acmpca_credentials_provider *p, int64_t now,
                           acmpca_credentials **out)
{
    char why[WHY_LEN];
    acmpca_credentials *shared = NULL;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_get: out is NULL");
    *out = NULL;
    if (!p)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_get: provider is NULL");
    if ((rc = provider_get(p, clock_now(p, now), &shared, why, sizeof(why))) == 0) {
        rc = credentials_copy(shared, out);
        acmpca__credentials_release(shared);
    }
    return rc;
}

int acmpca_credentials_provider_cached(acmpca_credentials_provider *p, int64_t now,
                                       acmpca_credentials **out)
{
    int rc = ACMPCA_ENOCREDENTIALS;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_cached: out is NULL");
    *out = NULL;
    if (!p)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_cached: provider is NULL");
    now = clock_now(p, now);
    provider_after_fork(p);
    pthread_mutex_lock(&p->lock);
    if (p->cached && !needs_refresh(p->cached, now))
        rc = credentials_copy(p->cached, out);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int acmpca_credentials_provider_prime(acmpca_credentials_provider *p, int64_t now,
                                      const acmpca_credentials *c)
{
    acmpca_credentials *copy = NULL;
    int rc;

    if (!p || !c || !c->access_key_id || !c->secret_access_key)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_prime: provider "
                                                "and credentials with both keys required");
    now = clock_now(p, now);
    /* Only what the cache would serve without a refresh is worth taking. */
    if (c->expiration == 0 || needs_refresh(c, now))
        return ACMPCA_ENOCREDENTIALS;
    if (acmpca__has_ctl_char(c->access_key_id) || acmpca__has_ctl_char(c->secret_access_key) ||
        (c->session_token && acmpca__has_ctl_char(c->session_token)))
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_prime: a control "
                                                "character in the credentials");
    if ((rc = credentials_copy(c, &copy)) != 0 || (rc = share(&copy)) != 0)
        return rc;
    provider_after_fork(p);
    pthread_mutex_lock(&p->lock);
    if (!p->cached || (p->cached->expiration != 0 && p->cached->expiration < c->expiration)) {
        acmpca__credentials_release(p->cached);
        p->cached = copy;
        copy = NULL;
    } else {
        rc = ACMPCA_ENOCREDENTIALS;
    }
    pthread_mutex_unlock(&p->lock);
    acmpca__credentials_release(copy);
    return rc;
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
int acmpca__parse_iso8601(const char *s, int64_t *out)
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
    *out = acmpca__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
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
    if (exp_text && acmpca__parse_iso8601(exp_text, &exp) != 0)
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

int acmpca__file_provider_new(acmpca_credentials_provider **out, const char *profile,
                              int is_config)
{
    return file_provider_new(out, profile, is_config);
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
        acmpca_credentials *shared = NULL;
        rc = provider_get(m, now, &shared, member_why, sizeof(member_why));
        if (rc == 0) {
            rc = credentials_copy(shared, out);
            acmpca__credentials_release(shared);
            goto done;
        }
        if (in_flight(tls_fetch_log))
            goto done; /* the member waits for an exchange: the next ones must not answer */
        if (rc != ACMPCA_ENOCREDENTIALS) {
            /* Built-in providers already start their messages with their name. */
            const char *msg = acmpca_error_last()->message;
            size_t n = strlen(m->name);
            if (strncmp(msg, m->name, n) != 0 || strncmp(msg + n, ": ", 2) != 0)
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

int acmpca__provider_chain_new(acmpca_credentials_provider **out, const char *name,
                               acmpca_credentials_provider **providers, size_t count,
                               int64_t (*now)(void *userdata), void *now_userdata)
{
    int rc = chain_new(out, name, providers, count);
    if (rc == 0) {
        (*out)->now = now;
        (*out)->now_userdata = now_userdata;
    }
    return rc;
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

/* ---- options and the profile view of the shared files ------------------ */

int acmpca__cred_opts_init(acmpca__cred_opts *o, const acmpca_credentials_options *opts,
                           const char *profile, const char *who)
{
    memset(o, 0, sizeof(*o));
    if (opts && opts->version != ACMPCA_CREDENTIALS_OPTIONS_VERSION)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "%s: options.version is %u; initialise the options with "
                                 "ACMPCA_CREDENTIALS_OPTIONS_INIT", who, opts->version);
    if (opts && (opts->metadata_timeout_ms < 0 || opts->metadata_attempts < 0 ||
                 opts->process_timeout_ms < 0))
        return acmpca__error_set(ACMPCA_EINVAL, "%s: negative timeout or attempt count", who);
    if (!profile || !*profile)
        profile = opts && opts->profile && *opts->profile ? opts->profile : NULL;
    if (!profile)
        profile = acmpca__getenv("AWS_PROFILE");
    if (!(o->profile = acmpca__strdup(profile ? profile : "default")))
        return ACMPCA_ENOMEM;
    if (opts) {
        o->now = opts->now;
        o->now_userdata = opts->now_userdata;
        o->metadata_timeout_ms = opts->metadata_timeout_ms;
        o->metadata_attempts = opts->metadata_attempts;
        o->process_timeout_ms = opts->process_timeout_ms;
        if ((opts->region && *opts->region && !(o->region = acmpca__strdup(opts->region))) ||
            (opts->ca_bundle && *opts->ca_bundle &&
             !(o->ca_bundle = acmpca__strdup(opts->ca_bundle)))) {
            acmpca__cred_opts_clear(o);
            return ACMPCA_ENOMEM;
        }
    }
    return 0;
}

void acmpca__cred_opts_public(const acmpca__cred_opts *o, acmpca_credentials_options *out)
{
    const acmpca_credentials_options init = ACMPCA_CREDENTIALS_OPTIONS_INIT;

    *out = init;
    out->profile = o->profile;
    out->region = o->region;
    out->now = o->now;
    out->now_userdata = o->now_userdata;
    out->metadata_timeout_ms = o->metadata_timeout_ms;
    out->metadata_attempts = o->metadata_attempts;
    out->process_timeout_ms = o->process_timeout_ms;
    out->ca_bundle = o->ca_bundle;
}

int acmpca__cred_opts_copy(acmpca__cred_opts *dst, const acmpca__cred_opts *src,
                           const char *profile)
{
    acmpca_credentials_options pub;

    acmpca__cred_opts_public(src, &pub);
    return acmpca__cred_opts_init(dst, &pub, profile ? profile : src->profile, "credentials");
}

void acmpca__cred_opts_clear(acmpca__cred_opts *o)
{
    free(o->profile);
    free(o->region);
    free(o->ca_bundle);
    memset(o, 0, sizeof(*o));
}

int64_t acmpca__cred_now(const acmpca__cred_opts *o)
{
    return o && o->now ? o->now(o->now_userdata) : (int64_t)time(NULL);
}

int acmpca__profiles_load(acmpca__profiles *pf)
{
    int rc;

    memset(pf, 0, sizeof(*pf));
    if (!(pf->config_path = acmpca__config_file_path()) ||
        !(pf->credentials_path = acmpca__credentials_file_path())) {
        rc = ACMPCA_ENOMEM;
        goto fail;
    }
    if ((rc = acmpca__ini_load(&pf->credentials, pf->credentials_path, 0)) != 0 ||
        (rc = acmpca__ini_load(&pf->config, pf->config_path, 1)) != 0)
        goto fail;
    return 0;
fail:
    acmpca__profiles_clear(pf);
    return rc;
}

void acmpca__profiles_clear(acmpca__profiles *pf)
{
    free(pf->config_path);
    free(pf->credentials_path);
    acmpca__ini_free(pf->config);
    acmpca__ini_free(pf->credentials);
    memset(pf, 0, sizeof(*pf));
}

const char *acmpca__profiles_get(const acmpca__profiles *pf, const char *profile,
                                 const char *key)
{
    const char *v = acmpca__ini_get(pf->credentials, profile, key);
    if (!v || !*v)
        v = acmpca__ini_get(pf->config, profile, key);
    return v && *v ? v : NULL;
}

const char *acmpca__profiles_section_get(const acmpca__profiles *pf, const char *section,
                                         const char *key)
{
    const char *v = acmpca__ini_get(pf->config, section, key);
    return v && *v ? v : NULL;
}

int acmpca__profiles_has(const acmpca__profiles *pf, const char *profile)
{
    return acmpca__ini_has_profile(pf->credentials, profile) ||
           acmpca__ini_has_profile(pf->config, profile);
}

const char *acmpca__json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static void json_wipe(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
        json_wipe(j->child);
    }
}

void acmpca__json_delete_secret(cJSON *json)
{
    if (json) {
        json_wipe(json->child);
        if (json->valuestring)
            OPENSSL_cleanse(json->valuestring, strlen(json->valuestring));
        cJSON_Delete(json);
    }
}

void acmpca__printable(char *dst, size_t dst_len, const char *src, size_t src_len)
{
    size_t i, n = 0;

    if (!dst_len)
        return;
    /* Keep whole lines readable: trailing newlines are dropped. */
    while (src_len && (src[src_len - 1] == '\n' || src[src_len - 1] == '\r' ||
                       src[src_len - 1] == ' '))
        src_len--;
    for (i = 0; i < src_len && n + 1 < dst_len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    dst[n] = '\0';
    if (i < src_len && dst_len > 4)
        memcpy(dst + (n > dst_len - 4 ? dst_len - 4 : n), "...", 4);
}

/* ---- credential_process ---------------------------------------------------- */

#define PROCESS_NAME "credential-process"
#define PROCESS_MAX_STDOUT ((size_t)64 * 1024)
#define PROCESS_MAX_STDERR ((size_t)512)
#define PROCESS_DEFAULT_TIMEOUT_MS 60000L
#define PROCESS_MAX_ARGS 256

typedef struct process_source {
    char *command;              /* NULL: the profile's credential_process */
    acmpca__cred_opts opts;
} process_source;

static void process_source_destroy(void *ctx)
{
    process_source *ps = ctx;
    if (ps) {
        acmpca__free_secret(ps->command);
        acmpca__cred_opts_clear(&ps->opts);
        free(ps);
    }
}

void acmpca__free_argv(char **argv)
{
    size_t i;
    for (i = 0; argv && argv[i]; i++)
        acmpca__free_secret(argv[i]);
    free(argv);
}

/*
 * Split a command line as Python's shlex.split (POSIX mode), as botocore
 * does: whitespace separates words; '...' is literal; in "..." a backslash
 * escapes only '"' and '\'; elsewhere a backslash escapes any character.
 * Nothing else is special: no variables, globs, pipes or redirections.
 */
int acmpca__split_command(const char *line, char ***out)
{
    char **argv = NULL;
    size_t argc = 0;
    acmpca_buf word = {0};
    const char *p = line;
    int in_word = 0, rc = 0;

    *out = NULL;
    word.secret = 1;    /* an argument may be a password */
    if (!(argv = calloc(PROCESS_MAX_ARGS + 1, sizeof(*argv))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    for (;;) {
        char c = *p;
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) {
                if (argc == PROCESS_MAX_ARGS) {
                    rc = acmpca__error_set(ACMPCA_ELIMIT,
                                           PROCESS_NAME ": the command has more than %d words",
                                           PROCESS_MAX_ARGS);
                    goto fail;
                }
                if (!(argv[argc] = acmpca__buf_detach(&word))) {
                    rc = ACMPCA_ENOMEM;
                    goto fail;
                }
                argc++;
                in_word = 0;
            }
            if (c == '\0')
                break;
            p++;
            continue;
        }
        in_word = 1;
        if (c == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) {
                rc = acmpca__error_set(ACMPCA_ECONFIG, PROCESS_NAME ": the command line has "
                                       "no closing quotation (')");
                goto fail;
            }
            if ((rc = acmpca__buf_append(&word, p + 1, (size_t)(end - p - 1))) != 0)
                goto fail;
            p = end + 1;
        } else if (c == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                if ((rc = acmpca__buf_append(&word, p, 1)) != 0)
                    goto fail;
            }
            if (!*p) {
                rc = acmpca__error_set(ACMPCA_ECONFIG, PROCESS_NAME ": the command line has "
                                       "no closing quotation (\")");
                goto fail;
            }
            p++;
        } else if (c == '\\') {
            if (!p[1]) {
                rc = acmpca__error_set(ACMPCA_ECONFIG, PROCESS_NAME ": the command line ends "
                                       "with a lone backslash");
                goto fail;
            }
            if ((rc = acmpca__buf_append(&word, p + 1, 1)) != 0)
                goto fail;
            p += 2;
        } else {
            if ((rc = acmpca__buf_append(&word, p, 1)) != 0)
                goto fail;
            p++;
        }
        /* An empty quoted word ('' or "") is still a word. */
        if (!word.ptr && (rc = acmpca__buf_append(&word, "", 0)) != 0)
            goto fail;
    }
    if (argc == 0) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, PROCESS_NAME ": the command is empty");
        goto fail;
    }
    *out = argv;
    return 0;
fail:
    acmpca__buf_free_secret(&word);
    acmpca__free_argv(argv);
    return rc;
}

static const char *spawn_error_text(int err)
{
    switch (err) {
    case ENOENT: return "no such file or not found in PATH";
    case EACCES: return "permission denied";
    case ENOEXEC: return "not an executable format";
    case ENOMEM: return "out of memory";
    case E2BIG: return "argument list too long";
    default: return "cannot be started";
    }
}

static int make_pipe(int fds[2])
{
#if defined(__linux__)
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run argv (no shell) and collect stdout (at most PROCESS_MAX_STDOUT) and the
 * start of stderr, both read as they come so that the child never blocks on
 * a full pipe. *status is waitpid's status. The child leads a process group
 * of its own, so that a kill also reaches what it started (a shell script's
 * background jobs), which would otherwise outlive it.
 */
static int run_process(char *const argv[], long timeout_ms, acmpca_buf *out, acmpca_buf *err,
                       int *status)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_ready = 0, attr_ready = 0, rc = 0, too_large = 0, timed_out = 0;
    pid_t pid = -1;
    int64_t deadline = mono_ms() + timeout_ms;

    *status = 0;
    if (make_pipe(outp) != 0 || make_pipe(errp) != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, PROCESS_NAME ": cannot create a pipe");
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto done;
    }
    fa_ready = 1;
    if (posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO) != 0) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto done;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto done;
    }
    attr_ready = 1;
    if (posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP) != 0 ||
        posix_spawnattr_setpgroup(&attr, 0) != 0) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, PROCESS_NAME ": cannot set up a process "
                               "group");
        goto done;
    }
    if ((rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ)) != 0) {
        pid = -1;
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS, PROCESS_NAME ": cannot run \"%.200s\": %s",
                               argv[0], spawn_error_text(rc));
        goto done;
    }
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;

    while (outp[0] >= 0 || errp[0] >= 0) {
        struct pollfd fds[2];
        nfds_t n = 0;
        int64_t left = deadline - mono_ms();
        int r, i;

        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (outp[0] >= 0) {
            fds[n].fd = outp[0];
            fds[n++].events = POLLIN;
        }
        if (errp[0] >= 0) {
            fds[n].fd = errp[0];
            fds[n++].events = POLLIN;
        }
        r = poll(fds, n, left > 1000 ? 1000 : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = acmpca__error_set(ACMPCA_ECREDENTIALS, PROCESS_NAME ": poll failed");
            break;
        }
        for (i = 0; i < (int)n; i++) {
            char chunk[4096];
            ssize_t got;
            int is_out = fds[i].fd == outp[0];

            if (!fds[i].revents)
                continue;
            got = read(fds[i].fd, chunk, sizeof(chunk));
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0) {
                close(fds[i].fd);
                if (is_out)
                    outp[0] = -1;
                else
                    errp[0] = -1;
                continue;
            }
            if (is_out) {
                if (out->len + (size_t)got > PROCESS_MAX_STDOUT) {
                    too_large = 1;
                } else if ((rc = acmpca__buf_append(out, chunk, (size_t)got)) != 0) {
                    OPENSSL_cleanse(chunk, sizeof(chunk));
                    goto done;
                }
                OPENSSL_cleanse(chunk, sizeof(chunk));
            } else if (err->len < PROCESS_MAX_STDERR) {
                size_t take = (size_t)got;
                if (take > PROCESS_MAX_STDERR + 1 - err->len)
                    take = PROCESS_MAX_STDERR + 1 - err->len;  /* one more marks truncation */
                if ((rc = acmpca__buf_append(err, chunk, take)) != 0)
                    goto done;
            }
        }
        if (too_large || rc)
            break;
    }
    if (too_large || timed_out || rc)
        kill(-pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            *status = 0;    /* SIGCHLD ignored by the application: status unknown */
            break;
        }
    }
    pid = -1;
    if (rc)
        goto done;
    if (too_large)
        rc = acmpca__error_set(ACMPCA_ELIMIT,
                               PROCESS_NAME ": the output of \"%.200s\" is larger than the "
                               "%zu-byte limit", argv[0], PROCESS_MAX_STDOUT);
    else if (timed_out)
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               PROCESS_NAME ": \"%.200s\" did not finish within %ld ms and was "
                               "killed", argv[0], timeout_ms);
done:
    if (pid > 0) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
            ;
    }
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ready)
        posix_spawnattr_destroy(&attr);
    if (outp[0] >= 0) close(outp[0]);
    if (outp[1] >= 0) close(outp[1]);
    if (errp[0] >= 0) close(errp[0]);
    if (errp[1] >= 0) close(errp[1]);
    return rc;
}

/* The process's JSON (Version 1) into credentials. */
int acmpca__credentials_from_json(const cJSON *json, const char *provider, const char *what,
                                  const char *token_key, acmpca_credentials **out)
{
    const char *id = acmpca__json_string(json, "AccessKeyId");
    const char *secret = acmpca__json_string(json, "SecretAccessKey");
    const char *exp_text = acmpca__json_string(json, "Expiration");
    int64_t exp = 0;

    if (!id || !*id || !secret || !*secret)
        return acmpca__error_set(ACMPCA_ECREDENTIALS, "%s: %s has no %s", provider, what,
                                 !id || !*id ? "AccessKeyId" : "SecretAccessKey");
    if (exp_text && acmpca__parse_iso8601(exp_text, &exp) != 0)
        return acmpca__error_set(ACMPCA_ECREDENTIALS,
                                 "%s: %s has Expiration \"%.64s\", which is not an ISO 8601 time",
                                 provider, what, exp_text);
    return acmpca_credentials_new(out, id, secret, acmpca__json_string(json, token_key), exp,
                                  provider);
}

static int process_parse(const char *program, const acmpca_buf *text, acmpca_credentials **out)
{
    cJSON *json = NULL;
    const cJSON *version;
    const char *end = NULL;
    char what[256];
    int rc;

    json = cJSON_ParseWithLengthOpts(text->ptr ? text->ptr : "", text->len, &end, 0);
    if (!cJSON_IsObject(json)) {
        /* Never quoted: the output may hold the secret. */
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               PROCESS_NAME ": the output of \"%.200s\" is not a JSON object "
                               "(%zu bytes%s)", program, text->len,
                               json ? "" : ", invalid JSON");
        goto done;
    }
    version = cJSON_GetObjectItemCaseSensitive(json, "Version");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
        rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                               PROCESS_NAME ": the output of \"%.200s\" has %s; only Version 1 "
                               "is supported", program,
                               cJSON_IsNumber(version) ? "an unsupported Version"
                                                       : "no numeric Version");
        goto done;
    }
    snprintf(what, sizeof(what), "the output of \"%.200s\"", program);
    rc = acmpca__credentials_from_json(json, PROCESS_NAME, what, "SessionToken", out);
done:
    acmpca__json_delete_secret(json);
    return rc;
}

static int process_fetch(void *ctx, acmpca_credentials **out, char *why, size_t why_len)
{
    process_source *ps = ctx;
    acmpca__profiles pf = {0};
    acmpca_buf so = {0}, se = {0};
    const char *command = ps->command;
    char **argv = NULL;
    int loaded = 0, status = 0, rc;

    so.secret = 1;
    if (!command) {
        if ((rc = acmpca__profiles_load(&pf)) != 0)
            return rc;
        loaded = 1;
        if (!(command = acmpca__profiles_get(&pf, ps->opts.profile, "credential_process"))) {
            snprintf(why, why_len, "no credential_process in profile \"%s\"", ps->opts.profile);
            rc = ACMPCA_ENOCREDENTIALS;
            goto done;
        }
    }
    if ((rc = acmpca__split_command(command, &argv)) != 0)
        goto done;
    if ((rc = run_process(argv, ps->opts.process_timeout_ms ? ps->opts.process_timeout_ms
                                                            : PROCESS_DEFAULT_TIMEOUT_MS,
                          &so, &se, &status)) != 0)
        goto done;
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
        char text[PROCESS_MAX_STDERR + 1];
        acmpca__printable(text, sizeof(text), se.ptr ? se.ptr : "", se.len);
        if (WIFSIGNALED(status))
            rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                                   PROCESS_NAME ": \"%.200s\" was killed by signal %d%s%s",
                                   argv[0], WTERMSIG(status), text[0] ? "; stderr: " : "", text);
        else
            rc = acmpca__error_set(ACMPCA_ECREDENTIALS,
                                   PROCESS_NAME ": \"%.200s\" exited with status %d%s%s",
                                   argv[0], WEXITSTATUS(status),
                                   text[0] ? "; stderr: " : " (nothing on stderr)", text);
        goto done;
    }
    rc = process_parse(argv[0], &so, out);
done:
    acmpca__free_argv(argv);
    acmpca__buf_free_secret(&so);
    acmpca__buf_free(&se);
    if (loaded)
        acmpca__profiles_clear(&pf);
    return rc;
}

int acmpca_credentials_provider_process(acmpca_credentials_provider **out, const char *command,
                                        const acmpca_credentials_options *opts)
{
    process_source *ps;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_process: out is NULL");
    *out = NULL;
    if (!(ps = calloc(1, sizeof(*ps))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if ((rc = acmpca__cred_opts_init(&ps->opts, opts, NULL,
                                     "acmpca_credentials_provider_process")) != 0 ||
        (command && *command && !(ps->command = acmpca__strdup(command)))) {
        process_source_destroy(ps);
        return rc ? rc : ACMPCA_ENOMEM;
    }
    if ((rc = acmpca__provider_new(out, PROCESS_NAME, process_fetch, process_source_destroy, ps,
                                   &ps->opts)) != 0)
        process_source_destroy(ps);
    return rc;
}

/* ---- fetching by steps (see credentials_internal.h) ---------------------------- */

#define FETCH_LOG_MAX 32   /* exchanges in one refresh; IMDSv2 with retries needs ~10 */


static void entry_clear(acmpca__fetch_entry *e)
{
    acmpca_http_request_free(e->req); /* wipes header values: IMDS tokens, signatures */
    free((char *)e->opts.ca_bundle);
    acmpca__http_response_clear(&e->resp);
    if (e->error)
        OPENSSL_cleanse(e->error, sizeof(*e->error));
    free(e->error);
    memset(e, 0, sizeof(*e));
}

static void entries_clear(acmpca__fetch_log *log)
{
    size_t i;
    for (i = 0; i < log->count; i++)
        entry_clear(&log->entries[i]);
    free(log->entries);
    log->entries = NULL;
    log->count = log->cap = log->cursor = 0;
    log->pending = 0;
}

void acmpca__fetch_log_clear(acmpca__fetch_log *log)
{
    size_t i;
    /* A refresh this machine still owns is given up: the next machine takes over. */
    for (i = 0; i < log->owned; i++) {
        acmpca_credentials_provider *p = log->owns[i];
        provider_after_fork(p);
        pthread_mutex_lock(&p->lock);
        if (p->step_owner == log) {
            p->step_owner = NULL;
            pthread_cond_broadcast(&p->fetched);
        }
        pthread_mutex_unlock(&p->lock);
        acmpca_credentials_provider_unref(p);
    }
    entries_clear(log);
    memset(log, 0, sizeof(*log));
}

int acmpca__fetch_logging(void)
{
    return tls_fetch_log != NULL;
}

static int pending(void)
{
    return acmpca__error_set(ACMPCA__EPENDING, "fetching credentials: waiting for an exchange");
}

/* The next entry: replayed (1), newly appended and now pending (0), or an error. */
static int next_entry(acmpca__fetch_log *log, acmpca__fetch_entry **out)
{
    acmpca__fetch_entry *grown;

    if (log->pending)
        return pending();
    if (log->cursor < log->count) {
        *out = &log->entries[log->cursor++];
        return 1;
    }
    if (log->count == FETCH_LOG_MAX)
        return acmpca__error_set(ACMPCA_ELIMIT, "fetching credentials took more than %d "
                                 "exchanges", FETCH_LOG_MAX);
    if (log->count == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 4;
        if (!(grown = realloc(log->entries, cap * sizeof(*grown))))
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        log->entries = grown;
        log->cap = cap;
    }
    *out = &log->entries[log->count++];
    memset(*out, 0, sizeof(**out));
    log->cursor++;
    log->pending = 1;
    return 0;
}

static int copy_request(const acmpca_http_request *src, acmpca_http_request **out)
{
    acmpca_http_request *r = calloc(1, sizeof(*r));
    size_t i;

    if (!r || !(r->headers = calloc(src->header_count + 1, sizeof(*r->headers))))
        goto nomem;
    r->method = acmpca__strdup(src->method);
    r->url = acmpca__strdup(src->url);
    r->body = malloc(src->body_len + 1);
    if (!r->method || !r->url || !r->body)
        goto nomem;
    memcpy(r->body, src->body ? src->body : "", src->body_len);
    r->body[src->body_len] = '\0';
    r->body_len = src->body_len;
    for (i = 0; i < src->header_count; i++, r->header_count++) {
        r->headers[i].name = acmpca__strdup(src->headers[i].name);
        r->headers[i].value = acmpca__strdup(src->headers[i].value);
        if (!r->headers[i].name || !r->headers[i].value) {
            r->header_count++;
            goto nomem;
        }
    }
    *out = r;
    return 0;
nomem:
    acmpca_http_request_free(r);
    return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
}

static int copy_response(const acmpca_http_response *src, acmpca_http_response *dst)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    dst->status = src->status;
    dst->body.secret = 1;
    if (acmpca__buf_append(&dst->body, src->body.ptr ? src->body.ptr : "", src->body.len) != 0 ||
        (src->header_count && !(dst->headers = calloc(src->header_count, sizeof(*dst->headers)))))
        goto nomem;
    for (i = 0; i < src->header_count; i++, dst->header_count++) {
        dst->headers[i].name = acmpca__strdup(src->headers[i].name);
        dst->headers[i].value = acmpca__strdup(src->headers[i].value);
        if (!dst->headers[i].name || !dst->headers[i].value) {
            dst->header_count++;
            goto nomem;
        }
    }
    return 0;
nomem:
    acmpca__http_response_clear(dst);
    return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
}

static int diverged(void)
{
    return acmpca__error_set(ACMPCA_ECREDENTIALS, "fetching credentials: the refresh asked for "
                             "other exchanges than the last time");
}

int acmpca__fetch_exchange(const acmpca_transport_options *opts, const acmpca_http_request *req,
                           acmpca_http_response *resp)
{
    acmpca__fetch_entry *e = NULL;
    int rc = next_entry(tls_fetch_log, &e);

    if (rc < 0)
        return rc;
    if (rc == 1) { /* replay */
        if (!e->req)
            return diverged();
        if (e->err) {
            acmpca__error_restore(e->error);
            return e->err;
        }
        return copy_response(&e->resp, resp);
    }
    e->opts = *opts;
    e->opts.user_agent = NULL;
    e->opts.ca_bundle = NULL;
    if ((rc = copy_request(req, &e->req)) != 0 ||
        (opts->ca_bundle && !(e->opts.ca_bundle = acmpca__strdup(opts->ca_bundle)))) {
        tls_fetch_log->count--;
        tls_fetch_log->pending = 0;
        entry_clear(e);
        return rc ? rc : acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    return pending();
}

int acmpca__fetch_pause(long ms)
{
    acmpca__fetch_entry *e = NULL;
    int rc = next_entry(tls_fetch_log, &e);

    if (rc < 0)
        return rc;
    if (rc == 1)
        return e->req ? diverged() : 0;
    e->pause_ms = ms > 0 ? ms : 1;
    return pending();
}

int acmpca__credentials_get_logged(acmpca_credentials_provider *p, acmpca__fetch_log *log,
                                   const acmpca_credentials **out)
{
    acmpca__fetch_log *outer = tls_fetch_log;
    acmpca_credentials *c = NULL;
    char why[WHY_LEN];
    int rc;

    *out = NULL;
    if (log->pending)
        return acmpca__error_set(ACMPCA_EINVAL, "fetching credentials: the pending exchange "
                                 "has no outcome yet");
    log->cursor = 0;
    log->wait_ms = 0;
    tls_fetch_log = log;
    rc = provider_get(p, clock_now(p, 0), &c, why, sizeof(why));
    tls_fetch_log = outer;
    if (log->pending) {
        acmpca__credentials_release(c);
        return pending();
    }
    if (log->wait_ms) {
        /* Its refresh is another machine's now: what this one sent is of no more use. */
        acmpca__credentials_release(c);
        entries_clear(log);
        return acmpca__error_set(ACMPCA__EWAIT, "fetching credentials: another call is "
                                 "fetching them");
    }
    *out = c;
    return rc;
}

const acmpca_http_request *acmpca__fetch_log_pending(const acmpca__fetch_log *log,
                                                     const acmpca_transport_options **opts,
                                                     long *pause_ms)
{
    const acmpca__fetch_entry *e;
    *opts = NULL;
    *pause_ms = 0;
    if (!log->pending)
        return NULL;
    e = &log->entries[log->count - 1];
    *opts = &e->opts;
    *pause_ms = e->pause_ms;
    return e->req;
}

static acmpca__fetch_entry *waiting_entry(acmpca__fetch_log *log)
{
    if (!log->pending) {
        acmpca__error_set(ACMPCA_EINVAL, "fetching credentials: no exchange is pending");
        return NULL;
    }
    log->pending = 0;
    return &log->entries[log->count - 1];
}

int acmpca__fetch_log_answer(acmpca__fetch_log *log, acmpca_http_response *resp)
{
    acmpca__fetch_entry *e = waiting_entry(log);
    if (!e) {
        acmpca__http_response_clear(resp);
        return ACMPCA_EINVAL;
    }
    e->resp = *resp;
    e->resp.body.secret = 1;
    memset(resp, 0, sizeof(*resp));
    e->answered = 1;
    return 0;
}

int acmpca__fetch_log_failure(acmpca__fetch_log *log)
{
    int code = acmpca_error_last()->code;
    acmpca__fetch_entry *e = waiting_entry(log);
    if (!e)
        return ACMPCA_EINVAL;
    if (!(e->error = malloc(sizeof(*e->error)))) {
        log->pending = 1;
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    acmpca__error_save(e->error);
    e->err = code ? code : ACMPCA_ENETWORK;
    e->answered = 1;
    return 0;
}

int acmpca__fetch_log_paused(acmpca__fetch_log *log)
{
    acmpca__fetch_entry *e = waiting_entry(log);
    if (!e)
        return ACMPCA_EINVAL;
    e->answered = 1;
    return 0;
}
