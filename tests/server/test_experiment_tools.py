"""The experiment tools and the canary-rollout prompt through the real MCP client (in memory),
on the real NBA models: success paths and every bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.server.conftest import Agent
from tests.server.test_serving_tools import deploy_two  # v1.0 (boosting) active, v2.0 (logistic) standby

pytestmark = pytest.mark.anyio

M = "next_season"
EXPERIMENT_TOOLS = {"get_ab_test_results", "start_canary", "canary_status", "abort_canary"}


async def test_tools_and_prompt_are_listed_with_schemas_and_annotations(agent: Agent) -> None:
    tools = {t.name: t for t in (await agent.client.list_tools()).tools}
    assert set(tools) >= EXPERIMENT_TOOLS
    for name in EXPERIMENT_TOOLS:
        tool = tools[name]
        assert tool.description and len(tool.description) > 80, name
        assert tool.output_schema is not None and tool.annotations is not None, name
    assert tools["get_ab_test_results"].annotations.read_only_hint is True
    assert tools["canary_status"].annotations.read_only_hint is True
    assert tools["start_canary"].annotations.read_only_hint is False
    assert tools["abort_canary"].annotations.destructive_hint is True
    steps = tools["start_canary"].input_schema["properties"]["steps"]
    assert steps["default"] == [0.05, 0.25, 0.5, 1.0] and "ending at 1.0" in steps["description"]
    assert "verdict" in tools["get_ab_test_results"].output_schema["properties"]
    prompts = {p.name: p for p in (await agent.client.list_prompts()).prompts}
    rollout = prompts["canary_rollout"]
    assert {a.name: a.required for a in rollout.arguments or []} == {
        "model_id": True,
        "candidate_version": True,
        "model_uri": False,
    }


async def test_the_prompt_walks_from_deploy_to_a_verdict(agent: Agent) -> None:
    result = await agent.client.get_prompt(
        "canary_rollout", {"model_id": M, "candidate_version": "v3.0", "model_uri": "models/gb3.skops"}
    )
    text = result.messages[0].content.text  # type: ignore[union-attr]
    steps = [
        'deploy_model(model_id="next_season", version="v3.0", model_uri="models/gb3.skops", set_active=false)',
        'start_canary(model_id="next_season", candidate_version="v3.0")',
        "log_actuals",
        'canary_status(model_id="next_season")',
        'phase "promoted"',
        'phase "rolled_back"',
        "abort_canary",
        "get_ab_test_results",
    ]
    position = 0
    for step in steps:  # each appears, in this order
        position = text.index(step, position)


async def test_ab_results_on_real_models_count_each_player_once(agent: Agent, nba: NbaModels) -> None:
    await deploy_two(agent, nba)
    await agent.ok("setup_ab_test", model_id=M, versions=["v1.0", "v2.0"], weights=[0.5, 0.5], sticky=True)
    holdout = nba.trained.holdout.iloc[:400]
    rows = []
    for index, record in enumerate(nba.records(400)):
        player = str(holdout["player_id"].iloc[index])
        answer = await agent.ok("predict", model_id=M, inputs=[record], request_key=player)
        rows.append((player, answer["version"], answer["prediction_ids"][0], answer["predictions"][0]))
    served = pd.DataFrame(rows, columns=["player", "version", "prediction_id", "prediction"])
    served["actual"] = holdout["positive_next"].to_numpy()
    outcomes = dict(zip(served["prediction_id"], served["actual"].astype(float), strict=True))
    await agent.ok("log_actuals", model_id=M, actuals=outcomes)

    result = await agent.ok("get_ab_test_results", model_id=M)

    assert (result["version_a"], result["version_b"], result["task"]) == ("v1.0", "v2.0", "classification")
    assert result["verdict"] in {"b_better", "a_better", "no_difference", "not_enough_data"} and result["reason"]
    served["correct"] = served["prediction"] == served["actual"]
    for variant, version in (("variant_a", "v1.0"), ("variant_b", "v2.0")):
        mine = served[served["version"] == version]
        per_player = mine.groupby("player")["correct"].mean()  # computed here, independently
        assert result[variant]["requests"] == len(mine) and result[variant]["units"] == len(per_player)
        assert result[variant]["units"] < result[variant]["requests"]  # players with several seasons
        assert result[variant]["accuracy"] == pytest.approx(per_player.mean())
    accuracy = next(c for c in result["comparisons"] if c["metric"] == "accuracy")
    assert accuracy["units_a"] + accuracy["units_b"] == served["player"].nunique()
    assert accuracy["ci_low"] < accuracy["difference"] < accuracy["ci_high"]
    assert result["sample_size"]["required_a"] > 0 and "counts once" in result["unit_rule"]
    assert FEATURES  # the records carried the model's features


async def test_a_canary_through_the_tools_ends_in_production(agent: Agent, nba: NbaModels) -> None:
    await deploy_two(agent, nba)
    registry = agent.services.registry
    registry.register_model(M, "v1.0", model_uri=str(nba.skops_file), stage="staging")
    registry.promote_model(M, "v1.0", "production")
    registry.register_model(M, "v2.0", model_uri=str(nba.mlflow_dir), stage="development")
    started = await agent.ok(
        "start_canary", model_id=M, candidate_version="v2.0", steps=[0.5, 1.0], min_requests_per_step=5
    )
    assert started["phase"] == "running" and started["step"] == {**started["step"], "step": 1, "of": 2, "weight": 0.5}
    assert "staging then production" in started["registry_plan"]
    records = nba.records(200)
    for record in records:
        status = await agent.ok("canary_status", model_id=M)
        if status["phase"] != "running":
            break
        await agent.ok("predict", model_id=M, inputs=[record])
        assert agent.services.experiments.wait_idle(5)
    status = await agent.ok("canary_status", model_id=M)
    assert status["phase"] == "promoted", status["reason"]
    assert [e["kind"] for e in status["history"]] == ["canary_started", "step_advanced", "promoted"]
    assert status["history"][0]["actor"] == "agent" and status["next_action"].startswith("done")
    assert registry.get_production_model(M).version == "v2.0"
    deployment = (await agent.ok("list_deployments"))["deployments"][0]
    assert deployment["active_version"] == "v2.0" and deployment["ab_test"] is None


async def test_abort_through_the_tools(agent: Agent, nba: NbaModels) -> None:
    await deploy_two(agent, nba)
    await agent.ok("start_canary", model_id=M, candidate_version="v2.0")
    aborted = await agent.ok("abort_canary", model_id=M, reason="drift alert on v2.0")
    assert (
        aborted["phase"] == "aborted"
        and aborted["reason"] == "aborted by agent: drift alert on v2.0; all traffic back on v1.0"
    )
    assert aborted["step"]["weight"] == 0.0 and [e["kind"] for e in aborted["history"]] == ["canary_started", "aborted"]
    assert (await agent.ok("list_deployments"))["deployments"][0]["ab_test"] is None
    text = await agent.error("abort_canary", model_id=M)
    assert "conflict: the canary of next_season v2.0 is not running" in text


BAD_CALLS = [
    ("start_canary", {"candidate_version": "v2.0", "steps": [0.5, 0.25, 1.0]}, ["steps", "increase strictly"]),
    ("start_canary", {"candidate_version": "v2.0", "steps": [0.2, 0.5]}, ["steps", "last step must be 1.0"]),
    ("start_canary", {"candidate_version": "v2.0", "steps": [0, 1]}, ["steps.0", "greater than 0"]),
    ("start_canary", {"candidate_version": "v2.0", "steps": []}, ["steps", "at least 1"]),
    (
        "start_canary",
        {"candidate_version": "v2.0", "max_latency_ratio": 0.5},
        ["max_latency_ratio", "greater than or equal to 1"],
    ),
    ("start_canary", {"candidate_version": "v2.0", "min_requests_per_step": 0}, ["min_requests_per_step", "0"]),
    ("start_canary", {"candidate_version": "v2.0", "max_error_rate": 1}, ["max_error_rate", "less than 1"]),
    ("start_canary", {"candidate_version": "v9.0"}, ["not found", "'v9.0'", "set_active=false"]),
    ("start_canary", {"candidate_version": "v1.0"}, ["invalid argument", "candidate_version", "already the active"]),
    ("start_canary", {"candidate_version": "latest"}, ["candidate_version", "latest", "'v' followed by"]),
    ("canary_status", {}, ["not found", "no canary has run for 'next_season'", "start_canary"]),
    ("abort_canary", {"reason": "x" * 501}, ["reason", "at most 500"]),
    ("get_ab_test_results", {}, ["conflict", "no A/B test running", "setup_ab_test"]),
    ("get_ab_test_results", {"version_a": "v1.0"}, ["invalid argument", "version_b", "give both"]),
    ("get_ab_test_results", {"version_a": "v1.0", "version_b": "v1.0"}, ["version_b", "must differ"]),
    ("get_ab_test_results", {"alpha": 0.7}, ["alpha", "0.7", "less than 0.5"]),
    ("get_ab_test_results", {"min_detectable_effect": 0}, ["min_detectable_effect", "greater than 0"]),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"), BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
async def test_bad_arguments_are_refused_by_name_and_change_nothing(
    agent: Agent, nba: NbaModels, tool: str, arguments: dict, fragments: list[str]
) -> None:
    await deploy_two(agent, nba)
    deployments = await agent.ok("list_deployments")
    message = await agent.error(tool, model_id=M, **arguments)
    assert [f for f in fragments if f not in message] == [], message
    assert await agent.ok("list_deployments") == deployments
    assert np.isfinite((await agent.ok("predict", model_id=M, inputs=nba.records(1)))["latency_ms"])
