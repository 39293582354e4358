"""`queue_missing`: compare the registry with MLflow and queue what MLflow lacks.

The listeners queue every change as it happens; this catches what they could not: versions
registered before MLflow was enabled, a change whose queueing failed, a stage edited by hand
in MLflow. A version MLflow lacks is queued as a registration, one whose `stage` tag differs
as a stage change to the registry's stage (the registry is the system of record for what was
registered in it; a version imported from MLflow keeps MLflow's stage, and a difference there is
a conflict the import reports). It runs on a drained outbox only, so nothing already on its way
is queued twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.mlflow_sync.delivery import IMPORTED_MODEL_TAG, IMPORTED_VERSION_TAG
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.mlflow_sync.mirrors import Outbox
from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange
from nba_mcp_deploy.registry.registry import ModelRegistry

SYNC_ACTOR = "mlflow-sync"


@dataclass(frozen=True)
class ExportReport:
    registrations: int
    stage_changes: int
    in_step: int


def queue_missing(
    registry: ModelRegistry, gateway: MlflowGateway, outbox: Outbox, clock: Clock, model_id: str | None = None
) -> ExportReport:
    """Queue registrations and stage changes for what MLflow lacks or holds differently."""
    gateway.check()
    names = [model_id] if model_id is not None else [m.model_id for m in registry.list_models()]
    registrations = stage_changes = in_step = 0
    for name in names:
        with gateway.calls(f"listing versions of {name}"):
            mirrored = _by_our_version(gateway.client.search_model_versions(f"name = '{name}'", max_results=10_000))
        for version in registry.store.list_versions(name):  # [] for a model only MLflow has
            found = mirrored.get(version.version) or mirrored.get(_imported_key(version))
            tags = {} if found is None else dict(found.tags)
            change = StageChange(
                name, version.version, None, version.stage, clock.now(), SYNC_ACTOR, ChangeReason.RESTORED
            )
            if "nba_version" not in tags:  # missing, or imported and never tagged: registering links it
                outbox.put(events.REGISTERED, events.registered(version, change))
                registrations += 1
            elif tags.get("stage") != version.stage.value and _imported_key(version) == "":
                outbox.put(events.STAGE_CHANGED, events.stage_changed(change))
                stage_changes += 1
            else:
                in_step += 1
    return ExportReport(registrations, stage_changes, in_step)


def _by_our_version(versions: Any) -> dict[str, Any]:
    """MLflow versions by the registry version they mirror (`nba_version`), or by `@<N>` when
    they were imported and not yet tagged."""
    found: dict[str, Any] = {}
    for mv in versions:
        tags = dict(mv.tags)
        found[tags.get("nba_version") or f"@{mv.version}"] = mv
    return found


def _imported_key(version: ModelVersion) -> str:
    if version.tags.get(IMPORTED_MODEL_TAG) != version.model_id:
        return ""
    return f"@{version.tags.get(IMPORTED_VERSION_TAG, '')}"
