"""Per-version request metrics in bounded memory: exact counters plus a ring of recent requests.

Counters (requests, errors, rejected) are exact for the whole life of the version. Latency
percentiles and the recent error rate are computed over the last `window` requests, kept in
fixed-size NumPy rings, so memory does not grow with traffic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatencySummary:
    count: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class MetricsSnapshot:
    requests: int
    errors: int
    rejected: int
    served_rows: int
    error_rate: float | None
    recent_error_rate: float | None
    latency: LatencySummary


def summarize_latencies(values_ms: np.ndarray) -> LatencySummary:
    """Mean and p50/p95/p99 of a latency sample (empty sample: all None)."""
    if values_ms.size == 0:
        return LatencySummary(0, None, None, None, None)
    p50, p95, p99 = np.percentile(values_ms, [50, 95, 99])
    return LatencySummary(int(values_ms.size), float(values_ms.mean()), float(p50), float(p95), float(p99))


class VersionMetrics:
    """Thread-safe; `record` is on the predict path and costs one lock and two array writes."""

    def __init__(self, window: int) -> None:
        self._lock = threading.Lock()
        self._latency = np.zeros(window, dtype=np.float64)
        self._failed = np.zeros(window, dtype=np.bool_)
        self._window = window
        self._next = 0
        self._filled = 0
        self.requests = 0
        self.errors = 0
        self.rejected = 0
        self.served_rows = 0

    def record(self, latency_ms: float, *, failed: bool, rows: int) -> None:
        with self._lock:
            self.requests += 1
            if failed:
                self.errors += 1
            else:
                self.served_rows += rows
            position = self._next
            self._latency[position] = latency_ms
            self._failed[position] = failed
            self._next = (position + 1) % self._window
            if self._filled < self._window:
                self._filled += 1

    def record_rejected(self) -> None:
        """A call the circuit breaker refused (it never reached the model)."""
        with self._lock:
            self.rejected += 1

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            latency = self._latency[: self._filled].copy()
            failed = self._failed[: self._filled].copy()
            requests, errors, rejected, rows = self.requests, self.errors, self.rejected, self.served_rows
        return MetricsSnapshot(
            requests=requests,
            errors=errors,
            rejected=rejected,
            served_rows=rows,
            error_rate=(errors / requests) if requests else None,
            recent_error_rate=float(failed.mean()) if failed.size else None,
            latency=summarize_latencies(latency),
        )
