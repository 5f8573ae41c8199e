/*
 * fuzz_ini.c - acmpca__ini_parse, the shared config/credentials file parser,
 * in both modes, then lookups on what it kept.
 *
 * Input: bit 0 of byte 0 picks the mode (1: config file, 0: credentials
 * file); bits 1-3 pick a profile and bits 4-7 a key to look up besides a
 * fixed set; the rest is the file text (binary, not NUL-terminated).
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

static const char *const profiles[8] = {
    "default", "p", "dev", "sso-session s", "services svc", "x y", "", "profile p",
};
static const char *const keys[16] = {
    "region", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
    "role_arn", "source_profile", "credential_process", "s3",
    "s3.max_concurrent_requests", "max_attempts", "retry_mode", "ca_bundle",
    "endpoint_url", "acm_pca", "acm_pca.endpoint_url", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acmpca_ini *ini = NULL;
    char *text;
    size_t len, i, j;
    int rc, is_config;

    if (size < 1)
        return 0;
    is_config = data[0] & 1;
    len = size - 1;
    text = malloc(len ? len : 1);
    if (!text)
        abort();
    if (len)
        memcpy(text, data + 1, len);
    rc = acmpca__ini_parse(&ini, text, len, is_config);
    if (rc == 0) {
        const char *v;
        FUZZ_ASSERT(ini != NULL);
        v = acmpca__ini_get(ini, profiles[(data[0] >> 1) & 7], keys[data[0] >> 4]);
        FUZZ_ASSERT(v == NULL || strlen(v) <= len);
        for (i = 0; i < 8; i++) {
            int has = acmpca__ini_has_profile(ini, profiles[i]);
            for (j = 0; j < 16; j++) {
                v = acmpca__ini_get(ini, profiles[i], keys[j]);
                /* A value is a piece of the text: never longer, never without a section. */
                FUZZ_ASSERT(v == NULL || (has && strlen(v) <= len));
            }
        }
        FUZZ_ASSERT(acmpca__ini_get(ini, "default", NULL) == NULL);
        FUZZ_ASSERT(acmpca__ini_get(ini, NULL, "region") == NULL);
        acmpca__ini_free(ini);
    } else {
        FUZZ_ASSERT(ini == NULL);
        FUZZ_ASSERT(rc == ACMPCA_ENOMEM || rc == ACMPCA_ELIMIT);
    }
    free(text);
    return 0;
}
