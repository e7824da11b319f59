"""Indicators against hand values and against NetworkX on random graphs."""

import networkx as nx
import numpy as np
import pandas as pd
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
    assert ind.transitivity(edges[:, 0], edges[:, 1], n) == pytest.approx(nx.transitivity(g))
    nodes = np.arange(n)
    giant = max((len(c) for c in nx.connected_components(g)), default=0) / n
    assert ind.giant_share(edges[:, 0], edges[:, 1], n, nodes) == pytest.approx(giant)
    # on an induced subgraph too (inactive slots are left out)
    keep = nodes[nodes % 3 != 0]
    sub = g.subgraph(keep.tolist())
    assert ind.giant_share(edges[:, 0], edges[:, 1], n, keep) == pytest.approx(
        max(len(c) for c in nx.connected_components(sub)) / keep.size
    )


def test_knowledge_measures():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ind.knowledge_heterogeneity(q) == pytest.approx(0.5)
    assert ind.mean_profile_entropy_breadth(q) == pytest.approx(1.0)
    assert ind.knowledge_heterogeneity(np.array([[0.3, 0.7]] * 3)) == pytest.approx(0.0)


def test_multiplex_participation_on_hand_made_cases():
    # node 0: one tie in each of 3 layers -> 1; node 1: 2 ties all in one layer -> 0;
    # node 2: 2 + 1 + 1 -> 3/2 (1 - (1/4 + 1/16 + 1/16)) = 0.9375; node 3 has no ties (left out)
    deg = np.array([[1, 2, 2, 0], [1, 0, 1, 0], [1, 0, 1, 0]])
    assert ind.multiplex_participation(deg) == pytest.approx((1 + 0 + 0.9375) / 3)
    assert ind.multiplex_participation(np.zeros((3, 4))) == 0.0


def test_edge_overlap_on_hand_made_cases():
    a = np.array([1, 2, 3])
    assert ind.edge_overlap([a, a, a]) == pytest.approx(1.0)
    assert ind.edge_overlap([np.array([1]), np.array([2]), np.array([3])]) == pytest.approx(1 / 3)
    # pairs {1,2,3,4}: 1 in three layers, 2 in two, 3 and 4 in one -> 7 / (3 * 4)
    assert ind.edge_overlap([np.array([1, 2, 3]), np.array([1, 2]), np.array([1, 4])]) == pytest.approx(7 / 12)
    empty = np.array([], dtype=np.int64)
    assert ind.edge_overlap([empty, empty, empty]) == 0.0


def test_recorded_multiplex_measures_match_the_final_network():
    import clusterup

    res = clusterup.simulate("baseline", seed=2, steps=30, firms=80)
    ties = res.ties
    pairs = ties.assign(a=ties[["source", "target"]].min(axis=1), b=ties[["source", "target"]].max(axis=1))
    per_pair = pairs.groupby(["a", "b"]).size()
    assert res.final.edge_overlap == pytest.approx(per_pair.mean() / 3)
    deg = {layer: pd.concat([g.source, g.target]).value_counts() for layer, g in ties.groupby("layer")}
    table = pd.DataFrame(deg).fillna(0.0)
    o = table.sum(axis=1)
    p = (1.5 * (1 - ((table.div(o, axis=0)) ** 2).sum(axis=1))).mean()
    assert res.final.multiplex_participation == pytest.approx(p)


def test_multiplex_turnover_pools_the_layers():
    import clusterup

    res = clusterup.simulate("baseline", seed=6, steps=20, firms=60)
    ts = res.timeseries
    assert ts.turnover.iloc[0] == 0.0
    # pooled turnover lies between the smallest and largest layer turnover, weighted by their sizes
    layers = ts[["social_turnover", "economic_turnover", "knowledge_turnover"]]
    assert ((ts.turnover >= layers.min(axis=1) - 1e-12) & (ts.turnover <= layers.max(axis=1) + 1e-12)).all()


def test_id_keys_are_sorted_whatever_the_id_order():
    rng = np.random.default_rng(3)
    i = np.sort(rng.integers(0, 40, 200))
    j = i + 1 + rng.integers(0, 10, 200)
    for ids in (np.arange(60) * 3 + 7, rng.permutation(60)):  # growing with slots (the usual case), and not
        a, b = ids[i], ids[j]
        expected = np.sort(np.minimum(a, b) * (np.int64(1) << 32) + np.maximum(a, b))
        np.testing.assert_array_equal(ind.id_keys(ids, i, j), expected)
