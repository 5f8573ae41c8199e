#!/usr/bin/env python3
"""GetCertificate through nginx: resty.acmpca next to raw cosocket HTTP (the floor).

    python3 bench/resty_bench.py [BUILD_DIR] [SECONDS] [CONNECTIONS]

Two nginx processes on loopback, one worker each: a canned keep-alive
backend that answers every POST with a GetCertificate result, and the front
whose locations `wrk` loads:

  /raw       the floor: one keep-alive cosocket POST of a fixed body to the
             backend and its answer read back, no signing, no JSON
  /resty     pca:get_certificate{...} through resty.acmpca (validation,
             serialization, SigV4, the call machine, parsing to a table)
  /blocking  the blocking module (libcurl) in the content handler, for
             reference: it holds the worker during each call

Printed: requests/s and the front worker's CPU per request (utime + stime
from /proc) for each, and resty.acmpca's share of the floor's requests/s
(the issue's target: >= 80 %). A benchmark, not a test: it never fails on
its figures. Needs wrk (apt-get install wrk), Debian's nginx and its Lua
module, and BUILD_DIR/luajit/acmpca.so (default BUILD_DIR: build).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench-ca"

BACKEND = r"""
daemon off; master_process off; worker_processes 1;
pid @PREFIX@/backend.pid; error_log @PREFIX@/backend.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path @PREFIX@/tmp;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:@BACKEND_PORT@;
        location / {
            default_type application/x-amz-json-1.1;
            add_header x-amzn-RequestId bench-request-id;
            return 200 '{"Certificate":"-----BEGIN CERTIFICATE-----\nMIIBbench\n-----END CERTIFICATE-----","CertificateChain":"-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----"}';
        }
    }
}
"""

FRONT = r"""
daemon off; master_process off; worker_processes 1;
pid @PREFIX@/front.pid; error_log @PREFIX@/front.log warn;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
env AWS_EC2_METADATA_DISABLED=true;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path @PREFIX@/tmp;
    keepalive_requests 1000000;
    lua_package_cpath "@CPATH@;;";
    lua_package_path "@LPATH@;;";
    lua_socket_log_errors off;
    init_worker_by_lua_block {
        local config = { region = "us-east-1", endpoint_url = "http://127.0.0.1:@BACKEND_PORT@",
                         credentials = { access_key_id = "AKIDBENCH", secret_access_key = "s" } }
        pca = assert(require("resty.acmpca").new(config))
        blocking = require("acmpca").new(config)
        params = { CertificateAuthorityArn = "@CA@", CertificateArn = "@CA@/certificate/1" }
        raw_request = "POST / HTTP/1.1\r\nHost: 127.0.0.1:@BACKEND_PORT@\r\n" ..
                      "Content-Type: application/x-amz-json-1.1\r\n" ..
                      "X-Amz-Target: ACMPrivateCA.GetCertificate\r\n" ..
                      "Content-Length: 2\r\n\r\n{}"
    }
    server {
        listen 127.0.0.1:@FRONT_PORT@;
        location = /resty {
            content_by_lua_block {
                local res, err = pca:get_certificate(params)
                if not res then ngx.log(ngx.ERR, tostring(err)) return ngx.exit(502) end
                ngx.print(res.Certificate)
            }
        }
        location = /blocking {
            content_by_lua_block {
                local res = blocking:get_certificate(params)
                ngx.print(res.Certificate)
            }
        }
        location = /raw {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                sock:settimeouts(10000, 60000, 60000)
                assert(sock:connect("127.0.0.1", @BACKEND_PORT@))
                assert(sock:send(raw_request))
                local head = assert(sock:receiveuntil("\r\n\r\n")(102400))
                local n = tonumber(head:match("[Cc]ontent%-[Ll]ength:%s*(%d+)"))
                local body = assert(sock:receive(n))
                sock:setkeepalive(60000, 30)
                ngx.print(body)
            }
        }
    }
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, seconds, connections):
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, total, int(non2xx.group(1)) if non2xx else 0


def main(argv):
    build = os.path.abspath(argv[0] if argv else os.path.join(ROOT, "build"))
    seconds = int(argv[1]) if len(argv) > 1 else 5
    connections = int(argv[2]) if len(argv) > 2 else 16
    if not shutil.which("wrk"):
        sys.exit("resty_bench.py: wrk not found (apt-get install wrk)")
    if not os.path.exists(os.path.join(build, "luajit", "acmpca.so")):
        sys.exit("resty_bench.py: no %s/luajit/acmpca.so" % build)
    tmp = tempfile.mkdtemp(prefix="acmpca-resty-bench-")
    os.makedirs(os.path.join(tmp, "tmp"))
    subst = {"PREFIX": tmp, "BACKEND_PORT": str(free_port()), "FRONT_PORT": str(free_port()),
             "CA": CA, "CPATH": os.path.join(build, "luajit", "?.so"),
             "LPATH": os.path.join(ROOT, "bindings", "lua", "?.lua") +
             ";/usr/share/lua/5.1/?.lua"}
    procs = []
    try:
        for name, conf in (("backend", BACKEND), ("front", FRONT)):
            for k, v in subst.items():
                conf = conf.replace("@%s@" % k, v)
            path = os.path.join(tmp, name + ".conf")
            with open(path, "w") as f:
                f.write(conf)
            procs.append(subprocess.Popen(["/usr/sbin/nginx", "-p", tmp, "-c", path,
                                           "-e", os.path.join(tmp, name + ".log")]))
        front = procs[1]
        base = "http://127.0.0.1:%s" % subst["FRONT_PORT"]
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", int(subst["FRONT_PORT"])), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        print("GetCertificate through one nginx worker, wrk -c%d, %d s each" %
              (connections, seconds))
        results = {}
        for loc in ("raw", "resty", "blocking", "raw", "resty"):
            wrk(base + "/" + loc, 1, connections)           # warm up pools and the JIT
            cpu0 = cpu_seconds(front.pid)
            rps, total, bad = wrk(base + "/" + loc, seconds, connections)
            cpu = cpu_seconds(front.pid) - cpu0
            results.setdefault(loc, []).append((rps, cpu / max(total, 1) * 1e6, bad))
        for loc in ("raw", "resty", "blocking"):
            rps, us, bad = max(results[loc])
            print("  %-9s %9.0f req/s  %6.1f us worker CPU/request%s" %
                  ("/" + loc, rps, us, "  (%d non-2xx!)" % bad if bad else ""))
        floor = max(results["raw"])[0]
        print("resty.acmpca: %.0f %% of the floor's requests/s (target >= 80 %%)" %
              (100.0 * max(results["resty"])[0] / floor))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
