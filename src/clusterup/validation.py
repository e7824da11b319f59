"""Validation: the phenomena the model must produce, as a declarative table, tested on fresh seeds.

Every statement of :data:`PHENOMENA` names the arms it reads, how it is measured and how it passes
(docs/validation.md states each in full). ``clusterup validate`` runs every preset and the
appropriability sweep for seeds spawned from ``--base-seed`` (every arm runs the same seeds: common random
numbers) and evaluates the table:

- a **per-seed** statement holds when the Wilson 95% lower bound of its pass rate is at least
  :data:`WILSON_FLOOR` (0.7: 100 of the published tables' :data:`SEEDS` = 128 seeds or better, 52 of 64, 28 of 32);
- a **comparison** of ensembles holds when a one-sided test gives p < :data:`P_MAX` (0.01): Mann-Whitney
  on a continuous outcome, Fisher's exact test on a share of seeds; the Vargha-Delaney effect size and its
  bootstrap 95% interval are reported.

The robustness check (:func:`run_robustness`) moves one key at a time by +-20% (the keys the presets set,
and the ten baseline parameters a Morris screening finds most influential) and asks every statement to
pass on 16 seeds (80% of the seeds for a per-seed statement, p < 0.01 for a comparison).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import analysis as an
from . import compiled
from .analysis import stats
from .params import load_scenario
from .rng import replicate_seeds
from .simulation import simulate

PRESETS = ("baseline", "no-integrated", "lock-in", "opportunism", "path2-early-technology",
           "policy-institutions", "policy-pipelines", "policy-ip-protection", "bass")  # fmt: skip
BASS_P, BASS_Q = 0.03, 0.38  # what the bass preset's keys carry (docs/validation.md)
APPROPRIABILITY = (0.0, 0.25, 0.5, 0.75, 1.0)
WILSON_FLOOR = 0.7  # a per-seed statement holds when the Wilson 95% lower bound of its pass rate reaches this
P_MAX = 0.01  # a comparison holds when its one-sided test gives a p-value below this
ROBUST_RATE = 0.8  # under a perturbation, a per-seed statement must still pass in this share of the seeds
SIZES = (150, 300, 1000)  # the cluster sizes (initial firms) the tables are published for
BASE_SEED = 20261216  # the validation seeds are spawned from this base seed, never used in tuning
SEEDS = 128  # seeds per arm of the published tables (32, then 64 on 2026-12-05: too few for a verdict that repeats)
TUNING = ("seed values 0-7 and 100-107; 16-seed sets spawned from base seeds 2026 and 777 and the seeds 777001-777008 "
          "(earlier calibrations); 6-32 seeds spawned from each of base seeds 5001-5018 (the calibrations of 2026-12-01 "
          "and 12-02); 16-96 seeds spawned from each of base seeds 5019-5030 (the calibration of 2026-12-03, the rent's "
          "threshold chosen on 5028-5030); 16-24 seeds from base seeds 5031-5036 (diagnosis of the remaining breaks; the "
          "rent shield chosen on 5035-5036); 12-32 seeds from base seeds 5034-5036 (social crowding chosen, 2026-12-04); "
          "base seeds 20261201, 20261203 and 20261204 (earlier validation seeds, each also used to judge a candidate "
          "that was not adopted); 32 seeds from base seed 5040 and 64 each from 5041 and 5042 (diagnosis of the "
          "failures of 5c at 1,000 firms, 6 and 2 at 150 firms, 2026-12-05; nothing was tuned on them); 64 seeds from each "
          "of base seeds 5043-5047 (replication of 2, 6 and 5c where they were weakest, 2026-12-05; nothing was tuned "
          "on them)")  # fmt: skip


def appropriability_arm(a: float) -> str:
    """The ensemble arm for an appropriability value: the baseline itself at its own value."""
    return "baseline" if a == load_scenario("baseline").technology.appropriability else f"appropriability={a}"


SWEEP_ARMS = tuple(appropriability_arm(a) for a in APPROPRIABILITY)


def arms() -> list[tuple[str, str, dict[str, Any]]]:
    """(arm, preset, overrides) of every arm the statements read: the presets and the appropriability sweep."""
    out: list[tuple[str, str, dict[str, Any]]] = [(p, p, {}) for p in PRESETS]
    out += [(appropriability_arm(a), "baseline", {"technology.appropriability": a}) for a in APPROPRIABILITY]
    return [a for a in out if not (a[0] == "baseline" and a[2])]


@dataclass
class Ensemble:
    seeds: list[int]
    runs: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)

    def get(self, arm: str, seed: int) -> pd.DataFrame:
        return self.runs[(arm, seed)]

    def has(self, arm: str) -> bool:
        return bool(self.seeds) and (arm, self.seeds[0]) in self.runs


# No statement reads the layers' clustering or giant component (the costliest indicators of a small run's
# recorder): the ensembles record them only at the first and last step. Recording changes no dynamics, so every
# statement's numbers are the same (tests/validation/test_unread_network.py).
UNREAD_NETWORK = {"run.network_every": 1_000_000}


def _one(job: tuple[str, int, dict[str, Any], int | None, int | None]) -> pd.DataFrame:
    preset, seed, overrides, steps, firms = job
    return simulate(preset, seed=seed, steps=steps, firms=firms, overrides=overrides).timeseries


def run_ensemble(
    n_seeds: int,
    base_seed: int = BASE_SEED,
    *,
    steps: int | None = None,
    firms: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    overrides: Callable[[str, str], dict[str, Any]] | None = None,
    only: set[str] | None = None,
    bass: bool = True,
) -> Ensemble:
    """Every arm for ``n_seeds`` spawned seeds. ``overrides(arm, preset)`` adds overrides to an arm (the
    robustness check); ``only`` restricts the arms; the bass benchmark keeps its own size."""
    seeds = replicate_seeds(base_seed, n_seeds)
    jobs = []
    for name, preset, ov in arms():
        if (only is not None and name not in only) or (preset == "bass" and not bass):
            continue
        extra = {**UNREAD_NETWORK, **ov, **(overrides(name, preset) if overrides else {})}
        size = (None, None) if preset == "bass" else (steps, firms)
        jobs += [(name, s, (preset, s, extra, *size)) for s in seeds]
    ens = Ensemble(seeds=seeds)
    own = executor is None
    if own:
        compiled.for_workers()  # the worker, forked from here, starts with Numba's dispatchers
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


def late_total(ts: pd.DataFrame, share: float = 0.2) -> float:
    """Long-run overall capability: mean ``cap_total`` over the last ``share`` of the run."""
    return float(ts["cap_total"].iloc[-max(1, int(share * len(ts))) :].mean())


# --------------------------------------------------------------------------------------------
# The statements


@dataclass(frozen=True)
class Comparison:
    """One comparison of two ensembles: does ``x`` tend to exceed ``y``?"""

    label: str
    x: np.ndarray
    y: np.ndarray
    test: Literal["mann-whitney", "fisher"] = "mann-whitney"

    def evaluate(self, rng: np.random.Generator, p_max: float = P_MAX) -> dict[str, Any]:
        x, y = np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=float)
        if self.test == "fisher":
            p = stats.fisher_greater(int(x.sum()), x.size, int(y.sum()), y.size)
            effect, name = stats.difference_of_shares(x, y), "difference of shares"
            ci = stats.bootstrap_ci(stats.difference_of_shares, x, y, rng)
        else:
            p = stats.mann_whitney_greater(x, y)
            effect, name = stats.vargha_delaney(x, y), "Vargha-Delaney A"
            ci = stats.bootstrap_ci(stats.vargha_delaney, x, y, rng)
        return {"label": self.label, "test": self.test, "p": p, "effect": effect, "effect_name": name,
                "ci95": [round(ci[0], 4), round(ci[1], 4)], "means": [float(x.mean()), float(y.mean())],
                "holds": bool(p < p_max)}  # fmt: skip


@dataclass(frozen=True)
class Phenomenon:
    """One statement, declared: its id, title, full statement, measure, the arms it reads, and its test.

    ``per_seed`` tests take (ensemble, seed) and give a bool; ``comparison`` tests take the ensemble and
    give :class:`Comparison` s, all of which must hold; ``benchmark`` tests give (result, holds)."""

    id: str
    title: str
    statement: str
    measure: str
    arms: tuple[str, ...]
    kind: Literal["per_seed", "comparison", "benchmark"]
    test: Callable[..., Any]

    def evaluate(self, ens: Ensemble, rng: np.random.Generator, floor: float = WILSON_FLOOR, p_max: float = P_MAX,
                 rate_floor: float | None = None) -> dict[str, Any]:  # fmt: skip
        """The statement's row. ``rate_floor`` (robustness) replaces the Wilson rule by a plain pass-rate floor."""
        n = len(ens.seeds)
        row: dict[str, Any] = {"id": self.id, "title": self.title, "statement": self.statement, "measure": self.measure,
                               "kind": self.kind, "n": n}  # fmt: skip
        if self.kind == "per_seed":
            passes = int(sum(bool(self.test(ens, s)) for s in ens.seeds))
            lo, hi = stats.wilson(passes, n)
            holds = passes / n >= rate_floor if rate_floor is not None else lo >= floor
            row.update(passes=passes, rate=passes / n, wilson95=[round(lo, 4), round(hi, 4)], holds=bool(holds))
        elif self.kind == "comparison":
            comps = [c.evaluate(rng, p_max) for c in self.test(ens)]
            row.update(comparisons=comps, holds=all(c["holds"] for c in comps))
        else:
            result, holds = self.test(ens)
            row.update(result=result, holds=bool(holds))
        return row


def _seeds(ens: Ensemble, arm: str, f: Callable[[pd.DataFrame], float]) -> np.ndarray:
    return np.array([f(ens.get(arm, s)) for s in ens.seeds], dtype=float)


def _final_total(ts: pd.DataFrame) -> float:
    return float(ts["cap_total"].iloc[-1])


def _new_generation(ts: pd.DataFrame) -> float:
    return float(ts["gen_max"].max() > ts["gen_max"].iloc[0])


def _interior_optimum(ens: Ensemble) -> list[Comparison]:
    curve = {a: _seeds(ens, appropriability_arm(a), late_total) for a in APPROPRIABILITY}
    best = max(APPROPRIABILITY[1:-1], key=lambda a: float(np.median(curve[a])))
    return [Comparison(f"appropriability {best} above {end}", curve[best], curve[end]) for end in (0.0, 1.0)]


def _lever(lever: str) -> Callable[[Ensemble], list[Comparison]]:
    def test(ens: Ensemble) -> list[Comparison]:
        return [
            Comparison(f"{lever} reaches a new generation more often than lock-in", _seeds(ens, lever, _new_generation),
                       _seeds(ens, "lock-in", _new_generation), "fisher"),
            Comparison(f"{lever} ends with a higher cap_total than lock-in", _seeds(ens, lever, _final_total),
                       _seeds(ens, "lock-in", _final_total)),
        ]  # fmt: skip

    return test


def _ip_protection(ens: Ensemble) -> list[Comparison]:
    return [Comparison("policy-ip-protection ends with a higher cap_total than opportunism",
                       _seeds(ens, "policy-ip-protection", _final_total), _seeds(ens, "opportunism", _final_total))]  # fmt: skip


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


def _get(arm: str, f: Callable[[pd.DataFrame], dict], key: str = "holds") -> Callable[[Ensemble, int], bool]:
    return lambda ens, s: f(ens.get(arm, s))[key]


SATURATES = "saturates (mean capability changes < 5% over the last fifth and ends >= 90% of its peak)"
DECLINES = "declines (mean capability ends >= 15% below its peak and cap_total below 80% of its peak)"

PHENOMENA: tuple[Phenomenon, ...] = (
    Phenomenon(
        "1", "Mode mix",
        "In the baseline, imitation is the most attempted mode in the first quarter of the run; the attempt-weighted "
        "mean time of local innovation comes before that of integrated innovation; integrated innovation's share is "
        "higher in the last 40% of the run than in the first 40%.",
        "analysis.mode_mix", ("baseline",), "per_seed", _get("baseline", an.mode_mix)),
    Phenomenon(
        "2", "Innovation-diffusion cycles",
        "The baseline's capability gap (coefficient of variation) widens and narrows at least twice: two peaks of the "
        "5-step mean with a prominence of at least 10% of its range.",
        "analysis.gap_cycles", ("baseline",), "per_seed", _get("baseline", an.gap_cycles)),
    Phenomenon(
        "3a", "Network regimes: dominance",
        "Layer dominance (each layer's share of tie strength) moves social -> economic -> knowledge in the baseline, "
        "each regime lasting at least 5% of the run, knowledge dominant at the end.",
        "analysis.network_regimes (sequence)", ("baseline",), "per_seed",
        _get("baseline", an.network_regimes, "sequence_ok")),
    Phenomenon(
        "3b", "Network regimes: homeostasis",
        "Tie turnover of the whole multiplex is higher within 5% of the run around a switch of regime than inside "
        "the regimes.",
        "analysis.network_regimes (turnover)", ("baseline",), "per_seed",
        _get("baseline", an.network_regimes, "homeostasis")),
    Phenomenon(
        "4", "Path 1",
        f"With integrated innovation switched off (no-integrated), no new generation appears and the cluster {SATURATES}; "
        "it does not decline.",
        "analysis.path1_saturates", ("no-integrated",), "per_seed", _get("no-integrated", an.path1_saturates)),
    Phenomenon(
        "5a", "Jump",
        "The baseline reaches at least one new generation, ends with mean capability at least 1.3x that of the path-1 "
        "run of the same seed, and does not decline.",
        "analysis.jump", ("baseline", "no-integrated"), "per_seed",
        lambda ens, s: an.jump(ens.get("baseline", s), ens.get("no-integrated", s))["holds"]),
    Phenomenon(
        "5b", "Decline by lock-in",
        f"The lock-in scenario (closed, homogeneous network; no organisations or pipelines) {DECLINES} after its plateau, "
        "the path-1 run of the same seed does not, and knowledge diversity fell before capability did (at the step of "
        "mean capability's peak, diversity is at most half its highest value before it).",
        "analysis.lock_in_decline", ("lock-in", "no-integrated"), "per_seed",
        lambda ens, s: an.lock_in_decline(ens.get("lock-in", s), ens.get("no-integrated", s))["holds"]),
    Phenomenon(
        "5c", "Decline by opportunism",
        f"The opportunism scenario (no appropriability) loses R&D (mean R&D propensity ends below 60% of its peak) and "
        f"{DECLINES}.",
        "analysis.opportunism_decline", ("opportunism",), "per_seed", _get("opportunism", an.opportunism_decline)),
    Phenomenon(
        "6", "Path 2",
        "A higher generation seeded early in one firm stays a niche (top-generation share below 0.2 for at least 10% "
        "of the run) while the old generation still grows; once it spreads, mean capability dips at least 2% below "
        "its running maximum, then ends at least 1.2x above that maximum.",
        "analysis.path2", ("path2-early-technology",), "per_seed", _get("path2-early-technology", an.path2)),
    Phenomenon(
        "7", "Interior optimum of appropriability",
        "Across appropriability 0, 0.25, 0.5, 0.75 and 1, long-run overall capability (mean cap_total over the last "
        "20% of the run) is highest at an interior value and above both ends.",
        "one-sided Mann-Whitney: the interior value with the highest median against each end", SWEEP_ARMS,
        "comparison", _interior_optimum),
    Phenomenon(
        "8a", "Lever: supporting organisations",
        "policy-institutions (lock-in plus universities, institutes, platforms, an association) reaches a new "
        "generation in more seeds than lock-in and ends with higher overall capability.",
        "one-sided Fisher test on the share of seeds with a new generation; Mann-Whitney on final cap_total",
        ("policy-institutions", "lock-in"), "comparison", _lever("policy-institutions")),
    Phenomenon(
        "8b", "Lever: global pipelines",
        "policy-pipelines (lock-in plus subsidised pipelines) reaches a new generation in more seeds than lock-in and "
        "ends with higher overall capability.",
        "one-sided Fisher test on the share of seeds with a new generation; Mann-Whitney on final cap_total",
        ("policy-pipelines", "lock-in"), "comparison", _lever("policy-pipelines")),
    Phenomenon(
        "8c", "Instrument: IP protection",
        "policy-ip-protection (opportunism plus patents: protection from imitation and leakage for a term, licences "
        "paid to the innovator) ends with higher overall capability than opportunism.",
        "one-sided Mann-Whitney on final cap_total", ("policy-ip-protection", "opportunism"), "comparison", _ip_protection),
    Phenomenon(
        "4a", "External check: Bass diffusion",
        "The bass preset's ensemble adoption curve is within 0.02 of the Bass closed form at every step and peaks within "
        "one time unit of ln(q/p)/(p+q).",
        "analysis.bass.check (max |mean gen_adopted - F(step / K)|; peak time)", ("bass",), "benchmark", _bass),
)  # fmt: skip


def evaluate(ens: Ensemble, phenomena: tuple[Phenomenon, ...] = PHENOMENA, *, seed: int = 0,
             rate_floor: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """One row per statement whose arms the ensemble holds (bootstrap intervals drawn from ``seed``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    return [p.evaluate(ens, rng, rate_floor=rate_floor) for p in phenomena if all(ens.has(a) for a in p.arms)]


# --------------------------------------------------------------------------------------------
# Running it


@dataclass
class Validation:
    """A validation ensemble at one size and its evaluated statements."""

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
                "wilson_floor": WILSON_FLOOR, "p_max": P_MAX, "rows": self.rows}  # fmt: skip

    def figure(self):
        """The validation figure (docs/validation.md)."""
        from .plots.ensemble import validation_figure

        arms_ = {p: [self.ensemble.get(p, s) for s in self.ensemble.seeds] for p in PRESETS if self.ensemble.has(p)}
        curve = {a: _seeds(self.ensemble, appropriability_arm(a), late_total) for a in APPROPRIABILITY}
        return validation_figure(arms_, curve)


def check_arguments(seeds: int, workers: int, base_seed: int, steps: int | None, firms: int | None) -> None:
    from .errors import ConfigError
    from .simulation import resolve

    for name, value, low in (("--seeds", seeds, 1), ("--workers", workers, 1), ("--base-seed", base_seed, 0)):
        if value < low:
            raise ConfigError(f"{name} must be an integer >= {low}; got {value}")
    if steps is not None or firms is not None:
        resolve("baseline", steps=steps, firms=firms)  # validates the sizes with the usual messages


def run_validation(
    seeds: int = SEEDS,
    base_seed: int = BASE_SEED,
    *,
    workers: int = 2,
    steps: int | None = None,
    firms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Run the validation ensemble on ``workers`` processes and evaluate every statement."""
    check_arguments(seeds, workers, base_seed, steps, firms)
    compiled.for_workers()  # the workers, forked from here, start with Numba's dispatchers
    with ProcessPoolExecutor(workers) as ex:
        ens = run_ensemble(seeds, base_seed, steps=steps, firms=firms, executor=ex, progress=progress)
    return Validation(ens, evaluate(ens, seed=base_seed), base_seed, steps, firms)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The results as the Markdown table docs/validation.md shows (generated, so that it cannot go stale)."""
    lines = ["| # | statement | test | result | holds |", "|---|---|---|---|---|"]
    for r in rows:
        if r["kind"] == "per_seed":
            lo, hi = r["wilson95"]
            result = f"{r['passes']}/{r['n']} seeds ({r['rate']:.0%}); Wilson 95% [{lo:.2f}, {hi:.2f}]"
            test = f"per seed; Wilson lower bound >= {WILSON_FLOOR}"
        elif r["kind"] == "comparison":
            parts = []
            for c in r["comparisons"]:
                lo, hi = c["ci95"]
                parts.append(f"{c['label']}: p = {c['p']:.2g}, {c['effect_name']} {c['effect']:.2f} [{lo:.2f}, {hi:.2f}]")
            result = "; ".join(parts)
            test = f"{r['measure']}; p < {P_MAX}"
        else:
            result = ", ".join(f"{k} {v}" for k, v in r["result"].items())
            test = r["measure"]
        lines.append(f"| {r['id']} | **{r['title']}.** {r['statement']} | {test} | {result} | {'yes' if r['holds'] else 'no'} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Stylised facts the model was not built for (checked, never calibrated)


def _facts_run(job: tuple[int, int | None, int | None]) -> dict[str, Any]:
    from .analysis import facts as F
    from .params import load_scenario as _load
    from .simulation import Simulation

    seed, steps, firms = job
    over: dict[str, Any] = {"run.seed": seed}
    if steps is not None:
        over["run.steps"] = steps
    if firms is not None:
        over["run.firms"] = firms
    sim = Simulation(_load("baseline").with_overrides(over), panel_every=1)
    sim.run()
    r = sim.result()
    last = int(r.timeseries["step"].iloc[-1])
    final = r.panel[r.panel["step"] == last]
    return {"size": F.size_distribution(final["revenue"].to_numpy()), "sizes": final["revenue"].to_numpy(),
            "growth": F.growth_rates(r.panel),
            "mortality": F.infant_mortality(r.lifecycles, last),
            "spinoffs": F.spinoff_survival(r.lifecycles, r.timeseries)}  # fmt: skip


def run_facts(seeds: int = 16, base_seed: int = BASE_SEED, *, workers: int = 2, steps: int | None = None,
              firms: int | None = None, figure: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    """The stylised facts on a baseline ensemble: one row per fact with its measure, the literature's value,
    the model's and whether it holds. ``figure``: a path to draw the facts figure to."""
    from scipy.stats import kurtosis

    from .analysis import facts as F

    check_arguments(seeds, workers, base_seed, steps, firms)
    jobs = [(s, steps, firms) for s in replicate_seeds(base_seed, seeds)]
    compiled.for_workers()  # the workers, forked from here, start with Numba's dispatchers
    with ProcessPoolExecutor(workers) as ex:
        runs = list(ex.map(_facts_run, jobs))
    hills = np.array([r["size"]["hill_top10"] for r in runs])
    shares = np.array([r["size"]["top10_share"] for r in runs])
    zipf = int(np.sum((hills >= 0.7) & (hills <= 1.5)))
    g = np.concatenate([r["growth"] for r in runs])
    kurt = float(kurtosis(g, fisher=False))
    young = np.array([r["mortality"]["hazard_young"] for r in runs])
    old = np.array([r["mortality"]["hazard_old"] for r in runs])
    heritage = F.spinoff_heritage(pd.concat([r["spinoffs"] for r in runs], ignore_index=True))
    if figure is not None:
        from .plots import save_figure
        from .plots.facts import facts_figure

        save_figure(facts_figure([r["sizes"] for r in runs], g), figure)
    lo, hi = stats.wilson(zipf, seeds)
    return [
        {"id": "F1", "fact": "Firm sizes have a heavy, Zipf-like upper tail",
         "measure": "Hill estimate of the Pareto index of final revenue on the largest 10% of firms, per seed; holds "
                    "when it lies in [0.7, 1.5] with a Wilson 95% lower bound of at least 0.7",
         "literature": "Zipf's law: index 1.06 (US firms by employees; Axtell 2001, Science 293:1818)",
         "result": f"median {np.median(hills):.2f} (range {hills.min():.2f}-{hills.max():.2f}); in [0.7, 1.5] in "
                   f"{zipf}/{seeds} seeds, Wilson [{lo:.2f}, {hi:.2f}]; top 10% of firms hold {np.median(shares):.0%} "
                   "of revenue (median)",
         "holds": bool(lo >= WILSON_FLOOR)},
        {"id": "F2", "fact": "Growth rates have fat, tent-shaped tails",
         "measure": "kurtosis of annual (4-step) log revenue growth, demeaned per step, pooled over seeds; holds above 3 "
                    "(the normal's); the Laplace (tent) shape has 6",
         "literature": "Laplace-shaped growth rates (Stanley et al. 1996, Nature 379:804; Bottazzi & Secchi 2006, "
                       "RAND J. Econ. 37:235)",
         "result": f"kurtosis {kurt:.2f} over {g.size} overlapping firm-year windows",
         "holds": bool(kurt > 3.0)},
        {"id": "F3", "fact": "Exit hazard falls with age (infant mortality)",
         "measure": "exits per firm-quarter of entrants younger than 5 years against older ones, per seed; holds when "
                    "young firms' hazard is higher in at least 90% of seeds",
         "literature": "exit rates fall with age and size (Dunne, Roberts & Samuelson 1989, QJE 104:671)",
         "result": f"median {np.median(young):.3f} (young) vs {np.nanmedian(old):.3f} (older) per quarter; young "
                   f"higher in {int(np.sum(young > old))}/{seeds} seeds",
         "holds": bool(np.sum(young > old) >= 0.9 * seeds)},
        {"id": "F4", "fact": "Spin-offs of more capable parents survive longer",
         "measure": "share of spin-offs surviving 5 years, parents above vs below the median capability (relative "
                    "to the cluster's mean at the spin-off's birth), pooled; one-sided Fisher test, p < 0.05",
         "literature": "spin-off heritage: better parents beget longer-lived spin-offs (Klepper 2007, Management "
                       "Science 53:616)",
         "result": f"{heritage.get('survival_strong_parents', float('nan')):.0%} vs "
                   f"{heritage.get('survival_weak_parents', float('nan')):.0%} of {heritage['n']} spin-offs; "
                   + _p_text(heritage.get("p")),
         "holds": bool(heritage["holds"])},
    ]  # fmt: skip


def _p_text(p: float | None) -> str:
    if p is None:
        return "too few spin-offs for a test"
    return f"p = {p:.2g}" if p > 0 else "p < 1e-300 (below double precision)"


def facts_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| # | fact | measure | literature | result | holds |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['fact']} | {r['measure']} | {r['literature']} | {r['result']} | "
                     f"{'yes' if r['holds'] else 'no'} |")  # fmt: skip
    return "\n".join(lines) + "\n"
