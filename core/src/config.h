/*
 * config.h - resolution of client configuration from options, the
 * environment and the shared config/credentials files (INI parsing).
 */
#ifndef ACMPCA_CONFIG_H
#define ACMPCA_CONFIG_H

#include "internal.h"

/* A parsed INI file: sections of key = value pairs. */
typedef struct acmpca_ini acmpca_ini;

/*
 * Parse INI text. In a config file (`is_config` 1) "[profile x]" names profile
 * x and "[default]" the default; in a credentials file "[x]" names x.
 * Comments (# and ;), surrounding whitespace and indented sub-section lines
 * (e.g. "s3 =\n  max_concurrent_requests = 10") are handled; sub-sections are
 * skipped. Bounded: at most 1 MiB of text.
 */
int acmpca__ini_parse(acmpca_ini **out, const char *text, size_t len, int is_config);
/* Load and parse a file. A missing file gives an empty ini (not an error). */
int acmpca__ini_load(acmpca_ini **out, const char *path, int is_config);
/* Value of `key` in profile `profile`, or NULL. */
const char *acmpca__ini_get(const acmpca_ini *ini, const char *profile, const char *key);
/* 1 if the profile has a section in this file. */
int acmpca__ini_has_profile(const acmpca_ini *ini, const char *profile);
void acmpca__ini_free(acmpca_ini *ini);

/* Everything the client needs, resolved once at creation. */
typedef struct acmpca_config {
    char *profile;           /* never NULL after resolve */
    char *region;            /* NULL when none was found */
    char *endpoint_url;      /* NULL when none */
    int use_fips;
    int use_dualstack;
    char *ca_bundle;         /* NULL when none */
    int max_attempts;        /* >= 1 */
    int adaptive_retries;    /* retry_mode "adaptive" (else "standard") */
    char *config_path;       /* the files that were read */
    char *credentials_path;
    acmpca_ini *config_file;       /* never NULL after resolve */
    acmpca_ini *credentials_file;  /* never NULL after resolve */
} acmpca_config;

/*
 * Resolve, in order: option -> environment -> profile in the config file.
 * Fails with ACMPCA_ECONFIG for an unreadable file or a bad boolean value.
 * A named profile (option or AWS_PROFILE, not "default") that exists in
 * neither file fails with ACMPCA_EPROFILE.
 */
int acmpca__config_resolve(acmpca_config *out, const acmpca_client_options *opts);
/* A key of the resolved profile from the config file, or NULL. */
const char *acmpca__config_get(const acmpca_config *cfg, const char *key);
void acmpca__config_clear(acmpca_config *cfg);

/* "~" or "~/..." with the home directory (HOME, else the password entry); any other
 * path, or when no home is known, unchanged. Caller frees. */
char *acmpca__expand_home(const char *path);
/* Paths of the shared files: env var or ~/.aws/<name>. Caller frees. */
char *acmpca__config_file_path(void);
char *acmpca__credentials_file_path(void);

#endif
