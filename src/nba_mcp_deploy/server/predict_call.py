"""Calling `predict` from the event loop without stalling it (the MCP tool and the HTTP routes).

Scoring a few rows costs less than the hop to a worker thread, so they run on the loop; larger
requests run on a worker thread. When the model batches requests, a small request is submitted
to its batch and awaited, so waiting for others to join holds neither the loop nor a thread.
"""

import asyncio
import functools
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.manager import ModelServingManager
    from nba_mcp_deploy.serving.results import PredictionResult

# Requests up to this many records are scored on the event loop.
INLINE_PREDICT_ROWS = 16


async def predict_without_blocking(
    manager: "ModelServingManager",
    model_id: str,
    inputs: Any,
    version: str | None,
    request_key: str | None,
) -> "PredictionResult":
    """`manager.predict`, run where it costs least (see the module docstring)."""
    if len(inputs) > INLINE_PREDICT_ROWS:
        return await anyio.to_thread.run_sync(
            functools.partial(manager.predict, model_id, inputs, version=version, request_key=request_key)
        )
    if manager.batching_of(model_id) is None:
        return manager.predict(model_id, inputs, version=version, request_key=request_key)
    future = manager.submit_predict(model_id, inputs, version=version, request_key=request_key)
    if future.done():
        return future.result()
    return await asyncio.wrap_future(future)
