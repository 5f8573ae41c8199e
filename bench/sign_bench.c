/*
 * sign_bench.c - SigV4 alone: acmpca_sign() of a GetCertificate request,
 * BENCH_MODE=cached (one acmpca_sign_cache: the derived key is reused, as a
 * client does) or uncached (the key derived on every call: four more
 * HMAC-SHA256). The result is freed each time, as a client would.
 *
 *   BENCH_MODE=cached sign_bench       (protocol: face.h; no endpoint)
 */
#define _POSIX_C_SOURCE 200809L
#include "acmpca.h"
#include "face.h"

static int one_sign(const acmpca_sign_input *in, acmpca_sign_cache *cache)
{
    acmpca_signed *s = NULL;
    int rc = acmpca_sign(&s, in, cache);
    if (rc != 0)
        fprintf(stderr, "sign_bench: %s\n", acmpca_error_last()->message);
    acmpca_signed_free(s);
    return rc;
}

int main(void)
{
    static const acmpca_header headers[] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "ACMPrivateCA.GetCertificate"},
        {"User-Agent", "acmpca-bench"},
    };
    static const char body[] = "{\"CertificateAuthorityArn\":\"" FACE_CA_ARN
                               "\",\"CertificateArn\":\"" FACE_CERT_ARN "\"}";
    acmpca_sign_input in;
    acmpca_sign_cache *cache = NULL;
    face_times t;
    const char *mode = face_env("BENCH_MODE", "cached");
    long i, calls, warmup;
    double t1;
    int rc = 1;

    face_start(&t);
    calls = face_env_count("BENCH_CALLS", 1000, 1);
    warmup = face_env_count("BENCH_WARMUP", 100, 0);
    if (strcmp(mode, "cached") != 0 && strcmp(mode, "uncached") != 0) {
        fprintf(stderr, "BENCH_MODE: expected cached or uncached, got '%s'\n", mode);
        return 2;
    }
    memset(&in, 0, sizeof(in));
    in.method = "POST";
    in.url = "https://acm-pca.us-east-1.amazonaws.com/";
    in.headers = headers;
    in.header_count = sizeof(headers) / sizeof(headers[0]);
    in.body = body;
    in.body_len = sizeof(body) - 1;
    in.region = "us-east-1";
    in.service = "acm-pca";
    in.access_key_id = "AKIDEXAMPLE";
    in.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    if (acmpca_global_init() != 0 ||
        (strcmp(mode, "cached") == 0 && acmpca_sign_cache_new(&cache) != 0))
        goto fail;
    t1 = face_realtime();
    t.import_client_ms = (t1 - t.main_s) * 1e3;
    in.timestamp = (int64_t)time(NULL);
    if (one_sign(&in, cache) != 0)
        goto fail;
    t.first_call_ms = (face_realtime() - t1) * 1e3;
    for (i = 1; i < warmup; i++)
        if (one_sign(&in, cache) != 0)
            goto fail;
    face_loop_begin(&t);
    for (i = 0; i < calls; i++)
        if (one_sign(&in, cache) != 0)
            goto fail;
    face_loop_end(&t);
    face_print(&t, strcmp(mode, "cached") == 0 ? "sign: acmpca C, key cached"
                                               : "sign: acmpca C, key derived each time",
               acmpca_version(), calls, "");
    rc = 0;
fail:
    acmpca_sign_cache_free(cache);
    acmpca_global_cleanup();
    return rc;
}
