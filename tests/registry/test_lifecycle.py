"""Promotion, the production guard, rollback and the history, through a real registry."""

from __future__ import annotations

import itertools

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError
from nba_mcp_deploy.registry.records import ChangeReason
from nba_mcp_deploy.registry.stages import TRANSITIONS, Stage

# A path of allowed moves from development to each stage.
PATHS = {
    Stage.DEVELOPMENT: [],
    Stage.STAGING: [Stage.STAGING],
    Stage.PRODUCTION: [Stage.STAGING, Stage.PRODUCTION],
    Stage.ARCHIVED: [Stage.ARCHIVED],
}


def _put(registry, version, stage):
    registry.register_model("m", version)
    for step in PATHS[stage]:
        registry.promote_model("m", version, step)
    assert registry.get_model("m", version).stage is stage


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Stage, Stage)))
def test_every_stage_pair_through_the_registry(registry, current, target):
    _put(registry, "v1", current)
    before = len(registry.get_history("m"))
    if target not in TRANSITIONS[current]:
        with pytest.raises(InvalidInputError, match=f"from {current.value} the allowed target stages are"):
            registry.promote_model("m", "v1", target)
    elif current is Stage.PRODUCTION:
        with pytest.raises(ConflictError, match="force=True"):
            registry.promote_model("m", "v1", target)
        assert registry.get_model("m", "v1").stage is Stage.PRODUCTION
        registry.promote_model("m", "v1", target, force=True)
        assert registry.get_model("m", "v1").stage is target
        return
    else:
        result = registry.promote_model("m", "v1", target)
        assert result.version.stage is target
        assert registry.get_model("m", "v1").stage is target
        assert len(registry.get_history("m")) == before + 1
        return
    assert registry.get_model("m", "v1").stage is current
    assert len(registry.get_history("m")) == before


def test_promoting_to_production_archives_and_records_the_previous_one(registry, clock):
    _put(registry, "v1", Stage.PRODUCTION)
    _put(registry, "v2", Stage.STAGING)
    clock.advance(60)
    result = registry.promote_model("m", "v2", "production", actor="alice", note="better log loss")
    assert result.replaced is not None
    assert str(result.replaced) == "m:v1"
    assert [(c.version, c.from_stage, c.to_stage, c.reason) for c in result.changes] == [
        ("v1", Stage.PRODUCTION, Stage.ARCHIVED, ChangeReason.SUPERSEDED),
        ("v2", Stage.STAGING, Stage.PRODUCTION, ChangeReason.PROMOTED),
    ]
    assert all(c.actor == "alice" and c.changed_at == clock.now() for c in result.changes)
    assert result.changes[1].note == "better log loss"
    assert registry.get_model("m", "v1").stage is Stage.ARCHIVED
    assert registry.get_production_model("m").version == "v2"
    assert registry.get_model("m", "v2").stage_changed_at == clock.now()


def test_rollback_walks_back_through_earlier_production_versions(registry):
    for v in ("v1", "v2", "v3"):
        _put(registry, v, Stage.PRODUCTION)
    first = registry.rollback_model("m", actor="ops")
    assert (first.version.version, str(first.replaced)) == ("v2", "m:v3")
    assert [(c.version, c.reason) for c in first.changes] == [
        ("v3", ChangeReason.ROLLED_BACK),
        ("v2", ChangeReason.RESTORED),
    ]
    assert registry.rollback_model("m").version.version == "v1"
    with pytest.raises(ConflictError, match="no earlier production version"):
        registry.rollback_model("m")
    assert registry.get_production_model("m").version == "v1"


def test_a_new_promotion_after_a_rollback_stacks_on_the_restored_version(registry):
    for v in ("v1", "v2"):
        _put(registry, v, Stage.PRODUCTION)
    registry.rollback_model("m")  # v2 -> v1
    _put(registry, "v3", Stage.PRODUCTION)  # supersedes v1
    assert registry.rollback_model("m").version.version == "v1"


def test_rollback_skips_deleted_and_forcibly_removed_versions(registry):
    for v in ("v1", "v2", "v3"):
        _put(registry, v, Stage.PRODUCTION)
    registry.delete_model("m", "v2")
    assert registry.rollback_model("m").version.version == "v1"


def test_rollback_needs_a_production_version(registry):
    with pytest.raises(NotFoundError, match="no model 'm'"):
        registry.rollback_model("m")
    _put(registry, "v1", Stage.STAGING)
    with pytest.raises(ConflictError, match="no production version to roll back from"):
        registry.rollback_model("m")
    registry.promote_model("m", "v1", "production")
    with pytest.raises(ConflictError, match="no earlier production version"):
        registry.rollback_model("m")


def test_retire_archives_and_guards_production(registry):
    _put(registry, "v1", Stage.STAGING)
    assert registry.retire_model("m", "v1").version.stage is Stage.ARCHIVED
    with pytest.raises(InvalidInputError, match="already archived"):
        registry.retire_model("m", "v1")
    _put(registry, "v2", Stage.PRODUCTION)
    with pytest.raises(ConflictError, match="production version of m"):
        registry.retire_model("m", "v2")
    retired = registry.retire_model("m", "v2", force=True, actor="ops")
    assert retired.changes[0].reason is ChangeReason.RETIRED
    with pytest.raises(NotFoundError):
        registry.get_production_model("m")


def test_delete_guards_production_and_keeps_history(registry):
    _put(registry, "v1", Stage.PRODUCTION)
    _put(registry, "v2", Stage.DEVELOPMENT)
    with pytest.raises(ConflictError, match="deleting it"):
        registry.delete_model("m")
    assert len(registry.list_versions("m")) == 2
    deleted = registry.delete_model("m", force=True, actor="ops")
    assert {c.version for c in deleted} == {"v1", "v2"}
    with pytest.raises(NotFoundError):
        registry.list_versions("m")
    history = registry.get_history("m")
    assert [c.reason for c in history][-2:] == [ChangeReason.DELETED, ChangeReason.DELETED]
    with pytest.raises(NotFoundError):
        registry.delete_model("m")


def test_history_records_when_from_to_and_who(registry, clock):
    registry.register_model("m", "v1", actor="bob")
    clock.advance(5)
    registry.promote_model("m", "v1", "staging", actor="carol")
    history = registry.get_history("m", "v1")
    assert [(c.changed_at - 1_700_000_000.0, c.from_stage, c.to_stage, c.actor) for c in history] == [
        (0.0, None, Stage.DEVELOPMENT, "bob"),
        (5.0, Stage.DEVELOPMENT, Stage.STAGING, "carol"),
    ]
    with pytest.raises(NotFoundError):
        registry.get_history("nobody")


@pytest.mark.parametrize("actor", ["", "   ", "a\nb", "x" * 200, None])
def test_the_actor_is_a_short_single_line(registry, actor):
    with pytest.raises(InvalidInputError, match="actor"):
        registry.register_model("m", "v1", actor=actor)
