"""What a user installing the package sees: setup.py's pre-flight names the
missing compiler or header and the packages to install in one line, before
any compiler output; and every place that states the version states the
header's.

The build itself (sdist, a wheel from it, a read-only checkout) is
tests/package/python_sdist.sh (CTest package/python-sdist-and-wheel)."""
import importlib.util
import os
import re
import sysconfig
from importlib import metadata

import pytest

import acmpca

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEBIAN = "apt-get install python3-dev libcjson-dev libcurl4-openssl-dev libssl-dev"
FEDORA = "dnf install python3-devel cjson-devel libcurl-devel openssl-devel"


@pytest.fixture(scope="module")
def setup_py():
    # A venv of Python 3.12+ has no setuptools: setup.py cannot even be read there.
    pytest.importorskip("setuptools.command.build")
    # Imported under another name than __main__, setup.py defines and builds nothing.
    spec = importlib.util.spec_from_file_location("acmpca_setup", os.path.join(ROOT, "setup.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_pkg_config(monkeypatch, tmp_path):
    # pkg-config finds no .pc file: the compiler's own search path is all there is.
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", str(tmp_path / "no-pc"))
    monkeypatch.delenv("PKG_CONFIG_PATH", raising=False)


def assert_names(message, header):
    assert message is not None
    assert "\n" not in message
    assert message.startswith("acmpca needs the C header %s, which was not found" % header)
    assert DEBIAN in message and FEDORA in message


def test_preflight__names_missing_python_header_and_packages(setup_py, tmp_path):
    message = setup_py.missing_prerequisite(python_include=str(tmp_path))
    assert_names(message, "Python.h")
    assert str(tmp_path) in message


def test_preflight__names_first_missing_library_header(setup_py, tmp_path, no_pkg_config):
    # The compiler searches only tmp_path, which holds cJSON's header alone.
    (tmp_path / "cjson").mkdir()
    (tmp_path / "cjson" / "cJSON.h").write_text("")
    cc = setup_py.setuptools_cc() + ["-nostdinc", "-I" + str(tmp_path)]
    assert_names(setup_py.missing_prerequisite(cc=cc), "curl/curl.h")


def test_preflight__names_cjson_when_include_path_is_empty(setup_py, tmp_path, no_pkg_config):
    cc = setup_py.setuptools_cc() + ["-nostdinc", "-I" + str(tmp_path)]
    assert_names(setup_py.missing_prerequisite(cc=cc), "cjson/cJSON.h")


def test_preflight__names_a_missing_compiler(setup_py, tmp_path):
    message = setup_py.missing_prerequisite(cc=[str(tmp_path / "gcc")])
    assert message == ("acmpca needs a C compiler, and %s was not found: install it "
                       "(Debian/Ubuntu: apt-get install build-essential; Fedora: dnf install gcc)"
                       % (tmp_path / "gcc"))


def test_preflight__passes_with_this_machines_headers(setup_py):
    assert os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
    assert setup_py.missing_prerequisite() is None


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def test_packaging__every_version_is_the_headers():
    header = re.search(r'^#define ACMPCA_VERSION "([^"]+)"', read("core/include/acmpca/common.h"),
                       re.M).group(1)
    cmake = re.search(r"^project\(acmpca VERSION (\S+)", read("CMakeLists.txt"), re.M).group(1)
    rockspecs = [f for f in os.listdir(os.path.join(ROOT, "bindings", "lua"))
                 if f.endswith(".rockspec")]
    assert rockspecs == ["acmpca-%s-1.rockspec" % header]
    spec = read("bindings", "lua", rockspecs[0])
    rockspec = re.search(r'^version = "([^"]+)-\d+"', spec, re.M).group(1)
    tag = re.search(r'^\s*tag = "v([^"]+)"', spec, re.M).group(1)
    versions = {
        "CMakeLists.txt project()": cmake,
        "rockspec": rockspec,
        "rockspec's source tag": tag,
        # The loaded library's acmpca_version(): the build and the runtime agree.
        "acmpca.__version__": acmpca.__version__,
    }
    try:  # the version setup.py gave the installed distribution
        versions["installed distribution"] = metadata.version("acmpca")
    except metadata.PackageNotFoundError:  # an in-place build (ACMPCA_PYTHON_PATH)
        pass
    assert versions == dict.fromkeys(versions, header)
