"""Generation adoption curves: for each technology generation g >= 1, the share of firms at g or above."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .style import colormap, new_figure


def adoption_shares(generations: pd.DataFrame) -> pd.DataFrame:
    """Wide table: index step, one column per generation g >= 1 with the share of firms at >= g."""
    wide = generations.pivot_table(index="step", columns="generation", values="firms", fill_value=0).sort_index(axis=1)
    total = wide.sum(axis=1).where(lambda s: s > 0, 1)
    at_or_above = wide.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    return at_or_above.drop(columns=[c for c in at_or_above.columns if c < 1]).div(total, axis=0)


def adoption_curves(generations: pd.DataFrame, title: str = "") -> Figure:
    shares = adoption_shares(generations)
    fig, ax = new_figure(figsize=(7, 4.2))
    cmap = colormap("viridis")
    for k, g in enumerate(shares.columns):
        ax.plot(shares.index, shares[g], color=cmap(k / max(1, len(shares.columns) - 1) * 0.85), lw=1.8, label=f"generation {g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("share of firms at this generation or above")
    ax.set_title(title or "Generation adoption curves")
    if len(shares.columns):
        ax.legend(frameon=False, fontsize=8)
    else:
        ax.text(0.5, 0.5, "no new generation appeared", ha="center", transform=ax.transAxes)
    return fig
