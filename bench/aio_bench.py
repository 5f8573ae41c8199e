#!/usr/bin/env python3
"""acmpca.aio vs aiobotocore vs the blocking acmpca client in a thread pool, measured in
one run against the same local server.

    python3 -m pip install aiobotocore      # for the comparison only; best in a venv:
                                            # it pins its own botocore
    python3 bench/aio_bench.py [--calls N] [--starts N] [--concurrency 1,10,100,1000]

The server is tests/fixtures/canned_server.py, in a process of its own: every
GetCertificate gets the same answer over keep-alive connections, so the figures are
the clients' own work. For each concurrency C, N get_certificate calls run with C in
flight at once (asyncio.gather over a semaphore; a ThreadPoolExecutor of C workers for
the blocking client), all three clients with max_pool_connections = min(C, 100):

  CPU per call    time.process_time() of this process / N (every thread's)
  wall per call   time.perf_counter() / N

Start-up: `import` + client creation, each timed inside fresh interpreter subprocesses
(the median of --starts): cold (the import of asyncio itself included, the same for
both), and into a program that already runs asyncio.

Prints the figures and the ratios against acmpca.aio (other / acmpca.aio: above 1 is
acmpca.aio ahead). Nothing here decides whether a test passes; the issue's targets are
CPU per call >= 8x lower than aiobotocore's and import + client creation >= 10x faster.
Without aiobotocore its columns say "not installed". Only 127.0.0.1 is contacted.
"""
import argparse
import asyncio
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CANNED = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "canned_server.py")
REGION = "us-east-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"

# Timed from the start of the script (PRELOAD empty: a cold start, asyncio included), or
# from after `import asyncio` (what adding the client to an asyncio program costs).
START_AIO = """
import time, sys
%s
t = time.perf_counter()
import asyncio
import acmpca.aio
c = acmpca.aio.client("acm-pca", region_name="us-east-1", endpoint_url=sys.argv[1],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
print(time.perf_counter() - t)
"""

START_AIOBOTOCORE = """
import time, sys
%s
t = time.perf_counter()
import asyncio
import aiobotocore.session
async def main():
    s = aiobotocore.session.get_session()
    async with s.create_client("acm-pca", region_name="us-east-1", endpoint_url=sys.argv[1],
                               aws_access_key_id="testing",
                               aws_secret_access_key="testing") as c:
        return time.perf_counter() - t
print(asyncio.run(main()))
"""


def cert(i):
    return "%s/certificate/%08d" % (CA, i)


async def gather_bounded(call, n, concurrency):
    sem = asyncio.Semaphore(concurrency)

    async def one(i):
        async with sem:
            return await call(i)

    return await asyncio.gather(*(one(i) for i in range(n)))


def measure(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def bench_aio(endpoint, n, concurrency, pool):
    import acmpca
    import acmpca.aio

    async def main():
        async with acmpca.aio.client("acm-pca", region_name=REGION, endpoint_url=endpoint,
                                     config=acmpca.Config(max_pool_connections=pool),
                                     **CREDS) as pca:
            async def call(i):
                return await pca.get_certificate(CertificateAuthorityArn=CA,
                                                 CertificateArn=cert(i))
            await gather_bounded(call, min(n, 200), concurrency)  # warm-up
            cpu, wall = time.process_time(), time.perf_counter()
            await gather_bounded(call, n, concurrency)
            return time.process_time() - cpu, time.perf_counter() - wall

    return asyncio.run(main())


def bench_aiobotocore(endpoint, n, concurrency, pool):
    import aiobotocore.session
    from aiobotocore.config import AioConfig

    async def main():
        session = aiobotocore.session.get_session()
        async with session.create_client(
                "acm-pca", region_name=REGION, endpoint_url=endpoint,
                config=AioConfig(max_pool_connections=pool), **CREDS) as c:
            async def call(i):
                return await c.get_certificate(CertificateAuthorityArn=CA,
                                               CertificateArn=cert(i))
            await gather_bounded(call, min(n, 200), concurrency)
            cpu, wall = time.process_time(), time.perf_counter()
            await gather_bounded(call, n, concurrency)
            return time.process_time() - cpu, time.perf_counter() - wall

    return asyncio.run(main())


def bench_threads(endpoint, n, concurrency, pool):
    import acmpca

    workers = min(concurrency, 256)
    with acmpca.client("acm-pca", region_name=REGION, endpoint_url=endpoint,
                       config=acmpca.Config(max_pool_connections=pool), **CREDS) as c, \
            concurrent.futures.ThreadPoolExecutor(workers) as pool_:
        def call(i):
            return c.get_certificate(CertificateAuthorityArn=CA, CertificateArn=cert(i))
        list(pool_.map(call, range(min(n, 200))))
        return measure(lambda: list(pool_.map(call, range(n))))


def start_up(script, endpoint, starts):
    times = []
    for _ in range(starts):
        out = subprocess.run([sys.executable, "-c", script, endpoint], capture_output=True,
                             text=True, cwd=HERE)
        if out.returncode != 0:
            return None
        times.append(float(out.stdout.split()[-1]))
    return statistics.median(times)


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def fmt_us(x):
    return "%9.1f" % (x * 1e6) if x is not None else "        -"


def ratio(other, ours):
    return "%6.1fx" % (other / ours) if other and ours else "      -"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--concurrency", default="1,10,100,1000")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]

    server = subprocess.Popen([sys.executable, CANNED], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[0]
        endpoint = "http://127.0.0.1:%s" % port
        botocore = have("aiobotocore")
        print("acmpca.aio vs aiobotocore (%s) vs acmpca in a thread pool; %d calls per level"
              % ("installed" if botocore else "not installed", args.calls))
        print("%6s | %-29s | %-29s | %-29s | %s" % (
            "", "acmpca.aio  us/call", "aiobotocore  us/call", "acmpca + threads  us/call",
            "ratios (other / acmpca.aio)"))
        print("%6s | %9s %9s %9s | %9s %9s %9s | %9s %9s %9s | %s" % (
            "conc", "cpu", "wall", "", "cpu", "wall", "", "cpu", "wall", "",
            "botocore cpu, wall; threads cpu, wall"))
        for c in levels:
            pool = min(c, 100)
            n = max(args.calls, c)
            a = [x / n for x in bench_aio(endpoint, n, c, pool)]
            b = ([x / n for x in bench_aiobotocore(endpoint, n, c, pool)] if botocore
                 else [None, None])
            t = [x / n for x in bench_threads(endpoint, n, c, pool)]
            print("%6d | %s %s %9s | %s %s %9s | %s %s %9s | %s %s; %s %s" % (
                c, fmt_us(a[0]), fmt_us(a[1]), "", fmt_us(b[0]), fmt_us(b[1]), "",
                fmt_us(t[0]), fmt_us(t[1]), "", ratio(b[0], a[0]), ratio(b[1], a[1]),
                ratio(t[0], a[0]), ratio(t[1], a[1])))
        for label, preload in (("cold, asyncio included", ""),
                               ("into an asyncio program", "import asyncio")):
            ours = start_up(START_AIO % preload, endpoint, args.starts)
            theirs = (start_up(START_AIOBOTOCORE % preload, endpoint, args.starts)
                      if botocore else None)
            print("start-up, import + client (%s): acmpca.aio %.1f ms, aiobotocore %s: %s" % (
                label, ours * 1e3, "%.1f ms" % (theirs * 1e3) if theirs else "-",
                ratio(theirs, ours)))
    finally:
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    main()
