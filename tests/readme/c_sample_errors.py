#!/usr/bin/env python3
"""The README's C quickstart sample says what went wrong whatever the failure:
run against a closed loopback port (no HTTP answer, so no AWS error name), it
must exit 1 and print the error's class and text, not ": ..." with an empty name.

    python3 tests/readme/c_sample_errors.py BUILD_DIR
"""
import os
import re
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def quickstart_c():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        m = re.search(r"^### C\n+```c\n(.*?)^```", f.read(), flags=re.S | re.M)
    if not m:
        sys.exit("README.md has no ```c sample under ### C")
    return m.group(1)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(build):
    build = os.path.abspath(build)
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "sample.c"), os.path.join(tmp, "sample")
        with open(src, "w", encoding="utf-8") as f:
            f.write(quickstart_c())
        subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-o", exe, src,
                        "-I" + os.path.join(ROOT, "core", "include"), "-I/usr/include/cjson",
                        "-L" + build, "-Wl,-rpath," + build, "-lacmpca", "-lcjson"], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ENDPOINT_URL": "http://127.0.0.1:%d" % closed_port(),
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        })
        r = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
    print("exit %d, stderr: %s" % (r.returncode, r.stderr.strip()))
    if r.returncode != 1 or not re.match(r"EndpointConnectionError: \S", r.stderr):
        print("expected exit 1 and 'EndpointConnectionError: <the error's text>'")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")))
