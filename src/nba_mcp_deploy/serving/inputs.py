"""Turning request inputs (records or a DataFrame) into the float matrix a model expects.

The common case (well-formed records) takes a fast path of dict lookups and one `np.array`
call. Anything irregular falls to a slow path whose only job is to explain, in one error,
every missing, extra and non-numeric column and every bad value, so an agent can fix the
request in one go.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import InvalidInputError, describe_value

_NUMERIC_TYPES = frozenset({int, float, bool, np.float64, np.float32, np.int64, np.int32, np.bool_})
_MAX_LISTED = 10


class _Irregular(Exception):
    """Internal: the fast path met something it does not handle."""


def is_dataframe(inputs: Any) -> bool:
    """Duck-typed so this module never imports pandas."""
    return hasattr(inputs, "columns") and hasattr(inputs, "to_numpy") and hasattr(inputs, "dtypes")


def to_feature_matrix(
    inputs: Any,
    feature_names: Sequence[str],
    *,
    max_records: int,
    max_features: int,
    allow_missing: bool,
) -> npt.NDArray[np.float64]:
    """A (records x features) float64 matrix in `feature_names` order, or an error naming every problem."""
    if type(inputs) is not list and is_dataframe(inputs):
        return _frame_to_matrix(inputs, feature_names, max_records=max_records, allow_missing=allow_missing)
    if type(inputs) is not list and (not isinstance(inputs, Sequence) or isinstance(inputs, str | bytes)):
        raise InvalidInputError("inputs", inputs, "expected a list of records (objects of feature -> number)")
    if not inputs:
        raise InvalidInputError("inputs", inputs, "expected at least one record")
    if len(inputs) > max_records:
        raise InvalidInputError(
            "inputs", f"{len(inputs)} records", f"at most {max_records} records per request (split the batch)"
        )
    try:
        matrix = _fast_records(inputs, feature_names)
    except _Irregular:
        matrix = _slow_records(inputs, feature_names, max_features=max_features, allow_missing=allow_missing)
    # A sum is finite only if every term is (an overflowing sum just takes the precise path);
    # for one small record Python's sum beats a NumPy call.
    total = sum(matrix[0].tolist()) if matrix.shape[0] == 1 else matrix.sum()
    if not math.isfinite(total):
        _check_non_finite(matrix, feature_names, allow_missing=allow_missing)
    return matrix


def _fast_records(records: Sequence[Any], names: Sequence[str]) -> npt.NDArray[np.float64]:
    width = len(names)
    rows = []
    numeric = _NUMERIC_TYPES
    for record in records:
        if type(record) is not dict or len(record) != width:
            raise _Irregular
        try:
            row = [record[name] for name in names]
        except KeyError:
            raise _Irregular from None
        for value in row:
            if type(value) not in numeric:
                raise _Irregular
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def _slow_records(
    records: Sequence[Any], names: Sequence[str], *, max_features: int, allow_missing: bool
) -> npt.NDArray[np.float64]:
    """Accept what is merely unusual (Mappings, other numeric types); explain everything else."""
    expected = set(names)
    problems: list[str] = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            problems.append(f"record {index} is {describe_value(record)}, not an object of feature -> number")
            break
        if len(record) > max_features:
            problems.append(f"record {index} has {len(record)} fields; at most {max_features} are allowed")
            break
        keys = [k for k in record if isinstance(k, str)]
        if len(keys) != len(record):
            problems.append(f"record {index} has non-text field names")
            break
        missing = [n for n in names if n not in record]
        extra = [k for k in keys if k not in expected]
        bad = [
            f"{k}={describe_value(record[k])}"
            for k in names
            if k in record and not _is_number_or_missing(record[k], allow_missing)
        ]
        if missing:
            problems.append(f"record {index} is missing {_listed(missing)}")
        if extra:
            problems.append(f"record {index} has unexpected {_listed(extra)}")
        if bad:
            problems.append(f"record {index} has non-numeric {_listed(bad)}")
        if len(problems) >= _MAX_LISTED:
            break
    if not problems:
        return np.array([[_as_float(r[n]) for n in names] for r in records], dtype=np.float64)
    raise InvalidInputError(
        "inputs",
        f"{len(records)} record(s)",
        "; ".join(problems) + f". The model expects numeric values for exactly these features: {_listed(names)}",
    )


def _is_number_or_missing(value: Any, allow_missing: bool) -> bool:
    if value is None:
        return allow_missing
    if isinstance(value, numbers.Real):
        return not math.isinf(float(value))
    return False


def _as_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _check_non_finite(matrix: npt.NDArray[np.float64], names: Sequence[str], *, allow_missing: bool) -> None:
    infinite = np.isinf(matrix)
    missing = np.isnan(matrix)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        raise InvalidInputError(
            "inputs",
            f"record {int(rows[0])} feature {names[int(cols[0])]!r} = {matrix[rows[0], cols[0]]}",
            "values must be finite numbers (infinity is not allowed)",
        )
    if missing.any() and not allow_missing:
        rows, cols = np.nonzero(missing)
        features = sorted({names[int(c)] for c in cols})
        raise InvalidInputError(
            "inputs",
            f"missing (null/NaN) values in {_listed(features)} (first in record {int(rows[0])})",
            "this model does not accept missing values; send a number for every feature",
        )


def _frame_to_matrix(
    frame: Any, names: Sequence[str], *, max_records: int, allow_missing: bool
) -> npt.NDArray[np.float64]:
    if len(frame) == 0:
        raise InvalidInputError("inputs", "an empty DataFrame", "expected at least one row")
    if len(frame) > max_records:
        raise InvalidInputError("inputs", f"{len(frame)} rows", f"at most {max_records} rows per request")
    columns = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in columns]
    extra = [c for c in columns if c not in set(names)]
    non_numeric = [n for n in names if n in columns and frame[n].dtype.kind not in "biuf"]
    if missing or extra or non_numeric:
        parts = []
        if missing:
            parts.append(f"missing {_listed(missing)}")
        if extra:
            parts.append(f"unexpected {_listed(extra)}")
        if non_numeric:
            parts.append(f"non-numeric {_listed([f'{n} ({frame[n].dtype})' for n in non_numeric])}")
        raise InvalidInputError(
            "inputs",
            f"DataFrame with columns {_listed(columns)}",
            "; ".join(parts) + f". The model expects numeric columns exactly: {_listed(names)}",
        )
    matrix = np.ascontiguousarray(frame[list(names)].to_numpy(dtype=np.float64, na_value=np.nan))
    if not np.isfinite(matrix).all():
        _check_non_finite(matrix, names, allow_missing=allow_missing)
    return matrix


def _listed(items: Sequence[str]) -> str:
    shown = [str(i) for i in items[:_MAX_LISTED]]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return "[" + ", ".join(shown) + "]" + more
