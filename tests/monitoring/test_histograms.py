"""Histograms kept after a drift check: shares over shared bins, tails kept, NaN left out, the
most common categories; and the monitor keeps its latest check with them."""

from __future__ import annotations

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.monitoring import ModelMonitor
from nba_mcp_deploy.monitoring.histograms import (
    HISTOGRAM_BINS,
    OTHER,
    categorical_histogram,
    numeric_histogram,
)


def test_numeric_shares_share_edges_and_show_the_shift() -> None:
    rng = np.random.default_rng(0)
    reference = np.sort(rng.normal(0, 1, 5000))
    current = np.concatenate([rng.normal(1, 1, 4000), [np.nan, np.inf, 1e9]])
    h = numeric_histogram("x", reference, current)
    assert h.kind == "numeric" and len(h.edges) == HISTOGRAM_BINS + 1 and len(h.reference) == HISTOGRAM_BINS
    assert list(h.edges) == sorted(h.edges)
    assert sum(h.reference) == pytest.approx(1) and sum(h.current) == pytest.approx(1)
    assert (h.reference_count, h.current_count) == (5000, 4001)  # NaN and inf left out, 1e9 kept
    assert h.current[-1] >= 1 / 4001  # the far outlier lands in the last bin, not lost
    centres = (np.array(h.edges[:-1]) + np.array(h.edges[1:])) / 2
    shift = float(np.dot(centres, h.current) - np.dot(centres, h.reference))
    assert shift == pytest.approx(1.0, abs=0.15)
    expected, _ = np.histogram(np.clip(reference, h.edges[0], h.edges[-1]), bins=np.array(h.edges))
    np.testing.assert_allclose(h.reference, expected / expected.sum())


def test_a_constant_or_empty_sample_still_gives_bins() -> None:
    h = numeric_histogram("c", np.full(10, 3.0), np.array([]))
    assert h.edges[0] < 3.0 < h.edges[-1] and sum(h.reference) == pytest.approx(1) and sum(h.current) == 0


def test_categorical_keeps_the_most_common_and_sums_the_rest() -> None:
    reference = {f"team{i}": 10 for i in range(20)}
    current = ["team0"] * 50 + ["team1"] * 30 + ["new"] * 20
    h = categorical_histogram("team", reference, current, limit=3)
    assert h.kind == "categorical" and h.labels == ("team0", "team1", "new", OTHER)
    assert h.current == pytest.approx((0.5, 0.3, 0.2, 0.0))
    assert h.reference == pytest.approx((0.05, 0.05, 0.0, 0.9))


def test_the_monitor_keeps_its_latest_check_with_histograms_of_drifted_features() -> None:
    clock = ManualClock()
    monitor = ModelMonitor("m", clock=clock)
    assert monitor.latest_drift is None
    rng = np.random.default_rng(2)
    reference = {"a": rng.normal(0, 1, 800), "b": rng.normal(0, 1, 800), "c": rng.normal(0, 1, 800)}
    monitor.set_reference_data(reference)
    current = {"a": rng.normal(2, 1, 800), "b": rng.normal(0, 1, 800), "c": rng.normal(0, 3, 800)}
    report = monitor.detect_feature_drift(current, method="psi")
    latest = monitor.latest_drift
    assert latest is not None and latest.report is report and latest.checked_at == clock.now()
    assert sorted(h.feature for h in latest.histograms) == sorted(report.drifted_features) == ["a", "c"]
    clock.advance(10)
    monitor.detect_feature_drift({"a": reference["a"]}, features=["a"], version="v2")
    assert monitor.latest_drift is not None and monitor.latest_drift.version == "v2"
    assert monitor.latest_drift.histograms == ()  # nothing drifted this time
