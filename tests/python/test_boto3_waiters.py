"""Waiters end as botocore's do (issue 14, gap 2): the same waits run through
boto3, acmpca and acmpca.aio against the fixture server (which answers
RequestInProgress, AccessDenied, unknown certificates and failing audit
reports) must raise WaiterError caught by `except botocore.exceptions.
WaiterError`, with the same reason, message and last_response; acmpca's also
carries the service error that ended the wait as __cause__."""
import asyncio
import uuid

import pytest

import acmpca
import acmpca.aio
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")
import botocore.exceptions as B  # noqa: E402

FAST = {"Delay": 0.01}


def unique(prefix):
    return FAKE_CA_ARN % ("%s-%s" % (prefix, uuid.uuid4().hex[:8]))


def outcome(e):
    """What a boto3 user sees of a WaiterError (run-specific metadata left out)."""
    last = e.last_response
    seen = {"str": str(e), "kwargs": e.kwargs, "keys": sorted(last)}
    if "Error" in last:
        seen["error"] = last["Error"]
    else:
        seen["status"] = last.get("AuditReportStatus")
    seen["http_status"] = last["ResponseMetadata"]["HTTPStatusCode"]
    return seen


def scenarios(ca):
    """(name, waiter, kwargs) of each way a wait ends badly."""
    return [
        ("failure_acceptor", "certificate_issued",
         dict(CertificateAuthorityArn=ca, CertificateArn=ca + "/access-denied",
              WaiterConfig=FAST)),
        ("unexpected_error", "certificate_issued",
         dict(CertificateAuthorityArn=ca, CertificateArn=ca + "/certificate/unknown",
              WaiterConfig=FAST)),
        ("max_attempts_after_retries", "certificate_issued",
         dict(CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-9",
              WaiterConfig=dict(FAST, MaxAttempts=2))),
    ]


def run_sync(pca, ca):
    out = {}
    for name, waiter, kwargs in scenarios(ca):
        try:
            pca.get_waiter(waiter).wait(**kwargs)
        except B.WaiterError as e:
            out[name] = e
    return out


async def run_aio(endpoint, ca):
    out = {}
    async with acmpca.aio.client("acm-pca", endpoint_url=endpoint, region_name=REGION,
                                 **CREDS) as pca:
        for name, waiter, kwargs in scenarios(ca):
            try:
                await pca.get_waiter(waiter).wait(**kwargs)
            except B.WaiterError as e:
                out[name] = e
    return out


def test_boto3_waiters__same_waiter_errors_as_boto3(fixture_endpoint):
    b = boto3.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION, **CREDS)
    theirs = run_sync(b, unique("b"))
    with acmpca.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION,
                       **CREDS) as a:
        ours = run_sync(a, unique("a"))
    ours_aio = asyncio.run(run_aio(fixture_endpoint, unique("aio")))
    assert sorted(theirs) == sorted(ours) == sorted(ours_aio) == [
        "failure_acceptor", "max_attempts_after_retries", "unexpected_error"]
    for name in theirs:
        assert outcome(ours[name]) == outcome(theirs[name]), name
        assert outcome(ours_aio[name]) == outcome(theirs[name]), name
    # botocore's reasons, word for word.
    assert theirs["failure_acceptor"].kwargs["reason"] == (
        "Waiter encountered a terminal failure state: Matched expected service error code: "
        "AccessDeniedException")
    assert ours["unexpected_error"].kwargs["reason"].startswith(
        "An error occurred (ResourceNotFoundException): ")
    assert ours["max_attempts_after_retries"].kwargs["reason"] == (
        "Max attempts exceeded. Previously accepted state: Matched expected service error "
        "code: RequestInProgressException")


def test_boto3_waiters__the_service_error_is_the_cause(fixture_client):
    ca = unique("cause")
    for name, waiter, kwargs in scenarios(ca):
        with pytest.raises(acmpca.WaiterError) as info:
            fixture_client.get_waiter(waiter).wait(**kwargs)
        e = info.value
        assert isinstance(e, B.WaiterError) and e.name == "CertificateIssued", name
        assert isinstance(e.__cause__, acmpca.ClientError), name
        assert e.__cause__.response == e.last_response, name
        assert e.reason == e.kwargs["reason"] and e.code == e.last_response["Error"]["Code"]


def audit_waits(pca, ca):
    """A report that ends FAILED (a path failure acceptor), and one still in
    progress after one attempt (no acceptor matched: "Max attempts exceeded")."""
    out = {}
    failing = FAKE_CA_ARN % "failing-audit"
    for name, arn, config in (("path_failure", failing, dict(FAST, MaxAttempts=5)),
                              ("max_attempts_no_match", ca, dict(FAST, MaxAttempts=1))):
        report = pca.create_certificate_authority_audit_report(
            CertificateAuthorityArn=arn, S3BucketName="bucket", AuditReportResponseFormat="JSON")
        try:
            pca.get_waiter("audit_report_created").wait(
                CertificateAuthorityArn=arn, AuditReportId=report["AuditReportId"],
                WaiterConfig=config)
        except B.WaiterError as e:
            out[name] = e
    return out


def test_boto3_waiters__path_acceptors_as_boto3(fixture_endpoint):
    b = boto3.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION, **CREDS)
    theirs = audit_waits(b, unique("b"))
    with acmpca.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION,
                       **CREDS) as a:
        ours = audit_waits(a, unique("a"))
    assert sorted(ours) == sorted(theirs) == ["max_attempts_no_match", "path_failure"]
    for name in theirs:
        assert outcome(ours[name]) == outcome(theirs[name]), name
        assert ours[name].__cause__ is None  # a success answer ended it, no error
    assert ours["path_failure"].kwargs["reason"] == (
        'Waiter encountered a terminal failure state: For expression "AuditReportStatus" we '
        'matched expected path: "FAILED"')
    assert ours["max_attempts_no_match"].kwargs["reason"] == "Max attempts exceeded"
    assert ours["path_failure"].last_response["AuditReportStatus"] == "FAILED"


def test_boto3_waiters__acceptors_are_botocores(fixture_client):
    b = boto3.client("acm-pca", region_name=REGION, **CREDS)
    for name in fixture_client.waiter_names:
        theirs = b.get_waiter(name).config
        ours = fixture_client.get_waiter(name).config
        assert (ours.delay, ours.max_attempts, ours.operation) == (
            theirs.delay, theirs.max_attempts, theirs.operation)
        assert [(a.state, a.matcher, a.expected, a.argument) for a in ours.acceptors] == [
            (a.state, a.matcher, a.expected, a.argument) for a in theirs.acceptors]
