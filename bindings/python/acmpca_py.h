/*
 * acmpca_py.h - private header of the CPython binding (acmpca._acmpca):
 * the module state, the object layouts shared between files, and the
 * helpers each layer exports to the others.
 *
 * The files are layers, each calling only the ones listed before it
 * (tools/check_python_layers.py checks the objects; a callback handed down, as a
 * page machine's acmpy_page_hooks, is how a lower file reaches a higher one):
 *
 *   base.c     module identity and state lookup, raising our classes with a
 *              message, logging, waiter pauses, a Client's calls in flight
 *   convert.c  Python <-> cJSON by type (the core checks values
 *              against the model)
 *   errors.c   the core's errors as exceptions
 *   machine.c  the call machine for drivers written in Python (acmpca.aio)
 *   pki.c      key/CSR/serial/certificate helpers and request_certificate
 *   sign.c     acmpca.sign_request
 *   pager.c    waiters and paginators
 *   client.c   the Client type and the 23 operation methods
 *   module.c   module init: state, exception classes, each type's setup
 */
#ifndef ACMPCA_PY_H
#define ACMPCA_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cjson/cJSON.h>

#include "acmpca.h"

/* Python 3.9: the few newer C-API pieces the binding uses. */
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *acmpy_new_ref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) acmpy_new_ref((PyObject *)(o))
static inline int PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *value)
{
    Py_XINCREF(value);
    if (PyModule_AddObject(m, name, value) < 0) { /* steals only on success */
        Py_XDECREF(value);
        return -1;
    }
    return 0;
}
#define Py_TPFLAGS_DISALLOW_INSTANTIATION 0
/* What the flag does on 3.10+: no tp_new, so Python code cannot make one. */
#define ACMPY_DISALLOW_NEW(type) ((type) ? (void)(((PyTypeObject *)(type))->tp_new = NULL) : (void)0)
#else
#define ACMPY_DISALLOW_NEW(type) ((void)0)
#endif

#define ACMPY_SERVICE_ERROR_COUNT (ACMPCA_ESERVICE_FIRST - ACMPCA_ESERVICE_LAST + 1)

/*
 * Response header names made once (interned) rather than decoded per call:
 * the ones AWS and the usual local endpoints send. Others are decoded.
 */
#define ACMPY_HEADER_NAME_COUNT 10

/* The interned str of a machine step's kind and sleep reason (machine.c). */
#define ACMPY_STEP_STRING_COUNT 10
extern const char *const acmpy_header_names[ACMPY_HEADER_NAME_COUNT];

/* A slot of the table from a model member's name to it as an interned str. */
typedef struct acmpy_name_slot {
    const acmpca_member *member;
    PyObject *name;
} acmpy_name_slot;

typedef struct acmpy_state {
    PyTypeObject *client_type;
    PyTypeObject *operation_type;      /* the descriptor behind each operation method */
    PyTypeObject *waiter_type;
    PyTypeObject *paginator_type;
    PyTypeObject *page_iterator_type;
    PyTypeObject *machine_type;
    PyTypeObject *step_type;           /* a struct sequence: what a machine wants done */
    PyObject *step_strings[ACMPY_STEP_STRING_COUNT];

    /* Exception classes. */
    PyObject *Error;
    PyObject *ClientError;
    PyObject *ParamValidationError;
    PyObject *NoCredentialsError;
    PyObject *CredentialRetrievalError;
    PyObject *InvalidConfigError;
    PyObject *EndpointConnectionError;
    PyObject *ConnectTimeoutError;
    PyObject *ReadTimeoutError;
    PyObject *SSLError;
    PyObject *ConnectionClosedError;
    PyObject *ResponseParserError;
    PyObject *WaiterError;
    PyObject *CryptoError;
    PyObject *GeneralError;
    /* botocore's names for some InvalidConfigError cases, and get_paginator's error. */
    PyObject *NoRegionError;
    PyObject *InvalidRegionError;
    PyObject *ProfileNotFound;
    PyObject *OperationNotPageableError;
    /* index: ACMPCA_ESERVICE_FIRST - code */
    PyObject *service_errors[ACMPY_SERVICE_ERROR_COUNT];

    PyObject *exceptions;        /* the namespace behind client.exceptions */
    PyObject *logger;            /* logging.getLogger("acmpca"), once logging is imported */
    PyObject *simple_namespace;  /* types.SimpleNamespace */
    PyObject *debug_level;       /* int 10 */
    PyObject *str_isEnabledFor;
    PyObject *str_logging;
    PyObject *str_debug;
    PyObject *str_timestamp;
    PyObject *str_replace;
    PyObject *str_tzinfo;
    PyObject *str_read;
    PyObject *str_fromisoformat;
    PyObject *str_ResponseMetadata;
    PyObject *str_RequestId;
    PyObject *str_HTTPStatusCode;
    PyObject *str_HTTPHeaders;
    PyObject *str_RetryAttempts;
    PyObject *header_names[ACMPY_HEADER_NAME_COUNT];
    /* The last HTTPHeaders made (never handed out) and the headers it was made of, as
     * "name\0value\0"...: answers repeat their headers but for a value or two, so the
     * next is a copy with those values set (convert.c). */
    PyObject *metadata_model;    /* ResponseMetadata's keys, a 200 and no retries */
    PyObject *last_headers;
    char *last_header_text;
    size_t last_header_count, last_header_room;
    /* Every output member's name, made once (open addressing on the pointer). */
    acmpy_name_slot *member_names;
    size_t member_names_mask;
    /* The same names by the model's member pointer (borrowed from member_names): a
     * direct-mapped cache in front of it for the flat reader (convert.c). */
    acmpy_name_slot member_keys[64];
    PyObject *empty_tuple;
} acmpy_state;

typedef struct acmpy_client {
    PyObject_HEAD
    acmpca_client *client;       /* NULL once closed and no call is running */
    PyObject *meta;              /* client.meta, made on first use (acmpca._meta) */
    int inflight;                /* calls running with the GIL released (GIL-protected) */
    int closed;
    PyObject *weakreflist;
    PyObject *meta_args;         /* what client.meta is made of (a dict) */
    int hooked;                  /* an event handler is registered: calls take the
                                    events path (acmpca._events), else the C one */
} acmpy_client;

/*
 * What a page machine calls on its PageIterator (pager.c's functions, handed
 * down at creation so that machine.c never calls up into pager.c).
 */
typedef struct acmpy_page_hooks {
    /* The page (caller-owned cJSON, not taken) as the iterator yields it; None past the end. */
    PyObject *(*page)(PyObject *pages, const cJSON *page, const acmpca_response_meta *meta);
    /* The page machine ended: the iterator may be iterated again. */
    void (*release)(PyObject *pages);
} acmpy_page_hooks;

/* What a machine runs (acmpca._Machine). */
enum { ACMPY_MACHINE_CALL, ACMPY_MACHINE_WAITER, ACMPY_MACHINE_PAGE, ACMPY_MACHINE_CERT };

typedef struct acmpy_machine {
    PyObject_HEAD
    acmpca_machine *m;           /* NULL once closed */
    acmpy_client *client;        /* counted; a call in flight on it while m lives */
    PyObject *pages;             /* a page machine's PageIterator, busy while m lives */
    const acmpy_page_hooks *page_hooks; /* with pages */
    const acmpca_operation_info *op;
    int kind;
    int begun;                   /* acmpy_client_end is owed */
    int token_seen;
    PyObject *token;             /* the IdempotencyToken sent, or NULL */
} acmpy_machine;

/* ---- base.c: the bottom layer, calling no other file of the binding ---------- */

/* The module's identity (module.c fills in its functions and slots at PyInit). */
extern PyModuleDef acmpy_module_def;

/* The module state from any of our heap types (or a subclass of one). */
acmpy_state *acmpy_state_from_type(PyTypeObject *tp);
acmpy_state *acmpy_state_from_module(PyObject *module);

/* setattr(obj, name, value), taking `value` (NULL: -1, the error already set). */
int acmpy_set_attr(PyObject *obj, const char *name, PyObject *value);
/* d[a][b] (b may be NULL), borrowed; NULL when a level is missing or not a dict. */
PyObject *acmpy_dict_get_path(PyObject *d, const char *a, const char *b);
/* Raise `exc` (an instance) as its own type. */
void acmpy_set_raised(PyObject *exc);
/* Raise ParamValidationError("<path>: <message>"). Returns NULL. */
PyObject *acmpy_raise_param(acmpy_state *st, const char *fmt, ...);
/* Raise `cls` (one of ours) with a formatted message, also set as .message. Returns NULL. */
PyObject *acmpy_raise_as(PyObject *cls, const char *fmt, ...);
/*
 * `cls` (one of ours) as a new reference, to raise: once botocore.exceptions
 * is imported, our classes are first made to inherit botocore's
 * (acmpca._compat.enable(), done once). NULL with the exception set when
 * that was interrupted (a signal handler's exception goes to the caller).
 */
PyObject *acmpy_error_class(PyObject *cls);

/*
 * The core's log_fn, and the record of a waiter's pause. They log to the
 * logger chosen by acmpy_log_prepare() on the calling thread, and return at
 * once when it chose none. acmpy_log_wait() is called with the GIL held.
 */
void acmpy_log_line(void *userdata, const char *line);
void acmpy_log_wait(const char *waiter, int attempt, double delay_s);
/* The core's log_enabled: whether acmpy_log_prepare() chose a logger (no GIL needed). */
int acmpy_log_enabled(void *userdata);

/*
 * A waiter's pause, done by the binding so Ctrl-C is seen within 50 ms: hand
 * ACMPY_CORE_PAUSE to the core as its delay and acmpy_wait_progress (with an
 * acmpy_wait_ctx) as its progress callback, called without the GIL.
 */
#define ACMPY_CORE_PAUSE 1e-9
/* The longest pause between a waiter's attempts (WaiterConfig.Delay, wait_delay). */
#define ACMPY_MAX_WAIT_DELAY_S 3600.0
typedef struct acmpy_wait_ctx {
    double delay_s;            /* the real pause between attempts */
} acmpy_wait_ctx;
int acmpy_wait_progress(void *userdata, const char *waiter, int attempt, double core_delay);
/*
 * Decide, with the GIL held, whether the blocking call about to start on
 * this thread logs: only when the logging module is loaded and
 * logging.getLogger("acmpca") is enabled for DEBUG. The callbacks read the
 * answer from a thread-local without taking the GIL.
 */
void acmpy_log_prepare(acmpy_state *st);

/* The core client of a live Client, or NULL with an error set (closed). */
acmpca_client *acmpy_client_begin(acmpy_client *self);
/* Pair of acmpy_client_begin after the blocking call; frees a client closed meanwhile. */
void acmpy_client_end(acmpy_client *self);
/* Free the core client now (close() with no call in flight, dealloc). */
void acmpy_client_drop_core(acmpy_client *self);

/* ---- convert.c: Python <-> cJSON (above base.c) ------------------------------ */

/* Fill st->member_names from the model's member names; free it. */
int acmpy_member_names_init(acmpy_state *st);
void acmpy_member_names_free(acmpy_state *st);

/*
 * A value to cJSON by its Python type, tagged as acmpca/model.h says; the
 * core checks it against the model.
 */
int acmpy_to_json(acmpy_state *st, PyObject *v, cJSON **out);
/*
 * Vectorcall keyword arguments to a cJSON input object (as acmpy_to_json).
 * Names in `skip` (NULL-terminated, may be NULL) are left out and their values stored
 * in `skipped` (borrowed, NULL when absent).
 */
int acmpy_kwargs_to_json(acmpy_state *st, PyObject *const *args, PyObject *kwnames,
                         const char *const *skip, PyObject **skipped, cJSON **out);
/*
 * The same without `skip`, for an input used and freed (acmpy_input_free) before
 * the call returns, while the caller keeps the arguments alive (the core copies
 * what it keeps): the object and its str members are nodes of `nodes` (the caller's
 * storage, on its stack) as far as they go, and a str member and every member name
 * point at the str's own UTF-8 text (cJSON_IsReference, cJSON_StringIsConst).
 */
#define ACMPY_INPUT_NODES 8
typedef struct acmpy_input_nodes {
    cJSON node[ACMPY_INPUT_NODES];
    size_t used;
} acmpy_input_nodes;
int acmpy_kwargs_to_json_borrowing(acmpy_state *st, PyObject *const *args, PyObject *kwnames,
                                   acmpy_input_nodes *nodes, cJSON **out);
/* Free an input made by acmpy_kwargs_to_json_borrowing with `nodes`. */
void acmpy_input_free(cJSON *in, acmpy_input_nodes *nodes);
/* A cJSON value to Python by its type and the core's tags. */
PyObject *acmpy_from_json(acmpy_state *st, const cJSON *v);
/* Seconds since the epoch to an aware datetime (UTC). */
PyObject *acmpy_datetime_from_epoch(double ts);
/* datetime / date / number / ISO-8601 text to seconds since the epoch; -1 with an error set. */
int acmpy_epoch_from_object(acmpy_state *st, PyObject *v, const char *what, double *out);
/* ResponseMetadata from the core's metadata (NULL: all empty). */
PyObject *acmpy_response_metadata(acmpy_state *st, const acmpca_response_meta *meta);
/* A call's result: its output as a dict (an empty one for a non-object) with ResponseMetadata. */
PyObject *acmpy_result_dict(acmpy_state *st, const cJSON *out, const acmpca_response_meta *meta);
/* The same from a result made already (taken; NULL passes its error on). */
PyObject *acmpy_with_metadata(acmpy_state *st, PyObject *result, const acmpca_response_meta *meta);
/*
 * A 2xx body of `op` straight to the dict acmpy_from_json would make of the
 * core's parse, when it is the usual flat answer (acmpca_output_read_flat).
 * NULL with no error set: it is not (the core must parse it); NULL with an
 * error set: out of memory.
 */
PyObject *acmpy_flat_output(acmpy_state *st, const acmpca_operation_info *op, const char *body,
                            size_t len);
/*
 * Numbers bound for C integers and doubles, range-checked before the
 * conversion: an int in [lo, hi], or an int or float in [lo, hi] (lo
 * excluded when lo_open; NaN never passes). Anything else, a bool or a value
 * out of range raises `cls` naming `what` and the accepted range. 0 or -1.
 */
int acmpy_int_arg(PyObject *cls, PyObject *v, const char *what, long long lo, long long hi,
                  long long *out);
int acmpy_number_arg(PyObject *cls, PyObject *v, const char *what, const char *kind, double lo,
                     int lo_open, double hi, double *out);
/* repr(v) for a message; never fails for want of a repr (an int past the digit limit). */
PyObject *acmpy_shown(PyObject *v);
/* Borrowed UTF-8 of a str, refusing NUL characters; NULL with an error set. */
const char *acmpy_utf8(acmpy_state *st, PyObject *v, const char *what);
/* Like acmpy_utf8 but None gives NULL without an error (check PyErr_Occurred). */
const char *acmpy_utf8_or_none(acmpy_state *st, PyObject *v, const char *what);

/* ---- errors.c: the core's errors as exceptions (above convert.c) ------------ */

/*
 * Raise the exception for the thread's last core error (read it right
 * after the failing call, on the same thread). `operation` names the
 * operation when the error does not; `endpoint` (may be NULL) goes on
 * connection errors. Returns NULL.
 */
PyObject *acmpy_raise_last(acmpy_state *st, const char *operation, const char *endpoint);
/*
 * The same, for a call that returned response metadata (may be NULL): a
 * service error's response["ResponseMetadata"] then carries the answer's
 * headers, as botocore's does. A waiter cancelled by its progress hook
 * keeps the exception that stopped it (KeyboardInterrupt) as it is.
 */
PyObject *acmpy_raise_last_meta(acmpy_state *st, const char *operation, const char *endpoint,
                                const acmpca_response_meta *meta);
/*
 * The exception acmpy_raise_last_meta would raise, returned instead (a new
 * reference, for a hook to see); NULL with an error set when making it failed.
 */
PyObject *acmpy_error_taken(acmpy_state *st, const char *operation, const char *endpoint,
                           const acmpca_response_meta *meta);

/* ---- machine.c: acmpca._Machine (above errors.c) ----------------------------- */

int acmpy_machine_setup(PyObject *module, acmpy_state *st);
/*
 * A machine object for `client` (NULL: closed), counting as a call on it, with
 * no core machine yet: the caller makes one into ->m (the object frees it).
 * *core is the core client to make it for. A page machine gets its
 * PageIterator and the hooks to call on it. NULL with an error set.
 */
acmpy_machine *acmpy_machine_new(acmpy_state *st, acmpy_client *client, PyObject *pages,
                                 const acmpy_page_hooks *page_hooks,
                                 const acmpca_operation_info *op, int kind, acmpca_client **core);

/* ---- pki.c: key, CSR and certificate helpers (above errors.c) ---------------- */

extern PyMethodDef acmpy_pki_functions[];
PyObject *acmpy_client_request_certificate(acmpy_client *self, PyObject *args, PyObject *kwargs);
PyObject *acmpy_client_request_machine(acmpy_client *self, PyObject *args, PyObject *kwargs);

/* ---- sign.c: acmpca.sign_request (above errors.c) ----------------------------- */

extern PyMethodDef acmpy_sign_functions[];

/* ---- pager.c: waiters and paginators (above machine.c) ----------------------- */

int acmpy_pager_setup(PyObject *module, acmpy_state *st);
PyObject *acmpy_client_get_waiter(acmpy_client *self, PyObject *name);
PyObject *acmpy_client_get_paginator(acmpy_client *self, PyObject *name);
PyObject *acmpy_client_can_paginate(acmpy_client *self, PyObject *name);
PyObject *acmpy_waiter_names(void);

/* ---- client.c: the Client type (above pager.c, pki.c, machine.c) ------------- */

int acmpy_client_setup(PyObject *module, acmpy_state *st);

/* ---- module.c: init, on top; declares nothing for the others ----------------- */

#endif
