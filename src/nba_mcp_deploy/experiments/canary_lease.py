"""`CanaryLeases`: which replica runs each canary, kept in the store (see canary_state.py).

A replica holds a canary while its writes of the canary's record succeed: each write is
compare-and-set on the revision it wrote last, so when another replica has written since (it
took the canary over), the write fails and this replica lets the canary go. The writes double
as heartbeats: at most one per `HEARTBEAT_SEC` unless a decision forces one. A running canary
whose record has not been written for `TAKEOVER_HEARTBEATS` check intervals is an orphan (its
replica died), and any other replica may adopt it; the compare-and-set lets only one succeed.
"""

from __future__ import annotations

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import ConflictError, DeployError
from nba_mcp_deploy.experiments.canary import Canary, CanaryPhase
from nba_mcp_deploy.experiments.canary_state import HEARTBEAT_SEC, TAKEOVER_HEARTBEATS, to_document
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.shared_state import CanaryRecord, ControlStateStore

log = get_logger(__name__)


def is_running(record: CanaryRecord | None) -> bool:
    return record is not None and record.document.get("phase") == CanaryPhase.RUNNING.value


class CanaryLeases:
    """This replica's hold on the canaries it runs; see the module docstring."""

    def __init__(self, store: ControlStateStore, owner: str, clock: Clock, *, check_interval_sec: float) -> None:
        self._store = store
        self._owner = owner
        self._clock = clock
        self._stale_sec = TAKEOVER_HEARTBEATS * max(check_interval_sec, HEARTBEAT_SEC)
        # The record revision each canary was last written at here, and when (monotonic).
        self._revisions: dict[str, int] = {}
        self._written_at: dict[str, float] = {}

    def load(self, model_id: str) -> CanaryRecord | None:
        """The latest state any replica wrote for the model's canary."""
        return self._store.load_canary(model_id)

    def running(self, model_id: str) -> CanaryRecord | None:
        """The record of the model's canary if it runs (on any replica)."""
        record = self._store.load_canary(model_id)
        return record if is_running(record) else None

    def hold(self, model_id: str, record: CanaryRecord | None) -> None:
        """Write the model's next canary over `record` (None: no record yet)."""
        self._revisions[model_id] = 0 if record is None else record.revision

    def written_elsewhere(self, record: CanaryRecord) -> bool:
        """Whether `record` is not the one this replica wrote last (another replica wrote since)."""
        return record.revision != self._revisions.get(record.model_id)

    def write(self, canary: Canary, *, force: bool) -> bool:
        """Write the canary's state (a heartbeat too); at most once per HEARTBEAT_SEC unless
        `force`. False when another replica took the canary over meanwhile: let it go."""
        now = self._clock.monotonic()
        model_id = canary.model_id
        if not force and now - self._written_at.get(model_id, -HEARTBEAT_SEC) < HEARTBEAT_SEC:
            return True
        document = to_document(canary.status(), registry_path=canary.registry_path, baseline=canary.baseline)
        record = CanaryRecord(model_id, document, self._owner, self._clock.now(), 0)
        try:
            saved = self._store.save_canary(record, expected_revision=self._revisions.get(model_id, 0))
        except ConflictError:
            log.info("canary taken over by another replica", extra={"model_id": model_id})
            return False
        except DeployError as exc:
            log.warning("could not write the canary's state to the store", extra={"error": str(exc)})
            return True
        self._revisions[model_id] = saved.revision
        self._written_at[model_id] = now
        return True

    def orphans(self) -> list[CanaryRecord]:
        """Running canaries of other replicas that stopped writing heartbeats (they died)."""
        try:
            records = self._store.load_canaries()
        except DeployError as exc:
            log.warning("could not read canaries from the store", extra={"error": str(exc)})
            return []
        now = self._clock.now()
        return [
            r for r in records if is_running(r) and r.owner != self._owner and now - r.heartbeat_at > self._stale_sec
        ]
