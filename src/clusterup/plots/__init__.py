"""Figures from recorded time series only (never from a live simulation)."""

from .overview import overview, save_figure

__all__ = ["overview", "save_figure"]
