"""Open Inference Protocol JSON <-> records, on payloads shaped as KServe, MLServer and Triton
clients send them, and every malformed one refused with the field that is wrong."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from nba_mcp_deploy.codecs.open_inference import decode_infer_request, encode_infer_response, model_metadata
from nba_mcp_deploy.codecs.open_inference_binary import encode_binary_response, split_body
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.results import PredictionResult, RoutedBy
from nba_mcp_deploy.serving.signature import ModelSignature, TensorInfo

FEATURES = ["a", "b", "c"]


def order() -> list[str]:
    return FEATURES


def no_order() -> list[str]:
    raise AssertionError("the feature order must not be needed for named tensors")


def tensor(name: str, shape: list[int], data: Any, datatype: str = "FP64", **parameters: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "shape": shape, "datatype": datatype, "data": data}
    if parameters:
        out["parameters"] = parameters
    return out


def test_one_tensor_per_feature_becomes_records() -> None:
    columns = [tensor("a", [2], [1.0, 2.0]), tensor("b", [2, 1], [[3], [4]], "INT64"), tensor("c", [2], [5, 6])]
    body = {"inputs": columns}
    decoded = decode_infer_request(body, no_order)
    assert decoded.records == [{"a": 1.0, "b": 3, "c": 5}, {"a": 2.0, "b": 4, "c": 6}]
    assert decoded.request_id is None and decoded.outputs is None


def test_a_2d_tensor_with_named_columns_in_any_order() -> None:
    body = {"id": "r1", "inputs": [tensor("x", [2, 3], [[3, 1, 2], [6, 4, 5]], columns=["c", "a", "b"])]}
    decoded = decode_infer_request(body, no_order)
    assert decoded.records == [{"c": 3, "a": 1, "b": 2}, {"c": 6, "a": 4, "b": 5}]
    assert decoded.request_id == "r1"


def test_a_2d_tensor_columns_may_be_request_parameters_or_the_model_order() -> None:
    flat = tensor("input-0", [2, 3], [1, 2, 3, 4, 5, 6])
    named = decode_infer_request({"parameters": {"columns": ["b", "c", "a"]}, "inputs": [flat]}, no_order)
    assert named.records[0] == {"b": 1, "c": 2, "a": 3}
    positional = decode_infer_request({"inputs": [flat]}, order)
    assert positional.records == [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]


def test_bool_and_null_values_pass_through_for_the_core_to_judge() -> None:
    body = {"inputs": [tensor("a", [2], [True, None], "BOOL")]}
    assert decode_infer_request(body, no_order).records == [{"a": True}, {"a": None}]


def test_requested_outputs_are_kept() -> None:
    body = {"inputs": [tensor("a", [1], [1.0])], "outputs": [{"name": "predict_proba"}]}
    assert decode_infer_request(body, no_order).outputs == ("predict_proba",)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({}, "inputs"),
        ({"inputs": []}, "inputs"),
        ({"inputs": "x"}, "inputs"),
        ({"id": 5, "inputs": [tensor("a", [1], [1.0])]}, "id"),
        ({"parameters": [], "inputs": [tensor("a", [1], [1.0])]}, "parameters"),
        ({"inputs": [5]}, "inputs[0]"),
        ({"inputs": [tensor("", [1], [1.0])]}, "inputs[0].name"),
        ({"inputs": [tensor("a", [1], ["x"], "BYTES")]}, "inputs[0].datatype"),
        ({"inputs": [tensor("a", [1], [1.0], "FLOAT")]}, "inputs[0].datatype"),
        ({"inputs": [tensor("a", [1], [1.0], {})]}, "inputs[0].datatype"),  # unhashable: once a 500
        ({"inputs": [tensor("a", [1], [1.0], ["FP64"])]}, "inputs[0].datatype"),
        ({"inputs": [tensor("a", [1], [1.0])], "outputs": [{"name": {}}]}, "outputs[0].name"),
        (
            {"inputs": [tensor("a", [1], [1.0])], "outputs": [{"name": "predict", "parameters": 1}]},
            "outputs[0].parameters",
        ),
        ({"inputs": [tensor("a", [-1], [1.0])]}, "inputs[0].shape"),
        ({"inputs": [tensor("a", "1", [1.0])]}, "inputs[0].shape"),
        ({"inputs": [tensor("a", [2], [1.0])]}, "inputs[0].data"),
        ({"inputs": [tensor("a", [1], 1.0)]}, "inputs[0].data"),
        ({"inputs": [tensor("a", [2], [[1.0], 2.0])]}, "inputs[0].data"),
        ({"inputs": [tensor("a", [1], ["1.0"])]}, "inputs[0].data[0]"),
        ({"inputs": [tensor("a", [2], [1, 1.5], "INT64")]}, "inputs[0].data[1]"),
        ({"inputs": [tensor("a", [1], [-1], "UINT8")]}, "inputs[0].data[0]"),
        ({"inputs": [tensor("a", [1], [1], "BOOL")]}, "inputs[0].data[0]"),
        ({"inputs": [tensor("a", [1], [True])]}, "inputs[0].data[0]"),
        ({"inputs": [tensor("a", [1], [1.0]), tensor("a", [1], [2.0])]}, "inputs[1].name"),
        ({"inputs": [tensor("a", [1], [1.0]), tensor("b", [2], [1.0, 2.0])]}, "inputs[1].shape"),
        ({"inputs": [tensor("a", [1], [1.0]), tensor("b", [1, 2], [1.0, 2.0])]}, "inputs[1].shape"),
        ({"inputs": [tensor("x", [1, 2], [1.0, 2.0])]}, "inputs[0].shape"),
        ({"inputs": [tensor("x", [1, 3], [1.0, 2.0, 3.0], columns=["a", "b"])]}, "inputs[0].parameters.columns"),
        ({"inputs": [tensor("x", [1, 2], [1.0, 2.0], columns=["a", "a"])]}, "inputs[0].parameters.columns"),
        ({"inputs": [tensor("x", [3], [1.0, 2.0, 3.0], columns=["a", "b", "c"])]}, "inputs[0].shape"),
        ({"inputs": [tensor("a", [1], [1.0])], "outputs": [{"name": "explain"}]}, "outputs[0].name"),
        ({"inputs": [tensor("a", [1], [1.0])], "outputs": []}, "outputs"),
    ],
)
def test_malformed_requests_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        decode_infer_request(body, order)
    assert raised.value.field == field, raised.value


def test_deep_nesting_is_refused() -> None:
    data: Any = [1.0]
    for _ in range(12):
        data = [data]
    with pytest.raises(InvalidInputError) as raised:
        decode_infer_request({"inputs": [tensor("a", [1] * 8, data)]}, order)
    assert raised.value.field in ("inputs[0].data", "inputs[0].shape")


def result(probabilities: list[list[float]] | None = None) -> PredictionResult:
    return PredictionResult(
        model_id="m",
        version="v2.0",
        request_id="req-1",
        prediction_ids=["req-1-0", "req-1-1"],
        predictions=[0, 1],
        probabilities=probabilities,
        classes=[0, 1] if probabilities else None,
        routed_by=RoutedBy.AB_STICKY,
        ab_test=True,
        failover_from=None,
        failover_reason=None,
        latency_ms=0.1,
    )


def test_a_classifier_answers_labels_and_probabilities_naming_the_version() -> None:
    body = encode_infer_response(result([[0.9, 0.1], [0.2, 0.8]]), model_name="m", request_id=None, outputs=None)
    assert body["model_name"] == "m" and body["model_version"] == "v2.0" and body["id"] == "req-1"
    assert body["parameters"] == {"request_id": "req-1", "routed_by": "ab_sticky"}
    predict, proba = body["outputs"]
    assert predict == {"name": "predict", "datatype": "INT64", "shape": [2], "data": [0, 1]}
    assert proba == {
        "name": "predict_proba",
        "datatype": "FP64",
        "shape": [2, 2],
        "data": [0.9, 0.1, 0.2, 0.8],
        "parameters": {"classes": [0, 1]},
    }


def test_requested_outputs_only_and_the_client_id_echoed() -> None:
    body = encode_infer_response(result([[0.9, 0.1], [0.2, 0.8]]), model_name="m", request_id="c", outputs=["predict"])
    assert body["id"] == "c" and [o["name"] for o in body["outputs"]] == ["predict"]
    with pytest.raises(InvalidInputError) as raised:
        encode_infer_response(result(None), model_name="m", request_id=None, outputs=["predict_proba"])
    assert raised.value.field == "outputs"


def test_metadata_types_inputs_and_outputs() -> None:
    signature = ModelSignature(
        inputs=(TensorInfo("a", "float64", (-1,)), TensorInfo("b", "int64", (-1,))),
        outputs=(TensorInfo("predict", "int64", (-1,)), TensorInfo("predict_proba", "float64", (-1, 2))),
        classes=(0, 1),
    )
    body = model_metadata("m", ["v1.0", "v2.0"], signature, platform="p")
    assert body == {
        "name": "m",
        "versions": ["v1.0", "v2.0"],
        "platform": "p",
        "inputs": [{"name": "a", "datatype": "FP64", "shape": [-1]}, {"name": "b", "datatype": "INT64", "shape": [-1]}],
        "outputs": [
            {"name": "predict", "datatype": "INT64", "shape": [-1]},
            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2], "parameters": {"classes": [0, 1]}},
        ],
    }


def binary_tensor(name: str, values: list[float], datatype: str = "FP64", dtype: str = "<f8") -> tuple[dict, bytes]:
    raw = np.asarray(values, dtype=dtype).tobytes()
    return {
        "name": name,
        "shape": [len(values)],
        "datatype": datatype,
        "parameters": {"binary_data_size": len(raw)},
    }, raw


def test_binary_tensors_are_read_in_order_from_after_the_json() -> None:
    a, raw_a = binary_tensor("a", [1.5, 2.5])
    b, raw_b = binary_tensor("b", [3, 4], "INT64", "<i8")
    c, raw_c = binary_tensor("c", [0.5, 0.25], "FP32", "<f4")
    body = {"inputs": [a, b, c], "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]}
    decoded = decode_infer_request(body, no_order, raw_a + raw_b + raw_c)
    assert decoded.records == [{"a": 1.5, "b": 3, "c": 0.5}, {"a": 2.5, "b": 4, "c": 0.25}]
    assert decoded.outputs == ("predict",) and decoded.binary == frozenset({"predict"})
    everything = decode_infer_request({"inputs": [a], "parameters": {"binary_data_output": True}}, no_order, raw_a)
    assert everything.outputs is None and everything.binary == frozenset({"predict", "predict_proba"})


@pytest.mark.parametrize(
    ("tail", "size", "field"),
    [
        (b"\x00" * 8, 16, "inputs[0].parameters.binary_data_size"),  # more than was sent
        (b"\x00" * 12, 12, "inputs[0].parameters.binary_data_size"),  # not two FP64 values
        (b"\x00" * 24, 16, "Inference-Header-Content-Length"),  # bytes left over
        (b"\x00" * 16, "16", "inputs[0].parameters.binary_data_size"),
    ],
)
def test_binary_sizes_that_do_not_add_up_name_the_field(tail: bytes, size: Any, field: str) -> None:
    body = {"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "parameters": {"binary_data_size": size}}]}
    with pytest.raises(InvalidInputError) as raised:
        decode_infer_request(body, no_order, tail)
    assert raised.value.field == field, raised.value


def test_a_binary_response_moves_the_asked_outputs_after_the_json() -> None:
    response = encode_infer_response(result([[0.9, 0.1], [0.2, 0.8]]), model_name="m", request_id=None, outputs=None)
    body, length = encode_binary_response(response, frozenset({"predict_proba"}))
    header = json.loads(body[:length])
    predict, proba = header["outputs"]
    assert predict["data"] == [0, 1] and "data" not in proba
    assert proba["parameters"] == {"classes": [0, 1], "binary_data_size": 32}
    assert np.frombuffer(body[length:], "<f8").tolist() == [0.9, 0.1, 0.2, 0.8]
    assert split_body(body, str(length)) == (body[:length], body[length:])
    with pytest.raises(InvalidInputError):
        split_body(body, str(len(body) + 1))
