#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds and installs
# the Python module into the venv tests/install-deps makes (.venv, or
# $ACMPCA_VENV: Debian's python3 refuses pip installs, PEP 668), starts a local
# ACM PCA endpoint (moto on 127.0.0.1) and runs the private-CA walkthrough
# against it (examples/walkthrough.py) with that venv's Python.
#
#   bash examples/demo.sh                  local endpoint, files in ./acmpca-walkthrough
#   bash examples/demo.sh --out DIR        elsewhere
#   bash examples/demo.sh --aws [--yes]    real AWS with your credentials (billable:
#                                          it asks for --yes before creating anything)
set -euo pipefail
cd "$(dirname "$0")/.."

aws=0
args=()
for a in "$@"; do
  if [ "$a" = "--aws" ]; then aws=1; else args+=("$a"); fi
done

bash tests/install-deps >&2
python=${ACMPCA_VENV:-$PWD/.venv}/bin/python
echo "demo: building and installing the acmpca Python module (into ${python%/bin/python})" >&2
"$python" -m pip install -q --disable-pip-version-check . >&2

if [ "$aws" = 1 ]; then
  exec "$python" examples/walkthrough.py "${args[@]}"
fi
echo "demo: starting the local ACM PCA endpoint (moto) on 127.0.0.1" >&2
exec "$python" tests/fixtures/with_server.py moto -- "$python" examples/walkthrough.py "${args[@]}"
