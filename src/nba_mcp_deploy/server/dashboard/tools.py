"""`show_dashboard` as an MCP App: a read-only tool bound to the `ui://` dashboard view.

A host with MCP Apps renders the view in a sandboxed iframe and hands it this tool's result
through its bridge; the view's Refresh button calls the tool again through the host. A client
without Apps still gets everything: the structured content (the model of `DashboardSnapshot`) and a short
text summary, as the extension's graceful-degradation rule asks.

No `from __future__ import annotations`: the SDK evaluates these annotations.
"""

from typing import Annotated, Any

import anyio.to_thread
from mcp.server.apps import Apps
from mcp_types import CallToolResult, TextContent

from nba_mcp_deploy.access.permissions import current_caller
from nba_mcp_deploy.dashboard.views import DashboardSnapshot
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.dashboard.view import VIEW_URI, render_view
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import READ_ONLY
from nba_mcp_deploy.server.outputs import output_model, show
from nba_mcp_deploy.server.params import ModelId


def dashboard_app(host: ServiceHost, boundary: ToolBoundary) -> Apps:
    """The MCP Apps extension holding `show_dashboard` and its view (pass it to the server)."""
    apps = Apps()

    @apps.tool(resource_uri=VIEW_URI, title="Deployment dashboard", annotations=READ_ONLY)
    @boundary
    async def show_dashboard(
        model_id: ModelId | None = None,
    ) -> Annotated[CallToolResult, output_model(DashboardSnapshot)]:
        """Show the live deployment dashboard (an MCP App; text and structured data elsewhere).

        Per model: versions with registry stage and active version, the A/B or canary traffic split
        with request counts, each version's circuit breaker (closed / open / half-open, retry time),
        latency p50/p95 and error-rate trends, the latest drift check (drifted features with method,
        score, threshold and reference-vs-current histograms); then open alerts by severity and, for
        admins, the last audit entries. model_id=null shows every deployed model.
        """
        from nba_mcp_deploy.dashboard.summary import summary_text
        from nba_mcp_deploy.server.dashboard.collect import build_snapshot

        caller = current_caller()

        def snapshot() -> tuple[Any, str]:
            services = host.services()
            taken = build_snapshot(services, services.history, model_id, caller=caller)
            return show(taken), summary_text(taken)

        out, text = await anyio.to_thread.run_sync(snapshot)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=out.model_dump(mode="json")
        )

    apps.add_html_resource(
        VIEW_URI,
        render_view("app"),
        name="deployment-dashboard",
        title="NBA model deployments",
        description="Live view of deployments, traffic, breakers, latency, drift, alerts and audit entries",
        prefers_border=False,
    )
    return apps
