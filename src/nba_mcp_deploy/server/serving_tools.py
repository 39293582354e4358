"""MCP tools for serving: deploy, predict, traffic control, breakers, health.

No `from __future__ import annotations` here: the SDK evaluates the tools' annotations, and some
of them use limits from the config captured in this closure. A result type written as text is a
core class read through its copy in `shapes.py` (see `outputs.py`).
"""

from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from pydantic import Field

from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import CHANGES, READ_ONLY, REMOVES, SETS
from nba_mcp_deploy.server.params import Fraction, ModelId, ModelUri, RequestKey, Version
from nba_mcp_deploy.server.predict_call import predict_without_blocking
from nba_mcp_deploy.server.results import Deployments
from nba_mcp_deploy.server.shapes import MAX_BATCH_SIZE, MAX_WAIT_MS

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.manager import ModelServingManager
    from nba_mcp_deploy.serving.results import DeploymentInfo, HealthReport, PredictionResult

# The MCP layer's own bound on the versions of one A/B split (the core takes any number): a
# split is read by people and agents, and more arms only dilute each one's evidence.
MAX_AB_VERSIONS = 16


def register_serving_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    config = host.config

    def manager() -> "ModelServingManager":
        return host.services().manager

    async def ready_manager() -> "ModelServingManager":
        """The manager without blocking the event loop while the services are still starting."""
        if host.is_ready():
            return manager()
        return await anyio.to_thread.run_sync(manager)

    Record = Annotated[
        dict[str, float | None],
        Field(max_length=config.max_features_per_record, description="feature name -> number (null = missing)"),
    ]
    Inputs = Annotated[
        list[Record],
        Field(
            min_length=1,
            max_length=config.max_records_per_predict,
            description="records to score; each must have exactly the model's feature_names",
        ),
    ]

    @server.tool(annotations=CHANGES)
    @boundary
    def deploy_model(
        model_id: ModelId, version: Version, model_uri: ModelUri, set_active: bool = True
    ) -> "DeploymentInfo":
        """Load a model version, warm it up, and add it to serving.

        The version serves only after it loaded and answered a warm-up call; if either fails,
        nothing changes and the previous active version keeps serving. set_active=false deploys
        it as a standby (blue-green: deploy, check, then set_active_version). Local paths must
        be inside the trusted model roots.
        """
        return manager().deploy_model(model_id, version, model_uri=model_uri, set_active=set_active)

    @server.tool(annotations=READ_ONLY)
    @boundary
    async def predict(
        model_id: ModelId, inputs: Inputs, version: Version | None = None, request_key: RequestKey = None
    ) -> "PredictionResult":
        """Score records with a deployed model.

        Routed to the active version, or by the A/B split (sticky when request_key is given);
        `version` pins one version. If the chosen version's circuit breaker is open, traffic
        fails over to a healthy version and the result says so (failover_from). Keep the
        prediction_ids to report outcomes later.
        """
        serving = await ready_manager()
        return await predict_without_blocking(serving, model_id, inputs, version, request_key)

    @server.tool(annotations=SETS)
    @boundary
    def setup_ab_test(
        model_id: ModelId,
        versions: Annotated[list[Version], Field(min_length=2, max_length=MAX_AB_VERSIONS)],
        weights: Annotated[
            list[Annotated[float, Field(ge=0, allow_inf_nan=False)]], Field(min_length=2, max_length=MAX_AB_VERSIONS)
        ],
        sticky: bool = False,
    ) -> "DeploymentInfo":
        """Split traffic between deployed versions by weight (replaces any current split).

        Weights are one per version, >= 0, and sum to 1. For a canary give the candidate a
        small weight (e.g. 0.05) and raise it in steps by calling this again. sticky=true sends
        every request with the same request_key to the same version.
        """
        return manager().setup_ab_test(model_id, versions, weights, sticky=sticky)

    @server.tool(annotations=SETS)
    @boundary
    def clear_ab_test(model_id: ModelId) -> "DeploymentInfo":
        """End the A/B split: all traffic goes back to the active version."""
        return manager().clear_ab_test(model_id)

    @server.tool(annotations=SETS)
    @boundary
    def setup_shadow(model_id: ModelId, version: Version, fraction: Fraction = 1.0) -> "DeploymentInfo":
        """Mirror a fraction of live traffic to a standby version without affecting answers.

        Its answers are only compared with the live ones (agreement rate, mean absolute
        difference, errors, latency: see health_check); a failing shadow never affects users.
        """
        return manager().setup_shadow(model_id, version, fraction)

    @server.tool(annotations=SETS)
    @boundary
    def clear_shadow(model_id: ModelId) -> "DeploymentInfo":
        """Stop mirroring traffic to the shadow version."""
        return manager().clear_shadow(model_id)

    @server.tool(annotations=SETS)
    @boundary
    def set_active_version(model_id: ModelId, version: Version) -> "DeploymentInfo":
        """Make a deployed version the one that takes default traffic (blue-green switch or rollback).

        The previously active version stays deployed (listed in previous_active) for rollback.
        An A/B split, if any, still takes precedence until cleared.
        """
        return manager().set_active_version(model_id, version)

    @server.tool(annotations=REMOVES)
    @boundary
    def retire_model(model_id: ModelId, version: Version) -> "DeploymentInfo":
        """Unload a deployed version from serving, on every replica; the registry is left unchanged.

        Only for a version no traffic depends on: refused for the only deployed version, the
        active version and A/B variants; an unloaded shadow stops being mirrored. To archive a
        version in the registry instead, use promote_model with target_stage='archived'.
        """
        return manager().undeploy(model_id, version)

    @server.tool(annotations=SETS)
    @boundary
    def set_batching(
        model_id: ModelId,
        max_batch_size: Annotated[int, Field(ge=2, le=MAX_BATCH_SIZE, description="most rows per model call")] = 32,
        max_wait_ms: Annotated[
            float,
            Field(ge=0, le=MAX_WAIT_MS, allow_inf_nan=False, description="longest a request waits for others to join"),
        ] = 2.0,
    ) -> "DeploymentInfo":
        """Turn on adaptive batching: concurrent requests for the same version are gathered into one
        model call (throughput under load, at up to max_wait_ms of added latency).

        Applies to every version of the model, also those deployed later; each caller still gets
        its own answer, and the breaker, metrics and monitoring count requests, not batches. A
        failing batch fails every request in it. Off by default; clear_batching turns it off.
        """
        return manager().set_batching(model_id, max_batch_size, max_wait_ms)

    @server.tool(annotations=SETS)
    @boundary
    def clear_batching(model_id: ModelId) -> "DeploymentInfo":
        """Turn adaptive batching off: each request calls the model on its own again."""
        return manager().clear_batching(model_id)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def health_check(model_id: ModelId | None = None) -> "HealthReport":
        """Status (healthy/degraded/unhealthy) with reasons, readiness, per-version breaker state,
        request and error counts, error rate, latency p50/p95/p99, A/B and shadow configuration,
        and per-tool operation metrics. Omit model_id for every model."""
        return manager().health_check(model_id)

    @server.tool(annotations=SETS)
    @boundary
    def reset_circuit_breaker(model_id: ModelId, version: Version) -> "DeploymentInfo":
        """Close a version's circuit breaker now, once the cause of its failures is fixed."""
        return manager().reset_circuit_breaker(model_id, version)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def list_deployments() -> Deployments:
        """Every deployed model with its versions, roles, active version, A/B split and shadow."""
        return Deployments.of(manager().list_deployments())
