#!/usr/bin/env python3
"""GetCertificate through nginx: resty.acmpca next to raw cosocket HTTP (the floor).

    python3 bench/resty_bench.py [BUILD_DIR] [SECONDS] [CONNECTIONS] [ROUNDS]

Two nginx processes on loopback, one worker each: a canned keep-alive
backend that answers every POST with a GetCertificate result, and the front
whose locations `wrk` loads:

  /raw       the floor: one keep-alive cosocket POST to the backend of the
             request resty.acmpca sends, made once (the same headers and body,
             an Authorization of the same length: as bench/floor_request.h for
             the C floor), and its answer read back as a plain HTTP/1.1 client must
             (status line, Content-Length and Connection in any case) and as
             cheaply (one receiveany for head and body, plain finds), no
             signing, no JSON
  /resty     pca:get_certificate{...} through resty.acmpca (validation,
             serialization, SigV4, the call machine, parsing to a table)
  /blocking  the blocking module (libcurl) in the content handler, for
             reference: it holds the worker during each call

and, with no wrk load, the blocking module the way a background job uses it
(init_worker style): one ngx.timer.at callback calling get_certificate in a
loop for SECONDS (started by a request so that it runs between the others;
the worker serves nothing else meanwhile).

Printed: requests (calls) per second and the front worker's CPU per request
(utime + stime from /proc, and the utime part: the system part is mostly
loopback TCP and wake-ups, which grow when the other processes wait more)
for each, and resty.acmpca's share of the floor's requests/s (the issue's
target: >= 80 %): the median over the rounds of each round's own /resty to
/raw ratio (the two run back to back), and the best against the best. Each
configuration runs ROUNDS times (default 5), interleaved, and the best round
is printed: the highest requests/s and the lowest CPU per request, each over
the rounds (the machine may be shared and noisy). With two CPUs or more the front worker
has the last CPU to itself and wrk and the backend share the others
(taskset): left to the scheduler, the three move between the CPUs from one
run to the next, and the same code measured anywhere from 53 % to 91 % of
the floor on a 2-vCPU VM. A benchmark, not a test: it never fails on its
figures, only when an answer was not 2xx or the machine loop failed
(tests/run runs it for a second a location so that it cannot rot). Needs
wrk (apt-get install wrk), Debian's nginx and its Lua module, and
BUILD_DIR/luajit/acmpca.so (default BUILD_DIR: build).

Last, without sockets: the call machine as resty.acmpca drives it, in a
LuaJIT loop (bench/resty_machine.lua), next to the core's same phases alone
(BUILD_DIR/bench/c_phases, when built): what the Lua module adds per call.
"""
import json
import os
import re
import shutil
import socket
import statistics
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
            # nginx turns \n in a quoted string into a newline, which JSON does not allow
            # in a string: \\n sends the escape ACM PCA sends.
            return 200 '{"Certificate":"-----BEGIN CERTIFICATE-----\\nMIIBbench\\n-----END CERTIFICATE-----","CertificateChain":"-----BEGIN CERTIFICATE-----\\nMIIBchain\\n-----END CERTIFICATE-----"}';
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
        -- What resty.acmpca sends (the same headers and body, an Authorization of
        -- the same length), made once: the floor measures HTTP alone.
        local body = ('{"CertificateAuthorityArn":"%s","CertificateArn":"%s"}'):format(
            params.CertificateAuthorityArn, params.CertificateArn)
        raw_request = "POST / HTTP/1.1\r\n" ..
                      "Content-Type: application/x-amz-json-1.1\r\n" ..
                      "X-Amz-Target: ACMPrivateCA.GetCertificate\r\n" ..
                      "Host: 127.0.0.1:@BACKEND_PORT@\r\n" ..
                      "X-Amz-Date: 20260101T000000Z\r\n" ..
                      "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/" ..
                      "us-east-1/acm-pca/aws4_request, SignedHeaders=content-type;host;" ..
                      "x-amz-date;x-amz-target, Signature=" .. ("0"):rep(64) .. "\r\n" ..
                      "Content-Length: " .. #body .. "\r\n" ..
                      "User-Agent: acmpca/" .. require("acmpca").version .. " resty\r\n" ..
                      "\r\n" .. body
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
        location = /timers/start {
            content_by_lua_block {
                -- One background job, as init_worker would start it: blocking calls in a loop.
                local seconds = tonumber(ngx.var.arg_seconds) or 5
                timer_result = nil
                assert(ngx.timer.at(0, function(premature)
                    if premature then return end
                    ngx.update_time()
                    local t0, calls = ngx.now(), 0
                    local deadline = t0 + seconds
                    repeat
                        local res = blocking:get_certificate(params)
                        if not res.Certificate then error("no certificate") end
                        calls = calls + 1
                        ngx.update_time()
                    until ngx.now() >= deadline
                    timer_result = { calls = calls, seconds = ngx.now() - t0 }
                end))
                ngx.print("started")
            }
        }
        location = /timers/result {
            content_by_lua_block {
                if not timer_result then return ngx.exit(404) end
                ngx.print(timer_result.calls, " ", timer_result.seconds)
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
                -- A plain HTTP/1.1 client, as lean as resty.acmpca's reading: the head
                -- and (usually) the body in one read, the status line, Content-Length
                -- and Connection read in any case with plain finds (a Lua class
                -- pattern such as "[Cc]ontent%-[Ll]ength" costs about 1 us a header).
                local find, sub, match, lower = string.find, string.sub, string.match,
                                                string.lower
                local sock = ngx.socket.tcp()
                sock:settimeouts(10000, 60000, 60000)
                assert(sock:connect("127.0.0.1", @BACKEND_PORT@))
                assert(sock:send(raw_request))
                local data = assert(sock:receiveany(65536))
                local e = find(data, "\r\n\r\n", 1, true)
                while not e do
                    data = data .. assert(sock:receiveany(65536))
                    e = find(data, "\r\n\r\n", 1, true)
                end
                local head = lower(sub(data, 1, e + 1))
                local status = tonumber(match(head, "^http/1%.%d (%d%d%d)"))
                local at = assert(find(head, "\r\ncontent-length:", 1, true))
                local length = tonumber(match(head, "^[ \t]*(%d+)", at + 17))
                local body = sub(data, e + 4)
                if #body < length then body = body .. assert(sock:receive(length - #body)) end
                at = find(head, "\r\nconnection:", 1, true)
                if at and find(head, "^[ \t]*close", at + 13) then
                    sock:close()
                else
                    sock:setkeepalive(60000, 30)
                end
                if status ~= 200 then return ngx.exit(502) end
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
    """The process's CPU time so far: (user, system) seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def per_call_us(cpu0, cpu1, calls):
    """(total, user) CPU microseconds per call between two cpu_seconds readings."""
    calls = max(calls, 1)
    user = cpu1[0] - cpu0[0]
    return (user + cpu1[1] - cpu0[1]) / calls * 1e6, user / calls * 1e6


def pinned(cpus, cmd):
    """cmd run on the CPUs `cpus` (a taskset list), or as it is when cpus is None."""
    return ["taskset", "-c", cpus] + cmd if cpus else cmd


def cpu_plan():
    """(the front worker's CPU, the CPUs of wrk and the backend) as taskset lists, or
    (None, None) on one CPU or without taskset."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset"):
        return None, None
    return str(cpus[-1]), ",".join(str(c) for c in cpus[:-1])


def wrk(url, seconds, connections, cpus=None):
    out = subprocess.run(pinned(cpus, ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds,
                                       url]),
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, total, int(non2xx.group(1)) if non2xx else 0


def get(port, path):
    conn = socket.create_connection(("127.0.0.1", port), 120)
    try:
        # HTTP/1.0: the answer comes unchunked and the connection closes after it.
        conn.sendall(("GET %s HTTP/1.0\r\nHost: bench\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        conn.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def timers(pid, port, seconds):
    """The blocking module in a timer loop: (calls/s, CPU us per call, 0, user CPU us)."""
    cpu0 = cpu_seconds(pid)
    status, _ = get(port, "/timers/start?seconds=%d" % seconds)
    if status != 200:
        sys.exit("resty_bench.py: /timers/start answered %d" % status)
    time.sleep(seconds)
    for _ in range(600):
        status, body = get(port, "/timers/result")   # served once the loop let go
        if status == 200:
            break
        time.sleep(0.1)
    else:
        sys.exit("resty_bench.py: the timer loop never finished")
    cpu1 = cpu_seconds(pid)
    calls, elapsed = body.split()
    calls, elapsed = int(calls), float(elapsed)
    total_us, user_us = per_call_us(cpu0, cpu1, calls)
    return calls / elapsed, total_us, 0, user_us


def machine_work(build, cpu):
    """CPU us per call of the machine without sockets, on the worker's CPU `cpu` (None:
    anywhere): (resty.acmpca's loop, the core's c_phases), either None when it could not
    run."""
    def line(cmd, env=None):
        try:
            out = subprocess.run(pinned(cpu, cmd), capture_output=True, text=True, timeout=300,
                                 env=env)
            return json.loads(out.stdout.strip().splitlines()[-1])["cpu_us_per_call"]
        except (OSError, ValueError, IndexError, KeyError, subprocess.TimeoutExpired):
            return None
    lua = line(["luajit", os.path.join(HERE, "resty_machine.lua"), build, "100000", "3"])
    phases = os.path.join(build, "bench", "c_phases")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="s",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", BENCH_CALLS="100000")
    core = line([phases], env) if os.path.exists(phases) else None
    return lua, core


def main(argv):
    build = os.path.abspath(argv[0] if argv else os.path.join(ROOT, "build"))
    seconds = int(argv[1]) if len(argv) > 1 else 5
    connections = int(argv[2]) if len(argv) > 2 else 16
    rounds = int(argv[3]) if len(argv) > 3 else 5
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
    front_cpu, load_cpus = cpu_plan()
    procs = []
    try:
        for name, conf in (("backend", BACKEND), ("front", FRONT)):
            for k, v in subst.items():
                conf = conf.replace("@%s@" % k, v)
            path = os.path.join(tmp, name + ".conf")
            with open(path, "w") as f:
                f.write(conf)
            procs.append(subprocess.Popen(pinned(front_cpu if name == "front" else load_cpus,
                                                 ["/usr/sbin/nginx", "-p", tmp, "-c", path,
                                                  "-e", os.path.join(tmp, name + ".log")])))
        front = procs[1]
        port = int(subst["FRONT_PORT"])
        base = "http://127.0.0.1:%d" % port
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        print("GetCertificate through one nginx worker, wrk -c%d, %d s each, best of %d rounds" %
              (connections, seconds, rounds))
        print("  the worker on CPU %s, wrk and the backend on CPU %s" % (front_cpu, load_cpus)
              if front_cpu else "  not pinned (one CPU, or no taskset)")
        locations = ("raw", "resty", "blocking")
        results = {}
        for _ in range(rounds):
            for loc in locations:
                wrk(base + "/" + loc, 1, connections, load_cpus)   # warm up pools and the JIT
                cpu0 = cpu_seconds(front.pid)
                rps, total, bad = wrk(base + "/" + loc, seconds, connections, load_cpus)
                total_us, user_us = per_call_us(cpu0, cpu_seconds(front.pid), total)
                results.setdefault(loc, []).append((rps, total_us, bad, user_us))
            results.setdefault("timers", []).append(timers(front.pid, port, seconds))
        labels = {"raw": "/raw (floor)", "resty": "/resty", "blocking": "/blocking",
                  "timers": "blocking in ngx.timer.at"}
        print("  %-26s %12s  %s" % ("", "requests/s", "worker CPU us/request (user part)"))
        failed = 0
        for loc in locations + ("timers",):
            rows = results[loc]
            rps = max(r[0] for r in rows)
            us = min(r[1] for r in rows)
            user = min(r[3] for r in rows)
            bad = sum(r[2] for r in rows)
            failed += bad
            print("  %-26s %12.0f  %6.1f (%4.1f)%s" % (labels[loc], rps, us, user,
                                                     "  (%d non-2xx!)" % bad if bad else ""))
        floor = max(r[0] for r in results["raw"])
        floor_cpu = min(r[1] for r in results["raw"])
        # Each round measures /raw and /resty back to back: the median of those paired
        # ratios is steadier than the ratio of two bests, which the machine's slow
        # spells move (the same code read 62 % and 85 % of the floor that way).
        paired = sorted(b[0] / a[0] for a, b in zip(results["raw"], results["resty"]))
        print("resty.acmpca: %.0f %% of the floor's requests/s (target >= 80 %%; the median "
              "of %d rounds' own ratios %s; best against best %.0f %%), %.2fx its CPU "
              "per request" %
              (100.0 * statistics.median(paired), len(paired),
               "/".join("%.0f" % (100 * x) for x in paired),
               100.0 * max(r[0] for r in results["resty"]) / floor,
               min(r[1] for r in results["resty"]) / floor_cpu))
        lua, core = machine_work(build, front_cpu)
        if lua and core:
            print("without sockets, CPU us per call: the machine as resty.acmpca drives it "
                  "%.2f, the core's phases alone (c_phases) %.2f: the Lua module adds %.2f" %
                  (lua, core, lua - core))
        elif lua:
            print("without sockets: the machine as resty.acmpca drives it %.2f CPU us per call "
                  "(no %s/bench/c_phases to compare)" % (lua, build))
        if failed or not lua:
            sys.exit("resty_bench.py: %s" % ("%d answers were not 2xx" % failed if failed
                                             else "bench/resty_machine.lua failed"))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
