/*
 * test_fixture.c - what moto lacks, against tests/fixtures/fixture_server.py
 * on loopback: audit reports (and their waiter), permissions (and their
 * paginator), RestoreCertificateAuthority, the RequestInProgress -> success
 * waiter path, every shape of error body the service or a proxy sends, and the
 * client-side per-operation rate limiter (the server counts what arrives in
 * any one-second window; slowness can only lower that count).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acmpca.h"
#include "check.h"
#include "fault_control.h"
#include "internal.h"

#define CA "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
#define CERT "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/ca/certificate/"

static acmpca_client *client;

static int run(const char *op, const char *json, cJSON **out)
{
    cJSON *in = cJSON_Parse(json);
    int rc;
    REQUIRE(in != NULL);
    *out = NULL;
    rc = acmpca_call(client, op, in, out);
    cJSON_Delete(in);
    return rc;
}

static const char *str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}


/* An acmpca_wait_progress_fn that records its calls; stops the waiter at `stop_at`. */
typedef struct progress_log {
    int calls, last_attempt, stop_at;
    double last_delay;
} progress_log;

static int record_progress(void *userdata, const char *waiter, int attempt, double delay_s)
{
    progress_log *log = userdata;
    CHECK_STR(waiter, "AuditReportCreated");
    log->calls++;
    log->last_attempt = attempt;
    log->last_delay = delay_s;
    return log->stop_at && attempt >= log->stop_at;
}

/*
 * A new audit report of the CA named CA `ca` (`format` JSON or CSV): the
 * waiter's input for it (caller deletes).
 */
static cJSON *new_audit_report(const char *ca, const char *format)
{
    cJSON *out = NULL, *in;
    char buf[512];

    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"" CA "%s\",\"S3BucketName\":"
             "\"bucket\",\"AuditReportResponseFormat\":\"%s\"}", ca, format);
    CHECK_INT(run("CreateCertificateAuthorityAuditReport", buf, &out), 0);
    REQUIRE(str(out, "AuditReportId"));
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"" CA "%s\",\"AuditReportId\":"
             "\"%s\"}", ca, str(out, "AuditReportId"));
    cJSON_Delete(out);
    REQUIRE((in = cJSON_Parse(buf)) != NULL);
    return in;
}

static void audit_reports(void)
{
    cJSON *out = NULL, *in, *last = NULL;
    char buf[512];

    CHECK_INT(run("CreateCertificateAuthorityAuditReport",
                  "{\"CertificateAuthorityArn\":\"" CA "a1\",\"S3BucketName\":\"bucket\","
                  "\"AuditReportResponseFormat\":\"JSON\"}", &out), 0);
    REQUIRE(str(out, "AuditReportId"));
    CHECK_STR(str(out, "S3BucketName"), "bucket");
    CHECK_CONTAINS(str(out, "S3Key"), "audit-report/a1/");
    snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"" CA "a1\",\"AuditReportId\":\"%s\"}",
             str(out, "AuditReportId"));
    cJSON_Delete(out);

    /* The fixture answers IN_PROGRESS twice, then SUCCESS: two pauses, each told first. */
    in = cJSON_Parse(buf);
    {
        progress_log log = {0, 0, 0, 0};
        CHECK_INT(acmpca_wait_ex(client, "AuditReportCreated", in, 0.05, 5, &last,
                                 record_progress, &log), 0);
        CHECK_INT(log.calls, 2);
        CHECK_INT(log.last_attempt, 2);
        CHECK(log.last_delay > 0.049 && log.last_delay < 0.051);
    }
    CHECK_STR(str(last, "AuditReportStatus"), "SUCCESS");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(last, "CreatedAt")));
    cJSON_Delete(last);
    cJSON_Delete(in);

    /* A report that ends FAILED stops the waiter with a failure. */
    in = new_audit_report("failing-audit", "CSV");
    CHECK_INT(acmpca_wait(client, "audit_report_created", in, 0.05, 10, NULL), ACMPCA_EWAITER);
    CHECK_CONTAINS(acmpca_error_last()->message, "FAILED");
    cJSON_Delete(in);

    /* Giving up after the allowed attempts. */
    in = new_audit_report("a2", "JSON");
    CHECK_INT(acmpca_wait(client, "AuditReportCreated", in, 0.01, 2, NULL), ACMPCA_EWAITER);
    CHECK_STR(acmpca_error_last()->message, "waiter AuditReportCreated gave up after 2 attempts");
    cJSON_Delete(in);

    /* A progress callback that says stop ends the wait at once: ACMPCA_ECANCELLED. */
    in = new_audit_report("a3", "JSON");
    {
        progress_log log = {0, 0, 1, 0};
        CHECK_INT(acmpca_wait_ex(client, "AuditReportCreated", in, 0.01, 5, NULL,
                                 record_progress, &log), ACMPCA_ECANCELLED);
        CHECK_INT(log.calls, 1);
        CHECK_STR(acmpca_error_last()->waiter, "AuditReportCreated");
        CHECK_STR(acmpca_error_last()->waiter_state, "cancelled");
    }
    cJSON_Delete(in);
}

static void permissions(void)
{
    static const char *principals[] = {"acm.amazonaws.com", "a.example.com", "b.example.com"};
    acmpca_paginator *p = NULL;
    cJSON *out = NULL, *page = NULL, *in;
    char buf[512];
    int i, rc, pages = 0, items = 0;

    for (i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "{\"CertificateAuthorityArn\":\"" CA "p1\",\"Principal\":\"%s\","
                 "\"Actions\":[\"IssueCertificate\",\"GetCertificate\",\"ListPermissions\"]}",
                 principals[i]);
        CHECK_INT(run("CreatePermission", buf, &out), 0);
        CHECK(cJSON_IsObject(out) && cJSON_GetArraySize(out) == 0);
        cJSON_Delete(out);
    }
    CHECK_INT(run("CreatePermission", buf, &out), ACMPCA_E_PERMISSION_ALREADY_EXISTS);
    CHECK_STR(acmpca_error_last()->aws_code, "PermissionAlreadyExistsException");
    CHECK_INT(acmpca_error_last()->http_status, 400);
    CHECK(acmpca_error_last()->request_id[0] != '\0');

    /* Two per page: two pages, three permissions. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "p1\"}");
    REQUIRE(acmpca_paginator_new(&p, client, "list_permissions", in, 2, 0, NULL) == 0);
    for (;;) {
        acmpca_response_meta *meta = NULL;
        if ((rc = acmpca_paginator_next_ex(p, &page, &meta)) != 0 || !page) {
            acmpca_response_meta_free(meta);
            break;
        }
        /* Each page comes with its own answer's metadata. */
        REQUIRE(meta != NULL);
        CHECK_INT(meta->http_status, 200);
        CHECK(meta->request_id[0] != '\0');
        acmpca_response_meta_free(meta);
        pages++;
        items += cJSON_GetArraySize(cJSON_GetObjectItem(page, "Permissions"));
        cJSON_Delete(page);
    }
    CHECK_INT(rc, 0);
    CHECK_INT(pages, 2);
    CHECK_INT(items, 3);
    acmpca_paginator_free(p);

    /* MaxItems 1 with page size 2 stops mid-page and gives a resume token. */
    REQUIRE(acmpca_paginator_new(&p, client, "ListPermissions", in, 2, 1, NULL) == 0);
    CHECK_INT(acmpca_paginator_next(p, &page), 0);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(page, "Permissions")), 1);
    cJSON_Delete(page);
    CHECK_INT(acmpca_paginator_next(p, &page), 0);
    CHECK(page == NULL);
    REQUIRE(acmpca_paginator_resume_token(p) != NULL);
    /* botocore's own text: base64 of {"NextToken": null, "boto_truncate_amount": 1}. */
    CHECK_STR(acmpca_paginator_resume_token(p),
              "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ==");
    snprintf(buf, sizeof(buf), "%s", acmpca_paginator_resume_token(p));
    acmpca_paginator_free(p);
    /* Resuming from it yields the other two. */
    REQUIRE(acmpca_paginator_new(&p, client, "ListPermissions", in, 2, 0, buf) == 0);
    items = 0;
    while (acmpca_paginator_next(p, &page) == 0 && page) {
        cJSON *perms = cJSON_GetObjectItem(page, "Permissions"), *perm;
        cJSON_ArrayForEach(perm, perms) {
            CHECK(strcmp(str(perm, "Principal"), principals[0]) != 0);
            items++;
        }
        cJSON_Delete(page);
    }
    CHECK_INT(items, 2);
    acmpca_paginator_free(p);
    cJSON_Delete(in);

    CHECK_INT(run("DeletePermission", "{\"CertificateAuthorityArn\":\"" CA "p1\","
                  "\"Principal\":\"a.example.com\"}", &out), 0);
    cJSON_Delete(out);
    CHECK_INT(run("DeletePermission", "{\"CertificateAuthorityArn\":\"" CA "p1\","
                  "\"Principal\":\"a.example.com\"}", &out), ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_INT(run("ListPermissions", "{\"CertificateAuthorityArn\":\"" CA "p1\"}", &out), 0);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Permissions")), 2);
    cJSON_Delete(out);
}

static void restore(void)
{
    cJSON *out = NULL;
    CHECK_INT(run("RestoreCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "r1\"}", &out),
              0);
    CHECK(cJSON_IsObject(out) && cJSON_GetArraySize(out) == 0);
    cJSON_Delete(out);
    CHECK_INT(run("RestoreCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "active\"}",
                  &out), ACMPCA_E_INVALID_STATE);
    CHECK_STR(acmpca_error_last()->operation, "RestoreCertificateAuthority");
    CHECK_INT(run("RestoreCertificateAuthority", "{\"CertificateAuthorityArn\":\"not-an-arn\"}", &out),
              ACMPCA_E_INVALID_ARN);
}

static void certificate_waiter(void)
{
    cJSON *in, *last = NULL;

    /* RequestInProgressException twice, then the certificate. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "ca\",\"CertificateArn\":\"" CERT
                     "in-progress-2\"}");
    CHECK_INT(acmpca_wait(client, "CertificateIssued", in, 0.05, 5, &last), 0);
    CHECK_CONTAINS(str(last, "Certificate"), "BEGIN CERTIFICATE");
    cJSON_Delete(last);
    cJSON_Delete(in);

    /* More in-progress answers than attempts. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "ca\",\"CertificateArn\":\"" CERT
                     "in-progress-9\"}");
    CHECK_INT(acmpca_wait(client, "certificate_issued", in, 0.01, 3, NULL), ACMPCA_EWAITER);
    CHECK_CONTAINS(acmpca_error_last()->message, "gave up after 3 attempts");
    cJSON_Delete(in);

    /* AccessDenied is a failure state: no more attempts. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "ca\",\"CertificateArn\":\"" CERT
                     "access-denied\"}");
    CHECK_INT(acmpca_wait(client, "CertificateIssued", in, 0.01, 3, NULL), ACMPCA_EWAITER);
    CHECK_CONTAINS(acmpca_error_last()->message, "AccessDeniedException");
    CHECK_INT(acmpca_error_last()->http_status, 400);
    cJSON_Delete(in);

    /* An error no acceptor expects is returned as itself, at once. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "ca\",\"CertificateArn\":\"" CERT
                     "unknown\"}");
    CHECK_INT(acmpca_wait(client, "CertificateIssued", in, 0.01, 3, NULL),
              ACMPCA_E_RESOURCE_NOT_FOUND);
    cJSON_Delete(in);
}

static void error_bodies(void)
{
    cJSON *out = NULL;
    const acmpca_error *e = acmpca_error_last();

    CHECK_INT(run("DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "html-500\"}",
                  &out), ACMPCA_ESERVICE);
    CHECK_INT(e->http_status, 500);
    CHECK_STR(e->aws_code, "500");
    CHECK_CONTAINS(e->message, "500 Internal Server Error");
    CHECK_INT(e->retryable, 1);

    CHECK_INT(run("DescribeCertificateAuthority",
                  "{\"CertificateAuthorityArn\":\"" CA "header-only\"}", &out),
              ACMPCA_E_INVALID_ARN);
    CHECK_STR(e->aws_code, "InvalidArnException");
    CHECK_INT(e->retryable, 0);

    CHECK_INT(run("DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "prefixed\"}",
                  &out), ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_STR(e->aws_code, "ResourceNotFoundException");
    CHECK_STR(e->message, "gone");

    CHECK_INT(run("DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "xml-403\"}",
                  &out), ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "SignatureDoesNotMatch");
    CHECK_STR(e->message, "bad signature");
    CHECK_INT(e->http_status, 403);

    CHECK_INT(run("DescribeCertificateAuthority", "{\"CertificateAuthorityArn\":\"" CA "bad-json\"}",
                  &out), ACMPCA_EBADRESPONSE);
    CHECK_INT(e->http_status, 200);
    CHECK_CONTAINS(e->message, "not valid JSON");

    /* InvalidStateException is not in DescribeCertificateAuthority's model. */
    CHECK_INT(run("DescribeCertificateAuthority",
                  "{\"CertificateAuthorityArn\":\"" CA "unmodelled\"}", &out), ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "InvalidStateException");
    CHECK(out == NULL);
}

typedef struct issuer {
    pthread_t thread;
    acmpca_client *client;
    int calls, failures;
} issuer;

static void *issue_loop(void *arg)
{
    issuer *w = arg;
    cJSON *in = cJSON_Parse("{\"CertificateAuthorityArn\":\"" CA "rl\",\"Csr\":\"-----BEGIN "
                            "CERTIFICATE REQUEST-----\",\"SigningAlgorithm\":\"SHA256WITHRSA\","
                            "\"Validity\":{\"Value\":1,\"Type\":\"DAYS\"}}"), *out = NULL;
    int i;
    for (i = 0; i < w->calls; i++) {
        if (acmpca_issue_certificate(w->client, in, &out) != 0)
            w->failures++;
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
    return NULL;
}

static void rate_limiter(void)
{
    static const acmpca_rate_limit limits[] = {{"issue_certificate", 5}};
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *limited = NULL;
    issuer w[3];
    cJSON *stats;
    int i;

    o.rate_limits = limits;
    o.rate_limit_count = 1;
    o.max_attempts = 1;
    REQUIRE(acmpca_client_new(&limited, &o) == 0);
    cJSON_Delete(fixture_stats(1));
    for (i = 0; i < 3; i++) {
        w[i].client = limited;
        w[i].calls = 4;
        w[i].failures = 0;
        REQUIRE(pthread_create(&w[i].thread, NULL, issue_loop, &w[i]) == 0);
    }
    for (i = 0; i < 3; i++) {
        pthread_join(w[i].thread, NULL);
        CHECK_INT(w[i].failures, 0);
    }
    stats = fixture_stats(0);
    CHECK_INT(cJSON_GetObjectItem(stats, "issued")->valueint, 12);
    CHECK_INT(cJSON_GetObjectItem(stats, "throttled")->valueint, 0);
    /* Sends are 200 ms apart; arrivals can bunch by at most the spread of network
     * latency, so one extra request may land in a one-second window. */
    CHECK(cJSON_GetObjectItem(stats, "max_per_second")->valueint <= 6);
    cJSON_Delete(stats);
    acmpca_client_free(limited);

    /* Bad overrides are refused when the client is made. */
    {
        static const acmpca_rate_limit bad[] = {{"IssueCertificates", 5}};
        o.rate_limits = bad;
        CHECK_INT(acmpca_client_new(&limited, &o), ACMPCA_EINVAL);
        CHECK_CONTAINS(acmpca_error_last()->message, "rate_limits[0].operation");
    }
}

int main(void)
{
    REQUIRE(acmpca_global_init() == 0);
    REQUIRE(acmpca_client_new(&client, NULL) == 0);
    audit_reports();
    permissions();
    restore();
    certificate_waiter();
    error_bodies();
    rate_limiter();
    acmpca_client_free(client);
    acmpca_global_cleanup();
    return CHECK_DONE();
}
