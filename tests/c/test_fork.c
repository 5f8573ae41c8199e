/*
 * test_fork.c - one client used on both sides of fork(), as pre-fork servers
 * (gunicorn, uwsgi, nginx workers, multiprocessing) do. The client is warmed
 * up first, so the parent holds a pooled keep-alive connection when it forks;
 * then parent and child call at the same moment with different inputs, round
 * after round. The fault server answers "echo" with keep-alive: each answer
 * names the request it answers, so an answer read by the wrong process shows.
 *
 *   test_fork http|tls [ROUNDS]     (under tests/fixtures/with_server.py fault)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "acmpca.h"
#include "check.h"

#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run under tests/fixtures/with_server.py fault\n", name);
        exit(2);
    }
    return v;
}

static size_t discard(char *data, size_t size, size_t n, void *userp)
{
    (void)data;
    (void)userp;
    return size * n;
}

/* Every ACM PCA request from now on gets an "echo" answer on a kept-alive connection. */
static void script_echo(void)
{
    static const char body[] = "{\"reset\":true,\"actions\":[],"
                               "\"default\":{\"action\":\"echo\",\"keep_alive\":true}}";
    char url[512];
    CURL *h = curl_easy_init();
    long status = 0;

    REQUIRE(h != NULL);
    snprintf(url, sizeof(url), "%s/_fault/script", env("ACMPCA_TEST_FAULT_CONTROL"));
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    REQUIRE(curl_easy_perform(h) == CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    REQUIRE(status == 200);
}

/* GetCertificate for `tag`; 1 when the answer is the one to this very request. */
static int ask(acmpca_client *c, const char *who, const char *tag)
{
    char in[512], arn[256];
    char *out = NULL;
    cJSON *doc = NULL;
    const cJSON *cert;
    int ok = 0;

    snprintf(arn, sizeof(arn), CA_ARN "/certificate/%s", tag);
    snprintf(in, sizeof(in), "{\"CertificateAuthorityArn\":\"" CA_ARN "\","
             "\"CertificateArn\":\"%s\"}", arn);
    if (acmpca_call_json(c, "GetCertificate", in, &out) != 0) {
        printf("  %s %s: error: %s\n", who, tag, acmpca_error_last()->message);
        return 0;
    }
    doc = cJSON_Parse(out);
    cert = cJSON_GetObjectItemCaseSensitive(doc, "Certificate");
    if (cJSON_IsString(cert) && strcmp(cert->valuestring, arn) == 0)
        ok = 1;
    else
        printf("  %s %s: got the answer to another request: %s\n", who, tag, out);
    cJSON_Delete(doc);
    acmpca_free(out);
    return ok;
}

int main(int argc, char **argv)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    int tls, rounds, round, wrong = 0, child_failed = 0, gate[2];
    char tag[64], go = 'g';

    if (argc < 2 || (strcmp(argv[1], "http") != 0 && strcmp(argv[1], "tls") != 0)) {
        fprintf(stderr, "usage: test_fork http|tls [ROUNDS]\n");
        return 2;
    }
    tls = strcmp(argv[1], "tls") == 0;
    rounds = argc > 2 ? atoi(argv[2]) : 50;
    REQUIRE(acmpca_global_init() == 0);
    script_echo();

    o.endpoint_url = env(tls ? "ACMPCA_TEST_FAULT_TLS_ENDPOINT" : "ACMPCA_TEST_ENDPOINT");
    if (tls)
        o.ca_bundle = env("ACMPCA_TEST_FAULT_CA");
    o.region = "us-east-1";
    o.access_key_id = "AKIDFORKTEST";
    o.secret_access_key = "fork-test-secret";
    o.max_attempts = 1;       /* a retry must not hide a broken exchange */
    o.read_timeout_ms = 3000; /* an answer the other process ate: a timeout, not a hang */
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    REQUIRE(ask(c, "parent", "warm-up")); /* now the pool holds a live connection */

    for (round = 0; round < rounds; round++) {
        pid_t pid;
        int status = 0;

        REQUIRE(pipe(gate) == 0);
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int ok = 1;
            close(gate[1]);
            if (read(gate[0], &go, 1) != 1)
                _exit(3);
            /* Every fifth child only frees the client: that alone must not disturb the parent. */
            if (round % 5 != 4) {
                snprintf(tag, sizeof(tag), "child-%d", round);
                ok = ask(c, "child", tag);
            }
            acmpca_client_free(c);
            acmpca_global_cleanup();
            fflush(stdout);
            exit(ok ? 0 : 1);
        }
        close(gate[0]);
        REQUIRE(write(gate[1], &go, 1) == 1); /* both call at the same moment */
        close(gate[1]);
        snprintf(tag, sizeof(tag), "parent-%d", round);
        wrong += !ask(c, "parent", tag);
        REQUIRE(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("  round %d: child ended with status 0x%x\n", round, status);
            child_failed++;
        }
    }
    /* The parent's own connection still works after every child is gone. */
    wrong += !ask(c, "parent", "after");
    printf("%s: %d rounds, %d wrong or failed answers in the parent, %d children failed\n",
           argv[1], rounds, wrong, child_failed);
    CHECK_INT(wrong, 0);
    CHECK_INT(child_failed, 0);
    acmpca_client_free(c);
    acmpca_global_cleanup();
    return CHECK_DONE();
}
