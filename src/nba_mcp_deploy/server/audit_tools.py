"""The `get_audit_log` tool (admin): who changed what, when, and how it ended.

No `from __future__ import annotations`: the SDK evaluates these annotations.
"""

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from nba_mcp_deploy.access.audit import MAX_AUDIT_LIMIT, AuditLog
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import READ_ONLY
from nba_mcp_deploy.server.params import ModelId
from nba_mcp_deploy.server.results import AuditEntries


def register_audit_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_audit_log(
        model_id: ModelId | None = None,
        since: Annotated[
            float | None, Field(ge=0, allow_inf_nan=False, description="only entries at or after this epoch time")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_AUDIT_LIMIT)] = 100,
    ) -> AuditEntries:
        """The audit log, newest first: every mutating call (deploy, register, promote, rollback, A/B,
        shadow, canary, retire, reset, reference data, actuals) and every refused call, with time,
        caller, role, tool, summarised arguments and outcome."""
        services = host.services()
        entries = AuditLog(services.store, services.clock).entries(model_id=model_id, since=since, limit=limit)
        return AuditEntries(entries)
