"""Shared fixtures: the repository, the real NBA data and real NBA models saved in every format."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tools.local_postgres import LocalPostgres

from nba_mcp_deploy import nba_models
from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from tests.postgres import session_server

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python that must import this checkout's package."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_MCP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def console_script() -> Path:
    """The installed `nba-mcp-deploy` next to the running interpreter."""
    return Path(sys.executable).with_name("nba-mcp-deploy")


@dataclass(frozen=True)
class NbaModels:
    """Real models trained on the RAPTOR data, saved under `root` (a trusted model root)."""

    root: Path
    trained: nba_models.TrainedModels
    skops_file: Path
    mlflow_dir: Path
    strict_dir: Path
    joblib_file: Path

    def records(self, count: int, start: int = 0) -> list[dict[str, float]]:
        return nba_models.records(self.trained.holdout.iloc[start : start + count])


@pytest.fixture(scope="session")
def raptor_csv() -> Path:
    return nba_models.find_raptor_csv([REPO / "data"])


@pytest.fixture(scope="session")
def nba(tmp_path_factory: pytest.TempPathFactory, raptor_csv: Path) -> NbaModels:
    nba_models.quiet_mlflow()
    root = tmp_path_factory.mktemp("models")
    trained = nba_models.train_models(nba_models.next_season_dataset(nba_models.load_raptor(raptor_csv)))
    skops_file = nba_models.save_skops(trained.boosting, root / "gb.skops")
    mlflow_dir = nba_models.save_mlflow_sklearn(trained.logistic, root / "logistic_mlflow", trained.holdout)
    strict_dir = nba_models.save_strict_pyfunc(mlflow_dir, root / "strict_mlflow", trained.holdout, root / "code")
    import joblib

    joblib_file = root / "logistic.joblib"
    joblib.dump(trained.logistic, joblib_file)
    return NbaModels(root, trained, skops_file, mlflow_dir, strict_dir, joblib_file)


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """One PostgreSQL server for the session (skipped without PostgreSQL, except in CI)."""
    with session_server() as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (marked `pytest.mark.anyio`) run on asyncio, like the server."""
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config(tmp_path: Path, nba: NbaModels) -> DeploymentConfig:
    """A config whose trusted model root holds the NBA models and whose registry is per test."""
    return DeploymentConfig(
        registry_dir=tmp_path / "registry",
        model_roots=(nba.root,),
        data_roots=(REPO / "data",),
        routing_seed=7,
    )
