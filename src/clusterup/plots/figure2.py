"""The paper's Figure 2 from runs: overall capability over time with stage bands and the points A-L."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..analysis import path_class, path_points, stages
from .style import DOUBLE, OKABE_ITO, draw_marks, house_style, label, legend_outside, new_figure

STAGE_COLOURS = {"formation": "#eeeeee", "growth": "#d4ecd9", "maturity": "#fbe6c2", "decline": "#f6cdb8",
                 "renewal": "#cfe3f2"}  # fmt: skip
"""Light tints of the Okabe-Ito palette behind the curve (stages are also named in the legend)."""


def median_frame(runs: list[pd.DataFrame]) -> pd.DataFrame:
    """Step-wise median of every numeric column over runs (cut to the shortest run)."""
    n = min(len(r) for r in runs)
    cols = runs[0].columns
    data = np.stack([r[cols].to_numpy(dtype=float)[:n] for r in runs])
    med = pd.DataFrame(np.median(data, axis=0), columns=cols)
    med["step"] = runs[0]["step"].to_numpy()[:n]
    med["gen_max"] = np.round(med["gen_max"]).astype(int)
    return med


@house_style
def figure2(runs: list[pd.DataFrame], title: str = "", column: str = "cap_total",
            marks: list[tuple[int, str]] | None = None) -> Figure:  # fmt: skip
    """Overall innovation capability (median and 10-90% band over runs), stage bands, points A-L, and the
    interventions' ``marks`` (step, what) as dash-dot lines."""
    med = median_frame(runs)
    t = med["step"].to_numpy()
    fig, ax = new_figure(figsize=(DOUBLE, 3.8))
    labels = stages(med, column)
    start = 0
    for k in range(1, len(labels) + 1):
        if k == len(labels) or labels[k] != labels[start]:
            span = ax.axvspan(t[start], t[min(k, len(t) - 1)], color=STAGE_COLOURS[labels[start]], lw=0, zorder=0)
            span._house_background = True  # a background, not data
            start = k
    if len(runs) > 1:
        n = len(med)
        data = np.vstack([r[column].to_numpy()[:n] for r in runs])
        lo, hi = np.percentile(data, [10, 90], axis=0)
        ax.fill_between(t, lo, hi, color=OKABE_ITO["grey"], alpha=0.4, lw=0, label="10-90% of runs")
    ax.plot(t, med[column], color="black", lw=1.8, label="median of runs" if len(runs) > 1 else "this run")
    points = path_points(med, column)
    close = 0.04 * (t[-1] - t[0]) if len(t) > 1 else 1.0
    last = None
    for name, step in sorted(points.items(), key=lambda kv: kv[1]):
        y = float(np.interp(step, t, med[column]))
        ax.plot(step, y, "o", color=OKABE_ITO["vermillion"], ms=4, zorder=3, label="path point" if last is None else None)
        near = last is not None and step - last < close  # a point next to the previous one: label it below right
        ax.annotate(name, (step, y), textcoords="offset points", xytext=(5, -12) if near else (-4, 6), fontsize=9,
                    weight="bold")  # fmt: skip
        last = step
    draw_marks(ax, marks or [])
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STAGE_COLOURS.values()]
    # legends outside the data, to the right of the axes
    leg = legend_outside(ax, handles, list(STAGE_COLOURS), title="stage", alignment="left")
    ax.add_artist(leg)
    ax.legend(loc="lower left", bbox_to_anchor=(1.02, 0.0), borderaxespad=0.0, frameon=False)
    ax.set_xlabel(label("step"))
    ax.set_ylabel(label(column).replace(" (", "\n("))
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(0.0, lo), hi)
    cls = path_class(med, points)
    ax.set_title(title or f"Cluster upgrading path ({cls}, {len(runs)} run{'s' if len(runs) > 1 else ''})")
    return fig
