"""Over a real stdio subprocess the process has one role, from NBA_MCP_ROLE (default admin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import console_script, subprocess_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def server(cwd: Path, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(console_script()),
        args=["serve"],
        env=subprocess_env(NBA_MCP_REGISTRY_FSYNC="false", **env),
        cwd=str(cwd),
    )


async def test_a_viewer_process_reads_but_cannot_write(tmp_path: Path) -> None:
    with (tmp_path / "server.log").open("w") as log:
        async with Client(stdio_client(server(tmp_path, NBA_MCP_ROLE="viewer"), errlog=log)) as client:
            denied = await client.call_tool("register_model", {"model_id": "m", "version": "v1.0"})
            assert denied.is_error
            assert denied.content[0].text.startswith("permission denied: register_model needs the WRITE permission")
            assert "caller 'local' has role 'viewer'" in denied.content[0].text
            assert not (await client.call_tool("registry_stats", {})).is_error
            assert (await client.call_tool("get_audit_log", {})).is_error


async def test_the_default_role_is_admin(tmp_path: Path) -> None:
    with (tmp_path / "server.log").open("w") as log:
        async with Client(stdio_client(server(tmp_path), errlog=log)) as client:
            assert not (await client.call_tool("register_model", {"model_id": "m", "version": "v1.0"})).is_error
            log_result = await client.call_tool("get_audit_log", {})
    assert not log_result.is_error
    entry = log_result.structured_content["entries"][0]
    assert (entry["caller"], entry["role"], entry["tool"], entry["outcome"]) == (
        "local",
        "admin",
        "register_model",
        "ok",
    )
