"""The fault matrix from Python: one test per row of tests/c/test_faults.c, against
tests/fixtures/fault_server.py on loopback (the session fixture `fault`). Each test
scripts what the server answers, calls the way a user would, and checks what the user
sees (the exception class, code, http_status, request_id, attempts / RetryAttempts)
and what the server saw (how many attempts, which headers and bodies).
"""
import calendar
import hashlib
import pathlib
import time

import pytest

import acmpca
from conftest import make_client

CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfaultcsr\n-----END CERTIFICATE REQUEST-----\n"
ISSUE = {"CertificateAuthorityArn": CA_ARN, "Csr": CSR, "SigningAlgorithm": "SHA256WITHECDSA",
         "Validity": {"Value": 30, "Type": "DAYS"}}
CREATE_CA = {"CertificateAuthorityConfiguration": {
    "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
    "Subject": {"CommonName": "x"}}, "CertificateAuthorityType": "ROOT"}


def fclient(fault, attempts=3, endpoint=None, **kwargs):
    config = kwargs.pop("config", None) or acmpca.Config()
    config.retries = dict(config.retries or {}, total_max_attempts=attempts)
    return make_client(endpoint or fault.endpoint, config=config, **kwargs)


def describe(c):
    return c.describe_certificate_authority(CertificateAuthorityArn=CA_ARN)


def retries_of(result):
    return result["ResponseMetadata"]["RetryAttempts"]


def check_failure(exc, attempts, retryable, http_status):
    """The common checks of a failed call, as check_failure() of the C matrix."""
    assert exc.attempts == attempts
    assert exc.retryable is bool(retryable)
    assert exc.http_status == (http_status or None)
    if attempts > 1 and isinstance(exc, acmpca.ClientError):
        # botocore's wording, only when retrying gave up on a retryable error.
        assert ("(reached max retries: %d)" % (attempts - 1) in str(exc)) is bool(retryable)
    elif attempts > 1:
        # The count is data (exc.attempts); str() adds it, .message stays the detail.
        assert "(gave up after %d attempts)" % attempts in str(exc)
        assert "gave up" not in exc.message
    else:
        assert "gave up" not in str(exc) and "max retries" not in str(exc)


def check_service_metadata(exc, attempts, retryable):
    md = exc.response["ResponseMetadata"]
    assert md["RetryAttempts"] == attempts - 1
    assert md["RequestId"] == exc.request_id
    assert md["HTTPStatusCode"] == exc.http_status
    assert md.get("MaxAttemptsReached", False) is bool(attempts > 1 and retryable)


@pytest.mark.smoke
def test_http_500_retried_to_max(fault):
    fault.script([{"action": "server_error", "repeat": 3}])
    with fclient(fault, 3) as c, pytest.raises(acmpca.ClientError) as ei:
        describe(c)
    e = ei.value
    assert type(e) is acmpca.ClientError  # InternalFailure is not a modelled error
    check_failure(e, 3, True, 500)
    check_service_metadata(e, 3, True)
    assert e.code == "InternalFailure"
    assert e.operation_name == "DescribeCertificateAuthority"
    assert e.request_id == "fault-req-3"
    assert "scripted internal failure" in e.message
    assert "(reached max retries: 2)" in str(e)
    assert len(fault.received()) == 3


def test_503_then_200(fault):
    fault.script([{"action": "service_unavailable"}, {"action": "ok"}])
    with fclient(fault, 3) as c:
        out = describe(c)
    assert retries_of(out) == 1
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["ResponseMetadata"]["RequestId"] == "fault-req-2"
    assert out["CertificateAuthority"]["Status"] == "ACTIVE"
    assert len(fault.received()) == 2


def test_throttling_twice_then_200(fault):
    fault.script([{"action": "throttle", "repeat": 2}, {"action": "ok"}])
    with fclient(fault, 3) as c:
        out = c.get_certificate(CertificateAuthorityArn=CA_ARN,
                                CertificateArn=CA_ARN + "/certificate/abc")
    assert retries_of(out) == 2
    assert "BEGIN CERTIFICATE" in out["Certificate"]
    assert len(fault.received()) == 3


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_limit_exceeded_not_retried(fault, mode):
    fault.script([{"action": "limit_exceeded"}, {"action": "ok"}])
    with fclient(fault, 5, config=acmpca.Config(retries={"mode": mode})) as c, \
            pytest.raises(c.exceptions.LimitExceededException) as ei:
        c.issue_certificate(**ISSUE)
    e = ei.value
    assert isinstance(e, acmpca.LimitExceededException)
    check_failure(e, 1, False, 400)
    check_service_metadata(e, 1, False)
    assert e.code == "LimitExceededException"
    assert "scripted quota reached" in e.message
    assert e.request_id == "fault-req-1"
    assert len(fault.received()) == 1


def test_connection_refused(fault):
    with fclient(fault, 3, endpoint=fault.refused_endpoint) as c, \
            pytest.raises(acmpca.EndpointConnectionError) as ei:
        describe(c)
    e = ei.value
    assert type(e) is acmpca.EndpointConnectionError
    assert isinstance(e, ConnectionError)
    check_failure(e, 3, True, 0)
    assert "could not connect" in e.message
    assert e.code is None and e.request_id is None
    assert e.endpoint_url == fault.refused_endpoint


def test_reset_before_any_byte(fault):
    fault.script([{"action": "reset_before", "repeat": 2}])
    with fclient(fault, 2) as c:
        with pytest.raises(acmpca.ConnectionClosedError) as ei:
            describe(c)
        check_failure(ei.value, 2, True, 0)
        assert ei.value.operation_name == "DescribeCertificateAuthority"
        assert len(fault.received()) == 2

        fault.script([{"action": "reset_before"}, {"action": "ok"}])
        assert retries_of(describe(c)) == 1
        assert len(fault.received()) == 2


def test_reset_mid_body(fault):
    fault.script([{"action": "reset_mid_body", "repeat": 2}])
    with fclient(fault, 2) as c:
        with pytest.raises(acmpca.ConnectionClosedError) as ei:
            describe(c)
        check_failure(ei.value, 2, True, 200)  # the status line had arrived
        assert len(fault.received()) == 2

        fault.script([{"action": "reset_mid_body"}, {"action": "ok"}])
        assert retries_of(describe(c)) == 1


def test_stall_past_read_timeout(fault):
    # The server would hang up after 20 s: ReadTimeoutError shows the client gave up first.
    with fclient(fault, 2, read_timeout=0.3) as c:
        fault.script([{"action": "stall", "seconds": 20, "repeat": 2}])
        t0 = time.monotonic()
        with pytest.raises(acmpca.ReadTimeoutError) as ei:
            describe(c)
        assert time.monotonic() - t0 < 8
        e = ei.value
        assert isinstance(e, TimeoutError)
        check_failure(e, 2, True, 0)
        assert "read timeout" in e.message
        assert len(fault.received()) == 2

        fault.script([{"action": "stall", "seconds": 20, "after_headers": True, "repeat": 2}])
        with pytest.raises(acmpca.ReadTimeoutError) as ei:
            describe(c)
        check_failure(ei.value, 2, True, 200)
        assert len(fault.received()) == 2


@pytest.mark.parametrize("headers_too", [False, True])
def test_slow_trickle_inside_read_timeout(fault, headers_too):
    # Every gap is inside the read timeout, the whole answer takes longer: bytes are moving.
    step = 48 if headers_too else 16
    fault.script([{"action": "trickle", "chunk": step, "interval_ms": 100,
                   "headers_too": headers_too}])
    with fclient(fault, 1, read_timeout=0.5) as c:
        t0 = time.monotonic()
        out = describe(c)
        took = time.monotonic() - t0
    assert took > 0.6
    assert retries_of(out) == 0
    assert out["CertificateAuthority"]["Arn"] == CA_ARN
    assert len(fault.received()) == 1


@pytest.mark.parametrize("action", ["truncated_json", "invalid_json"])
def test_bad_json_is_a_parser_error(fault, action):
    fault.script([{"action": action}, {"action": "ok"}])
    with fclient(fault, 3) as c, pytest.raises(acmpca.ResponseParserError) as ei:
        describe(c)
    e = ei.value
    check_failure(e, 1, False, 200)
    assert "not valid JSON" in e.message
    assert e.operation_name == "DescribeCertificateAuthority"
    assert e.request_id == "fault-req-1"
    assert len(fault.received()) == 1


def test_html_502(fault):
    fault.script([{"action": "html_502", "repeat": 2}])
    with fclient(fault, 2) as c:
        with pytest.raises(acmpca.ClientError) as ei:
            describe(c)
        e = ei.value
        check_failure(e, 2, True, 502)
        check_service_metadata(e, 2, True)
        assert e.code == "502"
        assert "HTTP 502 with no error code" in e.message
        assert "502 Bad Gateway" in e.message
        assert e.request_id == "fault-req-2"
        assert len(fault.received()) == 2

        fault.script([{"action": "html_502"}, {"action": "ok"}])
        assert retries_of(describe(c)) == 1


@pytest.mark.smoke
@pytest.mark.parametrize("how", ["config", "keyword"])
def test_body_over_size_cap(fault, how):
    kwargs = ({"config": acmpca.Config(max_response_bytes=1024)} if how == "config"
              else {"max_response_bytes": 1024})
    with fclient(fault, 3, **kwargs) as c:
        for chunked in (False, True):
            fault.script([{"action": "big_body", "size": 4096, "chunked": chunked},
                          {"action": "ok"}])
            with pytest.raises(acmpca.ResponseParserError) as ei:
                describe(c)
            check_failure(ei.value, 1, False, 200)
            assert "1024-byte limit" in ei.value.message
            assert len(fault.received()) == 1
        # Under the cap is fine.
        fault.script([{"action": "big_body", "size": 1000}])
        assert describe(c)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.smoke
def test_response__header_over_the_line_limit_is_a_parser_error(fault):
    # One 200 KB header line, over libcurl's limit: the answer is refused as too large,
    # as a body over the cap is, not reported as the process running out of memory.
    fault.script([{"action": "big_header", "size": 200 * 1024}, {"action": "ok"}])
    with fclient(fault, 3) as c, pytest.raises(acmpca.Error) as ei:
        describe(c)
    assert not isinstance(ei.value, MemoryError)
    assert type(ei.value) is acmpca.ResponseParserError, repr(ei.value)
    check_failure(ei.value, 1, False, 200)
    assert len(fault.received()) == 1


def test_total_timeout__bounds_a_slow_answer(fault):
    # read_timeout alone would wait the 2 s out; the call's deadline ends it at 0.5 s.
    fault.script([{"action": "ok", "delay_ms": 2000, "repeat": 3}])
    with fclient(fault, 3, read_timeout=10, total_timeout=0.5) as c:
        t0 = time.monotonic()
        with pytest.raises(acmpca.ReadTimeoutError) as ei:
            describe(c)
        took = time.monotonic() - t0
    assert isinstance(ei.value, TimeoutError)
    assert 0.4 < took < 1.5
    assert len(fault.received()) == 1


def test_total_timeout__stops_the_retries(fault):
    # Twenty throttled answers, each 200 ms late, with twenty attempts allowed: the
    # 1 s deadline (from Config) ends the call after a few, with the last error.
    fault.script([{"action": "throttle", "delay_ms": 200, "repeat": 20}])
    with fclient(fault, 20, config=acmpca.Config(total_timeout=1.0)) as c:
        t0 = time.monotonic()
        with pytest.raises((acmpca.ClientError, acmpca.ReadTimeoutError)) as ei:
            describe(c)
        took = time.monotonic() - t0
    e = ei.value
    assert isinstance(e, acmpca.ReadTimeoutError) or e.code == "ThrottlingException"
    assert took < 2.0
    assert 1 <= len(fault.received()) <= 5
    assert e.attempts == len(fault.received())


def test_total_timeout__none_means_no_deadline(fault):
    fault.script([{"action": "ok", "delay_ms": 600}])
    with fclient(fault, 1, total_timeout=None, read_timeout=5) as c:
        assert retries_of(describe(c)) == 0
    assert "total_timeout=2.5" in repr(acmpca.Config(total_timeout=2.5))
    assert acmpca.Config(total_timeout=1).merge(acmpca.Config()).total_timeout == 1


def test_max_response_bytes_is_validated():
    for bad in (0, -1, "1024", True, 1.5):
        with pytest.raises(acmpca.InvalidConfigError):
            make_client("http://127.0.0.1:1", max_response_bytes=bad)
    assert "max_response_bytes=10" in repr(acmpca.Config(max_response_bytes=10))


def test_wrong_content_length(fault):
    fault.script([{"action": "wrong_length", "extra": 100, "repeat": 2}])
    with fclient(fault, 2) as c:
        with pytest.raises(acmpca.ConnectionClosedError) as ei:
            describe(c)
        check_failure(ei.value, 2, True, 200)
        assert len(fault.received()) == 2

        fault.script([{"action": "wrong_length"}, {"action": "ok"}])
        assert retries_of(describe(c)) == 1


def test_error_type_header_only(fault):
    with fclient(fault, 3) as c:
        fault.script([{"action": "header_only_error", "code": "ResourceNotFoundException",
                       "message": "no such CA"}, {"action": "ok"}])
        with pytest.raises(c.exceptions.ResourceNotFoundException) as ei:
            describe(c)
        e = ei.value
        check_failure(e, 1, False, 400)
        check_service_metadata(e, 1, False)
        assert e.code == "ResourceNotFoundException"
        assert e.message == "no such CA"
        assert e.response["Error"] == {"Code": "ResourceNotFoundException",
                                       "Message": "no such CA"}
        assert e.request_id == "fault-req-1"
        assert len(fault.received()) == 1

        # The header alone decides retries too: a header-only throttle is retried.
        fault.script([{"action": "header_only_error", "code": "ThrottlingException"},
                      {"action": "ok"}])
        assert retries_of(describe(c)) == 1

        # And with no body at all.
        fault.script([{"action": "respond", "status": 400, "body": "",
                       "headers": {"X-Amzn-ErrorType": "InvalidArnException:http://internal/"}}])
        with pytest.raises(acmpca.InvalidArnException) as ei:
            describe(c)
        check_failure(ei.value, 1, False, 400)
        assert ei.value.code == "InvalidArnException"


def sent_offsets(fault):
    """X-Amz-Date of each request received, minus our clock now (seconds)."""
    now = time.time()
    return [calendar.timegm(time.strptime(r["headers"]["x-amz-date"], "%Y%m%dT%H%M%SZ")) - now
            for r in fault.received()]


def test_skewed_date(fault):
    with fclient(fault, 3) as c:
        fault.script([{"action": "skew", "offset_s": 3600, "code": "RequestTimeTooSkewed"},
                      {"action": "ok"}])
        assert retries_of(describe(c)) == 1
        first, retry = sent_offsets(fault)
        assert abs(first) <= 60
        assert abs(retry - 3600) <= 60

        # Later calls on the same client start from the server's time.
        fault.script([{"action": "ok"}])
        assert retries_of(describe(c)) == 0
        (later,) = sent_offsets(fault)
        assert abs(later - 3600) <= 60

        # A skew error that repeats after the correction is not retried again.
        fault.script([{"action": "skew", "offset_s": 7200}, {"action": "skew", "offset_s": 10800},
                      {"action": "ok"}])
        with pytest.raises(acmpca.ClientError) as ei:
            describe(c)
        check_failure(ei.value, 2, False, 400)
        assert ei.value.code == "RequestTimeTooSkewed"
        assert len(fault.received()) == 2

    # InvalidSignatureException with a Date an hour behind: retried even at one attempt.
    with fclient(fault, 1) as c:
        fault.script([{"action": "skew", "status": 403, "offset_s": -3600,
                       "code": "InvalidSignatureException"}, {"action": "ok"}])
        assert retries_of(describe(c)) == 1
        assert abs(sent_offsets(fault)[1] + 3600) <= 60

    # A signature error while the clocks agree is just an error: no retry.
    with fclient(fault, 3) as c:
        fault.script([{"action": "skew", "status": 403, "offset_s": 0,
                       "code": "InvalidSignatureException"}, {"action": "ok"}])
        with pytest.raises(acmpca.ClientError) as ei:
            describe(c)
        check_failure(ei.value, 1, False, 403)
        assert ei.value.code == "InvalidSignatureException"
        assert len(fault.received()) == 1


@pytest.mark.smoke
def test_tls_self_signed(fault):
    tls = fault.tls_endpoint
    fault.script([])
    with fclient(fault, 3, endpoint=tls) as c, pytest.raises(acmpca.SSLError) as ei:
        describe(c)
    e = ei.value
    assert isinstance(e, acmpca.EndpointConnectionError)
    check_failure(e, 1, False, 0)
    assert "TLS error" in e.message and tls in e.message
    assert e.endpoint_url == tls
    assert fault.received() == []
    # The server notes the failed handshake on its own thread, maybe after the
    # client has given up: ask for up to 5 s.
    deadline = time.monotonic() + 5
    while fault.tls_failures() < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fault.tls_failures() >= 1

    # Accepted with the CA bundle: a str or a path-like.
    for verify in (fault.ca_path, pathlib.Path(fault.ca_path)):
        fault.script([])
        with fclient(fault, 3, endpoint=tls, verify=verify) as c:
            out = describe(c)
        assert retries_of(out) == 0
        assert out["CertificateAuthority"]["Arn"] == CA_ARN
        assert len(fault.received()) == 1

    # A bundle that does not hold the server's certificate still refuses.
    with fclient(fault, 3, endpoint=tls, verify="/nonexistent/ca.pem") as c, \
            pytest.raises(acmpca.SSLError):
        describe(c)


def tokens(fault):
    return [(r["body"] or {}).get("IdempotencyToken") for r in fault.received()]


def test_never_issue_twice(fault):
    with fclient(fault, 3) as c:
        fault.script([{"action": "issue_then_drop", "repeat": 2}, {"action": "ok"}])
        out = c.issue_certificate(**ISSUE)
        assert retries_of(out) == 2
        sent = tokens(fault)
        assert len(sent) == 3
        first = sent[0]
        assert first and len(first) <= 36
        assert sent == [first] * 3
        assert fault.issuances()["count"] == 1
        digest = hashlib.sha256(first.encode()).hexdigest()[:32]
        assert out["CertificateArn"] == CA_ARN + "/certificate/" + digest

        # A new logical call gets a new token.
        fault.script([{"action": "ok"}])
        c.issue_certificate(**ISSUE)
        (second,) = tokens(fault)
        assert second and second != first

        # A token the user passes wins, on every attempt.
        fault.script([{"action": "issue_then_drop"}, {"action": "ok"}])
        out = c.issue_certificate(IdempotencyToken="user-token-1", **ISSUE)
        assert retries_of(out) == 1
        assert tokens(fault) == ["user-token-1", "user-token-1"]
        assert fault.issuances() == {"count": 1, "tokens": {"user-token-1": 2},
                                     "without_token": 0}

        # CreateCertificateAuthority is covered too.
        fault.script([{"action": "drop"}, {"action": "ok"}])
        out = c.create_certificate_authority(**CREATE_CA)
        assert retries_of(out) == 1
        t = tokens(fault)
        assert len(t) == 2 and t[0] and t[0] == t[1]
