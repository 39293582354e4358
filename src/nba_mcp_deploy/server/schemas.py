"""Tool results as pydantic models: the output schema an agent sees, with a description per field.

The core returns frozen dataclasses; each model here is built from one with
`Model.model_validate(obj, from_attributes=True)`, so the field names match the core's.
"""

from typing import Any

from pydantic import Field

from nba_mcp_deploy.server.output_model import ToolOutput


class VersionOut(ToolOutput):
    version: str
    role: str = Field(description="active | ab_variant | shadow | standby")
    weight: float | None = Field(description="share of traffic in the A/B split; null outside one")
    model_uri: str | None = Field(description="where it was loaded from; null for in-memory models")
    source: str
    deployed_at: float = Field(description="seconds since the epoch")
    load_ms: float = Field(description="time to load and warm up")
    feature_names: list[str] = Field(description="the numeric inputs each record must have, exactly")
    is_classifier: bool


class SplitOut(ToolOutput):
    versions: list[str]
    weights: list[float]
    sticky: bool = Field(description="a request_key always reaches the same version")


class ShadowOut(ToolOutput):
    version: str
    fraction: float = Field(description="share of live requests mirrored to the shadow version")


class BatchingOut(ToolOutput):
    max_batch_size: int = Field(description="most rows per model call")
    max_wait_ms: float = Field(description="longest a request waits for others to join its batch")


class DeploymentOut(ToolOutput):
    """One model's deployment after the change."""

    model_id: str
    active_version: str | None
    versions: list[VersionOut]
    ab_test: SplitOut | None
    shadow: ShadowOut | None
    previous_active: list[str] = Field(description="earlier active versions, most recent first (rollback targets)")
    restorable: bool = Field(description="every version came from a model_uri, so a restart restores it")
    batching: BatchingOut | None = Field(
        default=None, description="adaptive batching of concurrent requests (set_batching); null = off"
    )


class DeploymentsOut(ToolOutput):
    deployments: list[DeploymentOut]


class PredictOut(ToolOutput):
    """The answer, and how it was served."""

    model_id: str
    version: str = Field(description="the version that actually served this request")
    request_id: str
    prediction_ids: list[str] = Field(description="one id per record, for log_actuals when outcomes arrive")
    predictions: list[Any]
    probabilities: list[list[float]] | None = Field(description="per record, one probability per class")
    classes: list[Any] | None = Field(description="class labels in the order of probabilities")
    routed_by: str = Field(description="active | pinned | ab_random | ab_sticky")
    ab_test: bool = Field(description="the version was chosen by the A/B split")
    failover_from: str | None = Field(description="the version whose open circuit breaker made this fail over")
    failover_reason: str | None
    latency_ms: float = Field(description="time inside the model call")


class BreakerOut(ToolOutput):
    state: str = Field(description="closed | open | half_open")
    failure_rate: float | None = Field(description="failures / calls in the current window")
    calls_in_window: int
    failures_in_window: int
    opened_at: float | None
    retry_at: float | None = Field(description="when an open breaker lets a trial call through (epoch seconds)")
    retry_in_sec: float | None
    times_opened: int
    rejected_calls: int


class LatencyOut(ToolOutput):
    count: int = Field(description="requests in the latency window")
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class MetricsOut(ToolOutput):
    requests: int
    errors: int
    rejected: int = Field(description="calls refused by the open breaker")
    served_rows: int
    error_rate: float | None = Field(description="errors / requests since deployment")
    recent_error_rate: float | None = Field(description="over the latency window")
    latency: LatencyOut


class ShadowStatsOut(ToolOutput):
    mirrored_requests: int
    dropped_requests: int = Field(description="mirrors dropped because the shadow queue was full")
    errors: int
    compared_rows: int
    agreement_rate: float | None = Field(description="same label (classifiers) or within 1% (regressors)")
    mean_abs_difference: float | None = Field(description="of probabilities (classifiers) or predictions")
    mean_latency_ms: float | None
    last_error: str | None


class BatchStatsOut(ToolOutput):
    max_batch_size: int
    max_wait_ms: float
    model_calls: int = Field(description="calls of the model by the batcher")
    requests: int = Field(description="requests those calls answered")
    rows: int
    failed_calls: int
    largest_batch: int = Field(description="most requests in one call")
    mean_requests_per_call: float | None


class VersionHealthOut(ToolOutput):
    version: str
    role: str
    weight: float | None
    breaker: BreakerOut
    metrics: MetricsOut
    shadow: ShadowStatsOut | None
    batching: BatchStatsOut | None = Field(default=None, description="while the model batches requests")


class ModelHealthOut(ToolOutput):
    model_id: str
    status: str = Field(description="healthy | degraded | unhealthy")
    reasons: list[str]
    ready: bool = Field(description="a version can take live traffic")
    active_version: str | None
    ab_test: SplitOut | None
    shadow: ShadowOut | None
    versions: list[VersionHealthOut]


class OperationOut(ToolOutput):
    count: int
    errors: int
    mean_ms: float
    max_ms: float
    last_error: str | None


class DependencyOut(ToolOutput):
    name: str = Field(description="the system the server reports to, e.g. mlflow")
    status: str = Field(description="healthy | degraded (serving goes on either way)")
    reasons: list[str]
    backlog: int = Field(description="changes waiting in the outbox to reach it (replayed in order)")
    failed: int = Field(description="changes it refused repeatedly, parked until sync_registry retries them")


class HealthOut(ToolOutput):
    """Worst status over the models and dependencies, with the reasons, and per-tool operation metrics."""

    status: str = Field(description="healthy | degraded | unhealthy")
    reasons: list[str]
    ready: bool
    checked_at: float
    models: list[ModelHealthOut]
    operations: dict[str, OperationOut]
    dependencies: list[DependencyOut] = Field(
        description="systems the server depends on: the control sync with other replicas, MLflow if enabled"
    )
    replica_id: str = Field(
        description="the replica that answered (hostname-pid, or NBA_MCP_REPLICA_ID): counts, breakers and "
        "latency are this replica's; routing is shared by all replicas"
    )


class ReferenceOut(ToolOutput):
    """What the reference data now holds for later drift checks."""

    model_id: str
    version: str | None = Field(description="the version this reference is for; null = the whole model")
    rows: int
    numeric_features: list[str]
    categorical_features: list[str]
    has_predictions: bool = Field(description="a prediction column was included, enabling prediction drift")
    bins: int = Field(description="reference-quantile bins used by PSI, KL and Jensen-Shannon")
    missing_share: dict[str, float]


class FeatureDriftOut(ToolOutput):
    feature: str
    method: str
    score: float | None = Field(description="the statistic (KS D, PSI, KL, JS, normed Wasserstein, chi2)")
    p_value: float | None = Field(description="for KS and chi-square")
    adjusted_p_value: float | None = Field(description="after the multiple-testing correction")
    threshold: float
    is_drift: bool
    reference_size: int
    current_size: int
    current_missing: int
    missing_share: float
    bins: int | None
    note: str | None


class DriftOut(ToolOutput):
    """Per-feature drift and the dataset-level verdict."""

    model_id: str
    version: str | None
    kind: str = Field(description="features | predictions")
    method: str
    threshold: float
    correction: str
    dataset_drift: bool = Field(description="the share of drifted features reached drift_share")
    drifted_share: float
    drift_share: float
    drifted_features: list[str]
    missing_features: list[str] = Field(description="reference features absent from the current data")
    reference_rows: int
    current_rows: int
    results: list[FeatureDriftOut]
    reading: str | None = Field(description="how to read the scores of this method")


class ActualsOut(ToolOutput):
    model_id: str
    matched: int = Field(description="outcomes attached to logged predictions")
    unknown_ids: list[str] = Field(description="prediction ids not (or no longer) in the log window")


class PerformanceOut(ToolOutput):
    """Quality on predictions with outcomes, error rate and latency over the window."""

    model_id: str
    version: str | None
    window_hours: float | None
    count: int = Field(description="predicted rows in the window")
    requests: int
    with_actuals: int
    task: str | None = Field(description="classification | regression")
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    auc: float | None
    mae: float | None
    rmse: float | None
    errors: int
    error_rate: float | None
    latency_mean_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class AlertOut(ToolOutput):
    alert_id: str
    model_id: str
    version: str | None
    kind: str = Field(description="feature_drift | prediction_drift | error_rate | latency | accuracy_drop")
    severity: str = Field(description="info | warning | critical")
    subject: str
    message: str
    value: float | None
    threshold: float | None
    timestamp: float


class AlertsOut(ToolOutput):
    alerts: list[AlertOut] = Field(description="newest first")
