"""The lifecycle stages of a model version and the transitions allowed between them.

    development -> staging, archived
    staging     -> production, development, archived
    production  -> staging, archived        (only with force=True: it leaves the model without
                                             a production version; replacing it by promoting
                                             another version, or rollback_model, needs no force)
    archived    -> staging, development     (re-evaluate an archived version)

The table is explicit so an agent can be told exactly which targets it may ask for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError


class Stage(StrEnum):
    """Where a model version is in its life."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"

    @property
    def rank(self) -> int:
        """Position in the lifecycle, for sorting (development first, archived last)."""
        return _ORDER.index(self)


_ORDER = (Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED)

# current stage -> the stages promote_model may move a version to.
TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    Stage.DEVELOPMENT: (Stage.STAGING, Stage.ARCHIVED),
    Stage.STAGING: (Stage.PRODUCTION, Stage.DEVELOPMENT, Stage.ARCHIVED),
    Stage.PRODUCTION: (Stage.STAGING, Stage.ARCHIVED),
    Stage.ARCHIVED: (Stage.STAGING, Stage.DEVELOPMENT),
}

# A new version may start its life here; production is reached only through promotion.
REGISTRATION_STAGES: tuple[Stage, ...] = (Stage.DEVELOPMENT, Stage.STAGING)

STAGE_NAMES = ", ".join(stage.value for stage in Stage)


def parse_stage(value: Any, field: str = "stage") -> Stage:
    """The Stage named by `value` (a Stage or its name, any case), else InvalidInputError."""
    if isinstance(value, Stage):
        return value
    if isinstance(value, str):
        try:
            return Stage(value.strip().lower())
        except ValueError:
            pass
    raise InvalidInputError(field, value, f"allowed stages: {STAGE_NAMES}")


def allowed_targets(current: Stage) -> tuple[Stage, ...]:
    """The stages a version in `current` may be promoted to."""
    return TRANSITIONS[current]


def check_transition(current: Stage, target: Stage, *, subject: str) -> None:
    """Refuse a move the lifecycle does not allow, naming the allowed targets from `current`."""
    allowed = allowed_targets(current)
    if target in allowed:
        return
    names = ", ".join(stage.value for stage in allowed)
    already = f"{subject} is already in {current.value}; " if target is current else ""
    raise InvalidInputError(
        "target_stage",
        target.value,
        f"{already}from {current.value} the allowed target stages are: {names}",
    )
