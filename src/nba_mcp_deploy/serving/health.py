"""How healthy a deployed model is, and why: pure functions over a routing snapshot.

- unhealthy: no version can take live traffic (no active version, or every live version's
  breaker is open and no other deployed version can take over).
- degraded: traffic is served, but a live version's breaker is open or half-open, its recent
  error rate exceeds `error_rate_threshold`, or its p95 latency exceeds `latency_threshold_ms`.
- healthy: none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass

from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.deployment import ModelRouting, Role
from nba_mcp_deploy.serving.results import HealthStatus, ModelHealth, ShadowInfo, SplitInfo, VersionHealth

_SEVERITY = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2}


@dataclass(frozen=True)
class HealthThresholds:
    error_rate: float
    latency_p95_ms: float


def worst(statuses: list[HealthStatus]) -> HealthStatus:
    return max(statuses, key=_SEVERITY.__getitem__, default=HealthStatus.HEALTHY)


def split_info(routing: ModelRouting) -> SplitInfo | None:
    split = routing.split
    if split is None:
        return None
    return SplitInfo(list(split.versions), list(split.weights), split.sticky)


def shadow_info(routing: ModelRouting) -> ShadowInfo | None:
    shadow = routing.shadow
    return None if shadow is None else ShadowInfo(shadow.version, shadow.fraction)


def model_health(routing: ModelRouting, thresholds: HealthThresholds) -> ModelHealth:
    versions: list[VersionHealth] = []
    for name in routing.sorted_versions():
        served = routing.versions[name]
        role = routing.role_of(name)
        versions.append(
            VersionHealth(
                version=name,
                role=role.value,
                weight=routing.weight_of(name),
                breaker=served.breaker.snapshot(),
                metrics=served.metrics.snapshot(),
                shadow=served.shadow_stats.snapshot() if role is Role.SHADOW else None,
                batching=None if served.batcher is None else served.batcher.stats(),
            )
        )
    by_name = {v.version: v for v in versions}
    live = routing.live_versions()
    reasons: list[str] = []
    status = HealthStatus.HEALTHY
    if not live:
        reasons.append("no active version: deploy one or call set_active_version")
        status = HealthStatus.UNHEALTHY
    open_live = [v for v in live if by_name[v].breaker.state is BreakerState.OPEN]
    if live and len(open_live) == len(live):
        takers = [v.version for v in versions if v.version not in live and v.breaker.state is not BreakerState.OPEN]
        if takers:
            reasons.append(f"breaker open for {', '.join(open_live)}; traffic is failing over to {', '.join(takers)}")
            status = HealthStatus.DEGRADED
        else:
            reasons.append(f"breaker open for {', '.join(open_live)} and no other version can serve")
            status = HealthStatus.UNHEALTHY
    for name in live:
        health = by_name[name]
        state = health.breaker.state
        if state is not BreakerState.CLOSED and name not in open_live:
            reasons.append(f"{name}: breaker {state.value}")
        elif state is BreakerState.OPEN and len(open_live) < len(live):
            reasons.append(f"{name}: breaker open; its share of traffic fails over")
        recent = health.metrics.recent_error_rate
        if recent is not None and recent > thresholds.error_rate:
            reasons.append(
                f"{name}: error rate {recent:.1%} over the last {health.metrics.latency.count} requests "
                f"exceeds {thresholds.error_rate:.1%}"
            )
        p95 = health.metrics.latency.p95_ms
        if p95 is not None and p95 > thresholds.latency_p95_ms:
            reasons.append(f"{name}: p95 latency {p95:.1f} ms exceeds {thresholds.latency_p95_ms:g} ms")
    if reasons and status is HealthStatus.HEALTHY:
        status = HealthStatus.DEGRADED
    return ModelHealth(
        model_id=routing.model_id,
        status=status,
        reasons=reasons,
        ready=bool(live),
        active_version=routing.active,
        ab_test=split_info(routing),
        shadow=shadow_info(routing),
        versions=versions,
    )
