/*
 * config.c - the shared config and credentials files (a small INI parser with
 * botocore's section naming) and the resolution of client settings from
 * options, environment variables and the selected profile.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"

#define INI_MAX_BYTES ((size_t)1 << 20)
/* Real files have a handful of each; the caps keep lookups (linear) cheap. */
#define MAX_INI_SECTIONS 1000
#define MAX_INI_KEYS 1000

typedef struct ini_entry {
    char *key;      /* lowercased; "parent.sub" for an indented sub-property */
    char *value;    /* may be a secret: wiped on free */
} ini_entry;

typedef struct ini_section {
    char *name;     /* profile name, or "sso-session x" / "services x" */
    ini_entry *entries;
    size_t count, cap;
} ini_section;

struct acmpca_ini {
    ini_section *sections;
    size_t count, cap;
};

/* ---- INI parsing ------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim [*b, *e) in place. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

static int is_comment_char(char c)
{
    return c == '#' || c == ';';
}

/*
 * End of a value [b, e) (b just after '=') before an inline comment: '#' or
 * ';' starts a comment only after whitespace, so "abc#def" keeps its '#'.
 */
static const char *strip_inline_comment(const char *b, const char *e)
{
    const char *p;
    for (p = b + 1; p < e; p++) {
        if (is_comment_char(*p) && is_space(p[-1]))
            return p;
    }
    return e;
}

static ini_section *ini_section_get(const acmpca_ini *ini, const char *name)
{
    size_t i;
    if (!ini || !name)
        return NULL;
    for (i = 0; i < ini->count; i++)
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    return NULL;
}

/* The section named [b, e), created if new; its index in *idx. */
static int ini_section_add(acmpca_ini *ini, const char *b, size_t n, size_t *idx)
{
    size_t i;
    char *name;

    for (i = 0; i < ini->count; i++) {
        if (strlen(ini->sections[i].name) == n && memcmp(ini->sections[i].name, b, n) == 0) {
            *idx = i;
            return 0;
        }
    }
    if (ini->count >= MAX_INI_SECTIONS)
        return acmpca__error_set(ACMPCA_ELIMIT, "more than %d sections", MAX_INI_SECTIONS);
    if (ini->count == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 8;
        ini_section *s = realloc(ini->sections, cap * sizeof(*s));
        if (!s)
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        ini->sections = s;
        ini->cap = cap;
    }
    if (!(name = acmpca__strndup(b, n)))
        return ACMPCA_ENOMEM;
    memset(&ini->sections[ini->count], 0, sizeof(ini->sections[0]));
    ini->sections[ini->count].name = name;
    *idx = ini->count++;
    return 0;
}

/* Set key (lowercased) = value; a later duplicate replaces the earlier value. */
static int ini_section_set(ini_section *s, const char *kb, size_t kn, const char *sub,
                           size_t subn, const char *vb, size_t vn)
{
    acmpca_buf key = {0};
    char *value = NULL;
    size_t i;
    int rc;

    if ((rc = acmpca__buf_append(&key, kb, kn)) != 0)
        goto fail;
    if (sub && ((rc = acmpca__buf_puts(&key, ".")) != 0 ||
                (rc = acmpca__buf_append(&key, sub, subn)) != 0))
        goto fail;
    for (i = 0; i < key.len; i++)
        if (key.ptr[i] >= 'A' && key.ptr[i] <= 'Z')
            key.ptr[i] = (char)(key.ptr[i] - 'A' + 'a');
    if (!(value = acmpca__strndup(vb, vn))) {
        rc = ACMPCA_ENOMEM;
        goto fail;
    }
    for (i = 0; i < s->count; i++) {
        if (strcmp(s->entries[i].key, key.ptr) == 0) {
            acmpca__free_secret(s->entries[i].value);
            s->entries[i].value = value;
            acmpca__buf_free(&key);
            return 0;
        }
    }
    if (s->count >= MAX_INI_KEYS) {
        rc = acmpca__error_set(ACMPCA_ELIMIT, "more than %d keys in section [%s]", MAX_INI_KEYS,
                               s->name);
        goto fail;
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        ini_entry *e = realloc(s->entries, cap * sizeof(*e));
        if (!e) {
            rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
            goto fail;
        }
        s->entries = e;
        s->cap = cap;
    }
    s->entries[s->count].key = acmpca__buf_detach(&key);
    s->entries[s->count].value = value;
    s->count++;
    return 0;
fail:
    acmpca__buf_free(&key);
    acmpca__free_secret(value);
    return rc;
}

/* Append n bytes; 1 on success so that callers can chain with &&. */
static int put(acmpca_buf *b, const char *s, size_t n)
{
    return acmpca__buf_append(b, s, n) == 0;
}

/*
 * The stored name of a section header's inner text [b, e): 1 when kept (name
 * written), 0 when not, negative on error. In a config file only "default",
 * "profile x", "sso-session x" and "services x" are kept; as in botocore,
 * "[x]" there is not a profile.
 */
static int section_name(const char *b, const char *e, int is_config, acmpca_buf *name)
{
    static const char *const kept[] = {"sso-session", "services"};
    const char *w, *q;
    size_t i, n;

    trim(&b, &e);
    if (b == e)
        return 0;
    if (!is_config)
        return put(name, b, (size_t)(e - b)) ? 1 : ACMPCA_ENOMEM;
    if ((size_t)(e - b) == 7 && memcmp(b, "default", 7) == 0)
        return put(name, "default", 7) ? 1 : ACMPCA_ENOMEM;
    for (w = b; w < e && !is_space(*w); w++)
        ;
    if (w == e)
        return 0;
    n = (size_t)(w - b);
    while (w < e && is_space(*w))
        w++;
    /* The name after the kind: one word, or a double-quoted string. */
    if (e - w >= 2 && *w == '"' && e[-1] == '"') {
        w++;
        e--;
        if (w == e)
            return 0;
    } else {
        for (q = w; q < e; q++)
            if (is_space(*q) || *q == '"')
                return 0;
    }
    if (n == 7 && memcmp(b, "profile", 7) == 0)
        return put(name, w, (size_t)(e - w)) ? 1 : ACMPCA_ENOMEM;
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        if (strlen(kept[i]) == n && memcmp(b, kept[i], n) == 0)
            return put(name, kept[i], n) && put(name, " ", 1) && put(name, w, (size_t)(e - w))
                       ? 1 : ACMPCA_ENOMEM;
    }
    return 0;
}

static int ini_parse_lines(acmpca_ini *ini, char *text, size_t len, int is_config)
{
    char *p = text, *end = text + len;
    ini_section *cur = NULL;    /* NULL: no section yet, or one we do not keep */
    int in_property = 0;        /* the last key line allows continuation lines */
    char *parent = NULL;        /* key of the last "key =" with an empty value */
    size_t parent_len = 0;
    int rc = 0;

    /* A UTF-8 byte order mark is not part of the first line. */
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lb = p, *le = nl ? nl : end, *b, *e, *eq;
        int indented = lb < le && (*lb == ' ' || *lb == '\t');

        p = nl ? nl + 1 : end;
        /* An embedded NUL ends the line's content. */
        e = memchr(lb, '\0', (size_t)(le - lb));
        if (e)
            le = e;
        b = lb;
        e = le;
        trim(&b, &e);
        if (b == e || is_comment_char(*b))
            continue;   /* blank and comment lines keep the current state */

        if (indented && in_property) {
            /*
             * A continuation of the previous value, or a sub-property of
             * "key =" (e.g. "s3 =\n  max_concurrent_requests = 10"). Kept
             * only as "parent.sub" so that top-level lookups never see it.
             */
            const char *kb = b, *ke, *vb, *ve;
            if (!cur || !parent || !(eq = memchr(b, '=', (size_t)(e - b))))
                continue;
            ke = eq;
            trim(&kb, &ke);
            vb = eq + 1;
            ve = strip_inline_comment(vb, e);
            trim(&vb, &ve);
            if (kb == ke)
                continue;
            if ((rc = ini_section_set(cur, parent, parent_len, kb, (size_t)(ke - kb), vb,
                                      (size_t)(ve - vb))) != 0)
                goto done;
            continue;
        }
        in_property = 0;
        free(parent);
        parent = NULL;

        if (*b == '[') {
            const char *close = memchr(b, ']', (size_t)(e - b)), *rest;
            acmpca_buf name = {0};
            size_t idx = 0;
            int kept;

            cur = NULL;
            if (!close)
                continue;   /* malformed header: ignore it and its keys */
            rest = close + 1;
            while (rest < e && is_space(*rest))
                rest++;
            if (rest < e && !is_comment_char(*rest))
                continue;   /* text after "]" that is not a comment */
            kept = section_name(b + 1, close, is_config, &name);
            rc = kept > 0 ? ini_section_add(ini, name.ptr, name.len, &idx) : kept;
            acmpca__buf_free(&name);
            if (rc)
                goto done;
            if (kept)
                cur = &ini->sections[idx];  /* else its keys are dropped */
            continue;
        }

        eq = memchr(b, '=', (size_t)(e - b));
        if (!eq || !cur)
            continue;   /* malformed, or a key outside any kept section */
        {
            const char *kb = b, *ke = eq, *vb = eq + 1, *ve;
            trim(&kb, &ke);
            if (kb == ke)
                continue;
            ve = strip_inline_comment(vb, e);
            trim(&vb, &ve);
            if ((rc = ini_section_set(cur, kb, (size_t)(ke - kb), NULL, 0, vb,
                                      (size_t)(ve - vb))) != 0)
                goto done;
            in_property = 1;
            if (vb == ve) {
                if (!(parent = acmpca__strndup(kb, (size_t)(ke - kb)))) {
                    rc = ACMPCA_ENOMEM;
                    goto done;
                }
                parent_len = (size_t)(ke - kb);
            }
        }
    }
done:
    free(parent);
    return rc;
}

int acmpca__ini_parse(acmpca_ini **out, const char *text, size_t len, int is_config)
{
    acmpca_ini *ini = NULL;
    char *copy = NULL;
    int rc;

    if (!out || (!text && len))
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca__ini_parse: bad arguments");
    *out = NULL;
    if (len > INI_MAX_BYTES)
        return acmpca__error_set(ACMPCA_ELIMIT, "config text is %zu bytes, over the %zu-byte limit",
                                 len, INI_MAX_BYTES);
    if (!(ini = calloc(1, sizeof(*ini))))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    /* A private copy: the text may hold secrets and is wiped afterwards. */
    if (!(copy = malloc(len + 1))) {
        rc = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    rc = ini_parse_lines(ini, copy, len, is_config);
    OPENSSL_cleanse(copy, len + 1);
    free(copy);
    if (rc)
        goto fail;
    *out = ini;
    return 0;
fail:
    acmpca__ini_free(ini);
    return rc;
}

static const char *errno_text(int err)
{
    switch (err) {
    case EACCES:
    case EPERM: return "permission denied";
    case EISDIR: return "is a directory";
    case ELOOP: return "too many symbolic links";
    case ENAMETOOLONG: return "file name too long";
    case EIO: return "I/O error";
    case EMFILE:
    case ENFILE: return "too many open files";
    default: return "cannot read the file";
    }
}

int acmpca__ini_load(acmpca_ini **out, const char *path, int is_config)
{
    acmpca_buf text = {0};
    struct stat st;
    int fd = -1, rc;

    if (!out || !path)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca__ini_load: bad arguments");
    *out = NULL;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return acmpca__ini_parse(out, "", 0, is_config);
        return acmpca__error_set(ACMPCA_ECONFIG, "%s: %s", path, errno_text(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, "%s: %s", path, errno_text(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = acmpca__error_set(ACMPCA_ECONFIG, "%s: is a directory", path);
        goto done;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > INI_MAX_BYTES) {
        rc = acmpca__error_set(ACMPCA_ELIMIT, "%s: file is larger than the %zu-byte limit",
                               path, INI_MAX_BYTES);
        goto done;
    }
    /* Read to EOF, whatever fstat said: the file may grow, or be a pipe. */
    for (;;) {
        char chunk[8192];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = acmpca__error_set(ACMPCA_ECONFIG, "%s: %s", path, errno_text(errno));
            OPENSSL_cleanse(chunk, sizeof(chunk));
            goto done;
        }
        if (n == 0)
            break;
        if (text.len + (size_t)n > INI_MAX_BYTES) {
            OPENSSL_cleanse(chunk, sizeof(chunk));
            rc = acmpca__error_set(ACMPCA_ELIMIT, "%s: file is larger than the %zu-byte limit",
                                   path, INI_MAX_BYTES);
            goto done;
        }
        rc = acmpca__buf_append(&text, chunk, (size_t)n);
        OPENSSL_cleanse(chunk, (size_t)n);
        if (rc)
            goto done;
    }
    if ((rc = acmpca__ini_parse(out, text.ptr ? text.ptr : "", text.len, is_config)) ==
        ACMPCA_ELIMIT)
        acmpca__error_prefix(path);
done:
    close(fd);
    acmpca__buf_free_secret(&text);
    return rc;
}

const char *acmpca__ini_get(const acmpca_ini *ini, const char *profile, const char *key)
{
    const ini_section *s = ini_section_get(ini, profile);
    size_t i;

    if (!s || !key)
        return NULL;
    /* Keys are case-insensitive, as botocore's configparser lowercases them. */
    for (i = 0; i < s->count; i++)
        if (acmpca__strcaseeq(s->entries[i].key, key))
            return s->entries[i].value;
    return NULL;
}

int acmpca__ini_has_profile(const acmpca_ini *ini, const char *profile)
{
    return ini_section_get(ini, profile) != NULL;
}

void acmpca__ini_free(acmpca_ini *ini)
{
    size_t i, j;

    if (!ini)
        return;
    for (i = 0; i < ini->count; i++) {
        ini_section *s = &ini->sections[i];
        for (j = 0; j < s->count; j++) {
            free(s->entries[j].key);
            acmpca__free_secret(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
    }
    free(ini->sections);
    free(ini);
}

/* ---- file paths -------------------------------------------------------- */

/* "~" and "~/..." expand to HOME (else the user's home directory). */
char *acmpca__expand_home(const char *path)
{
    acmpca_buf b = {0};
    const char *home;
    char *pwbuf = NULL;

    if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
        return acmpca__strdup(path);
    home = acmpca__getenv("HOME");
    if (!home) {
        struct passwd pw, *res = NULL;
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t n = size > 0 ? (size_t)size : 16384;
        if ((pwbuf = malloc(n)) && getpwuid_r(getuid(), &pw, pwbuf, n, &res) == 0 && res &&
            res->pw_dir && res->pw_dir[0])
            home = res->pw_dir;
    }
    if (!home) {
        free(pwbuf);
        return acmpca__strdup(path);   /* unexpanded; it will simply not be found */
    }
    if (acmpca__buf_puts(&b, home) || acmpca__buf_puts(&b, path + 1)) {
        free(pwbuf);
        acmpca__buf_free(&b);
        return NULL;
    }
    free(pwbuf);
    return acmpca__buf_detach(&b);
}

char *acmpca__config_file_path(void)
{
    const char *env = acmpca__getenv("AWS_CONFIG_FILE");
    return acmpca__expand_home(env ? env : "~/.aws/config");
}

char *acmpca__credentials_file_path(void)
{
    const char *env = acmpca__getenv("AWS_SHARED_CREDENTIALS_FILE");
    return acmpca__expand_home(env ? env : "~/.aws/credentials");
}

/* ---- resolution -------------------------------------------------------- */

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* Strict "true"/"false" (any case): a typo must not silently turn FIPS off. */
static int parse_bool(const char *v, int *out)
{
    if (acmpca__strcaseeq(v, "true"))
        *out = 1;
    else if (acmpca__strcaseeq(v, "false"))
        *out = 0;
    else
        return -1;
    return 0;
}

/*
 * A boolean setting: env var, then the profile key, then 0. Values are not
 * secrets, so the bad one is quoted (shortened) in the message.
 */
static int resolve_bool(const acmpca_config *cfg, const char *env_name, const char *key,
                        int *out)
{
    const char *v = acmpca__getenv(env_name);

    if (v) {
        if (parse_bool(v, out) != 0)
            return acmpca__error_set(ACMPCA_ECONFIG,
                                     "%s=\"%.64s\" is not valid: expected \"true\" or \"false\"",
                                     env_name, v);
        return 0;
    }
    v = nonempty(acmpca__config_get(cfg, key));
    if (v) {
        if (parse_bool(v, out) != 0)
            return acmpca__error_set(ACMPCA_ECONFIG,
                                     "%s = \"%.64s\" in profile \"%s\" of %s is not valid: "
                                     "expected \"true\" or \"false\"",
                                     key, v, cfg->profile, cfg->config_path);
        return 0;
    }
    *out = 0;
    return 0;
}

/*
 * endpoint_url from the environment and the config file, as botocore:
 * AWS_ENDPOINT_URL_ACM_PCA, AWS_ENDPOINT_URL, the profile's `services`
 * section (acm_pca.endpoint_url), the profile's endpoint_url. All of them
 * are ignored when ignore_configured_endpoint_urls is true.
 */
static int resolve_endpoint_url(const acmpca_config *cfg, const char **out)
{
    const char *v, *svc;
    acmpca_buf section = {0};
    int ignore = 0, rc;

    *out = NULL;
    if ((rc = resolve_bool(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                           "ignore_configured_endpoint_urls", &ignore)) != 0)
        return rc;
    if (ignore)
        return 0;
    if ((v = acmpca__getenv("AWS_ENDPOINT_URL_ACM_PCA")) ||
        (v = acmpca__getenv("AWS_ENDPOINT_URL"))) {
        *out = v;
        return 0;
    }
    if ((svc = nonempty(acmpca__config_get(cfg, "services"))) != NULL) {
        if ((rc = acmpca__buf_printf(&section, "services %s", svc)) != 0)
            return rc;
        if (!acmpca__ini_has_profile(cfg->config_file, section.ptr)) {
            rc = acmpca__error_set(ACMPCA_ECONFIG,
                                   "profile \"%s\" uses services section \"%s\", which is not "
                                   "in %s", cfg->profile, svc, cfg->config_path);
            acmpca__buf_free(&section);
            return rc;
        }
        v = nonempty(acmpca__ini_get(cfg->config_file, section.ptr, "acm_pca.endpoint_url"));
        acmpca__buf_free(&section);
        if (v) {
            *out = v;
            return 0;
        }
    }
    *out = nonempty(acmpca__config_get(cfg, "endpoint_url"));
    return 0;
}

static int resolve_max_attempts(acmpca_config *cfg, int option)
{
    const char *v, *from = "AWS_MAX_ATTEMPTS";
    char *end = NULL;
    long n;

    if (option > 0) {
        cfg->max_attempts = option;
        return 0;
    }
    if (!(v = acmpca__getenv(from))) {
        from = "max_attempts";
        v = nonempty(acmpca__config_get(cfg, from));
    }
    if (!v) {
        cfg->max_attempts = 3;
        return 0;
    }
    n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 100)
        return acmpca__error_set(ACMPCA_ECONFIG,
                                 "%s=\"%s\" is not valid: expected a whole number from 1 to 100",
                                 from, v);
    cfg->max_attempts = (int)n;
    return 0;
}

static int resolve_retry_mode(acmpca_config *cfg, const char *option)
{
    const char *v = nonempty(option), *from = "retry_mode option";

    if (!v && (v = acmpca__getenv("AWS_RETRY_MODE")) != NULL)
        from = "AWS_RETRY_MODE";
    if (!v && (v = nonempty(acmpca__config_get(cfg, "retry_mode"))) != NULL)
        from = "retry_mode";
    /* "legacy" is botocore's old default; it is served by the standard mode. */
    if (!v || strcmp(v, "standard") == 0 || strcmp(v, "legacy") == 0)
        cfg->adaptive_retries = 0;
    else if (strcmp(v, "adaptive") == 0)
        cfg->adaptive_retries = 1;
    else
        return acmpca__error_set(ACMPCA_ECONFIG,
                                 "%s=\"%s\" is not valid: expected \"standard\", \"adaptive\" "
                                 "or \"legacy\"",
                                 from, v);
    return 0;
}

static int set_str(char **dst, const char *src)
{
    if (!src)
        return 0;
    if (!(*dst = acmpca__strdup(src)))
        return ACMPCA_ENOMEM;
    return 0;
}

int acmpca__config_resolve(acmpca_config *out, const acmpca_client_options *opts)
{
    const acmpca_client_options unset = ACMPCA_CLIENT_OPTIONS_INIT;
    const char *v;
    int named = 0, rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca__config_resolve: out is NULL");
    memset(out, 0, sizeof(*out));
    if (!opts)
        opts = &unset;

    if (!(out->config_path = acmpca__config_file_path()) ||
        !(out->credentials_path = acmpca__credentials_file_path())) {
        rc = ACMPCA_ENOMEM;
        goto fail;
    }
    if ((rc = acmpca__ini_load(&out->config_file, out->config_path, 1)) != 0 ||
        (rc = acmpca__ini_load(&out->credentials_file, out->credentials_path, 0)) != 0)
        goto fail;

    /* Profile: option, AWS_PROFILE, "default". */
    if ((v = nonempty(opts->profile)) || (v = acmpca__getenv("AWS_PROFILE")))
        named = 1;
    else
        v = "default";
    if ((rc = set_str(&out->profile, v)) != 0)
        goto fail;
    if (named && strcmp(v, "default") != 0 &&
        !acmpca__ini_has_profile(out->config_file, v) &&
        !acmpca__ini_has_profile(out->credentials_file, v)) {
        rc = acmpca__error_set(ACMPCA_EPROFILE, "profile \"%s\" not found in %s or %s", v,
                               out->config_path, out->credentials_path);
        acmpca__error_set_subject(v);
        goto fail;
    }

    /* Region: option, AWS_REGION, AWS_DEFAULT_REGION, profile. */
    if (!(v = nonempty(opts->region)) && !(v = acmpca__getenv("AWS_REGION")) &&
        !(v = acmpca__getenv("AWS_DEFAULT_REGION")))
        v = nonempty(acmpca__config_get(out, "region"));
    if ((rc = set_str(&out->region, v)) != 0)
        goto fail;

    /* Endpoint URL: option, then the environment and the config file. */
    if (!(v = nonempty(opts->endpoint_url)) && (rc = resolve_endpoint_url(out, &v)) != 0)
        goto fail;
    if ((rc = set_str(&out->endpoint_url, v)) != 0)
        goto fail;

    /* FIPS and dual-stack: option (unless ACMPCA_DEFAULT), environment, profile, off. */
    if (opts->use_fips != ACMPCA_DEFAULT)
        out->use_fips = opts->use_fips == ACMPCA_ENABLED;
    else if ((rc = resolve_bool(out, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint",
                                &out->use_fips)) != 0)
        goto fail;
    if (opts->use_dualstack != ACMPCA_DEFAULT)
        out->use_dualstack = opts->use_dualstack == ACMPCA_ENABLED;
    else if ((rc = resolve_bool(out, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint",
                                &out->use_dualstack)) != 0)
        goto fail;

    /* CA bundle: option, AWS_CA_BUNDLE, profile. */
    if (!(v = nonempty(opts->ca_bundle)) && !(v = acmpca__getenv("AWS_CA_BUNDLE")))
        v = nonempty(acmpca__config_get(out, "ca_bundle"));
    if ((rc = set_str(&out->ca_bundle, v)) != 0)
        goto fail;

    /* Retries: option, AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, profile, 3 "standard". */
    if ((rc = resolve_max_attempts(out, opts->max_attempts)) != 0 ||
        (rc = resolve_retry_mode(out, opts->retry_mode)) != 0)
        goto fail;
    return 0;
fail:
    acmpca__config_clear(out);
    return rc;
}

const char *acmpca__config_get(const acmpca_config *cfg, const char *key)
{
    if (!cfg)
        return NULL;
    return acmpca__ini_get(cfg->config_file, cfg->profile, key);
}

void acmpca__config_clear(acmpca_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->profile);
    free(cfg->region);
    free(cfg->endpoint_url);
    free(cfg->ca_bundle);
    free(cfg->config_path);
    free(cfg->credentials_path);
    acmpca__ini_free(cfg->config_file);
    acmpca__ini_free(cfg->credentials_file);
    memset(cfg, 0, sizeof(*cfg));
}
