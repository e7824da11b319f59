"""Indicators against hand values and against NetworkX on random graphs."""

import networkx as nx
import numpy as np
import pytest

from clusterup import indicators as ind


def test_inequality_measures_on_known_values():
    assert ind.gini(np.ones(5)) == pytest.approx(0.0)
    assert ind.gini(np.array([0, 0, 0, 1.0])) == pytest.approx(0.75)
    assert ind.cv(np.array([1.0, 3.0])) == pytest.approx(0.5)
    x = np.array([1.0] * 9 + [10.0])
    assert ind.top_decile_ratio(x) == pytest.approx(10.0)


def test_jaccard_turnover():
    a = np.array([1, 2, 3])
    assert ind.jaccard_turnover(a, a) == 0.0
    assert ind.jaccard_turnover(np.array([1, 2]), np.array([2, 3])) == pytest.approx(1 - 1 / 3)
    assert ind.jaccard_turnover(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 0.0
    assert ind.jaccard_turnover(np.array([5]), np.array([], dtype=np.int64)) == 1.0
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = np.unique(rng.integers(0, 50, 30))
        y = np.unique(rng.integers(0, 50, 30))
        sx, sy = set(x.tolist()), set(y.tolist())
        assert ind.jaccard_turnover(x, y) == pytest.approx(1 - len(sx & sy) / len(sx | sy))


@pytest.mark.parametrize("n,p,seed", [(10, 0.3, 0), (50, 0.05, 1), (200, 0.02, 2), (120, 0.2, 3)])
def test_network_indicators_equal_networkx(n, p, seed):
    g = nx.gnp_random_graph(n, p, seed=seed)
    edges = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    adj = ind.binary_adjacency(edges[:, 0], edges[:, 1], n)
    assert ind.transitivity(edges[:, 0], edges[:, 1], n) == pytest.approx(nx.transitivity(g))
    nodes = np.arange(n)
    giant = max((len(c) for c in nx.connected_components(g)), default=0) / n
    assert ind.giant_share(adj, nodes) == pytest.approx(giant)
    # on an induced subgraph too (inactive slots are left out)
    keep = nodes[nodes % 3 != 0]
    sub = g.subgraph(keep.tolist())
    assert ind.giant_share(adj, keep) == pytest.approx(max(len(c) for c in nx.connected_components(sub)) / keep.size)


def test_knowledge_measures():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ind.knowledge_heterogeneity(q) == pytest.approx(0.5)
    assert ind.mean_profile_entropy_breadth(q) == pytest.approx(1.0)
    assert ind.knowledge_heterogeneity(np.array([[0.3, 0.7]] * 3)) == pytest.approx(0.0)
