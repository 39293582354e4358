"""Every tool that takes a path confines it to its roots: traversal, absolute paths outside and
symlinks escaping a root are refused with the field named, and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.server.conftest import Agent
from tests.server.roots import make_roots

pytestmark = pytest.mark.anyio

M = "m"
# tool -> (its path field, arguments around it). A tool with a path-like field must be listed.
PATH_TAKING: dict[str, tuple[str, dict[str, Any]]] = {
    "deploy_model": ("model_uri", {"model_id": M, "version": "v3.0"}),
    "set_reference_data": ("path", {"model_id": M}),
    "detect_drift": ("current_path", {"model_id": M}),
}
KINDS = {"model_uri": "models", "path": "data", "current_path": "data"}


@pytest.fixture
async def agent(config: DeploymentConfig, nba: NbaModels, tmp_path: Path) -> AsyncIterator[Agent]:
    roots = make_roots(tmp_path, nba)
    services = build_services(config.replace(model_roots=(roots.models,), data_roots=(roots.data,)))
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        agent = Agent(client, services)
        await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri="logistic.joblib")
        await agent.ok("set_reference_data", model_id=M, path="reference.csv")
        yield agent
    services.close()


def outside_paths(field: str, tmp_path: Path) -> list[str]:
    name = "secret.joblib" if KINDS[field] == "models" else "secret.csv"
    link = "escape.joblib" if KINDS[field] == "models" else "escape.csv"
    return [
        link,
        f"escape_dir/{name}",
        f"../outside/{name}",
        f"./../../{tmp_path.name}/outside/{name}",
        str(tmp_path / "outside" / name),
        f"file://{tmp_path / 'outside' / name}" if field == "model_uri" else str(tmp_path / "outside" / name),
    ]


async def test_every_tool_with_a_path_argument_is_covered_here(agent: Agent) -> None:
    tools = (await agent.client.list_tools()).tools
    path_like = {
        (t.name, name)
        for t in tools
        for name in t.input_schema.get("properties", {})
        if name in ("model_uri", "path", "file") or name.endswith(("_path", "_uri", "_file"))
    }
    covered = {(tool, field) for tool, (field, _) in PATH_TAKING.items()} | {("register_model", "model_uri")}
    assert path_like <= covered, f"add these to PATH_TAKING: {sorted(path_like - covered)}"


@pytest.mark.parametrize("tool", sorted(PATH_TAKING))
async def test_paths_outside_the_roots_are_refused(agent: Agent, tool: str, tmp_path: Path) -> None:
    field, arguments = PATH_TAKING[tool]
    before = await agent.ok("list_deployments")
    for path in outside_paths(field, tmp_path):
        text = await agent.error(tool, **arguments, **{field: path})
        assert text.startswith(f"Error executing tool {tool}: permission denied: {field}"), (path, text)
        assert "outside the trusted directories" in text
    assert await agent.ok("list_deployments") == before


@pytest.mark.parametrize("tool", sorted(PATH_TAKING))
async def test_paths_inside_the_roots_work(agent: Agent, tool: str) -> None:
    field, arguments = PATH_TAKING[tool]
    inside = "gb.skops" if KINDS[field] == "models" else "reference.csv"
    await agent.ok(tool, **arguments, **{field: inside})


async def test_a_registered_uri_outside_the_roots_is_refused_when_promotion_deploys_it(
    agent: Agent, tmp_path: Path
) -> None:
    """register_model only records the URI; the deploy on promotion is where it is confined."""
    secret = str(tmp_path / "outside" / "secret.joblib")
    await agent.ok("register_model", model_id=M, version="v5.0", model_uri=secret, stage="staging")
    text = await agent.error("promote_model", model_id=M, version="v5.0", target_stage="production")
    assert "permission denied: model_uri" in text and "outside the trusted directories" in text
    deployed = await agent.ok("list_deployments")
    assert [v["version"] for v in deployed["deployments"][0]["versions"]] == ["v1.0"]


@pytest.mark.parametrize("tool", sorted(PATH_TAKING))
async def test_unusable_paths_are_invalid_arguments_naming_the_field(agent: Agent, tool: str) -> None:
    field, arguments = PATH_TAKING[tool]
    for path in ("nul\x00byte", "x" * 300):  # a NUL byte; a name longer than the file system allows
        text = await agent.error(tool, **arguments, **{field: path})
        assert text.startswith(f"Error executing tool {tool}: invalid argument: invalid {field}"), text
