/*
 * test_wire.c - the transport's own HTTP/1.1 framing (core/src/transport.c,
 * the wire path), against a scripted server on a loopback socket run by a
 * thread of this test: it reads each request whole and answers with the
 * exact bytes a case gives, then keeps the connection, closes it, or closes
 * it without answering. Each case names what a user of the transport sees:
 * status, headers, body, error code and message, and how many connections
 * the server accepted (reuse, retry).
 *
 *   test_wire CASE   (CASE: chunked, until-close, interim, stale-retried,
 *                     no-retry-after-bytes, header-limit, size-limit,
 *                     head-line-limit, request-bytes, request-wiped)
 */
#define _GNU_SOURCE /* memmem, strcasestr, pthread_getattr_np */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "internal.h"
#include "transport.h"

#define MAX_STEPS 8

/* One answer: `bytes` (NULL: close without answering), then the connection is
 * closed when `close_after`. */
typedef struct step {
    const char *bytes;
    size_t len; /* 0: strlen(bytes) */
    int close_after;
} step;

static struct {
    int listen_fd, port;
    step steps[MAX_STEPS];
    int nsteps;
    int connections, requests;
    char last_request[8192];
    pthread_t thread;
    /* The server thread's stack: the scripted server's memory, not the client's
     * (what it read may linger there), so request-wiped does not scan it. */
    _Atomic uintptr_t stack_lo, stack_hi;
} srv;

/* One request read whole (head, then Content-Length bytes); 0 at EOF. */
static int read_request(int fd)
{
    char buf[8192];
    size_t used = 0, want = 0;
    ssize_t n;
    char *end, *cl;

    for (;;) {
        end = used ? memmem(buf, used, "\r\n\r\n", 4) : NULL;
        if (end) {
            cl = strcasestr(buf, "\r\nContent-Length:");
            want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            if (used >= want)
                break;
        }
        if (used >= sizeof(buf) - 1)
            return 0;
        n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n <= 0)
            return 0;
        used += (size_t)n;
        buf[used] = '\0';
    }
    memcpy(srv.last_request, buf, used + 1);
    explicit_bzero(buf, sizeof(buf)); /* request-wiped scans this thread's stack too */
    return 1;
}

static void *serve(void *arg)
{
    int next = 0, fd = -1;
    struct pollfd p;
    pthread_attr_t attr;
    void *lo;
    size_t size;
    (void)arg;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
            srv.stack_lo = (uintptr_t)lo;
            srv.stack_hi = (uintptr_t)lo + size;
        }
        pthread_attr_destroy(&attr);
    }
    while (next < srv.nsteps) {
        if (fd < 0) {
            p.fd = srv.listen_fd;
            p.events = POLLIN;
            if (poll(&p, 1, 10000) <= 0)
                break;
            if ((fd = accept(srv.listen_fd, NULL, NULL)) < 0)
                break;
            srv.connections++;
        }
        if (!read_request(fd)) { /* the client closed this one: the next comes */
            close(fd);
            fd = -1;
            continue;
        }
        srv.requests++;
        {
            const step *s = &srv.steps[next++];
            if (s->bytes) {
                size_t len = s->len ? s->len : strlen(s->bytes);
                REQUIRE(write(fd, s->bytes, len) == (ssize_t)len);
            }
            if (!s->bytes || s->close_after) {
                close(fd);
                fd = -1;
            }
        }
    }
    /* Keep the last connection open until the client is done with it. */
    if (fd >= 0) {
        p.fd = fd;
        p.events = POLLIN;
        poll(&p, 1, 2000);
        close(fd);
    }
    return NULL;
}

static void start(const step *steps, int n)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    memset(&srv, 0, sizeof(srv));
    memcpy(srv.steps, steps, (size_t)n * sizeof(*steps));
    srv.nsteps = n;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE((srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    REQUIRE(bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    REQUIRE(listen(srv.listen_fd, 8) == 0);
    REQUIRE(getsockname(srv.listen_fd, (struct sockaddr *)&sa, &len) == 0);
    srv.port = ntohs(sa.sin_port);
    REQUIRE(pthread_create(&srv.thread, NULL, serve, NULL) == 0);
}

static void stop(acmpca_transport *t)
{
    acmpca__transport_free(t); /* closes what the pool kept: the server sees EOF */
    pthread_join(srv.thread, NULL);
    close(srv.listen_fd);
}

static acmpca_transport *transport(size_t max_bytes)
{
    acmpca_transport_options o;
    acmpca_transport *t = NULL;
    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = 5000;
    o.read_timeout_ms = 10000;
    o.verify_tls = 1;
    o.max_response_bytes = max_bytes ? max_bytes : 1 << 20;
    o.pool_size = 2;
    o.user_agent = "wire-test";
    REQUIRE(acmpca__transport_new(&t, &o) == 0);
    return t;
}

/* method to path on the server; the response in *resp. Returns the transport's result. */
static int send_one(acmpca_transport *t, const char *method, const char *path,
                    acmpca_header *headers, size_t nh, const char *body,
                    acmpca_http_response *resp)
{
    acmpca_http_request req;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
    memset(&req, 0, sizeof(req));
    req.method = (char *)method;
    req.url = url;
    req.headers = headers;
    req.header_count = nh;
    req.body = (char *)body;
    req.body_len = body ? strlen(body) : 0;
    memset(resp, 0, sizeof(*resp));
    return acmpca__transport_send(t, &req, resp, 0);
}

static void expect_ok(acmpca_transport *t, int status, const char *body)
{
    acmpca_http_response r;
    int rc = send_one(t, "GET", "/", NULL, 0, NULL, &r);
    if (rc)
        fprintf(stderr, "error %d: %s\n", rc, acmpca_error_last()->message);
    CHECK_INT(rc, 0);
    CHECK_INT(r.status, status);
    CHECK_STR(r.body.ptr, body);
    acmpca__http_response_clear(&r);
}

static void expect_error(acmpca_transport *t, int code, const char *words)
{
    acmpca_http_response r;
    CHECK_INT(send_one(t, "GET", "/", NULL, 0, NULL, &r), code);
    CHECK_CONTAINS(acmpca_error_last()->message, words);
}

#define OK_LEN "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/* Chunk sizes of one and two hex digits, an extension, a trailer; the
 * connection then carries the next call. */
static void chunked(void)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n1;name=value\r\n \r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
         "0\r\nX-Trailer: t\r\n\r\n", 0, 0},
        {OK_LEN, 0, 0},
    };
    acmpca_transport *t = transport(0);
    start(steps, 2);
    expect_ok(t, 200, "hello abcdefghijklmnopqrstuvwxyz");
    expect_ok(t, 200, "ok");
    stop(t);
    CHECK_INT(srv.connections, 1);
}

/* No length: the body ends with the stream, and the next call needs a new
 * connection; HTTP/1.0 without keep-alive is not reused either. */
static void until_close(void)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nall of it, until the end", 0, 1},
        {"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none", 0, 0},
        {OK_LEN, 0, 0},
    };
    acmpca_transport *t = transport(0);
    start(steps, 3);
    expect_ok(t, 200, "all of it, until the end");
    expect_ok(t, 200, "one");
    expect_ok(t, 200, "ok");
    stop(t);
    CHECK_INT(srv.connections, 3);
}

/* 1xx answers before the real one are skipped, their headers with them. */
static void interim(void)
{
    static const step steps[] = {
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Interim: 1\r\n\r\n"
         "HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final:  a b \t\r\n\r\nmade", 0, 0},
    };
    acmpca_transport *t = transport(0);
    acmpca_http_response r;
    start(steps, 1);
    CHECK_INT(send_one(t, "GET", "/", NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body.ptr, "made");
    CHECK(acmpca__http_response_header(&r, "x-interim") == NULL);
    CHECK_STR(acmpca__http_response_header(&r, "x-final"), "a b");
    acmpca__http_response_clear(&r);
    stop(t);
}

/* The server closes a kept connection without a word: the next call finds it
 * closed before any byte of its answer and goes again, once, on a new one. */
static void stale_retried(void)
{
    static const step steps[] = {
        {OK_LEN, 0, 1}, /* a keep-alive answer, then the server closes */
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain", 0, 0},
    };
    acmpca_transport *t = transport(0);
    start(steps, 2);
    expect_ok(t, 200, "ok");
    usleep(100 * 1000); /* let the close arrive (the outcome is the same without) */
    expect_ok(t, 200, "again");
    stop(t);
    CHECK_INT(srv.connections, 2);
    CHECK_INT(srv.requests, 2);
}

/* Bytes of the answer arrived before the connection died: never sent again. A
 * new connection that answers nothing is not retried either. */
static void no_retry_after_bytes(void)
{
    static const step steps[] = {
        {OK_LEN, 0, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal", 0, 1},
        {NULL, 0, 1},
    };
    acmpca_transport *t = transport(0);
    acmpca_http_response r;
    start(steps, 3);
    expect_ok(t, 200, "ok");
    CHECK_INT(send_one(t, "POST", "/", NULL, 0, "{}", &r), ACMPCA_ENETWORK);
    CHECK_CONTAINS(acmpca_error_last()->message, "7 bytes remaining");
    CHECK_INT(acmpca_error_last()->http_status, 200);
    expect_error(t, ACMPCA_ENETWORK, "Empty reply from server");
    stop(t);
    CHECK_INT(srv.connections, 2);
    CHECK_INT(srv.requests, 3);
}

static char *head_with(int headers, size_t line_len)
{
    size_t cap = (size_t)headers * 32 + line_len + 256, i;
    char *s = malloc(cap), *p = s;
    int k;
    REQUIRE(s);
    p += sprintf(p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
    for (k = 1; k < headers; k++)
        p += sprintf(p, "X-H%d: %d\r\n", k, k);
    if (line_len) {
        p += sprintf(p, "X-Long: ");
        for (i = 8; i < line_len; i++)
            *p++ = 'v';
        p += sprintf(p, "\r\n");
    }
    sprintf(p, "\r\nok");
    return s;
}

/* 100 headers pass, 101 are refused. */
static void header_limit(void)
{
    char *at = head_with(100, 0), *over = head_with(101, 0);
    step steps[] = {{at, 0, 0}, {over, 0, 0}};
    acmpca_transport *t = transport(0);
    acmpca_http_response r;
    start(steps, 2);
    CHECK_INT(send_one(t, "GET", "/", NULL, 0, NULL, &r), 0);
    CHECK_INT(r.header_count, 100);
    CHECK_STR(acmpca__http_response_header(&r, "x-h99"), "99");
    acmpca__http_response_clear(&r);
    expect_error(t, ACMPCA_ELIMIT, "has more than 100 headers");
    stop(t);
    free(at);
    free(over);
}

/* A head line of libcurl's limit passes (CURL_MAX_HTTP_HEADER - 1 bytes with
 * its CRLF; a line of 8192 bytes and more is not kept as a header, as
 * before); one byte more is refused. */
static void head_line_limit(void)
{
    char *at = head_with(1, CURL_MAX_HTTP_HEADER - 3);
    char *over = head_with(1, CURL_MAX_HTTP_HEADER - 2);
    step steps[] = {{at, 0, 0}, {over, 0, 0}};
    acmpca_transport *t = transport(0);
    start(steps, 2);
    expect_ok(t, 200, "ok");
    expect_error(t, ACMPCA_ETOOLARGE, "header line over the 102400-byte limit");
    stop(t);
    free(at);
    free(over);
}

/* max_response_bytes: a body of exactly the limit passes, one byte more is
 * refused, whether announced, chunked or read until the close. */
static void size_limit(void)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", 0, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123456789", 0, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n1234\r\n4\r\n5678\r\n0\r\n\r\n",
         0, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n1234\r\n5\r\n56789\r\n0\r\n\r\n",
         0, 1},
        {"HTTP/1.1 200 OK\r\n\r\n12345678", 0, 1},
        {"HTTP/1.1 200 OK\r\n\r\n123456789", 0, 1},
    };
    acmpca_transport *t = transport(8);
    start(steps, 6);
    expect_ok(t, 200, "12345678");
    expect_error(t, ACMPCA_ETOOLARGE, "larger than the 8-byte limit");
    expect_ok(t, 200, "12345678");
    expect_error(t, ACMPCA_ETOOLARGE, "larger than the 8-byte limit");
    expect_ok(t, 200, "12345678");
    expect_error(t, ACMPCA_ETOOLARGE, "larger than the 8-byte limit");
    stop(t);
}

/* What goes out: request line, Host, the headers (one with an empty value
 * left out, as libcurl does), User-Agent, Content-Length and the body. */
static void request_bytes(void)
{
    static const step steps[] = {{OK_LEN, 0, 0}, {OK_LEN, 0, 0}, {OK_LEN, 0, 0}};
    acmpca_header h[] = {{"X-Amz-Target", "Svc.Op"}, {"X-Empty", ""}};
    acmpca_transport *t = transport(0);
    acmpca_http_response r;
    char host[64], big[1206];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    start(steps, 3);
    CHECK_INT(send_one(t, "PUT", "/latest/api/token?x=1", h, 2, "{\"a\":1}", &r), 0);
    acmpca__http_response_clear(&r);
    snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
    CHECK(strncmp(srv.last_request, "PUT /latest/api/token?x=1 HTTP/1.1\r\n", 36) == 0);
    CHECK_CONTAINS(srv.last_request, host);
    CHECK_CONTAINS(srv.last_request, "\r\nX-Amz-Target: Svc.Op\r\n");
    CHECK(strstr(srv.last_request, "X-Empty") == NULL);
    CHECK_CONTAINS(srv.last_request, "\r\nUser-Agent: acmpca/");
    CHECK_CONTAINS(srv.last_request, " wire-test\r\n");
    CHECK_CONTAINS(srv.last_request, "\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
    CHECK_INT(send_one(t, "GET", "", NULL, 0, NULL, &r), 0);
    acmpca__http_response_clear(&r);
    CHECK(strncmp(srv.last_request, "GET / HTTP/1.1\r\n", 16) == 0);
    CHECK(strstr(srv.last_request, "Content-Length") == NULL);
    CHECK_INT(send_one(t, "POST", "/", NULL, 0, big, &r), 0); /* every digit of the length */
    acmpca__http_response_clear(&r);
    CHECK_CONTAINS(srv.last_request, "\r\nContent-Length: 1205\r\n\r\nbbbb");
    stop(t);
    CHECK_INT(srv.connections, 1);
}

/* ---- request-wiped: the request's bytes do not outlive the send ---------- */

/* The marker's byte j: made as it is compared, so no copy of it sits in memory. */
#define MARK_LEN 40
static char mark(size_t j)
{
    return (char)('a' + (j * 7 + 3) % 26);
}

static int marks_in(const char *p, size_t n)
{
    size_t i, j;
    int found = 0;
    for (i = 0; i + MARK_LEN <= n; i++) {
        for (j = 0; j < MARK_LEN && p[i + j] == mark(j); j++)
            ;
        found += j == MARK_LEN;
    }
    return found;
}

/* Copies of the marker in the process's private writable memory. */
static int scan_self(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    int mem = open("/proc/self/mem", O_RDONLY), found = 0;
    static char buf[(1 << 20) + MARK_LEN];
    unsigned long long start, end, off;
    char line[512], perms[8];
    ssize_t got;

    REQUIRE(maps && mem >= 0);
    while (fgets(line, sizeof(line), maps)) {
        if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || perms[3] != 'p' || end - start > (1ull << 32))
            continue; /* not private and writable, or a sanitizer's shadow */
        if (start < srv.stack_hi && end > srv.stack_lo)
            continue; /* the scripted server's thread stack */
        for (off = start; off < end; off += 1 << 20) {
            size_t want = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
            if ((char *)(uintptr_t)off == buf)
                break; /* the scan's own buffer */
            if ((got = pread(mem, buf, want, (off_t)off)) <= 0)
                break;
            found += marks_in(buf, (size_t)got);
        }
    }
    explicit_bzero(buf, sizeof(buf));
    fclose(maps);
    close(mem);
    return found;
}

/* A session token goes out; once the send returned (the connection kept in
 * the pool, the transport alive) no copy of it is left but the server's. */
static void request_wiped(void)
{
    static const step steps[] = {{OK_LEN, 0, 0}};
    acmpca_transport *t = transport(0);
    acmpca_http_response r;
    acmpca_header h[1];
    char *token = malloc(MARK_LEN + 1);
    size_t j;

    REQUIRE(token);
    for (j = 0; j < MARK_LEN; j++)
        token[j] = mark(j);
    token[MARK_LEN] = '\0';
    h[0].name = "X-Amz-Security-Token";
    h[0].value = token;
    start(steps, 1);
    CHECK_INT(send_one(t, "POST", "/", h, 1, "{}", &r), 0);
    acmpca__http_response_clear(&r);
    CHECK_INT(marks_in(srv.last_request, strlen(srv.last_request)), 1); /* it was sent */
    CHECK(scan_self() >= 2); /* the scan sees the token and the server's copy */
    explicit_bzero(srv.last_request, sizeof(srv.last_request));
    explicit_bzero(token, MARK_LEN);
    free(token);
    CHECK_INT(scan_self(), 0);
    stop(t);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {{"chunked", chunked},
                 {"until-close", until_close},
                 {"interim", interim},
                 {"stale-retried", stale_retried},
                 {"no-retry-after-bytes", no_retry_after_bytes},
                 {"header-limit", header_limit},
                 {"head-line-limit", head_line_limit},
                 {"size-limit", size_limit},
                 {"request-bytes", request_bytes},
                 {"request-wiped", request_wiped}};
    size_t i;
    static const char *const proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                          "ALL_PROXY", "HTTP_PROXY"};
    for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]); /* the wire path: no proxy possible */
    REQUIRE(argc == 2);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].run();
            return CHECK_DONE();
        }
    }
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
}
