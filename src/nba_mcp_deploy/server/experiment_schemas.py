"""Results of the experiment tools as pydantic models: the output schema an agent sees.

Built from the core's dataclasses (`experiments/analysis.py`, `experiments/canary.py`) by the
`from_*` constructors, which flatten them into what an agent acts on. Steps are numbered from 1
here (the core counts from 0).
"""

from typing import TYPE_CHECKING

from pydantic import Field

from nba_mcp_deploy.server.output_model import ToolOutput

if TYPE_CHECKING:
    from nba_mcp_deploy.experiments.analysis import ABTestReport
    from nba_mcp_deploy.experiments.canary import CanaryStatus
    from nba_mcp_deploy.experiments.comparison import MetricComparison
    from nba_mcp_deploy.experiments.events import ExperimentEvent

UNIT_RULE = (
    "tests compare one value per unit: a unit is a request_key (sticky routing), or a request sent without one; "
    "a key's repeated requests are averaged first, so a key that asked 100 times counts once"
)


class VariantOut(ToolOutput):
    version: str
    requests: int = Field(description="A/B-routed requests recorded (pinned and failed-over requests excluded)")
    units: int = Field(description="distinct request_keys plus requests without a key")
    errors: int
    error_rate: float | None = Field(description="errors / requests")
    latency_p50_ms: float | None = Field(description="over successful requests")
    latency_p95_ms: float | None
    outcomes: int = Field(description="predictions whose actual outcome was reported with log_actuals")
    outcome_units: int = Field(description="units with at least one outcome")
    accuracy: float | None = Field(description="classifiers: mean over units of the share of correct predictions")
    mae: float | None = Field(description="regressors: mean over units of the mean absolute error")


class ComparisonOut(ToolOutput):
    metric: str = Field(description="accuracy | mae | error_rate | latency_ms")
    method: str = Field(description="two_proportion_z | fisher_exact | welch_t | mann_whitney_u")
    value_a: float = Field(description="A's value on the units tested (latency: median)")
    value_b: float
    difference: float = Field(description="B - A")
    ci_low: float = Field(description="confidence interval of the difference")
    ci_high: float
    confidence: float = Field(description="the interval's coverage, 1 - alpha_per_metric")
    p_value: float = Field(description="two-sided; compare with alpha_per_metric")
    significant: bool
    favours: str | None = Field(
        description="'a' or 'b' when significant (lower is better for mae, error_rate, latency)"
    )
    units_a: int
    units_b: int

    @classmethod
    def from_core(cls, comparison: "MetricComparison") -> "ComparisonOut":
        test = comparison.test
        return cls(
            metric=comparison.metric.value,
            method=test.method.value,
            value_a=test.estimate_a,
            value_b=test.estimate_b,
            difference=test.difference,
            ci_low=test.ci_low,
            ci_high=test.ci_high,
            confidence=test.confidence,
            p_value=test.p_value,
            significant=comparison.significant,
            favours=comparison.favours,
            units_a=test.n_a,
            units_b=test.n_b,
        )


class SampleSizeOut(ToolOutput):
    metric: str
    min_detectable_effect: float = Field(description="relative to A's value")
    absolute_effect: float
    alpha: float
    power: float
    required_a: int = Field(description="units with outcomes A needs in total")
    required_b: int
    still_needed_a: int
    still_needed_b: int
    reached: bool = Field(
        description="both variants have the planned units: a non-significant result means no difference"
    )


class FleetVariantOut(ToolOutput):
    """One variant's A/B-routed traffic on every replica together (counters they write to the store)."""

    version: str
    requests: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None = Field(description="of its successful requests, within 10% (histogram)")
    latency_p95_ms: float | None


class ABTestOut(ToolOutput):
    """Variant A against variant B: figures, tests, sample size, and a verdict with its reason."""

    model_id: str
    version_a: str = Field(description="the control (the split's first version unless named)")
    version_b: str
    task: str | None = Field(description="classification | regression (decides accuracy or MAE)")
    verdict: str = Field(description="b_better | a_better | no_difference | not_enough_data")
    reason: str
    variant_a: VariantOut
    variant_b: VariantOut
    comparisons: list[ComparisonOut]
    sample_size: SampleSizeOut | None = Field(description="for the quality metric; null until both have outcomes")
    alpha: float = Field(description="false-positive rate of the verdict")
    alpha_per_metric: float = Field(description="alpha split between quality and error rate (Bonferroni)")
    notes: list[str]
    fleet: list[FleetVariantOut] = Field(
        description="each variant's A/B traffic on all replicas together, counted since each replica started "
        "and written to the store every few seconds; the tests above use this replica's requests"
    )
    unit_rule: str = UNIT_RULE

    @classmethod
    def from_core(cls, report: "ABTestReport") -> "ABTestOut":
        return cls(
            model_id=report.model_id,
            version_a=report.version_a,
            version_b=report.version_b,
            task=report.task.value if report.task is not None else None,
            verdict=report.verdict.value,
            reason=report.reason,
            variant_a=VariantOut.model_validate(report.variant_a),
            variant_b=VariantOut.model_validate(report.variant_b),
            comparisons=[ComparisonOut.from_core(c) for c in report.comparisons],
            sample_size=None if report.sample_size is None else SampleSizeOut.model_validate(report.sample_size),
            alpha=report.alpha,
            alpha_per_metric=report.alpha_per_metric,
            notes=list(report.notes),
            fleet=[FleetVariantOut.model_validate(v) for v in report.fleet],
        )


class GuardOut(ToolOutput):
    name: str = Field(description="breaker | error_rate | latency | accuracy")
    status: str = Field(description="pass | fail | waiting (not enough data yet) | skipped (nothing to judge)")
    value: float | str | None
    threshold: float | None
    detail: str


class CanaryEventOut(ToolOutput):
    kind: str = Field(description="canary_started | step_advanced | rolled_back | aborted | promoted | failed")
    step: int = Field(description="the step (from 1) the canary was at")
    weight: float = Field(description="the candidate's share of traffic after the decision")
    at: float = Field(description="epoch seconds")
    reason: str
    actor: str
    guards: list[GuardOut]

    @classmethod
    def from_core(cls, event: "ExperimentEvent") -> "CanaryEventOut":
        return cls(
            kind=event.kind.value,
            step=event.step_index + 1,
            weight=event.weight,
            at=event.at,
            reason=event.reason,
            actor=event.actor,
            guards=[GuardOut.model_validate(g) for g in event.guards],
        )


class CanaryPolicyOut(ToolOutput):
    steps: list[float]
    min_requests_per_step: int
    max_error_rate: float
    max_latency_ratio: float
    min_accuracy_delta: float
    min_step_seconds: float
    latency_floor_ms: float
    min_outcome_units: int
    accuracy_confidence: float


class CanaryStepOut(ToolOutput):
    step: int = Field(description="the current step, from 1")
    of: int = Field(description="how many steps there are")
    weight: float = Field(description="the candidate's share of traffic now (0 once rolled back)")
    started_at: float
    candidate_requests: int
    candidate_errors: int
    stable_requests: int
    stable_errors: int
    failovers: int = Field(description="requests the candidate's open breaker sent to the stable version")


class CanaryOut(ToolOutput):
    """A canary's state: step, guard values, last decision, history, and what to do next."""

    model_id: str
    phase: str = Field(description="running | promoted | rolled_back | aborted | failed")
    stable_version: str
    candidate_version: str
    step: CanaryStepOut
    guards: list[GuardOut] = Field(description="as last evaluated")
    decision: str | None = Field(description="hold | advance | rollback (the last evaluation)")
    decision_reason: str
    reason: str = Field(description="why the canary ended (empty while running)")
    registry_plan: str = Field(description="what happens in the registry when the last step passes")
    started_at: float
    finished_at: float | None
    policy: CanaryPolicyOut
    history: list[CanaryEventOut]
    next_action: str = Field(description="what an agent should do now")

    @classmethod
    def from_core(cls, status: "CanaryStatus") -> "CanaryOut":
        step = status.step
        return cls(
            model_id=status.model_id,
            phase=status.phase.value,
            stable_version=status.stable_version,
            candidate_version=status.candidate_version,
            step=CanaryStepOut(
                step=step.index + 1,
                of=len(status.policy.steps),
                weight=step.weight,
                started_at=step.started_at,
                candidate_requests=step.candidate_requests,
                candidate_errors=step.candidate_errors,
                stable_requests=step.stable_requests,
                stable_errors=step.stable_errors,
                failovers=step.failovers,
            ),
            guards=[GuardOut.model_validate(g) for g in status.guards],
            decision=status.decision.value if status.decision is not None else None,
            decision_reason=status.decision_reason,
            reason=status.reason,
            registry_plan=status.registry_plan,
            started_at=status.started_at,
            finished_at=status.finished_at,
            policy=CanaryPolicyOut.model_validate(status.policy),
            history=[CanaryEventOut.from_core(e) for e in status.history],
            next_action=_next_action(status),
        )


def _next_action(status: "CanaryStatus") -> str:
    phase = status.phase.value
    if phase == "running":
        return (
            "let traffic flow (predict) and report outcomes (log_actuals); the canary advances or rolls back "
            "by itself. Poll canary_status; abort_canary to stop it"
        )
    if phase == "promoted":
        return f"done: {status.candidate_version} serves all traffic; keep watching health_check and get_performance"
    if phase == "rolled_back":
        return (
            f"{status.stable_version} serves all traffic again; fix what the reason names, deploy the fix as a new "
            "version and start_canary again"
        )
    if phase == "aborted":
        return "stopped; start_canary again when ready"
    return "the promotion step failed: read the reason, fix it, then start_canary again or promote by hand"
