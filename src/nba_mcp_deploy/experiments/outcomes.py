"""What one known outcome says about a prediction: correct or not, or how far off.

Classifiers follow the monitor's convention (`monitoring/performance.py`): a binary classifier
logs P(larger class), so when there are at most two outcome values and the logged values lie in
[0, 1] they are thresholded at 0.5 into the smaller / larger outcome value (0 / 1 when fewer
than two have been seen); otherwise the logged value is the label. Regressors: absolute error.
"""

from __future__ import annotations

import numpy as np

from nba_mcp_deploy.experiments.twosample import FloatArray
from nba_mcp_deploy.monitoring.performance import ModelTask


def outcome_values(task: ModelTask, predictions: FloatArray, actuals: FloatArray) -> FloatArray:
    """1/0 correctness (classification) or |prediction - actual|; NaN where either is unknown.

    Give all the rows being compared at once: the outcome values seen decide the labels.
    """
    known = np.isfinite(predictions) & np.isfinite(actuals)
    values = np.full(predictions.shape[0], np.nan)
    p, y = predictions[known], actuals[known]
    if task is ModelTask.REGRESSION:
        values[known] = np.abs(p - y)
        return values
    classes = np.unique(y)
    if classes.shape[0] <= 2 and np.all((p >= 0) & (p <= 1)):
        low, high = (0.0, 1.0) if classes.shape[0] < 2 else (float(classes[0]), float(classes[1]))
        p = np.where(p >= 0.5, high, low)
    values[known] = (p == y).astype(np.float64)
    return values
