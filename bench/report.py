"""The benchmark's report (bench/harness.py's results): the side-by-side table as text and
Markdown, the raw results as JSON, and a PNG chart (matplotlib, from the benchmark's own
virtualenv). report.write(data, prefix) writes PREFIX.md, PREFIX.json and PREFIX.png.

    python3 bench/report.py RESULTS.json [PREFIX]     re-render a saved run
"""
import json
import os
import re
import sys

C_NAME, FLOOR_NAME = "acmpca C", "floor: libcurl"


def _f(x, fmt="%.1f"):
    return "-" if x is None else fmt % x


def _ratio(x, base):
    return "-" if x is None or not base else "%.2f×" % (x / base)


def main_rows(data):
    faces = data["faces"]
    base_c = (faces.get(C_NAME, {}).get("summary") or {}).get("cpu_median")
    base_f = (faces.get(FLOOR_NAME, {}).get("summary") or {}).get("cpu_median")
    rows = []
    for name, res in faces.items():
        s = res.get("summary")
        if not s:
            rows.append([name, "-", "failed (see the notes)"] + ["-"] * 8)
            continue
        if s["rounds"] < len(res["runs"]):
            name = "%s (%d of %d rounds ran)" % (name, s["rounds"], len(res["runs"]))
        rows.append([name, s["version"], _f(s["cpu_min"]), _f(s["cpu_median"]),
                     _f(s["wall_median"]),
                     _f(s["vmhwm_kb"] / 1024 if s["vmhwm_kb"] else None),
                     _f(s["t_process_start_ms"]), _f(s["t_import_client_ms"]),
                     _f(s["t_first_call_ms"]), _ratio(s["cpu_median"], base_c),
                     _ratio(s["cpu_median"], base_f)])
    return rows


MAIN_HEAD = ["face", "version", "CPU µs/call min", "CPU µs/call median", "wall µs/call",
             "peak RSS MB", "process start ms", "import + client ms", "first call ms",
             "CPU × acmpca C", "CPU × libcurl floor"]


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def text_table(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def sections(data, table):
    """(title, table text) for every part of the run, formatted by `table`."""
    st = data["settings"]
    out = [("GetCertificate on one keep-alive client against bench/canned_server: %d calls "
            "after %d warm-up, %d round(s), order rotated; medians over rounds "
            "(CPU: min and median)" % (st["calls"], st["warmup"], st["rounds"]),
            table(MAIN_HEAD, main_rows(data)))]
    ph = data.get("phases")
    if ph:
        if "error" in ph:
            out.append(("Where acmpca C's CPU per call goes", "failed: " + ph["error"]))
        else:
            names = {"make": "call machine made: input checked, serialized; URL, headers",
                     "sign": "signed: credentials, SigV4",
                     "answer": "answer taken: status, headers, body read into the result",
                     "result": "result and meta handed over, freed"}
            rows = [[names.get(k, k), _f(v, "%.2f")] for k, v in ph["phases"].items()]
            if ph.get("transport_us") is not None:
                rows.append(["transport: the request out, the answer in, the connection "
                             "(the rest of the call)", _f(ph["transport_us"], "%.2f")])
                rows.append(["acmpca C, the whole call (median above)", _f(ph["client_us"], "%.2f")])
            if ph.get("floor_us") is not None:
                rows.append(["for comparison: bare libcurl loop, unsigned (median above)",
                             _f(ph["floor_us"], "%.2f")])
            out.append(("Where acmpca C's CPU per call goes (bench/c_phases.c: the call "
                        "machine given the canned answer, no I/O, natively; phase by phase)",
                        table(["part", "CPU µs/call"], rows)))
    if data.get("sign"):
        rows = [[s["name"], s.get("version", "-"), _f(s.get("cpu_min"), "%.2f"),
                 _f(s.get("cpu_median"), "%.2f")] if "error" not in s
                else [s["name"], "-", "failed", s["error"][:60]] for s in data["sign"]]
        out.append(("SigV4 signing alone (a GetCertificate request, no I/O)",
                    table(["signer", "version", "CPU µs/sign min", "CPU µs/sign median"],
                          rows)))
    if data.get("threads"):
        rows = [[t["name"], t["threads"], _f(t.get("calls_per_s"), "%.0f"),
                 _f(t.get("cpu_us_per_call"))] if "error" not in t
                else [t["name"], t["threads"], "failed", t["error"][:60]]
                for t in data["threads"]]
        cpus = data["machine"]["pinned_to_cpus"]
        out.append(("Threads sharing one client (all on CPU %s, as the server)"
                    % ",".join(map(str, cpus)),
                    table(["client", "threads", "calls/s", "CPU µs/call"], rows)))
    if data.get("allocations"):
        rows = [[a["name"], _f(a.get("allocations_per_call")), _f(a.get("frees_per_call")),
                 _f(a.get("bytes_per_call"), "%.0f")] if "error" not in a
                else [a["name"], "failed", a["error"][:60], "-"] for a in data["allocations"]]
        out.append(("Heap allocations per call (LD_PRELOAD bench/malloc_count.c, libc malloc "
                    "family; runs of N and 2N calls differenced)",
                    table(["client", "allocations", "frees", "bytes requested"], rows)))
    if data.get("instructions"):
        base = next((i["instructions_per_call"] for i in data["instructions"]
                     if i["name"] == C_NAME and "error" not in i), None)
        rows = [[i["name"], _f(i["instructions_per_call"] / 1000.0),
                 _ratio(i["instructions_per_call"], base)] if "error" not in i
                else [i["name"], "failed", i["error"][:60]] for i in data["instructions"]]
        out.append(("Instructions per call in user space (valgrind --tool=callgrind; runs of "
                    "N and 2N calls differenced): repeatable to half a percent, where CPU "
                    "time on a shared machine is not. The kernel's loopback work, the same "
                    "for every face, is not counted; under valgrind OpenSSL cannot use the "
                    "SHA extensions, so signing counts more than it costs natively",
                    table(["client", "thousand instructions/call", "× acmpca C"], rows)))
    q = data.get("quota")
    if q:
        if "error" in q:
            out.append(("Quota-paced issuance", "failed: " + q["error"]))
        else:
            rows = [[r["limiter"], _f(r["issued_per_s"]), r["issued"], r["failed"],
                     r["throttled_retries"]] for r in q["rows"]]
            out.append(("IssueCertificate, %d threads x %d calls against a %d/s quota "
                        "(tests/fixtures/fixture_server.py, bench/rate_limit.c)"
                        % (q["threads"], q["calls_per_thread"], q["quota_per_s"]),
                        table(["limiter", "issued/s", "issued", "failed", "throttled retries"],
                              rows)))
    return out


def targets(data):
    """Issue 16's targets, as ratios of this run (printed, never asserted)."""
    s = {n: r.get("summary") for n, r in data["faces"].items()}
    out = []

    def cpu(name):
        return (s.get(name) or {}).get("cpu_median")
    if cpu(C_NAME) and cpu(FLOOR_NAME):
        out.append("acmpca C CPU per call / bare libcurl floor: %.2f× (target ≤ 1.15×)"
                   % (cpu(C_NAME) / cpu(FLOOR_NAME)))
    if cpu("acmpca Python") and cpu(C_NAME):
        out.append("acmpca Python CPU per call / acmpca C: %.2f× (target ≤ 1.15×)"
                   % (cpu("acmpca Python") / cpu(C_NAME)))
    counted = {i["name"]: i["instructions_per_call"] for i in data.get("instructions") or ()
               if "error" not in i}
    if counted.get("acmpca Python") and counted.get(C_NAME):
        out.append("acmpca Python / acmpca C in user-space instructions per call: %.2f× "
                   "(repeatable; CPU per call adds the same kernel work to both)"
                   % (counted["acmpca Python"] / counted[C_NAME]))
    py = s.get("acmpca Python") or {}
    if py.get("t_import_client_ms") is not None:
        out.append("acmpca Python import + client creation: %.1f ms over the interpreter's "
                   "start (target ≤ 5 ms)" % py["t_import_client_ms"])
    return out


def failures(data):
    """One line per face with failed rounds: how many, and the first error."""
    out = []
    for name, res in data["faces"].items():
        errs = [r["error"] for r in res["runs"] if "error" in r]
        if errs:
            first = " ".join(errs[0].replace("|", "/").split())[:300]
            out.append("%s: %d of %d round(s) failed; first error: %s"
                       % (name, len(errs), len(res["runs"]), first))
    return out


def header_lines(data):
    m = data["machine"]
    v = data["versions"]
    return ["Run %s (%s mode, %.0f s) on %s, %d CPUs, kernel %s; load average %s at the start"
            % (data["date"], data["settings"]["mode"], data.get("elapsed_s", 0), m["cpu_model"],
               m["cpus"], m["kernel"], " ".join(map(str, m["load_average"]))),
            "Versions: " + ", ".join("%s %s" % (k, _version(x)) for k, x in v.items())]


def _version(banner):
    """'gcc (Debian 12.2.0-14) 12.2.0' -> '12.2.0'; 'go version go1.26.8 linux/amd64' ->
    '1.26.8': the last version-looking word of the banner's head."""
    words = re.findall(r"\d+\.\d+(?:\.\d+)?(?:[-.+][0-9A-Za-z.]+)?", banner.split(" -- ")[0]
                       .split("Copyright")[0].split("(Library")[0])
    return words[-1] if words else banner


def text(data):
    out = header_lines(data)
    for title, body in sections(data, text_table):
        out += ["", title, body]
    out += [""] + targets(data)
    notes = data["notes"] + failures(data)
    if notes:
        out += [""] + ["note: " + n for n in notes]
    return "\n".join(out)


def markdown(data, png_name):
    out = ["# acmpca benchmark, %s" % data["date"], ""]
    out += [line + "  " for line in header_lines(data)]
    out += ["", "![CPU per call and cold start](%s)" % png_name]
    for title, body in sections(data, md_table):
        out += ["", "### " + title, "", body]
    out += [""] + ["- " + t for t in targets(data)]
    notes = data["notes"] + failures(data)
    if notes:
        out += [""] + ["- " + n for n in notes]
    return "\n".join(out) + "\n"


def chart(data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(n, r["summary"]) for n, r in data["faces"].items() if r.get("summary")]
    items.sort(key=lambda x: x[1]["cpu_median"])
    names = [n for n, _ in items]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 0.45 * len(items) + 2.2))
    colours = ["#1f77b4" if n.startswith("acmpca") else "#7f7f7f" if n.startswith("floor")
               else "#d62728" for n in names]
    med = [s["cpu_median"] for _, s in items]
    ax1.barh(names, med, color=colours)
    ax1.scatter([s["cpu_min"] for _, s in items], names, color="black", marker="|", s=120,
                zorder=3, label="min")
    ax1.set_xscale("log")
    ax1.set_xlabel("client CPU µs per GetCertificate (median, log scale)")
    for y, x in enumerate(med):
        ax1.text(x, y, " %.0f" % x, va="center", fontsize=8)
    ax1.legend(loc="lower right", fontsize=8)
    parts = (("t_process_start_ms", "process start"), ("t_import_client_ms", "import + client"),
             ("t_first_call_ms", "first call"))
    left = [0.0] * len(items)
    for key, label in parts:
        vals = [s.get(key) or 0.0 for _, s in items]
        ax2.barh(names, vals, left=left, label=label)
        left = [a + b for a, b in zip(left, vals)]
    ax2.set_xlabel("cold start, ms (median)")
    ax2.set_yticklabels([])
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle("acmpca vs peer SDKs, one keep-alive client, canned loopback server - %s, "
                 "%s, %d CPUs (shared, busy)" % (data["date"], data["machine"]["cpu_model"],
                                                 data["machine"]["cpus"]), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(data, prefix):
    """PREFIX.json, PREFIX.md and PREFIX.png; their paths."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    paths = [prefix + ".json", prefix + ".md", prefix + ".png"]
    with open(paths[0], "w") as f:
        json.dump(data, f, indent=1, sort_keys=False)
        f.write("\n")
    with open(paths[1], "w") as f:
        f.write(markdown(data, os.path.basename(paths[2])))
    chart(data, paths[2])
    return paths


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        saved = json.load(f)
    prefix = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1][:-len(".json")]
    print("written: " + ", ".join(write(saved, prefix)))
    print(text(saved))
