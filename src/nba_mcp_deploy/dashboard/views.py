"""What the dashboard shows, as plain frozen dataclasses of JSON types (str, numbers, lists).

One structure serves both ways of delivering the dashboard: the `show_dashboard` MCP tool (its
structured content and output schema are derived from these classes) and `GET /dashboard/data`
in HTTP mode. Enumerations travel as their string values so the view needs no mapping. Only the
standard library is imported here: the MCP server builds its schemas from these classes at
start-up, before NumPy has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TrafficMode = Literal["none", "single", "ab", "canary"]
HistogramKind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class SeriesPoint:
    """One version at one time: latency over the recent window, errors since the previous point."""

    at: float
    requests: int
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class BreakerView:
    """closed | open | half_open; an open breaker lets a trial call through at `retry_at`."""

    state: str
    failure_rate: float | None
    calls_in_window: int
    retry_at: float | None
    retry_in_sec: float | None
    times_opened: int
    rejected_calls: int


@dataclass(frozen=True)
class LatencyView:
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class VersionView:
    """One deployed version: its role in routing, registry stage, breaker, counters and trend."""

    version: str
    role: str
    stage: str | None
    active: bool
    weight: float | None
    requests: int
    errors: int
    rejected: int
    error_rate: float | None
    recent_error_rate: float | None
    latency: LatencyView
    breaker: BreakerView
    series: tuple[SeriesPoint, ...]


@dataclass(frozen=True)
class TrafficShare:
    """One segment of the traffic bar: the version's weight and its requests so far."""

    version: str
    weight: float
    requests: int
    errors: int
    breaker_state: str


@dataclass(frozen=True)
class TrafficView:
    """How live traffic is split: all on the active version, an A/B test, or a canary step."""

    mode: TrafficMode
    sticky: bool
    shares: tuple[TrafficShare, ...]
    shadow_version: str | None
    shadow_fraction: float | None


@dataclass(frozen=True)
class CanaryView:
    phase: str
    stable_version: str
    candidate_version: str
    step_index: int
    steps: tuple[float, ...]
    weight: float
    candidate_requests: int
    stable_requests: int
    decision_reason: str


@dataclass(frozen=True)
class FeatureScore:
    feature: str
    score: float | None
    p_value: float | None
    threshold: float
    is_drift: bool


@dataclass(frozen=True)
class HistogramView:
    """Reference and current shares of one drifted feature (numeric: over `edges`; else `labels`)."""

    feature: str
    kind: HistogramKind
    method: str
    score: float | None
    p_value: float | None
    threshold: float
    edges: tuple[float, ...]
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    reference_count: int
    current_count: int


@dataclass(frozen=True)
class DriftView:
    """The model's latest feature-drift check."""

    checked_at: float
    version: str | None
    method: str
    threshold: float
    dataset_drift: bool
    drifted_share: float
    drift_share: float
    drifted_features: tuple[str, ...]
    checked_features: int
    reference_rows: int
    current_rows: int
    features: tuple[FeatureScore, ...]
    histograms: tuple[HistogramView, ...]


@dataclass(frozen=True)
class ModelView:
    model_id: str
    status: str
    reasons: tuple[str, ...]
    active_version: str | None
    traffic: TrafficView
    canary: CanaryView | None
    versions: tuple[VersionView, ...]
    drift: DriftView | None


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    model_id: str
    version: str | None
    kind: str
    severity: str
    message: str
    value: float | None
    threshold: float | None
    first_seen: float
    last_seen: float
    occurrences: int


@dataclass(frozen=True)
class AlertsView:
    """Open alerts (still alerting, not resolved), most severe first, with counts per severity."""

    critical: int
    warning: int
    open: tuple[AlertView, ...]


@dataclass(frozen=True)
class AuditRow:
    seq: int | None
    at: float
    caller: str
    role: str
    tool: str
    model_id: str | None
    outcome: str
    error_category: str | None
    message: str | None


@dataclass(frozen=True)
class AuditView:
    """The last audit entries, for callers allowed to read the audit log (else `note` says why not)."""

    available: bool
    note: str | None
    entries: tuple[AuditRow, ...]


@dataclass(frozen=True)
class DashboardSnapshot:
    """Everything the dashboard shows, at `generated_at`."""

    generated_at: float
    status: str
    reasons: tuple[str, ...]
    model_filter: str | None
    models: tuple[ModelView, ...]
    alerts: AlertsView
    audit: AuditView
