"""Registry files written before Alembic (schema 1, 2 or 3 in `user_version`) open, are upgraded in
place to the newest revision and keep everything; files from a newer release are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.ddl import AUDIT_LOG, OUTBOX, REGISTRY
from nba_mcp_deploy.stores.migrations import HEAD, SCHEMA_VERSION, VERSION_TABLE
from nba_mcp_deploy.stores.sqlite import FILE_NAME, SqliteRegistryStore
from nba_mcp_deploy.stores.sqlite_schema import APPLICATION_ID

# What the hand-rolled releases created: schema N = these steps, in order.
LEGACY_STEPS = {1: (REGISTRY,), 2: (REGISTRY, AUDIT_LOG), 3: (REGISTRY, AUDIT_LOG, OUTBOX)}


def _legacy_file(directory: Path, schema: int) -> Path:
    """A registry file exactly as release `schema` wrote it, holding two versions and a deployment."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    for step in LEGACY_STEPS[schema]:
        for statement in step.sqlite:
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {schema}")
    for i, sort in ((1, "000001"), (2, "000002")):
        conn.execute(
            "INSERT INTO versions VALUES (?, 'm', ?, ?, 'development', 'sklearn', 'logreg', NULL, NULL, 1.0, 't', 1.0)",
            (i, f"v{i}", sort),
        )
        conn.execute("INSERT INTO version_details VALUES (?, '{}', '{}', '{}', 'old', NULL)", (i,))
        conn.execute(
            "INSERT INTO stage_changes (model_id, version, from_stage, to_stage, changed_at, actor, reason, note) "
            "VALUES ('m', ?, NULL, 'development', 1.0, 't', 'registered', '')",
            (f"v{i}",),
        )
    conn.execute("INSERT INTO deployments VALUES ('m', '{\"active\": \"v1\"}')")
    conn.execute("COMMIT")
    conn.close()
    return path


@pytest.mark.parametrize("schema", sorted(LEGACY_STEPS))
def test_a_file_of_every_hand_rolled_schema_is_upgraded_and_keeps_everything(tmp_path, schema):
    path = _legacy_file(tmp_path, schema)
    store = SqliteRegistryStore(tmp_path)
    try:
        assert [v.version for v in store.list_versions("m")] == ["v1", "v2"]
        assert len(store.history("m")) == 2
        assert store.load_deployments() == {"m": {"active": "v1"}}
        written = store.append_audit(AuditEntry(1.0, "local", "admin", "register_model", "m", {}, "ok"))
        assert store.list_audit() == [written]
        store.outbox_append("t", {"x": 1}, 2.0)
        assert store.outbox_counts().pending == 1
        # The new tables work too: deployment revisions go on from the upgraded row.
        assert store.save_deployment("m", {"active": "v2"}, expected_revision=1) == 2
    finally:
        store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]
    conn.close()
    SqliteRegistryStore(tmp_path).close()  # and it opens again at the newest revision


def test_a_new_file_has_exactly_the_tables_an_upgraded_one_has(tmp_path):
    SqliteRegistryStore(tmp_path / "new").close()
    _legacy_file(tmp_path / "old", 1)
    SqliteRegistryStore(tmp_path / "old").close()

    def schema(directory: Path) -> list[tuple[str, str]]:
        conn = sqlite3.connect(directory / FILE_NAME)
        rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        found = [(kind, name) for kind, name in rows]
        conn.close()
        return found

    assert schema(tmp_path / "new") == schema(tmp_path / "old")


def test_a_revision_from_a_newer_release_is_refused_and_left_alone(tmp_path):
    SqliteRegistryStore(tmp_path).close()
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"newer nba-mcp-deploy.*0099_future"):
        SqliteRegistryStore(tmp_path)
    assert path.read_bytes() == before


def test_a_legacy_schema_number_never_written_is_refused(tmp_path):
    path = _legacy_file(tmp_path, 1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 0 is not one this version knows"):
        SqliteRegistryStore(tmp_path)


def test_the_head_constant_is_alembics_head():
    from nba_mcp_deploy.stores.migrations import REVISIONS, script

    assert script().get_current_head() == HEAD
    assert [r.revision for r in reversed(list(script().walk_revisions()))] == list(REVISIONS)
