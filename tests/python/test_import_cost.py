"""What `import acmpca` (and acmpca.aio) leaves out until it is needed, checked in
fresh interpreters started with -S (no site-packages .pth files, which may import
anything), and that what is left out still works when first needed."""
import datetime
import os
import subprocess
import sys

CLIENT = ("import sys, acmpca; c = acmpca.client('acm-pca', 'us-east-1', "
          "aws_access_key_id='a', aws_secret_access_key='b'); ")


def run(code, stdin=None):
    env = dict(os.environ, PYTHONPATH=":".join(p for p in sys.path if p),
               AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run([sys.executable, "-S", "-c", code], input=stdin, capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def loaded(names):
    return "print(sorted(m for m in %r if m in sys.modules))" % (names,)


def test_import__client_creation_loads_neither_datetime_nor_types():
    assert run(CLIENT + loaded(("datetime", "_datetime", "types", "logging"))) == "[]"


def test_import__aio_loads_neither_ipaddress_nor_urllib():
    code = "import sys, asyncio, acmpca.aio; " + loaded(("ipaddress", "urllib.parse",
                                                         "datetime"))
    assert run(code) == "[]"


def test_import__first_timestamp_argument_converts_without_datetime_preloaded():
    """A number as the timestamp, with datetime never imported by the caller, then a
    datetime: both sign at the same instant."""
    code = (CLIENT +
            "kw = dict(region='us-east-1', service='acm-pca', access_key='AKIDEXAMPLE', "
            "secret_key='s'); "
            "a = acmpca.sign_request('GET', 'https://h/', None, None, timestamp=1440938160, "
            "**kw)['X-Amz-Date']; "
            "import datetime; "
            "b = acmpca.sign_request('GET', 'https://h/', None, None, "
            "timestamp=datetime.datetime(2015, 8, 30, 12, 36), **kw)['X-Amz-Date']; "
            "print(a, b)")
    assert run(code) == "20150830T123600Z 20150830T123600Z"


def test_import__first_timestamp_result_is_an_aware_datetime():
    """parse_certificate's dates, in a process that never imported datetime itself."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "import-cost")])
    not_before = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    code = (CLIENT + "nb = acmpca.parse_certificate(sys.stdin.read())['NotBefore']; "
            "print(type(nb).__name__, nb.isoformat())")
    assert run(code, stdin=pem) == "datetime 2020-01-02T03:04:05+00:00"
