#!/usr/bin/env bash
# `luarocks make` of bindings/lua/acmpca-*.rockspec for Lua 5.4, in a scratch
# copy of the sources and a scratch rocks tree, then `require "acmpca"` from it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/bindings"
cp -r "$root/core" "$tmp/src/"
cp -r "$root/bindings/lua" "$tmp/src/bindings/"
cd "$tmp/src"
luarocks --lua-version=5.4 --tree="$tmp/tree" make bindings/lua/acmpca-*.rockspec >/dev/null
LUA_CPATH="$tmp/tree/lib/lua/5.4/?.so" lua5.4 -e '
  local acmpca = require "acmpca"
  assert(#acmpca.generate_key("p256") > 0)
  print("luarocks build of acmpca " .. acmpca.version .. " loads")'
