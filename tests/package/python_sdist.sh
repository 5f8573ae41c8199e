#!/usr/bin/env bash
# The Python package as a user gets it, in a fresh venv of PYTHON (default
# python3) whose build tools come from PyPI:
# 1. `python -m build --sdist` of a copy of the checkout; the sdist holds every
#    source, header and data file the build reads, and LICENSE;
# 2. a wheel built from the unpacked sdist alone (`python -m build --wheel`,
#    isolated), installed into the venv: version, metadata, and
#    tests/python/test_validation.py run against that install;
# 3. `pip install` of an sdist when a header is missing (CC=... -nostdinc)
#    fails with the pre-flight's one line, before any compiler message;
# 4. `pip install` from a read-only copy of the checkout (as root, whose writes
#    ignore a-w, the copy is also mounted read-only in a user namespace).
# Exits 77 (a skip for CTest) when PyPI cannot be reached.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
fail() { echo "python_sdist: $*" >&2; exit 1; }
version=$(sed -n 's/^#define ACMPCA_VERSION "\(.*\)"$/\1/p' "$root/core/include/acmpca/common.h")

# A copy of the checkout: what git tracks (and still exists) plus new files it
# does not ignore, so that no build tree or stray object rides along.
copy_checkout() {
    mkdir -p "$1"
    (cd "$root" && git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        xargs -0 cp --parents -t "$1")
}

"$python" -m venv "$tmp/venv"
venv_python="$tmp/venv/bin/python"
if ! "$venv_python" -m pip install -q build pytest "setuptools>=77" >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    echo "python_sdist: cannot install build tools from PyPI: this test needs PyPI (tests/run installs from it)" >&2
    exit 1
fi

# 1. The sdist.
copy_checkout "$tmp/src"
"$venv_python" -m build --sdist --outdir "$tmp/dist" "$tmp/src" >"$tmp/sdist.log" 2>&1 ||
    { cat "$tmp/sdist.log" >&2; fail "python -m build --sdist failed"; }
sdist=$tmp/dist/acmpca-$version.tar.gz
[ -f "$sdist" ] || fail "no $sdist (version $version from common.h)"
mkdir "$tmp/unpacked"
tar -xzf "$sdist" -C "$tmp/unpacked"
unpacked=$tmp/unpacked/acmpca-$version
(cd "$root" && ls LICENSE README.md pyproject.toml setup.py core/include/acmpca.h \
    core/include/acmpca/*.h core/src/*.[ch] core/model/* bindings/python/*.[ch] \
    bindings/python/acmpca/*) |
    while read -r f; do [ -f "$unpacked/$f" ] || fail "the sdist lacks $f"; done

# 2. A wheel from the unpacked sdist, installed; the tests against it.
"$venv_python" -m build --wheel --outdir "$tmp/wheels" "$unpacked" >"$tmp/wheel.log" 2>&1 ||
    { cat "$tmp/wheel.log" >&2; fail "python -m build --wheel from the sdist failed"; }
"$venv_python" -m pip install -q "$tmp"/wheels/acmpca-"$version"-*.whl
(cd "$tmp" && "$venv_python" - "$version" "$tmp/venv" <<'EOF')
import sys
from importlib import metadata

import acmpca

version, venv = sys.argv[1:]
assert acmpca.__file__.startswith(venv), "imported %s, not the venv's" % acmpca.__file__
assert acmpca.__version__ == version, (acmpca.__version__, version)
meta = metadata.metadata("acmpca")
assert meta["Version"] == version, meta["Version"]
assert meta["License-Expression"] == "Apache-2.0", meta["License-Expression"]
assert meta["Requires-Python"] == ">=3.9", meta["Requires-Python"]
assert any(f.name == "LICENSE" for f in metadata.files("acmpca")), "no LICENSE in the wheel"
print("wheel from the sdist: acmpca", acmpca.__version__, "from", acmpca.__file__)
EOF
(cd "$tmp" &&
    "$venv_python" -m pytest -q -p no:cacheprovider "$root/tests/python/test_validation.py")

# 3. A missing header stops the build with one line naming it and the packages.
if CC="cc -nostdinc" "$venv_python" -m pip install --no-build-isolation --no-deps \
        "$sdist" >"$tmp/preflight.log" 2>&1; then
    fail "pip install succeeded with a compiler that finds no header"
fi
grep -q "acmpca needs the C header cjson/cJSON.h, which was not found.*libcjson-dev.*cjson-devel" \
        "$tmp/preflight.log" ||
    { cat "$tmp/preflight.log" >&2; fail "no pre-flight message naming cjson/cJSON.h"; }
if grep -q -e "fatal error" -e "No such file" "$tmp/preflight.log"; then
    cat "$tmp/preflight.log" >&2
    fail "the compiler ran before the pre-flight"
fi
echo "missing header: $(grep -o 'acmpca needs.*' "$tmp/preflight.log" | cut -c1-80)..."

# 4. pip install from a read-only checkout.
copy_checkout "$tmp/ro"
chmod -R a-w "$tmp/ro"
install_ro=("$venv_python" -m pip install -q --force-reinstall --no-deps "$tmp/ro")
if [ "$(id -u)" = 0 ]; then
    # shellcheck disable=SC2016  # expanded by the inner shell
    unshare --map-root-user --mount sh -c \
        'mount --bind -o ro "$1" "$1" && ! touch "$1/probe" 2>/dev/null && shift && exec "$@"' \
        _ "$tmp/ro" "${install_ro[@]}" ||
        fail "pip install from a read-only checkout (mounted read-only by unshare) failed"
else
    "${install_ro[@]}" || fail "pip install from a read-only checkout failed"
fi
(cd "$tmp" &&
    "$venv_python" -c 'import acmpca; print("read-only checkout: acmpca", acmpca.__version__)')
