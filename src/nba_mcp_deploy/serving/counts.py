"""`VersionCounts`: cumulative traffic counters of one served version, mergeable across replicas.

Latency is kept as counts in fixed buckets (`LATENCY_BOUNDS_MS`), which add up across replicas
exactly; a percentile read from them is its bucket's upper bound, at most `BUCKET_GROWTH` times
the true value.
Counted by `replicas/traffic.py`, read by A/B results and canary guards (`experiments/fleet.py`).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Upper bounds of the latency buckets: from SMALLEST_BUCKET_MS up, each BUCKET_GROWTH times the
# one before; a request slower than the last bound counts in the last bucket.
SMALLEST_BUCKET_MS = 0.01
BUCKET_GROWTH = 1.1
BUCKETS = 172
LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(SMALLEST_BUCKET_MS * BUCKET_GROWTH**i for i in range(BUCKETS))
COUNTS = ("requests", "rows", "errors", "ab_requests", "ab_errors", "failovers")


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
