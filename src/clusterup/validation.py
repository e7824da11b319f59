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
from typing import Any

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


def evaluate(ens: Ensemble) -> list[dict[str, Any]]:
    """One row per phenomenon statement: id, statement, measure, n, result, holds."""
    n = len(ens.seeds)
    g = ens.get
    rows: list[dict[str, Any]] = []

    def per_seed(pid: str, statement: str, test: Callable[[int], bool]) -> None:
        rate = _rate(ens, test)
        rows.append(
            {
                "id": pid,
                "statement": statement,
                "measure": f"share of seeds (threshold {THRESHOLD:.0%})",
                "n": n,
                "result": rate,
                "holds": rate >= THRESHOLD,
            }
        )

    per_seed(
        "1",
        "mode mix: imitation leads early; local before integrated; integrated share grows",
        lambda s: an.mode_mix(g("baseline", s))["holds"],
    )
    per_seed("2", "capability gap (CV) widens and narrows at least twice", lambda s: an.gap_cycles(g("baseline", s))["holds"])
    per_seed(
        "3a",
        "layer dominance social -> economic -> knowledge, each >= 5% of the run",
        lambda s: an.network_regimes(g("baseline", s))["sequence_ok"],
    )
    per_seed(
        "3b",
        "tie turnover higher around a regime switch than inside regimes",
        lambda s: an.network_regimes(g("baseline", s))["homeostasis"],
    )
    per_seed(
        "4",
        "path 1 (no-integrated): no new generation; mean capability changes < 5% over the last fifth",
        lambda s: an.path1_saturates(g("no-integrated", s))["holds"],
    )
    per_seed(
        "5a",
        "baseline reaches a new generation, ends >= 1.3x path 1's mean capability, does not decline",
        lambda s: an.jump(g("baseline", s), g("no-integrated", s))["holds"],
    )
    per_seed("5b", "lock-in declines", lambda s: an.declined(g("lock-in", s))["holds"])

    def opportunism(s: int) -> bool:
        ts = g("opportunism", s)
        return ts["rd_mean"].iloc[-1] < 0.6 * ts["rd_mean"].max() and an.declined(ts)["holds"]

    per_seed("5c", "opportunism loses R&D (< 60% of peak) and declines", opportunism)
    per_seed(
        "5c-rd",
        "opportunism loses R&D (< 60% of peak)",
        lambda s: g("opportunism", s)["rd_mean"].iloc[-1] < 0.6 * g("opportunism", s)["rd_mean"].max(),
    )
    per_seed(
        "6",
        "path 2: the early generation stays a niche, then a dip of >= 2% and >= 1.2x at the end",
        lambda s: an.path2(g("path2-early-technology", s))["holds"],
    )

    curve = [float(np.mean([late_total(g(appropriability_arm(a), s)) for s in ens.seeds])) for a in APPROPRIABILITY]
    best = int(np.argmax(curve))
    interior = 0 < best < len(curve) - 1 and curve[best] >= 1.1 * max(curve[0], curve[-1])
    rows.append(
        {
            "id": "7",
            "statement": "long-run overall capability is highest at an interior appropriability, >= 1.1x both ends",
            "measure": f"ensemble mean of cap_total over the last 20% of the run, appropriability {list(APPROPRIABILITY)}",
            "n": n,
            "result": [round(c, 1) for c in curve],
            "holds": bool(interior),
        }
    )

    def new_gen(p: str) -> float:
        return _rate(ens, lambda s: g(p, s)["gen_max"].max() > g(p, s)["gen_max"].iloc[0])

    def final_total(p: str) -> float:
        return float(np.mean([g(p, s)["cap_total"].iloc[-1] for s in ens.seeds]))

    for lever in ("policy-institutions", "policy-pipelines"):
        ok = new_gen(lever) > new_gen("lock-in") and final_total(lever) > final_total("lock-in")
        rows.append(
            {
                "id": "8",
                "statement": f"{lever} reaches a new generation in more seeds than lock-in and ends higher",
                "measure": "share of seeds with a new generation; mean final cap_total",
                "n": n,
                "result": {
                    "new_generation": [new_gen(lever), new_gen("lock-in")],
                    "final_cap_total": [round(final_total(lever), 1), round(final_total("lock-in"), 1)],
                },
                "holds": bool(ok),
            }
        )
    from .analysis import bass

    b = bass.check([g("bass", s) for s in ens.seeds], BASS_P, BASS_Q)
    rows.append(
        {
            "id": "4a",
            "statement": "bass preset: ensemble adoption within 0.02 of the Bass closed form at every step, "
            "peak within one time unit of ln(q/p)/(p+q)",
            "measure": "max |mean gen_adopted - F(step / K)| over steps (K steps per Bass time unit); peak time; "
            "the same against discrete Bass",
            "n": n,
            "result": {
                "max_abs_vs_closed_form": round(b["max_abs_vs_closed_form"], 4),
                "peak_time": b["peak_time"],
                "peak_time_closed_form": round(b["peak_time_closed_form"], 2),
                "max_abs_vs_discrete": round(b["max_abs_vs_discrete"], 4),
                "steps_per_unit": b["steps_per_unit"],
            },  # fmt: skip
            "holds": bool(b["max_abs_vs_closed_form"] < 0.02 and abs(b["peak_time"] - b["peak_time_closed_form"]) <= 1.0),
        }
    )
    ip, opp = final_total("policy-ip-protection"), final_total("opportunism")
    rows.append(
        {
            "id": "8",
            "statement": "policy-ip-protection ends above opportunism",
            "measure": "mean final cap_total",
            "n": n,
            "result": [round(ip, 1), round(opp, 1)],
            "holds": bool(ip > opp),
        }
    )
    return rows
