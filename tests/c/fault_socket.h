/*
 * fault_socket.h - tests/fixtures/fault_server.py's control API over a plain
 * socket, for the tests that scan their own memory for secrets: nothing but
 * the test's own buffers ever holds what is sent (no library keeps a copy).
 * Header-only (static functions); runs under `with_server.py fault`.
 */
#ifndef FAULT_SOCKET_H
#define FAULT_SOCKET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int server_port(void)
{
    const char *e = getenv("ACMPCA_TEST_ENDPOINT");
    int port = 0;

    if (!e || sscanf(e, "http://127.0.0.1:%d", &port) != 1) {
        fprintf(stderr, "ACMPCA_TEST_ENDPOINT is not set: run under with_server.py fault\n");
        exit(2);
    }
    return port;
}

/* One request; the whole answer (head and body) in out. Returns the HTTP status. */
static int control(const char *method, const char *path, const char *body, char *out,
                   size_t cap)
{
    struct sockaddr_in sa;
    char head[512];
    size_t used = 0;
    ssize_t n;
    int fd, status = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)server_port());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n", method, path, strlen(body));
    REQUIRE(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    REQUIRE(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
    while (used < cap - 1 && (n = read(fd, out + used, cap - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fd);
    sscanf(out, "HTTP/1.1 %d", &status);
    return status;
}

#endif
