#!/bin/sh
# The private-CA walkthrough of examples/ with nothing but the acmpca command:
# a root CA, a subordinate CA, a server certificate with its key verified by
# OpenSSL, tags, listing, renewal, revocation, CA status and clean-up.
#
#   python3 tests/fixtures/with_server.py moto -- sh cli/walkthrough.sh [OUT_DIR]
#
# Configuration (endpoint, region, credentials) comes from the environment, as
# for any acmpca command; against real AWS this creates billable CAs.
set -eu
out=${1:-acmpca-walkthrough}
step() { printf '\n== %s\n' "$*"; }

step "A root CA, signed by itself with RootCACertificate/V1 (10 years)"
ROOT=$(acmpca ca create root --cn "Example Root CA" --org "Example Corp" --country US \
       --key-type rsa2048 --validity 10y)
echo "$ROOT"

step "A subordinate CA signed by the root (SubordinateCACertificate_PathLen0/V1, 5 years)"
SUB=$(acmpca ca create subordinate --parent "$ROOT" --cn "Example Issuing CA" \
      --org "Example Corp" --validity 5y --tag demo=acmpca)
echo "$SUB"

step "A server key and certificate for www.example.test in $out/"
acmpca issue --ca "$SUB" --cn www.example.test --dns www.example.test --dns example.test \
    --key-type ec256 --days 90 --out "$out" --force
ls -l "$out"

step "OpenSSL agrees: the certificate chains to the root"
acmpca call get-certificate-authority-certificate --CertificateAuthorityArn "$ROOT" \
    --query Certificate --output text > "$out/root.pem"
openssl verify -CAfile "$out/root.pem" -untrusted "$out/chain.pem" "$out/cert.pem"

step "Tags and the list of CAs"
acmpca call tag-certificate-authority --CertificateAuthorityArn "$SUB" \
    --Tags '[{"Key": "env", "Value": "demo"}]'
acmpca call list-tags --CertificateAuthorityArn "$SUB" --query 'Tags[*].Key' --output text
acmpca ca list --output text

step "Renewal: not due (exit 5), then forced by a wide window, with a hook"
acmpca renew --cert "$out/cert.pem" || [ $? -eq 5 ]
acmpca renew --cert "$out/cert.pem" --before 400d --post-hook 'echo "hook: $ACMPCA_CERT renewed"'

step "Revocation"
acmpca revoke --cert "$out/cert.pem" --reason superseded

step "CA status, then disable and delete both"
acmpca ca describe "$SUB" --query CertificateAuthority.Status --output text
for ca in "$SUB" "$ROOT"; do
    acmpca ca disable "$ca"
    acmpca ca delete "$ca" --days 7
done
