"""Numba-compiled kernels: single passes over ties where NumPy/SciPy take several passes, a sort or
temporary arrays. Each is a small pure function on arrays, with a NumPy/SciPy oracle in the tests
(tests/test_compiled.py and the process tests). Most give the same numbers as the code they replaced (same
operations in the same order), bit for bit. Two groups are equal to their NumPy definitions only within
floating-point tolerance, and say so: the recorder's indicators, and the innovation modes' success chances
and expected gains, whose powers are computed here rather than by NumPy's vectorised ``pow``
(tests/test_mode_kernels.py, relative tolerance 1e-12).

Compiled on first use and cached on disk (``cache=True``: Numba's ``__pycache__`` next to this file, or
its user-wide cache where that is read-only; ``NUMBA_CACHE_DIR`` chooses another place), so only the first
run on a machine pays the compilation. Where no cache directory is writable at all, each process compiles
for itself (a few seconds) instead of failing to import.

The kernels release the GIL (``nogil``), so that from :data:`PARALLEL_ROWS` nodes on
:func:`concurrently` can run independent ones side by side on the cores (the three layers' network
measures, the adjacency builds of several layers): each is a pure function of its own arrays, so its
numbers do not depend on which thread runs it or when.

Kernels that treat each row (firm) on its own also come in a parallel form, used from
:data:`PARALLEL_ROWS` rows on for the gathers over a row's ties (from :data:`PARALLEL_ITEMS` for the kernels
whose rows are ties, matrix entries or keys, and for the light passes that read a few numbers per firm:
handing a share to a thread costs 60-90 us on a 2-core virtual machine, as long as such a pass over 10,000
firms takes): the same compiled function over one contiguous share per thread,
the shares side by side on :func:`concurrently`'s threads (:func:`_by_rows`). Every row is computed by the
very same code as in the serial form, so the result does not depend on the number of threads (no sum is
split between threads). ``NUMBA_NUM_THREADS`` sets the number of threads; a process pool's worker uses one
(:func:`_threads`). Python threads rather than Numba's parallel loops: every kernel can then be compiled
ahead of time (:mod:`clusterup.aot`), so a large run does not start Numba's compiler to load parallel
kernels (about 0.13 s, more than the first 10 steps at 10,000 firms save).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import aot as _aot

if TYPE_CHECKING:
    import scipy.sparse as sp


class _NumbaWithoutScipyLinalg:
    """Let Numba start without importing ``scipy.linalg`` (0.1-0.25 s of every process that runs a kernel, for
    nothing here).

    When Numba first loads or compiles a kernel it imports its NumPy array functions (``numba.np.arraymath``),
    which check once whether BLAS is there for ``np.dot`` by calling ``numba.np.linalg.ensure_blas()``; that
    imports ``scipy.linalg.cython_blas`` and with it the whole of ``scipy.linalg``. No kernel here uses BLAS.
    This import hook waits for that import (a process that never starts Numba's target pays nothing), runs
    the module with the check answered by whether SciPy ships the module (a look at its files, no import),
    then puts the real ``ensure_blas`` back, so the flag Numba sets is the same, and a kernel that does use
    BLAS (anyone's, later in the process) still imports SciPy's and checks its integer width the usual way.
    Where Numba is laid out otherwise the import goes on untouched; tests/test_compiled.py checks that this
    still takes effect."""

    name = "numba.np.arraymath"

    def find_spec(self, fullname, path, target=None):
        import importlib.machinery
        import sys

        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        try:
            from numba.np import linalg as nb_linalg
        except ImportError:  # pragma: no cover - another Numba
            return spec
        real = getattr(nb_linalg, "ensure_blas", None)
        loader = getattr(spec, "loader", None)
        if real is None or not hasattr(loader, "exec_module"):  # pragma: no cover - another Numba
            return spec
        run = loader.exec_module

        def exec_module(module) -> None:
            nb_linalg.ensure_blas = _scipy_blas_shipped
            try:
                run(module)
            finally:
                nb_linalg.ensure_blas = real
            if getattr(module, "ensure_blas", None) is _scipy_blas_shipped:
                module.ensure_blas = real

        loader.exec_module = exec_module
        return spec


def _scipy_blas_shipped() -> None:
    """Numba's ``ensure_blas`` answered from SciPy's files: raises ImportError, as it does, where there is none."""
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("scipy")
    places = [Path(p) / "linalg" for p in (spec.submodule_search_locations or [])] if spec else []
    names = [f"cython_blas{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    if not any((place / name).is_file() for place in places for name in names):
        raise ImportError("scipy.linalg.cython_blas")


def _numba_without_scipy_linalg() -> None:
    import sys

    if "numba.np.arraymath" not in sys.modules and not any(isinstance(f, _NumbaWithoutScipyLinalg) for f in sys.meta_path):
        sys.meta_path.insert(0, _NumbaWithoutScipyLinalg())


_numba_without_scipy_linalg()


# The kernels compiled ahead of time for this process, where it can use them without starting Numba (about
# 0.2 s of a short run's 0.6 s): (kernel -> the build's lean function, their namespace); None: Numba's dispatchers.
_LEAN = _aot.lean(__file__)
_NUMBA_LOCK = threading.Lock()


def _jit(fn):
    """``numba.njit(cache=True, nogil=True)``, or without the disk cache where Numba finds no writable place
    for it. Releasing the GIL lets :func:`concurrently` run kernels side by side; it changes no number."""
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(nogil=True)(fn)


def kernel(fn):
    """A kernel: Numba's dispatcher (:func:`_jit`), or where this process found kernels compiled ahead of time
    that it can call without Numba (:func:`clusterup.aot.lean`), the build's lean function for it, which hands
    every kernel to Numba (:func:`_numba`) at the first call whose argument types none of its compiled
    signatures has, or once :data:`LEAN_CALLS` calls are made."""
    if _LEAN is None or fn.__module__ != __name__:  # (a build holds this module's kernels only)
        return _jit(fn)
    name = fn.__name__
    _LEAN_KERNELS[name] = fn
    made = _LEAN[0].get(name)
    if made is None:  # a kernel no shipped scenario called when the build learned the signatures

        def made(*args):
            return _numba(name)(*args)

    made.py_func = fn
    made.__doc__ = fn.__doc__
    return made


_LEAN_KERNELS: dict[str, Callable] = {}  # the kernels made without Numba (their Python functions)
# the calls they make before every call goes through Numba's dispatchers (clusterup.aot.kernel_source): about
# 280 steps at any size (a step makes about 140 calls), so that one run of a shipped preset at its size
# (23,000-27,000 calls) or of 100 steps does not start Numba, and a longer process (an ensemble's worker)
# starts it early and runs on at its dispatchers' speed (docs/performance.md measures both)
LEAN_CALLS = 40_000
_LEAN_BUDGET = [LEAN_CALLS]
_DISPATCHERS: dict[str, Any] = {}  # where the kernels were made without Numba: each one's dispatcher, once made


def _numba(name: str):
    """The Numba dispatcher of kernel ``name`` (made without Numba), every kernel handed to Numba first."""
    if name not in _DISPATCHERS:
        _to_numba()
    return _DISPATCHERS[name]


def _to_numba() -> None:
    """Make a Numba dispatcher for every kernel made without Numba: each replaces the lean function in this
    module's namespace (the kernels that call it are compiled against it there), with the compiled signatures
    attached as for a process that imported Numba first (:func:`clusterup.aot.attach`), and the lean functions
    still held elsewhere hand every call to it. Once, under a lock."""
    with _NUMBA_LOCK:
        if _DISPATCHERS or not _LEAN_KERNELS:
            return
        space = globals()
        made = {k: _jit(fn) for k, fn in _LEAN_KERNELS.items()}
        _numba_without_scipy_linalg()
        space["prefetch"] = _prefetch()
        # every dispatcher has its compiled signatures before any call reaches it: until the last line, the
        # other threads' calls are the lean kernels', and nothing is compiled against those
        attach({**space, **made})
        _LEAN_BUDGET[0] = -(2**62)  # every call to Numba's dispatchers from now on
        _DISPATCHERS.update(made)
        space.update(made)


if _LEAN is not None:  # what the build's lean functions call: the budget, and Numba's dispatchers after it
    _LEAN[1].update(numba=_numba, budget=_LEAN_BUDGET)


def for_workers() -> None:
    """Hand the kernels to Numba's dispatchers now, where they were made without it: a process about to start
    a pool of worker processes for many runs calls this first, so that workers forked from it start with the
    dispatchers (as when it imported Numba first) instead of each making them after its first
    :data:`LEAN_CALLS` calls. Nothing where the kernels are Numba's already."""
    _to_numba()


def _prefetch():
    """:func:`prefetch`, Numba's intrinsic (made where Numba is imported)."""
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def prefetch(typingctx, arr, index):  # pragma: no cover - compiled
        """Ask the CPU to start loading the cache lines that hold ``arr[index]`` (a 1-d array) or row ``index``
        of a 2-d array (its first and last entries), without waiting for them: LLVM's ``llvm.prefetch``. The
        loops over ties read their neighbours' entries at random places in memory; prefetching the entries of a
        tie a few ties ahead lets those loads overlap instead of waiting one after the other (about twice as
        fast at a million firms). Only a hint: it changes no value, and the index must be within the array."""
        if not isinstance(arr, types.Array) or arr.ndim not in (1, 2) or not isinstance(index, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            aryty, idxty = signature.args
            ary = context.make_array(aryty)(context, builder, args[0])
            idx = context.cast(builder, args[1], idxty, types.intp)
            if aryty.ndim == 1:
                places = [[idx]]
            else:
                last = builder.sub(builder.extract_value(ary.shape, 1), context.get_constant(types.intp, 1))
                places = [[idx, context.get_constant(types.intp, 0)], [idx, last]]
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                                "llvm.prefetch.p0")  # fmt: skip
            for place in places:
                ptr = cgutils.get_item_pointer(context, builder, aryty, ary, place)
                builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])  # read, keep in all caches
            return context.get_dummy_value()

        return types.void(arr, index), codegen

    return prefetch


prefetch = None if _LEAN is not None else _prefetch()


AHEAD = 16  # ties ahead whose neighbour entries the gather loops prefetch (best of 4 / 8 / 16 / 32 at 10^6 firms)

PARALLEL_ROWS = 10_000  # from this many rows (nodes or firms) on, kernels spread their work over the cores
PARALLEL_ITEMS = 50_000  # and from this many ties, matrix entries, keys, searches, scores or light rows


def _threads() -> int:
    """The threads the kernels may use: ``NUMBA_NUM_THREADS`` (Numba's setting, by default the number of
    cores), but one in a worker process of a process pool (a child that :mod:`multiprocessing` started: an
    ensemble runs one simulation per core, and the kernels' threads would crowd the other workers' cores)
    unless ``NUMBA_NUM_THREADS`` is set in the environment, which then holds for each worker."""
    if "NUMBA_NUM_THREADS" not in os.environ and _in_pool_worker():
        return 1
    numba = sys.modules.get("numba")
    if numba is not None:
        return numba.config.NUMBA_NUM_THREADS
    # a process that has not imported Numba: its setting as Numba would make it when imported
    return int(os.environ["NUMBA_NUM_THREADS"]) if "NUMBA_NUM_THREADS" in os.environ else _cores()


@functools.cache
def _cores() -> int:
    """The cores this process may run on: Numba's default ``NUMBA_NUM_THREADS``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _in_pool_worker() -> bool:
    import sys

    mp = sys.modules.get("multiprocessing")  # not imported: no pool started this process
    return mp is not None and mp.parent_process() is not None


def _parallel(work: int, items: bool = False) -> bool:
    """Whether to use a kernel's parallel form: from :data:`PARALLEL_ROWS` rows of nodes or firms on (with
    ``items``, from :data:`PARALLEL_ITEMS` ties, entries, keys, searches or scores, or rows of a light pass
    over firms: each costs less than a row of a gather over ties), with more than one thread allowed, and only
    on the main thread (a threaded Dask worker gets no threads of its own; the serial form gives the same
    numbers)."""
    return (work >= (PARALLEL_ITEMS if items else PARALLEL_ROWS) and _threads() > 1
            and threading.current_thread() is threading.main_thread())  # fmt: skip


def one_call(n: int) -> bool:
    """Whether a process takes its whole step in one compiled call (``compiled.economic_step``, ``knowledge_step``,
    ``social_step``, ``spillover``): on networks of fewer than :data:`PARALLEL_ROWS` nodes, where its passes
    would take their serial forms anyway. On larger ones they run one by one, some spread over the cores. The
    same numbers either way (each process's tests run both)."""
    return n < PARALLEL_ROWS


def _shares(n: int, indptr: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Rows ``0..n`` cut into one contiguous share per thread, of (nearly) equal size; with the ``indptr`` of a
    CSR matrix whose rows these are, of (nearly) equal work, a row and each of its entries counting one unit
    (rows ``0..r`` hold ``r + indptr[r]`` units). The older firms, at the low indices, hold more ties: at 10^6
    firms the first half of the rows holds 56-61% of each layer's, and an even cut of the rows leaves one
    core idle for a fifth of a gather pass."""
    k = max(_threads(), 1)
    if indptr is None or indptr.size != n + 1:
        cuts = [n * s // k for s in range(k + 1)]
    else:
        total = n + int(indptr[n])
        cuts = [0, *(bisect.bisect_left(range(n + 1), total * s // k, key=lambda r: r + int(indptr[r]))
                     for s in range(1, k)), n]  # fmt: skip
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _by_rows(rows_kernel: Callable[..., Any], n: int, *args: Any, indptr: np.ndarray | None = None) -> list[Any]:
    """A row kernel's parallel form: ``rows_kernel(*args, lo, hi)`` for one share of rows ``0..n`` per thread
    (:func:`_shares`, by work where ``indptr`` is given), side by side on :func:`concurrently`'s threads (the
    kernels release the GIL). Every row is computed by the same code as in the serial form, so the numbers do
    not depend on the cut or the number of threads (no sum is split between threads). Returns each share's
    result, in order."""
    return concurrently([partial(rows_kernel, *args, lo, hi) for lo, hi in _shares(n, indptr)], PARALLEL_ROWS)


def _row_kernel(rows_kernel: Callable[..., Any], n: int, *args: Any, work: int | None = None,
                indptr: np.ndarray | None = None, items: bool = False) -> None:
    """Run a row kernel over rows ``0..n``: ``rows_kernel(*args, 0, n)`` in one call, or from
    :data:`PARALLEL_ROWS` rows on (from :data:`PARALLEL_ITEMS` where the rows are ``items``: ties, keys or the
    rows of a light pass over firms; or units of ``work``) its parallel form, :func:`_by_rows` (cut by work
    where the rows are those of a CSR matrix with this ``indptr``)."""
    if _parallel(n, items) if work is None else _parallel(work, True):
        _by_rows(rows_kernel, n, *args, indptr=indptr)
    else:
        rows_kernel(*args, 0, n)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child (a process pool's worker) the parent's pool threads do not exist: start afresh."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def concurrently(calls: list[Callable[[], Any]], nodes: int) -> list[Any]:
    """The results of ``calls`` (each without arguments), in their order. From :data:`PARALLEL_ROWS` nodes on,
    with more than one thread allowed (``NUMBA_NUM_THREADS``) and on the main thread (a threaded Dask worker
    gets no threads of its own), the calls run side by side: the calling thread and up to ``threads - 1``
    threads of a small pool each take the next call not yet taken until none is left (one hand-over per
    thread, not per call, and a thread that finishes early takes more). They must be independent and spend
    their time in kernels that release the GIL (the serial kernels here do). Each result is the same whichever
    thread computes it. Otherwise, and below that size, where handing work to a thread costs more than it
    saves, the calls run one after the other."""
    global _pool
    if nodes < PARALLEL_ROWS or len(calls) < 2:  # first the checks that cost nothing (a small run asks often)
        return [call() for call in calls]
    threads = _threads()  # the pool's most is one less: the calling thread works too
    if threads < 2 or threading.current_thread() is not threading.main_thread():
        return [call() for call in calls]
    with _pool_lock:
        if _pool is None or _pool[0] != threads:
            if _pool is not None:
                _pool[1].shutdown(wait=False)
            _pool = (threads, ThreadPoolExecutor(threads - 1, thread_name_prefix="clusterup-kernel"))
        pool = _pool[1]
    results: list[Any] = [None] * len(calls)
    taken = itertools.count()  # its next() is atomic under the GIL: each call is taken once

    def work() -> None:
        for k in taken:
            if k >= len(calls):
                return
            results[k] = calls[k]()

    helpers = [pool.submit(work) for _ in range(min(threads, len(calls)) - 1)]
    try:
        work()
    finally:  # the helpers' calls finish before this returns or raises (theirs re-raised here)
        for helper in helpers:
            helper.result()
    return results


@kernel
def _uniform_index(u, size):  # pragma: no cover - compiled
    """The index in ``0..size-1`` that a uniform draw ``u`` in [0, 1) picks, as ``kernels.random_neighbour`` and
    ``kernels.sample_from_groups`` compute it: ``min(int(u * size), max(size - 1, 0))``."""
    return min(np.int64(u * size), max(size - 1, 0))


@kernel
def _edge_key(a, b, base):  # pragma: no cover - compiled
    """A pair's edge key, ``min(a, b) * base + max(a, b)``, as ``state.multiplex.edge_keys`` computes it."""
    return min(a, b) * base + max(a, b)


def _index_dtype(size: int) -> type:
    return np.int32 if size < 2**31 - 1 else np.int64


class CSR(NamedTuple):
    """A square sparse matrix in canonical compressed sparse row form (each row's columns sorted, no
    repeats) as three plain arrays, the layout of SciPy's ``csr_matrix``. The processes read adjacency
    in this form: building a SciPy matrix validates its arrays, which costs more than the build itself at
    a few thousand firms. :func:`to_scipy` gives the SciPy matrix."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        n = self.indptr.size - 1
        return n, n

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])


class Neighbours(NamedTuple):
    """Who is tied to whom, without the strengths: a :class:`CSR`'s ``indptr`` and ``indices`` (each row's
    neighbours ascending). Enough for drawing random neighbours, at about half the cost of the full build."""

    indptr: np.ndarray
    indices: np.ndarray


def to_scipy(adj) -> sp.csr_matrix:
    """A SciPy CSR matrix around canonical CSR arrays, without a copy; marked canonical so that SciPy does
    not sort them again. (SciPy is imported here, not with the module: a run does not need it.)"""
    import scipy.sparse as sp

    mat = sp.csr_matrix((adj.data, adj.indices, adj.indptr), shape=adj.shape, copy=False)
    mat.has_sorted_indices = True
    mat.has_canonical_format = True
    return mat


def row_sums(adj) -> np.ndarray:
    """Sum of each row, as SciPy's ``csr_matrix.sum(axis=1)`` computes it (``np.add.reduceat`` over the
    non-empty rows), without building the matrix."""
    out = np.zeros(adj.shape[0])
    rows = np.diff(adj.indptr).nonzero()[0]
    if rows.size:
        out[rows] = np.add.reduceat(adj.data, adj.indptr[rows])
    return out


@kernel
def _dot_rows(indptr, indices, data, x, out, lo, hi):  # pragma: no cover - compiled
    end = indices.size  # a prefetch past the block's own ties is harmless
    for r in range(lo, hi):
        for p in range(indptr[r], indptr[r + 1]):
            if p + AHEAD < end:
                prefetch(x, indices[p + AHEAD])
            a = data[p]
            c = indices[p]
            for k in range(x.shape[1]):
                out[r, k] += a * x[c, k]


def csr_dot(adj, x: np.ndarray) -> np.ndarray:
    """``adj @ x`` for a vector or a matrix ``x``: each output entry summed from 0 in the row's column
    order, as SciPy's ``csr_matvec``/``csr_matvecs`` do."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((adj.shape[0], 1 if x.ndim == 1 else x.shape[1]))
    _row_kernel(_dot_rows, adj.shape[0], adj.indptr, adj.indices, adj.data, x[:, None] if x.ndim == 1 else x, out,
                indptr=adj.indptr)
    return out[:, 0] if x.ndim == 1 else out


@kernel
def _scatter(rows, cols, w, fill, indices, data):  # pragma: no cover - compiled
    m = rows.size
    strengths = data.size > 0  # an empty data: the columns only (symmetric_neighbours)
    for e in range(m):
        if e + AHEAD < m:
            prefetch(fill, rows[e + AHEAD])
            f = fill[rows[e + AHEAD // 2]]  # where a tie half as far ahead goes (a hint: it may still move)
            if f < indices.size:
                prefetch(indices, f)
                if strengths:
                    prefetch(data, f)
        p = fill[rows[e]]
        indices[p] = cols[e]
        if strengths:
            data[p] = w[e]
        fill[rows[e]] = p + 1


@kernel
def _sym_csr(i, j, w, n, indptr, indices, data):  # pragma: no cover - compiled
    for e in range(i.size):
        indptr[i[e] + 1] += 1
        indptr[j[e] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    # ties come sorted by (i, j) with i < j: row j first receives its lower entries (col i, ascending),
    # then every row its upper ones (col j, ascending), so each row ends sorted
    _scatter(j, i, w, fill, indices, data)
    _scatter(i, j, w, fill, indices, data)


def symmetric_csr(i: np.ndarray, j: np.ndarray, w: np.ndarray, n: int) -> CSR:
    """Symmetric n x n CSR of ties given once each, sorted by ``(i, j)`` with ``i < j`` (a Layer's order).

    Equal to ``csr_matrix((w|w, (i|j, j|i)))`` in SciPy's canonical form, built by a counting sort."""
    dt = _index_dtype(2 * i.size + n)
    indptr = np.zeros(n + 1, dtype=dt)
    indices = np.empty(2 * i.size, dtype=dt)
    data = np.empty(2 * i.size, dtype=np.float64)
    _sym_csr(i, j, w, n, indptr, indices, data)
    return CSR(indptr, indices, data)


@kernel
def _merge_rows(ap, ai, ad, bp, bi, bd, alpha, beta, op, oi, od, od2, lo, hi, k):  # pragma: no cover - compiled
    two = od2.size > 0  # also b + beta * a, on the same entries
    for r in range(lo, hi):
        p, pe = ap[r], ap[r + 1]
        q, qe = bp[r], bp[r + 1]
        while p < pe or q < qe:
            if q >= qe or (p < pe and ai[p] < bi[q]):
                oi[k] = ai[p]
                od[k] = ad[p]
                if two:
                    od2[k] = beta * ad[p]
                p += 1
            elif p >= pe or bi[q] < ai[p]:
                oi[k] = bi[q]
                od[k] = alpha * bd[q]
                if two:
                    od2[k] = bd[q]
                q += 1
            else:
                oi[k] = ai[p]
                od[k] = ad[p] + alpha * bd[q]
                if two:
                    od2[k] = bd[q] + beta * ad[p]
                p += 1
                q += 1
            k += 1
        op[r + 1] = k
    return k


@kernel
def _merge(ap, ai, ad, bp, bi, bd, alpha, beta, n, op, oi, od, od2):  # pragma: no cover - compiled
    return _merge_rows(ap, ai, ad, bp, bi, bd, alpha, beta, op, oi, od, od2, 0, n, 0)


@kernel
def _merge_bounds(ap, bp, n, blocks):  # pragma: no cover - compiled
    # blocks of rows cut where the two inputs' entries divide evenly: block b starts at the first row r with
    # ap[r] + bp[r] >= its share of the entries (both are non-decreasing)
    total = ap[n] + bp[n]
    bounds = np.empty(blocks + 1, np.int64)
    bounds[0] = 0
    bounds[blocks] = n
    for b in range(1, blocks):
        entries = (total * b + blocks - 1) // blocks
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            if ap[mid] + bp[mid] < entries:
                lo = mid + 1
            else:
                hi = mid
        bounds[b] = lo
    return bounds


@kernel
def _merge_close(ap, bp, bounds, ends, op, oi, od, od2):  # pragma: no cover - compiled
    # block b wrote from ap[lo] + bp[lo], the most its rows' output can start at: close the gaps, in order
    k = ends[0]
    for b in range(1, bounds.size - 1):
        lo, hi = bounds[b], bounds[b + 1]
        start = ap[lo] + bp[lo]
        shift = start - k
        if shift:  # move the block down (forward, so that an overlap is read before it is written)
            for t in range(start, ends[b]):
                oi[t - shift] = oi[t]
                od[t - shift] = od[t]
            if od2.size:
                for t in range(start, ends[b]):
                    od2[t - shift] = od2[t]
            for r in range(lo, hi):
                op[r + 1] -= shift
        k += ends[b] - start
    return k


def _merge_blocks(ap, ai, ad, bp, bi, bd, alpha, beta, n, op, oi, od, od2, blocks: int) -> int:
    """:func:`_merge`'s parallel form: ``blocks`` blocks of rows (cut by entries) merged side by side on
    :func:`concurrently`'s threads, each written where its output can start at most, the gaps closed after."""
    bounds = _merge_bounds(ap, bp, n, blocks)
    calls = [partial(_merge_rows, ap, ai, ad, bp, bi, bd, alpha, beta, op, oi, od, od2, int(lo), int(hi),
                     int(ap[lo]) + int(bp[lo])) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]  # fmt: skip
    ends = np.array(concurrently(calls, PARALLEL_ROWS), dtype=np.int64)
    return int(_merge_close(ap, bp, bounds, ends, op, oi, od, od2))


def symmetric_neighbours(i: np.ndarray, j: np.ndarray, n: int, rows: np.ndarray | None = None) -> Neighbours:
    """The ``indptr`` and ``indices`` that :func:`symmetric_csr` gives for the same ties, without building the
    strengths. With ``rows``, only those rows are filled (each as the whole build fills it; every other row is
    empty): for callers that read a few rows, at the cost of reading the ties, not of placing all of them."""
    dt = _index_dtype(2 * i.size + n)
    indptr = np.zeros(n + 1, dtype=dt)
    if rows is not None:
        return Neighbours(indptr, _sym_rows(i, j, n, np.ascontiguousarray(rows, dtype=np.int64), indptr))
    indices = np.empty(2 * i.size, dtype=dt)
    _sym_csr(i, j, np.empty(0), n, indptr, indices, np.empty(0))  # no strengths read or written
    return Neighbours(indptr, indices)


@kernel
def _sym_rows(i, j, n, rows, indptr):  # pragma: no cover - compiled
    wanted = np.zeros(n, dtype=np.bool_)
    for x in range(rows.size):
        wanted[rows[x]] = True
    for e in range(i.size):
        if wanted[i[e]]:
            indptr[i[e] + 1] += 1
        if wanted[j[e]]:
            indptr[j[e] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    indices = np.empty(indptr[n], dtype=indptr.dtype)
    fill = indptr[:-1].copy()
    for e in range(i.size):  # as _sym_csr: each row's lower entries first (col i, ascending), then its upper ones
        r = j[e]
        if wanted[r]:
            indices[fill[r]] = i[e]
            fill[r] += 1
    for e in range(i.size):
        r = i[e]
        if wanted[r]:
            indices[fill[r]] = j[e]
            fill[r] += 1
    return indices


def add_csr(a: CSR, b: CSR, alpha: float = 1.0) -> CSR:
    """``a + alpha * b`` for canonical CSR matrices with positive entries, as SciPy computes it
    (``alpha * b`` first, then the sum), in one merge pass. From :data:`PARALLEL_ITEMS` entries in the two
    on, the rows are cut into one block per thread (each entry is the same whatever the cut)."""
    return _add(a, b, alpha, None)[0]


def add_csr_pair(a: CSR, b: CSR, alpha: float, beta: float) -> tuple[CSR, CSR]:
    """``add_csr(a, b, alpha)`` and ``add_csr(b, a, beta)`` from one merge pass: the two sums have the same
    entries, so they share ``indptr`` and ``indices`` (read-only) and each entry is computed as
    :func:`add_csr` computes it."""
    return _add(a, b, alpha, float(beta))


@kernel
def _merge3_rows(sp, si, sd, ep, ei, ed, kp, ki, kd, alpha, beta, op, oi, od, od2, lo, hi, k):  # pragma: no cover
    # per column: se = s + alpha * e (add_csr(s, e, alpha)), then se + alpha * k and k + beta * se
    # (add_csr_pair(se, k, alpha, beta)), each entry computed as those two merges compute it
    for r in range(lo, hi):
        p, pe = sp[r], sp[r + 1]
        q, qe = ep[r], ep[r + 1]
        t, te = kp[r], kp[r + 1]
        while p < pe or q < qe or t < te:
            col = si[p] if p < pe else -1
            if q < qe and (col < 0 or ei[q] < col):
                col = ei[q]
            if t < te and (col < 0 or ki[t] < col):
                col = ki[t]
            has = True
            se = 0.0
            if p < pe and si[p] == col:
                se = sd[p]
                p += 1
                if q < qe and ei[q] == col:
                    se = se + alpha * ed[q]
                    q += 1
            elif q < qe and ei[q] == col:
                se = alpha * ed[q]
                q += 1
            else:
                has = False
            oi[k] = col
            if t < te and ki[t] == col:
                if has:
                    od[k] = se + alpha * kd[t]
                    od2[k] = kd[t] + beta * se
                else:
                    od[k] = alpha * kd[t]
                    od2[k] = kd[t]
                t += 1
            else:
                od[k] = se
                od2[k] = beta * se
            k += 1
        op[r + 1] = k
    return k


def add_csr_triple(s: CSR, e: CSR, k: CSR, alpha: float, beta: float) -> tuple[CSR, CSR]:
    """``add_csr_pair(add_csr(s, e, alpha), k, alpha, beta)`` in one merge of the three matrices' rows, without
    the sum ``s + alpha * e`` in between: ``(s + alpha * e) + alpha * k`` and ``k + beta * (s + alpha * e)``,
    sharing ``indptr`` and ``indices``, each entry computed as those merges compute it (the same numbers).
    From :data:`PARALLEL_ITEMS` entries on, the rows are cut into one block per thread."""
    n = s.shape[0]
    size = s.nnz + e.nnz + k.nnz
    dt = _index_dtype(size + n)
    op = np.zeros(n + 1, dtype=dt)
    oi = np.empty(size, dtype=dt)
    od = np.empty(size, dtype=np.float64)
    od2 = np.empty(size, dtype=np.float64)
    args = (s.indptr, s.indices, s.data, e.indptr, e.indices, e.data, k.indptr, k.indices, k.data, float(alpha),
            float(beta), op, oi, od, od2)  # fmt: skip
    if _parallel(size, items=True):  # as _merge_blocks, with s and e's row starts added up as the first input's
        first = s.indptr.astype(np.int64) + e.indptr
        bounds = _merge_bounds(first, k.indptr, n, _threads())
        calls = [partial(_merge3_rows, *args, int(lo), int(hi), int(first[lo]) + int(k.indptr[lo]))
                 for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]  # fmt: skip
        ends = np.array(concurrently(calls, PARALLEL_ROWS), dtype=np.int64)
        used = int(_merge_close(first, k.indptr, bounds, ends, op, oi, od, od2))
    else:
        used = int(_merge3_rows(*args, 0, n, 0))
    return CSR(op, oi[:used], od[:used]), CSR(op, oi[:used], od2[:used])


def _add(a: CSR, b: CSR, alpha: float, beta: float | None) -> tuple[CSR, CSR | None]:
    n = a.shape[0]
    size = a.nnz + b.nnz
    dt = _index_dtype(size + n)
    op = np.zeros(n + 1, dtype=dt)
    oi = np.empty(size, dtype=dt)
    od = np.empty(size, dtype=np.float64)
    od2 = np.empty(0 if beta is None else size, dtype=np.float64)
    args = (a.indptr, a.indices, a.data, b.indptr, b.indices, b.data, float(alpha), 0.0 if beta is None else beta,
            n, op, oi, od, od2)  # fmt: skip
    k = _merge_blocks(*args, _threads()) if _parallel(size, items=True) else _merge(*args)
    return CSR(op, oi[:k], od[:k]), None if beta is None else CSR(op, oi[:k], od2[:k])


@kernel
def _triangles(i, j, n, deg, ptr, out, hi, mark):  # pragma: no cover - compiled
    m = i.size
    for e in range(m):
        if e + AHEAD < m:
            prefetch(deg, j[e + AHEAD])
        deg[i[e]] += 1
        deg[j[e]] += 1
    # orient each tie from the lower- to the higher-ranked end (degree, then index): every node then
    # points to at most sqrt(2m) others, and each triangle is found once, from its lowest-ranked node
    for e in range(m):
        if e + AHEAD < m:
            prefetch(deg, j[e + AHEAD])
        a, b = i[e], j[e]
        if deg[a] < deg[b] or (deg[a] == deg[b] and a < b):
            lo, hi[e] = a, b
        else:
            lo, hi[e] = b, a
        ptr[lo + 1] += 1
    for r in range(n):
        ptr[r + 1] += ptr[r]
    fill = ptr[:-1].copy()
    for e in range(m):
        if e + AHEAD < m:
            prefetch(fill, i[e + AHEAD] + j[e + AHEAD] - hi[e + AHEAD])
        a = i[e] + j[e] - hi[e]  # the lower-ranked end
        out[fill[a]] = hi[e]
        fill[a] += 1
    count = 0
    for u in range(n):
        for p in range(ptr[u], ptr[u + 1]):
            mark[out[p]] = u
        for p in range(ptr[u], ptr[u + 1]):
            if p + AHEAD < m:
                prefetch(ptr, out[p + AHEAD])
            v = out[p]
            for q in range(ptr[v], ptr[v + 1]):
                if mark[out[q]] == u:
                    count += 1
    return count


def triangles(i: np.ndarray, j: np.ndarray, n: int) -> int:
    """Number of triangles of a simple undirected graph given once per tie (``i != j``, no repeats)."""
    if i.size < 3:
        return 0
    dt = _index_dtype(i.size + n)  # 32-bit work arrays where they fit: less memory traffic
    deg = np.zeros(n, dtype=dt)
    ptr = np.zeros(n + 1, dtype=dt)
    mark = np.full(n, -1, dtype=dt)
    return int(_triangles(i, j, n, deg, ptr, np.empty(i.size, dtype=dt), np.empty(i.size, dtype=dt), mark))


_LOW32 = (1 << 32) - 1  # an id key's lower end is its upper 32 bits, its higher end the lower 32


@kernel
def _key_differences(a, b, only_a, only_b):  # pragma: no cover - compiled
    """The keys of sorted unique ``a`` not in sorted unique ``b`` (into ``only_a``, in order) and those of ``b``
    not in ``a`` (into ``only_b``), in one merge; their counts, or (-1, -1) as soon as one holds too few."""
    p = q = ka = kb = 0
    while p < a.size or q < b.size:
        if q == b.size or (p < a.size and a[p] < b[q]):
            if ka == only_a.size:
                return -1, -1
            only_a[ka] = a[p]
            ka += 1
            p += 1
        elif p == a.size or b[q] < a[p]:
            if kb == only_b.size:
                return -1, -1
            only_b[kb] = b[q]
            kb += 1
            q += 1
        else:
            p += 1
            q += 1
    return ka, kb


@kernel
def _lower_bound(a, lo, hi, x):  # pragma: no cover - compiled
    """The first place in ``a[lo:hi]`` (sorted) whose entry is not below ``x`` (``hi`` where none is)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _sorted_has(keys, x):  # pragma: no cover - compiled
    """Whether sorted ``keys`` hold ``x`` (a binary search)."""
    k = _lower_bound(keys, 0, keys.size, x)
    return k < keys.size and keys[k] == x


@kernel
def _touched_lists(keys, mark, touched):  # pragma: no cover - compiled
    """The neighbours, ascending, of the nodes with ``mark[id] >= 0`` (their place among the ``touched``) in
    the graph of sorted id ``keys``: (starts, entries), from two scans. A node's lower neighbours come with the
    keys of lower first ends, its higher ones with its own keys after those, each in order; so scanning the
    keys in order gives each list ascending."""
    size = mark.size
    ptr = np.zeros(touched + 1, np.int64)
    for k in range(keys.size):
        a = keys[k] >> 32
        b = keys[k] & _LOW32
        if a < size and mark[a] >= 0:
            ptr[mark[a] + 1] += 1
        if b < size and mark[b] >= 0:
            ptr[mark[b] + 1] += 1
    for t in range(touched):
        ptr[t + 1] += ptr[t]
    lists = np.empty(ptr[touched], np.int64)
    fill = ptr[:-1].copy()
    for k in range(keys.size):
        a = keys[k] >> 32
        b = keys[k] & _LOW32
        if a < size and mark[a] >= 0:
            lists[fill[mark[a]]] = b
            fill[mark[a]] += 1
        if b < size and mark[b] >= 0:
            lists[fill[mark[b]]] = a
            fill[mark[b]] += 1
    return ptr, lists


@kernel
def _edited_lists(ptr, lists, cp, cl, gp, gl):  # pragma: no cover - compiled
    """Per node, its sorted list less the entries of its list in (``cp``, ``cl``) plus those in (``gp``,
    ``gl``): the old graph's neighbours from the new graph's, the ties that came and the ties that went."""
    rows = ptr.size - 1
    out_ptr = np.zeros(rows + 1, np.int64)
    for r in range(rows):
        out_ptr[r + 1] = out_ptr[r] + (ptr[r + 1] - ptr[r]) - (cp[r + 1] - cp[r]) + (gp[r + 1] - gp[r])
    out = np.empty(out_ptr[rows], np.int64)
    for r in range(rows):
        k = out_ptr[r]
        c, ce = cp[r], cp[r + 1]
        g, ge = gp[r], gp[r + 1]
        for p in range(ptr[r], ptr[r + 1]):
            x = lists[p]
            if c < ce and cl[c] == x:  # a tie that came: not in the old graph
                c += 1
                continue
            while g < ge and gl[g] < x:  # the ties that went, in order among the others
                out[k] = gl[g]
                k += 1
                g += 1
            out[k] = x
            k += 1
        while g < ge:
            out[k] = gl[g]
            k += 1
            g += 1
    return out_ptr, out


@kernel
def _count_through(ptr, lists, mark, changed):  # pragma: no cover - compiled
    """The triangles through the sorted ``changed`` keys in the graph whose touched nodes' neighbours are
    (``ptr``, ``lists``), each counted once: from the smallest changed key among its three ties. A tie's
    common neighbours by merging its ends' lists, or, where one is more than eight times the other, by
    searching the longer for each entry of the shorter."""
    count = 0
    for c in range(changed.size):
        key = changed[c]
        a = key >> 32
        b = key & _LOW32
        p, pe = ptr[mark[a]], ptr[mark[a] + 1]
        q, qe = ptr[mark[b]], ptr[mark[b] + 1]
        if pe - p > qe - q:
            a, b, p, pe, q, qe = b, a, q, qe, p, pe  # a: the end with fewer ties
        gallop = (qe - q) > 8 * (pe - p)
        while p < pe and q < qe:
            x = lists[p]
            if gallop:
                q = _lower_bound(lists, q, qe, x)
                if q == qe:
                    break
            y = lists[q]
            if x < y:
                p += 1
            elif y < x:
                q += 1
            else:
                ka = (min(a, x) << 32) + max(a, x)
                kb = (min(b, x) << 32) + max(b, x)
                if not ((ka < key and _sorted_has(changed, ka)) or (kb < key and _sorted_has(changed, kb))):
                    count += 1
                p += 1
                q += 1
    return count


@kernel
def _triangles_changed(new, gone, came):  # pragma: no cover - compiled
    """(triangles of the old graph through the ties that ``gone``, of the ``new`` graph through those that
    ``came``): the neighbour lists of the nodes they touch from two scans over ``new``, the old graph's lists
    from those by taking out the ties that came and putting back those that went."""
    size = 0
    for keys in (gone, came):
        for c in range(keys.size):
            size = max(size, (keys[c] >> 32) + 1, (keys[c] & _LOW32) + 1)
    mark = np.full(size, -1, np.int32)  # a touched node's place among the touched, by id
    touched = 0
    for keys in (gone, came):
        for c in range(keys.size):
            for x in (keys[c] >> 32, keys[c] & _LOW32):
                if mark[x] < 0:
                    mark[x] = touched
                    touched += 1
    ptr, lists = _touched_lists(new, mark, touched)
    cp, cl = _touched_lists(came, mark, touched)
    gp, gl = _touched_lists(gone, mark, touched)
    old_ptr, old_lists = _edited_lists(ptr, lists, cp, cl, gp, gl)
    return _count_through(old_ptr, old_lists, mark, gone), _count_through(ptr, lists, mark, came)


@kernel
def _id_keys(i, j, ids, out):  # pragma: no cover - compiled
    ordered = True
    for t in range(i.size):
        if t + AHEAD < i.size:
            prefetch(ids, j[t + AHEAD])
        a, b = ids[i[t]], ids[j[t]]
        out[t] = (min(a, b) << 32) + max(a, b)
        if t > 0 and out[t] < out[t - 1]:
            ordered = False
    return ordered


def id_keys(ids: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """:func:`clusterup.indicators.id_keys` in one pass: the sorted keys ``(min << 32) + max`` of the ties'
    ends' stable ids (in a layer's order they come sorted: ids grow with slots; sorted where they do not)."""
    out = np.empty(i.size, np.int64)
    if not _id_keys(i, j, ids, out):
        out.sort()
    return out


CHANGED_SHARE = 8  # triangles_since counts again only where at most 1/8 of the ties came or went


def triangles_since(old: np.ndarray, count: int, new: np.ndarray) -> int | None:
    """The triangles of the graph of the sorted unique id keys ``new`` (``(min << 32) + max`` of each tie's
    ends, as :func:`id_keys` makes them), from ``count``, those of the graph of ``old``: less the old triangles
    through a tie that went, plus the new ones through a tie that came (a triangle of the ties that stayed is
    in both), each found from its ties' common neighbours. The same integer as :func:`triangles` of the new
    graph, in a time that grows with the ties that changed and one merge and two scans over the keys, not
    with the graph's triangles; None where more than ``1 / CHANGED_SHARE`` of the ties came or went (counting
    them all then pays)."""
    limit = max(old.size, new.size) // CHANGED_SHARE
    gone, came = np.empty(limit, np.int64), np.empty(limit, np.int64)
    k_gone, k_came = _key_differences(old, new, gone, came)
    if k_gone < 0:
        return None
    if k_gone + k_came == 0:
        return int(count)
    lost, found = _triangles_changed(new, gone[:k_gone], came[:k_came])
    return int(count) - int(lost) + int(found)


@kernel
def _components(i, j, n):  # pragma: no cover - compiled
    parent = np.arange(n)
    m = i.size
    for e in range(m):
        if e + AHEAD < m:
            prefetch(parent, j[e + AHEAD])
        a, b = i[e], j[e]
        while parent[a] != a:  # find with path halving
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    for v in range(n):  # parents have smaller indices, so one forward pass resolves every root
        parent[v] = parent[parent[v]]
    return parent


@kernel
def _end_scatter(i, j, w, n, low, high):  # pragma: no cover - compiled
    """Each tie's strength (``w``; 1 where ``w`` is empty) added to ``low`` at its end ``i`` and ``high`` at its
    end ``j`` (ends at or beyond ``n`` skipped), in tie order as np.bincount adds; then ``low += high``."""
    m = i.size
    weighted = w.size > 0
    for t in range(m):
        if t + AHEAD < m:
            prefetch(high, j[t + AHEAD])
        x = w[t] if weighted else 1
        if i[t] < n:
            low[i[t]] += x
        if j[t] < n:
            high[j[t]] += x
    for v in range(n):
        low[v] += high[v]


@kernel
def _end_sums(i, j, w, n):  # pragma: no cover - compiled
    low = np.zeros(n)
    _end_scatter(i, j, w, n, low, np.zeros(n))
    return low


@kernel
def _end_counts(i, j, n):  # pragma: no cover - compiled
    low = np.zeros(n, dtype=np.int64)
    _end_scatter(i, j, np.empty(0, dtype=np.int64), n, low, np.zeros(n, dtype=np.int64))
    return low


def end_sums(i: np.ndarray, j: np.ndarray, w: np.ndarray | None, n: int) -> np.ndarray:
    """``np.bincount(i, w, minlength=n)[:n] + np.bincount(j, w, minlength=n)[:n]`` (strength per node; with ``w``
    None, the integer degree), each count summed in tie order as bincount does, the prefetched scatter over
    ``j`` in one pass, the two counts' sum in another, in one call."""
    return _end_counts(i, j, n) if w is None else _end_sums(i, j, w, n)


def component_roots(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Per node, the smallest node of its connected component (union-find over the ties)."""
    return _components(np.asarray(i), np.asarray(j), n)


@kernel
def _best_model_rows(indptr, indices, data, capability, cap, model, strength, lo, hi):  # pragma: no cover
    end = indices.size  # a prefetch past the block's own ties is harmless
    for r in range(lo, hi):
        ar = capability[r]
        top = 0.0
        best = -1
        for p in range(indptr[r], indptr[r + 1]):
            if p + AHEAD < end:
                prefetch(capability, indices[p + AHEAD])
            gap = capability[indices[p]] - ar
            w = min(data[p], cap)
            score = w * gap if gap > 0 else 0.0
            if score > 0 and score >= top:  # the last of equal top scores (a stable sort's tie-break)
                top = score
                best = p
        if best >= 0:
            model[r] = indices[best]
            strength[r] = min(data[best], cap)


def best_model(adj, capability: np.ndarray, cap: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Per row i, the neighbour j maximising ``min(w_ij, cap) * (a_j - a_i)`` over better neighbours: its
    index (-1 where no neighbour is better) and the capped tie strength to it. Of equal top scores the
    last in the row wins (the tie-break a stable sort by score within rows gives)."""
    n = adj.shape[0]
    model = np.full(n, -1, dtype=np.int64)
    strength = np.zeros(n)
    _row_kernel(_best_model_rows, n, adj.indptr, adj.indices, adj.data, capability, float(cap), model, strength,
                indptr=adj.indptr)
    return model, strength


@kernel
def _spill_rows(indptr, indices, data, src, rate, cross, inflow, best_gap, lo, hi):  # pragma: no cover
    end = indices.size  # a prefetch past the block's own ties is harmless
    for r in range(lo, hi):
        s = 0.0
        ar = src[r, 0]
        gr = src[r, 1]
        for p in range(indptr[r], indptr[r + 1]):
            if p + AHEAD < end:
                prefetch(src, indices[p + AHEAD])
            c = indices[p]
            gap = max(src[c, 0] - ar, 0.0)
            flow = rate * data[p] * gap * (1.0 if src[c, 1] == gr else cross) * src[c, 2]
            s += flow
            if gap > best_gap[r]:
                best_gap[r] = gap
        inflow[r] += s


@kernel
def _spill_sources(a, g, leak, out):  # pragma: no cover - compiled
    for r in range(a.size):
        out[r, 0] = a[r]
        out[r, 1] = g[r]
        out[r, 2] = leak[r] if leak.size else 1.0
        out[r, 3] = 0.0


def spill_sources(a: np.ndarray, g: np.ndarray, leak: np.ndarray | None = None) -> np.ndarray:
    """What :func:`spill` reads of each tie's source, side by side: per node its capability, generation (as a
    float, exactly) and leak share (1 without ``leak``), padded to 32 bytes. A pass gathers them for every tie
    end in random order; from one row instead of three arrays it loads one cache line per end instead of
    three, about half the pass at a million firms (docs/performance.md)."""
    out = np.empty((a.size, 4))
    _spill_sources(a, np.ascontiguousarray(g), np.empty(0) if leak is None else leak, out)
    return out


def spill(
    adj, a: np.ndarray, g: np.ndarray, rate: float, cross: float, inflow: np.ndarray, best_gap: np.ndarray,
    leak: np.ndarray | None = None, sources: np.ndarray | None = None,
) -> None:  # fmt: skip
    """Add one layer's spillover inflow ``sum_j rate w_ij (a_j - a_i)^+ c_ij leak_j`` to ``inflow`` (summed
    in the row's order) and raise ``best_gap`` to the largest gap, in place. ``leak_j`` is the share of
    source j's knowledge that can leak (1 where nothing protects it). ``sources`` is
    :func:`spill_sources` of the same ``a``, ``g`` and ``leak``, for a caller that passes several layers."""
    src = spill_sources(a, g, leak) if sources is None else sources
    _row_kernel(_spill_rows, a.size, adj.indptr, adj.indices, adj.data, src, float(rate), float(cross), inflow,
                best_gap, indptr=adj.indptr)  # fmt: skip


@kernel
def _member(a, b, out):  # pragma: no cover - compiled
    q = 0
    for p in range(a.size):
        x = a[p]
        while q < b.size and b[q] < x:
            q += 1
        out[p] = q < b.size and b[q] == x


def sorted_member(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For a sorted array ``a``, whether each element is in the sorted unique array ``b`` (one merge pass)."""
    out = np.empty(a.size, dtype=np.bool_)
    _member(a, b, out)
    return out


_LANES = 16  # binary searches run side by side in sorted_contains


@kernel
def _contains_range(keys, queries, out, first, last):  # pragma: no cover - compiled
    m = keys.size
    lo = np.empty(_LANES, np.int64)
    hi = np.empty(_LANES, np.int64)
    for start in range(first, last, _LANES):
        lanes = min(_LANES, last - start)
        for t in range(lanes):
            lo[t] = 0
            hi[t] = m
        busy = True
        while busy:  # one halving step of every search per round, the next probes prefetched
            busy = False
            for t in range(lanes):
                if lo[t] < hi[t]:
                    mid = (lo[t] + hi[t]) >> 1
                    if keys[mid] < queries[start + t]:
                        lo[t] = mid + 1
                    else:
                        hi[t] = mid
                    if lo[t] < hi[t]:
                        prefetch(keys, (lo[t] + hi[t]) >> 1)
                        busy = True
        for t in range(lanes):
            out[start + t] = lo[t] < m and keys[lo[t]] == queries[start + t]


@kernel
def key_index(keys, bits):  # pragma: no cover - compiled
    """For sorted keys ``(lo << bits) + hi`` (a layer's ties, lo < hi), where each ``lo``'s keys begin: ``ptr``
    with the keys of ``lo`` at ``keys[ptr[lo]:ptr[lo + 1]]`` (size: the largest ``lo`` plus two)."""
    top = (keys[keys.size - 1] >> bits) + 2 if keys.size else 1
    ptr = np.zeros(top, np.int64)
    for k in range(keys.size):
        ptr[(keys[k] >> bits) + 1] += 1
    for v in range(1, top):
        ptr[v] += ptr[v - 1]
    return ptr


@kernel
def _contains_indexed(keys, ptr, bits, queries, out, first, last):  # pragma: no cover - compiled
    top = ptr.size - 1
    for t in range(first, last):
        if t + AHEAD < last:  # the start of a query a few ahead: its keys' place, then the keys themselves
            v = queries[t + AHEAD] >> bits
            if 0 <= v < top:
                prefetch(ptr, v)
        x = queries[t]
        v = x >> bits
        found = False
        if 0 <= v < top:
            a = ptr[v]
            b = ptr[v + 1]
            while a < b:  # a node's few keys: the first not below x
                mid = (a + b) >> 1
                if keys[mid] < x:
                    a = mid + 1
                else:
                    b = mid
            found = a < ptr[v + 1] and keys[a] == x
        out[t] = found


def sorted_contains(keys: np.ndarray, queries: np.ndarray, index: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """Whether each query (in any order) is in the sorted array ``keys``: ``np.isin(queries, keys)``. Binary
    searches, sixteen at a time in lock step so that their loads from a large ``keys`` overlap (NumPy's
    ``searchsorted`` waits for each probe of each query in turn: about three times slower at a million ties).
    With ``index``, ``(key_index(keys, bits), bits)`` of tie keys, each search looks only among the keys of the
    query's lower node: two loads from memory instead of some ten (a fourth of the time at a million firms).
    From :data:`PARALLEL_ITEMS` probes on (queries x the log2 of the number of keys: each query is a search, not
    a row), blocks of queries are spread over the cores (each answer is the same)."""
    queries = np.ascontiguousarray(queries)
    out = np.empty(queries.shape, dtype=np.bool_)
    if index is not None:
        ptr, bits = index
        _row_kernel(_contains_indexed, queries.size, keys, ptr, np.int64(bits), queries.ravel(), out.ravel(),
                    items=True)
        return out
    _row_kernel(_contains_range, queries.size, keys, queries.ravel(), out.ravel(),
                work=queries.size * int(keys.size).bit_length())
    return out


def sorted_common(a: np.ndarray, b: np.ndarray) -> int:
    """Number of elements of the sorted unique array ``a`` that are also in the sorted unique array ``b``."""
    return int(sorted_member(a, b).sum())


@kernel
def _new_edges(i, j, w, base, keys, ws):  # pragma: no cover - compiled
    one = w.size == 1
    k = 0
    for t in range(i.size):
        a, b = i[t], j[t]
        if a == b:  # no self-ties
            continue
        keys[k] = _edge_key(a, b, base)
        ws[k] = w[0] if one else w[t]
        k += 1
    return k


@kernel
def _merge_max_ordered(ak, aw, bk, bw, order, ok, ow):  # pragma: no cover - compiled
    p = q = k = 0
    m = order.size
    while p < ak.size or q < m:
        if q >= m or (p < ak.size and ak[p] < bk[order[q]]):
            ok[k] = ak[p]
            ow[k] = aw[p]
            p += 1
        else:
            key = bk[order[q]]
            w = bw[order[q]]
            q += 1
            while q < m and bk[order[q]] == key:
                w = max(w, bw[order[q]])
                q += 1
            if p < ak.size and ak[p] == key:
                w = max(aw[p], w)
                p += 1
            ok[k] = key
            ow[k] = w
        k += 1
    return k


@kernel
def _key_ends(keys, bits):  # pragma: no cover - compiled
    """Both ends of each tie key ``i << bits | j`` as arrays of their own (a kernel that has changed a layer's
    keys reads its ends so; ``Layer.i`` and ``Layer.j`` are views of the keys' halves)."""
    return keys >> bits, keys & ((np.int64(1) << bits) - 1)


@kernel
def _add_max(keys, w, i, j, new_w, base):  # pragma: no cover - compiled
    """The new pairs' keys and strengths (:func:`_new_edges`), their stable order and the merge
    (:func:`_merge_max_ordered`): ``add_max`` in one call. Empty arrays and False where no pair is new."""
    bk = np.empty(i.size, dtype=np.int64)
    bw = np.empty(i.size, dtype=np.float64)
    m = _new_edges(i, j, new_w, base, bk, bw)
    if m == 0:
        return bk[:0], bw[:0], False
    bk, bw = bk[:m], bw[:m]
    order = np.argsort(bk, kind="mergesort")  # stable: NumPy's order for np.argsort(kind="stable")
    out_k = np.empty(keys.size + m, dtype=np.int64)
    out_w = np.empty(keys.size + m, dtype=np.float64)
    k = _merge_max_ordered(keys, w, bk, bw, order, out_k, out_w)
    return out_k[:k], out_w[:k], True


def add_max(keys: np.ndarray, w: np.ndarray, i: np.ndarray, j: np.ndarray, new_w: np.ndarray,
            base: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """``Layer.add`` with ``max``: the union of the sorted unique tie ``keys`` (strengths ``w``) and the pairs
    ``(i, j)`` with ``i != j`` (keys ``min * base + max``, strengths ``new_w``: one for all or one per pair),
    a key present more than once keeping its largest strength; None where no pair has ``i != j``. What
    ``Layer.add`` computed with a mask, ``np.minimum``, ``np.maximum``, ``np.full``, a stable ``np.argsort``
    and a merge, in one compiled call (the keys and strengths in one pass, their order, one merge pass reading
    the new keys through that order)."""
    out_k, out_w, added = _add_max(keys, w, i, j, new_w, np.int64(base))
    return (out_k, out_w) if added else None


@kernel
def same_words(a, b):  # pragma: no cover - compiled
    """Whether two 1-d arrays of equal size hold the same words, stopping at the first that differs (where
    ``np.array_equal`` compares every word and makes a temporary)."""
    for k in range(a.size):
        if a[k] != b[k]:
            return False
    return True


@kernel
def _kept(keys, w, keep, kept):  # pragma: no cover - compiled
    """The tie keys and strengths where ``keep`` (``kept`` of them), in their order; empty arrays where that is
    every tie (nothing to copy)."""
    if kept == keys.size:
        return np.empty(0, dtype=keys.dtype), np.empty(0, dtype=w.dtype)
    out_keys = np.empty(kept, dtype=keys.dtype)
    out_w = np.empty(kept, dtype=w.dtype)
    x = 0
    for t in range(keys.size):
        if keep[t]:
            out_keys[x] = keys[t]
            out_w[x] = w[t]
            x += 1
    return out_keys, out_w


@kernel
def _without_nodes(keys, w, gone, bits):  # pragma: no cover - compiled
    """The tie keys (``lo << bits | hi``) and strengths with neither end ``gone``, and how many were dropped."""
    low = (np.int64(1) << bits) - 1
    keep = np.empty(keys.size, dtype=np.bool_)
    kept = 0
    for t in range(keys.size):
        k = keys[t]
        keep[t] = not (gone[k >> bits] or gone[k & low])
        kept += keep[t]
    out_keys, out_w = _kept(keys, w, keep, kept)
    return out_keys, out_w, keys.size - kept


def without_nodes(keys: np.ndarray, w: np.ndarray, gone: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The ties (sorted keys ``lo << bits | hi`` and their strengths) with neither end ``gone``, in their order, as
    ``keys[mask], w[mask]`` with ``mask = ~(gone[i] | gone[j])`` give them; None where no tie touches a ``gone``
    node. One pass to find them, one to copy."""
    out_keys, out_w, dropped = _without_nodes(keys, w, gone, bits)
    return (out_keys, out_w) if dropped else None


@kernel
def _at_least(keys, w, floor):  # pragma: no cover - compiled
    """The tie keys and strengths with a strength of at least ``floor`` (NaN: dropped), and how many were dropped."""
    keep = np.empty(w.size, dtype=np.bool_)
    kept = 0
    for t in range(w.size):
        keep[t] = w[t] >= floor
        kept += keep[t]
    out_keys, out_w = _kept(keys, w, keep, kept)
    return out_keys, out_w, w.size - kept


def at_least(keys: np.ndarray, w: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The ties (keys and strengths) with ``w >= floor``, in their order, as ``keys[mask], w[mask]`` give them,
    and how many were dropped; None where none is (one pass to find them, one to copy)."""
    out_keys, out_w, dropped = _at_least(keys, w, float(floor))
    return (out_keys, out_w, int(dropped)) if dropped else None


@kernel
def _neighbour_above(indptr, indices, values, out):  # pragma: no cover - compiled
    for r in range(indptr.size - 1):
        own = values[r]
        for p in range(indptr[r], indptr[r + 1]):
            if values[indices[p]] > own:
                out[r] = True
                break


def neighbour_above(adj, values: np.ndarray) -> np.ndarray:
    """Per row of ``adj``, whether some neighbour's value exceeds the row's own (False without neighbours)."""
    out = np.zeros(adj.shape[0], dtype=np.bool_)
    _neighbour_above(adj.indptr, adj.indices, values, out)
    return out


# --- the recorder's indicators, fused (numbers equal to the NumPy definitions within 1e-12, not bit for bit) ------

FIRM_INDICATORS = ("cap_mean", "cap_median", "cap_max", "cap_total", "gap_cv", "gap_gini", "gap_top10", "gen_max",
                   "gen_mean", "gen_top_share", "gen_adopted", "rd_mean", "knowledge_diversity", "knowledge_breadth")  # fmt: skip


@kernel
def _firm_indicators(cap, gen, rd, know, firms, x, k_top, out):  # pragma: no cover - compiled
    n = firms.size
    for c in range(out.size):
        out[c] = 0.0
    out[6] = 1.0  # top-decile ratio of fewer than two firms
    if n == 0:
        return
    total = 0.0
    top = cap[firms[0]]
    gmax = gen[firms[0]]
    gsum = 0.0
    adopted = 0
    rsum = 0.0
    for r in range(n):
        f = firms[r]
        v = cap[f]
        total += v
        if v > top:
            top = v
        g = gen[f]
        gsum += g
        if g > gmax:
            gmax = g
        if g >= 1:
            adopted += 1
        rsum += rd[f]
    mean = total / n
    ss = 0.0
    on_top = 0
    for r in range(n):
        d = cap[firms[r]] - mean
        ss += d * d
        if gen[firms[r]] == gmax:
            on_top += 1
    # x: the capabilities in ascending order (sorted by NumPy, about twice as fast as a compiled sort)
    out[0] = mean
    out[1] = x[n // 2] if n % 2 == 1 else 0.5 * (x[n // 2 - 1] + x[n // 2])
    out[2] = top
    out[3] = total
    out[4] = np.sqrt(ss / n) / mean if mean != 0 else 0.0
    if total > 0:
        ranked = 0.0
        for r in range(n):
            ranked += (r + 1) * x[r]
        out[5] = 2.0 * ranked / (n * total) - (n + 1) / n
    if n >= 2:
        rest = 0.0
        for r in range(n - k_top):
            rest += x[r]
        upper = 0.0
        for r in range(n - k_top, n):
            upper += x[r]
        rest_mean = rest / (n - k_top)
        out[6] = (upper / k_top) / rest_mean if rest_mean > 0 else 0.0
    out[7] = gmax
    out[8] = gsum / n
    out[9] = on_top / n
    out[10] = adopted / n
    out[11] = rsum / n
    dom = know.shape[1]
    p = np.zeros(dom)
    for r in range(n):
        f = firms[r]
        for d in range(dom):
            p[d] += know[f, d]
    for d in range(dom):
        p[d] /= n
    dist = 0.0
    for r in range(n):
        f = firms[r]
        for d in range(dom):
            dist += abs(know[f, d] - p[d])
    out[12] = 0.5 * dist / n
    h = 0.0
    for d in range(dom):
        if p[d] > 0:
            h -= p[d] * np.log(p[d])
    out[13] = np.exp(h) / dom


@kernel
def _radix_sort(x, spare):  # pragma: no cover - compiled
    """Sort ``x`` in place by its bits as unsigned integers, eight bits at a time from the lowest (a stable
    counting sort per byte; a byte that all keys share is skipped), ``spare`` a buffer of the same size.
    Returns False, with ``x`` untouched, where a value has its sign bit set or is NaN: then the bits' order is
    not the values' order."""
    keys = x.view(np.uint64)
    other = spare.view(np.uint64)
    n = keys.size
    counts = np.zeros((8, 256), np.int64)
    for t in range(n):
        k = keys[t]
        if k > np.uint64(0x7FF0000000000000):  # the sign bit, or a NaN's bits (+inf is 0x7FF0...0)
            return False
        for b in range(8):
            counts[b, (k >> np.uint64(8 * b)) & np.uint64(255)] += 1
    src, dst = keys, other
    for b in range(8):
        row = counts[b]
        if row[(src[0] >> np.uint64(8 * b)) & np.uint64(255)] == n:
            continue  # every key has this byte: the order stays
        start = np.empty(256, np.int64)
        acc = 0
        for v in range(256):
            start[v] = acc
            acc += row[v]
        for t in range(n):
            k = src[t]
            v = (k >> np.uint64(8 * b)) & np.uint64(255)
            dst[start[v]] = k
            start[v] += 1
        src, dst = dst, src
    if src is not keys:
        keys[:] = src
    return True


RADIX_FROM = 2_048  # values: from here on sort_values counts bytes instead of comparing (NumPy's sort below)


def sort_values(x: np.ndarray) -> None:
    """Sort a float64 array in place, as ``x.sort()`` does. From :data:`RADIX_FROM` values on, where none is
    negative (nor -0.0) or NaN (capabilities never are), by the bits' order, which is then the values' order:
    the same sorted array, four to five times faster on the benchmarks' machine (NumPy's sort of a million
    doubles there takes 51 ms); otherwise NumPy's sort."""
    if x.size < RADIX_FROM or not _radix_sort(x, np.empty_like(x)):
        x.sort()


def firm_indicators(cap: np.ndarray, gen: np.ndarray, rd: np.ndarray, know: np.ndarray, firms: np.ndarray) -> dict[str, float]:
    """The recorder's firm-level indicators (:data:`FIRM_INDICATORS`) over the slots ``firms``, in one pass and
    one sort; their NumPy definitions are in :mod:`clusterup.indicators` (``gini``, ``cv``, ...)."""
    out = np.empty(len(FIRM_INDICATORS))
    x = cap[firms]
    sort_values(x)
    _firm_indicators(cap, gen, rd, know, firms, x, _top_count(firms.size), out)
    return _firm_values(out)


def _top_count(firms: int) -> int:
    """The firms in the top decile: Python's rounding, as ``indicators.top_decile_ratio``."""
    return max(1, int(round(0.1 * firms)))


def _firm_values(out: np.ndarray) -> dict[str, float]:
    """:func:`_firm_indicators`' numbers by name (the highest generation an integer)."""
    vals = dict(zip(FIRM_INDICATORS, out.tolist(), strict=True))
    vals["gen_max"] = int(vals["gen_max"])
    return vals


@kernel
def _layer_pass(i, j, w, ids, prev, deg, keys):  # pragma: no cover - compiled
    """Strength, degrees (into ``deg``), tie keys by stable id (into ``keys``, sorted), the count of keys also
    in ``prev`` and the connected triples sum(deg (deg - 1))."""
    strength = 0.0
    ordered = True
    m = i.size
    for t in range(m):
        if t + AHEAD < m:
            prefetch(ids, j[t + AHEAD])
            prefetch(deg, j[t + AHEAD])
        strength += w[t]
        a = ids[i[t]]
        b = ids[j[t]]
        deg[i[t]] += 1
        deg[j[t]] += 1
        keys[t] = (min(a, b) << 32) + max(a, b)
        if t > 0 and keys[t] < keys[t - 1]:
            ordered = False
    if not ordered:
        keys.sort()
    common = 0
    q = 0
    for t in range(keys.size):
        x = keys[t]
        while q < prev.size and prev[q] < x:
            q += 1
        if q < prev.size and prev[q] == x:
            common += 1
    triples = 0.0
    for r in range(deg.size):
        triples += deg[r] * (deg[r] - 1.0)
    return strength, common, triples


def layer_pass(i: np.ndarray, j: np.ndarray, w: np.ndarray, ids: np.ndarray, n: int,
               prev: np.ndarray | None) -> tuple[float, np.ndarray, np.ndarray, int, float]:  # fmt: skip
    """One pass over a layer for the recorder: (strength, degree per slot, sorted id keys, keys in common with
    ``prev`` (the keys themselves where ``prev`` is None), connected triples): :func:`layer_measures` without
    the triangles and the giant share."""
    return layer_measures(i, j, w, ids, n, prev, np.empty(0, np.int64), False, False)[:5]


@kernel
def _multiplex_pass(d0, d1, d2, k0, k1, k2):  # pragma: no cover - compiled
    """Mean participation over slots with ties, distinct tied pairs over the three layers, and the knowledge
    keys (``k2``) also tied socially (``k0``) or economically (``k1``)."""
    part = 0.0
    nodes = 0
    for r in range(d0.size):
        o = d0[r] + d1[r] + d2[r]
        if o > 0:
            s0 = d0[r] / o
            s1 = d1[r] / o
            s2 = d2[r] / o
            part += 1.5 * (1.0 - (s0 * s0 + s1 * s1 + s2 * s2))
            nodes += 1
    pairs = 0
    embedded = 0
    p = q = t = 0
    while p < k0.size or q < k1.size or t < k2.size:
        x = np.iinfo(np.int64).max
        if p < k0.size:
            x = min(x, k0[p])
        if q < k1.size:
            x = min(x, k1[q])
        if t < k2.size:
            x = min(x, k2[t])
        in0 = p < k0.size and k0[p] == x
        in1 = q < k1.size and k1[q] == x
        in2 = t < k2.size and k2[t] == x
        pairs += 1
        if in2 and (in0 or in1):
            embedded += 1
        if in0:
            p += 1
        if in1:
            q += 1
        if in2:
            t += 1
    return part / nodes if nodes else 0.0, pairs, embedded


def multiplex_pass(d0: np.ndarray, d1: np.ndarray, d2: np.ndarray, k0: np.ndarray, k1: np.ndarray,
                   k2: np.ndarray) -> tuple[float, int, int]:  # fmt: skip
    """For the three layers' degrees and sorted tie keys: (mean multiplex participation over slots with ties,
    distinct tied pairs, knowledge ties (``k2``) that coincide with a social or economic tie)."""
    part, pairs, embedded = _multiplex_pass(d0, d1, d2, k0, k1, k2)
    return float(part), int(pairs), int(embedded)


@kernel
def _layer_measures(i, j, w, ids, prev, nodes, n, triangles_too, giant_too):  # pragma: no cover - compiled
    """:func:`_layer_pass`, then where asked the triangle count (:func:`_triangles`) and the giant component's
    share of ``nodes`` (:func:`_components`, the largest count of a root): the same numbers in one call."""
    deg = np.zeros(n, dtype=np.int64)
    keys = np.empty(i.size, dtype=np.int64)
    strength, common, triples = _layer_pass(i, j, w, ids, prev, deg, keys)
    tri = 0
    if triangles_too and i.size >= 3:
        m = i.size
        tri = _triangles(i, j, n, np.zeros(n, np.int64), np.zeros(n + 1, np.int64), np.empty(m, np.int64),
                         np.empty(m, np.int64), np.full(n, -1, np.int64))  # fmt: skip
    giant = 0.0
    if giant_too and nodes.size:
        root = _components(i, j, n)
        count = np.zeros(n, np.int64)
        top = 0
        for v in nodes:
            r = root[v]
            count[r] += 1
            if count[r] > top:
                top = count[r]
        giant = top / nodes.size
    return strength, common, triples, tri, giant, deg, keys


def layer_measures(i: np.ndarray, j: np.ndarray, w: np.ndarray, ids: np.ndarray, n: int, prev: np.ndarray | None,
                   nodes: np.ndarray, triangles_too: bool, giant_too: bool) -> tuple:  # fmt: skip
    """One pass over a layer for the recorder and, where asked, :func:`triangles` and
    ``indicators.giant_share(i, j, n, nodes, isolated_others=True)`` of the same layer, in one compiled call (the
    same numbers): (strength, degree per slot, sorted id keys, keys in common with ``prev`` (the keys themselves
    where ``prev`` is None), connected triples, triangles, giant share)."""
    found = _layer_measures(i, j, w, ids, np.empty(0, np.int64) if prev is None else prev, nodes, n, triangles_too,
                            giant_too)  # fmt: skip
    return _measured(found, prev)


def _measured(found: tuple, prev: np.ndarray | None) -> tuple:
    """:func:`_layer_measures`' result in :func:`layer_measures`' order and types (every key in common where there
    were no keys before)."""
    strength, common, triples, tri, giant, deg, keys = found
    return strength, deg, keys, int(keys.size if prev is None else common), triples, int(tri), float(giant)


@kernel
def _step_measures(i0, j0, w0, i1, j1, w1, i2, j2, w2, ids, p0, p1, p2, nodes, n, tri, giant, cap, gen, rd, know,
                   firms, k_top, out):  # pragma: no cover - compiled  # fmt: skip
    m0 = _layer_measures(i0, j0, w0, ids, p0, nodes, n, tri[0], giant[0])
    m1 = _layer_measures(i1, j1, w1, ids, p1, nodes, n, tri[1], giant[1])
    m2 = _layer_measures(i2, j2, w2, ids, p2, nodes, n, tri[2], giant[2])
    x = np.empty(firms.size)
    for r in range(firms.size):
        x[r] = cap[firms[r]]
    x.sort()  # the same sorted values as NumPy's sort or sort_values (capabilities are positive, never NaN)
    _firm_indicators(cap, gen, rd, know, firms, x, k_top, out)
    return m0, m1, m2, _multiplex_pass(m0[5], m1[5], m2[5], m0[6], m1[6], m2[6])


def step_measures(layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]], ids: np.ndarray, n: int,
                  prev: list[np.ndarray | None], nodes: np.ndarray, triangles_too: list[bool], giant_too: list[bool],
                  cap: np.ndarray, gen: np.ndarray, rd: np.ndarray, know: np.ndarray,
                  firms: np.ndarray) -> tuple[list[tuple], tuple[float, int, int], dict[str, float]]:  # fmt: skip
    """A step's measures in one compiled call, with the GIL released throughout: the three layers'
    :func:`layer_measures` (``layers``: each one's ``(i, j, w)``; ``prev``, ``triangles_too`` and ``giant_too``
    per layer), the :func:`multiplex_pass` over them and :func:`firm_indicators`. The same numbers as those
    calls; what the recorder's thread runs (one hand-over of the GIL instead of one per call)."""
    (i0, j0, w0), (i1, j1, w1), (i2, j2, w2) = layers
    empty = np.empty(0, np.int64)
    p0, p1, p2 = (empty if p is None else p for p in prev)
    out = np.empty(len(FIRM_INDICATORS))
    *measured, (part, pairs, embedded) = _step_measures(
        i0, j0, w0, i1, j1, w1, i2, j2, w2, ids, p0, p1, p2, nodes, n, np.array(triangles_too, dtype=np.bool_),
        np.array(giant_too, dtype=np.bool_), cap, gen, rd, know, firms, _top_count(firms.size), out)  # fmt: skip
    layers_out = [_measured(found, p) for found, p in zip(measured, prev, strict=True)]
    return layers_out, (float(part), int(pairs), int(embedded)), _firm_values(out)


# --- sums in NumPy's order, and the knowledge-tie partner choice --------------------------------------------


@kernel
def _pairwise_block(a, lo, n):  # pragma: no cover - compiled
    """NumPy's sum of a run of at most 128 elements: up to seven one by one, else eight interleaved partial
    sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the remainder one by one."""
    if n < 8:
        res = 0.0
        for k in range(n):
            res += a[lo + k]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    k = 8
    while k < n - (n % 8):
        r0 += a[lo + k]
        r1 += a[lo + k + 1]
        r2 += a[lo + k + 2]
        r3 += a[lo + k + 3]
        r4 += a[lo + k + 4]
        r5 += a[lo + k + 5]
        r6 += a[lo + k + 6]
        r7 += a[lo + k + 7]
        k += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < n:
        res += a[lo + k]
        k += 1
    return res


@kernel
def pairwise_sum(a, lo, n):  # pragma: no cover - compiled
    """``a[lo:lo + n].sum()`` exactly as NumPy sums a contiguous float64 run (its pairwise summation: runs of
    up to 128 elements in ``_pairwise_block``, longer runs split in two at half the length rounded down to a
    multiple of eight), so that a compiled loop reproduces NumPy's row sums bit for bit (tests/test_compiled.py
    checks it). The halves are walked with an explicit stack, not by recursion: Numba's disk cache cannot
    reload a self-recursive function (a cached reload crashed the interpreter)."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    # stack of (start, length, combine?) and a stack of partial sums; the left half is summed first
    s_lo = np.empty(192, np.int64)
    s_n = np.empty(192, np.int64)
    vals = np.empty(96)
    top = 0
    nv = 0
    s_lo[0] = lo
    s_n[0] = n
    top = 1
    while top > 0:
        top -= 1
        start = s_lo[top]
        m = s_n[top]
        if m < 0:  # both halves are summed: combine them
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        elif m <= 128:
            vals[nv] = _pairwise_block(a, start, m)
            nv += 1
        else:
            half = m // 2
            half -= half % 8
            s_lo[top], s_n[top] = 0, -1
            s_lo[top + 1], s_n[top + 1] = start + half, m - half
            s_lo[top + 2], s_n[top + 2] = start, half
            top += 3
    return vals[0]


@kernel
def _tv(a, ra, b, rb, diff):  # pragma: no cover - compiled
    """Total-variation distance of row ``ra`` of ``a`` and row ``rb`` of ``b``, as ``kernels.tv_distance``
    computes it (``0.5 *`` the absolute differences summed in NumPy's pairwise order); ``diff`` is scratch."""
    dims = a.shape[1]
    for d in range(dims):
        diff[d] = abs(a[ra, d] - b[rb, d])
    return 0.5 * (_pairwise_block(diff, 0, dims) if dims <= 128 else pairwise_sum(diff, 0, dims))


@kernel
def _clip_unit(v):  # pragma: no cover - compiled
    """``np.clip(v, 0.0, 1.0)`` of one value: NaN and -0.0 pass unchanged."""
    if v < 0.0:
        return 0.0
    if v > 1.0:
        return 1.0
    return v


@kernel
def _choose_rows(indptr, indices, who, u, c, extra, q, mastery, kind, partners, src, dst, lo, hi):  # pragma: no cover
    m = c + extra.shape[1]
    slots = min(partners, m)
    dims = q.shape[1]
    cc = np.empty(m, np.int64)
    score = np.empty(m)
    diff = np.empty(dims)
    taken = np.empty(m, np.bool_)
    drawn = np.empty(m, np.int64)
    for r in range(lo, hi):
        count = r * slots  # row r's ties go to its own slots, in rank order (the rest stay -1)
        f = who[r]
        for k in range(m):  # the candidates first, their profiles asked for from memory side by side
            if k < c:  # a uniformly drawn social or economic neighbour
                start = indptr[f]
                deg = indptr[f + 1] - start
                cand = -1
                if deg > 0:
                    cand = indices[start + _uniform_index(u[r * c + k], deg)]
            else:  # an organisation with room
                cand = extra[r, k - c]
            drawn[k] = cand
            prefetch(q, max(cand, 0))
        for k in range(m):
            cand = drawn[k]
            x = max(cand, 0)
            cc[k] = x
            dist = _tv(q, f, q, x, diff)  # total-variation distance
            fit = 4.0 * dist * (1.0 - dist)  # cognitive fit
            if kind[x] == 0:
                mx = mastery[x]
                mx = _clip_unit(mx)
                quality = 0.5 + mx
            else:
                quality = 1.5
            score[k] = fit * quality if cand >= 0 and cand != f else 0.0
            for k2 in range(k):  # one partner once per row: a repeated candidate scores 0
                if cc[k2] == x:
                    score[k] = 0.0
                    break
        taken[:] = False
        for _ in range(slots):  # the best scores, the earlier candidate first among equals
            best = -1
            for k in range(m):
                if not taken[k] and (best < 0 or score[k] > score[best]):
                    best = k
            taken[best] = True
            if score[best] > 0:
                src[count] = f
                dst[count] = cc[best]
                count += 1


def choose_partners(adj, who: np.ndarray, u: np.ndarray, c: int, extra: np.ndarray, q: np.ndarray,
                    mastery: np.ndarray, kind: np.ndarray, partners: int) -> tuple[np.ndarray, np.ndarray]:
    """Knowledge partners of the firms ``who``: each considers ``c`` uniformly drawn social or economic
    neighbours (``u``, ``c`` draws per firm, row by row) and the organisations in ``extra``'s row, scores each
    by cognitive fit (total-variation distance ``d`` of knowledge profiles, ``4 d (1 - d)``) times quality
    (``0.5 + mastery`` clipped to [0, 1] for a firm, 1.5 for an organisation), a repeat, itself or no
    neighbour scoring 0, and ties to its ``partners`` best with a positive score. Returns the ties' ends in
    the order of ``who`` and rank. The NumPy version is the oracle in tests/test_compiled.py. From
    :data:`PARALLEL_ITEMS` scores on (firms x candidates x knowledge domains: a firm's choice costs as much as
    dozens of rows of the other kernels), blocks of firms are spread over the cores (each firm's choice is the
    same)."""
    size = who.size * min(partners, c + extra.shape[1])
    src = np.full(size, -1, np.int64)
    dst = np.full(size, -1, np.int64)
    _row_kernel(_choose_rows, who.size, adj.indptr, adj.indices, who, u, c, extra, q, mastery, kind,
                partners, src, dst, work=who.size * (c + extra.shape[1]) * q.shape[1])
    tied = src >= 0
    return src[tied], dst[tied]


def parallel_choice(firms: int, candidates: int, dims: int) -> bool:
    """Whether :func:`choose_partners` may take its parallel form for ``firms`` choosing among ``candidates``
    and two organisations over ``dims`` knowledge domains (:func:`knowledge_form` is its serial form)."""
    return _parallel(firms * (candidates + 2) * dims, True)


@kernel
def _knowledge_form(keys, w, who, rng, partners, c, ap, ai, bp, bi, orgs, kind, active, of_kind, capacity, q,
                    mastery, initial, n, bits):  # pragma: no cover - compiled
    indptr = np.zeros(n + 1, np.int64)
    indices = _union_row_lists(ap, ai, bp, bi, who, indptr)  # who's social or economic neighbours
    u = rng.random(who.size * c)
    open_orgs = np.empty(0, np.int64)
    if orgs:  # the knowledge organisations below their capacity, with the layer's degree as it is now
        ends_i, ends_j = _key_ends(keys, bits)
        open_orgs = open_organisations(kind, active, of_kind, _end_counts(ends_i, ends_j, n), capacity)
    if open_orgs.size:
        extra = open_orgs[rng.integers(0, open_orgs.size, who.size * 2)].reshape((who.size, 2))
    else:
        extra = np.empty((who.size, 0), np.int64)
    size = who.size * min(partners, c + extra.shape[1])
    src = np.full(size, -1, np.int64)
    dst = np.full(size, -1, np.int64)
    _choose_rows(indptr, indices, who, u, c, extra, q, mastery, kind, partners, src, dst, 0, who.size)
    tied = src >= 0
    return _add_max(keys, w, src[tied], dst[tied], np.full(1, initial), np.int64(1) << bits)


def knowledge_form(keys: np.ndarray, w: np.ndarray, who: np.ndarray, rng: np.random.Generator, partners: int, c: int,
                   a: CSR | Neighbours, b: CSR | Neighbours, orgs: bool, kind: np.ndarray, active: np.ndarray,
                   of_kind: np.ndarray, capacity: np.ndarray, q: np.ndarray, mastery: np.ndarray, initial: float,
                   n: int, bits: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """The knowledge ties the firms ``who`` form in one compiled call, with the draws (``rng``, in NumPy's order
    and numbers): the union of their neighbours in ``a`` and ``b`` (:func:`union_neighbours`), ``c`` draws
    per firm, where ``orgs`` (the population has organisations) the knowledge organisations below their
    ``capacity`` with the layer's degree as it is (:func:`open_organisations` over the first ``n`` slots'
    ``kind`` and ``active``) and two of them drawn per firm, the partners (:func:`choose_partners`, serial)
    and their ties of strength ``initial`` added as :func:`add_max` adds them (keys ``i << bits | j``).
    Returns the layer's new keys and strengths, or None where no tie was added: what those calls one by one
    gave (tests/test_process_kernels.py holds the NumPy form to it)."""
    out_k, out_w, added = _knowledge_form(keys, w, np.ascontiguousarray(who, dtype=np.int64), rng, int(partners),
                                          int(c), a.indptr, a.indices, b.indptr, b.indices, bool(orgs), kind, active,
                                          of_kind, capacity, np.ascontiguousarray(q, dtype=np.float64), mastery,
                                          float(initial), int(n), np.int64(bits))  # fmt: skip
    return (out_k, out_w) if added else None


@kernel
def _knowledge_step(keys, w, local_s, integ_s, n, local_boost, integrated_boost, decay, floor, firms, mode, rng,
                    local_rate, local_code, integrated_code, social_keys, economic_keys, cap, ceil, is_firm, partners,
                    c, orgs, kind, active, of_kind, capacity, q, initial, limit, bits):  # pragma: no cover  # fmt: skip
    changed = False
    if keys.size:  # the ties used in a success reinforced, the others decaying; then the floor
        i, j = _key_ends(keys, bits)
        w = knowledge_use(i, j, w, n, local_s, local_boost, integ_s, integrated_boost, decay)
        changed = True
        kept, kept_w, dropped = _at_least(keys, w, floor)
        if dropped:
            keys, w = kept, kept_w
    integ, local = knowledge_seekers(firms, mode, rng.random(firms.size), local_rate, local_code, integrated_code)
    dims = q.shape[1]
    if max(integ.size * (c + 2) * dims, local.size * (c + 2) * dims) >= limit:  # a choice would be parallel
        return keys, w, changed, integ, local, False
    if integ.size or local.size:  # the seekers' social and economic neighbours (their rows only)
        rows = np.concatenate((integ, local))
        si, sj = _key_ends(social_keys, bits)
        sp = np.zeros(n + 1, np.int64)
        sx = _sym_rows(si, sj, n, rows, sp)
        ei, ej = _key_ends(economic_keys, bits)
        ep = np.zeros(n + 1, np.int64)
        ex = _sym_rows(ei, ej, n, rows, ep)
        mastery = np.empty(cap.size)
        _over_ceiling(cap, ceil, is_firm, False, mastery)
        has_orgs = orgs.size > 0
        if integ.size and partners:
            new_k, new_w, added = _knowledge_form(keys, w, integ, rng, partners, c, sp, sx, ep, ex, has_orgs, kind,
                                                  active, of_kind, capacity, q, mastery, initial, n, bits)  # fmt: skip
            if added:
                keys, w, changed = new_k, new_w, True
        if local.size:
            new_k, new_w, added = _knowledge_form(keys, w, local, rng, 1, c, sp, sx, ep, ex, has_orgs, kind, active,
                                                  of_kind, capacity, q, mastery, initial, n, bits)  # fmt: skip
            if added:
                keys, w, changed = new_k, new_w, True
    if orgs.size and keys.size:  # each organisation over its capacity drops its weakest ties
        i, j = _key_ends(keys, bits)
        deg = _end_counts(i, j, n)
        over = orgs[deg[orgs] > capacity[orgs]]
        if over.size:
            keep = over_capacity(i, j, w, over, capacity[over], n)
            if not keep.all():
                keys, w, changed = keys[keep], w[keep], True
    return keys, w, changed, integ, local, True


def knowledge_step(keys: np.ndarray, w: np.ndarray, local_s: np.ndarray, integ_s: np.ndarray, n: int, firms: np.ndarray,
                   mode: np.ndarray, rng: np.random.Generator, social_keys: np.ndarray, economic_keys: np.ndarray,
                   cap: np.ndarray, ceil: np.ndarray, is_firm: np.ndarray, orgs: np.ndarray, kind: np.ndarray,
                   active: np.ndarray, of_kind: np.ndarray, capacity: np.ndarray, q: np.ndarray, *, local_boost: float,
                   integrated_boost: float, decay: float, floor: float, local_rate: float, local_code: int,
                   integrated_code: int, partners: int, candidates: int, initial: float,
                   bits: int) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray, np.ndarray, bool]:  # fmt: skip
    """The knowledge layer's step in one compiled call, with its draws (``rng``, in NumPy's order and numbers):
    the ties used in the step's successes reinforced and the others decaying (:func:`knowledge_use`), those
    below ``floor`` dropped, the seekers (:func:`knowledge_seekers`), the ties they form
    (:func:`knowledge_form`, among their neighbours in the social and economic layers, sorted ``social_keys``
    and ``economic_keys``, with the mastery of ``cap`` over ``ceil``), and each organisation of ``orgs`` over its
    capacity dropping its weakest ties (:func:`over_capacity`). Where a seekers' choice would take its
    parallel form (:func:`parallel_choice`), it stops after the seekers. Returns the layer's keys and
    strengths, whether they changed, the seekers (integrated, local) and whether the step is done: what the
    calls one by one made, bit for bit (tests/test_process_kernels.py holds the NumPy form to it)."""
    limit = PARALLEL_ITEMS if _parallel(PARALLEL_ITEMS, items=True) else 2**62  # as parallel_choice decides
    return _knowledge_step(keys, w, local_s, integ_s, int(n), float(local_boost), float(integrated_boost),
                           float(decay), float(floor), firms, mode, rng, float(local_rate), int(local_code),
                           int(integrated_code), social_keys, economic_keys, cap, ceil, is_firm, int(partners),
                           int(candidates), orgs, kind, active, of_kind, capacity,
                           np.ascontiguousarray(q, dtype=np.float64), float(initial), np.int64(limit),
                           np.int64(bits))  # fmt: skip


@kernel
def _union_row_lists(ap, ai, bp, bi, rows, indptr):  # pragma: no cover - compiled
    for x in range(rows.size):  # each row's count of distinct neighbours in either layer
        r = rows[x]
        p, pe, q, qe = ap[r], ap[r + 1], bp[r], bp[r + 1]
        k = 0
        while p < pe and q < qe:
            ca, cb = ai[p], bi[q]
            p += ca <= cb
            q += cb <= ca
            k += 1
        indptr[r + 1] = k + (pe - p) + (qe - q)
    for r in range(indptr.size - 1):
        indptr[r + 1] += indptr[r]
    indices = np.empty(indptr[-1], dtype=ai.dtype)
    for x in range(rows.size):  # the union, ascending, as a merge of the two sorted rows lists it
        r = rows[x]
        p, pe, q, qe = ap[r], ap[r + 1], bp[r], bp[r + 1]
        k = indptr[r]
        while p < pe or q < qe:
            if q >= qe or (p < pe and ai[p] < bi[q]):
                indices[k] = ai[p]
                p += 1
            elif p >= pe or bi[q] < ai[p]:
                indices[k] = bi[q]
                q += 1
            else:
                indices[k] = ai[p]
                p += 1
                q += 1
            k += 1
    return indices


def union_neighbours(a: CSR | Neighbours, b: CSR | Neighbours, rows: np.ndarray) -> Neighbours:
    """The neighbours in either of two layers (the pattern of ``add_csr(a, b)``: each row's columns
    ascending) of the nodes ``rows`` only; every other row is empty. For a few rows it costs a small part of
    the whole sum."""
    n = a.indptr.size - 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = _union_row_lists(a.indptr, a.indices, b.indptr, b.indices, np.ascontiguousarray(rows, dtype=np.int64),
                               indptr)  # fmt: skip
    return Neighbours(indptr, indices)


@kernel
def _pick(w, cum, u):  # pragma: no cover - compiled
    """One draw from a row of weights ``w``: the cumulative sums (in ``cum``), each over the total, and the
    number of them that ``u`` exceeds."""
    cols = w.size
    c = w[0]
    cum[0] = c
    for k in range(1, cols):
        c = c + w[k]
        cum[k] = c
    total = cum[cols - 1]
    chosen = 0
    for k in range(cols):
        if u > cum[k] / total:
            chosen += 1
    return chosen


@kernel
def _cumulative_rows(w, u, out, lo, hi):  # pragma: no cover - compiled
    cum = np.empty(w.shape[1])
    for r in range(lo, hi):
        out[r] = _pick(w[r], cum, u[r])


@kernel
def _less_row_max_rows(utility, intensity, scale, out, lo, hi):  # pragma: no cover - compiled
    cols = utility.shape[1]
    for r in range(lo, hi):
        for k in range(cols):  # out: the (scaled) utilities, then less the row's maximum
            x = utility[r, k]
            out[r, k] = intensity * x if scale and x - x == 0.0 else x  # x - x == 0: x is finite
        top = out[r, 0]
        for k in range(1, cols):
            x = out[r, k]
            if x > top or x != x:  # NaN wins, as in NumPy's maximum
                top = x
            if top != top:
                break
        for k in range(cols):
            out[r, k] = out[r, k] - top


def logit_choice(utility: np.ndarray, u: np.ndarray, intensity: float | None = None) -> np.ndarray:
    """:func:`clusterup.kernels.softmax_choice` in two passes around NumPy's ``exp`` (a compiled ``exp`` differs in
    the last bit): each row less its maximum, then the cumulative sums, their normalisation and the draw. The
    same choices. With ``intensity``, the finite utilities are first multiplied by it (closed modes, ``-inf``,
    stay closed, even at intensity 0), as ``softmax_choice`` of the scaled utilities."""
    utility = np.ascontiguousarray(utility, dtype=np.float64)
    w = np.empty_like(utility)
    n = utility.shape[0]
    _row_kernel(_less_row_max_rows, n, utility, 1.0 if intensity is None else float(intensity),
                intensity is not None, w, items=True)
    np.exp(w, out=w)
    out = np.empty(w.shape[0], dtype=np.int64)
    _row_kernel(_cumulative_rows, n, w, np.ascontiguousarray(u, dtype=np.float64), out)
    return out


@kernel
def _pay_rows(firms, chosen, costs, wealth, profit, lo, hi):  # pragma: no cover - compiled
    for x in range(lo, hi):
        f = firms[x]
        c = costs[x, chosen[x]]
        wealth[f] -= c
        profit[f] -= c


def pay_chosen(firms: np.ndarray, chosen: np.ndarray, costs: np.ndarray, wealth: np.ndarray, profit: np.ndarray) -> None:
    """Each firm pays the cost of the mode it chose, in place: ``paid = costs[arange, chosen]``, ``wealth[firms] -=
    paid``, ``profit[firms] -= paid`` (the firms distinct) in one pass, on the cores from :data:`PARALLEL_ITEMS`
    firms on (a light pass)."""
    _row_kernel(_pay_rows, firms.size, firms, chosen, costs, wealth, profit, items=True)


@kernel
def _equal_choice(utility, u, none, out):  # pragma: no cover - compiled
    cols = utility.shape[1]
    w = np.empty(cols)
    for r in range(utility.shape[0]):
        total = 0.0  # the weights' sum, as _pick's cumulative sum ends (whole numbers: exact either way)
        for k in range(cols):
            x = utility[r, k]
            w[k] = 1.0 if k != none and x - x == 0.0 else 0.0  # x - x == 0: finite, an open mode
            total += w[k]
        if total == 0.0:
            w[none] = 1.0
            total = 1.0
        # _pick's count of the cumulative shares that u exceeds, added up without a branch (the draws make
        # the comparisons unpredictable)
        c = 0.0
        chosen = 0
        ur = u[r]
        for k in range(cols):
            c = c + w[k]
            chosen += np.int64(ur > c / total)
        out[r] = chosen


def equal_choice(utility: np.ndarray, u: np.ndarray, none: int) -> np.ndarray:
    """The mode choice when every firm tries one open mode (``choice.always_try``): per row, one of the open
    (finite) modes but ``none``, each equally likely, drawn with ``u``; ``none`` where nothing is open. The same
    choices as :func:`logit_choice` without intensity of the utilities 0 (open) and ``-inf`` (closed): its
    ``exp`` of 0 less the row's maximum 0 is exactly 1, of ``-inf`` exactly 0, so the cumulative weights and the
    draw are the same numbers, here without the exponentials and the table of utilities rewritten."""
    utility = np.ascontiguousarray(utility, dtype=np.float64)
    out = np.empty(utility.shape[0], dtype=np.int64)
    _equal_choice(utility, np.ascontiguousarray(u, dtype=np.float64), int(none), out)
    return out


@kernel
def _mode_column_rows(firms, value, gain, cost, scale, fees, wealth, typical, code, utility, costs, lo, hi):  # pragma: no cover
    one_cost = cost.size == 1
    has_fees = fees.size > 0
    for x in range(lo, hi):
        f = firms[x]
        c = (cost[0] if one_cost else cost[f]) * scale[x]
        net = value[x] * gain[f] - c
        if has_fees:
            net = net - fees[f]
        w = wealth[x]
        # c <= np.maximum(w, 0.0): NaN wealth (NaN from the maximum) opens nothing
        ok = (c <= w or c <= 0.0) if w == w else False
        utility[x, code] = net / typical if ok else -np.inf
        costs[x, code] = c


def mode_column(firms: np.ndarray, value: np.ndarray, gain: np.ndarray, cost: np.ndarray | float,
                scale: np.ndarray, fees: np.ndarray | None, wealth: np.ndarray, typical: float, code: int,
                utility: np.ndarray, costs: np.ndarray) -> None:
    """One innovation mode's column of the mode choice, in place: per firm ``x`` (slot ``f = firms[x]``), its cost
    ``cost[f] * scale[x]`` (one ``cost`` for all, or one per slot) and utility ``(value[x] * gain[f] - cost -
    fees[f]) / typical``, ``-inf`` where the cost exceeds ``max(wealth[x], 0)``. The operations and their
    order are those of the NumPy expressions in the mode choice, so the numbers are the same; one pass instead
    of about a dozen array operations per mode."""
    cost = np.asarray(cost, dtype=np.float64).reshape(-1)
    _row_kernel(_mode_column_rows, firms.size, firms, value, gain, cost, scale,
                np.empty(0) if fees is None else fees, wealth, float(typical), int(code), utility, costs, items=True)  # fmt: skip


@kernel
def _model_gaps(model, phi, a, g, gain, dg):  # pragma: no cover - compiled
    for f in range(model.size):
        m = model[f]
        if m >= 0:
            gain[f] = phi[f] * (a[m] - a[f]) / a[f]
            dg[f] = g[m] - g[f]


def model_gaps(model: np.ndarray, phi: np.ndarray, a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per slot with a model (``model >= 0``): the imitation gain ``phi * (a[model] - a) / a`` and the
    generations the model is ahead, ``g[model] - g``; 0 for both elsewhere. The NumPy expressions' numbers,
    in one pass."""
    gain = np.zeros(model.size)
    dg = np.zeros(model.size)
    _model_gaps(model, phi, a, g, gain, dg)
    return gain, dg


@kernel
def _lookup(table, keys, out):  # pragma: no cover - compiled
    size = table.size
    for x in range(keys.size):
        k = keys[x]
        if k < 0 or k >= size:
            return False
        out[x] = table[k]
    return True


@kernel
def _lookup_rows(table, keys):  # pragma: no cover - compiled
    out = np.empty(keys.size)
    return out if _lookup(table, keys, out) else out[:0]


def lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray | None:
    """``table[keys]`` for integer keys, or None where a key falls outside the table (negative keys included,
    which NumPy would count from the end): the bounds check and the gather in one pass."""
    if keys.ndim == 1:  # the usual case (a generation per slot or firm): one call, no reshapes
        out = _lookup_rows(table, keys)
        return out if out.size == keys.size else None
    out = np.empty(keys.shape)
    return out if _lookup(table, keys.reshape(-1), out.reshape(-1)) else None


@kernel
def _over_ceiling(capability, ceiling, is_firm, clipped, out):  # pragma: no cover - compiled
    for f in range(out.size):
        v = capability[f] / ceiling[f] if is_firm[f] else 0.0
        out[f] = _clip_unit(v) if clipped else v


def over_ceiling(capability: np.ndarray, ceiling: np.ndarray, is_firm: np.ndarray, clipped: bool = False) -> np.ndarray:
    """``capability / ceiling`` where ``is_firm``, 0 elsewhere (the mastery): one pass instead of the quotient, the
    negated mask and the masked write; with ``clipped``, ``np.clip`` of it to [0, 1] in the same pass."""
    out = np.empty(capability.size)
    _over_ceiling(capability, ceiling, is_firm, bool(clipped), out)
    return out


@kernel
def _slots_where(values, code, mask):  # pragma: no cover - compiled
    count = 0
    for f in range(values.size):
        if values[f] == code and mask[f]:
            count += 1
    out = np.empty(count, np.int64)
    k = 0
    for f in range(values.size):
        if values[f] == code and mask[f]:
            out[k] = f
            k += 1
    return out


def slots_where(values: np.ndarray, code: int, mask: np.ndarray) -> np.ndarray:
    """``((values == code) & mask).nonzero()[0]`` in one pass (the slots of the firms that chose a mode, say)."""
    return _slots_where(values, int(code), mask)


def set_rows(q: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``q[rows] = values`` for distinct ``rows`` of a C-contiguous 2-d array, in place; from
    :data:`PARALLEL_ITEMS` rows on, in shares over the cores (NumPy's fancy assignment takes one)."""
    _row_kernel(_put_rows, rows.size, q, rows, np.ascontiguousarray(values, dtype=q.dtype), items=True)


@kernel
def _pull_toward(q, rows, target, rate):  # pragma: no cover - compiled
    for r in rows:
        for d in range(q.shape[1]):
            q[r, d] = q[r, d] + rate * (target[d] - q[r, d])


def pull_toward(q: np.ndarray, rows: np.ndarray, target: np.ndarray, rate: float) -> None:
    """``q[rows] += rate * (target - q[rows])`` in place, row by row (``rows`` without repeats, as NumPy's
    fancy-indexed ``+=`` requires for this meaning)."""
    _pull_toward(q, rows, target, float(rate))


# --- fused row passes: several of the kernels above in one pass over each row (the same numbers) -----------------


@kernel
def _row_sum(indptr, data, r):  # pragma: no cover - compiled
    """Row ``r``'s sum as :func:`row_sums` takes it from ``np.add.reduceat``: the first entry plus the others
    summed in NumPy's pairwise order (0 for an empty row)."""
    start = indptr[r]
    m = indptr[r + 1] - start
    if m == 0:
        return 0.0
    if m == 1:
        return data[start]
    if m <= 129:  # a short run (the common case) summed here: each call down a chain of compiled functions costs
        return data[start] + _pairwise_block(data, start + 1, m - 1)
    return data[start] + pairwise_sum(data, start + 1, m - 1)


@kernel
def _reach_rows(indptr, indices, data, q, pipe, external, weight, pool, novelty, lo, hi):  # pragma: no cover
    dims = q.shape[1]
    own = weight.size == 0  # no weights given: each row's sum plus its pipeline
    diff = np.empty(dims)
    end = indices.size  # a prefetch past the block's own ties is harmless
    for r in range(lo, hi):
        for k in range(dims):  # the row starts at 0 here, not in a zeroed table: one pass over the memory, on the cores
            pool[r, k] = 0.0
        for p in range(indptr[r], indptr[r + 1]):  # pool = A @ q, as csr_dot sums it (from 0, column order)
            if p + AHEAD < end:
                prefetch(q, indices[p + AHEAD])
            a = data[p]
            c = indices[p]
            for k in range(dims):
                pool[r, k] += a * q[c, k]
        w = _row_sum(indptr, data, r) + pipe[r] if own else weight[r]  # row_sums(A) + pipe, or as given
        pp = pipe[r]
        for k in range(dims):  # (A @ q + pipe * external) / weight; the own profile where weight is 0
            v = pool[r, k] + pp * external[k]
            pool[r, k] = v / w if w > 0 else q[r, k]
        novelty[r] = _tv(q, r, pool, r, diff) * w / (w + 1.0)  # kernels.tv_distance(q, pool) * w / (w + 1)


def reach_pool(adj, q: np.ndarray, pipe: np.ndarray, external: np.ndarray,
               weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The reachable pool and novelty per row in one pass. ``pool = (adj @ q + pipe * external) / weight``
    where ``weight > 0`` and ``q`` elsewhere; ``novelty = kernels.tv_distance(q, pool) * weight / (weight +
    1)``; without a ``weight``, ``row_sums(adj) + pipe``, each row's sum taken in the same pass. Each row's
    numbers are NumPy's and SciPy's for those expressions (the product summed from 0 in column order as
    ``csr_matvecs``, a row's sum as ``np.add.reduceat`` takes it, the distance summed in NumPy's pairwise
    order), without intermediate arrays. Returns ``(pool, novelty)``; the NumPy form is the oracle in
    tests/test_compiled.py."""
    q = np.ascontiguousarray(q, dtype=np.float64)
    n = adj.shape[0]
    pool = np.empty((n, q.shape[1]))
    novelty_ = np.empty(n)
    weight = np.empty(0) if weight is None else np.ascontiguousarray(weight, dtype=np.float64)  # empty: the sums
    _row_kernel(_reach_rows, n, adj.indptr, adj.indices, adj.data, q, np.ascontiguousarray(pipe, dtype=np.float64),
                np.ascontiguousarray(external, dtype=np.float64), weight, pool, novelty_, indptr=adj.indptr)  # fmt: skip
    return pool, novelty_


@kernel
def _knowledge_block(indptr, indices, data, rows, q, weight, drift, injection, pipe, external, out, lo, hi):  # pragma: no cover
    dims = q.shape[1]
    own = weight.size == 0  # no weights given: each row's sum
    target = np.empty(dims)
    end = indices.size
    for k in range(lo, hi):
        r = rows[k]
        for x in range(dims):
            target[x] = 0.0
        for p in range(indptr[r], indptr[r + 1]):  # row r of A @ q, as csr_dot sums it
            if p + AHEAD < end:
                prefetch(q, indices[p + AHEAD])
            a = data[p]
            c = indices[p]
            for x in range(dims):
                target[x] += a * q[c, x]
        w = _row_sum(indptr, data, r) if own else weight[r]  # row_sums(A), or as given
        has = 1.0 if w > 0 else 0.0
        pull = drift * min(1.0, w)
        cc = injection * pipe[r]
        for x in range(dims):  # q + pull (t / w - q) where the row has partners, then toward the outside
            t = target[x] / w if w > 0 else target[x]
            v = q[r, x] + pull * (t - q[r, x]) * has
            target[x] = v + cc * (external[x] - v)
        # kernels.normalise_rows: a sum of 0 or less, or NaN, gives uniform
        s = _pairwise_block(target, 0, dims) if dims <= 128 else pairwise_sum(target, 0, dims)
        if s > 0:
            for x in range(dims):
                out[k, x] = target[x] / s
        else:
            for x in range(dims):
                out[k, x] = 1.0 / dims


def knowledge_drift(adj, rows: np.ndarray, q: np.ndarray, weight: np.ndarray | None, drift: float,
                    injection: float, pipe: np.ndarray, external: np.ndarray) -> np.ndarray:
    """The drifted, normalised knowledge profiles of ``rows`` in one pass per row: with ``t = (adj @ q)[r]``
    and ``pull = drift * min(1, weight)``, ``v = q + pull * (t / weight - q)`` where the row has partners,
    then ``v + injection * pipe * (external - v)``, then :func:`kernels.normalise_rows`. The numbers are
    NumPy's for those expressions (the oracle is in tests/test_compiled.py), without the n x d ``adj @ q``
    (only the rows asked for are summed) and the un-normalised copy. Reads ``q`` only; returns a new
    (len(rows), d) array. A ``weight`` of None is :func:`row_sums` of ``adj``, each row's taken in the same
    pass."""
    q = np.ascontiguousarray(q, dtype=np.float64)
    out = np.empty((rows.size, q.shape[1]))
    weight = np.empty(0) if weight is None else np.ascontiguousarray(weight, dtype=np.float64)  # empty: the sums
    _row_kernel(_knowledge_block, rows.size, adj.indptr, adj.indices, adj.data, rows, q, weight,
                float(drift), float(injection), np.ascontiguousarray(pipe, dtype=np.float64),
                np.ascontiguousarray(external, dtype=np.float64), out)  # fmt: skip
    return out


@kernel
def _pull_block(x, i, j, pull, out, lo, hi):  # pragma: no cover - compiled
    dims = x.shape[1]
    for k in range(lo, hi):
        if k + AHEAD < i.size:
            prefetch(x, j[k + AHEAD])
        a = i[k]
        b = j[k]
        for d in range(dims):
            out[k, d] = x[a, d] + pull * (x[b, d] - x[a, d])


@kernel
def _put_rows(x, i, rows, lo, hi):  # pragma: no cover - compiled
    """``x[i[lo:hi]] = rows[lo:hi]``, in order: over all rows at once, a repeated row keeps its last value, as
    NumPy's assignment does (only distinct rows may be cut into shares: set_rows)."""
    for k in range(lo, hi):
        for d in range(x.shape[1]):
            x[i[k], d] = rows[k, d]


def pull_rows(x: np.ndarray, i: np.ndarray, j: np.ndarray, pull: float) -> None:
    """``x[i] += pull * (x[j] - x[i])`` in place for a C-contiguous 2-d ``x``: every row read before any is
    written (a row that is both pulled and pulled toward gives its old value), the same operations in the same
    order as NumPy's, without its four gathered copies."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    rows = np.empty((i.size, x.shape[1]))
    _row_kernel(_pull_block, i.size, x, i, j, float(pull), rows, items=True)
    _put_rows(x, i, rows, 0, i.size)


@kernel
def _imitators(who, model, u, success):  # pragma: no cover - compiled
    count = 0
    for k in range(who.size):
        if model[who[k]] >= 0 and u[k] < success:
            count += 1
    i = np.empty(count, np.int64)
    j = np.empty(count, np.int64)
    c = 0
    for k in range(who.size):
        m = model[who[k]]
        if m >= 0 and u[k] < success:
            i[c] = who[k]
            j[c] = m
            c += 1
    return i, j


def imitators(who: np.ndarray, model: np.ndarray, u: np.ndarray, success: float) -> tuple[np.ndarray, np.ndarray]:
    """The successful imitators among ``who`` and their models: those with a model (``model[who] >= 0``) whose
    draw ``u`` is below ``success``, in the order of ``who``; as ``who[ok], model[who][ok]``."""
    return _imitators(who, model, u, float(success))


@kernel
def _imitate(i, j, u, capability, generation, phi, absorb, ceiling, transfer_rate, switch_dip):  # pragma: no cover
    n = i.size
    new_a = np.empty(n)
    new_g = np.empty(n, generation.dtype)
    for k in range(n):  # every model is read before any imitator is written, as NumPy's gathers do
        f, m = i[k], j[k]
        a_old = capability[f]
        transfer = generation[m] > generation[f] and u[k] < transfer_rate * absorb[f]
        moved = a_old + phi[f] * (capability[m] - a_old)
        top = 0.999 * ceiling[k]
        if not (moved != moved or moved <= top):  # np.minimum: NaN from either side
            moved = top
        if not (moved != moved or moved >= a_old):  # np.maximum
            moved = a_old
        new_a[k] = switch_dip * a_old if transfer else moved
        new_g[k] = generation[m] if transfer else generation[f]
    for k in range(n):
        capability[i[k]] = new_a[k]
        generation[i[k]] = new_g[k]


def imitate(i: np.ndarray, j: np.ndarray, u: np.ndarray, capability: np.ndarray, generation: np.ndarray,
            phi: np.ndarray, absorb: np.ndarray, ceiling: np.ndarray, transfer_rate: float, switch_dip: float) -> None:  # fmt: skip
    """Successful imitators ``i`` of models ``j``, in place: with chance ``transfer_rate * absorb[i]`` (draws
    ``u``) an imitator of a model in a higher generation adopts it and keeps ``switch_dip`` of its capability;
    otherwise it closes ``phi[i]`` of the gap to its model, at most to 0.999 of its ``ceiling`` and never
    down. The operations of the NumPy form in imitation's ``step_numpy``, in one pass."""
    _imitate(i, j, u, capability, generation, phi, absorb, ceiling, float(transfer_rate), float(switch_dip))


# -- economic ties: the process's passes, each as NumPy computes it -------------------------------------


@kernel
def trade_track(i, j, w, m, adjustment):  # pragma: no cover - compiled
    """``w + adjustment * (minimum(m[i], m[j]) - w)``: each tie's strength moved toward its trade."""
    out = np.empty(w.size)
    for k in range(w.size):
        out[k] = w[k] + adjustment * (min(m[i[k]], m[j[k]]) - w[k])
    return out


@kernel
def below_target(firms, degree, m, per_mastery, u, chance):  # pragma: no cover - compiled
    """The firms with fewer ties than ``per_mastery * m`` whose draw ``u`` falls below ``chance``."""
    keep = np.empty(firms.size, np.bool_)
    for k in range(firms.size):
        f = firms[k]
        keep[k] = (degree[f] < per_mastery * m[f]) and (u[k] < chance)
    return firms[keep]


@kernel
def _segment_blocks(firms, segment):  # pragma: no cover - compiled
    """The firms in the stable order of their segments (NumPy's stable argsort), by a counting sort: each
    segment ``v``'s firms are then one block, ``order[start[v - low]:start[v - low + 1]]``. Returns the lowest
    segment, the starts and the order."""
    groups = segment[firms]
    low, high = groups.min(), groups.max()
    start = np.zeros(high - low + 2, np.int64)
    for g in groups:
        start[g - low + 1] += 1
    for v in range(1, start.size):
        start[v] += start[v - 1]
    order = np.empty(groups.size, np.int64)
    fill = start[:-1].copy()
    for k in range(groups.size):
        order[fill[groups[k] - low]] = k
        fill[groups[k] - low] += 1
    return np.int64(low), start, order


@kernel
def _candidate_rows(firms, segment, who, side, u, segments, key_base, low, start, order, cand, valid, keys, lo,
                    hi):  # pragma: no cover - compiled  # fmt: skip
    c = u.shape[1]
    high = low + start.size - 2
    for r in range(lo, hi):
        seg = np.int64(segment[who[r]])
        step = 1 if side[r] < 0.5 else -1
        want = seg + step
        if want < 0 or want >= segments:
            want = seg - step
        want = min(max(want, 0), segments - 1)
        first = size = 0
        if low <= want <= high:
            first = start[want - low]
            size = start[want - low + 1] - first
        for k in range(c):
            if size > 0:
                pos = first + _uniform_index(u[r, k], size)
                pick = firms[order[min(pos, order.size - 1)]]
            else:
                pick = -1
            valid[r, k] = pick >= 0 and pick != who[r]
            p = max(pick, 0)
            cand[r, k] = p
            keys[r * c + k] = _edge_key(who[r], p, key_base)


def adjacent_candidates(firms: np.ndarray, segment: np.ndarray, who: np.ndarray, side: np.ndarray, u: np.ndarray,
                        segments: int, key_base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Candidates for ``who`` in an adjacent value-chain segment, as economic ties draw them: the segment
    above or below (``side`` < 0.5: above; the other one at either end of the chain), then for each draw of a
    row of ``u`` a uniformly drawn firm of that segment (``kernels.sample_from_groups`` over the firms'
    segments), -1 where the segment has none. Returns the candidates with -1 as 0, whether each is a valid
    partner (drawn, and not the firm itself), and the edge key of each pair, row by row. The rows are
    independent: from :data:`PARALLEL_ITEMS` of them on (a light pass), in shares over the cores."""
    low, start, order = _segment_blocks(firms, segment)
    rows, c = u.shape
    cand = np.empty((rows, c), np.int64)
    valid = np.empty((rows, c), np.bool_)
    keys = np.empty(rows * c, np.int64)
    _row_kernel(_candidate_rows, rows, firms, segment, who, side, u, np.int64(segments), np.int64(key_base), low,
                start, order, cand, valid, keys, items=True)  # fmt: skip
    return cand, valid, keys


@kernel
def best_partners(who, cand, valid, social, tied, m, embeddedness):  # pragma: no cover - compiled
    """For each row, the candidate with the highest ``m * (1 + embeddedness * [social neighbour])`` among the
    valid ones not tied yet (the first on a tie); rows whose best scores 0 find none. Returns the firms that
    found a partner, the partners, and the new ties' strengths ``min(m[firm], m[partner])``."""
    rows, c = cand.shape
    src = np.empty(rows, np.int64)
    dst = np.empty(rows, np.int64)
    strength = np.empty(rows)
    found = 0
    for r in range(rows):
        best = 0.0
        at = 0
        for k in range(c):
            s = m[cand[r, k]] * (1.0 + embeddedness * (1.0 if social[r, k] else 0.0)) if valid[r, k] and not tied[r, k] else 0.0
            if k == 0 or s > best:
                best = s
                at = k
        if best > 0:
            f, q = who[r], cand[r, at]
            src[found] = f
            dst[found] = q
            strength[found] = min(m[f], m[q])
            found += 1
    return src[:found], dst[:found], strength[:found]


@kernel
def _economic_step(keys, w, social_keys, cap, ceil, is_firm, firms, segment, rng, adjustment, floor, per_mastery,
                   formation, candidates, segments, embeddedness, n, bits):  # pragma: no cover - compiled  # fmt: skip
    m = np.empty(cap.size)
    _over_ceiling(cap, ceil, is_firm, True, m)
    changed = False
    if keys.size:
        i, j = _key_ends(keys, bits)
        w = trade_track(i, j, w, m, adjustment)
        changed = True
        kept, kept_w, dropped = _at_least(keys, w, floor)
        if dropped:
            keys, w = kept, kept_w
    if firms.size < 2:
        return keys, w, changed
    i, j = _key_ends(keys, bits)
    who = below_target(firms, _end_counts(i, j, n), m, per_mastery, rng.random(firms.size), formation)
    if who.size == 0:
        return keys, w, changed
    side = rng.random(who.size)
    u = rng.random(who.size * candidates).reshape((who.size, candidates))
    low, start, order = _segment_blocks(firms, segment)
    cand = np.empty((who.size, candidates), np.int64)
    valid = np.empty((who.size, candidates), np.bool_)
    pairs = np.empty(who.size * candidates, np.int64)
    base = np.int64(1) << bits
    _candidate_rows(firms, segment, who, side, u, np.int64(segments), base, low, start, order, cand, valid, pairs, 0,
                    who.size)  # fmt: skip
    social = np.empty(pairs.size, np.bool_)  # each pair a social tie, and tied here already (has_keys)
    tied = np.empty(pairs.size, np.bool_)
    for t in range(pairs.size):
        social[t] = _sorted_has(social_keys, pairs[t])
        tied[t] = _sorted_has(keys, pairs[t])
    social = social.reshape(cand.shape)
    tied = tied.reshape(cand.shape)
    src, dst, strength = best_partners(who, cand, valid, social, tied, m, embeddedness)
    new_k, new_w, added = _add_max(keys, w, src, dst, strength, base)
    if added:
        keys, w, changed = new_k, new_w, True
    return keys, w, changed


def economic_step(keys: np.ndarray, w: np.ndarray, social_keys: np.ndarray, cap: np.ndarray, ceil: np.ndarray,
                  is_firm: np.ndarray, firms: np.ndarray, segment: np.ndarray, rng: np.random.Generator, *,
                  adjustment: float, floor: float, per_mastery: float, formation: float, candidates: int,
                  segments: int, embeddedness: float, n: int, bits: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """The economic layer's step in one compiled call, with its draws (``rng``, in NumPy's order and numbers):
    the mastery clipped to [0, 1] (:func:`over_ceiling` of ``cap`` and ``ceil``), every tie's strength moved
    toward its trade (:func:`trade_track`) and the ties below ``floor`` dropped, then the firms below their
    target (:func:`below_target`, the layer's degrees as it is then) drawing candidates in an adjacent segment
    (:func:`adjacent_candidates`) and tying to the best not tied yet (:func:`best_partners`, social ties from
    the sorted ``social_keys``), added as :func:`add_max` adds them. Returns the layer's new keys and strengths,
    or None where it has no tie to change: what the calls one by one made, bit for bit, for a process whose
    passes all take their serial forms (tests/test_process_kernels.py holds the NumPy form to it)."""
    out_k, out_w, changed = _economic_step(keys, w, social_keys, cap, ceil, is_firm, firms, segment, rng,
                                           float(adjustment), float(floor), float(per_mastery), float(formation),
                                           int(candidates), int(segments), float(embeddedness), int(n),
                                           np.int64(bits))  # fmt: skip
    return (out_k, out_w) if changed else None


# -- social ties ------------------------------------------------------------------------------------------


@kernel
def _social_decay_rows(i, j, w, trade, along, crowding, decay, member, out, lo, hi):  # pragma: no cover - compiled
    half = crowding * 0.5
    crowded = trade.size > 0
    for k in range(lo, hi):
        if crowded:
            crowd = half * (trade[i[k]] + trade[j[k]]) * (0.0 if along[k] else 1.0)
            out[k] = w[k] * (1.0 - min(decay * (1.0 + crowd), 1.0))
        else:
            out[k] = w[k] * (1.0 - decay)
        if member.size and (member[i[k]] or member[j[k]]):
            out[k] = 1.0


def social_decay(i: np.ndarray, j: np.ndarray, w: np.ndarray, trade: np.ndarray, along: np.ndarray, crowding: float,
                 decay: float, member: np.ndarray) -> np.ndarray:  # fmt: skip
    """Each social tie's strength after a step's decay: ``w * (1 - min(decay * (1 + crowd), 1))`` with
    ``crowd = crowding * 0.5 * (trade[i] + trade[j])`` unless the pair trades (``along``), or
    ``w * (1 - decay)`` where ``trade`` is empty (no crowding); 1 where either end is a ``member`` of an
    association (an empty ``member``: none). Each tie on its own: from :data:`PARALLEL_ITEMS` ties on, in
    shares over the cores."""
    out = np.empty(w.size)
    _row_kernel(_social_decay_rows, w.size, i, j, w, trade, along, float(crowding), float(decay), member, out,
                items=True)
    return out


@kernel
def nearest_partners(firms, picks, who, x, y, radius):  # pragma: no cover - compiled
    """For each firm of ``who``, the nearest of the firms drawn for it (``firms[picks]`` row by row; itself
    excluded, the first on a tie), kept where it lies within ``radius``. Returns the pairs."""
    rows, c = picks.shape
    src = np.empty(rows, np.int64)
    dst = np.empty(rows, np.int64)
    found = 0
    for r in range(rows):
        f = who[r]
        best = np.inf
        at = -1
        for k in range(c):
            q = firms[picks[r, k]]
            d = np.inf if q == f else np.hypot(x[q] - x[f], y[q] - y[f])
            if at < 0 or d < best:
                best = d
                at = q
        if best < radius:
            src[found] = f
            dst[found] = at
            found += 1
    return src[:found], dst[:found]


@kernel
def close_triads(indptr, indices, who, u_first, u_second, kind):  # pragma: no cover - compiled
    """Triadic closure: for each firm of ``who`` a uniformly drawn neighbour (``u_first``), and of that
    neighbour's a uniformly drawn one (``u_second``; an isolated firm's draw reads row 0, as
    ``kernels.random_neighbour`` of ``max(j, 0)`` does), kept where both exist, the second is another
    firm (``kind`` 0) and not the firm itself. Returns the pairs to tie."""
    src = np.empty(who.size, np.int64)
    dst = np.empty(who.size, np.int64)
    found = 0
    for r in range(who.size):
        f = who[r]
        deg = indptr[f + 1] - indptr[f]
        j = indices[indptr[f] + _uniform_index(u_first[r], deg)] if deg > 0 else -1
        row = max(j, 0)
        deg = indptr[row + 1] - indptr[row]
        k = indices[indptr[row] + _uniform_index(u_second[r], deg)] if deg > 0 else -1
        if j >= 0 and k >= 0 and k != f and kind[k] == 0:
            src[found] = f
            dst[found] = k
            found += 1
    return src[:found], dst[:found]


@kernel
def _social_new_ties(keys, w, firms, rng, proximity, candidates, x, y, radius, triadic, kind, n,
                     bits):  # pragma: no cover - compiled
    base = np.int64(1) << bits
    m = firms.size
    changed = False
    who = where_below(firms, rng.random(m), proximity)
    if who.size:
        picks = rng.integers(0, m, who.size * candidates).reshape((who.size, candidates))
        src, dst = nearest_partners(firms, picks, who, x, y, radius)
        new_k, new_w, added = _add_max(keys, w, src, dst, np.ones(1), base)
        if added:
            keys, w, changed = new_k, new_w, True
    who = where_below(firms, rng.random(m), triadic)
    if who.size:
        ends_i, ends_j = _key_ends(keys, bits)
        indptr = np.zeros(n + 1, np.int64)
        indices = np.empty(2 * keys.size, np.int64)
        _sym_csr(ends_i, ends_j, np.empty(0), n, indptr, indices, np.empty(0))  # who is tied to whom, no strengths
        u_first = rng.random(who.size)
        src, dst = close_triads(indptr, indices, who, u_first, rng.random(who.size), kind)
        new_k, new_w, added = _add_max(keys, w, src, dst, np.full(1, 0.5), base)
        if added:
            keys, w, changed = new_k, new_w, True
    return keys, w, changed


def social_new_ties(keys: np.ndarray, w: np.ndarray, firms: np.ndarray, rng: np.random.Generator, proximity: float,
                    candidates: int, x: np.ndarray, y: np.ndarray, radius: float, triadic: float, kind: np.ndarray,
                    n: int, bits: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """The social layer's new ties of a step in one compiled call, with its draws (``rng``, in NumPy's order and
    numbers): the firms with a draw below ``proximity`` each tie (strength 1) to the nearest of ``candidates``
    firms drawn for it within ``radius`` (:func:`nearest_partners`); then the firms with a draw below ``triadic``
    each close a triad (strength 0.5; :func:`close_triads` on the layer as it is then, over ``n`` nodes). Each
    added as :func:`add_max` adds (keys ``i << bits | j``). Returns the layer's new keys and strengths, or None
    where no tie was added: the draws, ties and strengths that the calls one by one made (tests/
    test_process_kernels.py holds the NumPy form to it)."""
    out_k, out_w, changed = _social_new_ties(keys, w, firms, rng, float(proximity), int(candidates), x, y,
                                             float(radius), float(triadic), kind, int(n), np.int64(bits))  # fmt: skip
    return (out_k, out_w) if changed else None


@kernel
def _social_step(keys, w, economic_keys, economic_w, crowding, decay, floor, kind, association_code, is_org, firms,
                 rng, proximity, candidates, x, y, radius, triadic, capacity, association, n,
                 bits):  # pragma: no cover - compiled  # fmt: skip
    assoc = _slots_where(kind, association_code, is_org)  # the active associations
    changed = False
    if keys.size:  # the decay (crowded out by trade not along the tie), members' ties kept at 1; then the floor
        i, j = _key_ends(keys, bits)
        trade = np.empty(0)
        along = np.empty(0, np.bool_)
        if crowding > 0:
            ei, ej = _key_ends(economic_keys, bits)
            trade = _end_sums(ei, ej, economic_w, n)
            along = np.empty(keys.size, np.bool_)
            _member(keys, economic_keys, along)
        member = np.empty(0, np.bool_)
        if assoc.size:
            member = np.zeros(n, np.bool_)
            for org in assoc:
                member[org] = True
        out = np.empty(w.size)
        _social_decay_rows(i, j, w, trade, along, crowding, decay, member, out, 0, w.size)
        w = out
        changed = True
    kept, kept_w, dropped = _at_least(keys, w, floor)
    if dropped:
        keys, w, changed = kept, kept_w, True
    if firms.size < 2:
        return keys, w, changed
    new_k, new_w, added = _social_new_ties(keys, w, firms, rng, proximity, candidates, x, y, radius, triadic, kind, n,
                                           bits)  # fmt: skip
    if added:
        keys, w, changed = new_k, new_w, True
    base = np.int64(1) << bits
    for org in assoc:  # recruits while below capacity, and pairs of members linked
        i, j = _key_ends(keys, bits)
        members = tied_to(i, j, org)
        spare = np.int64(capacity[org]) - members.size
        if spare > 0:
            count = min(spare, 1 + rng.poisson(1.0))
            recruits = firms[rng.integers(0, firms.size, count)]
            new_k, new_w, added = _add_max(keys, w, np.full(recruits.size, org, np.int64), recruits, np.ones(1), base)
            if added:
                keys, w, changed = new_k, new_w, True
        pairs = rng.poisson(association * members.size)
        if pairs and members.size > 1:
            a = members[rng.integers(0, members.size, pairs)]
            b = members[rng.integers(0, members.size, pairs)]
            new_k, new_w, added = _add_max(keys, w, a, b, np.full(1, 0.5), base)
            if added:
                keys, w, changed = new_k, new_w, True
    return keys, w, changed


def social_step(keys: np.ndarray, w: np.ndarray, economic_keys: np.ndarray, economic_w: np.ndarray, kind: np.ndarray,
                association_code: int, is_org: np.ndarray, firms: np.ndarray, rng: np.random.Generator,
                x: np.ndarray, y: np.ndarray, capacity: np.ndarray, *, crowding: float, decay: float, floor: float,
                proximity: float, candidates: int, radius: float, triadic: float, association: float, n: int,
                bits: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """The social layer's step in one compiled call, with its draws (``rng``, in NumPy's order and numbers): the
    decay (:func:`social_decay`, crowded out by trade, the economic layer's strengths, where ``crowding`` is on;
    the ties of the active associations, slots of ``kind == association_code``, kept at 1), the ties below
    ``floor`` dropped, the new ties of proximity and triadic closure (:func:`social_new_ties`) and each
    association's recruits and linked members, as ``SocialTies._associations`` draws and adds them. Returns the
    layer's new keys and strengths, or None where it has none to change: what the calls one by one made, bit for
    bit (tests/test_process_kernels.py holds the NumPy form to it)."""
    out_k, out_w, changed = _social_step(keys, w, economic_keys, economic_w, float(crowding), float(decay),
                                         float(floor), kind, int(association_code), is_org, firms, rng,
                                         float(proximity), int(candidates), x, y, float(radius), float(triadic),
                                         capacity, float(association), int(n), np.int64(bits))  # fmt: skip
    return (out_k, out_w) if changed else None


# -- knowledge ties ---------------------------------------------------------------------------------------


@kernel
def knowledge_use(i, j, w, n, local, local_boost, integrated, integrated_boost, decay):  # pragma: no cover
    """Each knowledge tie's strength after a step: ``min(1, w + used)`` where ``used``, the larger boost of
    its two ends, is positive (a firm whose local attempt succeeded gives ``local_boost``, one whose
    integrated attempt did ``integrated_boost``, the larger where both), ``w * (1 - decay)`` elsewhere."""
    boost = np.zeros(n)
    for f in local:
        boost[f] = max(boost[f], local_boost)
    for f in integrated:
        boost[f] = max(boost[f], integrated_boost)
    out = np.empty(w.size)
    keep = 1 - decay
    for k in range(w.size):
        used = max(boost[i[k]], boost[j[k]])
        out[k] = min(1.0, w[k] + used) if used > 0 else w[k] * keep
    return out


@kernel
def over_capacity(i, j, w, over, capacity, n):  # pragma: no cover - compiled
    """Which ties to keep when each node of ``over`` keeps only ``capacity`` (per node of ``over``) of its ties:
    it drops its weakest ties, the earlier tie first among equal strengths (what a stable argsort of its ties'
    strengths, cut after the excess, drops), found by selecting the excess-th smallest strength instead of
    sorting. One pass collects every such node's ties; a tie between two of them counts for both."""
    place = np.full(n, -1, np.int64)
    for x in range(over.size):
        place[over[x]] = x
    ptr = np.zeros(over.size + 1, np.int64)
    for t in range(i.size):
        if place[i[t]] >= 0:
            ptr[place[i[t]] + 1] += 1
        if place[j[t]] >= 0:
            ptr[place[j[t]] + 1] += 1
    for x in range(over.size):
        ptr[x + 1] += ptr[x]
    touching = np.empty(ptr[over.size], np.int64)  # per node, its ties in their order
    fill = ptr[:-1].copy()
    for t in range(i.size):
        for end in (i[t], j[t]):
            x = place[end]
            if x >= 0:
                touching[fill[x]] = t
                fill[x] += 1
    keep = np.ones(i.size, np.bool_)
    for x in range(over.size):
        ties = touching[ptr[x] : ptr[x + 1]]
        excess = ties.size - capacity[x]
        if excess <= 0:
            continue
        strength = np.empty(ties.size)
        for k in range(ties.size):
            strength[k] = w[ties[k]]
        cut = np.partition(strength, excess - 1)[excess - 1]  # the excess-th smallest strength
        below = 0
        for k in range(ties.size):
            below += strength[k] < cut
        at_cut = excess - below  # of the ties as strong as the cut, the earliest go
        for k in range(ties.size):
            if strength[k] < cut:
                keep[ties[k]] = False
            elif strength[k] == cut and at_cut > 0:
                keep[ties[k]] = False
                at_cut -= 1
    return keep


@kernel
def knowledge_seekers(firms, mode, u, local_rate, local_code, integrated_code):  # pragma: no cover - compiled
    """The firms that look for knowledge partners: every integrated attempt, and a local attempt whose draw
    ``u`` falls below ``local_rate``; each in the order of ``firms``."""
    integ = np.empty(firms.size, np.int64)
    local = np.empty(firms.size, np.int64)
    a = b = 0
    for k in range(firms.size):
        m = mode[firms[k]]
        if m == integrated_code:
            integ[a] = firms[k]
            a += 1
        elif m == local_code and u[k] < local_rate:
            local[b] = firms[k]
            b += 1
    return integ[:a], local[:b]


# --- the innovation modes' success chances and expected gains, fused (numbers within floating-point tolerance
# of the NumPy definitions, not bit for bit: powers by _power, not NumPy's vectorised pow) --------------------


@kernel
def _below_one(v):  # pragma: no cover - compiled
    """``np.minimum(1.0, v)`` (NaN stays NaN)."""
    return v if v < 1.0 or v != v else 1.0


NUMPY_SHORTCUTS = (-1.0, 0.0, 0.5, 1.0, 2.0)  # the exponents NumPy computes an array's power of without pow
_NO_VALUES = np.empty(0)  # a kernel's powers computed in NumPy: none (it computes them itself)


def numpy_shortcut(e: float) -> bool:
    """Whether NumPy computes ``array ** e`` without ``pow`` (:data:`NUMPY_SHORTCUTS`): only then can a kernel
    give its very numbers. For every other exponent NumPy's vectorised ``pow`` and the C library's scalar one
    (a kernel's) differ in the last bit for about one value in twenty (10^5 draws in [0, 1): 5,325 at 1.6), so
    a kernel is handed those powers computed in NumPy."""
    return float(e) in NUMPY_SHORTCUTS


@kernel
def _numpy_power(x, e):  # pragma: no cover - compiled
    """``x ** e`` for the exponents of :data:`NUMPY_SHORTCUTS`, exactly as NumPy computes them (reciprocal, one,
    ``sqrt``, the value, a square); the callers compute other powers in NumPy (:func:`numpy_shortcut`)."""
    if e == 2.0:
        return x * x
    if e == 1.0:
        return x
    if e == 0.5:
        return np.sqrt(x)
    if e == 0.0:
        return 1.0
    return 1.0 / x


@kernel
def _power(x, e):  # pragma: no cover - compiled
    """``x ** e``. NumPy's own shortcuts for the exponents 0, 0.5, 1 and 2 (``sqrt``, the value, a square), and
    for other whole exponents up to 64 repeated squaring (within a few units in the last place of ``pow``, and
    several times faster than the C library's scalar ``pow``, which cannot be vectorised in these loops)."""
    if e == 2.0 or e == 1.0 or e == 0.5 or e == 0.0:
        return _numpy_power(x, e)
    if 0.0 < e <= 64.0 and e == np.floor(e):
        k = int(e)
        out = 1.0
        base = x
        while k > 0:
            if k & 1:
                out *= base
            k >>= 1
            if k:
                base *= base
        return out
    return x**e


@kernel
def _hill(rd, half_pow, exponent):  # pragma: no cover - compiled
    """:func:`clusterup.kernels.rd_effect` of one value: ``r^n / (r^n + h^n)``, 0 where the sum is not positive."""
    rn = _power(rd, exponent)
    denom = rn + half_pow
    return rn / denom if denom > 0 else 0.0


@kernel
def generation_counts(gen, firms):  # pragma: no cover - compiled
    """``np.bincount(gen[firms])`` in one pass: the firms per generation, up to the highest one (one zero
    without firms)."""
    top = 0
    for x in range(firms.size):
        top = max(top, gen[firms[x]])
    out = np.zeros(top + 1, np.int64)
    for x in range(firms.size):
        out[gen[firms[x]]] += 1
    return out


@kernel
def _erode(firms, gen, rd, cap, rate, lag_rate, maintenance, half_pow, exponent, powered):  # pragma: no cover
    n = firms.size
    counts = generation_counts(gen, firms)
    above = np.empty(counts.size)  # per generation: the share of the firms in higher ones
    done = 0
    for k in range(counts.size):
        done += counts[k]
        above[k] = (n - done) / n
    for x in range(n):
        f = firms[x]
        r = rate
        if maintenance > 0:  # rd_effect, NumPy's numbers
            rn = powered[x] if powered.size else _numpy_power(rd[f], exponent)
            denom = rn + half_pow
            r = r * (1.0 - maintenance * (rn / denom if denom > 0 else 0.0))
        r = r + lag_rate * above[gen[f]]
        cap[f] *= 1.0 - (r if r < 0.99 or r != r else 0.99)  # np.minimum(r, 0.99), NaN kept


def erode(firms: np.ndarray, gen: np.ndarray, rd: np.ndarray, cap: np.ndarray, *, rate: float, generation_lag: float,
          rd_maintenance: float, rd_half: float, rd_exponent: float) -> None:
    """Obsolescence's erosion of the ``firms``' capability, in place, in one pass (the definition:
    ``Obsolescence.step_numpy``): ``cap *= 1 - min(rate * (1 - rd_maintenance * R(rd)) + rate * generation_lag *
    above, 0.99)``, ``above`` the share of the firms in a higher generation than the firm's, ``R`` the Hill
    effect of R&D (:func:`clusterup.kernels.rd_effect`; left out where ``rd_maintenance`` is 0). The powers
    ``rd ** rd_exponent`` are NumPy's (:func:`numpy_shortcut`): the very numbers of the NumPy form."""
    if firms.size:
        e = float(rd_exponent)
        powered = _NO_VALUES if numpy_shortcut(e) or rd_maintenance <= 0 else rd[firms] ** e
        _erode(firms, gen, rd, cap, float(rate), float(rate) * float(generation_lag), float(rd_maintenance),
               float(rd_half) ** e, e, powered)  # fmt: skip


@kernel
def _pipelines(firms, pipeline, mastery, u, keep, rate, power, boost, floor, powered):  # pragma: no cover - compiled
    for x in range(firms.size):
        f = firms[x]
        v = pipeline[f] * keep
        m = powered[x] if powered.size else _numpy_power(_clip_unit(mastery[f]), power)
        if u[x] < _below_one(rate * m * boost):
            v = 1.0
        if v < floor:
            v = 0.0
        pipeline[f] = v


def pipelines(firms: np.ndarray, pipeline: np.ndarray, mastery: np.ndarray, u: np.ndarray, *, decay: float, rate: float,
              capability_power: float, subsidy: float, floor: float) -> None:
    """The pipelines' step for the ``firms``, in place, in one pass (the definition: ``Pipelines.step_numpy``):
    each decays by ``decay``, opens (strength 1) where its draw ``u`` falls below ``min(1, rate * m **
    capability_power * (1 + subsidy))`` (``m`` its ``mastery`` clipped to [0, 1]; the powers NumPy's,
    :func:`numpy_shortcut`) and closes below ``floor``."""
    if firms.size:
        e = float(capability_power)
        powered = _NO_VALUES if numpy_shortcut(e) else np.clip(mastery[firms], 0.0, 1.0) ** e
        _pipelines(firms, pipeline, mastery, u, 1.0 - float(decay), float(rate), e, 1.0 + float(subsidy),
                   float(floor), powered)  # fmt: skip


@kernel
def _successes(who, chance, u, rent, amount):  # pragma: no cover - compiled
    out = np.empty(who.size, np.int64)
    n = 0
    for x in range(who.size):
        f = who[x]
        if u[x] < chance[f]:
            out[n] = f
            n += 1
            rent[f] += amount
    return out[:n].copy()


def successes(who: np.ndarray, chance: np.ndarray, u: np.ndarray, rent: np.ndarray, amount: float) -> np.ndarray:
    """The firms among ``who`` whose draw ``u`` falls below their ``chance`` (``who[u < chance[who]]``), each
    given the innovation rent ``amount`` (``rent[i] += amount``) in the same pass."""
    return _successes(who, chance, u, rent, float(amount))


@kernel
def _local_gains(i, ceil, cap, rate, segment, home_domains, knowledge, keep, spec):  # pragma: no cover - compiled
    for x in range(i.size):
        f = i[x]
        c = cap[f]
        h = 1.0 - c / ceil[x]
        cap[f] = c + rate * c * (h if h >= 0.0 or h != h else 0.0)  # np.clip(h, 0.0, None): NaN kept
        for d in range(knowledge.shape[1]):
            knowledge[f, d] = knowledge[f, d] * keep
        home = segment[f] % home_domains
        knowledge[f, home] = knowledge[f, home] + spec


def local_gains(i: np.ndarray, ceil: np.ndarray, cap: np.ndarray, segment: np.ndarray, knowledge: np.ndarray, *,
                rate: float, home_domains: int, specialisation: float) -> None:
    """A successful local innovation's gains, in place, in one pass (the definition: ``LocalInnovation.step_numpy``):
    ``cap[i] += rate * cap * max(1 - cap / ceil, 0)`` (``ceil`` per firm of ``i``) and each firm's knowledge
    specialised toward its segment's home domain, ``q *= 1 - specialisation``, then ``q[home] +=
    specialisation``."""
    if i.size:
        _local_gains(i, ceil, cap, float(rate), segment, int(home_domains), knowledge, 1 - float(specialisation),
                     float(specialisation))  # fmt: skip


@kernel
def _integrated_gains(i, pool, gen, cap, knowledge, dip, keep, nu):  # pragma: no cover - compiled
    for x in range(i.size):
        f = i[x]
        gen[f] += 1
        cap[f] *= dip
        for d in range(knowledge.shape[1]):
            knowledge[f, d] = keep * knowledge[f, d] + nu * pool[f, d]


def integrated_gains(i: np.ndarray, pool: np.ndarray, gen: np.ndarray, cap: np.ndarray, knowledge: np.ndarray, *,
                     dip: float, novelty_gain: float) -> None:
    """A successful integrated innovation, in place, in one pass (the definition:
    ``IntegratedInnovation.step_numpy``): each firm of ``i`` moves up a generation, its capability falls to ``dip``
    of what it was, and its knowledge moves toward what it reaches, ``q = (1 - novelty_gain) * q + novelty_gain *
    pool``."""
    if i.size:
        _integrated_gains(i, pool, gen, cap, knowledge, float(dip), 1 - float(novelty_gain), float(novelty_gain))


@kernel
def ascending(a):  # pragma: no cover - compiled
    """Whether the values of ``a`` strictly ascend (one pass, up to the first that does not)."""
    for x in range(1, a.size):
        if a[x] <= a[x - 1]:
            return False
    return True


@kernel
def _lifecycle_entrants(firms, ids, parent, cap, last_id, step, c_id, c_parent, c_born, c_exited, c_cause, c_origin,
                        c_parent_cap, size):  # pragma: no cover - compiled  # fmt: skip
    r = size
    top = last_id
    for x in range(firms.size):
        f = firms[x]
        v = ids[f]
        if v <= last_id:
            continue
        if r >= c_id.size:
            return -1, top  # no room: the caller grows the columns and asks again (the same rows, the same values)
        p = parent[f]
        c_id[r] = v
        c_parent[r] = p
        c_born[r] = step
        c_exited[r] = -1
        c_cause[r] = -1
        c_origin[r] = 0 if step == 0 else (1 if p >= 0 else 2)
        found = np.nan
        if p >= 0:
            k = np.searchsorted(ids, p)
            if k < ids.size and ids[k] == p:
                found = cap[k]
        c_parent_cap[r] = found
        top = max(top, v)
        r += 1
    return r, top


def lifecycle_entrants(firms: np.ndarray, ids: np.ndarray, parent: np.ndarray, cap: np.ndarray, last_id: int, step: int,
                       cols: dict[str, np.ndarray], size: int) -> tuple[int, int]:  # fmt: skip
    """The lifecycles' rows of the ``firms`` whose id is above ``last_id`` (those not seen before), written from
    row ``size`` on in slot order into ``cols`` (the columns of :class:`clusterup.recorder.Lifecycles`), in one
    pass: id, parent, born (``step``), exited and cause (-1), origin (0 at step 0, 1 a spin-off, 2 a newcomer)
    and the parent's capability (found by binary search: ``ids``, the slots' ids, must ascend; NaN where the
    parent has no slot). Returns the rows used (-1 where the columns have no room: grow them and ask again) and
    the largest id seen."""
    r, top = _lifecycle_entrants(firms, ids, parent, cap, int(last_id), int(step), cols["id"], cols["parent"],
                                 cols["born"], cols["exited"], cols["cause"], cols["origin"], cols["parent_capability"],
                                 int(size))  # fmt: skip
    return int(r), int(top)


@kernel
def lifecycle_exits(c_id, size, gone, cause, c_exited, c_cause, step):  # pragma: no cover - compiled
    """The lifecycles' exits of the step, in place: the row of each id of ``gone`` among the first ``size`` of
    ``c_id`` (which must ascend; ids never recorded are skipped) gets ``step`` and its ``cause``."""
    rows = c_id[:size]
    for x in range(gone.size):
        k = np.searchsorted(rows, gone[x])
        if k < size and rows[k] == gone[x]:
            c_exited[k] = step
            c_cause[k] = cause[x]


@kernel
def count_firms(values, firms, threshold, strict):  # pragma: no cover - compiled
    """How many of the ``firms`` have ``values`` above ``threshold`` (``strict``) or at least it: one pass, for
    a recorder column (``int((values[firms] > threshold).sum())``)."""
    count = 0
    for x in range(firms.size):
        v = values[firms[x]]
        if v > threshold or (not strict and v == threshold):
            count += 1
    return count


@kernel
def older(age, firms):  # pragma: no cover - compiled
    """``age[firms] += 1`` (the firms distinct), in place: the step's start."""
    for x in range(firms.size):
        age[firms[x]] += 1


@kernel
def open_organisations(kind, active, of_kind, deg, capacity):  # pragma: no cover - compiled
    """The slots of the active organisations (kind not 0, a firm's) of a kind that ``of_kind`` marks whose degree
    ``deg`` is below their ``capacity``, ascending: ``orgs[deg[orgs] < capacity[orgs]]`` with ``orgs = ((kind !=
    0) & active & of_kind[kind]).nonzero()[0]``, in one pass."""
    out = np.empty(kind.size, np.int64)
    count = 0
    for s in range(kind.size):
        k = kind[s]
        if k != 0 and active[s] and of_kind[k] and deg[s] < capacity[s]:
            out[count] = s
            count += 1
    return out[:count].copy()


@kernel
def tied_to(i, j, node):  # pragma: no cover - compiled
    """The nodes tied to ``node`` in a layer with tie ends ``i``, ``j``: ``np.concatenate([i[j == node], j[i ==
    node]])`` (those on the lower end first, each part in tie order), in two passes without temporaries."""
    count = 0
    for t in range(i.size):
        if j[t] == node or i[t] == node:
            count += 1
    out = np.empty(count, np.int64)
    r = 0
    for t in range(i.size):
        if j[t] == node:
            out[r] = i[t]
            r += 1
    for t in range(i.size):
        if i[t] == node:
            out[r] = j[t]
            r += 1
    return out


@kernel
def log_growth(z, profit, firms, shock, half_square):  # pragma: no cover - compiled
    """The market's log growth of each firm's scale: ``shock * z - half_square``, no more than 0 where the firm's
    ``profit`` is negative (``np.where(profit[firms] < 0, np.minimum(g, 0.0), g)``, NaN kept), in one pass."""
    out = np.empty(firms.size)
    for x in range(firms.size):
        g = shock * z[x] - half_square
        if profit[firms[x]] < 0:
            g = g if g <= 0.0 or g != g else 0.0
        out[x] = g
    return out


@kernel
def scale_by(out, firms, scale, factor):  # pragma: no cover - compiled
    """``out[firms] = scale * factor`` (the firms distinct), in place, in one pass."""
    for x in range(firms.size):
        out[firms[x]] = scale[x] * factor[x]


@kernel
def where_below(firms, u, p):  # pragma: no cover - compiled
    """``firms[u < p]`` in one pass: the firms whose draw falls below the chance ``p`` (one for all)."""
    count = 0
    for x in range(firms.size):
        if u[x] < p:
            count += 1
    out = np.empty(count, np.int64)
    r = 0
    for x in range(firms.size):
        if u[x] < p:
            out[r] = firms[x]
            r += 1
    return out


@kernel
def licence_due(i, j, fee, scale):  # pragma: no cover - compiled
    """What each imitator ``i`` owes its model ``j``: ``fee[j] * s`` with ``s`` the imitator's scale (1 before its
    first market: ``market.per_scale``), and whether any is owed (``.any()``), in one pass."""
    out = np.empty(i.size)
    owed = False
    for x in range(i.size):
        s = scale[i[x]]
        v = fee[j[x]] * (s if s > 0 else 1.0)
        out[x] = v
        if v != 0:
            owed = True
    return out, owed


@kernel
def _choice_inputs(firms, mode, none, revenue, wealth, scale, share_exponent, horizon, modes):  # pragma: no cover
    n = firms.size
    for s in range(mode.size):
        mode[s] = none
    r = np.empty(n)
    value = np.empty(n)
    w = np.empty(n)
    sc = np.empty(n)
    for x in range(n):
        f = firms[x]
        r[x] = revenue[f]
        value[x] = revenue[f] * share_exponent * horizon
        w[x] = wealth[f]
        v = scale[f]
        sc[x] = v if v > 0 else 1.0
    utility = np.full((n, modes), -np.inf)
    for x in range(n):
        utility[x, none] = 0.0
    return pairwise_sum(r, 0, n) / n, value, w, sc, utility, np.zeros((n, modes))


def choice_inputs(firms: np.ndarray, mode: np.ndarray, none: int, revenue: np.ndarray, wealth: np.ndarray,
                  scale: np.ndarray, share_exponent: float, horizon: float, modes: int) -> tuple:  # fmt: skip
    """What the mode choice starts from, in one pass (the definition: ``ModeChoice.step_numpy``): every slot's
    ``mode`` set to ``none``; the firms' mean revenue (NumPy's pairwise sum over their count), each firm's
    ``value = revenue * share_exponent * horizon``, its cash, its scale (1 before its first market:
    ``market.per_scale``), the (firms x ``modes``) utilities, ``-inf`` but 0 for ``none``, and zero costs.
    Needs at least one firm."""
    return _choice_inputs(firms, mode, int(none), revenue, wealth, scale, float(share_exponent), float(horizon),
                          int(modes))  # fmt: skip


@kernel
def _spill_apply(inflow, best_gap, ceil, a, is_firm, openness):  # pragma: no cover - compiled
    for s in range(inflow.size):
        v = inflow[s] * openness
        h = 0.999 * ceil[s] - a[s]
        h = h if h >= 0.0 or h != h else 0.0  # np.maximum(h, 0.0)
        g = best_gap[s]
        v = v if v <= g or v != v else g  # np.minimum(v, best_gap): NaN from either side
        v = v if v <= h or v != v else h  # np.minimum(v, headroom)
        if not is_firm[s]:
            v = 0.0
        inflow[s] = v
        a[s] = a[s] + v
    return pairwise_sum(inflow, 0, inflow.size)


def spill_apply(inflow: np.ndarray, best_gap: np.ndarray, ceil: np.ndarray, a: np.ndarray, is_firm: np.ndarray,
                openness: float) -> float:
    """The spillovers' gains, in place, in one pass (the definition: ``Spillover.step_numpy``): ``inflow *=
    openness``, capped at the best gap and at the headroom ``max(0.999 * ceil - a, 0)``, 0 for all but firms,
    added to the capabilities ``a``; returns their sum (NumPy's pairwise sum over every slot)."""
    return float(_spill_apply(inflow, best_gap, ceil, a, is_firm, float(openness)))


@kernel
def _spillover(a, g, protection, ceil, is_firm, openness, cross, r0, p0, i0, d0, r1, p1, i1, d1, r2, p2, i2,
               d2):  # pragma: no cover - compiled  # fmt: skip
    n = a.size
    leak = np.empty(n)
    for s in range(n):
        leak[s] = 1.0 - protection[s]
    src = np.empty((n, 4))
    _spill_sources(a, g, leak, src)
    inflow = np.zeros(n)
    best_gap = np.zeros(n)
    if r0 > 0 and i0.size:
        _spill_rows(p0, i0, d0, src, r0, cross, inflow, best_gap, 0, n)
    if r1 > 0 and i1.size:
        _spill_rows(p1, i1, d1, src, r1, cross, inflow, best_gap, 0, n)
    if r2 > 0 and i2.size:
        _spill_rows(p2, i2, d2, src, r2, cross, inflow, best_gap, 0, n)
    return _spill_apply(inflow, best_gap, ceil, a, is_firm, openness)


def spillover(a: np.ndarray, g: np.ndarray, protection: np.ndarray, ceil: np.ndarray, is_firm: np.ndarray,
              openness: float, cross: float, rates: list[float], adjs: list) -> float:
    """The spillovers of a step in one compiled call: each layer's inflow with a positive rate
    (:func:`spill`, ``leak = 1 - protection``, the layers in the order given) and the gains applied
    (:func:`spill_apply`), in place; returns their sum. Serial: for networks below :data:`PARALLEL_ROWS` nodes."""
    args = [x for rate, adj in zip(rates, adjs, strict=True) for x in (float(rate), adj.indptr, adj.indices, adj.data)]
    return float(_spillover(a, np.ascontiguousarray(g), protection, ceil, is_firm, float(openness), float(cross), *args))


@kernel
def two_sums(firms, x, y):  # pragma: no cover - compiled
    """``(x[firms].sum(), y[firms].sum())`` with NumPy's pairwise sums, gathering each once."""
    gx = np.empty(firms.size)
    gy = np.empty(firms.size)
    for k in range(firms.size):
        gx[k] = x[firms[k]]
        gy[k] = y[firms[k]]
    return pairwise_sum(gx, 0, firms.size), pairwise_sum(gy, 0, firms.size)


@kernel
def _top_generation(g, kind, active):  # pragma: no cover - compiled
    top = 0  # the top generation among active firms (0 without firms)
    for f in range(g.size):
        if active[f] and kind[f] == 0 and g[f] > top:
            top = g[f]
    return top


@kernel
def _integrated_rows(novelty, rd, cap, g, ceil, nxt, kind, active, k_indptr, k_indices, k_strength, success,
                     rd_half_pow, rd_exponent, power, follower, novelty_ref, capability_half, network_half,
                     pioneer_power, reach, beyond, out, top, lo, hi):  # pragma: no cover - compiled  # fmt: skip
    follows = follower != power
    for f in range(lo, hi):
        firm = active[f] and kind[f] == 0
        m = cap[f] / ceil[f] if firm else 0.0  # mastery, clipped to [0, 1]
        m = _clip_unit(m)
        ahead = False  # a knowledge partner holds a higher generation
        if follows:
            for p in range(k_indptr[f], k_indptr[f + 1]):
                if g[k_indices[p]] > g[f]:
                    ahead = True
                    break
        c = success * _hill(rd[f], rd_half_pow, rd_exponent) * _power(m, follower if ahead else power)
        c = c * _below_one(novelty[f] / novelty_ref)
        if capability_half > 0:
            c = c * (cap[f] / (cap[f] + capability_half))
        if network_half > 0:
            c = c * (k_strength[f] / (k_strength[f] + network_half))
        if pioneer_power > 0 and firm and g[f] + 1 > top and nxt[f] > reach:  # a generation new to the world
            c = c * (0.0 if nxt[f] > beyond else _power(reach / nxt[f], pioneer_power))
        out[f] = c


@kernel
def _integrated_chance(novelty, rd, cap, g, ceil, nxt, kind, active, k_indptr, k_indices, k_strength, success,
                       rd_half_pow, rd_exponent, power, follower, novelty_ref, capability_half, network_half,
                       pioneer_power, reach, beyond, out):  # pragma: no cover - compiled  # fmt: skip
    _integrated_rows(novelty, rd, cap, g, ceil, nxt, kind, active, k_indptr, k_indices, k_strength, success, rd_half_pow,
                     rd_exponent, power, follower, novelty_ref, capability_half, network_half, pioneer_power, reach,
                     beyond, out, _top_generation(g, kind, active), 0, out.size)  # fmt: skip


def integrated_chance(novelty: np.ndarray, rd: np.ndarray, cap: np.ndarray, g: np.ndarray, ceil: np.ndarray,
                      nxt: np.ndarray, kind: np.ndarray, active: np.ndarray, knowledge: CSR | None,
                      k_strength: np.ndarray | None, *, success: float, rd_half: float, rd_exponent: float,
                      power: float, follower: float, novelty_ref: float, capability_half: float,
                      network_half: float, pioneer_power: float, reach: float, beyond: float) -> np.ndarray:  # fmt: skip
    """Integrated innovation's success chance per slot in one pass (the definition:
    ``IntegratedInnovation.success_chance_numpy``): ``success * R(rd) * mastery ** power * min(1, novelty /
    novelty_ref)`` (``follower`` in place of ``power`` where a ``knowledge`` partner holds a higher
    generation), times ``cap / (cap + capability_half)`` and ``k_strength / (k_strength + network_half)``
    where those are on, and for a firm whose next generation (ceiling ``nxt``) is beyond ``reach`` and above
    the top one, ``(reach / nxt) ** pioneer_power`` (0 where ``nxt`` is beyond ``beyond``). ``knowledge`` is
    read only where ``follower != power``, ``k_strength`` only where ``network_half > 0``."""
    out = np.empty(cap.size)
    if knowledge is None:
        indptr, indices = np.zeros(cap.size + 1, np.int64), np.empty(0, np.int64)
    else:
        indptr, indices = knowledge.indptr, knowledge.indices
    args = (novelty, rd, cap, g, ceil, nxt, kind, active, indptr, indices,
            np.empty(0) if k_strength is None else k_strength, float(success), float(rd_half) ** rd_exponent,
            float(rd_exponent), float(power), float(follower), float(novelty_ref), float(capability_half),
            float(network_half), float(pioneer_power), float(reach), float(beyond), out)  # fmt: skip
    if _parallel(cap.size, items=True):  # the top generation first, then the rows in shares
        _by_rows(_integrated_rows, cap.size, *args, _top_generation(g, kind, active))
    else:
        _integrated_chance(*args)
    return out


@kernel
def _local_rows(k_indptr, k_indices, k_data, kind, platform, econ, know, novelty, rd, cap, ceil, success,
                rd_half_pow, rd_exponent, support_base, support_half, knowledge_support, novelty_weight,
                novelty_ref, rate, chance, gain, lo, hi):  # pragma: no cover - compiled  # fmt: skip
    with_gain = gain.size > 0
    for f in range(lo, hi):
        to_platforms = 0.0  # knowledge-tie strength to service platforms
        for p in range(k_indptr[f], k_indptr[f + 1]):
            if kind[k_indices[p]] == platform:
                to_platforms += k_data[p]
        ties = econ[f] + knowledge_support * know[f] + to_platforms
        support = support_base + (1.0 - support_base) * ties / (ties + support_half)
        rigidity = (1.0 - novelty_weight) + novelty_weight * _below_one(novelty[f] / novelty_ref)
        c = success * _hill(rd[f], rd_half_pow, rd_exponent) * support * rigidity
        chance[f] = c
        if with_gain:  # c times the relative logistic gain, rate * (1 - a / ceiling) (never negative)
            a = cap[f]
            head = 1.0 - a / ceil[f]
            if head < 0.0:
                head = 0.0
            gain[f] = c * (rate * a * head / (a if a > 0 else 1.0))


def local_chance(knowledge: CSR, kind: np.ndarray, platform: int, econ: np.ndarray, know: np.ndarray,
                 novelty: np.ndarray, rd: np.ndarray, cap: np.ndarray | None = None, ceil: np.ndarray | None = None,
                 *, success: float, rd_half: float, rd_exponent: float, support_base: float, support_half: float,
                 knowledge_support: float, novelty_weight: float, novelty_ref: float,
                 rate: float = 0.0) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """Local innovation's success chance per slot in one pass (the definition:
    ``LocalInnovation.success_chance_numpy``): ``success * R(rd) * support * rigidity``, support from
    economic and knowledge-tie strength and the knowledge ties to service platforms (``kind == platform``),
    rigidity from the reachable novelty. With ``cap`` and ``ceil``, also the expected relative gain, the
    chance times ``rate * a * max(1 - a / ceil, 0) / a`` (``/ 1`` where ``a <= 0``). Returns (chance, gain or
    None)."""
    chance = np.empty(kind.size)
    gain = np.empty(0 if cap is None else kind.size)
    _row_kernel(_local_rows, kind.size, knowledge.indptr, knowledge.indices, knowledge.data, kind,
                int(platform), econ, know, novelty, rd, np.empty(0) if cap is None else cap,
                np.empty(0) if ceil is None else ceil, float(success), float(rd_half) ** rd_exponent, float(rd_exponent),
                float(support_base), float(support_half), float(knowledge_support), float(novelty_weight),
                float(novelty_ref), float(rate), chance, gain, items=True)  # fmt: skip
    return chance, (gain if cap is not None else None)


@kernel
def _imitation_models_rows(model, strength, cap, kind, active, psi, factor, absorb, phi, lo, hi):  # pragma: no cover
    for f in range(lo, hi):
        m = model[f]
        if m >= 0 and active[f] and kind[f] == 0:
            b = _power(cap[f] / cap[m], psi)  # absorption falls with backwardness
            absorb[f] = b
            phi[f] = factor * b * strength[f]
        else:
            model[f] = -1
            absorb[f] = 0.0
            phi[f] = 0.0


def imitation_models(model: np.ndarray, strength: np.ndarray, cap: np.ndarray, kind: np.ndarray, active: np.ndarray,
                     psi: float, factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Imitation's model per slot (``-1`` where there is none or the slot is not an active firm, in place),
    absorption ``(a / a[model]) ** psi`` and the share of the gap closed, ``factor * absorption * strength``
    (0 without a model). Returns (model, phi, absorption)."""
    absorb = np.empty(model.size)
    phi = np.empty(model.size)
    _row_kernel(_imitation_models_rows, model.size, model, strength, cap, kind, active, float(psi),
                float(factor), absorb, phi, items=True)
    return model, phi, absorb


@kernel
def _imitation_gain_rows(model, phi, absorb, cap, g, transfer, growth, dip, success, out, lo, hi):  # pragma: no cover
    for f in range(lo, hi):
        m = model[f]
        gain = 0.0
        if m >= 0:
            gain = phi[f] * (cap[m] - cap[f]) / cap[f]
            dg = g[m] - g[f]
            if dg > 0:  # the model's higher generation may pass on: its ceiling, less the switching dip
                up = _power(growth, float(dg)) * dip - 1.0
                if up < 0.0:
                    up = 0.0
                gain = gain + transfer * absorb[f] * up
        out[f] = success * gain


def imitation_gain(model: np.ndarray, phi: np.ndarray, absorb: np.ndarray, cap: np.ndarray, g: np.ndarray,
                   transfer: float, growth: float, dip: float, success: float) -> np.ndarray:  # fmt: skip
    """Imitation's expected relative gain per slot: ``success * (phi * (a[model] - a) / a + transfer *
    absorption * max(growth ** dg * dip - 1, 0))`` where the model is ``dg > 0`` generations ahead (the
    second term only there), 0 without a model."""
    out = np.empty(model.size)
    _row_kernel(_imitation_gain_rows, model.size, model, phi, absorb, cap, g, float(transfer),
                float(growth), float(dip), float(success), out, items=True)
    return out


# --- demography (the same numbers as its NumPy form, kept in tests/test_process_kernels.py) ----------------------


@kernel
def _exit_scan(firms, capability, wealth, ids, exit_wealth, exit_gap):  # pragma: no cover - compiled
    """The firms that exit (slots ``firms``, a firm: a slot): cash below ``exit_wealth`` (cause 0) or else
    capability below ``exit_gap`` times the firms' mean, NumPy's pairwise mean (cause 1). Returns (their slots,
    their ids, their causes as int8), in the order of ``firms``."""
    n = firms.size
    a = np.empty(n)
    for x in range(n):
        a[x] = capability[firms[x]]
    floor = exit_gap * (pairwise_sum(a, 0, n) / n)
    why = np.zeros(n, np.int8)  # 1: losses, 2: lagging (only); 0: stays
    count = 0
    for x in range(n):
        if wealth[firms[x]] < exit_wealth:
            why[x] = 1
            count += 1
        elif a[x] < floor:
            why[x] = 2
            count += 1
    gone = np.empty(count, np.int64)
    gone_ids = np.empty(count, np.int64)
    cause = np.empty(count, np.int8)
    k = 0
    for x in range(n):
        if why[x]:
            gone[k] = firms[x]
            gone_ids[k] = ids[firms[x]]
            cause[k] = why[x] - 1
            k += 1
    return gone, gone_ids, cause


@kernel
def _exits(firms, capability, wealth, ids, exit_wealth, exit_gap, pipeline, n, k0, w0, k1, w1, k2, w2,
           bits):  # pragma: no cover - compiled  # fmt: skip
    gone, gone_ids, cause = _exit_scan(firms, capability, wealth, ids, exit_wealth, exit_gap)
    mark = np.zeros(n, np.bool_)
    for f in gone:
        mark[f] = True
        pipeline[f] = 0.0
    k0, w0, d0 = _without_nodes(k0, w0, mark, bits)
    k1, w1, d1 = _without_nodes(k1, w1, mark, bits)
    k2, w2, d2 = _without_nodes(k2, w2, mark, bits)
    return gone, gone_ids, cause, k0, w0, d0 > 0, k1, w1, d1 > 0, k2, w2, d2 > 0


def exits(firms: np.ndarray, pop, layers: list, exit_wealth: float, exit_gap: float, bits: int) -> tuple:
    """The firms that exit (:func:`_exit_scan`) with their pipelines closed and every tie that touches them
    removed from the ``layers`` (:func:`without_nodes`), in one compiled call. Returns (their slots, their ids,
    their causes) and per layer its new keys and strengths, or None where no tie of it touched them."""
    gone, ids, cause, *ties = _exits(firms, pop.capability, pop.wealth, pop.id, float(exit_wealth),
                                     float(exit_gap), pop.pipeline, int(pop.n), *(x for lay in layers for x in
                                     (lay.keys, lay.w)), np.int64(bits))  # fmt: skip
    return gone, ids, cause, [(ties[3 * k], ties[3 * k + 1]) if ties[3 * k + 2] else None for k in range(len(layers))]


@kernel
def _entrants(new, parent, spin, segment_draw, noise, entrant_capability, entrant_wealth, town_spread, capability,
              generation, knowledge, rd, wealth, parent_id, segment, x, y, ids):  # pragma: no cover  # fmt: skip
    """The entrants' fields in slots ``new`` from their models in slots ``parent`` (the slots must differ), in
    place: ``entrant_capability`` of the model's capability, its generation, knowledge and R&D propensity, cash
    ``entrant_wealth``; a spin-off (``spin``) records its parent's id, takes its segment and is placed within
    ``town_spread`` of it, a newcomer takes ``segment_draw``'s segment, no parent and a spread of 0.3 around
    its model; places are clipped to the unit square (``noise``: a standard normal pair per entrant)."""
    dims = knowledge.shape[1]
    for k in range(new.size):
        f = new[k]
        m = parent[k]
        capability[f] = entrant_capability * capability[m]
        generation[f] = generation[m]
        for d in range(dims):
            knowledge[f, d] = knowledge[m, d]
        rd[f] = rd[m]
        wealth[f] = entrant_wealth
        parent_id[f] = ids[m] if spin[k] else -1
        segment[f] = segment[m] if spin[k] else segment_draw[k]
        spread = town_spread if spin[k] else 0.3
        x[f] = _clip_unit(x[m] + spread * noise[k, 0])
        y[f] = _clip_unit(y[m] + spread * noise[k, 1])


@kernel
def _entrant_models(firms, profit_avg, spin_u, weight_u, pick, spinoff_share):  # pragma: no cover - compiled
    n = firms.size
    count = spin_u.size
    cdf = np.empty(n)  # rng.weighted_draws: merit / merit.sum() (NumPy's pairwise sum), summed up, over its last
    for x in range(n):
        v = profit_avg[firms[x]]
        cdf[x] = (v if (v > 0.0 or v != v) else 0.0) + 1e-12  # np.maximum(v, 0.0) + 1e-12 (NaN kept)
    total = pairwise_sum(cdf, 0, n)
    run = 0.0
    for x in range(n):
        run += cdf[x] / total
        cdf[x] = run
    last = cdf[n - 1]
    for x in range(n):
        cdf[x] /= last
    drawn = np.searchsorted(cdf, weight_u, side="right")
    spin = np.empty(count, dtype=np.bool_)
    parent = np.empty(count, dtype=np.int64)
    for k in range(count):
        spin[k] = spin_u[k] < spinoff_share
        parent[k] = firms[drawn[k]] if spin[k] else firms[pick[k]]
    return spin, parent


def entrant_models(firms: np.ndarray, profit_avg: np.ndarray, spin_u: np.ndarray, weight_u: np.ndarray,
                   pick: np.ndarray, spinoff_share: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Which entrants are spin-offs (``spin_u < spinoff_share``) and each entrant's model: for a spin-off the
    incumbent that ``weight_u``'s uniform picks with weights ``max(profit_avg, 0) + 1e-12`` over ``firms``
    (:func:`~clusterup.rng.weighted_draws`' cumulative sum and search), for a newcomer ``firms[pick]``. The
    numbers of ``np.where(spin, firms[weighted_draws(...)], firms[pick])`` from the same uniforms."""
    return _entrant_models(firms, profit_avg, spin_u, weight_u, pick, float(spinoff_share))


@kernel
def _entrant_friends(indptr, indices, parent, new, u, per):  # pragma: no cover - compiled
    count = parent.size * per
    src = np.empty(count, dtype=np.int64)
    friend = np.empty(count, dtype=np.int64)
    kept = 0
    for x in range(count):  # row x: the entrant x // per and a uniformly drawn neighbour of its model
        m = parent[x // per]
        deg = indptr[m + 1] - indptr[m]
        if deg > 0:
            f = np.int64(indices[indptr[m] + _uniform_index(u[x], deg)])
            if f != new[x // per]:
                src[kept] = new[x // per]
                friend[kept] = f
                kept += 1
    return src[:kept], friend[:kept]


def entrant_friends(adj, parent: np.ndarray, new: np.ndarray, u: np.ndarray, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Ties an entrant inherits from its model: for each entrant ``per`` neighbours of its model in ``adj`` (its
    rows of the parents at least), drawn with ``u`` (one uniform per pair, entrant by entrant) as
    ``kernels.random_neighbour`` draws them; pairs without a neighbour, or with the entrant itself, left out.
    Returns (entrants, friends), as ``np.repeat`` of the entrants and models and that mask give them."""
    return _entrant_friends(adj.indptr, adj.indices, parent, new, u, int(per))


@kernel
def _entries(rng, firms, profit_avg, count, spinoff_share, segments, new, entrant_capability, entrant_wealth,
             town_spread, capability, generation, knowledge, rd, wealth, parent_id, segment, x, y, ids, keys, w, n,
             per, bits):  # pragma: no cover - compiled  # fmt: skip
    spin, parent = _entrant_models(firms, profit_avg, rng.random(count), rng.random(count),
                                   rng.integers(0, firms.size, count), spinoff_share)  # fmt: skip
    noise = rng.standard_normal(count * 2).reshape((count, 2))  # standard_normal((count, 2)): the same draws
    _entrants(new, parent, spin, rng.integers(0, segments, count), noise, entrant_capability, entrant_wealth,
              town_spread, capability, generation, knowledge, rd, wealth, parent_id, segment, x, y, ids)  # fmt: skip
    strength = np.empty(count)
    for k in range(count):
        strength[k] = 1.0 if spin[k] else 0.5
    base = np.int64(1) << bits
    new_k, new_w, added = _add_max(keys, w, new, parent, strength, base)
    if added:
        keys, w = new_k, new_w
    if per > 0:
        ends_i, ends_j = _key_ends(keys, bits)
        indptr = np.zeros(n + 1, np.int64)
        indices = _sym_rows(ends_i, ends_j, n, parent, indptr)  # the parents' rows: who is tied to them now
        src, friends = _entrant_friends(indptr, indices, parent, new, rng.random(count * per), per)
        new_k, new_w, more = _add_max(keys, w, src, friends, np.full(1, 0.5), base)
        if more:
            keys, w, added = new_k, new_w, True
    return keys, w, added


def entries(rng: np.random.Generator, pop, firms: np.ndarray, new: np.ndarray, keys: np.ndarray, w: np.ndarray, *,
            spinoff_share: float, segments: int, entrant_capability: float, entrant_wealth: float, town_spread: float,
            entrant_ties: int, bits: int) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """The entrants in slots ``new`` (added to ``pop`` already), in one compiled call with their draws (``rng``,
    in NumPy's order and numbers): their models (:func:`entrant_models`), their fields (:func:`_entrants`, the
    normal pairs drawn as ``rng.standard_normal((count, 2))``), a social tie to the model (strength 1 for a
    spin-off, 0.5 for a newcomer) and ``entrant_ties - 1`` ties (0.5) to the model's neighbours
    (:func:`entrant_friends` on the layer as it is then). Returns the social layer's new keys and strengths
    (``keys``, ``w``: the layer's, keys ``i << bits | j``), or None where no tie was added: what the calls
    one by one made, bit for bit (tests/test_process_kernels.py holds the NumPy form to it)."""
    out_k, out_w, added = _entries(rng, firms, pop.profit_avg, int(new.size), float(spinoff_share), int(segments),
                                   new, float(entrant_capability), float(entrant_wealth), float(town_spread),
                                   pop.capability, pop.generation, pop.knowledge, pop.rd, pop.wealth, pop.parent,
                                   pop.segment, pop.x, pop.y, pop.id, keys, w, int(pop.n), max(int(entrant_ties) - 1, 0),
                                   np.int64(bits))  # fmt: skip
    return (out_k, out_w) if added else None


# --- the market (the same numbers as its NumPy form, kept in tests/test_process_kernels.py) ------------------------


@kernel
def _market(firms, powered, rent, scale_of, wealth, rd, revenue_out, profit_out, demand, level, rent_decay,
            rent_premium, rent_shield, fixed_cost, rd_cost, payout, entrant_scale, scaled):  # pragma: no cover  # fmt: skip
    n = firms.size
    weight = np.empty(n)
    for x in range(n):
        f = firms[x]
        rent[f] = rent[f] * (1.0 - rent_decay)
        weight[x] = powered[x] * (1.0 + rent_premium * rent[f])
    scale = np.empty(n if scaled else 0)
    if scaled:  # each firm's scale, mean 1 over firms; an entrant (scale 0) starts at entrant_scale of the mean
        new = 0
        for x in range(n):
            scale[x] = scale_of[firms[x]]
            if scale[x] <= 0:
                new += 1
        if new == n:
            scale[:] = 1.0
        elif new > 0:
            old = np.empty(n - new)
            k = 0
            for x in range(n):
                if scale[x] > 0:
                    old[k] = scale[x]
                    k += 1
            start = entrant_scale * (pairwise_sum(old, 0, old.size) / old.size)
            for x in range(n):
                if scale[x] <= 0:
                    scale[x] = start
                    f = firms[x]
                    wealth[f] = wealth[f] * entrant_scale
        mean = pairwise_sum(scale, 0, n) / n
        for x in range(n):
            scale[x] = scale[x] / mean
            scale_of[firms[x]] = scale[x]
            weight[x] = weight[x] * scale[x]
    else:
        for x in range(n):
            scale_of[firms[x]] = 1.0
    total = pairwise_sum(weight, 0, n)
    shield = rent_shield > 0 and 0 < level < 1
    for x in range(n):
        f = firms[x]
        r = demand * weight[x] / total if total > 0 else demand / n
        if shield:  # own innovations keep their buyers when the cluster lags
            r = r * (1.0 + _below_one(rent_shield * rent[f]) * (1.0 - level) / level)
        fixed = fixed_cost * scale[x] if scaled else fixed_cost
        pr = r - fixed - rd_cost * rd[f] * r
        revenue_out[f] = r
        profit_out[f] = pr
        wealth[f] = wealth[f] + ((1.0 - payout) * pr if pr > 0 else pr)
    return scale


def market_step(firms: np.ndarray, powered: np.ndarray, rent: np.ndarray, scale: np.ndarray, wealth: np.ndarray,
                rd: np.ndarray, revenue: np.ndarray, profit: np.ndarray, demand: float, level: float, *,
                rent_decay: float, rent_premium: float, rent_shield: float, fixed_cost: float, rd_cost: float,
                payout: float, entrant_scale: float, scaled: bool) -> np.ndarray | None:  # fmt: skip
    """The market's pass over the firms (slots ``firms``), in place on the population's fields: rents decay,
    weights ``powered * (1 + rent_premium * rent)`` (``powered``: capability to the share exponent, per firm),
    with ``scaled`` the firms' scales (entrants at ``entrant_scale`` of the mean, their cash with it, then all
    over their mean) as weights and fixed costs, revenues (with the rent shield where the cluster lags),
    profits and cash. Returns the scales (None without ``scaled``; every scale is then 1). The operations,
    their order and NumPy's pairwise sums are those of the NumPy form, so the numbers are the same."""
    out = _market(firms, powered, rent, scale, wealth, rd, revenue, profit, float(demand), float(level),
                  float(rent_decay), float(rent_premium), float(rent_shield), float(fixed_cost), float(rd_cost),
                  float(payout), float(entrant_scale), bool(scaled))  # fmt: skip
    return out if scaled else None


# --- R&D learning (the same numbers as its NumPy form, kept in tests/test_process_kernels.py) ---------------------


@kernel
def _profit_avg_rows(firms, profit, profit_avg, memory, lo, hi):  # pragma: no cover - compiled
    keep = 1 - memory
    for x in range(lo, hi):
        f = firms[x]
        profit_avg[f] = keep * profit_avg[f] + memory * profit[f]


@kernel
def _rd_review_rows(firms, who, profit_avg, indptr, indices, u, strangers, kind, scale, rd, z, peers, imitation,
                    mutation, minimum, new, lo, hi):  # pragma: no cover - compiled  # fmt: skip
    for r in range(lo, hi):
        f = who[r]
        best = -1
        top = 0.0
        for c in range(peers):  # the most profitable of its peers: a random tie partner that is a firm, else a stranger
            t = r * peers + c
            start = indptr[f]
            deg = indptr[f + 1] - start
            p = indices[start + _uniform_index(u[t], deg)] if deg > 0 else -1
            if p < 0 or kind[p] != 0:
                p = firms[strangers[t]]
            e = profit_avg[p] / (scale[p] if scale[p] > 0 else 1.0)  # what a strategy earns, whatever the size
            if best < 0 or e > top or (e != e and top == top):  # np.argmax: the first maximum, a NaN first of all
                best, top = p, e
            if top != top:
                break
        own = profit_avg[f] / (scale[f] if scale[f] > 0 else 1.0)
        v = rd[f]
        if top > own:  # a more profitable peer: move toward its R&D
            v = v + imitation * (rd[best] - v)
        v = v + mutation * z[r]
        if v < minimum:
            v = minimum
        if v > 1.0:
            v = 1.0
        new[r] = v


@kernel
def _rd_review(firms, who, profit, profit_avg, memory, indptr, indices, u, strangers, kind, scale, rd, z, peers,
               imitation, mutation, minimum):  # pragma: no cover - compiled  # fmt: skip
    _profit_avg_rows(firms, profit, profit_avg, memory, 0, firms.size)
    new = np.empty(who.size)
    _rd_review_rows(firms, who, profit_avg, indptr, indices, u, strangers, kind, scale, rd, z, peers, imitation,
                    mutation, minimum, new, 0, who.size)  # fmt: skip
    for r in range(who.size):  # the peers' R&D is read as it was before the step
        rd[who[r]] = new[r]


def rd_review(firms: np.ndarray, who: np.ndarray, profit: np.ndarray, profit_avg: np.ndarray, memory: float, adj,
              u: np.ndarray, strangers: np.ndarray, kind: np.ndarray, scale: np.ndarray, rd: np.ndarray,
              z: np.ndarray, peers: int, imitation: float, mutation: float, minimum: float) -> None:  # fmt: skip
    """R&D learning's step after its draws, in place: the firms' profit averages, then for each reviewing firm
    (``who``) the most profitable of ``peers`` peers (a random tie partner in ``adj`` drawn with ``u``, or where
    that is no firm the stranger ``firms[strangers]``), a move toward its R&D where it earns more, the
    experimentation ``mutation * z`` and the clip to ``[minimum, 1]``. The NumPy form's numbers, in one pass."""
    memory, peers, imitation, mutation, minimum = float(memory), int(peers), float(imitation), float(mutation), float(minimum)
    if not _parallel(max(firms.size, who.size), items=True):
        _rd_review(firms, who, profit, profit_avg, memory, adj.indptr, adj.indices, u, strangers, kind, scale, rd, z,
                   peers, imitation, mutation, minimum)  # fmt: skip
        return
    # the same three passes, each in shares over the cores: every average is in place before any review reads
    # it, and every review has read the R&D it copies before any is written
    _by_rows(_profit_avg_rows, firms.size, firms, profit, profit_avg, memory)
    new = np.empty(who.size)
    _by_rows(_rd_review_rows, who.size, firms, who, profit_avg, adj.indptr, adj.indices, u, strangers, kind, scale, rd,
             z, peers, imitation, mutation, minimum, new)  # fmt: skip
    rd[who] = new  # the reviewing firms are distinct


@kernel
def _rd_draws(firms, rng, review, peers):  # pragma: no cover - compiled
    # R&D learning's draws as the NumPy form makes them, in its order and sizes (a Generator in a kernel draws
    # NumPy's numbers and leaves the stream where NumPy would: tests/test_compiled.py)
    who = where_below(firms, rng.random(firms.size), review)
    if who.size:
        return who, rng.random(who.size * peers), rng.integers(0, firms.size, who.size * peers), rng.standard_normal(who.size)
    return who, np.empty(0), np.empty(0, np.int64), np.empty(0)


@kernel
def _rd_learn(firms, rng, review, profit, profit_avg, memory, indptr, indices, kind, scale, rd, peers, imitation,
              mutation, minimum):  # pragma: no cover - compiled  # fmt: skip
    who, u, strangers, z = _rd_draws(firms, rng, review, peers)
    _rd_review(firms, who, profit, profit_avg, memory, indptr, indices, u, strangers, kind, scale, rd, z, peers,
               imitation, mutation, minimum)  # fmt: skip


_NO_TIES = Neighbours(np.zeros(1, np.int64), np.empty(0, np.int64))  # no ties: rd_review where nobody reviews


def rd_learn(firms: np.ndarray, rng: np.random.Generator, review: float, ties: Callable[[], Any], profit: np.ndarray,
             profit_avg: np.ndarray, memory: float, kind: np.ndarray, scale: np.ndarray, rd: np.ndarray, peers: int,
             imitation: float, mutation: float, minimum: float) -> None:  # fmt: skip
    """R&D learning's whole step, its draws included, in place: ``who = where_below(firms, rng.random(firms.size),
    review)``; where anyone reviews, ``rng.random(who.size * peers)``, ``rng.integers(0, firms.size, who.size *
    peers)`` and ``rng.standard_normal(who.size)``; then :func:`rd_review` with those draws and the ties
    ``ties()`` gives (a CSR's rows, asked for only where it can be needed). Where :func:`rd_review` runs in one
    pass, all of it is one compiled call; else the draws come first and its parallel form follows. The same
    numbers and the same stream either way."""
    review, memory, imitation, mutation, minimum = float(review), float(memory), float(imitation), float(mutation), float(minimum)
    peers = int(peers)
    # rd_review's parallel form (who.size <= firms.size decides nothing more), or nobody reviews (no draw falls
    # below 0): the draws first, the ties only where someone reviews
    if review <= 0 or _parallel(firms.size, items=True):
        who, u, strangers, z = _rd_draws(firms, rng, review, peers)
        rd_review(firms, who, profit, profit_avg, memory, ties() if who.size else _NO_TIES, u, strangers, kind, scale,
                  rd, z, peers, imitation, mutation, minimum)  # fmt: skip
        return
    adj = ties()
    _rd_learn(firms, rng, review, profit, profit_avg, memory, adj.indptr, adj.indices, kind, scale, rd, peers,
              imitation, mutation, minimum)  # fmt: skip


# --- kernels compiled ahead of time (clusterup compile): handed to the dispatchers above where there are any -----

from .aot import attach  # noqa: E402 - it needs the dispatchers defined above

if _LEAN is None:
    attach(globals())
