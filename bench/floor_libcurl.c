/*
 * floor_libcurl.c - the libcurl floor of the benchmark: the same
 * GetCertificate POST as acmpca makes, on one keep-alive easy handle, with
 * every option set once and no signing, validation or parsing. What acmpca
 * C costs above this is the SDK's own work.
 *
 *   BENCH_ENDPOINT=http://127.0.0.1:PORT floor_libcurl     (protocol: face.h)
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>

#include "face.h"
#include "floor_request.h"

typedef struct sink {
    char data[16384];
    size_t len;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    sink *s = userdata;
    size_t len = size * n;
    if (len > sizeof(s->data) - s->len)
        return 0; /* an answer this large is not the canned one: fail the call */
    memcpy(s->data + s->len, p, len);
    s->len += len;
    return len;
}

static int one_call(CURL *h, sink *s)
{
    long status = 0;
    CURLcode rc;
    s->len = 0;
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200 || s->len == 0) {
        fprintf(stderr, "floor_libcurl: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
        return -1;
    }
    return 0;
}

#define ADD_HEADER(h) headers = curl_slist_append(headers, h);

int main(void)
{
    static sink s;
    struct curl_slist *headers = NULL;
    CURL *h = NULL;
    face_times t;
    char body[1024];
    const char *endpoint = getenv("BENCH_ENDPOINT");
    long i, calls, warmup;
    int len, rc = 1;
    double t1;

    face_start(&t);
    calls = face_env_count("BENCH_CALLS", 1000, 1);
    warmup = face_env_count("BENCH_WARMUP", 100, 0);
    len = floor_body(body, sizeof(body), face_env("BENCH_CA_ARN", FACE_CA_ARN),
                     face_env("BENCH_CERT_ARN", FACE_CERT_ARN));
    if (!endpoint || len < 0) {
        fprintf(stderr, "floor_libcurl: BENCH_ENDPOINT (http://127.0.0.1:PORT) and short ARNs "
                        "expected\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(h = curl_easy_init()))
        goto fail;
    FLOOR_HEADERS(ADD_HEADER)
    headers = curl_slist_append(headers, "Expect:"); /* acmpca sends no Expect or Accept */
    headers = curl_slist_append(headers, "Accept:");
    curl_easy_setopt(h, CURLOPT_URL, endpoint);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    t1 = face_realtime();
    t.import_client_ms = (t1 - t.main_s) * 1e3;
    if (one_call(h, &s) != 0)
        goto fail;
    t.first_call_ms = (face_realtime() - t1) * 1e3;
    for (i = 1; i < warmup; i++)
        if (one_call(h, &s) != 0)
            goto fail;
    face_loop_begin(&t);
    for (i = 0; i < calls; i++)
        if (one_call(h, &s) != 0)
            goto fail;
    face_loop_end(&t);
    face_print(&t, "floor: libcurl", curl_version_info(CURLVERSION_NOW)->version, calls, "");
    rc = 0;
fail:
    curl_slist_free_all(headers);
    if (h)
        curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc;
}
