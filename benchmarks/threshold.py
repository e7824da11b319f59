"""Benchmark: where a run's kernels should start using the cores (issue 21).

    python benchmarks/threshold.py FIRMS STEPS [--rows 50000,10000] [--items 50000] [--rounds 4] [--preset baseline]

Runs ``PRESET`` with ``FIRMS`` initial firms for ``STEPS`` steps once for each value of
``compiled.PARALLEL_ROWS`` (rows of nodes or firms from which the gathers over ties and ``concurrently``
use the cores) and of ``compiled.PARALLEL_ITEMS`` (ties, entries, keys and the light passes over firms), every
pair of the two, in turns, ``--rounds`` times, all in one process, and prints the wall time a step of steps 4
to ``STEPS`` (the first three warm the kernels and the memory up): median and fastest per pair, as a
Markdown table row for docs/performance.md. The numbers of a run do not depend on the thresholds (the
parallel forms give the serial forms' numbers), only its speed. In turns, not one value after the other,
because this machine's speed drifts. A second line gives what handing a share to a thread costs on this
machine (two empty calls through ``compiled.concurrently``, median of 200): a pass pays for the cores only
where it takes several times that.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

from _checks import at_least, fail, preset

PROG = "threshold"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("firms", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("--rows", default="50000,10000", help="comma-separated values of compiled.PARALLEL_ROWS")
    ap.add_argument("--items", default=None, help="comma-separated values of compiled.PARALLEL_ITEMS (default: as it is)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--preset", default="baseline")
    args = ap.parse_args(argv)
    try:
        values = [int(v) for v in args.rows.split(",")]
    except ValueError:
        fail(PROG, f"--rows must be comma-separated whole numbers, not {args.rows!r}")
    if not values or min(values) < 1:
        fail(PROG, "--rows values must be >= 1")
    try:
        items = None if args.items is None else [int(v) for v in args.items.split(",")]
    except ValueError:
        fail(PROG, f"--items must be comma-separated whole numbers, not {args.items!r}")
    if items is not None and (not items or min(items) < 1):
        fail(PROG, "--items values must be >= 1")
    at_least(PROG, "FIRMS", args.firms, 2)
    at_least(PROG, "STEPS", args.steps, 5, " (three warm-up steps and some measured)")
    at_least(PROG, "--rounds", args.rounds, 1)

    from clusterup import Simulation, compiled
    preset(PROG, args.preset)

    Simulation(args.preset, seed=1, firms=args.firms, steps=5).run()  # kernels loaded, memory touched
    before = compiled.PARALLEL_ROWS, compiled.PARALLEL_ITEMS
    pairs = list(itertools.product(values, [before[1]] if items is None else items))
    times: dict[tuple[int, int], list[float]] = {pair: [] for pair in pairs}
    try:
        for _ in range(args.rounds):
            for pair in pairs:
                compiled.PARALLEL_ROWS = pair[0]
                compiled.PARALLEL_ITEMS = pair[1]
                sim = Simulation(args.preset, seed=1, firms=args.firms, steps=args.steps)
                for _ in range(3):
                    sim.step()
                t = time.perf_counter()
                for _ in range(args.steps - 3):
                    sim.step()
                times[pair].append(1000 * (time.perf_counter() - t) / (args.steps - 3))
        handover = _handover(compiled)
    finally:
        compiled.PARALLEL_ROWS = before[0]
        compiled.PARALLEL_ITEMS = before[1]
    cells = [f"{statistics.median(times[pair]):.2f} ({min(times[pair]):.2f}) ms" for pair in pairs]
    label = " / ".join(f"{r:,}" if items is None else f"{r:,} and {i:,}" for r, i in pairs)
    print(f"| {args.firms:,} firms, steps 4-{args.steps}, {'rows' if items is None else 'rows and items'} from "
          f"{label} | " + " | ".join(cells) + " |")
    if handover is None:
        print("hand-over of a share to a thread: not measured (one thread allowed)")
    else:
        print(f"hand-over of a share to a thread: {handover:.0f} us (two empty calls side by side, median of 200)")


def _handover(compiled) -> float | None:
    """Microseconds that two empty calls take through ``concurrently`` on two threads (None with one thread)."""
    if compiled._threads() < 2:
        return None
    compiled.PARALLEL_ROWS = 1
    rounds = []
    for _ in range(200):
        t = time.perf_counter()
        compiled.concurrently([_empty, _empty], 2)
        rounds.append(1e6 * (time.perf_counter() - t))
    return statistics.median(rounds)


def _empty() -> None:
    return None


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
