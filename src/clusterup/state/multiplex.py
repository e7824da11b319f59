"""The multiplex network: three weighted undirected layers held as parallel edge arrays.

Each :class:`Layer` stores every tie once as ``(i, j, w)`` with ``i < j``, sorted by the key
``i * K + j`` so that membership tests and merges are binary searches. The symmetric CSR adjacency
that the processes read (:meth:`Layer.csr`, plain arrays) is built on demand and cached until the layer
changes; :meth:`Layer.adjacency` gives it as a SciPy matrix.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..compiled import (
    CSR,
    Neighbours,
    add_csr,
    add_csr_triple,
    add_max,
    at_least,
    concurrently,
    end_sums,
    key_index,
    sorted_contains,
    symmetric_csr,
    symmetric_neighbours,
    tied_to,
    to_scipy,
    without_nodes,
)

if TYPE_CHECKING:
    import scipy.sparse as sp

LAYERS = ("social", "economic", "knowledge")
# a tie's key is i * 2**32 + j (i < j, node slots below 2**31): its two 32-bit halves are the ends, so a layer's
# ends are views of its keys (Layer.i, Layer.j), never decoded into arrays of their own
KEY_BITS = 32
KEY_BASE = np.int64(1) << KEY_BITS  # public: compiled kernels key pairs the same way
_HIGH = 1 if sys.byteorder == "little" else 0  # which 32-bit half of a key holds i
_SAVED_BITS = 31  # saved ties (state_dict) keep the packing i * 2**31 + j of earlier versions: their checkpoints load


def edge_keys(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    lo = np.minimum(i, j).astype(np.int64)
    hi = np.maximum(i, j).astype(np.int64)
    return lo * KEY_BASE + hi


class Layer:
    """One undirected weighted layer: sorted unique keys with strengths."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys = np.empty(0, dtype=np.int64)
        self.w = np.empty(0, dtype=np.float64)
        self._adj: CSR | None = None
        self._ij: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # keys with their decoded ends
        self._index: tuple[np.ndarray, np.ndarray] | None = None  # keys with compiled.key_index of them
        self._adj_n = -1
        self._node_sums: dict[tuple[str, int], np.ndarray] = {}  # degree and strength per n, until a change
        self.version = 0  # bumped on every change; caches key on it

    # -- views ---------------------------------------------------------------------------
    @property
    def i(self) -> np.ndarray:
        ij = self._ij  # the processes ask some forty times a step: the check is inline, not a further call
        return (ij if ij is not None and ij[0] is self.keys else self._ends())[1]

    @property
    def j(self) -> np.ndarray:
        ij = self._ij
        return (ij if ij is not None and ij[0] is self.keys else self._ends())[2]

    def _ends(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, i, j) of every tie: ``i`` and ``j`` are the keys' high and low 32-bit halves, read in place
        (int32 views with a stride of eight bytes, no pass over the keys), made once per key array (keys are
        replaced, never changed in place; weight changes keep them). Read-only."""
        keys = self.keys  # always a contiguous int64 array: made by a kernel, a mask or load_state_dict
        halves = keys.view(np.int32)
        i, j = halves[_HIGH::2], halves[1 - _HIGH :: 2]
        i.flags.writeable = False
        j.flags.writeable = False
        self._ij = (keys, i, j)
        return self._ij

    def __len__(self) -> int:
        return int(self.keys.size)

    def _changed(self) -> None:
        self._adj = None
        self._node_sums = {}
        self.version += 1

    def csr(self, n: int) -> CSR:
        """Symmetric n x n adjacency of strengths in CSR form (cached until the layer changes; do not modify)."""
        if not self._has_csr(n):
            self._keep_csr(symmetric_csr(self.i, self.j, self.w, n), n)
        return self._adj

    def neighbours_csr(self, n: int, rows: np.ndarray | None = None) -> CSR | Neighbours:
        """Each node's neighbours in CSR form (``indptr``, ``indices``): the cached adjacency where there is
        one, else the structure alone, built without the strengths (about half the cost; not cached: the
        callers, which draw random neighbours, change the layer right after). With ``rows``, a built structure
        holds only those rows' neighbours (every other row empty): for callers that read no other row."""
        if self._has_csr(n):
            return self._adj
        return symmetric_neighbours(self.i, self.j, n, rows)

    def _has_csr(self, n: int) -> bool:
        return self._adj is not None and self._adj_n == n

    def _keep_csr(self, adj: CSR, n: int) -> None:
        self._adj, self._adj_n = adj, n

    def adjacency(self, n: int) -> sp.csr_matrix:
        """Symmetric SciPy CSR matrix (n x n) of strengths (shares the cached arrays; do not modify)."""
        return to_scipy(self.csr(n))

    def has(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether each pair (i, j) is tied in this layer."""
        return self.has_keys(edge_keys(np.asarray(i), np.asarray(j)))

    def has_keys(self, k: np.ndarray) -> np.ndarray:
        """Whether each pair, given by its edge key (another layer's ``keys``, say), is tied in this layer."""
        if not self.keys.size:
            return np.zeros(k.shape, bool)
        index = self._index  # where each node's keys begin, found once per key array
        if index is None or index[0] is not self.keys:
            index = self._index = (self.keys, key_index(self.keys, KEY_BITS))
        return sorted_contains(self.keys, np.ascontiguousarray(k, dtype=self.keys.dtype), (index[1], KEY_BITS))

    def neighbours(self, node: int) -> np.ndarray:
        """The nodes tied to ``node``, ascending (as the adjacency row lists them), without building it."""
        return tied_to(self.i, self.j, int(node))  # np.concatenate([i[j == node], j[i == node]]), compiled

    def degree(self, n: int) -> np.ndarray:
        """Ties per node (cached until the layer changes; read-only)."""
        return self._per_node("degree", n, None)

    def strength(self, n: int) -> np.ndarray:
        """Sum of tie strengths per node (cached until the layer changes; read-only)."""
        return self._per_node("strength", n, self.w)

    def _per_node(self, what: str, n: int, w: np.ndarray | None) -> np.ndarray:
        # bincount over both ends (compiled.end_sums): several processes ask for the same layer's in one step
        out = self._node_sums.get((what, n))
        if out is None:
            out = self._node_sums[(what, n)] = end_sums(self.i, self.j, w, n)
            out.flags.writeable = False
        return out

    # -- changes -------------------------------------------------------------------------
    def add(self, i: np.ndarray, j: np.ndarray, w: np.ndarray | float, how: str = "max") -> None:
        """Add ties; a tie that exists already keeps the larger (``max``) or summed (``sum``) strength."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        w = np.asarray(w, dtype=np.float64)
        if how == "max":  # the keys of the pairs i != j with their strengths, a stable sort, one merge: one call
            if not (i.ndim == j.ndim == 1 and i.size == j.size and (w.size == 1 or w.shape == i.shape)):
                i, j, w = (x.ravel() for x in np.broadcast_arrays(i, j, w))  # other shapes: pair by pair, in C order
            merged = add_max(self.keys, self.w, i, j, w.reshape(-1), KEY_BASE)  # None: no pair with i != j
            if merged is not None:
                self.keys, self.w = merged
                self._changed()
            return
        ok = i != j
        if not ok.any():
            return
        # one strength for all (a scalar) or one per tie: np.full / a mask, not broadcast_to (a tenth of add's time)
        w_new = np.full(np.count_nonzero(ok), w) if w.ndim == 0 else np.broadcast_to(w, i.shape)[ok]
        k_new = edge_keys(i[ok], j[ok])
        keys = np.concatenate([self.keys, k_new])
        ws = np.concatenate([self.w, w_new])
        order = np.argsort(keys, kind="stable")
        keys, ws = keys[order], ws[order]
        uniq, start = np.unique(keys, return_index=True)
        self.keys, self.w = uniq, np.add.reduceat(ws, start)
        self._changed()

    def set_ties(self, keys: np.ndarray, w: np.ndarray) -> None:
        """Replace every tie: ``keys`` sorted, unique, contiguous int64 (``i << 32 | j``, ``i < j``), as a
        compiled pass over the layer makes them (not checked), with one strength each."""
        self.keys, self.w = keys, w
        self._changed()

    def set_weights(self, w: np.ndarray) -> None:
        self.w = np.asarray(w, dtype=np.float64)
        self._changed()

    def keep(self, mask: np.ndarray) -> None:
        if mask.all():
            return
        self.keys, self.w = self.keys[mask], self.w[mask]
        self._changed()

    def drop_below(self, floor: float) -> int:
        """Drop the ties weaker than ``floor`` (``keep(w >= floor)``, compiled); return how many were dropped."""
        kept = at_least(self.keys, self.w, floor)
        if kept is None:
            return 0
        self.keys, self.w, dropped = kept
        self._changed()
        return dropped

    def remove_nodes(self, gone: np.ndarray) -> None:
        """Remove every tie touching a node with ``gone[node]`` true."""
        if self.keys.size:
            kept = without_nodes(self.keys, self.w, gone, KEY_BITS)  # keep(~(gone[i] | gone[j])), compiled; None: none touched
            if kept is not None:
                self.keys, self.w = kept
                self._changed()

    def remap(self, mapping: np.ndarray) -> None:
        """Follow a population compaction (old slot -> new slot, -1 dropped)."""
        i, j = mapping[self.i], mapping[self.j]
        ok = (i >= 0) & (j >= 0)
        k = edge_keys(i[ok], j[ok])
        order = np.argsort(k)
        self.keys, self.w = k[order], self.w[ok][order]
        self._changed()

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """The ties as saved: keys ``i * 2**31 + j`` (the packing of every version's checkpoints) and strengths."""
        keys = self.keys
        return {"keys": ((keys >> KEY_BITS) << _SAVED_BITS) | (keys & (KEY_BASE - 1)), "w": self.w.copy()}

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None:
        saved = np.asarray(d["keys"], dtype=np.int64)
        w = np.asarray(d["w"], dtype=np.float64)
        if saved.shape != w.shape or (saved.size > 1 and (np.diff(saved) <= 0).any()) or (saved.size and saved[0] < 0):
            raise ValueError(f"layer {self.name}: saved ties are not sorted unique keys with one strength each")
        # the same order in either packing (j < 2**31): sorted saved keys give sorted keys
        self.keys = ((saved >> _SAVED_BITS) << KEY_BITS) | (saved & ((np.int64(1) << _SAVED_BITS) - 1))
        self.w = w
        self._changed()


class Multiplex:
    """The three layers. Pipelines (ties to the outside) are a node attribute of the population."""

    def __init__(self) -> None:
        self.layers = {name: Layer(name) for name in LAYERS}
        self._sums: dict[tuple | str, tuple] = {}
        self._reach_factor: float | None = None  # the last reach_sum's: the combined sum is built with it

    def __getitem__(self, name: str) -> Layer:
        return self.layers[name]

    def __iter__(self):
        return iter(self.layers.values())

    def remove_nodes(self, gone: np.ndarray) -> None:
        for layer in self:
            layer.remove_nodes(gone)

    def remap(self, mapping: np.ndarray) -> None:
        for layer in self:
            layer.remap(mapping)

    def state_dict(self) -> dict[str, dict[str, np.ndarray]]:
        return {name: layer.state_dict() for name, layer in self.layers.items()}

    def load_state_dict(self, d: dict[str, dict[str, np.ndarray]]) -> None:
        for name, layer in self.layers.items():
            layer.load_state_dict(d[name])

    def _cached_sum(self, names: tuple[str, ...], n: int, build) -> CSR:
        key = (names, n, *(self.layers[name].version for name in names))
        cached = self._sums.get(names)
        if cached is None or cached[0] != key:
            cached = self._sums[names] = (key, build())
        return cached[1]

    def _build(self, names: tuple[str, ...], n: int) -> None:
        """Build the adjacency of those of the layers ``names`` that lack it, side by side on large networks
        (:func:`~clusterup.compiled.concurrently`: each layer's is the same whichever thread builds it)."""
        todo = [self.layers[name] for name in names if not self.layers[name]._has_csr(n)]
        if len(todo) > 1:
            built = concurrently([partial(symmetric_csr, layer.i, layer.j, layer.w, n) for layer in todo], n)
            for layer, adj in zip(todo, built, strict=True):
                layer._keep_csr(adj, n)

    def neighbours(self, names: tuple[str, ...], n: int, rows: np.ndarray | None = None) -> tuple[CSR | Neighbours, ...]:
        """:meth:`Layer.neighbours_csr` of the layers ``names`` (with ``rows``: only those rows are built), those
        to build side by side on large networks (not cached: for callers that change a layer right after)."""
        todo = [name for name in names if not self.layers[name]._has_csr(n)]
        built = dict(zip(todo, concurrently([partial(self.layers[name].neighbours_csr, n, rows) for name in todo], n),
                         strict=True))  # fmt: skip
        return tuple(built[name] if name in built else self.layers[name].csr(n) for name in names)

    def social_economic(self, n: int) -> CSR:
        """Social plus economic adjacency (cached until either changes; do not modify)."""
        pair = ("social", "economic")

        def build() -> CSR:
            self._build(pair, n)
            return add_csr(self.layers["social"].csr(n), self.layers["economic"].csr(n))

        return self._cached_sum(pair, n, build)

    def combined(self, n: int) -> CSR:
        """Sum of the three layers' adjacency matrices, ``(social + economic) + knowledge`` (cached until a
        layer changes; do not modify).

        It has the entries of :meth:`reach_sum`: once a reach sum has been asked for, each build of the
        combined sum also builds the reach sum with the last factor asked, from one merge of the three layers'
        rows (:func:`~clusterup.compiled.add_csr_triple`, without the social + economic sum in between). Each is
        the same whichever way it is built."""

        def build() -> CSR:
            self._build(LAYERS, n)
            omega = self._reach_factor
            if omega is None:
                return add_csr(self.social_economic(n), self.layers["knowledge"].csr(n))
            # both sums from one merge of the three layers' rows (social + economic is not kept)
            both, reach = add_csr_triple(*(self.layers[name].csr(n) for name in LAYERS), 1.0, omega)
            self._sums["reach"] = (self.reach_key(n, omega), reach)
            return both

        return self._cached_sum(LAYERS, n, build)

    def reach_key(self, n: int, omega: float) -> tuple:
        """What :meth:`reach_sum` is built from: equal keys (of this multiplex) mean the same ties, because every
        change of a layer bumps its version."""
        return ("reach", omega, n, *(self.layers[name].version for name in LAYERS))

    def reach_sum(self, n: int, omega: float) -> CSR:
        """``knowledge + omega * (social + economic)``, as ``add_csr(knowledge, social_economic, omega)``
        (cached until a layer changes or ``omega`` does; do not modify)."""
        self._reach_factor = float(omega)
        key = self.reach_key(n, float(omega))
        cached = self._sums.get("reach")
        if cached is None or cached[0] != key:
            self._build(LAYERS, n)
            reach = add_csr(self.layers["knowledge"].csr(n), self.social_economic(n), omega)
            cached = self._sums["reach"] = (key, reach)
        return cached[1]
