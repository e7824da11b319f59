"""All speed benchmarks in one run: the scaling table and clusterup side by side with Mesa.

    python benchmarks/run.py                          # scaling 10^3..10^5 (20 steps) + Mesa at 2,000 x 100
    python benchmarks/run.py --scaling 1000 10000 100000 1000000 --scaling-steps 20
    python benchmarks/run.py --skip-mesa
    python benchmarks/run.py --skip-mesa --scaling 100000 --set economic.ties_per_mastery=16   # denser network
    python benchmarks/run.py --skip-scaling --mesa-firms 2000 --mesa-steps 100 --repeats 3
    python benchmarks/run.py --skip-scaling --mesa-firms 2000 10000 30000 --mesa-steps 100 20 10   # ratio by size
    python benchmarks/run.py --skip-scaling --mesa-firms 2000 --mesa-steps 100 --repeats 3 --inner 5

Every measurement runs in a fresh process, so peak memory (maximum resident set size) belongs to that
run alone. The side-by-side comparison runs the same rules, the same preset and the same sizes in
both implementations (``benchmarks/mesa_reference.py``; ``pip install mesa``) and prints the ratio
of wall times, both with clusterup's full recorder (about 70 indicators per step, network ones
included) and with network indicators every 10 steps (closer to the Mesa reference, which records
about 35 plain columns). With ``--repeats`` R, the three run in turns, R rounds (the first of a round
rotating), and each ratio is the median of the rounds' ratios: a round's runs share the machine's hour,
which on a shared machine moves a run's time by a third or more between hours. With ``--inner`` K, each
round runs each clusterup row K times, each in a fresh process, and keeps the median of the K (wall, build and
per step apart): a clusterup run of half a second meets one burst of the machine's noise or none, where a
Mesa run of half a minute averages over them, so one run against one run judges the two unevenly. Prints
Markdown tables; paste them into docs/performance.md with the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from clusterup.errors import ConfigError
from clusterup.params import load_scenario, parse_assignments

HERE = Path(__file__).resolve().parent

CLUSTERUP = """
import json, resource, sys, time
from clusterup import Simulation
firms, steps, seed, every = map(int, sys.argv[1:5])
overrides = {"run.network_every": every, **json.loads(sys.argv[5] if len(sys.argv) > 5 else "{}")}
t0 = time.perf_counter()
sim = Simulation("baseline", seed=seed, firms=firms, steps=steps, overrides=overrides)
build = time.perf_counter() - t0
sim.run()
wall = time.perf_counter() - t0
ts = sim.result().timeseries
top = sorted(sim.timings.items(), key=lambda kv: -kv[1])[:3]
total = sum(sim.timings.values())
print(json.dumps({"wall_s": wall, "build_s": build, "per_step_s": sim.wall_time / steps, "final_firms": int(ts.n_firms.iloc[-1]),
                  "ties": int(ts[["social_ties", "economic_ties", "knowledge_ties"]].iloc[-1].sum()),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "top": [[k, round(v / total, 2)] for k, v in top]}))
"""

MESA = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
import mesa_reference
firms, steps, seed = map(int, sys.argv[1:4])
timings = {}
ts, wall = mesa_reference.run("baseline", firms, steps, seed, timings)
per_step = (wall - timings["build_s"]) / max(timings["steps"], 1)
print(json.dumps({"wall_s": wall, "build_s": timings["build_s"], "per_step_s": per_step, "final_firms": int(ts.n_firms.iloc[-1]),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def kernels() -> str:
    """How the runs' processes get their kernels: the number of signatures a fresh process takes from the
    module compiled ahead of time (``clusterup compile``; without importing Numba where it can), or just in
    time (a first step that loads or compiles them is part of the per-step figures)."""
    code = "from clusterup import aot, compiled; print(aot.lean_signatures(), len(aot.attached()))"
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    lean, count = int(said[-2]), int(said[-1])
    if lean:
        return f"{lean} signatures compiled ahead of time, called without Numba"
    if count:
        return f"{count} signatures compiled ahead of time"
    return "compiled or loaded just in time (no module from `clusterup compile` for them, or CLUSTERUP_AOT=0)"


def child(code: str, *args: object) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def scaling(sizes: list[int], steps: int, seed: int, overrides: dict) -> None:
    settings = "".join(f", {k} = {v}" for k, v in overrides.items())
    print(f"\n### Scaling (baseline{settings}, {steps} steps, seed {seed})\n")
    cols = ("initial firms", "steps", "build (s)", "time per step (s)", "wall (s)", "firms at end", "ties at end",
            "µs per tie and step", "peak memory (MiB)", "top")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for n in sizes:
        r = child(CLUSTERUP, n, steps, seed, 1, json.dumps(overrides))
        top = ", ".join(f"{k} {int(100 * v)}%" for k, v in r["top"])
        per_tie = 1e6 * r["per_step_s"] / max(r["ties"], 1)
        print(f"| {n:,} | {steps} | {r['build_s']:.2f} | {r['per_step_s']:.3f} | {r['wall_s']:.1f} | {r['final_firms']:,} | "
              f"{r['ties']:,} | {per_tie:.2f} | {r['peak_rss_mib']:.0f} | {top} |", flush=True)  # fmt: skip


def side_by_side(firms: int, steps: int, seed: int, repeats: int, inner: int = 1) -> None:
    each = f", clusterup's the median of {inner} runs a round" if inner > 1 else ""
    print(f"\n### clusterup and the Mesa reference (baseline, {firms:,} firms x {steps} steps, seed {seed}, {repeats} repeats"
          f"{each})\n")
    jobs = {
        "Mesa 3 reference (NetworkX layers, per-agent steps)": (MESA, firms, steps, seed, HERE),
        "clusterup, every indicator every step": (CLUSTERUP, firms, steps, seed, 1),
        "clusterup, network indicators every 10 steps": (CLUSTERUP, firms, steps, seed, 10),
    }
    labels = list(jobs)
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    keys = ("wall_s", "build_s", "per_step_s")
    for r in range(repeats):  # in turns, the first of each round rotating: each round's runs share the machine's hour
        for label in labels[r % len(labels):] + labels[: r % len(labels)]:
            if label == labels[0]:  # Mesa: one run a round
                runs[label].append(child(*jobs[label]))
                continue
            tries = [child(*jobs[label]) for _ in range(inner)]  # clusterup: the median of inner runs
            runs[label].append({k: statistics.median(t[k] for t in tries) for k in keys})
    med = {label: {k: statistics.median(r[k] for r in rs) for k in keys} for label, rs in runs.items()}
    mesa = runs[labels[0]]

    def paired(rs: list[dict], key: str) -> float:  # the median of each round's ratio, Mesa's run over this one
        return statistics.median(m[key] / r[key] for m, r in zip(mesa, rs, strict=True))

    print("| implementation | median wall (s) | runs (s) | build (s) | per step (ms) | Mesa / this: wall | per step |")
    print("|---|---|---|---|---|---|---|")
    for label, rs in runs.items():
        m = med[label]
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in rs)
        print(
            f"| {label} | {m['wall_s']:.2f} | {walls} | {m['build_s']:.2f} | {1000 * m['per_step_s']:.1f} | "
            f"{paired(rs, 'wall_s'):.0f}x | {paired(rs, 'per_step_s'):.0f}x |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scaling", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--scaling-steps", type=int, default=20)
    ap.add_argument("--mesa-firms", type=int, nargs="+", default=[2000], help="one side-by-side table per size")
    ap.add_argument("--mesa-steps", type=int, nargs="+", default=[100], help="steps per size (one value: for all)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--inner", type=int, default=1, help="clusterup runs per round, their median kept (default 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-mesa", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="parameter override for the scaling runs")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error(f"--repeats must be >= 1; got {a.repeats}")
    if a.inner < 1:
        ap.error(f"--inner must be >= 1; got {a.inner}")
    if len(a.mesa_steps) not in (1, len(a.mesa_firms)):
        ap.error(f"--mesa-steps takes one value or one per --mesa-firms size ({len(a.mesa_firms)}); got {len(a.mesa_steps)}")
    try:
        overrides = parse_assignments(a.set)  # the CLI's --set
        load_scenario("baseline", overrides)  # unknown keys and bad values stop here, in one line
    except ConfigError as exc:
        ap.error(str(exc))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"kernels: {kernels()}")
    if not a.skip_scaling:
        scaling(a.scaling, a.scaling_steps, a.seed, overrides)
    if not a.skip_mesa:
        steps = a.mesa_steps * len(a.mesa_firms) if len(a.mesa_steps) == 1 else a.mesa_steps
        for firms, n_steps in zip(a.mesa_firms, steps, strict=True):
            side_by_side(firms, n_steps, a.seed, a.repeats, a.inner)


if __name__ == "__main__":
    main()
