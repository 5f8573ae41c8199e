"""Where credentials come from (issue 7), seen from Python: client.credentials_source()
names the provider that supplied them (botocore's Credentials.method) without revealing
a secret, and a failing source raises an error that names it.

Loopback only: STS is moto (AWS_ENDPOINT_URL_STS), IMDSv2 and the container endpoint
are tests/fixtures/metadata_server.py on 127.0.0.1, credential_process runs the scripts
of tests/fixtures. The environment is changed with monkeypatch only; conftest leaves
instance metadata disabled and the shared files pointing nowhere for every other test.
"""
import json
import os
import threading
import time
import urllib.request

import pytest

import acmpca
from conftest import CREDS, REGION, ROOT, make_client

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PROC_OK = os.path.join(FIXTURES, "cred_process_ok.sh")
PROC_FAILS = os.path.join(FIXTURES, "cred_process_fails.sh")


@pytest.fixture(scope="module")
def metadata():
    import metadata_server

    from _servers import free_port

    server = metadata_server.serve_in_thread("127.0.0.1", free_port())
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def stats(metadata, key):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(metadata + "/_stats/" + key, timeout=10) as resp:
        return json.loads(resp.read())


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def chain_client(endpoint="http://127.0.0.1:1", **kwargs):
    """A client with no keys of its own: the default chain decides."""
    return acmpca.client(region_name=REGION, endpoint_url=endpoint, **kwargs)


def no_secret_in(secret, *objects):
    for obj in objects:
        assert secret not in str(obj) and secret not in repr(obj)


@pytest.mark.smoke
def test_explicit_keys_are_static(monkeypatch):
    # Explicit keys win over everything, even variables that are set.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    with make_client("http://127.0.0.1:1", aws_access_key_id="AKIDEXPLICIT",
                     aws_secret_access_key="explicit-secret-value") as c:
        source = c.credentials_source()
        assert source == "static"
        no_secret_in("explicit-secret-value", c, source)


def test_environment(monkeypatch, moto_endpoint):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
    with chain_client(moto_endpoint) as c:
        assert c.credentials_source() == "environment"
        assert "CertificateAuthorities" in c.list_certificate_authorities()
        no_secret_in("env-secret-value", c)


def test_shared_credentials_file_profile(monkeypatch, tmp_path, moto_endpoint):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", write(tmp_path, "credentials", (
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n"
        "[pytest]\naws_access_key_id = AKIDPROFILE\n"
        "aws_secret_access_key = profile-secret-value\n")))
    with chain_client(moto_endpoint, profile_name="pytest") as c:
        assert c.credentials_source() == "shared-credentials-file"
        out = c.list_certificate_authorities()
        assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
        no_secret_in("profile-secret-value", c)
    # AWS_PROFILE picks it the same way.
    monkeypatch.setenv("AWS_PROFILE", "pytest")
    with chain_client(moto_endpoint) as c:
        assert c.credentials_source() == "shared-credentials-file"


def test_config_file_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", write(tmp_path, "config", (
        "[profile cfg]\naws_access_key_id = AKIDCFG\naws_secret_access_key = cfg-secret\n")))
    with chain_client(profile_name="cfg") as c:
        assert c.credentials_source() == "config-file"


def test_credential_process(monkeypatch, tmp_path, moto_endpoint):
    monkeypatch.setenv("AWS_CONFIG_FILE", write(tmp_path, "config", (
        "[profile proc]\ncredential_process = %s \"two words\" plain\n" % PROC_OK)))
    with chain_client(moto_endpoint, profile_name="proc") as c:
        assert c.credentials_source() == "credential-process"
        assert "CertificateAuthorities" in c.list_certificate_authorities()
        no_secret_in("SECRETPROC", c)


@pytest.mark.smoke
def test_credential_process_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", write(tmp_path, "config", (
        "[profile bad]\ncredential_process = %s\n" % PROC_FAILS)))
    with chain_client(profile_name="bad") as c:
        with pytest.raises(acmpca.CredentialRetrievalError) as ei:
            c.credentials_source()
        msg = str(ei.value)
        assert msg.startswith("credential-process")
        assert "exited with status 3" in msg
        assert "stderr: token expired: please sign in again" in msg
        # A call fails the same way, before any request.
        with pytest.raises(acmpca.CredentialRetrievalError) as ei:
            c.list_certificate_authorities()
        assert str(ei.value).startswith("credential-process")


@pytest.mark.smoke
def test_imds(monkeypatch, metadata):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/imds/pytest")
    with chain_client() as c:
        assert c.credentials_source() == "imds"
        # Cached: asking again does not go back to the endpoint.
        assert c.credentials_source() == "imds"
        no_secret_in("SECRETASIAIMDS", c)
    s = stats(metadata, "imds/pytest")
    assert s["calls"] == 1 and s["token_calls"] == 1
    assert s["last"]["headers"]["x-aws-ec2-metadata-token"] == "imds-session-token"


def test_imds_failure_names_the_provider(monkeypatch, metadata):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/imds/status=500")
    with chain_client() as c, pytest.raises(acmpca.CredentialRetrievalError) as ei:
        c.credentials_source()
    msg = str(ei.value)
    assert msg.startswith("imds: GET " + metadata + "/imds/status=500/")
    assert msg.endswith("answered HTTP 500")


def test_credentials_source_releases_the_gil(monkeypatch, metadata):
    # The IMDS answers each request 150 ms late; another Python thread keeps running meanwhile.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata + "/imds/delay=150")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    with chain_client() as c:
        t.start()
        try:
            assert c.credentials_source() == "imds"
        finally:
            stop.set()
            t.join()
    assert len(ticks) >= 10


def test_container(monkeypatch, metadata):
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", metadata + "/container/auth=tok-1")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok-1")
    with chain_client() as c:
        assert c.credentials_source() == "container"
    assert stats(metadata, "container/auth=tok-1")["last"]["headers"]["authorization"] == "tok-1"


def assume_role_config(tmp_path, monkeypatch, sts_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", write(tmp_path, "config", (
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/pytest\n"
        "source_profile = base\nrole_session_name = pytest-session\n")))


@pytest.mark.smoke
def test_assume_role_against_moto(monkeypatch, tmp_path, moto_endpoint):
    assume_role_config(tmp_path, monkeypatch, moto_endpoint)
    with chain_client(moto_endpoint, profile_name="role") as c:
        assert c.credentials_source() == "assume-role"
        out = c.list_certificate_authorities()
        assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
        no_secret_in("base-secret", c)


def test_assume_role_failure_names_the_provider(monkeypatch, tmp_path):
    assume_role_config(tmp_path, monkeypatch, "http://127.0.0.1:1")
    with chain_client(profile_name="role") as c:
        with pytest.raises(acmpca.CredentialRetrievalError) as ei:
            c.credentials_source()
        assert str(ei.value).startswith("assume-role: could not connect")
        assert "http://127.0.0.1:1" in str(ei.value)
        no_secret_in("base-secret", ei.value)


@pytest.mark.smoke
def test_no_credentials_lists_every_source():
    with chain_client() as c, pytest.raises(acmpca.NoCredentialsError) as ei:
        c.credentials_source()
    msg = str(ei.value)
    for source in ("environment", "assume-role", "web-identity", "sso",
                   "shared-credentials-file", "credential-process", "config-file",
                   "container", "imds"):
        assert source + " (" in msg
    assert "imds (AWS_EC2_METADATA_DISABLED=true)" in msg
    assert "/nonexistent/acmpca-tests/credentials: no such file" in msg


def test_closed_client():
    c = make_client("http://127.0.0.1:1", **{k: v for k, v in CREDS.items()})
    c.close()
    with pytest.raises(acmpca.GeneralError):
        c.credentials_source()
