/*
 * test_secrets.c - whatever a user can see (every debug log line, every error
 * field, the signer's intermediate strings) never holds the secret key or the
 * session token, on success, on service errors, on validation errors and on
 * credential errors. Runs against a local moto server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acmpca.h"
#include "check.h"
#include "internal.h"

#define SECRET "Sup3rSecretKeyValue/ShouldNeverLeak+0123456789"
#define TOKEN "SessionTokenThatMustStayHidden=="

static acmpca_buf seen; /* everything observable, concatenated */
static int log_lines;

static void on_log(void *userdata, const char *line)
{
    (void)userdata;
    log_lines++;
    acmpca__buf_puts(&seen, line);
    acmpca__buf_puts(&seen, "\n");
}

static void observe_error(void)
{
    const acmpca_error *e = acmpca_error_last();
    acmpca__buf_printf(&seen, "%s|%s|%s|%s|%s\n", acmpca_strerror(e->code), e->aws_code,
                       e->message, e->request_id, e->operation);
}

static void calls(acmpca_client *c)
{
    cJSON *out = NULL, *in;
    acmpca_http_request *req = NULL;
    size_t i;
    int token_sent = 0;

    CHECK_INT(acmpca_call(c, "ListCertificateAuthorities", NULL, &out), 0);
    cJSON_Delete(out);
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:us-east-1:123456789012:"
                     "certificate-authority/00000000-0000-0000-0000-000000000000\"}");
    CHECK_INT(acmpca_call(c, "DescribeCertificateAuthority", in, &out), ACMPCA_E_RESOURCE_NOT_FOUND);
    observe_error();
    CHECK_INT(acmpca_call(c, "GetPolicy", in, &out), ACMPCA_EPARAM);
    observe_error();

    /* The token is sent (it must be), but only on the wire. */
    CHECK_INT(acmpca_client_build_request(c, "DescribeCertificateAuthority", in, &req), 0);
    for (i = 0; req && i < req->header_count; i++) {
        if (strcmp(req->headers[i].name, "X-Amz-Security-Token") == 0)
            token_sent = strcmp(req->headers[i].value, TOKEN) == 0;
        else
            acmpca__buf_printf(&seen, "%s: %s\n", req->headers[i].name, req->headers[i].value);
    }
    CHECK(token_sent);
    acmpca_http_request_free(req);
    cJSON_Delete(in);
}

int main(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    acmpca_signed *sig = NULL;
    acmpca_sign_input si;

    REQUIRE(acmpca_global_init() == 0);
    o.access_key_id = "AKIDSECRETSTEST";
    o.secret_access_key = SECRET;
    o.session_token = TOKEN;
    o.log_fn = on_log;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    calls(c);
    CHECK(log_lines >= 4);
    CHECK_CONTAINS(seen.ptr, "X-Amz-Security-Token: <redacted>");
    CHECK_CONTAINS(seen.ptr, "Authorization: <redacted>");
    acmpca_client_free(c);

    /* The public signer's outputs. */
    memset(&si, 0, sizeof(si));
    si.method = "POST";
    si.url = "https://acm-pca.us-east-1.amazonaws.com/";
    si.region = "us-east-1";
    si.service = "acm-pca";
    si.access_key_id = "AKIDSECRETSTEST";
    si.secret_access_key = SECRET;
    si.session_token = TOKEN;
    si.timestamp = 1700000000;
    si.flags = ACMPCA_SIGN_UNSIGNED_TOKEN;
    REQUIRE(acmpca_sign(&sig, &si, NULL) == 0);
    acmpca__buf_printf(&seen, "%s\n%s\n%s\n", sig->canonical_request, sig->string_to_sign,
                       sig->signature);
    acmpca_signed_free(sig);

    /* Half a key pair: the error names what is missing, not what was given. */
    o.secret_access_key = NULL;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    observe_error();
    /* Only half of the pair in the environment: no credentials, and a message saying why. */
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    o.access_key_id = NULL;
    o.session_token = NULL;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    {
        cJSON *out = NULL;
        CHECK_INT(acmpca_call(c, "ListCertificateAuthorities", NULL, &out), ACMPCA_ENOCREDENTIALS);
        CHECK_CONTAINS(acmpca_error_last()->message, "AWS_ACCESS_KEY_ID");
        observe_error();
    }
    acmpca_client_free(c);

    CHECK(strstr(seen.ptr, SECRET) == NULL);
    CHECK(strstr(seen.ptr, TOKEN) == NULL);
    CHECK(strstr(seen.ptr, "Sup3rSecret") == NULL);
    acmpca__buf_free(&seen);
    acmpca_global_cleanup();
    return CHECK_DONE();
}
