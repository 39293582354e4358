"""The alert rules: when a finished report raises an alert, and when it resolves one.

Pure functions over an `AlertBook`, so the rules read in one place and are applied the same way
whoever produced the report (a tool call, or a periodic check).
"""

from __future__ import annotations

from dataclasses import dataclass

from nba_mcp_deploy.monitoring.alerts import AlertBook, AlertKind, AlertSeverity
from nba_mcp_deploy.monitoring.drift import DriftReport, FeatureDriftResult
from nba_mcp_deploy.monitoring.performance import PerformanceReport

# A value this many times its threshold is critical, not a warning.
CRITICAL_FACTOR = 2.0
# A distance-based prediction drift score this many times its threshold is critical.
CRITICAL_SCORE_FACTOR = 2.5
LISTED_FEATURES = 5


@dataclass(frozen=True)
class PerformanceLimits:
    """The thresholds a performance report is held to."""

    error_rate: float
    latency_p95_ms: float
    accuracy_drop: float
    baseline_accuracy: float | None
    min_requests: int


def feature_drift_alert(book: AlertBook, model_id: str, report: DriftReport, version: str | None) -> None:
    """WARNING when some features drift, CRITICAL on dataset drift; resolved when none does."""
    drifted = report.drifted_features
    subject = report.method.value
    if not drifted:
        book.resolve(
            model_id=model_id,
            version=version,
            kind=AlertKind.FEATURE_DRIFT,
            subject=subject,
            message=f"no feature drifts any more ({subject})",
        )
        return
    severity = AlertSeverity.CRITICAL if report.dataset_drift else AlertSeverity.WARNING
    more = len(drifted) - LISTED_FEATURES
    listed = ", ".join(drifted[:LISTED_FEATURES]) + (f" and {more} more" if more > 0 else "")
    book.raise_alert(
        model_id=model_id,
        version=version,
        kind=AlertKind.FEATURE_DRIFT,
        severity=severity,
        subject=subject,
        message=(
            f"{len(drifted)}/{len(report.checked)} features drifted ({subject}, share "
            f"{report.drifted_share:.2f}, dataset drift at {report.drift_share:.2f}): {listed}"
        ),
        value=report.drifted_share,
        threshold=report.drift_share,
    )


def prediction_drift_alert(book: AlertBook, model_id: str, result: FeatureDriftResult, version: str | None) -> None:
    """WARNING when the predictions drift, CRITICAL when a distance is far above its threshold."""
    subject = result.method.value
    if not result.is_drift:
        book.resolve(
            model_id=model_id,
            version=version,
            kind=AlertKind.PREDICTION_DRIFT,
            subject=subject,
            message=f"predictions no longer drift ({subject})",
        )
        return
    strong = (
        not result.method.uses_p_value
        and result.score is not None
        and result.score >= CRITICAL_SCORE_FACTOR * result.threshold
    )
    detail = f"p={result.p_value:.3g}" if result.p_value is not None else f"score={result.score:.3g}"
    book.raise_alert(
        model_id=model_id,
        version=version,
        kind=AlertKind.PREDICTION_DRIFT,
        severity=AlertSeverity.CRITICAL if strong else AlertSeverity.WARNING,
        subject=subject,
        message=f"the distribution of predictions drifted ({subject}, {detail}, threshold {result.threshold})",
        value=result.score,
        threshold=result.threshold,
    )


def performance_alerts(book: AlertBook, report: PerformanceReport, limits: PerformanceLimits) -> None:
    """Error rate and p95 latency once enough requests were served; accuracy drop from the
    baseline once enough outcomes are known."""
    if report.requests >= limits.min_requests:
        threshold_alert(
            book, report, AlertKind.ERROR_RATE, "error_rate", report.error_rate, limits.error_rate, "error rate"
        )
        threshold_alert(
            book,
            report,
            AlertKind.LATENCY,
            "latency_p95_ms",
            report.latency_p95_ms,
            limits.latency_p95_ms,
            "p95 latency (ms)",
        )
    baseline = limits.baseline_accuracy
    if baseline is not None and report.accuracy is not None and report.with_actuals >= limits.min_requests:
        threshold_alert(
            book,
            report,
            AlertKind.ACCURACY_DROP,
            "accuracy",
            baseline - report.accuracy,
            limits.accuracy_drop,
            f"accuracy drop from baseline {baseline:.3f} (now {report.accuracy:.3f})",
        )


def threshold_alert(
    book: AlertBook,
    report: PerformanceReport,
    kind: AlertKind,
    subject: str,
    value: float | None,
    threshold: float,
    what: str,
) -> None:
    """Raise above the threshold (CRITICAL above twice it), resolve at or under it."""
    if value is None:
        return
    if value <= threshold:
        book.resolve(
            model_id=report.model_id,
            version=report.version,
            kind=kind,
            subject=subject,
            message=f"{what} back under its threshold: {value:.4g} <= {threshold:.4g}",
        )
        return
    book.raise_alert(
        model_id=report.model_id,
        version=report.version,
        kind=kind,
        severity=AlertSeverity.CRITICAL if value > CRITICAL_FACTOR * threshold else AlertSeverity.WARNING,
        subject=subject,
        message=f"{what} is {value:.4g}, above the threshold {threshold:.4g}",
        value=value,
        threshold=threshold,
    )
