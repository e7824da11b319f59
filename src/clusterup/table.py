"""A table as NumPy columns: what the recorder and the final state give, as a DataFrame, a Parquet file or a CSV
file on demand.

A run that only writes its files (``clusterup run``) never needs pandas, the largest of its imports (about a
quarter of a second; docs/performance.md). Its Result therefore holds its tables in this form until one is
read as a DataFrame (:meth:`Table.to_pandas`, which imports pandas then), and writes them with PyArrow alone:
:meth:`Table.to_arrow` builds the Arrow table that ``pyarrow.Table.from_pandas`` builds from that DataFrame,
the pandas metadata included (the schema's ``b"pandas"`` entry, by which ``pandas.read_parquet`` restores the
named categories, the nullable integers and the text column), and :meth:`Table.write_csv` writes what
``DataFrame.to_csv(index=False)`` writes. tests/test_table.py holds both to pandas' own output.

Columns are of four kinds: plain NumPy arrays (integers, floats, booleans); named categories (``categories``:
int8 codes, -1 for a missing value, and the names); nullable integers (``missing``: int64 values and the mask
of the missing ones, pandas' ``Int64``); and text (``strings``: codes into a few texts, as for categories, but
pandas' ``string`` dtype and Arrow's ``large_string``: the ties' layer names).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass
class Table:
    """Named columns of equal length (see the module's docstring for the four kinds)."""

    columns: dict[str, np.ndarray]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> names of its codes
    missing: dict[str, np.ndarray] = field(default_factory=dict)  # nullable integer column -> mask of missing
    strings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # text column -> the texts of its codes

    def __len__(self) -> int:
        return int(next(iter(self.columns.values())).shape[0]) if self.columns else 0

    @property
    def empty(self) -> bool:
        """No rows (or no columns), as ``DataFrame.empty``."""
        return len(self) == 0

    def to_pandas(self) -> pd.DataFrame:
        """The DataFrame: plain columns as they are, categories as ``pandas.Categorical``, nullable integers as
        ``Int64``, text as ``string``."""
        import pandas as pd

        cols: dict[str, Any] = {}
        for name, values in self.columns.items():
            if name in self.categories:
                cols[name] = pd.Categorical.from_codes(values.astype(np.int8, copy=False), categories=list(self.categories[name]))
            elif name in self.missing:
                arr = pd.array(values, dtype="Int64")
                arr[self.missing[name]] = pd.NA
                cols[name] = arr
            elif name in self.strings:
                cols[name] = pd.array(np.array(self.strings[name], dtype=object)[values], dtype="string")
            else:
                cols[name] = values
        return pd.DataFrame(cols)

    def to_arrow(self) -> pa.Table:
        """The Arrow table ``pyarrow.Table.from_pandas(self.to_pandas(), preserve_index=False)`` gives, without
        pandas: the same column types and the same pandas metadata."""
        import pyarrow as pa

        arrays, described = [], []
        for name, values in self.columns.items():
            meta = None
            if name in self.categories:
                codes = values.astype(np.int8, copy=False)
                names = self.categories[name]
                valid, nulls = _validity(pa, codes < 0)
                array = pa.DictionaryArray.from_buffers(pa.dictionary(pa.int8(), pa.large_string()), codes.size,
                                                        [valid, pa.py_buffer(np.ascontiguousarray(codes))],
                                                        _text(pa, names, pa.large_string()), null_count=nulls)  # fmt: skip
                kind, numpy_type, meta = "categorical", "int8", {"num_categories": len(names), "ordered": False}
            elif name in self.missing:
                array = _numbers(pa, np.asarray(values, dtype=np.int64), self.missing[name])
                kind, numpy_type = "int64", "Int64"
            elif name in self.strings:  # the texts gathered by NumPy (not one str per row)
                array = _decoded(pa, self.strings[name], values)
                kind, numpy_type = "object", "string"
            else:  # NaN is null, as pandas hands floats to Arrow
                array = _numbers(pa, values, np.isnan(values) if values.dtype.kind == "f" else None)
                kind = numpy_type = values.dtype.name
            arrays.append(array)
            described.append({"name": name, "field_name": name, "pandas_type": kind, "numpy_type": numpy_type,
                              "metadata": meta})  # fmt: skip
        creator = {"library": "pyarrow", "version": pa.__version__}
        pandas_meta = {"index_columns": [], "column_indexes": [], "columns": described, "attributes": {},
                       "creator": creator, "pandas_version": _pandas_version()}  # fmt: skip
        return pa.Table.from_arrays(arrays, names=list(self.columns), metadata={b"pandas": json.dumps(pandas_meta).encode("utf8")})

    def write_parquet(self, path: str | Path) -> None:
        """As ``self.to_pandas().to_parquet(path, index=False)`` writes it (snappy-compressed, pandas metadata)."""
        import pyarrow.parquet as pq

        pq.write_table(self.to_arrow(), path, compression="snappy")

    def write_csv(self, path: str | Path) -> None:
        """As ``self.to_pandas().to_csv(path, index=False)`` writes it, for plain columns (integers, floats with
        Python's shortest repr and empty cells for NaN, booleans as True/False)."""
        if self.categories or self.missing or self.strings:
            raise ValueError("write_csv writes plain columns only")
        cells = [_csv_cells(v) for v in self.columns.values()]
        eol = os.linesep
        text = ",".join(self.columns) + eol + "".join(",".join(row) + eol for row in zip(*cells, strict=True))
        Path(path).write_text(text, encoding="utf-8", newline="")


# The Arrow arrays are made from their buffers: ``pyarrow.array`` asks whether its input is a pandas object and
# imports pandas for that, and ``DictionaryArray.from_arrays`` and ``Array.cast`` import ``pyarrow.compute``
# (25 ms of a run's start).


def _numbers(pa: Any, values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A NumPy array of numbers or booleans as an Arrow array; ``missing`` marks nulls."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        kind, data = pa.bool_(), np.packbits(values, bitorder="little")
    else:
        kind, data = pa.from_numpy_dtype(values.dtype), values
    valid, nulls = _validity(pa, missing)
    return pa.Array.from_buffers(kind, values.size, [valid, pa.py_buffer(data)], null_count=nulls)


def _validity(pa: Any, missing: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    """Arrow's validity bitmap for the rows marked ``missing`` (None where none is) and the number of nulls."""
    if missing is None or not missing.any():
        return None, 0
    return pa.py_buffer(np.packbits(~missing, bitorder="little")), int(missing.sum())


def _utf8(values: tuple[str, ...]) -> tuple[bytes, np.ndarray]:
    """The strings' UTF-8 bytes, end to end, and where each begins (int64; one more entry: the end)."""
    encoded = [str(v).encode("utf-8") for v in values]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=starts[1:])
    return b"".join(encoded), starts


def _text(pa: Any, values: tuple[str, ...], kind: pa.DataType) -> pa.Array:
    """A few strings (category names, a text column's texts) as an Arrow ``string`` or ``large_string`` array."""
    data, starts = _utf8(values)
    offsets = starts if kind == pa.large_string() else starts.astype(np.int32)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _decoded(pa: Any, texts: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """A text column as an Arrow ``large_string`` array: row ``i`` holds ``texts[codes[i]]`` (codes >= 0), its bytes
    gathered from the texts' bytes in one NumPy pass."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and not 0 <= codes.min() <= codes.max() < len(texts):
        raise ValueError(f"a text column's codes must be in 0..{len(texts) - 1}")
    text_bytes, starts = _utf8(texts)
    row_lengths = np.diff(starts)[codes]
    offsets = np.zeros(codes.size + 1, dtype=np.int64)
    np.cumsum(row_lengths, out=offsets[1:])
    # byte j of row i comes from byte (j - offsets[i]) of text codes[i], which starts at starts[codes[i]]
    source = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - starts[codes], row_lengths)
    data = np.frombuffer(text_bytes, dtype=np.uint8)[source]
    return pa.Array.from_buffers(pa.large_string(), codes.size, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _csv_cells(values: np.ndarray) -> list[str]:
    if values.dtype.kind == "f":
        return ["" if x != x else repr(x) for x in values.tolist()]
    return [str(x) for x in values.tolist()]


def _pandas_version() -> str:
    """pandas' version, as the metadata that pandas itself writes names it, without importing pandas."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pandas")
    except PackageNotFoundError:  # pragma: no cover - pandas is a dependency
        return ""
