"""Experiment throughput: runs per second with 1 and 2 workers, local process pool and Dask LocalCluster.

    python benchmarks/bench_experiments.py [--runs 16] [--steps 100] [--firms 300]

Each configuration runs the same ensemble (baseline, common seeds) into a fresh directory, timed from
submission to the last written run (executor start-up included, reported separately). Results go to
docs/performance.md by hand, with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from clusterup.experiments import ExperimentStore, ensemble_plan, make_executor, run_plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--firms", type=int, default=300)
    a = ap.parse_args()
    plan = ensemble_plan(["baseline"], a.runs, 2026, a.steps, a.firms)
    print(f"{a.runs} runs of baseline, {a.firms} firms x {a.steps} steps")
    print(f"{'executor':<12}{'workers':>8}{'startup s':>11}{'runs s':>9}{'runs/s':>9}")
    reference = None
    for kind in ("local", "dask-local"):
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                with make_executor(kind, workers) as ex:
                    t1 = time.perf_counter()
                    store = ExperimentStore.create(Path(tmp) / "exp", plan)
                    run_plan(store, ex)
                    t2 = time.perf_counter()
                series = store.query("SELECT * FROM timeseries ORDER BY run_id, step")
            if reference is None:
                reference = series
            same = series.equals(reference)
            print(f"{kind:<12}{workers:>8}{t1 - t0:>11.2f}{t2 - t1:>9.2f}{a.runs / (t2 - t1):>9.2f}"
                  f"{'' if same else '  RESULTS DIFFER'}")  # fmt: skip


if __name__ == "__main__":
    main()
