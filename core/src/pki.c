/*
 * pki.c - keys, CSRs, CSR and serial normalisation, certificate reading, and
 * request_certificate's key and CSR (its calls are machine.c's), on OpenSSL 3.
 *
 * OpenSSL's error queue is read into our message and cleared at the point of
 * failure, so a later call never sees a stale OpenSSL error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client_internal.h"

#define MAX_PEM_INPUT (1 << 20)

/* Record a failure with OpenSSL's reason, then clear its queue. */
static int ossl_fail(int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char reason[256] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return acmpca__error_set(code, "%s%s%s", what, reason[0] ? ": " : "", reason);
}

static char *bio_text(BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    return len >= 0 ? acmpca__strndup(data ? data : "", (size_t)len) : NULL;
}

/* ---- keys ------------------------------------------------------------------ */

typedef struct key_kind {
    const char *name, *alias, *algorithm, *group;
    size_t bits;
} key_kind;

static const key_kind key_kinds[] = {
    {"RSA_2048", "rsa2048", "RSA", NULL, 2048},
    {"RSA_3072", "rsa3072", "RSA", NULL, 3072},
    {"RSA_4096", "rsa4096", "RSA", NULL, 4096},
    {"EC_prime256v1", "p256", "EC", "P-256", 0},
    {"EC_secp384r1", "p384", "EC", "P-384", 0},
    {"EC_secp521r1", "p521", "EC", "P-521", 0},
    {"ED25519", "ed25519", "ED25519", NULL, 0},
};

int acmpca_pki_generate_key(char **out_pem, const char *key_type)
{
    const key_kind *k = NULL;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    size_t i;
    int err = 0;

    if (!out_pem)
        return acmpca__error_set(ACMPCA_EINVAL, "out_pem: must not be NULL");
    *out_pem = NULL;
    for (i = 0; key_type && i < sizeof(key_kinds) / sizeof(key_kinds[0]); i++)
        if (strcmp(key_type, key_kinds[i].name) == 0 ||
            acmpca__strcaseeq(key_type, key_kinds[i].alias))
            k = &key_kinds[i];
    if (!k)
        return acmpca__error_set(ACMPCA_EPARAM,
                                 "key_type: expected one of RSA_2048, RSA_3072, RSA_4096, "
                                 "EC_prime256v1, EC_secp384r1, EC_secp521r1, ED25519; got \"%s\"",
                                 key_type ? key_type : "(null)");
    if (k->bits)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", k->bits);
    else if (k->group)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", k->group);
    else
        key = EVP_PKEY_Q_keygen(NULL, NULL, k->algorithm);
    if (!key || !(bio = BIO_new(BIO_s_mem())) ||
        !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        err = ossl_fail(ACMPCA_ECRYPTO, "generating the private key failed");
        goto done;
    }
    if (!(*out_pem = bio_text(bio)))
        err = ACMPCA_ENOMEM;
done:
    BIO_free_all(bio); /* the memory BIO held the key: OpenSSL clears it on free */
    EVP_PKEY_free(key);
    return err;
}

/* ---- CSRs ------------------------------------------------------------------ */

static int add_name(X509_NAME *name, const char *field, const char *value, const char *what)
{
    if (!value)
        return 0;
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                    -1, 0))
        return ossl_fail(ACMPCA_EPARAM, what);
    return 0;
}

static int add_general_names(GENERAL_NAMES *names, int type, const char *const *values,
                             size_t count, const char *what)
{
    size_t i;
    for (i = 0; i < count; i++) {
        GENERAL_NAME *gn = NULL;
        if (!values[i] || !values[i][0])
            return acmpca__error_set(ACMPCA_EPARAM, "%s[%zu]: must not be empty", what, i);
        if (type == GEN_IPADD) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(values[i]);
            if (!ip) {
                ERR_clear_error();
                return acmpca__error_set(ACMPCA_EPARAM, "%s[%zu]: \"%s\" is not an IP address",
                                         what, i, values[i]);
            }
            gn = GENERAL_NAME_new();
            if (gn)
                GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
            else
                ASN1_OCTET_STRING_free(ip);
        } else {
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            if (s && ASN1_STRING_set(s, values[i], -1) && (gn = GENERAL_NAME_new()) != NULL)
                GENERAL_NAME_set0_value(gn, type, s);
            else
                ASN1_IA5STRING_free(s);
        }
        if (!gn || !sk_GENERAL_NAME_push(names, gn)) {
            GENERAL_NAME_free(gn);
            return ossl_fail(ACMPCA_ENOMEM, "building subjectAltName");
        }
    }
    return 0;
}

static EVP_PKEY *read_private_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

int acmpca_pki_make_csr(char **out_pem, const acmpca_csr_options *o)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    X509_NAME *name = NULL;
    GENERAL_NAMES *sans = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    BIO *bio = NULL;
    int err = 0, ed;

    if (!out_pem || !o)
        return acmpca__error_set(ACMPCA_EINVAL, "out_pem and options: must not be NULL");
    *out_pem = NULL;
    if (!o->private_key_pem)
        return acmpca__error_set(ACMPCA_EPARAM, "private_key_pem: required");
    if (!(key = read_private_key(o->private_key_pem))) {
        err = ossl_fail(ACMPCA_EPARAM, "private_key_pem: not a PEM private key");
        goto done;
    }
    if (o->country && strlen(o->country) != 2) {
        err = acmpca__error_set(ACMPCA_EPARAM, "country: expected a two-letter code, got \"%s\"",
                                o->country);
        goto done;
    }
    req = X509_REQ_new();
    name = X509_NAME_new();
    sans = GENERAL_NAMES_new();
    if (!req || !name || !sans) {
        err = ossl_fail(ACMPCA_ENOMEM, "out of memory");
        goto done;
    }
    if ((err = add_name(name, "C", o->country, "country")) ||
        (err = add_name(name, "ST", o->state, "state")) ||
        (err = add_name(name, "L", o->locality, "locality")) ||
        (err = add_name(name, "O", o->organization, "organization")) ||
        (err = add_name(name, "OU", o->organizational_unit, "organizational_unit")) ||
        (err = add_name(name, "CN", o->common_name, "common_name")))
        goto done;
    if ((err = add_general_names(sans, GEN_DNS, o->dns_names, o->dns_count, "dns_names")) ||
        (err = add_general_names(sans, GEN_IPADD, o->ip_addresses, o->ip_count,
                                 "ip_addresses")) ||
        (err = add_general_names(sans, GEN_EMAIL, o->emails, o->email_count, "emails")) ||
        (err = add_general_names(sans, GEN_URI, o->uris, o->uri_count, "uris")))
        goto done;
    if (X509_NAME_entry_count(name) == 0 && sk_GENERAL_NAME_num(sans) == 0) {
        err = acmpca__error_set(ACMPCA_EPARAM,
                                "subject: give a common_name or at least one subject alternative "
                                "name");
        goto done;
    }
    if (!X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, name) ||
        !X509_REQ_set_pubkey(req, key)) {
        err = ossl_fail(ACMPCA_ENOMEM, "building the CSR");
        goto done;
    }
    if (sk_GENERAL_NAME_num(sans) > 0) {
        if (!(exts = sk_X509_EXTENSION_new_null()) ||
            !X509V3_add1_i2d(&exts, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) ||
            !X509_REQ_add_extensions(req, exts)) {
            err = ossl_fail(ACMPCA_ENOMEM, "adding subjectAltName");
            goto done;
        }
    }
    ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
    if (X509_REQ_sign(req, key, ed ? NULL : EVP_sha256()) <= 0) {
        err = ossl_fail(ACMPCA_ECRYPTO, "signing the CSR failed");
        goto done;
    }
    if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509_REQ(bio, req) ||
        !(*out_pem = bio_text(bio)))
        err = ossl_fail(ACMPCA_ENOMEM, "writing the CSR");
done:
    BIO_free(bio);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(sans);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return err;
}

/*
 * The DER inside PEM-ish or base64 text: whatever lies between a BEGIN line
 * and an END line (any label), or the whole text when there are none.
 */
static unsigned char *text_to_der(const char *text, size_t len, size_t *der_len)
{
    const char *begin = NULL, *end = text + len, *p;
    char *b64;
    unsigned char *der;

    for (p = text; p + 10 <= end; p++) {
        if (memcmp(p, "-----BEGIN", 10) == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            begin = nl ? nl + 1 : end;
            break;
        }
    }
    if (begin) {
        for (p = begin; p + 8 <= end; p++)
            if (memcmp(p, "-----END", 8) == 0)
                break;
        end = p + 8 <= text + len ? p : end;
    } else {
        begin = text;
    }
    b64 = acmpca__strndup(begin, (size_t)(end - begin));
    if (!b64)
        return NULL;
    der = acmpca__base64_decode(b64, der_len);
    free(b64);
    return der;
}

int acmpca_pki_normalize_csr(char **out_pem, const void *data, size_t len)
{
    const unsigned char *bytes = data, *p;
    unsigned char *der = NULL;
    size_t der_len = 0, i;
    X509_REQ *req = NULL;
    EVP_PKEY *pub;
    BIO *bio = NULL;
    int err = 0, is_text = 1;

    if (!out_pem || (!data && len))
        return acmpca__error_set(ACMPCA_EINVAL, "out_pem and data: must not be NULL");
    *out_pem = NULL;
    if (len == 0 || len > MAX_PEM_INPUT)
        return acmpca__error_set(ACMPCA_EPARAM, "Csr: expected 1 byte to 1 MiB, got %zu", len);
    for (i = 0; i < len; i++)
        if (!isprint(bytes[i]) && !isspace(bytes[i]))
            is_text = 0;
    if (is_text) {
        if (!(der = text_to_der(data, len, &der_len))) {
            err = acmpca__error_set(ACMPCA_EPARAM,
                                    "Csr: not a CSR (neither PEM nor base64-encoded DER)");
            goto done;
        }
        p = der;
    } else {
        p = bytes;
        der_len = len;
    }
    req = d2i_X509_REQ(NULL, &p, (long)der_len);
    if (!req) {
        err = ossl_fail(ACMPCA_EPARAM, "Csr: not a certificate signing request");
        goto done;
    }
    pub = X509_REQ_get0_pubkey(req);
    if (!pub || X509_REQ_verify(req, pub) != 1) {
        err = ossl_fail(ACMPCA_EPARAM, "Csr: its signature does not verify");
        goto done;
    }
    if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509_REQ(bio, req) ||
        !(*out_pem = bio_text(bio)))
        err = ossl_fail(ACMPCA_ENOMEM, "writing the CSR");
done:
    BIO_free(bio);
    X509_REQ_free(req);
    free(der);
    return err;
}

/* ---- serials --------------------------------------------------------------- */

static X509 *read_certificate(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

/* "79:3f:0d", from a big number. */
static char *serial_text(const BIGNUM *bn)
{
    char *hex = BN_bn2hex(bn), *out = NULL;
    size_t n, pad, i, j = 0;
    if (!hex)
        return NULL;
    n = strlen(hex);
    pad = n % 2;
    if ((out = malloc(n + pad + (n + pad) / 2 + 1)) != NULL) {
        for (i = 0; i < n + pad; i++) {
            if (i && i % 2 == 0)
                out[j++] = ':';
            out[j++] = (char)tolower((unsigned char)(pad && i == 0 ? '0' : hex[i - pad]));
        }
        out[j] = '\0';
    }
    OPENSSL_free(hex);
    return out;
}

int acmpca_pki_normalize_serial(char **out, const char *input)
{
    BIGNUM *bn = NULL;
    X509 *x = NULL;
    char digits[256];
    const char *s, *arn_tail;
    size_t n = 0;
    int err = 0;

    if (!out || !input)
        return acmpca__error_set(ACMPCA_EINVAL, "out and input: must not be NULL");
    *out = NULL;
    for (s = input; isspace((unsigned char)*s); s++)
        ;
    if (strncmp(s, "-----BEGIN", 10) == 0) {
        if (!(x = read_certificate(s))) {
            err = ossl_fail(ACMPCA_EPARAM, "serial: the PEM is not a certificate");
            goto done;
        }
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    } else if (strncmp(s, "arn:", 4) == 0) {
        if (!(arn_tail = strstr(s, "/certificate/"))) {
            err = acmpca__error_set(ACMPCA_EPARAM,
                                    "serial: \"%s\" is not a certificate ARN (no /certificate/)",
                                    s);
            goto done;
        }
        arn_tail += strlen("/certificate/");
        for (n = 0; isdigit((unsigned char)arn_tail[n]); n++)
            ;
        if (n == 0 || arn_tail[n] || n >= sizeof(digits)) {
            err = acmpca__error_set(ACMPCA_EPARAM,
                                    "serial: the certificate ARN does not end in a decimal serial "
                                    "number");
            goto done;
        }
        if (!BN_dec2bn(&bn, arn_tail))
            bn = NULL;
    } else {
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            s += 2;
        for (; *s && n + 1 < sizeof(digits); s++) {
            if (*s == ':' || isspace((unsigned char)*s))
                continue;
            if (!isxdigit((unsigned char)*s))
                break;
            digits[n++] = *s;
        }
        digits[n] = '\0';
        if (*s || n == 0) {
            err = acmpca__error_set(ACMPCA_EPARAM,
                                    "serial: expected a certificate ARN, hex digits (optionally "
                                    "colon-separated) or a PEM certificate, got \"%s\"", input);
            goto done;
        }
        if (!BN_hex2bn(&bn, digits))
            bn = NULL;
    }
    if (!bn || !(*out = serial_text(bn)))
        err = ossl_fail(ACMPCA_ENOMEM, "converting the serial number");
done:
    BN_free(bn);
    X509_free(x);
    return err;
}

/* ---- reading certificates -------------------------------------------------- */

static double asn1_time_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (double)(acmpca__days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
                    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
}

static int add_name_text(cJSON *obj, const char *key, const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL;
    int ok = bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
             (text = bio_text(bio)) != NULL && cJSON_AddStringToObject(obj, key, text);
    free(text);
    BIO_free(bio);
    return ok;
}

static int add_sans(cJSON *obj, X509 *x)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    cJSON *list = cJSON_AddArrayToObject(obj, "SubjectAlternativeNames");
    int i, ok = list != NULL;

    for (i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        cJSON *item = cJSON_CreateObject();
        const char *type = NULL;
        char value[256] = "";
        if (gn->type == GEN_DNS || gn->type == GEN_EMAIL || gn->type == GEN_URI) {
            const ASN1_IA5STRING *s = gn->d.ia5;
            type = gn->type == GEN_DNS ? "DNS" : gn->type == GEN_EMAIL ? "EMAIL" : "URI";
            snprintf(value, sizeof(value), "%.*s", ASN1_STRING_length(s),
                     (const char *)ASN1_STRING_get0_data(s));
        } else if (gn->type == GEN_IPADD) {
            int n = ASN1_STRING_length(gn->d.ip);
            type = "IP";
            if (n == 4 || n == 16)
                inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.ip), value,
                          sizeof(value));
        }
        if (!item || (type && (!cJSON_AddStringToObject(item, "Type", type) ||
                               !cJSON_AddStringToObject(item, "Value", value)))) {
            cJSON_Delete(item);
            ok = 0;
        } else if (!type) {
            cJSON_Delete(item); /* other name forms are not reported */
        } else {
            cJSON_AddItemToArray(list, item);
        }
    }
    GENERAL_NAMES_free(names);
    return ok;
}

static const char *key_algorithm(EVP_PKEY *key, char *buf, size_t cap)
{
    char group[64] = "";
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        snprintf(buf, cap, "RSA_%d", EVP_PKEY_get_bits(key));
        return buf;
    case EVP_PKEY_EC:
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL);
        snprintf(buf, cap, "EC_%s", group);
        return buf;
    case EVP_PKEY_ED25519:
        return "ED25519";
    default:
        return "UNKNOWN";
    }
}

int acmpca_pki_parse_certificate(cJSON **out, const char *pem)
{
    X509 *x = NULL;
    cJSON *obj = NULL;
    BIGNUM *bn = NULL;
    char *serial = NULL, alg[80];   /* "EC_" and a group name of up to 63 bytes */
    EVP_PKEY *key;
    int err = 0;

    if (!out || !pem)
        return acmpca__error_set(ACMPCA_EINVAL, "out and pem: must not be NULL");
    *out = NULL;
    if (!(x = read_certificate(pem)))
        return ossl_fail(ACMPCA_EPARAM, "Certificate: not a PEM certificate");
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    serial = bn ? serial_text(bn) : NULL;
    key = X509_get0_pubkey(x);
    obj = cJSON_CreateObject();
    if (!obj || !serial || !add_name_text(obj, "Subject", X509_get_subject_name(x)) ||
        !add_name_text(obj, "Issuer", X509_get_issuer_name(x)) ||
        !cJSON_AddStringToObject(obj, "Serial", serial) ||
        !cJSON_AddNumberToObject(obj, "NotBefore", asn1_time_epoch(X509_get0_notBefore(x))) ||
        !cJSON_AddNumberToObject(obj, "NotAfter", asn1_time_epoch(X509_get0_notAfter(x))) ||
        !add_sans(obj, x) ||
        !cJSON_AddBoolToObject(obj, "IsCA", (X509_get_extension_flags(x) & EXFLAG_CA) != 0) ||
        !cJSON_AddStringToObject(obj, "KeyAlgorithm",
                                 key ? key_algorithm(key, alg, sizeof(alg)) : "UNKNOWN")) {
        err = ossl_fail(ACMPCA_ENOMEM, "reading the certificate");
        cJSON_Delete(obj);
        obj = NULL;
    }
    *out = obj;
    free(serial);
    BN_free(bn);
    X509_free(x);
    return err;
}

/* ---- request_certificate --------------------------------------------------- */

void acmpca_issued_certificate_free(acmpca_issued_certificate *c)
{
    if (!c)
        return;
    free(c->certificate_arn);
    free(c->certificate_pem);
    free(c->certificate_chain_pem);
    acmpca__free_secret(c->private_key_pem);
    free(c->csr_pem);
    free(c);
}

/* The key (none for a given CSR) and the CSR, as request_certificate sends them. */
int acmpca__certificate_csr(const acmpca_certificate_request *r, char **key_pem, char **csr_pem)
{
    acmpca_csr_options subject;
    int err;

    *key_pem = *csr_pem = NULL;
    if (r->csr_pem)
        return acmpca_pki_normalize_csr(csr_pem, r->csr_pem, strlen(r->csr_pem));
    if ((err = acmpca_pki_generate_key(key_pem, r->key_type ? r->key_type : "EC_prime256v1")))
        return err;
    subject = r->subject;
    subject.private_key_pem = *key_pem;
    if ((err = acmpca_pki_make_csr(csr_pem, &subject)) != 0) {
        acmpca__free_secret(*key_pem);
        *key_pem = NULL;
    }
    return err;
}

void acmpca__certificate_result_free(cJSON *res)
{
    cJSON *key = cJSON_GetObjectItemCaseSensitive(res, "PrivateKey");
    if (cJSON_IsString(key) && key->valuestring)
        acmpca__wipe(key->valuestring, strlen(key->valuestring));
    cJSON_Delete(res);
}
