"""`DashboardOut`: the dashboard snapshot as the tool's structured result and the HTTP JSON.

Its fields are the core's dataclasses (`nba_mcp_deploy.dashboard.views`), so the output schema
is derived from the very structure the view reads and cannot drift from it.

No `from __future__ import annotations`: pydantic evaluates these annotations.
"""

from pydantic import Field

from nba_mcp_deploy.dashboard.views import AlertsView, AuditView, ModelView
from nba_mcp_deploy.server.output_model import ToolOutput


class DashboardOut(ToolOutput):
    generated_at: float = Field(description="when the snapshot was taken (epoch seconds)")
    status: str = Field(description="healthy | degraded | unhealthy: the worst of the models shown")
    reasons: list[str] = Field(description="why the status is not healthy")
    model_filter: str | None = Field(description="the model asked for, or null for every model")
    models: list[ModelView] = Field(
        description="per model: traffic split or canary with request counts, versions with stage, breaker "
        "(state, retry time), latency and error-rate trend, and the latest drift check with histograms"
    )
    alerts: AlertsView = Field(description="open alerts (not resolved), most severe first")
    audit: AuditView = Field(description="the last audit entries (admin only; otherwise a note says why)")
