"""The one exception tree of nba-mcp-deploy.

Foreign exceptions (sklearn, mlflow, sqlite, OS) are translated into these at the adapter
edge; the MCP layer turns them into `ToolError` in one place (`server/errors.py`). Every
message is written for the agent that will read it: what was wrong and what is allowed.

    DeployError
    ├── NotFoundError            unknown model, version, file
    ├── InvalidInputError        a bad argument: names the field, the value, what is allowed
    │   └── ConfigError          a bad configuration value (names the setting)
    ├── ConflictError            the request contradicts current state (already deployed, ...)
    ├── PermissionDeniedError    the caller's role does not allow it, or a path is not trusted
    ├── CircuitOpenError         the version's circuit breaker refuses calls until retry_at
    ├── ModelLoadError           a model could not be loaded or failed its warm-up call
    ├── ModelExecutionError      the model raised while predicting
    ├── StoreError               the persistent store failed or holds a corrupt/foreign file
    ├── UnavailableError         a system we mirror to or load from (MLflow) does not answer
    └── RemoteError              that system answered but refused the request (says why)
"""

from __future__ import annotations

import reprlib
from typing import Any

_value_repr = reprlib.Repr()
_value_repr.maxstring = 80
_value_repr.maxother = 80
_value_repr.maxlist = 8
_value_repr.maxdict = 8


def describe_value(value: Any) -> str:
    """A short, single-line rendering of a (possibly huge or hostile) value for messages."""
    text = _value_repr.repr(value)
    return text.replace("\n", "\\n").replace("\r", "\\r")


class DeployError(Exception):
    """Base of every error this package raises on purpose."""


class NotFoundError(DeployError):
    """The named model, version or file does not exist."""


class InvalidInputError(DeployError):
    """An argument is invalid. The message names the field, the value and what is allowed."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {field!s}: got {describe_value(value)}; {allowed}")


class ConfigError(InvalidInputError):
    """A configuration setting (environment variable or DeploymentConfig field) is invalid."""


class ConflictError(DeployError):
    """The request contradicts the current state (e.g. the version is already deployed)."""


class PermissionDeniedError(DeployError):
    """The caller may not do this: its role lacks the permission, or a path is not trusted."""


class CircuitOpenError(DeployError):
    """A version's circuit breaker is open and no other version could take the call."""

    def __init__(self, model_id: str, version: str, retry_at: float, retry_in_sec: float) -> None:
        self.model_id = model_id
        self.version = version
        self.retry_at = retry_at
        self.retry_in_sec = retry_in_sec
        super().__init__(
            f"circuit breaker for {model_id} {version} is open after repeated failures; "
            f"it will let a trial call through in {retry_in_sec:.1f}s "
            f"(or call reset_circuit_breaker once the cause is fixed)"
        )


class ModelLoadError(DeployError):
    """A model could not be loaded, or it loaded but failed its warm-up call."""


class ModelExecutionError(DeployError):
    """The model raised while predicting; counted as a failure by the circuit breaker."""


class StoreError(DeployError):
    """The persistent store failed, or its file is corrupt or not ours."""


class UnavailableError(DeployError):
    """A system we mirror to or load from (MLflow) does not answer; what was to reach it waits."""


class RemoteError(DeployError):
    """A system we mirror to or load from (MLflow) answered but refused the request."""
