"""The experiment directory: a plan, one pair of files per finished run, and a DuckDB view over them.

::

    DIR/experiment.json          the plan (spec, arms, seeds, every run) -- written first
    DIR/runs/run-NNNNNN.parquet  a finished run's time series (run_id, step, indicators...)
    DIR/runs/run-NNNNNN.json     its record: status ok|failed, error, seed, arm, parameters, final indicators
    DIR/runs.parquet             every record as one table (rebuilt by finalize)
    DIR/results.duckdb           views ``runs`` and ``timeseries`` over the files above

Each file is written under a temporary name and renamed. A run's record is written after its time
series and is what marks it finished: a run without a record is redone on ``--resume`` (its
time-series file, if any, is replaced whole), a run with one never is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..io_utils import temp_file, write_text_atomic
from .design import Plan

PLAN_FILE = "experiment.json"
DB_FILE = "results.duckdb"


def is_experiment_dir(path: Path) -> bool:
    return (path / PLAN_FILE).is_file()


def run_stem(run_id: int) -> str:
    return f"run-{run_id:06d}"


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    fd, tmp = temp_file(path)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class ExperimentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, plan: Plan, *, resume: bool = False, overwrite: bool = False) -> ExperimentStore:
        """A new experiment directory, or (``resume``) the existing one holding the same plan."""
        root = Path(root)
        store = cls(root)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"--out {root} exists and is not a directory")
        if is_experiment_dir(root):
            stored = store.plan()
            if resume:
                if stored.to_json() != plan.to_json():
                    raise ConfigError(f"--resume: {root} holds a different experiment (its plan differs from this one)")
                store.remove_stale_temporaries()
                return store
            if not overwrite:
                raise ConfigError(f"--out {root} holds an experiment; pass --resume to finish it or --overwrite to replace it")
            store.clear()
        elif root.exists() and any(root.iterdir()):
            raise ConfigError(f"--out {root} is not empty and is not a clusterup experiment; choose another directory")
        elif resume:
            raise ConfigError(f"--resume: {root} holds no experiment to finish")
        try:
            store.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--out {root}: cannot create it: {exc.strerror}") from None
        write_text_atomic(root / PLAN_FILE, plan.to_json())
        return store

    @classmethod
    def open(cls, root: Path) -> ExperimentStore:
        if not Path(root).exists():
            raise ConfigError(f"{root} does not exist")
        if not is_experiment_dir(Path(root)):
            hint = " (it is a run directory)" if (Path(root) / "metadata.json").is_file() else ""
            raise ConfigError(f"{root} is not a clusterup experiment (no {PLAN_FILE}){hint}")
        return cls(Path(root))

    def remove_stale_temporaries(self) -> None:
        """Temporary files a killed writer left behind (never complete files: those were renamed)."""
        for d in (self.root, self.runs_dir):
            for f in d.glob(".*.tmp"):
                f.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove only what an experiment writes (never files a user put there)."""
        self.remove_stale_temporaries()
        for f in list(self.runs_dir.glob("run-*.parquet")) + list(self.runs_dir.glob("run-*.json")):
            f.unlink()
        for name in ("runs.parquet", DB_FILE, PLAN_FILE):
            p = self.root / name
            if p.exists():
                p.unlink()

    # -- reading ----------------------------------------------------------------------------
    def plan(self) -> Plan:
        return Plan.from_json((self.root / PLAN_FILE).read_text(encoding="utf-8"))

    def finished_ids(self) -> set[int]:
        return {int(p.stem.split("-")[1]) for p in self.runs_dir.glob("run-*.json")}

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.runs_dir.glob("run-*.json"))]

    def timeseries(self, run_id: int) -> pd.DataFrame:
        return pd.read_parquet(self.runs_dir / f"{run_stem(run_id)}.parquet")

    def all_timeseries(self) -> pd.DataFrame:
        """Every finished run's time series with its arm and replicate (for summaries and plots)."""
        frames = []
        for rec in self.records():
            if rec["status"] == "ok":
                ts = self.timeseries(rec["run_id"])
                ts.insert(1, "arm", rec["arm"])
                ts.insert(2, "replicate", rec["replicate"])
                frames.append(ts)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # -- writing ----------------------------------------------------------------------------
    def write_run(self, record: dict[str, Any], timeseries: pd.DataFrame | None) -> None:
        stem = run_stem(record["run_id"])
        if timeseries is not None:
            write_parquet_atomic(timeseries, self.runs_dir / f"{stem}.parquet")
        write_text_atomic(self.runs_dir / f"{stem}.json", json.dumps(record, sort_keys=True))

    def runs_table(self) -> pd.DataFrame:
        plan = self.plan()
        recs = self.records()
        if not recs:
            cols = list(dict.fromkeys(["run_id", "arm", "replicate", "seed", "scenario", *plan.varied, "status", "error"]))
            return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        df = pd.DataFrame(recs)
        first = ["run_id", "arm", "replicate", "seed", "scenario", *plan.varied, "status", "error", "wall_seconds"]
        first = [c for c in dict.fromkeys(first) if c in df.columns]
        return df[first + [c for c in df.columns if c not in first]].sort_values("run_id", ignore_index=True)

    def finalize(self) -> None:
        """Rebuild runs.parquet and the DuckDB views from the records (cheap; safe to repeat)."""
        table = self.runs_table()
        write_parquet_atomic(table, self.root / "runs.parquet")
        self.refresh_views()

    def refresh_views(self) -> None:
        import duckdb

        db = self.root / DB_FILE
        fd, tmp = temp_file(db)
        os.close(fd)
        os.remove(tmp)  # duckdb creates the file itself
        try:
            con = duckdb.connect(tmp)
            try:
                runs = _sql_path(self.root / "runs.parquet")
                con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet({runs})")
                if any(self.runs_dir.glob("run-*.parquet")):
                    ts = _sql_path(self.runs_dir / "run-*.parquet")
                    con.execute(f"CREATE VIEW timeseries AS SELECT * FROM read_parquet({ts}, union_by_name = true)")
                else:
                    con.execute("CREATE VIEW timeseries AS SELECT NULL::BIGINT AS run_id, NULL::BIGINT AS step WHERE false")
            finally:
                con.close()
            os.replace(tmp, db)
        finally:
            for p in (tmp, tmp + ".wal"):
                if os.path.exists(p):
                    os.remove(p)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL against the views; the views are rebuilt first, so a moved or unfinished directory works."""
        import duckdb

        self.finalize()
        con = duckdb.connect(str(self.root / DB_FILE), read_only=True)
        try:
            return con.execute(sql).fetchdf()
        except duckdb.Error as exc:
            raise ConfigError(f"query: {_explain(sql, exc)}") from None
        finally:
            con.close()


def query_files(views: dict[str, Path], sql: str) -> pd.DataFrame:
    """SQL (DuckDB) over views of result files (``name -> .parquet or .csv``; files that are missing are left
    out), in an in-memory database: for directories that are not experiment stores (calibrations,
    policy-mix searches). An error is one ConfigError line."""
    import duckdb

    con = duckdb.connect()
    try:
        for name, path in views.items():
            if path.is_file():
                reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {reader}({_sql_path(path)})")
        return con.execute(sql).fetchdf()
    except duckdb.Error as exc:
        raise ConfigError(f"query: {_explain(sql, exc)}") from None
    finally:
        con.close()


def _sql_path(p: Path) -> str:
    return "'" + str(p.resolve()).replace("'", "''") + "'"


def _explain(sql: str, exc: Exception) -> str:
    """DuckDB's error in one line; an unquoted dotted parameter column (read by SQL as table.column) is
    named with the quoting that works."""
    import re

    from ..params import describe_parameters

    keys = {row[0] for row in describe_parameters()}
    unquoted = re.sub(r'"[^"]*"|\'[^\']*\'', " ", sql)  # drop quoted names and string literals
    dotted = [m for m in re.findall(r"\b([A-Za-z_]\w*\.[A-Za-z_]\w*)\b", unquoted) if m in keys]
    if dotted:
        return f'parameter columns have a dot in their name: quote them, "{dotted[0]}" (not {dotted[0]})'
    return " ".join(str(exc).split())
