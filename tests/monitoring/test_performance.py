"""Performance metrics against sklearn.metrics and numpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from nba_mcp_deploy.monitoring.performance import (
    ModelTask,
    classification_metrics,
    infer_task,
    latency_summary,
    quality_metrics,
    regression_metrics,
    roc_auc,
)


@pytest.mark.parametrize("seed", range(8))
def test_binary_probabilities(seed: int) -> None:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, 400).astype(float)
    proba = np.clip(actual * 0.3 + rng.uniform(size=400) * 0.7, 0, 1)
    proba[:20] = 0.5  # the threshold itself counts as positive
    got = classification_metrics(proba, actual)
    labels = (proba >= 0.5).astype(float)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(actual, labels))
    assert got["precision"] == pytest.approx(metrics.precision_score(actual, labels, zero_division=0))
    assert got["recall"] == pytest.approx(metrics.recall_score(actual, labels, zero_division=0))
    assert got["f1"] == pytest.approx(metrics.f1_score(actual, labels, zero_division=0))
    assert got["auc"] == pytest.approx(metrics.roc_auc_score(actual, proba))


def test_binary_labels_with_ties_in_auc() -> None:
    rng = np.random.default_rng(3)
    actual = rng.integers(0, 2, 300).astype(float)
    predicted = np.where(rng.uniform(size=300) < 0.8, actual, 1 - actual)
    got = classification_metrics(predicted, actual)
    assert got["auc"] == pytest.approx(metrics.roc_auc_score(actual, predicted))
    assert got["f1"] == pytest.approx(metrics.f1_score(actual, predicted))
    assert roc_auc(np.ones(5), np.arange(5.0), 1.0) is None


def test_multiclass_macro() -> None:
    rng = np.random.default_rng(4)
    actual = rng.integers(0, 4, 500).astype(float)
    predicted = np.where(rng.uniform(size=500) < 0.6, actual, rng.integers(0, 5, 500))
    got = classification_metrics(predicted, actual)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(actual, predicted))
    for name, fn in (
        ("precision", metrics.precision_score),
        ("recall", metrics.recall_score),
        ("f1", metrics.f1_score),
    ):
        assert got[name] == pytest.approx(fn(actual, predicted, average="macro", zero_division=0)), name
    assert got["auc"] is None


def test_regression_and_task_inference() -> None:
    rng = np.random.default_rng(5)
    actual = rng.normal(110, 12, 300)  # points scored
    predicted = actual + rng.normal(0, 8, 300)
    got = regression_metrics(predicted, actual)
    assert got["mae"] == pytest.approx(metrics.mean_absolute_error(actual, predicted))
    assert got["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(actual, predicted)))
    assert infer_task(predicted, actual) is ModelTask.REGRESSION
    assert infer_task(predicted, np.round(actual)) is ModelTask.REGRESSION  # too many distinct values
    assert infer_task(predicted, rng.integers(0, 2, 300).astype(float)) is ModelTask.CLASSIFICATION
    with_nan = predicted.copy()
    with_nan[:10] = np.nan
    task, pairs, _ = quality_metrics(with_nan, actual, None)
    assert (task, pairs) == (ModelTask.REGRESSION, 290)


def test_latency_percentiles() -> None:
    rng = np.random.default_rng(6)
    values = rng.exponential(20, 1000)
    with_gaps = np.concatenate((values, np.full(50, np.nan)))
    got = latency_summary(with_gaps)
    assert got["latency_mean_ms"] == pytest.approx(values.mean())
    assert got["latency_p95_ms"] == pytest.approx(np.percentile(values, 95))
    assert got["latency_p99_ms"] == pytest.approx(np.percentile(values, 99))
    assert latency_summary(np.array([np.nan]))["latency_p95_ms"] is None
