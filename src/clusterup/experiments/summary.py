"""Per-arm summaries over replicates: the mean of an indicator over time and a confidence band."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError
from ..result import timeseries_columns
from .store import ExperimentStore


def bands(ts: pd.DataFrame, indicator: str, level: float = 0.95) -> pd.DataFrame:
    """Per arm and step: n, mean, and the ``level`` confidence interval of the mean (Student t).

    ``ts`` is :meth:`ExperimentStore.all_timeseries` (columns arm, step and the indicators). With one
    replicate the band collapses onto the mean. The interval is cut to the indicator's range (a share stays
    in [0, 1], a capability or a count at or above 0): with few replicates a t-interval can pass it.
    """
    if indicator not in timeseries_columns() or indicator == "step":
        raise ConfigError(f"indicator {indicator!r} is not a time-series column (see docs/output-schema.md)")
    if not 0 < level < 1:
        raise ConfigError(f"level must lie in (0, 1); got {level}")
    g = ts.groupby(["arm", "step"])[indicator]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    sem = out["sd"].fillna(0.0) / np.sqrt(out["n"])
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] > 1, t * sem, 0.0)
    from ..plots.style import clip_to_range

    out["lo"], out["hi"] = clip_to_range(indicator, out["mean"] - half, out["mean"] + half)
    return out.drop(columns="sd")


def experiment_bands(store: ExperimentStore, indicator: str, level: float = 0.95) -> pd.DataFrame:
    """:func:`bands` of an experiment directory, with each arm's label."""
    plan = store.plan()
    ts = store.all_timeseries()
    if ts.empty:
        raise ConfigError(f"{store.root} has no finished runs yet")
    out = bands(ts, indicator, level)
    out.insert(1, "arm_label", [plan.arm_label(a) for a in out["arm"]])
    return out
