/*
 * acmpca/pki.h - the PKI chores around ACM PCA that users otherwise do with a
 * second crypto library: private keys and CSRs, CSR and serial number
 * normalisation, reading a certificate, and "issue and wait" in one call.
 *
 * All PEM in and out is text. Results are caller-owned: free strings with
 * acmpca_free() and cJSON with cJSON_Delete().
 */
#ifndef ACMPCA_PKI_H
#define ACMPCA_PKI_H

#include <cjson/cJSON.h>

#include "client.h"
#include "waiter.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Generate a private key as PKCS#8 PEM. `key_type` is one of "RSA_2048",
 * "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"
 * (the service's KeyAlgorithm names) or "ED25519"; the short forms
 * "rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521", "ed25519" work too.
 */
ACMPCA_API int acmpca_pki_generate_key(char **out_pem, const char *key_type);

/* What goes into a CSR. Unused fields are NULL / 0. */
typedef struct acmpca_csr_options {
    const char *private_key_pem;     /* required */
    const char *common_name;
    const char *organization;
    const char *organizational_unit;
    const char *country;             /* two letters */
    const char *state;
    const char *locality;
    const char *const *dns_names;    /* subjectAltName entries */
    size_t dns_count;
    const char *const *ip_addresses; /* IPv4 or IPv6 text */
    size_t ip_count;
    const char *const *emails;
    size_t email_count;
    const char *const *uris;
    size_t uri_count;
} acmpca_csr_options;

/* A CSR (PEM "CERTIFICATE REQUEST") signed with the given key (SHA-256; Ed25519 signs itself). */
ACMPCA_API int acmpca_pki_make_csr(char **out_pem, const acmpca_csr_options *opts);

/*
 * Any reasonable CSR input -> the PEM the service accepts: PEM with the old
 * "NEW CERTIFICATE REQUEST" header, DER bytes, or base64 with stray
 * whitespace. Fails with ACMPCA_EPARAM when the input is not a CSR.
 */
ACMPCA_API int acmpca_pki_normalize_csr(char **out_pem, const void *data, size_t len);

/*
 * A certificate serial as RevokeCertificate wants it (colon-separated
 * lowercase hex bytes, e.g. "79:3f:0d"), from: a certificate ARN (whose last
 * part is the serial in decimal), colon-separated or plain hex (optionally
 * "0x"-prefixed), or a certificate in PEM.
 */
ACMPCA_API int acmpca_pki_normalize_serial(char **out, const char *input);

/*
 * Read a PEM certificate into {"Subject", "Issuer", "Serial", "NotBefore",
 * "NotAfter" (seconds since the epoch), "SubjectAlternativeNames":
 * [{"Type": "DNS"|"IP"|"EMAIL"|"URI", "Value"}], "IsCA", "KeyAlgorithm"}.
 */
ACMPCA_API int acmpca_pki_parse_certificate(cJSON **out, const char *pem);

/* What acmpca_request_certificate needs. */
typedef struct acmpca_certificate_request {
    const char *certificate_authority_arn;  /* required */
    const char *csr_pem;           /* a CSR to use; NULL: make a key and a CSR */
    const char *key_type;          /* for a new key; NULL: "EC_prime256v1" */
    acmpca_csr_options subject;    /* for a new CSR (private_key_pem is ignored) */
    const char *signing_algorithm; /* NULL: the CA's own signing algorithm */
    const char *template_arn;      /* NULL: the service default (end entity) */
    int validity_days;             /* 0: 365 */
    double wait_delay_s;           /* 0: the waiter's 1 s */
    int wait_max_attempts;         /* 0: the waiter's 60 */
    acmpca_wait_progress_fn wait_progress; /* told before each pause; may cancel (NULL) */
    void *wait_progress_userdata;
} acmpca_certificate_request;

typedef struct acmpca_issued_certificate {
    char *certificate_arn;
    char *certificate_pem;
    char *certificate_chain_pem;   /* "" when the service sent none */
    char *private_key_pem;         /* NULL when a CSR was given */
    char *csr_pem;
} acmpca_issued_certificate;

/*
 * Key + CSR (or the given CSR) -> [DescribeCertificateAuthority for the CA's
 * signing algorithm] -> IssueCertificate -> the CertificateIssued waiter ->
 * the certificate, in one call: acmpca_machine_new_request_certificate's
 * machine (acmpca/machine.h, which lists what is refused before any I/O)
 * driven by the blocking driver, which calls wait_progress before each
 * waiter pause.
 */
ACMPCA_API int acmpca_request_certificate(acmpca_client *client,
                                          const acmpca_certificate_request *req,
                                          acmpca_issued_certificate **out);
/* Wipes the private key. NULL is a no-op. */
ACMPCA_API void acmpca_issued_certificate_free(acmpca_issued_certificate *cert);

#ifdef __cplusplus
}
#endif
#endif
