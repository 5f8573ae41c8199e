/*
 * cert.c - `acmpca issue`, `acmpca renew` and `acmpca revoke`: a certificate
 * for a host in one command, kept renewed, revoked when the host goes.
 *
 * `issue` leaves a state file CERT.acmpca (JSON) next to the certificate:
 * the CA, the certificate ARN and what was asked for (names, key type,
 * validity, template, where the chain files went), so `renew` and `revoke`
 * need no more than the certificate's path. While they run, `issue` and
 * `renew` keep CERT.acmpca-pending so that a killed run, re-run, gets the
 * same certificate.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"

/* What to ask the CA for. */
typedef struct request {
    const char *ca, *cn, *key_type, *template_arn, *signing_algorithm, *csr_pem;
    cli_list dns, ip, uri, email;
    int days;         /* validity in days (0: the default) */
    double not_after; /* or an end, seconds since the epoch (0: none) */
} request;

/* Where the results go (NULL: not written). */
typedef struct paths {
    const char *key, *cert, *chain, *fullchain;
} paths;

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, a[0] && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return s;
}

static char *suffixed(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", path, suffix);
    return s;
}

static char *state_path(const char *cert)
{
    return suffixed(cert, ".acmpca");
}

static int exists(const char *path)
{
    struct stat st;
    return path && lstat(path, &st) == 0;
}

/* An absolute path for the state file, so renew works from any directory. */
static char *absolute(const char *path)
{
    char cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return strdup(path);
    return join(cwd, path);
}

/*
 * Some CAs answer GetCertificate with a chain that stops below the root
 * (moto gives only the issuer). Complete it from the issuing CA's own
 * certificate and chain so chain.pem verifies with the root as anchor; when
 * that call is not allowed, keep what the service gave.
 */
static char *complete_chain(acmpca_client *c, const char *ca, const char *chain)
{
    cJSON *in = cJSON_CreateObject(), *out = NULL;
    char *full = NULL, *ca_full = NULL;

    if (cli_chain_has_root(chain) || !in ||
        !cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca) ||
        acmpca_call(c, "GetCertificateAuthorityCertificate", in, &out) != 0 ||
        !cli_str(out, "Certificate")) {
        acmpca_error_clear();
        goto done;
    }
    ca_full = cli_concat_pem(cli_str(out, "Certificate"),
                             cli_str(out, "CertificateChain") ? cli_str(out, "CertificateChain")
                                                              : "");
    if (!ca_full)
        goto done;
    /* Only when the service's chain is the start of the issuer's own chain. */
    if (cli_chain_extends(chain, ca_full)) {
        full = ca_full;
        ca_full = NULL;
    }
done:
    cJSON_Delete(in);
    cJSON_Delete(out);
    free(ca_full);
    return full ? full : strdup(chain);
}

static void subject_of(const request *r, acmpca_csr_options *subject)
{
    memset(subject, 0, sizeof(*subject));
    subject->common_name = r->cn;
    subject->dns_names = r->dns.v;
    subject->dns_count = r->dns.n;
    subject->ip_addresses = r->ip.v;
    subject->ip_count = r->ip.n;
    subject->uris = r->uri.v;
    subject->uri_count = r->uri.n;
    subject->emails = r->email.v;
    subject->email_count = r->email.n;
}

static cJSON *string_list(const cli_list *l)
{
    return cJSON_CreateStringArray(l->v, (int)l->n);
}

/* The state file's JSON for what was issued (without an ARN: what is asked for). */
static cJSON *state_json(const request *r, const paths *p, const char *certificate_arn)
{
    cJSON *s = cJSON_CreateObject();
    char *key = p->key ? absolute(p->key) : NULL;
    char *chain = p->chain ? absolute(p->chain) : NULL;
    char *fullchain = p->fullchain ? absolute(p->fullchain) : NULL;

    cJSON_AddNumberToObject(s, "Version", 1);
    cJSON_AddStringToObject(s, "CertificateAuthorityArn", r->ca);
    if (certificate_arn)
        cJSON_AddStringToObject(s, "CertificateArn", certificate_arn);
    if (r->key_type)
        cJSON_AddStringToObject(s, "KeyType", r->key_type);
    if (r->cn)
        cJSON_AddStringToObject(s, "CommonName", r->cn);
    cJSON_AddItemToObject(s, "DnsNames", string_list(&r->dns));
    cJSON_AddItemToObject(s, "IpAddresses", string_list(&r->ip));
    cJSON_AddItemToObject(s, "Uris", string_list(&r->uri));
    cJSON_AddItemToObject(s, "Emails", string_list(&r->email));
    if (r->days)
        cJSON_AddNumberToObject(s, "ValidityDays", r->days);
    if (r->not_after)
        cJSON_AddNumberToObject(s, "NotAfter", r->not_after);
    if (r->template_arn)
        cJSON_AddStringToObject(s, "TemplateArn", r->template_arn);
    if (r->signing_algorithm)
        cJSON_AddStringToObject(s, "SigningAlgorithm", r->signing_algorithm);
    if (key)
        cJSON_AddStringToObject(s, "Key", key);
    if (chain)
        cJSON_AddStringToObject(s, "Chain", chain);
    if (fullchain)
        cJSON_AddStringToObject(s, "FullChain", fullchain);
    free(key);
    free(chain);
    free(fullchain);
    return s;
}

/* Write key (when new), certificate, chains and the state file, all or nothing. */
static int install(const paths *p, const acmpca_issued_certificate *cert, const char *key_pem,
                   const cJSON *state)
{
    cli_writes w = {0};
    char *fullchain = cli_concat_pem(cert->certificate_pem, cert->certificate_chain_pem);
    char *spath = state_path(p->cert), *stext = cli_json_text(state);
    int rc = CLI_OK;

    if (!fullchain || !spath || !stext) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((key_pem && (rc = cli_stage(&w, p->key, key_pem, 0600)) != CLI_OK) ||
        (rc = cli_stage(&w, p->cert, cert->certificate_pem, 0644)) != CLI_OK ||
        (p->chain && (rc = cli_stage(&w, p->chain, cert->certificate_chain_pem, 0644)) != CLI_OK) ||
        (p->fullchain && (rc = cli_stage(&w, p->fullchain, fullchain, 0644)) != CLI_OK))
        goto done;
    {
        size_t n = strlen(stext);
        char *with_nl = malloc(n + 2);
        if (!with_nl) {
            rc = cli_error(CLI_SERVICE, "out of memory");
            goto done;
        }
        snprintf(with_nl, n + 2, "%s\n", stext);
        rc = cli_stage(&w, spath, with_nl, 0644);
        free(with_nl);
        if (rc != CLI_OK)
            goto done;
    }
    rc = cli_commit(&w);
done:
    cli_writes_free(&w);
    free(fullchain);
    free(spath);
    free(stext);
    return rc;
}

/* "issued CN=www.example.test, serial 7a:..., not after 2026-...Z -> cert.pem" */
static void summary(const char *verb, const char *pem, const char *path)
{
    cJSON *info = NULL;
    char when[32] = "?";
    if (acmpca_pki_parse_certificate(&info, pem) == 0)
        cli_time_text(cJSON_GetNumberValue(cJSON_GetObjectItem(info, "NotAfter")), when,
                      sizeof(when));
    printf("%s %s, serial %s, not after %s -> %s\n", verb,
           info && cli_str(info, "Subject") ? cli_str(info, "Subject") : "?",
           info && cli_str(info, "Serial") ? cli_str(info, "Serial") : "?", when, path);
    fflush(stdout);
    cJSON_Delete(info);
}

static int parse_days(const char *cmd, const char *text, int *out)
{
    char *end;
    long v;
    if (!text)
        return CLI_OK;
    v = strtol(text, &end, 10);
    if (!*text || *end || v < 1 || v > 36500)
        return cli_usage(cmd, "--days: expected a number of days from 1 to 36500, got \"%s\"",
                         text);
    *out = (int)v;
    return CLI_OK;
}

/* ---- the pending request ---------------------------------------------------- */

/*
 * `issue` must survive being killed anywhere without getting a second
 * certificate. Before IssueCertificate is sent, CERT.acmpca-pending (0600,
 * created exclusively) records the key, the CSR, the signing algorithm, a
 * fresh IdempotencyToken and what was asked for; the certificate ARN is added
 * the moment it arrives. A re-run of the same command sends the same token
 * (ACM PCA answers it with the same ARN within the token's lifetime) or, once
 * the ARN is recorded, no IssueCertificate at all. The file goes once the
 * certificate is installed.
 */
#define PENDING_SUFFIX ".acmpca-pending"
#define PENDING_MAX (1024 * 1024)
#define TOKEN_LIFETIME_S 300 /* ACM PCA's window for IssueCertificate tokens */

static void wipe_free(char *s, size_t n)
{
    if (s) {
        OPENSSL_cleanse(s, n);
        free(s);
    }
}

static void pending_free(cJSON *doc)
{
    char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "PrivateKey"));
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    cJSON_Delete(doc);
}

/* At least the length of the unformatted JSON text (a character escapes to at most 6). */
static size_t json_bound(const cJSON *v)
{
    const cJSON *el;
    size_t n = 64 + (v->string ? 6 * strlen(v->string) : 0);
    if (cJSON_IsString(v))
        n += 6 * strlen(v->valuestring);
    cJSON_ArrayForEach(el, v)
        n += json_bound(el);
    return n;
}

/* Write the pending file: created exclusively (`create`), else replaced atomically. */
static int pending_write(const char *path, cJSON *doc, int create)
{
    cli_writes w = {0};
    size_t cap = json_bound(doc);
    char *text = malloc(cap);
    int rc = CLI_OK;

    /* Printed into one buffer: a growing one would leave copies of the key behind. */
    if (!text || cap > INT_MAX || !cJSON_PrintPreallocated(doc, text, (int)cap, 0)) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((rc = cli_stage(&w, path, text, 0600)) != CLI_OK)
        goto done;
    if (!create) {
        rc = cli_commit(&w);
    } else if (link(w.f[0].tmp, path) != 0) {
        /* link(), unlike rename(), never replaces: the whole file appears, or nothing. */
        int e = errno;
        rc = e == EEXIST ? cli_error(CLI_SERVICE, "%s appeared meanwhile: is another acmpca "
                                                  "issue running for these files?", path)
                         : cli_error(CLI_SERVICE, "cannot create %s: %s", path, strerror(e));
    }
done:
    cli_writes_free(&w);
    wipe_free(text, cap);
    return rc;
}

/*
 * The pending file's text, or NULL with *rc CLI_OK when there is none. It
 * holds a private key that a re-run would have certified, so only a regular
 * file of ours that nobody else may read is taken.
 */
static char *read_pending(const char *path, int *rc)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    *rc = CLI_OK;
    if (fd < 0) {
        if (errno != ENOENT)
            *rc = cli_error(CLI_USAGE, "cannot read %s: %s (--discard-pending drops it)", path,
                            strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) || st.st_size > PENDING_MAX) {
        *rc = cli_error(CLI_USAGE, "%s: not a pending request of yours (a file of yours with "
                                   "mode 0600): --discard-pending drops it", path);
        goto done;
    }
    if (!(text = malloc((size_t)st.st_size + 1))) {
        *rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    while (len < (size_t)st.st_size &&
           ((n = read(fd, text + len, (size_t)st.st_size - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    if (n < 0) {
        *rc = cli_error(CLI_USAGE, "cannot read %s: %s", path, strerror(errno));
        wipe_free(text, (size_t)st.st_size + 1);
        text = NULL;
        goto done;
    }
    text[len] = '\0';
done:
    close(fd);
    return text;
}

/* The first member that differs between two objects, or NULL. */
static const char *first_difference(const cJSON *a, const cJSON *b)
{
    const cJSON *el;
    cJSON_ArrayForEach(el, a)
        if (!cJSON_Compare(el, cJSON_GetObjectItemCaseSensitive(b, el->string), 1))
            return el->string;
    cJSON_ArrayForEach(el, b)
        if (!cJSON_GetObjectItemCaseSensitive(a, el->string))
            return el->string;
    return NULL;
}

/* An earlier run's pending request for these files (*out NULL when there is none). */
static int pending_load(const char *cmd, const char *path, const cJSON *ask, cJSON **out)
{
    char *text;
    const cJSON *asked;
    const char *differs;
    cJSON *doc;
    int rc;

    *out = NULL;
    if (!(text = read_pending(path, &rc)))
        return rc;
    doc = cJSON_Parse(text);
    wipe_free(text, strlen(text));
    asked = cJSON_GetObjectItemCaseSensitive(doc, "Request");
    if (!cJSON_IsObject(asked) || !cli_str(doc, "IdempotencyToken") || !cli_str(doc, "Csr") ||
        !cli_str(doc, "SigningAlgorithm") ||
        (!cli_str(asked, "Csr") && !cJSON_IsTrue(cJSON_GetObjectItem(asked, "ReuseKey")) &&
         !cli_str(doc, "PrivateKey"))) {
        rc = cli_error(CLI_USAGE, "%s: not a pending request written by acmpca: "
                                  "--discard-pending drops it", path);
        goto fail;
    }
    if ((differs = first_difference(ask, asked)) != NULL) {
        rc = cli_usage(cmd, "%s holds an unfinished %s with other parameters (%s differs): "
                            "re-run that command, or pass --discard-pending to drop it", path,
                       cmd, differs);
        goto fail;
    }
    *out = doc;
    return CLI_OK;
fail:
    pending_free(doc);
    return rc;
}

/* The CA's own signing algorithm, for a request that names none (caller frees). */
static int ca_signing_algorithm(acmpca_client *c, const char *ca, char **out)
{
    cJSON *in = cJSON_CreateObject(), *res = NULL;
    const cJSON *conf;
    const char *alg;
    int rc = CLI_OK;

    if (!in || !cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca)) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if (acmpca_call(c, "DescribeCertificateAuthority", in, &res) != 0) {
        rc = cli_fail("issuing the certificate");
        goto done;
    }
    conf = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(res, "CertificateAuthority"),
        "CertificateAuthorityConfiguration");
    if (!(alg = cli_str(conf, "SigningAlgorithm")))
        rc = cli_error(CLI_SERVICE, "the CA names no signing algorithm: give --signing-algorithm");
    else if (!(*out = strdup(alg)))
        rc = cli_error(CLI_SERVICE, "out of memory");
done:
    cJSON_Delete(in);
    cJSON_Delete(res);
    return rc;
}

/* A new pending request: key and CSR (or the given CSR), signing algorithm, token. */
static int pending_new(acmpca_client *c, const request *r, const cJSON *ask, cJSON **out)
{
    acmpca_csr_options subject;
    char *key = NULL, *csr = NULL, *alg = NULL, token[37];
    cJSON *doc = NULL;
    int rc = CLI_OK;

    *out = NULL;
    if ((!r->signing_algorithm && (rc = ca_signing_algorithm(c, r->ca, &alg)) != CLI_OK) ||
        (rc = cli_uuid4(token)) != CLI_OK)
        goto done;
    if (!r->csr_pem) {
        subject_of(r, &subject);
        if (acmpca_pki_generate_key(&key, r->key_type) != 0) {
            rc = cli_fail("making the key");
            goto done;
        }
        subject.private_key_pem = key;
        if (acmpca_pki_make_csr(&csr, &subject) != 0) {
            rc = cli_fail("making the CSR");
            goto done;
        }
    }
    if (!(doc = cJSON_CreateObject()) || !cJSON_AddNumberToObject(doc, "Version", 1) ||
        !cJSON_AddNumberToObject(doc, "Created", (double)time(NULL)) ||
        !cJSON_AddItemToObject(doc, "Request", cJSON_Duplicate(ask, 1)) ||
        !cJSON_AddStringToObject(doc, "IdempotencyToken", token) ||
        !cJSON_AddStringToObject(doc, "SigningAlgorithm", alg ? alg : r->signing_algorithm) ||
        !cJSON_AddStringToObject(doc, "Csr", csr ? csr : r->csr_pem) ||
        (key && !cJSON_AddStringToObject(doc, "PrivateKey", key))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    *out = doc;
    doc = NULL;
done:
    pending_free(doc);
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    acmpca_free(key);
    acmpca_free(csr);
    free(alg);
    return rc;
}

/* IssueCertificate's input: the same bytes that matter on every run. */
static cJSON *issue_input(const request *r, const cJSON *doc)
{
    cJSON *in = cJSON_CreateObject(), *validity = cJSON_CreateObject();

    if (!in || !validity || !cJSON_AddItemToObject(in, "Validity", validity)) {
        cJSON_Delete(validity);
        cJSON_Delete(in);
        return NULL;
    }
    if (!cJSON_AddStringToObject(in, "CertificateAuthorityArn", r->ca) ||
        !cJSON_AddStringToObject(in, "Csr", cli_str(doc, "Csr")) ||
        !cJSON_AddStringToObject(in, "SigningAlgorithm", cli_str(doc, "SigningAlgorithm")) ||
        (r->template_arn && !cJSON_AddStringToObject(in, "TemplateArn", r->template_arn)) ||
        !cJSON_AddStringToObject(in, "IdempotencyToken", cli_str(doc, "IdempotencyToken")) ||
        !cJSON_AddNumberToObject(validity, "Value",
                                 r->not_after ? r->not_after : r->days ? r->days : 365) ||
        !cJSON_AddStringToObject(validity, "Type", r->not_after ? "ABSOLUTE" : "DAYS")) {
        cJSON_Delete(in);
        return NULL;
    }
    return in;
}

/* Certain that nothing was issued: the input never left, or the one attempt got a 4xx answer. */
static int surely_not_issued(const acmpca_error *e)
{
    return e->code == ACMPCA_EPARAM ||
           (e->attempts <= 1 && e->http_status >= 400 && e->http_status < 500);
}

/*
 * IssueCertificate with the pending token, its ARN recorded at once. `fresh`:
 * this run wrote the pending file; `note` ends a failure's line.
 */
static int pending_issue(acmpca_client *c, const request *r, const char *path, cJSON *doc,
                         int fresh, const char *note)
{
    double age = difftime(time(NULL), (time_t)cJSON_GetNumberValue(
                                          cJSON_GetObjectItemCaseSensitive(doc, "Created")));
    cJSON *in = issue_input(r, doc), *out = NULL;
    const char *arn;
    int rc = CLI_OK;

    if (!fresh && age > TOKEN_LIFETIME_S)
        fprintf(stderr, "acmpca: note: %s is %.0f minutes old, past the %d-minute life of its "
                        "IdempotencyToken: if it was issued then, this issues a second "
                        "certificate\n", path, age / 60, TOKEN_LIFETIME_S / 60);
    if (!in) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if (acmpca_call(c, "IssueCertificate", in, &out) != 0) {
        /* A request refused outright leaves nothing to resume. */
        if (fresh && surely_not_issued(acmpca_error_last()) && unlink(path) == 0)
            rc = cli_fail("issuing the certificate");
        else
            rc = cli_fail_note("issuing the certificate", note);
        goto done;
    }
    if (!(arn = cli_str(out, "CertificateArn"))) {
        rc = cli_error(CLI_SERVICE, "issuing the certificate: IssueCertificate returned no "
                                    "CertificateArn; %s", note);
        goto done;
    }
    if (!cJSON_AddStringToObject(doc, "CertificateArn", arn)) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    rc = pending_write(path, doc, 0);
done:
    cJSON_Delete(in);
    cJSON_Delete(out);
    return rc;
}

/*
 * The pending request to the end: issued (unless an earlier run recorded the
 * ARN), waited for with the CertificateIssued waiter, fetched. The results in
 * `got` are freed with free().
 */
static int pending_finish(acmpca_client *c, const request *r, const char *path, cJSON *doc,
                          int fresh, acmpca_issued_certificate *got)
{
    cJSON *in = NULL, *out = NULL;
    cli_progress progress;
    const char *arn, *chain;
    size_t cap = strlen(path) + 128;
    char *note = malloc(cap);
    int rc = CLI_OK;

    if (!note) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    snprintf(note, cap, "%s kept: the same command resumes it, --discard-pending drops it", path);
    if (!cli_str(doc, "CertificateArn") &&
        (rc = pending_issue(c, r, path, doc, fresh, note)) != CLI_OK)
        goto done;
    arn = cli_str(doc, "CertificateArn");
    if (!(in = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(in, "CertificateAuthorityArn", r->ca) ||
        !cJSON_AddStringToObject(in, "CertificateArn", arn)) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    cli_progress_start(&progress, "the certificate");
    if (acmpca_wait_ex(c, "CertificateIssued", in, 0, 0, &out, cli_on_progress, &progress) != 0) {
        rc = cli_fail_note("issuing the certificate", note);
        goto done;
    }
    if (!cli_str(out, "Certificate")) {
        rc = cli_error(CLI_SERVICE, "issuing the certificate: GetCertificate returned no "
                                    "Certificate; %s", note);
        goto done;
    }
    chain = cli_str(out, "CertificateChain");
    got->certificate_arn = strdup(arn);
    got->certificate_pem = strdup(cli_str(out, "Certificate"));
    got->certificate_chain_pem = strdup(chain ? chain : "");
    if (!got->certificate_arn || !got->certificate_pem || !got->certificate_chain_pem)
        rc = cli_error(CLI_SERVICE, "out of memory");
done:
    cJSON_Delete(in);
    cJSON_Delete(out);
    free(note);
    return rc;
}

int cli_cmd_issue(int argc, char **argv)
{
    const char *key_type = NULL, *days = NULL, *not_after = NULL, *csr_file = NULL;
    const char *out_dir = NULL, *key;
    int force = 0, discard = 0, fresh = 0, rc, i;
    request r;
    paths p;
    char *key_path = NULL, *cert_path = NULL, *chain_path = NULL, *full_path = NULL;
    char *csr = NULL, *csr_pem = NULL, *ppath = NULL, *chain;
    acmpca_client *client = NULL;
    acmpca_issued_certificate got;
    cJSON *state = NULL, *ask = NULL, *pending = NULL;

    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    memset(&got, 0, sizeof(got));
    {
        const cli_opt opts[] = {
            {"--ca", CLI_STR, &r.ca},           {"--cn", CLI_STR, &r.cn},
            {"--dns", CLI_LIST, &r.dns},        {"--ip", CLI_LIST, &r.ip},
            {"--uri", CLI_LIST, &r.uri},        {"--email", CLI_LIST, &r.email},
            {"--key-type", CLI_STR, &key_type}, {"--days", CLI_STR, &days},
            {"--not-after", CLI_STR, &not_after}, {"--template", CLI_STR, &r.template_arn},
            {"--signing-algorithm", CLI_STR, &r.signing_algorithm},
            {"--csr", CLI_STR, &csr_file},      {"--out", CLI_STR, &out_dir},
            {"--cert", CLI_STR, &p.cert},       {"--key", CLI_STR, &p.key},
            {"--chain", CLI_STR, &p.chain},     {"--fullchain", CLI_STR, &p.fullchain},
            {"--force", CLI_FLAG, &force},
            {"--discard-pending", CLI_FLAG, &discard}, {NULL, CLI_FLAG, NULL}};
        if ((rc = cli_parse("issue", argc, argv, opts, NULL, 0, NULL)) != CLI_OK)
            goto done;
    }
    if (!r.ca) {
        rc = cli_usage("issue", "--ca ARN is required");
        goto done;
    }
    if (!r.cn && !csr_file) {
        rc = cli_usage("issue", "--cn NAME is required (or --csr FILE)");
        goto done;
    }
    if (csr_file && (r.cn || key_type || r.dns.n || r.ip.n || r.uri.n || r.email.n)) {
        rc = cli_usage("issue", "--csr brings its own key and names: --cn, --dns, --ip, --uri, "
                                "--email and --key-type cannot be added to it");
        goto done;
    }
    if (out_dir && (p.cert || p.key || p.chain || p.fullchain)) {
        rc = cli_usage("issue", "give either --out DIR or --cert/--key/--chain/--fullchain");
        goto done;
    }
    if (!out_dir && !p.cert) {
        rc = cli_usage("issue", "where to? give --out DIR, or --cert FILE and --key FILE");
        goto done;
    }
    if (!out_dir && !p.key && !csr_file) {
        rc = cli_usage("issue", "--key FILE is required: where the new private key goes");
        goto done;
    }
    if (p.key && cli_key_algorithm(p.key)) {
        rc = cli_usage("issue", "--key is the private key's file; for its type use --key-type %s",
                       p.key);
        goto done;
    }
    if (csr_file && p.key) {
        rc = cli_usage("issue", "--key: with --csr no key is made");
        goto done;
    }
    if ((rc = parse_days("issue", days, &r.days)) != CLI_OK)
        goto done;
    if (not_after && days) {
        rc = cli_usage("issue", "give either --days N or --not-after TIME");
        goto done;
    }
    if (not_after && (cli_parse_time(not_after, &r.not_after) != 0 ||
                      r.not_after != (double)(long long)r.not_after)) {
        rc = cli_usage("issue", "--not-after: expected YYYY-MM-DD[THH:MM[:SS]]Z (UTC) or "
                                "whole seconds since 1970, got \"%s\"", not_after);
        goto done;
    }
    if (not_after && r.not_after <= (double)time(NULL)) {
        rc = cli_usage("issue", "--not-after: %s is in the past", not_after);
        goto done;
    }
    r.key_type = cli_key_algorithm(key_type ? key_type : "ec256");
    if (!r.key_type) {
        rc = cli_usage("issue", "--key-type: expected ec256, ec384, rsa2048, rsa3072 or "
                                "rsa4096, got \"%s\"", key_type);
        goto done;
    }
    if (csr_file)
        r.key_type = NULL;

    if (out_dir) {
        if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
            rc = cli_error(CLI_SERVICE, "cannot create %s: %s", out_dir, strerror(errno));
            goto done;
        }
        if (!csr_file)
            p.key = key_path = join(out_dir, "key.pem");
        p.cert = cert_path = join(out_dir, "cert.pem");
        p.chain = chain_path = join(out_dir, "chain.pem");
        p.fullchain = full_path = join(out_dir, "fullchain.pem");
        if ((!csr_file && !key_path) || !cert_path || !chain_path || !full_path) {
            rc = cli_error(CLI_SERVICE, "out of memory");
            goto done;
        }
    }
    if (!force) {
        const char *check[] = {p.key, p.cert, p.chain, p.fullchain};
        for (i = 0; i < 4; i++)
            if (exists(check[i])) {
                rc = cli_usage("issue", "%s exists: renew it with acmpca renew, or replace it "
                                        "with --force", check[i]);
                goto done;
            }
    }
    if (csr_file) {
        if (!(csr = cli_read_file(csr_file, &rc)))
            goto done;
        /* As it is sent, so that a re-run compares what the service saw. */
        if (acmpca_pki_normalize_csr(&csr_pem, csr, strlen(csr)) != 0) {
            rc = cli_fail(csr_file);
            goto done;
        }
        r.csr_pem = csr_pem;
    }

    if (!(ppath = suffixed(p.cert, PENDING_SUFFIX)) || !(ask = state_json(&r, &p, NULL)) ||
        (r.csr_pem && !cJSON_AddStringToObject(ask, "Csr", r.csr_pem))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if (discard && unlink(ppath) != 0 && errno != ENOENT) {
        rc = cli_error(CLI_SERVICE, "cannot remove %s: %s", ppath, strerror(errno));
        goto done;
    }
    if ((rc = pending_load("issue", ppath, ask, &pending)) != CLI_OK ||
        (rc = cli_client(&client)) != CLI_OK)
        goto done;
    if (!pending) {
        if ((rc = pending_new(client, &r, ask, &pending)) != CLI_OK ||
            (rc = pending_write(ppath, pending, 1)) != CLI_OK)
            goto done;
        fresh = 1;
    }
    if ((rc = pending_finish(client, &r, ppath, pending, fresh, &got)) != CLI_OK)
        goto done;
    if ((chain = complete_chain(client, r.ca, got.certificate_chain_pem)) != NULL) {
        free(got.certificate_chain_pem);
        got.certificate_chain_pem = chain;
    }
    key = cli_str(pending, "PrivateKey");
    /* A re-run would fetch the same certificate: only starting afresh can help. */
    if ((rc = cli_verify(got.certificate_pem, got.certificate_chain_pem, key,
                         "; --discard-pending starts afresh")) != CLI_OK)
        goto done;
    if (!(state = state_json(&r, &p, got.certificate_arn))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((rc = install(&p, &got, key, state)) != CLI_OK)
        goto done;
    summary("issued", got.certificate_pem, p.cert);
    if (unlink(ppath) != 0)
        rc = cli_error(CLI_SERVICE, "cannot remove %s: %s: remove it before the next acmpca "
                                    "issue for these files", ppath, strerror(errno));
done:
    free(got.certificate_arn);
    free(got.certificate_pem);
    free(got.certificate_chain_pem);
    pending_free(pending);
    acmpca_client_free(client);
    cJSON_Delete(state);
    cJSON_Delete(ask);
    free(key_path);
    free(cert_path);
    free(chain_path);
    free(full_path);
    free(csr);
    acmpca_free(csr_pem);
    free(ppath);
    cli_list_free(&r.dns);
    cli_list_free(&r.ip);
    cli_list_free(&r.uri);
    cli_list_free(&r.email);
    return rc;
}

/* ---- renew ----------------------------------------------------------------- */

typedef struct renew_args {
    const char *cert, *key, *before, *hook, *ca, *days, *chain, *fullchain, *interval;
    int reuse_key, force, daemon, discard, syslog;
} renew_args;

/* The state file next to `cert` (NULL when there is none); *rc set on a bad one. */
static cJSON *read_state(const char *cert, int *rc)
{
    char *path = state_path(cert), *text = NULL;
    cJSON *state = NULL;

    *rc = CLI_OK;
    if (!path) {
        *rc = cli_error(CLI_SERVICE, "out of memory");
        return NULL;
    }
    if (exists(path) && (text = cli_read_file(path, rc)) != NULL &&
        (!(state = cJSON_Parse(text)) || !cJSON_IsObject(state))) {
        *rc = cli_error(CLI_USAGE, "%s: not a state file written by acmpca issue", path);
        cJSON_Delete(state);
        state = NULL;
    }
    free(text);
    free(path);
    return state;
}

/* A state file's string list as a cli_list (pointers into the JSON). */
static void list_from(cli_list *l, const cJSON *state, const char *key)
{
    const cJSON *el, *arr = cJSON_GetObjectItemCaseSensitive(state, key);
    cJSON_ArrayForEach(el, arr) {
        const char **v;
        if (!cJSON_IsString(el) || !(v = realloc(l->v, (l->n + 1) * sizeof(*v))))
            continue;
        l->v = v;
        l->v[l->n++] = el->valuestring;
    }
}

/* The names of the certificate itself, when there is no state file. */
static void names_from_cert(request *r, const cJSON *info)
{
    const cJSON *el;
    cJSON_ArrayForEach(el, cJSON_GetObjectItem(info, "SubjectAlternativeNames")) {
        const char *type = cli_str(el, "Type"), *value = cli_str(el, "Value");
        cli_list *l = !type || !value            ? NULL
                      : strcmp(type, "DNS") == 0 ? &r->dns
                      : strcmp(type, "IP") == 0  ? &r->ip
                      : strcmp(type, "URI") == 0 ? &r->uri
                                                 : &r->email;
        const char **v;
        if (l && (v = realloc(l->v, (l->n + 1) * sizeof(*v))) != NULL) {
            l->v = v;
            l->v[l->n++] = value;
        }
    }
}

static int run_hook(const char *cmd, const char *cert, const char *key, const char *arn)
{
    pid_t pid, r;
    int status = 0;

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
        return cli_error(CLI_SERVICE, "post-hook: cannot start: %s", strerror(errno));
    if (pid == 0) {
        setenv("ACMPCA_CERT", cert, 1);
        setenv("ACMPCA_KEY", key, 1);
        setenv("ACMPCA_CERTIFICATE_ARN", arn, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cli_error(CLI_SERVICE, "post-hook failed (%s %d) after the certificate was renewed",
                         r >= 0 && WIFSIGNALED(status) ? "signal" : "exit status",
                         r >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return CLI_OK;
}

/*
 * Renew through a pending request, as `issue` does, so that a renewal killed
 * anywhere resumes with the same key and token instead of issuing twice: a
 * pending renewal is finished whether or not the certificate is due.
 */
static int renew_once(acmpca_client *client, const renew_args *a, double before)
{
    char *pem = NULL, *key_pem = NULL, *cn = NULL, *csr = NULL, *ppath = NULL, *chain;
    char when[32], from[32];
    cJSON *state = NULL, *info = NULL, *new_state = NULL, *ask = NULL, *pending = NULL;
    acmpca_issued_certificate got;
    acmpca_csr_options subject;
    const char *key;
    request r;
    paths p;
    double not_after, not_before;
    int rc, fresh = 0;

    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    memset(&got, 0, sizeof(got));
    if (!(pem = cli_read_file(a->cert, &rc)))
        goto done;
    if (acmpca_pki_parse_certificate(&info, pem) != 0) {
        rc = cli_fail(a->cert);
        goto done;
    }
    state = read_state(a->cert, &rc);
    if (rc != CLI_OK)
        goto done;
    if (!(ppath = suffixed(a->cert, PENDING_SUFFIX))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if (a->discard && unlink(ppath) != 0 && errno != ENOENT) {
        rc = cli_error(CLI_SERVICE, "cannot remove %s: %s", ppath, strerror(errno));
        goto done;
    }
    not_after = cJSON_GetNumberValue(cJSON_GetObjectItem(info, "NotAfter"));
    not_before = cJSON_GetNumberValue(cJSON_GetObjectItem(info, "NotBefore"));
    cli_time_text(not_after, when, sizeof(when));
    cli_time_text(not_after - before, from, sizeof(from));
    if (!a->force && !exists(ppath) && (double)time(NULL) < not_after - before) {
        printf("not due: %s expires %s, renewal from %s\n", a->cert, when, from);
        fflush(stdout);
        rc = CLI_NOT_DUE;
        goto done;
    }

    r.ca = a->ca ? a->ca : cli_str(state, "CertificateAuthorityArn");
    if (!r.ca) {
        rc = cli_usage("renew", "which CA? give --ca ARN (%s has no state file from acmpca "
                                "issue)", a->cert);
        goto done;
    }
    if (state) {
        r.cn = cli_str(state, "CommonName");
        list_from(&r.dns, state, "DnsNames");
        list_from(&r.ip, state, "IpAddresses");
        list_from(&r.uri, state, "Uris");
        list_from(&r.email, state, "Emails");
        r.template_arn = cli_str(state, "TemplateArn");
        r.signing_algorithm = cli_str(state, "SigningAlgorithm");
        r.days = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(state, "ValidityDays"));
        r.key_type = cli_str(state, "KeyType");
    } else {
        r.cn = cn = cli_common_name(pem);
        names_from_cert(&r, info);
    }
    if (r.cn && !r.cn[0])
        r.cn = NULL;
    if (!r.key_type)
        r.key_type = cli_str(info, "KeyAlgorithm");
    /* A certificate issued --not-after gets its own lifetime again. */
    if (r.days <= 0)
        r.days = (int)((not_after - not_before + 43200) / 86400);
    if ((rc = parse_days("renew", a->days, &r.days)) != CLI_OK)
        goto done;
    p.key = a->key ? a->key : cli_str(state, "Key");
    if (!p.key) {
        rc = cli_usage("renew", "--key FILE is required (%s has no state file naming it)",
                       a->cert);
        goto done;
    }
    p.cert = a->cert;
    p.chain = a->chain ? a->chain : cli_str(state, "Chain");
    p.fullchain = a->fullchain ? a->fullchain : cli_str(state, "FullChain");
    if (!(ask = state_json(&r, &p, NULL)) ||
        (a->reuse_key && !cJSON_AddTrueToObject(ask, "ReuseKey"))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((rc = pending_load("renew", ppath, ask, &pending)) != CLI_OK)
        goto done;
    if (a->reuse_key && !(key_pem = cli_read_file(p.key, &rc)))
        goto done;
    if (!pending) {
        if (a->reuse_key) {
            subject_of(&r, &subject);
            subject.private_key_pem = key_pem;
            if (acmpca_pki_make_csr(&csr, &subject) != 0) {
                rc = cli_fail("making a CSR with the existing key");
                goto done;
            }
            r.csr_pem = csr;
        }
        if ((rc = pending_new(client, &r, ask, &pending)) != CLI_OK ||
            (rc = pending_write(ppath, pending, 1)) != CLI_OK)
            goto done;
        fresh = 1;
    }
    if ((rc = pending_finish(client, &r, ppath, pending, fresh, &got)) != CLI_OK)
        goto done;
    if ((chain = complete_chain(client, r.ca, got.certificate_chain_pem)) != NULL) {
        free(got.certificate_chain_pem);
        got.certificate_chain_pem = chain;
    }
    key = a->reuse_key ? NULL : cli_str(pending, "PrivateKey");
    if ((rc = cli_verify(got.certificate_pem, got.certificate_chain_pem, key ? key : key_pem,
                         "; --discard-pending starts afresh")) != CLI_OK)
        goto done;
    if (!(new_state = state_json(&r, &p, got.certificate_arn))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((rc = install(&p, &got, key, new_state)) != CLI_OK)
        goto done;
    summary("renewed", got.certificate_pem, p.cert);
    if (unlink(ppath) != 0) {
        rc = cli_error(CLI_SERVICE, "cannot remove %s: %s: remove it before the next renewal",
                       ppath, strerror(errno));
        goto done;
    }
    if (a->hook)
        rc = run_hook(a->hook, a->cert, p.key, got.certificate_arn);
done:
    free(got.certificate_arn);
    free(got.certificate_pem);
    free(got.certificate_chain_pem);
    pending_free(pending);
    if (key_pem) {
        OPENSSL_cleanse(key_pem, strlen(key_pem));
        free(key_pem);
    }
    acmpca_free(csr);
    free(ppath);
    free(pem);
    free(cn);
    cJSON_Delete(ask);
    cJSON_Delete(state);
    cJSON_Delete(new_state);
    cJSON_Delete(info);
    cli_list_free(&r.dns);
    cli_list_free(&r.ip);
    cli_list_free(&r.uri);
    cli_list_free(&r.email);
    return rc;
}

/* Sleep up to `seconds`, waking for Ctrl-C or SIGTERM. */
static void pause_for(double seconds)
{
    double end = cli_now() + seconds;
    while (!cli_interrupted && cli_now() < end) {
        double left = end - cli_now();
        struct timespec ts = {(time_t)(left > 1 ? 1 : left), 0};
        if (left < 1)
            ts.tv_nsec = (long)(left * 1e9);
        nanosleep(&ts, NULL);
    }
}

int cli_cmd_renew(int argc, char **argv)
{
    renew_args a;
    acmpca_client *client = NULL;
    double before, interval = 12 * 3600;
    int rc;

    memset(&a, 0, sizeof(a));
    {
        const cli_opt opts[] = {
            {"--cert", CLI_STR, &a.cert},        {"--key", CLI_STR, &a.key},
            {"--before", CLI_STR, &a.before},    {"--reuse-key", CLI_FLAG, &a.reuse_key},
            {"--post-hook", CLI_STR, &a.hook},   {"--ca", CLI_STR, &a.ca},
            {"--days", CLI_STR, &a.days},        {"--chain", CLI_STR, &a.chain},
            {"--fullchain", CLI_STR, &a.fullchain}, {"--force", CLI_FLAG, &a.force},
            {"--daemon", CLI_FLAG, &a.daemon},   {"--interval", CLI_STR, &a.interval},
            {"--discard-pending", CLI_FLAG, &a.discard}, {"--syslog", CLI_FLAG, &a.syslog},
            {NULL, CLI_FLAG, NULL}};
        if ((rc = cli_parse("renew", argc, argv, opts, NULL, 0, NULL)) != CLI_OK)
            return rc;
    }
    if (!a.cert)
        return cli_usage("renew", "--cert FILE is required");
    before = cli_duration(a.before ? a.before : "30d");
    if (before < 0)
        return cli_usage("renew", "--before: expected a duration such as 30d, 12h or 1y, got "
                                  "\"%s\"", a.before);
    if (a.interval && !a.daemon)
        return cli_usage("renew", "--interval goes with --daemon");
    if (a.syslog && !a.daemon)
        return cli_usage("renew", "--syslog goes with --daemon");
    if (a.interval && (interval = cli_duration(a.interval)) < 1)
        return cli_usage("renew", "--interval: expected a duration of 1s or more, got \"%s\"",
                         a.interval);
    if ((rc = cli_client(&client)) != CLI_OK)
        return rc;
    /* After the client: a bad configuration is still said on the terminal. */
    if (a.syslog && (rc = cli_syslog_open()) != CLI_OK) {
        acmpca_client_free(client);
        return rc;
    }
    if (!a.daemon) {
        rc = renew_once(client, &a, before);
    } else {
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        while (!cli_interrupted) {
            char now[32];
            cli_time_text((double)time(NULL), now, sizeof(now));
            /* A routine line: info in the system log, on stderr for a terminal's user. */
            fprintf(a.syslog ? stdout : stderr, "acmpca: %s checking %s\n", now, a.cert);
            rc = renew_once(client, &a, before);
            a.discard = 0; /* the pending request of the first check only */
            if (rc != CLI_OK && rc != CLI_NOT_DUE)
                fprintf(stderr, "acmpca: %s renewal failed (exit %d); next check as planned\n",
                        now, rc);
            /* Jitter spreads a fleet's renewals instead of stampeding the CA. */
            pause_for(interval * (1 + 0.1 * rand() / (double)RAND_MAX));
        }
        rc = CLI_OK;
    }
    acmpca_client_free(client);
    return rc;
}

/* ---- revoke ---------------------------------------------------------------- */

/* keyCompromise, KEY_COMPROMISE, key-compromise, cACompromise -> the service's name. */
static const char *revocation_reason(const char *text)
{
    const acmpca_operation_info *op = acmpca_model_operation_find("RevokeCertificate");
    const acmpca_member *m = acmpca_model_member(op->input, "RevocationReason");
    char want[64], have[64];
    size_t i, k, n = 0;

    for (k = 0; text[k] && n + 1 < sizeof(want); k++)
        if (isalnum((unsigned char)text[k]))
            want[n++] = (char)tolower((unsigned char)text[k]);
    want[n] = '\0';
    if (strcmp(want, "cacompromise") == 0) /* RFC 5280's name */
        return "CERTIFICATE_AUTHORITY_COMPROMISE";
    for (i = 0; m && i < m->shape->enum_count; i++) {
        const char *v = m->shape->enum_values[i];
        for (k = 0, n = 0; v[k] && n + 1 < sizeof(have); k++)
            if (isalnum((unsigned char)v[k]))
                have[n++] = (char)tolower((unsigned char)v[k]);
        have[n] = '\0';
        if (strcmp(want, have) == 0)
            return v;
    }
    return NULL;
}

int cli_cmd_revoke(int argc, char **argv)
{
    const char *ca = NULL, *cert = NULL, *serial_in = NULL, *reason_in = NULL, *reason;
    char *pem = NULL, *serial = NULL, *ca_from_arn = NULL;
    acmpca_client *client = NULL;
    cJSON *state = NULL, *in = NULL, *out = NULL;
    int rc;
    const cli_opt opts[] = {
        {"--ca", CLI_STR, &ca},          {"--cert", CLI_STR, &cert},
        {"--serial", CLI_STR, &serial_in}, {"--reason", CLI_STR, &reason_in},
        {NULL, CLI_FLAG, NULL}};

    if ((rc = cli_parse("revoke", argc, argv, opts, NULL, 0, NULL)) != CLI_OK)
        return rc;
    if (!cert == !serial_in)
        return cli_usage("revoke", "give either --cert FILE or --serial SERIAL");
    if (!(reason = revocation_reason(reason_in ? reason_in : "unspecified")))
        return cli_usage("revoke", "--reason: unknown reason \"%s\" (keyCompromise, "
                                   "superseded, cessationOfOperation, ...)", reason_in);
    if (cert) {
        if (!(pem = cli_read_file(cert, &rc)))
            goto done;
        state = read_state(cert, &rc);
        if (rc != CLI_OK)
            goto done;
    }
    if (acmpca_pki_normalize_serial(&serial, pem ? pem : serial_in) != 0) {
        rc = cli_fail("revoke");
        goto done;
    }
    if (!ca && serial_in && strncmp(serial_in, "arn:", 4) == 0) {
        /* A certificate ARN is CA-ARN/certificate/SERIAL. */
        const char *tail = strstr(serial_in, "/certificate/");
        if (tail && (ca_from_arn = strdup(serial_in)) != NULL)
            ca_from_arn[tail - serial_in] = '\0';
    }
    if (!ca)
        ca = ca_from_arn ? ca_from_arn : cli_str(state, "CertificateAuthorityArn");
    if (!ca) {
        rc = cli_usage("revoke", "which CA? give --ca ARN");
        goto done;
    }
    if (!(in = cJSON_CreateObject()) || !cJSON_AddStringToObject(in, "CertificateAuthorityArn", ca) ||
        !cJSON_AddStringToObject(in, "CertificateSerial", serial) ||
        !cJSON_AddStringToObject(in, "RevocationReason", reason)) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if ((rc = cli_client(&client)) != CLI_OK)
        goto done;
    if (acmpca_call(client, "RevokeCertificate", in, &out) != 0) {
        rc = cli_fail("RevokeCertificate");
        goto done;
    }
    printf("revoked serial %s (%s)\n", serial, reason);
done:
    acmpca_client_free(client);
    cJSON_Delete(state);
    cJSON_Delete(in);
    cJSON_Delete(out);
    acmpca_free(serial);
    free(pem);
    free(ca_from_arn);
    return rc;
}
