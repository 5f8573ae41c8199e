/*
 * test_model.c - the static model (operations, shapes, errors, boto3 snake
 * names; the waiters, paginators and quotas generated beside them, compared
 * with the JSON they come from) and the validation/serialization of inputs
 * against it, and what a waiter's acceptors make of one poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "acmpca.h"
#include "check.h"
#include "client_internal.h"
#include "model_data.h"
#include "serialize.h"

static const char *const boto3_names[][2] = {
    {"CreateCertificateAuthority", "create_certificate_authority"},
    {"CreateCertificateAuthorityAuditReport", "create_certificate_authority_audit_report"},
    {"CreatePermission", "create_permission"},
    {"DeleteCertificateAuthority", "delete_certificate_authority"},
    {"DeletePermission", "delete_permission"},
    {"DeletePolicy", "delete_policy"},
    {"DescribeCertificateAuthority", "describe_certificate_authority"},
    {"DescribeCertificateAuthorityAuditReport", "describe_certificate_authority_audit_report"},
    {"GetCertificate", "get_certificate"},
    {"GetCertificateAuthorityCertificate", "get_certificate_authority_certificate"},
    {"GetCertificateAuthorityCsr", "get_certificate_authority_csr"},
    {"GetPolicy", "get_policy"},
    {"ImportCertificateAuthorityCertificate", "import_certificate_authority_certificate"},
    {"IssueCertificate", "issue_certificate"},
    {"ListCertificateAuthorities", "list_certificate_authorities"},
    {"ListPermissions", "list_permissions"},
    {"ListTags", "list_tags"},
    {"PutPolicy", "put_policy"},
    {"RestoreCertificateAuthority", "restore_certificate_authority"},
    {"RevokeCertificate", "revoke_certificate"},
    {"TagCertificateAuthority", "tag_certificate_authority"},
    {"UntagCertificateAuthority", "untag_certificate_authority"},
    {"UpdateCertificateAuthority", "update_certificate_authority"},
};

#define PEM_CSR "-----BEGIN CERTIFICATE REQUEST-----\n" \
    "MIIBWTCCAQ8CAQAwEjEQMA4GA1UEAwwHZXhhbXBsZTAqMAUGAytlcAMhAHKj\n" \
    "-----END CERTIFICATE REQUEST-----\n"
#define ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/" \
    "12345678-1234-1234-1234-123456789012"

/* ---- helpers ---------------------------------------------------------- */

static const acmpca_operation_info *op_named(const char *name)
{
    const acmpca_operation_info *op = acmpca_model_operation_find(name);
    REQUIRE(op != NULL);
    return op;
}

/* Serialize JSON text for an operation; returns the rc, body in *body. */
static int serialize_text(const char *opname, const char *json, char **body)
{
    cJSON *in = NULL;
    int rc;

    if (json) {
        in = cJSON_Parse(json);
        REQUIRE(in != NULL);
    }
    rc = acmpca__serialize_input(op_named(opname), in, body);
    cJSON_Delete(in);
    return rc;
}

#define EXPECT_PARAM_ERROR(opname, json, msg) do { \
    char *body_ = (char *)"untouched"; \
    int rc_ = serialize_text((opname), (json), &body_); \
    CHECK_INT(rc_, ACMPCA_EPARAM); \
    CHECK(body_ == NULL); \
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EPARAM); \
    CHECK_STR(acmpca_error_last()->message, (msg)); \
    if (rc_ == 0) free(body_); \
    } while (0)

/* Serialize and expect success; returns the parsed body (caller deletes). */
static cJSON *serialize_ok(const char *opname, const char *json)
{
    char *body = NULL;
    cJSON *parsed;
    int rc = serialize_text(opname, json, &body);

    if (rc != 0)
        fprintf(stderr, "unexpected error: %s\n", acmpca_error_last()->message);
    CHECK_INT(rc, 0);
    REQUIRE(rc == 0 && body != NULL);
    parsed = cJSON_Parse(body);
    REQUIRE(parsed != NULL);
    free(body);
    return parsed;
}

static char *b64_decode(const char *in)
{
    size_t len = strlen(in);
    unsigned char *out = calloc(len / 4 * 3 + 1, 1);
    int n;

    REQUIRE(out != NULL);
    n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    REQUIRE(n >= 0);
    /* EVP_DecodeBlock counts padding bytes as data: trim them. */
    if (len >= 1 && in[len - 1] == '=')
        n--;
    if (len >= 2 && in[len - 2] == '=')
        n--;
    out[n] = '\0';
    return (char *)out;
}

/* ---- the model -------------------------------------------------------- */

static void test_operations(void)
{
    size_t i;

    CHECK_INT(acmpca_model_operation_count(), 23);
    CHECK_INT(ACMPCA_OP_COUNT, 23);
    CHECK_INT(sizeof(boto3_names) / sizeof(boto3_names[0]), 23);
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        const acmpca_operation_info *op = acmpca_model_operation(i);
        REQUIRE(op != NULL);
        CHECK_INT(op->id, i);
        CHECK_STR(op->name, boto3_names[i][0]);
        CHECK_STR(op->snake_name, boto3_names[i][1]);
        CHECK(acmpca_model_operation_find(boto3_names[i][0]) == op);
        CHECK(acmpca_model_operation_find(boto3_names[i][1]) == op);
        CHECK(op->input != NULL);
        CHECK_INT(op->input->type, ACMPCA_SHAPE_STRUCTURE);
        CHECK(op->error_count > 0 && op->errors != NULL);
    }
    CHECK(acmpca_model_operation(23) == NULL);
    CHECK(acmpca_model_operation((size_t)-1) == NULL);
    CHECK(acmpca_model_operation_find("issueCertificate") == NULL);
    CHECK(acmpca_model_operation_find("IssueCertificates") == NULL);
    CHECK(acmpca_model_operation_find("") == NULL);
    CHECK(acmpca_model_operation_find(NULL) == NULL);

    CHECK_INT(ACMPCA_OP_CREATE_CERTIFICATE_AUTHORITY, 0);
    CHECK_INT(op_named("GetCertificateAuthorityCsr")->id, ACMPCA_OP_GET_CERTIFICATE_AUTHORITY_CSR);
    CHECK_INT(op_named("update_certificate_authority")->id,
              ACMPCA_OP_UPDATE_CERTIFICATE_AUTHORITY);

    /* Operations without output and the idempotent ones. */
    CHECK(op_named("CreatePermission")->output == NULL);
    CHECK(op_named("RevokeCertificate")->output == NULL);
    CHECK(op_named("IssueCertificate")->output != NULL);
    CHECK_STR(op_named("IssueCertificate")->output->name, "IssueCertificateResponse");
    CHECK_INT(op_named("IssueCertificate")->idempotent, 1);
    CHECK_INT(op_named("CreateCertificateAuthority")->idempotent, 1);
    CHECK_INT(op_named("CreateCertificateAuthorityAuditReport")->idempotent, 1);
    CHECK_INT(op_named("RevokeCertificate")->idempotent, 0);
    CHECK_INT(op_named("ListTags")->idempotent, 0);
}

static void test_issue_certificate_shape(void)
{
    const acmpca_operation_info *op = op_named("IssueCertificate");
    const acmpca_shape *in = op->input;
    const acmpca_member *m;
    static const char *const required[] = {"CertificateAuthorityArn", "Csr", "SigningAlgorithm",
                                           "Validity"};
    static const char *const optional[] = {"ApiPassthrough", "TemplateArn", "ValidityNotBefore",
                                           "IdempotencyToken"};
    size_t i, n_required = 0;

    CHECK_STR(in->name, "IssueCertificateRequest");
    CHECK_INT(in->member_count, 8);
    for (i = 0; i < 4; i++) {
        m = acmpca_model_member(in, required[i]);
        REQUIRE(m != NULL);
        CHECK_STR(m->name, required[i]);
        CHECK_INT(m->required, 1);
        m = acmpca_model_member(in, optional[i]);
        REQUIRE(m != NULL);
        CHECK_INT(m->required, 0);
    }
    for (i = 0; i < in->member_count; i++)
        n_required += in->members[i].required;
    CHECK_INT(n_required, 4);

    m = acmpca_model_member(in, "Csr");
    CHECK_INT(m->shape->type, ACMPCA_SHAPE_BLOB);
    CHECK_STR(m->shape->name, "CsrBlob");
    CHECK(m->shape->has_min && m->shape->has_max);
    CHECK_INT(m->shape->min, 1);
    CHECK_INT(m->shape->max, 32768);

    m = acmpca_model_member(in, "CertificateAuthorityArn");
    CHECK_INT(m->shape->type, ACMPCA_SHAPE_STRING);
    CHECK_INT(m->shape->min, 5);
    CHECK_INT(m->shape->max, 200);
    CHECK(m->shape->pattern != NULL && strncmp(m->shape->pattern, "arn:", 4) == 0);

    m = acmpca_model_member(in, "SigningAlgorithm");
    CHECK_INT(m->shape->type, ACMPCA_SHAPE_STRING);
    CHECK(m->shape->enum_count >= 9);
    CHECK_STR(m->shape->enum_values[0], "SHA256WITHECDSA");

    m = acmpca_model_member(in, "Validity");
    CHECK_INT(m->shape->type, ACMPCA_SHAPE_STRUCTURE);
    {
        const acmpca_member *v = acmpca_model_member(m->shape, "Value");
        const acmpca_member *t = acmpca_model_member(m->shape, "Type");
        REQUIRE(v && t);
        CHECK_INT(v->shape->type, ACMPCA_SHAPE_LONG);
        CHECK(v->shape->has_min && !v->shape->has_max);
        CHECK_INT(v->shape->min, 1);
        CHECK_INT(v->required, 1);
        CHECK_INT(t->required, 1);
        CHECK_INT(t->shape->enum_count, 5);
    }

    /* A list and its element shape. */
    m = acmpca_model_member(op_named("TagCertificateAuthority")->input, "Tags");
    REQUIRE(m != NULL);
    CHECK_INT(m->shape->type, ACMPCA_SHAPE_LIST);
    CHECK_INT(m->shape->max, 50);
    REQUIRE(m->shape->element != NULL);
    CHECK_STR(m->shape->element->name, "Tag");
    CHECK_INT(acmpca_model_member(m->shape->element, "Key")->required, 1);

    /* Output timestamps. */
    m = acmpca_model_member(op_named("DescribeCertificateAuthority")->output,
                            "CertificateAuthority");
    REQUIRE(m != NULL);
    CHECK_INT(acmpca_model_member(m->shape, "CreatedAt")->shape->type, ACMPCA_SHAPE_TIMESTAMP);

    CHECK(acmpca_model_member(in, "csr") == NULL);
    CHECK(acmpca_model_member(in, NULL) == NULL);
    CHECK(acmpca_model_member(NULL, "Csr") == NULL);
    CHECK(acmpca_model_member(acmpca_model_member(in, "Csr")->shape, "Csr") == NULL);
}

static void test_errors(void)
{
    const acmpca_operation_info *issue = op_named("IssueCertificate");
    const acmpca_operation_info *list = op_named("ListCertificateAuthorities");
    const acmpca_operation_info *import = op_named("ImportCertificateAuthorityCertificate");

    CHECK_INT(issue->error_count, 6);
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_MALFORMED_CSR));
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_LIMIT_EXCEEDED));
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_RESOURCE_NOT_FOUND));
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_INVALID_ARN));
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_INVALID_ARGS));
    CHECK(acmpca_model_operation_has_error(issue, ACMPCA_E_INVALID_STATE));
    CHECK(!acmpca_model_operation_has_error(issue, ACMPCA_E_INVALID_NEXT_TOKEN));
    CHECK(!acmpca_model_operation_has_error(issue, ACMPCA_E_THROTTLING));

    CHECK_INT(list->error_count, 1);
    CHECK_INT(list->errors[0], ACMPCA_E_INVALID_NEXT_TOKEN);
    CHECK(acmpca_model_operation_has_error(list, ACMPCA_E_INVALID_NEXT_TOKEN));
    CHECK(!acmpca_model_operation_has_error(list, ACMPCA_E_MALFORMED_CSR));
    CHECK(!acmpca_model_operation_has_error(NULL, ACMPCA_E_INVALID_NEXT_TOKEN));

    CHECK_INT(import->error_count, 9);
    CHECK(acmpca_model_operation_has_error(import, ACMPCA_E_CERTIFICATE_MISMATCH));
    CHECK(acmpca_model_operation_has_error(import, ACMPCA_E_MALFORMED_CERTIFICATE));
    CHECK(acmpca_model_operation_has_error(op_named("DeletePolicy"),
                                           ACMPCA_E_LOCKOUT_PREVENTED));
    CHECK(acmpca_model_operation_has_error(op_named("CreatePermission"),
                                           ACMPCA_E_PERMISSION_ALREADY_EXISTS));
    CHECK(acmpca_model_operation_has_error(op_named("RevokeCertificate"),
                                           ACMPCA_E_REQUEST_ALREADY_PROCESSED));
    CHECK(acmpca_model_operation_has_error(op_named("TagCertificateAuthority"),
                                           ACMPCA_E_TOO_MANY_TAGS));
}

static void test_type_names(void)
{
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_STRUCTURE), "structure");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_LIST), "list");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_MAP), "map");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_STRING), "string");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_BLOB), "blob");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_INTEGER), "integer");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_LONG), "long");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_BOOLEAN), "boolean");
    CHECK_STR(acmpca_model_type_name(ACMPCA_SHAPE_TIMESTAMP), "timestamp");
}

/* ---- waiters, paginators, quotas: generated from the model files ------- */

/* A file beside this source (CMake compiles it by its absolute path), so the
 * test finds the repository's tools/ and core/model/. */
static cJSON *read_json_near_source(const char *rel, char *path, size_t cap)
{
    const char *file = __FILE__, *slash = strrchr(file, '/');
    FILE *f;
    char *text = NULL;
    long n;
    cJSON *doc = NULL;

    snprintf(path, cap, "%.*s/%s", slash ? (int)(slash - file) : 1, slash ? file : ".", rel);
    if (!(f = fopen(path, "rb")))
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)n + 1)) != NULL && fread(text, 1, (size_t)n, f) == (size_t)n)
        doc = cJSON_ParseWithLength(text, (size_t)n);
    free(text);
    fclose(f);
    REQUIRE(doc != NULL);  /* present but unreadable is a failure */
    return doc;
}

#define REFERENCE "../../core/model/"

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const acmpca__waiter *generated_waiter(const char *name)
{
    size_t i;
    for (i = 0; i < acmpca__waiter_count; i++)
        if (strcmp(acmpca__waiters[i].info.name, name) == 0)
            return &acmpca__waiters[i];
    return NULL;
}

static void test_model__waiters_are_those_of_waiters_json(void)
{
    static const char *const names[][3] = {
        {"AuditReportCreated", "audit_report_created", "DescribeCertificateAuthorityAuditReport"},
        {"CertificateAuthorityCSRCreated", "certificate_authority_csr_created",
         "GetCertificateAuthorityCsr"},
        {"CertificateIssued", "certificate_issued", "GetCertificate"},
    };
    char path[4096];
    cJSON *doc;
    const cJSON *w, *a;
    size_t i;

    /* What every binding shows. */
    REQUIRE(acmpca__waiter_count == 3);
    for (i = 0; i < 3; i++) {
        const acmpca_waiter_info *info = acmpca_waiter_at(i);
        REQUIRE(info == &acmpca__waiters[i].info);
        CHECK_STR(info->name, names[i][0]);
        CHECK_STR(info->snake_name, names[i][1]);
        CHECK_STR(info->operation, names[i][2]);
        CHECK(acmpca_model_operation_find(info->operation) != NULL);
        CHECK(acmpca_waiter_find(names[i][0]) == info);
        CHECK(acmpca_waiter_find(names[i][1]) == info);
    }
    CHECK(acmpca_waiter_at(3) == NULL);
    CHECK(acmpca_waiter_find("certificateIssued") == NULL);
    CHECK(acmpca_waiter_find(NULL) == NULL);
    CHECK(acmpca_waiter_at(2)->delay_s == 1.0);
    CHECK_INT(acmpca_waiter_at(2)->max_attempts, 60);

    doc = read_json_near_source(REFERENCE "waiters-2.json", path, sizeof(path));
    REQUIRE(doc != NULL); /* the model is vendored in core/model: missing is a failure */
    w = cJSON_GetObjectItemCaseSensitive(doc, "waiters");
    CHECK_INT(cJSON_GetArraySize(w), acmpca__waiter_count);
    cJSON_ArrayForEach(w, w) {
        const acmpca__waiter *g = generated_waiter(w->string);
        const cJSON *acceptors = cJSON_GetObjectItemCaseSensitive(w, "acceptors");
        if (!g) {
            fprintf(stderr, "waiter %s of waiters-2.json is not generated\n", w->string);
            check_failures++;
            continue;
        }
        CHECK_STR(g->info.operation, json_str(w, "operation"));
        CHECK(g->info.delay_s == cJSON_GetObjectItemCaseSensitive(w, "delay")->valuedouble);
        CHECK_INT(g->info.max_attempts,
                  cJSON_GetObjectItemCaseSensitive(w, "maxAttempts")->valueint);
        CHECK_INT(g->acceptor_count, cJSON_GetArraySize(acceptors));
        i = 0;
        cJSON_ArrayForEach(a, acceptors) {
            const acmpca__acceptor *ga = &g->acceptors[i++];
            const char *matcher = json_str(a, "matcher"), *state = json_str(a, "state");
            const cJSON *expected = cJSON_GetObjectItemCaseSensitive(a, "expected");
            if (i > g->acceptor_count)
                break;
            CHECK_STR(ga->state == ACMPCA__ACCEPT_SUCCESS ? "success"
                      : ga->state == ACMPCA__ACCEPT_RETRY ? "retry" : "failure", state);
            CHECK_STR(ga->matcher == ACMPCA__MATCH_ERROR ? "error" : "path", matcher);
            if (ga->matcher == ACMPCA__MATCH_PATH)
                CHECK_STR(ga->argument, json_str(a, "argument"));
            else
                CHECK(ga->argument == NULL);
            if (cJSON_IsFalse(expected))
                CHECK(ga->expected == NULL);
            else
                CHECK_STR(ga->expected, cJSON_IsString(expected) ? expected->valuestring : NULL);
        }
    }
    cJSON_Delete(doc);
}

static void test_model__paginators_are_those_of_paginators_json(void)
{
    static const char *const ops[] = {"ListCertificateAuthorities", "ListPermissions",
                                      "ListTags"};
    char path[4096];
    cJSON *doc;
    const cJSON *p;
    size_t i, seen = 0;

    REQUIRE(acmpca__paginator_count == 3);
    for (i = 0; i < 3; i++) {
        const acmpca_paginator_info *info = acmpca_paginator_at(i);
        REQUIRE(info == &acmpca__paginators[i]);
        CHECK_STR(info->operation, ops[i]);
        CHECK(acmpca_paginator_find(ops[i]) == info);
        CHECK(acmpca_paginator_find(op_named(ops[i])->snake_name) == info);
    }
    CHECK_STR(acmpca_paginator_find("list_tags")->result_key, "Tags");
    CHECK_STR(acmpca_paginator_find("list_tags")->limit_key, "MaxResults");
    CHECK(acmpca_paginator_at(3) == NULL);
    CHECK(acmpca_paginator_find("GetCertificate") == NULL);
    CHECK(acmpca_paginator_find(NULL) == NULL);

    doc = read_json_near_source(REFERENCE "paginators-1.json", path, sizeof(path));
    REQUIRE(doc != NULL);
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pagination")) {
        const acmpca_paginator_info *g = acmpca_paginator_find(p->string);
        seen++;
        if (!g) {
            fprintf(stderr, "paginator %s of paginators-1.json is not generated\n", p->string);
            check_failures++;
            continue;
        }
        CHECK_STR(g->operation, p->string);
        CHECK_STR(g->input_token, json_str(p, "input_token"));
        CHECK_STR(g->output_token, json_str(p, "output_token"));
        CHECK_STR(g->limit_key, json_str(p, "limit_key"));
        CHECK_STR(g->result_key, json_str(p, "result_key"));
    }
    CHECK_INT(seen, acmpca__paginator_count);
    cJSON_Delete(doc);
}

static void test_model__default_quotas_are_those_of_quotas_json(void)
{
    char path[4096];
    cJSON *doc = read_json_near_source("../../tools/quotas.json", path, sizeof(path));
    const cJSON *rates, *r;
    size_t i;

    REQUIRE(doc != NULL);
    rates = cJSON_GetObjectItemCaseSensitive(doc, "requests_per_second");
    REQUIRE(cJSON_IsObject(rates));
    cJSON_ArrayForEach(r, rates)
        CHECK(acmpca_model_operation_find(r->string) != NULL);
    for (i = 0; i < ACMPCA_OP_COUNT; i++) {
        r = cJSON_GetObjectItemCaseSensitive(rates, acmpca_model_operation(i)->name);
        CHECK(acmpca__default_quotas[i] == (cJSON_IsNumber(r) ? r->valuedouble : 0));
    }
    CHECK(acmpca__default_quotas[ACMPCA_OP_GET_CERTIFICATE] == 75);
    CHECK(acmpca__default_quotas[ACMPCA_OP_ISSUE_CERTIFICATE] == 25);
    CHECK(acmpca__default_quotas[ACMPCA_OP_CREATE_CERTIFICATE_AUTHORITY] == 1);
    cJSON_Delete(doc);
}

/* ---- acmpca__waiter_evaluate: one poll through the acceptors ----------- */

/* One poll's outcome; `out_json` NULL for a failed call (error already set). */
static acmpca_waiter_outcome poll_outcome(const char *waiter, int err, const char *out_json)
{
    cJSON *out = out_json ? cJSON_Parse(out_json) : NULL;
    acmpca_waiter_outcome r;

    REQUIRE(!out_json || out);
    REQUIRE(acmpca_waiter_find(waiter) != NULL);
    r = acmpca__waiter_evaluate(acmpca_waiter_find(waiter), err, out);
    cJSON_Delete(out);
    return r;
}

static int service_error(int code, const char *aws_code)
{
    return acmpca__error_set_service(code, aws_code, "the service's words", 400, "req-1");
}

static void test_waiter__error_acceptor_false_succeeds_on_a_successful_call(void)
{
    acmpca_waiter_info copy = *acmpca_waiter_find("CertificateIssued");

    CHECK_INT(poll_outcome("CertificateIssued", 0, "{\"Certificate\":\"x\"}"),
              ACMPCA_WAITER_SUCCESS);
    CHECK_INT(poll_outcome("certificate_authority_csr_created", 0, "{}"),
              ACMPCA_WAITER_SUCCESS);
    /* Found by name: a copy of the info works as well. */
    CHECK_INT(acmpca__waiter_evaluate(&copy, 0, NULL), ACMPCA_WAITER_SUCCESS);
}

static void test_waiter__error_acceptor_retries_on_its_aws_code(void)
{
    int err = service_error(ACMPCA_E_REQUEST_IN_PROGRESS, "RequestInProgressException");

    CHECK_INT(poll_outcome("CertificateIssued", err, NULL), ACMPCA_WAITER_RETRY);
    CHECK_INT(poll_outcome("CertificateAuthorityCSRCreated", err, NULL), ACMPCA_WAITER_RETRY);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_E_REQUEST_IN_PROGRESS);  /* untouched */
    CHECK_STR(acmpca_error_last()->waiter, "");
}

static void test_waiter__error_failure_acceptor_keeps_the_service_detail(void)
{
    int err = service_error(ACMPCA_E_ACCESS_DENIED, "AccessDeniedException");

    CHECK_INT(poll_outcome("CertificateIssued", err, NULL), ACMPCA_WAITER_FAILURE);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EWAITER);
    CHECK_STR(acmpca_error_last()->message,
              "waiter failed: CertificateIssued: AccessDeniedException: the service's words");
    CHECK_STR(acmpca_error_last()->aws_code, "AccessDeniedException");
    CHECK_STR(acmpca_error_last()->request_id, "req-1");
    CHECK_INT(acmpca_error_last()->http_status, 400);
    CHECK_STR(acmpca_error_last()->waiter, "CertificateIssued");
    CHECK_STR(acmpca_error_last()->waiter_state, "AccessDeniedException");

    /* After AuditReportCreated's two path acceptors, which a failed call never matches. */
    err = service_error(ACMPCA_E_ACCESS_DENIED, "AccessDeniedException");
    CHECK_INT(poll_outcome("AuditReportCreated", err, NULL), ACMPCA_WAITER_FAILURE);
    CHECK_STR(acmpca_error_last()->message,
              "waiter failed: AuditReportCreated: AccessDeniedException: the service's words");
    CHECK_STR(acmpca_error_last()->waiter_state, "AccessDeniedException");
}

static void test_waiter__path_acceptors_compare_the_output_member(void)
{
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{\"AuditReportStatus\":\"SUCCESS\"}"),
              ACMPCA_WAITER_SUCCESS);

    acmpca_error_clear();
    CHECK_INT(poll_outcome("audit_report_created", 0,
                           "{\"AuditReportStatus\":\"FAILED\",\"S3Key\":\"k\"}"),
              ACMPCA_WAITER_FAILURE);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_EWAITER);
    CHECK_STR(acmpca_error_last()->message,
              "waiter AuditReportCreated failed: AuditReportStatus is FAILED");
    CHECK_STR(acmpca_error_last()->waiter, "AuditReportCreated");
    CHECK_STR(acmpca_error_last()->waiter_state, "AuditReportStatus=FAILED");
}

static void test_waiter__success_no_acceptor_matches_retries(void)
{
    acmpca_error_clear();
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{\"AuditReportStatus\":\"IN_PROGRESS\"}"),
              ACMPCA_WAITER_RETRY);
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{}"), ACMPCA_WAITER_RETRY);
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{\"AuditReportStatus\":5}"),
              ACMPCA_WAITER_RETRY);
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{\"AuditReportStatus\":\"success\"}"),
              ACMPCA_WAITER_RETRY);
    CHECK_INT(poll_outcome("AuditReportCreated", 0, NULL), ACMPCA_WAITER_RETRY);
    /* Nested members are not the top-level one the acceptor names. */
    CHECK_INT(poll_outcome("AuditReportCreated", 0, "{\"X\":{\"AuditReportStatus\":\"FAILED\"}}"),
              ACMPCA_WAITER_RETRY);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_OK);
}

static void test_waiter__error_no_acceptor_expects_is_unexpected_and_untouched(void)
{
    int err = service_error(ACMPCA_E_RESOURCE_NOT_FOUND, "ResourceNotFoundException");

    CHECK_INT(poll_outcome("CertificateIssued", err, NULL), ACMPCA_WAITER_UNEXPECTED);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_STR(acmpca_error_last()->message, "the service's words");
    CHECK_STR(acmpca_error_last()->waiter, "");

    /* A failure before any answer has no AWS code to match. */
    err = acmpca__error_set(ACMPCA_ENETWORK, "connection reset");
    CHECK_INT(poll_outcome("CertificateIssued", err, NULL), ACMPCA_WAITER_UNEXPECTED);
    CHECK_INT(poll_outcome("AuditReportCreated", err, NULL), ACMPCA_WAITER_UNEXPECTED);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_ENETWORK);
    CHECK_STR(acmpca_error_last()->message, "connection reset");
}

/* waiters-2.json gives AuditReportCreated no retry acceptor for
 * RequestInProgressException (botocore's waiter stops on it too). */
static void test_waiter__audit_report_created_does_not_retry_request_in_progress(void)
{
    int err = service_error(ACMPCA_E_REQUEST_IN_PROGRESS, "RequestInProgressException");

    CHECK_INT(poll_outcome("AuditReportCreated", err, NULL), ACMPCA_WAITER_UNEXPECTED);
    CHECK_INT(acmpca_error_last()->code, ACMPCA_E_REQUEST_IN_PROGRESS);
    /* As the parser delivers it: the operation does not model the exception. */
    err = service_error(ACMPCA_ESERVICE, "RequestInProgressException");
    CHECK_INT(poll_outcome("AuditReportCreated", err, NULL), ACMPCA_WAITER_UNEXPECTED);
    CHECK_STR(acmpca_error_last()->aws_code, "RequestInProgressException");
}

/* ---- serialization ---------------------------------------------------- */

static void test_serialize_issue_certificate(void)
{
    const char *json =
        "{\"CertificateAuthorityArn\":\"" ARN "\","
        "\"Csr\":\"" "-----BEGIN CERTIFICATE REQUEST-----\\n"
        "MIIBWTCCAQ8CAQAwEjEQMA4GA1UEAwwHZXhhbXBsZTAqMAUGAytlcAMhAHKj\\n"
        "-----END CERTIFICATE REQUEST-----\\n\","
        "\"SigningAlgorithm\":\"SHA256WITHRSA\","
        "\"Validity\":{\"Value\":365,\"Type\":\"DAYS\"},"
        "\"IdempotencyToken\":\"tok-1\"}";
    cJSON *in = cJSON_Parse(json), *body_json;
    char *before, *after, *body = NULL, *csr;
    const cJSON *v;

    REQUIRE(in != NULL);
    before = cJSON_PrintUnformatted(in);
    CHECK_INT(acmpca__serialize_input(op_named("IssueCertificate"), in, &body), 0);
    after = cJSON_PrintUnformatted(in);
    CHECK_STR(after, before);  /* the caller's tree is not touched */
    REQUIRE(body != NULL);
    CHECK_CONTAINS(body, "\"Validity\":{\"Value\":365,\"Type\":\"DAYS\"}");
    CHECK_CONTAINS(body, "\"CertificateAuthorityArn\":\"" ARN "\"");
    CHECK(strchr(body, '\n') == NULL);  /* unformatted */

    body_json = cJSON_Parse(body);
    REQUIRE(body_json != NULL);
    v = cJSON_GetObjectItemCaseSensitive(body_json, "Csr");
    REQUIRE(cJSON_IsString(v));
    CHECK(strncmp(v->valuestring, "LS0tLS1CRUdJTi", 14) == 0);  /* base64 of "-----BEGIN" */
    CHECK(strchr(v->valuestring, '\n') == NULL);
    csr = b64_decode(v->valuestring);
    CHECK_STR(csr, PEM_CSR);
    free(csr);
    CHECK_INT(cJSON_GetArraySize(body_json), 5);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(body_json, "IdempotencyToken")->valuestring,
              "tok-1");

    cJSON_Delete(body_json);
    cJSON_free(before);
    cJSON_free(after);
    free(body);
    cJSON_Delete(in);
}

/*
 * Strings are escaped byte for byte as cJSON prints them, whichever byte
 * needs it and wherever it falls: each of the control characters, " and \
 * (and bytes that need none) at every position of strings of 6 to 24 bytes,
 * across the 8-byte runs the serializer copies whole.
 */
static void test_serialize__every_escape_at_every_position(void)
{
    static const unsigned char plain[] = {' ', 'a', '/', 0x7f, 0x80, 0xc3, 0xff, '#', '!'};
    unsigned char bytes[33 + sizeof(plain)];
    size_t nbytes = 0, len, at, i;
    int c, mismatches = 0;

    for (c = 1; c < 32; c++)
        bytes[nbytes++] = (unsigned char)c;
    bytes[nbytes++] = '"';
    bytes[nbytes++] = '\\';
    for (i = 0; i < sizeof(plain); i++)
        bytes[nbytes++] = plain[i];
    for (len = 6; len <= 24; len++) {
        for (at = 0; at < len; at++) {
            for (i = 0; i < nbytes; i++) {
                char text[32], *body = NULL, *expected;
                cJSON *in = cJSON_CreateObject();
                memset(text, 'x', len);
                text[at] = (char)bytes[i];
                text[len] = '\0';
                REQUIRE(in && cJSON_AddStringToObject(in, "CertificateAuthorityArn", text));
                expected = cJSON_PrintUnformatted(in);
                REQUIRE(expected != NULL);
                CHECK_INT(acmpca__serialize_input(op_named("ListTags"), in, &body), 0);
                if (!body || strcmp(body, expected) != 0) {
                    if (mismatches++ < 3)
                        CHECK_STR(body, expected);
                }
                free(body);
                cJSON_free(expected);
                cJSON_Delete(in);
            }
        }
    }
    CHECK_INT(mismatches, 0);
}

static void test_serialize_valid_cases(void)
{
    char *body = NULL;
    cJSON *out, *in;
    const cJSON *v;

    /* Empty inputs. */
    CHECK_INT(serialize_text("ListCertificateAuthorities", NULL, &body), 0);
    CHECK_STR(body, "{}");
    free(body);
    body = NULL;
    CHECK_INT(serialize_text("ListCertificateAuthorities", "{}", &body), 0);
    CHECK_STR(body, "{}");
    free(body);
    body = NULL;

    /* Limits are inclusive. */
    CHECK_INT(serialize_text("ListCertificateAuthorities",
                             "{\"MaxResults\":1000,\"ResourceOwner\":\"SELF\"}", &body), 0);
    CHECK_STR(body, "{\"MaxResults\":1000,\"ResourceOwner\":\"SELF\"}");
    free(body);
    body = NULL;
    /* A whole number written with a fraction or exponent is still whole. */
    CHECK_INT(serialize_text("ListCertificateAuthorities", "{\"MaxResults\":1e2}", &body), 0);
    CHECK_STR(body, "{\"MaxResults\":100}");
    free(body);
    body = NULL;

    /* Enums are an open set: a value the model does not know passes. */
    out = serialize_ok("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA3_512WITHFUTURE\","
                       "\"Validity\":{\"Value\":4102444800,\"Type\":\"SOMEDAY\"}}");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "SigningAlgorithm")->valuestring,
              "SHA3_512WITHFUTURE");
    v = cJSON_GetObjectItemCaseSensitive(out, "Validity");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(v, "Type")->valuestring, "SOMEDAY");
    /* A long beyond 32 bits stays exact. */
    CHECK(cJSON_GetObjectItemCaseSensitive(v, "Value")->valuedouble == 4102444800.0);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "Csr")->valuestring, "eA==");
    cJSON_Delete(out);

    /* Nested structures and lists are copied through. */
    out = serialize_ok("CreateCertificateAuthority",
                       "{\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"RSA_2048\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Subject\":{\"CommonName\":\"x\","
                       "\"Country\":\"US\",\"GivenName\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                       "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                       "\xa9\xc3\xa9\xc3\xa9\"}},"
                       "\"CertificateAuthorityType\":\"ROOT\","
                       "\"RevocationConfiguration\":{\"CrlConfiguration\":{\"Enabled\":false}},"
                       "\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"},{\"Key\":\"c\"}]}");
    v = cJSON_GetObjectItemCaseSensitive(out, "Tags");
    CHECK_INT(cJSON_GetArraySize(v), 2);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(v, 1), "Key")->valuestring,
              "c");
    v = cJSON_GetObjectItemCaseSensitive(out, "RevocationConfiguration");
    v = cJSON_GetObjectItemCaseSensitive(v, "CrlConfiguration");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "Enabled")));
    cJSON_Delete(out);

    /* A blob with minimum 0 may be empty. */
    out = serialize_ok("ImportCertificateAuthorityCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Certificate\":\"abc\","
                       "\"CertificateChain\":\"\"}");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "Certificate")->valuestring, "YWJj");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "CertificateChain")->valuestring, "");
    cJSON_Delete(out);

    /* 32 levels of nesting are allowed (then the model says no). */
    {
        int i;
        cJSON *cur;
        in = cJSON_CreateObject();
        cur = cJSON_AddArrayToObject(in, "NextToken");
        for (i = 0; i < 30; i++) {
            cJSON *next = cJSON_CreateArray();
            cJSON_AddItemToArray(cur, next);
            cur = next;
        }
        body = (char *)"untouched";
        CHECK_INT(acmpca__serialize_input(op_named("ListCertificateAuthorities"), in, &body),
                  ACMPCA_EPARAM);
        CHECK_STR(acmpca_error_last()->message, "NextToken: expected a string, got list");
        cJSON_Delete(in);
    }
}

static void test_serialize_errors(void)
{
    char expected[256];
    char tags[4096];
    size_t n;
    int i;

    /* Missing required members, with an empty or NULL input: every one, a line each. */
    EXPECT_PARAM_ERROR("IssueCertificate", "{}",
                       "CertificateAuthorityArn: missing required parameter\n"
                       "Csr: missing required parameter\n"
                       "SigningAlgorithm: missing required parameter\n"
                       "Validity: missing required parameter");
    EXPECT_PARAM_ERROR("IssueCertificate", NULL,
                       "CertificateAuthorityArn: missing required parameter\n"
                       "Csr: missing required parameter\n"
                       "SigningAlgorithm: missing required parameter\n"
                       "Validity: missing required parameter");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\"}",
                       "Validity: missing required parameter");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Validity\":{\"Value\":1}}",
                       "Validity.Type: missing required parameter");

    /* Wrong types. */
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":\"365\",\"Type\":\"DAYS\"}}",
                       "Validity.Value: expected an integer, got string");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":1.5,\"Type\":\"DAYS\"}}",
                       "Validity.Value: expected an integer, got 1.5");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":0,\"Type\":\"DAYS\"}}",
                       "Validity.Value: value 0 is below the minimum 1");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":1e19,\"Type\":\"DAYS\"}}",
                       "Validity.Value: value 1e+19 is above the maximum 9223372036854775807");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"x\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Validity\":[]}",
                       "Validity: expected an object, got list");
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":42,"
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}",
                       "Csr: expected a string or bytes, got number");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"NextToken\":null}",
                       "NextToken: expected a string, got null");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"MaxResults\":true}",
                       "MaxResults: expected an integer, got boolean");
    EXPECT_PARAM_ERROR("UpdateCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"RevocationConfiguration\":"
                       "{\"CrlConfiguration\":{\"Enabled\":1}}}",
                       "RevocationConfiguration.CrlConfiguration.Enabled: expected a boolean, "
                       "got number");

    /* Unknown members, at the top and nested. */
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"Foo\":1}",
                       "Foo: unknown parameter; expected one of: MaxResults, NextToken, "
                       "ResourceOwner");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"maxResults\":10}",
                       "maxResults: unknown parameter; expected one of: MaxResults, NextToken, "
                       "ResourceOwner");
    /* A misspelt required member is reported as unknown first, then as missing. */
    EXPECT_PARAM_ERROR("GetPolicy", "{\"ResourceARN\":\"" ARN "\"}",
                       "ResourceARN: unknown parameter; expected one of: ResourceArn\n"
                       "ResourceArn: missing required parameter");
    EXPECT_PARAM_ERROR("UpdateCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"RevocationConfiguration\":"
                       "{\"CrlConfiguration\":{\"Enabled\":true,\"Bogus\":1}}}",
                       "RevocationConfiguration.CrlConfiguration.Bogus: unknown parameter; "
                       "expected one of: Enabled, ExpirationInDays, CustomCname, S3BucketName, "
                       "S3ObjectAcl, CrlDistributionPointExtensionConfiguration, CrlType, "
                       "CustomPath");

    /* Lengths: blobs in bytes, strings in characters, lists in elements. */
    EXPECT_PARAM_ERROR("IssueCertificate",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Csr\":\"\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\","
                       "\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}",
                       "Csr: length 0 is below the minimum 1");
    EXPECT_PARAM_ERROR("GetPolicy", "{\"ResourceArn\":\"arn\"}",
                       "ResourceArn: length 3 is below the minimum 5");
    EXPECT_PARAM_ERROR("CreateCertificateAuthority",
                       "{\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"RSA_2048\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Subject\":{\"Country\":\"USA\"}},"
                       "\"CertificateAuthorityType\":\"ROOT\"}",
                       "CertificateAuthorityConfiguration.Subject.Country: length 3 is above "
                       "the maximum 2");
    EXPECT_PARAM_ERROR("CreateCertificateAuthority",
                       "{\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"RSA_2048\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Subject\":{\"GivenName\":"
                       "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}},"
                       "\"CertificateAuthorityType\":\"ROOT\"}",
                       "CertificateAuthorityConfiguration.Subject.GivenName: length 17 is above "
                       "the maximum 16");

    /* Number ranges. */
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"MaxResults\":5001}",
                       "MaxResults: value 5001 is above the maximum 1000");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"MaxResults\":0}",
                       "MaxResults: value 0 is below the minimum 1");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "{\"MaxResults\":-3}",
                       "MaxResults: value -3 is below the minimum 1");
    EXPECT_PARAM_ERROR("DeleteCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\","
                       "\"PermanentDeletionTimeInDays\":31}",
                       "PermanentDeletionTimeInDays: value 31 is above the maximum 30");

    /* Lists and their elements. */
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":"
                       "[{\"Key\":\"a\"},{\"Key\":\"b\"},{\"Key\":\"\"}]}",
                       "Tags[2].Key: length 0 is below the minimum 1");
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":"
                       "[{\"Key\":\"a\"},{\"Key\":\"b\"},{\"Value\":\"v\"}]}",
                       "Tags[2].Key: missing required parameter");
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":"
                       "[{\"Key\":\"a\"},\"b\"]}",
                       "Tags[1]: expected an object, got string");
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":"
                       "[{\"Key\":\"a\",\"Colour\":\"red\"}]}",
                       "Tags[0].Colour: unknown parameter; expected one of: Key, Value");
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":[]}",
                       "Tags: length 0 is below the minimum 1");
    EXPECT_PARAM_ERROR("TagCertificateAuthority",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Tags\":{\"Key\":\"a\"}}",
                       "Tags: expected a list, got object");
    n = (size_t)snprintf(tags, sizeof(tags), "{\"CertificateAuthorityArn\":\"" ARN
                         "\",\"Tags\":[");
    for (i = 0; i < 51; i++)
        n += (size_t)snprintf(tags + n, sizeof(tags) - n, "%s{\"Key\":\"k%d\"}", i ? "," : "", i);
    snprintf(tags + n, sizeof(tags) - n, "]}");
    EXPECT_PARAM_ERROR("TagCertificateAuthority", tags, "Tags: length 51 is above the maximum 50");
    EXPECT_PARAM_ERROR("CreatePermission",
                       "{\"CertificateAuthorityArn\":\"" ARN "\",\"Principal\":\"acm.amazonaws.com\","
                       "\"Actions\":[\"IssueCertificate\",7]}",
                       "Actions[1]: expected a string, got number");
    EXPECT_PARAM_ERROR("CreateCertificateAuthority",
                       "{\"CertificateAuthorityConfiguration\":{\"KeyAlgorithm\":\"RSA_2048\","
                       "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Subject\":{\"CustomAttributes\":"
                       "[{\"ObjectIdentifier\":\"1.2.3\",\"Value\":\"x\"},"
                       "{\"ObjectIdentifier\":\"1.2.3\",\"Value\":5}]}},"
                       "\"CertificateAuthorityType\":\"ROOT\"}",
                       "CertificateAuthorityConfiguration.Subject.CustomAttributes[1].Value: "
                       "expected a string, got number");

    /* The input itself. */
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "[]", "input: expected an object");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "\"x\"", "input: expected an object");
    EXPECT_PARAM_ERROR("ListCertificateAuthorities", "null", "input: expected an object");

    /* Too deep, even under a key the model does not know. */
    {
        char deep[256];
        n = (size_t)snprintf(deep, sizeof(deep), "{\"Foo\":");
        for (i = 0; i < 40; i++)
            deep[n++] = '[';
        for (i = 0; i < 40; i++)
            deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        /* The top object is level 1, "Foo" level 2, so level 33 is Foo + 31 x [0]. */
        n = (size_t)snprintf(expected, sizeof(expected), "Foo");
        for (i = 0; i < 31; i++)
            n += (size_t)snprintf(expected + n, sizeof(expected) - n, "[0]");
        snprintf(expected + n, sizeof(expected) - n, ": nesting deeper than 32 levels");
        EXPECT_PARAM_ERROR("ListCertificateAuthorities", deep, expected);
    }

    /* A duplicated key (possible in a cJSON tree). */
    {
        cJSON *in = cJSON_CreateObject();
        char *body = (char *)"untouched";
        cJSON_AddStringToObject(in, "NextToken", "a");
        cJSON_AddStringToObject(in, "NextToken", "b");
        CHECK_INT(acmpca__serialize_input(op_named("ListCertificateAuthorities"), in, &body),
                  ACMPCA_EPARAM);
        CHECK(body == NULL);
        CHECK_STR(acmpca_error_last()->message, "NextToken: duplicate parameter");
        cJSON_Delete(in);
    }

    /* An absurdly long unknown key is cut short in the message. */
    {
        char key[300], json[400];
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        snprintf(json, sizeof(json), "{\"%s\":1}", key);
        snprintf(expected, sizeof(expected),
                 "%.64s...: unknown parameter; expected one of: MaxResults, NextToken, "
                 "ResourceOwner", key);
        EXPECT_PARAM_ERROR("ListCertificateAuthorities", json, expected);
    }

    /* Bad arguments. */
    {
        char *body = (char *)"untouched";
        CHECK_INT(acmpca__serialize_input(NULL, NULL, &body), ACMPCA_EINVAL);
        CHECK(body == NULL);
        CHECK_INT(acmpca__serialize_input(op_named("ListTags"), NULL, NULL), ACMPCA_EINVAL);
    }
}

/* ---- shapes this model lacks: maps, timestamps, plain integers, output blobs */

static const acmpca_shape t_string = {.name = "S", .type = ACMPCA_SHAPE_STRING};
static const acmpca_shape t_key = {.name = "K", .type = ACMPCA_SHAPE_STRING, .has_min = 1,
                                   .has_max = 1, .min = 1, .max = 3};
static const acmpca_shape t_map = {.name = "M", .type = ACMPCA_SHAPE_MAP, .has_max = 1,
                                   .max = 2, .element = &t_string, .key = &t_key};
static const acmpca_shape t_time = {.name = "T", .type = ACMPCA_SHAPE_TIMESTAMP};
static const acmpca_shape t_int = {.name = "I", .type = ACMPCA_SHAPE_INTEGER};
static const acmpca_shape t_blob = {.name = "B", .type = ACMPCA_SHAPE_BLOB};
static const acmpca_shape t_blobs = {.name = "BL", .type = ACMPCA_SHAPE_LIST,
                                     .element = &t_blob};
static const acmpca_member t_members[] = {
    {"Map", &t_map, 0, 0},
    {"When", &t_time, 0, 0},
    {"Count", &t_int, 0, 0},
    {"Data", &t_blob, 0, 0},
    {"Datas", &t_blobs, 0, 0},
};
static const acmpca_shape t_struct = {.name = "X", .type = ACMPCA_SHAPE_STRUCTURE,
                                      .members = t_members, .member_count = 5};
static const acmpca_shape t_empty = {.name = "E", .type = ACMPCA_SHAPE_STRUCTURE};
static const acmpca_operation_info t_op = {.id = 0, .name = "Test", .snake_name = "test",
                                           .input = &t_struct, .output = &t_struct};
static const acmpca_operation_info t_empty_op = {.id = 0, .name = "Empty", .snake_name = "empty",
                                                 .input = &t_empty, .output = NULL};

static int t_serialize(const acmpca_operation_info *op, const char *json, char **body)
{
    cJSON *in = cJSON_Parse(json);
    int rc;
    REQUIRE(in != NULL);
    *body = NULL;
    rc = acmpca__serialize_input(op, in, body);
    cJSON_Delete(in);
    return rc;
}

static void test_generic_shapes(void)
{
    char *body = NULL;
    cJSON *out;

    CHECK_INT(t_serialize(&t_op, "{\"Map\":{\"a\":\"x\",\"bcd\":\"y\"},\"When\":1700000000.5,"
                          "\"Count\":-2147483648}", &body), 0);
    CHECK_STR(body, "{\"Map\":{\"a\":\"x\",\"bcd\":\"y\"},\"When\":1700000000.5,"
              "\"Count\":-2147483648}");
    free(body);

    CHECK_INT(t_serialize(&t_op, "{\"Map\":{\"a\":1}}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Map.a: expected a string, got number");
    CHECK_INT(t_serialize(&t_op, "{\"Map\":{\"\":\"x\"}}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Map.: key length 0 is below the minimum 1");
    CHECK_INT(t_serialize(&t_op, "{\"Map\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}", &body),
              ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Map: number of entries 3 is above the maximum 2");
    CHECK_INT(t_serialize(&t_op, "{\"Map\":[]}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Map: expected an object, got list");
    CHECK_INT(t_serialize(&t_op, "{\"When\":\"yesterday\"}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message,
              "When: expected a timestamp (seconds since the epoch, ISO-8601 text or a "
              "date/time), got \"yesterday\"");
    CHECK_INT(t_serialize(&t_op, "{\"Count\":2147483648}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message,
              "Count: value 2147483648 is above the maximum 2147483647");
    CHECK_INT(t_serialize(&t_empty_op, "{\"A\":1}", &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "A: unknown parameter; expected no parameters");
    CHECK_INT(t_serialize(&t_empty_op, "{}", &body), 0);
    CHECK_STR(body, "{}");
    free(body);

    /* Output: blobs decoded to text in place, everything else kept. */
    out = cJSON_Parse("{\"Data\":\"aGVsbG8gd29ybGQ=\",\"Datas\":[\"YQ==\",\"YWI\",\"\"],"
                      "\"Extra\":{\"Data\":\"AAAA\"},\"Count\":3}");
    REQUIRE(out != NULL);
    CHECK_INT(acmpca__deserialize_output(&t_op, out), 0);
    body = cJSON_PrintUnformatted(out);
    CHECK_STR(body, "{\"Data\":\"hello world\",\"Datas\":[\"a\",\"ab\",\"\"],"
              "\"Extra\":{\"Data\":\"AAAA\"},\"Count\":3}");
    cJSON_free(body);
    cJSON_Delete(out);

    out = cJSON_Parse("{\"Datas\":[\"YQ==\",\"not base64!\"]}");
    CHECK_INT(acmpca__deserialize_output(&t_op, out), ACMPCA_EBADRESPONSE);
    CHECK_STR(acmpca_error_last()->message, "Datas[1]: blob member is not valid base64");
    cJSON_Delete(out);
    out = cJSON_Parse("{\"Data\":\"AAAA\"}");  /* three NUL bytes */
    CHECK_INT(acmpca__deserialize_output(&t_op, out), ACMPCA_EBADRESPONSE);
    CHECK_STR(acmpca_error_last()->message, "Data: blob member holds binary data, not text");
    cJSON_Delete(out);

    /* Real operations: nothing to touch, unknown members kept. */
    out = cJSON_Parse("{\"Certificate\":\"-----BEGIN CERTIFICATE-----\",\"New\":1}");
    CHECK_INT(acmpca__deserialize_output(op_named("GetCertificate"), out), 0);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(out, "Certificate")->valuestring,
              "-----BEGIN CERTIFICATE-----");
    CHECK(cJSON_GetObjectItemCaseSensitive(out, "New") != NULL);
    cJSON_Delete(out);
    CHECK_INT(acmpca__deserialize_output(op_named("CreatePermission"), NULL), 0);
    CHECK_INT(acmpca__deserialize_output(NULL, NULL), ACMPCA_EINVAL);
}

/* ---- host values tagged by a binding (acmpca/model.h) ----------------------- */

/* Serialize {name: v} (v is consumed) for operation `op`. */
static int t_tagged(const acmpca_operation_info *op, const char *name, cJSON *v, char **body)
{
    cJSON *in = cJSON_CreateObject();
    int rc;
    REQUIRE(in != NULL && v != NULL);
    cJSON_AddItemToObject(in, name, v);
    *body = NULL;
    rc = acmpca__serialize_input(op, in, body);
    cJSON_Delete(in);
    return rc;
}

static cJSON *t_tag(cJSON *v, int tag)
{
    REQUIRE(v != NULL);
    v->type |= tag;
    return v;
}

static void test_value__bytes_to_a_string_member_is_refused_naming_it(void)
{
    char *body = NULL;
    CHECK_INT(t_tagged(op_named("GetPolicy"), "ResourceArn",
                       t_tag(cJSON_CreateString("arn:aws:x"), ACMPCA_TAG_BLOB), &body),
              ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "ResourceArn: expected a string, got bytes");
    CHECK(body == NULL);
}

static void test_value__bytes_and_text_are_both_taken_for_a_blob(void)
{
    char *body = NULL;
    CHECK_INT(t_tagged(&t_op, "Data", t_tag(cJSON_CreateString("hi"), ACMPCA_TAG_BLOB), &body),
              0);
    CHECK_STR(body, "{\"Data\":\"aGk=\"}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "Data", cJSON_CreateString("hi"), &body), 0);
    CHECK_STR(body, "{\"Data\":\"aGk=\"}");
    free(body);
}

static void test_value__timestamp_takes_a_date_time_a_number_or_iso_text(void)
{
    char *body = NULL;
    CHECK_INT(t_tagged(&t_op, "When", t_tag(cJSON_CreateNumber(1893456000), ACMPCA_TAG_TIMESTAMP),
                       &body), 0);
    CHECK_STR(body, "{\"When\":1893456000}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateNumber(1893456000.5), &body), 0);
    CHECK_STR(body, "{\"When\":1893456000.5}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateString("2030-01-01T00:00:00Z"), &body), 0);
    CHECK_STR(body, "{\"When\":1893456000}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateString("2030-01-01T02:00:00.25+02:00"), &body),
              0);
    CHECK_STR(body, "{\"When\":1893456000.25}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateString("2030-01-01"), &body), 0);
    CHECK_STR(body, "{\"When\":1893456000}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateString("1893456000"), &body), 0);
    CHECK_STR(body, "{\"When\":1893456000}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "When", cJSON_CreateString("2030-13-01"), &body), ACMPCA_EPARAM);
    CHECK(strstr(acmpca_error_last()->message, "When: expected a timestamp") != NULL);
}

static void test_value__date_time_to_another_member_is_refused_naming_it(void)
{
    char *body = NULL;
    CHECK_INT(t_tagged(&t_op, "Count", t_tag(cJSON_CreateNumber(5), ACMPCA_TAG_TIMESTAMP), &body),
              ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Count: expected an integer, got a date/time");
}

static void test_value__unsupported_host_value_is_refused_with_its_description(void)
{
    char *body = NULL;
    cJSON *tags = cJSON_CreateArray(), *tag = cJSON_CreateObject();
    REQUIRE(tags && tag);
    cJSON_AddItemToArray(tags, tag);
    cJSON_AddStringToObject(tag, "Key", "k");
    cJSON_AddItemToObject(tag, "Value", t_tag(cJSON_CreateString("set"), ACMPCA_TAG_INVALID));
    CHECK_INT(t_tagged(op_named("ListTags"), "Tags", tags, &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Tags: unknown parameter; expected one of: "
              "MaxResults, NextToken, CertificateAuthorityArn\n"
              "CertificateAuthorityArn: missing required parameter");
    tags = cJSON_CreateArray();
    tag = cJSON_CreateObject();
    REQUIRE(tags && tag);
    cJSON_AddItemToArray(tags, tag);
    cJSON_AddStringToObject(tag, "Key", "k");
    cJSON_AddItemToObject(tag, "Value", t_tag(cJSON_CreateString("set"), ACMPCA_TAG_INVALID));
    {
        cJSON *in = cJSON_CreateObject();
        REQUIRE(in != NULL);
        cJSON_AddStringToObject(in, "CertificateAuthorityArn", ARN);
        cJSON_AddItemToObject(in, "Tags", tags);
        CHECK_INT(acmpca__serialize_input(op_named("TagCertificateAuthority"), in, &body),
                  ACMPCA_EPARAM);
        CHECK_STR(acmpca_error_last()->message, "Tags[0].Value: expected a string, got set");
        cJSON_Delete(in);
    }
}

static void test_value__empty_ambiguous_container_is_a_list_or_an_object(void)
{
    char *body = NULL;
    CHECK_INT(t_tagged(&t_op, "Datas", t_tag(cJSON_CreateObject(), ACMPCA_TAG_EMPTY), &body), 0);
    CHECK_STR(body, "{\"Datas\":[]}");
    free(body);
    CHECK_INT(t_tagged(&t_op, "Datas", cJSON_CreateObject(), &body), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Datas: expected a list, got object");
}

static void test_validate__every_problem_is_listed_up_to_twenty(void)
{
    char json[2048], *body = NULL;
    const char *m, *nl;
    size_t n = 0, lines = 1;
    int i;

    /* Problems at every level, in walk order: one line each. */
    CHECK_INT(t_serialize(op_named("TagCertificateAuthority"),
                          "{\"Tags\":[{\"Key\":1},{\"Value\":\"v\"}],\"Nope\":1}", &body),
              ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message,
              "Tags[0].Key: expected a string, got number\n"
              "Tags[1].Key: missing required parameter\n"
              "Nope: unknown parameter; expected one of: CertificateAuthorityArn, Tags\n"
              "CertificateAuthorityArn: missing required parameter");
    /* 30 wrong elements: the first 20 are listed. */
    n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"CertificateAuthorityArn\":\"" ARN
                          "\",\"Tags\":[");
    for (i = 0; i < 30; i++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "%s1", i ? "," : "");
    snprintf(json + n, sizeof(json) - n, "]}");
    CHECK_INT(t_serialize(op_named("TagCertificateAuthority"), json, &body), ACMPCA_EPARAM);
    m = acmpca_error_last()->message;
    for (nl = m; (nl = strchr(nl, '\n')); nl++)
        lines++;
    CHECK_INT((int)lines, 20);
    CHECK(strncmp(m, "Tags[0]: expected an object, got number\n", 40) == 0);
    CHECK(strstr(m, "Tags[19]: expected an object, got number") != NULL);
    CHECK(strstr(m, "Tags[20]") == NULL);
}

static void test_value__outputs_are_tagged_and_validated(void)
{
    cJSON *out = cJSON_Parse("{\"Data\":\"aGk=\",\"When\":1893456000,\"Count\":1}");
    REQUIRE(out != NULL);
    CHECK_INT(acmpca__deserialize_output(&t_op, out), 0);
    CHECK(cJSON_GetObjectItem(out, "Data")->type & ACMPCA_TAG_BLOB);
    CHECK(cJSON_GetObjectItem(out, "When")->type & ACMPCA_TAG_TIMESTAMP);
    CHECK(!(cJSON_GetObjectItem(out, "Count")->type & (ACMPCA_TAG_TIMESTAMP | ACMPCA_TAG_BLOB)));
    CHECK_INT(acmpca_output_validate(&t_op, out), 0);
    cJSON_Delete(out);
    out = cJSON_Parse("{\"Policy\":1}");
    REQUIRE(out != NULL);
    CHECK_INT(acmpca_output_validate(op_named("GetPolicy"), out), ACMPCA_EPARAM);
    CHECK_STR(acmpca_error_last()->message, "Policy: expected a string, got number");
    cJSON_Delete(out);
    out = cJSON_Parse("{\"Extra\":1}");
    REQUIRE(out != NULL);
    CHECK_INT(acmpca_output_validate(op_named("DeletePolicy"), out), ACMPCA_EPARAM);
    CHECK_INT(acmpca_output_validate(op_named("DeletePolicy"), NULL), 0);
    cJSON_Delete(out);
}

int main(void)
{
    test_operations();
    test_issue_certificate_shape();
    test_errors();
    test_type_names();
    test_model__waiters_are_those_of_waiters_json();
    test_model__paginators_are_those_of_paginators_json();
    test_model__default_quotas_are_those_of_quotas_json();
    test_waiter__error_acceptor_false_succeeds_on_a_successful_call();
    test_waiter__error_acceptor_retries_on_its_aws_code();
    test_waiter__error_failure_acceptor_keeps_the_service_detail();
    test_waiter__path_acceptors_compare_the_output_member();
    test_waiter__success_no_acceptor_matches_retries();
    test_waiter__error_no_acceptor_expects_is_unexpected_and_untouched();
    test_waiter__audit_report_created_does_not_retry_request_in_progress();
    test_serialize_issue_certificate();
    test_serialize_valid_cases();
    test_serialize__every_escape_at_every_position();
    test_serialize_errors();
    test_generic_shapes();
    test_value__bytes_to_a_string_member_is_refused_naming_it();
    test_value__bytes_and_text_are_both_taken_for_a_blob();
    test_value__timestamp_takes_a_date_time_a_number_or_iso_text();
    test_value__date_time_to_another_member_is_refused_naming_it();
    test_value__unsupported_host_value_is_refused_with_its_description();
    test_value__empty_ambiguous_container_is_a_list_or_an_object();
    test_value__outputs_are_tagged_and_validated();
    test_validate__every_problem_is_listed_up_to_twenty();
    return CHECK_DONE();
}
