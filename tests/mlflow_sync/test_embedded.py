"""The embedded default: `MLFLOW_TRACKING_URI=sqlite:///<file>`, no server. Everything mirrors into
the file (artifacts beside it, not into the working directory) and deploys back from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.registry import Stage
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.mlflow_sync.conftest import client_of, mirrored, sync_of

pytestmark = pytest.mark.slow

M = "next_season"


def test_the_registry_runs_and_metrics_mirror_into_a_local_database(
    config: DeploymentConfig, nba: NbaModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'tracking' / 'mlflow.db'}"
    (tmp_path / "tracking").mkdir()
    services = build_services(mirrored(config, uri, "embedded"))
    registry, manager = services.registry, services.manager
    registry.register_model(M, "v1.0", stage=Stage.STAGING, metrics={"accuracy": 0.7}, model_uri=str(nba.skops_file))
    registry.promote_model(M, "v1.0", Stage.PRODUCTION)  # deploys it (auto-deploy on promotion)
    for i in range(12):
        manager.predict(M, nba.records(1, start=i))
    assert sync_of(services).drain(120)

    client = client_of(uri)
    (mv,) = client.search_model_versions(f"name = '{M}'")
    assert (mv.tags["nba_version"], mv.tags["stage"]) == ("v1.0", "production")
    assert dict(client.get_registered_model(M).aliases) == {"production": mv.version}
    assert client.get_run(mv.run_id).data.metrics == {"accuracy": 0.7}
    experiment = client.get_experiment_by_name("embedded")
    assert experiment.artifact_location == (tmp_path / "tracking" / "mlartifacts").as_uri()
    (deployment,) = client.search_runs([experiment.experiment_id], "tags.nba_kind = 'deployment'")
    assert deployment.data.metrics["serving.requests"] == 12
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()

    manager.deploy_model(M, "v1.1", model_uri=f"models:/{M}@production", set_active=False)
    served = manager.predict(M, nba.records(5), version="v1.1")
    expected = nba.trained.boosting.predict_proba(nba.trained.holdout[FEATURES].iloc[:5])
    np.testing.assert_allclose(served.probabilities, expected)
    services.close()
