"""The experiment tools' results: the core's reports, reshaped where an agent reads them better.

Steps are numbered from 1 here (the core counts from 0), a metric's test is flattened into one
row, and a canary says what to do next. Each class extends the copy of the core's class
(`shapes.py`) where it only adds or renumbers; shown like every result (`outputs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nba_mcp_deploy.server.results import extend
from nba_mcp_deploy.server.shapes import (
    ABTestReport,
    CanaryPhase,
    CanaryStatus,
    ExperimentEvent,
    Method,
    Metric,
    StepStatus,
)

if TYPE_CHECKING:
    from nba_mcp_deploy import experiments

UNIT_RULE = (
    "tests compare one value per unit: a unit is a request_key (sticky routing), or a request sent without one; "
    "a key's repeated requests are averaged first, so a key that asked 100 times counts once"
)


@dataclass(frozen=True)
class MetricTest:
    """One metric, B against A, as one row."""

    metric: Metric
    method: Method
    value_a: float
    value_b: float
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    significant: bool
    favours: str | None
    units_a: int
    units_b: int

    @classmethod
    def of(cls, comparison: experiments.MetricComparison) -> MetricTest:
        test = comparison.test
        return cls(
            metric=Metric(comparison.metric),
            method=Method(test.method),
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


@dataclass(kw_only=True)
class ABTestView(ABTestReport):
    comparisons: tuple[MetricTest, ...]  # type: ignore[assignment]
    unit_rule: str = UNIT_RULE

    @classmethod
    def of(cls, report: experiments.ABTestReport) -> ABTestView:
        return extend(report, cls, comparisons=tuple(MetricTest.of(c) for c in report.comparisons))


@dataclass(kw_only=True)
class CanaryStep(StepStatus):
    step: int
    of: int


@dataclass(kw_only=True)
class CanaryEvent(ExperimentEvent):
    step: int


@dataclass(kw_only=True)
class CanaryView(CanaryStatus):
    step: CanaryStep
    history: tuple[CanaryEvent, ...]
    next_action: str

    @classmethod
    def of(cls, status: experiments.CanaryStatus) -> CanaryView:
        return extend(
            status,
            cls,
            step=extend(status.step, CanaryStep, step=status.step.index + 1, of=len(status.policy.steps)),
            history=tuple(extend(e, CanaryEvent, step=e.step_index + 1) for e in status.history),
            next_action=_next_action(status),
        )


def _next_action(status: experiments.CanaryStatus) -> str:
    phase = CanaryPhase(status.phase)
    if phase is CanaryPhase.RUNNING:
        return (
            "let traffic flow (predict) and report outcomes (log_actuals); the canary advances or rolls back "
            "by itself. Poll canary_status; abort_canary to stop it"
        )
    if phase is CanaryPhase.PROMOTED:
        return f"done: {status.candidate_version} serves all traffic; keep watching health_check and get_performance"
    if phase is CanaryPhase.ROLLED_BACK:
        return (
            f"{status.stable_version} serves all traffic again; fix what the reason names, deploy the fix as a new "
            "version and start_canary again"
        )
    if phase is CanaryPhase.ABORTED:
        return "stopped; start_canary again when ready"
    return "the promotion step failed: read the reason, fix it, then start_canary again or promote by hand"
