"""What the SQL stores' role mixins share: one connection protocol and the transaction hooks.

A backend (`sqlite.py`, `postgres.py`) supplies the transactions (`_write`, `_read`), each
yielding a connection whose `execute(sql, params)` takes `?` placeholders and returns rows,
and says how its SQL differs (`SqlFlavour`): how an inserted row's id comes back, how a
compare-and-set read locks the rows it reads, how writes that must keep a global order are
serialised. sqlite serialises every write already (BEGIN IMMEDIATE); PostgreSQL locks the rows
a stage change reads (`SELECT ... FOR UPDATE`), so two replicas promoting at once are applied
one after the other and the second sees what the first did. Foreign errors are translated by
the backend.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.stores.sql_search import Dialect

# Advisory-lock keys: writes whose order is global (the outbox's, so seq order is commit order)
# and lineage links (so two replicas cannot each add one half of a cycle).
OUTBOX_LOCK = 0x4E42_0001
LINEAGE_LOCK = 0x4E42_0002


def marks(columns: str) -> str:
    """One `?` per column of a comma-separated column list."""
    return ", ".join("?" for _ in columns.split(","))


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


@dataclass(frozen=True)
class SqlFlavour:
    """How one database's SQL differs here."""

    search: Dialect
    # Appended to the SELECT of a compare-and-set read inside a write transaction.
    lock_rows: str
    # Whether a write must take an advisory lock to be ordered against other writers.
    needs_serialising: bool


class SqlDatabase(ABC):
    """The transactions a backend provides, and the helpers every role's SQL uses."""

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

    def _serialise(self, conn: SqlConnection, key: int) -> None:
        """Queue behind every other transaction that takes the same key (until it ends)."""
        if self.flavour.needs_serialising:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    def _decode(self, text: str, what: str) -> Any:
        """A JSON document read back from the database; StoreError naming `what` if it is damaged."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{what} in {self.where} is not valid JSON: {exc}") from exc
