"""Building the MCP server: one `MCPServer` with every tool, sharing one set of services.

The services outlive any one MCP session (HTTP serves many), so whoever built them closes them.
The tools' schemas need only light modules; the services themselves may still be starting.
"""

from mcp.server.mcpserver import MCPServer

from nba_mcp_deploy import __version__
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.experiment_tools import register_experiment_tools
from nba_mcp_deploy.server.mlflow_tools import register_mlflow_tools
from nba_mcp_deploy.server.monitoring_tools import register_monitoring_tools
from nba_mcp_deploy.server.registry_tools import register_registry_tools
from nba_mcp_deploy.server.serving_tools import register_serving_tools

INSTRUCTIONS = """\
nba-mcp-deploy serves NBA prediction models. Typical flow: register_model -> deploy_model (a version
from a model URI) -> predict -> compare versions with setup_ab_test + log_actuals +
get_ab_test_results (a verdict with p-values), setup_shadow, or start_canary (progressive, with
guards and automatic rollback) -> promote_model to production (deploys and activates) or
rollback_model -> watch health_check, detect_drift, get_performance and get_alerts. Errors start
with a category ('invalid argument', 'not found', 'conflict', 'circuit open', ...) and say what is
allowed. The prompt canary_rollout walks through a safe rollout."""


def build_server(host: ServiceHost) -> MCPServer:
    """The MCP server over the services `host` holds (or is still building)."""
    server: MCPServer = MCPServer(
        "nba-mcp-deploy",
        title="NBA model deployment",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=host.config.log_level,  # type: ignore[arg-type]
    )
    boundary = ToolBoundary(host.operations)
    register_serving_tools(server, host, boundary)
    register_monitoring_tools(server, host, boundary)
    register_registry_tools(server, host, boundary)
    register_experiment_tools(server, host, boundary)
    register_mlflow_tools(server, host, boundary)
    return server
