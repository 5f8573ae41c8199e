"""Policies of the Python client observed from outside, against
tests/fixtures/fault_server.py: which TLS servers it accepts (the HTTPS port
presenting certificates made for the test, POST /_fault/tls), and how fast
rate_limit lets it call (the server's receive times). The C suite's
tests/c/test_policy.c checks the same for the core; these check that the
binding passes verify= and rate_limit= through."""
import pytest

import acmpca
from conftest import make_client

CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"


def serve_certificate_for(fault, name):
    """The HTTPS port presents a certificate for `name` from a new test CA; its path."""
    fault.script([])
    return fault._control("POST", "/_fault/tls", {"names": [name]})["ca"]


def describe(fault, **kwargs):
    config = acmpca.Config(retries={"total_max_attempts": 3})
    with make_client(fault.tls_endpoint, config=config, **kwargs) as c:
        return c.describe_certificate_authority(CertificateAuthorityArn=CA_ARN)


@pytest.fixture
def tls_fault(fault):
    yield fault
    fault.script([])  # the self-signed certificate again, for the other tests


def test_tls__certificate_for_another_name_refused(tls_fault):
    ca = serve_certificate_for(tls_fault, "127.0.0.1")
    assert describe(tls_fault, verify=ca)["CertificateAuthority"]["Arn"] == CA_ARN

    ca = serve_certificate_for(tls_fault, "wrong.example")
    with pytest.raises(acmpca.SSLError) as ei:
        describe(tls_fault, verify=ca)
    assert "TLS error" in ei.value.message
    assert ei.value.attempts == 1 and not ei.value.retryable
    assert tls_fault.received() == []


def test_tls__verify_false_accepts_any_server(tls_fault):
    serve_certificate_for(tls_fault, "wrong.example")
    with pytest.raises(acmpca.SSLError):
        describe(tls_fault)
    assert describe(tls_fault, verify=False)["CertificateAuthority"]["Arn"] == CA_ARN
    assert len(tls_fault.received()) == 1

    tls_fault.script([])  # the self-signed certificate
    with pytest.raises(acmpca.SSLError):
        describe(tls_fault)
    assert describe(tls_fault, verify=False)["CertificateAuthority"]["Arn"] == CA_ARN
    assert len(tls_fault.received()) == 1


def paced_span(fault, c, n):
    """n GetPolicy calls; the span between the first and last request the server saw."""
    fault.script([])
    for _ in range(n):
        c.get_policy(ResourceArn=CA_ARN)
    times = [r["mono"] for r in fault.received()]
    assert len(times) == n
    return times[-1] - times[0]


def test_rate_limit__true_paces_to_the_default_quotas(fault):
    # GetPolicy's default quota is 5/s: 4 calls span at least 0.6 s (less 50 ms
    # for when each request reached the server), not much more.
    with make_client(fault.endpoint, config=acmpca.Config(rate_limit=True)) as c:
        span = paced_span(fault, c, 4)
    assert 0.6 - 0.05 <= span <= 0.6 + 0.5


def test_rate_limit__a_dict_sets_the_rate_of_an_operation(fault):
    with make_client(fault.endpoint, config=acmpca.Config(rate_limit={"GetPolicy": 10})) as c:
        span = paced_span(fault, c, 4)
    assert 0.3 - 0.05 <= span <= 0.3 + 0.5
