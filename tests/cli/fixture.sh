#!/bin/sh
# What moto cannot show about the acmpca command, against
# tests/fixtures/fixture_server.py: progress while waiting (only on request
# when stderr is no terminal), Ctrl-C during a wait, RestoreCertificateAuthority,
# and a rejected signature reported as a credentials failure.
#
#   python3 tests/fixtures/with_server.py fixture -- sh tests/cli/fixture.sh path/to/acmpca
set -eu
A=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
CAS=arn:aws:acm-pca:us-east-1:123456789012:certificate-authority

# interrupt_issue NAME FLAGS...: start an issue whose certificate stays in
# progress, Ctrl-C it once the first poll has answered, expect exit 130.
interrupt_issue() {
    name=$1
    shift
    "$A" "$@" issue --ca "$CAS/slow-issue" --signing-algorithm SHA256WITHECDSA \
        --cn slow.example.test --out "$name" > "$name.out" 2> "$name.err" &
    pid=$!
    sleep 2.5
    kill -INT "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    [ "$rc" = 130 ] || fail "$name: exit $rc after Ctrl-C, expected 130: $(cat "$name.err")"
    # Only the pending request stays, so that the same command resumes it.
    [ "$(ls -A "$name")" = cert.pem.acmpca-pending ] ||
        fail "$name: files written by an interrupted issue: $(ls -A "$name")"
    tail -n 1 "$name.err" | grep -q "^acmpca: issuing the certificate: .*(WaiterError: " ||
        fail "$name: last line: $(tail -n 1 "$name.err")"
}

interrupt_issue verbose --verbose
grep -q "^acmpca: waiting for the certificate (CertificateIssued): attempt 1/60, [0-9]* s elapsed, next check in 1 s\$" verbose.err ||
    fail "no progress line with --verbose: $(cat verbose.err)"
ok "--verbose: progress while waiting; Ctrl-C exits 130, writes only the pending request"

interrupt_issue quiet
[ "$(wc -l < quiet.err)" -eq 1 ] || fail "progress shown on a non-terminal stderr: $(cat quiet.err)"
ok "quiet while waiting when stderr is no terminal"

"$A" ca restore "$CAS/deleted-one" > out 2> err || fail "ca restore: $(cat err)"
[ "$(cat out)" = "restored $CAS/deleted-one" ] || fail "ca restore printed: $(cat out)"
set +e
"$A" ca restore --ca "$CAS/active" > out 2> err
rc=$?
set -e
[ "$rc" = 1 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "InvalidStateException" err ||
    fail "ca restore of an active CA: exit $rc: $(cat err)"
ok "ca restore"

set +e
"$A" ca describe "$CAS/xml-403" > out 2> err
rc=$?
set -e
[ "$rc" = 4 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "SignatureDoesNotMatch" err ||
    fail "a rejected signature: exit $rc: $(cat err)"
ok "a rejected signature exits 4"
echo "all acmpca CLI fixture checks passed"
