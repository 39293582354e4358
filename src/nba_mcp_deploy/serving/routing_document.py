"""The routing document: one model's routing as saved in the store, with its writer and reader.

Every control change saves the model's routing as this JSON document (the registry store keeps
it; other replicas follow it; a restart restores from it; the MLflow outbox carries a copy).
`RoutingDocument.to_json` writes it and `RoutingDocument.from_json` reads it back, so the format
is stated once, here. The reader takes documents written by any earlier release of this format:
parts it cannot read are named in `unreadable` instead of raising, so one bad part never stops a
replica from serving the rest.

    {"format": 1, "model_id": "m",
     "versions": [{"version": "v1.0", "model_uri": "...", "deployed_at": 1.0}, ...],
     "active": "v1.0", "split": {"versions": [...], "weights": [...], "sticky": false} | null,
     "shadow": {"version": "v2.0", "fraction": 0.5} | null, "previous_active": ["v0.9"],
     "references": {"*": {"path": "..."}}, "batching": {"max_batch_size": 8, "max_wait_ms": 2.0} | null}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.batching import BatchSettings
from nba_mcp_deploy.serving.routing import TrafficSplit, make_split
from nba_mcp_deploy.serving.shadow import ShadowConfig

DOCUMENT_FORMAT = 1
# What a malformed part of a saved document raises while it is read.
_MALFORMED = (InvalidInputError, KeyError, TypeError, ValueError)

_Part = TypeVar("_Part")


@dataclass(frozen=True)
class VersionEntry:
    """A deployed version as saved: where it loads from (None: from memory, not restorable)."""

    version: str
    model_uri: str | None
    deployed_at: float | None = None


@dataclass(frozen=True)
class RoutingDocument:
    """What is saved of a `ModelRouting`: versions by location, and how traffic reaches them."""

    model_id: str
    versions: tuple[VersionEntry, ...] = ()
    active: str | None = None
    split: TrafficSplit | None = None
    shadow: ShadowConfig | None = None
    previous_active: tuple[str, ...] = ()
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    batching: BatchSettings | None = None
    # Parts of a read document that could not be taken ("split", "shadow", "batching"), and why.
    unreadable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def version_names(self) -> list[str]:
        return [entry.version for entry in self.versions]

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready data (versions in the order given, references sorted)."""
        return {
            "format": DOCUMENT_FORMAT,
            "model_id": self.model_id,
            "versions": [
                {"version": e.version, "model_uri": e.model_uri, "deployed_at": e.deployed_at} for e in self.versions
            ],
            "active": self.active,
            "split": None
            if self.split is None
            else {
                "versions": list(self.split.versions),
                "weights": list(self.split.weights),
                "sticky": self.split.sticky,
            },
            "shadow": None
            if self.shadow is None
            else {"version": self.shadow.version, "fraction": self.shadow.fraction},
            "previous_active": list(self.previous_active),
            "references": {key: dict(location) for key, location in sorted(self.references.items())},
            "batching": None if self.batching is None else self.batching.to_document(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoutingDocument:
        """Read a saved document; a malformed split, shadow or batching is left out and named in
        `unreadable`, a malformed version entry is skipped."""
        unreadable: dict[str, str] = {}
        split = _read_part(data, "split", unreadable, _split)
        shadow = _read_part(data, "shadow", unreadable, _shadow)
        batching = _read_part(data, "batching", unreadable, _batching)
        entries = [e for e in data.get("versions") or [] if isinstance(e, Mapping) and "version" in e]
        return cls(
            model_id=str(data.get("model_id") or ""),
            versions=tuple(
                VersionEntry(
                    str(e["version"]),
                    None if e.get("model_uri") is None else str(e["model_uri"]),
                    e.get("deployed_at"),
                )
                for e in entries
            ),
            active=None if data.get("active") is None else str(data["active"]),
            split=split,
            shadow=shadow,
            previous_active=tuple(str(v) for v in data.get("previous_active") or []),
            references=MappingProxyType(
                {str(key): dict(location) for key, location in dict(data.get("references") or {}).items()}
            ),
            batching=batching,
            unreadable=MappingProxyType(unreadable),
        )


def _read_part(
    data: Mapping[str, Any], name: str, unreadable: dict[str, str], read: Callable[[Mapping[str, Any]], _Part]
) -> _Part | None:
    saved = data.get(name)
    if not saved:
        return None
    try:
        return read(saved)
    except _MALFORMED as exc:
        unreadable[name] = str(exc) or type(exc).__name__
        return None


def _split(saved: Mapping[str, Any]) -> TrafficSplit:
    return make_split([str(v) for v in saved["versions"]], saved["weights"], sticky=bool(saved["sticky"]))


def _shadow(saved: Mapping[str, Any]) -> ShadowConfig:
    return ShadowConfig(str(saved["version"]), float(saved["fraction"]))


def _batching(saved: Mapping[str, Any]) -> BatchSettings:
    return BatchSettings(saved["max_batch_size"], saved["max_wait_ms"])
