"""What an agent reads about each field of a tool result: one table, keyed by dataclass.

`outputs.output_model` takes a field's name, type and order from the dataclass and its
description from here. Choices that the core names in an enum are not repeated: an enum-typed
field lists its values in the schema, and a text field carrying an enum's values says them by
joining that enum. A `Shown` may also list fields to leave out. The result classes of the
services' packages are keyed by their copies in `shapes.py` (see `outputs.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.access.permissions import Role as AccessRole
from nba_mcp_deploy.dashboard.views import DashboardSnapshot
from nba_mcp_deploy.server.experiment_views import CanaryEvent, CanaryStep, CanaryView, MetricTest
from nba_mcp_deploy.server.results import Alerts, AuditEntries, DriftCheck, ServedStageChange
from nba_mcp_deploy.server.shapes import (
    REGRESSION_AGREEMENT_RTOL,
    ABTestReport,
    ActualsResult,
    Alert,
    BatchingInfo,
    BatchStats,
    BreakerSnapshot,
    CanaryStatus,
    Comparison,
    DependencyHealth,
    DeploymentInfo,
    Descendant,
    DriftReport,
    FeatureDriftResult,
    FleetVariant,
    GuardResult,
    HealthReport,
    HealthStatus,
    ImportedVersion,
    LatencySummary,
    Lineage,
    LineageRelation,
    MetricDiff,
    MetricsSnapshot,
    MirrorStatus,
    ModelHealth,
    ModelVersion,
    PerformanceReport,
    PredictionResult,
    ReferenceSummary,
    RelayState,
    SampleSizePlan,
    SearchPage,
    ShadowInfo,
    ShadowSnapshot,
    SplitInfo,
    StageChange,
    StageChangeResult,
    SyncConflict,
    SyncReport,
    VariantSummary,
    VersionHealth,
    VersionInfo,
)
from nba_mcp_deploy.server.shapes import (
    Role as ServingRole,
)


@dataclass(frozen=True)
class Shown:
    """How one dataclass is shown: its description, its fields' descriptions, fields left out."""

    fields: Mapping[str, str] = field(default_factory=dict)
    about: str | None = None
    hidden: tuple[str, ...] = ()


def one_of(members: Iterable[StrEnum]) -> str:
    """'a | b | c': the values a text field may take."""
    return " | ".join(member.value for member in members)


EPOCH = "seconds since the epoch"

SHOWN: dict[type, Shown] = {
    # serving
    VersionInfo: Shown(
        {
            "role": one_of(ServingRole),
            "weight": "share of traffic in the A/B split; null outside one",
            "model_uri": "where it was loaded from; null for in-memory models",
            "deployed_at": EPOCH,
            "load_ms": "time to load and warm up",
            "feature_names": "the numeric inputs each record must have, exactly",
        }
    ),
    SplitInfo: Shown({"sticky": "a request_key always reaches the same version"}),
    ShadowInfo: Shown({"fraction": "share of live requests mirrored to the shadow version"}),
    BatchingInfo: Shown(
        {
            "max_batch_size": "most rows per model call",
            "max_wait_ms": "longest a request waits for others to join its batch",
        }
    ),
    DeploymentInfo: Shown(
        {
            "previous_active": "earlier active versions, most recent first (rollback targets)",
            "restorable": "every version came from a model_uri, so a restart restores it",
            "batching": "adaptive batching of concurrent requests (set_batching); null = off",
        },
        about="One model's deployment after the change.",
    ),
    PredictionResult: Shown(
        {
            "version": "the version that actually served this request",
            "prediction_ids": "one id per record, for log_actuals when outcomes arrive",
            "probabilities": "per record, one probability per class",
            "classes": "class labels in the order of probabilities",
            "ab_test": "the version was chosen by the A/B split",
            "failover_from": "the version whose open circuit breaker made this fail over",
            "latency_ms": "time inside the model call",
        },
        about="The answer, and how it was served.",
    ),
    BreakerSnapshot: Shown(
        {
            "failure_rate": "failures / calls in the current window",
            "retry_at": "when an open breaker lets a trial call through (epoch seconds)",
        }
    ),
    LatencySummary: Shown({"count": "requests in the latency window"}),
    MetricsSnapshot: Shown(
        {
            "rejected": "calls refused by the open breaker",
            "error_rate": "errors / requests since deployment",
            "recent_error_rate": "over the latency window",
        }
    ),
    ShadowSnapshot: Shown(
        {
            "dropped_requests": "mirrors dropped because the shadow queue was full",
            "agreement_rate": f"same label (classifiers) or within {REGRESSION_AGREEMENT_RTOL:.0%} (regressors)",
            "mean_abs_difference": "of probabilities (classifiers) or predictions",
        }
    ),
    BatchStats: Shown(
        {
            "model_calls": "calls of the model by the batcher",
            "requests": "requests those calls answered",
            "largest_batch": "most requests in one call",
        }
    ),
    VersionHealth: Shown({"batching": "while the model batches requests"}),
    ModelHealth: Shown({"ready": "a version can take live traffic"}),
    DependencyHealth: Shown(
        {
            "name": "the system the server reports to, e.g. mlflow",
            "status": "serving goes on either way",
            "backlog": "changes waiting in the outbox to reach it (replayed in order)",
            "failed": "changes it refused repeatedly, parked until sync_registry retries them",
        }
    ),
    HealthReport: Shown(
        {
            "dependencies": "systems the server depends on: the control sync with other replicas, MLflow if enabled",
            "replica_id": "the replica that answered (hostname-pid, or NBA_MCP_REPLICA_ID): counts, breakers and "
            "latency are this replica's; routing is shared by all replicas",
        },
        about="Worst status over the models and dependencies, with the reasons, and per-tool operation metrics.",
    ),
    # monitoring
    ReferenceSummary: Shown(
        {
            "version": "the version this reference is for; null = the whole model",
            "has_predictions": "a prediction column was included, enabling prediction drift",
            "bins": "reference-quantile bins used by PSI, KL and Jensen-Shannon",
        },
        about="What the reference data now holds for later drift checks.",
    ),
    FeatureDriftResult: Shown(
        {
            "score": "the statistic (KS D, PSI, KL, JS, normed Wasserstein, chi2)",
            "p_value": "for KS and chi-square",
            "adjusted_p_value": "after the multiple-testing correction",
        }
    ),
    DriftReport: Shown(
        {
            "dataset_drift": "the share of drifted features reached drift_share",
            "missing_features": "reference features absent from the current data",
        },
    ),
    DriftCheck: Shown(
        {"kind": "features | predictions", "reading": "how to read the scores of this method"},
        about="Per-feature drift and the dataset-level verdict.",
    ),
    ActualsResult: Shown(
        {
            "matched": "outcomes attached to logged predictions",
            "unknown_ids": "prediction ids not (or no longer) in the log window",
        }
    ),
    PerformanceReport: Shown(
        {"count": "predicted rows in the window"},
        about="Quality on predictions with outcomes, error rate and latency over the window.",
    ),
    Alert: Shown(hidden=("last_seen", "occurrences")),
    Alerts: Shown({"alerts": "newest first"}),
    # registry
    ModelVersion: Shown({"parent": "the version this one was derived from"}),
    StageChange: Shown(
        {"from_stage": "null for a registration", "to_stage": "null for a deletion"},
    ),
    StageChangeResult: Shown(
        {"replaced": "the production version this one superseded"},
        about="The version after the change, every change the operation made, and what it replaced.",
    ),
    ServedStageChange: Shown({"serving_active_version": "the version now taking this model's traffic"}),
    SearchPage: Shown({"next_offset": "pass as offset for the next page; null at the end"}),
    MetricDiff: Shown({"absolute": "b - a", "relative": "(b - a) / |a|"}),
    LineageRelation: Shown({"kind": "a relative to b"}),
    Comparison: Shown(
        {
            "hyperparameters": "only the ones that differ",
            "relation": "how a relates to b in the lineage",
        }
    ),
    Descendant: Shown({"depth": "1 = a child"}),
    Lineage: Shown(
        {
            "ancestors": "parent first",
            "descendants": "breadth first",
            "missing_ancestor": "a parent that was deleted",
        }
    ),
    # experiments
    ABTestReport: Shown(
        {
            "version_a": "the control (the split's first version unless named)",
            "task": "decides accuracy (classification) or MAE (regression)",
            "sample_size": "for the quality metric; null until both have outcomes",
            "alpha": "false-positive rate of the verdict",
            "alpha_per_metric": "alpha split between quality and error rate (Bonferroni)",
            "fleet": "each variant's A/B traffic on all replicas together, counted since each replica started "
            "and written to the store every few seconds; the tests above use this replica's requests",
        },
        about="Variant A against variant B: figures, tests, sample size, and a verdict with its reason.",
    ),
    MetricTest: Shown(
        {
            "value_a": "A's value on the units tested (latency: median)",
            "difference": "B - A",
            "ci_low": "confidence interval of the difference",
            "confidence": "the interval's coverage, 1 - alpha_per_metric",
            "p_value": "two-sided; compare with alpha_per_metric",
            "favours": "'a' or 'b' when significant (lower is better for mae, error_rate, latency)",
        }
    ),
    VariantSummary: Shown(
        {
            "requests": "A/B-routed requests recorded (pinned and failed-over requests excluded)",
            "units": "distinct request_keys plus requests without a key",
            "error_rate": "errors / requests",
            "latency_p50_ms": "over successful requests",
            "outcomes": "predictions whose actual outcome was reported with log_actuals",
            "outcome_units": "units with at least one outcome",
            "accuracy": "classifiers: mean over units of the share of correct predictions",
            "mae": "regressors: mean over units of the mean absolute error",
        }
    ),
    SampleSizePlan: Shown(
        {
            "min_detectable_effect": "relative to A's value",
            "required_a": "units with outcomes A needs in total",
            "reached": "both variants have the planned units: a non-significant result means no difference",
        },
        hidden=("have_a", "have_b"),
    ),
    FleetVariant: Shown(
        {"latency_p50_ms": "of its successful requests, read from latency buckets: within one bucket"},
        about="One variant's A/B-routed traffic on every replica together (counters they write to the store).",
    ),
    GuardResult: Shown(
        {
            "name": "breaker | error_rate | latency | accuracy",
            "status": "waiting: not enough data yet; skipped: nothing to judge",
        }
    ),
    CanaryStep: Shown(
        {
            "step": "the current step, from 1",
            "of": "how many steps there are",
            "weight": "the candidate's share of traffic now (0 once rolled back)",
            "failovers": "requests the candidate's open breaker sent to the stable version",
        },
        hidden=("index",),
    ),
    CanaryEvent: Shown(
        {
            "step": "the step (from 1) the canary was at",
            "weight": "the candidate's share of traffic after the decision",
            "at": "epoch seconds",
        },
        hidden=("model_id", "stable_version", "candidate_version", "step_index"),
    ),
    CanaryStatus: Shown(
        {
            "guards": "as last evaluated",
            "decision": "the last evaluation",
            "reason": "why the canary ended (empty while running)",
            "registry_plan": "what happens in the registry when the last step passes",
        },
        about="A canary's state: step, guard values, last decision, history, and what to do next.",
    ),
    CanaryView: Shown({"next_action": "what an agent should do now"}),
    # mlflow
    ImportedVersion: Shown({"version": "the registry version it became (v<N>, or the name it was mirrored under)"}),
    SyncConflict: Shown(
        {
            "version": "the registry version concerned, if any",
            "problem": "what differs; neither side was changed",
        }
    ),
    MirrorStatus: Shown(
        {
            "experiment": "the MLflow experiment deployments and metrics are logged to",
            "registry_sync": "the registry is mirrored to MLflow's model registry",
            "state": one_of(RelayState),
            "backlog": "changes waiting in the outbox, delivered in order",
            "parked": "changes MLflow refused repeatedly (retry_failed=true offers them again)",
            "unqueued": "changes that could not even be queued (the store failed)",
            "unavailable_since": "when MLflow stopped answering (epoch seconds)",
            "busy_since": "when the MLflow call in progress started, if one is",
            "delivered": "changes delivered since the server started",
        }
    ),
    SyncReport: Shown(
        {
            "imported": "MLflow versions now in the registry",
            "conflicts": "disagreements reported, never overwritten",
            "unchanged": "MLflow versions already in the registry, in step",
            "queued_registrations": "registry versions MLflow lacked, queued for it",
            "queued_stage_changes": "versions whose MLflow stage differed, queued to follow ours",
            "in_step": "registry versions MLflow already mirrors as they are",
            "drained": "everything queued reached MLflow within wait_sec",
        },
        about="What sync_registry did both ways, and where mirroring stands now.",
    ),
    # access
    AuditEntries: Shown({"entries": "newest first"}),
    AuditEntry: Shown(
        {
            "seq": "position in the log; grows with every entry",
            "at": "when the call finished (epoch seconds)",
            "caller": "the bearer token's name, or 'local' (stdio, Python API)",
            "role": one_of(AccessRole),
            "arguments": "the arguments; large payloads summarised ('<list of 5000 items>')",
            "error_category": "e.g. 'permission denied', 'invalid argument', 'not found'",
        }
    ),
    # dashboard
    DashboardSnapshot: Shown(
        {
            "generated_at": "when the snapshot was taken (epoch seconds)",
            "status": f"{one_of(HealthStatus)}: the worst of the models shown",
            "reasons": "why the status is not healthy",
            "model_filter": "the model asked for, or null for every model",
            "models": "per model: traffic split or canary with request counts, versions with stage, breaker "
            "(state, retry time), latency and error-rate trend, and the latest drift check with histograms",
            "alerts": "open alerts (not resolved), most severe first",
            "audit": "the last audit entries (admin only; otherwise a note says why)",
        }
    ),
}
