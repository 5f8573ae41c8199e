#!/usr/bin/env python3
"""acmpca vs boto3, measured in one run against the same local servers.

    python3 bench/python_bench.py [--calls N] [--rounds N] [--starts N]

1. Client CPU per get_certificate: time.process_time() of this process over N
   calls (the servers run in processes of their own, so only the client's work
   counts: argument conversion, signing, HTTP, parsing, result conversion),
   after a warm-up, for acmpca and for boto3, in alternating rounds (the
   median round is kept, so that drift in the machine hits both alike).
   The main figure is against tests/fixtures/fixture_server.py, which keeps
   connections alive as AWS does. moto closes the connection after every
   answer, so there each call also pays a TCP connect and, for boto3, a new
   urllib3 connection: that setup is more than half of acmpca's CPU there and
   a large part of boto3's, which hides what the clients themselves cost.
   Both are printed, with the share of moto's figure that is connection setup
   (moto minus keep-alive).
2. Start-up: `import` + client creation, each timed inside fresh interpreter
   subprocesses (the median of N), for acmpca and for boto3.

Both are printed with botocore compatibility off (a process that never
imports botocore: acmpca's default) and on (`import acmpca.boto3`, which
imports botocore.exceptions and makes acmpca's exception classes inherit
botocore's). acmpca's keep-alive CPU figures are measured in a subprocess of
their own for that reason (this process imports boto3).

Prints the figures and the ratios boto3 / acmpca. Nothing here decides
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

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
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
    "acmpca+compat": ("import acmpca, acmpca.boto3",
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
    if env.get("PYTHONPATH"):
        # The start-up runs happen in another directory: keep a relative path working.
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) if p else p
                                            for p in env["PYTHONPATH"].split(os.pathsep))
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
    script = os.path.join(SCRIPT_DIR, "..", "tests", "fixtures",
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


def per_call_alone(endpoint, ca_arn, cert_arn, calls, rounds, compat):
    """acmpca's CPU per call (median round) in a fresh interpreter: botocore never
    imported (compat off), or `import acmpca.boto3` first (compat on)."""
    code = ("import statistics, sys\n"
            "sys.path.insert(0, %r)\n"
            "import acmpca\n%s"
            "from python_bench import per_call\n"
            "c = acmpca.client(region_name='us-east-1', endpoint_url=sys.argv[1],\n"
            "                  aws_access_key_id='testing', aws_secret_access_key='testing')\n"
            "cpu = [per_call(c, sys.argv[2], sys.argv[3], int(sys.argv[4]))[0]\n"
            "       for _ in range(int(sys.argv[5]))]\n"
            "assert ('botocore' in sys.modules) == %r\n"
            "print(statistics.median(cpu))\n"
            % (SCRIPT_DIR, "import acmpca.boto3\n" if compat else "", compat))
    out = subprocess.run([sys.executable, "-c", code, endpoint, ca_arn, cert_arn, str(calls),
                          str(rounds)], capture_output=True, text=True, env=clean_env(),
                         check=True, cwd=SCRIPT_DIR)
    return float(out.stdout.strip())


def compare(acmpca, boto3, endpoint, ca_arn, cert_arn, calls, rounds):
    ours = acmpca.client(region_name=REGION, endpoint_url=endpoint, **CREDS)
    theirs = boto3.client("acm-pca", region_name=REGION, endpoint_url=endpoint, **CREDS)
    # Alternate, so that drift in the server or the machine hits both alike.
    results = {"acmpca": [], "boto3": []}
    for _ in range(rounds):
        results["acmpca"].append(per_call(ours, ca_arn, cert_arn, calls))
        results["boto3"].append(per_call(theirs, ca_arn, cert_arn, calls))
    ours.close()
    theirs.close()
    cpu = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
    wall = {k: statistics.median(r[1] for r in v) for k, v in results.items()}
    return cpu, wall


def start_time(name, endpoint, runs):
    imports, create = STARTS[name]
    code = START.format(imports=imports, create=create.format(ep=endpoint))
    times = []
    for _ in range(runs):
        # Not from the repository root, where `-c` would import the Lua binding's acmpca.so.
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=clean_env(), check=True, cwd=SCRIPT_DIR)
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1000, help="timed calls per client and round")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per server")
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
        # The fixture server answers this ARN with a certificate at once.
        fixture_ca = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
        ka_cpu, ka_wall = compare(acmpca, boto3, fixture_endpoint, fixture_ca,
                                  fixture_ca + "/in-progress-0", args.calls, args.rounds)
        alone = {compat: per_call_alone(fixture_endpoint, fixture_ca,
                                        fixture_ca + "/in-progress-0", args.calls, args.rounds,
                                        compat) for compat in (False, True)}
        ca_arn, cert_arn = make_certificate(acmpca, endpoint)
        cpu, wall = compare(acmpca, boto3, endpoint, ca_arn, cert_arn, args.calls, args.rounds)
        start = {name: start_time(name, endpoint, args.starts)
                 for name in ("acmpca", "acmpca+compat", "boto3")}
    finally:
        for proc in (moto, fixture):
            proc.kill()
            proc.wait()

    print("python_bench: get_certificate, %d calls per client and round, median of %d rounds;"
          % (args.calls, args.rounds))
    print("  keep-alive server (tests/fixtures/fixture_server.py) at %s, moto at %s"
          % (fixture_endpoint, endpoint))
    print("%-44s %12s %12s %8s" % ("", "acmpca", "boto3", "ratio"))

    def row(label, ours, theirs, unit="us", scale=1e6):
        print("%-44s %9.1f %s %9.1f %s %7.1fx" % (label, ours * scale, unit, theirs * scale, unit,
                                                theirs / ours))

    row("client CPU per call, keep-alive, compat off", alone[False], ka_cpu["boto3"])
    row("client CPU per call, keep-alive, compat on", alone[True], ka_cpu["boto3"])
    row("client CPU per call, keep-alive, in-process", ka_cpu["acmpca"], ka_cpu["boto3"])
    row("client CPU per call, moto (connect per call)", cpu["acmpca"], cpu["boto3"])
    print("%-44s %11.0f%% %11.0f%%" % ("  of which connection setup (moto - keep-alive)",
                                     100 * (1 - ka_cpu["acmpca"] / cpu["acmpca"]),
                                     100 * (1 - ka_cpu["boto3"] / cpu["boto3"])))
    row("wall time per call, keep-alive", ka_wall["acmpca"], ka_wall["boto3"])
    row("wall time per call, moto (mostly moto's)", wall["acmpca"], wall["boto3"])
    row("import + client, compat off (median of %d)" % args.starts, start["acmpca"],
        start["boto3"], "ms", 1e3)
    row("import + client, compat on (median of %d)" % args.starts, start["acmpca+compat"],
        start["boto3"], "ms", 1e3)
    print("targets: CPU per call >= 8x less, start-up >= 10x faster")


if __name__ == "__main__":
    main()
