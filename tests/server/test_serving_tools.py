"""Every serving tool through the real MCP client (in memory): success and each bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.server.conftest import Agent
from tests.serving.doubles import SumModel

pytestmark = pytest.mark.anyio

M = "next_season"

SERVING_TOOLS = {
    "deploy_model",
    "predict",
    "setup_ab_test",
    "clear_ab_test",
    "setup_shadow",
    "clear_shadow",
    "set_active_version",
    "retire_model",
    "health_check",
    "reset_circuit_breaker",
    "list_deployments",
}


async def deploy_two(agent: Agent, nba: NbaModels) -> None:
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    await agent.ok("deploy_model", model_id=M, version="v2.0", model_uri=nba.mlflow_dir.name, set_active=False)


async def test_tools_are_listed_with_schemas_descriptions_and_annotations(agent: Agent) -> None:
    tools = {t.name: t for t in (await agent.client.list_tools()).tools}
    assert set(tools) >= SERVING_TOOLS
    for name in SERVING_TOOLS:
        tool = tools[name]
        assert tool.description and len(tool.description) > 40, name
        assert tool.output_schema is not None, name
        assert tool.annotations is not None and tool.annotations.read_only_hint is not None, name
    assert tools["predict"].annotations.read_only_hint is True
    assert tools["retire_model"].annotations.destructive_hint is True
    model_id_schema = tools["predict"].input_schema["properties"]["model_id"]
    assert "pattern" in model_id_schema and "letters, digits" in model_id_schema["description"]


async def test_deploy_predict_and_list(agent: Agent, nba: NbaModels) -> None:
    info = await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    assert info["active_version"] == "v1.0"
    assert info["versions"][0]["feature_names"] == FEATURES and info["restorable"] is True
    records = nba.records(3)
    answer = await agent.ok("predict", model_id=M, inputs=records)
    expected = nba.trained.boosting.predict_proba(nba.trained.holdout[FEATURES].iloc[:3])
    np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-12)
    assert answer["version"] == "v1.0" and answer["routed_by"] == "active" and len(answer["prediction_ids"]) == 3
    listed = await agent.ok("list_deployments")
    assert [d["model_id"] for d in listed["deployments"]] == [M]


async def test_traffic_control_tools(agent: Agent, nba: NbaModels) -> None:
    await deploy_two(agent, nba)
    info = await agent.ok("setup_ab_test", model_id=M, versions=["v1.0", "v2.0"], weights=[0.5, 0.5], sticky=True)
    assert info["ab_test"] == {"versions": ["v1.0", "v2.0"], "weights": [0.5, 0.5], "sticky": True}
    first = await agent.ok("predict", model_id=M, inputs=nba.records(1), request_key="game-7")
    again = await agent.ok("predict", model_id=M, inputs=nba.records(1), request_key="game-7")
    assert first["version"] == again["version"] and first["routed_by"] == "ab_sticky" and first["ab_test"]
    assert (await agent.ok("clear_ab_test", model_id=M))["ab_test"] is None
    shadow = await agent.ok("setup_shadow", model_id=M, version="v2.0", fraction=1.0)
    assert shadow["shadow"] == {"version": "v2.0", "fraction": 1.0}
    await agent.ok("predict", model_id=M, inputs=nba.records(4))
    agent.services.manager.wait_for_shadow()
    health = await agent.ok("health_check", model_id=M)
    mirrored = next(v for v in health["models"][0]["versions"] if v["version"] == "v2.0")["shadow"]
    assert mirrored["mirrored_requests"] == 1 and mirrored["compared_rows"] == 4
    assert (await agent.ok("clear_shadow", model_id=M))["shadow"] is None
    switched = await agent.ok("set_active_version", model_id=M, version="v2.0")
    assert switched["active_version"] == "v2.0" and switched["previous_active"] == ["v1.0"]
    retired = await agent.ok("retire_model", model_id=M, version="v1.0")
    assert [v["version"] for v in retired["versions"]] == ["v2.0"]


async def test_breaker_over_mcp(agent: Agent) -> None:
    stable, flaky = SumModel(0), SumModel(100)
    agent.services.manager.deploy_model("m", "v1.0", model_instance=stable)
    agent.services.manager.deploy_model("m", "v2.0", model_instance=flaky)
    flaky.failing = True
    for _ in range(5):
        text = await agent.error("predict", model_id="m", inputs=[{"a": 1, "b": 2}])
        assert text.endswith("RuntimeError: model backend unavailable") and "model error: m v2.0 failed" in text
    answer = await agent.ok("predict", model_id="m", inputs=[{"a": 1, "b": 2}])
    assert answer["version"] == "v1.0" and answer["failover_from"] == "v2.0"
    text = await agent.error("predict", model_id="m", inputs=[{"a": 1, "b": 2}], version="v2.0")
    assert "circuit open: circuit breaker for m v2.0 is open" in text and "reset_circuit_breaker" in text
    health = await agent.ok("health_check")
    assert health["status"] == "degraded"
    v2 = next(v for v in health["models"][0]["versions"] if v["version"] == "v2.0")
    assert v2["breaker"]["state"] == "open" and v2["breaker"]["retry_in_sec"] > 0
    assert health["operations"]["predict"]["errors"] == 6
    flaky.failing = False
    await agent.ok("reset_circuit_breaker", model_id="m", version="v2.0")
    assert (await agent.ok("predict", model_id="m", inputs=[{"a": 1, "b": 2}]))["version"] == "v2.0"


BAD_CALLS = [
    # (tool, arguments, fragments the error must contain: the field, the value, the rule)
    (
        "deploy_model",
        {"model_id": "../etc", "version": "v1.0", "model_uri": "x.skops"},
        ["model_id", "../etc", "letters, digits"],
    ),
    ("deploy_model", {"model_id": M, "version": "1.0", "model_uri": "x.skops"}, ["version", "1.0", "'v' followed by"]),
    ("deploy_model", {"model_id": M, "version": "v3.0", "model_uri": ""}, ["model_uri", "at least 1 character"]),
    (
        "deploy_model",
        {"model_id": M, "version": "v3.0", "model_uri": "/etc/passwd"},
        ["model_uri", "/etc/passwd", "outside the trusted"],
    ),
    (
        "deploy_model",
        {"model_id": M, "version": "v3.0", "model_uri": "nope.skops"},
        ["not found", "nope.skops", "does not exist"],
    ),
    (
        "deploy_model",
        {"model_id": M, "version": "v3.0", "model_uri": "s3://b/m"},
        ["model load failed", "s3://b/m", "expected an MLflow URI"],
    ),
    (
        "deploy_model",
        {"model_id": M, "version": "v1.0", "model_uri": "gb.skops"},
        ["conflict", "v1.0 is already deployed"],
    ),
    (
        "deploy_model",
        {"model_id": M, "version": "v3.0", "model_uri": "gb.skops", "set_active": "perhaps"},
        ["set_active", "perhaps", "valid boolean"],
    ),
    ("predict", {"model_id": "ghost", "inputs": [{"a": 1}]}, ["not found", "ghost", "deployed models"]),
    ("predict", {"model_id": M, "inputs": []}, ["inputs", "at least 1 item"]),
    ("predict", {"model_id": M, "inputs": [{"mp": "lots"}]}, ["inputs.0.mp", "lots", "valid number"]),
    (
        "predict",
        {"model_id": M, "inputs": [{"mp": 1.0}]},
        ["invalid argument", "missing [poss", "exactly these features"],
    ),
    ("predict", {"model_id": M, "inputs": "mp=3"}, ["inputs", "mp=3", "valid list"]),
    ("predict", {"model_id": M, "inputs": [{"a": 1}], "version": "v9.0"}, ["v9.0", "deployed: ['v1.0', 'v2.0']"]),
    ("predict", {"model_id": M, "inputs": [{"a": 1}], "request_key": "k" * 300}, ["request_key", "at most 256"]),
    (
        "setup_ab_test",
        {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [0.5, 0.6]},
        ["weights", "[0.5, 0.6]", "sum to 1"],
    ),
    (
        "setup_ab_test",
        {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [1.5, -0.5]},
        ["weights.1", "-0.5", "greater than or equal to 0"],
    ),
    ("setup_ab_test", {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [1.0]}, ["weights", "at least 2"]),
    (
        "setup_ab_test",
        {"model_id": M, "versions": ["v1.0", "v7.0"], "weights": [0.5, 0.5]},
        ["versions", "not deployed: ['v7.0']"],
    ),
    ("setup_ab_test", {"model_id": M, "versions": ["v1.0"], "weights": [1.0]}, ["versions", "at least 2"]),
    ("setup_shadow", {"model_id": M, "version": "v2.0", "fraction": 0}, ["fraction", "greater than 0"]),
    (
        "setup_shadow",
        {"model_id": M, "version": "v2.0", "fraction": 1.5},
        ["fraction", "1.5", "less than or equal to 1"],
    ),
    ("setup_shadow", {"model_id": M, "version": "v1.0"}, ["version", "v1.0", "active version"]),
    ("set_active_version", {"model_id": M, "version": "v5.0"}, ["not found", "v5.0", "deployed"]),
    ("retire_model", {"model_id": M, "version": "v1.0"}, ["conflict", "active version", "set_active_version"]),
    ("reset_circuit_breaker", {"model_id": M, "version": "v8.0"}, ["not found", "v8.0"]),
    ("health_check", {"model_id": "ghost"}, ["not found", "ghost"]),
    ("clear_ab_test", {"model_id": "a" * 65}, ["model_id", "1-64 characters"]),
    ("clear_shadow", {}, ["model_id", "Field required"]),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"), BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
async def test_bad_arguments_give_an_actionable_error_and_change_nothing(
    agent: Agent, nba: NbaModels, tool: str, arguments: dict, fragments: list[str]
) -> None:
    await deploy_two(agent, nba)
    before = await agent.ok("list_deployments")
    text = await agent.error(tool, **arguments)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert await agent.ok("list_deployments") == before  # nothing changed
    assert (await agent.ok("predict", model_id=M, inputs=nba.records(1)))["version"] == "v1.0"  # still serving


async def test_every_tool_has_a_bad_call_case() -> None:
    assert {tool for tool, _, _ in BAD_CALLS} == SERVING_TOOLS - {"list_deployments"}
