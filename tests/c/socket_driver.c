/*
 * socket_driver.c - a second driver of the call machine, for tests: plain
 * blocking POSIX sockets and nanosleep, no libcurl. HTTP/1.1 with one
 * connection per request (Connection: close), Content-Length or chunked
 * bodies, the step's connect, read and total timeouts and its size cap. It
 * proves the machine decides everything: the fault matrix gives the same
 * outcomes and attempt counts through it as through the libcurl driver.
 * Plain HTTP only (TLS is the libcurl driver's job in these tests).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socket_driver.h"

#define MAX_HEADERS 100
#define MAX_LINE 102400   /* as libcurl's CURL_MAX_HTTP_HEADER */

typedef struct answer {
    int status;
    acmpca_header headers[MAX_HEADERS];
    size_t header_count;
    char *head;          /* the header block, which the headers point into */
    char *body;
    size_t body_len;
} answer;

typedef struct conn {
    int fd;
    const acmpca_step *step;
    int64_t deadline;    /* monotonic ms; 0: none */
    char buf[MAX_LINE + 2];
    size_t len, pos;     /* unread bytes are buf[pos..len) */
    int code;            /* the failure kind, when a function returns -1 */
    int eof;             /* the server closed the connection cleanly */
    char detail[256];
} conn;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int failed(conn *c, int code, const char *what)
{
    c->code = code;
    snprintf(c->detail, sizeof(c->detail), "%s %s://%s:%d%s", what, c->step->scheme,
             c->step->host, c->step->port, c->step->path);
    return -1;
}

/* Wait until the socket is ready, within `timeout_ms` and the call's deadline. */
static int wait_for(conn *c, short events, long timeout_ms, int code, const char *what)
{
    struct pollfd p = {c->fd, events, 0};
    int64_t until = now_ms() + timeout_ms;
    int rc;

    if (c->deadline && c->deadline < until) {
        until = c->deadline;
        code = ACMPCA_EREAD_TIMEOUT;
        what = "total_timeout_ms passed while waiting for";
    }
    do
        rc = poll(&p, 1, (int)(until - now_ms() > 0 ? until - now_ms() : 0));
    while (rc < 0 && errno == EINTR);
    return rc > 0 ? 0 : failed(c, code, what);
}

static int connect_to(conn *c)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[16];
    int err = 0;
    socklen_t len = sizeof(err);

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", c->step->port);
    if (getaddrinfo(c->step->host, port, &hints, &res) != 0)
        return failed(c, ACMPCA_ECONNECT, "could not resolve");
    for (ai = res; ai; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
            continue;
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
            break;
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return failed(c, ACMPCA_ECONNECT, "could not connect to");
    if (wait_for(c, POLLOUT, c->step->connect_timeout_ms, ACMPCA_ECONNECT_TIMEOUT,
                 "connect timeout on") != 0)
        return -1;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        return failed(c, ACMPCA_ECONNECT, "could not connect to");
    return 0;
}

static int send_all(conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_for(c, POLLOUT, c->step->read_timeout_ms, ACMPCA_EREAD_TIMEOUT,
                         "read timeout: could not send to") != 0)
                return -1;
            continue;
        }
        if (w <= 0)
            return failed(c, ACMPCA_ENETWORK, "connection lost sending to");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_request(conn *c)
{
    const acmpca_http_request *r = c->step->request;
    size_t i, cap = 256 + strlen(c->step->path) + r->body_len, n;
    char *head;
    int rc;

    for (i = 0; i < r->header_count; i++)
        cap += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 4;
    if (!(head = malloc(cap)))
        return failed(c, ACMPCA_ENETWORK, "out of memory sending to");
    n = (size_t)snprintf(head, cap, "%s %s HTTP/1.1\r\n", r->method, c->step->path);
    for (i = 0; i < r->header_count; i++)
        n += (size_t)snprintf(head + n, cap - n, "%s: %s\r\n", r->headers[i].name,
                              r->headers[i].value);
    n += (size_t)snprintf(head + n, cap - n, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          r->body_len);
    memcpy(head + n, r->body ? r->body : "", r->body_len);
    rc = send_all(c, head, n + r->body_len);
    free(head);
    return rc;
}

/* More bytes into the buffer (compacting it first); -1 on silence, EOF or reset. */
static int fill(conn *c)
{
    ssize_t r;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len == sizeof(c->buf))
        return failed(c, ACMPCA_ETOOLARGE, "a response header line over the 102400-byte "
                                           "limit from");
    for (;;) {
        if (wait_for(c, POLLIN, c->step->read_timeout_ms, ACMPCA_EREAD_TIMEOUT,
                     "read timeout: no data from") != 0)
            return -1;
        r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            return 0;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        c->eof = r == 0;
        return failed(c, ACMPCA_ENETWORK, r == 0 ? "connection closed early by"
                                                 : "connection reset by");
    }
}

/* The next CRLF-terminated line (without it), valid until the next read. */
static char *read_line(conn *c)
{
    char *start, *eol;
    while (!(eol = memchr(c->buf + c->pos, '\n', c->len - c->pos)))
        if (fill(c) != 0)
            return NULL;
    start = c->buf + c->pos;
    c->pos = (size_t)(eol - c->buf) + 1;
    *eol = '\0';
    if (eol > start && eol[-1] == '\r')
        eol[-1] = '\0';
    return start;
}

static int read_bytes(conn *c, answer *a, size_t n)
{
    char *grown;
    if (a->body_len + n > c->step->max_response_bytes) {
        snprintf(c->detail, sizeof(c->detail), "response is larger than the %zu-byte limit",
                 c->step->max_response_bytes);
        c->code = ACMPCA_ETOOLARGE;
        return -1;
    }
    if (!(grown = realloc(a->body, a->body_len + n + 1)))
        return failed(c, ACMPCA_ENETWORK, "out of memory reading from");
    a->body = grown;
    while (n > 0) {
        size_t take;
        if (c->pos == c->len && fill(c) != 0)
            return -1;
        take = c->len - c->pos < n ? c->len - c->pos : n;
        memcpy(a->body + a->body_len, c->buf + c->pos, take);
        a->body_len += take;
        c->pos += take;
        n -= take;
    }
    a->body[a->body_len] = '\0';
    return 0;
}

static int read_answer(conn *c, answer *a)
{
    size_t head_len = 0, length = 0;
    int chunked = 0, have_length = 0;
    char *line;

    if (!(line = read_line(c)))
        return -1;
    if (sscanf(line, "HTTP/1.%*d %3d", &a->status) != 1)
        return failed(c, ACMPCA_ENETWORK, "no HTTP status line from");
    if (!(a->head = malloc(sizeof(c->buf))))
        return failed(c, ACMPCA_ENETWORK, "out of memory reading from");
    while ((line = read_line(c)) && *line) {
        char *colon = strchr(line, ':'), *v;
        size_t n = strlen(line) + 1;
        if (!colon || a->header_count == MAX_HEADERS || head_len + n > sizeof(c->buf))
            return failed(c, ACMPCA_ETOOLARGE, "too many or too long headers from");
        memcpy(a->head + head_len, line, n);
        a->head[head_len + (size_t)(colon - line)] = '\0';
        for (v = a->head + head_len + (colon - line) + 1; *v == ' ' || *v == '\t'; v++)
            ;
        a->headers[a->header_count].name = a->head + head_len;
        a->headers[a->header_count].value = v;
        a->header_count++;
        head_len += n;
        if (strcasecmp(a->head + head_len - n, "content-length") == 0) {
            length = strtoul(v, NULL, 10);
            have_length = 1;
        } else if (strcasecmp(a->head + head_len - n, "transfer-encoding") == 0 &&
                   strstr(v, "chunked")) {
            chunked = 1;
        }
    }
    if (!line)
        return -1;
    if (chunked) {
        for (;;) {
            if (!(line = read_line(c)))
                return -1;
            length = strtoul(line, NULL, 16);
            if (length == 0)
                break;
            if (read_bytes(c, a, length) != 0 || !read_line(c))
                return -1;
        }
    } else if (have_length) {
        if (read_bytes(c, a, length) != 0)
            return -1;
    } else { /* until the server closes */
        for (;;) {
            if (c->pos == c->len && fill(c) != 0) {
                if (!c->eof)
                    return -1;
                break;
            }
            if (read_bytes(c, a, c->len - c->pos) != 0)
                return -1;
        }
    }
    if (!a->body && read_bytes(c, a, 0) != 0)
        return -1;
    return 0;
}

static void answer_free(answer *a)
{
    free(a->head);
    free(a->body);
    memset(a, 0, sizeof(*a));
}

/* One SEND step: the answer or the failure goes to the machine. */
void socket_driver_send(acmpca_machine *m, const acmpca_step *s)
{
    conn *c = calloc(1, sizeof(*c));
    answer a;

    memset(&a, 0, sizeof(a));
    if (!c) {
        acmpca_machine_transport_error(m, ACMPCA_ENETWORK, 0, "out of memory");
        return;
    }
    c->fd = -1;
    c->step = s;
    c->deadline = s->deadline_ms ? now_ms() + s->deadline_ms : 0;
    if (strcmp(s->scheme, "http") != 0)
        failed(c, ACMPCA_ETLS, "the socket driver speaks plain HTTP only, not to");
    else if (connect_to(c) == 0 && send_request(c) == 0 && read_answer(c, &a) == 0) {
        acmpca_machine_response(m, a.status, a.headers, a.header_count, a.body, a.body_len);
        c->code = 0;
    }
    if (c->code)
        acmpca_machine_transport_error(m, c->code, a.status, c->detail);
    if (c->fd >= 0)
        close(c->fd);
    answer_free(&a);
    free(c);
}

int socket_driver_run(acmpca_machine *m)
{
    acmpca_step s;
    for (;;) {
        switch (acmpca_machine_next(m, &s)) {
        case ACMPCA_STEP_SEND:
            socket_driver_send(m, &s);
            break;
        case ACMPCA_STEP_SLEEP: {
            struct timespec ts = {s.sleep_ms / 1000, (s.sleep_ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
            break;
        }
        case ACMPCA_STEP_DONE:
            return 0;
        case ACMPCA_STEP_FAILED:
        default:
            return acmpca_error_last()->code;
        }
    }
}

int socket_driver_call(acmpca_client *c, const char *operation, const cJSON *input, cJSON **out,
                       acmpca_response_meta **meta)
{
    acmpca_machine *m = NULL;
    int err;

    *out = NULL;
    if (meta)
        *meta = NULL;
    if ((err = acmpca_machine_new_call(&m, c, operation, input)) != 0)
        return err;
    err = socket_driver_run(m);
    acmpca_machine_result(m, out, meta);
    acmpca_machine_free(m);
    return err;
}
