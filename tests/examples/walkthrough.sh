#!/bin/sh
# Runs one walkthrough (C, Python or Lua) against the endpoint in
# $ACMPCA_TEST_ENDPOINT (under tests/fixtures/with_server.py moto) and checks
# what a user gets: exit status 0, a chain that OpenSSL verifies, and a private
# key written safely. Before the run, the output folder holds traps: server.key
# is a symlink to a file elsewhere and server.crt an existing world-readable
# file. Afterwards the symlink's target must be untouched, and server.key a
# regular file of mode 600 owned by us.
#
#   walkthrough.sh OUT_DIR COMMAND ARGS...   (the walkthrough gets --endpoint-url and --out)
set -eu
out=$1
shift
rm -rf "$out" "$out.victim"
mkdir -p "$out"
echo "untouched" > "$out.victim"
ln -s "$out.victim" "$out/server.key"
echo "old" > "$out/server.crt"
chmod 644 "$out/server.crt"

"$@" --endpoint-url "$ACMPCA_TEST_ENDPOINT" --out "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(cat "$out.victim")" = "untouched" ] || fail "the key was written through a symlink"
[ -f "$out/server.key" ] && [ ! -L "$out/server.key" ] || fail "server.key is not a regular file"
mode=$(stat -c %a "$out/server.key")
[ "$mode" = "600" ] || fail "server.key has mode $mode, expected 600"
grep -q "PRIVATE KEY" "$out/server.key" || fail "server.key holds no private key"
ls "$out" | grep -q '\.tmp$\|\.[A-Za-z0-9]\{6\}$' && fail "temporary files left in $out"
openssl verify -CAfile "$out/chain.pem" "$out/server.crt" || fail "the chain does not verify"
echo "walkthrough files: OK"
