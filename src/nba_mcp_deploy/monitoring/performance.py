"""Model quality and service health over a window of logged predictions (pure numpy).

Classifiers: accuracy, precision, recall, F1 and ROC AUC on the predictions whose outcome is
known. A binary model may log either labels or the probability of the positive class (the larger
label): probabilities are thresholded at 0.5 for the label metrics and used as scores for AUC.
Precision, recall and F1 are for the positive class when there are two classes and macro-averaged
over the labels seen otherwise (sklearn's conventions, with 0 where a ratio has no denominator);
AUC is given for two classes only. Regressors: MAE and RMSE. Both: error rate over requests and
latency mean / p95 / p99 (numpy's linear percentiles) over requests.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nba_mcp_deploy.monitoring.samples import FloatArray

MAX_CLASSES = 20


class ModelTask(enum.StrEnum):
    """What kind of model is watched (decides the quality metrics)."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


@dataclass(frozen=True)
class PerformanceReport:
    """Metrics over one window; a metric is None when it cannot be computed from the window."""

    model_id: str
    version: str | None
    window_hours: float | None
    count: int  # predictions (rows) in the window
    requests: int
    with_actuals: int
    task: ModelTask | None
    accuracy: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    auc: float | None = None
    mae: float | None = None
    rmse: float | None = None
    errors: int = 0
    error_rate: float | None = None
    latency_mean_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def avg_latency_ms(self) -> float | None:
        """`latency_mean_ms` under the seed's name."""
        return self.latency_mean_ms

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["task"] = self.task.value if self.task else None
        return out


def _is_integral(values: FloatArray) -> bool:
    return bool(np.all(values == np.round(values)))


def infer_task(predictions: FloatArray, actuals: FloatArray) -> ModelTask:
    """Classification when the outcomes are whole numbers with at most MAX_CLASSES values."""
    if actuals.shape[0] and _is_integral(actuals) and np.unique(actuals).shape[0] <= MAX_CLASSES:
        return ModelTask.CLASSIFICATION
    return ModelTask.REGRESSION


def mid_ranks(values: FloatArray) -> tuple[FloatArray, float]:
    """1-based ranks with ties sharing their mean rank, and the tie term sum(t^3 - t)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.shape[0]]
    sizes = (ends - starts).astype(np.float64)
    ranks = np.empty(ordered.shape[0])
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # mean of ranks starts+1 .. ends
    return ranks, float(np.sum(sizes**3 - sizes))


def roc_auc(actual: FloatArray, scores: FloatArray, positive: float) -> float | None:
    """Area under the ROC curve (Mann-Whitney with mid-ranks for ties); None without both classes."""
    is_pos = actual == positive
    n_pos = int(is_pos.sum())
    n_neg = int(is_pos.shape[0] - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    ranks, _ = mid_ranks(scores)
    return float((ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def classification_metrics(predictions: FloatArray, actuals: FloatArray) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1 and (binary) AUC; see the module docstring for conventions."""
    classes = np.unique(actuals)
    scores: FloatArray | None = None
    labels = predictions
    binary_outcomes = classes.shape[0] <= 2
    if binary_outcomes and not _is_integral(predictions) and np.all((predictions >= 0) & (predictions <= 1)):
        negative, positive = (0.0, 1.0) if classes.shape[0] < 2 else (float(classes[0]), float(classes[1]))
        scores = predictions
        labels = np.where(predictions >= 0.5, positive, negative)
    seen = np.union1d(classes, np.unique(labels))
    out: dict[str, float | None] = {"accuracy": float(np.mean(labels == actuals))}
    if seen.shape[0] <= 2:
        positive = float(seen[-1]) if seen.shape[0] == 2 else 1.0
        tp = float(np.sum((labels == positive) & (actuals == positive)))
        fp = float(np.sum((labels == positive) & (actuals != positive)))
        fn = float(np.sum((labels != positive) & (actuals == positive)))
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        out.update(precision=precision, recall=recall, f1=_ratio(2 * tp, 2 * tp + fp + fn))
        out["auc"] = roc_auc(actuals, scores if scores is not None else labels, positive)
    else:
        per_class = []
        for label in seen:
            tp = float(np.sum((labels == label) & (actuals == label)))
            fp = float(np.sum((labels == label) & (actuals != label)))
            fn = float(np.sum((labels != label) & (actuals == label)))
            per_class.append((_ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)))
        precision, recall, f1 = (float(v) for v in np.mean(per_class, axis=0))
        out.update(precision=precision, recall=recall, f1=f1, auc=None)
    return out


def regression_metrics(predictions: FloatArray, actuals: FloatArray) -> dict[str, float | None]:
    """Mean absolute error and root mean squared error."""
    residual = predictions - actuals
    return {"mae": float(np.mean(np.abs(residual))), "rmse": float(np.sqrt(np.mean(residual**2)))}


def latency_summary(latency_ms: FloatArray) -> dict[str, float | None]:
    """Mean, p95 and p99 of the request latencies (NaN entries are rows that are not requests)."""
    values = latency_ms[np.isfinite(latency_ms)]
    if values.shape[0] == 0:
        return {"latency_mean_ms": None, "latency_p95_ms": None, "latency_p99_ms": None}
    p95, p99 = np.percentile(values, [95, 99])
    return {
        "latency_mean_ms": float(values.mean()),
        "latency_p95_ms": float(p95),
        "latency_p99_ms": float(p99),
    }


def quality_metrics(
    predictions: FloatArray, actuals: FloatArray, task: ModelTask | None
) -> tuple[ModelTask | None, int, dict[str, float | None]]:
    """(task, pairs used, metrics) on the rows where both prediction and outcome are numbers."""
    known = np.isfinite(predictions) & np.isfinite(actuals)
    pred, actual = predictions[known], actuals[known]
    if pred.shape[0] == 0:
        return task, 0, {}
    chosen = task if task is not None else infer_task(pred, actual)
    if chosen is ModelTask.CLASSIFICATION:
        return chosen, int(pred.shape[0]), classification_metrics(pred, actual)
    return chosen, int(pred.shape[0]), regression_metrics(pred, actual)
