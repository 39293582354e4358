"""`.joblib` / `.pkl` files: loaded with joblib, only ever from a trusted model root (checked by the router)."""

from __future__ import annotations

from pathlib import Path

from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.serving.estimator import EstimatorModel


def load_pickle_file(path: Path, *, source: str) -> EstimatorModel:
    try:
        import joblib

        estimator = joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"{source}: could not unpickle it ({type(exc).__name__}: {exc})") from exc
    return EstimatorModel(estimator, source=source)
