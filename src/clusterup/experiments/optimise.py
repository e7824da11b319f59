"""The cheapest policy mix: a Pareto front of total cost against the probability of an outcome.

A spec names a base scenario (``lock-in``, ``opportunism``, ...), the step from which the levers act (an
intervention in time; 0: from the start), and the levers, each a parameter with a range or a list of
values and a cost per unit. Every candidate mix runs the same ``replicates`` seeds (common random
numbers); its probability is the share of them with the outcome (``jump`` by default: a new generation
and no decline). Optuna's NSGA-II sampler (Deb et al. 2002, IEEE Transactions on Evolutionary
Computation 6:182) proposes the mixes; the study lives in ``study.db`` (SQLite), so an interrupted
search resumes where it stopped. The recommended mix is the cheapest on the front whose probability
reaches ``target``; it is run again on ``confirm`` fresh seeds, and its probability there, with a Wilson
95% interval, is what the recommendation states.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ..errors import ConfigError
from .design import StrictSpec, load_spec

FRESH_SEED_OFFSET = 1_000_003  # the confirmation seeds are spawned from seed + this: never the search's seeds
OUTPUTS = ("study.db", "spec.json", "front.csv", "optimise.json", "front.png", "runs.parquet")  # what a search writes


class LeverSpec(StrictSpec):
    key: str = Field(description="the dotted parameter the lever sets")
    cost: float = Field(ge=0.0, description="cost per unit of the parameter's value")
    low: float | None = Field(None, description="lowest value (with high)")
    high: float | None = Field(None, description="highest value (with low)")
    values: list[float] | None = Field(None, min_length=1, description="the values to choose from (instead of low/high)")

    @model_validator(mode="after")
    def _range(self) -> LeverSpec:
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give either values = [...] or low and high")
        if self.values is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either values = [...] or low and high, not both")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high; got {self.low} and {self.high}")
        return self


class OptimiseSpec(StrictSpec):
    scenario: str = Field("lock-in", description="the base scenario: a preset name or a TOML file")
    at_step: int = Field(0, ge=0, le=1_000_000, description="step from which the levers act (0: from the start)")
    outcome: Literal["jump", "new_generation"] = Field("jump", description="what counts as success")
    replicates: int = Field(8, ge=2, le=10_000, description="seeds each candidate runs (common random numbers)")
    trials: int = Field(40, ge=2, le=100_000, description="candidate mixes to evaluate in all")
    target: float = Field(0.8, gt=0.0, le=1.0, description="probability the recommended mix must reach")
    confirm: int = Field(32, ge=2, le=100_000, description="fresh seeds the recommended mix is run again on")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="root seed of the replicate seeds and of the sampler")
    steps: int | None = Field(None, ge=1, le=1_000_000, description="steps per run")
    firms: int | None = Field(None, ge=2, le=100_000_000, description="initial firms per run")
    levers: dict[str, LeverSpec] = Field(min_length=1, description="lever name -> key, range, cost per unit")


def load_optimise(path: str | Path) -> tuple[OptimiseSpec, Path]:
    spec, base = load_spec(path, OptimiseSpec, "optimise spec")
    from ..params import field_info

    for name, lever in spec.levers.items():
        try:
            field_info(lever.key)
        except ConfigError as exc:
            raise ConfigError(f"levers.{name}.key: {exc}") from None
    return spec, base


def _integer(key: str) -> bool:
    from ..params import field_info

    return field_info(key).annotation is int


def cost_of(spec: OptimiseSpec, mix: dict[str, float]) -> float:
    return float(sum(spec.levers[k].cost * v for k, v in mix.items()))


def scenario_with(spec: OptimiseSpec, mix: dict[str, float], base_dir: Path | None = None) -> dict[str, Any]:
    """The base scenario with the mix applied (from ``at_step`` on, as an intervention), as a plain dict."""
    from ..params import load_scenario

    scenario = spec.scenario
    if base_dir is not None and scenario.endswith(".toml") and not Path(scenario).is_absolute():
        scenario = str(base_dir / scenario)
    setting = {spec.levers[k].key: (int(round(v)) if _integer(spec.levers[k].key) else float(v)) for k, v in mix.items()}
    params = load_scenario(scenario, {"run.steps": spec.steps} if spec.steps else None)
    data = params.model_dump(mode="json")
    if spec.at_step == 0:
        for key, value in setting.items():
            section, _, name = key.partition(".")
            data[section][name] = value
    else:
        policy = {"step": spec.at_step, "set": setting, "label": "policy mix"}
        data["interventions"] = [*data.get("interventions", []), policy]
    return data


def _success(ts: pd.DataFrame, outcome: str) -> bool:
    from ..analysis.discovery import OUTCOMES

    return bool(OUTCOMES[outcome][0](ts))


def run_candidate(job: tuple[dict[str, Any], int, int | None, str]) -> tuple[bool, float]:
    """Worker side: one replicate of one candidate -> (success, final cap_total)."""
    from ..params import from_dict
    from ..simulation import simulate

    data, seed, firms, outcome = job
    ts = simulate(from_dict(data), seed=seed, firms=firms).timeseries
    return _success(ts, outcome), float(ts["cap_total"].iloc[-1])


Evaluate = Callable[[dict[str, float], Sequence[int]], list[bool]]


def simulator(spec: OptimiseSpec, executor, base_dir: Path | None = None, log: list[dict] | None = None) -> Evaluate:
    """The evaluation of a mix on seeds by simulation (on ``executor``); each run is appended to ``log``."""

    def evaluate(mix: dict[str, float], seeds: Sequence[int]) -> list[bool]:
        data = scenario_with(spec, mix, base_dir)
        got = list(executor.map(run_candidate, [(data, s, spec.firms, spec.outcome) for s in seeds]))
        if log is not None:
            log.extend({"phase": evaluate.phase, **mix, "seed": int(s), "success": ok, "final_cap_total": total}
                       for s, (ok, total) in zip(seeds, got, strict=True))  # fmt: skip
        return [ok for ok, _ in got]

    evaluate.phase = "search"  # "confirm" while the recommended mix runs on fresh seeds
    return evaluate


def _suggest(trial, name: str, lever: LeverSpec, integer: bool) -> float:
    if lever.values is not None:
        return float(trial.suggest_categorical(name, [float(v) for v in lever.values]))
    if integer:
        return float(trial.suggest_int(name, int(math.ceil(lever.low)), int(math.floor(lever.high))))
    return float(trial.suggest_float(name, float(lever.low), float(lever.high)))


def search(spec: OptimiseSpec, evaluate: Evaluate, out_dir: Path, *, progress=None) -> Any:
    """Run (or resume) the NSGA-II study in ``out_dir/study.db`` until ``spec.trials`` trials are complete."""
    from ..errors import require

    require("optuna", "decision", "clusterup optimise")
    import optuna

    from ..analysis.stats import wilson
    from ..rng import replicate_seeds

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out_dir / 'study.db').resolve()}"
    study = optuna.create_study(study_name="optimise", storage=storage, load_if_exists=True,
                                directions=["minimize", "maximize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=spec.seed % 2**32))  # fmt: skip
    seeds = replicate_seeds(spec.seed, spec.replicates)
    integers = {name: _integer(lever.key) for name, lever in spec.levers.items()}

    # A mix proposed again (NSGA-II repeats itself on small grids) runs the same seeds to the same result:
    # it is looked up, not simulated again; the trials of a resumed study count.
    done: dict[tuple, int] = {}
    for t in study.trials:
        if t.state == optuna.trial.TrialState.COMPLETE:
            done[tuple(float(t.params[n]) for n in spec.levers)] = int(t.user_attrs["successes"])

    def objective(trial) -> tuple[float, float]:
        mix = {name: _suggest(trial, name, lever, integers[name]) for name, lever in spec.levers.items()}
        key = tuple(mix.values())
        if key not in done:
            done[key] = int(sum(evaluate(mix, seeds)))
        k = done[key]
        ok = [True] * k + [False] * (len(seeds) - k)
        lo, hi = wilson(k, len(ok))
        trial.set_user_attr("successes", k)
        trial.set_user_attr("interval", [lo, hi])
        return cost_of(spec, mix), k / len(ok)

    def complete() -> int:
        return sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)

    while complete() < spec.trials:
        study.optimize(objective, n_trials=1)
        if progress:
            progress(complete(), spec.trials)
    return study


def front_table(study) -> pd.DataFrame:
    """Every distinct mix of the complete trials (the first trial that proposed it) with its cost,
    probability and Wilson interval; ``on_front`` marks the Pareto front (no other mix is at most as costly
    and at least as likely, and better in one)."""
    import optuna

    rows = []
    front = {t.number for t in study.best_trials}
    seen: dict[tuple, int] = {}
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        key = tuple(sorted(t.params.items()))
        if key in seen:  # the same mix again: the same seeds gave the same result (and the same place on the front)
            continue
        seen[key] = t.number
        lo, hi = t.user_attrs["interval"]
        rows.append({"trial": t.number, **t.params, "cost": t.values[0], "probability": t.values[1],
                     "ci_low": lo, "ci_high": hi, "on_front": t.number in front})  # fmt: skip
    return pd.DataFrame(rows).sort_values(["cost", "probability"], ascending=[True, False], ignore_index=True)


def recommend(spec: OptimiseSpec, table: pd.DataFrame, evaluate: Evaluate) -> dict[str, Any] | None:
    """The cheapest front mix reaching the target, confirmed on fresh seeds (None if none reaches it)."""
    from ..analysis.stats import wilson
    from ..rng import replicate_seeds

    front = table[table["on_front"] & (table["probability"] >= spec.target)]
    if front.empty:
        return None
    best = front.sort_values(["cost", "probability"], ascending=[True, False]).iloc[0]
    mix = {name: float(best[name]) for name in spec.levers}
    seeds = replicate_seeds(spec.seed + FRESH_SEED_OFFSET, spec.confirm)
    if hasattr(evaluate, "phase"):
        evaluate.phase = "confirm"
    ok = evaluate(mix, seeds)
    k = int(sum(ok))
    lo, hi = wilson(k, len(ok))
    return {"trial": int(best["trial"]), "mix": mix, "cost": float(best["cost"]),
            "probability_in_search": float(best["probability"]), "fresh_seeds": len(ok), "fresh_successes": k,
            "probability_fresh": k / len(ok), "interval_fresh": [lo, hi]}  # fmt: skip


def figure(table: pd.DataFrame, spec: OptimiseSpec, recommended: dict[str, Any] | None):
    """Cost against probability of every trial (Wilson 95% intervals), the front joined, the target marked."""
    import matplotlib.pyplot as plt

    from ..plots.style import OKABE_ITO, legend_outside, style_context

    c = list(OKABE_ITO.values())
    with style_context():
        fig, ax = plt.subplots(figsize=(7.2, 4.2), constrained_layout=True)
        rest, front = table[~table["on_front"]], table[table["on_front"]].sort_values("cost")
        for part, colour, label in ((rest, "0.6", "other mixes"), (front, c[5], "Pareto front")):
            err = np.vstack([part["probability"] - part["ci_low"], part["ci_high"] - part["probability"]])
            ax.errorbar(part["cost"], part["probability"], yerr=err, fmt="o", ms=4, color=colour, ecolor=colour,
                        elinewidth=0.7, capsize=0, label=label)  # fmt: skip
        ax.step(front["cost"], front["probability"], where="post", color=c[5], lw=1)
        ax.axhline(spec.target, color="0.4", lw=0.8, ls="--", label=f"target {spec.target:g}")
        if recommended is not None:
            p, (lo, hi) = recommended["probability_fresh"], recommended["interval_fresh"]
            ax.errorbar([recommended["cost"]], [p], yerr=[[p - lo], [hi - p]], fmt="D", ms=7, color=c[1], ecolor=c[1],
                        elinewidth=1.2, capsize=3, zorder=5, label="recommended, on fresh seeds")  # fmt: skip
        ax.set(ylim=(-0.02, 1.02), xlabel="total cost of the mix (units of the spec's costs)",
               ylabel=f"probability of {spec.outcome.replace('_', ' ')}", title="Cost against probability")  # fmt: skip
        legend_outside(ax)
    return fig


def prepare(target: Path, spec: OptimiseSpec, *, resume: bool = False, overwrite: bool = False) -> None:
    """Check ``target`` against the overwrite rule before anything runs, then make it and write the spec:
    a new or empty folder; with ``resume`` a study of the same spec; with ``overwrite`` a study, whose own
    files (and nothing else) are removed."""
    from ..io_utils import write_text_atomic

    if resume and overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target} exists and is not a directory")
    spec_json = json.dumps(spec.model_dump(mode="json"), indent=1, sort_keys=True)
    if target.exists() and any(target.iterdir()):
        if not is_optimise_dir(target):
            raise ConfigError(f"--{'resume' if resume else 'out'}: {target} is not empty and holds no optimise study; "
                              "choose another directory")  # fmt: skip
        if resume:
            if json.loads((target / "spec.json").read_text(encoding="utf-8")) != json.loads(spec_json):
                raise ConfigError(f"--resume: {target} holds a study of another spec; use another --out or --overwrite")
        elif overwrite:
            for name in OUTPUTS:
                (target / name).unlink(missing_ok=True)
        else:
            raise ConfigError(f"--out {target} holds a study; pass --resume to continue it or --overwrite to replace it")
    elif resume:
        raise ConfigError(f"--resume: {target} holds no study to continue")
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / "spec.json", spec_json)


def append_runs(out_dir: Path, runs: list[dict[str, Any]]) -> Path | None:
    """Add ``runs`` to ``runs.parquet`` (a run already there, from a resumed study, is not added again)."""
    from .store import write_parquet_atomic

    if not runs:
        return None
    path = out_dir / "runs.parquet"
    old = pd.read_parquet(path) if path.is_file() else None
    both = pd.DataFrame(runs) if old is None else pd.concat([old, pd.DataFrame(runs)], ignore_index=True)
    key = [c for c in both.columns if c not in ("success", "final_cap_total")]
    write_parquet_atomic(both.drop_duplicates(subset=key, ignore_index=True), path)
    return path


def write_outputs(out_dir: Path, spec: OptimiseSpec, table: pd.DataFrame, recommended: dict[str, Any] | None,
                  runs: list[dict[str, Any]]) -> list[Path]:  # fmt: skip
    from ..io_utils import write_text_atomic
    from ..plots import save_figure

    files = [out_dir / "front.csv", out_dir / "optimise.json", out_dir / "front.png"]
    write_text_atomic(files[0], table.to_csv(index=False))
    write_text_atomic(files[1], json.dumps({"spec": spec.model_dump(), "trials": int(len(table)),
                                            "front": table[table["on_front"]].to_dict("records"),
                                            "recommended": recommended}, indent=1, default=float))  # fmt: skip
    save_figure(figure(table, spec, recommended), files[2])
    path = append_runs(out_dir, runs)
    return files + ([path] if path is not None else [])


def is_optimise_dir(path: Path) -> bool:
    return (Path(path) / "study.db").is_file() and (Path(path) / "spec.json").is_file()


def query_optimise(directory: Path, sql: str) -> pd.DataFrame:
    """SQL (DuckDB) over a policy-mix search: the views ``runs`` (every run: phase, mix, seed, success,
    final_cap_total) and ``front`` (every distinct mix with cost, probability and interval, ``on_front``)."""
    from .store import query_files

    d = Path(directory)
    return query_files({"runs": d / "runs.parquet", "front": d / "front.csv"}, sql)
