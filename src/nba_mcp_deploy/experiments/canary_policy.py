"""What a progressive canary may do: its traffic steps and the guards each step must pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError

DEFAULT_STEPS = (0.05, 0.25, 0.5, 1.0)
MAX_STEPS = 20
MAX_REQUESTS_PER_STEP = 10_000_000


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_steps(steps: Sequence[float]) -> tuple[float, ...]:
    """Candidate shares of traffic: 1 to MAX_STEPS numbers in (0, 1], strictly increasing, ending at 1."""
    values = list(steps) if isinstance(steps, list | tuple) else None
    if not values or len(values) > MAX_STEPS:
        raise InvalidInputError("steps", steps, f"give 1 to {MAX_STEPS} traffic shares, e.g. [0.05, 0.25, 0.5, 1.0]")
    for index, share in enumerate(values):
        if not _number(share) or not 0 < share <= 1:
            raise InvalidInputError(f"steps[{index}]", share, "each share must be a number in (0, 1]")
        if index and share <= values[index - 1]:
            raise InvalidInputError("steps", values, "shares must increase strictly from step to step")
    if values[-1] != 1:
        raise InvalidInputError("steps", values, "the last step must be 1.0 (all traffic) before promotion")
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class CanaryPolicy:
    """Steps and guards, validated on construction (errors name the field, value and rule).

    - `min_requests_per_step`: candidate requests a step needs before it may pass;
    - `max_error_rate`: the candidate's error rate a step may not exceed; the step fails as soon
      as more errors than that share of `min_requests_per_step` have happened;
    - `max_latency_ratio`: candidate p95 latency / stable p95 latency over the step; a difference
      below `latency_floor_ms` never fails (sub-millisecond jitter on a shared host is not a
      regression);
    - `min_accuracy_delta`: candidate accuracy - stable accuracy (for regressors, the relative
      reduction in MAE) the candidate must not be shown to fall below: it fails when the
      one-sided `accuracy_confidence` upper bound is below it, once both versions have
      `min_outcome_units` units with outcomes (before that, the guard is skipped);
    - `min_step_seconds`: how long each step lasts at least (a bake time; 0 = no minimum).
    """

    steps: tuple[float, ...] = DEFAULT_STEPS
    min_requests_per_step: int = 100
    max_error_rate: float = 0.05
    max_latency_ratio: float = 1.5
    min_accuracy_delta: float = -0.02
    min_step_seconds: float = 0.0
    latency_floor_ms: float = 1.0
    min_outcome_units: int = 30
    accuracy_confidence: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", check_steps(self.steps))
        count = self.min_requests_per_step
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_REQUESTS_PER_STEP:
            raise InvalidInputError(
                "min_requests_per_step", count, f"must be a whole number in [1, {MAX_REQUESTS_PER_STEP}]"
            )
        if not _number(self.max_error_rate) or not 0 <= self.max_error_rate < 1:
            raise InvalidInputError("max_error_rate", self.max_error_rate, "must be a number in [0, 1), e.g. 0.05")
        if not _number(self.max_latency_ratio) or self.max_latency_ratio < 1:
            raise InvalidInputError("max_latency_ratio", self.max_latency_ratio, "must be a number >= 1, e.g. 1.5")
        if not _number(self.min_accuracy_delta) or not -1 <= self.min_accuracy_delta <= 1:
            raise InvalidInputError(
                "min_accuracy_delta", self.min_accuracy_delta, "must be a number in [-1, 1], e.g. -0.02"
            )
        if not _number(self.min_step_seconds) or self.min_step_seconds < 0:
            raise InvalidInputError("min_step_seconds", self.min_step_seconds, "must be a number of seconds >= 0")
        if not _number(self.latency_floor_ms) or self.latency_floor_ms < 0:
            raise InvalidInputError("latency_floor_ms", self.latency_floor_ms, "must be a number of ms >= 0")
        units = self.min_outcome_units
        if isinstance(units, bool) or not isinstance(units, int) or units < 3:
            raise InvalidInputError("min_outcome_units", units, "must be a whole number >= 3")
        if not _number(self.accuracy_confidence) or not 0.5 < self.accuracy_confidence < 1:
            raise InvalidInputError("accuracy_confidence", self.accuracy_confidence, "must be in (0.5, 1)")

    def error_budget(self, requests: int) -> float:
        """Errors a step may hold after `requests` candidate requests without failing."""
        return self.max_error_rate * max(requests, self.min_requests_per_step)
