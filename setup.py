"""Build of the acmpca Python package: one extension, acmpca._acmpca, made of
the C core (core/src/*.c) and the binding (bindings/python/*.c), linked
against libcurl, libcrypto and libcjson.

    pip install .                                  # from the repository root
    python3 setup.py build_ext --inplace           # for development

The libraries are found with pkg-config; without it (or without a .pc file)
the plain -lcurl -lcrypto -lcjson are used. The version is the core's
(ACMPCA_VERSION in core/include/acmpca/common.h).
"""
import glob
import os
import re
import shlex
import subprocess

from setuptools import Extension, setup

ROOT = os.path.dirname(os.path.abspath(__file__))
# setuptools wants source paths relative to the project root.
os.chdir(ROOT)

PKG_CONFIG_PACKAGES = [("libcurl", "curl"), ("libcrypto", "crypto"), ("libcjson", "cjson")]


def read_version():
    with open(os.path.join("core", "include", "acmpca", "common.h"), encoding="utf-8") as f:
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


def library_flags():
    include_dirs, library_dirs, libraries, extra_compile, extra_link = [], [], [], [], []
    for package, fallback in PKG_CONFIG_PACKAGES:
        found = pkg_config(package)
        if found is None:
            libraries.append(fallback)
            continue
        cflags, libs = found
        for tok in cflags:
            if tok.startswith("-I"):
                include_dirs.append(tok[2:])
            else:
                extra_compile.append(tok)
        for tok in libs:
            if tok.startswith("-l"):
                libraries.append(tok[2:])
            elif tok.startswith("-L"):
                library_dirs.append(tok[2:])
            else:
                extra_link.append(tok)
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


include_dirs, library_dirs, libraries, extra_compile, extra_link = library_flags()

sources = sorted(glob.glob(os.path.join("core", "src", "*.c")))
sources += sorted(glob.glob(os.path.join("bindings", "python", "*.c")))

extension = Extension(
    "acmpca._acmpca",
    sources=sources,
    include_dirs=[os.path.join("core", "include"), os.path.join("core", "src")] + include_dirs,
    library_dirs=library_dirs,
    libraries=libraries,
    define_macros=[("ACMPCA_BUILDING", None), ("_POSIX_C_SOURCE", "200809L")],
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"] + extra_compile,
    extra_link_args=extra_link,
    depends=sorted(glob.glob(os.path.join("core", "include", "**", "*.h"), recursive=True)
                   + glob.glob(os.path.join("core", "src", "*.h"))),
)

setup(
    version=read_version(),
    packages=["acmpca"],
    package_dir={"": os.path.join("bindings", "python")},
    package_data={"acmpca": ["py.typed", "*.pyi"]},
    ext_modules=[extension],
    zip_safe=False,
    options={
        # Keep setuptools' objects apart from CMake's build/ tree.
        "build": {"build_base": os.path.join("build", "python")},
        "build_ext": {"parallel": os.cpu_count() or 1},
    },
)
