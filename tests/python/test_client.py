"""The Client object: construction and configuration, close() and the
context manager, repr, the debug log, the module surface."""
import inspect
import json
import logging
import time

import pytest

import acmpca
from conftest import CREDS, FAKE_CA_ARN, make_client

CA = FAKE_CA_ARN % "client"


def test_module_surface():
    assert acmpca.__version__ == acmpca._acmpca.__version__
    assert acmpca.VERSION_NUMBER == 0x10000 * int(acmpca.__version__.split(".")[0]) + \
        0x100 * int(acmpca.__version__.split(".")[1]) + int(acmpca.__version__.split(".")[2])
    for name in acmpca.__all__:
        obj = getattr(acmpca, name)
        if callable(obj) or inspect.isclass(obj):
            assert obj.__doc__, name
    for name in ("client", "Client", "Config", "sign_request", "generate_key", "make_csr",
                 "normalize_csr", "normalize_serial", "parse_certificate", "Waiter",
                 "Paginator", "PageIterator", "set_stream_logger"):
        assert name in acmpca.__all__


def test_client_factory_accepts_the_service_name(scripted):
    for c in (acmpca.client("acm-pca", region_name="eu-west-1", endpoint_url=scripted.endpoint,
                            **CREDS),
              acmpca.client(service_name="acm-pca", region_name="eu-west-1",
                            endpoint_url=scripted.endpoint, **CREDS),
              acmpca.Client("acm-pca", "eu-west-1", None, None, None, scripted.endpoint,
                            "testing", "testing")):
        assert c.meta.region_name == "eu-west-1"
        assert c.meta.endpoint_url == scripted.endpoint
        assert c.meta.service_name == "acm-pca"
        c.close()
    with pytest.raises(ValueError):
        acmpca.client("s3", region_name="eu-west-1")


def test_endpoint_from_region():
    c = acmpca.client(region_name="eu-central-1", **CREDS)
    assert c.meta.endpoint_url == "https://acm-pca.eu-central-1.amazonaws.com"
    c = acmpca.client(region_name="us-east-1", config=acmpca.Config(use_fips_endpoint=True),
                      **CREDS)
    assert c.meta.endpoint_url == "https://acm-pca-fips.us-east-1.amazonaws.com"
    c = acmpca.client(region_name="eu-central-1", use_dualstack_endpoint=True, **CREDS)
    assert "api.aws" in c.meta.endpoint_url


def test_region_from_environment(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert acmpca.client(**CREDS).meta.region_name == "ap-south-1"


def test_repr_and_close(scripted):
    c = make_client(scripted.endpoint)
    assert repr(c) == "<acmpca.Client region='us-east-1' endpoint='%s'>" % scripted.endpoint
    assert not c.closed
    c.close()
    c.close()
    assert c.closed and repr(c).endswith(" closed>")
    with pytest.raises(acmpca.GeneralError, match="closed"):
        c.list_tags(CertificateAuthorityArn=CA)
    with pytest.raises(acmpca.GeneralError):
        c.get_waiter("certificate_issued").wait(CertificateAuthorityArn=CA, CertificateArn=CA)
    with pytest.raises(acmpca.GeneralError):
        list(c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA))
    with pytest.raises(acmpca.GeneralError):
        with c:
            pass


def test_context_manager(scripted):
    with make_client(scripted.endpoint) as c:
        assert c.list_tags(CertificateAuthorityArn=CA)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert c.closed


def test_config_object_and_keywords(scripted):
    cfg = acmpca.Config(connect_timeout=2, read_timeout=0.3, retries={"max_attempts": 0},
                        max_pool_connections=2, user_agent_extra="tests/1.0")
    c = make_client(scripted.endpoint, config=cfg)
    assert c.meta.config.read_timeout == 0.3 and c.meta.config.max_pool_connections == 2
    t = time.monotonic()
    with pytest.raises(acmpca.ReadTimeoutError) as info:
        c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:4")
    # max_attempts counts retries, as in botocore: 0 retries is one attempt. (The core
    # checks the read timeout from curl's progress callback: about once a second.)
    assert info.value.attempts == 1 and time.monotonic() - t < 3
    c.list_tags(CertificateAuthorityArn=CA)
    assert scripted.requests[-1]["headers"]["user-agent"].endswith("tests/1.0")
    # A keyword argument wins over the Config.
    c = make_client(scripted.endpoint, config=cfg, read_timeout=5)
    c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:0.5")
    merged = cfg.merge(acmpca.Config(read_timeout=9))
    assert merged.read_timeout == 9 and merged.connect_timeout == 2
    assert "read_timeout=0.3" in repr(cfg)
    with pytest.raises(TypeError):
        acmpca.Config(read_timout=1)
    with pytest.raises(acmpca.InvalidConfigError, match="proxies: unknown key 'ftp'"):
        make_client(scripted.endpoint, config=acmpca.Config(proxies={"ftp": "http://p:1"}))


def test_botocore_config_is_duck_typed(scripted):
    botocore_config = pytest.importorskip("botocore.config")
    cfg = botocore_config.Config(read_timeout=0.3, retries={"total_max_attempts": 1},
                                 region_name="eu-west-3")
    c = acmpca.client(endpoint_url=scripted.endpoint, config=cfg, **CREDS)
    assert c.meta.region_name == "eu-west-3"
    with pytest.raises(acmpca.ReadTimeoutError) as info:
        c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:4")
    assert info.value.attempts == 1


def test_verify_argument(scripted, tmp_path):
    make_client(scripted.endpoint, verify=False).close()
    make_client(scripted.endpoint, verify=True).close()
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("")
    make_client(scripted.endpoint, verify=str(bundle)).close()
    make_client(scripted.endpoint, verify=bundle).close()
    with pytest.raises(TypeError):
        make_client(scripted.endpoint, verify=3)


def test_rate_limit_option(scripted):
    c = make_client(scripted.endpoint, rate_limit={"ListTags": 20.0})
    t = time.monotonic()
    for _ in range(30):
        c.list_tags(CertificateAuthorityArn=CA)
    assert time.monotonic() - t >= 0.3
    with pytest.raises(acmpca.InvalidConfigError, match="unknown operation"):
        make_client(scripted.endpoint, rate_limit={"Nope": 1.0})
    make_client(scripted.endpoint, rate_limit=True).close()


def test_debug_log_redacts_secrets(scripted, caplog):
    c = acmpca.client(region_name="us-east-1", endpoint_url=scripted.endpoint,
                      aws_access_key_id="AKIDLOG", aws_secret_access_key="log-secret-value",
                      aws_session_token="log-session-token")
    with caplog.at_level(logging.DEBUG, logger="acmpca"):
        c.list_tags(CertificateAuthorityArn=CA)
        c.get_waiter("certificate_issued")
    records = [r for r in caplog.records if r.name == "acmpca"]
    assert len(records) == 2
    request, response = (r.getMessage() for r in records)
    assert request.startswith("ListTags attempt 1: POST " + scripted.endpoint)
    assert "Authorization: <redacted>" in request
    assert "X-Amz-Security-Token: <redacted>" in request
    assert response.startswith("ListTags response: HTTP 200")
    for r in records:
        assert "log-secret-value" not in r.getMessage()
        assert "log-session-token" not in r.getMessage()
        assert r.levelno == logging.DEBUG


def test_no_log_records_unless_enabled(scripted, caplog):
    c = make_client(scripted.endpoint)
    with caplog.at_level(logging.INFO, logger="acmpca"):
        c.list_tags(CertificateAuthorityArn=CA)
    assert not [r for r in caplog.records if r.name == "acmpca"]


def test_waiter_pauses_are_logged(fixture_endpoint, caplog):
    c = make_client(fixture_endpoint)
    ca = FAKE_CA_ARN % ("log-%d" % time.monotonic_ns())
    with caplog.at_level(logging.DEBUG, logger="acmpca"):
        c.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca,
                                                CertificateArn=ca + "/in-progress-1",
                                                WaiterConfig={"Delay": 0.01})
    assert any("waiter CertificateIssued: attempt 1" in r.getMessage() for r in caplog.records)


def test_set_stream_logger():
    logger = acmpca.set_stream_logger(level=logging.INFO)
    try:
        assert logger.name == "acmpca" and logger.level == logging.INFO
    finally:
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)


def test_methods_are_documented_and_bound(scripted):
    c = make_client(scripted.endpoint)
    m = c.issue_certificate
    assert m.__self__ is c and m.__name__ == "issue_certificate"
    assert "CertificateAuthorityArn: str (required)" in m.__doc__
    assert "Csr: bytes | str (required)" in m.__doc__
    assert "MalformedCSRException" in m.__doc__
    assert acmpca.Client.issue_certificate.__qualname__ == "Client.issue_certificate"
    assert "issue_certificate" in dir(c)
    assert c.exceptions.ClientError is acmpca.ClientError
    assert acmpca.Client.__doc__ and acmpca.Client.get_waiter.__doc__


def test_subclassing_the_client(scripted):
    class Mine(acmpca.Client):
        def tags(self, arn):
            return self.list_tags(CertificateAuthorityArn=arn)["ResponseMetadata"]["HTTPStatusCode"]

    c = Mine(region_name="us-east-1", endpoint_url=scripted.endpoint, **CREDS)
    assert c.tags(CA) == 200


def test_objects_cannot_be_made_directly():
    for cls in (acmpca.Waiter, acmpca.Paginator, acmpca.PageIterator):
        with pytest.raises(TypeError):
            cls()


def test_str_arguments__sent_as_their_utf8_text(scripted):
    # A method's str arguments reach the wire as UTF-8 (the binding reads each one's
    # UTF-8 text in place), ASCII or not, whatever the str's inner width.
    with make_client(scripted.endpoint) as c:
        for text in ("ascii-only", "caf\u00e9", "\u20ac-\u4e2d", "\U0001f512-lock"):
            arn = CA + "/" + text + "-%d" % len(text)
            c.get_policy(ResourceArn=arn)
            body = json.loads(scripted.requests[-1]["body"])
            assert body == {"ResourceArn": arn}
        with pytest.raises(acmpca.ParamValidationError):
            c.get_policy(ResourceArn=CA + "\0")
