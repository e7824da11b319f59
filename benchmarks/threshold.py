"""Benchmark: where a run's kernels should start using the cores (issue 21).

    python benchmarks/threshold.py FIRMS STEPS [--rows 50000,10000] [--rounds 4] [--preset baseline]

Runs ``PRESET`` with ``FIRMS`` initial firms for ``STEPS`` steps once for each value of
``compiled.PARALLEL_ROWS`` (rows of nodes or firms from which the row kernels and ``concurrently`` use
the cores) in turns, ``--rounds`` times, all in one process, and prints the wall time a step of steps 4
to ``STEPS`` (the first three warm the kernels and the memory up): median and fastest per value, as a
Markdown table row for docs/performance.md. The numbers of a run do not depend on the threshold (the
parallel forms give the serial forms' numbers), only its speed; ``compiled.PARALLEL_ITEMS`` (ties, entries,
keys) is left as it is. In turns, not one value after the other, because this machine's speed drifts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def _fail(message: str) -> None:
    print(f"threshold: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("firms", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("--rows", default="50000,10000", help="comma-separated values of compiled.PARALLEL_ROWS")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--preset", default="baseline")
    args = ap.parse_args(argv)
    try:
        values = [int(v) for v in args.rows.split(",")]
    except ValueError:
        _fail(f"--rows must be comma-separated whole numbers, not {args.rows!r}")
    if not values or min(values) < 1:
        _fail("--rows values must be >= 1")
    if args.firms < 2:
        _fail("FIRMS must be >= 2")
    if args.steps < 5:
        _fail("STEPS must be >= 5 (three warm-up steps and some measured)")
    if args.rounds < 1:
        _fail("--rounds must be >= 1")

    from clusterup import Simulation, compiled, recorder
    from clusterup.params import preset_names

    if args.preset not in preset_names():
        _fail(f"--preset must be one of {', '.join(preset_names())}, not {args.preset!r}")

    Simulation(args.preset, seed=1, firms=args.firms, steps=5).run()  # kernels loaded, memory touched
    times: dict[int, list[float]] = {v: [] for v in values}
    before = compiled.PARALLEL_ROWS
    try:
        for _ in range(args.rounds):
            for v in values:
                compiled.PARALLEL_ROWS = recorder.PARALLEL_ROWS = v
                sim = Simulation(args.preset, seed=1, firms=args.firms, steps=args.steps)
                for _ in range(3):
                    sim.step()
                t = time.perf_counter()
                for _ in range(args.steps - 3):
                    sim.step()
                times[v].append(1000 * (time.perf_counter() - t) / (args.steps - 3))
    finally:
        compiled.PARALLEL_ROWS = recorder.PARALLEL_ROWS = before
    cells = [f"{statistics.median(times[v]):.2f} ({min(times[v]):.2f}) ms" for v in values]
    print(f"| {args.firms:,} firms, steps 4-{args.steps}, rows from {' / '.join(f'{v:,}' for v in values)} | "
          + " | ".join(cells) + " |")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
