#!/usr/bin/env python3
"""Fail when a ctest entry of BUILD_DIR can pass without exiting 0.

    check_ctest_properties.py BUILD_DIR

PASS_REGULAR_EXPRESSION and SKIP_REGULAR_EXPRESSION make ctest judge by the
output alone (a test that prints "ok" and then crashes passes); WILL_FAIL
inverts the exit status; SKIP_RETURN_CODE lets a suite report itself skipped. Checks what ctest itself registered, so entries
from every CMake file count. A test that must check its output runs under
tests/c/expect_output.py instead.
"""
import json
import subprocess
import sys

FORBIDDEN = {"PASS_REGULAR_EXPRESSION", "SKIP_REGULAR_EXPRESSION", "SKIP_RETURN_CODE", "WILL_FAIL"}


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=argv[0], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    tests = json.loads(out).get("tests", [])
    bad = []
    for t in tests:
        for p in t.get("properties", []):
            if p["name"] in FORBIDDEN and p.get("value") not in (None, False, "", []):
                bad.append("%s: %s" % (t["name"], p["name"]))
    for line in bad:
        print(line)
    print("%d ctest entries, %d judged otherwise than by their exit status" % (len(tests), len(bad)))
    return 1 if bad or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
