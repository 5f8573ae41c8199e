/*
 * test_flat_output.c - parse/flat-output-equals-cjson: the reader of the
 * usual success body (acmpca__read_flat_output: an object of string members
 * known to the model) makes the tree cJSON's parser makes, takes only what it
 * is sure of and leaves every other body to cJSON; what acmpca_parse_response
 * answers is cJSON's answer either way. Its keys are the model's strings:
 * the tree is still freed, edited and copied with cJSON's own functions.
 * acmpca_output_read_flat gives the same members one by one to a binding.
 */
#include <string.h>

#include "acmpca.h"
#include "check.h"
#include "serialize.h"

static const acmpca_shape *get_certificate_output(void)
{
    const acmpca_operation_info *op = acmpca_model_operation_find("GetCertificate");
    return op ? op->output : NULL;
}

/* acmpca_parse_response's answer to `body` is cJSON's: the same tree, or an
 * error where cJSON refuses it (or makes something else than an object). */
static void same_as_cjson(const char *body, size_t len)
{
    cJSON *ref = cJSON_ParseWithLengthOpts(body, len, NULL, 0), *got = NULL;
    int rc = acmpca_parse_response("GetCertificate", 200, NULL, 0, body, len, &got);

    if (ref && cJSON_IsObject(ref)) {
        /* Printed, not cJSON_Compare: that one looks duplicate keys up by name. */
        char *want = cJSON_PrintUnformatted(ref), *have = got ? cJSON_PrintUnformatted(got) : NULL;
        if (rc != 0 || !have || strcmp(want, have) != 0)
            fprintf(stderr, "body %.*s: not the tree cJSON makes (rc %d)\n", (int)len, body, rc);
        CHECK_INT(rc, 0);
        CHECK_STR(have, want);
        cJSON_free(want);
        cJSON_free(have);
    } else {
        if (rc == 0)
            fprintf(stderr, "body %.*s: accepted, cJSON refuses it\n", (int)len, body);
        CHECK(rc != 0);
        CHECK(got == NULL);
    }
    cJSON_Delete(ref);
    cJSON_Delete(got);
}

/* Whether the flat reader takes `body` (1) or leaves it to cJSON (0). */
static int taken_len(const char *body, size_t len)
{
    cJSON *doc = NULL;
    int rc = acmpca__read_flat_output(get_certificate_output(), body, len, &doc);
    CHECK(rc == 1 ? doc != NULL : doc == NULL);
    cJSON_Delete(doc);
    return rc;
}

static int taken(const char *body)
{
    return taken_len(body, strlen(body));
}

static const char *const TAKEN[] = {
    "{\"Certificate\":\"-----BEGIN CERTIFICATE-----\\nMIIBszCCAVmgAwIBAgIU\\n-----END "
    "CERTIFICATE-----\\n\",\"CertificateChain\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n\"}",
    " \r\n\t{ \"Certificate\" :\t\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\" ,\r\n"
    " \"CertificateChain\": \"\" } \n",
    "{}",
    "{ }",
    "{\"Certificate\":\"first\",\"Certificate\":\"second\"}",
    "{\"Certificate\":\"caf\xc3\xa9 \xff\xfe\x80 \xe2\x82\xac\"}",
    "{\"CertificateChain\":\"\\\\\"}",
    "{\"Certificate\":\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\"}",
    "{\"Certificate\":\"0123456789\\\"0123456789\\\"0123456789\\n\\\"x\"}",
    "{\"Certificate\":\"a\tb\x01c\nd\x1f\x7f\"}", /* raw control bytes: copied, as cJSON does */
};

/* Left to cJSON, which accepts some and refuses others. */
static const char *const LEFT[] = {
    "{\"Certificate\":\"\\u00e9\\ud83d\\ude00\"}", /* \u escapes */
    "{\"Other\":\"x\"}",                           /* a member the model does not know */
    "{\"Certificat\":\"x\"}",
    "{\"Certificates\":\"x\"}",
    "{\"Certif\\u0069cate\":\"x\"}",               /* an escaped key */
    "{\"Certificate\":1}",
    "{\"Certificate\":{\"a\":\"b\"}}",
    "{\"Certificate\":[\"a\"]}",
    "{\"Certificate\":true}",
    "{\"Certificate\":\"x\"} trailing",            /* cJSON ignores what follows */
    "{\"Certificate\":\"x\",}",                    /* refused from here on */
    "{\"Certificate\":\"x\" \"CertificateChain\":\"y\"}",
    "{\"Certificate\":\"x\",,\"CertificateChain\":\"y\"}",
    "{,}",
    "{\"Certificate\"\"x\"}",
    "{\"Certificate\":\"x\"",
    "{\"Certificate\":\"abc",
    "{\"Certificate\":\"abc\\",
    "{\"Certificate\":\"a\\qb\"}",                 /* an escape JSON does not have */
    "{\"Certificate\":\"a\\\"b\\u0041\"}",          /* past an escaped quote */
    "{\"Certificate\":\"a\\\"b\\qc\"}",
    "{\"Certificate\":\"a\\\"b",
    "{\"Certificate",
    "{\"",
    "{",
    "[\"Certificate\"]",
    "\"Certificate\"",
    "\xef\xbb\xbf{\"Certificate\":\"x\"}",         /* a UTF-8 byte order mark */
    "\f{\"Certificate\":\"x\"}",                   /* white space to cJSON only */
};

/* Strings of 0..39 bytes, an escaped n, quote or backslash at every place. */
static void escapes_everywhere(void)
{
    static const char letters[] = "n\"\\";
    char value[64], body[160];
    size_t len, at, cut, l;
    int n;

    for (l = 0; l < sizeof(letters) - 1; l++) {
        for (len = 0; len < 40; len++) {
            for (at = 0; at <= len; at++) {
                memset(value, 'x', len);
                value[len] = '\0';
                if (at + 1 < len)
                    value[at] = '\\', value[at + 1] = letters[l];
                else if (at + 1 == len)
                    continue; /* no room for the escape */
                n = snprintf(body, sizeof(body), "{\"Certificate\":\"%s\"}", value);
                CHECK_INT(taken(body), 1);
                same_as_cjson(body, (size_t)n);
                /* ... and cut short anywhere */
                for (cut = 1; cut < (size_t)n; cut++) /* (an empty body is {}) */
                    same_as_cjson(body, cut);
            }
        }
    }
}

/* A tree of the reader, edited with cJSON's functions and freed. */
static void edit_with_cjson(void)
{
    static const char body[] = "{\"Certificate\":\"c\",\"CertificateChain\":\"chain\"}";
    cJSON *doc = NULL, *copy, *other, *item;
    char *printed;

    CHECK_INT(acmpca_parse_response("GetCertificate", 200, NULL, 0, body, strlen(body), &doc), 0);
    if (!doc)
        return;
    printed = cJSON_PrintUnformatted(doc);
    CHECK_STR(printed, body);
    cJSON_free(printed);
    CHECK(cJSON_GetObjectItemCaseSensitive(doc, "Certificate")->prev ==
          cJSON_GetObjectItemCaseSensitive(doc, "CertificateChain")); /* the head's prev: the tail */

    /* an appended member goes last: the head's prev was the tail */
    CHECK(cJSON_AddStringToObject(doc, "Added", "a") != NULL);
    printed = cJSON_PrintUnformatted(doc);
    CHECK_STR(printed, "{\"Certificate\":\"c\",\"CertificateChain\":\"chain\",\"Added\":\"a\"}");
    cJSON_free(printed);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "Added");

    copy = cJSON_Duplicate(doc, 1);
    CHECK(cJSON_Compare(copy, doc, 1));
    CHECK(cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(doc, "Certificate"), "new") != NULL);
    CHECK(cJSON_ReplaceItemInObjectCaseSensitive(doc, "CertificateChain",
                                                 cJSON_CreateString("replaced")));
    other = cJSON_CreateObject();
    item = cJSON_DetachItemFromObjectCaseSensitive(doc, "Certificate");
    CHECK(item != NULL);
    CHECK(cJSON_AddItemToObject(other, "Renamed", item));
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(other, "Renamed")->valuestring, "new");
    printed = cJSON_PrintUnformatted(doc);
    CHECK_STR(printed, "{\"CertificateChain\":\"replaced\"}");
    cJSON_free(printed);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "Certificate");
    cJSON_Delete(copy);
    cJSON_Delete(other);
    cJSON_Delete(doc);
}

/* ---- acmpca_output_read_flat: the members one by one, to the caller ---- */

typedef struct seen {
    char text[256];     /* "Name=value;" for each member, in order */
    int give_up_at;     /* the member count at which to return `stop` */
    int stop, count;
} seen;

static int record(void *userdata, const acmpca_member *member, char *value, size_t len)
{
    seen *s = userdata;
    size_t used = strlen(s->text);

    CHECK_INT((int)len, (int)strlen(value));
    snprintf(s->text + used, sizeof(s->text) - used, "%s=%s;", member->name, value);
    cJSON_free(value);
    return ++s->count == s->give_up_at ? s->stop : 0;
}

static int read_flat(const char *body, seen *s)
{
    return acmpca_output_read_flat(acmpca_model_operation_find("GetCertificate"), body,
                                   strlen(body), record, s);
}

static void members_to_the_caller(void)
{
    static const acmpca_shape blob = {.name = "Blob", .type = ACMPCA_SHAPE_BLOB};
    static const acmpca_shape text = {.name = "Text", .type = ACMPCA_SHAPE_STRING};
    static const acmpca_member members[] = {{"Text", &text, 0, 0}, {"Data", &blob, 0, 0}};
    acmpca_shape output = {.name = "Out", .type = ACMPCA_SHAPE_STRUCTURE};
    acmpca_operation_info op = {0};
    seen s = {"", 0, 0, 0};
    const char *body;
    cJSON *doc = NULL;

    /* In the body's order, decoded, each value the callee's. */
    CHECK_INT(read_flat("{\"CertificateChain\":\"a\\nb\", \"Certificate\":\"c\\\"d\"}", &s), 1);
    CHECK_STR(s.text, "CertificateChain=a\nb;Certificate=c\"d;");

    /* Not the flat form: 0, nothing promised (what the callee made is discarded). */
    memset(&s, 0, sizeof(s));
    CHECK_INT(read_flat("{\"Certificate\":\"x\",\"Other\":\"y\"}", &s), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(read_flat("{\"Certificate\":\"x\"} trailing", &s), 0);
    CHECK_STR(s.text, "Certificate=x;");

    /* The callee gives up (> 0): 0; stops with an error (< 0): that error. */
    memset(&s, 0, sizeof(s));
    s.give_up_at = 1, s.stop = 1;
    CHECK_INT(read_flat("{\"Certificate\":\"x\",\"CertificateChain\":\"y\"}", &s), 0);
    CHECK_INT(s.count, 1);
    memset(&s, 0, sizeof(s));
    s.give_up_at = 2, s.stop = ACMPCA_ENOMEM;
    CHECK_INT(read_flat("{\"Certificate\":\"x\",\"CertificateChain\":\"y\"}", &s),
              ACMPCA_ENOMEM);

    /* A blob member is the parse's to decode: never read flat. */
    output.members = members;
    output.member_count = 2;
    op.output = &output;
    memset(&s, 0, sizeof(s));
    body = "{\"Text\":\"t\"}";
    CHECK_INT(acmpca_output_read_flat(&op, body, strlen(body), record, &s), 1);
    CHECK_STR(s.text, "Text=t;");
    memset(&s, 0, sizeof(s));
    body = "{\"Text\":\"t\",\"Data\":\"AA==\"}";
    CHECK_INT(acmpca_output_read_flat(&op, body, strlen(body), record, &s), 0);
    body = "{\"Data\":\"AA==\"}";
    CHECK_INT(acmpca__read_flat_output(&output, body, strlen(body), &doc), 0);
    CHECK(doc == NULL);

    /* NULL operation, callback or body (with a length): refused. */
    CHECK_INT(acmpca_output_read_flat(NULL, "{}", 2, record, &s), ACMPCA_EINVAL);
    CHECK_INT(acmpca_output_read_flat(&op, "{}", 2, NULL, &s), ACMPCA_EINVAL);
    CHECK_INT(acmpca_output_read_flat(&op, NULL, 2, record, &s), ACMPCA_EINVAL);
}

int main(void)
{
    size_t i;

    for (i = 0; i < sizeof(TAKEN) / sizeof(TAKEN[0]); i++) {
        if (taken(TAKEN[i]) != 1)
            fprintf(stderr, "not taken: %s\n", TAKEN[i]);
        CHECK_INT(taken(TAKEN[i]), 1);
        same_as_cjson(TAKEN[i], strlen(TAKEN[i]));
    }
    for (i = 0; i < sizeof(LEFT) / sizeof(LEFT[0]); i++) {
        if (taken(LEFT[i]) != 0)
            fprintf(stderr, "taken: %s\n", LEFT[i]);
        CHECK_INT(taken(LEFT[i]), 0);
        same_as_cjson(LEFT[i], strlen(LEFT[i]));
    }
    {
        /* a NUL byte inside a string: copied, as cJSON copies it */
        static const char nul[] = "{\"Certificate\":\"x\0y\",\"CertificateChain\":\"z\"}";
        cJSON *doc = NULL;
        CHECK_INT(taken_len(nul, sizeof(nul) - 1), 1);
        same_as_cjson(nul, sizeof(nul) - 1);
        CHECK_INT(acmpca__read_flat_output(get_certificate_output(), nul, sizeof(nul) - 1, &doc), 1);
        if (doc) {
            const char *v = cJSON_GetObjectItemCaseSensitive(doc, "Certificate")->valuestring;
            CHECK(v[0] == 'x' && v[1] == '\0' && v[2] == 'y' && v[3] == '\0');
            CHECK_STR(cJSON_GetObjectItemCaseSensitive(doc, "CertificateChain")->valuestring, "z");
        }
        cJSON_Delete(doc);
    }
    {
        /* a key with a NUL after a member's name (found by fuzz_response): not
         * that member, and the model's shorter name is not read past its end */
        static const char key_nul[] = "{\"Certificate\0\0\0\x9d\":\"x\"}";
        CHECK_INT(taken_len(key_nul, sizeof(key_nul) - 1), 0);
        same_as_cjson(key_nul, sizeof(key_nul) - 1);
    }
    escapes_everywhere();
    edit_with_cjson();
    members_to_the_caller();
    return check_failures ? 1 : 0;
}
