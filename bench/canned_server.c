/*
 * canned_server.c - the benchmark's ACM PCA endpoint on loopback: every
 * request gets the same GetCertificate answer, so what a benchmark measures
 * is the client's own work.
 *
 *   canned_server [PORT]       (0 or none: a free port)
 *
 * Prints "PORT" on stdout once it listens; stops when its standard input
 * closes (or on SIGTERM/SIGINT), then prints "requests N" on stderr.
 *
 * One thread, one epoll loop, any number of keep-alive HTTP/1.1 connections.
 * Each answer leaves in ONE send() on a TCP_NODELAY socket: a server that
 * writes headers and body apart makes every call wait ~40 ms for Nagle and
 * the client's delayed ACK.
 *
 * Each answer has a request id of its own (x-amzn-RequestId, a UUID whose
 * last 12 digits count the answers), as the service's answers do: a client
 * that reuses what it made of the last answer's headers gets no help here.
 *
 * POST / (AWS JSON 1.1, X-Amz-Target ACMPrivateCA.GetCertificate) gets
 * application/x-amz-json-1.1; POST /service/ACMPrivateCA/operation/<Op> with
 * "Smithy-Protocol: rpc-v2-cbor" (aws-sdk-go-v2's default for ACM PCA since
 * service/acmpca v1.57.0) gets the same map as application/cbor.
 */
#define _GNU_SOURCE /* memmem, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CERT "-----BEGIN CERTIFICATE-----\nMIIBcanned\n-----END CERTIFICATE-----"
#define CHAIN "-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----"
#define MAX_HEAD 16384
#define MAX_BODY (1 << 20)

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
} conn;

static volatile sig_atomic_t stop;
static char json_answer[1024], cbor_answer[1024];
static size_t json_len, cbor_len;
static size_t json_rid, cbor_rid; /* where each answer's request id ends */

#define REQUEST_ID "x-amzn-RequestId: 4f0c2b1e-9d3a-4c55-8e21-000000000000\r\n"

/* Write the answer's number into the last 12 digits of its request id. */
static void number_answer(char *answer, size_t rid_end, unsigned long long n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < 12; i++, n >>= 4)
        answer[rid_end - 1 - i] = hex[n & 15];
}

/* The offset just past the request id's value in `answer`. */
static size_t request_id_end(const char *answer, size_t len)
{
    const char *p = memmem(answer, len, "x-amzn-RequestId: ", 18);
    return (size_t)(p - answer) + strlen(REQUEST_ID) - 2;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* A CBOR head: major type `major`, argument `n` (RFC 8949 section 3). */
static size_t cbor_head(unsigned char *p, unsigned major, size_t n)
{
    if (n < 24) {
        p[0] = (unsigned char)(major << 5 | n);
        return 1;
    }
    if (n < 256) {
        p[0] = (unsigned char)(major << 5 | 24);
        p[1] = (unsigned char)n;
        return 2;
    }
    p[0] = (unsigned char)(major << 5 | 25);
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)n;
    return 3;
}

static size_t cbor_text(unsigned char *p, const char *s)
{
    size_t n = strlen(s), h = cbor_head(p, 3, n);
    memcpy(p + h, s, n);
    return h + n;
}

static void make_answers(void)
{
    const char *json = "{\"Certificate\":\"" "-----BEGIN CERTIFICATE-----\\nMIIBcanned\\n"
                       "-----END CERTIFICATE-----\",\"CertificateChain\":\"-----BEGIN "
                       "CERTIFICATE-----\\nMIIBchain\\n-----END CERTIFICATE-----\"}";
    unsigned char body[512];
    size_t n = cbor_head(body, 5, 2);
    int h;

    n += cbor_text(body + n, "Certificate");
    n += cbor_text(body + n, CERT);
    n += cbor_text(body + n, "CertificateChain");
    n += cbor_text(body + n, CHAIN);
    json_len = (size_t)snprintf(json_answer, sizeof(json_answer),
                                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                REQUEST_ID "Content-Length: %zu\r\n"
                                "Connection: keep-alive\r\n\r\n%s",
                                strlen(json), json);
    h = snprintf(cbor_answer, sizeof(cbor_answer),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\n"
                 "smithy-protocol: rpc-v2-cbor\r\n" REQUEST_ID
                 "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                 n);
    memcpy(cbor_answer + h, body, n);
    cbor_len = (size_t)h + n;
    json_rid = request_id_end(json_answer, json_len);
    cbor_rid = request_id_end(cbor_answer, cbor_len);
}

/* The value of header `name` in the head [p, end), or NULL; *vlen gets its length. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *line = memchr(p, '\n', (size_t)(end - p));

    while (line && line + 1 < end) {
        const char *s = line + 1, *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol)
            break;
        if ((size_t)(eol - s) > nlen && s[nlen] == ':' && strncasecmp(s, name, nlen) == 0) {
            const char *v = s + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/* Answers every whole request in c->buf; -1 when the connection must close. */
static int serve(conn *c, unsigned long *requests)
{
    size_t off = 0;

    for (;;) {
        char *start = c->buf + off, *end;
        const char *v;
        size_t avail = c->len - off, vlen = 0, body = 0, head_len;
        int cbor;

        end = avail >= 4 ? memmem(start, avail, "\r\n\r\n", 4) : NULL;
        if (!end) {
            if (avail > MAX_HEAD)
                return -1;
            break;
        }
        head_len = (size_t)(end - start) + 4;
        if ((v = header(start, end + 2, "content-length", &vlen)) != NULL)
            body = strtoul(v, NULL, 10);
        if (body > MAX_BODY)
            return -1;
        if (avail < head_len + body)
            break;
        v = header(start, end + 2, "smithy-protocol", &vlen);
        cbor = v && vlen == 11 && strncasecmp(v, "rpc-v2-cbor", 11) == 0;
        number_answer(cbor ? cbor_answer : json_answer, cbor ? cbor_rid : json_rid, *requests);
        if (send(c->fd, cbor ? cbor_answer : json_answer, cbor ? cbor_len : json_len,
                 MSG_NOSIGNAL) < 0)
            return -1;
        ++*requests;
        off += head_len + body;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static void drop(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    struct epoll_event ev, events[64];
    conn stdin_marker, listen_marker;
    unsigned long requests = 0;
    int one = 1, lfd = -1, ep = -1, rc = 1, i, n;

    make_answers();
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1024) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0 || (ep = epoll_create1(0)) < 0) {
        perror("canned_server");
        goto fail;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_marker;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &stdin_marker;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev); /* fails harmlessly when stdin is a file */
    printf("%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    while (!stop) {
        n = epoll_wait(ep, events, 64, -1);
        if (n < 0 && errno != EINTR) {
            perror("canned_server: epoll_wait");
            goto fail;
        }
        for (i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c == &stdin_marker) {
                char b[256];
                if (read(0, b, sizeof(b)) <= 0)
                    stop = 1;
            } else if (c == &listen_marker) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (!(c = calloc(1, sizeof(*c)))) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
            } else {
                /* One recv per wake-up: epoll is level-triggered, so more data wakes us again. */
                ssize_t got = -1;
                int closed = 0;
                if (c->cap - c->len < 4096) {
                    size_t ncap = c->cap ? c->cap * 2 : 8192;
                    char *nb = ncap <= 2 * (MAX_HEAD + MAX_BODY) ? realloc(c->buf, ncap) : NULL;
                    if (nb) {
                        c->buf = nb;
                        c->cap = ncap;
                    } else {
                        closed = 1;
                    }
                }
                if (!closed) {
                    got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                    if (got > 0)
                        c->len += (size_t)got;
                    else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                        closed = 1;
                }
                if (serve(c, &requests) < 0 || closed)
                    drop(ep, c);
            }
        }
    }
    rc = 0;
fail:
    fprintf(stderr, "canned_server: requests %lu\n", requests);
    if (ep >= 0)
        close(ep);
    if (lfd >= 0)
        close(lfd);
    return rc;
}
