/*
 * test_memory_secrets.c - security/no-secret-left-in-memory: once a client
 * that made calls with explicit keys (one success, one service error, one
 * retried) is freed and acmpca_global_cleanup() has run, no writable private
 * page of the process holds the secret access key or the session token, nor
 * any MIN_RUN-byte piece of either. Every buffer that held one - the
 * signer's, the transport's and libcurl's own copies of the request headers -
 * must have been wiped before it was freed or outgrown.
 *
 * The secrets exist in clear only at run time: this binary holds them
 * XOR-encoded, the decoded copies are wiped as soon as the client has copied
 * them, and the scan compares memory against the encoded form, so the test
 * itself never leaves a clear copy behind. Memory is read through
 * /proc/self/mem (freed and ASan-poisoned bytes read like any other) into a
 * shared mapping, which the scan of private writable mappings never visits.
 * Stale copies in CPU registers are out of reach and out of scope: the test
 * binds every symbol at start so that the dynamic linker does not spill them
 * onto the stack.
 *
 * Runs under tests/fixtures/with_server.py fault.
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

#define XOR_KEY 0xA5
#define MIN_RUN 16                      /* a leaked piece this long counts */
#define CHUNK (4u << 20)                /* bytes scanned per read */
#define OVERLAP 1024u                   /* > the longest secret: runs are read whole */
#define MAX_REGION ((uint64_t)1 << 32)  /* larger mappings are sanitizer shadow */
#define CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

/* A 40-character secret access key and a 719-character session token. */
static const unsigned char secret_enc[] = {
    0xd3, 0xeb, 0xc7, 0xd4, 0xe0, 0xe0, 0xc7, 0xe8, 0x9d, 0xc0, 0xf4, 0xd1,
    0xd1, 0xcf, 0xcc, 0xf4, 0xeb, 0xf3, 0x8a, 0x95, 0xe6, 0x91, 0xe9, 0x97,
    0xca, 0xfd, 0xd7, 0xf2, 0x9d, 0xd2, 0xf6, 0xdf, 0xef, 0x9d, 0x9d, 0xdf,
    0x97, 0xf4, 0xe6, 0xce,
};
static const unsigned char token_enc[] = {
    0xec, 0xf4, 0xca, 0xef, 0xc7, 0x96, 0xef, 0xd5, 0xff, 0x97, 0xc9, 0xd0,
    0xfd, 0x97, 0xf3, 0xcf, 0xe0, 0xc8, 0xef, 0xec, 0x97, 0xf1, 0xf2, 0x93,
    0xef, 0xed, 0x93, 0xd1, 0xef, 0x92, 0xc4, 0xfc, 0xdf, 0x92, 0xeb, 0xdd,
    0xf2, 0xd5, 0xca, 0xcc, 0xf5, 0xd0, 0xcf, 0x90, 0xe3, 0xe1, 0xff, 0xf4,
    0xc9, 0xd7, 0x97, 0x90, 0xd2, 0xdc, 0x95, 0xea, 0xcc, 0xf2, 0x94, 0xff,
    0xcf, 0xca, 0xee, 0xed, 0xd1, 0xe4, 0xcf, 0x94, 0xc3, 0x9c, 0x91, 0xd0,
    0xc1, 0xcb, 0xe1, 0x9d, 0xea, 0x95, 0xd2, 0x97, 0xec, 0xeb, 0xfc, 0xe7,
    0xc4, 0xec, 0xf1, 0xc3, 0xec, 0xc1, 0xe9, 0xfc, 0xff, 0x94, 0xcf, 0xff,
    0xf6, 0xf7, 0x97, 0xe1, 0x90, 0xc4, 0xd3, 0xc0, 0xf7, 0xcb, 0xdf, 0xd2,
    0x94, 0xc1, 0xcb, 0xd0, 0x90, 0xfc, 0xe4, 0xe8, 0xe2, 0xc9, 0xc9, 0xcd,
    0xdf, 0xd5, 0xf7, 0x9c, 0xf4, 0xca, 0xf1, 0xe3, 0x9c, 0xf4, 0xc7, 0xc0,
    0x94, 0x9d, 0x8a, 0x95, 0xe8, 0xf4, 0xc3, 0xf3, 0xdc, 0xe3, 0xd3, 0xec,
    0xdd, 0xe7, 0xee, 0xe6, 0xf4, 0xf3, 0x9d, 0xca, 0xe6, 0xe7, 0xec, 0x91,
    0xc8, 0xef, 0xc1, 0xf0, 0xc7, 0xf0, 0xea, 0xcb, 0xf3, 0x93, 0xdc, 0xc0,
    0x9c, 0xf5, 0x96, 0xd5, 0xe3, 0xec, 0xe0, 0xed, 0x9c, 0xe3, 0xdf, 0xed,
    0xff, 0xc3, 0xef, 0xd7, 0xe7, 0xcb, 0xcc, 0xee, 0xd5, 0xc1, 0xfc, 0x9d,
    0xd1, 0xdd, 0xdf, 0xe9, 0xce, 0xc8, 0x96, 0x95, 0xc3, 0xc1, 0xc0, 0x91,
    0xc7, 0xcd, 0xec, 0xc9, 0xfd, 0xdc, 0xd6, 0xd3, 0x97, 0x91, 0xcc, 0xc1,
    0x95, 0xc2, 0xf4, 0xcf, 0xd0, 0xdc, 0x91, 0xc3, 0x93, 0xe2, 0xc9, 0xe1,
    0x93, 0xc3, 0x9c, 0xef, 0xed, 0xe0, 0xca, 0xc7, 0xcd, 0xf1, 0x96, 0xc3,
    0xf2, 0xef, 0xed, 0xfc, 0xe1, 0xce, 0xef, 0xfc, 0xf5, 0xf6, 0x9d, 0x8a,
    0xe9, 0xfc, 0xc3, 0x97, 0xe4, 0xe7, 0xee, 0xd4, 0xca, 0xc1, 0xc9, 0xf3,
    0xcd, 0xd0, 0xd5, 0xeb, 0xee, 0xf4, 0xf2, 0xe3, 0xc6, 0xef, 0xc7, 0xca,
    0xea, 0xc8, 0x95, 0xd0, 0xc0, 0x92, 0xf1, 0xcf, 0x8e, 0xc1, 0xc9, 0x94,
    0xd0, 0xd5, 0xf6, 0xe4, 0xe0, 0xcd, 0xed, 0xd2, 0xe3, 0xe7, 0xe6, 0x8a,
    0xff, 0xcd, 0xe1, 0xfd, 0xe1, 0xe0, 0xd4, 0xfc, 0xf0, 0xf7, 0xe8, 0xd5,
    0x96, 0x8e, 0x90, 0xe7, 0xf2, 0x8a, 0xcc, 0x92, 0x9d, 0xec, 0xfc, 0xc2,
    0xe2, 0x8e, 0xe2, 0xe3, 0xe9, 0xdf, 0xe0, 0x93, 0x92, 0xd5, 0x95, 0xf1,
    0x8e, 0xe7, 0xed, 0xf3, 0xf6, 0x92, 0x94, 0x9d, 0xc1, 0xdc, 0xfc, 0xfd,
    0xe6, 0xc7, 0xea, 0xea, 0xe6, 0xe1, 0xfc, 0xd1, 0x8a, 0xca, 0xd0, 0xc0,
    0xdd, 0xcc, 0xe6, 0xe4, 0xc7, 0xff, 0xf3, 0xf2, 0x93, 0xc2, 0xe1, 0x91,
    0xcd, 0xfd, 0xd6, 0xd7, 0xd5, 0x93, 0xee, 0x8e, 0xc2, 0xc4, 0xf3, 0x97,
    0x91, 0x95, 0xe0, 0xc9, 0xc2, 0xe9, 0xf2, 0xc1, 0xe0, 0xdd, 0xf5, 0xe8,
    0xef, 0xdf, 0xf1, 0xdf, 0xeb, 0xc6, 0x96, 0xcc, 0xc6, 0xf5, 0xc4, 0xd1,
    0xd5, 0xd3, 0xeb, 0xe4, 0xf1, 0xce, 0xef, 0xe0, 0xe8, 0xcd, 0x97, 0xd2,
    0xcd, 0xcf, 0xc6, 0xdd, 0xef, 0xc2, 0xcf, 0xf6, 0xe7, 0xe6, 0xcf, 0xc3,
    0xef, 0xe8, 0xe4, 0xee, 0xcc, 0xcd, 0x9c, 0xfc, 0xc0, 0xf3, 0xc4, 0xe8,
    0xc9, 0x96, 0xdc, 0xe2, 0xf5, 0xef, 0xf6, 0xe1, 0xef, 0x92, 0xcb, 0xe7,
    0xf5, 0xe2, 0xe9, 0xd0, 0xf1, 0x96, 0x90, 0xec, 0xd1, 0xc4, 0xef, 0xd0,
    0xfd, 0xf5, 0xd5, 0xf0, 0xcc, 0x93, 0xe1, 0xf5, 0xd3, 0xc9, 0xc1, 0xc6,
    0xf5, 0x8a, 0xd2, 0x90, 0xe2, 0xd6, 0xec, 0xdf, 0xf6, 0xc8, 0xe9, 0x91,
    0xc1, 0xd0, 0xcf, 0xc0, 0xe7, 0xf6, 0xf7, 0xc4, 0xcd, 0x8e, 0xe2, 0xe9,
    0xf3, 0x93, 0xee, 0x95, 0xe3, 0x8e, 0xd2, 0x95, 0xf5, 0xc9, 0xd6, 0xdd,
    0x8a, 0xfc, 0xf1, 0xfd, 0xdf, 0xea, 0xe7, 0xcb, 0x8a, 0xff, 0xdc, 0xe0,
    0xe2, 0x9c, 0x9d, 0xc9, 0xc0, 0x9d, 0xce, 0x96, 0xcd, 0xf7, 0xcb, 0xca,
    0xc2, 0xf5, 0xe3, 0xd1, 0x8a, 0xc2, 0xf0, 0xed, 0xe9, 0xe7, 0xd2, 0x96,
    0xf1, 0xc4, 0xdc, 0x92, 0xff, 0x97, 0xeb, 0xd2, 0xd6, 0xe4, 0xee, 0x91,
    0xd0, 0xf1, 0xe0, 0xf2, 0xe1, 0xd2, 0xe1, 0xc9, 0xc0, 0xc0, 0xf3, 0xff,
    0xc4, 0xf1, 0xe7, 0x94, 0xea, 0xe3, 0xf6, 0xe7, 0xdd, 0xc9, 0xc6, 0xc4,
    0x8e, 0xef, 0xe3, 0x8e, 0xf2, 0x96, 0xfc, 0xc7, 0xc7, 0xd3, 0xd4, 0x91,
    0xd7, 0xc8, 0xe7, 0xc2, 0xe8, 0xca, 0x90, 0xee, 0xf7, 0x9c, 0xe6, 0xd6,
    0xdc, 0xce, 0xd1, 0xdd, 0xca, 0xd0, 0xdd, 0xe8, 0x93, 0xf4, 0xf3, 0xf1,
    0xf3, 0xd5, 0xd7, 0xe8, 0x97, 0xf3, 0xc8, 0xc9, 0xd0, 0xf0, 0xc3, 0xe0,
    0xee, 0xc8, 0x94, 0xd7, 0xf5, 0xcd, 0x9d, 0xd2, 0xf3, 0xc8, 0xf1, 0xc0,
    0xc3, 0xcc, 0xca, 0xef, 0xf2, 0xf0, 0xc9, 0xec, 0xf1, 0x93, 0xe4, 0xdf,
    0xcd, 0xee, 0xef, 0xf1, 0xe4, 0xd2, 0xef, 0xd2, 0xf5, 0xf7, 0xdd, 0x96,
    0xf2, 0xf2, 0xcb, 0xf3, 0xff, 0x90, 0xc7, 0xdd, 0x96, 0xdd, 0xdf, 0xc0,
    0xc4, 0x96, 0xd3, 0xf5, 0x8a, 0xc0, 0xd7, 0xd3, 0xd1, 0xe8, 0xdf, 0xed,
    0xeb, 0xf7, 0x95, 0xf6, 0xf0, 0xf0, 0xe9, 0xc6, 0xe4, 0xe4, 0x8e, 0xc2,
    0xee, 0xfc, 0xe1, 0xdc, 0xef, 0xc2, 0xd5, 0xe3, 0xdd, 0x98, 0x98,
};

typedef struct secret {
    const char *name;
    const unsigned char *enc;
    size_t len;
    uint16_t head[65536]; /* by the encoded first two bytes: 1 + a start offset */
    uint16_t next[1024];  /* more start offsets with the same first two bytes */
    int hits;
} secret;

static secret secrets[2] = {
    {"secret access key", secret_enc, sizeof(secret_enc), {0}, {0}, 0},
    {"session token", token_enc, sizeof(token_enc), {0}, {0}, 0},
};

static void index_secret(secret *s)
{
    size_t j;

    REQUIRE(s->len < sizeof(s->next) / sizeof(s->next[0]) && s->len < OVERLAP);
    for (j = 0; j + MIN_RUN <= s->len; j++) {
        unsigned key = (unsigned)s->enc[j] << 8 | s->enc[j + 1];
        s->next[j] = s->head[key];
        s->head[key] = (uint16_t)(j + 1);
    }
}

/* A clear copy in fresh heap memory, for the caller to wipe and free. */
static char *decode(const secret *s)
{
    char *out = malloc(s->len + 1);
    size_t i;

    REQUIRE(out != NULL);
    for (i = 0; i < s->len; i++)
        out[i] = (char)(s->enc[i] ^ XOR_KEY);
    out[s->len] = '\0';
    return out;
}

static void wipe_free(char *p, size_t len)
{
    OPENSSL_cleanse(p, len);
    free(p);
}

/* How many bytes of s, from offset j, match memory at p (up to `avail`). */
static size_t run_length(const secret *s, size_t j, const unsigned char *p, size_t avail)
{
    size_t k = 0;

    while (j + k < s->len && k < avail && (unsigned char)(p[k] ^ XOR_KEY) == s->enc[j + k])
        k++;
    return k;
}

/*
 * Count the pieces of every secret in buf[0..n) that start before `limit`;
 * `addr` is where buf was read from. `report` prints where each piece is.
 */
static int scan_block(const unsigned char *buf, size_t n, size_t limit, uint64_t addr,
                      const char *where, int report)
{
    size_t i, k;
    int found = 0;

    for (i = 0; i + MIN_RUN <= n && i < limit; i++) {
        unsigned key = (unsigned)(unsigned char)(buf[i] ^ XOR_KEY) << 8 |
                       (unsigned char)(buf[i + 1] ^ XOR_KEY);
        for (k = 0; k < 2; k++) {
            secret *s = &secrets[k];
            unsigned j1 = s->head[key];
            size_t run = 0;
            for (; j1; j1 = s->next[j1 - 1])
                if ((run = run_length(s, j1 - 1, buf + i, n - i)) >= MIN_RUN)
                    break;
            if (j1 && run >= MIN_RUN) {
                if (report)
                    fprintf(stderr, "  %s: %zu of its %zu bytes (from offset %u) at 0x%llx %s\n",
                            s->name, run, s->len, j1 - 1,
                            (unsigned long long)(addr + i), where);
                s->hits++;
                found++;
                i += run - 1;
                break;
            }
        }
    }
    return found;
}

/* Scan every private writable mapping; the number of pieces found. */
static int scan_memory(void)
{
    static char maps[1 << 20];
    unsigned char *buf;
    char *line, *save = NULL;
    size_t used = 0;
    ssize_t got;
    int fd, mem, found = 0, regions = 0, skipped = 0;

    buf = mmap(NULL, CHUNK + OVERLAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(buf != MAP_FAILED);
    REQUIRE((fd = open("/proc/self/maps", O_RDONLY)) >= 0);
    while (used < sizeof(maps) - 1 && (got = read(fd, maps + used, sizeof(maps) - 1 - used)) > 0)
        used += (size_t)got;
    close(fd);
    maps[used] = '\0';
    REQUIRE((mem = open("/proc/self/mem", O_RDONLY)) >= 0);

    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long start, end, off;
        char perms[5], where[256] = "";

        if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %255[^\n]", &start, &end, perms, where) < 3)
            continue;
        /* rw-p only: the shared scan buffer is rw-s and is never read. */
        if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p')
            continue;
        if (end - start > MAX_REGION) {
            skipped++;
            continue;
        }
        regions++;
        for (off = start; off < end; off += CHUNK) {
            size_t want = end - off < CHUNK + OVERLAP ? (size_t)(end - off) : CHUNK + OVERLAP;
            got = pread(mem, buf, want, (off_t)off);
            if (got <= 0)
                break;
            found += scan_block(buf, (size_t)got, CHUNK, off, where[0] ? where : "[anon]", 1);
        }
    }
    close(mem);
    fprintf(stderr, "scanned %d writable mappings (%d sanitizer-sized ones skipped): %d piece(s)"
            " of a secret found\n", regions, skipped, found);
    OPENSSL_cleanse(buf, CHUNK + OVERLAP);
    munmap(buf, CHUNK + OVERLAP);
    return found;
}

/* ---- the fault server's control API, over a plain socket ----------------- */

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

static void script(const char *actions)
{
    char answer[4096];

    REQUIRE(control("POST", "/_fault/reset", "", answer, sizeof(answer)) == 200);
    REQUIRE(control("POST", "/_fault/script", actions, answer, sizeof(answer)) == 200);
}

/* ---- the test ------------------------------------------------------------ */

static void calls(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    acmpca_response_meta *meta = NULL;
    cJSON *out = NULL, *in;
    char *key = decode(&secrets[0]), *token = decode(&secrets[1]);

    o.endpoint_url = getenv("ACMPCA_TEST_ENDPOINT");
    o.region = "us-east-1";
    o.access_key_id = "AKIDMEMORYSCAN";
    o.secret_access_key = key;
    o.session_token = token;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    /* The client holds its own copies now. */
    wipe_free(key, secrets[0].len);
    wipe_free(token, secrets[1].len);
    o.secret_access_key = o.session_token = NULL;

    script("[\"ok\", {\"action\": \"error\", \"status\": 400, \"code\": "
           "\"ResourceNotFoundException\", \"message\": \"no such CA\"}, "
           "\"server_error\", \"ok\"]");
    CHECK_INT(acmpca_call(c, "ListCertificateAuthorities", NULL, &out), 0);
    cJSON_Delete(out);
    out = NULL;
    REQUIRE((in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA_ARN "\"}")) != NULL);
    CHECK_INT(acmpca_call(c, "DescribeCertificateAuthority", in, &out),
              ACMPCA_E_RESOURCE_NOT_FOUND);
    cJSON_Delete(in);
    CHECK_INT(acmpca_call_ex(c, ACMPCA_OP_LIST_CERTIFICATE_AUTHORITIES, NULL, &out, &meta), 0);
    CHECK(meta && meta->retry_attempts == 1);
    acmpca_response_meta_free(meta);
    cJSON_Delete(out);
    acmpca_client_free(c);
}

/* The token went out with every request: the scan looks for something real. */
static void check_token_was_sent(void)
{
    size_t cap = 1 << 20;
    char *log = calloc(1, cap);
    int i;

    REQUIRE(log != NULL);
    REQUIRE(control("GET", "/_fault/requests", "", log, cap) == 200);
    for (i = 0; i < 2; i++)
        secrets[i].hits = 0;
    scan_block((const unsigned char *)log, strlen(log), cap, 0, "", 0);
    CHECK_INT(secrets[1].hits, 4);
    CHECK_INT(secrets[0].hits, 0);
    wipe_free(log, cap);
    for (i = 0; i < 2; i++)
        secrets[i].hits = 0;
}

int main(int argc, char **argv)
{
    /*
     * Lazy binding saves the vector registers on the stack (glibc's
     * _dl_runtime_resolve_xsavec), and they still hold bytes that memcpy and
     * strlen moved; not a buffer anyone could wipe. Bind everything at start.
     */
    if (!getenv("LD_BIND_NOW")) {
        setenv("LD_BIND_NOW", "1", 1);
        execv("/proc/self/exe", argv);
        perror("execv /proc/self/exe");
        return 2;
    }
    (void)argc;
    index_secret(&secrets[0]);
    index_secret(&secrets[1]);
    REQUIRE(acmpca_global_init() == 0);
    calls();
    acmpca_global_cleanup();
    check_token_was_sent();
    CHECK_INT(scan_memory(), 0);
    return CHECK_DONE();
}
