"""The recorder: indicators each step into preallocated columns (no copies of the state)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import indicators as ind
from .compiled import sorted_member
from .state import LAYERS, State

MODE_NAMES = ("imitation", "local", "integrated")

COLUMNS: tuple[str, ...] = (
    "step", "n_firms", "n_entries", "n_exits",
    "cap_mean", "cap_median", "cap_max", "cap_total", "cap_rel_frontier", "frontier",
    "gap_cv", "gap_gini", "gap_top10",
    *(f"attempts_{m}" for m in MODE_NAMES), *(f"success_{m}" for m in MODE_NAMES), *(f"share_{m}" for m in MODE_NAMES),
    "gen_max", "gen_mean", "gen_top_share", "gen_adopted",
    "rd_mean", "spillover_volume", "knowledge_diversity", "knowledge_breadth", "n_pipelines",
    "knowledge_embeddedness", "n_orgs", "multiplex_participation", "edge_overlap", "turnover",
    *(f"{layer}_{x}" for layer in LAYERS for x in ("ties", "mean_degree", "strength", "share", "clustering", "giant", "turnover")),
)  # fmt: skip

INT_COLUMNS = {"step", "n_firms", "n_entries", "n_exits", "gen_max", "n_pipelines", "n_orgs"} | {
    c for c in COLUMNS if c.startswith(("attempts_", "success_")) or c.endswith("_ties")
}


SNAPSHOT_NODE_FIELDS = ("id", "kind", "capability", "generation", "segment", "mode", "x", "y")


def snapshot(state: State) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network at this step: (nodes, ties) tables keyed by stable node ids."""
    pop = state.pop
    live = np.flatnonzero(pop.view("active"))
    nodes = pd.DataFrame({f: pop.view(f)[live] for f in SNAPSHOT_NODE_FIELDS})
    ids = pop.view("id")
    parts = [
        pd.DataFrame({"layer": layer.name, "source": ids[layer.i], "target": ids[layer.j], "weight": layer.w})
        for layer in state.net
    ]
    ties = pd.concat(parts, ignore_index=True)
    ties["layer"] = ties["layer"].astype("string")
    return nodes, ties


class Recorder:
    """Holds one preallocated column per indicator; :meth:`record` fills the next row."""

    def __init__(self, steps: int, snapshot_every: int = 0, network_every: int = 1) -> None:
        self.snapshot_every = snapshot_every
        self.network_every = network_every
        self.last_step = steps
        self.snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self.rows = 0
        self.columns = {c: np.zeros(steps + 1, dtype=np.int64 if c in INT_COLUMNS else np.float64) for c in COLUMNS}
        self.generation_counts: list[np.ndarray] = []  # per recorded step: firms per generation
        self._prev_keys: dict[str, np.ndarray] = {}

    def record(self, state: State) -> None:
        row = self.rows
        firms = state.pop.firms()
        self.generation_counts.append(np.bincount(state.pop.generation[firms]) if firms.size else np.zeros(1, np.int64))
        full = state.step % self.network_every == 0 or state.step == self.last_step
        for name, value in compute(state, self._prev_keys, full).items():
            self.columns[name][row] = value
        self.rows += 1
        if self.snapshot_every and state.step % self.snapshot_every == 0:
            self.snapshots[state.step] = snapshot(state)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({c: v[: self.rows] for c, v in self.columns.items()})

    def generation_matrix(self) -> np.ndarray:
        """(rows x generations) firm counts; generations no firm has reached yet count zero."""
        width = max((c.size for c in self.generation_counts), default=1)
        out = np.zeros((len(self.generation_counts), width), dtype=np.int64)
        for r, c in enumerate(self.generation_counts):
            out[r, : c.size] = c
        return out

    def generations(self) -> pd.DataFrame:
        """Long table: step, generation, firms (one row per step and generation reached by then)."""
        m = self.generation_matrix()
        steps = self.columns["step"][: self.rows]
        reached = np.maximum.accumulate((m > 0) * np.arange(m.shape[1]), axis=0).max(axis=1) if m.size else np.zeros(0)
        rows = [(int(steps[r]), g, int(m[r, g])) for r in range(m.shape[0]) for g in range(int(reached[r]) + 1)]
        return pd.DataFrame(rows, columns=["step", "generation", "firms"])


def compute(state: State, prev_keys: dict[str, np.ndarray], network: bool = True) -> dict[str, float]:
    """Every indicator of one step. ``prev_keys`` carries last step's tie sets (for turnover).

    ``network=False`` skips the costly per-layer clustering and giant component (NaN instead):
    ``run.network_every`` asks for that, explicitly, on huge networks."""
    pop = state.pop
    flows = state.flows
    firms = pop.firms()
    a = pop.capability[firms]
    g = pop.generation[firms]
    out: dict[str, float] = {"step": state.step, "n_firms": firms.size, "n_entries": flows.entries, "n_exits": flows.exits}
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
    attempts = flows.attempts[1:]
    total = attempts.sum()
    for k, m in enumerate(MODE_NAMES):
        out[f"attempts_{m}"] = int(attempts[k])
        out[f"success_{m}"] = int(flows.successes[k + 1])
        out[f"share_{m}"] = float(attempts[k] / total) if total else 0.0
    top = int(g.max()) if g.size else 0
    q = pop.knowledge[firms]
    out.update(
        gen_max=top,
        gen_mean=float(g.mean()) if g.size else 0.0,
        gen_top_share=float((g == top).mean()) if g.size else 0.0,
        gen_adopted=float((g >= 1).mean()) if g.size else 0.0,
        rd_mean=float(pop.rd[firms].mean()) if firms.size else 0.0,
        spillover_volume=flows.spillover_volume,
        knowledge_diversity=ind.knowledge_heterogeneity(q),
        knowledge_breadth=ind.mean_profile_entropy_breadth(q),
        n_pipelines=int((pop.pipeline[firms] > 0).sum()),
        n_orgs=int(pop.is_org.sum()),
    )
    nodes = np.flatnonzero(pop.view("active"))
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
