"""`RegistryStore`: the port through which the registry persists, one docstring per method.

Shaped after MLflow's `store/model_registry/abstract_store.py`, written as a typed Protocol.
The same store keeps the audit log of mutating calls (`access/audit.py`), append-only.
Every implementation passes the same contract suite (`tests/stores/`), so the rules written
here are tested, not just documented:

- Writes are atomic and durable once the method returns, also when several processes share
  the store; a write is never half-applied.
- Lifecycle writes are compare-and-set: each StageChange names the stage it expects the version
  to be in, and the whole batch is refused with ConflictError if any expectation fails. The
  registry decides *what* to change (`lifecycle.py`); the store only guarantees that it
  changes what the registry saw.
- Invariants the store enforces itself, under concurrency: one production version per model,
  a parent exists when it is linked, and lineage never forms a cycle.
- A store refuses to open a corrupt or foreign database (StoreError) and never resets it.
- The outbox (`outbox.py`) is a queue in the same store: appends are durable and ordered,
  deliveries are acknowledged one by one, refused entries can be parked and offered again.
- Replicas share control state through the store (`shared_state.py`): deployment documents
  and canary records are saved compare-and-set on their revision; traffic counters are upserted
  per replica instance. A store may push a wake-up when another process saves a document
  (`subscribe`); polling `deployment_revisions` is always enough.
- Errors are ours (`errors.py`): NotFoundError, ConflictError, InvalidInputError, StoreError.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.registry.outbox import OutboxCounts, OutboxEntry
from nba_mcp_deploy.registry.records import (
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    VersionRef,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery
from nba_mcp_deploy.registry.shared_state import CanaryRecord, DeploymentRecord, TrafficRow


class RegistryStore(Protocol):
    """Persistence of model versions, their stage history, lineage links, deployment state and outbox."""

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

    # -- audit log -------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry durably and return it with its `seq` (strictly increasing, never reused).

        `entry.arguments` must be JSON (InvalidInputError otherwise); `outcome` is 'ok' or
        'error'. Entries are never changed; only `prune_audit` deletes them.
        """
        ...

    def prune_audit(self, before: float) -> int:
        """Delete the entries written before `before` (epoch seconds); returns how many went.

        The retention policy (`AuditLog`, `audit_retention_days`) calls it; `seq` values are never reused.
        """
        ...

    def list_audit(self, model_id: str | None = None, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first (highest `seq` first): only `model_id`'s, only those at or after
        `since`, at most `limit` (1 to 1000; InvalidInputError naming the field otherwise)."""
        ...

    # -- deployment state ----------------------------------------------------------------------

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
        `expected_revision` (0 = no document yet), the save is refused with ConflictError
        unless the stored revision is exactly that one (compare-and-set between replicas).
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

    # -- replicas (see shared_state.py) --------------------------------------------------------

    def save_traffic(self, rows: Sequence[TrafficRow]) -> None:
        """Insert or replace each row (keyed by model, version and instance) in one transaction."""
        ...

    def load_traffic(self, model_id: str, versions: Collection[str] | None = None) -> list[TrafficRow]:
        """The rows of a model (of `versions` only, if given), sorted by version then instance."""
        ...

    def prune_traffic(self, before: float) -> int:
        """Forget rows last updated before `before` (instances long gone); returns how many."""
        ...

    def save_canary(self, record: CanaryRecord, *, expected_revision: int) -> CanaryRecord:
        """Write a canary record compare-and-set on its revision (0 = none yet); returns it with
        its new revision. ConflictError if the stored revision differs (another replica wrote)."""
        ...

    def load_canary(self, model_id: str) -> CanaryRecord | None:
        """The canary record of a model, or None."""
        ...

    def load_canaries(self) -> list[CanaryRecord]:
        """Every canary record, sorted by model id."""
        ...

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call `on_change` (from another thread) soon after any process saves a deployment document
        or a canary record; returns how to unsubscribe, or None when this store cannot push (poll)."""
        ...

    # -- outbox (see outbox.py) ------------------------------------------------------------------

    def outbox_append(self, topic: str, payload: Mapping[str, Any], created_at: float) -> OutboxEntry:
        """Queue a change for another system; durable and ordered after every earlier entry.

        `topic` is 1-64 characters; `payload` must be JSON (InvalidInputError otherwise).
        Entries appended by several threads or processes get distinct, increasing `seq`s.
        """
        ...

    def outbox_pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Up to `limit` entries waiting for delivery, oldest (lowest `seq`) first; parked ones excluded."""
        ...

    def outbox_ack(self, seq: int) -> bool:
        """Forget a delivered entry; False if it was already gone (another relay got there first)."""
        ...

    def outbox_fail(self, seq: int, error: str, *, park: bool) -> OutboxEntry | None:
        """Count a failed delivery and keep `error`; with `park`, stop offering the entry.

        Returns the updated entry, or None if it was already acknowledged.
        """
        ...

    def outbox_counts(self) -> OutboxCounts:
        """How many entries are pending and how many are parked."""
        ...

    def outbox_unpark(self) -> int:
        """Offer every parked entry again (in its original order, attempts reset); returns how many."""
        ...

    # -- resources -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release connections; the store must not be used afterwards. Safe to call twice."""
        ...
