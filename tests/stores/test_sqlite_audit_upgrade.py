"""A registry from before the audit log (schema 1) is upgraded in place and keeps everything."""

from __future__ import annotations

import sqlite3

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.stores.sqlite import FILE_NAME, SqliteRegistryStore
from nba_mcp_deploy.stores.sqlite_schema import AUDIT_STATEMENTS, MIGRATIONS, SCHEMA_VERSION
from tests.stores.factories import add


def test_a_file_from_before_the_audit_log_gains_it_and_keeps_its_versions(tmp_path):
    before_audit = next(version for version, steps in MIGRATIONS.items() if steps is AUDIT_STATEMENTS)
    store = SqliteRegistryStore(tmp_path)
    for i in range(3):
        add(store, "m", f"v{i}")
    store.close()
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE audit_log")
    conn.execute(f"PRAGMA user_version = {before_audit}")
    conn.commit()
    conn.close()
    store = SqliteRegistryStore(tmp_path)
    try:
        assert [v.version for v in store.list_versions("m")] == ["v0", "v1", "v2"]
        written = store.append_audit(AuditEntry(1.0, "local", "admin", "register_model", "m", {}, "ok"))
        assert store.list_audit() == [written]
    finally:
        store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
