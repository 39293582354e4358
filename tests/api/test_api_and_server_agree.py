"""A model deployed through the Python API and one deployed through the MCP server behave the same.

Both deploy the same model files (the forest and the logistic regression behind an input guard,
as .joblib files in a trusted model root), split traffic 70/30 with the same routing seed, and
serve the same 300 held-out games and then a corrupted feed that trips the circuit breaker. The
server is driven as an agent drives it (the real MCP client, in memory); the facade as a script
does. Every answer (version and prediction), the A/B counts and the health must agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import joblib
import pytest
from mcp.client import Client

from nba_mcp_deploy import ModelServingManager
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.nba_games import GAME_FEATURES, GameModels
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.outputs import show
from nba_mcp_deploy.services import build_services
from tests.api.guarded_model import GuardedModel

pytestmark = pytest.mark.anyio

MODEL = "nba_model"
SETTINGS: dict[str, Any] = {"routing_seed": 7, "breaker_minimum_calls": 5, "breaker_window_size": 10}
CORRUPTED = {name: 999.0 for name in GAME_FEATURES}


@pytest.fixture
def model_root(tmp_path: Path, game_models: GameModels) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    joblib.dump(GuardedModel(game_models.forest), root / "forest.joblib")
    joblib.dump(GuardedModel(game_models.logistic), root / "logistic.joblib")
    return root


@pytest.fixture
async def agent(tmp_path: Path, model_root: Path) -> AsyncIterator[Client]:
    config = DeploymentConfig(registry_dir=tmp_path / "server", model_roots=(model_root,), **SETTINGS)
    services = build_services(config)
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        yield client
    services.close()


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def answer(result: Any) -> tuple[str, list[Any], list[list[float]] | None]:
    return result["version"], result["predictions"], result["probabilities"]


def comparable(health: dict[str, Any]) -> dict[str, Any]:
    """A health report without what differs between any two processes (times, latency, ids)."""
    (model,) = health["models"]
    versions = [
        {
            "version": v["version"],
            "role": v["role"],
            "weight": v["weight"],
            "breaker": {k: v["breaker"][k] for k in ("state", "calls_in_window", "failures_in_window", "times_opened")},
            "metrics": {k: v["metrics"][k] for k in ("requests", "errors", "rejected")},
        }
        for v in model["versions"]
    ]
    return {
        "status": model["status"],
        "reasons": model["reasons"],
        "ab_test": model["ab_test"],
        "versions": versions,
    }


async def test_a_model_served_through_the_api_and_through_the_server_behave_the_same(
    agent: Client, clean_environment: Path, model_root: Path, game_models: GameModels
) -> None:
    manager = ModelServingManager(registry_dir="api", model_roots=model_root, **SETTINGS)
    try:
        for version, file, active in (("v1.0", "forest.joblib", True), ("v2.0", "logistic.joblib", False)):
            uri = str(model_root / file)
            await call(agent, "deploy_model", model_id=MODEL, version=version, model_uri=uri, set_active=active)
            manager.deploy_model(MODEL, version, model_uri=uri, set_active=active)
        await call(agent, "setup_ab_test", model_id=MODEL, versions=["v1.0", "v2.0"], weights=[0.7, 0.3])
        manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.7, 0.3])

        for record in game_models.records(300):
            served = await call(agent, "predict", model_id=MODEL, inputs=[record])
            local = manager.predict(MODEL, [record])
            assert answer(served) == (local.version, local.predictions, local.probabilities)

        for _ in range(12):  # a corrupted feed: v1.0 and v2.0 fail until their breakers open
            refused = (await agent.call_tool("predict", {"model_id": MODEL, "inputs": [CORRUPTED]})).is_error
            with pytest.raises(DeployError) as error:
                manager.predict(MODEL, [CORRUPTED])
            assert refused and type(error.value).__name__ in ("ModelExecutionError", "CircuitOpenError")

        server_health = await call(agent, "health_check", model_id=MODEL)
        api_health = show(manager.health_check(MODEL)).model_dump(mode="json")
        assert comparable(server_health) == comparable(api_health)
        counts = {v["version"]: v["metrics"]["requests"] for v in server_health["models"][0]["versions"]}
        assert sum(counts.values()) >= 300 and 180 <= counts["v1.0"] <= 240  # 70% of the 300 good requests
        assert manager.health_check(MODEL).circuit_breaker_open
        assert any(v["breaker"]["state"] == "open" for v in server_health["models"][0]["versions"])
    finally:
        manager.close()
