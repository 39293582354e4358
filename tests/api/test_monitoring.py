"""`ModelMonitor` (the Python API's): construction, the seed's drift methods and field names,
version scoping, alerts, and the thresholds from keywords or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from nba_mcp_deploy import AlertSeverity, DriftMethod, ModelMonitor, ModelServingManager
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.api.monitoring import DEFAULT_MODEL_ID
from nba_mcp_deploy.monitoring.alerts import AlertKind
from nba_mcp_deploy.nba_games import GAME_FEATURES, GameModels


def monitor_for(closing: list[ServicesOwner], *args: object, **keywords: object) -> ModelMonitor:
    monitor = ModelMonitor(*args, **keywords)  # type: ignore[arg-type]
    closing.append(monitor)
    return monitor


def test_with_nothing_but_mock_mode_it_watches_the_default_model(clean_environment: Path, closing) -> None:
    monitor = monitor_for(closing, mock_mode=True)
    assert (monitor.model_id, monitor.model_version, monitor.services.mlflow) == (DEFAULT_MODEL_ID, None, None)
    monitor.log_prediction(prediction_id="p1", features={"home_ppg": 112.5}, prediction=0.68, actual=1.0)
    assert monitor.calculate_performance(window_hours=1).accuracy == 1.0
    assert list(clean_environment.iterdir()) == []


@pytest.mark.parametrize("method", [DriftMethod.KS_TEST, DriftMethod.PSI, DriftMethod.KL_DIVERGENCE])
def test_each_of_the_seeds_drift_methods_finds_a_shifted_feed(
    clean_environment: Path, game_models: GameModels, closing, method: DriftMethod
) -> None:
    monitor = monitor_for(closing, model_id="nba_model", mock_mode=True)
    monitor.set_reference_data(features=game_models.training[GAME_FEATURES])
    shifted = game_models.training[GAME_FEATURES].assign(home_ppg=lambda f: f["home_ppg"] + 5.0)
    results = {r.feature_name: r for r in monitor.detect_feature_drift(current_data=shifted, method=method)}
    assert results["home_ppg"].is_drift and results["home_ppg"].drift_score is not None
    assert not results["away_ppg"].is_drift


def test_drift_threshold_is_the_distance_methods_cut_off(clean_environment: Path, game_models, closing, monkeypatch):
    reference, current = game_models.training[GAME_FEATURES], game_models.holdout[GAME_FEATURES]
    strict = monitor_for(closing, mock_mode=True, drift_threshold=0.0001)
    assert strict.detect_feature_drift(current, DriftMethod.PSI, reference_data=reference).dataset_drift
    monkeypatch.setenv("DRIFT_THRESHOLD", "0.5")  # the seed's variable, when no keyword is given
    lenient = monitor_for(closing, mock_mode=True)
    assert lenient.config.drift_threshold == 0.5
    assert not lenient.detect_feature_drift(current, DriftMethod.PSI, reference_data=reference).drifted_features


def test_a_version_scoped_monitor_reports_that_versions_traffic(
    clean_environment: Path, game_models: GameModels, closing
) -> None:
    manager = ModelServingManager(routing_seed=2)
    closing.append(manager)
    manager.deploy_model("m", "v1.0", model_instance=game_models.forest)
    manager.deploy_model("m", "v2.0", model_instance=game_models.logistic, set_active=False)
    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.5, 0.5])
    for record in game_models.records(100):
        manager.predict("m", [record])
    counts = {v.version: v.metrics.requests for v in manager.health_check("m").models[0].versions}
    assert manager.monitor("m").calculate_performance(window_hours=1).requests == 100
    for version in ("v1.0", "v2.0"):
        assert manager.monitor("m", version).calculate_performance(window_hours=1).requests == counts[version]


def test_critical_alerts_carry_the_seeds_fields(clean_environment: Path, game_models: GameModels, closing) -> None:
    monitor = monitor_for(closing, model_id="nba_model", model_version="v1.0", mock_mode=True)
    monitor.set_reference_data(game_models.training[GAME_FEATURES])
    monitor.detect_feature_drift(game_models.holdout[GAME_FEATURES] + 8.0)
    (alert,) = monitor.get_alerts(severity=AlertSeverity.CRITICAL)
    assert (alert.alert_type, alert.version) == (AlertKind.FEATURE_DRIFT, "v1.0")
    assert alert.message.startswith("3/3 features drifted")
