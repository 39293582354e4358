"""A live HTTP server (a real subprocess) with what the dashboard must show: a model with two
versions in an A/B split, registry stages, an open circuit breaker, a drift check with drifted
features and its alert, and audited calls. Set up as an agent would, over MCP with a token."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from mcp.client import Client

from nba_mcp_deploy.access.tokens import add_token
from nba_mcp_deploy.server.dashboard.view import VIEW_URI
from tests.conftest import NbaModels
from tests.server.http_server import HttpServer, connect, running_server

M = "next_season"
SHIFTED = ("mp", "poss")  # the features the drift check's current data moves


@dataclass(frozen=True)
class Live:
    server: HttpServer
    tokens: dict[str, str]
    drifted: list[str]
    view_html: str
    results: list[dict[str, Any]]  # two show_dashboard results (CallToolResult JSON), more traffic between


async def ok(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool}: {result.content[0].text}"  # type: ignore[union-attr]
    return dict(result.structured_content or {})


async def as_host_sees_it(client: Client) -> dict[str, Any]:
    """A show_dashboard result as a host hands it to the view (the CallToolResult's JSON)."""
    result = await client.call_tool("show_dashboard", {})
    assert not result.is_error
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


async def stage(server: HttpServer, token: str, nba: NbaModels) -> tuple[list[str], str, list[dict[str, Any]]]:
    records = nba.records(300)
    async with connect(server, token) as client:
        await ok(client, "register_model", model_id=M, version="v1.0", stage="staging", model_uri="gb.skops")
        await ok(client, "register_model", model_id=M, version="v2.0", model_uri="strict")
        await ok(client, "deploy_model", model_id=M, version="v1.0", model_uri="gb.skops")
        await ok(client, "deploy_model", model_id=M, version="v2.0", model_uri="strict", set_active=False)
        await ok(client, "setup_ab_test", model_id=M, versions=["v1.0", "v2.0"], weights=[0.7, 0.3])
        for start in range(0, 40, 4):
            await ok(client, "predict", model_id=M, inputs=records[start : start + 4])
        corrupted = [{**records[0], "mp": 9999.0}]  # the strict v2.0 refuses implausible minutes
        for _ in range(8):
            await client.call_tool("predict", {"model_id": M, "inputs": corrupted, "version": "v2.0"})
        await ok(client, "set_reference_data", model_id=M, records=records)
        current = [{**r, **{name: r[name] * 1.6 for name in SHIFTED}} for r in records]
        drift = await ok(client, "detect_drift", model_id=M, current_records=current)
        html = (await client.read_resource(VIEW_URI)).contents[0].text  # type: ignore[union-attr]
        for start in range(40, 60, 4):  # a few seconds of traffic, so the sparklines have points
            await anyio.sleep(0.6)
            await ok(client, "predict", model_id=M, inputs=records[start : start + 4])
        first = await as_host_sees_it(client)
        await anyio.sleep(1.1)
        await ok(client, "predict", model_id=M, inputs=records[60:64])
        second = await as_host_sees_it(client)
    return list(drift["drifted_features"]), html, [first, second]


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[Live]:
    workdir = tmp_path_factory.mktemp("dashboard")
    (workdir / "models").mkdir()
    (workdir / "data").mkdir()
    shutil.copy(nba.skops_file, workdir / "models" / "gb.skops")
    shutil.copytree(nba.strict_dir, workdir / "models" / "strict")
    tokens_file = workdir / "tokens"
    tokens = {role: add_token(tokens_file, name, role) for role, name in (("viewer", "grafana"), ("admin", "alice"))}
    env = {
        "NBA_MCP_AUTH_TOKENS_FILE": str(tokens_file),
        "NBA_MCP_REGISTRY_FSYNC": "false",
        "NBA_MCP_LOG_LEVEL": "WARNING",
        "NBA_MCP_BREAKER_WINDOW": "10",
        "NBA_MCP_BREAKER_MIN_CALLS": "5",
        "NBA_MCP_BREAKER_OPEN_SEC": "900",
        "NBA_MCP_HEALTH_CHECK_INTERVAL_SEC": "1",
        "NBA_MCP_ROUTING_SEED": "7",
    }
    with running_server(workdir, **env) as server:
        drifted, html, results = anyio.run(stage, server, tokens["admin"], nba)
        yield Live(server, tokens, drifted, html, results)
