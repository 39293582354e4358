"""What the serving manager returns: plain frozen dataclasses, JSON-ready through `asdict`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nba_mcp_deploy.operations import OperationStats
from nba_mcp_deploy.serving.batching import BatchStats
from nba_mcp_deploy.serving.breaker import BreakerSnapshot, BreakerState
from nba_mcp_deploy.serving.metrics import MetricsSnapshot
from nba_mcp_deploy.serving.shadow import ShadowSnapshot


class RoutedBy(StrEnum):
    """Why this version served the request."""

    ACTIVE = "active"
    PINNED = "pinned"
    AB_RANDOM = "ab_random"
    AB_STICKY = "ab_sticky"


@dataclass(slots=True)
class PredictionResult:
    """One answer. Built on the predict path, so a slotted plain dataclass (a frozen one is
    slower to build); treat it as read-only."""

    model_id: str
    version: str
    request_id: str
    prediction_ids: Sequence[str]
    predictions: list[Any]
    probabilities: list[list[float]] | None
    classes: list[Any] | None
    routed_by: RoutedBy
    ab_test: bool
    failover_from: str | None
    failover_reason: str | None
    latency_ms: float


@dataclass(frozen=True)
class VersionInfo:
    version: str
    role: str
    weight: float | None
    model_uri: str | None
    source: str
    deployed_at: float
    load_ms: float
    feature_names: list[str]
    is_classifier: bool


@dataclass(frozen=True)
class SplitInfo:
    versions: list[str]
    weights: list[float]
    sticky: bool


@dataclass(frozen=True)
class ShadowInfo:
    version: str
    fraction: float


@dataclass(frozen=True)
class BatchingInfo:
    max_batch_size: int
    max_wait_ms: float


@dataclass(frozen=True)
class DeploymentInfo:
    """One model's deployment: its versions, which is active, the A/B split and the shadow."""

    model_id: str
    active_version: str | None
    versions: list[VersionInfo]
    ab_test: SplitInfo | None
    shadow: ShadowInfo | None
    previous_active: list[str]
    restorable: bool
    batching: BatchingInfo | None = None


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class VersionHealth:
    version: str
    role: str
    weight: float | None
    breaker: BreakerSnapshot
    metrics: MetricsSnapshot
    shadow: ShadowSnapshot | None
    batching: BatchStats | None = None


@dataclass(frozen=True)
class ModelHealth:
    model_id: str
    status: HealthStatus
    reasons: list[str]
    ready: bool
    active_version: str | None
    ab_test: SplitInfo | None
    shadow: ShadowInfo | None
    versions: list[VersionHealth]

    @property
    def circuit_breaker_open(self) -> bool:
        """Whether the breaker of any version of the model is open (the seed's field)."""
        return any(v.breaker.state is BreakerState.OPEN for v in self.versions)


@dataclass(frozen=True)
class DependencyHealth:
    """A system the server reports to (MLflow): `backlog` changes wait to reach it, `failed`
    ones it refused. Serving does not need it, so it can degrade the status, never readiness."""

    name: str
    status: HealthStatus
    reasons: list[str]
    backlog: int = 0
    failed: int = 0


@dataclass(frozen=True)
class HealthReport:
    """The whole server: worst status of its models and dependencies, each model's detail,
    operation metrics."""

    status: HealthStatus
    reasons: list[str]
    ready: bool
    checked_at: float
    models: list[ModelHealth]
    operations: dict[str, OperationStats]
    dependencies: list[DependencyHealth] = field(default_factory=list)
    # The replica that answered (several serve one deployment): its counters, breakers and
    # latency windows are its own; the routing is the one every replica follows.
    replica_id: str = ""

    @property
    def circuit_breaker_open(self) -> bool:
        """Whether a breaker of any reported model is open (`health_check(model_id)` reports one
        model, so there: of any of its versions; the seed's field)."""
        return any(m.circuit_breaker_open for m in self.models)
