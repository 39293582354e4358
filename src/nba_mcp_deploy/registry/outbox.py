"""The outbox: changes waiting to reach another system (MLflow), kept in the registry store.

Whatever must be mirrored elsewhere is appended here first (durable once `outbox_append`
returns) and delivered later, oldest first, by a relay that acknowledges each entry once the
other system has it. So an outage of the other system loses nothing and serving never waits
for it. Delivery is at least once: a crash between delivering and acknowledging delivers the
entry again, so whoever delivers must make each entry idempotent.

An entry the other system keeps refusing is *parked* after a few attempts: it stays in the
store (counted and reported), no longer blocks the entries behind it, and can be queued again.
`OutboxStore` is the store's port for it (the MLflow relay's only dependency on the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# The longest topic name, and the longest delivery error an entry keeps.
MAX_TOPIC = 64
MAX_ERROR = 2_000


@dataclass(frozen=True)
class OutboxEntry:
    """One change to deliver: `topic` says what it is, `payload` (JSON) what changed.

    `seq` orders entries (strictly increasing, never reused); `attempts` counts failed
    deliveries and `last_error` says why the last one failed.
    """

    seq: int
    topic: str
    payload: Mapping[str, Any]
    created_at: float
    attempts: int = 0
    last_error: str | None = None
    parked: bool = False


@dataclass(frozen=True)
class OutboxCounts:
    """How many entries wait for delivery, and how many are parked after repeated refusals."""

    pending: int
    parked: int


class OutboxStore(Protocol):
    """A durable queue in the registry store: appends are ordered, deliveries acknowledged one by one,
    refused entries parked and offered again on demand."""

    def outbox_append(self, topic: str, payload: Mapping[str, Any], created_at: float) -> OutboxEntry:
        """Queue a change for another system; durable and ordered after every earlier entry.

        `topic` is 1 to MAX_TOPIC characters; `payload` must be JSON (InvalidInputError otherwise).
        Entries appended by several threads or processes get distinct, increasing `seq`s.
        """
        ...

    def outbox_pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Up to `limit` entries waiting for delivery, oldest (lowest `seq`) first; parked ones excluded."""
        ...

    def outbox_ack(self, seq: int) -> bool:
        """Forget a delivered entry; False if it was already gone (another relay got there first)."""
        ...

    def outbox_fail(self, seq: int, error: str, *, park: bool) -> OutboxEntry | None:
        """Count a failed delivery and keep `error` (its first MAX_ERROR characters); with `park`,
        stop offering the entry.

        Returns the updated entry, or None if it was already acknowledged.
        """
        ...

    def outbox_counts(self) -> OutboxCounts:
        """How many entries are pending and how many are parked."""
        ...

    def outbox_unpark(self) -> int:
        """Offer every parked entry again (in its original order, attempts reset); returns how many."""
        ...
