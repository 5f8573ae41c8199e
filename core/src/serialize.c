/*
 * serialize.c - validation of call inputs against the model and their
 * serialization to the awsJson1_1 request body; the base64 touch-up of
 * blob members in outputs.
 *
 * Validation reports mismatches as ACMPCA_EPARAM with messages of the form
 * "<path>: <what is wrong>", where <path> is dotted with list indexes
 * ("Tags[2].Key", "Validity.Value"), or "input" for the input itself; the
 * walk goes on past a mismatch, so the error's message lists every one (the
 * first MAX_PROBLEMS, one a line, as botocore's report), the first line
 * being what a walk that stopped there would have said.
 * Within a structure, members are checked in input order and missing
 * required members after that, so a misspelt name is reported as unknown
 * rather than as the required member it was meant to be.
 *
 * The request body is JSON text written as the input is walked (the caller's
 * input is never touched), exactly as cJSON would print it unformatted,
 * members in input order.
 *
 * This is the one walk of values against the model: the bindings convert
 * host values without it and tag what JSON cannot tell apart (bytes, host
 * date/times, values without a JSON counterpart; see acmpca/model.h), and
 * the rules for those tags live here, with the paths.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_internal.h"
#include "serialize.h"

#define MAX_DEPTH ACMPCA_MAX_DEPTH
#define TAGS (ACMPCA_TAG_BLOB | ACMPCA_TAG_TIMESTAMP | ACMPCA_TAG_INVALID | ACMPCA_TAG_EMPTY)
/* How much of a caller-supplied (unknown) key a message shows. */
#define MAX_KEY_SHOWN 64

typedef struct path_seg {
    const char *name;     /* member or map key; NULL for a list index */
    size_t index;
} path_seg;

/* At most this many problems are listed, within this much text. */
#define MAX_PROBLEMS 20
#define MAX_REPORT 900

typedef struct problems {
    acmpca_buf text;      /* the lines so far, '\n'-separated */
    int count;
} problems;

typedef struct walk {
    path_seg seg[MAX_DEPTH + 2];
    size_t n;
    problems *found;      /* NULL: stop at the first problem (outputs) */
} walk;

/* Whether the walk goes on after `rc`: a mismatch, with room for more. */
static int keep_going(const walk *w, int rc)
{
    return rc == ACMPCA_EPARAM && w->found && w->found->count < MAX_PROBLEMS;
}

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
    if (w->found) {
        problems *f = w->found;
        if (f->text.len + path.len + strlen(msg) + 3 < MAX_REPORT &&
            acmpca__buf_printf(&f->text, "%s%s: %s", f->count ? "\n" : "", path.ptr, msg) != 0)
            f->count = MAX_PROBLEMS; /* out of memory: keep what the error says */
        f->count++;
    }
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
    if (v && (v->type & ACMPCA_TAG_INVALID))
        return v->valuestring ? v->valuestring : "an unsupported value";
    if (v && (v->type & ACMPCA_TAG_BLOB))
        return "bytes";
    if (v && (v->type & ACMPCA_TAG_TIMESTAMP))
        return "a date/time";
    if (v && (v->type & ACMPCA_TAG_EMPTY) && !v->child)
        return "an empty table";
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
    case ACMPCA_SHAPE_STRING: return "a string";
    case ACMPCA_SHAPE_BLOB: return "a string or bytes";
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG: return "an integer";
    case ACMPCA_SHAPE_BOOLEAN: return "a boolean";
    case ACMPCA_SHAPE_TIMESTAMP:
        return "a timestamp (seconds since the epoch, ISO-8601 text or a date/time)";
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
 * The JSON text is written straight into `out` as the input is checked,
 * byte for byte as cJSON_PrintUnformatted prints the same values (no tree
 * of copies to build, print and free: that cost more than the checking).
 */

/* The bytes a JSON string escapes: control characters, " and \. */
static const unsigned char escaped[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Whether one of the 8 bytes of x may be a control character, " or \: never
 * a false no (a byte below 0x20, or a zero byte of x ^ '"' or x ^ '\\', sets
 * its high bit); a rare false yes only sends the bytes to the byte loop. */
static int any_escaped(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return ((((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS) != 0;
}

/* A JSON string as cJSON prints one: ", \ and control characters escaped.
 * Room for the whole string is made once; runs without an escape are copied
 * whole, found 8 bytes at a time. */
static int put_string(acmpca_buf *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run, *end;
    size_t len = strlen(s);
    uint64_t x;
    char esc[6];
    int rc = acmpca__buf_reserve(out, len + 2);

    end = p + len;
    if (!rc)
        rc = acmpca__buf_append(out, "\"", 1);
    while (!rc && *p) {
        run = p;
        while (end - p >= 8 && (memcpy(&x, p, 8), !any_escaped(x)))
            p += 8;
        for (; !escaped[*p]; p++)
            ;
        if (p > run)
            rc = acmpca__buf_append(out, run, (size_t)(p - run));
        if (rc || !*p)
            break;
        esc[0] = '\\';
        esc[1] = *p == '"' ? '"' : *p == '\\' ? '\\' : *p == '\b' ? 'b' : *p == '\f' ? 'f'
               : *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p == '\t' ? 't' : 'u';
        if (esc[1] == 'u') {
            esc[2] = esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
        }
        rc = acmpca__buf_append(out, esc, esc[1] == 'u' ? 6 : 2);
        p++;
    }
    return rc ? rc : acmpca__buf_append(out, "\"", 1);
}

/* `"key":` after a comma unless it is the first member. */
static int put_key(acmpca_buf *out, const char *key, int first)
{
    int rc = first ? 0 : acmpca__buf_append(out, ",", 1);
    if (!rc)
        rc = put_string(out, key);
    return rc ? rc : acmpca__buf_append(out, ":", 1);
}

/*
 * Whole numbers only. cJSON holds numbers as doubles, so a long beyond 2^53
 * has already lost precision when it reaches us; this model has no such value.
 */
static int ser_integer(const walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
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
    /* Exact digits, never cJSON's "1e+15" style. */
    snprintf(text, sizeof(text), "%" PRId64, value);
    return acmpca__buf_puts(out, text) ? oom() : 0;
}

/* A timestamp: printed by cJSON itself, whose number format is subtle. */
static int put_number(acmpca_buf *out, double d)
{
    cJSON *n = cJSON_CreateNumber(d);
    char *text = n ? cJSON_PrintUnformatted(n) : NULL;
    int rc = text ? acmpca__buf_puts(out, text) : oom();

    cJSON_free(text);
    cJSON_Delete(n);
    return rc;
}

/*
 * Whether a tagged value may stand for a member of this type: bytes only
 * for a blob, a host date/time only for a timestamp, an unsupported host
 * value nowhere; an ambiguous empty container is judged by its container.
 */
static int tag_fits(const acmpca_shape *shape, const cJSON *v)
{
    int tags = v ? v->type & TAGS : 0;

    if (tags & ACMPCA_TAG_INVALID)
        return 0;
    if ((tags & ACMPCA_TAG_BLOB) && shape->type != ACMPCA_SHAPE_BLOB)
        return 0;
    if ((tags & ACMPCA_TAG_TIMESTAMP) && shape->type != ACMPCA_SHAPE_TIMESTAMP)
        return 0;
    return 1;
}

/*
 * A timestamp given as text, as botocore takes one: ISO-8601 ("2030-01-01",
 * "2030-01-01T00:00:00Z", with an offset or fractional seconds; no offset
 * means UTC) or a number of seconds.
 */
static int text_epoch(const char *s, double *out)
{
    char stamp[64], *end;
    size_t len = strlen(s), frac;
    int64_t secs;

    if (len == 0 || len >= sizeof(stamp))
        return -1;
    *out = strtod(s, &end);
    if (*end == '\0' && isfinite(*out) && !strchr(s, 'x') && !strchr(s, 'X'))
        return 0;
    memcpy(stamp, s, len + 1);
    if (len == 10) /* a date alone: its midnight, UTC */
        memcpy(stamp + 10, "T00:00:00Z", 11);
    if (acmpca__parse_iso8601(stamp, &secs) != 0)
        return -1;
    *out = (double)secs;
    /* The parser checks the fraction's digits; it is kept here. */
    if (stamp[19] == '.' || stamp[19] == ',') {
        double scale = 0.1;
        for (frac = 20; stamp[frac] >= '0' && stamp[frac] <= '9'; frac++, scale /= 10)
            *out += (stamp[frac] - '0') * scale;
    }
    return 0;
}

static int ser_value(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out);

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

/* Structures in the model have at most this many members (checked below). */
#define MAX_MEMBERS 64

/* `v` NULL stands for an empty object (a NULL call input). */
static int ser_structure(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
{
    unsigned char seen_here[MAX_MEMBERS], *seen = seen_here;
    const cJSON *child;
    size_t i;
    int rc = 0, first = 1, failed = 0;

    if (v && !cJSON_IsObject(v))
        return type_error(w, shape, v);
    if (shape->member_count > MAX_MEMBERS &&
        !(seen = malloc(shape->member_count))) /* never with this model */
        return oom();
    memset(seen, 0, shape->member_count);
    if (acmpca__buf_append(out, "{", 1) != 0) {
        rc = oom();
        goto fail;
    }
    for (child = v ? v->child : NULL; child; child = child->next) {
        const acmpca_member *m;
        if (!find_member(shape, child->string, &i)) {
            rc = unknown_member(w, shape, child->string);
            if (!keep_going(w, rc))
                goto fail;
            failed = rc;
            continue;
        }
        m = &shape->members[i];
        push_name(w, m->name);
        if (seen[i])
            rc = path_error(w, ACMPCA_EPARAM, "duplicate parameter");
        else if (put_key(out, m->name, first) != 0)
            rc = oom();
        else
            rc = ser_value(w, m->shape, child, out);
        pop(w);
        if (rc != 0 && !keep_going(w, rc))
            goto fail;
        failed = rc ? rc : failed;
        seen[i] = 1; /* present, if wrong: not also missing */
        first = 0;
    }
    for (i = 0; i < shape->member_count; i++) {
        if (shape->members[i].required && !seen[i]) {
            push_name(w, shape->members[i].name);
            rc = path_error(w, ACMPCA_EPARAM, "missing required parameter");
            pop(w);
            if (!keep_going(w, rc))
                goto fail;
            failed = rc;
        }
    }
    if (failed)
        rc = failed;
    else if (acmpca__buf_append(out, "}", 1) != 0)
        rc = oom();
fail:
    if (seen != seen_here)
        free(seen);
    return rc;
}

static int ser_list(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
{
    const cJSON *child;
    size_t i, count = 0;
    int rc, failed;

    if (!cJSON_IsArray(v) && !(cJSON_IsObject(v) && (v->type & ACMPCA_TAG_EMPTY) && !v->child))
        return type_error(w, shape, v);
    for (child = v->child; child; child = child->next)
        count++;
    if ((failed = check_length(w, shape, count, "length")) != 0 && !keep_going(w, failed))
        return failed;
    if (acmpca__buf_append(out, "[", 1) != 0)
        return oom();
    for (i = 0, child = v->child; child; child = child->next, i++) {
        if (i && acmpca__buf_append(out, ",", 1) != 0)
            return oom();
        push_index(w, i);
        rc = ser_value(w, shape->element, child, out);
        pop(w);
        if (rc != 0 && !keep_going(w, rc))
            return rc;
        failed = rc ? rc : failed;
    }
    if (failed)
        return failed;
    return acmpca__buf_append(out, "]", 1) ? oom() : 0;
}

static int ser_map(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
{
    const cJSON *child;
    size_t count = 0;
    int rc, failed;

    if (!cJSON_IsObject(v))
        return type_error(w, shape, v);
    for (child = v->child; child; child = child->next)
        count++;
    if ((failed = check_length(w, shape, count, "number of entries")) != 0 &&
        !keep_going(w, failed))
        return failed;
    if (acmpca__buf_append(out, "{", 1) != 0)
        return oom();
    for (child = v->child; child; child = child->next) {
        const char *key = child->string ? child->string : "";
        push_name(w, key);
        rc = shape->key ? check_length(w, shape->key, utf8_length(key), "key length") : 0;
        if (rc == 0 && put_key(out, key, child == v->child) != 0)
            rc = oom();
        if (rc == 0)
            rc = ser_value(w, shape->element, child, out);
        pop(w);
        if (rc != 0 && !keep_going(w, rc))
            return rc;
        failed = rc ? rc : failed;
    }
    if (failed)
        return failed;
    return acmpca__buf_append(out, "}", 1) ? oom() : 0;
}

static int ser_value(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
{
    size_t bytes;
    int rc;

    if (w->n > MAX_DEPTH)
        return path_error(w, ACMPCA_EPARAM, "nesting deeper than %d levels", MAX_DEPTH);
    if (!tag_fits(shape, v))
        return type_error(w, shape, v);
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
        /* Length in code points, as the service counts characters: counted
         * only when the bytes (1 to 4 a code point) do not settle it. */
        bytes = strlen(v->valuestring);
        if (((shape->has_max && shape->max >= 0 && bytes > (uint64_t)shape->max) ||
             (shape->has_min && shape->min > 0 && bytes / 4 < (uint64_t)shape->min)) &&
            (rc = check_length(w, shape, utf8_length(v->valuestring), "length")) != 0)
            return rc;
        return put_string(out, v->valuestring) ? oom() : 0;
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
        rc = put_string(out, b64) ? oom() : 0;
        free(b64);
        return rc;
    }
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG:
        if (!cJSON_IsNumber(v))
            return type_error(w, shape, v);
        return ser_integer(w, shape, v, out);
    case ACMPCA_SHAPE_BOOLEAN:
        if (!cJSON_IsBool(v))
            return type_error(w, shape, v);
        return acmpca__buf_puts(out, cJSON_IsTrue(v) ? "true" : "false") ? oom() : 0;
    case ACMPCA_SHAPE_TIMESTAMP: {
        double when;
        if (cJSON_IsString(v) && v->valuestring) {
            size_t len = shown_len(v->valuestring, MAX_KEY_SHOWN);
            if (text_epoch(v->valuestring, &when) != 0)
                return path_error(w, ACMPCA_EPARAM, "expected %s, got \"%.*s%s\"",
                                  expected_kind(shape->type), (int)len, v->valuestring,
                                  v->valuestring[len] ? "..." : "");
            return put_number(out, when);
        }
        if (!cJSON_IsNumber(v))
            return type_error(w, shape, v);
        if (!isfinite(v->valuedouble)) {
            char text[32];
            return path_error(w, ACMPCA_EPARAM, "expected %s, got %s",
                              expected_kind(shape->type), fmt_number(text, v->valuedouble));
        }
        return put_number(out, v->valuedouble);
    }
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

/* ser_value listing every problem in the error's message (see the top). */
static int check_value(walk *w, const acmpca_shape *shape, const cJSON *v, acmpca_buf *out)
{
    problems found = {{0}, 0};
    int rc;

    w->found = &found;
    rc = ser_value(w, shape, v, out);
    if (rc == ACMPCA_EPARAM && found.count > 1 && found.text.ptr)
        acmpca__error_set(rc, "%s", found.text.ptr);
    w->found = NULL;
    acmpca__buf_free(&found.text);
    return rc;
}

int acmpca__serialize_input(const acmpca_operation_info *op, const cJSON *input, char **body_out)
{
    walk w;
    acmpca_buf body = {0};
    int rc;

    if (body_out)
        *body_out = NULL;
    if (!op || !op->input || !body_out)
        return acmpca__error_set(ACMPCA_EINVAL, "serialize: NULL argument");
    w.n = 0;
    w.found = NULL;
    if (input && !cJSON_IsObject(input))
        return acmpca__error_set(ACMPCA_EPARAM, "input: expected an object");
    if (input && (rc = check_depth(&w, input, 1)) != 0)
        return rc;
    if ((rc = acmpca__buf_reserve(&body, 256)) != 0 ||
        (rc = check_value(&w, op->input, input, &body)) != 0) {
        acmpca__buf_free(&body);
        return rc;
    }
    *body_out = acmpca__buf_detach(&body);
    return 0;
}

int acmpca_output_validate(const acmpca_operation_info *op, const cJSON *output)
{
    walk w;
    acmpca_buf body = {0};
    int rc;

    if (!op)
        return acmpca__error_set(ACMPCA_EINVAL, "validate: NULL operation");
    w.n = 0;
    w.found = NULL;
    if (output && !cJSON_IsObject(output))
        return acmpca__error_set(ACMPCA_EPARAM, "response: expected an object");
    if (!op->output) {
        if (output && output->child)
            return acmpca__error_set(ACMPCA_EPARAM,
                                     "response: %s returns nothing; expected no members",
                                     op->name);
        return 0;
    }
    if (output && (rc = check_depth(&w, output, 1)) != 0)
        return rc;
    rc = check_value(&w, op->output, output, &body);
    acmpca__buf_free(&body);
    return rc;
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
    v->type |= ACMPCA_TAG_BLOB;
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
    case ACMPCA_SHAPE_TIMESTAMP:
        if (cJSON_IsNumber(v))
            v->type |= ACMPCA_TAG_TIMESTAMP;
        return 0;
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

/* ---- the flat reader ---------------------------------------------------- */

/* JSON white space (cJSON also skips every other byte below 0x21: such a
 * body is left to it). */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* The byte an escape's letter `c` stands for; 0 for a letter outside the
 * subset (u, and those JSON does not have). Control bytes written raw are
 * copied as they are, as cJSON copies them. */
static char unescaped(char c)
{
    switch (c) {
    case '"': case '\\': case '/': return c;
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

/*
 * The string after its opening quote at p, escapes decoded, in a cJSON
 * block; *after: past its closing quote. The runs between escapes are found
 * with memchr and copied whole. Room is made for the bytes up to the first
 * quote, which closes the string unless an escaped quote comes first: then
 * the room is made again, for the bytes up to the next quote. NULL with
 * *outside set when the string is outside the subset (a \u escape, one
 * JSON does not have, no closing quote); NULL alone: out of memory.
 */
static char *flat_string(const char *p, const char *end, const char **after, int *outside)
{
    const char *from = p, *q, *bs;
    char *out = NULL, *o = NULL, c;
    size_t room = 0;

    *outside = 0;
    if (!(q = memchr(p, '"', (size_t)(end - p))))
        goto other;
    for (;;) {
        if ((size_t)(q - from) + 1 > room) {
            /* first, or past an escaped quote: what was decoded moves along */
            char *grown = cJSON_malloc((size_t)(q - from) + 1);
            if (!grown) {
                cJSON_free(out);
                return NULL;
            }
            if (out) {
                memcpy(grown, out, (size_t)(o - out));
                o = grown + (o - out);
                cJSON_free(out);
            } else
                o = grown;
            out = grown;
            room = (size_t)(q - from) + 1;
        }
        bs = memchr(p, '\\', (size_t)(q - p));
        if (!bs)
            bs = q;
        memcpy(o, p, (size_t)(bs - p));
        o += bs - p;
        p = bs;
        if (p == q)
            break;
        /* an escape: its letter is at most q (p < q) */
        if (!(c = unescaped(p[1])))
            goto other;
        *o++ = c;
        p += 2;
        if (p > q && !(q = memchr(p, '"', (size_t)(end - p))))
            goto other; /* the quote was escaped: the string ends further */
    }
    *o = '\0';
    *after = q + 1;
    return out;
other:
    cJSON_free(out);
    *outside = 1;
    return NULL;
}

/*
 * The members of a flat success body, in order, to `member` (see
 * acmpca_output_read_flat in acmpca/model.h): 1 when the whole body was
 * read; 0 when it is not of that form or `member` gave up (> 0); `member`'s
 * negative code; ACMPCA_ENOMEM.
 */
static int read_flat(const acmpca_shape *shape, const char *body, size_t len,
                     acmpca_flat_member_fn member, void *userdata)
{
    const char *p = body, *end = body + len, *name, *after;
    char *value;
    size_t m, name_len;
    int outside = 0, rc;

    if (!shape || shape->type != ACMPCA_SHAPE_STRUCTURE)
        return 0;
    p = skip_ws(p, end);
    if (p == end || *p != '{')
        return 0;
    p = skip_ws(p + 1, end);
    while (p < end && *p == '"') {
        name = ++p;
        p = memchr(p, '"', (size_t)(end - p));
        if (!p)
            return 0;
        name_len = (size_t)(p - name);
        /* strlen last, on a match: a key may hold a NUL, and then strncmp
         * matches a shorter member name, past whose end nothing may be read. */
        for (m = 0; m < shape->member_count; m++)
            if (strncmp(shape->members[m].name, name, name_len) == 0 &&
                strlen(shape->members[m].name) == name_len)
                break;
        if (m == shape->member_count) /* unknown (or escaped): cJSON keeps it as written */
            return 0;
        if (shape->members[m].shape->type == ACMPCA_SHAPE_BLOB)
            return 0; /* base64, which the parse decodes and checks */
        p = skip_ws(p + 1, end);
        if (p == end || *p != ':')
            return 0;
        p = skip_ws(p + 1, end);
        if (p == end || *p != '"')
            return 0;
        if (!(value = flat_string(p + 1, end, &after, &outside)))
            return outside ? 0 : acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
        if ((rc = member(userdata, &shape->members[m], value, strlen(value))) != 0)
            return rc > 0 ? 0 : rc;
        p = skip_ws(after, end);
        if (p == end || *p != ',')
            break;
        p = skip_ws(p + 1, end);
        if (p == end || *p != '"')
            return 0; /* a trailing comma */
    }
    if (p == end || *p != '}' || skip_ws(p + 1, end) != end)
        return 0;
    return 1;
}

int acmpca_output_read_flat(const acmpca_operation_info *op, const char *body, size_t len,
                            acmpca_flat_member_fn member, void *userdata)
{
    if (!op || !member || (!body && len))
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_output_read_flat: op, member and body "
                                 "must not be NULL");
    return read_flat(op->output, body ? body : "", len, member, userdata);
}

/* read_flat's member as a cJSON string item appended to the object `doc`. */
static int flat_item(void *doc, const acmpca_member *member, char *value, size_t len)
{
    cJSON *obj = doc, *item = cJSON_CreateNull();

    (void)len;
    if (!item) {
        cJSON_free(value);
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    }
    /* The key is the model's own string: cJSON_Delete leaves it alone. */
    item->type = cJSON_String | cJSON_StringIsConst;
    item->string = (char *)member->name;
    item->valuestring = value;
    if (obj->child) {
        obj->child->prev->next = item;
        item->prev = obj->child->prev;
    } else
        obj->child = item;
    obj->child->prev = item; /* cJSON's lists: the head's prev is the tail */
    return 0;
}

int acmpca__read_flat_output(const acmpca_shape *shape, const char *body, size_t len, cJSON **out)
{
    cJSON *doc;
    int rc;

    *out = NULL;
    if (!shape || shape->type != ACMPCA_SHAPE_STRUCTURE)
        return 0;
    if (!(doc = cJSON_CreateObject()))
        return acmpca__error_set(ACMPCA_ENOMEM, "out of memory");
    if ((rc = read_flat(shape, body, len, flat_item, doc)) == 1)
        *out = doc;
    else
        cJSON_Delete(doc);
    return rc;
}

int acmpca__deserialize_output(const acmpca_operation_info *op, cJSON *output)
{
    walk w;

    if (!op)
        return acmpca__error_set(ACMPCA_EINVAL, "deserialize: NULL operation");
    if (!op->output || !output)
        return 0;
    w.n = 0;
    w.found = NULL;
    return de_value(&w, op->output, output);
}

int acmpca_output_annotate(const acmpca_operation_info *op, cJSON *output)
{
    return acmpca__deserialize_output(op, output);
}
