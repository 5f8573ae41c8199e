"""Config(proxies=..., proxies_config=...): calls from the blocking and the asyncio
client go through the proxy given there (tests/fixtures/recording_proxy.py, forwarding
to loopback), the metadata endpoints never do, NO_PROXY still applies, and a bad
setting is refused by name before any I/O, its password never shown.
"""
import threading
import time
from http.server import ThreadingHTTPServer

import pytest

import acmpca
import acmpca.aio
from conftest import CREDS, REGION, make_client
from test_aio import CA, run
from test_credentials import metadata, stats  # noqa: F401  (the metadata fixture)

PROXY_VARS = ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
              "ALL_PROXY", "all_proxy")


@pytest.fixture
def proxy(monkeypatch):
    """A forwarding recording proxy on loopback, and no proxy variable set."""
    import recording_proxy

    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), recording_proxy.Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.seen = []
    server.forward = True
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def lines(proxy):
    return [seen["line"] for seen in proxy.seen]


def test_proxies__sync_call_reaches_moto_through_the_proxy(proxy, moto_endpoint):
    config = acmpca.Config(proxies={"http": proxy.url, "https": "http://127.0.0.1:1"})
    with make_client(moto_endpoint, config=config) as c:
        out = c.list_certificate_authorities()
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lines(proxy) == ["POST %s/ HTTP/1.1" % moto_endpoint]


def test_proxies__botocore_config_proxies_are_used(proxy, moto_endpoint):
    import botocore.config

    config = botocore.config.Config(proxies={"http": proxy.url})
    with make_client(moto_endpoint, config=config) as c:
        c.list_certificate_authorities()
    assert lines(proxy) == ["POST %s/ HTTP/1.1" % moto_endpoint]


def test_proxies__https_goes_through_the_proxy_by_connect(proxy, fault):
    fault.script([])
    config = acmpca.Config(proxies={"https": proxy.url},
                           retries={"total_max_attempts": 1})
    with make_client(fault.tls_endpoint, verify=fault.ca_path, config=config) as c:
        out = c.describe_certificate_authority(CertificateAuthorityArn=CA)
    assert out["CertificateAuthority"]["Arn"] == CA
    assert lines(proxy) == ["CONNECT %s HTTP/1.1" % fault.tls_endpoint[len("https://"):]]


def test_proxies__no_proxy_still_bypasses_the_configured_proxy(proxy, moto_endpoint,
                                                               monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with make_client(moto_endpoint, config=acmpca.Config(proxies={"http": proxy.url})) as c:
        c.list_certificate_authorities()
    assert proxy.seen == []


def test_proxies__aio_call_reaches_moto_through_the_proxy(proxy, moto_endpoint):
    config = acmpca.Config(proxies={"http": proxy.url})

    async def main():
        async with acmpca.aio.client("acm-pca", region_name=REGION, endpoint_url=moto_endpoint,
                                     config=config, **CREDS) as pca:
            return await pca.list_certificate_authorities()

    assert run(main)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lines(proxy) == ["POST %s/ HTTP/1.1" % moto_endpoint]


def test_proxies__aio_https_goes_through_the_proxy_by_connect(proxy, fault):
    fault.script([])
    config = acmpca.Config(proxies={"https": proxy.url}, retries={"total_max_attempts": 1})

    async def main():
        async with acmpca.aio.client("acm-pca", region_name=REGION,
                                     endpoint_url=fault.tls_endpoint, verify=fault.ca_path,
                                     config=config, **CREDS) as pca:
            return await pca.describe_certificate_authority(CertificateAuthorityArn=CA)

    assert run(main)["CertificateAuthority"]["Arn"] == CA
    assert lines(proxy) == ["CONNECT %s HTTP/1.1" % fault.tls_endpoint[len("https://"):]]


@pytest.mark.parametrize("flavour", ["sync", "aio"])
def test_proxies__metadata_endpoints_bypass_the_configured_proxy(
        flavour, proxy, metadata, scripted, monkeypatch):  # noqa: F811
    """Credentials from the instance metadata endpoint go straight to it: only the
    ACM PCA request goes through the proxy, and the credentials are not the proxy's."""
    spec = "imds/config-proxy-%s-%d" % (flavour, time.monotonic_ns())
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT",
                       metadata.replace("127.0.0.1", "localhost") + "/" + spec)
    config = acmpca.Config(proxies={"http": proxy.url})
    if flavour == "sync":
        with acmpca.client(region_name=REGION, endpoint_url=scripted.endpoint,
                           config=config) as c:
            out = c.list_tags(CertificateAuthorityArn=CA)
    else:
        async def main():
            async with acmpca.aio.client(region_name=REGION, endpoint_url=scripted.endpoint,
                                         config=config) as pca:
                return await pca.list_tags(CertificateAuthorityArn=CA)

        out = run(main)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lines(proxy) == ["POST %s/ HTTP/1.1" % scripted.endpoint]
    assert stats(metadata, spec)["calls"] == 1
    token = scripted.requests[-1]["headers"]["x-amz-security-token"]
    assert token.startswith("TOKEN") and token != "TOKENFROMPROXY"


@pytest.mark.parametrize("config, message", [
    ({"proxies": {"ftp": "http://127.0.0.1:1"}}, "proxies: unknown key 'ftp'"),
    ({"proxies": {"https": 8080}}, "proxies['https']: expected a str, got int"),
    ({"proxies": "http://u:hunter2@127.0.0.1:1"}, "proxies: expected a dict"),
    ({"proxies": {"https": "socks5://u:hunter2@127.0.0.1:1"}},
     "proxies['https']: expected an http:// or https:// proxy URL"),
    ({"proxies": {"http": "http://u:hunter2@"}}, "proxies['http']: expected an http://"),
    ({"proxies_config": {"proxy_ca_bundel": "/x"}}, "proxies_config: unknown key "
                                                    "'proxy_ca_bundel'"),
    ({"proxies_config": {"proxy_ca_bundle": 1}},
     "proxies_config['proxy_ca_bundle']: expected a str, got int"),
    ({"proxies_config": {"proxy_client_cert": ("/c.pem", 2)}},
     "proxies_config['proxy_client_cert']: expected a str, got int"),
    ({"proxies_config": {"proxy_use_forwarding_for_https": True}},
     "proxies_config['proxy_use_forwarding_for_https']: True is not supported"),
    ({"proxies_config": {"proxy_ca_bundle": "/nonexistent/proxy-ca.pem"}},
     "proxies_config['proxy_ca_bundle']: cannot read \"/nonexistent/proxy-ca.pem\""),
], ids=lambda v: "" if isinstance(v, str) else "-".join(
    "%s:%s" % (k, ",".join(x) if isinstance(x, dict) else "str") for k, x in v.items()))
def test_proxies__bad_setting_refused_by_name_before_io(proxy, config, message):
    cfg = acmpca.Config(**config)
    with pytest.raises(acmpca.InvalidConfigError) as info:
        make_client("http://127.0.0.1:1", config=cfg)
    assert str(info.value).startswith(message), str(info.value)
    assert "hunter2" not in str(info.value)
    assert proxy.seen == []


def test_proxies__passwords_never_shown(proxy):
    url = "http://user:hunter2@127.0.0.1:%d" % proxy.server_address[1]
    cfg = acmpca.Config(proxies={"https": url, "http": url})
    assert "hunter2" not in repr(cfg)
    assert "***@127.0.0.1" in repr(cfg)
    with make_client("http://127.0.0.1:1", config=cfg) as c:
        assert "hunter2" not in repr(c) + repr(c.meta.config)
