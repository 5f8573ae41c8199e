import time; _T_MAIN = time.time()  # noqa: E702,E401  first: all before it is process start
"""The Python faces of the benchmark, one per BENCH_MODE, each printing the one JSON line
of bench/face.h (the protocol of bench/peers/build.sh):

  acmpca        acmpca.client, GetCertificate in a loop (BENCH_THREADS threads share it)
  boto3         boto3.client("acm-pca"), the same loop
  aio           acmpca.aio, one call awaited at a time
  aiobotocore   aiobotocore's client, one call awaited at a time
  sign-acmpca   acmpca.sign_request() of a GetCertificate request (no I/O)
  sign-botocore botocore's SigV4Auth.add_auth() of the same request (no I/O)

Credentials and region come from the environment (AWS_ACCESS_KEY_ID, ...). CPU is
resource.getrusage (user + system, every thread) over the timed loop; peak RSS is VmHWM.
"""
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

CA = os.environ.get("BENCH_CA_ARN") or \
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
CERT = os.environ.get("BENCH_CERT_ARN") or CA + "/certificate/0123456789abcdef"
BODY = json.dumps({"CertificateAuthorityArn": CA, "CertificateArn": CERT})
SIGN_URL = "https://acm-pca.us-east-1.amazonaws.com/"
SIGN_HEADERS = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "ACMPrivateCA.GetCertificate", "User-Agent": "acmpca-bench"}


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def vmhwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def count(name, default, minimum):
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < minimum:
        sys.exit("%s: expected an integer >= %d, got %r" % (name, minimum, value))
    return int(value)


def check(out):
    if not out["Certificate"].startswith("-----BEGIN CERTIFICATE-----"):
        raise SystemExit("GetCertificate: unexpected answer %r" % (out,))


def checked(get_certificate):
    """The loop over `n` GetCertificate calls, each answer checked inline and as cheaply
    as the C face checks it: a function call per call (a check(), a lambda), or
    str.startswith with its argument parsing, would count the harness's work as the
    client's."""
    def calls(n):
        for _ in range(n):
            out = get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT)
            if out["Certificate"][0] != "-":
                check(out)
    return calls


def repeated(call):
    """The loop over `n` calls of call()."""
    def calls(n):
        for _ in range(n):
            call()
    return calls


def loop(calls, count, warmup, threads=1):
    """The first call (timed), the warm-up, then `count` timed calls over `threads`;
    calls(n) makes n calls."""
    t = time.time()
    calls(1)
    first = time.time() - t
    calls(warmup - 1)
    cpu0, wall0 = cpu(), time.perf_counter()
    if threads == 1:
        calls(count)
    else:
        import threading
        errors = []

        def work(n):
            try:
                calls(n)
            except BaseException as e:  # reported after the join
                errors.append(e)
        pool = [threading.Thread(target=work, args=(count // threads + (i < count % threads),))
                for i in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        if errors:
            raise errors[0]
    return first, cpu() - cpu0, time.perf_counter() - wall0


def run_acmpca(endpoint):
    import acmpca
    c = acmpca.client("acm-pca", endpoint_url=endpoint)
    return acmpca.__version__, c, checked(c.get_certificate)


def run_boto3(endpoint):
    import boto3
    c = boto3.client("acm-pca", endpoint_url=endpoint)
    return boto3.__version__, c, checked(c.get_certificate)


def run_sign_acmpca(endpoint):
    import acmpca
    ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ["AWS_REGION"]

    def sign():
        acmpca.sign_request("POST", SIGN_URL, SIGN_HEADERS, BODY, region=region,
                            service="acm-pca", access_key=ak, secret_key=sk)
    return acmpca.__version__, None, repeated(sign)


def run_sign_botocore(endpoint):
    import botocore
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    region = os.environ["AWS_REGION"]

    def sign():
        req = AWSRequest(method="POST", url=SIGN_URL, data=BODY, headers=dict(SIGN_HEADERS))
        SigV4Auth(creds, "acm-pca", region).add_auth(req)
    return botocore.__version__, None, repeated(sign)


def run_async(mode, endpoint, calls, warmup):
    """acmpca.aio or aiobotocore: (version, t_import_client, first, cpu, wall)."""
    t = time.time()
    import asyncio
    if mode == "aio":
        import acmpca
        import acmpca.aio
        version = acmpca.__version__

        def make():
            return acmpca.aio.client("acm-pca", endpoint_url=endpoint)
    else:
        import aiobotocore
        import aiobotocore.session
        version = aiobotocore.__version__

        def make():
            return aiobotocore.session.get_session().create_client("acm-pca",
                                                                   endpoint_url=endpoint)

    async def main():
        async with make() as c:
            made = time.time() - t
            t1 = time.time()
            check(await c.get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT))
            first = time.time() - t1
            for _ in range(warmup - 1):
                check(await c.get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT))
            cpu0, wall0 = cpu(), time.perf_counter()
            for _ in range(calls):
                out = await c.get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT)
                if out["Certificate"][0] != "-":  # as checked() checks
                    check(out)
            return made, first, cpu() - cpu0, time.perf_counter() - wall0
    return (version,) + asyncio.run(main())


NAMES = {"acmpca": "acmpca Python", "boto3": "boto3", "aio": "acmpca.aio (asyncio)",
         "aiobotocore": "aiobotocore (asyncio)", "sign-acmpca": "sign: acmpca.sign_request",
         "sign-botocore": "sign: botocore SigV4Auth"}
RUNNERS = {"acmpca": run_acmpca, "boto3": run_boto3, "sign-acmpca": run_sign_acmpca,
           "sign-botocore": run_sign_botocore}


def main():
    t0 = os.environ.get("BENCH_T0")
    process_start = (_T_MAIN - int(t0) / 1e9) * 1e3 if t0 else None
    mode = os.environ.get("BENCH_MODE", "acmpca")
    if mode not in NAMES:
        sys.exit("BENCH_MODE: expected one of %s, got %r" % (", ".join(NAMES), mode))
    endpoint = os.environ.get("BENCH_ENDPOINT")
    if not endpoint and not mode.startswith("sign-"):
        sys.exit("BENCH_ENDPOINT: expected http://127.0.0.1:PORT, got nothing")
    calls = count("BENCH_CALLS", 1000, 1)
    warmup = count("BENCH_WARMUP", 100, 0)
    threads = count("BENCH_THREADS", 1, 1)
    if mode in ("aio", "aiobotocore"):
        version, made, first, cpu_s, wall_s = run_async(mode, endpoint, calls, warmup)
    else:
        t = time.time()
        version, client, call = RUNNERS[mode](endpoint)
        made = time.time() - t
        first, cpu_s, wall_s = loop(call, calls, warmup, threads)
    line = {"name": NAMES[mode], "version": version, "calls": calls,
            "cpu_us_per_call": cpu_s * 1e6 / calls, "wall_us_per_call": wall_s * 1e6 / calls,
            "vmhwm_kb": vmhwm_kb(), "t_process_start_ms": process_start,
            "t_import_client_ms": made * 1e3, "t_first_call_ms": first * 1e3,
            "threads": threads, "calls_per_s": calls / wall_s}
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
