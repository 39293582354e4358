"""What replicas share through the registry store besides the catalogue: control state and counters.

- `DeploymentRecord`: a model's routing document (the serving layer owns its shape) with a
  `revision` that grows by one on every save. A replica saves with the revision it last applied
  (compare-and-set), so two replicas changing one model at once cannot silently overwrite each
  other; the others poll the revisions (or are woken by PostgreSQL NOTIFY) and apply what changed.
- `TrafficRow`: one replica instance's counters for one served version, cumulative since that
  instance started and replaced on every flush (a few per replica, never one per request).
  Adding up the rows of every instance gives the fleet's traffic; a dead instance's last row
  still counts, so what it served before its last flush is never lost.
- `CanaryRecord`: a running canary's state, and which replica evaluates it (`owner`, with a
  heartbeat: when it stops, another replica takes the canary over).

`ControlStateStore` is the registry store's port for all three.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# A revision of 0 means "no document": the expected revision of a first save.
NO_REVISION = 0


@dataclass(frozen=True)
class DeploymentRecord:
    """A saved routing document, its revision and who saved it when."""

    model_id: str
    document: Mapping[str, Any]
    revision: int
    updated_at: float
    updated_by: str


@dataclass(frozen=True)
class TrafficRow:
    """One replica instance's cumulative counters for one version (see `replicas/traffic.py`)."""

    instance: str
    replica_id: str
    model_id: str
    version: str
    counters: Mapping[str, Any]
    updated_at: float


@dataclass(frozen=True)
class CanaryRecord:
    """A canary's state document, the replica that evaluates it and when it last said so."""

    model_id: str
    document: Mapping[str, Any]
    owner: str
    heartbeat_at: float
    revision: int


class ControlStateStore(Protocol):
    """Control state replicas share: deployment documents and canary records, saved compare-and-set
    on their revision, and traffic counters upserted per replica instance.

    A store may push a wake-up when another process saves a document (`subscribe`); polling
    `deployment_revisions` is always enough.
    """

    # -- deployment documents ------------------------------------------------------------------

    def save_deployment(
        self,
        model_id: str,
        document: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        updated_by: str = "",
        updated_at: float = 0.0,
    ) -> int:
        """Replace the deployment document of a model atomically; returns its new revision.

        `document` must be JSON (InvalidInputError otherwise); it is stored and returned as is.
        The first save of a model gets revision 1, each later one the next number. With
        `expected_revision` (NO_REVISION = no document yet), the save is refused with
        ConflictError unless the stored revision is exactly that one (compare-and-set between
        replicas).
        """
        ...

    def deployment_revisions(self) -> dict[str, int]:
        """The revision of every saved deployment document, by model id: cheap enough to poll."""
        ...

    def deployment_records(self) -> dict[str, DeploymentRecord]:
        """Every saved deployment document with its revision, by model id."""
        ...

    def load_deployments(self) -> dict[str, dict[str, Any]]:
        """Every saved deployment document, by model id."""
        ...

    def delete_deployment(self, model_id: str) -> bool:
        """Forget a model's deployment document; False if there was none."""
        ...

    # -- traffic counters ----------------------------------------------------------------------

    def save_traffic(self, rows: Sequence[TrafficRow]) -> None:
        """Insert or replace each row (keyed by model, version and instance) in one transaction."""
        ...

    def load_traffic(self, model_id: str, versions: Collection[str] | None = None) -> list[TrafficRow]:
        """The rows of a model (of `versions` only, if given), sorted by version then instance."""
        ...

    def prune_traffic(self, before: float) -> int:
        """Forget rows last updated before `before` (instances long gone); returns how many."""
        ...

    # -- canary records ------------------------------------------------------------------------

    def save_canary(self, record: CanaryRecord, *, expected_revision: int) -> CanaryRecord:
        """Write a canary record compare-and-set on its revision (NO_REVISION = none yet); returns
        it with its new revision. ConflictError if the stored revision differs (another replica wrote)."""
        ...

    def load_canary(self, model_id: str) -> CanaryRecord | None:
        """The canary record of a model, or None."""
        ...

    def load_canaries(self) -> list[CanaryRecord]:
        """Every canary record, sorted by model id."""
        ...

    # -- change notification -------------------------------------------------------------------

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call `on_change` (from another thread) soon after any process saves a deployment document
        or a canary record; returns how to unsubscribe, or None when this store cannot push (poll)."""
        ...
