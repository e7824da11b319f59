"""Robustness of the validated statements: one key at a time moved by -20% and +20%.

The keys moved are (a) every numeric key a preset sets itself (the keys that define the scenario; a key
whose value is 0 moves to +-20% of the baseline's value instead, where that is not 0 too, and an integer
key is rounded and dropped when rounding leaves it unchanged) and (b) the ten baseline parameters that a
Morris screening (SALib: elementary effects on the log of long-run overall capability, every numeric
baseline parameter over +-20% of its value; each design point the mean of the same four seeds, so that the
model's run-to-run noise does not rank the parameters) finds most influential. A preset key moves in that preset and
in every preset that extends it without setting the key again; a baseline parameter moves in every arm
(relative to each arm's own value; the appropriability sweep keeps its own values of appropriability).

Each perturbation runs only the arms it touches (16 seeds each; the other arms are the unperturbed runs
of the same seeds) and evaluates the statements that read them: a per-seed statement must pass in at least
:data:`~clusterup.validation.ROBUST_RATE` (80%) of the seeds, a comparison must keep p < 0.01. Each row keeps
the evidence, not only the verdict: a per-seed statement's passes out of the seeds, a comparison's largest p.

With ``keys`` the screening and the preset keys are skipped and only the given keys move, each in every arm
(as a screened key does), by each of ``factors``: a one-at-a-time sweep that maps how far a statement holds
along a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import compiled
from . import validation as v
from .errors import ConfigError
from .params import field_bounds, field_info, load_scenario, preset_keys
from .rng import replicate_seeds
from .simulation import simulate

FACTORS = (0.8, 1.2)
TRAJECTORIES = 4  # Morris trajectories of the screening
REPLICATES = 4  # seeds per design point (common to every point), averaged
SCREENED = 10  # the most influential parameters that move
SCREEN_EXCLUDE = ("run.", "init.early_technology_", "patents.", "pipelines.subsidy")  # not baseline behaviour


def check_sweep(keys: list[str] | None, factors: tuple[float, ...]) -> None:
    """Refuse unknown or non-numeric keys and factors that move nothing (ConfigError: exit 2 at the CLI)."""
    if not factors or any(not (0.0 < f <= 10.0) or f == 1.0 for f in factors):
        raise ConfigError(f"--factors must be numbers in (0, 10] other than 1 (1.2 is +20%); got {list(factors)}")
    for key in keys or []:
        if "[" in key or key.startswith("run."):
            raise ConfigError(f"--keys: {key} cannot be swept; give model parameters (`clusterup parameters` lists them)")
        try:
            info = field_info(key)
        except ConfigError:
            raise ConfigError(f"--keys: unknown parameter {key!r}; `clusterup parameters` lists them") from None
        if info.annotation not in (int, float):
            raise ConfigError(f"--keys: {key} is not numeric; only numeric parameters can be moved")


@dataclass(frozen=True)
class Perturbation:
    key: str
    factor: float
    source: str  # the preset whose key it is, or "morris"

    @property
    def label(self) -> str:
        return f"{self.key} {'-' if self.factor < 1 else '+'}{abs(self.factor - 1):.0%}"


def _value(params: Any, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(params, section), name)


def moved(key: str, value: Any, factor: float, baseline_value: Any = None) -> Any | None:
    """``value`` x ``factor`` within the key's bounds (None when the move is empty); 0 moves relative to the
    baseline's value."""
    info = field_info(key)
    if isinstance(value, bool) or info.annotation is bool:
        return None
    ref = value if value != 0 else (baseline_value or 0)
    new = value + (factor - 1.0) * ref
    lo, lo_open, hi, hi_open = field_bounds(info)
    if lo is not None:
        new = max(new, lo + (1e-9 if lo_open else 0.0))
    if hi is not None:
        new = min(new, hi - (1e-9 if hi_open else 0.0))
    if info.annotation is int:
        new = int(round(new))
    return None if new == value else new


def preset_perturbations() -> list[Perturbation]:
    out = []
    for preset in v.PRESETS:
        if preset in ("baseline", "bass"):
            continue
        _, own = preset_keys(preset)
        base = load_scenario("baseline")
        for key, value in own.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            for f in FACTORS:
                if moved(key, value, f, _value(base, key)) is not None:
                    out.append(Perturbation(key, f, preset))
    return out


def _inherits(preset: str, source: str, key: str) -> bool:
    """Does ``preset`` carry ``source``'s value of ``key`` (it is ``source`` or extends it without resetting)?"""
    while preset is not None:
        if preset == source:
            return True
        parent, own = preset_keys(preset)
        if key in own:
            return False
        preset = parent
    return False


def _screen_job(job: tuple[dict[str, Any], int, int | None, int | None]) -> float:
    overrides, seed, steps, firms = job
    ts = simulate("baseline", seed=seed, steps=steps, firms=firms, overrides=overrides).timeseries
    return math.log(max(v.late_total(ts), 1e-12))


@dataclass(frozen=True)
class Screen:
    """A Morris screening: every screened key's mu* and its bootstrap 95% half-width (SALib), most
    influential first, and what it was run with."""

    ranking: list[tuple[str, float, float]]
    trajectories: int
    replicates: int

    def top(self, count: int = 10) -> list[tuple[str, float]]:
        return [(k, mu) for k, mu, _ in self.ranking[:count]]


def morris_screen(executor: Executor, *, trajectories: int = TRAJECTORIES, replicates: int = REPLICATES,
                  seed: int = v.BASE_SEED, steps: int | None = None, firms: int | None = None) -> Screen:  # fmt: skip
    """Morris mu* of every screened baseline parameter on log long-run overall capability.

    Each design point is run with the same ``replicates`` seeds (common random numbers) and its output is
    the mean over them: with one seed, a stochastic model's run-to-run noise enters every elementary
    effect, and below the few strongest parameters the ranking is noise (every mu* about equal)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    base = load_scenario("baseline")
    keys, bounds = [], []
    for section, values in base.model_dump().items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            key = f"{section}.{name}"
            if key.startswith(SCREEN_EXCLUDE) or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            lo_v, hi_v = moved(key, value, 0.8), moved(key, value, 1.2)
            if lo_v is None or hi_v is None or field_info(key).annotation is int:
                continue  # integers (counts) move in steps the grid cannot resolve; screened out
            keys.append(key)
            bounds.append([float(lo_v), float(hi_v)])
    problem = {"num_vars": len(keys), "names": keys, "bounds": bounds}
    X = morris_sample.sample(problem, trajectories, num_levels=4, seed=seed % (2**32))
    run_seeds = replicate_seeds(seed, replicates)
    jobs = [(dict(zip(keys, map(float, row), strict=True)), s, steps, firms) for row in X for s in run_seeds]
    Y = np.array(list(executor.map(_screen_job, jobs))).reshape(len(X), replicates).mean(axis=1)
    res = morris_analyze.analyze(problem, X, Y, num_levels=4, seed=seed % (2**32))
    mu, conf = np.asarray(res["mu_star"]), np.asarray(res["mu_star_conf"])
    order = np.argsort(-mu, kind="stable")
    return Screen([(keys[i], float(mu[i]), float(conf[i])) for i in order], trajectories, replicates)


def evidence(row: dict[str, Any]) -> dict[str, Any]:
    """What a statement's verdict rests on: passes and seeds (per seed), or the largest p (comparison)."""
    if row["kind"] == "per_seed":
        return {"passes": int(row["passes"]), "n": int(row["n"])}
    return {"p": max(float(c["p"]) for c in row["comparisons"])}


def cell(ok: bool, ev: dict[str, Any] | None) -> str:
    """A table cell: the verdict and its evidence (``pass 15/16``, ``**FAIL** p 0.03``)."""
    verdict = "pass" if ok else "**FAIL**"
    if not ev:
        return verdict
    return f"{verdict} {ev['passes']}/{ev['n']}" if "passes" in ev else f"{verdict} p {ev['p']:.2g}"


def _setter(key: str, values: dict[str, Any]) -> Callable[[str, str], dict[str, Any]]:
    return lambda arm, _preset: {key: values[arm]}


@dataclass
class Robustness:
    firms: int | None
    steps: int | None
    seeds: list[int]
    screened: list[tuple[str, float]]
    rows: list[dict[str, Any]]  # one per perturbation: label, source, value per arm, statement -> holds
    screen: Screen | None = None  # the whole Morris ranking (None for a sweep of given keys)

    @property
    def holds(self) -> bool:
        return all(all(r["statements"].values()) for r in self.rows)

    def payload(self) -> dict[str, Any]:
        out = {"firms": self.firms, "steps": self.steps, "seeds": self.seeds, "rate_floor": v.ROBUST_RATE,
               "p_max": v.P_MAX, "morris": self.screened, "rows": self.rows}  # fmt: skip
        if self.screen is not None:
            ranking = [{"key": k, "mu_star": mu, "mu_star_conf": c} for k, mu, c in self.screen.ranking]
            out["screening"] = {"trajectories": self.screen.trajectories, "seeds_per_point": self.screen.replicates,
                                "ranking": ranking}  # fmt: skip
        return out

    @classmethod
    def from_payload(cls, d: dict[str, Any]) -> Robustness:
        """The result as :meth:`payload` stored it (a robustness JSON file), to redraw its table."""
        sc = d.get("screening")
        screen = None if sc is None else Screen([(r["key"], r["mu_star"], r["mu_star_conf"]) for r in sc["ranking"]],
                                                sc["trajectories"], sc["seeds_per_point"])  # fmt: skip
        return cls(d["firms"], d["steps"], list(d["seeds"]), [tuple(m) for m in d["morris"]], list(d["rows"]), screen)

    def markdown(self) -> str:
        ids = [p.id for p in v.PHENOMENA if p.kind != "benchmark"]
        lines = ["| perturbation | from | " + " | ".join(ids) + " |", "|---|---|" + "---|" * len(ids)]
        for r in self.rows:
            ev = r.get("evidence", {})
            cells = [cell(r["statements"][i], ev.get(i)) if i in r["statements"] else "" for i in ids]
            lines.append(f"| {r['label']} | {r['source']} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def run_robustness(seeds: int = 16, base_seed: int = v.BASE_SEED, *, workers: int = 2, steps: int | None = None,
                   firms: int | None = None, trajectories: int = TRAJECTORIES, screen_seeds: int = REPLICATES,
                   keys: list[str] | None = None,
                   factors: tuple[float, ...] = FACTORS,
                   progress: Callable[[str], None] | None = None) -> Robustness:  # fmt: skip
    """Screen, then run every perturbation and evaluate the statements it touches (with ``keys``: only
    those keys, by each of ``factors``)."""
    v.check_arguments(seeds, workers, base_seed, steps, firms)
    check_sweep(keys, factors)
    say = progress or (lambda _m: None)
    if screen_seeds < 1 or trajectories < 1:
        raise ConfigError(f"--screen-seeds must be an integer >= 1; got {screen_seeds}" if screen_seeds < 1
                          else f"trajectories must be an integer >= 1; got {trajectories}")  # fmt: skip
    screen: Screen | None = None
    compiled.for_workers()  # the workers, forked from here, start with Numba's dispatchers
    with ProcessPoolExecutor(workers) as ex:
        if keys:
            screened: list[tuple[str, float]] = []
            perts = [Perturbation(k, f, "given") for k in keys for f in factors]
        else:
            say("Morris screening of the baseline parameters")
            screen = morris_screen(ex, trajectories=trajectories, replicates=screen_seeds, seed=base_seed, steps=steps,
                                   firms=firms)  # fmt: skip
            screened = screen.top(SCREENED)
            perts = preset_perturbations() + [Perturbation(k, f, "morris") for k, _ in screened for f in factors]
        say(f"unperturbed ensemble ({seeds} seeds)")
        ref = v.run_ensemble(seeds, base_seed, steps=steps, firms=firms, executor=ex, bass=False)
        base = load_scenario("baseline")
        rows = []
        for k, pert in enumerate(perts, 1):
            say(f"[{k}/{len(perts)}] {pert.label}")
            touched: dict[str, Any] = {}
            for arm, preset, ov in v.arms():
                if preset == "bass" or pert.key in ov:
                    continue
                if pert.source not in ("morris", "given") and not _inherits(preset, pert.source, pert.key):
                    continue
                value = _value(load_scenario(preset).with_overrides(ov), pert.key)
                new = moved(pert.key, value, pert.factor, _value(base, pert.key))
                if new is not None:
                    touched[arm] = new
            ens = v.run_ensemble(seeds, base_seed, steps=steps, firms=firms, executor=ex, bass=False,
                                 only=set(touched), overrides=_setter(pert.key, touched))  # fmt: skip
            merged = v.Ensemble(seeds=ref.seeds, runs={**ref.runs, **ens.runs})
            phen = tuple(p for p in v.PHENOMENA if p.kind != "benchmark" and set(p.arms) & set(touched))
            evaluated = v.evaluate(merged, phen, seed=base_seed, rate_floor=v.ROBUST_RATE)
            rows.append({"label": pert.label, "key": pert.key, "factor": pert.factor, "source": pert.source,
                         "values": touched, "statements": {r["id"]: bool(r["holds"]) for r in evaluated},
                         "evidence": {r["id"]: evidence(r) for r in evaluated}})  # fmt: skip
    return Robustness(firms, steps, ref.seeds, screened, rows, screen)
