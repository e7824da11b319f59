"""Pure functions from state (or arrays) to the numbers the recorder keeps."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

_ID_BASE = np.int64(1) << 32


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal; -> 1: concentrated)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    if n == 0 or x.sum() <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum() / (n * x.sum())) - (n + 1) / n)


def cv(x: np.ndarray) -> float:
    """Coefficient of variation (population standard deviation over the mean)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or x.mean() == 0:
        return 0.0
    return float(x.std() / x.mean())


def top_decile_ratio(x: np.ndarray) -> float:
    """Mean of the top 10% over the mean of the other 90% (at least one firm in the top)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    if x.size < 2:
        return 1.0
    k = max(1, int(round(0.1 * x.size)))
    rest = x[:-k]
    return float(x[-k:].mean() / rest.mean()) if rest.mean() > 0 else 0.0


def binary_adjacency(i: np.ndarray, j: np.ndarray, n: int) -> sp.csr_matrix:
    """Unweighted symmetric adjacency (n x n) from undirected edge arrays."""
    data = np.ones(2 * i.size)
    a = sp.csr_matrix((data, (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    a.data[:] = 1.0
    return a


def transitivity(adj: sp.csr_matrix) -> float:
    """Global clustering: 3 x triangles / connected triples (NetworkX ``transitivity``)."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    triples = float((deg * (deg - 1)).sum())
    if triples == 0:
        return 0.0
    closed = float((adj @ adj).multiply(adj).sum())
    return closed / triples


def giant_share(adj: sp.csr_matrix, nodes: np.ndarray) -> float:
    """Share of ``nodes`` in the largest connected component of the subgraph they induce."""
    if nodes.size == 0:
        return 0.0
    sub = adj[nodes][:, nodes]
    _, labels = connected_components(sub, directed=False)
    return float(np.bincount(labels).max() / nodes.size)


def jaccard_turnover(current: np.ndarray, previous: np.ndarray) -> float:
    """1 - |A & B| / |A | B| for two sorted unique key arrays (0 when both are empty)."""
    union = np.union1d(current, previous).size
    if union == 0:
        return 0.0
    return 1.0 - np.intersect1d(current, previous, assume_unique=True).size / union


def id_keys(ids: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Sorted keys of undirected ties by stable node ids (survive compaction)."""
    a, b = ids[i], ids[j]
    return np.sort(np.minimum(a, b) * _ID_BASE + np.maximum(a, b))


def mean_profile_entropy_breadth(q: np.ndarray) -> float:
    """Effective number of knowledge domains of the cluster's mean profile, over the number of domains."""
    if q.shape[0] == 0:
        return 0.0
    p = q.mean(axis=0)
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()) / q.shape[1])


def knowledge_heterogeneity(q: np.ndarray) -> float:
    """Mean total-variation distance of firms' profiles to the cluster's mean profile."""
    if q.shape[0] == 0:
        return 0.0
    return float(0.5 * np.abs(q - q.mean(axis=0)).sum(axis=1).mean())
