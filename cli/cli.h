/*
 * cli.h - what the files of the acmpca command share: the global settings,
 * option parsing, the client, error reporting with exit codes, output
 * (--output, --query), progress while waiting, and careful file I/O.
 */
#ifndef ACMPCA_CLI_H
#define ACMPCA_CLI_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include <acmpca.h>

/* Exit codes, documented in `acmpca --help` and the README. */
enum {
    CLI_OK = 0,
    CLI_SERVICE = 1,      /* the service said no, or anything else went wrong */
    CLI_USAGE = 2,        /* bad flags or bad input: nothing was sent */
    CLI_NETWORK = 3,      /* could not reach the endpoint, TLS failed */
    CLI_CREDENTIALS = 4,  /* no credentials, or the service rejected them */
    CLI_NOT_DUE = 5,      /* renew: the certificate is not due yet */
    CLI_INTERRUPTED = 130 /* Ctrl-C while waiting */
};

typedef struct cli_global {
    const char *region, *profile, *endpoint_url, *ca_bundle, *query;
    const char *output;   /* "json", "text" or "table" */
    int no_verify_ssl, debug, verbose, max_attempts;
} cli_global;

extern cli_global cli_g;
extern volatile sig_atomic_t cli_interrupted;

/* ---- options ---- */

typedef enum { CLI_FLAG, CLI_STR, CLI_LIST } cli_opt_kind;

typedef struct cli_list {
    const char **v;
    size_t n;
} cli_list;

typedef struct cli_opt {
    const char *name;     /* "--cn" */
    cli_opt_kind kind;
    void *dst;            /* int *, const char **, cli_list * */
} cli_opt;

/*
 * Parse a command's arguments: "--name value", "--name=value", flags, and up
 * to `max_pos` positionals. Prints one line and returns CLI_USAGE on error.
 */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, const char **pos,
              int max_pos, int *npos);
void cli_list_free(cli_list *l);

/* ---- errors ---- */

/* One line from acmpca_error_last() ("acmpca: WHAT: message (class: code, ...)"); its exit code. */
int cli_fail(const char *what);
/* As cli_fail, with a note at the end of the line (e.g. what was left behind). */
int cli_fail_note(const char *what, const char *note);
/* One line "acmpca: CMD: message (see acmpca CMD --help)"; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line "acmpca: message"; returns `code`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit code for an acmpca error code (and AWS error name). */
int cli_exit_code(int code, const char *aws_code);

/* ---- the client ---- */

/* The client from the global flags (environment and profile resolve the rest). */
int cli_client(acmpca_client **out);

/* ---- output ---- */

/* Print `result` per --query and --output (`title` heads a table); returns an exit code. */
int cli_print(const char *title, const cJSON *result);
/* `v` as the AWS CLI's --output table draws it, under `title`. */
void cli_print_table(const char *title, const cJSON *v);
/* Pretty JSON with 4-space indentation (caller frees). */
char *cli_json_text(const cJSON *v);
/* "2026-01-31T12:00:00Z" */
void cli_time_text(double epoch, char *buf, size_t cap);

/* ---- waiting ---- */

typedef struct cli_progress {
    double started;       /* monotonic seconds */
    int max_attempts;     /* for "attempt n/m"; 0: the waiter's */
    const char *what;     /* "certificate issued", shown in the line */
} cli_progress;

/* An acmpca_wait_progress_fn: prints while waiting (terminal or --verbose), stops on Ctrl-C. */
int cli_on_progress(void *userdata, const char *waiter, int attempt, double delay_s);
void cli_progress_start(cli_progress *p, const char *what);
double cli_now(void);

/* ---- files ---- */

/* A whole file (or stdin for "-"), NUL-terminated, at most 1 MiB. Prints and returns NULL. */
char *cli_read_file(const char *path, int *exit_code);

/* Files written all together: each to a temporary file, then renamed in one go. */
typedef struct cli_writes {
    struct { char *tmp, *path; } f[8];
    size_t n;
} cli_writes;

/* Write `text` to a temporary file next to `path`, created exclusively (never
 * through a symlink) with `mode` from the first byte. */
int cli_stage(cli_writes *w, const char *path, const char *text, mode_t mode);
/* Rename every staged file over its target. */
int cli_commit(cli_writes *w);
/* Remove what is left of the temporary files. */
void cli_writes_free(cli_writes *w);

/* A random (version 4) UUID, lowercase: 36 characters and a NUL. Prints and
 * returns an exit code. */
int cli_uuid4(char out[37]);

/* Seconds since the epoch, or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC) -> seconds; -1 on bad text. */
int cli_parse_time(const char *text, double *out);

/* "30d", "12h", "10y", "90m", "45s", "2w" -> seconds; -1 if not a duration. */
double cli_duration(const char *text);

/* Verify `cert` against `chain` (its last certificate the trust anchor) and,
 * if given, that `key` belongs to it. Prints (ending with `note`, if given,
 * which starts with its own separator) and returns an exit code. */
int cli_verify(const char *cert, const char *chain, const char *key, const char *note);
/* The certificate's subject common name ("" if none; caller frees). */
char *cli_common_name(const char *pem);
/* 1 if the last certificate of `chain` is self-signed. */
int cli_chain_has_root(const char *chain);
/* 1 if `longer` holds the certificates of `chain` first, then more. */
int cli_chain_extends(const char *chain, const char *longer);

/* "a" + "b" with a newline between when `a` lacks one (caller frees). */
char *cli_concat_pem(const char *a, const char *b);
const char *cli_str(const cJSON *obj, const char *key);

/* ---- key types ---- */

/* "ec256" / "EC_prime256v1" -> the service's KeyAlgorithm name, or NULL. */
const char *cli_key_algorithm(const char *name);
/* The CA signing algorithm that goes with a KeyAlgorithm. */
const char *cli_signing_algorithm(const char *key_algorithm);

/* ---- the system log ---- */

/* From here on, stdout and stderr lines go to the system log (renew --daemon --syslog). */
int cli_syslog_open(void);

/* ---- commands ---- */

int cli_cmd_call(int argc, char **argv);
int cli_cmd_issue(int argc, char **argv);
int cli_cmd_renew(int argc, char **argv);
int cli_cmd_revoke(int argc, char **argv);
int cli_cmd_ca(int argc, char **argv);

#endif
