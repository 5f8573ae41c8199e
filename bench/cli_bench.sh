#!/bin/sh
# Wall time of one command-line invocation: `acmpca call GetCertificate` vs
# `aws acm-pca get-certificate`, 20 runs each, against the same local moto
# endpoint in the same run; prints both and the ratio. awscli comes from PyPI
# into a temporary virtualenv that is removed afterwards. Not run in CI.
#
#   sh bench/cli_bench.sh [BUILD_DIR]      (BUILD_DIR/cli/acmpca; default: build)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=20

if [ "${1:-}" != --inner ]; then
    BUILD=$(cd "${1:-$ROOT/build}" && pwd)
    [ -x "$BUILD/cli/acmpca" ] || { echo "no $BUILD/cli/acmpca: build first" >&2; exit 2; }
    venv=$(mktemp -d)
    trap 'rm -rf "$venv"' EXIT
    echo "installing awscli into a temporary virtualenv ..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q awscli
    # with_server.py starts moto with every dependency of the system python.
    python3 "$ROOT/tests/fixtures/with_server.py" moto -- \
        sh "$0" --inner "$BUILD/cli/acmpca" "$venv/bin/aws"
    exit
fi

A=$2
AWS=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CA=$("$A" ca create root --cn "Bench Root")
"$A" issue --ca "$CA" --cn bench.example.test --out "$work/bench" > /dev/null
CERT=$(sed -n 's/.*"CertificateArn": "\(.*\)".*/\1/p' "$work/bench/cert.pem.acmpca")

# ms_per_run CMD...: the mean wall time of RUNS runs, in milliseconds.
ms_per_run() {
    "$@" > /dev/null # warm the page cache and the server
    start=$(date +%s%N)
    i=0
    while [ $i -lt $RUNS ]; do
        "$@" > /dev/null
        i=$((i + 1))
    done
    end=$(date +%s%N)
    echo $(( (end - start) / RUNS / 1000 ))
}

ours=$(ms_per_run "$A" call GetCertificate --CertificateAuthorityArn "$CA" --CertificateArn "$CERT" \
    --query Certificate --output text)
theirs=$(ms_per_run "$AWS" acm-pca get-certificate --certificate-authority-arn "$CA" \
    --certificate-arn "$CERT" --endpoint-url "$ACMPCA_TEST_ENDPOINT" --region us-east-1 --query Certificate --output text)
"$AWS" --version 2>&1 | sed 's/^/baseline: /'
awk -v o="$ours" -v t="$theirs" -v n="$RUNS" 'BEGIN {
    printf "acmpca call GetCertificate      %8.1f ms per run (%d runs)\n", o / 1000, n
    printf "aws acm-pca get-certificate     %8.1f ms per run (%d runs)\n", t / 1000, n
    printf "ratio                           %8.1fx faster\n", t / o
}'
