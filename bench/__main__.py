"""Runs every bench/bench_*.py module's run() and collects the figures.

Each module returns a flat dict of name -> number; this prints `name: value`
lines and writes them all to build/bench.json. `python -m bench NAME...` runs
only the named modules (e.g. `store`).
"""
import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def discover(selected):
    names = sorted(f[6:-3] for f in os.listdir(HERE) if f.startswith("bench_") and f.endswith(".py"))
    if selected:
        unknown = [s for s in selected if s not in names]
        if unknown:
            raise SystemExit("unknown bench module(s): %s (have: %s)" % (", ".join(unknown), ", ".join(names)))
        names = [n for n in names if n in selected]
    return names


def main(argv):
    out_path = os.path.join(ROOT, "build", "bench.json")
    figures = {}
    if os.path.exists(out_path) and argv:
        with open(out_path) as f:
            figures = json.load(f)
    for name in discover(argv):
        module = importlib.import_module("bench.bench_" + name)
        for key, value in module.run().items():
            figures[key] = value
            print("%s: %s" % (key, value), flush=True)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(figures, f, indent=1, sort_keys=True)
    print("wrote %s" % os.path.relpath(out_path, ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
