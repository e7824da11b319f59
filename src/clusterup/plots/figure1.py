"""The paper's Figure 1 from a run with snapshots: the multiplex at formation, growth and maturity,
layers coloured, with layer dominance over time beneath."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..analysis import stages
from .overview import LAYER_COLOURS
from .style import blank_figure


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
        out.append((stage, min(available, key=lambda s: abs(s - target))))
    return out


def draw_network(ax, nodes: pd.DataFrame, ties: pd.DataFrame) -> None:
    pos = nodes.set_index("id")[["x", "y"]]
    for layer in ("social", "economic", "knowledge"):
        sub = ties[ties["layer"] == layer]
        sub = sub[sub["source"].isin(pos.index) & sub["target"].isin(pos.index)]
        if sub.empty:
            continue
        a = pos.loc[sub["source"]].to_numpy()
        b = pos.loc[sub["target"]].to_numpy()
        lines = LineCollection(
            np.stack([a, b], axis=1), colors=LAYER_COLOURS[layer], linewidths=0.3 + 0.9 * sub["weight"].to_numpy(), alpha=0.35
        )
        ax.add_collection(lines)
    firms = nodes[nodes["kind"] == "firm"]
    size = 4 + 30 * firms["capability"] / max(firms["capability"].max(), 1e-12)
    ax.scatter(firms["x"], firms["y"], s=size, c="black", lw=0, zorder=3)
    orgs = nodes[nodes["kind"] != "firm"]
    ax.scatter(orgs["x"], orgs["y"], s=40, marker="s", c="gold", edgecolors="black", lw=0.6, zorder=4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")


def figure1(ts: pd.DataFrame, snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]], title: str = "") -> Figure:
    """Three network panels (formation, growth, maturity) above layer dominance over time."""
    chosen = pick_steps(ts, sorted(snapshots))
    fig = blank_figure((13, 8))
    grid = fig.add_gridspec(2, 3, height_ratios=[2.2, 1])
    for k, (stage, step) in enumerate(chosen):
        ax = fig.add_subplot(grid[0, k])
        nodes, ties = snapshots[step]
        draw_network(ax, nodes, ties)
        counts = ties["layer"].value_counts()
        ax.set_title(f"{stage} (step {step}): " + ", ".join(f"{counts.get(name, 0)} {name}" for name in LAYER_COLOURS), fontsize=9)
    ax = fig.add_subplot(grid[1, :])
    for layer, colour in LAYER_COLOURS.items():
        ax.plot(ts["step"], ts[f"{layer}_share"], color=colour, lw=1.8, label=layer)
    for _, step in chosen:
        ax.axvline(step, color="grey", ls="--", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("share of tie strength")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.suptitle(
        title or "The cluster's multiplex network and layer dominance (firms: dots sized by capability; organisations: squares)"
    )
    return fig
