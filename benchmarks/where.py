"""Benchmark: where a step's time goes, sampled rather than traced (issue 21).

    python benchmarks/where.py [--firms 2000] [--steps 100] [--runs 10] [--rate 1000] [--top 15]
    python benchmarks/where.py --raw FILE --lean FILE    # read py-spy's raw output instead of sampling

Runs ``--runs`` baseline simulations of ``--firms`` x ``--steps`` (seeds 1, 2, ...) in one process, once
to time a step and once under py-spy (a sampling profiler: ``pip install py-spy``; a tool, not a dependency
of clusterup), ``--rate`` samples a second. py-spy stops the process for each sample, which keeps the stacks
whole and slows the run: the shares come from the samples, the time from the unsampled runs. cProfile adds
a cost to every call, which at a hundred kernel calls and a thousand-odd Python calls a step distorts a
small run's picture; sampling does not. The process calls the kernels compiled ahead of time without Numba
throughout (it needs the build of ``clusterup compile``; its calls' budget is lifted, so that it never hands
over to Numba in mid-run), so that each kernel's call is a line of Python: the line of the build's lean
function (``clusterup.aot.tests_source``) that calls the compiled function.

The samples of the main thread inside ``Simulation.step`` are split four ways:

- **in a kernel**: on the line that calls a compiled function (the kernel's work, and the unboxing of its
  arguments by the compiled module);
- **type tests**: on the lean function's other lines (the tests of the arguments' types);
- **waiting**: for a call on another thread (``Future.result``: the other share of a kernel that
  ``compiled.concurrently`` runs on both cores, or the recorder's measures taken behind the step);
- **between kernels**: everything else (the processes' Python and NumPy, the state's bookkeeping, the
  recorder's part on the main thread, the step loop).

Then the same by process (the frame below ``Simulation.step``), and the lines between kernels that take the
most samples (the deepest frame in clusterup's own code). The share in kernels bounds what any change to the
Python between them can give: a step with nothing between its kernels would take that share of the time (and
the waiting, which is kernel work on the other core).
Prints Markdown tables for docs/performance.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _checks import at_least, fail

PROG = "where"
STEP = "Simulation.step ("
WAIT = "Future.result ("  # the main thread waits for a thread's call (compiled.concurrently, the recorder's measures)

CHILD = """
import json, sys
from clusterup import Simulation, compiled
if compiled._LEAN is None:
    raise SystemExit("no build of `clusterup compile` for this machine (the one a process finds without Numba)")
compiled._LEAN_BUDGET[0] = 10**15  # lean throughout: no hand-over to Numba in mid-run
firms, steps, runs = map(int, sys.argv[1:4])
wall, done = 0.0, 0
for seed in range(1, runs + 1):
    sim = Simulation("baseline", seed=seed, firms=firms, steps=steps)
    sim.run()
    wall, done = wall + sim.wall_time, done + sim.state.step
if "numba" in sys.modules:
    raise SystemExit("the sampled runs imported Numba")
print(json.dumps({"lean": compiled._LEAN[1]["__file__"], "ms_per_step": 1000 * wall / done}))
"""


KINDS = {"kernel": "in a kernel (compiled work, arguments unboxed)", "tests": "the lean functions' type tests",
         "waiting": "waiting for a kernel's share on another thread",
         "between": "between kernels (Python, NumPy, bookkeeping)"}  # fmt: skip


def kinds(lean_source: str) -> dict[int, str]:
    """The lean module's line numbers: "kernel" for a line that calls a compiled function, "tests" for the rest."""
    return {number: "kernel" if re.match(r"\s*return k\d+\(", line) else "tests"
            for number, line in enumerate(lean_source.splitlines(), 1)}  # fmt: skip


def split(raw: str, lean_name: str, lines: dict[int, str]) -> tuple[collections.Counter, dict, collections.Counter, int]:
    """py-spy's raw samples (``frame;frame;... count`` per line, outermost first) of the main thread inside
    ``Simulation.step``: the samples by kind, by process and kind, and between kernels by line; and their total."""
    by_kind: collections.Counter = collections.Counter()
    by_process: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    by_line: collections.Counter = collections.Counter()
    total = 0
    for row in raw.splitlines():
        if not row.strip():
            continue
        stack, count = row.rsplit(" ", 1)
        frames = stack.split(";")
        inside = [i for i, frame in enumerate(frames) if frame.startswith(STEP)]
        if not inside:  # before or after the steps, or another thread (the recorder's)
            continue
        n = int(count)
        total += n
        leaf = frames[-1]
        where = leaf.rsplit(" (", 1)[-1].rstrip(")")
        path, _, line = where.rpartition(":")
        if Path(path).name == lean_name and line.isdigit():
            kind = lines.get(int(line), "tests")
        elif any(frame.startswith(WAIT) for frame in frames[inside[0]:]):  # a kernel's share on another thread
            kind = "waiting"
        else:
            kind = "between"
            own = [frame for frame in frames[inside[0]:] if "clusterup/" in frame and lean_name not in frame]
            by_line[own[-1] if own else leaf] += n
        below = inside[0] + 1
        process = frames[below].split(" (")[0] if below < len(frames) else "Simulation.step (the loop)"
        by_kind[kind] += n
        by_process[process][kind] += n
    return by_kind, by_process, by_line, total


def report(raw: str, lean: Path, top: int, ms_per_step: float | None) -> None:
    by_kind, by_process, by_line, total = split(raw, lean.name, kinds(lean.read_text(encoding="utf-8")))
    if total == 0:
        fail(PROG, "no samples inside Simulation.step in the raw output")
    share = {k: by_kind[k] / total for k in KINDS}
    per_step = "" if ms_per_step is None else f"; {ms_per_step:.3f} ms a step in the same runs unsampled"
    print(f"\n### Where a step goes ({total:,} samples of the main thread inside `Simulation.step`{per_step})\n")
    print("| part of the step | share | ms a step |" if ms_per_step else "| part of the step | share |")
    print("|---|---|---|" if ms_per_step else "|---|---|")
    for k, label in KINDS.items():
        ms = f" | {share[k] * ms_per_step:.3f}" if ms_per_step else ""
        print(f"| {label} | {100 * share[k]:.1f}%{ms} |")
    print("\n| process | in kernels | type tests | waiting | between kernels |\n|---|---|---|---|---|")
    for process, counts in sorted(by_process.items(), key=lambda kv: -sum(kv[1].values())):
        cells = " | ".join(f"{100 * counts[k] / total:.1f}%" for k in KINDS)
        print(f"| {process} | {cells} |")
    shown = by_line.most_common(top)
    print(f"\n| line between kernels (the {len(shown)} that take most; {len(by_line)} in all) | share |\n|---|---|")
    for line, n in shown:
        print(f"| `{line}` | {100 * n / total:.2f}% |")


def main() -> None:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rate", type=int, default=1000, help="samples a second")
    ap.add_argument("--top", type=int, default=15, help="lines between kernels to list")
    ap.add_argument("--raw", type=Path, help="py-spy's raw output (record -f raw) to read instead of sampling")
    ap.add_argument("--lean", type=Path, help="with --raw: the build's lean_tests.py the sampled process used")
    a = ap.parse_args()
    at_least(PROG, "--firms", a.firms, 2)
    at_least(PROG, "--steps", a.steps, 1)
    at_least(PROG, "--runs", a.runs, 1)
    at_least(PROG, "--rate", a.rate, 1)
    at_least(PROG, "--top", a.top, 0)
    if (a.raw is None) != (a.lean is None):
        fail(PROG, "--raw and --lean go together")
    if a.raw is not None:
        for label, path in (("--raw", a.raw), ("--lean", a.lean)):
            if not path.is_file():
                fail(PROG, f"{label} must be a file; {path} is not")
        report(a.raw.read_text(encoding="utf-8"), a.lean, a.top, None)
        return
    spy = shutil.which("py-spy")
    if spy is None:
        fail(PROG, "needs py-spy on PATH (pip install py-spy), or --raw and --lean")
    args = [sys.executable, "-c", CHILD, str(a.firms), str(a.steps), str(a.runs)]
    plain = subprocess.run(args, capture_output=True, text=True)  # the time a step takes, unsampled
    if plain.returncode != 0:
        fail(PROG, f"the runs failed: {(plain.stderr.strip().splitlines() or ['no message'])[-1]}")
    facts = json.loads(plain.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "samples.txt"
        # py-spy stops the process for each sample (consistent stacks, and a slower run: the shares hold, the time
        # does not), hence the time from the unsampled runs above
        done = subprocess.run([spy, "record", "-r", str(a.rate), "-f", "raw", "-o", str(out), "--", *args],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0 or not out.is_file():
            fail(PROG, f"the sampled process failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
        print(f"baseline, {a.firms:,} firms x {a.steps} steps, {a.runs} run(s) in one process, {a.rate} samples a second")
        report(out.read_text(encoding="utf-8"), Path(facts["lean"]), a.top, facts["ms_per_step"])


if __name__ == "__main__":
    main()
