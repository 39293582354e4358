"""Assembling the dashboard: a pure function from what the services report to `DashboardSnapshot`.

`assemble` does no I/O and reads no clock: `server/dashboard/collect.py` gathers the inputs
(`DashboardSources`) from the live services, and tests hand it sources built by hand. Choices made here:

- traffic mode: `canary` while a canary runs (it drives the A/B split), `ab` with a split,
  `single` when all traffic goes to the active version, `none` without one;
- registry stages are looked up per (model, version); a version deployed from a file without
  registering it has no stage (None);
- drift shows scores of at most `MAX_FEATURE_SCORES` features, most drifted first;
- the audit log is shown only when the caller may read it (`audit` is None otherwise), as the
  `get_audit_log` tool requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nba_mcp_deploy.dashboard.views import (
    AlertsView,
    AlertView,
    AuditRow,
    AuditView,
    BreakerView,
    CanaryView,
    DashboardSnapshot,
    DriftView,
    FeatureScore,
    HistogramView,
    LatencyView,
    ModelView,
    SeriesPoint,
    TrafficMode,
    TrafficShare,
    TrafficView,
    VersionView,
)

if TYPE_CHECKING:
    from nba_mcp_deploy.access.audit import AuditEntry
    from nba_mcp_deploy.experiments.canary import CanaryStatus
    from nba_mcp_deploy.monitoring.alerts import Alert
    from nba_mcp_deploy.monitoring.histograms import LatestDrift
    from nba_mcp_deploy.serving.results import HealthReport, ModelHealth, VersionHealth

MAX_FEATURE_SCORES = 20
AUDIT_NEEDS = "the audit log needs the ADMIN permission (role admin)"


@dataclass(frozen=True)
class DashboardSources:
    """Everything `assemble` needs, already read from the services."""

    health: HealthReport
    stages: Mapping[tuple[str, str], str]
    canaries: Mapping[str, CanaryStatus]
    drift: Mapping[str, LatestDrift]
    alerts: Sequence[Alert]
    audit: Sequence[AuditEntry] | None
    series: Mapping[tuple[str, str], tuple[SeriesPoint, ...]]
    model_filter: str | None = None


def _version(model: ModelHealth, health: VersionHealth, sources: DashboardSources) -> VersionView:
    breaker, metrics = health.breaker, health.metrics
    return VersionView(
        version=health.version,
        role=health.role,
        stage=sources.stages.get((model.model_id, health.version)),
        active=health.version == model.active_version,
        weight=health.weight,
        requests=metrics.requests,
        errors=metrics.errors,
        rejected=metrics.rejected,
        error_rate=metrics.error_rate,
        recent_error_rate=metrics.recent_error_rate,
        latency=LatencyView(metrics.latency.p50_ms, metrics.latency.p95_ms, metrics.latency.p99_ms),
        breaker=BreakerView(
            state=breaker.state.value,
            failure_rate=breaker.failure_rate,
            calls_in_window=breaker.calls_in_window,
            retry_at=breaker.retry_at,
            retry_in_sec=breaker.retry_in_sec,
            times_opened=breaker.times_opened,
            rejected_calls=breaker.rejected_calls,
        ),
        series=sources.series.get((model.model_id, health.version), ()),
    )


def _traffic(model: ModelHealth, versions: Sequence[VersionView], canary: CanaryView | None) -> TrafficView:
    by_name = {v.version: v for v in versions}
    mode: TrafficMode
    if model.ab_test is not None:
        mode = "canary" if canary is not None and canary.phase == "running" else "ab"
        weights = list(zip(model.ab_test.versions, model.ab_test.weights, strict=True))
    elif model.active_version is not None:
        mode, weights = "single", [(model.active_version, 1.0)]
    else:
        mode, weights = "none", []
    shares = tuple(
        TrafficShare(
            version=name,
            weight=weight,
            requests=by_name[name].requests if name in by_name else 0,
            errors=by_name[name].errors if name in by_name else 0,
            breaker_state=by_name[name].breaker.state if name in by_name else "closed",
        )
        for name, weight in weights
    )
    shadow = model.shadow
    return TrafficView(
        mode=mode,
        sticky=bool(model.ab_test is not None and model.ab_test.sticky),
        shares=shares,
        shadow_version=shadow.version if shadow is not None else None,
        shadow_fraction=shadow.fraction if shadow is not None else None,
    )


def _canary(status: CanaryStatus | None) -> CanaryView | None:
    if status is None:
        return None
    return CanaryView(
        phase=status.phase.value,
        stable_version=status.stable_version,
        candidate_version=status.candidate_version,
        step_index=status.step.index,
        steps=tuple(status.policy.steps),
        weight=status.step.weight,
        candidate_requests=status.step.candidate_requests,
        stable_requests=status.step.stable_requests,
        decision_reason=status.decision_reason,
    )


def _drift(latest: LatestDrift | None) -> DriftView | None:
    if latest is None:
        return None
    report = latest.report
    by_feature = {r.feature: r for r in report.results}
    histograms = []
    for histogram in latest.histograms:
        result = by_feature[histogram.feature]
        histograms.append(
            HistogramView(
                feature=histogram.feature,
                kind=histogram.kind,
                method=result.method.value,
                score=result.score,
                p_value=result.p_value,
                threshold=result.threshold,
                edges=histogram.edges,
                labels=histogram.labels,
                reference=histogram.reference,
                current=histogram.current,
                reference_count=histogram.reference_count,
                current_count=histogram.current_count,
            )
        )
    return DriftView(
        checked_at=latest.checked_at,
        version=latest.version,
        method=report.method.value,
        threshold=report.threshold,
        dataset_drift=report.dataset_drift,
        drifted_share=report.drifted_share,
        drift_share=report.drift_share,
        drifted_features=tuple(report.drifted_features),
        checked_features=len(report.checked),
        reference_rows=report.reference_rows,
        current_rows=report.current_rows,
        features=tuple(
            FeatureScore(r.feature, r.score, r.p_value, r.threshold, r.is_drift)
            for r in report.ranked()[:MAX_FEATURE_SCORES]
        ),
        histograms=tuple(histograms),
    )


def _model(model: ModelHealth, sources: DashboardSources) -> ModelView:
    versions = tuple(_version(model, v, sources) for v in model.versions)
    canary = _canary(sources.canaries.get(model.model_id))
    return ModelView(
        model_id=model.model_id,
        status=model.status.value,
        reasons=tuple(model.reasons),
        active_version=model.active_version,
        traffic=_traffic(model, versions, canary),
        canary=canary,
        versions=versions,
        drift=_drift(sources.drift.get(model.model_id)),
    )


def _alerts(alerts: Sequence[Alert]) -> AlertsView:
    views = tuple(
        AlertView(
            alert_id=a.alert_id,
            model_id=a.model_id,
            version=a.version,
            kind=a.kind.value,
            severity=a.severity.value,
            message=a.message,
            value=a.value,
            threshold=a.threshold,
            first_seen=a.timestamp,
            last_seen=a.last_seen,
            occurrences=a.occurrences,
        )
        for a in alerts
    )
    return AlertsView(
        critical=sum(a.severity == "critical" for a in views),
        warning=sum(a.severity == "warning" for a in views),
        open=views,
    )


def _audit(entries: Sequence[AuditEntry] | None) -> AuditView:
    if entries is None:
        return AuditView(available=False, note=AUDIT_NEEDS, entries=())
    rows = tuple(
        AuditRow(
            seq=e.seq,
            at=e.at,
            caller=e.caller,
            role=e.role,
            tool=e.tool,
            model_id=e.model_id,
            outcome=e.outcome,
            error_category=e.error_category,
            message=e.message,
        )
        for e in entries
    )
    return AuditView(available=True, note=None, entries=rows)


def assemble(sources: DashboardSources) -> DashboardSnapshot:
    """The dashboard for `sources` (one model when `model_filter` is set, else every model)."""
    health = sources.health
    return DashboardSnapshot(
        generated_at=health.checked_at,
        status=health.status.value,
        reasons=tuple(health.reasons),
        model_filter=sources.model_filter,
        models=tuple(_model(m, sources) for m in health.models),
        alerts=_alerts(sources.alerts),
        audit=_audit(sources.audit),
    )
