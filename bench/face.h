/*
 * face.h - the benchmark protocol shared by the C programs of bench/ (the
 * acmpca C client, the two floors, the signer): the same one the peer SDK
 * clients of bench/peers follow (see bench/peers/build.sh).
 *
 *   in:  BENCH_ENDPOINT, BENCH_CALLS (1000), BENCH_WARMUP (100), BENCH_T0 (the
 *        CLOCK_REALTIME ns at which the harness started the process),
 *        BENCH_CA_ARN / BENCH_CERT_ARN
 *   out: one JSON line: name, version, calls, cpu_us_per_call,
 *        wall_us_per_call, vmhwm_kb, t_process_start_ms, t_import_client_ms,
 *        t_first_call_ms (null when not measured)
 *
 * CPU is getrusage(RUSAGE_SELF), user + system, every thread; peak RSS is
 * VmHWM of /proc/self/status (ru_maxrss would inherit the forking parent's).
 */
#ifndef ACMPCA_BENCH_FACE_H
#define ACMPCA_BENCH_FACE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define FACE_CA_ARN "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
#define FACE_CERT_ARN FACE_CA_ARN "/certificate/0123456789abcdef"

typedef struct face_times {
    double main_s;         /* CLOCK_REALTIME at main() */
    double process_start_ms, import_client_ms, first_call_ms;
    double cpu0, wall0, cpu, wall;
} face_times;

static inline double face_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double face_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double face_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static inline long face_vmhwm_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* A non-negative integer from the environment, or `def`; exits on garbage. */
static inline long face_env_count(const char *name, long def, long min)
{
    const char *v = getenv(name);
    char *end;
    long n;
    if (!v || !*v)
        return def;
    n = strtol(v, &end, 10);
    if (*end || n < min) {
        fprintf(stderr, "%s: expected an integer >= %ld, got '%s'\n", name, min, v);
        exit(2);
    }
    return n;
}

static inline const char *face_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Call first in main(): process start = now - BENCH_T0 (when the harness gave it). */
static inline void face_start(face_times *t)
{
    const char *t0 = getenv("BENCH_T0");
    memset(t, 0, sizeof(*t));
    t->main_s = face_realtime();
    t->process_start_ms = -1;
    t->import_client_ms = -1;
    t->first_call_ms = -1;
    if (t0 && *t0)
        t->process_start_ms = (t->main_s - strtod(t0, NULL) / 1e9) * 1e3;
}

static inline void face_loop_begin(face_times *t)
{
    t->cpu0 = face_cpu();
    t->wall0 = face_monotonic();
}

static inline void face_loop_end(face_times *t)
{
    t->cpu = face_cpu() - t->cpu0;
    t->wall = face_monotonic() - t->wall0;
}

static inline void face_ms(char *buf, size_t size, double ms)
{
    if (ms < 0)
        snprintf(buf, size, "null");
    else
        snprintf(buf, size, "%.3f", ms);
}

/* The one output line; `extra` is more ",\"key\":value" members or "". */
static inline void face_print(const face_times *t, const char *name, const char *version,
                              long calls, const char *extra)
{
    char ps[32], ic[32], fc[32];
    face_ms(ps, sizeof(ps), t->process_start_ms);
    face_ms(ic, sizeof(ic), t->import_client_ms);
    face_ms(fc, sizeof(fc), t->first_call_ms);
    printf("{\"name\":\"%s\",\"version\":\"%s\",\"calls\":%ld,\"cpu_us_per_call\":%.3f,"
           "\"wall_us_per_call\":%.3f,\"vmhwm_kb\":%ld,\"t_process_start_ms\":%s,"
           "\"t_import_client_ms\":%s,\"t_first_call_ms\":%s%s}\n",
           name, version, calls, t->cpu * 1e6 / (double)calls, t->wall * 1e6 / (double)calls,
           face_vmhwm_kb(), ps, ic, fc, extra);
    fflush(stdout);
}

#endif
