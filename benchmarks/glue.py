"""Benchmark: where a step's time goes, in the compiled kernels or in the Python between them (issue 21).

    python benchmarks/glue.py FIRMS STEPS [--runs 4] [--preset baseline] [--network-every N]

Runs ``PRESET`` with ``FIRMS`` initial firms for ``STEPS`` steps ``--runs`` times (seeds 2, 3, ..., after one
run that loads the kernels), with every compiled kernel of the package (each Numba dispatcher in its modules'
namespaces) wrapped in a timer, and prints a Markdown table for docs/performance.md: per process (and the
recorder, the step's context and housekeeping), milliseconds a step in all, inside the kernels, outside them
(the Python and NumPy that prepare their arguments, draw the random numbers and keep the state's structures),
and kernel calls a step. A last row gives the whole step.

What the timers cost (two clock reads and a call, well under a microsecond a kernel call) counts as kernel
time; a run's numbers do not change (the wrappers call the same kernels with the same arguments). The kernels'
share of a step tells what a faster kernel can still win and what only fewer calls between Python and the
kernels can: with ``--network-every 1000000`` a run records as ``clusterup validate``'s ensembles do. The
recorder takes its measures at once, in its step (not on its own thread behind the next step, as it does from
1,000 slots on: ``benchmarks/behind.py`` compares the two).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

from _checks import at_least, preset

PROG = "glue"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("firms", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--network-every", type=int, default=None, help="record the network measures every N steps")
    args = ap.parse_args(argv)
    at_least(PROG, "FIRMS", args.firms, 2)
    at_least(PROG, "STEPS", args.steps, 1)
    at_least(PROG, "--runs", args.runs, 1)
    at_least(PROG, "--network-every", args.network_every, 1)
    preset(PROG, args.preset)

    import numba  # noqa: F401 - first: the kernels are then Numba's dispatchers (without it, clusterup.aot.lean)

    from clusterup import Simulation

    overrides = {} if args.network_every is None else {"run.network_every": args.network_every}

    def simulation(seed: int) -> Simulation:
        return Simulation(args.preset, seed=seed, firms=args.firms, steps=args.steps, overrides=overrides)

    from clusterup import recorder

    recorder.BEHIND_FROM = None  # every measure on this thread, in its step: each kernel's time goes to its part
    simulation(1).run()  # kernels loaded, memory touched
    inside: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    where = ["context"]
    undo = _wrap_kernels(inside, calls, where)
    total: collections.Counter[str] = collections.Counter()
    steps = 0
    wall = 0.0
    try:
        for seed in range(2, 2 + args.runs):
            where[0] = "build"  # the initial state and its record: not a step's
            sim = simulation(seed)
            _label(sim, where)
            where[0] = "context"
            sim.run()
            total.update(sim.timings)
            steps += sim.state.step
            wall += sim.wall_time
    finally:
        undo()
    inside.pop("build", None)
    calls.pop("build", None)
    print(f"| {args.preset}, {args.firms:,} firms x {args.steps} steps, {args.runs} run(s) | in all (ms a step) | in kernels "
          "| outside them | kernel calls a step |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for name, t in total.most_common():
        k = inside[name]
        print(f"| {name} | {1000 * t / steps:.3f} | {1000 * k / steps:.3f} | {1000 * (t - k) / steps:.3f} "
              f"| {calls[name] / steps:.1f} |")  # fmt: skip
    k = sum(inside.values())
    print(f"| whole step | {1000 * wall / steps:.3f} | {1000 * k / steps:.3f} ({100 * k / wall:.0f}%) "
          f"| {1000 * (wall - k) / steps:.3f} ({100 * (wall - k) / wall:.0f}%) | {sum(calls.values()) / steps:.1f} |")


def _wrap_kernels(inside: collections.Counter, calls: collections.Counter, where: list[str]):
    """Every Numba dispatcher in a clusterup module's namespace replaced by a timer around it (time and calls
    counted under ``where[0]``); returns what puts them back."""
    from numba.core.registry import CPUDispatcher

    clock = time.perf_counter
    wrappers: dict[int, object] = {}
    replaced = []

    def timed(kernel):
        def call(*a, **kw):
            t = clock()
            try:
                return kernel(*a, **kw)
            finally:
                inside[where[0]] += clock() - t
                calls[where[0]] += 1

        return call

    for module in [m for name, m in list(sys.modules.items()) if name.startswith("clusterup")]:
        for attr, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher):
                wrapper = wrappers.setdefault(id(value), timed(value))
                setattr(module, attr, wrapper)
                replaced.append((module, attr, value))

    def undo() -> None:
        for module, attr, value in replaced:
            setattr(module, attr, value)

    return undo


def _label(sim, where: list[str]) -> None:
    """Each process's step, housekeeping and the recorder of ``sim`` name themselves in ``where`` while they run
    (what runs between them, the step's context, is counted as "context")."""

    def named(name, method):
        def call(*a, **kw):
            where[0] = name
            try:
                return method(*a, **kw)
            finally:
                where[0] = "context"

        return call

    for process in sim.schedule:
        process.step = named(process.name, process.step)
    sim.schedule.end_step = named("housekeeping", sim.schedule.end_step)
    sim.recorder.record = named("recorder", sim.recorder.record)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
