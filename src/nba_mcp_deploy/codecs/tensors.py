"""Tensor plumbing both protocols share: OIP datatypes, row-major flattening, one value's check,
and the raw little-endian layout of the binary-data extension and gRPC's `raw_*_contents`.

Values stay plain Python (a one-row request has a handful of numbers: NumPy would cost more
than it saves); the serving core turns the records into its float matrix.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

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

# OIP datatype -> the NumPy dtype of its raw (binary) form: little-endian, row-major.
RAW_DTYPES = {datatype: np.dtype(name).newbyteorder("<").str for name, datatype in _FROM_NUMPY.items()}

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


def check_numeric_datatype(datatype: Any, field: str) -> str:
    """A datatype the models can take (numbers and booleans), else an error saying which are."""
    if type(datatype) is str and datatype in RAW_DTYPES:
        return datatype
    known = type(datatype) is str and datatype in DATATYPES
    why = "these models take numbers" if known else "not an Open Inference Protocol datatype"
    raise InvalidInputError(field, datatype, f"{why}; allowed: {', '.join(NUMERIC_DATATYPES)}")


def decode_raw(raw: bytes, datatype: str, count: int, field: str) -> list[Any]:
    """The `count` values of a raw numeric tensor (`datatype` already checked numeric)."""
    dtype = np.dtype(RAW_DTYPES[datatype])
    if len(raw) != count * dtype.itemsize:
        raise InvalidInputError(
            field,
            f"{len(raw)} bytes",
            f"{count} {datatype} values take exactly {count * dtype.itemsize} bytes (little-endian, row-major)",
        )
    values: list[Any] = np.frombuffer(raw, dtype=dtype).tolist()
    return values


def encode_raw(values: Sequence[Any], datatype: str) -> bytes:
    """The raw form of flat values: little-endian numbers, or for BYTES each element as a 4-byte
    little-endian length and its UTF-8 text."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            data = value if isinstance(value, bytes) else str(value).encode()
            parts.append(struct.pack("<I", len(data)) + data)
        return b"".join(parts)
    return np.asarray(values, dtype=RAW_DTYPES[datatype]).tobytes()
