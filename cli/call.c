/*
 * call.c - `acmpca call OPERATION`: any of the 23 operations, its input from
 * JSON (--input) and/or one flag per member converted by the model's type,
 * its result printed per --output and --query; --all follows every page.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "issue-certificate", "issue_certificate" or "IssueCertificate". */
static const acmpca_operation_info *find_operation(const char *name)
{
    char snake[128];
    size_t i;

    for (i = 0; name[i] && i + 1 < sizeof(snake); i++)
        snake[i] = name[i] == '-' ? '_' : name[i];
    snake[i] = '\0';
    return name[i] ? NULL : acmpca_model_operation_find(snake);
}

static void kebab(const char *snake, char *out, size_t cap)
{
    size_t i;
    for (i = 0; snake[i] && i + 1 < cap; i++)
        out[i] = snake[i] == '_' ? '-' : snake[i];
    out[i] = '\0';
}

/* "--certificate-authority-arn" or "--CertificateAuthorityArn": case and dashes do not matter. */
static const acmpca_member *find_member(const acmpca_shape *shape, const char *flag)
{
    size_t i;
    for (i = 0; i < shape->member_count; i++) {
        const char *a = shape->members[i].name, *b = flag;
        for (;;) {
            while (*b == '-')
                b++;
            if (!*a || !*b || tolower((unsigned char)*a) != tolower((unsigned char)*b))
                break;
            a++;
            b++;
        }
        if (!*a && !*b)
            return &shape->members[i];
    }
    return NULL;
}

static void operation_help(const acmpca_operation_info *op)
{
    char name[128];
    size_t i, k;

    kebab(op->snake_name, name, sizeof(name));
    printf("usage: acmpca call %s [--input JSON|@FILE|-] [--Member VALUE]...\n\n", name);
    printf("%s (%s) input members:\n", op->name, op->input->name);
    if (op->input->member_count == 0)
        printf("  (none)\n");
    for (i = 0; i < op->input->member_count; i++) {
        const acmpca_member *m = &op->input->members[i];
        printf("  --%-34s %s%s", m->name, acmpca_model_type_name(m->shape->type),
               m->required ? ", required" : m->idempotency_token ? ", filled in when absent" : "");
        for (k = 0; k < m->shape->enum_count && k < 12; k++)
            printf("%s%s", k ? "|" : ": ", m->shape->enum_values[k]);
        printf("\n");
    }
    if (acmpca_paginator_find(op->name))
        printf("\n--all follows NextToken through every page.\n");
}

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int cli_parse_time(const char *text, double *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
    char *end;
    double v = strtod(text, &end);

    if (end != text && !*end) {
        *out = v;
        return 0;
    }
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
        return -1;
    if (text[used] == 'T' || text[used] == ' ') {
        int more = 0;
        if (sscanf(text + used + 1, "%2d:%2d%n:%2d%n", &h, &mi, &more, &s, &more) < 2)
            return -1;
        used += 1 + more;
    }
    if (text[used] == 'Z')
        used++;
    if (text[used] || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    *out = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s);
    return 0;
}

/* The text of a value, or of the file it names with @FILE. */
static char *value_text(const char *text, int *rc)
{
    *rc = CLI_OK;
    return text[0] == '@' ? cli_read_file(text + 1, rc) : strdup(text);
}

/* A member flag's text -> the JSON value its shape wants. */
static int member_value(const acmpca_member *m, const char *text, cJSON **out)
{
    const char *name = m->name;
    char *copy = NULL, *end;
    double num;
    int rc = CLI_OK;

    switch (m->shape->type) {
    case ACMPCA_SHAPE_STRING:
        *out = cJSON_CreateString(text);
        break;
    case ACMPCA_SHAPE_BLOB:
        if ((copy = value_text(text, &rc)) != NULL)
            *out = cJSON_CreateString(copy);
        break;
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG:
        errno = 0;
        num = (double)strtoll(text, &end, 10);
        if (!*text || *end || errno)
            return cli_usage("call", "--%s: expected an integer, got \"%s\"", name, text);
        *out = cJSON_CreateNumber(num);
        break;
    case ACMPCA_SHAPE_BOOLEAN:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            return cli_usage("call", "--%s: expected true or false, got \"%s\"", name, text);
        *out = cJSON_CreateBool(text[0] == 't');
        break;
    case ACMPCA_SHAPE_TIMESTAMP:
        if (cli_parse_time(text, &num) != 0)
            return cli_usage("call", "--%s: expected seconds since the epoch or "
                                     "YYYY-MM-DDTHH:MM:SSZ, got \"%s\"", name, text);
        *out = cJSON_CreateNumber(num);
        break;
    default:
        if ((copy = value_text(text, &rc)) == NULL)
            break;
        if (!(*out = cJSON_Parse(copy)))
            rc = cli_usage("call", "--%s: expected JSON (a %s), got \"%.40s\"", name,
                           acmpca_model_type_name(m->shape->type), copy);
        break;
    }
    free(copy);
    if (rc == CLI_OK && !*out)
        rc = cli_error(CLI_SERVICE, "out of memory");
    return rc;
}

/* Every page of a paginated operation, merged into one result. */
static int call_all(acmpca_client *c, const acmpca_operation_info *op, const cJSON *in,
                    cJSON **out)
{
    const acmpca_paginator_info *info = acmpca_paginator_find(op->name);
    acmpca_paginator *p = NULL;
    cJSON *page = NULL, *items, *el;
    int rc = CLI_OK;

    *out = NULL;
    if (acmpca_paginator_new(&p, c, op->name, in, 0, 0, NULL) != 0)
        return cli_fail(op->name);
    while ((rc = acmpca_paginator_next(p, &page)) == 0 && page) {
        if (!*out) {
            *out = page;
        } else {
            items = cJSON_GetObjectItemCaseSensitive(*out, info->result_key);
            while (cJSON_IsArray(items) &&
                   (el = cJSON_DetachItemFromArray(
                        cJSON_GetObjectItemCaseSensitive(page, info->result_key), 0)) != NULL)
                cJSON_AddItemToArray(items, el);
            cJSON_Delete(page);
        }
        page = NULL;
    }
    if (rc != 0) {
        rc = cli_fail(op->name);
        cJSON_Delete(*out);
        *out = NULL;
    } else if (!*out) {
        *out = cJSON_CreateObject();
    }
    if (*out)
        cJSON_DeleteItemFromObjectCaseSensitive(*out, info->output_token);
    acmpca_paginator_free(p);
    return rc;
}

int cli_cmd_call(int argc, char **argv)
{
    const acmpca_operation_info *op = NULL;
    const char *input = NULL, *name = NULL;
    const char **flags = calloc((size_t)argc + 1, sizeof(char *));
    const char **values = calloc((size_t)argc + 1, sizeof(char *));
    acmpca_client *client = NULL;
    cJSON *in = NULL, *out = NULL;
    char *text = NULL;
    int i, n = 0, list = 0, all = 0, help = 0, rc = CLI_OK;

    if (!flags || !values) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        if (strcmp(arg, "--list") == 0) {
            list = 1;
        } else if (strcmp(arg, "--all") == 0) {
            all = 1;
        } else if (strcmp(arg, "--help") == 0) {
            help = 1;
        } else if (strncmp(arg, "--", 2) != 0) {
            if (name) {
                rc = cli_usage("call", "unexpected argument \"%s\"", arg);
                goto done;
            }
            name = arg;
        } else if (!eq && i + 1 >= argc) {
            rc = cli_usage("call", "%s needs a value", arg);
            goto done;
        } else if (strncmp(arg, "--input", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
            if (input) {
                rc = cli_usage("call", "--input given twice");
                goto done;
            }
            input = eq ? eq + 1 : argv[++i];
        } else {
            /* A member flag; resolved once the operation is known. */
            flags[n] = arg + 2;
            values[n++] = eq ? eq + 1 : argv[++i];
        }
    }
    if (list) {
        char k[128];
        for (i = 0; (size_t)i < acmpca_model_operation_count(); i++) {
            kebab(acmpca_model_operation((size_t)i)->snake_name, k, sizeof(k));
            puts(k);
        }
        goto done;
    }
    if (!name) {
        rc = cli_usage("call", "which operation? (acmpca call --list shows them)");
        goto done;
    }
    if (!(op = find_operation(name))) {
        rc = cli_usage("call", "unknown operation \"%s\" (acmpca call --list shows them)", name);
        goto done;
    }
    if (help) {
        operation_help(op);
        goto done;
    }
    if (all && !acmpca_paginator_find(op->name)) {
        rc = cli_usage("call", "--all: %s does not paginate", op->name);
        goto done;
    }

    if (input) {
        if (!(text = value_text(strcmp(input, "-") == 0 ? "@-" : input, &rc)))
            goto done;
        if (!(in = cJSON_Parse(text)) || !cJSON_IsObject(in)) {
            rc = cli_usage("call", "--input: expected a JSON object");
            goto done;
        }
    } else if (!(in = cJSON_CreateObject())) {
        rc = cli_error(CLI_SERVICE, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        const acmpca_member *m = find_member(op->input, flags[i]);
        cJSON *v = NULL;
        if (!m) {
            rc = cli_usage("call", "--%s: %s has no such member (acmpca call %s --help lists "
                                   "them)", flags[i], op->name, name);
            goto done;
        }
        if ((rc = member_value(m, values[i], &v)) != CLI_OK)
            goto done;
        cJSON_DeleteItemFromObjectCaseSensitive(in, m->name);
        cJSON_AddItemToObject(in, m->name, v);
    }

    if ((rc = cli_client(&client)) != CLI_OK)
        goto done;
    if (all)
        rc = call_all(client, op, in, &out);
    else if (acmpca_call(client, op->name, in, &out) != 0)
        rc = cli_fail(op->name);
    if (rc == CLI_OK)
        rc = cli_print(op->name, out);
done:
    acmpca_client_free(client);
    cJSON_Delete(in);
    cJSON_Delete(out);
    free(text);
    free(flags);
    free(values);
    return rc;
}
