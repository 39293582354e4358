"""Wiring: builds the core services and their adapters from one DeploymentConfig.

The entry point and the tests call `build_services`; the MCP server receives the result. Nothing
heavy is imported here (pandas, scipy, mlflow load lazily where they are used).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.loading.router import ModelLoaderRouter
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.notify.webhook import notifier_from_config
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.serving.manager import ModelServingManager


@dataclass
class Services:
    """Everything a server (or a script) needs, sharing one config, clock and metrics."""

    config: DeploymentConfig
    clock: Clock
    operations: OperationMetrics
    monitoring: MonitoringService
    manager: ModelServingManager

    def close(self) -> None:
        self.manager.close()
        self.monitoring.close()


def build_services(
    config: DeploymentConfig,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    operations: OperationMetrics | None = None,
) -> Services:
    clock = clock or SystemClock()
    operations = operations or OperationMetrics()
    loader = ModelLoaderRouter(
        model_roots=config.trusted_model_roots,
        cache_dir=config.registry_dir / "model_cache",
        tracking_uri=config.mlflow_tracking_uri,
    )
    monitoring = MonitoringService(config, clock=clock, notifier=notifier_from_config(config))
    manager = ModelServingManager(
        config, loader=loader, clock=clock, rng=rng, observer=monitoring, operations=operations
    )
    return Services(config=config, clock=clock, operations=operations, monitoring=monitoring, manager=manager)
