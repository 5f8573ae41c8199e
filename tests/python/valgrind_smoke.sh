#!/usr/bin/env bash
# Runs the smoke subset of the Python tests (pytest -m smoke) under valgrind's
# memcheck against the installed acmpca package (pip install . first), with
# PYTHONMALLOC=malloc so that every Python allocation is visible to valgrind.
#
# moto runs outside the process under test (tests/fixtures/with_server.py);
# the fixture and scripted servers run inside it (they are small).
#
# Fails when valgrind reports, with a frame in our extension (_acmpca*.so: the
# core and the binding) anywhere in the stack, an error (invalid read/write,
# use of uninitialised memory, bad free, ...) or a definitely lost block. The
# reports whose stacks stay inside CPython and the libraries it loads (its
# own uninitialised-memory warnings, its deliberate leaks at exit) are
# CPython's, not ours: they are counted and shown as a summary only.
#
#   bash tests/python/valgrind_smoke.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v valgrind >/dev/null || { echo "valgrind_smoke: valgrind is not installed" >&2; exit 2; }
(cd / && python3 -c 'import acmpca') || { echo "valgrind_smoke: pip install . first" >&2; exit 2; }

# The interpreter itself: `python3` may be a launcher script (pyenv's shim is
# bash), and valgrind would then check the launcher instead of Python.
python=$(python3 -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
xml="$work/memcheck.xml"

set +e
# shellcheck disable=SC2016  # expanded by the inner shell, where with_server.py set it
python3 tests/fixtures/with_server.py moto -- bash -c '
    export ACMPCA_TEST_MOTO_ENDPOINT=$ACMPCA_TEST_ENDPOINT PYTHONMALLOC=malloc
    xml=$1 python=$2; shift 2
    exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --num-callers=50 --xml=yes --xml-file="$xml" \
        "$python" -m pytest tests/python -m smoke -q -p no:cacheprovider "$@"' _ "$xml" "$python" "$@"
status=$?
set -e
if [ $status -ne 0 ]; then
    echo "valgrind_smoke: the smoke tests failed under valgrind (exit $status)" >&2
    exit $status
fi

python3 - "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

OURS = "_acmpca"
root = ET.parse(sys.argv[1]).getroot()
ours, theirs = [], 0
for err in root.iter("error"):
    kind = err.findtext("kind")
    frames = err.findall("./stack/frame")
    if not any(OURS in (f.findtext("obj") or "") for f in frames):
        theirs += 1
        continue
    what = err.findtext("./xwhat/text") or err.findtext("what") or kind
    lines = ["%s: %s" % (kind, what)]
    for f in frames[:25]:
        loc = f.findtext("fn") or "?"
        if f.findtext("file"):
            loc += " (%s:%s)" % (f.findtext("file"), f.findtext("line"))
        lines.append("    " + loc + ("" if OURS not in (f.findtext("obj") or "") else "  <- ours"))
    ours.append("\n".join(lines))
print("valgrind_smoke: %d report(s) in our code, %d in CPython and its libraries (ignored)"
      % (len(ours), theirs))
for text in ours:
    print(text)
sys.exit(1 if ours else 0)
EOF
