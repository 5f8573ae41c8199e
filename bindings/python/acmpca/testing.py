"""acmpca.testing: moto's ACM PCA on loopback, for tests of code that uses acmpca.

moto's in-process mock (`with mock_aws():`) patches botocore's HTTP layer; acmpca's
requests go through its C transport, which that patch never sees. Run moto as a
server instead and point the client at it:

    from acmpca.testing import moto_server

    with moto_server() as moto:
        pca = moto.client()                      # or acmpca.client(endpoint_url=moto.endpoint)
        pca.create_certificate_authority(...)

or, with pytest (`pytest_plugins = ["acmpca.testing"]` in conftest.py):

    def test_issue(acmpca_moto):
        pca = acmpca_moto.client()

The server listens on 127.0.0.1 on a free port; the clients get dummy keys and
region us-east-1 unless given others. Needs moto[server] (moto, flask).
"""
import contextlib
import socket

DEFAULT_REGION = "us-east-1"
_DUMMY_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A running moto server: .endpoint, .client(**kwargs), .boto3_client(**kwargs),
    .reset() (forget every resource), .stop()."""

    def __init__(self, port=None, region_name=DEFAULT_REGION):
        from moto.server import ThreadedMotoServer

        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = port or _free_port()
        self.region_name = region_name
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port,
                                          verbose=False)
        self._server.start()
        self._clients = []

    def _kwargs(self, kwargs):
        merged = dict(_DUMMY_KEYS, region_name=self.region_name, endpoint_url=self.endpoint)
        merged.update(kwargs)
        return merged

    def client(self, **kwargs):
        """An acmpca client for this server (closed by stop())."""
        import acmpca

        c = acmpca.client("acm-pca", **self._kwargs(kwargs))
        self._clients.append(c)
        return c

    def boto3_client(self, **kwargs):
        """boto3's acm-pca client for the same server (for side-by-side tests)."""
        import boto3

        return boto3.client("acm-pca", **self._kwargs(kwargs))

    def reset(self):
        """Forget every resource (moto's /moto-api/reset)."""
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        opener.open(urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"",
                                           method="POST"), timeout=10).close()

    def stop(self):
        for c in self._clients:
            c.close()
        self._clients = []
        self._server.stop()


@contextlib.contextmanager
def moto_server(port=None, region_name=DEFAULT_REGION):
    """Start moto's server on 127.0.0.1 (a free port unless given) for the block."""
    server = MotoServer(port, region_name)
    try:
        yield server
    finally:
        server.stop()


try:
    import pytest
except ImportError:  # the context manager works without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def acmpca_moto_server():
        """One moto server for the test session."""
        with moto_server() as server:
            yield server

    @pytest.fixture
    def acmpca_moto(acmpca_moto_server):
        """The session's moto server, emptied before each test."""
        acmpca_moto_server.reset()
        yield acmpca_moto_server

    @pytest.fixture
    def acmpca_moto_client(acmpca_moto):
        """An acmpca client on an emptied moto server."""
        yield acmpca_moto.client()
