"""The p-value of the two-sided two-sample KS test, following `scipy.stats.ks_2samp`'s rules.

`ks_2samp(method="auto")` uses the exact distribution when both samples have at most 10,000
values and Smirnov's asymptotic distribution (`kstwo.sf(d, round(n1*n2/(n1+n2)))`) otherwise;
in exact mode it first rounds the statistic to the lattice `h / lcm(n1, n2)` and reports that
rounded statistic, and it falls back to the asymptotic formula if the exact computation
overflows. We apply the same rules so our statistic and p-value equal scipy's, but pay only for
the p-value here: the statistic comes from the prepared reference (see `stattests.ks_test`).

The exact lattice-path probability is scipy's (compiled) routine; if a future scipy moves that
private helper, `ks_exact_fallback` recomputes the p-value with the public `ks_2samp` on the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_EXACT_N = 10_000  # scipy's MAX_AUTO_N


def uses_exact(n1: int, n2: int) -> bool:
    """Whether scipy's "auto" mode would compute the exact p-value for these sample sizes."""
    return max(n1, n2) <= MAX_EXACT_N


def asymptotic_p_value(d: float, n1: int, n2: int) -> float:
    """Smirnov's asymptotic two-sided p-value, as scipy computes it."""
    from scipy.stats import kstwo

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(kstwo.sf(d, np.round(en)), 0.0, 1.0))


def _scipy_exact() -> Callable[..., Any] | None:
    try:
        from scipy.stats import _stats_py

        helper = getattr(_stats_py, "_attempt_exact_2kssamp", None)
    except ImportError:  # pragma: no cover - depends on the installed scipy
        return None
    return helper if callable(helper) else None


def ks_p_value(
    d: float,
    n1: int,
    n2: int,
    exact_fallback: Callable[[], tuple[float, float]] | None = None,
) -> tuple[float, float]:
    """(statistic, p-value) for statistic `d` of samples of sizes n1, n2 — scipy's "auto" rules.

    In exact mode the returned statistic is `d` rounded to the lattice, as scipy returns it.
    `exact_fallback` recomputes both from the data when scipy's exact helper is not importable.
    """
    if not uses_exact(n1, n2):
        return d, asymptotic_p_value(d, n1, n2)
    helper = _scipy_exact()
    if helper is None:
        if exact_fallback is None:
            raise RuntimeError("scipy's exact KS helper is unavailable and no fallback was given")
        return exact_fallback()
    success, rounded, prob = helper(n1, n2, math.gcd(n1, n2), d, "two-sided")
    if not success:
        return float(rounded), asymptotic_p_value(float(rounded), n1, n2)
    return float(rounded), float(np.clip(prob, 0.0, 1.0))
