"""Calling `predict` from the event loop without stalling it (the MCP tool and the HTTP routes).

Scoring a few rows costs less than the hop to a worker thread, so they run on the loop; larger
requests run on a worker thread. When the model batches requests, a small request
is submitted to its batch and awaited, so waiting for others to join holds neither the loop nor a
thread. A batch's worker completes its requests one after another; `_Completions` hands them to
the loop with one wake-up per burst rather than one per request (a wake-up is a write to the
loop's self-pipe and a fight for the GIL).
"""

import asyncio
import functools
import threading
import weakref
from concurrent.futures import Future
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
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[PredictionResult] = loop.create_future()
    completions = _completions(loop)
    future.add_done_callback(functools.partial(completions.deliver, waiter))
    return await waiter


class _Completions:
    """Results finished on worker threads, handed to one event loop in bursts."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._ready: list[tuple[asyncio.Future[Any], Future[Any]]] = []
        self._scheduled = False

    def deliver(self, waiter: "asyncio.Future[Any]", done: Future[Any]) -> None:
        """Called on the thread that completed `done`: queue it, waking the loop if it is not due to drain."""
        with self._lock:
            self._ready.append((waiter, done))
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
            self._scheduled = False
        for waiter, done in ready:
            if waiter.cancelled():
                continue
            error = done.exception()
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(done.result())


_LOOPS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Completions]" = weakref.WeakKeyDictionary()


def _completions(loop: asyncio.AbstractEventLoop) -> _Completions:
    found = _LOOPS.get(loop)
    if found is None:
        found = _LOOPS[loop] = _Completions(loop)
    return found
