"""The Open Inference Protocol over gRPC: its protobuf messages to and from the tensors the JSON
codec shares (`RequestTensor` in, `OutputTensor` out), so both protocols decode, check and answer
alike.

Inputs come as typed `contents` (the field of their datatype: `fp64_contents`, `int64_contents`,
...) or as `raw_input_contents`, one little-endian byte string per input, as tritonclient sends
them. The response answers in kind: raw outputs for a raw request, typed contents otherwise.
Parameters are scalars in gRPC, so a 2-D tensor names its columns in a `columns` string
parameter, comma-separated; a classifier's `predict_proba` lists its classes as a JSON string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.codecs import oip_proto
from nba_mcp_deploy.codecs.open_inference import (
    OUTPUT_NAMES,
    InferRequest,
    RequestTensor,
    checked_inputs,
    checked_tensor,
    field_below,
    output_tensors,
    records_of,
    response_parameters,
)
from nba_mcp_deploy.codecs.tensors import check_numeric_datatype, check_shape, decode_raw, element_count, encode_raw
from nba_mcp_deploy.errors import InvalidInputError

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import PredictionResult

# The typed field of InferTensorContents that carries each datatype (FP16 travels raw only).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def decode_model_infer(message: Any, feature_order: Callable[[], Sequence[str]]) -> InferRequest:
    """The records of a ModelInferRequest (the model and version are read by the caller)."""
    inputs = checked_inputs(list(message.inputs))
    raw = list(message.raw_input_contents)
    if raw and len(raw) != len(inputs):
        raise InvalidInputError(
            "raw_input_contents", f"{len(raw)} entries", f"one raw byte string per input ({len(inputs)})"
        )
    tensors = [_tensor(tensor, index, raw[index] if raw else None) for index, tensor in enumerate(inputs)]
    outputs = []
    for index, requested in enumerate(message.outputs):
        if requested.name not in OUTPUT_NAMES:
            raise InvalidInputError(f"outputs[{index}].name", requested.name, f"allowed outputs: {list(OUTPUT_NAMES)}")
        outputs.append(requested.name)
    records = records_of(tensors, parameters_of(message.parameters), feature_order)
    return InferRequest(records, message.id or None, tuple(outputs) or None)


def _tensor(tensor: Any, index: int, raw: bytes | None) -> RequestTensor:
    try:
        datatype = check_numeric_datatype(tensor.datatype, "datatype")
        shape = check_shape(list(tensor.shape), "shape")
        if raw is not None:
            values = decode_raw(raw, datatype, element_count(shape), "raw_input_contents")
        elif datatype in CONTENTS_FIELD:
            values = list(getattr(tensor.contents, CONTENTS_FIELD[datatype]))
        else:
            raise InvalidInputError("contents", datatype, f"{datatype} has no typed contents: send raw_input_contents")
        return checked_tensor(index, tensor.name, datatype, shape, values, parameters_of(tensor.parameters))
    except InvalidInputError as exc:
        raise field_below(exc, f"inputs[{index}]") from None


def parameters_of(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """InferParameter values as plain Python; `columns` split into a list of names."""
    plain: dict[str, Any] = {}
    for key, parameter in parameters.items():
        choice = parameter.WhichOneof("parameter_choice")
        value = None if choice is None else getattr(parameter, choice)
        if key == "columns" and isinstance(value, str):
            value = [name.strip() for name in value.split(",")]
        plain[key] = value
    return plain


def set_parameters(target: Any, values: Mapping[str, Any]) -> None:
    """Plain values into an InferParameter map (lists and objects as JSON strings)."""
    for key, value in values.items():
        parameter = target[key]
        if isinstance(value, bool):
            parameter.bool_param = value
        elif isinstance(value, int):
            parameter.int64_param = value
        elif isinstance(value, float):
            parameter.double_param = value
        elif isinstance(value, str):
            parameter.string_param = value
        else:
            parameter.string_param = json.dumps(value)


def encode_model_infer(
    result: PredictionResult, *, model_name: str, request_id: str | None, outputs: Sequence[str] | None, raw: bool
) -> Any:
    """The ModelInferResponse for a served request: raw outputs if `raw`, else typed contents."""
    response = oip_proto.ModelInferResponse(
        model_name=model_name,
        model_version=result.version,
        id=request_id if request_id is not None else result.request_id,
    )
    set_parameters(response.parameters, response_parameters(result))
    for tensor in output_tensors(result, model_name, outputs):
        out = response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
        if tensor.parameters is not None:
            set_parameters(out.parameters, tensor.parameters)
        if raw:
            response.raw_output_contents.append(encode_raw(tensor.data, tensor.datatype))
        elif tensor.datatype == "BYTES":
            out.contents.bytes_contents.extend(str(value).encode() for value in tensor.data)
        else:
            getattr(out.contents, CONTENTS_FIELD[tensor.datatype]).extend(tensor.data)
    return response


def encode_model_metadata(metadata: Mapping[str, Any]) -> Any:
    """ModelMetadataResponse from the JSON codec's metadata; its `parameters` become `properties`."""
    response = oip_proto.ModelMetadataResponse(
        name=metadata["name"], versions=metadata["versions"], platform=metadata["platform"]
    )
    for kind in ("inputs", "outputs"):
        for tensor in metadata[kind]:
            getattr(response, kind).add(name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"])
    for key, value in (metadata.get("parameters") or {}).items():
        if value is not None:
            response.properties[key] = str(value)
    return response
