/*
 * syslog.c - `renew --daemon --syslog`: what the command would print on
 * stdout and stderr goes to the system log instead, one record per line
 * (stdout as info, stderr as err, facility daemon), so every existing
 * message reaches the log unchanged. The records are RFC 3164 datagrams on
 * the local log socket, /dev/log, or the socket named by ACMPCA_SYSLOG_SOCKET
 * (containers that mount the host's log socket elsewhere).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define LOG_DAEMON_FACILITY (3 << 3)
#define SEVERITY_ERR 3
#define SEVERITY_INFO 6

typedef struct log_stream {
    int severity;
    char line[2048];
    size_t len;
} log_stream;

static int log_fd = -1;
static struct sockaddr_un log_addr;
static log_stream out_stream = {SEVERITY_INFO, "", 0}, err_stream = {SEVERITY_ERR, "", 0};

static int log_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&log_addr, sizeof(log_addr)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    return 0;
}

static void log_record(int severity, const char *text, size_t len)
{
    char msg[2200], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    /* The tag already says who speaks. */
    if (len >= 8 && memcmp(text, "acmpca: ", 8) == 0) {
        text += 8;
        len -= 8;
    }
    if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm))
        strcpy(stamp, "Jan  1 00:00:00");
    n = snprintf(msg, sizeof(msg), "<%d>%s acmpca[%d]: %.*s", LOG_DAEMON_FACILITY | severity,
                 stamp, (int)getpid(), (int)len, text);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(msg))
        n = (int)sizeof(msg) - 1;
    /* A restarted log daemon has a new socket: connect again once. */
    if (send(log_fd, msg, (size_t)n, MSG_NOSIGNAL) < 0 &&
        (log_connect() != 0 || send(log_fd, msg, (size_t)n, MSG_NOSIGNAL) < 0)) {
        /* Nowhere to log: the original stderr is the last resort. */
        if (write(STDERR_FILENO, text, len) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
            return;
    }
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
    log_stream *s = cookie;
    size_t i;

    for (i = 0; i < size; i++) {
        if (buf[i] == '\n' || s->len == sizeof(s->line)) {
            log_record(s->severity, s->line, s->len);
            s->len = 0;
            if (buf[i] == '\n')
                continue;
        }
        s->line[s->len++] = buf[i];
    }
    return (ssize_t)size;
}

int cli_syslog_open(void)
{
    const char *path = getenv("ACMPCA_SYSLOG_SOCKET");
    cookie_io_functions_t io = {NULL, stream_write, NULL, NULL};
    FILE *out, *err;

    if (!path || !*path)
        path = "/dev/log";
    if (strlen(path) >= sizeof(log_addr.sun_path))
        return cli_error(CLI_USAGE, "ACMPCA_SYSLOG_SOCKET: a path of at most %zu bytes, got %s",
                         sizeof(log_addr.sun_path) - 1, path);
    memset(&log_addr, 0, sizeof(log_addr));
    log_addr.sun_family = AF_UNIX;
    memcpy(log_addr.sun_path, path, strlen(path) + 1);
    if (log_connect() != 0)
        return cli_error(CLI_SERVICE, "--syslog: cannot reach the system log at %s: %s", path,
                         strerror(errno));
    out = fopencookie(&out_stream, "w", io);
    err = fopencookie(&err_stream, "w", io);
    if (!out || !err) {
        if (out)
            fclose(out);
        if (err)
            fclose(err);
        return cli_error(CLI_SERVICE, "out of memory");
    }
    /* Line-buffered, so each message is one record as soon as it ends. */
    setvbuf(out, NULL, _IOLBF, 0);
    setvbuf(err, NULL, _IOLBF, 0);
    fflush(stdout);
    fflush(stderr);
    stdout = out;
    stderr = err;
    return CLI_OK;
}
