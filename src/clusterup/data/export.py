"""Export a run's multiplex network for Gephi and NetworkX.

- **GEXF** (``network.gexf``, dynamic): every node and tie seen in any snapshot, once, with spells
  saying when it exists; the layer is an edge attribute (``layer``), so the three layers are parallel
  edges between the same two nodes. Snapshot at step ``s_i`` stands for the steps ``s_i`` to
  ``s_{i+1} - 1`` (the last one for its own step); a node present in snapshots ``a..b`` has the spell
  ``[s_a, s_{b+1} - 1]``. ``capability``, ``generation`` and ``mode`` of nodes and ``strength`` of ties are
  dynamic attributes over the same intervals; ``kind``, ``segment``, ``x``, ``y`` are static (from the
  node's first snapshot); the static edge ``weight`` is the tie's largest strength.
- **GraphML** (``network-step-NNNNNN.graphml``): one static multigraph per snapshot, same attributes.

A run without ``--snapshots`` exports its final network (firms.parquet, ties.parquet) as one snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import pandas as pd

from ..errors import ConfigError
from ..io_utils import refuse_existing, temp_file
from ..result import Result


def _snapshots(result: Result) -> list[tuple[int, pd.DataFrame, pd.DataFrame]]:
    if result.snapshots:
        return [(s, nodes, ties) for s, (nodes, ties) in sorted(result.snapshots.items())]
    if result.firms.empty:
        raise ConfigError("the run has neither snapshots nor a final network to export")
    return [(int(result.timeseries["step"].iloc[-1]), result.firms, result.ties)]


def _intervals(steps: list[int]) -> dict[int, tuple[int, int]]:
    """Snapshot index -> the closed interval of steps it stands for."""
    return {i: (s, (steps[i + 1] - 1) if i + 1 < len(steps) else s) for i, s in enumerate(steps)}


def _spells(frame: pd.DataFrame, key: str, spans: dict[int, tuple[int, int]]) -> dict:
    """Runs of consecutive snapshots per key -> list of (start, end) spells."""
    f = frame[[key, "snap"]].drop_duplicates().sort_values([key, "snap"], kind="stable")
    new_run = (f[key] != f[key].shift()) | (f["snap"].diff() != 1)
    f = f.assign(run=new_run.cumsum())
    g = f.groupby("run").agg(k=(key, "first"), a=("snap", "min"), b=("snap", "max"))
    out: dict = {}
    for k, a, b in g.itertuples(index=False):
        out.setdefault(k, []).append((spans[a][0], spans[b][1]))
    return out


def _dynamic(frame: pd.DataFrame, key: str, column: str, spans: dict[int, tuple[int, int]], cast) -> dict:
    """(value, start, end) per key, consecutive equal values merged."""
    f = frame[[key, "snap", column]].sort_values([key, "snap"], kind="stable")
    change = (f[key] != f[key].shift()) | (f[column] != f[column].shift()) | (f["snap"].diff() != 1)
    f = f.assign(run=change.cumsum())
    g = f.groupby("run").agg(k=(key, "first"), v=(column, "first"), a=("snap", "min"), b=("snap", "max"))
    out: dict = {}
    for k, v, a, b in g.itertuples(index=False):
        out.setdefault(k, []).append((cast(v), spans[a][0], spans[b][1]))
    return out


def _node_attrs(row) -> dict:
    """Static node attributes from a row (a Series or a namedtuple with kind, segment, x, y)."""
    return {"kind": str(row.kind), "segment": int(row.segment), "x": float(row.x), "y": float(row.y)}


def dynamic_graph(result: Result) -> nx.MultiGraph:
    snaps = _snapshots(result)
    steps = [s for s, _, _ in snaps]
    spans = _intervals(steps)
    nodes = pd.concat([n.assign(snap=i) for i, (_, n, _) in enumerate(snaps)], ignore_index=True)
    ties = pd.concat([t.assign(snap=i) for i, (_, _, t) in enumerate(snaps)], ignore_index=True)
    labels = {}
    if result.data_ids is not None:
        labels = dict(zip(result.data_ids["id"], result.data_ids["data_id"], strict=True))
    G = nx.MultiGraph(mode="dynamic", name=f"{result.params.name} seed {result.metadata.get('seed')}")
    node_spells = _spells(nodes, "id", spans)
    cap = _dynamic(nodes, "id", "capability", spans, float)
    gen = _dynamic(nodes, "id", "generation", spans, int)
    mode = _dynamic(nodes.assign(mode=nodes["mode"].astype(str)), "id", "mode", spans, str)
    first = nodes.drop_duplicates("id").set_index("id")
    for nid, row in first.iterrows():
        G.add_node(int(nid), label=str(labels.get(nid, nid)), spells=node_spells[nid], capability=cap[nid], generation=gen[nid],
                   mode=mode[nid], **_node_attrs(row))  # fmt: skip
    if len(ties):
        ties = ties.assign(edge=ties["layer"].astype(str) + ":" + ties["source"].astype(str) + "-" + ties["target"].astype(str))
        edge_spells = _spells(ties, "edge", spans)
        strength = _dynamic(ties, "edge", "weight", spans, float)
        wmax = ties.groupby("edge")["weight"].max()
        for e in ties.drop_duplicates("edge").itertuples(index=False):
            G.add_edge(int(e.source), int(e.target), key=e.edge, id=e.edge, layer=str(e.layer), weight=float(wmax[e.edge]),
                       spells=edge_spells[e.edge], strength=strength[e.edge])  # fmt: skip
    return G


def snapshot_graph(result: Result, nodes: pd.DataFrame, ties: pd.DataFrame) -> nx.MultiGraph:
    labels = {}
    if result.data_ids is not None:
        labels = dict(zip(result.data_ids["id"], result.data_ids["data_id"], strict=True))
    G = nx.MultiGraph()
    for row in nodes.itertuples(index=False):
        G.add_node(int(row.id), label=str(labels.get(row.id, row.id)), capability=float(row.capability),
                   generation=int(row.generation), mode=str(row.mode), **_node_attrs(row))  # fmt: skip
    for e in ties.itertuples(index=False):
        key = f"{e.layer}:{e.source}-{e.target}"
        G.add_edge(int(e.source), int(e.target), key=key, layer=str(e.layer), weight=float(e.weight))
    return G


def _write(path: Path, writer) -> Path:
    fd, tmp = temp_file(path)
    os.close(fd)
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def export_run(run_dir: Path, fmt: str, out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the run's network as one dynamic GEXF file or one GraphML file per snapshot into ``out_dir``;
    files already there are replaced only with ``overwrite`` (checked before anything is written)."""
    result = Result.load(run_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} exists and is not a directory")
    snapshots = [] if fmt == "gexf" else list(_snapshots(result))
    targets = [out_dir / "network.gexf"] if fmt == "gexf" else [out_dir / f"network-step-{s:06d}.graphml" for s, _, _ in snapshots]
    refuse_existing(targets, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "gexf":
        G = dynamic_graph(result)
        return [_write(targets[0], lambda p: nx.write_gexf(G, p, version="1.2draft"))]
    paths = []
    for target, (_step, nodes, ties) in zip(targets, snapshots, strict=True):
        G = snapshot_graph(result, nodes, ties)
        paths.append(_write(target, lambda p, G=G: nx.write_graphml(G, p)))
    return paths


__all__ = ["dynamic_graph", "export_run", "snapshot_graph"]
