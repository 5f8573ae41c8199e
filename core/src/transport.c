/*
 * transport.c - libcurl transport. Each send takes a (multi, easy) pair from
 * a small pool; the multi handle owns the connection cache, so connections
 * stay alive between calls, and any number of threads may send at once.
 *
 * The transfer is driven with curl_multi_poll in steps of at most 100 ms so
 * that the read timeout ("no byte for read_timeout_ms once the request is
 * sent") and the call's deadline are enforced promptly; libcurl has no such
 * timeouts of its own.
 *
 * Most sends take the wire path instead (see "The wire path" below): libcurl
 * only connects, the transport writes the request and reads the answer, and
 * the handle keeps its connection in the pool.
 *
 * The pool belongs to one process: a forked child drops what it inherited
 * (see drop_inherited_pool) and opens its own connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "transport.h"

extern char **environ;

#define MAX_RESPONSE_HEADERS 100
#define MAX_HEADER_LINE 8192
#define POLL_STEP_MS 100
#define BODY_FIRST_ROOM 1024 /* a body of unannounced length starts with this much room */

struct acmpca_transport {
    acmpca_transport_options opts;
    char *ca_bundle;
    char *user_agent_extra;         /* what follows acmpca/ and libcurl/ in the User-Agent */
    char *user_agent;               /* set by the first handle (compose_user_agent) */
    size_t user_agent_len;
    pthread_mutex_t lock;           /* guards idle, socks and user_agent */
    struct handle *idle;
    int idle_count;
    /* Every socket of our connections: libcurl opens and closes them through
     * open_socket/close_socket, so a forked child knows which descriptors it
     * shares with its parent. */
    int *socks;
    size_t sock_count, sock_cap;
    /* The process the pool belongs to (-pid while that process drops an
     * inherited one). */
    atomic_long owner_pid;
    /* 1 + the fork generation (below) in which owner_pid was last found to be
     * this process; 0: not checked yet. */
    atomic_ulong checked_generation;
    /* "User-Agent: ..." for what libcurl sends a proxy (CONNECT): requests
     * carry the line in their own header list (see header_list_new). Made
     * with the first handle, under lock. */
    struct curl_slist proxy_headers;
};

typedef struct handle_state handle_state;

typedef struct handle {
    CURLM *multi;  /* holds the connection cache */
    CURL *easy;
    /* What curl's WRITEDATA, HEADERDATA and ERRORBUFFER point at, set once
     * when the handle is made: the handle's own memory, never a call's. */
    handle_state *state;
    struct curl_slist *list_set; /* the HTTPHEADER last set on easy */
    char *url;     /* the URL and method last set on easy: set again only when they change */
    char method[16];
    acmpca_buf head; /* the response head's names and values, reused from call to call */
    /* The request's header list (header_list_new), reused from call to call:
     * it holds the signature, so it is wiped after each transfer. */
    struct curl_slist *list;
    size_t list_cap;
    /* The wire path (send_wire): libcurl only connected this handle
     * (CONNECT_ONLY); the transport writes the request and reads the answer. */
    int wire;
    curl_socket_t fd;  /* the connection's socket (wire) */
    char *out;         /* the request's bytes (wire): wiped after every send */
    size_t out_cap;
    char *in;          /* what was read and not yet taken (wire) */
    size_t in_cap, in_len, in_pos;
} handle;

typedef struct transfer {
    const acmpca_transport *t;
    acmpca_http_response *resp;
    int too_large;
    int read_timed_out;
    int header_overflow;
    int total_timed_out;
    int multi_failed;      /* the multi interface itself failed */
    int head_done;         /* the blank line ending the current response head arrived */
    int head_over;         /* the wire path read a head line (or head) over libcurl's limits */
    acmpca_buf *head;      /* "name\0value\0" for each header of the current head */
    size_t header_count;
    int64_t deadline_ms;   /* 0: none */
    int64_t last_byte_ms;  /* when the last response byte arrived (noticed) */
    CURL *easy;            /* the handle of this transfer */
    int got_bytes;         /* a callback saw bytes since perform() last looked: the
                              clock is read once per step, not once per callback */
    /* Where each header starts in head: the first header_count are set, the
     * rest never read. Last, so that a new transfer clears only what is above. */
    size_t header_at[MAX_RESPONSE_HEADERS];
} transfer;

struct handle_state {
    transfer x;                    /* the current transfer's, cleared for each */
    char errbuf[CURL_ERROR_SIZE];
};

int acmpca__transport_new(acmpca_transport **out, const acmpca_transport_options *opts)
{
    acmpca_transport *t = NULL;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        goto nomem;
    t->opts = *opts;
    if (t->opts.pool_size <= 0)
        t->opts.pool_size = 4;
    t->ca_bundle = acmpca__strdup(opts->ca_bundle);
    t->user_agent_extra = acmpca__strdup(opts->user_agent);
    t->idle = calloc((size_t)t->opts.pool_size, sizeof(handle));
    if ((opts->ca_bundle && !t->ca_bundle) || (opts->user_agent && !t->user_agent_extra) ||
        !t->idle)
        goto nomem;
    t->opts.ca_bundle = t->ca_bundle;
    t->opts.user_agent = t->user_agent_extra;
    if (pthread_mutex_init(&t->lock, NULL) != 0)
        goto nomem;
    atomic_init(&t->owner_pid, (long)getpid());
    *out = t;
    return 0;
nomem:
    if (t) {
        free(t->ca_bundle);
        free(t->user_agent_extra);
        free(t->idle);
        free(t);
    }
    return acmpca__error_set(ACMPCA_ENOMEM, "out of memory creating the transport");
}

const acmpca_transport_options *acmpca__transport_options(const acmpca_transport *t)
{
    return &t->opts;
}

static void handle_free(handle *h)
{
    curl_easy_cleanup(h->easy);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    free(h->state);
    h->state = NULL;
    h->list_set = NULL;
    free(h->url);
    acmpca__buf_free_secret(&h->head); /* it may hold a credentials exchange's head */
    if (h->list) {
        acmpca__wipe(h->list, h->list_cap);
        free(h->list);
    }
    if (h->out) {
        acmpca__wipe(h->out, h->out_cap);
        free(h->out);
    }
    if (h->in) {
        acmpca__wipe(h->in, h->in_cap); /* it may hold a credentials exchange's answer */
        free(h->in);
    }
    h->out = h->in = NULL;
    h->out_cap = h->in_cap = h->in_len = h->in_pos = 0;
    h->easy = NULL;
    h->multi = NULL;
    h->url = NULL;
    h->list = NULL;
    h->list_cap = 0;
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    acmpca_transport *t = clientp;
    int fd, type = a->socktype, *grown;
    size_t cap;

    (void)purpose;
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC; /* a program the process execs must not inherit them either */
#endif
    fd = socket(a->family, type, a->protocol);
    if (fd < 0)
        return CURL_SOCKET_BAD;
    pthread_mutex_lock(&t->lock);
    if (t->sock_count == t->sock_cap) {
        cap = t->sock_cap ? 2 * t->sock_cap : 8;
        grown = realloc(t->socks, cap * sizeof(*grown));
        if (grown) {
            t->socks = grown;
            t->sock_cap = cap;
        }
    }
    if (t->sock_count < t->sock_cap)
        t->socks[t->sock_count++] = fd;
    else {
        close(fd); /* an untracked socket could leak into a child: refuse it */
        fd = -1;
    }
    pthread_mutex_unlock(&t->lock);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int close_socket(void *clientp, curl_socket_t fd)
{
    acmpca_transport *t = clientp;
    size_t i;

    pthread_mutex_lock(&t->lock);
    for (i = 0; i < t->sock_count; i++) {
        if (t->socks[i] == fd) {
            t->socks[i] = t->socks[--t->sock_count];
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return close(fd);
}

/*
 * A forked child holds copies of the parent's pooled connections: the same
 * sockets and a copy of the same TLS state. Sending on them makes the two
 * processes read each other's answers, and even closing them through libcurl
 * is unsafe: its OpenSSL backend reads from the connection and sends a TLS
 * close_notify on close, which would eat or end the parent's stream. So the
 * child first puts /dev/null on each inherited socket's descriptor number
 * (dup2 keeps the number taken, so no file opened meanwhile can land on it):
 * what libcurl and OpenSSL then send or read on cleanup fails (send/recv on a
 * non-socket: ENOTSOCK) or hits /dev/null, and the close only drops the
 * child's reference to a file that is not the connection. Then the handles
 * are cleaned up as usual, with no leak. If /dev/null cannot be put in place,
 * the handles are left unfreed (a leak, never a byte on the parent's
 * connections) and the child's descriptors are closed directly.
 *
 * A handle another thread of the parent was using at the fork is lost with
 * that thread: its memory stays allocated in the child, its socket is closed
 * here. Only the thread that claims the pool runs this (claim_pool).
 */
static void drop_inherited_pool(acmpca_transport *t)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), neutral = devnull >= 0, i;
    size_t j, kept = 0;
    struct stat st;

    /* A fork while another thread held the lock leaves it locked for good. */
    pthread_mutex_init(&t->lock, NULL);
    for (j = 0; j < t->sock_count; j++) {
        int fd = t->socks[j];
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue; /* not a socket of ours any more: never touch it */
        t->socks[kept++] = fd;
        if (neutral && dup2(devnull, fd) < 0)
            neutral = 0;
    }
    t->sock_count = kept;
    if (neutral)
        for (i = 0; i < t->idle_count; i++)
            handle_free(&t->idle[i]); /* closes through close_socket */
    t->idle_count = 0;
    /* Sockets of forgotten handles and of threads that do not exist here. */
    for (j = 0; j < t->sock_count; j++)
        close(t->socks[j]);
    t->sock_count = 0;
    if (devnull >= 0)
        close(devnull);
}

static void claim_pool_by_pid(acmpca_transport *t);

/*
 * Counts the forks that led to this process: every child bumps it before
 * fork() returns there (pthread_atfork). While it has not changed since a
 * pool was last found to be ours, the pool still is, and claim_pool needs no
 * getpid() (a system call on every send). If the handler could not be
 * registered, every claim asks getpid().
 */
static atomic_ulong fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static atomic_int atfork_registered;

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void register_atfork(void)
{
    atomic_store(&atfork_registered, pthread_atfork(NULL, NULL, on_fork_child) == 0);
}

/* Make the pool this process's own; the first thread to get here drops an inherited one. */
static void claim_pool(acmpca_transport *t)
{
    unsigned long generation;

    pthread_once(&atfork_once, register_atfork);
    generation = atomic_load(&fork_generation);
    if (atomic_load(&atfork_registered) && atomic_load(&t->checked_generation) == generation + 1)
        return;
    claim_pool_by_pid(t);
    atomic_store(&t->checked_generation, generation + 1);
}

static void claim_pool_by_pid(acmpca_transport *t)
{
    long me = (long)getpid(), owner = atomic_load(&t->owner_pid);

    while (owner != me) {
        if (owner != -me && atomic_compare_exchange_weak(&t->owner_pid, &owner, -me)) {
            drop_inherited_pool(t);
            atomic_store(&t->owner_pid, me);
            return;
        }
        if (owner == -me) {
            sched_yield(); /* another thread of ours is dropping it */
            owner = atomic_load(&t->owner_pid);
        }
    }
}

void acmpca__transport_free(acmpca_transport *t)
{
    int i;
    if (!t)
        return;
    claim_pool(t);
    for (i = 0; i < t->idle_count; i++)
        handle_free(&t->idle[i]);
    pthread_mutex_destroy(&t->lock);
    free(t->socks);
    free(t->idle);
    free(t->ca_bundle);
    free(t->user_agent_extra);
    free(t->user_agent);
    free(t->proxy_headers.data);
    free(t);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp);
static size_t on_header(char *data, size_t size, size_t n, void *userp);

/* The explicit proxy (client options) and what its TLS needs. */
static void set_proxy_options(const acmpca_transport *t, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_PROXY, t->opts.proxy);
    curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, t->opts.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, t->opts.verify_tls ? 2L : 0L);
    if (t->opts.proxy_ca_bundle)
        curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, t->opts.proxy_ca_bundle);
    if (t->opts.proxy_client_cert)
        curl_easy_setopt(e, CURLOPT_PROXY_SSLCERT, t->opts.proxy_client_cert);
    if (t->opts.proxy_client_key)
        curl_easy_setopt(e, CURLOPT_PROXY_SSLKEY, t->opts.proxy_client_key);
}

/*
 * The options every transfer of this transport shares, set once per handle.
 * No CURLOPT_USERAGENT: libcurl would format "User-Agent: %s" anew on every
 * transfer; the line is in each request's header list instead, and in the
 * proxy's (CURLOPT_PROXYHEADER: libcurl's default CURLHEADER_SEPARATE sends
 * it on CONNECT only).
 */
static int set_fixed_options(acmpca_transport *t, CURL *e)
{
    static const char ua_name[] = "User-Agent: ";
    char *line = NULL;
    size_t n;

    pthread_mutex_lock(&t->lock);
    if (!t->proxy_headers.data) {
        n = strlen(t->user_agent);
        if ((line = malloc(sizeof(ua_name) + n)) != NULL) {
            memcpy(line, ua_name, sizeof(ua_name) - 1);
            memcpy(line + sizeof(ua_name) - 1, t->user_agent, n + 1);
            t->proxy_headers.data = line;
            t->proxy_headers.next = NULL;
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (!t->proxy_headers.data)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    curl_easy_setopt(e, CURLOPT_PROXYHEADER, &t->proxy_headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->opts.max_response_bytes);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->opts.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->opts.verify_tls ? 2L : 0L);
    if (t->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_bundle);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (t->opts.no_proxy)
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    else if (t->opts.proxy) /* libcurl still reads NO_PROXY for it */
        set_proxy_options(t, e);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t);
    return 0;
}

/*
 * The User-Agent names the libcurl that runs. The first handle asks for it,
 * not acmpca__transport_new: the Python extension loads libcurl only when a
 * transfer needs it (bindings/python/curl_lazy.c), never for a client that
 * sends nothing.
 */
static int compose_user_agent(acmpca_transport *t)
{
    acmpca_buf ua = {0};
    int rc = 0;

    pthread_mutex_lock(&t->lock);
    if (!t->user_agent &&
        (rc = acmpca__buf_printf(&ua, "acmpca/%s libcurl/%s%s%s", ACMPCA_VERSION,
                                 curl_version_info(CURLVERSION_NOW)->version,
                                 t->user_agent_extra ? " " : "",
                                 t->user_agent_extra ? t->user_agent_extra : "")) == 0) {
        t->user_agent_len = ua.len;
        t->user_agent = acmpca__buf_detach(&ua);
    }
    pthread_mutex_unlock(&t->lock);
    acmpca__buf_free(&ua); /* what a failed printf left */
    return rc;
}

/*
 * An idle handle, or a new one with the fixed options set. A handle goes
 * back to the pool only after a successful transfer, and keeps its options:
 * each send sets just what differs per request (no curl_easy_reset, which
 * would cost a reset and ~15 options on every call).
 */
static int take_handle(acmpca_transport *t, handle *h, int wire, int pooled)
{
    int found = 0, rc, i;
    pthread_mutex_lock(&t->lock);
    /* The newest idle handle of the kind wanted (a wire handle holds a
     * connection of its own, a full one shares its multi's cache). */
    for (i = pooled ? t->idle_count - 1 : -1; i >= 0; i--) {
        if (t->idle[i].wire == wire) {
            *h = t->idle[i];
            t->idle[i] = t->idle[--t->idle_count];
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (found)
        return 0;
    memset(h, 0, sizeof(*h));
    h->wire = wire;
    h->fd = CURL_SOCKET_BAD;
    if ((rc = acmpca__curl_load()) != 0 || (rc = compose_user_agent(t)) != 0)
        return rc;
    h->multi = wire ? NULL : curl_multi_init();
    h->easy = curl_easy_init();
    h->state = calloc(1, sizeof(*h->state));
    if ((!wire && !h->multi) || !h->easy || !h->state) {
        handle_free(h);
        return acmpca__error_set(ACMPCA_ENOMEM, "curl_easy_init failed");
    }
    if (set_fixed_options(t, h->easy) != 0) {
        handle_free(h);
        return ACMPCA_ENOMEM;
    }
    if (wire)
        curl_easy_setopt(h->easy, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &h->state->x);
    curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, &h->state->x);
    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->state->errbuf);
    return 0;
}

static void give_back(acmpca_transport *t, handle *h)
{
    int kept = 0;
    pthread_mutex_lock(&t->lock);
    if (t->idle_count < t->opts.pool_size) {
        t->idle[t->idle_count++] = *h;
        kept = 1;
    }
    pthread_mutex_unlock(&t->lock);
    if (!kept)
        handle_free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    transfer *x = userp;
    size_t len = size * n;
    x->got_bytes = 1;
    if (x->resp->body.len + len > x->t->opts.max_response_bytes) {
        x->too_large = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (!x->resp->body.ptr) {
        /* The whole body's room at once when its length is announced (within
         * the limit): one allocation rather than one per doubling. */
        curl_off_t announced = -1;
        size_t want = BODY_FIRST_ROOM;
        if (x->easy && curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                                         &announced) == CURLE_OK &&
            announced > 0 && (uint64_t)announced <= x->t->opts.max_response_bytes)
            want = (size_t)announced;
        if (acmpca__buf_reserve(&x->resp->body, want < len ? len : want) != 0)
            return 0;
    }
    if (acmpca__buf_append(&x->resp->body, data, len))
        return 0;
    return len;
}

/* The 8 bytes of `w` with 'A'..'Z' lowercased, every other byte (those past
 * 0x7f included) as it is: ASCII rules, whatever the locale. */
static uint64_t lower8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t low7 = w & ~high;                        /* no carry between bytes */
    uint64_t ge_a = low7 + ones * (0x80 - 'A');       /* high bit: >= 'A' */
    uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1);   /* high bit: > 'Z' */
    return w | (((ge_a & ~gt_z & ~w) & high) >> 2);   /* 0x80 >> 2: 'a' - 'A' */
}

/* Space, tab, CR, LF, VT or FF (isspace in the C locale, in any locale). */
static int ascii_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Each header line appended to the handle's reused buffer: no allocation per
 * header (the headers are packed into one block once the transfer is over). */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    transfer *x = userp;
    acmpca_buf *b = x->head;
    size_t len = size * n, i, name_len, vstart, vend, at;
    uint64_t w;
    char *colon, *out;

    x->got_bytes = 1;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new status line (after a 100 Continue or a redirect): start over. */
        x->header_count = 0;
        b->len = 0;
        x->head_done = 0;
        return len;
    }
    if (len <= 2 && (data[0] == '\r' || data[0] == '\n')) {
        x->head_done = 1;
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon || len > MAX_HEADER_LINE)
        return len;
    if (x->header_count >= MAX_RESPONSE_HEADERS) {
        x->header_overflow = 1;
        return 0; /* stops the transfer */
    }
    name_len = (size_t)(colon - data);
    vstart = name_len + 1;
    vend = len;
    while (vstart < vend && (data[vstart] == ' ' || data[vstart] == '\t'))
        vstart++;
    while (vend > vstart && ascii_space(data[vend - 1]))
        vend--;
    at = b->len;
    /* Room for the whole line: the name is lowercased 8 bytes at a time, the
     * last word of it maybe running into the line's next bytes (overwritten
     * by the value, or left past b->len). */
    if (b->cap - at <= len + 1 && acmpca__buf_reserve(b, len + 1) != 0)
        return 0;
    out = b->ptr + at;
    for (i = 0; i < name_len && i + 8 <= len; i += 8) {
        memcpy(&w, data + i, 8);
        w = lower8(w);
        memcpy(out + i, &w, 8);
    }
    for (; i < name_len; i++)
        out[i] = data[i] >= 'A' && data[i] <= 'Z' ? (char)(data[i] - 'A' + 'a') : data[i];
    out[name_len] = '\0';
    memcpy(out + name_len + 1, data + vstart, vend - vstart);
    out[name_len + 1 + (vend - vstart)] = '\0';
    b->len = at + name_len + (vend - vstart) + 2;
    x->header_at[x->header_count++] = at;
    return len;
}

/* The transfer's headers into resp, in one block (as acmpca__http_headers_pack
 * makes): the head's text, already "name\0value\0" with names in lowercase,
 * copied whole after the array. */
static int take_headers(transfer *x, acmpca_http_response *resp)
{
    size_t i, n = x->header_count;
    acmpca_header *h;
    char *text;

    resp->packed = 1;
    if (n == 0)
        return 0;
    if (!(h = malloc(n * sizeof(*h) + x->head->len)))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    text = (char *)(h + n);
    memcpy(text, x->head->ptr, x->head->len);
    for (i = 0; i < n; i++) {
        h[i].name = text + x->header_at[i];
        h[i].value = h[i].name + strlen(h[i].name) + 1;
    }
    resp->headers = h;
    resp->header_count = n;
    return 0;
}

int acmpca__http_headers_pack(acmpca_header **out, const acmpca_header *src, size_t n)
{
    size_t i, j, text = 0, len;
    acmpca_header *h;
    char *p;

    *out = NULL;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        text += strlen(src[i].name ? src[i].name : "") + strlen(src[i].value ? src[i].value : "") + 2;
    if (!(h = malloc(n * sizeof(*h) + text)))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    p = (char *)(h + n);
    for (i = 0; i < n; i++) {
        const char *name = src[i].name ? src[i].name : "";
        const char *value = src[i].value ? src[i].value : "";
        len = strlen(name);
        for (j = 0; j < len; j++) /* the transport's convention: names in lowercase */
            p[j] = name[j] >= 'A' && name[j] <= 'Z' ? (char)(name[j] - 'A' + 'a') : name[j];
        p[len] = '\0';
        h[i].name = p;
        p += len + 1;
        len = strlen(value);
        memcpy(p, value, len + 1);
        h[i].value = p;
        p += len + 1;
    }
    *out = h;
    return 0;
}

/*
 * libcurl refuses a response head line (status or header) longer than
 * CURL_MAX_HTTP_HEADER: from 8.6 with CURLE_TOO_LARGE, before that with
 * CURLE_OUT_OF_MEMORY and no message (7.88 does). Our callbacks never see
 * that line, so the old form is told apart from a real allocation failure
 * by when it happens: the request is out, the head unfinished and the multi
 * interface fine. Then the one allocation that grows with the input is
 * libcurl's head-line buffer (our own allocation failures in on_header make
 * CURLE_WRITE_ERROR), so OUT_OF_MEMORY there is that limit.
 */
static int head_line_over_limit(CURLcode rc, const transfer *x, CURL *h)
{
    long request_size = 0;
    if (x->head_over)
        return 1;
#if LIBCURL_VERSION_NUM >= 0x080600
    if (rc == CURLE_TOO_LARGE)
        return 1;
#endif
    if (rc != CURLE_OUT_OF_MEMORY || x->multi_failed || x->head_done)
        return 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
    return request_size > 0;
}

static int map_curl_error(CURLcode rc, const transfer *x, CURL *h, const char *url,
                          const char *detail)
{
    curl_off_t connect_time = 0;
    const char *what = detail[0] ? detail : curl_easy_strerror(rc);

    if (x->too_large)
        return acmpca__error_set(ACMPCA_ETOOLARGE,
                                 "response from %s is larger than the %zu-byte limit", url,
                                 x->t->opts.max_response_bytes);
    if (x->header_overflow)
        return acmpca__error_set(ACMPCA_ELIMIT, "response from %s has more than %d headers", url,
                                 MAX_RESPONSE_HEADERS);
    if (x->total_timed_out)
        return acmpca__error_set(ACMPCA_EREAD_TIMEOUT,
                                 "total_timeout_ms passed while waiting for %s", url);
    if (x->read_timed_out)
        return acmpca__error_set(ACMPCA_EREAD_TIMEOUT,
                                 "read timeout: no data from %s for %ld ms", url,
                                 x->t->opts.read_timeout_ms);
    if (head_line_over_limit(rc, x, h))
        return acmpca__error_set(ACMPCA_ETOOLARGE,
                                 "response from %s has a header line over the %d-byte limit",
                                 url, CURL_MAX_HTTP_HEADER);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return acmpca__error_set(ACMPCA_ECONNECT, "could not connect to the endpoint URL %s: %s",
                                 url, what);
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_time);
        if (connect_time == 0)
            return acmpca__error_set(ACMPCA_ECONNECT_TIMEOUT,
                                     "connect timeout on endpoint URL %s after %ld ms", url,
                                     x->t->opts.connect_timeout_ms);
        return acmpca__error_set(ACMPCA_EREAD_TIMEOUT, "read timeout on endpoint URL %s: %s",
                                 url, what);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return acmpca__error_set(ACMPCA_ETLS, "TLS error with %s: %s", url, what);
    case CURLE_OUT_OF_MEMORY:
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    default:
        return acmpca__error_set(ACMPCA_ENETWORK, "connection to %s failed: %s", url, what);
    }
}

/* Run the transfer, enforcing the read timeout and the deadline; returns curl's result. */
static CURLcode perform(handle *h, transfer *x)
{
    CURLcode result = CURLE_OK;
    CURLMcode mc = CURLM_OK;
    CURLMsg *msg;
    curl_off_t sent_at;
    int64_t now;
    int running = 1, left, wait_ms;

    if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) {
        x->multi_failed = 1;
        return CURLE_OUT_OF_MEMORY;
    }
    x->last_byte_ms = acmpca__now_ms();
    for (;;) {
        if ((mc = curl_multi_perform(h->multi, &running)) != CURLM_OK || !running)
            break;
        /* The deadline covers every phase, a slow connect or TLS handshake included. */
        now = acmpca__now_ms();
        if (x->got_bytes) {
            x->last_byte_ms = now;
            x->got_bytes = 0;
        }
        if (x->deadline_ms && now >= x->deadline_ms) {
            x->total_timed_out = 1;
            result = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        /* The read timeout starts once the request is on its way (connect and TLS
         * have their own timeout). */
        sent_at = 0;
        curl_easy_getinfo(h->easy, CURLINFO_PRETRANSFER_TIME_T, &sent_at);
        if (sent_at == 0)
            x->last_byte_ms = now;
        else if (now - x->last_byte_ms > x->t->opts.read_timeout_ms) {
            x->read_timed_out = 1;
            result = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        wait_ms = POLL_STEP_MS;
        if (x->deadline_ms && x->deadline_ms - now < wait_ms)
            wait_ms = (int)(x->deadline_ms - now); /* wake up at the deadline, not after it */
        if ((mc = curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL)) != CURLM_OK)
            break;
    }
    if (mc != CURLM_OK) {
        x->multi_failed = 1;
        result = CURLE_OUT_OF_MEMORY;
    }
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->easy)
            result = msg->data.result;
    curl_multi_remove_handle(h->multi, h->easy);
    return result;
}

/*
 * The request's header lines as one libcurl list in one block: the nodes,
 * then the lines. The lines include Authorization and X-Amz-Security-Token,
 * so the block is wiped after the transfer (header_list_wipe); it is the
 * handle's, kept for its next request (grown when too small: the old one
 * wiped and freed), where curl_slist_append would make two allocations per
 * line and call. *size: the bytes used; *head_len: the bytes of the lines
 * (what they add to the request head).
 *
 * The User-Agent line is ours too, unless the request brings its own (see
 * set_fixed_options).
 */
#define LIST_LENGTHS 16 /* headers whose lengths are measured once (the rest twice) */

static struct curl_slist *header_list_new(handle *h, const acmpca_http_request *req,
                                          const char *user_agent, size_t ua_len, size_t *size,
                                          size_t *head_len)
{
    /* Stop curl from adding headers we did not sign. */
    static const char unsent[] = "Expect:\0Accept:";
    static const char ua_name[] = "User-Agent: ";
    size_t n = req->header_count + 2, i, text = 0, nlen, vlen;
    size_t lens[2 * LIST_LENGTHS];
    struct curl_slist *list;
    int add_ua = 1;
    char *p;

    for (i = 0; i < req->header_count; i++) {
        nlen = strlen(req->headers[i].name);
        vlen = strlen(req->headers[i].value);
        if (i < LIST_LENGTHS) {
            lens[2 * i] = nlen;
            lens[2 * i + 1] = vlen;
        }
        text += nlen + vlen + 3; /* ": " NUL */
        if (add_ua && nlen == 10 && acmpca__strcaseeq(req->headers[i].name, "User-Agent"))
            add_ua = 0;
    }
    text += sizeof(unsent);
    if (add_ua) {
        text += sizeof(ua_name) + ua_len;
        n++;
    }
    *size = n * sizeof(*list) + text;
    *head_len = text;
    if (*size > h->list_cap) {
        if (h->list) {
            acmpca__wipe(h->list, h->list_cap);
            free(h->list);
        }
        h->list_cap = 0;
        if (!(h->list = malloc(*size))) {
            acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
            return NULL;
        }
        h->list_cap = *size;
    }
    list = h->list;
    p = (char *)(list + n);
    for (i = 0; i < n; i++)
        list[i].next = i + 1 < n ? &list[i + 1] : NULL;
    for (i = 0; i < req->header_count; i++) {
        nlen = i < LIST_LENGTHS ? lens[2 * i] : strlen(req->headers[i].name);
        vlen = i < LIST_LENGTHS ? lens[2 * i + 1] : strlen(req->headers[i].value);
        list[i].data = p;
        memcpy(p, req->headers[i].name, nlen);
        memcpy(p + nlen, ": ", 2);
        memcpy(p + nlen + 2, req->headers[i].value, vlen + 1);
        p += nlen + 2 + vlen + 1;
    }
    /* The tail: both unsent lines in one copy, then our User-Agent line. */
    memcpy(p, unsent, sizeof(unsent));
    list[i].data = p;
    list[i + 1].data = p + sizeof("Expect:");
    p += sizeof(unsent);
    if (add_ua) {
        memcpy(p, ua_name, sizeof(ua_name) - 1);
        memcpy(p + sizeof(ua_name) - 1, user_agent, ua_len + 1);
        list[i + 2].data = p;
    }
    return list;
}

/* What the header list held (the signature among it) wiped: it stays with the handle. */
static void header_list_wipe(struct curl_slist *list, size_t size)
{
    if (list)
        acmpca__wipe(list, size);
}

/* Whether libcurl may send through a proxy: one of the variables it reads
 * is set (one pass over the environment, not a getenv for each). */
static int proxy_possible(const acmpca_transport *t)
{
    static const char *const vars[] = {"http_proxy=", "https_proxy=", "HTTPS_PROXY=",
                                       "all_proxy=", "ALL_PROXY="};
    char **e;
    size_t i, n;

    if (t->opts.no_proxy)
        return 0;
    if (t->opts.proxy)
        return 1;
    for (e = environ; e && *e; e++) {
        /* Only names that start "ht" or "al", either case, are looked at:
         * `| 0x20` folds 'H' and 'A' (and maps NUL to a space: no read past it). */
        char c0 = (char)((*e)[0] | 0x20), c1;
        if (c0 != 'h' && c0 != 'a')
            continue;
        c1 = (char)((*e)[1] | 0x20);
        if (c1 != (c0 == 'h' ? 't' : 'l'))
            continue;
        for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
            n = strlen(vars[i]);
            if (strncmp(*e, vars[i], n) == 0 && (*e)[n])
                return 1;
        }
    }
    return 0;
}

/*
 * ---- The wire path ----------------------------------------------------
 *
 * libcurl's full transfer (URL parsing, its connection cache, building the
 * request head, scanning the answer's) costs several times what the rest of
 * a call does. On the wire path libcurl only connects (CONNECT_ONLY: DNS,
 * TCP, TLS with every option set_fixed_options sets) and the transport
 * frames HTTP/1.1 itself with curl_easy_send and curl_easy_recv: the
 * request it would have sent, the answer read with the same rules and
 * limits, the header lines through on_header as libcurl hands them. A
 * connection stays with its handle in the pool while the server keeps it
 * open; a pooled one found closed before the first byte of the answer is
 * replaced by a new one, once, as libcurl does.
 *
 * Left to libcurl (the full path): any proxy (proxy_possible: CONNECT,
 * proxy authentication and TLS), and requests this path does not frame
 * (wire_url_fits, wire_request_fits): URLs with user info, a fragment or
 * bytes libcurl would escape, a Transfer-Encoding or Expect of the
 * caller's, header bytes that would split a line.
 */
#define WIRE_READ 16384          /* room asked of each read */
#define WIRE_HEAD_MAX (300 * 1024) /* libcurl's bound on a whole response head */
#define WIRE_CHUNK_LINE 1024     /* longest chunk-size or trailer line taken */

typedef struct wire_url {
    const char *host; /* the authority, without a default port */
    size_t host_len;
    const char *path; /* "/" when the URL has none */
    size_t path_len;
    int query_only;   /* the URL goes straight from authority to '?': "/" then path */
} wire_url;

static int wire_url_fits(const char *url, wire_url *u)
{
    const char *a, *p;
    size_t i, n;
    int https;

    if (strncmp(url, "http://", 7) == 0)
        a = url + 7, https = 0;
    else if (strncmp(url, "https://", 8) == 0)
        a = url + 8, https = 1;
    else
        return 0;
    for (i = 0; url[i]; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '#')
            return 0;
    n = strcspn(a, "/?");
    if (n == 0 || memchr(a, '@', n))
        return 0;
    u->host = a;
    u->host_len = n;
    /* libcurl leaves the scheme's own port out of Host */
    if (https && n > 4 && memcmp(a + n - 4, ":443", 4) == 0)
        u->host_len = n - 4;
    else if (!https && n > 3 && memcmp(a + n - 3, ":80", 3) == 0)
        u->host_len = n - 3;
    p = a + n;
    u->query_only = *p == '?';
    u->path = *p ? p : "/";
    u->path_len = *p ? strlen(p) : 1;
    return 1;
}

/* The scheme and authority of a URL: its length. */
static size_t url_origin_len(const char *url)
{
    const char *a = strstr(url, "://");
    return a ? (size_t)(a + 3 - url) + strcspn(a + 3, "/?") : strlen(url);
}

/* Whether every header can go out as the full path would send it. */
static int wire_request_fits(const acmpca_http_request *req)
{
    size_t i;
    for (i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") ||
            acmpca__strcaseeq(name, "Transfer-Encoding") || acmpca__strcaseeq(name, "Expect"))
            return 0;
    }
    return strpbrk(req->method, " \r\n") == NULL && req->method[0];
}

/* Room for n bytes of request in the handle (the old block wiped). */
static char *wire_out_room(handle *h, size_t n)
{
    if (n > h->out_cap) {
        if (h->out) {
            acmpca__wipe(h->out, h->out_cap);
            free(h->out);
        }
        h->out_cap = 0;
        if (!(h->out = malloc(n)))
            return NULL;
        h->out_cap = n;
    }
    return h->out;
}

#define PUT(p, s, n) (memcpy((p), (s), (n)), (p) += (n))

/* "Content-Length: <n>\r\n" into out (38 bytes hold any size_t); its length.
 * The digits are written from the end: no snprintf per request. */
static size_t content_length_line(char out[38], size_t n)
{
    char digits[24], *d = digits + sizeof(digits);
    size_t k;

    do
        *--d = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    k = (size_t)(digits + sizeof(digits) - d);
    memcpy(out, "Content-Length: ", 16);
    memcpy(out + 16, d, k);
    memcpy(out + 16 + k, "\r\n", 2);
    return 16 + k + 2;
}

/*
 * The request as libcurl sends it for our options: request line, Host, the
 * request's headers (libcurl drops one whose value is empty: so do we),
 * User-Agent unless the request has its own, and for a method other than GET
 * its Content-Type (libcurl's default for a body) and Content-Length, then
 * the body. Its length, or 0 when out of memory.
 */
static size_t wire_request(handle *h, const acmpca_transport *t, const acmpca_http_request *req,
                           const wire_url *u)
{
    static const char form[] = "Content-Type: application/x-www-form-urlencoded\r\n";
    size_t i, n, nlen, vlen, mlen = strlen(req->method), body = 0;
    int get = strcmp(req->method, "GET") == 0, has_host = 0, has_ua = 0, has_type = 0,
        has_len = 0;
    char num[38], *p;
    size_t numlen = 0;

    n = mlen + 1 + u->query_only + u->path_len + sizeof(" HTTP/1.1\r\n");
    for (i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name;
        nlen = strlen(name);
        n += nlen + strlen(req->headers[i].value) + 4;
        if (nlen == 4 && acmpca__strcaseeq(name, "Host"))
            has_host = 1;
        else if (nlen == 10 && acmpca__strcaseeq(name, "User-Agent"))
            has_ua = 1;
        else if (nlen == 12 && acmpca__strcaseeq(name, "Content-Type"))
            has_type = 1;
        else if (nlen == 14 && acmpca__strcaseeq(name, "Content-Length"))
            has_len = 1;
    }
    if (!has_host)
        n += sizeof("Host: \r\n") + u->host_len;
    if (!has_ua)
        n += sizeof("User-Agent: \r\n") + t->user_agent_len;
    if (!get) {
        body = req->body ? req->body_len : 0;
        if (!has_type)
            n += sizeof(form);
        if (!has_len)
            numlen = content_length_line(num, body);
        n += numlen + body;
    }
    n += 2;
    if (!(p = wire_out_room(h, n))) {
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        return 0;
    }
    PUT(p, req->method, mlen);
    *p++ = ' ';
    if (u->query_only)
        *p++ = '/';
    PUT(p, u->path, u->path_len);
    PUT(p, " HTTP/1.1\r\n", 11);
    if (!has_host) {
        PUT(p, "Host: ", 6);
        PUT(p, u->host, u->host_len);
        PUT(p, "\r\n", 2);
    }
    for (i = 0; i < req->header_count; i++) {
        const char *value = req->headers[i].value, *v = value;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v)
            continue; /* "Name:" with nothing after it: libcurl sends no such header */
        nlen = strlen(req->headers[i].name);
        vlen = strlen(value);
        PUT(p, req->headers[i].name, nlen);
        PUT(p, ": ", 2);
        PUT(p, value, vlen);
        PUT(p, "\r\n", 2);
    }
    if (!has_ua) {
        PUT(p, "User-Agent: ", 12);
        PUT(p, t->user_agent, t->user_agent_len);
        PUT(p, "\r\n", 2);
    }
    if (!get) {
        if (!has_type)
            PUT(p, form, sizeof(form) - 1);
        PUT(p, num, numlen);
    }
    PUT(p, "\r\n", 2);
    if (body)
        PUT(p, req->body, body);
    return (size_t)(p - h->out);
}

/*
 * Wait until the socket is ready for `events`, within the read timeout
 * (counted from the last byte) and the deadline. CURLE_OK when it may be.
 */
static CURLcode wire_wait(handle *h, transfer *x, short events)
{
    struct pollfd pfd;
    int64_t now = acmpca__now_ms(), left;

    if (x->got_bytes) {
        x->last_byte_ms = now;
        x->got_bytes = 0;
    }
    if (x->deadline_ms && now >= x->deadline_ms) {
        x->total_timed_out = 1;
        return CURLE_OPERATION_TIMEDOUT;
    }
    left = x->last_byte_ms + x->t->opts.read_timeout_ms - now;
    if (left <= 0) {
        x->read_timed_out = 1;
        return CURLE_OPERATION_TIMEDOUT;
    }
    if (x->deadline_ms && x->deadline_ms - now < left)
        left = x->deadline_ms - now;
    pfd.fd = h->fd;
    pfd.events = events;
    pfd.revents = 0;
    if (poll(&pfd, 1, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR)
        return CURLE_RECV_ERROR;
    return CURLE_OK;
}

static CURLcode wire_send(handle *h, transfer *x, const char *data, size_t len)
{
    size_t sent = 0, n;
    CURLcode rc;

    while (sent < len) {
        n = 0;
        rc = curl_easy_send(h->easy, data + sent, len - sent, &n);
        if (rc == CURLE_AGAIN) {
            if ((rc = wire_wait(h, x, POLLOUT)) != CURLE_OK)
                return rc;
            continue;
        }
        if (rc != CURLE_OK)
            return rc;
        sent += n;
    }
    return CURLE_OK;
}

/* Some bytes into buf; *n 0 at the end of the stream. */
static CURLcode wire_recv(handle *h, transfer *x, char *buf, size_t cap, size_t *n)
{
    CURLcode rc;

    for (;;) {
        *n = 0;
        rc = curl_easy_recv(h->easy, buf, cap, n);
        if (rc == CURLE_AGAIN) {
            if ((rc = wire_wait(h, x, POLLIN)) != CURLE_OK)
                return rc;
            continue;
        }
        if (rc == CURLE_OK && *n)
            x->got_bytes = 1;
        return rc;
    }
}

/* More bytes into the handle's read buffer (compacted, grown when full). */
static CURLcode wire_fill(handle *h, transfer *x, size_t *n)
{
    char *grown;
    size_t cap;

    if (h->in_pos) {
        memmove(h->in, h->in + h->in_pos, h->in_len - h->in_pos);
        h->in_len -= h->in_pos;
        h->in_pos = 0;
    }
    if (h->in_cap - h->in_len < WIRE_READ / 2) {
        cap = h->in_cap ? 2 * h->in_cap : WIRE_READ;
        if (!(grown = malloc(cap)))
            return CURLE_OUT_OF_MEMORY;
        if (h->in) {
            memcpy(grown, h->in, h->in_len);
            acmpca__wipe(h->in, h->in_cap);
            free(h->in);
        }
        h->in = grown;
        h->in_cap = cap;
    }
    return wire_recv(h, x, h->in + h->in_len, h->in_cap - h->in_len, n);
}

static CURLcode wire_fail(handle *h, CURLcode rc, const char *what)
{
    snprintf(h->state->errbuf, CURL_ERROR_SIZE, "%s", what);
    return rc;
}

/*
 * The next line of the answer (its LF included) at h->in + *at, *len bytes;
 * read as needed. *end: 0 a line; 1 the stream ended first; 2 the line
 * (its LF included) is `max` bytes or longer: libcurl's rule for head lines,
 * whose buffer of CURL_MAX_HTTP_HEADER bytes keeps a NUL after the line.
 */
static CURLcode wire_line(handle *h, transfer *x, size_t max, size_t *at, size_t *len, int *end)
{
    size_t from = h->in_pos, n;
    char *nl;
    CURLcode rc;

    *end = 0;
    for (;;) {
        nl = from < h->in_len ? memchr(h->in + from, '\n', h->in_len - from) : NULL;
        if (nl) {
            *at = h->in_pos;
            *len = (size_t)(nl + 1 - (h->in + h->in_pos));
            if (*len >= max)
                break;
            h->in_pos += *len;
            return CURLE_OK;
        }
        if (h->in_len - h->in_pos >= max)
            break;
        from = h->in_len - h->in_pos; /* after compaction, where the unscanned bytes start */
        if ((rc = wire_fill(h, x, &n)) != CURLE_OK)
            return rc;
        if (n == 0) {
            *end = 1;
            return CURLE_OK;
        }
        h->in_len += n;
    }
    *end = 2;
    return CURLE_OK;
}

/* The value of header `name` (lowercase) of the head read so far, or NULL. */
static const char *wire_header(const transfer *x, const char *name)
{
    size_t i;
    for (i = 0; i < x->header_count; i++)
        if (strcmp(x->head->ptr + x->header_at[i], name) == 0)
            return x->head->ptr + x->header_at[i] + strlen(name) + 1;
    return NULL;
}

/* Whether `list` (a header value) names `word` (lowercase) in any case. */
static int value_has(const char *list, const char *word)
{
    size_t w = strlen(word), i;
    for (; list && *list; list++) {
        for (i = 0; i < w && list[i] && (list[i] | 0x20) == word[i]; i++)
            ;
        if (i == w)
            return 1;
    }
    return 0;
}

/* n body bytes from the read buffer, then from the stream, into resp->body. */
static CURLcode wire_body_bytes(handle *h, transfer *x, size_t want)
{
    acmpca_buf *b = &x->resp->body;
    size_t have = h->in_len - h->in_pos, take = have < want ? have : want, n;
    CURLcode rc;

    if (want == 0)
        return CURLE_OK;
    if (acmpca__buf_reserve(b, want) != 0)
        return CURLE_OUT_OF_MEMORY;
    if (take) {
        memcpy(b->ptr + b->len, h->in + h->in_pos, take);
        b->len += take;
        h->in_pos += take;
    }
    want -= take;
    while (want > 0) {
        if ((rc = wire_recv(h, x, b->ptr + b->len, want, &n)) != CURLE_OK)
            return rc;
        if (n == 0) {
            snprintf(h->state->errbuf, CURL_ERROR_SIZE,
                     "transfer closed with %zu bytes remaining to read", want);
            return CURLE_PARTIAL_FILE;
        }
        b->len += n;
        want -= n;
    }
    b->ptr[b->len] = '\0';
    return CURLE_OK;
}

static CURLcode wire_chunked(handle *h, transfer *x)
{
    size_t at, len, i, size, limit = x->t->opts.max_response_bytes;
    int end, digits;
    char c;
    CURLcode rc;

    for (;;) {
        if ((rc = wire_line(h, x, WIRE_CHUNK_LINE, &at, &len, &end)) != CURLE_OK)
            return rc;
        if (end)
            return wire_fail(h, end == 1 ? CURLE_PARTIAL_FILE : CURLE_RECV_ERROR,
                             end == 1 ? "transfer closed with outstanding read data remaining"
                                      : "a chunk size line over the limit");
        for (i = 0, size = 0, digits = 0; i < len; i++, digits++) {
            c = h->in[at + i];
            if (c >= '0' && c <= '9')
                c = (char)(c - '0');
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                c = (char)((c | 0x20) - 'a' + 10);
            else
                break;
            if (size > (SIZE_MAX >> 4))
                return wire_fail(h, CURLE_RECV_ERROR, "a chunk size out of range");
            size = size * 16 + (size_t)c;
        }
        if (digits == 0)
            return wire_fail(h, CURLE_RECV_ERROR, "a bad chunk size line");
        if (size == 0)
            break;
        if (x->resp->body.len + size > limit || x->resp->body.len + size < size) {
            x->too_large = 1;
            return CURLE_WRITE_ERROR;
        }
        if ((rc = wire_body_bytes(h, x, size)) != CURLE_OK)
            return rc;
        if ((rc = wire_line(h, x, 3, &at, &len, &end)) != CURLE_OK)
            return rc;
        if (end || h->in[at] != (len == 2 ? '\r' : '\n'))
            return wire_fail(h, end == 1 ? CURLE_PARTIAL_FILE : CURLE_RECV_ERROR,
                             end == 1 ? "transfer closed with outstanding read data remaining"
                                      : "a chunk not ended by CRLF");
    }
    do { /* trailers, up to the empty line */
        if ((rc = wire_line(h, x, WIRE_CHUNK_LINE, &at, &len, &end)) != CURLE_OK)
            return rc;
        if (end)
            return wire_fail(h, end == 1 ? CURLE_PARTIAL_FILE : CURLE_RECV_ERROR,
                             end == 1 ? "transfer closed with outstanding read data remaining"
                                      : "a trailer line over the limit");
    } while (!(len == 1 || (len == 2 && h->in[at] == '\r')));
    return CURLE_OK;
}

/* The body up to the end of the stream. */
static CURLcode wire_until_close(handle *h, transfer *x)
{
    acmpca_buf *b = &x->resp->body;
    size_t n, limit = x->t->opts.max_response_bytes;
    CURLcode rc;

    for (;;) {
        n = h->in_len - h->in_pos;
        if (b->len + n > limit) {
            x->too_large = 1;
            return CURLE_WRITE_ERROR;
        }
        if (n && acmpca__buf_append(b, h->in + h->in_pos, n) != 0)
            return CURLE_OUT_OF_MEMORY;
        h->in_pos = h->in_len = 0;
        if ((rc = wire_fill(h, x, &n)) != CURLE_OK)
            return rc;
        if (n == 0)
            return CURLE_OK;
        h->in_len = n;
    }
}

/*
 * Read the answer to the request just sent: its head (1xx ones skipped),
 * then its body. *nothing: the stream ended or failed before a byte of the
 * answer (a pooled connection the server had closed); *keep: the
 * connection may carry another request.
 */
static CURLcode wire_answer(handle *h, transfer *x, const char *method, int *nothing, int *keep)
{
    size_t at, len, head_bytes = 0, max = x->t->opts.max_response_bytes;
    const char *cl, *te, *conn;
    int end, status = 0, minor = 1, in_head = 0, no_body;
    unsigned long long length;
    char *line, *stop;
    CURLcode rc;

    *nothing = 1;
    *keep = 0;
    h->in_len = h->in_pos = 0;
    for (;;) {
        if ((rc = wire_line(h, x, CURL_MAX_HTTP_HEADER, &at, &len, &end)) != CURLE_OK)
            return rc;
        if (end == 1) {
            if (*nothing && h->in_len == 0)
                return wire_fail(h, CURLE_GOT_NOTHING, "Empty reply from server");
            *nothing = 0;
            return wire_fail(h, CURLE_PARTIAL_FILE,
                             "connection closed before the answer's head ended");
        }
        if (end == 2 || (head_bytes += len) > WIRE_HEAD_MAX) {
            x->head_over = 1;
            return CURLE_OUT_OF_MEMORY; /* told by map_curl_error (head_line_over_limit) */
        }
        *nothing = 0;
        line = h->in + at;
        if (!in_head) {
            if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
                line[8] != ' ' || line[9] < '0' || line[9] > '9' || line[10] < '0' ||
                line[10] > '9' || line[11] < '0' || line[11] > '9')
                return wire_fail(h, CURLE_WEIRD_SERVER_REPLY, "the answer is not HTTP/1.x");
            minor = line[7] - '0';
            status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
            x->resp->status = status; /* what an error reports, as CURLINFO_RESPONSE_CODE */
            in_head = 1;
        }
        /* on_header takes each line as libcurl hands it: the status line starts a head over */
        if (on_header(line, 1, len, x) != len)
            return x->header_overflow ? CURLE_WRITE_ERROR : CURLE_OUT_OF_MEMORY;
        if (!x->head_done)
            continue;
        if (status >= 200 || status == 101)
            break;
        in_head = 0; /* a 1xx interim answer: the real one follows */
        head_bytes = 0;
    }
    cl = wire_header(x, "content-length");
    te = wire_header(x, "transfer-encoding");
    conn = wire_header(x, "connection");
    *keep = minor >= 1 ? !value_has(conn, "close") : value_has(conn, "keep-alive");
    no_body = status == 204 || status == 304 || status < 200 || strcmp(method, "HEAD") == 0;
    if (no_body)
        rc = CURLE_OK;
    else if (te && value_has(te, "chunked"))
        rc = wire_chunked(h, x);
    else if (cl && !te) {
        errno = 0;
        length = strtoull(cl, &stop, 10);
        if (cl[0] < '0' || cl[0] > '9' || *stop || errno)
            return wire_fail(h, CURLE_WEIRD_SERVER_REPLY, "an invalid Content-Length");
        if (length > max) {
            x->too_large = 1;
            return CURLE_FILESIZE_EXCEEDED;
        }
        rc = wire_body_bytes(h, x, (size_t)length);
    } else {
        *keep = 0; /* the end of the stream ends the body */
        rc = wire_until_close(h, x);
    }
    if (h->in_pos != h->in_len)
        *keep = 0; /* bytes past the answer: nothing of the next may be guessed */
    return rc;
}

/* Connect the handle (libcurl's part): DNS, TCP, TLS under the connect timeout and the deadline. */
static CURLcode wire_connect(handle *h, transfer *x, const char *url)
{
    int64_t left = 0;
    CURLcode rc;

    if (x->deadline_ms) {
        left = x->deadline_ms - acmpca__now_ms();
        if (left <= 0) {
            x->total_timed_out = 1;
            return CURLE_OPERATION_TIMEDOUT;
        }
    }
    free(h->url);
    if (!(h->url = acmpca__strdup(url)))
        return CURLE_OUT_OF_MEMORY;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)left);
    rc = curl_easy_perform(h->easy);
    if (rc == CURLE_OPERATION_TIMEDOUT && x->deadline_ms && acmpca__now_ms() >= x->deadline_ms)
        x->total_timed_out = 1;
    if (rc == CURLE_OK &&
        (curl_easy_getinfo(h->easy, CURLINFO_ACTIVESOCKET, &h->fd) != CURLE_OK ||
         h->fd == CURL_SOCKET_BAD))
        rc = wire_fail(h, CURLE_COULDNT_CONNECT, "no socket after connecting");
    return rc;
}

/*
 * One exchange on the wire path. Returns 0, or an ACMPCA_E* error set as the
 * full path sets it (map_curl_error).
 */
static int send_wire(acmpca_transport *t, const acmpca_http_request *req,
                     acmpca_http_response *resp, long limit_ms, const wire_url *u)
{
    handle h;
    transfer *x = NULL;
    size_t out_len = 0;
    int64_t deadline = limit_ms > 0 ? acmpca__now_ms() + limit_ms : 0;
    int err = 0, secret_body = resp->body.secret, attempt, reused, nothing = 0, keep = 0;
    CURLcode rc;

    for (attempt = 0;; attempt++) {
        memset(&h, 0, sizeof(h));
        h.fd = CURL_SOCKET_BAD;
        /* The retry takes a new connection, never another pooled one. */
        if ((err = take_handle(t, &h, 1, attempt == 0)) != 0)
            goto fail;
        /* A pooled connection to another origin is of no use here: a new one. */
        if (h.url && (url_origin_len(h.url) != url_origin_len(req->url) ||
                      strncmp(h.url, req->url, url_origin_len(req->url)) != 0)) {
            handle_free(&h);
            if ((err = take_handle(t, &h, 1, 0)) != 0)
                goto fail;
        }
        reused = h.url != NULL;
        x = &h.state->x;
        memset(x, 0, offsetof(transfer, header_at));
        x->t = t;
        x->resp = resp;
        x->deadline_ms = deadline;
        x->easy = h.easy;
        h.state->errbuf[0] = '\0';
        h.head.len = 0;
        x->head = &h.head;
        if (!reused && (rc = wire_connect(&h, x, req->url)) != CURLE_OK)
            goto curl_failed;
        if (!(out_len = wire_request(&h, t, req, u))) {
            err = ACMPCA_ENOMEM;
            goto fail;
        }
        x->last_byte_ms = acmpca__now_ms();
        rc = wire_send(&h, x, h.out, out_len);
        acmpca__wipe(h.out, out_len);
        out_len = 0;
        nothing = 1;
        if (rc == CURLE_OK)
            rc = wire_answer(&h, x, req->method, &nothing, &keep);
        if (rc == CURLE_OK)
            break;
        if (reused && nothing && attempt == 0 && !x->read_timed_out && !x->total_timed_out) {
            /* The server had closed the pooled connection: once more on a new one. */
            handle_free(&h);
            acmpca__http_response_clear(resp);
            resp->body.secret = secret_body;
            continue;
        }
    curl_failed:
        err = map_curl_error(rc, x, h.easy, req->url, h.state->errbuf);
        acmpca__error_set_http_status(resp->status);
        goto fail;
    }
    if ((!resp->body.ptr && (err = acmpca__buf_append(&resp->body, "", 0)) != 0) ||
        (err = take_headers(x, resp)) != 0)
        goto fail;
    if (secret_body) { /* a credentials exchange: its head and bytes stay nowhere */
        if (h.head.ptr)
            acmpca__wipe(h.head.ptr, h.head.cap);
        if (h.in)
            acmpca__wipe(h.in, h.in_cap);
    }
    x->resp = NULL;
    x->head = NULL;
    if (keep)
        give_back(t, &h);
    else
        handle_free(&h);
    return 0;

fail:
    if (out_len)
        acmpca__wipe(h.out, out_len);
    handle_free(&h);
    acmpca__http_response_clear(resp);
    return err;
}

int acmpca__transport_send(acmpca_transport *t, const acmpca_http_request *req,
                           acmpca_http_response *resp, long limit_ms)
{
    return acmpca__transport_send_ex(t, req, resp, limit_ms, 0);
}

int acmpca__transport_send_ex(acmpca_transport *t, const acmpca_http_request *req,
                              acmpca_http_response *resp, long limit_ms, int flags)
{
    handle h;
    wire_url u;
    struct curl_slist *list = NULL;
    size_t list_size = 0, head_len = 0;
    transfer *x;
    char *errbuf;
    CURLcode rc;
    CURL *e;
    long status = 0;
    int err = 0, secret_body = resp->body.secret;

    memset(&h, 0, sizeof(h));
    memset(resp, 0, sizeof(*resp));
    resp->body.secret = secret_body; /* the caller said the body may hold secrets */

    claim_pool(t);
    if (!proxy_possible(t) && wire_url_fits(req->url, &u) && wire_request_fits(req))
        return send_wire(t, req, resp, limit_ms, &u);
    if ((err = take_handle(t, &h, 0, 1)) != 0)
        goto fail;
    e = h.easy;
    x = &h.state->x;
    errbuf = h.state->errbuf;
    memset(x, 0, offsetof(transfer, header_at));
    x->t = t;
    x->resp = resp;
    x->deadline_ms = limit_ms > 0 ? acmpca__now_ms() + limit_ms : 0;
    errbuf[0] = '\0';
    h.head.len = 0;
    x->head = &h.head;
    x->easy = e;
    if (!(list = header_list_new(&h, req, t->user_agent, t->user_agent_len, &list_size,
                                &head_len))) {
        err = ACMPCA_ENOMEM;
        goto fail;
    }

    /* What differs per request; the rest was set when the handle was made.
     * curl copies the URL and the method: set them only when they change. */
    if (!h.url || strcmp(h.url, req->url) != 0) {
        free(h.url);
        if (!(h.url = acmpca__strdup(req->url))) {
            err = ACMPCA_ENOMEM;
            goto fail;
        }
        curl_easy_setopt(e, CURLOPT_URL, req->url);
    }
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (!h.method[0] || strcmp(h.method, req->method) != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        if (strlen(req->method) < sizeof(h.method))
            strcpy(h.method, req->method);
        else
            h.method[0] = '\0'; /* a longer one is set every time */
    }
    /* The list is the handle's (header_list_new): set again only when it moved. */
    if (h.list_set != list) {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
        h.list_set = list;
    }

    /*
     * A response that carries no secret lets the wipe of libcurl's blocks stop
     * after the request head, where libcurl puts every copy of our headers:
     * the request line and curl's few lines (Host, User-Agent; the margin is
     * generous) come before them. A proxy may add a Proxy-Authorization line
     * of any length there too, so then every byte is wiped.
     */
    if ((flags & ACMPCA__SEND_PUBLIC_RESPONSE) && !secret_body && !proxy_possible(t))
        acmpca__curl_wipe_limit(head_len + strlen(req->method) + strlen(req->url) +
                                t->user_agent_len + 1024);
    rc = perform(&h, x);
    acmpca__curl_wipe_limit(0);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_FILESIZE_EXCEEDED)
        x->too_large = 1;
    if (rc != CURLE_OK) {
        err = map_curl_error(rc, x, e, req->url, errbuf);
        acmpca__error_set_http_status((int)status);
        goto fail;
    }
    resp->status = (int)status;
    if ((!resp->body.ptr && (err = acmpca__buf_append(&resp->body, "", 0)) != 0) ||
        (err = take_headers(x, resp)) != 0)
        goto fail;
    if (secret_body && h.head.ptr) /* a credentials exchange: its head stays nowhere */
        acmpca__wipe(h.head.ptr, h.head.cap);
    /* The handle keeps its options, but none may point at this call's memory:
     * the rest point at the handle's own (its state, its wiped list). */
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    x->resp = NULL;
    x->head = NULL;
    header_list_wipe(list, list_size);
    give_back(t, &h);
    return 0;

fail:
    header_list_wipe(list, list_size);
    handle_free(&h); /* a failed connection is not worth keeping */
    acmpca__http_response_clear(resp);
    return err;
}

/*
 * A request of acmpca__request_new: the public struct, this, then `cap` bytes
 * of room for its strings. Its method is ROOM_METHOD, a string no other
 * request can point at, so that acmpca_http_request_free tells it apart from
 * a request whose every string was allocated on its own. The room held the
 * signature (Authorization, the session token): it is wiped before it is
 * freed, as acmpca__free_secret wipes a string allocated apart.
 */
typedef struct request_room {
    size_t cap, used, mark;
} request_room;

static const char ROOM_METHOD[] = "POST"; /* read-only: a write through it faults */

static request_room *room_of(const acmpca_http_request *req)
{
    return req->method == (const char *)ROOM_METHOD ? (request_room *)(void *)(req + 1) : NULL;
}

static int in_room(const acmpca_http_request *req, const char *s)
{
    const request_room *r = room_of(req);
    uintptr_t base = r ? (uintptr_t)(r + 1) : 0;
    return r && (uintptr_t)s >= base && (uintptr_t)s - base < r->cap;
}

acmpca_http_request *acmpca__request_new(size_t room)
{
    acmpca_http_request *req = malloc(sizeof(*req) + sizeof(request_room) + room);
    request_room *r;
    if (!req)
        return NULL;
    memset(req, 0, sizeof(*req));
    req->method = (char *)ROOM_METHOD;
    r = room_of(req);
    r->cap = room;
    r->used = r->mark = 0;
    return req;
}

char *acmpca__request_alloc(acmpca_http_request *req, size_t size)
{
    request_room *r = room_of(req);
    char *p;
    if (r && r->cap - r->used >= size) {
        p = (char *)(r + 1) + r->used;
        r->used += size;
        return p;
    }
    return malloc(size);
}

char *acmpca__request_strdup(acmpca_http_request *req, const char *s, size_t len)
{
    char *p = acmpca__request_alloc(req, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void acmpca__request_release(acmpca_http_request *req, char *s, int secret)
{
    if (in_room(req, s))
        return;
    if (secret)
        acmpca__free_secret(s);
    else
        free(s);
}

void acmpca__request_mark(acmpca_http_request *req)
{
    request_room *r = room_of(req);
    if (r)
        r->mark = r->used;
}

void acmpca__request_rewind(acmpca_http_request *req)
{
    request_room *r = room_of(req);
    if (r) {
        acmpca__wipe((char *)(r + 1) + r->mark, r->used - r->mark);
        r->used = r->mark;
    }
}

void acmpca_http_request_free(acmpca_http_request *req)
{
    request_room *r;
    size_t i;
    if (!req)
        return;
    for (i = 0; i < req->header_count; i++) {
        acmpca__request_release(req, (char *)req->headers[i].name, 0);
        acmpca__request_release(req, (char *)req->headers[i].value, 1);
    }
    free(req->headers);
    free(req->body);
    acmpca__request_release(req, req->url, 0);
    if ((r = room_of(req)) != NULL)
        acmpca__wipe(r + 1, r->used);
    else
        free(req->method);
    free(req);
}

void acmpca__http_response_clear(acmpca_http_response *resp)
{
    size_t i;
    for (i = 0; !resp->packed && i < resp->header_count; i++) {
        free((char *)resp->headers[i].name);
        free((char *)resp->headers[i].value);
    }
    free(resp->headers);
    acmpca__buf_free(&resp->body);
    memset(resp, 0, sizeof(*resp));
}

const char *acmpca__http_response_header(const acmpca_http_response *resp, const char *name)
{
    size_t i;
    for (i = 0; i < resp->header_count; i++)
        if (strcmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}
