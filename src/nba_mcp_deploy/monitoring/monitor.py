"""`ModelMonitor`: one model's logged predictions, reference data, drift checks, performance, alerts.

Thread-safe. Logging (`log_prediction`, `observe`) only appends into the bounded columnar log
under a short lock; drift checks and metrics copy what they need under the lock and compute
outside it, so a long drift check never stalls predictions. Reference data may be set for the
whole model or per version; a version without its own reference uses the model's.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.monitoring.alert_rules import (
    PerformanceLimits,
    feature_drift_alert,
    performance_alerts,
    prediction_drift_alert,
)
from nba_mcp_deploy.monitoring.alerts import Alert, AlertBook, AlertSeverity
from nba_mcp_deploy.monitoring.correction import Correction
from nba_mcp_deploy.monitoring.drift import DriftReport, Progress, detect_drift
from nba_mcp_deploy.monitoring.histograms import LatestDrift, drift_histograms
from nba_mcp_deploy.monitoring.methods import DriftMethod, parse_method
from nba_mcp_deploy.monitoring.performance import (
    ModelTask,
    PerformanceReport,
    latency_summary,
    quality_metrics,
)
from nba_mcp_deploy.monitoring.plot import render_drift_png
from nba_mcp_deploy.monitoring.prediction_log import LogView, PredictionLog, to_float
from nba_mcp_deploy.monitoring.reports import MonitorReport, ReportKind
from nba_mcp_deploy.monitoring.samples import FloatArray, ReferenceData, prepare_numeric, prepare_reference
from nba_mcp_deploy.monitoring.tabular import Columns, read_columns
from nba_mcp_deploy.serving.ports import PredictionBatch

_log = get_logger(__name__)

UNVERSIONED = "unversioned"
PREDICTION = "prediction"
MIN_REQUESTS_FOR_ALERTS = 20
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class ReferenceSummary:
    """What `set_reference_data` prepared."""

    model_id: str
    version: str | None
    rows: int
    numeric_features: list[str]
    categorical_features: list[str]
    has_predictions: bool
    bins: int
    missing_share: dict[str, float]


@dataclass(frozen=True)
class ActualsResult:
    """How many outcomes found their prediction; the ids no longer (or never) logged."""

    matched: int
    unknown_ids: list[str]


class ModelMonitor:
    """Watches one model: implements `PredictionObserver` for its served requests."""

    def __init__(
        self,
        model_id: str,
        *,
        config: DeploymentConfig | None = None,
        clock: Clock | None = None,
        alerts: AlertBook | None = None,
        task: ModelTask | str | None = None,
        baseline_accuracy: float | None = None,
        min_requests_for_alerts: int = MIN_REQUESTS_FOR_ALERTS,
        on_report: Callable[[MonitorReport], None] | None = None,
    ) -> None:
        self.model_id = model_id
        self._on_report = on_report
        self.config = config or DeploymentConfig()
        self._clock = clock or SystemClock()
        self._alerts = alerts or AlertBook(cooldown_sec=self.config.alert_cooldown_sec, clock=self._clock)
        self.task = ModelTask(task) if task is not None else None
        self.baseline_accuracy = baseline_accuracy
        self.min_requests_for_alerts = min_requests_for_alerts
        self._lock = threading.Lock()
        self._log = PredictionLog(self.config.monitor_window_size, self.config.max_features_per_record)
        self._references: dict[str | None, ReferenceData] = {}
        self._latest_drift: LatestDrift | None = None
        self.observe_failures = 0

    # ---- reference data -------------------------------------------------------------------

    def set_reference_data(
        self,
        data: Any,
        *,
        version: str | None = None,
        prediction_column: str | None = None,
        bins: int | None = None,
        data_field: str = "reference data",
    ) -> ReferenceSummary:
        """Prepare reference data (DataFrame, records, mapping of columns, or a CSV/Parquet path
        inside the data roots) once, for every later drift check of this model or `version`.

        `prediction_column` names a column holding the model's reference outputs, used by
        `detect_prediction_drift` (a column named "prediction" is used when none is named).
        `data_field` is what errors call `data` (a tool names its own argument, e.g. "path").
        """
        columns = read_columns(
            data,
            data_roots=self.config.data_roots,
            max_rows=self.config.max_reference_rows,
            field=data_field,
        )
        if not columns:
            raise InvalidInputError(data_field, data, "must have at least one column")
        if prediction_column is not None and prediction_column not in columns:
            raise InvalidInputError("prediction_column", prediction_column, f"not a column; columns: {list(columns)}")
        chosen = prediction_column or (PREDICTION if PREDICTION in columns else None)
        reference = prepare_reference(columns, bins=bins or self.config.drift_bins, prediction_column=chosen)
        if reference.rows == 0:
            raise InvalidInputError(data_field, "0 rows", "must have at least one row")
        with self._lock:
            self._references[version] = reference
        shares = {n: c.missing_share for n, c in reference.numeric.items()}
        shares.update({n: c.missing_share for n, c in reference.categorical.items()})
        return ReferenceSummary(
            model_id=self.model_id,
            version=version,
            rows=reference.rows,
            numeric_features=list(reference.numeric),
            categorical_features=list(reference.categorical),
            has_predictions=reference.predictions is not None,
            bins=reference.bins,
            missing_share=shares,
        )

    def set_reference_predictions(self, predictions: Sequence[float] | Any, *, version: str | None = None) -> None:
        """Reference outputs for `detect_prediction_drift` (kept beside the feature reference)."""
        with self._lock:
            current = self._references.get(version)
        if current is None:
            raise ConflictError(f"{self.model_id}: set reference data before reference predictions")
        prepared = prepare_numeric(np.asarray(predictions, dtype=np.float64), PREDICTION, bins=current.bins)
        updated = ReferenceData(current.numeric, current.categorical, current.rows, current.bins, prepared)
        with self._lock:
            self._references[version] = updated

    def reference(self, version: str | None = None) -> ReferenceData:
        """The reference for `version` (its own, else the model's); ConflictError if none is set."""
        with self._lock:
            found = self._references.get(version) or self._references.get(None)
        if found is None:
            where = f"{self.model_id} {version}" if version else self.model_id
            raise ConflictError(
                f"{where} has no reference data: call set_reference_data with the training or validation data first"
            )
        return found

    # ---- logging (hot path) ---------------------------------------------------------------

    def log_prediction(
        self,
        prediction_id: str,
        features: Mapping[str, Any],
        prediction: Any,
        actual: Any = None,
        latency_ms: float = 0.0,
        error: str | None = None,
        *,
        version: str | None = None,
    ) -> None:
        """Record one prediction (and its outcome if already known). Cheap: an append under a lock."""
        pred = to_float(prediction) if prediction is not None else math.nan
        act = to_float(actual) if actual is not None else math.nan
        now = self._clock.now()
        with self._lock:
            self._log.append(
                str(prediction_id),
                features,
                pred,
                act,
                float(latency_ms),
                error is not None,
                version or UNVERSIONED,
                now,
            )

    def observe(self, batch: PredictionBatch) -> None:
        """`PredictionObserver`: record a served request. Never raises (failures are counted)."""
        try:
            rows = len(batch.prediction_ids)
            predictions = _prediction_column(batch.predictions, rows)
            with self._lock:
                self._log.append_batch(
                    batch.prediction_ids,
                    batch.feature_names,
                    batch.features,
                    predictions,
                    float(batch.latency_ms),
                    batch.error is not None,
                    batch.version,
                    float(batch.timestamp),
                )
        except Exception:
            self.observe_failures += 1
            if self.observe_failures in (1, 10, 100) or self.observe_failures % 1000 == 0:
                _log.warning("monitor could not record a batch", exc_info=True, extra={"model_id": self.model_id})

    def log_actuals(self, actuals: Mapping[str, Any]) -> ActualsResult:
        """Attach outcomes (e.g. once the game ends) to logged predictions by prediction id."""
        if not isinstance(actuals, Mapping):
            raise InvalidInputError("actuals", actuals, "an object of prediction_id: actual outcome")
        with self._lock:
            matched, unknown = self._log.set_actuals(actuals)
        return ActualsResult(matched=matched, unknown_ids=unknown)

    def outcomes_of(self, prediction_ids: Sequence[str], *, chunk: int = 4096) -> tuple[FloatArray, FloatArray]:
        """The logged prediction and actual outcome of each id (NaN where not known or not held).

        Looked up `chunk` ids at a time, each under the lock, so a long list never stalls serving.
        """
        parts = []
        for start in range(0, len(prediction_ids), chunk):
            with self._lock:
                parts.append(self._log.lookup(prediction_ids[start : start + chunk]))
        if not parts:
            return np.empty(0), np.empty(0)
        return np.concatenate([p for p, _ in parts]), np.concatenate([a for _, a in parts])

    @property
    def logged(self) -> int:
        """Predictions ever logged (including those since overwritten)."""
        with self._lock:
            return self._log.written

    def recent(self, window_hours: float | None = None, version: str | None = None) -> LogView:
        """A copy of the logged records in the window (all held records if None)."""
        since = self._since(window_hours)
        with self._lock:
            return self._log.view(since=since, version=version)

    def _since(self, window_hours: float | None) -> float | None:
        if window_hours is None:
            return None
        if isinstance(window_hours, bool) or not isinstance(window_hours, int | float) or not window_hours > 0:
            raise InvalidInputError("window_hours", window_hours, "must be a number of hours > 0")
        return self._clock.now() - float(window_hours) * SECONDS_PER_HOUR

    # ---- drift ----------------------------------------------------------------------------

    def current_columns(
        self,
        current_data: Any = None,
        *,
        window_hours: float | None = None,
        version: str | None = None,
        data_field: str = "current data",
    ) -> tuple[Columns, int]:
        """The data a drift check compares: `current_data` if given, else the logged inputs."""
        if current_data is not None:
            columns = read_columns(
                current_data,
                data_roots=self.config.data_roots,
                max_rows=self.config.max_reference_rows,
                field=data_field,
            )
            return columns, max((c.shape[0] for c in columns.values()), default=0)
        view = self.recent(window_hours, version)
        if view.rows == 0:
            window = f" in the last {window_hours} hours" if window_hours else ""
            raise ConflictError(
                f"{self.model_id}: no logged predictions{window} to compare; serve some requests or pass current data"
            )
        return dict(view.features), view.rows

    def detect_feature_drift(
        self,
        current_data: Any = None,
        *,
        method: DriftMethod | str = DriftMethod.KS_TEST,
        features: Sequence[str] | None = None,
        threshold: float | None = None,
        correction: Correction | str | None = None,
        window_hours: float | None = None,
        version: str | None = None,
        drift_share: float = 0.5,
        progress: Progress | None = None,
        workers: int = 1,
        data_field: str = "current data",
    ) -> DriftReport:
        """Compare current inputs (given, or the logged ones in the window) with the reference.

        `workers` > 1 checks features in threads (worth it for wide checks on large samples).

        Raises a FEATURE_DRIFT alert: WARNING when some features drift, CRITICAL on dataset drift.
        """
        reference = self.reference(version)
        columns, rows = self.current_columns(
            current_data, window_hours=window_hours, version=version, data_field=data_field
        )
        report = detect_drift(
            reference,
            columns,
            method=method,
            features=features,
            threshold=threshold,
            correction=correction,
            drift_share=drift_share,
            drift_threshold=self.config.drift_threshold,
            drift_significance=self.config.drift_significance,
            current_rows=rows,
            progress=progress,
            workers=workers,
        )
        feature_drift_alert(self._alerts, self.model_id, report, version)
        self._publish(ReportKind.FEATURE_DRIFT, version, report)
        latest = LatestDrift(self._clock.now(), version, report, drift_histograms(reference, columns, report))
        with self._lock:
            self._latest_drift = latest
        return report

    @property
    def latest_drift(self) -> LatestDrift | None:
        """The last feature-drift check (any version), with histograms of its drifted features."""
        with self._lock:
            return self._latest_drift

    def plot_feature_drift(
        self,
        report: DriftReport,
        current_data: Any = None,
        *,
        window_hours: float | None = None,
        version: str | None = None,
        top: int = 4,
        data_field: str = "current data",
    ) -> bytes:
        """PNG comparing reference and current distributions of the report's most drifted features.

        Pass the same current data / window / version as the drift check.
        """
        columns, _ = self.current_columns(
            current_data, window_hours=window_hours, version=version, data_field=data_field
        )
        return render_drift_png(self.reference(version), columns, report, top=top)

    def detect_prediction_drift(
        self,
        current_predictions: Sequence[float] | Any = None,
        *,
        method: DriftMethod | str = DriftMethod.KS_TEST,
        threshold: float | None = None,
        window_hours: float | None = None,
        version: str | None = None,
    ) -> DriftReport:
        """Compare the model's outputs (given, or logged in the window) with the reference outputs."""
        chosen = parse_method(method)
        if chosen is DriftMethod.CHI_SQUARE:
            raise InvalidInputError("method", chosen.value, "prediction drift uses a numeric method")
        reference = self.reference(version)
        if reference.predictions is None:
            raise ConflictError(
                f"{self.model_id} has no reference predictions: include a 'prediction' column in the "
                "reference data (or name it with prediction_column), or call set_reference_predictions"
            )
        if current_predictions is None:
            view = self.recent(window_hours, version)
            values = view.predictions[~view.errors]
            if values.shape[0] == 0:
                raise ConflictError(f"{self.model_id}: no logged predictions to compare")
        else:
            values = np.asarray(current_predictions, dtype=np.float64).reshape(-1)
        named = dataclasses.replace(reference.predictions, name=PREDICTION)
        only_predictions = ReferenceData({PREDICTION: named}, {}, reference.rows, reference.bins)
        report = detect_drift(
            only_predictions,
            {PREDICTION: values},
            method=chosen,
            threshold=threshold,
            drift_threshold=self.config.drift_threshold,
            drift_significance=self.config.drift_significance,
        )
        prediction_drift_alert(self._alerts, self.model_id, report.results[0], version)
        self._publish(ReportKind.PREDICTION_DRIFT, version, report)
        return report

    # ---- performance ----------------------------------------------------------------------

    def calculate_performance(
        self, window_hours: float | None = 24.0, *, version: str | None = None, evaluate_alerts: bool = True
    ) -> PerformanceReport:
        """Quality (on predictions with outcomes), error rate and latency over the window.

        Also evaluates the error-rate, latency and accuracy-drop alerts unless told not to.
        """
        view = self.recent(window_hours, version)
        requests = int(view.heads.sum())
        errors = int((view.errors & view.heads).sum())
        task, pairs, quality = quality_metrics(view.predictions, view.actuals, self.task)
        report = PerformanceReport(
            model_id=self.model_id,
            version=version,
            window_hours=window_hours,
            count=view.rows,
            requests=requests,
            with_actuals=pairs,
            task=task,
            errors=errors,
            error_rate=errors / requests if requests else None,
            **quality,
            **latency_summary(view.latency_ms[view.heads]),
        )
        if evaluate_alerts:
            performance_alerts(
                self._alerts,
                report,
                PerformanceLimits(
                    error_rate=self.config.error_rate_threshold,
                    latency_p95_ms=self.config.latency_threshold_ms,
                    accuracy_drop=self.config.performance_threshold,
                    baseline_accuracy=self.baseline_accuracy,
                    min_requests=self.min_requests_for_alerts,
                ),
            )
        self._publish(ReportKind.PERFORMANCE, version, report)
        return report

    def _publish(self, kind: ReportKind, version: str | None, report: DriftReport | PerformanceReport) -> None:
        """Hand a finished report to the service's report listeners (see reports.py)."""
        if self._on_report is None:
            return
        try:
            self._on_report(MonitorReport(self.model_id, version, kind, self._clock.now(), report))
        except Exception:  # a listener must never fail a drift check
            _log.exception("report listener failed", extra={"model_id": self.model_id})

    # ---- alerts ---------------------------------------------------------------------------

    def get_alerts(self, severity: AlertSeverity | str | None = None, since: float | None = None) -> list[Alert]:
        """This model's alerts, newest first; `severity` keeps that level and above."""
        return self._alerts.list(model_id=self.model_id, severity=severity, since=since)


def _prediction_column(predictions: Any, rows: int) -> Any:
    """One float per row from whatever the model returned (labels, scores, a one-column matrix)."""
    if predictions is None:
        return np.full(rows, math.nan)
    array = np.asarray(predictions)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != rows or array.dtype.kind not in "fiub":
        return np.full(rows, math.nan)
    return array.astype(np.float64, copy=False)
