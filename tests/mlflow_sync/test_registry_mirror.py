"""The registry mirrored to a real MLflow server, read back with MlflowClient: model versions,
tags, registration runs, aliases for stages (never MLflow's deprecated stages)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.registry import MetricGate, Stage, VersionWorkflows
from nba_mcp_deploy.services import Services
from tests.conftest import NbaModels
from tests.mlflow_sync.conftest import LoggedModel, log_model, sync_of
from tests.mlflow_sync.server import MlflowServer

pytestmark = pytest.mark.slow


def versions_of(client: Any, name: str) -> dict[str, Any]:
    """MLflow's versions of `name` by the registry version they mirror."""
    return {mv.tags["nba_version"]: mv for mv in client.search_model_versions(f"name = '{name}'")}


def aliases_of(client: Any, name: str) -> dict[str, str]:
    return {alias: str(number) for alias, number in client.get_registered_model(name).aliases.items()}


def test_a_registered_version_becomes_a_model_version_with_its_tags_run_and_file(
    services: Services, client: Any, model_id: str, nba: NbaModels
) -> None:
    services.registry.register_model(
        model_id,
        "v1.0",
        stage=Stage.STAGING,
        framework="sklearn",
        algorithm="gradient boosting",
        metrics={"accuracy": 0.71, "auc": 0.77},
        hyperparameters={"n_estimators": 150, "max_depth": 3, "features": FEATURES[:2]},
        tags={"season": "2021"},
        description="Gradient boosting on RAPTOR",
        model_uri=str(nba.skops_file),
        actor="ana",
    )
    assert sync_of(services).drain(60)
    (mv,) = client.search_model_versions(f"name = '{model_id}'")
    assert mv.description == "Gradient boosting on RAPTOR"
    assert {k: v for k, v in mv.tags.items() if k != "stage_reason"} == {
        "framework": "sklearn",
        "algorithm": "gradient boosting",
        "stage": "staging",
        "nba_version": "v1.0",
        "model_uri": str(nba.skops_file),
        "registered_by": "ana",
        "season": "2021",
    }
    assert aliases_of(client, model_id) == {"staging": str(mv.version)}
    assert mv.source == f"runs:/{mv.run_id}/model/gb.skops"
    run = client.get_run(mv.run_id)
    assert run.data.metrics == {"accuracy": 0.71, "auc": 0.77}
    assert run.data.params == {"n_estimators": "150", "max_depth": "3", "features": '["poss", "mp"]'}
    assert run.data.tags["nba_kind"] == "registration"
    # The uploaded file makes the MLflow version servable anywhere: deploy it back from MLflow.
    services.manager.deploy_model(model_id, "v1.0", model_uri=f"models:/{model_id}@staging")
    served = services.manager.predict(model_id, nba.records(20))
    expected = nba.trained.boosting.predict_proba(nba.trained.holdout[FEATURES].iloc[:20])
    np.testing.assert_allclose(served.probabilities, expected)


def test_stages_are_aliases_and_tags_through_promotion_rollback_retirement_and_deletion(
    services: Services, client: Any, model_id: str
) -> None:
    registry, sync = services.registry, sync_of(services)
    registry.register_model(model_id, "v1.0", stage=Stage.STAGING)
    registry.register_model(model_id, "v2.0")
    registry.promote_model(model_id, "v1.0", Stage.PRODUCTION)
    assert sync.drain(60)
    mirror = versions_of(client, model_id)
    one, two = str(mirror["v1.0"].version), str(mirror["v2.0"].version)
    assert aliases_of(client, model_id) == {"production": one}  # staging alias left with v1.0
    assert (mirror["v1.0"].tags["stage"], mirror["v2.0"].tags["stage"]) == ("production", "development")

    registry.promote_model(model_id, "v2.0", Stage.STAGING)
    assert sync.drain(60)
    assert aliases_of(client, model_id) == {"production": one, "staging": two}

    registry.promote_model(model_id, "v2.0", Stage.PRODUCTION)  # v1.0 is archived (superseded)
    assert sync.drain(60)
    mirror = versions_of(client, model_id)
    assert aliases_of(client, model_id) == {"production": two}
    assert (mirror["v1.0"].tags["stage"], mirror["v2.0"].tags["stage"]) == ("archived", "production")
    assert mirror["v1.0"].tags["stage_reason"] == "superseded"

    registry.rollback_model(model_id)
    assert sync.drain(60)
    mirror = versions_of(client, model_id)
    assert aliases_of(client, model_id) == {"production": one}
    assert (mirror["v1.0"].tags["stage"], mirror["v2.0"].tags["stage"]) == ("production", "archived")
    assert (mirror["v1.0"].tags["stage_reason"], mirror["v2.0"].tags["stage_reason"]) == ("restored", "rolled_back")

    registry.retire_model(model_id, "v1.0", force=True)  # archiving removes the alias
    registry.delete_model(model_id, "v2.0")
    assert sync.drain(60)
    mirror = versions_of(client, model_id)
    assert aliases_of(client, model_id) == {}
    assert (mirror["v1.0"].tags["stage"], mirror["v2.0"].tags["stage"]) == ("archived", "deleted")
    assert {mv.current_stage for mv in mirror.values()} == {"None"}  # MLflow's deprecated stages untouched


def test_a_version_registered_from_a_run_copies_it_and_links_to_it(
    services: Services, client: Any, model_id: str, mlflow_server: MlflowServer, nba: NbaModels
) -> None:
    trained = log_model(mlflow_server.uri, f"{model_id}_training", nba, alias=None)
    registry = services.registry
    version = registry.register_model(
        model_id, "v1.0", stage=Stage.STAGING, run_id=trained.run_id, model_uri=f"runs:/{trained.run_id}/model"
    )
    assert version.metrics == {"accuracy": trained.accuracy}
    assert version.hyperparameters == {"C": 1.0, "max_iter": 1000, "penalty": "l2"}
    assert version.tags == {"source_run_id": trained.run_id}
    assert sync_of(services).drain(60)
    mv = versions_of(client, model_id)["v1.0"]
    assert (mv.run_id, mv.source) == (trained.run_id, f"runs:/{trained.run_id}/model")
    # The comparison and the promotion checks read the runs behind each version.
    registry.register_model(model_id, "v1.1", stage=Stage.STAGING, metrics={"accuracy": 0.5}, hyperparameters={"C": 5})
    assert sync_of(services).drain(60)
    compared = VersionWorkflows(registry).compare_versions(model_id, "v1.0", "v1.1")
    assert compared.run_a is not None and compared.run_a.run_id == trained.run_id
    assert compared.run_b is not None and compared.run_b.params == {"C": "5"}  # its registration run
    assert {d.name: (d.a, d.b) for d in compared.run_params}["C"] == (1.0, 5)
    workflows = VersionWorkflows(registry)
    workflows.promote_with_checks(model_id, "v1.0", [MetricGate("accuracy")])
    with pytest.raises(ConflictError, match=r"accuracy 0\.5 is worse by"):
        workflows.promote_with_checks(model_id, "v1.1", [MetricGate("accuracy", tolerance=0.05)])


def test_a_version_deployed_from_mlflow_links_to_the_version_it_names(
    services: Services, client: Any, logged_model: LoggedModel, model_id: str
) -> None:
    uri = f"models:/{logged_model.name}/{logged_model.version}"
    services.registry.register_model(model_id, "v1.0", model_uri=uri)
    assert sync_of(services).drain(60)
    mv = versions_of(client, model_id)["v1.0"]
    assert (mv.source, mv.run_id) == (uri, logged_model.run_id)
