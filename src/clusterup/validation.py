"""The phenomena of the model brief (section 6) as ensemble statements, measured on fresh runs.

``clusterup validate --seeds 16 --workers 2`` runs every preset (and the appropriability sweep) for
each seed and reports, per phenomenon, the share of seeds in which it holds (or the ensemble
statement's outcome). Seeds are spawned from ``--base-seed`` with ``SeedSequence``; every arm of a
comparison uses the same seeds (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import analysis as an
from .params import load_scenario
from .rng import replicate_seeds
from .simulation import simulate

PRESETS = ("baseline", "no-integrated", "lock-in", "opportunism", "path2-early-technology",
           "policy-institutions", "policy-pipelines", "policy-ip-protection", "bass")  # fmt: skip
BASS_P, BASS_Q = 0.03, 0.38  # what the bass preset's keys carry (docs/validation.md)
APPROPRIABILITY = (0.0, 0.25, 0.5, 0.75, 1.0)


def appropriability_arm(a: float) -> str:
    """The ensemble arm for an appropriability value: the baseline itself at its own value."""
    return "baseline" if a == load_scenario("baseline").technology.appropriability else f"appropriability={a}"


THRESHOLD = 0.8  # a per-seed phenomenon must hold in at least this share of seeds


@dataclass
class Ensemble:
    seeds: list[int]
    runs: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)

    def get(self, arm: str, seed: int) -> pd.DataFrame:
        return self.runs[(arm, seed)]


def _one(job: tuple[str, int, dict[str, Any], int | None, int | None]) -> pd.DataFrame:
    preset, seed, overrides, steps, firms = job
    return simulate(preset, seed=seed, steps=steps, firms=firms, overrides=overrides).timeseries


def run_ensemble(
    n_seeds: int,
    base_seed: int = 2026,
    *,
    steps: int | None = None,
    firms: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Ensemble:
    """Every preset and the appropriability sweep (on the baseline) for ``n_seeds`` spawned seeds."""
    seeds = replicate_seeds(base_seed, n_seeds)
    arms: list[tuple[str, str, dict[str, Any]]] = [(p, p, {}) for p in PRESETS]
    sweep = [(appropriability_arm(a), a) for a in APPROPRIABILITY]
    arms += [(name, "baseline", {"technology.appropriability": a}) for name, a in sweep if name != "baseline"]
    # the bass benchmark keeps its own size (10,000 firms, 250 steps): --steps/--firms are the cluster presets'
    jobs = [(name, s, (preset, s, ov, None if preset == "bass" else steps, None if preset == "bass" else firms))
            for name, preset, ov in arms for s in seeds]  # fmt: skip
    ens = Ensemble(seeds=seeds)
    own = executor is None
    ex = executor or ProcessPoolExecutor(1)
    try:
        futures = [(name, s, ex.submit(_one, job)) for name, s, job in jobs]
        for k, (name, s, fut) in enumerate(futures, 1):
            ens.runs[(name, s)] = fut.result()
            if progress:
                progress(k, len(futures))
    finally:
        if own:
            ex.shutdown()
    return ens


def _rate(ens: Ensemble, test: Callable[[int], bool]) -> float:
    return float(np.mean([bool(test(s)) for s in ens.seeds]))


def late_total(ts: pd.DataFrame, share: float = 0.2) -> float:
    """Long-run overall capability: mean ``cap_total`` over the last ``share`` of the run."""
    return float(ts["cap_total"].iloc[-max(1, int(share * len(ts))) :].mean())


@dataclass(frozen=True)
class Phenomenon:
    """One statement of the model brief, declared: what it says, how it is measured, which arms it reads,
    and how it passes. ``per_seed`` tests take (ensemble, seed) and give a bool (the statement holds when
    it holds in at least ``THRESHOLD`` of the seeds); ``ensemble`` tests take the ensemble and give
    (result, holds)."""

    id: str
    statement: str
    measure: str
    arms: tuple[str, ...]
    kind: Literal["per_seed", "ensemble"]
    test: Callable[..., Any]

    def evaluate(self, ens: Ensemble) -> dict[str, Any]:
        n = len(ens.seeds)
        if self.kind == "per_seed":
            rate = _rate(ens, lambda s: self.test(ens, s))
            return {"id": self.id, "statement": self.statement, "measure": self.measure, "n": n, "result": rate,
                    "holds": rate >= THRESHOLD}  # fmt: skip
        result, holds = self.test(ens)
        return {"id": self.id, "statement": self.statement, "measure": self.measure, "n": n, "result": result,
                "holds": bool(holds)}  # fmt: skip


PER_SEED = f"share of seeds (threshold {THRESHOLD:.0%})"


def _opportunism(ens: Ensemble, s: int) -> bool:
    ts = ens.get("opportunism", s)
    return ts["rd_mean"].iloc[-1] < 0.6 * ts["rd_mean"].max() and an.declined(ts)["holds"]


def _lost_rd(ens: Ensemble, s: int) -> bool:
    ts = ens.get("opportunism", s)
    return ts["rd_mean"].iloc[-1] < 0.6 * ts["rd_mean"].max()


def _interior_optimum(ens: Ensemble) -> tuple[Any, bool]:
    curve = [float(np.mean([late_total(ens.get(appropriability_arm(a), s)) for s in ens.seeds])) for a in APPROPRIABILITY]
    best = int(np.argmax(curve))
    interior = 0 < best < len(curve) - 1 and curve[best] >= 1.1 * max(curve[0], curve[-1])
    return [round(c, 1) for c in curve], interior


def _new_gen(ens: Ensemble, p: str) -> float:
    return _rate(ens, lambda s: ens.get(p, s)["gen_max"].max() > ens.get(p, s)["gen_max"].iloc[0])


def _final_total(ens: Ensemble, p: str) -> float:
    return float(np.mean([ens.get(p, s)["cap_total"].iloc[-1] for s in ens.seeds]))


def _lever(lever: str) -> Callable[[Ensemble], tuple[Any, bool]]:
    def test(ens: Ensemble) -> tuple[Any, bool]:
        ok = _new_gen(ens, lever) > _new_gen(ens, "lock-in") and _final_total(ens, lever) > _final_total(ens, "lock-in")
        result = {"new_generation": [_new_gen(ens, lever), _new_gen(ens, "lock-in")],
                  "final_cap_total": [round(_final_total(ens, lever), 1), round(_final_total(ens, "lock-in"), 1)]}  # fmt: skip
        return result, ok

    return test


def _bass(ens: Ensemble) -> tuple[Any, bool]:
    from .analysis import bass

    b = bass.check([ens.get("bass", s) for s in ens.seeds], BASS_P, BASS_Q)
    result = {
        "max_abs_vs_closed_form": round(b["max_abs_vs_closed_form"], 4),
        "peak_time": b["peak_time"],
        "peak_time_closed_form": round(b["peak_time_closed_form"], 2),
        "max_abs_vs_discrete": round(b["max_abs_vs_discrete"], 4),
        "steps_per_unit": b["steps_per_unit"],
    }
    return result, b["max_abs_vs_closed_form"] < 0.02 and abs(b["peak_time"] - b["peak_time_closed_form"]) <= 1.0


def _ip_protection(ens: Ensemble) -> tuple[Any, bool]:
    ip, opp = _final_total(ens, "policy-ip-protection"), _final_total(ens, "opportunism")
    return [round(ip, 1), round(opp, 1)], ip > opp


SWEEP_ARMS = tuple(appropriability_arm(a) for a in APPROPRIABILITY)

PHENOMENA: tuple[Phenomenon, ...] = (
    Phenomenon("1", "mode mix: imitation leads early; local before integrated; integrated share grows", PER_SEED,
               ("baseline",), "per_seed", lambda ens, s: an.mode_mix(ens.get("baseline", s))["holds"]),
    Phenomenon("2", "capability gap (CV) widens and narrows at least twice", PER_SEED, ("baseline",), "per_seed",
               lambda ens, s: an.gap_cycles(ens.get("baseline", s))["holds"]),
    Phenomenon("3a", "layer dominance social -> economic -> knowledge, each >= 5% of the run", PER_SEED, ("baseline",),
               "per_seed", lambda ens, s: an.network_regimes(ens.get("baseline", s))["sequence_ok"]),
    Phenomenon("3b", "tie turnover higher around a regime switch than inside regimes", PER_SEED, ("baseline",), "per_seed",
               lambda ens, s: an.network_regimes(ens.get("baseline", s))["homeostasis"]),
    Phenomenon("4", "path 1 (no-integrated): no new generation; mean capability changes < 5% over the last fifth", PER_SEED,
               ("no-integrated",), "per_seed", lambda ens, s: an.path1_saturates(ens.get("no-integrated", s))["holds"]),
    Phenomenon("5a", "baseline reaches a new generation, ends >= 1.3x path 1's mean capability, does not decline", PER_SEED,
               ("baseline", "no-integrated"), "per_seed",
               lambda ens, s: an.jump(ens.get("baseline", s), ens.get("no-integrated", s))["holds"]),
    Phenomenon("5b", "lock-in declines", PER_SEED, ("lock-in",), "per_seed",
               lambda ens, s: an.declined(ens.get("lock-in", s))["holds"]),
    Phenomenon("5c", "opportunism loses R&D (< 60% of peak) and declines", PER_SEED, ("opportunism",), "per_seed",
               _opportunism),
    Phenomenon("5c-rd", "opportunism loses R&D (< 60% of peak)", PER_SEED, ("opportunism",), "per_seed", _lost_rd),
    Phenomenon("6", "path 2: the early generation stays a niche, then a dip of >= 2% and >= 1.2x at the end", PER_SEED,
               ("path2-early-technology",), "per_seed",
               lambda ens, s: an.path2(ens.get("path2-early-technology", s))["holds"]),
    Phenomenon("7", "long-run overall capability is highest at an interior appropriability, >= 1.1x both ends",
               f"ensemble mean of cap_total over the last 20% of the run, appropriability {list(APPROPRIABILITY)}",
               SWEEP_ARMS, "ensemble", _interior_optimum),
    *(Phenomenon("8", f"{lever} reaches a new generation in more seeds than lock-in and ends higher",
                 "share of seeds with a new generation; mean final cap_total", (lever, "lock-in"), "ensemble", _lever(lever))
      for lever in ("policy-institutions", "policy-pipelines")),
    Phenomenon("4a", "bass preset: ensemble adoption within 0.02 of the Bass closed form at every step, "
               "peak within one time unit of ln(q/p)/(p+q)",
               "max |mean gen_adopted - F(step / K)| over steps (K steps per Bass time unit); peak time; "
               "the same against discrete Bass", ("bass",), "ensemble", _bass),
    Phenomenon("8", "policy-ip-protection ends above opportunism", "mean final cap_total",
               ("policy-ip-protection", "opportunism"), "ensemble", _ip_protection),
)  # fmt: skip


def evaluate(ens: Ensemble, phenomena: tuple[Phenomenon, ...] = PHENOMENA) -> list[dict[str, Any]]:
    """One row per phenomenon statement: id, statement, measure, n, result, holds."""
    return [p.evaluate(ens) for p in phenomena]


@dataclass
class Validation:
    """A validation ensemble and its evaluated statements."""

    ensemble: Ensemble
    rows: list[dict[str, Any]]
    base_seed: int
    steps: int | None
    firms: int | None

    @property
    def holds(self) -> bool:
        return all(r["holds"] for r in self.rows)

    def payload(self) -> dict[str, Any]:
        """What ``--out`` writes as JSON."""
        return {"seeds": self.ensemble.seeds, "base_seed": self.base_seed, "steps": self.steps, "firms": self.firms,
                "rows": self.rows}  # fmt: skip

    def figure(self):
        """The validation figure (docs/validation.md)."""
        from .plots.ensemble import validation_figure

        arms = {p: [self.ensemble.get(p, s) for s in self.ensemble.seeds] for p in PRESETS}
        curve = next(r["result"] for r in self.rows if r["id"] == "7")
        return validation_figure(arms, curve, list(APPROPRIABILITY))


def run_validation(
    seeds: int = 16,
    base_seed: int = 2026,
    *,
    workers: int = 2,
    steps: int | None = None,
    firms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Run the validation ensemble on ``workers`` processes and evaluate every statement."""
    from .errors import ConfigError
    from .simulation import resolve

    for name, value, low in (("--seeds", seeds, 1), ("--workers", workers, 1), ("--base-seed", base_seed, 0)):
        if value < low:
            raise ConfigError(f"{name} must be an integer >= {low}; got {value}")
    if steps is not None or firms is not None:
        resolve("baseline", steps=steps, firms=firms)  # validates the sizes with the usual messages
    with ProcessPoolExecutor(workers) as ex:
        ens = run_ensemble(seeds, base_seed, steps=steps, firms=firms, executor=ex, progress=progress)
    return Validation(ens, evaluate(ens), base_seed, steps, firms)
