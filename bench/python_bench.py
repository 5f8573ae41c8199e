#!/usr/bin/env python3
"""acmpca vs boto3, measured in one run against the same local moto server.

    python3 bench/python_bench.py [--calls N] [--starts N]

1. Client CPU per get_certificate: time.process_time() of this process over N
   calls (moto runs in a separate process, so only the client's work counts:
   argument conversion, signing, HTTP, parsing, result conversion), after a
   warm-up, for acmpca and for boto3. Wall time per call is shown too; it is
   mostly moto's. moto closes the connection after every answer, so each call
   also pays a TCP connect; for context the same is measured against
   tests/fixtures/fixture_server.py, which keeps connections alive as AWS does.
2. Start-up: `import` + client creation, each timed inside fresh interpreter
   subprocesses (the median of N), for acmpca and for boto3.

Prints both figures and the ratios boto3 / acmpca. Nothing here decides
whether a test passes; the issue's targets are >= 8x less CPU per call and
>= 10x faster start-up. Only 127.0.0.1 is contacted.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

REGION = "us-east-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"

MOTO = """
import logging, sys, threading
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start()
print("ready", flush=True)
threading.Event().wait()
"""

START = """
import time
t = time.perf_counter()
{imports}
c = {create}
print(time.perf_counter() - t)
"""
STARTS = {
    "acmpca": ("import acmpca",
               "acmpca.client(region_name='us-east-1', endpoint_url='{ep}', "
               "aws_access_key_id='testing', aws_secret_access_key='testing')"),
    "boto3": ("import boto3",
              "boto3.client('acm-pca', region_name='us-east-1', endpoint_url='{ep}', "
              "aws_access_key_id='testing', aws_secret_access_key='testing')"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": "/nonexistent/acmpca-bench/config",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/acmpca-bench/credentials",
                "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1"})
    return env


def start_moto():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", MOTO, str(port)], stdout=subprocess.PIPE,
                            env=clean_env(), text=True)
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        sys.exit("python_bench: moto did not start")
    return proc, "http://127.0.0.1:%d" % port


def start_fixture():
    port = free_port()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                          "fixture_server.py")
    proc = subprocess.Popen([sys.executable, script, str(port)], env=clean_env())
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, "http://127.0.0.1:%d" % port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("python_bench: the fixture server did not start")


def make_certificate(acmpca, endpoint):
    """A CA and one issued certificate to fetch, made with acmpca."""
    c = acmpca.client(region_name=REGION, endpoint_url=endpoint, **CREDS)
    arn = c.create_certificate_authority(
        CertificateAuthorityConfiguration={"KeyAlgorithm": "RSA_2048",
                                           "SigningAlgorithm": "SHA256WITHRSA",
                                           "Subject": {"CommonName": "bench root"}},
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    csr = c.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    root = c.issue_certificate(CertificateAuthorityArn=arn, Csr=csr,
                               SigningAlgorithm="SHA256WITHRSA", TemplateArn=ROOT_TEMPLATE,
                               Validity={"Value": 365, "Type": "DAYS"})["CertificateArn"]
    pem = c.get_certificate(CertificateAuthorityArn=arn, CertificateArn=root)["Certificate"]
    c.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=pem)
    leaf_csr = acmpca.make_csr(acmpca.generate_key(), common_name="bench.example")
    leaf = c.issue_certificate(CertificateAuthorityArn=arn, Csr=leaf_csr,
                               SigningAlgorithm="SHA256WITHRSA",
                               Validity={"Value": 30, "Type": "DAYS"})["CertificateArn"]
    c.close()
    return arn, leaf


def per_call(client, ca_arn, cert_arn, calls):
    for _ in range(max(20, calls // 10)):
        client.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        out = client.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    assert out["Certificate"].startswith("-----BEGIN CERTIFICATE-----")
    return cpu / calls, wall / calls


def compare(acmpca, boto3, endpoint, ca_arn, cert_arn, calls):
    ours = acmpca.client(region_name=REGION, endpoint_url=endpoint, **CREDS)
    theirs = boto3.client("acm-pca", region_name=REGION, endpoint_url=endpoint, **CREDS)
    # Alternate, so that drift in the server or the machine hits both alike.
    results = {"acmpca": [], "boto3": []}
    for _ in range(2):
        results["acmpca"].append(per_call(ours, ca_arn, cert_arn, calls // 2))
        results["boto3"].append(per_call(theirs, ca_arn, cert_arn, calls // 2))
    ours.close()
    theirs.close()
    cpu = {k: statistics.mean(r[0] for r in v) for k, v in results.items()}
    wall = {k: statistics.mean(r[1] for r in v) for k, v in results.items()}
    return cpu, wall


def start_time(name, endpoint, runs):
    imports, create = STARTS[name]
    code = START.format(imports=imports, create=create.format(ep=endpoint))
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=clean_env(), check=True)
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1000, help="timed calls per client")
    ap.add_argument("--starts", type=int, default=7, help="fresh interpreters per package")
    args = ap.parse_args()

    os.environ.update(clean_env())
    for key in [k for k in os.environ if k.startswith("AWS_") and k not in clean_env()]:
        del os.environ[key]
    import acmpca
    import boto3

    moto, endpoint = start_moto()
    fixture, fixture_endpoint = start_fixture()
    try:
        ca_arn, cert_arn = make_certificate(acmpca, endpoint)
        cpu, wall = compare(acmpca, boto3, endpoint, ca_arn, cert_arn, args.calls)
        # The fixture server answers this ARN with a certificate at once.
        fixture_ca = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
        ka_cpu, _ = compare(acmpca, boto3, fixture_endpoint, fixture_ca,
                            fixture_ca + "/in-progress-0", args.calls)
        start = {name: start_time(name, endpoint, args.starts) for name in ("acmpca", "boto3")}
    finally:
        for proc in (moto, fixture):
            proc.kill()
            proc.wait()

    print("python_bench: %d get_certificate calls per client, moto at %s"
          % (args.calls, endpoint))
    print("%-40s %12s %12s %8s" % ("", "acmpca", "boto3", "ratio"))
    print("%-40s %10.1f us %10.1f us %7.1fx" % ("client CPU per get_certificate",
                                               cpu["acmpca"] * 1e6, cpu["boto3"] * 1e6,
                                               cpu["boto3"] / cpu["acmpca"]))
    print("%-40s %10.1f us %10.1f us %7.1fx" % ("  same, keep-alive server (fixture)",
                                               ka_cpu["acmpca"] * 1e6, ka_cpu["boto3"] * 1e6,
                                               ka_cpu["boto3"] / ka_cpu["acmpca"]))
    print("%-40s %10.1f us %10.1f us %7.1fx" % ("wall time per call (mostly moto)",
                                               wall["acmpca"] * 1e6, wall["boto3"] * 1e6,
                                               wall["boto3"] / wall["acmpca"]))
    print("%-40s %10.1f ms %10.1f ms %7.1fx" % ("import + client creation (median of %d)"
                                               % args.starts, start["acmpca"] * 1e3,
                                               start["boto3"] * 1e3,
                                               start["boto3"] / start["acmpca"]))
    print("targets: CPU per call >= 8x less, start-up >= 10x faster")


if __name__ == "__main__":
    main()
