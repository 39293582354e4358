"""Reading the live services into `DashboardSources`, then `assemble` (shared by MCP and HTTP).

The read also records a point of the metrics history (at most one per second per version), so
whoever watches the dashboard keeps the sparklines current. Whether the audit log is included
is decided by the caller's role, exactly as for the `get_audit_log` tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nba_mcp_deploy.access.permissions import Caller, current_caller
from nba_mcp_deploy.access.policy import permission_for
from nba_mcp_deploy.dashboard.snapshot import DashboardSources, assemble
from nba_mcp_deploy.dashboard.views import DashboardSnapshot, SeriesPoint
from nba_mcp_deploy.errors import DeployError, NotFoundError
from nba_mcp_deploy.identifiers import validate_model_id

if TYPE_CHECKING:
    from nba_mcp_deploy.dashboard.history import MetricsHistory
    from nba_mcp_deploy.experiments.canary import CanaryStatus
    from nba_mcp_deploy.monitoring.histograms import LatestDrift
    from nba_mcp_deploy.services import Services
    from nba_mcp_deploy.serving.results import HealthReport

AUDIT_ROWS = 12


def may_read_audit(caller: Caller) -> bool:
    """Whether `caller` could call `get_audit_log` (the dashboard shows the log only then)."""
    return caller.role.allows(permission_for("get_audit_log", {}))


def _stages(services: Services, health: HealthReport) -> dict[tuple[str, str], str]:
    from nba_mcp_deploy.registry.validation import canonical_version

    stages: dict[tuple[str, str], str] = {}
    for model in health.models:
        registered = {v.version: v.stage.value for v in services.registry.store.list_versions(model.model_id)}
        for version in model.versions:
            try:
                key = canonical_version(version.version)
            except DeployError:
                continue
            if key in registered:
                stages[(model.model_id, version.version)] = registered[key]
    return stages


def _canaries(services: Services, health: HealthReport) -> dict[str, CanaryStatus]:
    found: dict[str, CanaryStatus] = {}
    for model in health.models:
        try:
            found[model.model_id] = services.experiments.canary_status(model.model_id)
        except NotFoundError:
            continue
    return found


def _drift(services: Services, health: HealthReport) -> dict[str, LatestDrift]:
    found: dict[str, LatestDrift] = {}
    for model in health.models:
        try:
            latest = services.monitoring.get(model.model_id).latest_drift
        except NotFoundError:
            continue
        if latest is not None:
            found[model.model_id] = latest
    return found


def build_snapshot(
    services: Services,
    history: MetricsHistory,
    model_id: str | None = None,
    *,
    caller: Caller | None = None,
) -> DashboardSnapshot:
    """The dashboard now, of one model or all; NotFoundError for a model that is not deployed."""
    if model_id is not None:
        validate_model_id(model_id)
    everything = services.manager.health_check()
    history.sample(everything)
    health = everything if model_id is None else services.manager.health_check(model_id)
    series: dict[tuple[str, str], tuple[SeriesPoint, ...]] = {
        (m.model_id, v.version): history.series(m.model_id, v.version) for m in health.models for v in m.versions
    }
    who = caller if caller is not None else current_caller()
    sources = DashboardSources(
        health=health,
        stages=_stages(services, health),
        canaries=_canaries(services, health),
        drift=_drift(services, health),
        alerts=services.monitoring.alerts.open_alerts(model_id),
        audit=services.store.list_audit(model_id=model_id, limit=AUDIT_ROWS) if may_read_audit(who) else None,
        series=series,
        model_filter=model_id,
    )
    return assemble(sources)
