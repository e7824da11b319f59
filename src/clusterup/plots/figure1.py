"""The paper's Figure 1 from a run with snapshots: the multiplex at formation, growth and maturity,
layers coloured, with layer dominance over time beneath."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..analysis import stages
from .style import DOUBLE, LAYER_COLOURS, OKABE_ITO, blank_figure, house_style, label, legend_below


def pick_steps(ts: pd.DataFrame, available: list[int]) -> list[tuple[str, int]]:
    """For formation, growth and maturity: the snapshot nearest the middle of the stage's first span
    (a sixth, a half and five sixths of the run where a stage does not occur)."""
    labels = stages(ts)
    steps = ts["step"].to_numpy()
    n = len(steps)
    fallback = {"formation": n // 6, "growth": n // 2, "maturity": 5 * n // 6}
    out = []
    for stage in ("formation", "growth", "maturity"):
        idx = [k for k, lab in enumerate(labels) if lab == stage]
        if idx:
            first = [idx[0]]
            for k in idx[1:]:
                if k != first[-1] + 1:
                    break
                first.append(k)
            target = steps[first[len(first) // 2]]
        else:
            target = steps[min(fallback[stage], n - 1)]
        unused = [s for s in available if s not in {step for _, step in out}] or available  # three distinct snapshots
        out.append((stage, min(unused, key=lambda s: abs(s - target))))
    return [(stage, step) for (stage, _), step in zip(out, sorted(step for _, step in out), strict=True)]


def strongest_ties(ties: pd.DataFrame, nodes: int, per_node: float = 2.0) -> pd.DataFrame:
    """At most ``per_node`` x nodes ties, the strongest of each layer in proportion to the layer's size:
    enough to see the structure, few enough not to draw a hairball."""
    limit = int(per_node * max(nodes, 1))
    if len(ties) <= limit:
        return ties
    keep = []
    for _layer, sub in ties.groupby("layer", sort=False, observed=True):
        k = max(1, round(limit * len(sub) / len(ties)))
        keep.append(sub.nlargest(k, "weight"))
    return pd.concat(keep)


def draw_network(ax, nodes: pd.DataFrame, ties: pd.DataFrame, per_node: float = 2.0) -> int:
    """Firms as dots sized by capability, organisations as squares, the strongest ties coloured by layer.
    Returns the number of ties drawn."""
    pos = nodes.set_index("id")[["x", "y"]]
    ties = ties[ties["source"].isin(pos.index) & ties["target"].isin(pos.index)]
    shown = strongest_ties(ties, len(nodes), per_node)
    wmax = max(float(shown["weight"].max()) if len(shown) else 1.0, 1e-12)
    for layer in ("social", "economic", "knowledge"):
        sub = shown[shown["layer"] == layer]
        if sub.empty:
            continue
        a = pos.loc[sub["source"]].to_numpy()
        b = pos.loc[sub["target"]].to_numpy()
        lines = LineCollection(np.stack([a, b], axis=1), colors=LAYER_COLOURS[layer],
                               linewidths=0.3 + 1.2 * sub["weight"].to_numpy() / wmax, alpha=0.55)  # fmt: skip
        lines._house_background = True  # the network is the picture itself: no text is put on it
        ax.add_collection(lines)
    firms = nodes[nodes["kind"] == "firm"]
    size = 3 + 28 * firms["capability"] / max(firms["capability"].max(), 1e-12)
    ax.scatter(firms["x"], firms["y"], s=size, c="black", lw=0, zorder=3)
    orgs = nodes[nodes["kind"] != "firm"]
    ax.scatter(orgs["x"], orgs["y"], s=30, marker="s", c=OKABE_ITO["yellow"], edgecolors="black", lw=0.6, zorder=4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.8")
    return len(shown)


def network_legend(fig, ncol: int = 5):
    """The key of the network panels, below the figure: the layers' colours and the node shapes."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=1.5) for c in LAYER_COLOURS.values()]
    handles += [Line2D([], [], ls="", marker="o", color="black", ms=4),
                Line2D([], [], ls="", marker="s", mfc=OKABE_ITO["yellow"], mec="black", ms=5)]  # fmt: skip
    labels = [f"{name} tie" for name in LAYER_COLOURS] + ["firm (size: capability)", "organisation"]
    return legend_below(fig, handles, labels, ncol=ncol)


@house_style
def figure1(ts: pd.DataFrame, snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]], title: str = "") -> Figure:
    """Three network panels (formation, growth, maturity) above layer dominance over time."""
    chosen = pick_steps(ts, sorted(snapshots))
    fig = blank_figure((DOUBLE, 5.4))
    grid = fig.add_gridspec(2, 3, height_ratios=[2.0, 1])
    for k, (stage, step) in enumerate(chosen):
        ax = fig.add_subplot(grid[0, k])
        nodes, ties = snapshots[step]
        drawn = draw_network(ax, nodes, ties)
        ax.set_title(f"{stage}, quarter {step}\n{drawn:,} strongest of {len(ties):,} ties shown", fontsize=7.5)
    ax = fig.add_subplot(grid[1, :])
    for layer, colour in LAYER_COLOURS.items():
        ax.plot(ts["step"], ts[f"{layer}_share"], color=colour, lw=1.6)
    for _, step in chosen:
        ax.axvline(step, color=OKABE_ITO["grey"], ls="--", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_xlabel(label("step"))
    ax.set_ylabel("layer's share\nof tie strength")
    network_legend(fig)
    fig.suptitle(title or "The cluster's multiplex network at three stages, and layer dominance over time")
    return fig
