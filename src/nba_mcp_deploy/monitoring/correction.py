"""Multiple-testing correction of per-feature p-values (testing 20 features at 5% flags one by chance).

Bonferroni controls the family-wise error rate (any false alarm); Benjamini-Hochberg controls the
false discovery rate (the share of false alarms among the flagged features) and keeps more power.
Both return adjusted p-values, compared with the unchanged significance level.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import numpy as np

from nba_mcp_deploy.errors import InvalidInputError


class Correction(enum.StrEnum):
    """How p-values of several features are adjusted before they are compared with the level."""

    NONE = "none"
    BONFERRONI = "bonferroni"
    BENJAMINI_HOCHBERG = "bh"


_ALIASES = {
    "none": Correction.NONE,
    "bonferroni": Correction.BONFERRONI,
    "bh": Correction.BENJAMINI_HOCHBERG,
    "fdr": Correction.BENJAMINI_HOCHBERG,
    "fdr_bh": Correction.BENJAMINI_HOCHBERG,
    "benjamini_hochberg": Correction.BENJAMINI_HOCHBERG,
}


def parse_correction(value: Any, field: str = "correction") -> Correction:
    """A `Correction` from a member or a name (none, bonferroni, bh / fdr / benjamini_hochberg)."""
    if value is None:
        return Correction.NONE
    if isinstance(value, Correction):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_")
        if key in _ALIASES:
            return _ALIASES[key]
    raise InvalidInputError(field, value, "allowed: none, bonferroni, bh (Benjamini-Hochberg)")


def bonferroni(p_values: Sequence[float]) -> list[float]:
    """min(1, p * m) for each of the m p-values."""
    m = len(p_values)
    return [min(1.0, p * m) for p in p_values]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values: min over j >= rank of p_(j) * m / j, capped at 1."""
    m = len(p_values)
    if m == 0:
        return []
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return [float(v) for v in adjusted]


def adjust(p_values: Sequence[float], correction: Correction) -> list[float]:
    """Adjusted p-values under `correction` (unchanged for NONE)."""
    if correction is Correction.BONFERRONI:
        return bonferroni(p_values)
    if correction is Correction.BENJAMINI_HOCHBERG:
        return benjamini_hochberg(p_values)
    return [float(p) for p in p_values]
