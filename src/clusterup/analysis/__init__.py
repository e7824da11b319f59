"""Analysis on top of recorded time series: the phenomena of the model brief (section 6)."""

from .phenomena import (
    declined,
    gap_cycles,
    jump,
    mode_mix,
    network_regimes,
    path1_saturates,
    path2,
)

__all__ = ["declined", "gap_cycles", "jump", "mode_mix", "network_regimes", "path1_saturates", "path2"]
