"""Each statistic against an independent reference: scipy, a published value, or the formula
computed here from scratch; and their behaviour under the null and at the planned power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.means import welch_ttest
from nba_mcp_deploy.experiments.power import sample_size_means, sample_size_proportions
from nba_mcp_deploy.experiments.proportions import (
    compare_proportions,
    fisher_exact,
    fisher_exact_p,
    needs_exact_test,
    newcombe_interval,
    two_proportion_ztest,
    wilson_interval,
)
from nba_mcp_deploy.experiments.ranks import mann_whitney_u, median_standard_error
from nba_mcp_deploy.experiments.twosample import Method

Z975 = stats.norm.ppf(0.975)


def random_tables(count: int, seed: int, max_n: int = 40) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(count):
        n_a, n_b = (int(x) for x in rng.integers(1, max_n, size=2))
        tables.append((int(rng.integers(0, n_a + 1)), n_a, int(rng.integers(0, n_b + 1)), n_b))
    return tables


def test_fisher_exact_matches_scipy() -> None:
    for table in [*random_tables(300, seed=1), (0, 5, 0, 7), (9, 9, 4, 4), (1, 1000, 9, 1000)]:
        s_a, n_a, s_b, n_b = table
        expected = stats.fisher_exact([[s_a, n_a - s_a], [s_b, n_b - s_b]]).pvalue
        assert fisher_exact_p(*table) == pytest.approx(expected, rel=1e-9, abs=1e-15), table


def test_z_test_is_the_uncorrected_chi_square_test_with_a_wald_interval() -> None:
    for table in random_tables(100, seed=2, max_n=2000):
        s_a, n_a, s_b, n_b = table
        result = two_proportion_ztest(*table)
        observed = np.array([[s_a, n_a - s_a], [s_b, n_b - s_b]])
        if observed.sum(axis=0).min() == 0:  # no variation at all: no evidence either way
            assert result.p_value == 1.0, table
        else:
            chi2, p, _, _ = stats.chi2_contingency(observed, correction=False)
            assert result.p_value == pytest.approx(p, rel=1e-9, abs=1e-15), table
            assert result.statistic is not None and result.statistic**2 == pytest.approx(chi2, rel=1e-9), table
            assert np.sign(result.statistic) == np.sign(s_b / n_b - s_a / n_a), table
        p_a, p_b = s_a / n_a, s_b / n_b
        half = Z975 * math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
        assert result.difference == pytest.approx(p_b - p_a), table
        assert (result.ci_low, result.ci_high) == pytest.approx((p_b - p_a - half, p_b - p_a + half), rel=1e-12)


def test_wilson_matches_scipy_and_newcombe_the_published_example() -> None:
    for successes, n in [(0, 10), (3, 10), (56, 70), (48, 80), (10, 10)]:
        expected = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
        assert wilson_interval(successes, n) == pytest.approx((expected.low, expected.high), abs=1e-12)
    # Newcombe (1998), Statistics in Medicine 17:873, Table II example (a): 56/70 - 48/80,
    # method 10 (hybrid score): 0.0524 to 0.3339.
    low, high = newcombe_interval(48, 80, 56, 70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_small_counts_use_fishers_test_large_ones_the_z_test() -> None:
    assert needs_exact_test(2, 40, 7, 40) and not needs_exact_test(20, 40, 27, 40)
    small = compare_proportions(2, 40, 7, 40)
    assert small.method is Method.FISHER_EXACT and small.statistic is None
    assert small.p_value == pytest.approx(stats.fisher_exact([[2, 38], [7, 33]]).pvalue)
    assert (small.ci_low, small.ci_high) == newcombe_interval(2, 40, 7, 40)
    assert compare_proportions(20, 40, 27, 40).method is Method.TWO_PROPORTION_Z
    assert fisher_exact(3, 3, 0, 3).difference == -1.0


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(6)
    for _ in range(40):
        a = rng.normal(0, rng.uniform(0.5, 3), size=int(rng.integers(2, 60)))
        b = rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 3), size=int(rng.integers(2, 60)))
        result = welch_ttest(a, b, confidence=0.9)
        expected = stats.ttest_ind(b, a, equal_var=False)
        assert result.statistic == pytest.approx(expected.statistic, rel=1e-10)
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
        interval = expected.confidence_interval(0.9)
        assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-9)
        assert result.difference == pytest.approx(b.mean() - a.mean())


def test_welch_on_constant_samples_and_too_few_values() -> None:
    assert welch_ttest([1, 1, 1], [1, 1]).p_value == 1.0
    different = welch_ttest([1, 1, 1], [2, 2])
    assert different.p_value == 0.0 and different.ci_low == different.ci_high == 1.0
    with pytest.raises(InvalidInputError, match=r"invalid b: got '1 finite values'; Welch's t-test needs at least 2"):
        welch_ttest([1, 2], [3, np.nan])


def test_mann_whitney_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        a = np.round(rng.lognormal(0, 0.5, size=int(rng.integers(3, 80))), int(rng.integers(0, 3)))
        b = np.round(rng.lognormal(0.2, 0.5, size=int(rng.integers(3, 80))), int(rng.integers(0, 3)))
        result = mann_whitney_u(a, b)
        expected = stats.mannwhitneyu(b, a, method="asymptotic")
        assert result.statistic == expected.statistic
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
        assert result.difference == pytest.approx(np.median(b) - np.median(a))


def test_median_interval_is_mckean_schrader_and_covers_the_true_shift() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(size=101)
    ordered = np.sort(values)
    c = round((101 + 1) / 2 - Z975 * math.sqrt(101 / 4))  # computed here from the paper's formula
    assert median_standard_error(values) == pytest.approx((ordered[101 - c] - ordered[c - 1]) / (2 * Z975))
    covered = 0
    for _ in range(300):
        a = rng.lognormal(0.0, 0.6, size=200)  # median 1
        b = rng.lognormal(np.log(1.5), 0.6, size=150)  # median 1.5
        result = mann_whitney_u(a, b)
        covered += result.ci_low <= 0.5 <= result.ci_high
    assert 0.90 <= covered / 300 <= 0.99  # nominal 95%


def test_sample_sizes_match_the_textbook_and_unequal_allocation() -> None:
    assert sample_size_proportions(0.5, 0.6) == (388, 388)  # Fleiss without continuity correction
    assert sample_size_means(1.0, 1.0, 0.5) == (63, 63)  # 2 (1.96 + 0.84)^2 / 0.5^2 = 62.8
    # A 5% canary: B gets 5/95 of A's units. Formula computed here from scratch.
    p_a, p_b, k = 0.6, 0.7, 5 / 95
    pooled = (p_a + k * p_b) / (1 + k)
    n_a = (
        Z975 * math.sqrt(pooled * (1 - pooled) * (1 + 1 / k))
        + stats.norm.ppf(0.8) * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b) / k)
    ) ** 2 / (p_b - p_a) ** 2
    assert sample_size_proportions(p_a, p_b, ratio=k) == (math.ceil(n_a), math.ceil(n_a * k))
    with pytest.raises(InvalidInputError, match="p_b"):
        sample_size_proportions(0.5, 0.5)
    with pytest.raises(InvalidInputError, match="power"):
        sample_size_proportions(0.5, 0.6, power=1.0)


def test_at_the_planned_size_the_z_test_has_the_planned_power() -> None:
    n, _ = sample_size_proportions(0.6, 0.7, alpha=0.05, power=0.8)
    rng = np.random.default_rng(3)
    hits = rng.binomial(n, 0.6, size=600), rng.binomial(n, 0.7, size=600)
    rejected = [two_proportion_ztest(int(a), n, int(b), n).p_value < 0.05 for a, b in zip(*hits, strict=True)]
    assert 0.75 <= np.mean(rejected) <= 0.85


def test_every_test_holds_its_level_under_the_null() -> None:
    rng = np.random.default_rng(4)
    reps = 2000
    z = [two_proportion_ztest(int(a), 300, int(b), 300).p_value for a, b in rng.binomial(300, 0.3, size=(reps, 2))]
    fisher = [fisher_exact_p(int(a), 40, int(b), 40) for a, b in rng.binomial(40, 0.1, size=(reps, 2))]
    welch = [welch_ttest(rng.normal(0, 1, 30), rng.normal(0, 3, 50)).p_value for _ in range(reps)]
    ranks = [mann_whitney_u(rng.lognormal(size=40), rng.lognormal(size=60)).p_value for _ in range(reps)]
    for name, p_values in (("z", z), ("welch", welch), ("mann-whitney", ranks)):
        assert 0.035 <= np.mean(np.array(p_values) < 0.05) <= 0.065, name
    assert np.mean(np.array(fisher) < 0.05) <= 0.05  # exact tests are conservative


def test_bad_counts_and_levels_are_refused_by_name() -> None:
    with pytest.raises(InvalidInputError, match=r"invalid successes_b: got 9; must be a whole number in \[0, 8\]"):
        two_proportion_ztest(1, 5, 9, 8)
    with pytest.raises(InvalidInputError, match="invalid n_a"):
        fisher_exact_p(0, 0, 1, 2)
    with pytest.raises(InvalidInputError, match="confidence"):
        welch_ttest([1, 2, 3], [2, 3, 4], confidence=1.5)
