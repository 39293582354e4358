"""What goes into the outbox for MLflow: one topic per kind of change, a JSON payload built from
the core's own objects. Pure functions (no MLflow here): the payload must hold everything the
delivery needs, because MLflow may only see it hours later, after a restart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.monitoring.drift import DriftReport
from nba_mcp_deploy.monitoring.performance import PerformanceReport
from nba_mcp_deploy.monitoring.reports import MonitorReport, ReportKind
from nba_mcp_deploy.registry.records import ModelVersion, StageChange
from nba_mcp_deploy.serving.control import ControlChange
from nba_mcp_deploy.serving.results import HealthReport

REGISTERED = "mlflow.registered"
STAGE_CHANGED = "mlflow.stage_changed"
CONTROL = "mlflow.control"
SERVING_METRICS = "mlflow.serving_metrics"
REPORT = "mlflow.report"
TOPICS = (REGISTERED, STAGE_CHANGED, CONTROL, SERVING_METRICS, REPORT)

_METRIC_KEY = re.compile(r"[^A-Za-z0-9_\-. :/]")


def metric_key(*parts: str) -> str:
    """A dotted MLflow metric key from parts (characters MLflow refuses become '_')."""
    return ".".join(_METRIC_KEY.sub("_", part) for part in parts)


def registered(version: ModelVersion, change: StageChange) -> dict[str, Any]:
    """A new version, with everything MLflow's model version and its run record."""
    return {
        "model_id": version.model_id,
        "version": version.version,
        "stage": version.stage.value,
        "framework": version.framework,
        "algorithm": version.algorithm,
        "metrics": dict(version.metrics),
        "hyperparameters": dict(version.hyperparameters),
        "tags": dict(version.tags),
        "description": version.description,
        "model_uri": version.model_uri,
        "parent": None if version.parent is None else str(version.parent),
        "registered_at": version.registered_at,
        "registered_by": version.registered_by,
        "seq": change.seq,
    }


def stage_changed(change: StageChange) -> dict[str, Any]:
    """A stage change (to_stage None: the version was deleted)."""
    return change.to_dict()


def control(change: ControlChange, config: DeploymentConfig) -> dict[str, Any]:
    """A control change, with the serving settings that applied (logged as the run's params)."""
    return {
        "model_id": change.model_id,
        "kind": change.kind.value,
        "version": change.version,
        "at": change.at,
        "routing": dict(change.routing),
        "settings": serving_settings(config),
    }


def serving_settings(config: DeploymentConfig) -> dict[str, str]:
    """The configuration a deployment runs under, as MLflow params."""
    names = (
        "error_threshold",
        "breaker_window_size",
        "breaker_minimum_calls",
        "breaker_open_wait_sec",
        "breaker_half_open_calls",
        "error_rate_threshold",
        "latency_threshold_ms",
        "drift_threshold",
        "latency_window",
        "shadow_queue_size",
    )
    return {name: str(getattr(config, name)) for name in names}


def serving_metrics(report: HealthReport, last_requests: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """Per deployed version, the serving metrics worth logging: only versions that served since
    the last flush (`last_requests` is updated in place)."""
    entries = []
    for model in report.models:
        for version in model.versions:
            metrics = version.metrics
            key = (model.model_id, version.version)
            if metrics.requests == last_requests.get(key, 0):
                continue
            last_requests[key] = metrics.requests
            values: dict[str, float | int | None] = {
                "requests": metrics.requests,
                "errors": metrics.errors,
                "rejected": metrics.rejected,
                "served_rows": metrics.served_rows,
                "error_rate": metrics.error_rate,
                "recent_error_rate": metrics.recent_error_rate,
                "latency_mean_ms": metrics.latency.mean_ms,
                "latency_p50_ms": metrics.latency.p50_ms,
                "latency_p95_ms": metrics.latency.p95_ms,
                "latency_p99_ms": metrics.latency.p99_ms,
            }
            entries.append(
                {
                    "model_id": model.model_id,
                    "version": version.version,
                    "metrics": _finite({metric_key("serving", k): v for k, v in values.items()}),
                }
            )
    return entries


def report(monitor_report: MonitorReport, version: str | None) -> dict[str, Any]:
    """A drift check or performance report as metrics, for the run of `version`."""
    found = monitor_report.report
    if isinstance(found, PerformanceReport):
        metrics = _performance_metrics(found)
    else:
        metrics = _drift_metrics(found, monitor_report.kind)
    return {
        "model_id": monitor_report.model_id,
        "version": version,
        "kind": monitor_report.kind.value,
        "at": monitor_report.at,
        "metrics": metrics,
    }


def _drift_metrics(drift: DriftReport, kind: ReportKind) -> dict[str, float]:
    prefix = ("drift", "features" if kind is ReportKind.FEATURE_DRIFT else "prediction", drift.method.value)
    values: dict[str, float | None] = {
        metric_key(*prefix, "features_checked"): len(drift.checked),
        metric_key(*prefix, "features_drifted"): len(drift.drifted_features),
        metric_key(*prefix, "drift_share"): drift.drifted_share,
        metric_key(*prefix, "dataset_drift"): float(drift.dataset_drift),
    }
    for result in drift.results:
        values[metric_key(*prefix, "score", result.feature)] = result.score
        values[metric_key(*prefix, "p_value", result.feature)] = result.p_value
        values[metric_key(*prefix, "is_drift", result.feature)] = float(result.is_drift)
    return _finite(values)


def _performance_metrics(performance: PerformanceReport) -> dict[str, float]:
    names = (
        "count",
        "requests",
        "with_actuals",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "auc",
        "mae",
        "rmse",
        "errors",
        "error_rate",
        "latency_mean_ms",
        "latency_p95_ms",
        "latency_p99_ms",
    )
    return _finite({metric_key("performance", name): getattr(performance, name) for name in names})


def _finite(values: Mapping[str, float | int | None]) -> dict[str, float]:
    """Only the values MLflow can plot (None and NaN mean 'not computable here')."""
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}
