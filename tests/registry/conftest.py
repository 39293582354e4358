"""A real registry on a real (temporary) sqlite store, with a clock that moves only when told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteRegistryStore]:
    store = SqliteRegistryStore(tmp_path / "registry")
    yield store
    store.close()


@pytest.fixture
def registry(store: SqliteRegistryStore, clock: ManualClock) -> ModelRegistry:
    return ModelRegistry(store, clock=clock)
