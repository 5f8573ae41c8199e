/*
 * retry.c - which failures are worth another attempt, and how long to wait.
 *
 * Standard mode, as the AWS SDKs document it: jittered exponential backoff
 * min(random[0,1) * 2^(attempt-1), 20 s) and a per-client retry quota of 500
 * tokens (5 per retry, 10 after a timeout or connection error, given back
 * when the retried call succeeds). Adaptive mode adds the client-side rate
 * limiter: a token bucket whose fill rate follows CUBIC, cut on throttling
 * and grown back on success.
 *
 * The optional per-operation limiter paces calls to ACM PCA's published
 * default request quotas, one token bucket per operation shared by every
 * thread of the client. Its burst is a single request: calls are spaced
 * 1/rate apart, so no one-second window ever holds more than the quota.
 *
 * Unlike the AWS SDKs, LimitExceededException is not treated as throttling:
 * in ACM PCA it reports a quota (e.g. the number of CAs), which no amount of
 * retrying fixes.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "model_data.h"
#include "retry.h"

#define QUOTA_MAX 500
#define COST_RETRY 5
#define COST_TIMEOUT 10
#define NO_RETRY_INCREMENT 1
#define MAX_BACKOFF_S 20.0

/* Adaptive mode constants (as in the AWS SDKs). */
#define CUBIC_BETA 0.7
#define CUBIC_SCALE 0.4
#define MIN_FILL_RATE 0.5
#define MIN_CAPACITY 1.0
#define SMOOTH 0.8
#define BUCKET_S 0.5

struct acmpca_retry {
    pthread_mutex_t lock;
    int max_attempts;
    int adaptive;
    int quota;
    /* Adaptive state. */
    int limiter_on;
    double fill_rate, capacity, max_capacity, last_refill;
    double measured_rate, bucket_time;
    int bucket_count;
    double last_max_rate, last_throttle;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int acmpca__retry_new(acmpca_retry **out, int max_attempts, int adaptive)
{
    acmpca_retry *r = calloc(1, sizeof(*r));
    if (!r || pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    r->max_attempts = max_attempts > 0 ? max_attempts : 3;
    r->adaptive = adaptive;
    r->quota = QUOTA_MAX;
    r->last_throttle = now_s();
    r->bucket_time = floor(r->last_throttle / BUCKET_S) * BUCKET_S;
    *out = r;
    return 0;
}

void acmpca__retry_free(acmpca_retry *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int acmpca__retry_max_attempts(const acmpca_retry *r)
{
    return r->max_attempts;
}

int acmpca__is_throttling(const char *aws_code)
{
    static const char *const names[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    };
    size_t i;
    for (i = 0; aws_code && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(aws_code, names[i]) == 0)
            return 1;
    return 0;
}

static int is_transient_code(const char *aws_code)
{
    return strcmp(aws_code, "RequestTimeout") == 0 ||
           strcmp(aws_code, "RequestTimeoutException") == 0 ||
           strcmp(aws_code, "InternalError") == 0 || strcmp(aws_code, "InternalFailure") == 0 ||
           strcmp(aws_code, "ServiceUnavailable") == 0;
}

int acmpca__is_retryable(int code, int http_status, const char *aws_code)
{
    switch (code) {
    case ACMPCA_ECONNECT:
    case ACMPCA_ECONNECT_TIMEOUT:
    case ACMPCA_EREAD_TIMEOUT:
    case ACMPCA_ENETWORK:
        return 1;
    default:
        break;
    }
    if (!ACMPCA_IS_SERVICE_ERROR(code))
        return 0;
    if (code == ACMPCA_E_LIMIT_EXCEEDED || code == ACMPCA_E_REQUEST_IN_PROGRESS)
        return 0;
    return acmpca__is_throttling(aws_code) || is_transient_code(aws_code) ||
           http_status == 500 || http_status == 502 || http_status == 503 ||
           http_status == 504;
}

static double jitter(void)
{
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
        v = (uint32_t)rand();
    return (double)v / 4294967296.0;
}

/* ---- adaptive rate limiter (caller holds the lock) ------------------------ */

static void refill(acmpca_retry *r, double t)
{
    if (r->last_refill > 0) {
        r->capacity += (t - r->last_refill) * r->fill_rate;
        if (r->capacity > r->max_capacity)
            r->capacity = r->max_capacity;
    }
    r->last_refill = t;
}

static void measure(acmpca_retry *r, double t)
{
    double bucket = floor(t * 2) / 2;
    r->bucket_count++;
    if (bucket > r->bucket_time) {
        double rate = r->bucket_count / (bucket - r->bucket_time);
        r->measured_rate = rate * SMOOTH + r->measured_rate * (1 - SMOOTH);
        r->bucket_count = 0;
        r->bucket_time = bucket;
    }
}

static void set_rate(acmpca_retry *r, double rate, double t)
{
    refill(r, t);
    r->fill_rate = rate > MIN_FILL_RATE ? rate : MIN_FILL_RATE;
    r->max_capacity = rate > MIN_CAPACITY ? rate : MIN_CAPACITY;
    if (r->capacity > r->max_capacity)
        r->capacity = r->max_capacity;
}

double acmpca__retry_reserve_send(acmpca_retry *r)
{
    double wait = 0, t;
    if (!r->adaptive)
        return 0;
    pthread_mutex_lock(&r->lock);
    if (r->limiter_on) {
        t = now_s();
        refill(r, t);
        if (r->capacity < 1)
            wait = (1 - r->capacity) / r->fill_rate;
        r->capacity -= 1; /* reserve now; the refill during the sleep pays it back */
    }
    pthread_mutex_unlock(&r->lock);
    return wait;
}

void acmpca__retry_record(acmpca_retry *r, int throttled)
{
    double t, rate;
    if (!r->adaptive)
        return;
    pthread_mutex_lock(&r->lock);
    t = now_s();
    measure(r, t);
    if (throttled) {
        rate = r->limiter_on && r->fill_rate < r->measured_rate ? r->fill_rate : r->measured_rate;
        r->last_max_rate = rate;
        r->last_throttle = t;
        rate *= CUBIC_BETA;
        r->limiter_on = 1;
    } else {
        double window = cbrt(r->last_max_rate * (1 - CUBIC_BETA) / CUBIC_SCALE);
        double dt = t - r->last_throttle - window;
        rate = CUBIC_SCALE * dt * dt * dt + r->last_max_rate;
    }
    if (r->limiter_on) {
        if (rate > 2 * r->measured_rate && r->measured_rate > 0)
            rate = 2 * r->measured_rate;
        set_rate(r, rate, t);
    }
    pthread_mutex_unlock(&r->lock);
}

double acmpca__retry_send_rate(acmpca_retry *r)
{
    double rate;
    pthread_mutex_lock(&r->lock);
    rate = r->limiter_on ? r->fill_rate : 0;
    pthread_mutex_unlock(&r->lock);
    return rate;
}

/* ---- standard mode --------------------------------------------------------- */

int acmpca__retry_decide(acmpca_retry *r, int attempt, const acmpca_error *e, int *cost,
                         double *delay_s)
{
    int take, ok = 0;
    double backoff;

    if (attempt >= r->max_attempts || !acmpca__is_retryable(e->code, e->http_status, e->aws_code))
        return 0;
    take = (e->code == ACMPCA_ECONNECT_TIMEOUT || e->code == ACMPCA_EREAD_TIMEOUT ||
            e->code == ACMPCA_ECONNECT || e->code == ACMPCA_ENETWORK)
               ? COST_TIMEOUT
               : COST_RETRY;
    pthread_mutex_lock(&r->lock);
    if (r->quota >= take) {
        r->quota -= take;
        *cost += take;
        ok = 1;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok)
        return 0;
    backoff = jitter() * ldexp(1.0, attempt - 1);
    *delay_s = backoff < MAX_BACKOFF_S ? backoff : MAX_BACKOFF_S;
    return 1;
}

void acmpca__retry_succeeded(acmpca_retry *r, int cost)
{
    pthread_mutex_lock(&r->lock);
    r->quota += cost ? cost : NO_RETRY_INCREMENT;
    if (r->quota > QUOTA_MAX)
        r->quota = QUOTA_MAX;
    pthread_mutex_unlock(&r->lock);
}

int acmpca__retry_quota(acmpca_retry *r)
{
    int q;
    pthread_mutex_lock(&r->lock);
    q = r->quota;
    pthread_mutex_unlock(&r->lock);
    return q;
}

/* ---- per-operation rate limiter ---------------------------------------------- */

typedef struct bucket {
    double rate;       /* tokens per second; 0 = unlimited */
    double tokens;
    double last;
} bucket;

struct acmpca_rate_limiter {
    pthread_mutex_t lock;
    bucket buckets[ACMPCA_OP_COUNT];
};

/* ACM PCA's default quotas, requests per second (tools/quotas.json). */
static double default_quota(const char *op)
{
    const acmpca_operation_info *info = acmpca_model_operation_find(op);
    return info ? acmpca__default_quotas[info->id] : 0;
}

int acmpca__rate_limiter_new(acmpca_rate_limiter **out, const acmpca_rate_limit *overrides,
                             size_t count)
{
    acmpca_rate_limiter *l;
    size_t i;

    *out = NULL;
    for (i = 0; i < count; i++) {
        if (!overrides[i].operation || !acmpca_model_operation_find(overrides[i].operation))
            return acmpca__error_set(ACMPCA_EINVAL, "rate_limits[%zu].operation: unknown "
                                     "operation \"%s\"", i,
                                     overrides[i].operation ? overrides[i].operation : "(null)");
        if (!isfinite(overrides[i].requests_per_second) || overrides[i].requests_per_second < 0)
            return acmpca__error_set(ACMPCA_EINVAL, "rate_limits[%zu].requests_per_second: "
                                     "expected a finite number >= 0", i);
    }
    if (!(l = calloc(1, sizeof(*l))) || pthread_mutex_init(&l->lock, NULL) != 0) {
        free(l);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    for (i = 0; i < ACMPCA_OP_COUNT; i++) {
        l->buckets[i].rate = default_quota(acmpca_model_operation(i)->name);
        l->buckets[i].tokens = 1;
    }
    for (i = 0; i < count; i++) {
        bucket *b = &l->buckets[acmpca_model_operation_find(overrides[i].operation)->id];
        b->rate = overrides[i].requests_per_second;
    }
    *out = l;
    return 0;
}

void acmpca__rate_limiter_free(acmpca_rate_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

double acmpca__rate_limiter_reserve(acmpca_rate_limiter *l, int operation)
{
    bucket *b;
    double t, wait = 0;
    if (!l || operation < 0 || operation >= ACMPCA_OP_COUNT)
        return 0;
    b = &l->buckets[operation];
    if (b->rate <= 0)
        return 0;
    pthread_mutex_lock(&l->lock);
    t = now_s();
    if (b->last > 0) {
        b->tokens += (t - b->last) * b->rate;
        if (b->tokens > 1)
            b->tokens = 1;
    }
    b->last = t;
    if (b->tokens < 1)
        wait = (1 - b->tokens) / b->rate;
    b->tokens -= 1; /* reserved: later callers queue behind this one */
    pthread_mutex_unlock(&l->lock);
    return wait;
}
