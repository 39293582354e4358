"""`SqliteRegistryStore`: the embedded registry store, one `registry.db` in the registry directory.

- WAL mode: readers never block the writer; several processes may share the directory.
- Every write is one `BEGIN IMMEDIATE` transaction; a busy timeout makes other processes
  wait for the write lock instead of failing. Threads of one process queue on a lock first,
  so they hand the write lock over without SQLite's sleeping back-off.
- `synchronous=FULL` by default: a write is on disk when the call returns, even across a
  power cut. `sync_every_commit=False` (synchronous=NORMAL) still survives a killed process.
- One connection per thread (the MCP server calls from worker threads).
- sqlite3 errors are translated into our tree here, at the edge (like httpx's
  `map_httpcore_exceptions`): busy -> StoreError, constraint -> ConflictError, damage ->
  StoreError naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nba_mcp_deploy.access.audit import OUTCOMES, AuditEntry, validate_audit_query
from nba_mcp_deploy.errors import ConflictError, DeployError, InvalidInputError, NotFoundError, StoreError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.registry.outbox import OutboxCounts, OutboxEntry
from nba_mcp_deploy.registry.records import (
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    VersionRef,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.store import RegistryStore
from nba_mcp_deploy.stores.rows import (
    CHANGE_COLUMNS,
    DETAILS_INSERT_COLUMNS,
    SELECT_VERSION,
    VERSION_INSERT_COLUMNS,
    change_from_row,
    change_row,
    details_row,
    key_params,
    to_json,
    version_from_row,
    version_row,
)
from nba_mcp_deploy.stores.sql_search import search_sql
from nba_mcp_deploy.stores.sqlite_file import inspect_database_file, refuse
from nba_mcp_deploy.stores.sqlite_schema import prepare

FILE_NAME = "registry.db"
MAX_TOPIC = 64
MAX_OUTBOX_ERROR = 2_000


def _marks(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # an INSERT into a rowid table always sets it
        raise StoreError("the registry database did not report the id of an inserted row")
    return cursor.lastrowid


_INSERT_VERSION = f"INSERT INTO versions ({VERSION_INSERT_COLUMNS}) VALUES ({_marks(VERSION_INSERT_COLUMNS)})"
_INSERT_DETAILS = f"INSERT INTO version_details ({DETAILS_INSERT_COLUMNS}) VALUES ({_marks(DETAILS_INSERT_COLUMNS)})"
_INSERT_CHANGE = (
    "INSERT INTO stage_changes (model_id, version, from_stage, to_stage, changed_at, actor, reason, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_AUDIT_COLUMNS = "at, caller, role, tool, model_id, arguments, outcome, error_category, message, duration_ms"
_INSERT_AUDIT = f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({_marks(_AUDIT_COLUMNS)})"
_SELECT_ID_VERSION = SELECT_VERSION.replace("SELECT ", "SELECT v.id, ", 1)
# Versions are looked up by their semantic key (see rows.key_params).
_KEY = " WHERE v.model_id = ? AND v.version_sort = ?"
_ID_AND_STAGE = "SELECT v.id, v.stage FROM versions v" + _KEY
_SELECT_OUTBOX = "SELECT seq, topic, payload, created_at, attempts, last_error, parked FROM outbox"
_STAGE_SUMS = ", ".join(f"SUM(CASE WHEN stage = '{s.value}' THEN 1 ELSE 0 END)" for s in Stage)


class SqliteRegistryStore(RegistryStore):
    """A RegistryStore in `<directory>/registry.db` (created on first use, verified on every open).

    Subclassing the Protocol makes mypy check every method against the contract.
    """

    def __init__(
        self,
        directory: Path,
        *,
        busy_timeout_sec: float = 30.0,
        sync_every_commit: bool = True,
        check_integrity: bool = True,
    ) -> None:
        self._path = Path(directory) / FILE_NAME
        self._busy_timeout_sec = busy_timeout_sec
        self._synchronous = "FULL" if sync_every_commit else "NORMAL"
        self._local = threading.local()
        self._connections: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the registry directory {str(self._path.parent)!r}: {exc}") from exc
        inspect_database_file(self._path)
        try:
            with self._translated():
                prepare(self._connection(), self._path, check_integrity=check_integrity)
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    # -- versions ----------------------------------------------------------------------------

    def add_version(self, version: ModelVersion, change: StageChange) -> StageChange:
        with self._write() as conn:
            existing = conn.execute(_ID_AND_STAGE, key_params(version.ref)).fetchone()
            if existing is not None:
                raise ConflictError(
                    f"{version.ref} is already registered (stage {existing[1]}); versions are never "
                    "overwritten: register a new version"
                )
            parent = version.parent
            if parent is not None and conn.execute(_ID_AND_STAGE, key_params(parent)).fetchone() is None:
                raise NotFoundError(f"parent {parent} of {version.ref} is not registered")
            version_id = _inserted_id(conn.execute(_INSERT_VERSION, version_row(version)))
            conn.execute(_INSERT_DETAILS, details_row(version_id, version))
            conn.executemany(
                "INSERT INTO version_metrics (version_id, name, value) VALUES (?, ?, ?)",
                [(version_id, name, value) for name, value in version.metrics.items()],
            )
            conn.executemany(
                "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                [(version_id, name, value) for name, value in version.tags.items()],
            )
            return self._append_change(conn, change)

    def get_version(self, model_id: str, version: str) -> ModelVersion:
        with self._read() as conn:
            row = conn.execute(SELECT_VERSION + _KEY, key_params(VersionRef(model_id, version))).fetchone()
            if row is not None:
                return version_from_row(row)
            known = conn.execute("SELECT 1 FROM versions WHERE model_id = ? LIMIT 1", (model_id,)).fetchone()
        if known is None:
            raise NotFoundError(f"no model {model_id!r} is registered")
        raise NotFoundError(f"{model_id} has no version {version!r}; list_versions shows the ones it has")

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        with self._read() as conn:
            rows = conn.execute(SELECT_VERSION + " WHERE v.model_id = ? ORDER BY v.version_sort", (model_id,))
            return [version_from_row(row) for row in rows]

    def list_models(self) -> list[ModelSummary]:
        sql = (
            f"SELECT model_id, COUNT(*), MAX(registered_at), {_STAGE_SUMS}, "
            "MAX(CASE WHEN stage = 'production' THEN version END), "
            "(SELECT w.version FROM versions w WHERE w.model_id = v.model_id "
            "ORDER BY w.version_sort DESC LIMIT 1) "
            "FROM versions v GROUP BY model_id ORDER BY model_id"
        )
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
        stages = list(Stage)
        return [
            ModelSummary(
                model_id=row[0],
                version_count=row[1],
                latest_version=row[-1],
                production_version=row[-2],
                stage_counts={s.value: row[3 + i] for i, s in enumerate(stages)},
                last_registered_at=row[2],
            )
            for row in rows
        ]

    def search(self, query: SearchQuery) -> SearchPage:
        sql = search_sql(query)
        with self._read() as conn:
            ids = [row[0] for row in conn.execute(sql.ids, sql.ids_params)]
            if len(ids) < query.limit and (ids or query.offset == 0):
                total = query.offset + len(ids)
            else:
                total = conn.execute(sql.count, sql.count_params).fetchone()[0]
            marks = ", ".join("?" for _ in ids)
            rows = {row[0]: row[1:] for row in conn.execute(f"{_SELECT_ID_VERSION} WHERE v.id IN ({marks})", ids)}
        return SearchPage.build(tuple(version_from_row(rows[i]) for i in ids), total, query.offset, query.limit)

    def statistics(self) -> RegistryStatistics:
        with self._read() as conn:
            models, versions = conn.execute("SELECT COUNT(DISTINCT model_id), COUNT(*) FROM versions").fetchone()
            by_stage = dict(conn.execute("SELECT stage, COUNT(*) FROM versions GROUP BY stage").fetchall())
            by_framework = conn.execute(
                "SELECT framework, COUNT(*) FROM versions GROUP BY framework ORDER BY framework"
            ).fetchall()
        return RegistryStatistics(
            total_models=models,
            total_versions=versions,
            production_count=by_stage.get(Stage.PRODUCTION.value, 0),
            by_stage={s.value: by_stage.get(s.value, 0) for s in Stage},
            by_framework=dict(by_framework),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[StageChange]) -> list[StageChange]:
        applied = []
        with self._write() as conn:
            for change in changes:
                if change.from_stage is None:
                    raise InvalidInputError("changes", str(change.ref), "registrations go through add_version")
                row = conn.execute(_ID_AND_STAGE, key_params(change.ref)).fetchone()
                if row is None:
                    raise NotFoundError(f"{change.ref} is not registered (it may have just been deleted)")
                if row[1] != change.from_stage.value:
                    raise ConflictError(
                        f"{change.ref} is in {row[1]}, not {change.from_stage.value}: it changed meanwhile"
                    )
                if change.to_stage is None:
                    conn.execute("DELETE FROM versions WHERE id = ?", (row[0],))
                else:
                    conn.execute(
                        "UPDATE versions SET stage = ?, stage_changed_at = ? WHERE id = ?",
                        (change.to_stage.value, change.changed_at, row[0]),
                    )
                applied.append(self._append_change(conn, change))
        return applied

    def history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        sql = f"SELECT {CHANGE_COLUMNS} FROM stage_changes WHERE model_id = ?"
        params: tuple[str, ...] = (model_id,)
        if version is not None:
            sql, params = sql + " AND version = ?", (model_id, version)
        with self._read() as conn:
            return [change_from_row(row) for row in conn.execute(sql + " ORDER BY seq", params)]

    # -- lineage -------------------------------------------------------------------------------

    def set_parent(self, model_id: str, version: str, parent: VersionRef | None) -> ModelVersion:
        ref = VersionRef(model_id, version)
        with self._write() as conn:
            row = conn.execute(_ID_AND_STAGE, key_params(ref)).fetchone()
            if row is None:
                raise NotFoundError(f"{ref} is not registered")
            if parent is not None:
                if conn.execute(_ID_AND_STAGE, key_params(parent)).fetchone() is None:
                    raise NotFoundError(f"parent {parent} is not registered")
                if ref in self._ancestors(conn, parent):
                    raise InvalidInputError(
                        "parent",
                        str(parent),
                        f"{ref} is already an ancestor of {parent}; the link would form a cycle",
                    )
            conn.execute(
                "UPDATE versions SET parent_model_id = ?, parent_version = ? WHERE id = ?",
                (
                    None if parent is None else parent.model_id,
                    None if parent is None else parent.version,
                    row[0],
                ),
            )
            return version_from_row(conn.execute(SELECT_VERSION + " WHERE v.id = ?", (row[0],)).fetchone())

    def children(self, model_id: str, version: str) -> list[ModelVersion]:
        sql = (
            SELECT_VERSION + " WHERE v.parent_model_id = ? AND v.parent_version = ? ORDER BY v.model_id, v.version_sort"
        )
        with self._read() as conn:
            return [version_from_row(row) for row in conn.execute(sql, (model_id, version))]

    # -- audit log -------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        if not isinstance(entry.arguments, Mapping):
            raise InvalidInputError("arguments", entry.arguments, "expected a mapping (a JSON object)")
        if entry.outcome not in OUTCOMES:
            raise InvalidInputError("outcome", entry.outcome, f"one of {', '.join(OUTCOMES)}")
        encoded = to_json(entry.arguments, "arguments")
        row = (
            entry.at,
            entry.caller,
            entry.role,
            entry.tool,
            entry.model_id,
            encoded,
            entry.outcome,
            entry.error_category,
            entry.message,
            entry.duration_ms,
        )
        with self._write() as conn:
            seq = _inserted_id(conn.execute(_INSERT_AUDIT, row))
        return dataclasses.replace(entry, arguments=json.loads(encoded), seq=seq)

    def list_audit(self, model_id: str | None = None, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        validate_audit_query(model_id, since, limit)
        conditions: list[str] = []
        params: list[Any] = []
        if model_id is not None:
            conditions.append("model_id = ?")
            params.append(model_id)
        if since is not None:
            conditions.append("at >= ?")
            params.append(since)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT seq, {_AUDIT_COLUMNS} FROM audit_log{where} ORDER BY seq DESC LIMIT ?"
        with self._read() as conn:
            rows = conn.execute(sql, (*params, limit)).fetchall()
        try:
            return [
                AuditEntry(
                    seq=row[0],
                    at=row[1],
                    caller=row[2],
                    role=row[3],
                    tool=row[4],
                    model_id=row[5],
                    arguments=json.loads(row[6]),
                    outcome=row[7],
                    error_category=row[8],
                    message=row[9],
                    duration_ms=row[10],
                )
                for row in rows
            ]
        except json.JSONDecodeError as exc:
            raise StoreError(f"an audit entry in {str(self._path)!r} is not valid JSON: {exc}") from exc

    # -- deployment state ----------------------------------------------------------------------

    def save_deployment(self, model_id: str, document: Mapping[str, Any]) -> None:
        model_id = validate_model_id(model_id)
        if not isinstance(document, Mapping):
            raise InvalidInputError("document", document, "expected a mapping (a JSON object)")
        encoded = to_json(document, "document")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO deployments (model_id, document) VALUES (?, ?) "
                "ON CONFLICT (model_id) DO UPDATE SET document = excluded.document",
                (model_id, encoded),
            )

    def load_deployments(self) -> dict[str, dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute("SELECT model_id, document FROM deployments ORDER BY model_id").fetchall()
        try:
            return {model_id: json.loads(document) for model_id, document in rows}
        except json.JSONDecodeError as exc:
            raise StoreError(f"a deployment document in {str(self._path)!r} is not valid JSON: {exc}") from exc

    def delete_deployment(self, model_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM deployments WHERE model_id = ?", (validate_model_id(model_id),))
            return cursor.rowcount > 0

    # -- outbox ----------------------------------------------------------------------------------

    def outbox_append(self, topic: str, payload: Mapping[str, Any], created_at: float) -> OutboxEntry:
        if not isinstance(topic, str) or not 1 <= len(topic) <= MAX_TOPIC:
            raise InvalidInputError("topic", topic, f"expected 1-{MAX_TOPIC} characters")
        if not isinstance(payload, Mapping):
            raise InvalidInputError("payload", payload, "expected a mapping (a JSON object)")
        encoded = to_json(payload, "payload")
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (topic, payload, created_at) VALUES (?, ?, ?)", (topic, encoded, created_at)
            )
            seq = _inserted_id(cursor)
        return OutboxEntry(seq=seq, topic=topic, payload=json.loads(encoded), created_at=created_at)

    def outbox_pending(self, limit: int = 100) -> list[OutboxEntry]:
        with self._read() as conn:
            rows = conn.execute(f"{_SELECT_OUTBOX} WHERE parked = 0 ORDER BY seq LIMIT ?", (max(0, limit),))
            return [self._outbox_entry(row) for row in rows]

    def outbox_ack(self, seq: int) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount > 0

    def outbox_fail(self, seq: int, error: str, *, park: bool) -> OutboxEntry | None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, parked = ? WHERE seq = ?",
                (str(error)[:MAX_OUTBOX_ERROR], int(park), seq),
            )
            row = conn.execute(f"{_SELECT_OUTBOX} WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else self._outbox_entry(row)

    def outbox_counts(self) -> OutboxCounts:
        with self._read() as conn:
            pending, parked = conn.execute(
                "SELECT COALESCE(SUM(parked = 0), 0), COALESCE(SUM(parked = 1), 0) FROM outbox"
            ).fetchone()
        return OutboxCounts(pending=pending, parked=parked)

    def outbox_unpark(self) -> int:
        with self._write() as conn:
            return conn.execute("UPDATE outbox SET parked = 0, attempts = 0 WHERE parked = 1").rowcount

    def _outbox_entry(self, row: tuple[Any, ...]) -> OutboxEntry:
        try:
            payload = json.loads(row[2])
        except json.JSONDecodeError as exc:
            raise StoreError(f"outbox entry {row[0]} in {str(self._path)!r} is not valid JSON: {exc}") from exc
        return OutboxEntry(row[0], row[1], payload, row[3], row[4], row[5], bool(row[6]))

    # -- resources -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._connections_lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for _, conn in connections:
            conn.close()

    # -- internals -------------------------------------------------------------------------------

    def _ancestors(self, conn: sqlite3.Connection, start: VersionRef) -> list[VersionRef]:
        """`start` and its ancestors, read inside the caller's transaction (stops on a cycle)."""
        chain = [start]
        while True:
            row = conn.execute(
                "SELECT v.parent_model_id, v.parent_version FROM versions v" + _KEY, key_params(chain[-1])
            ).fetchone()
            if row is None or row[0] is None or VersionRef(row[0], row[1]) in chain:
                return chain
            chain.append(VersionRef(row[0], row[1]))

    def _append_change(self, conn: sqlite3.Connection, change: StageChange) -> StageChange:
        seq = _inserted_id(conn.execute(_INSERT_CHANGE, change_row(change)))
        return dataclasses.replace(change, seq=seq)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (closing connections of finished threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed:
            return conn
        with self._connections_lock:
            if self._closed:
                raise StoreError(f"the registry store {str(self._path)!r} is closed")
            finished = [(t, c) for t, c in self._connections if (thread := t()) is None or not thread.is_alive()]
            for entry in finished:
                entry[1].close()
                self._connections.remove(entry)
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout_sec,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=128,
            )
            self._connections.append((weakref.ref(threading.current_thread()), conn))
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing, durable when the block exits."""
        with self._write_lock, self._translated():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement inside sees the same snapshot."""
        with self._translated():
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """sqlite3 and OS errors become ours; our own errors pass through."""
        try:
            yield
        except DeployError:
            raise
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"the registry refused a write that breaks one of its rules: {exc}") from exc
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"the registry database {str(self._path)!r} stayed locked by another process for "
                    f"more than {self._busy_timeout_sec:g}s; try again"
                ) from exc
            raise StoreError(f"the registry database {str(self._path)!r} failed: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise refuse(self._path, f"SQLite reports: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"the registry database {str(self._path)!r} failed: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the registry database {str(self._path)!r} failed: {exc}") from exc
