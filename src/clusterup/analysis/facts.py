"""Stylised facts of industrial dynamics, measured on a run's firm-level output (lifecycles and panel).

None of these is a target of calibration: they are checked on the baseline ensemble (docs/validation.md,
section "Stylised facts"), each against the value empirical work reports.

- :func:`size_distribution`: firm sizes (revenue) are right-skewed with a heavy, Pareto-like upper tail; the
  Hill estimate of the tail index on the largest 10% of firms is near 1 (Zipf's law; Axtell 2001).
- :func:`growth_rates`: annual growth rates of firms have fat, tent-shaped (Laplace-like) tails: kurtosis
  well above the normal's 3 (Stanley et al. 1996; Bottazzi & Secchi 2006).
- :func:`infant_mortality`: the exit hazard falls with age: young firms exit more often than old ones
  (Dunne, Roberts & Samuelson 1989).
- :func:`spinoff_heritage`: spin-offs of more capable parents survive longer than spin-offs of weaker ones
  (Klepper 2007).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

STEPS_PER_YEAR = 4  # one step is a quarter


def hill(x: np.ndarray, top: float = 0.1) -> float:
    """Hill estimator of the Pareto tail index on the largest ``top`` share of the positive values."""
    x = np.sort(np.asarray(x, dtype=float)[np.asarray(x) > 0])[::-1]
    k = max(2, int(top * x.size))
    if x.size <= k:
        return float("nan")
    return float(1.0 / np.mean(np.log(x[:k] / x[k])))


def size_distribution(sizes: np.ndarray) -> dict[str, float]:
    s = np.asarray(sizes, dtype=float)
    s = s[s > 0]
    top = np.sort(s)[::-1][: max(1, s.size // 10)]
    return {"n": int(s.size), "hill_top10": hill(s), "top10_share": float(top.sum() / s.sum()),
            "skewness": float(sps.skew(s))}  # fmt: skip


def growth_rates(panel: pd.DataFrame, lag: int = STEPS_PER_YEAR) -> np.ndarray:
    """Log growth of revenue over ``lag`` steps of every firm present at both ends, demeaned per step."""
    p = panel[["step", "id", "revenue"]]
    p = p[p["revenue"] > 0]
    later = p.assign(step=p["step"] - lag)
    m = p.merge(later, on=["step", "id"], suffixes=("", "_later"))
    g = np.log(m["revenue_later"].to_numpy() / m["revenue"].to_numpy())
    return g - m.assign(g=g).groupby("step")["g"].transform("mean").to_numpy()


def infant_mortality(lifecycles: pd.DataFrame, last_step: int, young: int = 5 * STEPS_PER_YEAR) -> dict[str, float]:
    """Exits per firm-step below age ``young`` and at or above it (entrants only: their age is known)."""
    life = lifecycles[lifecycles["born"] > 0]
    born = life["born"].to_numpy()
    end = life["exited"].astype("Float64").fillna(last_step).to_numpy(dtype=float)
    exited = life["exited"].notna().to_numpy()
    age_end = end - born
    young_steps = np.minimum(age_end, young).sum()
    old_steps = np.maximum(age_end - young, 0).sum()
    young_exits = (exited & (age_end < young)).sum()
    old_exits = (exited & (age_end >= young)).sum()
    return {"hazard_young": float(young_exits / young_steps) if young_steps else float("nan"),
            "hazard_old": float(old_exits / old_steps) if old_steps else float("nan"),
            "young_exits": int(young_exits), "old_exits": int(old_exits)}  # fmt: skip


def spinoff_survival(lifecycles: pd.DataFrame, timeseries: pd.DataFrame, horizon: int = 5 * STEPS_PER_YEAR) -> pd.DataFrame:
    """Spin-offs born at least ``horizon`` steps before the end: the parent's capability relative to the
    cluster's mean when it was born, and whether it survived ``horizon`` steps."""
    last = int(timeseries["step"].iloc[-1])
    s = lifecycles[(lifecycles["origin"] == "spin-off") & (lifecycles["born"] <= last - horizon)]
    s = s[s["parent_capability"].notna()]
    mean = timeseries.set_index("step")["cap_mean"]
    rel = s["parent_capability"].to_numpy() / mean.loc[s["born"]].to_numpy()
    ex = s["exited"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    return pd.DataFrame({"parent_rel": rel, "survived": ex - s["born"].to_numpy() >= horizon})


def spinoff_heritage(table: pd.DataFrame) -> dict[str, Any]:
    """Survival of spin-offs of parents above the median relative capability against those below (pooled;
    one-sided Fisher test)."""
    if len(table) < 4:
        return {"n": len(table), "holds": False}
    strong = table["parent_rel"] > table["parent_rel"].median()
    a, b = table.loc[strong, "survived"], table.loc[~strong, "survived"]
    p = sps.fisher_exact([[int(a.sum()), int((~a).sum())], [int(b.sum()), int((~b).sum())]], alternative="greater")[1]
    return {"n": int(len(table)), "survival_strong_parents": float(a.mean()), "survival_weak_parents": float(b.mean()),
            "p": float(p), "holds": bool(a.mean() > b.mean() and p < 0.05)}  # fmt: skip
