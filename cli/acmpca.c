/*
 * acmpca.c - the acmpca command: global flags, help, dispatch to the
 * commands, and what every command shares (the client, error lines and exit
 * codes, output with --query and --output, progress while waiting).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

cli_global cli_g = {.output = "json"};
volatile sig_atomic_t cli_interrupted;

static const char help_main[] =
    "usage: acmpca [GLOBAL FLAGS] COMMAND [ARGS]\n"
    "\n"
    "Certificates from AWS Private CA in one command each.\n"
    "\n"
    "commands:\n"
    "  issue     make a key and a CSR, issue, wait, write key/cert/chain/fullchain\n"
    "  renew     renew a certificate when it is due (also as a daemon)\n"
    "  revoke    revoke a certificate by file or serial number\n"
    "  ca        create a root or subordinate CA in one step; list, describe,\n"
    "            disable, enable, delete, restore CAs\n"
    "  call      call any of the 23 ACM PCA operations with JSON in and out\n"
    "  help      help on a command (also: acmpca COMMAND --help)\n"
    "\n"
    "global flags (anywhere on the line):\n"
    "  --region R          AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
    "  --profile P         shared config profile (else AWS_PROFILE, default)\n"
    "  --endpoint-url URL  custom endpoint (else AWS_ENDPOINT_URL_ACM_PCA, AWS_ENDPOINT_URL)\n"
    "  --ca-bundle FILE    PEM bundle to verify the endpoint (else AWS_CA_BUNDLE)\n"
    "  --no-verify-ssl     do not verify the endpoint's TLS certificate (tests only)\n"
    "  --max-attempts N    attempts per call (else AWS_MAX_ATTEMPTS, profile, 3)\n"
    "  --output FORMAT    json, text or table: how call and ca list/describe print (json)\n"
    "  --query PATH        print only this part of the result: a.b, a[0].b, a[*].b\n"
    "  --debug             log every request and response to stderr (secrets redacted)\n"
    "  --verbose           show progress while waiting even when stderr is no terminal\n"
    "  --version           print the version\n"
    "  --help              this help\n"
    "\n"
    "exit codes: 0 ok, 1 service error (or any other failure), 2 usage or invalid\n"
    "input (nothing was sent), 3 network or TLS, 4 credentials, 5 renew: not due,\n"
    "130 interrupted.\n";

static const char help_issue[] =
    "usage: acmpca issue --ca ARN --cn NAME [--dns NAME]... [--ip ADDR]... [--uri URI]...\n"
    "                    [--email ADDR]... [--key-type TYPE] [--days N | --not-after TIME]\n"
    "                    [--template ARN]\n"
    "                    [--signing-algorithm ALG] [--csr FILE] (--out DIR | --cert FILE\n"
    "                    [--key FILE] [--chain FILE] [--fullchain FILE]) [--force]\n"
    "                    [--discard-pending]\n"
    "\n"
    "Makes a private key and a CSR (or uses --csr), issues the certificate, waits for\n"
    "it, verifies the chain locally and writes the files atomically: the key with mode\n"
    "0600 (created exclusively), the certificate, the chain and the full chain. With\n"
    "--out DIR the files are DIR/key.pem, cert.pem, chain.pem and fullchain.pem. A\n"
    "state file CERT.acmpca next to the certificate remembers the CA and the request\n"
    "for `acmpca renew`. Existing files are replaced only with --force.\n"
    "\n"
    "Re-runs: until the files are written, CERT.acmpca-pending (mode 0600) holds the\n"
    "key, the CSR, the request's IdempotencyToken and, once known, the certificate\n"
    "ARN. If issue is killed or fails on the way, running the same command again\n"
    "resumes it and gets the same certificate instead of a second one (ACM PCA keeps\n"
    "a token for 5 minutes; once the ARN is recorded, at any time). The same files\n"
    "with other parameters are refused (exit 2) until --discard-pending.\n"
    "\n"
    "  --key-type   ec256 (default), ec384, rsa2048, rsa3072, rsa4096\n"
    "  --days       validity in days (365)\n"
    "  --not-after  or the last moment of validity: 2027-06-30T23:59:59Z (UTC), or\n"
    "               seconds since 1970 (renew then keeps the certificate's lifetime)\n"
    "  --template   template ARN (the service's end-entity default)\n"
    "  --signing-algorithm  e.g. SHA256WITHECDSA (else the CA's own, one more call)\n"
    "  --discard-pending    start afresh: drop an unfinished issue of these files\n"
    "\n"
    "examples:\n"
    "  acmpca issue --ca $CA --cn www.example.com --dns www.example.com --out /etc/tls/www\n"
    "  acmpca issue --ca $CA --cn db1 --ip 10.0.0.5 --key-type rsa2048 --days 30 \\\n"
    "               --cert db1.crt --key db1.key --chain db1-chain.pem\n"
    "  acmpca issue --ca $CA --csr host.csr --out ./host\n";

static const char help_renew[] =
    "usage: acmpca renew --cert FILE [--key FILE] [--before DURATION] [--reuse-key]\n"
    "                    [--post-hook CMD] [--ca ARN] [--days N] [--chain FILE]\n"
    "                    [--fullchain FILE] [--force] [--discard-pending]\n"
    "                    [--daemon [--interval DURATION] [--syslog]]\n"
    "\n"
    "Renews the certificate when it expires within --before (30d): a new key (or the\n"
    "same one with --reuse-key), the same names, the CA from the state file written by\n"
    "`acmpca issue` (or --ca; --key and the chain files also default to the state\n"
    "file's); the files are replaced atomically and then the hook runs\n"
    "once with /bin/sh -c (ACMPCA_CERT, ACMPCA_KEY and ACMPCA_CERTIFICATE_ARN set).\n"
    "Exit code 0: renewed, 5: not due (nothing touched), other: failed.\n"
    "Like issue, a renewal keeps CERT.acmpca-pending until the files are written: a\n"
    "killed renewal re-run (due or not) finishes with the same key and token.\n"
    "--daemon checks every --interval (12h, with up to 10% jitter) until stopped;\n"
    "with --syslog its messages go to the system log (/dev/log, or the socket in\n"
    "ACMPCA_SYSLOG_SOCKET; facility daemon) instead of stdout and stderr.\n"
    "Durations: 45s, 30m, 12h, 30d, 2w, 1y.\n"
    "\n"
    "examples:\n"
    "  acmpca renew --cert /etc/tls/www/cert.pem --key /etc/tls/www/key.pem \\\n"
    "               --post-hook 'systemctl reload nginx'\n"
    "  acmpca renew --cert cert.pem --key key.pem --before 400d --reuse-key\n"
    "  acmpca renew --cert cert.pem --key key.pem --daemon --interval 6h --syslog\n";

static const char help_revoke[] =
    "usage: acmpca revoke (--cert FILE | --serial SERIAL) [--ca ARN] [--reason REASON]\n"
    "\n"
    "Revokes a certificate. SERIAL may be colon-separated or plain hex (0x...), or a\n"
    "certificate ARN (which also names the CA). The CA comes from --ca, the state file\n"
    "next to --cert, or the certificate ARN. REASON is one of the service's names in\n"
    "any spelling (keyCompromise, KEY_COMPROMISE, key-compromise): unspecified,\n"
    "keyCompromise, cACompromise, affiliationChanged, superseded,\n"
    "cessationOfOperation, privilegeWithdrawn, aACompromise (unspecified).\n"
    "\n"
    "examples:\n"
    "  acmpca revoke --cert /etc/tls/www/cert.pem --reason keyCompromise\n"
    "  acmpca revoke --ca $CA --serial 7a:3f:0d:11 --reason SUPERSEDED\n";

static const char help_ca[] =
    "usage: acmpca ca create root --cn NAME [--key-type TYPE] [--validity DURATION] ...\n"
    "       acmpca ca create subordinate --parent ARN --cn NAME [--path-len N] ...\n"
    "       acmpca ca list\n"
    "       acmpca ca describe|disable|enable|restore ARN\n"
    "       acmpca ca delete ARN [--days 7..30]\n"
    "\n"
    "`ca create` does the whole hierarchy step: create the CA, wait for its CSR, sign\n"
    "it (a root signs itself with RootCACertificate/V1, a subordinate is signed by\n"
    "--parent with SubordinateCACertificate_PathLenN/V1), import the certificate with\n"
    "its chain, and print the new CA's ARN. Options: --org, --ou, --country,\n"
    "--state, --locality (subject), --key-type rsa2048 (default), rsa3072, rsa4096,\n"
    "ec256, ec384; --validity (10y for a root, 5y for a subordinate); --crl-bucket B\n"
    "(CRLs in S3 bucket B; off otherwise); --tag KEY=VALUE (repeatable).\n"
    "`ca list` prints ARN, type, status and common name per line with --output text.\n"
    "`ca delete` needs a disabled (or never activated) CA.\n"
    "\n"
    "examples:\n"
    "  ROOT=$(acmpca ca create root --cn 'Example Root CA' --org 'Example Corp')\n"
    "  SUB=$(acmpca ca create subordinate --parent $ROOT --cn 'Example Issuing CA')\n"
    "  acmpca ca list --output text\n"
    "  acmpca ca disable $SUB && acmpca ca delete $SUB --days 7\n";

static const char help_call[] =
    "usage: acmpca call OPERATION [--input JSON|@FILE|-] [--Member VALUE]... [--all]\n"
    "       acmpca call --list\n"
    "       acmpca call OPERATION --help\n"
    "\n"
    "Calls any ACM PCA operation, named IssueCertificate, issue_certificate or\n"
    "issue-certificate. The input is a JSON object (--input, @FILE reads a file, -\n"
    "stdin) and/or one flag per member (--CertificateAuthorityArn or\n"
    "--certificate-authority-arn), which win over --input. Member values: text for\n"
    "strings, @FILE for the content of a file (blobs such as Csr, and JSON members),\n"
    "numbers, true/false, JSON for lists, maps and structures, and seconds or\n"
    "YYYY-MM-DDTHH:MM:SSZ for timestamps. --all follows NextToken through every page.\n"
    "The result is printed as JSON (--output text, --query a.b[0].c).\n"
    "\n"
    "examples:\n"
    "  acmpca call list-certificate-authorities --query 'CertificateAuthorities[*].Arn'\n"
    "  acmpca call GetCertificate --CertificateAuthorityArn $CA --CertificateArn $CERT \\\n"
    "              --query Certificate --output text > cert.pem\n"
    "  acmpca call tag-certificate-authority --input @tags.json\n";

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"issue", cli_cmd_issue, help_issue},
    {"renew", cli_cmd_renew, help_renew},
    {"revoke", cli_cmd_revoke, help_revoke},
    {"ca", cli_cmd_ca, help_ca},
    {"call", cli_cmd_call, help_call},
};

static const struct command *find_command(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ---- errors ---------------------------------------------------------------- */

/* Control characters from a service message must not break the one line. */
static void put_clean(const char *s)
{
    for (; *s; s++)
        fputc(iscntrl((unsigned char)*s) ? ' ' : *s, stderr);
}

int cli_exit_code(int code, const char *aws_code)
{
    static const char *const auth_failures[] = {
        "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch",
        "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
        "MissingAuthenticationToken", "IncompleteSignature", "AuthFailure"};
    size_t i;

    switch (code) {
    case ACMPCA_OK:
        return CLI_OK;
    case ACMPCA_EINVAL:
    case ACMPCA_EPARAM:
    case ACMPCA_ECONFIG:
    case ACMPCA_EENDPOINT:
    case ACMPCA_ENOREGION:
    case ACMPCA_EREGION:
    case ACMPCA_EPROFILE:
    case ACMPCA_ELIMIT:
        return CLI_USAGE;
    case ACMPCA_ENOCREDENTIALS:
    case ACMPCA_ECREDENTIALS:
        return CLI_CREDENTIALS;
    case ACMPCA_ECONNECT:
    case ACMPCA_ECONNECT_TIMEOUT:
    case ACMPCA_EREAD_TIMEOUT:
    case ACMPCA_ETLS:
    case ACMPCA_ENETWORK:
    case ACMPCA_ETOOLARGE:
        return CLI_NETWORK;
    case ACMPCA_ECANCELLED:
        return cli_interrupted ? CLI_INTERRUPTED : CLI_SERVICE;
    default:
        break;
    }
    for (i = 0; aws_code && i < sizeof(auth_failures) / sizeof(auth_failures[0]); i++)
        if (strcmp(aws_code, auth_failures[i]) == 0)
            return CLI_CREDENTIALS;
    return CLI_SERVICE;
}

int cli_fail_note(const char *what, const char *note)
{
    const acmpca_error *e = acmpca_error_last();
    const char *name = e->aws_code[0] ? e->aws_code : acmpca_strerror(e->code);

    fputs("acmpca: ", stderr);
    put_clean(what);
    fputs(": ", stderr);
    put_clean(e->message[0] ? e->message : acmpca_strerror(e->code));
    fprintf(stderr, " (%s: ", acmpca_error_class(e->code));
    put_clean(name);
    if (e->http_status)
        fprintf(stderr, ", HTTP %d", e->http_status);
    if (e->request_id[0]) {
        fputs(", request id ", stderr);
        put_clean(e->request_id);
    }
    if (e->attempts > 1)
        fprintf(stderr, ", %d attempts", e->attempts);
    fputc(')', stderr);
    if (note) {
        fputs("; ", stderr);
        put_clean(note);
    }
    fputc('\n', stderr);
    return cli_exit_code(e->code, e->aws_code);
}

int cli_fail(const char *what)
{
    return cli_fail_note(what, NULL);
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    fputs("acmpca: ", stderr);
    if (prefix) {
        put_clean(prefix);
        fputs(": ", stderr);
    }
    put_clean(buf);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see acmpca %s%s--help)\n", cmd ? cmd : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(NULL, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* ---- options --------------------------------------------------------------- */

void cli_list_free(cli_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, const char **pos,
              int max_pos, int *npos)
{
    int i, n = 0;

    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        const cli_opt *o = NULL;
        size_t len;

        if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
            if (strcmp(arg, "--") == 0 && i + 1 < argc)
                arg = argv[++i];
            if (n >= max_pos)
                return cli_usage(cmd, "unexpected argument \"%s\"", arg);
            pos[n++] = arg;
            continue;
        }
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        for (o = opts; o && o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
                break;
        if (!o || !o->name)
            return cli_usage(cmd, "unknown option %.*s", (int)len, arg);
        if (o->kind == CLI_FLAG) {
            if (eq)
                return cli_usage(cmd, "%s takes no value", o->name);
            *(int *)o->dst = 1;
            continue;
        }
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return cli_usage(cmd, "%s needs a value", o->name);
        if (o->kind == CLI_STR) {
            const char **dst = o->dst;
            if (*dst)
                return cli_usage(cmd, "%s given twice", o->name);
            *dst = value;
        } else {
            cli_list *l = o->dst;
            const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
            if (!v)
                return cli_error(CLI_SERVICE, "out of memory");
            l->v = v;
            l->v[l->n++] = value;
        }
    }
    if (npos)
        *npos = n;
    return CLI_OK;
}

/* ---- the client ------------------------------------------------------------ */

static void log_line(void *userdata, const char *line)
{
    (void)userdata;
    fputs("acmpca: debug: ", stderr);
    put_clean(line);
    fputc('\n', stderr);
}

int cli_client(acmpca_client **out)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;

    /* Only what was given on the command line: the core resolves the rest
       from the environment and the profile exactly as every binding does. */
    o.region = cli_g.region;
    o.profile = cli_g.profile;
    o.endpoint_url = cli_g.endpoint_url;
    o.ca_bundle = cli_g.ca_bundle;
    o.insecure_skip_tls_verify = cli_g.no_verify_ssl;
    o.max_attempts = cli_g.max_attempts;
    o.user_agent_suffix = "acmpca-cli/" ACMPCA_VERSION;
    if (cli_g.debug)
        o.log_fn = log_line;
    if (acmpca_client_new(out, &o) != 0)
        return cli_fail("configuration");
    return CLI_OK;
}

/* ---- output ---------------------------------------------------------------- */

static void put_json(FILE *f, const cJSON *v, int depth)
{
    const cJSON *el;
    char *text;

    if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child) {
        int object = cJSON_IsObject(v);
        fputc(object ? '{' : '[', f);
        cJSON_ArrayForEach(el, v) {
            fprintf(f, "\n%*s", (depth + 1) * 4, "");
            if (object) {
                cJSON *key = cJSON_CreateStringReference(el->string);
                text = key ? cJSON_PrintUnformatted(key) : NULL;
                fprintf(f, "%s: ", text ? text : "\"\"");
                free(text);
                cJSON_Delete(key);
            }
            put_json(f, el, depth + 1);
            if (el->next)
                fputc(',', f);
        }
        fprintf(f, "\n%*s%c", depth * 4, "", object ? '}' : ']');
        return;
    }
    text = cJSON_PrintUnformatted(v);
    fputs(text ? text : "null", f);
    free(text);
}

/* Indented like the AWS CLI's output: 4 spaces, one member or element per line. */
char *cli_json_text(const cJSON *v)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    put_json(f, v, 0);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

void cli_time_text(double epoch, char *buf, size_t cap)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(buf, cap, "%.0f", epoch);
}

/*
 * What is wrong with a --query path, or NULL: at most 64 steps, each a name
 * of 1 to 255 bytes, [n] (n may be negative), [*] or [], with dots before
 * names. Checked before any request is sent (query() recurses once a step).
 */
static const char *query_problem(const char *p)
{
    int steps = 0;

    while (*p) {
        if (*p == '.' && !*++p)
            break;
        if (++steps > 64)
            return "more than 64 steps";
        if (*p == '[') {
            const char *end = strchr(p, ']');
            char *stop = (char *)end;
            long n = 0;
            if (!end)
                return "a [ without ]";
            if (end != p + 1 && !(end == p + 2 && p[1] == '*'))
                n = strtol(p + 1, &stop, 10);
            if (stop != end || n > INT_MAX || n < -INT_MAX)
                return "expected [n] (an int), [*] or [] for a list";
            p = end + 1;
        } else {
            size_t len = strcspn(p, ".[");
            if (len == 0 || len > 255)
                return "expected a name of 1 to 255 bytes";
            p += len;
        }
    }
    return NULL;
}

/* A key path (checked by query_problem): a.b, a[0], a[-1], a[*].b (a projection
 * over a list); null where the result has nothing. NULL: out of memory. */
static cJSON *query(const cJSON *node, const char *p)
{
    char name[256];
    size_t len;

    if (*p == '.')
        p++;
    if (!*p)
        return node ? cJSON_Duplicate(node, 1) : cJSON_CreateNull();
    if (*p == '[') {
        const char *end = strchr(p, ']');
        long idx;
        if (!cJSON_IsArray(node))
            return cJSON_CreateNull();
        if (end == p + 1 || (end == p + 2 && p[1] == '*')) {
            cJSON *list = cJSON_CreateArray(), *el;
            cJSON_ArrayForEach(el, node) {
                cJSON *r = list ? query(el, end + 1) : NULL;
                if (!r) {
                    cJSON_Delete(list);
                    return NULL;
                }
                if (cJSON_IsNull(r))
                    cJSON_Delete(r);
                else
                    cJSON_AddItemToArray(list, r);
            }
            return list;
        }
        idx = strtol(p + 1, NULL, 10);
        if (idx < 0)
            idx += cJSON_GetArraySize(node);
        return query(idx < 0 ? NULL : cJSON_GetArrayItem(node, (int)idx), end + 1);
    }
    len = strcspn(p, ".[");
    memcpy(name, p, len);
    name[len] = '\0';
    if (!cJSON_IsObject(node))
        return cJSON_CreateNull();
    return query(cJSON_GetObjectItemCaseSensitive(node, name), p + len);
}

static void print_scalar(const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fputs(v->valuestring, stdout);
    } else if (cJSON_IsNull(v)) {
        return;
    } else {
        char *t = cJSON_PrintUnformatted(v);
        if (t)
            fputs(t, stdout);
        free(t);
    }
}

/* One "path<TAB>value" line per leaf. */
static void print_leaves(const cJSON *v, char *path, size_t len, size_t cap)
{
    const cJSON *el;
    int i = 0;

    if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
        printf("%s\t", path);
        print_scalar(v);
        putchar('\n');
        return;
    }
    cJSON_ArrayForEach(el, v) {
        int n = cJSON_IsArray(v) ? snprintf(path + len, cap - len, "%s%d", len ? "." : "", i)
                                 : snprintf(path + len, cap - len, "%s%s", len ? "." : "",
                                            el->string);
        if (n > 0 && (size_t)n < cap - len)
            print_leaves(el, path, len + (size_t)n, cap);
        path[len] = '\0';
        i++;
    }
}

int cli_print(const char *title, const cJSON *result)
{
    cJSON *picked = NULL;
    const cJSON *v = result, *el;
    int scalars = 1;

    if (cli_g.query) {
        if (!(picked = query(result, cli_g.query)))
            return cli_error(CLI_SERVICE, "out of memory");
        v = picked;
    }
    if (strcmp(cli_g.output, "table") == 0) {
        cli_print_table(title, v);
    } else if (strcmp(cli_g.output, "text") == 0) {
        cJSON_ArrayForEach(el, v)
            scalars &= !cJSON_IsArray(el) && !cJSON_IsObject(el);
        if (cJSON_IsArray(v) && scalars) {
            cJSON_ArrayForEach(el, v) {
                print_scalar(el);
                putchar('\n');
            }
        } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
            char path[1024] = "";
            print_leaves(v, path, 0, sizeof(path));
        } else if (!cJSON_IsNull(v)) {
            print_scalar(v);
            putchar('\n');
        }
    } else if (!(cJSON_IsObject(v) && !v->child && !cli_g.query)) {
        /* Like the AWS CLI, an operation that returns nothing prints nothing. */
        char *text = cli_json_text(v);
        if (text)
            puts(text);
        free(text);
    }
    cJSON_Delete(picked);
    if (fflush(stdout) != 0)
        return cli_error(CLI_SERVICE, "writing the output: %s", strerror(errno));
    return CLI_OK;
}

/* ---- progress -------------------------------------------------------------- */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, const char *what)
{
    p->started = cli_now();
    p->max_attempts = 0;
    p->what = what;
}

int cli_on_progress(void *userdata, const char *waiter, int attempt, double delay_s)
{
    cli_progress *p = userdata;
    const acmpca_waiter_info *info = acmpca_waiter_find(waiter);
    int max = p && p->max_attempts > 0 ? p->max_attempts : info ? info->max_attempts : 0;

    if (cli_interrupted)
        return 1;
    if (cli_g.verbose || isatty(STDERR_FILENO))
        fprintf(stderr, "acmpca: waiting for %s (%s): attempt %d/%d, %.0f s elapsed, next check "
                        "in %.0f s\n",
                p && p->what ? p->what : waiter, waiter, attempt, max,
                p ? cli_now() - p->started : 0.0, delay_s);
    return 0;
}

static void on_signal(int sig)
{
    cli_interrupted = 1;
    /* A second Ctrl-C ends the program at once, even inside a slow request. */
    signal(sig, SIG_DFL);
}

/* ---- main ------------------------------------------------------------------ */

typedef struct global_flag {
    const char *name;
    const char **value;   /* NULL for a flag */
    int *flag;
} global_flag;

int main(int argc, char **argv)
{
    const char *max_attempts = NULL, *problem;
    int help = 0, version = 0, i, n = 0, rc;
    const struct command *cmd = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    const global_flag globals[] = {
        {"--region", &cli_g.region, NULL},
        {"--profile", &cli_g.profile, NULL},
        {"--endpoint-url", &cli_g.endpoint_url, NULL},
        {"--ca-bundle", &cli_g.ca_bundle, NULL},
        {"--output", &cli_g.output, NULL},
        {"--query", &cli_g.query, NULL},
        {"--max-attempts", &max_attempts, NULL},
        {"--no-verify-ssl", NULL, &cli_g.no_verify_ssl},
        {"--debug", NULL, &cli_g.debug},
        {"--verbose", NULL, &cli_g.verbose},
        {"--version", NULL, &version},
        {"--help", NULL, &help},
        {"-h", NULL, &help},
    };

    if (!rest)
        return cli_error(CLI_SERVICE, "out of memory");
    /* Global flags may come anywhere; everything else goes to the command. */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg), k;
        const global_flag *g = NULL;

        if (strcmp(arg, "--") == 0) {
            while (i < argc)
                rest[n++] = argv[i++];
            break;
        }
        for (k = 0; k < sizeof(globals) / sizeof(globals[0]); k++)
            if (strlen(globals[k].name) == len && strncmp(globals[k].name, arg, len) == 0)
                g = &globals[k];
        if (!g) {
            rest[n++] = argv[i];
            continue;
        }
        if (g->flag) {
            if (eq) {
                rc = cli_usage(NULL, "%s takes no value", g->name);
                goto done;
            }
            *g->flag = 1;
        } else if (eq) {
            *g->value = eq + 1;
        } else if (i + 1 < argc) {
            *g->value = argv[++i];
        } else {
            rc = cli_usage(NULL, "%s needs a value", g->name);
            goto done;
        }
    }

    if (version) {
        printf("acmpca %s (library %s)\n", ACMPCA_VERSION, acmpca_version());
        rc = CLI_OK;
        goto done;
    }
    if (strcmp(cli_g.output, "json") != 0 && strcmp(cli_g.output, "text") != 0 &&
        strcmp(cli_g.output, "table") != 0) {
        rc = cli_usage(NULL, "--output: expected json, text or table, got \"%s\"",
                       cli_g.output);
        goto done;
    }
    if (max_attempts) {
        char *end;
        long v = strtol(max_attempts, &end, 10);
        if (!*max_attempts || *end || v < 1 || v > 100) {
            rc = cli_usage(NULL, "--max-attempts: expected a number from 1 to 100, got \"%s\"",
                           max_attempts);
            goto done;
        }
        cli_g.max_attempts = (int)v;
    }
    if (cli_g.query && (problem = query_problem(cli_g.query)) != NULL) {
        rc = cli_usage(NULL, "--query: %s in \"%.200s\" (expected a.b, a[0].b or a[*].b)",
                       problem, cli_g.query);
        goto done;
    }
    if (n > 0 && strcmp(rest[0], "help") == 0) {
        help = 1;
        memmove(rest, rest + 1, (size_t)n-- * sizeof(*rest));
    }
    if (n == 0 && help) {
        fputs(help_main, stdout);
        rc = CLI_OK;
        goto done;
    }
    if (n == 0) {
        rc = cli_usage(NULL, "which command? issue, renew, revoke, ca or call");
        goto done;
    }
    if (!(cmd = find_command(rest[0]))) {
        rc = cli_usage(NULL, "unknown command \"%s\" (commands: issue, renew, revoke, ca, call)",
                       rest[0]);
        goto done;
    }
    if (help && !(cmd->run == cli_cmd_call && n > 1)) {
        fputs(cmd->help, stdout);
        rc = CLI_OK;
        goto done;
    }
    if (help) {
        /* `call OPERATION --help` lists the operation's members. */
        rest[n++] = (char *)"--help";
    }

    {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    acmpca_global_init();
    rc = cmd->run(n - 1, rest + 1);
    acmpca_global_cleanup();
done:
    free(rest);
    return rc;
}
