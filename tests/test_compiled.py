"""The compiled kernels against their NumPy/SciPy oracles: the same numbers, bit for bit."""

import subprocess
import sys
import threading

import networkx as nx
import numba
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from clusterup import compiled
from clusterup.kernels import normalise_rows as _ref_normalise_rows
from clusterup.kernels import softmax_choice
from clusterup.state.multiplex import KEY_BASE, KEY_BITS, Layer


def random_layer(n: int, m: int, seed: int) -> Layer:
    rng = np.random.default_rng(seed)
    layer = Layer("test")
    if m:
        layer.add(rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m))
    return layer


def scipy_adjacency(layer: Layer, n: int) -> sp.csr_matrix:
    return _ref_symmetric_csr(layer.i, layer.j, layer.w, n)


def assert_same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # exact, not approximate


@pytest.mark.parametrize("n,m,seed", [(1, 0, 0), (5, 0, 1), (6, 12, 2), (50, 200, 3), (400, 3000, 4), (3000, 500, 5)])
def test_symmetric_csr_equals_scipy(n, m, seed):
    layer = random_layer(n, m, seed)
    built = compiled.symmetric_csr(layer.i, layer.j, layer.w, n)
    assert_same_csr(built, scipy_adjacency(layer, n))
    assert built.nnz == 2 * len(layer)
    as_scipy = compiled.to_scipy(built)
    assert as_scipy.has_canonical_format and as_scipy.shape == (n, n)
    assert_same_csr(as_scipy, scipy_adjacency(layer, n))
    structure = compiled.symmetric_neighbours(layer.i, layer.j, n)  # the same rows, without the strengths
    np.testing.assert_array_equal(structure.indptr, built.indptr)
    np.testing.assert_array_equal(structure.indices, built.indices)
    assert structure.indptr.dtype == built.indptr.dtype and structure.indices.dtype == built.indices.dtype
    assert layer.neighbours_csr(n).indices.tolist() == built.indices.tolist()
    # some rows only (repeated, unsorted, none): those rows as the whole build has them, every other row empty
    rows = np.random.default_rng(seed).integers(0, n, max(n // 3, 1))
    for asked in (rows, rows[:0], np.arange(n)):
        part = compiled.symmetric_neighbours(layer.i, layer.j, n, asked)
        assert part.indptr.dtype == built.indptr.dtype and part.indices.dtype == built.indices.dtype
        for r in range(n):
            got = part.indices[part.indptr[r] : part.indptr[r + 1]].tolist()
            assert got == (built.indices[built.indptr[r] : built.indptr[r + 1]].tolist() if r in set(asked) else [])
    layer.csr(n)
    assert layer.neighbours_csr(n) is layer.csr(n)  # a cached adjacency serves as it is
    assert layer.neighbours_csr(n, rows) is layer.csr(n)


def _ref_mode_column(firms, value, gain, cost, scale, fees, wealth, typical, code, utility, costs):
    n = gain.size  # the mode choice's NumPy expressions before compiled.mode_column
    cost = np.asarray(cost)
    cost_f = (cost[firms] if cost.shape == (n,) else np.broadcast_to(cost, (n,))[firms]) * scale
    net = value * gain[firms] - cost_f if fees is None else value * gain[firms] - cost_f - fees[firms]
    utility[:, code] = np.where(cost_f <= np.maximum(wealth, 0.0), net / typical, -np.inf)
    costs[:, code] = cost_f


@pytest.mark.parametrize("seed", range(4))
def test_mode_column_equals_the_numpy_expressions(seed):
    """mode_column gives the utilities and costs of the NumPy expressions bit for bit: one cost for all or one
    per slot, with and without fees, negative, zero and NaN wealth, free modes."""
    rng = np.random.default_rng(seed)
    n = 500
    firms = np.sort(rng.choice(n, 300, replace=False))
    value, scale = rng.random(300) * 10.0 ** rng.integers(-3, 3, 300), rng.random(300) + 0.5
    wealth = rng.normal(0.5, 1.0, 300)
    wealth[:5] = [np.nan, 0.0, -0.0, -1.0, np.inf]
    gain = rng.random(n) * 10.0 ** rng.integers(-6, 1, n)
    fees = rng.random(n) * (rng.random(n) < 0.3)
    for cost in (0.3, 0.0, rng.random(n) * (rng.random(n) < 0.8)):
        for f in (None, fees):
            found = (np.zeros((300, 4)), np.zeros((300, 4)))
            want = (np.zeros((300, 4)), np.zeros((300, 4)))
            compiled.mode_column(firms, value, gain, cost, scale, f, wealth, 1.7, 2, *found)
            _ref_mode_column(firms, value, gain, cost, scale, f, wealth, 1.7, 2, *want)
            for a, b in zip(found, want, strict=True):
                np.testing.assert_array_equal(a, b)


def _ref_equal_choice(utility, u, none):
    utility = utility.copy()  # the mode choice's NumPy expressions with choice.always_try, before equal_choice
    utility[:, none] = -np.inf
    utility = np.where(np.isfinite(utility), 0.0, -np.inf)
    utility[~np.isfinite(utility).any(axis=1), none] = 0.0  # nothing open: the firm does nothing
    return compiled.logit_choice(utility, u, None)


@pytest.mark.parametrize("none", [0, 2])
def test_equal_choice_equals_the_logit_of_open_modes(none):
    """equal_choice draws what the logit of the always-try utilities (0 open, -inf closed) draws: finite entries
    of any sign open, -inf, +inf and NaN closed, ``none`` where a row has nothing open; u at and next to the
    cumulative shares' edges."""
    rng = np.random.default_rng(none)
    utility = rng.normal(0.0, 3.0, (4_000, 4))
    utility[rng.random(utility.shape) < 0.4] = -np.inf
    utility[:3] = [[np.nan, np.inf, -np.inf, -np.inf], [-np.inf] * 4, [0.0, -0.0, np.nan, 1e308]]
    utility[3:10, :] = -np.inf  # rows with nothing open but, perhaps, "none"
    utility[3:6, none] = 1.0
    edges = np.array([0.0, 1 / 3, 0.5, 2 / 3, 0.25, 0.75, 1.0])
    u = np.concatenate([rng.random(3_000), np.repeat(edges, 100), np.nextafter(np.repeat(edges, 100), 2.0),
                        np.nextafter(np.repeat(edges, 100), -1.0)])[: utility.shape[0]]  # fmt: skip
    u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
    found = compiled.equal_choice(utility, u, none)
    np.testing.assert_array_equal(found, _ref_equal_choice(utility, u, none))
    assert (found[3:10] == none).all() and set(np.unique(found)) <= {0, 1, 2, 3}
    assert not (found[10:] == none).all()


def _ref_model_gaps(model, phi, a, g):
    gain, dg = np.zeros(model.size), np.zeros(model.size)  # imitation's NumPy expressions before model_gaps
    has = model >= 0
    gap = np.zeros(model.size)
    gap[has] = a[model[has]] - a[has]
    gain[has] = phi[has] * gap[has] / a[has]
    dg[has] = g[model[has]] - g[has]
    return gain, dg


def test_model_gaps_equal_the_numpy_expressions():
    rng = np.random.default_rng(2)
    n = 2_000
    model = np.where(rng.random(n) < 0.6, rng.integers(0, n, n), -1)
    phi, a = rng.random(n) * 10.0 ** rng.integers(-4, 1, n), rng.random(n) * 10.0 ** rng.integers(-3, 3, n)
    g = rng.integers(0, 6, n).astype(np.int32)
    for found, want in zip(compiled.model_gaps(model, phi, a, g), _ref_model_gaps(model, phi, a, g), strict=True):
        np.testing.assert_array_equal(found, want)


def _ref_lookup(table, keys):
    return table[keys] if keys.size == 0 or (keys.min() >= 0 and keys.max() < table.size) else None


def test_lookup_gathers_or_reports_keys_outside_the_table():
    table = np.random.default_rng(0).random(64)
    for keys in (np.array([0, 5, 63], np.int32), np.zeros((3, 2), np.int64), np.empty(0, np.int64),
                 np.arange(70)[::7], np.array([64]), np.array([3, -1])):  # fmt: skip
        found, want = compiled.lookup(table, keys), _ref_lookup(table, keys)
        assert (found is None) == (want is None)
        if want is not None:
            assert found.shape == want.shape
            np.testing.assert_array_equal(found, want)


def _ref_union_neighbours(a, b, rows):
    return _ref_add_csr(a, b)  # every row of the sum's pattern; the callers read only ``rows``


@pytest.mark.parametrize("n,ma,mb,seed", [(1, 0, 0, 0), (6, 12, 0, 1), (6, 0, 12, 2), (400, 3000, 2000, 3),
                                          (3000, 500, 4000, 4)])  # fmt: skip
def test_union_neighbours_are_the_rows_of_the_sums_pattern(n, ma, mb, seed):
    """union_neighbours lists, for the rows asked (repeats allowed), each node's neighbours in either layer
    as the sum's CSR row does (ascending, once each), and nothing for the other rows. Either argument may be a
    full adjacency or the neighbours alone."""
    la, lb = random_layer(n, ma, seed), random_layer(n, mb, seed + 10)
    ref = _ref_add_csr(scipy_adjacency(la, n), scipy_adjacency(lb, n))
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, max(1, n // 3))
    rows = np.concatenate([rows, rows[:2]])
    a, b = la.csr(n), compiled.symmetric_neighbours(lb.i, lb.j, n)
    found = compiled.union_neighbours(a, b, rows)
    assert found.indptr.size == n + 1 and found.indptr[0] == 0
    for r in range(n):
        got = found.indices[found.indptr[r]:found.indptr[r + 1]]
        want = ref.indices[ref.indptr[r]:ref.indptr[r + 1]] if r in set(rows.tolist()) else []
        np.testing.assert_array_equal(got, want)
    assert found.indptr[-1] == found.indices.size


@pytest.mark.parametrize("n,m,seed", [(1, 0, 0), (6, 12, 2), (400, 3000, 4), (3000, 500, 5)])
def test_row_sums_and_products_equal_scipy(n, m, seed):
    layer = random_layer(n, m, seed)
    built = compiled.symmetric_csr(layer.i, layer.j, layer.w, n)
    ref = scipy_adjacency(layer, n)
    rng = np.random.default_rng(seed)
    np.testing.assert_array_equal(compiled.row_sums(built), _ref_row_sums(ref))  # exact
    for x in (rng.random(n), rng.random((n, 7)), rng.random((n, 7))[:, ::2]):  # vector, matrix, strided
        np.testing.assert_array_equal(compiled.csr_dot(built, x), _ref_csr_dot(ref, x))


@pytest.mark.parametrize("alpha", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_add_csr_equals_scipy(alpha, seed, monkeypatch):
    n = 300
    a = scipy_adjacency(random_layer(n, 900, seed), n)
    b = scipy_adjacency(random_layer(n, 700, seed + 10), n)
    expected = (a + alpha * b).tocsr()
    assert_same_csr(compiled.add_csr(a, b, alpha), expected)
    empty = compiled.symmetric_csr(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), n)
    assert_same_csr(compiled.add_csr(a, empty, alpha), a)
    assert_same_csr(compiled.add_csr(empty, b, 1.0), b)
    # the pair: a + alpha b and b + 0.3 a from one merge, each as add_csr (SciPy) computes it
    for x, y in ((a, b), (a, empty), (empty, b), (empty, empty)):
        first, second = compiled.add_csr_pair(x, y, alpha, 0.3)
        sx, sy = (compiled.to_scipy(m) if isinstance(m, compiled.CSR) else m for m in (x, y))
        assert_same_csr(first, (sx + alpha * sy).tocsr())
        assert_same_csr(second, (sy + 0.3 * sx).tocsr())
    # the parallel form: blocks cut by entries, written with gaps that are closed after; any number of blocks
    for x, y in ((a, b), (a, empty), (empty, b), (empty, empty)):
        ref, ref2 = compiled.add_csr_pair(x, y, alpha, 0.3)
        for blocks in (1, 2, 3, 7, 400):  # more blocks than rows: empty blocks
            for od2 in (np.empty(0), np.empty(x.nnz + y.nnz)):  # without the second sum, and with it
                op = np.zeros(n + 1, np.int32)
                oi, od = np.empty(x.nnz + y.nnz, np.int32), np.empty(x.nnz + y.nnz)
                k = compiled._merge_blocks(x.indptr, x.indices, x.data, y.indptr, y.indices, y.data, alpha, 0.3, n,
                                           op, oi, od, od2, blocks)  # fmt: skip
                assert_same_csr(compiled.CSR(op, oi[:k], od[:k]), ref)
                if od2.size:
                    assert_same_csr(compiled.CSR(op, oi[:k], od2[:k]), ref2)
    # the triple: (s + alpha e) + alpha k and k + 0.3 (s + alpha e) from one merge of three, as the two merges give
    c = compiled.symmetric_csr(*(lambda x: (x.i, x.j, x.w))(random_layer(n, 500, seed + 20)), n)
    triples = [(x, y, z) for x in (a, empty) for y in (b, empty) for z in (c, empty)]
    for x, y, z in triples:
        xy = compiled.add_csr(x, y, alpha)
        want = compiled.add_csr_pair(xy, z, alpha, 0.3)
        for got, ref in zip(compiled.add_csr_triple(x, y, z, alpha, 0.3), want, strict=True):
            assert_same_csr(got, ref)
    monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
    assert_same_csr(compiled.add_csr(a, b, alpha), expected)
    first, second = compiled.add_csr_pair(a, b, alpha, 0.3)
    assert_same_csr(first, expected)
    assert_same_csr(second, (b + 0.3 * a).tocsr())
    for threads in (2, 3):  # the triple's parallel form: blocks of rows side by side, the same entries
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", threads)
        for x, y, z in triples:
            want = compiled.add_csr_pair(compiled.add_csr(x, y, alpha), z, alpha, 0.3)
            for got, ref in zip(compiled.add_csr_triple(x, y, z, alpha, 0.3), want, strict=True):
                assert_same_csr(got, ref)


@pytest.mark.parametrize("n,p,seed", [(3, 1.0, 0), (30, 0.3, 1), (200, 0.05, 2), (500, 0.02, 3)])
def test_triangles_equal_networkx(n, p, seed):
    g = nx.gnp_random_graph(n, p, seed=seed)
    # a hub: node 0 tied to everyone (the degree orientation must still count each triangle once)
    g.add_edges_from((0, v) for v in range(1, n))
    edges = np.array(sorted(g.edges()), dtype=np.int64).reshape(-1, 2)
    expected = sum(nx.triangles(g).values()) // 3
    assert compiled.triangles(edges[:, 0], edges[:, 1], n) == expected
    assert compiled.triangles(edges[:, 1], edges[:, 0], n) == expected  # either end first


def test_triangles_of_tiny_graphs():
    none = np.zeros(0, dtype=np.int64)
    assert compiled.triangles(none, none, 4) == 0
    assert compiled.triangles(np.array([0, 1]), np.array([1, 2]), 3) == 0  # a path
    assert compiled.triangles(np.array([0, 0, 1]), np.array([1, 2, 2]), 3) == 1


def _id_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted unique id keys ``(min << 32) + max`` of the pairs with two different ends."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.unique((lo[lo != hi] << 32) + hi[lo != hi])


def _triangles_of(keys: np.ndarray) -> int:
    i, j = keys >> 32, keys & ((1 << 32) - 1)
    return compiled.triangles(i, j, int(j.max()) + 1 if keys.size else 0)


@pytest.mark.parametrize("seed", range(6))
def test_triangles_since_equal_a_fresh_count(seed):
    """A graph that changes a little at a time (ties come and go, nodes come, a hub takes many ties, triangles
    close): the count carried from the last one through the changed ties is the fresh count, every time."""
    rng = np.random.default_rng(seed)
    n = 400
    keys = _id_keys(rng.integers(0, n, 1500), rng.integers(0, n, 1500))
    keys = np.union1d(keys, _id_keys(np.zeros(120, np.int64), np.arange(1, 121)))  # node 0: a hub
    count = _triangles_of(keys)
    carried = 0
    for _ in range(25):
        kept = keys[rng.random(keys.size) > 0.02]
        a = rng.integers(0, n + 20, 40)  # new nodes too (ids above the old ones)
        i, j = kept >> 32, kept & ((1 << 32) - 1)
        pick = rng.integers(0, kept.size, 40)  # closing triangles: a tie's end to a neighbour's neighbour
        new = np.union1d(kept, _id_keys(np.concatenate([a, i[pick]]), np.concatenate([rng.integers(0, n, 40), j[pick[::-1]]])))
        got = compiled.triangles_since(keys, count, new)
        count = _triangles_of(new)
        if got is not None:
            carried += 1
            assert got == count
        keys = new
    assert carried >= 20  # the counts were carried, not all taken afresh


def _ref_pay_chosen(firms, chosen, costs, wealth, profit):
    paid = costs[np.arange(firms.size), chosen]
    wealth[firms] -= paid
    profit[firms] -= paid


@pytest.mark.parametrize("parallel", [False, True])
def test_pay_chosen_equals_the_numpy_form(parallel, monkeypatch):
    rng = np.random.default_rng(3)
    n = 5000
    firms = np.sort(rng.choice(n, 3000, replace=False))
    costs = rng.random((firms.size, 4)) * (rng.random((firms.size, 4)) > 0.3)
    chosen = rng.integers(0, 4, firms.size)
    wealth, profit = rng.normal(size=n), rng.normal(size=n)
    want_w, want_p = wealth.copy(), profit.copy()
    _ref_pay_chosen(firms, chosen, costs, want_w, want_p)
    if parallel:
        monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1)
        monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    compiled.pay_chosen(firms, chosen, costs, wealth, profit)
    assert wealth.tobytes() == want_w.tobytes() and profit.tobytes() == want_p.tobytes()


def test_id_keys_equal_the_numpy_form():
    from clusterup import indicators as ind

    layer = random_layer(500, 2000, 7)
    ids = np.cumsum(np.random.default_rng(7).integers(1, 4, 500))  # ids grow with slots, with gaps
    np.testing.assert_array_equal(compiled.id_keys(ids, layer.i, layer.j), ind.id_keys(ids, layer.i, layer.j))
    shuffled = ids[::-1].copy()  # ids that do not grow with slots: sorted afterwards, as the NumPy form does
    np.testing.assert_array_equal(compiled.id_keys(shuffled, layer.i, layer.j), ind.id_keys(shuffled, layer.i, layer.j))


def test_triangles_since_of_small_and_large_changes():
    none = np.zeros(0, np.int64)
    tri = _id_keys(np.array([0, 0, 1]), np.array([1, 2, 2]))
    assert compiled.triangles_since(tri, 1, tri) == 1  # nothing changed
    assert compiled.triangles_since(none, 0, none) == 0
    assert compiled.triangles_since(none, 0, tri) is None  # everything changed: a fresh count pays
    rng = np.random.default_rng(9)
    big = _id_keys(rng.integers(0, 3000, 40000), rng.integers(0, 3000, 40000))
    half = big[: big.size // 2]
    assert compiled.triangles_since(big, _triangles_of(big), half) is None  # half the ties went
    some = big[np.arange(big.size) % 50 != 0]  # one tie in fifty went
    assert compiled.triangles_since(big, _triangles_of(big), some) == _triangles_of(some)


@pytest.mark.parametrize("n,m,seed", [(1, 0, 0), (10, 4, 1), (300, 250, 2), (2000, 1900, 3), (2000, 8000, 4)])
def test_components_equal_scipy(n, m, seed):
    layer = random_layer(n, m, seed)
    roots = compiled.component_roots(layer.i, layer.j, n)
    count, labels = connected_components(scipy_adjacency(layer, n), directed=False)
    assert np.unique(roots).size == count
    # the same partition: a root's label is its members' label, and a root is its component's smallest node
    np.testing.assert_array_equal(labels[roots], labels)
    first = np.full(count, n)
    np.minimum.at(first, labels, np.arange(n))
    np.testing.assert_array_equal(roots, first[labels])


@pytest.mark.parametrize("seed", range(5))
def test_sorted_membership_equals_isin(seed):
    rng = np.random.default_rng(seed)
    a = np.unique(rng.integers(0, 400, rng.integers(0, 300)))
    b = np.unique(rng.integers(0, 400, rng.integers(0, 300)))
    np.testing.assert_array_equal(compiled.sorted_member(a, b), np.isin(a, b))
    assert compiled.sorted_common(a, b) == np.intersect1d(a, b).size
    assert compiled.sorted_common(b, a) == np.intersect1d(a, b).size


@pytest.mark.parametrize("m,queries,seed", [(1, 5, 0), (2, 0, 1), (17, 40, 2), (1000, 3001, 3), (50_000, 20_000, 4)])
def test_sorted_contains_equals_isin(m, queries, seed):
    """The interleaved binary searches answer np.isin for queries in any order and shape, below, between, on
    and beyond the keys, whatever the number of queries left for the last group of sixteen."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, 4 * m, m).astype(np.int64))
    q = np.concatenate([rng.choice(keys, queries // 2), rng.integers(-3, 4 * m + 3, queries - queries // 2)])
    rng.shuffle(q)
    np.testing.assert_array_equal(compiled.sorted_contains(keys, q), np.isin(q, keys))
    if queries % 2 == 0 and queries:
        grid = q.reshape(2, -1)
        np.testing.assert_array_equal(compiled.sorted_contains(keys, grid), np.isin(grid, keys))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_indexed_search_of_tie_keys_equals_isin(seed):
    """With the index of where each lower node's keys begin, the searches answer np.isin too: for ties of a
    layer and pairs that are not, nodes with no keys or beyond the last keyed node, negative queries, every
    tie of a node, and a layer with one tie. In shares on threads, the same answers."""
    import numba

    rng = np.random.default_rng(seed)
    n = 500
    one = Layer("one")
    one.add(np.array([7]), np.array([3]), 0.5)
    for layer in (one, random_layer(n, 40, seed), random_layer(n, 6_000, seed)):
        keys = layer.keys
        ptr = compiled.key_index(keys, KEY_BITS)
        lo = keys >> KEY_BITS
        assert ptr.size == lo.max() + 2
        for v in {0, int(lo[0]), int(lo.max()), n // 2} & set(range(ptr.size - 1)):
            np.testing.assert_array_equal(keys[ptr[v] : ptr[v + 1]], keys[lo == v])
        i, j = rng.integers(0, n + 20, (2, 3_000))
        q = np.concatenate([keys, np.minimum(i, j) * KEY_BASE + np.maximum(i, j), [-1, -KEY_BASE, KEY_BASE * (n + 50)]])
        rng.shuffle(q)
        np.testing.assert_array_equal(compiled.sorted_contains(keys, q, (ptr, KEY_BITS)), np.isin(q, keys))
        np.testing.assert_array_equal(layer.has_keys(q), np.isin(q, keys))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "PARALLEL_ROWS", 1)
        mp.setattr(compiled, "PARALLEL_ITEMS", 1)
        mp.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
        np.testing.assert_array_equal(compiled.sorted_contains(keys, q, (ptr, KEY_BITS)), np.isin(q, keys))


@pytest.mark.parametrize("n", [0, 1, 2_047, 2_048, 5_001, 70_000])
def test_sort_values_is_numpys_sort(n):
    """Sorting by the bits' order gives NumPy's sorted array bit for bit where no value is negative or NaN
    (repeats, zeros, +inf, values of one binade, so that bytes are shared and skipped); with a negative value,
    -0.0 or a NaN it leaves the work to NumPy's sort."""
    rng = np.random.default_rng(n)
    cases = [rng.random(n) * 3, np.round(rng.random(n) * 20) / 4, 1.0 + rng.random(n) * 0.5,
             np.where(rng.random(n) < 0.1, np.inf, rng.exponential(size=n))]  # fmt: skip
    if n:
        for special in (-1.0, -0.0, np.nan):
            case = rng.random(n)
            case[rng.integers(0, n)] = special
            cases.append(case)
    for case in cases:
        got = case.copy()
        compiled.sort_values(got)
        expected = np.sort(case)
        assert got.tobytes() == expected.tobytes() or (np.isnan(expected).any() and np.array_equal(got, expected, equal_nan=True))


def test_prefetch_is_a_hint_and_checks_its_arguments():
    """prefetch compiles for 1-d and 2-d arrays and changes nothing; any other array is a typing error."""
    from numba import njit
    from numba.core.errors import TypingError

    @njit
    def touch(a, rows):
        for r in rows:
            compiled.prefetch(a, r)
        return a.sum()

    x, y = np.arange(10.0), np.arange(12.0).reshape(4, 3)
    assert touch(x, np.array([0, 9])) == 45.0 and touch(y, np.array([0, 3])) == 66.0
    with pytest.raises(TypingError):
        touch(np.zeros((2, 2, 2)), np.array([0]))


@pytest.mark.parametrize("seed", range(5))
def test_add_max_equals_sort_and_reduce(seed):
    """add_max against NumPy's sort and reduce: every key once, each with the largest of its strengths."""
    from clusterup.state.multiplex import KEY_BASE, edge_keys

    rng = np.random.default_rng(seed)
    keys = np.unique(edge_keys(*rng.integers(0, 30, (2, int(rng.integers(0, 200))))))
    keys = keys[(keys >> 31) != (keys & (KEY_BASE - 1))]  # no self-ties among the ties there are
    w = rng.random(keys.size)
    i, j = rng.integers(0, 30, (2, int(rng.integers(0, 60))))  # repeats among the new pairs too
    new_w = rng.random(i.size)
    ok = i != j
    all_k = np.concatenate([keys, edge_keys(i[ok], j[ok])])
    all_w = np.concatenate([w, new_w[ok]])
    uniq, inverse = np.unique(all_k, return_inverse=True)
    expected = np.full(uniq.size, -np.inf)
    np.maximum.at(expected, inverse, all_w)
    got = compiled.add_max(keys, w, i, j, new_w, KEY_BASE)
    if not ok.any():
        assert got is None
        return
    np.testing.assert_array_equal(got[0], uniq)
    np.testing.assert_array_equal(got[1], expected)


@pytest.mark.parametrize("seed", range(5))
def test_layer_add_s_fused_path_equals_the_numpy_path(seed):
    """add_max (Layer.add with ``max``) against what Layer.add computed with NumPy: the pairs with i != j
    keyed by edge_keys, one strength for all or one per pair, a stable sort and a merge. Self-pairs, repeated
    pairs (the larger strength is kept), pairs already tied and calls with only self-pairs (None) are
    included."""
    from clusterup.state.multiplex import KEY_BASE, edge_keys

    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, 40, (2, int(rng.integers(0, 120))))
    i[: i.size // 10] = j[: i.size // 10]  # self-pairs: dropped
    keys = np.unique(edge_keys(*rng.integers(0, 40, (2, 60))))
    keys = keys[(keys >> 31) != (keys & (KEY_BASE - 1))]
    w = rng.random(keys.size)
    for new_w in (np.array([0.5]), rng.random(i.size)):
        got = compiled.add_max(keys, w, i, j, new_w, KEY_BASE)
        want = _ref_add_max(keys, w, i, j, new_w, KEY_BASE)
        assert (got is None) == (want is None)
        for found, expected in zip(got or (), want or (), strict=True):
            np.testing.assert_array_equal(found, expected)
    assert compiled.add_max(keys, w, np.arange(5), np.arange(5), np.array([0.5]), KEY_BASE) is None


def test_kernels_compile_without_a_writable_cache(monkeypatch):
    from numba import njit
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in Numba 0.61
    monkeypatch.setattr(impl, "_locator_classes", [])  # as if no directory were writable

    def plus_one(x):
        return x + 1

    with pytest.raises(RuntimeError, match="no locator"):
        njit(cache=True)(plus_one)  # what plain caching does there
    assert compiled.kernel(plus_one)(1) == 2


@pytest.mark.parametrize("n", [*range(0, 40), 100, 127, 128, 129, 200, 300, 1000, 4099, 70001])
def test_pairwise_sum_is_numpys_sum(n):
    """NumPy's own summation order, reproduced: values spread over 16 orders of magnitude, so that any other
    order would round differently (checked: a plain running sum differs from n = 9 on)."""
    rng = np.random.default_rng(n)
    shape = (min(400, max(8, 400_000 // max(n, 1))), n)  # long runs: fewer rows
    rows = np.abs(rng.random(shape) * 10.0 ** rng.integers(-8, 8, shape))
    expected = rows.sum(axis=-1)
    got = np.array([compiled.pairwise_sum(row, 0, n) for row in rows])
    np.testing.assert_array_equal(got, expected)
    if n >= 9:
        assert (np.array([sum(row.tolist()) for row in rows]) != expected).any()


def _ref_choose_partners(adj, who, u, c, extra, q, mastery, kind, partners):
    from clusterup.kernels import cognitive_fit, random_neighbour, tv_distance

    cand = random_neighbour(adj, np.repeat(who, c), u).reshape(who.size, c)
    if extra.shape[1]:
        cand = np.concatenate([cand, extra], axis=1)
    valid = (cand >= 0) & (cand != who[:, None])
    cc = np.maximum(cand, 0)
    fit = cognitive_fit(tv_distance(q[who][:, None, :], q[cc]))
    mastery = np.clip(mastery, 0.0, 1.0)
    quality = np.where(kind[cc] == 0, 0.5 + mastery[cc], 1.5)
    score = np.where(valid, fit * quality, 0.0)
    order = np.argsort(cc, axis=1, kind="stable")  # one partner once per row
    sorted_c = np.take_along_axis(cc, order, axis=1)
    dup = np.zeros_like(valid)
    dup_sorted = np.concatenate([np.zeros((who.size, 1), bool), sorted_c[:, 1:] == sorted_c[:, :-1]], axis=1)
    np.put_along_axis(dup, order, dup_sorted, axis=1)
    score[dup] = 0.0
    top = np.argsort(-score, axis=1, kind="stable")[:, :partners]
    chosen = np.take_along_axis(cc, top, axis=1)
    ok = np.take_along_axis(score, top, axis=1) > 0
    return np.broadcast_to(who[:, None], chosen.shape)[ok], chosen[ok]


@pytest.mark.parametrize("seed", range(6))
def test_choose_partners_equals_numpy(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n, dims = int(rng.integers(5, 300)), int(rng.integers(1, 14))
    adj = random_layer(n, 3 * n, seed).csr(n)
    who = np.unique(rng.integers(0, n, int(rng.integers(1, n))))
    c, partners = int(rng.integers(1, 10)), int(rng.integers(1, 14))
    orgs = rng.integers(0, n, (who.size, 2 * int(seed % 2)))  # with and without organisations
    q = rng.dirichlet(np.ones(dims), n)
    q[rng.integers(0, n, n // 4)] = q[0]  # equal profiles: distance 0, fit 0
    mastery = rng.random(n) * 1.4 - 0.2  # beyond [0, 1]: clipped
    kind = np.where(rng.random(n) < 0.1, 2, 0).astype(np.int8)
    u = rng.random(who.size * c)
    got = compiled.choose_partners(adj, who, u, c, orgs, q, mastery, kind, partners)
    expected = _ref_choose_partners(adj, who, u, c, orgs, q, mastery, kind, partners)
    assert expected[0].size > 0
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1)  # the parallel form: blocks of firms over the cores
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
    par = compiled.choose_partners(adj, who, u, c, orgs, q, mastery, kind, partners)
    np.testing.assert_array_equal(par[0], expected[0])
    np.testing.assert_array_equal(par[1], expected[1])


# --- the whole model with every kernel swapped for a NumPy/SciPy reference -------------------------------


def _ref_symmetric_csr(i, j, w, n):
    return sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))


def _ref_add_csr(a, b, alpha=1.0):
    return (a + alpha * b).tocsr()


def _ref_row_sums(adj):
    return np.asarray(adj.sum(axis=1)).ravel()


def _ref_csr_dot(adj, x):
    return adj @ x


def _ref_merge_max(keys, w, new_keys, new_w):
    all_k = np.concatenate([keys, new_keys])
    all_w = np.concatenate([w, new_w])
    order = np.argsort(all_k, kind="stable")
    uniq, start = np.unique(all_k[order], return_index=True)
    return uniq, np.maximum.reduceat(all_w[order], start)


def _ref_best_model(adj, capability, cap=np.inf):
    n = adj.shape[0]
    model, strength = np.full(n, -1, dtype=np.int64), np.zeros(n)
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    data = np.minimum(adj.data, cap)
    gap = capability[adj.indices] - capability[rows]
    score = np.where(gap > 0, data * gap, 0.0)
    for r in range(n):  # the last of the row's top scores
        lo, hi = adj.indptr[r], adj.indptr[r + 1]
        if hi > lo and score[lo:hi].max() > 0:
            p = lo + np.flatnonzero(score[lo:hi] == score[lo:hi].max())[-1]
            model[r], strength[r] = adj.indices[p], data[p]
    return model, strength


def _ref_spill(adj, a, g, rate, cross, inflow, best_gap, leak=None, sources=None):  # sources: a layout, not a value
    leak = np.ones(a.size) if leak is None else leak
    rows = np.repeat(np.arange(adj.shape[0]), np.diff(adj.indptr))
    gap = np.maximum(a[adj.indices] - a[rows], 0.0)
    flow = rate * adj.data * gap * np.where(g[adj.indices] == g[rows], 1.0, cross) * leak[adj.indices]
    inflow += np.bincount(rows, flow, minlength=adj.shape[0])
    np.maximum.at(best_gap, rows, gap)


def _ref_drift_rows(rows, q, target, weight, drift, injection, pipe, external):
    has = weight > 0
    t = target.copy()
    t[has] /= weight[has, None]
    pull = drift * np.minimum(1.0, weight)
    new = q + pull[:, None] * (t - q) * has[:, None]
    new += (injection * pipe)[:, None] * (external[None, :] - new)
    return new[rows]


def _ref_pool_rows(pool, pipe, external, weight, q):
    pool = pool + pipe[:, None] * external[None, :]
    safe = np.where(weight > 0, weight, 1.0)
    return np.where(weight[:, None] > 0, pool / safe[:, None], q)


def _ref_neighbour_above(adj, values):
    return np.array([(values[adj.indices[adj.indptr[r] : adj.indptr[r + 1]]] > values[r]).any() for r in range(adj.shape[0])])


def _ref_triangles(i, j, n):
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    upper = sp.csr_matrix((np.ones(lo.size), (lo, hi)), shape=(n, n))
    return int((upper @ upper).multiply(upper).sum())


def _ref_component_roots(i, j, n):
    _, labels = connected_components(sp.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n)), directed=False)
    first = np.full(labels.max() + 1, n)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def _ref_logit_choice(utility, u, intensity=None):
    """The mode choice's draw as it was written in NumPy: the finite utilities scaled, then softmax_choice."""
    scaled = utility.copy()
    if intensity is not None:
        open_ = np.isfinite(utility)
        scaled[open_] = intensity * utility[open_]
    return softmax_choice(scaled, u)


def _ref_novelty(q, pool, weight):
    from clusterup.kernels import tv_distance

    return tv_distance(q, pool) * weight / (weight + 1.0)


@pytest.mark.parametrize("n,dims,seed", [(0, 10, 0), (1, 10, 1), (7, 3, 2), (300, 10, 3), (5000, 10, 4), (200, 17, 5)])
def test_logit_choice_equals_numpy(n, dims, seed):
    """logit_choice gives NumPy's choices bit for bit (the exponentials left to NumPy), edge rows included:
    closed (-inf), all-closed, NaN and infinite utilities."""
    rng = np.random.default_rng(seed)
    utility = rng.normal(0.0, 5.0, (n, 4))
    utility[rng.random((n, 4)) < 0.3] = -np.inf
    utility[:, 0] = 0.0
    if n > 3:
        utility[1] = -np.inf
        utility[2, 2] = np.nan
        utility[3, 3] = np.inf
    u = rng.random(n)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(compiled.logit_choice(utility, u), _ref_logit_choice(utility, u))
        for intensity in (0.0, 0.7, 4.0, 1e300):  # 0: closed modes stay closed; 1e300: scaled values overflow
            np.testing.assert_array_equal(compiled.logit_choice(utility, u, intensity),
                                          _ref_logit_choice(utility, u, intensity))  # fmt: skip


def _ref_reach_pool(adj, q, pipe, external, weight=None):
    if weight is None:
        weight = _ref_row_sums(adj) + pipe
    pool = _ref_pool_rows(_ref_csr_dot(adj, q), pipe, external, weight, q)
    return pool, _ref_novelty(q, pool, weight)


def _ref_knowledge_drift(adj, rows, q, weight, drift, injection, pipe, external):
    if weight is None:
        weight = _ref_row_sums(adj)
    return _ref_normalise_rows(_ref_drift_rows(rows, q, _ref_csr_dot(adj, q), weight, drift, injection, pipe, external))


@pytest.mark.parametrize("n,m,dims,seed", [(1, 0, 10, 0), (6, 12, 3, 1), (400, 3000, 10, 2), (3001, 12000, 10, 3)])
def test_fused_row_passes_equal_their_parts(n, m, dims, seed):
    """reach_pool and knowledge_drift give, bit for bit, the numbers of the NumPy/SciPy passes they fuse
    (adj @ q, the pool and tv_distance; adj @ q, the drift and normalise_rows), rows without ties or pipelines,
    zero weights, profiles over sixteen orders of magnitude and profiles summing to 0, to less than 0 and to
    NaN included."""
    rng = np.random.default_rng(seed)
    adj = random_layer(n, m, seed).adjacency(n)
    q = rng.random((n, dims)) * 10.0 ** rng.integers(-8, 8, (n, 1))
    if n > 3:
        q[0] = 0.0
        q[1, 0] = -q[1].sum() - 1.0
        q[2, 1] = np.nan
    pipe = rng.random(n) * (rng.random(n) < 0.5)
    external, weight = rng.random(dims), rng.random(n) * rng.integers(0, 3, n)
    pool, novelty = compiled.reach_pool(adj, q, pipe, external, weight)
    ref_pool, ref_novelty = _ref_reach_pool(sp.csr_matrix((adj.data, adj.indices, adj.indptr), shape=adj.shape),
                                            q, pipe, external, weight)  # fmt: skip
    np.testing.assert_array_equal(pool, ref_pool)
    np.testing.assert_array_equal(novelty, ref_novelty)
    for found, want in zip(compiled.reach_pool(adj, q, pipe, external),  # the weight from the rows' sums
                           _ref_reach_pool(compiled.to_scipy(adj), q, pipe, external), strict=True):  # fmt: skip
        np.testing.assert_array_equal(found, want)
    rows = np.sort(rng.choice(n, max(1, n // 2), replace=False))
    new = compiled.knowledge_drift(adj, rows, q, weight, 0.2, 0.05, pipe, external)
    np.testing.assert_array_equal(new, _ref_knowledge_drift(adj, rows, q, weight, 0.2, 0.05, pipe, external))
    np.testing.assert_array_equal(compiled.knowledge_drift(adj, rows, q, None, 0.2, 0.05, pipe, external),
                                  _ref_knowledge_drift(compiled.to_scipy(adj), rows, q, None, 0.2, 0.05, pipe, external))


def _ref_pull_rows(x, i, j, pull):
    x[i] += pull * (x[j] - x[i])


@pytest.mark.parametrize("n,k,seed", [(1, 0, 0), (2, 1, 1), (50, 30, 2), (5000, 3000, 3)])
def test_pull_rows_equals_numpy(monkeypatch, n, k, seed):
    """pull_rows gives NumPy's fancy-indexed update bit for bit, serial and parallel, when pulled rows are also
    pulled toward (they give their old values) and several rows pull toward one."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 10)) * 10.0 ** rng.integers(-4, 4, (n, 1))
    i = np.sort(rng.choice(n, k, replace=False))
    j = rng.integers(0, n, k)
    expected = x.copy()
    _ref_pull_rows(expected, i, j, 0.2)
    for parallel in (False, True):
        monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1 if parallel else 50_000)
        monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1 if parallel else 50_000)
        got = x.copy()
        compiled.pull_rows(got, i, j, 0.2)
        np.testing.assert_array_equal(got, expected)


def _ref_end_sums(i, j, w, n):
    return np.bincount(i, w, minlength=n)[:n] + np.bincount(j, w, minlength=n)[:n]


@pytest.mark.parametrize("n,m,seed", [(1, 0, 0), (5, 3, 1), (400, 3000, 2), (3000, 500, 3)])
def test_end_sums_equal_bincount(n, m, seed):
    """Strength and degree per node equal NumPy's two bincounts bit for bit (sums in tie order), ends at or
    beyond n ignored as the [:n] cut does."""
    layer = random_layer(n + 2, m, seed)  # some ties reach the two slots past n
    w = layer.w * 10.0 ** np.random.default_rng(seed).integers(-8, 8, layer.w.size)
    np.testing.assert_array_equal(compiled.end_sums(layer.i, layer.j, w, n), _ref_end_sums(layer.i, layer.j, w, n))
    degree = compiled.end_sums(layer.i, layer.j, None, n)
    assert degree.dtype == np.int64
    np.testing.assert_array_equal(degree, _ref_end_sums(layer.i, layer.j, None, n))


@pytest.mark.parametrize("seed", [0, 1])
def test_spill_reads_its_sources_side_by_side_and_gives_the_numpy_numbers(seed):
    """The spillover pass reads each tie source's capability, generation and leak share from one row of
    ``spill_sources`` (a layout for the memory, not a change of value): the NumPy reference's numbers bit for bit,
    with or without the rows made beforehand, with or without a leak share."""
    rng = np.random.default_rng(seed)
    n = 400
    layer = random_layer(n, 3000, seed)
    adj = compiled.symmetric_csr(layer.i, layer.j, layer.w, n)
    a = rng.random(n) * 3
    g = rng.integers(0, 4, n).astype(np.int32)
    leak = rng.random(n)
    src = compiled.spill_sources(a, g, leak)
    assert src.shape == (n, 4)
    np.testing.assert_array_equal(src[:, 0], a)
    np.testing.assert_array_equal(src[:, 1], g.astype(float))
    np.testing.assert_array_equal(src[:, 2], leak)
    np.testing.assert_array_equal(compiled.spill_sources(a, g)[:, 2], np.ones(n))
    for lk, sources in ((leak, None), (leak, src), (None, None), (None, compiled.spill_sources(a, g))):
        inflow, best = rng.random(n), rng.random(n) * 0.1
        ref_inflow, ref_best = inflow.copy(), best.copy()
        compiled.spill(adj, a, g, 0.3, 0.1, inflow, best, lk, sources)
        _ref_spill(adj, a, g, 0.3, 0.1, ref_inflow, ref_best, lk)
        np.testing.assert_array_equal(inflow, ref_inflow)
        np.testing.assert_array_equal(best, ref_best)


def _ref_add_max(keys, w, i, j, new_w, base):
    """Layer.add with ``max`` as it was in NumPy: the pairs with i != j keyed by edge_keys, a stable sort, a merge."""
    from clusterup.state.multiplex import edge_keys

    ok = i != j
    if not ok.any():
        return None
    k_new = edge_keys(i[ok], j[ok])
    w_new = np.full(np.count_nonzero(ok), new_w[0]) if new_w.size == 1 else new_w[ok]
    order = np.argsort(k_new, kind="stable")
    return _ref_merge_max(keys, w, k_new[order], w_new[order])


def _ref_rd_effect(rd, half, exponent):
    from clusterup.kernels import rd_effect

    return rd_effect(rd, half, exponent)


def _ref_imitation_models(model, strength, cap, kind, active, psi, factor):
    """Imitation's models as the process computed them in NumPy (``Imitation.models_numpy``)."""
    has = (model >= 0) & (kind == 0) & active
    model[~has] = -1
    absorb = np.zeros(model.size)
    absorb[has] = (cap[has] / cap[model[has]]) ** psi
    return model, factor * absorb * strength, absorb


def _ref_imitation_gain(model, phi, absorb, cap, g, transfer, growth, dip, success):
    gain, dg = _ref_model_gaps(model, phi, cap, g)
    up = dg > 0
    gain[up] += transfer * absorb[up] * (growth ** dg[up] * dip - 1.0).clip(0)
    return success * gain


def _ref_local_chance(knowledge, kind, platform, econ, know, novelty, rd, cap=None, ceil=None, *, success, rd_half,
                      rd_exponent, support_base, support_half, knowledge_support, novelty_weight, novelty_ref,
                      rate=0.0):  # fmt: skip
    """Local innovation's chance (and expected gain) as ``LocalInnovation.success_chance_numpy`` computes it."""
    from clusterup.kernels import logistic_gain

    ties = econ + knowledge_support * know + _ref_csr_dot(knowledge, (kind == platform).astype(float))
    support = support_base + (1 - support_base) * ties / (ties + support_half)
    rigidity = (1 - novelty_weight) + novelty_weight * np.minimum(1.0, novelty / novelty_ref)
    chance = success * _ref_rd_effect(rd, rd_half, rd_exponent) * support * rigidity
    if cap is None:
        return chance, None
    return chance, chance * (logistic_gain(cap, ceil, rate) / np.where(cap > 0, cap, 1.0))


def _ref_integrated_chance(novelty, rd, cap, g, ceil, nxt, kind, active, knowledge, k_strength, *, success, rd_half,
                           rd_exponent, power, follower, novelty_ref, capability_half, network_half, pioneer_power,
                           reach, beyond):  # fmt: skip
    """Integrated innovation's chance as ``IntegratedInnovation.success_chance_numpy`` computes it."""
    firm = (kind == 0) & active
    mastery = cap / ceil
    mastery[~firm] = 0.0
    mastery = np.clip(mastery, 0.0, 1.0)
    if follower == power:
        factor = mastery**power
    else:
        factor = np.where(_ref_neighbour_above(knowledge, g), mastery**follower, mastery**power)
    chance = success * _ref_rd_effect(rd, rd_half, rd_exponent) * factor * np.minimum(1.0, novelty / novelty_ref)
    if capability_half > 0:
        chance *= cap / (cap + capability_half)
    if network_half > 0:
        chance *= k_strength / (k_strength + network_half)
    if pioneer_power > 0:
        top = int(g[firm].max()) if firm.any() else 0
        new = firm & (g + 1 > top) & (nxt > reach)
        out = np.ones(cap.size)
        out[new] = (reach / nxt[new]) ** pioneer_power
        out[new & (nxt > beyond)] = 0.0
        chance *= out
    return chance


def _with_references(monkeypatch) -> None:
    import clusterup.indicators as indicators
    import clusterup.processes.imitation as imitation
    import clusterup.processes.integrated as integrated
    import clusterup.processes.knowledge as knowledge
    import clusterup.processes.knowledge_ties as knowledge_ties
    import clusterup.processes.local as local
    import clusterup.processes.mode_choice as mode_choice
    import clusterup.processes.reach as reach
    import clusterup.processes.social as social
    import clusterup.processes.spillover as spillover
    import clusterup.recorder as recorder
    import clusterup.state.multiplex as multiplex
    import clusterup.state.world as world

    for module, name, ref in (
        (multiplex, "symmetric_csr", _ref_symmetric_csr),
        (multiplex, "symmetric_neighbours", lambda i, j, n, rows=None: _ref_symmetric_csr(i, j, np.ones(i.size), n)),
        (multiplex, "add_csr", _ref_add_csr),
        (multiplex, "to_scipy", lambda adj: adj),
        (multiplex, "add_max", _ref_add_max),
        (imitation, "imitation_models", _ref_imitation_models),
        (imitation, "imitation_gain", _ref_imitation_gain),
        (local, "local_chance", _ref_local_chance),
        (integrated, "integrated_chance", _ref_integrated_chance),
        (multiplex, "end_sums", _ref_end_sums),
        (multiplex, "sorted_contains", lambda keys, q, index=None: np.isin(q, keys)),
        (world, "lookup", _ref_lookup),
        (multiplex, "add_csr_triple", lambda s, e, k, alpha, beta: (_ref_add_csr(_ref_add_csr(s, e, alpha), k, alpha),
                                                                     _ref_add_csr(k, _ref_add_csr(s, e, alpha), beta))),
        (reach, "reach_pool", _ref_reach_pool),
        (knowledge, "knowledge_drift", _ref_knowledge_drift),
        (local, "csr_dot", _ref_csr_dot),
        (imitation, "best_model", _ref_best_model),
        (imitation, "model_gaps", _ref_model_gaps),
        (imitation, "pull_rows", _ref_pull_rows),
        (spillover, "spill", _ref_spill),
        (mode_choice, "logit_choice", _ref_logit_choice),
        (mode_choice, "mode_column", _ref_mode_column),
        (mode_choice, "pay_chosen", _ref_pay_chosen),
        (social, "sorted_member", lambda a, b: np.isin(a, b)),
        (knowledge_ties, "choose_partners", _ref_choose_partners),
        (knowledge_ties, "union_neighbours", _ref_union_neighbours),
        (integrated, "neighbour_above", _ref_neighbour_above),
        (indicators, "triangles", _ref_triangles),
        (indicators, "component_roots", _ref_component_roots),
        (indicators, "sorted_member", lambda a, b: np.isin(a, b)),
        (indicators, "sorted_common", lambda a, b: int(np.isin(a, b).sum())),
        (recorder, "sorted_member", lambda a, b: np.isin(a, b)),
    ):
        assert getattr(module, name) is not ref
        monkeypatch.setattr(module, name, ref)


@pytest.mark.parametrize("preset,firms,steps", [("baseline", 300, 60), ("path2-early-technology", 200, 60)])
def test_a_run_with_numpy_references_for_every_kernel_is_bit_identical(monkeypatch, preset, firms, steps):
    from clusterup import Simulation

    def run():
        sim = Simulation(preset, seed=11, firms=firms, steps=steps)
        series = sim.run().timeseries
        return series, sim.state.pop.capability[: sim.state.n].copy(), [(lay.keys.copy(), lay.w.copy()) for lay in sim.state.net]

    compiled_run = run()
    _with_references(monkeypatch)
    reference_run = run()
    assert compiled_run[0].equals(reference_run[0])  # every indicator, every step, exactly
    np.testing.assert_array_equal(compiled_run[1], reference_run[1])
    for (k1, w1), (k2, w2) in zip(compiled_run[2], reference_run[2], strict=True):
        np.testing.assert_array_equal(k1, k2)
        np.testing.assert_array_equal(w1, w2)


def test_shares_of_a_csr_matrix_cut_its_work_evenly(monkeypatch):
    """With a CSR matrix's indptr, the rows are cut where the work (a row and each of its entries one unit) is
    shared evenly, however lopsided the degrees; without it, where the rows are. The shares cover the rows
    once, in order."""
    import numba

    rng = np.random.default_rng(3)
    n = 10_001
    degree = np.where(np.arange(n) < n // 4, 40, 2) + rng.integers(0, 3, n)  # a quarter of the rows hold most ties
    indptr = np.concatenate([[0], np.cumsum(degree)])
    for threads in (1, 2, 3):
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", threads)
        for given in (None, indptr):
            shares = compiled._shares(n, given)
            assert len(shares) == threads and shares[0][0] == 0 and shares[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(shares[:-1], shares[1:], strict=True))
            work = [hi - lo + (0 if given is None else indptr[hi] - indptr[lo]) for lo, hi in shares]
            most = 1 if given is None else 1 + degree.max()  # within one row of the even share
            assert max(work) - min(work) <= 2 * most
        if threads == 2:
            assert compiled._shares(n, indptr)[0][1] < n // 3  # the heavy quarter and a little more, not half


def test_light_row_passes_wait_for_more_rows_than_the_gathers(monkeypatch):
    """Handing a share to a thread costs about 85 us on a 2-core VM: a pass that reads a few numbers per firm
    (the mode choice's columns, its payments, imitation's models and gains) takes as long at 10,000 firms.
    Such light passes use the cores from PARALLEL_ITEMS rows on, the gathers over ties (reach, best model)
    from PARALLEL_ROWS: between the two, only the gathers are cut into shares."""
    rng = np.random.default_rng(3)
    n = 3_001
    adj = random_layer(n, 12_000, 5).adjacency(n)
    a, q, pipe, external = rng.random(n) + 0.1, rng.random((n, 4)), rng.random(n), rng.random(4)
    firms = np.arange(0, n, 2)
    cut = []
    by_rows = compiled._by_rows
    monkeypatch.setattr(compiled, "_by_rows", lambda k, n, *args, **kw: cut.append(k.__name__) or by_rows(k, n, *args, **kw))
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)

    def passes():
        cut.clear()
        table, costs = np.full((firms.size, 4), -np.inf), np.zeros((firms.size, 4))
        compiled.mode_column(firms, a[firms], a, 0.2, a[firms], None, a[firms], 1.0, 1, table, costs)
        compiled.pay_chosen(firms, np.ones(firms.size, np.int64), costs, a.copy(), a.copy())
        models = compiled.imitation_models(rng.permutation(n), a, a, np.zeros(n, np.int8), np.ones(n, bool), 0.5, 0.3)
        compiled.imitation_gain(*models, a, np.zeros(n, np.int32), 0.4, 2.0, 0.9, 0.5)
        compiled.reach_pool(adj, q, pipe, external)
        compiled.best_model(adj, a, 1.0)
        return set(cut)

    monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1_000)
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 10**9)
    assert passes() == {"_reach_rows", "_best_model_rows"}
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1_000)
    assert passes() >= {"_reach_rows", "_best_model_rows", "_mode_column_rows", "_pay_rows", "_imitation_models_rows",
                        "_imitation_gain_rows"}  # fmt: skip


def test_parallel_row_kernels_equal_their_serial_forms(monkeypatch):
    """Each row kernel's parallel form (used from compiled.PARALLEL_ROWS rows on) gives the serial form's
    numbers bit for bit: every row is computed by the same code, whatever the thread that takes its share."""
    import numba

    rng = np.random.default_rng(5)
    n = 3_001  # not a multiple of 2 or 3 shares: the shares differ in size
    adj = random_layer(n, 12_000, 5).adjacency(n)
    a, g = rng.random(n) * 3, rng.random(n)
    x = rng.random((n, 4))
    rows = np.sort(rng.choice(n, 2_000, replace=False))
    q, weight = rng.random((n, 4)), rng.random(n) * (rng.random(n) > 0.2)
    pipe, external, leak = rng.random(n), rng.random(4), rng.random(n)

    keys = np.unique(rng.integers(0, 50_000, 20_000))
    queries = rng.integers(-5, 50_005, 3_001)

    # the mode choice's, integrated innovation's and R&D learning's passes over firms
    firms = np.sort(rng.choice(n, 2_500, replace=False))
    utility = rng.normal(size=(n, 5)) * 3
    utility[rng.random((n, 5)) < 0.3] = -np.inf  # closed modes, whole rows of them too
    utility[:, 0] = np.where(rng.random(n) < 0.9, 0.0, -np.inf)
    utility[7] = -np.inf
    gen = rng.integers(0, 4, n).astype(np.int32)
    kind = np.where(rng.random(n) < 0.05, 1, 0).astype(np.int8)
    active = rng.random(n) < 0.95
    ceil = 1.0 + gen + rng.random(n)
    chance_kw = dict(success=0.5, rd_half=0.4, rd_exponent=1.5, power=2.0, follower=1.0, novelty_ref=0.25,
                     capability_half=0.3, network_half=0.2, pioneer_power=2.0, reach=2.5, beyond=4.0)  # fmt: skip
    who = np.sort(rng.choice(firms, 900, replace=False))
    candidates = np.where(rng.random(n) < 0.7, rng.permutation(n), -1)  # imitation's models
    profit = rng.normal(size=n)

    def firm_passes():
        table, costs = np.full((firms.size, 5), -np.inf), np.zeros((firms.size, 5))
        compiled.mode_column(firms, rng_values[0], a, rng_values[1], rng_values[2], None, rng_values[3] - 0.3, 1.7, 2,
                             table, costs)  # fmt: skip
        compiled.mode_column(firms, rng_values[0], a, 0.4, rng_values[2], leak, rng_values[3], 1.7, 3, table, costs)
        profit_avg, rd = rng_values[4].copy(), rng_values[5].copy()
        compiled.rd_review(firms, who, profit, profit_avg, 0.4, adj, rng_values[6], rng_values[7], kind, rng_values[8],
                           rd, rng_values[9], 3, 0.8, 0.01, 0.05)  # fmt: skip
        learnt_avg, learnt_rd, stream = rng_values[4].copy(), rng_values[5].copy(), np.random.default_rng(5)
        compiled.rd_learn(firms, stream, 0.4, lambda: adj, profit, learnt_avg, 0.4, kind, rng_values[8], learnt_rd, 3,
                          0.8, 0.01, 0.05)  # fmt: skip
        models = compiled.imitation_models(candidates.copy(), rng_values[5], a + 0.1, kind, active, 0.5, 0.3)
        local_kw = dict(success=0.4, rd_half=0.3, rd_exponent=1.5, support_base=0.2, support_half=0.5,
                        knowledge_support=0.5, novelty_weight=0.4, novelty_ref=0.25)  # fmt: skip
        return (table, costs, profit_avg, rd, learnt_avg, learnt_rd, stream.random(3), *models,
                compiled.imitation_gain(*models, a + 0.1, gen, 0.4, 1.3, 0.9, 0.5),
                *compiled.local_chance(adj, kind, 1, rng_values[5], weight, q[:, 1], a, a + 0.1, ceil, rate=0.1,
                                       **local_kw),
                compiled.local_chance(adj, kind, 1, rng_values[5], weight, q[:, 1], a, **local_kw)[0],
                compiled.logit_choice(utility, rng_values[10]),
                compiled.logit_choice(utility, rng_values[10], 0.7),
                compiled.integrated_chance(q[:, 0], a, a * 0.9, gen, ceil, ceil * 1.6, kind, active, adj, weight,
                                           **chance_kw),
                compiled.integrated_chance(q[:, 0], a, a * 0.9, gen, ceil, ceil * 1.6, kind, active, None, None,
                                           **{**chance_kw, "follower": 2.0, "network_half": 0.0}),
                *tie_passes())  # fmt: skip

    def tie_passes():  # the economic ties' candidates (rows of draws) and the social ties' decay (each tie)
        segment = rng_values[11]
        side, u = rng_values[12][:, 0], rng_values[12][:, 1:]
        layer = random_layer(n, 12_000, 6)
        along = rng_values[13][: layer.w.size] < 0.3
        member = rng_values[13][:n] < 0.05
        return (*compiled.adjacent_candidates(firms, segment, who, side, u, 5, KEY_BASE),
                compiled.social_decay(layer.i, layer.j, layer.w, a, along, 0.4, 0.05, member),
                compiled.social_decay(layer.i, layer.j, layer.w, np.empty(0), along[:0], 0.4, 0.05, np.empty(0, bool)),
                set_rows())

    def set_rows():  # q[rows] = values, in place
        target = q.copy()
        compiled.set_rows(target, rows, x[: rows.size])
        expected = q.copy()
        expected[rows] = x[: rows.size]
        np.testing.assert_array_equal(target, expected)
        return target

    rng_values = (rng.random(firms.size) * 5, rng.random(n), rng.random(firms.size) + 0.5, rng.random(firms.size),
                  rng.normal(size=n), rng.random(n), rng.random(who.size * 3), rng.integers(0, firms.size, who.size * 3),
                  rng.random(n) * (rng.random(n) > 0.1), rng.normal(size=who.size), rng.random(n),
                  rng.integers(0, 5, n).astype(np.int32), rng.random((who.size, 6)), rng.random(12_000))  # fmt: skip

    def results():
        inflow, best_gap = np.zeros(n), np.zeros(n)
        compiled.spill(adj, a, g, 0.3, 0.1, inflow, best_gap, leak)
        return (compiled.sorted_contains(keys, queries),
                compiled.csr_dot(adj, x), compiled.csr_dot(adj, a), *compiled.best_model(adj, a, 0.8), inflow,
                best_gap,
                *compiled.reach_pool(adj, q, pipe, external, weight), *compiled.reach_pool(adj, q, pipe, external),
                compiled.knowledge_drift(adj, rows, q, weight, 0.2, 0.05, pipe, external),
                compiled.knowledge_drift(adj, rows, q, None, 0.2, 0.05, pipe, external), *firm_passes())

    serial = results()
    monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
    for threads in (2, 3):  # shares of the rows side by side on the pool, however many: the same numbers
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", threads)
        parallel = results()
        for s, p in zip(serial, parallel, strict=True):
            np.testing.assert_array_equal(s, p)
    np.testing.assert_array_equal(parallel[0], np.isin(queries, keys))


def test_concurrently_keeps_the_calls_order_and_uses_threads_only_where_asked(monkeypatch):
    """compiled.concurrently returns each call's result in the order of the calls, runs them side by side on
    the calling thread and its pool's from PARALLEL_ROWS nodes on (each thread taking the next call left, so
    a thread with short calls takes more of them), and one after the other below that, with one thread
    allowed, or when it is itself called from a thread other than the main one (a threaded Dask worker)."""
    import threading
    import time

    import numba

    def calls():
        def call(k):
            time.sleep(0.02 * (4 - k))  # the first calls finish last
            return k, threading.current_thread().name

        return [lambda k=k: call(k) for k in range(4)]

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    found = compiled.concurrently(calls(), compiled.PARALLEL_ROWS)
    assert [k for k, _ in found] == [0, 1, 2, 3]
    main = threading.main_thread().name
    assert {name for _, name in found} - {main}  # a thread of the pool has taken calls

    both = threading.Barrier(2, timeout=10)  # the first two calls can only finish side by side, on two threads

    def meet():
        both.wait()
        return threading.current_thread().name

    names = compiled.concurrently([meet, meet, lambda: 0], compiled.PARALLEL_ROWS)
    assert any(name.startswith("clusterup-kernel") for name in names[:2]) and main in names[:2]
    assert all(name == main for _, name in compiled.concurrently(calls(), compiled.PARALLEL_ROWS - 1))
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    assert all(name == main for _, name in compiled.concurrently(calls(), compiled.PARALLEL_ROWS))
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    box = []
    worker = threading.Thread(target=lambda: box.extend(compiled.concurrently(calls(), compiled.PARALLEL_ROWS)), name="w")
    worker.start()
    worker.join()
    assert [name for _, name in box] == ["w"] * 4


def test_concurrently_works_in_a_forked_child(monkeypatch):
    """A process pool forks its workers (Linux' default). Its workers run their kernels on one thread each (an
    ensemble already uses one core per worker), unless NUMBA_NUM_THREADS is set in the environment; then a
    child of a process that has used the thread pool must not wait on the parent's threads, which it does not
    have."""
    import multiprocessing

    import numba

    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    names = compiled.concurrently(_meeting_names(), compiled.PARALLEL_ROWS)
    assert any(n.startswith("clusterup-kernel") for n in names)  # the pool's thread has run
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        names = pool.apply_async(compiled.concurrently, (_thread_names(), compiled.PARALLEL_ROWS)).get(timeout=60)
        assert names == ["MainThread"] * 3
        assert pool.apply_async(compiled._parallel, (compiled.PARALLEL_ROWS,)).get(timeout=60) is False
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    with ctx.Pool(1) as pool:
        names = pool.apply_async(compiled.concurrently, (_meeting_names(), compiled.PARALLEL_ROWS)).get(timeout=60)
    assert len(names) == 3 and any(n.startswith("clusterup-kernel") for n in names)


def _thread_name() -> str:
    import threading

    return threading.current_thread().name


def _thread_names() -> list:
    return [_thread_name] * 3


_MEETING = threading.Barrier(2, timeout=30)  # a forked child gets its own copy, unbroken: each use completes


def _meet() -> str:
    _MEETING.wait()  # finishes only when a second thread arrives: the two calls ran side by side
    return _thread_name()


def _meeting_names() -> list:
    return [_meet, _meet, _thread_name]


def test_a_run_with_parallel_kernels_is_bit_identical(monkeypatch):
    """A whole run with every row kernel in its parallel form, and the recorder's layer measures and the
    layers' adjacency builds run side by side on two threads (compiled.concurrently), equals the serial run
    exactly."""
    import numba

    from clusterup import Simulation

    def run():
        sim = Simulation("baseline", seed=12, firms=300, steps=40)
        return sim.run().timeseries, sim.state.pop.capability[: sim.state.n].copy()

    serial = run()
    monkeypatch.setattr(compiled, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)  # side by side even on a one-core machine
    parallel = run()
    assert serial[0].equals(parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])


_NO_LINALG = r"""
import sys
import numpy as np
from clusterup.compiled import end_sums
assert "numba.np.arraymath" not in sys.modules  # importing the kernels starts nothing of Numba's target
end_sums(np.array([0, 1]), np.array([1, 2]), None, 3)  # a kernel loaded (or compiled): Numba's target is up
import numba.np.arraymath as arraymath, numba.np.linalg as linalg
print("scipy.linalg" in sys.modules, arraymath._HAVE_BLAS, arraymath.ensure_blas is linalg.ensure_blas,
      linalg.ensure_blas.__module__)
import numba
dot = numba.njit(lambda a, b: np.dot(a, b))  # a kernel that does use BLAS, compiled after ours
print(dot(np.eye(3), np.arange(3.0)).tolist(), "scipy.linalg" in sys.modules)
"""


def test_numba_starts_without_scipy_linalg_and_keeps_its_blas():
    # in a fresh process: importing the kernels imports no more of Numba; loading one no longer imports
    # scipy.linalg (Numba's BLAS check answered from SciPy's files), Numba's flag is what its own check gives
    # (SciPy ships BLAS), the real ensure_blas is back, and a later kernel that uses BLAS still works, importing
    # SciPy's the usual way
    done = subprocess.run([sys.executable, "-c", _NO_LINALG], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = done.stdout.strip().splitlines()
    assert first == "False True True numba.np.linalg"
    assert second == "[0.0, 1.0, 2.0] True"


def test_without_nodes_keeps_the_ties_with_neither_end_gone():
    """``keys[mask], w[mask]`` with ``mask = ~(gone[i] | gone[j])``, in their order; None where no tie is touched
    (nobody gone, every node gone with no ties, an empty layer)."""
    rng = np.random.default_rng(11)
    bits = 31
    for n, m, share in ((1, 0, 0.5), (5, 8, 0.0), (40, 200, 0.1), (300, 2000, 0.3), (50, 400, 1.0)):
        i = rng.integers(0, n, m)
        j = rng.integers(0, n, m)
        keys = np.unique(np.minimum(i, j).astype(np.int64) * (1 << bits) + np.maximum(i, j))
        w = rng.random(keys.size)
        gone = rng.random(n) < share
        mask = ~(gone[keys >> bits] | gone[keys & ((1 << bits) - 1)])
        got = compiled.without_nodes(keys, w, gone, bits)
        if mask.all():
            assert got is None
        else:
            assert got[0].dtype == keys.dtype and got[0].tobytes() == keys[mask].tobytes()
            assert got[1].tobytes() == w[mask].tobytes()


def test_at_least_keeps_the_ties_as_the_mask_does():
    """``keys[w >= floor], w[w >= floor]`` in their order and how many were dropped (NaN strengths dropped,
    strengths equal to the floor kept); None where nothing is dropped, an empty layer included."""
    rng = np.random.default_rng(12)
    for m, floor in ((0, 0.1), (1, 0.5), (50, 0.0), (400, 0.3), (400, 2.0)):
        keys = np.sort(rng.choice(10 * m + 1, m, replace=False)).astype(np.int64)
        w = rng.random(m)
        w[::7] = 0.3  # on the floor
        w[5::50] = np.nan
        mask = w >= floor
        got = compiled.at_least(keys, w, floor)
        if mask.all():
            assert got is None
        else:
            assert got[0].tobytes() == keys[mask].tobytes() and got[1].tobytes() == w[mask].tobytes()
            assert got[2] == int((~mask).sum())


def test_entrant_models_and_friends_are_the_numpy_draws():
    """The spin-offs' and newcomers' models, and the ties inherited from a model's neighbours, as the NumPy lines
    of demography give them from the same uniforms: negative and NaN-free profits, one firm, every entrant a
    spin-off or none, isolated models and entrants drawing themselves."""
    from clusterup.kernels import random_neighbour
    from clusterup.rng import weighted_draws

    rng = np.random.default_rng(21)
    for n, count, share in ((1, 3, 0.6), (7, 40, 1.0), (300, 25, 0.0), (300, 60, 0.6), (2_000, 500, 0.6)):
        firms = np.sort(rng.choice(3 * n, n, replace=False))
        profit_avg = rng.normal(0.0, 1.0, 3 * n)
        profit_avg[firms[::4]] = 0.0
        spin_u, weight_u, pick = rng.random(count), rng.random(count), rng.integers(0, n, count)
        spin, parent = compiled.entrant_models(firms, profit_avg, spin_u, weight_u, pick, share)
        replay = _Replay(weight_u)
        merit = np.maximum(profit_avg[firms], 0.0) + 1e-12
        want = np.where(spin_u < share, firms[weighted_draws(replay, merit, count)], firms[pick])
        assert spin.tolist() == (spin_u < share).tolist() and parent.tobytes() == want.tobytes()
        # the ties an entrant inherits: models with and without neighbours, entrants among them
        new = np.arange(3 * n, 3 * n + count)
        i = rng.integers(0, 3 * n + count, 4 * n)
        j = rng.integers(0, 3 * n + count, 4 * n)
        i, j = np.r_[i, new[:2]], np.r_[j, parent[:2]]  # two entrants already tied to their models
        adj = compiled.symmetric_neighbours(i, j, 3 * n + count)
        for per in (1, 2, 5):
            u = rng.random(count * per)
            src, friends = compiled.entrant_friends(adj, parent, new, u, per)
            f = random_neighbour(adj, np.repeat(parent, per), u)
            s = np.repeat(new, per)
            ok = (f >= 0) & (f != s)
            assert src.tolist() == s[ok].tolist() and friends.tolist() == f[ok].tolist()


class _Replay:
    """A stand-in for a generator whose ``random`` hands out given uniforms (for weighted_draws)."""

    def __init__(self, u: np.ndarray) -> None:
        self.u = u

    def random(self, size: int) -> np.ndarray:
        assert size == self.u.size
        return self.u


def test_over_ceiling_and_slots_where_equal_the_numpy_expressions():
    """The mastery's quotient with organisations at 0, and the slots of one mode's firms, as NumPy gives them:
    NaN and infinite ceilings, an empty mask, a code nobody chose."""
    rng = np.random.default_rng(5)
    n = 1_000
    capability, ceiling = rng.random(n) * 4.0, 2.0 ** rng.integers(0, 6, n).astype(float)
    capability[:3], ceiling[3:5] = [np.nan, 0.0, np.inf], [np.inf, 1e-300]
    is_firm = rng.random(n) < 0.9
    want = capability / ceiling
    want[~is_firm] = 0.0
    np.testing.assert_array_equal(compiled.over_ceiling(capability, ceiling, is_firm), want)
    clipped = compiled.over_ceiling(capability, ceiling, is_firm, clipped=True)  # np.clip, NaN kept, in the pass
    assert clipped.tobytes() == np.clip(want, 0.0, 1.0).tobytes() and (want > 1).any() and np.isnan(clipped).any()
    a, b = rng.random(n), rng.random(n) * 1e6  # the firms' revenue and profit summed in NumPy's order
    assert compiled.two_sums(np.flatnonzero(is_firm), a, b) == (a[is_firm].sum(), b[is_firm].sum())
    mode = rng.integers(0, 4, n).astype(np.int8)
    for code in (0, 1, 3, 7):
        for mask in (is_firm, np.zeros(n, bool)):
            found = compiled.slots_where(mode, code, mask)
            np.testing.assert_array_equal(found, ((mode == code) & mask).nonzero()[0])
            assert found.dtype == np.int64


def test_a_layer_s_ends_are_its_keys_halves_and_pull_toward_equals_numpy():
    """A layer's ends are its keys' halves, read in place: ``keys >> 32`` and ``keys & (2**32 - 1)`` (the
    largest slot a key can hold included), read-only int32 views of the keys; saved ties keep the packing ``i *
    2**31 + j`` and load back to the same keys. Rows pulled toward a target as NumPy's fancy-indexed ``+=``
    moves them, other rows untouched."""
    rng = np.random.default_rng(6)
    top = 2**31 - 1  # node slots stay below 2**31
    i, j = rng.integers(0, top, (2, 500))
    i[0], j[0] = top - 1, top
    layer = Layer("x")
    layer.add(i, j, rng.random(500))
    keys = layer.keys
    for end, want in ((layer.i, keys >> KEY_BITS), (layer.j, keys & (KEY_BASE - 1))):
        np.testing.assert_array_equal(end, want)
        assert end.dtype == np.int32 and end.base is not None and not end.flags.writeable
    assert layer.i[-1] == top - 1 and layer.j[-1] == top
    saved = layer.state_dict()
    ok = i != j
    np.testing.assert_array_equal(saved["keys"], np.unique(np.minimum(i, j)[ok] * 2**31 + np.maximum(i, j)[ok]))
    again = Layer("x")
    again.load_state_dict(saved)
    np.testing.assert_array_equal(again.keys, keys)
    np.testing.assert_array_equal(again.w, layer.w)
    q = rng.random((50, 7))
    rows = rng.choice(50, 12, replace=False)
    target = rng.random(7)
    want = q.copy()
    want[rows] += 0.3 * (target[None, :] - want[rows])
    compiled.pull_toward(q, rows, target, 0.3)
    np.testing.assert_array_equal(q, want)


@pytest.mark.parametrize("review", [0.0, 0.3, 1.0])
def test_rd_learn_draws_in_the_kernel_what_numpy_draws(review):
    """compiled.rd_learn makes R&D learning's draws inside its kernel (a NumPy Generator passed to it): the same
    numbers as where_below and rd_review after the draws in NumPy, in the NumPy form's order and sizes, and the
    stream left where NumPy leaves it (the next draws equal)."""
    rng = np.random.default_rng(11)
    n = 600
    firms = np.sort(rng.choice(n, 450, replace=False))
    layer = random_layer(n, 2_000, 12)
    adj = layer.csr(n)
    profit, scale = rng.normal(size=n), rng.random(n) * (rng.random(n) > 0.1)
    kind = np.where(rng.random(n) < 0.05, 1, 0).astype(np.int8)
    avg, rd = rng.normal(size=n), rng.random(n)
    asked = []
    for peers in (1, 3):
        mine, numpy = np.random.default_rng(7), np.random.default_rng(7)
        got_avg, got_rd = avg.copy(), rd.copy()
        compiled.rd_learn(firms, mine, review, lambda: asked.append(1) or adj, profit, got_avg, 0.4, kind, scale,
                          got_rd, peers, 0.8, 0.01, 0.05)  # fmt: skip
        who = firms[numpy.random(firms.size) < review]
        u, strangers = numpy.random(who.size * peers), numpy.integers(0, firms.size, who.size * peers)
        z = numpy.standard_normal(who.size)
        want_avg, want_rd = avg.copy(), rd.copy()
        compiled.rd_review(firms, who, profit, want_avg, 0.4, adj, u, strangers, kind, scale, want_rd, z, peers, 0.8,
                           0.01, 0.05)  # fmt: skip
        np.testing.assert_array_equal(got_avg, want_avg)
        np.testing.assert_array_equal(got_rd, want_rd)
        np.testing.assert_array_equal(mine.random(5), numpy.random(5))
        assert (got_rd != rd).any() == (review > 0)
    assert len(asked) == (2 if review > 0 else 0)  # the ties only where someone may review
