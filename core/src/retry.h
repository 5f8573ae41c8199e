/*
 * retry.h - retry decisions (standard and adaptive modes) and the retry
 * quota, one instance per client, shared by all its threads.
 */
#ifndef ACMPCA_RETRY_H
#define ACMPCA_RETRY_H

#include "internal.h"

typedef struct acmpca_retry acmpca_retry;

int acmpca__retry_new(acmpca_retry **out, int max_attempts, int adaptive);
void acmpca__retry_free(acmpca_retry *r);
int acmpca__retry_max_attempts(const acmpca_retry *r);

/* 1 for codes that mean "slow down" (not LimitExceededException: a quota). */
int acmpca__is_throttling(const char *aws_code);
/* 1 when another attempt could succeed. */
int acmpca__is_retryable(int code, int http_status, const char *aws_code);

/* Adaptive mode: take a send token; the seconds to wait before sending
 * (0 in standard mode). The token is reserved: the wait pays it back. */
double acmpca__retry_reserve_send(acmpca_retry *r);
/* Adaptive mode: feed the outcome of an attempt to the rate limiter. */
void acmpca__retry_record(acmpca_retry *r, int throttled);
/* Adaptive mode: the current send rate limit in requests/s (0 = not limiting). */
double acmpca__retry_send_rate(acmpca_retry *r);

/*
 * After failed attempt number `attempt` (1-based) with error `e`: 1 if a
 * retry should follow, with the quota taken (added to *cost) and the backoff
 * in *delay_s; 0 to give up.
 */
int acmpca__retry_decide(acmpca_retry *r, int attempt, const acmpca_error *e, int *cost,
                         double *delay_s);
/* After a successful call: give back what its retries took (or a little). */
void acmpca__retry_succeeded(acmpca_retry *r, int cost);
int acmpca__retry_quota(acmpca_retry *r);

/* Per-operation client-side rate limits (token buckets), shared by threads. */
typedef struct acmpca_rate_limiter acmpca_rate_limiter;
/* ACM PCA's default quotas, with `overrides` applied. */
int acmpca__rate_limiter_new(acmpca_rate_limiter **out, const acmpca_rate_limit *overrides,
                             size_t count);
void acmpca__rate_limiter_free(acmpca_rate_limiter *l);
/* Reserve a send of `operation`: the seconds to wait first (0 for a NULL
 * limiter). Callers queue behind each other's reservations. */
double acmpca__rate_limiter_reserve(acmpca_rate_limiter *l, int operation);

#endif
