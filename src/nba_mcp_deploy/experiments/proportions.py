"""Tests and intervals for a difference of two proportions (accuracy, error rate).

- `two_proportion_ztest`: the pooled-variance z-test (the chi-square test of the 2x2 table
  without Yates' correction), with the unpooled Wald interval for p_b - p_a.
- `fisher_exact`: the two-sided exact test of the 2x2 table given its margins, summing every
  table no more likely than the observed one (scipy's definition), with Newcombe's interval.
- `newcombe_interval`: Newcombe's hybrid score interval (method 10 of Newcombe 1998), built from
  the Wilson interval of each proportion; it keeps its coverage at small counts, where Wald's
  does not.
- `needs_exact_test`: Cochran's rule, an expected cell count below 5.
"""

from __future__ import annotations

import math

import numpy as np

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.distributions import normal_quantile, normal_two_sided_p
from nba_mcp_deploy.experiments.twosample import Method, TwoSampleResult, check_confidence

# Tables within this relative distance of the observed table's probability count as "as likely"
# (ties in exact arithmetic that floating point separates).
_FISHER_TIE = 1e-7
MIN_EXPECTED_COUNT = 5.0


def _check_counts(successes: int, n: int, suffix: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InvalidInputError(f"n{suffix}", n, "must be a whole number >= 1")
    if isinstance(successes, bool) or not isinstance(successes, int | np.integer) or not 0 <= successes <= n:
        raise InvalidInputError(f"successes{suffix}", successes, f"must be a whole number in [0, {n}]")


def _z(confidence: float) -> float:
    return normal_quantile(0.5 + check_confidence(confidence) / 2)


def two_proportion_ztest(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> TwoSampleResult:
    """Pooled z-test of p_a = p_b and the Wald interval of p_b - p_a."""
    _check_counts(successes_a, n_a, "_a")
    _check_counts(successes_b, n_b, "_b")
    z_crit = _z(confidence)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    difference = p_b - p_a
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = difference / se_null if se_null > 0 else 0.0
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    return TwoSampleResult(
        method=Method.TWO_PROPORTION_Z,
        estimate_a=p_a,
        estimate_b=p_b,
        difference=difference,
        ci_low=difference - z_crit * se,
        ci_high=difference + z_crit * se,
        confidence=confidence,
        p_value=normal_two_sided_p(z) if se_null > 0 else 1.0,
        statistic=z,
        n_a=n_a,
        n_b=n_b,
    )


def fisher_exact_p(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test of the table [[s_a, n_a-s_a], [s_b, n_b-s_b]]."""
    _check_counts(successes_a, n_a, "_a")
    _check_counts(successes_b, n_b, "_b")
    from scipy.special import gammaln

    total = n_a + n_b
    column = successes_a + successes_b
    if column in (0, total):
        return 1.0
    support = np.arange(max(0, column - n_b), min(n_a, column) + 1, dtype=np.float64)
    # log P(X = k) for X ~ Hypergeometric, up to a constant that the normalisation cancels.
    log_pmf = (
        -gammaln(support + 1)
        - gammaln(column - support + 1)
        - gammaln(n_a - support + 1)
        - gammaln(n_b - column + support + 1)
    )
    pmf = np.exp(log_pmf - log_pmf.max())
    observed = pmf[int(successes_a - support[0])]
    p = float(pmf[pmf <= observed * (1 + _FISHER_TIE)].sum() / pmf.sum())
    return min(1.0, p)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for one proportion."""
    _check_counts(successes, n, "")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p_b - p_a."""
    low_a, high_a = wilson_interval(successes_a, n_a, confidence=confidence)
    low_b, high_b = wilson_interval(successes_b, n_b, confidence=confidence)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    difference = p_b - p_a
    below = math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    above = math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return difference - below, difference + above


def fisher_exact(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> TwoSampleResult:
    """Fisher's exact test with Newcombe's interval of p_b - p_a (for small counts)."""
    p_value = fisher_exact_p(successes_a, n_a, successes_b, n_b)
    low, high = newcombe_interval(successes_a, n_a, successes_b, n_b, confidence=confidence)
    return TwoSampleResult(
        method=Method.FISHER_EXACT,
        estimate_a=successes_a / n_a,
        estimate_b=successes_b / n_b,
        difference=successes_b / n_b - successes_a / n_a,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=p_value,
        statistic=None,
        n_a=n_a,
        n_b=n_b,
    )


def needs_exact_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> bool:
    """Cochran's rule: some expected count of the 2x2 table is below 5."""
    total = n_a + n_b
    column = successes_a + successes_b
    smallest_row, smallest_column = min(n_a, n_b), min(column, total - column)
    return smallest_row * smallest_column / total < MIN_EXPECTED_COUNT


def compare_proportions(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> TwoSampleResult:
    """Fisher's exact test for small counts, else the two-proportion z-test."""
    if needs_exact_test(successes_a, n_a, successes_b, n_b):
        return fisher_exact(successes_a, n_a, successes_b, n_b, confidence=confidence)
    return two_proportion_ztest(successes_a, n_a, successes_b, n_b, confidence=confidence)
