"""The result every two-sample test returns: B against A, as a difference with an interval."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Method(StrEnum):
    """Which test produced a result."""

    TWO_PROPORTION_Z = "two_proportion_z"
    FISHER_EXACT = "fisher_exact"
    WELCH_T = "welch_t"
    MANN_WHITNEY_U = "mann_whitney_u"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Method.TWO_PROPORTION_Z: "two-proportion z-test",
    Method.FISHER_EXACT: "Fisher's exact test",
    Method.WELCH_T: "Welch's t-test",
    Method.MANN_WHITNEY_U: "Mann-Whitney U test",
}


@dataclass(frozen=True)
class TwoSampleResult:
    """B compared with A: estimates, `difference` = B - A with its interval, two-sided p-value.

    `statistic` is the test's own (z, Welch's t, B's Mann-Whitney U; None for Fisher's test,
    which has none). `confidence` is the interval's coverage (e.g. 0.95).
    """

    method: Method
    estimate_a: float
    estimate_b: float
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    statistic: float | None
    n_a: int
    n_b: int


def as_sample(values: Any) -> FloatArray:
    """A 1-D float array of the finite values of `values` (NaN and infinities dropped)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    return array[np.isfinite(array)]


def check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise InvalidInputError("confidence", confidence, "must be in (0, 1), e.g. 0.95")
    return float(confidence)


def two_samples(a: Any, b: Any, *, minimum: int, test: str) -> tuple[FloatArray, FloatArray]:
    """Both samples' finite values, refusing a side with fewer than `minimum` of them."""
    samples = as_sample(a), as_sample(b)
    for name, sample in zip(("a", "b"), samples, strict=True):
        if sample.size < minimum:
            raise InvalidInputError(name, f"{sample.size} finite values", f"{test} needs at least {minimum} per sample")
    return samples
