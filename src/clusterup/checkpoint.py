"""Checkpoints: the full state of a run (arrays and random-generator states), saved atomically
without pickle, so that a run killed at any point can resume and end with exactly the time series an
uninterrupted run gives.

A checkpoint is a directory ``checkpoint/`` inside the run's output directory::

    config.toml   the resolved parameters
    meta.json     step, frontier, hot field, ids, recorder rows, generator states (PCG64, as JSON)
    arrays.npz    population fields, layer edge keys and strengths, world knowledge, recorder columns,
                  last step's tie keys (for turnover)

It is written under a temporary name and renamed into place, so a checkpoint is either complete or
absent. Snapshots taken before the checkpoint are not kept in it: a resumed run with ``--snapshots``
holds the snapshots from the resume on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ConfigError
from .io_utils import swap_into_place, temp_dir
from .params import from_dict, parse_toml
from .state import LAYERS

if TYPE_CHECKING:
    from .simulation import Simulation

CHECKPOINT_DIR = "checkpoint"
FORMAT_VERSION = 1


def save(sim: Simulation, out_dir: Path) -> Path:
    """Write ``out_dir/checkpoint`` atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state, pop, rec = sim.state, sim.state.pop, sim.recorder
    arrays: dict[str, np.ndarray] = {f"pop.{name}": arr.copy() for name, arr in pop.items()}
    for layer in state.net:
        arrays[f"layer.{layer.name}.keys"] = layer.keys
        arrays[f"layer.{layer.name}.w"] = layer.w
    for name, keys in rec._prev_keys.items():
        arrays[f"prev.{name}"] = keys
    for name, col in rec.columns.items():
        arrays[f"col.{name}"] = col[: rec.rows]
    arrays["world"] = state.external_knowledge
    arrays["generation_counts"] = rec.generation_matrix()
    meta = {
        "format": FORMAT_VERSION,
        "step": state.step,
        "n": pop.n,
        "next_id": pop.next_id,
        "frontier": state.frontier,
        "hot_field": state.hot_field,
        "initial_firms": state.initial_firms,
        "rows": rec.rows,
        "snapshot_every": rec.snapshot_every,
        "extinct": sim.extinct,
        "wall_time": sim.wall_time,
        "rngs": {name: g.bit_generator.state for name, g in sim._rngs.items()},
    }
    tmp = temp_dir(out_dir / "checkpoint")
    try:
        (tmp / "config.toml").write_text(sim.params.to_toml(), encoding="utf-8")
        np.savez(tmp / "arrays.npz", **arrays)
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        swap_into_place(tmp, out_dir / CHECKPOINT_DIR)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir / CHECKPOINT_DIR


def has_checkpoint(out_dir: Path) -> bool:
    return (out_dir / CHECKPOINT_DIR / "meta.json").is_file()


def load(out_dir: Path) -> Simulation:
    """A Simulation positioned exactly where the checkpoint in ``out_dir`` left it."""
    from .simulation import Simulation

    d = out_dir / CHECKPOINT_DIR
    if not has_checkpoint(out_dir):
        raise ConfigError(f"--resume {out_dir}: no checkpoint there (run with --checkpoint-every K first)")
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        params = from_dict(parse_toml((d / "config.toml").read_text(encoding="utf-8"), str(d / "config.toml")))
        arrays = dict(np.load(d / "arrays.npz", allow_pickle=False))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"--resume {out_dir}: the checkpoint cannot be read ({exc})") from None
    if meta.get("format") != FORMAT_VERSION:
        raise ConfigError(f"--resume {out_dir}: checkpoint format {meta.get('format')} is not {FORMAT_VERSION}")
    sim = Simulation(params, snapshot_every=meta["snapshot_every"])
    state, pop, rec = sim.state, sim.state.pop, sim.recorder
    n = meta["n"]
    if pop.capacity_slots < n:
        pop._alloc(n)
    pop.n = n
    pop.next_id = meta["next_id"]
    for name in pop.fields:
        getattr(pop, name)[:n] = arrays[f"pop.{name}"]
    for name in LAYERS:
        layer = state.net[name]
        layer.keys = arrays[f"layer.{name}.keys"]
        layer.w = arrays[f"layer.{name}.w"]
        layer._changed()
    state.step = meta["step"]
    state.frontier = meta["frontier"]
    state.hot_field = meta["hot_field"]
    state.external_knowledge = arrays["world"]
    state.scratch.clear()
    rec.rows = meta["rows"]
    for name, col in rec.columns.items():
        col[: rec.rows] = arrays[f"col.{name}"]
    rec._prev_keys = {name: arrays[f"prev.{name}"] for name in LAYERS if f"prev.{name}" in arrays}
    counts = arrays["generation_counts"]
    rec.generation_counts = [np.trim_zeros(row, "b") if row.any() else row[:1] for row in counts[: rec.rows]]
    rec.snapshots = {}
    sim.extinct = meta["extinct"]
    sim.wall_time = meta["wall_time"]
    for name, st in meta["rngs"].items():
        sim.rng(name).bit_generator.state = st
    return sim
