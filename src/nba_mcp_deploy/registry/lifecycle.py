"""Lifecycle decisions as pure functions: given what the store holds, which changes to make.

The registry reads the current state, asks these functions for a plan, and hands the plan to
the store, which applies it only if nothing moved meanwhile (each change names the stage it
expects). Keeping the rules here makes them testable without a store and identical for every
store.
"""

from __future__ import annotations

from collections.abc import Sequence

from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange
from nba_mcp_deploy.registry.stages import Stage, check_transition


def _change(
    version: ModelVersion, to_stage: Stage | None, reason: ChangeReason, *, now: float, actor: str, note: str
) -> StageChange:
    return StageChange(version.model_id, version.version, version.stage, to_stage, now, actor, reason, note)


def _guard_production(version: ModelVersion, action: str, *, force: bool) -> None:
    """Taking the production version away without a replacement needs `force=True`."""
    if version.stage is Stage.PRODUCTION and not force:
        raise ConflictError(
            f"{version.ref} is the production version of {version.model_id}; {action} it would leave "
            f"the model without a production version. Promote another version to production (it "
            f"replaces this one), use rollback_model, or pass force=True"
        )


def plan_promotion(
    version: ModelVersion,
    target: Stage,
    production: ModelVersion | None,
    *,
    force: bool,
    now: float,
    actor: str,
    note: str = "",
) -> list[StageChange]:
    """Move `version` to `target`; promoting to production archives the current production version."""
    check_transition(version.stage, target, subject=str(version.ref))
    _guard_production(version, f"moving it to {target.value}", force=force)
    changes: list[StageChange] = []
    if target is Stage.PRODUCTION and production is not None and production.version != version.version:
        changes.append(
            _change(
                production,
                Stage.ARCHIVED,
                ChangeReason.SUPERSEDED,
                now=now,
                actor=actor,
                note=f"superseded by {version.version}",
            )
        )
    changes.append(_change(version, target, ChangeReason.PROMOTED, now=now, actor=actor, note=note))
    return changes


def production_stack(history: Sequence[StageChange]) -> list[str]:
    """The versions rollback may return to, oldest first; the last is the current production.

    Replays the model's history: entering production puts a version on top; being superseded
    keeps it just below its successor; leaving production any other way (rollback, forced
    demotion, retirement) or being deleted takes it off the stack.
    """
    stack: list[str] = []
    for change in history:
        if change.to_stage is Stage.PRODUCTION:
            if change.version in stack:
                stack.remove(change.version)
            stack.append(change.version)
        elif change.reason is ChangeReason.SUPERSEDED:
            continue
        elif (change.from_stage is Stage.PRODUCTION or change.to_stage is None) and change.version in stack:
            stack.remove(change.version)
    return stack


def plan_rollback(production: ModelVersion, target: ModelVersion, *, now: float, actor: str) -> list[StageChange]:
    """Archive the production version and return `target` (see `rollback_target`) to production."""
    return [
        _change(
            production,
            Stage.ARCHIVED,
            ChangeReason.ROLLED_BACK,
            now=now,
            actor=actor,
            note=f"rolled back to {target.version}",
        ),
        _change(
            target,
            Stage.PRODUCTION,
            ChangeReason.RESTORED,
            now=now,
            actor=actor,
            note=f"restored by rollback from {production.version}",
        ),
    ]


def require_production(model_id: str, production: ModelVersion | None) -> ModelVersion:
    """The production version a rollback starts from, or ConflictError when there is none."""
    if production is None:
        raise ConflictError(
            f"{model_id} has no production version to roll back from; promote_model a version to production instead"
        )
    return production


def rollback_target(model_id: str, production: ModelVersion, history: Sequence[StageChange]) -> str:
    """The version a rollback returns to production, or ConflictError saying why there is none."""
    stack = production_stack(history)
    if not stack or stack[-1] != production.version:
        raise ConflictError(
            f"the history of {model_id} does not end with {production.version} entering production; "
            "promote_model the version you want instead"
        )
    if len(stack) < 2:
        raise ConflictError(
            f"{model_id} has no earlier production version to roll back to ({production.version} is the "
            "first one still registered); promote_model another version instead"
        )
    return stack[-2]


def plan_retirement(version: ModelVersion, *, force: bool, now: float, actor: str) -> list[StageChange]:
    """Archive a version that is no longer wanted; production needs `force`."""
    if version.stage is Stage.ARCHIVED:
        raise InvalidInputError("version", version.version, f"{version.ref} is already archived")
    _guard_production(version, "retiring", force=force)
    return [_change(version, Stage.ARCHIVED, ChangeReason.RETIRED, now=now, actor=actor, note="")]


def plan_deletion(versions: Sequence[ModelVersion], *, force: bool, now: float, actor: str) -> list[StageChange]:
    """Remove versions for good (their history stays); production needs `force`."""
    for version in versions:
        _guard_production(version, "deleting", force=force)
    return [_change(v, None, ChangeReason.DELETED, now=now, actor=actor, note="") for v in versions]
