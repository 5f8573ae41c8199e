#!/usr/bin/env python3
"""Fail on a dependency cycle between the core's object files.

Usage: tools/check_layers.py OBJECT_DIR

Reads the symbols each core/src/*.c object defines and the ones it uses
(`nm`), draws an edge A -> B when A uses a symbol B defines, and exits 1
listing every cycle (strongly connected component of more than one file).
The core is meant to be layers: util/error at the bottom, the codec and the
call machine above them, the drivers on top, with no file calling back up.
"""
import os
import subprocess
import sys


def symbols(path):
    out = subprocess.run(["nm", "--defined-only", "-g", path], check=True,
                         capture_output=True, text=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    out = subprocess.run(["nm", "-u", path], check=True, capture_output=True, text=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return defined, used


def cycles(graph):
    """Tarjan's strongly connected components with more than one member."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    objs = sorted(f for f in os.listdir(argv[1]) if f.endswith(".c.o"))
    if not objs:
        sys.exit("no .c.o files in %s" % argv[1])
    defs, uses = {}, {}
    for f in objs:
        name = f[:-2]
        defs[name], uses[name] = symbols(os.path.join(argv[1], f))
    owner = {sym: name for name, syms in defs.items() for sym in syms}
    graph = {name: {owner[s] for s in uses[name] if s in owner and owner[s] != name}
             for name in defs}
    bad = cycles(graph)
    for comp in bad:
        print("cycle between: " + ", ".join(comp))
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                why = sorted(s for s in uses[a] if owner.get(s) == b)
                print("  %s -> %s (%s%s)" % (a, b, ", ".join(why[:4]),
                                             ", ..." if len(why) > 4 else ""))
    if bad:
        return 1
    print("%d core objects, no dependency cycle" % len(objs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
