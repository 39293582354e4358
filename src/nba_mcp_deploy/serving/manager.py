"""`ModelServingManager`: the one object callers hold to deploy versions, route predictions and report.

It composes the parts of serving, each with one job, over one shared `RoutingTable`:

- `ControlPlane` (control_plane.py): deploy, activate, undeploy, A/B split, shadow, reference
  data and batching; the one owner of routing changes, one saved revision per action;
- `PredictPipeline` (predict_pipeline.py): a request's way through routing, the breaker, the
  model (alone or in a micro-batch), metrics, shadow mirroring and observers, without locks;
- `ReplicaFollower` (follower.py): restoring saved routings at start and following the ones
  other replicas save;
- `ServingReports` (reporting.py): deployments and health.

Thread-safe: control changes are serialised by the table's lock and publish a new immutable
`ModelRouting`; predictions read the current snapshot without locking.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.registry.shared_state import ControlStateStore
from nba_mcp_deploy.serving.batching import BatchSettings
from nba_mcp_deploy.serving.control import ControlListener
from nba_mcp_deploy.serving.control_plane import ControlPlane, SplitOnActivation
from nba_mcp_deploy.serving.deployment import ModelRouting
from nba_mcp_deploy.serving.follower import ReplicaFollower
from nba_mcp_deploy.serving.ports import HealthSource, ModelLoader, PredictionObserver
from nba_mcp_deploy.serving.predict_pipeline import PredictPipeline
from nba_mcp_deploy.serving.reporting import ServingReports
from nba_mcp_deploy.serving.results import DeploymentInfo, HealthReport, PredictionResult
from nba_mcp_deploy.serving.routing_table import RoutingTable
from nba_mcp_deploy.serving.version_loader import VersionLoader


class ModelServingManager:
    """Serves several versions of several models; see the module docstring for its parts."""

    def __init__(
        self,
        config: DeploymentConfig,
        *,
        loader: ModelLoader | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        observer: PredictionObserver | None = None,
        state_sink: ControlStateStore | None = None,
        operations: OperationMetrics | None = None,
        replica_id: str = "",
    ) -> None:
        clock = clock or SystemClock()
        # Which replica this is (health_check says it; saved routings name it as their writer).
        self.replica_id = replica_id
        self.operations = operations or OperationMetrics()
        # What could not be restored at start (health_check reports it until the next start).
        self.restore_problems: list[str] = []
        self._table = RoutingTable(clock)
        versions = VersionLoader(config, loader, clock, self._table)
        self._control = ControlPlane(self._table, versions, clock, state_sink=state_sink, replica_id=replica_id)
        rng = rng or random.Random(config.routing_seed)
        self._pipeline = PredictPipeline(self._table, config, clock, rng, observer)
        self._follower = ReplicaFollower(self._table, versions)
        self._reports = ServingReports(self._table, config, clock, self.operations, replica_id)

    # -- control (control_plane.py) --------------------------------------------------------

    def deploy_model(
        self,
        model_id: str,
        version: str,
        model_instance: Any = None,
        model_uri: str | None = None,
        set_active: bool = True,
        *,
        feature_names: Sequence[str] | None = None,
        warmup_input: npt.NDArray[np.float64] | None = None,
    ) -> DeploymentInfo:
        """Load, warm up and add a version; make it active if `set_active` (or if none is)."""
        return self._control.deploy_model(
            model_id,
            version,
            model_instance,
            model_uri,
            set_active,
            feature_names=feature_names,
            warmup_input=warmup_input,
        )

    def set_active_version(
        self, model_id: str, version: str, *, split: SplitOnActivation = SplitOnActivation.KEEP
    ) -> DeploymentInfo:
        """Send default traffic to `version` (blue-green switch); `split` says whether the A/B
        split ends in the same saved revision. The old version stays for rollback."""
        return self._control.set_active_version(model_id, version, split=split)

    def undeploy(self, model_id: str, version: str) -> DeploymentInfo:
        """Unload a version that no traffic depends on (the registry keeps its record and stage)."""
        return self._control.undeploy(model_id, version)

    def setup_ab_test(
        self, model_id: str, versions: Sequence[str], weights: Sequence[float], sticky: bool = False
    ) -> DeploymentInfo:
        """Split traffic by weight; replaces any split."""
        return self._control.setup_ab_test(model_id, versions, weights, sticky)

    def clear_ab_test(self, model_id: str) -> DeploymentInfo:
        """Send all traffic back to the active version."""
        return self._control.clear_ab_test(model_id)

    def setup_shadow(self, model_id: str, version: str, fraction: float = 1.0) -> DeploymentInfo:
        """Mirror `fraction` of live requests to `version`; its answers are only compared."""
        return self._control.setup_shadow(model_id, version, fraction)

    def clear_shadow(self, model_id: str) -> DeploymentInfo:
        return self._control.clear_shadow(model_id)

    def set_reference_location(self, model_id: str, version: str | None, location: Mapping[str, Any] | None) -> None:
        """Record where the reference data of a model (or one version) is, for every replica."""
        self._control.set_reference_location(model_id, version, location)

    def reset_circuit_breaker(self, model_id: str, version: str) -> DeploymentInfo:
        """Close a version's breaker now (after the cause is fixed)."""
        return self._control.reset_circuit_breaker(model_id, version)

    def set_batching(self, model_id: str, max_batch_size: int, max_wait_ms: float) -> DeploymentInfo:
        """Gather concurrent requests for each version of the model into one model call."""
        return self._control.set_batching(model_id, max_batch_size, max_wait_ms)

    def clear_batching(self, model_id: str) -> DeploymentInfo:
        """Each request calls the model on its own again (the default)."""
        return self._control.clear_batching(model_id)

    def add_control_listener(self, listener: ControlListener) -> None:
        """Tell `listener` about every later control change (see serving/control.py)."""
        self._control.add_control_listener(listener)

    # -- predictions (predict_pipeline.py) -------------------------------------------------

    def predict(
        self, model_id: str, inputs: Any, version: str | None = None, request_key: str | None = None
    ) -> PredictionResult:
        """Route, check the breaker, call the model (or join its batch), record, mirror, observe."""
        return self._pipeline.predict(model_id, inputs, version, request_key)

    def submit_predict(
        self, model_id: str, inputs: Any, version: str | None = None, request_key: str | None = None
    ) -> Future[PredictionResult]:
        """`predict` for callers that must not block on a batch (an event loop)."""
        return self._pipeline.submit_predict(model_id, inputs, version, request_key)

    def wait_for_shadow(self, timeout: float = 10.0) -> bool:
        """Block until mirrored requests are processed (for tests and demos)."""
        return self._pipeline.wait_for_shadow(timeout)

    # -- following saved routings (follower.py) --------------------------------------------

    def restore(
        self, documents: Mapping[str, Mapping[str, Any]], revisions: Mapping[str, int] | None = None
    ) -> list[str]:
        """Serve what the saved routings say; returns (and keeps for `health_check`) the problems."""
        self.restore_problems = self._follower.restore(documents, revisions)
        return self.restore_problems

    def apply_document(self, model_id: str, document: Mapping[str, Any], revision: int | None = None) -> list[str]:
        """Route `model_id` as a routing document saved elsewhere says; returns the problems."""
        return self._follower.apply_document(model_id, document, revision)

    def applied_revisions(self) -> dict[str, int]:
        """The revision of each model's saved routing that this replica follows."""
        return self._follower.applied_revisions()

    # -- reporting (reporting.py) ----------------------------------------------------------

    def list_deployments(self) -> list[DeploymentInfo]:
        return self._reports.list_deployments()

    def get_deployment(self, model_id: str) -> DeploymentInfo:
        return self._reports.get_deployment(model_id)

    def health_check(self, model_id: str | None = None) -> HealthReport:
        """Status with reasons, readiness, breakers, counts, latency, A/B and shadow, per model."""
        return self._reports.health_check(model_id, self.restore_problems)

    def add_health_source(self, source: HealthSource) -> None:
        """Include `source`'s health in every later `health_check`."""
        self._reports.add_health_source(source)

    def model_ids(self) -> list[str]:
        """The deployed models, sorted (cheaper than list_deployments)."""
        return self._table.model_ids()

    def is_deployed_model(self, model_id: str) -> bool:
        return model_id in self._table

    def is_deployed(self, model_id: str, version: str) -> bool:
        routing = self._table.get(model_id)
        return routing is not None and version in routing.versions

    def routing(self, model_id: str) -> ModelRouting:
        """The current routing snapshot (read-only)."""
        return self._table.require(model_id)

    def batching_of(self, model_id: str) -> BatchSettings | None:
        """The model's batching settings; None when it does not batch or is not deployed."""
        routing = self._table.get(model_id)
        return None if routing is None else routing.batching

    def close(self) -> None:
        self._table.close()
        self._pipeline.close()
