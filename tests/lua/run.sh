#!/usr/bin/env bash
# Runs the busted specs of the Lua binding with one interpreter and the
# matching build of acmpca.so:
#
#   tests/lua/run.sh LUA_EXE MODULE_DIR [GROUP...]
#   tests/lua/run.sh lua5.4 build/lua54          # Lua 5.4 + the 5.4 module
#   tests/lua/run.sh luajit build/luajit         # LuaJIT + the LuaJIT module
#
# Debian's /usr/bin/busted starts with "#!/usr/bin/env lua" (whatever `lua`
# is); running it as "LUA_EXE /usr/bin/busted" picks the interpreter
# explicitly, so the 5.4 suite really tests the 5.4 build.
#
# Groups (default: all), each against its own loopback server started by
# tests/fixtures/with_server.py:
#   unit       no server: module surface, validation before I/O, build_request,
#              parse_response, sign, close/__gc/<close>
#   moto       every operation moto implements, the full CA flow, paginators,
#              waiters, error objects from moto
#   moto-auth  moto checking signatures: our requests pass, a wrong secret fails
#   fixture    the six operations moto lacks, scripted error answers, waiters
#   fault      the fault matrix (tests/c/test_faults.c's rows) and retries:
#              error objects, retry_attempts / attempts / max_attempts
#   credentials  c:credentials_source() and calls for each provider (env, files,
#              credential_process, IMDSv2, container, SSO, STS at moto), failures;
#              moto plus tests/fixtures/metadata_server.py
#
# ACMPCA_LUA_WRAPPER, when set, prefixes the interpreter (tests/lua/valgrind.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -lt 2 ]; then
  sed -n '2,27p' "$0" >&2
  exit 2
fi
lua=$1
moddir=$(cd "$2" && pwd)
shift 2
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(unit moto moto-auth fixture fault credentials)
[ -f "$moddir/acmpca.so" ] || { echo "run.sh: no $moddir/acmpca.so (build first)" >&2; exit 2; }
busted=$(command -v busted)
# shellcheck disable=SC2206
wrapper=(${ACMPCA_LUA_WRAPPER:-})

# Never reach AWS: no real credentials, profiles or metadata endpoints.
for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent \
       AWS_SHARED_CREDENTIALS_FILE=/nonexistent
export NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1
export ACMPCA_LUA_MODULE_DIR=$moddir ACMPCA_LUA_EXE=$lua ACMPCA_SOURCE_DIR=$root

cd "$root"
status=0
for g in "${groups[@]}"; do
  dir=$here/${g//-/_}
  cmd=("${wrapper[@]}" "$lua" "$busted" --cpath="$moddir/?.so" --lpath="$here/?.lua"
       -o plainTerminal --pattern=_spec "$dir")
  echo "== lua ($("$lua" -v 2>&1 | head -1 | cut -d' ' -f1-2)) $g"
  case $g in
    unit) "${cmd[@]}" || status=1 ;;
    moto|moto-auth|fixture|fault)
      python3 "$root/tests/fixtures/with_server.py" "$g" -- "${cmd[@]}" || status=1 ;;
    credentials)
      python3 "$root/tests/fixtures/with_server.py" moto -- \
        python3 "$root/tests/fixtures/metadata_server.py" -- "${cmd[@]}" || status=1 ;;
    *) echo "run.sh: unknown group $g" >&2; exit 2 ;;
  esac
done
exit $status
