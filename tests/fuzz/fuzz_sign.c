/*
 * fuzz_sign.c - acmpca_sign (SigV4 canonicalisation of arbitrary method,
 * URL path and query, and headers; header and query signing).
 *
 * Input:
 *   byte 0      flags: bits 0-3 the ACMPCA_SIGN_* flags, bit 6 an unknown
 *               flag, bit 7 a zero timestamp
 *   bytes 1-4   a signed offset (little endian) added to 2015-08-30T12:36:00Z
 *   bytes 5-8   expires_s (little endian)
 *   byte 9      number of headers (0-31)
 *   then NUL-separated fields: method, url, region, service, access key id,
 *   secret, session token (empty: none), payload hash (empty: hash the body),
 *   then name and value of each header; what follows the last field is the
 *   body. Fields missing at the end take the values of the SigV4 test suite.
 *
 * Invariants: a success carries a 64-hex-digit signature, an Authorization
 * header (header signing) or X-Amz-Signature (query signing), and signing the
 * same input without the key cache gives the same signature.
 */
#include <string.h>

#include "acmpca.h"
#include "fuzz.h"

#define MAX_HEADERS 31
#define BASE_TIME 1440938160 /* 2015-08-30T12:36:00Z */

static const char *const defaults[8] = {
    "GET", "https://example.amazonaws.com/", "us-east-1", "service", "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "",
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The next NUL-terminated field of [*p, end) as a new string, or NULL at the end. */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nul;
    size_t n;
    char *s;

    if (*p >= end)
        return NULL;
    nul = memchr(*p, '\0', (size_t)(end - *p));
    if (!nul)
        return NULL;
    n = (size_t)(nul - *p);
    s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nul + 1;
    return s;
}

static int has_header(const acmpca_signed *s, const char *name)
{
    size_t i;
    for (i = 0; i < s->header_count; i++)
        if (strcmp(s->headers[i].name, name) == 0)
            return 1;
    return 0;
}

static acmpca_sign_cache *cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *fields[8] = {NULL}, *hv[2 * MAX_HEADERS] = {NULL};
    acmpca_header headers[MAX_HEADERS];
    acmpca_sign_input in;
    acmpca_signed *s1 = NULL, *s2 = NULL;
    const uint8_t *p, *end = data + size;
    unsigned char *body;
    size_t i, nh, body_len;
    int rc, rc2;

    if (size < 10)
        return 0;
    if (!cache && acmpca_sign_cache_new(&cache) != 0)
        abort();
    memset(&in, 0, sizeof(in));
    in.flags = (data[0] & 0x0fu) | ((data[0] & 0x40u) ? 0x100u : 0u);
    in.timestamp = (data[0] & 0x80u) ? 0 : (int64_t)BASE_TIME + (int32_t)le32(data + 1);
    in.expires_s = le32(data + 5);
    nh = data[9] % (MAX_HEADERS + 1);
    p = data + 10;
    for (i = 0; i < 8; i++)
        fields[i] = field(&p, end);
    for (i = 0; i < 2 * nh; i++)
        hv[i] = field(&p, end);
    for (i = 0; i < nh; i++) {
        headers[i].name = hv[2 * i] ? hv[2 * i] : "X-Fuzz";
        headers[i].value = hv[2 * i + 1] ? hv[2 * i + 1] : "";
    }
    body_len = (size_t)(end - p);
    body = malloc(body_len ? body_len : 1);
    if (!body)
        abort();
    if (body_len)
        memcpy(body, p, body_len);

    in.method = fields[0] ? fields[0] : defaults[0];
    in.url = fields[1] ? fields[1] : defaults[1];
    in.region = fields[2] ? fields[2] : defaults[2];
    in.service = fields[3] ? fields[3] : defaults[3];
    in.access_key_id = fields[4] ? fields[4] : defaults[4];
    in.secret_access_key = fields[5] ? fields[5] : defaults[5];
    in.session_token = fields[6] && fields[6][0] ? fields[6] : NULL;
    in.body_sha256_hex = fields[7] && fields[7][0] ? fields[7] : NULL;
    in.headers = headers;
    in.header_count = nh;
    in.body = body;
    in.body_len = body_len;

    rc = acmpca_sign(&s1, &in, cache);
    if (rc == 0) {
        FUZZ_ASSERT(s1 && s1->url && s1->canonical_request && s1->string_to_sign);
        FUZZ_ASSERT(strlen(s1->signature) == 64 &&
                    strspn(s1->signature, "0123456789abcdef") == 64);
        if (in.flags & ACMPCA_SIGN_QUERY)
            FUZZ_ASSERT(strstr(s1->url, "X-Amz-Signature=") != NULL);
        else
            FUZZ_ASSERT(has_header(s1, "Authorization") && has_header(s1, "X-Amz-Date"));
        /* The cache must not change the answer. */
        rc2 = acmpca_sign(&s2, &in, NULL);
        FUZZ_ASSERT(rc2 == 0);
        FUZZ_ASSERT(strcmp(s1->signature, s2->signature) == 0);
        FUZZ_ASSERT(strcmp(s1->canonical_request, s2->canonical_request) == 0);
        FUZZ_ASSERT(strcmp(s1->url, s2->url) == 0);
    } else {
        FUZZ_ASSERT(s1 == NULL);
        FUZZ_ASSERT(rc == ACMPCA_EINVAL || rc == ACMPCA_ELIMIT || rc == ACMPCA_ENOMEM);
        FUZZ_ASSERT(acmpca_error_last()->code == rc);
    }
    acmpca_signed_free(s1);
    acmpca_signed_free(s2);
    free(body);
    for (i = 0; i < 8; i++)
        free(fields[i]);
    for (i = 0; i < 2 * nh; i++)
        free(hv[i]);
    return 0;
}
