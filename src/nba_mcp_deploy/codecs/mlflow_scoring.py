"""MLflow's scoring protocol, as `mlflow models serve` speaks it at `/invocations` (MLflow 3.17).

A JSON object with exactly one of these keys (and optionally `params`, which scikit-learn
models ignore, as MLflow ignores them, whatever their type, for a model without a params schema;
other keys are ignored too):

    dataframe_split     {"columns": [...], "data": [[...], ...], "index"?: [...]}
    dataframe_records   [{column: value, ...}, ...]
    instances           [{column: value}, ...] or {column: [values]} or {column: value}
    inputs              the same shapes as instances

or a CSV body (`text/csv`, a header row of column names), or a Parquet file
(`application/vnd.apache.parquet`). Columns the model does not use are dropped, as MLflow's schema
enforcement drops them (`drop_unused_columns`), so the dataset's own rows with their text columns
score as they are; text in a column the model uses is read as a number when it is one ("5200"),
as MLflow converts values to the signature's types (`coerce_numbers`). Rows without column
names (`"inputs": [[...]]`, a split without `columns`) are refused, as MLflow refuses them for a
model whose signature names its columns, but here the error says how to name them. The answer is
`{"predictions": [...]}`: labels for a classifier, values for a regressor, like pyfunc `predict`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Set
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.errors import InvalidInputError

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import PredictionResult

SPLIT = "dataframe_split"
RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
FORMATS = (SPLIT, RECORDS, INSTANCES, INPUTS)
FORMAT_HELP = (
    f"a JSON object with exactly one of {', '.join(FORMATS)}, e.g. "
    '{"dataframe_records": [{"mp": 2100.0, ...}]} or {"dataframe_split": {"columns": [...], "data": [[...]]}}'
)

Records = list[dict[str, Any]]


def decode_scoring_request(body: Any) -> Records:
    """The records of a JSON scoring request."""
    if type(body) is not dict:
        raise InvalidInputError("body", body, f"expected {FORMAT_HELP}")
    present = [key for key in FORMATS if key in body]
    if len(present) != 1:
        raise InvalidInputError("body", sorted(map(str, body)), f"expected {FORMAT_HELP}")
    key = present[0]
    value = body[key]
    if key == SPLIT:
        return _split(value)
    if key == RECORDS:
        if type(value) is not list:
            raise InvalidInputError(RECORDS, value, "expected a list of records [{column: value, ...}, ...]")
        return _records(value, RECORDS)
    return _tensor_input(value, key)


def _split(value: Any) -> Records:
    if type(value) is not dict or "data" not in value or not set(value) <= {"columns", "data", "index"}:
        raise InvalidInputError(
            SPLIT, value, 'expected {"columns": [names], "data": [[row], ...]} and optionally "index"'
        )
    columns = value.get("columns")
    if type(columns) is not list or any(type(c) is not str for c in columns) or len(set(columns)) != len(columns):
        raise InvalidInputError(
            f"{SPLIT}.columns", columns, "expected a list of distinct column names (the model's signature names them)"
        )
    data = value["data"]
    if type(data) is not list:
        raise InvalidInputError(f"{SPLIT}.data", data, "expected a list of rows, each a list of values")
    width = len(columns)
    records = []
    for index, row in enumerate(data):
        if type(row) is not list or len(row) != width:
            raise InvalidInputError(
                f"{SPLIT}.data[{index}]", row, f"expected a list of {width} values, one per column {columns}"
            )
        records.append(dict(zip(columns, row, strict=True)))
    return records


def _records(rows: list[Any], field: str) -> Records:
    for index, row in enumerate(rows):
        if type(row) is not dict:
            raise InvalidInputError(
                f"{field}[{index}]",
                row,
                "expected a record {column: value}; unnamed rows are refused because the model's columns "
                f'are named: send {{"{RECORDS}": [{{...}}]}} or {{"{SPLIT}": {{"columns": [...], "data": [...]}}}}',
            )
    return rows


def _tensor_input(value: Any, field: str) -> Records:
    """`instances` / `inputs`: a list of records, or columns as {name: [values]} or {name: value}."""
    if type(value) is list:
        return _records(value, field)
    if type(value) is not dict or not value:
        raise InvalidInputError(
            field, value, "expected a list of records [{column: value}] or columns {column: [values]}"
        )
    lists = [type(v) is list for v in value.values()]
    if not any(lists):
        return [dict(value)]
    if not all(lists):
        raise InvalidInputError(field, value, "give every column as a list of values, or every column as one value")
    lengths = {len(v) for v in value.values()}
    if len(lengths) != 1:
        raise InvalidInputError(field, {k: len(v) for k, v in value.items()}, "every column needs the same length")
    names = list(value)
    return [dict(zip(names, row, strict=True)) for row in zip(*value.values(), strict=True)]


def decode_csv(text: str, numeric: Set[str]) -> Records:
    """The records of a CSV body: a header row of column names, then the cells; those of the
    `numeric` columns (the model's) are numbers (empty = missing), the others stay text."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or len(set(header)) != len(header):
        raise InvalidInputError("body", header, "expected a CSV header row of distinct column names")
    numbers = [name in numeric for name in header]
    records = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise InvalidInputError(f"line {line}", row, f"expected {len(header)} values, one per column {header}")
        records.append(
            {
                name: _csv_number(cell, name, line) if number else cell
                for name, cell, number in zip(header, row, numbers, strict=True)
            }
        )
    return records


def _csv_number(cell: str, column: str, line: int) -> float | None:
    text = cell.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"line {line} column {column}", cell, "expected a number (or empty)") from None


def decode_parquet(data: bytes) -> Records:
    """The records of a Parquet file (as `pandas.DataFrame.to_parquet` writes one)."""
    import pandas as pd

    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:
        raise InvalidInputError("body", f"{len(data)} bytes", f"expected a Parquet file ({exc})") from None
    records: Records = frame.to_dict("records")
    return records


def coerce_numbers(records: Records, numeric: Set[str]) -> Records:
    """Text that reads as a number becomes that number in the `numeric` columns (MLflow converts
    to the signature's types); other text is left for the input check to name."""
    if not any(type(value) is str for record in records if type(record) is dict for value in record.values()):
        return records
    return [
        {k: _number_or_text(v) if type(v) is str and k in numeric else v for k, v in record.items()}
        if type(record) is dict
        else record
        for record in records
    ]


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def drop_unused_columns(records: Records, used: Set[str]) -> Records:
    """The records without columns the model does not use (MLflow ignores them too)."""
    if all(record.keys() <= used for record in records if type(record) is dict):
        return records
    return [{k: v for k, v in record.items() if k in used} if type(record) is dict else record for record in records]


def encode_predictions(result: PredictionResult) -> dict[str, Any]:
    return {"predictions": result.predictions}
