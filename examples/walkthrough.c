/*
 * walkthrough.c - a private CA end to end, in C: root CA, subordinate CA, a
 * server certificate with its key, verified with OpenSSL and written as PEM
 * files; then tags, listing, revocation, status and clean-up.
 *
 *   walkthrough --endpoint-url http://127.0.0.1:5000 [--out DIR]
 *   walkthrough --yes [--region eu-west-1] [--out DIR]     (real AWS: billable)
 *
 * Configuration otherwise comes from the environment, as for any client.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <acmpca.h>

#define ROOT_TEMPLATE "arn:aws:acm-pca:::template/RootCACertificate/V1"
#define SUB_TEMPLATE "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"

static acmpca_client *client;
static int step_no;

static void step(const char *fmt, ...)
{
    va_list ap;
    printf("[%2d] ", ++step_no);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void die(const char *what)
{
    const acmpca_error *e = acmpca_error_last();
    fprintf(stderr, "error: %s: %s%s%s (%s%s%s)\n", what, e->aws_code, e->aws_code[0] ? ": " : "",
            e->message, acmpca_strerror(e->code), e->request_id[0] ? ", request id " : "",
            e->request_id);
    exit(1);
}

/* {"k1": "v1", "k2": "v2", ...} from NULL-terminated pairs. */
static cJSON *args(const char *key, ...)
{
    cJSON *o = cJSON_CreateObject();
    va_list ap;
    va_start(ap, key);
    for (; key; key = va_arg(ap, const char *))
        cJSON_AddStringToObject(o, key, va_arg(ap, const char *));
    va_end(ap);
    return o;
}

/* Call and return the result; `in` is consumed. */
static cJSON *call(const char *op, cJSON *in)
{
    cJSON *out = NULL;
    if (acmpca_call(client, op, in, &out) != 0)
        die(op);
    cJSON_Delete(in);
    return out;
}

static char *get_str(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return strdup(v ? v : "");
}

static int progress(void *ud, const char *waiter, int attempt, double delay)
{
    (void)ud;
    printf("     ... %s: not yet (attempt %d), checking again in %.0f s\n", waiter, attempt, delay);
    fflush(stdout);
    return 0;
}

static cJSON *wait_for(const char *waiter, cJSON *in)
{
    cJSON *last = NULL;
    if (acmpca_wait_ex(client, waiter, in, 0, 0, &last, progress, NULL) != 0)
        die(waiter);
    cJSON_Delete(in);
    return last;
}

static char *create_ca(const char *type, const char *cn)
{
    cJSON *in = cJSON_CreateObject(), *cfg, *out;
    char *arn;
    cJSON_AddStringToObject(in, "CertificateAuthorityType", type);
    cfg = cJSON_AddObjectToObject(in, "CertificateAuthorityConfiguration");
    cJSON_AddStringToObject(cfg, "KeyAlgorithm", "RSA_2048");
    cJSON_AddStringToObject(cfg, "SigningAlgorithm", "SHA256WITHRSA");
    cJSON_AddItemToObject(cfg, "Subject", args("CommonName", cn, "Organization",
                                                "Example Corp", "Country", "US", NULL));
    cJSON_AddItemToObject(in, "RevocationConfiguration",
                          cJSON_Parse("{\"CrlConfiguration\":{\"Enabled\":false}}"));
    cJSON_AddItemToObject(in, "Tags", cJSON_Parse("[{\"Key\":\"demo\",\"Value\":\"acmpca\"}]"));
    out = call("CreateCertificateAuthority", in);
    arn = get_str(out, "CertificateAuthorityArn");
    cJSON_Delete(out);
    return arn;
}

/* Sign `csr` with `ca` using `template`; returns the certificate PEM. */
static char *issue(const char *ca, const char *csr, const char *template, int days)
{
    acmpca_certificate_request r;
    acmpca_issued_certificate *cert = NULL;
    char *pem;
    memset(&r, 0, sizeof(r));
    r.certificate_authority_arn = ca;
    r.csr_pem = csr;
    r.template_arn = template;
    r.validity_days = days;
    if (acmpca_request_certificate(client, &r, &cert) != 0)
        die("IssueCertificate");
    pem = strdup(cert->certificate_pem);
    acmpca_issued_certificate_free(cert);
    return pem;
}

static char *ca_csr(const char *ca)
{
    cJSON *out;
    char *csr;
    step("Waiting for the CA's CSR");
    cJSON_Delete(wait_for("CertificateAuthorityCSRCreated",
                          args("CertificateAuthorityArn", ca, NULL)));
    out = call("GetCertificateAuthorityCsr", args("CertificateAuthorityArn", ca, NULL));
    csr = get_str(out, "Csr");
    cJSON_Delete(out);
    return csr;
}

static void import(const char *ca, const char *cert, const char *chain)
{
    cJSON *in = args("CertificateAuthorityArn", ca, "Certificate", cert, NULL);
    if (chain)
        cJSON_AddStringToObject(in, "CertificateChain", chain);
    cJSON_Delete(call("ImportCertificateAuthorityCertificate", in));
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

/* Verify leaf against root, with the subordinate as an untrusted intermediate. */
static int verify(const char *leaf_pem, const char *sub_pem, const char *root_pem)
{
    X509 *leaf = pem_cert(leaf_pem), *sub = pem_cert(sub_pem), *root = pem_cert(root_pem);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok;
    X509_STORE_add_cert(store, root);
    sk_X509_push(untrusted, sub);
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    ok = X509_verify_cert(ctx) == 1;
    if (!ok)
        fprintf(stderr, "verify: %s\n",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    X509_free(leaf);
    X509_free(sub);
    X509_free(root);
    return ok;
}

/*
 * Write `text` to dir/name atomically with `mode` from the first byte: a
 * temporary file created exclusively (O_EXCL|O_NOFOLLOW, so neither an
 * existing file nor a planted symlink is followed), then renamed over the
 * target (which replaces a symlink, never writes through it).
 */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[1024], tmp[1100];
    size_t len = strlen(text);
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len ||
        fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "error: writing %s: %s\n", path, strerror(errno));
        unlink(tmp);
        exit(1);
    }
    printf("     wrote %s\n", path);
}

static void describe(const char *label, const char *ca)
{
    cJSON *out = call("DescribeCertificateAuthority", args("CertificateAuthorityArn", ca, NULL));
    cJSON *d = cJSON_GetObjectItem(out, "CertificateAuthority");
    printf("     %-12s %-12s %-10s %s\n", label, cJSON_GetStringValue(cJSON_GetObjectItem(d, "Type")),
           cJSON_GetStringValue(cJSON_GetObjectItem(d, "Status")), ca);
    cJSON_Delete(out);
}

int main(int argc, char **argv)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    const char *out_dir = "walkthrough-out";
    char *root, *sub, *csr, *root_pem, *sub_pem, *serial = NULL;
    acmpca_certificate_request r;
    acmpca_issued_certificate *server = NULL;
    static const char *dns[] = {"www.example.test", "example.test"};
    cJSON *info = NULL, *page = NULL;
    acmpca_paginator *pages = NULL;
    int i, yes = 0, cas = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint-url") == 0 && i + 1 < argc)
            o.endpoint_url = argv[++i];
        else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            o.region = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_dir = argv[++i];
        else if (strcmp(argv[i], "--yes") == 0)
            yes = 1;
        else {
            fprintf(stderr, "usage: %s [--endpoint-url URL] [--region R] [--out DIR] [--yes]\n",
                    argv[0]);
            return 2;
        }
    }
    acmpca_global_init();
    if (acmpca_client_new(&client, &o) != 0)
        die("client");
    if (!o.endpoint_url && !getenv("AWS_ENDPOINT_URL") && !getenv("AWS_ENDPOINT_URL_ACM_PCA") &&
        !yes) {
        printf("This would run against real AWS at %s and create two private CAs, which AWS "
               "bills for.\nRun again with --yes to go ahead, or give --endpoint-url.\n",
               acmpca_client_endpoint(client));
        acmpca_client_free(client);
        return 2;
    }
    printf("acmpca %s walkthrough against %s\n", acmpca_version(), acmpca_client_endpoint(client));

    step("Creating the root CA (RSA_2048, SHA256WITHRSA, CN=Example Root CA, CRL off)");
    root = create_ca("ROOT", "Example Root CA");
    csr = ca_csr(root);
    step("Issuing the root certificate (RootCACertificate/V1, 10 years)");
    root_pem = issue(root, csr, ROOT_TEMPLATE, 3650);
    free(csr);
    step("Importing it: the root CA becomes ACTIVE");
    import(root, root_pem, NULL);

    step("Creating a subordinate CA (CN=Example Issuing CA)");
    sub = create_ca("SUBORDINATE", "Example Issuing CA");
    csr = ca_csr(sub);
    step("Signing it with the root (SubordinateCACertificate_PathLen0/V1, 5 years)");
    sub_pem = issue(root, csr, SUB_TEMPLATE, 1825);
    free(csr);
    step("Importing it with its chain");
    import(sub, sub_pem, root_pem);

    step("Making an EC P-256 key and a CSR for www.example.test, issuing, waiting");
    memset(&r, 0, sizeof(r));
    r.certificate_authority_arn = sub;
    r.subject.common_name = "www.example.test";
    r.subject.organization = "Example Corp";
    r.subject.dns_names = dns;
    r.subject.dns_count = 2;
    r.validity_days = 90;
    if (acmpca_request_certificate(client, &r, &server) != 0)
        die("request_certificate");

    step("Verifying the chain with OpenSSL");
    if (!verify(server->certificate_pem, sub_pem, root_pem)) {
        fprintf(stderr, "error: the certificate does not chain to the root\n");
        return 1;
    }
    acmpca_pki_parse_certificate(&info, server->certificate_pem);
    printf("     %s, issued by %s, serial %s\n",
           cJSON_GetStringValue(cJSON_GetObjectItem(info, "Subject")),
           cJSON_GetStringValue(cJSON_GetObjectItem(info, "Issuer")),
           cJSON_GetStringValue(cJSON_GetObjectItem(info, "Serial")));

    step("Writing key, certificate and chain to %s/", out_dir);
    mkdir(out_dir, 0755);
    write_file(out_dir, "server.key", server->private_key_pem, 0600);
    write_file(out_dir, "server.crt", server->certificate_pem, 0644);
    {
        size_t n = strlen(sub_pem) + strlen(root_pem) + 2;
        char *chain = malloc(n);
        snprintf(chain, n, "%s%s%s", sub_pem, sub_pem[strlen(sub_pem) - 1] == '\n' ? "" : "\n",
                 root_pem);
        write_file(out_dir, "chain.pem", chain, 0644);
        free(chain);
    }

    step("Tagging the subordinate CA and listing CAs page by page");
    {
        cJSON *in = args("CertificateAuthorityArn", sub, NULL);
        cJSON_AddItemToObject(in, "Tags", cJSON_Parse("[{\"Key\":\"env\",\"Value\":\"demo\"}]"));
        cJSON_Delete(call("TagCertificateAuthority", in));
    }
    if (acmpca_paginator_new(&pages, client, "ListCertificateAuthorities", NULL, 1, 0, NULL) != 0)
        die("paginator");
    while (acmpca_paginator_next(pages, &page) == 0 && page) {
        cas += cJSON_GetArraySize(cJSON_GetObjectItem(page, "CertificateAuthorities"));
        cJSON_Delete(page);
    }
    printf("     %d CAs listed\n", cas);
    acmpca_paginator_free(pages);

    step("Revoking the server certificate (serial %s)",
         cJSON_GetStringValue(cJSON_GetObjectItem(info, "Serial")));
    acmpca_pki_normalize_serial(&serial, server->certificate_pem);
    cJSON_Delete(call("RevokeCertificate", args("CertificateAuthorityArn", sub,
                                                "CertificateSerial", serial,
                                                "RevocationReason", "SUPERSEDED", NULL)));

    step("CA status");
    describe("root", root);
    describe("subordinate", sub);

    step("Disabling and deleting both CAs");
    cJSON_Delete(call("UpdateCertificateAuthority", args("CertificateAuthorityArn", sub,
                                                         "Status", "DISABLED", NULL)));
    cJSON_Delete(call("UpdateCertificateAuthority", args("CertificateAuthorityArn", root,
                                                         "Status", "DISABLED", NULL)));
    for (i = 0; i < 2; i++) {
        cJSON *in = args("CertificateAuthorityArn", i ? root : sub, NULL);
        cJSON_AddNumberToObject(in, "PermanentDeletionTimeInDays", 7);
        cJSON_Delete(call("DeleteCertificateAuthority", in));
    }

    printf("\nSummary\n");
    printf("  %-22s %s\n", "root CA", root);
    printf("  %-22s %s\n", "subordinate CA", sub);
    printf("  %-22s %s\n", "server certificate", server->certificate_arn);
    printf("  %-22s %s\n", "serial (revoked)", serial);
    printf("  %-22s %s/server.key, server.crt, chain.pem\n", "files", out_dir);
    printf("  %-22s %s\n", "chain verified", "yes (OpenSSL)");

    cJSON_Delete(info);
    free(serial);
    acmpca_issued_certificate_free(server);
    free(root);
    free(sub);
    free(root_pem);
    free(sub_pem);
    acmpca_client_free(client);
    acmpca_global_cleanup();
    return 0;
}
