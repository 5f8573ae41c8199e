/*
 * test_errors.c - turning responses into results or typed errors
 * (acmpca_parse_response, no server needed), and the client-side errors a
 * user meets before or instead of a response: bad input rejected before any
 * I/O, a refused connection, bad options, unknown operations.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acmpca.h"
#include "check.h"

static int parse(const char *op, int status, const acmpca_header *h, size_t n, const char *body,
                 cJSON **out)
{
    return acmpca_parse_response(op, status, h, n, body, strlen(body), out);
}

static void success_bodies(void)
{
    cJSON *out = NULL;
    acmpca_header ct = {"Content-Type", "text/html"};

    /* Empty body and {} both give an empty object, whatever the content type. */
    CHECK_INT(parse("DeletePolicy", 200, &ct, 1, "", &out), 0);
    CHECK(cJSON_IsObject(out) && cJSON_GetArraySize(out) == 0);
    cJSON_Delete(out);
    CHECK_INT(parse("TagCertificateAuthority", 200, NULL, 0, "{}", &out), 0);
    CHECK(cJSON_IsObject(out) && cJSON_GetArraySize(out) == 0);
    cJSON_Delete(out);

    /* JSON null members are dropped, as botocore does (moto's NextToken: null). */
    CHECK_INT(parse("ListCertificateAuthorities", 200, &ct, 1,
                    "{\"CertificateAuthorities\":[],\"NextToken\":null}", &out), 0);
    CHECK(cJSON_GetObjectItem(out, "NextToken") == NULL);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(out, "CertificateAuthorities")));
    cJSON_Delete(out);

    CHECK_INT(parse("GetCertificate", 200, NULL, 0, "{\"Certificate\": ", &out),
              ACMPCA_EBADRESPONSE);
    CHECK_CONTAINS(acmpca_error_last()->message, "not valid JSON");
    CHECK_INT(acmpca_error_last()->http_status, 200);
    CHECK(out == NULL);
    CHECK_INT(parse("GetCertificate", 200, NULL, 0, "[1,2]", &out), ACMPCA_EBADRESPONSE);
    CHECK_CONTAINS(acmpca_error_last()->message, "not an object");
}

static void error_bodies(void)
{
    cJSON *out = NULL;
    const acmpca_error *e = acmpca_error_last();
    acmpca_header h[2] = {{"X-Amzn-RequestId", "rid-123"},
                          {"x-amzn-errortype", "ResourceNotFoundException:http://internal/"}};

    /* The header names the error; the body's message is used. */
    CHECK_INT(parse("GetCertificate", 400, h, 2, "{\"message\":\"no such cert\"}", &out),
              ACMPCA_E_RESOURCE_NOT_FOUND);
    CHECK_STR(e->aws_code, "ResourceNotFoundException");
    CHECK_STR(e->message, "no such cert");
    CHECK_STR(e->request_id, "rid-123");
    CHECK_STR(e->operation, "GetCertificate");
    CHECK_INT(e->http_status, 400);
    CHECK_INT(e->retryable, 0);

    /* The header wins over __type. */
    CHECK_INT(parse("GetCertificate", 400, h, 2, "{\"__type\":\"InvalidArnException\"}", &out),
              ACMPCA_E_RESOURCE_NOT_FOUND);

    /* __type with a namespace prefix, Message with a capital M. */
    CHECK_INT(parse("IssueCertificate", 400, h, 1,
                    "{\"__type\":\"com.amazonaws.acmpca#MalformedCSRException\","
                    "\"Message\":\"bad csr\"}", &out), ACMPCA_E_MALFORMED_CSR);
    CHECK_STR(e->aws_code, "MalformedCSRException");
    CHECK_STR(e->message, "bad csr");

    /* "code" as the last resort. */
    CHECK_INT(parse("ListTags", 400, NULL, 0, "{\"code\":\"InvalidArnException\"}", &out),
              ACMPCA_E_INVALID_ARN);
    CHECK_STR(e->request_id, "");

    /* Throttling is retryable, LimitExceeded (a quota in ACM PCA) is not. */
    CHECK_INT(parse("IssueCertificate", 400, NULL, 0, "{\"__type\":\"ThrottlingException\"}", &out),
              ACMPCA_E_THROTTLING);
    CHECK_INT(e->retryable, 1);
    CHECK_INT(parse("IssueCertificate", 400, NULL, 0,
                    "{\"__type\":\"LimitExceededException\"}", &out), ACMPCA_E_LIMIT_EXCEEDED);
    CHECK_INT(e->retryable, 0);

    /* A modelled exception the operation does not list is a generic service error. */
    CHECK_INT(parse("ListCertificateAuthorities", 400, NULL, 0,
                    "{\"__type\":\"MalformedCSRException\"}", &out), ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "MalformedCSRException");
    CHECK_INT(parse("GetPolicy", 400, NULL, 0, "{\"__type\":\"SomethingNewException\"}", &out),
              ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "SomethingNewException");

    /* Non-JSON bodies: the status and an excerpt survive. */
    CHECK_INT(parse("GetPolicy", 502, NULL, 0, "<html><h1>Bad Gateway</h1>\n</html>", &out),
              ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "502");
    CHECK_INT(e->http_status, 502);
    CHECK_CONTAINS(e->message, "Bad Gateway");
    CHECK_INT(e->retryable, 1);
    CHECK_INT(parse("GetPolicy", 503, NULL, 0, "", &out), ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "503");

    /* Query-protocol XML, as front ends answer a bad signature. */
    CHECK_INT(parse("GetPolicy", 403, NULL, 0,
                    "<?xml version=\"1.0\"?><ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>"
                    "<Message>The signature does not match</Message></Error>"
                    "<RequestId>abc</RequestId></ErrorResponse>", &out), ACMPCA_ESERVICE);
    CHECK_STR(e->aws_code, "SignatureDoesNotMatch");
    CHECK_STR(e->message, "The signature does not match");
    CHECK_STR(e->request_id, "abc");

    CHECK(out == NULL);
    CHECK_INT(parse("NoSuchOperation", 200, NULL, 0, "{}", &out), ACMPCA_EINVAL);
}

static void names(void)
{
    int code;
    CHECK_INT(acmpca_error_code_from_name("TooManyTagsException"), ACMPCA_E_TOO_MANY_TAGS);
    CHECK_INT(acmpca_error_code_from_name("Whatever"), ACMPCA_ESERVICE);
    for (code = ACMPCA_ESERVICE_FIRST; code >= ACMPCA_ESERVICE_LAST; code--) {
        CHECK_INT(acmpca_error_code_from_name(acmpca_error_name(code)), code);
        CHECK(ACMPCA_IS_SERVICE_ERROR(code));
    }
    CHECK(!ACMPCA_IS_SERVICE_ERROR(ACMPCA_ECONNECT));
    CHECK_STR(acmpca_strerror(ACMPCA_ECONNECT), "could not connect to the endpoint");
    CHECK_STR(acmpca_strerror(12345), "unknown error");
    CHECK_STR(acmpca_error_name(ACMPCA_ECONNECT), "");

    /* One class name per code, for every binding. */
    CHECK_STR(acmpca_error_class(ACMPCA_OK), "");
    CHECK_STR(acmpca_error_class(ACMPCA_EINVAL), "ParamValidationError");
    CHECK_STR(acmpca_error_class(ACMPCA_EPARAM), "ParamValidationError");
    CHECK_STR(acmpca_error_class(ACMPCA_ECONNECT), "EndpointConnectionError");
    CHECK_STR(acmpca_error_class(ACMPCA_ECONNECT_TIMEOUT), "ConnectTimeoutError");
    CHECK_STR(acmpca_error_class(ACMPCA_EREAD_TIMEOUT), "ReadTimeoutError");
    CHECK_STR(acmpca_error_class(ACMPCA_ETLS), "SSLError");
    CHECK_STR(acmpca_error_class(ACMPCA_ETOOLARGE), "ResponseParserError");
    CHECK_STR(acmpca_error_class(ACMPCA_ECANCELLED), "WaiterError");
    CHECK_STR(acmpca_error_class(ACMPCA_ECRYPTO), "CryptoError");
    CHECK_STR(acmpca_error_class(ACMPCA_ELIMIT), "GeneralError");
    CHECK_STR(acmpca_error_class(ACMPCA_ECONFIG), "InvalidConfigError");
    CHECK_STR(acmpca_error_class(ACMPCA_ENOREGION), "NoRegionError");
    CHECK_STR(acmpca_error_class(ACMPCA_EREGION), "InvalidRegionError");
    CHECK_STR(acmpca_error_class(ACMPCA_EPROFILE), "ProfileNotFound");
    CHECK_STR(acmpca_error_class(12345), "GeneralError");
    for (code = ACMPCA_ESERVICE; code >= ACMPCA_ESERVICE_LAST; code--)
        CHECK_STR(acmpca_error_class(code), "ClientError");
    for (code = ACMPCA_OK - 1; code >= ACMPCA_EPROFILE; code--) {
        CHECK(strcmp(acmpca_error_class(code), "GeneralError") != 0 || code == ACMPCA_ELIMIT);
        CHECK(strcmp(acmpca_strerror(code), "unknown error") != 0);
    }
}

/* Options with static keys, and no region or profile from the environment. */
static acmpca_client_options keys_without_region(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;

    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "EXAMPLEKEY";
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_PROFILE");
    return o;
}

/*
 * The three configuration errors botocore names apart come from the core as
 * codes of their own, so a binding picks the class from the code alone.
 */
static void config_classes(void)
{
    const acmpca_error *e = acmpca_error_last();
    acmpca_client_options o = keys_without_region();
    acmpca_client *c = NULL;

    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ENOREGION);
    CHECK(c == NULL);
    CHECK_INT(e->code, ACMPCA_ENOREGION);
    CHECK_STR(acmpca_error_class(e->code), "NoRegionError");
    CHECK_STR(e->message, "Invalid Configuration: Missing Region");

    o.region = "us east 1";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EREGION);
    CHECK_STR(acmpca_error_class(e->code), "InvalidRegionError");
    CHECK_STR(e->message, "Invalid region: region was not a valid DNS name.");

    o.region = "us-east-1";
    o.profile = "ghost";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EPROFILE);
    CHECK_STR(acmpca_error_class(e->code), "ProfileNotFound");
    CHECK_CONTAINS(e->message, "profile \"ghost\" not found in ");

    /* Other configuration errors keep their own class. */
    o.profile = NULL;
    o.retry_mode = "eager";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ECONFIG);
    CHECK_STR(acmpca_error_class(e->code), "InvalidConfigError");
    CHECK(c == NULL);
}

/*
 * A configuration error carries the value it is about as data (subject), so
 * a binding can build botocore's kwargs ({"region_name"}, {"profile"})
 * without parsing the message; any other error leaves it empty.
 */
static void config_subject(void)
{
    const acmpca_error *e = acmpca_error_last();
    acmpca_client_options o = keys_without_region();
    acmpca_client *c = NULL;

    o.region = "not a region!";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EREGION);
    CHECK_STR(e->subject, "not a region!");

    o.region = "us-east-1";
    o.profile = "ghost profile";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EPROFILE);
    CHECK_STR(e->subject, "ghost profile");

    o.region = NULL;
    o.profile = NULL;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ENOREGION);
    CHECK_STR(e->subject, "");

    o.region = "us-east-1";
    o.retry_mode = "eager";
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_ECONFIG);
    CHECK_STR(e->subject, "");
    acmpca_error_clear();
    CHECK_STR(e->subject, "");
    CHECK(c == NULL);
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void client_side(void)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    acmpca_client *c = NULL;
    cJSON *in, *out = NULL;
    char url[64], *json = NULL;
    const acmpca_error *e = acmpca_error_last();

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
    o.endpoint_url = url;
    o.region = "us-east-1";
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    o.connect_timeout_ms = 2000;
    REQUIRE(acmpca_client_new(&c, &o) == 0);
    CHECK_STR(acmpca_client_endpoint(c), url);
    CHECK_STR(acmpca_client_region(c), "us-east-1");

    /* Bad input never reaches the network: the error is about the input. */
    in = cJSON_Parse("{\"CertificateAuthorityArn\":\"arn:aws:acm-pca:us-east-1:1:ca/x\","
                     "\"SigningAlgorithm\":\"SHA256WITHRSA\",\"Validity\":{\"Value\":\"ten\","
                     "\"Type\":\"DAYS\"},\"Csr\":\"x\"}");
    CHECK_INT(acmpca_call(c, "IssueCertificate", in, &out), ACMPCA_EPARAM);
    CHECK_CONTAINS(e->message, "Validity.Value");
    CHECK_STR(e->operation, "IssueCertificate");
    CHECK_INT(e->http_status, 0);
    cJSON_Delete(in);

    /* Good input to a closed port: a connect error naming the endpoint. */
    CHECK_INT(acmpca_call(c, "ListCertificateAuthorities", NULL, &out), ACMPCA_ECONNECT);
    CHECK_CONTAINS(e->message, url);
    CHECK_STR(e->operation, "ListCertificateAuthorities");
    CHECK(out == NULL);

    CHECK_INT(acmpca_call(c, "ListCertificateAuthority", NULL, &out), ACMPCA_EINVAL);
    CHECK_CONTAINS(e->message, "ListCertificateAuthority");
    CHECK_INT(acmpca_call_json(c, "ListTags", "{not json", &json), ACMPCA_EPARAM);
    CHECK(json == NULL);
    CHECK_INT(acmpca_call_json(c, "ListTags", "{}", &json), ACMPCA_EPARAM);
    CHECK_CONTAINS(e->message, "CertificateAuthorityArn");

    /* A request can be built without a network: signed, with the target header. */
    {
        acmpca_http_request *req = NULL;
        size_t i;
        int target = 0, auth = 0;
        in = cJSON_Parse("{\"MaxResults\":5}");
        CHECK_INT(acmpca_client_build_request(c, "list_certificate_authorities", in, &req), 0);
        REQUIRE(req != NULL);
        CHECK_STR(req->method, "POST");
        CHECK_STR(req->body, "{\"MaxResults\":5}");
        for (i = 0; i < req->header_count; i++) {
            if (strcmp(req->headers[i].name, "X-Amz-Target") == 0)
                target = strcmp(req->headers[i].value,
                                "ACMPrivateCA.ListCertificateAuthorities") == 0;
            if (strcmp(req->headers[i].name, "Authorization") == 0)
                auth = strstr(req->headers[i].value, "/us-east-1/acm-pca/aws4_request") != NULL;
            CHECK(strstr(req->headers[i].value, "EXAMPLEKEY") == NULL);
        }
        CHECK(target && auth);
        acmpca_http_request_free(req);
        cJSON_Delete(in);
    }
    acmpca_client_free(c);

    /* Options that cannot work are refused at creation. */
    o.secret_access_key = NULL;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(e->message, "secret_access_key");
    CHECK(c == NULL);
    o.version = 99;
    CHECK_INT(acmpca_client_new(&c, &o), ACMPCA_EINVAL);
    CHECK_CONTAINS(e->message, "ACMPCA_CLIENT_OPTIONS_INIT");
    {
        acmpca_client_options f = ACMPCA_CLIENT_OPTIONS_INIT;
        f.endpoint_url = url;
        f.use_fips = ACMPCA_ENABLED;
        CHECK_INT(acmpca_client_new(&c, &f), ACMPCA_EENDPOINT);
        CHECK_STR(e->message, "Invalid Configuration: FIPS and custom endpoint are not supported");
    }
    acmpca_client_free(NULL);
    acmpca_response_meta_free(NULL);
    acmpca_http_request_free(NULL);
}

int main(int argc, char **argv)
{
    REQUIRE(acmpca_global_init() == 0);
    /* The cases that change the environment run alone, one ctest entry each. */
    if (argc > 1 && strcmp(argv[1], "--config-classes") == 0) {
        config_classes();
    } else if (argc > 1 && strcmp(argv[1], "--config-subject") == 0) {
        config_subject();
    } else {
        CHECK_STR(acmpca_version(), ACMPCA_VERSION);
        CHECK_INT(acmpca_version_number(), ACMPCA_VERSION_NUMBER);
        success_bodies();
        error_bodies();
        names();
        client_side();
    }
    acmpca_global_cleanup();
    return CHECK_DONE();
}
