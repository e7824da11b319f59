"""Result: the time series, the resolved parameters, metadata and the final state; atomic save/load.

A saved run is a directory::

    timeseries.parquet   one row per step (docs/output-schema.md)
    timeseries.csv       the same, for spreadsheets
    config.toml          the full resolved parameters; ``clusterup run DIR/config.toml`` re-runs it
    metadata.json        package version, seed, wall time, platform, extinction
    ro-crate-metadata.json  provenance (RO-Crate, Process Run Crate): software, parameters, seeds,
                         command, environment, times, every file's SHA-256
    firms.parquet        the final population (one row per active firm or organisation)
    ties.parquet         the final network (layer, source, target, weight; node ids)
    generations.parquet  firms per generation per step (step, generation, firms): the adoption curves
    lifecycles.parquet   one row per firm that ever lived: id, parent, born, exited, cause, origin
    panel.parquet        with --panel K: one row per active firm every K-th step (and at the end)
    networks/, nodes/    with snapshots: step-NNNNNN.parquet of ties and nodes every K steps and at the end
    data_ids.parquet     for a run started from data whose ids are not all integers up to 2**30 - 1: (id, data_id)

The directory is written under a temporary name beside the target and renamed into place, so a
killed process never leaves a half-written run that looks complete.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError, OutputExistsError
from .io_utils import swap_into_place, temp_dir
from .params import Params, from_dict, parse_toml
from .recorder import named_codes, named_table, ties_table
from .table import Table
from .version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from .state import State

RUN_MARKER = "metadata.json"
RUN_FILES = ("timeseries.parquet", "timeseries.csv", "config.toml", "metadata.json", "firms.parquet", "ties.parquet",
             "generations.parquet", "lifecycles.parquet", "ro-crate-metadata.json")  # fmt: skip


@cache
def timeseries_columns() -> tuple[str, ...]:
    """The columns of a run's time series under the default schedule, in order (docs/output-schema.md)."""
    from .params import Params
    from .recorder import layout
    from .schedule import Schedule

    return tuple(c.name for c in layout(Schedule.default(Params())))


class _Frame:
    """A table of a :class:`Result`: read, a DataFrame (made from its :class:`~clusterup.table.Table` once, then
    kept; an empty DataFrame where there is none); set, a DataFrame, a Table or None."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, result: Result | None, owner: type | None = None) -> Any:
        return self if result is None else result._table(self.name)

    def __set__(self, result: Result, value: pd.DataFrame | Table | None) -> None:
        result._tables[self.name] = value


class Result:
    """A finished (or partial) run: what the recorder and the final state give, and what a run directory holds.

    Its tables (``timeseries``, ``firms``, ``ties``, ``generations``, ``lifecycles``, ``panel``) are DataFrames
    when read. A run's Result holds them as NumPy columns (:class:`~clusterup.table.Table`) until then, and
    :meth:`save` writes those with PyArrow alone, so a run that is only saved does not import pandas. The files
    and the DataFrames are the same either way (tests/test_table.py).

    ``firms`` is the final population: one row per active node, firms *and* supporting organisations;
    its ``kind`` column (firm, university, institute, platform, association) tells which, so
    ``res.firms[res.firms.kind == "firm"]`` are the firms alone."""

    timeseries = _Frame()
    firms = _Frame()
    ties = _Frame()
    generations = _Frame()
    lifecycles = _Frame()
    panel = _Frame()

    def __init__(
        self,
        timeseries: pd.DataFrame | Table,
        params: Params,
        metadata: dict[str, Any] | None = None,
        firms: pd.DataFrame | Table | None = None,  # firms and organisations; see kind
        ties: pd.DataFrame | Table | None = None,
        snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]] | None = None,  # step -> (nodes, ties)
        data_ids: pd.DataFrame | None = None,  # runs started from data with text (or huge) ids: (id, data_id)
        generations: pd.DataFrame | Table | None = None,  # step, generation, firms
        lifecycles: pd.DataFrame | Table | None = None,  # one row per firm that ever lived
        panel: pd.DataFrame | Table | None = None,  # with --panel K: one row per active firm per K-th step
    ) -> None:
        self.params = params
        self.metadata = metadata if metadata is not None else {}
        self.snapshots = snapshots if snapshots is not None else {}
        self.data_ids = data_ids
        self._tables: dict[str, pd.DataFrame | Table | None] = {
            "timeseries": timeseries, "firms": firms, "ties": ties, "generations": generations,
            "lifecycles": lifecycles, "panel": panel}  # fmt: skip

    def _table(self, name: str) -> pd.DataFrame:
        found = self._tables[name]
        if found is None or isinstance(found, Table):  # made once, then kept
            import pandas as pd

            found = self._tables[name] = pd.DataFrame() if found is None else found.to_pandas()
        return found

    def _empty(self, name: str) -> bool:
        found = self._tables[name]
        return found is None or found.empty

    def __repr__(self) -> str:
        return f"Result(scenario={self.params.name!r}, seed={self.metadata.get('seed')!r}, rows={len(self._tables['timeseries'])})"

    @classmethod
    def from_state(
        cls,
        timeseries: pd.DataFrame | Table,
        params: Params,
        state: State,
        meta: dict[str, Any],
        snapshots: dict[int, tuple[pd.DataFrame, pd.DataFrame]] | None = None,
    ) -> Result:
        pop = state.pop
        live = pop.nodes()
        cols = {name: arr[live] for name, arr in pop.items() if name not in ("knowledge", "active")}
        cols.update({f"knowledge_{k}": pop.knowledge[live, k] for k in range(pop.domains)})
        meta = {
            "clusterup_version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "numpy": np.__version__,
            **meta,
        }
        return cls(timeseries=timeseries, params=params, metadata=meta, firms=named_table(cols), ties=ties_table(state),
                   snapshots=snapshots or {})  # fmt: skip

    @property
    def final(self) -> pd.Series:
        """The last recorded row of the time series."""
        return self.timeseries.iloc[-1]

    def summary(self) -> dict[str, Any]:
        ts = self._tables["timeseries"]
        if isinstance(ts, Table):  # read from the columns: no DataFrame made for it
            last = {c: v[-1] for c, v in ts.columns.items()}
            gen_max = ts.columns["gen_max"].max()
        else:
            last, gen_max = self.final, self.timeseries["gen_max"].max()
        return {
            "scenario": self.params.name,
            "seed": self.metadata.get("seed"),
            "steps": int(last["step"]),
            "firms": int(last["n_firms"]),
            "cap_mean": float(last["cap_mean"]),
            "cap_total": float(last["cap_total"]),
            "cap_rel_frontier": float(last["cap_rel_frontier"]),
            "generations_reached": int(gen_max),
        }

    def save(
        self, directory: str | Path, *, overwrite: bool = False, extra_meta: dict[str, Any] | None = None, resuming: bool = False
    ) -> Path:
        """Write the run atomically to ``directory`` (refusing to replace a run unless ``overwrite``)."""
        target = Path(directory)
        prepare_output(target, overwrite=overwrite, resuming=resuming)
        meta = {**self.metadata, **(extra_meta or {})}
        tmp = temp_dir(target)
        try:
            self._write("timeseries", tmp / "timeseries.parquet")
            ts = self._tables["timeseries"]
            if isinstance(ts, Table):
                ts.write_csv(tmp / "timeseries.csv")
            else:
                self.timeseries.to_csv(tmp / "timeseries.csv", index=False)
            (tmp / "config.toml").write_text(self.params.to_toml(), encoding="utf-8")
            for name in ("firms", "ties", "generations"):
                self._write(name, tmp / f"{name}.parquet")
            for name in ("lifecycles", "panel"):
                if not self._empty(name):
                    self._write(name, tmp / f"{name}.parquet")
            if self.data_ids is not None:
                self.data_ids.to_parquet(tmp / "data_ids.parquet", index=False)
            if self.snapshots:
                (tmp / "networks").mkdir()
                (tmp / "nodes").mkdir()
                for step, (nodes, ties) in sorted(self.snapshots.items()):
                    ties.to_parquet(tmp / "networks" / f"step-{step:06d}.parquet", index=False)
                    nodes.to_parquet(tmp / "nodes" / f"step-{step:06d}.parquet", index=False)
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
            from .provenance import run_crate

            run_crate(tmp, meta)  # last: it lists every file above with its checksum
            swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def _write(self, name: str, path: Path) -> None:
        """A table as Parquet: with PyArrow alone while it is a Table, else through pandas."""
        found = self._tables[name]
        if isinstance(found, Table):
            found.write_parquet(path)
        else:
            self._table(name).to_parquet(path, index=False)

    @classmethod
    def load(cls, directory: str | Path) -> Result:
        import pandas as pd

        d = Path(directory)
        if not d.exists():
            raise ConfigError(f"{d} does not exist")
        if not (d / RUN_MARKER).is_file():
            hint = " (an interrupted run: continue it with `clusterup run --resume`)" if is_unfinished_run(d) else ""
            raise ConfigError(f"{d} is not a clusterup run (no {RUN_MARKER}){hint}")
        params = from_dict(parse_toml((d / "config.toml").read_text(encoding="utf-8"), str(d / "config.toml")))
        meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
        firms = named_codes(pd.read_parquet(d / "firms.parquet")) if (d / "firms.parquet").exists() else pd.DataFrame()
        ties = pd.read_parquet(d / "ties.parquet") if (d / "ties.parquet").exists() else pd.DataFrame()
        snapshots = {}
        for f in sorted((d / "networks").glob("step-*.parquet")) if (d / "networks").is_dir() else []:
            step = int(f.stem.split("-")[1])
            snapshots[step] = (named_codes(pd.read_parquet(d / "nodes" / f.name)), pd.read_parquet(f))
        data_ids = pd.read_parquet(d / "data_ids.parquet") if (d / "data_ids.parquet").exists() else None
        gens = pd.read_parquet(d / "generations.parquet") if (d / "generations.parquet").exists() else pd.DataFrame()
        life = pd.read_parquet(d / "lifecycles.parquet") if (d / "lifecycles.parquet").exists() else pd.DataFrame()
        panel = pd.read_parquet(d / "panel.parquet") if (d / "panel.parquet").exists() else pd.DataFrame()
        return cls(pd.read_parquet(d / "timeseries.parquet"), params, meta, firms, ties, snapshots, data_ids, gens, life, panel)


def is_run_dir(path: Path) -> bool:
    return (path / RUN_MARKER).is_file()


def is_unfinished_run(path: Path) -> bool:
    """A directory holding only a checkpoint: a run that was interrupted before it finished."""
    return (
        path.is_dir() and not is_run_dir(path) and {p.name for p in path.iterdir() if not p.name.startswith(".")} == {"checkpoint"}
    )


def prepare_output(target: Path, *, overwrite: bool, resuming: bool = False) -> None:
    """Refuse an output directory that holds a run (unless overwrite) or anything else a user made."""
    if target.exists():
        if not target.is_dir():
            raise ConfigError(f"--out {target} exists and is not a directory")
        if is_run_dir(target):
            if resuming and not overwrite:
                raise OutputExistsError(f"--resume {target}: that run has finished, there is nothing to resume "
                                        "(run it again with --overwrite)")  # fmt: skip
            if not overwrite:
                raise OutputExistsError(f"--out {target} already holds a run; pass --overwrite to replace it")
        elif is_unfinished_run(target):
            if not (overwrite or resuming):
                raise OutputExistsError(
                    f"--out {target} holds an unfinished run; continue it with --resume {target} or pass --overwrite"
                )
        elif any(target.iterdir()):
            raise ConfigError(f"--out {target} is not empty and is not a clusterup run; choose another directory")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise ConfigError(f"--out {target}: {parent} is not a directory")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {target}: cannot create {parent}: {exc.strerror}") from None
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"--out {target}: {parent} is not writable")
