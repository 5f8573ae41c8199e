#!/usr/bin/env python3
"""Run every ```python, ```lua and ```c sample of README.md against the local endpoint.

    python3 tests/fixtures/with_server.py moto -- python3 tests/readme/run_samples.py BUILD_DIR

Python samples need the module installed (pip install .); Lua samples use
BUILD_DIR/lua54/acmpca.so; C samples are compiled against BUILD_DIR's
libacmpca. The samples share one server and run in README order.

Each sample must exit 0 and print what the README says it prints: the
closing fence is followed by an HTML comment (invisible on GitHub) with one
regular expression per line, each matching a line of the output, in order:

    ```
    <!-- expect
    ^[1-9][0-9]* CAs$
    -->

A sample without one fails, so a new sample states its output too.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def samples(text):
    """(language, code, expected regexes or None) for each sample."""
    found = re.findall(r"^```(python|lua|c)\n(.*?)^```\n(?:<!-- expect\n(.*?)^-->$)?", text,
                       flags=re.S | re.M)
    return [(lang, code, expect.splitlines() if expect else None)
            for lang, code, expect in found]


def unmatched(expected, output):
    """The first expected regex that no later line of `output` matches, or None."""
    lines = output.splitlines()
    at = 0
    for pattern in expected:
        while at < len(lines) and not re.search(pattern, lines[at]):
            at += 1
        if at == len(lines):
            return pattern
        at += 1
    return None


def run(lang, code, build, tmp):
    if lang == "python":
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
    if lang == "lua":
        env = dict(os.environ, LUA_CPATH=os.path.join(build, "lua54", "?.so") + ";;")
        return subprocess.run(["lua5.4", "-e", code], capture_output=True, text=True,
                              env=env, timeout=120)
    src, exe = os.path.join(tmp, "sample.c"), os.path.join(tmp, "sample")
    with open(src, "w") as f:
        f.write(code)
    built = subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-o", exe, src,
                            "-I" + os.path.join(ROOT, "core", "include"), "-I/usr/include/cjson",
                            "-L" + build, "-Wl,-rpath," + build, "-lacmpca", "-lcjson"],
                           capture_output=True, text=True)
    if built.returncode != 0:
        return built
    return subprocess.run([exe], capture_output=True, text=True, timeout=120)


def main(build):
    with open(os.path.join(ROOT, "README.md")) as f:
        found = samples(f.read())
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (lang, code, expected) in enumerate(found, 1):
            r = run(lang, code, os.path.abspath(build), tmp)
            why = None
            if not expected:
                why = "no <!-- expect --> block after the sample"
            elif r.returncode != 0:
                why = "exit status %d" % r.returncode
            elif unmatched(expected, r.stdout) is not None:
                why = "no line (in order) matches %r" % unmatched(expected, r.stdout)
            print("%s README sample %d (%s)%s" % ("FAIL" if why else "ok  ", i, lang,
                                                   ": " + why if why else ""))
            if why:
                print(r.stdout + r.stderr)
                failed += 1
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed >= 3 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build"))
