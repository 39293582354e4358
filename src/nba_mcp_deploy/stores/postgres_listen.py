"""`ChangeListener`: one thread per store that LISTENs for control changes and wakes subscribers.

The store sends `NOTIFY nba_registry_control` in the transaction of every deployment or canary
save; PostgreSQL delivers it when that transaction commits, to every listening connection of
every replica. A notification only wakes the subscribers (who then read what changed): losing
one is harmless, because they also poll. After the connection drops, the thread reconnects with
a growing pause and wakes the subscribers once, since it may have missed notifications.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)

CHANNEL = "nba_registry_control"
RECONNECT_MIN_SEC = 0.5
RECONNECT_MAX_SEC = 10.0


class ChangeListener:
    """LISTENs on `CHANNEL` over its own autocommit connection to `conninfo`."""

    def __init__(self, conninfo: str, *, poll_sec: float = 0.5) -> None:
        self._conninfo = conninfo
        self._poll_sec = poll_sec
        self._subscribers: dict[int, Callable[[], None]] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call `on_change` after every notification; returns the unsubscribe function."""
        with self._lock:
            key = self._next_id
            self._next_id += 1
            self._subscribers[key] = on_change
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="registry-listen", daemon=True)
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    def wait_listening(self, timeout: float) -> bool:
        """Whether the LISTEN is in place (tests wait for it before changing anything)."""
        return self._listening.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _wake(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for on_change in subscribers:
            try:
                on_change()
            except Exception:
                log.exception("a registry change subscriber failed")

    def _run(self) -> None:
        import psycopg

        pause = RECONNECT_MIN_SEC
        first = True
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    if not first:
                        self._wake()  # notifications may have been missed while disconnected
                    first, pause = False, RECONNECT_MIN_SEC
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=self._poll_sec):
                            self._wake()
            except psycopg.Error as exc:
                self._listening.clear()
                if self._stopping.is_set():
                    return
                log.warning("registry change listener lost its connection", extra={"error": str(exc)})
                self._stopping.wait(pause)
                pause = min(pause * 2, RECONNECT_MAX_SEC)
