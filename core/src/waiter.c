/*
 * waiter.c - the model's waiters and paginators, written once for every
 * binding.
 *
 * Resume tokens follow botocore's format so Python users can pass them
 * between the two: the plain NextToken at a page boundary, else base64 of
 * {"NextToken": ..., "boto_truncate_amount": N} when a page was cut short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "model_data.h"

/* ---- waiters ------------------------------------------------------------- */

const acmpca_waiter_info *acmpca_waiter_at(size_t index)
{
    return index < acmpca__waiter_count ? &acmpca__waiters[index].info : NULL;
}

static const acmpca__waiter *find_waiter(const char *name)
{
    size_t i;
    for (i = 0; name && i < acmpca__waiter_count; i++)
        if (strcmp(name, acmpca__waiters[i].info.name) == 0 ||
            strcmp(name, acmpca__waiters[i].info.snake_name) == 0)
            return &acmpca__waiters[i];
    return NULL;
}

const acmpca_waiter_info *acmpca_waiter_find(const char *name)
{
    const acmpca__waiter *w = find_waiter(name);
    return w ? &w->info : NULL;
}

/* error_code: the service's error name, "" for a failure without one, NULL for an answer. */
static int acceptor_matches(const acmpca__acceptor *a, const char *error_code, const cJSON *out)
{
    const cJSON *v;

    if (a->matcher == ACMPCA__MATCH_ERROR) {
        if (!a->expected)
            return error_code == NULL;
        return error_code && strcmp(error_code, a->expected) == 0;
    }
    if (error_code)
        return 0;
    v = cJSON_GetObjectItemCaseSensitive(out, a->argument);
    return cJSON_IsString(v) && strcmp(v->valuestring, a->expected) == 0;
}

int acmpca__waiter_match(const acmpca_waiter_info *info, const char *error_code,
                         const cJSON *out)
{
    const acmpca__waiter *w = info ? find_waiter(info->name) : NULL;
    size_t i;

    for (i = 0; w && i < w->acceptor_count; i++)
        if (acceptor_matches(&w->acceptors[i], error_code, out))
            return (int)i;
    return -1;
}

/* Turn the poll's outcome into the waiter's failure, as the error to report. */
static void record_failure(const acmpca_waiter_info *info, const acmpca__acceptor *a)
{
    char state[160];

    if (a->matcher == ACMPCA__MATCH_ERROR) {
        /* Keep the service's detail (code name, request id), change the code. */
        acmpca__error_prefix(a->expected);
        acmpca__error_prefix(info->name);
        acmpca__error_prefix("waiter failed");
        acmpca__error_recode(ACMPCA_EWAITER);
        acmpca__error_set_waiter(info->name, a->expected);
        return;
    }
    acmpca__error_set(ACMPCA_EWAITER, "waiter %s failed: %s is %s", info->name, a->argument,
                      a->expected);
    snprintf(state, sizeof(state), "%s=%s", a->argument, a->expected);
    acmpca__error_set_waiter(info->name, state);
}

/* The acceptors in the model's order: the first that matches decides. */
acmpca_waiter_outcome acmpca__waiter_evaluate(const acmpca_waiter_info *info, int err,
                                              const cJSON *out)
{
    const acmpca__waiter *w = info ? find_waiter(info->name) : NULL;
    /* Only a service's answer carries an AWS code; the parser has recoded codes an
     * operation does not model, so the name is what is compared, as botocore does. */
    const char *code = err == 0 ? NULL
                       : ACMPCA_IS_SERVICE_ERROR(err) ? acmpca_error_last()->aws_code : "";
    int i = acmpca__waiter_match(info, code, out);

    if (i < 0)
        return err ? ACMPCA_WAITER_UNEXPECTED : ACMPCA_WAITER_RETRY;
    switch (w->acceptors[i].state) {
    case ACMPCA__ACCEPT_SUCCESS:
        return ACMPCA_WAITER_SUCCESS;
    case ACMPCA__ACCEPT_FAILURE:
        record_failure(info, &w->acceptors[i]);
        return ACMPCA_WAITER_FAILURE;
    case ACMPCA__ACCEPT_RETRY:
    default:
        return ACMPCA_WAITER_RETRY;
    }
}

/* ---- paginators ---------------------------------------------------------- */

const acmpca_paginator_info *acmpca_paginator_at(size_t index)
{
    return index < acmpca__paginator_count ? &acmpca__paginators[index] : NULL;
}

const acmpca_paginator_info *acmpca_paginator_find(const char *operation)
{
    const acmpca_operation_info *op = operation ? acmpca_model_operation_find(operation) : NULL;
    size_t i;
    for (i = 0; op && i < acmpca__paginator_count; i++)
        if (strcmp(op->name, acmpca__paginators[i].operation) == 0)
            return &acmpca__paginators[i];
    return NULL;
}

struct acmpca_paginator {
    acmpca_client *client;
    const acmpca_operation_info *op;
    const acmpca_paginator_info *info;
    cJSON *input;
    int page_size;
    int max_items;
    int items_seen;
    int skip;            /* items to drop from the first page (resumed mid-page) */
    char *token;         /* token for the next request, NULL for the first page */
    char *resume_token;
    int done;
    atomic_long refs;    /* the owner's, and its page machines' */
};

void acmpca__paginator_hold(acmpca_paginator *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void acmpca_paginator_free(acmpca_paginator *p)
{
    if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) > 1)
        return;
    cJSON_Delete(p->input);
    free(p->token);
    free(p->resume_token);
    acmpca_client_free(p->client);
    free(p);
}

/* Parse a starting token: plain NextToken or botocore's base64 JSON form. */
static int parse_starting_token(acmpca_paginator *p, const char *tok)
{
    size_t len = 0;
    unsigned char *raw = acmpca__base64_decode(tok, &len);
    cJSON *doc = raw ? cJSON_ParseWithLength((const char *)raw, len) : NULL;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
    const cJSON *skip = cJSON_GetObjectItemCaseSensitive(doc, "boto_truncate_amount");
    int err = 0;

    if (cJSON_IsObject(doc) && (cJSON_IsString(next) || cJSON_IsNumber(skip))) {
        p->skip = cJSON_IsNumber(skip) && skip->valueint > 0 ? skip->valueint : 0;
        if (cJSON_IsString(next) && !(p->token = acmpca__strdup(next->valuestring)))
            err = ACMPCA_ENOMEM;
    } else if (!(p->token = acmpca__strdup(tok))) {
        err = ACMPCA_ENOMEM;
    }
    cJSON_Delete(doc);
    free(raw);
    return err;
}

int acmpca_paginator_new(acmpca_paginator **out, acmpca_client *client, const char *operation,
                         const cJSON *input, int page_size, int max_items,
                         const char *starting_token)
{
    acmpca_paginator *p = NULL;
    const acmpca_paginator_info *info = acmpca_paginator_find(operation);
    int err;

    if (!out || !client)
        return acmpca__error_set(ACMPCA_EINVAL, "out and client: must not be NULL");
    *out = NULL;
    if (!info)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "operation: \"%s\" cannot be paginated; expected one of: "
                                 "list_certificate_authorities, list_permissions, list_tags",
                                 operation ? operation : "(null)");
    if (input && !cJSON_IsObject(input))
        return acmpca__error_set(ACMPCA_EPARAM, "input: expected an object");
    p = calloc(1, sizeof(*p));
    if (!p)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    atomic_init(&p->refs, 1);
    p->client = client;
    acmpca__client_hold(client);
    p->info = info;
    p->op = acmpca_model_operation_find(info->operation);
    p->page_size = page_size > 0 ? page_size : 0;
    p->max_items = max_items > 0 ? max_items : 0;
    p->input = input ? cJSON_Duplicate(input, 1) : cJSON_CreateObject();
    if (!p->input) {
        err = acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        goto fail;
    }
    if (starting_token && *starting_token && (err = parse_starting_token(p, starting_token)) != 0) {
        acmpca__error_set(err, "out of memory");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    acmpca_paginator_free(p);
    return err;
}

static int set_member(cJSON *obj, const char *name, cJSON *value)
{
    if (!value)
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    if (!cJSON_AddItemToObject(obj, name, value)) {
        cJSON_Delete(value);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    return 0;
}

/*
 * botocore's resume token: base64 of json.dumps({"NextToken": token}) at a
 * page boundary, with "boto_truncate_amount": skip when `skip` items into the
 * page fetched with `token` (json.dumps spacing, so the text matches too).
 */
static char *resume_token(const char *token, int skip)
{
    cJSON *quoted = token ? cJSON_CreateString(token) : cJSON_CreateNull();
    char *json = quoted ? cJSON_PrintUnformatted(quoted) : NULL, *b64 = NULL;
    acmpca_buf doc = {0};

    if (json && acmpca__buf_printf(&doc, "{\"NextToken\": %s", json) == 0 &&
        (skip == 0 || acmpca__buf_printf(&doc, ", \"boto_truncate_amount\": %d", skip) == 0) &&
        acmpca__buf_puts(&doc, "}") == 0)
        b64 = acmpca__base64_encode((const unsigned char *)doc.ptr, doc.len);
    cJSON_Delete(quoted);
    free(json);
    acmpca__buf_free(&doc);
    if (!b64)
        acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    return b64;
}

acmpca_client *acmpca__paginator_client(const acmpca_paginator *p)
{
    return p->client;
}

const acmpca_operation_info *acmpca__paginator_operation(const acmpca_paginator *p)
{
    return p->op;
}

int acmpca__paginator_request(acmpca_paginator *p, const cJSON **input, int *done)
{
    int err;

    *input = NULL;
    *done = p->done;
    if (p->done)
        return 0;
    if (p->token)
        err = set_member(p->input, p->info->input_token, cJSON_CreateString(p->token));
    else
        err = (cJSON_DeleteItemFromObjectCaseSensitive(p->input, p->info->input_token), 0);
    if (!err && p->page_size)
        err = set_member(p->input, p->info->limit_key, cJSON_CreateNumber(p->page_size));
    if (!err)
        *input = p->input;
    return err;
}

int acmpca__paginator_accept(acmpca_paginator *p, cJSON *out, cJSON **page)
{
    cJSON *items;
    const cJSON *next;
    char *next_token = NULL;
    int n, keep, skipped = 0;

    *page = NULL;
    items = cJSON_GetObjectItemCaseSensitive(out, p->info->result_key);
    if (p->skip && cJSON_IsArray(items)) {
        for (; skipped < p->skip && cJSON_GetArraySize(items) > 0; skipped++)
            cJSON_DeleteItemFromArray(items, 0);
        p->skip = 0;
    }
    next = cJSON_GetObjectItemCaseSensitive(out, p->info->output_token);
    if (cJSON_IsString(next) && next->valuestring[0] &&
        !(p->token && strcmp(p->token, next->valuestring) == 0)) {
        if (!(next_token = acmpca__strdup(next->valuestring))) {
            cJSON_Delete(out);
            return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        }
    }

    n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0;
    if (p->max_items && p->items_seen + n >= p->max_items) {
        keep = p->max_items - p->items_seen;
        free(p->resume_token);
        p->resume_token = NULL;
        if (keep < n) {
            p->resume_token = resume_token(p->token, skipped + keep);
            while (cJSON_GetArraySize(items) > keep)
                cJSON_DeleteItemFromArray(items, keep);
        } else if (next_token) {
            p->resume_token = resume_token(next_token, 0);
        }
        /* Like botocore, the page keeps the service's token; resume_token resumes. */
        p->done = 1;
        n = keep;
    }
    p->items_seen += n;
    free(p->token);
    p->token = next_token;
    if (!p->token)
        p->done = 1;
    *page = out;
    return 0;
}

const char *acmpca_paginator_resume_token(const acmpca_paginator *p)
{
    return p ? p->resume_token : NULL;
}
