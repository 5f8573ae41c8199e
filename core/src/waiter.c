/*
 * waiter.c - the model's waiters and paginators, written once for every
 * binding.
 *
 * Resume tokens follow botocore's format so Python users can pass them
 * between the two: the plain NextToken at a page boundary, else base64 of
 * {"NextToken": ..., "boto_truncate_amount": N} when a page was cut short.
 */
#include <stdlib.h>
#include <string.h>

#include "retry.h"

/* ---- waiters ------------------------------------------------------------- */

typedef enum waiter_kind {
    WAIT_UNTIL_NO_ERROR,     /* success when the call succeeds */
    WAIT_UNTIL_REPORT_STATUS /* success / failure by AuditReportStatus */
} waiter_kind;

typedef struct waiter_def {
    acmpca_waiter_info info;
    waiter_kind kind;
} waiter_def;

static const waiter_def waiters[] = {
    {{"AuditReportCreated", "audit_report_created", "DescribeCertificateAuthorityAuditReport",
      3, 60}, WAIT_UNTIL_REPORT_STATUS},
    {{"CertificateAuthorityCSRCreated", "certificate_authority_csr_created",
      "GetCertificateAuthorityCsr", 3, 60}, WAIT_UNTIL_NO_ERROR},
    {{"CertificateIssued", "certificate_issued", "GetCertificate", 1, 60}, WAIT_UNTIL_NO_ERROR},
};
#define WAITER_COUNT (sizeof(waiters) / sizeof(waiters[0]))

const acmpca_waiter_info *acmpca_waiter_at(size_t index)
{
    return index < WAITER_COUNT ? &waiters[index].info : NULL;
}

static const waiter_def *find_waiter(const char *name)
{
    size_t i;
    for (i = 0; name && i < WAITER_COUNT; i++)
        if (strcmp(name, waiters[i].info.name) == 0 ||
            strcmp(name, waiters[i].info.snake_name) == 0)
            return &waiters[i];
    return NULL;
}

const acmpca_waiter_info *acmpca_waiter_find(const char *name)
{
    const waiter_def *w = find_waiter(name);
    return w ? &w->info : NULL;
}

int acmpca_wait(acmpca_client *client, const char *name, const cJSON *input, double delay_s,
                int max_attempts, cJSON **last)
{
    return acmpca_wait_ex(client, name, input, delay_s, max_attempts, last, NULL, NULL);
}

int acmpca_wait_ex(acmpca_client *client, const char *name, const cJSON *input, double delay_s,
                   int max_attempts, cJSON **last, acmpca_wait_progress_fn progress,
                   void *userdata)
{
    const waiter_def *w = find_waiter(name);
    const acmpca_operation_info *op;
    cJSON *out = NULL;
    int attempt, err;

    if (last)
        *last = NULL;
    if (!client)
        return acmpca__error_set(ACMPCA_EINVAL, "client: must not be NULL");
    if (!w)
        return acmpca__error_set(ACMPCA_EINVAL,
                                 "waiter: unknown waiter \"%s\"; expected one of: "
                                 "certificate_issued, certificate_authority_csr_created, "
                                 "audit_report_created", name ? name : "(null)");
    op = acmpca_model_operation_find(w->info.operation);
    if (delay_s <= 0)
        delay_s = w->info.delay_s;
    if (max_attempts <= 0)
        max_attempts = w->info.max_attempts;

    for (attempt = 1;; attempt++) {
        err = acmpca_call_ex(client, op->id, input, &out, NULL);
        if (err == ACMPCA_E_ACCESS_DENIED) {
            /* A failure acceptor: keep the service's detail, change the code. */
            acmpca__error_prefix("AccessDeniedException");
            acmpca__error_prefix(w->info.name);
            acmpca__error_prefix("waiter failed");
            acmpca__error_recode(ACMPCA_EWAITER);
            return ACMPCA_EWAITER;
        }
        if (err && err != ACMPCA_E_REQUEST_IN_PROGRESS)
            return err; /* an error no acceptor expects: report it as it is */
        if (!err) {
            const cJSON *status;
            if (w->kind == WAIT_UNTIL_NO_ERROR)
                break;
            status = cJSON_GetObjectItemCaseSensitive(out, "AuditReportStatus");
            if (cJSON_IsString(status) && strcmp(status->valuestring, "SUCCESS") == 0)
                break;
            if (cJSON_IsString(status) && strcmp(status->valuestring, "FAILED") == 0) {
                cJSON_Delete(out);
                return acmpca__error_set(ACMPCA_EWAITER,
                                         "waiter %s failed: AuditReportStatus is FAILED",
                                         w->info.name);
            }
            cJSON_Delete(out);
            out = NULL;
        }
        if (attempt >= max_attempts) {
            acmpca__error_set(ACMPCA_EWAITER, "waiter %s gave up after %d attempts", w->info.name,
                              attempt);
            acmpca__error_annotate(w->info.operation, attempt, 0);
            return ACMPCA_EWAITER;
        }
        if (progress && progress(userdata, w->info.name, attempt, delay_s) != 0) {
            acmpca__error_set(ACMPCA_ECANCELLED, "waiter %s cancelled after %d attempts",
                              w->info.name, attempt);
            acmpca__error_annotate(w->info.operation, attempt, 0);
            return ACMPCA_ECANCELLED;
        }
        acmpca__sleep(delay_s);
    }
    if (last)
        *last = out;
    else
        cJSON_Delete(out);
    return 0;
}

/* ---- paginators ---------------------------------------------------------- */

static const acmpca_paginator_info paginators[] = {
    {"ListCertificateAuthorities", "NextToken", "NextToken", "MaxResults", "CertificateAuthorities"},
    {"ListPermissions", "NextToken", "NextToken", "MaxResults", "Permissions"},
    {"ListTags", "NextToken", "NextToken", "MaxResults", "Tags"},
};

const acmpca_paginator_info *acmpca_paginator_at(size_t index)
{
    return index < sizeof(paginators) / sizeof(paginators[0]) ? &paginators[index] : NULL;
}

const acmpca_paginator_info *acmpca_paginator_find(const char *operation)
{
    const acmpca_operation_info *op = operation ? acmpca_model_operation_find(operation) : NULL;
    size_t i;
    for (i = 0; op && i < sizeof(paginators) / sizeof(paginators[0]); i++)
        if (strcmp(op->name, paginators[i].operation) == 0)
            return &paginators[i];
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
};

void acmpca_paginator_free(acmpca_paginator *p)
{
    if (!p)
        return;
    cJSON_Delete(p->input);
    free(p->token);
    free(p->resume_token);
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
    p->client = client;
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

int acmpca_paginator_next(acmpca_paginator *p, cJSON **page)
{
    return acmpca_paginator_next_ex(p, page, NULL);
}

int acmpca_paginator_next_ex(acmpca_paginator *p, cJSON **page, acmpca_response_meta **meta)
{
    cJSON *out = NULL, *items;
    const cJSON *next;
    char *next_token = NULL;
    int err, n, keep, skipped = 0;

    if (meta)
        *meta = NULL;
    if (!p || !page)
        return acmpca__error_set(ACMPCA_EINVAL, "paginator and page: must not be NULL");
    *page = NULL;
    if (p->done)
        return 0;
    if (p->token)
        err = set_member(p->input, p->info->input_token, cJSON_CreateString(p->token));
    else
        err = (cJSON_DeleteItemFromObjectCaseSensitive(p->input, p->info->input_token), 0);
    if (!err && p->page_size)
        err = set_member(p->input, p->info->limit_key, cJSON_CreateNumber(p->page_size));
    if (err)
        return err;
    if ((err = acmpca_call_ex(p->client, p->op->id, p->input, &out, meta)) != 0)
        return err;

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
            return ACMPCA_ENOMEM;
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
        /* Like botocore, the page handed out does not carry the raw token. */
        cJSON_DeleteItemFromObjectCaseSensitive(out, p->info->output_token);
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
