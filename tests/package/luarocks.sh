#!/usr/bin/env bash
# The rockspec as the README uses it, in a scratch copy of the sources and
# scratch rocks trees:
# - Lua 5.4: `luarocks make`, `require "acmpca"` from the tree; `luarocks pack`
#   of the installed build gives a binary rock, which installs into a second,
#   empty tree and loads from there.
# - LuaJIT, the README's two OpenResty commands: for Debian's nginx +
#   libnginx-mod-http-lua (`luarocks --lua-version=5.1 make ...
#   LUA_INCDIR=/usr/include/luajit-2.1`, loaded by Debian's luajit2, the
#   library that module links), and `luarocks --lua-dir=<openresty>/luajit
#   --tree=<openresty>/luajit make` against a prefix laid out as
#   /usr/local/openresty/luajit (bin/luajit, include/luajit-2.1) made of that
#   same luajit2.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fresh_sources() {
    rm -rf "$tmp/src"
    mkdir -p "$tmp/src/bindings"
    cp -r "$root/core" "$tmp/src/"
    cp -r "$root/bindings/lua" "$tmp/src/bindings/"
}
quiet() {  # luarocks talks on stderr even when all is well
    local out
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; echo "failed: $*" >&2; return 1; }
}
check_load() {  # LUA CPATH_DIR WHAT
    local version
    version=$(LUA_CPATH="$2/?.so" "$1" -e '
      local acmpca = require "acmpca"
      assert(#acmpca.generate_key("p256") > 0)
      io.write(acmpca.version)')
    echo "$3: acmpca $version loads"
}

fresh_sources
cd "$tmp/src"
quiet luarocks --lua-version=5.4 --tree="$tmp/tree" make bindings/lua/acmpca-*.rockspec
check_load lua5.4 "$tmp/tree/lib/lua/5.4" "luarocks make (Lua 5.4)"

mkdir "$tmp/rocks"
(cd "$tmp/rocks" && quiet luarocks --lua-version=5.4 --tree="$tmp/tree" pack acmpca)
rock=$(ls "$tmp"/rocks/acmpca-*."$(uname -s | tr A-Z a-z)"-*.rock)
listing=$(unzip -l "$rock")  # not piped into grep -q: SIGPIPE would fail the pipeline
for f in lib/acmpca.so lua/resty/acmpca.lua; do
    grep -q " $f\$" <<<"$listing" || { echo "$rock holds no $f" >&2; exit 1; }
done
quiet luarocks --lua-version=5.4 --tree="$tmp/tree2" install "$rock"
check_load lua5.4 "$tmp/tree2/lib/lua/5.4" "the binary rock $(basename "$rock") (Lua 5.4)"

luajit_inc=$(pkg-config --variable=includedir luajit)  # .../include/luajit-2.1
fresh_sources
cd "$tmp/src"
quiet luarocks --lua-version=5.1 --tree="$tmp/tree-deb" make bindings/lua/acmpca-*.rockspec \
    LUA_INCDIR="$luajit_inc"
check_load luajit "$tmp/tree-deb/lib/lua/5.1" "luarocks --lua-version=5.1 make (Debian's LuaJIT)"

# An OpenResty-shaped LuaJIT prefix over Debian's luajit2 (libluajit2-5.1-dev).
prefix="$tmp/openresty/luajit"
mkdir -p "$prefix/bin" "$prefix/include"
ln -s "$(command -v luajit)" "$prefix/bin/luajit"
ln -s "$luajit_inc" "$prefix/include/luajit-2.1"
fresh_sources
cd "$tmp/src"
quiet luarocks --lua-dir="$prefix" --tree="$prefix" make bindings/lua/acmpca-*.rockspec
[ -f "$prefix/share/lua/5.1/resty/acmpca.lua" ] || { echo "no resty/acmpca.lua in $prefix" >&2; exit 1; }
check_load "$prefix/bin/luajit" "$prefix/lib/lua/5.1" \
    "luarocks --lua-dir=.../luajit --tree=.../luajit make (OpenResty's layout)"
