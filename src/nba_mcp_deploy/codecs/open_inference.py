"""The Open Inference Protocol's JSON (KServe V2; also MLServer's and Triton's HTTP API).

A request names its tensors: `{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype",
"data", "parameters"?}], "outputs"?: [{"name"}]}`. Two layouts carry a table of features:

- one tensor per feature, named after it, shape `[N]` or `[N, 1]` (MLServer's `pd` content type);
- one 2-D tensor `[N, F]` (MLServer's `np`), whose columns are named by `parameters.columns`
  (on the tensor or the request), or else follow the model's own feature order.

`data` may be flat or nested row-major. Both become N records (feature -> value); the serving core
then checks them against the version that serves (missing, extra and non-numeric features named).
Responses carry `model_name`, `model_version` (the version that served), `id` (the request's, or
ours), and outputs named as MLServer's scikit-learn runtime names them: `predict` and, for
classifiers, `predict_proba` (`[N, classes]`, the labels in its `parameters.classes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.codecs.tensors import (
    DATATYPES,
    NUMERIC_DATATYPES,
    check_shape,
    check_values,
    datatype_of_dtype,
    datatype_of_values,
    element_count,
    flatten,
)
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.signature import PREDICT, PREDICT_PROBA, ModelSignature

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import PredictionResult

OUTPUT_NAMES = (PREDICT, PREDICT_PROBA)
_NUMERIC = frozenset(NUMERIC_DATATYPES)
MAX_TENSORS = 1_000

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class InferRequest:
    """A decoded request: the rows to score and what the caller asked of the response."""

    records: Records
    request_id: str | None
    outputs: tuple[str, ...] | None


def decode_infer_request(body: Any, feature_order: Callable[[], Sequence[str]]) -> InferRequest:
    """The records of an inference request; `feature_order` names the columns of an unnamed
    2-D tensor (called only then)."""
    if type(body) is not dict:
        raise InvalidInputError("body", body, 'expected a JSON object {"inputs": [tensor, ...]}')
    request_id = body.get("id")
    if request_id is not None and type(request_id) is not str:
        raise InvalidInputError("id", request_id, "expected a string (echoed back in the response)")
    parameters = _parameters(body.get("parameters"), "parameters")
    inputs = body.get("inputs")
    if type(inputs) is not list or not 1 <= len(inputs) <= MAX_TENSORS:
        raise InvalidInputError(
            "inputs",
            inputs,
            f'expected a list of 1 to {MAX_TENSORS} tensors {{"name", "shape", "datatype", "data"}}: one per '
            "feature, or one 2-D tensor [rows, features]",
        )
    tensors = [_tensor(tensor, i) for i, tensor in enumerate(inputs)]
    outputs = _requested_outputs(body.get("outputs"))
    if len(tensors) == 1 and ((len(tensors[0].shape) == 2 and tensors[0].shape[1] != 1) or tensors[0].columns):
        records = _matrix_records(tensors[0], parameters, feature_order)
    else:
        records = _column_records(tensors)
    return InferRequest(records, request_id, outputs)


@dataclass(slots=True)
class _Tensor:
    index: int
    name: str
    shape: list[int]
    values: list[Any]
    columns: list[str] | None

    @property
    def field(self) -> str:
        return f"inputs[{self.index}]"


def _tensor(tensor: Any, index: int) -> _Tensor:
    """One request tensor, checked; an error names its field below `inputs[index]`."""
    try:
        return _checked_tensor(tensor, index)
    except InvalidInputError as exc:  # field names are built only when something is wrong
        field = f"inputs[{index}]" + (f".{exc.field}" if exc.field else "")
        raise InvalidInputError(field, exc.value, exc.allowed) from None


def _checked_tensor(tensor: Any, index: int) -> _Tensor:
    if type(tensor) is not dict:
        raise InvalidInputError("", tensor, 'expected a tensor object {"name", "shape", "datatype", "data"}')
    name = tensor.get("name")
    if type(name) is not str or not name:
        raise InvalidInputError("name", name, "expected a non-empty string (the feature it carries)")
    datatype = tensor.get("datatype")
    if datatype not in _NUMERIC:
        allowed = ", ".join(NUMERIC_DATATYPES)
        why = "these models take numbers" if datatype in DATATYPES else "not an Open Inference Protocol datatype"
        raise InvalidInputError("datatype", datatype, f"{why}; allowed: {allowed}")
    shape = check_shape(tensor.get("shape"), "shape")
    values = flatten(tensor.get("data"), "data")
    if len(values) != element_count(shape):
        raise InvalidInputError(
            "data",
            f"{len(values)} values",
            f"shape {shape} needs exactly {element_count(shape)} values (row-major, flat or nested)",
        )
    check_values(values, datatype, "data")
    parameters = tensor.get("parameters")
    columns = None if parameters is None else _columns(_parameters(parameters, "parameters").get("columns"))
    return _Tensor(index, name, shape, values, columns)


def _parameters(value: Any, field: str) -> dict[str, Any]:
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


def _requested_outputs(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if type(value) is not list or not value:
        raise InvalidInputError("outputs", value, f'expected a list of {{"name"}} with names from {list(OUTPUT_NAMES)}')
    names = []
    for index, item in enumerate(value):
        name = item.get("name") if type(item) is dict else None
        if name not in OUTPUT_NAMES:
            raise InvalidInputError(f"outputs[{index}].name", name, f"allowed outputs: {list(OUTPUT_NAMES)}")
        names.append(name)
    return tuple(names)


def _column_records(tensors: list[_Tensor]) -> Records:
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


def _matrix_records(tensor: _Tensor, parameters: dict[str, Any], feature_order: Callable[[], Sequence[str]]) -> Records:
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


def encode_infer_response(
    result: PredictionResult, *, model_name: str, request_id: str | None, outputs: Sequence[str] | None
) -> dict[str, Any]:
    """The inference response for a served request (outputs: all the model has, unless asked)."""
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
            proba = _tensor_out(PREDICT_PROBA, result.probabilities)
            proba["parameters"] = {"classes": result.classes}
            tensors.append(proba)
    parameters: dict[str, Any] = {"request_id": result.request_id, "routed_by": str(result.routed_by)}
    if result.failover_from is not None:
        parameters["failover_from"] = result.failover_from
    return {
        "model_name": model_name,
        "model_version": result.version,
        "id": request_id if request_id is not None else result.request_id,
        "parameters": parameters,
        "outputs": tensors,
    }


def _tensor_out(name: str, rows: list[Any]) -> dict[str, Any]:
    if rows and type(rows[0]) is list:
        width = len(rows[0])
        flat = [value for row in rows for value in row]
        shape = [len(rows), width]
    else:
        flat, shape = rows, [len(rows)]
    return {"name": name, "datatype": datatype_of_values(flat), "shape": shape, "data": flat}


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
