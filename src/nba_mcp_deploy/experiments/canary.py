"""One progressive canary: its phase, current step, live counters, last guard values, history.

`on_request` is the predict-path hook (via the recorder's tap): it counts the A/B-routed request
into the step's per-version counters and says whether the controller should evaluate now,
which is when the step's error budget has just been exceeded, a request failed over from the
candidate (its breaker is open), or the step has reached its requests (then again every
`WAKE_EVERY` candidate requests, for the bake time). Nothing else happens on the request's
thread. Everything else here is called by the controller under its lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.comparison import MetricComparison
from nba_mcp_deploy.experiments.events import EventKind, ExperimentEvent
from nba_mcp_deploy.experiments.guards import Decision, GuardReport, GuardResult, StepEvidence
from nba_mcp_deploy.experiments.recorder import AB_ROUTES
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.serving.counts import VersionCounts
from nba_mcp_deploy.serving.metrics import VersionMetrics
from nba_mcp_deploy.serving.ports import PredictionBatch

WAKE_EVERY = 64
MIN_LATENCY_SAMPLES = 20


class CanaryPhase(StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    FAILED = "failed"


@dataclass
class StepTraffic:
    """One step's counters; replaced (never reset) when the next step begins."""

    index: int
    weight: float
    started_at: float
    started_mono: float
    candidate: VersionMetrics
    stable: VersionMetrics
    failovers: int = 0


@dataclass(frozen=True)
class StepStatus:
    index: int
    weight: float
    started_at: float
    candidate_requests: int
    candidate_errors: int
    stable_requests: int
    stable_errors: int
    failovers: int


@dataclass(frozen=True)
class CanaryStatus:
    """What `canary_status` answers."""

    model_id: str
    phase: CanaryPhase
    stable_version: str
    candidate_version: str
    policy: CanaryPolicy
    step: StepStatus
    guards: tuple[GuardResult, ...]
    decision: Decision | None
    decision_reason: str
    registry_plan: str
    started_at: float
    finished_at: float | None
    reason: str
    history: tuple[ExperimentEvent, ...]


_EVENT_OF_PHASE = {
    CanaryPhase.PROMOTED: EventKind.PROMOTED,
    CanaryPhase.ROLLED_BACK: EventKind.ROLLED_BACK,
    CanaryPhase.ABORTED: EventKind.ABORTED,
    CanaryPhase.FAILED: EventKind.FAILED,
}


class Canary:
    """A rollout of `candidate` over `stable` for one model."""

    def __init__(
        self,
        model_id: str,
        stable: str,
        candidate: str,
        policy: CanaryPolicy,
        *,
        started_at: float,
        started_mono: float,
        start_seq: int,
        registry_path: tuple[Stage, ...] | None,
        latency_window: int = 2048,
    ) -> None:
        self.model_id = model_id
        self.stable = stable
        self.candidate = candidate
        self.policy = policy
        self.started_at = started_at
        self.start_seq = start_seq
        self.registry_path = registry_path
        self.phase = CanaryPhase.RUNNING
        self.history: list[ExperimentEvent] = []
        self.report: GuardReport | None = None
        self.quality: MetricComparison | None = None
        self.reason = ""
        self.finished_at: float | None = None
        self._latency_window = latency_window
        self._stable_overall = VersionMetrics(latency_window)
        self.step = self._new_step(0, started_at, started_mono)
        # With several replicas: the fleet's counters when the step began, and the candidate's and
        # stable version's counts on every replica since then (as last evaluated). When set, the
        # guards judge these instead of what this replica counted itself.
        self.baseline: Mapping[str, VersionCounts] | None = None
        self.fleet_step: tuple[VersionCounts, VersionCounts] | None = None

    def _new_step(self, index: int, at: float, mono: float) -> StepTraffic:
        window = self._latency_window
        return StepTraffic(index, self.policy.steps[index], at, mono, VersionMetrics(window), VersionMetrics(window))

    # -- predict path ----------------------------------------------------------------------

    def on_request(self, batch: PredictionBatch) -> bool:
        """Count one served request; True when the controller should evaluate now."""
        if self.phase is not CanaryPhase.RUNNING or batch.routed_by not in AB_ROUTES:
            return False
        step = self.step
        if batch.failover_from is not None:
            if batch.failover_from != self.candidate:
                return False
            step.failovers += 1
            return True
        failed = batch.error is not None
        rows = len(batch.prediction_ids)
        if batch.version == self.candidate:
            step.candidate.record(batch.latency_ms, failed=failed, rows=rows)
            n, minimum = step.candidate.requests, self.policy.min_requests_per_step
            if failed and step.candidate.errors > self.policy.error_budget(n):
                return True
            return n == minimum or (n > minimum and (n - minimum) % WAKE_EVERY == 0)
        if batch.version == self.stable:
            step.stable.record(batch.latency_ms, failed=failed, rows=rows)
            self._stable_overall.record(batch.latency_ms, failed=failed, rows=rows)
        return False

    # -- controller ------------------------------------------------------------------------

    def step_complete(self, now_mono: float) -> bool:
        """The step has its requests and its bake time (the guards still decide)."""
        return (
            self.step.candidate.requests >= self.policy.min_requests_per_step
            and now_mono - self.step.started_mono >= self.policy.min_step_seconds
        )

    def evidence(self, now_mono: float, breaker_state: str) -> StepEvidence:
        step = self.step
        if self.fleet_step is not None:
            return self._fleet_evidence(now_mono, breaker_state)
        candidate = step.candidate.snapshot()
        stable = step.stable.snapshot()
        if stable.latency.count < MIN_LATENCY_SAMPLES:
            stable = self._stable_overall.snapshot()
        return StepEvidence(
            step_seconds=now_mono - step.started_mono,
            candidate_requests=candidate.requests,
            candidate_errors=candidate.errors,
            candidate_p95_ms=candidate.latency.p95_ms,
            stable_p95_ms=stable.latency.p95_ms if stable.latency.count >= MIN_LATENCY_SAMPLES else None,
            breaker_state=breaker_state,
            failovers=step.failovers,
            quality=self.quality,
        )

    def _fleet_evidence(self, now_mono: float, breaker_state: str) -> StepEvidence:
        """The step's evidence from every replica's counters (this replica's breaker state)."""
        assert self.fleet_step is not None
        candidate, stable = self.fleet_step
        stable_p95 = stable.latency_percentile(95) if stable.successes >= MIN_LATENCY_SAMPLES else None
        if stable_p95 is None and self._stable_overall.snapshot().latency.count >= MIN_LATENCY_SAMPLES:
            stable_p95 = self._stable_overall.snapshot().latency.p95_ms
        return StepEvidence(
            step_seconds=now_mono - self.step.started_mono,
            candidate_requests=candidate.ab_requests,
            candidate_errors=candidate.ab_errors,
            candidate_p95_ms=candidate.latency_percentile(95),
            stable_p95_ms=stable_p95,
            breaker_state=breaker_state,
            failovers=max(candidate.failovers, self.step.failovers),
            quality=self.quality,
        )

    def begin_step(self, index: int, at: float, mono: float) -> None:
        self.step = self._new_step(index, at, mono)
        self.fleet_step = None

    def event(self, kind: EventKind, at: float, reason: str, *, actor: str = "canary") -> ExperimentEvent:
        """Record a decision in the history (guards as last evaluated) and return it."""
        guards = self.report.guards if self.report is not None else ()
        weight = 0.0 if kind in (EventKind.ROLLED_BACK, EventKind.ABORTED, EventKind.FAILED) else self.step.weight
        event = ExperimentEvent(
            kind, self.model_id, self.stable, self.candidate, self.step.index, weight, at, reason, guards, actor
        )
        self.history.append(event)
        return event

    def finish(self, phase: CanaryPhase, at: float, reason: str, *, actor: str = "canary") -> ExperimentEvent:
        self.phase = phase
        self.finished_at = at
        self.reason = reason
        return self.event(_EVENT_OF_PHASE[phase], at, reason, actor=actor)

    def registry_plan(self) -> str:
        if self.registry_path is None:
            return "not in the registry: at the end the candidate becomes the active version in serving only"
        stages = " then ".join(s.value for s in self.registry_path)
        return f"at the end promote_model moves the candidate to {stages} in the registry (which activates it)"

    def status(self) -> CanaryStatus:
        step = self.step
        candidate, stable = step.candidate.snapshot(), step.stable.snapshot()
        counts = (candidate.requests, candidate.errors, stable.requests, stable.errors)
        if self.fleet_step is not None:
            fleet_candidate, fleet_stable = self.fleet_step
            counts = (
                fleet_candidate.ab_requests,
                fleet_candidate.ab_errors,
                fleet_stable.ab_requests,
                fleet_stable.ab_errors,
            )
        report = self.report
        return CanaryStatus(
            model_id=self.model_id,
            phase=self.phase,
            stable_version=self.stable,
            candidate_version=self.candidate,
            policy=self.policy,
            step=StepStatus(
                index=step.index,
                weight=step.weight if self.phase in (CanaryPhase.RUNNING, CanaryPhase.PROMOTED) else 0.0,
                started_at=step.started_at,
                candidate_requests=counts[0],
                candidate_errors=counts[1],
                stable_requests=counts[2],
                stable_errors=counts[3],
                failovers=step.failovers,
            ),
            guards=report.guards if report is not None else (),
            decision=report.decision if report is not None else None,
            decision_reason=report.reason if report is not None else "not evaluated yet",
            registry_plan=self.registry_plan(),
            started_at=self.started_at,
            finished_at=self.finished_at,
            reason=self.reason,
            history=tuple(self.history),
        )
