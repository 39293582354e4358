"""Deploying `models:/name@alias`, `models:/name/N` and `runs:/id/model` from a real MLflow server,
resolved through the configured server (never the process-wide MLflow URI), and failing fast
and clearly when the server does not answer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ModelLoadError, NotFoundError, UnavailableError
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.mlflow_sync.conftest import LoggedModel
from tests.mlflow_sync.server import MlflowServer, free_port

pytestmark = pytest.mark.slow

MODEL = "next_season"


@pytest.fixture
def manager(config: DeploymentConfig, mlflow_server: MlflowServer) -> Any:
    """Serving that resolves MLflow URIs through the server, with mirroring off (loading only)."""
    services = build_services(config.replace(mlflow_tracking_uri=mlflow_server.uri))
    assert services.mlflow is None
    yield services.manager
    services.close()


def test_every_mlflow_uri_form_deploys_the_logged_model(
    manager: Any, logged_model: LoggedModel, nba: NbaModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)  # MLflow's process-wide default would create ./mlflow.db here
    uris = {
        "v1.0": f"models:/{logged_model.name}@production",
        "v1.1": f"models:/{logged_model.name}/{logged_model.version}",
        "v1.2": f"runs:/{logged_model.run_id}/model",
    }
    for version, uri in uris.items():
        info = manager.deploy_model(MODEL, version, model_uri=uri, set_active=False)
        assert next(v for v in info.versions if v.version == version).source == uri
    records = nba.records(30)
    expected = nba.trained.logistic.predict_proba(nba.trained.holdout[FEATURES].iloc[:30])
    for version in uris:
        result = manager.predict(MODEL, records, version=version)
        np.testing.assert_allclose(result.probabilities, expected)
    assert not (tmp_path / "mlflow.db").exists(), "resolved through the process-wide MLflow URI"


@pytest.mark.parametrize(
    ("uri", "error", "match"),
    [
        ("models:/next_season_logistic@nowhere", NotFoundError, "not found on the MLflow server"),
        ("models:/no_such_model/1", NotFoundError, "not found on the MLflow server"),
        ("runs:/0123456789abcdef0123456789abcdef/model", NotFoundError, "not found on the MLflow server"),
        ("models:/next_season_logistic/Production", ModelLoadError, "stages .* are deprecated; use an alias"),
    ],
)
def test_what_mlflow_lacks_is_named(manager: Any, logged_model: LoggedModel, uri: str, error: type, match: str):
    with pytest.raises(error, match=match):
        manager.deploy_model(MODEL, "v1.0", model_uri=uri)
    assert not manager.is_deployed(MODEL, "v1.0")


def test_a_server_that_does_not_answer_fails_at_once(config: DeploymentConfig) -> None:
    services = build_services(config.replace(mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}"))
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="does not answer"):
        services.manager.deploy_model(MODEL, "v1.0", model_uri="models:/next_season_logistic@production")
    assert time.monotonic() - started < 5  # not MLflow's minutes of retries
    services.close()
