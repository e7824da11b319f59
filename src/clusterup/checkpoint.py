"""Checkpoints: a run's :meth:`~clusterup.Simulation.state_dict` on disk, atomically and without pickle, so
that a run killed at any point can resume and end with exactly the time series an uninterrupted run gives.

A checkpoint is a directory ``checkpoint/`` inside the run's output directory::

    config.toml   the resolved parameters
    meta.json     ``step`` (the step the run had reached), then every scalar of the state dict (ids, generator
                  states, ...) by its path
    arrays.npz    every array of the state dict (population fields, ties, recorder columns, ...) by its path

This module only reads and writes what the owners return (the population, the network, the recorder and
the simulation each save and restore themselves), so a field a process declares is saved without any
change here. The directory is written under a temporary name and renamed into place, so a checkpoint is
either complete or absent. Snapshots taken before the checkpoint are not kept in it: a resumed run with
``--snapshots`` holds the snapshots from the resume on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError
from .io_utils import swap_into_place, temp_dir
from .simulation import Observer

if TYPE_CHECKING:
    from .simulation import Simulation

CHECKPOINT_DIR = "checkpoint"
_SEP = "/"


def _flatten(d: dict[str, Any], prefix: str = "") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split a nested dict into arrays and JSON scalars, each keyed by its path."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            a, s = _flatten(value, path + _SEP)
            arrays.update(a)
            scalars.update(s)
            if not value:
                scalars[path] = {}
        elif isinstance(value, np.ndarray):
            arrays[path] = value
        else:
            scalars[path] = value.item() if isinstance(value, np.generic) else value
    return arrays, scalars


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, last = path.split(_SEP)
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def save(sim: Simulation, out_dir: Path) -> Path:
    """Write ``out_dir/checkpoint`` atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    d = sim.state_dict()
    params = d.pop("params")
    arrays, scalars = _flatten(d)
    scalars = {"step": sim.steps_done, **scalars}
    tmp = temp_dir(out_dir / CHECKPOINT_DIR)
    try:
        (tmp / "config.toml").write_text(params, encoding="utf-8")
        np.savez(tmp / "arrays.npz", **arrays)
        (tmp / "meta.json").write_text(json.dumps(scalars), encoding="utf-8")
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
        scalars = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        params = (d / "config.toml").read_text(encoding="utf-8")
        with np.load(d / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"--resume {out_dir}: the checkpoint cannot be read ({exc})") from None
    scalars.pop("step", None)
    state = _unflatten({**scalars, **arrays})
    state["params"] = params
    try:
        return Simulation.from_state_dict(state)
    except ConfigError as exc:
        raise ConfigError(f"--resume {out_dir}: {exc}") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"--resume {out_dir}: the checkpoint is incomplete ({type(exc).__name__}: {exc})") from None


class Checkpointer(Observer):
    """Saves a checkpoint into ``directory`` every ``every`` steps (not after the last step: the finished
    run replaces it)."""

    def __init__(self, directory: Path, every: int) -> None:
        if every < 0:
            raise ConfigError(f"--checkpoint-every must be an integer >= 0; got {every}")
        self.directory = Path(directory)
        self.every = every

    def on_step(self, sim: Simulation) -> None:
        done = sim.steps_done
        if self.every and done % self.every == 0 and done < sim.params.run.steps:
            save(sim, self.directory)
