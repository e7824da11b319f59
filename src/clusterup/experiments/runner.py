"""Running a plan: submit the unfinished runs to an executor, write each as it finishes.

Only this (the parent) process writes, one run at a time, so there is a single writer whatever
the executor. A run that raises is recorded with status ``failed`` and its error; the sweep goes on.
Ctrl-C cancels the runs that have not started, keeps every finished one and rebuilds the views.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .design import Plan, RunSpec
from .outputs import run_summary
from .store import ExperimentStore


def execute_run(run: RunSpec) -> tuple[int, str, Any, float]:
    """Worker side: (run_id, 'ok', timeseries) or (run_id, 'failed', 'ErrorType: message'), and seconds."""
    from ..simulation import simulate

    t0 = time.perf_counter()
    try:
        res = simulate(run.scenario, seed=run.seed, steps=run.steps, firms=run.firms, overrides=run.overrides)
        ts = res.timeseries
        ts.insert(0, "run_id", run.run_id)
        return run.run_id, "ok", ts, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - a failed run is data, not a crash
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        return run.run_id, "failed", f"{type(exc).__name__}: {exc}{where}", time.perf_counter() - t0


def make_record(plan: Plan, run: RunSpec, status: str, payload: Any, wall: float) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "run_id": run.run_id,
        "arm": run.arm,
        "arm_label": plan.arm_label(run.arm),
        "replicate": run.replicate,
        "seed": run.seed,
        "scenario": Path(run.scenario).stem if run.scenario.endswith(".toml") else run.scenario,
        "status": status,
        "error": payload if status == "failed" else None,
        "wall_seconds": round(wall, 4),
    }
    arm = plan.arms[run.arm]
    for k in plan.varied:
        if k != "scenario":  # a compared scenario is already the scenario column
            rec[k] = arm[k]
    if status == "ok":
        rec.update(run_summary(payload))
    return rec


def run_plan(
    store: ExperimentStore,
    executor: Executor,
    *,
    progress: Callable[[int, int], None] | None = None,
    window: int = 256,
) -> dict[str, int]:
    """Run every unfinished run of the store's plan. Returns counts: done before, ran, failed, total.

    At most ``window`` runs are submitted ahead of the results (an executor may set its own
    ``window`` attribute: the serial executor uses 1)."""
    plan = store.plan()
    done = store.finished_ids()
    todo = [r for r in plan.runs if r.run_id not in done]
    counts = {"total": len(plan.runs), "already": len(done), "ran": 0, "failed": 0}
    if progress:
        progress(len(done), len(plan.runs))
    window = max(1, int(getattr(executor, "window", 0) or window))
    pending: dict[Future, RunSpec] = {}
    queue = iter(todo)
    try:
        while True:
            # keep at most ``window`` runs in flight: memory stays flat for huge sweeps, and Ctrl-C or a
            # kill loses at most the runs in flight
            for r in queue:
                pending[executor.submit(execute_run, r)] = r
                if len(pending) >= window:
                    break
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: pending[f].run_id):
                run = pending.pop(fut)
                try:
                    run_id, status, payload, wall = fut.result()
                except Exception as exc:  # noqa: BLE001 - the worker itself died (e.g. out of memory)
                    status, payload, wall = "failed", f"{type(exc).__name__}: {exc}", 0.0
                store.write_run(make_record(plan, run, status, payload, wall), payload if status == "ok" else None)
                counts["ran"] += 1
                counts["failed"] += status == "failed"
                if progress:
                    progress(counts["already"] + counts["ran"], counts["total"])
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        store.finalize()
    return counts


def run_experiment(
    plan: Plan,
    out: str | Path,
    *,
    executor: str = "local",
    workers: int = 2,
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cluster_config: str | Path | None = None,
) -> dict[str, int]:
    """Run ``plan`` into the experiment directory ``out`` on an executor of the given kind (flags are checked
    before the directory is touched). Returns the counts of :func:`run_plan`. Ctrl-C raises
    :class:`~clusterup.errors.Interrupted` saying how many runs were kept."""
    from ..errors import Interrupted
    from .executors import make_executor

    out = Path(out)
    with make_executor(executor, workers, address, cluster_config) as ex:
        store = ExperimentStore.create(out, plan, resume=resume, overwrite=overwrite)
        started = datetime.now(UTC)
        try:
            counts = run_plan(store, ex, progress=progress)
        except KeyboardInterrupt:
            n = len(store.finished_ids())
            raise Interrupted(f"interrupted: {n} of {len(plan.runs)} runs kept in {out}; finish with --resume") from None
    from ..provenance import write_crate
    from .store import PLAN_FILE

    write_crate(out, name=out.name, kind="experiment", command=" ".join(sys.argv), config=PLAN_FILE,
                seeds=[int(s) for s in plan.seeds], started=started, ended=datetime.now(UTC),
                extra={"resumed": bool(resume)})  # fmt: skip
    return counts
