"""The outbox's SQL (`OutboxStore`), for sqlite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.registry.outbox import MAX_ERROR, MAX_TOPIC, OutboxCounts, OutboxEntry, OutboxStore
from nba_mcp_deploy.stores.rows import to_json
from nba_mcp_deploy.stores.sql_database import OUTBOX_LOCK, SqlDatabase

_SELECT_OUTBOX = "SELECT seq, topic, payload, created_at, attempts, last_error, parked FROM outbox"


class SqlOutboxStore(SqlDatabase, OutboxStore):
    """The `outbox` table as a queue: rows appended in `seq` order, deleted when delivered."""

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
