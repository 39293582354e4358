"""A stoppable background thread that runs a task when woken, and every `interval` seconds anyway.

The predict path only calls `wake()` (a counter and an event), so the work itself never runs on
a request's thread. `wait_idle()` blocks until every wake so far has been handled: tests and
scripts use it to observe the outcome deterministically; it never runs the task itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)


class PeriodicWorker:
    """Runs `task(on_timer)`: on_timer is False when woken, True when the interval elapsed."""

    def __init__(self, task: Callable[[bool], None], interval_sec: float, name: str) -> None:
        if not interval_sec > 0:
            raise ValueError("interval_sec must be > 0")
        self._task = task
        self._interval = interval_sec
        self._event = threading.Event()
        self._done = threading.Condition()
        self._requested = 0
        self._handled = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        with self._done:
            self._requested += 1
        self._event.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every wake requested before this call has been handled (False on timeout)."""
        with self._done:
            target = self._requested
            return self._done.wait_for(lambda: self._handled >= target or self._stopping, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._done:
            self._stopping = True
            self._done.notify_all()
        self._event.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            woken = self._event.wait(self._interval)
            if self._stopping:
                return
            self._event.clear()
            with self._done:
                target = self._requested
            try:
                self._task(not woken)
            except Exception:
                log.exception("background task failed", extra={"thread": self._thread.name})
            with self._done:
                self._handled = max(self._handled, target)
                self._done.notify_all()
