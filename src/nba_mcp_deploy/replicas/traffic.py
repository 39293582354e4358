"""`TrafficCounters`: this replica's counters per served version, written to the store periodically.

A `PredictionObserver`: every served request adds to its version's counters (requests, rows,
errors, A/B-routed requests and errors, failovers away from a version, a latency histogram of
successful requests) under one short lock. Nothing on the predict path touches the store: a
background thread writes the counters of the versions that served since the last flush every
`traffic_flush_interval_sec`, one row per (model, version) for this replica instance, replacing
the previous one (the counters are cumulative since the instance started). So the store holds a
few rows per replica whatever the traffic, a replica killed with SIGKILL loses at most one
interval of counts, and `fleet_counts` adds the rows of every instance up.
"""

from __future__ import annotations

import threading

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.experiments.recorder import AB_ROUTES
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.shared_state import ControlStateStore, TrafficRow
from nba_mcp_deploy.serving.counts import VersionCounts, latency_bucket
from nba_mcp_deploy.serving.ports import PredictionBatch
from nba_mcp_deploy.worker import PeriodicWorker

log = get_logger(__name__)

# Rows of instances not heard from for this long are pruned (they still counted until then).
RETENTION_SEC = 7 * 24 * 3600.0


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

    def flush(self, store: ControlStateStore) -> int:
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
        self, counters: TrafficCounters, store: ControlStateStore, interval_sec: float, *, clock: Clock | None = None
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


def fleet_counts(
    store: ControlStateStore, model_id: str, live: TrafficCounters | None = None
) -> dict[str, VersionCounts]:
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
