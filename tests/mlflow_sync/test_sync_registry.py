"""`sync_registry` through the MCP client against a real MLflow server: MLflow versions imported
(and served, when they are in production), conflicts reported and left alone, a second sync
importing nothing; arguments validated; a clear error when MLflow is off; health_check shows
MLflow. And the real stdio server with MLflow on: MLflow's own output never reaches stdout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.registry import Stage
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels, console_script, subprocess_env
from tests.mlflow_sync.conftest import log_model, sync_of
from tests.mlflow_sync.server import MlflowServer
from tests.server.conftest import Agent

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
async def agent(mlflow_config: DeploymentConfig) -> AsyncIterator[Agent]:
    services = build_services(mlflow_config)
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        yield Agent(client, services)
    services.close()


async def test_an_mlflow_model_is_imported_served_and_not_imported_twice(
    agent: Agent, mlflow_server: MlflowServer, model_id: str, nba: NbaModels
) -> None:
    logged = log_model(mlflow_server.uri, model_id, nba)  # a model that lives only in MLflow
    report = await agent.ok("sync_registry", model_id=model_id)
    assert report["imported"] == [
        {"model_id": model_id, "version": "v1", "mlflow_version": logged.version, "stage": "production"}
    ]
    assert report["conflicts"] == [] and report["drained"]
    version = agent.services.registry.get_production_model(model_id)
    assert version.model_uri == f"models:/{model_id}/{logged.version}"
    assert version.metrics == {"accuracy": logged.accuracy}
    assert version.hyperparameters == {"C": 1.0, "max_iter": 1000, "penalty": "l2"}
    assert version.tags == {"mlflow_model": model_id, "mlflow_version": logged.version}
    answer = await agent.ok("predict", model_id=model_id, inputs=nba.records(3))  # promotion deployed it
    assert answer["version"] == "v1"
    again = await agent.ok("sync_registry", model_id=model_id)
    assert (again["imported"], again["conflicts"], again["unchanged"], again["in_step"]) == ([], [], 1, 1)
    health = await agent.ok("health_check")
    (dependency,) = health["dependencies"]
    assert (dependency["name"], dependency["status"], dependency["backlog"]) == ("mlflow", "healthy", 0)


async def test_disagreements_are_reported_and_neither_side_is_overwritten(
    agent: Agent, mlflow_server: MlflowServer, client: Any, model_id: str, nba: NbaModels
) -> None:
    registry = agent.services.registry
    registry.register_model(model_id, "v1", stage=Stage.STAGING, model_uri=str(nba.skops_file))
    registry.promote_model(model_id, "v1", Stage.PRODUCTION)
    assert sync_of(agent.services).drain(60)
    logged = log_model(mlflow_server.uri, model_id, nba)  # version 2; someone moves the production alias to it
    registry.register_model(model_id, "v4", model_uri=str(nba.joblib_file))  # becomes MLflow's version 3
    assert sync_of(agent.services).drain(60)
    client.create_model_version(model_id, f"runs:/{logged.run_id}/model", run_id=logged.run_id)  # MLflow's 4

    report = await agent.ok("sync_registry", model_id=model_id)
    problems = {c["mlflow_version"]: c["problem"] for c in report["conflicts"]}
    assert "MLflow's production alias is on version 2 but the registry's production version is" in problems["2"]
    assert report["imported"] == [{"model_id": model_id, "version": "v2", "mlflow_version": "2", "stage": "staging"}]
    assert "is not MLflow version 4" in problems["4"]  # our v4 exists and holds another model
    assert registry.get_production_model(model_id).version == "v1"
    assert registry.get_model(model_id, "v4").model_uri == str(nba.joblib_file)
    assert client.get_registered_model(model_id).aliases == {"production": "2"}  # MLflow's choice stands
    assert registry.get_model(model_id, "v2").stage is Stage.STAGING


async def test_a_production_version_that_cannot_serve_is_imported_in_staging_and_reported(
    agent: Agent, client: Any, model_id: str
) -> None:
    run = client.create_run(client.create_experiment(f"broken-{model_id}"))
    client.create_registered_model(model_id)
    broken = client.create_model_version(model_id, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(model_id, "production", broken.version)  # nothing was ever logged there
    report = await agent.ok("sync_registry", model_id=model_id)
    assert report["imported"] == [{"model_id": model_id, "version": "v1", "mlflow_version": "1", "stage": "staging"}]
    (conflict,) = report["conflicts"]
    assert conflict["problem"].startswith("imported in staging, but moving it to production as in MLflow failed")
    assert agent.services.registry.get_model(model_id, "v1").stage is Stage.STAGING
    assert client.get_registered_model(model_id).aliases == {"production": "1"}


BAD_ARGUMENTS = [
    ({"direction": "sideways"}, ["direction", "'both', 'import' or 'export'"]),
    ({"wait_sec": 500}, ["wait_sec", "less than or equal to 120"]),
    ({"wait_sec": -1}, ["wait_sec", "greater than or equal to 0"]),
    ({"model_id": "../etc"}, ["model_id", "1-64 characters"]),
    ({"retry_failed": "maybe"}, ["retry_failed"]),
]


@pytest.mark.parametrize(("arguments", "fragments"), BAD_ARGUMENTS)
async def test_bad_arguments_name_the_field_and_what_is_allowed(
    agent: Agent, arguments: dict[str, Any], fragments: list[str]
) -> None:
    text = await agent.error("sync_registry", **arguments)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


async def test_without_mlflow_the_tool_says_how_to_enable_it(config: DeploymentConfig) -> None:
    services = build_services(config)
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        text = await Agent(client, services).error("sync_registry")
        tools = {t.name: t for t in (await client.list_tools()).tools}
    services.close()
    assert "conflict: MLflow is not enabled" in text and "MLFLOW_TRACKING_URI" in text
    annotations = tools["sync_registry"].annotations
    assert annotations is not None
    assert (annotations.read_only_hint, annotations.destructive_hint, annotations.idempotent_hint) == (
        False,
        False,
        True,
    )
    assert tools["sync_registry"].output_schema is not None


async def test_the_stdio_server_with_mlflow_keeps_stdout_for_the_protocol(
    tmp_path: Path, mlflow_server: MlflowServer, client: Any, model_id: str, nba: NbaModels
) -> None:
    env = subprocess_env(
        MLFLOW_TRACKING_URI=mlflow_server.uri,
        MLFLOW_EXPERIMENT_NAME=f"stdio-{model_id}",
        ENABLE_MLFLOW_REGISTRY="true",
        MODEL_REGISTRY_DIR=str(tmp_path / "registry"),
        NBA_MCP_MODEL_ROOTS=str(nba.root),
    )
    params = StdioServerParameters(command=str(console_script()), args=["serve"], env=env, cwd=str(tmp_path))
    with (tmp_path / "server.log").open("w") as log:
        async with Client(stdio_client(params, errlog=log)) as mcp:
            for version in ("v1.0", "v2.0"):
                done = await mcp.call_tool(
                    "deploy_model", {"model_id": model_id, "version": version, "model_uri": nba.skops_file.name}
                )
                assert not done.is_error, done.content
            for tool, arguments in (
                ("set_active_version", {"model_id": model_id, "version": "v2.0"}),
                ("retire_model", {"model_id": model_id, "version": "v1.0"}),  # finishing a run prints its URL
                ("sync_registry", {"model_id": model_id, "wait_sec": 60}),
                ("health_check", {}),
            ):
                result = await mcp.call_tool(tool, arguments)
                assert not result.is_error, result.content
            assert result.structured_content["dependencies"][0]["status"] == "healthy"
    experiment = client.get_experiment_by_name(f"stdio-{model_id}").experiment_id
    runs = client.search_runs([experiment], "tags.nba_kind = 'deployment'", order_by=["attributes.start_time ASC"])
    assert [(r.data.tags["version"], r.info.status) for r in runs] == [("v1.0", "FINISHED"), ("v2.0", "RUNNING")]
    assert "View run" in (tmp_path / "server.log").read_text()  # MLflow's URL went to stderr instead
    json.dumps(result.structured_content)  # the protocol stayed parseable throughout


async def test_register_model_takes_an_mlflow_run_id(
    agent: Agent, mlflow_server: MlflowServer, model_id: str, nba: NbaModels
) -> None:
    trained = log_model(mlflow_server.uri, f"{model_id}_training", nba, alias=None)
    version = await agent.ok(
        "register_model", model_id=model_id, version="v1.0", run_id=trained.run_id, metrics={"auc": 0.8}
    )
    assert version["metrics"] == {"accuracy": trained.accuracy, "auc": 0.8}
    assert version["hyperparameters"] == {"C": 1.0, "max_iter": 1000, "penalty": "l2"}
    assert version["tags"] == {"source_run_id": trained.run_id}
    text = await agent.error("register_model", model_id=model_id, version="v1.1", run_id="not a run")
    assert "run_id" in text and "pattern" in text
    missing = await agent.error("register_model", model_id=model_id, version="v1.1", run_id="0" * 32)
    assert missing.startswith("Error executing tool register_model: not found") or "not found" in missing
