"""Small pure, vectorised functions the processes and the builder share. No state, no randomness inside. (The compiled
loops over ties are in :mod:`clusterup.compiled`.)

:func:`tv_distance`, :func:`normalise_rows` and :func:`softmax_choice` are the NumPy definitions of row passes that a
run now makes in compiled form (:func:`clusterup.compiled.reach_pool`, :func:`~clusterup.compiled.knowledge_drift`,
:func:`~clusterup.compiled.logit_choice`): they stay as the readable statement of each rule and as the oracles that
tests/test_compiled.py holds the compiled forms to, bit for bit."""

from __future__ import annotations

import numpy as np


def random_neighbour(adj, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A uniformly drawn neighbour of each row (``u`` in [0, 1)); -1 for isolated rows."""
    deg = np.diff(adj.indptr)[rows]
    pick = adj.indptr[rows] + np.minimum((u * deg).astype(np.int64), np.maximum(deg - 1, 0))
    out = np.full(rows.shape, -1, dtype=np.int64)
    ok = deg > 0
    out[ok] = adj.indices[pick[ok]]
    return out


def tv_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance between rows of two profile matrices (0: identical, 1: disjoint)."""
    return 0.5 * np.abs(p - q).sum(axis=-1)


def cognitive_fit(distance: np.ndarray) -> np.ndarray:
    """Value of a partner at a cognitive distance: novel but absorbable (peaks at 0.5)."""
    return 4.0 * distance * (1.0 - distance)


def normalise_rows(q: np.ndarray) -> np.ndarray:
    s = q.sum(axis=1, keepdims=True)
    return np.divide(q, s, out=np.full_like(q, 1.0 / q.shape[1]), where=s > 0)


def logistic_gain(capability: np.ndarray, ceiling: np.ndarray, rate: float) -> np.ndarray:
    """Incremental gain with logistic headroom: ``rate * a * (1 - a / ceiling)`` (never negative)."""
    return rate * capability * np.clip(1.0 - capability / ceiling, 0.0, None)


def rd_effect(rd: np.ndarray, half: float, exponent: float = 1.0) -> np.ndarray:
    """Saturating (Hill) effect of R&D propensity on own-innovation success: ``r^n / (r^n + h^n)``."""
    rn = rd**exponent
    denom = rn + half**exponent
    return np.divide(rn, denom, out=np.zeros_like(rn, dtype=float), where=denom > 0)


def softmax_choice(utility: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample one column per row from a multinomial logit with utilities (``-inf`` = closed)."""
    top = utility.max(axis=1, keepdims=True)
    w = np.exp(utility - top)
    cum = np.cumsum(w, axis=1)
    cum /= cum[:, -1:]
    return (u[:, None] > cum).sum(axis=1)


def sample_from_groups(groups: np.ndarray, wanted: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each wanted group label, a uniformly drawn member (index into ``groups``); -1 if empty.

    ``u`` has shape ``wanted.shape + (k,)`` for k draws per row.
    """
    keys = groups
    if groups.size and np.issubdtype(groups.dtype, np.integer) and -(2**15) <= groups.min() and groups.max() < 2**15:
        keys = groups.astype(np.int16)  # NumPy's stable sort is a radix sort on 16 bits: the same order, 4x faster
    order = np.argsort(keys, kind="stable")
    sorted_groups = groups[order]
    lo = np.searchsorted(sorted_groups, wanted, side="left")
    hi = np.searchsorted(sorted_groups, wanted, side="right")
    size = (hi - lo)[..., None]
    pos = lo[..., None] + np.minimum((u * size).astype(np.int64), np.maximum(size - 1, 0))
    out = np.where(size > 0, order[np.minimum(pos, order.size - 1)] if order.size else -1, -1)
    return out
