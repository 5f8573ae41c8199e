/*
 * files.c - the acmpca command's careful file handling and local checks:
 * reading inputs, writing key/cert/chain files atomically and exclusively,
 * verifying a chain with OpenSSL, durations and key type names.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"

#define CLI_MAX_INPUT (1024 * 1024)

char *cli_read_file(const char *path, int *exit_code)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, n;

    *exit_code = CLI_OK;
    if (!f) {
        *exit_code = cli_error(CLI_USAGE, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!(buf = malloc(CLI_MAX_INPUT + 1))) {
        *exit_code = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    while ((n = fread(buf + len, 1, CLI_MAX_INPUT + 1 - len, f)) > 0 && len + n <= CLI_MAX_INPUT)
        len += n;
    if (n > 0 || ferror(f)) {
        *exit_code = n > 0 ? cli_error(CLI_USAGE, "%s: larger than 1 MiB", path)
                           : cli_error(CLI_USAGE, "cannot read %s: %s", path, strerror(errno));
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[len] = '\0';
done:
    if (f != stdin)
        fclose(f);
    return buf;
}

int cli_stage(cli_writes *w, const char *path, const char *text, mode_t mode)
{
    size_t len = strlen(text), cap = strlen(path) + 32;
    char *tmp = NULL;
    int fd = -1, attempt;

    if (w->n >= sizeof(w->f) / sizeof(w->f[0]) || !(tmp = malloc(cap)))
        return cli_error(CLI_SERVICE, "out of memory");
    /* O_EXCL|O_NOFOLLOW: neither an existing file nor a planted symlink is
       written through; the mode is right from the first byte. */
    for (attempt = 0; fd < 0 && attempt < 16; attempt++) {
        snprintf(tmp, cap, "%s.tmp%ld.%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    /* Text files end with a newline, whatever the service sent. */
    if (fd < 0 || fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len ||
        (len && text[len - 1] != '\n' && write(fd, "\n", 1) != 1) || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return cli_error(CLI_SERVICE, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return cli_error(CLI_SERVICE, "cannot write %s: %s", path, strerror(e));
    }
    w->f[w->n].tmp = tmp;
    w->f[w->n].path = strdup(path);
    w->n++;
    return CLI_OK;
}

int cli_commit(cli_writes *w)
{
    size_t i;
    for (i = 0; i < w->n; i++) {
        if (!w->f[i].path || rename(w->f[i].tmp, w->f[i].path) != 0)
            return cli_error(CLI_SERVICE, "cannot replace %s: %s",
                             w->f[i].path ? w->f[i].path : "a file", strerror(errno));
        free(w->f[i].tmp);
        w->f[i].tmp = NULL;
    }
    return CLI_OK;
}

void cli_writes_free(cli_writes *w)
{
    size_t i;
    for (i = 0; i < w->n; i++) {
        if (w->f[i].tmp)
            unlink(w->f[i].tmp);
        free(w->f[i].tmp);
        free(w->f[i].path);
    }
    w->n = 0;
}

int cli_uuid4(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1) {
        ERR_clear_error();
        return cli_error(CLI_SERVICE, "no random bytes for a token");
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return CLI_OK;
}

double cli_duration(const char *text)
{
    char *end;
    double v = strtod(text, &end), unit;

    if (end == text || v < 0)
        return -1;
    switch (*end) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    case 'y': unit = 365 * 86400; break;
    default: return -1;
    }
    return end[1] ? -1 : v * unit;
}

static const struct {
    const char *short_name, *algorithm, *signing;
} key_types[] = {
    {"ec256", "EC_prime256v1", "SHA256WITHECDSA"},
    {"ec384", "EC_secp384r1", "SHA384WITHECDSA"},
    {"rsa2048", "RSA_2048", "SHA256WITHRSA"},
    {"rsa3072", "RSA_3072", "SHA256WITHRSA"},
    {"rsa4096", "RSA_4096", "SHA256WITHRSA"},
};

const char *cli_key_algorithm(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof(key_types) / sizeof(key_types[0]); i++)
        if (strcasecmp(name, key_types[i].short_name) == 0 ||
            strcasecmp(name, key_types[i].algorithm) == 0)
            return key_types[i].algorithm;
    return NULL;
}

const char *cli_signing_algorithm(const char *key_algorithm)
{
    size_t i;
    for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
        if (strcmp(key_algorithm, key_types[i].algorithm) == 0)
            return key_types[i].signing;
    return "SHA256WITHRSA";
}

char *cli_concat_pem(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 2);
    if (out)
        snprintf(out, la + lb + 2, "%s%s%s", a, la && a[la - 1] != '\n' && lb ? "\n" : "", b);
    return out;
}

const char *cli_str(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* Every certificate of a PEM text, in order. */
static STACK_OF(X509) *read_certs(const char *pem)
{
    STACK_OF(X509) *list = sk_X509_new_null();
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x;

    while (list && bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(list, x))
            X509_free(x);
    ERR_clear_error(); /* the end of the text reads as an error */
    BIO_free(bio);
    return list;
}

int cli_chain_has_root(const char *chain)
{
    STACK_OF(X509) *certs = read_certs(chain);
    int n = certs ? sk_X509_num(certs) : 0;
    int root = n > 0 && X509_check_issued(sk_X509_value(certs, n - 1),
                                          sk_X509_value(certs, n - 1)) == X509_V_OK;
    sk_X509_pop_free(certs, X509_free);
    return root;
}

int cli_chain_extends(const char *chain, const char *longer)
{
    STACK_OF(X509) *a = read_certs(chain), *b = read_certs(longer);
    int i, n = a ? sk_X509_num(a) : -1, yes = a && b && sk_X509_num(b) > n;

    for (i = 0; yes && i < n; i++)
        yes = X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) == 0;
    sk_X509_pop_free(a, X509_free);
    sk_X509_pop_free(b, X509_free);
    return yes;
}

static int verify_failed(const char *what, const char *detail, const char *note)
{
    return cli_error(CLI_SERVICE, "%s%s%s", what, detail, note ? note : "");
}

int cli_verify(const char *cert_pem, const char *chain_pem, const char *key_pem, const char *note)
{
    STACK_OF(X509) *leafs = read_certs(cert_pem), *chain = read_certs(chain_pem);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *leaf = leafs && sk_X509_num(leafs) > 0 ? sk_X509_value(leafs, 0) : NULL, *anchor;
    EVP_PKEY *key = NULL;
    int rc = CLI_OK, n = chain ? sk_X509_num(chain) : 0;

    if (!leaf || !store || !ctx || !chain) {
        rc = verify_failed("verifying the certificate: it cannot be read", "", note);
        goto done;
    }
    if (key_pem) {
        BIO *bio = BIO_new_mem_buf(key_pem, -1);
        key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!key || X509_check_private_key(leaf, key) != 1) {
            rc = verify_failed("the certificate does not match the private key", "", note);
            goto done;
        }
    }
    if (n == 0)
        goto done; /* the service sent no chain: nothing to verify against */
    /* The chain's last certificate is the trust anchor: the root when the
       chain is complete, else the issuer itself (a partial chain). */
    anchor = sk_X509_pop(chain);
    if (!X509_STORE_add_cert(store, anchor)) {
        X509_free(anchor);
        rc = verify_failed("verifying the certificate: bad chain", "", note);
        goto done;
    }
    X509_free(anchor);
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (!X509_STORE_CTX_init(ctx, store, leaf, chain) || X509_verify_cert(ctx) != 1)
        rc = verify_failed("the certificate does not verify against its chain: ",
                           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)), note);
done:
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(leafs, X509_free);
    return rc;
}

char *cli_common_name(const char *pem)
{
    STACK_OF(X509) *certs = read_certs(pem);
    X509_NAME *name = certs && sk_X509_num(certs) > 0
                          ? X509_get_subject_name(sk_X509_value(certs, 0)) : NULL;
    int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    unsigned char *utf8 = NULL;
    char *out = NULL;

    if (i >= 0 &&
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) >= 0)
        out = strdup((char *)utf8);
    OPENSSL_free(utf8);
    sk_X509_pop_free(certs, X509_free);
    return out ? out : strdup("");
}
