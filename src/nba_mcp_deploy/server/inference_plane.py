"""One data plane behind every inference protocol: OIP over REST and gRPC and MLflow's
`/invocations` ask this object, as MLServer's `DataPlane` serves its REST and gRPC servers.

    probes      live · server ready (the services started and EVERY deployed model ready, as the
                Open Inference Protocol defines it) · model ready (a version: its breaker closed)
    metadata    server (name, version, extensions) · model (versions, typed inputs and outputs)
    inference   decode against the routing snapshot → `predict_without_blocking`, the same call
                the MCP `predict` tool makes: routing, A/B and sticky keys, breaker and
                failover, metrics, the monitor's log and the shadow, whichever protocol asked

The adapters around it only translate: the wire format (codecs/), the caller's token and role,
and our errors into their protocol's status (`http_errors.status_of` is the one table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy import __version__
from nba_mcp_deploy.codecs import open_inference
from nba_mcp_deploy.codecs.open_inference_binary import EXTENSION as BINARY_EXTENSION
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.http_errors import ServiceUnavailableError
from nba_mcp_deploy.server.inference_targets import (
    check_outputs,
    described_version,
    feature_order,
    only_model,
    pinned_version,
)
from nba_mcp_deploy.server.predict_call import predict_without_blocking

if TYPE_CHECKING:
    from nba_mcp_deploy.codecs.open_inference import InferRequest
    from nba_mcp_deploy.serving.deployment import ModelRouting
    from nba_mcp_deploy.serving.manager import ModelServingManager
    from nba_mcp_deploy.serving.results import PredictionResult

SERVER_NAME = "nba-mcp-deploy"
EXTENSIONS = (BINARY_EXTENSION,)
Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None = None


class InferencePlane:
    """What every protocol asks of the serving core; each call reads the services from the host
    (ServiceUnavailableError while they are starting)."""

    def __init__(self, host: ServiceHost) -> None:
        self._host = host
        # model -> (the routing snapshot, the columns any of its versions uses); snapshots are
        # replaced, never changed, so a cached entry is valid while it is the same object.
        self._columns: dict[str, tuple[ModelRouting, frozenset[str]]] = {}

    # -- probes and metadata ---------------------------------------------------------------

    def manager(self) -> ModelServingManager:
        if not self._host.is_ready():
            raise ServiceUnavailableError("the server is still starting; retry shortly")
        try:
            return self._host.services(timeout=0).manager
        except DeployError as exc:
            raise ServiceUnavailableError(str(exc)) from exc

    def server_ready(self) -> Readiness:
        """Ready when the services have started and every deployed model is ready."""
        try:
            manager = self.manager()
        except ServiceUnavailableError as exc:
            return Readiness(False, str(exc))
        waiting = []
        for model in manager.model_ids():
            state = self.model_ready(model, None)
            if not state.ready:
                waiting.append(f"{model}: {state.reason}")
        return Readiness(not waiting, "; ".join(waiting) or None)

    def server_metadata(self) -> dict[str, Any]:
        return {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}

    def model_metadata(self, model: str, version: str | None) -> dict[str, Any]:
        routing = self.manager().routing(model)
        served = described_version(routing, version)
        versions = [served.version] if version is not None else routing.sorted_versions()
        body = open_inference.model_metadata(model, versions, served.signature, platform=SERVER_NAME)
        body["parameters"] = {"described_version": served.version, "active_version": routing.active}
        return body

    def model_ready(self, model: str, version: str | None) -> Readiness:
        """A pinned version: its breaker is not open; a model: its health check says ready."""
        # Imported here: they bring NumPy, which the server does not need until it serves.
        from nba_mcp_deploy.serving.breaker import BreakerState
        from nba_mcp_deploy.serving.results import HealthStatus

        manager = self.manager()
        routing = manager.routing(model)
        if version is not None:
            state = pinned_version(routing, version).breaker.state
            return Readiness(state is not BreakerState.OPEN, f"breaker {state.value}")
        health = manager.health_check(model).models[0]
        ready = health.ready and health.status is not HealthStatus.UNHEALTHY
        return Readiness(ready, "; ".join(health.reasons) or ("ready" if ready else "not ready"))

    # -- inference -------------------------------------------------------------------------

    async def infer(
        self,
        model: str,
        version: str | None,
        decode: Callable[[Callable[[], Sequence[str]]], InferRequest],
        request_key: str | None,
    ) -> tuple[InferRequest, PredictionResult]:
        """An OIP inference: `decode` turns the protocol's request into records, given the
        column order of an unnamed matrix (asked only then)."""
        manager = self.manager()
        routing = manager.routing(model)  # an unknown model is a 404 before the body is decoded
        decoded = decode(lambda: feature_order(routing, version))
        if decoded.outputs is not None:
            check_outputs(routing, version, decoded.outputs)
        result = await predict_without_blocking(manager, model, decoded.records, version, request_key)
        return decoded, result

    async def invocations(
        self,
        model: str | None,
        version: str | None,
        decode: Callable[[frozenset[str]], Records],
        request_key: str | None,
    ) -> PredictionResult:
        """An MLflow scoring request; `decode` is given the columns the model's versions use
        (others are dropped, text in them read as numbers)."""
        manager = self.manager()
        routing = manager.routing(model if model is not None else only_model(manager))
        if version is not None:
            pinned_version(routing, version)
        records = decode(self._used_columns(routing))
        return await predict_without_blocking(manager, routing.model_id, records, version, request_key)

    def _used_columns(self, routing: ModelRouting) -> frozenset[str]:
        cached = self._columns.get(routing.model_id)
        if cached is not None and cached[0] is routing:
            return cached[1]
        used = frozenset(name for served in routing.versions.values() for name in served.model.feature_names)
        self._columns[routing.model_id] = (routing, used)
        return used
