#!/usr/bin/env bash
# The README's main command, `bash examples/demo.sh`, on Debian's own Python:
# PATH holds only the system directories (no pyenv, no venv), so `python3` is
# /usr/bin/python3, which refuses `pip install` (PEP 668, EXTERNALLY-MANAGED).
# demo.sh must make a venv from it (here ACMPCA_VENV, a scratch one; pip's
# cache keeps the downloads), install the module there and run the
# walkthrough on moto to its summary, leaving the system Python untouched.
# Exits 77 (a skip for CTest) when PyPI cannot be reached.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "pep668: $*" >&2; exit 1; }

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset VIRTUAL_ENV PYENV_VERSION PYTHONPATH PYTHONHOME
[ "$(command -v python3)" = /usr/bin/python3 ] ||
    fail "python3 on the system PATH is $(command -v python3), not /usr/bin/python3"
marker=$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED
[ -f "$marker" ] || fail "no $marker: this python3 is not externally managed, the test proves nothing"
# Without python3-pip there is no pip to refuse; with it, pip must refuse.
if python3 -m pip --version >/dev/null 2>&1; then
    if python3 -m pip install --dry-run --no-deps --no-index pip >"$tmp/pip.log" 2>&1 ||
            ! grep -q externally-managed-environment "$tmp/pip.log"; then
        cat "$tmp/pip.log" >&2
        fail "/usr/bin/python3 -m pip install did not refuse with externally-managed-environment"
    fi
fi
python3 -c 'import acmpca' 2>/dev/null && fail "acmpca is already importable from /usr/bin/python3"

index=${PIP_INDEX_URL:-https://pypi.org/simple}
if ! python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' \
        "${index%/}/pip/" 2>/dev/null; then
    echo "pep668: PyPI cannot be reached: this test needs PyPI (tests/run installs from it)" >&2
    exit 1
fi
export ACMPCA_VENV=$tmp/venv
(cd "$tmp" && bash "$root/examples/demo.sh" --out "$tmp/out") >"$tmp/demo.log" 2>&1 ||
    { cat "$tmp/demo.log" >&2; fail "bash examples/demo.sh failed"; }
grep -q "python3 -m venv $tmp/venv (/usr/bin/python3)" "$tmp/demo.log" ||
    { cat "$tmp/demo.log" >&2; fail "demo.sh did not make its venv from /usr/bin/python3"; }
grep -q '^Summary' "$tmp/demo.log" || { cat "$tmp/demo.log" >&2; fail "no walkthrough summary"; }
[ "$("$tmp/venv/bin/python" -c 'import sys; print(sys.base_prefix)')" = /usr ] ||
    fail "the venv is not based on /usr/bin/python3"
(cd "$tmp" && "$tmp/venv/bin/python" -c 'import acmpca; print(acmpca.__file__)') |
    grep -q "^$tmp/venv/" || fail "acmpca is not installed in the venv"
python3 -c 'import acmpca' 2>/dev/null && fail "demo.sh installed acmpca into /usr/bin/python3"
echo "demo.sh on /usr/bin/python3: venv made, module installed there, walkthrough done"
