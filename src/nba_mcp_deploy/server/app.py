"""Building the MCP server: one `MCPServer` with every tool, sharing one set of services.

The services outlive any one MCP session (HTTP serves many), so whoever built them closes them.
The tools' schemas need only light modules; the services themselves may still be starting.
Every tool call passes the access gate (`gate.py`) before the SDK validates its arguments.
"""

import functools
from typing import Any

from mcp.server.auth.provider import TokenVerifier
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, InputRequiredResult

from nba_mcp_deploy import __version__
from nba_mcp_deploy.access.permissions import LOCAL_CALLER_NAME, Caller, Role
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.audit_tools import register_audit_tools
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.gate import AccessGate
from nba_mcp_deploy.server.monitoring_tools import register_monitoring_tools
from nba_mcp_deploy.server.registry_tools import register_registry_tools
from nba_mcp_deploy.server.serving_tools import register_serving_tools
from nba_mcp_deploy.server.token_auth import auth_settings

INSTRUCTIONS = """\
nba-mcp-deploy serves NBA prediction models. Typical flow: deploy_model (a version from a model
URI) -> predict -> setup_ab_test / setup_shadow to compare versions -> set_active_version to switch
-> health_check to watch breakers, error rates and latency. Errors start with a category
('invalid argument', 'not found', 'conflict', 'permission denied', 'circuit open', ...) and say
what is allowed. Each tool's description ends with the permission it needs."""


class GatedServer(MCPServer[Any]):
    """An `MCPServer` whose every tool call goes through the access gate first."""

    def __init__(self, gate: AccessGate, **settings: Any) -> None:
        super().__init__(**settings)
        self.gate = gate
        self.auth_required = settings.get("token_verifier") is not None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        run = functools.partial(super().call_tool, name, arguments, context)
        result: CallToolResult | InputRequiredResult = await self.gate.call(name, arguments, run)
        return result


def build_server(
    host: ServiceHost, *, token_verifier: TokenVerifier | None = None, issuer_url: str = "http://127.0.0.1"
) -> GatedServer:
    """The MCP server over the services `host` holds (or is still building).

    Without `token_verifier` every call acts as the local caller with the configured role
    (`NBA_MCP_ROLE`); with it (HTTP), the SDK demands a bearer token and each call acts as
    the token's name and role.
    """
    local = Caller(LOCAL_CALLER_NAME, Role.parse(host.config.role, "NBA_MCP_ROLE"))
    server = GatedServer(
        AccessGate(host, local),
        name="nba-mcp-deploy",
        title="NBA model deployment",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=host.config.log_level,
        token_verifier=token_verifier,
        auth=auth_settings(issuer_url) if token_verifier is not None else None,
    )
    boundary = ToolBoundary(host.operations)
    register_serving_tools(server, host, boundary)
    register_monitoring_tools(server, host, boundary)
    register_registry_tools(server, host, boundary)
    register_audit_tools(server, host, boundary)
    return server
