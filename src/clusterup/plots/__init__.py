"""Figures from recorded time series only (never from a live simulation)."""

from .figure1 import draw_network, figure1
from .figure2 import figure2, median_frame
from .overview import overview, save_figure

__all__ = ["draw_network", "figure1", "figure2", "median_frame", "overview", "save_figure"]
