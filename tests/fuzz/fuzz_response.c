/*
 * fuzz_response.c - acmpca_parse_response (success bodies, the error parser
 * for JSON, header-only and XML errors, and the output touch-up) over every
 * operation and a spread of HTTP statuses.
 *
 * Input: byte 0 picks the operation, byte 1 the status; then header lines
 * ("name: value", '\n'-separated) up to the first empty line; the rest is the
 * body (binary). Without an empty line, everything after byte 1 is the body.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "acmpca.h"
#include "fuzz.h"

#define MAX_HEADERS 64

static const int statuses[16] = {200, 200, 204, 299, 400, 400, 403, 404,
                                 413, 429, 500, 502, 503, 504, 100, 302};

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acmpca_header headers[MAX_HEADERS];
    size_t nh = 0, i, op_count = acmpca_model_operation_count();
    const uint8_t *p, *end, *body;
    const acmpca_operation_info *op;
    const acmpca_error *e;
    char *body_copy;
    cJSON *out = NULL;
    int status, rc;

    if (size < 2)
        return 0;
    op = acmpca_model_operation(data[0] % op_count);
    status = statuses[data[1] & 15];
    p = data + 2;
    end = data + size;
    body = p;
    /* Header block: only when an empty line ends it. */
    for (i = 0; p + i + 1 < end; i++) {
        if (p[i] == '\n' && p[i + 1] == '\n') {
            const uint8_t *hend = p + i, *line = p;
            body = p + i + 2;
            while (line < hend && nh < MAX_HEADERS) {
                const uint8_t *nl = memchr(line, '\n', (size_t)(hend - line));
                const uint8_t *le = nl ? nl : hend, *colon;
                colon = memchr(line, ':', (size_t)(le - line));
                if (colon) {
                    const uint8_t *v = colon + 1;
                    while (v < le && *v == ' ')
                        v++;
                    headers[nh].name = copy(line, (size_t)(colon - line));
                    headers[nh].value = copy(v, (size_t)(le - v));
                } else {
                    headers[nh].name = copy(line, (size_t)(le - line));
                    headers[nh].value = copy(line, 0);
                }
                if (!headers[nh].name || !headers[nh].value)
                    abort();
                nh++;
                line = le + 1;
            }
            break;
        }
    }
    /* An exact-size body (not NUL-terminated), so overreads are caught. */
    body_copy = malloc((size_t)(end - body) + 1);
    if (!body_copy)
        abort();
    if (end > body)
        memcpy(body_copy, body, (size_t)(end - body));

    rc = acmpca_parse_response(op->name, status, headers, nh, body_copy, (size_t)(end - body),
                               &out);
    e = acmpca_error_last();
    if (rc == 0) {
        char *printed;
        FUZZ_ASSERT(status >= 200 && status <= 299);
        FUZZ_ASSERT(cJSON_IsObject(out));
        printed = cJSON_PrintUnformatted(out);
        FUZZ_ASSERT(printed != NULL);
        cJSON_free(printed);
    } else {
        FUZZ_ASSERT(out == NULL);
        FUZZ_ASSERT(rc < 0 && e->code == rc);
        FUZZ_ASSERT(e->message && e->aws_code && e->request_id && e->operation);
        FUZZ_ASSERT(strlen(e->message) < 1024 && strlen(e->aws_code) < 128);
        if (status < 200 || status > 299) {
            /* Every non-2xx is a service error naming a code and keeping the status. */
            FUZZ_ASSERT(ACMPCA_IS_SERVICE_ERROR(rc));
            FUZZ_ASSERT(e->aws_code[0] != '\0');
            FUZZ_ASSERT(e->http_status == status);
            FUZZ_ASSERT(strcmp(e->operation, op->name) == 0);
        } else {
            FUZZ_ASSERT(rc == ACMPCA_EBADRESPONSE || rc == ACMPCA_ENOMEM);
        }
    }
    cJSON_Delete(out);
    free(body_copy);
    for (i = 0; i < nh; i++) {
        free((char *)headers[i].name);
        free((char *)headers[i].value);
    }
    return 0;
}
