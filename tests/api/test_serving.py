"""`ModelServingManager` (the Python API's): construction from keywords and the environment, where its
registry lives, the circuit breaker as the document's pattern reads it, shadow mode, permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nba_mcp_deploy import ModelServingManager
from nba_mcp_deploy.access import Caller, Role, acting_as
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.api.shadow import ShadowPrediction
from nba_mcp_deploy.errors import (
    CircuitOpenError,
    ConflictError,
    InvalidInputError,
    ModelExecutionError,
    NotFoundError,
    PermissionDeniedError,
)
from nba_mcp_deploy.nba_games import GAME_FEATURES, GameModels
from tests.api.conftest import SavedDeployment, point_at
from tests.api.guarded_model import GuardedModel


def manager_for(closing: list[ServicesOwner], **keywords: Any) -> ModelServingManager:
    manager = ModelServingManager(**keywords)
    closing.append(manager)
    return manager


def test_with_no_argument_it_works_in_memory_and_without_mlflow(clean_environment: Path, game_models, closing) -> None:
    manager = manager_for(closing)
    assert manager.in_memory and manager.services.mlflow is None
    assert manager.deploy_model(model_id="m", version="v1.0", model_instance=game_models.forest)
    assert manager.predict(model_id="m", inputs=game_models.records(3)).version == "v1.0"
    assert list(clean_environment.iterdir()) == []


def test_keywords_are_config_fields_and_win_over_the_environment(clean_environment: Path, closing, monkeypatch) -> None:
    monkeypatch.setenv("ERROR_RATE_THRESHOLD", "0.2")
    monkeypatch.setenv("NBA_MCP_ERROR_THRESHOLD", "0.3")
    manager = manager_for(closing, error_threshold=0.1, routing_seed=5, model_roots="models")
    config = manager.config
    assert (config.error_threshold, config.error_rate_threshold, config.routing_seed) == (0.1, 0.2, 5)
    assert config.model_roots == (clean_environment / "models",)
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'error_treshold'"):
        ModelServingManager(error_treshold=0.1)


def test_mlflow_without_a_uri_is_mlflows_default_and_mock_mode_turns_it_off(
    clean_environment: Path, game_models: GameModels, closing, monkeypatch
) -> None:
    from mlflow import MlflowClient

    embedded = manager_for(closing, enable_mlflow=True, mlflow_experiment="nba_serving")
    uri = f"sqlite:///{clean_environment / 'mlflow.db'}"  # the seed's Quick Start, nothing configured
    assert embedded.config.mlflow_tracking_uri == uri
    embedded.deploy_model("nba_win_predictor", "v1.0", model_instance=game_models.forest)
    embedded.close()
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("nba_serving")
    assert [r.info.run_name for r in client.search_runs([experiment.experiment_id])] == [
        "deploy nba_win_predictor v1.0"
    ]
    assert manager_for(closing).services.mlflow is None  # no URI and no enable_mlflow: off
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    mocked = manager_for(closing, enable_mlflow=True, mock_mode=True)
    assert mocked.services.mlflow is None and not mocked.config.enable_mlflow
    off = manager_for(closing, enable_mlflow=False)
    assert off.services.mlflow is None
    with pytest.raises(InvalidInputError, match="mock mode keeps the registry in memory"):
        ModelServingManager(mock_mode=True, registry_dir="registry")


def test_a_registry_directory_keeps_the_deployment_for_the_next_manager(
    saved_deployment: SavedDeployment, game_models: GameModels, closing, monkeypatch
) -> None:
    explicit = manager_for(closing, registry_dir=saved_deployment.registry_dir, model_roots=saved_deployment.model_root)
    assert explicit.get_deployment("nba_model").active_version == "v1.0"
    explicit.close()
    point_at(saved_deployment, monkeypatch)  # MODEL_REGISTRY_DIR: the seed's variable
    joined = manager_for(closing)
    assert not joined.in_memory
    assert joined.predict("nba_model", game_models.records(2)).version == "v1.0"


def test_the_documents_circuit_breaker_pattern(clean_environment: Path, game_models: GameModels, closing) -> None:
    manager = manager_for(closing, error_threshold=0.1, breaker_minimum_calls=5, breaker_window_size=10)
    manager.deploy_model("nba_model", "v1.0", model_instance=GuardedModel(game_models.forest))
    corrupted = {name: 9999.0 for name in GAME_FEATURES}
    fallbacks = 0
    for _ in range(8):
        try:
            manager.predict("nba_model", [corrupted])
        except (ModelExecutionError, CircuitOpenError):
            health = manager.health_check("nba_model")
            if health.circuit_breaker_open:
                fallbacks += 1
    assert fallbacks == 4  # five failures opened it; the next three were refused at once
    health = manager.health_check("nba_model")
    assert health.circuit_breaker_open and health.models[0].circuit_breaker_open
    manager.reset_circuit_breaker("nba_model", "v1.0")
    assert not manager.health_check("nba_model").circuit_breaker_open
    assert manager.predict("nba_model", game_models.records(1)).version == "v1.0"


def test_retire_model_unloads_a_version_no_traffic_depends_on(clean_environment: Path, game_models, closing) -> None:
    manager = manager_for(closing)
    manager.deploy_model("m", "v1.0", model_instance=game_models.forest)
    manager.deploy_model("m", "v2.0", model_instance=game_models.logistic, set_active=False)
    with pytest.raises(ConflictError, match="active version"):
        manager.retire_model("m", "v1.0")
    manager.retire_model("m", "v2.0")
    assert [v.version for v in manager.get_deployment("m").versions] == ["v1.0"]


def test_the_manager_monitor_sees_every_answer(clean_environment: Path, game_models: GameModels, closing) -> None:
    manager = manager_for(closing)
    manager.deploy_model("m", "v1.0", model_instance=game_models.forest)
    result = manager.predict("m", game_models.records(40))
    monitor = manager.monitor("m")
    outcomes = dict(zip(result.prediction_ids, game_models.holdout["home_win"][:40].astype(float), strict=True))
    assert monitor.log_actuals(outcomes).matched == 40
    performance = monitor.calculate_performance(window_hours=1)
    assert (performance.count, performance.with_actuals, performance.error_rate) == (40, 40, 0.0)
    assert performance.accuracy is not None and performance.accuracy > 0.7
    monitor.close()  # a manager's monitor closes nothing of the manager's
    assert manager.predict("m", game_models.records(1)).version == "v1.0"


def test_shadow_mode_never_raises_for_its_model_and_counts_the_failure(
    clean_environment: Path, game_models: GameModels, closing
) -> None:
    live = manager_for(closing)
    live.deploy_model("m", "v1.0", model_instance=game_models.forest)
    shadow = manager_for(closing, shadow_mode=True)
    shadow.deploy_model("m_shadow", "v2.0", model_instance=GuardedModel(game_models.logistic))
    good, bad = game_models.records(1), [{name: 9999.0 for name in GAME_FEATURES}]
    answer = shadow.predict("m_shadow", good)
    assert isinstance(answer, ShadowPrediction) and answer.error is None and answer.version == "v2.0"
    failed = shadow.predict("m_shadow", bad)
    assert failed.result is None and failed.error is not None and "implausible rating" in failed.error
    answer.compare_with(live.predict("m", good))
    snapshot = failed.compare_with(live.predict("m", good))
    assert (snapshot.mirrored_requests, snapshot.errors, snapshot.compared_rows) == (2, 1, 1)
    assert shadow.shadow_comparison("m_shadow") == snapshot
    versions = shadow.health_check("m_shadow").models[0].versions
    assert (versions[0].metrics.requests, versions[0].metrics.errors) == (2, 1)
    with pytest.raises(NotFoundError, match="'unknown' is not deployed"):
        shadow.predict("unknown", good)  # a caller's mistake is still an error


def test_writes_check_the_callers_role_as_the_tools_do(clean_environment: Path, game_models, closing) -> None:
    manager = manager_for(closing)
    viewer = Caller("scout", Role.VIEWER)
    with acting_as(viewer), pytest.raises(PermissionDeniedError, match="deploy_model needs the WRITE permission"):
        manager.deploy_model("m", "v1.0", model_instance=game_models.forest)
    with acting_as(Caller("ops", Role.OPERATOR)):
        manager.deploy_model("m", "v1.0", model_instance=game_models.forest)
        manager.deploy_model("m", "v2.0", model_instance=game_models.logistic, set_active=False)
        with pytest.raises(PermissionDeniedError, match="retire_model needs the ADMIN permission"):
            manager.retire_model("m", "v2.0")
    with acting_as(viewer):
        assert manager.predict("m", game_models.records(1)).version == "v1.0"  # reading needs READ only


def test_the_managers_registry_drives_what_it_serves(saved_deployment: SavedDeployment, game_models, closing) -> None:
    manager = manager_for(closing, registry_dir=saved_deployment.registry_dir, model_roots=saved_deployment.model_root)
    registry = manager.registry
    registry.register_model("nba_model", "v1.0", stage="production", model_uri=str(saved_deployment.model_file))
    registry.register_model("nba_model", "v2.0", model_uri=str(saved_deployment.model_file))
    registry.promote_model("nba_model", "v2.0", "production")  # deployed from its model_uri, then activated
    assert manager.get_deployment("nba_model").active_version == "v2.0"
    registry.rollback_model("nba_model")
    assert manager.get_deployment("nba_model").active_version == "v1.0"
    registry.close()  # the manager's registry closes nothing of the manager's
    assert manager.predict("nba_model", game_models.records(1)).version == "v1.0"
