"""The blocking suite's behavioural cases, run again through acmpca.aio.

The cases are shared, not copied: the test functions of the blocking suite's modules
are collected here a second time, with make_client() and acmpca.client() (and the
client / fixture_client / scripted_client fixtures) handing out a blocking face over an
acmpca.aio client instead. That face does nothing but run each coroutine to its end on
an event loop of its own (`loop.run_until_complete(pca.describe_certificate_authority(...))`,
`async for` for pages), so every request of these cases goes through the asyncio
driver and the call machine, and every assertion (results, exception classes and
attributes, attempt counts, what the servers received) holds for acmpca.aio as it is
written for acmpca.

Left out, each for a reason: test_events__unregister_returns_to_the_c_path (it watches
the blocking client's events function; acmpca.aio's own is watched in test_aio_events.py), Ctrl-C and signal handlers during a blocking wait (the
asyncio equivalent, cancelling the task, is tested in test_aio.py), credentials_source()
(blocking, not part of acmpca.aio), threads, the repr text "<acmpca.Client ...>" (the
asyncio client says "<acmpca.aio.Client ...>", test_aio.py), and the cases that make no
call at all (exception classes, Config, pickling).
"""
import asyncio
import functools
import inspect
import types

import pytest

import acmpca
import acmpca.aio
import test_boto3_events
import test_client
import test_errors
import test_faults
import test_operations
import test_validation
import test_waiters_paginators
from _servers import free_port
from conftest import CREDS, REGION

SHARED = {
    test_faults: [name for name in dir(test_faults) if name.startswith("test_")],
    test_errors: [
        "test_every_service_code_has_a_class", "test_service_error_classes",
        "test_unmodelled_code_raises_client_error", "test_unknown_code_raises_client_error",
        "test_server_error_status", "test_retries_are_counted", "test_moto_resource_not_found",
        "test_moto_invalid_state", "test_moto_unmodelled_codes",
        "test_fixture_access_denied_and_in_progress", "test_fixture_error_shapes",
        "test_fixture_bad_json_is_a_parser_error",
        "test_fixture_invalid_arn_args_state_and_permission_exists", "test_fixture_throttling",
        "test_endpoint_connection_error", "test_connect_timeout", "test_read_timeout",
        "test_connection_closed", "test_ssl_error", "test_response_too_large",
        "test_no_credentials", "test_credential_retrieval_error", "test_invalid_config",
        "test_closed_client_is_a_general_error", "test_secrets_never_appear"],
    test_validation: [
        "offline", "test_issue_certificate_validation", "test_nested_list_paths",
        "test_none_and_positional_arguments", "test_validation_sends_nothing",
        "test_blob_forms", "test_wire_values", "test_result_shapes"],
    test_waiters_paginators: [
        "test_certificate_issued_after_request_in_progress", "test_waiter_gives_up",
        "test_waiter_failure_acceptor",
        "test_waiter_unexpected_error_is_a_waiter_error_caused_by_it",
        "test_audit_report_created", "test_csr_created_on_moto", "test_waiter_arguments",
        "permissions_ca", "test_pages", "test_max_items_and_starting_token",
        "test_build_full_result", "test_resume_tokens_match_boto3",
        "test_pages_carry_response_metadata", "test_failed_page_carries_response_metadata",
        "test_list_certificate_authorities_on_moto", "test_paginator_arguments"],
    test_operations: [
        "test_full_ca_flow", "test_request_certificate_new_key",
        "test_issue_and_wait_with_csr", "test_audit_report_operations",
        "test_permission_operations", "test_restore_certificate_authority",
        "test_every_operation_is_a_method", "test_create_two_cas_are_distinct"],
    test_client: [
        "test_client_factory_accepts_the_service_name", "test_endpoint_from_region",
        "test_region_from_environment", "test_context_manager",
        "test_config_object_and_keywords", "test_botocore_config_is_duck_typed",
        "test_verify_argument", "test_rate_limit_option", "test_debug_log_redacts_secrets",
        "test_no_log_records_unless_enabled", "test_waiter_pauses_are_logged"],
    # client.meta.events: the same handlers see the same events with the same arguments,
    # side by side with boto3 (the events path of acmpca.aio is test_aio_events.py's too).
    test_boto3_events: [name for name in dir(test_boto3_events)
                        if (name.startswith("test_events__") and
                            name != "test_events__unregister_returns_to_the_c_path") or
                        name == "test_meta__request_dict_body_is_the_serialized_json"],
}


def _share(module, name):
    """The case itself, collected here too; without the smoke mark (the valgrind run
    takes the blocking suite's, and test_aio.py marks its own)."""
    f = getattr(module, name)
    if not isinstance(f, types.FunctionType):
        return f  # a fixture
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__dict__.update(f.__dict__)
    g.__doc__ = f.__doc__
    g.pytestmark = [m for m in getattr(f, "pytestmark", []) if m.name != "smoke"]
    return g


for _module, _names in SHARED.items():
    for _name in _names:
        globals()[_name] = _share(_module, _name)
del _module, _names, _name


# ---- the blocking face over acmpca.aio ------------------------------------------------

class Blocking:
    """An acmpca.aio client seen through blocking calls: each coroutine runs to its
    end on this object's own event loop."""

    def __init__(self, aio):
        self._aio = aio
        self._loop = asyncio.new_event_loop()

    def _run(self, coro):
        return self._loop.run_until_complete(coro)

    def __getattr__(self, name):
        attr = getattr(self._aio, name)
        if inspect.iscoroutinefunction(attr):
            @functools.wraps(attr)
            def call(*args, **kwargs):
                return self._run(attr(*args, **kwargs))
            return call
        return attr

    def get_waiter(self, name):
        return _Waiter(self, self._aio.get_waiter(name))

    def get_paginator(self, name):
        return _Paginator(self, self._aio.get_paginator(name))

    def close(self):
        self._run(self._aio.close())

    def __enter__(self):
        self._run(self._aio.__aenter__())
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return repr(self._aio)

    def _shutdown(self):
        if not self._loop.is_closed():
            self.close()
            self._loop.close()


class _Waiter:
    def __init__(self, blocking, waiter):
        self._b, self._w = blocking, waiter
        self.name, self.config = waiter.name, waiter.config

    def wait(self, *args, **kwargs):
        return self._b._run(self._w.wait(*args, **kwargs))


class _Paginator:
    def __init__(self, blocking, paginator):
        self._b, self._p = blocking, paginator

    def paginate(self, *args, **kwargs):
        return _Pages(self._b, self._p.paginate(*args, **kwargs))


class _Pages:
    def __init__(self, blocking, pages):
        self._b, self._pages = blocking, pages

    def __iter__(self):
        it = self._pages.__aiter__()
        while True:
            try:
                yield self._b._run(it.__anext__())
            except StopAsyncIteration:
                return

    def build_full_result(self):
        return self._b._run(self._pages.build_full_result())

    resume_token = property(lambda self: self._pages.resume_token)
    result_key = property(lambda self: self._pages.result_key)


class _Made:
    """Every blocking face a test made, closed with its loop at the end of the test."""

    def __init__(self):
        self.all = []

    def make_client(self, endpoint, **kwargs):
        args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
        args.update(kwargs)
        return self.client(**args)

    def client(self, *args, **kwargs):
        b = Blocking(acmpca.aio.client(*args, **kwargs))
        self.all.append(b)
        return b


def _rewind(request):
    # A case's file-object arguments are shared with the blocking run: read from the start.
    for value in getattr(getattr(request.node, "callspec", None), "params", {}).values():
        if hasattr(value, "seek"):
            value.seek(0)


@pytest.fixture(autouse=True)
def through_aio(monkeypatch, request):
    made = _Made()
    for module in SHARED:
        if hasattr(module, "make_client"):
            monkeypatch.setattr(module, "make_client", made.make_client)
    monkeypatch.setattr(acmpca, "client", made.client)
    _rewind(request)
    yield made
    _rewind(request)
    for b in made.all:
        b._shutdown()


@pytest.fixture(scope="module")
def fixture_endpoint():
    """A fixture server of this module's own: its scripted ARNs keep state (a certificate
    in progress once, a permission that now exists), which the blocking run expects fresh."""
    import fixture_server

    server = fixture_server.serve_in_thread("127.0.0.1", free_port())
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(moto_endpoint, through_aio):
    with through_aio.make_client(moto_endpoint) as c:
        yield c


@pytest.fixture
def fixture_client(fixture_endpoint, through_aio):
    with through_aio.make_client(fixture_endpoint) as c:
        yield c


@pytest.fixture
def scripted_client(scripted, through_aio):
    with through_aio.make_client(scripted.endpoint,
                                 config=acmpca.Config(retries={"total_max_attempts": 1})) as c:
        yield c


def test_aio_shared__the_cases_run_through_the_asyncio_client(through_aio, scripted):
    """The face is what the shared cases get, and its calls are acmpca.aio's."""
    c = test_validation.make_client(scripted.endpoint)
    assert isinstance(c, Blocking) and isinstance(c._aio, acmpca.aio.Client)
    assert acmpca.client(region_name=REGION, **CREDS)._aio.meta.region_name == REGION
    c.list_tags(CertificateAuthorityArn="arn:aws:acm-pca:us-east-1:1:certificate-authority/x")
    assert scripted.requests[-1]["headers"]["user-agent"].startswith("acmpca/")
    assert " asyncio " in scripted.requests[-1]["headers"]["user-agent"]
