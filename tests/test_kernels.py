import numpy as np
import scipy.sparse as sp

from clusterup import kernels as k
from clusterup.compiled import best_model, neighbour_above


def test_best_model_prefers_strength_times_gap():
    a = np.array([0.1, 0.5, 0.9, 0.2])
    rows, cols, w = [0, 0, 1, 3], [1, 2, 2, 0], [1.0, 0.4, 1.0, 1.0]
    adj = sp.csr_matrix((w + w, (rows + cols, cols + rows)), shape=(4, 4))
    model, strength = best_model(adj, a)
    assert model.tolist() == [1, 2, -1, -1]  # 0: 1*0.4 > 0.4*0.8; 3's only neighbour is weaker
    assert strength.tolist() == [1.0, 1.0, 0.0, 0.0]
    # strengths capped: with w = 3 to node 1 and the cap at 1, node 2 (1 x 0.8) beats node 1 (1 x 0.4)
    adj = sp.csr_matrix(([3.0, 1.0, 3.0, 1.0], ([0, 0, 1, 2], [1, 2, 0, 0])), shape=(3, 3))
    assert best_model(adj, a[:3])[0][0] == 1
    model, strength = best_model(adj, a[:3], cap=1.0)
    assert model[0] == 2 and strength[0] == 1.0
    # equal top scores: the last in the row wins
    tie = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0], ([0, 0, 1, 2], [1, 2, 0, 0])), shape=(3, 3))
    assert best_model(tie, np.array([0.1, 0.5, 0.5]))[0][0] == 2


def test_random_neighbour_draws_only_neighbours():
    adj = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    rows = np.zeros(1000, dtype=np.int64)
    picks = k.random_neighbour(adj, rows, np.random.default_rng(0).random(1000))
    assert set(picks.tolist()) == {1, 2}
    assert abs((picks == 1).mean() - 0.5) < 0.06  # binomial sd 0.016 at n=1000
    iso = sp.csr_matrix((2, 2))
    assert k.random_neighbour(iso, np.array([0, 1]), np.array([0.3, 0.9])).tolist() == [-1, -1]


def test_softmax_choice_matches_logit_probabilities():
    rng = np.random.default_rng(1)
    u = np.tile([0.0, np.log(3.0), -np.inf], (20000, 1))
    chosen = k.softmax_choice(u, rng.random(20000))
    assert not (chosen == 2).any()  # closed alternative
    assert abs((chosen == 1).mean() - 0.75) < 0.015  # sd 0.003 at n=20000


def test_sample_from_groups_stays_in_group():
    groups = np.array([0, 1, 1, 2, 2, 2])
    wanted = np.array([1, 2, 3])
    picks = k.sample_from_groups(groups, wanted, np.random.default_rng(2).random((3, 50)))
    assert set(groups[picks[0]]) == {1} and set(groups[picks[1]]) == {2}
    assert (picks[2] == -1).all()  # empty group
    # small labels take a 16-bit sort, large ones (or floats) the general one: the same draws
    rng = np.random.default_rng(4)
    small = rng.integers(0, 7, 500)
    u = rng.random((40, 3))
    same = k.sample_from_groups(small, np.arange(40) % 8, u)
    assert np.array_equal(same, k.sample_from_groups(small * 100_000, (np.arange(40) % 8) * 100_000, u))
    assert np.array_equal(same, k.sample_from_groups(small.astype(float), (np.arange(40) % 8).astype(float), u))


def test_distances_and_gains():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.0, 1.0], [0.5, 0.5]])
    assert k.tv_distance(p, q).tolist() == [1.0, 0.0]
    assert k.cognitive_fit(np.array([0.0, 0.5, 1.0])).tolist() == [0.0, 1.0, 0.0]
    assert k.logistic_gain(np.array([0.5, 1.2]), np.array([1.0, 1.0]), 0.2).tolist() == [0.05, 0.0]
    assert np.allclose(k.normalise_rows(np.array([[2.0, 2.0], [0.0, 0.0]])), [[0.5, 0.5], [0.5, 0.5]])


def test_neighbour_above_matches_a_loop_and_is_false_for_isolated_rows():
    rng = np.random.default_rng(5)
    for n, density in ((1, 0.0), (7, 0.0), (30, 0.05), (60, 0.3)):
        adj = sp.random(n, n, density=density, random_state=rng, format="csr")
        adj = (adj + adj.T).tocsr()
        values = rng.integers(0, 9, n).astype(np.int32)
        got = neighbour_above(adj, values)
        for i in range(n):
            nb = adj.indices[adj.indptr[i] : adj.indptr[i + 1]]
            assert got[i] == bool(nb.size and values[nb].max() > values[i])
