"""`PostgresRegistryStore`: the registry in a PostgreSQL database that several replicas share.

Selected by `NBA_MCP_REGISTRY_URL=postgresql+psycopg://user:password@host:5432/db`. SQLAlchemy
Core owns the connection pool (psycopg 3 underneath); the SQL is `sql_store.py` and its role mixins, the same as
sqlite's, with `?` turned into psycopg's `%s` here.

- Writes are one transaction each (READ COMMITTED). A stage change reads the rows it expects
  `FOR UPDATE`: a second replica promoting the same model waits for the first to commit, then
  sees the stage it left and is refused (ConflictError), so exactly one production version
  remains; the partial unique index enforces it as well. Outbox appends and lineage links take
  an advisory lock (commit order = seq order; no cycle built from two halves).
- Reads are one REPEATABLE READ transaction each (a search's ids and rows from one snapshot).
- Every deployment or canary save sends `NOTIFY nba_registry_control` (delivered on commit);
  `subscribe` LISTENs on a connection of its own (`postgres_listen.py`).
- SQLAlchemy and psycopg errors are translated here: a unique or foreign-key violation, a
  serialisation failure or a deadlock -> ConflictError (nothing was written; try again); an
  unreachable or failing server -> StoreError naming the database without its password.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nba_mcp_deploy.errors import ConflictError, DeployError, InvalidInputError, StoreError
from nba_mcp_deploy.stores.postgres_listen import CHANNEL, ChangeListener
from nba_mcp_deploy.stores.postgres_schema import prepare
from nba_mcp_deploy.stores.sql_database import SqlConnection, SqlFlavour
from nba_mcp_deploy.stores.sql_search import POSTGRESQL
from nba_mcp_deploy.stores.sql_store import SqlRegistryStore

if TYPE_CHECKING:
    from sqlalchemy import Connection, CursorResult

DRIVERS = ("postgresql+psycopg", "postgresql")
# SQLSTATEs after which retrying the same call may succeed: serialisation failure, deadlock.
_RETRYABLE = ("40001", "40P01")


@functools.lru_cache(maxsize=1024)
def driver_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (our SQL has no other `?` and no literal `%`)."""
    return sql.replace("?", "%s")


class _Connection:
    """A SQLAlchemy connection inside a transaction, spoken to like sqlite3's."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> CursorResult[Any]:
        return self._conn.exec_driver_sql(driver_sql(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]], /) -> CursorResult[Any]:
        return self._conn.exec_driver_sql(driver_sql(sql), [tuple(p) for p in parameters])


class PostgresRegistryStore(SqlRegistryStore):
    """A RegistryStore in the database named by a `postgresql+psycopg://` URL (schema created on first use)."""

    flavour = SqlFlavour(search=POSTGRESQL, lock_rows=" FOR UPDATE", needs_serialising=True)

    def __init__(self, url: str, *, pool_size: int = 5, connect_timeout_sec: int = 10) -> None:
        from sqlalchemy import create_engine, make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise InvalidInputError("registry_url", "<hidden>", f"not a database URL: {exc}") from None
        if parsed.drivername not in DRIVERS:
            raise InvalidInputError(
                "registry_url",
                parsed.render_as_string(hide_password=True),
                "expected postgresql+psycopg://user:password@host:port/database",
            )
        self._url = parsed.set(drivername="postgresql+psycopg")
        self._where = repr(self._url.render_as_string(hide_password=True))
        self._closed = False
        self._lock = threading.Lock()
        self._listener: ChangeListener | None = None
        self._engine = create_engine(
            self._url,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": connect_timeout_sec, "application_name": "nba-mcp-deploy"},
        )
        self._reader = self._engine.execution_options(isolation_level="REPEATABLE READ")
        try:
            with self._translated():
                prepare(self._engine, self._where)
        except BaseException:
            self.close()
            raise

    @property
    def where(self) -> str:
        return self._where

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        with self._lock:
            self._check_open()
            if self._listener is None:
                conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._listener = ChangeListener(conninfo)
            listener = self._listener
        return listener.subscribe(on_change)

    def wait_listening(self, timeout: float = 10.0) -> bool:
        """Whether `subscribe`'s LISTEN is in place (False before any subscription)."""
        listener = self._listener
        return listener is not None and listener.wait_listening(timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._engine.dispose()

    # -- internals -------------------------------------------------------------------------------

    def _insert(self, conn: SqlConnection, sql: str, params: Sequence[Any], id_column: str) -> int:
        return int(conn.execute(f"{sql} RETURNING {id_column}", params).fetchone()[0])

    def _changed(self, conn: SqlConnection, what: str) -> None:
        conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, what))

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the registry store {self._where} is closed")

    @contextmanager
    def _write(self) -> Iterator[_Connection]:
        with self._translated():
            self._check_open()
            with self._engine.begin() as conn:
                yield _Connection(conn)

    @contextmanager
    def _read(self) -> Iterator[_Connection]:
        with self._translated():
            self._check_open()
            with self._reader.begin() as conn:
                yield _Connection(conn)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLAlchemy and psycopg errors become ours; our own errors pass through."""
        from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

        try:
            yield
        except DeployError:
            raise
        except IntegrityError as exc:
            raise ConflictError(f"the registry refused a write that breaks one of its rules: {exc.orig}") from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _RETRYABLE:
                raise ConflictError(
                    f"the registry database {self._where} refused a write that raced another one "
                    f"({exc.orig}); nothing was written, try again"
                ) from exc
            raise StoreError(f"the registry database {self._where} failed: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"the registry database {self._where} failed: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the registry database {self._where} failed: {exc}") from exc
