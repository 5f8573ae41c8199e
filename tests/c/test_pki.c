/*
 * test_pki.c - keys, CSRs, normalisation of CSRs and serials, reading
 * certificates; with --moto, acmpca_request_certificate end to end against a
 * local moto server (root CA set up first), the result verified with OpenSSL.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acmpca.h"
#include "check.h"
#include "internal.h"

static X509_REQ *read_csr(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return req;
}

static void keys_and_csrs(void)
{
    static const char *types[] = {"RSA_2048", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1",
                                  "ED25519", "p256", "rsa3072"};
    static const char *dns[] = {"www.example.test", "api.example.test"};
    static const char *ips[] = {"192.0.2.10", "2001:db8::1"};
    static const char *emails[] = {"pki@example.test"};
    static const char *uris[] = {"spiffe://example.test/service"};
    char *key = NULL, *csr = NULL;
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        acmpca_csr_options o;
        X509_REQ *req;
        CHECK_INT(acmpca_pki_generate_key(&key, types[i]), 0);
        CHECK_CONTAINS(key, "-----BEGIN PRIVATE KEY-----");
        memset(&o, 0, sizeof(o));
        o.private_key_pem = key;
        o.common_name = "www.example.test";
        o.organization = "Example";
        o.country = "US";
        o.dns_names = dns;
        o.dns_count = 2;
        o.ip_addresses = ips;
        o.ip_count = 2;
        o.emails = emails;
        o.email_count = 1;
        o.uris = uris;
        o.uri_count = 1;
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), 0);
        CHECK_CONTAINS(csr, "-----BEGIN CERTIFICATE REQUEST-----");
        req = read_csr(csr);
        REQUIRE(req != NULL);
        CHECK_INT(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
        {
            char cn[64] = "";
            X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
                                      sizeof(cn));
            CHECK_STR(cn, "www.example.test");
        }
        {
            STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
            CHECK_INT(sk_X509_EXTENSION_num(exts), 1);
            sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        }
        X509_REQ_free(req);
        free(csr);
        free(key);
    }

    CHECK_INT(acmpca_pki_generate_key(&key, "DSA_1024"), ACMPCA_EPARAM);
    CHECK_CONTAINS(acmpca_error_last()->message, "key_type: expected one of");
    CHECK(key == NULL);

    {
        acmpca_csr_options o;
        memset(&o, 0, sizeof(o));
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), ACMPCA_EPARAM);
        CHECK_STR(acmpca_error_last()->message, "private_key_pem: required");
        o.private_key_pem = "not a key";
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), ACMPCA_EPARAM);
        CHECK_CONTAINS(acmpca_error_last()->message, "private_key_pem: not a PEM private key");
        REQUIRE(acmpca_pki_generate_key(&key, "p256") == 0);
        o.private_key_pem = key;
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), ACMPCA_EPARAM);
        CHECK_CONTAINS(acmpca_error_last()->message, "subject:");
        o.common_name = "x";
        o.country = "USA";
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), ACMPCA_EPARAM);
        CHECK_CONTAINS(acmpca_error_last()->message, "country: expected a two-letter code");
        o.country = NULL;
        o.ip_addresses = dns;
        o.ip_count = 1;
        CHECK_INT(acmpca_pki_make_csr(&csr, &o), ACMPCA_EPARAM);
        CHECK_CONTAINS(acmpca_error_last()->message, "ip_addresses[0]: \"www.example.test\" is not");
        free(key);
    }
}

static void normalize_csr(void)
{
    char *key = NULL, *csr = NULL, *out = NULL, *old = NULL, *p;
    acmpca_csr_options o;
    X509_REQ *req;
    unsigned char *der = NULL;
    int der_len;

    REQUIRE(acmpca_pki_generate_key(&key, "p256") == 0);
    memset(&o, 0, sizeof(o));
    o.private_key_pem = key;
    o.common_name = "n.example.test";
    REQUIRE(acmpca_pki_make_csr(&csr, &o) == 0);

    /* PEM stays the same. */
    CHECK_INT(acmpca_pki_normalize_csr(&out, csr, strlen(csr)), 0);
    CHECK_STR(out, csr);
    free(out);

    /* The old "NEW CERTIFICATE REQUEST" labels, CRLF and indentation. */
    {
        acmpca_buf b = {0};
        const char *body = strchr(csr, '\n') + 1;
        const char *end = strstr(csr, "-----END");
        acmpca__buf_puts(&b, "  -----BEGIN NEW CERTIFICATE REQUEST-----\r\n");
        for (p = (char *)body; p < end; p++) {
            if (*p == '\n')
                acmpca__buf_puts(&b, "\r\n   ");
            else
                acmpca__buf_append(&b, p, 1);
        }
        acmpca__buf_puts(&b, "-----END NEW CERTIFICATE REQUEST-----\r\n\n");
        old = acmpca__buf_detach(&b);
    }
    CHECK_INT(acmpca_pki_normalize_csr(&out, old, strlen(old)), 0);
    CHECK_STR(out, csr);
    free(out);
    free(old);

    /* DER bytes. */
    req = read_csr(csr);
    der_len = i2d_X509_REQ(req, &der);
    REQUIRE(der_len > 0);
    CHECK_INT(acmpca_pki_normalize_csr(&out, der, (size_t)der_len), 0);
    CHECK_STR(out, csr);
    free(out);

    /* Broken inputs. */
    CHECK_INT(acmpca_pki_normalize_csr(&out, "hello world", 11), ACMPCA_EPARAM);
    CHECK_CONTAINS(acmpca_error_last()->message, "Csr: not a");
    der[der_len / 2] ^= 0x55;
    CHECK_INT(acmpca_pki_normalize_csr(&out, der, (size_t)der_len), ACMPCA_EPARAM);
    CHECK_CONTAINS(acmpca_error_last()->message, "Csr:");
    CHECK_INT(acmpca_pki_normalize_csr(&out, "", 0), ACMPCA_EPARAM);
    CHECK(out == NULL);
    OPENSSL_free(der);
    X509_REQ_free(req);
    free(csr);
    free(key);
}

/* A self-signed certificate with a known serial and SANs. */
static char *self_signed(long serial)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_EXTENSION *ext;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long len;

    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"Test CA", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
                              "DNS:a.example.test,IP:192.0.2.1,email:x@example.test");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    PEM_write_bio_X509(bio, x);
    len = BIO_get_mem_data(bio, &data);
    pem = strndup(data, (size_t)len);
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

static void serials_and_certificates(void)
{
    char *out = NULL, *pem = self_signed(0x793f0d);
    cJSON *info = NULL, *san;
    const char *arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
                      "12345678-1234-1234-1234-123456789012/certificate/"
                      "286535153982981100925020015808220737245";

    CHECK_INT(acmpca_pki_normalize_serial(&out, arn), 0);
    CHECK_STR(out, "d7:90:a9:cf:2d:b2:6a:24:c7:b9:7f:b6:72:b7:ae:dd");
    free(out);
    CHECK_INT(acmpca_pki_normalize_serial(&out, "79:3F:0D"), 0);
    CHECK_STR(out, "79:3f:0d");
    free(out);
    CHECK_INT(acmpca_pki_normalize_serial(&out, "0x793f0d"), 0);
    CHECK_STR(out, "79:3f:0d");
    free(out);
    CHECK_INT(acmpca_pki_normalize_serial(&out, "  f0d "), 0);
    CHECK_STR(out, "0f:0d");
    free(out);
    CHECK_INT(acmpca_pki_normalize_serial(&out, pem), 0);
    CHECK_STR(out, "79:3f:0d");
    free(out);
    CHECK_INT(acmpca_pki_normalize_serial(&out, "xyz"), ACMPCA_EPARAM);
    CHECK_CONTAINS(acmpca_error_last()->message, "serial: expected");
    CHECK_INT(acmpca_pki_normalize_serial(&out, "arn:aws:acm-pca:us-east-1:1:certificate-authority/x/certificate/abc"),
              ACMPCA_EPARAM);
    CHECK_CONTAINS(acmpca_error_last()->message, "decimal serial");
    CHECK(out == NULL);

    CHECK_INT(acmpca_pki_parse_certificate(&info, pem), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Subject")), "CN=Test CA");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Issuer")), "CN=Test CA");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Serial")), "79:3f:0d");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "KeyAlgorithm")), "EC_prime256v1");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(info, "IsCA")));
    CHECK_INT(cJSON_GetObjectItem(info, "NotAfter")->valuedouble -
                  cJSON_GetObjectItem(info, "NotBefore")->valuedouble, 86400);
    san = cJSON_GetObjectItem(info, "SubjectAlternativeNames");
    CHECK_INT(cJSON_GetArraySize(san), 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(san, 1), "Value")),
              "192.0.2.1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(san, 2), "Type")),
              "EMAIL");
    cJSON_Delete(info);
    CHECK_INT(acmpca_pki_parse_certificate(&info, "-----BEGIN CERTIFICATE-----\nAAAA\n"),
              ACMPCA_EPARAM);
    CHECK(info == NULL);
    free(pem);
}

/* ---- against moto ------------------------------------------------------------ */

static cJSON *must(acmpca_client *c, const char *op, cJSON *in)
{
    cJSON *out = NULL;
    int rc = acmpca_call(c, op, in, &out);
    if (rc)
        fprintf(stderr, "%s: %s\n", op, acmpca_error_last()->message);
    REQUIRE(rc == 0);
    cJSON_Delete(in);
    return out;
}

/* An active root CA: create, self-sign its CSR, import. Returns its ARN. */
static char *active_root(acmpca_client *c)
{
    cJSON *out, *in;
    char *arn;
    acmpca_issued_certificate *root = NULL;
    acmpca_certificate_request r;

    out = must(c, "CreateCertificateAuthority", cJSON_Parse(
        "{\"CertificateAuthorityType\":\"ROOT\",\"CertificateAuthorityConfiguration\":"
        "{\"KeyAlgorithm\":\"EC_prime256v1\",\"SigningAlgorithm\":\"SHA256WITHECDSA\","
        "\"Subject\":{\"CommonName\":\"PKI Root\"}}}"));
    arn = strdup(cJSON_GetStringValue(cJSON_GetObjectItem(out, "CertificateAuthorityArn")));
    cJSON_Delete(out);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", arn);
    out = must(c, "GetCertificateAuthorityCsr", in);

    /* request_certificate with a given CSR and the root template. */
    memset(&r, 0, sizeof(r));
    r.certificate_authority_arn = arn;
    r.csr_pem = cJSON_GetStringValue(cJSON_GetObjectItem(out, "Csr"));
    r.template_arn = "arn:aws:acm-pca:::template/RootCACertificate/V1";
    r.validity_days = 3650;
    r.wait_delay_s = 0.1;
    CHECK_INT(acmpca_request_certificate(c, &r, &root), 0);
    REQUIRE(root != NULL);
    CHECK(root->private_key_pem == NULL);
    cJSON_Delete(out);

    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", arn);
    cJSON_AddStringToObject(in, "Certificate", root->certificate_pem);
    cJSON_Delete(must(c, "ImportCertificateAuthorityCertificate", in));
    acmpca_issued_certificate_free(root);
    return arn;
}

static void request_certificate(void)
{
    static const char *dns[] = {"svc.example.test"};
    acmpca_client *c = NULL;
    acmpca_certificate_request r;
    acmpca_issued_certificate *cert = NULL;
    char *ca, *serial = NULL;
    cJSON *info = NULL, *in, *out;

    REQUIRE(acmpca_client_new(&c, NULL) == 0);
    ca = active_root(c);
    memset(&r, 0, sizeof(r));
    r.certificate_authority_arn = ca;
    r.key_type = "RSA_2048";
    r.subject.common_name = "svc.example.test";
    r.subject.dns_names = dns;
    r.subject.dns_count = 1;
    r.validity_days = 30;
    r.wait_delay_s = 0.1;
    CHECK_INT(acmpca_request_certificate(c, &r, &cert), 0);
    REQUIRE(cert != NULL);
    CHECK_CONTAINS(cert->private_key_pem, "BEGIN PRIVATE KEY");
    CHECK_CONTAINS(cert->certificate_arn, ":certificate-authority/");
    CHECK_CONTAINS(cert->certificate_chain_pem, "BEGIN CERTIFICATE");

    /* The certificate matches the key, carries the SAN, and chains to the root. */
    CHECK_INT(acmpca_pki_parse_certificate(&info, cert->certificate_pem), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Subject")), "CN=svc.example.test");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Issuer")), "CN=PKI Root");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "KeyAlgorithm")), "RSA_2048");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
                  cJSON_GetObjectItem(info, "SubjectAlternativeNames"), 0), "Value")),
              "svc.example.test");
    cJSON_Delete(info);
    {
        BIO *kb = BIO_new_mem_buf(cert->private_key_pem, -1);
        BIO *cb = BIO_new_mem_buf(cert->certificate_pem, -1);
        BIO *rb = BIO_new_mem_buf(cert->certificate_chain_pem, -1);
        EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
        X509 *leaf = PEM_read_bio_X509(cb, NULL, NULL, NULL);
        X509 *root = PEM_read_bio_X509(rb, NULL, NULL, NULL);
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        REQUIRE(key && leaf && root && store && ctx);
        CHECK_INT(X509_check_private_key(leaf, key), 1);
        X509_STORE_add_cert(store, root);
        X509_STORE_CTX_init(ctx, store, leaf, NULL);
        CHECK_INT(X509_verify_cert(ctx), 1);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        X509_free(root);
        X509_free(leaf);
        EVP_PKEY_free(key);
        BIO_free(kb);
        BIO_free(cb);
        BIO_free(rb);
    }

    /* Revoke it by the serial taken from its PEM. */
    CHECK_INT(acmpca_pki_normalize_serial(&serial, cert->certificate_pem), 0);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca);
    cJSON_AddStringToObject(in, "CertificateSerial", serial);
    cJSON_AddStringToObject(in, "RevocationReason", "SUPERSEDED");
    out = must(c, "RevokeCertificate", in);
    cJSON_Delete(out);

    /* The same flow as a machine, driven step by step (libcurl sends, the test sleeps):
     * DescribeCertificateAuthority, IssueCertificate, then the waiter's polls. */
    {
        acmpca_machine *m = NULL;
        acmpca_step s;
        acmpca_step_kind k;
        int sends = 0;
        r.key_type = NULL; /* EC_prime256v1 */
        REQUIRE(acmpca_machine_new_request_certificate(&m, c, &r) == 0);
        while ((k = acmpca_machine_next(m, &s)) == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
            sends += k == ACMPCA_STEP_SEND;
            if (k == ACMPCA_STEP_SLEEP)
                CHECK(s.sleep_reason != ACMPCA_SLEEP_WAITER ||
                      strcmp(s.waiter, "CertificateIssued") == 0);
            CHECK_INT(acmpca_machine_perform(m, &s), 0);
        }
        CHECK_INT(k, ACMPCA_STEP_DONE);
        CHECK(sends >= 3);
        CHECK_INT(acmpca_machine_result(m, &out, NULL), 0);
        CHECK_INT(acmpca_pki_parse_certificate(&info, cJSON_GetStringValue(
                      cJSON_GetObjectItem(out, "Certificate"))), 0);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "KeyAlgorithm")),
                  "EC_prime256v1");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(info, "Subject")),
                  "CN=svc.example.test");
        CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(out, "PrivateKey")),
                       "BEGIN PRIVATE KEY");
        cJSON_Delete(info);
        cJSON_Delete(out);
        acmpca_machine_free(m);
    }

    /* A CA that does not exist: the service's error comes back as is. */
    acmpca_issued_certificate_free(cert);
    cert = NULL;
    r.certificate_authority_arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
                                  "00000000-0000-0000-0000-000000000000";
    CHECK_INT(acmpca_request_certificate(c, &r, &cert), ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK(cert == NULL);

    free(serial);
    free(ca);
    acmpca_client_free(c);
}

int main(int argc, char **argv)
{
    REQUIRE(acmpca_global_init() == 0);
    if (argc > 1 && strcmp(argv[1], "--moto") == 0) {
        request_certificate();
    } else {
        keys_and_csrs();
        normalize_csr();
        serials_and_certificates();
    }
    acmpca_global_cleanup();
    return CHECK_DONE();
}
