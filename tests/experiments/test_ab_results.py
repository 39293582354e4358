"""A/B results through real serving: the recorder, the monitor's outcomes, per-key units."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, ModelExecutionError
from nba_mcp_deploy.experiments.metrics import Metric
from nba_mcp_deploy.experiments.power import sample_size_proportions
from nba_mcp_deploy.experiments.verdict import Verdict
from nba_mcp_deploy.services import Services
from nba_mcp_deploy.serving.results import PredictionResult
from tests.experiments.conftest import M
from tests.experiments.doubles import Coin, Noisy, record


def send(
    services: Services, rng: np.random.Generator, count: int, **options: str
) -> list[tuple[PredictionResult, float]]:
    """`count` single-record requests; each answer with the outcome the test will report."""
    answers = []
    for _ in range(count):
        features = record(rng)
        answers.append((services.manager.predict(M, [features], **options), features["truth"]))
    return answers


def report_outcomes(services: Services, answers: list[tuple[PredictionResult, float]]) -> None:
    outcomes = {result.prediction_ids[0]: truth for result, truth in answers}
    assert services.monitoring.get(M).log_actuals(outcomes).matched == len(outcomes)


def test_b_better_by_a_known_margin_through_real_serving(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    needed, _ = sample_size_proportions(0.6, 0.7, alpha=0.025, power=0.9)  # the verdict tests at alpha / 2
    rng = np.random.default_rng(42)
    answers: list[tuple[PredictionResult, float]] = []
    served: dict[str, int] = defaultdict(int)
    while min(served["v1.0"], served["v2.0"]) < needed:
        answer = send(services, rng, 1)[0]
        answers.append(answer)
        served[answer[0].version] += 1
    report_outcomes(services, answers)

    report = services.experiments.ab_test_results(M, min_detectable_effect=0.1 / 0.6)

    assert report.verdict is Verdict.B_BETTER, report.reason
    quality = next(c for c in report.comparisons if c.metric is Metric.ACCURACY)
    assert quality.test.difference > 0 and quality.test.p_value < 0.05 and quality.test.ci_low > 0
    assert quality.test.method.value == "two_proportion_z"
    assert report.sample_size is not None and report.sample_size.reached
    for summary in (report.variant_a, report.variant_b):  # against figures computed here from the answers
        mine = [(r, truth) for r, truth in answers if r.version == summary.version]
        assert summary.requests == summary.units == summary.outcomes == len(mine) == served[summary.version]
        assert summary.accuracy == pytest.approx(np.mean([r.predictions[0] == truth for r, truth in mine]))
        latency = [r.latency_ms for r, _ in mine]
        assert summary.latency_p50_ms == pytest.approx(np.percentile(latency, 50))
        assert summary.latency_p95_ms == pytest.approx(np.percentile(latency, 95))
        assert summary.errors == 0 and summary.error_rate == 0.0


def test_only_requests_the_split_assigned_are_counted(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    _, candidate = two_coins
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    rng = np.random.default_rng(1)
    routed = send(services, rng, 100)
    send(services, rng, 30, version="v2.0")  # pinned: the caller chose, not the split
    candidate.failing = True
    failures = successes_after = failovers = 0
    for _ in range(200):  # v2.0 fails until its breaker opens, then its share fails over to v1.0
        try:
            result = services.manager.predict(M, [record(rng)])
        except ModelExecutionError:
            failures += 1
            continue
        successes_after += result.failover_from is None and result.version == "v1.0"
        failovers += result.failover_from == "v2.0"
    assert failovers > 0
    report = services.experiments.ab_test_results(M, "v1.0", "v2.0")
    assert report.variant_b.errors == failures > 0
    assert report.variant_b.requests == sum(r.version == "v2.0" for r, _ in routed) + failures
    assert report.variant_a.requests == sum(r.version == "v1.0" for r, _ in routed) + successes_after
    errors = next(c for c in report.comparisons if c.metric is Metric.ERROR_RATE)
    assert errors.favours == "a"
    assert report.verdict is Verdict.A_BETTER and report.reason.startswith("B fails more often")


def test_a_sticky_keys_repeated_requests_count_as_one_unit(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5], sticky=True)
    rng = np.random.default_rng(2)
    answers = [answer for key in range(40) for answer in send(services, rng, 5, request_key=f"user-{key}")]
    report_outcomes(services, answers)
    report = services.experiments.ab_test_results(M, min_units=3)
    keys_by_version = defaultdict(set)
    for index, (result, _) in enumerate(answers):
        keys_by_version[result.version].add(index // 5)
    assert (
        report.variant_a.units == len(keys_by_version["v1.0"])
        and report.variant_a.requests == 5 * report.variant_a.units
    )
    assert report.variant_a.units + report.variant_b.units == 40
    assert (
        report.variant_b.outcome_units == report.variant_b.units
        and report.variant_b.outcomes == 5 * report.variant_b.units
    )
    quality = next(c for c in report.comparisons if c.metric is Metric.ACCURACY)
    assert quality.test.n_a + quality.test.n_b == 40  # one value per key, not 200 requests
    assert quality.test.method.value == "welch_t"  # per-key accuracies are fractions, not 0/1


def test_a_request_of_many_records_is_one_unit_with_one_outcome_per_record(
    services: Services, two_coins: tuple[Coin, Coin]
) -> None:
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    rng = np.random.default_rng(3)
    outcomes = {}
    for _ in range(40):
        rows = [record(rng) for _ in range(3)]
        result = services.manager.predict(M, rows)
        outcomes.update(zip(result.prediction_ids, [row["truth"] for row in rows], strict=True))
    services.monitoring.get(M).log_actuals(outcomes)
    report = services.experiments.ab_test_results(M, min_units=3)
    assert report.variant_a.requests + report.variant_b.requests == 40
    assert report.variant_a.outcomes == 3 * report.variant_a.outcome_units == 3 * report.variant_a.requests


def test_regressors_are_compared_on_mae(services: Services) -> None:
    services.manager.deploy_model(M, "v1.0", model_instance=Noisy(4.0))
    services.manager.deploy_model(M, "v2.0", model_instance=Noisy(2.0), set_active=False)
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    rng = np.random.default_rng(4)
    answers = send(services, rng, 600)
    report_outcomes(services, answers)
    report = services.experiments.ab_test_results(M)
    assert report.task is not None and report.task.value == "regression"
    assert report.variant_a.mae == pytest.approx(1.0, abs=0.15) and report.variant_b.mae == pytest.approx(0.5, abs=0.1)
    assert report.verdict is Verdict.B_BETTER and "mae" in report.reason


def test_results_need_a_split_or_two_named_versions(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    with pytest.raises(ConflictError, match="no A/B test running: call setup_ab_test"):
        services.experiments.ab_test_results(M)
    with pytest.raises(InvalidInputError, match="invalid version_b: got None; give both version_a and version_b"):
        services.experiments.ab_test_results(M, version_a="v1.0")
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    send(services, np.random.default_rng(5), 50)
    services.manager.clear_ab_test(M)
    earlier = services.experiments.ab_test_results(M, "v1.0", "v2.0", min_units=3)
    assert earlier.variant_a.requests + earlier.variant_b.requests == 50
    assert earlier.verdict is Verdict.NOT_ENOUGH_DATA and "no outcomes yet" in earlier.reason
    later = services.experiments.ab_test_results(M, "v1.0", "v2.0", since=services.clock.now() + 1)
    assert later.variant_a.requests == later.variant_b.requests == 0
