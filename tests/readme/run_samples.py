#!/usr/bin/env python3
"""Run every ```python, ```lua and ```c sample of README.md against the local endpoint.

    python3 tests/fixtures/with_server.py moto -- python3 tests/readme/run_samples.py BUILD_DIR

Python samples need the module installed (pip install .); Lua samples use
BUILD_DIR/lua54/acmpca.so; C samples are compiled against BUILD_DIR's
libacmpca. Each sample must exit 0 and print something.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def samples(text):
    return re.findall(r"^```(python|lua|c)\n(.*?)^```", text, flags=re.S | re.M)


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
        for i, (lang, code) in enumerate(found, 1):
            r = run(lang, code, os.path.abspath(build), tmp)
            ok = r.returncode == 0 and r.stdout.strip()
            print("%s README sample %d (%s)" % ("ok  " if ok else "FAIL", i, lang))
            if not ok:
                print(r.stdout + r.stderr)
                failed += 1
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed >= 3 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build"))
