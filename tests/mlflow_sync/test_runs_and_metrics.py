"""Deployments, A/B tests and shadows as runs of the configured experiment; serving metrics,
drift checks and performance as timestamped metrics of the deployment runs — read back from a
real MLflow server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.mlflow_sync.flusher import MetricsFlusher
from nba_mcp_deploy.mlflow_sync.mirrors import Outbox
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.services import Services, build_services
from tests.conftest import NbaModels
from tests.mlflow_sync.conftest import sync_of

pytestmark = pytest.mark.slow


def runs_of(client: Any, experiment: str, **tags: str) -> list[Any]:
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    condition = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    return list(client.search_runs([experiment_id], condition, order_by=["attributes.start_time ASC"]))


def test_control_changes_are_runs_and_serving_is_measured_in_them(
    services: Services, client: Any, model_id: str, mlflow_config: DeploymentConfig, nba: NbaModels
) -> None:
    manager, experiment = services.manager, mlflow_config.mlflow_experiment_name
    started = time.time()
    manager.deploy_model(model_id, "v1.0", model_uri=str(nba.skops_file))
    manager.deploy_model(model_id, "v2.0", model_uri=nba.mlflow_dir.name, set_active=False)
    manager.setup_ab_test(model_id, ["v1.0", "v2.0"], [0.8, 0.2], sticky=True)
    manager.clear_ab_test(model_id)
    manager.setup_shadow(model_id, "v2.0", 0.5)
    served = [manager.predict(model_id, nba.records(1, start=i)).request_id for i in range(40)]
    monitor = services.monitoring.monitor(model_id)
    monitor.set_reference_data(nba.trained.holdout[FEATURES])
    drift = monitor.detect_feature_drift()  # against the 40 served inputs, logged to v1.0's run
    monitor.log_actuals(dict.fromkeys(served[:10], 1))
    performance = monitor.calculate_performance(window_hours=1)
    assert sync_of(services).drain(60)

    first, second = runs_of(client, experiment, nba_kind="deployment", model_id=model_id)
    assert (first.data.tags["version"], second.data.tags["version"]) == ("v1.0", "v2.0")
    assert first.data.params["model_uri"] == str(nba.skops_file)
    assert first.data.params["error_threshold"] == str(mlflow_config.error_threshold)
    assert first.data.params["breaker_window_size"] == str(mlflow_config.breaker_window_size)
    assert (first.data.tags["active"], second.data.tags["active"]) == ("true", "false")
    assert first.info.run_name == f"deploy {model_id} v1.0"

    requests = client.get_metric_history(first.info.run_id, "serving.requests")
    assert requests[-1].value == 40
    assert started * 1000 <= requests[-1].timestamp <= time.time() * 1000
    metrics = first.data.metrics
    assert metrics["serving.error_rate"] == 0
    assert (
        0 < metrics["serving.latency_p50_ms"] <= metrics["serving.latency_p95_ms"] <= metrics["serving.latency_p99_ms"]
    )
    assert "serving.requests" not in second.data.metrics  # v2.0 never served live traffic

    assert metrics["drift.features.ks.features_checked"] == len(FEATURES)
    assert metrics["drift.features.ks.features_drifted"] == len(drift.drifted_features)
    assert metrics["drift.features.ks.drift_share"] == pytest.approx(drift.drifted_share)
    assert metrics["drift.features.ks.score.mp"] == pytest.approx(
        next(r.score for r in drift.results if r.feature == "mp")
    )
    assert metrics["performance.with_actuals"] == performance.with_actuals == 10
    assert metrics["performance.requests"] == 40

    (ab,) = runs_of(client, experiment, nba_kind="ab_test", model_id=model_id)
    assert ab.data.params["versions"] == "v1.0,v2.0"
    assert (ab.data.params["weight.v1.0"], ab.data.params["weight.v2.0"], ab.data.params["sticky"]) == (
        "0.8",
        "0.2",
        "True",
    )
    assert ab.info.status == "FINISHED"
    (shadow,) = runs_of(client, experiment, nba_kind="shadow", model_id=model_id)
    assert (shadow.data.params["shadow_version"], shadow.data.params["fraction"]) == ("v2.0", "0.5")
    assert shadow.info.status == "RUNNING"

    manager.set_active_version(model_id, "v2.0")  # ends the shadow of v2.0 implicitly
    manager.undeploy(model_id, "v1.0")
    assert sync_of(services).drain(60)
    (shadow,) = runs_of(client, experiment, nba_kind="shadow", model_id=model_id)
    assert shadow.info.status == "FINISHED"
    first, second = runs_of(client, experiment, nba_kind="deployment", model_id=model_id)
    assert (first.info.status, second.info.status) == ("FINISHED", "RUNNING")
    assert second.data.tags["active"] == "true"


def test_the_flusher_snapshots_on_its_own_thread_and_only_what_served(config: DeploymentConfig, nba: NbaModels):
    services = build_services(config)  # MLflow off: the flusher is tested on its own, against the store's outbox
    manager, store = services.manager, services.registry.store
    manager.deploy_model("next_season", "v1.0", model_uri=str(nba.skops_file))
    manager.deploy_model("next_season", "v2.0", model_uri=str(nba.skops_file), set_active=False)
    flusher = MetricsFlusher(manager, Outbox(store, services.clock, lambda: None), interval_sec=0.05)
    flusher.start()
    for i in range(5):
        manager.predict("next_season", nba.records(1, start=i))
    deadline = time.monotonic() + 10
    while not store.outbox_pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # more rounds: nothing new served, nothing more queued
    flusher.close()
    (entry,) = store.outbox_pending()
    assert entry.topic == events.SERVING_METRICS
    (served,) = entry.payload["entries"]
    assert (served["model_id"], served["version"]) == ("next_season", "v1.0")
    assert served["metrics"]["serving.requests"] == 5
    services.close()
