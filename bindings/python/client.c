/*
 * client.c - the Client type: configuration, close/context manager, and the
 * 23 operation methods, made at module init from the core's operation table
 * as descriptors of one small type (so `client.issue_certificate(...)`
 * is a vectorcall straight into the C code, with no bound-method object).
 *
 * Every blocking core call runs with the GIL released; the client counts
 * such calls so that close() from another thread defers freeing the core
 * client until the last one returns.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "acmpca_py.h"
#include "client_internal.h" /* acmpca__machine_new_call_op: the operation known already */

#include <structmember.h>

/* ---- options ------------------------------------------------------------------ */

typedef struct opts_holder {
    acmpca_client_options o;
    acmpca_rate_limit *limits;
    PyObject *keep;          /* list keeping alive the objects whose UTF-8 we borrow */
} opts_holder;

static const char *keep_utf8(acmpy_state *st, opts_holder *h, PyObject *v, const char *what)
{
    const char *s;
    if (!v || v == Py_None)
        return NULL;
    if (!(s = acmpy_utf8(st, v, what)))
        return NULL;
    if (PyList_Append(h->keep, v) < 0)
        return NULL;
    return s;
}

/* An option from the keyword argument, else from config (duck-typed), else NULL. */
static PyObject *pick(PyObject *arg, PyObject *config, const char *name)
{
    PyObject *v;
    if (arg && arg != Py_None)
        return Py_NewRef(arg);
    if (!config || config == Py_None)
        return NULL;
    v = PyObject_GetAttrString(config, name);
    if (!v) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        return NULL;
    }
    if (v == Py_None) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

static int config_error(acmpy_state *st, const char *fmt, PyObject *v)
{
    acmpy_raise_as(st->InvalidConfigError, fmt, v);
    return -1;
}

/*
 * The numeric options are checked twice: here, that the Python value fits
 * the C field (a long of milliseconds, an int); then by the core, against
 * its limits for every binding. Its messages name its fields, so
 * raise_option_error() puts the Python names back.
 */

/* Seconds (int or float, more than 0: None is the default) to milliseconds in a long. */
static int seconds_ms(acmpy_state *st, PyObject *v, const char *name, long *out)
{
    double s, most = 1e9;
    if (!v)
        return 0;
    if (most > (double)(LONG_MAX / 1000 - 1))
        most = (double)(LONG_MAX / 1000 - 1); /* a 32-bit long */
    if (acmpy_number_arg(st->InvalidConfigError, v, name, "a number of seconds", 0, 1, most,
                         &s) < 0)
        return -1;
    *out = (long)ceil(s * 1000.0);
    return 0;
}

static int int_option(acmpy_state *st, PyObject *v, const char *name, int min, int max, int *out)
{
    long long n;
    if (acmpy_int_arg(st->InvalidConfigError, v, name, min, max, &n) < 0)
        return -1;
    *out = (int)n;
    return 0;
}

static int tristate(acmpy_state *st, PyObject *v, const char *name, int *out)
{
    if (!v)
        return 0;
    if (!PyBool_Check(v)) {
        PyErr_Format(st->InvalidConfigError, "%s: expected a bool, got %R", name, v);
        return -1;
    }
    *out = v == Py_True ? ACMPCA_ENABLED : ACMPCA_DISABLED;
    return 0;
}

/* botocore's retries dict: max_attempts counts retries, total_max_attempts all attempts. */
static int read_retries(acmpy_state *st, opts_holder *h, PyObject *v)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int n;

    if (!v)
        return 0;
    if (!PyDict_Check(v))
        return config_error(st, "retries: expected a dict, got %R", v);
    while (PyDict_Next(v, &pos, &key, &value)) {
        if (!PyUnicode_Check(key))
            return config_error(st, "retries: unknown key %R", key);
        /* Compared whole: "mode\0x" is an unknown key, not "mode". */
        if (PyUnicode_CompareWithASCIIString(key, "max_attempts") == 0) {
            /* Retries after the first attempt: n + 1 attempts in all. */
            if (int_option(st, value, "retries['max_attempts']", 0, INT_MAX - 1, &n) < 0)
                return -1;
            if (!PyDict_GetItemString(v, "total_max_attempts"))
                h->o.max_attempts = n + 1;
        } else if (PyUnicode_CompareWithASCIIString(key, "total_max_attempts") == 0) {
            if (int_option(st, value, "retries['total_max_attempts']", 1, INT_MAX, &n) < 0)
                return -1;
            h->o.max_attempts = n;
        } else if (PyUnicode_CompareWithASCIIString(key, "mode") == 0) {
            const char *mode = keep_utf8(st, h, value, "retries['mode']");
            if (!mode)
                return -1;
            if (strcmp(mode, "legacy") == 0)
                mode = "standard";
            else if (strcmp(mode, "standard") != 0 && strcmp(mode, "adaptive") != 0)
                return config_error(st, "retries['mode']: expected 'standard', 'adaptive' or "
                                        "'legacy', got %R", value);
            h->o.retry_mode = mode;
        } else {
            return config_error(st, "retries: unknown key %R; expected max_attempts, "
                                    "total_max_attempts or mode", key);
        }
    }
    return 0;
}

#define MIN_RATE 0.001
#define MIN_RATE_TEXT "0.001"
#define MAX_RATE 1e6
#define MAX_RATE_TEXT "1000000"

/* True for the built-in preset; {"IssueCertificate": 10.0, ...} for overrides. */
static int read_rate_limit(acmpy_state *st, opts_holder *h, PyObject *v)
{
    PyObject *items, *key, *value;
    Py_ssize_t i, n;

    if (!v || v == Py_False)
        return 0;
    if (v == Py_True) {
        h->o.rate_limit = 1;
        return 0;
    }
    if (!PyDict_Check(v))
        return config_error(st, "rate_limit: expected a bool or a dict of requests per second "
                                "by operation, got %R", v);
    /* A snapshot of its items: the array is sized once, whatever runs while they are read. */
    if (!(items = PyDict_Items(v)))
        return -1;
    n = PyList_GET_SIZE(items);
    if (!(h->limits = PyMem_Calloc((size_t)n + 1, sizeof(*h->limits)))) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *op;
        char what[96];
        double rps;
        key = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        value = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        if (!(op = keep_utf8(st, h, key, "rate_limit key")))
            break;
        if (!acmpca_model_operation_find(op)) {
            config_error(st, "rate_limit: unknown operation %R", key);
            break;
        }
        snprintf(what, sizeof(what), "rate_limit['%s']", op);
        if (acmpy_number_arg(st->InvalidConfigError, value, what, "requests per second", 0, 0,
                             MAX_RATE, &rps) < 0)
            break;
        /* The pause before a call is 1/rate: a tiny rate would be an endless sleep. */
        if (rps > 0 && rps < MIN_RATE) {
            acmpy_raise_as(st->InvalidConfigError, "%s: expected 0 (no limit) or from %s to %s "
                           "requests per second, got %R", what, MIN_RATE_TEXT, MAX_RATE_TEXT,
                           value);
            break;
        }
        h->limits[i].operation = op;
        h->limits[i].requests_per_second = rps;
    }
    Py_DECREF(items);
    if (i < n)
        return -1;
    h->o.rate_limit = 1;
    h->o.rate_limits = h->limits;
    h->o.rate_limit_count = (size_t)n;
    return 0;
}

/* ---- the Client type ----------------------------------------------------------------- */

/*
 * The core names its option ("options.user_agent_suffix: ..."); the user
 * set the Python one, so the message names that instead.
 */
static void raise_option_error(acmpy_state *st, const char *message)
{
    static const struct {
        const char *core, *python;
    } names[] = {{"options.user_agent_suffix", "user_agent_extra"},
                 {"options.connect_timeout_ms", "connect_timeout"},
                 {"options.read_timeout_ms", "read_timeout"},
                 {"options.total_timeout_ms", "total_timeout"},
                 {"options.max_attempts", "retries (attempts in all)"},
                 {"options.pool_size", "max_pool_connections"},
                 {"options.use_fips", "use_fips_endpoint"},
                 {"options.use_dualstack", "use_dualstack_endpoint"},
                 {"options.https_proxy", "proxies['https']"},
                 {"options.http_proxy", "proxies['http']"},
                 {"options.proxy_ca_bundle", "proxies_config['proxy_ca_bundle']"},
                 {"options.proxy_client_cert", "proxies_config['proxy_client_cert']"},
                 {"options.proxy_client_key", "proxies_config['proxy_client_cert'] (key)"}};
    size_t i, n;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        n = strlen(names[i].core);
        if (strncmp(message, names[i].core, n) == 0 && message[n] == ':') {
            acmpy_raise_as(st->InvalidConfigError, "%s%s", names[i].python, message + n);
            return;
        }
    }
    acmpy_raise_as(st->InvalidConfigError, "%s", message);
}

/*
 * The constructor's arguments, by name: boto3.client()'s positional order
 * (service_name ... config), then acmpca's keyword-only ones. Each field is
 * named as the argument is.
 */
typedef struct client_args {
    PyObject *service_name, *region_name, *api_version, *use_ssl, *verify, *endpoint_url,
        *aws_access_key_id, *aws_secret_access_key, *aws_session_token, *config;
    PyObject *profile_name, *connect_timeout, *read_timeout, *retries, *max_pool_connections,
        *use_fips_endpoint, *use_dualstack_endpoint, *rate_limit, *user_agent_extra,
        *max_response_bytes, *total_timeout;
} client_args;

#define CLIENT_POSITIONAL 10 /* service_name ... config */

/* Each argument's field, and the Config attribute an argument left None falls back to. */
#define ARG(field, config) {#field, offsetof(client_args, field), config}
static const struct {
    const char *name;
    size_t offset;
    const char *config;
} client_arg_table[] = {
    ARG(service_name, NULL),
    ARG(region_name, "region_name"),
    ARG(api_version, NULL),
    ARG(use_ssl, NULL),
    ARG(verify, NULL),
    ARG(endpoint_url, NULL),
    ARG(aws_access_key_id, NULL),
    ARG(aws_secret_access_key, NULL),
    ARG(aws_session_token, NULL),
    ARG(config, NULL),
    ARG(profile_name, NULL),
    ARG(connect_timeout, "connect_timeout"),
    ARG(read_timeout, "read_timeout"),
    ARG(retries, "retries"),
    ARG(max_pool_connections, "max_pool_connections"),
    ARG(use_fips_endpoint, "use_fips_endpoint"),
    ARG(use_dualstack_endpoint, "use_dualstack_endpoint"),
    ARG(rate_limit, "rate_limit"),
    ARG(user_agent_extra, "user_agent_extra"),
    ARG(max_response_bytes, "max_response_bytes"),
    ARG(total_timeout, "total_timeout"),
};
#undef ARG
#define CLIENT_ARG_COUNT (sizeof(client_arg_table) / sizeof(client_arg_table[0]))

static PyObject **client_arg(client_args *a, size_t i)
{
    return (PyObject **)((char *)a + client_arg_table[i].offset);
}

#define API_VERSION "2017-08-22"

/* args and kwds into *given by name (borrowed; NULL when not given), as a def would. */
static int parse_client_args(PyObject *args, PyObject *kwds, client_args *given)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(args), pos = 0;
    PyObject *key, *value;
    size_t k;

    memset(given, 0, sizeof(*given));
    if (n > CLIENT_POSITIONAL) {
        PyErr_Format(PyExc_TypeError, "Client() takes at most %d positional arguments "
                     "(%zd given); the order is boto3.client()'s: service_name, region_name, "
                     "api_version, use_ssl, verify, endpoint_url, aws_access_key_id, "
                     "aws_secret_access_key, aws_session_token, config", CLIENT_POSITIONAL, n);
        return -1;
    }
    for (i = 0; i < n; i++)
        *client_arg(given, (size_t)i) = PyTuple_GET_ITEM(args, i);
    while (kwds && PyDict_Next(kwds, &pos, &key, &value)) {
        for (k = 0; k < CLIENT_ARG_COUNT; k++)
            if (PyUnicode_Check(key) &&
                PyUnicode_CompareWithASCIIString(key, client_arg_table[k].name) == 0)
                break;
        if (k == CLIENT_ARG_COUNT) {
            PyErr_Format(PyExc_TypeError, "Client() got an unexpected keyword argument %R", key);
            return -1;
        }
        if (*client_arg(given, k)) {
            PyErr_Format(PyExc_TypeError, "Client() got multiple values for argument '%s'",
                         client_arg_table[k].name);
            return -1;
        }
        *client_arg(given, k) = value;
    }
    return 0;
}

/*
 * The value of each setting, read once (owned; NULL for the default): the
 * argument unless None, else the Config's attribute of the same meaning.
 */
static int read_settings(client_args *given, client_args *out)
{
    PyObject *config = given->config && given->config != Py_None ? given->config : NULL;
    size_t k;

    memset(out, 0, sizeof(*out));
    for (k = 0; k < CLIENT_ARG_COUNT; k++) {
        PyObject *arg = *client_arg(given, k);
        if (client_arg_table[k].config)
            *client_arg(out, k) = pick(arg, config, client_arg_table[k].config);
        else if (arg && arg != Py_None)
            *client_arg(out, k) = Py_NewRef(arg);
    }
    return PyErr_Occurred() ? -1 : 0;
}

static void settings_clear(client_args *s)
{
    size_t k;
    for (k = 0; k < CLIENT_ARG_COUNT; k++)
        Py_CLEAR(*client_arg(s, k));
}

static int str_option(acmpy_state *st, opts_holder *h, PyObject *v, const char *name,
                      const char **out)
{
    if (v && !(*out = keep_utf8(st, h, v, name)))
        return -1;
    return 0;
}

/* verify: False switches TLS verification off; a path (str or os.PathLike) is a CA bundle. */
static int verify_option(acmpy_state *st, opts_holder *h, PyObject *verify)
{
    PyObject *path;

    if (!verify)
        return 0;
    if (PyBool_Check(verify)) {
        h->o.insecure_skip_tls_verify = verify == Py_False;
        return 0;
    }
    if (!(path = PyOS_FSPath(verify)))
        return -1;
    h->o.ca_bundle = PyUnicode_Check(path) ? keep_utf8(st, h, path, "verify") : NULL;
    if (!h->o.ca_bundle && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "verify: expected a bool or a CA bundle path");
    Py_DECREF(path);
    return h->o.ca_bundle ? 0 : -1;
}

/* The core's options from the settings (strings borrowed from objects h->keep holds). */
static int client_options(acmpy_state *st, const client_args *s, opts_holder *h)
{
    int n;

    if (str_option(st, h, s->region_name, "region_name", &h->o.region) < 0 ||
        str_option(st, h, s->endpoint_url, "endpoint_url", &h->o.endpoint_url) < 0 ||
        str_option(st, h, s->aws_access_key_id, "aws_access_key_id", &h->o.access_key_id) < 0 ||
        str_option(st, h, s->aws_secret_access_key, "aws_secret_access_key",
                   &h->o.secret_access_key) < 0 ||
        str_option(st, h, s->aws_session_token, "aws_session_token", &h->o.session_token) < 0 ||
        str_option(st, h, s->profile_name, "profile_name", &h->o.profile) < 0 ||
        str_option(st, h, s->user_agent_extra, "user_agent_extra", &h->o.user_agent_suffix) < 0 ||
        verify_option(st, h, s->verify) < 0)
        return -1;
    if (seconds_ms(st, s->connect_timeout, "connect_timeout", &h->o.connect_timeout_ms) < 0 ||
        seconds_ms(st, s->read_timeout, "read_timeout", &h->o.read_timeout_ms) < 0 ||
        seconds_ms(st, s->total_timeout, "total_timeout", &h->o.total_timeout_ms) < 0 ||
        read_retries(st, h, s->retries) < 0 ||
        tristate(st, s->use_fips_endpoint, "use_fips_endpoint", &h->o.use_fips) < 0 ||
        tristate(st, s->use_dualstack_endpoint, "use_dualstack_endpoint",
                 &h->o.use_dualstack) < 0 ||
        read_rate_limit(st, h, s->rate_limit) < 0)
        return -1;
    if (s->max_pool_connections) {
        if (int_option(st, s->max_pool_connections, "max_pool_connections", 1, INT_MAX, &n) < 0)
            return -1;
        h->o.pool_size = n;
    }
    if (s->max_response_bytes) {
        long long nb, most = (unsigned long long)SIZE_MAX / 2 > (unsigned long long)LLONG_MAX
                                 ? LLONG_MAX
                                 : (long long)(SIZE_MAX / 2);
        if (acmpy_int_arg(st->InvalidConfigError, s->max_response_bytes, "max_response_bytes",
                          1, most, &nb) < 0)
            return -1;
        h->o.max_response_bytes = (size_t)nb;
    }
    h->o.log_fn = acmpy_log_line;
    h->o.log_enabled = acmpy_log_enabled;
    return 0;
}

/* The values of the client's resolved settings that client.meta.config shows. */
static PyObject *make_meta_args(acmpca_client *c, PyObject *config, PyObject *endpoint_given)
{
    acmpca_client_settings s;
    const char *region = acmpca_client_region(c);

    if (acmpca_client_settings_get(c, &s) != 0)
        return PyErr_NoMemory();
    return Py_BuildValue("{sNsssOsOsssssisdsdsNsisn}", "region_name",
                         region[0] ? PyUnicode_FromString(region) : Py_NewRef(Py_None),
                         "endpoint_url", acmpca_client_endpoint(c), "config",
                         config ? config : Py_None, "endpoint_given",
                         endpoint_given ? endpoint_given : Py_None, "profile_name", s.profile,
                         "retry_mode", s.retry_mode, "max_attempts", s.max_attempts,
                         "connect_timeout", (double)s.connect_timeout_ms / 1000.0,
                         "read_timeout", (double)s.read_timeout_ms / 1000.0, "total_timeout",
                         s.total_timeout_ms
                             ? PyFloat_FromDouble((double)s.total_timeout_ms / 1000.0)
                             : Py_NewRef(Py_None),
                         "max_pool_connections", s.pool_size, "max_response_bytes",
                         (Py_ssize_t)s.max_response_bytes);
}

/* A str value of a proxies / proxies_config dict; its text is never quoted back. */
static int proxy_string(acmpy_state *st, opts_holder *h, PyObject *value, const char *dict,
                        PyObject *key, const char **out)
{
    if (!PyUnicode_Check(value)) {
        acmpy_raise_as(st->InvalidConfigError, "%s[%R]: expected a str, got %.100s", dict, key,
                       Py_TYPE(value)->tp_name);
        return -1;
    }
    return (*out = keep_utf8(st, h, value, dict)) ? 0 : -1;
}

/* `name` of config as a dict, or NULL (None or unset); -1 for anything else. */
static int config_dict(acmpy_state *st, PyObject *config, const char *name, const char *shape,
                       PyObject **out)
{
    *out = pick(NULL, config, name);
    if (PyErr_Occurred())
        return -1;
    if (*out && !PyDict_Check(*out)) {
        acmpy_raise_as(st->InvalidConfigError, "%s: expected a dict %s, got %.100s", name, shape,
                       Py_TYPE(*out)->tp_name);
        Py_CLEAR(*out);
        return -1;
    }
    return 0;
}

/*
 * botocore's Config(proxies={"https": url, "http": url}, proxies_config={
 * "proxy_ca_bundle": path, "proxy_client_cert": path or (cert, key),
 * "proxy_use_forwarding_for_https": False}) into the core's proxy options.
 * A URL is never quoted back: it may hold the proxy's password.
 */
static int read_proxies(acmpy_state *st, opts_holder *h, PyObject *config)
{
    PyObject *proxies = NULL, *pc = NULL, *key, *value;
    Py_ssize_t pos = 0;
    int rc = -1;

    if (!config)
        return 0;
    if (config_dict(st, config, "proxies", "{\"https\": url, \"http\": url}", &proxies) < 0 ||
        config_dict(st, config, "proxies_config", "of proxy_ca_bundle, proxy_client_cert, "
                    "proxy_use_forwarding_for_https", &pc) < 0)
        goto done;
    while (proxies && PyDict_Next(proxies, &pos, &key, &value)) {
        int str = PyUnicode_Check(key);
        int https = str && PyUnicode_CompareWithASCIIString(key, "https") == 0;
        if (!https && !(str && PyUnicode_CompareWithASCIIString(key, "http") == 0)) {
            acmpy_raise_as(st->InvalidConfigError, "proxies: unknown key %R (expected \"https\" "
                           "or \"http\", the endpoint's scheme)", key);
            goto done;
        }
        if (value != Py_None &&
            proxy_string(st, h, value, "proxies", key, https ? &h->o.https_proxy
                                                              : &h->o.http_proxy) < 0)
            goto done;
    }
    pos = 0;
    while (pc && PyDict_Next(pc, &pos, &key, &value)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : "";
        if (!k)
            goto done;
        if (value == Py_None)
            continue;
        if (strcmp(k, "proxy_ca_bundle") == 0) {
            if (proxy_string(st, h, value, "proxies_config", key, &h->o.proxy_ca_bundle) < 0)
                goto done;
        } else if (strcmp(k, "proxy_client_cert") == 0) {
            /* botocore: a path, or a (certificate, key) pair. */
            if (PyTuple_Check(value) && PyTuple_GET_SIZE(value) == 2) {
                if (proxy_string(st, h, PyTuple_GET_ITEM(value, 0), "proxies_config", key,
                                 &h->o.proxy_client_cert) < 0 ||
                    proxy_string(st, h, PyTuple_GET_ITEM(value, 1), "proxies_config", key,
                                 &h->o.proxy_client_key) < 0)
                    goto done;
            } else if (proxy_string(st, h, value, "proxies_config", key,
                                    &h->o.proxy_client_cert) < 0) {
                goto done;
            }
        } else if (strcmp(k, "proxy_use_forwarding_for_https") == 0) {
            if (!PyBool_Check(value)) {
                acmpy_raise_as(st->InvalidConfigError, "proxies_config[%R]: expected a bool, "
                               "got %.100s", key, Py_TYPE(value)->tp_name);
                goto done;
            }
            if (value == Py_True) {
                acmpy_raise_as(st->InvalidConfigError, "proxies_config[%R]: True is not "
                               "supported: https always goes through the proxy by CONNECT",
                               key);
                goto done;
            }
        } else {
            acmpy_raise_as(st->InvalidConfigError, "proxies_config: unknown key %R (expected "
                           "proxy_ca_bundle, proxy_client_cert or "
                           "proxy_use_forwarding_for_https)", key);
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(proxies);
    Py_XDECREF(pc);
    return rc;
}

/* use_ssl=False: botocore's http:// for the resolved endpoint (an explicit one is kept). */
static int plain_http_endpoint(acmpy_state *st, opts_holder *h, PyObject *use_ssl,
                               acmpca_client **c)
{
    const char *url;
    PyObject *plain;
    acmpca_client *again = NULL;

    if (!use_ssl || use_ssl == Py_None || use_ssl == Py_True || h->o.endpoint_url)
        return 0;
    url = acmpca_client_endpoint(*c);
    if (strncmp(url, "https://", 8) != 0)
        return 0;
    if (!(plain = PyUnicode_FromFormat("http://%s", url + 8)) ||
        !(h->o.endpoint_url = keep_utf8(st, h, plain, "endpoint_url"))) {
        Py_XDECREF(plain);
        return -1;
    }
    Py_DECREF(plain);
    if (!h->o.region && acmpca_client_region(*c)[0])
        h->o.region = acmpca_client_region(*c); /* copied by acmpca_client_new below */
    if (acmpca_client_new(&again, &h->o) != 0) {
        acmpy_raise_last(st, NULL, NULL);
        return -1;
    }
    acmpca_client_free(*c);
    *c = again;
    return 0;
}

/* The arguments that only the constructor reads: refused with the reason. */
static int check_given(acmpy_state *st, const client_args *a)
{
    if (a->service_name && a->service_name != Py_None &&
        (!PyUnicode_Check(a->service_name) ||
         PyUnicode_CompareWithASCIIString(a->service_name, "acm-pca") != 0)) {
        PyErr_Format(PyExc_ValueError, "service_name: acmpca only serves 'acm-pca', not %R "
                     "(positional arguments follow boto3.client(): service_name, region_name, "
                     "api_version, ...)", a->service_name);
        return -1;
    }
    if (a->api_version && a->api_version != Py_None &&
        (!PyUnicode_Check(a->api_version) ||
         PyUnicode_CompareWithASCIIString(a->api_version, API_VERSION) != 0)) {
        acmpy_raise_as(st->InvalidConfigError, "api_version: acmpca speaks the ACM PCA API "
                       "version '" API_VERSION "' only, got %R", a->api_version);
        return -1;
    }
    if (a->use_ssl && a->use_ssl != Py_None && !PyBool_Check(a->use_ssl)) {
        acmpy_raise_as(st->InvalidConfigError, "use_ssl: expected a bool, got %R", a->use_ssl);
        return -1;
    }
    return 0;
}

static int client_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    client_args given, s; /* as called (borrowed); each setting's value (owned) */
    opts_holder h;
    acmpca_client *c = NULL;
    int rc = -1;

    if (!st)
        return -1;
    if (parse_client_args(args, kwds, &given) < 0)
        return -1;
    /*
     * Waiters, paginators and page iterators reach the core client through
     * this object (and a page iterator keeps a core paginator pointing at
     * it): swapping the core client under them would leave them on freed
     * memory. A client is initialised once; closing it is final.
     */
    if (self->client || self->closed) {
        PyErr_SetString(st->GeneralError, "Client.__init__: this client is already initialised "
                                          "(or closed); make a new Client instead");
        return -1;
    }
    if (check_given(st, &given) < 0)
        return -1;
    memset(&h, 0, sizeof(h));
    h.o = (acmpca_client_options)ACMPCA_CLIENT_OPTIONS_INIT;
    if (!(h.keep = PyList_New(0)))
        return -1;
    if (read_settings(&given, &s) < 0 || read_proxies(st, &h, s.config) < 0 ||
        client_options(st, &s, &h) < 0)
        goto done;
    if (acmpca_client_new(&c, &h.o) != 0) {
        const acmpca_error *e = acmpca_error_last();
        if (e->code == ACMPCA_EINVAL)
            raise_option_error(st, e->message);
        else
            acmpy_raise_last(st, NULL, NULL);
        goto done;
    }
    if (plain_http_endpoint(st, &h, s.use_ssl, &c) < 0)
        goto done;
    Py_XSETREF(self->meta_args, make_meta_args(c, s.config, s.endpoint_url));
    if (!self->meta_args)
        goto done;
    Py_CLEAR(self->meta);
    self->client = c;
    c = NULL;
    self->closed = 0;
    rc = 0;
done:
    acmpca_client_free(c);
    settings_clear(&s);
    Py_XDECREF(h.keep);
    PyMem_Free(h.limits);
    return rc;
}

/*
 * A GC type: client.meta holds the config, and a config (or anything it
 * reaches: a waiter, a page iterator, a callback) may hold the client.
 */
static int client_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((acmpy_client *)op)->meta);
    Py_VISIT(((acmpy_client *)op)->meta_args);
    return 0;
}

static int client_clear(PyObject *op)
{
    Py_CLEAR(((acmpy_client *)op)->meta);
    Py_CLEAR(((acmpy_client *)op)->meta_args);
    return 0;
}

static void client_dealloc(PyObject *op)
{
    acmpy_client *self = (acmpy_client *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    if (self->weakreflist)
        PyObject_ClearWeakRefs(op);
    /* A running call holds a reference, so none runs here. */
    if (self->client)
        acmpy_client_drop_core(self);
    Py_CLEAR(self->meta);
    Py_CLEAR(self->meta_args);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *client_repr(PyObject *op)
{
    acmpy_client *self = (acmpy_client *)op;
    PyObject *region, *endpoint;
    if (!self->meta_args)
        return PyUnicode_FromString("<acmpca.Client uninitialised>");
    /* Region and endpoint only: never anything about credentials. */
    region = PyDict_GetItemString(self->meta_args, "region_name");
    endpoint = PyDict_GetItemString(self->meta_args, "endpoint_url");
    if (!region || !endpoint)
        return PyUnicode_FromString("<acmpca.Client>");
    return PyUnicode_FromFormat("<acmpca.Client region=%R endpoint=%R%s>", region, endpoint,
                                self->closed ? " closed" : "");
}

static PyObject *client_close(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    (void)unused;
    self->closed = 1;
    /* With calls running on other threads, the last of them frees the core client. */
    if (self->inflight == 0 && self->client)
        acmpy_client_drop_core(self);
    Py_RETURN_NONE;
}

static PyObject *client_enter(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    (void)unused;
    if (!acmpy_client_begin(self))
        return NULL;
    acmpy_client_end(self);
    return Py_NewRef(op);
}

static PyObject *client_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return client_close(op, NULL);
}

static PyObject *client_get_closed(PyObject *op, void *unused)
{
    (void)unused;
    return PyBool_FromLong(((acmpy_client *)op)->closed);
}

static PyObject *client_get_exceptions(PyObject *op, void *unused)
{
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    (void)unused;
    return st ? Py_NewRef(st->exceptions) : NULL;
}

/* client.meta, made on first use: acmpca._meta is only imported by code that looks. */
static PyObject *client_get_meta(PyObject *op, void *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    PyObject *module, *meta;
    (void)unused;
    if (self->meta)
        return Py_NewRef(self->meta);
    if (!self->meta_args)
        Py_RETURN_NONE;
    if (!(module = PyImport_ImportModule("acmpca._meta")))
        return NULL;
    meta = PyObject_CallMethod(module, "_client_meta", "OO", op, self->meta_args);
    Py_DECREF(module);
    if (meta && !self->meta)
        self->meta = Py_NewRef(meta);
    return meta;
}

/* _set_hooked(bool): the events emitter says whether any handler is registered. */
static PyObject *client_set_hooked(PyObject *op, PyObject *on)
{
    int v = PyObject_IsTrue(on);
    if (v < 0)
        return NULL;
    ((acmpy_client *)op)->hooked = v;
    Py_RETURN_NONE;
}

static PyObject *client_get_waiter_names(PyObject *op, void *unused)
{
    (void)op;
    (void)unused;
    return acmpy_waiter_names();
}

static PyObject *m_get_waiter(PyObject *op, PyObject *name)
{
    return acmpy_client_get_waiter((acmpy_client *)op, name);
}

static PyObject *m_get_paginator(PyObject *op, PyObject *name)
{
    return acmpy_client_get_paginator((acmpy_client *)op, name);
}

static PyObject *m_can_paginate(PyObject *op, PyObject *name)
{
    return acmpy_client_can_paginate((acmpy_client *)op, name);
}

static PyObject *m_request_certificate(PyObject *op, PyObject *args, PyObject *kwargs)
{
    return acmpy_client_request_certificate((acmpy_client *)op, args, kwargs);
}

static PyObject *m_request_machine(PyObject *op, PyObject *args, PyObject *kwargs)
{
    return acmpy_client_request_machine((acmpy_client *)op, args, kwargs);
}

/*
 * Which provider supplied the client's credentials ("static", "environment",
 * "shared-credentials-file", "assume-role", "web-identity", "sso",
 * "credential-process", "config-file", "container", "imds"). Fetches them
 * when nothing is cached yet (with the GIL released); never shows a secret.
 */
static PyObject *client_credentials_source(PyObject *op, PyObject *unused)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    acmpca_credentials_provider *p;
    acmpca_credentials *creds = NULL;
    acmpca_client *c;
    PyObject *out = NULL;
    const char *name;
    int rc;

    (void)unused;
    if (!st || !(c = acmpy_client_begin(self)))
        return NULL;
    p = acmpca_client_credentials_provider(c);
    if (!p) {
        acmpy_client_end(self);
        Py_RETURN_NONE;
    }
    acmpy_log_prepare(st);
    Py_BEGIN_ALLOW_THREADS
    rc = acmpca_credentials_get(p, 0, &creds);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        acmpy_raise_last(st, NULL, NULL);
    } else {
        name = creds && creds->provider && creds->provider[0] ? creds->provider
                                                              : acmpca_credentials_provider_name(p);
        out = PyUnicode_FromString(name ? name : "");
    }
    acmpca_credentials_free(creds);
    acmpy_client_end(self);
    return out;
}

/*
 * _machine(operation, **kwargs): the call as a machine for a driver of one's
 * own (acmpca.aio), converted and validated exactly as the method does.
 */
static PyObject *client_machine(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    const acmpca_operation_info *info;
    acmpy_machine *m;
    acmpca_client *c;
    cJSON *in = NULL;
    const char *name;

    if (!st)
        return NULL;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "_machine(operation_name, **kwargs): no operation");
        return NULL;
    }
    if (!(name = acmpy_utf8(st, args[0], "operation_name")))
        return NULL;
    if (!(info = acmpca_model_operation_find(name))) {
        PyErr_Format(PyExc_ValueError, "unknown operation %R", args[0]);
        return NULL;
    }
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() only accepts keyword arguments.", info->snake_name);
        return NULL;
    }
    if (!(m = acmpy_machine_new(st, self, NULL, NULL, info, ACMPY_MACHINE_CALL, &c)))
        return NULL;
    if (acmpy_kwargs_to_json(st, args + nargs, kwnames, NULL, NULL, &in) < 0)
        Py_CLEAR(m);
    else if (acmpca_machine_new_call(&m->m, c, info->name, in) != 0) {
        acmpy_raise_last(st, info->name, acmpca_client_endpoint(c));
        Py_CLEAR(m);
    }
    cJSON_Delete(in);
    return (PyObject *)m;
}

static PyObject *client_send_hooked(PyObject *op, PyObject *args);

static PyMethodDef client_methods[] = {
    {"_machine", (PyCFunction)(void (*)(void))client_machine, METH_FASTCALL | METH_KEYWORDS,
     "_machine(operation_name, **kwargs) -> _Machine\n\nThe call as a call machine, for a "
     "driver of your own (acmpca.aio is one):\nthe arguments are converted and validated as "
     "the method does, before any step."},
    {"credentials_source", client_credentials_source, METH_NOARGS,
     "credentials_source() -> str\n\nThe name of the provider that supplies this client's "
     "credentials, for debugging: 'static' (keys passed to the client), 'environment',\n"
     "'shared-credentials-file', 'config-file', 'assume-role', 'web-identity', 'sso',\n"
     "'credential-process', 'container' or 'imds' (botocore's Credentials.method). Fetches\n"
     "the credentials first when none are cached, so it raises NoCredentialsError (the\n"
     "message lists every source tried) or CredentialRetrievalError (naming the failing\n"
     "provider) as a call would. Never reveals a key."},
    {"_set_hooked", client_set_hooked, METH_O,
     "_set_hooked(bool): whether calls run the event handlers (acmpca._events sets it)."},
    {"_send_hooked", client_send_hooked, METH_VARARGS,
     "_send_hooked(operation, params, before_sign, before_send, needs_retry): one call, step "
     "by step, with hooks between the steps (acmpca._events)."},
    {"close", client_close, METH_NOARGS,
     "close() -> None\n\nFree the client's connections. Later calls raise acmpca.GeneralError; "
     "calls still running on other threads finish first. Closing twice is fine."},
    {"__enter__", client_enter, METH_NOARGS, "Return the client itself."},
    {"__exit__", (PyCFunction)(void (*)(void))client_exit, METH_FASTCALL,
     "Close the client."},
    {"get_waiter", m_get_waiter, METH_O,
     "get_waiter(waiter_name) -> Waiter\n\nA waiter by its boto3 name: 'certificate_issued', "
     "'certificate_authority_csr_created' or 'audit_report_created'."},
    {"get_paginator", m_get_paginator, METH_O,
     "get_paginator(operation_name) -> Paginator\n\nA paginator by operation name: "
     "'list_certificate_authorities', 'list_tags' or 'list_permissions'."},
    {"can_paginate", m_can_paginate, METH_O,
     "can_paginate(operation_name) -> bool\n\nWhether get_paginator(operation_name) works."},
    {"request_certificate", (PyCFunction)(void (*)(void))m_request_certificate,
     METH_VARARGS | METH_KEYWORDS,
     "request_certificate(certificate_authority_arn, *, csr=None, key_type=None,\n"
     "    common_name=None, organization=None, organizational_unit=None, country=None,\n"
     "    state=None, locality=None, dns_names=(), ip_addresses=(), emails=(), uris=(),\n"
     "    signing_algorithm=None, template_arn=None, validity_days=365,\n"
     "    wait_delay=None, wait_max_attempts=None) -> dict\n\n"
     "Issue a certificate and wait for it, in one call: make a private key and a CSR\n"
     "(unless `csr` is given), IssueCertificate (signing algorithm: the CA's own unless\n"
     "given), the certificate_issued waiter, GetCertificate. Returns {'CertificateArn',\n"
     "'Certificate', 'CertificateChain', 'PrivateKey' (None when a CSR was given), 'Csr'}."},
    {"issue_and_wait", (PyCFunction)(void (*)(void))m_request_certificate,
     METH_VARARGS | METH_KEYWORDS, "The same as request_certificate()."},
    {"_request_machine", (PyCFunction)(void (*)(void))m_request_machine,
     METH_VARARGS | METH_KEYWORDS,
     "_request_machine(certificate_authority_arn, **kwargs) -> _Machine\n\n"
     "request_certificate() as one machine (arguments as request_certificate's), for a\n"
     "driver of one's own (acmpca.aio): the key and CSR are made here."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef client_getset[] = {
    {"closed", client_get_closed, NULL, "True once close() was called.", NULL},
    {"exceptions", client_get_exceptions, NULL,
     "The service exception classes (client.exceptions.ResourceNotFoundException, ...) "
     "and ClientError, as boto3's client.exceptions.", NULL},
    {"meta", client_get_meta, NULL,
     "region_name, endpoint_url, service_name, config: as boto3's client.meta.", NULL},
    {"waiter_names", client_get_waiter_names, NULL, "The names get_waiter() accepts.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(acmpy_client, weakreflist), READONLY, NULL},
    /* Read by acmpca.aio on each call: an attribute, no Python-level call. */
    {"_hooked", T_INT, offsetof(acmpy_client, hooked), READONLY,
     "Nonzero while an event handler is registered (calls take the events path)."},
    {NULL, 0, 0, 0, NULL}};

static const char client_doc[] =
    "Client(service_name='acm-pca', region_name=None, api_version=None, use_ssl=True,\n"
    "       verify=None, endpoint_url=None, aws_access_key_id=None,\n"
    "       aws_secret_access_key=None, aws_session_token=None, config=None, *,\n"
    "       profile_name=None, connect_timeout=None, read_timeout=None,\n"
    "       retries=None, max_pool_connections=None, use_fips_endpoint=None,\n"
    "       use_dualstack_endpoint=None, rate_limit=None, user_agent_extra=None,\n"
    "       max_response_bytes=None, total_timeout=None)\n"
    "--\n\n"
    "An AWS Private CA client, a drop-in for boto3.client('acm-pca', ...).\n\n"
    "The positional arguments are boto3.client()'s, in its order. service_name must be\n"
    "'acm-pca' (or None) and api_version '2017-08-22' (or None); use_ssl=False sends\n"
    "plain HTTP to the resolved endpoint (an explicit endpoint_url is used as given).\n"
    "Anything not given resolves as boto3 does: AWS_REGION / AWS_DEFAULT_REGION, the\n"
    "AWS_ENDPOINT_URL* variables, the credential chain (environment, profile files,\n"
    "SSO, process, container, instance metadata). `verify` is a bool or a CA bundle\n"
    "path. `max_response_bytes` (acmpca only) caps a response body (default 16 MiB;\n"
    "larger answers raise ResponseParserError). `total_timeout` (acmpca only) bounds a\n"
    "whole call in seconds, retries and their pauses included (default None: no bound;\n"
    "past it, ReadTimeoutError). `config` is an acmpca.Config or a\n"
    "botocore.config.Config; the keyword-only\n"
    "arguments override it. No I/O happens here. One client may be shared by threads;\n"
    "close() it, or use it as a context manager. A client is initialised once: calling\n"
    "__init__ again raises GeneralError.\n\n"
    "Each API operation is a method named as in boto3 (issue_certificate, ...), taking\n"
    "the API member names as keyword arguments and returning a dict shaped like\n"
    "boto3's, with ResponseMetadata. credentials_source() names the provider that\n"
    "supplied the credentials. client.meta (made on first use) is botocore's ClientMeta:\n"
    "region_name, endpoint_url, partition, config (the resolved settings), service_model,\n"
    "method_to_api_mapping and events (botocore's event names; while no handler is\n"
    "registered, calls take the C path unchanged).";

static PyType_Slot client_slots[] = {
    {Py_tp_init, client_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_repr, client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {Py_tp_members, client_members},
    {Py_tp_doc, (void *)client_doc},
    {0, NULL}};

static PyType_Spec client_spec = {
    "acmpca.Client", sizeof(acmpy_client), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, client_slots};

/* ---- the events path (acmpca._events drives it when a handler is registered) ---------------- */

/* (method, url, [(name, value), ...], body) of a request, for the hooks. */
static PyObject *request_tuple(const acmpca_http_request *r)
{
    PyObject *headers = PyList_New((Py_ssize_t)r->header_count), *out;
    size_t i;
    if (!headers)
        return NULL;
    for (i = 0; i < r->header_count; i++) {
        PyObject *pair = Py_BuildValue("(ss)", r->headers[i].name, r->headers[i].value);
        if (!pair) {
            Py_DECREF(headers);
            return NULL;
        }
        PyList_SET_ITEM(headers, (Py_ssize_t)i, pair);
    }
    out = Py_BuildValue("(ssNy#)", r->method, r->url, headers, r->body, (Py_ssize_t)r->body_len);
    return out;
}

/* The headers a before-sign hook returned ({name: value} or None) onto the machine. */
static int apply_headers(acmpy_state *st, acmpca_machine *m, PyObject *add)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (!add || add == Py_None)
        return 0;
    if (!PyDict_Check(add)) {
        PyErr_Format(PyExc_TypeError, "request headers: expected a dict, got %R", add);
        return -1;
    }
    while (PyDict_Next(add, &pos, &key, &value)) {
        const char *k = acmpy_utf8(st, key, "header name"), *v;
        if (!k || !(v = acmpy_utf8(st, value, "header value")))
            return -1;
        if (acmpca_machine_set_header(m, k, v) != 0) {
            acmpy_raise_as(st->ParamValidationError, "%s", acmpca_error_last()->message);
            return -1;
        }
    }
    return 0;
}

/* A before-send hook's (status, {name: value}, body) reported as the answer. */
static int apply_response(acmpy_state *st, acmpca_machine *m, PyObject *r)
{
    PyObject *headers = NULL, *key, *value;
    acmpca_header *h = NULL;
    Py_ssize_t pos = 0, n = 0, len = 0;
    const char *body = NULL;
    int status, rc = -1;

    if (!PyArg_ParseTuple(r, "iO!y#:before-send response", &status, &PyDict_Type, &headers,
                          &body, &len))
        return -1;
    if (PyDict_GET_SIZE(headers) && !(h = PyMem_Calloc((size_t)PyDict_GET_SIZE(headers),
                                                        sizeof(*h)))) {
        PyErr_NoMemory();
        return -1;
    }
    while (PyDict_Next(headers, &pos, &key, &value)) {
        if (!(h[n].name = acmpy_utf8(st, key, "header name")) ||
            !(h[n].value = acmpy_utf8(st, value, "header value")))
            goto done;
        n++;
    }
    if (acmpca_machine_response(m, status, h, (size_t)n, body, (size_t)len) != 0) {
        acmpy_raise_as(st->ParamValidationError, "%s", acmpca_error_last()->message);
        goto done;
    }
    rc = 0;
done:
    PyMem_Free(h);
    return rc;
}


/*
 * _send_hooked(operation, params, before_sign, before_send, needs_retry):
 * one call as the C path makes it, step by step, calling the hooks (None for
 * none) between the steps with the GIL held:
 *   before_sign(attempt, request) -> {name: value} to add, signed, or None
 *   before_send(attempt, request) -> (answer, headers): answer (status,
 *       headers, body) is used instead of sending, unless None; headers
 *       ({name: value} or None) are added to the request, unsigned
 *   needs_retry(attempt, exception): an attempt failed and will be retried
 * where request is (method, url, [(name, value)...], body); before_sign runs
 * before every signature (each attempt, and the retry after a clock-skew
 * correction). Returns (status, headers, parsed, exception, body): the last
 * answer's status, headers and body (None without one), the result (or the
 * error's response), and the exception to raise (None on success). With
 * validate_only, only checks and serializes the params as the call would
 * (ParamValidationError) and returns the unsigned request.
 */
static PyObject *client_send_hooked(PyObject *op, PyObject *args)
{
    acmpy_client *self = (acmpy_client *)op;
    acmpy_state *st = acmpy_state_from_type(Py_TYPE(op));
    PyObject *name, *params, *sign_cb, *send_cb, *retry_cb, *kwnames = NULL, *values = NULL;
    PyObject *result = NULL, *parsed = NULL, *exc = NULL, *r = NULL;
    const acmpca_operation_info *info;
    acmpca_response_meta *meta = NULL;
    acmpca_machine *m = NULL;
    acmpca_client *c;
    acmpca_step s;
    acmpca_step_kind k;
    cJSON *in = NULL, *out = NULL;
    int validate_only = 0, rc;
    const char *opname;

    if (!st || !PyArg_ParseTuple(args, "UO!OOO|p:_send_hooked", &name, &PyDict_Type, &params,
                                 &sign_cb, &send_cb, &retry_cb, &validate_only))
        return NULL;
    if (!(opname = acmpy_utf8(st, name, "operation_name")))
        return NULL;
    if (!(info = acmpca_model_operation_find(opname))) {
        PyErr_Format(PyExc_ValueError, "unknown operation %R", name);
        return NULL;
    }
    if (!(c = acmpy_client_begin(self)))
        return NULL;
    if (!(kwnames = PyDict_Keys(params)) || !(values = PyDict_Values(params)))
        goto done;
    {
        PyObject *t = PyList_AsTuple(kwnames);
        Py_SETREF(kwnames, t);
        if (!kwnames)
            goto done;
    }
    if (acmpy_kwargs_to_json(st, PySequence_Fast_ITEMS(values), kwnames, NULL, NULL,
                             &in) < 0)
        goto done;
    if (acmpca_machine_new_call(&m, c, info->name, in) != 0 ||
        acmpca_machine_use_blocking_io(m) != 0) {
        acmpy_raise_last(st, info->name, NULL);
        goto done;
    }
    if (validate_only) { /* the params are valid: a stubbed answer may be used */
        result = request_tuple(acmpca_machine_request(m));
        goto done;
    }
    if (sign_cb != Py_None && acmpca_machine_stop_before_signing(m) != 0) {
        acmpy_raise_last(st, info->name, NULL);
        goto done;
    }
    acmpy_log_prepare(st);
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        k = acmpca_machine_next(m, &s);
        Py_END_ALLOW_THREADS
        if (k == ACMPCA_STEP_DONE || k == ACMPCA_STEP_FAILED)
            break;
        if (k == ACMPCA_STEP_SIGN) { /* every signature: each attempt, a clock-skew retry too */
            PyObject *req = request_tuple(s.request), *add;
            if (!req)
                goto done;
            add = PyObject_CallFunction(sign_cb, "iN", s.attempt, req);
            if (!add || apply_headers(st, m, add) < 0) {
                Py_XDECREF(add);
                goto done;
            }
            Py_DECREF(add);
            continue;
        }
        if (k == ACMPCA_STEP_SEND && send_cb != Py_None) {
            PyObject *req = request_tuple(s.request), *answer;
            if (!req)
                goto done;
            answer = PyObject_CallFunction(send_cb, "iN", s.attempt, req);
            if (!answer)
                goto done;
            if (!PyTuple_Check(answer) || PyTuple_GET_SIZE(answer) != 2) {
                PyErr_SetString(PyExc_TypeError, "before_send: expected (answer, headers)");
                Py_DECREF(answer);
                goto done;
            }
            /* Headers added now go out unsigned, as botocore's do after signing. */
            rc = PyTuple_GET_ITEM(answer, 0) != Py_None
                     ? apply_response(st, m, PyTuple_GET_ITEM(answer, 0))
                     : apply_headers(st, m, PyTuple_GET_ITEM(answer, 1));
            if (rc == 0 && PyTuple_GET_ITEM(answer, 0) != Py_None)
                rc = 1;
            Py_DECREF(answer);
            if (rc < 0)
                goto done;
            if (rc == 1)
                continue;
        }
        if (k == ACMPCA_STEP_SLEEP && s.sleep_reason == ACMPCA_SLEEP_BACKOFF &&
            retry_cb != Py_None) {
            PyObject *e = acmpy_error_taken(st, info->name, acmpca_client_endpoint(c), NULL);
            PyObject *ignored;
            if (!e)
                goto done;
            ignored = PyObject_CallFunction(retry_cb, "iN", s.attempt, e);
            if (!ignored)
                goto done;
            Py_DECREF(ignored);
        }
        Py_BEGIN_ALLOW_THREADS
        acmpca_machine_perform(m, &s);
        Py_END_ALLOW_THREADS
    }
    rc = acmpca_machine_result(m, &out, &meta);
    if (rc != 0) {
        if (!(exc = acmpy_error_taken(st, info->name, acmpca_client_endpoint(c), meta)))
            goto done;
        parsed = PyObject_GetAttrString(exc, "response");
        if (!parsed) {
            PyErr_Clear();
            parsed = Py_NewRef(Py_None);
        }
    } else {
        if (!(parsed = acmpy_result_dict(st, out, meta)))
            goto done;
    }
    if (meta && meta->http_status) {
        PyObject *status = PyLong_FromLong(meta->http_status), *headers = PyDict_New();
        size_t i;
        for (i = 0; headers && status && i < meta->header_count; i++) {
            PyObject *hv = PyUnicode_FromString(meta->headers[i].value);
            if (!hv || PyDict_SetItemString(headers, meta->headers[i].name, hv) < 0)
                Py_CLEAR(headers);
            Py_XDECREF(hv);
        }
        size_t len = 0;
        const char *body = acmpca_machine_response_body(m, &len);
        PyObject *content = PyBytes_FromStringAndSize(body ? body : "", (Py_ssize_t)len);
        if (status && headers && content)
            r = PyTuple_Pack(5, status, headers, parsed, exc ? exc : Py_None, content);
        Py_XDECREF(status);
        Py_XDECREF(headers);
        Py_XDECREF(content);
    } else {
        r = PyTuple_Pack(5, Py_None, Py_None, parsed, exc ? exc : Py_None, Py_None);
    }
    result = r;
done:
    acmpy_client_end(self);
    acmpca_machine_free(m);
    cJSON_Delete(in);
    cJSON_Delete(out);
    acmpca_response_meta_free(meta);
    Py_XDECREF(kwnames);
    Py_XDECREF(values);
    Py_XDECREF(parsed);
    Py_XDECREF(exc);
    return result;
}

/* A call with a handler registered: acmpca._events._api_call(client, "Op", params). */
static PyObject *call_with_events(acmpy_client *self, const acmpca_operation_info *op,
                                  PyObject *const *kwvalues, PyObject *kwnames)
{
    PyObject *params = PyDict_New(), *module = NULL, *out = NULL;
    Py_ssize_t i, n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

    if (!params)
        return NULL;
    for (i = 0; i < n; i++)
        if (PyDict_SetItem(params, PyTuple_GET_ITEM(kwnames, i), kwvalues[i]) < 0)
            goto done;
    if ((module = PyImport_ImportModule("acmpca._events")))
        out = PyObject_CallMethod(module, "_api_call", "OsO", (PyObject *)self, op->name, params);
done:
    Py_XDECREF(module);
    Py_DECREF(params);
    return out;
}

/* ---- the operation methods ---------------------------------------------------------------- */

typedef struct acmpy_operation {
    PyObject_HEAD
    const acmpca_operation_info *op;
    acmpy_state *st;         /* the module's, which its type holds */
    PyObject *name;          /* "issue_certificate" */
    PyObject *qualname;      /* "Client.issue_certificate" */
    PyObject *doc;
    PyObject *operation;     /* "IssueCertificate" */
    vectorcallfunc vectorcall;
} acmpy_operation;

/* A call's 2xx body to its dict (see acmpca_machine_perform_parsing), made with
 * the GIL, which it keeps when it made the dict: DONE follows with no I/O. */
typedef struct answer_reading {
    acmpy_state *st;
    const acmpca_operation_info *op;
    PyThreadState *released;     /* the GIL is released when not NULL */
    PyObject *dict;
} answer_reading;

static int read_answer(void *userdata, const char *body, size_t len)
{
    answer_reading *r = userdata;

    PyEval_RestoreThread(r->released);
    r->released = NULL;
    if ((r->dict = acmpy_flat_output(r->st, r->op, body, len)))
        return 1;
    PyErr_Clear(); /* out of memory: the core parses it, and says so if it cannot */
    r->released = PyEval_SaveThread();
    return 0;
}

/*
 * The machine driven here rather than by acmpca_call_ex, so that the usual
 * answer becomes its dict with no cJSON tree in between: the GIL is released
 * for signing, sending and waiting, and taken back to read the answer.
 */
static PyObject *call_operation(acmpy_state *st, acmpy_client *self,
                                const acmpca_operation_info *op, PyObject *const *kwvalues,
                                PyObject *kwnames)
{
    acmpca_client *c;
    acmpca_machine *m = NULL;
    const acmpca_response_meta *meta;
    acmpca_step step;
    acmpca_step_kind k;
    answer_reading r = {st, op, NULL, NULL};
    acmpy_input_nodes nodes;
    cJSON *in = NULL, *out = NULL;
    PyObject *result = NULL;
    int rc;

    if (!(c = acmpy_client_begin(self)))
        return NULL;
    /* The caller holds kwvalues while the machine serializes them; `in` is freed after. */
    if (acmpy_kwargs_to_json_borrowing(st, kwvalues, kwnames, &nodes, &in) < 0)
        goto done;
    acmpy_log_prepare(st);
    rc = acmpca__machine_new_call_op(&m, c, op, in);
    acmpy_input_free(in, &nodes);
    if (rc != 0 || acmpca_machine_use_blocking_io(m) != 0) {
        acmpy_raise_last(st, op->name, acmpca_client_endpoint(c));
        goto done;
    }
    r.released = PyEval_SaveThread();
    k = acmpca_machine_next(m, &step);
    while (k == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        acmpca_machine_perform_parsing(m, &step, read_answer, &r);
        k = acmpca_machine_next(m, &step);
        if (r.dict && k != ACMPCA_STEP_DONE) { /* not after a 2xx, but never blocking here */
            Py_CLEAR(r.dict);
            r.released = PyEval_SaveThread();
        }
    }
    if (r.released)
        PyEval_RestoreThread(r.released);
    /* The thread's last error is still this call's: nothing ran on this thread since. */
    rc = acmpca_machine_result(m, &out, NULL);
    meta = acmpca_machine_meta(m);
    if (rc != 0)
        acmpy_raise_last_meta(st, op->name, acmpca_client_endpoint(c), meta);
    else if (r.dict)
        result = acmpy_with_metadata(st, Py_NewRef(r.dict), meta);
    else
        result = acmpy_result_dict(st, out, meta);
done:
    acmpy_client_end(self);
    acmpca_machine_free(m);
    Py_XDECREF(r.dict);
    cJSON_Delete(out);
    return result;
}

static PyObject *operation_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                                      PyObject *kwnames)
{
    acmpy_operation *d = (acmpy_operation *)callable;
    acmpy_state *st = d->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);

    if (nargs < 1 || !PyObject_TypeCheck(args[0], st->client_type)) {
        PyErr_Format(PyExc_TypeError, "%U() must be called on an acmpca.Client", d->qualname);
        return NULL;
    }
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%U() only accepts keyword arguments.", d->name);
        return NULL;
    }
    if (((acmpy_client *)args[0])->hooked)
        return call_with_events((acmpy_client *)args[0], d->op, args + nargs, kwnames);
    return call_operation(st, (acmpy_client *)args[0], d->op, args + nargs, kwnames);
}

static PyObject *operation_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (!obj || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/*
 * The descriptors sit in Client's dict and hold their own type, which holds
 * the module, which holds Client: a cycle only the GC can see. Their other
 * members are str, which never join a cycle, so there is nothing to clear.
 */
static int operation_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static void operation_dealloc(PyObject *op)
{
    acmpy_operation *d = (acmpy_operation *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_XDECREF(d->name);
    Py_XDECREF(d->qualname);
    Py_XDECREF(d->doc);
    Py_XDECREF(d->operation);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *operation_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<acmpca operation method %U>", ((acmpy_operation *)op)->qualname);
}

static PyObject *operation_doc(const acmpca_operation_info *op);

/* Built on first use: the 23 docstrings are a tenth of the extension's import work. */
static PyObject *operation_get_doc(PyObject *op, void *unused)
{
    acmpy_operation *d = (acmpy_operation *)op;
    (void)unused;
    if (!d->doc && !(d->doc = operation_doc(d->op)))
        return NULL;
    return Py_NewRef(d->doc);
}

static PyMemberDef operation_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(acmpy_operation, vectorcall), READONLY, NULL},
    {"__name__", T_OBJECT, offsetof(acmpy_operation, name), READONLY, NULL},
    {"__qualname__", T_OBJECT, offsetof(acmpy_operation, qualname), READONLY, NULL},
    {"operation_name", T_OBJECT, offsetof(acmpy_operation, operation), READONLY,
     "The API name of the operation, e.g. 'IssueCertificate'."},
    {NULL, 0, 0, 0, NULL}};

static PyGetSetDef operation_getset[] = {
    {"__doc__", operation_get_doc, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot operation_slots[] = {
    {Py_tp_dealloc, operation_dealloc},
    {Py_tp_traverse, operation_traverse},
    {Py_tp_repr, operation_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, operation_get},
    {Py_tp_members, operation_members},
    {Py_tp_getset, operation_getset},
    {0, NULL}};

static PyType_Spec operation_spec = {
    "acmpca.OperationMethod", sizeof(acmpy_operation), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR |
        Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_GC,
    operation_slots};

static const char *py_type_name(const acmpca_shape *shape)
{
    switch (shape->type) {
    case ACMPCA_SHAPE_STRUCTURE:
    case ACMPCA_SHAPE_MAP: return "dict";
    case ACMPCA_SHAPE_LIST: return "list";
    case ACMPCA_SHAPE_STRING: return "str";
    case ACMPCA_SHAPE_BLOB: return "bytes | str";
    case ACMPCA_SHAPE_INTEGER:
    case ACMPCA_SHAPE_LONG: return "int";
    case ACMPCA_SHAPE_BOOLEAN: return "bool";
    case ACMPCA_SHAPE_TIMESTAMP: return "datetime";
    }
    return "object";
}

/* The method's docstring, from the model: arguments, result members, errors. */
static PyObject *operation_doc(const acmpca_operation_info *op)
{
    PyObject *parts = PyList_New(0), *sep = NULL, *out = NULL, *s;
    size_t i;

#define ADD(...)                                                   \
    do {                                                           \
        if (!(s = PyUnicode_FromFormat(__VA_ARGS__)) ||            \
            PyList_Append(parts, s) < 0) {                         \
            Py_XDECREF(s);                                         \
            goto done;                                             \
        }                                                          \
        Py_DECREF(s);                                              \
    } while (0)

    if (!parts)
        return NULL;
    ADD("%s(**kwargs) -> dict\n\nCall the %s operation of AWS Private CA, as boto3's "
        "client.%s().\n", op->snake_name, op->name, op->snake_name);
    if (op->input->member_count) {
        ADD("\nKeyword arguments (the API member names):\n");
        for (i = 0; i < op->input->member_count; i++) {
            const acmpca_member *m = &op->input->members[i];
            ADD("    %s: %s%s\n", m->name, py_type_name(m->shape),
                m->required ? " (required)"
                            : m->idempotency_token ? " (generated when absent)" : "");
        }
    } else {
        ADD("\nTakes no arguments.\n");
    }
    ADD("\nReturns a dict with ResponseMetadata");
    for (i = 0; op->output && i < op->output->member_count; i++)
        ADD("%s %s (%s)", i + 1 == op->output->member_count ? " and" : ",",
            op->output->members[i].name, py_type_name(op->output->members[i].shape));
    ADD(".\n\nRaises acmpca.ParamValidationError before any I/O when the arguments do not "
        "match the model;");
    if (op->error_count) {
        ADD(" the service's ");
        for (i = 0; i < op->error_count; i++)
            ADD("%s%s", i ? ", " : "", acmpca_error_name(op->errors[i]));
        ADD(" (all acmpca.ClientError subclasses, also on client.exceptions);");
    }
    ADD(" ClientError for any other service error; the connection errors otherwise.");
#undef ADD
    if ((sep = PyUnicode_FromString("")))
        out = PyUnicode_Join(sep, parts);
done:
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return out;
}

int acmpy_client_setup(PyObject *module, acmpy_state *st)
{
    size_t i;

    st->operation_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &operation_spec, NULL);
    if (!st->operation_type)
        return -1;
    ACMPY_DISALLOW_NEW(st->operation_type);
    st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (!st->client_type)
        return -1;
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        const acmpca_operation_info *op = acmpca_model_operation(i);
        acmpy_operation *d = PyObject_GC_New(acmpy_operation, st->operation_type);
        int rc;
        if (!d)
            return -1;
        d->name = d->qualname = d->doc = d->operation = NULL;
        PyObject_GC_Track(d);
        d->op = op;
        d->st = st;
        d->vectorcall = operation_vectorcall;
        d->name = PyUnicode_InternFromString(op->snake_name);
        d->qualname = PyUnicode_FromFormat("Client.%s", op->snake_name);
        d->operation = PyUnicode_FromString(op->name);
        if (!d->name || !d->qualname || !d->operation) {
            Py_DECREF(d);
            return -1;
        }
        rc = PyObject_SetAttr((PyObject *)st->client_type, d->name, (PyObject *)d);
        Py_DECREF(d);
        if (rc < 0)
            return -1;
    }
    return PyModule_AddType(module, st->client_type);
}
