"""`ControlSync`: keeps this replica's routing equal to the routing documents in the store.

Every replica saves each control change it makes (deploy, active version, A/B weights, shadow,
undeploy) as its model's routing document, compare-and-set on the document's revision (see
`serving/control_plane.py`). This thread compares the revisions in the store with the ones
this replica follows and applies each document that changed (`apply_document`, see
`serving/follower.py`: versions not loaded here are loaded, the others keep their breakers and
counters).

The bound: a change committed by one replica is applied by every other one within
`control_poll_interval_sec` plus one poll query, plus the time to load a model version it has
not loaded yet. With PostgreSQL each save also sends NOTIFY, which wakes this thread at once;
the polling is the fallback (a lost notification, a dropped listener connection, or sqlite).
A version that fails to load here is retried on every poll and reported in `health_check`
(dependency "control-sync").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.shared_state import ControlStateStore
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.results import DependencyHealth, HealthStatus
from nba_mcp_deploy.worker import PeriodicWorker

log = get_logger(__name__)

NAME = "control-sync"
# Polls in a row that may fail before the sync reports itself degraded.
STALE_POLLS = 5


class ControlSync:
    """A `HealthSource` too: degraded while the store does not answer or a document cannot be applied."""

    def __init__(
        self,
        store: ControlStateStore,
        manager: ModelServingManager,
        *,
        interval_sec: float = 1.0,
        clock: Clock | None = None,
        on_applied: Callable[[str, Mapping[str, Any]], list[str]] | None = None,
    ) -> None:
        self._store = store
        self._on_applied = on_applied  # e.g. loading the reference data the document points at
        self._manager = manager
        self._interval = interval_sec
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._problems: dict[str, list[str]] = {}
        self._failure: str | None = None
        self._last_ok = self._clock.monotonic()
        self._unsubscribe: Callable[[], None] | None = None
        self._worker = PeriodicWorker(self._on_worker, interval_sec, NAME)

    def start(self) -> None:
        """Poll every interval, and at once whenever the store pushes a change."""
        self._unsubscribe = self._store.subscribe(self._worker.wake)
        self._worker.start()

    def _on_worker(self, _on_timer: bool) -> None:
        self.sync_now()

    def sync_now(self) -> list[str]:
        """Apply every document whose revision differs from the one followed here (and retry the
        ones that had problems); returns the problems met."""
        try:
            revisions = self._store.deployment_revisions()
            followed = self._manager.applied_revisions()
            with self._lock:
                retry = set(self._problems)
            changed = sorted(m for m, r in revisions.items() if followed.get(m) != r or m in retry)
            records = self._store.deployment_records() if changed else {}
        except DeployError as exc:
            with self._lock:
                self._failure = str(exc)
            log.warning("control sync could not read the store", extra={"error": str(exc)})
            return [str(exc)]
        found: list[str] = []
        for model_id in changed:
            record = records.get(model_id)
            if record is None:
                continue
            problems = self._manager.apply_document(model_id, record.document, record.revision)
            if self._on_applied is not None:
                problems += self._on_applied(model_id, record.document)
            log.info(
                "applied routing from the store",
                extra={"model_id": model_id, "revision": record.revision, "by": record.updated_by},
            )
            with self._lock:
                if problems:
                    self._problems[model_id] = problems
                else:
                    self._problems.pop(model_id, None)
            found.extend(problems)
        with self._lock:
            self._failure = None
            self._last_ok = self._clock.monotonic()
        return found

    def health(self) -> DependencyHealth:
        with self._lock:
            reasons = [p for problems in self._problems.values() for p in problems]
            stale = self._clock.monotonic() - self._last_ok > STALE_POLLS * self._interval
            if self._failure is not None and stale:
                reasons.insert(0, f"the store has not answered for {STALE_POLLS} polls: {self._failure}")
        return DependencyHealth(NAME, HealthStatus.DEGRADED if reasons else HealthStatus.HEALTHY, reasons)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._worker.close()
