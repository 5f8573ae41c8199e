"""client.meta.events side by side with boto3: the same handlers registered on
boto3.client("acm-pca") and acmpca.client() see the same events, with the same
keyword arguments, can add signed headers, short-circuit calls, and observe
retries; and client.meta has botocore's fields."""
import json

import pytest

import acmpca
import acmpca._events
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")

OP = "ListCertificateAuthorities"
CA = FAKE_CA_ARN % "11111111-2222-3333-4444-555555555555"
EVENTS = ("provide-client-params", "before-parameter-build", "before-call", "request-created",
          "before-sign", "before-send", "needs-retry", "after-call")


def both(endpoint, config=None, **kwargs):
    """boto3's client and ours, alike; `config`: Config options for each's own Config."""
    from botocore.config import Config

    args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
    args.update(kwargs)
    return [boto3.client("acm-pca", config=Config(**(config or {})), **args),
            acmpca.client("acm-pca", config=acmpca.Config(**(config or {})), **args)]


def test_events__same_names_and_keywords_as_boto3(moto_endpoint):
    seen = {}
    for c in both(moto_endpoint):
        # (acmpca.aio's cases see the client through a blocking face of the test's own)
        log = seen.setdefault("botocore" if type(c).__module__.startswith("botocore")
                              else "acmpca", [])

        def record(event_name, log=log, **kwargs):
            log.append((event_name, sorted(kwargs)))
        for name in EVENTS:
            c.meta.events.register(name + ".acm-pca.*", record)
        c.list_certificate_authorities()
    assert seen["acmpca"] == seen["botocore"]
    assert [e for e, _ in seen["acmpca"]] == ["%s.acm-pca.%s" % (n, OP) for n in EVENTS]


def test_events__wildcards_and_prefixes_match_as_botocore(moto_endpoint):
    patterns = ["before-call", "before-call.acm-pca", "before-call.*.%s" % OP,
                "before-call.acm-pca.%s" % OP, "before-call.*.IssueCertificate", "after-call.*"]
    results = []
    for c in both(moto_endpoint):
        hits = []
        for p in patterns:
            c.meta.events.register(p, lambda p=p, hits=hits, **kw: hits.append(p))
        c.list_certificate_authorities()
        results.append(hits)
    assert results[1] == results[0]
    assert "before-call.*.IssueCertificate" not in results[1]


def test_events__before_parameter_build_sees_and_can_change_params(moto_endpoint):
    for c in both(moto_endpoint):
        seen = []

        def build(params, model, **kwargs):
            seen.append((model.name, dict(params)))
            params["MaxResults"] = 1
        c.meta.events.register("before-parameter-build.acm-pca.ListCertificateAuthorities",
                               build)
        c.list_certificate_authorities(ResourceOwner="SELF")
        assert seen == [(OP, {"ResourceOwner": "SELF"})]


def test_events__before_call_return_short_circuits_the_call(scripted):
    outs = []
    for c in both(scripted.endpoint):
        scripted.clear()
        http = acmpca._events.AWSResponse(None, 200, {}) if isinstance(c, acmpca.Client) \
            else __import__("botocore.awsrequest").awsrequest.AWSResponse(None, 200, {}, None)
        c.meta.events.register("before-call.acm-pca.GetPolicy",
                               lambda **kw: (http, {"Policy": "{}"}))
        outs.append(c.get_policy(ResourceArn=CA))
        assert scripted.requests == []
    assert outs[0] == outs[1] == {"Policy": "{}"}


def test_events__before_sign_headers_are_sent_and_signed(scripted):
    for c in both(scripted.endpoint):
        scripted.clear()

        def add(request, **kwargs):
            assert "Authorization" not in request.headers
            request.headers["X-Trace-Id"] = "trace-1"
        c.meta.events.register("before-sign.acm-pca.ListTags", add)
        c.list_tags(CertificateAuthorityArn=CA)
        (sent,) = scripted.requests
        assert sent["refused"] is None  # the server checked the signature
        assert sent["headers"]["x-trace-id"] == "trace-1"
        assert "x-trace-id" in sent["headers"]["authorization"]


def test_events__before_send_headers_are_sent_unsigned(scripted):
    for c in both(scripted.endpoint):
        scripted.clear()

        def add(request, **kwargs):
            assert isinstance(request.headers["Authorization"], bytes)
            request.headers["X-Late"] = "late"
        c.meta.events.register("before-send", add)
        c.list_tags(CertificateAuthorityArn=CA)
        (sent,) = scripted.requests
        assert sent["refused"] is None
        assert sent["headers"]["x-late"] == "late"
        assert "x-late" not in sent["headers"]["authorization"]


def test_events__before_send_return_is_the_answer(scripted):
    outs = []
    for c in both(scripted.endpoint):
        scripted.clear()
        from botocore.awsrequest import AWSResponse

        class Raw:
            def stream(self, **kw):
                yield b'{"Policy": "from hook"}'
        answer = AWSResponse(None, 200, {"x-amzn-requestid": "hooked"}, Raw())
        c.meta.events.register("before-send", lambda **kw: answer)
        out = c.get_policy(ResourceArn=CA)
        assert scripted.requests == []
        outs.append((out["Policy"], out["ResponseMetadata"]["RequestId"]))
    assert outs[0] == outs[1] == ("from hook", "hooked")


def test_events__refuses_a_header_the_signer_owns(scripted):
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, **CREDS)
    c.meta.events.register("before-sign",
                           lambda request, **kw: request.headers.__setitem__("Host", "evil"))
    with pytest.raises(acmpca.ParamValidationError, match="Host"):
        c.list_tags(CertificateAuthorityArn=CA)
    c.meta.events.unregister("before-sign",
                             c.meta.events._handlers.prefix_search("before-sign")[0])
    c.meta.events.register("before-sign", lambda request, **kw: request.headers.__setitem__(
        "X-Bad", "a\r\nInjected: 1"))
    with pytest.raises(acmpca.ParamValidationError, match="CR or LF"):
        c.list_tags(CertificateAuthorityArn=CA)


def test_events__after_call_sees_the_parsed_answer(moto_endpoint):
    seen = []
    for c in both(moto_endpoint):
        c.meta.events.register("after-call.acm-pca.ListCertificateAuthorities",
                               lambda http_response, parsed, model, **kw: seen.append(
                                   (http_response.status_code, sorted(parsed), model.name)))
        c.list_certificate_authorities()
    assert seen[0] == seen[1] == (200, ["CertificateAuthorities", "ResponseMetadata"], OP)


def test_events__after_call_sees_service_errors_before_they_raise(scripted):
    seen = []
    for c in both(scripted.endpoint):
        c.meta.events.register("after-call", lambda http_response, parsed, **kw: seen.append(
            (http_response.status_code, parsed["Error"]["Code"])))
        with pytest.raises(Exception) as info:
            c.get_policy(ResourceArn=CA + "acmpca-test:error:ResourceNotFoundException")
        assert type(info.value).__name__ == "ResourceNotFoundException"
    assert seen[0] == seen[1] == (400, "ResourceNotFoundException")


def test_events__after_call_content_is_the_body(moto_endpoint, scripted):
    """http_response.content holds the answer's bytes, as botocore's, for a result and for
    a service error."""
    seen = []
    for c in both(moto_endpoint):
        c.meta.events.register("after-call", lambda http_response, **kw: seen.append(
            json.loads(http_response.content)))
        c.list_certificate_authorities()
    assert seen[0] == seen[1] and "CertificateAuthorities" in seen[0]
    seen.clear()
    for c in both(scripted.endpoint):
        c.meta.events.register("after-call", lambda http_response, **kw: seen.append(
            http_response.content))
        with pytest.raises(Exception):
            c.get_policy(ResourceArn=CA + "acmpca-test:error:ResourceNotFoundException")
    assert seen[0] == seen[1] and b"ResourceNotFoundException" in seen[1]


def test_events__before_sign_fires_again_after_clock_skew(fault):
    """botocore fires before-sign for each signature: the retry after a clock-skew
    correction is signed again, with what the handler adds for that attempt."""
    c = acmpca.client("acm-pca", REGION, endpoint_url=fault.endpoint,
                      config=acmpca.Config(retries={"total_max_attempts": 1}), **CREDS)
    seen = []

    def add(request, **kwargs):
        seen.append(dict(request.headers).get("X-Attempt"))
        request.headers["X-Attempt"] = str(len(seen))
    c.meta.events.register("before-sign.acm-pca.DescribeCertificateAuthority", add)
    fault.script([{"action": "skew", "status": 403, "offset_s": -3600,
                   "code": "InvalidSignatureException"}, {"action": "ok"}])
    c.describe_certificate_authority(CertificateAuthorityArn=CA)
    assert seen == [None, "1"]  # the second request as the first was sent
    first, retry = (r["headers"] for r in fault.received())
    assert (first["x-attempt"], retry["x-attempt"]) == ("1", "2")
    assert "x-attempt" in retry["authorization"]


def test_events__paginator_pages_are_calls(moto_endpoint):
    """Each page a paginator fetches is a call the handlers see, as botocore's."""
    seen = []
    for c in both(moto_endpoint):
        calls = []
        c.meta.events.register("before-call.acm-pca.ListCertificateAuthorities",
                               lambda params, **kw: calls.append(json.loads(params["body"])))
        pages = list(c.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig={"PageSize": 1, "MaxItems": 2}))
        seen.append((calls, [sorted(p) for p in pages]))
    assert seen[0] == seen[1]
    assert seen[1][0] and seen[1][0][0]["MaxResults"] == 1


def test_events__waiter_polls_are_calls(fixture_endpoint):
    """Each poll of a waiter is a call the handlers see, with botocore's events and
    arguments: three RequestInProgress answers, then the certificate."""
    import uuid

    seen = []
    for c in both(fixture_endpoint):
        log = []

        def record(event_name, log=log, **kwargs):
            log.append((event_name, sorted(kwargs)))
        for name in EVENTS + ("after-call-error",):
            c.meta.events.register(name + ".acm-pca.*", record)
        ca = FAKE_CA_ARN % uuid.uuid4()
        assert c.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-3",
            WaiterConfig={"Delay": 0.01, "MaxAttempts": 10}) is None
        seen.append(log)
    assert seen[1] == seen[0]
    calls = [e for e, _ in seen[1] if e.startswith("before-call.")]
    assert calls == ["before-call.acm-pca.GetCertificate"] * 4


def test_events__request_certificate_calls_are_seen(moto_endpoint):
    """request_certificate() (acmpca's own: no boto3 counterpart) makes its calls where
    the handlers see them: DescribeCertificateAuthority, IssueCertificate and each
    certificate_issued poll, as a waiter's polls are."""
    from conftest import create_root_ca

    c = acmpca.client("acm-pca", region_name=REGION, endpoint_url=moto_endpoint, **CREDS)
    arn, _ = create_root_ca(c)
    seen = []
    for name in ("before-call", "after-call"):
        c.meta.events.register(name + ".acm-pca", lambda event_name, **kw: seen.append(event_name))
    out = c.request_certificate(arn, common_name="events.example.test", wait_delay=0.01)
    assert out["Certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert out["CertificateArn"].startswith(arn) and out["PrivateKey"]
    assert seen == ["%s.acm-pca.%s" % (e, op)
                    for op in ("DescribeCertificateAuthority", "IssueCertificate",
                               "GetCertificate")
                    for e in ("before-call", "after-call")]


def test_events__needs_retry_observes_every_attempt(scripted):
    seen = []
    for c in both(scripted.endpoint, config={"retries": {"total_max_attempts": 3,
                                                        "mode": "standard"}}):
        log = []

        def observe(attempts, response, caught_exception, **kw):
            status = response[0].status_code if response else None
            log.append((attempts, status))
        c.meta.events.register("needs-retry.acm-pca.GetPolicy", observe)
        with pytest.raises(Exception):
            c.get_policy(ResourceArn=CA + "acmpca-test:status:503")
        seen.append(log)
    assert seen[1] == seen[0] == [(1, 503), (2, 503), (3, 503)]


def test_events__connection_failure_reaches_after_call_error(closed_endpoint):
    c = acmpca.client("acm-pca", REGION, endpoint_url=closed_endpoint,
                      config=acmpca.Config(retries={"total_max_attempts": 1}), **CREDS)
    seen = []
    c.meta.events.register("after-call-error", lambda exception, **kw: seen.append(exception))
    with pytest.raises(acmpca.EndpointConnectionError) as info:
        c.list_tags(CertificateAuthorityArn=CA)
    assert seen == [info.value]


def test_events__unregister_returns_to_the_c_path(scripted, monkeypatch):
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, **CREDS)
    calls = []

    def handler(**kwargs):
        calls.append(1)
    c.meta.events.register("before-call", handler)
    c.list_tags(CertificateAuthorityArn=CA)
    c.meta.events.unregister("before-call", handler)

    def events_path(*args):
        raise AssertionError("a call without handlers took the events path")
    monkeypatch.setattr(acmpca._events, "_api_call", events_path)
    c.list_tags(CertificateAuthorityArn=CA)
    assert calls == [1]
    # Another client's handlers do not move this one off the C path.
    other = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, **CREDS)
    other.meta.events.register("before-call", handler)
    c.list_tags(CertificateAuthorityArn=CA)


def test_events__handler_without_kwargs_is_refused_as_botocore(moto_endpoint):
    for c in both(moto_endpoint):
        with pytest.raises(ValueError):
            c.meta.events.register("before-call", lambda params: None)


def test_events__handler_exception_propagates(moto_endpoint):
    class Boom(Exception):
        pass

    for c in both(moto_endpoint):
        def boom(**kwargs):
            raise Boom()
        c.meta.events.register("before-send", boom)
        with pytest.raises(Boom):
            c.list_certificate_authorities()


def test_events__register_unique_id_counts_as_botocore(moto_endpoint):
    for c in both(moto_endpoint):
        hits = []

        def h(**kw):
            hits.append(1)
        c.meta.events.register("before-call", h, unique_id="u", unique_id_uses_count=True)
        c.meta.events.register("before-call", h, unique_id="u", unique_id_uses_count=True)
        c.list_certificate_authorities()
        c.meta.events.unregister("before-call", unique_id="u", unique_id_uses_count=True)
        c.list_certificate_authorities()
        c.meta.events.unregister("before-call", unique_id="u", unique_id_uses_count=True)
        c.list_certificate_authorities()
        assert hits == [1, 1]


# ---- client.meta ---------------------------------------------------------------------------

def test_meta__fields_match_boto3(moto_endpoint):
    theirs, ours = both(moto_endpoint, config={"connect_timeout": 5})
    for name in ("region_name", "endpoint_url", "partition"):
        assert getattr(ours.meta, name) == getattr(theirs.meta, name), name
    assert ours.meta.method_to_api_mapping == theirs.meta.method_to_api_mapping
    sm_ours, sm_theirs = ours.meta.service_model, theirs.meta.service_model
    assert sm_ours.operation_names == sm_theirs.operation_names
    for name in ("service_name", "api_version", "signing_name"):
        assert getattr(sm_ours, name) == getattr(sm_theirs, name), name
    # acmpca speaks JSON; botocore from 1.44 prefers smithy-rpc-v2-cbor, listing json too.
    assert sm_ours.protocol == "json"
    assert "json" in sm_theirs.metadata.get("protocols", [sm_theirs.protocol])
    for op in sm_theirs.operation_names:
        a, b = sm_ours.operation_model(op), sm_theirs.operation_model(op)
        assert a.name == b.name
        assert a.input_shape.name == b.input_shape.name, op
        assert (a.output_shape and a.output_shape.name) == (b.output_shape and
                                                            b.output_shape.name), op
        assert a.documentation
        assert sorted(a.input_shape.members) == sorted(b.input_shape.members), op
        assert sorted(a.input_shape.required_members) == sorted(b.input_shape.required_members)


def test_meta__config_shows_the_effective_settings(scripted, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint,
                      config=acmpca.Config(read_timeout=7, user_agent_extra="x/1"), **CREDS)
    cfg = c.meta.config
    assert isinstance(cfg, acmpca.Config)
    assert cfg.retries == {"mode": "adaptive", "total_max_attempts": 5}
    assert (cfg.connect_timeout, cfg.read_timeout) == (10, 7)
    assert type(cfg.connect_timeout) is int  # whole seconds as botocore shows them
    assert cfg.max_pool_connections == 4 and cfg.user_agent_extra == "x/1"
    assert cfg.region_name == REGION
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint,
                      max_pool_connections=9, retries={"max_attempts": 1}, **CREDS)
    assert c.meta.config.max_pool_connections == 9
    assert c.meta.config.retries["total_max_attempts"] == 2


def test_meta__partition_follows_the_region():
    for region, partition in (("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
                              ("eu-west-1", "aws")):
        c = acmpca.client("acm-pca", region, **CREDS)
        assert c.meta.partition == partition
        assert c.meta.partition == boto3.client("acm-pca", region, **CREDS).meta.partition


def test_meta__unknown_operation_model_raises_a_key_error(moto_endpoint):
    with pytest.raises(KeyError):
        acmpca.client("acm-pca", REGION, **CREDS).meta.service_model.operation_model("Nope")


def test_meta__import_stays_light():
    """import acmpca loads neither botocore, dateutil, moto, jmespath nor the lazy modules."""
    import subprocess
    import sys
    code = ("import sys, acmpca; c = acmpca.client('acm-pca', 'us-east-1', "
            "aws_access_key_id='a', aws_secret_access_key='b'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'dateutil', "
            "'moto', 'jmespath', 'boto3') or m in ('acmpca._meta', 'acmpca._events', "
            "'acmpca.stub', 'acmpca._session')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(__import__("os").environ,
                                  PYTHONPATH=":".join(p for p in sys.path if p)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_meta__request_dict_body_is_the_serialized_json(moto_endpoint):
    bodies = []
    for c in both(moto_endpoint):
        c.meta.events.register("before-call", lambda params, **kw: bodies.append(
            (params["method"], params["url_path"], json.loads(params["body"]))))
        c.list_certificate_authorities(MaxResults=5)
    assert bodies[0] == bodies[1] == ("POST", "/", {"MaxResults": 5})


def test_events__hooked_calls_do_not_leak(scripted):
    """Thousands of calls through the events path (signed headers added, service errors,
    retries observed) do not grow the process or the count of tracked objects."""
    import gc

    def rss():
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        pytest.fail("no VmRSS: needs Linux")

    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint,
                      config=acmpca.Config(retries={"total_max_attempts": 1}), **CREDS)
    c.meta.events.register("before-sign", lambda request, **kw: request.headers.__setitem__(
        "X-Trace-Id", "t"))
    c.meta.events.register("needs-retry", lambda **kw: None)
    c.meta.events.register("after-call", lambda **kw: None)
    bad = CA + "acmpca-test:error:ResourceNotFoundException"

    def one_round():
        for i in range(600):
            if i % 3:
                c.list_tags(CertificateAuthorityArn=CA)
            else:
                try:
                    c.list_tags(CertificateAuthorityArn=bad)
                except acmpca.ResourceNotFoundException:
                    pass
    one_round()
    gc.collect()
    rss0, objs0 = rss(), len(gc.get_objects())
    for _ in range(3):
        one_round()
    gc.collect()
    assert rss() - rss0 < 4 << 20
    assert len(gc.get_objects()) - objs0 < 500
