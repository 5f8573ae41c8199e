#!/usr/bin/env python3
"""Run a command; fail unless it exits 0 AND its standard output matches.

    expect_output.py REGEX -- CMD ARGS...

REGEX is searched in the whole output (multi-line: ^ and $ match at each
line). For ctest entries that check what a program prints: unlike ctest's
PASS_REGULAR_EXPRESSION, which ignores the exit status, a program that
prints the right thing and then crashes or exits non-zero still fails.
"""
import re
import subprocess
import sys


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        sys.exit(__doc__)
    pattern, cmd = argv[0], argv[2:]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        print("expect_output.py: %s exited with %d" % (cmd[0], r.returncode))
        return 1
    if not re.search(pattern, r.stdout, flags=re.M):
        print("expect_output.py: the output does not match %r" % pattern)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
