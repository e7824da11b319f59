"""Benchmark: the recorder's measures taken behind the next step, against taken at once (issue 21).

    python benchmarks/behind.py FIRMS [FIRMS ...] [--steps 100] [--rounds 6] [--preset baseline]

For each size, in this one process and after a run that loads the kernels: ``PRESET`` with ``FIRMS`` initial
firms for ``STEPS`` steps, ``--rounds`` times each way, in turns (seeds 2, 3, ...; which way goes first
alternating): with every step's measures taken at once (``recorder.BEHIND_FROM = None``) and taken on the
recorder's own thread while the next step runs (``BEHIND_FROM = 1``; the shipped setting takes them behind
from 1,000 slots on). Either way, from ``compiled.PARALLEL_ROWS`` slots on they are taken at once. Prints a
Markdown table for docs/performance.md: wall milliseconds a step (median and fastest of the rounds) each
way, their ratio, and the recorder's time on the run's thread. The numbers of the runs are the same either
way (tests/test_recorder_kernels.py). Needs two threads (``NUMBA_NUM_THREADS`` of at least 2).
"""

from __future__ import annotations

import argparse
import statistics

from _checks import at_least, fail, preset

PROG = "behind"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("firms", type=int, nargs="+")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--preset", default="baseline")
    args = ap.parse_args(argv)
    at_least(PROG, "FIRMS", min(args.firms), 2)
    at_least(PROG, "--steps", args.steps, 1)
    at_least(PROG, "--rounds", args.rounds, 1)
    preset(PROG, args.preset)

    from clusterup import Simulation, compiled, recorder

    if compiled._threads() < 2:
        fail(PROG, "needs two threads (NUMBA_NUM_THREADS >= 2); this process has one")
    shipped = recorder.BEHIND_FROM
    print(f"| {args.preset}, {args.steps} steps, {args.rounds} rounds | at once: ms a step (fastest) | recorder | "
          f"behind: ms a step (fastest) | recorder | behind / at once |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for firms in args.firms:
        Simulation(args.preset, seed=1, firms=firms, steps=min(args.steps, 10)).run()
        times: dict[str, list[tuple[float, float]]] = {"once": [], "behind": []}
        for r in range(args.rounds):
            for way in ("once", "behind") if r % 2 == 0 else ("behind", "once"):
                recorder.BEHIND_FROM = None if way == "once" else 1
                sim = Simulation(args.preset, seed=2 + r, firms=firms, steps=args.steps)
                sim.run()
                done = sim.state.step  # fewer than STEPS where every firm exits
                times[way].append((sim.wall_time / done, sim.timings["recorder"] / done))
        recorder.BEHIND_FROM = shipped
        med = {w: (statistics.median(t for t, _ in v), min(t for t, _ in v), statistics.median(c for _, c in v))
               for w, v in times.items()}  # fmt: skip
        (o, of, oc), (b, bf, bc) = med["once"], med["behind"]
        print(f"| {firms:,} firms | {1e3 * o:.3f} ({1e3 * of:.3f}) | {1e3 * oc:.3f} | {1e3 * b:.3f} ({1e3 * bf:.3f}) | "
              f"{1e3 * bc:.3f} | {b / o:.3f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
