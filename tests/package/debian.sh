#!/usr/bin/env bash
# The Debian packages as the README makes them and a user installs them:
# 1. a build configured with -DCMAKE_INSTALL_PREFIX=/usr, `cpack -G DEB`:
#    libacmpca<SOVERSION>, libacmpca-dev and acmpca-cli, with computed
#    Depends, Maintainer, Homepage, a description, an Apache-2.0 copyright
#    file, a shlibs file and the runtime package named after the SONAME;
# 2. `dpkg -i` of the three into this machine (as root; otherwise, or with
#    ACMPCA_DEB_INSTALL=extract, `dpkg-deb -x` into a scratch root);
# 3. the README's C sample built with `pkg-config --cflags --libs acmpca` and
#    with find_package(acmpca) (acmpca::acmpca, and acmpca::acmpca_static),
#    each run against moto on loopback and linked to the packaged library; `acmpca --version`; the completions where
#    bash and zsh look for them;
# 4. `dpkg --purge` of the three (-r would keep the runtime's ldconfig
#    postrm around): dpkg forgets them and nothing of them is left under /usr.
# A real install holds /tmp/acmpca-debian-packages.lock, so that two builds'
# runs never install or remove the packages under each other.
#
#   debian.sh PYTHON      (a Python with moto, for tests/fixtures/with_server.py)
set -euo pipefail
python=${1:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/acmpca-deb.XXXXXX)
fail() { echo "debian: $*" >&2; exit 1; }
major=$(sed -n 's/^#define ACMPCA_VERSION_MAJOR \([0-9]*\)$/\1/p' "$root/core/include/acmpca/common.h")
minor=$(sed -n 's/^#define ACMPCA_VERSION_MINOR \([0-9]*\)$/\1/p' "$root/core/include/acmpca/common.h")
version=$(sed -n 's/^#define ACMPCA_VERSION "\(.*\)"$/\1/p' "$root/core/include/acmpca/common.h")
if [ "$major" = 0 ]; then soversion=0.$minor; else soversion=$major; fi
runtime=libacmpca$soversion
packages=("$runtime" libacmpca-dev acmpca-cli)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH LD_LIBRARY_PATH

installed=0
cleanup() {
    if [ "$installed" = 1 ]; then dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# 1. The packages, from the README's commands.
cmake -S "$root" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DACMPCA_TESTS=OFF -DACMPCA_EXAMPLES=OFF -DACMPCA_LUA=OFF -DACMPCA_BENCH=OFF >"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "cmake configure failed"; }
cmake --build "$tmp/build" -j2 >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "build failed"; }
(cd "$tmp/build" && cpack -G DEB -B "$tmp/debs") >"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "cpack -G DEB failed"; }
debs=()
for p in "${packages[@]}"; do
    deb=$tmp/debs/${p}_$version-1_$arch.deb
    [ -f "$deb" ] || fail "cpack made no $(basename "$deb"): $(ls "$tmp/debs")"
    debs+=("$deb")
    field() { dpkg-deb -f "$deb" "$1"; }
    [ -n "$(field Maintainer)" ] || fail "$p: no Maintainer"
    [ -n "$(field Homepage)" ] || fail "$p: no Homepage"
    [ "$(field Version)" = "$version-1" ] || fail "$p: Version $(field Version), not $version-1"
    [ "$(field Description | wc -l)" -ge 2 ] || fail "$p: no long description"
    copyright=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/share/doc/$p/copyright")
    grep -qx "License: Apache-2.0" <<<"$copyright" ||
        fail "$p: no copyright file saying License: Apache-2.0"
    echo "$p: Depends: $(field Depends)"
done
depends() { dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/^ *//'; }
# Computed by dpkg-shlibdeps from what each binary links, not written by hand.
for want in "libc6 (>=" "libcurl4 (>=" "libssl3 (>=" "libcjson1 (>="; do
    depends "${debs[0]}" | grep -qF "$want" || fail "$runtime does not depend on ${want% (>=}"
done
depends "${debs[2]}" | grep -qxF "$runtime (= $version-1)" || fail "acmpca-cli: no Depends on $runtime"
depends "${debs[1]}" | grep -qxF "$runtime (= $version-1)" || fail "libacmpca-dev: no Depends on $runtime"
# Whole outputs are read before grep looks at them (no SIGPIPE under pipefail).
shlibs=$(dpkg-deb --ctrl-tarfile "${debs[0]}" | tar -xOf - ./shlibs)
grep -qxF "libacmpca $soversion $runtime (>= $version-1)" <<<"$shlibs" ||
    fail "$runtime: no shlibs entry for libacmpca $soversion: $shlibs"
contents=$(dpkg-deb -c "${debs[0]}")
grep -q " ./usr/lib/$multiarch/libacmpca.so.$soversion -> " <<<"$contents" ||
    fail "$runtime lacks usr/lib/$multiarch/libacmpca.so.$soversion"

# 2. Installed for real (root), or unpacked into a scratch root.
mode=${ACMPCA_DEB_INSTALL:-real}
[ "$(id -u)" = 0 ] || mode=extract
prefix=/usr
if [ "$mode" = real ]; then
    exec 9>/tmp/acmpca-debian-packages.lock
    flock 9
    for p in "${packages[@]}"; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
            fail "$p is already installed; this test installs and removes it: dpkg --purge it first"
        fi
    done
    installed=1
    dpkg -i "${debs[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "dpkg -i failed"; }
    echo "dpkg -i: installed ${packages[*]}"
else
    for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$tmp/root"; done
    prefix=$tmp/root/usr
    export PKG_CONFIG_PATH=$prefix/lib/$multiarch/pkgconfig CMAKE_PREFIX_PATH=$prefix
    export LD_LIBRARY_PATH=$prefix/lib/$multiarch PATH=$prefix/bin:$PATH
    echo "dpkg-deb -x: unpacked ${packages[*]} into $tmp/root (not root, or ACMPCA_DEB_INSTALL=extract)"
fi
libdir=$prefix/lib/$multiarch

# 3. The README's C sample against the installed packages.
mkdir "$tmp/sample"
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$root/README.md" >"$tmp/sample/sample.c"
grep -q acmpca_client_new "$tmp/sample/sample.c" || fail "no C sample found in README.md"
cc -std=c11 -Wall -Werror -o "$tmp/sample/by-pkg-config" "$tmp/sample/sample.c" \
    $(pkg-config --cflags --libs acmpca) || fail "the sample does not build with pkg-config"
cat >"$tmp/sample/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.19)
project(sample C)
find_package(acmpca ${major}.${minor} REQUIRED)
add_executable(by-find-package sample.c)
target_link_libraries(by-find-package PRIVATE acmpca::acmpca)
add_executable(by-find-package-static sample.c)
target_link_libraries(by-find-package-static PRIVATE acmpca::acmpca_static)
EOF
cmake -S "$tmp/sample" -B "$tmp/sample/build" >"$tmp/log" 2>&1 &&
    cmake --build "$tmp/sample/build" >>"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "the sample does not build with find_package(acmpca)"; }
for exe in "$tmp/sample/by-pkg-config" "$tmp/sample/build/by-find-package" \
           "$tmp/sample/build/by-find-package-static"; do
    lib=$(ldd "$exe" | awk '$1 == "libacmpca.so.'"$soversion"'" { print $3 }')
    [ -z "$lib" ] || lib=$(realpath "$(dirname "$lib")")/$(basename "$lib")
    want=$libdir/libacmpca.so.$soversion
    [[ $exe == *-static ]] && want=""  # libacmpca.a, from libacmpca-dev
    [ "$lib" = "$want" ] || fail "$(basename "$exe") loads libacmpca from '$lib', not '$want'"
    out=$("$python" "$root/tests/fixtures/with_server.py" moto -- "$exe") ||
        fail "$(basename "$exe") failed: $out"
    [[ $out =~ ^[0-9]+\ CAs$ ]] || fail "$(basename "$exe") printed '$out', not 'N CAs'"
    echo "$(basename "$exe"): $out"
done

out=$(acmpca --version) || fail "acmpca --version failed"
[ "$(command -v acmpca)" = "$prefix/bin/acmpca" ] || fail "acmpca is $(command -v acmpca)"
[[ $out == "acmpca $version "* ]] || fail "acmpca --version printed '$out'"
echo "acmpca --version: $out"
[ -f "$prefix/share/bash-completion/completions/acmpca" ] || fail "no bash completion"
zsh_dir=$prefix/share/zsh/vendor-completions
[ -f "$zsh_dir/_acmpca" ] || fail "no zsh completion in $zsh_dir"
if [ "$mode" = real ]; then
    zsh -fc 'print -l $fpath' | grep -qx "$zsh_dir" || fail "zsh does not search $zsh_dir"
fi

# 4. Removed, without a trace.
if [ "$mode" = real ]; then
    dpkg --purge "${packages[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "dpkg --purge failed"; }
    installed=0
    for p in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || echo not-installed)
        [ "$status" = not-installed ] || fail "$p is '$status' after dpkg --purge"
    done
    left=$(find /usr/lib /usr/include /usr/bin /usr/share/doc /usr/share/zsh \
        /usr/share/bash-completion -name '*acmpca*' 2>/dev/null || true)
    [ -z "$left" ] || fail "left behind by dpkg --purge: $left"
    ! pkg-config --exists acmpca || fail "pkg-config still finds acmpca"
    echo "dpkg --purge: removed ${packages[*]}, nothing left"
fi
