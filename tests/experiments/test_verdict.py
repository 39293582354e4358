"""The A/B analysis on simulated traffic with a known truth (the pure layer, so 200 repetitions
take well under a second each): power at the planned size, false positives, per-key units."""

from __future__ import annotations

import numpy as np
import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.analysis import AnalysisSettings, VariantSample, analyze
from nba_mcp_deploy.experiments.metrics import Metric
from nba_mcp_deploy.experiments.power import sample_size_proportions
from nba_mcp_deploy.experiments.units import unit_codes, unit_means
from nba_mcp_deploy.experiments.verdict import Verdict
from nba_mcp_deploy.monitoring.performance import ModelTask

CLASSIFICATION = ModelTask.CLASSIFICATION


def sample(
    version: str,
    rng: np.random.Generator,
    n: int,
    accuracy: float,
    *,
    error_rate: float = 0.0,
    latency_scale: float = 1.0,
    with_outcomes: bool = True,
) -> VariantSample:
    """n keyless requests (each its own unit); failed requests have no outcome."""
    units = np.arange(n, dtype=np.int64)
    failed = rng.random(n) < error_rate
    correct = (rng.random(n) < accuracy).astype(np.float64)
    keep = ~failed & with_outcomes
    latency = rng.lognormal(0, 0.3, n) * latency_scale
    return VariantSample(version, units, latency, failed, units[keep], correct[keep])


def clustered(version: str, rng: np.random.Generator, keys: int, accuracy: float) -> VariantSample:
    """Sticky keys asking 1 to 20 times about the same game: a key's requests share one outcome."""
    repeats = rng.integers(1, 21, size=keys)
    units = np.repeat(np.arange(keys, dtype=np.int64), repeats)
    values = np.repeat((rng.random(keys) < accuracy).astype(np.float64), repeats)
    return VariantSample(version, units, rng.lognormal(0, 0.3, units.size), np.zeros(units.size, bool), units, values)


def per_request(s: VariantSample) -> VariantSample:
    """The same traffic analysed as if every request were independent (what per-key units prevent)."""
    rows = np.arange(s.request_units.size, dtype=np.int64)
    return VariantSample(s.version, rows, s.latency_ms, s.failed, rows, s.outcome_values)


def test_b_better_by_a_known_margin_is_found_with_the_planned_power() -> None:
    settings = AnalysisSettings(min_detectable_effect=0.1 / 0.6)  # a 0.6 -> 0.7 change
    n, _ = sample_size_proportions(0.6, 0.7, alpha=settings.alpha_per_metric, power=settings.power)
    verdicts, p_values, differences = [], [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        report = analyze("m", sample("v1", rng, n, 0.6), sample("v2", rng, n, 0.7), CLASSIFICATION, settings)
        verdicts.append(report.verdict)
        quality = next(c for c in report.comparisons if c.metric is Metric.ACCURACY)
        p_values.append(quality.test.p_value)
        differences.append(quality.test.difference)
        if report.verdict is Verdict.B_BETTER:
            assert quality.test.difference > 0 and quality.test.p_value < 0.05 and quality.test.ci_low > 0
            assert report.reason.startswith("B is better: accuracy")
    found = np.mean([v is Verdict.B_BETTER for v in verdicts])
    assert 0.72 <= found <= 0.88, found  # planned power 0.8, 200 repetitions
    assert Verdict.A_BETTER not in verdicts
    assert np.mean(differences) == pytest.approx(0.1, abs=0.01)


def test_identical_variants_give_no_difference_at_least_95_percent_of_the_time() -> None:
    settings = AnalysisSettings(min_detectable_effect=0.2)
    n = 2 * sample_size_proportions(0.6, 0.72, alpha=settings.alpha_per_metric, power=settings.power)[0]
    verdicts = []
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        report = analyze("m", sample("v1", rng, n, 0.6), sample("v2", rng, n, 0.6), CLASSIFICATION, settings)
        assert report.sample_size is not None and report.sample_size.reached
        verdicts.append(report.verdict)
    assert np.mean([v is Verdict.NO_DIFFERENCE for v in verdicts]) >= 0.95
    assert set(verdicts) <= {Verdict.NO_DIFFERENCE, Verdict.A_BETTER, Verdict.B_BETTER}


def test_a_sticky_keys_repeats_count_once_so_clustering_makes_no_false_positives() -> None:
    settings = AnalysisSettings(min_detectable_effect=0.5)
    per_key, per_row = [], []
    for seed in range(200):
        rng = np.random.default_rng(2000 + seed)
        a, b = clustered("v1", rng, 400, 0.6), clustered("v2", rng, 400, 0.6)
        per_key.append(analyze("m", a, b, CLASSIFICATION, settings).verdict)
        per_row.append(analyze("m", per_request(a), per_request(b), CLASSIFICATION, settings).verdict)
    assert np.mean([v is Verdict.NO_DIFFERENCE for v in per_key]) >= 0.95
    # Counting every request (about 10 per key) would call identical versions different far more often.
    assert np.mean([v is not Verdict.NO_DIFFERENCE for v in per_row]) > 0.3


def test_units_are_keys_or_lone_requests_and_each_unit_weighs_once() -> None:
    codes = unit_codes(["k1", None, "k2", "k1", None])
    assert codes[0] == codes[3] and len(set(codes.tolist())) == 4
    values = np.array([1.0, 0.0, 1.0, 0.0, np.nan])
    assert sorted(unit_means(codes, values).tolist()) == [0.0, 0.5, 1.0]  # the NaN-only unit is left out
    rng = np.random.default_rng(1)
    a = clustered("v1", rng, 50, 0.6)
    report = analyze("m", a, clustered("v2", rng, 60, 0.6), CLASSIFICATION)
    assert report.variant_a.units == 50 and report.variant_a.requests == a.request_units.size > 50
    assert report.variant_a.outcome_units == 50 and report.variant_a.outcomes == a.request_units.size
    quality = next(c for c in report.comparisons if c.metric is Metric.ACCURACY)
    assert (quality.test.n_a, quality.test.n_b) == (50, 60)


def test_not_enough_data_says_what_is_missing() -> None:
    rng = np.random.default_rng(2)
    few = analyze("m", sample("v1", rng, 20, 0.6), sample("v2", rng, 500, 0.6), CLASSIFICATION)
    assert few.verdict is Verdict.NOT_ENOUGH_DATA and "A has 20 units and B 500" in few.reason
    blind = analyze(
        "m",
        sample("v1", rng, 500, 0.6, with_outcomes=False),
        sample("v2", rng, 500, 0.6, with_outcomes=False),
        CLASSIFICATION,
    )
    assert blind.verdict is Verdict.NOT_ENOUGH_DATA and "no outcomes yet" in blind.reason
    assert blind.sample_size is None and {c.metric for c in blind.comparisons} == {Metric.ERROR_RATE, Metric.LATENCY_MS}
    early = analyze("m", sample("v1", rng, 300, 0.6), sample("v2", rng, 300, 0.6), CLASSIFICATION)
    plan = early.sample_size
    assert early.verdict is Verdict.NOT_ENOUGH_DATA and plan is not None and not plan.reached
    assert f"A needs {plan.still_needed_a} more units with outcomes" in early.reason
    assert plan.still_needed_a == plan.required_a - 300 > 1000


def test_a_version_that_fails_more_loses_even_if_it_is_more_accurate() -> None:
    rng = np.random.default_rng(3)
    report = analyze("m", sample("v1", rng, 3000, 0.6), sample("v2", rng, 3000, 0.75, error_rate=0.05), CLASSIFICATION)
    assert report.verdict is Verdict.A_BETTER
    assert report.reason.startswith("B fails more often: error_rate") and "better in accuracy" in report.reason


def test_regressors_compare_mae_with_welch() -> None:
    rng = np.random.default_rng(4)

    def regression(version: str, spread: float) -> VariantSample:
        units = np.arange(800, dtype=np.int64)
        errors = np.abs(rng.normal(0, spread, 800))
        return VariantSample(version, units, rng.lognormal(size=800), np.zeros(800, bool), units, errors)

    report = analyze("m", regression("v1", 3.0), regression("v2", 2.4), ModelTask.REGRESSION)
    assert report.verdict is Verdict.B_BETTER and report.variant_b.mae is not None
    assert report.variant_b.mae < report.variant_a.mae and report.variant_a.accuracy is None
    mae = next(c for c in report.comparisons if c.metric is Metric.MAE)
    assert mae.test.method.value == "welch_t" and mae.favours == "b" and mae.test.difference < 0


def test_latency_is_reported_but_never_decides() -> None:
    rng = np.random.default_rng(5)
    report = analyze("m", sample("v1", rng, 400, 0.6), sample("v2", rng, 400, 0.6, latency_scale=2.0), CLASSIFICATION)
    latency = next(c for c in report.comparisons if c.metric is Metric.LATENCY_MS)
    assert latency.significant and latency.favours == "a" and latency.test.method.value == "mann_whitney_u"
    assert report.verdict is Verdict.NOT_ENOUGH_DATA  # accuracy alone decides, and it needs more units
    assert report.notes and report.notes[0].startswith("B is slower")


@pytest.mark.parametrize(
    ("field", "value"),
    [("alpha", 0.6), ("power", 1.0), ("min_detectable_effect", 0.0), ("min_units", 2), ("alpha", True)],
)
def test_settings_are_validated_by_name(field: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=f"invalid {field}"):
        AnalysisSettings(**{field: value})  # type: ignore[arg-type]
