"""Tail probabilities and quantiles of the normal and Student t distributions.

The normal ones come from the standard library (`math.erfc`, `statistics.NormalDist`); the t
ones from `scipy.special`, imported on first use so that importing the experiments package
(and starting the server) stays light.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def normal_quantile(probability: float) -> float:
    """The standard normal quantile: normal_quantile(0.975) = 1.95996..."""
    return _STANDARD_NORMAL.inv_cdf(probability)


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` (possibly fractional) degrees of freedom."""
    from scipy.special import stdtr

    return min(1.0, 2.0 * float(stdtr(df, -abs(t))))


def t_quantile(probability: float, df: float) -> float:
    """The quantile of Student's t with `df` degrees of freedom."""
    from scipy.special import stdtrit

    return float(stdtrit(df, probability))
