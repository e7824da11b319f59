"""The validation figure: ensemble medians and bands of the phenomena (from recorded series only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import (
    CYCLE,
    DOUBLE,
    LAYER_COLOURS,
    MODE_COLOURS,
    OKABE_ITO,
    house_style,
    label,
    legend_below,
    legend_outside,
    new_figure,  # fmt: skip
    short,
)


def _band(ax, frames: list[pd.DataFrame], column: str, colour: str, label: str) -> None:
    n = min(len(f) for f in frames)
    data = np.vstack([f[column].to_numpy()[:n] for f in frames])
    t = frames[0]["step"].to_numpy()[:n]
    lo, med, hi = np.percentile(data, [10, 50, 90], axis=0)
    ax.fill_between(t, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(t, med, color=colour, lw=1.6, label=label)


@house_style
def validation_figure(arms: dict[str, list[pd.DataFrame]], curve: dict[float, np.ndarray]) -> Figure:
    """Six panels: capability paths by scenario, gap, mode mix, layer dominance, path 2, appropriability
    (``curve``: appropriability value -> long-run overall capability of every seed). Lines are medians
    over seeds, bands the 10-90% range."""
    fig, axes = new_figure(3, 2, figsize=(DOUBLE, 8.6))
    ax = axes[0, 0]
    for name, colour in (
        ("baseline", "black"),
        ("no-integrated", OKABE_ITO["blue"]),
        ("lock-in", OKABE_ITO["vermillion"]),
        ("opportunism", OKABE_ITO["orange"]),
        ("policy-pipelines", OKABE_ITO["bluish green"]),
    ):
        _band(ax, arms[name], "cap_mean", colour, name)
    ax.set_yscale("log")
    ax.set_ylabel("mean firm capability\n(index, log scale)")
    ax.set_title("Capability paths by scenario", loc="left")
    legend_outside(ax)
    ax = axes[0, 1]
    _band(ax, arms["baseline"], "gap_cv", OKABE_ITO["blue"], "baseline")
    ax.set_ylabel("capability gap\n(coefficient of variation)")
    ax.set_ylim(bottom=0)
    ax.set_title("Capability gap, baseline", loc="left")
    ax = axes[1, 0]
    for m, colour in MODE_COLOURS.items():
        smoothed = [f.assign(**{f"share_{m}": f[f"share_{m}"].rolling(9, min_periods=1).mean()}) for f in arms["baseline"]]
        _band(ax, smoothed, f"share_{m}", colour, m)
    ax.set_yscale("log")
    ax.set_ylabel("share of innovation attempts\n(9-quarter mean, log scale)")
    ax.set_title("Mode mix, baseline", loc="left")
    legend_outside(ax)
    ax = axes[1, 1]
    for layer, colour in LAYER_COLOURS.items():
        _band(ax, arms["baseline"], f"{layer}_share", colour, layer)
    ax.set_ylim(0, 1)
    ax.set_ylabel("layer's share of tie strength")
    ax.set_title("Layer dominance, baseline", loc="left")
    legend_outside(ax)
    ax = axes[2, 0]
    purple, grey = OKABE_ITO["reddish purple"], "0.45"
    _band(ax, arms["path2-early-technology"], "cap_mean", purple, "mean capability")
    ax.set_ylabel("mean firm capability (index)", color=purple)
    ax2 = ax.twinx()
    ax2.spines["right"].set_visible(True)
    _band(ax2, arms["path2-early-technology"], "gen_mean", grey, "mean generation")
    ax2.set_ylabel("mean technology generation", color=grey)
    ax2.set_ylim(bottom=0)
    ax.set_title("Path 2: early technology", loc="left")
    ax = axes[2, 1]
    values = sorted(curve)
    q = np.array([np.percentile(curve[a], [25, 50, 75]) for a in values])
    ax.fill_between(values, q[:, 0], q[:, 2], color=OKABE_ITO["grey"], alpha=0.4, lw=0, label="interquartile range")
    ax.plot(values, q[:, 1], marker="o", ms=3, color="black", label="median over seeds")
    ax.set_xlabel("appropriability (0: knowledge leaks freely, 1: fully private)")
    ax.set_ylabel("overall capability,\nmean of the last 20% of quarters")
    ax.set_title("Appropriability and long-run capability", loc="left")
    legend_outside(ax)
    for a in list(axes.ravel()[:4]):
        a.set_xlabel(label("step"))
    axes[2, 0].set_xlabel(label("step"))
    return fig


ARM_INDICATORS = ("cap_total", "cap_mean", "gap_cv", "gen_max", "share_integrated", "knowledge_share")


@house_style
def arms_figure(bands: dict[str, pd.DataFrame], level: float = 0.95) -> Figure:
    """One panel per indicator; in each, every arm's mean over replicates and its confidence band (cut to
    the indicator's range; none where an arm has one replicate). One legend for all panels, below them.

    ``bands`` maps an indicator to :func:`clusterup.experiments.summary.experiment_bands` output.
    """
    names = list(bands)
    cols = min(2, len(names))
    rows = -(-len(names) // cols)
    fig, axes = new_figure(rows, cols, figsize=(DOUBLE if cols > 1 else DOUBLE / 2 + 0.6, 2.1 * rows + 0.9), squeeze=False)
    handles, labels = [], []
    for ax, name in zip(axes.flat, names, strict=False):
        b = bands[name]
        for k, (_arm, g) in enumerate(b.groupby("arm", sort=True)):
            colour = CYCLE[k % len(CYCLE)] if k < len(CYCLE) else f"C{k % 10}"
            n = int(g["n"].max())
            if n > 1:
                ax.fill_between(g["step"], g["lo"], g["hi"], color=colour, alpha=0.2, lw=0)
            (line,) = ax.plot(g["step"], g["mean"], color=colour, lw=1.4, ls=("-", "--", ":", "-.")[k // len(CYCLE) % 4])
            if ax is axes.flat[0]:
                handles.append(line)
                labels.append(f"{g['arm_label'].iloc[0]} (n = {n})")
        ax.set_title(short(name), loc="left")
        ax.set_ylabel(label(name).replace(" (", "\n("), fontsize=7)
        lo, hi = ax.get_ylim()
        if name in ("cap_total", "cap_mean", "gap_cv", "gen_max"):
            ax.set_ylim(0, max(hi, 1e-9))
    for ax in axes[-1]:
        ax.set_xlabel(label("step"))
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    if len(labels) > 8:  # a sweep's many arms: name the first ones, say how many more
        from matplotlib.lines import Line2D

        handles = handles[:7] + [Line2D([], [], color="none")]
        labels = labels[:7] + [f"... and {len(labels) - 7} more arms (see the runs table)"]
    legend_below(fig, handles, labels, ncol=2 if len(labels) > 3 else len(labels),
                 title=f"mean over replicates; bands: {level:.0%} confidence interval of the mean")  # fmt: skip
    return fig
