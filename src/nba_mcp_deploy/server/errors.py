"""The one place where the core's answers become MCP's: errors as `ToolError`s (the seed's
`handle_errors`), results as the models the tools publish.

Every tool runs inside `ToolBoundary`: it attaches the tool, model and version to the log
context, times the call into the operation metrics, turns a `DeployError` into a `ToolError`
whose text the agent can act on, and turns anything unexpected into a `ToolError` too (logged
with its traceback) instead of the SDK's bare "Error executing tool". A tool that returns a
dataclass is published with that dataclass's model as its output schema, and its result is
shown through it (`outputs.py`).
"""

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast

from mcp.server.mcpserver.exceptions import ToolError

from nba_mcp_deploy.access.policy import describe
from nba_mcp_deploy.errors import (
    CircuitOpenError,
    ConflictError,
    DeployError,
    InvalidInputError,
    ModelExecutionError,
    ModelLoadError,
    NotFoundError,
    PermissionDeniedError,
    RemoteError,
    StoreError,
    UnavailableError,
)
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.server.outputs import output_model, show, shown_class

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_LABELS: tuple[tuple[type[DeployError], str], ...] = (
    (InvalidInputError, "invalid argument"),
    (NotFoundError, "not found"),
    (ConflictError, "conflict"),
    (PermissionDeniedError, "permission denied"),
    (CircuitOpenError, "circuit open"),
    (ModelLoadError, "model load failed"),
    (ModelExecutionError, "model error"),
    (StoreError, "store error"),
    (UnavailableError, "unavailable"),
    (RemoteError, "refused by a remote service"),
)


def label(error: DeployError) -> str:
    """A short category the agent can branch on, e.g. 'invalid argument' or 'circuit open'."""
    for kind, text in _LABELS:
        if isinstance(error, kind):
            return text
    return "error"


def to_tool_error(error: Exception, tool: str) -> ToolError:
    """Translate any exception from the core into the ToolError the agent reads."""
    if isinstance(error, DeployError):
        return ToolError(f"{label(error)}: {error}")
    return ToolError(
        f"internal error in {tool} ({type(error).__name__}: {error}); the server is still running, "
        "see its log for the traceback"
    )


class ToolBoundary:
    """Wraps tools (sync or async): log context, operation metrics, error translation."""

    def __init__(self, operations: OperationMetrics) -> None:
        self._operations = operations

    @contextmanager
    def guard(self, name: str, arguments: dict[str, Any]) -> Iterator[None]:
        """The boundary itself, for one call of tool `name`."""
        model_id = arguments.get("model_id")
        version = arguments.get("version")
        start = time.perf_counter()
        with request_context(
            tool=name,
            model_id=model_id if isinstance(model_id, str) else None,
            version=version if isinstance(version, str) else None,
        ):
            try:
                yield
            except Exception as exc:
                elapsed = (time.perf_counter() - start) * 1000
                self._operations.record(name, elapsed, f"{type(exc).__name__}: {exc}")
                if isinstance(exc, DeployError):
                    log.info("tool refused", extra={"error": str(exc), "kind": type(exc).__name__})
                else:
                    log.exception("tool crashed")
                raise to_tool_error(exc, name) from exc
            self._operations.record(name, (time.perf_counter() - start) * 1000)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        name = fn.__name__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with self.guard(name, kwargs):
                    return show(await fn(*args, **kwargs))

            return cast(Callable[P, R], published(async_wrapper, fn))

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            with self.guard(name, kwargs):
                return show(fn(*args, **kwargs))

        return cast(Callable[P, R], published(wrapper, fn))


def published(wrapper: Callable[..., Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """`wrapper` as the SDK should read `fn`: its description, and for a dataclass result, the
    dataclass's model as the return annotation (the output schema)."""
    wrapper.__doc__ = description(fn)
    signature = inspect.signature(fn)
    shown = shown_class(signature.return_annotation)
    if shown is not None:
        model = output_model(shown)
        wrapper.__signature__ = signature.replace(return_annotation=model)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**fn.__annotations__, "return": model}
    return wrapper


def description(fn: Callable[..., Any]) -> str:
    """The tool's docstring, unindented (the agent reads it), ending with the permission it needs."""
    note = describe(fn.__name__)
    text = inspect.cleandoc(fn.__doc__ or "")
    return f"{text}\n\n{note}" if note else text
