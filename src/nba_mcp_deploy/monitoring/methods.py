"""The drift methods, their default thresholds, and how the config's thresholds map onto them.

| method | score | drift when | default threshold |
|--------|-------|------------|-------------------|
| `KS_TEST` | two-sample KS statistic D | p-value < threshold | `drift_significance` 0.05 |
| `PSI` | population stability index | score >= threshold | `drift_threshold` 0.1 |
| `KL_DIVERGENCE` | KL(reference ‖ current), nats | score >= threshold | `drift_threshold` 0.1 |
| `JENSEN_SHANNON` | Jensen-Shannon distance, nats | score >= threshold | `drift_threshold` 0.1 |
| `WASSERSTEIN` | W1 / std(reference) ("normed") | score >= threshold | `drift_threshold` 0.1 |
| `CHI_SQUARE` | chi-square homogeneity statistic | p-value < threshold | `drift_significance` 0.05 |

So `DeploymentConfig.drift_threshold` (the seed's `DRIFT_THRESHOLD`, 0.1) is the cut-off of the four
distance scores, and `drift_significance` (`NBA_MCP_DRIFT_SIGNIFICANCE`, 0.05) the significance level
of the two tests. A threshold passed to a drift call overrides both.

The usual reading of PSI: below 0.1 the population is stable, 0.1 to 0.25 is a moderate shift worth
watching, above 0.25 a significant shift (the default threshold 0.1 flags moderate shifts already).
"""

from __future__ import annotations

import enum
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError

PSI_STABLE_BELOW = 0.1
PSI_SIGNIFICANT_ABOVE = 0.25


class DriftMethod(enum.StrEnum):
    """A drift statistic; the value is the short name agents pass (`method="ks"`)."""

    KS_TEST = "ks"
    PSI = "psi"
    KL_DIVERGENCE = "kl"
    JENSEN_SHANNON = "js"
    WASSERSTEIN = "wasserstein"
    CHI_SQUARE = "chi_square"

    @property
    def uses_p_value(self) -> bool:
        """Whether drift is decided by a p-value (small = drift) rather than a distance (large = drift)."""
        return self in (DriftMethod.KS_TEST, DriftMethod.CHI_SQUARE)

    @property
    def numeric_only(self) -> bool:
        """Whether the method needs ordered numbers (all but chi-square)."""
        return self is not DriftMethod.CHI_SQUARE

    def default_threshold(self, drift_threshold: float = 0.1, drift_significance: float = 0.05) -> float:
        """The threshold used when the caller gives none (see the module table)."""
        return drift_significance if self.uses_p_value else drift_threshold

    @property
    def reading(self) -> str:
        """How an agent should read this method's scores."""
        return _READINGS[self]

    def is_drift(self, score: float, p_value: float | None, threshold: float) -> bool:
        """The method's decision rule."""
        if self.uses_p_value:
            return p_value is not None and p_value < threshold
        return score >= threshold


_ALIASES: dict[str, DriftMethod] = {
    "ks": DriftMethod.KS_TEST,
    "ks_test": DriftMethod.KS_TEST,
    "kolmogorov_smirnov": DriftMethod.KS_TEST,
    "psi": DriftMethod.PSI,
    "kl": DriftMethod.KL_DIVERGENCE,
    "kl_div": DriftMethod.KL_DIVERGENCE,
    "kl_divergence": DriftMethod.KL_DIVERGENCE,
    "js": DriftMethod.JENSEN_SHANNON,
    "jensen_shannon": DriftMethod.JENSEN_SHANNON,
    "jensenshannon": DriftMethod.JENSEN_SHANNON,
    "wasserstein": DriftMethod.WASSERSTEIN,
    "wasserstein_normed": DriftMethod.WASSERSTEIN,
    "chi_square": DriftMethod.CHI_SQUARE,
    "chisquare": DriftMethod.CHI_SQUARE,
    "chi2": DriftMethod.CHI_SQUARE,
}

METHOD_RULE = "allowed methods: " + ", ".join(m.value for m in DriftMethod)


def parse_method(value: Any, field: str = "method") -> DriftMethod:
    """A `DriftMethod` from an enum member, its short name or its enum name (any case)."""
    if isinstance(value, DriftMethod):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        if key in _ALIASES:
            return _ALIASES[key]
    raise InvalidInputError(field, value, METHOD_RULE)


def psi_reading(score: float) -> str:
    """The usual words for a PSI value: stable, moderate or significant."""
    if score < PSI_STABLE_BELOW:
        return "stable"
    if score <= PSI_SIGNIFICANT_ABOVE:
        return "moderate"
    return "significant"


_READINGS = {
    DriftMethod.KS_TEST: "KS: score is the largest gap between the two CDFs (0-1); drift when the p-value is "
    "below the threshold (a significance level)",
    DriftMethod.PSI: f"PSI: < {PSI_STABLE_BELOW} stable, {PSI_STABLE_BELOW}-{PSI_SIGNIFICANT_ABOVE} moderate shift, "
    f"> {PSI_SIGNIFICANT_ABOVE} significant shift; drift when score >= threshold",
    DriftMethod.KL_DIVERGENCE: "KL divergence of current from reference bins (nats, 0 = identical); drift when "
    "score >= threshold",
    DriftMethod.JENSEN_SHANNON: "Jensen-Shannon distance (0 = identical, at most sqrt(ln 2) = 0.83); drift when "
    "score >= threshold",
    DriftMethod.WASSERSTEIN: "Wasserstein distance in reference standard deviations (0.1 = a tenth of a sd); "
    "drift when score >= threshold",
    DriftMethod.CHI_SQUARE: "chi-square test of category frequencies; drift when the p-value is below the "
    "threshold (a significance level)",
}
