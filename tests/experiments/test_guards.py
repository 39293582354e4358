"""The canary's guards and decisions as a pure function of one step's evidence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.comparison import compare_units
from nba_mcp_deploy.experiments.guards import Decision, GuardStatus, StepEvidence, evaluate_guards
from nba_mcp_deploy.experiments.metrics import Metric

POLICY = CanaryPolicy(min_requests_per_step=100, max_error_rate=0.05, max_latency_ratio=1.5, min_accuracy_delta=-0.02)
HEALTHY = StepEvidence(
    step_seconds=10.0,
    candidate_requests=100,
    candidate_errors=0,
    candidate_p95_ms=4.0,
    stable_p95_ms=4.0,
    breaker_state="closed",
    failovers=0,
    quality=None,
)


def guard(evidence: StepEvidence, name: str, policy: CanaryPolicy = POLICY) -> GuardStatus:
    return next(g.status for g in evaluate_guards(evidence, policy).guards if g.name == name)


def test_a_complete_healthy_step_advances_and_an_incomplete_one_holds() -> None:
    assert evaluate_guards(HEALTHY, POLICY).decision is Decision.ADVANCE
    early = dataclasses.replace(HEALTHY, candidate_requests=99)
    report = evaluate_guards(early, POLICY)
    assert report.decision is Decision.HOLD and "99 of 100 candidate requests" in report.reason
    baking = evaluate_guards(HEALTHY, dataclasses.replace(POLICY, min_step_seconds=60))
    assert baking.decision is Decision.HOLD and "lasts 50 s more" in baking.reason


def test_the_error_budget_fails_a_step_as_soon_as_it_cannot_pass() -> None:
    def errors(requests: int, failed: int, policy: CanaryPolicy = POLICY) -> GuardStatus:
        return guard(
            dataclasses.replace(HEALTHY, candidate_requests=requests, candidate_errors=failed), "error_rate", policy
        )

    # 5% of 100 requests: 5 errors may still pass, the 6th cannot, however early it comes.
    assert errors(5, 5) is GuardStatus.WAITING
    failed = evaluate_guards(dataclasses.replace(HEALTHY, candidate_requests=6, candidate_errors=6), POLICY)
    assert failed.decision is Decision.ROLLBACK and "6 errors in the candidate's first 6 requests" in failed.reason
    assert errors(200, 10) is GuardStatus.PASS
    assert errors(200, 11) is GuardStatus.FAIL
    assert errors(1, 1, dataclasses.replace(POLICY, max_error_rate=0.0)) is GuardStatus.FAIL


def test_an_open_breaker_or_a_failover_fails_at_once() -> None:
    for evidence in (
        dataclasses.replace(HEALTHY, breaker_state="open", candidate_requests=3),
        dataclasses.replace(HEALTHY, breaker_state="half_open"),
        dataclasses.replace(HEALTHY, failovers=2),
    ):
        report = evaluate_guards(evidence, POLICY)
        assert report.decision is Decision.ROLLBACK and report.reason.startswith("breaker:")


def test_latency_fails_on_ratio_beyond_the_floor() -> None:
    slow = dataclasses.replace(HEALTHY, candidate_p95_ms=6.5, stable_p95_ms=4.0)
    assert guard(slow, "latency") is GuardStatus.FAIL
    assert guard(dataclasses.replace(HEALTHY, candidate_p95_ms=6.0), "latency") is GuardStatus.PASS  # ratio 1.5
    jitter = dataclasses.replace(HEALTHY, candidate_p95_ms=0.09, stable_p95_ms=0.03)  # 3x, but 0.06 ms
    assert guard(jitter, "latency") is GuardStatus.PASS
    assert guard(dataclasses.replace(HEALTHY, stable_p95_ms=None), "latency") is GuardStatus.SKIPPED
    assert guard(dataclasses.replace(HEALTHY, candidate_requests=50), "latency") is GuardStatus.WAITING


def test_accuracy_fails_only_on_evidence_of_a_worse_candidate() -> None:
    one_sided = 2 * (1 - POLICY.accuracy_confidence)

    def with_accuracy(stable: float, candidate: float, n: int) -> StepEvidence:
        a = np.r_[np.ones(round(stable * n)), np.zeros(n - round(stable * n))]
        b = np.r_[np.ones(round(candidate * n)), np.zeros(n - round(candidate * n))]
        return dataclasses.replace(HEALTHY, quality=compare_units(Metric.ACCURACY, a, b, alpha=one_sided))

    assert guard(HEALTHY, "accuracy") is GuardStatus.SKIPPED
    assert guard(with_accuracy(0.70, 0.60, 40), "accuracy") is GuardStatus.PASS  # worse, but 40 units prove little
    report = evaluate_guards(with_accuracy(0.70, 0.60, 1000), POLICY)
    assert report.decision is Decision.ROLLBACK and "accuracy difference -0.1000" in report.reason
    assert guard(with_accuracy(0.70, 0.69, 1000), "accuracy") is GuardStatus.PASS  # within -0.02


def test_mae_is_judged_as_a_relative_reduction() -> None:
    rng = np.random.default_rng(0)
    stable, worse = np.abs(rng.normal(0, 2.0, 2000)), np.abs(rng.normal(0, 3.0, 2000))
    quality = compare_units(Metric.MAE, stable, worse, alpha=0.1)
    report = evaluate_guards(dataclasses.replace(HEALTHY, quality=quality), POLICY)
    assert report.decision is Decision.ROLLBACK and "relative MAE reduction -0.5" in report.reason


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"steps": (0.5, 0.25, 1.0)}, "steps", "increase strictly"),
        ({"steps": (0.25, 0.5)}, "steps", "last step must be 1.0"),
        ({"steps": ()}, "steps", "give 1 to 20"),
        ({"steps": (0.0, 1.0)}, r"steps\[0\]", r"in \(0, 1\]"),
        ({"min_requests_per_step": 0}, "min_requests_per_step", "whole number"),
        ({"max_error_rate": 1.0}, "max_error_rate", r"\[0, 1\)"),
        ({"max_latency_ratio": 0.9}, "max_latency_ratio", ">= 1"),
        ({"min_accuracy_delta": 2}, "min_accuracy_delta", r"\[-1, 1\]"),
        ({"min_step_seconds": -1}, "min_step_seconds", ">= 0"),
    ],
)
def test_policies_are_validated_by_name(changes: dict, field: str, rule: str) -> None:
    with pytest.raises(InvalidInputError, match=f"invalid {field}: .*{rule}"):
        CanaryPolicy(**changes)
