"""A registry file that is not ours, or not whole, is refused with a clear error and left untouched."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.sqlite import FILE_NAME, SqliteRegistryStore
from nba_mcp_deploy.stores.sqlite_file import inspect_database_file
from nba_mcp_deploy.stores.sqlite_schema import APPLICATION_ID, SCHEMA_VERSION
from tests.stores.factories import add


def _populated(directory: Path, versions: int = 200) -> Path:
    store = SqliteRegistryStore(directory)
    for i in range(versions):
        add(store, "m", f"v{i}", description="x" * 200, metrics={"acc": i / versions})
    store.close()
    path = directory / FILE_NAME
    assert not path.with_name(FILE_NAME + "-wal").exists()  # checkpointed on close
    return path


def _refused(directory: Path, match: str) -> StoreError:
    path = directory / FILE_NAME
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError, match=match) as info:
        SqliteRegistryStore(directory)
    assert "left untouched" in str(info.value)
    if before is not None:
        assert path.read_bytes() == before, "a refused file must not be modified"
    return info.value


def test_garbage_is_not_a_sqlite_database(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"PK\x03\x04 this is a zip file, not a registry" * 100)
    _refused(tmp_path, "not a SQLite database")


def test_a_file_cut_inside_the_header_is_truncated(tmp_path):
    path = _populated(tmp_path)
    path.write_bytes(path.read_bytes()[:60])
    _refused(tmp_path, "truncated")


def test_a_file_cut_in_half_is_truncated(tmp_path):
    path = _populated(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _refused(tmp_path, "truncated")


def test_a_file_cut_off_the_page_grid_is_damaged(tmp_path):
    path = _populated(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    _refused(tmp_path, "truncated or damaged")


def test_overwritten_pages_fail_the_integrity_check(tmp_path):
    path = _populated(tmp_path)
    data = bytearray(path.read_bytes())
    page = _page_size(path)
    data[2 * page : 6 * page] = b"\xde\xad\xbe\xef" * page
    path.write_bytes(bytes(data))
    _refused(tmp_path, "corrupt|SQLite reports")


def _page_size(path: Path) -> int:
    header = inspect_database_file(path)
    assert header is not None
    return header.page_size


def test_another_applications_database_is_foreign(tmp_path):
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    _refused(tmp_path, "another application")


def test_a_database_of_a_newer_schema_is_refused(tmp_path):
    path = _populated(tmp_path, versions=1)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    _refused(tmp_path, "newer nba-mcp-deploy")


def test_our_id_without_our_tables_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("CREATE TABLE versions (x)")
    conn.commit()
    conn.close()
    _refused(tmp_path, "tables are missing")


def test_a_directory_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / FILE_NAME).mkdir()
    _refused(tmp_path, "directory")


def test_an_empty_file_becomes_a_new_registry(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"")
    store = SqliteRegistryStore(tmp_path)
    add(store, "m", "v1")
    store.close()
    assert [v.version for v in SqliteRegistryStore(tmp_path).list_versions("m")] == ["v1"]


def test_the_registry_file_is_in_wal_mode_and_ours(tmp_path):
    store = SqliteRegistryStore(tmp_path / "new" / "dir")
    add(store, "m", "v1")
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    store.close()


@pytest.mark.parametrize(("sync_every_commit", "synchronous"), [(True, 2), (False, 1)])
def test_every_connection_syncs_as_configured(tmp_path, sync_every_commit, synchronous):
    """FULL (2) syncs the log on every commit, NORMAL (1) does not; both on every thread's connection."""
    store = SqliteRegistryStore(tmp_path, sync_every_commit=sync_every_commit)
    seen = _settings_on_two_threads(store)
    store.close()
    sqlites_own = sqlite3.connect(":memory:").execute("PRAGMA page_size").fetchone()[0]
    assert seen == [(synchronous, sqlites_own)] * 2  # new files get SQLite's own page size


@pytest.mark.parametrize("page_size", [1024, 4096])
def test_a_file_made_with_other_pages_keeps_them(tmp_path, page_size):
    """A registry created by an earlier release with its own page size (1 KiB, or SQLite's
    4 KiB) is used as it is, never rewritten."""
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    conn.execute(f"PRAGMA page_size = {page_size}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    store = SqliteRegistryStore(tmp_path)
    add(store, "m", "v1")
    seen = _settings_on_two_threads(store)
    store.close()
    assert seen == [(2, page_size)] * 2
    reopened = SqliteRegistryStore(tmp_path)
    assert reopened.get_version("m", "v1").version == "v1"
    reopened.close()


def _settings_on_two_threads(store: SqliteRegistryStore) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []

    def settings() -> None:
        with store._write() as conn:
            seen.append(
                tuple(  # type: ignore[arg-type]
                    conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "page_size")
                )
            )

    settings()
    thread = threading.Thread(target=settings)
    thread.start()
    thread.join()
    return seen


def test_damage_found_after_opening_is_a_store_error(tmp_path):
    """Damage SQLite only notices when it reads the page is still translated into our tree."""
    path = _populated(tmp_path, versions=400)
    store = SqliteRegistryStore(tmp_path, check_integrity=False)
    data = bytearray(path.read_bytes())
    page = _page_size(path)
    data[3 * page : len(data)] = b"\x00" * (len(data) - 3 * page)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        _read_everything(store, 400)
    store.close()


def _read_everything(store: SqliteRegistryStore, versions: int) -> None:
    for version in range(versions):
        store.get_version("m", f"v{version}")
    store.list_versions("m")


def test_an_unknown_older_schema_is_refused(tmp_path):
    path = _populated(tmp_path, versions=1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    _refused(tmp_path, "schema version 0")
