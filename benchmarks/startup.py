"""Benchmark: what a user waits for, whole process, and where the time goes (issue 21, target 2).

    python benchmarks/startup.py [--repeats 5] [--firms N] [--steps T]

Runs, each in a fresh process and ``--repeats`` times (median, min, max):

- ``clusterup --version`` and ``python -c "import clusterup.cli"`` (the CLI framework alone);
- ``clusterup run baseline --quiet`` as a user runs it (whole process, wall clock);
- the same run in phases, in one fresh process: interpreter start, imports (NumPy, Numba (which loads SciPy's
  core), PyArrow, the model), Numba's start-up and the loading of the cached kernels (the first simulation's
  construction), the simulation, and writing the run directory. A run that is only saved imports no pandas
  (its Result keeps its tables as NumPy columns until they are read); the phases stop with an error if it is.

These use the kernels compiled just in time (``CLUSTERUP_AOT=0``). With ``--aot`` the run and its phases are
timed again with the kernels compiled ahead of time (``clusterup compile``): the build for this machine in
``CLUSTERUP_AOT_DIR`` where there is one, else one made in a temporary directory first (its time is printed).
Such a run imports no Numba at all (clusterup.aot.lean): its phases import none, and stop with an error if the
run did.

As on a user's machine, the bytecode of clusterup's own modules is kept (written once before the timings,
even where ``PYTHONDONTWRITEBYTECODE`` is set, which would have every import compile them again).

Prints Markdown tables for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = """
import json, sys, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
lean = sys.argv[4] == "1"  # kernels compiled ahead of time: the run must not need Numba at all
if not lean:
    import numba
t3 = time.perf_counter()
import pyarrow.parquet
t4 = time.perf_counter()
from clusterup import Simulation
t5 = time.perf_counter()
firms, steps, out = (int(sys.argv[1]) or None), (int(sys.argv[2]) or None), sys.argv[3]
sim = Simulation("baseline", firms=firms, steps=steps)
t6 = time.perf_counter()
result = sim.run()
t7 = time.perf_counter()
result.save(out)
t8 = time.perf_counter()
if "pandas" in sys.modules:
    raise SystemExit("the run imported pandas")
if lean and "numba" in sys.modules:
    raise SystemExit("the run with kernels compiled ahead of time imported Numba")
print(json.dumps({"NumPy import": t1 - t0, "Numba import": t3 - t1,
                  "PyArrow import": t4 - t3, "model import (pydantic, processes)": t5 - t4,
                  "build (Numba start-up and cached kernels where used, initial state)": t6 - t5, "simulation": t7 - t6,
                  "write the run directory": t8 - t7}))
"""


# as on a user's machine, Python may keep the compiled bytecode of clusterup's own modules (``__pycache__``);
# an environment that forbids it (PYTHONDONTWRITEBYTECODE) would have every import compile them again
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(cmd: list[str], env: dict[str, str] = ENV) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def _ahead_of_time(exe: str, tmp: Path) -> tuple[dict[str, str], float | None]:
    """The environment of runs with the kernels compiled ahead of time, and the build's time (None: one found)."""
    from clusterup import aot

    place = os.environ.get(aot.PLACE)
    env = {k: v for k, v in ENV.items() if k != aot.SWITCH}
    quick = aot.quick_key()
    if place and (Path(place) / aot.key()).is_dir() and quick and (Path(place) / aot.LEAN / quick).is_file():
        return {**env, aot.PLACE: place}, None
    env[aot.PLACE] = str(tmp / "aot")
    return env, _wall([exe, "compile"], env)


def _row(name: str, xs: list[float]) -> str:
    return f"| {name} | {statistics.median(xs):.3f} | {min(xs):.3f} | {max(xs):.3f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--firms", type=int, default=0, help="initial firms (0: the preset's)")
    ap.add_argument("--steps", type=int, default=0, help="steps (0: the preset's)")
    ap.add_argument("--aot", action="store_true", help="also time the run with the kernels compiled ahead of time")
    args = ap.parse_args()
    if args.repeats < 1 or args.firms < 0 or args.steps < 0:
        print("--repeats must be >= 1, --firms and --steps >= 0", file=sys.stderr)
        raise SystemExit(2)
    exe = shutil.which("clusterup") or sys.exit("clusterup is not on PATH: pip install -e . first")
    tmp = Path(tempfile.mkdtemp(prefix="clusterup-startup-"))
    try:
        size = ([] if not args.firms else ["--firms", str(args.firms)]) + ([] if not args.steps else ["--steps", str(args.steps)])
        walls: dict[str, list[float]] = {"python -c pass (interpreter)": [], "clusterup --version": [],
                                         "python -c 'import clusterup.cli'": [], "clusterup run baseline --quiet": []}  # fmt: skip
        jit = {**ENV, "CLUSTERUP_AOT": "0"}
        kinds = {"": jit}
        built = None
        if args.aot:
            kinds[", kernels compiled ahead of time"], built = _ahead_of_time(exe, tmp)
            walls["clusterup run baseline --quiet, kernels compiled ahead of time"] = []
        phases: dict[str, dict[str, list[float]]] = {kind: {} for kind in kinds}
        _wall([sys.executable, "-c", "import clusterup.cli, clusterup.simulation, clusterup.runs"])  # bytecode written
        for k in range(args.repeats):
            walls["python -c pass (interpreter)"].append(_wall([sys.executable, "-c", "pass"]))
            walls["clusterup --version"].append(_wall([exe, "--version"]))
            walls["python -c 'import clusterup.cli'"].append(_wall([sys.executable, "-c", "import clusterup.cli"]))
            for kind, env in kinds.items():
                run = [exe, "run", "baseline", *size, "--quiet", "--out", str(tmp / f"cli{k}{bool(kind)}")]
                walls[f"clusterup run baseline --quiet{kind}"].append(_wall(run, env))
                t = time.perf_counter()
                out = str(tmp / f"ph{k}{bool(kind)}")
                phase = [sys.executable, "-c", PHASES, str(args.firms), str(args.steps), out, str(int(bool(kind)))]
                res = subprocess.run(phase, check=True, capture_output=True, text=True, env=env)
                whole = time.perf_counter() - t
                for name, sec in json.loads(res.stdout).items():
                    phases[kind].setdefault(name, []).append(sec)
                phases[kind].setdefault("whole process (interpreter start and exit included)", []).append(whole)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.repeats} repeats, each in a fresh process; seconds\n")
    if built is not None:
        print(f"`clusterup compile` (once, into a temporary directory): {built:.1f} s\n")
    print("| command | median | min | max |\n|---|---|---|---|")
    for name, xs in walls.items():
        print(_row(name, xs))
    for kind, found in phases.items():
        print(f"\n| phase of one `run baseline` (one process{kind}) | median | min | max |\n|---|---|---|---|")
        for name, xs in found.items():
            print(_row(name, xs))


if __name__ == "__main__":
    main()
