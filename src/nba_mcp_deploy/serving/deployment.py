"""What is deployed: served versions and each model's routing, as an immutable snapshot.

The predict path reads one `ModelRouting` per request and never locks it: control changes
(deploy, switch, A/B, shadow, undeploy) build a new snapshot and swap it in. A request that
picked a version just before it was undeployed still finishes on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.identifiers import version_key
from nba_mcp_deploy.serving.batching import BatchSettings, MicroBatcher
from nba_mcp_deploy.serving.breaker import CircuitBreaker
from nba_mcp_deploy.serving.metrics import VersionMetrics
from nba_mcp_deploy.serving.ports import LoadedModel
from nba_mcp_deploy.serving.routing import TrafficSplit
from nba_mcp_deploy.serving.routing_document import RoutingDocument, VersionEntry
from nba_mcp_deploy.serving.shadow import ShadowConfig, ShadowStats
from nba_mcp_deploy.serving.signature import ModelSignature


class Role(StrEnum):
    """What a deployed version is doing right now."""

    ACTIVE = "active"
    AB_VARIANT = "ab_variant"
    SHADOW = "shadow"
    STANDBY = "standby"


@dataclass
class ServedVersion:
    """One loaded, warmed-up version and its live counters."""

    model_id: str
    version: str
    model: LoadedModel
    model_uri: str | None
    deployed_at: float
    load_ms: float
    breaker: CircuitBreaker
    metrics: VersionMetrics
    # What it takes and returns (for protocol metadata), read at deploy time.
    signature: ModelSignature
    shadow_stats: ShadowStats = field(default_factory=ShadowStats)
    # Set while the model batches requests (`ModelRouting.batching`); swapped, never mutated.
    batcher: MicroBatcher | None = None


@dataclass(frozen=True)
class ModelRouting:
    """One model's versions and how traffic reaches them; replaced, never mutated."""

    model_id: str
    versions: Mapping[str, ServedVersion]
    active: str | None = None
    split: TrafficSplit | None = None
    shadow: ShadowConfig | None = None
    # Versions that were active before, most recent first: failover and rollback targets.
    previous_active: tuple[str, ...] = ()
    # Where reference data for drift checks is, by version ("*" = the whole model): a data file
    # every replica loads (the monitor holds the prepared data; only the location is shared).
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    # Adaptive batching of every version's requests; None = off (the default).
    batching: BatchSettings | None = None

    def with_changes(self, **changes: Any) -> ModelRouting:
        if "versions" in changes:
            changes["versions"] = MappingProxyType(dict(changes["versions"]))
        return replace(self, **changes)

    def require(self, version: str) -> ServedVersion:
        """The deployed `version`, or NotFoundError naming the deployed ones."""
        served = self.versions.get(version)
        if served is None:
            raise NotFoundError(
                f"{self.model_id} has no deployed version {version!r}; deployed: {self.sorted_versions()}"
            )
        return served

    def role_of(self, version: str) -> Role:
        if self.split is not None and version in self.split.versions:
            return Role.AB_VARIANT
        if version == self.active:
            return Role.ACTIVE
        if self.shadow is not None and version == self.shadow.version:
            return Role.SHADOW
        return Role.STANDBY

    def weight_of(self, version: str) -> float | None:
        """The version's share of traffic in the A/B split, or None when it is not in one."""
        if self.split is None or version not in self.split.versions:
            return None
        return self.split.weight_of(version)

    def live_versions(self) -> list[str]:
        """Versions that receive live traffic: the split's weighted variants, else the active one."""
        if self.split is not None:
            return [v for v, w in zip(self.split.versions, self.split.weights, strict=True) if w > 0]
        return [self.active] if self.active is not None else []

    def sorted_versions(self) -> list[str]:
        return sorted(self.versions, key=version_key)

    def document(self) -> RoutingDocument:
        """What is saved of this routing (see routing_document.py)."""
        return RoutingDocument(
            model_id=self.model_id,
            versions=tuple(
                VersionEntry(name, served.model_uri, served.deployed_at)
                for name in self.sorted_versions()
                for served in (self.versions[name],)
            ),
            active=self.active,
            split=self.split,
            shadow=self.shadow,
            previous_active=self.previous_active,
            references=self.references,
            batching=self.batching,
        )

    def to_document(self) -> dict[str, Any]:
        """The routing as JSON-ready data, for the registry store (restored after a restart)."""
        return self.document().to_json()


def empty_routing(model_id: str) -> ModelRouting:
    return ModelRouting(model_id=model_id, versions=MappingProxyType({}))
