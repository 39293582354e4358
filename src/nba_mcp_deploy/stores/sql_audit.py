"""The audit log's SQL (`AuditStore`), for sqlite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.access.audit import OUTCOMES, AuditEntry, AuditStore, validate_audit_query
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.stores.rows import to_json
from nba_mcp_deploy.stores.sql_database import SqlDatabase, marks

_AUDIT_COLUMNS = "at, caller, role, tool, model_id, arguments, outcome, error_category, message, duration_ms"
_INSERT_AUDIT = f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({marks(_AUDIT_COLUMNS)})"


class SqlAuditStore(SqlDatabase, AuditStore):
    """Entries appended to `audit_log`, read newest first, deleted only by age."""

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
