"""client.meta.events on acmpca.aio: what only the asyncio client has. Handlers may be
coroutines (awaited, as aiobotocore does), and a client without handlers pays nothing
for the events: no Python-level call of the events path happens on a call.

The blocking client's event cases (names, arguments, signed headers, short-circuits,
retries, after-call) run through acmpca.aio in test_aio_shared.py.
"""
import asyncio
import os
import sys

import pytest

import acmpca
import acmpca._events
import acmpca.aio
from conftest import CREDS, FAKE_CA_ARN, REGION

CA = FAKE_CA_ARN % "11111111-2222-3333-4444-555555555555"


def aio_client(endpoint, **kwargs):
    args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
    args.update(kwargs)
    return acmpca.aio.client("acm-pca", **args)


def run(main):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def test_aio_events__coroutine_handlers_are_awaited(scripted):
    """A coroutine handler's work is done before the call goes on: its header is signed,
    its answer short-circuits the call, and it sees every retry and the result."""
    seen = []

    async def sign(request, **kwargs):
        await asyncio.sleep(0)
        request.headers["X-Trace-Id"] = "async-trace"

    async def retry(attempts, response, **kwargs):
        await asyncio.sleep(0)
        seen.append(("retry", attempts, response[0].status_code))

    async def after(http_response, parsed, **kwargs):
        await asyncio.sleep(0)
        seen.append(("after", http_response.status_code, sorted(parsed)))

    async def answer(**kwargs):
        await asyncio.sleep(0)
        return acmpca._events.AWSResponse(None, 200, {}), {"Policy": "from a coroutine"}

    async def main():
        async with aio_client(scripted.endpoint, config=acmpca.Config(
                retries={"total_max_attempts": 2, "mode": "standard"})) as pca:
            pca.meta.events.register("before-sign.acm-pca.ListTags", sign)
            pca.meta.events.register("needs-retry", retry)
            pca.meta.events.register("after-call", after)
            scripted.clear()
            await pca.list_tags(CertificateAuthorityArn=CA)
            (sent,) = scripted.requests
            assert sent["refused"] is None  # the server checked the signature
            assert sent["headers"]["x-trace-id"] == "async-trace"
            assert "x-trace-id" in sent["headers"]["authorization"]
            with pytest.raises(acmpca.ClientError):
                await pca.get_policy(ResourceArn=CA + "acmpca-test:status:503")
            pca.meta.events.register("before-call.acm-pca.GetPolicy", answer)
            scripted.clear()
            out = await pca.get_policy(ResourceArn=CA)
            assert scripted.requests == [] and out["Policy"] == "from a coroutine"
    run(main)
    # needs-retry follows every answer, the last one too, as botocore's
    assert seen == [("retry", 1, 200), ("after", 200, ["ResponseMetadata"]),
                    ("retry", 1, 503), ("retry", 2, 503),
                    ("after", 503, ["Error", "ResponseMetadata"]), ("after", 200, ["Policy"])]


def test_aio_events__handlers_are_the_clients_own(scripted):
    """Registering on one acmpca.aio client moves neither another client nor the blocking
    clients off the plain path; unregistering the last handler moves this one back."""
    calls = []

    def handler(**kwargs):
        calls.append(1)

    async def main():
        async with aio_client(scripted.endpoint) as a, aio_client(scripted.endpoint) as b:
            a.meta.events.register("before-call", handler)
            await a.list_tags(CertificateAuthorityArn=CA)
            await b.list_tags(CertificateAuthorityArn=CA)
            a.meta.events.unregister("before-call", handler)
            await a.list_tags(CertificateAuthorityArn=CA)
    run(main)
    assert calls == [1]


def _python_calls(pca, call):
    """The Python functions that run during one call (after a first call has opened the
    connection), as (file, name): counted with sys.setprofile, not timed."""
    codes = []

    def profile(frame, event, arg):
        if event == "call":
            codes.append((os.path.basename(frame.f_code.co_filename), frame.f_code.co_name))

    async def main():
        await call(pca)
        sys.setprofile(profile)
        try:
            await call(pca)
        finally:
            sys.setprofile(None)
        await pca.close()
    run(main)
    return codes


def test_aio_events__a_client_without_handlers_runs_no_event_code(scripted):
    """Zero cost: with no handler registered (never, or no longer), a call runs not one
    Python function of the events path, and no function a fresh client's call does not."""
    async def call(pca):
        await pca.list_tags(CertificateAuthorityArn=CA)

    fresh = _python_calls(aio_client(scripted.endpoint), call)
    unhooked = aio_client(scripted.endpoint)
    handler = lambda **kwargs: None  # noqa: E731
    unhooked.meta.events.register("before-sign", handler)
    unhooked.meta.events.register("after-call", handler)
    unhooked.meta.events.unregister("before-sign", handler)
    unhooked.meta.events.unregister("after-call", handler)
    after = _python_calls(unhooked, call)
    hooked = aio_client(scripted.endpoint)
    hooked.meta.events.register("after-call", handler)
    with_handler = _python_calls(hooked, call)

    def events_code(codes):
        return [c for c in codes if c[0] == "_events.py" or c[1] in (
            "_call_with_events", "before_sign", "before_send", "after_attempt", "end")]
    assert events_code(with_handler)  # the counter sees the events path when it runs
    assert events_code(fresh) == events_code(after) == []
    assert set(after) <= set(fresh)


def test_aio_events__blocking_client_without_handlers_runs_no_python(scripted):
    """The blocking client's calls without handlers (never registered, or all removed)
    run no Python function but logging's "is DEBUG on?" (pytest loads logging): the C
    path."""
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, **CREDS)
    handler = lambda **kwargs: None  # noqa: E731
    codes = []

    def profile(frame, event, arg):
        if event == "call" and "logging" not in frame.f_code.co_filename:
            codes.append(frame.f_code.co_name)

    for registered in (False, True):
        if registered:
            c.meta.events.register("before-send", handler)
            c.meta.events.unregister("before-send", handler)
        c.list_tags(CertificateAuthorityArn=CA)
        sys.setprofile(profile)
        try:
            c.list_tags(CertificateAuthorityArn=CA)
        finally:
            sys.setprofile(None)
        assert codes == [], registered
    c.meta.events.register("before-send", handler)
    sys.setprofile(profile)
    try:
        c.list_tags(CertificateAuthorityArn=CA)
    finally:
        sys.setprofile(None)
    assert "_api_call" in codes  # the counter sees the events path when it runs
