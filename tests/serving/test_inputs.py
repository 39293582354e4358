"""Request inputs to float matrices: the fast path's result and the slow path's explanations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.inputs import to_feature_matrix

NAMES = ["mp", "poss", "war_total"]


def convert(
    inputs: object, *, allow_missing: bool = False, max_records: int = 100, max_features: int = 10
) -> np.ndarray:
    return to_feature_matrix(
        inputs, NAMES, max_records=max_records, max_features=max_features, allow_missing=allow_missing
    )


def explain(inputs: object, **kwargs: object) -> str:
    with pytest.raises(InvalidInputError) as caught:
        convert(inputs, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == "inputs"
    return str(caught.value)


def test_records_become_a_matrix_in_model_order() -> None:
    records = [{"war_total": 3.5, "mp": 2000, "poss": 4100}, {"poss": 10, "war_total": -0.5, "mp": 12.5}]
    matrix = convert(records)
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, [[2000, 4100, 3.5], [12.5, 10, -0.5]])


def test_booleans_and_numpy_scalars_are_numbers() -> None:
    matrix = convert([{"mp": np.float32(1.5), "poss": np.int64(2), "war_total": True}])
    np.testing.assert_array_equal(matrix, [[1.5, 2, 1]])


def test_every_problem_is_named_at_once() -> None:
    text = explain([{"mp": 1, "poss": "many", "extra_col": 2}])
    assert "missing [war_total]" in text
    assert "unexpected [extra_col]" in text
    assert "non-numeric [poss='many']" in text
    assert "[mp, poss, war_total]" in text


def test_problems_in_later_records_name_the_record() -> None:
    text = explain([{"mp": 1, "poss": 2, "war_total": 3}, {"mp": 1, "poss": 2}])
    assert "record 1 is missing [war_total]" in text


def test_missing_values_only_when_the_model_accepts_them() -> None:
    record = {"mp": None, "poss": 2, "war_total": float("nan")}
    assert "does not accept missing" in explain([{"mp": 1.0, "poss": 2, "war_total": float("nan")}])
    assert "non-numeric [mp=None]" in explain([record])
    matrix = convert([record], allow_missing=True)
    assert math.isnan(matrix[0, 0]) and math.isnan(matrix[0, 2])


def test_infinity_is_refused() -> None:
    assert "finite" in explain([{"mp": float("inf"), "poss": 2, "war_total": 3}])


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ([], "at least one record"),
        ("mp=3", "list of records"),
        ({"mp": 1}, "list of records"),
        ([[1, 2, 3]], "not an object"),
        ([{1: 2}], "non-text field names"),
    ],
)
def test_malformed_inputs(inputs: object, fragment: str) -> None:
    assert fragment in explain(inputs)


def test_size_limits() -> None:
    assert "at most 3 records" in explain([{"mp": 1, "poss": 2, "war_total": 3}] * 4, max_records=3)
    wide = {f"f{i}": 1.0 for i in range(11)}
    assert "at most 10 are allowed" in explain([wide], max_features=10)


def test_dataframes_are_accepted_and_checked() -> None:
    frame = pd.DataFrame({"war_total": [1.0, 2.0], "mp": [3, 4], "poss": [5.0, 6.0]})
    np.testing.assert_array_equal(convert(frame), [[3, 5, 1], [4, 6, 2]])
    bad = frame.assign(poss=["a", "b"], other=[1, 2])
    text = explain(bad)
    assert "unexpected [other]" in text and "non-numeric [poss" in text
    assert "empty" in explain(frame.iloc[:0])


def test_huge_finite_values_are_not_mistaken_for_infinity() -> None:
    matrix = convert([{"mp": 1e308, "poss": 1e308, "war_total": 1e308}, {"mp": 1, "poss": 2, "war_total": 3}])
    assert matrix[0, 0] == 1e308
    single = convert([{"mp": 1e308, "poss": 1e308, "war_total": 0.0}])
    assert single[0, 1] == 1e308
