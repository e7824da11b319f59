"""What the explorer shows and runs, without any UI: the sliders, the run, the figures.

Kept apart from the Solara page so that it is tested directly and the page stays thin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ..errors import ConfigError
from ..params import Params, field_bounds, load_scenario
from ..plots.style import DOUBLE, house_style, label, new_figure
from ..result import Result
from ..simulation import Simulation


@dataclass(frozen=True)
class Slider:
    key: str
    lo: float
    hi: float
    step: float
    integer: bool
    description: str

    @property
    def section(self) -> str:
        return self.key.split(".")[0]

    @property
    def name(self) -> str:
        return self.key.split(".")[1]


# the main parameters, grouped by process; practical ranges within each parameter's allowed interval
MAIN: list[tuple[str, float | None, float | None, float]] = [
    ("run.steps", 20, 400, 10),
    ("run.firms", 20, 1500, 10),
    ("run.seed", 0, 999, 1),
    ("technology.appropriability", None, None, 0.05),
    ("imitation.rate", None, None, 0.05),
    ("local.rate", 0.0, 1.0, 0.05),
    ("integrated.success", None, None, 0.05),
    ("spillover.rate", 0.0, 3.0, 0.1),
    ("rd_learning.review", None, None, 0.05),
    ("market.rd_cost", None, None, 0.05),
    ("organisations.universities", 0, 10, 1),
    ("organisations.institutes", 0, 10, 1),
    ("pipelines.rate", 0.0, 0.1, 0.005),
    ("pipelines.subsidy", 0.0, 10.0, 0.5),
    ("demography.entry_rate", 0.0, 0.5, 0.01),
]


def _info(key: str) -> Any:
    sec, name = key.split(".")
    return Params.model_fields[sec].annotation.model_fields[name]  # type: ignore[union-attr]


def sliders() -> list[Slider]:
    out = []
    for key, lo, hi, step in MAIN:
        info = _info(key)
        b_lo, _, b_hi, _ = field_bounds(info)
        lo = b_lo if lo is None else max(lo, b_lo if b_lo is not None else lo)
        hi = b_hi if hi is None else min(hi, b_hi if b_hi is not None else hi)
        out.append(Slider(key, float(lo), float(hi), float(step), info.annotation is int, info.description or ""))
    return out


@dataclass(frozen=True)
class Entry:
    """One parameter as the explorer's full list shows it: a typed box with its allowed range."""

    key: str
    kind: str  # "float", "int" or "bool"
    lo: float | None
    hi: float | None
    description: str
    allowed: str

    @property
    def section(self) -> str:
        return self.key.split(".")[0]


@cache
def _all_entries() -> tuple[Entry, ...]:
    """The full list, built once (the parameter reference does not change while the explorer runs)."""
    from ..params import describe_parameters

    out = []
    for key, typ, rng, desc in describe_parameters():
        info = _info(key)
        kind = "bool" if info.annotation is bool else "int" if info.annotation is int else "float"
        lo, _, hi, _ = field_bounds(info)
        out.append(Entry(key, kind, lo, hi, desc, f"{typ}, {rng}" if rng else typ))
    return tuple(out)


def entries(search: str = "", section: str | None = None) -> list[Entry]:
    """Every parameter (the same reference as ``clusterup parameters``), optionally those of one section or
    those whose key or description contains ``search``."""
    out = list(_all_entries())
    if section:
        out = [e for e in out if e.section == section]
    if search:
        word = search.lower()
        out = [e for e in out if word in e.key.lower() or word in e.description.lower()]
    return out


def entry(key: str) -> Entry:
    """The entry of one dotted key."""
    return next(e for e in _all_entries() if e.key == key)


def sections() -> list[str]:
    """The parameter sections: the core ones, then one per process, in the order of the reference."""
    return list(dict.fromkeys(e.section for e in entries()))


def parse_entry(entry: Entry, text: str) -> Any:
    """The typed value of a box's text, or a ConfigError naming the parameter and what it allows."""
    from ..errors import ConfigError

    t = text.strip()
    try:
        if entry.kind == "bool":
            if t.lower() not in ("true", "false"):
                raise ValueError
            return t.lower() == "true"
        return int(t) if entry.kind == "int" else float(t)
    except ValueError:
        raise ConfigError(f"{entry.key} must be {entry.allowed}; got {text!r}") from None


def values_of(params: Params) -> dict[str, float]:
    d = params.to_dict()
    return {s.key: d[s.section][s.name] for s in sliders()}


def configure(preset: str, values: dict[str, float], extra: dict[str, Any] | None = None,
              interventions: list[dict[str, Any]] | None = None) -> Params:  # fmt: skip
    """The preset with the slider values (integers rounded), any other parameters (``extra``, typed) and
    the interventions added in the explorer (after the preset's own) applied, validated (a ConfigError
    names a value out of range or an intervention that does not fit)."""
    ints = {s.key for s in sliders() if s.integer}
    overrides: dict[str, Any] = {k: (int(round(v)) if k in ints else float(v)) for k, v in values.items()}
    overrides.update(extra or {})
    params = load_scenario(preset, overrides)
    if not interventions:
        return params
    from ..params import from_dict

    data = params.model_dump(mode="json")
    data["interventions"] = [*data.get("interventions", []), *interventions]
    return from_dict(data)


def intervention(step_text: str, key: str, value_text: str) -> dict[str, Any]:
    """An intervention typed in the explorer (from step ``step_text`` on, ``key`` = ``value_text``), its value
    parsed by the parameter's type; a ConfigError names what is wrong."""
    try:
        step = int(step_text)
    except ValueError:
        raise ConfigError(f"the intervention's step must be a whole number; got {step_text!r}") from None
    found = next((e for e in _all_entries() if e.key == key.strip()), None)
    if found is None:
        raise ConfigError(f"unknown parameter {key.strip()!r} (see `clusterup parameters`)")
    return {"step": step, "set": {found.key: parse_entry(found, value_text)}}


def warning_scores(ts: pd.DataFrame) -> tuple[Any, int | None, float]:
    """The warning score at every step of a (partial) time series, its first alarm so far, and the alarm
    threshold (the shipped model; docs/decision.md)."""
    from ..analysis import warning as W

    model = W.default_model()
    r = W.warn_run(ts, model)
    return r.frame["score"].to_numpy(), r.alarm, model.threshold


def warning_now(ts: pd.DataFrame) -> tuple[float, int | None, float]:
    """The warning score at the last step, the first alarm so far and the threshold."""
    scores, alarm, threshold = warning_scores(ts)
    return float(scores[-1]), alarm, threshold


def run(
    params: Params,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    snapshots: int = 4,
    partial: Callable[[pd.DataFrame], None] | None = None,
    partial_every: int = 0,
) -> Result | None:
    """Run with about ``snapshots`` network snapshots; None if ``should_stop`` says so midway.

    ``partial(frame)`` receives the time series so far every ``partial_every`` steps (to watch a run)."""
    every = max(1, params.run.steps // snapshots)
    sim = Simulation(params, snapshot_every=every, panel_every=1)  # the panel feeds the firm view
    total = params.run.steps
    for done in sim.iterate():
        if progress:
            progress(done, total)
        if partial and partial_every and done % partial_every == 0 and not sim.finished:
            partial(sim.timeseries)
        if should_stop and should_stop():
            return None
    return sim.result()


@house_style
def live_figure(ts: pd.DataFrame, total: int, warning: tuple | None = None) -> Figure:
    """The capability path so far, on the run's full time axis, and the warning score below it (drawn
    while a run is going; ``warning`` is what :func:`warning_scores` gave for ``ts``, computed if not given)."""
    fig, (ax, wx) = new_figure(figsize=(DOUBLE, 4.4), nrows=2, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    scores, _, threshold = warning if warning is not None else warning_scores(ts)
    wx.plot(ts["step"], scores, color="#0072B2", lw=1.2)
    wx.axhline(threshold, color="0.4", lw=0.8, ls="--")
    wx.set_ylim(0, 1)
    wx.set_ylabel("warning score\n(probability of decline)")
    wx.set_xlabel(label("step"))
    ax.plot(ts["step"], ts["cap_total"], color="black", lw=1.6)
    ax.set_xlim(0, total)
    ax.set_ylim(0, max(float(ts["cap_total"].max()) * 1.1, 1e-9))
    ax.set_ylabel("overall innovation capability\n(sum over firms, index)")
    ax.set_title(f"running: quarter {int(ts['step'].iloc[-1])} of {total}, generations reached {int(ts['gen_max'].max())}",
                 loc="left")  # fmt: skip
    return fig


def summary_line(result: Result) -> str:
    s = result.summary()
    return (f"final overall capability {s['cap_total']:.1f} (mean {s['cap_mean']:.3f}); {s['firms']} firms; "
            f"generations reached {s['generations_reached']}")  # fmt: skip


def capability_figure(ts: pd.DataFrame, title: str = "") -> Figure:
    from ..plots import figure2

    return figure2([ts], title=title)


def overview_figure(ts: pd.DataFrame, title: str = "") -> Figure:
    from ..plots import overview

    return overview(ts, title)


@house_style
def network_figure(result: Result, step: int) -> Figure:
    from ..plots.figure1 import draw_network, network_legend

    nodes, ties = result.snapshots[step]
    fig, ax = new_figure(figsize=(DOUBLE * 0.6, DOUBLE * 0.6 + 0.6))
    drawn = draw_network(ax, nodes, ties)
    ax.set_title(f"the multiplex network in quarter {step} ({drawn:,} strongest of {len(ties):,} ties)", loc="left")
    network_legend(fig, ncol=3)
    return fig


FIRM_COLUMNS = ["id", "kind", "capability", "generation", "mode", "segment", "age", "rd", "revenue", "scale", "parent"]


def firms_table(result: Result) -> pd.DataFrame:
    """The final firms and organisations (largest capability first), with their tie counts per layer."""
    firms = result.firms[[c for c in FIRM_COLUMNS if c in result.firms]].copy()
    for layer in ("social", "economic", "knowledge"):
        t = result.ties[result.ties["layer"] == layer]
        counts = pd.concat([t["source"], t["target"]]).value_counts()
        firms[f"{layer} ties"] = firms["id"].map(counts).fillna(0).astype(int)
    firms = firms.sort_values("capability", ascending=False, ignore_index=True)
    return firms.round({c: 4 for c in ("capability", "rd", "revenue", "scale") if c in firms})


def firm_ties(result: Result, firm: int) -> pd.DataFrame:
    """The final ties of one node: layer, partner, the partner's kind, weight (strongest first)."""
    t = result.ties
    mine = t[(t["source"] == firm) | (t["target"] == firm)]
    partner = mine["target"].where(mine["source"] == firm, mine["source"])
    kind = result.firms.set_index("id")["kind"]
    out = pd.DataFrame({"layer": mine["layer"].astype(str).to_numpy(), "partner": partner.to_numpy(),
                        "partner kind": partner.map(kind).astype(str).to_numpy(), "weight": mine["weight"].to_numpy()})  # fmt: skip
    return out.sort_values("weight", ascending=False, ignore_index=True)


@house_style
def firm_figure(result: Result, firm: int) -> Figure:
    """One firm's trajectory from the panel: capability against the cluster's mean, and its generation."""
    from matplotlib.ticker import MaxNLocator

    from ..plots.style import OKABE_ITO, legend_above

    p = result.panel[result.panel["id"] == firm]
    fig, (a, b) = new_figure(2, 1, figsize=(DOUBLE * 0.8, 3.8), sharex=True)
    ts = result.timeseries
    a.plot(ts["step"], ts["cap_mean"], color=OKABE_ITO["grey"], ls="--", label="cluster mean")
    a.plot(p["step"], p["capability"], color=OKABE_ITO["blue"], lw=1.6, label=f"firm {firm}")
    a.set_ylabel("capability (index)")
    a.set_ylim(bottom=0)
    legend_above(a)
    b.plot(p["step"], p["generation"], color="black", drawstyle="steps-post")
    b.set_ylim(0, max(1.0, float(p["generation"].max()) if len(p) else 1.0) + 0.3)
    b.yaxis.set_major_locator(MaxNLocator(integer=True))
    b.set_ylabel("technology\ngeneration")
    b.set_xlabel(label("step"))
    b.set_xlim(0, int(ts["step"].iloc[-1]))
    return fig


def differences(a: Params, b: Params) -> list[tuple[str, Any, Any]]:
    da, db = a.to_dict(), b.to_dict()
    out = []
    for sec in da:
        if isinstance(da[sec], dict):
            for k in da[sec]:
                if da[sec][k] != db[sec][k]:
                    out.append((f"{sec}.{k}", da[sec][k], db[sec][k]))
        elif da[sec] != db[sec]:
            out.append((sec, da[sec], db[sec]))
    return out
