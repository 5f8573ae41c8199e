"""The OpenResty face of the benchmark: resty.acmpca (cosockets) in one nginx process
(master_process off, so the one process is the worker), GetCertificate in a loop inside
one request's content handler, one JSON line of bench/face.h printed.

    BENCH_ENDPOINT=http://127.0.0.1:PORT python3 face_resty.py BUILD_DIR

CPU (ffi getrusage) and wall time are taken inside the worker around the loop; peak RSS
is the worker's VmHWM. Cold start: process start is nginx's exec until it listens (the
module, resty.acmpca and the client are made in init_worker_by_lua, so they count there
too); import + client is not separable here (null). Needs Debian's nginx with its Lua
module and BUILD_DIR/luajit/acmpca.so.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONF = r"""
daemon off; master_process off; worker_processes 1;
pid @PREFIX@/nginx.pid; error_log @PREFIX@/error.log warn;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
env AWS_EC2_METADATA_DISABLED; env AWS_ACCESS_KEY_ID; env AWS_SECRET_ACCESS_KEY;
env AWS_REGION; env AWS_CONFIG_FILE; env AWS_SHARED_CREDENTIALS_FILE;
env BENCH_ENDPOINT; env BENCH_CALLS; env BENCH_WARMUP; env BENCH_CA_ARN; env BENCH_CERT_ARN;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path @PREFIX@/tmp;
    lua_package_cpath "@CPATH@;;";
    lua_package_path "@LPATH@;;";
    init_worker_by_lua_block {
        pca = assert(require("resty.acmpca").new{ endpoint_url = os.getenv("BENCH_ENDPOINT") })
    }
    server {
        listen 127.0.0.1:@PORT@;
        location = /bench {
            content_by_lua_block {
                local ffi = require "ffi"
                pcall(ffi.cdef, [[
                    struct bench_timeval { long tv_sec; long tv_usec; };
                    struct bench_rusage { struct bench_timeval ru_utime, ru_stime; long rest[14]; };
                    int getrusage(int who, struct bench_rusage *usage);
                ]])
                local ru = ffi.new("struct bench_rusage")
                local function cpu()
                    ffi.C.getrusage(0, ru)
                    return tonumber(ru.ru_utime.tv_sec) + tonumber(ru.ru_utime.tv_usec) / 1e6 +
                           tonumber(ru.ru_stime.tv_sec) + tonumber(ru.ru_stime.tv_usec) / 1e6
                end
                local ca = os.getenv("BENCH_CA_ARN") or
                    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
                local params = { CertificateAuthorityArn = ca, CertificateArn =
                    os.getenv("BENCH_CERT_ARN") or ca .. "/certificate/0123456789abcdef" }
                local calls = tonumber(os.getenv("BENCH_CALLS") or "1000")
                local warmup = tonumber(os.getenv("BENCH_WARMUP") or "100")
                local function call()
                    local res, err = pca:get_certificate(params)
                    if not res then error(tostring(err)) end
                end
                ngx.update_time()
                local t = ngx.now()
                call()
                ngx.update_time()
                local first = ngx.now() - t
                for _ = 2, warmup do call() end
                ngx.update_time()
                local cpu0, wall0 = cpu(), ngx.now()
                for _ = 1, calls do call() end
                local used = cpu() - cpu0
                ngx.update_time()
                local wall = ngx.now() - wall0
                local hwm = io.open("/proc/self/status"):read("*a"):match("VmHWM:%s*(%d+)")
                ngx.say(('{"name":"acmpca OpenResty (resty.acmpca)","version":"%s",' ..
                         '"calls":%d,"cpu_us_per_call":%.3f,"wall_us_per_call":%.3f,' ..
                         '"vmhwm_kb":%s,"t_process_start_ms":null,' ..
                         '"t_import_client_ms":null,"t_first_call_ms":%.3f}'):format(
                    require("acmpca").version, calls, used * 1e6 / calls, wall * 1e6 / calls,
                    hwm, first * 1e3))
            }
        }
    }
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv):
    build = os.path.abspath(argv[0] if argv else os.path.join(ROOT, "build"))
    nginx = "/usr/sbin/nginx"
    if not os.path.exists(nginx) or not os.path.exists(os.path.join(build, "luajit",
                                                                    "acmpca.so")):
        sys.exit("face_resty.py: needs %s and %s/luajit/acmpca.so" % (nginx, build))
    tmp = tempfile.mkdtemp(prefix="acmpca-bench-resty-")
    port = free_port()
    proc = None
    try:
        os.makedirs(os.path.join(tmp, "tmp"))
        conf = CONF
        subst = {"PREFIX": tmp, "PORT": str(port), "CPATH": os.path.join(build, "luajit", "?.so"),
                 "LPATH": os.path.join(ROOT, "bindings", "lua", "?.lua") +
                 ";/usr/share/lua/5.1/?.lua"}
        for k, v in subst.items():
            conf = conf.replace("@%s@" % k, v)
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        t0 = time.time()
        proc = subprocess.Popen([nginx, "-p", tmp, "-c", path, "-e",
                                 os.path.join(tmp, "error.log")])
        for _ in range(2000):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.001)
        else:
            sys.exit("face_resty.py: nginx did not listen")
        start_ms = (time.time() - t0) * 1e3
        with urllib.request.urlopen("http://127.0.0.1:%d/bench" % port, timeout=600) as r:
            line = json.loads(r.read().decode())
        line["t_process_start_ms"] = start_ms
        print(json.dumps(line), flush=True)
    except urllib.error.HTTPError as e:
        with open(os.path.join(tmp, "error.log")) as f:
            errors = [ln.strip() for ln in f if "[error]" in ln] or ["(none logged)"]
        sys.exit("face_resty.py: HTTP %d: %s" % (e.code, errors[0][:400]))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
