"""Global sensitivity analysis with SALib (Morris elementary effects, Sobol' indices).

A sensitivity file::

    scenario = "baseline"
    seed = 1
    steps = 80
    firms = 150
    replicates = 1          # runs per sample point (common seeds), averaged
    method = "morris"       # morris | sobol
    samples = 8             # morris: trajectories; sobol: base sample N (N x (D + 2) runs)
    levels = 4              # morris grid levels
    outputs = ["final.cap_total", "first_new_generation"]
    [parameters]
    "spillover.rate" = [0.2, 2.0]
    "technology.appropriability" = [0.1, 0.9]

The runs go through the experiment store (so ``--resume`` works and every run is queryable); the
indices, with confidence intervals from SALib's bootstrap, are written as ``sensitivity.csv`` and
drawn as ``sensitivity.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import ConfigError
from ..io_utils import default_target
from ..rng import replicate_seeds
from .design import StrictSpec, load_spec, parameter_field, plan_from_arms, scenario_path, typed_values
from .outputs import check_output, compute_output
from .store import ExperimentStore


class SensitivitySpec(StrictSpec):
    scenario: str = "baseline"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    steps: int | None = Field(None, ge=1, le=1_000_000)
    firms: int | None = Field(None, ge=2, le=100_000_000)
    replicates: int = Field(1, ge=1, le=10_000)
    method: Literal["morris", "sobol"] = "morris"
    samples: int = Field(8, ge=2, le=1_000_000)
    levels: int = Field(4, ge=2, le=100)
    outputs: list[str] = Field(default_factory=lambda: ["final.cap_total"], min_length=1)
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, list[float | int]] = Field(default_factory=dict)


def load_sensitivity(path: str | Path) -> tuple[SensitivitySpec, Path]:
    spec, base = load_spec(path, SensitivitySpec, "sensitivity")
    p = Path(path)
    if len(spec.parameters) < 2:
        raise ConfigError(f"{p}: parameters: name at least two parameters with [low, high] ranges")
    for k, rng in spec.parameters.items():
        info = parameter_field(k)
        if info.annotation is bool:
            raise ConfigError(f"{p}: parameters.{k}: a switch cannot be varied continuously")
        if len(rng) != 2 or not rng[0] < rng[1]:
            raise ConfigError(f"{p}: parameters.{k}: give a range [low, high] with low < high")
    for o in spec.outputs:
        check_output(o)
    return spec, base


def problem(spec: SensitivitySpec) -> dict[str, Any]:
    keys = list(spec.parameters)
    return {"num_vars": len(keys), "names": keys, "bounds": [[float(a), float(b)] for a, b in spec.parameters.values()]}


def sample(spec: SensitivitySpec) -> np.ndarray:
    import warnings

    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    prob = problem(spec)
    with warnings.catch_warnings():  # Sobol' convergence prefers N = 2^m; any N is valid
        warnings.simplefilter("ignore")
        if spec.method == "morris":
            return morris_sample.sample(prob, spec.samples, num_levels=spec.levels, seed=spec.seed % 2**32)
        return sobol_sample.sample(prob, spec.samples, calc_second_order=False, seed=spec.seed % 2**32)


def make_sensitivity_plan(spec: SensitivitySpec, base: Path | None = None):
    X = sample(spec)
    keys = list(spec.parameters)
    arms = [typed_values(keys, row) for row in X]
    return plan_from_arms(spec.model_dump(), scenario_path(spec.scenario, base), arms, keys,
                          replicate_seeds(spec.seed, spec.replicates), spec.set, spec.steps, spec.firms, base), X  # fmt: skip


def analyze(store: ExperimentStore, spec: SensitivitySpec, X: np.ndarray) -> pd.DataFrame:
    """One row per (output, parameter) with the method's indices and their confidence intervals."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    plan = store.plan()
    recs = {r["run_id"]: r for r in store.records()}
    failed = [r for r in recs.values() if r["status"] != "ok"]
    if failed:
        raise ConfigError(f"{len(failed)} run(s) failed (first: run {failed[0]['run_id']}: {failed[0]['error']}); "
                          "see the runs table; indices need every sample point")  # fmt: skip
    if len(recs) < len(plan.runs):
        raise ConfigError(f"{len(plan.runs) - len(recs)} run(s) are unfinished; finish them with --resume")
    prob = problem(spec)
    rows = []
    for out in spec.outputs:
        y = np.zeros(len(plan.arms))
        cnt = np.zeros(len(plan.arms))
        for r in plan.runs:
            y[r.arm] += compute_output(store.timeseries(r.run_id), out)
            cnt[r.arm] += 1
        y /= cnt
        seed = spec.seed % 2**32
        if np.ptp(y) == 0:  # a constant output has no variance to apportion: no indices, said so
            for name in prob["names"]:
                rows.append({"output": out, "parameter": name, "note": "constant output; no indices"})
            continue
        if spec.method == "morris":
            res = morris_analyze.analyze(prob, X, y, num_levels=spec.levels, conf_level=0.95, seed=seed)
            for j, name in enumerate(prob["names"]):
                rows.append({"output": out, "parameter": name, "mu": res["mu"][j], "mu_star": res["mu_star"][j],
                             "sigma": res["sigma"][j], "mu_star_conf": res["mu_star_conf"][j]})  # fmt: skip
        else:
            res = sobol_analyze.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
            for j, name in enumerate(prob["names"]):
                rows.append({"output": out, "parameter": name, "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                             "ST": res["ST"][j], "ST_conf": res["ST_conf"][j]})  # fmt: skip
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, method: str):
    from ..plots.style import new_figure

    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = new_figure(1, len(outputs), figsize=(4.2 * len(outputs), 0.5 + 0.45 * table["parameter"].nunique() + 1.2),
                           squeeze=False)  # fmt: skip
    for ax, out in zip(axes[0], outputs, strict=True):
        t = table[table["output"] == out]
        y = np.arange(len(t))
        if method == "morris":
            ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color="#4c72b0", capsize=3)
            ax.set_xlabel("mu* (mean |elementary effect|), 95% CI")
        else:
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1", color="#4c72b0", capsize=3)
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST", color="#dd8452", capsize=3)
            ax.set_xlabel("Sobol' index, 95% CI")
            ax.legend(frameon=False)
        ax.set_yticks(y, t["parameter"])
        ax.set_title(out)
        ax.invert_yaxis()
    return fig


def run_sensitivity(
    file: str | Path,
    out: str | Path | None = None,
    *,
    executor: str = "local",
    workers: int = 2,
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The whole analysis of a sensitivity file: sample, run every point into the experiment directory
    ``out`` (default ``experiments/FILE-STEM``), compute the indices, write ``sensitivity.csv`` and
    ``sensitivity.png``. Returns the table of indices and the directory."""
    from ..io_utils import write_text_atomic
    from ..plots import save_figure
    from .runner import run_experiment

    spec, base = load_sensitivity(file)
    plan, X = make_sensitivity_plan(spec, base)
    target = Path(out) if out is not None else default_target(Path("experiments") / Path(file).stem, resume=resume,
                                                                 overwrite=overwrite)  # fmt: skip
    run_experiment(plan, target, executor=executor, workers=workers, address=address, resume=resume, overwrite=overwrite,
                   progress=progress)  # fmt: skip
    table = analyze(ExperimentStore.open(target), spec, X)
    write_text_atomic(target / "sensitivity.csv", table.to_csv(index=False))
    save_figure(figure(table, spec.method), target / "sensitivity.png")
    return table, target
