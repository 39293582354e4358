"""The dashboard as a few lines of plain text, for clients (and models) that cannot show the view.

The MCP Apps extension asks a UI-bound tool to degrade gracefully: a client without Apps gets
this text beside the structured content, and an agent reads it too, so it names what matters
first (status, traffic, open breakers, drift, alerts) and stays short.
"""

from __future__ import annotations

from nba_mcp_deploy.dashboard.views import DashboardSnapshot, DriftView, ModelView, VersionView


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _version_line(version: VersionView) -> str:
    breaker = version.breaker.state
    if breaker == "open" and version.breaker.retry_in_sec is not None:
        breaker += f" (retry in {version.breaker.retry_in_sec:.0f} s)"
    flags = [version.role] + ([version.stage] if version.stage else [])
    return (
        f"  {version.version} [{', '.join(flags)}]: breaker {breaker}; {version.requests} requests, "
        f"{version.errors} errors ({_pct(version.error_rate)}); p50 {_ms(version.latency.p50_ms)}, "
        f"p95 {_ms(version.latency.p95_ms)}"
    )


def _traffic_line(model: ModelView) -> str:
    traffic = model.traffic
    if not traffic.shares:
        return "  traffic: no active version"
    split = ", ".join(f"{s.version} {_pct(s.weight)} ({s.requests} requests)" for s in traffic.shares)
    label = {"single": "all on", "ab": "A/B", "canary": "canary"}.get(traffic.mode, traffic.mode)
    line = f"  traffic ({label}{', sticky' if traffic.sticky else ''}): {split}"
    if traffic.shadow_version is not None:
        line += f"; shadow {traffic.shadow_version} mirrors {_pct(traffic.shadow_fraction)}"
    if model.canary is not None:
        canary = model.canary
        line += (
            f"; canary {canary.candidate_version} {canary.phase}, step {canary.step_index + 1}/{len(canary.steps)}"
            f" at {_pct(canary.weight)}"
        )
    return line


def _drift_line(drift: DriftView) -> str:
    if not drift.drifted_features:
        return f"  drift ({drift.method}): none of {drift.checked_features} features drifted"
    scores = ", ".join(f"{f.feature} {f.score:.3g}" for f in drift.features if f.is_drift and f.score is not None)
    verdict = "dataset drift" if drift.dataset_drift else "no dataset drift"
    return (
        f"  drift ({drift.method}, threshold {drift.threshold:g}): {len(drift.drifted_features)}/"
        f"{drift.checked_features} features drifted ({verdict}): {scores}"
    )


def summary_text(snapshot: DashboardSnapshot) -> str:
    """A readable summary of `snapshot` (the full data is in the structured content)."""
    scope = f"model {snapshot.model_filter}" if snapshot.model_filter else f"{len(snapshot.models)} model(s)"
    lines = [f"Deployment dashboard ({scope}): {snapshot.status}"]
    for model in snapshot.models:
        lines.append(f"{model.model_id}: {model.status}, active {model.active_version or 'none'}")
        lines.extend(f"  ! {reason}" for reason in model.reasons)
        lines.append(_traffic_line(model))
        lines.extend(_version_line(v) for v in model.versions)
        if model.drift is not None:
            lines.append(_drift_line(model.drift))
    alerts = snapshot.alerts
    lines.append(f"open alerts: {alerts.critical} critical, {alerts.warning} warning")
    lines.extend(f"  [{a.severity}] {a.model_id}: {a.message}" for a in alerts.open[:10])
    if snapshot.audit.available:
        lines.append(f"last audit entries: {len(snapshot.audit.entries)}")
        lines.extend(
            f"  {e.caller} ({e.role}) {e.tool} {e.model_id or ''} -> {e.outcome}" for e in snapshot.audit.entries[:5]
        )
    if not snapshot.models:
        lines.append("no models deployed: deploy one with deploy_model")
    return "\n".join(lines)
