"""An MCP client connected in memory to a server over real services and real NBA models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp.client import Client

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import Services, build_services


class Agent:
    """Calls tools the way an agent does and unpacks results."""

    def __init__(self, client: Client, services: Services) -> None:
        self.client = client
        self.services = services

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
        assert result.structured_content is not None
        return dict(result.structured_content)

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, f"{tool} should have failed: {result.structured_content}"
        return result.content[0].text  # type: ignore[union-attr]


@pytest.fixture
async def agent(config: DeploymentConfig) -> AsyncIterator[Agent]:
    services = build_services(config.replace(breaker_minimum_calls=5, breaker_window_size=10))
    server = build_server(ServiceHost.ready_made(services))
    async with Client(server) as client:
        yield Agent(client, services)
    services.close()
