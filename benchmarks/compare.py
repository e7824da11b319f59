"""Benchmark: one simulation's speed on two versions of the code, compared in turns (issue 21).

    python benchmarks/compare.py REV [--rounds 24] [--preset baseline] [--firms 300] [--steps 200]

The other version is the git revision ``REV`` of this repository (checked out into a temporary worktree,
removed after); this version is the working tree. Two worker processes, one per version, each warm up
(a short run) and then take turns: in each round both run the same seed (seeds 1-4 in rotation), which
one goes first alternating. Each reports the CPU time per step of its ``Simulation.run()`` (with ``--clock
wall``, the wall time: what counts where a version uses a second core). Printed: the
median and fastest of each, and the ratios of the medians and of the fastest runs (new / old), as a
Markdown table row for docs/performance.md.

Why in turns and not one after the other: this machine's speed drifts by tens of per cent within minutes
(docs/performance.md), so two batches run minutes apart compare the machine, not the code. Both workers
run with ``CLUSTERUP_AOT=0``: a module compiled ahead of time matches only one version's kernels, and
would give that one an advantage that is not the code's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _checks import fail

PROG = "compare"

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys, time
from clusterup.simulation import Simulation
preset, firms, steps, clock = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
clock = time.perf_counter if clock == "wall" else time.process_time
Simulation(preset, seed=99, firms=firms, steps=min(steps, 20)).run()
print("ready", flush=True)
for line in sys.stdin:
    sim = Simulation(preset, seed=int(line), firms=firms, steps=steps)
    c = clock()
    sim.run()
    print((clock() - c) / steps * 1e6, flush=True)
"""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the git revision to compare the working tree with")
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--firms", type=int, default=None, help="initial firms (default: the preset's)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time a step by the process's CPU time (default) or by the wall clock")
    args = ap.parse_args(argv)
    for name in ("rounds", "steps", "firms"):
        value = getattr(args, name)
        if value is not None and value < 1:
            fail(PROG, f"--{name} must be >= 1; got {value}")
    from clusterup.errors import ConfigError
    from clusterup.params import load_scenario

    try:
        params = load_scenario(args.preset)
    except (ConfigError, FileNotFoundError, KeyError) as exc:
        fail(PROG, f"--preset: {exc}".splitlines()[0])
    if args.firms is None:
        args.firms = params.run.firms
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{args.rev}^{{commit}}"],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        fail(PROG, f"REV: {args.rev!r} is not a commit of this repository")
    args.commit = done.stdout.strip()
    return args


def _worker(src: Path, args: argparse.Namespace) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(src), "CLUSTERUP_AOT": "0"}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, args.preset, str(args.firms), str(args.steps), args.clock], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        fail(PROG, f"the worker for {src} did not start (run it by hand to see why)")
    return proc


def compare(args: argparse.Namespace, old_src: Path, new_src: Path) -> dict[str, list[float]]:
    workers = {"old": _worker(old_src, args), "new": _worker(new_src, args)}
    times: dict[str, list[float]] = {"old": [], "new": []}
    try:
        for r in range(args.rounds):
            for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                workers[name].stdin.write(f"{1 + r % 4}\n")
                workers[name].stdin.flush()
                times[name].append(float(workers[name].stdout.readline()))
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait()
    return times


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="clusterup-compare-") as tmp:
        tree = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), args.commit],
                       check=True)  # fmt: skip
        try:
            times = compare(args, tree / "src", ROOT / "src")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    old, new = times["old"], times["new"]
    mo, mn = statistics.median(old), statistics.median(new)
    print(f"| {args.preset}, {args.firms} firms x {args.steps} steps, {args.rounds} rounds, {args.clock} | {args.commit[:7]}: "
          f"{mo:,.0f} ({min(old):,.0f}) us a step | working tree: {mn:,.0f} ({min(new):,.0f}) us | "
          f"{mn / mo:.3f} median, {min(new) / min(old):.3f} fastest |")  # fmt: skip


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
