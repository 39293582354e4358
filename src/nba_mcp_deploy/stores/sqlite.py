"""`SqliteRegistryStore`: the embedded registry store, one `registry.db` in the registry directory.

- WAL mode: readers never block the writer; several processes may share the directory.
- Every write is one `BEGIN IMMEDIATE` transaction; a busy timeout makes other processes
  wait for the write lock instead of failing. Threads of one process queue on a lock first,
  so they hand the write lock over without SQLite's sleeping back-off.
- `synchronous=FULL` by default: a write is on disk when the call returns, even across a
  power cut. `sync_every_commit=False` (synchronous=NORMAL) still survives a killed process.
- One connection per thread (the MCP server calls from worker threads).
- The SQL itself is `sql_store.py` and its role mixins, shared with PostgreSQL.
- sqlite3 errors are translated into our tree here, at the edge (like httpx's
  `map_httpcore_exceptions`): busy -> StoreError, constraint -> ConflictError, damage ->
  StoreError naming the file.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nba_mcp_deploy.errors import ConflictError, DeployError, StoreError
from nba_mcp_deploy.stores.sql_database import SqlConnection, SqlFlavour
from nba_mcp_deploy.stores.sql_search import SQLITE
from nba_mcp_deploy.stores.sql_store import SqlRegistryStore
from nba_mcp_deploy.stores.sqlite_file import inspect_database_file, refuse
from nba_mcp_deploy.stores.sqlite_schema import prepare

FILE_NAME = "registry.db"


class SqliteRegistryStore(SqlRegistryStore):
    """A RegistryStore in `<directory>/registry.db` (created on first use, verified on every open).

    Subclassing the Protocol makes mypy check every method against the contract.
    """

    flavour = SqlFlavour(search=SQLITE, lock_rows="", needs_serialising=False)

    def __init__(
        self,
        directory: Path,
        *,
        busy_timeout_sec: float = 30.0,
        sync_every_commit: bool = True,
        check_integrity: bool = True,
    ) -> None:
        self._path = Path(directory) / FILE_NAME
        self._busy_timeout_sec = busy_timeout_sec
        self._synchronous = "FULL" if sync_every_commit else "NORMAL"
        self._local = threading.local()
        self._connections: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self._open(check_integrity=check_integrity)

    def _open(self, *, check_integrity: bool) -> None:
        """Create the directory, refuse a foreign or damaged file, create or upgrade the schema."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the registry directory {str(self._path.parent)!r}: {exc}") from exc
        inspect_database_file(self._path)
        try:
            with self._translated():
                prepare(
                    self._connection(),
                    self._path,
                    check_integrity=check_integrity,
                    busy_timeout_sec=self._busy_timeout_sec,
                )
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def where(self) -> str:
        return repr(str(self._path))

    def _insert(self, conn: SqlConnection, sql: str, params: Sequence[Any], id_column: str) -> int:
        rowid = conn.execute(sql, params).lastrowid
        if rowid is None:  # an INSERT into a rowid table always sets it
            raise StoreError("the registry database did not report the id of an inserted row")
        return int(rowid)

    # -- resources -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._connections_lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for _, conn in connections:
            conn.close()

    # -- internals -------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (closing connections of finished threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed:
            return conn
        with self._connections_lock:
            if self._closed:
                raise StoreError(f"the registry store {str(self._path)!r} is closed")
            finished = [(t, c) for t, c in self._connections if (thread := t()) is None or not thread.is_alive()]
            for entry in finished:
                entry[1].close()
                self._connections.remove(entry)
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout_sec,
                isolation_level=None,
                check_same_thread=False,
            )
            self._connections.append((weakref.ref(threading.current_thread()), conn))
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing, durable when the block exits."""
        with self._write_lock, self._translated():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement inside sees the same snapshot."""
        with self._translated():
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """sqlite3 and OS errors become ours; our own errors pass through."""
        try:
            yield
        except Exception as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def _translate(self, exc: Exception) -> DeployError | None:
        """Our error for a sqlite3 or OS error; None for any other (ours included), raised as it is."""
        if isinstance(exc, DeployError):
            return None
        if isinstance(exc, sqlite3.IntegrityError):
            return ConflictError(f"the registry refused a write that breaks one of its rules: {exc}")
        if isinstance(exc, sqlite3.OperationalError):
            if "locked" in str(exc) or "busy" in str(exc):
                return StoreError(
                    f"the registry database {self.where} stayed locked by another process for "
                    f"more than {self._busy_timeout_sec:g}s; try again"
                )
            return StoreError(f"the registry database {self.where} failed: {exc}")
        if isinstance(exc, sqlite3.DatabaseError):
            return refuse(self._path, f"SQLite reports: {exc}")
        if isinstance(exc, sqlite3.Error | OSError):
            return StoreError(f"the registry database {self.where} failed: {exc}")
        return None
