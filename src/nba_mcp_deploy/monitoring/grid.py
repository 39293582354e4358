"""Exact drift statistics without sorting the current sample: a bucket grid over the reference.

Sorting a large current sample would be most of a drift check. Instead, the reference's range
is cut once into equal-width buckets; a current sample is bucketed with one vectorised formula
and one `bincount`, in linear time. The bucket function is monotone in the value and
the same for both samples, so every bucket is an interval holding a contiguous run of the sorted
reference, and cumulative counts at bucket boundaries are exact.

From those counts the KS statistic is bounded from both sides: at each boundary the ECDF
difference is an attained value (the one at the last data point before it), and inside a bucket
it cannot leave the interval spanned by the counts at its two ends. Only the few buckets whose
upper bound beats the best attained value are opened: their current values are extracted and
sorted, and the ECDFs are evaluated exactly at every data point in them, as scipy does. The
result is the same statistic, bit for bit, as `scipy.stats.ks_2samp`.

The same exact "count at or below x" serves the quantile bins of PSI, KL and Jensen-Shannon: the
buckets holding a bin edge are opened too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_BUCKETS = 16
MAX_BUCKETS = 65_536
VALUES_PER_BUCKET = 16


@dataclass(frozen=True, eq=False)
class BucketGrid:
    """Equal-width buckets over a reference column's range, with reference counts below each.

    Bucket 0 holds values below the reference's minimum, buckets 1..`inner` its range, and bucket
    `inner` + 1 values above its maximum: a current sample that moved out of the reference's range
    then sits in a bucket with no reference value, which the KS bounds never need to open.
    """

    low: float
    high: float
    scale: float  # inner buckets per unit of value (0 for a constant reference: one inner bucket)
    inner: int
    ref_below: IntArray  # ref_below[b] = reference values in buckets < b; len inner + 3

    @property
    def buckets(self) -> int:
        return self.inner + 2

    def ids(self, values: FloatArray) -> npt.NDArray[np.intp]:
        """The bucket of each value; monotone non-decreasing in the value."""
        if values.shape[0] == 0:
            return np.empty(0, dtype=np.intp)
        with np.errstate(over="ignore", invalid="ignore"):  # huge values become +-inf: clipped below
            raw = values - self.low
            raw *= self.scale
            np.floor(raw, out=raw)
            np.clip(raw, 0, self.inner - 1, out=raw)
        ids = raw.astype(np.intp)
        ids += 1
        if values.min() < self.low:
            ids[values < self.low] = 0
        if values.max() > self.high:
            ids[values > self.high] = self.inner + 1
        return ids


def build_grid(sorted_values: FloatArray) -> BucketGrid:
    """The grid of a sorted, finite, non-empty reference column."""
    size = sorted_values.shape[0]
    inner = int(np.clip(size // VALUES_PER_BUCKET, MIN_BUCKETS, MAX_BUCKETS))
    low, high = float(sorted_values[0]), float(sorted_values[-1])
    span = high - low
    scale = inner / span if span > 0 and np.isfinite(inner / span) else 0.0
    inner = inner if scale else 1
    grid = BucketGrid(low=low, high=high, scale=scale, inner=inner, ref_below=np.empty(0, np.int64))
    ref_ids = grid.ids(sorted_values)  # non-decreasing, because the values are sorted
    below = np.searchsorted(ref_ids, np.arange(grid.buckets + 1), side="left").astype(np.int64)
    return BucketGrid(low=low, high=high, scale=scale, inner=inner, ref_below=below)


class BucketedSample:
    """A current sample against one grid: bucket counts, and exact counts below any threshold.

    Thread-safe enough for one drift check (the statistics of a feature run in one thread).
    """

    def __init__(self, grid: BucketGrid, values: FloatArray) -> None:
        self.grid = grid
        self.size = int(values.shape[0])
        self._values = values
        self._ids = grid.ids(values)
        counts = np.bincount(self._ids, minlength=grid.buckets)
        self.below = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)  # len buckets + 1
        self._opened = np.zeros(grid.buckets, dtype=bool)
        self._points = np.empty(0)
        self._point_ids = np.empty(0, dtype=np.intp)
        self._lock = threading.Lock()

    def open(self, buckets: npt.NDArray[np.intp]) -> None:
        """Make the current values of `buckets` available for exact counts (extract and sort once)."""
        with self._lock:
            if self._opened[buckets].all():
                return
            self._opened[buckets] = True
            points = np.sort(self._values[self._opened[self._ids]])
            self._points = points
            self._point_ids = self.grid.ids(points)

    def count_at_or_below(self, thresholds: FloatArray) -> IntArray:
        """Exact number of current values <= each threshold (its bucket is opened if needed)."""
        buckets = self.grid.ids(thresholds)
        self.open(buckets)
        with self._lock:
            points, point_ids = self._points, self._point_ids
        within = np.searchsorted(points, thresholds, side="right") - np.searchsorted(point_ids, buckets, side="left")
        return (self.below[buckets] + within).astype(np.int64)

    def opened_points(self) -> FloatArray:
        with self._lock:
            return self._points


def ks_statistic(
    sorted_reference: FloatArray,
    grid: BucketGrid,
    current: BucketedSample,
    also_open: npt.NDArray[np.intp] | None = None,
) -> float:
    """sup |F_ref - F_cur|, equal to scipy's two-sample KS statistic (ties included).

    `also_open`: buckets other statistics of the same check will need (the quantile-bin edges),
    opened in the same pass over the current values.
    """
    n, m = sorted_reference.shape[0], current.size
    ref_below, cur_below = grid.ref_below, current.below
    at_boundaries = np.abs(ref_below / n - cur_below / m)
    attained = float(at_boundaries.max())
    # Inside bucket b the difference stays between these two (float division and subtraction
    # are monotone, so the bound also holds for the values as computed).
    upper = np.maximum(
        np.abs(ref_below[1:] / n - cur_below[:-1] / m),
        np.abs(ref_below[:-1] / n - cur_below[1:] / m),
    )
    candidates = np.flatnonzero(upper > attained)
    if candidates.shape[0] == 0:
        return attained
    current.open(candidates if also_open is None else np.concatenate((candidates, also_open)))
    starts, ends = ref_below[candidates], ref_below[candidates + 1]
    reference_points = sorted_reference[_ranges(starts, ends)]
    # Every opened current value is a data point; evaluating at more points than needed is harmless.
    points = np.concatenate((current.opened_points(), reference_points))
    cdf_ref = np.searchsorted(sorted_reference, points, side="right") / n
    cdf_cur = current.count_at_or_below(points) / m
    return max(attained, float(np.abs(cdf_ref - cdf_cur).max()))


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """Concatenated aranges [starts[i], ends[i]) without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return offsets + np.arange(total)
