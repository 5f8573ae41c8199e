/*
 * acmpca.c - the Lua module "acmpca": AWS Private CA clients over the C core
 * (libacmpca), one source for Lua 5.4 and for LuaJIT 2.1 (the 5.1 API), the
 * differences shimmed behind LUA_VERSION_NUM.
 *
 *   local acmpca = require "acmpca"
 *   local c = acmpca.new{ region = ..., endpoint_url = ... }
 *   local out, meta = c:issue_certificate{ CertificateAuthorityArn = ..., ... }
 *   local cert = c:request_certificate(ca_arn, { common_name = ..., dns_names = {...} })
 *   local source = c:credentials_source()   -- "environment", "imds", ...: never the keys
 *
 * plus the PKI helpers of acmpca/pki.h: generate_key, make_csr,
 * normalize_csr, normalize_serial, parse_certificate; and the call machine
 * (c:machine, c:waiter_machine, c:request_certificate_machine, pages:machine)
 * for drivers that do their own I/O, such as resty/acmpca.lua on OpenResty's
 * cosockets.
 *
 * Values cross between Lua tables and the core's cJSON by their Lua types,
 * the core alone checking them against the model (acmpca/model.h says how
 * the few tags read): an empty table is taken as [] or {} as the shape says,
 * integers come back as Lua integers on 5.4, blobs are PEM strings,
 * timestamps numbers; ngx.null / cjson.null are absent.
 * Failures are raised as error objects (tables with the acmpca.Error
 * metatable); a machine returns them instead.
 *
 * Memory: every malloc'd object a call needs (cJSON trees, response
 * metadata, a built request, a signature, a PKI result) hangs off a
 * per-call "scratch" userdata whose __gc frees it, so anything on the way
 * may raise (a bad argument, Lua running out of memory, a service error)
 * without leaking; the success path empties the scratch at once. No C
 * statics: metatables, the error list and the build_request client cache
 * live in the registry.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE   /* dladdr, RTLD_NODELETE */
#endif
#include <dlfcn.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "acmpca.h"

#if defined(__GNUC__)
#  define ACMPCA_LUA_EXPORT __attribute__((visibility("default")))
#else
#  define ACMPCA_LUA_EXPORT
#endif

/* ---- 5.1 / LuaJIT shims ------------------------------------------------- */

#if LUA_VERSION_NUM < 502
#  define LUA_OK 0
#  define lua_rawlen(L, i) lua_objlen((L), (i))
#  define lua_newuserdatauv(L, size, nuv) lua_newuserdata((L), (size))
static int lua_absindex(lua_State *L, int idx)
{
    return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}
#elif LUA_VERSION_NUM < 504
#  define lua_newuserdatauv(L, size, nuv) lua_newuserdata((L), (size))
#endif
#if LUA_VERSION_NUM < 503
#  define lua_isinteger(L, i) 0
#endif

/*
 * Attach the value on top of the stack (popped) to the userdata at idx. Lua
 * 5.1 holds it in a table { value } as the userdata's environment; a value
 * that is itself a userdata holding such a table of itself (a client, see
 * push_new_client) lends it, so attaching it allocates nothing.
 */
static void set_uservalue(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
#if LUA_VERSION_NUM >= 504
    lua_setiuservalue(L, idx, 1);
#elif LUA_VERSION_NUM >= 502
    lua_setuservalue(L, idx);
#else
    if (lua_type(L, -1) == LUA_TUSERDATA) {
        lua_getfenv(L, -1);
        if (lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1);
            if (lua_rawequal(L, -1, -3)) {
                lua_pop(L, 1);
                lua_setfenv(L, idx);
                lua_pop(L, 1);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_setfenv(L, idx);
#endif
}

/* Push the value attached to the userdata at idx. */
static void get_uservalue(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 504
    lua_getiuservalue(L, idx, 1);
#elif LUA_VERSION_NUM >= 502
    lua_getuservalue(L, idx);
#else
    lua_getfenv(L, idx);
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
#endif
}

static void set_metatable(lua_State *L, const char *name)
{
    luaL_getmetatable(L, name);
    lua_setmetatable(L, -2);
}

/* Whether the string at idx holds a NUL byte (so the core would see a shorter C string). */
static int has_nul(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return memchr(s, '\0', len) != NULL;
}

/*
 * Whether the value at idx is ngx.null / cjson.null (a NULL light userdata):
 * JSON's null, which every input treats as absent, as it means in JSON.
 */
static int is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* lua_pushinteger where Lua has integers and the value is one, else a float. */
static void push_whole(lua_State *L, double d)
{
#if LUA_VERSION_NUM >= 503
    if (d == floor(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0) {
        lua_pushinteger(L, (lua_Integer)d);
        return;
    }
#endif
    lua_pushnumber(L, d);
}

/* ---- registry names ----------------------------------------------------- */

#define CLIENT_MT "acmpca.Client"
#define PAGES_MT "acmpca.Pages"
#define MACHINE_MT "acmpca.Machine"
#define ERROR_MT "acmpca.Error"
#define SCRATCH_MT "acmpca.Scratch"
#define GLOBAL_MT "acmpca.Global"
#define GLOBAL_KEY "acmpca.global"
#define CACHE_KEY "acmpca.client_cache"
#define WARNED_KEY "acmpca.warned_blocking_in_nginx"

/* How many clients build_request keeps (by config) before starting afresh. */
#define CACHE_MAX 32

/* ---- the scratch: per-call ownership of malloc'd results ---------------- */

typedef struct scratch {
    cJSON *in;
    cJSON *out;
    acmpca_response_meta *meta;
    acmpca_http_request *req;
    acmpca_signed *sig;
    char *text;                      /* a PKI helper's result (may be a private key) */
    acmpca_issued_certificate *cert;
    acmpca_machine *m;               /* a blocking call's machine */
} scratch;

static void explicit_wipe(void *p, size_t n)
{
    void *(*volatile wipe)(void *, int, size_t) = memset;  /* not optimised away */
    wipe(p, 0, n);
}

static void scratch_release(scratch *s)
{
    if (s->text) {
        explicit_wipe(s->text, strlen(s->text));
        acmpca_free(s->text);
    }
    acmpca_issued_certificate_free(s->cert);
    cJSON_Delete(s->in);
    cJSON_Delete(s->out);
    acmpca_response_meta_free(s->meta);
    acmpca_http_request_free(s->req);
    acmpca_signed_free(s->sig);
    acmpca_machine_free(s->m);
    memset(s, 0, sizeof(*s));
}

/* A request_certificate result's private key, wiped before the result is freed. */
static void wipe_private_key(cJSON *out)
{
    cJSON *key = cJSON_GetObjectItemCaseSensitive(out, "PrivateKey");
    if (cJSON_IsString(key) && key->valuestring)
        explicit_wipe(key->valuestring, strlen(key->valuestring));
}

static int scratch_gc(lua_State *L)
{
    scratch *s = (scratch *)luaL_testudata(L, 1, SCRATCH_MT);
    if (s)
        scratch_release(s);
    return 0;
}

static scratch *scratch_new(lua_State *L)
{
    scratch *s = (scratch *)lua_newuserdatauv(L, sizeof(*s), 0);
    memset(s, 0, sizeof(*s));
    set_metatable(L, SCRATCH_MT);
    return s;
}

/* ---- error objects ------------------------------------------------------ */

#define CODE_PARAM "ParamValidationError"
#define CODE_CLOSED "ClientClosedError"


static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value && *value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

/* Push a new error object; empty strings and a 0 status are left out (nil). */
static void push_error(lua_State *L, const char *code, const char *message,
                       const char *operation, int status, const char *request_id, int retryable,
                       int attempts)
{
    lua_createtable(L, 0, 8);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message ? message : "");
    lua_setfield(L, -2, "message");
    set_string(L, "operation", operation);
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    set_string(L, "request_id", request_id);
    lua_pushboolean(L, retryable);
    lua_setfield(L, -2, "retryable");
    lua_pushinteger(L, attempts);
    lua_setfield(L, -2, "attempts");
    set_metatable(L, ERROR_MT);
}

/* Push the core's last error on this thread as an error object. */
static void push_last_error(lua_State *L, const char *operation)
{
    const acmpca_error *e = acmpca_error_last();
    const char *code;

    if (ACMPCA_IS_SERVICE_ERROR(e->code))
        code = e->aws_code[0] ? e->aws_code
               : e->code == ACMPCA_ESERVICE ? "ServiceError" : acmpca_error_name(e->code);
    else
        code = acmpca_error_class(e->code); /* the same names in every binding */
    push_error(L, code, e->message[0] ? e->message : acmpca_strerror(e->code),
               e->operation[0] ? e->operation : operation, e->http_status, e->request_id,
               e->retryable, e->attempts);
    set_string(L, "class", acmpca_error_class(e->code));
    set_string(L, "waiter", e->waiter);
    set_string(L, "waiter_state", e->waiter_state);
    set_string(L, "subject", e->subject); /* the bad region, the missing profile */
}

/* Raise the core's last error on this thread as an error object. */
static int raise_last(lua_State *L, const char *operation)
{
    push_last_error(L, operation);
    return lua_error(L);
}

/* Raise an error object with `code` and a formatted message (lua_pushfstring's formats). */
static int raise_code(lua_State *L, const char *code, const char *operation, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    push_error(L, code, lua_tostring(L, -1), operation, 0, NULL, 0, 0);
    set_string(L, "class", code); /* the binding's own errors are their own class */
    return lua_error(L);
}

#define raise_param(L, op, ...) raise_code((L), CODE_PARAM, (op), __VA_ARGS__)

/* "Code: message", and " (gave up after N attempts)" when the call was retried. */
static int error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "attempts");
    lua_getfield(L, 1, "waiter");
    lua_insert(L, -4); /* under code, message, attempts: a waiter's message counts its own */
    lua_pushfstring(L, "%s: %s", lua_isstring(L, -3) ? lua_tostring(L, -3) : "Error",
                    lua_isstring(L, -2) ? lua_tostring(L, -2) : "");
    if (lua_isnil(L, -5) && lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) > 1) {
        lua_pushfstring(L, " (gave up after %d attempts)", (int)lua_tonumber(L, -2));
        lua_concat(L, 2);
    }
    return 1;
}

/* ---- Lua values <-> cJSON, by type: the core checks them against the model ---- */

static int oom(lua_State *L)
{
    return luaL_error(L, "acmpca: out of memory");
}

/*
 * A value with no JSON counterpart: an ACMPCA_TAG_INVALID node describing
 * it, which the core refuses with "<path>: expected <kind>, got <text>".
 */
static cJSON *invalid(const char *text)
{
    cJSON *item = cJSON_CreateString(text);
    if (item)
        item->type |= ACMPCA_TAG_INVALID;
    return item;
}

/*
 * A table is a list when its keys are 1..n, an object when they are all
 * strings, and {} may be either (ACMPCA_TAG_EMPTY): the model decides.
 */
static cJSON *table_new(lua_State *L, int idx)
{
    size_t count = 0, strings = 0, max = 0;
    const char *other = NULL;
    char text[96];
    int nul_key = 0;
    cJSON *item;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -1, &len);
            strings++;
            nul_key |= strlen(k) != len;
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number k = lua_tonumber(L, -1);
            if (k == floor(k) && k >= 1 && k <= 9007199254740992.0) {
                if ((size_t)k > max)
                    max = (size_t)k;
            } else {
                other = "non-sequence number";
            }
        } else {
            other = luaL_typename(L, -1);
        }
    }
    if (count == 0) {
        if ((item = cJSON_CreateObject()))
            item->type |= ACMPCA_TAG_EMPTY;
        return item;
    }
    if (nul_key)
        return invalid("a table with a key containing a NUL byte");
    if (other) {
        snprintf(text, sizeof(text), "a table with a %s key", other);
        return invalid(text);
    }
    if (strings == count)
        return cJSON_CreateObject();
    if (strings == 0 && max == count)
        return cJSON_CreateArray();
    return invalid(strings ? "a table with both string and number keys" : "a table with holes");
}

/*
 * The cJSON item for the Lua value at idx; containers empty (json_fill fills
 * them). `borrow`: a string item points at the Lua string (the caller's
 * table keeps it alive) instead of a copy, for a tree the core reads only
 * while it is being called (acmpca_machine_new_call copies what it keeps).
 */
static cJSON *json_new(lua_State *L, int idx, int borrow)
{
    cJSON *item;
    size_t len;
    const char *s;

    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        item = cJSON_CreateBool(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        /* The core range-checks and rejects fractions and NaN with the path. */
        if (lua_isinteger(L, idx))
            item = cJSON_CreateNumber((double)lua_tointeger(L, idx));
        else
            item = cJSON_CreateNumber((double)lua_tonumber(L, idx));
        break;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        if (strlen(s) != len)
            item = invalid("a string with a NUL byte");
        else
            item = borrow ? cJSON_CreateStringReference(s) : cJSON_CreateString(s);
        break;
    case LUA_TTABLE:
        item = table_new(L, idx);
        break;
    default:
        item = is_null(L, idx) ? cJSON_CreateNull() : invalid(luaL_typename(L, idx));
    }
    if (!item)
        oom(L);
    return item;
}

/*
 * Fill the container `item` (already attached, so a raise never strands it)
 * from the table at idx. `depth` counts the containers around it: one past
 * the core's limit is left empty, so the core names its path (and a table
 * holding itself ends). A null member is an absent one.
 */
static void json_fill(lua_State *L, int idx, cJSON *item, int depth, int borrow)
{
    cJSON *child;

    if (depth > ACMPCA_MAX_DEPTH || (item->type & (ACMPCA_TAG_INVALID | ACMPCA_TAG_EMPTY)))
        return;
    luaL_checkstack(L, 4, "acmpca: input nested too deeply");
    if (cJSON_IsArray(item)) {
        size_t n = lua_rawlen(L, idx), i;
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            if (is_null(L, -1)) {  /* an absent element: the list closes up */
                lua_pop(L, 1);
                continue;
            }
            child = json_new(L, lua_gettop(L), borrow);
            cJSON_AddItemToArray(item, child);
            if (lua_istable(L, -1))
                json_fill(L, lua_gettop(L), child, depth + 1, borrow);
            lua_pop(L, 1);
        }
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (is_null(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        child = json_new(L, lua_gettop(L), borrow);
        if (!(borrow ? cJSON_AddItemToObjectCS(item, lua_tostring(L, -2), child)
                     : cJSON_AddItemToObject(item, lua_tostring(L, -2), child))) {
            cJSON_Delete(child);
            oom(L);
        }
        if (lua_istable(L, -1))
            json_fill(L, lua_gettop(L), child, depth + 1, borrow);
        lua_pop(L, 1);
    }
}

/*
 * The call input for the value at idx (nil: none) into s->in, owned by the
 * scratch from its first byte. The core validates it all (types, lengths,
 * ranges, required and unknown members, with paths) before any I/O.
 */
static void params_to_json_as(lua_State *L, int idx, const acmpca_operation_info *op,
                              scratch *s, int borrow)
{
    idx = lua_absindex(L, idx);
    if (lua_isnoneornil(L, idx) || is_null(L, idx))
        return;
    if (!lua_istable(L, idx))
        raise_param(L, op->name, "input: expected a table of parameters, got %s",
                    luaL_typename(L, idx));
    s->in = json_new(L, idx, borrow);
    json_fill(L, idx, s->in, 1, borrow);
}

/*
 * The usual params - a table of string members only (no NUL byte in a key or
 * value), at most FLAT_NODES - 1 of them - as cJSON nodes in `nodes` (on the
 * caller's stack) pointing at the table's own strings: no allocation, and
 * nothing that raises. NULL for any other table: params_to_json_as then.
 */
#define FLAT_NODES 8

static cJSON *flat_params(lua_State *L, int idx, cJSON nodes[FLAT_NODES])
{
    cJSON *obj = &nodes[0], *c;
    const char *k, *v;
    size_t used = 1, klen, vlen;

    memset(obj, 0, sizeof(*obj));
    obj->type = cJSON_Object;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (used == FLAT_NODES || lua_type(L, -2) != LUA_TSTRING ||
            lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 2);
            return NULL;
        }
        k = lua_tolstring(L, -2, &klen);
        v = lua_tolstring(L, -1, &vlen);
        lua_pop(L, 1);
        if (strlen(k) != klen || strlen(v) != vlen) {
            lua_pop(L, 1);
            return NULL;
        }
        c = &nodes[used++];
        memset(c, 0, sizeof(*c));
        c->type = cJSON_String | cJSON_IsReference;
        c->valuestring = (char *)v;
        cJSON_AddItemToObjectCS(obj, k, c);  /* links it, the name borrowed: no allocation */
    }
    return used > 1 ? obj : NULL;  /* {} may be an object or a list: the model decides */
}

static void params_to_json(lua_State *L, int idx, const acmpca_operation_info *op, scratch *s)
{
    params_to_json_as(L, idx, op, s, 0);
}

/* Bytes a JSON string's run of plain bytes stops at: '"', '\\' and the control bytes. */
static const unsigned char jstop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

/* Whether any of the 8 bytes in x is one jstop marks (exact: see serialize.c's any_escaped). */
#define J_ONES UINT64_C(0x0101010101010101)
#define J_HIGHS UINT64_C(0x8080808080808080)
static int jany_stop(uint64_t x)
{
    uint64_t q = x ^ (J_ONES * '"'), b = x ^ (J_ONES * '\\');
    return ((((x - J_ONES * 0x20) & ~x) | ((q - J_ONES) & ~q) | ((b - J_ONES) & ~b)) & J_HIGHS) != 0;
}

/* The first byte at or after p (before end) that jstop marks, or end. */
static const char *jskip(const char *p, const char *end)
{
    uint64_t x;
    while (end - p >= 8 && (memcpy(&x, p, 8), !jany_stop(x)))
        p += 8;
    while (p < end && !jstop[(unsigned char)*p])
        p++;
    return p;
}

/* By cJSON type and the core's tags: a timestamp stays a (float) number. */
static void push_json(lua_State *L, const cJSON *v)
{
    const cJSON *c;

    luaL_checkstack(L, 3, "acmpca: response nested too deeply");
    if (cJSON_IsObject(v)) {
        lua_createtable(L, 0, 4);
        for (c = v->child; c; c = c->next) {
            if (!c->string || cJSON_IsNull(c))
                continue;
            push_json(L, c);
            lua_setfield(L, -2, c->string);
        }
    } else if (cJSON_IsArray(v)) {
        int i = 1;
        lua_createtable(L, cJSON_GetArraySize(v), 0);
        for (c = v->child; c; c = c->next) {
            push_json(L, c);
            lua_rawseti(L, -2, i++);
        }
    } else if (cJSON_IsString(v)) {
        lua_pushstring(L, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        if (v->type & ACMPCA_TAG_TIMESTAMP)
            lua_pushnumber(L, v->valuedouble);
        else
            push_whole(L, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        lua_pushboolean(L, cJSON_IsTrue(v));
    } else {
        lua_pushnil(L);
    }
}

static void push_headers(lua_State *L, const acmpca_header *h, size_t n)
{
    size_t i;
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, h[i].value ? h[i].value : "");
        lua_setfield(L, -2, h[i].name);
    }
}

/*
 * The second result of a call: { status, request_id, retry_attempts }. The
 * response headers are left out on purpose: converting them cost about as
 * much as the rest of the binding's per-call work (callers who need them
 * can send a build_request themselves).
 */
static void push_meta(lua_State *L, const acmpca_response_meta *m)
{
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, m->http_status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, m->request_id ? m->request_id : "");
    lua_setfield(L, -2, "request_id");
    lua_pushinteger(L, m->retry_attempts);
    lua_setfield(L, -2, "retry_attempts");
}

/* push_meta with its keys from upvalues `first`, +1, +2 (no key hashed per call). */
static void push_meta_keyed(lua_State *L, const acmpca_response_meta *m, int first)
{
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, lua_upvalueindex(first));
    lua_pushinteger(L, m->http_status);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(first + 1));
    lua_pushstring(L, m->request_id ? m->request_id : "");
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(first + 2));
    lua_pushinteger(L, m->retry_attempts);
    lua_rawset(L, -3);
}

/* ---- a response body straight to Lua values ------------------------------ */

/*
 * push_output turns a 2xx JSON body into the Lua table that the core's parse
 * (cJSON, drop_nulls, acmpca_output_annotate) followed by push_json would
 * give, without building the cJSON tree. It only succeeds where that path
 * succeeds with the same values: it accepts strict JSON only, and gives up
 * (returns 0, stack as it was) on anything else or anything unusual - a
 * lenient form cJSON takes (leading zeros, "+1", control bytes as blanks, a
 * byte-order mark, trailing bytes), \u0000 or a bad \u escape (cJSON would
 * cut the string), a control byte in a string, a modelled blob member (the
 * core decodes it), nesting past ACMPCA_MAX_DEPTH, an empty body. The core
 * then parses the body as always and gives its value or its typed error.
 */
typedef struct jparse {
    lua_State *L;
    const char *p, *end;
    char *buf;          /* decoded strings: room for the whole body */
    int depth;
} jparse;

static int jvalue(jparse *j, const acmpca_shape *shape);

static void jspace(jparse *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int jhex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Encode code point c as UTF-8 at o; returns the end. */
static char *jutf8(char *o, unsigned c)
{
    if (c < 0x80) {
        *o++ = (char)c;
    } else if (c < 0x800) {
        *o++ = (char)(0xC0 | (c >> 6));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (char)(0xE0 | (c >> 12));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (c >> 18));
        *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    return o;
}

/*
 * The string at j->p (its opening quote) as *s, *n: in the body when it has
 * no escapes, else decoded into j->buf (as cJSON decodes, surrogate pairs to
 * one 4-byte UTF-8 sequence). 0: give up.
 */
static int jstring(jparse *j, const char **s, size_t *n)
{
    const char *p = j->p + 1, *end = j->end, *run;
    char *o = NULL;
    unsigned c, lo;

    for (;;) {
        run = p;
        p = jskip(p, end);
        if (p >= end || (unsigned char)*p < 0x20)
            return 0;
        if (o) {
            memcpy(o, run, (size_t)(p - run));
            o += p - run;
        }
        if (*p == '"')
            break;
        if (!o) {   /* the first escape: what came before it to the buffer */
            o = j->buf;
            memcpy(o, j->p + 1, (size_t)(p - j->p - 1));
            o += p - j->p - 1;
        }
        if (end - p < 2)
            return 0;
        switch (p[1]) {
        case '"': case '\\': case '/': *o++ = p[1]; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (end - p < 6 || !jhex4(p + 2, &c) || c == 0 || (c >= 0xDC00 && c <= 0xDFFF))
                return 0;
            if (c >= 0xD800 && c <= 0xDBFF) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !jhex4(p + 8, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                c = 0x10000 + (((c & 0x3FF) << 10) | (lo & 0x3FF));
                p += 6;
            }
            o = jutf8(o, c);
            p += 4;
            break;
        default:
            return 0;
        }
        p += 2;
    }
    if (o) {
        *s = j->buf;
        *n = (size_t)(o - j->buf);
    } else {
        *s = j->p + 1;
        *n = (size_t)(p - *s);
    }
    j->p = p + 1;
    return 1;
}

static int jdigits(const char **p, const char *end)
{
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9')
        (*p)++;
    return *p > start;
}

/* A number in JSON's strict grammar, read with strtod as cJSON reads it. */
static int jnumber(jparse *j, const acmpca_shape *shape)
{
    const char *p = j->p, *end = j->end;
    char text[64];
    size_t n;
    double d;

    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (!jdigits(&p, end))
        return 0;
    if (p < end && *p == '.' && (p++, !jdigits(&p, end)))
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!jdigits(&p, end))
            return 0;
    }
    n = (size_t)(p - j->p);
    if (n >= sizeof(text))
        return 0;
    memcpy(text, j->p, n);
    text[n] = '\0';
    {   /* cJSON reads with the locale's decimal point */
        const char *point = localeconv()->decimal_point;
        char *dot = memchr(text, '.', n);
        if (dot && point && point[0] && !point[1])
            *dot = point[0];
        else if (dot)
            return 0;
    }
    d = strtod(text, NULL);
    j->p = p;
    if (shape && shape->type == ACMPCA_SHAPE_TIMESTAMP)
        lua_pushnumber(j->L, d);
    else
        push_whole(j->L, d);
    return 1;
}

/* The modelled member `name` of a structure shape, or NULL. */
static const acmpca_shape *jmember(const acmpca_shape *shape, const char *name, size_t n)
{
    size_t i;
    for (i = 0; i < shape->member_count; i++) {
        const char *m = shape->members[i].name;
        if (strncmp(m, name, n) == 0 && m[n] == '\0')
            return shape->members[i].shape;
    }
    return NULL;
}

/* An object; members by `shape` (a structure's members, or a map's values). */
static int jobject(jparse *j, const acmpca_shape *shape)
{
    lua_State *L = j->L;
    const acmpca_shape *by = NULL;

    if (shape && shape->type == ACMPCA_SHAPE_STRUCTURE)
        by = shape;
    else if (!shape || shape->type != ACMPCA_SHAPE_MAP)
        shape = NULL;
    j->p++;
    lua_createtable(L, 0, 4);
    jspace(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 1;
    }
    for (;;) {
        const char *key;
        size_t n;
        const acmpca_shape *member;
        jspace(j);
        if (j->p >= j->end || *j->p != '"' || !jstring(j, &key, &n))
            return 0;
        member = by ? jmember(by, key, n) : shape ? shape->element : NULL;
        lua_pushlstring(L, key, n);
        jspace(j);
        if (j->p >= j->end || *j->p != ':')
            return 0;
        j->p++;
        jspace(j);
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
            j->p += 4;          /* a null member is an absent one */
            lua_pop(L, 1);
        } else {
            if (!jvalue(j, member))
                return 0;
            lua_rawset(L, -3);
        }
        jspace(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 1;
        }
        return 0;
    }
}

static int jarray(jparse *j, const acmpca_shape *shape)
{
    lua_State *L = j->L;
    const acmpca_shape *element =
        shape && shape->type == ACMPCA_SHAPE_LIST ? shape->element : NULL;
    int i = 1;

    j->p++;
    lua_createtable(L, 0, 0);
    jspace(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 1;
    }
    for (;;) {
        jspace(j);
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0)
            j->p += 4;          /* a hole, as push_json leaves it */
        else if (!jvalue(j, element))
            return 0;
        else
            lua_rawseti(L, -2, i);
        i++;
        jspace(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return 1;
        }
        return 0;
    }
}

/* One value at j->p (no blanks before it) pushed; 0: give up. */
static int jvalue(jparse *j, const acmpca_shape *shape)
{
    const char *s;
    size_t n;
    int ok;

    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{':
    case '[':
        if (j->depth >= ACMPCA_MAX_DEPTH || !lua_checkstack(j->L, 4))
            return 0;
        j->depth++;
        ok = *j->p == '{' ? jobject(j, shape) : jarray(j, shape);
        j->depth--;
        return ok;
    case '"':
        if (shape && shape->type == ACMPCA_SHAPE_BLOB)
            return 0;           /* base64 the core decodes and checks */
        if (!jstring(j, &s, &n))
            return 0;
        lua_pushlstring(j->L, s, n);
        return 1;
    case 't':
        if (j->end - j->p < 4 || memcmp(j->p, "true", 4) != 0)
            return 0;
        j->p += 4;
        lua_pushboolean(j->L, 1);
        return 1;
    case 'f':
        if (j->end - j->p < 5 || memcmp(j->p, "false", 5) != 0)
            return 0;
        j->p += 5;
        lua_pushboolean(j->L, 0);
        return 1;
    default:
        return jnumber(j, shape);
    }
}

/*
 * The result of a 2xx answer with this body for an operation whose output
 * shape is `output`, pushed: 1. Or 0 with nothing pushed: the core must
 * parse it (see above).
 */
static int push_output(lua_State *L, const acmpca_shape *output, const char *body, size_t len)
{
    char small[2048];
    int top = lua_gettop(L);
    jparse j;

    j.L = L;
    j.p = body;
    j.end = body + len;
    j.depth = 0;
    j.buf = small;
    jspace(&j);
    if (j.p >= j.end || *j.p != '{')
        return 0;
    if (len > sizeof(small)) {
        j.buf = (char *)lua_newuserdatauv(L, len, 0);  /* GC-owned scratch below the result */
        top++;
    }
    if (jvalue(&j, output)) {
        jspace(&j);
        if (j.p == j.end) {
            if (j.buf != small)
                lua_remove(L, -2);
            return 1;
        }
    }
    lua_settop(L, j.buf != small ? top - 1 : top);
    return 0;
}

/* ---- configuration ------------------------------------------------------ */

static const char *const config_keys[] = {
    "region", "endpoint_url", "profile", "credentials", "connect_timeout", "read_timeout",
    "max_attempts", "retry_mode", "verify_tls", "ca_bundle", "use_fips", "use_dualstack",
    "user_agent_suffix", "rate_limit", "max_response_bytes", "idempotency_tokens",
    "total_timeout", "proxy", NULL,
};
static const char *const proxy_keys[] = {
    "https", "http", "ca_bundle", "client_cert", "client_key", NULL,
};
static const char *const credential_keys[] = {
    "access_key_id", "secret_access_key", "session_token", NULL,
};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Push "a, b, c" for a NULL-terminated list. */
static const char *push_list(lua_State *L, const char *const *list)
{
    int n = 0;
    for (; *list; list++, n++) {
        if (n) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, *list);
            lua_concat(L, 3);
        } else {
            lua_pushstring(L, *list);
        }
    }
    if (!n)
        lua_pushliteral(L, "");
    return lua_tostring(L, -1);
}

/* The core's waiter names (paginators 0) or paginated operations (1), as "a, b, c". */
static const char *push_known(lua_State *L, int paginators)
{
    const char *names[8];
    size_t i, n = 0;
    for (i = 0; n + 1 < sizeof(names) / sizeof(names[0]); i++) {
        const acmpca_waiter_info *w = paginators ? NULL : acmpca_waiter_at(i);
        const acmpca_paginator_info *p = paginators ? acmpca_paginator_at(i) : NULL;
        if (!w && !p)
            break;
        names[n++] = w ? w->snake_name : acmpca_model_operation_find(p->operation)->snake_name;
    }
    names[n] = NULL;
    return push_list(L, names);
}

/* Refuse keys of the table at idx that are not in `keys`; `what` names the table. */
static void check_keys(lua_State *L, int idx, const char *what, const char *const *keys,
                       const char *operation)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (is_null(L, -1)) {  /* absent, whatever its name */
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -2) != LUA_TSTRING)
            raise_param(L, operation, "%s: expected string keys, got a %s key", what,
                        luaL_typename(L, -2));
        /* "region\0x" would pass as "region" and then be ignored. */
        if (has_nul(L, -2))
            raise_param(L, operation, "%s: a key contains a NUL byte", what);
        if (!in_list(keys, lua_tostring(L, -2))) {
            const char *key = lua_tostring(L, -2);
            raise_param(L, operation, "%s.%s: unknown option; expected one of: %s", what, key,
                        push_list(L, keys));
        }
        lua_pop(L, 1);
    }
}

/* Raw field of the table at idx (nil when absent or null), pushed. Returns its type. */
static int raw_field(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    if (is_null(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    return lua_type(L, -1);
}

/*
 * A string option, or NULL when absent. The string stays owned by the table
 * at idx, which the caller keeps on the stack while the pointer is in use.
 */
static const char *opt_string(lua_State *L, int idx, const char *what, const char *key,
                              const char *operation)
{
    const char *s = NULL;
    size_t len;
    int t = raw_field(L, idx, key);
    if (t == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        if (strlen(s) != len)
            raise_param(L, operation, "%s.%s: contains a NUL byte", what, key);
    } else if (t != LUA_TNIL) {
        raise_param(L, operation, "%s.%s: expected a string, got %s", what, key,
                    lua_typename(L, t));
    }
    lua_pop(L, 1);
    return s;
}

/* Push a bound for a message: "0.001", "100", "253402300799". */
static void push_number_text(lua_State *L, double d)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.15g", d);
    lua_pushstring(L, buf);
}

/*
 * The number at idx, checked before anything converts it to a C integer (a
 * double outside the target type, NaN or an infinity is undefined behaviour
 * there): NaN, infinities and values outside [min, max] are refused as
 * "<prefix>.<key>: <value> is out of range (<min> to <max>)"; `integer`
 * also refuses fractions. `prefix` may be NULL.
 */
static double check_number(lua_State *L, int idx, const char *prefix, const char *key,
                           double min, double max, int integer, const char *operation)
{
    double d = (double)lua_tonumber(L, idx);
    idx = lua_absindex(L, idx);
    if (!(d >= min && d <= max)) {
        push_number_text(L, d);
        push_number_text(L, min);
        push_number_text(L, max);
        raise_param(L, operation, "%s%s%s: %s is out of range (%s to %s)", prefix ? prefix : "",
                    prefix ? "." : "", key, lua_tostring(L, -3), lua_tostring(L, -2),
                    lua_tostring(L, -1));
    }
    if (integer && d != floor(d))
        raise_param(L, operation, "%s%s%s: expected an integer, got %s", prefix ? prefix : "",
                    prefix ? "." : "", key, lua_tostring(L, idx));
    return d;
}

/* A number option (`dflt` when absent); `integer` demands a whole number. */
static double opt_number(lua_State *L, int idx, const char *what, const char *key, double dflt,
                         double min, double max, int integer, const char *operation)
{
    double d = dflt;
    int t = raw_field(L, idx, key);
    if (t == LUA_TNUMBER)
        d = check_number(L, -1, what, key, min, max, integer, operation);
    else if (t != LUA_TNIL)
        raise_param(L, operation, "%s.%s: expected %s, got %s", what, key,
                    integer ? "an integer" : "a number", lua_typename(L, t));
    lua_pop(L, 1);
    return d;
}

/* A boolean option: 0/1, or `dflt` when absent. */
static int opt_bool(lua_State *L, int idx, const char *what, const char *key, int dflt,
                    const char *operation)
{
    int v = dflt, t = raw_field(L, idx, key);
    if (t == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        raise_param(L, operation, "%s.%s: expected a boolean, got %s", what, key,
                    lua_typename(L, t));
    lua_pop(L, 1);
    return v;
}

/* An on/off option that, absent, leaves the choice to the environment and the profile. */
static int opt_switch(lua_State *L, int idx, const char *what, const char *key,
                      const char *operation)
{
    int v = opt_bool(L, idx, what, key, -1, operation);
    return v < 0 ? ACMPCA_DEFAULT : v ? ACMPCA_ENABLED : ACMPCA_DISABLED;
}

/*
 * config.<key> as a table of string options: each of `keys` read into
 * *fields[i], any other key refused. Absent: nothing is set. A value of type
 * `also` (or LUA_TNONE) is the caller's to read; any other type raises
 * "config.<key>: expected <expected>, got <type>". Returns the value's type.
 * The strings stay owned by the table, which the config keeps referenced.
 */
static int opt_strings(lua_State *L, int idx, const char *key, const char *const *keys,
                       const char **const *fields, int also, const char *expected,
                       const char *operation)
{
    int t = raw_field(L, idx, key);
    const char *what = lua_pushfstring(L, "config.%s", key);
    size_t i;

    if (t == LUA_TTABLE) {
        check_keys(L, -2, what, keys, operation);
        for (i = 0; keys[i]; i++)
            *fields[i] = opt_string(L, -2, what, keys[i], operation);
    } else if (t != LUA_TNIL && t != also) {
        raise_param(L, operation, "%s: expected %s, got %s", what, expected, lua_typename(L, t));
    }
    lua_pop(L, 2);
    return t;
}

static long seconds_to_ms(double s)
{
    double ms = ceil(s * 1000.0);
    return ms > 0 ? (long)ms : 0;
}

/*
 * config.rate_limit: true paces every operation to ACM PCA's default quotas;
 * a table { issue_certificate = 10, GetCertificate = 50, ... } (requests per
 * second, 0 for none) overrides those operations and turns the limiter on.
 * The override array lives in a userdata left on the stack (the GC frees it).
 */
/* The operation a rate_limit entry (key at -2, value at -1) names, checked. */
static const acmpca_operation_info *rate_limit_entry(lua_State *L, const char *operation)
{
    const char *w = "config.rate_limit";
    const acmpca_operation_info *op = NULL;

    if (lua_type(L, -2) == LUA_TSTRING && has_nul(L, -2))
        raise_param(L, operation, "%s: a key contains a NUL byte", w);
    if (lua_type(L, -2) != LUA_TSTRING ||
        !(op = acmpca_model_operation_find(lua_tostring(L, -2))))
        raise_param(L, operation, "%s: %s%s%s is not an operation", w,
                    lua_type(L, -2) == LUA_TSTRING ? "\"" : "a ",
                    lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : luaL_typename(L, -2),
                    lua_type(L, -2) == LUA_TSTRING ? "\"" : " key");
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0) ||
        lua_tonumber(L, -1) > 1e6)
        raise_param(L, operation, "%s.%s: expected requests per second (0 to 1000000)",
                    w, op->snake_name);
    return op;
}

static void read_rate_limit(lua_State *L, int idx, acmpca_client_options *o,
                            const char *operation)
{
    acmpca_rate_limit *r;
    size_t n = 0, i = 0;
    int t = raw_field(L, idx, "rate_limit");

    if (t == LUA_TNIL || t == LUA_TBOOLEAN) {
        o->rate_limit = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    if (t != LUA_TTABLE)
        raise_param(L, operation, "config.rate_limit: expected a boolean or a table, got %s",
                    lua_typename(L, t));
    idx = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        rate_limit_entry(L, operation);
        n++;
        lua_pop(L, 1);
    }
    /*
     * The allocation may run a finalizer that changes the table: the second
     * walk checks each entry again and stops at the n the array has room for.
     */
    r = (acmpca_rate_limit *)lua_newuserdatauv(L, (n ? n : 1) * sizeof(*r), 0);
    lua_pushnil(L);
    while (i < n && lua_next(L, idx)) {
        /* Model names are static, so the array holds no pointer into Lua. */
        r[i].operation = rate_limit_entry(L, operation)->name;
        r[i].requests_per_second = (double)lua_tonumber(L, -1);
        i++;
        lua_pop(L, 1);
    }
    lua_settop(L, idx + 1);
    o->rate_limits = r;
    o->rate_limit_count = i;
    o->rate_limit = 1;
    lua_remove(L, idx);  /* leave the array; the table stays referenced by the config */
}

/*
 * Validate the config table at idx (nil: all defaults) and fill `o` with
 * pointers into it. Raises ParamValidationError naming the option. Leaves
 * exactly one value on the stack (nil or the rate-limit array) that must stay
 * there while `o` is in use; nothing else is allocated, so raising is safe.
 */
static void read_config(lua_State *L, int idx, acmpca_client_options *o, const char *operation)
{
    const char *w = "config";
    /* Where config.credentials' and config.proxy's options go, in the order of their keys. */
    const char **credentials[] = {&o->access_key_id, &o->secret_access_key, &o->session_token};
    const char **proxy[] = {&o->https_proxy, &o->http_proxy, &o->proxy_ca_bundle,
                            &o->proxy_client_cert, &o->proxy_client_key};

    if (lua_isnoneornil(L, idx) || is_null(L, idx)) {
        lua_pushnil(L);
        return;
    }
    if (!lua_istable(L, idx))
        raise_param(L, operation, "config: expected a table, got %s", luaL_typename(L, idx));
    idx = lua_absindex(L, idx);
    check_keys(L, idx, w, config_keys, operation);
    o->region = opt_string(L, idx, w, "region", operation);
    o->endpoint_url = opt_string(L, idx, w, "endpoint_url", operation);
    o->profile = opt_string(L, idx, w, "profile", operation);
    o->retry_mode = opt_string(L, idx, w, "retry_mode", operation);
    o->ca_bundle = opt_string(L, idx, w, "ca_bundle", operation);
    o->user_agent_suffix = opt_string(L, idx, w, "user_agent_suffix", operation);
    o->connect_timeout_ms = seconds_to_ms(
        opt_number(L, idx, w, "connect_timeout", 0, 0, 86400, 0, operation));
    o->read_timeout_ms = seconds_to_ms(
        opt_number(L, idx, w, "read_timeout", 0, 0, 86400, 0, operation));
    /* Seconds for a whole call, retries and back-off included (absent: no deadline). */
    o->total_timeout_ms = seconds_to_ms(
        opt_number(L, idx, w, "total_timeout", 0, 0.001, 86400, 0, operation));
    o->max_attempts = (int)opt_number(L, idx, w, "max_attempts", 0, 1, 100, 1, operation);
    /* Bytes; a bigger body fails with ResponseParserError (0 / absent: 16 MiB). */
    o->max_response_bytes = (size_t)opt_number(L, idx, w, "max_response_bytes", 0, 1,
                                               1073741824.0, 1, operation);
    o->insecure_skip_tls_verify = !opt_bool(L, idx, w, "verify_tls", 1, operation);
    /* false: no IdempotencyToken is generated (a retried issuance may then issue twice). */
    o->disable_idempotency_tokens = !opt_bool(L, idx, w, "idempotency_tokens", 1, operation);
    o->use_fips = opt_switch(L, idx, w, "use_fips", operation);
    o->use_dualstack = opt_switch(L, idx, w, "use_dualstack", operation);
    if (opt_strings(L, idx, "credentials", credential_keys, credentials, LUA_TNONE, "a table",
                    operation) == LUA_TTABLE &&
        (!o->access_key_id || !o->secret_access_key))
        raise_param(L, operation, "config.credentials.%s: missing required option",
                    o->access_key_id ? "secret_access_key" : "access_key_id");
    /* proxy = "http://host:port" (either scheme's endpoint) or {https=, http=, ca_bundle=,
     * client_cert=, client_key=}; the core checks the URLs without quoting them. */
    if (opt_strings(L, idx, "proxy", proxy_keys, proxy, LUA_TSTRING, "a URL string or a table",
                    operation) == LUA_TSTRING)
        o->https_proxy = o->http_proxy = opt_string(L, idx, w, "proxy", operation);
    read_rate_limit(L, idx, o, operation);
}

/* ---- clients ------------------------------------------------------------ */

struct head_cache;

typedef struct lclient {
    acmpca_client *c;  /* NULL once closed (or if creation failed) */
    struct head_cache *heads;  /* the last head its machines' m:parse_head read (malloc'd) */
} lclient;

/*
 * close() and __close: idempotent. The machines and paginators made from the
 * client hold the core client until they go; the head cache, which their
 * methods may be reading when a finalizer closes the client, goes with the
 * userdata (__gc).
 */
static void client_close(lclient *lc)
{
    if (lc->c) {
        acmpca_client_free(lc->c);
        lc->c = NULL;
    }
}

/* __gc (checked: a metamethod can also be called by hand). */
static int client_gc(lua_State *L)
{
    lclient *lc = (lclient *)luaL_testudata(L, 1, CLIENT_MT);
    if (lc) {
        client_close(lc);
        free(lc->heads);
        lc->heads = NULL;
    }
    return 0;
}

/* __close, checked as __gc is, and behind close(). */
static int client_close_mm(lua_State *L)
{
    lclient *lc = (lclient *)luaL_testudata(L, 1, CLIENT_MT);
    if (lc)
        client_close(lc);
    return 0;
}

static int client_m_close(lua_State *L)
{
    if (!luaL_testudata(L, 1, CLIENT_MT))
        return raise_param(L, NULL, "self: expected an acmpca client, got %s",
                           luaL_typename(L, 1));
    return client_close_mm(L);
}

/*
 * The open client at idx, or raise (wrong type: ParamValidationError; closed).
 * Checked again right before the core uses it when Lua allocated in between:
 * an allocation may run a finalizer that closes the client. Once a machine or
 * paginator is made from it, that holds the core client until freed.
 */
static acmpca_client *check_client(lua_State *L, int idx, const char *operation)
{
    lclient *lc = (lclient *)luaL_testudata(L, idx, CLIENT_MT);
    if (!lc)
        raise_param(L, operation, "self: expected an acmpca client (call it as c:method{...}), "
                    "got %s", luaL_typename(L, idx));
    if (!lc->c)
        raise_code(L, CODE_CLOSED, operation, "the client is closed");
    return lc->c;
}

/* Push a new client userdata for `o` (metatable first, so __gc frees a half-built one). */
static void push_new_client(lua_State *L, const acmpca_client_options *o)
{
    lclient *lc = (lclient *)lua_newuserdatauv(L, sizeof(*lc), 0);
    lc->c = NULL;
    lc->heads = NULL;
    set_metatable(L, CLIENT_MT);
#if LUA_VERSION_NUM < 502
    lua_pushvalue(L, -1);  /* its own { client }, which each of its machines then shares */
    set_uservalue(L, -2);
#endif
    if (acmpca_client_new(&lc->c, o) != 0)
        raise_last(L, NULL);
}

static int l_new(lua_State *L)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    lua_settop(L, 1);
    read_config(L, 1, &o, NULL);
    push_new_client(L, &o);
    return 1;
}

static int client_tostring(lua_State *L)
{
    lclient *lc = (lclient *)luaL_checkudata(L, 1, CLIENT_MT);
    if (lc->c)
        lua_pushfstring(L, "acmpca.Client (%s)", acmpca_client_endpoint(lc->c));
    else
        lua_pushliteral(L, "acmpca.Client (closed)");
    return 1;
}

static int client_m_endpoint(lua_State *L)
{
    lua_pushstring(L, acmpca_client_endpoint(check_client(L, 1, NULL)));
    return 1;
}

static int client_m_region(lua_State *L)
{
    lua_pushstring(L, acmpca_client_region(check_client(L, 1, NULL)));
    return 1;
}

/*
 * c:credentials_source() -> provider, expiration: the name of the source that
 * supplies the client's credentials ("static" for config.credentials,
 * "environment", "shared-credentials-file", "config-file",
 * "credential-process", "assume-role", "web-identity", "sso", "container",
 * "imds") and when they expire (seconds since the epoch; nil when never),
 * for debugging a deployment. The credentials are resolved as a call would
 * resolve them (a remote provider may fetch them now); a failure raises the
 * same error object a call would get, its message naming the provider. The
 * keys never reach Lua: the name is copied out and the credentials are wiped
 * and freed before anything is pushed.
 */
static int client_credentials_source(lua_State *L)
{
    acmpca_credentials_provider *p;
    acmpca_credentials *creds = NULL;
    const char *src;
    char name[64];
    int64_t expiration;
    size_t n;

    lua_settop(L, 1);
    p = acmpca_client_credentials_provider(check_client(L, 1, NULL));
    if (acmpca_credentials_get(p, 0, &creds) != 0)
        return raise_last(L, NULL);
    src = creds->provider ? creds->provider : acmpca_credentials_provider_name(p);
    n = src ? strlen(src) : 0;
    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    memcpy(name, src ? src : "", n);
    name[n] = '\0';
    expiration = creds->expiration;
    acmpca_credentials_free(creds);
    lua_pushstring(L, name);
    if (expiration > 0)
        push_whole(L, (double)expiration);
    else
        lua_pushnil(L);
    return 2;
}

/*
 * Sharing fetched credentials between the clients of several processes
 * (resty.acmpca's lua_shared_dict): the one place where keys reach Lua, and
 * only when a configuration asks for it.
 *
 * c:credentials_expiration() -> when the client's cached credentials expire
 * (seconds since the epoch), or nil when the next call would fetch (none
 * cached, or due for a refresh) or they never expire. No key is copied out.
 */
static int client_credentials_expiration(lua_State *L)
{
    acmpca_credentials *creds = NULL;
    int64_t expiration = 0;

    lua_settop(L, 1);
    if (acmpca_credentials_provider_cached(
            acmpca_client_credentials_provider(check_client(L, 1, NULL)), 0, &creds) == 0)
        expiration = creds->expiration;
    acmpca_credentials_free(creds);
    acmpca_error_clear();
    if (expiration > 0)
        push_whole(L, (double)expiration);
    else
        lua_pushnil(L);
    return 1;
}

#define SHARED_CREDENTIALS_TAG "acmpca-credentials-1"

static const char *check_text(lua_State *L, int idx, const char *what, const char *operation);

/*
 * c:export_credentials() -> blob, expiration: the cached, expiring
 * credentials as one string for c:import_credentials in another process; nil
 * when there are none to share.
 */
static int client_export_credentials(lua_State *L)
{
    acmpca_credentials *creds = NULL;
    acmpca_client *c;
    int64_t expiration;
    size_t cap;
    scratch *s;

    lua_settop(L, 1);
    check_client(L, 1, NULL);
    s = scratch_new(L); /* holds the text, so that a raise cannot leak it */
    c = check_client(L, 1, NULL);  /* again, after allocating: see check_client */
    if (acmpca_credentials_provider_cached(acmpca_client_credentials_provider(c), 0, &creds) != 0 ||
        creds->expiration <= 0) {
        acmpca_credentials_free(creds);
        acmpca_error_clear();
        lua_pushnil(L);
        return 1;
    }
    expiration = creds->expiration;
    cap = sizeof(SHARED_CREDENTIALS_TAG) + 24 + strlen(creds->access_key_id) +
          strlen(creds->secret_access_key) +
          (creds->session_token ? strlen(creds->session_token) : 0) + 4;
    if ((s->text = malloc(cap)) != NULL)
        /* Control characters are refused in credentials: a newline separates safely. */
        snprintf(s->text, cap, "%s\n%lld\n%s\n%s\n%s", SHARED_CREDENTIALS_TAG,
                 (long long)expiration, creds->access_key_id, creds->secret_access_key,
                 creds->session_token ? creds->session_token : "");
    acmpca_credentials_free(creds);
    if (!s->text)
        return luaL_error(L, "acmpca: out of memory");
    lua_pushstring(L, s->text);
    push_whole(L, (double)expiration);
    scratch_release(s);
    return 2;
}

/*
 * c:import_credentials(blob) -> true when the client took them (they expire
 * later than what it has and need no refresh yet), else false. A blob that
 * is not one is an error.
 */
static int client_import_credentials(lua_State *L)
{
    acmpca_credentials_provider *p;
    acmpca_credentials c;
    char *copy, *part[5], *save = NULL;
    const char *blob;
    size_t len, i;
    int rc;

    lua_settop(L, 2);
    p = acmpca_client_credentials_provider(check_client(L, 1, NULL));
    blob = check_text(L, 2, "blob", NULL);
    len = strlen(blob);
    if (!(copy = malloc(len + 1)))
        return luaL_error(L, "acmpca: out of memory");
    memcpy(copy, blob, len + 1);
    for (i = 0; i < 5; i++) {
        /* strtok_r would merge the empty token field into the next separator. */
        part[i] = i == 0 ? copy : save;
        if (!part[i])
            break;
        save = strchr(part[i], '\n');
        if (save)
            *save++ = '\0';
    }
    memset(&c, 0, sizeof(c));
    if (i == 5 && !save && strcmp(part[0], SHARED_CREDENTIALS_TAG) == 0) {
        char *end;
        long long exp = strtoll(part[1], &end, 10);
        if (*part[1] && !*end && exp > 0) {
            c.expiration = exp;
            c.access_key_id = part[2];
            c.secret_access_key = part[3];
            c.session_token = *part[4] ? part[4] : NULL;
        }
    }
    rc = c.access_key_id && *c.access_key_id && *c.secret_access_key
             ? acmpca_credentials_provider_prime(p, 0, &c)
             : ACMPCA_EINVAL;
    explicit_wipe(copy, len);
    free(copy);
    if (rc == ACMPCA_EINVAL)
        return raise_param(L, NULL, "blob: expected what c:export_credentials() returned");
    acmpca_error_clear();
    lua_pushboolean(L, rc == 0);
    return 1;
}

/*
 * Inside nginx (OpenResty's Lua module), a blocking call stalls the whole
 * worker: every request it serves waits. Where cosockets exist, the first
 * blocking call of the lua_State logs one warning pointing to resty.acmpca
 * (the registry remembers it was given). Outside nginx this costs one global
 * lookup.
 */
static void warn_if_blocking_nginx(lua_State *L)
{
    static const char *const cosocket_phases[] = {
        "rewrite", "access", "content", "timer", "ssl_cert", "ssl_session_fetch",
        "ssl_client_hello", NULL,
    };
    int top = lua_gettop(L);

    lua_getfield(L, LUA_REGISTRYINDEX, WARNED_KEY);
    if (lua_toboolean(L, -1))
        goto done;
    lua_getglobal(L, "ngx");
    if (!lua_istable(L, -1))
        goto done;
    lua_getfield(L, -1, "get_phase");
    if (!lua_isfunction(L, -1) || lua_pcall(L, 0, 1, 0) != LUA_OK ||
        lua_type(L, -1) != LUA_TSTRING || !in_list(cosocket_phases, lua_tostring(L, -1)))
        goto done;
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, WARNED_KEY);
    lua_getfield(L, top + 2, "log");
    lua_getfield(L, top + 2, "WARN");
    lua_pushfstring(L, "acmpca: a blocking call in the %s phase holds this nginx worker "
                    "(every request it serves waits until the call ends); use "
                    "require \"resty.acmpca\" there, which runs the same calls on "
                    "cosockets (warned once per worker)", lua_tostring(L, top + 3));
    if (lua_isfunction(L, -3))
        (void)lua_pcall(L, 2, 0, 0);
done:
    lua_settop(L, top);
}

/*
 * A blocking call's 2xx body straight to its result table (the reader of
 * acmpca_machine_perform_parsing), as m:response makes it: no cJSON tree in
 * between. push_output runs under lua_pcall (upvalue 2 of client_call), so
 * that running out of memory there cannot unwind through the core; the core
 * then parses the body itself.
 */
typedef struct call_answer {
    lua_State *L;
    const acmpca_shape *output;
    int pushed;                /* the result table is on top of L's stack */
} call_answer;

static int protected_output(lua_State *L)
{
    call_answer *r = (call_answer *)lua_touserdata(L, 1);
    const char *body = (const char *)lua_touserdata(L, 2);
    return push_output(L, r->output, body, (size_t)lua_tointeger(L, 3));
}

static int read_call_answer(void *userdata, const char *body, size_t len)
{
    call_answer *r = userdata;
    lua_State *L = r->L;
    int top = lua_gettop(L);

    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushlightuserdata(L, r);
    lua_pushlightuserdata(L, (void *)body);
    lua_pushinteger(L, (lua_Integer)len);
    if (lua_pcall(L, 3, 1, 0) != 0 || !lua_istable(L, -1)) {
        lua_settop(L, top);
        return 0;
    }
    r->pushed = 1;
    return 1;
}

/*
 * c:<operation>(params) -> result, meta. Upvalues: the operation id, then
 * protected_output, then the meta's keys. The call's machine is driven here
 * with the library's transport, as acmpca_call does, so that the usual answer
 * becomes its table with no cJSON tree in between (as the Python module's).
 */
static int client_call(lua_State *L)
{
    int id = (int)lua_tointeger(L, lua_upvalueindex(1));
    const acmpca_operation_info *op = acmpca_model_operation((size_t)id);
    cJSON nodes[FLAT_NODES], *in = NULL;
    call_answer r = {L, op->output, 0};
    static const acmpca_response_meta none;
    const acmpca_response_meta *meta;
    acmpca_client *c;
    acmpca_step step;
    acmpca_step_kind k;
    scratch *s;

    lua_settop(L, 2);
    check_client(L, 1, op->name);
    warn_if_blocking_nginx(L);  /* Lua code: before the input points into params */
    s = scratch_new(L);  /* its __gc frees the input and the machine if anything raises */
    /* The params table (arg 2) holds the strings the input points at. */
    if (!lua_istable(L, 2) || !(in = flat_params(L, 2, nodes)))
        params_to_json_as(L, 2, op, s, 1);
    c = check_client(L, 1, op->name);  /* again: see check_client */
    if (acmpca_machine_new_call(&s->m, c, op->name, in ? in : s->in) != 0 ||
        acmpca_machine_use_blocking_io(s->m) != 0)
        return raise_last(L, op->name);
    k = acmpca_machine_next(s->m, &step);
    while (k == ACMPCA_STEP_SEND || k == ACMPCA_STEP_SLEEP) {
        acmpca_machine_perform_parsing(s->m, &step, read_call_answer, &r);
        k = acmpca_machine_next(s->m, &step);
        if (r.pushed && k != ACMPCA_STEP_DONE) {  /* a 2xx the machine did not end on */
            lua_pop(L, 1);
            r.pushed = 0;
        }
    }
    /* The thread's last error is still this call's: only push_output ran meanwhile. */
    if (acmpca_machine_result(s->m, &s->out, NULL) != 0)
        return raise_last(L, op->name);
    if (!r.pushed)
        push_json(L, s->out);
    meta = acmpca_machine_meta(s->m);
    push_meta_keyed(L, meta ? meta : &none, 3);
    scratch_release(s);
    return 2;
}

/* ---- waiters ------------------------------------------------------------ */

static const char *const wait_keys[] = {"delay", "max_attempts", NULL};
static const char *const paginate_keys[] = {"page_size", "max_items", "starting_token", NULL};

/*
 * The waiter (argument 2) and its options (argument 4: { delay = s,
 * max_attempts = n }) of c:wait and c:waiter_machine, checked.
 */
static const acmpca_operation_info *check_waiter(lua_State *L, const acmpca_waiter_info **w,
                                                 double *delay, int *attempts)
{
    const acmpca_operation_info *op;

    *delay = 0;
    *attempts = 0;
    if (lua_type(L, 2) == LUA_TSTRING && has_nul(L, 2))
        raise_param(L, NULL, "waiter: contains a NUL byte");
    if (lua_type(L, 2) != LUA_TSTRING || !(*w = acmpca_waiter_find(lua_tostring(L, 2)))) {
        raise_param(L, NULL, "waiter: unknown waiter %s%s%s; expected one of: %s",
                    lua_type(L, 2) == LUA_TSTRING ? "\"" : "(a ",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2),
                    lua_type(L, 2) == LUA_TSTRING ? "\"" : ")", push_known(L, 0));
    }
    op = acmpca_model_operation_find((*w)->operation);
    if (!lua_isnil(L, 4) && !is_null(L, 4)) {
        if (!lua_istable(L, 4))
            raise_param(L, op->name, "options: expected a table, got %s", luaL_typename(L, 4));
        check_keys(L, 4, "options", wait_keys, op->name);
        *delay = opt_number(L, 4, "options", "delay", 0, 0.001, 3600, 0, op->name);
        *attempts = (int)opt_number(L, 4, "options", "max_attempts", 0, 1, 100000, 1, op->name);
    }
    return op;
}

/* c:wait(name, params, { delay = s, max_attempts = n }) -> the last response. */
static int client_wait(lua_State *L)
{
    const acmpca_waiter_info *w;
    const acmpca_operation_info *op;
    double delay;
    int attempts;
    acmpca_client *c;
    scratch *s;

    lua_settop(L, 4);
    check_client(L, 1, NULL);
    op = check_waiter(L, &w, &delay, &attempts);
    warn_if_blocking_nginx(L);
    s = scratch_new(L);
    params_to_json(L, 3, op, s);
    c = check_client(L, 1, op->name);  /* again: see check_client */
    if (acmpca_wait(c, w->name, s->in, delay, attempts, &s->out) != 0)
        return raise_last(L, op->name);
    push_json(L, s->out);
    scratch_release(s);
    return 1;
}

/* ---- paginators --------------------------------------------------------- */

typedef struct lpages {
    acmpca_paginator *p;                /* NULL once closed */
    const lclient *owner;               /* the client p points into; compared, never followed
                                           unless it is still the uservalue */
    const acmpca_operation_info *op;
    char resume[1024];                  /* resume token kept past close ("" when none) */
    int done;
} lpages;

static void pages_close(lpages *pg)
{
    if (pg->p) {
        const char *tok = acmpca_paginator_resume_token(pg->p);
        size_t n = tok ? strlen(tok) : 0;
        if (n >= sizeof(pg->resume))
            n = 0;  /* longer than any real token: better none than a cut one */
        memcpy(pg->resume, tok ? tok : "", n);
        pg->resume[n] = '\0';
        acmpca_paginator_free(pg->p);
        pg->p = NULL;
    }
}

static int pages_gc(lua_State *L)
{
    lpages *pg = (lpages *)luaL_testudata(L, 1, PAGES_MT);
    if (pg)
        pages_close(pg);
    return 0;
}

/* pages() -> the next page, or nil when done. Usable as a generic-for iterator. */
static int pages_call(lua_State *L)
{
    lpages *pg = (lpages *)luaL_checkudata(L, 1, PAGES_MT);
    lclient *lc;
    scratch *s;

    warn_if_blocking_nginx(L);  /* Lua code: before the checks */
    if (pg->done || !pg->p) {
        lua_pushnil(L);
        return 1;
    }
    /*
     * The client is the paginator's uservalue, which keeps it alive; p points
     * into it, so it must be that very client (debug.setuservalue could swap
     * it) and still open.
     */
    get_uservalue(L, 1);
    lc = (lclient *)luaL_testudata(L, -1, CLIENT_MT);
    if (!lc || lc != pg->owner || !lc->c)
        return raise_code(L, CODE_CLOSED, pg->op->name, "the client is closed");
    lua_pop(L, 1);
    s = scratch_new(L);
    if (acmpca_paginator_next(pg->p, &s->out) != 0)
        return raise_last(L, pg->op->name);
    if (!s->out) {
        pg->done = 1;
        lua_pushnil(L);
        return 1;
    }
    push_json(L, s->out);
    scratch_release(s);
    return 1;
}

static int pages_machine(lua_State *L);

static int pages_index(lua_State *L)
{
    lpages *pg = (lpages *)luaL_checkudata(L, 1, PAGES_MT);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "resume_token") == 0) {
        const char *tok = pg->p ? acmpca_paginator_resume_token(pg->p) : pg->resume;
        if (tok && *tok)
            lua_pushstring(L, tok);
        else
            lua_pushnil(L);
    } else if (strcmp(key, "close") == 0) {
        lua_pushcfunction(L, pages_gc);
    } else if (strcmp(key, "machine") == 0) {
        lua_pushcfunction(L, pages_machine);
    } else if (strcmp(key, "operation") == 0) {
        lua_pushstring(L, pg->op->snake_name);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

/*
 * c:paginate(op, params, { page_size, max_items, starting_token })
 * -> pages, nil, nil, pages: `for page in c:paginate(...)` iterates (and on
 * 5.4 closes the paginator when the loop ends); pages.resume_token resumes.
 */
static int client_paginate(lua_State *L)
{
    const acmpca_paginator_info *info;
    const acmpca_operation_info *op;
    const char *token = NULL;
    int page_size = 0, max_items = 0;
    acmpca_client *c;
    scratch *s;
    lpages *pg;

    lua_settop(L, 4);
    check_client(L, 1, NULL);
    if (lua_type(L, 2) == LUA_TSTRING && has_nul(L, 2))
        return raise_param(L, NULL, "operation: contains a NUL byte");
    if (lua_type(L, 2) != LUA_TSTRING || !(info = acmpca_paginator_find(lua_tostring(L, 2)))) {
        return raise_param(L, NULL, "operation: %s%s%s cannot be paginated; expected one of: %s",
                           lua_type(L, 2) == LUA_TSTRING ? "\"" : "(a ",
                           lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2)
                                                         : luaL_typename(L, 2),
                           lua_type(L, 2) == LUA_TSTRING ? "\"" : ")", push_known(L, 1));
    }
    op = acmpca_model_operation_find(info->operation);
    if (!lua_isnil(L, 4) && !is_null(L, 4)) {
        if (!lua_istable(L, 4))
            return raise_param(L, op->name, "options: expected a table, got %s",
                               luaL_typename(L, 4));
        check_keys(L, 4, "options", paginate_keys, op->name);
        page_size = (int)opt_number(L, 4, "options", "page_size", 0, 1, 1000, 1, op->name);
        max_items = (int)opt_number(L, 4, "options", "max_items", 0, 1, 2147483647.0, 1,
                                    op->name);
        token = opt_string(L, 4, "options", "starting_token", op->name);
    }
    s = scratch_new(L);
    params_to_json(L, 3, op, s);
    pg = (lpages *)lua_newuserdatauv(L, sizeof(*pg), 1);
    memset(pg, 0, sizeof(*pg));
    pg->op = op;
    pg->owner = (const lclient *)lua_touserdata(L, 1);
    set_metatable(L, PAGES_MT);
    lua_pushvalue(L, 1);
    set_uservalue(L, -2);
    c = check_client(L, 1, op->name);  /* again: see check_client */
    if (acmpca_paginator_new(&pg->p, c, op->name, s->in, page_size, max_items, token) != 0)
        return raise_last(L, op->name);
    scratch_release(s);  /* the paginator copied the input */
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, -3);
    return 4;
}

/* ---- build_request / parse_response (no I/O: for OpenResty) ------------- */

/* Push a string that identifies a validated config (nil fields as ""). */
static void push_config_key(lua_State *L, int idx)
{
    int i, n = 0;
    luaL_checkstack(L, 64, NULL);
    for (i = 0; config_keys[i]; i++) {
        int t = raw_field(L, idx, config_keys[i]);
        if (t == LUA_TTABLE && strcmp(config_keys[i], "rate_limit") == 0) {
            size_t k;
            int r = lua_gettop(L), parts = 0;
            for (k = 0; k < acmpca_model_operation_count(); k++) {
                const acmpca_operation_info *op = acmpca_model_operation(k);
                if (raw_field(L, r, op->name) == LUA_TNIL) {
                    lua_pop(L, 1);
                    raw_field(L, r, op->snake_name);
                }
                lua_pushfstring(L, "%f,", lua_isnumber(L, -1) ? lua_tonumber(L, -1) : -1.0);
                lua_remove(L, -2);
                if (++parts == 16) {
                    lua_concat(L, parts);
                    parts = 1;
                }
            }
            lua_concat(L, parts);
            lua_remove(L, r);
        } else if (t == LUA_TTABLE) {
            int j, c = lua_gettop(L);
            for (j = 0; credential_keys[j]; j++) {
                raw_field(L, c, credential_keys[j]);
                if (!lua_isstring(L, -1)) {
                    lua_pop(L, 1);
                    lua_pushliteral(L, "");
                }
                lua_pushliteral(L, "\x1f");
            }
            lua_concat(L, 6);
            lua_remove(L, c);
        } else if (t == LUA_TBOOLEAN) {
            lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
            lua_remove(L, -2);
        } else if (t == LUA_TNUMBER) {
            lua_pushfstring(L, "%f", lua_tonumber(L, -1));
            lua_remove(L, -2);
        } else if (t == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushliteral(L, "");
        }
        lua_pushliteral(L, "\x1e");
        n += 2;
    }
    lua_concat(L, n);
}

/*
 * The client for the first argument: a client, or a config table whose
 * client is cached in the registry (creating one does no I/O), pushed: it
 * stays alive during the call.
 */
static void client_for(lua_State *L, int idx, const char *operation)
{
    acmpca_client_options o = ACMPCA_CLIENT_OPTIONS_INIT;
    lclient *lc;
    int cache, key;

    idx = lua_absindex(L, idx);
    if (luaL_testudata(L, idx, CLIENT_MT)) {
        check_client(L, idx, operation);
        lua_pushvalue(L, idx);
        return;
    }
    read_config(L, idx, &o, operation);
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    cache = lua_gettop(L);
    if (lua_isnoneornil(L, idx) || is_null(L, idx))
        lua_pushliteral(L, "");
    else
        push_config_key(L, idx);
    key = lua_gettop(L);
    lua_pushvalue(L, key);
    lua_rawget(L, cache);
    lc = (lclient *)luaL_testudata(L, -1, CLIENT_MT);
    if (lc && lc->c) {
        lua_replace(L, cache);
        lua_settop(L, cache);
        return;
    }
    lua_pop(L, 1);
    /* Keep the cache small: start afresh when full (the old clients are collected). */
    lua_rawgeti(L, cache, 1);
    if (lua_tointeger(L, -1) >= CACHE_MAX) {
        lua_newtable(L);
        lua_replace(L, cache);
        lua_pushvalue(L, cache);
        lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
        lua_pushinteger(L, 0);
        lua_replace(L, -2);
    }
    lua_pushinteger(L, lua_tointeger(L, -1) + 1);
    lua_rawseti(L, cache, 1);
    lua_pop(L, 1);
    push_new_client(L, &o);
    lua_pushvalue(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, cache);
    lua_replace(L, cache);
    lua_settop(L, cache);
}

static const acmpca_operation_info *check_operation(lua_State *L, int idx)
{
    const acmpca_operation_info *op = NULL;
    if (lua_type(L, idx) == LUA_TSTRING && has_nul(L, idx))
        raise_param(L, NULL, "operation: contains a NUL byte");
    if (lua_type(L, idx) == LUA_TSTRING)
        op = acmpca_model_operation_find(lua_tostring(L, idx));
    if (!op) {
        if (lua_type(L, idx) == LUA_TSTRING)
            raise_param(L, NULL, "operation: unknown operation \"%s\"", lua_tostring(L, idx));
        raise_param(L, NULL, "operation: expected an operation name, got %s",
                    luaL_typename(L, idx));
    }
    return op;
}

/* Set scheme, host, port and path on the table on top from an absolute URL. */
static void push_url_parts(lua_State *L, const char *url)
{
    const char *p = strstr(url, "://"), *auth, *end, *host_end, *colon = NULL;
    lua_Integer port;

    if (!p)
        return;
    lua_pushlstring(L, url, (size_t)(p - url));
    lua_setfield(L, -2, "scheme");
    port = (p - url == 5 && memcmp(url, "https", 5) == 0) ? 443 : 80;
    auth = p + 3;
    end = auth + strcspn(auth, "/?#");
    if (*auth == '[') {
        host_end = memchr(auth, ']', (size_t)(end - auth));
        if (!host_end)
            return;
        lua_pushlstring(L, auth + 1, (size_t)(host_end - auth - 1));
        if (host_end + 1 < end && host_end[1] == ':')
            colon = host_end + 1;
    } else {
        colon = memchr(auth, ':', (size_t)(end - auth));
        lua_pushlstring(L, auth, (size_t)((colon ? colon : end) - auth));
    }
    lua_setfield(L, -2, "host");
    if (colon)
        port = (lua_Integer)strtol(colon + 1, NULL, 10);
    lua_pushinteger(L, port);
    lua_setfield(L, -2, "port");
    lua_pushstring(L, *end == '/' ? end : "/");
    if (*end == '?') {
        lua_pushstring(L, end);
        lua_concat(L, 2);
    }
    lua_setfield(L, -2, "path");
}

/*
 * acmpca.build_request(config_or_client, operation, params)
 * -> { method, url, headers = { name = value }, body, scheme, host, port, path }
 * validated, serialized and SigV4-signed; no I/O.
 */
static int l_build_request(lua_State *L)
{
    const acmpca_operation_info *op;
    acmpca_client *c;
    scratch *s;
    int held;

    lua_settop(L, 3);
    op = check_operation(L, 2);
    client_for(L, 1, op->name);
    held = lua_gettop(L);  /* the client's userdata */
    s = scratch_new(L);
    params_to_json(L, 3, op, s);
    c = check_client(L, held, op->name);  /* after the conversion: see check_client */
    if (acmpca_client_build_request(c, op->name, s->in, &s->req) != 0)
        return raise_last(L, op->name);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, s->req->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, s->req->url);
    lua_setfield(L, -2, "url");
    push_url_parts(L, s->req->url);
    push_headers(L, s->req->headers, s->req->header_count);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, s->req->body ? s->req->body : "", s->req->body_len);
    lua_setfield(L, -2, "body");
    scratch_release(s);
    return 1;
}

/* c:build_request(operation, params): the same with this client. */
static int client_build_request(lua_State *L)
{
    check_client(L, 1, NULL);
    return l_build_request(L);
}

/*
 * Convert the headers table at idx ({ name = value }, a value may be a list
 * of values for a repeated header) into a GC-owned acmpca_header array. The
 * strings stay anchored in a table left on the stack. NUL bytes are refused
 * (the core takes C strings); so are CR and LF in headers to be `sent`,
 * here rather than in the core because only the binding knows the names
 * (the core can only number them, and a Lua table has no order).
 */
static acmpca_header *check_headers(lua_State *L, int idx, size_t *count, int sent,
                                    const char *operation)
{
    acmpca_header *h;
    size_t n = 0, i = 0;
    int anchor;

    *count = 0;
    idx = lua_absindex(L, idx);
    if (lua_isnoneornil(L, idx))
        return NULL;
    if (!lua_istable(L, idx))
        raise_param(L, operation, "headers: expected a table, got %s", luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    if (n > 1000)
        raise_param(L, operation, "headers: more than 1000 headers");
    lua_createtable(L, (int)(2 * n), 0);
    anchor = lua_gettop(L);
    h = (acmpca_header *)lua_newuserdatauv(L, (n ? n : 1) * sizeof(*h), 0);
    lua_rawseti(L, anchor, 0);
    lua_pushnil(L);
    /* At most n: a finalizer run by an allocation below may add entries. */
    while (i < n && lua_next(L, idx)) {
        int vt = lua_type(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING)
            raise_param(L, operation, "headers: expected string names, got a %s name",
                        luaL_typename(L, -2));
        if (has_nul(L, -2) || (sent && strpbrk(lua_tostring(L, -2), "\r\n")))
            raise_param(L, operation, "headers: a name contains %s",
                        has_nul(L, -2) ? "a NUL byte" : "CR or LF");
        if (vt == LUA_TTABLE) {
            /* A repeated header: join its values as HTTP allows. */
            int j, m, parts = 0;
            if (lua_rawlen(L, -1) > 1000)
                raise_param(L, operation, "headers.%s: more than 1000 values",
                            lua_tostring(L, -2));
            m = (int)lua_rawlen(L, -1);
            luaL_checkstack(L, 2 * m + 2, NULL);
            for (j = 1; j <= m; j++) {
                lua_rawgeti(L, -1 - parts, j);
                if (!lua_isstring(L, -1))
                    raise_param(L, operation, "headers.%s: expected strings",
                                lua_tostring(L, -3 - parts));
                if (j > 1) {
                    lua_pushliteral(L, ", ");
                    lua_insert(L, -2);
                    parts++;
                }
                parts++;
            }
            lua_concat(L, parts);
            lua_replace(L, -2);
        } else if (vt == LUA_TNUMBER) {
            lua_pushstring(L, lua_tostring(L, -1));  /* convert a copy, not the key */
            lua_replace(L, -2);
        } else if (vt != LUA_TSTRING) {
            raise_param(L, operation, "headers.%s: expected a string, got %s",
                        lua_tostring(L, -2), lua_typename(L, vt));
        }
        if (has_nul(L, -1))
            raise_param(L, operation, "headers.%s: the value contains a NUL byte",
                        lua_tostring(L, -2));
        if (sent && strpbrk(lua_tostring(L, -1), "\r\n"))
            raise_param(L, operation, "headers.%s: the value contains CR or LF",
                        lua_tostring(L, -2));
        lua_pushvalue(L, -2);
        lua_rawseti(L, anchor, (int)(2 * i + 1));
        lua_pushvalue(L, -1);
        lua_rawseti(L, anchor, (int)(2 * i + 2));
        lua_rawgeti(L, anchor, (int)(2 * i + 1));
        h[i].name = lua_tostring(L, -1);
        lua_pop(L, 1);
        lua_rawgeti(L, anchor, (int)(2 * i + 2));
        h[i].value = lua_tostring(L, -1);
        lua_pop(L, 2);
        i++;
    }
    lua_settop(L, anchor);
    *count = i;
    return h;
}

/* ASCII case-insensitive equality (header names). */
static int strcasecmp_ascii_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z')
            y += 'a' - 'A';
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/*
 * acmpca.parse_response(operation, status, headers, body) -> result, meta
 * or raises the same error object a client call would.
 */
static int l_parse_response(lua_State *L)
{
    const acmpca_operation_info *op;
    const acmpca_header *h;
    const char *body;
    size_t n, len = 0;
    lua_Integer status;
    scratch *s;

    lua_settop(L, 4);
    op = check_operation(L, 1);
    if (lua_type(L, 2) != LUA_TNUMBER)
        return raise_param(L, op->name, "status: expected an integer, got %s",
                           luaL_typename(L, 2));
    status = (lua_Integer)check_number(L, 2, NULL, "status", 100, 599, 1, op->name);
    if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
        return raise_param(L, op->name, "body: expected a string, got %s", luaL_typename(L, 4));
    body = lua_isnil(L, 4) ? "" : lua_tolstring(L, 4, &len);
    h = check_headers(L, 3, &n, 0, op->name);
    s = scratch_new(L);
    if (acmpca_parse_response(op->name, (int)status, h, n, body, len, &s->out) != 0)
        return raise_last(L, op->name);
    push_json(L, s->out);
    scratch_release(s);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    {
        size_t i;
        lua_pushliteral(L, "");
        for (i = 0; i < n; i++) {
            if (strcasecmp_ascii_eq(h[i].name, "x-amzn-requestid")) {
                lua_pop(L, 1);
                lua_pushstring(L, h[i].value);
                break;
            }
        }
        lua_setfield(L, -2, "request_id");
    }
    return 2;
}

/* Argument idx as a NUL-free string (owned by the caller's stack), or raise. */
static const char *check_text(lua_State *L, int idx, const char *what, const char *operation)
{
    size_t len;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING)
        raise_param(L, operation, "%s: expected a string, got %s", what, luaL_typename(L, idx));
    s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len)
        raise_param(L, operation, "%s: contains a NUL byte", what);
    return s;
}

/* ---- machines: the core's call machine, for a driver written in Lua ----- */

/*
 * A machine runs one call, one waiter run or one paginator page without doing
 * I/O (acmpca/machine.h): resty/acmpca.lua drives it over cosockets. It
 * points into its client (and a page machine into its paginator), so it keeps
 * them as its uservalue and checks before each step that they are still the
 * ones it was made from and still open.
 */
typedef struct lmachine {
    acmpca_machine *m;                 /* NULL once closed */
    const void *owner;                 /* the lclient, or the lpages of a page machine */
    const acmpca_paginator *pager;     /* a page machine's paginator, else NULL */
    const acmpca_operation_info *op;
    scratch s;                         /* the input, then the result, while converted:
                                          no scratch userdata per call */
    int private_key;                   /* the result may hold a private key: wiped */
    int own_output;                    /* a call machine: m:response parses a 2xx body */
    int output_step;                   /* the last SEND step asks ACM PCA (not credentials) */
    int parsed;                        /* the result is in the registry, keyed by lm */
    int stepping;                      /* in a method that uses m between Lua allocations */
    int close_asked;                   /* m:close() came meanwhile (from a finalizer) */
} lmachine;

/*
 * Results m:response parsed and DONE has not handed out yet, by machine: a
 * small table of the registry's (under the address of `parked_key`), not
 * the registry itself, whose every new key would sooner or later rehash it.
 */
static const char parked_key = 0;

static void push_parked(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&parked_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

/* The parsed result on top into the parked table (popped). */
static void park(lua_State *L, lmachine *lm)
{
    push_parked(L);
    lua_pushlightuserdata(L, lm);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    lm->parsed = 1;
}

/* Push the parsed result (unparked) when `push`, else only drop it. */
static void unpark(lua_State *L, lmachine *lm, int push)
{
    if (!lm->parsed)
        return;
    lm->parsed = 0;
    push_parked(L);
    lua_pushlightuserdata(L, lm);
    if (push) {
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        lua_insert(L, -3);
    }
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static void drop_parsed(lua_State *L, lmachine *lm)
{
    unpark(L, lm, 0);
}

static void machine_close(lua_State *L, lmachine *lm)
{
    acmpca_machine_free(lm->m);
    lm->m = NULL;
    scratch_release(&lm->s);
    drop_parsed(L, lm);
}

/*
 * A method that uses the core machine across Lua allocations runs between
 * step_begin and step_end: an allocation may run a finalizer that calls
 * m:close(), which then waits for step_end. (__gc cannot come meanwhile: the
 * machine is on the stack.)
 */
static void step_begin(lmachine *lm)
{
    lm->stepping++;
}

static void step_end(lua_State *L, lmachine *lm)
{
    if (--lm->stepping == 0 && lm->close_asked)
        machine_close(L, lm);
}

static int machine_gc(lua_State *L)
{
    lmachine *lm = (lmachine *)luaL_testudata(L, 1, MACHINE_MT);
    if (lm)
        machine_close(L, lm);
    return 0;
}

/* __close (checked: it can also be called by hand): at once, or at the end
 * of the method running on the machine. */
static int machine_close_mm(lua_State *L)
{
    lmachine *lm = (lmachine *)luaL_testudata(L, 1, MACHINE_MT);
    if (lm && lm->stepping)
        lm->close_asked = 1;
    else if (lm)
        machine_close(L, lm);
    return 0;
}

static lmachine *check_machine(lua_State *L)
{
    lmachine *lm = (lmachine *)luaL_testudata(L, 1, MACHINE_MT);
    if (!lm)
        raise_param(L, NULL, "self: expected an acmpca machine (call it as m:next()), got %s",
                    luaL_typename(L, 1));
    return lm;
}

static int machine_m_close(lua_State *L)
{
    check_machine(L);
    return machine_close_mm(L);
}

/*
 * Whether what the machine points into is alive: the client open (and, for a
 * page, its paginator not closed). Leaves the stack as it was.
 */
static int machine_usable(lua_State *L, lmachine *lm)
{
    const lclient *lc;
    int top = lua_gettop(L), ok = 0;

    if (!lm->m)
        return 0;
    get_uservalue(L, 1);
    if (lm->pager) {
        lpages *pg = (lpages *)luaL_testudata(L, -1, PAGES_MT);
        if (!pg || pg != lm->owner || pg->p != lm->pager)
            goto done;
        get_uservalue(L, -1);
        lc = (const lclient *)luaL_testudata(L, -1, CLIENT_MT);
        ok = lc && lc == pg->owner && lc->c;
    } else {
        lc = (const lclient *)luaL_testudata(L, -1, CLIENT_MT);
        ok = lc && lc == lm->owner && lc->c;
    }
done:
    lua_settop(L, top);
    return ok;
}

/* A new machine userdata for `op`, anchoring the value at `anchor` (client or pages). */
static lmachine *push_new_machine(lua_State *L, int anchor, const acmpca_operation_info *op)
{
    lmachine *lm;
    anchor = lua_absindex(L, anchor);
    lm = (lmachine *)lua_newuserdatauv(L, sizeof(*lm), 1);
    memset(lm, 0, sizeof(*lm));
    lm->owner = lua_touserdata(L, anchor);
    lm->op = op;
    set_metatable(L, MACHINE_MT);
    lua_pushvalue(L, anchor);
    set_uservalue(L, -2);
    return lm;
}

/* machine_step's flags: a step for a cosocket driver; the caller saw the machine usable. */
enum { STEP_WIRE = 1, STEP_CHECKED = 2 };

static int machine_step(lua_State *L, lmachine *lm, int flags, int held);

/*
 * c:machine(operation, params) -> a machine for one call (bad params raise,
 * as calls do).
 * c:machine(operation, params, tail[, into]) -> the machine and its first
 * step, as m:next_wire(tail, into) gives it: one call where a driver on
 * cosockets would make two. Registered with wire_keys as upvalues.
 */
static int client_machine(lua_State *L)
{
    const acmpca_operation_info *op;
    acmpca_client *c;
    lmachine *lm;
    cJSON nodes[FLAT_NODES], *in = NULL;
    int first_step = lua_gettop(L) >= 4, n;

    lua_settop(L, 5);
    op = check_operation(L, 2);
    check_client(L, 1, op->name);
    lm = push_new_machine(L, 1, op);  /* its __gc frees the input if converting it raises */
    /* The params table (arg 3) holds the strings the input points at. */
    if (!lua_istable(L, 3) || !(in = flat_params(L, 3, nodes)))
        params_to_json_as(L, 3, op, &lm->s, 1);
    c = check_client(L, 1, op->name);  /* again: see check_client */
    if (acmpca_machine_new_call(&lm->m, c, op->name, in ? in : lm->s.in) != 0)
        return raise_last(L, op->name);
    scratch_release(&lm->s);  /* the machine copied the input */
    lm->own_output = 1;
    if (!first_step)
        return 1;
    /* machine, tail, into at 1, 2, 3, as m:next_wire has them */
    lua_replace(L, 1);
    lua_remove(L, 2);
    lua_remove(L, 2);
    n = machine_step(L, lm, STEP_WIRE | STEP_CHECKED, 0);  /* its client checked above */
    lua_pushvalue(L, 1);
    lua_insert(L, -n - 1);
    return n + 1;
}

/* c:waiter_machine(name, params, { delay, max_attempts }) -> a machine for a waiter run. */
static int client_waiter_machine(lua_State *L)
{
    const acmpca_waiter_info *w;
    const acmpca_operation_info *op;
    double delay;
    int attempts;
    acmpca_client *c;
    lmachine *lm;

    lua_settop(L, 4);
    check_client(L, 1, NULL);
    op = check_waiter(L, &w, &delay, &attempts);
    lm = push_new_machine(L, 1, op);
    params_to_json(L, 3, op, &lm->s);
    c = check_client(L, 1, op->name);  /* again: see check_client */
    if (acmpca_machine_new_waiter(&lm->m, c, w->name, lm->s.in, delay, attempts) != 0)
        return raise_last(L, op->name);
    scratch_release(&lm->s);
    return 1;
}

/* pages:machine() -> a machine for the next page of a paginator (c:paginate). */
static int pages_machine(lua_State *L)
{
    lpages *pg = (lpages *)luaL_checkudata(L, 1, PAGES_MT);
    lclient *lc;
    lmachine *lm;

    lua_settop(L, 1);
    get_uservalue(L, 1);
    lc = (lclient *)luaL_testudata(L, -1, CLIENT_MT);
    if (!pg->p || !lc || lc != pg->owner || !lc->c)
        return raise_code(L, CODE_CLOSED, pg->op->name, "the client is closed");
    lua_pop(L, 1);
    lm = push_new_machine(L, 1, pg->op);
    lm->pager = pg->p;
    if (acmpca_machine_new_page(&lm->m, pg->p) != 0)
        return raise_last(L, pg->op->name);
    return 1;
}

static void set_integer(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

static void set_boolean(lua_State *L, const char *key, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, key);
}

/* The SEND step as a table; every field copied (the step's pointers are borrowed). */
static void push_send_step(lua_State *L, const acmpca_step *s)
{
    const acmpca_http_request *r = s->request;
    lua_createtable(L, 0, 20);
    set_string(L, "method", r->method);
    set_string(L, "url", r->url);
    set_string(L, "scheme", s->scheme);
    set_string(L, "host", s->host);
    set_integer(L, "port", s->port);
    set_string(L, "path", s->path);
    push_headers(L, r->headers, r->header_count);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, r->body ? r->body : "", r->body_len);
    lua_setfield(L, -2, "body");
    set_integer(L, "connect_timeout_ms", s->connect_timeout_ms);
    set_integer(L, "read_timeout_ms", s->read_timeout_ms);
    set_integer(L, "deadline_ms", s->deadline_ms);
    set_integer(L, "max_response_bytes", (lua_Integer)s->max_response_bytes);
    set_boolean(L, "insecure_skip_tls_verify", s->insecure_skip_tls_verify);
    set_string(L, "ca_bundle", s->ca_bundle);
    set_integer(L, "attempt", s->attempt);
    set_boolean(L, "credentials", s->credentials);
    set_boolean(L, "no_proxy", s->no_proxy);
}

/*
 * The request of a SEND step as the bytes to write on the connection: the
 * request line, every header in the core's order, Content-Length, the
 * driver's `tail` (its own header lines, each ending in CRLF), the blank
 * line and the body. One string a cosocket sends as is, instead of a
 * headers table the driver walks with pairs() and concatenates per call.
 */
#define WIRE_HEADERS 32   /* headers whose lengths push_wire keeps between its two passes */

static void push_wire(lua_State *L, const acmpca_step *s, const char *tail, size_t tail_len)
{
    const acmpca_http_request *r = s->request;
    char small[4096], length[48], *buf = small, *p, *cl;
    size_t n, i, k, lens[2 * WIRE_HEADERS], v = r->body_len;

    /* "Content-Length: <digits>\r\n\r\n", its digits written from the end (no snprintf). */
    p = length + sizeof(length);
    *--p = '\n', *--p = '\r', *--p = '\n', *--p = '\r';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    cl = p -= 16;
    memcpy(cl, "Content-Length: ", 16);
    k = (size_t)(length + sizeof(length) - cl);
    n = strlen(r->method) + 1 + strlen(s->path) + 11 + k + tail_len + r->body_len;
    for (i = 0; i < r->header_count; i++) {
        size_t name = strlen(r->headers[i].name);
        size_t value = r->headers[i].value ? strlen(r->headers[i].value) : 0;
        if (i < WIRE_HEADERS) {  /* measured once: the copy below reuses them */
            lens[2 * i] = name;
            lens[2 * i + 1] = value;
        }
        n += name + 2 + value + 2;
    }
    if (n > sizeof(small))
        buf = (char *)lua_newuserdatauv(L, n, 0);  /* GC-owned: nothing leaks on a raise */
#define PUT(src, len) (memcpy(p, (src), (len)), p += (len))
    p = buf;
    PUT(r->method, strlen(r->method));
    PUT(" ", 1);
    PUT(s->path, strlen(s->path));
    PUT(" HTTP/1.1\r\n", 11);
    for (i = 0; i < r->header_count; i++) {
        const char *value = r->headers[i].value;
        PUT(r->headers[i].name, i < WIRE_HEADERS ? lens[2 * i] : strlen(r->headers[i].name));
        PUT(": ", 2);
        if (value)
            PUT(value, i < WIRE_HEADERS ? lens[2 * i + 1] : strlen(value));
        PUT("\r\n", 2);
    }
    PUT(cl, k - 2);                 /* its CRLF, and the blank line after the tail */
    PUT(tail, tail_len);
    PUT("\r\n", 2);
    if (r->body_len)
        PUT(r->body, r->body_len);
#undef PUT
    lua_pushlstring(L, buf, n);
    if (buf != small)
        lua_remove(L, -2);
}

/*
 * The fields of m:next_wire's SEND step, in the order of its upvalues, then
 * the step kinds it names most: the strings are made once, so filling a step
 * costs no string hashing and, when the driver hands back its table, no
 * allocation.
 */
static const char *const wire_keys[] = {
    "wire", "pool", "scheme", "host", "port", "path", "connect_timeout_ms", "read_timeout_ms",
    "deadline_ms", "max_response_bytes", "insecure_skip_tls_verify", "credentials",
    "status", "request_id", "retry_attempts",         /* DONE's meta */
    "send", "done", NULL,                              /* the step kinds */
};

/* t[wire_keys[k - 1]] = the value on top (popped); t is an absolute index. */
static void set_wire_field(lua_State *L, int t, int k)
{
    lua_pushvalue(L, lua_upvalueindex(k));
    lua_insert(L, -2);
    lua_rawset(L, t);
}

/*
 * The SEND step of m:next_wire: what a driver on cosockets reads per
 * request, with the request as `wire` and `pool` naming the keep-alive pool
 * (destination and verification policy), in the table at `into` (0: a new
 * one). A credentials step is a new table with the full step as m:next
 * gives it (method, url, headers, body: how a driver recognises the same
 * fetch already in flight) plus wire and pool.
 */
/*
 * Whether the step table at t (absolute) holds the pool of a SEND step to
 * this step's scheme, host and port under its verification policy: a table
 * the driver hands back for each call then keeps its pool string instead of
 * a new one per request.
 */
static int same_pool(lua_State *L, int t, const acmpca_step *s)
{
    static const int keys[] = {2, 3, 4, 5, 11, 12};
    int i, same;

    for (i = 0; i < 6; i++) {
        lua_pushvalue(L, lua_upvalueindex(keys[i]));
        lua_rawget(L, t);
    }
    same = lua_type(L, -6) == LUA_TSTRING && lua_type(L, -5) == LUA_TSTRING &&
           strcmp(lua_tostring(L, -5), s->scheme) == 0 && lua_type(L, -4) == LUA_TSTRING &&
           strcmp(lua_tostring(L, -4), s->host) == 0 && lua_type(L, -3) == LUA_TNUMBER &&
           lua_tointeger(L, -3) == s->port && lua_type(L, -2) == LUA_TBOOLEAN &&
           !lua_toboolean(L, -2) == !s->insecure_skip_tls_verify &&
           lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 6);
    return same;
}

static void push_wire_step(lua_State *L, const acmpca_step *s, const char *tail,
                           size_t tail_len, int into)
{
    int t, keep_pool = 0;

    if (s->credentials) {
        push_send_step(L, s);
        t = lua_gettop(L);
    } else {
        if (into)
            lua_pushvalue(L, into);
        else
            lua_createtable(L, 0, 12);
        t = lua_gettop(L);
        /* Where it goes, when not as the table already says (the pool tells). */
        keep_pool = into && same_pool(L, t, s);
        if (!keep_pool) {
            lua_pushstring(L, s->scheme);
            set_wire_field(L, t, 3);
            lua_pushstring(L, s->host);
            set_wire_field(L, t, 4);
            lua_pushinteger(L, s->port);
            set_wire_field(L, t, 5);
            lua_pushboolean(L, s->insecure_skip_tls_verify);
            set_wire_field(L, t, 11);
            lua_pushboolean(L, 0);
            set_wire_field(L, t, 12);
        }
        lua_pushstring(L, s->path);
        set_wire_field(L, t, 6);
        lua_pushinteger(L, s->connect_timeout_ms);
        set_wire_field(L, t, 7);
        lua_pushinteger(L, s->read_timeout_ms);
        set_wire_field(L, t, 8);
        lua_pushinteger(L, s->deadline_ms);
        set_wire_field(L, t, 9);
        lua_pushinteger(L, (lua_Integer)s->max_response_bytes);
        set_wire_field(L, t, 10);
    }
    if (!keep_pool) {
        lua_pushfstring(L, "%s://%s:%d%s", s->scheme, s->host, s->port,
                        s->insecure_skip_tls_verify ? "#noverify" : "");
        set_wire_field(L, t, 2);
    }
    push_wire(L, s, tail, tail_len);
    set_wire_field(L, t, 1);
}

static const char *sleep_reason(acmpca_sleep_reason r)
{
    switch (r) {
    case ACMPCA_SLEEP_RATE_LIMIT: return "rate_limit";
    case ACMPCA_SLEEP_ADAPTIVE: return "adaptive";
    case ACMPCA_SLEEP_BACKOFF: return "backoff";
    case ACMPCA_SLEEP_WAITER: return "waiter";
    case ACMPCA_SLEEP_CREDENTIALS: return "credentials";
    }
    return "other";
}

/*
 * m:next() -> what to do:
 *   "send", step        send step (a table), then m:response(...) or m:transport_error(...)
 *   "sleep", ms, reason[, waiter]   wait, then ask again
 *   "done", result, meta            the result (nil: a paginator has no more pages)
 *   "failed", err                   the error object a blocking call would raise
 * Outcomes are never raised: a driver returns them.
 */
/* The result m:response_next_wire parsed (at `held`, 0: none) parked as m:response parks it. */
static void park_held(lua_State *L, lmachine *lm, int held)
{
    if (held) {
        lua_pushvalue(L, held);
        park(L, lm);
    }
}

/*
 * A machine whose last step m:next_wire handed out (DONE or FAILED) frees
 * its core machine there and then: a driver on cosockets need not call
 * m:close() (harmless if it does); a step asked for after it fails as after
 * m:close().
 */
static void machine_finished(lmachine *lm)
{
    acmpca_machine_free(lm->m);
    lm->m = NULL;
}

/*
 * The next step (tail and into at 2 and 3 for m:next_wire). `held`: the
 * index of a result m:response_next_wire just parsed, handed out by DONE
 * straight from the stack (parked as m:response parks it otherwise); 0: none.
 */
static int machine_step(lua_State *L, lmachine *lm, int flags, int held)
{
    int wire = flags & STEP_WIRE;
    const char *tail = NULL;
    size_t tail_len = 0;
    acmpca_step step;
    acmpca_step_kind kind;
    const acmpca_response_meta *meta;
    scratch *s;

    lua_settop(L, held ? held : 3);
    if (wire && !lua_isnil(L, 2)) {
        if (lua_type(L, 2) != LUA_TSTRING) {
            park_held(L, lm, held);
            return raise_param(L, lm->op->name, "tail: expected a string, got %s",
                               luaL_typename(L, 2));
        }
        tail = lua_tolstring(L, 2, &tail_len);
    }
    if (wire && !lua_isnil(L, 3) && !lua_istable(L, 3)) {
        park_held(L, lm, held);
        return raise_param(L, lm->op->name, "into: expected a table, got %s",
                           luaL_typename(L, 3));
    }
    if (!(flags & STEP_CHECKED) && !machine_usable(L, lm)) {
        lua_pushliteral(L, "failed");
        push_error(L, CODE_CLOSED, lm->m ? "the client is closed" : "the machine is closed",
                   lm->op->name, 0, NULL, 0, 0);
        set_string(L, "class", CODE_CLOSED);
        return 2;
    }
    step_begin(lm);
    kind = acmpca_machine_next(lm->m, &step);
    if (held && kind != ACMPCA_STEP_DONE) {
        park_held(L, lm, held);
        held = 0;
    }
    switch (kind) {
    case ACMPCA_STEP_SEND:
        lm->output_step = !step.credentials;
        if (wire)
            lua_pushvalue(L, lua_upvalueindex(16));
        else
            lua_pushliteral(L, "send");
        if (wire)
            push_wire_step(L, &step, tail ? tail : "", tail_len, lua_istable(L, 3) ? 3 : 0);
        else
            push_send_step(L, &step);
        step_end(L, lm);
        return 2;
    case ACMPCA_STEP_SLEEP:
        lua_pushliteral(L, "sleep");
        lua_pushinteger(L, step.sleep_ms);
        lua_pushstring(L, sleep_reason(step.sleep_reason));
        if (step.waiter)
            lua_pushstring(L, step.waiter);
        else
            lua_pushnil(L);
        step_end(L, lm);
        return 4;
    case ACMPCA_STEP_DONE:
        s = &lm->s;  /* released below, or by close/__gc if converting raises */
        if (acmpca_machine_result(lm->m, &s->out, NULL) != 0) {
            park_held(L, lm, held);
            break;  /* a page the paginator refused: FAILED with its error */
        }
        if (wire)
            lua_pushvalue(L, lua_upvalueindex(17));
        else
            lua_pushliteral(L, "done");
        if (held) {
            lua_pushvalue(L, held);
        } else if (lm->parsed) {
            unpark(L, lm, 1);
        } else if (s->out) {
            push_json(L, s->out);
        } else {
            lua_pushnil(L);
        }
        meta = acmpca_machine_meta(lm->m);  /* a view: no copy to make and free */
        if (meta && wire)
            push_meta_keyed(L, meta, 13);
        else if (meta)
            push_meta(L, meta);
        else
            lua_pushnil(L);
        if (lm->private_key)
            wipe_private_key(s->out);
        scratch_release(s);
        if (wire)
            machine_finished(lm);
        step_end(L, lm);
        return 3;
    case ACMPCA_STEP_FAILED:
    default:
        break;
    }
    lua_pushliteral(L, "failed");
    push_last_error(L, lm->op->name);
    if (wire)
        machine_finished(lm);
    step_end(L, lm);
    return 2;
}

static int machine_next(lua_State *L)
{
    return machine_step(L, check_machine(L), 0, 0);
}

/*
 * m:next_wire([tail[, into]]) -> as m:next(), but a SEND step is the table
 * a cosocket driver needs: wire (the request's bytes, with `tail` - header
 * lines of the driver's own such as "User-Agent: x\r\n" - before the blank
 * line), pool, scheme, host, port, path, connect_timeout_ms, read_timeout_ms,
 * deadline_ms, max_response_bytes, insecure_skip_tls_verify, credentials;
 * filled into the table `into` when given (a driver may reuse one per call).
 * Registered with wire_keys as upvalues.
 */
static int machine_next_wire(lua_State *L)
{
    return machine_step(L, check_machine(L), STEP_WIRE, 0);
}

/*
 * Response heads as a cosocket reads them: the status line and the header
 * lines up to (not including) the blank line. A header is what follows a
 * CRLF as `name:[ \t]*value`, the name one or more bytes other than ':',
 * CR and LF, the value up to the next CR or LF without its trailing blanks.
 */
/* Room for a typical response head without allocating (m:response's stack). */
#define HEAD_FIELDS 32
#define HEAD_TEXT 2048

typedef struct head_field {
    size_t name, name_len, value, value_len;   /* offsets into the head */
} head_field;

/* The next header line at or after *pos; 0 when there is none. */
static int next_head_field(const char *h, size_t len, size_t *pos, head_field *f)
{
    const char *crlf;
    size_t i;

    while (*pos + 2 <= len && (crlf = memchr(h + *pos, '\r', len - *pos - 1)) != NULL) {
        i = (size_t)(crlf - h) + 1;
        *pos = i;
        if (h[i] != '\n')
            continue;
        f->name = ++i;
        while (i < len && h[i] != ':' && h[i] != '\r' && h[i] != '\n')
            i++;
        if (i == f->name || i == len || h[i] != ':')
            continue;
        f->name_len = i - f->name;
        for (i++; i < len && (h[i] == ' ' || h[i] == '\t'); i++)
            ;
        f->value = i;
        if ((crlf = memchr(h + i, '\r', len - i)) != NULL)
            len = (size_t)(crlf - h);  /* only this line is read from here on */
        if ((crlf = memchr(h + i, '\n', len - i)) != NULL)
            len = (size_t)(crlf - h);
        *pos = i = len;
        while (i > f->value && (h[i - 1] == ' ' || h[i - 1] == '\t'))
            i--;
        f->value_len = i - f->value;
        return 1;
    }
    *pos = len;
    return 0;
}

/*
 * The header lines of the last head m:parse_head read, per client: m:response
 * given the same head (byte for byte) takes them from here instead of
 * reading the head a second time. Heads of HEAD_TEXT bytes or more, or with
 * more than HEAD_FIELDS header lines, are not kept.
 */
struct head_cache {
    size_t len, n;                  /* len 0: nothing kept */
    head_field f[HEAD_FIELDS];
    char text[HEAD_TEXT];
};

/* The client of a machine (a page machine's through its paginator), or NULL. */
static lclient *machine_client_of(const lmachine *lm)
{
    if (lm->pager)
        return lm->owner ? (lclient *)((const lpages *)lm->owner)->owner : NULL;
    return (lclient *)lm->owner;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether h[at..at+n) is `word` in any case (word in lowercase). */
static int span_is(const char *h, size_t at, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n)
        return 0;
    for (i = 0; i < n && ascii_lower((unsigned char)h[at + i]) == word[i]; i++)
        ;
    return i == n;
}

/* Whether h[at..at+n) contains `word` in any case (word in lowercase). */
static int span_has(const char *h, size_t at, size_t n, const char *word)
{
    size_t w = strlen(word), i;
    for (i = 0; i + w <= n; i++)
        if (span_is(h, at + i, w, word))
            return 1;
    return 0;
}

/* What a response head says of the body after it and of its connection. */
typedef struct head_scan {
    int status;
    int has_length;        /* 1: Content-Length is a number of bytes; -1: it is not */
    double length;
    int chunked, keep_alive;
    size_t fields;         /* its header lines, the first `room` of them in the array */
} head_scan;

/*
 * Read head h (no NUL in it) into *hs, its header lines into fields[0..room):
 * NULL, or the problem (no "HTTP/1.x NNN" status line). The first of a
 * repeated Content-Length, Transfer-Encoding or Connection counts.
 */
static const char *scan_head(const char *h, size_t len, head_scan *hs, head_field *fields,
                             size_t room)
{
    size_t pos = 0, i;
    head_field f, cl = {0, 0, 0, 0}, te = {0, 0, 0, 0}, conn = {0, 0, 0, 0};
    int has_cl = 0, has_te = 0, has_conn = 0, minor;

    if (len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[7] < '0' || h[7] > '9' || h[8] != ' ' ||
        h[9] < '0' || h[9] > '9' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
        return "no HTTP status line";
    minor = h[7] - '0';
    hs->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    hs->fields = 0;
    while (next_head_field(h, len, &pos, &f)) {
        if (hs->fields < room)
            fields[hs->fields] = f;
        hs->fields++;
        if (!has_cl && span_is(h, f.name, f.name_len, "content-length"))
            cl = f, has_cl = 1;
        else if (!has_te && span_is(h, f.name, f.name_len, "transfer-encoding"))
            te = f, has_te = 1;
        else if (!has_conn && span_is(h, f.name, f.name_len, "connection"))
            conn = f, has_conn = 1;
    }
    hs->has_length = has_cl;
    hs->length = 0;
    for (i = 0; has_cl && i < cl.value_len && h[cl.value + i] >= '0' && h[cl.value + i] <= '9';
         i++)
        hs->length = hs->length * 10 + (h[cl.value + i] - '0');
    if (has_cl && (i == 0 || i != cl.value_len))
        hs->has_length = -1;
    hs->chunked = has_te && span_has(h, te.value, te.value_len, "chunked");
    hs->keep_alive = (minor == 1 && !(has_conn && span_has(h, conn.value, conn.value_len, "close")))
                     || (has_conn && span_has(h, conn.value, conn.value_len, "keep-alive"));
    return NULL;
}

/*
 * m:parse_head(head) -> status, length, chunked, keep_alive, or nil, problem:
 * what a driver needs to read the body that follows a response head. length
 * is Content-Length (nil: none; false: not a number of bytes); chunked,
 * whether Transfer-Encoding names chunked; keep_alive, whether the server
 * lets the connection carry another request (HTTP/1.1 unless "Connection:
 * close", HTTP/1.0 only with "Connection: keep-alive"). The first of a
 * repeated header counts. problem: a NUL byte, or no "HTTP/1.x NNN" status
 * line. Never raises for what a server sent.
 */
static int machine_parse_head(lua_State *L)
{
    size_t len;
    const char *h, *problem;
    head_field spare[1];
    head_scan hs;
    lmachine *lm = check_machine(L);
    lclient *lc;
    struct head_cache *hc;

    h = luaL_checklstring(L, 2, &len);
    if (memchr(h, '\0', len)) {
        lua_pushnil(L);
        lua_pushliteral(L, "a NUL byte in the response head");
        return 2;
    }
    lc = machine_client_of(lm);
    hc = lc ? lc->heads : NULL;
    if (lc && !hc && len < HEAD_TEXT)
        hc = lc->heads = (struct head_cache *)malloc(sizeof(*hc));
    if (hc)
        hc->len = hc->n = 0;
    if ((problem = scan_head(h, len, &hs, hc && len < HEAD_TEXT ? hc->f : spare,
                             hc && len < HEAD_TEXT ? HEAD_FIELDS : 0)) != NULL) {
        lua_pushnil(L);
        lua_pushstring(L, problem);
        return 2;
    }
    if (hc && len < HEAD_TEXT && hs.fields <= HEAD_FIELDS) {
        memcpy(hc->text, h, len);
        hc->n = hs.fields;
        hc->len = len;
    }
    lua_pushinteger(L, hs.status);
    if (!hs.has_length)
        lua_pushnil(L);
    else if (hs.has_length < 0)
        lua_pushboolean(L, 0);
    else if (hs.length < 9007199254740992.0)  /* 2^53 */
        lua_pushinteger(L, (lua_Integer)hs.length);
    else
        lua_pushnumber(L, hs.length);  /* absurd lengths stay absurd, never wrap */
    lua_pushboolean(L, hs.chunked);
    lua_pushboolean(L, hs.keep_alive);
    return 4;
}

/* Field f of head h as out[n], NUL-terminated in text (a copy of h). */
static void put_head_field(acmpca_header *out, size_t n, char *text, const head_field *f)
{
    text[f->name + f->name_len] = '\0';
    text[f->value + f->value_len] = '\0';
    out[n].name = text + f->name;
    out[n].value = text + f->value;
}

/*
 * The header lines of a response head (a string, as m:parse_head reads it)
 * as an acmpca_header array: each header as sent, a repeated one repeated,
 * as the core's own transport reports them. Names and values are copied,
 * NUL-terminated, into `text` (HEAD_TEXT bytes) with `small` (HEAD_FIELDS)
 * as the array when they fit; else into a GC-owned block left on the stack.
 */
static acmpca_header *head_headers(lua_State *L, int idx, size_t *count, const char *operation,
                                   acmpca_header *small, char *text, const struct head_cache *hc)
{
    size_t len, pos = 0, n = 0;
    const char *h = lua_tolstring(L, idx, &len);
    acmpca_header *out;
    head_field f;

    if (hc && hc->len && hc->len == len && memcmp(hc->text, h, len) == 0) {
        memcpy(text, h, len);  /* m:parse_head read this very head (NUL-free) */
        for (; n < hc->n; n++)
            put_head_field(small, n, text, &hc->f[n]);
        *count = n;
        return small;
    }
    if (memchr(h, '\0', len))
        raise_param(L, operation, "headers: the head contains a NUL byte");
    if (len < HEAD_TEXT) {
        memcpy(text, h, len);
        while (n < HEAD_FIELDS && next_head_field(h, len, &pos, &f))
            put_head_field(small, n++, text, &f);
        if (n < HEAD_FIELDS || !next_head_field(h, len, &pos, &f)) {
            *count = n;
            return small;
        }
    }
    for (n = 0, pos = 0; next_head_field(h, len, &pos, &f); n++)
        ;
    out = (acmpca_header *)lua_newuserdatauv(L, n * sizeof(*out) + len + 1, 0);
    text = (char *)(out + n);
    memcpy(text, h, len);
    for (n = 0, pos = 0; next_head_field(h, len, &pos, &f); n++)
        put_head_field(out, n, text, &f);
    *count = n;
    return out;
}

/*
 * The answer to the last SEND step of a usable machine: a call's 2xx body
 * straight to its result table when it can (1: left on the stack when
 * `keep`, else parked for DONE), else the machine parses it (0).
 */
static int answer(lua_State *L, lmachine *lm, int status, const acmpca_header *h, size_t n,
                  const char *body, size_t len, int keep)
{
    int parsed;

    step_begin(lm);
    drop_parsed(L, lm);
    parsed = lm->own_output && lm->output_step && status >= 200 && status <= 299 &&
             push_output(L, lm->op->output, body, len) && acmpca_machine_output_parsed(lm->m) == 0;
    if (acmpca_machine_response(lm->m, status, h, n, body, len) != 0) {
        step_end(L, lm);
        raise_last(L, lm->op->name);
    }
    if (parsed && !keep)
        park(L, lm);
    step_end(L, lm);
    return parsed;
}

/*
 * m:response(status, headers, body) (respond: the arguments at 2, 3 and 4):
 * the answer to the last SEND step
 * (headers { name = value } or the response head as a string, the way
 * m:parse_head reads it; body a string). A machine whose client was
 * closed meanwhile ignores it (its next step says so).
 */
static int respond(lua_State *L, lmachine *lm, int keep)
{
    acmpca_header small[HEAD_FIELDS];
    char text[HEAD_TEXT];
    const acmpca_header *h;
    const char *body = "";
    size_t n, len = 0;
    lua_Integer status;

    if (lua_type(L, 2) != LUA_TNUMBER)
        raise_param(L, lm->op->name, "status: expected an integer, got %s", luaL_typename(L, 2));
    status = (lua_Integer)check_number(L, 2, NULL, "status", 100, 999, 1, lm->op->name);
    if (lua_type(L, 4) == LUA_TSTRING)
        body = lua_tolstring(L, 4, &len);
    else if (!lua_isnil(L, 4))
        raise_param(L, lm->op->name, "body: expected a string, got %s", luaL_typename(L, 4));
    if (lua_type(L, 3) == LUA_TSTRING)
        h = head_headers(L, 3, &n, lm->op->name, small, text,
                         machine_client_of(lm) ? machine_client_of(lm)->heads : NULL);
    else
        h = check_headers(L, 3, &n, 0, lm->op->name);
    if (!machine_usable(L, lm))
        return 0;
    return answer(L, lm, (int)status, h, n, body, len, keep);
}

/* The blank line ending the response head at d: its "\r\n\r\n", or NULL. */
static const char *head_end(const char *d, size_t len)
{
    const char *p = d, *end = d + len;

    while (end - p >= 4 && (p = (const char *)memchr(p, '\r', (size_t)(end - p) - 3))) {
        if (p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
            return p;
        p++;
    }
    return NULL;
}

/*
 * m:take_answer(data) -> keep_alive, or nil: what one read brought, when it
 * is a whole answer (a head with a final status other than 204 and 304, a
 * Content-Length body ending where `data` ends, not chunked), answers the
 * last SEND step as m:response(status, head, body) would; keep_alive is what
 * m:parse_head says. nil: not such an answer, nothing done (read on and
 * answer as before). The driver keeps the body within its size limit.
 * m:take_answer(data, tail[, into]) -> keep_alive and the next step, as
 * m:next_wire(tail, into) gives it, when the answer was taken (else nil).
 * Registered with wire_keys as upvalues.
 */
static int machine_take_answer(lua_State *L)
{
    lmachine *lm = check_machine(L);
    acmpca_header small[HEAD_FIELDS];
    head_field fields[HEAD_FIELDS];
    char text[HEAD_TEXT];
    head_scan hs;
    size_t len, head_len = 0, i;
    const char *d = luaL_checklstring(L, 2, &len);
    const char *end = head_end(d, len);
    int next_step = lua_gettop(L) >= 3, parsed, n;

    if (end)
        head_len = (size_t)(end - d);
    if (!end || head_len >= HEAD_TEXT || memchr(d, '\0', head_len) ||
        scan_head(d, head_len, &hs, fields, HEAD_FIELDS) || hs.status < 200 ||
        hs.status == 204 || hs.status == 304 || hs.fields > HEAD_FIELDS || hs.chunked ||
        hs.has_length != 1 || hs.length != (double)(len - head_len - 4) ||
        !machine_usable(L, lm)) {
        lua_pushnil(L);
        return 1;
    }
    memcpy(text, d, head_len);
    for (i = 0; i < hs.fields; i++)
        put_head_field(small, i, text, &fields[i]);
    lua_settop(L, 4);
    parsed = answer(L, lm, hs.status, small, hs.fields, end + 4, len - head_len - 4, next_step);
    if (!next_step) {
        lua_pushboolean(L, hs.keep_alive);
        return 1;
    }
    /* machine, tail, into and the parsed result (if any) at 1..4, as m:response_next_wire */
    if (parsed)
        lua_replace(L, 2);  /* in place of data: the machine copied what it keeps */
    lua_pushvalue(L, 2);
    lua_remove(L, 2);
    n = machine_step(L, lm, STEP_WIRE | STEP_CHECKED, parsed ? 4 : 0);  /* usable above */
    lua_pushboolean(L, hs.keep_alive);
    lua_insert(L, -n - 1);
    return n + 1;
}

static int machine_response(lua_State *L)
{
    lmachine *lm = check_machine(L);
    lua_settop(L, 4);
    respond(L, lm, 0);
    return 0;
}

/*
 * m:response_next_wire(status, head, body[, tail[, into]]) -> as
 * m:response(status, head, body) followed by m:next_wire(tail, into), in
 * one call: what a cosocket driver does after each answer. Registered with
 * wire_keys as upvalues, as m:next_wire.
 */
static int machine_response_next_wire(lua_State *L)
{
    lmachine *lm = check_machine(L);
    int parsed;

    lua_settop(L, 6);
    parsed = respond(L, lm, 1);  /* a parsed result left on top */
    if (parsed)
        lua_replace(L, 4);       /* in place of the body, copied by the machine */
    lua_settop(L, 6);
    lua_replace(L, 3);  /* into */
    lua_replace(L, 2);  /* tail */
    return machine_step(L, lm, STEP_WIRE, parsed ? 4 : 0);
}

static const char *const transport_kinds[] = {
    "connect", "connect_timeout", "read_timeout", "tls", "network", "too_large", NULL,
};

/*
 * m:transport_error(kind, status, detail): the last SEND step got no complete
 * answer. kind is one of transport_kinds; status the status line's code if
 * one arrived (else nil or 0); detail text for the message.
 */
static int machine_transport_error(lua_State *L)
{
    static const int codes[] = {ACMPCA_ECONNECT, ACMPCA_ECONNECT_TIMEOUT, ACMPCA_EREAD_TIMEOUT,
                                ACMPCA_ETLS, ACMPCA_ENETWORK, ACMPCA_ETOOLARGE};
    lmachine *lm = check_machine(L);
    const char *kind, *detail = NULL;
    int i, status = 0;

    lua_settop(L, 4);
    kind = check_text(L, 2, "kind", lm->op->name);
    for (i = 0; transport_kinds[i] && strcmp(transport_kinds[i], kind) != 0; i++)
        ;
    if (!transport_kinds[i])
        return raise_param(L, lm->op->name, "kind: unknown transport error \"%s\"; expected "
                           "one of: %s", kind, push_list(L, transport_kinds));
    if (lua_type(L, 3) == LUA_TNUMBER)
        status = (int)check_number(L, 3, NULL, "status", 0, 999, 1, lm->op->name);
    else if (!lua_isnil(L, 3))
        return raise_param(L, lm->op->name, "status: expected an integer, got %s",
                           luaL_typename(L, 3));
    if (!lua_isnil(L, 4))
        detail = check_text(L, 4, "detail", lm->op->name);
    if (!machine_usable(L, lm))
        return 0;
    if (acmpca_machine_transport_error(lm->m, codes[i], status, detail) != 0)
        return raise_last(L, lm->op->name);
    return 0;
}

static int machine_tostring(lua_State *L)
{
    lmachine *lm = (lmachine *)luaL_checkudata(L, 1, MACHINE_MT);
    lua_pushfstring(L, "acmpca.Machine (%s%s)", lm->op->snake_name, lm->m ? "" : ", closed");
    return 1;
}

/* ---- the public signer -------------------------------------------------- */

static const char *const sign_keys[] = {
    "method", "url", "headers", "body", "body_sha256", "region", "service", "access_key_id",
    "secret_access_key", "session_token", "timestamp", "expires", "query", "content_sha256",
    "no_path_normalize", "unsigned_token", NULL,
};

static const char *required_string(lua_State *L, int idx, const char *key)
{
    const char *s = opt_string(L, idx, "request", key, NULL);
    if (!s)
        raise_param(L, NULL, "request.%s: missing required option", key);
    return s;
}

/*
 * acmpca.sign{ method, url, headers, body, region, service, access_key_id,
 * secret_access_key, session_token, timestamp, expires, query, ... }
 * -> { url, headers = { name = value }, signature, canonical_request, string_to_sign }
 * SigV4 for any request; `headers` in the result are the ones to add.
 */
static int l_sign(lua_State *L)
{
    acmpca_sign_input in;
    size_t body_len = 0;
    int t;
    scratch *s;

    lua_settop(L, 1);
    if (!lua_istable(L, 1))
        return raise_param(L, NULL, "request: expected a table, got %s", luaL_typename(L, 1));
    check_keys(L, 1, "request", sign_keys, NULL);
    memset(&in, 0, sizeof(in));
    in.method = required_string(L, 1, "method");
    in.url = required_string(L, 1, "url");
    in.region = required_string(L, 1, "region");
    in.service = required_string(L, 1, "service");
    in.access_key_id = required_string(L, 1, "access_key_id");
    in.secret_access_key = required_string(L, 1, "secret_access_key");
    in.session_token = opt_string(L, 1, "request", "session_token", NULL);
    in.body_sha256_hex = opt_string(L, 1, "request", "body_sha256", NULL);
    t = raw_field(L, 1, "body");
    if (t == LUA_TSTRING)
        in.body = lua_tolstring(L, -1, &body_len);  /* anchored by the request table */
    else if (t != LUA_TNIL)
        return raise_param(L, NULL, "request.body: expected a string, got %s",
                           lua_typename(L, t));
    lua_pop(L, 1);
    in.body_len = body_len;
    if (!in.body)
        in.body = "";
    in.timestamp = (int64_t)opt_number(L, 1, "request", "timestamp", (double)time(NULL), 0,
                                       253402300799.0, 0, NULL);
    in.expires_s = (unsigned)opt_number(L, 1, "request", "expires", 0, 1, 604800, 1, NULL);
    if (opt_bool(L, 1, "request", "query", 0, NULL))
        in.flags |= ACMPCA_SIGN_QUERY;
    if (opt_bool(L, 1, "request", "content_sha256", 0, NULL))
        in.flags |= ACMPCA_SIGN_CONTENT_SHA256;
    if (opt_bool(L, 1, "request", "no_path_normalize", 0, NULL))
        in.flags |= ACMPCA_SIGN_NO_PATH_NORMALIZE;
    if (opt_bool(L, 1, "request", "unsigned_token", 0, NULL))
        in.flags |= ACMPCA_SIGN_UNSIGNED_TOKEN;
    raw_field(L, 1, "headers");
    in.headers = check_headers(L, -1, &in.header_count, 1, NULL);
    s = scratch_new(L);
    if (acmpca_sign(&s->sig, &in, NULL) != 0)
        return raise_last(L, NULL);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, s->sig->url);
    lua_setfield(L, -2, "url");
    push_headers(L, s->sig->headers, s->sig->header_count);
    lua_setfield(L, -2, "headers");
    lua_pushstring(L, s->sig->signature);
    lua_setfield(L, -2, "signature");
    set_string(L, "canonical_request", s->sig->canonical_request);
    set_string(L, "string_to_sign", s->sig->string_to_sign);
    scratch_release(s);
    return 1;
}

/* ---- PKI helpers (acmpca/pki.h) ----------------------------------------- */

#define SUBJECT_KEYS                                                                      \
    "common_name", "organization", "organizational_unit", "country", "state", "locality", \
        "dns_names", "ip_addresses", "emails", "uris"

static const char *const subject_keys[] = {SUBJECT_KEYS, NULL};
static const char *const request_keys[] = {
    "csr", "key_type", "signing_algorithm", "template_arn", "validity_days", "wait_delay",
    "wait_max_attempts", SUBJECT_KEYS, NULL,
};

/*
 * options.<key>: a list of strings, as an array of pointers into it. The
 * array is a userdata left on the stack (nil when the option is absent) that
 * the caller keeps there while the pointers are in use. Null elements
 * (ngx.null / cjson.null) are absent: *count leaves them out.
 */
static const char *const *opt_string_list(lua_State *L, int idx, const char *key, size_t *count,
                                          const char *operation)
{
    const char **v;
    size_t n, i = 0, used;
    int list, t = raw_field(L, idx, key);

    *count = 0;
    if (t == LUA_TNIL)
        return NULL;
    if (t != LUA_TTABLE)
        raise_param(L, operation, "options.%s: expected a list of strings, got %s", key,
                    lua_typename(L, t));
    list = lua_gettop(L);
    n = lua_rawlen(L, list);
    lua_pushnil(L);
    while (lua_next(L, list)) {
        i++;
        lua_pop(L, 1);
    }
    if (i != n)
        raise_param(L, operation, "options.%s: expected a list of strings (a sequence table)",
                    key);
    v = (const char **)lua_newuserdatauv(L, (n ? n : 1) * sizeof(*v), 0);
    for (i = 0, used = 0; i < n; i++) {
        size_t len;
        lua_rawgeti(L, list, (int)i + 1);
        if (is_null(L, -1)) {  /* ngx.null / cjson.null: an absent element */
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -1) != LUA_TSTRING)
            raise_param(L, operation, "options.%s[%d]: expected a string, got %s", key, (int)i,
                        luaL_typename(L, -1));
        v[used] = lua_tolstring(L, -1, &len);  /* anchored by the list */
        if (strlen(v[used]) != len)
            raise_param(L, operation, "options.%s[%d]: contains a NUL byte", key, (int)i);
        used++;
        lua_pop(L, 1);
    }
    lua_replace(L, list);  /* the list stays referenced by the options table */
    *count = used;
    return v;
}

/* The subject fields of the options table at idx; leaves 4 values on the stack. */
static void read_subject(lua_State *L, int idx, acmpca_csr_options *o, const char *operation)
{
    idx = lua_absindex(L, idx);
    o->common_name = opt_string(L, idx, "options", "common_name", operation);
    o->organization = opt_string(L, idx, "options", "organization", operation);
    o->organizational_unit = opt_string(L, idx, "options", "organizational_unit", operation);
    o->country = opt_string(L, idx, "options", "country", operation);
    o->state = opt_string(L, idx, "options", "state", operation);
    o->locality = opt_string(L, idx, "options", "locality", operation);
    o->dns_names = opt_string_list(L, idx, "dns_names", &o->dns_count, operation);
    o->ip_addresses = opt_string_list(L, idx, "ip_addresses", &o->ip_count, operation);
    o->emails = opt_string_list(L, idx, "emails", &o->email_count, operation);
    o->uris = opt_string_list(L, idx, "uris", &o->uri_count, operation);
}

/* Argument idx: nil, or a table with only `keys`. Returns whether it is a table. */
static int check_options(lua_State *L, int idx, const char *const *keys, const char *operation)
{
    if (lua_isnil(L, idx) || is_null(L, idx))
        return 0;
    if (!lua_istable(L, idx))
        raise_param(L, operation, "options: expected a table, got %s", luaL_typename(L, idx));
    check_keys(L, idx, "options", keys, operation);
    return 1;
}

/* Return s->text as a Lua string (a core failure `rc` is raised instead). */
static int push_text(lua_State *L, scratch *s, int rc)
{
    if (rc != 0)
        return raise_last(L, NULL);
    lua_pushstring(L, s->text);
    scratch_release(s);
    return 1;
}

/* acmpca.generate_key([key_type]) -> PKCS#8 PEM (default "EC_prime256v1"). */
static int l_generate_key(lua_State *L)
{
    const char *type;
    scratch *s;
    lua_settop(L, 1);
    type = lua_isnil(L, 1) ? "EC_prime256v1" : check_text(L, 1, "key_type", NULL);
    s = scratch_new(L);
    return push_text(L, s, acmpca_pki_generate_key(&s->text, type));
}

/* acmpca.make_csr(private_key_pem, { common_name, ..., dns_names = {...}, ... }) -> PEM. */
static int l_make_csr(lua_State *L)
{
    acmpca_csr_options o;
    scratch *s;
    lua_settop(L, 2);
    memset(&o, 0, sizeof(o));
    o.private_key_pem = check_text(L, 1, "private_key", NULL);
    if (check_options(L, 2, subject_keys, NULL))
        read_subject(L, 2, &o, NULL);
    s = scratch_new(L);
    return push_text(L, s, acmpca_pki_make_csr(&s->text, &o));
}

/* acmpca.normalize_csr(pem_or_der) -> the PEM the service accepts. */
static int l_normalize_csr(lua_State *L)
{
    const char *data;
    size_t len;
    scratch *s;
    lua_settop(L, 1);
    if (lua_type(L, 1) != LUA_TSTRING)
        return raise_param(L, NULL, "csr: expected a string, got %s", luaL_typename(L, 1));
    data = lua_tolstring(L, 1, &len);
    s = scratch_new(L);
    return push_text(L, s, acmpca_pki_normalize_csr(&s->text, data, len));
}

/* acmpca.normalize_serial(arn_hex_or_pem) -> "79:3f:0d". */
static int l_normalize_serial(lua_State *L)
{
    const char *in;
    scratch *s;
    lua_settop(L, 1);
    in = check_text(L, 1, "serial", NULL);
    s = scratch_new(L);
    return push_text(L, s, acmpca_pki_normalize_serial(&s->text, in));
}

/*
 * acmpca.parse_certificate(pem) -> { Subject, Issuer, Serial, NotBefore,
 * NotAfter, SubjectAlternativeNames = { { Type, Value } }, IsCA, KeyAlgorithm }
 */
static int l_parse_certificate(lua_State *L)
{
    const char *pem;
    scratch *s;
    lua_settop(L, 1);
    pem = check_text(L, 1, "pem", NULL);
    s = scratch_new(L);
    if (acmpca_pki_parse_certificate(&s->out, pem) != 0)
        return raise_last(L, NULL);
    push_json(L, s->out);
    scratch_release(s);
    return 1;
}

/*
 * request_certificate's arguments (self, ca_arn, options at 1, 2, 3) into `r`;
 * *csr the given CSR (anchored by the options table), in any form
 * normalize_csr takes.
 */
static void read_request(lua_State *L, acmpca_certificate_request *r, const char **csr,
                         size_t *csr_len)
{
    const char *op = "IssueCertificate", *w = "options";
    int t;

    lua_settop(L, 3);
    memset(r, 0, sizeof(*r));
    *csr = NULL;
    *csr_len = 0;
    check_client(L, 1, op);
    r->certificate_authority_arn = check_text(L, 2, "certificate_authority_arn", op);
    if (check_options(L, 3, request_keys, op)) {
        if ((t = raw_field(L, 3, "csr")) == LUA_TSTRING)
            *csr = lua_tolstring(L, -1, csr_len);  /* anchored by the options table */
        else if (t != LUA_TNIL)
            raise_param(L, op, "options.csr: expected a string, got %s", lua_typename(L, t));
        lua_pop(L, 1);
        r->key_type = opt_string(L, 3, w, "key_type", op);
        r->signing_algorithm = opt_string(L, 3, w, "signing_algorithm", op);
        r->template_arn = opt_string(L, 3, w, "template_arn", op);
        r->validity_days = (int)opt_number(L, 3, w, "validity_days", 0, 1, 36500, 1, op);
        r->wait_delay_s = opt_number(L, 3, w, "wait_delay", 0, 0.001, 3600, 0, op);
        r->wait_max_attempts = (int)opt_number(L, 3, w, "wait_max_attempts", 0, 1, 100000, 1,
                                               op);
        read_subject(L, 3, &r->subject, op);
    }
}

/*
 * c:request_certificate(ca_arn, { csr, key_type, <subject fields>,
 * signing_algorithm, template_arn, validity_days, wait_delay, wait_max_attempts })
 * -> { CertificateArn, Certificate, CertificateChain, PrivateKey, Csr }: a new
 * key and CSR (or the given CSR, in any form normalize_csr takes) ->
 * [DescribeCertificateAuthority] -> IssueCertificate -> the certificate_issued
 * waiter: the core's acmpca_request_certificate.
 */
static int client_request_certificate(lua_State *L)
{
    const char *op = "IssueCertificate", *csr;
    acmpca_certificate_request r;
    acmpca_client *c;
    size_t csr_len;
    scratch *s;

    warn_if_blocking_nginx(L);  /* Lua code: before r points into the options */
    read_request(L, &r, &csr, &csr_len);
    s = scratch_new(L);
    /* Any CSR form (DER too) becomes PEM first, as the core takes a C string. */
    if (csr && acmpca_pki_normalize_csr(&s->text, csr, csr_len) != 0)
        return raise_last(L, op);
    r.csr_pem = s->text;
    c = check_client(L, 1, op);  /* again: see check_client */
    if (acmpca_request_certificate(c, &r, &s->cert) != 0)
        return raise_last(L, op);
    {
        const char *const fields[] = {
            "CertificateArn", s->cert->certificate_arn, "Certificate", s->cert->certificate_pem,
            "CertificateChain", s->cert->certificate_chain_pem, "PrivateKey",
            s->cert->private_key_pem, "Csr", s->cert->csr_pem,
        };
        size_t i;
        lua_createtable(L, 0, 5);
        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i += 2) {
            if (fields[i + 1]) {
                lua_pushstring(L, fields[i + 1]);
                lua_setfield(L, -2, fields[i]);
            }
        }
    }
    scratch_release(s);
    return 1;
}

/*
 * c:request_certificate_machine(ca_arn, options) -> a machine for
 * c:request_certificate's whole flow (acmpca_machine_new_request_certificate):
 * the key and CSR are made and bad options raise here, before any step; its
 * "done" result is c:request_certificate's table. resty.acmpca drives it.
 */
static int client_request_certificate_machine(lua_State *L)
{
    const char *op = "IssueCertificate", *csr;
    acmpca_certificate_request r;
    acmpca_client *c;
    size_t csr_len;
    lmachine *lm;

    read_request(L, &r, &csr, &csr_len);
    lm = push_new_machine(L, 1, acmpca_model_operation_find(op));
    lm->private_key = 1;
    if (csr && acmpca_pki_normalize_csr(&lm->s.text, csr, csr_len) != 0)
        return raise_last(L, op);
    r.csr_pem = lm->s.text;
    c = check_client(L, 1, op);  /* again: see check_client */
    if (acmpca_machine_new_request_certificate(&lm->m, c, &r) != 0)
        return raise_last(L, op);
    scratch_release(&lm->s);  /* the machine copied the CSR */
    return 1;
}

/* ---- the module --------------------------------------------------------- */

/*
 * The registry's GLOBAL_KEY userdata holds whether this lua_State holds one
 * acmpca_global_init(); its __gc gives it back exactly once (the core counts
 * the states of a process, so closing one leaves the others working).
 */
static int global_gc(lua_State *L)
{
    int *initialised = (int *)luaL_testudata(L, 1, GLOBAL_MT);
    if (initialised && *initialised) {
        *initialised = 0;
        acmpca_global_cleanup();
    }
    return 0;
}

/* One acmpca_global_init() per lua_State, however often the module is loaded. */
static void global_acquire(lua_State *L)
{
    static const luaL_Reg global_meta[] = {
        {"__gc", global_gc},
        {NULL, NULL},
    };
    int *initialised;

    lua_getfield(L, LUA_REGISTRYINDEX, GLOBAL_KEY);
    initialised = (int *)luaL_testudata(L, -1, GLOBAL_MT);
    lua_pop(L, 1);
    if (!initialised) {
        /* Armed before the init, so the state's close releases what it took. */
        initialised = (int *)lua_newuserdatauv(L, sizeof(*initialised), 0);
        *initialised = 0;
        if (luaL_newmetatable(L, GLOBAL_MT))
            luaL_setfuncs(L, global_meta, 0);
        lua_setmetatable(L, -2);
        lua_setfield(L, LUA_REGISTRYINDEX, GLOBAL_KEY);
    }
    if (!*initialised) {
        if (acmpca_global_init() != 0)
            luaL_error(L, "acmpca: %s", acmpca_error_last()->message);
        *initialised = 1;
    }
}

/* __index of acmpca.errors: a misspelt code is a bug, not a silent nil. */
static int errors_index(lua_State *L)
{
    return luaL_error(L, "acmpca.errors: no error code named '%s'", luaL_optstring(L, 2, "?"));
}

static void new_metatable(lua_State *L, const char *name, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
}

ACMPCA_LUA_EXPORT int luaopen_acmpca(lua_State *L);

/* The functions that may make a SEND step for a cosocket driver, into the table
 * on top, each with the strings of wire_keys as its upvalues. */
static void set_wire_functions(lua_State *L, const luaL_Reg *fns)
{
    int i;
    for (i = 0; wire_keys[i]; i++)
        lua_pushstring(L, wire_keys[i]);
    luaL_setfuncs(L, fns, i);
}

/*
 * The core gives libcurl wiping allocators that live in this module, and
 * libcurl keeps them until its last cleanup, which another libcurl user of
 * the process may run after this module's lua_State closed: so the module
 * is never unloaded (as CPython never unloads an extension module).
 */
static void pin_module(void)
{
#if defined(RTLD_NODELETE)
    static const char anchor; /* any object of this module names its file */
    Dl_info self;
    if (dladdr(&anchor, &self) && self.dli_fname)
        (void)dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

ACMPCA_LUA_EXPORT int luaopen_acmpca(lua_State *L)
{
    static const luaL_Reg client_meta[] = {
        {"__gc", client_gc},
#if LUA_VERSION_NUM >= 504
        {"__close", client_close_mm},
#endif
        {"__tostring", client_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg client_methods[] = {
        {"close", client_m_close},
        {"wait", client_wait},
        {"paginate", client_paginate},
        {"build_request", client_build_request},
        {"endpoint", client_m_endpoint},
        {"region", client_m_region},
        {"credentials_source", client_credentials_source},
        {"credentials_expiration", client_credentials_expiration},
        {"export_credentials", client_export_credentials},
        {"import_credentials", client_import_credentials},
        {"request_certificate", client_request_certificate},
        {"issue_and_wait", client_request_certificate},
        {"request_certificate_machine", client_request_certificate_machine},
        {"waiter_machine", client_waiter_machine},
        {NULL, NULL},
    };
    static const luaL_Reg machine_meta[] = {
        {"__gc", machine_gc},
#if LUA_VERSION_NUM >= 504
        {"__close", machine_close_mm},
#endif
        {"__tostring", machine_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg machine_methods[] = {
        {"next", machine_next},
        {"parse_head", machine_parse_head},
        {"response", machine_response},
        {"transport_error", machine_transport_error},
        {"close", machine_m_close},
        {NULL, NULL},
    };
    static const luaL_Reg machine_wire_methods[] = {
        {"next_wire", machine_next_wire},
        {"response_next_wire", machine_response_next_wire},
        {"take_answer", machine_take_answer},
        {NULL, NULL},
    };
    static const luaL_Reg client_wire_methods[] = {
        {"machine", client_machine},
        {NULL, NULL},
    };
    static const luaL_Reg pages_meta[] = {
        {"__gc", pages_gc},
#if LUA_VERSION_NUM >= 504
        {"__close", pages_gc},
#endif
        {"__call", pages_call},
        {"__index", pages_index},
        {NULL, NULL},
    };
    static const luaL_Reg error_meta[] = {
        {"__tostring", error_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg scratch_meta[] = {
        {"__gc", scratch_gc},
        {NULL, NULL},
    };
    static const luaL_Reg functions[] = {
        {"new", l_new},
        {"build_request", l_build_request},
        {"parse_response", l_parse_response},
        {"sign", l_sign},
        {"generate_key", l_generate_key},
        {"make_csr", l_make_csr},
        {"normalize_csr", l_normalize_csr},
        {"normalize_serial", l_normalize_serial},
        {"parse_certificate", l_parse_certificate},
        {NULL, NULL},
    };
    size_t i;
    int code;

    if (acmpca_version_number() != ACMPCA_VERSION_NUMBER)
        return luaL_error(L, "acmpca: built for libacmpca %s but loaded %s", ACMPCA_VERSION,
                          acmpca_version());
    global_acquire(L);

    new_metatable(L, SCRATCH_MT, scratch_meta);
    new_metatable(L, ERROR_MT, error_meta);
    new_metatable(L, PAGES_MT, pages_meta);
    push_parked(L);
    if (lua_isnil(L, -1)) {
        lua_pushlightuserdata(L, (void *)&parked_key);
        lua_newtable(L);
        lua_rawset(L, LUA_REGISTRYINDEX);
    }
    lua_pop(L, 1);
    new_metatable(L, MACHINE_MT, machine_meta);
    lua_createtable(L, 0, 4);
    luaL_setfuncs(L, machine_methods, 0);
    set_wire_functions(L, machine_wire_methods);
    lua_setfield(L, -2, "__index");
    new_metatable(L, CLIENT_MT, client_meta);
    lua_createtable(L, 0, (int)acmpca_model_operation_count() + 8);
    luaL_setfuncs(L, client_methods, 0);
    set_wire_functions(L, client_wire_methods);
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        lua_pushinteger(L, (lua_Integer)i);
        lua_pushcfunction(L, protected_output);
        lua_pushliteral(L, "status");
        lua_pushliteral(L, "request_id");
        lua_pushliteral(L, "retry_attempts");
        lua_pushcclosure(L, client_call, 5);
        lua_setfield(L, -2, acmpca_model_operation(i)->snake_name);
    }
    lua_setfield(L, -2, "__index");
    lua_pop(L, 5);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);

    pin_module();
    lua_createtable(L, 0, 16);
    luaL_setfuncs(L, functions, 0);
    lua_pushliteral(L, ACMPCA_VERSION);
    lua_setfield(L, -2, "version");
    luaL_getmetatable(L, ERROR_MT);
    lua_setfield(L, -2, "Error");

    /* acmpca.errors: code = code for every code an error object can carry. */
    lua_newtable(L);
    lua_pushliteral(L, CODE_PARAM);
    lua_pushliteral(L, CODE_PARAM);
    lua_rawset(L, -3);
    lua_pushliteral(L, CODE_CLOSED);
    lua_pushliteral(L, CODE_CLOSED);
    lua_rawset(L, -3);
    lua_pushliteral(L, "ServiceError");
    lua_pushliteral(L, "ServiceError");
    lua_rawset(L, -3);
    for (code = ACMPCA_EINVAL; code >= ACMPCA_EPROFILE; code--) {
        lua_pushstring(L, acmpca_error_class(code));
        lua_pushvalue(L, -1);
        lua_rawset(L, -3);
    }
    for (code = ACMPCA_ESERVICE_FIRST; code >= ACMPCA_ESERVICE_LAST; code--) {
        lua_pushstring(L, acmpca_error_name(code));
        lua_pushvalue(L, -1);
        lua_rawset(L, -3);
    }
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, errors_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "errors");

    /* acmpca.operations / acmpca.waiters: the snake names, in model order. */
    lua_createtable(L, (int)acmpca_model_operation_count(), 0);
    for (i = 0; i < acmpca_model_operation_count(); i++) {
        lua_pushstring(L, acmpca_model_operation(i)->snake_name);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "operations");
    lua_newtable(L);
    for (i = 0; acmpca_waiter_at(i); i++) {
        lua_pushstring(L, acmpca_waiter_at(i)->snake_name);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "waiters");
    return 1;
}
