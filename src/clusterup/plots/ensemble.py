"""The validation figure: ensemble medians and bands of the phenomena (from recorded series only)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .overview import LAYER_COLOURS, MODE_COLOURS  # noqa: E402


def _band(ax, frames: list[pd.DataFrame], column: str, colour: str, label: str) -> None:
    n = min(len(f) for f in frames)
    data = np.vstack([f[column].to_numpy()[:n] for f in frames])
    t = frames[0]["step"].to_numpy()[:n]
    lo, med, hi = np.percentile(data, [10, 50, 90], axis=0)
    ax.fill_between(t, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(t, med, color=colour, lw=1.6, label=label)


def validation_figure(arms: dict[str, list[pd.DataFrame]], curve: list[float], appropriability: list[float]) -> plt.Figure:
    """Six panels: capability paths by scenario, gap, mode mix, layer dominance, path 2, appropriability."""
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), constrained_layout=True)
    ax = axes[0, 0]
    for name, colour in (
        ("baseline", "black"),
        ("no-integrated", "tab:blue"),
        ("lock-in", "tab:red"),
        ("opportunism", "tab:orange"),
        ("policy-pipelines", "tab:green"),
    ):
        _band(ax, arms[name], "cap_rel_frontier", colour, name)
    ax.set_title("Capability relative to the frontier (median, 10-90%)")
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
    ax.plot(appropriability, curve, marker="o", color="black")
    ax.set_xlabel("appropriability")
    ax.set_title("Long-run overall capability (mean of last 20%)")
    for a in axes.ravel()[:5]:
        a.set_xlabel("step (quarter)")
    return fig
