"""`MetricsFlusher`: every `interval_sec`, one outbox entry with the serving metrics of every
version that served since the last flush (requests, errors, error rate, latency percentiles).

The predict path never sees it: predictions only update the manager's in-memory counters, and
this thread reads their snapshots (the same ones `health_check` reports) on its own schedule.
Closing flushes one last time, so a clean shutdown loses no counts.
"""

from __future__ import annotations

import threading

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.mlflow_sync.mirrors import Outbox
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.worker import PeriodicWorker

log = get_logger(__name__)

DEFAULT_FLUSH_INTERVAL_SEC = 30.0


class MetricsFlusher:
    """Snapshots serving metrics into the outbox on a background thread."""

    def __init__(
        self, manager: ModelServingManager, outbox: Outbox, *, interval_sec: float = DEFAULT_FLUSH_INTERVAL_SEC
    ) -> None:
        self._manager = manager
        self._outbox = outbox
        self._last_requests: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._worker = PeriodicWorker(self._flush_on_timer, interval_sec, "mlflow-metrics")

    def start(self) -> None:
        self._worker.start()

    def flush(self) -> int:
        """Queue the metrics of the versions that served since the last flush; returns how many."""
        with self._lock:
            report = self._manager.health_check()
            entries = events.serving_metrics(report, self._last_requests)
            if entries:
                self._outbox.put(events.SERVING_METRICS, {"at": report.checked_at, "entries": entries})
            return len(entries)

    def close(self) -> None:
        self._worker.close()
        try:
            self.flush()
        except Exception:
            log.exception("final metrics flush failed")

    def _flush_on_timer(self, _on_timer: bool) -> None:
        self.flush()  # a failure is logged by the worker, which keeps flushing
