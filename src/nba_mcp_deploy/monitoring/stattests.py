"""One pure function per drift statistic, each with an explicit threshold.

Every function takes a prepared reference (`samples.prepare_numeric` / `prepare_categorical`) and a
prepared current sample, and returns a `DriftStatistic`. Neither sample may be empty: callers
(see `drift.py`) turn an empty sample into a result that says so.

Empty bins (PSI, KL, Jensen-Shannon): each bin's share is floored at `EMPTY_BIN_FLOOR` (1e-4)
before the formula, in both samples, so an empty bin adds a large but finite term instead of an
infinity; shares are not renormalised after the floor (the usual practice, and what a reader
computing PSI by hand expects).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nba_mcp_deploy.monitoring.grid import ks_statistic as grid_ks_statistic
from nba_mcp_deploy.monitoring.ks_pvalue import ks_p_value
from nba_mcp_deploy.monitoring.methods import DriftMethod
from nba_mcp_deploy.monitoring.samples import (
    CategoricalReference,
    CurrentSample,
    FloatArray,
    NumericReference,
    bin_counts,
    category_counts,
)

EMPTY_BIN_FLOOR = 1e-4


@dataclass(frozen=True)
class DriftStatistic:
    """What one statistic says about one feature."""

    method: DriftMethod
    score: float
    p_value: float | None
    threshold: float
    is_drift: bool
    bins: int | None = None
    note: str | None = None


def _decide(
    method: DriftMethod,
    score: float,
    p_value: float | None,
    threshold: float,
    *,
    bins: int | None = None,
    note: str | None = None,
) -> DriftStatistic:
    return DriftStatistic(
        method=method,
        score=score,
        p_value=p_value,
        threshold=threshold,
        is_drift=method.is_drift(score, p_value, threshold),
        bins=bins,
        note=note,
    )


def ks_statistic(reference: NumericReference, current: FloatArray) -> float:
    """The two-sided KS statistic sup|F_ref - F_cur|, equal bit for bit to scipy's (ties included).

    scipy evaluates both ECDFs at every point of the merged sample. Between two distinct reference
    values the reference ECDF is flat while the current one rises, so the extremes of the
    difference are found at the reference values themselves and just below them (at the last
    current value under the next reference value); two searchsorted calls over the sorted current
    sample give both, without merging or re-sorting the reference.
    """
    n2 = current.shape[0]
    unique = reference.unique_values
    cdf_ref = reference.cdf
    count_at_or_below = np.searchsorted(current, unique, side="right")
    at_or_below = count_at_or_below / n2
    # Current values equal to a reference value (ties across samples) are the only reason the
    # counts below and at-or-below differ; look those few up instead of searching every value twice.
    last_at_or_below = current[np.maximum(count_at_or_below - 1, 0)]
    tied = np.flatnonzero((last_at_or_below == unique) & (count_at_or_below > 0))
    if tied.shape[0]:
        count_below = count_at_or_below.copy()
        count_below[tied] = np.searchsorted(current, unique[tied], side="left")
        below = count_below / n2
    else:
        below = at_or_below
    diff_at = cdf_ref - at_or_below
    diff_before = np.empty_like(diff_at)
    diff_before[0] = -below[0]
    np.subtract(cdf_ref[:-1], below[1:], out=diff_before[1:])
    max_s = max(float(diff_at.max()), float(diff_before.max()), 0.0)
    min_s = min(float(diff_at.min()), float(diff_before.min()), 0.0)
    min_s = float(np.clip(-min_s, 0.0, 1.0))
    return min_s if min_s > max_s else max_s


def ks_test(reference: NumericReference, current: CurrentSample, *, threshold: float) -> DriftStatistic:
    """Two-sample Kolmogorov-Smirnov test; drift when the p-value is below `threshold`.

    Statistic and p-value equal `scipy.stats.ks_2samp(ref, cur)` ("auto" method) on the finite
    values, to floating-point precision.
    """
    if reference.grid is not None:
        bucketed = current.against(reference.grid)
        edge_buckets = reference.grid.ids(reference.bin_edges)
        d = grid_ks_statistic(reference.sorted_values, reference.grid, bucketed, also_open=edge_buckets)
    else:
        d = ks_statistic(reference, current.sorted_values)

    def from_scipy() -> tuple[float, float]:
        from scipy.stats import ks_2samp

        result = ks_2samp(reference.sorted_values, current.sorted_values)
        return float(result.statistic), float(result.pvalue)

    statistic, p_value = ks_p_value(d, reference.size, current.size, from_scipy)
    return _decide(DriftMethod.KS_TEST, statistic, p_value, threshold)


def binned_shares(reference: NumericReference, current: CurrentSample) -> tuple[FloatArray, FloatArray]:
    """Reference and current shares in the reference-quantile bins, floored at EMPTY_BIN_FLOOR."""
    ref = reference.bin_counts / reference.size
    cur = bin_counts(reference, current) / current.size
    return np.maximum(ref, EMPTY_BIN_FLOOR), np.maximum(cur, EMPTY_BIN_FLOOR)


def psi(reference: NumericReference, current: CurrentSample, *, threshold: float) -> DriftStatistic:
    """Population stability index sum((cur - ref) * ln(cur / ref)) over reference-quantile bins."""
    ref, cur = binned_shares(reference, current)
    score = float(np.sum((cur - ref) * np.log(cur / ref)))
    return _decide(DriftMethod.PSI, score, None, threshold, bins=int(ref.shape[0]))


def kl_divergence(reference: NumericReference, current: CurrentSample, *, threshold: float) -> DriftStatistic:
    """KL(reference ‖ current) = sum(ref * ln(ref / cur)) in nats, over reference-quantile bins."""
    ref, cur = binned_shares(reference, current)
    score = float(np.sum(ref * np.log(ref / cur)))
    return _decide(DriftMethod.KL_DIVERGENCE, score, None, threshold, bins=int(ref.shape[0]))


def jensen_shannon(reference: NumericReference, current: CurrentSample, *, threshold: float) -> DriftStatistic:
    """Jensen-Shannon distance (square root of the JS divergence, nats) over reference-quantile bins.

    The floored shares are renormalised first (a distance between distributions needs them),
    which matches `scipy.spatial.distance.jensenshannon` on the floored shares.
    """
    ref, cur = binned_shares(reference, current)
    p = ref / ref.sum()
    q = cur / cur.sum()
    m = (p + q) / 2
    divergence = (np.sum(p * np.log(p / m)) + np.sum(q * np.log(q / m))) / 2
    score = math.sqrt(max(float(divergence), 0.0))
    return _decide(DriftMethod.JENSEN_SHANNON, score, None, threshold, bins=int(p.shape[0]))


def wasserstein_distance(reference: NumericReference, current: FloatArray) -> float:
    """The first Wasserstein (earth mover's) distance: the integral of |F_ref - F_cur|.

    The two sorted samples are merged by position (one searchsorted), and both ECDFs are running
    integer counts along the merge; tied values only create zero-width steps, so their order in
    the merge does not matter.
    """
    unique = reference.unique_values
    n_unique, n2 = unique.shape[0], current.shape[0]
    cur_slots = np.searchsorted(unique, current, side="right") + np.arange(n2)
    is_cur = np.zeros(n_unique + n2, dtype=bool)
    is_cur[cur_slots] = True
    merged = np.empty(n_unique + n2)
    merged[cur_slots] = current
    is_ref = ~is_cur
    merged[is_ref] = unique
    ref_weights = np.zeros(n_unique + n2, dtype=np.int64)
    ref_weights[is_ref] = np.diff(reference.cumulative_counts, prepend=0)
    cdf_ref = np.cumsum(ref_weights)[:-1] / reference.size
    cdf_cur = np.cumsum(is_cur)[:-1] / n2
    return float(np.sum(np.abs(cdf_ref - cdf_cur) * np.diff(merged)))


def wasserstein_normed(reference: NumericReference, current: CurrentSample, *, threshold: float) -> DriftStatistic:
    """W1(reference, current) / std(reference): the shift in reference standard deviations.

    A constant reference has no spread to scale by: the raw distance is reported with a note.
    """
    distance = wasserstein_distance(reference, current.sorted_values)
    if reference.std > 0:
        return _decide(DriftMethod.WASSERSTEIN, distance / reference.std, None, threshold)
    note = "reference is constant: the distance is not divided by its (zero) standard deviation"
    return _decide(DriftMethod.WASSERSTEIN, distance, None, threshold, note=note)


def chi_square(reference: CategoricalReference, current_values: Any, *, threshold: float) -> DriftStatistic:
    """Chi-square test of homogeneity on the 2 x K table of category counts (reference, current).

    Categories seen in only one sample are kept (their column still has a positive total), so a
    new category raises the statistic instead of dividing by zero. Drift when p < `threshold`.
    """
    from scipy.stats import chi2

    counts, _ = category_counts(current_values)
    ref_counts = dict(zip(reference.categories, reference.counts.tolist(), strict=True))
    categories = list(reference.categories) + [c for c in counts if c not in ref_counts]
    table = np.array(
        [[ref_counts.get(c, 0) for c in categories], [counts.get(c, 0) for c in categories]],
        dtype=np.float64,
    )
    if table.shape[1] < 2:
        note = "one category in both samples: nothing can have shifted"
        return _decide(DriftMethod.CHI_SQUARE, 0.0, 1.0, threshold, bins=table.shape[1], note=note)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    p_value = float(chi2.sf(statistic, dof))
    return _decide(DriftMethod.CHI_SQUARE, statistic, p_value, threshold, bins=table.shape[1])
