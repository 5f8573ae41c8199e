#!/usr/bin/env bash
# The OpenResty test: Debian's nginx + its Lua module (OpenResty's LuaJIT)
# load the LuaJIT build of acmpca.so and, inside a request handler, create a
# CA and issue a certificate against moto with acmpca.build_request, a
# non-blocking cosocket send and acmpca.parse_response (tests/nginx/
# acmpca_demo.lua). This script checks the certificate nginx returns.
#
#   python3 tests/fixtures/with_server.py moto -- tests/nginx/run.sh build/luajit
#
# nginx runs in the foreground (master_process off) from a temporary prefix
# holding its config, pid file and logs; the error log is printed on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
moddir=$(cd "${1:-$here/../../build/luajit}" && pwd)
nginx=${NGINX:-/usr/sbin/nginx}
: "${ACMPCA_TEST_ENDPOINT:?run me under tests/fixtures/with_server.py moto}"
[ -f "$moddir/acmpca.so" ] || { echo "nginx/run.sh: no $moddir/acmpca.so" >&2; exit 2; }
[ -x "$nginx" ] || { echo "nginx/run.sh: $nginx not found" >&2; exit 2; }

tmp=$(mktemp -d)
mkdir -p "$tmp/conf" "$tmp/logs" "$tmp/tmp"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|@PREFIX@|$tmp|g" -e "s|@PORT@|$port|g" \
    -e "s|@CPATH@|$moddir/?.so|g" \
    -e "s|@LPATH@|$here/?.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua|g" \
    "$here/nginx.conf" > "$tmp/conf/nginx.conf"

nginx_pid=
ok=0
cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  if [ $ok -ne 1 ]; then
    echo "---- nginx error log ($tmp/logs/error.log)" >&2
    cat "$tmp/logs/error.log" >&2 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$nginx" -p "$tmp" -c "$tmp/conf/nginx.conf" -e "$tmp/logs/error.log" &
nginx_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do
  curl -fsS "$base/ping" >"$tmp/ping" 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx exited at start" >&2; exit 1; }
  sleep 0.1
done
echo "nginx: $(cat "$tmp/ping")"
grep -q "^acmpca 0\.1\.0 on LuaJIT" "$tmp/ping" || { echo "the LuaJIT module did not load" >&2; exit 1; }

# A key and CSR for the end-entity certificate, made by openssl.
cn=nginx.example.test
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" -subj "/CN=$cn" \
  -addext "subjectAltName=DNS:$cn" 2>/dev/null

# The location does the whole CA flow with cosockets and answers with PEM.
code=$(curl -sS --max-time 120 -o "$tmp/issued.pem" -D "$tmp/issued.headers" \
            -w '%{http_code}' --data-binary @"$tmp/leaf.csr" "$base/issue")
if [ "$code" != 200 ]; then
  echo "POST /issue answered $code:" >&2
  cat "$tmp/issued.pem" >&2
  exit 1
fi
# The certificate first, then its chain (the root).
awk -v leaf="$tmp/leaf.pem" -v chain="$tmp/chain.pem" '
  /-----BEGIN CERTIFICATE-----/ { n++ }
  n == 1 { print > leaf } n > 1 { print > chain }' "$tmp/issued.pem"
subject=$(openssl x509 -noout -subject -in "$tmp/leaf.pem")
echo "issued: $subject"
echo "$subject" | grep -q "CN *= *$cn" || { echo "unexpected subject: $subject" >&2; exit 1; }
openssl x509 -noout -subject -in "$tmp/chain.pem" | grep -q "OpenResty Test Root" \
  || { echo "the chain is not the new root" >&2; exit 1; }
openssl verify -CAfile "$tmp/chain.pem" "$tmp/leaf.pem"
# The key of the CSR is the key of the certificate.
[ "$(openssl x509 -noout -pubkey -in "$tmp/leaf.pem")" = "$(openssl pkey -pubout -in "$tmp/leaf.key")" ] \
  || { echo "the certificate does not carry the CSR's key" >&2; exit 1; }
grep -qi '^x-ca-arn: arn:aws:acm-pca:' "$tmp/issued.headers" || { echo "no CA ARN header" >&2; exit 1; }

# Error objects raised by parse_response and build_request inside nginx.
err=$(curl -fsS "$base/error")
echo "error: $err"
[ "$err" = "ResourceNotFoundException 400 DescribeCertificateAuthority true" ] \
  || { echo "unexpected /error answer: $err" >&2; exit 1; }
inv=$(curl -fsS "$base/invalid")
echo "invalid: $inv"
case $inv in ParamValidationError:*) ;; *) echo "unexpected /invalid answer" >&2; exit 1 ;; esac

# Nothing went wrong inside nginx.
if grep -E "\[(alert|crit|emerg)\]|acmpca demo failed|lua entry thread aborted" "$tmp/logs/error.log"; then
  echo "errors in the nginx log" >&2
  exit 1
fi
ok=1
echo "nginx test passed"
