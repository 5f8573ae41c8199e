/*
 * ca.c - `acmpca ca`: a root or subordinate CA in one command (create, wait
 * for its CSR, sign it with the right template, import it with its chain),
 * and list / describe / disable / enable / delete / restore.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define ROOT_TEMPLATE "arn:aws:acm-pca:::template/RootCACertificate/V1"
#define SUB_TEMPLATE "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen%d/V1"

static cJSON *arn_input(const char *arn)
{
    cJSON *in = cJSON_CreateObject();
    if (in && !cJSON_AddStringToObject(in, "CertificateAuthorityArn", arn)) {
        cJSON_Delete(in);
        in = NULL;
    }
    return in;
}

/* Call `op` on one CA; *out (may be NULL) gets the result. */
static int call_on(acmpca_client *c, const char *op, cJSON *in, cJSON **out)
{
    cJSON *res = NULL;
    int rc = CLI_OK;
    if (!in)
        return cli_error(CLI_SERVICE, "out of memory");
    if (acmpca_call(c, op, in, &res) != 0)
        rc = cli_fail(op);
    cJSON_Delete(in);
    if (out)
        *out = res;
    else
        cJSON_Delete(res);
    return rc;
}

typedef struct create_args {
    const char *type, *cn, *org, *ou, *country, *state, *locality, *key_type, *parent;
    const char *validity, *crl_bucket, *path_len;
    cli_list tags;
} create_args;

static cJSON *create_input(const create_args *a, const char *key_algorithm)
{
    cJSON *in = cJSON_CreateObject(), *cfg, *subject, *rev, *crl, *tags = NULL;
    size_t i;
    int root = strcmp(a->type, "root") == 0;

    cJSON_AddStringToObject(in, "CertificateAuthorityType", root ? "ROOT" : "SUBORDINATE");
    cfg = cJSON_AddObjectToObject(in, "CertificateAuthorityConfiguration");
    cJSON_AddStringToObject(cfg, "KeyAlgorithm", key_algorithm);
    cJSON_AddStringToObject(cfg, "SigningAlgorithm", cli_signing_algorithm(key_algorithm));
    subject = cJSON_AddObjectToObject(cfg, "Subject");
    cJSON_AddStringToObject(subject, "CommonName", a->cn);
    if (a->org)
        cJSON_AddStringToObject(subject, "Organization", a->org);
    if (a->ou)
        cJSON_AddStringToObject(subject, "OrganizationalUnit", a->ou);
    if (a->country)
        cJSON_AddStringToObject(subject, "Country", a->country);
    if (a->state)
        cJSON_AddStringToObject(subject, "State", a->state);
    if (a->locality)
        cJSON_AddStringToObject(subject, "Locality", a->locality);
    rev = cJSON_AddObjectToObject(in, "RevocationConfiguration");
    crl = cJSON_AddObjectToObject(rev, "CrlConfiguration");
    cJSON_AddBoolToObject(crl, "Enabled", a->crl_bucket != NULL);
    if (a->crl_bucket) {
        cJSON_AddStringToObject(crl, "S3BucketName", a->crl_bucket);
        cJSON_AddNumberToObject(crl, "ExpirationInDays", 7);
    }
    if (a->tags.n)
        tags = cJSON_AddArrayToObject(in, "Tags");
    for (i = 0; i < a->tags.n; i++) {
        const char *eq = strchr(a->tags.v[i], '=');
        cJSON *tag = cJSON_CreateObject();
        char *key = strndup(a->tags.v[i], (size_t)(eq - a->tags.v[i]));
        cJSON_AddStringToObject(tag, "Key", key ? key : "");
        cJSON_AddStringToObject(tag, "Value", eq + 1);
        cJSON_AddItemToArray(tags, tag);
        free(key);
    }
    return in;
}

static int ca_create(int argc, char **argv)
{
    create_args a;
    const char *pos[1], *key_algorithm, *what = "CreateCertificateAuthority";
    char template_arn[128], *arn = NULL, *note = NULL, *chain = NULL;
    acmpca_client *client = NULL;
    cJSON *in = NULL, *out = NULL, *parent = NULL;
    acmpca_certificate_request q;
    acmpca_issued_certificate *signed_cert = NULL;
    cli_progress progress;
    double validity;
    int npos = 0, days, path_len = 0, rc;
    size_t i;

    memset(&a, 0, sizeof(a));
    {
        const cli_opt opts[] = {
            {"--cn", CLI_STR, &a.cn},             {"--org", CLI_STR, &a.org},
            {"--ou", CLI_STR, &a.ou},             {"--country", CLI_STR, &a.country},
            {"--state", CLI_STR, &a.state},       {"--locality", CLI_STR, &a.locality},
            {"--key-type", CLI_STR, &a.key_type}, {"--key", CLI_STR, &a.key_type},
            {"--parent", CLI_STR, &a.parent},     {"--validity", CLI_STR, &a.validity},
            {"--crl-bucket", CLI_STR, &a.crl_bucket}, {"--path-len", CLI_STR, &a.path_len},
            {"--tag", CLI_LIST, &a.tags},         {NULL, CLI_FLAG, NULL}};
        if ((rc = cli_parse("ca create", argc, argv, opts, pos, 1, &npos)) != CLI_OK)
            goto done;
    }
    a.type = npos ? pos[0] : "";
    if (strcmp(a.type, "root") != 0 && strcmp(a.type, "subordinate") != 0) {
        rc = cli_usage("ca create", "expected root or subordinate, got \"%s\"", a.type);
        goto done;
    }
    if (!a.cn) {
        rc = cli_usage("ca create", "--cn NAME is required");
        goto done;
    }
    if ((a.type[0] == 's') != (a.parent != NULL)) {
        rc = cli_usage("ca create", a.parent ? "--parent: a root CA has no parent"
                                             : "--parent ARN is required for a subordinate CA");
        goto done;
    }
    if (a.path_len) {
        char *end;
        path_len = (int)strtol(a.path_len, &end, 10);
        if (a.type[0] == 'r' || !*a.path_len || *end || path_len < 0 || path_len > 3) {
            rc = cli_usage("ca create", "--path-len: 0 to 3, for a subordinate CA");
            goto done;
        }
    }
    if (!(key_algorithm = cli_key_algorithm(a.key_type ? a.key_type : "rsa2048"))) {
        rc = cli_usage("ca create", "--key-type: expected rsa2048, rsa3072, rsa4096, ec256 or "
                                    "ec384, got \"%s\"", a.key_type);
        goto done;
    }
    validity = cli_duration(a.validity ? a.validity : a.type[0] == 'r' ? "10y" : "5y");
    if (validity < 86400) {
        rc = cli_usage("ca create", "--validity: expected a duration of a day or more such as "
                                    "10y or 365d, got \"%s\"", a.validity);
        goto done;
    }
    days = (int)((validity + 86399) / 86400);
    for (i = 0; i < a.tags.n; i++)
        if (!strchr(a.tags.v[i], '=')) {
            rc = cli_usage("ca create", "--tag: expected KEY=VALUE, got \"%s\"", a.tags.v[i]);
            goto done;
        }
    if (a.type[0] == 'r')
        snprintf(template_arn, sizeof(template_arn), "%s", ROOT_TEMPLATE);
    else
        snprintf(template_arn, sizeof(template_arn), SUB_TEMPLATE, path_len);

    if ((rc = cli_client(&client)) != CLI_OK)
        goto done;
    /* The parent must be able to sign before anything is created. */
    if (a.parent) {
        if ((rc = call_on(client, "GetCertificateAuthorityCertificate", arn_input(a.parent),
                          &parent)) != CLI_OK)
            goto done;
        chain = cli_concat_pem(cli_str(parent, "Certificate") ? cli_str(parent, "Certificate")
                                                              : "",
                               cli_str(parent, "CertificateChain")
                                   ? cli_str(parent, "CertificateChain") : "");
    }
    if ((rc = call_on(client, "CreateCertificateAuthority", create_input(&a, key_algorithm),
                      &out)) != CLI_OK)
        goto done;
    arn = strdup(cli_str(out, "CertificateAuthorityArn") ? cli_str(out, "CertificateAuthorityArn")
                                                          : "");
    cJSON_Delete(out);
    out = NULL;
    if (!arn || !(note = malloc(strlen(arn) * 2 + 96))) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    /* From here on a failure leaves a CA behind: say which, and how to remove it. */
    snprintf(note, strlen(arn) * 2 + 96,
             "CA %s was created but is not active; remove it with: acmpca ca delete %s", arn, arn);

    what = "waiting for the CA's CSR";
    cli_progress_start(&progress, "the CA's CSR");
    if (!(in = arn_input(arn)) ||
        acmpca_wait_ex(client, "CertificateAuthorityCSRCreated", in, 0, 0, NULL, cli_on_progress,
                       &progress) != 0 ||
        acmpca_call(client, "GetCertificateAuthorityCsr", in, &out) != 0 ||
        !cli_str(out, "Csr"))
        goto fail;
    what = a.parent ? "signing the CA's certificate with the parent" : "signing the root certificate";
    memset(&q, 0, sizeof(q));
    q.certificate_authority_arn = a.parent ? a.parent : arn;
    q.csr_pem = cli_str(out, "Csr");
    q.template_arn = template_arn;
    q.validity_days = days;
    q.wait_progress = cli_on_progress;
    q.wait_progress_userdata = &progress;
    cli_progress_start(&progress, "the CA's certificate");
    if (acmpca_request_certificate(client, &q, &signed_cert) != 0)
        goto fail;
    what = "ImportCertificateAuthorityCertificate";
    cJSON_Delete(out);
    out = NULL;
    if (!cJSON_AddStringToObject(in, "Certificate", signed_cert->certificate_pem) ||
        (chain && !cJSON_AddStringToObject(in, "CertificateChain", chain)) ||
        acmpca_call(client, "ImportCertificateAuthorityCertificate", in, &out) != 0)
        goto fail;
    printf("%s\n", arn);
    goto done;

fail:
    rc = cli_fail_note(what, note);
done:
    acmpca_issued_certificate_free(signed_cert);
    acmpca_client_free(client);
    cJSON_Delete(in);
    cJSON_Delete(out);
    cJSON_Delete(parent);
    cli_list_free(&a.tags);
    free(arn);
    free(note);
    free(chain);
    return rc;
}

/* `ca list`: every page; one line per CA with --output text. */
static int ca_list(acmpca_client *c)
{
    acmpca_paginator *p = NULL;
    cJSON *all = cJSON_CreateObject(), *items, *page = NULL, *el;
    int rc = CLI_OK;

    items = cJSON_AddArrayToObject(all, "CertificateAuthorities");
    if (!items) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    if (acmpca_paginator_new(&p, c, "ListCertificateAuthorities", NULL, 0, 0, NULL) != 0) {
        rc = cli_fail("ListCertificateAuthorities");
        goto done;
    }
    while ((rc = acmpca_paginator_next(p, &page)) == 0 && page) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(page, "CertificateAuthorities");
        while ((el = cJSON_DetachItemFromArray(list, 0)) != NULL)
            cJSON_AddItemToArray(items, el);
        cJSON_Delete(page);
    }
    if (rc != 0) {
        rc = cli_fail("ListCertificateAuthorities");
        goto done;
    }
    if (strcmp(cli_g.output, "text") != 0 || cli_g.query) {
        rc = cli_print("ListCertificateAuthorities", all);
        goto done;
    }
    cJSON_ArrayForEach(el, items) {
        const cJSON *cfg = cJSON_GetObjectItem(el, "CertificateAuthorityConfiguration");
        const char *cn = cli_str(cJSON_GetObjectItem(cfg, "Subject"), "CommonName");
        printf("%s\t%s\t%s\t%s\n", cli_str(el, "Arn") ? cli_str(el, "Arn") : "",
               cli_str(el, "Type") ? cli_str(el, "Type") : "",
               cli_str(el, "Status") ? cli_str(el, "Status") : "", cn ? cn : "");
    }
done:
    acmpca_paginator_free(p);
    cJSON_Delete(all);
    return rc;
}

int cli_cmd_ca(int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "", *pos[1] = {NULL}, *arn = NULL, *days = NULL;
    acmpca_client *client = NULL;
    cJSON *in = NULL, *out = NULL;
    int npos = 0, rc, takes_days = strcmp(sub, "delete") == 0;
    char cmd[32];

    if (strcmp(sub, "create") == 0)
        return ca_create(argc - 1, argv + 1);
    snprintf(cmd, sizeof(cmd), "ca %s", sub);
    if (strcmp(sub, "list") == 0) {
        const cli_opt none[] = {{NULL, CLI_FLAG, NULL}};
        if ((rc = cli_parse(cmd, argc - 1, argv + 1, none, NULL, 0, NULL)) != CLI_OK ||
            (rc = cli_client(&client)) != CLI_OK)
            return rc;
        rc = ca_list(client);
        acmpca_client_free(client);
        return rc;
    }
    if (strcmp(sub, "describe") != 0 && strcmp(sub, "disable") != 0 &&
        strcmp(sub, "enable") != 0 && strcmp(sub, "delete") != 0 && strcmp(sub, "restore") != 0)
        return cli_usage("ca", "expected create, list, describe, disable, enable, delete or "
                               "restore, got \"%s\"", sub);
    {
        const cli_opt opts[] = {{"--ca", CLI_STR, &arn},
                                {takes_days ? "--days" : NULL, CLI_STR, &days},
                                {NULL, CLI_FLAG, NULL}};
        if ((rc = cli_parse(cmd, argc - 1, argv + 1, opts, pos, 1, &npos)) != CLI_OK)
            return rc;
    }
    if (!arn == !pos[0])
        return cli_usage(cmd, "give the CA's ARN (as an argument or with --ca)");
    arn = arn ? arn : pos[0];
    if (!(in = arn_input(arn)))
        return cli_error(CLI_SERVICE, "out of memory");
    if (days) {
        char *end;
        long v = strtol(days, &end, 10);
        if (!*days || *end || v < 7 || v > 30) {
            cJSON_Delete(in);
            return cli_usage(cmd, "--days: expected 7 to 30, got \"%s\"", days);
        }
        cJSON_AddNumberToObject(in, "PermanentDeletionTimeInDays", (double)v);
    }
    if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0)
        cJSON_AddStringToObject(in, "Status", sub[0] == 'd' ? "DISABLED" : "ACTIVE");
    if ((rc = cli_client(&client)) != CLI_OK) {
        cJSON_Delete(in);
        return rc;
    }
    rc = call_on(client,
                 sub[0] == 'r'                            ? "RestoreCertificateAuthority"
                 : strcmp(sub, "delete") == 0             ? "DeleteCertificateAuthority"
                 : strcmp(sub, "describe") == 0           ? "DescribeCertificateAuthority"
                                                          : "UpdateCertificateAuthority",
                 in, &out);
    if (rc == CLI_OK && strcmp(sub, "describe") == 0)
        rc = cli_print("DescribeCertificateAuthority", out);
    else if (rc == CLI_OK)
        printf("%s %s\n", strcmp(sub, "disable") == 0   ? "disabled"
                          : strcmp(sub, "enable") == 0  ? "enabled"
                          : strcmp(sub, "delete") == 0  ? "deleted"
                                                        : "restored",
               arn);
    cJSON_Delete(out);
    acmpca_client_free(client);
    return rc;
}
