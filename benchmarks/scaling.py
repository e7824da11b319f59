"""Scaling benchmark: time per step and peak memory of the baseline as the number of firms grows.

    python benchmarks/scaling.py [--firms 1000 10000 100000] [--steps 20] [--seed 1]

Each size runs in a fresh process (so peak memory is that run's alone); time per step excludes
building the initial state. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from clusterup import Simulation
firms, steps, seed = map(int, sys.argv[1:4])
t0 = time.perf_counter()
sim = Simulation("baseline", seed=seed, firms=firms, steps=steps)
build = time.perf_counter() - t0
sim.run()
ts = sim.result().timeseries
top = sorted(sim.timings.items(), key=lambda kv: -kv[1])[:3]
total = sum(sim.timings.values())
print(json.dumps({"firms": firms, "steps": steps, "build_s": build, "per_step_s": sim.wall_time / steps,
                  "final_firms": int(ts.n_firms.iloc[-1]),
                  "ties": int(ts[["social_ties", "economic_ties", "knowledge_ties"]].iloc[-1].sum()),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "top": [[k, round(v / total, 2)] for k, v in top]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    head = (
        "initial firms",
        "steps",
        "build (s)",
        "time per step (s)",
        "firms at end",
        "ties at end",
        "peak memory (MiB)",
        "top processes",
    )
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.firms:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(args.steps), str(args.seed)], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out)
        top = ", ".join(f"{k} {int(100 * v)}%" for k, v in r["top"])
        print(
            f"| {n:,} | {r['steps']} | {r['build_s']:.2f} | {r['per_step_s']:.3f} | {r['final_firms']:,} | "
            f"{r['ties']:,} | {r['peak_rss_mib']:.0f} | {top} |"
        )


if __name__ == "__main__":
    main()
