"""Any JSON at all: the codecs answer with records or an InvalidInputError naming a field, and
never anything else (no KeyError, TypeError or recursion from a hostile payload)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nba_mcp_deploy.codecs.mlflow_scoring import FORMATS, decode_scoring_request
from nba_mcp_deploy.codecs.open_inference import decode_infer_request
from nba_mcp_deploy.errors import InvalidInputError

FEATURES = ["a", "b"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=True), st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=25,
)
keys = st.sampled_from(["name", "shape", "datatype", "data", "parameters", "columns", "id", "inputs", "outputs"])
datatypes = st.one_of(st.sampled_from(["FP64", "FP32", "INT64", "UINT8", "BOOL", "BYTES", "fp64", ""]), json_values)
shapes = st.one_of(st.lists(st.integers(-2, 4), max_size=3), json_values)
tensors = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(FEATURES), json_values), "shape": shapes, "datatype": datatypes},
    optional={"data": json_values, "parameters": st.one_of(json_values, st.just({"columns": FEATURES}))},
)
oip_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"inputs": st.lists(tensors, max_size=3)}, optional={"outputs": json_values, "id": scalars}),
    st.dictionaries(keys, json_values, max_size=4),
)
mlflow_bodies = st.one_of(json_values, st.dictionaries(st.sampled_from([*FORMATS, "params"]), json_values, max_size=2))


def records_or_field(decode: Any, body: Any) -> None:
    error: InvalidInputError | None = None
    try:
        records = decode(body)
    except InvalidInputError as exc:
        error = exc
    if error is not None:
        assert error.field is not None and str(error).startswith("invalid ")
    else:
        assert isinstance(records, list) and all(isinstance(r, dict) for r in records)


@settings(max_examples=400, deadline=None)
@given(oip_bodies)
def test_open_inference_decoding_never_crashes(body: Any) -> None:
    records_or_field(lambda b: decode_infer_request(b, lambda: FEATURES).records, body)


@settings(max_examples=400, deadline=None)
@given(mlflow_bodies)
def test_mlflow_decoding_never_crashes(body: Any) -> None:
    records_or_field(decode_scoring_request, body)
