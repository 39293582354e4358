"""`SqlRegistryStore`: every RegistryStore method as SQL, once, for sqlite and PostgreSQL.

A backend subclass supplies the transactions (`_write`, `_read`), each yielding a connection
whose `execute(sql, params)` takes `?` placeholders and returns rows, and says how its SQL
differs (`SqlFlavour`): how an inserted row's id comes back, how a compare-and-set read locks
the rows it reads, how writes that must keep a global order are serialised. sqlite serialises
every write already (BEGIN IMMEDIATE); PostgreSQL locks the rows a stage change reads
(`SELECT ... FOR UPDATE`), so two replicas promoting at once are applied one after the other
and the second sees what the first did. Foreign errors are translated by the subclass.
"""

from __future__ import annotations

import dataclasses
import json
import math
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from nba_mcp_deploy.access.audit import OUTCOMES, AuditEntry, validate_audit_query
from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError, StoreError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.registry.outbox import MAX_ERROR, MAX_TOPIC, OutboxCounts, OutboxEntry
from nba_mcp_deploy.registry.records import (
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    VersionRef,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery
from nba_mcp_deploy.registry.shared_state import NO_REVISION, CanaryRecord, DeploymentRecord, TrafficRow
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
from nba_mcp_deploy.stores.sql_search import Dialect, search_sql


def marks(columns: str) -> str:
    """One `?` per column of a comma-separated column list."""
    return ", ".join("?" for _ in columns.split(","))


INSERT_VERSION = f"INSERT INTO versions ({VERSION_INSERT_COLUMNS}) VALUES ({marks(VERSION_INSERT_COLUMNS)})"
# A new version's row, or nothing when its (model_id, version_sort) is taken.
INSERT_NEW_VERSION = INSERT_VERSION + " ON CONFLICT (model_id, version_sort) DO NOTHING"
_INSERT_DETAILS = f"INSERT INTO version_details ({DETAILS_INSERT_COLUMNS}) VALUES ({marks(DETAILS_INSERT_COLUMNS)})"
_INSERT_CHANGE = (
    "INSERT INTO stage_changes (model_id, version, from_stage, to_stage, changed_at, actor, reason, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_AUDIT_COLUMNS = "at, caller, role, tool, model_id, arguments, outcome, error_category, message, duration_ms"
_INSERT_AUDIT = f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({marks(_AUDIT_COLUMNS)})"
_SELECT_ID_VERSION = SELECT_VERSION.replace("SELECT ", "SELECT v.id, ", 1)
# Versions are looked up by their semantic key (see rows.key_params).
_KEY = " WHERE v.model_id = ? AND v.version_sort = ?"
_ID_AND_STAGE = "SELECT v.id, v.stage FROM versions v" + _KEY
_SELECT_OUTBOX = "SELECT seq, topic, payload, created_at, attempts, last_error, parked FROM outbox"
_STAGE_SUMS = ", ".join(f"SUM(CASE WHEN stage = '{s.value}' THEN 1 ELSE 0 END)" for s in Stage)
_SELECT_TRAFFIC = "SELECT instance, replica_id, model_id, version, counters, updated_at FROM traffic"
_SELECT_CANARY = "SELECT model_id, document, owner, heartbeat_at, revision FROM canaries"


class Rows(Protocol):
    """What `execute` returns: a sqlite3 cursor or a SQLAlchemy result."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlConnection(Protocol):
    """A connection inside one transaction, taking `?` placeholders."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]], /) -> Any: ...


# Advisory-lock keys: writes whose order is global (the outbox's, so seq order is commit order)
# and lineage links (so two replicas cannot each add one half of a cycle).
OUTBOX_LOCK = 0x4E42_0001
LINEAGE_LOCK = 0x4E42_0002


@dataclass(frozen=True)
class SqlFlavour:
    """How one database's SQL differs here."""

    search: Dialect
    # Appended to the SELECT of a compare-and-set read inside a write transaction.
    lock_rows: str
    # Whether a write must take an advisory lock to be ordered against other writers.
    needs_serialising: bool


class SqlRegistryStore(RegistryStore):
    """The SQL of the contract; subclasses open connections, run transactions, translate errors."""

    flavour: SqlFlavour

    @property
    @abstractmethod
    def where(self) -> str:
        """The database, as error messages name it (never with a password)."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[SqlConnection]:
        """One write transaction: all or nothing, durable when the block exits."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[SqlConnection]:
        """One read transaction: every statement inside sees the same snapshot."""

    @abstractmethod
    def _insert(self, conn: SqlConnection, sql: str, params: Sequence[Any], id_column: str) -> int:
        """Run an INSERT of one row and return the id the database gave it."""

    @abstractmethod
    def _insert_version(self, conn: SqlConnection, row: Sequence[Any]) -> int | None:
        """Insert a `versions` row (VERSION_INSERT_COLUMNS) and return its id; None, with nothing
        inserted and the transaction still usable, when its (model_id, version_sort) is taken."""

    def _serialise(self, conn: SqlConnection, key: int) -> None:
        """Queue behind every other transaction that takes the same key (until it ends)."""
        if self.flavour.needs_serialising:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    # -- versions ----------------------------------------------------------------------------

    def add_version(self, version: ModelVersion, change: StageChange) -> StageChange:
        key = key_params(version)
        with self._write() as conn:
            parent = version.parent
            if parent is not None:
                lock = " FOR SHARE" if self.flavour.lock_rows else ""
                if conn.execute(_ID_AND_STAGE + lock, key_params(parent)).fetchone() is None:
                    self._refuse_registered(conn, version.ref, key)  # that error first, as always
                    raise NotFoundError(f"parent {parent} of {version.ref} is not registered")
            # The insert itself finds an existing version (the unique index): no SELECT before it.
            version_id = self._insert_version(conn, version_row(version, sort=key[1]))
            if version_id is None:
                self._refuse_registered(conn, version.ref, key)
                raise ConflictError(f"{version.ref} was being registered by another writer at once; try again")
            conn.execute(_INSERT_DETAILS, details_row(version_id, version))
            if version.metrics:
                conn.executemany(
                    "INSERT INTO version_metrics (version_id, name, value) VALUES (?, ?, ?)",
                    [(version_id, name, value) for name, value in version.metrics.items()],
                )
            if version.tags:
                conn.executemany(
                    "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                    [(version_id, name, value) for name, value in version.tags.items()],
                )
            return self._append_change(conn, change)

    def _refuse_registered(self, conn: SqlConnection, ref: VersionRef, key: tuple[str, str]) -> None:
        """ConflictError if `ref` is registered already (read inside the caller's write transaction)."""
        existing = conn.execute(_ID_AND_STAGE, key).fetchone()
        if existing is not None:
            raise _already_registered(ref, existing[1])

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
                version_count=int(row[1]),
                latest_version=row[-1],
                production_version=row[-2],
                stage_counts={s.value: int(row[3 + i]) for i, s in enumerate(stages)},
                last_registered_at=row[2],
            )
            for row in rows
        ]

    def search(self, query: SearchQuery) -> SearchPage:
        sql = search_sql(query, self.flavour.search)
        with self._read() as conn:
            page = conn.execute(sql.ids, sql.ids_params).fetchall()
            ids = [row[0] for row in page]
            if sql.counted and page:
                total = int(page[0][1])
            elif len(ids) < query.limit and (ids or query.offset == 0):
                total = query.offset + len(ids)
            else:
                total = int(conn.execute(sql.count, sql.count_params).fetchone()[0])
            rows = {}
            if ids:
                found = conn.execute(f"{_SELECT_ID_VERSION} WHERE v.id IN ({', '.join('?' for _ in ids)})", ids)
                rows = {row[0]: row[1:] for row in found}
        return SearchPage.build(tuple(version_from_row(rows[i]) for i in ids), total, query.offset, query.limit)

    def statistics(self) -> RegistryStatistics:
        with self._read() as conn:
            models, versions = conn.execute("SELECT COUNT(DISTINCT model_id), COUNT(*) FROM versions").fetchone()
            by_stage = {s: int(n) for s, n in conn.execute("SELECT stage, COUNT(*) FROM versions GROUP BY stage")}
            by_framework = conn.execute(
                "SELECT framework, COUNT(*) FROM versions GROUP BY framework ORDER BY framework"
            ).fetchall()
        return RegistryStatistics(
            total_models=int(models),
            total_versions=int(versions),
            production_count=by_stage.get(Stage.PRODUCTION.value, 0),
            by_stage={s.value: by_stage.get(s.value, 0) for s in Stage},
            by_framework={name: int(n) for name, n in by_framework},
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[StageChange]) -> list[StageChange]:
        applied = []
        with self._write() as conn:
            for change in changes:
                if change.from_stage is None:
                    raise InvalidInputError("changes", str(change.ref), "registrations go through add_version")
                # The row stays locked until the transaction ends: a concurrent batch that reads
                # it waits, then sees this batch's outcome (compare-and-set across replicas).
                row = conn.execute(_ID_AND_STAGE + self.flavour.lock_rows, key_params(change.ref)).fetchone()
                if row is None:
                    raise NotFoundError(f"{change.ref} is not registered (it may have just been deleted)")
                if row[1] != change.from_stage.value:
                    raise ConflictError(
                        f"{change.ref} is in {row[1]}, not {change.from_stage.value}: it changed meanwhile"
                    )
                if change.to_stage is None:
                    self._delete_version(conn, row[0])
                else:
                    conn.execute(
                        "UPDATE versions SET stage = ?, stage_changed_at = ? WHERE id = ?",
                        (change.to_stage.value, change.changed_at, row[0]),
                    )
                applied.append(self._append_change(conn, change))
        return applied

    def _delete_version(self, conn: SqlConnection, version_id: int) -> None:
        """Delete a version with its search rows, found by their whole key from its documents
        (the side tables have no index by version: registering would pay for it)."""
        metrics, tags = conn.execute(
            "SELECT metrics, tags FROM version_details WHERE version_id = ?", (version_id,)
        ).fetchone()
        for table, name, document in (("version_metrics", "name", metrics), ("version_tags", "key", tags)):
            rows = [(key, value, version_id) for key, value in self._decode(document, table).items()]
            if rows:
                conn.executemany(f"DELETE FROM {table} WHERE {name} = ? AND value = ? AND version_id = ?", rows)
        conn.execute("DELETE FROM versions WHERE id = ?", (version_id,))

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
            self._serialise(conn, LINEAGE_LOCK)
            row = conn.execute(_ID_AND_STAGE + self.flavour.lock_rows, key_params(ref)).fetchone()
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
            seq = self._insert(conn, _INSERT_AUDIT, row, "seq")
        return dataclasses.replace(entry, arguments=json.loads(encoded), seq=seq)

    def prune_audit(self, before: float) -> int:
        if isinstance(before, bool) or not isinstance(before, int | float) or not math.isfinite(before):
            raise InvalidInputError("before", before, "a finite time in epoch seconds")
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM audit_log WHERE at < ?", (float(before),)).rowcount
        return max(0, int(deleted))

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
        return [
            AuditEntry(
                seq=row[0],
                at=row[1],
                caller=row[2],
                role=row[3],
                tool=row[4],
                model_id=row[5],
                arguments=self._decode(row[6], f"audit entry {row[0]}"),
                outcome=row[7],
                error_category=row[8],
                message=row[9],
                duration_ms=row[10],
            )
            for row in rows
        ]

    # -- deployment state ----------------------------------------------------------------------

    def save_deployment(
        self,
        model_id: str,
        document: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        updated_by: str = "",
        updated_at: float = 0.0,
    ) -> int:
        model_id = validate_model_id(model_id)
        if not isinstance(document, Mapping):
            raise InvalidInputError("document", document, "expected a mapping (a JSON object)")
        encoded = to_json(document, "document")
        columns = {"document": encoded, "updated_at": updated_at, "updated_by": updated_by}
        return self._save_revisioned("deployments", "deployment", model_id, expected_revision, columns)

    def load_deployments(self) -> dict[str, dict[str, Any]]:
        return {model_id: dict(record.document) for model_id, record in self.deployment_records().items()}

    def deployment_revisions(self) -> dict[str, int]:
        with self._read() as conn:
            return {m: int(r) for m, r in conn.execute("SELECT model_id, revision FROM deployments ORDER BY model_id")}

    def deployment_records(self) -> dict[str, DeploymentRecord]:
        sql = "SELECT model_id, document, revision, updated_at, updated_by FROM deployments ORDER BY model_id"
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
        return {
            row[0]: DeploymentRecord(
                row[0], self._decode(row[1], f"the deployment document of {row[0]}"), int(row[2]), row[3], row[4]
            )
            for row in rows
        }

    def delete_deployment(self, model_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM deployments WHERE model_id = ?", (validate_model_id(model_id),))
            deleted = bool(cursor.rowcount > 0)
            if deleted:
                self._changed(conn, f"deployment {model_id} deleted")
            return deleted

    # -- replicas --------------------------------------------------------------------------------

    def save_traffic(self, rows: Sequence[TrafficRow]) -> None:
        values = [
            (r.instance, r.replica_id, r.model_id, r.version, to_json(r.counters, "counters"), r.updated_at)
            for r in rows
        ]
        if not values:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO traffic (instance, replica_id, model_id, version, counters, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model_id, version, instance) DO UPDATE SET "
                "replica_id = excluded.replica_id, counters = excluded.counters, updated_at = excluded.updated_at",
                values,
            )

    def load_traffic(self, model_id: str, versions: Collection[str] | None = None) -> list[TrafficRow]:
        sql, params = _SELECT_TRAFFIC + " WHERE model_id = ?", [model_id]
        if versions is not None:
            if not versions:
                return []
            sql += f" AND version IN ({', '.join('?' for _ in versions)})"
            params.extend(versions)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY version, instance", params).fetchall()
        return [
            TrafficRow(r[0], r[1], r[2], r[3], self._decode(r[4], f"the traffic counters of {r[0]}"), r[5])
            for r in rows
        ]

    def prune_traffic(self, before: float) -> int:
        with self._write() as conn:
            return int(conn.execute("DELETE FROM traffic WHERE updated_at < ?", (before,)).rowcount)

    def save_canary(self, record: CanaryRecord, *, expected_revision: int) -> CanaryRecord:
        model_id = validate_model_id(record.model_id)
        encoded = to_json(record.document, "document")
        columns = {"document": encoded, "owner": record.owner, "heartbeat_at": record.heartbeat_at}
        revision = self._save_revisioned("canaries", "canary", model_id, expected_revision, columns)
        return dataclasses.replace(record, document=json.loads(encoded), revision=revision)

    def load_canary(self, model_id: str) -> CanaryRecord | None:
        with self._read() as conn:
            row = conn.execute(_SELECT_CANARY + " WHERE model_id = ?", (model_id,)).fetchone()
        return None if row is None else self._canary(row)

    def load_canaries(self) -> list[CanaryRecord]:
        with self._read() as conn:
            return [self._canary(row) for row in conn.execute(_SELECT_CANARY + " ORDER BY model_id").fetchall()]

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        return None

    def _save_revisioned(
        self, table: str, kind: str, model_id: str, expected: int | None, columns: Mapping[str, Any]
    ) -> int:
        """Write a model's row of a revisioned control `table` (deployments, canaries) with `columns`,
        as a compare-and-set against `expected` (None: any); returns the new revision."""
        names = ["model_id", *columns, "revision"]
        updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
        sql = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks(', '.join(names))}) "
            f"ON CONFLICT (model_id) DO UPDATE SET {updates}"
        )
        with self._write() as conn:
            current = self._revision(conn, table, kind, model_id, expected)
            conn.execute(sql, (model_id, *columns.values(), current + 1))
            self._changed(conn, f"{kind} {model_id} {current + 1}")
        return current + 1

    def _revision(self, conn: SqlConnection, table: str, kind: str, model_id: str, expected: int | None) -> int:
        """The stored revision of a model's row in `table` (locked until the transaction ends), after
        checking it is `expected` (None: any)."""
        found = conn.execute(f"SELECT revision FROM {table} WHERE model_id = ?" + self.flavour.lock_rows, (model_id,))
        row = found.fetchone()
        current = NO_REVISION if row is None else int(row[0])
        if expected is not None and current != expected:
            stored = "none is saved" if current == NO_REVISION else f"it is at revision {current}"
            raise ConflictError(
                f"the {kind} of {model_id} changed meanwhile (expected revision {expected}, {stored}): another replica "
                "changed it; the change is picked up shortly, try again"
            )
        return current

    def _changed(self, conn: SqlConnection, what: str) -> None:
        """Tell other processes, when the transaction commits, that control state changed."""

    def _canary(self, row: Sequence[Any]) -> CanaryRecord:
        return CanaryRecord(row[0], self._decode(row[1], f"the canary of {row[0]}"), row[2], row[3], int(row[4]))

    # -- outbox ----------------------------------------------------------------------------------

    def outbox_append(self, topic: str, payload: Mapping[str, Any], created_at: float) -> OutboxEntry:
        if not isinstance(topic, str) or not 1 <= len(topic) <= MAX_TOPIC:
            raise InvalidInputError("topic", topic, f"expected 1-{MAX_TOPIC} characters")
        if not isinstance(payload, Mapping):
            raise InvalidInputError("payload", payload, "expected a mapping (a JSON object)")
        encoded = to_json(payload, "payload")
        with self._write() as conn:
            # Serialised, so entries commit in the order of their seq: a relay never acknowledges
            # entry n+1 while entry n is still uncommitted in another process.
            self._serialise(conn, OUTBOX_LOCK)
            seq = self._insert(
                conn,
                "INSERT INTO outbox (topic, payload, created_at) VALUES (?, ?, ?)",
                (topic, encoded, created_at),
                "seq",
            )
        return OutboxEntry(seq=seq, topic=topic, payload=json.loads(encoded), created_at=created_at)

    def outbox_pending(self, limit: int = 100) -> list[OutboxEntry]:
        with self._read() as conn:
            rows = conn.execute(f"{_SELECT_OUTBOX} WHERE parked = 0 ORDER BY seq LIMIT ?", (max(0, limit),))
            return [self._outbox_entry(row) for row in rows]

    def outbox_ack(self, seq: int) -> bool:
        with self._write() as conn:
            return bool(conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount > 0)

    def outbox_fail(self, seq: int, error: str, *, park: bool) -> OutboxEntry | None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, parked = ? WHERE seq = ?",
                (str(error)[:MAX_ERROR], int(park), seq),
            )
            row = conn.execute(f"{_SELECT_OUTBOX} WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else self._outbox_entry(row)

    def outbox_counts(self) -> OutboxCounts:
        with self._read() as conn:
            pending, parked = conn.execute(
                "SELECT COALESCE(SUM(CASE WHEN parked = 0 THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN parked = 1 THEN 1 ELSE 0 END), 0) FROM outbox"
            ).fetchone()
        return OutboxCounts(pending=int(pending), parked=int(parked))

    def outbox_unpark(self) -> int:
        with self._write() as conn:
            return int(conn.execute("UPDATE outbox SET parked = 0, attempts = 0 WHERE parked = 1").rowcount)

    def _outbox_entry(self, row: Sequence[Any]) -> OutboxEntry:
        payload = self._decode(row[2], f"outbox entry {row[0]}")
        return OutboxEntry(row[0], row[1], payload, row[3], row[4], row[5], bool(row[6]))

    # -- internals -------------------------------------------------------------------------------

    def _decode(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{what} in {self.where} is not valid JSON: {exc}") from exc

    def _ancestors(self, conn: SqlConnection, start: VersionRef) -> list[VersionRef]:
        """`start` and its ancestors, read inside the caller's transaction (stops on a cycle)."""
        chain = [start]
        while True:
            row = conn.execute(
                "SELECT v.parent_model_id, v.parent_version FROM versions v" + _KEY, key_params(chain[-1])
            ).fetchone()
            if row is None or row[0] is None or VersionRef(row[0], row[1]) in chain:
                return chain
            chain.append(VersionRef(row[0], row[1]))

    def _append_change(self, conn: SqlConnection, change: StageChange) -> StageChange:
        seq = self._insert(conn, _INSERT_CHANGE, change_row(change), "seq")
        return change.with_seq(seq)


def _already_registered(ref: VersionRef, stage: str) -> ConflictError:
    return ConflictError(
        f"{ref} is already registered (stage {stage}); versions are never overwritten: register a new version"
    )
