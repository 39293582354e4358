"""Wiring: builds the core services and their adapters from one DeploymentConfig.

The entry point and the tests call `build_services`; the MCP server receives the result. Nothing
heavy is imported here (pandas, scipy, mlflow load lazily where they are used).
"""

from __future__ import annotations

import functools
import os
import random
import secrets
import socket
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
from nba_mcp_deploy.registry.store import RegistryStore
from nba_mcp_deploy.replicas.references import ReferenceFollower
from nba_mcp_deploy.replicas.sync import ControlSync
from nba_mcp_deploy.replicas.traffic import TrafficCounters, TrafficFlusher, fleet_counts
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.observers import FanOutObserver

if TYPE_CHECKING:
    from nba_mcp_deploy.mlflow_sync.sync import MlflowSync


@dataclass
class Services:
    """Everything a server (or a script) needs, sharing one config, clock and metrics."""

    config: DeploymentConfig
    clock: Clock
    operations: OperationMetrics
    # The one registry database, every role of it (the registry, replicas, audit and outbox use theirs).
    store: RegistryStore
    monitoring: MonitoringService
    manager: ModelServingManager
    registry: ModelRegistry
    experiments: ExperimentService
    history: MetricsHistory
    sampler: HealthSampler
    # MLflow mirroring, runs and metrics; None when MLflow is disabled (mlflow is never imported).
    mlflow: MlflowSync | None = None
    # Following the routing other replicas save, and this replica's traffic counters in the store
    # (no sync when built without restoring: nothing is followed then).
    sync: ControlSync | None = None
    traffic: TrafficFlusher | None = None

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        if self.traffic is not None:
            self.traffic.close()
        self.sampler.close()
        if self.mlflow is not None:
            self.mlflow.close()
        self.experiments.close()
        self.manager.close()
        self.monitoring.close()
        self.store.close()


def replica_name(config: DeploymentConfig) -> str:
    """This replica's name: the configured one, else hostname-pid."""
    return config.replica_id or f"{socket.gethostname()}-{os.getpid()}"


def open_store(config: DeploymentConfig) -> RegistryStore:
    """The PostgreSQL store when `registry_url` is set, else the sqlite file in `registry_dir`."""
    if config.registry_url is not None:
        from nba_mcp_deploy.stores.postgres import PostgresRegistryStore

        return PostgresRegistryStore(config.registry_url)
    from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

    return SqliteRegistryStore(config.registry_dir, sync_every_commit=config.registry_sync_every_commit)


def build_services(
    config: DeploymentConfig,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    operations: OperationMetrics | None = None,
    restore: bool = True,
    store: RegistryStore | None = None,
) -> Services:
    """Open the registry in `config.registry_dir` (or use `store`, e.g. the Python API's in-memory
    one) and, unless told not to, redeploy what it says was deployed (this loads models: slow, so
    the server does it on a background thread). The services own the store: `close` closes it."""
    clock = clock or SystemClock()
    operations = operations or OperationMetrics()
    loader = ModelLoaderRouter(
        model_roots=config.trusted_model_roots,
        cache_dir=config.registry_dir / "model_cache",
        tracking_uri=config.mlflow_tracking_uri,
    )
    monitoring = MonitoringService(config, clock=clock, notifier=notifier_from_config(config))
    store = store if store is not None else open_store(config)
    recorder = TrafficRecorder(config.experiment_window_size)
    replica_id = replica_name(config)
    counters = TrafficCounters(replica_id, f"{replica_id}/{secrets.token_hex(4)}", clock=clock)
    manager = ModelServingManager(
        config,
        loader=loader,
        clock=clock,
        rng=rng,
        observer=FanOutObserver((monitoring, recorder, counters)),
        state_sink=store,
        operations=operations,
        replica_id=replica_id,
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
        fleet=functools.partial(fleet_counts, store, live=counters),
        store=store,
        owner=counters.instance,
    )
    sync = None
    if restore:
        records = store.deployment_records()
        manager.restore({m: dict(r.document) for m, r in records.items()}, {m: r.revision for m, r in records.items()})
        references = ReferenceFollower(monitoring)
        for model_id, record in records.items():
            manager.restore_problems += references.follow(model_id, record.document)
        sync = ControlSync(
            store, manager, interval_sec=config.control_poll_interval_sec, clock=clock, on_applied=references.follow
        )
        if config.registry_url is not None:  # replicas on a shared database: health says how in step
            manager.add_health_source(sync)
        sync.start()
    flusher = TrafficFlusher(counters, store, config.traffic_flush_interval_sec, clock=clock)
    flusher.start()
    history = MetricsHistory()
    sampler = HealthSampler(lambda: history.sample(manager.health_check()), config.health_check_interval_sec)
    sampler.start()
    services = Services(
        config=config,
        clock=clock,
        operations=operations,
        store=store,
        monitoring=monitoring,
        manager=manager,
        registry=registry,
        experiments=experiments,
        sync=sync,
        traffic=flusher,
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
