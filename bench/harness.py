"""The side-by-side benchmark (issue 16), driven by bench/run, which builds what it needs
and runs this file with the benchmark's own virtualenv (boto3, aiobotocore, matplotlib).

Every face (acmpca C, Python, Lua 5.4, LuaJIT, asyncio, CLI, boto3, aiobotocore, the peer
SDKs of bench/peers, the libcurl and raw-socket floors) is a program that makes
GetCertificate calls on one keep-alive client against bench/canned_server and prints one
JSON line (bench/face.h). Each round starts every face once, in an order rotated by one
each round; the process, the server and this runner share one CPU (bench/run pins them
with taskset). Then the extras: SigV4 alone, threads on one client, heap allocations and
user-space instructions (callgrind) per call, quota-paced issuance, and where the C
client's CPU per call goes. Results: bench/report.py (printed table, .md, .json, .png).

Nothing here decides whether a test passes on timing; --smoke only checks that every
face printed a well-formed line and that the report files were written.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import report  # noqa: E402

NUMBERS = ("cpu_us_per_call", "wall_us_per_call")
COLD = ("t_process_start_ms", "t_import_client_ms", "t_first_call_ms")
C_NAME, FLOOR_NAME = "acmpca C", "floor: libcurl"


def face_env(args, endpoint, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BENCH_"))}
    env.update({
        "BENCH_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "bench/secret/key/not/a/real/one/000000",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/acmpca-bench/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/acmpca-bench/credentials",
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
        "BENCH_CALLS": str(args.calls), "BENCH_WARMUP": str(args.warmup)})
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


class Face:
    """One program of the benchmark: a name, a command and its extra environment."""

    def __init__(self, key, cmd, env=None, kind="client", calls_scale=1.0, note=None):
        self.key, self.cmd, self.env, self.kind = key, cmd, env or {}, kind
        self.calls_scale, self.note = calls_scale, note


def build_faces(args):
    """The faces this machine can run, and notes on the ones it cannot."""
    b, faces, notes = args.build, [], []
    py = sys.executable

    def exe(path):
        return os.path.isfile(path) and os.access(path, os.X_OK)

    def add_c(key, rel, env=None, kind="client"):
        path = os.path.join(b, rel)
        if exe(path):
            faces.append(Face(key, [path], env, kind))
        else:
            notes.append("%s: skipped, %s not built" % (key, path))

    add_c("acmpca C", "bench/c_get_certificate")
    pyenv = {"PYTHONPATH": args.python_path}
    faces.append(Face("acmpca Python", [py, os.path.join(HERE, "face_python.py")],
                      dict(pyenv, BENCH_MODE="acmpca")))
    for flavour, interp, name in (("lua54", "lua5.4", "acmpca Lua 5.4"),
                                  ("luajit", "luajit", "acmpca LuaJIT")):
        so = os.path.join(b, flavour, "acmpca.so")
        clock = os.path.join(b, "bench", flavour, "bench_clock.so")
        if shutil.which(interp) and os.path.isfile(so) and os.path.isfile(clock):
            cpath = "%s/bench/%s/?.so;%s/%s/?.so" % (b, flavour, b, flavour)
            faces.append(Face(name, [shutil.which(interp), os.path.join(HERE, "face_lua.lua")],
                              {"LUA_CPATH": cpath}))
        else:
            notes.append("%s: skipped, needs %s, %s and %s" % (name, interp, so, clock))
    faces.append(Face("acmpca.aio (asyncio)", [py, os.path.join(HERE, "face_python.py")],
                      dict(pyenv, BENCH_MODE="aio")))
    if os.path.isfile("/usr/sbin/nginx") and \
            os.path.isfile("/usr/lib/nginx/modules/ngx_http_lua_module.so") and \
            os.path.isfile(os.path.join(b, "luajit", "acmpca.so")):
        faces.append(Face("acmpca OpenResty (resty.acmpca)",
                          [py, os.path.join(HERE, "face_resty.py"), b]))
    else:
        notes.append("acmpca OpenResty: skipped, needs Debian's nginx, its Lua module and "
                     "%s/luajit/acmpca.so" % b)
    cli = os.path.join(b, "cli", "acmpca")
    if exe(cli):
        faces.append(Face("acmpca CLI (a process per call)",
                          [py, os.path.join(HERE, "face_cli.py")], {"ACMPCA_CLI": cli},
                          calls_scale=0.01))
    else:
        notes.append("acmpca CLI: skipped, %s not built" % cli)
    faces.append(Face("boto3", [py, os.path.join(HERE, "face_python.py")],
                      {"BENCH_MODE": "boto3"}, kind="peer"))
    faces.append(Face("aiobotocore (asyncio)", [py, os.path.join(HERE, "face_python.py")],
                      {"BENCH_MODE": "aiobotocore"}, kind="peer"))
    if not args.no_peers:
        peers, skipped = read_peers(args.peers_dir)
        faces += peers
        notes += skipped
    add_c(FLOOR_NAME, "bench/floor_libcurl", kind="floor")
    add_c("floor: raw socket", "bench/floor_socket", kind="floor")
    if args.smoke:
        keep = ("acmpca C", "acmpca Python", "boto3")
        faces = [f for f in faces if f.key in keep]
    if args.only:
        faces = [f for f in faces if any(s.lower() in f.key.lower() for s in args.only)]
    return faces, notes


def read_peers(out_dir):
    """The faces bench/peers/build.sh built (its peers.txt) and notes on those it skipped."""
    faces, notes = [], []
    if not out_dir or not os.path.isfile(os.path.join(out_dir, "peers.txt")):
        return [], ["Go, Rust, Node peers: skipped, bench/peers/build.sh did not run "
                    "(or is not there)"]
    for fname, is_face in (("peers.txt", True), ("skipped.txt", False)):
        path = os.path.join(out_dir, fname)
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                name, _, rest = line.rstrip("\n").partition("\t")
                if not name or not rest:
                    continue
                if is_face:
                    faces.append(Face(name, rest.split(" "), kind="peer"))
                else:
                    notes.append("%s: skipped, %s" % (name, rest))
    return faces, notes


def start_server(build):
    server = subprocess.Popen([os.path.join(build, "bench", "canned_server")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = server.stdout.readline().strip()
    if not port.isdigit():
        server.kill()
        sys.exit("bench: the canned server did not start")
    return server, "http://127.0.0.1:%s" % port


def check_line(line):
    """The face's JSON line as a dict, or raise ValueError saying what is wrong."""
    try:
        d = json.loads(line)
    except ValueError:
        raise ValueError("not one JSON line: %r" % line[:200])
    if not isinstance(d, dict):
        raise ValueError("not a JSON object: %r" % line[:200])
    for k in ("calls",) + NUMBERS:
        if not isinstance(d.get(k), (int, float)) or d[k] <= 0:
            raise ValueError("%s: expected a positive number, got %r" % (k, d.get(k)))
    for k in ("vmhwm_kb",) + COLD:
        if k not in d or not (d[k] is None or isinstance(d[k], (int, float))):
            raise ValueError("%s: expected a number or null, got %r" % (k, d.get(k)))
    return d


def run_face(face, args, endpoint, calls=None, extra_env=None, timeout=600):
    """Start the face once; its checked line, or {"error": ...}."""
    calls = calls or max(1, int(args.calls * face.calls_scale))
    env = face_env(args, endpoint, dict(face.env, **(extra_env or {})))
    env["BENCH_CALLS"] = str(calls)
    if face.calls_scale < 1:
        env["BENCH_WARMUP"] = str(max(1, int(args.warmup * face.calls_scale)))
    env["BENCH_T0"] = str(time.time_ns())
    try:
        proc = subprocess.run(face.cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, cwd=args.build)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": str(e)}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or len(lines) != 1:
        return {"error": "exit %d, %d stdout lines; stderr: %s"
                % (proc.returncode, len(lines),
                   " | ".join(proc.stderr.strip().splitlines()[-3:])[-400:])}
    try:
        return check_line(lines[0])
    except ValueError as e:
        return {"error": str(e)}


def summarise(runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    s = {"rounds": len(ok), "version": ok[0].get("version", "")}
    cpu = [r["cpu_us_per_call"] for r in ok]
    s["cpu_min"], s["cpu_median"] = min(cpu), statistics.median(cpu)
    s["wall_median"] = statistics.median(r["wall_us_per_call"] for r in ok)
    for k in ("vmhwm_kb",) + COLD:
        vals = [r[k] for r in ok if r.get(k) is not None]
        s[k] = statistics.median(vals) if vals else None
    return s


def main_table(faces, args, endpoint, results):
    for r in range(args.rounds):
        order = faces[r % len(faces):] + faces[:r % len(faces)]
        print("== round %d/%d" % (r + 1, args.rounds), flush=True)
        for face in order:
            line = run_face(face, args, endpoint)
            results.setdefault(face.key, {"kind": face.kind, "runs": []})["runs"].append(line)
            if "error" in line:
                print("   %-44s FAILED: %s" % (face.key, line["error"]), flush=True)
            else:
                print("   %-44s %9.1f us CPU/call" % (face.key, line["cpu_us_per_call"]),
                      flush=True)
    for key, res in results.items():
        res["summary"] = summarise(res["runs"])


def extra_sign(args, faces_by_key, repeats):
    sign_bin = os.path.join(args.build, "bench", "sign_bench")
    py = [sys.executable, os.path.join(HERE, "face_python.py")]
    sfaces = []
    if os.path.isfile(sign_bin):
        sfaces += [Face("C, key cached", [sign_bin], {"BENCH_MODE": "cached"}),
                   Face("C, key derived each call", [sign_bin], {"BENCH_MODE": "uncached"})]
    sfaces += [Face("Python acmpca.sign_request", py,
                    {"BENCH_MODE": "sign-acmpca", "PYTHONPATH": args.python_path}),
               Face("botocore SigV4Auth.add_auth", py, {"BENCH_MODE": "sign-botocore"})]
    out = []
    for f in sfaces:
        runs = [run_face(f, args, "", calls=max(args.calls, 1000)) for _ in range(repeats)]
        out.append(dict(name=f.key, **(summarise(runs) or {"error": runs[0].get("error")})))
    return out


def extra_phases(args, results, repeats):
    """The C client's CPU per call split (bench/c_phases.c), and what is left of it for the
    transport."""
    exe = os.path.join(args.build, "bench", "c_phases")
    if not os.path.isfile(exe):
        return {"error": "no %s" % exe}
    runs = [run_face(Face("acmpca C phases", [exe]), args, "", calls=max(args.calls, 1000))
            for _ in range(repeats)]
    ok = [r for r in runs if "error" not in r and isinstance(r.get("phases"), dict)]
    if not ok:
        return {"error": runs[0].get("error", "no phases in the line")}
    best = min(ok, key=lambda r: r["cpu_us_per_call"])
    out = {"phases": best["phases"], "machine_us": best["cpu_us_per_call"]}
    face = {k: (results.get(k) or {}).get("summary") or {} for k in (C_NAME, FLOOR_NAME)}
    if face[C_NAME].get("cpu_median"):
        out["client_us"] = face[C_NAME]["cpu_median"]
        out["transport_us"] = out["client_us"] - out["machine_us"]
    if face[FLOOR_NAME].get("cpu_median"):
        out["floor_us"] = face[FLOOR_NAME]["cpu_median"]
    return out


def extra_threads(args, endpoint, faces_by_key, repeats):
    out = []
    for key in ("acmpca C", "acmpca Python"):
        face = faces_by_key.get(key)
        if not face:
            continue
        for n in (1, 2, 4):
            runs = [run_face(face, args, endpoint, extra_env={"BENCH_THREADS": str(n)})
                    for _ in range(repeats)]
            ok = [r for r in runs if "error" not in r]
            if not ok:
                out.append({"name": key, "threads": n, "error": runs[0]["error"]})
                continue
            out.append({"name": key, "threads": n,
                        "calls_per_s": statistics.median(r["calls_per_s"] for r in ok),
                        "cpu_us_per_call": statistics.median(r["cpu_us_per_call"] for r in ok)})
    return out


COUNTED = (C_NAME, "acmpca Python", "acmpca Lua 5.4", "acmpca LuaJIT", FLOOR_NAME,
           "floor: raw socket")


def counted_per_call(faces_by_key, n, count, per_call):
    """A row for each face of COUNTED: count(face, calls, path) runs it for n calls, then
    for 2n (path: a scratch file for the counter), and gives a list of counts or None;
    per_call(first, second) makes the row's figures from the two."""
    out = []
    for key in COUNTED:
        face = faces_by_key.get(key)
        if not face:
            continue
        counts = []
        for calls in (n, 2 * n):
            fd, path = tempfile.mkstemp(prefix="bench-count-")
            os.close(fd)
            try:
                counts.append(count(face, calls, path))
            finally:
                os.unlink(path)
            if counts[-1] is None:
                break
        if counts[-1] is None:
            out.append({"name": key, "error": "the counted run failed"})
        else:
            out.append(dict(per_call(*counts), name=key))
    return out


def extra_allocations(args, endpoint, faces_by_key):
    shim = os.path.join(args.build, "bench", "libmalloc_count.so")
    if not os.path.isfile(shim):
        return [{"name": "-", "error": "no %s" % shim}]
    n = max(200, min(args.calls, 1000))

    def count(face, calls, path):
        line = run_face(face, args, endpoint, calls=calls,
                        extra_env={"LD_PRELOAD": shim, "MALLOC_COUNT_OUT": path})
        with open(path) as f:
            rows = [ln.split() for ln in f if ln.strip()]
        # The face's own process is the one that wrote last (it exits last).
        return None if "error" in line or not rows else [int(x) for x in rows[-1][1:]]

    def per_call(first, second):
        (a1, f1, b1), (a2, f2, b2) = first, second
        return {"allocations_per_call": (a2 - a1) / n, "frees_per_call": (f2 - f1) / n,
                "bytes_per_call": (b2 - b1) / n}
    return counted_per_call(faces_by_key, n, count, per_call)


def extra_instructions(args, endpoint, faces_by_key):
    """User-space instructions per call under valgrind's callgrind: repeatable to half a
    percent where CPU time on a shared machine is not (the kernel's part, the same loopback
    work for every face, is not counted). Runs of N and 2N calls differenced."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        return [{"name": "-", "error": "valgrind not found (apt-get install valgrind)"}]
    n = 500

    def count(face, calls, path):
        counted = Face(face.key, [valgrind, "-q", "--tool=callgrind",
                                  "--callgrind-out-file=" + path] + face.cmd, face.env)
        # A fixed hash seed: Python's dicts probe alike in every run.
        if "error" in run_face(counted, args, endpoint, calls=calls,
                               extra_env={"PYTHONHASHSEED": "0"}):
            return None
        with open(path) as f:  # the total is its "summary: N" line
            return next((int(ln.split()[1]) for ln in f if ln.startswith("summary:")), None)

    return counted_per_call(faces_by_key, n, count,
                            lambda first, second: {"instructions_per_call": (second - first) / n})


def extra_quota(args, calls_per_thread):
    binary = os.path.join(args.build, "bench", "rate_limit")
    if not os.path.isfile(binary):
        return {"error": "no %s" % binary}
    env = face_env(args, "")
    env.pop("BENCH_ENDPOINT")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "fixtures",
                                                        "with_server.py"), "fixture", "--",
                           binary, str(calls_per_thread)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600)
    rows = []
    for line in proc.stdout.splitlines():
        m = re.match(r"(off|on \(25/s\))\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line)
        if m:
            rows.append({"limiter": m.group(1), "issued_per_s": float(m.group(2)),
                         "issued": int(m.group(3)), "failed": int(m.group(4)),
                         "attempts": int(m.group(5)), "throttled_retries": int(m.group(6))})
    if proc.returncode != 0 or len(rows) != 2:
        return {"error": "rate_limit exited %d: %s" % (proc.returncode, proc.stderr[-300:])}
    return {"threads": 4, "quota_per_s": 25, "calls_per_thread": calls_per_thread,
            "rows": rows}


def versions(args):
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    v = {"python": platform.python_version(),
         "gcc": first_line(["gcc", "--version"]),
         "libcurl": first_line(["curl-config", "--version"]),
         "openssl": first_line(["openssl", "version"]),
         "lua5.4": first_line(["lua5.4", "-v"]), "luajit": first_line(["luajit", "-v"]),
         "go": first_line(["go", "version"]), "rustc": first_line(["rustc", "--version"]),
         "node": first_line(["node", "--version"])}
    return {k: x for k, x in v.items() if x}


def machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"kernel": platform.release(), "cpu_model": model, "cpus": os.cpu_count(),
            "pinned_to_cpus": sorted(os.sched_getaffinity(0)),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main():
    ap = argparse.ArgumentParser(description="acmpca side-by-side benchmark (see bench/run)")
    ap.add_argument("--build", required=True)
    ap.add_argument("--python-path", required=True, help="where the acmpca module is")
    ap.add_argument("--out", help="output prefix (default bench/results/<date>)")
    ap.add_argument("--calls", type=int, help="timed calls per face and round (5000)")
    ap.add_argument("--warmup", type=int, help="untimed calls before them (200)")
    ap.add_argument("--rounds", type=int, help="rounds, the order rotated each (7)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--peers-dir", help="where bench/peers/build.sh wrote peers.txt")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-extras", action="store_true")
    ap.add_argument("--only", action="append", help="faces whose name holds this (repeatable)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.python_path = os.path.abspath(args.python_path)
    # Mode defaults; explicit --calls, --warmup, --rounds win.
    defaults = (300, 20, 1) if args.smoke else (1000, 100, 3) if args.quick else (5000, 200, 7)
    for name, value in zip(("calls", "warmup", "rounds"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.smoke:
        args.no_peers = args.no_extras = True
    stamp = datetime.datetime.now(datetime.timezone.utc)
    out = args.out or (os.path.join(args.build, "bench-smoke", "smoke") if args.smoke else
                       os.path.join(HERE, "results", stamp.strftime("%Y-%m-%d")))

    faces, notes = build_faces(args)
    data = {"date": stamp.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "versions": versions(args),
            "settings": {"calls": args.calls, "warmup": args.warmup, "rounds": args.rounds,
                         "mode": "smoke" if args.smoke else "quick" if args.quick else "full"},
            "notes": notes, "faces": {}}
    print("acmpca benchmark: %d faces, %d rounds of %d calls after %d warm-up, CPUs %s"
          % (len(faces), args.rounds, args.calls, args.warmup,
             data["machine"]["pinned_to_cpus"]), flush=True)
    for n in notes:
        print("   note: " + n)
    server, endpoint = start_server(args.build)
    t0 = time.time()
    try:
        main_table(faces, args, endpoint, data["faces"])
        if not args.no_extras:
            by_key = {f.key: f for f in faces}
            repeats = 1 if args.quick else 3
            print("== extras: phases, SigV4 alone, threads, allocations, instructions, quota",
                  flush=True)
            data["phases"] = extra_phases(args, data["faces"], repeats)
            data["sign"] = extra_sign(args, by_key, repeats)
            data["threads"] = extra_threads(args, endpoint, by_key, repeats)
            data["allocations"] = extra_allocations(args, endpoint, by_key)
            data["instructions"] = extra_instructions(args, endpoint, by_key)
            data["quota"] = extra_quota(args, 10 if args.quick else 40)
        elif args.smoke:
            data["phases"] = extra_phases(args, data["faces"], 1)
    finally:
        server.stdin.close()
        server.wait(10)
    data["elapsed_s"] = round(time.time() - t0, 1)

    paths = report.write(data, out)
    print()
    print(report.text(data))
    print("written: " + ", ".join(paths))
    failed = [k for k, v in data["faces"].items() if any("error" in r for r in v["runs"])]
    if failed:
        print("bench: %d face(s) failed: %s" % (len(failed), ", ".join(failed)))
    if args.smoke:
        missing = [p for p in paths if not os.path.isfile(p) or os.path.getsize(p) == 0]
        if "error" in data["phases"] or \
                not all(isinstance(v, float) for v in data["phases"]["phases"].values()):
            failed.append("acmpca C phases (%s)" % data["phases"].get("error", "not numbers"))
        if failed or missing or not data["faces"]:
            print("bench --smoke: FAILED (%s)" % ", ".join(failed + missing or ["no faces"]))
            return 1
        print("bench --smoke: %d faces, each a well-formed line; report files written"
              % len(data["faces"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
