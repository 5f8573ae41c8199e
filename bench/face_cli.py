"""The command-line face of the benchmark: one `acmpca call GetCertificate` process per
call (so each call pays a whole process start), BENCH_CALLS of them after BENCH_WARMUP,
printing the one JSON line of bench/face.h.

    ACMPCA_CLI=build/cli/acmpca BENCH_ENDPOINT=http://127.0.0.1:PORT python3 face_cli.py

CPU is RUSAGE_CHILDREN (user + system of the finished processes) over the timed runs;
peak RSS is the largest child's ru_maxrss (the children are spawned with vfork/exec,
so it is theirs, not this interpreter's). Cold-start fields: the first run's wall time
is t_first_call_ms; the others do not apply to a process per call (null).
"""
import json
import os
import resource
import subprocess
import sys
import time


def main():
    cli = os.environ.get("ACMPCA_CLI")
    endpoint = os.environ.get("BENCH_ENDPOINT")
    if not cli or not endpoint:
        sys.exit("face_cli.py: ACMPCA_CLI (the acmpca binary) and BENCH_ENDPOINT expected")
    calls = int(os.environ.get("BENCH_CALLS") or 20)
    warmup = int(os.environ.get("BENCH_WARMUP") or 2)
    ca = os.environ.get("BENCH_CA_ARN") or \
        "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
    cert = os.environ.get("BENCH_CERT_ARN") or ca + "/certificate/0123456789abcdef"
    cmd = [cli, "--endpoint-url", endpoint, "call", "GetCertificate",
           "--CertificateAuthorityArn", ca, "--CertificateArn", cert]

    def run():
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if out.returncode != 0 or "BEGIN CERTIFICATE" not in out.stdout:
            sys.exit("face_cli.py: %s exited %d: %s" % (cli, out.returncode, out.stderr[-500:]))

    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    for _ in range(warmup - 1):
        run()
    ru0, wall0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    for _ in range(calls):
        run()
    ru1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - wall0
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()
    print(json.dumps({
        "name": "acmpca CLI (a process per call)",
        "version": version[1] if len(version) > 1 else "?",
        "calls": calls, "cpu_us_per_call": cpu * 1e6 / calls,
        "wall_us_per_call": wall * 1e6 / calls, "vmhwm_kb": ru1.ru_maxrss,
        "t_process_start_ms": None, "t_import_client_ms": None,
        "t_first_call_ms": first * 1e3}), flush=True)


if __name__ == "__main__":
    main()
