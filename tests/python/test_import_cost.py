"""What `import acmpca` (and acmpca.aio) leaves out until it is needed, checked in
fresh interpreters started with -S (no site-packages .pth files, which may import
anything), and that what is left out still works when first needed."""
import datetime
import os
import shutil
import subprocess
import sys

import acmpca

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


# libcurl is loaded by the first transfer (bindings/python/curl_lazy.c), not by the import.
CURL_MAPPED = "any('libcurl' in line for line in open('/proc/self/maps'))"
ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/lazy"
CALL = ("c.get_certificate(CertificateAuthorityArn=%r, CertificateArn=%r + '/certificate/1'); "
        % (ARN, ARN))


def client_at(endpoint, extra):
    return ("import sys, acmpca; c = acmpca.client('acm-pca', 'us-east-1', endpoint_url=%r, "
            "aws_access_key_id='testing', aws_secret_access_key='testing', "
            "config=acmpca.Config(user_agent_extra=%r)); " % (endpoint, extra))


def seen_by(server, extra):
    return [r for r in server.requests if r["headers"]["user-agent"].endswith(extra)]


def test_import__client_creation_maps_no_libcurl():
    assert run(CLIENT + "print(%s)" % CURL_MAPPED) == "False"


def test_import__first_call_maps_libcurl_and_the_user_agent_names_its_version(scripted):
    """The version is libcurl's own curl_version(), asked through ctypes of the very
    file the process mapped."""
    code = (client_at(scripted.endpoint, "lazy/first-call") + "print(%s); " % CURL_MAPPED +
            CALL + "print(%s); " % CURL_MAPPED +
            "import ctypes; path = [l.split()[-1] for l in open('/proc/self/maps') "
            "if 'libcurl' in l][0]; f = ctypes.CDLL(path).curl_version; "
            "f.restype = ctypes.c_char_p; print(f().decode().split()[0])")
    before, after, version = run(code).splitlines()
    assert (before, after) == ("False", "True")
    assert version.startswith("libcurl/")
    [request] = seen_by(scripted, "lazy/first-call")
    assert request["headers"]["user-agent"] == "acmpca/%s %s lazy/first-call" % (
        acmpca.__version__, version)


def test_import__first_calls_from_threads_at_once_all_succeed(scripted):
    """Eight threads make the process's first transfers together: one loads libcurl,
    the others wait for it."""
    code = (client_at(scripted.endpoint, "lazy/threads") +
            "import threading; b = threading.Barrier(8); ok = []\n"
            "def one():\n    b.wait(); " + CALL + "ok.append(1)\n"
            "ts = [threading.Thread(target=one) for _ in range(8)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]; print(len(ok))")
    assert run(code) == "8"
    assert len(seen_by(scripted, "lazy/threads")) == 8


def test_import__child_forked_before_the_first_call_loads_libcurl_itself(scripted):
    code = (client_at(scripted.endpoint, "lazy/fork") + "import os\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    try:\n        " + CALL + "os._exit(0)\n"
            "    except BaseException:\n        os._exit(1)\n"
            "print(os.waitpid(pid, 0)[1], %s); " % CURL_MAPPED + CALL + "print('parent ok')")
    assert run(code).splitlines() == ["0 False", "parent ok"]
    assert len(seen_by(scripted, "lazy/fork")) == 2


def test_import__missing_libcurl_helper_is_a_typed_error_at_the_first_call(tmp_path, scripted):
    """The package without acmpca/_curl*.so: import and client creation work, each call
    raises InvalidConfigError naming the file and what dlopen said, and nothing is sent."""
    package = os.path.dirname(acmpca.__file__)
    shutil.copytree(package, tmp_path / "acmpca",
                    ignore=lambda d, names: [n for n in names if n.startswith("_curl")])
    code = (client_at(scripted.endpoint, "lazy/missing") + "\n"
            "for _ in range(2):\n"
            "    try:\n        " + CALL + "\n"
            "    except acmpca.InvalidConfigError as e:\n        print(e)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         env=env)
    assert out.returncode == 0, out.stderr
    helper = os.path.join(str(tmp_path), "acmpca",
                          os.path.basename(acmpca._acmpca.__file__).replace("_acmpca", "_curl"))
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].startswith("cannot load libcurl through %s: " % helper)
    assert "No such file or directory" in lines[0]
    assert seen_by(scripted, "lazy/missing") == []


def test_import__libcurl_loaded_late_frees_through_the_wiping_allocators(scripted):
    """curl_global_init_mem of the import is replayed by the load: a block libcurl
    allocates (curl_maprintf) and frees (curl_free) is wiped, so libcurl's copies of
    the signed headers are too. Read right after the free, the block's bytes past
    malloc's own bookkeeping are zero, not the text it held."""
    code = (client_at(scripted.endpoint, "lazy/wipe") + CALL +
            "import ctypes; path = [l.split()[-1] for l in open('/proc/self/maps') "
            "if 'libcurl' in l][0]; lib = ctypes.CDLL(path); "
            "lib.curl_maprintf.restype = ctypes.c_void_p; "
            "lib.curl_free.argtypes = [ctypes.c_void_p]; "
            "p = lib.curl_maprintf(b'%s', b'W' * 200); "
            "before = ctypes.string_at(p + 32, 100); lib.curl_free(p); "
            "after = ctypes.string_at(p + 32, 100); "
            "print(before == b'W' * 100, after == bytes(100))")
    assert run(code) == "True True"
