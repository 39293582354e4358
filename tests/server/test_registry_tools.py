"""Registry tools and resources through the real MCP client, with serving following promotions."""

from __future__ import annotations

import json

import pytest

from tests.conftest import NbaModels
from tests.server.conftest import Agent

pytestmark = pytest.mark.anyio

M = "next_season"

REGISTRY_TOOLS = {
    "register_model",
    "promote_model",
    "rollback_model",
    "get_model",
    "search_models",
    "compare_models",
    "get_lineage",
    "registry_stats",
}


async def register_two(agent: Agent, nba: NbaModels) -> None:
    await agent.ok(
        "register_model",
        model_id=M,
        version="v1.0",
        framework="sklearn",
        algorithm="gradient_boosting",
        metrics={"accuracy": nba.trained.accuracy["v1.0"], "auc": 0.71},
        hyperparameters={"n_estimators": 150, "max_depth": 3},
        tags={"team": "analytics"},
        description="gradient boosting on RAPTOR box and on/off components",
        model_uri=str(nba.skops_file),
    )
    await agent.ok(
        "register_model",
        model_id=M,
        version="v2.0",
        stage="staging",
        framework="sklearn",
        algorithm="logistic_regression",
        metrics={"accuracy": nba.trained.accuracy["v2.0"], "auc": 0.74},
        hyperparameters={"max_iter": 1000},
        description="scaled logistic regression",
        model_uri=str(nba.mlflow_dir),
        parent="v1.0",
    )


async def test_register_promote_rollback_drive_serving(agent: Agent, nba: NbaModels) -> None:
    tools = {t.name: t for t in (await agent.client.list_tools()).tools}
    assert set(tools) >= REGISTRY_TOOLS
    assert all(tools[name].output_schema for name in REGISTRY_TOOLS)
    await register_two(agent, nba)
    latest = await agent.ok("get_model", model_id=M)
    assert latest["version"] == "v2.0" and latest["parent"] == {"model_id": M, "version": "v1.0"}
    refused = await agent.error("promote_model", model_id=M, version="v1.0", target_stage="production")
    assert "production" in refused and "staging" in refused and "development" in refused
    await agent.ok("promote_model", model_id=M, version="v1.0", target_stage="staging")
    first = await agent.ok("promote_model", model_id=M, version="v1.0", target_stage="production")
    assert first["serving_active_version"] == "v1.0" and first["replaced"] is None
    assert (await agent.ok("predict", model_id=M, inputs=nba.records(1)))["version"] == "v1.0"
    second = await agent.ok("promote_model", model_id=M, version="v2.0", target_stage="production", note="better AUC")
    assert second["replaced"] == {"model_id": M, "version": "v1.0"}
    assert second["serving_active_version"] == "v2.0"
    assert [c["to_stage"] for c in second["changes"]] == ["archived", "production"]
    production = await agent.ok("get_model", model_id=M, stage="production")
    assert production["version"] == "v2.0"
    back = await agent.ok("rollback_model", model_id=M)
    assert back["version"]["version"] == "v1.0" and back["serving_active_version"] == "v1.0"
    assert (await agent.ok("predict", model_id=M, inputs=nba.records(1)))["version"] == "v1.0"


async def test_search_compare_lineage_stats_and_resources(agent: Agent, nba: NbaModels) -> None:
    await register_two(agent, nba)
    found = await agent.ok("search_models", metrics=["auc >= 0.72"])
    assert [v["version"] for v in found["items"]] == ["v2.0"] and found["total"] == 1
    ordered = await agent.ok("search_models", model_id=M, order_by=["metrics.auc DESC"], limit=1)
    assert ordered["items"][0]["version"] == "v2.0" and ordered["next_offset"] == 1
    by_text = await agent.ok("search_models", text="logistic")
    assert [v["version"] for v in by_text["items"]] == ["v2.0"]
    comparison = await agent.ok("compare_models", model_id=M, version_a="v1.0", version_b="v2.0")
    auc = next(d for d in comparison["metrics"] if d["name"] == "auc")
    assert auc["absolute"] == pytest.approx(0.03) and auc["relative"] == pytest.approx(0.03 / 0.71)
    assert {h["name"] for h in comparison["hyperparameters"]} == {"n_estimators", "max_depth", "max_iter"}
    assert comparison["relation"]["kind"] == "ancestor" and comparison["relation"]["generations"] == 1
    lineage = await agent.ok("get_lineage", model_id=M, version="v1.0")
    assert [d["version"]["version"] for d in lineage["descendants"]] == ["v2.0"]
    stats = await agent.ok("registry_stats")
    assert stats["total_models"] == 1 and stats["total_versions"] == 2
    assert stats["by_stage"]["staging"] == 1 and stats["by_framework"]["sklearn"] == 2
    catalogue = await agent.client.read_resource("registry://models")
    assert [m["model_id"] for m in json.loads(catalogue.contents[0].text)] == [M]
    one = json.loads((await agent.client.read_resource(f"registry://models/{M}")).contents[0].text)
    assert [v["version"] for v in one["versions"]] == ["v1.0", "v2.0"] and len(one["history"]) == 2


async def test_unknown_model_resource_is_a_clear_error(agent: Agent) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match="ghost"):
        await agent.client.read_resource("registry://models/ghost")


BAD_CALLS = [
    ("register_model", {"model_id": M, "version": "v1.0"}, ["conflict", "v1.0"]),
    ("register_model", {"model_id": M, "version": "v3.0", "stage": "production"}, ["stage", "production", "'staging'"]),
    (
        "register_model",
        {"model_id": M, "version": "v3.0", "metrics": {"accuracy": "high"}},
        ["metrics.accuracy", "high"],
    ),
    ("register_model", {"model_id": M, "version": "v3.0", "parent": "v9.9"}, ["not found", "v9.9"]),
    (
        "promote_model",
        {"model_id": M, "version": "v1.0", "target_stage": "live"},
        ["target_stage", "live", "'production'"],
    ),
    ("promote_model", {"model_id": M, "version": "v7.0", "target_stage": "staging"}, ["not found", "v7.0"]),
    ("rollback_model", {"model_id": M}, ["no production version"]),
    ("get_model", {"model_id": "ghost"}, ["not found", "ghost"]),
    ("search_models", {"metrics": ["accuracy >>> 3"]}, ["metrics", "accuracy >>> 3"]),
    ("search_models", {"order_by": ["nonsense DESC"]}, ["order_by", "nonsense"]),
    ("search_models", {"limit": 0}, ["limit", "greater than or equal to 1"]),
    ("compare_models", {"model_id": M, "version_a": "v1.0", "version_b": "v4.0"}, ["not found", "v4.0"]),
    ("get_lineage", {"model_id": M, "version": "1.0"}, ["version", "'v' followed by"]),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"), BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
async def test_bad_registry_arguments(agent: Agent, nba: NbaModels, tool: str, arguments: dict, fragments: list[str]):
    await register_two(agent, nba)
    before = await agent.ok("registry_stats")
    text = await agent.error(tool, **arguments)
    for fragment in fragments:
        assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"
    assert await agent.ok("registry_stats") == before
