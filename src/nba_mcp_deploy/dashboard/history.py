"""A short, bounded history of each served version's latency and error rate, for sparklines.

The serving metrics hold counters and a ring of recent latencies, i.e. only *now*. The dashboard
wants a trend, so `MetricsHistory.sample(report)` turns a health report into one point per
version: p50 / p95 latency over the recent window, and the error rate and request count *since
the previous point* (differences of the exact counters; no requests in between -> no rate).
Each version keeps at most `capacity` points, and versions no longer deployed are dropped, so
memory stays bounded whatever the traffic or the uptime.

Points are taken when the dashboard is read (at most one per `min_spacing_sec`) and by
`HealthSampler`, a daemon thread that samples every `health_check_interval_sec`, so the trend
exists before anyone looks.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nba_mcp_deploy.dashboard.views import SeriesPoint
from nba_mcp_deploy.worker import PeriodicWorker

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import HealthReport


DEFAULT_CAPACITY = 120
DEFAULT_MIN_SPACING_SEC = 1.0


@dataclass
class _Series:
    points: deque[SeriesPoint]
    last_requests: int
    last_errors: int


class MetricsHistory:
    """Thread-safe; one bounded deque of points per (model, version)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, min_spacing_sec: float = DEFAULT_MIN_SPACING_SEC) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2 points")
        self.capacity = capacity
        self.min_spacing_sec = min_spacing_sec
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], _Series] = {}

    def sample(self, report: HealthReport, *, complete: bool = True) -> None:
        """Add a point per version in `report` (skipped if its last point is too recent).

        `complete` says the report covers every deployed model, so versions it lacks are gone.
        """
        at = report.checked_at
        seen: set[tuple[str, str]] = set()
        with self._lock:
            for model in report.models:
                for version in model.versions:
                    key = (model.model_id, version.version)
                    seen.add(key)
                    metrics = version.metrics
                    series = self._series.get(key)
                    if series is None:
                        series = _Series(deque(maxlen=self.capacity), metrics.requests, metrics.errors)
                        self._series[key] = series
                    elif series.points and at - series.points[-1].at < self.min_spacing_sec:
                        continue
                    requests = max(metrics.requests - series.last_requests, 0)
                    errors = max(metrics.errors - series.last_errors, 0)
                    series.points.append(
                        SeriesPoint(
                            at=at,
                            requests=requests,
                            error_rate=errors / requests if requests else None,
                            p50_ms=metrics.latency.p50_ms,
                            p95_ms=metrics.latency.p95_ms,
                        )
                    )
                    series.last_requests, series.last_errors = metrics.requests, metrics.errors
            if complete:
                for key in [k for k in self._series if k not in seen]:
                    del self._series[key]

    def series(self, model_id: str, version: str) -> tuple[SeriesPoint, ...]:
        """The version's points, oldest first (empty if never sampled)."""
        with self._lock:
            found = self._series.get((model_id, version))
            return tuple(found.points) if found is not None else ()


class HealthSampler(PeriodicWorker):
    """Calls `sample()` every `interval_sec` on a daemon thread until closed (0: never); errors are logged."""

    def __init__(self, sample: Callable[[], None], interval_sec: float) -> None:
        self._enabled = interval_sec > 0
        super().__init__(lambda _on_timer: sample(), interval_sec if self._enabled else 1.0, "health-sampler")

    def start(self) -> None:
        if self._enabled:
            super().start()
