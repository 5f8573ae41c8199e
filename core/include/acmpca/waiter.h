/*
 * acmpca/waiter.h - waiters (poll until a resource reaches a state) and
 * paginators (iterate over every page of a List operation), as defined by
 * the ACM PCA model.
 */
#ifndef ACMPCA_WAITER_H
#define ACMPCA_WAITER_H

#include <cjson/cJSON.h>

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acmpca_waiter_info {
    const char *name;          /* "CertificateIssued" */
    const char *snake_name;    /* "certificate_issued" */
    const char *operation;     /* "GetCertificate" */
    double delay_s;            /* the model's delay between attempts */
    int max_attempts;          /* the model's number of attempts */
} acmpca_waiter_info;

/* The 3 waiters, by index (NULL past the end) or by either name (NULL if unknown). */
ACMPCA_API const acmpca_waiter_info *acmpca_waiter_at(size_t index);
ACMPCA_API const acmpca_waiter_info *acmpca_waiter_find(const char *name);

/*
 * Poll the waiter's operation with `input` until success. `delay_s` <= 0 and
 * `max_attempts` <= 0 take the model's values. On success returns 0 and, if
 * `last` is not NULL, the last response (caller-owned). Fails with
 * ACMPCA_EWAITER when a failure state is reached (the message names it) or
 * after max_attempts ("gave up after N attempts"); with the service error
 * itself when the operation fails with an error the waiter does not expect.
 */
ACMPCA_API int acmpca_wait(acmpca_client *client, const char *waiter, const cJSON *input,
                           double delay_s, int max_attempts, cJSON **last);

/*
 * Told before each pause of a waiter: which attempt just ended, how long it
 * will wait. Return 0 to go on, anything else to stop the waiter, which then
 * fails with ACMPCA_ECANCELLED (e.g. on Ctrl-C).
 */
typedef int (*acmpca_wait_progress_fn)(void *userdata, const char *waiter, int attempt,
                                       double delay_s);

/* As acmpca_wait, calling `progress` (may be NULL) before every pause. */
ACMPCA_API int acmpca_wait_ex(acmpca_client *client, const char *waiter, const cJSON *input,
                              double delay_s, int max_attempts, cJSON **last,
                              acmpca_wait_progress_fn progress, void *userdata);

typedef struct acmpca_paginator acmpca_paginator;

typedef struct acmpca_paginator_info {
    const char *operation;     /* "ListTags" */
    const char *input_token;   /* "NextToken" */
    const char *output_token;  /* "NextToken" */
    const char *limit_key;     /* "MaxResults" */
    const char *result_key;    /* "Tags" */
} acmpca_paginator_info;

/* The 3 paginators by index (NULL past the end). */
ACMPCA_API const acmpca_paginator_info *acmpca_paginator_at(size_t index);
/* Pagination facts for an operation (either name), or NULL if it does not paginate. */
ACMPCA_API const acmpca_paginator_info *acmpca_paginator_find(const char *operation);

/*
 * Start iterating. `page_size` > 0 sets the limit key on every request;
 * `max_items` > 0 stops after that many result items in all;
 * `starting_token` (may be NULL) resumes where an earlier run stopped.
 * No I/O happens until acmpca_paginator_next().
 */
ACMPCA_API int acmpca_paginator_new(acmpca_paginator **out, acmpca_client *client,
                                    const char *operation, const cJSON *input, int page_size,
                                    int max_items, const char *starting_token);
/*
 * The next page (caller-owned) in *page, or *page = NULL when there are no
 * more pages (NextToken absent or null). Returns a negative code on failure.
 */
ACMPCA_API int acmpca_paginator_next(acmpca_paginator *p, cJSON **page);
/* As acmpca_paginator_next, also returning the page's response metadata (may be NULL). */
ACMPCA_API int acmpca_paginator_next_ex(acmpca_paginator *p, cJSON **page,
                                        acmpca_response_meta **meta);
/*
 * The token to resume from after stopping early (NULL when none), in
 * botocore's format (base64 of {"NextToken": ..., "boto_truncate_amount": N}),
 * so tokens pass between this library and boto3 both ways.
 */
ACMPCA_API const char *acmpca_paginator_resume_token(const acmpca_paginator *p);
/* Free a paginator; a page machine made from it holds it until that is freed too. */
ACMPCA_API void acmpca_paginator_free(acmpca_paginator *p);

#ifdef __cplusplus
}
#endif
#endif
