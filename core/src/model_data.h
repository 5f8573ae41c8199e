/*
 * model_data.h - the generated tables (model_data.c, written by
 * tools/gen_model.py from the model files): operations, waiters, paginators
 * and default quotas. Private: read them through acmpca/model.h,
 * acmpca/waiter.h and the rate limiter.
 */
#ifndef ACMPCA_MODEL_DATA_H
#define ACMPCA_MODEL_DATA_H

#include <stddef.h>

#include "acmpca/model.h"
#include "acmpca/operations.h"
#include "acmpca/waiter.h"

/* Indexed by acmpca_operation: acmpca__operations[i].id == i. */
extern const acmpca_operation_info acmpca__operations[ACMPCA_OP_COUNT];

/* An acceptor of waiters-2.json: the matchers this model uses, and only the
 * forms of them the generator lets through. */
typedef enum acmpca__matcher {
    ACMPCA__MATCH_ERROR,  /* expected NULL: the call succeeded ("expected": false);
                             else the service's AWS error code equals expected */
    ACMPCA__MATCH_PATH    /* the top-level output member `argument` is the string expected */
} acmpca__matcher;

typedef enum acmpca__accept_state {
    ACMPCA__ACCEPT_SUCCESS,
    ACMPCA__ACCEPT_RETRY,
    ACMPCA__ACCEPT_FAILURE
} acmpca__accept_state;

typedef struct acmpca__acceptor {
    acmpca__matcher matcher;
    acmpca__accept_state state;
    const char *argument;  /* PATH: the output member; ERROR: NULL */
    const char *expected;
} acmpca__acceptor;

typedef struct acmpca__waiter {
    acmpca_waiter_info info;
    const acmpca__acceptor *acceptors;  /* in the model's order: the first match decides */
    size_t acceptor_count;
} acmpca__waiter;

/* Sorted by name. */
extern const acmpca__waiter acmpca__waiters[];
extern const size_t acmpca__waiter_count;

/* Sorted by operation. */
extern const acmpca_paginator_info acmpca__paginators[];
extern const size_t acmpca__paginator_count;

/* ACM PCA's default request-rate quotas (tools/quotas.json), requests per
 * second, indexed by acmpca_operation; 0 where none is published. */
extern const double acmpca__default_quotas[ACMPCA_OP_COUNT];

#endif
