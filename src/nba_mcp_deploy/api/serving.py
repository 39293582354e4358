"""`ModelServingManager` as the seed document writes it: keyword construction, no setup.

    manager = ModelServingManager(enable_mlflow=True, mlflow_experiment="nba_serving", error_threshold=0.1)
    manager.deploy_model(model_id="nba_win_predictor", version="v1.0", model_instance=model, set_active=True)
    manager.predict(model_id="nba_win_predictor", inputs=[{...}])

A face over the server's own services (`services.build_services`): the core manager
(`serving.manager.ModelServingManager`) routes, breaks circuits and counts; the monitoring
service sees every answer (`monitor(model_id)`); MLflow, when on, gets the same runs as from the
server. Mutating calls check the current caller's permission as the MCP tools do
(`access.acting_as`; outside it the script is the local admin). See `assembly.py` for where the
registry lives and when MLflow is on, `shadow.py` for `shadow_mode=True`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.access.permissions import permission_required
from nba_mcp_deploy.api.assembly import RegistryHome, ServicesOwner
from nba_mcp_deploy.api.shadow import ShadowComparisons, ShadowPrediction
from nba_mcp_deploy.errors import CircuitOpenError, ModelExecutionError
from nba_mcp_deploy.logs import get_logger

if TYPE_CHECKING:
    from nba_mcp_deploy.api.monitoring import ModelMonitor
    from nba_mcp_deploy.api.registry import ModelRegistry
    from nba_mcp_deploy.serving.manager import ModelServingManager as CoreManager
    from nba_mcp_deploy.serving.results import DeploymentInfo, HealthReport, PredictionResult
    from nba_mcp_deploy.serving.shadow import ShadowSnapshot

log = get_logger(__name__)


class ModelServingManager(ServicesOwner):
    """Deploy versions, route predictions (A/B, blue-green), break circuits, report health.

    `shadow_mode=True` makes every answer a `ShadowPrediction` (see `api/shadow.py`);
    `error_threshold` is the failure rate that opens a version's circuit breaker. Other
    keywords are `DeploymentConfig` fields (e.g. `routing_seed=7`).
    """

    def __init__(
        self,
        *,
        enable_mlflow: bool | None = None,
        mlflow_experiment: str | None = None,
        mock_mode: bool = False,
        shadow_mode: bool = False,
        error_threshold: float | None = None,
        registry_dir: str | Path | None = None,
        mlflow_tracking_uri: str | None = None,
        **settings: Any,
    ) -> None:
        if error_threshold is not None:
            settings["error_threshold"] = error_threshold
        super().__init__(
            mock_mode=mock_mode,
            enable_mlflow=enable_mlflow,
            mlflow_tracking_uri=mlflow_tracking_uri,
            mlflow_experiment=mlflow_experiment,
            registry_dir=registry_dir,
            home=RegistryHome.MEMORY_UNLESS_SET,
            mirror_registry=False,
            settings=settings,
        )
        self.shadow_mode = shadow_mode
        self._comparisons = ShadowComparisons()

    @property
    def core(self) -> CoreManager:
        """The core manager underneath, for what this face leaves out (batching, replicas)."""
        return self.services.manager

    # -- versions ----------------------------------------------------------------------------

    @permission_required("deploy_model")
    def deploy_model(
        self,
        model_id: str,
        version: str,
        model_instance: Any = None,
        model_uri: str | None = None,
        set_active: bool = True,
        *,
        feature_names: Sequence[str] | None = None,
    ) -> DeploymentInfo:
        """Load (or take) a model, warm it up and add it as `version`; active if `set_active`.

        Returns the deployment (truthy); raises if the model cannot load or answer its warm-up
        call, and then nothing changed.
        """
        return self.core.deploy_model(
            model_id, version, model_instance, model_uri, set_active, feature_names=feature_names
        )

    @permission_required("set_active_version")
    def set_active_version(self, model_id: str, version: str) -> DeploymentInfo:
        """Send default traffic to `version` (blue-green switch); the old one stays for rollback."""
        return self.core.set_active_version(model_id, version)

    @permission_required("retire_model")
    def retire_model(self, model_id: str, version: str) -> DeploymentInfo:
        """Unload a version no traffic depends on (the core's `undeploy`; the MCP tool's name).

        The registry keeps its record; archiving a registered version is `ModelRegistry.retire_model`.
        """
        return self.core.undeploy(model_id, version)

    @permission_required("reset_circuit_breaker")
    def reset_circuit_breaker(self, model_id: str, version: str) -> DeploymentInfo:
        """Close a version's breaker now, once the cause of its failures is fixed."""
        return self.core.reset_circuit_breaker(model_id, version)

    # -- traffic -----------------------------------------------------------------------------

    @permission_required("setup_ab_test")
    def setup_ab_test(
        self, model_id: str, versions: Sequence[str], weights: Sequence[float], sticky: bool = False
    ) -> DeploymentInfo:
        """Split traffic by weight (a canary is a small weight raised in steps); replaces any split."""
        return self.core.setup_ab_test(model_id, versions, weights, sticky)

    @permission_required("clear_ab_test")
    def clear_ab_test(self, model_id: str) -> DeploymentInfo:
        """Send all traffic back to the active version."""
        return self.core.clear_ab_test(model_id)

    @permission_required("setup_shadow")
    def setup_shadow(self, model_id: str, version: str, fraction: float = 1.0) -> DeploymentInfo:
        """Mirror `fraction` of live requests to a standby `version` of the same model (compared only)."""
        return self.core.setup_shadow(model_id, version, fraction)

    @permission_required("clear_shadow")
    def clear_shadow(self, model_id: str) -> DeploymentInfo:
        return self.core.clear_shadow(model_id)

    # -- predictions -------------------------------------------------------------------------

    def predict(
        self, model_id: str, inputs: Any, version: str | None = None, request_key: str | None = None
    ) -> PredictionResult | ShadowPrediction:
        """Score records (a list of feature -> number objects, or a DataFrame).

        A `PredictionResult`, or in shadow mode a `ShadowPrediction` (never raised for a failing
        shadow model). `request_key` keeps a caller on one A/B variant; `version` pins one.
        """
        if not self.shadow_mode:
            return self.core.predict(model_id, inputs, version, request_key)
        comparisons = self._comparisons.of(model_id)
        try:
            result = self.core.predict(model_id, inputs, version, request_key)
        except (ModelExecutionError, CircuitOpenError) as exc:
            log.warning("shadow prediction failed", extra={"model_id": model_id, "error": str(exc)})
            return ShadowPrediction(model_id, None, f"{type(exc).__name__}: {exc}", comparisons)
        return ShadowPrediction(model_id, result, None, comparisons)

    def shadow_comparison(self, model_id: str) -> ShadowSnapshot:
        """A shadow-mode manager's running comparison with the live answers (`compare_with`)."""
        return self._comparisons.snapshot(model_id)

    # -- reports -----------------------------------------------------------------------------

    def health_check(self, model_id: str | None = None) -> HealthReport:
        """Status with reasons, `circuit_breaker_open`, per-version breakers, counts, latency, A/B,
        shadow, and the process's operation metrics (`@track_metric` included)."""
        return self.core.health_check(model_id)

    def list_deployments(self) -> list[DeploymentInfo]:
        return self.core.list_deployments()

    def get_deployment(self, model_id: str) -> DeploymentInfo:
        return self.core.get_deployment(model_id)

    @property
    def registry(self) -> ModelRegistry:
        """The registry of this manager's deployment: a version promoted to production there
        becomes the version this manager serves (deployed first if it has a `model_uri`)."""
        from nba_mcp_deploy.api.registry import ModelRegistry

        return ModelRegistry.sharing(self)

    def monitor(self, model_id: str, model_version: str | None = None) -> ModelMonitor:
        """The monitor that sees every answer this manager gives for `model_id` (logged
        predictions, drift, performance, alerts), for `model_version` only when given."""
        from nba_mcp_deploy.api.monitoring import ModelMonitor

        return ModelMonitor.of_manager(self, model_id, model_version)

    def wait_for_shadow(self, timeout: float = 10.0) -> bool:
        """Block until requests mirrored by `setup_shadow` are compared (tests, demos)."""
        return self.core.wait_for_shadow(timeout)
