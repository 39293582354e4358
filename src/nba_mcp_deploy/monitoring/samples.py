"""Samples prepared for drift statistics: the reference once (sorted, binned), the current per check.

Missing values: NaN and ±inf are counted as missing and left out of every statistic (a KS test or
a quantile bin has no place for them); the share is reported beside each result. A reference is
prepared once, so a drift check pays only for sorting the current sample.

Bins for PSI, KL and Jensen-Shannon come from the REFERENCE quantiles (`bins` equal-frequency bins,
numpy's default linear interpolation), not from equal-width bins over both samples: equal-width
bins over both samples move with the current data and hide shifts in the tails. Repeated quantiles
(a column with ties) collapse, so a column may get fewer bins than asked; a constant column gets two
bins (<= c and > c). Bins are right-closed: (-inf, e1], (e1, e2], ..., (ek, +inf).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.monitoring.grid import BucketedSample, BucketGrid, build_grid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_BINS = 10


class _MissingShare:
    """Shared by every prepared column: the share of values left out as NaN / inf."""

    missing: int

    @property
    def size(self) -> int:
        raise NotImplementedError

    @property
    def missing_share(self) -> float:
        total = self.size + self.missing
        return self.missing / total if total else 0.0


@dataclass(frozen=True, eq=False)
class NumericReference(_MissingShare):
    """One numeric reference column, prepared once for every numeric drift statistic."""

    name: str
    sorted_values: FloatArray  # finite values, ascending
    unique_values: FloatArray  # distinct finite values, ascending
    cumulative_counts: IntArray  # number of reference values <= unique_values[k]
    cdf: FloatArray  # cumulative_counts / size, as scipy computes it
    bin_edges: FloatArray  # interior edges from reference quantiles, strictly increasing
    bin_counts: IntArray  # reference counts per bin (len(bin_edges) + 1 bins)
    missing: int  # NaN / inf values left out
    std: float  # population standard deviation (ddof=0), for the normed Wasserstein distance
    grid: BucketGrid | None = None  # None for an empty column

    @property
    def size(self) -> int:
        """Number of finite values."""
        return int(self.sorted_values.shape[0])


@dataclass(frozen=True, eq=False)
class CategoricalReference(_MissingShare):
    """One reference column read as categories (strings, or numbers taken as labels)."""

    name: str
    categories: tuple[Any, ...]
    counts: IntArray
    missing: int

    @property
    def size(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True, eq=False)
class CurrentSample(_MissingShare):
    """One current column's finite values, shared by every statistic of one check.

    Nothing is sorted up front: KS and the binned statistics work from a bucketing against the
    reference's grid (see grid.py); the full sort is made only if a statistic needs it.
    """

    name: str
    values: FloatArray
    missing: int
    _bucketed: dict[int, BucketedSample] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    @cached_property
    def sorted_values(self) -> FloatArray:
        return np.sort(self.values)

    def against(self, grid: BucketGrid) -> BucketedSample:
        """This sample bucketed on `grid` (computed once per grid)."""
        with self._lock:
            found = self._bucketed.get(id(grid))
            if found is None:
                found = BucketedSample(grid, self.values)
                self._bucketed[id(grid)] = found
            return found


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """A whole prepared reference: numeric and categorical columns, plus optional predictions."""

    numeric: dict[str, NumericReference]
    categorical: dict[str, CategoricalReference]
    rows: int
    bins: int
    predictions: NumericReference | None = None

    @property
    def feature_names(self) -> list[str]:
        return [*self.numeric, *(n for n in self.categorical if n not in self.numeric)]


def as_float_array(values: Any, name: str) -> FloatArray | None:
    """`values` as a 1-D float64 array, or None when they are not numbers (e.g. strings)."""
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(-1)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            return None
    return None


def finite_part(values: FloatArray) -> tuple[FloatArray, int]:
    """The finite values and how many were NaN / inf."""
    mask = np.isfinite(values)
    if mask.all():
        return values, 0
    kept = values[mask]
    return kept, int(values.shape[0] - kept.shape[0])


def quantile_edges(sorted_values: FloatArray, bins: int) -> FloatArray:
    """Strictly increasing interior bin edges at the reference's 1/bins, ..., (bins-1)/bins quantiles."""
    if sorted_values.shape[0] == 0:
        return np.empty(0)
    probabilities = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    edges = np.quantile(sorted_values, probabilities)
    edges = np.unique(edges)
    if edges.shape[0] == 0:
        edges = sorted_values[:1].copy()
    return edges


def bin_counts(reference: NumericReference, current: CurrentSample) -> IntArray:
    """Current counts in the reference's right-closed quantile bins, exact, without sorting."""
    if reference.grid is None:
        return bin_counts_sorted(current.sorted_values, reference.bin_edges)
    at_or_below = current.against(reference.grid).count_at_or_below(reference.bin_edges)
    bounds = np.concatenate(([0], at_or_below, [current.size]))
    return np.diff(bounds).astype(np.int64)


def bin_counts_sorted(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """Counts in the right-closed bins defined by `edges`, from already sorted values."""
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    bounds = np.concatenate(([0], at_or_below, [sorted_values.shape[0]]))
    return np.diff(bounds).astype(np.int64)


def prepare_numeric(values: Any, name: str, *, bins: int = DEFAULT_BINS) -> NumericReference:
    """Prepare a numeric reference column (sort, distinct values and their CDF, quantile bins)."""
    check_bins(bins)
    array = as_float_array(values, name)
    if array is None:
        raise InvalidInputError(f"reference column {name!r}", values, "numeric methods need numbers")
    finite, missing = finite_part(array)
    ordered = np.sort(finite)
    if ordered.shape[0]:
        is_last = np.empty(ordered.shape[0], dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=is_last[:-1])
        is_last[-1] = True
        unique = ordered[is_last]
        counts_at_or_below = (np.flatnonzero(is_last) + 1).astype(np.int64)
        cdf = counts_at_or_below / ordered.shape[0]
        std = float(np.std(ordered))
    else:
        unique, cdf, std = np.empty(0), np.empty(0), 0.0
        counts_at_or_below = np.empty(0, dtype=np.int64)
    edges = quantile_edges(ordered, bins)
    return NumericReference(
        grid=build_grid(ordered) if ordered.shape[0] else None,
        name=name,
        sorted_values=ordered,
        unique_values=unique,
        cumulative_counts=counts_at_or_below,
        cdf=cdf,
        bin_edges=edges,
        bin_counts=bin_counts_sorted(ordered, edges),
        missing=missing,
        std=std,
    )


def is_missing_label(value: Any) -> bool:
    """None, NaN and inf are missing; anything else is a category."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return not np.isfinite(value)
    return False


def category_counts(values: Any) -> tuple[dict[Any, int], int]:
    """Counts per category (numbers and strings kept as they are) and the number missing."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        floats = array.astype(np.float64, copy=False).reshape(-1)
        finite, missing = finite_part(floats)
        labels, counts = np.unique(finite, return_counts=True)
        return {float(k): int(c) for k, c in zip(labels, counts, strict=True)}, missing
    out: dict[Any, int] = {}
    missing = 0
    for value in array.reshape(-1).tolist():
        if is_missing_label(value):
            missing += 1
        else:
            out[value] = out.get(value, 0) + 1
    return out, missing


def prepare_categorical(values: Any, name: str) -> CategoricalReference:
    """Prepare a reference column for the chi-square test."""
    counts, missing = category_counts(values)
    categories = tuple(sorted(counts, key=lambda c: (type(c).__name__, c)))
    return CategoricalReference(
        name=name,
        categories=categories,
        counts=np.array([counts[c] for c in categories], dtype=np.int64),
        missing=missing,
    )


def prepare_current(values: Any, name: str) -> CurrentSample:
    """The finite part of a current numeric column, for all statistics of one check."""
    array = as_float_array(values, name)
    if array is None:
        raise InvalidInputError(f"current column {name!r}", values, "numeric methods need numbers")
    finite, missing = finite_part(array)
    return CurrentSample(name=name, values=finite, missing=missing)


def prepare_reference(
    columns: dict[str, Any],
    *,
    bins: int = DEFAULT_BINS,
    prediction_column: str | None = None,
) -> ReferenceData:
    """Prepare every column: numbers get the numeric preparation, other columns are categorical.

    Numeric columns with few distinct values are also prepared as categories, so chi-square
    works on coded categorical features (e.g. a 0/1 home flag).
    """
    check_bins(bins)
    numeric: dict[str, NumericReference] = {}
    categorical: dict[str, CategoricalReference] = {}
    rows = 0
    predictions = None
    for name, values in columns.items():
        array = np.asarray(values)
        rows = max(rows, int(array.reshape(-1).shape[0]))
        if name == prediction_column:
            predictions = prepare_numeric(array, name, bins=bins)
            continue
        floats = as_float_array(array, name)
        if floats is not None:
            numeric[name] = prepare_numeric(floats, name, bins=bins)
        else:
            categorical[name] = prepare_categorical(array, name)
    return ReferenceData(
        numeric=numeric,
        categorical=categorical,
        rows=rows,
        bins=bins,
        predictions=predictions,
    )


def categorical_view(reference: ReferenceData, name: str) -> CategoricalReference:
    """The reference column as categories (numeric columns are read as labels, built on demand)."""
    if name in reference.categorical:
        return reference.categorical[name]
    column = reference.numeric[name]
    labels, counts = np.unique(column.sorted_values, return_counts=True)
    return CategoricalReference(
        name=name,
        categories=tuple(float(v) for v in labels),
        counts=counts.astype(np.int64),
        missing=column.missing,
    )


def check_bins(bins: Any) -> int:
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= 1000:
        raise InvalidInputError("bins", bins, "must be a whole number from 2 to 1000")
    return bins
