"""Power analysis: how many units each variant needs to detect a given difference.

Normal-approximation formulas for a two-sided test at level `alpha` with the given `power`,
allowing unequal allocation (`ratio` = n_b / n_a; a canary with 5% of traffic on B has 5/95):

- proportions (Fleiss, without continuity correction):
  n_a = (z_a * sqrt(pbar * qbar * (1 + 1/k)) + z_b * sqrt(p_a q_a + p_b q_b / k))^2 / (p_b - p_a)^2,
  with pbar = (p_a + k p_b) / (1 + k);
- means (Welch's test): n_a = (z_a + z_b)^2 * (sd_a^2 + sd_b^2 / k) / difference^2.
n_b = k * n_a; both rounded up.
"""

from __future__ import annotations

import math

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.distributions import normal_quantile


def _quantiles(alpha: float, power: float, ratio: float) -> tuple[float, float]:
    if not 0 < alpha < 1:
        raise InvalidInputError("alpha", alpha, "must be in (0, 1)")
    if not 0 < power < 1:
        raise InvalidInputError("power", power, "must be in (0, 1)")
    if not ratio > 0 or not math.isfinite(ratio):
        raise InvalidInputError("ratio", ratio, "n_b / n_a must be a finite number > 0")
    return normal_quantile(1 - alpha / 2), normal_quantile(power)


def _both(n_a: float, ratio: float) -> tuple[int, int]:
    # Guard against 386.00000000001 becoming 387 through floating point.
    return math.ceil(n_a - 1e-9), math.ceil(n_a * ratio - 1e-9)


def sample_size_proportions(
    p_a: float, p_b: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> tuple[int, int]:
    """Units (n_a, n_b) to detect proportions p_a vs p_b."""
    z_alpha, z_power = _quantiles(alpha, power, ratio)
    for name, p in (("p_a", p_a), ("p_b", p_b)):
        if not 0 <= p <= 1:
            raise InvalidInputError(name, p, "must be a proportion in [0, 1]")
    if p_a == p_b:
        raise InvalidInputError("p_b", p_b, "must differ from p_a (no sample detects a zero difference)")
    pooled = (p_a + ratio * p_b) / (1 + ratio)
    spread_null = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    spread_alt = math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b) / ratio)
    n_a = (z_alpha * spread_null + z_power * spread_alt) ** 2 / (p_b - p_a) ** 2
    return _both(n_a, ratio)


def sample_size_means(
    sd_a: float, sd_b: float, difference: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> tuple[int, int]:
    """Units (n_a, n_b) to detect a difference of means with standard deviations sd_a, sd_b."""
    z_alpha, z_power = _quantiles(alpha, power, ratio)
    if not sd_a >= 0 or not sd_b >= 0:
        raise InvalidInputError("sd", (sd_a, sd_b), "standard deviations must be >= 0")
    if difference == 0 or not math.isfinite(difference):
        raise InvalidInputError("difference", difference, "must be a finite number other than 0")
    n_a = (z_alpha + z_power) ** 2 * (sd_a**2 + sd_b**2 / ratio) / difference**2
    need_a, need_b = _both(n_a, ratio)
    return max(need_a, 2), max(need_b, 2)  # a t-test needs two values a side
