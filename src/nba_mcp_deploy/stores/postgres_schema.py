"""The PostgreSQL registry's schema: created or upgraded by the Alembic revisions when a store opens.

Everything happens in one transaction holding an advisory lock, so replicas starting together
migrate once: the others wait, then find the schema current. The registry lives in the current
schema of the connection (`search_path`, `public` by default; a URL can name another with
`?options=-csearch_path%3Dname`). A schema that holds tables but not our version table is
another application's and is refused, as is a revision from a newer release; nothing is ever
dropped or reset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.ddl import TABLES
from nba_mcp_deploy.stores.migrations import HEAD, REVISIONS, SCHEMA_VERSION, VERSION_TABLE, upgrade

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MIGRATION_LOCK = 0x4E42_0000


def refuse(where: str, why: str) -> StoreError:
    """The error for a database we will not use: what is wrong, that it was left alone, what to do."""
    return StoreError(
        f"the registry database {where} cannot be used: {why}. Nothing was changed; point "
        "NBA_MCP_REGISTRY_URL at an empty database (or schema) for a new registry, or at this registry's own"
    )


def prepare(engine: Engine, where: str) -> None:
    """Create the schema in an empty database, upgrade an older one of ours, refuse anything else."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        if schema is None:
            raise refuse(where, "the schema named by its search_path does not exist (create it first)")
        tables = _tables(conn)
        if VERSION_TABLE not in tables:
            if tables:
                shown = ", ".join(sorted(tables)[:5])
                raise refuse(where, f"schema {schema!r} holds another application's tables ({shown}) and no registry")
            upgrade(conn)
        else:
            revision = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
            if revision not in REVISIONS:
                raise refuse(
                    where,
                    f"it was written by a newer nba-mcp-deploy (revision {revision}; this version reads schema "
                    f"{SCHEMA_VERSION}, revision {HEAD}); upgrade nba-mcp-deploy",
                )
            if revision != HEAD:
                upgrade(conn)
        missing = TABLES - _tables(conn)
        if missing:
            raise refuse(where, f"tables are missing: {', '.join(sorted(missing))}")


def _tables(conn: Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {str(row[0]) for row in rows}
