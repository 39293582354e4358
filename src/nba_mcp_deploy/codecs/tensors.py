"""Tensor plumbing both protocols share: OIP datatypes, row-major flattening, one value's check.

Values stay plain Python (a one-row request has a handful of numbers: NumPy would cost more
than it saves); the serving core turns the records into its float matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError

FLOAT_TYPES = ("FP16", "FP32", "FP64")
SIGNED_TYPES = ("INT8", "INT16", "INT32", "INT64")
UNSIGNED_TYPES = ("UINT8", "UINT16", "UINT32", "UINT64")
NUMERIC_DATATYPES = ("BOOL", *UNSIGNED_TYPES, *SIGNED_TYPES, *FLOAT_TYPES)
DATATYPES = (*NUMERIC_DATATYPES, "BYTES")

# NumPy dtype names (as `np.dtype(...).name` gives them) -> OIP datatype; anything else is BYTES.
_FROM_NUMPY = {
    "bool": "BOOL",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
}

# The deepest nesting a tensor's `data` may have (a row-major array of any rank up to this).
MAX_RANK = 8


def datatype_of_dtype(dtype_name: str) -> str:
    """The OIP datatype of a NumPy dtype name (strings and objects are BYTES)."""
    return _FROM_NUMPY.get(dtype_name, "BYTES")


def datatype_of_values(values: Sequence[Any]) -> str:
    """The OIP datatype that holds these (flat) Python values without loss."""
    if all(type(v) is bool for v in values):
        return "BOOL"
    if all(type(v) is int for v in values):
        return "INT64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "FP64"
    return "BYTES"


def flatten(data: Any, field: str) -> list[Any]:
    """`data` in row-major order: flat already, or nested lists (the spec allows both)."""
    if type(data) is not list:
        raise InvalidInputError(field, data, "expected a JSON array of values (flat, or nested row-major)")
    if not data or type(data[0]) is not list:
        for value in data:
            if type(value) is list:
                raise InvalidInputError(field, data, "mixes arrays and values; nest every row or none")
        return data
    flat: list[Any] = []
    _flatten_into(data, flat, field, depth=1)
    return flat


def _flatten_into(data: list[Any], out: list[Any], field: str, depth: int) -> None:
    if depth > MAX_RANK:
        raise InvalidInputError(field, f"arrays nested over {MAX_RANK} deep", f"at most rank {MAX_RANK}")
    nested = type(data[0]) is list if data else False
    for value in data:
        if (type(value) is list) != nested:
            raise InvalidInputError(field, data, "ragged nesting: every element at one depth must be an array or none")
        if nested:
            _flatten_into(value, out, field, depth + 1)
        else:
            out.append(value)


def element_count(shape: Sequence[int]) -> int:
    return math.prod(shape)


def check_shape(shape: Any, field: str) -> list[int]:
    """A shape: a non-empty list of whole numbers >= 0."""
    if type(shape) is not list or not 1 <= len(shape) <= MAX_RANK or any(type(d) is not int or d < 0 for d in shape):
        raise InvalidInputError(field, shape, f"expected a list of 1 to {MAX_RANK} whole numbers >= 0, e.g. [1, 8]")
    return shape


def check_value(value: Any, datatype: str, field: str) -> None:
    """One element of a numeric tensor, checked against its datatype (null = a missing value)."""
    kind = type(value)
    if value is None:
        return
    if datatype in FLOAT_TYPES:
        if kind is float or kind is int:
            return
        allowed = "a number or null"
    elif datatype == "BOOL":
        if kind is bool:
            return
        allowed = "true, false or null"
    else:
        if kind is int and (value >= 0 or datatype in SIGNED_TYPES):
            return
        allowed = "a whole number >= 0 or null" if datatype in UNSIGNED_TYPES else "a whole number or null"
    raise InvalidInputError(field, value, f"datatype {datatype} takes {allowed}")


def check_values(values: list[Any], datatype: str, field: str) -> None:
    """Every element of a numeric tensor checked (one pass of type tests in the common case);
    the error names the first bad element, e.g. `inputs[0].data[3]`."""
    if datatype in FLOAT_TYPES and all(type(v) is float or type(v) is int for v in values):
        return
    for index, value in enumerate(values):
        check_value(value, datatype, f"{field}[{index}]")
