"""`CanaryController`: starts, evaluates, advances, promotes, rolls back and aborts canaries.

Traffic moves only through the serving manager's A/B split: [stable, candidate] with weights
[1 - w, w] (sticky, stable first, so a key already on the candidate stays there as w rises).
The active version stays the stable one throughout, so a rollback is just clearing the split.
After the last step (w = 1) passes, the candidate is promoted to production through
`ModelRegistry.promote_model` (via staging if it is in development or archived), which makes it
the active version in serving; a version the registry does not know is made active in serving
only. The registry is not touched before that, so a rolled-back canary leaves it unchanged.

Evaluation runs on one background thread (`PeriodicWorker`), woken by the predict-path hook
(see `canary.py`) and every `check_interval_sec` anyway; the timer also picks up outcomes
reported since (the accuracy guard, computed on timer ticks and before a step may pass) and the
end of a step's bake time. Decisions are serialised by one lock, logged as structured lines and
announced to the listeners once they have taken effect. If traffic is changed behind the
canary's back (another split, another active version, the candidate undeployed), the canary stops
and leaves traffic as it found it.
"""

from __future__ import annotations

import threading

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import ConflictError, DeployError, InvalidInputError, NotFoundError
from nba_mcp_deploy.experiments.ab_testing import ABTestAnalyzer
from nba_mcp_deploy.experiments.analysis import quality_metric
from nba_mcp_deploy.experiments.canary import Canary, CanaryPhase, CanaryStatus
from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.canary_state import (
    HEARTBEAT_SEC,
    TAKEOVER_HEARTBEATS,
    CanaryStore,
    baseline_of,
    registry_path_of,
    status_from_document,
    to_document,
)
from nba_mcp_deploy.experiments.comparison import MetricComparison, compare_units
from nba_mcp_deploy.experiments.events import EventKind, ExperimentEvent, Listeners
from nba_mcp_deploy.experiments.fleet import FleetSource, since
from nba_mcp_deploy.experiments.guards import Decision, evaluate_guards
from nba_mcp_deploy.experiments.recorder import Tap, TrafficRecorder
from nba_mcp_deploy.experiments.units import unit_means
from nba_mcp_deploy.identifiers import validate_model_id, validate_version
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.shared_state import CanaryRecord
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.counts import VersionCounts
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.ports import PredictionBatch
from nba_mcp_deploy.worker import PeriodicWorker

log = get_logger(__name__)

ACTOR = "canary"


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
        store: CanaryStore | None = None,
        owner: str = "",
    ) -> None:
        self._fleet = fleet
        # Several replicas: canary state in the store, written by this replica (`owner`) for the
        # canaries it runs; the record revision each was last written at, and when (monotonic).
        self._store = store
        self._owner = owner
        self._check_interval = check_interval_sec
        self._record_revisions: dict[str, int] = {}
        self._persisted_at: dict[str, float] = {}
        self._manager = manager
        self._registry = registry
        self._analyzer = analyzer
        self._recorder = recorder
        self._clock = clock or SystemClock()
        self._listeners = listeners or Listeners()
        self._latency_window = latency_window
        self._lock = threading.RLock()
        self._canaries: dict[str, Canary] = {}
        self._worker = PeriodicWorker(self._on_worker, check_interval_sec, "canary-evaluator")
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
            elsewhere = self._store.load_canary(model_id) if self._store is not None else None
            if elsewhere is not None and elsewhere.document.get("phase") == CanaryPhase.RUNNING.value:
                raise ConflictError(
                    f"a canary of {model_id} {elsewhere.document.get('candidate_version')} is already running on "
                    f"another replica; abort_canary it first"
                )
            routing = self._manager.routing(model_id)
            if candidate_version not in routing.versions:
                raise NotFoundError(
                    f"{model_id} has no deployed version {candidate_version!r}; deployed: "
                    f"{routing.sorted_versions()}; deploy it first with deploy_model(..., set_active=false)"
                )
            stable = routing.active
            if stable is None:
                raise ConflictError(f"{model_id} has no active version to compare with; call set_active_version")
            if candidate_version == stable:
                raise InvalidInputError(
                    "candidate_version",
                    candidate_version,
                    f"it is already the active version of {model_id}; give a deployed standby version",
                )
            if routing.split is not None:
                raise ConflictError(
                    f"{model_id} already has an A/B split {list(routing.split.versions)}; a canary sets its own "
                    "split, so call clear_ab_test first"
                )
            if routing.versions[candidate_version].breaker.state is not BreakerState.CLOSED:
                raise ConflictError(
                    f"the circuit breaker of {model_id} {candidate_version} is not closed; fix the cause and "
                    "reset_circuit_breaker first"
                )
            canary = Canary(
                model_id,
                stable,
                candidate_version,
                policy,
                started_at=self._clock.now(),
                started_mono=self._clock.monotonic(),
                start_seq=self._recorder.mark(),
                registry_path=self._registry_path(model_id, candidate_version),
                latency_window=self._latency_window,
            )
            canary.baseline = self._fleet_now(model_id)
            self._recorder.set_tap(model_id, self._tap(canary))
            try:
                self._set_weight(canary, policy.steps[0])
            except BaseException:
                self._recorder.set_tap(model_id, None)
                raise
            self._canaries[model_id] = canary
            self._record_revisions[model_id] = 0 if elsewhere is None else elsewhere.revision
            event = canary.event(
                EventKind.CANARY_STARTED,
                canary.started_at,
                f"{candidate_version} takes {policy.steps[0]:.0%} of traffic, {stable} the rest; "
                f"{canary.registry_plan()}",
                actor=actor,
            )
            self._log("canary started", canary, event)
            self._persist(canary, force=True)
        self._announce(event)
        return canary.status()

    def abort(self, model_id: str, reason: str = "", *, actor: str = "local") -> CanaryStatus:
        """Stop a running canary and send all traffic back to the stable version."""
        with self._lock:
            canary = self._canaries.get(model_id)
            if canary is None or canary.phase is not CanaryPhase.RUNNING:
                record = self._store.load_canary(model_id) if self._store is not None else None
                if record is not None and record.document.get("phase") == CanaryPhase.RUNNING.value:
                    canary = self._adopt(record)  # running on another replica: this one stops it
            canary = canary or self._get(model_id)
            if canary.phase is not CanaryPhase.RUNNING:
                raise ConflictError(
                    f"the canary of {model_id} {canary.candidate} is not running (it ended: {canary.phase.value})"
                )
            text = f"aborted by {actor}" + (f": {reason}" if reason else "") + f"; all traffic back on {canary.stable}"
            event = self._finish(canary, CanaryPhase.ABORTED, text, restore=True, actor=actor)
            self._persist(canary, force=True)
        self._announce(event)
        return canary.status()

    def status(self, model_id: str) -> CanaryStatus:
        """This replica's canary while it runs it; else the latest state any replica wrote."""
        with self._lock:
            record = self._store.load_canary(model_id) if self._store is not None else None
            if record is not None and record.revision != self._record_revisions.get(model_id):
                canary = self._canaries.get(model_id)
                if canary is not None and canary.phase is CanaryPhase.RUNNING:  # another replica took it over
                    self._recorder.set_tap(model_id, None)
                    self._canaries.pop(model_id)
                return status_from_document(record.document)
            return self._get(model_id).status()

    def evaluate(self, model_id: str, *, with_quality: bool = True) -> CanaryStatus:
        """Evaluate a running canary's guards now and act on them (what the worker does)."""
        with self._lock:
            canary = self._get(model_id)
            events = self._evaluate(canary, with_quality) if canary.phase is CanaryPhase.RUNNING else []
            status = canary.status()
            self._persist(canary, force=bool(events))
        for event in events:
            self._announce(event)
        return status

    def running(self) -> list[str]:
        with self._lock:
            return sorted(m for m, c in self._canaries.items() if c.phase is CanaryPhase.RUNNING)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every evaluation the predict path has asked for so far is done."""
        return self._worker.wait_idle(timeout)

    def close(self) -> None:
        self._worker.close()

    # -- evaluation ------------------------------------------------------------------------

    def _on_worker(self, on_timer: bool) -> None:
        for model_id in self.running():
            self.evaluate(model_id, with_quality=on_timer)
        if on_timer and self._store is not None:
            self._adopt_orphans()

    # -- several replicas ------------------------------------------------------------------

    def _persist(self, canary: Canary, *, force: bool) -> None:
        """Write the canary's state to the store (a heartbeat too); at most once per HEARTBEAT_SEC
        unless `force`. If another replica took the canary over meanwhile, hand it to that one."""
        store = self._store
        if store is None or self._canaries.get(canary.model_id) is not canary:
            return
        now = self._clock.monotonic()
        if not force and now - self._persisted_at.get(canary.model_id, -HEARTBEAT_SEC) < HEARTBEAT_SEC:
            return
        document = to_document(canary.status(), registry_path=canary.registry_path, baseline=canary.baseline)
        record = CanaryRecord(canary.model_id, document, self._owner, self._clock.now(), 0)
        try:
            saved = store.save_canary(record, expected_revision=self._record_revisions.get(canary.model_id, 0))
        except ConflictError:
            log.info("canary taken over by another replica", extra={"model_id": canary.model_id})
            self._recorder.set_tap(canary.model_id, None)
            self._canaries.pop(canary.model_id, None)
            return
        except DeployError as exc:
            log.warning("could not write the canary's state to the store", extra={"error": str(exc)})
            return
        self._record_revisions[canary.model_id] = saved.revision
        self._persisted_at[canary.model_id] = now

    def _adopt_orphans(self) -> None:
        """Take over running canaries whose replica stopped writing heartbeats (it died)."""
        assert self._store is not None
        stale = TAKEOVER_HEARTBEATS * max(self._check_interval, HEARTBEAT_SEC)
        try:
            records = self._store.load_canaries()
        except DeployError as exc:
            log.warning("could not read canaries from the store", extra={"error": str(exc)})
            return
        for record in records:
            running = record.document.get("phase") == CanaryPhase.RUNNING.value
            if running and record.owner != self._owner and self._clock.now() - record.heartbeat_at > stale:
                with self._lock:
                    if record.model_id not in self.running():
                        self._adopt(record)

    def _adopt(self, record: CanaryRecord) -> Canary | None:
        """Resume a canary from its record (called with the lock held); None if another replica was faster."""
        status = status_from_document(record.document)
        now, mono = self._clock.now(), self._clock.monotonic()
        canary = Canary(
            record.model_id,
            status.stable_version,
            status.candidate_version,
            status.policy,
            started_at=status.started_at,
            started_mono=mono - (now - status.started_at),
            start_seq=self._recorder.mark(),
            registry_path=registry_path_of(record.document),
            latency_window=self._latency_window,
        )
        canary.begin_step(status.step.index, status.step.started_at, mono - (now - status.step.started_at))
        canary.history = list(status.history)
        canary.baseline = baseline_of(record.document) if self._fleet is not None else None
        self._canaries[record.model_id] = canary
        self._record_revisions[record.model_id] = record.revision
        self._persist(canary, force=True)
        if self._canaries.get(record.model_id) is not canary:
            return None
        self._recorder.set_tap(record.model_id, self._tap(canary))
        if canary.history:
            self._log("canary taken over", canary, canary.history[-1])
        return canary

    def _evaluate(self, canary: Canary, with_quality: bool) -> list[ExperimentEvent]:
        problem = self._traffic_problem(canary)
        if problem is not None:
            text = f"traffic was changed outside the canary ({problem}); stopped and left traffic as it is"
            return [self._finish(canary, CanaryPhase.ABORTED, text, restore=False)]
        now_mono = self._clock.monotonic()
        current = self._fleet_now(canary.model_id) if canary.baseline is not None else None
        if current is not None and canary.baseline is not None:
            canary.fleet_step = (
                since(current, canary.baseline, canary.candidate),
                since(current, canary.baseline, canary.stable),
            )
        if with_quality or canary.step_complete(now_mono):
            canary.quality = self._quality(canary)
        breaker = self._manager.routing(canary.model_id).versions[canary.candidate].breaker.state
        report = evaluate_guards(canary.evidence(now_mono, breaker.value), canary.policy)
        canary.report = report
        if report.decision is Decision.ROLLBACK:
            text = f"rolled back at step {canary.step.index + 1} ({canary.step.weight:.0%}): {report.reason}"
            return [self._finish(canary, CanaryPhase.ROLLED_BACK, text, restore=True)]
        if report.decision is Decision.ADVANCE:
            return [self._advance(canary)]
        return []

    def _quality(self, canary: Canary) -> MetricComparison | None:
        """Candidate (B) against stable (A) over the whole canary, once both have enough outcomes."""
        a, b, task = self._analyzer.samples(
            canary.model_id, canary.stable, canary.candidate, since_seq=canary.start_seq
        )
        metric = quality_metric(task)
        if metric is None:
            return None
        quality_a = unit_means(a.outcome_units, a.outcome_values)
        quality_b = unit_means(b.outcome_units, b.outcome_values)
        if min(quality_a.size, quality_b.size) < canary.policy.min_outcome_units:
            return None
        one_sided = 2 * (1 - canary.policy.accuracy_confidence)
        return compare_units(metric, quality_a, quality_b, alpha=one_sided)

    def _advance(self, canary: Canary) -> ExperimentEvent:
        steps = canary.policy.steps
        index = canary.step.index + 1
        if index == len(steps):
            return self._promote(canary)
        try:
            self._set_weight(canary, steps[index])
        except DeployError as exc:
            return self._finish(
                canary, CanaryPhase.FAILED, f"could not raise the candidate's weight: {exc}", restore=True
            )
        done = canary.step.index + 1
        canary.begin_step(index, self._clock.now(), self._clock.monotonic())
        if canary.baseline is not None:
            canary.baseline = self._fleet_now(canary.model_id) or canary.baseline
        text = f"step {done} of {len(steps)} passed; {canary.candidate} now takes {steps[index]:.0%} of traffic"
        event = canary.event(EventKind.STEP_ADVANCED, self._clock.now(), text)
        self._log("canary step advanced", canary, event)
        return event

    def _promote(self, canary: Canary) -> ExperimentEvent:
        model_id, candidate = canary.model_id, canary.candidate
        note = f"canary passed {len(canary.policy.steps)} steps over {canary.stable}"
        try:
            if canary.registry_path is not None and self._registry is not None:
                for stage in canary.registry_path:
                    self._registry.promote_model(model_id, candidate, stage, actor=ACTOR, note=note)
                where = "promoted to production in the registry and active in serving"
            else:
                self._manager.set_active_version(model_id, candidate)
                where = "active in serving (not in the registry)"
            self._manager.clear_ab_test(model_id)
        except DeployError as exc:
            text = f"every step passed but the promotion failed: {exc}"
            return self._finish(canary, CanaryPhase.FAILED, text, restore=True)
        return self._finish(canary, CanaryPhase.PROMOTED, f"{note}; {candidate} is {where}", restore=False)

    def _finish(
        self, canary: Canary, phase: CanaryPhase, reason: str, *, restore: bool, actor: str = ACTOR
    ) -> ExperimentEvent:
        """End the canary; with `restore`, clear its split so all traffic goes to the stable version."""
        self._recorder.set_tap(canary.model_id, None)
        if restore and self._traffic_problem(canary) is None:
            try:
                self._manager.clear_ab_test(canary.model_id)
            except DeployError as exc:
                reason += f"; could not clear the split: {exc}"
        event = canary.finish(phase, self._clock.now(), reason, actor=actor)
        self._log(f"canary {phase.value}", canary, event)
        return event

    # -- helpers ---------------------------------------------------------------------------

    def _fleet_now(self, model_id: str) -> dict[str, VersionCounts] | None:
        """Every replica's counters of the model now; None without a fleet (or the store failing:
        the guards then judge this replica's own counts)."""
        if self._fleet is None:
            return None
        try:
            return {version: counts.copy() for version, counts in self._fleet(model_id).items()}
        except DeployError as exc:
            log.warning("canary could not read the fleet's counters", extra={"error": str(exc)})
            return None

    def _tap(self, canary: Canary) -> Tap:
        worker = self._worker

        def tap(batch: PredictionBatch) -> None:
            if canary.on_request(batch):
                worker.wake()

        return tap

    def _set_weight(self, canary: Canary, weight: float) -> None:
        self._manager.setup_ab_test(
            canary.model_id, [canary.stable, canary.candidate], [1.0 - weight, weight], sticky=True
        )

    def _traffic_problem(self, canary: Canary) -> str | None:
        """Why the serving state no longer matches what the canary set up (None when it does)."""
        try:
            routing = self._manager.routing(canary.model_id)
        except NotFoundError:
            return "the model is no longer deployed"
        if canary.candidate not in routing.versions:
            return f"{canary.candidate} is no longer deployed"
        if routing.active != canary.stable:
            return f"the active version is now {routing.active}"
        split = routing.split
        if split is None or tuple(split.versions) != (canary.stable, canary.candidate):
            return "the A/B split was " + ("cleared" if split is None else f"replaced by {list(split.versions)}")
        if abs(split.weight_of(canary.candidate) - canary.step.weight) > 1e-9:
            return f"the candidate's weight is now {split.weight_of(canary.candidate):g}"
        return None

    def _registry_path(self, model_id: str, version: str) -> tuple[Stage, ...] | None:
        """Stages promote_model walks at the end; None when the registry does not know the version."""
        if self._registry is None:
            return None
        try:
            record = self._registry.get_model(model_id, version)
        except NotFoundError:
            return None
        if record.stage is Stage.PRODUCTION:
            raise ConflictError(
                f"{model_id} {version} is already in production in the registry but not active in serving; "
                "call set_active_version instead of a canary"
            )
        return (Stage.PRODUCTION,) if record.stage is Stage.STAGING else (Stage.STAGING, Stage.PRODUCTION)

    def _get(self, model_id: str) -> Canary:
        canary = self._canaries.get(model_id)
        if canary is None:
            raise NotFoundError(f"no canary has run for {model_id!r}; start one with start_canary")
        return canary

    def _announce(self, event: ExperimentEvent) -> None:
        self._listeners.notify(event)

    @staticmethod
    def _log(message: str, canary: Canary, event: ExperimentEvent) -> None:
        with request_context(model_id=canary.model_id, version=canary.candidate):
            log.info(
                message,
                extra={
                    "event": event.kind.value,
                    "stable_version": canary.stable,
                    "step": event.step_index + 1,
                    "weight": event.weight,
                    "reason": event.reason,
                    "guards": {g.name: {"status": g.status.value, "value": g.value} for g in event.guards},
                },
            )
