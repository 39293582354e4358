"""`SqlRegistryStore`: every RegistryStore method as SQL, once, for sqlite and PostgreSQL.

The SQL is written per role, each a mixin over the transactions of `sql_database.py`:
`sql_versions.py` (VersionStore), `sql_audit.py` (AuditStore), `sql_outbox.py` (OutboxStore)
and `sql_control.py` (ControlStateStore). A backend (`sqlite.py`, `postgres.py`) subclasses
this class, opens connections, runs the transactions and translates its errors.
"""

from __future__ import annotations

from nba_mcp_deploy.registry.store import RegistryStore
from nba_mcp_deploy.stores.sql_audit import SqlAuditStore
from nba_mcp_deploy.stores.sql_control import SqlControlStateStore
from nba_mcp_deploy.stores.sql_outbox import SqlOutboxStore
from nba_mcp_deploy.stores.sql_versions import SqlVersionStore


class SqlRegistryStore(SqlVersionStore, SqlAuditStore, SqlOutboxStore, SqlControlStateStore, RegistryStore):
    """Every role in one database; a backend adds `close` and the transactions."""
