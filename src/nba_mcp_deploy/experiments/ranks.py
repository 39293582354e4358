"""Mann-Whitney U for skewed samples (latency), with an interval for the difference of medians.

- `mann_whitney_u`: the normal approximation with tie and continuity corrections, as
  `scipy.stats.mannwhitneyu(b, a, method="asymptotic")`; the statistic is B's U.
- `median_standard_error`: McKean & Schrader (1984), from the order statistics around the
  median, so it needs no density estimate and no resampling.
- The interval for median_b - median_a combines the two standard errors (Bonett & Price 2002).
Latency is heavy-tailed, so its difference is reported on medians and tested on ranks: one
slow outlier moves a mean, not these.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nba_mcp_deploy.experiments.distributions import normal_quantile
from nba_mcp_deploy.experiments.twosample import FloatArray, Method, TwoSampleResult, check_confidence, two_samples
from nba_mcp_deploy.monitoring.performance import mid_ranks

MIN_SAMPLE = 3
_Z_975 = normal_quantile(0.975)


def median_standard_error(values: FloatArray) -> float:
    """McKean-Schrader standard error of the sample median of `values`."""
    ordered = np.sort(values)
    n = ordered.shape[0]
    c = round((n + 1) / 2 - _Z_975 * math.sqrt(n / 4))
    c = min(max(c, 1), (n + 1) // 2)
    return float(ordered[n - c] - ordered[c - 1]) / (2 * _Z_975)


def mann_whitney_u(a: Any, b: Any, *, confidence: float = 0.95) -> TwoSampleResult:
    """Test whether B's values tend to be larger or smaller than A's; difference of medians B - A."""
    check_confidence(confidence)
    sample_a, sample_b = two_samples(a, b, minimum=MIN_SAMPLE, test="the Mann-Whitney U test")
    n_a, n_b = int(sample_a.size), int(sample_b.size)
    ranks, ties = mid_ranks(np.concatenate((sample_a, sample_b)))
    u_b = float(ranks[n_a:].sum()) - n_b * (n_b + 1) / 2
    total = n_a + n_b
    mean_u = n_a * n_b / 2
    sd_u = math.sqrt(n_a * n_b / 12 * ((total + 1) - ties / (total * (total - 1))))
    if sd_u > 0:
        z = (max(u_b, n_a * n_b - u_b) - mean_u - 0.5) / sd_u
        p_value = min(1.0, math.erfc(z / math.sqrt(2)))  # 2 * P(Z > z); z < 0 gives 1
    else:
        p_value = 1.0
    median_a, median_b = float(np.median(sample_a)), float(np.median(sample_b))
    difference = median_b - median_a
    se = math.hypot(median_standard_error(sample_a), median_standard_error(sample_b))
    half = normal_quantile(0.5 + confidence / 2) * se
    return TwoSampleResult(
        method=Method.MANN_WHITNEY_U,
        estimate_a=median_a,
        estimate_b=median_b,
        difference=difference,
        ci_low=difference - half,
        ci_high=difference + half,
        confidence=confidence,
        p_value=p_value,
        statistic=u_b,
        n_a=n_a,
        n_b=n_b,
    )
