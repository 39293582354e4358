"""`ModelMonitor` as the seed document writes it: one model (and version) under watch.

    monitor = ModelMonitor(model_id="nba_win_predictor", model_version="v1.0", drift_threshold=0.05)
    monitor.set_reference_data(features=reference_frame)
    monitor.log_prediction(prediction_id="pred_001", features={...}, prediction=0.68, actual=1.0)
    for result in monitor.detect_feature_drift(current_data=frame, method=DriftMethod.KS_TEST): ...

A face over the core `monitoring.monitor.ModelMonitor`, inside the server's services: on its own
(`ModelMonitor(...)`, built like every facade, see `assembly.py`), or watching what a serving
manager answers (`manager.monitor(model_id)`). `model_version` scopes it to one version: its
reference data, logged predictions, performance and the MLflow run its reports go to.
`drift_threshold` is the cut-off of the distance methods (PSI, KL, ...); the KS and chi-square
tests use the significance `drift_significance` (see `monitoring/methods.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.access.permissions import permission_required
from nba_mcp_deploy.api.assembly import RegistryHome, ServicesOwner
from nba_mcp_deploy.monitoring.alerts import AlertSeverity
from nba_mcp_deploy.monitoring.methods import DriftMethod

if TYPE_CHECKING:
    from nba_mcp_deploy.api.serving import ModelServingManager
    from nba_mcp_deploy.monitoring.alerts import Alert
    from nba_mcp_deploy.monitoring.drift import DriftReport
    from nba_mcp_deploy.monitoring.monitor import ActualsResult, ReferenceSummary
    from nba_mcp_deploy.monitoring.monitor import ModelMonitor as CoreMonitor
    from nba_mcp_deploy.monitoring.performance import PerformanceReport

# The model a monitor built without a model_id watches (the seed's `ModelMonitor(enable_mlflow=True)`).
DEFAULT_MODEL_ID = "default"


class ModelMonitor(ServicesOwner):
    """Prediction logging, drift checks, performance windows and alerts for one model."""

    model_id: str
    model_version: str | None

    def __init__(
        self,
        model_id: str = DEFAULT_MODEL_ID,
        model_version: str | None = None,
        *,
        drift_threshold: float | None = None,
        enable_mlflow: bool | None = None,
        mock_mode: bool = False,
        mlflow_tracking_uri: str | None = None,
        mlflow_experiment: str | None = None,
        registry_dir: str | Path | None = None,
        **settings: Any,
    ) -> None:
        if drift_threshold is not None:
            settings["drift_threshold"] = drift_threshold
        super().__init__(
            mock_mode=mock_mode,
            enable_mlflow=enable_mlflow,
            mlflow_tracking_uri=mlflow_tracking_uri,
            mlflow_experiment=mlflow_experiment,
            registry_dir=registry_dir,
            home=RegistryHome.MEMORY_UNLESS_SET,
            mirror_registry=False,
            settings=settings,
        )
        self._watch(model_id, model_version)

    @classmethod
    def of_manager(cls, manager: ModelServingManager, model_id: str, model_version: str | None) -> ModelMonitor:
        """The monitor of `model_id` inside `manager`'s services (it sees what the manager serves)."""
        monitor = cls.sharing(manager)
        monitor._watch(model_id, model_version)
        return monitor

    def _watch(self, model_id: str, model_version: str | None) -> None:
        self.model_id = model_id
        self.model_version = model_version
        self._core = self.services.monitoring.monitor(model_id)

    @property
    def core(self) -> CoreMonitor:
        """The core monitor underneath (shared by every face of this model in these services)."""
        return self._core

    # -- reference data --------------------------------------------------------------------

    @permission_required("set_reference_data")
    def set_reference_data(
        self, features: Any, *, prediction_column: str | None = None, bins: int | None = None
    ) -> ReferenceSummary:
        """The training or validation data drift checks compare with: a DataFrame, records, a
        mapping of columns, or a CSV/Parquet path inside the data roots."""
        return self._core.set_reference_data(
            features, version=self.model_version, prediction_column=prediction_column, bins=bins, data_field="features"
        )

    def set_reference_predictions(self, predictions: Sequence[float] | Any) -> None:
        """The model's outputs on the reference data, for `detect_prediction_drift`."""
        self._core.set_reference_predictions(predictions, version=self.model_version)

    # -- logging -----------------------------------------------------------------------------

    def log_prediction(
        self,
        prediction_id: str,
        features: Mapping[str, Any],
        prediction: Any,
        actual: Any = None,
        latency_ms: float = 0.0,
        error: str | None = None,
    ) -> None:
        """Record one prediction (and its outcome, if known already)."""
        self._core.log_prediction(
            prediction_id, features, prediction, actual, latency_ms, error, version=self.model_version
        )

    @permission_required("log_actuals")
    def log_actuals(self, actuals: Mapping[str, Any]) -> ActualsResult:
        """Attach outcomes (e.g. once the game ends) to logged predictions by prediction id."""
        return self._core.log_actuals(actuals)

    # -- checks ------------------------------------------------------------------------------

    def detect_feature_drift(
        self,
        current_data: Any = None,
        method: DriftMethod | str = DriftMethod.KS_TEST,
        *,
        reference_data: Any = None,
        features: Sequence[str] | None = None,
        threshold: float | None = None,
        window_hours: float | None = None,
        correction: str | None = None,
    ) -> DriftReport:
        """Compare current inputs (given, or the logged ones in the window) with the reference.

        `reference_data`, when given, becomes the reference first (as `set_reference_data`), so
        two datasets compare in one call. Iterate over the report for the per-feature results
        (`feature_name`, `drift_score`, `is_drift`); `dataset_drift` is the overall verdict.
        Raises a drift alert when drifting.
        """
        if reference_data is not None:
            self.set_reference_data(reference_data)
        return self._core.detect_feature_drift(
            current_data,
            method=method,
            features=features,
            threshold=threshold,
            window_hours=window_hours,
            correction=correction,
            version=self.model_version,
        )

    def detect_prediction_drift(
        self,
        current_predictions: Sequence[float] | Any = None,
        method: DriftMethod | str = DriftMethod.KS_TEST,
        *,
        threshold: float | None = None,
        window_hours: float | None = None,
    ) -> DriftReport:
        """Compare the model's outputs (given, or logged in the window) with the reference outputs."""
        return self._core.detect_prediction_drift(
            current_predictions,
            method=method,
            threshold=threshold,
            window_hours=window_hours,
            version=self.model_version,
        )

    def calculate_performance(self, window_hours: float | None = 24.0) -> PerformanceReport:
        """Accuracy (or MAE/RMSE), `error_rate`, `avg_latency_ms` and latency percentiles over
        the window; raises error-rate, latency and accuracy-drop alerts."""
        return self._core.calculate_performance(window_hours, version=self.model_version)

    def get_alerts(self, severity: AlertSeverity | str | None = None, since: float | None = None) -> list[Alert]:
        """This model's alerts, newest first; `severity` keeps that level and above."""
        return self._core.get_alerts(severity=severity, since=since)
