"""The registry schema's Alembic revisions (`versions/`), for sqlite and PostgreSQL, and how they run.

They run in-process, without alembic.ini or env.py: `upgrade` applies the revisions a database
lacks on the caller's connection, inside the caller's transaction, so a store decides what
else happens in that transaction (a lock against another process migrating at the same time,
the foreign-database check). The version is kept in our own table, `nba_registry_version`, so a
database that also holds MLflow's tables (`alembic_version`) is never confused with ours.

sqlite files written before Alembic carry their schema number in `PRAGMA user_version` (1, 2
or 3): `LEGACY` maps each to the revision it equals, which is stamped before upgrading. Alembic
and SQLAlchemy are imported only when a migration runs (opening an up-to-date sqlite file
never imports them).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

VERSION_TABLE = "nba_registry_version"
# Revision id -> schema number (sqlite's PRAGMA user_version, which older releases check).
REVISIONS: dict[str, int] = {
    "0001_registry": 1,
    "0002_audit_log": 2,
    "0003_outbox": 3,
    "0004_replicas": 4,
    "0005_keyed_by_value": 5,
}
HEAD = "0005_keyed_by_value"
SCHEMA_VERSION = REVISIONS[HEAD]
LEGACY: dict[int, str] = {number: revision for revision, number in REVISIONS.items() if number <= 3}

_DIRECTORY = Path(__file__).resolve().parent

# Alembic keeps the migration in progress in process-wide proxies (`alembic.op`), so two
# migrations running at once in one process execute each other's steps on the wrong database.
# Ours hold this lock, and so does the first use of an embedded MLflow database, which MLflow
# migrates with Alembic too (mlflow_sync/gateway.py): e.g. a script's registry opening while an
# MLflow relay thread opens `sqlite:///mlflow.db`.
MIGRATION_LOCK = threading.Lock()


@functools.cache
def script() -> ScriptDirectory:
    """The revisions on disk (loaded once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(_DIRECTORY), version_locations=[str(_DIRECTORY / "versions")])


def upgrade(connection: Connection, *, stamp: str | None = None, target: str = HEAD) -> None:
    """Bring the database on `connection` to `target` (HEAD; an older revision only in tests of
    upgrades); first record `stamp` as its revision if given (a legacy sqlite file whose tables
    already match that revision)."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    directory = script()

    def steps(heads: Any, _context: Any) -> Any:
        return directory._upgrade_revs(target, heads)

    with MIGRATION_LOCK:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE, "fn": steps})
        if stamp is not None:
            context.stamp(directory, stamp)
        with Operations.context(context):
            context.run_migrations()
