"""MLflow scoring payloads -> records, in every format `mlflow models serve` accepts, and the
payloads it refuses refused here too, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from nba_mcp_deploy.codecs.mlflow_scoring import (
    coerce_numbers,
    decode_csv,
    decode_parquet,
    decode_scoring_request,
    drop_unused_columns,
)
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
        {"inputs": ROWS, "params": [1]},  # not an object: ignored, as MLflow ignores it for these models
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
    assert decode_csv("a,b\n1,2\n3,\n", {"a", "b"}) == [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": None}]
    with pytest.raises(InvalidInputError) as raised:
        decode_csv("a,b\n1,x\n", {"a", "b"})
    assert raised.value.field == "line 2 column b"
    with pytest.raises(InvalidInputError):
        decode_csv("a,b\n1\n", {"a", "b"})
    with pytest.raises(InvalidInputError):
        decode_csv("", {"a", "b"})


def test_csv_text_columns_the_model_does_not_use_stay_text_to_be_dropped() -> None:
    records = decode_csv("player_name,a,b\nLeBron James,1,2\n", {"a", "b"})
    assert records == [{"player_name": "LeBron James", "a": 1.0, "b": 2.0}]
    assert drop_unused_columns(records, {"a", "b"}) == [{"a": 1.0, "b": 2.0}]


def test_text_numbers_in_the_models_columns_become_numbers_as_mlflow_converts_them() -> None:
    records = [{"a": "5200", "b": 2.0, "name": "7"}, {"a": "lots", "b": " 1e3 "}]
    assert coerce_numbers(records, {"a", "b"}) == [{"a": 5200.0, "b": 2.0, "name": "7"}, {"a": "lots", "b": 1000.0}]
    plain = [{"a": 1.0}]
    assert coerce_numbers(plain, {"a"}) is plain


def test_parquet_as_pandas_writes_it() -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.0], "who": ["x", "y"]})
    assert decode_parquet(frame.to_parquet()) == [{**row, "who": who} for row, who in zip(ROWS, "xy", strict=True)]
    with pytest.raises(InvalidInputError) as raised:
        decode_parquet(b"not parquet")
    assert raised.value.field == "body"


def test_unused_columns_are_dropped_as_mlflow_drops_them() -> None:
    records = [{"a": 1.0, "b": 2.0, "player": "x"}]
    assert drop_unused_columns(records, {"a", "b"}) == [{"a": 1.0, "b": 2.0}]
    kept = [{"a": 1.0}]
    assert drop_unused_columns(kept, {"a", "b"}) is kept
