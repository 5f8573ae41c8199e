"""Every exception class, each reached from a real server answer (moto, the
fixture server's scripted ARNs, the scripted server of _servers.py) or a real
client-side failure on loopback."""
import json
import os
import pickle
import re

import pytest

import acmpca
from conftest import FAKE_CA_ARN, make_client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def aws_model():
    """Operations and shapes as AWS's service model states them (core/model, vendored
    from botocore), not as the module under test read them."""
    with open(os.path.join(ROOT, "core", "model", "service-2.json")) as f:
        doc = json.load(f)
    shapes = {}
    for name, s in doc["shapes"].items():
        shape = {k: s[k] for k in ("type", "min", "max") if k in s}
        if s["type"] == "structure":
            required = set(s.get("required", []))
            shape["members"] = [{"name": m, "shape": v["shape"], "required": m in required}
                                for m, v in s.get("members", {}).items()]
        elif s["type"] == "list":
            shape["element"] = s["member"]["shape"]
        shapes[name] = shape
    operations = [{"name": name, "input": op["input"]["shape"],
                   "snake_name": re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(),
                   "errors": [e["shape"] for e in op.get("errors", [])]}
                  for name, op in doc["operations"].items()]
    return {"operations": operations, "shapes": shapes}


MODEL = aws_model()
SHAPES = MODEL["shapes"]
OPS = {op["name"]: op for op in MODEL["operations"]}
COMMON = ("AccessDeniedException", "ThrottlingException", "ValidationException")
SERVICE_CODES = sorted({e for op in MODEL["operations"] for e in op["errors"]} | set(COMMON))
SECRET = "wJalrXUtnFEMI-secret-never-shown"
TOKEN = "FwoGZXIvYXdzE-token-never-shown"


def sample(shape_name, marker):
    """A value of the shape that passes the core's validation, with `marker` in its strings."""
    s = SHAPES[shape_name]
    t = s["type"]
    if t == "structure":
        return {m["name"]: sample(m["shape"], marker) for m in s["members"] if m["required"]}
    if t == "list":
        return [sample(s["element"], marker) for _ in range(max(1, s.get("min", 0)))]
    if t == "map":
        return {}
    if t == "string":
        if s.get("max", 1 << 20) >= len(marker):
            return marker + "x" * max(0, s.get("min", 0) - len(marker))
        return "x" * max(1, s.get("min", 1))
    if t == "blob":
        return "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n"
    if t in ("integer", "long"):
        return max(1, s.get("min", 1))
    if t == "boolean":
        return True
    return 0


def sample_input(op, marker):
    shape = SHAPES[op["input"]]
    kwargs = sample(op["input"], marker)
    if marker not in repr(kwargs):
        # Nothing required carries text (ListCertificateAuthorities): use an optional string.
        for m in shape["members"]:
            ms = SHAPES[m["shape"]]
            if ms["type"] == "string" and ms.get("max", 1 << 20) >= len(marker):
                kwargs[m["name"]] = marker
                break
    assert marker in repr(kwargs), op["name"]
    return kwargs


def op_raising(code):
    """An operation whose model lists `code` (any operation for the common three)."""
    for op in MODEL["operations"]:
        if code in op["errors"] or code in COMMON:
            return op
    raise AssertionError(code)


def call(client, op, kwargs):
    return getattr(client, op["snake_name"])(**kwargs)


def test_every_service_code_has_a_class(client):
    assert len(SERVICE_CODES) == 22
    for code in SERVICE_CODES:
        cls = getattr(acmpca, code)
        assert issubclass(cls, acmpca.ClientError) and issubclass(cls, acmpca.Error)
        assert getattr(client.exceptions, code) is cls
        assert cls.__module__ == "acmpca" and cls.__doc__
    assert client.exceptions.ClientError is acmpca.ClientError


@pytest.mark.smoke
@pytest.mark.parametrize("code", SERVICE_CODES)
def test_service_error_classes(scripted_client, code):
    op = op_raising(code)
    with pytest.raises(acmpca.ClientError) as info:
        call(scripted_client, op, sample_input(op, "acmpca-test:error:" + code))
    e = info.value
    assert type(e) is getattr(acmpca, code)
    assert isinstance(e, getattr(scripted_client.exceptions, code))
    assert e.code == code and e.message == "scripted " + code
    assert e.operation_name == op["name"]
    assert e.http_status == 400
    assert e.request_id.startswith("scripted-")
    assert e.response["Error"] == {"Code": code, "Message": "scripted " + code}
    # botocore adds the members of the model's error shapes only; the common codes have none.
    modelled = code not in ("AccessDeniedException", "ThrottlingException", "ValidationException")
    assert e.response.get("message") == ("scripted " + code if modelled else None)
    md = e.response["ResponseMetadata"]
    assert md["HTTPStatusCode"] == 400 and md["RequestId"] == e.request_id
    assert md["RetryAttempts"] == 0 and "MaxAttemptsReached" not in md
    # The answer's headers, lower-cased as botocore's HTTPHeaders.
    assert md["HTTPHeaders"]["x-amzn-requestid"] == e.request_id
    assert md["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
    assert str(e) == ("An error occurred (%s) when calling the %s operation: scripted %s"
                      % (code, op["name"], code))


def test_unmodelled_code_raises_client_error(scripted_client):
    # A code the core knows, answered by an operation whose model does not list it.
    op = OPS["GetPolicy"]
    code = next(c for c in SERVICE_CODES if c not in op["errors"] and c not in COMMON)
    with pytest.raises(acmpca.ClientError) as info:
        call(scripted_client, op, sample_input(op, "acmpca-test:error:" + code))
    assert type(info.value) is acmpca.ClientError
    assert info.value.code == code


def test_unknown_code_raises_client_error(scripted_client):
    with pytest.raises(acmpca.ClientError) as info:
        scripted_client.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:error:BrandNewException")
    assert type(info.value) is acmpca.ClientError
    assert info.value.code == "BrandNewException"
    assert info.value.response["Error"]["Code"] == "BrandNewException"


def test_server_error_status(scripted_client):
    with pytest.raises(acmpca.ClientError) as info:
        scripted_client.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:status:503")
    e = info.value
    assert e.http_status == 503 and e.code == "ScriptedStatus503"
    assert e.retryable is True and e.attempts == 1


def test_retries_are_counted(scripted):
    c = make_client(scripted.endpoint, retries={"total_max_attempts": 2, "mode": "standard"})
    with pytest.raises(acmpca.ThrottlingException) as info:
        c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:error:ThrottlingException")
    e = info.value
    md = e.response["ResponseMetadata"]
    assert e.attempts == 2 and md["RetryAttempts"] == 1 and md["MaxAttemptsReached"] is True
    # The last answer's metadata.
    assert md["HTTPHeaders"]["x-amzn-requestid"] == md["RequestId"] == e.request_id
    assert "(reached max retries: 1)" in str(e)
    assert e.message == "scripted ThrottlingException"


# ---- moto ---------------------------------------------------------------------------

def test_moto_resource_not_found(client):
    arn = FAKE_CA_ARN % "00000000-0000-0000-0000-000000000000"
    with pytest.raises(acmpca.ResourceNotFoundException) as info:
        client.describe_certificate_authority(CertificateAuthorityArn=arn)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert arn in info.value.message
    # ResponseMetadata of moto's answer, headers and all, as botocore gives it.
    md = info.value.response["ResponseMetadata"]
    assert md["HTTPStatusCode"] == 400 and md["RetryAttempts"] == 0
    assert md["RequestId"] and md["HTTPHeaders"]["x-amzn-requestid"] == md["RequestId"]
    assert int(md["HTTPHeaders"]["content-length"]) > 0
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(ResourceArn=arn)


def test_moto_invalid_state(client):
    from conftest import CA_CONFIG
    arn = client.create_certificate_authority(
        CertificateAuthorityConfiguration=CA_CONFIG,
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    with pytest.raises(acmpca.InvalidStateException):
        client.get_certificate_authority_certificate(CertificateAuthorityArn=arn)


def test_moto_unmodelled_codes(client, root_ca):
    arn, _ = root_ca
    with pytest.raises(acmpca.ClientError) as info:
        client.import_certificate_authority_certificate(CertificateAuthorityArn=arn,
                                                        Certificate=b"not a certificate")
    assert type(info.value) is acmpca.ClientError
    assert info.value.code == "MalformedCertificateAuthorityException"
    with pytest.raises(acmpca.ClientError) as info:
        client.list_certificate_authorities(MaxResults=1, NextToken="bogus")
    assert info.value.code == "InvalidToken"


# ---- the fixture server's scripted ARNs ----------------------------------------------

def one_attempt(endpoint):
    return make_client(endpoint, retries={"total_max_attempts": 1})


def test_fixture_access_denied_and_in_progress(fixture_client):
    with pytest.raises(acmpca.AccessDeniedException):
        fixture_client.get_certificate(CertificateAuthorityArn=FAKE_CA_ARN % "f",
                                       CertificateArn=FAKE_CA_ARN % "f/access-denied")
    with pytest.raises(acmpca.RequestInProgressException) as info:
        fixture_client.get_certificate(CertificateAuthorityArn=FAKE_CA_ARN % "f",
                                       CertificateArn=FAKE_CA_ARN % "f/errors/in-progress-1")
    assert info.value.message == "still issuing"


@pytest.mark.parametrize("suffix,cls,code,status", [
    ("header-only", "InvalidArnException", "InvalidArnException", 400),
    ("prefixed", "ResourceNotFoundException", "ResourceNotFoundException", 400),
    ("unmodelled", "ClientError", "InvalidStateException", 400),
    ("xml-403", "ClientError", "SignatureDoesNotMatch", 403),
    ("html-500", "ClientError", "500", 500),
])
def test_fixture_error_shapes(fixture_endpoint, suffix, cls, code, status):
    c = one_attempt(fixture_endpoint)
    with pytest.raises(acmpca.ClientError) as info:
        c.describe_certificate_authority(CertificateAuthorityArn=FAKE_CA_ARN % suffix)
    e = info.value
    assert type(e) is getattr(acmpca, cls)
    assert e.code == code and e.http_status == status
    if suffix == "xml-403":
        assert e.message == "bad signature" and e.request_id


def test_fixture_bad_json_is_a_parser_error(fixture_client):
    with pytest.raises(acmpca.ResponseParserError) as info:
        fixture_client.describe_certificate_authority(CertificateAuthorityArn=FAKE_CA_ARN % "bad-json")
    assert info.value.http_status == 200
    assert info.value.operation_name == "DescribeCertificateAuthority"


def test_fixture_body_not_strict_json_gets_the_cores_value(fixture_client):
    # The module reads the usual 2xx body itself; a raw newline in a string it
    # leaves to the core, whose cJSON takes it: the same value either way.
    arn = FAKE_CA_ARN % "raw-newline"
    out = fixture_client.describe_certificate_authority(CertificateAuthorityArn=arn)
    assert out["CertificateAuthority"] == {"Arn": arn, "Serial": "01\n02"}
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["ResponseMetadata"]["RequestId"]


def test_fixture_invalid_arn_args_state_and_permission_exists(fixture_client):
    with pytest.raises(acmpca.InvalidArnException):
        fixture_client.restore_certificate_authority(CertificateAuthorityArn="not-an-arn")
    with pytest.raises(acmpca.InvalidStateException):
        fixture_client.restore_certificate_authority(CertificateAuthorityArn=FAKE_CA_ARN % "active")
    with pytest.raises(acmpca.InvalidArgsException):
        fixture_client.create_certificate_authority_audit_report(
            CertificateAuthorityArn=FAKE_CA_ARN % "x", S3BucketName="bucket",
            AuditReportResponseFormat="XML")
    ca = FAKE_CA_ARN % "perm-exists"
    fixture_client.create_permission(CertificateAuthorityArn=ca, Principal="acm.amazonaws.com",
                                     Actions=["IssueCertificate"])
    with pytest.raises(acmpca.PermissionAlreadyExistsException):
        fixture_client.create_permission(CertificateAuthorityArn=ca,
                                         Principal="acm.amazonaws.com",
                                         Actions=["IssueCertificate"])


def test_fixture_throttling(fixture_endpoint):
    c = one_attempt(fixture_endpoint)
    csr = acmpca.make_csr(acmpca.generate_key(), common_name="t")
    with pytest.raises(acmpca.ThrottlingException) as info:
        for _ in range(200):
            c.issue_certificate(CertificateAuthorityArn=FAKE_CA_ARN % "throttle", Csr=csr,
                                SigningAlgorithm="SHA256WITHECDSA",
                                Validity={"Value": 1, "Type": "DAYS"})
    assert info.value.retryable is True
    assert info.value.message == "Rate exceeded"


# ---- client-side failures --------------------------------------------------------------

def test_endpoint_connection_error(closed_endpoint):
    c = make_client(closed_endpoint, retries={"total_max_attempts": 1})
    with pytest.raises(acmpca.EndpointConnectionError) as info:
        c.list_certificate_authorities()
    e = info.value
    assert isinstance(e, ConnectionError) and type(e) is acmpca.EndpointConnectionError
    assert e.endpoint_url == closed_endpoint and closed_endpoint in str(e)
    assert e.http_status is None and e.operation_name == "ListCertificateAuthorities"


def test_connect_timeout(stalled_endpoint):
    c = make_client(stalled_endpoint, connect_timeout=0.3, retries={"total_max_attempts": 1})
    with pytest.raises(acmpca.ConnectTimeoutError) as info:
        c.list_certificate_authorities()
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, acmpca.EndpointConnectionError)


def test_read_timeout(scripted):
    c = make_client(scripted.endpoint, read_timeout=0.3, retries={"total_max_attempts": 1})
    with pytest.raises(acmpca.ReadTimeoutError) as info:
        c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:2")
    assert isinstance(info.value, TimeoutError)


def test_connection_closed(scripted_client):
    with pytest.raises(acmpca.ConnectionClosedError) as info:
        scripted_client.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:drop")
    assert isinstance(info.value, acmpca.EndpointConnectionError)


def test_ssl_error(scripted):
    # TLS spoken to a plain HTTP server: the handshake fails.
    c = make_client(scripted.endpoint.replace("http://", "https://"),
                    retries={"total_max_attempts": 1})
    with pytest.raises(acmpca.SSLError):
        c.list_certificate_authorities()


def test_response_too_large(scripted_client):
    with pytest.raises(acmpca.ResponseParserError):
        scripted_client.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:big")


def test_no_credentials(scripted):
    c = acmpca.client(region_name="us-east-1", endpoint_url=scripted.endpoint)
    before = scripted.count
    with pytest.raises(acmpca.NoCredentialsError) as info:
        c.list_certificate_authorities()
    assert "environment" in str(info.value)
    assert scripted.count == before


def test_credential_retrieval_error(scripted, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = /bin/false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    c = acmpca.client(region_name="us-east-1", endpoint_url=scripted.endpoint)
    with pytest.raises(acmpca.CredentialRetrievalError):
        c.list_certificate_authorities()


def test_invalid_config():
    with pytest.raises(acmpca.InvalidConfigError) as info:
        acmpca.client(aws_access_key_id="a", aws_secret_access_key="b")
    assert "Region" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(acmpca.InvalidConfigError):
        acmpca.client(region_name="us-east-1", aws_access_key_id="only-the-id")
    with pytest.raises(acmpca.InvalidConfigError):
        acmpca.client(region_name="us-east-1", retries={"mode": "sometimes"})
    with pytest.raises(acmpca.InvalidConfigError):
        acmpca.client(region_name="us-east-1", retries={"max_retries": 3})
    with pytest.raises(acmpca.InvalidConfigError):
        acmpca.client(region_name="us-east-1", connect_timeout=-1)


def test_closed_client_is_a_general_error(closed_endpoint):
    c = make_client(closed_endpoint)
    c.close()
    with pytest.raises(acmpca.GeneralError, match="closed"):
        c.list_certificate_authorities()


# ---- what every exception carries and never carries ------------------------------------

def test_client_error_like_botocore():
    response = {"Error": {"Code": "Oops", "Message": "it broke"},
                "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 418,
                                     "RetryAttempts": 0}}
    e = acmpca.ClientError(response, "GetPolicy")
    assert str(e) == "An error occurred (Oops) when calling the GetPolicy operation: it broke"
    # As botocore: the retries are named only when MaxAttemptsReached says so.
    retried = {"Error": response["Error"],
               "ResponseMetadata": dict(response["ResponseMetadata"], RetryAttempts=2)}
    assert str(acmpca.ClientError(retried, "GetPolicy")) == str(e)
    retried["ResponseMetadata"]["MaxAttemptsReached"] = True
    assert str(acmpca.ClientError(retried, "GetPolicy")) == (
        "An error occurred (Oops) when calling the GetPolicy operation "
        "(reached max retries: 2): it broke")
    assert (e.code, e.message, e.http_status, e.request_id) == ("Oops", "it broke", 418, "r-1")
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is acmpca.ClientError and again.response == response
    sub = pickle.loads(pickle.dumps(acmpca.ResourceNotFoundException(response, "X")))
    assert type(sub) is acmpca.ResourceNotFoundException and sub.operation_name == "X"


def test_secrets_never_appear(scripted, closed_endpoint):
    errors = []
    kwargs = dict(region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                  aws_secret_access_key=SECRET, aws_session_token=TOKEN,
                  retries={"total_max_attempts": 1})
    c = acmpca.client(endpoint_url=scripted.endpoint, **kwargs)
    for marker in ("error:AccessDeniedException", "status:500", "drop", "big"):
        try:
            c.get_policy(ResourceArn=FAKE_CA_ARN % ("acmpca-test:" + marker))
        except acmpca.Error as e:
            errors.append(e)
    try:
        c.get_policy(ResourceArn="")
    except acmpca.Error as e:
        errors.append(e)
    try:
        acmpca.client(endpoint_url=closed_endpoint, **kwargs).list_tags(CertificateAuthorityArn="x" * 5)
    except acmpca.Error as e:
        errors.append(e)
    assert len(errors) == 6
    texts = [repr(c), str(c.meta)] + [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(vars(e)) for e in errors]
    for text in texts:
        assert SECRET not in text and TOKEN not in text
    # ... and the request really was signed with them (the token went on the wire).
    assert any(r["headers"].get("x-amz-security-token") == TOKEN for r in scripted.requests)


def test_exception_hierarchy():
    E = acmpca
    assert issubclass(E.ParamValidationError, ValueError)
    assert issubclass(E.InvalidConfigError, ValueError)
    for cls in (E.ClientError, E.ParamValidationError, E.NoCredentialsError,
                E.CredentialRetrievalError, E.InvalidConfigError, E.EndpointConnectionError,
                E.ConnectTimeoutError, E.ReadTimeoutError, E.SSLError, E.ConnectionClosedError,
                E.ResponseParserError, E.WaiterError, E.CryptoError, E.GeneralError):
        assert issubclass(cls, E.Error) and cls.__doc__
    assert issubclass(E.ConnectTimeoutError, TimeoutError)
    assert issubclass(E.SSLError, E.EndpointConnectionError)
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
