#!/bin/sh
# `acmpca issue` (and `renew`) killed on the way and run again gets one
# certificate, not two, against tests/fixtures/fault_server.py: its IssueCertificate answer
# derives the ARN from the IdempotencyToken, GET /_fault/issuances counts the
# distinct tokens it saw, and issue_then_drop records an issuance and then
# hangs up (the client never learns the ARN: a crash after the service issued).
# GetCertificate is answered with the fault server's `ok` action carrying a
# real certificate for the CSR of the pending file, signed by a test root
# made here, so the command's own chain and key checks run unchanged, and
# they can only pass if the re-run kept the first run's key.
#
#   python3 tests/fixtures/with_server.py fault -- sh tests/cli/idempotent.sh path/to/acmpca
set -eu
A=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT  # KEEP=1: keep it to look at
cd "$tmp"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
# run CODE CMD...: the exit status must be CODE; stdout in out, stderr in err.
run() {
    want=$1
    shift
    set +e
    "$@" >out 2>err
    got=$?
    set -e
    [ "$got" = "$want" ] || fail "$*: exit $got, expected $want; stderr: $(cat err)"
}
one_line() { [ "$(wc -l < err)" -eq 1 ] || fail "expected one line on stderr, got: $(cat err)"; }
mode() { stat -c %a "$1"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
    -out root.pem -subj "/CN=Idempotent Test Root" -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null

# The fault server's control API, and the certificate answer for a pending CSR.
cat > fault.py <<'EOF'
import json, os, subprocess, sys, time, urllib.request

C = os.environ["ACMPCA_TEST_FAULT_CONTROL"]


def http(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(C + path, data=data, method=method)
    return json.load(urllib.request.urlopen(req, timeout=10))


def pending(path):
    with open(path) as f:
        return json.load(f)


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "reset":
    http("POST", "/_fault/reset", {})
elif cmd == "script":
    http("POST", "/_fault/script", json.loads(args[0]))
elif cmd == "count":  # distinct IdempotencyTokens the service issued for
    print(http("GET", "/_fault/issuances")["count"])
elif cmd == "ops":  # the operations received, in order
    for r in http("GET", "/_fault/requests")["requests"]:
        print(r["operation"])
elif cmd == "tokens":  # the token of every IssueCertificate received
    for r in http("GET", "/_fault/requests")["requests"]:
        if r["operation"] == "IssueCertificate":
            print(r["body"].get("IdempotencyToken", "-"))
elif cmd == "validity":  # the Validity of every IssueCertificate received
    for r in http("GET", "/_fault/requests")["requests"]:
        if r["operation"] == "IssueCertificate":
            print(json.dumps(r["body"].get("Validity")))
elif cmd == "field":
    print(pending(args[0]).get(args[1], ""))
elif cmd == "wait-arn":  # until the running command has recorded the ARN
    for _ in range(200):
        if os.path.exists(args[0]) and pending(args[0]).get("CertificateArn"):
            break
        time.sleep(0.05)
    else:
        sys.exit("no CertificateArn in %s" % args[0])
elif cmd == "age":  # make the pending request older than the token's life
    doc = pending(args[0])
    doc["Created"] -= int(args[1])
    with open(args[0], "w") as f:
        json.dump(doc, f)
elif cmd == "answer":  # GetCertificate: a certificate for the pending CSR
    with open("leaf.csr", "w") as f:
        f.write(pending(args[0])["Csr"])
    subprocess.run(["openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem",
                    "-CAkey", "root.key", "-set_serial", str(int(time.time() * 1000)),
                    "-days", "30", "-out", "leaf.pem"], check=True, stderr=subprocess.DEVNULL)
    body = {"Certificate": open("leaf.pem").read(), "CertificateChain": open("root.pem").read()}
    actions = ["ok"] if "issue" in args[1:] else []
    http("POST", "/_fault/script", actions + [{"action": "ok", "body": body}])
EOF
fault() { python3 fault.py "$@"; }

CA=arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca
# What matters to the request is fixed; the signing algorithm saves a DescribeCertificateAuthority.
issue() {
    "$A" --max-attempts 1 issue --ca "$CA" --cn www.example.test --dns www.example.test \
        --signing-algorithm SHA256WITHECDSA "$@"
}

# ---- 1. the service issues, the client never hears: exit 3, the pending file stays ----
fault reset
fault script '["issue_then_drop"]'
run 3 issue --days 30 --out www
one_line
grep -q "^acmpca: issuing the certificate: .*(ConnectionClosedError: .*; www/cert.pem.acmpca-pending kept: the same command resumes it, --discard-pending drops it\$" err ||
    fail "the failure line: $(cat err)"
[ "$(ls www)" = cert.pem.acmpca-pending ] || fail "files after the failed run: $(ls www)"
[ "$(mode www/cert.pem.acmpca-pending)" = 600 ] || fail "the pending file has mode $(mode www/cert.pem.acmpca-pending)"
[ "$(fault count)" = 1 ] || fail "issuances after the first run: $(fault count)"
ok "a run that dies after the service issued leaves CERT.acmpca-pending (0600), writes nothing else"

# ---- 2. the same command again: the same token, one issuance, the first run's key ----
fault answer www/cert.pem.acmpca-pending issue
run 0 issue --days 30 --out www
grep -q "^issued CN=www.example.test, serial [0-9a-f:]*, not after .* -> www/cert.pem\$" out ||
    fail "the re-run printed: $(cat out)"
[ ! -s err ] || fail "the re-run wrote to stderr: $(cat err)"
[ "$(fault count)" = 1 ] || fail "issuances after the re-run: $(fault count), expected 1"
fault tokens > tokens
[ "$(wc -l < tokens)" -eq 2 ] && [ "$(sort -u tokens | wc -l)" -eq 1 ] ||
    fail "IssueCertificate tokens: $(cat tokens)"
grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' tokens ||
    fail "the token is not a v4 UUID: $(head -n 1 tokens)"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "the certificate is not for the written key"
[ "$(mode www/key.pem)" = 600 ] || fail "key.pem has mode $(mode www/key.pem)"
openssl verify -CAfile root.pem www/cert.pem >/dev/null || fail "cert.pem does not verify"
ok "re-running the same command sends the same token: one issuance, the first run's key"

# ---- 3. done: the pending file is gone ----
[ ! -e www/cert.pem.acmpca-pending ] || fail "the pending file outlived the success"
[ "$(ls www | tr '\n' ' ')" = "cert.pem cert.pem.acmpca chain.pem fullchain.pem key.pem " ] ||
    fail "files after the re-run: $(ls www)"
ok "the pending file goes once the files are written"

# ---- 4. other parameters while a request is pending: exit 2, one line, nothing sent ----
fault reset
fault script '["issue_then_drop"]'
run 3 issue --days 30 --out api
first_token=$(fault field api/cert.pem.acmpca-pending IdempotencyToken)
before=$(sha256sum api/cert.pem.acmpca-pending)
fault reset
run 2 issue --days 90 --out api
one_line
grep -q "^acmpca: issue: api/cert.pem.acmpca-pending holds an unfinished issue with other parameters (ValidityDays differs): re-run that command, or pass --discard-pending to drop it" err ||
    fail "the refusal: $(cat err)"
[ -z "$(fault ops)" ] || fail "a refused re-run sent: $(fault ops)"
[ "$(sha256sum api/cert.pem.acmpca-pending)" = "$before" ] || fail "a refused re-run changed the pending file"
run 2 issue --days 30 --dns api.example.test --out api
grep -q "(DnsNames differs)" err || fail "the refusal for another name: $(cat err)"
ok "other parameters for the same files: exit 2, one line naming --discard-pending, nothing sent"

# ---- 5. --discard-pending: a fresh token; killed while waiting, the ARN is kept ----
fault reset
fault script '[{"action": "ok"}, {"action": "error", "code": "RequestInProgressException", "message": "still issuing", "repeat": 100}]'
# Not through issue(): $! must be the command itself, not a subshell around it.
"$A" --max-attempts 1 issue --ca "$CA" --cn www.example.test --dns www.example.test \
    --signing-algorithm SHA256WITHECDSA --days 90 --out api --discard-pending > killed.out 2> killed.err &
pid=$!
fault wait-arn api/cert.pem.acmpca-pending
kill -KILL "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" = 137 ] || fail "the killed issue exited $rc: $(cat killed.err)"
[ "$(fault field api/cert.pem.acmpca-pending IdempotencyToken)" != "$first_token" ] ||
    fail "--discard-pending kept the old token"
[ "$(fault count)" = 1 ] || fail "issuances after --discard-pending: $(fault count)"
[ "$(mode api/cert.pem.acmpca-pending)" = 600 ] || fail "the updated pending file has mode $(mode api/cert.pem.acmpca-pending)"
ok "--discard-pending drops the old request; the ARN is recorded as soon as it arrives"

# ---- 6. re-run after kill -9 mid-wait: no IssueCertificate at all ----
fault reset
fault answer api/cert.pem.acmpca-pending
run 0 issue --days 90 --out api
[ "$(fault ops | tr '\n' ' ')" = "GetCertificate " ] || fail "the re-run after the kill sent: $(fault ops)"
[ "$(fault count)" = 0 ] && [ ! -e api/cert.pem.acmpca-pending ] || fail "re-run after the kill"
[ "$(openssl x509 -noout -pubkey -in api/cert.pem)" = "$(openssl pkey -pubout -in api/key.pem)" ] ||
    fail "the certificate is not for the written key"
ok "killed mid-wait and re-run: the recorded ARN is fetched, nothing issued again"

# ---- 7. a request the service refused outright leaves nothing to resume ----
fault reset
fault script '[{"action": "error", "code": "ResourceNotFoundException", "message": "no such CA"}]'
run 1 issue --out gone
one_line
[ -z "$(ls gone)" ] || fail "files after a refused request: $(ls gone)"
ok "IssueCertificate refused with a 4xx: no pending file"

# ---- 8. a pending request older than the token's life: said, then resumed ----
fault reset
fault script '["issue_then_drop"]'
run 3 issue --out old
fault age old/cert.pem.acmpca-pending 600
fault answer old/cert.pem.acmpca-pending issue
run 0 issue --out old
one_line
grep -q "^acmpca: note: old/cert.pem.acmpca-pending is 10 minutes old, past the 5-minute life of its IdempotencyToken: " err ||
    fail "no note on an old token: $(cat err)"
ok "a token past its life is said before it is sent again"

# A pending file that others may read is not trusted with the key.
fault reset
fault script '["issue_then_drop"]'
run 3 issue --out open
chmod 644 open/cert.pem.acmpca-pending
run 2 issue --out open
one_line
grep -q "not a pending request of yours" err || fail "a readable pending file: $(cat err)"
[ -z "$(fault ops | grep -v IssueCertificate)" ] || fail "sent: $(fault ops)"
ok "a pending file that others may read is refused"
# ---- 9. renew dies after the service issued: the re-run finishes it, due or not ----
fault reset
fault script '["issue_then_drop"]'
before=$(sha256sum www/cert.pem www/key.pem)
old_key=$(sha256sum < www/key.pem)
run 3 "$A" --max-attempts 1 renew --cert www/cert.pem --force
one_line
grep -q "; www/cert.pem.acmpca-pending kept: the same command resumes it, --discard-pending drops it\$" err ||
    fail "the failed renewal: $(cat err)"
[ "$(sha256sum www/cert.pem www/key.pem)" = "$before" ] || fail "a failed renewal touched the files"
[ "$(fault count)" = 1 ] || fail "issuances after the failed renewal: $(fault count)"
fault answer www/cert.pem.acmpca-pending issue
run 0 "$A" --max-attempts 1 renew --cert www/cert.pem --before 1d
grep -q "^renewed CN=www.example.test, serial " out || fail "the resumed renewal printed: $(cat out) $(cat err)"
[ "$(fault count)" = 1 ] || fail "issuances after the resumed renewal: $(fault count), expected 1"
fault tokens > tokens
[ "$(wc -l < tokens)" -eq 2 ] && [ "$(sort -u tokens | wc -l)" -eq 1 ] || fail "renewal tokens: $(cat tokens)"
[ ! -e www/cert.pem.acmpca-pending ] || fail "the pending renewal outlived the success"
[ "$(sha256sum < www/key.pem)" != "$old_key" ] || fail "the renewal kept the old key"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "the renewed certificate is not for the new key"
[ "$(mode www/key.pem)" = 600 ] || fail "the renewed key has mode $(mode www/key.pem)"
ok "renew killed after the service issued: a re-run (not due) finishes it, same token, one issuance"

# ---- 10. the same with --reuse-key: the kept key, one issuance ----
fault reset
fault script '["issue_then_drop"]'
key=$(sha256sum < www/key.pem)
run 3 "$A" --max-attempts 1 renew --cert www/cert.pem --force --reuse-key
fault answer www/cert.pem.acmpca-pending issue
run 2 "$A" --max-attempts 1 renew --cert www/cert.pem --before 1d
grep -q "holds an unfinished renew with other parameters (ReuseKey differs)" err || fail "$(cat err)"
run 0 "$A" --max-attempts 1 renew --cert www/cert.pem --before 1d --reuse-key
[ "$(fault count)" = 1 ] && [ "$(sha256sum < www/key.pem)" = "$key" ] || fail "renew --reuse-key re-run"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "the renewed certificate is not for the kept key"
ok "renew --reuse-key resumed: the kept key, one issuance; other parameters refused"

# ---- 11. issue --not-after: an ABSOLUTE validity ending then ----
fault reset
fault script '["issue_then_drop"]'
run 3 issue --not-after 2030-01-02T03:04:05Z --out until
[ "$(fault validity)" = '{"Value": 1893553445, "Type": "ABSOLUTE"}' ] || fail "Validity sent: $(fault validity)"
refused() { run "$@"; one_line; }
refused 2 issue --not-after 2030-01-02 --days 30 --out until2
refused 2 issue --not-after 2001-01-01 --out until2
grep -q "^acmpca: issue: --not-after: 2001-01-01 is in the past" err || fail "$(cat err)"
refused 2 issue --not-after tomorrow --out until2
ok "issue --not-after sends an ABSOLUTE validity; with --days, past or unreadable: exit 2"

echo "all acmpca issue and renew re-run checks passed"
