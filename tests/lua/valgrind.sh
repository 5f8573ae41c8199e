#!/usr/bin/env bash
# Runs the busted suite of the Lua binding under valgrind (memcheck) with Lua
# 5.4 and the 5.4 build of acmpca.so. Fails on any memory error (invalid
# read/write, use of uninitialised values, bad free) and on definite leaks;
# "still reachable" and "possibly lost" blocks (libcurl / OpenSSL globals)
# are not counted.
#
#   tests/lua/valgrind.sh [MODULE_DIR] [GROUP...]
#   tests/lua/valgrind.sh build/lua54                 # every group
#   tests/lua/valgrind.sh build/lua54 unit moto       # a smoke subset
#
# Each group runs under its loopback server (see tests/lua/run.sh); only the
# Lua interpreter runs under valgrind, not the Python servers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
moddir=${1:-$root/build/lua54}
[ $# -gt 0 ] && shift
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
lua=$(command -v lua5.4) || { echo "valgrind.sh: lua5.4 is not installed" >&2; exit 2; }

logdir=$(mktemp -d)
trap '[ -n "${ACMPCA_KEEP_VG_LOGS:-}" ] || rm -rf "$logdir"' EXIT
export ACMPCA_LUA_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full
  --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40
  --suppressions=$here/valgrind.supp --log-file=$logdir/vg.%p.log"
# glibc's per-thread caches and libcurl's connection pool make "possibly lost"
# noisy; definite leaks and memory errors are what this run is about.
status=0
"$here/run.sh" "$lua" "$moddir" "$@" || status=$?

# Busted's own exit status counts test failures; valgrind's 99 means errors.
errors=0
for log in "$logdir"/vg.*.log; do
  [ -s "$log" ] || continue
  if grep -qE "ERROR SUMMARY: [1-9]|are definitely lost|definitely lost: [1-9]|Invalid (read|write|free)|uninitialised|Mismatched free" "$log"; then
    errors=1
    echo "---- $log" >&2
    cat "$log" >&2
  fi
done
if [ $errors -ne 0 ]; then
  echo "valgrind.sh: memory errors or definite leaks (see above)" >&2
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "valgrind.sh: the suite failed under valgrind (status $status)" >&2
  exit $status
fi
echo "valgrind.sh: no memory errors, no definite leaks"
