/*
 * convert.c - Python values to cJSON and back by their types alone: the
 * core's validator is the one walk of a value against the model (with the
 * member paths in its messages), and the tags of acmpca/model.h carry what
 * JSON cannot say (bytes, datetimes, values without a JSON counterpart).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "acmpca_py.h"

#include <datetime.h>

/*
 * The datetime C API is imported on the first timestamp met, not at import:
 * importing datetime is a third of `import acmpca`, and most calls carry no
 * timestamp. An argument can only be a datetime once datetime is loaded.
 */
static int datetime_api(void)
{
    if (!PyDateTimeAPI)
        PyDateTime_IMPORT;
    return PyDateTimeAPI ? 0 : -1;
}

/* ---- small helpers -------------------------------------------------------------- */

const char *acmpy_utf8(acmpy_state *st, PyObject *v, const char *what)
{
    Py_ssize_t len;
    const char *s;

    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected str, got %.100s", what, Py_TYPE(v)->tp_name);
        return NULL;
    }
    if (!(s = PyUnicode_AsUTF8AndSize(v, &len)))
        return NULL;
    if ((size_t)len != strlen(s)) {
        acmpy_raise_param(st, "%s: contains a NUL character", what);
        return NULL;
    }
    return s;
}

const char *acmpy_utf8_or_none(acmpy_state *st, PyObject *v, const char *what)
{
    if (!v || v == Py_None)
        return NULL;
    return acmpy_utf8(st, v, what);
}

PyObject *acmpy_shown(PyObject *v)
{
    PyObject *r = PyObject_Repr(v);
    if (!r) {
        PyErr_Clear();
        r = PyUnicode_FromFormat("an %.100s too large to show", Py_TYPE(v)->tp_name);
    }
    return r;
}

static int out_of_range(PyObject *cls, const char *what, const char *kind, const char *range,
                        PyObject *v)
{
    PyObject *got;
    PyErr_Clear(); /* an OverflowError from the conversion: replaced by the named error */
    if ((got = acmpy_shown(v))) {
        acmpy_raise_as(cls, "%s: expected %s %s, got %U", what, kind, range, got);
        Py_DECREF(got);
    }
    return -1;
}

int acmpy_int_arg(PyObject *cls, PyObject *v, const char *what, long long lo, long long hi,
                  long long *out)
{
    char range[80];
    int overflow = 0;
    long long n;

    if (!PyBool_Check(v) && PyLong_Check(v)) {
        n = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (!(n == -1 && PyErr_Occurred()) && !overflow && n >= lo && n <= hi) {
            *out = n;
            return 0;
        }
    }
    snprintf(range, sizeof(range), "from %lld to %lld", lo, hi);
    return out_of_range(cls, what, "an int", range, v);
}

int acmpy_number_arg(PyObject *cls, PyObject *v, const char *what, const char *kind, double lo,
                     int lo_open, double hi, double *out)
{
    char *los, *his, range[128];
    double d;

    if (!PyBool_Check(v) && (PyLong_Check(v) || PyFloat_Check(v))) {
        /* Read as stored, never through an int subclass's __float__ (the caller's
         * code, which could change the container being read); an int past a
         * double's range raises OverflowError: out of range too. */
        d = PyFloat_Check(v) ? PyFloat_AS_DOUBLE(v) : PyLong_AsDouble(v);
        if (!(d == -1.0 && PyErr_Occurred()) && (lo_open ? d > lo : d >= lo) && d <= hi) {
            *out = d;
            return 0;
        }
    }
    /* Python's formatting, not printf's: it ignores the C locale's decimal comma. */
    los = PyOS_double_to_string(lo, 'g', 15, 0, NULL);
    his = PyOS_double_to_string(hi, 'g', 15, 0, NULL);
    if (los && his)
        snprintf(range, sizeof(range), lo_open ? "greater than %s and at most %s" : "from %s to %s",
                 los, his);
    PyMem_Free(los);
    PyMem_Free(his);
    if (!los || !his) {
        PyErr_NoMemory();
        return -1;
    }
    return out_of_range(cls, what, kind, range, v);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, yoe, doy, mp;
    z += 719468;
    era = floor_div(z, 146097);
    yoe = z - era * 146097;
    yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
    doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

PyObject *acmpy_datetime_from_epoch(double ts)
{
    double fl;
    int64_t secs, days, rem;
    long us;
    int y, m, d;

    /* Outside datetime's years 1..9999 the number is returned as it came. */
    if (!isfinite(ts) || ts < -62135596800.0 || ts >= 253402300800.0)
        return PyFloat_FromDouble(ts);
    if (datetime_api() < 0)
        return NULL;
    fl = floor(ts);
    secs = (int64_t)fl;
    us = lround((ts - fl) * 1e6);
    if (us >= 1000000) {
        secs++;
        us -= 1000000;
    }
    days = floor_div(secs, 86400);
    rem = secs - days * 86400;
    civil_from_days(days, &y, &m, &d);
    return PyDateTimeAPI->DateTime_FromDateAndTime(y, m, d, (int)(rem / 3600),
                                                   (int)(rem % 3600 / 60), (int)(rem % 60),
                                                   (int)us, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

/* A datetime's seconds since the epoch; a naive one is taken as UTC, as botocore does. */
static int datetime_epoch(acmpy_state *st, PyObject *dt, double *out)
{
    PyObject *tz, *aware = NULL, *r;
    tz = PyObject_GetAttr(dt, st->str_tzinfo);
    if (!tz)
        return -1;
    if (tz == Py_None) {
        PyObject *kw = Py_BuildValue("{sO}", "tzinfo", PyDateTime_TimeZone_UTC);
        PyObject *meth = kw ? PyObject_GetAttr(dt, st->str_replace) : NULL;
        aware = meth ? PyObject_Call(meth, st->empty_tuple, kw) : NULL;
        Py_XDECREF(meth);
        Py_XDECREF(kw);
        if (!aware) {
            Py_DECREF(tz);
            return -1;
        }
    } else {
        aware = Py_NewRef(dt);
    }
    Py_DECREF(tz);
    r = PyObject_CallMethodNoArgs(aware, st->str_timestamp);
    Py_DECREF(aware);
    if (!r)
        return -1;
    *out = PyFloat_AsDouble(r);
    Py_DECREF(r);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* ISO-8601 text (a trailing Z allowed) or a number in text, to seconds. */
static int text_epoch(acmpy_state *st, PyObject *s, double *out)
{
    PyObject *fixed = NULL, *dt = NULL, *cls = (PyObject *)PyDateTimeAPI->DateTimeType;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int rc = -1;

    if (n > 0 && (PyUnicode_READ_CHAR(s, n - 1) == 'Z' || PyUnicode_READ_CHAR(s, n - 1) == 'z')) {
        PyObject *head = PyUnicode_Substring(s, 0, n - 1);
        fixed = head ? PyUnicode_FromFormat("%U+00:00", head) : NULL;
        Py_XDECREF(head);
    } else {
        fixed = Py_NewRef(s);
    }
    if (!fixed)
        return -1;
    dt = PyObject_CallMethodOneArg(cls, st->str_fromisoformat, fixed);
    if (dt) {
        rc = datetime_epoch(st, dt, out);
    } else if (PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyObject *f;
        PyErr_Clear();
        if ((f = PyFloat_FromString(fixed))) {
            *out = PyFloat_AS_DOUBLE(f);
            Py_DECREF(f);
            rc = 0;
        }
    }
    Py_XDECREF(dt);
    Py_DECREF(fixed);
    return rc;
}

int acmpy_epoch_from_object(acmpy_state *st, PyObject *v, const char *what, double *out)
{
    int rc;
    if (PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected datetime or a number of seconds, got bool",
                     what);
        return -1;
    }
    if (PyLong_Check(v) || PyFloat_Check(v)) {
        int sign = 0;
        *out = PyFloat_AsDouble(v);
        if (*out == -1.0 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                return -1;
            /* Past a double: an infinity, which every caller's range check refuses. */
            PyErr_Clear();
            (void)PyLong_AsLongLongAndOverflow(v, &sign);
            *out = sign < 0 ? -INFINITY : INFINITY;
        }
        return 0;
    }
    if (datetime_api() < 0)
        return -1;
    if (PyDateTime_Check(v))
        return datetime_epoch(st, v, out);
    if (PyDate_Check(v)) {
        *out = (double)days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                                       PyDateTime_GET_DAY(v)) * 86400.0;
        return 0;
    }
    if (PyUnicode_Check(v)) {
        rc = text_epoch(st, v, out);
        if (rc < 0 && PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: not an ISO-8601 timestamp: %R", what, v);
        }
        return rc;
    }
    PyErr_Format(PyExc_TypeError, "%s: expected datetime or a number of seconds, got %.100s",
                 what, Py_TYPE(v)->tp_name);
    return -1;
}

/* ---- Python -> cJSON --------------------------------------------------------------- */

/*
 * By Python type alone, without the model: the core checks every value
 * against the model with its path (acmpca/model.h says how the tags read).
 * A value with no JSON counterpart becomes an ACMPCA_TAG_INVALID node
 * describing it, so the core's message names the member and what it wanted.
 */

static cJSON *oom(void)
{
    PyErr_NoMemory();
    return NULL;
}

static cJSON *tagged(cJSON *item, int tag)
{
    if (!item)
        return oom();
    item->type |= tag;
    return item;
}

/* An ACMPCA_TAG_INVALID node: "<what the caller gave>", as the core will show it. */
static cJSON *invalid(const char *fmt, ...)
{
    PyObject *text;
    const char *s;
    cJSON *out = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (!text)
        return NULL;
    if ((s = PyUnicode_AsUTF8(text)))
        out = tagged(cJSON_CreateString(s), ACMPCA_TAG_INVALID);
    Py_DECREF(text);
    return out;
}

static cJSON *string_json(PyObject *v, int tag)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(v, &len);
    if (!s) {
        PyErr_Clear();
        return invalid("str not encodable as UTF-8");
    }
    if ((size_t)len != strlen(s))
        return invalid("str with a NUL character");
    return tagged(cJSON_CreateString(s), tag);
}

/* Blob data: bytes as they are (PEM text); the core base64-encodes them. */
static cJSON *bytes_json(PyObject *v)
{
    Py_buffer view;
    char *copy;
    cJSON *out;

    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (memchr(view.buf, 0, (size_t)view.len)) {
        PyBuffer_Release(&view);
        return invalid("%s with a NUL byte (binary data is not supported; give the PEM text)",
                       Py_TYPE(v)->tp_name);
    }
    copy = PyMem_Malloc((size_t)view.len + 1);
    if (!copy) {
        PyBuffer_Release(&view);
        return oom();
    }
    memcpy(copy, view.buf, (size_t)view.len);
    copy[view.len] = '\0';
    PyBuffer_Release(&view);
    out = tagged(cJSON_CreateString(copy), ACMPCA_TAG_BLOB);
    PyMem_Free(copy);
    return out;
}

static cJSON *to_json(acmpy_state *st, PyObject *v, int depth);

/*
 * `depth` counts the containers around v (the input object is 1). One past
 * the core's limit is converted empty, so that the core, which refuses it,
 * names its path, and a cycle (l.append(l)) ends. A mapping is walked as a
 * list of its items, a dict's included: converting a value may run the
 * caller's code (a read(), a keys()), which may change the mapping.
 */
static cJSON *object_json(acmpy_state *st, PyObject *v, int depth)
{
    PyObject *items = NULL, *key, *value, *pair;
    cJSON *obj = cJSON_CreateObject(), *item, *out = NULL;
    Py_ssize_t i, len;

    if (!obj)
        return oom();
    if (depth > ACMPCA_MAX_DEPTH)
        return obj;
    if (!(items = PyMapping_Items(v)))
        goto done;
    for (i = 0; i < PyList_GET_SIZE(items); i++) {
        const char *name;
        pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            out = invalid("%s whose items are not (key, value) pairs", Py_TYPE(v)->tp_name);
            goto done;
        }
        key = PyTuple_GET_ITEM(pair, 0);
        value = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_Check(key)) {
            out = invalid("%s with a key of type %s", Py_TYPE(v)->tp_name, Py_TYPE(key)->tp_name);
            goto done;
        }
        if (!(name = PyUnicode_AsUTF8AndSize(key, &len))) {
            PyErr_Clear();
            out = invalid("%s with a key not encodable as UTF-8", Py_TYPE(v)->tp_name);
            goto done;
        }
        if ((size_t)len != strlen(name)) {
            /* The C side would see the key cut at the NUL: another member. */
            out = invalid("%s with a key containing a NUL character: %R", Py_TYPE(v)->tp_name,
                          key);
            goto done;
        }
        if (!(item = to_json(st, value, depth + 1)))
            goto done;
        if (!cJSON_AddItemToObject(obj, name, item)) {
            cJSON_Delete(item);
            oom();
            goto done;
        }
    }
    out = obj;
    obj = NULL;
done:
    Py_XDECREF(items);
    cJSON_Delete(obj);
    return out;
}

static cJSON *array_json(acmpy_state *st, PyObject *v, int depth)
{
    cJSON *arr = cJSON_CreateArray(), *item;
    PyObject *element;
    Py_ssize_t i;

    if (!arr)
        return oom();
    /* Converting an element may run the caller's code, which may change a list. */
    for (i = 0; i < PySequence_Fast_GET_SIZE(v) && depth <= ACMPCA_MAX_DEPTH; i++) {
        element = Py_NewRef(PySequence_Fast_GET_ITEM(v, i));
        item = to_json(st, element, depth + 1);
        Py_DECREF(element);
        if (!item) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, item);
    }
    return arr;
}

static int is_mapping(PyObject *v)
{
    return PyMapping_Check(v) && !PySequence_Check(v) && PyObject_HasAttrString(v, "keys");
}

static cJSON *to_json(acmpy_state *st, PyObject *v, int depth)
{
    double d;

    if (v == Py_None)
        return tagged(cJSON_CreateNull(), 0);
    if (PyBool_Check(v))
        return tagged(cJSON_CreateBool(v == Py_True), 0);
    if (PyLong_Check(v)) {
        d = PyLong_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return invalid("an int too large for a number");
        }
        return tagged(cJSON_CreateNumber(d), 0);
    }
    if (PyFloat_Check(v))
        return tagged(cJSON_CreateNumber(PyFloat_AS_DOUBLE(v)), 0);
    if (PyUnicode_Check(v))
        return string_json(v, 0);
    if (PyDict_Check(v))
        return object_json(st, v, depth);
    if (PyList_Check(v) || PyTuple_Check(v))
        return array_json(st, v, depth);
    if (PyObject_CheckBuffer(v))
        return bytes_json(v);
    /* Only an object of another type can be a datetime: import its C API now. */
    if (datetime_api() < 0)
        return NULL;
    if (PyDate_Check(v)) {
        if (acmpy_epoch_from_object(st, v, "value", &d) < 0)
            return NULL;
        return tagged(cJSON_CreateNumber(d), ACMPCA_TAG_TIMESTAMP);
    }
    if (PyObject_HasAttr(v, st->str_read)) {
        /* A file-like object, read whole as botocore does for a blob. */
        PyObject *data = PyObject_CallMethodNoArgs(v, st->str_read);
        cJSON *out;
        if (!data)
            return NULL;
        if (PyUnicode_Check(data))
            out = string_json(data, ACMPCA_TAG_BLOB);
        else if (PyObject_CheckBuffer(data))
            out = bytes_json(data);
        else
            out = invalid("a file whose read() returned %s", Py_TYPE(data)->tp_name);
        Py_DECREF(data);
        return out;
    }
    if (is_mapping(v))
        return object_json(st, v, depth);
    return invalid("%s", Py_TYPE(v)->tp_name);
}

int acmpy_to_json(acmpy_state *st, PyObject *v, cJSON **out)
{
    *out = to_json(st, v, 1);
    return *out ? 0 : -1;
}

/* A node of `nodes` (cleared, of `type`), or NULL when there is none left. */
static cJSON *input_node(acmpy_input_nodes *nodes, int type)
{
    cJSON *n;
    if (!nodes || nodes->used == ACMPY_INPUT_NODES)
        return NULL;
    n = &nodes->node[nodes->used++];
    memset(n, 0, sizeof(*n));
    n->type = type;
    return n;
}

static int in_nodes(const acmpy_input_nodes *nodes, const cJSON *n)
{
    return nodes && n >= nodes->node && n < nodes->node + ACMPY_INPUT_NODES;
}

void acmpy_input_free(cJSON *in, acmpy_input_nodes *nodes)
{
    cJSON *child, *next;

    if (!in_nodes(nodes, in)) {
        cJSON_Delete(in);
        return;
    }
    for (child = in->child; child; child = next) {
        next = child->next;
        if (!in_nodes(nodes, child)) {
            child->next = NULL; /* cJSON_Delete frees the siblings after a node */
            cJSON_Delete(child);
        }
    }
}

/* An argument as cJSON; with `nodes` (borrowing), a str one as a node of them (or
 * allocated when they are used up) pointing at the str's own text. */
static cJSON *argument_json(acmpy_state *st, PyObject *v, acmpy_input_nodes *nodes)
{
    Py_ssize_t len;
    const char *s;
    cJSON *n;

    if (!nodes || !PyUnicode_Check(v))
        return to_json(st, v, 2);
    if (!(s = PyUnicode_AsUTF8AndSize(v, &len)) || (size_t)len != strlen(s)) {
        PyErr_Clear();
        return string_json(v, 0);  /* its error, as without borrowing */
    }
    if (!(n = input_node(nodes, cJSON_String | cJSON_IsReference)))
        return tagged(cJSON_CreateStringReference(s), 0);
    n->valuestring = (char *)s;
    return n;
}

static int kwargs_to_json(acmpy_state *st, PyObject *const *args, PyObject *kwnames,
                          const char *const *skip, PyObject **skipped, cJSON **out,
                          acmpy_input_nodes *nodes)
{
    Py_ssize_t i, n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    cJSON *obj = input_node(nodes, cJSON_Object), *item;
    size_t j;

    *out = NULL;
    for (j = 0; skip && skip[j]; j++)
        skipped[j] = NULL;
    if (!obj && !(obj = cJSON_CreateObject())) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        Py_ssize_t len;
        const char *name = PyUnicode_AsUTF8AndSize(key, &len);
        int skipped_here = 0;
        if (!name)
            goto fail;
        if ((size_t)len != strlen(name)) {
            /* f(**{"A\0B": 1}) passes such a name; cut at the NUL it would name "A". */
            acmpy_raise_param(st, "%R: an argument name must not contain a NUL character", key);
            goto fail;
        }
        for (j = 0; skip && skip[j]; j++) {
            if (strcmp(skip[j], name) == 0) {
                skipped[j] = args[i];
                skipped_here = 1;
                break;
            }
        }
        if (skipped_here)
            continue;
        if (!(item = argument_json(st, args[i], nodes)))
            goto fail;
        /* Borrowing, the name is the argument's own text too (cJSON_Delete leaves it). */
        if (!(nodes ? cJSON_AddItemToObjectCS(obj, name, item)
                    : cJSON_AddItemToObject(obj, name, item))) {
            acmpy_input_free(item, nodes);
            PyErr_NoMemory();
            goto fail;
        }
    }
    *out = obj;
    return 0;
fail:
    acmpy_input_free(obj, nodes);
    return -1;
}

int acmpy_kwargs_to_json(acmpy_state *st, PyObject *const *args, PyObject *kwnames,
                         const char *const *skip, PyObject **skipped, cJSON **out)
{
    return kwargs_to_json(st, args, kwnames, skip, skipped, out, NULL);
}

int acmpy_kwargs_to_json_borrowing(acmpy_state *st, PyObject *const *args, PyObject *kwnames,
                                   acmpy_input_nodes *nodes, cJSON **out)
{
    nodes->used = 0;
    return kwargs_to_json(st, args, kwnames, NULL, NULL, out, nodes);
}

/* ---- cJSON -> Python ------------------------------------------------------------------ */

/*
 * Member names of results are the same few strings on every call: they are
 * made once, at import, from the model's names, and found by their text.
 */
static size_t name_hash(const char *s, size_t mask)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (size_t)h & mask;
}

static int add_member_names(acmpy_state *st, const acmpca_shape *shape, int depth)
{
    size_t i;
    if (!shape || depth > 64)
        return 0;
    for (i = 0; shape->type == ACMPCA_SHAPE_STRUCTURE && i < shape->member_count; i++) {
        const acmpca_member *m = &shape->members[i];
        size_t h = name_hash(m->name, st->member_names_mask), n = 0;
        while (st->member_names[h].member && strcmp(st->member_names[h].member->name, m->name)) {
            h = (h + 1) & st->member_names_mask;
            if (++n > st->member_names_mask / 2)
                return 0; /* half full: the rest are decoded per call */
        }
        if (!st->member_names[h].member) {
            if (!(st->member_names[h].name = PyUnicode_InternFromString(m->name)))
                return -1;
            st->member_names[h].member = m;
        }
        if (add_member_names(st, m->shape, depth + 1) < 0)
            return -1;
    }
    if (shape->element && add_member_names(st, shape->element, depth + 1) < 0)
        return -1;
    return 0;
}

int acmpy_member_names_init(acmpy_state *st)
{
    size_t i, cap = 1024;
    if (!(st->member_names = PyMem_Calloc(cap, sizeof(*st->member_names)))) {
        PyErr_NoMemory();
        return -1;
    }
    st->member_names_mask = cap - 1;
    for (i = 0; i < acmpca_model_operation_count(); i++)
        if (add_member_names(st, acmpca_model_operation(i)->output, 0) < 0 ||
            add_member_names(st, acmpca_model_operation(i)->input, 0) < 0)
            return -1;
    return 0;
}

void acmpy_member_names_free(acmpy_state *st)
{
    size_t i;
    if (!st->member_names)
        return;
    for (i = 0; i <= st->member_names_mask; i++)
        Py_CLEAR(st->member_names[i].name);
    PyMem_Free(st->member_names);
    st->member_names = NULL;
    memset(st->member_keys, 0, sizeof(st->member_keys));
}

/* A key as a str: the interned one when the model has that name. */
static PyObject *key_name(acmpy_state *st, const char *key)
{
    size_t h, n = 0;
    if (st->member_names) {
        h = name_hash(key, st->member_names_mask);
        while (st->member_names[h].member) {
            if (strcmp(st->member_names[h].member->name, key) == 0)
                return Py_NewRef(st->member_names[h].name);
            h = (h + 1) & st->member_names_mask;
            if (++n > st->member_names_mask)
                break;
        }
    }
    return PyUnicode_DecodeUTF8(key, (Py_ssize_t)strlen(key), "replace");
}

/*
 * By cJSON type and the core's tags (acmpca/model.h): a timestamp is an
 * aware datetime, a blob bytes; whole numbers are ints (the model's numbers
 * are all integers but timestamps).
 */
PyObject *acmpy_from_json(acmpy_state *st, const cJSON *v)
{
    const cJSON *child;

    if (!v || cJSON_IsNull(v))
        Py_RETURN_NONE;
    if (cJSON_IsTrue(v))
        Py_RETURN_TRUE;
    if (cJSON_IsFalse(v))
        Py_RETURN_FALSE;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (v->type & ACMPCA_TAG_TIMESTAMP)
            return acmpy_datetime_from_epoch(d);
        if (isfinite(d) && d == floor(d))
            return PyLong_FromDouble(d);
        return PyFloat_FromDouble(d);
    }
    if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        const char *s = v->valuestring ? v->valuestring : "";
        if (v->type & ACMPCA_TAG_BLOB)
            return PyBytes_FromString(s);
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
    }
    if (cJSON_IsArray(v)) {
        PyObject *list = PyList_New(0);
        if (!list)
            return NULL;
        for (child = v->child; child; child = child->next) {
            PyObject *item = acmpy_from_json(st, child);
            if (!item || PyList_Append(list, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(item);
        }
        return list;
    }
    if (cJSON_IsObject(v)) {
        PyObject *dict = PyDict_New();
        if (!dict)
            return NULL;
        for (child = v->child; child; child = child->next) {
            PyObject *k = key_name(st, child->string ? child->string : ""), *item;
            int rc;
            item = k ? acmpy_from_json(st, child) : NULL;
            rc = item ? PyDict_SetItem(dict, k, item) : -1;
            Py_XDECREF(k);
            Py_XDECREF(item);
            if (rc < 0) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        return dict;
    }
    Py_RETURN_NONE;
}

const char *const acmpy_header_names[ACMPY_HEADER_NAME_COUNT] = {
    "x-amzn-requestid", "content-type", "content-length", "date", "server", "connection",
    "keep-alive", "x-amzn-errortype", "access-control-allow-origin", "status"};

/* A header name (lower-case from the core) as a str: interned when a usual one. */
static PyObject *header_name(acmpy_state *st, const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < ACMPY_HEADER_NAME_COUNT; i++) {
        const char *known = acmpy_header_names[i];
        if (known[0] == name[0] && (size_t)PyUnicode_GET_LENGTH(st->header_names[i]) == len &&
            memcmp(known, name, len) == 0)
            return Py_NewRef(st->header_names[i]);
    }
    return PyUnicode_DecodeLatin1(name, (Py_ssize_t)len, NULL);
}

/* HTTPHeaders made anew: the header names lower-case from the core, repeated
 * headers joined by ", ", as botocore's. */
static PyObject *headers_dict(acmpy_state *st, const acmpca_response_meta *m)
{
    PyObject *headers = PyDict_New();
    size_t i;

    for (i = 0; headers && i < m->header_count; i++) {
        const char *name = m->headers[i].name ? m->headers[i].name : "";
        const char *value = m->headers[i].value ? m->headers[i].value : "";
        PyObject *k = header_name(st, name, strlen(name));
        PyObject *v = k ? PyUnicode_DecodeLatin1(value, (Py_ssize_t)strlen(value), NULL) : NULL;
        PyObject *old = v ? PyDict_SetDefault(headers, k, v) : NULL;
        int rc = old ? 0 : -1;
        if (old && old != v) {
            PyObject *joined = PyUnicode_FromFormat("%U, %U", old, v);
            rc = joined ? PyDict_SetItem(headers, k, joined) : -1;
            Py_XDECREF(joined);
        }
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (rc < 0)
            Py_CLEAR(headers);
    }
    return headers;
}

/* Keep the headers' text for changed_since_last: 0, or -1 (nothing kept). */
static int remember_header_text(acmpy_state *st, const acmpca_response_meta *m)
{
    size_t i, n, need = 0;
    char *t;

    for (i = 0; i < m->header_count; i++) {
        if (!m->headers[i].name || !m->headers[i].value)
            return -1;
        need += strlen(m->headers[i].name) + strlen(m->headers[i].value) + 2;
    }
    if (need > st->last_header_room) {
        PyMem_Free(st->last_header_text);
        st->last_header_room = 0;
        if (!(st->last_header_text = PyMem_Malloc(need)))
            return -1;
        st->last_header_room = need;
    }
    for (i = 0, t = st->last_header_text; i < m->header_count; i++) {
        n = strlen(m->headers[i].name) + 1;
        memcpy(t, m->headers[i].name, n);
        t += n;
        n = strlen(m->headers[i].value) + 1;
        memcpy(t, m->headers[i].value, n);
        t += n;
    }
    st->last_header_count = m->header_count;
    return 0;
}

/* The length of the text at t when s is the same text, else -1. */
static ptrdiff_t same_text(const char *t, const char *s)
{
    return strcmp(t, s) == 0 ? (ptrdiff_t)strlen(t) : -1;
}

#define MAX_KEPT_HEADERS 64

/*
 * Whether the headers have the last ones' names, in the same order, none
 * repeated (0: not so); then which values changed, as bits of *changed, and
 * where in the text each of those starts.
 */
static int changed_since_last(acmpy_state *st, const acmpca_response_meta *m,
                              uint64_t *changed, char **at)
{
    char *t = st->last_header_text;
    ptrdiff_t n;
    size_t i;

    *changed = 0;
    if (!st->last_headers || st->last_header_count != m->header_count ||
        m->header_count > MAX_KEPT_HEADERS ||
        (size_t)PyDict_GET_SIZE(st->last_headers) != m->header_count)
        return 0;
    for (i = 0; i < m->header_count; i++) {
        if (!m->headers[i].name || !m->headers[i].value ||
            (n = same_text(t, m->headers[i].name)) < 0)
            return 0;
        t += n + 1;
        if ((n = same_text(t, m->headers[i].value)) < 0) {
            *changed |= (uint64_t)1 << i;
            at[i] = t;
            n = (ptrdiff_t)strlen(t);
        }
        t += n + 1;
    }
    return 1;
}

/*
 * HTTPHeaders. Most answers repeat the model's headers but for a value or
 * two (the request id, the date): then a copy of the model made, with those
 * values set; else made anew. A new dict becomes the next one's model, and a
 * changed value other than the request id (new on every answer) is set in the
 * model as well. *rid: the request id's value when it was set here (borrowed
 * from the dict), else NULL.
 */
static PyObject *response_headers(acmpy_state *st, const acmpca_response_meta *m,
                                  PyObject **rid)
{
    char *at[MAX_KEPT_HEADERS];
    uint64_t changed;
    PyObject *headers;
    int same_lengths = 1;
    size_t i;

    *rid = NULL;
    if (!changed_since_last(st, m, &changed, at)) {
        Py_CLEAR(st->last_headers);
        if (!(headers = headers_dict(st, m)))
            return NULL;
        if (m->header_count && PyDict_GET_SIZE(headers) == (Py_ssize_t)m->header_count &&
            remember_header_text(st, m) == 0 && !(st->last_headers = PyDict_Copy(headers)))
            PyErr_Clear(); /* nothing kept: the next one is made anew */
        return headers;
    }
    if (!(headers = PyDict_Copy(st->last_headers)))
        return NULL;
    for (i = 0; changed && i < m->header_count; i++) {
        const char *name = m->headers[i].name, *now = m->headers[i].value;
        size_t len;
        PyObject *k, *v;
        if (!(changed >> i & 1))
            continue;
        len = strlen(now);
        k = header_name(st, name, strlen(name));
        v = k ? PyUnicode_DecodeLatin1(now, (Py_ssize_t)len, NULL) : NULL;
        if (!v || PyDict_SetItem(headers, k, v) < 0 ||
            (k != st->header_names[0] && PyDict_SetItem(st->last_headers, k, v) < 0)) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(headers);
            Py_CLEAR(st->last_headers);
            *rid = NULL;
            return NULL;
        }
        Py_DECREF(v); /* held by headers */
        if (k == st->header_names[0]) {
            *rid = v;
            Py_DECREF(k);
            continue; /* the model keeps its own */
        }
        Py_DECREF(k);
        if (strlen(at[i]) == len)
            memcpy(at[i], now, len); /* the date: the same length each time */
        else
            same_lengths = 0;
    }
    if (same_lengths)
        return headers;
    /* The text kept is this answer's, so the model takes its request id too. */
    if (remember_header_text(st, m) < 0 ||
        (*rid && PyDict_SetItem(st->last_headers, st->header_names[0], *rid) < 0)) {
        PyErr_Clear();
        Py_CLEAR(st->last_headers);
    }
    return headers;
}

/*
 * {"RequestId", "HTTPStatusCode", "HTTPHeaders", "RetryAttempts"}, as
 * botocore's: a copy of the state's model of it (the keys in that order, a
 * status of 200, no retries) with this answer's values set. RequestId is the
 * x-amzn-requestid header's value when they are the same text.
 */
PyObject *acmpy_response_metadata(acmpy_state *st, const acmpca_response_meta *m)
{
    static const acmpca_response_meta none;
    PyObject *md = NULL, *headers, *rid_obj;
    const char *rid;
    int rc;

    m = m ? m : &none;
    rid = m->request_id ? m->request_id : "";
    if (!(headers = response_headers(st, m, &rid_obj)))
        return NULL;
    if (!rid_obj)
        rid_obj = PyDict_GetItemWithError(headers, st->header_names[0]);
    if (rid_obj && PyUnicode_IS_COMPACT_ASCII(rid_obj) &&
        strcmp((const char *)PyUnicode_DATA(rid_obj), rid) == 0)
        Py_INCREF(rid_obj);
    else if (PyErr_Occurred() ||
             !(rid_obj = PyUnicode_DecodeUTF8(rid, (Py_ssize_t)strlen(rid), "replace")))
        goto fail;
    if ((md = PyDict_Copy(st->metadata_model))) {
        rc = PyDict_SetItem(md, st->str_RequestId, rid_obj) < 0 ||
             PyDict_SetItem(md, st->str_HTTPHeaders, headers) < 0;
        if (!rc && m->http_status != 200) {
            PyObject *status = PyLong_FromLong(m->http_status);
            rc = !status || PyDict_SetItem(md, st->str_HTTPStatusCode, status) < 0;
            Py_XDECREF(status);
        }
        if (!rc && m->retry_attempts != 0) {
            PyObject *retries = PyLong_FromLong(m->retry_attempts);
            rc = !retries || PyDict_SetItem(md, st->str_RetryAttempts, retries) < 0;
            Py_XDECREF(retries);
        }
        if (rc)
            Py_CLEAR(md);
    }
    Py_DECREF(rid_obj);
fail:
    Py_DECREF(headers);
    return md;
}

/* `result` (taken; NULL passes an error on) with ResponseMetadata added: an empty
 * dict in its place when it is not a dict. */
PyObject *acmpy_with_metadata(acmpy_state *st, PyObject *result, const acmpca_response_meta *meta)
{
    PyObject *md;
    if (result && !PyDict_Check(result))
        Py_SETREF(result, PyDict_New());
    if (!result)
        return NULL;
    md = acmpy_response_metadata(st, meta);
    if (!md || PyDict_SetItem(result, st->str_ResponseMetadata, md) < 0)
        Py_CLEAR(result);
    Py_XDECREF(md);
    return result;
}

/* A call's result as the blocking method returns it: a dict (an empty one for
 * an answer that is not an object) with ResponseMetadata. */
PyObject *acmpy_result_dict(acmpy_state *st, const cJSON *out, const acmpca_response_meta *meta)
{
    return acmpy_with_metadata(st, acmpy_from_json(st, out), meta);
}

/* key_name of a model member, found by its pointer when it was looked up before. */
static PyObject *member_key(acmpy_state *st, const acmpca_member *member)
{
    acmpy_name_slot *slot = &st->member_keys[((uintptr_t)member / sizeof(*member)) % 64];
    PyObject *k;

    if (slot->member == member)
        return Py_NewRef(slot->name);
    k = key_name(st, member->name);
    if (k && PyUnicode_CHECK_INTERNED(k)) { /* member_names' own: it outlives the slot */
        slot->member = member;
        slot->name = k;
    }
    return k;
}

typedef struct flat_reading {
    acmpy_state *st;
    PyObject *dict;
} flat_reading;

/* acmpca_output_read_flat's member into the dict, as acmpy_from_json would make it. */
static int flat_member(void *userdata, const acmpca_member *member, char *value, size_t len)
{
    flat_reading *r = userdata;
    PyObject *k, *v;
    int rc;

    v = PyUnicode_DecodeUTF8(value, (Py_ssize_t)len, "replace");
    cJSON_free(value);
    k = v ? member_key(r->st, member) : NULL;
    rc = k ? PyDict_SetItem(r->dict, k, v) : -1;
    Py_XDECREF(k);
    Py_XDECREF(v);
    return rc < 0 ? ACMPCA_ENOMEM : 0;
}

PyObject *acmpy_flat_output(acmpy_state *st, const acmpca_operation_info *op, const char *body,
                            size_t len)
{
    flat_reading r;
    int rc;

    r.st = st;
    if (!(r.dict = PyDict_New()))
        return NULL;
    rc = acmpca_output_read_flat(op, body, len, flat_member, &r);
    if (rc == 1)
        return r.dict;
    Py_DECREF(r.dict);
    if (rc < 0 && !PyErr_Occurred())
        PyErr_NoMemory();
    return NULL;
}
