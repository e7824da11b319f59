"""The recorder: indicators each step into preallocated columns (no copies of the state, but for the few
fields that measures taken behind the next step read: see :data:`BEHIND_FROM`).

The table's columns are the core indicators of the state (below, by group) and the columns the
schedule's processes declare; within each group the core indicators come first, then the processes'
columns in schedule order (docs/output-schema.md).
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import compiled
from . import indicators as ind
from .compiled import (
    CHANGED_SHARE,
    ascending,
    concurrently,
    firm_indicators,
    generation_counts,
    id_keys,
    layer_measures,
    lifecycle_entrants,
    lifecycle_exits,
    multiplex_pass,
    sorted_member,
    step_measures,
    triangles_since,
)
from .processes import GROUPS, Column
from .state import LAYERS, State, StepContext
from .state.multiplex import Layer
from .table import Table

if TYPE_CHECKING:
    import pandas as pd

    from .schedule import Schedule


# From this many slots on, each layer's triangles and giant share are calls of their own, to run side by side
# (compiled.concurrently); None: from compiled.PARALLEL_ROWS, read at each step (what changes that threshold,
# clusterup compile or benchmarks/threshold.py, changes this one too). Tests set it apart from the threads.
APART_FROM: int | None = None

# From BEHIND_FROM slots up to (not including) compiled.PARALLEL_ROWS, where the processes' kernels start to use
# every core, each step's measures (the layers' passes, triangles and components, the multiplex pass, the
# firm indicators: all but a few plain counts) are taken on a thread of the recorder's own while the next step
# runs, in one compiled call that releases the GIL (compiled.step_measures), and written into their row before
# anything reads the record (Recorder.settle): the same numbers. Only where more than one thread is allowed
# (compiled._threads(): NUMBA_NUM_THREADS, and one in a process pool's worker) and on the main thread. Below
# BEHIND_FROM, handing them over (some 40-50 us a step on a 2-core machine) costs more than it saves; from
# PARALLEL_ROWS on, the processes' kernels keep both cores busy and the recorder's calls run side by side at
# their turn (benchmarks/behind.py; docs/performance.md). None: never.
BEHIND_FROM: int | None = 1_000


class _Behind:
    """The recorder's thread: the calls handed to it (:meth:`submit`) run one after another, each one's result or
    error in its ``Future``. A daemon thread, unlike a ``ThreadPoolExecutor``'s, which the interpreter waits for
    at its exit: an interrupted command would wait there for the measures of a step that nobody will read, and on
    a cold kernel cache that thread may be compiling the measures' kernel (a minute or more on a busy machine).
    Every reader of the record waits for the measures it reads (``Recorder.settle``)."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="clusterup-recorder", daemon=True).start()

    def submit(self, fn: Any, *args: Any) -> Future:
        future: Future = Future()
        self._calls.put((future, fn, args))
        return future

    def _run(self) -> None:
        while True:
            future, fn, args = self._calls.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the reader, who raises it (Recorder.settle)
                future.set_exception(exc)
            else:
                future.set_result(result)


_recorder_thread: tuple[int, _Behind] | None = None  # (process id, its single thread)


def _one_by_one(calls: list) -> list:
    return [call() for call in calls]


def _worker() -> _Behind:
    """The recorder's thread (one per process: a forked child starts its own)."""
    global _recorder_thread
    if _recorder_thread is None or _recorder_thread[0] != os.getpid():
        _recorder_thread = (os.getpid(), _Behind())
    return _recorder_thread[1]


def _layer_columns() -> tuple[Column, ...]:
    per_layer = (("ties", "int", "undirected ties"), ("mean_degree", "float", "2 x ties / nodes"),
                 ("strength", "float", "sum of tie strengths"), ("share", "float", "share of all tie strength (dominance)"),
                 ("clustering", "float", "global transitivity"), ("giant", "float", "share of nodes in the largest component"),
                 ("turnover", "float", "1 - Jaccard similarity of the tie sets at this and the previous step"))  # fmt: skip
    return tuple(Column(f"{layer}_{x}", kind, f"{layer} layer: {what}", "network")
                 for layer in LAYERS for x, kind, what in per_layer)  # fmt: skip


CORE: dict[str, tuple[Column, ...]] = {
    "population": (
        Column("step", "int", "step number (one step = one quarter); 0 is the initial state", "population"),
        Column("n_firms", "int", "active firms at the end of the step", "population"),
    ),
    "capability": (
        Column("cap_mean", "float", "mean capability of firms", "capability"),
        Column("cap_median", "float", "median capability", "capability"),
        Column("cap_max", "float", "highest capability", "capability"),
        Column("cap_total", "float", "sum of capability: the cluster's overall innovation capability", "capability"),
        Column("cap_rel_frontier", "float", "cap_mean over the outside frontier A*", "capability"),
        Column("frontier", "float", "the frontier A* (after this step's growth)", "capability"),
    ),
    "gap": (
        Column("gap_cv", "float", "coefficient of variation of capability", "gap"),
        Column("gap_gini", "float", "Gini coefficient of capability", "gap"),
        Column("gap_top10", "float", "mean capability of the top 10% of firms over the mean of the other 90%", "gap"),
    ),
    "innovation": (),
    "generations": (
        Column("gen_max", "int", "highest technology generation any firm has", "generations"),
        Column("gen_mean", "float", "mean generation of firms", "generations"),
        Column("gen_top_share", "float", "share of firms on the highest generation present", "generations"),
        Column("gen_adopted", "float", "share of firms beyond generation 0", "generations"),
    ),
    "learning": (Column("rd_mean", "float", "mean R&D propensity of firms", "learning"),),
    "knowledge": (
        Column("knowledge_diversity", "float", "mean total-variation distance of profiles to the cluster's mean", "knowledge"),
        Column("knowledge_breadth", "float", "effective number of domains of the mean profile, over the domains", "knowledge"),
    ),
    "network": (
        Column("knowledge_embeddedness", "float", "share of knowledge ties that coincide with a social or economic tie",
               "network"),
        Column("n_orgs", "int", "supporting organisations", "network"),
        Column("multiplex_participation", "float", "mean multiplex participation coefficient", "network"),
        Column("edge_overlap", "float", "average edge overlap over the three layers", "network"),
        Column("turnover", "float", "tie turnover of the whole multiplex against the previous step", "network"),
        *_layer_columns(),
    ),
    "processes": (),
}  # fmt: skip


def layout(schedule: Schedule) -> list[Column]:
    """Every column of the time series, in table order."""
    owned = schedule.columns()
    out: list[Column] = []
    for group in GROUPS:
        out.extend(CORE[group])
        out.extend(c for _, c in owned if c.group == group)
    names = [c.name for c in out]
    clash = {n for n in names if names.count(n) > 1}
    if clash:
        from .errors import ConfigError

        raise ConfigError(f"recorder: a process declares a core column: {', '.join(sorted(clash))}")
    return out


SNAPSHOT_NODE_FIELDS = ("id", "kind", "capability", "generation", "segment", "mode", "x", "y")


def _code_names() -> dict[str, tuple[str, ...]]:
    """The names of the ``kind`` and ``mode`` codes, in code order."""
    from .state import KIND_NAMES, MODE_NAMES

    return {"kind": tuple(KIND_NAMES[k] for k in sorted(KIND_NAMES)), "mode": tuple(MODE_NAMES)}


def named_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``kind`` (firm, university, institute, platform, association) and ``mode`` (none, imitation, local,
    integrated) as named categories instead of the state's integer codes (already named columns stay)."""
    import pandas as pd

    for column, names in _code_names().items():
        if column in frame and pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = pd.Categorical.from_codes(frame[column].to_numpy().astype(np.int8), categories=list(names))
    return frame


def named_table(cols: dict[str, np.ndarray]) -> Table:
    """Columns of node fields as a :class:`~clusterup.table.Table`, ``kind`` and ``mode`` as named categories
    (what :func:`named_codes` makes of their DataFrame)."""
    names = _code_names()
    return Table(cols, categories={c: names[c] for c in names if c in cols and cols[c].dtype.kind in "iu"})


def ties_table(state: State) -> Table:
    """The network's ties keyed by stable node ids: layer (text), source, target, weight."""
    ids = state.pop.view("id")
    layers = list(state.net)
    return Table({"layer": np.repeat(np.arange(len(layers), dtype=np.int8), [len(layer) for layer in layers]),
                  "source": np.concatenate([ids[layer.i] for layer in layers]),
                  "target": np.concatenate([ids[layer.j] for layer in layers]),
                  "weight": np.concatenate([layer.w for layer in layers])},
                 strings={"layer": tuple(layer.name for layer in layers)})  # fmt: skip


def snapshot(state: State) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network at this step: (nodes, ties) tables keyed by stable node ids."""
    pop = state.pop
    live = pop.nodes()
    nodes = named_table({f: pop.view(f)[live] for f in SNAPSHOT_NODE_FIELDS}).to_pandas()
    return nodes, ties_table(state).to_pandas()


ORIGINS = ("initial", "spin-off", "newcomer")
PANEL_FIELDS = ("id", "parent", "capability", "revenue", "generation", "mode", "rd", "age", "segment", "scale", "wealth", "profit")


def _find(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the array of unique ``keys``: each query's position in it and whether the query is there (where it
    is not, the position is any). A binary search where the keys ascend (ids grow with slots), through a sorted
    copy where they do not: a run started from data keeps the data's integer ids, in the data's order and the
    organisations first."""
    if not keys.size:
        return np.zeros(queries.size, np.intp), np.zeros(queries.size, bool)
    if ascending(keys):
        pos = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
        return pos, keys[pos] == queries
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    pos = np.minimum(np.searchsorted(ordered, queries), keys.size - 1)
    return order[pos], ordered[pos] == queries


class Lifecycles:
    """One record per firm that ever lived: id, parent, the step it was first recorded (``born``), the step
    it was recorded gone (``exited``, -1 while alive) and why, its origin and its parent's capability when
    it entered. Fed by the recorder every step (new ids are the entrants; the step context's ``exited``
    names the firms that left and the cause)."""

    COLUMNS = {"id": np.int64, "parent": np.int64, "born": np.int64, "exited": np.int64, "cause": np.int64,
               "origin": np.int64, "parent_capability": np.float64}  # fmt: skip

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # growable columns (the first ``size`` rows used); rows are added in the order of the firms' slots, and
        # ids grow with slots (but for those a run started from data gave): an id's row is found by _find
        self.cols = {c: np.empty(0, dtype=t) for c, t in self.COLUMNS.items()}
        self.size = 0
        self.last_id = -1
        self._rows_ascending = True  # the ids of the rows ascend: an id's row is found by binary search

    def _grow(self, rows: int) -> None:
        """Room for at least ``rows`` rows (at least twice the room there was)."""
        if rows > self.cols["id"].size:
            room = max(2 * self.cols["id"].size, rows, 1024)
            for c, col in self.cols.items():
                grown = np.empty(room, dtype=col.dtype)
                grown[: self.size] = col[: self.size]
                self.cols[c] = grown

    def _append(self, rows: dict[str, np.ndarray]) -> None:
        count = rows["id"].size
        self._grow(self.size + count)
        for c, v in rows.items():
            self.cols[c][self.size : self.size + count] = v
        self.size += count
        self._rows_ascending = bool(ascending(self.cols["id"][: self.size]))

    def update(self, state: State, ctx: StepContext) -> None:
        pop = state.pop
        ids = pop.view("id")
        if not ascending(ids):  # ids a run started from data gave, in its order
            self.update_numpy(state, ctx)
            return
        # ids grow with slots: the new rows and the exits in two compiled passes
        while True:
            size, top = lifecycle_entrants(pop.firms(), ids, pop.parent, pop.capability, self.last_id, state.step,
                                           self.cols, self.size)  # fmt: skip
            if size >= 0:
                break
            self._grow(self.size + pop.firms().size)
        # the new rows' ids ascend and exceed every earlier one: ascending rows stay ascending
        self.size, self.last_id = size, top
        self._exits(state, ctx, compiled=self._rows_ascending)

    def update_numpy(self, state: State, ctx: StepContext) -> None:
        """:meth:`update` in NumPy, whatever the order of the ids: the definition of its compiled passes, and their
        oracle in the tests."""
        pop = state.pop
        firms = pop.firms()
        ids = pop.id[firms]
        new = firms[ids > self.last_id]  # a firm not seen before has a larger id (entrants get ids after the largest)
        if new.size:
            parent = pop.parent[new]
            pos, found = _find(pop.view("id"), parent)
            found &= parent >= 0
            parent_cap = np.where(found, pop.view("capability")[pos], np.nan)
            origin = np.where(state.step == 0, 0, np.where(parent >= 0, 1, 2))
            self._append({"id": pop.id[new], "parent": parent, "born": state.step, "exited": -1, "cause": -1,
                          "origin": origin, "parent_capability": parent_cap})  # fmt: skip
            self.last_id = int(ids.max())
        self._exits(state, ctx, compiled=False)

    def _exits(self, state: State, ctx: StepContext, compiled: bool) -> None:
        """The step's exits (the step context's ``exited``) into their rows; ids never recorded are skipped.
        ``compiled``: by the compiled pass, which needs the rows' ids to ascend."""
        exited = ctx.exited if "exited" in ctx.names else None
        if not exited:
            return
        gone, cause = (np.asarray(x) for x in exited)
        if compiled:
            lifecycle_exits(self.cols["id"], self.size, gone, cause, self.cols["exited"], self.cols["cause"], state.step)
            return
        row, hit = _find(self.cols["id"][: self.size], gone)
        self.cols["exited"][row[hit]] = state.step
        self.cols["cause"][row[hit]] = cause[hit]

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The used rows of each column (views)."""
        return {c: col[: self.size] for c, col in self.cols.items()}

    def table(self) -> Table:
        """The table (``exited`` and ``cause`` missing for firms alive at the end)."""
        from .state import EXIT_CAUSES

        d = {c: v.copy() for c, v in self.data.items()}
        return Table({c: d[c] for c in ("id", "parent", "born", "exited", "cause", "origin", "parent_capability")},
                     categories={"cause": tuple(EXIT_CAUSES), "origin": ORIGINS},  # code -1: missing
                     missing={"exited": d["exited"] < 0})  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        return {"columns": {c: v.copy() for c, v in self.data.items()}, "last_id": self.last_id}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self._reset()
        self._append({c: np.asarray(d["columns"][c], dtype=t) for c, t in self.COLUMNS.items()})
        self.last_id = int(d["last_id"])


def panel_rows(state: State) -> pd.DataFrame:
    """The firm-level panel's rows of this step: one per active firm (columns of :data:`PANEL_FIELDS` that the
    population has; the mode by name)."""
    from .state import MODE_NAMES

    pop = state.pop
    firms = pop.firms()
    cols: dict[str, Any] = {"step": np.full(firms.size, state.step, dtype=np.int64)}
    for f in PANEL_FIELDS:
        if f in pop.fields:
            cols[f] = getattr(pop, f)[firms]
    return Table(cols, categories={"mode": tuple(MODE_NAMES)} if "mode" in cols else {}).to_pandas()


class Recorder:
    """Holds one preallocated column per indicator; :meth:`record` fills the next row."""

    def __init__(self, schedule: Schedule, steps: int, snapshot_every: int = 0, network_every: int = 1,
                 panel_every: int = 0) -> None:  # fmt: skip
        self.schedule = schedule
        self.layout = layout(schedule)
        self.snapshot_every = snapshot_every
        self.network_every = network_every
        self.last_step = steps
        self.snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self.rows = 0
        self.columns = {c.name: np.zeros(steps + 1, dtype=np.int64 if c.kind == "int" else np.float64) for c in self.layout}
        self.generation_counts: list[np.ndarray] = []  # per recorded step: firms per generation
        self.prev_keys: dict[str, np.ndarray] = {}  # last step's tie keys per layer (for turnover)
        self.structure: dict[tuple[str, str], tuple] = {}  # compute's reusable triangles and giant shares
        self.lifecycles = Lifecycles()
        self.panel_every = panel_every
        self.panel: list[pd.DataFrame] = []
        # each step's measures on the recorder's own thread, beside the next step (see BEHIND_FROM)
        self.behind = compiled._threads() > 1
        self._pending: tuple[int, Future, Any] | None = None  # (row, its measures, their tally) not yet written

    def record(self, state: State, ctx: StepContext) -> None:
        self.settle()  # the last step's network indicators: this step's turnover compares with its keys
        row = self.rows
        firms = state.pop.firms()
        self.generation_counts.append(generation_counts(state.pop.generation, firms))  # np.bincount(generation[firms])
        full = state.step % self.network_every == 0 or state.step == self.last_step
        behind = (self.behind and BEHIND_FROM is not None and BEHIND_FROM <= state.pop.n < compiled.PARALLEL_ROWS
                  and threading.current_thread() is threading.main_thread())  # fmt: skip
        values, calls, tally = begin(state, self.prev_keys, full, self.structure, behind)
        if behind:  # measured on the recorder's thread while the next step runs; settle() fills in the row
            self._pending = (row, _worker().submit(_one_by_one, calls), tally)
        else:
            values.update(tally(concurrently(calls, state.pop.n)))
        for process in self.schedule:
            if process.columns:
                values.update(process.record(state, ctx))
        for name, col in self.columns.items():
            if not behind or name in values:  # behind, the network's columns come with settle()
                col[row] = values[name]
        self.rows += 1
        self.lifecycles.update(state, ctx)
        if self.snapshot_every and state.step % self.snapshot_every == 0:
            self.snapshots[state.step] = snapshot(state)
        if self.panel_every and (state.step % self.panel_every == 0 or state.step == self.last_step):
            self.panel.append(panel_rows(state))

    def panel_frame(self) -> pd.DataFrame:
        """The firm-level panel so far (empty without ``panel_every``)."""
        import pandas as pd

        return pd.concat(self.panel, ignore_index=True) if self.panel else pd.DataFrame()

    def __getstate__(self) -> dict[str, Any]:
        """A copy or a pickle of the recorder waits for the measures being taken (a thread's result is not
        copied)."""
        self.settle()
        return self.__dict__.copy()

    def settle(self) -> None:
        """Wait for the measures of the last step recorded, if they are being taken on the recorder's thread,
        and write them into their row (an error there is raised here). Every reader of the record
        (:meth:`table`, :meth:`frame`, :meth:`state_dict`, a copy) and the next :meth:`record` call it first."""
        if self._pending is not None:
            row, future, tally = self._pending
            found = future.result()  # interrupted here, the measures are still pending: a later call writes them
            self._pending = None
            for name, value in tally(found).items():
                self.columns[name][row] = value

    def table(self) -> Table:
        """The time series so far (copies of the used rows)."""
        self.settle()
        return Table({c: v[: self.rows].copy() for c, v in self.columns.items()})

    def frame(self) -> pd.DataFrame:
        return self.table().to_pandas()

    def generation_matrix(self) -> np.ndarray:
        """(rows x generations) firm counts; generations no firm has reached yet count zero."""
        width = max((c.size for c in self.generation_counts), default=1)
        out = np.zeros((len(self.generation_counts), width), dtype=np.int64)
        for r, c in enumerate(self.generation_counts):
            out[r, : c.size] = c
        return out

    def generations_table(self) -> Table:
        """Long table: step, generation, firms (one row per step and generation reached by then)."""
        m = self.generation_matrix()
        steps = self.columns["step"][: self.rows]
        reached = np.maximum.accumulate((m > 0) * np.arange(m.shape[1]), axis=0).max(axis=1) if m.size else np.zeros(0)
        width = reached.astype(np.int64) + 1  # generations 0..reached of each recorded step
        row = np.repeat(np.arange(m.shape[0]), width)
        gen = np.arange(row.size) - np.repeat(np.cumsum(width) - width, width)
        return Table({"step": steps[row].astype(np.int64), "generation": gen.astype(np.int64),
                      "firms": m[row, gen].astype(np.int64)})  # fmt: skip

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The rows so far, last step's tie keys and the firms per generation (not the snapshots)."""
        self.settle()
        return {
            "rows": self.rows,
            "columns": {name: col[: self.rows].copy() for name, col in self.columns.items()},
            "prev_keys": {name: keys.copy() for name, keys in self.prev_keys.items()},
            "generation_counts": self.generation_matrix(),
            "lifecycles": self.lifecycles.state_dict(),
            "panel": _frame_arrays(self.panel_frame()),
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        rows = int(d["rows"])
        missing = [name for name in self.columns if name not in d["columns"]]
        if missing:
            raise ValueError(f"the saved record lacks the column(s) {', '.join(missing)}")
        self.rows = rows
        for name, col in self.columns.items():
            col[:rows] = d["columns"][name]
        self.prev_keys = {name: np.asarray(k, dtype=np.int64) for name, k in d["prev_keys"].items()}
        counts = np.asarray(d["generation_counts"])
        self.generation_counts = [np.trim_zeros(row, "b") if row.any() else row[:1] for row in counts[:rows]]
        self.snapshots = {}
        self.lifecycles.load_state_dict(d["lifecycles"])
        panel = _arrays_frame(d["panel"])
        self.panel = [panel] if len(panel) else []


def _frame_arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """A DataFrame as plain arrays (categories as their codes and names), for a checkpoint without pickle."""
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out[f"{c}"] = col.cat.codes.to_numpy()
            out[f"{c}@categories"] = np.asarray(col.cat.categories, dtype=str)
        else:
            out[c] = col.to_numpy()
    return out


def _arrays_frame(d: dict[str, np.ndarray]) -> pd.DataFrame:
    import pandas as pd

    cols = {}
    for c, v in d.items():
        if c.endswith("@categories"):
            continue
        cats = d.get(f"{c}@categories")
        cols[c] = pd.Categorical.from_codes(v, categories=list(cats)) if cats is not None else v
    return pd.DataFrame(cols)


def _triangles_since(i: np.ndarray, j: np.ndarray, ids: np.ndarray, n: int, old: np.ndarray, count: int) -> int:
    """A layer's triangles from ``count``, those of the graph of the id keys ``old``, through the ties that came
    or went since (:func:`~clusterup.compiled.triangles_since`); all of them counted again where too many did."""
    found = triangles_since(old, count, id_keys(ids, i, j))
    return ind.triangles(i, j, n) if found is None else found


def _layer_passes(lays: list, ids: np.ndarray, n: int, prev_keys: dict[str, np.ndarray], nodes: np.ndarray,
                  triangles_too: list[str], giant_too: list[str], structure: dict) -> tuple[list, tuple]:  # fmt: skip
    """Each layer's :func:`~clusterup.compiled.layer_measures` (with the triangles and giant share of the layers
    named), then the :func:`~clusterup.compiled.multiplex_pass` over their degrees and keys: one call, so that
    it runs beside the recorder's other calls.

    A layer whose ties and strengths are the arrays of the last step's pass (a static layer: the ``bass``
    preset's, every step) and whose keys were compared with last step's keys gives that pass again, with every
    key in common (what the pass would find comparing the keys with themselves); where all three are given
    again, so is the multiplex pass. The numbers are the same either way."""
    measured = []
    for layer, lay in zip(LAYERS, lays, strict=True):
        last = structure.get(("pass", layer))
        same = last is not None and last[0] is lay.keys and last[1] is lay.w and last[2] == n
        if same and prev_keys.get(layer) is last[3][2] and layer not in triangles_too and layer not in giant_too:
            strength, deg, keys, _, triples, tri, giant = last[3]
            m = (strength, deg, keys, int(keys.size), triples, tri, giant)
        else:
            m = layer_measures(lay.i, lay.j, lay.w, ids, n, prev_keys.get(layer), nodes, layer in triangles_too,
                               layer in giant_too)  # fmt: skip
            structure[("pass", layer)] = (lay.keys, lay.w, n, m)
        measured.append(m)
    (_, d0, k0, *_), (_, d1, k1, *_), (_, d2, k2, *_) = measured
    last = structure.get(("multiplex", ""))
    if last is None or not (last[0] is k0 and last[1] is k1 and last[2] is k2):
        last = structure[("multiplex", "")] = (k0, k1, k2, multiplex_pass(d0, d1, d2, k0, k1, k2))
    return measured, last[3]


def compute(state: State, prev_keys: dict[str, np.ndarray], network: bool = True,
            structure: dict[tuple[str, str], tuple] | None = None) -> dict[str, float]:
    """Every core indicator of one step. ``prev_keys`` carries last step's tie sets (for turnover).

    ``network=False`` skips the costly per-layer clustering and giant component (NaN instead):
    ``run.network_every`` asks for that, explicitly, on huge networks.

    ``structure`` (the recorder keeps one per run) remembers each layer's triangle count and giant share
    with what they were computed from: the layer's key array (keys are replaced, never changed in place, so
    the same array object means the same ties), the number of slots and, for the giant share, the active
    nodes, and each layer's pass with the arrays it read (see :func:`_layer_passes`). A layer whose ties did
    not change since (a static network: the ``bass`` preset, every step) reuses them; the numbers are the same
    either way, only not computed again. From ``PARALLEL_ROWS`` slots on (:data:`APART_FROM`), it also keeps the
    id keys a triangle count was made from and each layer's last turnover: a layer whose ties changed by at most
    ``1 / CHANGED_SHARE`` since (its turnover times the steps since the count) has its triangles counted from
    that count through the ties that came or went (:func:`~clusterup.compiled.triangles_since`), the same
    integer in a fraction of the time (the social layer of a million-firm run: 18-45 ms instead of 90-145 ms).

    The firm indicators come from one compiled pass (:func:`~clusterup.compiled.firm_indicators`), each layer
    from one more (:func:`~clusterup.compiled.layer_measures`, with its triangles and giant share on all but large
    networks) and the multiplex measures from a merge of the three
    (:func:`~clusterup.compiled.multiplex_pass`); :func:`compute_numpy` is their readable definition."""
    out, calls, tally = begin(state, prev_keys, network, structure)
    out.update(tally(concurrently(calls, state.pop.n)))
    return out


class _Ties(NamedTuple):
    """A layer's ties as they were when a step was recorded (a layer replaces its arrays, never changes them)."""

    keys: np.ndarray
    i: np.ndarray
    j: np.ndarray
    w: np.ndarray


class _Plan(NamedTuple):
    """What :func:`_network` decided for a step's measures, which its tally reads: the ties and slots taken,
    the indicators' bookkeeping (``prev_keys``, ``structure``) and which layers' triangles and giant shares are
    remembered (``tri_of``, ``giant_of``), counted from the last count (``since``), counted in calls of their
    own (``tri_apart``, ``giant_apart``) or in each layer's pass (``tri_in_pass``, ``giant_in_pass``)."""

    lays: dict[str, Layer | _Ties]
    n: int
    nodes: np.ndarray
    step: int
    frontier: float
    prev_keys: dict[str, np.ndarray]
    network: bool
    structure: dict[tuple[str, str], tuple]
    since: dict[str, tuple]
    tri_apart: list[str]
    giant_apart: list[str]
    tri_in_pass: list[str]
    giant_in_pass: list[str]
    tri_of: dict[str, int]
    giant_of: dict[str, float]
    tri_new: list[str]
    giant_new: list[str]


def begin(state: State, prev_keys: dict[str, np.ndarray], network: bool = True,
          structure: dict[tuple[str, str], tuple] | None = None,
          behind: bool = False) -> tuple[dict[str, float], list, Any]:  # fmt: skip
    """:func:`compute` in three parts: the indicators read here (a dict), the independent calls that measure the
    rest, and their tally, a call that takes the calls' results (a list, in order) and returns the rest of the
    indicators (it updates ``prev_keys`` and ``structure``). ``tally(concurrently(calls, state.pop.n))`` is
    what :func:`compute` adds to the dict.

    The calls read only what this function took from the state: the layers' arrays (a layer replaces them
    when its ties change, never changes them in place) and, with ``behind``, copies of the slots' ids and of
    the fields the firm indicators read (``compact()`` moves the slots in place), so that they may run on
    another thread while the next step changes the state."""
    pop = state.pop
    firms = pop.firms()
    out: dict[str, float] = {"step": state.step, "n_firms": firms.size, "frontier": state.frontier,
                             "n_orgs": int(pop.orgs().size)}  # fmt: skip
    ids = pop.view("id")
    fields = (pop.capability, pop.generation, pop.rd, pop.knowledge)
    if behind:
        ids = ids.copy()
        fields = tuple(f[: pop.n].copy() for f in fields)
    # at once, the calls read the layers themselves (a pass decodes its layer's ties beside the other calls);
    # behind, the arrays as they are now
    lays = [state.net[layer] for layer in LAYERS]
    if behind:
        lays = [_Ties(lay.keys, lay.i, lay.j, lay.w) for lay in lays]
    # below PARALLEL_ROWS slots the measures are one compiled call (compiled.step_measures), behind or at once:
    # at once, a single call where the separate ones would run one after the other anyway saves their hand-overs
    return out, *_network(lays, ids, pop.n, pop.nodes(), state.step, state.frontier, prev_keys, network,
                          {} if structure is None else structure, (*fields, firms), True)  # fmt: skip


def _network(lays: list[Layer | _Ties], ids: np.ndarray, n: int, nodes: np.ndarray, step: int, frontier: float,
             prev_keys: dict[str, np.ndarray], network: bool, structure: dict[tuple[str, str], tuple],
             fields: tuple[np.ndarray, ...], one_call: bool = False) -> tuple[list, Any]:  # fmt: skip
    """The network's indicators of one step from the ties and slots :func:`begin` took, with the firm
    indicators of ``fields`` (capability, generation, R&D, knowledge, the firms' slots), in two parts: the
    independent calls that measure (to run side by side, or on the recorder's thread), and the tally of what
    they found, a call that takes their results (a list, in order) and returns the indicators. The tally
    updates ``prev_keys`` and ``structure``. With ``one_call``, below ``PARALLEL_ROWS`` slots, where no layer's
    pass can be given again, the calls are one: :func:`~clusterup.compiled.step_measures`, the same numbers
    with one hand-over of the GIL (the recorder's thread runs it beside the next step) and, at once, without
    the separate calls' hand-overs (tests/test_recorder_kernels.py holds it to the separate calls)."""
    # the firm indicators, the layers' passes with the multiplex pass that reads them, and each layer's
    # triangles and components are independent: on large networks they run side by side
    # (compiled.concurrently, about the costliest first); each number is the same whichever way they run
    lays = dict(zip(LAYERS, lays, strict=True))
    tri_of, giant_of = {}, {}  # without the network measures (network False) neither is read
    if network:
        tri_of = {L: c[2] for L in LAYERS if (c := structure.get(("triangles", L))) and c[0] is lays[L].keys
                  and c[1] == n}  # fmt: skip
        giant_of = {L: c[3] for L in LAYERS if (c := structure.get(("giant", L))) and c[0] is lays[L].keys
                    and c[1] == n and (c[2] is nodes or np.array_equal(c[2], nodes))}  # fmt: skip
    tri_new = [L for L in reversed(LAYERS) if L not in tri_of] if network else []
    giant_new = [L for L in LAYERS if L not in giant_of] if network else []
    # below PARALLEL_ROWS (APART_FROM) the calls run one after the other: the triangles and giant shares come
    # with each layer's pass, in its call; from there on they are calls of their own, to run side by side
    apart = n >= (compiled.PARALLEL_ROWS if APART_FROM is None else APART_FROM)
    # from there on, a layer counted before whose ties change little (judged by its last turnover, times the
    # steps since that count) has its triangles counted from that count, through the ties that changed since
    since = {}
    for L in tri_new if apart else []:
        last = structure.get(("triangles", L))  # (keys, slots, triangles, id keys, step)
        if last is not None and structure.get(("turnover", L), 1.0) * max(step - last[4], 1) <= 1 / CHANGED_SHARE:
            since[L] = (last[3], last[2])
    tri_apart = [L for L in tri_new if L not in since] if apart else []
    giant_apart = giant_new if apart else []
    tri_in_pass, giant_in_pass = ([], []) if apart else (tri_new, giant_new)
    plan = _Plan(lays, n, nodes, step, frontier, prev_keys, network, structure, since, tri_apart, giant_apart,
                 tri_in_pass, giant_in_pass, tri_of, giant_of, tri_new, giant_new)  # fmt: skip
    # (a layer of fewer than two ties has ends that are contiguous views: the one call's compiled signatures are
    # those of strided ends, so such a step, early in a tiny run, takes the separate calls)
    if (one_call and not apart and all(lays[L].keys.size > 1 for L in LAYERS)
            and not any(_given_again(structure, L, lays[L], n, prev_keys) for L in LAYERS)):  # fmt: skip
        call = partial(step_measures, [(lay.i, lay.j, lay.w) for lay in lays.values()], ids, n,
                       [prev_keys.get(L) for L in LAYERS], nodes, [L in tri_in_pass for L in LAYERS],
                       [L in giant_in_pass for L in LAYERS], *fields)  # fmt: skip
        return [call], partial(_tally_one_call, plan)
    calls = [partial(_layer_passes, list(lays.values()), ids, n, prev_keys, nodes, tri_in_pass, giant_in_pass,
                     structure)]  # fmt: skip
    calls += [partial(_triangles_since, lays[L].i, lays[L].j, ids, n, *since[L]) for L in since]
    calls += [partial(ind.triangles, lays[L].i, lays[L].j, n) for L in tri_apart]
    calls += [partial(firm_indicators, *fields)]
    # exited firms keep no ties: no filtering needed
    calls += [partial(ind.giant_share, lays[L].i, lays[L].j, n, nodes, isolated_others=True) for L in giant_apart]
    return calls, partial(_tally, plan)


def _given_again(structure: dict, layer: str, lay: Layer | _Ties, n: int, prev_keys: dict[str, np.ndarray]) -> bool:
    """Whether :func:`_layer_passes` gives ``layer``'s last pass again (its arrays unchanged, its keys those
    compared last)."""
    last = structure.get(("pass", layer))
    return (last is not None and last[0] is lay.keys and last[1] is lay.w and last[2] == n
            and prev_keys.get(layer) is last[3][2])  # fmt: skip


def _tally_one_call(plan: _Plan, found: list) -> dict[str, float]:
    """:func:`_tally` of :func:`~clusterup.compiled.step_measures`' one result (``found``, a list of it),
    keeping each layer's pass and the multiplex pass as :func:`_layer_passes` keeps them."""
    measured, multiplex, vals = found[0]
    for layer, m in zip(LAYERS, measured, strict=True):
        plan.structure[("pass", layer)] = (plan.lays[layer].keys, plan.lays[layer].w, plan.n, m)
    k0, k1, k2 = (m[2] for m in measured)
    plan.structure[("multiplex", "")] = (k0, k1, k2, multiplex)
    return _tally(plan, [(measured, multiplex), vals])


def _tally(plan: _Plan, found: list) -> dict[str, float]:
    """:func:`_network`'s second part: the indicators from what its calls ``found``."""
    (lays, n, nodes, step, frontier, prev_keys, network, structure, since, tri_apart, giant_apart, tri_in_pass,
     giant_in_pass, tri_of, giant_of, tri_new, giant_new) = plan  # fmt: skip
    n_nodes = nodes.size
    out: dict[str, float] = {}
    measured, (participation, pairs, embedded) = found[0]
    measured = dict(zip(LAYERS, measured, strict=True))
    passes = {L: m[:5] for L, m in measured.items()}
    counted = 1 + len(since) + len(tri_apart)
    out.update(found[counted])  # the firm indicators
    out["cap_rel_frontier"] = out["cap_mean"] / frontier
    counted += 1
    tri = {**tri_of, **dict(zip((*since, *tri_apart), found[1 : 1 + len(since) + len(tri_apart)], strict=True)),
           **{L: measured[L][5] for L in tri_in_pass}}  # fmt: skip
    giant = {**giant_of, **dict(zip(giant_apart, found[counted:], strict=True)),
             **{L: measured[L][6] for L in giant_in_pass}}  # fmt: skip
    for L in tri_new:  # with the id keys counted: the next count can start from this one
        structure[("triangles", L)] = (lays[L].keys, n, tri[L], passes[L][2], step)
    for L in giant_new:
        structure[("giant", L)] = (lays[L].keys, n, nodes, giant[L])
    all_strength = sum(p[0] for p in passes.values())
    common_all = union_all = 0
    for layer in LAYERS:
        ties = lays[layer].keys.size
        strength, deg, keys, common, triples = passes[layer]
        prev = prev_keys.get(layer, keys)  # the first step is compared with itself (layer_pass: all keys common)
        if keys.size == 0 or prev.size == 0:
            common = 0
        union = keys.size + prev.size - common
        out[f"{layer}_ties"] = ties
        out[f"{layer}_mean_degree"] = 2 * ties / n_nodes if n_nodes else 0.0
        out[f"{layer}_strength"] = strength
        out[f"{layer}_share"] = strength / all_strength if all_strength > 0 else 0.0
        if network:
            out[f"{layer}_clustering"] = 6.0 * float(tri[layer]) / triples if triples else 0.0
            out[f"{layer}_giant"] = giant[layer]
        else:
            out[f"{layer}_clustering"] = out[f"{layer}_giant"] = float("nan")
        out[f"{layer}_turnover"] = structure[("turnover", layer)] = 1.0 - common / union if union else 0.0
        common_all += common
        union_all += union
    out["turnover"] = 1.0 - common_all / union_all if union_all else 0.0
    k0, k1, k2 = (passes[layer][2] for layer in LAYERS)
    prev_keys.update(zip(LAYERS, (k0, k1, k2), strict=True))  # last: a tally interrupted before it can run again
    out["multiplex_participation"] = participation
    total = k0.size + k1.size + k2.size
    out["edge_overlap"] = float(total / (len(LAYERS) * pairs)) if total else 0.0
    out["knowledge_embeddedness"] = embedded / k2.size if k2.size else 0.0
    return out


def compute_numpy(state: State, prev_keys: dict[str, np.ndarray], network: bool = True) -> dict[str, float]:
    """Every core indicator of one step, in plain NumPy from the definitions in :mod:`clusterup.indicators`:
    the reference that :func:`compute` (fused kernels) is held to in the tests, within 1e-12. ``prev_keys``
    carries last step's tie sets (for turnover).

    ``network=False`` skips the costly per-layer clustering and giant component (NaN instead):
    ``run.network_every`` asks for that, explicitly, on huge networks."""
    pop = state.pop
    firms = pop.firms()
    a = pop.capability[firms]
    g = pop.generation[firms]
    out: dict[str, float] = {"step": state.step, "n_firms": firms.size}
    mean = float(a.mean()) if a.size else 0.0
    out.update(
        cap_mean=mean,
        cap_median=float(np.median(a)) if a.size else 0.0,
        cap_max=float(a.max()) if a.size else 0.0,
        cap_total=float(a.sum()),
        cap_rel_frontier=mean / state.frontier,
        frontier=state.frontier,
        gap_cv=ind.cv(a),
        gap_gini=ind.gini(a),
        gap_top10=ind.top_decile_ratio(a),
    )
    top = int(g.max()) if g.size else 0
    q = pop.knowledge[firms]
    out.update(
        gen_max=top,
        gen_mean=float(g.mean()) if g.size else 0.0,
        gen_top_share=float((g == top).mean()) if g.size else 0.0,
        gen_adopted=float((g >= 1).mean()) if g.size else 0.0,
        rd_mean=float(pop.rd[firms].mean()) if firms.size else 0.0,
        knowledge_diversity=ind.knowledge_heterogeneity(q),
        knowledge_breadth=ind.mean_profile_entropy_breadth(q),
        n_orgs=int(pop.is_org.sum()),
    )
    nodes = pop.nodes()
    n_nodes = nodes.size
    strengths = {layer: float(state.net[layer].w.sum()) for layer in LAYERS}
    all_strength = sum(strengths.values())
    ids = pop.view("id")
    key_sets = []
    common_all = union_all = 0
    for layer in LAYERS:
        lay = state.net[layer]
        keys = ind.id_keys(ids, lay.i, lay.j)
        out[f"{layer}_ties"] = len(lay)
        out[f"{layer}_mean_degree"] = 2 * len(lay) / n_nodes if n_nodes else 0.0
        out[f"{layer}_strength"] = strengths[layer]
        out[f"{layer}_share"] = strengths[layer] / all_strength if all_strength > 0 else 0.0
        if network:
            out[f"{layer}_clustering"] = ind.transitivity(lay.i, lay.j, pop.n)
            out[f"{layer}_giant"] = ind.giant_share(lay.i, lay.j, pop.n, nodes, isolated_others=True)  # exited firms keep no ties
        else:
            out[f"{layer}_clustering"] = out[f"{layer}_giant"] = float("nan")
        common, union = ind.overlap_counts(keys, prev_keys.get(layer, keys))
        out[f"{layer}_turnover"] = 1.0 - common / union if union else 0.0
        common_all += common
        union_all += union
        prev_keys[layer] = keys
        key_sets.append(keys)
    out["turnover"] = 1.0 - common_all / union_all if union_all else 0.0
    degrees = np.vstack([state.net[layer].degree(pop.n) for layer in LAYERS])
    out["multiplex_participation"] = ind.multiplex_participation(degrees)
    out["edge_overlap"] = ind.edge_overlap(key_sets)
    know = state.net["knowledge"]
    if len(know):
        embedded = sorted_member(know.keys, state.net["social"].keys) | sorted_member(know.keys, state.net["economic"].keys)
        out["knowledge_embeddedness"] = float(embedded.mean())
    else:
        out["knowledge_embeddedness"] = 0.0
    return out


__all__ = ["CORE", "Recorder", "compute", "compute_numpy", "layout", "snapshot"]
