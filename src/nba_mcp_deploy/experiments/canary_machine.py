"""`CanaryMachine`: what a canary decides and does, step by step, on this replica's serving and registry.

Traffic moves only through the serving manager's A/B split: [stable, candidate] with weights
[1 - w, w] (sticky, stable first, so a key already on the candidate stays there as w rises).
The active version stays the stable one throughout, so a rollback is just clearing the split.
After the last step (w = 1) passes, the candidate is promoted to production through
`ModelRegistry.promote_model` (via staging if it is in development or archived), which makes it
the active version in serving and ends the split in one saved routing revision (see
promotion.py); a version the registry does not know is made active in serving only, again in one
revision. The registry is not touched before that, so a rolled-back canary leaves it unchanged.
If traffic is changed behind the canary's back (another split, another active version, the
candidate undeployed), the canary stops and leaves traffic as it found it.

A canary taken over from a replica that died may find that replica's last action done but not
recorded: a step's new weight already set, or the promotion already in the registry (or, for a
version the registry does not know, in serving). It carries on from there (`resumed`), so
serving and the canary converge on what the registry says.

The machine keeps no canaries of its own: the controller holds them, serialises the calls under
its lock and announces the events these methods return. Which replica runs a canary is the
leases' business (canary_lease.py).
"""

from __future__ import annotations

from collections.abc import Callable

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import ConflictError, DeployError, InvalidInputError, NotFoundError
from nba_mcp_deploy.experiments.ab_testing import ABTestAnalyzer
from nba_mcp_deploy.experiments.analysis import quality_metric
from nba_mcp_deploy.experiments.canary import Canary, CanaryPhase
from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.comparison import MetricComparison, compare_units
from nba_mcp_deploy.experiments.events import EventKind, ExperimentEvent
from nba_mcp_deploy.experiments.fleet import FleetSource, since
from nba_mcp_deploy.experiments.guards import Decision, evaluate_guards
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.experiments.units import unit_means
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.control_plane import SplitOnActivation
from nba_mcp_deploy.serving.counts import VersionCounts
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.ports import PredictionBatch

log = get_logger(__name__)

ACTOR = "canary"
# How close the split's candidate weight must be to the step's to count as the canary's own.
WEIGHT_TOLERANCE = 1e-9


class CanaryMachine:
    """Starts, evaluates, advances, promotes, rolls back and aborts canaries; see the module docstring."""

    def __init__(
        self,
        manager: ModelServingManager,
        registry: ModelRegistry | None,
        analyzer: ABTestAnalyzer,
        recorder: TrafficRecorder,
        clock: Clock,
        *,
        wake: Callable[[], None],
        latency_window: int = 2048,
        fleet: FleetSource | None = None,
    ) -> None:
        self._manager = manager
        self._registry = registry
        self._analyzer = analyzer
        self._recorder = recorder
        self._clock = clock
        self._wake = wake  # asks for an evaluation off the request thread
        self._latency_window = latency_window
        self._fleet = fleet

    # -- beginning -------------------------------------------------------------------------

    def begin(self, model_id: str, candidate_version: str, policy: CanaryPolicy, *, actor: str) -> Canary:
        """Send `policy.steps[0]` of traffic to the deployed `candidate_version`, the rest to the
        active one; the running canary (its start is the last event of its history)."""
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
        self.attach(canary)
        try:
            self._set_weight(canary, policy.steps[0])
        except BaseException:
            self.detach(canary)
            raise
        event = canary.event(
            EventKind.CANARY_STARTED,
            canary.started_at,
            f"{candidate_version} takes {policy.steps[0]:.0%} of traffic, {stable} the rest; {canary.registry_plan()}",
            actor=actor,
        )
        self._log("canary started", canary, event)
        return canary

    def attach(self, canary: Canary) -> None:
        """Count the model's A/B-routed requests into `canary` from now on."""
        wake = self._wake

        def tap(batch: PredictionBatch) -> None:
            if canary.on_request(batch):
                wake()

        self._recorder.set_tap(canary.model_id, tap)

    def detach(self, canary: Canary) -> None:
        """Stop counting requests into `canary` (it ended, or another replica runs it now)."""
        self._recorder.set_tap(canary.model_id, None)

    def resumed(self, canary: Canary) -> list[ExperimentEvent]:
        """A canary taken over from another replica's record: count its traffic here from now on,
        and finish the action that replica had done but not recorded; the decisions taken."""
        self.attach(canary)
        if canary.history:
            self._log("canary taken over", canary, canary.history[-1])
        if self._promotion_reached(canary):
            return [self._promote(canary)]
        index = self._step_set(canary)
        return [] if index is None else [self._begin_step(canary, index)]

    # -- evaluating ------------------------------------------------------------------------

    def evaluate(self, canary: Canary, with_quality: bool) -> list[ExperimentEvent]:
        """Judge a running canary's guards now and act on them; the decisions taken."""
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

    def abort(self, canary: Canary, reason: str, *, actor: str) -> ExperimentEvent:
        """Stop a running canary and send all traffic back to the stable version."""
        text = f"aborted by {actor}" + (f": {reason}" if reason else "") + f"; all traffic back on {canary.stable}"
        return self._finish(canary, CanaryPhase.ABORTED, text, restore=True, actor=actor)

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

    # -- acting ----------------------------------------------------------------------------

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
        return self._begin_step(canary, index)

    def _begin_step(self, canary: Canary, index: int) -> ExperimentEvent:
        """Record that the steps before `index` passed and `index` began (its weight is set)."""
        steps = canary.policy.steps
        done = canary.step.index + 1
        canary.begin_step(index, self._clock.now(), self._clock.monotonic())
        if canary.baseline is not None:
            canary.baseline = self._fleet_now(canary.model_id) or canary.baseline
        text = f"step {done} of {len(steps)} passed; {canary.candidate} now takes {steps[index]:.0%} of traffic"
        event = canary.event(EventKind.STEP_ADVANCED, self._clock.now(), text)
        self._log("canary step advanced", canary, event)
        return event

    def _promote(self, canary: Canary) -> ExperimentEvent:
        """Promote the candidate (registry first, serving following in one saved revision)."""
        model_id, candidate = canary.model_id, canary.candidate
        note = f"canary passed {len(canary.policy.steps)} steps over {canary.stable}"
        try:
            if canary.registry_path is not None and self._registry is not None:
                for stage in self._stages_left(canary):
                    self._registry.promote_model(model_id, candidate, stage, actor=ACTOR, note=note)
                where = "promoted to production in the registry and active in serving"
            else:
                where = "active in serving (not in the registry)"
            routing = self._manager.routing(model_id)
            if routing.active != candidate or routing.split is not None:  # else the promotion activated it
                self._manager.set_active_version(model_id, candidate, split=SplitOnActivation.CLEAR)
        except DeployError as exc:
            text = f"every step passed but the promotion failed: {exc}"
            return self._finish(canary, CanaryPhase.FAILED, text, restore=True)
        return self._finish(canary, CanaryPhase.PROMOTED, f"{note}; {candidate} is {where}", restore=False)

    def _finish(
        self, canary: Canary, phase: CanaryPhase, reason: str, *, restore: bool, actor: str = ACTOR
    ) -> ExperimentEvent:
        """End the canary; with `restore`, clear its split so all traffic goes to the stable version."""
        self.detach(canary)
        if restore and self._traffic_problem(canary) is None:
            try:
                self._manager.clear_ab_test(canary.model_id)
            except DeployError as exc:
                reason += f"; could not clear the split: {exc}"
        event = canary.finish(phase, self._clock.now(), reason, actor=actor)
        self._log(f"canary {phase.value}", canary, event)
        return event

    def _set_weight(self, canary: Canary, weight: float) -> None:
        self._manager.setup_ab_test(
            canary.model_id, [canary.stable, canary.candidate], [1.0 - weight, weight], sticky=True
        )

    # -- reading the world -----------------------------------------------------------------

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
        if abs(split.weight_of(canary.candidate) - canary.step.weight) > WEIGHT_TOLERANCE:
            return f"the candidate's weight is now {split.weight_of(canary.candidate):g}"
        return None

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

    def _promotion_reached(self, canary: Canary) -> bool:
        """Whether the final promotion already took effect where the canary's plan says it lands
        first: the registry, or serving for a version the registry does not know."""
        if canary.step.index != len(canary.policy.steps) - 1:
            return False
        try:
            if canary.registry_path is not None and self._registry is not None:
                return self._registry.get_model(canary.model_id, canary.candidate).stage is Stage.PRODUCTION
            routing = self._manager.routing(canary.model_id)
        except DeployError:
            return False
        return routing.active == canary.candidate and routing.split is None

    def _step_set(self, canary: Canary) -> int | None:
        """A later step whose weight the canary's split already has (set, then not recorded)."""
        try:
            routing = self._manager.routing(canary.model_id)
        except NotFoundError:
            return None
        split = routing.split
        if routing.active != canary.stable or split is None or split.versions != (canary.stable, canary.candidate):
            return None
        weight = split.weight_of(canary.candidate)
        steps = canary.policy.steps
        later = range(canary.step.index + 1, len(steps))
        return next((i for i in later if abs(steps[i] - weight) <= WEIGHT_TOLERANCE), None)

    def _stages_left(self, canary: Canary) -> tuple[Stage, ...]:
        """The stages promote_model still has to walk, from where the candidate is in the registry
        now (a replica that stopped half-way may have walked some)."""
        assert self._registry is not None
        stage = self._registry.get_model(canary.model_id, canary.candidate).stage
        return _path_to_production(stage)

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
        return _path_to_production(record.stage)

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


def _path_to_production(stage: Stage) -> tuple[Stage, ...]:
    """The promotions that take a version from `stage` to production."""
    if stage is Stage.PRODUCTION:
        return ()
    return (Stage.PRODUCTION,) if stage is Stage.STAGING else (Stage.STAGING, Stage.PRODUCTION)
