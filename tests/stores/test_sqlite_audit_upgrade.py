"""A schema-1 registry (before the audit log) is upgraded in place and keeps everything."""

from __future__ import annotations

import sqlite3

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.stores.sqlite import FILE_NAME, SqliteRegistryStore
from nba_mcp_deploy.stores.sqlite_schema import SCHEMA_VERSION
from tests.stores.factories import add


def test_a_schema_1_file_gains_the_audit_log_and_keeps_its_versions(tmp_path):
    store = SqliteRegistryStore(tmp_path)
    for i in range(3):
        add(store, "m", f"v{i}")
    store.close()
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE audit_log")
    conn.execute("PRAGMA user_version = 1")
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
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()
