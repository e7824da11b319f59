"""A one-page overview of a run: capability path, gap, mode mix, layer dominance, generations."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..io_utils import temp_file
from .style import new_figure

LAYER_COLOURS = {"social": "#d95f02", "economic": "#1b9e77", "knowledge": "#7570b3"}
MODE_COLOURS = {"imitation": "#e6ab02", "local": "#66a61e", "integrated": "#e7298a"}


def overview(ts: pd.DataFrame, title: str = "") -> Figure:
    """Six panels over time from a run's time series."""
    fig, axes = new_figure(3, 2, figsize=(10, 8.5), sharex=True)
    t = ts["step"]
    ax = axes[0, 0]
    ax.plot(t, ts["cap_total"], color="black", lw=1.8, label="overall (total)")
    ax.set_ylabel("overall capability")
    ax2 = ax.twinx()
    ax2.plot(t, ts["cap_mean"], color="grey", lw=1, ls="--", label="mean")
    ax2.plot(t, ts["frontier"], color="tab:red", lw=1, ls=":", label="frontier A*")
    ax2.set_ylabel("mean / frontier")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [str(x.get_label()) for x in lines], loc="upper left", fontsize=8, frameon=False)
    ax.set_title("Overall innovation capability")

    ax = axes[0, 1]
    ax.plot(t, ts["gap_cv"], color="tab:blue", label="CV")
    ax.plot(t, ts["gap_gini"], color="tab:cyan", label="Gini")
    ax.set_title("Capability gap")
    ax.legend(fontsize=8, frameon=False)

    ax = axes[1, 0]
    shares = ts[[f"share_{m}" for m in MODE_COLOURS]].rolling(5, min_periods=1).mean()
    ax.stackplot(t, shares.T.to_numpy(), labels=list(MODE_COLOURS), colors=list(MODE_COLOURS.values()), alpha=0.85)
    ax.set_ylim(0, 1)
    ax.set_title("Mode mix (share of attempts, 5-step mean)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)

    ax = axes[1, 1]
    for layer, colour in LAYER_COLOURS.items():
        ax.plot(t, ts[f"{layer}_share"], color=colour, label=layer)
    ax.set_ylim(0, 1)
    ax.set_title("Layer dominance (share of tie strength)")
    ax.legend(fontsize=8, frameon=False)

    ax = axes[2, 0]
    ax.plot(t, ts["gen_max"], color="black", drawstyle="steps-post", label="highest generation")
    ax.plot(t, ts["gen_mean"], color="tab:purple", label="mean generation")
    ax.set_title("Technology generations")
    ax.set_xlabel("step (quarter)")
    ax.legend(fontsize=8, frameon=False)

    ax = axes[2, 1]
    ax.plot(t, ts["n_firms"], color="black", label="firms")
    ax.set_ylabel("firms")
    ax3 = ax.twinx()
    ax3.plot(t, ts["rd_mean"], color="tab:green", label="mean R&D propensity")
    ax3.set_ylim(0, 1)
    ax3.set_ylabel("R&D propensity")
    lines = ax.get_lines() + ax3.get_lines()
    ax.legend(lines, [str(x.get_label()) for x in lines], loc="lower left", fontsize=8, frameon=False)
    ax.set_title("Population and R&D")
    ax.set_xlabel("step (quarter)")
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save atomically (temporary file, then rename); the format follows the suffix (png, svg, pdf)."""
    path = Path(path)
    fd, tmp = temp_file(path, suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=150)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
