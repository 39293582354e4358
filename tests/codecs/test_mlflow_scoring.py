"""MLflow scoring payloads -> records, in every format `mlflow models serve` accepts, and the
payloads it refuses refused here too, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from nba_mcp_deploy.codecs.mlflow_scoring import decode_csv, decode_scoring_request, drop_unused_columns
from nba_mcp_deploy.errors import InvalidInputError

ROWS = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 4.0]]}},
        {"dataframe_split": {"columns": ["b", "a"], "data": [[2.0, 1.0], [4.0, 3.0]], "index": [7, 8]}},
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"instances": {"a": [1.0, 3.0], "b": [2.0, 4.0]}},
        {"inputs": {"a": [1.0, 3.0], "b": [2.0, 4.0]}},
        {"inputs": ROWS, "params": {"threshold": 0.5}},
        {"inputs": ROWS, "unrelated": "ignored, as MLflow ignores it"},
    ],
)
def test_every_format_gives_the_same_records(body: dict[str, Any]) -> None:
    assert [dict(sorted(r.items())) for r in decode_scoring_request(body)] == ROWS


def test_one_record_as_scalars() -> None:
    assert decode_scoring_request({"inputs": {"a": 1.0, "b": 2.0}}) == [{"a": 1.0, "b": 2.0}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([ROWS], "body"),
        ({}, "body"),
        ({"records": ROWS}, "body"),
        ({"inputs": ROWS, "instances": ROWS}, "body"),
        ({"inputs": ROWS, "params": [1]}, "params"),
        ({"dataframe_split": [[1.0, 2.0]]}, "dataframe_split"),
        ({"dataframe_split": {"data": [[1.0, 2.0]]}}, "dataframe_split.columns"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[1.0]]}}, "dataframe_split.data[0]"),
        ({"dataframe_split": {"columns": ["a"], "data": [[1.0]], "orient": "x"}}, "dataframe_split"),
        ({"dataframe_records": {"a": [1.0]}}, "dataframe_records"),
        ({"dataframe_records": [[1.0, 2.0]]}, "dataframe_records[0]"),
        ({"inputs": [[1.0, 2.0]]}, "inputs[0]"),
        ({"instances": [[1.0, 2.0]]}, "instances[0]"),
        ({"inputs": {"a": [1.0, 2.0], "b": [1.0]}}, "inputs"),
        ({"inputs": {"a": [1.0], "b": 2.0}}, "inputs"),
        ({"inputs": "a,b"}, "inputs"),
    ],
)
def test_refused_payloads_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        decode_scoring_request(body)
    assert raised.value.field == field, raised.value


def test_csv_with_a_header_and_missing_cells() -> None:
    assert decode_csv("a,b\n1,2\n3,\n") == [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": None}]
    with pytest.raises(InvalidInputError) as raised:
        decode_csv("a,b\n1,x\n")
    assert raised.value.field == "line 2 column b"
    with pytest.raises(InvalidInputError):
        decode_csv("a,b\n1\n")
    with pytest.raises(InvalidInputError):
        decode_csv("")


def test_unused_columns_are_dropped_as_mlflow_drops_them() -> None:
    records = [{"a": 1.0, "b": 2.0, "player": "x"}]
    assert drop_unused_columns(records, {"a", "b"}) == [{"a": 1.0, "b": 2.0}]
    kept = [{"a": 1.0}]
    assert drop_unused_columns(kept, {"a", "b"}) is kept
