"""acmpca.aio on its own terms: what only an asyncio client has (the connection pool,
cancellation, the loop never blocked, the idempotency token of an interrupted call),
the call machine it drives (acmpca._Machine, usable by any driver), and uvloop.

The blocking suite's cases (the CA flow on moto, errors, validation, waiters,
paginators, the fault matrix with its attempt counts, token reuse) run through
acmpca.aio in test_aio_shared.py.

Loopback only: moto, the fixture, fault and scripted servers of conftest.py, and
tests/fixtures/canned_server.py (a keep-alive endpoint in a process of its own).
"""
import asyncio
import contextlib
import gc
import http.client
import inspect
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from http.server import ThreadingHTTPServer

import pytest

import acmpca
import acmpca.aio
from _servers import free_port
from conftest import CREDS, FAKE_CA_ARN, REGION, ROOT, make_client
from recording_proxy import tunnel
from test_credentials import metadata, stats  # noqa: F401  (the metadata fixture)

CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfaultcsr\n-----END CERTIFICATE REQUEST-----\n"
ISSUE = {"CertificateAuthorityArn": CA, "Csr": CSR, "SigningAlgorithm": "SHA256WITHECDSA",
         "Validity": {"Value": 30, "Type": "DAYS"}}
CANNED = os.path.join(ROOT, "tests", "fixtures", "canned_server.py")


def aio_client(endpoint, **kwargs):
    args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
    args.update(kwargs)
    return acmpca.aio.client("acm-pca", **args)


def new_loop(flavour):
    if flavour == "uvloop":
        try:
            import uvloop
        except ImportError:
            pytest.skip("uvloop is not installed: only this test's uvloop variant is skipped; "
                        "its asyncio variant ran")
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main, flavour="asyncio", debug=True):
    """main() on a new loop (debug mode unless timing matters), then the loop closed."""
    loop = new_loop(flavour)
    loop.set_debug(debug)
    try:
        return loop.run_until_complete(main())
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


@contextlib.contextmanager
def no_resource_leak():
    """ResourceWarning as an error, and whatever __del__ reported (an unclosed
    transport, socket or loop) collected and failed on."""
    caught = []
    old = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            yield
            gc.collect()
    finally:
        sys.unraisablehook = old
    assert not caught, [str(u.exc_value) for u in caught]


def open_sockets():
    """How many sockets this process has open (Linux), or None."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    n = 0
    for fd in fds:
        try:
            n += os.readlink("/proc/self/fd/" + fd).startswith("socket:")
        except OSError:
            pass
    return n


class Canned:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, CANNED], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        port, control = self.proc.stdout.readline().split()
        self.endpoint = "http://127.0.0.1:%s" % port
        self.control = "http://127.0.0.1:%s" % control

    def _ask(self, method, path):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(self.control + path, method=method,
                                     data=b"" if method == "POST" else None)
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self):
        return self._ask("GET", "/stats")

    def reset(self):
        return self._ask("POST", "/reset")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def canned():
    server = Canned()
    yield server
    server.close()


def cert_arn(i, marker=""):
    return "%s/certificate/%s%06d" % (CA, marker, i)


# ---- the surface --------------------------------------------------------------------

def test_aio__every_operation_is_a_coroutine_method_like_the_blocking_one():
    ops = acmpca._acmpca._model()["operations"]
    assert len(ops) == 23
    for op in ops:
        method = getattr(acmpca.aio.Client, op["snake_name"])
        blocking = getattr(acmpca.Client, op["snake_name"])
        assert inspect.iscoroutinefunction(method), op["name"]
        assert method.__name__ == op["snake_name"]
        assert method.operation_name == blocking.operation_name == op["name"]
        assert blocking.__doc__.split("\n\n", 1)[1] in method.__doc__
    for name in ("request_certificate", "issue_and_wait", "close", "__aenter__", "__aexit__"):
        assert inspect.iscoroutinefunction(getattr(acmpca.aio.Client, name)), name
    assert inspect.iscoroutinefunction(acmpca.aio.Waiter.wait)
    assert inspect.iscoroutinefunction(acmpca.aio.PageIterator.build_full_result)
    assert acmpca.aio.__doc__ and "libcurl" in acmpca.aio.__doc__
    for name in acmpca.aio.__all__:
        assert getattr(acmpca.aio, name).__doc__, name


def test_aio__client_takes_the_blocking_arguments_and_closes(scripted):
    async def main():
        config = acmpca.Config(retries={"total_max_attempts": 1}, user_agent_extra="aio/1.0")
        pca = acmpca.aio.client("acm-pca", REGION, None, True, None, scripted.endpoint,
                                "testing", "testing", config=config)
        assert pca.meta.region_name == REGION and pca.meta.config.user_agent_extra == "aio/1.0"
        assert pca.exceptions is acmpca.client(region_name=REGION, **CREDS).exceptions
        assert pca.exceptions.ResourceNotFoundException is acmpca.ResourceNotFoundException
        assert repr(pca) == "<acmpca.aio.Client region='us-east-1' endpoint='%s'>" % (
            scripted.endpoint)
        assert pca.waiter_names == ["audit_report_created", "certificate_authority_csr_created",
                                    "certificate_issued"]
        async with pca as same:
            assert same is pca
            out = await pca.list_tags(CertificateAuthorityArn=CA)
            assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert scripted.requests[-1]["headers"]["user-agent"].endswith(" aio/1.0")
        assert pca.closed and repr(pca).endswith(" closed>")
        await pca.close()  # twice is fine
        with pytest.raises(acmpca.GeneralError, match="closed"):
            await pca.list_tags(CertificateAuthorityArn=CA)
        with pytest.raises(acmpca.GeneralError):
            await pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=CA,
                                                            CertificateArn=CA)
        with pytest.raises(acmpca.GeneralError):
            async for _ in pca.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA):
                pass
        with pytest.raises(acmpca.GeneralError):
            async with pca:
                pass
        with pytest.raises(ValueError):
            acmpca.aio.client("s3", region_name=REGION)
        with pytest.raises(acmpca.InvalidConfigError):
            acmpca.aio.Client(region_name=REGION, connect_timeout=-1)

    run(main)


def test_aio__pages_with_async_for(fixture_client, fixture_endpoint):
    ca = FAKE_CA_ARN % ("aio-pages-%d" % time.monotonic_ns())
    for i in range(5):
        fixture_client.create_permission(CertificateAuthorityArn=ca, Principal="p%d.example" % i,
                                         Actions=["GetCertificate"])

    async def main():
        async with aio_client(fixture_endpoint) as pca:
            pages = pca.get_paginator("list_permissions").paginate(
                CertificateAuthorityArn=ca, PaginationConfig={"PageSize": 2})
            seen = [[p["Principal"] for p in page["Permissions"]] async for page in pages]
            assert seen == [["p0.example", "p1.example"], ["p2.example", "p3.example"],
                            ["p4.example"]]
            # A second iteration starts over, as the blocking PageIterator's.
            assert len([page async for page in pages]) == 3
            full = await pca.get_paginator("list_permissions").paginate(
                CertificateAuthorityArn=ca, PaginationConfig={"MaxItems": 3}).build_full_result()
            assert len(full["Permissions"]) == 3 and full["NextToken"]

    run(main)


# ---- the call machine, for any driver -------------------------------------------------

def send_with_http_client(m, step):
    conn = http.client.HTTPConnection(step.host, step.port, timeout=step.read_timeout)
    try:
        conn.request(step.method, step.path, body=step.body, headers=dict(step.headers))
        r = conn.getresponse()
        m.response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


@pytest.mark.smoke
def test_aio__a_machine_is_driven_by_any_code(fault):
    """A driver in a few lines of blocking Python (http.client and time.sleep) gets the
    retries, back-off and result of the blocking client: the machine decides them."""
    fault.script([{"action": "service_unavailable"}, {"action": "ok"}])
    c = make_client(fault.endpoint)
    m = c._machine("describe_certificate_authority", CertificateAuthorityArn=CA)
    assert repr(m) == "<acmpca._Machine call DescribeCertificateAuthority>"
    assert m.idempotency_token is None  # DescribeCertificateAuthority has none
    kinds = []
    while True:
        step = m.next()
        kinds.append(step.kind)
        if step.kind == "send":
            assert step.method == "POST" and step.url == fault.endpoint + "/"
            assert (step.scheme, step.host, step.path) == ("http", "127.0.0.1", "/")
            assert step.head.startswith(b"POST / HTTP/1.1\r\n")
            assert b"\r\nContent-Length: %d\r\n" % len(step.body) in step.head
            assert ("X-Amz-Target", "ACMPrivateCA.DescribeCertificateAuthority") in step.headers
            assert step.verify is True and step.ca_bundle is None and step.deadline is None
            assert step.credentials is False and step.sleep is None
            send_with_http_client(m, step)
        elif step.kind == "sleep":
            assert step.reason == "backoff" and step.attempt == 1 and 0 < step.sleep < 1
            time.sleep(step.sleep)
        else:
            break
    assert kinds == ["send", "sleep", "send", "done"]
    out = m.result()
    assert out["CertificateAuthority"]["Arn"] == CA
    assert out["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(fault.received()) == 2
    # Misuse is an error, never a crash.
    with pytest.raises(acmpca.Error, match="no SEND step is waiting"):
        m.response(200, [], b"{}")
    with pytest.raises(ValueError, match="unknown kind"):
        m.transport_error("gremlins")
    m.close()
    m.close()
    assert m.closed
    with pytest.raises(acmpca.GeneralError, match="closed"):
        m.next()
    c.close()


def test_aio__a_machine_validates_before_any_step_and_holds_its_client(fault):
    fault.script([])
    c = make_client(fault.endpoint, retries={"total_max_attempts": 1})
    with pytest.raises(acmpca.ParamValidationError, match="Csr: expected a string or bytes, got number"):
        c._machine("issue_certificate", **dict(ISSUE, Csr=1))
    with pytest.raises(TypeError, match="only accepts keyword arguments"):
        c._machine("get_policy", "positional")
    with pytest.raises(ValueError, match="unknown operation"):
        c._machine("no_such_operation")
    assert fault.received() == []
    m = c._machine("issue_certificate", **ISSUE)
    w = c.get_waiter("certificate_issued")._machine(CertificateAuthorityArn=CA,
                                                    CertificateArn=CA + "/certificate/x")
    assert repr(w) == "<acmpca._Machine waiter GetCertificate>"
    # Closing the client lets the machines it made finish; new ones are refused.
    c.close()
    with pytest.raises(acmpca.GeneralError, match="closed"):
        c._machine("list_tags", CertificateAuthorityArn=CA)
    step = m.next()
    token = m.idempotency_token
    assert token and json.loads(step.body)["IdempotencyToken"] == token
    m.transport_error("connect", 0, "refused by the test")
    assert m.next().kind == "failed"
    with pytest.raises(acmpca.EndpointConnectionError, match="refused by the test") as info:
        m.result()
    assert info.value.operation_name == "IssueCertificate" and info.value.attempts == 1
    del m, w
    gc.collect()


def test_aio__a_page_iterator_is_busy_while_a_page_machine_lives(fixture_endpoint):
    c = make_client(fixture_endpoint)
    pages = c.get_paginator("list_permissions").paginate(
        CertificateAuthorityArn=FAKE_CA_ARN % ("busy-%d" % time.monotonic_ns()))
    m = pages._machine()
    with pytest.raises(RuntimeError, match="in use"):
        pages._machine()
    with pytest.raises(RuntimeError, match="in use"):
        list(pages)
    m.close()
    assert [page["Permissions"] for page in pages] == [[]]
    c.close()


# ---- the pool ---------------------------------------------------------------------------

def test_aio__keep_alive_connections_are_reused(canned):
    canned.reset()

    async def main():
        async with aio_client(canned.endpoint) as pca:
            for i in range(20):
                out = await pca.get_certificate(CertificateAuthorityArn=CA,
                                                CertificateArn=cert_arn(i))
                assert "MIIBcanned" in out["Certificate"]

    run(main)
    s = canned.stats()
    assert s["requests"] == 20 and s["accepted"] == 1


def test_aio__a_pooled_connection_the_server_dropped_is_not_an_attempt(canned):
    """A keep-alive connection the server closes just as it is reused (its idle timeout)
    costs no attempt: the request goes again on a new connection, as libcurl does."""
    canned.reset()

    async def main():
        async with aio_client(canned.endpoint, retries={"total_max_attempts": 1}) as pca:
            await pca.get_certificate(CertificateAuthorityArn=CA, CertificateArn=cert_arn(1))
            return await pca.get_certificate(CertificateAuthorityArn=CA,
                                             CertificateArn=cert_arn(2, "canned:drop-reused"))

    out = run(main)
    assert out["ResponseMetadata"]["RetryAttempts"] == 0
    s = canned.stats()
    assert (s["requests"], s["dropped"], s["accepted"]) == (3, 1, 2)


@pytest.mark.parametrize("flavour", ["asyncio", "uvloop"])
def test_aio__1000_concurrent_calls_use_at_most_the_pool_and_never_stall_the_loop(canned,
                                                                                  flavour):
    """1,000 get_certificate calls at once from one loop: at most max_pool_connections
    sockets to the server, and a 10 ms ticker on the same loop keeps ticking while they
    run: never late by more than a quarter of the whole run (a client that blocked the
    loop would hold the ticker for all of it; relative, so a busy machine cannot fail it)."""
    canned.reset()
    late = []
    elapsed = []

    async def main():
        loop = asyncio.get_running_loop()
        pca = aio_client(canned.endpoint, config=acmpca.Config(max_pool_connections=10))
        done = False

        async def ticker():
            while not done:
                t = loop.time()
                await asyncio.sleep(0.01)
                late.append(loop.time() - t - 0.01)

        tick = asyncio.ensure_future(ticker())
        await asyncio.sleep(0.05)
        start = loop.time()
        results = await asyncio.gather(*(
            pca.get_certificate(CertificateAuthorityArn=CA, CertificateArn=cert_arn(i))
            for i in range(1000)))
        elapsed.append(loop.time() - start)
        done = True
        await tick
        await pca.close()
        return results

    results = run(main, flavour, debug=False)
    assert len(results) == 1000
    assert all("MIIBcanned" in r["Certificate"] for r in results)
    s = canned.stats()
    assert s["requests"] == 1000
    assert s["max_open"] <= 10 and s["accepted"] <= 10, s
    assert len(late) >= 5
    print("ticker: %d ticks, at most %.1f ms late in a %.0f ms run"
          % (len(late), max(late) * 1000, elapsed[0] * 1000))
    assert max(late) <= elapsed[0] / 4, "the ticker was %.1f ms late in a %.0f ms run" % (
        max(late) * 1000, elapsed[0] * 1000)


# ---- cancellation --------------------------------------------------------------------------

def wait_until(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("flavour", ["asyncio", "uvloop"])
def test_aio__cancelling_100_calls_in_flight_leaves_no_socket_and_no_callback(canned, flavour):
    canned.reset()
    before = open_sockets()

    async def main():
        loop = asyncio.get_running_loop()
        pca = aio_client(canned.endpoint, config=acmpca.Config(max_pool_connections=100))
        tasks = [asyncio.ensure_future(pca.get_certificate(
            CertificateAuthorityArn=CA, CertificateArn=cert_arn(i, "canned:stall")))
            for i in range(100)]
        end = loop.time() + 10
        while canned.stats()["stalled"] < 100:
            assert loop.time() < end, canned.stats()
            await asyncio.sleep(0.02)
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        for _ in range(3):
            await asyncio.sleep(0)  # connection_lost runs on the next iterations
        assert asyncio.all_tasks() == {asyncio.current_task()}
        # No timer or callback of the driver is left behind (the default loop shows them).
        if hasattr(loop, "_scheduled"):
            assert [h for h in loop._scheduled if not h.cancelled()] == []
            assert len(loop._ready) == 0
        await pca.close()

    with no_resource_leak():
        run(main, flavour)
    wait_until(lambda: canned.stats()["open"] == 0)
    if before is not None:
        assert open_sockets() <= before


def test_aio__a_cancelled_issuance_exposes_its_idempotency_token(fault):
    """Cancelled mid-request, IssueCertificate raises CancelledError carrying the
    IdempotencyToken it sent; calling again with it cannot issue a second certificate."""
    fault.script([{"action": "stall", "seconds": 30, "repeat": 2}, {"action": "ok"}])
    seen = []

    async def issue(pca):
        try:
            return await pca.issue_certificate(**ISSUE)
        except asyncio.CancelledError as e:
            seen.append(e.idempotency_token)
            raise

    async def main():
        async with aio_client(fault.endpoint) as pca:
            task = asyncio.ensure_future(issue(pca))
            while not fault.received():
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            # asyncio re-raises a CancelledError of its own: the call's is its context.
            assert acmpca.aio.idempotency_token(info.value) == seen[0]
            # Through asyncio.wait_for, the TimeoutError leads to it the same way (from
            # Python 3.11, whose wait_for chains the task's CancelledError).
            with pytest.raises(asyncio.TimeoutError) as info:
                await asyncio.wait_for(pca.issue_certificate(**ISSUE), 0.3)
            if sys.version_info >= (3, 11):
                second = acmpca.aio.idempotency_token(info.value)
                assert second and second != seen[0]
            return await pca.issue_certificate(IdempotencyToken=seen[0], **ISSUE)

    out = run(main)
    sent = [r["body"]["IdempotencyToken"] for r in fault.received()]
    assert sent[0] == seen[0] and sent[2] == seen[0]
    assert fault.issuances()["tokens"] == {seen[0]: 1}
    assert out["CertificateArn"].endswith("/certificate/" + __import__("hashlib").sha256(
        seen[0].encode()).hexdigest()[:32])


DESCRIBED = {"action": "ok", "body": {"CertificateAuthority": {
    "CertificateAuthorityConfiguration": {"SigningAlgorithm": "SHA384WITHECDSA"}}}}


def test_aio__request_certificate_is_the_cores_machine(fault):
    """request_certificate() runs the core's machine on the loop: the CA's algorithm, one
    token for the retried issuance, the waiter's polls; a cancelled wait carries the
    token of the issuance it waits for."""
    fault.script([DESCRIBED, {"action": "throttle"}, {"action": "ok"},
                  {"action": "error", "code": "RequestInProgressException"}, {"action": "ok"}])

    async def main():
        async with aio_client(fault.endpoint) as pca:
            return await pca.request_certificate(CA, common_name="aio.example.test",
                                                 wait_delay=0.01)

    out = run(main)
    sent = fault.received()
    assert [r["operation"] for r in sent] == [
        "DescribeCertificateAuthority", "IssueCertificate", "IssueCertificate",
        "GetCertificate", "GetCertificate"]
    assert sent[1]["body"]["SigningAlgorithm"] == "SHA384WITHECDSA"
    token = sent[1]["body"]["IdempotencyToken"]
    assert sent[2]["body"]["IdempotencyToken"] == token
    assert fault.issuances()["tokens"] == {token: 1}
    assert out["CertificateArn"] == sent[3]["body"]["CertificateArn"]
    assert out["Certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert out["PrivateKey"].startswith("-----BEGIN PRIVATE KEY-----")
    assert out["Csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "ResponseMetadata" not in out

    fault.script([DESCRIBED, {"action": "ok"}, {"action": "stall", "seconds": 30}])

    async def cancelled():
        async with aio_client(fault.endpoint) as pca:
            task = asyncio.ensure_future(pca.request_certificate(CA, common_name="x.test"))
            while len(fault.received()) < 3:
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            return acmpca.aio.idempotency_token(info.value)

    assert run(cancelled) == fault.received()[1]["body"]["IdempotencyToken"]

    # Bad arguments: refused before any request, as the blocking method refuses them.
    fault.script([])

    async def bad():
        async with aio_client(fault.endpoint) as pca:
            with pytest.raises(acmpca.ParamValidationError, match="validity_days"):
                await pca.request_certificate(CA, validity_days=0)
            with pytest.raises(acmpca.ParamValidationError, match="TemplateArn"):
                await pca.request_certificate(CA, common_name="x.test", template_arn="bad")

    run(bad)
    assert fault.received() == []


def test_aio__an_error_carries_the_idempotency_token_too(fault):
    fault.script([{"action": "issue_then_drop", "repeat": 2}])

    async def main():
        async with aio_client(fault.endpoint, retries={"total_max_attempts": 2}) as pca:
            with pytest.raises(acmpca.ConnectionClosedError) as info:
                await pca.issue_certificate(**ISSUE)
            return info.value

    e = run(main)
    assert e.attempts == 2
    assert e.idempotency_token == fault.received()[0]["body"]["IdempotencyToken"]
    assert fault.issuances()["tokens"] == {e.idempotency_token: 2}


def test_aio__a_waiter_pause_ends_when_the_task_is_cancelled(fixture_endpoint):
    ca = FAKE_CA_ARN % ("aio-cancel-%d" % time.monotonic_ns())

    async def main():
        async with aio_client(fixture_endpoint) as pca:
            wait = asyncio.ensure_future(pca.get_waiter("certificate_issued").wait(
                CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-99",
                WaiterConfig={"Delay": 30, "MaxAttempts": 5}))
            await asyncio.sleep(0.3)
            start = time.monotonic()
            wait.cancel()
            with pytest.raises(asyncio.CancelledError):
                await wait
            assert time.monotonic() - start < 0.5
            # The client goes on working.
            out = await pca.list_permissions(CertificateAuthorityArn=ca)
            assert out["Permissions"] == []

    t = time.monotonic()
    with no_resource_leak():
        run(main)
    assert time.monotonic() - t < 5


# ---- credentials ---------------------------------------------------------------------------

def test_aio__instance_metadata_credentials_are_fetched_without_blocking_the_loop(
        monkeypatch, metadata, scripted):  # noqa: F811
    """IMDSv2's three exchanges, each answered 150 ms late, are steps of the call: the
    loop keeps running (a 10 ms ticker goes on), and the call is signed with them."""
    spec = "imds/delay=150,aio-%d" % time.monotonic_ns()
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/" + spec)
    ticks = []

    async def main():
        loop = asyncio.get_running_loop()
        pca = acmpca.aio.client(region_name=REGION, endpoint_url=scripted.endpoint)
        done = False

        async def ticker():
            while not done:
                ticks.append(loop.time())
                await asyncio.sleep(0.01)

        tick = asyncio.ensure_future(ticker())
        out = await pca.list_tags(CertificateAuthorityArn=CA)
        done = True
        await tick
        await pca.close()
        return out

    out = run(main)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(ticks) >= 20  # about 45 over the 450 ms the credentials took
    s = stats(metadata, spec)
    assert s["calls"] == 1 and s["token_calls"] == 1
    assert scripted.requests[-1]["headers"].get("x-amz-security-token")


def test_aio__concurrent_calls_on_a_cold_client_fetch_credentials_once(
        monkeypatch, metadata, scripted):  # noqa: F811
    """50 calls at once on a client with no credentials yet: the core lets one of them
    fetch (token, role, credentials) while the others sleep, then all sign with them."""
    spec = "imds/delay=20,aio-many-%d" % time.monotonic_ns()
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/" + spec)

    async def main():
        async with acmpca.aio.client(region_name=REGION, endpoint_url=scripted.endpoint) as pca:
            return await asyncio.gather(*(pca.list_tags(CertificateAuthorityArn=CA)
                                          for _ in range(50)))

    outs = run(main)
    assert [o["ResponseMetadata"]["HTTPStatusCode"] for o in outs] == [200] * 50
    s = stats(metadata, spec)
    assert (s["token_calls"], s["calls"]) == (1, 1)
    assert all(r["headers"].get("x-amz-security-token") == "TOKENASIAIMDS1"
               for r in scripted.requests[-50:])


def test_aio__cancelled_call_hands_its_credentials_fetch_over(
        monkeypatch, metadata, scripted):  # noqa: F811
    """The call fetching credentials is cancelled mid-fetch: a call waiting for that
    fetch takes it over instead of waiting forever."""
    spec = "imds/delay=300,aio-cancel-%d" % time.monotonic_ns()
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/" + spec)

    async def main():
        async with acmpca.aio.client(region_name=REGION, endpoint_url=scripted.endpoint) as pca:
            owner = asyncio.ensure_future(pca.list_tags(CertificateAuthorityArn=CA))
            await asyncio.sleep(0.1)  # the owner waits for its token
            other = asyncio.ensure_future(pca.list_tags(CertificateAuthorityArn=CA))
            await asyncio.sleep(0.05)
            owner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await owner
            return await asyncio.wait_for(other, 30)

    out = run(main)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert stats(metadata, spec)["calls"] == 1  # the credentials, fetched by the other call


# ---- uvloop: the same driver on another loop ----------------------------------------------------

@pytest.mark.parametrize("flavour", ["asyncio", "uvloop"])
def test_aio__retries_tls_and_timeouts_on_each_loop(fault, flavour):
    async def main():
        async with aio_client(fault.endpoint, retries={"total_max_attempts": 3}) as pca:
            fault.script([{"action": "throttle", "repeat": 2}, {"action": "ok"}])
            out = await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["ResponseMetadata"]["RetryAttempts"] == 2
            fault.script([{"action": "stall", "seconds": 20, "repeat": 3}])
        async with aio_client(fault.endpoint, read_timeout=0.2,
                              retries={"total_max_attempts": 2}) as pca:
            with pytest.raises(acmpca.ReadTimeoutError) as info:
                await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert info.value.attempts == 2
        async with aio_client(fault.tls_endpoint, verify=fault.ca_path) as pca:
            fault.script([])
            out = await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["CertificateAuthority"]["Arn"] == CA
        async with aio_client(fault.tls_endpoint) as pca:
            with pytest.raises(acmpca.SSLError, match="certificate verify failed"):
                await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
        async with aio_client(fault.tls_endpoint, verify=False) as pca:
            out = await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["CertificateAuthority"]["Arn"] == CA
        fault.script([{"action": "big_body", "size": 5000, "chunked": True}])
        async with aio_client(fault.endpoint) as pca:
            out = await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["ResponseMetadata"]["HTTPStatusCode"] == 200

    with no_resource_leak():
        run(main, flavour)


# ---- proxies -----------------------------------------------------------------------------------

class TunnelProxy:
    """A loopback HTTP proxy that serves CONNECT by tunnelling to the target (which must
    be on loopback) and refuses anything else, recording each request line."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.lines = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode()
            self.lines.append(line)
            method, target = line.split()[:2]
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or host != "127.0.0.1":
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection((host, int(port))) as up:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                tunnel(conn, up)

    def close(self):
        self.sock.close()


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                 "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_aio__https_goes_through_the_proxy_by_connect(fault, no_proxy_settings):
    proxy = TunnelProxy()
    no_proxy_settings.setenv("HTTPS_PROXY", proxy.url)
    fault.script([])

    async def main():
        async with aio_client(fault.tls_endpoint, verify=fault.ca_path) as pca:
            out = await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["CertificateAuthority"]["Arn"] == CA
        no_proxy_settings.setenv("NO_PROXY", "localhost, .example.com,127.0.0.0/8")
        async with aio_client(fault.tls_endpoint, verify=fault.ca_path) as pca:
            await pca.describe_certificate_authority(CertificateAuthorityArn=CA)
        no_proxy_settings.setenv("NO_PROXY", "")
        no_proxy_settings.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % free_port())
        async with aio_client(fault.tls_endpoint, verify=fault.ca_path,
                              retries={"total_max_attempts": 1}) as pca:
            with pytest.raises(acmpca.EndpointConnectionError, match="could not connect to "
                               "proxy http://127.0.0.1:"):
                await pca.describe_certificate_authority(CertificateAuthorityArn=CA)

    try:
        with no_resource_leak():
            run(main)
    finally:
        proxy.close()
    port = fault.tls_endpoint.rsplit(":", 1)[1]
    # The first call went through the tunnel, the second (NO_PROXY) straight.
    assert proxy.lines == ["CONNECT 127.0.0.1:%s HTTP/1.1" % port]
    assert len(fault.received()) == 2


def test_aio__http_goes_through_the_proxy_as_an_absolute_url(no_proxy_settings):
    import recording_proxy

    server = ThreadingHTTPServer(("127.0.0.1", 0), recording_proxy.Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    no_proxy_settings.setenv("http_proxy", "http://user:p%%40ss@127.0.0.1:%d"
                             % server.server_address[1])

    async def main():
        # A name that resolves nowhere: only the proxy is ever contacted.
        async with aio_client("http://acm-pca.proxied.test:8080") as pca:
            await pca.list_tags(CertificateAuthorityArn=CA)

    try:
        run(main)
    finally:
        server.shutdown()
        server.server_close()
    [seen] = server.seen
    assert seen["line"] == "POST http://acm-pca.proxied.test:8080/ HTTP/1.1"
    assert seen["host"] == "acm-pca.proxied.test:8080"
    assert seen["headers"]["proxy-authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert seen["headers"]["x-amz-target"] == "ACMPrivateCA.ListTags"


def test_aio__metadata_credentials_never_go_through_a_proxy(no_proxy_settings, metadata,
                                                            scripted):  # noqa: F811
    """The instance metadata exchanges go straight to the endpoint even with every proxy
    variable set and the endpoint not in NO_PROXY: a proxy would see the session token and
    could answer with credentials of its choice."""
    import recording_proxy

    server = ThreadingHTTPServer(("127.0.0.1", 0), recording_proxy.Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = "http://127.0.0.1:%d" % server.server_address[1]
    for name in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        no_proxy_settings.setenv(name, proxy)
    # The ACM PCA endpoint (127.0.0.1) straight; the metadata one ("localhost") is not listed.
    no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")
    spec = "imds/aio-proxy-%d" % time.monotonic_ns()
    no_proxy_settings.setenv("AWS_EC2_METADATA_DISABLED", "false")
    no_proxy_settings.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT",
                             metadata.replace("127.0.0.1", "localhost") + "/" + spec)

    async def main():
        async with acmpca.aio.client(region_name=REGION, endpoint_url=scripted.endpoint) as pca:
            return await pca.list_tags(CertificateAuthorityArn=CA)

    try:
        out = run(main)
    finally:
        server.shutdown()
        server.server_close()
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert server.seen == []
    assert stats(metadata, spec)["calls"] == 1
    token = scripted.requests[-1]["headers"]["x-amz-security-token"]
    assert token.startswith("TOKEN") and token != "TOKENFROMPROXY"


# ---- HTTP/1.1 framing ------------------------------------------------------------------------------

class RawServer:
    """Answers the Nth connection's request with answers[N], byte for byte, then closes."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.endpoint = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        for answer in self.answers:
            conn, _ = self.sock.accept()
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(65536)
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = head.split(b"\r\n\r\n", 1)[1]
                while len(body) < length:
                    body += conn.recv(65536)
                for piece in answer:  # sent apart, to split the answer across reads
                    conn.sendall(piece)
                    time.sleep(0.01)
        self.sock.close()


def test_aio__answers_are_read_in_every_http_1_1_framing():
    doc = json.dumps({"Certificate": "C", "CertificateChain": "CHAIN"}).encode()
    json_type = b"Content-Type: application/x-amz-json-1.1\r\n"
    server = RawServer([
        # An interim 100 Continue, then a Content-Length answer.
        [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\r\n" + json_type +
         b"x-amzn-RequestId: r1\r\nContent-Length: %d\r\n\r\n" % len(doc) + doc],
        # Chunked, with a chunk extension and a trailer, cut at awkward places.
        [b"HTTP/1.1 200 OK\r\n" + json_type + b"x-amzn-RequestId: r2\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\n" + doc[:5] + b"\r\n",
         b"%x\r\n" % (len(doc) - 5) + doc[5:12], doc[12:] + b"\r\n0\r\nX-Trailer: t\r\n", b"\r\n"],
        # HTTP/1.0 with neither length nor chunks: the body ends with the connection.
        [b"HTTP/1.0 200 OK\r\n" + json_type + b"x-amzn-RequestId: r3\r\n\r\n", doc],
    ])

    async def main():
        async with aio_client(server.endpoint, retries={"total_max_attempts": 1}) as pca:
            return [await pca.get_certificate(CertificateAuthorityArn=CA,
                                              CertificateArn=cert_arn(i)) for i in range(3)]

    with no_resource_leak():
        results = run(main)
    for i, out in enumerate(results, 1):
        assert (out["Certificate"], out["CertificateChain"]) == ("C", "CHAIN")
        assert out["ResponseMetadata"]["RequestId"] == "r%d" % i
