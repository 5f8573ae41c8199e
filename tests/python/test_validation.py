"""Argument validation happens before any I/O: against a closed port the
client must raise ParamValidationError (never a connection error), and the
scripted server must receive nothing. Also what goes on the wire for values
that are valid: blobs from bytes, str, bytearray, memoryview and files."""
import base64
import datetime
import io
import json

import pytest

import acmpca
from conftest import FAKE_CA_ARN, make_client

CA = FAKE_CA_ARN % "validation"
CSR = ("-----BEGIN CERTIFICATE REQUEST-----\nMIIBfake\n-----END CERTIFICATE REQUEST-----\n")
ISSUE = dict(CertificateAuthorityArn=CA, Csr=CSR, SigningAlgorithm="SHA256WITHRSA",
             Validity={"Value": 30, "Type": "DAYS"})


@pytest.fixture
def offline(closed_endpoint):
    with make_client(closed_endpoint) as c:
        yield c


def issue_with(**changes):
    args = dict(ISSUE)
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = v
    return args


CASES = [
    # (arguments, expected text in the message)
    (issue_with(Csr=None), "Csr: missing required parameter"),
    (issue_with(Validty={"Value": 1, "Type": "DAYS"}), "Validty: unknown parameter"),
    (issue_with(Validity={"Value": "30", "Type": "DAYS"}),
     "Validity.Value: expected an integer, got string"),
    (issue_with(Validity={"Value": True, "Type": "DAYS"}),
     "Validity.Value: expected an integer, got boolean"),
    (issue_with(Validity={"Value": 30.5, "Type": "DAYS"}), "Validity.Value: expected an integer, got 30.5"),
    (issue_with(Validity={"Value": 30}), "Validity.Type: missing required parameter"),
    (issue_with(Validity=[30, "DAYS"]), "Validity: expected an object, got list"),
    (issue_with(CertificateAuthorityArn="arn"), "CertificateAuthorityArn: length 3 is below"),
    (issue_with(CertificateAuthorityArn=None), "CertificateAuthorityArn: missing required"),
    (issue_with(SigningAlgorithm=None), "SigningAlgorithm: missing required parameter"),
    (issue_with(SigningAlgorithm=7), "SigningAlgorithm: expected a string, got number"),
    (issue_with(TemplateArn=None, Csr=b"-----BEGIN\x00binary"), "Csr: expected a string or bytes, got bytes with a NUL byte"),
    (issue_with(Csr={"not", "a", "blob"}), "Csr: expected a string or bytes, got set"),
    (issue_with(CertificateAuthorityArn=b"arn:aws:bytes"), "CertificateAuthorityArn: expected a string, got bytes"),
    (issue_with(CertificateAuthorityArn=datetime.datetime.now()),
     "CertificateAuthorityArn: expected a string, got a date/time"),
    (issue_with(CertificateAuthorityArn="nul\x00inside"), "CertificateAuthorityArn: expected a string, got str with a NUL character"),
    (issue_with(CertificateAuthorityArn=None, Csr=None), "CertificateAuthorityArn"),
    (issue_with(Validity={1: 2}), "Validity: expected an object, got dict with a key of type int"),
    (issue_with(Validity=None), "Validity: missing required parameter"),
    (issue_with(TemplateArn=None, ApiPassthrough={"Extensions": {"KeyUsage": {"DigitalSignature": "yes"}}}),
     "ApiPassthrough.Extensions.KeyUsage.DigitalSignature: expected a boolean, got string"),
]


@pytest.mark.smoke
@pytest.mark.parametrize("kwargs,message", CASES)
def test_issue_certificate_validation(offline, kwargs, message):
    with pytest.raises(acmpca.ParamValidationError) as info:
        offline.issue_certificate(**kwargs)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert info.value.message == str(info.value)


def test_nested_list_paths(offline):
    tags = [{"Key": "a", "Value": "b"}, {"Key": "", "Value": "c"}]
    with pytest.raises(acmpca.ParamValidationError, match=r"Tags\[1\]\.Key: length 0"):
        offline.tag_certificate_authority(CertificateAuthorityArn=CA, Tags=tags)
    with pytest.raises(acmpca.ParamValidationError, match=r"Tags\[0\]\.Value: expected a string, got object"):
        offline.tag_certificate_authority(CertificateAuthorityArn=CA,
                                          Tags=[{"Key": "a", "Value": object()}])
    with pytest.raises(acmpca.ParamValidationError, match=r"Tags: length 0 is below"):
        offline.tag_certificate_authority(CertificateAuthorityArn=CA, Tags=[])
    with pytest.raises(acmpca.ParamValidationError, match="nesting deeper"):
        deep = []
        deep.append(deep)
        offline.tag_certificate_authority(CertificateAuthorityArn=CA, Tags=deep)


def test_validation__bytes_to_a_string_member_is_refused_naming_its_path(offline):
    for value in (b"v", bytearray(b"v"), memoryview(b"v"), io.BytesIO(b"v")):
        with pytest.raises(acmpca.ParamValidationError,
                           match=r"^Tags\[1\]\.Value: expected a string, got bytes$"):
            offline.tag_certificate_authority(CertificateAuthorityArn=CA, Tags=[
                {"Key": "a", "Value": "b"}, {"Key": "k", "Value": value}])


def test_validation__a_date_to_a_string_member_is_refused_naming_its_path(offline):
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^Tags\[0\]\.Key: expected a string, got a date/time$"):
        offline.tag_certificate_authority(CertificateAuthorityArn=CA, Tags=[
            {"Key": datetime.date(2030, 1, 1)}])


def test_validation__report_lists_every_problem_one_a_line(offline):
    with pytest.raises(acmpca.ParamValidationError) as info:
        offline.issue_certificate(CertificateAuthorityArn="arn", Csr=b"x",
                                  Validity={"Value": "1", "Type": "DAYS"}, Extra=1)
    report = ["CertificateAuthorityArn: length 3 is below the minimum 5",
              "Validity.Value: expected an integer, got string",
              "Extra: unknown parameter; expected one of: ApiPassthrough, "
              "CertificateAuthorityArn, Csr, SigningAlgorithm, TemplateArn, Validity, "
              "ValidityNotBefore, IdempotencyToken",
              "SigningAlgorithm: missing required parameter"]
    assert info.value.kwargs["report"].split("\n") == report
    assert str(info.value) == "\n".join(report)


def test_none_and_positional_arguments(offline):
    with pytest.raises(acmpca.ParamValidationError, match="ResourceArn: expected a string, got null"):
        offline.get_policy(ResourceArn=None)
    with pytest.raises(TypeError, match="only accepts keyword arguments"):
        offline.get_policy(CA)
    with pytest.raises(acmpca.ParamValidationError, match="expected no parameters|unknown"):
        offline.list_certificate_authorities(Foo=1)
    with pytest.raises(TypeError):
        acmpca.Client.get_policy(object(), ResourceArn=CA)


def test_validation_sends_nothing(scripted_client, scripted):
    before = scripted.count
    for kwargs, _ in CASES:
        with pytest.raises(acmpca.ParamValidationError):
            scripted_client.issue_certificate(**kwargs)
    assert scripted.count == before


def last_body(scripted):
    return json.loads(scripted.requests[-1]["body"])


@pytest.mark.parametrize("blob", [CSR, CSR.encode(), bytearray(CSR.encode()),
                                  memoryview(CSR.encode()), io.BytesIO(CSR.encode()),
                                  io.StringIO(CSR)])
def test_blob_forms(scripted_client, scripted, blob):
    scripted_client.issue_certificate(**issue_with(Csr=blob))
    body = last_body(scripted)
    assert base64.b64decode(body["Csr"]).decode() == CSR
    assert body["Validity"] == {"Value": 30, "Type": "DAYS"}
    # An idempotency token is generated once per call when absent.
    assert len(body["IdempotencyToken"]) == 36


def test_wire_values(scripted_client, scripted):
    scripted_client.issue_certificate(**issue_with(IdempotencyToken="my-token",
                                                   Validity={"Value": 2 ** 40, "Type": "END_DATE"}))
    body = last_body(scripted)
    assert body["IdempotencyToken"] == "my-token"
    assert body["Validity"]["Value"] == 2 ** 40
    assert scripted.requests[-1]["target"] == "ACMPrivateCA.IssueCertificate"
    scripted_client.tag_certificate_authority(CertificateAuthorityArn=CA,
                                              Tags=({"Key": "k", "Value": "v\u00e9"},))
    assert last_body(scripted)["Tags"] == [{"Key": "k", "Value": "v\u00e9"}]


def test_result_shapes(scripted_client):
    result = scripted_client.list_tags(CertificateAuthorityArn=CA)
    assert set(result) == {"ResponseMetadata"}
    md = result["ResponseMetadata"]
    assert md["HTTPStatusCode"] == 200 and md["RetryAttempts"] == 0
    assert md["RequestId"].startswith("scripted-")
    assert md["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
