/*
 * serialize.c - validation of call inputs against the model and their
 * serialization to the awsJson1_1 request body; the base64 touch-up of
 * blob members in outputs.
 *
 * Validation reports the first mismatch as ACMPCA_EPARAM with one message of
 * the form "<path>: <what is wrong>", where <path> is dotted with list
 * indexes ("Tags[2].Key", "Validity.Value"), or "input" for the input itself.
 * Within a structure, members are checked in input order and missing
 * required members after that, so a misspelt name is reported as unknown
 * rather than as the required member it was meant to be.
 *
 * The request body is a new cJSON tree (the caller's input is never touched)
 * printed unformatted, members in input order.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serialize.h"

/* Containers (objects and lists) nested deeper than this are refused. */
#define MAX_DEPTH 32
/* How much of a caller-supplied (unknown) key a message shows. */
#define MAX_KEY_SHOWN 64

typedef struct path_seg {
    const char *name;     /* member or map key; NULL for a list index */
    size_t index;
} path_seg;

typedef struct walk {
    path_seg seg[MAX_DEPTH + 2];
    size_t n;
} walk;

/* The stack never outgrows seg[]: every push is preceded by a depth check. */
static void push_name(walk *w, const char *name)
{
    w->seg[w->n].name = name ? name : "";
    w->seg[w->n].index = 0;
    w->n++;
}

static void push_index(walk *w, size_t index)
{
    w->seg[w->n].name = NULL;
    w->seg[w->n].index = index;
    w->n++;
}

static void pop(walk *w)
{
    w->n--;
}

/* Length of at most `max` bytes of s, cut back to a UTF-8 boundary. */
static size_t shown_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int format_path(const walk *w, acmpca_buf *b)
{
    size_t i;
    int rc = 0;

    if (w->n == 0)
        return acmpca__buf_puts(b, "input");
    for (i = 0; i < w->n && rc == 0; i++) {
        const path_seg *s = &w->seg[i];
        if (s->name) {
            size_t len = shown_len(s->name, MAX_KEY_SHOWN);
            if (i > 0)
                rc = acmpca__buf_puts(b, ".");
            if (rc == 0)
                rc = acmpca__buf_append(b, s->name, len);
            if (rc == 0 && s->name[len])
                rc = acmpca__buf_puts(b, "...");
        } else {
            rc = acmpca__buf_printf(b, "[%zu]", s->index);
        }
    }
    return rc;
}

static int oom(void)
{
    return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
}

/* Record "<path>: <message>" as `code` and return it. */
static int path_error(const walk *w, int code, const char *fmt, ...) ACMPCA_PRINTF(3, 4);

static int path_error(const walk *w, int code, const char *fmt, ...)
{
    acmpca_buf path = {0};
    char *msg = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || format_path(w, &path) != 0 || !(msg = malloc((size_t)n + 1))) {
        acmpca__buf_free(&path);
        return oom();
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    acmpca__error_set(code, "%s: %s", path.ptr, msg);
    acmpca__buf_free(&path);
    free(msg);
    return code;
}

/* The shortest of %.15g / %.17g that reads back as `d` (as cJSON prints). */
static const char *fmt_number(char buf[32], double d)
{
    snprintf(buf, 32, "%.15g", d);
    if (isfinite(d) && strtod(buf, NULL) != d)
        snprintf(buf, 32, "%.17g", d);
    return buf;
}

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsArray(v))
        return "list";
    if (cJSON_IsObject(v))
        return "object";
    if (cJSON_IsRaw(v))
        return "raw JSON";
    return "an invalid value";
}

static const char *expected_kind(acmpca_shape_type t)
{
    switch (t) {
    case ACMPCA_SHAPE_STRUCTURE:
    case ACMPCA_SHAPE_MAP: return "an object";
    case ACMPCA_SHAPE_LIST: return "a list";
    case ACMPCA_SHAPE_STRING:
    case ACMPCA_SHAPE_BLOB: return "a string";
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG: return "an integer";
    case ACMPCA_SHAPE_BOOLEAN: return "a boolean";
    case ACMPCA_SHAPE_TIMESTAMP: return "a number of seconds since the epoch";
    }
    return "a value";
}

static int type_error(const walk *w, const acmpca_shape *shape, const cJSON *v)
{
    return path_error(w, ACMPCA_EPARAM, "expected %s, got %s", expected_kind(shape->type),
                      json_kind(v));
}

/* Length of a UTF-8 string in code points (bytes that do not continue one). */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int check_length(const walk *w, const acmpca_shape *shape, size_t len, const char *what)
{
    if (shape->has_min && shape->min > 0 && len < (uint64_t)shape->min)
        return path_error(w, ACMPCA_EPARAM, "%s %zu is below the minimum %" PRId64, what, len,
                          shape->min);
    if (shape->has_max && shape->max >= 0 && len > (uint64_t)shape->max)
        return path_error(w, ACMPCA_EPARAM, "%s %zu is above the maximum %" PRId64, what, len,
                          shape->max);
    return 0;
}

/*
 * Whole numbers only. cJSON holds numbers as doubles, so a long beyond 2^53
 * has already lost precision when it reaches us; this model has no such value.
 */
static int ser_integer(const walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out)
{
    double d = v->valuedouble;
    int64_t lo, hi, value;
    char text[32];

    if (!isfinite(d) || d != floor(d))
        return path_error(w, ACMPCA_EPARAM, "expected an integer, got %s", fmt_number(text, d));
    if (shape->type == ACMPCA_SHAPE_INTEGER) {
        lo = INT32_MIN;
        hi = INT32_MAX;
    } else {
        lo = INT64_MIN;
        hi = INT64_MAX;
    }
    if (shape->has_min && shape->min > lo)
        lo = shape->min;
    if (shape->has_max && shape->max < hi)
        hi = shape->max;
    /* -2^63 and 2^63 are exact doubles: range-check before converting. */
    if (d < -9223372036854775808.0)
        return path_error(w, ACMPCA_EPARAM, "value %s is below the minimum %" PRId64,
                          fmt_number(text, d), lo);
    if (d >= 9223372036854775808.0)
        return path_error(w, ACMPCA_EPARAM, "value %s is above the maximum %" PRId64,
                          fmt_number(text, d), hi);
    value = (int64_t)d;
    if (value < lo)
        return path_error(w, ACMPCA_EPARAM, "value %" PRId64 " is below the minimum %" PRId64,
                          value, lo);
    if (value > hi)
        return path_error(w, ACMPCA_EPARAM, "value %" PRId64 " is above the maximum %" PRId64,
                          value, hi);
    /* Raw text: exact digits, never cJSON's "1e+15" style. */
    snprintf(text, sizeof(text), "%" PRId64, value);
    *out = cJSON_CreateRaw(text);
    return *out ? 0 : oom();
}

static int ser_value(walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out);

static int find_member(const acmpca_shape *shape, const char *key, size_t *index)
{
    size_t i;
    for (i = 0; key && i < shape->member_count; i++) {
        if (strcmp(shape->members[i].name, key) == 0) {
            *index = i;
            return 1;
        }
    }
    return 0;
}

static int unknown_member(walk *w, const acmpca_shape *shape, const char *key)
{
    acmpca_buf names = {0};
    size_t i;
    int rc = acmpca__buf_puts(&names, "");

    for (i = 0; i < shape->member_count && rc == 0; i++)
        rc = acmpca__buf_printf(&names, "%s%s", i ? ", " : "", shape->members[i].name);
    if (rc != 0) {
        acmpca__buf_free(&names);
        return oom();
    }
    push_name(w, key);
    if (shape->member_count)
        rc = path_error(w, ACMPCA_EPARAM, "unknown parameter; expected one of: %s", names.ptr);
    else
        rc = path_error(w, ACMPCA_EPARAM, "unknown parameter; expected no parameters");
    pop(w);
    acmpca__buf_free(&names);
    return rc;
}

/* `v` NULL stands for an empty object (a NULL call input). */
static int ser_structure(walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out)
{
    unsigned char *seen = NULL;
    cJSON *obj = NULL, *item = NULL;
    const cJSON *child;
    size_t i;
    int rc = 0;

    if (v && !cJSON_IsObject(v))
        return type_error(w, shape, v);
    obj = cJSON_CreateObject();
    if (!obj || (shape->member_count && !(seen = calloc(shape->member_count, 1)))) {
        rc = oom();
        goto fail;
    }
    for (child = v ? v->child : NULL; child; child = child->next) {
        const acmpca_member *m;
        if (!find_member(shape, child->string, &i)) {
            rc = unknown_member(w, shape, child->string);
            goto fail;
        }
        m = &shape->members[i];
        push_name(w, m->name);
        if (seen[i])
            rc = path_error(w, ACMPCA_EPARAM, "duplicate parameter");
        else
            rc = ser_value(w, m->shape, child, &item);
        pop(w);
        if (rc != 0)
            goto fail;
        seen[i] = 1;
        /* The key is the model's static string: no copy needed. */
        cJSON_AddItemToObjectCS(obj, m->name, item);
        item = NULL;
    }
    for (i = 0; i < shape->member_count; i++) {
        if (shape->members[i].required && !seen[i]) {
            push_name(w, shape->members[i].name);
            rc = path_error(w, ACMPCA_EPARAM, "missing required parameter");
            pop(w);
            goto fail;
        }
    }
    free(seen);
    *out = obj;
    return 0;
fail:
    free(seen);
    cJSON_Delete(obj);
    return rc;
}

static int ser_list(walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out)
{
    cJSON *arr = NULL, *item = NULL;
    const cJSON *child;
    size_t i, count = 0;
    int rc;

    if (!cJSON_IsArray(v))
        return type_error(w, shape, v);
    for (child = v->child; child; child = child->next)
        count++;
    if ((rc = check_length(w, shape, count, "length")) != 0)
        return rc;
    if (!(arr = cJSON_CreateArray()))
        return oom();
    for (i = 0, child = v->child; child; child = child->next, i++) {
        push_index(w, i);
        rc = ser_value(w, shape->element, child, &item);
        pop(w);
        if (rc != 0)
            goto fail;
        cJSON_AddItemToArray(arr, item);
        item = NULL;
    }
    *out = arr;
    return 0;
fail:
    cJSON_Delete(arr);
    return rc;
}

static int ser_map(walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out)
{
    cJSON *obj = NULL, *item = NULL;
    const cJSON *child;
    size_t count = 0;
    int rc;

    if (!cJSON_IsObject(v))
        return type_error(w, shape, v);
    for (child = v->child; child; child = child->next)
        count++;
    if ((rc = check_length(w, shape, count, "number of entries")) != 0)
        return rc;
    if (!(obj = cJSON_CreateObject()))
        return oom();
    for (child = v->child; child; child = child->next) {
        const char *key = child->string ? child->string : "";
        push_name(w, key);
        rc = shape->key ? check_length(w, shape->key, utf8_length(key), "key length") : 0;
        if (rc == 0)
            rc = ser_value(w, shape->element, child, &item);
        pop(w);
        if (rc != 0)
            goto fail;
        if (!cJSON_AddItemToObject(obj, key, item)) {
            cJSON_Delete(item);
            rc = oom();
            goto fail;
        }
        item = NULL;
    }
    *out = obj;
    return 0;
fail:
    cJSON_Delete(obj);
    return rc;
}

static int ser_value(walk *w, const acmpca_shape *shape, const cJSON *v, cJSON **out)
{
    int rc;

    *out = NULL;
    if (w->n > MAX_DEPTH)
        return path_error(w, ACMPCA_EPARAM, "nesting deeper than %d levels", MAX_DEPTH);
    switch (shape->type) {
    case ACMPCA_SHAPE_STRUCTURE:
        return ser_structure(w, shape, v, out);
    case ACMPCA_SHAPE_LIST:
        return ser_list(w, shape, v, out);
    case ACMPCA_SHAPE_MAP:
        return ser_map(w, shape, v, out);
    case ACMPCA_SHAPE_STRING:
        if (!cJSON_IsString(v) || !v->valuestring)
            return type_error(w, shape, v);
        /* Length in code points, as the service counts characters. */
        if ((rc = check_length(w, shape, utf8_length(v->valuestring), "length")) != 0)
            return rc;
        *out = cJSON_CreateString(v->valuestring);
        return *out ? 0 : oom();
    case ACMPCA_SHAPE_BLOB: {
        size_t len;
        char *b64;
        if (!cJSON_IsString(v) || !v->valuestring)
            return type_error(w, shape, v);
        /* Length in bytes of the data itself, before base64. */
        len = strlen(v->valuestring);
        if ((rc = check_length(w, shape, len, "length")) != 0)
            return rc;
        if (!(b64 = acmpca__base64_encode((const unsigned char *)v->valuestring, len)))
            return ACMPCA_ENOMEM;
        *out = cJSON_CreateString(b64);
        free(b64);
        return *out ? 0 : oom();
    }
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG:
        if (!cJSON_IsNumber(v))
            return type_error(w, shape, v);
        return ser_integer(w, shape, v, out);
    case ACMPCA_SHAPE_BOOLEAN:
        if (!cJSON_IsBool(v))
            return type_error(w, shape, v);
        *out = cJSON_CreateBool(cJSON_IsTrue(v));
        return *out ? 0 : oom();
    case ACMPCA_SHAPE_TIMESTAMP:
        if (!cJSON_IsNumber(v))
            return type_error(w, shape, v);
        if (!isfinite(v->valuedouble)) {
            char text[32];
            return path_error(w, ACMPCA_EPARAM, "expected %s, got %s",
                              expected_kind(shape->type), fmt_number(text, v->valuedouble));
        }
        *out = cJSON_CreateNumber(v->valuedouble);
        return *out ? 0 : oom();
    }
    return path_error(w, ACMPCA_EPARAM, "unsupported shape type");
}

/*
 * Refuse inputs nested deeper than MAX_DEPTH containers whatever their keys,
 * before the model walk, so the limit holds even where the model would have
 * stopped at another error. Recursion is bounded by the limit itself.
 */
static int check_depth(walk *w, const cJSON *v, size_t level)
{
    const cJSON *child;
    size_t i = 0;
    int rc;

    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return 0;
    if (level > MAX_DEPTH)
        return path_error(w, ACMPCA_EPARAM, "nesting deeper than %d levels", MAX_DEPTH);
    for (child = v->child; child; child = child->next, i++) {
        if (cJSON_IsArray(v))
            push_index(w, i);
        else
            push_name(w, child->string);
        rc = check_depth(w, child, level + 1);
        pop(w);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int acmpca__serialize_input(const acmpca_operation_info *op, const cJSON *input, char **body_out)
{
    walk w;
    cJSON *tree = NULL;
    char *printed = NULL;
    int rc;

    if (body_out)
        *body_out = NULL;
    if (!op || !op->input || !body_out)
        return acmpca__error_set(ACMPCA_EINVAL, "serialize: NULL argument");
    w.n = 0;
    if (input && !cJSON_IsObject(input))
        return acmpca__error_set(ACMPCA_EPARAM, "input: expected an object");
    if (input && (rc = check_depth(&w, input, 1)) != 0)
        return rc;
    if ((rc = ser_value(&w, op->input, input, &tree)) != 0)
        return rc;
    printed = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    if (!printed)
        return oom();
    /* Hand back plain malloc memory whatever cJSON's hooks are. */
    *body_out = acmpca__strdup(printed);
    cJSON_free(printed);
    return *body_out ? 0 : ACMPCA_ENOMEM;
}

/* ---- outputs ---------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Standard base64, whitespace ignored, padding optional. On success *out
 * (cJSON-allocated, NUL-terminated) holds the bytes; -1 for bad input.
 */
static int b64_decode(const char *in, char **out, size_t *out_len)
{
    size_t len = strlen(in), o = 0, pad = 0;
    unsigned acc = 0, bits = 0;
    char *buf;

    *out = NULL;
    buf = cJSON_malloc(len / 4 * 3 + 3 + 1);
    if (!buf)
        return -2;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        int v;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || (v = b64_value(c)) < 0)
            goto bad;  /* data after padding, or not base64 */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    /* Leftover bits must be the zero fill of a final partial group. */
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        goto bad;
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
bad:
    cJSON_free(buf);
    return -1;
}

static int de_value(walk *w, const acmpca_shape *shape, cJSON *v);

static int de_blob(walk *w, cJSON *v)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (!cJSON_IsString(v) || !v->valuestring)
        return 0;  /* not ours to judge: keep as received */
    rc = b64_decode(v->valuestring, &text, &len);
    if (rc == -2)
        return oom();
    if (rc != 0)
        return path_error(w, ACMPCA_EBADRESPONSE, "blob member is not valid base64");
    if (strlen(text) != len) {
        cJSON_free(text);
        return path_error(w, ACMPCA_EBADRESPONSE, "blob member holds binary data, not text");
    }
    /* Replace in place so the item keeps its key and position. */
    if (!(v->type & cJSON_IsReference))
        cJSON_free(v->valuestring);
    v->type &= ~cJSON_IsReference;
    v->valuestring = text;
    return 0;
}

static int de_value(walk *w, const acmpca_shape *shape, cJSON *v)
{
    cJSON *child;
    size_t i = 0;
    int rc = 0;

    if (w->n > MAX_DEPTH)
        return path_error(w, ACMPCA_EBADRESPONSE, "nesting deeper than %d levels", MAX_DEPTH);
    switch (shape->type) {
    case ACMPCA_SHAPE_BLOB:
        return de_blob(w, v);
    case ACMPCA_SHAPE_STRUCTURE:
        if (!cJSON_IsObject(v))
            return 0;
        for (child = v->child; child && rc == 0; child = child->next) {
            size_t m;
            if (!find_member(shape, child->string, &m))
                continue;  /* unknown members are kept as they are */
            push_name(w, shape->members[m].name);
            rc = de_value(w, shape->members[m].shape, child);
            pop(w);
        }
        return rc;
    case ACMPCA_SHAPE_LIST:
        if (!cJSON_IsArray(v))
            return 0;
        for (child = v->child; child && rc == 0; child = child->next, i++) {
            push_index(w, i);
            rc = de_value(w, shape->element, child);
            pop(w);
        }
        return rc;
    case ACMPCA_SHAPE_MAP:
        if (!cJSON_IsObject(v))
            return 0;
        for (child = v->child; child && rc == 0; child = child->next) {
            push_name(w, child->string);
            rc = de_value(w, shape->element, child);
            pop(w);
        }
        return rc;
    default:
        return 0;
    }
}

int acmpca__deserialize_output(const acmpca_operation_info *op, cJSON *output)
{
    walk w;

    if (!op)
        return acmpca__error_set(ACMPCA_EINVAL, "deserialize: NULL operation");
    if (!op->output || !output)
        return 0;
    w.n = 0;
    return de_value(&w, op->output, output);
}
