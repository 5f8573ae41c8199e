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
# - The Debian tree's resty.acmpca and acmpca.so loaded by Debian's nginx +
#   libnginx-mod-http-lua, making one call over a cosocket.
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

# The installed resty.acmpca and acmpca.so in Debian's nginx + libnginx-mod-http-lua:
# a content handler calls ListTags over a cosocket on the same nginx (one worker,
# which serves the canned answer meanwhile).
if [ -x /usr/sbin/nginx ] && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ]; then
    ngx="$tmp/nginx"
    mkdir -p "$ngx/logs" "$ngx/tmp"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$ngx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $ngx/tmp;
    proxy_temp_path $ngx/tmp;
    fastcgi_temp_path $ngx/tmp;
    uwsgi_temp_path $ngx/tmp;
    scgi_temp_path $ngx/tmp;
    lua_package_path "$tmp/tree-deb/share/lua/5.1/?.lua;;";
    lua_package_cpath "$tmp/tree-deb/lib/lua/5.1/?.so;;";
    server {
        listen 127.0.0.1:$port;
        location = / {
            default_type application/x-amz-json-1.1;
            return 200 '{"Tags":[{"Key":"k","Value":"installed"}]}';
        }
        location = /check {
            content_by_lua_block {
                local acmpca = require "resty.acmpca"
                local c = assert(acmpca.new{ region = "us-east-1", max_attempts = 1,
                    endpoint_url = "http://127.0.0.1:$port",
                    credentials = { access_key_id = "a", secret_access_key = "b" } })
                local res, err = c:list_tags{ CertificateAuthorityArn =
                    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x" }
                ngx.say(res and res.Tags[1].Value or tostring(err), " ",
                        debug.getinfo(acmpca.new, "S").source, " ",
                        package.loaded.acmpca and "acmpca " .. package.loaded.acmpca.version)
            }
        }
    }
}
CONF
    /usr/sbin/nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" &
    nginx_pid=$!
    trap 'kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
    answer=
    for _ in $(seq 50); do
        answer=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/check" 2>/dev/null) && break
        sleep 0.1
    done
    case $answer in
        "installed @$tmp/tree-deb/share/lua/5.1/resty/acmpca.lua acmpca "*) ;;
        *) echo "resty.acmpca from the tree in nginx answered: '$answer'" >&2
           cat "$ngx/logs/error.log" >&2; exit 1 ;;
    esac
    echo "nginx + libnginx-mod-http-lua: resty.acmpca from the tree calls ListTags ($answer)"
    kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
    trap 'rm -rf "$tmp"' EXIT
fi

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
