/*
 * curl_lazy.c - libcurl for the Python extension, loaded at the first
 * transfer rather than at `import acmpca`.
 *
 * Why: mapping libcurl and its ~30 dependencies (nghttp2, gnutls, krb5, ldap,
 * ssh2, ...) cost 5-7 ms, most of the import; a program that imports acmpca
 * for a client it may never call, its exceptions or its signer should not pay
 * it. The C library and the Lua module still link libcurl as usual.
 *
 * How: the extension is not linked against libcurl. acmpca/_curl<suffix>.so,
 * next to it (curl/curl_table.c), is: it exports one table of the libcurl
 * functions the core calls. A plain dlopen("libcurl.so.4") would load the
 * system's copy, outside the manylinux wheel; a shared object of the wheel
 * that names libcurl in DT_NEEDED gets the copy auditwheel bundles. The core
 * keeps calling curl_* names (transport.c, util.c): in this build they are
 * the trampolines below, hidden, through the table. One table rather than a
 * dlsym per function: one lookup, a layout checked by name and size, and
 * references that --as-needed cannot drop.
 *
 * The load happens once, under a lock (any thread may send first), at the
 * transport's first handle (acmpca__curl_load, which fails with a typed
 * error naming the file and dlerror()) or at the first trampoline called.
 * acmpca_global_init's curl_global_init_mem at import is recorded and
 * replayed by the load before any other libcurl call, so util.c's wiping
 * allocators are installed as before. As before too, they take effect only
 * if that is libcurl's first initialisation in the process: another module
 * using the same system libcurl (not a wheel's private copy) that
 * initialises it between the import and the first transfer keeps libcurl's
 * own allocators, as one initialising it before the import always did.
 */
#define _GNU_SOURCE /* dladdr */
#define CURL_DISABLE_TYPECHECK /* the trampolines define the names it wraps in macros */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "curl_lazy.h"
#include "internal.h"

#define OWN_NAME "_acmpca"
#define HELPER_NAME "_curl"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards the load and `init` */
static _Atomic(const acmpca_curl_table *) table;         /* set once the load succeeded */
static char helper[PATH_MAX];                            /* "" if it cannot be named */

/* curl_global_init(_mem) asked for before the load: the load replays it. */
static struct {
    int pending, with_allocators;
    long flags;
    curl_malloc_callback m;
    curl_free_callback f;
    curl_realloc_callback r;
    curl_strdup_callback s;
    curl_calloc_callback c;
} init;

/* A child forked during another thread's load must not inherit the lock held. */
static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork(void) { pthread_mutex_unlock(&lock); }

/*
 * The helper's path, from this object's own (dladdr), at dlopen time: a
 * relative sys.path entry gives a relative path, which a later chdir would
 * break. _acmpca.cpython-311-x86_64-linux-gnu.so -> _curl.cpython-311-...so
 * in the same directory.
 */
__attribute__((constructor)) static void curl_lazy_setup(void)
{
    Dl_info info;
    const char *base, *own;
    char cwd[PATH_MAX];
    int n = -1;

    pthread_atfork(before_fork, after_fork, after_fork);
    if (!dladdr((void *)curl_lazy_setup, &info) || !info.dli_fname)
        return;
    base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    if (!(own = strstr(base, OWN_NAME)))
        return;
    if (info.dli_fname[0] == '/')
        n = snprintf(helper, sizeof(helper), "%.*s%s%s", (int)(own - info.dli_fname),
                     info.dli_fname, HELPER_NAME, own + strlen(OWN_NAME));
    else if (getcwd(cwd, sizeof(cwd)))
        n = snprintf(helper, sizeof(helper), "%s/%.*s%s%s", cwd, (int)(own - info.dli_fname),
                     info.dli_fname, HELPER_NAME, own + strlen(OWN_NAME));
    if (n < 0 || (size_t)n >= sizeof(helper))
        helper[0] = '\0';
}

static int load(void)
{
    void *h = NULL;
    const acmpca_curl_table *t;
    int rc = 0;

    pthread_mutex_lock(&lock);
    if (atomic_load_explicit(&table, memory_order_relaxed))
        goto done;
    if (!helper[0]) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, "cannot load libcurl: the extension's own "
                               "file, whose name gives " HELPER_NAME "*.so's, is unknown");
        goto done;
    }
    if (!(h = dlopen(helper, RTLD_NOW | RTLD_LOCAL))) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, "cannot load libcurl through %s: %s", helper,
                               dlerror());
        goto done;
    }
    t = dlsym(h, ACMPCA_CURL_TABLE);
    if (!t || t->size != sizeof(*t)) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, "cannot load libcurl through %s: it has no "
                               ACMPCA_CURL_TABLE " of this build (reinstall acmpca)", helper);
        goto done;
    }
    if (init.pending &&
        (init.with_allocators
             ? t->global_init_mem(init.flags, init.m, init.f, init.r, init.s, init.c)
             : t->global_init(init.flags)) != CURLE_OK) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "curl_global_init failed");
        goto done;
    }
    init.pending = 0;
    h = NULL; /* kept loaded for the life of the process */
    atomic_store_explicit(&table, t, memory_order_release);
done:
    if (h)
        dlclose(h);
    pthread_mutex_unlock(&lock);
    return rc;
}

int acmpca__curl_load(void)
{
    return atomic_load_explicit(&table, memory_order_acquire) ? 0 : load();
}

/* The table, loading it first if need be; NULL if it cannot be loaded. */
static const acmpca_curl_table *api(void)
{
    const acmpca_curl_table *t = atomic_load_explicit(&table, memory_order_acquire);

    if (!t && load() == 0)
        t = atomic_load_explicit(&table, memory_order_acquire);
    return t;
}

/* ---- process-wide init: recorded until the load ------------------------- */

static CURLcode record_init(int with_allocators, long flags, curl_malloc_callback m,
                            curl_free_callback f, curl_realloc_callback r,
                            curl_strdup_callback s, curl_calloc_callback c)
{
    const acmpca_curl_table *t;
    CURLcode rc = CURLE_OK;

    pthread_mutex_lock(&lock);
    if ((t = atomic_load_explicit(&table, memory_order_relaxed)) != NULL)
        rc = with_allocators ? t->global_init_mem(flags, m, f, r, s, c) : t->global_init(flags);
    else {
        init.pending = 1;
        init.with_allocators = with_allocators;
        init.flags = flags;
        init.m = m;
        init.f = f;
        init.r = r;
        init.s = s;
        init.c = c;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

CURLcode curl_global_init(long flags)
{
    return record_init(0, flags, NULL, NULL, NULL, NULL, NULL);
}

CURLcode curl_global_init_mem(long flags, curl_malloc_callback m, curl_free_callback f,
                              curl_realloc_callback r, curl_strdup_callback s,
                              curl_calloc_callback c)
{
    return record_init(1, flags, m, f, r, s, c);
}

void curl_global_cleanup(void)
{
    const acmpca_curl_table *t;

    pthread_mutex_lock(&lock);
    if ((t = atomic_load_explicit(&table, memory_order_relaxed)) != NULL)
        t->global_cleanup();
    else
        init.pending = 0; /* never loaded: nothing to undo */
    pthread_mutex_unlock(&lock);
}

/* ---- the rest: straight through the table ------------------------------- */

curl_version_info_data *curl_version_info(CURLversion age)
{
    static curl_version_info_data unloaded = {.version = "unloaded"};
    const acmpca_curl_table *t = api();

    return t ? t->version_info(age) : &unloaded;
}

CURL *curl_easy_init(void)
{
    const acmpca_curl_table *t = api();

    return t ? t->easy_init() : NULL;
}

/*
 * A getinfo's or setopt's argument, passed on as the type it has: a pointer for
 * every CURLINFO_*; for a CURLOPT_*, the type its number says, as in libcurl's
 * setopt (a long, a curl_off_t, else a data, function or curl_blob pointer).
 */
static CURLcode easy_pass(CURL *e, int is_info, int code, va_list ap)
{
    const acmpca_curl_table *t = api();

    if (!t)
        return CURLE_FAILED_INIT;
    if (is_info)
        return t->easy_getinfo(e, (CURLINFO)code, va_arg(ap, void *));
    if (code < CURLOPTTYPE_OBJECTPOINT)
        return t->easy_setopt(e, (CURLoption)code, va_arg(ap, long));
    if (code >= CURLOPTTYPE_OFF_T && code < CURLOPTTYPE_OFF_T + 10000)
        return t->easy_setopt(e, (CURLoption)code, va_arg(ap, curl_off_t));
    return t->easy_setopt(e, (CURLoption)code, va_arg(ap, void *));
}

CURLcode curl_easy_setopt(CURL *e, CURLoption option, ...)
{
    CURLcode rc;
    va_list ap;

    va_start(ap, option);
    rc = easy_pass(e, 0, (int)option, ap);
    va_end(ap);
    return rc;
}

CURLcode curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
    CURLcode rc;
    va_list ap;

    va_start(ap, info);
    rc = easy_pass(e, 1, (int)info, ap);
    va_end(ap);
    return rc;
}

void curl_easy_cleanup(CURL *e)
{
    const acmpca_curl_table *t = api();

    if (t)
        t->easy_cleanup(e);
}

const char *curl_easy_strerror(CURLcode code)
{
    const acmpca_curl_table *t = api();

    return t ? t->easy_strerror(code) : "libcurl could not be loaded";
}

CURLcode curl_easy_perform(CURL *e)
{
    const acmpca_curl_table *t = api();

    return t ? t->easy_perform(e) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_send(CURL *e, const void *buffer, size_t buflen, size_t *n)
{
    const acmpca_curl_table *t = api();

    *n = 0;
    return t ? t->easy_send(e, buffer, buflen, n) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_recv(CURL *e, void *buffer, size_t buflen, size_t *n)
{
    const acmpca_curl_table *t = api();

    *n = 0;
    return t ? t->easy_recv(e, buffer, buflen, n) : CURLE_FAILED_INIT;
}

CURLM *curl_multi_init(void)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_init() : NULL;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *e)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_add_handle(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *e)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_remove_handle(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                          int timeout_ms, int *numfds)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_poll(m, extra_fds, extra_nfds, timeout_ms, numfds)
             : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *msgs_in_queue)
{
    const acmpca_curl_table *t = api();

    if (!t) {
        *msgs_in_queue = 0;
        return NULL;
    }
    return t->multi_info_read(m, msgs_in_queue);
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
    const acmpca_curl_table *t = api();

    return t ? t->multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}
