"""The access gate in front of every tool call: who is calling, may they, and the audit entry.

It runs before the SDK validates the arguments, so a caller without the permission learns
only that (not whether the arguments were right), nothing runs, and invalid or refused
attempts at a mutating tool are audited like the others. The caller is the bearer token's
name and role when the request came over authenticated HTTP (the SDK's auth middleware puts
the token in a context variable), else the process's local caller (`NBA_MCP_ROLE`).
"""

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

from nba_mcp_deploy.access.audit import AuditLog
from nba_mcp_deploy.access.permissions import Caller, acting_as, require_permission
from nba_mcp_deploy.access.policy import is_mutating
from nba_mcp_deploy.errors import DeployError, PermissionDeniedError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.server.errors import label, to_tool_error
from nba_mcp_deploy.server.token_auth import caller_from_access_token

log = get_logger(__name__)


def error_category(error: BaseException) -> str:
    """The category an agent reads first ('invalid argument', 'not found', ...) of a failed call."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DeployError):
            return label(seen)
        if isinstance(seen, ValidationError):
            return "invalid argument"
        seen = seen.__cause__
    if isinstance(error, UnexpectedToolError):
        return "internal error"
    return "error"


class AccessGate:
    """Checks the permission of each call and audits mutating and refused calls."""

    def __init__(self, host: ServiceHost, local_caller: Caller) -> None:
        self._host = host
        self._local = local_caller

    @property
    def local_caller(self) -> Caller:
        """Who calls when no bearer token says otherwise (stdio, HTTP without tokens)."""
        return self._local

    def caller(self) -> Caller:
        """The authenticated HTTP caller of this request, else the local caller."""
        token = get_access_token()
        return self._local if token is None else caller_from_access_token(token)

    async def call(self, tool: str, arguments: Mapping[str, Any], run: Callable[[], Awaitable[Any]]) -> Any:
        """Run `run` (the SDK's own call of the tool) if the caller may, auditing as needed."""
        caller = self.caller()
        start = time.perf_counter()
        try:
            with acting_as(caller):
                require_permission(tool, caller=caller, arguments=arguments)
                result = await run()
        except PermissionDeniedError as exc:
            log.warning("tool call refused", extra={"tool": tool, "caller": caller.name, "error": str(exc)})
            await self._audit(caller, tool, arguments, start, "permission denied", str(exc))
            raise to_tool_error(exc, tool) from exc
        except ToolError as exc:
            if is_mutating(tool):
                await self._audit(caller, tool, arguments, start, error_category(exc), str(exc))
            raise
        if is_mutating(tool):
            failed = bool(getattr(result, "is_error", False))
            await self._audit(caller, tool, arguments, start, "error" if failed else None, None)
        return result

    async def _audit(
        self,
        caller: Caller,
        tool: str,
        arguments: Mapping[str, Any],
        start: float,
        category: str | None,
        message: str | None,
    ) -> None:
        """Write the entry on a worker thread (a durable write waits for the disk)."""
        elapsed = (time.perf_counter() - start) * 1000

        def write() -> None:
            services = self._host.services()
            AuditLog(services.store, services.clock, retention_sec=services.config.audit_retention_sec).record(
                caller, tool, arguments, error_category=category, message=message, duration_ms=elapsed
            )

        try:
            await anyio.to_thread.run_sync(write)
        except Exception:
            # The call itself has already happened; its result stands, and the log says loudly
            # that its audit entry is missing.
            log.exception("audit entry could not be written", extra={"tool": tool, "caller": caller.name})
