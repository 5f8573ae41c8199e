/*
 * test_wipe_paths.c - secrets that reach libcurl or the transport
 * in unusual ways are still wiped. Two cases, each scanning the process's
 * writable memory once everything is freed:
 *
 * credentials/response-body-wiped-as-it-grows: a credentials response that
 * arrives in many small pieces grows its body buffer several times; every
 * block it outgrew, as well as the last, is wiped, so once the provider is
 * freed no copy of the secret access key is left.
 *
 * security/proxy-credentials-do-not-shorten-the-wipe (--proxy): through a
 * proxy whose URL carries long credentials, libcurl's Proxy-Authorization
 * line comes before our headers in its request buffer; the session token is
 * wiped from libcurl's blocks all the same. Runs under recording_proxy.py,
 * which answers every request itself.
 *
 * The container provider fetches from the fault server, whose "trickle"
 * action sends the body 16 bytes at a time, the secret key in its first 64
 * bytes (the buffer's first block). The secret exists in clear only while
 * the script is sent: this binary holds it XOR-encoded and the scan compares
 * memory against the encoded form (as test_memory_secrets.c does).
 *
 * The first runs under tests/fixtures/with_server.py fault.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "acmpca.h"
#include "check.h"
#include "fault_socket.h"

#define XOR_KEY 0xA5
#define CHUNK ((size_t)1 << 20)
#define OVERLAP 64

/* A 40-character secret access key. */
static const unsigned char secret_enc[] = {
    0xe8, 0xd6, 0xf7, 0xd1, 0xec, 0xe6, 0xee, 0xe9, 0xe0, 0xf6, 0xe0, 0xe6, 0xf7, 0xe0, 0xf1,
    0xee, 0xe0, 0xfc, 0x95, 0x94, 0x97, 0x96, 0x91, 0x90, 0x93, 0x92, 0x9d, 0x9c, 0xe4, 0xe7,
    0xe6, 0xe1, 0xe0, 0xe3, 0xe2, 0xed, 0xec, 0xef, 0xee, 0xe9,
};

/* The script, with the secret decoded into it in place; wiped after sending. */
static void script_trickled_credentials(void)
{
    static const char before[] = "[{\"action\": \"trickle\", \"chunk\": 16, \"interval_ms\": 1, "
                                 "\"body\": {\"SecretAccessKey\": \"";
    static const char after[] = "\", \"AccessKeyId\": \"ASIATRICKLE1\", \"Token\": "
                                "\"TOKENTRICKLE1\", \"Expiration\": \"2099-01-01T00:00:00Z\"}}]";
    size_t i, n = sizeof(before) - 1;
    char *text = malloc(sizeof(before) + sizeof(secret_enc) + sizeof(after)), answer[1024];

    REQUIRE(text != NULL);
    memcpy(text, before, n);
    for (i = 0; i < sizeof(secret_enc); i++)
        text[n++] = (char)(secret_enc[i] ^ XOR_KEY);
    memcpy(text + n, after, sizeof(after));
    REQUIRE(control("POST", "/_fault/reset", "", answer, sizeof(answer)) == 200);
    REQUIRE(control("POST", "/_fault/script", text, answer, sizeof(answer)) == 200);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}

#define WINDOW 16
#define MAX_WINDOWS 64

/*
 * Pieces of the XOR-encoded secret `enc` in the private writable mappings:
 * places that hold one of its WINDOW-byte windows (at offsets 0, WINDOW,
 * 2*WINDOW...), so any leftover of 2*WINDOW bytes or more is found. One pass,
 * the windows indexed by their first two bytes (sanitizer heaps are large).
 */
static int scan_memory(const unsigned char *enc, size_t len)
{
    static unsigned char head[65536];   /* 1 + a window, by its first two bytes */
    unsigned char next[MAX_WINDOWS], *buf;
    char line[512], perms[8];
    unsigned long lo, hi, addr;
    size_t w, windows = len / WINDOW;
    FILE *maps;
    int mem, hits = 0;

    REQUIRE(windows <= MAX_WINDOWS);
    memset(head, 0, sizeof(head));
    for (w = 0; w < windows; w++) {
        unsigned key = (unsigned)enc[w * WINDOW] << 8 | enc[w * WINDOW + 1];
        next[w] = head[key];
        head[key] = (unsigned char)(w + 1);
    }
    buf = mmap(NULL, CHUNK + OVERLAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(buf != MAP_FAILED);
    REQUIRE((maps = fopen("/proc/self/maps", "r")) != NULL);
    REQUIRE((mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)) >= 0);
    while (fgets(line, sizeof(line), maps)) {
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || perms[3] != 'p' || hi - lo > ((unsigned long)1 << 32))
            continue;   /* larger mappings are sanitizer shadow memory */
        for (addr = lo; addr < hi; addr += CHUNK) {
            size_t want = hi - addr < CHUNK + OVERLAP ? hi - addr : CHUNK + OVERLAP, j;
            ssize_t got = pread(mem, buf, want, (off_t)addr);

            for (j = 0; got > 0 && j < CHUNK && j + WINDOW <= (size_t)got; j++) {
                unsigned key = (unsigned)(unsigned char)(buf[j] ^ XOR_KEY) << 8 |
                               (unsigned char)(buf[j + 1] ^ XOR_KEY);
                for (w = head[key]; w; w = next[w - 1]) {
                    size_t k;
                    for (k = 2; k < WINDOW && (buf[j + k] ^ XOR_KEY) == enc[(w - 1) * WINDOW + k];
                         k++)
                        ;
                    hits += k == WINDOW;
                }
            }
        }
    }
    close(mem);
    fclose(maps);
    munmap(buf, CHUNK + OVERLAP);
    return hits;
}

/* A random secret of `len` letters and digits: in clear in *clear (for the
 * caller to wipe and free), XOR-encoded in *enc (for the scan). */
static void random_secret(size_t len, char **clear, unsigned char **enc)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[1024];
    size_t i;
    int fd = open("/dev/urandom", O_RDONLY);

    REQUIRE(len <= sizeof(raw) && fd >= 0 && read(fd, raw, len) == (ssize_t)len);
    close(fd);
    REQUIRE((*clear = malloc(len + 1)) != NULL && (*enc = malloc(len)) != NULL);
    for (i = 0; i < len; i++) {
        (*clear)[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
        (*enc)[i] = (unsigned char)((*clear)[i] ^ XOR_KEY);
    }
    (*clear)[len] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
}

/* A call through a proxy whose URL carries 3000 bytes of credentials. */
static int test_proxy(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *client = NULL;
    cJSON *in, *out = NULL;
    const char *proxy = getenv("ACMPCA_TEST_PROXY");
    char *token, *url;
    unsigned char *token_enc;
    size_t n;

    if (!proxy || strncmp(proxy, "http://", 7) != 0) {
        fprintf(stderr, "ACMPCA_TEST_PROXY is not set: run under recording_proxy.py\n");
        return 2;
    }
    REQUIRE((url = malloc(strlen(proxy) + 3100)) != NULL);
    memcpy(url, "http://user:", 12);
    memset(url + 12, 'p', 3000);
    n = 12 + 3000;
    url[n++] = '@';
    strcpy(url + n, proxy + 7);
    setenv("http_proxy", url, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    free(url);

    random_secret(600, &token, &token_enc);
    REQUIRE(acmpca_global_init() == 0);
    o.endpoint_url = "http://127.0.0.1:9";   /* never reached: the proxy answers */
    o.region = "us-east-1";
    o.access_key_id = "AKIDPROXYTEST";
    o.secret_access_key = "proxytestsecret";
    o.session_token = token;
    o.max_attempts = 1;
    REQUIRE(acmpca_client_new(&client, &o) == 0);
    OPENSSL_cleanse(token, strlen(token)); /* the client holds its own copy now */
    free(token);
    REQUIRE((in = cJSON_Parse("{\"CertificateAuthorityArn\": \"arn:aws:acm-pca:us-east-1:"
                              "123456789012:certificate-authority/proxy\", \"CertificateArn\": "
                              "\"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
                              "proxy/certificate/1\"}")) != NULL);
    CHECK_INT(acmpca_call(client, "GetCertificate", in, &out), 0);
    /* The answer came from the proxy: the request went through it. */
    CHECK(out && cJSON_GetObjectItem(out, "AccessKeyId") &&
          strcmp(cJSON_GetObjectItem(out, "AccessKeyId")->valuestring, "AKIDFROMPROXY") == 0);
    cJSON_Delete(out);
    cJSON_Delete(in);
    acmpca_client_free(client);
    acmpca_global_cleanup();
    CHECK_INT(scan_memory(token_enc, 600), 0);
    free(token_enc);
    return CHECK_DONE();
}

int main(int argc, char **argv)
{
    acmpca_credentials_options o = ACMPCA_CREDENTIALS_OPTIONS_INIT;
    acmpca_credentials_provider *p = NULL;
    acmpca_credentials *c = NULL;
    char url[256];
    int before;

    /* Lazy binding spills vector registers onto the stack: bind all at start. */
    if (!getenv("LD_BIND_NOW")) {
        setenv("LD_BIND_NOW", "1", 1);
        execv("/proc/self/exe", argv);
        perror("execv /proc/self/exe");
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "--proxy") == 0)
        return test_proxy();
    REQUIRE(acmpca_global_init() == 0);
    script_trickled_credentials();
    snprintf(url, sizeof(url), "%s/creds", getenv("ACMPCA_TEST_ENDPOINT"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    o.metadata_attempts = 1;
    REQUIRE(acmpca_credentials_provider_container(&p, &o) == 0);
    CHECK_INT(acmpca_credentials_get(p, 0, &c), 0);
    CHECK(c && c->access_key_id && strcmp(c->access_key_id, "ASIATRICKLE1") == 0);
    before = scan_memory(secret_enc, sizeof(secret_enc)); /* seen while in use */
    CHECK(before >= 1);
    acmpca_credentials_free(c);
    acmpca_credentials_provider_unref(p);
    acmpca_global_cleanup();
    CHECK_INT(scan_memory(secret_enc, sizeof(secret_enc)), 0);
    return CHECK_DONE();
}
