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


METRIC = {"morris": "mu* (mean absolute elementary effect)", "sobol": "Sobol' index (share of output variance)"}


def _bars(ax, t: pd.DataFrame, pos, value: str, conf: str, colour: str, name: str, height: float) -> None:
    """Horizontal bars of an index with its interval, both cut at zero."""
    v = np.clip(t[value].to_numpy(dtype=float), 0, None)
    c = t[conf].to_numpy(dtype=float)
    ax.barh(pos, v, height, xerr=np.vstack([np.minimum(c, v), c]), color=colour, capsize=2, label=name,
            error_kw={"lw": 0.8})  # fmt: skip


def figure(table: pd.DataFrame, method: str):
    """One panel per output: each parameter's index with its 95% bootstrap interval (cut at zero: mu* and the
    Sobol' indices are not negative; a negative estimate is sampling noise and drawn as zero)."""
    from ..plots.style import DOUBLE, OKABE_ITO, legend_below, new_figure, style_context

    outputs = list(dict.fromkeys(table["output"]))
    n_par = table["parameter"].nunique()
    with style_context():
        fig, axes = new_figure(len(outputs), 1, figsize=(DOUBLE * 0.8, 0.9 + (0.6 + 0.22 * n_par) * len(outputs)),
                               squeeze=False)  # fmt: skip
        for ax, out in zip(axes[:, 0], outputs, strict=True):
            t = table[table["output"] == out]
            y = np.arange(len(t))
            ax.set_title(f"output: {out}", loc="left")
            if "note" in t and t["note"].notna().all():
                from ..plots.style import note

                note(ax, "constant output: no indices")
                continue

            if method == "morris":
                _bars(ax, t, y, "mu_star", "mu_star_conf", OKABE_ITO["blue"], "mu*", 0.7)
            else:
                _bars(ax, t, y - 0.2, "S1", "S1_conf", OKABE_ITO["blue"], "first order S1", 0.4)
                _bars(ax, t, y + 0.2, "ST", "ST_conf", OKABE_ITO["orange"], "total order ST", 0.4)
            ax.set_yticks(y, t["parameter"])
            ax.set_xlim(left=0)
            ax.invert_yaxis()
        axes[-1, 0].set_xlabel(f"{METRIC[method]}, with 95% bootstrap interval")
        if method == "sobol":
            h, lab = axes[0, 0].get_legend_handles_labels()
            legend_below(fig, h, lab)
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
    cluster_config: str | Path | None = None,
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
                   progress=progress, cluster_config=cluster_config)  # fmt: skip
    table = analyze(ExperimentStore.open(target), spec, X)
    write_text_atomic(target / "sensitivity.csv", table.to_csv(index=False))
    save_figure(figure(table, spec.method), target / "sensitivity.png")
    return table, target
