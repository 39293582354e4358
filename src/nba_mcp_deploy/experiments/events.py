"""Experiment decisions as events, for whoever mirrors them (the MLflow adapter, an audit log).

Every canary decision (started, step advanced, rolled back, aborted, promoted, failed) becomes
one `ExperimentEvent`. Listeners are called after the decision has taken effect, outside every
lock, in registration order; a listener that raises is logged and skipped, never undoing the
decision or stopping the others.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from nba_mcp_deploy.experiments.guards import GuardResult
from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)


class EventKind(StrEnum):
    CANARY_STARTED = "canary_started"
    STEP_ADVANCED = "step_advanced"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    PROMOTED = "promoted"
    FAILED = "failed"


@dataclass(frozen=True)
class ExperimentEvent:
    """One decision: what, for which model and versions, at which step and weight, and why."""

    kind: EventKind
    model_id: str
    stable_version: str
    candidate_version: str
    step_index: int
    weight: float  # the candidate's share of traffic after the decision
    at: float  # epoch seconds
    reason: str
    guards: tuple[GuardResult, ...] = ()
    actor: str = "canary"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExperimentListener(Protocol):
    """Told about every experiment decision (e.g. to log it to MLflow)."""

    def on_experiment_event(self, event: ExperimentEvent) -> None: ...


class Listeners:
    """The registered listeners; `notify` never raises."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: tuple[ExperimentListener, ...] = ()

    def add(self, listener: ExperimentListener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def notify(self, event: ExperimentEvent) -> None:
        for listener in self._listeners:
            try:
                listener.on_experiment_event(event)
            except Exception:
                log.exception(
                    "experiment listener failed",
                    extra={"listener": type(listener).__name__, "event": event.kind.value, "model_id": event.model_id},
                )
