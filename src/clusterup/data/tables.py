"""Cluster data: firm, organisation, tie and pipeline tables (CSV or Parquet), read and validated.

A data directory holds ``firms.csv`` (or ``.parquet``) and optionally ``organisations``, ``ties`` and
``pipelines`` tables. docs/data-format.md documents every column. Validation names the file, the
row (1-based, counting data rows) and the column of the first problem, and raises
:class:`~clusterup.errors.ConfigError` (exit code 2); nothing is simulated or written before the
data passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..state.firms import ORG_KINDS
from ..state.multiplex import LAYERS

TABLES = ("firms", "organisations", "ties", "pipelines")
EXAMPLE = "example"  # ``--from-data example``: the synthetic cluster shipped in the package


class DataError(ConfigError):
    """A problem in a data table, located by file, row and column."""


@dataclass
class ClusterData:
    """Validated tables; ids are the user's (integers or strings)."""

    firms: pd.DataFrame
    organisations: pd.DataFrame | None = None
    ties: pd.DataFrame | None = None
    pipelines: pd.DataFrame | None = None
    source: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def save(self, directory: str | Path, fmt: str = "parquet", overwrite: bool = False) -> Path:
        """Write the tables as ``fmt`` (parquet or csv) into a new directory, atomically; with ``overwrite``,
        a directory that holds only such tables is replaced (any other directory never is)."""
        import shutil

        from ..io_utils import swap_into_place, temp_dir

        if fmt not in ("parquet", "csv"):
            raise ConfigError(f"--format must be parquet or csv; got {fmt!r}")
        target = Path(directory)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            ours = {f"{t}.{x}" for t in TABLES for x in ("csv", "parquet")}
            tables_only = target.is_dir() and all(p.name in ours or p.name.startswith(".") for p in target.iterdir())
            if not tables_only:
                raise ConfigError(f"--out {target} exists and is not an empty directory or one of cluster data; choose another")
            if not overwrite:
                raise ConfigError(f"--out {target} holds cluster data; pass --overwrite to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_dir(target)
        try:
            for name in TABLES:
                df = getattr(self, name)
                if df is None:
                    continue
                if fmt == "parquet":
                    df.to_parquet(tmp / f"{name}.parquet", index=False)
                else:
                    df.to_csv(tmp / f"{name}.csv", index=False)
            if target.exists() and not any(target.iterdir()):
                target.rmdir()
            swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target


def example_dir() -> Path:
    return Path(str(resources.files("clusterup") / "data" / "example"))


def _find(d: Path, name: str) -> Path | None:
    found = [p for p in (d / f"{name}.csv", d / f"{name}.parquet") if p.is_file()]
    if len(found) > 1:
        raise DataError(f"{d}: both {name}.csv and {name}.parquet exist; keep one")
    return found[0] if found else None


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        df = pd.read_csv(path, skipinitialspace=True, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{path.name}: cannot read it as {path.suffix[1:].upper()} ({' '.join(str(exc).split())[:200]})") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own types for corrupt files
        raise DataError(f"{path.name}: cannot read it ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    check_delimiter(df, path.name, DataError)
    return df


def check_delimiter(df: pd.DataFrame, name: str, error: type[Exception]) -> None:
    """A CSV read as one column whose name holds ';' or a tab was written with another separator: say so."""
    if len(df.columns) == 1:
        head = str(df.columns[0])
        for sep, word in ((";", "semicolons"), ("\t", "tabs")):
            if sep in head:
                raise error(f"{name}: the columns are separated by {word}; clusterup reads comma-separated CSV "
                            "(decimal point '.'): save it as comma-separated CSV")  # fmt: skip


class _Checker:
    def __init__(self, name: str, df: pd.DataFrame) -> None:
        self.name, self.df = name, df

    def fail(self, row: int | None, column: str, message: str) -> None:
        where = f"row {row + 1}, " if row is not None else ""
        raise DataError(f"{self.name}: {where}column {column!r}: {message}")

    def require(self, *columns: str) -> None:
        for c in columns:
            if c not in self.df.columns:
                raise DataError(f"{self.name}: missing column {c!r} (columns: {', '.join(map(str, self.df.columns)) or 'none'})")

    def unknown(self, allowed: set[str], prefixes: tuple[str, ...] = ()) -> None:
        for c in self.df.columns:
            if c not in allowed and not str(c).startswith(prefixes):
                raise DataError(f"{self.name}: unknown column {c!r}; allowed: {', '.join(sorted(allowed))}")

    def ids(self, column: str = "id") -> pd.Series:
        s = self.df[column]
        bad = s.isna()
        if bad.any():
            self.fail(int(np.flatnonzero(bad)[0]), column, "missing id")
        if not (pd.api.types.is_integer_dtype(s) or pd.api.types.is_string_dtype(s) or s.dtype == object):
            self.fail(None, column, f"ids must be integers or text; got {s.dtype}")
        s = s.astype(str) if s.dtype == object else s
        dup = s.duplicated()
        if dup.any():
            r = int(np.flatnonzero(dup)[0])
            self.fail(r, column, f"duplicate id {_show(s.iloc[r])}")
        return s

    def number(self, column: str, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
               integer: bool = False, required: bool = True) -> np.ndarray | None:  # fmt: skip
        if column not in self.df.columns:
            if required:
                self.require(column)
            return None
        s = self.df[column]
        if s.dtype == bool or not pd.api.types.is_numeric_dtype(s):
            conv = pd.to_numeric(s, errors="coerce")
            bad = conv.isna() & s.notna()
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                self.fail(r, column, f"not a number: {_show(s.iloc[r])}")
            s = conv
        x = s.to_numpy(dtype=np.float64)
        miss = np.isnan(x)
        if miss.any():
            self.fail(int(np.flatnonzero(miss)[0]), column, "missing value")
        inf = ~np.isfinite(x)
        if inf.any():
            self.fail(int(np.flatnonzero(inf)[0]), column, "not a finite number")
        if integer:
            frac = x != np.round(x)
            if frac.any():
                self.fail(int(np.flatnonzero(frac)[0]), column, f"must be an integer; got {x[frac][0]!r}")
        rule = []
        bad = np.zeros(x.size, bool)
        if lo is not None:
            bad |= (x <= lo) if lo_open else (x < lo)
            rule.append(f"{'>' if lo_open else '>='} {lo:g}")
        if hi is not None:
            bad |= x > hi
            rule.append(f"<= {hi:g}")
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            self.fail(r, column, f"must be {' and '.join(rule)}; got {x[r]:g}")
        return x


FIRM_COLUMNS = {"id", "capability", "size", "segment", "x", "y", "region", "generation", "rd", "wealth"}
ORG_COLUMNS = {"id", "kind", "x", "y", "capacity"}
TIE_COLUMNS = {"source", "target", "layer", "weight"}
PIPELINE_COLUMNS = {"id", "strength"}


def validate(
    firms: pd.DataFrame,
    organisations: pd.DataFrame | None = None,
    ties: pd.DataFrame | None = None,
    pipelines: pd.DataFrame | None = None,
    *,
    names: dict[str, str] | None = None,
    domains: int | None = None,
) -> ClusterData:
    """Check the tables; return them with ids as given and derived columns normalised."""
    names = names or {t: t for t in TABLES}
    c = _Checker(names["firms"], firms.reset_index(drop=True))
    if len(c.df) < 2:
        raise DataError(f"{names['firms']}: need at least two firms; got {len(c.df)}")
    c.unknown(FIRM_COLUMNS, ("knowledge_",))
    c.require("id")
    fid = c.ids()
    if "capability" not in c.df.columns and "size" not in c.df.columns:
        raise DataError(f"{names['firms']}: missing column 'capability' (or a size proxy in 'size')")
    if "capability" in c.df.columns and "size" in c.df.columns:
        raise DataError(f"{names['firms']}: give 'capability' or 'size', not both")
    c.number("capability", lo=0.0, lo_open=True, required=False)
    c.number("size", lo=0.0, lo_open=True, required=False)
    c.number("generation", lo=0, hi=1000, integer=True, required=False)
    c.number("rd", lo=0.0, hi=1.0, required=False)
    c.number("wealth", lo=0.0, required=False)
    for col in ("x", "y"):
        c.number(col, lo=0.0, hi=1.0, required=False)
    if ("x" in c.df.columns) != ("y" in c.df.columns):
        raise DataError(f"{names['firms']}: give both 'x' and 'y' (or a 'region' column)")
    if "region" in c.df.columns:
        miss = c.df["region"].isna()
        if miss.any():
            c.fail(int(np.flatnonzero(miss)[0]), "region", "missing value")
    if "segment" in c.df.columns:
        seg = c.df["segment"]
        if seg.isna().any():
            c.fail(int(np.flatnonzero(seg.isna())[0]), "segment", "missing value")
        if pd.api.types.is_numeric_dtype(seg) and seg.dtype != bool:
            c.number("segment", lo=0, hi=999, integer=True)
    kcols = [col for col in c.df.columns if str(col).startswith("knowledge_")]
    _check_knowledge(c, kcols, domains)
    all_ids = list(fid)
    orgs = None
    if organisations is not None:
        o = _Checker(names["organisations"], organisations.reset_index(drop=True))
        o.unknown(ORG_COLUMNS, ("knowledge_",))
        o.require("id", "kind")
        oid = o.ids()
        kinds = o.df["kind"].astype(str)
        bad = ~kinds.isin(list(ORG_KINDS)) | o.df["kind"].isna()
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            o.fail(r, "kind", f"unknown kind {_show(o.df['kind'].iloc[r])}; allowed: {', '.join(ORG_KINDS)}")
        for col in ("x", "y"):
            o.number(col, lo=0.0, hi=1.0, required=False)
        o.number("capacity", lo=1, hi=1e9, integer=True, required=False)
        _check_knowledge(o, [col for col in o.df.columns if str(col).startswith("knowledge_")], domains)
        clash = oid.isin(set(fid.tolist()))
        if clash.any():
            r = int(np.flatnonzero(clash)[0])
            o.fail(r, "id", f"id {_show(oid.iloc[r])} is also a firm's id")
        all_ids += list(oid)
        orgs = o.df
    known = set(map(_key, all_ids))
    if ties is not None:
        t = _Checker(names["ties"], ties.reset_index(drop=True))
        t.unknown(TIE_COLUMNS)
        t.require("source", "target", "layer", "weight")
        for col in ("source", "target"):
            s = t.df[col]
            miss = s.isna()
            if miss.any():
                t.fail(int(np.flatnonzero(miss)[0]), col, "missing id")
            unknown = ~s.map(_key).isin(known)
            if unknown.any():
                r = int(np.flatnonzero(unknown)[0])
                t.fail(r, col, f"unknown id {_show(s.iloc[r])} (not in {names['firms']} or {names['organisations']})")
        self_tie = t.df["source"].map(_key) == t.df["target"].map(_key)
        if self_tie.any():
            t.fail(int(np.flatnonzero(self_tie)[0]), "target", "a tie from a node to itself")
        layer = t.df["layer"].astype(str)
        bad = ~layer.isin(LAYERS) | t.df["layer"].isna()
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            t.fail(r, "layer", f"unknown layer {_show(t.df['layer'].iloc[r])}; allowed: {', '.join(LAYERS)}")
        t.number("weight", lo=0.0, lo_open=True)
        a, b = t.df["source"].map(_key), t.df["target"].map(_key)
        pair = pd.DataFrame({"layer": layer, "lo": np.where(a < b, a, b), "hi": np.where(a < b, b, a)})
        dup = pair.duplicated()
        if dup.any():
            r = int(np.flatnonzero(dup)[0])
            first = int(np.flatnonzero((pair == pair.iloc[r]).all(axis=1))[0])
            t.fail(r, "target", f"duplicate {layer.iloc[r]} tie {_show(t.df['source'].iloc[r])}-{_show(t.df['target'].iloc[r])} "
                                f"(also row {first + 1}; ties are undirected)")  # fmt: skip
        ties = t.df
    if pipelines is not None:
        p = _Checker(names["pipelines"], pipelines.reset_index(drop=True))
        p.unknown(PIPELINE_COLUMNS)
        p.require("id", "strength")
        pid = p.ids()
        firm_keys = set(map(_key, fid))
        unknown = ~pid.map(_key).isin(firm_keys)
        if unknown.any():
            r = int(np.flatnonzero(unknown)[0])
            p.fail(r, "id", f"unknown firm id {_show(pid.iloc[r])}")
        p.number("strength", lo=0.0, lo_open=True, hi=1.0)
        pipelines = p.df
    return ClusterData(c.df, orgs, ties, pipelines)


def _show(v: Any) -> str:
    """A cell value for a message: numbers plain, text quoted."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return repr(v)


def _key(v: Any) -> str:
    """Ids compare as text, so 7, 7.0 and "7" name the same node across tables and file types."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _check_knowledge(c: _Checker, kcols: list[str], domains: int | None) -> None:
    if not kcols:
        return
    want = [f"knowledge_{d}" for d in range(domains if domains is not None else len(kcols))]
    if sorted(kcols) != sorted(want):
        raise DataError(f"{c.name}: knowledge columns must be {want[0]}..{want[-1]} (one per domain, init.domains = "
                        f"{len(want)}); got {', '.join(kcols)}")  # fmt: skip
    for col in want:
        c.number(col, lo=0.0)
    total = c.df[want].to_numpy(dtype=np.float64).sum(axis=1)
    zero = total <= 0
    if zero.any():
        c.fail(int(np.flatnonzero(zero)[0]), want[0], "knowledge shares sum to zero")


def load(directory: str | Path, *, domains: int | None = None) -> ClusterData:
    """Read and validate a data directory (``example`` names the shipped synthetic cluster)."""
    d = example_dir() if str(directory) == EXAMPLE else Path(directory)
    if not d.is_dir():
        raise DataError(f"--from-data {directory}: not a directory")
    paths = {name: _find(d, name) for name in TABLES}
    if paths["firms"] is None:
        raise DataError(f"--from-data {directory}: no firms.csv or firms.parquet")
    extra = sorted(p.name for p in d.iterdir() if p.suffix in (".csv", ".parquet") and p.stem not in TABLES)
    if extra:
        raise DataError(f"--from-data {directory}: unexpected table {extra[0]}; tables: {', '.join(TABLES)}")
    frames = {name: (_read(p) if p is not None else None) for name, p in paths.items()}
    names = {name: (p.name if p is not None else f"{name}.csv") for name, p in paths.items()}
    data = validate(frames["firms"], frames["organisations"], frames["ties"], frames["pipelines"], names=names, domains=domains)
    data.source = str(d)
    data.files = {k: str(v) for k, v in paths.items() if v is not None}
    return data
