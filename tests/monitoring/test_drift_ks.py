"""KS statistic and p-value against scipy.stats.ks_2samp, on many seeded datasets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nba_mcp_deploy.monitoring.ks_pvalue import MAX_EXACT_N, ks_p_value
from nba_mcp_deploy.monitoring.samples import prepare_current, prepare_numeric
from nba_mcp_deploy.monitoring.stattests import ks_statistic, ks_test


def _datasets(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n1, n2 = (int(v) for v in rng.integers(1, 2500, size=2))
    kind = seed % 5
    if kind == 0:  # heavy ties: a handful of integer values, shifted support
        return rng.integers(0, 4, n1).astype(float), rng.integers(1, 6, n2).astype(float)
    if kind == 1:  # continuous, small shift
        return rng.normal(size=n1), rng.normal(0.15, 1.0, size=n2)
    if kind == 2:  # rounded: ties within and across samples
        return np.round(rng.normal(size=n1), 1), np.round(rng.normal(scale=1.2, size=n2), 1)
    if kind == 3:  # equal sizes (scipy's square exact path)
        return rng.exponential(size=n1), rng.exponential(1.1, size=n1)
    # one sample constant, the other not
    return np.full(n1, 2.0), rng.integers(0, 4, n2).astype(float)


@pytest.mark.parametrize("seed", range(60))
def test_ks_equals_scipy(seed: int) -> None:
    reference, current = _datasets(seed)
    result = ks_test(prepare_numeric(reference, "x"), prepare_current(current, "x"), threshold=0.05)
    expected = stats.ks_2samp(reference, current)
    assert result.score == pytest.approx(float(expected.statistic), abs=1e-12)
    assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-9)
    assert result.is_drift == (float(expected.pvalue) < 0.05)


@pytest.mark.parametrize(("n1", "n2"), [(MAX_EXACT_N, 3_000), (MAX_EXACT_N + 1, 800), (40_000, 25_000)])
def test_ks_equals_scipy_around_the_exact_limit(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 + n2)
    reference = np.round(rng.normal(size=n1), 2)
    current = np.round(rng.normal(0.03, 1.0, size=n2), 2)
    result = ks_test(prepare_numeric(reference, "x"), prepare_current(current, "x"), threshold=0.05)
    expected = stats.ks_2samp(reference, current)
    assert result.score == pytest.approx(float(expected.statistic), abs=1e-12)
    assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-9)


def test_ks_statistic_is_bit_identical_to_scipy_on_ties() -> None:
    rng = np.random.default_rng(7)
    reference = rng.integers(0, 30, 20_000).astype(float)
    current = rng.integers(2, 33, 15_000).astype(float)
    d = ks_statistic(prepare_numeric(reference, "x"), np.sort(current))
    assert d == float(stats.ks_2samp(reference, current).statistic)


def test_nan_and_inf_are_left_out_and_counted() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=500)
    current = rng.normal(size=400)
    dirty = current.copy()
    dirty[:40] = np.nan
    dirty[40:50] = np.inf
    dirty[50:55] = -np.inf
    sample = prepare_current(dirty, "x")
    assert sample.missing == 55
    assert sample.missing_share == pytest.approx(55 / 400)
    result = ks_test(prepare_numeric(reference, "x"), sample, threshold=0.05)
    expected = stats.ks_2samp(reference, current[55:])
    assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-9)


def test_exact_fallback_is_used_when_the_helper_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from nba_mcp_deploy.monitoring import ks_pvalue

    monkeypatch.setattr(ks_pvalue, "_scipy_exact", lambda: None)
    rng = np.random.default_rng(11)
    reference, current = rng.normal(size=300), rng.normal(0.3, size=200)
    result = ks_test(prepare_numeric(reference, "x"), prepare_current(current, "x"), threshold=0.05)
    expected = stats.ks_2samp(reference, current)
    assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-12)
    with pytest.raises(RuntimeError):
        ks_p_value(0.1, 10, 10, None)
