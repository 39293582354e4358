"""Wiring: builds the core services and their adapters from one DeploymentConfig.

The entry point and the tests call `build_services`; the MCP server receives the result. Nothing
heavy is imported here (pandas, scipy, mlflow load lazily where they are used).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.dashboard.history import HealthSampler, MetricsHistory
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.experiments.service import ExperimentService
from nba_mcp_deploy.loading.router import ModelLoaderRouter
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.notify.webhook import notifier_from_config
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.promotion import ServingStageListener
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.observers import FanOutObserver
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

if TYPE_CHECKING:
    from nba_mcp_deploy.mlflow_sync.sync import MlflowSync


@dataclass
class Services:
    """Everything a server (or a script) needs, sharing one config, clock and metrics."""

    config: DeploymentConfig
    clock: Clock
    operations: OperationMetrics
    monitoring: MonitoringService
    manager: ModelServingManager
    registry: ModelRegistry
    experiments: ExperimentService
    history: MetricsHistory
    sampler: HealthSampler
    # MLflow mirroring, runs and metrics; None when MLflow is disabled (mlflow is never imported).
    mlflow: MlflowSync | None = None

    def close(self) -> None:
        self.sampler.close()
        if self.mlflow is not None:
            self.mlflow.close()
        self.experiments.close()
        self.manager.close()
        self.monitoring.close()
        self.registry.store.close()


def build_services(
    config: DeploymentConfig,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    operations: OperationMetrics | None = None,
    restore: bool = True,
) -> Services:
    """Open the registry in `config.registry_dir` and, unless told not to, redeploy what it says
    was deployed (this loads models: slow, so the server does it on a background thread)."""
    clock = clock or SystemClock()
    operations = operations or OperationMetrics()
    loader = ModelLoaderRouter(
        model_roots=config.trusted_model_roots,
        cache_dir=config.registry_dir / "model_cache",
        tracking_uri=config.mlflow_tracking_uri,
    )
    monitoring = MonitoringService(config, clock=clock, notifier=notifier_from_config(config))
    store = SqliteRegistryStore(config.registry_dir, sync_every_commit=config.registry_sync_every_commit)
    recorder = TrafficRecorder(config.experiment_window_size)
    manager = ModelServingManager(
        config,
        loader=loader,
        clock=clock,
        rng=rng,
        observer=FanOutObserver((monitoring, recorder)),
        state_sink=store,
        operations=operations,
    )
    registry = ModelRegistry(store, clock=clock)
    registry.add_listener(ServingStageListener(manager, auto_deploy=config.auto_deploy_on_promote))
    experiments = ExperimentService(
        manager,
        registry,
        monitoring,
        recorder,
        clock=clock,
        check_interval_sec=config.canary_check_interval_sec,
        latency_window=config.latency_window,
    )
    if restore:
        manager.restore(store.load_deployments())
    history = MetricsHistory()
    sampler = HealthSampler(lambda: history.sample(manager.health_check()), config.health_check_interval_sec)
    sampler.start()
    services = Services(
        config=config,
        clock=clock,
        operations=operations,
        monitoring=monitoring,
        manager=manager,
        registry=registry,
        experiments=experiments,
        history=history,
        sampler=sampler,
    )
    if config.enable_mlflow:
        from nba_mcp_deploy.mlflow_sync.sync import MlflowSync

        services.mlflow = MlflowSync(
            config, store=store, registry=registry, manager=manager, monitoring=monitoring, clock=clock
        )
        services.mlflow.start()
    return services
