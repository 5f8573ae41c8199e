#!/usr/bin/env bash
# The built library's SONAME is the one README.md's "ABI and SONAME" states
# for this version: libacmpca.so.0.MINOR during 0.x, libacmpca.so.MAJOR from
# 1.0 (the version is core/include/acmpca/common.h's).
#
#   soname.sh LIBRARY     (the built libacmpca.so)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=$1
fail() { echo "soname: $*" >&2; exit 1; }
header=$root/core/include/acmpca/common.h
major=$(sed -n 's/^#define ACMPCA_VERSION_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define ACMPCA_VERSION_MINOR \([0-9]*\)$/\1/p' "$header")
if [ "$major" = 0 ]; then want=libacmpca.so.0.$minor; else want=libacmpca.so.$major; fi

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ "$soname" = "$want" ] || fail "$lib has SONAME '$soname'; the policy says $want for $major.$minor"
# The README states the policy and this version's SONAME in its ABI section.
section=$(sed -n '/^### ABI and SONAME$/,/^##/p' "$root/README.md")
[ -n "$section" ] || fail "README.md has no '### ABI and SONAME' section"
grep -qF "\`$want\`" <<<"$section" || fail "README.md's ABI and SONAME section does not name \`$want\`"
echo "SONAME $soname, as README.md states for $major.$minor"
