"""A real MLflow server for the module's tests, services mirroring to it, and a real NBA model
logged to it the way MLflow users log theirs."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from nba_mcp_deploy import nba_models
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import Services, build_services
from tests.conftest import NbaModels
from tests.mlflow_sync.server import MlflowServer

_numbers = itertools.count(1)


def _mlflow_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}


_VARIABLES_AT_START = _mlflow_variables()


@pytest.fixture(autouse=True)
def _no_mlflow_variables_leak() -> Iterator[None]:
    """MLflow's fluent API exports its URIs to os.environ; a leak (also from a session fixture)
    would reach every later subprocess."""
    yield
    assert _mlflow_variables() == _VARIABLES_AT_START, "MLflow variables leaked into the environment"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One server for every test that leaves it running (each test uses its own names)."""
    with MlflowServer(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


def client_of(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.fixture
def client(mlflow_server: MlflowServer) -> Any:
    return client_of(mlflow_server.uri)


@pytest.fixture
def model_id(request: pytest.FixtureRequest) -> str:
    """A model id no other test uses on the shared server."""
    return f"m{next(_numbers)}_{re.sub(r'[^A-Za-z0-9_]', '_', request.node.name)[:40]}"


def mirrored(config: DeploymentConfig, uri: str, experiment: str, *, registry: bool = True) -> DeploymentConfig:
    return config.replace(
        enable_mlflow=True,
        mlflow_tracking_uri=uri,
        mlflow_experiment_name=experiment,
        enable_mlflow_registry=registry,
    )


@pytest.fixture
def mlflow_config(config: DeploymentConfig, mlflow_server: MlflowServer, model_id: str) -> DeploymentConfig:
    return mirrored(config, mlflow_server.uri, f"exp-{model_id}")


@pytest.fixture
def services(mlflow_config: DeploymentConfig) -> Iterator[Services]:
    built = build_services(mlflow_config)
    yield built
    built.close()


def sync_of(services: Services) -> Any:
    assert services.mlflow is not None
    return services.mlflow


@dataclass(frozen=True)
class LoggedModel:
    """A model logged and registered by MLflow's own API (as a user would), alias production."""

    name: str
    version: str
    run_id: str
    accuracy: float


@contextlib.contextmanager
def mlflow_globals(uri: str) -> Iterator[None]:
    """MLflow's process-wide URIs set to `uri` inside the block only. The fluent API keeps them in
    globals and exports them to os.environ (for subprocesses): both are put back afterwards, or
    every later subprocess (the stdio server, the demo) would inherit them."""
    import mlflow

    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def log_model(uri: str, name: str, nba: NbaModels, *, alias: str | None = "production") -> LoggedModel:
    """Log and register the NBA logistic model with MLflow's own fluent API, as its users do."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    client = client_of(uri)
    experiment = client.get_experiment_by_name("users-training")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("users-training")
    frame = nba.trained.holdout[nba_models.FEATURES]
    with mlflow_globals(uri), mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({"C": 1.0, "max_iter": 1000, "penalty": "l2"})
        mlflow.log_metric("accuracy", nba.trained.accuracy["v2.0"])
        info = mlflow.sklearn.log_model(
            nba.trained.logistic,
            name="model",
            signature=infer_signature(frame, nba.trained.logistic.predict(frame)),
            input_example=frame.iloc[:2],
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    if alias is not None:
        client.set_registered_model_alias(name, alias, version)
    return LoggedModel(name, version, run.info.run_id, nba.trained.accuracy["v2.0"])


@pytest.fixture(scope="session")
def logged_model(mlflow_server: MlflowServer, nba: NbaModels) -> LoggedModel:
    """Shared by tests that only read it (none mirrors a registry into this name)."""
    return log_model(mlflow_server.uri, "next_season_logistic", nba)
