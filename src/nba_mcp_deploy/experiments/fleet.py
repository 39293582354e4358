"""Traffic of every replica, as A/B results and canary guards see it (`replicas/traffic.py` counts it).

A `FleetSource` answers, for a model, the counters of each version added up over every replica
instance (their rows in the store, with this replica's live counters in place of its own row).
A/B results report these per variant beside this replica's statistical tests; a canary judges
its guards on the fleet's counts since its step began (`baseline` and `since`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nba_mcp_deploy.serving.counts import VersionCounts

FleetSource = Callable[[str], Mapping[str, VersionCounts]]


@dataclass(frozen=True)
class FleetVariant:
    """One variant's A/B-routed traffic on every replica together."""

    version: str
    requests: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None  # of every successful request of the version, within 10%
    latency_p95_ms: float | None


def fleet_variants(source: FleetSource, model_id: str, versions: tuple[str, ...]) -> tuple[FleetVariant, ...]:
    counts = source(model_id)
    out = []
    for version in versions:
        c = counts.get(version) or VersionCounts()
        out.append(
            FleetVariant(
                version=version,
                requests=c.ab_requests,
                errors=c.ab_errors,
                error_rate=c.ab_errors / c.ab_requests if c.ab_requests else None,
                latency_p50_ms=c.latency_percentile(50),
                latency_p95_ms=c.latency_percentile(95),
            )
        )
    return tuple(out)


def since(current: Mapping[str, VersionCounts], baseline: Mapping[str, VersionCounts], version: str) -> VersionCounts:
    """A version's counts added since `baseline` was taken (counters only grow)."""
    delta = (current.get(version) or VersionCounts()).copy()
    before = baseline.get(version)
    if before is not None:
        delta.add(before, sign=-1)
    return delta
