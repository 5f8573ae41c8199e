/*
 * floor_request.h - the GetCertificate request the two floors send: what
 * acmpca sends (the same headers and body, an Authorization header of the
 * same length), made once, so that the floors measure HTTP alone.
 */
#ifndef ACMPCA_BENCH_FLOOR_REQUEST_H
#define ACMPCA_BENCH_FLOOR_REQUEST_H

#define FLOOR_HEADERS(X)                                                                     \
    X("Content-Type: application/x-amz-json-1.1")                                          \
    X("X-Amz-Target: ACMPrivateCA.GetCertificate")                                         \
    X("X-Amz-Date: 20260101T000000Z")                                                      \
    X("User-Agent: acmpca-bench-floor/1")                                                  \
    X("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/acm-pca/" \
      "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="  \
      "0000000000000000000000000000000000000000000000000000000000000000")

/* The JSON body for `ca`, `cert` into buf; its length, or -1 when it does not fit. */
static inline int floor_body(char *buf, size_t size, const char *ca, const char *cert)
{
    int n = snprintf(buf, size, "{\"CertificateAuthorityArn\":\"%s\",\"CertificateArn\":\"%s\"}",
                     ca, cert);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

#endif
