"""Analysis on top of recorded time series: the phenomena of the model brief (section 6)."""

from .curves import POINT_MEANINGS, STAGES, curve_shape, path_class, path_points, stages
from .phenomena import (
    declined,
    gap_cycles,
    jump,
    lock_in_decline,
    lost_rd,
    mode_mix,
    network_regimes,
    opportunism_decline,
    path1_saturates,
    path2,
    rigidity_first,
    saturates,
)
from .regimes import regime_spans
from .report import analyze

__all__ = [
    "POINT_MEANINGS",
    "STAGES",
    "analyze",
    "curve_shape",
    "declined",
    "gap_cycles",
    "jump",
    "lock_in_decline",
    "lost_rd",
    "mode_mix",
    "network_regimes",
    "opportunism_decline",
    "path1_saturates",
    "path2",
    "path_class",
    "path_points",
    "regime_spans",
    "rigidity_first",
    "saturates",
    "stages",
]
