"""The Open Inference Protocol's JSON (KServe V2; also MLServer's and Triton's HTTP API).

A request names its tensors: `{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype",
"data", "parameters"?}], "outputs"?: [{"name"}]}`. Two layouts carry a table of features:

- one tensor per feature, named after it, shape `[N]` or `[N, 1]` (MLServer's `pd` content type);
- one 2-D tensor `[N, F]` (MLServer's `np`), whose columns are named by `parameters.columns`
  (on the tensor or the request), or else follow the model's own feature order.

`data` may be flat or nested row-major, or (the binary-data extension) left out, with
`parameters.binary_data_size` bytes of raw little-endian values in the body after the JSON, in
tensor order. Both layouts become N records (feature -> value); the serving core
then checks them against the version that serves (missing, extra and non-numeric features named).
Responses carry `model_name`, `model_version` (the version that served), `id` (the request's, or
ours), and outputs named as MLServer's scikit-learn runtime names them: `predict` and, for
classifiers, `predict_proba` (`[N, classes]`, the labels in its `parameters.classes`). An
output asked for with `parameters.binary_data` (or every output, with the request's
`parameters.binary_data_output`) is sent raw after the JSON (`open_inference_binary`).

The tensors themselves (`RequestTensor`, `OutputTensor`) are shared with the gRPC codec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.codecs.tensors import (
    check_numeric_datatype,
    check_shape,
    check_values,
    datatype_of_dtype,
    datatype_of_values,
    decode_raw,
    element_count,
    flatten,
)
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.signature import PREDICT, PREDICT_PROBA, ModelSignature

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import PredictionResult

OUTPUT_NAMES = (PREDICT, PREDICT_PROBA)
MAX_TENSORS = 1_000
BINARY_DATA_SIZE = "binary_data_size"
BINARY_DATA = "binary_data"
BINARY_DATA_OUTPUT = "binary_data_output"

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class InferRequest:
    """A decoded request: the rows to score and what the caller asked of the response
    (`binary`: the outputs to send raw, by the binary-data extension)."""

    records: Records
    request_id: str | None
    outputs: tuple[str, ...] | None
    binary: frozenset[str] = frozenset()


@dataclass(slots=True)
class RequestTensor:
    """One checked input tensor: flat row-major values, and the column names it may carry."""

    index: int
    name: str
    shape: list[int]
    values: list[Any]
    columns: list[str] | None

    @property
    def field(self) -> str:
        return f"inputs[{self.index}]"


def decode_infer_request(
    body: Any, feature_order: Callable[[], Sequence[str]], binary: bytes | None = None
) -> InferRequest:
    """The records of an inference request; `feature_order` names the columns of an unnamed
    2-D tensor (called only then). `binary` is what followed the JSON in the body, if anything."""
    if type(body) is not dict:
        raise InvalidInputError("body", body, 'expected a JSON object {"inputs": [tensor, ...]}')
    request_id = body.get("id")
    if request_id is not None and type(request_id) is not str:
        raise InvalidInputError("id", request_id, "expected a string (echoed back in the response)")
    parameters = parameters_of(body.get("parameters"), "parameters")
    inputs = checked_inputs(body.get("inputs"))
    tail = _BinaryTail(binary or b"")
    tensors = [_json_tensor(tensor, i, tail) for i, tensor in enumerate(inputs)]
    tail.check_used()
    outputs, binary_outputs = _requested_outputs(body.get("outputs"), parameters.get(BINARY_DATA_OUTPUT) is True)
    return InferRequest(records_of(tensors, parameters, feature_order), request_id, outputs, binary_outputs)


def checked_inputs(inputs: Any) -> list[Any]:
    """The request's input tensors: a list of 1 to MAX_TENSORS."""
    if type(inputs) is not list or not 1 <= len(inputs) <= MAX_TENSORS:
        raise InvalidInputError(
            "inputs",
            inputs,
            f'expected a list of 1 to {MAX_TENSORS} tensors {{"name", "shape", "datatype", "data"}}: one per '
            "feature, or one 2-D tensor [rows, features]",
        )
    return inputs


def records_of(
    tensors: list[RequestTensor], parameters: dict[str, Any], feature_order: Callable[[], Sequence[str]]
) -> Records:
    """The rows the tensors carry: one 2-D tensor [N, F], or one tensor per feature."""
    first = tensors[0]
    if len(tensors) == 1 and ((len(first.shape) == 2 and first.shape[1] != 1) or first.columns):
        return _matrix_records(first, parameters, feature_order)
    return _column_records(tensors)


class _BinaryTail:
    """The raw bytes after the JSON, handed out to the tensors in order."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: Any, field: str) -> bytes:
        if type(size) is not int or size < 0 or self._offset + size > len(self._data):
            left = len(self._data) - self._offset
            raise InvalidInputError(
                field, size, f"a byte count of at most the {left} bytes left after the JSON header and earlier tensors"
            )
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def check_used(self) -> None:
        if self._offset != len(self._data):
            raise InvalidInputError(
                "Inference-Header-Content-Length",
                f"{len(self._data) - self._offset} bytes left over",
                "the binary data must be exactly the inputs' binary_data_size bytes, in input order",
            )


def _json_tensor(tensor: Any, index: int, tail: _BinaryTail) -> RequestTensor:
    """One request tensor, checked; an error names its field below `inputs[index]`."""
    try:
        if type(tensor) is not dict:
            raise InvalidInputError("", tensor, 'expected a tensor object {"name", "shape", "datatype", "data"}')
        parameters = parameters_of(tensor.get("parameters"), "parameters")
        datatype = check_numeric_datatype(tensor.get("datatype"), "datatype")
        shape = check_shape(tensor.get("shape"), "shape")
        if BINARY_DATA_SIZE in parameters:
            if "data" in tensor:
                raise InvalidInputError("data", "data and binary_data_size", "send the values in one of the two")
            values = decode_raw(
                tail.take(parameters[BINARY_DATA_SIZE], f"parameters.{BINARY_DATA_SIZE}"),
                datatype,
                element_count(shape),
                f"parameters.{BINARY_DATA_SIZE}",
            )
        else:
            values = flatten(tensor.get("data"), "data")
        return checked_tensor(index, tensor.get("name"), datatype, shape, values, parameters)
    except InvalidInputError as exc:  # field names are built only when something is wrong
        raise field_below(exc, f"inputs[{index}]") from None


def field_below(error: InvalidInputError, prefix: str) -> InvalidInputError:
    """The same error, its field named below `prefix` (e.g. `inputs[2]` + `shape`)."""
    return InvalidInputError(prefix + (f".{error.field}" if error.field else ""), error.value, error.allowed)


def checked_tensor(
    index: int, name: Any, datatype: str, shape: list[int], values: list[Any], parameters: dict[str, Any]
) -> RequestTensor:
    """A tensor whose values match its shape and datatype (fields relative to the tensor)."""
    if type(name) is not str or not name:
        raise InvalidInputError("name", name, "expected a non-empty string (the feature it carries)")
    if len(values) != element_count(shape):
        raise InvalidInputError(
            "data",
            f"{len(values)} values",
            f"shape {shape} needs exactly {element_count(shape)} values (row-major, flat or nested)",
        )
    check_values(values, datatype, "data")
    return RequestTensor(index, name, shape, values, _columns(parameters.get("columns")))


def parameters_of(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise InvalidInputError(field, value, "expected an object of parameter -> value")
    return value


def _columns(value: Any, field: str = "parameters.columns") -> list[str] | None:
    if value is None:
        return None
    if type(value) is not list or not value or any(type(c) is not str for c in value) or len(set(value)) != len(value):
        raise InvalidInputError(field, value, "expected a list of distinct feature names, one per column")
    return value


def _requested_outputs(value: Any, all_binary: bool) -> tuple[tuple[str, ...] | None, frozenset[str]]:
    """The outputs asked for (None: all the model has) and those to send raw."""
    if value is None:
        return None, frozenset(OUTPUT_NAMES) if all_binary else frozenset()
    if type(value) is not list or not value:
        raise InvalidInputError("outputs", value, f'expected a list of {{"name"}} with names from {list(OUTPUT_NAMES)}')
    names = []
    binary = set()
    for index, item in enumerate(value):
        name = item.get("name") if type(item) is dict else None
        if type(name) is not str or name not in OUTPUT_NAMES:
            raise InvalidInputError(f"outputs[{index}].name", name, f"allowed outputs: {list(OUTPUT_NAMES)}")
        names.append(name)
        wanted = parameters_of(item.get("parameters"), f"outputs[{index}].parameters").get(BINARY_DATA, all_binary)
        if wanted is True:
            binary.add(name)
    return tuple(names), frozenset(binary)


def _column_records(tensors: list[RequestTensor]) -> Records:
    """One tensor per feature: every tensor [N] or [N, 1], N the same for all."""
    seen: set[str] = set()
    rows = -1
    for tensor in tensors:
        if tensor.name in seen:
            raise InvalidInputError(f"{tensor.field}.name", tensor.name, "each feature may be sent only once")
        seen.add(tensor.name)
        shape = tensor.shape
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise InvalidInputError(
                f"{tensor.field}.shape",
                shape,
                "with several tensors, each carries one feature: shape [rows] or [rows, 1] (or send ONE 2-D "
                "tensor [rows, features])",
            )
        if rows == -1:
            rows = shape[0]
        elif shape[0] != rows:
            raise InvalidInputError(
                f"{tensor.field}.shape", shape, f"every tensor needs the same number of rows ({rows}, as inputs[0])"
            )
    if len(tensors) == 1:
        name, values = tensors[0].name, tensors[0].values
        return [{name: value} for value in values]
    names = [t.name for t in tensors]
    return [dict(zip(names, row, strict=True)) for row in zip(*(t.values for t in tensors), strict=True)]


def _matrix_records(
    tensor: RequestTensor, parameters: dict[str, Any], feature_order: Callable[[], Sequence[str]]
) -> Records:
    """One 2-D tensor [N, F]: columns from parameters.columns, else the model's feature order."""
    if len(tensor.shape) != 2:
        raise InvalidInputError(
            f"{tensor.field}.shape", tensor.shape, "a tensor with named columns must be 2-D: [rows, columns]"
        )
    rows, width = tensor.shape
    columns = tensor.columns or _columns(parameters.get("columns"), "parameters.columns")
    field = f"{tensor.field}.parameters.columns" if tensor.columns else "parameters.columns"
    if columns is None:
        columns = list(feature_order())
        field = f"{tensor.field}.shape"
        if len(columns) != width:
            raise InvalidInputError(
                field,
                tensor.shape,
                f"an unnamed 2-D tensor must have one column per feature in the model's order: {len(columns)} "
                f"columns {columns}; or name them in parameters.columns",
            )
    elif len(columns) != width:
        raise InvalidInputError(field, columns, f"expected one name per column of the tensor ({width})")
    values = tensor.values
    return [dict(zip(columns, values[r * width : (r + 1) * width], strict=True)) for r in range(rows)]


@dataclass(frozen=True)
class OutputTensor:
    """One response tensor: flat row-major values and their datatype."""

    name: str
    datatype: str
    shape: list[int]
    data: list[Any]
    parameters: dict[str, Any] | None = None


def output_tensors(result: PredictionResult, model_name: str, outputs: Sequence[str] | None) -> list[OutputTensor]:
    """The tensors answering a served request (all the model has, unless some were asked for)."""
    wanted = outputs or ((PREDICT, PREDICT_PROBA) if result.probabilities is not None else (PREDICT,))
    tensors = []
    for name in wanted:
        if name == PREDICT:
            tensors.append(_tensor_out(PREDICT, result.predictions))
        elif result.probabilities is None:
            raise InvalidInputError(
                "outputs", list(wanted), f"{model_name} {result.version} is not a classifier: only {PREDICT!r}"
            )
        else:
            tensors.append(_tensor_out(PREDICT_PROBA, result.probabilities, {"classes": result.classes}))
    return tensors


def response_parameters(result: PredictionResult) -> dict[str, Any]:
    """Which request served it, and how it was routed (also what failed over)."""
    parameters: dict[str, Any] = {"request_id": result.request_id, "routed_by": str(result.routed_by)}
    if result.failover_from is not None:
        parameters["failover_from"] = result.failover_from
    return parameters


def encode_infer_response(
    result: PredictionResult, *, model_name: str, request_id: str | None, outputs: Sequence[str] | None
) -> dict[str, Any]:
    """The inference response for a served request, every tensor's values in `data`."""
    tensors = []
    for tensor in output_tensors(result, model_name, outputs):
        encoded: dict[str, Any] = {
            "name": tensor.name,
            "datatype": tensor.datatype,
            "shape": tensor.shape,
            "data": tensor.data,
        }
        if tensor.parameters is not None:
            encoded["parameters"] = tensor.parameters
        tensors.append(encoded)
    return {
        "model_name": model_name,
        "model_version": result.version,
        "id": request_id if request_id is not None else result.request_id,
        "parameters": response_parameters(result),
        "outputs": tensors,
    }


def _tensor_out(name: str, rows: list[Any], parameters: dict[str, Any] | None = None) -> OutputTensor:
    if rows and type(rows[0]) is list:
        width = len(rows[0])
        flat = [value for row in rows for value in row]
        shape = [len(rows), width]
    else:
        flat, shape = rows, [len(rows)]
    return OutputTensor(name, datatype_of_values(flat), shape, flat, parameters)


def model_metadata(
    model_name: str, versions: Sequence[str], signature: ModelSignature, *, platform: str
) -> dict[str, Any]:
    """Model metadata: versions, and inputs/outputs with datatype and shape (-1: any number of rows)."""
    outputs: list[dict[str, Any]] = []
    for tensor in signature.outputs:
        described: dict[str, Any] = {
            "name": tensor.name,
            "datatype": datatype_of_dtype(tensor.dtype),
            "shape": list(tensor.shape),
        }
        if tensor.name == PREDICT_PROBA and signature.classes is not None:
            described["parameters"] = {"classes": list(signature.classes)}
        outputs.append(described)
    return {
        "name": model_name,
        "versions": list(versions),
        "platform": platform,
        "inputs": [
            {"name": t.name, "datatype": datatype_of_dtype(t.dtype), "shape": list(t.shape)} for t in signature.inputs
        ],
        "outputs": outputs,
    }
