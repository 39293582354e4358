"""The sqlite registry's schema, and the checks that a file is ours before it is used.

A registry file carries our `application_id` and a `user_version` (the schema number) in its
header, and its Alembic revision in the `nba_registry_version` table (see `migrations/`). A
file at the newest revision is only verified (no Alembic, no SQLAlchemy: opening stays fast).
Anything older is brought up to date by the Alembic revisions in one `BEGIN IMMEDIATE`
transaction, so two processes opening one directory at once cannot both create or upgrade the
schema: the second waits, then finds the work done. A file from before Alembic (schema 1, 2 or
3 in `user_version`, no version table) is stamped with the revision it equals first. Anything
else — another application's database, a newer schema, a file that fails SQLite's quick check
— is refused, never reset.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.ddl import TABLES
from nba_mcp_deploy.stores.migrations import HEAD, LEGACY, REVISIONS, SCHEMA_VERSION, VERSION_TABLE, upgrade
from nba_mcp_deploy.stores.sqlite_file import refuse

APPLICATION_ID = 0x4E42_4152  # "NBAR": nba-mcp-deploy registry


def prepare(conn: sqlite3.Connection, path: Path, *, check_integrity: bool, busy_timeout_sec: float = 30.0) -> None:
    """Make sure `conn` is on a usable registry: create the schema in a new file, upgrade an older
    one of ours, verify every one."""
    application_id = _pragma(conn, "application_id")
    if application_id != APPLICATION_ID and (application_id != 0 or _table_names(conn)):
        raise refuse(
            path,
            f"it is a SQLite database of another application (application_id {application_id:#x}, "
            f"a registry has {APPLICATION_ID:#x})",
        )
    if application_id != APPLICATION_ID or _revision(conn) != HEAD:
        if application_id == APPLICATION_ID:
            _check_known(conn, path)
            if check_integrity:
                _quick_check(conn, path)
        else:
            conn.execute("PRAGMA journal_mode = WAL")
        _migrate(path, busy_timeout_sec)
    _verify(conn, path, check_integrity=check_integrity)


def _verify(conn: sqlite3.Connection, path: Path, *, check_integrity: bool) -> None:
    application_id = _pragma(conn, "application_id")
    if application_id != APPLICATION_ID:
        raise refuse(path, f"another process initialised it as something else (application_id {application_id:#x})")
    _check_known(conn, path)
    if _revision(conn) != HEAD:
        raise refuse(path, f"its schema revision is {_revision(conn)!r} after upgrading, expected {HEAD!r}")
    if check_integrity:
        _quick_check(conn, path)
    missing = TABLES - _table_names(conn)
    if missing:
        raise refuse(path, f"tables are missing: {', '.join(sorted(missing))}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


def _check_known(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a schema this version cannot read: newer, or a number it never wrote."""
    schema = _pragma(conn, "user_version")
    revision = _revision(conn)
    if schema > SCHEMA_VERSION or (revision is not None and revision not in REVISIONS):
        found = f"schema {schema}" + ("" if revision is None else f", revision {revision}")
        raise refuse(
            path,
            f"it was written by a newer nba-mcp-deploy ({found}; this version reads schema "
            f"{SCHEMA_VERSION}); upgrade nba-mcp-deploy",
        )
    if revision is not None and schema != REVISIONS[revision]:
        raise refuse(path, f"its schema version {schema} does not match its schema revision {revision}")
    if revision is None and schema == SCHEMA_VERSION:
        missing = (TABLES | {VERSION_TABLE}) - _table_names(conn)
        raise refuse(path, f"tables are missing: {', '.join(sorted(missing))}")
    if revision is None and schema not in LEGACY:
        raise refuse(path, f"its schema version {schema} is not one this version knows (expected {SCHEMA_VERSION})")


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        raise refuse(path, f"it is corrupt (SQLite quick_check: {'; '.join(problems)})")


def _migrate(path: Path, busy_timeout_sec: float) -> None:
    """Create or upgrade the schema with the Alembic revisions, in one write transaction.

    What to do is decided again under the write lock: another process may have created or
    upgraded the file while this one waited for it.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": busy_timeout_sec})

    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours (below), not the driver's

    @event.listens_for(engine, "begin")
    def _write_lock(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            application_id = _pragma(raw, "application_id")
            if application_id == 0 and not _table_names(raw):
                upgrade(connection)
                connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            elif application_id == APPLICATION_ID:
                _check_known(raw, path)
                revision = _revision(raw)
                upgrade(connection, stamp=LEGACY[_pragma(raw, "user_version")] if revision is None else None)
            else:
                return  # another process made it something else: _verify refuses it
            connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except DBAPIError as exc:
        # The sqlite3 error underneath, for the store to translate like any other.
        raise exc.orig if isinstance(exc.orig, sqlite3.Error) else StoreError(str(exc)) from exc
    except StoreError:
        raise
    except Exception as exc:  # Alembic's own errors (a broken revision chain)
        raise StoreError(f"the registry database {str(path)!r} could not be upgraded: {exc}") from exc
    finally:
        engine.dispose()


def _revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision recorded in the file; None before Alembic (or in a new file)."""
    if VERSION_TABLE not in _table_names(conn):
        return None
    row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    return None if row is None else str(row[0])


def _pragma(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def _table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
