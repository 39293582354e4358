"""Building the records a store receives, as the registry would, with sensible defaults."""

from __future__ import annotations

from typing import Any

from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange, VersionRef
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.store import RegistryStore

T0 = 1_700_000_000.0


def version(model_id: str = "win_prob", version: str = "v1.0", **fields: Any) -> ModelVersion:
    values: dict[str, Any] = {
        "stage": Stage.DEVELOPMENT,
        "framework": "sklearn",
        "algorithm": "logreg",
        "registered_at": T0,
        "stage_changed_at": T0,
    }
    values.update(fields)
    if isinstance(values.get("parent"), str):
        values["parent"] = VersionRef.parse(values["parent"], default_model_id=model_id)
    return ModelVersion(model_id=model_id, version=version, **values)


def registration(v: ModelVersion, actor: str = "tester") -> StageChange:
    return StageChange(v.model_id, v.version, None, v.stage, v.registered_at, actor, ChangeReason.REGISTERED)


def add(store: RegistryStore, model_id: str = "win_prob", version_: str = "v1.0", **fields: Any) -> ModelVersion:
    v = version(model_id, version_, **fields)
    store.add_version(v, registration(v))
    return v


def move(
    v: ModelVersion | VersionRef,
    from_stage: Stage | None,
    to_stage: Stage | None,
    *,
    at: float = T0 + 1,
    reason: ChangeReason = ChangeReason.PROMOTED,
    actor: str = "tester",
) -> StageChange:
    return StageChange(v.model_id, v.version, from_stage, to_stage, at, actor, reason)
