"""The sqlite registry's schema, and the checks that a file is ours before it is used.

A registry file carries our `application_id` and a `user_version` (the schema version) in its
header. A new file is initialised inside a write transaction, so two processes opening one
directory at once cannot both create the schema; anything else — another application's
database, a newer schema, a file that fails SQLite's quick check — is refused, never reset.
An older schema of ours is upgraded in place, in one write transaction (`MIGRATIONS`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.stores.sqlite_file import refuse

APPLICATION_ID = 0x4E42_4152  # "NBAR": nba-mcp-deploy registry
SCHEMA_VERSION = 3

_STAGES = ", ".join(f"'{s.value}'" for s in Stage)

# Versions have an integer id so the side tables that searches use (metrics, tags) join on
# integers; the `versions` row is narrow (what filters and sorts read), the documents are in
# `version_details`; (model_id, version_sort) is unique, and with canonical version spellings
# ('v1.01' is registered as 'v1.1') it identifies a version. Every index costs a page
# written per registration, so there are only the ones searches and lookups need.
STATEMENTS: tuple[str, ...] = (
    f"""CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        version_sort TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ({_STAGES})),
        framework TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        parent_model_id TEXT,
        parent_version TEXT,
        registered_at REAL NOT NULL,
        registered_by TEXT NOT NULL,
        stage_changed_at REAL NOT NULL
    )""",
    """CREATE TABLE version_details (
        version_id INTEGER PRIMARY KEY REFERENCES versions (id) ON DELETE CASCADE,
        metrics TEXT NOT NULL,
        hyperparameters TEXT NOT NULL,
        tags TEXT NOT NULL,
        description TEXT NOT NULL,
        model_uri TEXT
    )""",
    "CREATE UNIQUE INDEX versions_by_version ON versions (model_id, version_sort)",
    # The one-production-version rule, enforced by the database under any concurrency.
    "CREATE UNIQUE INDEX versions_one_production ON versions (model_id) WHERE stage = 'production'",
    "CREATE INDEX versions_by_registered ON versions (registered_at)",
    "CREATE INDEX versions_by_parent ON versions (parent_model_id, parent_version) WHERE parent_model_id IS NOT NULL",
    """CREATE TABLE version_metrics (
        version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (version_id, name)
    ) WITHOUT ROWID""",
    "CREATE INDEX version_metrics_by_value ON version_metrics (name, value)",
    """CREATE TABLE version_tags (
        version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (version_id, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX version_tags_by_value ON version_tags (key, value)",
    # History rows are never deleted, so the rowid `seq` only grows (no AUTOINCREMENT table).
    """CREATE TABLE stage_changes (
        seq INTEGER PRIMARY KEY,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        from_stage TEXT,
        to_stage TEXT,
        changed_at REAL NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        note TEXT NOT NULL
    )""",
    "CREATE INDEX stage_changes_by_model ON stage_changes (model_id, seq)",
    "CREATE TABLE deployments (model_id TEXT PRIMARY KEY, document TEXT NOT NULL)",
)

# Schema 2: the audit log. Rows are only appended; AUTOINCREMENT keeps `seq` growing even if
# old entries are ever pruned, so a reader's last-seen `seq` stays meaningful. IF NOT EXISTS lets
# the step run on a file whose other tables are being upgraded around it.
AUDIT_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        caller TEXT NOT NULL,
        role TEXT NOT NULL,
        tool TEXT NOT NULL,
        model_id TEXT,
        arguments TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error')),
        error_category TEXT,
        message TEXT,
        duration_ms REAL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_log_by_model ON audit_log (model_id, seq) WHERE model_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at)",
)

# Schema 3: the outbox (changes waiting to reach MLflow). AUTOINCREMENT so a `seq` is never
# reused after its entry is delivered and deleted; IF NOT EXISTS as above.
OUTBOX_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        parked INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (parked, seq)",
)

# schema version -> the statements that upgrade a file from it to the next version.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: AUDIT_STATEMENTS, 2: OUTBOX_STATEMENTS}

TABLES = frozenset(
    {
        "versions",
        "version_details",
        "version_metrics",
        "version_tags",
        "stage_changes",
        "deployments",
        "audit_log",
        "outbox",
    }
)


def prepare(conn: sqlite3.Connection, path: Path, *, check_integrity: bool) -> None:
    """Make sure `conn` is on a usable registry: create the schema in a new file, verify an old one."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if application_id != APPLICATION_ID:
        if application_id != 0 or _table_names(conn):
            raise refuse(
                path,
                f"it is a SQLite database of another application (application_id {application_id:#x}, "
                f"a registry has {APPLICATION_ID:#x})",
            )
        _initialise(conn, path)
    _verify(conn, path, check_integrity=check_integrity)


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema unless another process did it first (decided under the write lock)."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if application_id == 0 and not _table_names(conn):
            for statement in STATEMENTS + AUDIT_STATEMENTS + OUTBOX_STATEMENTS:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _verify(conn: sqlite3.Connection, path: Path, *, check_integrity: bool) -> None:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if application_id != APPLICATION_ID:
        raise refuse(path, f"another process initialised it as something else (application_id {application_id:#x})")
    schema = conn.execute("PRAGMA user_version").fetchone()[0]
    if schema > SCHEMA_VERSION:
        raise refuse(
            path,
            f"it was written by a newer nba-mcp-deploy (schema {schema}; this version reads schema "
            f"{SCHEMA_VERSION}); upgrade nba-mcp-deploy",
        )
    if schema < SCHEMA_VERSION and schema not in MIGRATIONS:
        raise refuse(path, f"its schema version {schema} is not one this version knows (expected {SCHEMA_VERSION})")
    if check_integrity:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise refuse(path, f"it is corrupt (SQLite quick_check: {'; '.join(problems)})")
    if schema < SCHEMA_VERSION:
        _migrate(conn)
    missing = TABLES - _table_names(conn)
    if missing:
        raise refuse(path, f"tables are missing: {', '.join(sorted(missing))}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


def _migrate(conn: sqlite3.Connection) -> None:
    """Upgrade an older schema of ours step by step, in one write transaction (another process
    opening the file at the same time waits, then finds it upgraded)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        while current < SCHEMA_VERSION:
            for statement in MIGRATIONS[current]:
                conn.execute(statement)
            current += 1
            conn.execute(f"PRAGMA user_version = {current}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
