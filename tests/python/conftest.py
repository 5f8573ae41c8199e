"""Fixtures of the Python binding's tests: a moto server, the fixture and fault
servers of tests/fixtures and the scripted server of _servers.py, all on 127.0.0.1 with
free ports, and clients for them. Nothing but loopback is ever contacted:
instance metadata is disabled and the shared config files point nowhere.

The tests import the installed acmpca package (pip install .); set
ACMPCA_PYTHON_PATH to a directory holding an in-place build to test that
instead, and ACMPCA_TEST_MOTO_ENDPOINT to use a moto server already running.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Before anything reads the environment: loopback only, no real configuration.
for _key in list(os.environ):
    if _key.startswith("AWS_"):
        del os.environ[_key]
os.environ.update({
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/acmpca-tests/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/acmpca-tests/credentials",
    "NO_PROXY": "127.0.0.1,localhost,::1",
    "no_proxy": "127.0.0.1,localhost,::1",
})
# `python3 -m pytest` from the repository root puts the root on sys.path, where the
# Lua binding's build leaves its own acmpca.so: that must not shadow the package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != ROOT]
if os.environ.get("ACMPCA_PYTHON_PATH"):
    sys.path.insert(0, os.path.abspath(os.environ["ACMPCA_PYTHON_PATH"]))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

import pytest  # noqa: E402

import acmpca  # noqa: E402
from _servers import ScriptedServer, StalledPort, free_port  # noqa: E402

REGION = "us-east-1"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
FAKE_CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/%s"


@pytest.fixture(scope="session")
def moto_endpoint():
    # valgrind_smoke.sh runs moto outside the process under test.
    if os.environ.get("ACMPCA_TEST_MOTO_ENDPOINT"):
        yield os.environ["ACMPCA_TEST_MOTO_ENDPOINT"]
        return
    import logging
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield "http://127.0.0.1:%d" % port
    server.stop()


@pytest.fixture(scope="session")
def fixture_endpoint():
    import fixture_server

    port = free_port()
    server = fixture_server.serve_in_thread("127.0.0.1", port)
    yield "http://127.0.0.1:%d" % port
    server.shutdown()


class FaultControl:
    """tests/fixtures/fault_server.py on loopback, with its HTTPS port and a refused port,
    driven through its control API (see that file's docstring)."""

    def __init__(self, server):
        self.server = server
        self.endpoint = server.endpoint
        self.tls_endpoint = server.tls_endpoint
        self.refused_endpoint = server.refused_endpoint
        self.ca_path = server.ca_path

    def _control(self, method, path, body=None):
        import json
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def script(self, actions):
        """Forget everything, then answer the next requests with `actions`."""
        self._control("POST", "/_fault/reset", {})
        self._control("POST", "/_fault/script", actions)

    def received(self):
        return self._control("GET", "/_fault/requests")["requests"]

    def tls_failures(self):
        return self._control("GET", "/_fault/requests")["tls_failures"]

    def issuances(self):
        return self._control("GET", "/_fault/issuances")


@pytest.fixture(scope="session")
def fault():
    import fault_server

    server = fault_server.serve_in_thread("127.0.0.1", free_port(), tls_port=free_port())
    yield FaultControl(server)
    server.shutdown()


@pytest.fixture(scope="session")
def scripted():
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def stalled_endpoint():
    port = StalledPort()
    yield port.endpoint
    port.close()


@pytest.fixture
def closed_endpoint():
    """A loopback port nothing listens on."""
    return "http://127.0.0.1:%d" % free_port()


def make_client(endpoint, **kwargs):
    args = dict(CREDS, region_name=REGION, endpoint_url=endpoint)
    args.update(kwargs)
    return acmpca.client(**args)


@pytest.fixture
def client(moto_endpoint):
    with make_client(moto_endpoint) as c:
        yield c


@pytest.fixture
def fixture_client(fixture_endpoint):
    with make_client(fixture_endpoint) as c:
        yield c


@pytest.fixture
def scripted_client(scripted):
    # One attempt: the scripted answers are about mapping, not about retrying.
    with make_client(scripted.endpoint, config=acmpca.Config(retries={"total_max_attempts": 1})) as c:
        yield c


@pytest.fixture
def boto3_client(moto_endpoint):
    boto3 = pytest.importorskip("boto3")
    return boto3.client("acm-pca", endpoint_url=moto_endpoint, region_name=REGION, **CREDS)


CA_CONFIG = {
    "KeyAlgorithm": "RSA_2048",
    "SigningAlgorithm": "SHA256WITHRSA",
    "Subject": {"CommonName": "acmpca test root", "Organization": "acmpca tests",
                "Country": "DE"},
}


def create_root_ca(c, tags=None):
    """A ROOT CA made ACTIVE: CSR -> root certificate from its own CSR -> import."""
    kwargs = {"CertificateAuthorityConfiguration": CA_CONFIG, "CertificateAuthorityType": "ROOT"}
    if tags:
        kwargs["Tags"] = tags
    arn = c.create_certificate_authority(**kwargs)["CertificateAuthorityArn"]
    csr = c.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    issued = c.issue_certificate(CertificateAuthorityArn=arn, Csr=csr,
                                 SigningAlgorithm="SHA256WITHRSA", TemplateArn=ROOT_TEMPLATE,
                                 Validity={"Value": 3650, "Type": "DAYS"})
    cert = c.get_certificate(CertificateAuthorityArn=arn,
                             CertificateArn=issued["CertificateArn"])["Certificate"]
    c.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=cert)
    return arn, cert


@pytest.fixture
def root_ca(client):
    return create_root_ca(client)
