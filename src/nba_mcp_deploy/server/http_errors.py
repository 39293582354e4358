"""The one place where our errors become protocol statuses for application traffic (the
inference routes over HTTP and gRPC), as `errors.py` beside it is for MCP tool results.

                             HTTP gRPC
    InvalidInputError        400  INVALID_ARGUMENT    names the field, the value and what is allowed
    PermissionDeniedError    403  PERMISSION_DENIED
    NotFoundError            404  NOT_FOUND           unknown model or version, or route
    BodyTooLargeError        413  RESOURCE_EXHAUSTED  (a body that outgrew the limit as it was read)
    UnsupportedMediaError    415  INVALID_ARGUMENT
    ConflictError            409  ABORTED
    CircuitOpenError         503  UNAVAILABLE         with Retry-After: no version could take the call
    ServiceUnavailable       503  UNAVAILABLE         with Retry-After: the services are still starting
    ModelExecutionError      500  INTERNAL            the model raised or answered NaN (the breaker counted it)
    anything else            500  INTERNAL            logged with its traceback

A model's failure is a 500, where `mlflow models serve` answers 400: the request was valid for
the model's signature, the breaker counts the failure against the version, and a 5xx tells
clients, retries and load balancers the fault is the server's (KServe, MLServer and Triton
answer 500 too).

Bodies follow the protocol: the Open Inference Protocol's `{"error": message}`, MLflow's
`{"error_code": ..., "message": ...}`; both add `field` and `allowed` for a bad argument.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

from starlette.responses import Response

from nba_mcp_deploy.errors import (
    CircuitOpenError,
    ConflictError,
    DeployError,
    InvalidInputError,
    ModelExecutionError,
    NotFoundError,
    PermissionDeniedError,
)
from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)

JSON_MEDIA_TYPE = "application/json"


class ErrorStyle(Enum):
    """Which protocol's error body to answer with."""

    OPEN_INFERENCE = "oip"
    MLFLOW = "mlflow"


class BodyTooLargeError(DeployError):
    """A request body (sent without Content-Length) outgrew the payload limit while being read."""


class UnsupportedMediaError(DeployError):
    """A request body in a content type the endpoint does not read."""


class ServiceUnavailableError(DeployError):
    """The services are still starting (or failed to start)."""


_STATUS: tuple[tuple[type[BaseException], int, str, str], ...] = (
    (InvalidInputError, 400, "BAD_REQUEST", "INVALID_ARGUMENT"),
    (PermissionDeniedError, 403, "PERMISSION_DENIED", "PERMISSION_DENIED"),
    (NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"),
    (ConflictError, 409, "RESOURCE_CONFLICT", "ABORTED"),
    (BodyTooLargeError, 413, "REQUEST_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"),
    (UnsupportedMediaError, 415, "BAD_REQUEST", "INVALID_ARGUMENT"),
    (CircuitOpenError, 503, "TEMPORARILY_UNAVAILABLE", "UNAVAILABLE"),
    (ServiceUnavailableError, 503, "TEMPORARILY_UNAVAILABLE", "UNAVAILABLE"),
    (ModelExecutionError, 500, "INTERNAL_ERROR", "INTERNAL"),
)
_UNEXPECTED = (500, "INTERNAL_ERROR", "INTERNAL")


def _row(error: BaseException) -> tuple[int, str, str]:
    for kind, status, code, grpc_code in _STATUS:
        if isinstance(error, kind):
            return status, code, grpc_code
    return _UNEXPECTED


def status_of(error: BaseException) -> tuple[int, str]:
    """The HTTP status and MLflow error code of an error."""
    status, code, _ = _row(error)
    return status, code


def grpc_code_of(error: BaseException) -> str:
    """The name of the gRPC status code of an error (a `grpc.StatusCode` member)."""
    return _row(error)[2]


def error_message(error: BaseException) -> str:
    """What the caller is told; an unexpected error is logged with its traceback, not shown."""
    if isinstance(error, DeployError):
        return str(error)
    log.exception("inference request crashed", exc_info=error)
    return f"internal error ({type(error).__name__}: {error}); see the server log"


def error_response(error: BaseException, style: ErrorStyle) -> Response:
    """The response for a failed request; unexpected errors are logged with their traceback."""
    status, code = status_of(error)
    message = error_message(error)
    body: dict[str, Any] = (
        {"error": message} if style is ErrorStyle.OPEN_INFERENCE else {"error_code": code, "message": message}
    )
    if isinstance(error, InvalidInputError):
        body["field"] = error.field
        body["allowed"] = error.allowed
    headers = {}
    if isinstance(error, CircuitOpenError):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_in_sec)))
    elif isinstance(error, ServiceUnavailableError):
        headers["Retry-After"] = "1"
    return json_response(body, status, headers)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Compact JSON; a non-finite number (JSON has none) is sent as null."""
    try:
        content = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        content = json.dumps(_finite(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(content, status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A protocol-neutral JSON error (unknown routes, wrong methods): `{"error": message}`, what
    the Open Inference Protocol's clients read, never the framework's plain text."""
    return json_response({"error": message}, status, headers)
