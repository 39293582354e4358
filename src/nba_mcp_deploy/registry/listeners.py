"""Hooks for other layers (serving) to react to stage changes, without the registry knowing them.

`before_stage_change` runs before anything is written and may refuse the change by raising
(e.g. the serving layer deploys a version about to enter production and raises ModelLoadError
if it cannot load). `on_stage_changed` runs after the change is committed (e.g. to make the
promoted version active). Both see every change of an operation, in order: registration
(`from_stage` None), promotions, the archiving of a superseded version, rollbacks, retirements
and deletions (`to_stage` None).
"""

from __future__ import annotations

from typing import Protocol

from nba_mcp_deploy.registry.records import ModelVersion, StageChange


class StageListener(Protocol):
    """Told about each stage change before it is written and after it is committed."""

    def before_stage_change(self, version: ModelVersion, change: StageChange) -> None:
        """`version` as it is now (before the change); raise to refuse the whole operation.

        May be called again for the same change if the registry retries after a concurrent
        update, so it should be idempotent.
        """
        ...

    def on_stage_changed(self, version: ModelVersion, change: StageChange) -> None:
        """`version` as it is after the change (its old state for a deletion); `change.seq` is set.

        The change is already committed: an exception raised here reaches the caller after
        every listener has been told, but does not undo the change.
        """
        ...
