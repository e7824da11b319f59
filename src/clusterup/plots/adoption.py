"""Generation adoption curves: for each technology generation g >= 1, the share of firms at g or above."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .style import DOUBLE, colormap, house_style, label, legend_outside, new_figure, note


def adoption_shares(generations: pd.DataFrame) -> pd.DataFrame:
    """Wide table: index step, one column per generation g >= 1 with the share of firms at >= g."""
    wide = generations.pivot_table(index="step", columns="generation", values="firms", fill_value=0).sort_index(axis=1)
    total = wide.sum(axis=1).where(lambda s: s > 0, 1)
    at_or_above = wide.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    return at_or_above.drop(columns=[c for c in at_or_above.columns if c < 1]).div(total, axis=0)


def has_new_generation(generations: pd.DataFrame) -> bool:
    """Whether any firm ever reached a generation above the first (else there is no adoption curve to draw)."""
    return bool(len(generations)) and bool(((generations["generation"] >= 1) & (generations["firms"] > 0)).any())


@house_style
def adoption_curves(generations: pd.DataFrame, title: str = "") -> Figure:
    """One S-curve per generation g >= 1: the share of firms at g or above over time."""
    shares = adoption_shares(generations)
    shares = shares.loc[:, (shares > 0).any()] if len(shares.columns) else shares
    fig, ax = new_figure(figsize=(DOUBLE * 0.75, 3.2))
    cmap = colormap("viridis")
    for k, g in enumerate(shares.columns):
        ax.plot(shares.index, shares[g], color=cmap(k / max(1, len(shares.columns) - 1) * 0.85), lw=1.6, label=f"generation {g}")
    ax.set_title(title or "Generation adoption curves", loc="left")
    if len(shares.columns):
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(label("step"))
        ax.set_ylabel("share of firms at this\ngeneration or above")
        legend_outside(ax)
    else:
        note(ax, "no firm reached a new technology generation")
    return fig
