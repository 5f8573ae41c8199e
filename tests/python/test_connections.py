"""Keep-alive, seen from the server: tests/fixtures/fixture_server.py counts the
TCP connections that carried a call, so a client that reconnected per call,
or never noticed a connection the server closed, shows here.
"""
import json
import urllib.request

from conftest import FAKE_CA_ARN, make_client


def _stats(endpoint, reset=False):
    req = urllib.request.Request(endpoint + ("/_stats/reset" if reset else "/_stats"),
                                 data=b"{}" if reset else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def test_connections__sequential_calls_share_one_connection(fixture_endpoint):
    _stats(fixture_endpoint, reset=True)
    with make_client(fixture_endpoint) as c:
        for _ in range(10):
            assert c.list_permissions(CertificateAuthorityArn=FAKE_CA_ARN % "reuse") \
                ["Permissions"] == []
    stats = _stats(fixture_endpoint)
    assert (stats["connections"], stats["refused"]) == (1, 0), stats


def test_connections__server_closing_leads_to_a_new_connection(fixture_endpoint):
    _stats(fixture_endpoint, reset=True)
    with make_client(fixture_endpoint) as c:
        for kind in ("keep", "close-after", "keep", "keep", "drop-after", "keep", "keep"):
            out = c.list_permissions(CertificateAuthorityArn=FAKE_CA_ARN % kind)
            assert out["Permissions"] == [] and out["ResponseMetadata"]["RetryAttempts"] == 0
    # One connection until "Connection: close", one until the silent close, one after.
    assert _stats(fixture_endpoint)["connections"] == 3
