"""Control state's SQL (`ControlStateStore`): deployment documents, traffic counters, canary records.

Documents and canary records are rows carrying a revision, written compare-and-set: the stored
revision is read locked (`SqlFlavour.lock_rows`) in the transaction that writes the next one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.registry.shared_state import (
    NO_REVISION,
    CanaryRecord,
    ControlStateStore,
    DeploymentRecord,
    TrafficRow,
)
from nba_mcp_deploy.stores.rows import to_json
from nba_mcp_deploy.stores.sql_database import SqlConnection, SqlDatabase, marks

_SELECT_TRAFFIC = "SELECT instance, replica_id, model_id, version, counters, updated_at FROM traffic"
_SELECT_CANARY = "SELECT model_id, document, owner, heartbeat_at, revision FROM canaries"


class SqlControlStateStore(SqlDatabase, ControlStateStore):
    """The `deployments`, `traffic` and `canaries` tables; a backend that can push changes
    overrides `subscribe` and `_changed`."""

    # -- deployment documents ------------------------------------------------------------------

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

    # -- traffic counters ----------------------------------------------------------------------

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

    # -- canary records ------------------------------------------------------------------------

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

    # -- change notification -------------------------------------------------------------------

    def subscribe(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        return None

    def _changed(self, conn: SqlConnection, what: str) -> None:
        """Tell other processes, when the transaction commits, that control state changed."""

    # -- internals -------------------------------------------------------------------------------

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

    def _canary(self, row: Sequence[Any]) -> CanaryRecord:
        return CanaryRecord(row[0], self._decode(row[1], f"the canary of {row[0]}"), row[2], row[3], int(row[4]))
