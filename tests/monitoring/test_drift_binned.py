"""PSI, KL, Jensen-Shannon, normed Wasserstein and chi-square against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from nba_mcp_deploy.monitoring.methods import DriftMethod, parse_method, psi_reading
from nba_mcp_deploy.monitoring.samples import prepare_categorical, prepare_current, prepare_numeric
from nba_mcp_deploy.monitoring.stattests import (
    EMPTY_BIN_FLOOR,
    chi_square,
    jensen_shannon,
    kl_divergence,
    psi,
    wasserstein_normed,
)


def _direct_shares(reference: np.ndarray, current: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference-quantile bins built the plain way: np.quantile, then np.histogram on closed edges."""
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))

    def counts(x: np.ndarray) -> np.ndarray:  # right-closed bins (-inf, e1], (e1, e2], ..., (ek, inf)
        at_or_below = (x[:, None] <= inner[None, :]).sum(axis=0)
        return np.diff(np.concatenate(([0], at_or_below, [x.shape[0]])))

    ref = np.maximum(counts(reference) / reference.shape[0], EMPTY_BIN_FLOOR)
    cur = np.maximum(counts(current) / current.shape[0], EMPTY_BIN_FLOOR)
    return ref, cur


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("bins", [10, 4, 25])
def test_psi_kl_js_match_direct_numpy(seed: int, bins: int) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.gamma(2.0, size=int(rng.integers(50, 1500)))
    current = rng.gamma(2.0 + seed / 10, size=int(rng.integers(20, 1500)))
    if seed % 3 == 0:
        current = np.round(current)  # ties and empty bins in the current sample
    ref_shares, cur_shares = _direct_shares(reference, current, bins)
    prepared = prepare_numeric(reference, "x", bins=bins)
    sample = prepare_current(current, "x")
    expected_psi = np.sum((cur_shares - ref_shares) * np.log(cur_shares / ref_shares))
    expected_kl = np.sum(ref_shares * np.log(ref_shares / cur_shares))
    expected_js = distance.jensenshannon(ref_shares, cur_shares)
    assert psi(prepared, sample, threshold=0.1).score == pytest.approx(expected_psi, rel=1e-12, abs=1e-15)
    assert kl_divergence(prepared, sample, threshold=0.1).score == pytest.approx(expected_kl, rel=1e-12, abs=1e-15)
    assert jensen_shannon(prepared, sample, threshold=0.1).score == pytest.approx(expected_js, rel=1e-9, abs=1e-12)
    assert psi(prepared, sample, threshold=0.1).bins == ref_shares.shape[0]


def test_bins_come_from_reference_quantiles_not_both_samples() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=10_000)
    prepared = prepare_numeric(reference, "x", bins=10)
    assert np.allclose(prepared.bin_edges, np.quantile(reference, np.arange(1, 10) / 10))
    assert np.all(np.abs(prepared.bin_counts - 1000) <= 1)
    # a current sample far to the right changes nothing about the bins, and everything about PSI
    shifted = prepare_current(reference + 10, "x")
    result = psi(prepared, shifted, threshold=0.1)
    assert np.isfinite(result.score)
    assert result.score > 1.0
    assert result.is_drift


def test_empty_bins_give_finite_scores() -> None:
    reference = np.arange(1000.0)
    current = np.full(300, 5.0)  # everything in the first bin; nine empty bins
    prepared, sample = prepare_numeric(reference, "x"), prepare_current(current, "x")
    for test in (psi, kl_divergence, jensen_shannon):
        stat = test(prepared, sample, threshold=0.1)
        assert np.isfinite(stat.score)
        assert stat.is_drift


def test_constant_reference_column() -> None:
    prepared = prepare_numeric(np.full(200, 3.0), "c")
    assert prepared.bin_edges.tolist() == [3.0]
    same = prepare_current(np.full(50, 3.0), "c")
    moved = prepare_current(np.full(50, 4.0), "c")
    assert psi(prepared, same, threshold=0.1).score == pytest.approx(0.0)
    assert psi(prepared, moved, threshold=0.1).is_drift
    flat = wasserstein_normed(prepared, moved, threshold=0.1)
    assert flat.score == pytest.approx(1.0)
    assert flat.note
    assert "constant" in flat.note


@pytest.mark.parametrize("seed", range(10))
def test_wasserstein_normed_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = np.round(rng.normal(size=int(rng.integers(5, 3000))), seed % 3)
    current = np.round(rng.normal(0.1, 1.3, size=int(rng.integers(5, 3000))), seed % 3)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    stat = wasserstein_normed(prepare_numeric(reference, "x"), prepare_current(current, "x"), threshold=0.1)
    assert stat.score == pytest.approx(expected, rel=1e-10)
    assert stat.is_drift == (expected >= 0.1)


@pytest.mark.parametrize("seed", range(8))
def test_chi_square_matches_direct_contingency_statistic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.array(["east", "west", "intl", "g-league"])
    reference = rng.choice(labels[:3], size=500, p=[0.5, 0.3, 0.2])
    current = rng.choice(labels, size=300, p=[0.4, 0.3, 0.2, 0.1] if seed % 2 else [0.5, 0.3, 0.2, 0.0])
    stat = chi_square(prepare_categorical(reference, "region"), current, threshold=0.05)
    categories = sorted(set(reference) | set(current))
    table = np.array([[np.sum(reference == c) for c in categories], [np.sum(current == c) for c in categories]])
    expected = stats.chi2_contingency(table, correction=False)
    assert stat.score == pytest.approx(expected.statistic, rel=1e-10)
    assert stat.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)
    assert stat.is_drift == (expected.pvalue < 0.05)


def test_chi_square_single_category() -> None:
    stat = chi_square(prepare_categorical(["a"] * 10, "x"), ["a"] * 5, threshold=0.05)
    assert stat.p_value == 1.0
    assert not stat.is_drift
    assert stat.note


def test_method_names_and_psi_reading() -> None:
    assert parse_method("KS") is DriftMethod.KS_TEST
    assert parse_method("kl_divergence") is DriftMethod.KL_DIVERGENCE
    assert parse_method("JENSEN_SHANNON") is DriftMethod.JENSEN_SHANNON
    assert DriftMethod.PSI.default_threshold(0.2, 0.01) == 0.2
    assert DriftMethod.KS_TEST.default_threshold(0.2, 0.01) == 0.01
    assert [psi_reading(v) for v in (0.05, 0.2, 0.3)] == ["stable", "moderate", "significant"]
    from nba_mcp_deploy.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="allowed methods"):
        parse_method("t-test")
