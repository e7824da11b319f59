"""Benchmark: simulation time of the default baseline run (target: under 2 s on a 2-core machine).

    python benchmarks/bench_baseline.py [--repeats 5] [--preset baseline] [--firms N] [--steps T]

Prints the median simulation time over the repeats (building the state and writing outputs excluded)
and the share of time spent in each process.
"""

from __future__ import annotations

import argparse
import platform
import statistics

import numpy as np

import clusterup
from clusterup import Simulation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--firms", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args()
    times, timings = [], {}
    for seed in range(1, args.repeats + 1):
        sim = Simulation(args.preset, seed=seed, firms=args.firms, steps=args.steps)
        sim.run()
        times.append(sim.wall_time)
        for k, v in sim.timings.items():
            timings[k] = timings.get(k, 0.0) + v
        final = sim.result().final
    p = sim.params.run
    print(f"clusterup {clusterup.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}")
    print(
        f"{args.preset}: {p.firms} initial firms, {p.steps} steps, {args.repeats} seeds; "
        f"final firms (last seed) {int(final.n_firms)}"
    )
    print(f"simulation time: median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s")
    total = sum(timings.values())
    for name, sec in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16s} {100 * sec / total:5.1f}%")


if __name__ == "__main__":
    main()
