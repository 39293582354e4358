"""The registry store's ports: one typed Protocol per role, one docstring per method.

Shaped after MLflow's `store/model_registry/abstract_store.py`. Each consumer depends only on
the role it uses:

- `VersionStore` (here): versions, their stage history, lineage, search and statistics; used
  by `ModelRegistry`.
- `AuditStore` (`access/audit.py`): the append-only audit log of mutating calls; used by
  `AuditLog`.
- `OutboxStore` (`outbox.py`): changes queued for another system; used by the MLflow relay.
- `ControlStateStore` (`shared_state.py`): what replicas share (deployment documents, traffic
  counters, canary records); used by the replicas' sync and traffic flusher and the canaries.

`RegistryStore` is all of them in one database: what the SQL stores implement and the
composition root (`services.py`) opens and closes. Every implementation passes the same
contract suite (`tests/stores/`), so these rules are tested, not just documented:

- Writes are atomic and durable once the method returns, also when several processes share
  the store; a write is never half-applied.
- Lifecycle writes are compare-and-set: each StageChange names the stage it expects the version
  to be in, and the whole batch is refused with ConflictError if any expectation fails. The
  registry decides *what* to change (`lifecycle.py`); the store only guarantees that it
  changes what the registry saw.
- Invariants the store enforces itself, under concurrency: one production version per model,
  a parent exists when it is linked, and lineage never forms a cycle.
- A store refuses to open a corrupt or foreign database (StoreError) and never resets it.
- Errors are ours (`errors.py`): NotFoundError, ConflictError, InvalidInputError, StoreError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nba_mcp_deploy.access.audit import AuditStore
from nba_mcp_deploy.registry.outbox import OutboxStore
from nba_mcp_deploy.registry.records import (
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    VersionRef,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery
from nba_mcp_deploy.registry.shared_state import ControlStateStore


class VersionStore(Protocol):
    """Persistence of model versions, their stage history and their lineage links."""

    # -- versions ----------------------------------------------------------------------------

    def add_version(self, version: ModelVersion, change: StageChange) -> StageChange:
        """Insert a new version and its registration record (`change`, from_stage None).

        Raises ConflictError if (model_id, version) exists, NotFoundError if `version.parent`
        names a version that does not exist. Returns `change` with its `seq` assigned.
        """
        ...

    def get_version(self, model_id: str, version: str) -> ModelVersion:
        """The version, or NotFoundError naming the model (and whether the model exists at all)."""
        ...

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        """Every version of one model, oldest semantic version first; [] for an unknown model."""
        ...

    def list_models(self) -> list[ModelSummary]:
        """One summary per model that has at least one version, sorted by model id."""
        ...

    def search(self, query: SearchQuery) -> SearchPage:
        """The page of versions matching every filter of `query`, sorted by its keys.

        Semantics every store shares: filters are ANDed; `stages` matches any of them; every
        tag must match exactly; a metric condition never matches a version lacking that
        metric; `text` is a case-insensitive substring of the description; versions sort
        semantically (`version_key`), stages by lifecycle rank, missing metrics last in both
        directions; ties are broken by model id then semantic version; `total` counts all
        matches, not just the page.
        """
        ...

    def statistics(self) -> RegistryStatistics:
        """Counts of models and versions, by stage (every stage present) and by framework."""
        ...

    # -- lifecycle -----------------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[StageChange]) -> list[StageChange]:
        """Apply stage changes in order, in one transaction, and append them to the history.

        Each change requires the version to be in `from_stage` (else ConflictError, and
        nothing is applied); `to_stage` None deletes the version (its history stays). Moving a
        second version of a model into production is a ConflictError: put the current one
        first in the batch. Sets `stage_changed_at` to the change's `changed_at`. Returns the
        changes with `seq` assigned.
        """
        ...

    def history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        """The stage changes of a model (or of one version), in commit order; kept after deletion."""
        ...

    # -- lineage -------------------------------------------------------------------------------

    def set_parent(self, model_id: str, version: str, parent: VersionRef | None) -> ModelVersion:
        """Link (or unlink, with None) a version to its parent and return the updated version.

        NotFoundError if either version is missing; InvalidInputError if the link would make
        a version its own ancestor (checked in the same transaction as the write).
        """
        ...

    def children(self, model_id: str, version: str) -> list[ModelVersion]:
        """The versions whose parent is this one (also after it was deleted), sorted by model and version."""
        ...


class RegistryStore(VersionStore, AuditStore, OutboxStore, ControlStateStore, Protocol):
    """Every role in one database: what a store implements and the composition root holds."""

    def close(self) -> None:
        """Release connections; the store must not be used afterwards. Safe to call twice."""
        ...
