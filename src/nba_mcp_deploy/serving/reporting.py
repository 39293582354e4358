"""What serving reports: each deployment as `DeploymentInfo`, and `health_check` across models.

Read-only: everything here is computed from routing snapshots and the live counters they hold,
plus the health of the dependencies that registered as `HealthSource`s (a replica's control
sync, the MLflow mirror).
"""

from __future__ import annotations

from collections.abc import Sequence

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.serving.deployment import ModelRouting
from nba_mcp_deploy.serving.health import HealthThresholds, model_health, shadow_info, split_info, worst
from nba_mcp_deploy.serving.ports import HealthSource
from nba_mcp_deploy.serving.results import BatchingInfo, DeploymentInfo, HealthReport, VersionInfo
from nba_mcp_deploy.serving.routing_table import RoutingTable


def deployment_info(routing: ModelRouting) -> DeploymentInfo:
    """One model's versions, their roles and how traffic reaches them."""
    versions = [
        VersionInfo(
            version=name,
            role=routing.role_of(name).value,
            weight=routing.weight_of(name),
            model_uri=served.model_uri,
            source=served.model.source,
            deployed_at=served.deployed_at,
            load_ms=served.load_ms,
            feature_names=list(served.model.feature_names),
            is_classifier=served.model.is_classifier,
        )
        for name in routing.sorted_versions()
        for served in (routing.versions[name],)
    ]
    return DeploymentInfo(
        model_id=routing.model_id,
        active_version=routing.active,
        versions=versions,
        ab_test=split_info(routing),
        shadow=shadow_info(routing),
        previous_active=list(routing.previous_active),
        restorable=all(v.model_uri is not None for v in routing.versions.values()),
        batching=None
        if routing.batching is None
        else BatchingInfo(routing.batching.max_batch_size, routing.batching.max_wait_ms),
    )


class ServingReports:
    """Deployments and health of the models in `table`, and of the registered dependencies."""

    def __init__(
        self,
        table: RoutingTable,
        config: DeploymentConfig,
        clock: Clock,
        operations: OperationMetrics,
        replica_id: str,
    ) -> None:
        self._table = table
        self._clock = clock
        self._operations = operations
        self._replica_id = replica_id
        self._thresholds = HealthThresholds(config.error_rate_threshold, config.latency_threshold_ms)
        self._health_sources: tuple[HealthSource, ...] = ()

    def add_health_source(self, source: HealthSource) -> None:
        """Include `source`'s health in every later `health_check`."""
        self._health_sources = (*self._health_sources, source)

    def list_deployments(self) -> list[DeploymentInfo]:
        return [deployment_info(self._table.require(m)) for m in self._table.model_ids()]

    def get_deployment(self, model_id: str) -> DeploymentInfo:
        return deployment_info(self._table.require(model_id))

    def health_check(self, model_id: str | None, restore_problems: Sequence[str]) -> HealthReport:
        """Status with reasons, readiness, breakers, counts, latency, A/B and shadow, per model."""
        names = [model_id] if model_id is not None else self._table.model_ids()
        routes = [self._table.require(name) for name in names]
        models = [model_health(r, self._thresholds) for r in routes]
        dependencies = [source.health() for source in self._health_sources]
        reasons = [f"{m.model_id}: {reason}" for m in models for reason in m.reasons]
        reasons += [f"not restored after restart: {problem}" for problem in restore_problems]
        reasons = (reasons if models else ["no models deployed"]) + [
            f"{d.name}: {reason}" for d in dependencies for reason in d.reasons
        ]
        return HealthReport(
            status=worst([m.status for m in models] + [d.status for d in dependencies]),
            reasons=reasons,
            ready=all(m.ready for m in models),
            checked_at=self._clock.now(),
            models=models,
            operations=self._operations.snapshot(),
            dependencies=dependencies,
            replica_id=self._replica_id,
        )
