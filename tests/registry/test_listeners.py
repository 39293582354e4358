"""Stage listeners: told before (and able to refuse) and after every change, in order."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.stages import Stage


class Recorder:
    """A listener that writes down what it is told and can refuse production."""

    def __init__(self, refuse_production: bool = False, fail_after: bool = False) -> None:
        self.calls: list[tuple[str, str, str | None, str | None, bool]] = []
        self.refuse_production = refuse_production
        self.fail_after = fail_after

    def before_stage_change(self, version: ModelVersion, change: StageChange) -> None:
        self.calls.append(("before", str(change.ref), _name(version.stage), _name(change.to_stage), change.seq is None))
        if self.refuse_production and change.to_stage is Stage.PRODUCTION:
            raise ModelLoadError(f"cannot load {version.model_uri}")

    def on_stage_changed(self, version: ModelVersion, change: StageChange) -> None:
        self.calls.append(("after", str(change.ref), _name(version.stage), _name(change.to_stage), change.seq is None))
        if self.fail_after:
            raise RuntimeError("listener broke")


def _name(stage: Stage | None) -> str | None:
    return None if stage is None else stage.value


def test_listeners_hear_every_change_before_and_after(store, clock):
    recorder = Recorder()
    registry = ModelRegistry(store, clock=clock, listeners=[recorder])
    registry.register_model("m", "v1", stage="staging")
    registry.promote_model("m", "v1", "production")
    registry.register_model("m", "v2", stage="staging")
    registry.promote_model("m", "v2", "production")
    registry.delete_model("m", "v1")
    assert recorder.calls == [
        ("before", "m:v1", "staging", "staging", True),
        ("after", "m:v1", "staging", "staging", False),
        ("before", "m:v1", "staging", "production", True),
        ("after", "m:v1", "production", "production", False),
        ("before", "m:v2", "staging", "staging", True),
        ("after", "m:v2", "staging", "staging", False),
        ("before", "m:v1", "production", "archived", True),
        ("before", "m:v2", "staging", "production", True),
        ("after", "m:v1", "archived", "archived", False),
        ("after", "m:v2", "production", "production", False),
        ("before", "m:v1", "archived", None, True),
        ("after", "m:v1", "archived", None, False),
    ]


def test_a_listener_refusing_before_leaves_nothing_changed(store, clock):
    registry = ModelRegistry(store, clock=clock, listeners=[Recorder(refuse_production=True)])
    registry.register_model("m", "v1", stage="staging")
    with pytest.raises(ModelLoadError):
        registry.promote_model("m", "v1", "production")
    assert registry.get_model("m", "v1").stage is Stage.STAGING
    assert [c.reason for c in registry.get_history("m")] == [ChangeReason.REGISTERED]


def test_a_failing_after_listener_does_not_undo_and_others_still_hear(store, clock):
    broken, healthy = Recorder(fail_after=True), Recorder()
    registry = ModelRegistry(store, clock=clock)
    registry.add_listener(broken)
    registry.add_listener(healthy)
    with pytest.raises(RuntimeError, match="listener broke"):
        registry.register_model("m", "v1")
    assert registry.get_model("m", "v1").stage is Stage.DEVELOPMENT
    assert [c[0] for c in healthy.calls] == ["before", "after"]
