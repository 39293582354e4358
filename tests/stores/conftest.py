"""The contract suite's fixtures: each test runs once per store implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nba_mcp_deploy.registry.store import RegistryStore
from tests.stores.implementations import OPENERS

OpenStore = Callable[[], RegistryStore]


@pytest.fixture(params=sorted(OPENERS))
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each implementation in turn; PostgreSQL's starts the session's server first."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres")
    return str(request.param)


@pytest.fixture
def open_store(store_kind: str, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens (or reopens) the test's store; every store opened is closed at the end."""
    opened: list[RegistryStore] = []

    def open_() -> RegistryStore:
        store = OPENERS[store_kind](tmp_path / "registry")
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> RegistryStore:
    return open_store()
