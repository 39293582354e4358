"""The canary's guards as a pure function of one step's evidence: hold, advance or roll back.

- breaker: the candidate's circuit breaker must stay closed (an open breaker, or a request
  that failed over from the candidate during the step, fails it at once);
- error_rate: fails as soon as the step's candidate errors exceed `max_error_rate` of
  max(requests so far, `min_requests_per_step`): from then on the step cannot pass;
- latency: once the step has its requests, candidate p95 <= `max_latency_ratio` x stable p95
  (stable measured over the step, or over the whole canary when the step gave it no traffic);
- accuracy: when both versions have enough units with outcomes (over the whole canary, since
  outcomes arrive late), fails only if the candidate is shown worse than `min_accuracy_delta`.
A failed guard rolls back; all passing (accuracy may be skipped) on a complete step advances.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.comparison import MetricComparison
from nba_mcp_deploy.experiments.metrics import Metric


class GuardStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WAITING = "waiting"  # not enough data yet to judge this step
    SKIPPED = "skipped"  # nothing to judge (no outcomes yet, no stable traffic)


class Decision(StrEnum):
    HOLD = "hold"
    ADVANCE = "advance"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class GuardResult:
    name: str
    status: GuardStatus
    value: float | str | None
    threshold: float | None
    detail: str


@dataclass(frozen=True)
class StepEvidence:
    """What one evaluation sees of the current step (and, for accuracy, the whole canary)."""

    step_seconds: float
    candidate_requests: int
    candidate_errors: int
    candidate_p95_ms: float | None
    stable_p95_ms: float | None
    breaker_state: str
    failovers: int
    quality: MetricComparison | None  # stable = A, candidate = B


@dataclass(frozen=True)
class GuardReport:
    decision: Decision
    guards: tuple[GuardResult, ...]
    reason: str


def breaker_guard(evidence: StepEvidence) -> GuardResult:
    if evidence.breaker_state != "closed" or evidence.failovers:
        parts = []
        if evidence.breaker_state != "closed":
            parts.append(f"the candidate's circuit breaker is {evidence.breaker_state}")
        if evidence.failovers:
            parts.append(f"{evidence.failovers} of its requests failed over to the stable version during this step")
        return GuardResult("breaker", GuardStatus.FAIL, evidence.breaker_state, None, "; ".join(parts))
    return GuardResult("breaker", GuardStatus.PASS, evidence.breaker_state, None, "closed")


def error_rate_guard(evidence: StepEvidence, policy: CanaryPolicy) -> GuardResult:
    n, errors = evidence.candidate_requests, evidence.candidate_errors
    rate = errors / n if n else None
    limit = policy.max_error_rate
    if errors > policy.error_budget(n):
        if n < policy.min_requests_per_step:
            detail = (
                f"{errors} errors in the candidate's first {n} requests of the step: more than "
                f"{limit:.1%} of the step's {policy.min_requests_per_step} requests"
            )
        else:
            detail = f"candidate error rate {errors}/{n} = {errors / n:.1%} exceeds {limit:.1%}"
        return GuardResult("error_rate", GuardStatus.FAIL, rate, limit, detail)
    if n < policy.min_requests_per_step:
        detail = f"{n} of {policy.min_requests_per_step} candidate requests so far, {errors} errors"
        return GuardResult("error_rate", GuardStatus.WAITING, rate, limit, detail)
    return GuardResult("error_rate", GuardStatus.PASS, rate, limit, f"{errors}/{n} = {errors / n:.1%}")


def latency_guard(evidence: StepEvidence, policy: CanaryPolicy) -> GuardResult:
    limit = policy.max_latency_ratio
    candidate, stable = evidence.candidate_p95_ms, evidence.stable_p95_ms
    if evidence.candidate_requests < policy.min_requests_per_step or candidate is None:
        return GuardResult("latency", GuardStatus.WAITING, None, limit, "waiting for the step's requests")
    if stable is None:
        return GuardResult("latency", GuardStatus.SKIPPED, None, limit, "no stable traffic to compare with")
    ratio = candidate / stable if stable > 0 else float("inf") if candidate > 0 else 1.0
    detail = f"p95 {candidate:.3g} ms (candidate) vs {stable:.3g} ms (stable), ratio {ratio:.2f}"
    if ratio > limit and candidate - stable > policy.latency_floor_ms:
        return GuardResult("latency", GuardStatus.FAIL, ratio, limit, f"{detail} exceeds {limit:g}")
    return GuardResult("latency", GuardStatus.PASS, ratio, limit, detail)


def accuracy_guard(evidence: StepEvidence, policy: CanaryPolicy) -> GuardResult:
    limit = policy.min_accuracy_delta
    quality = evidence.quality
    if quality is None:
        detail = f"no outcomes yet (needs {policy.min_outcome_units} units with outcomes per version)"
        return GuardResult("accuracy", GuardStatus.SKIPPED, None, limit, detail)
    test = quality.test
    if quality.metric is Metric.MAE:
        scale = test.estimate_a if test.estimate_a > 0 else 1.0
        delta, upper = -test.difference / scale, -test.ci_low / scale
        what = "relative MAE reduction"
    else:
        delta, upper = test.difference, test.ci_high
        what = "accuracy difference"
    detail = (
        f"candidate - stable {what} {delta:+.4f} (one-sided {policy.accuracy_confidence:.0%} upper bound "
        f"{upper:+.4f}, {test.n_b} and {test.n_a} units), minimum {limit:+.4f}"
    )
    if upper < limit:
        return GuardResult("accuracy", GuardStatus.FAIL, delta, limit, detail)
    return GuardResult("accuracy", GuardStatus.PASS, delta, limit, detail)


def evaluate_guards(evidence: StepEvidence, policy: CanaryPolicy) -> GuardReport:
    """Every guard on the evidence, and what the canary should do now."""
    guards = (
        breaker_guard(evidence),
        error_rate_guard(evidence, policy),
        latency_guard(evidence, policy),
        accuracy_guard(evidence, policy),
    )
    failed = [g for g in guards if g.status is GuardStatus.FAIL]
    if failed:
        return GuardReport(Decision.ROLLBACK, guards, "; ".join(f"{g.name}: {g.detail}" for g in failed))
    waiting = [g for g in guards if g.status is GuardStatus.WAITING]
    if waiting:
        return GuardReport(Decision.HOLD, guards, "; ".join(f"{g.name}: {g.detail}" for g in waiting))
    if evidence.step_seconds < policy.min_step_seconds:
        left = policy.min_step_seconds - evidence.step_seconds
        return GuardReport(Decision.HOLD, guards, f"guards hold; the step lasts {left:.0f} s more")
    return GuardReport(Decision.ADVANCE, guards, "every guard holds")
