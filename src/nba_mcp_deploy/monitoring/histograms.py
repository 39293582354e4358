"""Small histograms of reference versus current data, kept after a drift check for the dashboard.

A drift check has both samples in hand; the dashboard shows them later, long after the current
sample is gone. So at check time each drifted feature is reduced to a few dozen shares:

- numeric: `bins` equal-width bins over both samples' 0.5-99.5 % range (shared edges, so the two
  histograms overlay); values beyond the range are counted in the end bins, NaN / inf left out;
- categorical: the most common categories of both samples, the rest summed as "(other)".

Shares sum to 1 per sample (0 for an empty sample), so samples of different sizes compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nba_mcp_deploy.monitoring.drift import DriftReport, FeatureDriftResult
from nba_mcp_deploy.monitoring.samples import (
    FloatArray,
    ReferenceData,
    as_float_array,
    category_counts,
    finite_part,
)

HISTOGRAM_BINS = 24
MAX_HISTOGRAMS = 6
MAX_CATEGORIES = 12
OTHER = "(other)"
TAIL = 0.005


@dataclass(frozen=True)
class FeatureHistogram:
    """Reference and current shares of one feature over shared bins (numeric) or labels."""

    feature: str
    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...]  # numeric: len(reference) + 1 edges; categorical: empty
    labels: tuple[str, ...]  # categorical: one per share; numeric: empty
    reference: tuple[float, ...]
    current: tuple[float, ...]
    reference_count: int
    current_count: int


@dataclass(frozen=True)
class LatestDrift:
    """A model's most recent feature-drift check: the report and its drifted features' histograms."""

    checked_at: float
    version: str | None
    report: DriftReport
    histograms: tuple[FeatureHistogram, ...]


def _shares(counts: Any) -> tuple[float, ...]:
    array = np.asarray(counts, dtype=np.float64)
    total = float(array.sum())
    return tuple(float(x) for x in (array / total if total > 0 else array))


def _sorted_quantile(sorted_values: FloatArray, q: float) -> float:
    return float(sorted_values[round(q * (sorted_values.shape[0] - 1))])


def numeric_histogram(
    name: str, reference_sorted: FloatArray, current: FloatArray, bins: int = HISTOGRAM_BINS
) -> FeatureHistogram:
    """Shares of both samples over shared equal-width edges (reference already sorted and finite)."""
    current, _ = finite_part(current)
    lows, highs = [], []
    if reference_sorted.shape[0]:
        lows.append(_sorted_quantile(reference_sorted, TAIL))
        highs.append(_sorted_quantile(reference_sorted, 1 - TAIL))
    if current.shape[0]:
        low_q, high_q = np.quantile(current, [TAIL, 1 - TAIL])
        lows.append(float(low_q))
        highs.append(float(high_q))
    low, high = (min(lows), max(highs)) if lows else (0.0, 1.0)
    if not high > low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    inner = edges[1:-1]
    below = np.searchsorted(reference_sorted, inner, side="left")
    reference_counts = np.diff(np.concatenate(([0], below, [reference_sorted.shape[0]])))
    current_counts, _ = np.histogram(np.clip(current, low, high), bins=edges)
    return FeatureHistogram(
        feature=name,
        kind="numeric",
        edges=tuple(float(e) for e in edges),
        labels=(),
        reference=_shares(reference_counts),
        current=_shares(current_counts),
        reference_count=int(reference_sorted.shape[0]),
        current_count=int(current.shape[0]),
    )


def categorical_histogram(
    name: str, reference_counts: Mapping[Any, int], current_values: Any, limit: int = MAX_CATEGORIES
) -> FeatureHistogram:
    """Shares of the most common categories of both samples; the rest summed as '(other)'."""
    current_counts, _ = category_counts(current_values)
    ref_total = max(sum(reference_counts.values()), 1)
    cur_total = max(sum(current_counts.values()), 1)
    combined = {
        key: reference_counts.get(key, 0) / ref_total + current_counts.get(key, 0) / cur_total
        for key in {*reference_counts, *current_counts}
    }
    shown = sorted(combined, key=lambda key: (-combined[key], str(key)))[:limit]
    reference = [reference_counts.get(key, 0) for key in shown]
    current = [current_counts.get(key, 0) for key in shown]
    labels = [str(key) for key in shown]
    if len(combined) > limit:
        labels.append(OTHER)
        reference.append(sum(reference_counts.values()) - sum(reference))
        current.append(sum(current_counts.values()) - sum(current))
    return FeatureHistogram(
        feature=name,
        kind="categorical",
        edges=(),
        labels=tuple(labels),
        reference=_shares(reference),
        current=_shares(current),
        reference_count=int(sum(reference_counts.values())),
        current_count=int(sum(current_counts.values())),
    )


def _histogram(reference: ReferenceData, result: FeatureDriftResult, values: Any) -> FeatureHistogram:
    name = result.feature
    floats = None if result.method.value == "chi_square" else as_float_array(values, name)
    if name in reference.numeric and floats is not None:
        return numeric_histogram(name, reference.numeric[name].sorted_values, floats)
    if name in reference.categorical:
        column = reference.categorical[name]
        counts = dict(zip(column.categories, column.counts.tolist(), strict=True))
    else:
        counts = category_counts(reference.numeric[name].sorted_values)[0]
    return categorical_histogram(name, counts, values)


def drift_histograms(
    reference: ReferenceData, current: Mapping[str, Any], report: DriftReport, *, top: int = MAX_HISTOGRAMS
) -> tuple[FeatureHistogram, ...]:
    """Histograms of the report's `top` most drifted features present in both samples."""
    chosen = [r for r in report.ranked() if r.is_drift and r.score is not None and r.feature in current][:top]
    return tuple(_histogram(reference, result, current[result.feature]) for result in chosen)
