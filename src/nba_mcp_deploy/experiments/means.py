"""Welch's t-test: a difference of means when the two variances may differ (MAE, per-key rates).

The degrees of freedom are Welch-Satterthwaite's; the interval is mean_b - mean_a +- t * se.
Matches `scipy.stats.ttest_ind(b, a, equal_var=False)` and its `confidence_interval`.
"""

from __future__ import annotations

import math
from typing import Any

from nba_mcp_deploy.experiments.distributions import t_quantile, t_two_sided_p
from nba_mcp_deploy.experiments.twosample import Method, TwoSampleResult, check_confidence, two_samples


def welch_ttest(a: Any, b: Any, *, confidence: float = 0.95) -> TwoSampleResult:
    """Test mean_a = mean_b without assuming equal variances; NaN values are ignored."""
    check_confidence(confidence)
    sample_a, sample_b = two_samples(a, b, minimum=2, test="Welch's t-test")
    n_a, n_b = int(sample_a.size), int(sample_b.size)
    mean_a, mean_b = float(sample_a.mean()), float(sample_b.mean())
    share_a = float(sample_a.var(ddof=1)) / n_a
    share_b = float(sample_b.var(ddof=1)) / n_b
    difference = mean_b - mean_a
    se = math.sqrt(share_a + share_b)
    if se == 0:
        # Both samples are constant: either identical (no evidence) or certainly different.
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return TwoSampleResult(
            Method.WELCH_T,
            mean_a,
            mean_b,
            difference,
            difference,
            difference,
            confidence,
            1.0 if difference == 0 else 0.0,
            t,
            n_a,
            n_b,
        )
    df = (share_a + share_b) ** 2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
    t = difference / se
    half = t_quantile(0.5 + confidence / 2, df) * se
    return TwoSampleResult(
        method=Method.WELCH_T,
        estimate_a=mean_a,
        estimate_b=mean_b,
        difference=difference,
        ci_low=difference - half,
        ci_high=difference + half,
        confidence=confidence,
        p_value=t_two_sided_p(t, df),
        statistic=t,
        n_a=n_a,
        n_b=n_b,
    )
