"""The loopback servers refuse what ACM PCA would refuse, so a test that passes
against them proves the client sent a well-formed, correctly signed request.

tests/fixtures/aws_check.py recomputes SigV4 on its own; here it is checked
against the official suite, then each server is shown to refuse a replayed
request once one thing in it is tampered with (signature, body, target,
content type, date), and a client signing with a wrong secret.
"""
import email.message
import glob
import http.client
import json
import os
import time

import pytest

import acmpca
import aws_check
from conftest import CREDS, REGION, ROOT, make_client

SUITE = os.path.join(ROOT, "tests", "fixtures", "sigv4", "v4")
CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/checked"


def _suite_cases():
    """(name, request, expected signature) for the suite's header-signed cases whose
    canonical URI is the path as sent (the rest test URI normalization, which the
    servers never need: ACM PCA is always POST /)."""
    for d in sorted(glob.glob(os.path.join(SUITE, "*"))):
        try:
            with open(os.path.join(d, "header-signed-request.txt"), "rb") as f:
                raw = f.read().decode()
            with open(os.path.join(d, "header-canonical-request.txt")) as f:
                canonical_uri = f.read().split("\n")[1]
            with open(os.path.join(d, "context.json")) as f:
                context = json.load(f)
        except FileNotFoundError:
            continue
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.rpartition(" ")[0]
        if path.partition("?")[0] != canonical_uri or any(
                line.startswith((" ", "\t")) for line in lines[1:]):
            continue
        yield os.path.basename(d), method, path, lines[1:], body.encode(), context


@pytest.mark.parametrize("case", list(_suite_cases()), ids=lambda c: c[0])
def test_server_checks__sigv4_verifier_agrees_with_the_official_suite(case):
    name, method, path, header_lines, body, context = case
    headers = email.message.Message()
    auth = None
    for line in header_lines:
        key, _, value = line.partition(":")
        if key.lower() == "authorization":
            auth = aws_check.AUTH_RE.match(value)
        else:
            headers[key] = value
    assert auth, name
    scope = "/".join([auth.group("date"), auth.group("region"), auth.group("service"),
                      "aws4_request"])
    got = aws_check.expected_signature(context["credentials"]["secret_access_key"], method,
                                       path, headers, body, scope, auth.group("signed"),
                                       headers["X-Amz-Date"])
    assert got == auth.group("signature")


def test_server_checks__suite_covers_enough_cases():
    # The filter above must not quietly drop the suite to nothing.
    names = [c[0] for c in _suite_cases()]
    assert len(names) >= 15 and "post-vanilla" in names and \
        "get-vanilla-with-session-token" in names, names


def _replay(endpoint, recorded, change=None, drop=()):
    """Send a request the server recorded, with headers changed or dropped; (status, body)."""
    headers = {k: v for k, v in recorded["headers"].items()
               if k not in drop and k != "content-length"}
    body = recorded["body"].encode()
    method, path = "POST", "/"
    for key, value in (change or {}).items():
        if key == "body":
            body = value
        elif key == "method":
            method = value
        elif key == "path":
            path = value
        else:
            headers[key] = value
    host, port = endpoint[len("http://"):].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def _signed_request(scripted):
    scripted.clear()
    with make_client(scripted.endpoint) as c:
        c.list_tags(CertificateAuthorityArn=CA)
    (recorded,) = [r for r in scripted.requests if r["target"] == "ACMPrivateCA.ListTags"]
    assert recorded["refused"] is None
    return recorded


TAMPERINGS = [
    ("untouched", {}, (), 200, None),
    ("signature", "flip", (), 400, "InvalidSignatureException"),
    ("body", {"body": b'{"CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:1:x/y"}'}, (),
     400, "InvalidSignatureException"),
    ("date", "date", (), 400, "InvalidSignatureException"),
    ("target", {"x-amz-target": "ACMPrivateCA.ListTagz"}, (), 400,
     "UnknownOperationException"),
    ("content-type", {"content-type": "application/json"}, (), 415,
     "UnsupportedMediaTypeException"),
    ("path", {"path": "/other"}, (), 404, "UnknownOperationException"),
    ("no-authorization", {}, ("authorization",), 400, "MissingAuthenticationTokenException"),
    ("unknown-key", "akid", (), 400, "UnrecognizedClientException"),
]


def _tamper(recorded, how):
    auth = recorded["headers"]["authorization"]
    if how == "flip":
        last = auth[-1]
        return {"authorization": auth[:-1] + ("0" if last != "0" else "1")}
    if how == "date":
        # Re-dated by one second: the signature no longer covers it.
        t = time.strptime(recorded["headers"]["x-amz-date"], "%Y%m%dT%H%M%SZ")
        return {"x-amz-date": time.strftime("%Y%m%dT%H%M%SZ",
                                            time.gmtime(time.mktime(t) + 1))}
    if how == "akid":
        return {"authorization": auth.replace("Credential=testing/", "Credential=AKIDOTHER/")}
    return how


@pytest.mark.parametrize("what,how,drop,status,code", TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_server_checks__scripted_server_refuses_a_tampered_request(scripted, what, how, drop,
                                                                     status, code):
    recorded = _signed_request(scripted)
    got_status, body = _replay(scripted.endpoint, recorded, _tamper(recorded, how), drop)
    assert (got_status, body.get("__type")) == (status, code), body


def test_server_checks__scripted_server_refuses_a_wrong_secret(scripted):
    with make_client(scripted.endpoint, aws_secret_access_key="not-the-secret",
                     config=acmpca.Config(retries={"total_max_attempts": 1})) as c:
        with pytest.raises(acmpca.ClientError) as e:
            c.list_tags(CertificateAuthorityArn=CA)
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_server_checks__scripted_server_refuses_a_signature_expired(scripted):
    recorded = _signed_request(scripted)
    now = time.time() + aws_check.MAX_SKEW_S + 60
    headers = email.message.Message()
    for k, v in recorded["headers"].items():
        headers[k] = v
    with pytest.raises(aws_check.Refusal) as e:
        aws_check.check_request("POST", "/", headers, recorded["body"].encode(), now=now)
    assert (e.value.code, e.value.message) == ("InvalidSignatureException", "Signature expired")
    aws_check.check_request("POST", "/", headers, recorded["body"].encode())


def test_server_checks__unchecked_scripted_server_answers_anything():
    from _servers import ScriptedServer

    server = ScriptedServer(checked=False)
    try:
        recorded = {"headers": {"host": "127.0.0.1:%d" % server.port}, "body": "{}"}
        assert _replay(server.endpoint, recorded)[0] == 200
    finally:
        server.close()


def test_server_checks__fixture_server_refuses_a_wrong_secret(fixture_endpoint):
    arn = CA + "/active"
    with make_client(fixture_endpoint) as c:
        with pytest.raises(c.exceptions.InvalidStateException):
            c.restore_certificate_authority(CertificateAuthorityArn=arn)
    with make_client(fixture_endpoint, aws_secret_access_key="not-the-secret",
                     config=acmpca.Config(retries={"total_max_attempts": 1})) as c:
        with pytest.raises(acmpca.ClientError) as e:
            c.restore_certificate_authority(CertificateAuthorityArn=arn)
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_server_checks__fixture_server_refuses_a_tampered_signature(fixture_endpoint):
    import urllib.request

    # A request signed by the public signer, to be tampered with; that the
    # check accepts the untouched one is asserted too.
    body = json.dumps({"CertificateAuthorityArn": CA}).encode()
    headers = {"Content-Type": aws_check.CONTENT_TYPE,
               "X-Amz-Target": "ACMPrivateCA.ListPermissions"}
    headers.update(acmpca.sign_request("POST", fixture_endpoint + "/", headers, body,
                                       region=REGION, service="acm-pca",
                                       access_key=CREDS["aws_access_key_id"],
                                       secret_key=CREDS["aws_secret_access_key"]))
    recorded = {"headers": {k.lower(): v for k, v in headers.items()}, "body": body.decode()}
    assert _replay(fixture_endpoint, recorded) == (200, {"Permissions": []})
    status, answer = _replay(fixture_endpoint, recorded, _tamper(recorded, "flip"))
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    with urllib.request.urlopen(fixture_endpoint + "/_stats", timeout=10) as resp:
        assert json.load(resp)["refused"] >= 1
