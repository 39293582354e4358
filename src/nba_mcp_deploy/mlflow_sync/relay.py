"""`OutboxRelay`: one background thread that delivers the outbox to MLflow, oldest entry first.

- Before each batch it asks whether MLflow answers (a quick probe). If not, it waits with
  exponential back-off (capped) and asks again; the entries stay in the store, so an outage,
  a restart of this process, or both, lose nothing. When MLflow answers, the backlog is
  replayed in order.
- An entry is acknowledged (deleted) only after its delivery succeeded. Delivery is at least
  once, so every delivery is idempotent (see delivery.py).
- An entry MLflow refuses is tried again a few times, then parked: kept and reported, no longer
  blocking the entries behind it (`sync_registry(retry_failed=true)` offers it again).
- It also polls, so entries queued by another process sharing the registry are delivered too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import UnavailableError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.outbox import OutboxEntry, OutboxStore

log = get_logger(__name__)


class RelayState(StrEnum):
    IDLE = "idle"  # nothing to deliver
    DELIVERING = "delivering"
    UNAVAILABLE = "unavailable"  # MLflow does not answer; waiting to try again
    STOPPED = "stopped"


@dataclass(frozen=True)
class RelaySettings:
    batch: int = 100
    max_attempts: int = 5  # refusals of one entry before it is parked
    initial_backoff_sec: float = 0.5
    max_backoff_sec: float = 30.0
    poll_sec: float = 5.0  # how often to look for entries queued by other processes


@dataclass(frozen=True)
class RelayStatus:
    """What the relay is doing, for health checks and `sync_registry`."""

    state: RelayState
    unavailable_since: float | None
    busy_since: float | None  # when the MLflow call in progress started (None between calls)
    last_error: str | None
    last_delivered_at: float | None
    delivered: int


class OutboxRelay:
    """Delivers `store`'s outbox with `deliver(entry)` after `check()` says the target answers."""

    def __init__(
        self,
        store: OutboxStore,
        deliver: Callable[[OutboxEntry], None],
        check: Callable[[], None],
        clock: Clock,
        settings: RelaySettings | None = None,
    ) -> None:
        self._store = store
        self._deliver = deliver
        self._check = check
        self._clock = clock
        self._settings = settings or RelaySettings()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._state = RelayState.IDLE
        self._unavailable_since: float | None = None
        self._busy_since: float | None = None
        self._last_error: str | None = None
        self._last_delivered_at: float | None = None
        self._delivered = 0
        self._backoff = self._settings.initial_backoff_sec

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mlflow-relay", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something was queued: deliver it now rather than at the next poll."""
        self._wake.set()

    def status(self) -> RelayStatus:
        return RelayStatus(
            self._state,
            self._unavailable_since,
            self._busy_since,
            self._last_error,
            self._last_delivered_at,
            self._delivered,
        )

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is pending (parked entries aside) or `timeout` passes; True if drained."""
        deadline = time.monotonic() + timeout
        self.wake()
        with self._progress:
            while self._store.outbox_counts().pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return False
                self._progress.wait(min(remaining, 0.2))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the entry in hand (an MLflow call cannot be interrupted; the thread is a daemon)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._state = RelayState.STOPPED

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._round()
            except Exception as exc:  # the store failed: keep the thread alive, try again later
                log.exception("outbox relay round failed")
                self._last_error = f"{type(exc).__name__}: {exc}"
                wait = self._next_backoff()
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()
        self._state = RelayState.STOPPED

    def _round(self) -> float:
        """Deliver one batch; returns how long to wait before the next round."""
        entries = self._store.outbox_pending(self._settings.batch)
        if not entries:
            self._state = RelayState.IDLE
            return self._settings.poll_sec
        try:
            self._check()
        except UnavailableError as exc:
            return self._unavailable(exc)
        self._state = RelayState.DELIVERING
        for entry in entries:
            if self._stop.is_set():
                return 0.0
            self._busy_since = self._clock.now()
            try:
                self._deliver(entry)
            except UnavailableError as exc:
                return self._unavailable(exc)
            except Exception as exc:
                return self._refused(entry, exc)
            finally:
                self._busy_since = None
            self._store.outbox_ack(entry.seq)
            self._delivered_one()
        self._backoff = self._settings.initial_backoff_sec
        return 0.0

    def _delivered_one(self) -> None:
        self._last_delivered_at = self._clock.now()
        self._unavailable_since = None
        self._delivered += 1
        with self._progress:
            self._progress.notify_all()

    def _unavailable(self, exc: UnavailableError) -> float:
        if self._state is not RelayState.UNAVAILABLE:
            log.warning("MLflow does not answer; changes wait in the outbox", extra={"error": str(exc)})
            self._unavailable_since = self._clock.now()
        self._state = RelayState.UNAVAILABLE
        self._last_error = str(exc)
        return self._next_backoff()

    def _refused(self, entry: OutboxEntry, exc: Exception) -> float:
        park = entry.attempts + 1 >= self._settings.max_attempts
        error = f"{type(exc).__name__}: {exc}"
        self._store.outbox_fail(entry.seq, error, park=park)
        self._last_error = error
        log.warning(
            "MLflow refused an outbox entry",
            extra={"seq": entry.seq, "topic": entry.topic, "parked": park, "error": error},
        )
        if park:
            with self._progress:
                self._progress.notify_all()
            return 0.0
        return self._next_backoff()

    def _next_backoff(self) -> float:
        wait = self._backoff
        self._backoff = min(self._backoff * 2, self._settings.max_backoff_sec)
        return wait
