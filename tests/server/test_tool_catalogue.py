"""The stdio server answers its first `tools/list` from the previous start's catalogue, faithfully.

The catalogue must list exactly what the built tools list, be used only under the fingerprint it
was saved with, and never stand in the way: a stale, corrupt or unwritable catalogue only means
the tools are built first.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import stdio_client

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.tool_catalogue import CATALOGUE_FILE, CATALOGUE_HIT, ToolCatalogue, fingerprint
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.server.test_stdio import mcp_json_server

pytestmark = pytest.mark.anyio


def listing(tools: Any) -> list[dict[str, Any]]:
    """tools/list as the client received it, field for field."""
    return [t.model_dump(mode="json", by_alias=True, exclude_unset=True) for t in tools.tools]


async def test_a_second_server_lists_from_the_catalogue_then_builds_on_the_first_call(
    config: DeploymentConfig, tmp_path: Path
) -> None:
    catalogue = ToolCatalogue(tmp_path / "catalogue.json", "build-1")
    services = build_services(config)
    try:
        first = build_server(ServiceHost.ready_made(services), catalogue=catalogue)
        async with Client(first) as client:
            built = listing(await client.list_tools())
        assert not first.has_pending
        saved = json.loads(catalogue.path.read_text())
        assert saved["fingerprint"] == "build-1" and [t["name"] for t in saved["tools"]] == [t["name"] for t in built]

        second = build_server(ServiceHost.ready_made(services), catalogue=catalogue)
        async with Client(second) as client:
            assert listing(await client.list_tools()) == built
            assert second.has_pending  # answered without building a single tool
            health = await client.call_tool("health_check", {})
            assert not health.is_error and health.structured_content is not None
            assert not second.has_pending
            resources = await client.list_resources()
            assert "registry://models" in {str(r.uri) for r in resources.resources}
    finally:
        services.close()


async def test_a_call_before_any_listing_passes_the_access_gate(config: DeploymentConfig, tmp_path: Path) -> None:
    catalogue = ToolCatalogue(tmp_path / "catalogue.json", "build-1")
    async with Client(build_server(ServiceHost(config), catalogue=catalogue)) as client:
        await client.list_tools()  # the catalogue is written
    viewer = config.replace(role="viewer")
    server = build_server(ServiceHost(viewer), catalogue=catalogue)
    async with Client(server) as client:
        assert server.has_pending
        denied = await client.call_tool("register_model", {"model_id": "m", "version": "v1.0"})
    assert denied.is_error
    assert denied.content[0].text.startswith("permission denied: register_model needs the WRITE permission")


@pytest.mark.parametrize(
    "spoil",
    [
        lambda path: path.write_text(json.dumps({"fingerprint": "build-0", "tools": []})),  # another build
        lambda path: path.write_bytes(b"\x00garbage{"),  # corrupt
        lambda path: path.write_text(json.dumps({"fingerprint": "build-1", "tools": [{"name": 3}]})),  # malformed
    ],
    ids=["stale", "corrupt", "malformed"],
)
async def test_a_catalogue_that_cannot_be_trusted_is_rebuilt(config: DeploymentConfig, tmp_path: Path, spoil) -> None:
    catalogue = ToolCatalogue(tmp_path / "catalogue.json", "build-1")
    spoil(catalogue.path)
    server = build_server(ServiceHost(config), catalogue=catalogue)
    async with Client(server) as client:
        tools = listing(await client.list_tools())
    assert not server.has_pending and len(tools) > 30
    assert json.loads(catalogue.path.read_text())["fingerprint"] == "build-1"
    assert ToolCatalogue(catalogue.path, "build-1").load() is not None


async def test_an_unwritable_catalogue_costs_only_time(config: DeploymentConfig, tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the cache directory would go")
    catalogue = ToolCatalogue(tmp_path / "not-a-dir" / "catalogue.json", "build-1")
    async with Client(build_server(ServiceHost(config), catalogue=catalogue)) as client:
        assert len((await client.list_tools()).tools) > 30
    assert catalogue.load() is None
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-dir"]  # no temporary file left behind


def test_the_fingerprint_changes_with_the_source_and_the_configuration(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "server").mkdir(parents=True)
    module = package / "server" / "tools.py"
    module.write_text("X = 1\n")
    config = DeploymentConfig(registry_dir=tmp_path / "registry")
    key = fingerprint(config, package)
    assert fingerprint(config, package) == key
    assert fingerprint(config.replace(max_records_per_predict=7), package) != key
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert fingerprint(config, package) != key
    touched = fingerprint(config, package)
    (package / "server" / "new.py").write_text("")
    assert fingerprint(config, package) != touched


@pytest.mark.slow
async def test_a_restarted_stdio_server_answers_from_the_catalogue_and_serves(tmp_path: Path, nba: NbaModels) -> None:
    (tmp_path / "models").mkdir()
    shutil.copy(nba.skops_file, tmp_path / "models" / "gb.skops")
    lists = []
    for start in ("first", "second"):
        with (tmp_path / f"{start}.log").open("w") as log:
            async with Client(stdio_client(mcp_json_server(tmp_path), errlog=log)) as client:
                lists.append(listing(await client.list_tools()))
                deployed = await client.call_tool(
                    "deploy_model", {"model_id": f"m_{start}", "version": "v1.0", "model_uri": "gb.skops"}
                )
                assert not deployed.is_error, deployed.content
                answer = await client.call_tool("predict", {"model_id": f"m_{start}", "inputs": nba.records(1)})
                assert not answer.is_error, answer.content
    assert lists[0] == lists[1]
    assert (tmp_path / "model_registry" / CATALOGUE_FILE).exists()
    hits = {
        start: [
            json.loads(line) for line in (tmp_path / f"{start}.log").read_text().splitlines() if CATALOGUE_HIT in line
        ]
        for start in ("first", "second")
    }
    assert hits["first"] == [] and len(hits["second"]) == 1 and hits["second"][0]["tools"] == len(lists[1])
