"""Tables as NumPy columns (clusterup.table): the DataFrames, Parquet files and CSV files they give are those
that pandas gives for the same data, so a run saved without pandas writes the same files (issue 21: a run
that is only saved does not import pandas)."""

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clusterup import Simulation
from clusterup.result import Result
from clusterup.table import Table


def _pandas_parquet(df: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    df.to_parquet(out, index=False)
    return out.getvalue()


def _table_parquet(table: Table) -> bytes:
    out = io.BytesIO()
    table.write_parquet(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def results():
    """Runs whose tables hold every kind of column: organisations (named kinds), exits (missing exit steps and
    causes), network indicators every third step (NaN in the time series), a panel and snapshots."""
    runs = [
        Simulation("policy-institutions", seed=3, firms=150, steps=50, overrides={"run.network_every": 3}).run(),
        Simulation("opportunism", seed=4, firms=100, steps=40, panel_every=5, snapshot_every=20).run(),
    ]
    return runs


@pytest.mark.parametrize("name", ["timeseries", "firms", "ties", "generations", "lifecycles"])
def test_a_runs_tables_write_the_files_pandas_writes(results, name):
    for res in results:
        table = res._tables[name]
        assert isinstance(table, Table)  # as the run left it: not yet a DataFrame
        df = table.to_pandas()
        assert _table_parquet(table) == _pandas_parquet(df)  # byte for byte: schema, pandas metadata, nulls
        pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(_table_parquet(table))), df)
        assert table.to_arrow().schema.equals(pa.Table.from_pandas(df, preserve_index=False).schema, check_metadata=True)


def test_the_time_series_csv_is_pandas_csv(results, tmp_path):
    for k, res in enumerate(results):
        table = res._tables["timeseries"]
        table.write_csv(tmp_path / f"a{k}.csv")
        table.to_pandas().to_csv(tmp_path / f"b{k}.csv", index=False)
        assert (tmp_path / f"a{k}.csv").read_bytes() == (tmp_path / f"b{k}.csv").read_bytes()
    assert np.isnan(results[0]._tables["timeseries"].columns["social_clustering"]).any()  # NaN cells were written


def test_every_kind_of_column_and_empty_tables():
    """Booleans, int8/int32/int64, floats with NaN and infinities, named categories with a missing code,
    nullable integers, text; and the same with no rows."""
    for n in (7, 0):
        rng = np.random.default_rng(n)
        table = Table(
            {"flag": rng.random(n) < 0.5, "small": rng.integers(-5, 5, n).astype(np.int8),
             "mid": rng.integers(0, 9, n).astype(np.int32), "big": rng.integers(0, 2**40, n),
             "x": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n) * np.array([1.0, np.inf, -np.inf, 1e300, 1, 1, 1])[:n]),
             "kind": rng.integers(-1, 3, n), "exited": rng.integers(-1, 50, n),
             "layer": np.array([0, 1, 2] * 3)[:n]},
            categories={"kind": ("a", "b", "c")}, missing={"exited": rng.random(n) < 0.4},
            strings={"layer": ("social", "économique", "")},
        )  # fmt: skip
        df = table.to_pandas()
        assert len(df) == len(table) == n and table.empty == (n == 0)
        assert str(df["kind"].dtype) == "category" and str(df["exited"].dtype) == "Int64" and df["layer"].dtype == "string"
        assert _table_parquet(table) == _pandas_parquet(df)
        if n:  # (an empty categorical comes back from Parquet without its categories, from pandas' own file too)
            pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(_table_parquet(table))), df)
    with pytest.raises(ValueError, match="plain columns"):
        table.write_csv(io.StringIO())


def test_a_result_reads_its_tables_as_dataframes_and_saves_what_it_was_given(tmp_path, results):
    res = results[0]
    fresh = Result(res._tables["timeseries"], res.params, dict(res.metadata), firms=res._tables["firms"],
                   ties=res._tables["ties"], generations=res._tables["generations"],
                   lifecycles=res._tables["lifecycles"])  # fmt: skip
    assert fresh.summary() == res.summary()  # from the columns, before any DataFrame is made
    assert isinstance(fresh.firms, pd.DataFrame) and fresh.firms is fresh.firms  # made once, then kept
    assert fresh.panel.empty and isinstance(fresh.panel, pd.DataFrame)
    fresh.timeseries = fresh.timeseries.assign(cap_mean=-1.0)  # a user's change is what is saved
    fresh.save(tmp_path / "run")
    loaded = Result.load(tmp_path / "run")
    assert (loaded.timeseries["cap_mean"] == -1.0).all()
    pd.testing.assert_frame_equal(loaded.firms, fresh.firms)
    pd.testing.assert_frame_equal(loaded.lifecycles, fresh.lifecycles)
    header, first, *_ = (tmp_path / "run" / "timeseries.csv").read_text().splitlines()
    assert first.split(",")[header.split(",").index("cap_mean")] == "-1.0"


def test_clusterup_run_never_imports_pandas(tmp_path):
    """The main job saves its run with PyArrow alone: pandas (about a quarter of a second of start-up) and
    ``pyarrow.compute`` (25 ms) are made unimportable, and the run must still write every file (the ties' text
    column and the lifecycles' named categories included) and print its summary."""
    code = f"""
import sys
sys.modules["pandas"] = None  # importing pandas now fails
sys.modules["pyarrow.compute"] = None
from clusterup.cli import main
code = main(["run", "baseline", "--firms", "60", "--steps", "5", "--out", {str(tmp_path / "run")!r}])
assert code == 0, code
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
    assert "5 steps" in res.stdout
    saved = Result.load(tmp_path / "run")
    assert len(saved.timeseries) == 6 and not saved.firms.empty and not saved.lifecycles.empty
    assert str(saved.ties["layer"].dtype) == "string" and str(saved.lifecycles["origin"].dtype) == "category"


def test_a_text_columns_codes_outside_its_texts_are_refused():
    """A code with no text would read another text's bytes: refused, as Arrow refused it before."""
    for codes in ([0, 2], [-1, 0]):
        table = Table({"layer": np.array(codes)}, strings={"layer": ("social", "economic")})
        with pytest.raises(ValueError, match=r"codes must be in 0\.\.1"):
            table.write_parquet(io.BytesIO())
