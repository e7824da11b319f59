"""Scalar outputs of a run, for the ``runs`` table, sensitivity analysis and calibration.

An output is named ``STAT.COLUMN`` with STAT one of ``final``, ``mean``, ``max``, ``min``, ``late``
(mean over the last 20% of the steps) and COLUMN a time-series column (docs/output-schema.md), or
``first_new_generation``: the first step at which a firm reaches a generation above the initial
one (the run's length + 1 when none does, so that the output is always a number).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..result import timeseries_columns

STATS: dict[str, Callable[[pd.Series], float]] = {
    "final": lambda s: float(s.iloc[-1]),
    "mean": lambda s: float(s.mean()),
    "max": lambda s: float(s.max()),
    "min": lambda s: float(s.min()),
    "late": lambda s: float(s.iloc[-max(1, int(0.2 * len(s))) :].mean()),
}
SPECIAL = ("first_new_generation",)


def first_new_generation(ts: pd.DataFrame) -> float:
    g = ts["gen_max"].to_numpy()
    hit = np.flatnonzero(g > g[0])
    return float(ts["step"].iloc[hit[0]]) if hit.size else float(ts["step"].iloc[-1] + 1)


def check_output(name: str) -> str:
    if name in SPECIAL:
        return name
    stat, _, col = name.partition(".")
    if stat not in STATS or col not in timeseries_columns() or col == "step":
        raise ConfigError(
            f"output {name!r}: use STAT.COLUMN with STAT in {', '.join(STATS)} and COLUMN a time-series column "
            f"(e.g. final.cap_total), or {', '.join(SPECIAL)}"
        )
    return name


def compute_output(ts: pd.DataFrame, name: str) -> float:
    check_output(name)
    if name == "first_new_generation":
        return first_new_generation(ts)
    stat, _, col = name.partition(".")
    return STATS[stat](ts[col])


def run_summary(ts: pd.DataFrame) -> dict[str, float]:
    """The per-run row of final indicators: ``final_<column>`` for each column, and first_new_generation."""
    last = ts.iloc[-1]
    row = {f"final_{c}": float(last[c]) for c in ts.columns if c not in ("step", "run_id")}
    row["steps_done"] = int(last["step"])
    row["first_new_generation"] = first_new_generation(ts)
    return row
