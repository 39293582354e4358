"""The registry's value objects: what a version is, what happened to it, what the catalogue holds.

They are frozen: a store builds them from its rows and the core only ever reads them. Mapping
fields are plain dicts for cheap serialisation (pydantic, json); treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.validation import canonical_version

# JSON-compatible hyperparameter value (validated on registration).
JsonValue = Any


@dataclass(frozen=True, order=True)
class VersionRef:
    """Names one version of one model; written `model_id:version` (e.g. `win_prob:v1.2`)."""

    model_id: str
    version: str

    def __str__(self) -> str:
        return f"{self.model_id}:{self.version}"

    @classmethod
    def parse(cls, value: Any, *, default_model_id: str, field: str = "parent") -> VersionRef:
        """A reference from `model_id:version`, a bare version (same model) or a VersionRef."""
        if isinstance(value, VersionRef):
            return cls(validate_model_id(value.model_id, field), canonical_version(value.version, field))
        if not isinstance(value, str):
            raise InvalidInputError(field, value, "expected 'model_id:version' or a version like 'v1.0'")
        model_id, sep, version = value.strip().rpartition(":")
        return cls(validate_model_id(model_id if sep else default_model_id, field), canonical_version(version, field))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, as the store holds it."""

    model_id: str
    version: str
    stage: Stage
    framework: str
    algorithm: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    hyperparameters: Mapping[str, JsonValue] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    model_uri: str | None = None
    parent: VersionRef | None = None
    registered_at: float = 0.0
    registered_by: str = "local"
    stage_changed_at: float = 0.0

    @property
    def ref(self) -> VersionRef:
        return VersionRef(self.model_id, self.version)


class ChangeReason(StrEnum):
    """Why a stage change happened; rollback reads these to find the previous production version."""

    REGISTERED = "registered"
    PROMOTED = "promoted"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"
    RESTORED = "restored"
    RETIRED = "retired"
    DELETED = "deleted"


@dataclass(frozen=True)
class StageChange:
    """One entry of the audit trail: when, from, to, by whom and why.

    `from_stage` is None for a registration and `to_stage` is None for a deletion. A store
    applies a change only if the version is still in `from_stage` (compare-and-set), so two
    processes deciding at once cannot both win; `seq` is the store's order of commits.
    """

    model_id: str
    version: str
    from_stage: Stage | None
    to_stage: Stage | None
    changed_at: float
    actor: str
    reason: ChangeReason
    note: str = ""
    seq: int | None = None

    @property
    def ref(self) -> VersionRef:
        return VersionRef(self.model_id, self.version)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (stages and reason by name), for logs and the outbox."""
        return {
            "model_id": self.model_id,
            "version": self.version,
            "from_stage": None if self.from_stage is None else self.from_stage.value,
            "to_stage": None if self.to_stage is None else self.to_stage.value,
            "changed_at": self.changed_at,
            "actor": self.actor,
            "reason": self.reason.value,
            "note": self.note,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class StageChangeResult:
    """What promote/rollback/retire did: the version now in its new stage and every change made."""

    version: ModelVersion
    changes: tuple[StageChange, ...]
    replaced: VersionRef | None = None


@dataclass(frozen=True)
class ModelSummary:
    """One model of the catalogue: its versions at a glance."""

    model_id: str
    version_count: int
    latest_version: str
    production_version: str | None
    stage_counts: Mapping[str, int]
    last_registered_at: float


@dataclass(frozen=True)
class RegistryStatistics:
    """Counts over the whole registry; every stage appears in `by_stage`, zero or not."""

    total_models: int
    total_versions: int
    production_count: int
    by_stage: Mapping[str, int]
    by_framework: Mapping[str, int]
