"""The statistics of the validation: Wilson intervals for pass rates, one-sided Mann-Whitney and Fisher tests
for comparisons of ensembles, the Vargha-Delaney effect size with a bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (Wilson 1927): stays inside [0, 1] and is honest at small n."""
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def vargha_delaney(x: np.ndarray, y: np.ndarray) -> float:
    """A = P(X > Y) + P(X = Y) / 2 (Vargha & Delaney 2000): 0.5 no effect, 1 every x above every y."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    greater = (x[:, None] > y[None, :]).sum()
    equal = (x[:, None] == y[None, :]).sum()
    return float((greater + 0.5 * equal) / (x.size * y.size))


def mann_whitney_greater(x: np.ndarray, y: np.ndarray) -> float:
    """One-sided Mann-Whitney U test that x tends to exceed y: the p-value (exact for small untied samples)."""
    return float(stats.mannwhitneyu(x, y, alternative="greater").pvalue)


def fisher_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided Fisher exact test that the proportion k1 / n1 exceeds k2 / n2: the p-value."""
    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater")[1])


def bootstrap_ci(statistic, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_boot: int = 2000,
                 level: float = 0.95) -> tuple[float, float]:  # fmt: skip
    """Percentile bootstrap interval of ``statistic(x, y)``, both samples resampled with replacement."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    values = np.empty(n_boot)
    for b in range(n_boot):
        values[b] = statistic(x[rng.integers(0, x.size, x.size)], y[rng.integers(0, y.size, y.size)])
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def difference_of_shares(x: np.ndarray, y: np.ndarray) -> float:
    """Mean of x minus mean of y (for 0/1 outcomes: the difference of two shares)."""
    return float(np.mean(x) - np.mean(y))
