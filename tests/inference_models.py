"""A model that answers NaN for valid inputs: the square root of every feature, then a logistic
regression. Any record with a negative feature (most RAPTOR ratings are) becomes NaN inside the
pipeline, after the server's own input check; scikit-learn, `mlflow models serve` and every
reference server refuse it, and so must we, on every protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nba_mcp_deploy import nba_models
from nba_mcp_deploy.nba_models import FEATURES, TrainedModels


def nan_pipeline(trained: TrainedModels) -> Any:
    """`sqrt` then LogisticRegression, fitted on the absolute values of the holdout."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    frame = trained.holdout[FEATURES].abs()
    pipeline = make_pipeline(FunctionTransformer(np.sqrt, feature_names_out="one-to-one"), LogisticRegression())
    pipeline.fit(frame, trained.holdout["positive_next"])
    return pipeline


def save_nan_pipeline(trained: TrainedModels, path: Path) -> Path:
    """The pipeline as an MLflow sklearn model whose signature and input example are non-negative
    rows (so its warm-up and `mlflow models serve`'s start succeed)."""
    return nba_models.save_mlflow_sklearn(nan_pipeline(trained), path, trained.holdout[FEATURES].abs())


def negative_records(trained: TrainedModels, count: int = 1) -> list[dict[str, float]]:
    """Valid holdout records with at least one negative feature (NaN after the square root)."""
    frame = trained.holdout[FEATURES]
    rows = frame[(frame < 0).any(axis=1)].iloc[:count]
    assert len(rows) == count
    return nba_models.records(rows)
