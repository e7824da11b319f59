"""A one-page overview of a run: capability, gap, mode mix, layer dominance, generations, firms and R&D."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..io_utils import temp_file
from .style import DOUBLE, LAYER_COLOURS, MODE_COLOURS, OKABE_ITO, draw_marks, house_style, legend_above, new_figure

__all__ = ["LAYER_COLOURS", "MODE_COLOURS", "overview", "save_figure"]


def _from_zero(ax) -> None:
    lo, hi = ax.get_ylim()
    ax.set_ylim(0, hi if hi > 0 else 1)


@house_style
def overview(ts: pd.DataFrame, title: str = "", marks: list[tuple[int, str]] | None = None) -> Figure:
    """Eight panels over time from a run's time series, each labelled in words with its unit; the
    interventions' ``marks`` (step, what) as dash-dot lines in every panel."""
    fig, axes = new_figure(4, 2, figsize=(DOUBLE, 8.2), sharex=True)
    t = ts["step"]
    ax = axes[0, 0]
    ax.plot(t, ts["cap_total"], color="black", lw=1.6)
    ax.set_ylabel("overall innovation capability\n(sum over firms, index)")
    _from_zero(ax)

    ax = axes[0, 1]  # log scale: a cluster far behind the frontier is not flattened onto zero
    ax.plot(t, ts["cap_mean"].clip(lower=1e-6), color=OKABE_ITO["blue"], label="mean firm capability")
    ax.plot(t, ts["frontier"], color=OKABE_ITO["vermillion"], ls=":", lw=1.6, label="outside frontier A*")
    ax.set_yscale("log")
    ax.set_ylabel("capability index (log scale)")
    legend_above(ax)

    ax = axes[1, 0]
    ax.plot(t, ts["gap_cv"], color=OKABE_ITO["blue"], label="coefficient of variation")
    ax.plot(t, ts["gap_gini"], color=OKABE_ITO["orange"], ls="--", label="Gini coefficient")
    ax.set_ylabel("capability gap between firms")
    _from_zero(ax)
    legend_above(ax)

    ax = axes[1, 1]
    shares = ts[[f"share_{m}" for m in MODE_COLOURS]].rolling(5, min_periods=1).mean()
    ax.stackplot(t, shares.T.to_numpy(), labels=list(MODE_COLOURS), colors=list(MODE_COLOURS.values()), alpha=0.9, lw=0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of innovation attempts\n(5-quarter mean)")
    legend_above(ax)

    ax = axes[2, 0]
    for layer, colour in LAYER_COLOURS.items():
        ax.plot(t, ts[f"{layer}_share"], color=colour, label=layer)
    ax.set_ylim(0, 1)
    ax.set_ylabel("layer's share of tie strength")
    legend_above(ax)

    ax = axes[2, 1]
    ax.plot(t, ts["gen_max"], color="black", drawstyle="steps-post", label="highest")
    ax.plot(t, ts["gen_mean"], color=OKABE_ITO["reddish purple"], label="mean over firms")
    ax.set_ylim(0, max(1.0, float(np.nanmax(ts["gen_max"]))) + 0.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("technology generation")
    legend_above(ax)
    if float(np.nanmax(ts["gen_max"])) == 0:
        ax.text(0.5, 0.55, "no firm reached a new generation", ha="center", transform=ax.transAxes, color="0.35")

    ax = axes[3, 0]
    ax.plot(t, ts["n_firms"], color="black")
    ax.set_ylabel("number of firms")
    _from_zero(ax)

    ax = axes[3, 1]
    ax.plot(t, ts["rd_mean"], color=OKABE_ITO["bluish green"])
    ax.set_ylabel("mean R&D propensity\n(share of revenue)")
    _from_zero(ax)
    for a in axes[3]:
        a.set_xlabel("time (quarters)")
    if marks:
        for a in axes.flat:
            draw_marks(a, marks, legend=False)
        what = "; ".join(f"quarter {s}: {w}" for s, w in marks)
        title = (title + "\n" if title else "") + f"dash-dot lines: interventions ({what})"
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save atomically (temporary file, then rename); the format follows the suffix (png, svg, pdf)."""
    path = Path(path)
    fd, tmp = temp_file(path, suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=200)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
