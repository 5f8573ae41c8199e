"""The PKI helpers: keys, CSRs, CSR and serial normalisation, certificate reading."""
import base64
import datetime
import os
import subprocess
import sys
import textwrap

import pytest

import acmpca

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


@pytest.mark.smoke
@pytest.mark.parametrize("key_type,cls,size", [
    ("RSA_2048", rsa.RSAPrivateKey, 2048), ("rsa3072", rsa.RSAPrivateKey, 3072),
    ("EC_prime256v1", ec.EllipticCurvePrivateKey, 256), ("p384", ec.EllipticCurvePrivateKey, 384),
    ("EC_secp521r1", ec.EllipticCurvePrivateKey, 521), ("ED25519", ed25519.Ed25519PrivateKey, None),
])
def test_generate_key_and_csr(key_type, cls, size):
    pem = acmpca.generate_key(key_type)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, cls)
    if size:
        assert key.key_size == size
    csr_pem = acmpca.make_csr(pem.encode(), common_name="svc.example", organization="Org",
                              organizational_unit="Unit", country="DE", state="Berlin",
                              locality="Berlin", dns_names=["svc.example", "*.svc.example"],
                              ip_addresses=["10.0.0.1", "::1"], emails=["ops@example.com"],
                              uris=["spiffe://example/svc"])
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "svc.example"
    assert csr.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "DE"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["svc.example", "*.svc.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.1", "::1"]
    assert san.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://example/svc"]
    assert csr.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo) == \
        key.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)


def test_default_key_type():
    key = serialization.load_pem_private_key(acmpca.generate_key().encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_bad_pki_input():
    with pytest.raises(acmpca.ParamValidationError, match="key"):
        acmpca.generate_key("DSA_1024")
    with pytest.raises(acmpca.ParamValidationError, match="private_key_pem"):
        acmpca.make_csr("not a key", common_name="x")
    key = acmpca.generate_key()
    with pytest.raises(acmpca.ParamValidationError, match="country"):
        acmpca.make_csr(key, country="Germany")
    with pytest.raises(acmpca.ParamValidationError, match="not an IP address"):
        acmpca.make_csr(key, ip_addresses=["300.1.1.1"])
    with pytest.raises(TypeError):
        acmpca.make_csr(key, dns_names="single.example")
    with pytest.raises(TypeError):
        acmpca.make_csr(key, common_name=5)
    with pytest.raises(acmpca.ParamValidationError, match="Csr"):
        acmpca.normalize_csr(b"garbage")
    with pytest.raises(acmpca.ParamValidationError, match="Certificate"):
        acmpca.parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(acmpca.ParamValidationError, match="serial"):
        acmpca.normalize_serial("not a serial!")
    with pytest.raises(acmpca.ParamValidationError):
        acmpca.parse_certificate(b"\x00binary")
    with pytest.raises(TypeError):
        acmpca.normalize_csr(12)


NULL_PROVIDER = """\
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
null = null_sect
[null_sect]
activate = 1
"""

CRYPTO_FAILS = textwrap.dedent("""
    import acmpca
    try:
        acmpca.generate_key("RSA_2048")
    except acmpca.CryptoError as e:
        assert isinstance(e, acmpca.Error) and not isinstance(e, MemoryError)
        print("CryptoError:", e)
""")


def test_openssl_failure_is_a_crypto_error(tmp_path):
    """With only OpenSSL's null provider loaded, key generation fails inside OpenSSL:
    acmpca.CryptoError with OpenSSL's reason, not a MemoryError."""
    conf = tmp_path / "openssl.cnf"
    conf.write_text(NULL_PROVIDER)
    env = dict(os.environ, OPENSSL_CONF=str(conf), PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(acmpca.__file__))] + sys.path))
    out = subprocess.run([sys.executable, "-c", CRYPTO_FAILS], capture_output=True, text=True,
                         env=env, timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("CryptoError: generating the private key failed"), out.stdout
    assert issubclass(acmpca.CryptoError, acmpca.Error) and acmpca.CryptoError.__doc__


def test_normalize_csr_forms():
    pem = acmpca.make_csr(acmpca.generate_key(), common_name="norm.example")
    der = x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER)
    body = base64.b64encode(der).decode()
    old = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    spaced = " ".join(body[i:i + 10] for i in range(0, len(body), 10))
    for form in (pem, pem.encode(), der, bytearray(der), old, spaced):
        assert acmpca.normalize_csr(form).strip() == pem.strip()


def self_signed(serial=0x793F0D):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parsed.example")])
    now = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("parsed.example"),
                                                        x509.UniformResourceIdentifier("urn:x")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), now


def test_parse_certificate():
    pem, not_before = self_signed()
    info = acmpca.parse_certificate(pem)
    assert info["Subject"] == info["Issuer"] and "parsed.example" in info["Subject"]
    assert info["Serial"] == "79:3f:0d"
    assert info["NotBefore"] == not_before
    assert info["NotAfter"] == not_before + datetime.timedelta(days=30)
    assert info["NotBefore"].tzinfo is not None
    assert info["SubjectAlternativeNames"] == [{"Type": "DNS", "Value": "parsed.example"},
                                               {"Type": "URI", "Value": "urn:x"}]
    assert info["IsCA"] is True and info["KeyAlgorithm"] == "EC_prime256v1"
    assert acmpca.parse_certificate(pem.encode()) == info


def test_normalize_serial_forms():
    pem, _ = self_signed()
    assert acmpca.normalize_serial(pem) == "79:3f:0d"
    assert acmpca.normalize_serial("793f0d") == "79:3f:0d"
    assert acmpca.normalize_serial("0x793F0D") == "79:3f:0d"
    assert acmpca.normalize_serial("79:3F:0D") == "79:3f:0d"
    arn = ("arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/ca/certificate/%d"
           % 0x793F0D)
    assert acmpca.normalize_serial(arn) == "79:3f:0d"
