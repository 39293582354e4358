"""The audit log: who changed what, when, with which arguments, and how it ended.

Every mutating call (and every refused one) becomes one `AuditEntry`, written durably to the
registry store (its `AuditStore` role) after the call has finished, so the entry holds its
outcome. Arguments are summarised first: long strings are cut, lists and mappings longer
than a few items become `<list of N items>`, and the whole summary fits a fixed budget, so an
entry never holds the 10,000 records of a payload.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from nba_mcp_deploy.access.permissions import Caller
from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import InvalidInputError

Outcome = Literal["ok", "error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

MAX_STRING = 200
MAX_ITEMS = 16
MAX_DEPTH = 4
SUMMARY_BUDGET = 4000  # characters of strings and keys in one summary, roughly
MAX_MESSAGE = 1000
MAX_AUDIT_LIMIT = 1000
# With a retention period, entries older than it are deleted after every this many writes.
PRUNE_EVERY = 1000


@dataclass(frozen=True)
class AuditEntry:
    """One audited call. `seq` is assigned by the store (None before it is written)."""

    at: float
    caller: str
    role: str
    tool: str
    model_id: str | None
    arguments: Mapping[str, Any]
    outcome: Outcome
    error_category: str | None = None
    message: str | None = None
    duration_ms: float | None = None
    seq: int | None = None


@dataclass
class _Budget:
    left: int = SUMMARY_BUDGET

    def spend(self, amount: int) -> bool:
        self.left -= amount
        return self.left >= 0


def _summarise(value: Any, depth: int, budget: _Budget) -> Any:
    if value is None or isinstance(value, bool | int):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            return f"<integer of {len(str(abs(value)))} digits>"
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= MAX_STRING else f"{value[:MAX_STRING]}... ({len(value)} characters)"
        return shown if budget.spend(len(shown)) else "<cut>"
    if isinstance(value, Mapping):
        if len(value) > MAX_ITEMS:
            return f"<mapping of {len(value)} entries>"
        if depth >= MAX_DEPTH:
            return f"<mapping of {len(value)} entries, nested deeper than {MAX_DEPTH}>"
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)[:MAX_STRING]
            if not budget.spend(len(name)):
                out["<cut>"] = f"{len(value) - len(out)} more entries"
                break
            out[name] = _summarise(item, depth + 1, budget)
        return out
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            return f"<list of {len(value)} items>"
        if depth >= MAX_DEPTH:
            return f"<list of {len(value)} items, nested deeper than {MAX_DEPTH}>"
        return [_summarise(item, depth + 1, budget) for item in value]
    return f"<{type(value).__name__}>"


def summarise_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A small, JSON-safe picture of a call's arguments, whatever they hold."""
    budget = _Budget()
    out: dict[str, Any] = {}
    for key, value in list(arguments.items())[:64]:
        out[str(key)[:MAX_STRING]] = _summarise(value, 1, budget)
    if len(arguments) > 64:
        out["<cut>"] = f"{len(arguments) - 64} more arguments"
    return out


def model_id_of(arguments: Mapping[str, Any]) -> str | None:
    """The `model_id` argument if it is a plausible one (entries are filtered by it)."""
    value = arguments.get("model_id")
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def validate_audit_query(model_id: str | None, since: float | None, limit: int) -> None:
    """The rules every store applies to `list_audit`'s arguments (InvalidInputError names the field)."""
    if model_id is not None and not isinstance(model_id, str):
        raise InvalidInputError("model_id", model_id, "a model id or null")
    if since is not None and (
        isinstance(since, bool) or not isinstance(since, int | float) or not math.isfinite(since)
    ):
        raise InvalidInputError("since", since, "a finite time in epoch seconds, or null")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise InvalidInputError("limit", limit, f"a whole number from 1 to {MAX_AUDIT_LIMIT}")


class AuditStore(Protocol):
    """The audit log's persistence: entries are appended, read newest first, and only deleted by age."""

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry durably and return it with its `seq` (strictly increasing, never reused).

        `entry.arguments` must be JSON (InvalidInputError otherwise); `outcome` is one of
        OUTCOMES. Entries are never changed; only `prune_audit` deletes them.
        """
        ...

    def prune_audit(self, before: float) -> int:
        """Delete the entries written before `before` (epoch seconds); returns how many went.

        The retention policy (`AuditLog`, `audit_retention_days`) calls it; `seq` values are never reused.
        """
        ...

    def list_audit(self, model_id: str | None = None, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first (highest `seq` first): only `model_id`'s, only those at or after
        `since`, at most `limit` (see `validate_audit_query`; InvalidInputError naming the field)."""
        ...


class AuditLog:
    """Writes and reads audit entries through the registry store, timestamped by the clock.

    With `retention_sec`, every `prune_every`-th entry written (by its `seq`, so no state is kept
    between calls or processes) also deletes the entries older than the retention period.
    """

    def __init__(
        self, store: AuditStore, clock: Clock, *, retention_sec: float | None = None, prune_every: int = PRUNE_EVERY
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention_sec = retention_sec
        self._prune_every = prune_every

    def record(
        self,
        caller: Caller,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        error_category: str | None = None,
        message: str | None = None,
        duration_ms: float | None = None,
    ) -> AuditEntry:
        """Write one entry: outcome ok unless an error category is given."""
        entry = AuditEntry(
            at=self._clock.now(),
            caller=caller.name,
            role=caller.role.value,
            tool=str(tool)[:MAX_STRING],
            model_id=model_id_of(arguments),
            arguments=summarise_arguments(arguments),
            outcome="ok" if error_category is None else "error",
            error_category=error_category,
            message=None if message is None else message[:MAX_MESSAGE],
            duration_ms=duration_ms,
        )
        written = self._store.append_audit(entry)
        if self._retention_sec is not None and written.seq is not None and written.seq % self._prune_every == 0:
            self._store.prune_audit(before=entry.at - self._retention_sec)
        return written

    def entries(self, model_id: str | None = None, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first: of one model, at or after `since`, at most `limit`."""
        return self._store.list_audit(model_id=model_id, since=since, limit=limit)
