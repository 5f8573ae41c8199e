-- LuaRocks build of the acmpca Lua module: one self-contained acmpca.so made
-- from the C core (core/src) and the binding (bindings/lua/acmpca.c), for the
-- Lua that runs luarocks (5.4, or LuaJIT 2.1 / OpenResty's).
--
--   luarocks make bindings/lua/acmpca-0.1.0-1.rockspec      (from the repository root)
--   luarocks pack acmpca                                    (a binary .rock of the build)
--
-- For OpenResty (the README's Install table has the Debian nginx variant):
--   luarocks --lua-dir=/usr/local/openresty/luajit --tree=/usr/local/openresty/luajit \
--            make bindings/lua/acmpca-0.1.0-1.rockspec
--
-- The core's sources are listed one by one (the builtin backend takes no
-- globs): add new files of core/src here when the core gains them.
rockspec_format = "3.0"
package = "acmpca"
version = "0.1.0-1"

-- `luarocks make` builds the checkout it runs in and `luarocks pack acmpca`
-- packs the installed build, so neither reads `source`. Only a source rock or
-- an upload fetches it: the project has no public repository yet, so the URL
-- is a reserved, never-resolving name (a local path would fetch nothing for
-- anyone else); put the real one here when the repository is published.
source = {
  url = "git+https://example.invalid/acmpca.git",
  tag = "v0.1.0",
}

description = {
  summary = "AWS Private CA (ACM PCA) client for Lua 5.4 and LuaJIT / OpenResty",
  detailed = [[
All 23 ACM PCA operations as methods taking and returning tables, errors as
error objects, waiters and paginators, and build_request / parse_response
for non-blocking use with OpenResty cosockets. A binding of the acmpca C SDK.
]],
  license = "Apache-2.0",
  labels = { "aws", "acm-pca", "pki", "openresty" },
}

-- Tested: Lua 5.4, and LuaJIT 2.1 (Debian's luajit2 and an OpenResty-shaped
-- tree), which luarocks calls 5.1 and so needs the range to start there.
-- PUC-Rio Lua 5.1 is not supported (no luaL_setfuncs: the module fails to
-- load); 5.2 and 5.3 have LUA_VERSION_NUM shims but are not tested.
dependencies = {
  "lua >= 5.1, < 5.5",
}

external_dependencies = {
  CURL = { library = "curl" },  -- Debian keeps curl/curl.h in a multiarch folder
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
  CJSON = { header = "cjson/cJSON.h", library = "cjson" },
}

build = {
  type = "builtin",
  modules = {
    acmpca = {
      sources = {
        "core/src/client.c",
        "core/src/config.c",
        "core/src/credentials.c",
        "core/src/credentials_chain.c",
        "core/src/credentials_remote.c",
        "core/src/endpoint.c",
        "core/src/driver.c",
        "core/src/error.c",
        "core/src/machine.c",
        "core/src/model.c",
        "core/src/model_data.c",
        "core/src/operations.c",
        "core/src/pki.c",
        "core/src/region_data.c",
        "core/src/retry.c",
        "core/src/serialize.c",
        "core/src/sign.c",
        "core/src/transport.c",
        "core/src/util.c",
        "core/src/waiter.c",
        "bindings/lua/acmpca.c",
      },
      defines = { "ACMPCA_BUILDING", "_POSIX_C_SOURCE=200809L" },
      incdirs = {
        "core/include", "core/src",
        "$(OPENSSL_INCDIR)", "$(CJSON_INCDIR)",
      },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)", "$(CJSON_LIBDIR)" },
      libraries = { "curl", "crypto", "cjson", "pthread", "m" },
    },
    -- The non-blocking client for OpenResty (cosockets over the module's call machine).
    ["resty.acmpca"] = "bindings/lua/resty/acmpca.lua",
  },
}
