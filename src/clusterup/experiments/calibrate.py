"""Calibration by ABC-SMC: fit parameters so that a simulated indicator follows an observed series.

Method (approximate Bayesian computation, sequential Monte Carlo, with an adaptive tolerance;
Beaumont et al. 2009, Biometrika 96:983, with the quantile tolerance schedule of Drovandi &
Pettitt 2011): uniform priors on the given ranges. Generation 0 draws ``particles`` points from
the prior. Each later generation proposes ``particles`` points by drawing a particle of the last
population by weight and perturbing it with a Gaussian kernel of twice the population's weighted
covariance (proposals outside the prior are redrawn). Every proposal is simulated (``replicates``
runs with fresh seeds, distances averaged); the tolerance of the generation is the ``quantile`` of
the proposals' distances, but never above the last generation's tolerance (unless fewer than 10% of
the proposals pass that: then the 10% nearest are kept); the population is the proposals within it,
weighted by prior density over proposal density. The distance is the root mean square difference
between the simulated and the observed series over the observed steps, divided by the observed
series' standard deviation.

A calibration file::

    scenario = "baseline"
    seed = 1
    firms = 100
    observed = "adoption.csv"     # columns: step, value (relative to this file)
    indicator = "cap_mean"        # the time-series column compared with value
    particles = 40
    generations = 4
    quantile = 0.5
    replicates = 1
    [parameters]
    "local.rate" = [0.05, 0.6]

Reproducible: every random number (priors, kernels, run seeds) comes from ``seed``; the executor and
worker count change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from pydantic import Field

from ..data.tables import check_delimiter
from ..errors import ConfigError
from ..io_utils import default_target
from ..result import timeseries_columns
from .design import RunSpec, StrictSpec, load_spec, parameter_field, scenario_path, typed_values
from .runner import execute_run

MIN_KEEP = 0.1  # the smallest share of proposals a generation keeps


class CalibrationSpec(StrictSpec):
    scenario: str = "baseline"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    firms: int | None = Field(None, ge=2, le=100_000_000)
    steps: int | None = Field(None, ge=1, le=1_000_000)
    observed: str
    indicator: str = "cap_mean"
    particles: int = Field(40, ge=4, le=100_000)
    generations: int = Field(4, ge=1, le=100)
    quantile: float = Field(0.5, gt=0.0, lt=1.0)
    replicates: int = Field(1, ge=1, le=1000)
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, list[float | int]] = Field(default_factory=dict)


def read_observed(path: Path) -> pd.DataFrame:
    """The observed series: a CSV with numeric columns ``step`` (integers >= 0, unique) and ``value``."""
    if not path.is_file():
        raise ConfigError(f"observed: {path} not found")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"observed: {path}: not a readable CSV ({' '.join(str(exc).split())})") from None
    check_delimiter(df, f"observed: {path}", ConfigError)
    for col in ("step", "value"):
        if col not in df.columns:
            raise ConfigError(f"observed: {path}: missing column {col!r} (need step, value)")
        if not pd.api.types.is_numeric_dtype(df[col]) or df[col].isna().any() or not np.isfinite(df[col]).all():
            bad = int(np.flatnonzero(~np.isfinite(pd.to_numeric(df[col], errors="coerce")))[0])
            raise ConfigError(f"observed: {path}: row {bad + 2}, column {col!r}: not a finite number")
    if (df["step"] < 0).any() or (df["step"] != df["step"].round()).any() or df["step"].duplicated().any():
        raise ConfigError(f"observed: {path}: column 'step' must hold distinct integers >= 0")
    if len(df) < 2:
        raise ConfigError(f"observed: {path}: need at least two rows")
    return df[["step", "value"]].astype({"step": int, "value": float}).sort_values("step", ignore_index=True)


def load_calibration(path: str | Path) -> tuple[CalibrationSpec, Path, pd.DataFrame]:
    spec, base = load_spec(path, CalibrationSpec, "calibration")
    p = Path(path)
    if not spec.parameters:
        raise ConfigError(f"{p}: parameters: name at least one parameter with a [low, high] range")
    for k, rng in spec.parameters.items():
        if parameter_field(k).annotation is bool or len(rng) != 2 or not rng[0] < rng[1]:
            raise ConfigError(f"{p}: parameters.{k}: give a range [low, high] of numbers with low < high")
    if spec.indicator not in timeseries_columns() or spec.indicator == "step":
        raise ConfigError(f"{p}: indicator {spec.indicator!r} is not a time-series column (see docs/output-schema.md)")
    obs = read_observed(base / spec.observed)
    return spec, base, obs


def distance(sim: pd.DataFrame, obs: pd.DataFrame, indicator: str) -> float:
    s = sim.set_index("step")[indicator].reindex(obs["step"]).to_numpy()
    if np.isnan(s).any():  # the run ended (extinction) before the observed steps
        return float("inf")
    scale = float(np.std(obs["value"])) or 1.0
    return float(np.sqrt(np.mean((s - obs["value"].to_numpy()) ** 2)) / scale)


def abc_smc(
    spec: CalibrationSpec,
    obs: pd.DataFrame,
    executor: Executor,
    base: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run ABC-SMC; returns populations (a table), the tolerance schedule and the summary."""
    keys = list(spec.parameters)
    lo = np.array([float(spec.parameters[k][0]) for k in keys])
    hi = np.array([float(spec.parameters[k][1]) for k in keys])
    scenario = scenario_path(spec.scenario, base)
    steps = spec.steps or int(obs["step"].max())
    if obs["step"].max() > steps:
        raise ConfigError(f"steps = {steps} ends before the last observed step {int(obs['step'].max())}")
    root = np.random.SeedSequence(spec.seed)
    rng = np.random.Generator(np.random.PCG64(root.spawn(1)[0]))
    total = spec.particles * spec.generations * spec.replicates
    done = 0
    pops: list[pd.DataFrame] = []
    eps: list[float] = []
    theta = weights = None
    for gen in range(spec.generations):
        if theta is None:
            cand = lo + rng.random((spec.particles, len(keys))) * (hi - lo)
        else:
            cov = 2.0 * np.atleast_2d(np.cov(theta.T, aweights=weights)) + 1e-12 * np.eye(len(keys))
            cand = np.empty((spec.particles, len(keys)))
            for i in range(spec.particles):
                while True:
                    j = rng.choice(len(theta), p=weights)
                    x = rng.multivariate_normal(theta[j], cov)
                    if np.all(x >= lo) and np.all(x <= hi):
                        cand[i] = x
                        break
        seeds = np.random.SeedSequence(spec.seed, spawn_key=(1, gen)).generate_state(spec.particles * spec.replicates)
        jobs = []
        for i in range(spec.particles):
            ov = {**spec.set, **typed_values(keys, cand[i])}
            for r in range(spec.replicates):
                jobs.append(RunSpec(i * spec.replicates + r, gen, r, int(seeds[i * spec.replicates + r]), scenario, ov, steps,
                                    spec.firms))  # fmt: skip
        dist = np.zeros(spec.particles)
        futures = [executor.submit(execute_run, j) for j in jobs]
        for job, fut in zip(jobs, futures, strict=True):
            _, status, payload, _ = fut.result()
            d = distance(payload, obs, spec.indicator) if status == "ok" else float("inf")
            dist[job.run_id // spec.replicates] += d / spec.replicates
            done += 1
            if progress:
                progress(done, total)
        tol = float(np.quantile(dist[np.isfinite(dist)], spec.quantile)) if np.isfinite(dist).any() else float("inf")
        if eps:  # never loosen the tolerance, unless too few proposals would pass the last one
            least = max(2, math.ceil(MIN_KEEP * spec.particles))
            tol = min(tol, eps[-1]) if np.sum(dist <= eps[-1]) >= least else float(np.sort(dist)[least - 1])
        keep = dist <= tol
        if theta is None:
            w = np.ones(keep.sum())
        else:
            # importance weight: uniform prior density over the proposal mixture density
            from scipy.stats import multivariate_normal

            dens = np.array([np.sum(weights * multivariate_normal(mean=x, cov=cov).pdf(theta)) for x in cand[keep]])
            w = 1.0 / np.maximum(dens, 1e-300)
        w = w / w.sum()
        theta, weights = cand[keep], w
        eps.append(tol)
        frame = pd.DataFrame(theta, columns=keys)
        frame.insert(0, "generation", gen)
        frame["distance"] = dist[keep]
        frame["weight"] = w
        pops.append(frame)
    final = pops[-1]
    summary = {}
    for k in keys:
        x = final[k].to_numpy()
        order = np.argsort(x)
        cw = np.cumsum(final["weight"].to_numpy()[order])
        q = {p: float(x[order][np.searchsorted(cw, p * cw[-1])]) for p in (0.05, 0.5, 0.95)}
        mean = float(np.sum(x * final["weight"]))
        sd = float(np.sqrt(np.sum(final["weight"] * (x - mean) ** 2)))
        summary[k] = {"mean": mean, "sd": sd, "q05": q[0.05], "median": q[0.5], "q95": q[0.95]}
    best = final.loc[final["distance"].idxmin()]
    return {
        "posterior": pd.concat(pops, ignore_index=True),
        "tolerances": eps,
        "summary": summary,
        "best": {"distance": float(best["distance"]), **{k: float(best[k]) for k in keys}},
        "steps": steps,
    }


def predictive_runs(
    spec: CalibrationSpec, res: dict[str, Any], executor: Executor, base: Path | None = None, draws: int = 20
) -> tuple[tuple[int, str, Any, float], list[pd.DataFrame]]:
    """The best particle's run and the runs of up to ``draws`` particles of the last population drawn
    by weight (fresh seeds from ``spec.seed``): the fit plot's line and band."""
    post = res["posterior"]
    last = post[post["generation"] == post["generation"].max()]
    keys = list(spec.parameters)
    scenario = scenario_path(spec.scenario, base)

    def job(i: int, row: dict, seed: int) -> RunSpec:
        ov = {**spec.set, **typed_values(keys, [row[k] for k in keys])}
        return RunSpec(i, 0, 0, seed, scenario, ov, res["steps"], spec.firms)

    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(2,)))
    picks = rng.choice(len(last), size=min(draws, len(last)), p=last["weight"].to_numpy())
    seeds = np.random.SeedSequence(spec.seed, spawn_key=(3,)).generate_state(len(picks) + 1)
    best = executor.submit(execute_run, job(0, res["best"], int(seeds[0]))).result()
    futures = [executor.submit(execute_run, job(i + 1, last.iloc[k].to_dict(), int(seeds[i + 1]))) for i, k in enumerate(picks)]
    return best, [r[2] for r in (f.result() for f in futures) if r[1] == "ok"]


def fit_figure(obs: pd.DataFrame, runs: list[pd.DataFrame], best: pd.DataFrame, indicator: str, title: str):
    """The observed series, the best particle's run and the posterior predictive 5-95% band (cut to the
    indicator's range)."""
    from ..plots.style import DOUBLE, OKABE_ITO, RC, clip_to_range, label, legend_outside, new_figure

    with matplotlib.rc_context(RC):
        fig, ax = new_figure(figsize=(DOUBLE * 0.8, 3.2))
        blue = OKABE_ITO["blue"]
        if runs:
            data = np.vstack([r[indicator].to_numpy()[: len(best)] for r in runs if len(r) >= len(best)])
            lo, hi = clip_to_range(indicator, *np.percentile(data, [5, 95], axis=0))
            ax.fill_between(best["step"], lo, hi, color=blue, alpha=0.25, lw=0, label="posterior predictive 5-95%")
        ax.plot(best["step"], best[indicator], color=blue, lw=1.6, label="best particle")
        ax.plot(obs["step"], obs["value"], "o", ms=3, color="black", label="observed")
        ax.set_xlabel(label("step"))
        ax.set_ylabel(label(indicator).replace(" (", "\n("))
        ax.set_title(title, loc="left")
        legend_outside(ax)
    return fig


def run_calibration(
    file: str | Path,
    out: str | Path | None = None,
    *,
    executor: str = "local",
    workers: int = 2,
    address: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], Path]:
    """The whole calibration of a calibration file: ABC-SMC, posterior predictive runs, and the outputs in
    ``out`` (default ``experiments/FILE-STEM``): ``posterior.csv``, ``calibration.json`` and ``fit.png``.
    Returns the report (what calibration.json holds) and the directory."""
    import json

    from ..io_utils import write_text_atomic
    from ..plots import save_figure
    from .executors import make_executor

    spec, base, obs = load_calibration(file)
    target = Path(out) if out is not None else default_target(Path("experiments") / Path(file).stem, overwrite=overwrite)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target} exists and is not a directory")
    if target.exists() and any(target.iterdir()):
        if not (target / "calibration.json").is_file():
            raise ConfigError(f"--out {target} is not empty and is not a calibration; choose another directory")
        if not overwrite:
            raise ConfigError(f"--out {target} holds a calibration; pass --overwrite to replace it")
    with make_executor(executor, workers, address) as ex:
        res = abc_smc(spec, obs, ex, base, progress)
        best_run, pred_runs = predictive_runs(spec, res, ex, base)
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / "posterior.csv", res["posterior"].to_csv(index=False))
    report = {
        "method": "ABC-SMC (adaptive quantile tolerance)",
        "indicator": spec.indicator,
        "observed": spec.observed,
        "tolerances": res["tolerances"],
        "summary": res["summary"],
        "best": res["best"],
        "config": spec.model_dump(),
    }
    write_text_atomic(target / "calibration.json", json.dumps(report, indent=1))
    if best_run[1] == "ok":
        fig = fit_figure(obs, pred_runs, best_run[2], spec.indicator, f"{spec.indicator}: ABC-SMC fit")
        save_figure(fig, target / "fit.png")
    return report, target
