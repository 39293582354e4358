"""The seed's Week 1 decorators, on this project's own error handling, metrics and access control.

    @handle_errors(reraise=True, notify=True)   one structured log line per failure; an
                                                operation-error alert (webhook when configured,
                                                see error_alerts.py); re-raised or `default`
    @track_metric("model_serving.predict")      count, errors and latency in the process's
                                                operation metrics: the `operations` of every
                                                `health_check` in the process, and `/metrics`
                                                of the server `nba-mcp-deploy serve` runs
    @require_permission(Permission.WRITE)       the current caller's role must hold WRITE: the
                                                caller set by `access.acting_as` (a bearer
                                                token's, inside a tool call), else the local admin

Each works on plain and `async` functions. Importing this module is cheap (no NumPy): decorating
functions at import time costs nothing.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from nba_mcp_deploy.access.permissions import Permission, check_permission
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.logs import current_context, get_logger
from nba_mcp_deploy.operations import process_operations

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
Decorator = Callable[[Callable[P, R]], Callable[P, R]]


def handle_errors(*, reraise: bool = True, notify: bool = False, default: Any = None) -> Decorator[P, R]:
    """Log a failure of the function as one structured line, alert on it if `notify`, and
    re-raise it (or, with `reraise=False`, return `default`)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        operation = fn.__qualname__
        signature = inspect.signature(fn)

        def failed(error: Exception, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            where = _model_and_version(signature, args, kwargs)
            refused = isinstance(error, DeployError)
            log.log(
                logging.WARNING if refused else logging.ERROR,  # a crash's line carries its traceback
                "operation failed",
                exc_info=None if refused else error,
                extra={"operation": operation, "error_type": type(error).__name__, "error": str(error), **where},
            )
            if notify:
                from nba_mcp_deploy.api.error_alerts import operation_error_alerts

                operation_error_alerts().raise_for(operation, error, where.get("model_id"), where.get("version"))

        if inspect.iscoroutinefunction(fn):
            call = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def guarded_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                try:
                    return await call(*args, **kwargs)
                except Exception as error:
                    failed(error, args, kwargs)
                    if reraise:
                        raise
                    return default

            return cast(Callable[P, R], guarded_async)

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except Exception as error:
                failed(error, args, kwargs)
                if reraise:
                    raise
                return cast(R, default)

        return guarded

    return decorate


def track_metric(name: str) -> Decorator[P, R]:
    """Count each call of the function under `name`: calls, errors (an exception), duration."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"track_metric needs a metric name, got {name!r}")

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(fn):
            call = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def tracked_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with process_operations().track(name):
                    return await call(*args, **kwargs)

            return cast(Callable[P, R], tracked_async)

        @functools.wraps(fn)
        def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            with process_operations().track(name):
                return fn(*args, **kwargs)

        return tracked

    return decorate


def require_permission(permission: Permission) -> Decorator[P, R]:
    """Refuse each call (PermissionDeniedError) unless the current caller's role holds `permission`.

    The tools' own rules per operation (e.g. promote_model to production needs ADMIN) are
    `access.permission_required("promote_model")`.
    """
    if not isinstance(permission, Permission):
        raise TypeError(
            f"require_permission takes a Permission (READ, WRITE, ADMIN), got {permission!r}; "
            "for a tool's own rule use nba_mcp_deploy.access.permission_required(tool_name)"
        )

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        operation = fn.__name__
        if inspect.iscoroutinefunction(fn):
            call = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def checked_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                check_permission(permission, operation)
                return await call(*args, **kwargs)

            return cast(Callable[P, R], checked_async)

        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            check_permission(permission, operation)
            return fn(*args, **kwargs)

        return checked

    return decorate


def _model_and_version(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str]:
    """The call's `model_id` and `version` (its arguments, else the log context), for the log and alert."""
    found = {k: v for k, v in current_context().items() if k in ("model_id", "version")}
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:  # the call itself was wrong: the error says so
        bound = {}
    found.update({k: bound[k] for k in ("model_id", "version") if isinstance(bound.get(k), str)})
    return found
