"""The outbox: changes waiting to reach another system (MLflow), kept in the registry store.

Whatever must be mirrored elsewhere is appended here first (durable once `outbox_append`
returns) and delivered later, oldest first, by a relay that acknowledges each entry once the
other system has it. So an outage of the other system loses nothing and serving never waits
for it. Delivery is at least once: a crash between delivering and acknowledging delivers the
entry again, so whoever delivers must make each entry idempotent.

An entry the other system keeps refusing is *parked* after a few attempts: it stays in the
store (counted and reported), no longer blocks the entries behind it, and can be queued again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
