#!/usr/bin/env python3
"""Refresh core/model/ from the newest botocore on PyPI and show what changed.

Usage: tools/update_model.py [--write] [--botocore-version X.Y.Z]

Downloads the botocore wheel with pip (no install), reads its
botocore/data/acm-pca/<api-version>/ files (plain or .gz), and prints the
differences from core/model/: operations added or removed, shapes added or
removed, members added or removed per shape, enum values added or removed,
waiters and paginators changed. With --write the new files replace the
vendored ones and tools/gen_model.py regenerates the C tables; review the
diff, run the tests and commit both together.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(ROOT, "core", "model")
FILES = ["service-2.json", "waiters-2.json", "paginators-1.json", "endpoint-rule-set-1.json"]


def fetch_wheel(version, into):
    spec = "botocore==%s" % version if version else "botocore"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary", ":all:", "-d", into, spec], check=True)
    wheels = [f for f in os.listdir(into) if f.startswith("botocore-") and f.endswith(".whl")]
    if not wheels:
        sys.exit("update_model: pip downloaded no botocore wheel")
    return os.path.join(into, wheels[0])


def read_from_wheel(wheel):
    """{file name: parsed JSON} of the newest acm-pca API version in the wheel."""
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.startswith("botocore/data/acm-pca/")]
        versions = sorted({n.split("/")[3] for n in names if n.count("/") >= 4})
        if not versions:
            sys.exit("update_model: the wheel has no botocore/data/acm-pca/")
        base = "botocore/data/acm-pca/%s/" % versions[-1]
        found = {}
        for f in FILES:
            for candidate in (base + f, base + f + ".gz"):
                if candidate in names:
                    raw = z.read(candidate)
                    if candidate.endswith(".gz"):
                        raw = gzip.decompress(raw)
                    found[f] = (raw, json.loads(raw))
        missing = [f for f in FILES if f not in found]
        if missing:
            sys.exit("update_model: %s lacks %s" % (base, ", ".join(missing)))
        return versions[-1], found


def diff_sets(label, old, new):
    lines = []
    for name in sorted(set(new) - set(old)):
        lines.append("  + %s %s" % (label, name))
    for name in sorted(set(old) - set(new)):
        lines.append("  - %s %s" % (label, name))
    return lines


def describe(old, new):
    """Lines saying what differs between two service-2.json documents."""
    out = diff_sets("operation", old["operations"], new["operations"])
    out += diff_sets("shape", old["shapes"], new["shapes"])
    for name in sorted(set(old["shapes"]) & set(new["shapes"])):
        a, b = old["shapes"][name], new["shapes"][name]
        if a.get("type") != b.get("type"):
            out.append("  ~ shape %s: type %s -> %s" % (name, a.get("type"), b.get("type")))
        out += ["  %s.%s" % (name, line.strip()) for line in
                diff_sets("member", a.get("members", {}), b.get("members", {}))]
        out += ["  %s: %s" % (name, line.strip()) for line in
                diff_sets("enum value", a.get("enum", []), b.get("enum", []))]
        if a.get("required") != b.get("required"):
            out.append("  ~ shape %s: required %s -> %s" % (name, a.get("required"),
                                                             b.get("required")))
    for op in sorted(set(old["operations"]) & set(new["operations"])):
        ea = {e["shape"] for e in old["operations"][op].get("errors", [])}
        eb = {e["shape"] for e in new["operations"][op].get("errors", [])}
        out += ["  %s: %s" % (op, line.strip()) for line in diff_sets("error", ea, eb)]
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace core/model/ and regenerate")
    ap.add_argument("--botocore-version", help="a given botocore instead of the newest")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        version, files = read_from_wheel(fetch_wheel(args.botocore_version, tmp))
    changed = []
    for f in FILES:
        with open(os.path.join(MODEL_DIR, f), "rb") as fh:
            current = json.loads(fh.read())
        if current != files[f][1]:
            changed.append(f)
    print("botocore's acm-pca model, API version %s" % version)
    if not changed:
        print("core/model/ is up to date")
        return 0
    with open(os.path.join(MODEL_DIR, "service-2.json"), "rb") as fh:
        lines = describe(json.load(fh), files["service-2.json"][1])
    print("changed: %s" % ", ".join(changed))
    print("\n".join(lines) if lines else "  (documentation or metadata only)")
    if args.write:
        for f in changed:
            with open(os.path.join(MODEL_DIR, f), "wb") as fh:
                fh.write(files[f][0])
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_model.py")], check=True)
        print("wrote core/model/ and regenerated the C tables: review, test, commit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
