"""Figures without global state: every figure is a :class:`matplotlib.figure.Figure` made here, never
through pyplot, so drawing selects no backend and touches no global figure registry."""

from __future__ import annotations

from typing import Any

import matplotlib
from matplotlib.figure import Figure


def blank_figure(figsize: tuple[float, float]) -> Figure:
    """A constrained-layout figure with no axes yet."""
    return Figure(figsize=figsize, layout="constrained")


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **subplots: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure and its axes, as ``Figure.subplots`` gives them."""
    fig = blank_figure(figsize)
    return fig, fig.subplots(nrows, ncols, **subplots)


def colormap(name: str):
    return matplotlib.colormaps[name]
