"""Build of the acmpca Python package: the extension acmpca._acmpca, made of
the C core (core/src/*.c) and the binding (bindings/python/*.c), linked
against libcrypto and libcjson; and acmpca._curl, the one object linked
against libcurl, which the extension loads at its first transfer
(bindings/python/curl_lazy.c says why and how).

    pip install .                                  # from the repository root
    python -m build                                # sdist, and a wheel built from it
    python3 setup.py build_ext --inplace           # for development

The libraries are found with pkg-config; without it (or without a .pc file)
the plain -lcurl -lcrypto -lcjson are used. Before anything is compiled, a
pre-flight check looks for the compiler and the four headers the build needs
and stops with one line naming what is missing and the packages to install. The
version is the core's (ACMPCA_VERSION in core/include/acmpca/common.h).
Nothing is written into the source tree but the egg-info metadata, and not
even that when the tree is read-only: objects go to a temporary directory.
"""
import atexit
import glob
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
import tempfile

from setuptools import Extension, setup
from setuptools.command.build import build
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError

ROOT = os.path.dirname(os.path.abspath(__file__))

PKG_CONFIG_PACKAGES = [("libcurl", "curl"), ("libcrypto", "crypto"), ("libcjson", "cjson")]
# libcurl is linked by the small acmpca._curl only: the extension loads it at the first transfer.
CURL = [p for p in PKG_CONFIG_PACKAGES if p[0] == "libcurl"]

# (header, pkg-config package whose include directories may hold it)
HEADERS = [("cjson/cJSON.h", "libcjson"), ("curl/curl.h", "libcurl"),
           ("openssl/evp.h", "libcrypto")]
MISSING = ("acmpca needs the C header %s, which was not found%s: install the development "
           "packages (Debian/Ubuntu: apt-get install python3-dev libcjson-dev "
           "libcurl4-openssl-dev libssl-dev; Fedora: dnf install python3-devel cjson-devel "
           "libcurl-devel openssl-devel)")
NO_COMPILER = ("acmpca needs a C compiler, and %s was not found: install it (Debian/Ubuntu: "
               "apt-get install build-essential; Fedora: dnf install gcc)")


def read_version():
    with open(os.path.join(ROOT, "core", "include", "acmpca", "common.h"), encoding="utf-8") as f:
        m = re.search(r'^#define\s+ACMPCA_VERSION\s+"([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError("ACMPCA_VERSION not found in core/include/acmpca/common.h")
    return m.group(1)


def pkg_config(package):
    """(cflags, libs) token lists from pkg-config, or None when it cannot answer."""
    try:
        cflags = subprocess.run(["pkg-config", "--cflags", package], check=True,
                                capture_output=True, text=True).stdout
        libs = subprocess.run(["pkg-config", "--libs", package], check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(cflags), shlex.split(libs)


def setuptools_cc():
    """The compiler command build_ext would run (CC, CFLAGS, ... applied), or None."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    return list(getattr(compiler, "compiler_so", None) or []) or None


def missing_prerequisite(cc=None, python_include=None):
    """The one-line complaint about the compiler or the first header the build
    lacks, or None.

    Python.h must be in sysconfig's include directory (where build_ext looks);
    the others must preprocess with `cc` (default: the compiler build_ext would
    use) and pkg-config's include flags. Only the compiler's verdict is kept:
    its output would bury the answer."""
    python_include = python_include or sysconfig.get_paths()["include"]
    if not os.path.isfile(os.path.join(python_include, "Python.h")):
        return MISSING % ("Python.h", " in " + python_include)
    cc = cc or setuptools_cc()
    if not cc:
        return None  # not a Unix compiler: let the build itself speak
    with tempfile.TemporaryDirectory(prefix="acmpca-preflight-") as tmp:
        for header, package in HEADERS:
            src = os.path.join(tmp, "check.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write("#include <%s>\n" % header)
            found = pkg_config(package)
            flags = [t for t in found[0] if t.startswith("-I")] if found else []
            try:
                ok = subprocess.run(cc + flags + ["-E", src, "-o", os.devnull],
                                    capture_output=True).returncode == 0
            except OSError:
                return NO_COMPILER % cc[0]
            if not ok:
                return MISSING % (header, " by " + cc[0])
    return None


_preflight_done = []


def preflight():
    if _preflight_done:
        return
    problem = missing_prerequisite()
    if problem:
        raise CompileError(problem)
    _preflight_done.append(True)


class Build(build):
    # Before build_py's chatter, so that the complaint is the last thing pip shows.
    def run(self):
        preflight()
        super().run()


class BuildExt(build_ext):
    # `setup.py build_ext --inplace` does not go through `build`.
    def run(self):
        preflight()
        super().run()


def library_flags(packages, link=True):
    """Build flags for (pkg-config package, fallback -l name) pairs; with
    link=False only their compile flags (headers)."""
    include_dirs, library_dirs, libraries, extra_compile, extra_link = [], [], [], [], []
    for package, fallback in packages:
        found = pkg_config(package)
        if found is None:
            if link:
                libraries.append(fallback)
            continue
        cflags, libs = found
        for tok in cflags:
            if tok.startswith("-I"):
                include_dirs.append(tok[2:])
            else:
                extra_compile.append(tok)
        for tok in libs if link else []:
            if tok.startswith("-l"):
                libraries.append(tok[2:])
            elif tok.startswith("-L"):
                library_dirs.append(tok[2:])
            else:
                extra_link.append(tok)
    if link:
        libraries += ["pthread", "m"]

    def unique(seq):
        seen, out = set(), []
        for x in seq:
            if x not in seen:
                seen.add(x)
                out.append(x)
        return out

    return (unique(include_dirs), unique(library_dirs), unique(libraries),
            unique(extra_compile), unique(extra_link))


def scratch_dir():
    path = tempfile.mkdtemp(prefix="acmpca-build-")
    atexit.register(shutil.rmtree, path, True)
    return path


def extension_args():
    """The extension's sources and build settings (paths relative to ROOT); also read by
    tools/check_python_layers.py, which compiles the binding's files alike."""
    others = [p for p in PKG_CONFIG_PACKAGES if p[0] != "libcurl"]
    include_dirs, library_dirs, libraries, extra_compile, extra_link = library_flags(others)
    # The extension compiles against curl's headers but does not link it (dl: dlopen,
    # a library of its own before glibc 2.34).
    curl_include, _, _, curl_compile, _ = library_flags(CURL, link=False)
    include_dirs += [d for d in curl_include if d not in include_dirs]
    extra_compile += [f for f in curl_compile if f not in extra_compile]
    libraries.append("dl")
    sources = sorted(glob.glob(os.path.join(ROOT, "core", "src", "*.c")))
    sources += sorted(glob.glob(os.path.join(ROOT, "bindings", "python", "*.c")))
    return dict(
        sources=[os.path.relpath(s, ROOT) for s in sources],
        include_dirs=[os.path.join("core", "include"), os.path.join("core", "src")] + include_dirs,
        library_dirs=library_dirs,
        libraries=libraries,
        define_macros=[("ACMPCA_BUILDING", None), ("ACMPCA_LAZY_CURL", None),
                       ("_POSIX_C_SOURCE", "200809L")],
        extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"] + extra_compile,
        extra_link_args=extra_link,
    )


def main():
    # setuptools wants source paths relative to the project root.
    os.chdir(ROOT)

    extension = Extension(
        "acmpca._acmpca",
        **extension_args(),
        depends=sorted(glob.glob(os.path.join("core", "include", "**", "*.h"), recursive=True)
                       + glob.glob(os.path.join("core", "src", "*.h"))
                       + glob.glob(os.path.join("bindings", "python", "*.h"))),
    )

    curl_include, curl_library_dirs, curl_libraries, curl_compile, curl_link = library_flags(CURL)
    curl_table = Extension(
        "acmpca._curl",
        sources=[os.path.join("bindings", "python", "curl", "curl_table.c")],
        include_dirs=[os.path.join("bindings", "python")] + curl_include,
        library_dirs=curl_library_dirs,
        libraries=curl_libraries,
        extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"] + curl_compile,
        extra_link_args=curl_link,
        depends=[os.path.join("bindings", "python", "curl_lazy.h")],
    )

    package_dir = os.path.join("bindings", "python")
    options = {
        # Objects and the staged wheel go to a temporary directory: a read-only
        # checkout must build, and CMake's build/ trees stay apart.
        "build": {"build_base": scratch_dir()},
        "build_ext": {"parallel": os.cpu_count() or 1},
    }
    if not os.access(package_dir, os.W_OK):
        options["egg_info"] = {"egg_base": scratch_dir()}

    setup(
        version=read_version(),
        packages=["acmpca"],
        package_dir={"": package_dir},
        package_data={"acmpca": ["py.typed", "*.pyi"]},
        ext_modules=[extension, curl_table],
        cmdclass={"build": Build, "build_ext": BuildExt},
        zip_safe=False,
        options=options,
    )


if __name__ == "__main__":
    main()
