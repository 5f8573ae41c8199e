/*
 * test_connections.c - what the client does with TCP connections, observed
 * from outside. Against tests/fixtures/fixture_server.py, which counts the
 * connections that carried a call:
 *   reuse          10 sequential calls on one client open exactly one
 *   server-close   a connection the server closes (announced or silently)
 *                  is replaced by a new one, with no error and no retry
 * Without a server:
 *   connect-timeout  a listening port whose accept queue is full (SYNs are
 *                  dropped, so connecting hangs) fails with
 *                  ACMPCA_ECONNECT_TIMEOUT after max_attempts attempts, each
 *                  one a request logged and sent again, as the retry policy says
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "acmpca.h"
#include "check.h"
#include "fault_control.h"
#include "internal.h"

#define CA "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"

static int stat_of(const char *name)
{
    cJSON *doc = fixture_stats(0);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    int n = cJSON_IsNumber(v) ? v->valueint : -1;
    cJSON_Delete(doc);
    return n;
}

static acmpca_client *new_client(const char *endpoint, acmpca_client_options *o)
{
    acmpca_client *c = NULL;
    o->endpoint_url = endpoint;
    o->region = "us-east-1";
    o->access_key_id = "testing";
    o->secret_access_key = "testing";
    REQUIRE(acmpca_client_new(&c, o) == 0);
    return c;
}

/* ListPermissions on CA <kind>: the fixture answers an empty list (and closes
 * the connection afterwards for kinds close-after and drop-after). */
static void list_permissions(acmpca_client *c, const char *kind)
{
    char json[256];
    cJSON *in, *out = NULL;
    acmpca_response_meta *meta = NULL;
    snprintf(json, sizeof(json), "{\"CertificateAuthorityArn\":\"" CA "%s\"}", kind);
    in = cJSON_Parse(json);
    REQUIRE(in);
    CHECK_INT(acmpca_call_ex(c, ACMPCA_OP_LIST_PERMISSIONS, in, &out, &meta), 0);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(out, "Permissions")));
    CHECK(meta && meta->retry_attempts == 0);
    acmpca_response_meta_free(meta);
    cJSON_Delete(out);
    cJSON_Delete(in);
}

static void reuse(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = new_client(getenv("ACMPCA_TEST_ENDPOINT"), &o);
    int i;
    cJSON_Delete(fixture_stats(1));
    for (i = 0; i < 10; i++)
        list_permissions(c, "reuse");
    CHECK_INT(stat_of("connections"), 1);
    CHECK_INT(stat_of("refused"), 0);
    acmpca_client_free(c);
}

static void server_close(void)
{
    static const char *const kinds[] = {"keep", "close-after", "keep", "keep", "drop-after",
                                        "keep", "keep"};
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = new_client(getenv("ACMPCA_TEST_ENDPOINT"), &o);
    size_t i;
    cJSON_Delete(fixture_stats(1));
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        list_permissions(c, kinds[i]);
    /* Until "Connection: close", until the silent close, after it. */
    CHECK_INT(stat_of("connections"), 3);
    acmpca_client_free(c);
}

/*
 * A port whose accept queue is full: listen(0) admits one pending
 * connection, the fillers take it, and the kernel drops later SYNs, so a
 * connect neither succeeds nor is refused. Returns the listening socket.
 */
static int stalled_port(int *port, int fillers[3])
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), i;
    REQUIRE(s >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 0) == 0);
    REQUIRE(getsockname(s, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    for (i = 0; i < 3; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fillers[i] >= 0);
        fcntl(fillers[i], F_SETFL, O_NONBLOCK);
        (void)connect(fillers[i], (struct sockaddr *)&a, sizeof(a));
    }
    {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);  /* let the fillers' handshakes finish */
    }
    return s;
}

static void count_attempt_lines(void *userdata, const char *line)
{
    if (strstr(line, "ListTags attempt "))
        (*(int *)userdata)++;
}

static void connect_timeout(void)
{
    int port, fillers[3], s = stalled_port(&port, fillers), attempts_max, i;
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
    for (attempts_max = 1; attempts_max <= 3; attempts_max += 2) {
        acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
        acmpca_client *c;
        cJSON *in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "stalled\"}"), *out = NULL;
        const acmpca_error *e;
        int logged = 0;
        o.connect_timeout_ms = 200;
        o.max_attempts = attempts_max;
        o.log_fn = count_attempt_lines;
        o.log_userdata = &logged;
        c = new_client(endpoint, &o);
        CHECK_INT(acmpca_call(c, "ListTags", in, &out), ACMPCA_ECONNECT_TIMEOUT);
        e = acmpca_error_last();
        CHECK_INT(e->code, ACMPCA_ECONNECT_TIMEOUT);
        CHECK_STR(acmpca_error_class(e->code), "ConnectTimeoutError");
        CHECK_STR(e->stage, "send");
        CHECK_INT(e->http_status, 0);
        CHECK_INT(e->retryable, 1);
        /* Retried like any connection failure: every attempt made and sent. */
        CHECK_INT(e->attempts, attempts_max);
        CHECK_INT(logged, attempts_max);
        CHECK(out == NULL);
        acmpca_client_free(c);
        cJSON_Delete(in);
    }
    for (i = 0; i < 3; i++)
        close(fillers[i]);
    close(s);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    REQUIRE(acmpca_global_init() == 0);
    if (strcmp(which, "reuse") == 0)
        reuse();
    else if (strcmp(which, "server-close") == 0)
        server_close();
    else if (strcmp(which, "connect-timeout") == 0)
        connect_timeout();
    else {
        fprintf(stderr, "usage: test_connections reuse|server-close|connect-timeout\n");
        return 2;
    }
    acmpca_global_cleanup();
    return CHECK_DONE();
}
