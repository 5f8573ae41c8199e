#!/usr/bin/env python3
"""Fail when a file of the CPython binding calls one above it.

Usage: tools/check_python_layers.py [OBJECT_DIR]

Compiles bindings/python/*.c with the settings setup.py builds the extension
with (into OBJECT_DIR, else a temporary directory), reads each object's
defined and used symbols with `nm` (as tools/check_layers.py does for the
core), and checks that every reference goes down LAYERS: a file may call the
ones listed before it, never one after it, so the files cannot form a cycle.
A lower file reaches a higher one only through a callback handed down (a
page machine's acmpy_page_hooks). A file not listed here fails too.
"""
import os
import subprocess
import sys
import sysconfig
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import check_layers  # noqa: E402
import setup  # noqa: E402  (its main() runs only as a script)

# Bottom first; the order bindings/python/acmpca_py.h describes.
LAYERS = ["curl_lazy", "base", "convert", "errors", "machine", "pki", "sign", "pager", "client", "module"]


def compile_objects(into):
    args = setup.extension_args()
    cc = setup.setuptools_cc() or ["cc"]
    flags = ["-I" + os.path.join(ROOT, d) if not os.path.isabs(d) else "-I" + d
             for d in args["include_dirs"] + [sysconfig.get_paths()["include"]]]
    flags += ["-D%s" % k if v is None else "-D%s=%s" % (k, v) for k, v in args["define_macros"]]
    flags += args["extra_compile_args"]
    objects = {}
    for src in args["sources"]:
        if not src.startswith(os.path.join("bindings", "python") + os.sep):
            continue
        name = os.path.splitext(os.path.basename(src))[0]
        out = os.path.join(into, name + ".c.o")
        subprocess.run(cc + flags + ["-c", os.path.join(ROOT, src), "-o", out], check=True)
        objects[name] = out
    return objects


def check(objects):
    defs, uses = {}, {}
    for name, path in objects.items():
        defs[name], uses[name] = check_layers.symbols(path)
    owner = {sym: name for name, syms in defs.items() for sym in syms}
    bad = [name for name in sorted(objects) if name not in LAYERS]
    for name in bad:
        print("%s.c: not in LAYERS (tools/check_python_layers.py): place it" % name)
    for name in sorted(objects):
        if name in bad:
            continue
        for sym in sorted(uses[name]):
            callee = owner.get(sym)
            if callee and callee != name and callee in LAYERS and \
                    LAYERS.index(callee) > LAYERS.index(name):
                print("%s.c calls up into %s.c: %s" % (name, callee, sym))
                bad.append(name)
    if bad:
        return 1
    print("%d binding objects, every call goes down: %s" % (len(objects), " < ".join(LAYERS)))
    return 0


def main(argv):
    if len(argv) > 2:
        sys.exit(__doc__)
    if len(argv) == 2:
        os.makedirs(argv[1], exist_ok=True)
        return check(compile_objects(argv[1]))
    with tempfile.TemporaryDirectory(prefix="acmpca-layers-") as tmp:
        return check(compile_objects(tmp))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
