"""MLflow goes down mid-test: serving, the registry and monitoring keep working, health_check says
MLflow is degraded with the backlog, the writes wait in the outbox — also across a restart of
our own process — and reach MLflow in order once it answers again on the same port and database.

This module stops its server, so it has one of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import UnavailableError
from nba_mcp_deploy.mlflow_sync.relay import RelaySettings
from nba_mcp_deploy.mlflow_sync.sync import MlflowSync
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.registry import Stage
from nba_mcp_deploy.services import Services, build_services
from nba_mcp_deploy.serving.results import HealthStatus
from tests.conftest import NbaModels
from tests.mlflow_sync.conftest import client_of, mirrored, sync_of
from tests.mlflow_sync.server import MlflowServer
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

M = "win_prob"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with MlflowServer(tmp_path_factory.mktemp("mlflow-outage")) as server:
        yield server


def mlflow_health(services: Services) -> Any:
    (dependency,) = services.manager.health_check().dependencies
    return dependency


def test_ten_writes_during_an_outage_reach_mlflow_in_order_when_it_returns(
    own_server: MlflowServer, config: DeploymentConfig, nba: NbaModels
) -> None:
    settings = mirrored(config, own_server.uri, "outage")
    services = build_services(settings)
    registry = services.registry
    registry.register_model(M, "v1.0", stage=Stage.STAGING, model_uri=str(nba.skops_file))
    assert sync_of(services).drain(60)

    own_server.stop()
    assert not own_server.answers()
    # Ten writes while MLflow is down; the final aliases depend on their order.
    for i in range(6):
        registry.register_model(M, f"v2.{i}", stage=Stage.STAGING, metrics={"accuracy": 0.70 + i / 100})
    registry.promote_model(M, "v2.0", Stage.PRODUCTION)
    registry.promote_model(M, "v2.1", Stage.PRODUCTION)
    registry.promote_model(M, "v2.2", Stage.PRODUCTION)
    registry.rollback_model(M)  # v2.1 is back in production
    assert registry.get_production_model(M).version == "v2.1"
    # Serving and monitoring do not notice.
    services.manager.deploy_model(M, "v1.0", model_uri=str(nba.skops_file))
    for i in range(25):
        services.manager.predict(M, nba.records(1, start=i))
    monitor = services.monitoring.monitor(M)
    monitor.set_reference_data(nba.trained.holdout[FEATURES])
    monitor.detect_feature_drift()
    services.mlflow.flusher.flush()  # type: ignore[union-attr]

    wait_for(lambda: mlflow_health(services).status is HealthStatus.DEGRADED, 15.0, 0.05)
    health = services.manager.health_check()
    dependency = mlflow_health(services)
    backlog = services.store.outbox_counts().pending
    assert backlog >= 10 and dependency.backlog == backlog
    assert health.status is HealthStatus.DEGRADED and health.ready
    assert any(r.startswith("mlflow: not answering") and f"{backlog} changes wait" in r for r in health.reasons)
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="does not answer"):
        sync_of(services).sync_registry(wait_sec=60)
    assert time.monotonic() - started < 5

    services.close()  # our process restarts too: the outbox is on disk
    own_server.start()  # same port, same database
    services = build_services(settings)
    assert sync_of(services).drain(90)

    client = client_of(own_server.uri)
    mirror = sorted(client.search_model_versions(f"name = '{M}'"), key=lambda mv: int(mv.version))
    assert [mv.tags["nba_version"] for mv in mirror] == ["v1.0"] + [f"v2.{i}" for i in range(6)]
    number = {mv.tags["nba_version"]: str(mv.version) for mv in mirror}
    aliases = {alias: str(n) for alias, n in client.get_registered_model(M).aliases.items()}
    assert aliases == {"production": number["v2.1"], "staging": number["v2.5"]}
    stages = {mv.tags["nba_version"]: mv.tags["stage"] for mv in mirror}
    assert stages == {
        "v1.0": "staging",
        "v2.0": "archived",
        "v2.1": "production",
        "v2.2": "archived",
        "v2.3": "staging",
        "v2.4": "staging",
        "v2.5": "staging",
    }
    assert client.get_run(mirror[3].run_id).data.metrics == {"accuracy": pytest.approx(0.72)}
    experiment = client.get_experiment_by_name("outage").experiment_id
    (deployment,) = client.search_runs([experiment], "tags.nba_kind = 'deployment'")
    assert client.get_metric_history(deployment.info.run_id, "serving.requests")[-1].value == 25
    assert deployment.data.metrics["drift.features.ks.features_checked"] == len(FEATURES)
    assert mlflow_health(services).status is HealthStatus.HEALTHY
    assert mlflow_health(services).backlog == 0
    services.close()


def test_a_change_mlflow_keeps_refusing_is_parked_reported_and_retried(
    own_server: MlflowServer, config: DeploymentConfig
) -> None:
    if not own_server.answers():
        own_server.start()
    services = build_services(config)  # MLflow attached by hand, to refuse sooner than 5 times
    registry = services.registry
    sync = MlflowSync(
        mirrored(config, own_server.uri, "refusals"),
        store=services.store,
        registry=registry,
        manager=services.manager,
        monitoring=services.monitoring,
        clock=services.clock,
        relay_settings=RelaySettings(max_attempts=2, initial_backoff_sec=0.05),
    )
    services.mlflow = sync
    sync.start()
    # A stage change whose registration never reached MLflow: MLflow cannot apply it.
    sync.outbox.put(
        "mlflow.stage_changed",
        {"model_id": "ghost", "version": "v1.0", "to_stage": "production", "reason": "promoted"},
    )
    registry.register_model("real", "v1.0")
    wait_for(lambda: services.store.outbox_counts().parked == 1, 15.0, 0.05)
    assert sync.drain(30)  # the registration behind it was not blocked
    dependency = mlflow_health(services)
    assert dependency.status is HealthStatus.DEGRADED and dependency.failed == 1
    assert "parked" in dependency.reasons[0] and "ghost:v1.0 has no MLflow version yet" in dependency.reasons[0]
    report = sync.sync_registry(direction="export", retry_failed=True, wait_sec=5)
    assert report.notes[0] == "1 parked changes offered again"
    wait_for(lambda: services.store.outbox_counts().parked == 1, 15.0, 0.05)  # still refused, still kept
    services.close()
