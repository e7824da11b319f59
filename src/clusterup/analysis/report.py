"""One call for everything the analysis knows about a single run (``clusterup analyze``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .curves import STAGES, path_class, path_points, stages
from .phenomena import declined, gap_cycles, mode_mix, network_regimes
from .regimes import regime_spans

SCHEMA_VERSION = 1


def _spans(labels: list[str], steps: list[int]) -> list[dict]:
    out: list[dict] = []
    for t, lab in zip(steps, labels, strict=True):
        if out and out[-1]["stage"] == lab:
            out[-1]["end"] = t
        else:
            out.append({"stage": lab, "start": t, "end": t})
    return out


def analyze(ts: pd.DataFrame) -> dict[str, Any]:
    """Stages, path points, path class, network regimes and the single-run phenomena of one run."""
    steps = [int(s) for s in ts["step"]]
    labels = stages(ts)
    points = path_points(ts)
    return {
        "schema_version": SCHEMA_VERSION,
        "path_class": path_class(ts, points),
        "path_points": points,
        "stages": _spans(labels, steps),
        "stage_per_step": labels,
        "network_regimes": regime_spans(ts),
        "layer_dominance": network_regimes(ts)["regimes"],
        "phenomena": {
            "mode_mix": mode_mix(ts),
            "gap_cycles": gap_cycles(ts),
            "network_regimes": {k: v for k, v in network_regimes(ts).items() if k != "regimes"},
            "decline": declined(ts),
        },
        "stage_names": list(STAGES),
    }
