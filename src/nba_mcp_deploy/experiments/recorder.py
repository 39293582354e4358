"""`TrafficRecorder`: the served requests an A/B analysis needs, per model, in bounded memory.

A `PredictionObserver`: the serving manager hands it every served request. It keeps only the
requests the A/B split routed (`ab_random`, `ab_sticky`), because only those were assigned at
random: a pinned request chose its version, and a request that failed over was served by a
version the split did not choose. Each record is one request: a sequence number, time, version,
sticky key, request id, latency, failure and prediction ids (outcomes are looked up by id in the
monitor when an analysis runs, off the predict path). Recording is one append under a short
lock; the oldest records go once a model holds `capacity`.

Taps: a running canary registers a tap for its model and is handed every served request of
that model (failovers included) right after it is recorded; a tap must be as cheap as this.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import NamedTuple

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.serving.ports import PredictionBatch
from nba_mcp_deploy.serving.results import RoutedBy

log = get_logger(__name__)

AB_ROUTES = frozenset({RoutedBy.AB_RANDOM.value, RoutedBy.AB_STICKY.value})

Tap = Callable[[PredictionBatch], None]


class Recorded(NamedTuple):
    """One A/B-routed request (a tuple: built on the predict path)."""

    seq: int
    timestamp: float
    version: str
    request_key: str | None
    request_id: str
    latency_ms: float
    failed: bool
    prediction_ids: Sequence[str]


class TrafficRecorder:
    """Thread-safe; `observe` is on the predict path and costs one short lock and an append."""

    def __init__(self, capacity: int = 50_000) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError("capacity must be a whole number >= 1")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._next_seq = 0
        self._models: dict[str, deque[Recorded]] = {}
        self._taps: dict[str, Tap] = {}

    def observe(self, batch: PredictionBatch) -> None:
        """`PredictionObserver`: record an A/B-routed request, then hand it to the model's tap (the observer
        fan-out isolates and logs failures)."""
        if batch.routed_by in AB_ROUTES and batch.failover_from is None:
            with self._lock:
                records = self._models.get(batch.model_id)
                if records is None:
                    records = self._models[batch.model_id] = deque(maxlen=self.capacity)
                records.append(
                    Recorded(
                        self._next_seq,
                        batch.timestamp,
                        batch.version,
                        batch.request_key,
                        batch.request_id,
                        batch.latency_ms,
                        batch.error is not None,
                        batch.prediction_ids,
                    )
                )
                self._next_seq += 1
        tap = self._taps.get(batch.model_id)
        if tap is not None:
            tap(batch)

    def mark(self) -> int:
        """The sequence number the next recorded request will get (where a new period starts)."""
        with self._lock:
            return self._next_seq

    def set_tap(self, model_id: str, tap: Tap | None) -> None:
        """Hand every served request of `model_id` to `tap` (None removes it)."""
        if tap is None:
            self._taps.pop(model_id, None)
        else:
            self._taps[model_id] = tap

    def records(
        self,
        model_id: str,
        versions: Collection[str] | None = None,
        *,
        since_seq: int = 0,
        since_time: float | None = None,
    ) -> list[Recorded]:
        """A copy of the model's records (oldest first), optionally of `versions`, from a point on."""
        with self._lock:
            held = list(self._models.get(model_id, ()))
        return [
            r
            for r in held
            if r.seq >= since_seq
            and (since_time is None or r.timestamp >= since_time)
            and (versions is None or r.version in versions)
        ]

    def forget(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
