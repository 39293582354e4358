"""`ModelVersionManager`: promotion behind metric gates, rollback, comparison, mock mode, MLflow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from nba_mcp_deploy import MetricGate, ModelRegistry, ModelStage, ModelVersionManager
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.errors import ConflictError
from tests.api.conftest import Mlflow


@pytest.fixture
def versions(clean_environment: Path) -> ModelVersionManager:
    manager = ModelVersionManager(mock_mode=True)
    yield manager
    manager.close()


def test_promotion_waits_for_the_gates_and_rollback_walks_back(versions: ModelVersionManager) -> None:
    versions.create_version("m", "v1.0", stage=ModelStage.STAGING, metrics={"accuracy": 0.83, "log_loss": 0.40})
    versions.promote_to_production("m", "v1.0", gates=["accuracy"])  # nothing in production yet: passes
    versions.create_version("m", "v2.0", stage=ModelStage.STAGING, metrics={"accuracy": 0.80, "log_loss": 0.38})
    gates = [MetricGate("accuracy", tolerance=0.01), MetricGate("log_loss", higher_is_better=False)]
    checks = versions.check_promotion("m", "v2.0", gates)
    assert [c.passed for c in checks] == [False, True]
    with pytest.raises(ConflictError, match=r"accuracy 0\.8 is worse by 0\.03 than production m:v1\.0"):
        versions.promote_to_production("m", "v2.0", gates=gates)
    versions.create_version("m", "v3.0", stage=ModelStage.STAGING, metrics={"accuracy": 0.84, "log_loss": 0.37})
    promoted = versions.promote_to_production("m", "v3.0", gates=gates, note="better on both")
    assert promoted.result.version.stage is ModelStage.PRODUCTION and all(c.passed for c in promoted.checks)
    assert versions.rollback("m").version.version == "v1.0"
    assert versions.get_production_version("m").version == "v1.0"
    assert [(c.version, c.to_stage) for c in versions.history("m")][-2:] == [
        ("v3.0", ModelStage.ARCHIVED),
        ("v1.0", ModelStage.PRODUCTION),
    ]


def test_comparison_names_the_metric_differences(versions: ModelVersionManager) -> None:
    versions.create_version("m", "v1.0", metrics={"accuracy": 0.80}, hyperparameters={"max_depth": 10})
    versions.create_version("m", "v2.0", metrics={"accuracy": 0.84}, hyperparameters={"max_depth": 6}, parent="v1.0")
    compared = versions.compare_versions("m", "v1.0", "v2.0").comparison
    (accuracy,) = compared.metrics
    assert (accuracy.name, round(accuracy.absolute or 0, 6)) == ("accuracy", 0.04)
    assert [(d.name, d.a, d.b) for d in compared.hyperparameters] == [("max_depth", 10, 6)]
    assert compared.relation.kind.value == "ancestor"  # v1.0 is an ancestor of v2.0


def test_it_can_work_on_a_registry_it_was_given(clean_environment: Path) -> None:
    registry = ModelRegistry(mock_mode=True)
    versions = ModelVersionManager(registry=registry)
    versions.create_version("m", "v1.0")
    assert registry.get_model("m").version == "v1.0" and versions.mock_mode
    versions.close()  # not its registry: it stays open
    assert registry.list_versions("m")[0].version == "v1.0"
    registry.close()


def test_with_mlflow_a_version_carries_its_training_runs_metrics(
    with_mlflow: Mlflow, closing: list[ServicesOwner]
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=with_mlflow.uri)
    experiment = client.create_experiment(f"{with_mlflow.experiment}-training")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "accuracy", 0.84)
    client.log_param(run.info.run_id, "n_estimators", "100")
    client.set_terminated(run.info.run_id)
    versions = ModelVersionManager()  # MLFLOW_TRACKING_URI is set: MLflow is on
    closing.append(versions.registry)
    assert versions.registry.services.mlflow is not None
    created = versions.create_version("m", "v1.0", run_id=run.info.run_id, metrics={"f1": 0.8})
    assert dict(created.metrics) == {"accuracy": 0.84, "f1": 0.8}
    assert versions.metrics_of("m", "v1.0") == {"accuracy": 0.84, "f1": 0.8}
