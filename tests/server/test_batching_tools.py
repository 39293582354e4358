"""The set_batching / clear_batching tools through the in-memory MCP client, and predict calls
that wait for their batch without blocking the server's event loop."""

from __future__ import annotations

import anyio
import numpy as np
import pytest

from tests.conftest import NbaModels
from tests.server.conftest import Agent

pytestmark = pytest.mark.anyio

M = "next_season"


async def test_concurrent_predicts_share_batches_and_each_gets_its_own_answer(agent: Agent, nba: NbaModels) -> None:
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    deployment = await agent.ok("set_batching", model_id=M, max_batch_size=8, max_wait_ms=200.0)
    assert deployment["batching"] == {"max_batch_size": 8, "max_wait_ms": 200.0}
    records = nba.records(8)
    answers: dict[int, dict[str, object]] = {}

    async def one(index: int) -> None:
        answers[index] = await agent.ok("predict", model_id=M, inputs=[records[index]])

    async with anyio.create_task_group() as group:  # one event loop: a blocking wait would serialise them
        for index in range(8):
            group.start_soon(one, index)
    expected = nba.trained.boosting.predict_proba(nba.trained.holdout[list(records[0])].iloc[:8])
    for index in range(8):
        np.testing.assert_allclose(answers[index]["probabilities"], [expected[index]], rtol=1e-12)
    health = await agent.ok("health_check", model_id=M)
    batching = health["models"][0]["versions"][0]["batching"]
    assert batching["requests"] == 8 and batching["model_calls"] < 8
    cleared = await agent.ok("clear_batching", model_id=M)
    assert cleared["batching"] is None
    health = await agent.ok("health_check", model_id=M)
    assert health["models"][0]["versions"][0]["batching"] is None


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"max_batch_size": 1}, "max_batch_size"), ({"max_wait_ms": 5000}, "max_wait_ms"), ({"model_id": "ghost"}, None)],
)
async def test_bad_batching_arguments_are_refused_naming_the_field(
    agent: Agent, nba: NbaModels, arguments: dict[str, object], field: str | None
) -> None:
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    text = await agent.error("set_batching", **{"model_id": M, **arguments})
    assert (field or "not found") in text
