"""Tabular input as named columns: a DataFrame, a list of records, a mapping of columns, or a file.

Files (CSV, Parquet) are read only from the configured data roots (`paths.confine`), and no source
may exceed `max_rows` rows. pandas is imported only when a file is read, so importing the
monitoring package stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.paths import confine

Columns = dict[str, npt.NDArray[Any]]

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _too_many(field: str, rows: int, max_rows: int) -> InvalidInputError:
    return InvalidInputError(field, f"{rows} rows", f"at most {max_rows} rows; sample the data first")


def _column(values: Any) -> npt.NDArray[Any]:
    """Numbers as float64 (None -> NaN); anything else as an object array (categories)."""
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False)
    try:
        return np.array([np.nan if v is None else v for v in array.tolist()], dtype=np.float64)
    except (TypeError, ValueError):
        return array.astype(object, copy=False)


def _from_frame(frame: Any, max_rows: int, field: str) -> Columns:
    rows = len(frame)
    if rows > max_rows:
        raise _too_many(field, rows, max_rows)
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    out: Columns = {}
    for name in frame.columns:
        series = frame[name]
        if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
            out[str(name)] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[str(name)] = _column(series.to_numpy(dtype=object))
    return out


def _from_records(records: Sequence[Mapping[str, Any]], max_rows: int, field: str) -> Columns:
    if len(records) > max_rows:
        raise _too_many(field, len(records), max_rows)
    names: dict[str, None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"{field}[{i}]", record, "each record must be an object of feature: value")
        names.update(dict.fromkeys(str(k) for k in record))
    return {name: _column([record.get(name) for record in records]) for name in names}


def _from_mapping(columns: Mapping[str, Any], max_rows: int, field: str) -> Columns:
    out = {str(name): _column(values) for name, values in columns.items()}
    rows = max((v.shape[0] for v in out.values()), default=0)
    if rows > max_rows:
        raise _too_many(field, rows, max_rows)
    return out


def _from_file(path: Path, max_rows: int, field: str) -> Columns:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        try:
            frame = pd.read_csv(path, nrows=max_rows + 1)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(field, str(path), f"could not be read as CSV: {exc}") from None
    elif suffix in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            rows = pq.ParquetFile(path).metadata.num_rows
            if rows > max_rows:
                raise _too_many(field, rows, max_rows)
            frame = pd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise InvalidInputError(field, str(path), f"could not be read as Parquet: {exc}") from None
    else:
        raise InvalidInputError(field, str(path), "a .csv or .parquet file")
    return _from_frame(frame, max_rows, field)


def read_columns(
    data: Any,
    *,
    data_roots: Sequence[Path],
    max_rows: int,
    field: str = "data",
) -> Columns:
    """Named columns from a DataFrame, records, a mapping of columns, or a CSV / Parquet path."""
    if isinstance(data, str | Path):
        path = confine(data, data_roots, what="data files", field=field)
        return _from_file(path, max_rows, field)
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        return _from_frame(data, max_rows, field)
    if isinstance(data, Mapping):
        return _from_mapping(data, max_rows, field)
    if isinstance(data, Sequence) and not isinstance(data, bytes):
        return _from_records(data, max_rows, field)
    raise InvalidInputError(
        field, type(data).__name__, "a DataFrame, a list of records, a mapping of columns or a file path"
    )
