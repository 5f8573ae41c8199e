/*
 * test_retry.c - the retry policy on its own: what is retried (and that
 * LimitExceededException is not), the retry quota's accounting, the backoff
 * bounds, and the adaptive limiter engaging on throttling and recovering.
 */
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "check.h"
#include "retry.h"

static acmpca_error err(int code, int status, const char *aws_code)
{
    acmpca_error e;
    memset(&e, 0, sizeof(e));
    e.code = code;
    e.http_status = status;
    e.aws_code = aws_code;
    e.message = e.request_id = e.operation = "";
    return e;
}

static void classification(void)
{
    CHECK(acmpca__is_retryable(ACMPCA_E_THROTTLING, 400, "ThrottlingException"));
    CHECK(acmpca__is_retryable(ACMPCA_ESERVICE, 400, "TooManyRequestsException"));
    CHECK(acmpca__is_retryable(ACMPCA_ESERVICE, 400, "RequestTimeout"));
    CHECK(acmpca__is_retryable(ACMPCA_ESERVICE, 503, "503"));
    CHECK(acmpca__is_retryable(ACMPCA_ECONNECT, 0, ""));
    CHECK(acmpca__is_retryable(ACMPCA_EREAD_TIMEOUT, 200, ""));
    CHECK(acmpca__is_retryable(ACMPCA_ENETWORK, 0, ""));
    /* A quota, not a rate: never retried (every AWS SDK gets this wrong). */
    CHECK(!acmpca__is_retryable(ACMPCA_E_LIMIT_EXCEEDED, 400, "LimitExceededException"));
    CHECK(!acmpca__is_throttling("LimitExceededException"));
    /* The waiters handle it. */
    CHECK(!acmpca__is_retryable(ACMPCA_E_REQUEST_IN_PROGRESS, 400, "RequestInProgressException"));
    CHECK(!acmpca__is_retryable(ACMPCA_E_VALIDATION, 400, "ValidationException"));
    CHECK(!acmpca__is_retryable(ACMPCA_E_RESOURCE_NOT_FOUND, 400, "ResourceNotFoundException"));
    CHECK(!acmpca__is_retryable(ACMPCA_ETLS, 0, ""));
    CHECK(!acmpca__is_retryable(ACMPCA_EPARAM, 0, ""));
    CHECK(!acmpca__is_retryable(ACMPCA_EBADRESPONSE, 200, ""));
}

static void quota_and_backoff(void)
{
    acmpca_retry *r = NULL;
    acmpca_error throttled = err(ACMPCA_E_THROTTLING, 400, "ThrottlingException");
    acmpca_error refused = err(ACMPCA_ECONNECT, 0, "");
    acmpca_error quota = err(ACMPCA_E_LIMIT_EXCEEDED, 400, "LimitExceededException");
    double delay = -1;
    int cost = 0, attempt, i;

    REQUIRE(acmpca__retry_new(&r, 5, 0) == 0);
    CHECK_INT(acmpca__retry_max_attempts(r), 5);
    CHECK_INT(acmpca__retry_quota(r), 500);

    /* Backoff: random[0,1) * 2^(attempt-1), capped at 20 s. */
    for (attempt = 1; attempt < 5; attempt++) {
        CHECK_INT(acmpca__retry_decide(r, attempt, &throttled, &cost, &delay), 1);
        CHECK(delay >= 0 && delay < (double)(1 << (attempt - 1)));
    }
    CHECK_INT(cost, 20);
    CHECK_INT(acmpca__retry_quota(r), 480);
    /* The last attempt is the last. */
    CHECK_INT(acmpca__retry_decide(r, 5, &throttled, &cost, &delay), 0);
    /* Not retryable: no quota taken. */
    CHECK_INT(acmpca__retry_decide(r, 1, &quota, &cost, &delay), 0);
    CHECK_INT(acmpca__retry_quota(r), 480);
    /* Success gives back what the call's retries took. */
    acmpca__retry_succeeded(r, cost);
    CHECK_INT(acmpca__retry_quota(r), 500);

    /* Connection errors cost 10; an empty quota stops retrying. */
    cost = 0;
    for (i = 0; i < 50; i++)
        CHECK_INT(acmpca__retry_decide(r, 1, &refused, &cost, &delay), 1);
    CHECK_INT(acmpca__retry_quota(r), 0);
    CHECK_INT(acmpca__retry_decide(r, 1, &throttled, &cost, &delay), 0);
    /* A success without retries refunds a little. */
    acmpca__retry_succeeded(r, 0);
    CHECK_INT(acmpca__retry_quota(r), 1);
    acmpca__retry_free(r);

    /* Long backoffs are capped at 20 s. */
    REQUIRE(acmpca__retry_new(&r, 100, 0) == 0);
    cost = 0;
    for (i = 0; i < 200; i++) {
        if (!acmpca__retry_decide(r, 30, &throttled, &cost, &delay))
            break;
        CHECK(delay <= 20.0);
    }
    acmpca__retry_free(r);
}

static void adaptive(void)
{
    acmpca_retry *r = NULL;
    double after_throttle, later;
    int i;

    REQUIRE(acmpca__retry_new(&r, 3, 1) == 0);
    /* Not limiting until the first throttle. */
    for (i = 0; i < 20; i++)
        acmpca__retry_record(r, 0);
    CHECK(acmpca__retry_send_rate(r) == 0);
    acmpca__retry_record(r, 1);
    after_throttle = acmpca__retry_send_rate(r);
    CHECK(after_throttle > 0);
    /* Successes over time raise the rate again (CUBIC growth). */
    nanosleep(&(struct timespec){1, 500000000L}, NULL);
    for (i = 0; i < 5; i++)
        acmpca__retry_record(r, 0);
    later = acmpca__retry_send_rate(r);
    printf("adaptive send rate: %.2f/s after a throttle, %.2f/s 1.5 s later\n", after_throttle,
           later);
    CHECK(later > after_throttle);
    /* Another throttle cuts it again. */
    acmpca__retry_record(r, 1);
    CHECK(acmpca__retry_send_rate(r) < later);
    acmpca__retry_free(r);

    /* Standard mode never limits. */
    REQUIRE(acmpca__retry_new(&r, 3, 0) == 0);
    acmpca__retry_record(r, 1);
    CHECK(acmpca__retry_send_rate(r) == 0);
    acmpca__retry_free(r);
}

int main(void)
{
    classification();
    quota_and_backoff();
    adaptive();
    return CHECK_DONE();
}
