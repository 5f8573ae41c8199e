/*
 * lua_clock.c - the Lua module "bench_clock" for the Lua faces of the
 * benchmark (bench/face_lua.lua), built for Lua 5.4 and LuaJIT: standard Lua
 * has no wall clock finer than a second and no getrusage.
 *
 *   realtime()  CLOCK_REALTIME in seconds (float), to compare with BENCH_T0
 *   monotonic() CLOCK_MONOTONIC in seconds
 *   cpu()       user + system seconds of the process, every thread
 *   vmhwm_kb()  peak resident set (VmHWM of /proc/self/status)
 */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>

#include "face.h"

int luaopen_bench_clock(lua_State *L);

static int l_realtime(lua_State *L)
{
    lua_pushnumber(L, face_realtime());
    return 1;
}

static int l_monotonic(lua_State *L)
{
    lua_pushnumber(L, face_monotonic());
    return 1;
}

static int l_cpu(lua_State *L)
{
    lua_pushnumber(L, face_cpu());
    return 1;
}

static int l_vmhwm_kb(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)face_vmhwm_kb());
    return 1;
}

__attribute__((visibility("default"))) int luaopen_bench_clock(lua_State *L)
{
    static const luaL_Reg fns[] = {{"realtime", l_realtime},
                                   {"monotonic", l_monotonic},
                                   {"cpu", l_cpu},
                                   {"vmhwm_kb", l_vmhwm_kb},
                                   {NULL, NULL}};
    const luaL_Reg *f;
    lua_newtable(L); /* not luaL_newlib / luaL_register: the same code for 5.1 and 5.4 */
    for (f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    return 1;
}
