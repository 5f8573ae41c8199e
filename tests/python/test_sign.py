"""acmpca.sign_request against the AWS SigV4 test suite and botocore's signer."""
import datetime
import os

import pytest

import acmpca

SUITE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sigv4", "v4")
CASES = ["get-vanilla", "get-vanilla-query", "get-vanilla-query-order-key-case",
         "get-vanilla-with-session-token", "get-unreserved", "post-vanilla",
         "post-vanilla-query", "post-header-key-sort", "post-sts-header-before"]
WHEN = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc)


def parse_request(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = [line for line in head.split("\n") if line]
    method, target, _ = lines[0].split(" ")
    headers = [tuple(line.split(":", 1)) for line in lines[1:]]
    return method, target, headers, body


def signed_headers(path):
    _, _, headers, _ = parse_request(path)
    return dict(headers)


@pytest.mark.smoke
@pytest.mark.parametrize("case", CASES)
def test_sigv4_suite(case):
    import json
    folder = os.path.join(SUITE, case)
    with open(os.path.join(folder, "context.json"), encoding="utf-8") as f:
        ctx = json.load(f)
    method, target, headers, body = parse_request(os.path.join(folder, "request.txt"))
    host = dict(headers)["Host"]
    added = acmpca.sign_request(method, "https://%s%s" % (host, target), headers,
                                body.encode() if body else None,
                                region=ctx["region"], service=ctx["service"],
                                access_key=ctx["credentials"]["access_key_id"],
                                secret_key=ctx["credentials"]["secret_access_key"],
                                session_token=ctx["credentials"].get("token"),
                                timestamp=WHEN)
    expected = signed_headers(os.path.join(folder, "header-signed-request.txt"))
    assert added["Authorization"] == expected["Authorization"]
    assert added["X-Amz-Date"] == expected["X-Amz-Date"] == "20150830T123600Z"
    if "token" in ctx["credentials"]:
        assert added["X-Amz-Security-Token"] == ctx["credentials"]["token"]


def test_same_signature_as_botocore():
    pytest.importorskip("botocore")
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b'{"CertificateAuthorityArn":"arn:aws:acm-pca:eu-west-1:1:certificate-authority/x"}'
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "ACMPrivateCA.DescribeCertificateAuthority"}
    req = AWSRequest(method="POST", url="https://acm-pca.eu-west-1.amazonaws.com/",
                     data=body, headers=dict(headers))
    SigV4Auth(Credentials("AKID", "SECRET", "TOKEN"), "acm-pca", "eu-west-1").add_auth(req)
    when = datetime.datetime.strptime(req.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    # Naive datetimes are UTC, as in botocore; epoch seconds work too.
    for ts in (when, when.replace(tzinfo=datetime.timezone.utc),
               when.replace(tzinfo=datetime.timezone.utc).timestamp()):
        ours = acmpca.sign_request("POST", "https://acm-pca.eu-west-1.amazonaws.com/",
                                   headers, body, region="eu-west-1", service="acm-pca",
                                   access_key="AKID", secret_key="SECRET",
                                   session_token="TOKEN", timestamp=ts)
        assert ours["Authorization"] == req.headers["Authorization"]
        assert ours["X-Amz-Security-Token"] == "TOKEN"


def test_sign_request_arguments():
    out = acmpca.sign_request("GET", "https://example.amazonaws.com/", None, None,
                              region="us-east-1", service="service", access_key="A",
                              secret_key="S")
    assert out["Host"] == "example.amazonaws.com"
    assert out["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=A/")
    assert "X-Amz-Security-Token" not in out
    out2 = acmpca.sign_request("POST", "https://example.amazonaws.com/", [("X-A", "1")], "text",
                               region="us-east-1", service="service", access_key="A",
                               secret_key="S", timestamp=1)
    assert out2["X-Amz-Date"] == "19700101T000001Z"
    with pytest.raises(TypeError):
        acmpca.sign_request("GET", "https://e/", None, None, region="r", service="s",
                            access_key="A")
    with pytest.raises(TypeError):
        acmpca.sign_request("GET", "https://e/", {"X": 1}, None, region="r", service="s",
                            access_key="A", secret_key="S")
    with pytest.raises(acmpca.Error):
        acmpca.sign_request("GET", "not a url", None, None, region="r", service="s",
                            access_key="A", secret_key="S")
