"""Fixtures of the Python API's tests: real game models, a real MLflow server, a clean environment
for objects that read it, and a deployment saved in a registry directory."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nba_mcp_deploy import nba_models
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.config import ENVIRONMENT
from nba_mcp_deploy.nba_games import GameModels, train_game_models
from tests.conftest import REPO
from tests.mlflow_sync.server import MlflowServer


@pytest.fixture(scope="session")
def game_models() -> GameModels:
    nba_models.quiet_mlflow()
    return train_game_models([REPO / "data"])


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with MlflowServer(tmp_path_factory.mktemp("api-mlflow")) as server:
        yield server


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of the test's own and none of the API's variables set."""
    for name in list(os.environ):
        if name in ENVIRONMENT or name.startswith(("NBA_MCP_", "MLFLOW_")):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@dataclass(frozen=True)
class Mlflow:
    """The server the test's objects log to, and the test's own experiment there."""

    uri: str
    experiment: str


@pytest.fixture
def with_mlflow(
    clean_environment: Path,
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Mlflow:
    """MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_NAME set, as in the document's Configuration section
    (an experiment per test, so that each test reads only its own runs)."""
    experiment = "api-" + re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", experiment)
    return Mlflow(mlflow_server.uri, experiment)


@pytest.fixture
def closing() -> Iterator[list[ServicesOwner]]:
    """Objects to close after the test (their threads and registries)."""
    owned: list[ServicesOwner] = []
    yield owned
    for owner in owned:
        owner.close()


@dataclass(frozen=True)
class SavedDeployment:
    """`nba_model` v1.0 (the forest, a .skops file) deployed and active in `registry_dir`."""

    registry_dir: Path
    model_root: Path
    model_file: Path


@pytest.fixture
def saved_deployment(clean_environment: Path, game_models: GameModels, tmp_path: Path) -> SavedDeployment:
    from nba_mcp_deploy import ModelServingManager

    root = tmp_path / "models"
    model_file = nba_models.save_skops(game_models.forest, root / "forest.skops")
    registry_dir = tmp_path / "deployment"
    with ModelServingManager(mock_mode=False, registry_dir=registry_dir, model_roots=(root,)) as manager:
        manager.deploy_model("nba_model", "v1.0", model_uri=str(model_file))
    return SavedDeployment(registry_dir, root, model_file)


def point_at(deployment: SavedDeployment, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set the variables that make a new manager join the saved deployment."""
    monkeypatch.setenv("MODEL_REGISTRY_DIR", str(deployment.registry_dir))
    monkeypatch.setenv("NBA_MCP_MODEL_ROOTS", str(deployment.model_root))
