"""What the explorer shows and runs, without any UI: the sliders, the run, the figures.

Kept apart from the Solara page so that it is tested directly and the page stays thin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

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


def values_of(params: Params) -> dict[str, float]:
    d = params.to_dict()
    return {s.key: d[s.section][s.name] for s in sliders()}


def configure(preset: str, values: dict[str, float]) -> Params:
    """The preset with the slider values applied (integers rounded), validated."""
    ints = {s.key for s in sliders() if s.integer}
    return load_scenario(preset, {k: (int(round(v)) if k in ints else float(v)) for k, v in values.items()})


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
    sim = Simulation(params, snapshot_every=every)
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
def live_figure(ts: pd.DataFrame, total: int) -> Figure:
    """The capability path so far, on the run's full time axis (drawn while a run is going)."""
    fig, ax = new_figure(figsize=(DOUBLE, 3.0))
    ax.plot(ts["step"], ts["cap_total"], color="black", lw=1.6)
    ax.set_xlim(0, total)
    ax.set_ylim(0, max(float(ts["cap_total"].max()) * 1.1, 1e-9))
    ax.set_xlabel(label("step"))
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
