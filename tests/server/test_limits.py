"""The configurable input limits, through the MCP client: each refusal names the field and the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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


@pytest.fixture
async def agent(config: DeploymentConfig, nba: NbaModels, tmp_path: Path) -> AsyncIterator[Agent]:
    roots = make_roots(tmp_path, nba)
    limited = config.replace(
        model_roots=(roots.models,),
        data_roots=(roots.data,),
        max_records_per_predict=5,
        max_features_per_record=8,
        max_reference_rows=50,
    )
    services = build_services(limited)
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        agent = Agent(client, services)
        await agent.ok("deploy_model", model_id="m", version="v1.0", model_uri="logistic.joblib")
        yield agent
    services.close()


async def test_records_per_predict(agent: Agent, nba: NbaModels) -> None:
    await agent.ok("predict", model_id="m", inputs=nba.records(5))
    text = await agent.error("predict", model_id="m", inputs=nba.records(6))
    assert "inputs" in text and "at most 5 items" in text


async def test_features_per_record(agent: Agent, nba: NbaModels) -> None:
    text = await agent.error("predict", model_id="m", inputs=[{**nba.records(1)[0], "extra": 1.0}])
    assert "inputs.0" in text and "at most 8 items" in text


async def test_reference_rows_inline_and_from_a_file(agent: Agent, nba: NbaModels) -> None:
    await agent.ok("set_reference_data", model_id="m", records=nba.records(50))
    text = await agent.error("set_reference_data", model_id="m", records=nba.records(51))
    assert "invalid records: got '51 rows'; at most 50 rows" in text
    text = await agent.error("set_reference_data", model_id="m", path="reference.csv")  # 300 rows
    assert "invalid path" in text and "at most 50 rows" in text
