/*
 * floor_socket.c - the raw-socket floor of the benchmark: the same
 * GetCertificate request bytes as the libcurl floor, written with one send()
 * on one keep-alive TCP_NODELAY socket, the answer read until its
 * Content-Length is in. The kernel's loopback round trip and nothing else.
 *
 *   BENCH_ENDPOINT=http://127.0.0.1:PORT floor_socket      (protocol: face.h)
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "face.h"
#include "floor_request.h"

static int one_call(int fd, const char *req, size_t req_len)
{
    char buf[16384];
    size_t len = 0, need = 0;
    ssize_t n;

    if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
        goto fail;
    for (;;) {
        if ((n = recv(fd, buf + len, sizeof(buf) - len - 1, 0)) <= 0)
            goto fail;
        len += (size_t)n;
        buf[len] = '\0';
        if (!need) {
            char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
            if (!end)
                continue;
            if (strncmp(buf, "HTTP/1.1 200", 12) != 0 ||
                !(cl = strcasestr(buf, "\r\ncontent-length:")) || cl > end)
                goto fail;
            need = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
        }
        if (len >= need)
            return 0;
    }
fail:
    fprintf(stderr, "floor_socket: the server did not answer 200 with a body\n");
    return -1;
}

#define APPEND_HEADER(h) n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", h);

int main(void)
{
    struct sockaddr_in sa;
    face_times t;
    char req[4096], body[1024], host[64];
    const char *endpoint = getenv("BENCH_ENDPOINT");
    long i, calls, warmup;
    int fd = -1, one = 1, port = 0, n = 0, len, rc = 1;
    double t1;

    face_start(&t);
    calls = face_env_count("BENCH_CALLS", 1000, 1);
    warmup = face_env_count("BENCH_WARMUP", 100, 0);
    len = floor_body(body, sizeof(body), face_env("BENCH_CA_ARN", FACE_CA_ARN),
                     face_env("BENCH_CERT_ARN", FACE_CERT_ARN));
    if (!endpoint || sscanf(endpoint, "http://%63[0-9.]:%d", host, &port) != 2 || len < 0) {
        fprintf(stderr, "floor_socket: BENCH_ENDPOINT: expected http://127.0.0.1:PORT\n");
        return 2;
    }
    n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: %s:%d\r\n", host, port);
    FLOOR_HEADERS(APPEND_HEADER)
    n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: %d\r\n\r\n%s", len, body);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("floor_socket: connect");
        goto fail;
    }
    t1 = face_realtime();
    t.import_client_ms = (t1 - t.main_s) * 1e3;
    if (one_call(fd, req, (size_t)n) != 0)
        goto fail;
    t.first_call_ms = (face_realtime() - t1) * 1e3;
    for (i = 1; i < warmup; i++)
        if (one_call(fd, req, (size_t)n) != 0)
            goto fail;
    face_loop_begin(&t);
    for (i = 0; i < calls; i++)
        if (one_call(fd, req, (size_t)n) != 0)
            goto fail;
    face_loop_end(&t);
    face_print(&t, "floor: raw socket", "-", calls, "");
    rc = 0;
fail:
    if (fd >= 0)
        close(fd);
    return rc;
}
