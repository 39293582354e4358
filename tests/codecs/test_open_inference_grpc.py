"""OIP gRPC messages <-> records and responses: typed contents and raw bytes give the same rows,
malformed tensors name their field, and the response answers in kind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nba_mcp_deploy.codecs import oip_proto
from nba_mcp_deploy.codecs.open_inference_grpc import decode_model_infer, encode_model_infer, encode_model_metadata
from nba_mcp_deploy.errors import InvalidInputError
from tests.codecs.test_open_inference import no_order, order, result


def request(**fields) -> object:
    return oip_proto.ModelInferRequest(model_name="m", **fields)


def test_typed_contents_and_raw_contents_give_the_same_records() -> None:
    typed = request(
        inputs=[
            {"name": "a", "datatype": "FP64", "shape": [2], "contents": {"fp64_contents": [1.5, 2.5]}},
            {"name": "b", "datatype": "INT64", "shape": [2, 1], "contents": {"int64_contents": [3, 4]}},
            {"name": "c", "datatype": "FP32", "shape": [2], "contents": {"fp32_contents": [0.5, 0.25]}},
        ],
        id="r1",
    )
    raw = request(
        inputs=[
            {"name": n, "datatype": d, "shape": s}
            for n, d, s in (("a", "FP64", [2]), ("b", "INT64", [2, 1]), ("c", "FP32", [2]))
        ],
        raw_input_contents=[
            np.array([1.5, 2.5], "<f8").tobytes(),
            np.array([3, 4], "<i8").tobytes(),
            np.array([0.5, 0.25], "<f4").tobytes(),
        ],
    )
    expected = [{"a": 1.5, "b": 3, "c": 0.5}, {"a": 2.5, "b": 4, "c": 0.25}]
    assert decode_model_infer(typed, no_order).records == expected
    assert decode_model_infer(typed, no_order).request_id == "r1"
    assert decode_model_infer(raw, no_order).records == expected


def test_an_unnamed_matrix_follows_the_model_order_or_a_columns_parameter() -> None:
    tensor = {"name": "x", "datatype": "FP64", "shape": [1, 3], "contents": {"fp64_contents": [1, 2, 3]}}
    assert decode_model_infer(request(inputs=[tensor]), order).records == [{"a": 1, "b": 2, "c": 3}]
    named = request(inputs=[tensor], parameters={"columns": {"string_param": "c, a, b"}}, outputs=[{"name": "predict"}])
    decoded = decode_model_infer(named, no_order)
    assert decoded.records == [{"c": 1, "a": 2, "b": 3}] and decoded.outputs == ("predict",)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"inputs": []}, "inputs"),
        ({"inputs": [{"name": "a", "datatype": "BYTES", "shape": [1]}]}, "inputs[0].datatype"),
        ({"inputs": [{"name": "a", "datatype": "FP64", "shape": [-1]}]}, "inputs[0].shape"),
        (
            {"inputs": [{"name": "a", "datatype": "FP64", "shape": [2], "contents": {"fp64_contents": [1]}}]},
            "inputs[0].data",
        ),
        ({"inputs": [{"name": "a", "datatype": "FP16", "shape": [1]}]}, "inputs[0].contents"),
        (
            {"inputs": [{"name": "a", "datatype": "FP64", "shape": [1]}], "raw_input_contents": [b"\x00" * 4]},
            "inputs[0].raw_input_contents",
        ),
        (
            {"inputs": [{"name": "a", "datatype": "FP64", "shape": [1]}] * 2, "raw_input_contents": [b"\x00" * 8]},
            "raw_input_contents",
        ),
        (
            {
                "inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "contents": {"fp64_contents": [1]}}],
                "outputs": [{"name": "x"}],
            },
            "outputs[0].name",
        ),
    ],
)
def test_malformed_messages_name_the_field(fields: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        decode_model_infer(request(**fields), order)
    assert raised.value.field == field, raised.value


def test_responses_answer_raw_or_typed_with_the_classes_and_routing_as_parameters() -> None:
    served = result([[0.9, 0.1], [0.2, 0.8]])
    typed = encode_model_infer(served, model_name="m", request_id=None, outputs=None, raw=False)
    assert (typed.model_name, typed.model_version, typed.id) == ("m", "v2.0", "req-1")
    assert typed.parameters["routed_by"].string_param == "ab_sticky"
    predict, proba = typed.outputs
    assert list(predict.contents.int64_contents) == [0, 1] and list(proba.shape) == [2, 2]
    assert json.loads(proba.parameters["classes"].string_param) == [0, 1]
    raw = encode_model_infer(served, model_name="m", request_id="c", outputs=["predict_proba"], raw=True)
    assert raw.id == "c" and [o.name for o in raw.outputs] == ["predict_proba"]
    assert np.frombuffer(raw.raw_output_contents[0], "<f8").tolist() == [0.9, 0.1, 0.2, 0.8]


def test_metadata_parameters_become_properties() -> None:
    tensor = {"name": "a", "datatype": "FP64", "shape": [-1]}
    meta = {"name": "m", "versions": ["v1"], "platform": "p", "inputs": [tensor], "outputs": [tensor]}
    encoded = encode_model_metadata({**meta, "parameters": {"active_version": "v1", "described_version": None}})
    assert encoded.name == "m" and list(encoded.inputs[0].shape) == [-1]
    assert dict(encoded.properties) == {"active_version": "v1"}
