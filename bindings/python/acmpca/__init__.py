"""acmpca - a client for AWS Private CA (ACM PCA) on a C11 core.

A drop-in for boto3's acm-pca client::

    import acmpca
    pca = acmpca.client(region_name="eu-west-1")
    out = pca.issue_certificate(CertificateAuthorityArn=ca_arn, Csr=csr_pem,
                                SigningAlgorithm="SHA256WITHECDSA",
                                Validity={"Value": 30, "Type": "DAYS"})
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca_arn,
                                              CertificateArn=out["CertificateArn"])

The calls, the conversions and the error mapping live in the C extension
acmpca._acmpca; this package only re-exports it and adds client(), Config
and set_stream_logger(). What boto3 code bases also use loads on first use
only: client.meta (acmpca._meta, acmpca._events), acmpca.Session,
acmpca.stub.Stubber and acmpca.testing (moto's server on loopback). The
asyncio client, with the same surface, is acmpca.aio (import acmpca.aio).
Debug records of each request and response (secrets redacted) go to
logging.getLogger("acmpca").
"""
from . import _acmpca
from ._acmpca import *  # noqa: F401,F403  (Client, the exceptions, the PKI helpers, sign_request)
from ._acmpca import Client, __version__  # noqa: F401

__all__ = sorted([name for name in dir(_acmpca) if not name.startswith("_")]
                 + ["client", "Config", "set_stream_logger", "Session", "StubResponseError",
                    "StubAssertionError", "UnStubbedResponseError"])


class Config:
    """Client configuration, with botocore.config.Config's keyword names.

    connect_timeout, read_timeout
        seconds (int or float); default 10 and 60.
    retries
        {"max_attempts": retries after the first attempt, or "total_max_attempts": all
        attempts, "mode": "standard" | "adaptive" | "legacy" (= standard)}.
    max_pool_connections
        idle keep-alive connections kept by the client.
    use_fips_endpoint, use_dualstack_endpoint, region_name, user_agent_extra
        as in botocore.
    rate_limit
        acmpca only: True paces each operation to ACM PCA's default quotas, or a dict
        {"IssueCertificate": 10.0, ...} of requests per second; shared by all threads.
    max_response_bytes
        acmpca only: the largest response body accepted (default 16 MiB); a larger one
        raises ResponseParserError without being retried.
    total_timeout
        acmpca only: seconds (int or float) for a whole call, every attempt and the
        pauses between retries included; past it the call raises ReadTimeoutError (or the
        last attempt's error when the next pause alone would pass it). None (the
        default): no bound beyond connect_timeout and read_timeout per attempt.
    proxies
        {"https": url, "http": url}: the proxy for the endpoint's scheme
        ("http://[user:password@]host:port" or https://), instead of HTTPS_PROXY /
        HTTP_PROXY; NO_PROXY still applies, and the instance and container metadata
        endpoints never go through it. acmpca.aio honours it too (http:// proxies).
    proxies_config
        {"proxy_ca_bundle": path, "proxy_client_cert": path or (cert, key)} for an
        https:// proxy; "proxy_use_forwarding_for_https" may only be False (https goes
        through the proxy by CONNECT). Other keys, or values that are not str, raise
        InvalidConfigError naming the key. Proxy passwords never show in repr().

    Numbers are checked when the client is made: a value out of range (zero or negative
    timeouts, NaN, values past the library's limits) raises InvalidConfigError naming the
    setting and the accepted range.

    The other botocore.config.Config keywords are accepted so that existing code runs:
    tcp_keepalive (the transport always turns TCP keep-alive on), parameter_validation
    (False is accepted but validation stays on: the core validates while it serializes,
    at no measurable cost), signature_version and the rest (no effect). proxies and
    proxies_config are refused (InvalidConfigError): the C transport takes its proxy from
    HTTPS_PROXY / HTTP_PROXY / NO_PROXY, so a Config proxy would silently not be used.
    A botocore.config.Config may be passed to acmpca.client() directly as well.
    client.meta.config is a Config with the settings the client resolved (retries,
    timeouts, pool size) over the ones given.
    """

    _OPTIONS = ("region_name", "connect_timeout", "read_timeout", "retries",
                "max_pool_connections", "use_fips_endpoint", "use_dualstack_endpoint",
                "user_agent_extra", "rate_limit", "max_response_bytes", "total_timeout",
                "proxies", "proxies_config")
    _IGNORED = ("signature_version", "user_agent", "user_agent_appid", "parameter_validation",
                "s3", "inject_host_prefix",
                "endpoint_discovery_enabled", "client_cert", "tcp_keepalive", "defaults_mode",
                "ignore_configured_endpoint_urls", "request_min_compression_size_in_bytes",
                "disable_request_compression", "request_checksum_calculation",
                "response_checksum_validation", "sigv4a_signing_region_set",
                "account_id_endpoint_mode", "auth_scheme_preference")

    def __init__(self, **kwargs):
        for name in self._OPTIONS + self._IGNORED:
            setattr(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError("Config() got unexpected keyword arguments: %s"
                            % ", ".join(sorted(kwargs)))
        if self.retries is not None and not isinstance(self.retries, dict):
            raise TypeError("retries: expected a dict, got %r" % (self.retries,))

    def merge(self, other_config):
        """A new Config: this one's values, overridden by other_config's that are set."""
        merged = Config()
        for name in self._OPTIONS + self._IGNORED:
            value = getattr(other_config, name, None)
            setattr(merged, name, value if value is not None else getattr(self, name))
        return merged

    def __repr__(self):
        set_ = ["%s=%r" % (n, _hide_proxy_passwords(getattr(self, n)) if n == "proxies"
                           else getattr(self, n))
                for n in self._OPTIONS + self._IGNORED if getattr(self, n) is not None]
        return "acmpca.Config(%s)" % ", ".join(set_)


def _hide_proxy_passwords(proxies):
    """proxies with "user:password@" in each URL shown as "***@"."""
    if not isinstance(proxies, dict):
        return proxies
    shown = {}
    for key, url in proxies.items():
        if isinstance(url, str) and "@" in url:
            scheme, sep, rest = url.rpartition("://")
            url = scheme + sep + "***@" + rest.rpartition("@")[2]
        shown[key] = url
    return shown


def client(*args, **kwargs):
    """client(service_name="acm-pca", region_name=None, api_version=None, use_ssl=True,
    verify=None, endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
    aws_session_token=None, config=None, *, profile_name=None, ...) -> Client

    A new acmpca.Client, with boto3.client()'s arguments in boto3's order (see Client).
    service_name must be "acm-pca" (or None); api_version "2017-08-22" (or None).
    """
    return Client(*args, **kwargs)


_LAZY = {"Session": "_session", "StubResponseError": "stub", "StubAssertionError": "stub",
         "UnStubbedResponseError": "stub"}


def __getattr__(name):
    # Session and the Stubber's errors load their module on first use only.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module("." + _LAZY[name], __name__), name)
    raise AttributeError("module 'acmpca' has no attribute %r" % (name,))


def set_stream_logger(name="acmpca", level=None, format_string=None):
    """Log `name` (default "acmpca") at `level` (default DEBUG) to stderr, as
    boto3.set_stream_logger does. The debug records show each request and response with
    the Authorization header and the session token redacted."""
    import logging

    if level is None:
        level = logging.DEBUG
    if format_string is None:
        format_string = "%(asctime)s %(name)s [%(levelname)s] %(message)s"
    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string))
    logger.addHandler(handler)
    return logger
