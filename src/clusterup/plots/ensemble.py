"""The validation figure: ensemble medians and bands of the phenomena (from recorded series only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .overview import LAYER_COLOURS, MODE_COLOURS
from .style import colormap, new_figure


def _band(ax, frames: list[pd.DataFrame], column: str, colour: str, label: str) -> None:
    n = min(len(f) for f in frames)
    data = np.vstack([f[column].to_numpy()[:n] for f in frames])
    t = frames[0]["step"].to_numpy()[:n]
    lo, med, hi = np.percentile(data, [10, 50, 90], axis=0)
    ax.fill_between(t, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(t, med, color=colour, lw=1.6, label=label)


def validation_figure(arms: dict[str, list[pd.DataFrame]], curve: dict[float, np.ndarray]) -> Figure:
    """Six panels: capability paths by scenario, gap, mode mix, layer dominance, path 2, appropriability
    (``curve``: appropriability value -> long-run overall capability of every seed)."""
    fig, axes = new_figure(2, 3, figsize=(14, 8))
    ax = axes[0, 0]
    for name, colour in (
        ("baseline", "black"),
        ("no-integrated", "tab:blue"),
        ("lock-in", "tab:red"),
        ("opportunism", "tab:orange"),
        ("policy-pipelines", "tab:green"),
    ):
        _band(ax, arms[name], "cap_mean", colour, name)
    ax.set_yscale("log")
    ax.set_ylabel("mean capability (log scale)")
    ax.set_title("Mean capability by scenario (median, 10-90%)")
    ax.legend(fontsize=7, frameon=False)
    ax = axes[0, 1]
    _band(ax, arms["baseline"], "gap_cv", "tab:blue", "baseline")
    ax.set_title("Capability gap (CV), baseline")
    ax = axes[0, 2]
    for m, colour in MODE_COLOURS.items():
        smoothed = [f.assign(**{f"share_{m}": f[f"share_{m}"].rolling(9, min_periods=1).mean()}) for f in arms["baseline"]]
        _band(ax, smoothed, f"share_{m}", colour, m)
    ax.set_yscale("log")
    ax.set_title("Mode shares, baseline (9-step mean, log scale)")
    ax.legend(fontsize=7, frameon=False)
    ax = axes[1, 0]
    for layer, colour in LAYER_COLOURS.items():
        _band(ax, arms["baseline"], f"{layer}_share", colour, layer)
    ax.set_title("Layer dominance, baseline")
    ax.legend(fontsize=7, frameon=False)
    ax = axes[1, 1]
    _band(ax, arms["path2-early-technology"], "cap_mean", "tab:purple", "mean capability")
    ax2 = ax.twinx()
    _band(ax2, arms["path2-early-technology"], "gen_mean", "grey", "mean generation")
    ax.set_title("Path 2: early technology")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax = axes[1, 2]
    values = sorted(curve)
    q = np.array([np.percentile(curve[a], [25, 50, 75]) for a in values])
    ax.fill_between(values, q[:, 0], q[:, 2], color="grey", alpha=0.3, lw=0, label="interquartile range")
    ax.plot(values, q[:, 1], marker="o", color="black", label="median over seeds")
    ax.set_xlabel("appropriability")
    ax.set_ylabel("overall capability, mean of the last 20%")
    ax.set_title("Appropriability: long-run overall capability")
    ax.legend(fontsize=7, frameon=False)
    for a in axes.ravel()[:5]:
        a.set_xlabel("step (quarter)")
    return fig


ARM_INDICATORS = ("cap_total", "cap_mean", "gap_cv", "gen_max", "share_integrated", "knowledge_share")


def arms_figure(bands: dict[str, pd.DataFrame], level: float = 0.95) -> Figure:
    """One panel per indicator; in each, every arm's mean over replicates and its confidence band.

    ``bands`` maps an indicator to :func:`clusterup.experiments.summary.experiment_bands` output.
    """
    names = list(bands)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = new_figure(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    cmap = colormap("tab10")
    for ax, name in zip(axes.flat, names, strict=False):
        b = bands[name]
        for k, (_arm, g) in enumerate(b.groupby("arm", sort=True)):
            colour = cmap(k % 10)
            ax.fill_between(g["step"], g["lo"], g["hi"], color=colour, alpha=0.2, lw=0)
            n = int(g["n"].max())
            ax.plot(g["step"], g["mean"], color=colour, lw=1.5, label=f"{g['arm_label'].iloc[0]} (n={n})")
        ax.set_title(f"{name}: mean, {level:.0%} CI")
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False)
    return fig
