"""The one place where our errors become HTTP responses for application traffic (the inference
routes), as `errors.py` beside it is for MCP tool results.

    InvalidInputError        400  names the field, the value and what is allowed
    PermissionDeniedError    403
    NotFoundError            404  unknown model or version
    BodyTooLargeError        413  (a body without Content-Length that outgrew the limit)
    UnsupportedMediaError    415
    ConflictError            409
    CircuitOpenError         503  with Retry-After: no version could take the call
    ServiceUnavailable       503  with Retry-After: the services are still starting
    ModelExecutionError      500  the model raised (the breaker counted it)
    anything else            500  logged with its traceback

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


_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (InvalidInputError, 400, "BAD_REQUEST"),
    (PermissionDeniedError, 403, "PERMISSION_DENIED"),
    (NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST"),
    (ConflictError, 409, "RESOURCE_CONFLICT"),
    (BodyTooLargeError, 413, "REQUEST_LIMIT_EXCEEDED"),
    (UnsupportedMediaError, 415, "BAD_REQUEST"),
    (CircuitOpenError, 503, "TEMPORARILY_UNAVAILABLE"),
    (ServiceUnavailableError, 503, "TEMPORARILY_UNAVAILABLE"),
    (ModelExecutionError, 500, "INTERNAL_ERROR"),
)


def status_of(error: BaseException) -> tuple[int, str]:
    """The HTTP status and MLflow error code of an error."""
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, "INTERNAL_ERROR"


def error_response(error: BaseException, style: ErrorStyle) -> Response:
    """The response for a failed request; unexpected errors are logged with their traceback."""
    status, code = status_of(error)
    if not isinstance(error, DeployError):
        log.exception("inference request crashed", exc_info=error)
        message = f"internal error ({type(error).__name__}: {error}); see the server log"
    else:
        message = str(error)
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
