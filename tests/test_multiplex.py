import numpy as np

from clusterup.compiled import to_scipy
from clusterup.state import Layer, Multiplex, Population
from clusterup.state.multiplex import edge_keys


def test_add_is_undirected_and_merges_duplicates():
    layer = Layer("social")
    layer.add(np.array([0, 2, 1]), np.array([1, 1, 0]), np.array([0.2, 0.5, 0.7]))
    assert len(layer) == 2  # (0,1) twice -> one tie
    assert layer.has(np.array([1, 0, 1, 0]), np.array([0, 1, 2, 2])).tolist() == [True, True, True, False]
    w01 = layer.w[layer.keys == edge_keys(np.array([0]), np.array([1]))[0]][0]
    assert w01 == 0.7  # "max" keeps the stronger
    layer.add(np.array([0]), np.array([1]), 0.1, how="sum")
    assert np.isclose(layer.w[layer.keys == edge_keys(np.array([0]), np.array([1]))[0]][0], 0.8)


def test_add_takes_pairs_of_any_shape_pair_by_pair():
    """Pairs given as 2-d arrays (or a strength per pair in that shape) are the pairs of their entries, in C
    order: the same ties as the flattened pairs."""
    i, j = np.array([[0, 1, 2], [3, 3, 5]]), np.array([[1, 4, 2], [0, 4, 1]])
    w = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    for strengths, flat in ((w, w.ravel()), (0.5, 0.5)):
        shaped, plain = Layer("social"), Layer("social")
        shaped.add(i, j, strengths)
        plain.add(i.ravel(), j.ravel(), flat)
        assert shaped.keys.tolist() == plain.keys.tolist() and shaped.w.tolist() == plain.w.tolist()
        assert len(shaped) == 5  # (2, 2) is a self-pair


def test_has_keys_looks_up_another_layers_ties_by_their_keys():
    social, economic = Layer("social"), Layer("economic")
    social.add(np.array([0, 1, 2]), np.array([1, 3, 4]), 1.0)
    assert not economic.has_keys(social.keys).any()  # an empty layer holds none
    economic.add(np.array([3, 5]), np.array([1, 0]), 0.5)
    assert economic.has_keys(social.keys).tolist() == economic.has(social.i, social.j).tolist() == [False, True, False]


def test_self_ties_are_ignored():
    layer = Layer("economic")
    layer.add(np.array([3, 3]), np.array([3, 4]), 1.0)
    assert len(layer) == 1 and layer.i.tolist() == [3] and layer.j.tolist() == [4]


def test_adjacency_is_symmetric_and_cache_invalidates():
    layer = Layer("knowledge")
    layer.add(np.array([0, 1]), np.array([2, 2]), np.array([0.3, 0.6]))
    a = layer.adjacency(3)
    assert (a != a.T).nnz == 0
    assert a[0, 2] == 0.3 and a[2, 1] == 0.6
    layer.set_weights(layer.w * 2)
    assert layer.adjacency(3)[0, 2] == 0.6


def test_tie_below_floor_is_dropped():
    layer = Layer("social")
    layer.add(np.array([0, 1]), np.array([1, 2]), np.array([0.04, 0.5]))
    dropped = layer.drop_below(0.05)
    assert dropped == 1 and len(layer) == 1 and not layer.has(np.array([0]), np.array([1]))[0]


def test_remove_nodes_and_remap_follow_compaction():
    pop = Population(2, capacity=4)
    pop.add(4)
    net = Multiplex()
    net["social"].add(np.array([0, 1, 2]), np.array([1, 2, 3]), 1.0)
    pop.deactivate(1)
    gone = ~pop.view("active")
    net.remove_nodes(gone)
    assert net["social"].i.tolist() == [2] and net["social"].j.tolist() == [3]
    mapping = pop.compact()
    net.remap(mapping)
    assert pop.n == 3 and pop.view("id").tolist() == [0, 2, 3]
    assert net["social"].i.tolist() == [1] and net["social"].j.tolist() == [2]


def test_degree_and_strength():
    layer = Layer("economic")
    layer.add(np.array([0, 0]), np.array([1, 2]), np.array([0.5, 0.25]))
    assert layer.degree(3).tolist() == [2, 1, 1]
    assert np.allclose(layer.strength(3), [0.75, 0.5, 0.25])


def test_combined_cache_follows_every_change():
    net = Multiplex()
    net["social"].add(np.array([0]), np.array([1]), 1.0)
    first = net.combined(3)
    assert to_scipy(first)[0, 1] == 1.0 and net.combined(3) is first  # cached while nothing changes
    for _ in range(50):  # many short-lived matrices: a cache keyed on object ids would go stale
        net["economic"].add(np.array([1]), np.array([2]), 0.5)
        net["economic"].set_weights(net["economic"].w * 1.0)
        assert to_scipy(net.combined(3))[1, 2] == 0.5
    net["economic"].keep(np.zeros(1, bool))
    assert to_scipy(net.combined(3))[1, 2] == 0.0


def test_neighbours_and_decoded_ends_match_the_adjacency():
    rng = np.random.default_rng(8)
    layer = Layer("x")
    layer.add(rng.integers(0, 60, 300), rng.integers(0, 60, 300), rng.random(300))
    adj = layer.adjacency(60)
    for node in range(60):
        np.testing.assert_array_equal(layer.neighbours(node), adj.indices[adj.indptr[node] : adj.indptr[node + 1]])
    np.testing.assert_array_equal(edge_keys(layer.i, layer.j), layer.keys)
    big = Layer("big")  # slots near the 2**31 limit decode too
    big.add(np.array([2**31 - 2, 5]), np.array([2**31 - 1, 2**30]), 1.0)
    assert big.i.tolist() == [5, 2**31 - 2] and big.j.tolist() == [2**30, 2**31 - 1]


def test_strength_and_degree_are_cached_read_only_until_the_layer_changes():
    """Processes ask for the same layer's strength several times a step: the answer is computed once per
    change of the layer, cannot be modified by a caller, and follows every change."""
    layer = Layer("test")
    layer.add(np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0.5, 1.0, 2.0]))
    first = layer.strength(5)
    assert layer.strength(5) is first and not first.flags.writeable
    np.testing.assert_array_equal(first, [0.5, 1.5, 3.0, 2.0, 0.0])
    np.testing.assert_array_equal(layer.degree(5), [1, 2, 2, 1, 0])
    layer.set_weights(layer.w * 2.0)
    np.testing.assert_array_equal(layer.strength(5), [1.0, 3.0, 6.0, 4.0, 0.0])
    layer.add(np.array([0]), np.array([4]), 1.0)
    np.testing.assert_array_equal(layer.degree(5), [2, 2, 2, 1, 1])
    np.testing.assert_array_equal(layer.degree(6), [2, 2, 2, 1, 1, 0])


def test_reach_sum_is_built_with_the_combined_sum_once_asked_for(monkeypatch):
    """reach_sum is knowledge + omega * (social + economic) as add_csr computes it; once asked for, the next
    build of the combined sum makes it in the same merge (no separate add_csr), with the same numbers; a new
    omega or a changed layer builds it again."""
    import clusterup.state.multiplex as multiplex

    rng = np.random.default_rng(4)
    n = 60
    net = Multiplex()
    for name in ("social", "economic", "knowledge"):
        net[name].add(rng.integers(0, n, 150), rng.integers(0, n, 150), rng.random(150))

    def sums(omega=0.3):
        s, e, k = (to_scipy(net[name].csr(n)) for name in ("social", "economic", "knowledge"))
        return (s + e) + k, k + omega * (s + e)

    def same(a, b):
        b = b.tocsr()
        return (np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
                and np.array_equal(a.data, b.data))  # fmt: skip

    assert same(net.reach_sum(n, 0.3), sums()[1])  # first ask: built on its own
    net["knowledge"].add(np.array([1]), np.array([2]), 0.7)
    want_combined, want_reach = sums()
    calls = []
    original = multiplex.add_csr
    monkeypatch.setattr(multiplex, "add_csr", lambda *a: calls.append(len(a)) or original(*a))
    assert same(net.combined(n), want_combined)
    assert same(net.reach_sum(n, 0.3), want_reach)
    assert calls == []  # social + economic is cached; the two sums came from one pair merge
    assert same(net.reach_sum(n, 0.5), sums(0.5)[1])  # another omega: built again, on its own
    assert calls == [3]
