#!/usr/bin/env python3
"""A private CA end to end with acmpca.

Creates a root CA and a subordinate CA, issues a server certificate for a key
and CSR made on the spot, verifies the chain with OpenSSL, writes key,
certificate and chain as PEM files, then tags, lists, revokes, shows the CA
status and deletes both CAs.

    python3 examples/walkthrough.py --endpoint-url http://127.0.0.1:5000
    python3 examples/walkthrough.py --yes            # real AWS: private CAs are billed

Anything not given on the command line comes from the usual AWS
configuration (AWS_REGION, AWS_ENDPOINT_URL, credentials, profiles).
"""
import argparse
import os
import subprocess
import sys
import time

import acmpca

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
SUB_TEMPLATE = "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"


class Walkthrough:
    def __init__(self, client, out_dir, crl_bucket):
        self.c = client
        self.out_dir = out_dir
        self.crl_bucket = crl_bucket
        self.step_no = 0
        self.rows = []

    def step(self, text):
        self.step_no += 1
        print("[%2d] %s" % (self.step_no, text), flush=True)

    def note(self, text):
        print("     " + text, flush=True)

    def wait(self, what, poll, delay=1.0, attempts=120):
        """Poll until `poll` stops raising RequestInProgressException, with a progress line."""
        start = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                result = poll()
                if attempt > 1:
                    print()
                return result
            except self.c.exceptions.RequestInProgressException:
                print("\r     ... waiting for %s: %.0f s" % (what, time.monotonic() - start),
                      end="", flush=True)
                time.sleep(delay)
        raise SystemExit("gave up waiting for %s" % what)

    def create_ca(self, kind, common_name):
        revocation = {"CrlConfiguration": {"Enabled": False}}
        if self.crl_bucket:
            revocation = {"CrlConfiguration": {"Enabled": True, "ExpirationInDays": 7,
                                               "S3BucketName": self.crl_bucket}}
        arn = self.c.create_certificate_authority(
            CertificateAuthorityType=kind,
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "RSA_2048",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Subject": {"CommonName": common_name, "Organization": "Example Corp",
                            "Country": "US"},
            },
            RevocationConfiguration=revocation,
            Tags=[{"Key": "demo", "Value": "acmpca"}],
        )["CertificateAuthorityArn"]
        self.note(arn)
        return arn

    def ca_csr(self, arn):
        return self.wait("the CA's CSR", lambda: self.c.get_certificate_authority_csr(
            CertificateAuthorityArn=arn)["Csr"])

    def sign(self, issuer_arn, csr, template, days):
        cert_arn = self.c.issue_certificate(
            CertificateAuthorityArn=issuer_arn, Csr=csr, SigningAlgorithm="SHA256WITHRSA",
            TemplateArn=template, Validity={"Value": days, "Type": "DAYS"},
        )["CertificateArn"]
        return self.wait("the certificate", lambda: self.c.get_certificate(
            CertificateAuthorityArn=issuer_arn, CertificateArn=cert_arn)["Certificate"])

    def write(self, name, text, mode):
        # A temporary file created exclusively with its final mode (no existing
        # file or planted symlink is followed), then renamed over the target.
        path = os.path.join(self.out_dir, name)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        self.note("wrote " + path)
        return path

    def run(self):
        c = self.c
        self.step("Creating the root CA (RSA_2048 key, SHA256WITHRSA, CN=Example Root CA, CRL %s)"
                  % ("to s3://" + self.crl_bucket if self.crl_bucket else "off"))
        root = self.create_ca("ROOT", "Example Root CA")
        self.step("Waiting for its CSR")
        csr = self.ca_csr(root)
        self.step("Issuing the root certificate (RootCACertificate/V1, 10 years)")
        root_pem = self.sign(root, csr, ROOT_TEMPLATE, 3650)
        self.step("Importing it: the root CA becomes ACTIVE")
        c.import_certificate_authority_certificate(CertificateAuthorityArn=root,
                                                   Certificate=root_pem)

        self.step("Creating a subordinate CA (CN=Example Issuing CA)")
        sub = self.create_ca("SUBORDINATE", "Example Issuing CA")
        self.step("Waiting for its CSR")
        csr = self.ca_csr(sub)
        self.step("Signing it with the root (SubordinateCACertificate_PathLen0/V1, 5 years)")
        sub_pem = self.sign(root, csr, SUB_TEMPLATE, 1825)
        self.step("Importing it with its chain")
        c.import_certificate_authority_certificate(CertificateAuthorityArn=sub,
                                                   Certificate=sub_pem, CertificateChain=root_pem)

        self.step("Generating an EC P-256 key and a CSR for www.example.test, issuing, waiting")
        key = acmpca.generate_key("EC_prime256v1")
        server_csr = acmpca.make_csr(key, common_name="www.example.test",
                                     organization="Example Corp",
                                     dns_names=["www.example.test", "example.test"])
        issued = c.request_certificate(sub, csr=server_csr, validity_days=90)
        info = acmpca.parse_certificate(issued["Certificate"])
        self.note("%s, issued by %s, serial %s, valid until %s" % (
            info["Subject"], info["Issuer"], info["Serial"], info["NotAfter"].strftime("%Y-%m-%d")))

        self.step("Writing key, certificate and chain to %s/" % self.out_dir)
        os.makedirs(self.out_dir, exist_ok=True)
        self.write("server.key", key, 0o600)
        crt = self.write("server.crt", issued["Certificate"], 0o644)
        chain = self.write("chain.pem", sub_pem.rstrip("\n") + "\n" + root_pem, 0o644)

        self.step("Verifying the chain with OpenSSL")
        check = subprocess.run(["openssl", "verify", "-CAfile", chain, crt],
                               capture_output=True, text=True)
        self.note((check.stdout or check.stderr).strip())
        if check.returncode != 0:
            raise SystemExit("the certificate does not chain to the root")

        self.step("Tagging the subordinate CA and listing CAs with the paginator")
        c.tag_certificate_authority(CertificateAuthorityArn=sub,
                                    Tags=[{"Key": "env", "Value": "demo"}])
        tags = [t for page in c.get_paginator("list_tags").paginate(CertificateAuthorityArn=sub)
                for t in page["Tags"]]
        self.note("tags: " + ", ".join("%s=%s" % (t["Key"], t.get("Value", "")) for t in tags))
        listed = [ca["Arn"] for page in c.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig={"PageSize": 1}) for ca in page["CertificateAuthorities"]]
        self.note("%d CAs listed, ours among them: %s" % (len(listed),
                                                         root in listed and sub in listed))

        serial = acmpca.normalize_serial(issued["Certificate"])
        self.step("Revoking the server certificate (serial %s)" % serial)
        c.revoke_certificate(CertificateAuthorityArn=sub, CertificateSerial=serial,
                             RevocationReason="SUPERSEDED")

        self.step("CA status")
        for label, arn in (("root", root), ("subordinate", sub)):
            ca = c.describe_certificate_authority(CertificateAuthorityArn=arn)
            ca = ca["CertificateAuthority"]
            self.note("%-12s %-12s %-8s created %s" % (label, ca["Type"], ca["Status"],
                                                        ca["CreatedAt"].strftime("%Y-%m-%d %H:%M:%S %Z")))

        self.step("Disabling and deleting both CAs")
        for arn in (sub, root):
            c.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
            c.delete_certificate_authority(CertificateAuthorityArn=arn,
                                           PermanentDeletionTimeInDays=7)
        status = c.describe_certificate_authority(
            CertificateAuthorityArn=sub)["CertificateAuthority"]["Status"]

        rows = [("root CA", root), ("subordinate CA", sub),
                ("server certificate", issued["CertificateArn"]),
                ("serial (revoked)", serial), ("chain", "verified by OpenSSL"),
                ("files", "%s/{server.key,server.crt,chain.pem}" % self.out_dir),
                ("CAs now", status)]
        width = max(len(k) for k, _ in rows)
        print("\nSummary")
        print("  %-*s  %s\n  %s  %s" % (width, "what", "result", "-" * width, "-" * 6))
        for k, v in rows:
            print("  %-*s  %s" % (width, k, v))
        return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint-url", help="ACM PCA endpoint (default: AWS_ENDPOINT_URL or AWS)")
    p.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    p.add_argument("--out", default="acmpca-walkthrough", help="folder for the PEM files")
    p.add_argument("--crl-bucket", help="S3 bucket for the CAs' CRLs (default: CRLs off)")
    p.add_argument("--yes", action="store_true",
                   help="go ahead against real AWS, where private CAs are billed")
    args = p.parse_args(argv)

    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_ACM_PCA") or \
        os.environ.get("AWS_ENDPOINT_URL")
    try:
        client = acmpca.client(region_name=args.region, endpoint_url=endpoint)
    except acmpca.Error as e:
        raise SystemExit("cannot make a client: %s" % e)
    if not endpoint and not args.yes:
        print("No --endpoint-url given: this would run against real AWS (%s) and create two\n"
              "private CAs, which AWS bills for. Run again with --yes to go ahead, or use\n"
              "examples/demo.sh for the local endpoint." % client.meta.endpoint_url)
        return 2
    print("acmpca %s walkthrough against %s%s\n" % (
        acmpca.__version__, client.meta.endpoint_url,
        "" if endpoint else " (real AWS: billable)"))
    with client:
        try:
            return Walkthrough(client, args.out, args.crl_bucket).run()
        except acmpca.ClientError as e:
            raise SystemExit("%s failed: %s: %s (HTTP %s, request id %s)" % (
                e.operation_name, e.code, e.message, e.http_status, e.request_id))
        except acmpca.Error as e:
            raise SystemExit("error: %s" % e)


if __name__ == "__main__":
    sys.exit(main())
