"""Library entry points for single runs: run to a directory, resume a checkpointed run, export an initial
state as data. The CLI's ``run`` and ``export-initial`` parse their arguments and call these."""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .checkpoint import Checkpointer
from .checkpoint import load as load_checkpoint
from .errors import ConfigError
from .io_utils import default_target
from .params import Params
from .result import Result, prepare_output
from .simulation import Observer, Simulation, resolve_run
from .state import LAYERS


def default_out(params: Params, data_source: str | None = None, *, scenario: str | None = None,
                overrides: dict[str, Any] | None = None, firms: int | None = None, steps: int | None = None,
                fresh: bool = True) -> Path:
    """``runs/NAME[-DATA][-firmsF][-stepsS][-KEY=VALUE...]-seedN``: NAME is the preset or the scenario file's
    stem; what was given on top of it (data, firms, steps, overrides) is in the name, so different runs do
    not collide (overrides longer than 60 characters are named by a short hash). Where that directory is
    taken and not empty, ``-2``, ``-3``, ... is appended (``fresh``; without it, for --overwrite, the name
    itself): a default never refuses and never replaces what is there."""
    stem = Path(scenario).stem if scenario and scenario.endswith(".toml") else params.name
    parts = [stem]
    if data_source:
        parts.append(Path(data_source).name)
    if firms is not None:
        parts.append(f"firms{firms}")
    if steps is not None:
        parts.append(f"steps{steps}")
    if overrides:
        text = ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))
        text = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)
        parts.append(text if len(text) <= 60 else "set-" + hashlib.sha1(text.encode()).hexdigest()[:8])
    return default_target(Path("runs") / f"{'-'.join(parts)}-seed{params.run.seed}", overwrite=not fresh)


def _finish(sim: Simulation, target: Path, observers: list[Observer], *, overwrite: bool, checkpointed: bool,
            resumed: bool, command: str | None) -> Result:  # fmt: skip
    started = time.perf_counter()
    result = sim.run(observers)
    extra: dict[str, Any] = {"wall_seconds": round(time.perf_counter() - started, 3),
                             "command": command if command is not None else " ".join(sys.argv)}  # fmt: skip
    if resumed:
        extra["resumed"] = True
    # the run's own checkpoint is replaced by the finished run (an unfinished run found at the start was refused)
    result.save(target, overwrite=overwrite, extra_meta=extra, resuming=checkpointed or resumed)
    return result


def run_to_directory(
    scenario: Params | str = "baseline",
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    steps: int | None = None,
    firms: int | None = None,
    overrides: dict[str, Any] | None = None,
    data: str | Path | None = None,
    snapshots: int = 0,
    panel: int = 0,
    checkpoint_every: int = 0,
    overwrite: bool = False,
    observers: Iterable[Observer] = (),
    command: str | None = None,
) -> tuple[Result, Path]:
    """Run one simulation and save it to ``out`` (default: :func:`default_out`); ``snapshots`` and ``panel``
    K save the network and the firm-level panel every K steps; with ``checkpoint_every`` K a checkpoint is
    kept there every K steps until the run finishes. Everything is validated before
    anything is written. Returns the Result and the directory."""
    if checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be an integer >= 0; got {checkpoint_every}")
    params, start = resolve_run(scenario, seed=seed, steps=steps, firms=firms, overrides=overrides, data=data)
    if out is not None:
        target = Path(out)
    else:
        label = scenario if isinstance(scenario, str) else None
        target = default_out(params, str(data) if data is not None else None, scenario=label, overrides=overrides,
                             firms=firms, steps=steps, fresh=not overwrite)  # fmt: skip
    sim = Simulation(params, snapshot_every=snapshots, panel_every=panel, data=start)
    prepare_output(target, overwrite=overwrite)
    watching = [*observers, Checkpointer(target, checkpoint_every)]
    result = _finish(sim, target, watching, overwrite=overwrite, checkpointed=checkpoint_every > 0, resumed=False,
                     command=command)  # fmt: skip
    return result, target


def resume(
    directory: str | Path, *, checkpoint_every: int = 0, overwrite: bool = False, observers: Iterable[Observer] = (),
    command: str | None = None,
) -> tuple[Result, Path]:  # fmt: skip
    """Continue the interrupted run in ``directory`` from its checkpoint and save it there when it finishes."""
    target = Path(directory)
    prepare_output(target, overwrite=overwrite, resuming=True)
    sim = load_checkpoint(target)
    watching = [*observers, Checkpointer(target, checkpoint_every)]
    result = _finish(sim, target, watching, overwrite=overwrite, checkpointed=True, resumed=True, command=command)
    return result, target


def export_initial(
    scenario: Params | str = "baseline",
    out: str | Path = "cluster-data",
    *,
    seed: int | None = None,
    firms: int | None = None,
    overrides: dict[str, Any] | None = None,
    data: str | Path | None = None,
    fmt: str = "parquet",
    overwrite: bool = False,
) -> tuple[Path, dict[str, int]]:
    """Write a scenario's initial state as data tables (``run --from-data`` on them reproduces the run).
    Returns the directory, and the seed and the counts of firms and of ties per layer."""
    from .data import initial_data

    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"--format must be parquet or csv; got {fmt!r}")
    sim = Simulation(scenario, seed=seed, firms=firms, overrides=overrides, data=data)
    tables = initial_data(sim.state)
    path = tables.save(out, fmt, overwrite=overwrite)
    counts = {"seed": sim.seed, "firms": len(tables.firms), **{name: int((tables.ties["layer"] == name).sum()) for name in LAYERS}}
    return path, counts


__all__ = ["default_out", "export_initial", "resume", "run_to_directory"]
