"""The listeners that put changes into the outbox: registry stage changes, serving control
changes, monitoring reports. Each append is one quick sqlite write; nothing here talks to MLflow
(the relay does, later, on its own thread).

A change that cannot even be queued (the store failed) is logged and counted, never raised:
the change itself is already committed, and `sync_registry` re-queues what the registry holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.monitoring.reports import MonitorReport
from nba_mcp_deploy.registry.outbox import OutboxStore
from nba_mcp_deploy.registry.records import ModelVersion, StageChange
from nba_mcp_deploy.serving.control import ControlChange
from nba_mcp_deploy.serving.manager import ModelServingManager

log = get_logger(__name__)


class Outbox:
    """Appends to the store's outbox, then wakes the relay; counts what could not be queued."""

    def __init__(self, store: OutboxStore, clock: Clock, wake: Callable[[], None]) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._lock = threading.Lock()
        self.unqueued = 0
        self.last_unqueued_error: str | None = None

    def put(self, topic: str, payload: Mapping[str, Any]) -> None:
        try:
            self._store.outbox_append(topic, payload, self._clock.now())
        except Exception as exc:
            with self._lock:
                self.unqueued += 1
                self.last_unqueued_error = f"{type(exc).__name__}: {exc}"
            log.exception("could not queue a change for MLflow", extra={"topic": topic})
            return
        self._wake()


class RegistryMirror:
    """A registry `StageListener`: every registration and stage change is queued for MLflow."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def before_stage_change(self, version: ModelVersion, change: StageChange) -> None:
        """Nothing to check: MLflow never refuses a change of ours (it catches up later)."""

    def on_stage_changed(self, version: ModelVersion, change: StageChange) -> None:
        if change.from_stage is None:
            self._outbox.put(events.REGISTERED, events.registered(version, change))
        else:
            self._outbox.put(events.STAGE_CHANGED, events.stage_changed(change))


class ServingMirror:
    """A serving `ControlListener`: deployments, A/B tests and shadows become MLflow runs."""

    def __init__(self, outbox: Outbox, config: DeploymentConfig) -> None:
        self._outbox = outbox
        self._config = config

    def on_control_change(self, change: ControlChange) -> None:
        self._outbox.put(events.CONTROL, events.control(change, self._config))


class MonitoringMirror:
    """A monitoring `ReportListener`: drift checks and performance reports become run metrics.

    A report for the whole model is logged to the run of the version active at the time.
    """

    def __init__(self, outbox: Outbox, manager: ModelServingManager) -> None:
        self._outbox = outbox
        self._manager = manager

    def on_report(self, report: MonitorReport) -> None:
        version = report.version or self._active(report.model_id)
        self._outbox.put(events.REPORT, events.report(report, version))

    def _active(self, model_id: str) -> str | None:
        try:
            return self._manager.routing(model_id).active
        except NotFoundError:  # monitored but not deployed here
            return None
