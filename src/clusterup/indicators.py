"""Pure functions from state (or arrays) to the numbers the recorder keeps."""

from __future__ import annotations

import numpy as np

from .compiled import component_roots, sorted_common, sorted_member, triangles

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


def transitivity(i: np.ndarray, j: np.ndarray, n: int) -> float:
    """Global clustering of an undirected simple graph given once per tie:
    3 x triangles / connected triples, as NetworkX ``transitivity``.

    Triangles are counted once each by :func:`clusterup.compiled.triangles` (ties oriented by degree).
    """
    deg = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    triples = float((deg * (deg - 1)).sum())
    if triples == 0:
        return 0.0
    return 6.0 * float(triangles(i, j, n)) / triples


def giant_share(i: np.ndarray, j: np.ndarray, n: int, nodes: np.ndarray, isolated_others: bool = False) -> float:
    """Share of ``nodes`` in the largest connected component of the subgraph they induce
    (ties ``(i, j)`` over slots ``0..n-1``).

    With ``isolated_others`` the caller guarantees that nodes outside ``nodes`` have no ties, so the
    ties need no filtering.
    """
    if nodes.size == 0:
        return 0.0
    if not isolated_others:
        inside = np.zeros(n, dtype=bool)
        inside[nodes] = True
        keep = inside[i] & inside[j]
        i, j = i[keep], j[keep]
    roots = component_roots(i, j, n)[nodes]
    return float(np.bincount(roots).max() / nodes.size)


def overlap_counts(current: np.ndarray, previous: np.ndarray) -> tuple[int, int]:
    """(|A & B|, |A | B|) for two sorted unique key arrays."""
    if current.size == 0 or previous.size == 0:
        return 0, int(current.size + previous.size)
    common = sorted_common(current, previous)
    return common, int(current.size + previous.size - common)


def jaccard_turnover(current: np.ndarray, previous: np.ndarray) -> float:
    """1 - |A & B| / |A | B| for two sorted unique key arrays (0 when both are empty)."""
    common, union = overlap_counts(current, previous)
    return 1.0 - common / union if union else 0.0


def id_keys(ids: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Sorted keys of undirected ties by stable node ids (survive compaction).

    Ids grow with slots (entrants get new ids at new slots; compaction keeps the order), so ties
    given in a layer's order give sorted keys already: checked, and sorted only where they are not."""
    a, b = ids[i], ids[j]
    keys = np.minimum(a, b) * _ID_BASE + np.maximum(a, b)
    return np.sort(keys) if keys.size > 1 and (keys[1:] < keys[:-1]).any() else keys


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


def multiplex_participation(degrees: np.ndarray) -> float:
    """Mean multiplex participation coefficient (Battiston, Nicosia & Latora 2014) over nodes with ties.

    ``degrees`` is (layers x nodes). ``P_i = M/(M-1) (1 - sum_a (k_i^a / o_i)^2)`` with ``o_i`` the
    overlapping degree: 0 when all of a node's ties are in one layer, 1 when spread evenly over all.
    """
    m = degrees.shape[0]
    o = degrees.sum(axis=0)
    has = o > 0
    if m < 2 or not has.any():
        return 0.0
    share = degrees[:, has] / o[has]
    return float((m / (m - 1) * (1.0 - (share**2).sum(axis=0))).mean())


def edge_overlap(key_sets: list[np.ndarray]) -> float:
    """Average edge overlap (Battiston et al. 2014): mean number of layers a tied pair shares, over M.

    ``key_sets`` holds one sorted array of tie keys per layer. 1/M when no pair is tied in two layers,
    1 when every tied pair is tied in all layers; 0 for an empty network.
    """
    total = sum(int(k.size) for k in key_sets)
    if total == 0:
        return 0.0
    pairs = 0  # distinct tied pairs: each layer's keys not already in an earlier layer (merge pass)
    for a, keys in enumerate(key_sets):
        new = np.ones(keys.size, dtype=bool)
        for prev in key_sets[:a]:
            if prev.size and keys.size:
                new &= ~sorted_member(keys, prev)
        pairs += int(new.sum())
    return float(total / (len(key_sets) * pairs))
