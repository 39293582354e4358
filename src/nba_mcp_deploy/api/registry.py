"""`ModelRegistry` and `ModelStage` as the seed document writes them.

    registry = ModelRegistry(registry_dir="./model_registry", enable_mlflow=True)
    registry.register_model(model_id="nba_win_predictor", version="v1.0", stage=ModelStage.DEVELOPMENT, ...)
    registry.promote_model(model_id="nba_win_predictor", version="v1.0", target_stage=ModelStage.PRODUCTION)
    stats = registry.get_statistics(); stats["total_models"]

A face over the core `registry.registry.ModelRegistry`, inside the server's services: the same
store (a sqlite file in `registry_dir`, shared with every process that opens it: a server, a
second script), the same lifecycle rules, the same MLflow mirror, and promotions to production
activate a version the services serve. Mock mode keeps everything in memory. Writes check the
current caller's permission as the MCP tools do.

Two seed forms the core's lifecycle refuses, because every version reaches production through
staging: promoting a version from development straight to production (the Quick Start), and
registering one straight into production (the MLflow section). Here the first passes through
staging in the same call, and the second registers in staging and promotes at once; the history
shows every step and the rules of a promotion (one production version, the previous one
archived, the permission a promotion to production needs) apply as they always do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.access.permissions import permission_required, require_permission
from nba_mcp_deploy.api.assembly import RegistryHome, ServicesOwner
from nba_mcp_deploy.registry.records import RegistryStatistics
from nba_mcp_deploy.registry.stages import REGISTRATION_STAGES, Stage, allowed_targets, parse_stage

if TYPE_CHECKING:
    from nba_mcp_deploy.registry.compare import Comparison
    from nba_mcp_deploy.registry.lineage import Lineage
    from nba_mcp_deploy.registry.records import (
        ModelSummary,
        ModelVersion,
        StageChange,
        StageChangeResult,
        VersionRef,
    )
    from nba_mcp_deploy.registry.registry import ModelRegistry as CoreRegistry
    from nba_mcp_deploy.registry.search import SearchPage

# The seed's name for the lifecycle stages: the same enum, accepted wherever a stage is.
ModelStage = Stage


@dataclass(frozen=True)
class RegistryStats(RegistryStatistics):
    """The registry's counts, read as attributes or, as the seed does, by key (`stats["total_models"]`)."""

    def __getitem__(self, name: str) -> Any:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


class ModelRegistry(ServicesOwner):
    """Register, promote, roll back, retire, search, compare and trace model versions."""

    def __init__(
        self,
        registry_dir: str | Path | None = None,
        *,
        enable_mlflow: bool | None = None,
        mock_mode: bool = False,
        mlflow_tracking_uri: str | None = None,
        mlflow_experiment: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(
            mock_mode=mock_mode,
            enable_mlflow=enable_mlflow,
            mlflow_tracking_uri=mlflow_tracking_uri,
            mlflow_experiment=mlflow_experiment,
            registry_dir=registry_dir,
            home=RegistryHome.DIRECTORY,
            mirror_registry=True,
            settings=settings,
        )

    @property
    def core(self) -> CoreRegistry:
        """The core registry underneath (what the MCP tools call)."""
        return self.services.registry

    @property
    def registry_dir(self) -> Path | None:
        """Where the registry file is; None when it is kept in memory or in PostgreSQL."""
        config = self.config
        return None if self.in_memory or config.registry_url is not None else config.registry_dir

    # -- writes ------------------------------------------------------------------------------

    @permission_required("register_model")
    def register_model(
        self,
        model_id: str,
        version: str,
        *,
        stage: Stage | str = Stage.DEVELOPMENT,
        framework: str = "unknown",
        algorithm: str = "unknown",
        metrics: Mapping[str, float] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_uri: str | None = None,
        parent: VersionRef | str | None = None,
        run_id: str | None = None,
    ) -> ModelVersion:
        """Add a version (never overwriting one); a production or archived `stage` is reached by
        registering in staging and promoting at once (see the module docstring)."""
        target = parse_stage(stage)
        start = target if target in REGISTRATION_STAGES else Stage.STAGING
        if start is not target:
            require_permission("promote_model", arguments={"target_stage": target})
        record = self.core.register_model(
            model_id,
            version,
            stage=start,
            framework=framework,
            algorithm=algorithm,
            metrics=metrics,
            hyperparameters=hyperparameters,
            tags=tags,
            description=description,
            model_uri=model_uri,
            parent=parent,
            run_id=run_id,
        )
        if start is target:
            return record
        return self.core.promote_model(record.model_id, record.version, target, note="registered into it").version

    @permission_required("promote_model")
    def promote_model(
        self, model_id: str, version: str, target_stage: Stage | str, *, force: bool = False, note: str = ""
    ) -> StageChangeResult:
        """Move a version along development -> staging -> production -> archived; a version in
        development or archived promoted to production passes through staging on the way."""
        target = parse_stage(target_stage, "target_stage")
        if target is Stage.PRODUCTION and Stage.PRODUCTION not in allowed_targets(
            self.get_model(model_id, version).stage
        ):
            self.core.promote_model(model_id, version, Stage.STAGING, note="on the way to production")
        return self.core.promote_model(model_id, version, target, force=force, note=note)

    @permission_required("rollback_model")
    def rollback_model(self, model_id: str) -> StageChangeResult:
        """Archive the production version and bring back the one it replaced."""
        return self.core.rollback_model(model_id)

    def retire_model(self, model_id: str, version: str, *, force: bool = False) -> StageChangeResult:
        """Archive a version no longer wanted (the production version needs `force=True`)."""
        require_permission("promote_model", arguments={"target_stage": Stage.ARCHIVED, "force": force})
        return self.core.retire_model(model_id, version, force=force)

    # -- reads -------------------------------------------------------------------------------

    def get_model(self, model_id: str, version: str | None = None, stage: Stage | str | None = None) -> ModelVersion:
        """One version: the named one; else the latest in `stage`; else production, else the latest."""
        return self.core.get_model(model_id, version, stage)

    def list_models(self) -> list[ModelSummary]:
        return self.core.list_models()

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        return self.core.list_versions(model_id)

    def search_models(
        self,
        *,
        model_id: str | None = None,
        framework: str | None = None,
        algorithm: str | None = None,
        stage: Stage | str | Sequence[Stage | str] | None = None,
        tags: Mapping[str, str] | None = None,
        metrics: Sequence[str] | str | None = None,
        text: str | None = None,
        order_by: Sequence[str] | str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> SearchPage:
        """Versions matching every filter (`metrics=["accuracy >= 0.9"]`), sorted and paged."""
        return self.core.search_models(
            model_id=model_id,
            framework=framework,
            algorithm=algorithm,
            stage=stage,
            tags=tags,
            metrics=metrics,
            text=text,
            order_by=order_by,
            offset=offset,
            limit=limit,
        )

    def compare_models(
        self,
        model_id: str,
        version_a: str | None = None,
        version_b: str | None = None,
        *,
        model_id_b: str | None = None,
    ) -> Comparison:
        """Metric differences (absolute and relative), differing hyperparameters, stages, lineage."""
        return self.core.compare_models(model_id, version_a, version_b, model_id_b=model_id_b)

    def get_lineage(self, model_id: str, version: str) -> Lineage:
        return self.core.get_lineage(model_id, version)

    def get_history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        return self.core.get_history(model_id, version)

    def get_statistics(self) -> RegistryStats:
        """Counts of models, versions, production versions (`production_count`), by stage and framework."""
        counts = self.core.get_statistics()
        return RegistryStats(**{f.name: getattr(counts, f.name) for f in dataclasses.fields(counts)})
