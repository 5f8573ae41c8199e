"""acmpca.stub.Stubber side by side with botocore.stub.Stubber, and acmpca.testing's
moto server: the same test code, run with either client, sees the same answers,
errors and refusals, and nothing reaches the network while stubbed."""
import copy
import datetime

import pytest

import acmpca
from acmpca.stub import ANY, Stubber
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")
botocore_stub = pytest.importorskip("botocore.stub")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

CA = FAKE_CA_ARN % "11111111-2222-3333-4444-555555555555"
CERT = CA + "/certificate/0123456789abcdef"


def pairs(endpoint):
    """(client, Stubber class, module of the stub errors) for boto3 and for acmpca."""
    args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
    return [(boto3.client("acm-pca", **args), botocore_stub.Stubber, botocore_exceptions),
            (acmpca.client("acm-pca", **args), Stubber, acmpca)]


def test_stub__add_response_is_returned_without_sending(scripted):
    outs = []
    for client, stubber_class, _ in pairs(scripted.endpoint):
        scripted.clear()
        with stubber_class(client) as stubber:
            stubber.add_response("get_certificate",
                                 {"Certificate": "PEM", "CertificateChain": "CHAIN"},
                                 {"CertificateAuthorityArn": CA, "CertificateArn": ANY})
            outs.append(client.get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT))
            stubber.assert_no_pending_responses()
        assert scripted.requests == []
    assert outs[0] == outs[1] == {"Certificate": "PEM", "CertificateChain": "CHAIN"}


def test_stub__add_client_error_raises_the_modelled_class(scripted):
    seen = []
    for client, stubber_class, _ in pairs(scripted.endpoint):
        with stubber_class(client) as stubber:
            stubber.add_client_error("describe_certificate_authority",
                                     "ResourceNotFoundException", "no such CA",
                                     http_status_code=404,
                                     response_meta={"RequestId": "r-1"})
            with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
                client.describe_certificate_authority(CertificateAuthorityArn=CA)
        e = info.value
        seen.append((type(e).__name__, e.response, e.operation_name, str(e)))
    assert seen[0] == seen[1]
    assert seen[1][1]["ResponseMetadata"] == {"HTTPStatusCode": 404, "RequestId": "r-1"}


def test_stub__unmodelled_error_code_raises_client_error(scripted):
    for client, stubber_class, _ in pairs(scripted.endpoint):
        with stubber_class(client) as stubber:
            stubber.add_client_error("list_tags", "SomethingNew")
            with pytest.raises(client.exceptions.ClientError) as info:
                client.list_tags(CertificateAuthorityArn=CA)
        assert info.value.response["Error"]["Code"] == "SomethingNew"


def test_stub__wrong_operation_and_unstubbed_calls_raise_as_botocore(scripted):
    seen = []
    for client, stubber_class, errors in pairs(scripted.endpoint):
        got = []
        with stubber_class(client) as stubber:
            with pytest.raises(errors.UnStubbedResponseError) as info:
                client.list_tags(CertificateAuthorityArn=CA)
            got.append(str(info.value))
            stubber.add_response("get_policy", {"Policy": "{}"})
            with pytest.raises(errors.StubResponseError) as info:
                client.list_tags(CertificateAuthorityArn=CA)
            got.append(str(info.value))
            with pytest.raises(AssertionError, match="1 responses remaining"):
                stubber.assert_no_pending_responses()
        seen.append(got)
    assert seen[0] == seen[1]
    assert issubclass(acmpca.UnStubbedResponseError, acmpca.StubAssertionError)
    assert issubclass(acmpca.StubAssertionError, AssertionError)
    assert issubclass(acmpca.StubResponseError, acmpca.Error)


def test_stub__expected_params_mismatch_raises_stub_assertion_error(scripted):
    seen = []
    for client, stubber_class, errors in pairs(scripted.endpoint):
        with stubber_class(client) as stubber:
            stubber.add_response("list_tags", {"Tags": [{"Key": "k"}]},
                                 {"CertificateAuthorityArn": "other"})
            with pytest.raises(errors.StubAssertionError) as info:
                client.list_tags(CertificateAuthorityArn=CA)
            stubber.add_response("list_tags", {"Tags": [{"Key": "k"}]},
                                 {"CertificateAuthorityArn": CA})
            # An extra parameter the expectation does not list.
            with pytest.raises(errors.StubAssertionError):
                client.list_tags(CertificateAuthorityArn=CA, MaxResults=3)
        seen.append(str(info.value))
    assert seen[0] == seen[1]


def test_stub__response_checked_against_the_output_model(scripted):
    seen = []
    for client, stubber_class, errors in pairs(scripted.endpoint):
        stubber = stubber_class(client)
        messages = []
        for bad in ({"Polcy": "{}"}, {"Policy": 1}):
            with pytest.raises(errors.ParamValidationError) as info:
                stubber.add_response("get_policy", bad)
            messages.append(str(info.value))
        with pytest.raises(errors.ParamValidationError) as info:
            stubber.add_response("list_tags", {"Tags": []})  # below the list's minimum
        messages.append(str(info.value))
        with pytest.raises(errors.ParamValidationError, match="CertificateAuthority.Status"):
            stubber.add_response("describe_certificate_authority",
                                 {"CertificateAuthority": {"Arn": CA, "Status": 5}})
        # Operations that return nothing take only ResponseMetadata.
        with pytest.raises(errors.ParamValidationError):
            stubber.add_response("delete_policy", {"Extra": 1})
        stubber.add_response("delete_policy", {"ResponseMetadata": {"HTTPStatusCode": 200}})
        seen.append(messages)
    # The same responses are refused; acmpca's messages are the core's validator's (the
    # one walk of values against the model), naming the path as for call parameters.
    assert len(seen[0]) == len(seen[1])
    assert seen[1] == ["Polcy: unknown parameter; expected one of: Policy",
                       "Policy: expected a string, got number",
                       "Tags: length 0 is below the minimum 1"]


def test_stub__response_timestamps_take_a_datetime_iso_text_or_a_number(scripted):
    client = acmpca.client("acm-pca", **dict(CREDS, region_name=REGION,
                                             endpoint_url=scripted.endpoint))
    with Stubber(client) as stubber:
        for when in (datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
                     datetime.date(2030, 1, 1), "2030-01-01T00:00:00Z", 1893456000):
            stubber.add_response("describe_certificate_authority",
                                 {"CertificateAuthority": {"Arn": CA, "CreatedAt": when}})
        with pytest.raises(acmpca.ParamValidationError,
                           match=r"^CertificateAuthority\.CreatedAt: expected a timestamp .*"
                                 r"got \"next tuesday\"$"):
            stubber.add_response("describe_certificate_authority",
                                 {"CertificateAuthority": {"CreatedAt": "next tuesday"}})
        with pytest.raises(acmpca.ParamValidationError,
                           match=r"^CertificateAuthority\.Arn: expected a string, got a date/time$"):
            stubber.add_response("describe_certificate_authority",
                                 {"CertificateAuthority": {"Arn": datetime.date(2030, 1, 1)}})


def test_stub__timestamps_and_nested_shapes_validate(scripted):
    for client, stubber_class, _ in pairs(scripted.endpoint):
        with stubber_class(client) as stubber:
            when = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
            stubber.add_response("describe_certificate_authority", {"CertificateAuthority": {
                "Arn": CA, "Status": "ACTIVE", "CreatedAt": when,
                "CertificateAuthorityConfiguration": {
                    "KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA",
                    "Subject": {"CommonName": "x"}}}})
            out = client.describe_certificate_authority(CertificateAuthorityArn=CA)
            assert out["CertificateAuthority"]["CreatedAt"] == when


def test_stub__invalid_params_still_raise_param_validation_error(scripted):
    for client, stubber_class, errors in pairs(scripted.endpoint):
        with stubber_class(client) as stubber:
            stubber.add_response("list_tags", {"Tags": [{"Key": "k"}]})
            with pytest.raises(errors.ParamValidationError):
                client.list_tags(CertificateAuthorityArn=CA, MaxResults="three")


def test_stub__waiters_poll_the_stubbed_answers(scripted):
    for client, stubber_class, _ in pairs(scripted.endpoint):
        scripted.clear()
        with stubber_class(client) as stubber:
            stubber.add_client_error("get_certificate_authority_csr", "RequestInProgressException")
            stubber.add_response("get_certificate_authority_csr", {"Csr": "PEM"},
                                 {"CertificateAuthorityArn": CA})
            client.get_waiter("certificate_authority_csr_created").wait(
                CertificateAuthorityArn=CA, WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
            stubber.assert_no_pending_responses()
        assert scripted.requests == []


def test_stub__deactivate_sends_again(scripted):
    client = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, **CREDS)
    stubber = Stubber(client)
    stubber.activate()
    stubber.add_response("list_tags", {"Tags": [{"Key": "k", "Value": "v"}]})
    assert client.list_tags(CertificateAuthorityArn=CA)["Tags"] == [{"Key": "k", "Value": "v"}]
    stubber.deactivate()
    scripted.clear()
    assert client.list_tags(CertificateAuthorityArn=CA)["ResponseMetadata"]["HTTPStatusCode"] \
        == 200
    assert len(scripted.requests) == 1


def test_stub__unknown_method_is_refused(scripted):
    for client, stubber_class, _ in pairs(scripted.endpoint):
        with pytest.raises(ValueError, match="does not have method: no_such_call"):
            stubber_class(client).add_response("no_such_call", {})


def test_stub__import_does_not_load_botocore():
    import subprocess
    import sys
    code = ("import sys, acmpca.stub; print([m for m in sys.modules "
            "if m.split('.')[0] in ('botocore', 'boto3', 'dateutil', 'moto')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(__import__("os").environ,
                                  PYTHONPATH=":".join(p for p in sys.path if p)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---- acmpca.testing ------------------------------------------------------------------------

def test_testing__moto_server_serves_acmpca_and_boto3():
    from acmpca.testing import moto_server

    with moto_server() as moto:
        assert moto.endpoint.startswith("http://127.0.0.1:")
        moto.reset()
        pca = moto.client()
        arn = pca.create_certificate_authority(
            CertificateAuthorityConfiguration={"KeyAlgorithm": "EC_prime256v1",
                                               "SigningAlgorithm": "SHA256WITHECDSA",
                                               "Subject": {"CommonName": "testing"}},
            CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
        theirs = moto.boto3_client().describe_certificate_authority(
            CertificateAuthorityArn=arn)["CertificateAuthority"]
        assert theirs["Arn"] == arn
        moto.reset()
        assert pca.list_certificate_authorities()["CertificateAuthorities"] == []
    assert pca.closed


pytest_plugins = ["acmpca.testing"]


def test_testing__pytest_fixture_gives_an_emptied_server(acmpca_moto):
    pca = acmpca_moto.client()
    assert pca.list_certificate_authorities()["CertificateAuthorities"] == []
    assert pca.meta.endpoint_url == acmpca_moto.endpoint


def test_testing__client_fixture(acmpca_moto_client):
    assert acmpca_moto_client.list_certificate_authorities()["CertificateAuthorities"] == []


def test_stub__paginator_pages_are_stubbed_calls(scripted):
    """A paginator's pages are calls to the Stubber, each with the page's token."""
    created = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    first = {"CertificateAuthorities": [{"Arn": CA + "1", "Status": "ACTIVE",
                                         "CreatedAt": created}], "NextToken": "page-2"}
    second = {"CertificateAuthorities": [{"Arn": CA + "2", "Status": "DISABLED"},
                                         {"Arn": CA + "3", "Status": "ACTIVE"}]}
    seen = []
    for client, stubber_class, _ in pairs(scripted.endpoint):
        scripted.clear()
        with stubber_class(client) as stubber:
            # botocore's paginator trims a stubbed answer in place: each client its own.
            stubber.add_response("list_certificate_authorities", copy.deepcopy(first),
                                 {"MaxResults": 2})
            stubber.add_response("list_certificate_authorities", copy.deepcopy(second),
                                 {"MaxResults": 2, "NextToken": "page-2"})
            pager = client.get_paginator("list_certificate_authorities")
            pages = pager.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 2})
            listed = [page for page in pages]
            stubber.assert_no_pending_responses()
        assert scripted.requests == []
        seen.append((listed, pages.resume_token))
    assert seen[0] == seen[1]
    assert [ca["Arn"] for page in seen[1][0] for ca in page["CertificateAuthorities"]] == [
        CA + "1", CA + "2"]
