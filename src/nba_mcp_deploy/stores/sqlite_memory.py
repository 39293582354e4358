"""`MemoryRegistryStore`: the sqlite store without a file, for the Python API's mock mode.

The seed's mock mode promises a registry that writes no file. This is the same store as
`SqliteRegistryStore` (its SQL, its rules, its error translation) on one in-memory database:

- The schema is built once per process by the same Alembic revisions as every registry file,
  in a template database; each new store starts as a copy of it (sqlite's backup API).
- An in-memory database lives in one connection, so every thread shares that connection, and
  reads and writes take turns on one lock (the file store gives each thread its own connection
  and lets readers run beside the writer).
- Nothing outlives `close()`; two stores never see each other's data.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.migrations import upgrade
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

IN_MEMORY = "in-memory"

_template_lock = threading.Lock()


@functools.cache
def _template() -> tuple[Any, sqlite3.Connection]:
    """An engine and its one connection to an in-memory database at the newest schema.

    The engine is returned so that it stays referenced as long as the connection is used.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    with engine.begin() as connection:
        upgrade(connection)
        raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return engine, raw


class MemoryRegistryStore(SqliteRegistryStore):
    """A RegistryStore held in memory only; see the module docstring."""

    def __init__(self) -> None:
        self._memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        super().__init__(Path(IN_MEMORY), sync_every_commit=False, check_integrity=False)

    @property
    def path(self) -> Path:
        raise StoreError("the in-memory registry has no file")

    @property
    def where(self) -> str:
        return "(in memory)"

    def _open(self, *, check_integrity: bool) -> None:
        """Start as a copy of the template: the newest schema, no rows."""
        _, template = _template()
        with _template_lock, self._translated():
            template.backup(self._memory)
        self._memory.execute("PRAGMA foreign_keys = ON")

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the in-memory registry store is closed")
        return self._memory

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Readers share the writers' one connection, so they queue on the writers' lock (a read
        never runs inside a write: no store method nests them)."""
        with self._write_lock, super()._read() as conn:
            yield conn

    def close(self) -> None:
        with self._write_lock:
            super().close()
            self._memory.close()
