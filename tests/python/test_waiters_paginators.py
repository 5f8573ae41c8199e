"""Waiters and paginators, driving the core's implementations against the
fixture server (RequestInProgress paths, audit reports, permissions pages)
and moto."""
import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import acmpca
from conftest import CA_CONFIG, FAKE_CA_ARN, make_client


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


# ---- waiters -----------------------------------------------------------------------

@pytest.mark.smoke
def test_certificate_issued_after_request_in_progress(fixture_client):
    ca = FAKE_CA_ARN % unique("w")
    waiter = fixture_client.get_waiter("certificate_issued")
    assert waiter.name == "CertificateIssued"
    assert waiter.config.delay == 1 and waiter.config.max_attempts == 60
    start = time.monotonic()
    assert waiter.wait(CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-3",
                       WaiterConfig={"Delay": 0.05, "MaxAttempts": 10}) is None
    # Three RequestInProgress answers, three pauses, then the certificate.
    assert time.monotonic() - start >= 0.15
    got = fixture_client.get_certificate(CertificateAuthorityArn=ca,
                                         CertificateArn=ca + "/in-progress-3")
    assert got["Certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_waiter_gives_up(fixture_client):
    ca = FAKE_CA_ARN % unique("w")
    with pytest.raises(acmpca.WaiterError) as info:
        fixture_client.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-5",
            WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
    e = info.value
    assert e.name == "CertificateIssued"
    # botocore's reason; last_response is the last poll's answer (issue 14).
    assert e.reason.startswith("Max attempts exceeded")
    assert e.last_response["Error"]["Code"] == "RequestInProgressException"


def test_waiter_failure_acceptor(fixture_client):
    ca = FAKE_CA_ARN % unique("w")
    with pytest.raises(acmpca.WaiterError) as info:
        fixture_client.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=ca, CertificateArn=ca + "/access-denied",
            WaiterConfig={"Delay": 0.01})
    e = info.value
    assert e.code == "AccessDeniedException"
    assert e.last_response["Error"]["Code"] == "AccessDeniedException"
    assert e.name == "CertificateIssued"


def test_waiter_unexpected_error_is_a_waiter_error_caused_by_it(fixture_client):
    # As botocore (issue 14): a WaiterError whose __cause__ is the service's error.
    ca = FAKE_CA_ARN % unique("w")
    with pytest.raises(acmpca.WaiterError) as info:
        fixture_client.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=ca, CertificateArn=ca + "/certificate/unknown",
            WaiterConfig={"Delay": 0.01})
    assert isinstance(info.value.__cause__, acmpca.ResourceNotFoundException)


def test_audit_report_created(fixture_client):
    ca = FAKE_CA_ARN % unique("audit")
    report = fixture_client.create_certificate_authority_audit_report(
        CertificateAuthorityArn=ca, S3BucketName="bucket", AuditReportResponseFormat="CSV")
    fixture_client.get_waiter("audit_report_created").wait(
        CertificateAuthorityArn=ca, AuditReportId=report["AuditReportId"],
        WaiterConfig={"Delay": 0.01, "MaxAttempts": 5})
    failing = FAKE_CA_ARN % "failing-audit"
    report = fixture_client.create_certificate_authority_audit_report(
        CertificateAuthorityArn=failing, S3BucketName="bucket",
        AuditReportResponseFormat="JSON")
    with pytest.raises(acmpca.WaiterError, match="FAILED"):
        fixture_client.get_waiter("audit_report_created").wait(
            CertificateAuthorityArn=failing, AuditReportId=report["AuditReportId"],
            WaiterConfig={"Delay": 0.01, "MaxAttempts": 5})


INTERRUPTED = textwrap.dedent("""
    import os, signal, sys, threading, time
    import acmpca
    endpoint, ca = sys.argv[1], sys.argv[2]
    c = acmpca.client(region_name="us-east-1", endpoint_url=endpoint,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    w = c.get_waiter("certificate_issued")
    # Ctrl-C from another thread, 0.5 s into a wait whose pauses are 30 s long.
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    try:
        w.wait(CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-99",
               WaiterConfig={"Delay": 30, "MaxAttempts": 50})
    except KeyboardInterrupt:
        print("KeyboardInterrupt after %.2f s" % (time.monotonic() - start))
        # The client is still usable after the interrupted wait.
        c.list_permissions(CertificateAuthorityArn=ca)
        sys.exit(0)
    print("the waiter returned")
    sys.exit(1)
""")


def test_ctrl_c_stops_a_waiter_promptly(fixture_endpoint):
    """SIGINT during a waiter's 30 s pause raises KeyboardInterrupt at once, in a
    process of its own so a stray interrupt cannot stop the test run."""
    ca = FAKE_CA_ARN % unique("sigint")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(acmpca.__file__))] + sys.path)
    start = time.monotonic()
    # cwd: not the repository root, where `-c` would find the Lua binding's acmpca.so.
    out = subprocess.run([sys.executable, "-c", INTERRUPTED, fixture_endpoint, ca],
                         capture_output=True, text=True, env=env, timeout=60,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.returncode == 0, out.stdout + out.stderr
    took = float(out.stdout.split()[2])
    assert 0.4 < took < 2.0, out.stdout
    assert time.monotonic() - start < 20


class Stop(Exception):
    pass


@pytest.mark.smoke
def test_signal_handler_exception_stops_a_waiter(fixture_client):
    """Whatever a signal handler raises during a wait is what wait() raises."""
    ca = FAKE_CA_ARN % unique("alarm")

    def handler(signum, frame):
        raise Stop("from the handler")

    old = signal.signal(signal.SIGALRM, handler)
    start = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Stop, match="from the handler"):
            fixture_client.get_waiter("certificate_issued").wait(
                CertificateAuthorityArn=ca, CertificateArn=ca + "/in-progress-99",
                WaiterConfig={"Delay": 0.07, "MaxAttempts": 1000})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - start < 2.0
    # The thread's state is clean: the next call works.
    assert fixture_client.list_permissions(CertificateAuthorityArn=ca)["Permissions"] == []


@pytest.mark.smoke
def test_signal_handler_exception_stops_request_certificate(fixture_client):
    """request_certificate's wait for the certificate is interruptible too."""
    ca = FAKE_CA_ARN % unique("slow-issue")

    def handler(signum, frame):
        raise Stop("from the handler")

    old = signal.signal(signal.SIGALRM, handler)
    start = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Stop, match="from the handler"):
            fixture_client.request_certificate(ca, common_name="slow.example.test",
                                               signing_algorithm="SHA256WITHECDSA",
                                               wait_delay=5, wait_max_attempts=100)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - start < 2.0


def test_csr_created_on_moto(client):
    arn = client.create_certificate_authority(
        CertificateAuthorityConfiguration=CA_CONFIG,
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    client.get_waiter("certificate_authority_csr_created").wait(CertificateAuthorityArn=arn)


def test_waiter_arguments(fixture_client):
    assert fixture_client.waiter_names == ["audit_report_created",
                                           "certificate_authority_csr_created",
                                           "certificate_issued"]
    with pytest.raises(ValueError, match="Waiter does not exist"):
        fixture_client.get_waiter("nope")
    w = fixture_client.get_waiter("CertificateIssued")
    with pytest.raises(acmpca.ParamValidationError, match="WaiterConfig"):
        w.wait(CertificateAuthorityArn=FAKE_CA_ARN % "x", CertificateArn=FAKE_CA_ARN % "y",
               WaiterConfig={"Pause": 1})
    with pytest.raises(acmpca.ParamValidationError, match="MaxAttempts"):
        w.wait(CertificateAuthorityArn=FAKE_CA_ARN % "x", CertificateArn=FAKE_CA_ARN % "y",
               WaiterConfig={"MaxAttempts": "3"})
    with pytest.raises(acmpca.ParamValidationError, match="CertificateArn"):
        w.wait(CertificateAuthorityArn=FAKE_CA_ARN % "x")
    with pytest.raises(TypeError):
        w.wait("positional")


# ---- paginators ------------------------------------------------------------------------

@pytest.fixture
def permissions_ca(fixture_client):
    ca = FAKE_CA_ARN % unique("pages")
    for i in range(7):
        fixture_client.create_permission(CertificateAuthorityArn=ca,
                                         Principal="p%d.example.com" % i,
                                         Actions=["GetCertificate"])
    return ca


def principals(pages):
    return [p["Principal"] for page in pages for p in page["Permissions"]]


@pytest.mark.smoke
def test_pages(fixture_client, permissions_ca):
    pager = fixture_client.get_paginator("list_permissions")
    pages = list(pager.paginate(CertificateAuthorityArn=permissions_ca,
                                PaginationConfig={"PageSize": 2}))
    assert [len(p["Permissions"]) for p in pages] == [2, 2, 2, 1]
    assert principals(pages) == ["p%d.example.com" % i for i in range(7)]
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    for page in pages:
        for perm in page["Permissions"]:
            assert perm["CreatedAt"].tzinfo is not None


def test_max_items_and_starting_token(fixture_client, permissions_ca):
    pager = fixture_client.get_paginator("list_permissions")
    it = pager.paginate(CertificateAuthorityArn=permissions_ca,
                        PaginationConfig={"PageSize": 2, "MaxItems": 3})
    first = list(it)
    assert principals(first) == ["p0.example.com", "p1.example.com", "p2.example.com"]
    assert it.resume_token
    rest = pager.paginate(CertificateAuthorityArn=permissions_ca,
                          PaginationConfig={"PageSize": 2, "StartingToken": it.resume_token})
    assert principals(rest) == ["p%d.example.com" % i for i in range(3, 7)]
    # Iterating again starts over.
    assert principals(it) == principals(first)


def test_build_full_result(fixture_client, permissions_ca):
    pager = fixture_client.get_paginator("list_permissions")
    full = pager.paginate(CertificateAuthorityArn=permissions_ca,
                          PaginationConfig={"PageSize": 3}).build_full_result()
    assert list(full) == ["Permissions"] and len(full["Permissions"]) == 7
    part = pager.paginate(CertificateAuthorityArn=permissions_ca,
                          PaginationConfig={"PageSize": 2, "MaxItems": 4}).build_full_result()
    assert len(part["Permissions"]) == 4 and part["NextToken"]


def decode(token):
    """botocore's resume token: base64 of json.dumps({"NextToken": ...}), with
    "boto_truncate_amount" when MaxItems stopped inside a page."""
    return json.loads(base64.b64decode(token, validate=True))


def test_resume_tokens_match_boto3(fixture_endpoint, permissions_ca):
    boto3 = pytest.importorskip("boto3")
    b = boto3.client("acm-pca", endpoint_url=fixture_endpoint, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing")
    a = make_client(fixture_endpoint)
    # Mid-page (3 of 2+2) and at a page boundary (4 of 2+2).
    for cfg, doc in (({"PageSize": 2, "MaxItems": 3},
                      {"NextToken": "2", "boto_truncate_amount": 1}),
                     ({"PageSize": 2, "MaxItems": 4}, {"NextToken": "4"})):
        theirs = b.get_paginator("list_permissions").paginate(
            CertificateAuthorityArn=permissions_ca, PaginationConfig=cfg).build_full_result()
        ours = a.get_paginator("list_permissions").paginate(
            CertificateAuthorityArn=permissions_ca, PaginationConfig=cfg).build_full_result()
        # The same token, to the byte.
        assert ours["NextToken"] == theirs["NextToken"]
        assert decode(ours["NextToken"]) == doc
        assert principals([ours]) == principals([theirs])
        rest = ["p%d.example.com" % i for i in range(cfg["MaxItems"], 7)]
        # A token from boto3 resumes here, and the other way round.
        resumed = a.get_paginator("list_permissions").paginate(
            CertificateAuthorityArn=permissions_ca,
            PaginationConfig={"StartingToken": theirs["NextToken"]}).build_full_result()
        assert principals([resumed]) == rest
        resumed = b.get_paginator("list_permissions").paginate(
            CertificateAuthorityArn=permissions_ca,
            PaginationConfig={"StartingToken": ours["NextToken"]}).build_full_result()
        assert principals([resumed]) == rest
    a.close()


def test_pages_carry_response_metadata(fixture_client, permissions_ca):
    pages = list(fixture_client.get_paginator("list_permissions").paginate(
        CertificateAuthorityArn=permissions_ca, PaginationConfig={"PageSize": 3}))
    ids = set()
    for page in pages:
        md = page["ResponseMetadata"]
        assert md["HTTPStatusCode"] == 200 and md["RetryAttempts"] == 0
        assert md["HTTPHeaders"]["x-amzn-requestid"] == md["RequestId"]
        ids.add(md["RequestId"])
    assert len(ids) == len(pages) == 3


def test_failed_page_carries_response_metadata(scripted_client):
    pager = scripted_client.get_paginator("list_tags")
    with pytest.raises(acmpca.InvalidArnException) as info:
        next(iter(pager.paginate(
            CertificateAuthorityArn=FAKE_CA_ARN % "acmpca-test:error:InvalidArnException")))
    md = info.value.response["ResponseMetadata"]
    assert md["HTTPStatusCode"] == 400 and md["RequestId"].startswith("scripted-")
    assert md["HTTPHeaders"]["x-amzn-requestid"] == md["RequestId"]


def test_list_certificate_authorities_on_moto(client):
    mine = {client.create_certificate_authority(
        CertificateAuthorityConfiguration=CA_CONFIG,
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"] for _ in range(3)}
    pager = client.get_paginator("list_certificate_authorities")
    seen = [ca["Arn"] for page in pager.paginate(PaginationConfig={"PageSize": 2})
            for ca in page["CertificateAuthorities"]]
    assert mine <= set(seen) and len(seen) == len(set(seen))
    full = pager.paginate().build_full_result()
    assert mine <= {ca["Arn"] for ca in full["CertificateAuthorities"]}
    tags = client.get_paginator("list_tags").paginate(CertificateAuthorityArn=sorted(mine)[0])
    assert [{k: v for k, v in p.items() if k != "ResponseMetadata"}
            for p in tags] == [{"Tags": []}]


def test_paginator_arguments(fixture_client):
    assert fixture_client.can_paginate("list_tags")
    assert fixture_client.can_paginate("ListCertificateAuthorities")
    assert not fixture_client.can_paginate("get_certificate")
    with pytest.raises(ValueError, match="cannot be paginated"):
        fixture_client.get_paginator("get_certificate")
    pager = fixture_client.get_paginator("list_permissions")
    with pytest.raises(acmpca.ParamValidationError, match="PaginationConfig"):
        pager.paginate(CertificateAuthorityArn=FAKE_CA_ARN % "x", PaginationConfig={"Max": 1})
    with pytest.raises(acmpca.ParamValidationError, match="PageSize"):
        pager.paginate(CertificateAuthorityArn=FAKE_CA_ARN % "x",
                       PaginationConfig={"PageSize": 0})
    with pytest.raises(acmpca.ParamValidationError, match="CertificateAuthorityArn"):
        next(iter(pager.paginate()))
