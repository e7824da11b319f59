"""Analysis on top of recorded time series: the phenomena of the model brief (section 6)."""

from .curves import STAGES, curve_shape, path_class, path_points, stages
from .phenomena import (
    declined,
    gap_cycles,
    jump,
    mode_mix,
    network_regimes,
    path1_saturates,
    path2,
)
from .regimes import regime_spans
from .report import analyze

__all__ = [
    "STAGES",
    "analyze",
    "curve_shape",
    "declined",
    "gap_cycles",
    "jump",
    "mode_mix",
    "network_regimes",
    "path1_saturates",
    "path2",
    "path_class",
    "path_points",
    "regime_spans",
    "stages",
]
