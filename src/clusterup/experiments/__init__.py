"""Experiments: ensembles, sweeps, sensitivity analysis and calibration (docs/experiments.md).

A plan (arms x replicates, common random numbers across arms) is run on any
``concurrent.futures`` executor -- a local process pool or a Dask cluster -- and each finished run is
written by itself, atomically, under an experiment directory with DuckDB views over the results.
"""

from .design import Plan, RunSpec, SweepSpec, ensemble_plan, load_sweep, make_plan, plan_from_arms
from .executors import EXECUTORS, SerialExecutor, make_executor
from .runner import execute_run, run_experiment, run_plan
from .store import ExperimentStore, is_experiment_dir
from .summary import bands, experiment_bands

__all__ = [
    "EXECUTORS",
    "ExperimentStore",
    "Plan",
    "RunSpec",
    "SerialExecutor",
    "SweepSpec",
    "bands",
    "ensemble_plan",
    "execute_run",
    "experiment_bands",
    "is_experiment_dir",
    "load_sweep",
    "make_executor",
    "make_plan",
    "plan_from_arms",
    "run_experiment",
    "run_plan",
]
