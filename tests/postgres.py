"""The test session's PostgreSQL server (`tools/local_postgres.py`) and a schema per test store.

One cluster serves the whole session; every store a test opens lives in a schema of its own,
named after the directory the test would have given a sqlite store, so a test (or a child
process it starts) reopens the same store from the same directory. The server's URL travels to
child processes in `NBA_TEST_POSTGRES_URL` (not an NBA_MCP_ variable: the server refuses
unknown ones). Without PostgreSQL installed the PostgreSQL cases are skipped — except in CI
(`CI=true`), where they fail: CI installs PostgreSQL (`.ci/run`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.local_postgres import LocalPostgres, find_binaries

from tests.ci import in_ci

ENV_URL = "NBA_TEST_POSTGRES_URL"
DATABASE = "registry_tests"


def require_postgres() -> None:
    """Skip (locally) or fail (in CI) when the PostgreSQL server binaries are missing."""
    if find_binaries() is not None:
        return
    if in_ci():
        pytest.fail("PostgreSQL is not installed; in CI .ci/run must apt-get install postgresql", pytrace=False)
    pytest.skip("PostgreSQL is not installed here (apt-get install postgresql); CI runs these cases")


@contextlib.contextmanager
def session_server() -> Iterator[LocalPostgres]:
    """Start the cluster and publish its URL to this process and its children."""
    require_postgres()
    with LocalPostgres(fast=True) as server:
        server.create_database(DATABASE)
        previous = os.environ.get(ENV_URL)
        os.environ[ENV_URL] = server.url(DATABASE)
        try:
            yield server
        finally:
            if previous is None:
                os.environ.pop(ENV_URL, None)
            else:
                os.environ[ENV_URL] = previous


def schema_for(directory: Path) -> str:
    return "t_" + hashlib.sha1(str(Path(directory).absolute()).encode()).hexdigest()[:24]


def url_for(directory: Path) -> str:
    """The URL of the store that stands for `directory` (its schema is created on first use)."""
    import psycopg
    from psycopg import errors

    base = os.environ.get(ENV_URL)
    if base is None:
        raise RuntimeError(f"no test PostgreSQL server: use the `postgres` fixture (it sets {ENV_URL})")
    schema = schema_for(directory)
    conninfo = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with (
        psycopg.connect(conninfo, autocommit=True) as conn,
        contextlib.suppress(errors.DuplicateSchema, errors.UniqueViolation),
    ):
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return f"{base}?options=-csearch_path%3D{schema}"
