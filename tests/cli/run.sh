#!/bin/sh
# The acmpca command as a user runs it, against moto on loopback:
#
#   python3 tests/fixtures/with_server.py moto -- sh tests/cli/run.sh path/to/acmpca
#
# Checks exit codes, what lands on stdout and stderr (every failure: exactly
# one line), and the files: modes, checksums, OpenSSL verification.
set -eu
A=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
# refused CODE CMD...: as run, and the reason is exactly one line on stderr.
refused() {
    run "$@"
    [ "$(wc -l < err)" -eq 1 ] && [ -s err ] || fail "$*: expected one line on stderr, got: $(cat err)"
}
sums() { sha256sum "$@" 2>/dev/null; }
mode() { stat -c %a "$1"; }
serial() { openssl x509 -noout -serial -in "$1"; }

# ---- version, help ----
run 0 "$A" --version
grep -q "^acmpca [0-9]" out || fail "--version: $(cat out)"
for cmd in issue renew revoke ca call; do
    run 0 "$A" "$cmd" --help
    grep -q "^usage: acmpca $cmd" out || fail "$cmd --help: no usage line"
    grep -q "example" out || fail "$cmd --help: no examples"
done
run 0 "$A" help
ok "version and help"

# ---- a root and a subordinate CA, one command each ----
run 0 "$A" ca create root --cn "CLI Test Root" --org "Example Corp" --validity 10y
ROOT=$(cat out)
case $ROOT in arn:aws:acm-pca:*:certificate-authority/*) ;; *) fail "ca create root printed: $ROOT" ;; esac
run 0 "$A" ca create subordinate --parent "$ROOT" --cn "CLI Test Issuing CA" --tag env=test
SUB=$(cat out)
run 0 "$A" ca describe "$SUB" --query CertificateAuthority.Status --output text
[ "$(cat out)" = ACTIVE ] || fail "subordinate CA is $(cat out)"
run 0 "$A" ca list --output text
grep -q "^$ROOT	ROOT	ACTIVE	CLI Test Root\$" out || fail "ca list: $(cat out)"
grep -q "^$SUB	SUBORDINATE	ACTIVE	CLI Test Issuing CA\$" out || fail "ca list: $(cat out)"
# --output table: boxes as the AWS CLI draws them, nested members one '|' deeper.
run 0 "$A" ca describe "$SUB" --output table
head -n 3 out > table.head
[ "$(sed -n 1p table.head | tr -d -)" = "" ] && sed -n 2p table.head | grep -Eq '^\| +DescribeCertificateAuthority +\|$' &&
    sed -n 3p table.head | grep -Eq '^\+-+\+$' || fail "table head: $(cat table.head)"
grep -Eq "^\|\|  Arn +\|  $SUB  \|\|\$" out || fail "table row: $(cat out)"
grep -Eq '^\|{4}  CommonName +\|  CLI Test Issuing CA +\|{4}$' out || fail "nested table row: $(cat out)"
run 0 "$A" call list-certificate-authorities --query 'CertificateAuthorities[*].Status' --output table
grep -Ec '^\|  ACTIVE +\|$' out | grep -qx 2 || fail "table of a list: $(cat out)"
ok "--output table: a box per object, a column per member, nested boxes inside"
run 0 "$A" call get-certificate-authority-certificate --CertificateAuthorityArn "$ROOT" \
    --query Certificate --output text
cp out root.pem
run 0 "$A" call get-certificate-authority-certificate --certificate-authority-arn "$SUB" \
    --query Certificate --output text
cp out sub.pem
openssl verify -CAfile root.pem sub.pem >/dev/null || fail "the subordinate does not chain to the root"
openssl x509 -noout -text -in sub.pem | grep -q "CA:TRUE, pathlen:0" || fail "subordinate lacks CA:TRUE, pathlen:0"
refused 2 "$A" ca create subordinate --cn "No Parent"
refused 2 "$A" ca create intermediate --cn X
ok "ca create root + subordinate, ca list, ca describe"

# ---- issue ----
run 0 "$A" issue --ca "$SUB" --cn www.example.test --dns www.example.test --dns example.test \
    --ip 127.0.0.1 --days 90 --out www
grep -q "^issued CN=www.example.test, serial [0-9a-f:]*, not after 20[0-9-]*T[0-9:]*Z -> www/cert.pem\$" out ||
    fail "issue summary: $(cat out)"
[ "$(mode www/key.pem)" = 600 ] || fail "key.pem has mode $(mode www/key.pem)"
grep -q "BEGIN PRIVATE KEY" www/key.pem || fail "key.pem holds no key"
openssl verify -CAfile root.pem -untrusted www/chain.pem www/cert.pem >/dev/null || fail "cert does not verify"
openssl verify -CAfile www/chain.pem www/cert.pem >/dev/null || fail "chain.pem does not end in the root"
cmp -s www/fullchain.pem "$(cat www/cert.pem www/chain.pem > fc.pem && echo fc.pem)" || fail "fullchain != cert + chain"
openssl x509 -noout -ext subjectAltName -in www/cert.pem | grep -q "DNS:example.test" || fail "SAN missing"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "the certificate is not for the written key"
ls www | grep -q tmp && fail "temporary files left: $(ls www)"
grep -q "\"CertificateAuthorityArn\": \"$SUB\"" www/cert.pem.acmpca || fail "state file lacks the CA"
ok "issue: key 0600, cert, chain, fullchain verified by openssl, state file"

before=$(sums www/*)
refused 2 "$A" issue --ca "$SUB" --cn www.example.test --out www
[ "$(sums www/*)" = "$before" ] || fail "a refused issue changed files"
ok "issue refuses to replace existing files without --force"

# --force over a planted symlink: the key is never written through it.
mkdir trap && echo untouched > victim && ln -s "$tmp/victim" trap/key.pem
run 0 "$A" issue --ca "$SUB" --cn trap.example.test --key-type rsa2048 --cert trap/cert.pem \
    --key trap/key.pem --chain trap/chain.pem --force
[ "$(cat victim)" = untouched ] || fail "the key was written through a symlink"
[ -f trap/key.pem ] && [ ! -L trap/key.pem ] && [ "$(mode trap/key.pem)" = 600 ] || fail "trap/key.pem"
openssl pkey -in trap/key.pem -noout -text | grep -q "2048 bit" || fail "--key-type rsa2048 not honoured"
ok "issue --force replaces a planted symlink, never writes through it"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout own.key -subj /CN=own.example.test \
    -out own.csr 2>/dev/null
run 0 "$A" issue --ca "$SUB" --csr own.csr --cert own.crt
[ ! -e own.crt.key ] && openssl verify -CAfile root.pem -untrusted sub.pem own.crt >/dev/null || fail "issue --csr"
ok "issue --csr"

refused 2 "$A" issue --bogus
refused 2 "$A" issue --cn x --out x
refused 2 "$A" issue --ca "$SUB" --cn x --key-type dsa1024 --out x
refused 2 "$A" issue --ca "$SUB" --cn x --days 0 --out x
refused 2 "$A" issue --ca "$SUB" --cn x --out x --cert y
# The configuration errors botocore names apart: usage (2), named in the one line.
refused 2 "$A" --profile ghost ca list
grep -q "(ProfileNotFound: profile not found)" err || fail "missing profile: $(cat err)"
refused 2 env -u AWS_ENDPOINT_URL "$A" --region "us east 1" ca list
grep -q "(InvalidRegionError: invalid region)" err || fail "bad region: $(cat err)"
refused 2 "$A" issue --ca "$SUB" --cn x --cert x.pem --key ec256
ok "issue: bad flags exit 2 with one line"

# ---- renew ----
before=$(sums www/*)
run 5 "$A" renew --cert www/cert.pem --key www/key.pem
[ ! -s err ] || fail "renew (not due) wrote to stderr: $(cat err)"
grep -q "^not due: www/cert.pem expires " out || fail "renew not due: $(cat out)"
[ "$(sums www/*)" = "$before" ] || fail "renew (not due) changed files"
ok "renew: not due -> exit 5, files untouched"

old_serial=$(serial www/cert.pem)
old_key=$(sums www/key.pem | cut -d' ' -f1)
run 0 "$A" renew --cert www/cert.pem --key www/key.pem --before 400d \
    --post-hook "echo \"ran \$ACMPCA_CERT\" >> $tmp/hook.log"
grep -q "^renewed CN=www.example.test" out || fail "renew: $(cat out)"
[ "$(serial www/cert.pem)" != "$old_serial" ] || fail "renew kept the old certificate"
[ "$(sums www/key.pem | cut -d' ' -f1)" != "$old_key" ] || fail "renew kept the old key"
[ "$(mode www/key.pem)" = 600 ] || fail "renewed key has mode $(mode www/key.pem)"
[ "$(wc -l < hook.log)" -eq 1 ] && grep -q "^ran www/cert.pem\$" hook.log || fail "hook log: $(cat hook.log)"
openssl verify -CAfile root.pem -untrusted www/chain.pem www/cert.pem >/dev/null || fail "renewed cert"
cmp -s www/fullchain.pem "$(cat www/cert.pem www/chain.pem > fc.pem && echo fc.pem)" || fail "fullchain not renewed"
openssl x509 -noout -ext subjectAltName -in www/cert.pem | grep -q "IP Address:127.0.0.1" || fail "SANs lost"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "the renewed certificate is not for the new key"
ok "renew --before 400d: new key and certificate, hook ran once"

key_before=$(sums www/key.pem)
run 0 "$A" renew --cert www/cert.pem --before 400d --reuse-key
[ "$(sums www/key.pem)" = "$key_before" ] || fail "--reuse-key replaced the key"
[ "$(openssl x509 -noout -pubkey -in www/cert.pem)" = "$(openssl pkey -pubout -in www/key.pem)" ] ||
    fail "--reuse-key: the certificate is not for the kept key"
ok "renew --reuse-key (key from the state file) keeps the key"

run 1 "$A" renew --cert www/cert.pem --before 400d --post-hook "exit 3"
grep -q "^renewed" out && grep -q "post-hook failed (exit status 3)" err || fail "failing hook: $(cat out err)"
ok "renew: a failing hook is reported after the renewal"

cp own.crt bare.crt
refused 2 "$A" renew --cert bare.crt --key own.key --before 400d
run 0 "$A" renew --cert bare.crt --key own.key --before 400d --ca "$SUB" --reuse-key
[ "$(openssl x509 -noout -subject -in bare.crt)" = "subject=CN = own.example.test" ] || fail "renew without state"
ok "renew without a state file needs --ca, keeps the names"

"$A" renew --cert www/cert.pem --daemon --interval 1s > daemon.out 2> daemon.err &
daemon=$!
sleep 2.5
kill -TERM "$daemon"
set +e
wait "$daemon"
rc=$?
set -e
[ "$rc" = 0 ] || fail "renew --daemon: exit $rc after SIGTERM: $(cat daemon.err)"
[ "$(grep -c "^not due: www/cert.pem" daemon.out)" -ge 2 ] || fail "renew --daemon: $(cat daemon.out)"
grep -q "^acmpca: 20[0-9-]*T[0-9:]*Z checking www/cert.pem\$" daemon.err || fail "daemon log: $(cat daemon.err)"
ok "renew --daemon checks every interval, stops on SIGTERM"

# --syslog: the daemon's lines become records on the log socket, nothing on stdout/stderr.
cat > syslog_sink.py <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
seen = 0
with open(sys.argv[2], "w") as out:
    while seen < 2:
        record = s.recv(4096).decode()
        out.write(record + "\n")
        out.flush()
        seen += "not due: " in record
EOF
python3 syslog_sink.py "$tmp/log.sock" syslog.txt &
sink=$!
for _ in $(seq 100); do [ -S "$tmp/log.sock" ] && break; sleep 0.05; done
ACMPCA_SYSLOG_SOCKET="$tmp/log.sock" "$A" renew --cert www/cert.pem --daemon --interval 1s \
    --syslog > daemon.out 2> daemon.err &
daemon=$!
wait "$sink" || fail "renew --daemon --syslog: no two records: $(cat syslog.txt daemon.err)"
kill -TERM "$daemon"
wait "$daemon" || fail "renew --daemon --syslog: exit status $?"
[ ! -s daemon.out ] && [ ! -s daemon.err ] || fail "--syslog still printed: $(cat daemon.out daemon.err)"
grep -Eq "^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} acmpca\[$daemon\]: not due: www/cert.pem expires " syslog.txt ||
    fail "syslog records: $(cat syslog.txt)"
grep -Eq "^<30>.* acmpca\[$daemon\]: 20[0-9-]*T[0-9:]*Z checking www/cert.pem\$" syslog.txt ||
    fail "syslog records: $(cat syslog.txt)"
rm -f "$tmp/log.sock"
refused 1 env ACMPCA_SYSLOG_SOCKET="$tmp/log.sock" "$A" renew --cert www/cert.pem --daemon --syslog
grep -q "^acmpca: --syslog: cannot reach the system log at $tmp/log.sock: " err || fail "no log socket: $(cat err)"
refused 2 "$A" renew --cert www/cert.pem --syslog
ok "renew --daemon --syslog logs each line as a daemon.info record; no socket: exit 1, one line"

refused 2 "$A" renew --cert www/cert.pem --before soon
refused 2 "$A" renew --cert www/cert.pem --interval 1h
refused 2 "$A" renew --key www/key.pem

# ---- revoke ----
run 0 "$A" revoke --cert www/cert.pem --reason keyCompromise
grep -q "^revoked serial [0-9a-f:]* (KEY_COMPROMISE)\$" out || fail "revoke: $(cat out)"
hex=$(openssl x509 -noout -serial -in trap/cert.pem | cut -d= -f2)
run 0 "$A" revoke --ca "$SUB" --serial "$hex" --reason SUPERSEDED
run 0 "$A" revoke --ca "$SUB" --serial "0x$hex" --reason cessation-of-operation
grep -q "(CESSATION_OF_OPERATION)" out || fail "reason spelling: $(cat out)"
refused 2 "$A" revoke --ca "$SUB" --serial zz:top
refused 2 "$A" revoke --cert www/cert.pem --reason because
refused 2 "$A" revoke --cert www/cert.pem --serial 01
ok "revoke by file and serial, reasons in any spelling"

# ---- call ----
run 0 "$A" call list-certificate-authorities --query 'CertificateAuthorities[*].Arn' --output text
grep -qx "$ROOT" out && grep -qx "$SUB" out || fail "call --query: $(cat out)"
run 0 "$A" call ListCertificateAuthorities --all
python3 -m json.tool out >/dev/null || fail "call output is not JSON"
printf '{"CertificateAuthorityArn": "%s", "Tags": [{"Key": "team", "Value": "pki"}, {"Key": "tier", "Value": "1"}]}' \
    "$SUB" > tags.json
run 0 "$A" call tag-certificate-authority --input @tags.json
[ ! -s out ] || fail "an operation without output printed: $(cat out)"
run 0 "$A" call list_tags --CertificateAuthorityArn "$SUB" --query Tags
python3 - out <<'EOF' || fail "tags did not round-trip: $(cat out)"
import json, sys
tags = {t["Key"]: t["Value"] for t in json.load(open(sys.argv[1]))}
assert tags["team"] == "pki" and tags["tier"] == "1" and tags["env"] == "test", tags
EOF
run 0 "$A" call describe-certificate-authority --input "{\"CertificateAuthorityArn\": \"$SUB\"}"
cp out by-input.json
run 0 "$A" call DescribeCertificateAuthority --CertificateAuthorityArn "$SUB"
cmp -s out by-input.json || fail "--input and member flags gave different results"
echo "{\"CertificateAuthorityArn\": \"$SUB\"}" | "$A" call describe-certificate-authority --input - > by-stdin.json
cmp -s by-stdin.json by-input.json || fail "--input - differs"
run 0 "$A" call get-certificate-authority-csr --help
grep -q -- "--CertificateAuthorityArn *string, required" out || fail "call OP --help: $(cat out)"
run 0 "$A" call --list
[ "$(wc -l < out)" -eq 23 ] || fail "call --list: $(wc -l < out) operations"
ok "call: JSON in and out, member flags, --query, --all, --help"

refused 2 "$A" call no-such-operation
refused 2 "$A" call get-certificate --input '{bad'
refused 2 "$A" call describe-certificate-authority
refused 2 "$A" call list-certificate-authorities --MaxResults many
refused 2 "$A" call list-certificate-authorities --NoSuchMember 1
refused 2 "$A" call issue-certificate --input @missing.json
refused 2 "$A" --output yaml call list-certificate-authorities
refused 2 "$A" --max-attempts 0 call list-certificate-authorities
refused 2 "$A" frobnicate
refused 2 "$A"
refused 2 "$A" call list-certificate-authorities --query 'a[x'
# A bad --query is refused before the request: a closed port would exit 3.
nobody=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for q in 'a[x' 'x[*].y[' 'a..b' 'a[99999999999]' "$(printf 'a.%.0s' $(seq 65))b"; do
    refused 2 "$A" --endpoint-url "http://127.0.0.1:$nobody" call list-certificate-authorities --query "$q"
    grep -q -- "--query: " err || fail "--query $q: $(cat err)"
done
grep -q "more than 64 steps" err || fail "a --query of 66 steps: $(cat err)"
ok "call: bad input exits 2 with one line, nothing sent"

# ---- failures from the service, the network and the credentials ----
refused 1 "$A" call describe-certificate-authority \
  --CertificateAuthorityArn "${SUB%/*}/00000000-0000-0000-0000-000000000000"
grep -q "ResourceNotFoundException" err || fail "service error line: $(cat err)"
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
refused 3 "$A" --endpoint-url "http://127.0.0.1:$closed" --max-attempts 1 call list-certificate-authorities
grep -q "EndpointConnectionError" err || fail "network error line: $(cat err)"
refused 4 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$A" ca list
grep -q "NoCredentialsError" err || fail "credentials error line: $(cat err)"
run 0 env AWS_SECRET_ACCESS_KEY=cli-secret-4711-value "$A" --debug call list-certificate-authorities
grep -q "<redacted>" err || fail "--debug logs nothing redacted: $(cat err)"
grep -q "cli-secret-4711" out err && fail "--debug printed the secret"
ok "exit codes: 1 service, 3 network, 4 credentials; --debug redacts"

# ---- ca disable / delete ----
run 0 "$A" ca disable "$SUB"
run 0 "$A" ca delete --ca "$SUB" --days 7
run 0 "$A" ca describe "$SUB" --query CertificateAuthority.Status --output text
[ "$(cat out)" = DELETED ] || fail "deleted CA is $(cat out)"
refused 2 "$A" ca delete "$SUB" --days 3
ok "ca disable, delete"

# ---- the README's "Command line" section, as written ----
sed -n '/^## Command line/,/^## /p' "$HERE/../../README.md" |
    sed -n '/^```sh$/,/^```$/p' | grep -v '^```' > readme.sh
[ -s readme.sh ] || fail "README has no Command line sample"
mkdir -p bin && printf '#!/bin/sh\necho "systemctl $*"\n' > bin/systemctl && chmod +x bin/systemctl
ln -sf "$A" bin/acmpca
mkdir readme && (cd readme && PATH="$tmp/bin:$PATH" sh -eu ../readme.sh > ../readme.out 2>&1) ||
    fail "README sample failed: $(cat readme.out)"
ok "README Command line sample runs"

PATH="$tmp/bin:$PATH" sh "$HERE/../../cli/walkthrough.sh" "$tmp/walk" > walk.out 2>&1 ||
    fail "cli/walkthrough.sh: $(cat walk.out)"
grep -q "cert.pem: OK" walk.out && grep -q "^hook: $tmp/walk/cert.pem renewed\$" walk.out ||
    fail "cli/walkthrough.sh: $(cat walk.out)"
ok "cli/walkthrough.sh, the walkthrough with only the command"
echo "all acmpca CLI checks passed"
