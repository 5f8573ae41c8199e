#!/usr/bin/env bash
# Installs the build in BUILD_DIR to a temporary prefix, then builds and runs a
# consumer twice: through find_package(acmpca) and through pkg-config.
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name 'libacmpca.so' -printf '%h\n' | head -1)

cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cmake/consumer"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -o "$tmp/consumer-pc" "$here/consumer.c" $(pkg-config --cflags --libs acmpca)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-pc"
