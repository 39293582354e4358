"""Every RegistryStore implementation the contract suite runs against, by name.

A store is opened from a directory so that a test can reopen it, and so that a subprocess
(see `worker.py`) can open the same one. For PostgreSQL the directory names a schema in the
session's test database (`tests/postgres.py`); a test of it needs the `postgres` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nba_mcp_deploy.registry.store import RegistryStore
from nba_mcp_deploy.stores.postgres import PostgresRegistryStore
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore
from tests.postgres import url_for

OPENERS: dict[str, Callable[[Path], RegistryStore]] = {
    "sqlite": lambda directory: SqliteRegistryStore(directory),
    "postgresql": lambda directory: PostgresRegistryStore(url_for(directory)),
}

SRC = Path(__file__).resolve().parents[2] / "src"
TESTS_ROOT = Path(__file__).resolve().parents[2]


def subprocess_env() -> dict[str, str]:
    """Environment for a child Python that must import this worktree's package and tests."""
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(TESTS_ROOT)])
    return env
