"""`show_dashboard` through the real MCP client (in memory): an MCP App tool bound to a readable
`ui://` view, answering with structured content and text, the audit log by role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from mcp.client import Client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.dashboard.view import VIEW_URI
from nba_mcp_deploy.services import build_services
from tests.server.conftest import Agent
from tests.serving.doubles import SumModel

pytestmark = pytest.mark.anyio


async def test_the_tool_is_an_mcp_app_bound_to_a_readable_view(agent: Agent) -> None:
    tools = {t.name: t for t in (await agent.client.list_tools()).tools}
    tool = tools["show_dashboard"]
    assert tool.meta == {"ui": {"resourceUri": VIEW_URI}}
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tool.output_schema is not None and {"models", "alerts", "audit"} <= set(tool.output_schema["properties"])
    assert tool.description is not None and tool.description.endswith("Needs the READ permission.")
    listed = {r.uri: r for r in (await agent.client.list_resources()).resources}
    assert listed[VIEW_URI].mime_type == APP_MIME_TYPE
    (content,) = (await agent.client.read_resource(VIEW_URI)).contents
    html = content.text  # type: ignore[union-attr]
    assert content.mime_type == APP_MIME_TYPE and html.startswith("<!DOCTYPE html>") and 'data-mode="app"' in html
    assert "{{" not in html and "ui/initialize" in html and "tools/call" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing loaded from the network
    capabilities = agent.client.session.server_capabilities  # type: ignore[attr-defined]
    assert capabilities is not None and EXTENSION_ID in (capabilities.extensions or {})


async def test_structured_content_and_a_text_summary(agent: Agent) -> None:
    manager = agent.services.manager
    manager.deploy_model("m", "v1.0", model_instance=SumModel())
    manager.deploy_model("m", "v2.0", model_instance=SumModel(1), set_active=False)
    await agent.ok("setup_ab_test", model_id="m", versions=["v1.0", "v2.0"], weights=[0.6, 0.4])
    result = await agent.client.call_tool("show_dashboard", {})
    assert not result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith("Deployment dashboard (1 model(s)): healthy") and "traffic (A/B): v1.0 60%" in text
    data = result.structured_content
    assert data is not None and data["model_filter"] is None
    (model,) = data["models"]
    assert [(s["version"], s["weight"]) for s in model["traffic"]["shares"]] == [("v1.0", 0.6), ("v2.0", 0.4)]
    assert data["audit"]["available"] is True and data["audit"]["entries"][0]["tool"] == "setup_ab_test"
    one = await agent.ok("show_dashboard", model_id="m")
    assert one["model_filter"] == "m"
    assert "not found" in await agent.error("show_dashboard", model_id="ghost")
    assert "model_id" in await agent.error("show_dashboard", model_id="../etc")


@pytest.fixture
async def viewer(config: DeploymentConfig) -> AsyncIterator[Client]:
    services = build_services(config.replace(role="viewer"))
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        yield client
    services.close()


async def test_a_viewer_sees_the_dashboard_without_the_audit_log(viewer: Client) -> None:
    result = await viewer.call_tool("show_dashboard", {})
    assert not result.is_error and result.structured_content is not None
    audit = result.structured_content["audit"]
    assert audit == {"available": False, "note": "the audit log needs the ADMIN permission (role admin)", "entries": []}
