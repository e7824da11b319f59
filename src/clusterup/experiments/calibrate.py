"""Calibration by ABC-SMC: fit parameters so that a simulated indicator follows an observed series.

Method (approximate Bayesian computation, sequential Monte Carlo, with an adaptive tolerance;
Beaumont et al. 2009, Biometrika 96:983, with the quantile tolerance schedule of Drovandi &
Pettitt 2011): uniform priors on the given ranges. Generation 0 draws ``particles`` points from
the prior. Each later generation proposes ``particles`` points by drawing a particle of the last
population by weight and perturbing it with a Gaussian kernel of twice the population's weighted
covariance (proposals outside the prior are redrawn). Every proposal is simulated (``replicates``
runs with fresh seeds; the distance is that of their mean series, which averages the simulator's noise
out before comparing, or with ``replicate_distance = "mean_distance"`` the mean of their distances); the
tolerance of the generation is the ``quantile`` of
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
from typing import Any, Literal

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
    replicate_distance: Literal["mean_series", "mean_distance"] = Field(
        "mean_series", description="with replicates > 1: distance of the replicates' mean series, or mean of their distances")
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


def observed_values(sim: pd.DataFrame, obs: pd.DataFrame, indicator: str) -> np.ndarray:
    """The simulated indicator at the observed steps (NaN where the run ended before them)."""
    return sim.set_index("step")[indicator].reindex(obs["step"]).to_numpy(dtype=float)


def series_distance(s: np.ndarray, obs: pd.DataFrame) -> float:
    if np.isnan(s).any():  # the run ended (extinction) before the observed steps
        return float("inf")
    scale = float(np.std(obs["value"])) or 1.0
    return float(np.sqrt(np.mean((s - obs["value"].to_numpy()) ** 2)) / scale)


def distance(sim: pd.DataFrame, obs: pd.DataFrame, indicator: str) -> float:
    return series_distance(observed_values(sim, obs, indicator), obs)


CHECKPOINT = "abc-checkpoint.json"


def _save_checkpoint(path: Path, spec: CalibrationSpec, pops: list[pd.DataFrame], eps: list[float], rng, done: int) -> None:
    """After each generation: the populations so far, the tolerances, the generator's state (atomic)."""
    import json

    from ..io_utils import write_text_atomic

    state = {"config": spec.model_dump(), "tolerances": eps, "done": done, "rng": rng.bit_generator.state,
             "populations": [f.to_dict(orient="list") for f in pops]}  # fmt: skip
    write_text_atomic(path, json.dumps(state))


def _load_checkpoint(path: Path, spec: CalibrationSpec) -> dict[str, Any]:
    import json

    state = json.loads(path.read_text(encoding="utf-8"))
    if state["config"] != json.loads(json.dumps(spec.model_dump())):
        raise ConfigError(f"--resume: {path.parent} was started from a different calibration file; "
                          "run it with the file it was started with, or pass --overwrite")  # fmt: skip
    return state


def abc_smc(
    spec: CalibrationSpec,
    obs: pd.DataFrame,
    executor: Executor,
    base: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: Path | None = None,
) -> dict[str, Any]:
    """Run ABC-SMC; returns populations (a table), the tolerance schedule and the summary. With
    ``checkpoint`` the state after each generation is kept there, and a calibration found there is
    continued from its last finished generation (with the same result as one run without a break)."""
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
    theta = weights = cov = None
    if checkpoint is not None and checkpoint.is_file():
        state = _load_checkpoint(checkpoint, spec)
        pops = [pd.DataFrame(f) for f in state["populations"]]
        eps, done = list(state["tolerances"]), int(state["done"])
        rng.bit_generator.state = state["rng"]
        if pops:
            theta, weights = pops[-1][keys].to_numpy(dtype=float), pops[-1]["weight"].to_numpy(dtype=float)
        if progress:
            progress(done, total)
    for gen in range(len(pops), spec.generations):
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
        mean_series = np.zeros((spec.particles, len(obs)))
        futures = [executor.submit(execute_run, j) for j in jobs]
        for job, fut in zip(jobs, futures, strict=True):
            _, status, payload, _ = fut.result()
            values = observed_values(payload, obs, spec.indicator) if status == "ok" else np.full(len(obs), np.nan)
            i = job.run_id // spec.replicates
            mean_series[i] += values / spec.replicates
            dist[i] += series_distance(values, obs) / spec.replicates
            done += 1
            if progress:
                progress(done, total)
        if spec.replicates > 1 and spec.replicate_distance == "mean_series":  # noise averaged out before comparing
            dist = np.array([series_distance(m, obs) for m in mean_series])
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
        if checkpoint is not None:
            _save_checkpoint(checkpoint, spec, pops, eps, rng, done)
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
    from ..plots.style import DOUBLE, OKABE_ITO, clip_to_range, label, legend_outside, new_figure, style_context

    with style_context():
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
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cluster_config: str | Path | None = None,
) -> tuple[dict[str, Any], Path]:
    """The whole calibration of a calibration file: ABC-SMC, posterior predictive runs, and the outputs in
    ``out`` (default ``experiments/FILE-STEM``): ``posterior.csv``, ``predictive.parquet``,
    ``calibration.json`` and ``fit.png``. Each finished generation is kept (``abc-checkpoint.json``) until
    the calibration ends: ``resume`` continues an interrupted one. Returns the report (what
    calibration.json holds) and the directory. Ctrl-C raises Interrupted saying what was kept."""
    import json

    from ..errors import Interrupted
    from ..io_utils import write_text_atomic
    from ..plots import save_figure
    from .executors import make_executor
    from .store import write_parquet_atomic

    spec, base, obs = load_calibration(file)
    target = Path(out) if out is not None else default_target(Path("experiments") / Path(file).stem, resume=resume,
                                                               overwrite=overwrite)  # fmt: skip
    checkpoint = target / CHECKPOINT
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target} exists and is not a directory")
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite exclude each other; use one")
    if resume and not checkpoint.is_file():
        done = (target / "calibration.json").is_file()
        raise ConfigError(f"--resume: {target} holds {'a finished calibration' if done else 'no interrupted calibration'}; "
                          "nothing to resume")  # fmt: skip
    if resume:
        _load_checkpoint(checkpoint, spec)  # the same file, checked before anything runs
    elif target.exists() and any(target.iterdir()):
        if not ((target / "calibration.json").is_file() or checkpoint.is_file()):
            raise ConfigError(f"--out {target} is not empty and is not a calibration; choose another directory")
        if not overwrite:
            what = "an interrupted calibration; pass --resume to finish it or" if checkpoint.is_file() else "a calibration; pass"
            raise ConfigError(f"--out {target} holds {what} --overwrite to replace it")
        for name in ("posterior.csv", "predictive.parquet", "calibration.json", "fit.png", CHECKPOINT):
            (target / name).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    with make_executor(executor, workers, address, cluster_config) as ex:
        try:
            res = abc_smc(spec, obs, ex, base, progress, checkpoint=checkpoint)
            best_run, pred_runs = predictive_runs(spec, res, ex, base)
        except KeyboardInterrupt:
            kept = len(_load_checkpoint(checkpoint, spec)["populations"]) if checkpoint.is_file() else 0
            raise Interrupted(f"interrupted: {kept} of {spec.generations} generations kept in {target}; "
                              "finish with --resume") from None  # fmt: skip
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
    frames = [] if best_run[1] != "ok" else [best_run[2].assign(draw="best")]
    frames += [r.assign(draw=str(k)) for k, r in enumerate(pred_runs)]
    if frames:
        write_parquet_atomic(pd.concat(frames, ignore_index=True), target / "predictive.parquet")
    write_text_atomic(target / "observed.csv", obs.to_csv(index=False))
    if best_run[1] == "ok":
        save_figure(calibration_figure(target), target / "fit.png")
    write_text_atomic(target / "calibration.json", json.dumps(report, indent=1))  # last: marks it finished
    checkpoint.unlink(missing_ok=True)
    return report, target


def is_calibration_dir(path: Path) -> bool:
    return (Path(path) / "calibration.json").is_file()


def calibration_figure(directory: Path):
    """The fit of a finished calibration directory, from what it stored (observed.csv, predictive.parquet)."""
    import json

    d = Path(directory)
    report = json.loads((d / "calibration.json").read_text(encoding="utf-8")) if (d / "calibration.json").is_file() else {}
    pred = pd.read_parquet(d / "predictive.parquet")
    obs = pd.read_csv(d / "observed.csv") if (d / "observed.csv").is_file() else None
    indicator = report.get("indicator") or next(c for c in pred.columns if c not in ("step", "draw"))
    best = pred[pred["draw"] == "best"].drop(columns="draw").reset_index(drop=True)
    runs = [g.drop(columns="draw").reset_index(drop=True) for k, g in pred.groupby("draw", sort=False) if k != "best"]
    if obs is None:
        obs = pd.DataFrame({"step": [], "value": []})
    return fit_figure(obs, runs, best, indicator, f"{indicator}: ABC-SMC fit")


def posterior_figure(directory: Path):
    """The last generation's weighted marginal posterior of each parameter (histograms over the prior range)."""
    import json

    from ..plots.style import DOUBLE, OKABE_ITO, new_figure, style_context

    d = Path(directory)
    report = json.loads((d / "calibration.json").read_text(encoding="utf-8"))
    post = pd.read_csv(d / "posterior.csv")
    last = post[post["generation"] == post["generation"].max()]
    keys = list(report["config"]["parameters"])
    with style_context():
        fig, axes = new_figure(1, len(keys), figsize=(min(DOUBLE, 2.6 * len(keys) + 0.6), 2.4), squeeze=False)
        for ax, k in zip(axes[0], keys, strict=True):
            lo, hi = report["config"]["parameters"][k]
            ax.hist(last[k], bins=np.linspace(lo, hi, 16), weights=last["weight"], color=OKABE_ITO["blue"], alpha=0.8)
            ax.axvline(report["best"][k], color=OKABE_ITO["vermillion"], ls="--", lw=1.2)
            ax.set_xlim(lo, hi)
            ax.set_xlabel(f"{k} (prior range)")
            ax.set_ylabel("posterior weight")
        axes[0, 0].set_title("last generation; dashed: best particle", loc="left")
    return fig


def query_calibration(directory: Path, sql: str) -> pd.DataFrame:
    """SQL (DuckDB) over a calibration directory's views: posterior (every generation's particles with
    distance and weight), predictive (the best particle's run, draw = 'best', and the posterior predictive
    runs) and observed (step, value)."""
    from .store import query_files

    d = Path(directory)
    return query_files({"posterior": d / "posterior.csv", "predictive": d / "predictive.parquet",
                        "observed": d / "observed.csv"}, sql)  # fmt: skip
