/*
 * two_states.c - two lua_States in one process, each with require "acmpca",
 * as an embedding host (a server with one state per worker or per request)
 * has them. Closing one state must not tear down what the other still uses:
 * the module takes one acmpca_global_init() per state and gives it back
 * once when that state closes, and the core counts them.
 *
 *   two_states MODULE_DIR      under tests/fixtures/with_server.py fault
 *
 * Each step runs the same Lua chunk: a call through a client made earlier
 * (pooled connection, libcurl), a call through a new client, SigV4 signing
 * (OpenSSL digests the core caches process-wide) and key generation. A third
 * state after both are closed checks that the library starts again.
 *
 * libcurl and OpenSSL survive an early global cleanup well enough that the
 * calls alone would not notice one, so the program also keeps count of
 * libcurl's global init and cleanup as the core calls them (the definitions
 * below come first in the dynamic symbol lookup, and pass the calls on to
 * the libcurl the module loaded):
 * while a state is open the count must stay above zero, and it must be back
 * to zero once all are closed. State A's module __gc also runs a second time
 * first (as for an object resurrected by a finalizer): it must not give back
 * more than the state took.
 *
 * Prints "two_states: ok" and exits 0, or names the failing step.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static const char setup_chunk[] =
    "local dir, endpoint = ...\n"
    "package.cpath = dir .. '/?.so;' .. package.cpath\n"
    "acmpca = require 'acmpca'\n"
    "local function client()\n"
    "  return acmpca.new{ region = 'us-east-1', endpoint_url = endpoint, max_attempts = 1,\n"
    "    credentials = { access_key_id = 'AKIDTWOSTATES', secret_access_key = 'secret' } }\n"
    "end\n"
    "kept = client()\n"
    "function work()\n"
    "  local arn = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/two-states'\n"
    "  local out, meta = kept:describe_certificate_authority{ CertificateAuthorityArn = arn }\n"
    "  assert(meta.status == 200, 'kept client: status ' .. tostring(meta.status))\n"
    "  local c = client()\n"
    "  out, meta = c:describe_certificate_authority{ CertificateAuthorityArn = arn }\n"
    "  assert(meta.status == 200, 'new client: status ' .. tostring(meta.status))\n"
    "  c:close()\n"
    "  local s = acmpca.sign{ method = 'GET', url = 'https://example.amazonaws.com/',\n"
    "    region = 'us-east-1', service = 'service', access_key_id = 'AKIDEXAMPLE',\n"
    "    secret_access_key = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', timestamp = 1440938160 }\n"
    "  assert(s.signature == '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',\n"
    "         'signature ' .. s.signature)\n"
    "  assert(acmpca.generate_key():find('BEGIN PRIVATE KEY', 1, true), 'generate_key')\n"
    "end\n";

/* Exported from the executable (built with -rdynamic and hidden visibility). */
#define INTERPOSED __attribute__((visibility("default")))

/* libcurl's global inits minus cleanups, as this process made them. */
static int curl_held;

/* libcurl's own definition of `name` (the module has loaded libcurl by now). */
static void *curl_symbol(const char *name)
{
    void *lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD);
    void *sym = lib ? dlsym(lib, name) : NULL;
    if (lib)
        dlclose(lib);
    if (!sym) {
        fprintf(stderr, "two_states: %s not found in the loaded libcurl.so.4\n", name);
        exit(1);
    }
    return sym;
}

INTERPOSED CURLcode curl_global_init(long flags)
{
    CURLcode (*real)(long);
    CURLcode rc;

    *(void **)(&real) = curl_symbol("curl_global_init");
    rc = real(flags);
    if (rc == CURLE_OK)
        curl_held++;
    return rc;
}

INTERPOSED CURLcode curl_global_init_mem(long flags, curl_malloc_callback m, curl_free_callback f,
                              curl_realloc_callback r, curl_strdup_callback s,
                              curl_calloc_callback c)
{
    CURLcode (*real)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback,
                     curl_strdup_callback, curl_calloc_callback);
    CURLcode rc;

    *(void **)(&real) = curl_symbol("curl_global_init_mem");
    rc = real(flags, m, f, r, s, c);
    if (rc == CURLE_OK)
        curl_held++;
    return rc;
}

INTERPOSED void curl_global_cleanup(void)
{
    void (*real)(void);

    *(void **)(&real) = curl_symbol("curl_global_cleanup");
    curl_held--;
    real();
}

/* Whether libcurl's global state is held (`held`) or fully given back. */
static int check_held(int held, const char *step)
{
    if (held ? curl_held > 0 : curl_held == 0)
        return 0;
    fprintf(stderr, "two_states: %s: libcurl global init count %d (expected %s)\n", step,
            curl_held, held ? "at least 1 while a state is open" : "0 once all are closed");
    return -1;
}

/* Run `chunk` in L; report and return -1 on failure. */
static int run(lua_State *L, const char *chunk, const char *step)
{
    if (luaL_loadstring(L, chunk) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        fprintf(stderr, "two_states: %s: %s\n", step, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* Run work() in L; report and return -1 on failure. */
static int work(lua_State *L, const char *step)
{
    lua_getglobal(L, "work");
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_getglobal(L, "tostring");
        lua_insert(L, -2);
        lua_call(L, 1, 1);
        fprintf(stderr, "two_states: %s: %s\n", step, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* A new state that required the module and made its long-lived client, or NULL. */
static lua_State *open_state(const char *dir, const char *endpoint, const char *name)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "two_states: %s: out of memory\n", name);
        return NULL;
    }
    luaL_openlibs(L);
    if (luaL_loadbuffer(L, setup_chunk, sizeof(setup_chunk) - 1, "setup") != LUA_OK ||
        (lua_pushstring(L, dir), lua_pushstring(L, endpoint), lua_pcall(L, 2, 0, 0)) != LUA_OK) {
        fprintf(stderr, "two_states: %s setup: %s\n", name, lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

int main(int argc, char **argv)
{
    const char *endpoint = getenv("ACMPCA_TEST_ENDPOINT");
    lua_State *a = NULL, *b = NULL, *c = NULL;
    int status = 1;

    if (argc != 2 || !endpoint) {
        fprintf(stderr, "usage: ACMPCA_TEST_ENDPOINT=URL two_states MODULE_DIR\n");
        return 2;
    }
    if (!(a = open_state(argv[1], endpoint, "state A")) ||
        !(b = open_state(argv[1], endpoint, "state B")))
        goto fail;
    if (work(a, "state A before any close") != 0 || work(b, "state B before any close") != 0)
        goto fail;
    /* The registry entry is the module's own (bindings/lua/acmpca.c GLOBAL_KEY). */
    if (run(a, "local g = debug.getregistry()['acmpca.global']\n"
               "local gc = getmetatable(g).__gc\n"
               "gc(g)\n"
               "gc(g)\n", "state A's module __gc run twice") != 0 ||
        check_held(1, "state A's module __gc run twice") != 0)
        goto fail;
    lua_close(a);
    a = NULL;
    if (check_held(1, "state A closed") != 0 || work(b, "state B after state A closed") != 0 ||
        work(b, "state B after state A closed, again") != 0)
        goto fail;
    lua_close(b);
    b = NULL;
    if (check_held(0, "states A and B closed") != 0)
        goto fail;
    if (!(c = open_state(argv[1], endpoint, "state C")) ||
        work(c, "state C after A and B closed") != 0)
        goto fail;
    lua_close(c);
    c = NULL;
    if (check_held(0, "state C closed") != 0)
        goto fail;
    printf("two_states: ok\n");
    status = 0;
fail:
    if (a)
        lua_close(a);
    if (b)
        lua_close(b);
    if (c)
        lua_close(c);
    return status;
}
