"""Network regimes: spans of homeostasis (stable ties) and reconfiguration, with their dominant layer.

Multiplex tie turnover (smoothed) above ``factor`` x its median marks a
reconfiguration; the rest is homeostasis. Spans shorter than ``min_len`` steps are merged into the
span before them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .phenomena import LAYERS, multiplex_turnover


def regime_spans(ts: pd.DataFrame, factor: float = 1.5, window: int = 5, min_len: int = 3) -> list[dict]:
    turnover = pd.Series(multiplex_turnover(ts))
    smooth = turnover.rolling(window, center=True, min_periods=1).mean().to_numpy().copy()
    smooth[0] = smooth[1] if len(smooth) > 1 else 0.0  # step 0 has no previous step
    med = float(np.median(smooth))
    kind = np.where(smooth > factor * med, "reconfiguration", "homeostasis")
    dominant = np.asarray(LAYERS)[ts[[f"{layer}_share" for layer in LAYERS]].to_numpy().argmax(axis=1)]
    spans: list[list] = []
    for t, k in enumerate(kind):
        if spans and (spans[-1][0] == k or t - spans[-1][1] < min_len):
            spans[-1][2] = t
        else:
            spans.append([k, t, t])
    steps = ts["step"].to_numpy()
    out = []
    for k, a, b in spans:
        layers, counts = np.unique(dominant[a : b + 1], return_counts=True)
        out.append(
            {
                "kind": str(k),
                "start": int(steps[a]),
                "end": int(steps[b]),
                "dominant_layer": str(layers[np.argmax(counts)]),
                "mean_turnover": float(turnover.iloc[a : b + 1].mean()),
            }
        )
    return out
