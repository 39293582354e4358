"""A registry at revision 4 (metrics and tags keyed by version, each with an index by value) is
upgraded to revision 5 (one table each keyed by value) on both databases and keeps every row:
searches by metric and tag find the same versions as before, and registering goes on."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nba_mcp_deploy.registry.search import build_query
from nba_mcp_deploy.stores.migrations import HEAD, REVISIONS, VERSION_TABLE, upgrade
from nba_mcp_deploy.stores.sqlite import FILE_NAME
from nba_mcp_deploy.stores.sqlite_schema import APPLICATION_ID
from tests.postgres import url_for
from tests.stores.factories import add
from tests.stores.implementations import OPENERS

OLD = "0004_replicas"
# Three versions as revision 4 held them: documents, and the side tables searches read.
ROWS = (
    "INSERT INTO versions (id, model_id, version, version_sort, stage, framework, algorithm, registered_at, "
    "registered_by, stage_changed_at) VALUES "
    "(1, 'm', 'v1', '000001', 'development', 'sklearn', 'logreg', 1.0, 't', 1.0), "
    "(2, 'm', 'v2', '000002', 'development', 'sklearn', 'logreg', 2.0, 't', 2.0), "
    "(3, 'm', 'v3', '000003', 'development', 'sklearn', 'logreg', 3.0, 't', 3.0)",
    "INSERT INTO version_details (version_id, metrics, hyperparameters, tags, description, model_uri) VALUES "
    """(1, '{"acc":0.7,"auc":0.9}', '{}', '{"team":"LAL"}', '', NULL), """
    """(2, '{"acc":0.95}', '{}', '{"team":"BOS"}', '', NULL), """
    """(3, '{"acc":0.8}', '{}', '{"team":"LAL"}', '', NULL)""",
    "INSERT INTO version_metrics (version_id, name, value) VALUES "
    "(1, 'acc', 0.7), (1, 'auc', 0.9), (2, 'acc', 0.95), (3, 'acc', 0.8)",
    "INSERT INTO version_tags (version_id, key, value) VALUES "
    "(1, 'team', 'LAL'), (2, 'team', 'BOS'), (3, 'team', 'LAL')",
)


def _sqlite_at_revision_4(directory: Path) -> None:
    from sqlalchemy import create_engine

    directory.mkdir(parents=True)
    path = directory / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        upgrade(connection, target=OLD)
        for statement in ROWS:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.exec_driver_sql(f"PRAGMA user_version = {REVISIONS[OLD]}")
    engine.dispose()


def _postgresql_at_revision_4(directory: Path) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url_for(directory))
    with engine.begin() as connection:
        upgrade(connection, target=OLD)
        for statement in ROWS:
            connection.exec_driver_sql(statement)
        # Rows given their ids leave the identity behind; a registry's own rows never do.
        connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('versions', 'id'), 3)")
    engine.dispose()


def _revision(store: Any) -> str:
    with store._read() as conn:
        return str(conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0])


def _indexes(store: Any, store_kind: str) -> set[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if store_kind == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    with store._read() as conn:
        return {str(row[0]) for row in conn.execute(sql)}


@pytest.mark.parametrize("store_kind", ["sqlite", "postgresql"], indirect=True)
def test_revision_4_is_upgraded_and_its_metrics_and_tags_still_found(store_kind, tmp_path):
    directory = tmp_path / "registry"
    (_sqlite_at_revision_4 if store_kind == "sqlite" else _postgresql_at_revision_4)(directory)
    store = OPENERS[store_kind](directory)
    try:
        assert _revision(store) == HEAD
        assert not {"version_metrics_by_value", "version_tags_by_value"} & _indexes(store, store_kind)

        def found(**query: Any) -> list[str]:
            return [v.version for v in store.search(build_query(**query)).items]

        assert found(metrics=["acc >= 0.75"], order_by="metrics.acc desc") == ["v2", "v3"]
        assert found(tags={"team": "LAL"}, order_by="version asc") == ["v1", "v3"]
        assert found(order_by="metrics.auc desc") == ["v1", "v2", "v3"]  # missing last, then by version
        assert store.get_version("m", "v1").metrics == {"acc": 0.7, "auc": 0.9}
        add(store, "m", "v4", metrics={"acc": 0.99}, tags={"team": "LAL"})
        assert found(metrics=["acc > 0.9"], tags={"team": "LAL"}) == ["v4"]
    finally:
        store.close()
