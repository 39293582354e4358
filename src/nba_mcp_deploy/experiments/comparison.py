"""One metric of B against A on per-unit values: which test, significance, direction, wording;
and the sample size needed to detect a given change in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nba_mcp_deploy.experiments.means import welch_ttest
from nba_mcp_deploy.experiments.metrics import Metric
from nba_mcp_deploy.experiments.power import sample_size_means, sample_size_proportions
from nba_mcp_deploy.experiments.proportions import compare_proportions
from nba_mcp_deploy.experiments.ranks import mann_whitney_u
from nba_mcp_deploy.experiments.twosample import FloatArray, TwoSampleResult


@dataclass(frozen=True)
class MetricComparison:
    """One metric, B against A: the test, whether it is significant at `alpha`, who it favours."""

    metric: Metric
    test: TwoSampleResult
    alpha: float
    significant: bool
    favours: str | None  # "a", "b" or None


@dataclass(frozen=True)
class SampleSizePlan:
    """Units with outcomes each variant needs to detect `absolute_effect` in `metric`."""

    metric: Metric
    min_detectable_effect: float
    absolute_effect: float
    alpha: float
    power: float
    required_a: int
    required_b: int
    have_a: int
    have_b: int

    @property
    def still_needed_a(self) -> int:
        return max(0, self.required_a - self.have_a)

    @property
    def still_needed_b(self) -> int:
        return max(0, self.required_b - self.have_b)

    @property
    def reached(self) -> bool:
        return self.still_needed_a == 0 and self.still_needed_b == 0


def is_binary(values: FloatArray) -> bool:
    return bool(np.all((values == 0) | (values == 1)))


def compare_units(metric: Metric, a: FloatArray, b: FloatArray, *, alpha: float) -> MetricComparison:
    """Test one value per unit of A against B.

    Latency: Mann-Whitney U. Rates whose per-unit values are all 0 or 1: a difference of
    proportions (Fisher's exact test for small counts, else the z-test). Anything else (MAE,
    rates averaged over a key's repeated requests): Welch's t-test.
    """
    confidence = 1 - alpha
    test: TwoSampleResult
    if metric is Metric.LATENCY_MS:
        test = mann_whitney_u(a, b, confidence=confidence)
    elif metric is not Metric.MAE and is_binary(a) and is_binary(b):
        test = compare_proportions(int(a.sum()), int(a.size), int(b.sum()), int(b.size), confidence=confidence)
    else:
        test = welch_ttest(a, b, confidence=confidence)
    significant = test.p_value < alpha
    favours = None
    if significant:
        favours = "b" if (test.difference > 0) == metric.higher_is_better else "a"
    return MetricComparison(metric, test, alpha, significant, favours)


def plan_sample_size(
    metric: Metric, a: FloatArray, b: FloatArray, *, min_detectable_effect: float, alpha: float, power: float
) -> SampleSizePlan | None:
    """Units per variant to detect a relative change of `min_detectable_effect` from A's value.

    The allocation follows the units seen so far (a 5% canary needs far more units on A's side
    than on B's), and for proportions the harder of the two directions is planned for. None when
    A's value is 0 or a side has fewer than 2 units.
    """
    if a.size < 2 or b.size < 2:
        return None
    baseline = float(a.mean())
    effect = min_detectable_effect * abs(baseline)
    if effect == 0:
        return None
    ratio = b.size / a.size
    if is_binary(a) and is_binary(b) and metric is not Metric.MAE:
        required_a, required_b = max(
            sample_size_proportions(baseline, target, alpha=alpha, power=power, ratio=ratio)
            for target in (baseline + effect, baseline - effect)
            if 0 <= target <= 1
        )
    else:
        required_a, required_b = sample_size_means(
            float(a.std(ddof=1)), float(b.std(ddof=1)), effect, alpha=alpha, power=power, ratio=ratio
        )
    return SampleSizePlan(
        metric=metric,
        min_detectable_effect=min_detectable_effect,
        absolute_effect=effect,
        alpha=alpha,
        power=power,
        required_a=required_a,
        required_b=required_b,
        have_a=int(a.size),
        have_b=int(b.size),
    )


def describe(comparison: MetricComparison) -> str:
    """One line an agent can quote: values, difference with its interval, p-value, test, units."""
    test = comparison.test
    level = f"{test.confidence:.1%}".replace(".0%", "%")
    return (
        f"{comparison.metric.value} {test.estimate_b:.4g} (B) vs {test.estimate_a:.4g} (A), "
        f"B - A = {test.difference:+.4g} ({level} CI {test.ci_low:+.4g} to {test.ci_high:+.4g}), "
        f"p = {format_p(test.p_value)} by {test.method.label} over {test.n_b} and {test.n_a} units"
    )


def format_p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 or value == 0 else f"{value:.1e}"
