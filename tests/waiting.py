"""Waiting for what background threads do: poll a condition until it holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.005) -> float:
    """Seconds until `condition()` was true; AssertionError once `timeout` seconds have passed."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"the condition did not hold within {timeout:g} s")
        time.sleep(interval)
    return time.monotonic() - start


async def wait_until(check: Callable[[], Awaitable[object]], timeout: float, interval: float = 0.01) -> float:
    """`wait_for` for an async `check` (an MCP call, say), sleeping without blocking the loop."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"the condition did not hold within {timeout:g} s")
        await anyio.sleep(interval)
    return time.monotonic() - start
