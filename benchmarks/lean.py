"""Benchmark: the kernels compiled ahead of time called without Numba, against through Numba's dispatchers
(issue 21).

    python benchmarks/lean.py [--rounds 6] [--runs 12] [--firms 0] [--steps 0] [--preset baseline]

Needs the build of ``clusterup compile`` for this machine (the one a process finds without Numba: its quick
key, clusterup.aot.quick_key). Two parts, each in fresh processes:

- One call of each of the kernels a step calls most often, with the arguments of a call seen in a run:
  microseconds a call without Numba (the build's type tests, clusterup.aot.kernel_source, then the compiled
  function) and through Numba's dispatcher (a process that imported Numba first; the same compiled
  function attached to it).
- ``--runs`` simulations of ``PRESET`` (seeds 1, 2, ...; ``--firms``/``--steps`` 0: the preset's) in one
  process, whole process timed from outside, ``--rounds`` times each way in turns (which goes first
  alternating): a process that never imports Numba itself (it starts Numba after ``compiled.LEAN_CALLS``
  kernel calls), and one that imports it first. Also says whether the first process started Numba.

Prints Markdown tables for docs/performance.md. The numbers of the runs are the same either way
(tests/test_aot.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from _checks import at_least, fail, preset

PROG = "lean"
KERNELS = ("_lookup_rows", "_add_max", "_end_sums", "_mode_column_rows")  # each called from Python at any size

CALLS = """
import json, sys, timeit
import numpy as np
if sys.argv[1] == "numba":
    import numba
import clusterup.compiled as C
from clusterup import Simulation
names = json.loads(sys.argv[2])
Simulation("baseline", seed=1, steps=5).run()  # first: a kernel Numba compiles must not meet the spies below
seen = {}
def kept(x):  # a copy as the call saw it (a run may later make an array read-only: another signature)
    if not isinstance(x, np.ndarray):
        return x
    c = x.copy(order="K")
    c.flags.writeable = x.flags.writeable
    return c
for name in names:
    kernel = getattr(C, name)
    def spy(*a, _k=kernel, _n=name):
        if _n not in seen:
            seen[_n] = (_k, tuple(map(kept, a)))
        return _k(*a)
    setattr(C, name, spy)
Simulation("baseline", seed=1, steps=5).run()
out = {}
for name, (kernel, args) in seen.items():
    setattr(C, name, kernel)
    n = 20000
    best = min(timeit.repeat(lambda: kernel(*args), number=n, repeat=5)) / n
    out[name] = [len(args), 1e6 * best]
print(json.dumps(out))
"""

RUNS = """
import sys
if sys.argv[1] == "numba":
    import numba
from clusterup import Simulation
preset, runs, firms, steps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) or None, int(sys.argv[5]) or None
for seed in range(1, runs + 1):
    Simulation(preset, seed=seed, firms=firms, steps=steps).run()
print("numba" in sys.modules)
"""


def _child(code: str, *args: object) -> str:
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        fail(PROG, f"a child process failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--firms", type=int, default=0, help="initial firms (0: the preset's)")
    ap.add_argument("--steps", type=int, default=0, help="steps (0: the preset's)")
    ap.add_argument("--preset", default="baseline")
    args = ap.parse_args(argv)
    at_least(PROG, "--rounds", args.rounds, 1)
    at_least(PROG, "--runs", args.runs, 1)
    at_least(PROG, "--firms", args.firms, 0)
    at_least(PROG, "--steps", args.steps, 0)
    preset(PROG, args.preset)
    if _child("from clusterup import aot, compiled; print(aot.lean_signatures())") == "0":
        fail(PROG, "no kernels compiled ahead of time that a process can call without Numba: run `clusterup compile` first")

    lean = json.loads(_child(CALLS, "lean", json.dumps(KERNELS)))
    numba = json.loads(_child(CALLS, "numba", json.dumps(KERNELS)))
    print("| kernel | arguments | without Numba (us a call) | Numba's dispatcher (us a call) | difference (us) |")
    print("|---|---|---|---|---|")
    for name in KERNELS:
        if name in lean and name in numba:
            count, a = lean[name]
            b = numba[name][1]
            print(f"| `{name}` | {count} | {a:.2f} | {b:.2f} | {a - b:+.2f} |")

    walls: dict[str, list[float]] = {"lean": [], "numba": []}
    started = []
    for r in range(args.rounds):
        for way in ("lean", "numba") if r % 2 == 0 else ("numba", "lean"):
            t = time.perf_counter()
            said = _child(RUNS, way, args.preset, args.runs, args.firms, args.steps)
            walls[way].append(time.perf_counter() - t)
            if way == "lean":
                started.append(said == "True")
    size = f"{args.firms or 'preset'} firms x {args.steps or 'preset'} steps"
    print(f"\n| {args.runs} run(s) of {args.preset} ({size}) in one process, {args.rounds} rounds | median (s) | "
          f"fastest (s) | slowest (s) |\n|---|---|---|---|")  # fmt: skip
    for way, label in (("lean", "without Numba until LEAN_CALLS calls"), ("numba", "Numba imported first")):
        xs = walls[way]
        print(f"| {label} | {statistics.median(xs):.3f} | {min(xs):.3f} | {max(xs):.3f} |")
    print(f"| ratio of the medians | {statistics.median(walls['lean']) / statistics.median(walls['numba']):.3f} | | |")
    print(f"\nThe process without Numba started it after all in {sum(started)} of {len(started)} rounds.")


if __name__ == "__main__":
    main()
