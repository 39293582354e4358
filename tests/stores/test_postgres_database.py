"""A PostgreSQL database that is not ours, or not reachable, gives a clear error and is left alone."""

from __future__ import annotations

import psycopg
import pytest
from tools.local_postgres import LocalPostgres, free_port

from nba_mcp_deploy.errors import InvalidInputError, StoreError
from nba_mcp_deploy.stores.migrations import HEAD, VERSION_TABLE
from nba_mcp_deploy.stores.postgres import PostgresRegistryStore
from tests.postgres import schema_for, url_for
from tests.stores.factories import add

pytestmark = pytest.mark.usefixtures("postgres")


def _sql(postgres: LocalPostgres, schema: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(postgres.conninfo("registry_tests"), autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_another_applications_tables_are_refused_and_left_alone(postgres, tmp_path):
    url = url_for(tmp_path)
    _sql(postgres, schema_for(tmp_path), "CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreError, match=r"another application's tables \(customers\).*Nothing was changed"):
        PostgresRegistryStore(url)
    assert _sql(
        postgres, schema_for(tmp_path), "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ) == [("customers",)]


def test_a_revision_from_a_newer_release_is_refused(postgres, tmp_path):
    url = url_for(tmp_path)
    store = PostgresRegistryStore(url)
    add(store, "m", "v1")
    store.close()
    _sql(postgres, schema_for(tmp_path), f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'")
    with pytest.raises(StoreError, match="newer nba-mcp-deploy"):
        PostgresRegistryStore(url)
    _sql(postgres, schema_for(tmp_path), f"UPDATE {VERSION_TABLE} SET version_num = '{HEAD}'")
    store = PostgresRegistryStore(url)
    assert [v.version for v in store.list_versions("m")] == ["v1"]
    store.close()


def test_replicas_starting_together_create_the_schema_once(tmp_path):
    import threading

    url = url_for(tmp_path)
    stores: list[PostgresRegistryStore] = []
    errors: list[BaseException] = []

    def open_() -> None:
        try:
            stores.append(PostgresRegistryStore(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(stores) == 4
    add(stores[0], "m", "v1")
    assert [v.version for v in stores[3].list_versions("m")] == ["v1"]
    for store in stores:
        store.close()


def test_an_unreachable_server_is_a_store_error_without_the_password():
    url = f"postgresql+psycopg://nba:s3cret@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(StoreError) as info:
        PostgresRegistryStore(url, connect_timeout_sec=2)
    assert "s3cret" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("url", ["mysql://x@h/db", "not a url", "sqlite:///registry.db"])
def test_only_postgresql_urls_are_accepted(url):
    with pytest.raises(InvalidInputError, match="registry_url"):
        PostgresRegistryStore(url)
