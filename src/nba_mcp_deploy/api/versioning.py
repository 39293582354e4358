"""`ModelVersionManager`: the seed's Model Versioning component, a thin face over the registry.

The seed lists what it does: version management with MLflow integration, production promotion
workflows, rollback, version comparison and analysis, mock mode. Each is a call of what the
registry already has:

- versions: `ModelRegistry.register_model`, `get_model`, `list_versions`, `get_history`;
- promotion workflows: `registry.workflows.VersionWorkflows.promote_with_checks` (metric gates
  against the production version, the training run's metrics included when MLflow is on);
- rollback: `ModelRegistry.rollback_model` (the previous production version returns, and to
  serving where it is deployed);
- comparison: `VersionWorkflows.compare_versions` (registry metrics, hyperparameters and
  lineage, plus the two training runs' differences);
- mock mode: a registry in memory, no MLflow.

It builds its own `ModelRegistry` from the same keywords, or works on one given to it
(`ModelVersionManager(registry=registry)`), sharing its services.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.access.permissions import require_permission
from nba_mcp_deploy.api.registry import ModelRegistry
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.workflows import MetricGate, VersionWorkflows

if TYPE_CHECKING:
    from nba_mcp_deploy.registry.records import ModelVersion, StageChange, StageChangeResult
    from nba_mcp_deploy.registry.workflows import CheckedPromotion, GateResult, VersionComparison

Gate = MetricGate | str


def as_gates(gates: Sequence[Gate]) -> list[MetricGate]:
    """Gates given as MetricGate, or as a metric name (not worse than production, higher is better)."""
    return [gate if isinstance(gate, MetricGate) else MetricGate(gate) for gate in gates]


class ModelVersionManager:
    """Versions of models: create, promote behind metric gates, roll back, compare."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        registry_dir: str | Path | None = None,
        enable_mlflow: bool | None = None,
        mock_mode: bool = False,
        mlflow_tracking_uri: str | None = None,
        **settings: Any,
    ) -> None:
        self._owns_registry = registry is None
        if registry is None:
            registry = ModelRegistry(
                registry_dir,
                enable_mlflow=enable_mlflow,
                mock_mode=mock_mode,
                mlflow_tracking_uri=mlflow_tracking_uri,
                **settings,
            )
        self.registry = registry
        self.mock_mode = registry.mock_mode
        self._workflows = VersionWorkflows(registry.core)

    def create_version(
        self, model_id: str, version: str, *, stage: Stage | str = Stage.DEVELOPMENT, **details: Any
    ) -> ModelVersion:
        """Register a new version (`details`: framework, algorithm, metrics, hyperparameters,
        tags, description, model_uri, parent, run_id)."""
        return self.registry.register_model(model_id, version, stage=stage, **details)

    def get_version(self, model_id: str, version: str | None = None) -> ModelVersion:
        """The named version; without one, the production version, else the latest."""
        return self.registry.get_model(model_id, version)

    def get_production_version(self, model_id: str) -> ModelVersion:
        return self.registry.get_model(model_id, stage=Stage.PRODUCTION)

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        return self.registry.list_versions(model_id)

    def history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        """Every stage change: when, from, to, by whom, why."""
        return self.registry.get_history(model_id, version)

    def promote(self, model_id: str, version: str, target_stage: Stage | str, *, note: str = "") -> StageChangeResult:
        """One step along the lifecycle, no checks (see `promote_to_production` for the gated one)."""
        return self.registry.promote_model(model_id, version, target_stage, note=note)

    def check_promotion(self, model_id: str, version: str, gates: Sequence[Gate]) -> list[GateResult]:
        """Each gate against the production version, without changing anything."""
        return self._workflows.check_promotion(model_id, version, as_gates(gates))

    def promote_to_production(
        self, model_id: str, version: str, *, gates: Sequence[Gate] = (), note: str = ""
    ) -> CheckedPromotion:
        """Promote to production only if every gate passes (ConflictError naming each failure)."""
        require_permission("promote_model", arguments={"target_stage": Stage.PRODUCTION})
        return self._workflows.promote_with_checks(model_id, version, as_gates(gates), note=note)

    def rollback(self, model_id: str) -> StageChangeResult:
        """Return the previous production version to production; the current one is archived."""
        return self.registry.rollback_model(model_id)

    def compare_versions(
        self, model_id: str, version_a: str | None = None, version_b: str | None = None
    ) -> VersionComparison:
        """Metric and hyperparameter differences, stages, lineage, and the training runs' differences."""
        return self._workflows.compare_versions(model_id, version_a, version_b)

    def metrics_of(self, model_id: str, version: str) -> Mapping[str, float]:
        """A version's metrics, completed by its training run's when MLflow is on."""
        metrics, _ = self._workflows.metrics_of(self.registry.get_model(model_id, version))
        return metrics

    def close(self) -> None:
        """Close the registry if this manager built it (one given to it stays open)."""
        if self._owns_registry:
            self.registry.close()
