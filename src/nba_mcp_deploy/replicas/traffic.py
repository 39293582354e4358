"""`TrafficCounters`: this replica's counters per served version, written to the store periodically.

A `PredictionObserver`: every served request adds to its version's counters (requests, rows,
errors, A/B-routed requests and errors, failovers away from a version, a latency histogram of
successful requests) under one short lock. Nothing on the predict path touches the store: a
background thread writes the counters of the versions that served since the last flush every
`traffic_flush_interval_sec`, one row per (model, version) for this replica instance, replacing
the previous one (the counters are cumulative since the instance started). So the store holds a
few rows per replica whatever the traffic, a replica killed with SIGKILL loses at most one
interval of counts, and `fleet.py` adds the rows of every instance up.

Latency is kept as counts in fixed buckets (`LATENCY_BOUNDS_MS`, 10% apart), which add up across
replicas exactly; percentiles read from them are within one bucket (10%) of the true value.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.experiments.recorder import AB_ROUTES
from nba_mcp_deploy.experiments.worker import PeriodicWorker
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.shared_state import TrafficRow
from nba_mcp_deploy.registry.store import RegistryStore
from nba_mcp_deploy.serving.ports import PredictionBatch

log = get_logger(__name__)

# Upper bounds of the latency buckets: 0.01 ms to ~2 minutes, each 10% above the previous one.
LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(0.01 * 1.1**i for i in range(172))
COUNTS = ("requests", "rows", "errors", "ab_requests", "ab_errors", "failovers")
# Rows of instances not heard from for this long are pruned (they still counted until then).
RETENTION_SEC = 7 * 24 * 3600.0


@dataclass
class VersionCounts:
    """Cumulative counters of one version (on one replica, or added up over several)."""

    requests: int = 0
    rows: int = 0
    errors: int = 0
    ab_requests: int = 0
    ab_errors: int = 0
    failovers: int = 0  # requests that failed over away from this version (its breaker was open)
    latency: dict[int, int] = field(default_factory=dict)  # bucket index -> successful requests

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {name: getattr(self, name) for name in COUNTS}
        document["latency"] = {str(k): v for k, v in sorted(self.latency.items())}
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> VersionCounts:
        counts = cls(latency={int(k): int(v) for k, v in dict(document.get("latency", {})).items()})
        for name in COUNTS:
            setattr(counts, name, int(document.get(name, 0)))
        return counts

    def add(self, other: VersionCounts, sign: int = 1) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))
        for bucket, n in other.latency.items():
            self.latency[bucket] = self.latency.get(bucket, 0) + sign * n

    def copy(self) -> VersionCounts:
        return dataclasses.replace(self, latency=dict(self.latency))

    def latency_percentile(self, q: float) -> float | None:
        """The q-th percentile (0-100) of successful latencies, as its bucket's upper bound."""
        total = self.successes
        if total == 0:
            return None
        rank = max(1, math.ceil(q / 100 * total))
        seen = 0
        for bucket in sorted(self.latency):
            seen += max(0, self.latency[bucket])
            if seen >= rank:
                return LATENCY_BOUNDS_MS[min(bucket, len(LATENCY_BOUNDS_MS) - 1)]
        return LATENCY_BOUNDS_MS[-1]

    @property
    def successes(self) -> int:
        return sum(n for n in self.latency.values() if n > 0)


def latency_bucket(latency_ms: float) -> int:
    return min(bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms), len(LATENCY_BOUNDS_MS) - 1)


class TrafficCounters:
    """This replica instance's counters; `observe` is on the predict path (one short lock)."""

    def __init__(self, replica_id: str, instance: str, *, clock: Clock | None = None) -> None:
        self.replica_id = replica_id
        self.instance = instance
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], VersionCounts] = {}
        self._dirty: set[tuple[str, str]] = set()

    def observe(self, batch: PredictionBatch) -> None:
        """`PredictionObserver`: count one served request (the observer fan-out isolates and logs failures)."""
        key = (batch.model_id, batch.version)
        failed = batch.error is not None
        ab = batch.routed_by in AB_ROUTES and batch.failover_from is None
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = VersionCounts()
            counts.requests += 1
            counts.rows += len(batch.prediction_ids)
            if failed:
                counts.errors += 1
            else:
                bucket = latency_bucket(batch.latency_ms)
                counts.latency[bucket] = counts.latency.get(bucket, 0) + 1
            if ab:
                counts.ab_requests += 1
                counts.ab_errors += failed
            self._dirty.add(key)
            if batch.failover_from is not None:
                away = (batch.model_id, batch.failover_from)
                if away not in self._counts:
                    self._counts[away] = VersionCounts()
                self._counts[away].failovers += 1
                self._dirty.add(away)

    def snapshot(self, model_id: str) -> dict[str, VersionCounts]:
        """This instance's live counters of a model, by version (copies)."""
        with self._lock:
            return {v: c.copy() for (m, v), c in self._counts.items() if m == model_id}

    def pending_rows(self) -> list[TrafficRow]:
        """Rows for the versions that served since the last flush (and forget that they did)."""
        now = self._clock.now()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            documents = {key: self._counts[key].to_document() for key in dirty}
        return [
            TrafficRow(self.instance, self.replica_id, model_id, version, document, now)
            for (model_id, version), document in sorted(documents.items())
        ]

    def flush(self, store: RegistryStore) -> int:
        """Write the pending rows; on failure they stay pending for the next flush."""
        rows = self.pending_rows()
        try:
            store.save_traffic(rows)
        except DeployError:
            with self._lock:
                self._dirty.update((r.model_id, r.version) for r in rows)
            raise
        return len(rows)


class TrafficFlusher:
    """Flushes `counters` to the store every `interval_sec` on a background thread (and on close)."""

    def __init__(
        self, counters: TrafficCounters, store: RegistryStore, interval_sec: float, *, clock: Clock | None = None
    ) -> None:
        self.counters = counters
        self._store = store
        self._clock = clock or SystemClock()
        self._worker = PeriodicWorker(self._flush, interval_sec, "traffic-flush")
        self._pruned = False

    def start(self) -> None:
        self._worker.start()

    def flush_now(self) -> None:
        self._worker.wake()
        self._worker.wait_idle(10.0)

    def _flush(self, _on_timer: bool) -> None:
        try:
            self.counters.flush(self._store)
            if not self._pruned:  # once per process: instances gone for a week
                self._store.prune_traffic(self._clock.now() - RETENTION_SEC)
                self._pruned = True
        except DeployError as exc:
            log.warning("could not write traffic counters to the store", extra={"error": str(exc)})

    def close(self) -> None:
        self._worker.close()
        try:
            self.counters.flush(self._store)
        except DeployError as exc:
            log.warning("could not write the last traffic counters", extra={"error": str(exc)})


def fleet_counts(store: RegistryStore, model_id: str, live: TrafficCounters | None = None) -> dict[str, VersionCounts]:
    """Every replica instance's counters of a model added up by version. `live` (this replica's
    counters) stands in for its own instance's stored rows: fresher than its last flush."""
    totals: dict[str, VersionCounts] = {}
    for row in store.load_traffic(model_id):
        if live is not None and row.instance == live.instance:
            continue
        totals.setdefault(row.version, VersionCounts()).add(VersionCounts.from_document(row.counters))
    if live is not None:
        for version, counts in live.snapshot(model_id).items():
            totals.setdefault(version, VersionCounts()).add(counts)
    return totals
