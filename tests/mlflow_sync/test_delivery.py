"""Delivery is at least once (a crash between delivering and acknowledging delivers again), so
delivering the same entries twice must leave MLflow as delivering them once."""

from __future__ import annotations

from typing import Any

import pytest

from nba_mcp_deploy.errors import RemoteError
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.mlflow_sync.delivery import Delivery
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.registry.outbox import OutboxEntry
from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange
from nba_mcp_deploy.registry.stages import Stage
from tests.conftest import NbaModels
from tests.mlflow_sync.server import MlflowServer

pytestmark = pytest.mark.slow

T0 = 1_700_000_000.0


def entries(model_id: str, nba: NbaModels) -> list[OutboxEntry]:
    version = ModelVersion(
        model_id,
        "v1.0",
        Stage.STAGING,
        "sklearn",
        "gradient boosting",
        metrics={"accuracy": 0.7},
        hyperparameters={"max_depth": 3},
        model_uri=str(nba.skops_file),
        registered_at=T0,
        stage_changed_at=T0,
    )
    registered = StageChange(model_id, "v1.0", None, Stage.STAGING, T0, "ana", ChangeReason.REGISTERED, seq=1)
    promoted = StageChange(model_id, "v1.0", Stage.STAGING, Stage.PRODUCTION, T0 + 1, "ana", ChangeReason.PROMOTED)
    routing = {
        "versions": [{"version": "v1.0", "model_uri": str(nba.skops_file), "deployed_at": T0 + 2}],
        "active": "v1.0",
        "split": None,
        "shadow": None,
    }
    control = {
        "model_id": model_id,
        "kind": "deployed",
        "version": "v1.0",
        "at": T0 + 2,
        "routing": routing,
        "settings": {"error_threshold": "0.1"},
    }
    metrics = {"at": T0 + 3, "entries": [{"model_id": model_id, "version": "v1.0", "metrics": {"serving.requests": 5}}]}
    payloads = [
        (events.REGISTERED, events.registered(version, registered)),
        (events.STAGE_CHANGED, events.stage_changed(promoted)),
        (events.CONTROL, control),
        (events.SERVING_METRICS, metrics),
    ]
    return [OutboxEntry(i, topic, payload, T0) for i, (topic, payload) in enumerate(payloads, 1)]


def test_delivering_everything_twice_changes_nothing_the_second_time(
    mlflow_server: MlflowServer, client: Any, model_id: str, nba: NbaModels
) -> None:
    gateway = MlflowGateway(mlflow_server.uri, experiment_name=f"twice-{model_id}")
    deliver = Delivery(gateway, model_roots=(nba.root,), registry=True, runs=True)
    for entry in entries(model_id, nba) * 2:
        deliver(entry)
    again = Delivery(gateway, model_roots=(nba.root,), registry=True, runs=True)  # a restarted relay
    for entry in entries(model_id, nba):
        again(entry)

    (mv,) = client.search_model_versions(f"name = '{model_id}'")
    assert dict(client.get_registered_model(model_id).aliases) == {"production": mv.version}
    experiment = client.get_experiment_by_name(f"twice-{model_id}").experiment_id
    runs = client.search_runs([experiment])
    assert sorted(r.data.tags["nba_kind"] for r in runs) == ["deployment", "registration"]
    deployment = next(r for r in runs if r.data.tags["nba_kind"] == "deployment")
    history = client.get_metric_history(deployment.info.run_id, "serving.requests")
    assert [(m.value, m.timestamp) for m in history] == [(5, int((T0 + 3) * 1000))]
    registration = next(r for r in runs if r.data.tags["nba_kind"] == "registration")
    assert client.get_metric_history(registration.info.run_id, "accuracy")[0].value == 0.7
    assert len(client.get_metric_history(registration.info.run_id, "accuracy")) == 1
    assert [a.path for a in client.list_artifacts(registration.info.run_id, "model")] == ["model/gb.skops"]


def test_an_entry_of_an_unknown_topic_is_refused_not_dropped(mlflow_server: MlflowServer, nba: NbaModels) -> None:
    deliver = Delivery(
        MlflowGateway(mlflow_server.uri, experiment_name="x"), model_roots=(nba.root,), registry=True, runs=True
    )
    with pytest.raises(RemoteError, match=r"unknown outbox topic 'mlflow\.future'"):
        deliver(OutboxEntry(1, "mlflow.future", {}, T0))
    registry_off = Delivery(
        MlflowGateway(mlflow_server.uri, experiment_name="x"), model_roots=(nba.root,), registry=False, runs=True
    )
    registry_off(OutboxEntry(2, events.REGISTERED, {}, T0))  # known but not mirrored here: acknowledged as done
