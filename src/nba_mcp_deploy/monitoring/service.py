"""`MonitoringService`: one `ModelMonitor` per model, shared by the server and the serving manager.

It is the `PredictionObserver` the serving manager is given: `observe(batch)` dispatches on
`batch.model_id` (creating the model's monitor on first sight) and never raises. All monitors
share one alert book, so `get_alerts` can answer across models.
"""

from __future__ import annotations

import threading
from typing import Any

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.monitoring.alerts import Alert, AlertBook, AlertNotifier, AlertSeverity
from nba_mcp_deploy.monitoring.monitor import ModelMonitor
from nba_mcp_deploy.monitoring.performance import ModelTask
from nba_mcp_deploy.monitoring.reports import MonitorReport, ReportListener
from nba_mcp_deploy.serving.ports import PredictionBatch

_log = get_logger(__name__)


class MonitoringService:
    """The monitors of every model, created on demand."""

    def __init__(
        self,
        config: DeploymentConfig | None = None,
        *,
        clock: Clock | None = None,
        notifier: AlertNotifier | None = None,
    ) -> None:
        self.config = config or DeploymentConfig()
        self._clock = clock or SystemClock()
        self._notifier = notifier
        self.alerts = AlertBook(cooldown_sec=self.config.alert_cooldown_sec, clock=self._clock, notifier=notifier)
        self._lock = threading.Lock()
        self._monitors: dict[str, ModelMonitor] = {}
        self._report_listeners: tuple[ReportListener, ...] = ()
        self.observe_failures = 0

    def monitor(self, model_id: str, *, task: ModelTask | str | None = None, **options: Any) -> ModelMonitor:
        """The model's monitor, created with `task` and `options` (ModelMonitor keywords) if new."""
        found = self._monitors.get(model_id)
        if found is not None:
            return found
        validate_model_id(model_id)
        with self._lock:
            found = self._monitors.get(model_id)
            if found is None:
                found = ModelMonitor(
                    model_id,
                    config=self.config,
                    clock=self._clock,
                    alerts=self.alerts,
                    task=task,
                    on_report=self._publish_report,
                    **options,
                )
                self._monitors[model_id] = found
        return found

    def add_report_listener(self, listener: ReportListener) -> None:
        """Tell `listener` about every later drift check and performance report (see reports.py)."""
        self._report_listeners = (*self._report_listeners, listener)

    def _publish_report(self, report: MonitorReport) -> None:
        for listener in self._report_listeners:
            try:
                listener.on_report(report)
            except Exception:
                _log.exception("report listener failed", extra={"listener": type(listener).__name__})

    def get(self, model_id: str) -> ModelMonitor:
        """The model's monitor; NotFoundError if the model was never monitored."""
        found = self._monitors.get(model_id)
        if found is None:
            known = ", ".join(sorted(self._monitors)) or "none yet"
            raise NotFoundError(f"no monitor for model {model_id!r}; monitored models: {known}")
        return found

    def models(self) -> list[str]:
        with self._lock:
            return sorted(self._monitors)

    def remove(self, model_id: str) -> None:
        """Forget a model's monitor and its logged predictions (its alerts stay in the book)."""
        with self._lock:
            self._monitors.pop(model_id, None)

    def observe(self, batch: PredictionBatch) -> None:
        """`PredictionObserver`: hand the request to its model's monitor. Never raises."""
        try:
            self.monitor(batch.model_id).observe(batch)
        except Exception:
            self.observe_failures += 1
            if self.observe_failures in (1, 10, 100) or self.observe_failures % 1000 == 0:
                _log.warning("could not dispatch a batch to its monitor", exc_info=True)

    def close(self) -> None:
        """Stop the alert notifier's background delivery, if there is one."""
        if self._notifier is not None:
            self._notifier.close()

    def get_alerts(
        self,
        model_id: str | None = None,
        severity: AlertSeverity | str | None = None,
        since: float | None = None,
    ) -> list[Alert]:
        """Alerts newest first, of one model or all; `severity` keeps that level and above."""
        return self.alerts.list(model_id=model_id, severity=severity, since=since)
