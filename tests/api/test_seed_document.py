"""Every Python snippet of the seed document runs here as it is written.

Only two changes are made to a snippet (see snippets.py): its import line names `nba_mcp_deploy`
instead of `mcp_server.model_*`, and each `...` is filled with real values. The names a snippet
uses without defining (`trained_model`, `manager`, `game_data`, ...) are filled with real objects:
models trained on the shipped RAPTOR data (matchups.py), managers built the documented way. MLflow
is a real server named by MLFLOW_TRACKING_URI, as the document's Configuration section sets it, so
`enable_mlflow=True` means what it says, and each test checks what reached MLflow.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import nba_mcp_deploy
from nba_mcp_deploy import ModelRegistry, ModelServingManager, ModelStage
from nba_mcp_deploy.access import Caller, Role, acting_as
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.api.shadow import ShadowPrediction
from nba_mcp_deploy.errors import ConflictError, PermissionDeniedError
from nba_mcp_deploy.logs import JsonLineFormatter
from nba_mcp_deploy.nba_games import GAME_FEATURES, GameModels
from nba_mcp_deploy.operations import process_operations
from tests.api.conftest import Mlflow, SavedDeployment, point_at
from tests.api.snippets import seed_snippets
from tests.conftest import REPO, subprocess_env
from tests.notify.test_webhook import Receiver

pytestmark = pytest.mark.slow

SNIPPETS = {snippet.title: snippet for snippet in seed_snippets()}
COVERED: set[str] = set()


def covers(title: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a test as the one running the snippet under `title`."""
    COVERED.add(title)
    return lambda test: test


def run_snippet(title: str, closing: list[ServicesOwner], fills: Sequence[str] = (), **names: Any) -> dict[str, Any]:
    """Run the snippet with `names` defined and `fills` in its `...`; its objects are closed after the test."""
    code = SNIPPETS[title].runnable(fills)
    namespace: dict[str, Any] = {"__name__": "seed_snippet", **names}
    # dont_inherit: the snippet runs under its own rules, not this module's `from __future__` imports
    exec(compile(code, f"<seed document: {title}>", "exec", dont_inherit=True), namespace)
    closing.extend(v for v in namespace.values() if isinstance(v, ServicesOwner) and v not in closing)
    return namespace


def mlflow_client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def runs_of(uri: str, experiment: str, where: str = "") -> list[Any]:
    client = mlflow_client(uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no MLflow experiment {experiment!r}"
    return list(client.search_runs([found.experiment_id], where))


def served_manager(closing: list[ServicesOwner], game_models: GameModels, **settings: Any) -> ModelServingManager:
    """A manager with `nba_model` v1.0 (the forest) deployed and active, as the patterns assume."""
    manager = ModelServingManager(**settings)
    closing.append(manager)
    manager.deploy_model("nba_model", "v1.0", model_instance=game_models.forest)
    return manager


def test_every_python_snippet_of_the_document_has_a_test() -> None:
    assert len(SNIPPETS) == 15
    assert set(SNIPPETS) == COVERED


# -- Quick Start ---------------------------------------------------------------------------------


@covers("Model Serving")
def test_model_serving(with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner], capsys) -> None:
    started_ms = int(time.time() * 1000)
    ns = run_snippet("Model Serving", closing, trained_model=game_models.forest)
    assert ns["success"]
    result = ns["result"]
    assert (result.model_id, result.version, len(result.predictions)) == ("nba_win_predictor", "v1.0", 1)
    assert result.predictions[0] in (0, 1) and abs(sum(result.probabilities[0]) - 1) < 1e-9
    assert capsys.readouterr().out.startswith("Prediction: PredictionResult(model_id='nba_win_predictor'")
    ns["manager"].close()  # waits for MLflow to receive the deployment
    # The document names its experiment, so other tests may log there too: this test's runs only.
    runs = runs_of(
        with_mlflow.uri, "nba_serving", f"tags.nba_kind = 'deployment' and attributes.start_time >= {started_ms}"
    )
    assert [(r.data.tags["model_id"], r.data.tags["version"]) for r in runs] == [("nba_win_predictor", "v1.0")]


@covers("A/B Testing")
def test_ab_testing(with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner]) -> None:
    manager = ModelServingManager(routing_seed=1)
    closing.append(manager)
    game_data = game_models.records(1)[0]
    run_snippet(
        "A/B Testing",
        closing,
        manager=manager,
        model_v1=game_models.forest,
        model_v2=game_models.logistic,
        game_data=game_data,
    )
    (model,) = manager.health_check("nba_win_predictor").models
    counts = {v.version: v.metrics.requests for v in model.versions}
    assert sum(counts.values()) == 100
    assert 55 <= counts["v1.0"] <= 85, counts  # 70% expected
    assert model.ab_test is not None and model.ab_test.weights == [0.7, 0.3]


@covers("Model Registry")
def test_model_registry(with_mlflow: Mlflow, clean_environment: Path, closing: list[ServicesOwner]) -> None:
    ns = run_snippet("Model Registry", closing)
    production = ns["prod_model"]
    assert (production.version, production.stage) == ("v1.0", ModelStage.PRODUCTION)
    assert (production.framework, production.algorithm) == ("sklearn", "randomforest")  # labels are kept in lower case
    assert dict(production.hyperparameters) == {"n_estimators": 100, "max_depth": 10}
    registry = ns["registry"]
    history = [(c.from_stage, c.to_stage) for c in registry.get_history("nba_win_predictor")]
    assert history == [
        (None, ModelStage.DEVELOPMENT),
        (ModelStage.DEVELOPMENT, ModelStage.STAGING),
        (ModelStage.STAGING, ModelStage.PRODUCTION),
    ]
    assert (clean_environment / "model_registry" / "registry.db").is_file()
    registry.close()
    client = mlflow_client(with_mlflow.uri)
    number = client.get_registered_model("nba_win_predictor").aliases["production"]
    tags = client.get_model_version("nba_win_predictor", number).tags
    assert (tags["nba_version"], tags["stage"], tags["algorithm"]) == ("v1.0", "production", "randomforest")


@covers("Model Monitoring")
def test_model_monitoring(with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner], capsys) -> None:
    reference = game_models.training[GAME_FEATURES]
    ns = run_snippet(
        "Model Monitoring",
        closing,
        fills=['*more["home_ppg"]', '*more["away_ppg"]', '*more["home_def_rating"]'],
        more={name: list(reference[name].iloc[3:]) for name in GAME_FEATURES},
        get_recent_game_features=lambda: game_models.holdout[GAME_FEATURES],
    )
    results = list(ns["drift_results"])
    assert [r.feature_name for r in results] == GAME_FEATURES
    assert all(isinstance(r.drift_score, float) and isinstance(r.is_drift, bool) for r in results)
    assert ns["reference_data"].shape == (len(reference), 3)
    metrics = ns["metrics"]
    assert (metrics.accuracy, metrics.error_rate, metrics.avg_latency_ms) == (1.0, 0.0, 45.2)
    assert "24h Performance: accuracy=1.00, error_rate=0.00%" in capsys.readouterr().out
    ns["monitor"].close()
    (run,) = runs_of(
        with_mlflow.uri, with_mlflow.experiment, "tags.model_id = 'nba_win_predictor' and tags.version = 'v1.0'"
    )
    assert run.data.metrics["performance.accuracy"] == 1.0
    assert "drift.features.ks.drift_share" in run.data.metrics


# -- Production Patterns ---------------------------------------------------------------------------


def version_tests(manager: ModelServingManager, game_models: GameModels) -> Callable[[str], SimpleNamespace]:
    """The document's `run_tests_on_version`: accuracy of a pinned version on 200 held-out games."""

    def run_tests_on_version(version: str) -> SimpleNamespace:
        records = game_models.records(200)
        result = manager.predict("nba_model", records, version=version)
        accuracy = float(np.mean(np.asarray(result.predictions) == game_models.holdout["home_win"][:200]))
        return SimpleNamespace(passed=accuracy >= 0.75, accuracy=accuracy)

    return run_tests_on_version


@covers("Blue-Green Deployment")
@pytest.mark.parametrize("candidate", ["logistic", "constant"])
def test_blue_green_deployment(
    with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner], candidate: str
) -> None:
    manager = served_manager(closing, game_models)
    ns = run_snippet(
        "Blue-Green Deployment",
        closing,
        manager=manager,
        new_model=getattr(game_models, candidate),
        run_tests_on_version=version_tests(manager, game_models),
    )
    deployment = manager.get_deployment("nba_model")
    versions = [v.version for v in deployment.versions]
    if candidate == "logistic":
        assert ns["test_results"].passed
        assert (deployment.active_version, versions) == ("v2.0", ["v1.0", "v2.0"])
    else:
        assert not ns["test_results"].passed  # a model that always says "home win"
        assert (deployment.active_version, versions) == ("v1.0", ["v1.0"])


class ServedHour:
    """The document's `time`: sleeping an hour serves an hour of traffic (400 held-out games)."""

    def __init__(self, manager: ModelServingManager, game_models: GameModels) -> None:
        self._manager = manager
        self._records = game_models.records(400)

    def sleep(self, seconds: float) -> None:
        assert seconds == 3600
        for record in self._records:
            self._manager.predict("nba_model", [record])


@covers("Canary Deployment")
def test_canary_deployment(with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner]) -> None:
    manager = served_manager(closing, game_models, routing_seed=3)
    manager.deploy_model("nba_model", "v2.0", model_instance=game_models.logistic, set_active=False)
    ns = run_snippet(
        "Canary Deployment",
        closing,
        manager=manager,
        monitor=manager.monitor("nba_model"),
        time=ServedHour(manager, game_models),
    )
    assert (ns["metrics"].requests, ns["metrics"].error_rate) == (400, 0.0)
    (model,) = manager.health_check("nba_model").models
    assert model.ab_test is not None and model.ab_test.weights == [0.7, 0.3]
    canary_requests = {v.version: v.metrics.requests for v in model.versions}["v2.0"]
    assert 5 <= canary_requests <= 40  # 5% of the hour's 400


class ComparisonLogger:
    """The document's `comparison_logger`: compares each shadow answer with the live one."""

    def __init__(self) -> None:
        self.compared: list[Any] = []

    def log(self, live: Any, shadow: ShadowPrediction) -> None:
        self.compared.append(shadow.compare_with(live))


@covers("Shadow Deployment")
def test_shadow_deployment(with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner]) -> None:
    manager = served_manager(closing, game_models)
    logger = ComparisonLogger()
    traffic = game_models.records(200)
    ns = run_snippet(
        "Shadow Deployment",
        closing,
        ModelServingManager=ModelServingManager,
        manager=manager,
        new_model=game_models.logistic,
        production_traffic=traffic,
        comparison_logger=logger,
    )
    shadow_manager = ns["shadow_manager"]
    assert shadow_manager.shadow_mode and isinstance(ns["shadow_pred"], ShadowPrediction)
    comparison = shadow_manager.shadow_comparison("nba_model_shadow")
    assert (comparison.compared_rows, comparison.errors) == (200, 0)
    assert comparison.agreement_rate is not None and 0.8 <= comparison.agreement_rate < 1.0
    assert shadow_manager.monitor("nba_model_shadow").core.logged == 200  # the shadow's answers are logged
    (live,) = manager.health_check("nba_model").models
    assert [v.metrics.requests for v in live.versions] == [200]


@covers("Circuit Breaker Pattern")
def test_circuit_breaker_pattern(
    with_mlflow: Mlflow, game_models: GameModels, saved_deployment: SavedDeployment, closing, monkeypatch
) -> None:
    """The document builds a new manager here and predicts with `nba_model` at once: the manager
    finds it where the deployment is saved (MODEL_REGISTRY_DIR), as a restarted server would."""
    point_at(saved_deployment, monkeypatch)
    ns = run_snippet(
        "Circuit Breaker Pattern",
        closing,
        ModelServingManager=ModelServingManager,
        input_data=game_models.records(1)[0],
        fallback_prediction=lambda record: pytest.fail("the breaker was closed: no fallback needed"),
    )
    assert ns["result"].version == "v1.0"
    assert ns["manager"].config.error_threshold == 0.1
    assert not ns["manager"].health_check("nba_model").circuit_breaker_open


@covers("Integration with Week 1")
def test_week_1_decorators(
    clean_environment: Path, game_models: GameModels, closing: list[ServicesOwner], monkeypatch, caplog
) -> None:
    receiver = Receiver()
    monkeypatch.setenv("NBA_MCP_ALERT_WEBHOOK_URL", receiver.url)
    manager = ModelServingManager()
    registry = ModelRegistry(mock_mode=True)
    closing.extend([manager, registry])
    registry.register_model("nba_model", "v1.0")
    ns = run_snippet(
        "Integration with Week 1",
        closing,
        fills=[
            "model_id, version, model_instance",
            "return manager.deploy_model(model_id=model_id, version=version, model_instance=model_instance)",
            "model_id, inputs",
            "return manager.predict(model_id, inputs)",
            "model_id, version, target_stage",
            "return registry.promote_model(model_id, version, target_stage)",
        ],
        manager=manager,
        registry=registry,
        **{name: getattr(nba_mcp_deploy, name) for name in ("handle_errors", "track_metric", "require_permission")},
        Permission=nba_mcp_deploy.Permission,
    )
    try:
        deploy_model, predict, promote_model = ns["deploy_model"], ns["predict"], ns["promote_model"]
        assert deploy_model("nba_model", "v1.0", game_models.forest)
        with caplog.at_level(logging.WARNING), pytest.raises(ConflictError):
            deploy_model("nba_model", "v1.0", game_models.forest)
        (line,) = [JsonLineFormatter().format(r) for r in caplog.records if r.getMessage() == "operation failed"]
        logged = json.loads(line)
        assert (logged["operation"], logged["error_type"], logged["model_id"]) == (
            "deploy_model",
            "ConflictError",
            "nba_model",
        )
        assert receiver.arrived.wait(10), "the alert webhook received nothing"
        alert = receiver.bodies[0]["alert"]
        assert (alert["kind"], alert["severity"], alert["model_id"], alert["version"]) == (
            "operation_error",
            "warning",
            "nba_model",
            "v1.0",
        )
        assert "deploy_model failed: ConflictError" in receiver.bodies[0]["text"]

        before = process_operations().snapshot().get("model_serving.predict")
        for _ in range(3):
            predict("nba_model", game_models.records(2))
        after = manager.health_check().operations["model_serving.predict"]
        assert after.count == (before.count if before else 0) + 3

        with acting_as(Caller("scout", Role.VIEWER)), pytest.raises(PermissionDeniedError, match="WRITE"):
            promote_model("nba_model", "v1.0", "staging")
        with acting_as(Caller("ops", Role.OPERATOR)):
            assert promote_model("nba_model", "v1.0", "staging").version.stage is ModelStage.STAGING
    finally:
        receiver.close()


# -- Integration with MLflow -----------------------------------------------------------------------


@covers("Model Registry Sync")
def test_model_registry_sync(with_mlflow: Mlflow, closing: list[ServicesOwner]) -> None:
    ns = run_snippet("Model Registry Sync", closing, ModelStage=ModelStage)
    registry = ns["registry"]
    assert registry.get_model("nba_model").stage is ModelStage.PRODUCTION
    registry.close()
    client = mlflow_client(with_mlflow.uri)
    number = client.get_registered_model("nba_model").aliases["production"]
    assert client.get_model_version("nba_model", number).tags["stage"] == "production"


@covers("Serving Metrics")
def test_serving_metrics(
    with_mlflow: Mlflow, game_models: GameModels, saved_deployment: SavedDeployment, closing, monkeypatch
) -> None:
    point_at(saved_deployment, monkeypatch)
    ns = run_snippet(
        "Serving Metrics",
        closing,
        fills=[
            'model_id="nba_model", version="v2.0", model_instance=trained_model, set_active=False',
            'model_id="nba_model", versions=["v1.0", "v2.0"], weights=[0.8, 0.2]',
        ],
        trained_model=game_models.logistic,
    )
    manager = ns["manager"]
    for record in game_models.records(50):
        manager.predict("nba_model", [record])
    manager.close()
    (ab_test,) = runs_of(with_mlflow.uri, with_mlflow.experiment, "tags.nba_kind = 'ab_test'")
    assert (ab_test.data.params["weight.v1.0"], ab_test.data.params["weight.v2.0"]) == ("0.8", "0.2")
    deployments = runs_of(with_mlflow.uri, with_mlflow.experiment, "tags.nba_kind = 'deployment'")
    served = {r.data.tags["version"]: r.data.metrics.get("serving.requests", 0) for r in deployments}
    assert served["v1.0"] + served["v2.0"] == 50


@covers("Monitoring Metrics")
def test_monitoring_metrics(
    with_mlflow: Mlflow, game_models: GameModels, closing: list[ServicesOwner], monkeypatch
) -> None:
    ns = run_snippet(
        "Monitoring Metrics",
        closing,
        fills=["current_data=get_recent_game_features(), reference_data=reference_games", "window_hours=24"],
        get_recent_game_features=lambda: game_models.holdout[GAME_FEATURES],
        reference_games=game_models.training[GAME_FEATURES],
    )
    assert [r.feature_name for r in ns["drift_results"]] == GAME_FEATURES
    assert ns["metrics"].requests == 0  # nothing was logged to this monitor
    ns["monitor"].close()
    (run,) = runs_of(with_mlflow.uri, with_mlflow.experiment, "tags.nba_kind = 'monitoring'")
    assert run.data.tags["model_id"] == "default"
    assert run.data.metrics["drift.features.ks.features_checked"] == 3  # the document's features_checked
    assert {f"drift.features.ks.score.{name}" for name in GAME_FEATURES} <= set(run.data.metrics)


# -- Testing, Configuration, Troubleshooting -------------------------------------------------------


@covers("Mock Mode")
def test_mock_mode(with_mlflow: Mlflow, clean_environment: Path, closing: list[ServicesOwner]) -> None:
    classes = {name: getattr(nba_mcp_deploy, name) for name in ("ModelServingManager", "ModelRegistry", "ModelMonitor")}
    ns = run_snippet("Mock Mode", closing, **classes)
    assert ns["manager"].services.mlflow is None and ns["monitor"].services.mlflow is None
    assert ns["registry"].services.mlflow is None and ns["registry"].registry_dir is None
    ns["registry"].register_model("nba_model", "v1.0")
    assert list(clean_environment.iterdir()) == []  # no registry file, nothing else


def test_mock_mode_needs_no_mlflow_at_all(clean_environment: Path) -> None:
    """In a fresh interpreter where `import mlflow` fails, the mock snippet still runs."""
    code = SNIPPETS["Mock Mode"].runnable([])
    script = (
        "import sys\n"
        "sys.modules['mlflow'] = None  # importing it now raises ImportError\n"
        "from nba_mcp_deploy import ModelServingManager, ModelRegistry, ModelMonitor\n"
        f"{code}\n"
        "registry.register_model('m', 'v1.0')\n"
        "print(registry.get_statistics()['total_models'], 'mlflow' in sys.modules and sys.modules['mlflow'])\n"
    )
    env = subprocess_env(MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=clean_environment, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "1 None"
    assert list(clean_environment.iterdir()) == []


@covers("Configuration Files")
def test_configuration_files(with_mlflow: Mlflow, clean_environment: Path, closing: list[ServicesOwner]) -> None:
    ns = run_snippet("Configuration Files", closing)
    seed_config = dataclasses.asdict(ns["DeploymentConfig"]())
    manager = ModelServingManager(**seed_config)  # every field of the document's config is a keyword here
    closing.append(manager)
    ours = dataclasses.asdict(manager.config)
    assert {k: ours[k] for k in seed_config if k != "registry_dir"} == {
        k: v for k, v in seed_config.items() if k != "registry_dir"
    }
    assert manager.config.registry_dir == clean_environment / "model_registry"


@covers("Quick Diagnostics")
def test_quick_diagnostics(
    clean_environment: Path, game_models: GameModels, closing: list[ServicesOwner], capsys
) -> None:
    """Without MLflow: its background threads may write to stdout while the snippet prints."""
    manager = served_manager(closing, game_models)
    registry = ModelRegistry(mock_mode=True)
    monitor = nba_mcp_deploy.ModelMonitor(model_id="nba_model", mock_mode=True)
    closing.extend([registry, monitor])
    registry.register_model("nba_model", "v1.0", stage=ModelStage.PRODUCTION)
    registry.register_model("nba_win_predictor", "v1.0")
    shifted = game_models.holdout[GAME_FEATURES] + 8.0  # a feed reporting every rating 8 points high
    monitor.detect_feature_drift(shifted, reference_data=game_models.training[GAME_FEATURES])
    run_snippet(
        "Quick Diagnostics",
        closing,
        manager=manager,
        registry=registry,
        monitor=monitor,
        AlertSeverity=nba_mcp_deploy.AlertSeverity,
    )
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["Status: healthy", "Circuit Breaker: False", "Total models: 2", "Production models: 1"]
    assert out[4].startswith("feature_drift: 3/3 features drifted (ks")


def test_the_snippets_were_not_changed_but_for_imports_and_placeholders() -> None:
    original = (REPO / "docs" / "seed" / "nba-mcp-model-deployment.md").read_text()
    for snippet in SNIPPETS.values():
        assert snippet.code in original
