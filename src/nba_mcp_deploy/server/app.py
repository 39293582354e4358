"""Building the MCP server: one `MCPServer` with every tool, sharing one set of services.

The services outlive any one MCP session (HTTP serves many), so whoever built them closes them.
The tools need only the host, not the services: the services may still be starting while the
server answers `initialize` and `tools/list`, and a tool call waits for them.
Every tool call passes the access gate (`gate.py`) before the SDK validates its arguments.
"""

import functools
from collections.abc import Callable
from typing import Any

from mcp.server.auth.provider import TokenVerifier
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, Icon, InputRequiredResult, ToolAnnotations

from nba_mcp_deploy import __version__
from nba_mcp_deploy.access.permissions import LOCAL_CALLER_NAME, Caller, Role
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.audit_tools import register_audit_tools
from nba_mcp_deploy.server.dashboard.tools import dashboard_app
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.experiment_tools import register_experiment_tools
from nba_mcp_deploy.server.gate import AccessGate
from nba_mcp_deploy.server.mlflow_tools import register_mlflow_tools
from nba_mcp_deploy.server.monitoring_tools import register_monitoring_tools
from nba_mcp_deploy.server.registry_tools import register_registry_tools
from nba_mcp_deploy.server.serving_tools import register_serving_tools
from nba_mcp_deploy.server.token_auth import auth_settings

INSTRUCTIONS = """\
nba-mcp-deploy serves NBA prediction models. Typical flow: register_model -> deploy_model (a version
from a model URI) -> predict -> compare versions with setup_ab_test + log_actuals +
get_ab_test_results (a verdict with p-values), setup_shadow, or start_canary (progressive, with
guards and automatic rollback) -> promote_model to production (deploys and activates) or
rollback_model -> watch health_check, detect_drift, get_performance and get_alerts. Errors start
with a category ('invalid argument', 'not found', 'conflict', 'permission denied', 'circuit open',
...) and say what is allowed; each tool's description ends with the permission it needs. The
prompt canary_rollout walks through a safe rollout."""


class GatedServer(MCPServer[Any]):
    """An `MCPServer` whose every call of a registered tool goes through the access gate first.

    A call of a name no tool has is left to the SDK ("Unknown tool"): there is nothing to guard
    or audit. The names are kept as tools are added, the extensions' tools included.
    """

    def __init__(self, gate: AccessGate, **settings: Any) -> None:
        self.gate = gate
        self.auth_required = settings.get("token_verifier") is not None
        self._tool_names: set[str] = set()
        super().__init__(**settings)

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        super().add_tool(
            fn,
            name=name,
            title=title,
            description=description,
            annotations=annotations,
            icons=icons,
            meta=meta,
            structured_output=structured_output,
        )
        self._tool_names.add(name or fn.__name__)

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self._tool_names.discard(name)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        run = functools.partial(super().call_tool, name, arguments, context)
        if name not in self._tool_names:
            return await run()
        result: CallToolResult | InputRequiredResult = await self.gate.call(name, arguments, run)
        return result


def build_server(
    host: ServiceHost,
    *,
    token_verifier: TokenVerifier | None = None,
    issuer_url: str = "http://127.0.0.1",
) -> GatedServer:
    """The MCP server over the services `host` holds (or is still building).

    Without `token_verifier` every call acts as the local caller with the configured role
    (`NBA_MCP_ROLE`); with it (HTTP), the SDK demands a bearer token and each call acts as
    the token's name and role.
    """
    local = Caller(LOCAL_CALLER_NAME, Role.parse(host.config.role, "NBA_MCP_ROLE"))
    boundary = ToolBoundary(host.operations)
    server = GatedServer(
        AccessGate(host, local),
        name="nba-mcp-deploy",
        title="NBA model deployment",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=host.config.log_level,
        token_verifier=token_verifier,
        auth=auth_settings(issuer_url) if token_verifier is not None else None,
        extensions=[dashboard_app(host, boundary)],
    )
    register_serving_tools(server, host, boundary)
    register_monitoring_tools(server, host, boundary)
    register_registry_tools(server, host, boundary)
    register_experiment_tools(server, host, boundary)
    register_audit_tools(server, host, boundary)
    register_mlflow_tools(server, host, boundary)
    return server
