/*
 * test_moto.c - every operation moto implements, end to end over real HTTP
 * against a moto server on loopback (started by tests/fixtures/with_server.py):
 * create a root CA, sign its CSR with the RootCACertificate template, import
 * it, issue an end-entity certificate for an OpenSSL-made CSR, verify it with
 * OpenSSL, tag/list/untag, policies, revoke, delete.
 *
 *   test_moto            the full flow (moto's permissive mode)
 *   test_moto --auth     moto checks every signature: our requests must pass,
 *                        and a wrong secret must give a typed 403 error
 *   test_moto --threads T N   T threads share one client for N calls each
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acmpca.h"
#include "check.h"

static acmpca_client *client;

static cJSON *call(const char *op, const char *json)
{
    cJSON *in = json ? cJSON_Parse(json) : NULL, *out = NULL;
    int rc;
    if (json)
        REQUIRE(in != NULL);
    rc = acmpca_call(client, op, in, &out);
    cJSON_Delete(in);
    if (rc != 0) {
        const acmpca_error *e = acmpca_error_last();
        fprintf(stderr, "%s failed: %d %s: %s (HTTP %d)\n", op, rc, e->aws_code, e->message,
                e->http_status);
    }
    REQUIRE(rc == 0 && out != NULL);
    return out;
}

static const char *str(const cJSON *obj, const char *path)
{
    char buf[128], *name, *save = NULL;
    const cJSON *node = obj;
    snprintf(buf, sizeof(buf), "%s", path);
    for (name = strtok_r(buf, ".", &save); name && node; name = strtok_r(NULL, ".", &save))
        node = cJSON_GetObjectItemCaseSensitive(node, name);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

/* An EC P-256 key and a CSR for `cn` with a DNS SAN, as PEM. */
static char *make_csr(const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *san;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem, dns[160];
    long len;

    REQUIRE(key && req && name && exts && bio);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_subject_name(req, name);
    X509_REQ_set_pubkey(req, key);
    snprintf(dns, sizeof(dns), "DNS:%s", cn);
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, dns);
    REQUIRE(san != NULL);
    sk_X509_EXTENSION_push(exts, san);
    X509_REQ_add_extensions(req, exts);
    REQUIRE(X509_REQ_sign(req, key, EVP_sha256()) > 0);
    PEM_write_bio_X509_REQ(bio, req);
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)len + 1);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return pem;
}

static X509 *parse_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return x;
}

/* Verify `leaf` against `root` (and any intermediates in `chain`). */
static int verify(const char *leaf_pem, const char *root_pem)
{
    X509 *leaf = parse_cert(leaf_pem), *root = parse_cert(root_pem);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok;
    REQUIRE(leaf && root && store && ctx);
    X509_STORE_add_cert(store, root);
    X509_STORE_CTX_init(ctx, store, leaf, NULL);
    ok = X509_verify_cert(ctx);
    if (ok != 1)
        fprintf(stderr, "verify: %s\n",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(leaf);
    X509_free(root);
    return ok == 1;
}

static char *serial_hex(const char *pem)
{
    X509 *x = parse_cert(pem);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn), *out = NULL;
    size_t i, j = 0;
    /* The service wants colon-separated lowercase hex bytes. */
    size_t n = strlen(hex), pad = n % 2;
    out = malloc(n + n / 2 + 3);
    for (i = 0; i < n + pad; i++) {
        char ch = (pad && i == 0) ? '0' : hex[i - pad];
        if (i && i % 2 == 0)
            out[j++] = ':';
        out[j++] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
    }
    out[j] = '\0';
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    return out;
}

static int count_items(const char *op, const char *input, const char *key)
{
    acmpca_paginator *p = NULL;
    cJSON *in = cJSON_Parse(input), *page = NULL;
    int n = 0, rc;
    REQUIRE(acmpca_paginator_new(&p, client, op, in, 1, 0, NULL) == 0);
    while ((rc = acmpca_paginator_next(p, &page)) == 0 && page) {
        n += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, key));
        cJSON_Delete(page);
    }
    CHECK_INT(rc, 0);
    acmpca_paginator_free(p);
    cJSON_Delete(in);
    return n;
}

static void full_flow(void)
{
    char buf[65536], *csr, *serial;
    cJSON *out, *ca, *cert;
    const char *ca_arn, *cert_arn;
    char ca_arn_copy[256], root_pem[8192];
    int rc;

    /* Create a root CA. */
    out = call("CreateCertificateAuthority",
               "{\"CertificateAuthorityType\":\"ROOT\","
               "\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"RSA_2048\","
               "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Subject\":{\"CommonName\":\"Test Root\","
               "\"Organization\":\"acmpca\",\"Country\":\"US\"}},"
               "\"RevocationConfiguration\":{\"CrlConfiguration\":{\"Enabled\":false}},"
               "\"Tags\":[{\"Key\":\"team\",\"Value\":\"pki\"}]}");
    ca_arn = str(out, "CertificateAuthorityArn");
    REQUIRE(ca_arn != NULL);
    CHECK_CONTAINS(ca_arn, ":certificate-authority/");
    snprintf(ca_arn_copy, sizeof(ca_arn_copy), "%s", ca_arn);
    ca_arn = ca_arn_copy;
    cJSON_Delete(out);

    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\"}", ca_arn);
    ca = call("DescribeCertificateAuthority", buf);
    CHECK_STR(str(ca, "CertificateAuthority.Status"), "PENDING_CERTIFICATE");
    CHECK_STR(str(ca, "CertificateAuthority.Type"), "ROOT");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(ca, "CertificateAuthority"),
                                             "CreatedAt")));
    cJSON_Delete(ca);

    /* Wait for and fetch its CSR, then have the CA sign its own root certificate. */
    {
        cJSON *in = cJSON_Parse(buf);
        CHECK_INT(acmpca_wait(client, "certificate_authority_csr_created", in, 0.2, 5, NULL), 0);
        cJSON_Delete(in);
    }
    out = call("GetCertificateAuthorityCsr", buf);
    CHECK_CONTAINS(str(out, "Csr"), "-----BEGIN CERTIFICATE REQUEST-----");
    csr = strdup(str(out, "Csr"));
    cJSON_Delete(out);
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca_arn);
        cJSON_AddStringToObject(in, "Csr", csr);
        cJSON_AddStringToObject(in, "SigningAlgorithm", "SHA256WITHRSA");
        cJSON_AddStringToObject(in, "TemplateArn",
                                "arn:aws:acm-pca:::template/RootCACertificate/V1");
        cJSON_AddItemToObject(in, "Validity", cJSON_Parse("{\"Value\":3650,\"Type\":\"DAYS\"}"));
        rc = acmpca_issue_certificate(client, in, &out);
        CHECK_INT(rc, 0);
        cJSON_Delete(in);
    }
    free(csr);
    REQUIRE(out && str(out, "CertificateArn"));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"CertificateArn\":\"%s\"}",
             ca_arn, str(out, "CertificateArn"));
    cJSON_Delete(out);
    {
        cJSON *in = cJSON_Parse(buf), *last = NULL;
        CHECK_INT(acmpca_wait(client, "CertificateIssued", in, 0.2, 5, &last), 0);
        CHECK_CONTAINS(str(last, "Certificate"), "-----BEGIN CERTIFICATE-----");
        cJSON_Delete(last);
        cJSON_Delete(in);
    }
    cert = call("GetCertificate", buf);
    REQUIRE(str(cert, "Certificate"));
    snprintf(root_pem, sizeof(root_pem), "%s", str(cert, "Certificate"));
    cJSON_Delete(cert);

    /* Import it: the CA becomes ACTIVE. */
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca_arn);
        cJSON_AddStringToObject(in, "Certificate", root_pem);
        CHECK_INT(acmpca_import_certificate_authority_certificate(client, in, &out), 0);
        CHECK(cJSON_IsObject(out) && cJSON_GetArraySize(out) == 0);
        cJSON_Delete(out);
        cJSON_Delete(in);
    }
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\"}", ca_arn);
    ca = call("DescribeCertificateAuthority", buf);
    CHECK_STR(str(ca, "CertificateAuthority.Status"), "ACTIVE");
    cJSON_Delete(ca);
    out = call("GetCertificateAuthorityCertificate", buf);
    CHECK_STR(str(out, "Certificate"), root_pem);
    cJSON_Delete(out);

    /* Issue an end-entity certificate for an OpenSSL-made CSR and verify it. */
    csr = make_csr("www.example.test");
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca_arn);
        cJSON_AddStringToObject(in, "Csr", csr);
        cJSON_AddStringToObject(in, "SigningAlgorithm", "SHA256WITHRSA");
        cJSON_AddItemToObject(in, "Validity", cJSON_Parse("{\"Value\":30,\"Type\":\"DAYS\"}"));
        cJSON_AddStringToObject(in, "IdempotencyToken", "flow-1");
        CHECK_INT(acmpca_call(client, "issue_certificate", in, &out), 0);
        cJSON_Delete(in);
    }
    free(csr);
    REQUIRE(out && str(out, "CertificateArn"));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"CertificateArn\":\"%s\"}",
             ca_arn, str(out, "CertificateArn"));
    cert_arn = NULL;
    cJSON_Delete(out);
    cert = call("GetCertificate", buf);
    REQUIRE(str(cert, "Certificate"));
    CHECK(verify(str(cert, "Certificate"), root_pem));
    serial = serial_hex(str(cert, "Certificate"));
    cJSON_Delete(cert);
    (void)cert_arn;

    /* Tags, listed through the paginator one per page. */
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"Tags\":"
             "[{\"Key\":\"env\",\"Value\":\"test\"},{\"Key\":\"owner\"}]}", ca_arn);
    cJSON_Delete(call("TagCertificateAuthority", buf));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\"}", ca_arn);
    CHECK_INT(count_items("ListTags", buf, "Tags"), 3);
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"Tags\":"
             "[{\"Key\":\"owner\"}]}", ca_arn);
    cJSON_Delete(call("UntagCertificateAuthority", buf));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\"}", ca_arn);
    CHECK_INT(count_items("list_tags", buf, "Tags"), 2);
    CHECK(count_items("ListCertificateAuthorities", "{}", "CertificateAuthorities") >= 1);

    /* Resource policy. */
    {
        char policy[1024];
        snprintf(policy, sizeof(policy),
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                 "\"Principal\":{\"AWS\":\"123456789012\"},\"Action\":\"acm-pca:GetCertificate\","
                 "\"Resource\":\"%s\"}]}", ca_arn);
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ResourceArn", ca_arn);
        cJSON_AddStringToObject(in, "Policy", policy);
        CHECK_INT(acmpca_put_policy(client, in, &out), 0);
        cJSON_Delete(out);
        cJSON_DeleteItemFromObject(in, "Policy");
        CHECK_INT(acmpca_get_policy(client, in, &out), 0);
        CHECK_STR(str(out, "Policy"), policy);
        cJSON_Delete(out);
        CHECK_INT(acmpca_delete_policy(client, in, &out), 0);
        cJSON_Delete(out);
        cJSON_Delete(in);
    }

    /* Update, revoke, delete. */
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"RevocationConfiguration\":"
             "{\"CrlConfiguration\":{\"Enabled\":false}}}", ca_arn);
    cJSON_Delete(call("UpdateCertificateAuthority", buf));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"CertificateSerial\":\"%s\","
             "\"RevocationReason\":\"KEY_COMPROMISE\"}", ca_arn, serial);
    cJSON_Delete(call("RevokeCertificate", buf));
    free(serial);
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\",\"Status\":\"DISABLED\"}",
             ca_arn);
    cJSON_Delete(call("UpdateCertificateAuthority", buf));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\","
             "\"PermanentDeletionTimeInDays\":7}", ca_arn);
    cJSON_Delete(call("DeleteCertificateAuthority", buf));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"%s\"}", ca_arn);
    ca = call("DescribeCertificateAuthority", buf);
    CHECK_STR(str(ca, "CertificateAuthority.Status"), "DELETED");
    cJSON_Delete(ca);
}

static void service_errors(void)
{
    cJSON *in = cJSON_Parse("{\"CertificateAuthorityArn\":"
                            "\"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
                            "00000000-0000-0000-0000-000000000000\"}");
    cJSON *out = NULL;
    const acmpca_error *e;
    int rc = acmpca_describe_certificate_authority(client, in, &out);
    e = acmpca_error_last();
    CHECK_INT(rc, ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_STR(e->aws_code, "ResourceNotFoundException");
    CHECK_INT(e->http_status, 400);
    CHECK_STR(e->operation, "DescribeCertificateAuthority");
    CHECK(e->message[0] != '\0');
    CHECK(out == NULL);
    cJSON_Delete(in);
}

/* A wrong secret must come back from moto's signature check as a typed error. */
static void wrong_secret(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *bad = NULL;
    cJSON *out = NULL;
    const acmpca_error *e;
    int rc;

    o.access_key_id = getenv("AWS_ACCESS_KEY_ID");
    o.secret_access_key = "not-the-right-secret-000000000000000000000";
    REQUIRE(acmpca_client_new(&bad, &o) == 0);
    rc = acmpca_call(bad, "ListCertificateAuthorities", NULL, &out);
    e = acmpca_error_last();
    CHECK(ACMPCA_IS_SERVICE_ERROR(rc));
    CHECK_INT(e->http_status, 403);
    CHECK_STR(e->aws_code, "SignatureDoesNotMatch");
    CHECK(strstr(e->message, "not-the-right-secret") == NULL);
    CHECK(out == NULL);
    acmpca_client_free(bad);
}

typedef struct worker {
    pthread_t thread;
    int calls;
    int failures;
    char arn[256];
} worker;

/* Each thread creates its own CA, then describes it and lists CAs in a loop. */
static void *work(void *arg)
{
    worker *w = arg;
    cJSON *in = NULL, *out = NULL;
    int i;

    in = cJSON_Parse("{\"CertificateAuthorityType\":\"ROOT\","
                     "\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"EC_prime256v1\","
                     "\"SigningAlgorithm\":\"SHA256WITHECDSA\",\"Subject\":{\"CommonName\":\"t\"}}}");
    if (acmpca_call(client, "CreateCertificateAuthority", in, &out) != 0) {
        w->failures++;
        cJSON_Delete(in);
        return NULL;
    }
    snprintf(w->arn, sizeof(w->arn), "%s", str(out, "CertificateAuthorityArn"));
    cJSON_Delete(out);
    cJSON_Delete(in);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "CertificateAuthorityArn", w->arn);
    for (i = 0; i < w->calls; i++) {
        int rc = i % 2 ? acmpca_describe_certificate_authority(client, in, &out)
                       : acmpca_list_tags(client, in, &out);
        if (rc != 0 || (i % 2 && strcmp(str(out, "CertificateAuthority.Arn"), w->arn) != 0))
            w->failures++;
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
    return NULL;
}

static void threads(int count, int calls)
{
    worker w[16];
    int i;
    REQUIRE(count > 0 && count <= 16);
    for (i = 0; i < count; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].calls = calls;
        REQUIRE(pthread_create(&w[i].thread, NULL, work, &w[i]) == 0);
    }
    for (i = 0; i < count; i++) {
        pthread_join(w[i].thread, NULL);
        CHECK_INT(w[i].failures, 0);
    }
}

int main(int argc, char **argv)
{
    int auth = argc > 1 && strcmp(argv[1], "--auth") == 0;
    int nthreads = argc > 3 && strcmp(argv[1], "--threads") == 0 ? atoi(argv[2]) : 0;

    REQUIRE(acmpca_global_init() == 0);
    if (acmpca_client_new(&client, NULL) != 0) {
        fprintf(stderr, "client: %s\n", acmpca_error_last()->message);
        return 1;
    }
    CHECK_STR(acmpca_client_endpoint(client), getenv("ACMPCA_TEST_ENDPOINT"));
    if (nthreads) {
        threads(nthreads, atoi(argv[3]));
    } else if (auth) {
        cJSON *out = call("ListCertificateAuthorities", NULL);
        cJSON_Delete(out);
        full_flow();
        wrong_secret();
    } else {
        full_flow();
        service_errors();
    }
    acmpca_client_free(client);
    acmpca_global_cleanup();
    return CHECK_DONE();
}
