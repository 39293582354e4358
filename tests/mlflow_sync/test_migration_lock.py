"""Our registry's migrations and MLflow's own (an embedded tracking database) never run at once.

Alembic keeps the migration in progress in process-wide proxies, so a registry file created
while an MLflow relay thread opens a new `sqlite:///mlflow.db` used to get MLflow's steps or
lose its own ("no such table: deployments"): the Python API builds several objects, each with
its own relay, in one process. Real files, real MLflow, real threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

pytestmark = pytest.mark.slow

ROUNDS = 12


def test_a_registry_file_and_an_embedded_mlflow_database_created_at_once_are_both_whole(tmp_path: Path) -> None:
    failures: list[BaseException] = []
    for round_ in range(ROUNDS):
        directory = tmp_path / str(round_)
        gateway = MlflowGateway(f"sqlite:///{directory / 'mlflow.db'}", experiment_name="race")
        directory.mkdir()

        def open_mlflow(gateway: MlflowGateway = gateway) -> None:
            try:
                gateway.client.search_experiments()
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                failures.append(exc)

        thread = threading.Thread(target=open_mlflow)
        thread.start()
        try:
            store = SqliteRegistryStore(directory / "registry")
            ModelRegistry(store).register_model("m", "v1.0")
            store.close()
        except BaseException as exc:
            failures.append(exc)
        thread.join()
    assert failures == []
