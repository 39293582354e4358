"""`ReplicaFollower`: routes as saved routing documents say, after a restart or another replica's change.

Nothing is saved here and no control listener is told: the change was made, saved and reported
by the replica where it happened (or before the restart). Versions a document names that are not
loaded here are loaded outside the routing lock, like a deploy; versions loaded here keep their
breaker and counters, which are this replica's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.serving.deployment import ModelRouting, ServedVersion, empty_routing
from nba_mcp_deploy.serving.routing_document import RoutingDocument
from nba_mcp_deploy.serving.routing_table import RoutingTable
from nba_mcp_deploy.serving.version_loader import VersionLoader

log = get_logger(__name__)


class ReplicaFollower:
    """Applies routing documents to the routing table; see the module docstring."""

    def __init__(self, table: RoutingTable, versions: VersionLoader) -> None:
        self._table = table
        self._versions = versions

    def restore(
        self, documents: Mapping[str, Mapping[str, Any]], revisions: Mapping[str, int] | None = None
    ) -> list[str]:
        """Serve what the saved routings say (models from URIs only); returns one line per problem.

        Nothing is written back, so a crash or a missing file never erases saved state: the next
        start tries again. With `revisions` (the documents' revisions in the store), later saves
        are compare-and-set against them.
        """
        problems: list[str] = []
        for model_id, document in sorted(documents.items()):
            revision = None if revisions is None else revisions.get(model_id)
            problems.extend(self.apply_document(model_id, document, revision))
        for problem in problems:
            log.warning("restore problem", extra={"problem": problem})
        return problems

    def apply_document(self, model_id: str, document: Mapping[str, Any], revision: int | None = None) -> list[str]:
        """Make this replica route `model_id` as a saved routing document says; returns the problems.

        Versions it no longer names are dropped, and its active version, split, shadow, previous
        actives, references and batching are taken. A document older than the one this replica
        already follows (`revision`) is ignored.
        """
        saved = RoutingDocument.from_json(document)
        table = self._table
        current = table.get(model_id)
        problems: list[str] = []
        loaded: dict[str, ServedVersion] = {}
        for entry in saved.versions:
            existing = None if current is None else current.versions.get(entry.version)
            if existing is not None and existing.model_uri == entry.model_uri:
                continue
            if entry.model_uri is None:
                problems.append(f"{model_id} {entry.version}: deployed from memory, cannot be restored")
                continue
            try:
                with request_context(model_id=model_id, version=entry.version):
                    loaded[entry.version] = self._versions.load(
                        model_id, entry.version, model_uri=entry.model_uri, deployed_at=entry.deployed_at
                    )
            except DeployError as exc:
                problems.append(f"{model_id} {entry.version}: {exc}")
        with table.lock:
            if revision is not None and table.revisions.get(model_id, 0) > revision:
                return problems
            routing = table.get(model_id) or empty_routing(model_id)
            versions: dict[str, ServedVersion] = {}
            for entry in saved.versions:
                served = loaded.get(entry.version) or routing.versions.get(entry.version)
                if served is not None and served.model_uri == entry.model_uri:
                    versions[entry.version] = served
            if not versions and model_id not in table:
                return problems
            dropped = [v.batcher for k, v in routing.versions.items() if k not in versions and v.batcher]
            batching = routing.batching
            routing, found = _following(routing.with_changes(versions=versions), saved)
            problems.extend(found)
            if routing.batching != batching:  # a changed setting: every version gets a new batcher
                table.rebatch(routing, routing.batching)
            table.ensure_batchers(routing)  # a version loaded just now gets one
            table.put(routing)
            for batcher in dropped:
                batcher.close(timeout=0)
            if revision is not None:
                table.revisions[model_id] = revision
        return problems

    def applied_revisions(self) -> dict[str, int]:
        """The revision of each model's saved routing that this replica follows."""
        with self._table.lock:
            return dict(self._table.revisions)


def _following(routing: ModelRouting, saved: RoutingDocument) -> tuple[ModelRouting, list[str]]:
    """`routing` (its versions already chosen) with what `saved` says, each part taken only when
    its versions are there; the problems. When the active version did not load, the most recent
    earlier active one that did serves (else the first)."""
    model_id, versions = routing.model_id, routing.versions
    problems = []
    split = saved.split
    if split is not None and not all(v in versions for v in split.versions):
        problems.append(f"{model_id}: A/B test not restored, a version of it did not load")
        split = None
    problems += [f"{model_id}: {_PART_NAMES[part]} not restored ({why})" for part, why in saved.unreadable.items()]
    shadow = saved.shadow if saved.shadow is not None and saved.shadow.version in versions else None
    previous = tuple(v for v in saved.previous_active if v in versions)
    active = next((v for v in (saved.active, *previous, *versions) if v in versions), None)
    batching = routing.batching if "batching" in saved.unreadable else saved.batching  # keep what it does
    return (
        routing.with_changes(
            active=active,
            previous_active=tuple(v for v in previous if v != active),
            split=split,
            shadow=shadow,
            references=saved.references,
            batching=batching,
        ),
        problems,
    )


_PART_NAMES = {"split": "A/B test", "shadow": "shadow", "batching": "batching"}
