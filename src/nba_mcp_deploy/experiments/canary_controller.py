"""`CanaryController`: the canaries this replica runs, their evaluator thread, and the commands.

What a canary decides and does is `CanaryMachine`'s (canary_machine.py); which replica runs it,
with several replicas on one store, is `CanaryLeases`' (canary_lease.py). The controller holds
the running canaries, serialises every decision under one lock, keeps each canary's record in
the store current and announces decisions to the listeners once they have taken effect.

Evaluation runs on one background thread (`PeriodicWorker`), woken by the predict-path hook
(see `canary.py`) and every `check_interval_sec` anyway; the timer also picks up outcomes
reported since (the accuracy guard, computed on timer ticks and before a step may pass), the
end of a step's bake time, and canaries orphaned by a replica that died.
"""

from __future__ import annotations

import threading

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import ConflictError, NotFoundError
from nba_mcp_deploy.experiments.ab_testing import ABTestAnalyzer
from nba_mcp_deploy.experiments.canary import Canary, CanaryPhase, CanaryStatus
from nba_mcp_deploy.experiments.canary_lease import CanaryLeases, is_running
from nba_mcp_deploy.experiments.canary_machine import CanaryMachine
from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.canary_state import canary_from_document, status_from_document
from nba_mcp_deploy.experiments.events import ExperimentEvent, Listeners
from nba_mcp_deploy.experiments.fleet import FleetSource
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.identifiers import validate_model_id, validate_version
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.shared_state import CanaryRecord, ControlStateStore
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.worker import PeriodicWorker


class CanaryController:
    """One canary per model at a time; the last one stays readable after it ends."""

    def __init__(
        self,
        manager: ModelServingManager,
        registry: ModelRegistry | None,
        analyzer: ABTestAnalyzer,
        recorder: TrafficRecorder,
        *,
        clock: Clock | None = None,
        listeners: Listeners | None = None,
        check_interval_sec: float = 5.0,
        latency_window: int = 2048,
        fleet: FleetSource | None = None,
        store: ControlStateStore | None = None,
        owner: str = "",
    ) -> None:
        self._clock = clock or SystemClock()
        self._recorder = recorder
        self._listeners = listeners or Listeners()
        self._latency_window = latency_window
        self._with_fleet = fleet is not None
        # Several replicas: canary state in the store, written by this replica (`owner`).
        self._leases = (
            None if store is None else CanaryLeases(store, owner, self._clock, check_interval_sec=check_interval_sec)
        )
        self._lock = threading.RLock()
        self._canaries: dict[str, Canary] = {}
        self._worker = PeriodicWorker(self._on_worker, check_interval_sec, "canary-evaluator")
        self._machine = CanaryMachine(
            manager,
            registry,
            analyzer,
            recorder,
            self._clock,
            wake=self._worker.wake,
            latency_window=latency_window,
            fleet=fleet,
        )
        self._worker.start()

    # -- commands --------------------------------------------------------------------------

    def start(
        self, model_id: str, candidate_version: str, policy: CanaryPolicy, *, actor: str = "local"
    ) -> CanaryStatus:
        """Send `policy.steps[0]` of traffic to the deployed `candidate_version`, the rest to the active one."""
        validate_model_id(model_id)
        validate_version(candidate_version, "candidate_version")
        with self._lock:
            existing = self._canaries.get(model_id)
            if existing is not None and existing.phase is CanaryPhase.RUNNING:
                raise ConflictError(
                    f"a canary of {model_id} {existing.candidate} is already running; abort_canary it first"
                )
            previous = self._leases.load(model_id) if self._leases is not None else None
            if previous is not None and is_running(previous):
                raise ConflictError(
                    f"a canary of {model_id} {previous.document.get('candidate_version')} is already running on "
                    f"another replica; abort_canary it first"
                )
            canary = self._machine.begin(model_id, candidate_version, policy, actor=actor)
            self._canaries[model_id] = canary
            if self._leases is not None:
                self._leases.hold(model_id, previous)
            self._write(canary, force=True)
        self._listeners.notify(canary.history[-1])
        return canary.status()

    def abort(self, model_id: str, reason: str = "", *, actor: str = "local") -> CanaryStatus:
        """Stop a running canary and send all traffic back to the stable version."""
        events: list[ExperimentEvent] = []
        with self._lock:
            canary = self._canaries.get(model_id)
            if (canary is None or canary.phase is not CanaryPhase.RUNNING) and self._leases is not None:
                record = self._leases.running(model_id)
                if record is not None:
                    canary, events = self._adopt(record)  # running on another replica: this one stops it
            canary = canary or self._get(model_id)
            running = canary.phase is CanaryPhase.RUNNING
            if running:
                events.append(self._machine.abort(canary, reason, actor=actor))
                self._write(canary, force=True)
        for event in events:
            self._listeners.notify(event)
        if running:
            return canary.status()
        raise ConflictError(
            f"the canary of {model_id} {canary.candidate} is not running (it ended: {canary.phase.value})"
        )

    def status(self, model_id: str) -> CanaryStatus:
        """This replica's canary while it runs it; else the latest state any replica wrote."""
        with self._lock:
            record = self._leases.load(model_id) if self._leases is not None else None
            if record is not None and self._leases is not None and self._leases.written_elsewhere(record):
                canary = self._canaries.get(model_id)
                if canary is not None and canary.phase is CanaryPhase.RUNNING:  # another replica took it over
                    self._let_go(canary)
                return status_from_document(record.document)
            return self._get(model_id).status()

    def evaluate(self, model_id: str, *, with_quality: bool = True) -> CanaryStatus:
        """Evaluate a running canary's guards now and act on them (what the worker does)."""
        with self._lock:
            canary = self._get(model_id)
            events = self._machine.evaluate(canary, with_quality) if canary.phase is CanaryPhase.RUNNING else []
            status = canary.status()
            self._write(canary, force=bool(events))
        for event in events:
            self._listeners.notify(event)
        return status

    def running(self) -> list[str]:
        with self._lock:
            return sorted(m for m, c in self._canaries.items() if c.phase is CanaryPhase.RUNNING)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every evaluation the predict path has asked for so far is done."""
        return self._worker.wait_idle(timeout)

    def close(self) -> None:
        self._worker.close()

    # -- the evaluator thread --------------------------------------------------------------

    def _on_worker(self, on_timer: bool) -> None:
        for model_id in self.running():
            self.evaluate(model_id, with_quality=on_timer)
        if on_timer and self._leases is not None:
            for record in self._leases.orphans():
                with self._lock:
                    events = [] if record.model_id in self.running() else self._adopt(record)[1]
                for event in events:
                    self._listeners.notify(event)

    # -- several replicas ------------------------------------------------------------------

    def _write(self, canary: Canary, *, force: bool) -> None:
        """Keep the canary's record current (unless another replica runs it now: then let it go)."""
        if self._leases is None or self._canaries.get(canary.model_id) is not canary:
            return
        if not self._leases.write(canary, force=force):
            self._let_go(canary)

    def _let_go(self, canary: Canary) -> None:
        self._machine.detach(canary)
        self._canaries.pop(canary.model_id, None)

    def _adopt(self, record: CanaryRecord) -> tuple[Canary | None, list[ExperimentEvent]]:
        """Resume a canary from its record (called with the lock held): the canary (None if another
        replica was faster) and the decisions taken on resuming it, to announce."""
        assert self._leases is not None
        canary = canary_from_document(
            record.document,
            now=self._clock.now(),
            mono=self._clock.monotonic(),
            start_seq=self._recorder.mark(),
            latency_window=self._latency_window,
            with_fleet=self._with_fleet,
        )
        self._canaries[record.model_id] = canary
        self._leases.hold(record.model_id, record)
        self._write(canary, force=True)
        if self._canaries.get(record.model_id) is not canary:
            return None, []
        events = self._machine.resumed(canary)
        if events:
            self._write(canary, force=True)
        return canary, events

    def _get(self, model_id: str) -> Canary:
        canary = self._canaries.get(model_id)
        if canary is None:
            raise NotFoundError(f"no canary has run for {model_id!r}; start one with start_canary")
        return canary
