"""The real thing: `mcp.json`'s command started as a subprocess, driven over stdio."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import REPO, NbaModels, console_script, subprocess_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def mcp_json_server(cwd: Path) -> StdioServerParameters:
    """The server entry of mcp.json, its relative command taken from the repository root."""
    entry = json.loads((REPO / "mcp.json").read_text())["mcpServers"]["nba-mcp-deploy"]
    command = REPO / entry["command"]
    if not command.exists():  # a checkout whose virtual environment lives elsewhere
        command = console_script()
    assert command.exists(), f"{command} missing: run `make install` first"
    return StdioServerParameters(
        command=str(command), args=entry["args"], env=subprocess_env(**entry["env"]), cwd=str(cwd)
    )


async def test_server_from_mcp_json_serves_over_stdio(tmp_path: Path, nba: NbaModels) -> None:
    (tmp_path / "models").mkdir()
    shutil.copy(nba.skops_file, tmp_path / "models" / "gb.skops")
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        async with Client(stdio_client(mcp_json_server(tmp_path), errlog=log)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"deploy_model", "predict", "health_check"} <= tools
            deployed = await client.call_tool(
                "deploy_model", {"model_id": "next_season", "version": "v1.0", "model_uri": "gb.skops"}
            )
            assert not deployed.is_error, deployed.content
            answer = await client.call_tool("predict", {"model_id": "next_season", "inputs": nba.records(2)})
            assert not answer.is_error, answer.content
            assert answer.structured_content["version"] == "v1.0"
            assert len(answer.structured_content["predictions"]) == 2
            bad = await client.call_tool("predict", {"model_id": "next_season", "inputs": [{"mp": 1}]})
            assert bad.is_error and "missing [poss" in bad.content[0].text
            health = await client.call_tool("health_check", {})
            assert health.structured_content["status"] == "healthy"
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert lines, "the server should log to stderr"
    records = [json.loads(line) for line in lines]  # every stderr line is a JSON object
    refused = [r for r in records if r.get("message") == "tool refused"]
    assert refused and refused[0]["tool"] == "predict" and refused[0]["model_id"] == "next_season"


async def test_a_restarted_server_finds_its_deployments_serving(tmp_path: Path, nba: NbaModels) -> None:
    (tmp_path / "models").mkdir()
    shutil.copy(nba.skops_file, tmp_path / "models" / "gb.skops")
    shutil.copytree(nba.mlflow_dir, tmp_path / "models" / "logistic")
    records = nba.records(3)
    with (tmp_path / "first.log").open("w") as log:
        async with Client(stdio_client(mcp_json_server(tmp_path), errlog=log)) as client:
            for version, uri, active in (("v1.0", "gb.skops", True), ("v2.0", "logistic", False)):
                arguments = {"model_id": "next_season", "version": version, "model_uri": uri, "set_active": active}
                assert not (await client.call_tool("deploy_model", arguments)).is_error
            split = {"model_id": "next_season", "versions": ["v1.0", "v2.0"], "weights": [0.7, 0.3], "sticky": True}
            assert not (await client.call_tool("setup_ab_test", split)).is_error
            before = (await client.call_tool("list_deployments", {})).structured_content
            keyed = [
                (
                    await client.call_tool("predict", {"model_id": "next_season", "inputs": records, "request_key": k})
                ).structured_content["version"]
                for k in ("a", "b", "c", "d", "e", "f")
            ]
    with (tmp_path / "second.log").open("w") as log:
        async with Client(stdio_client(mcp_json_server(tmp_path), errlog=log)) as client:
            after = (await client.call_tool("list_deployments", {})).structured_content
            again = [
                (
                    await client.call_tool("predict", {"model_id": "next_season", "inputs": records, "request_key": k})
                ).structured_content["version"]
                for k in ("a", "b", "c", "d", "e", "f")
            ]
            health = (await client.call_tool("health_check", {})).structured_content
    strip = [{k: v for k, v in d.items() if k != "versions"} for d in before["deployments"]]
    assert strip == [{k: v for k, v in d.items() if k != "versions"} for d in after["deployments"]]
    assert [v["version"] for v in after["deployments"][0]["versions"]] == ["v1.0", "v2.0"]
    assert again == keyed
    assert health["status"] == "healthy" and health["ready"]
