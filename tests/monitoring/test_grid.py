"""The bucket grid gives exactly scipy's KS statistic and exact bin counts, whatever the data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from nba_mcp_deploy.monitoring.grid import BucketedSample, build_grid, ks_statistic
from nba_mcp_deploy.monitoring.samples import bin_counts_sorted, prepare_current, prepare_numeric, quantile_edges
from nba_mcp_deploy.monitoring.stattests import ks_test

values = st.one_of(
    st.integers(-5, 5).map(float),  # heavy ties
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1e-300, -0.0, 5e-324, 1e300]),
)


def exact_counts_at_or_below(sample: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.sort(sample), thresholds, side="right")


def brute_force_statistic(ref: np.ndarray, cur: np.ndarray) -> float:
    """Both ECDFs evaluated at every data point, as scipy's ks_2samp does before any rounding."""
    points = np.concatenate((ref, cur))
    ref_cdf = np.searchsorted(np.sort(ref), points, side="right") / ref.shape[0]
    cur_cdf = np.searchsorted(np.sort(cur), points, side="right") / cur.shape[0]
    return float(np.abs(ref_cdf - cur_cdf).max())


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(values, min_size=1, max_size=300), st.lists(values, min_size=1, max_size=300))
def test_ks_statistic_equals_the_brute_force_one(reference: list[float], current: list[float]) -> None:
    ref = np.sort(np.array(reference))
    cur = np.array(current)
    grid = build_grid(ref)
    assert ks_statistic(ref, grid, BucketedSample(grid, cur)) == brute_force_statistic(ref, cur)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(values, min_size=1, max_size=200), st.lists(values, min_size=1, max_size=200))
def test_ks_test_equals_scipy(reference: list[float], current: list[float]) -> None:
    result = ks_test(prepare_numeric(np.array(reference), "x"), prepare_current(np.array(current), "x"), threshold=0.05)
    expected = stats.ks_2samp(np.array(reference), np.array(current))
    assert result.score == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(values, min_size=2, max_size=300), st.lists(values, min_size=1, max_size=300))
def test_counts_at_or_below_are_exact(reference: list[float], current: list[float]) -> None:
    ref = np.sort(np.array(reference))
    cur = np.array(current)
    grid = build_grid(ref)
    thresholds = np.unique(np.concatenate((ref, cur, [-2e6, 2e6])))
    counted = BucketedSample(grid, cur).count_at_or_below(thresholds)
    np.testing.assert_array_equal(counted, exact_counts_at_or_below(cur, thresholds))


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.2, 3.0, 50.0])
def test_large_samples_open_few_buckets_and_stay_exact(shift: float) -> None:
    rng = np.random.default_rng(11)
    ref = np.sort(rng.normal(size=200_000))
    cur = rng.normal(size=150_000) + shift
    grid = build_grid(ref)
    bucketed = BucketedSample(grid, cur)
    assert ks_statistic(ref, grid, bucketed) == stats.ks_2samp(ref, cur).statistic  # asymptotic: not rounded
    assert bucketed.opened_points().shape[0] < cur.shape[0] // 4  # the point: most values stay unsorted


def test_binned_counts_through_samples_match_a_sort() -> None:
    rng = np.random.default_rng(3)
    reference = prepare_numeric(np.round(rng.normal(size=50_000), 2), "x", bins=10)
    current = prepare_current(np.round(rng.normal(size=40_000) * 1.3, 2), "x")
    from nba_mcp_deploy.monitoring.samples import bin_counts

    np.testing.assert_array_equal(
        bin_counts(reference, current), bin_counts_sorted(np.sort(current.values), reference.bin_edges)
    )
    assert reference.bin_edges.tolist() == quantile_edges(reference.sorted_values, 10).tolist()


def test_constant_reference_uses_one_bucket() -> None:
    ref = np.full(1000, 3.0)
    cur = np.array([2.0, 3.0, 3.0, 4.0])
    grid = build_grid(ref)
    assert grid.inner == 1
    assert ks_statistic(ref, grid, BucketedSample(grid, cur)) == brute_force_statistic(ref, cur)
